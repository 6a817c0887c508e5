//! End to end writes: the `tenantctl` binary changes customers in a simulator on 127.0.0.1.
//! The simulator's request counts prove what was (not) sent.

use crate::common::{csv_rows, tenantctl};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use tenantctl_sim::fleet::{Tenant, Trouble};
use tenantctl_sim::{RunningSim, SimConfig};

async fn sim(tenants: u32, users: Option<u32>) -> RunningSim {
    let mut c = SimConfig::new(21, tenants);
    c.fleet.users_per_tenant = users;
    c.fleet.trouble_share = 0.0;
    c.throttle.enabled = false;
    tenantctl_sim::start(c).await.unwrap()
}

fn writes_sent(sim: &RunningSim) -> u64 {
    sim.sim
        .stats
        .rows()
        .iter()
        .filter(|r| r.route.starts_with("/graph") && matches!(r.method.as_str(), "POST" | "PATCH" | "DELETE"))
        .map(|r| r.count)
        .sum()
}

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tenantctl-e2e-writes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

async fn graph_get(sim: &RunningSim, t: &Tenant, path: &str) -> Value {
    let tok = delegated_token(sim, t);
    reqwest::Client::new()
        .get(format!("{}/graph/v1.0/{path}", sim.base_url))
        .bearer_auth(tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn delegated_token(sim: &RunningSim, t: &Tenant) -> String {
    let f = &sim.sim.fleet;
    tenantctl_sim::auth::mint(
        &sim.sim.keys,
        &tenantctl_sim::auth::TokenRequest {
            tenant_id: t.id,
            audience: tenantctl_sim::auth::AUD_GRAPH,
            app_id: f.partner.client_id,
            user: Some((f.partner.service_account_id, &f.partner.service_account_upn)),
            lifetime_secs: 3600,
        },
    )
}

/// (skuId, partNumber, free units, consumed units) of the tenant's SKU with the most room
/// (at least `n` free).
async fn sku_with_room(sim: &RunningSim, t: &Tenant, n: i64) -> (String, String, i64, i64) {
    let v = graph_get(sim, t, "subscribedSkus").await;
    let mut skus: Vec<Value> = v["value"].as_array().unwrap().clone();
    skus.sort_by_key(|s| -(s["prepaidUnits"]["enabled"].as_i64().unwrap() - s["consumedUnits"].as_i64().unwrap()));
    skus.iter()
        .map(|s| {
            let enabled = s["prepaidUnits"]["enabled"].as_i64().unwrap();
            let consumed = s["consumedUnits"].as_i64().unwrap();
            (
                s["skuId"].as_str().unwrap().to_owned(),
                s["skuPartNumber"].as_str().unwrap().to_owned(),
                enabled - consumed,
                consumed,
            )
        })
        .find(|(_, _, free, _)| *free >= n)
        .expect("a SKU with room")
}

async fn consumed(sim: &RunningSim, t: &Tenant, sku: &str) -> i64 {
    let v = graph_get(sim, t, "subscribedSkus").await;
    v["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["skuId"] == sku)
        .unwrap()["consumedUnits"]
        .as_i64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_500_users_over_5_tenants_with_licences_then_a_rerun_changes_nothing() {
    let sim = sim(5, Some(5)).await;
    let f = &sim.sim.fleet;
    // 100 users per tenant; licence the first few of each with the SKU that has most room.
    let mut csv_text = String::from(
        "UserPrincipalName,FirstName,LastName,DisplayName,Password,TenantId,UsageLocation,LicenseAssignment\n",
    );
    let mut plan: Vec<(&Tenant, String, i64, i64)> = vec![];
    for t in f.customers() {
        let (sku, part, free, before) = sku_with_room(&sim, t, 1).await;
        let n = free.min(10);
        for i in 0..100 {
            let lic = if i < n {
                format!("reseller-account:{part}")
            } else {
                String::new()
            };
            csv_text.push_str(&format!(
                "import.user{i:03}@{},Import,User{i:03},Import User {i:03},Xq7!pLm2#vR{i},{},US,{lic}\n",
                t.initial_domain, t.id
            ));
        }
        plan.push((t, sku, before, n));
    }
    let file = tmp("import500.csv");
    std::fs::write(&file, &csv_text).unwrap();
    let file_s = file.to_str().unwrap();

    let r = tenantctl(
        &sim,
        &["users", "import", file_s, "-o", "csv", "--per-tenant", "8", "--yes"],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = csv_rows(&r.stdout).1;
    assert_eq!(rows.len(), 500);
    assert!(rows.iter().all(|r| r["result"] == "created"), "{}", r.stdout);
    for (t, sku, before, n) in &plan {
        assert_eq!(
            consumed(&sim, t, sku).await,
            before + n,
            "consumedUnits moved by the licences assigned"
        );
        let users = graph_get(
            &sim,
            t,
            "users?$select=userPrincipalName,assignedLicenses&$filter=startswith(userPrincipalName,'import.user')&$top=999",
        )
        .await;
        let users = users["value"].as_array().unwrap();
        assert_eq!(users.len(), 100, "exactly those users exist");
        let licensed: BTreeSet<&str> = users
            .iter()
            .filter(|u| {
                u["assignedLicenses"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|l| l["skuId"] == *sku)
            })
            .map(|u| u["userPrincipalName"].as_str().unwrap())
            .collect();
        assert_eq!(licensed.len() as i64, *n);
        let last = format!("import.user{n:03}");
        assert!(licensed.iter().all(|u| *u < last.as_str()), "{licensed:?}");
    }

    // The same file again: nothing is written, every row says so.
    let writes_before = writes_sent(&sim);
    let r = tenantctl(&sim, &["users", "import", file_s, "-o", "csv"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = csv_rows(&r.stdout).1;
    assert!(rows.iter().all(|r| r["result"] == "already_existed"), "{}", r.stdout);
    assert_eq!(writes_sent(&sim), writes_before, "a re-run sends no write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_bad_row_is_named_by_line_and_field_and_nothing_is_applied() {
    let sim = sim(2, Some(3)).await;
    let t = &sim.sim.fleet.customers()[0];
    let file = tmp("bad-row.csv");
    std::fs::write(
        &file,
        format!(
            "UserPrincipalName,FirstName,LastName,DisplayName,Password,TenantId,UsageLocation,LicenseAssignment\n\
             good.one@{d},Good,One,Good One,Xq7!pLm2#vR9,{id},US,\n\
             good.two@{d},Good,Two,Good Two,Xq7!pLm2#vR9,{id},XX,\n\
             good.three@{d},Good,Three,Good Three,Xq7!pLm2#vR9,{id},US,\n",
            d = t.initial_domain,
            id = t.id
        ),
    )
    .unwrap();
    let r = tenantctl(&sim, &["users", "import", file.to_str().unwrap()]).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("line 3, UsageLocation"), "{}", r.stderr);
    assert!(r.stderr.contains("nothing was changed"), "{}", r.stderr);
    assert_eq!(writes_sent(&sim), 0, "no write reached the service");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_if_plans_and_sends_no_write() {
    let sim = sim(2, Some(3)).await;
    let t = &sim.sim.fleet.customers()[1];
    let file = tmp("whatif.csv");
    std::fs::write(
        &file,
        format!(
            "userPrincipalName,displayName,usageLocation\nplanned.user@{},Planned User,GB\n",
            t.initial_domain
        ),
    )
    .unwrap();
    let r = tenantctl(
        &sim,
        &[
            "users",
            "import",
            file.to_str().unwrap(),
            "-t",
            &t.display_name,
            "--what-if",
            "-o",
            "csv",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = csv_rows(&r.stdout).1;
    assert_eq!(rows[0]["result"], "planned");
    assert_eq!(writes_sent(&sim), 0);
    let r = tenantctl(
        &sim,
        &[
            "domains",
            "add",
            "planned-domain.example",
            "-t",
            &t.display_name,
            "--what-if",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(writes_sent(&sim), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_without_the_write_role_fails_role_missing_and_the_others_succeed() {
    let sim = sim(3, Some(3)).await;
    let f = &sim.sim.fleet;
    let ro = &f.customers()[1];
    sim.sim.trouble_overrides.write().insert(ro.idx, Trouble::ReadOnlyRoles);
    let mut text = String::from("tenant,userPrincipalName,displayName\n");
    for t in f.customers() {
        text.push_str(&format!("{},writer@{},Writer\n", t.id, t.initial_domain));
    }
    let file = tmp("roles.csv");
    std::fs::write(&file, text).unwrap();
    let pw = tmp("roles-passwords.csv");
    let r = tenantctl(
        &sim,
        &[
            "users",
            "import",
            file.to_str().unwrap(),
            "--continue-on-error",
            "--yes",
            "--passwords-out",
            pw.to_str().unwrap(),
            "-o",
            "csv",
        ],
    )
    .await;
    assert_eq!(r.code, 3, "{}", r.stderr);
    let rows = csv_rows(&r.stdout).1;
    for row in &rows {
        if row["tenantId"] == ro.id.to_string() {
            assert_eq!(row["result"], "failed");
            assert!(row["detail"].contains("role_missing"), "{row:?}");
        } else {
            assert_eq!(row["result"], "created", "{row:?}");
        }
    }
    // Generated passwords went to a private file, not the output.
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&pw).unwrap().permissions().mode() & 0o777, 0o600);
    let pws = std::fs::read_to_string(&pw).unwrap();
    let one = pws.lines().nth(1).unwrap().split(',').nth(1).unwrap();
    assert!(!r.stdout.contains(one) && !r.stderr.contains(one));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domain_verification_fails_before_the_txt_is_published_and_succeeds_after() {
    let sim = sim(2, Some(3)).await;
    let t = &sim.sim.fleet.customers()[0];
    let name = "newly-added-domain.example";
    let r = tenantctl(&sim, &["domains", "add", name, "-t", &t.id.to_string(), "-o", "json"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    // A result row like every write; its detail names the TXT record to publish.
    let rows: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["result"], "added");
    let detail = rows[0]["detail"].as_str().unwrap();
    let value = detail.split('"').nth(1).expect("the TXT value in quotes").to_owned();
    assert!(value.starts_with("MS=ms"), "{detail}");
    assert!(
        r.stderr.contains(&format!("IN TXT \"{value}\"")),
        "zone form on stderr: {}",
        r.stderr
    );

    let r = tenantctl(&sim, &["domains", "verify", name, "-t", &t.id.to_string()]).await;
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stdout.contains("not_verified") && r.stdout.contains(&value),
        "a not_verified row saying which TXT to publish: {}",
        r.stdout
    );

    let resp = reqwest::Client::new()
        .post(format!("{}/_sim/dns", sim.base_url))
        .json(&json!({"name": name, "type": "TXT", "value": value}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let r = tenantctl(&sim, &["domains", "verify", name, "-t", &t.id.to_string()]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = tenantctl(&sim, &["domains", "list", "-t", &t.id.to_string(), "-o", "json"]).await;
    let rows: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert!(rows.iter().any(|d| d["domain"] == name && d["isVerified"] == true));

    let r = tenantctl(&sim, &["domains", "records", name, "-t", &t.id.to_string(), "--zone"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(" IN MX ") && r.stdout.contains("spf.protection.outlook.com"),
        "{}",
        r.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_whose_answer_is_lost_is_not_made_twice() {
    let sim = sim(1, Some(3)).await;
    let t = &sim.sim.fleet.customers()[0];
    let (_, part, _, _) = sku_with_room(&sim, t, 1).await;
    sim.sim.faults.write().drop_write_responses = 1;
    let upn = format!("lost.answer@{}", t.initial_domain);
    let r = tenantctl(
        &sim,
        &[
            "users",
            "create",
            "-t",
            &t.id.to_string(),
            "--upn",
            &upn,
            "--display-name",
            "Lost Answer",
            "--usage-location",
            "US",
            "--license",
            &part,
            "--passwords-out",
            tmp("lost-pw.csv").to_str().unwrap(),
            "-o",
            "csv",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = csv_rows(&r.stdout).1;
    assert_eq!(rows[0]["result"], "created", "{}", r.stdout);
    let users = graph_get(
        &sim,
        t,
        &format!("users?$filter=userPrincipalName eq '{upn}'&$select=id,assignedLicenses"),
    )
    .await;
    let users = users["value"].as_array().unwrap();
    assert_eq!(users.len(), 1, "exactly one user");
    assert_eq!(
        users[0]["assignedLicenses"].as_array().unwrap().len(),
        1,
        "and licensed"
    );
    let creates: u64 = sim
        .sim
        .stats
        .rows()
        .iter()
        .filter(|r| r.method == "POST" && r.route == "/graph/v1.0/users")
        .map(|r| r.count)
        .sum();
    assert_eq!(creates, 1, "the create was not repeated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn licenses_assign_and_remove_move_the_counts() {
    let sim = sim(1, Some(20)).await;
    let t = &sim.sim.fleet.customers()[0];
    let (sku, part, _, before) = sku_with_room(&sim, t, 1).await;
    // A user with a usage location (assignLicense needs one).
    let u = (0..t.user_count)
        .map(|i| sim.sim.fleet.user(t, i))
        .find(|u| u.usage_location.is_some())
        .unwrap();
    let holds = |v: &Value| {
        v["assignedLicenses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["skuId"] == sku)
    };
    let current = graph_get(&sim, t, &format!("users/{}?$select=assignedLicenses", u.id)).await;
    let (first, second) = if holds(&current) {
        ("remove", "assign")
    } else {
        ("assign", "remove")
    };
    for (op, delta) in [(first, if first == "assign" { 1 } else { -1 }), (second, 0)] {
        let r = tenantctl(
            &sim,
            &[
                "licenses",
                op,
                "-t",
                &t.id.to_string(),
                "--user",
                &u.user_principal_name,
                "--sku",
                &part,
                "-o",
                "csv",
            ],
        )
        .await;
        assert_eq!(r.code, 0, "{op}: {}", r.stderr);
        assert_eq!(consumed(&sim, t, &sku).await, before + delta, "{op}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_user_gets_the_missing_licence_and_its_usage_location_set_first() {
    let sim = sim(1, Some(60)).await;
    let t = &sim.sim.fleet.customers()[0];
    let (sku, part, _, before) = sku_with_room(&sim, t, 1).await;
    let u = (0..t.user_count)
        .map(|i| sim.sim.fleet.user(t, i))
        .find(|u| u.licenses.is_empty())
        .expect("an unlicensed user");
    // Make it a user without a usage location (as many synced users are).
    let r = reqwest::Client::new()
        .patch(format!("{}/graph/v1.0/users/{}", sim.base_url, u.id))
        .bearer_auth(delegated_token(&sim, t))
        .json(&json!({"usageLocation": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let file = tmp("existing.csv");
    std::fs::write(
        &file,
        format!(
            "userPrincipalName,displayName,usageLocation,licenses\n{},{},NO,{part}\n",
            u.user_principal_name, u.display_name
        ),
    )
    .unwrap();
    let args = [
        "users",
        "import",
        file.to_str().unwrap(),
        "-t",
        &t.initial_domain,
        "-o",
        "csv",
    ];
    let mut what_if = args.to_vec();
    what_if.push("--what-if");
    let r = tenantctl(&sim, &what_if).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        csv_rows(&r.stdout).1[0]["detail"].contains("set usage location"),
        "{}",
        r.stdout
    );
    let r = tenantctl(&sim, &args).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(csv_rows(&r.stdout).1[0]["result"], "licensed", "{}", r.stdout);
    let v = graph_get(
        &sim,
        t,
        &format!("users/{}?$select=usageLocation,assignedLicenses", u.id),
    )
    .await;
    assert_eq!(v["usageLocation"], "NO");
    assert_eq!(v["assignedLicenses"][0]["skuId"], sku);
    assert_eq!(consumed(&sim, t, &sku).await, before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn licences_in_bulk_from_csv_plan_then_apply() {
    let sim = sim(1, Some(40)).await;
    let t = &sim.sim.fleet.customers()[0];
    let (sku, part, free, before) = sku_with_room(&sim, t, 2).await;
    let _ = free;
    let users: Vec<_> = (0..t.user_count)
        .map(|i| sim.sim.fleet.user(t, i))
        .filter(|u| u.usage_location.is_some() && u.licenses.is_empty())
        .take(2)
        .collect();
    assert_eq!(users.len(), 2);
    let file = tmp("licences.csv");
    std::fs::write(
        &file,
        format!(
            "userPrincipalName,sku\n{},{part}\n{},{sku}\n",
            users[0].user_principal_name, users[1].user_principal_name
        ),
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let tid = t.id.to_string();
    let r = tenantctl(
        &sim,
        &["licenses", "assign", "--csv", f, "-t", &tid, "--what-if", "-o", "csv"],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        csv_rows(&r.stdout).1.iter().all(|r| r["result"] == "planned"),
        "{}",
        r.stdout
    );
    assert_eq!(writes_sent(&sim), 0);
    let r = tenantctl(&sim, &["licenses", "assign", "--csv", f, "-t", &tid, "-o", "csv"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        csv_rows(&r.stdout).1.iter().all(|r| r["result"] == "assigned"),
        "{}",
        r.stdout
    );
    assert_eq!(consumed(&sim, t, &sku).await, before + 2);
    let r = tenantctl(&sim, &["licenses", "assign", "--csv", f, "-t", &tid, "-o", "csv"]).await;
    assert!(
        csv_rows(&r.stdout).1.iter().all(|r| r["result"] == "already_assigned"),
        "{}",
        r.stdout
    );
}
