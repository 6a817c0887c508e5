//! `@odata.nextLink` paging over virtual users and GDAP collections (learn.microsoft.com/graph/paging).

#[allow(unused_imports)]
use crate::common::{get, get_json, healthy, keys, rel};

use std::collections::HashSet;
use tenantctl_sim::fleet::Tenant;
use tenantctl_sim::RunningSim;

/// Follows nextLinks from `first` and returns every id in order, checking each page's size.
async fn walk(sim: &RunningSim, tok: &str, first: &str, top: usize, extra: &[(&str, &str)]) -> Vec<String> {
    let mut ids = Vec::new();
    let mut path = first.to_owned();
    loop {
        let (s, _, v) = get_json(sim, tok, &path, extra).await;
        assert_eq!(s, 200, "{path}: {v}");
        let page = v["value"].as_array().unwrap();
        ids.extend(page.iter().map(|u| u["id"].as_str().unwrap().to_owned()));
        match v.get("@odata.nextLink").and_then(|l| l.as_str()) {
            Some(link) => {
                assert_eq!(page.len(), top, "only the last page may be short");
                assert!(link.contains("$skiptoken="));
                path = rel(sim, link);
            }
            None => break,
        }
    }
    ids
}

fn all_ids(sim: &RunningSim, t: &Tenant) -> Vec<String> {
    (0..t.user_count)
        .map(|i| sim.sim.fleet.user(t, i).id.to_string())
        .collect()
}

// learn.microsoft.com/graph/api/user-list: $top 1..999, default page 100.
#[tokio::test]
async fn users_page_to_the_end_with_top_100_999_and_the_default() {
    let sim = crate::common::start_sim(1, Some(1_200)).await;
    let t = healthy(&sim, 0);
    let tok = crate::common::delegated_graph_token(&sim, &t);
    let want = all_ids(&sim, &t);
    for (q, top) in [("$top=100", 100), ("$top=999", 999), ("$select=id", 100)] {
        let got = walk(&sim, &tok, &format!("/graph/v1.0/users?{q}"), top, &[]).await;
        assert_eq!(got.len(), want.len(), "{q}");
        assert_eq!(got.iter().collect::<HashSet<_>>().len(), got.len(), "no repeats ({q})");
        assert_eq!(got, want, "{q}");
    }
}

#[tokio::test]
async fn users_page_one_at_a_time() {
    let sim = crate::common::start_sim(1, Some(60)).await;
    let t = healthy(&sim, 0);
    let tok = crate::common::delegated_graph_token(&sim, &t);
    let got = walk(&sim, &tok, "/graph/v1.0/users?$top=1", 1, &[]).await;
    assert_eq!(got, all_ids(&sim, &t));
}

#[tokio::test]
async fn next_links_keep_the_query_options_and_skiptokens_are_checked() {
    let sim = crate::common::start_sim(1, Some(300)).await;
    let t = healthy(&sim, 0);
    let tok = crate::common::delegated_graph_token(&sim, &t);
    let (s, _, v) = get_json(
        &sim,
        &tok,
        "/graph/v1.0/users?$select=id,accountEnabled&$filter=accountEnabled eq true&$top=10",
        &[],
    )
    .await;
    assert_eq!(s, 200);
    let link = v["@odata.nextLink"].as_str().unwrap();
    assert!(
        link.starts_with(&format!("{}/graph/v1.0/users?", sim.base_url)),
        "{link}"
    );
    assert!(link.contains("$select=id,accountEnabled") && link.contains("$filter=accountEnabled%20eq%20true"));
    // Every page keeps the filter and the selection.
    let mut n = 0;
    let mut path = rel(&sim, link);
    loop {
        let (s, _, v) = get_json(&sim, &tok, &path, &[]).await;
        assert_eq!(s, 200);
        for u in v["value"].as_array().unwrap() {
            assert_eq!(keys(u), ["id", "accountEnabled"]);
            assert_eq!(u["accountEnabled"], true);
            n += 1;
        }
        match v["@odata.nextLink"].as_str() {
            Some(l) => path = rel(&sim, l),
            None => break,
        }
    }
    let enabled = (0..t.user_count)
        .filter(|&i| sim.sim.fleet.user(&t, i).account_enabled)
        .count();
    assert_eq!(n + 10, enabled);
    // A token replayed with other options, or altered, is refused.
    let token = link.split("$skiptoken=").nth(1).unwrap();
    let (s, _, e) = get_json(
        &sim,
        &tok,
        &format!("/graph/v1.0/users?$top=10&$skiptoken={token}"),
        &[],
    )
    .await;
    assert_eq!((s, e["error"]["code"].as_str()), (400, Some("Request_BadRequest")));
    let (s, _, _) = get_json(&sim, &tok, "/graph/v1.0/users?$skiptoken=AAAA", &[]).await;
    assert_eq!(s, 400);
}

// learn.microsoft.com/graph/api/tenantrelationship-list-delegatedadminrelationships: $top <= 300.
#[tokio::test]
async fn gdap_relationships_page_with_top() {
    let sim = crate::common::start_sim(12, Some(3)).await;
    let tok = crate::common::delegated_graph_token(&sim, sim.sim.fleet.partner_tenant());
    let want: Vec<String> = sim
        .sim
        .fleet
        .customers()
        .iter()
        .flat_map(|t| sim.sim.relationships(t).into_iter().map(|r| r.id))
        .collect();
    let got = walk(
        &sim,
        &tok,
        "/graph/v1.0/tenantRelationships/delegatedAdminRelationships?$top=2",
        2,
        &[],
    )
    .await;
    assert_eq!(got, want);
    let (s, _, e) = get_json(
        &sim,
        &tok,
        "/graph/v1.0/tenantRelationships/delegatedAdminRelationships?$top=301",
        &[],
    )
    .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (400, Some("Request_UnsupportedQuery"))
    );
}

#[tokio::test]
async fn two_sims_with_one_seed_list_identical_users() {
    let a = crate::common::start_sim(2, Some(150)).await;
    let b = crate::common::start_sim(2, Some(150)).await;
    let mut bodies = Vec::new();
    for sim in [&a, &b] {
        let t = healthy(sim, 1);
        let tok = crate::common::delegated_graph_token(sim, &t);
        let sel =
            "$select=id,displayName,userPrincipalName,accountEnabled,assignedLicenses,createdDateTime,usageLocation";
        let (s, _, body) = get(sim, &tok, &format!("/graph/v1.0/users?$top=999&{sel}"), &[]).await;
        assert_eq!(s, 200);
        let (_, _, dflt) = get(sim, &tok, "/graph/v1.0/users?$top=999", &[]).await;
        bodies.push((body, dflt));
    }
    assert_eq!(bodies[0], bodies[1]);
}
