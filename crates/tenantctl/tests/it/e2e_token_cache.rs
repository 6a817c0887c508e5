//! Issue 13: access tokens are kept across runs in a 0600 file keyed by credential, tenant
//! and resource, so that a second command within the hour sends no token request; expiry is
//! honoured; `--no-token-cache` keeps nothing; another credential never uses them.

use crate::common::{command, csv_rows, run_cmd, Run};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::Ordering;
use tenantctl_sim::{RunningSim, SimConfig};

async fn sim() -> RunningSim {
    let mut c = SimConfig::new(23, 12);
    c.fleet.users_per_tenant = Some(3);
    c.fleet.trouble_share = 0.0;
    tenantctl_sim::start(c).await.unwrap()
}

/// Token requests the simulator answered with a token.
fn tokens_issued(sim: &RunningSim) -> u64 {
    sim.sim
        .stats
        .rows()
        .iter()
        .filter(|r| r.route.contains("/token") && r.status == 200)
        .map(|r| r.count)
        .sum()
}

async fn users_list(sim: &RunningSim, cache: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["users", "list", "--all-tenants", "-o", "csv"];
    args.extend_from_slice(extra);
    let mut c = command(sim, &args);
    c.env_remove("TENANTCTL_NO_TOKEN_CACHE")
        .env("TENANTCTL_TOKEN_CACHE", cache);
    run_cmd(c).await
}

fn row_set(r: &Run) -> BTreeSet<String> {
    let (_, rows) = csv_rows(&r.stdout);
    rows.iter().map(|row| format!("{row:?}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_within_the_hour_sends_no_token_request_and_lists_the_same_rows() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache").join("tokens.json");

    let first = users_list(&sim, &cache, &[]).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    let issued = tokens_issued(&sim);
    assert_eq!(issued, 13, "the partner's token and one per customer");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the cache is its owner's only");
    }
    let text = std::fs::read_to_string(&cache).unwrap();
    let p = &sim.sim.fleet.partner;
    assert!(!text.contains(&p.client_secret), "no client secret in the cache");
    assert!(
        !text.contains(&p.initial_refresh_token),
        "no refresh token in the cache"
    );
    for t in sim.sim.fleet.customers() {
        assert!(!text.contains(&t.id.to_string()), "no tenant id in clear");
    }

    let second = users_list(&sim, &cache, &[]).await;
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(tokens_issued(&sim), issued, "every token came from the cache");
    assert_eq!(row_set(&second), row_set(&first));

    // `--no-token-cache`: every token asked for again, the file left as it was.
    let before = std::fs::read(&cache).unwrap();
    let third = users_list(&sim, &cache, &["--no-token-cache"]).await;
    assert_eq!(third.code, 0, "{}", third.stderr);
    assert_eq!(tokens_issued(&sim), 2 * issued);
    assert_eq!(std::fs::read(&cache).unwrap(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_not_used_past_their_refresh_margin_nor_by_another_credential() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("tokens.json");
    // 5-second tokens: usable for 4 s (a fifth of the lifetime is the refresh margin).
    sim.sim.token_lifetime_secs.store(5, Ordering::Relaxed);
    let first = users_list(&sim, &cache, &[]).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    let issued = tokens_issued(&sim);
    tokio::time::sleep(std::time::Duration::from_millis(4500)).await;
    let later = users_list(&sim, &cache, &[]).await;
    assert_eq!(later.code, 0, "{}", later.stderr);
    assert_eq!(tokens_issued(&sim), 2 * issued, "nearly expired tokens are not reused");

    // The same app with the client secret only (app-only): not the delegated sign-in's tokens.
    sim.sim.token_lifetime_secs.store(3599, Ordering::Relaxed);
    let mut c = command(&sim, &["customers", "list", "-o", "json"]);
    c.env_remove("TENANTCTL_NO_TOKEN_CACHE")
        .env_remove("TENANTCTL_REFRESH_TOKEN")
        .env("TENANTCTL_TOKEN_CACHE", &cache);
    let before = tokens_issued(&sim);
    let app_only = run_cmd(c).await;
    assert_eq!(app_only.code, 0, "{}", app_only.stderr);
    // `customers list` reads each customer's current default domain: 1 + 12 tokens, all its own.
    assert_eq!(
        tokens_issued(&sim),
        before + 13,
        "none of the delegated sign-in's tokens"
    );
}
