//! End to end: the `tenantctl` binary against a simulator on 127.0.0.1 (ephemeral port),
//! connected with `TENANTCTL_ENDPOINT` and the partner's credentials from the environment,
//! exactly as a partner's script would use a simulator started elsewhere.

use crate::common::{command, csv_rows, run_cmd, tenantctl};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use tenantctl_core::licences::LicenceCatalog;
use tenantctl_sim::fleet::Trouble;
use tenantctl_sim::skus::Catalog;
use tenantctl_sim::{RunningSim, SimConfig};

async fn sim(tenants: u32, users: Option<u32>) -> RunningSim {
    let mut c = SimConfig::new(11, tenants);
    c.fleet.users_per_tenant = users;
    c.fleet.trouble_share = 0.0;
    c.device_code_interval_secs = 1;
    tenantctl_sim::start(c).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_list_equals_the_simulators_customers() {
    let sim = sim(12, Some(2)).await;
    let r = tenantctl(&sim, &["customers", "list", "-o", "json"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let got: BTreeSet<String> = rows
        .iter()
        .map(|c| c["tenantId"].as_str().unwrap().to_owned())
        .collect();
    let expected: BTreeSet<String> = sim.sim.fleet.customers().iter().map(|t| t.id.to_string()).collect();
    assert_eq!(got, expected);
    assert_eq!(rows.len(), expected.len(), "each customer once");
    for row in &rows {
        let t = sim.sim.fleet.find_tenant(row["tenantId"].as_str().unwrap()).unwrap();
        assert_eq!(row["tenantName"], t.display_name);
        // The tenant's current default domain, not the copy `/contracts` took (review bug:
        // GDAP-only customers had none, and a changed default showed the old one).
        assert_eq!(row["defaultDomain"], t.default_domain());
        assert_eq!(row["relationshipStatus"], "active");
    }

    // Partner Center as the source lists the reseller customers.
    let r = tenantctl(&sim, &["customers", "list", "--source", "partner-center", "-o", "csv"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (_, rows) = csv_rows(&r.stdout);
    let pc: BTreeSet<String> = sim
        .sim
        .fleet
        .customers()
        .iter()
        .filter(|t| t.contract.is_some())
        .map(|t| t.id.to_string())
        .collect();
    let got: BTreeSet<String> = rows
        .iter()
        .filter(|r| r["sources"].contains("partner-center"))
        .map(|r| r["tenantId"].clone())
        .collect();
    assert_eq!(got, pc);
}

/// The simulator's truth for `users list`: one line per user, tenant columns and licences.
fn expected_users(sim: &RunningSim, skip: &[u32]) -> BTreeSet<String> {
    let f = &sim.sim.fleet;
    let cat = Catalog::get();
    let names = LicenceCatalog::builtin();
    let mut out = BTreeSet::new();
    for t in f.customers().iter().filter(|t| !skip.contains(&t.idx)) {
        for i in 0..t.user_count {
            let u = f.user(t, i);
            // `licenses` index the tenant's subscriptions.
            let parts: Vec<&str> = u
                .licenses
                .iter()
                .map(|&s| cat.skus[t.subscriptions[s].sku].part_number.as_str())
                .collect();
            let friendly: Vec<String> = u
                .licenses
                .iter()
                .map(|&s| {
                    let sku = &cat.skus[t.subscriptions[s].sku];
                    names.friendly_name(sku.id.to_string().parse().unwrap(), Some(&sku.part_number))
                })
                .collect();
            out.insert(format!(
                "{}|{}|{}|{}|{}|{}|{}",
                t.id,
                t.display_name,
                u.user_principal_name,
                u.account_enabled,
                !u.licenses.is_empty(),
                parts.join("; "),
                friendly.join("; ")
            ));
        }
    }
    out
}

/// Set equality that prints only the differences.
fn assert_same(got: &BTreeSet<String>, expected: &BTreeSet<String>) {
    let extra: Vec<_> = got.difference(expected).take(5).collect();
    let missing: Vec<_> = expected.difference(got).take(5).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "{} got, {} expected; unexpected: {extra:#?}; missing: {missing:#?}",
        got.len(),
        expected.len()
    );
}

fn user_lines(csv_text: &str) -> Vec<String> {
    let (headers, rows) = csv_rows(csv_text);
    assert_eq!(
        headers,
        [
            "tenantId",
            "tenantName",
            "userPrincipalName",
            "displayName",
            "accountEnabled",
            "isLicensed",
            "licenses",
            "licenseNames",
            "usageLocation",
            "createdDateTime",
            "id"
        ]
    );
    rows.iter()
        .map(|r| {
            format!(
                "{}|{}|{}|{}|{}|{}|{}",
                r["tenantId"],
                r["tenantName"],
                r["userPrincipalName"],
                r["accountEnabled"],
                r["isLicensed"],
                r["licenses"],
                r["licenseNames"]
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_list_all_tenants_has_every_user_once_and_reports_tenants_in_trouble_with_exit_3() {
    let sim = sim(10, None).await;
    let f = &sim.sim.fleet;
    let (expired, consent) = (&f.customers()[2], &f.customers()[5]);
    sim.sim
        .trouble_overrides
        .write()
        .insert(expired.idx, Trouble::RelationshipExpired);
    sim.sim
        .trouble_overrides
        .write()
        .insert(consent.idx, Trouble::ConsentMissing);

    let r = tenantctl(&sim, &["users", "list", "--all-tenants", "-o", "csv"]).await;
    assert_eq!(r.code, 3, "some tenants failed: {}", r.stderr);
    let lines = user_lines(&r.stdout);
    let got: BTreeSet<String> = lines.iter().cloned().collect();
    assert_eq!(lines.len(), got.len(), "no user repeated");
    assert_same(&got, &expected_users(&sim, &[expired.idx, consent.idx]));
    assert!(
        r.stderr.contains("1 relationship_expired") && r.stderr.contains(&expired.display_name),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("1 consent_missing") && r.stderr.contains(&consent.display_name),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("8 ok"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_20_percent_429s_and_5_percent_503s_the_output_equals_the_fault_free_run() {
    let sim = sim(8, Some(150)).await;
    let clean = tenantctl(&sim, &["users", "list", "--all-tenants", "-o", "csv"]).await;
    assert_eq!(clean.code, 0, "{}", clean.stderr);
    *sim.sim.faults.write() = tenantctl_sim::faults::Faults {
        fault_429: 0.2,
        fault_503: 0.05,
        retry_after_secs: 1,
        ..Default::default()
    };
    let faulty = tenantctl(&sim, &["users", "list", "--all-tenants", "-o", "csv"]).await;
    assert_eq!(faulty.code, 0, "{}", faulty.stderr);
    let injected: u64 = sim
        .sim
        .stats
        .rows()
        .iter()
        .filter(|r| r.status == 429 || r.status == 503)
        .map(|r| r.count)
        .sum();
    assert!(injected > 0, "faults were injected");
    // Tenants finish in any order; each tenant's rows stay together and in Graph's order.
    let blocks = |text: &str| {
        let mut by_tenant: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for l in text.lines().skip(1) {
            by_tenant
                .entry(l.split(',').next().unwrap().to_owned())
                .or_default()
                .push(l.to_owned());
        }
        by_tenant
    };
    assert_eq!(blocks(&faulty.stdout), blocks(&clean.stdout));
    assert_eq!(faulty.stdout.lines().next(), clean.stdout.lines().next());
    // The summary counts the retries the faults caused (the fault schedule is seeded).
    let retried: u64 = faulty
        .stderr
        .split(", ")
        .find_map(|p| p.strip_suffix(" retried").and_then(|n| n.trim().parse().ok()))
        .expect("the summary names the retries");
    assert!(retried > 0, "{}", faulty.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_are_chosen_by_id_domain_or_name_and_excluded() {
    let sim = sim(6, Some(3)).await;
    let f = &sim.sim.fleet;
    let (a, b, c) = (&f.customers()[0], &f.customers()[1], &f.customers()[3]);
    let custom = c
        .domains
        .iter()
        .find(|d| !d.is_initial && d.is_verified)
        .map(|d| d.name.clone());
    let c_key = custom.clone().unwrap_or_else(|| c.initial_domain.clone());
    let r = tenantctl(
        &sim,
        &[
            "domains",
            "list",
            "-t",
            &a.id.to_string(),
            "-t",
            &b.display_name.to_uppercase(),
            "-t",
            &c_key,
            "-o",
            "json",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let tenants: BTreeSet<&str> = rows.iter().map(|r| r["tenantId"].as_str().unwrap()).collect();
    let expected: BTreeSet<String> = [a, b, c].iter().map(|t| t.id.to_string()).collect();
    assert_eq!(tenants, expected.iter().map(String::as_str).collect());
    let total_domains: usize = [a, b, c].iter().map(|t| t.domains.len()).sum();
    assert_eq!(rows.len(), total_domains);
    for t in [a, b, c] {
        let default = rows
            .iter()
            .find(|r| r["tenantId"] == t.id.to_string() && r["isDefault"] == true)
            .unwrap();
        assert_eq!(default["domain"], t.default_domain());
    }

    let r = tenantctl(
        &sim,
        &[
            "licenses",
            "list",
            "--all-tenants",
            "--exclude",
            &a.initial_domain,
            "-o",
            "json",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert!(rows.iter().all(|r| r["tenantId"] != a.id.to_string()));
    let expected_rows: usize = f
        .customers()
        .iter()
        .filter(|t| t.idx != a.idx)
        .map(|t| t.subscriptions.len())
        .sum();
    assert_eq!(rows.len(), expected_rows);
    for row in &rows {
        let t = f.find_tenant(row["tenantId"].as_str().unwrap()).unwrap();
        let s = t
            .subscriptions
            .iter()
            .find(|s| Catalog::get().skus[s.sku].part_number == row["partNumber"])
            .unwrap();
        assert_eq!(row["bought"], s.enabled);
        assert_eq!(row["assigned"], s.consumed);
        assert_eq!(row["free"], (s.enabled as i64 - s.consumed as i64).max(0));
    }

    // A name that matches no customer is a clear error and nothing runs.
    let r = tenantctl(&sim, &["users", "list", "-t", "No Such Customer"]).await;
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("No Such Customer") && r.stderr.contains("customers list"),
        "{}",
        r.stderr
    );
    let r = tenantctl(&sim, &["users", "list"]).await;
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("--all-tenants"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_filters_licensed_unlicensed_sku_and_odata() {
    let sim = sim(3, Some(40)).await;
    let t = &sim.sim.fleet.customers()[0];
    let all = expected_users(&sim, &[]);
    let mine: Vec<&String> = all.iter().filter(|l| l.starts_with(&t.id.to_string())).collect();
    let tid = t.id.to_string();
    let count = |args: &[&str]| {
        let mut v = vec!["users", "list", "-t", tid.as_str(), "-o", "csv"];
        v.extend_from_slice(args);
        let v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
        let sim = &sim;
        async move {
            let args: Vec<&str> = v.iter().map(String::as_str).collect();
            let r = tenantctl(sim, &args).await;
            assert_eq!(r.code, 0, "{}", r.stderr);
            user_lines(&r.stdout).len()
        }
    };
    let licensed = mine.iter().filter(|l| l.split('|').nth(4) == Some("true")).count();
    assert_eq!(count(&["--licensed"]).await, licensed);
    assert_eq!(count(&["--unlicensed"]).await, mine.len() - licensed);
    let part = &Catalog::get().skus[t.subscriptions[0].sku].part_number;
    let holders = mine
        .iter()
        .filter(|l| l.split('|').nth(5).unwrap().split("; ").any(|p| p == part))
        .count();
    assert_eq!(count(&["--sku", part]).await, holders);
    let disabled = (0..t.user_count)
        .filter(|&i| !sim.sim.fleet.user(t, i).account_enabled)
        .count();
    assert_eq!(count(&["--filter", "accountEnabled eq false"]).await, disabled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_with_device_code_stores_a_private_refresh_token_that_later_runs_use() {
    let sim = sim(2, Some(3)).await;
    let dir = std::env::temp_dir().join(format!("tenantctl-e2e-login-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rt_file = dir.join("partner.refresh-token");
    let cfg = dir.join("config.toml");
    std::fs::write(
        &cfg,
        format!("[profiles.default]\nrefresh_token_file = \"{}\"\n", rt_file.display()),
    )
    .unwrap();
    let base = sim.base_url.clone();
    let approver = tokio::spawn(async move {
        let c = reqwest::Client::new();
        loop {
            let v: Value = c
                .get(format!("{base}/_sim/identity/device"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if let Some(code) = v["user_codes"][0].as_str() {
                c.post(format!("{base}/_sim/identity/device/approve"))
                    .json(&serde_json::json!({ "user_code": code }))
                    .send()
                    .await
                    .unwrap();
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    });
    let mut c = command(&sim, &["login", "--device-code"]);
    c.env("TENANTCTL_CONFIG", &cfg)
        .env_remove("TENANTCTL_REFRESH_TOKEN")
        .env_remove("AZURE_CLIENT_SECRET");
    let r = run_cmd(c).await;
    approver.await.unwrap();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("enter the code"), "{}", r.stderr);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&rt_file).unwrap().permissions().mode() & 0o777, 0o600);
    let stored = std::fs::read_to_string(&rt_file).unwrap();
    assert!(!r.stderr.contains(stored.trim()), "the token is never printed");

    let mut c = command(&sim, &["users", "list", "--all-tenants", "-o", "jsonl"]);
    c.env("TENANTCTL_CONFIG", &cfg)
        .env_remove("TENANTCTL_REFRESH_TOKEN")
        .env_remove("AZURE_CLIENT_SECRET");
    let r = run_cmd(c).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 6);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_client_secret_is_fatal_exit_1_and_never_printed() {
    let sim = sim(3, Some(2)).await;
    let mut c = command(&sim, &["users", "list", "--all-tenants", "-o", "csv"]);
    c.env("AZURE_CLIENT_SECRET", "definitely-wrong-secret");
    let r = run_cmd(c).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("7000215"), "{}", r.stderr);
    assert!(!r.stderr.contains("definitely-wrong-secret") && !r.stdout.contains("definitely-wrong-secret"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relationships_list_names_roles_and_flags_those_ending_soon() {
    let sim = sim(6, Some(2)).await;
    let r = tenantctl(&sim, &["relationships", "list", "-o", "json"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let expected: usize = sim.sim.fleet.customers().iter().map(|t| t.relationships.len()).sum();
    assert_eq!(rows.len(), expected);
    for row in &rows {
        let roles = row["roles"].as_array().expect("roles are a JSON array");
        assert!(
            !roles.is_empty() && roles.iter().all(|r| !r.as_str().unwrap().contains('-')),
            "roles by name: {row}"
        );
        if row["status"] == "active" {
            let days = row["daysLeft"].as_i64().unwrap();
            assert_eq!(row["endingSoon"], days <= 30);
        }
    }
}
