//! Exchange Online end to end: `exo` (any cmdlet), `mailboxes list|stale`, against the
//! simulator's Exchange admin API, its mailboxes compared with the simulator's own truth.

use crate::common::{csv_rows, tenantctl};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use tenantctl_sim::fleet::{no_exchange_role_draw, Trouble};
use tenantctl_sim::{RunningSim, SimConfig};

async fn sim_with(seed: u64, tenants: u32, users: Option<u32>) -> RunningSim {
    let mut c = SimConfig::new(seed, tenants);
    c.fleet.users_per_tenant = users;
    c.fleet.trouble_share = 0.0;
    tenantctl_sim::start(c).await.unwrap()
}

/// The simulator's mailboxes of a tenant, by UPN (lower case).
fn truth(sim: &RunningSim, tenant: &str) -> BTreeSet<String> {
    sim.sim
        .exchange_mailboxes(tenant)
        .iter()
        .map(|m| m.user_principal_name.to_lowercase())
        .collect()
}

fn json_rows(stdout: &str) -> Vec<Value> {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// Learn Get-Mailbox: `-ResultSize Unlimited` returns everything; the admin API pages at
/// `Prefer: odata.maxpagesize` and the client re-POSTs the same body to the absolute
/// `@odata.nextLink` (contract §1.4, CIPP `New-ExoRequest`). Over 1,000 mailboxes means at
/// least two pages; each mailbox must come back exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exo_get_mailbox_returns_every_mailbox_once_across_pages() {
    let sim = sim_with(21, 1, Some(1600)).await;
    let t = &sim.sim.fleet.customers()[0];
    let want = truth(&sim, &t.id.to_string());
    assert!(
        want.len() > 1000,
        "the tenant needs more than one page ({} mailboxes)",
        want.len()
    );
    let r = tenantctl(
        &sim,
        &[
            "exo",
            "--tenant",
            &t.id.to_string(),
            "Get-Mailbox",
            "-ResultSize",
            "Unlimited",
            // tenantctl's own long options after the cmdlet.
            "--output",
            "json",
            "--select",
            "tenantId,UserPrincipalName,RecipientTypeDetails",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = json_rows(&r.stdout);
    let got: Vec<String> = rows
        .iter()
        .map(|m| m["UserPrincipalName"].as_str().unwrap().to_lowercase())
        .collect();
    assert_eq!(got.len(), want.len(), "each mailbox once");
    assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), want);
    assert!(rows.iter().all(|m| m["tenantId"] == t.id.to_string()));
    assert_eq!(
        rows[0].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["tenantId", "UserPrincipalName", "RecipientTypeDetails"]
    );
    assert!(
        !r.stderr.contains("warning:"),
        "Unlimited: no truncation warning: {}",
        r.stderr
    );

    // Without -ResultSize Exchange stops at 1000 and says so (Learn: "The default value is 1000").
    let r = tenantctl(&sim, &["exo", "-t", &t.id.to_string(), "Get-Mailbox", "-o", "csv"]).await;
    // `-o` after the cmdlet is a PowerShell parameter (Exchange refuses it); only long
    // options are tenantctl's there.
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("ParameterBindingException"), "{}", r.stderr);
    let r = tenantctl(&sim, &["exo", "-t", &t.id.to_string(), "-o", "csv", "Get-Mailbox"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(csv_rows(&r.stdout).1.len(), 1000);
    assert!(
        r.stderr.contains("increase the value for the ResultSize parameter"),
        "Exchange's warning is shown: {}",
        r.stderr
    );
    sim.stop().await;
}

/// `--all-tenants`: every tenant's mailboxes, each row carrying its tenant; a tenant whose
/// GDAP roles include nothing for Exchange ends `role_missing` while the others succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exo_across_all_tenants_has_tenant_columns_and_a_status_per_tenant() {
    // A seed whose small fleet holds a customer without any Exchange-capable role.
    let seed = (1..500u64)
        .find(|s| (1..=6).any(|i| no_exchange_role_draw(*s, i)))
        .expect("some seed draws a customer without an Exchange role");
    let sim = sim_with(seed, 6, Some(12)).await;
    let f = &sim.sim.fleet;
    let no_role: BTreeSet<String> = f.no_exchange_role_customers().map(|t| t.id.to_string()).collect();
    assert!(!no_role.is_empty());
    let status = std::env::temp_dir().join(format!("tenantctl-exo-status-{seed}.json"));
    let r = tenantctl(
        &sim,
        &[
            "exo",
            "--all-tenants",
            "--status-out",
            status.to_str().unwrap(),
            "Get-Mailbox -ResultSize Unlimited",
            "--output",
            "json",
        ],
    )
    .await;
    assert_eq!(r.code, 3, "one tenant is refused: {}", r.stderr);
    let rows = json_rows(&r.stdout);
    let mut by_tenant: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in &rows {
        let tid = row["tenantId"].as_str().unwrap().to_owned();
        let t = f.find_tenant(&tid).unwrap();
        assert_eq!(row["tenantName"], t.display_name);
        by_tenant
            .entry(tid)
            .or_default()
            .insert(row["UserPrincipalName"].as_str().unwrap().to_lowercase());
    }
    for t in f.customers() {
        let id = t.id.to_string();
        if no_role.contains(&id) {
            assert!(!by_tenant.contains_key(&id), "no rows from a refused tenant");
        } else {
            assert_eq!(
                by_tenant.get(&id).cloned().unwrap_or_default(),
                truth(&sim, &id),
                "{}",
                t.display_name
            );
        }
    }
    let statuses: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&status).unwrap()).unwrap();
    assert_eq!(statuses.len(), f.customers().len(), "a status for every tenant");
    for s in &statuses {
        let id = s["tenantId"].as_str().unwrap();
        let want = if no_role.contains(id) { "role_missing" } else { "ok" };
        assert_eq!(s["status"], want, "{s}");
    }
    assert!(
        r.stderr.contains("Exchange Administrator or Global Reader"),
        "{}",
        r.stderr
    );
    let _ = std::fs::remove_file(status);
    sim.stop().await;
}

/// Exchange's role groups: Global Reader (View-Only Organization Management) runs `Get-*`
/// but not `Set-Mailbox` (learn.microsoft.com/exchange/permissions-exo/permissions-exo).
/// An Exchange Administrator's `Set-Mailbox` changes what `Get-Mailbox` and `mailboxes list`
/// show; `--what-if` changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_reads_but_cannot_set_and_an_admins_set_mailbox_shows_in_the_lists() {
    let sim = sim_with(5, 2, Some(8)).await;
    let (ro, rw) = (&sim.sim.fleet.customers()[0], &sim.sim.fleet.customers()[1]);
    sim.sim.trouble_overrides.write().insert(ro.idx, Trouble::ReadOnlyRoles);
    let ro_box = sim.sim.exchange_mailboxes(&ro.id.to_string())[0]
        .user_principal_name
        .clone();
    let r = tenantctl(
        &sim,
        &["exo", "-t", &ro.id.to_string(), "Get-Mailbox", "-Identity", &ro_box],
    )
    .await;
    assert_eq!(r.code, 0, "a reader reads: {}", r.stderr);
    assert_eq!(csv_rows(&r.stdout).1.len(), 1);
    let r = tenantctl(
        &sim,
        &[
            "exo",
            "-t",
            &ro.id.to_string(),
            "--yes",
            "Set-Mailbox",
            "-Identity",
            &ro_box,
            "-HiddenFromAddressListsEnabled:$true",
        ],
    )
    .await;
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("role_missing"), "{}", r.stderr);
    assert!(r.stderr.contains("Exchange Administrator"), "{}", r.stderr);

    // The admin's write: --what-if first (nothing changes), then for real.
    let target = sim.sim.exchange_mailboxes(&rw.id.to_string())[0].clone();
    let set = |extra: &'static [&'static str]| {
        let mut v: Vec<String> = vec!["exo".into(), "-t".into(), rw.id.to_string()];
        v.extend(extra.iter().map(|s| s.to_string()));
        v.extend([
            "Set-Mailbox".into(),
            "-Identity".into(),
            target.user_principal_name.clone(),
            "-ForwardingSmtpAddress".into(),
            "boss@fabrikam.example".into(),
            "-DeliverToMailboxAndForward:$true".into(),
        ]);
        v
    };
    let args = set(&["--what-if"]);
    let r = tenantctl(&sim, &args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("\"ForwardingSmtpAddress\":\"boss@fabrikam.example\""),
        "{}",
        r.stdout
    );
    let now = sim.sim.exchange_mailboxes(&rw.id.to_string());
    assert!(
        now.iter().all(|m| m.forwarding_smtp_address.is_none()),
        "what-if changed nothing"
    );
    let args = set(&["--yes"]);
    let r = tenantctl(&sim, &args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = tenantctl(&sim, &["mailboxes", "list", "-t", &rw.id.to_string(), "-o", "json"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = json_rows(&r.stdout);
    let row = rows
        .iter()
        .find(|m| {
            m["userPrincipalName"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case(&target.user_principal_name)
        })
        .unwrap();
    assert_eq!(row["forwardingSmtpAddress"], "boss@fabrikam.example");
    assert_eq!(row["deliverToMailboxAndForward"], true);
    sim.stop().await;
}

/// The modern `Get-StaleMailboxReport`: exactly the mailboxes the simulator made stale for
/// 30 days (judged on LastUserActionTime/LastInteractionTime, a never-used one from its
/// creation), across all tenants; `mailboxes list` joins every mailbox with its statistics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mailboxes_stale_is_exactly_the_simulators_stale_mailboxes() {
    let sim = sim_with(8, 5, Some(60)).await;
    let f = &sim.sim.fleet;
    let r = tenantctl(
        &sim,
        &["mailboxes", "stale", "--days", "30", "--all-tenants", "-o", "json"],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = json_rows(&r.stdout);
    let got: BTreeSet<(String, String)> = rows
        .iter()
        .map(|m| {
            (
                m["tenantId"].as_str().unwrap().to_owned(),
                m["userPrincipalName"].as_str().unwrap().to_lowercase(),
            )
        })
        .collect();
    assert_eq!(got.len(), rows.len(), "each stale mailbox once");
    let want: BTreeSet<(String, String)> = f
        .customers()
        .iter()
        .flat_map(|t| {
            sim.sim
                .exchange_stale_mailboxes(&t.id.to_string(), 30)
                .into_iter()
                .map(move |m| (t.id.to_string(), m.user_principal_name.to_lowercase()))
        })
        .collect();
    assert!(!want.is_empty(), "the fleet has stale mailboxes");
    assert_eq!(got, want);
    // Some of them logged on recently: LastLogonTime is not what staleness is judged on.
    assert!(rows
        .iter()
        .all(|m| m["daysInactive"].is_null() || m["daysInactive"].as_i64().unwrap() >= 30));

    let r = tenantctl(&sim, &["mailboxes", "list", "--all-tenants", "-o", "json"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = json_rows(&r.stdout);
    let total: usize = f.customers().iter().map(|t| truth(&sim, &t.id.to_string()).len()).sum();
    assert_eq!(rows.len(), total);
    for m in &rows {
        assert_eq!(m["statistics"], "ok", "{m}");
        assert!(m["sizeBytes"].is_u64(), "sizes are numbers of bytes: {m}");
    }
    // Sizes are the exact byte counts of Exchange's "984.7 MB (1,032,552,448 bytes)" text.
    let t = &f.customers()[0];
    for mb in sim.sim.exchange_mailboxes(&t.id.to_string()) {
        let row = rows
            .iter()
            .find(|m| m["externalDirectoryObjectId"] == mb.user_id.to_string())
            .unwrap();
        assert_eq!(row["sizeBytes"].as_u64(), Some(mb.activity.total_item_bytes));
        assert_eq!(row["type"], mb.kind.type_details());
    }
    sim.stop().await;
}

/// PowerShell syntax reaches Exchange intact: a quoted identity with a space, an OPATH
/// filter in one quoted command line; an unknown cmdlet gives Exchange's own words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn powershell_syntax_reaches_exchange_and_an_unknown_cmdlet_gives_exchanges_error() {
    let sim = sim_with(13, 1, Some(40)).await;
    let t = &sim.sim.fleet.customers()[0];
    let tid = t.id.to_string();
    let boxes = sim.sim.exchange_mailboxes(&tid);
    let m = &boxes[0];
    let line = format!("Get-Mailbox -Identity '{}'", m.display_name);
    let r = tenantctl(&sim, &["exo", "-t", &tid, &line, "--output", "json"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = json_rows(&r.stdout);
    assert!(
        rows.iter()
            .any(|x| x["UserPrincipalName"] == m.user_principal_name.as_str()),
        "{}",
        r.stdout
    );
    let users = boxes.iter().filter(|b| b.kind.type_details() == "UserMailbox").count();
    let r = tenantctl(
        &sim,
        &[
            "exo",
            "-t",
            &tid,
            "-o",
            "json",
            "Get-Mailbox -ResultSize Unlimited -Filter \"RecipientTypeDetails -eq 'UserMailbox'\"",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(json_rows(&r.stdout).len(), users);

    let r = tenantctl(&sim, &["exo", "-t", &tid, "Get-Mailboxx"]).await;
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("The term 'Get-Mailboxx' is not recognized"),
        "Exchange's text: {}",
        r.stderr
    );
    let r = tenantctl(&sim, &["exo", "-t", &tid, "Get-Mailbox", "Identity"]).await;
    assert_eq!(
        r.code, 1,
        "a value without a parameter name is refused before any request"
    );
    assert!(r.stderr.contains("-Identity"), "{}", r.stderr);
    sim.stop().await;
}

/// Exchange refuses concurrent requests beyond its per-tenant budget with a plain-text
/// "You have reached the maximum number of concurrent requests per tenant" answer and no
/// `Retry-After` (GreyCorbel/ExoHelper; contract §1.6). Asked to run more at once than the
/// tenant allows, tenantctl waits those answers out and still returns every mailbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchanges_concurrency_answers_are_waited_out() {
    let mut c = SimConfig::new(17, 1);
    c.fleet.users_per_tenant = Some(300);
    c.fleet.trouble_share = 0.0;
    c.exchange_max_concurrent = 1;
    c.faults.latency_ms = 20;
    let sim = tenantctl_sim::start(c).await.unwrap();
    let t = &sim.sim.fleet.customers()[0];
    let r = tenantctl(
        &sim,
        &[
            "mailboxes",
            "list",
            "-t",
            &t.id.to_string(),
            "--per-tenant",
            "6",
            "-o",
            "json",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = json_rows(&r.stdout);
    assert_eq!(rows.len(), truth(&sim, &t.id.to_string()).len());
    assert!(rows.iter().all(|m| m["statistics"] == "ok"));
    let throttled: u64 = r
        .stderr
        .lines()
        .last()
        .and_then(|l| l.split(", ").find(|p| p.ends_with(" throttled")))
        .and_then(|p| p.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(throttled > 0, "the cap was reached and waited out: {}", r.stderr);
    sim.stop().await;
}
