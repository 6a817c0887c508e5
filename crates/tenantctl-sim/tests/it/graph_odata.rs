//! OData query options on Graph directory collections: learn.microsoft.com/graph/filter-query-parameter,
//! learn.microsoft.com/graph/aad-advanced-queries (error texts from its "Error handling" section).

#[allow(unused_imports)]
use crate::common::{get, get_json, healthy, keys, rel};

use tenantctl_sim::fleet::Tenant;
use tenantctl_sim::skus::Catalog;
use tenantctl_sim::RunningSim;

const EVENTUAL: &[(&str, &str)] = &[("ConsistencyLevel", "eventual")];

/// All user ids over all pages of `query` (with `$top=999`).
async fn ids(sim: &RunningSim, tok: &str, query: &str, extra: &[(&str, &str)]) -> (Vec<String>, serde_json::Value) {
    let mut path = format!("/graph/v1.0/users?$top=999&{query}");
    let mut out = Vec::new();
    let mut first = None;
    loop {
        let (s, _, v) = get_json(sim, tok, &path, extra).await;
        assert_eq!(s, 200, "{path}: {v}");
        out.extend(
            v["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["id"].as_str().unwrap().to_owned()),
        );
        let next = v["@odata.nextLink"].as_str().map(|l| rel(sim, l));
        first.get_or_insert(v);
        match next {
            Some(p) => path = p,
            None => break,
        }
    }
    (out, first.unwrap())
}

fn users_where(sim: &RunningSim, t: &Tenant, f: impl Fn(&tenantctl_sim::fleet::User) -> bool) -> Vec<String> {
    (0..t.user_count)
        .map(|i| sim.sim.fleet.user(t, i))
        .filter(|u| f(u))
        .map(|u| u.id.to_string())
        .collect()
}

async fn err(sim: &RunningSim, tok: &str, path: &str, extra: &[(&str, &str)]) -> (u16, String, String) {
    let (s, _, v) = get_json(sim, tok, path, extra).await;
    (
        s,
        v["error"]["code"].as_str().unwrap_or("").to_owned(),
        v["error"]["message"].as_str().unwrap_or("").to_owned(),
    )
}

#[tokio::test]
async fn default_filters_eq_startswith_in_any_and_or() {
    let sim = crate::common::start_sim(1, Some(1_100)).await;
    let t = healthy(&sim, 0);
    let tok = crate::common::delegated_graph_token(&sim, &t);
    let f = &sim.sim.fleet;

    let (got, _) = ids(&sim, &tok, "$filter=accountEnabled eq false", &[]).await;
    let want = users_where(&sim, &t, |u| !u.account_enabled);
    assert!(!want.is_empty());
    assert_eq!(got, want);

    let given = f.user(&t, 3).given_name;
    let (got, _) = ids(&sim, &tok, &format!("$filter=startswith(displayName,'{given}')"), &[]).await;
    assert_eq!(got, users_where(&sim, &t, |u| u.display_name.starts_with(given)));

    let (a, b) = (f.user(&t, 5), f.user(&t, 700));
    let q = format!(
        "$filter=userPrincipalName in ('{}','{}')",
        a.user_principal_name.to_uppercase(),
        b.user_principal_name
    );
    let (got, _) = ids(&sim, &tok, &q, &[]).await;
    assert_eq!(got, vec![a.id.to_string(), b.id.to_string()]);

    let cat = Catalog::get();
    let s0 = t.subscriptions.iter().position(|s| s.consumed > 0).unwrap();
    let sku = cat.skus[t.subscriptions[s0].sku].id;
    let (got, _) = ids(
        &sim,
        &tok,
        &format!("$filter=assignedLicenses/any(x:x/skuId eq {sku})"),
        &[],
    )
    .await;
    let want = users_where(&sim, &t, |u| u.licenses.contains(&s0));
    assert_eq!(got.len() as u32, t.subscriptions[s0].consumed);
    assert_eq!(got, want);

    let q = format!(
        "$filter=accountEnabled eq true and (startswith(givenName,'{given}') or id eq '{}')",
        a.id
    );
    let (got, _) = ids(&sim, &tok, &q, &[]).await;
    assert_eq!(
        got,
        users_where(&sim, &t, |u| u.account_enabled
            && (u.given_name.starts_with(given) || u.id == a.id))
    );
}

#[tokio::test]
async fn advanced_queries_need_consistency_level_and_count() {
    let sim = crate::common::start_sim(1, Some(250)).await;
    let t = healthy(&sim, 0);
    let tok = crate::common::delegated_graph_token(&sim, &t);

    // `ne` without the advanced parameters: Graph's exact 400.
    let (s, code, msg) = err(&sim, &tok, "/graph/v1.0/users?$filter=accountEnabled ne true", &[]).await;
    assert_eq!((s, code.as_str()), (400, "Request_UnsupportedQuery"));
    assert_eq!(msg, "Operator 'ne' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information");
    let (s, _, _) = err(
        &sim,
        &tok,
        "/graph/v1.0/users?$filter=accountEnabled ne true&$count=true",
        &[],
    )
    .await;
    assert_eq!(s, 400, "the header alone is not enough");

    let (got, first) = ids(&sim, &tok, "$filter=accountEnabled ne true&$count=true", EVENTUAL).await;
    let want = users_where(&sim, &t, |u| !u.account_enabled);
    assert_eq!(got, want);
    assert_eq!(first["@odata.count"], want.len());

    let dom = t.default_domain().to_owned();
    let (got, _) = ids(
        &sim,
        &tok,
        &format!("$filter=endsWith(userPrincipalName,'@{dom}')&$count=true"),
        EVENTUAL,
    )
    .await;
    assert_eq!(got.len() as u32, t.user_count);
    let (s, _, msg) = err(
        &sim,
        &tok,
        &format!("/graph/v1.0/users?$filter=endsWith(mail,'@{dom}')"),
        &[],
    )
    .await;
    assert_eq!(s, 400);
    assert!(msg.starts_with("Operator 'endsWith' is not supported"));

    let (got, _) = ids(&sim, &tok, "$filter=assignedLicenses/$count eq 0&$count=true", EVENTUAL).await;
    assert_eq!(got, users_where(&sim, &t, |u| u.licenses.is_empty()));
    let (got, _) = ids(&sim, &tok, "$filter=not(accountEnabled eq true)&$count=true", EVENTUAL).await;
    assert_eq!(got, want);
}

#[tokio::test]
async fn count_option_and_count_segment() {
    let sim = crate::common::start_sim(1, Some(230)).await;
    let t = healthy(&sim, 0);
    let tok = crate::common::delegated_graph_token(&sim, &t);
    // Without the header `$count=true` is silently ignored (aad-advanced-queries).
    let (s, _, v) = get_json(&sim, &tok, "/graph/v1.0/users?$count=true", &[]).await;
    assert_eq!(s, 200);
    assert!(v.get("@odata.count").is_none());
    // With it, `@odata.count` is on the first page only.
    let (_, _, v) = get_json(&sim, &tok, "/graph/v1.0/users?$count=true", EVENTUAL).await;
    assert_eq!(v["@odata.count"], t.user_count);
    let next = rel(&sim, v["@odata.nextLink"].as_str().unwrap());
    assert!(next.contains("$count=true"));
    let (_, _, v2) = get_json(&sim, &tok, &next, EVENTUAL).await;
    assert!(v2.get("@odata.count").is_none());

    let (s, code, msg) = err(&sim, &tok, "/graph/v1.0/users/$count", &[]).await;
    assert_eq!(
        (s, code.as_str(), msg.as_str()),
        (400, "Request_BadRequest", "$count is not currently supported.")
    );
    let (s, h, body) = get(&sim, &tok, "/graph/v1.0/users/$count", EVENTUAL).await;
    assert_eq!(s, 200);
    assert!(h["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert_eq!(body, t.user_count.to_string());
    let (_, _, body) = get(
        &sim,
        &tok,
        "/graph/v1.0/users/$count?$filter=accountEnabled eq false",
        EVENTUAL,
    )
    .await;
    assert_eq!(body, users_where(&sim, &t, |u| !u.account_enabled).len().to_string());
}

#[tokio::test]
async fn orderby_default_and_advanced() {
    let sim = crate::common::start_sim(1, Some(180)).await;
    let t = healthy(&sim, 0);
    let tok = crate::common::delegated_graph_token(&sim, &t);
    let mut want: Vec<(String, u32)> = (0..t.user_count)
        .map(|i| (sim.sim.fleet.user(&t, i).display_name.to_lowercase(), i))
        .collect();
    want.sort();
    let want: Vec<String> = want
        .iter()
        .map(|(_, i)| sim.sim.fleet.user(&t, *i).id.to_string())
        .collect();
    let (got, _) = ids(&sim, &tok, "$orderby=displayName", &[]).await;
    assert_eq!(got, want);
    let mut paged = Vec::new();
    let mut path = "/graph/v1.0/users?$orderby=displayName&$top=50".to_owned();
    loop {
        let (_, _, v) = get_json(&sim, &tok, &path, &[]).await;
        paged.extend(
            v["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["id"].as_str().unwrap().to_owned()),
        );
        match v["@odata.nextLink"].as_str() {
            Some(l) => path = rel(&sim, l),
            None => break,
        }
    }
    assert_eq!(paged, want, "sorted paging keeps the order across pages");
    let (got, _) = ids(&sim, &tok, "$orderby=displayName desc", &[]).await;
    assert_eq!(got, want.iter().rev().cloned().collect::<Vec<_>>());

    let (s, code, _) = err(&sim, &tok, "/graph/v1.0/users?$orderby=createdDateTime", &[]).await;
    assert_eq!((s, code.as_str()), (400, "Request_UnsupportedQuery"));
    let (s, _, _) = err(
        &sim,
        &tok,
        "/graph/v1.0/users?$orderby=displayName&$filter=accountEnabled eq true",
        &[],
    )
    .await;
    assert_eq!(s, 400, "$filter with $orderby is advanced");
    let (got, _) = ids(
        &sim,
        &tok,
        "$orderby=displayName&$filter=accountEnabled eq true&$count=true",
        EVENTUAL,
    )
    .await;
    let enabled: Vec<String> = want
        .iter()
        .filter(|id| {
            let g: tenantctl_sim::ids::Guid = id.parse().unwrap();
            let i = sim.sim.fleet.user_index_by_id(&t, g).unwrap();
            sim.sim.fleet.user(&t, i).account_enabled
        })
        .cloned()
        .collect();
    assert_eq!(got, enabled);
}

#[tokio::test]
async fn unsupported_forms_are_400_never_ignored() {
    let sim = crate::common::start_sim(1, Some(20)).await;
    let t = healthy(&sim, 0);
    let tok = crate::common::delegated_graph_token(&sim, &t);
    let cases: &[(&str, &str)] = &[
        ("/graph/v1.0/users?$select=id,foo", "Request_BadRequest"),
        ("/graph/v1.0/users?$top=1000", "Request_UnsupportedQuery"),
        ("/graph/v1.0/users?$top=0", "Request_UnsupportedQuery"),
        ("/graph/v1.0/users?$top=abc", "BadRequest"),
        ("/graph/v1.0/users?$skip=5", "Request_BadRequest"),
        (
            "/graph/v1.0/users?$filter=displayName gt 'a'",
            "Request_UnsupportedQuery",
        ),
        (
            "/graph/v1.0/users?$filter=createdDateTime eq 2020-01-01",
            "Request_UnsupportedQuery",
        ),
        (
            "/graph/v1.0/users?$filter=startswith(id,'a')",
            "Request_UnsupportedQuery",
        ),
        ("/graph/v1.0/users?$filter=displayName eq 'unterminated", "BadRequest"),
        ("/graph/v1.0/users?$orderby=jobTitle", "Request_UnsupportedQuery"),
        (
            "/graph/v1.0/subscribedSkus?$filter=skuPartNumber eq 'SPB'",
            "Request_UnsupportedQuery",
        ),
        ("/graph/v1.0/domains?$select=nope", "Request_BadRequest"),
    ];
    for (path, code) in cases {
        let (s, c, _) = err(&sim, &tok, path, &[]).await;
        assert_eq!((s, c.as_str()), (400, *code), "{path}");
    }
    let (_, _, msg) = err(&sim, &tok, "/graph/v1.0/users?$top=1000", &[]).await;
    assert_eq!(
        msg,
        "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive."
    );
    let (_, _, msg) = err(
        &sim,
        &tok,
        "/graph/v1.0/users?$filter=createdDateTime eq 2020-01-01",
        &[],
    )
    .await;
    assert_eq!(
        msg,
        "Unsupported or invalid query filter clause specified for property 'createdDateTime' of resource 'User'."
    );
}

#[tokio::test]
async fn partner_side_filters_and_select() {
    let sim = crate::common::start_sim(10, Some(3)).await;
    let tok = crate::common::delegated_graph_token(&sim, sim.sim.fleet.partner_tenant());
    let (s, _, v) = get_json(
        &sim,
        &tok,
        "/graph/v1.0/tenantRelationships/delegatedAdminRelationships?$filter=status eq 'active'&$select=id,customer,status,endDateTime",
        &[],
    )
    .await;
    assert_eq!(s, 200);
    let want: Vec<String> = sim
        .sim
        .fleet
        .customers()
        .iter()
        .flat_map(|t| sim.sim.relationships(t))
        .filter(|r| r.status == "active")
        .map(|r| r.id)
        .collect();
    let items = v["value"].as_array().unwrap();
    assert_eq!(
        items
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>(),
        want
    );
    assert_eq!(
        keys(&items[0]),
        ["@odata.type", "@odata.etag", "id", "customer", "status", "endDateTime"]
    );
    assert!(v["@odata.context"]
        .as_str()
        .unwrap()
        .ends_with("delegatedAdminRelationships(id,customer,status,endDateTime)"));

    let t = sim
        .sim
        .fleet
        .customers()
        .iter()
        .find(|t| t.relationships.len() > 1)
        .unwrap_or(&sim.sim.fleet.customers()[0]);
    let (_, _, v) = get_json(
        &sim,
        &tok,
        &format!(
            "/graph/v1.0/tenantRelationships/delegatedAdminRelationships?$filter=customer/tenantId eq '{}'",
            t.id
        ),
        &[],
    )
    .await;
    assert_eq!(v["value"].as_array().unwrap().len(), t.relationships.len());

    let c = sim.sim.fleet.customers().iter().find(|t| t.contract.is_some()).unwrap();
    let dom = &c.contract.as_ref().unwrap().default_domain_name;
    let (_, _, v) = get_json(
        &sim,
        &tok,
        &format!("/graph/v1.0/contracts?$filter=defaultDomainName eq '{dom}'"),
        &[],
    )
    .await;
    let items = v["value"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["customerId"], c.id.to_string());
}

// learn.microsoft.com/graph/search-query-parameter (directory objects) and aad-advanced-queries.
#[tokio::test]
async fn search_needs_eventual_and_matches_word_prefixes() {
    let sim = crate::common::start_sim(1, Some(400)).await;
    let t = healthy(&sim, 0);
    let tok = crate::common::delegated_graph_token(&sim, &t);
    let f = &sim.sim.fleet;
    let (s, code, msg) = err(&sim, &tok, "/graph/v1.0/users?$search=\"displayName:a\"", &[]).await;
    assert_eq!((s, code.as_str()), (400, "Request_UnsupportedQuery"));
    assert_eq!(
        msg,
        "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'"
    );
    let sur = f.user(&t, 9).surname;
    let given = f.user(&t, 17).given_name;
    let term: String = sur.chars().take(3).collect();
    let q = format!("$search=\"displayName:{term}\" OR \"givenName:{given}\"&$count=true");
    let (got, first) = ids(&sim, &tok, &q, EVENTUAL).await;
    let tl = term.to_lowercase();
    let gl = given.to_lowercase();
    let want = users_where(&sim, &t, |u| {
        u.display_name
            .to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| w.starts_with(&tl))
            || u.given_name
                .to_lowercase()
                .split(|c: char| !c.is_alphanumeric())
                .any(|w| w.starts_with(&gl))
    });
    assert!(want.len() >= 2);
    assert_eq!(got, want);
    assert_eq!(first["@odata.count"], want.len());
    let (s, _, _) = err(&sim, &tok, "/graph/v1.0/users?$search=\"city:x\"", EVENTUAL).await;
    assert_eq!(s, 400);
    let (s, _, _) = err(&sim, &tok, "/graph/v1.0/users?$search=displayName:x", EVENTUAL).await;
    assert_eq!(s, 400);
}
