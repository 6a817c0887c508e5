//! Reports end to end: `reports get|aggregate` (Graph usage reports: 302 to a pre-authenticated
//! download, CSV with BOM; learn.microsoft.com/graph/api/reportroot-getmailboxusagedetail) and
//! the security reports, against the simulator, each compared with the simulator's own truth
//! (`GET /_sim/reports/{tenant}/{call}`: the CSV a partner admin would download now).

use crate::common::{csv_rows, tenantctl};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use tenantctl_sim::fleet::Trouble;
use tenantctl_sim::{RunningSim, SimConfig};

const MAILBOX_USAGE: &str = "getMailboxUsageDetail(period='D30')";

async fn sim_with(seed: u64, tenants: u32, trouble_share: f64) -> RunningSim {
    let mut c = SimConfig::new(seed, tenants);
    c.fleet.trouble_share = trouble_share;
    c.fleet.guests = true;
    // Time stands still (the simulator's activity times follow its clock): the download and
    // the truth read after it describe the same moment.
    c.clock = tenantctl_sim::Clock::manual(std::time::SystemTime::now());
    tenantctl_sim::start(c).await.unwrap()
}

/// A simulator whose clock runs (the quota test waits out a real Retry-After).
async fn sim_running_clock(seed: u64, tenants: u32) -> RunningSim {
    let mut c = SimConfig::new(seed, tenants);
    c.fleet.trouble_share = 0.0;
    tenantctl_sim::start(c).await.unwrap()
}

async fn get_text(sim: &RunningSim, path: &str) -> String {
    let r = reqwest::get(format!("{}{path}", sim.base_url)).await.unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.text().await.unwrap()
}

async fn get_json(sim: &RunningSim, path: &str) -> Value {
    serde_json::from_str(&get_text(sim, path).await).unwrap()
}

async fn put_json(sim: &RunningSim, path: &str, body: Value) {
    let r = reqwest::Client::new()
        .put(format!("{}{path}", sim.base_url))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
}

async fn post_json(sim: &RunningSim, path: &str, body: Value) {
    let r = reqwest::Client::new()
        .post(format!("{}{path}", sim.base_url))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
}

/// The simulator's CSV of `call` for tenant `id`, exactly as served (BOM included).
async fn truth_bytes(sim: &RunningSim, id: &str, call: &str) -> Vec<u8> {
    let r = reqwest::get(format!("{}/_sim/reports/{id}/{call}", sim.base_url))
        .await
        .unwrap();
    assert!(r.status().is_success());
    r.bytes().await.unwrap().to_vec()
}

/// The simulator's rows of `call` for tenant `id`: header and rows, BOM dropped.
async fn truth(sim: &RunningSim, id: &str, call: &str) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
    let bytes = truth_bytes(sim, id, call).await;
    let text = String::from_utf8(bytes).unwrap();
    csv_rows(text.trim_start_matches('\u{feff}'))
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tenantctl-e2e-reports-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn healthy(sim: &RunningSim) -> Vec<&tenantctl_sim::fleet::Tenant> {
    sim.sim
        .fleet
        .customers()
        .iter()
        .filter(|t| t.trouble == Trouble::None)
        .collect()
}

/// A tenant with mailboxes (a report with rows), preferring one without Global Administrator.
fn tenant_with_mailboxes(sim: &RunningSim, global_admin: bool) -> &tenantctl_sim::fleet::Tenant {
    let ga: BTreeSet<u32> = sim.sim.fleet.global_admin_customers().map(|t| t.idx).collect();
    healthy(sim)
        .into_iter()
        .filter(|t| ga.contains(&t.idx) == global_admin)
        .max_by_key(|t| t.user_count)
        .expect("a healthy tenant")
}

/// Graph's CSV as tenantctl writes it with `-o csv --bom`: the same bytes as the download
/// (BOM, Microsoft's headers in order, values as Microsoft wrote them, CRLF).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_get_csv_is_the_simulators_csv_byte_for_byte() {
    let sim = sim_with(31, 4, 0.0).await;
    let t = tenant_with_mailboxes(&sim, false);
    let id = t.id.to_string();
    let want = truth_bytes(&sim, &id, MAILBOX_USAGE).await;
    assert!(want.starts_with(b"\xEF\xBB\xBF"), "Graph's CSV carries a BOM");
    let r = tenantctl(
        &sim,
        &[
            "reports",
            "get",
            "getMailboxUsageDetail",
            "--tenant",
            &id,
            "--period",
            "D30",
            "-o",
            "csv",
            "--bom",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.as_bytes(), &want[..], "the same CSV as the download");
    // Without --bom: the same CSV minus the BOM.
    let r = tenantctl(
        &sim,
        &["reports", "get", "getMailboxUsageDetail", "-t", &id, "-o", "csv"],
    )
    .await;
    assert_eq!(r.stdout.as_bytes(), &want[3..]);
    assert!(
        r.stderr.contains("conceal user names"),
        "concealed names flagged: {}",
        r.stderr
    );
    // No download carried the bearer token (the simulator refuses and counts those).
    let stats = get_json(&sim, "/_sim/reports").await;
    assert_eq!(stats["downloads_refused_authorization"], 0, "{stats}");
    assert!(stats["downloads_served"].as_u64().unwrap() >= 2, "{stats}");
}

/// JSON types every value: numbers as numbers, booleans, dates as `YYYY-MM-DD`, empty as
/// null, `Assigned Products` as a list; the keys are Microsoft's column names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_get_json_types_every_column() {
    let sim = sim_with(32, 3, 0.0).await;
    let t = tenant_with_mailboxes(&sim, false);
    let id = t.id.to_string();
    let (_, want) = truth(&sim, &id, MAILBOX_USAGE).await;
    let r = tenantctl(
        &sim,
        &["reports", "get", "getMailboxUsageDetail", "-t", &id, "-o", "json"],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(rows.len(), want.len());
    for (got, w) in rows.iter().zip(&want) {
        assert_eq!(got["User Principal Name"], w["User Principal Name"].as_str());
        assert_eq!(
            got["Storage Used (Byte)"].as_u64(),
            Some(w["Storage Used (Byte)"].parse::<u64>().unwrap()),
            "numbers are numbers"
        );
        assert_eq!(got["Is Deleted"], Value::Bool(w["Is Deleted"] == "True"));
        assert_eq!(got["Report Period"], 30);
        match w["Last Activity Date"].as_str() {
            "" => assert!(got["Last Activity Date"].is_null(), "empty is null"),
            d => assert_eq!(got["Last Activity Date"], d, "dates as YYYY-MM-DD"),
        }
    }
    // Assigned Products as a list (the active user detail carries it).
    let r = tenantctl(
        &sim,
        &[
            "reports",
            "get",
            "getOffice365ActiveUserDetail",
            "-t",
            &id,
            "-o",
            "json",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert!(rows
        .iter()
        .any(|r| r["Assigned Products"].as_array().is_some_and(|a| !a.is_empty())));
    // A period Graph does not have is refused before any request, naming the fix.
    let r = tenantctl(
        &sim,
        &["reports", "get", "getMailboxUsageDetail", "-t", &id, "--period", "D14"],
    )
    .await;
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("D7, D30, D90 or D180"), "{}", r.stderr);
    // An unknown report: Graph's own answer reaches the user.
    let r = tenantctl(&sim, &["reports", "get", "getNoSuchReport", "-t", &id]).await;
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("getNoSuchReport"), "{}", r.stderr);
}

/// `reports aggregate` over 200 tenants: every ok tenant's rows exactly once with its tenant
/// columns, the header once, a status for every tenant (the fleet's troubled tenants —
/// consent missing, relationship expired: their token fails — in the status report and the
/// errors file while the rest complete, exit 3), concealed names flagged per tenant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_aggregate_has_every_tenants_rows_once_and_a_status_for_each() {
    let sim = sim_with(33, 200, 0.05).await;
    let dir = temp("aggregate");
    let out = dir.join("mailboxes.csv");
    let status = dir.join("status.json");
    let errors = dir.join("errors.csv");
    let r = tenantctl(
        &sim,
        &[
            "reports",
            "aggregate",
            "getMailboxUsageDetail",
            "--all-tenants",
            "--period",
            "D30",
            "-o",
            "csv",
            "--out",
            out.to_str().unwrap(),
            "--status-out",
            status.to_str().unwrap(),
            "--errors-out",
            errors.to_str().unwrap(),
        ],
    )
    .await;
    let customers = sim.sim.fleet.customers();
    let failing: BTreeSet<String> = customers
        .iter()
        .filter(|t| matches!(t.trouble, Trouble::ConsentMissing | Trouble::RelationshipExpired))
        .map(|t| t.id.to_string())
        .collect();
    assert!(!failing.is_empty(), "the fleet has tenants whose token fails");
    assert_eq!(r.code, 3, "some tenants failed: {}", r.stderr);

    let text = std::fs::read_to_string(&out).unwrap();
    let (header, rows) = csv_rows(&text);
    assert_eq!(&header[..3], ["tenantId", "tenantName", "defaultDomain"]);
    assert_eq!(
        header.iter().filter(|h| *h == "User Principal Name").count(),
        1,
        "header once"
    );
    let mut got: BTreeMap<String, Vec<&BTreeMap<String, String>>> = BTreeMap::new();
    for row in &rows {
        got.entry(row["tenantId"].clone()).or_default().push(row);
    }
    let statuses: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&status).unwrap()).unwrap();
    assert_eq!(statuses.len(), customers.len(), "a status for every tenant");
    let mut compared = 0;
    for t in customers {
        let id = t.id.to_string();
        let s = statuses
            .iter()
            .find(|s| s["tenantId"] == id)
            .expect("the tenant's status");
        if failing.contains(&id) {
            assert_ne!(s["status"], "ok", "{s}");
            assert!(!got.contains_key(&id), "no rows for a failed tenant");
            continue;
        }
        assert_eq!(s["status"], "ok", "{s}");
        let (_, want) = truth(&sim, &id, MAILBOX_USAGE).await;
        let mine: Vec<BTreeMap<String, String>> = got
            .get(&id)
            .map(|v| {
                v.iter()
                    .map(|r| {
                        r.iter()
                            .filter(|(k, _)| !["tenantId", "tenantName", "defaultDomain"].contains(&k.as_str()))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect()
                    })
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(mine, want, "tenant {id}: the simulator's rows, each once, in order");
        if let Some(first) = got.get(&id).and_then(|v| v.first()) {
            assert_eq!(first["tenantName"], s["tenantName"].as_str().unwrap());
            assert!(first["defaultDomain"].contains('.'), "{first:?}");
            // Names are concealed by default (since 2021): flagged in the tenant's status.
            assert!(
                s["detail"].as_str().unwrap().contains("concealed"),
                "concealed names flagged per tenant: {s}"
            );
        }
        compared += 1;
    }
    assert!(compared > 150, "{compared} tenants compared");
    // The errors file: every failed tenant, with what happened and what to do.
    let errs = std::fs::read_to_string(&errors).unwrap();
    let (eh, erows) = csv_rows(&errs);
    assert_eq!(
        eh,
        [
            "tenantId",
            "tenantName",
            "defaultDomain",
            "status",
            "rows",
            "detail",
            "hint"
        ]
    );
    let failed_in_file: BTreeSet<String> = erows
        .iter()
        .filter(|r| r["status"] != "ok")
        .map(|r| r["tenantId"].clone())
        .collect();
    assert_eq!(failed_in_file, failing, "every failed tenant in the errors file");
    assert!(erows
        .iter()
        .filter(|r| r["status"] != "ok")
        .all(|r| !r["detail"].is_empty() && !r["hint"].is_empty()));
    assert!(
        r.stderr.contains("consent_missing") || r.stderr.contains("relationship_expired"),
        "{}",
        r.stderr
    );
    let stats = get_json(&sim, "/_sim/reports").await;
    assert_eq!(
        stats["downloads_refused_authorization"], 0,
        "the bearer token never went to a download: {stats}"
    );
    // An existing errors file is never overwritten.
    let again = tenantctl(
        &sim,
        &[
            "reports",
            "aggregate",
            "getMailboxUsageDetail",
            "--all-tenants",
            "--errors-out",
            errors.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("--errors-out"), "{}", again.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--reveal`: where the partner holds Global Administrator the setting goes off for the
/// download and back on after it (real names in the rows); elsewhere the rows stay
/// concealed and the tenant says why (exit 3). `--what-if` changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reveal_switches_concealment_off_and_back_on_only_where_allowed() {
    let sim = sim_with(34, 4, 0.0).await;
    // The two largest healthy tenants: both have mailboxes.
    let mut by_size = healthy(&sim);
    by_size.sort_by_key(|t| std::cmp::Reverse(t.user_count));
    let (with_ga, without) = (by_size[0], by_size[1]);
    put_json(
        &sim,
        &format!("/_sim/tenants/{}/global-admin", with_ga.id),
        serde_json::json!({"granted": true}),
    )
    .await;
    put_json(
        &sim,
        &format!("/_sim/tenants/{}/global-admin", without.id),
        serde_json::json!({"granted": false}),
    )
    .await;
    let concealed = |tenants: &Value, id: &str| {
        tenants["tenants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .unwrap()["displayConcealedNames"]
            .clone()
    };

    // What-if: the plan per tenant, nothing changed.
    let r = tenantctl(
        &sim,
        &[
            "reports",
            "aggregate",
            "getMailboxUsageDetail",
            "-t",
            &with_ga.id.to_string(),
            "--reveal",
            "--what-if",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("would switch displayConcealedNames off"),
        "{}",
        r.stdout
    );
    assert!(r.stderr.contains("nothing was changed"));
    assert_eq!(
        concealed(&get_json(&sim, "/_sim/tenants").await, &with_ga.id.to_string()),
        true
    );
    assert_eq!(
        get_json(&sim, "/_sim/reports").await["downloads_served"],
        0,
        "what-if downloads nothing"
    );

    // Allowed: real names, and the setting is back on afterwards.
    let r = tenantctl(
        &sim,
        &[
            "reports",
            "get",
            "getMailboxUsageDetail",
            "-t",
            &with_ga.id.to_string(),
            "--reveal",
            "-o",
            "json",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| r["User Principal Name"].as_str().unwrap().contains('@')),
        "names revealed"
    );
    assert!(!r.stderr.contains("conceal user names"), "{}", r.stderr);
    assert_eq!(
        concealed(&get_json(&sim, "/_sim/tenants").await, &with_ga.id.to_string()),
        true,
        "switched back on"
    );

    // Refused: the rows come concealed, the tenant says it needs Global Administrator.
    let r = tenantctl(
        &sim,
        &[
            "reports",
            "aggregate",
            "getMailboxUsageDetail",
            "-t",
            &without.id.to_string(),
            "--reveal",
            "-o",
            "csv",
        ],
    )
    .await;
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("Global Administrator"), "{}", r.stderr);
    let (_, rows) = csv_rows(&r.stdout);
    assert!(!rows.is_empty(), "the rows still come, concealed");
    assert!(rows.iter().all(|r| !r["User Principal Name"].contains('@')));
    assert_eq!(
        concealed(&get_json(&sim, "/_sim/tenants").await, &without.id.to_string()),
        true
    );
}

/// The reports quota (14 requests per report per app per tenant in 10 minutes) answers 429
/// with Retry-After; tenantctl waits it out and the report arrives (not `throttled`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reports_quota_is_waited_out() {
    let sim = sim_running_clock(35, 2).await;
    let t = tenant_with_mailboxes(&sim, false);
    let id = t.id.to_string();
    post_json(&sim, "/_sim/reports", serde_json::json!({"quota_enabled": true})).await;
    // Fill the window with the partner app's own calls (as fourteen earlier runs would).
    for _ in 0..14 {
        let r = tenantctl(
            &sim,
            &["reports", "get", "getMailboxUsageStorage", "-t", &id, "-o", "csv"],
        )
        .await;
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    // Ten minutes minus three seconds later the 15th call is told to wait ~3 s.
    post_json(&sim, "/_sim/clock", serde_json::json!({"advanceSeconds": 597})).await;
    let started = std::time::Instant::now();
    let r = tenantctl(
        &sim,
        &["reports", "get", "getMailboxUsageStorage", "-t", &id, "-o", "csv"],
    )
    .await;
    assert_eq!(r.code, 0, "waited out, not failed: {}", r.stderr);
    assert!(
        r.stderr.contains("1 throttled") || r.stderr.contains(" throttled"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("0 throttled"), "the 429 happened: {}", r.stderr);
    assert!(started.elapsed().as_secs_f64() >= 1.0, "Retry-After honoured");
    let (_, want) = truth(&sim, &id, "getMailboxUsageStorage(period='D30')").await;
    let (_, got) = csv_rows(&r.stdout);
    assert_eq!(got, want);
}

/// The security data across tenants: MFA registration (admins without MFA flagged), sign-in
/// activity (a tenant without Entra ID P1 ends `licence_missing`, as Graph answers 403
/// Authentication_RequestFromNonPremiumTenantOrB2CTenant), guests, directory role holders.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_reports_across_tenants() {
    let sim = sim_with(36, 12, 0.0).await;
    let customers = sim.sim.fleet.customers();
    let premium: BTreeSet<String> = customers
        .iter()
        .filter(|t| sim.sim.world.tenant(t).has_entra_premium())
        .map(|t| t.id.to_string())
        .collect();
    assert!(
        !premium.is_empty() && premium.len() < customers.len(),
        "some tenants with P1, some without"
    );

    let r = tenantctl(&sim, &["reports", "sign-ins", "--all-tenants", "-o", "json"]).await;
    assert_eq!(r.code, 3, "tenants without P1 fail: {}", r.stderr);
    assert!(r.stderr.contains("licence_missing"), "{}", r.stderr);
    assert!(
        r.stderr.contains("Entra ID P1"),
        "the hint names the licence: {}",
        r.stderr
    );
    let rows: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let tenants_with_rows: BTreeSet<String> = rows
        .iter()
        .map(|r| r["tenantId"].as_str().unwrap().to_owned())
        .collect();
    assert!(tenants_with_rows.is_subset(&premium));
    let users_in_premium: usize = customers
        .iter()
        .filter(|t| premium.contains(&t.id.to_string()))
        .map(|t| sim.sim.world.tenant(t).users().count())
        .sum();
    assert_eq!(rows.len(), users_in_premium, "every user of every P1 tenant once");

    // Inactive for 90 days or never: a subset, each really inactive.
    let r = tenantctl(
        &sim,
        &[
            "reports",
            "sign-ins",
            "--all-tenants",
            "--inactive-days",
            "90",
            "-o",
            "json",
        ],
    )
    .await;
    let inactive: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert!(inactive.len() < rows.len());
    assert!(inactive
        .iter()
        .all(|r| r["daysSinceSignIn"].is_null() || r["daysSinceSignIn"].as_i64().unwrap() >= 90));

    // MFA: admins exactly the role holders; admins without MFA flagged.
    let r = tenantctl(
        &sim,
        &["reports", "mfa", "--all-tenants", "--admins-only", "-o", "json"],
    )
    .await;
    let admins: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let want_admins: usize = customers
        .iter()
        .filter(|t| premium.contains(&t.id.to_string()))
        .map(|t| sim.sim.world.tenant(t).admin_ids().len())
        .sum();
    assert_eq!(admins.len(), want_admins, "{}", r.stderr);
    assert!(admins.iter().all(|a| a["isAdmin"] == true));
    assert!(admins
        .iter()
        .all(|a| a["adminWithoutMfa"] == Value::Bool(a["mfaRegistered"] == false)));

    // Admins: every role assignment of every tenant (directory roles need no P1).
    let r = tenantctl(&sim, &["reports", "admins", "--all-tenants", "-o", "json"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let roles: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let want_roles: usize = customers
        .iter()
        .map(|t| sim.sim.world.tenant(t).role_assignments().len())
        .sum();
    assert_eq!(roles.len(), want_roles);
    assert!(roles.iter().any(|r| r["role"] == "Global Administrator"));
    assert!(roles
        .iter()
        .all(|r| r["principalType"] == "user" && !r["role"].as_str().unwrap().is_empty()));

    // Guests: every tenant's guests, each an invited external account.
    let r = tenantctl(&sim, &["reports", "guests", "--all-tenants", "-o", "json"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let guests: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let want_guests: u32 = customers.iter().map(|t| t.guest_count).sum();
    assert!(want_guests > 0);
    assert_eq!(guests.len() as u32, want_guests);
    assert!(guests
        .iter()
        .all(|g| g["userPrincipalName"].as_str().unwrap().contains("#EXT#")));

    // Licences per tenant and SKU, with friendly names.
    let r = tenantctl(&sim, &["reports", "licences", "--all-tenants", "-o", "json"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let skus: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert!(skus
        .iter()
        .all(|s| s["free"].as_i64() == Some(s["bought"].as_i64().unwrap() - s["assigned"].as_i64().unwrap())));
}

/// `reports active-users --days N`: licensed users whose latest activity in every service is
/// N days or more before the report's refresh date (or who never were active).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn active_users_lists_the_licensed_users_inactive_for_n_days() {
    let sim = sim_with(37, 3, 0.0).await;
    let t = tenant_with_mailboxes(&sim, false);
    let id = t.id.to_string();
    let (_, detail) = truth(&sim, &id, "getOffice365ActiveUserDetail(period='D90')").await;
    let day = |s: &str| tenantctl_core::rows::parse_day(s);
    let want: BTreeSet<String> = detail
        .iter()
        .filter(|r| r["Is Deleted"] != "True" && !r["Assigned Products"].is_empty())
        .filter(|r| {
            let refresh = day(&r["Report Refresh Date"]).unwrap();
            let last = r
                .iter()
                .filter(|(k, _)| k.ends_with("Last Activity Date"))
                .filter_map(|(_, v)| day(v))
                .max();
            last.is_none_or(|d| (refresh - d).whole_days() >= 60)
        })
        .map(|r| r["User Principal Name"].clone())
        .collect();
    let r = tenantctl(
        &sim,
        &["reports", "active-users", "-t", &id, "--days", "60", "-o", "json"],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let got: BTreeSet<String> = rows
        .iter()
        .map(|r| r["userPrincipalName"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, want);
    assert!(
        rows.iter().all(|r| r["namesConcealed"] == true),
        "concealed by default, and said so"
    );
}
