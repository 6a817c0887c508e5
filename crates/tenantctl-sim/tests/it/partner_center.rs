//! Partner Center v1 customers and subscriptions over HTTP.
//! Contracts: learn.microsoft.com/partner-center/developer/get-a-list-of-customers,
//! .../get-a-customer-by-id, .../get-all-of-a-customer-s-subscriptions, .../error-codes.

use crate::common::*;
use serde_json::Value;
use std::collections::HashSet;
use tenantctl_sim::RunningSim;

async fn pc_token(sim: &RunningSim) -> String {
    let (s, b) = sam_token(
        sim,
        &sim.sim.fleet.partner_tenant().id.to_string(),
        "https://api.partnercenter.microsoft.com/user_impersonation",
    )
    .await;
    assert_eq!(s, 200, "{b}");
    b["access_token"].as_str().unwrap().to_owned()
}

async fn get(
    sim: &RunningSim,
    path: &str,
    token: &str,
    continuation: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut rb = client()
        .get(format!("{}/partnercenter/v1{path}", sim.base_url))
        .bearer_auth(token)
        .header("MS-CorrelationId", "0b4f3b2c-5b0e-4c3c-9a53-3a4f7b0c2d11");
    if let Some(c) = continuation {
        rb = rb.header("MS-ContinuationToken", c);
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.json().await.unwrap())
}

/// Walks `links.next` with its `MS-ContinuationToken` header until the last page.
async fn all_customers(sim: &RunningSim, token: &str, size: usize) -> (Vec<Value>, usize) {
    let (s, _, mut page) = get(sim, &format!("/customers?size={size}"), token, None).await;
    assert_eq!(s, 200, "{page}");
    let mut items = vec![];
    let mut pages = 1;
    loop {
        let batch = page["items"].as_array().unwrap();
        assert!(batch.len() <= size);
        items.extend(batch.iter().cloned());
        let Some(next) = page["links"].get("next") else {
            assert!(page.get("continuationToken").is_none());
            break;
        };
        assert_eq!(next["method"], "GET");
        assert_eq!(next["headers"][0]["key"], "MS-ContinuationToken");
        assert_eq!(next["headers"][0]["value"], page["continuationToken"]);
        let uri = next["uri"].as_str().unwrap();
        assert!(
            uri.starts_with("/v1/customers?") && uri.contains("seekOperation=Next"),
            "{uri}"
        );
        let path = uri.trim_start_matches("/v1");
        let (s, _, p) = get(sim, path, token, next["headers"][0]["value"].as_str()).await;
        assert_eq!(s, 200, "{p}");
        page = p;
        pages += 1;
    }
    (items, pages)
}

#[tokio::test]
async fn customers_page_with_continuation_tokens_to_the_last_page_for_sizes_1_7_and_500() {
    let sim = start_sim(23, Some(2)).await;
    let token = pc_token(&sim).await;
    let expected: Vec<String> = sim
        .sim
        .fleet
        .customers()
        .iter()
        .filter(|t| t.contract.is_some())
        .map(|t| t.id.to_string())
        .collect();
    assert!(expected.len() > 10);
    for size in [1usize, 7, 500] {
        let (items, pages) = all_customers(&sim, &token, size).await;
        let ids: Vec<String> = items.iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect();
        assert_eq!(ids, expected, "size {size}: every customer once, in order");
        assert_eq!(pages, expected.len().div_ceil(size));
    }
}

#[tokio::test]
async fn customer_shape_matches_the_get_a_list_of_customers_example() {
    let sim = start_sim(5, Some(2)).await;
    let token = pc_token(&sim).await;
    let (s, h, body) = get(&sim, "/customers?size=40", &token, None).await;
    assert_eq!(s, 200);
    assert_eq!(h["ms-correlationid"], "0b4f3b2c-5b0e-4c3c-9a53-3a4f7b0c2d11", "echoed");
    assert!(h.contains_key("ms-requestid"));
    assert_eq!(body["attributes"]["objectType"], "Collection");
    assert_eq!(body["links"]["self"]["uri"], "/v1/customers?size=40");
    let first = &body["items"][0];
    let id = first["id"].as_str().unwrap();
    let t = sim.sim.fleet.find_tenant(id).unwrap();
    assert_eq!(body["totalCount"], body["items"].as_array().unwrap().len());
    assert_eq!(first["companyProfile"]["tenantId"], id);
    assert_eq!(first["companyProfile"]["domain"], t.initial_domain);
    assert_eq!(first["companyProfile"]["companyName"], t.display_name);
    assert_eq!(
        first["companyProfile"]["attributes"]["objectType"],
        "CustomerCompanyProfile"
    );
    assert!(["reseller", "syndication"].contains(&first["relationshipToPartner"].as_str().unwrap()));
    assert_eq!(first["attributes"]["objectType"], "Customer");

    let (s, _, one) = get(&sim, &format!("/customers/{id}"), &token, None).await;
    assert_eq!(s, 200);
    assert_eq!(&one, first);
}

#[tokio::test]
async fn subscriptions_match_the_customers_subscribed_skus() {
    let sim = start_sim(5, Some(20)).await;
    let token = pc_token(&sim).await;
    let t = sim.sim.fleet.customers().iter().find(|t| t.contract.is_some()).unwrap();
    let (s, _, body) = get(&sim, &format!("/customers/{}/subscriptions", t.id), &token, None).await;
    assert_eq!(s, 200);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), t.subscriptions.len());
    assert_eq!(body["totalCount"], items.len());
    let ids: HashSet<String> = t.subscriptions.iter().map(|s| s.subscription_id.to_string()).collect();
    for i in items {
        assert!(ids.contains(i["id"].as_str().unwrap()));
        for k in [
            "entitlementId",
            "offerId",
            "friendlyName",
            "unitType",
            "creationDate",
            "effectiveStartDate",
            "commitmentEndDate",
            "status",
            "billingType",
            "contractType",
            "orderId",
        ] {
            assert!(i[k].as_str().is_some_and(|v| !v.is_empty()), "{k} in {i}");
        }
        assert!(i["quantity"].as_u64().is_some());
        assert!(i["autoRenewEnabled"].is_boolean());
        assert_eq!(i["attributes"]["objectType"], "Subscription");
        assert!(i["links"]["offer"]["uri"].as_str().unwrap().starts_with("/offers/"));
    }
}

#[tokio::test]
async fn partner_center_errors_use_its_error_body() {
    let sim = start_sim(30, Some(2)).await;
    let f = &sim.sim.fleet;
    let token = pc_token(&sim).await;
    let body_ok = |b: &Value, code: u64| {
        assert_eq!(b["code"], code, "{b}");
        assert!(b["description"].as_str().is_some_and(|d| !d.is_empty()));
        assert!(b["data"].is_array());
        assert_eq!(b["source"], "PartnerFD");
    };
    // A GDAP-only customer (no reseller relationship) and an unknown id: 404, code 3000.
    let gdap_only = f
        .customers()
        .iter()
        .find(|t| t.contract.is_none())
        .expect("a GDAP-only customer");
    for id in [gdap_only.id.to_string(), "00000000-0000-0000-0000-00000000abcd".into()] {
        let (s, _, b) = get(&sim, &format!("/customers/{id}"), &token, None).await;
        assert_eq!(s, 404);
        body_ok(&b, 3000);
    }
    let (s, _, b) = get(&sim, "/customers?size=0", &token, None).await;
    assert_eq!(s, 400);
    body_ok(&b, 2000);
    let (s, _, b) = get(&sim, "/customers?size=5&seekOperation=Next", &token, Some("forged")).await;
    assert_eq!(s, 400);
    body_ok(&b, 2000);

    // A Graph token is the wrong audience; a customer tenant's token is not a partner's.
    let graph = delegated_graph_token(&sim, f.partner_tenant());
    let (s, h, _) = get(&sim, "/customers", &graph, None).await;
    assert_eq!(s, 401);
    assert!(h.contains_key("www-authenticate"));
    let t = f
        .customers()
        .iter()
        .find(|t| t.trouble == tenantctl_sim::fleet::Trouble::None)
        .unwrap();
    let (st, b) = sam_token(
        &sim,
        &t.id.to_string(),
        "https://api.partnercenter.microsoft.com/.default",
    )
    .await;
    assert_eq!(st, 200, "{b}");
    let (s, _, _) = get(&sim, "/customers", b["access_token"].as_str().unwrap(), None).await;
    assert_eq!(s, 403);
}
