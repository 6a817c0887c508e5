//! Issue 13: "biggest tenants first when their size is known from a previous run". A run ends
//! when its slowest tenant does, and a tenant's user pages follow one another; a run that
//! remembers each tenant's size (`tenant-sizes.json` beside the token cache) starts the
//! biggest ones first the next time.

use crate::common::{command, csv_rows, run_cmd, Run};
use std::path::Path;
use tenantctl_sim::{RunningSim, SimConfig};

/// One lane: tenants run one after another, so the CSV's tenant order is the start order.
async fn users_list_one_lane(sim: &RunningSim, cache: &Path, tenants: &[String], extra: &[&str]) -> Run {
    let mut args = vec![
        "users",
        "list",
        "-o",
        "csv",
        "--concurrency",
        "1",
        "--fixed-concurrency",
    ];
    for t in tenants {
        args.extend(["--tenant", t.as_str()]);
    }
    args.extend_from_slice(extra);
    let mut c = command(sim, &args);
    c.env_remove("TENANTCTL_NO_TOKEN_CACHE")
        .env("TENANTCTL_TOKEN_CACHE", cache);
    run_cmd(c).await
}

/// The tenants of a CSV in the order their rows came, with their row counts.
fn tenant_order(r: &Run) -> Vec<(String, usize)> {
    let (_, rows) = csv_rows(&r.stdout);
    let mut out: Vec<(String, usize)> = vec![];
    for row in rows {
        let t = row["tenantId"].clone();
        match out.last_mut() {
            Some((last, n)) if *last == t => *n += 1,
            _ => {
                assert!(
                    !out.iter().any(|(x, _)| *x == t),
                    "one lane: a tenant's rows are together"
                );
                out.push((t, 1));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_starts_the_tenants_biggest_first_by_their_size_at_the_first() {
    let mut cfg = SimConfig::new(29, 10);
    cfg.fleet.trouble_share = 0.0;
    let sim = tenantctl_sim::start(cfg).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("tokens.json");
    // Smallest first: the worst order for the run's end.
    let mut customers: Vec<_> = sim.sim.fleet.customers().iter().collect();
    customers.sort_by_key(|t| (t.user_count + t.guest_count, t.idx));
    let given: Vec<String> = customers.iter().map(|t| t.id.to_string()).collect();
    let sizes: Vec<u32> = customers.iter().map(|t| t.user_count + t.guest_count).collect();
    assert!(
        sizes.first() < sizes.last(),
        "the fleet's tenants differ in size: {sizes:?}"
    );

    let first = users_list_one_lane(&sim, &cache, &given, &[]).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    let order: Vec<String> = tenant_order(&first).into_iter().map(|(t, _)| t).collect();
    assert_eq!(order, given, "nothing known yet: the order given");
    let file = dir.path().join("tenant-sizes.json");
    let text = std::fs::read_to_string(&file).expect("the sizes are kept beside the token cache");
    for t in &given {
        assert!(!text.contains(t.as_str()), "no tenant id in clear: {text}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }

    let second = users_list_one_lane(&sim, &cache, &given, &[]).await;
    assert_eq!(second.code, 0, "{}", second.stderr);
    let counts: Vec<usize> = tenant_order(&second).into_iter().map(|(_, n)| n).collect();
    let mut expected = counts.clone();
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(counts, expected, "biggest first");
    assert_eq!(counts.len(), given.len());

    // `--no-token-cache` keeps nothing across runs: no sizes either.
    let dir2 = tempfile::tempdir().unwrap();
    let cache2 = dir2.path().join("tokens.json");
    let third = users_list_one_lane(&sim, &cache2, &given, &["--no-token-cache"]).await;
    assert_eq!(third.code, 0, "{}", third.stderr);
    assert!(!dir2.path().join("tenant-sizes.json").exists());
}
