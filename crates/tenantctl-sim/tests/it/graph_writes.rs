//! Graph writes over HTTP: the contracts of learn.microsoft.com/graph/api/user-post-users,
//! user-update, user-delete, user-assignlicense, domain-post-domains,
//! domain-list-verificationdnsrecords, domain-verify, domain-list-serviceconfigurationrecords.

use crate::common::*;
use serde_json::{json, Value};
use tenantctl_sim::fleet::{Tenant, Trouble};
use tenantctl_sim::RunningSim;

struct G<'a> {
    sim: &'a RunningSim,
    token: String,
}

impl<'a> G<'a> {
    fn new(sim: &'a RunningSim, t: &Tenant) -> G<'a> {
        G {
            sim,
            token: delegated_graph_token(sim, t),
        }
    }
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut rb = client()
            .request(method, format!("{}/graph/v1.0/{path}", self.sim.base_url))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.unwrap();
        let s = r.status().as_u16();
        let text = r.text().await.unwrap();
        (s, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }
    async fn post(&self, path: &str, b: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(b)).await
    }
}

fn new_user(upn: &str) -> Value {
    json!({
        "accountEnabled": true, "displayName": "Adele Vance", "mailNickname": "AdeleV",
        "userPrincipalName": upn, "usageLocation": "US",
        "passwordProfile": {"forceChangePasswordNextSignIn": true, "password": "xWwvJ]6NMw+bWH-d"}
    })
}

fn bad_request(v: &Value, message: &str) {
    assert_eq!(v["error"]["code"], "Request_BadRequest", "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains(message), "{v}");
    assert!(v["error"]["innerError"]["request-id"].is_string());
}

#[tokio::test]
async fn create_get_list_update_delete_a_user() {
    let sim = start_sim(2, Some(5)).await;
    let t = &sim.sim.fleet.customers()[0];
    let g = G::new(&sim, t);
    let upn = format!("AdeleV@{}", t.initial_domain);
    let (s, u) = g.post("users", new_user(&upn)).await;
    assert_eq!(s, 201, "{u}");
    assert_eq!(
        u["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#users/$entity"
    );
    assert_eq!(u["userPrincipalName"], upn);
    let id = u["id"].as_str().unwrap().to_owned();
    let (s, got) = g
        .get(&format!("users/{upn}?$select=id,usageLocation,accountEnabled"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(got["id"], id);
    assert_eq!(got["usageLocation"], "US");
    let (_, list) = g.get("users?$top=999&$select=id").await;
    assert_eq!(
        list["value"].as_array().unwrap().len(),
        6,
        "listed once, after the generated users"
    );
    let (_, c) = g.get("users?$count=true&$top=1").await;
    let _ = c;

    // Duplicate UPN.
    let (s, e) = g.post("users", new_user(&upn.to_uppercase())).await;
    assert_eq!(s, 400);
    bad_request(
        &e,
        "Another object with the same value for property userPrincipalName already exists.",
    );

    let (s, _) = g
        .send(
            reqwest::Method::PATCH,
            &format!("users/{id}"),
            Some(json!({"jobTitle": "Manager"})),
        )
        .await;
    assert_eq!(s, 204);
    assert_eq!(
        g.get(&format!("users/{id}?$select=jobTitle")).await.1["jobTitle"],
        "Manager"
    );
    let (s, _) = g.send(reqwest::Method::DELETE, &format!("users/{id}"), None).await;
    assert_eq!(s, 204);
    assert_eq!(g.get(&format!("users/{id}")).await.0, 404);
    let (_, list) = g.get("users?$top=999&$select=id").await;
    assert_eq!(list["value"].as_array().unwrap().len(), 5);

    // A generated user deleted disappears from paging and counts.
    let first = sim.sim.fleet.user(t, 0);
    assert_eq!(
        g.send(reqwest::Method::DELETE, &format!("users/{}", first.id), None)
            .await
            .0,
        204
    );
    let (_, list) = g.get("users?$top=2&$select=id").await;
    assert!(list["value"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["id"] != first.id.to_string()));
}

#[tokio::test]
async fn create_user_errors_are_graphs() {
    let sim = start_sim(1, Some(3)).await;
    let t = &sim.sim.fleet.customers()[0];
    let g = G::new(&sim, t);
    let (s, e) = g
        .post("users", new_user("someone@not-a-domain-of-this-tenant.com"))
        .await;
    assert_eq!(s, 400);
    bad_request(&e, "The domain portion of the userPrincipalName property is invalid.");
    let mut weak = new_user(&format!("weak@{}", t.initial_domain));
    weak["passwordProfile"]["password"] = json!("password");
    let (s, e) = g.post("users", weak).await;
    assert_eq!(s, 400);
    bad_request(&e, "does not comply with password complexity requirements");
    let mut missing = new_user(&format!("m@{}", t.initial_domain));
    missing.as_object_mut().unwrap().remove("mailNickname");
    let (s, e) = g.post("users", missing).await;
    assert_eq!(s, 400);
    bad_request(&e, "'mailNickname'");
}

#[tokio::test]
async fn assign_license_moves_consumed_units_and_refuses_what_graph_refuses() {
    let sim = start_sim(1, Some(4)).await;
    let t = &sim.sim.fleet.customers()[0];
    let g = G::new(&sim, t);
    let (_, skus) = g.get("subscribedSkus").await;
    let sku = skus["value"][0].clone();
    let sku_id = sku["skuId"].as_str().unwrap().to_owned();
    let before = sku["consumedUnits"].as_i64().unwrap();
    let enabled = sku["prepaidUnits"]["enabled"].as_i64().unwrap();

    let upn = format!("lic@{}", t.initial_domain);
    let mut body = new_user(&upn);
    body.as_object_mut().unwrap().remove("usageLocation");
    assert_eq!(g.post("users", body).await.0, 201);
    let add = json!({"addLicenses": [{"skuId": sku_id, "disabledPlans": []}], "removeLicenses": []});
    let (s, e) = g.post(&format!("users/{upn}/assignLicense"), add.clone()).await;
    assert_eq!(s, 400);
    bad_request(
        &e,
        "License assignment cannot be done for user with invalid usage location.",
    );

    let patch = json!({"usageLocation": "GB"});
    assert_eq!(
        g.send(reqwest::Method::PATCH, &format!("users/{upn}"), Some(patch))
            .await
            .0,
        204
    );
    // Fill the SKU to the last unit, then one more fails.
    let free = enabled - before;
    if free >= 1 {
        let (s, u) = g.post(&format!("users/{upn}/assignLicense"), add.clone()).await;
        assert_eq!(s, 200, "{u}");
        assert_eq!(
            u["@odata.context"],
            "https://graph.microsoft.com/v1.0/$metadata#users/$entity"
        );
        let (_, skus) = g.get("subscribedSkus").await;
        assert_eq!(skus["value"][0]["consumedUnits"], before + 1);
        let (_, me) = g.get(&format!("users/{upn}?$select=assignedLicenses")).await;
        assert_eq!(me["assignedLicenses"][0]["skuId"], sku_id);
        let (_, filtered) = g
            .get(&format!(
                "users?$filter=assignedLicenses/any(x:x/skuId eq {sku_id})&$select=userPrincipalName&$top=999"
            ))
            .await;
        assert!(filtered["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["userPrincipalName"] == upn));
    }
    let unknown = json!({"addLicenses": [{"skuId": "11111111-2222-3333-4444-555555555555", "disabledPlans": []}], "removeLicenses": []});
    let (s, e) = g.post(&format!("users/{upn}/assignLicense"), unknown).await;
    assert_eq!(s, 400);
    bad_request(&e, "does not correspond to a valid company License");

    // Exhaust the SKU with new users.
    let mut k = 0;
    loop {
        let (_, skus) = g.get("subscribedSkus").await;
        let s0 = &skus["value"][0];
        if s0["consumedUnits"].as_i64().unwrap() >= s0["prepaidUnits"]["enabled"].as_i64().unwrap() {
            break;
        }
        let upn = format!("fill{k}@{}", t.initial_domain);
        assert_eq!(g.post("users", new_user(&upn)).await.0, 201);
        assert_eq!(g.post(&format!("users/{upn}/assignLicense"), add.clone()).await.0, 200);
        k += 1;
    }
    let upn2 = format!("onetoomany@{}", t.initial_domain);
    assert_eq!(g.post("users", new_user(&upn2)).await.0, 201);
    let (s, e) = g.post(&format!("users/{upn2}/assignLicense"), add.clone()).await;
    assert_eq!(s, 400);
    bad_request(&e, "does not have any available licenses");

    // Removing returns the unit.
    let remove = json!({"addLicenses": [], "removeLicenses": [sku_id]});
    let (_, before_rm) = g.get("subscribedSkus").await;
    assert_eq!(g.post(&format!("users/{upn}/assignLicense"), remove).await.0, 200);
    let (_, after_rm) = g.get("subscribedSkus").await;
    assert_eq!(
        after_rm["value"][0]["consumedUnits"].as_i64().unwrap(),
        before_rm["value"][0]["consumedUnits"].as_i64().unwrap() - 1
    );
}

#[tokio::test]
async fn read_only_roles_allow_reads_and_refuse_writes() {
    let sim = start_sim(2, Some(3)).await;
    let t = &sim.sim.fleet.customers()[1];
    sim.sim.trouble_overrides.write().insert(t.idx, Trouble::ReadOnlyRoles);
    let g = G::new(&sim, t);
    assert_eq!(g.get("users").await.0, 200);
    let (s, e) = g.post("users", new_user(&format!("x@{}", t.initial_domain))).await;
    assert_eq!(s, 403);
    assert_eq!(e["error"]["code"], "Authorization_RequestDenied");
    assert_eq!(
        e["error"]["message"],
        "Insufficient privileges to complete the operation."
    );
    assert_eq!(g.post("domains", json!({"id": "ro.example"})).await.0, 403);
}

#[tokio::test]
async fn a_domain_verifies_only_once_its_txt_record_is_published() {
    let sim = start_sim(2, Some(3)).await;
    let t = &sim.sim.fleet.customers()[0];
    let g = G::new(&sim, t);
    let (s, d) = g.post("domains", json!({"id": "Contoso-Widgets.example"})).await;
    assert_eq!(s, 201, "{d}");
    assert_eq!(d["id"], "contoso-widgets.example");
    assert_eq!(d["isVerified"], false);
    let (s, recs) = g.get("domains/contoso-widgets.example/verificationDnsRecords").await;
    assert_eq!(s, 200);
    let txt = recs["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["recordType"] == "Txt")
        .unwrap()
        .clone();
    assert_eq!(txt["@odata.type"], "#microsoft.graph.domainDnsTxtRecord");
    assert_eq!(txt["ttl"], 3600);
    let text = txt["text"].as_str().unwrap().to_owned();
    assert!(text.starts_with("MS=ms") && text.len() == 13, "{text}");
    let mx = recs["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["recordType"] == "Mx")
        .unwrap();
    assert_eq!(mx["preference"], 32767);

    let (s, e) = g.post("domains/contoso-widgets.example/verify", json!({})).await;
    assert_eq!(s, 400);
    assert_eq!(e["error"]["code"], "Request_BadRequest");
    // A user cannot use it yet.
    let (s, _) = g.post("users", new_user("a@contoso-widgets.example")).await;
    assert_eq!(s, 400);

    let r = client()
        .post(format!("{}/_sim/dns", sim.base_url))
        .json(&json!({"name": "contoso-widgets.example", "type": "TXT", "value": text}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let (s, d) = g.post("domains/contoso-widgets.example/verify", json!({})).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["isVerified"], true);
    assert_eq!(d["availabilityStatus"], "AvailableImmediately");
    assert_eq!(g.post("users", new_user("a@contoso-widgets.example")).await.0, 201);
    let (_, org) = g.get("organization").await;
    assert!(org["value"][0]["verifiedDomains"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["name"] == "contoso-widgets.example"));

    // Another tenant cannot add a domain verified here; this one cannot add it twice.
    let other = G::new(&sim, &sim.sim.fleet.customers()[1]);
    assert_eq!(
        other.post("domains", json!({"id": "contoso-widgets.example"})).await.0,
        400
    );
    assert_eq!(g.post("domains", json!({"id": "contoso-widgets.example"})).await.0, 400);

    let (s, svc) = g
        .get("domains/contoso-widgets.example/serviceConfigurationRecords")
        .await;
    assert_eq!(s, 200);
    let svc = svc["value"].as_array().unwrap();
    assert!(svc.iter().any(|r| r["recordType"] == "Mx"
        && r["mailExchange"] == "contoso-widgets-example.mail.protection.outlook.com"
        && r["preference"] == 0));
    assert!(svc
        .iter()
        .any(|r| r["text"] == "v=spf1 include:spf.protection.outlook.com ~all"));
    assert_eq!(g.get("domains/nope.example/verificationDnsRecords").await.0, 404);
}

#[tokio::test]
async fn a_dropped_write_response_still_applied_the_write() {
    let sim = start_sim(1, Some(3)).await;
    let t = &sim.sim.fleet.customers()[0];
    let g = G::new(&sim, t);
    sim.sim.faults.write().drop_write_responses = 1;
    let upn = format!("dropped@{}", t.initial_domain);
    let r = client()
        .post(format!("{}/graph/v1.0/users", sim.base_url))
        .bearer_auth(&g.token)
        .json(&new_user(&upn))
        .send()
        .await;
    let failed = match r {
        Err(_) => true,
        Ok(resp) => resp.bytes().await.is_err(),
    };
    assert!(failed, "the client saw no answer");
    assert_eq!(g.get(&format!("users/{upn}")).await.0, 200, "but the user exists");
    assert_eq!(sim.sim.faults.read().drop_write_responses, 0);
}

#[tokio::test]
async fn a_write_burst_over_the_write_bucket_gets_429_with_retry_after() {
    let mut c = tenantctl_sim::SimConfig::new(1, 1);
    c.fleet.users_per_tenant = Some(3);
    c.throttle.scale = 0.002; // 6 writes per 150 s for this (app, tenant)
    let sim = start_with(c).await;
    let t = &sim.sim.fleet.customers()[0];
    let g = G::new(&sim, t);
    let mut saw = None;
    for i in 0..20 {
        let r = client()
            .patch(format!(
                "{}/graph/v1.0/users/{}",
                sim.base_url,
                sim.sim.fleet.user(t, 0).id
            ))
            .bearer_auth(&g.token)
            .json(&json!({"jobTitle": format!("T{i}")}))
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            saw = Some((
                r.headers()["retry-after"].to_str().unwrap().to_owned(),
                r.headers()
                    .get("x-ms-throttle-scope")
                    .map(|v| v.to_str().unwrap().to_owned()),
            ));
            break;
        }
        assert_eq!(r.status(), 204);
    }
    let (retry_after, scope) = saw.expect("throttled");
    assert!(retry_after.parse::<u64>().unwrap() >= 1);
    assert!(scope.unwrap().contains("Write"), "write scope");
}
