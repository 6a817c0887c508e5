//! The partner-side listings at 10,000 tenants (`/contracts`, `delegatedAdminRelationships`,
//! `delegatedAdminCustomers`, Partner Center `/v1/customers`): pages seek into indexes built
//! once (`fleet::Listings`) instead of rendering the whole fleet per page. These tests prove the
//! pages did not change: every page body, byte for byte, hashes to what the former
//! implementation (the whole listing rendered, then cut) answered, with run-time trouble and
//! Global Administrator overrides in place; and the entities listed equal a straightforward
//! reference built here from the fleet. (What a page costs is measured by `benches/sim_bench.rs`, not here.)

use crate::common::*;
use serde_json::Value;
use tenantctl_sim::fleet::Trouble;
use tenantctl_sim::{RunningSim, SimConfig};

const TENANTS: u32 = 10_000;

async fn big_sim() -> RunningSim {
    let mut c = SimConfig::new(1, TENANTS);
    c.fleet.anchor = ANCHOR;
    // Users are virtual, but the start counts licences over every one: keep tenants small.
    c.fleet.users_per_tenant = Some(2);
    c.throttle.enabled = false;
    let sim = start_with(c).await;
    let cs = sim.sim.fleet.customers();
    let mut tr = sim.sim.trouble_overrides.write();
    for (i, t) in [
        (0, Trouble::RelationshipExpired),
        (3, Trouble::None),
        (41, Trouble::ReadOnlyRoles),
        (777, Trouble::ConsentMissing),
        (5_000, Trouble::RelationshipExpired),
        (9_999, Trouble::None),
    ] {
        tr.insert(cs[i].idx, t);
    }
    // Every generated-expired customer among the first 300 made healthy, so that
    // delegatedAdminCustomers gains tenants as well as losing some.
    for t in cs.iter().take(300).filter(|t| !t.has_active_relationship()) {
        tr.insert(t.idx, Trouble::None);
    }
    drop(tr);
    let mut ga = sim.sim.global_admin_overrides.write();
    ga.insert(cs[1].idx, true);
    ga.insert(cs[2].idx, false);
    ga.insert(cs[8_000].idx, true);
    drop(ga);
    sim
}

async fn partner_token(sim: &RunningSim, scope: &str) -> String {
    let (s, b) = sam_token(sim, &sim.sim.fleet.partner_tenant().id.to_string(), scope).await;
    assert_eq!(s, 200, "{b}");
    b["access_token"].as_str().unwrap().to_owned()
}

fn fnv(h: &mut u64, bytes: &[u8]) {
    for b in bytes {
        *h ^= *b as u64;
        *h = h.wrapping_mul(0x100_0000_01b3);
    }
}

/// Every page of a Graph listing from `first`: (digest of the bodies with the origin
/// replaced, the entities in order, the pages).
async fn graph_walk(sim: &RunningSim, tok: &str, first: &str, max_pages: usize) -> (u64, Vec<Value>, usize) {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut items = vec![];
    let mut path = first.to_owned();
    let mut pages = 0;
    loop {
        let (s, _, body) = get(sim, tok, &path, &[]).await;
        assert_eq!(s, 200, "{path}: {body}");
        fnv(&mut h, body.replace(&sim.base_url, "BASE").as_bytes());
        let v: Value = serde_json::from_str(&body).unwrap();
        items.extend(v["value"].as_array().unwrap().iter().cloned());
        pages += 1;
        match v["@odata.nextLink"].as_str() {
            Some(link) if pages < max_pages => path = rel(sim, link),
            _ => break,
        }
    }
    (h, items, pages)
}

async fn pc_walk(sim: &RunningSim, tok: &str, size: usize, max_pages: usize) -> (u64, Vec<Value>) {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut items = vec![];
    let mut cont: Option<String> = None;
    let mut path = format!("/customers?size={size}");
    for _ in 0..max_pages {
        let mut rb = client()
            .get(format!("{}/partnercenter/v1{path}", sim.base_url))
            .bearer_auth(tok);
        if let Some(c) = &cont {
            rb = rb.header("MS-ContinuationToken", c);
        }
        let r = rb.send().await.unwrap();
        assert_eq!(r.status(), 200);
        let body = r.text().await.unwrap();
        fnv(&mut h, body.as_bytes());
        let v: Value = serde_json::from_str(&body).unwrap();
        items.extend(v["items"].as_array().unwrap().iter().cloned());
        match v["links"].get("next") {
            Some(next) => {
                path = next["uri"].as_str().unwrap().trim_start_matches("/v1").to_owned();
                cont = Some(v["continuationToken"].as_str().unwrap().to_owned());
            }
            None => break,
        }
    }
    (h, items)
}

/// (query, pages walked at most, digest of the former implementation's pages).
const RELATIONSHIPS: &[(&str, usize, u64)] = &[
    ("", 1_000, 0x6ee464837615a5d3),
    ("?$top=300&$count=true", 1_000, 0xa86b0ee7e540502b),
    ("?$top=100&$select=id,status,customer", 1_000, 0xbad3bf351f288ffa),
    ("?$top=7", 6, 0xf0c6909bc1f7a08f),
    ("?$filter=status eq 'active'&$top=250", 1_000, 0x1511011d9e509027),
    ("?$orderby=displayName&$top=300", 3, 0xc774bf37cb6c26bc),
];
const CONTRACTS: &[(&str, usize, u64)] = &[
    ("?$top=999", 1_000, 0x828b764b379a7245),
    ("", 1_000, 0xe36ce2081790fdda),
    ("?$top=999&$select=customerId,displayName", 1_000, 0x09f2916ccae81247),
    ("?$filter=startswith(displayName,'A')", 1_000, 0xeedb5a26e1b95176),
];
const GDAP_CUSTOMERS: &[(&str, usize, u64)] = &[
    ("", 1_000, 0x445e900e11a5f442),
    ("?$top=13", 8, 0xb2376b01ab2cdc58),
    ("?$filter=startswith(displayName,'B')", 1_000, 0x4d87c5b4da495c85),
];
const PC_CUSTOMERS: &[(usize, usize, u64)] = &[(500, 1_000, 0x86073dfaae190e28), (7, 5, 0x00b60baa233d9c46)];

fn check(what: &str, got: u64, want: u64, failures: &mut Vec<String>) {
    println!("{what}: {got:#018x}");
    if got != want {
        failures.push(format!("{what}: pages hash to {got:#018x}, were {want:#018x}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_pages_at_10000_tenants_are_what_they_were() {
    let sim = big_sim().await;
    let graph = partner_token(&sim, "https://graph.microsoft.com/.default").await;
    let pc = partner_token(&sim, "https://api.partnercenter.microsoft.com/user_impersonation").await;
    let mut failures = vec![];
    let base = "/graph/v1.0/tenantRelationships/delegatedAdminRelationships";
    for (q, max, want) in RELATIONSHIPS {
        let (h, _, _) = graph_walk(&sim, &graph, &format!("{base}{q}"), *max).await;
        check(&format!("relationships {q:?}"), h, *want, &mut failures);
    }
    for (q, max, want) in CONTRACTS {
        let (h, _, _) = graph_walk(&sim, &graph, &format!("/graph/v1.0/contracts{q}"), *max).await;
        check(&format!("contracts {q:?}"), h, *want, &mut failures);
    }
    let gc = "/graph/v1.0/tenantRelationships/delegatedAdminCustomers";
    for (q, max, want) in GDAP_CUSTOMERS {
        let (h, _, _) = graph_walk(&sim, &graph, &format!("{gc}{q}"), *max).await;
        check(&format!("delegatedAdminCustomers {q:?}"), h, *want, &mut failures);
    }
    for (size, max, want) in PC_CUSTOMERS {
        let (h, _) = pc_walk(&sim, &pc, *size, *max).await;
        check(
            &format!("partner center customers size={size}"),
            h,
            *want,
            &mut failures,
        );
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_at_10000_tenants_equal_a_reference_built_from_the_fleet() {
    let sim = big_sim().await;
    let s = &sim.sim;
    let graph = partner_token(&sim, "https://graph.microsoft.com/.default").await;
    let pc = partner_token(&sim, "https://api.partnercenter.microsoft.com/user_impersonation").await;
    let customers = s.fleet.customers();

    // Relationships: every customer's relationships as they are now, customers in fleet order.
    let want: Vec<(String, String, String)> = customers
        .iter()
        .flat_map(|t| {
            s.relationships(t)
                .into_iter()
                .map(|r| (r.id, r.status.to_owned(), t.id.to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    let base = "/graph/v1.0/tenantRelationships/delegatedAdminRelationships";
    let (_, got, pages) = graph_walk(&sim, &graph, &format!("{base}?$top=300"), usize::MAX).await;
    assert_eq!(pages, want.len().div_ceil(300));
    let got: Vec<(String, String, String)> = got
        .iter()
        .map(|v| {
            (
                v["id"].as_str().unwrap().to_owned(),
                v["status"].as_str().unwrap().to_owned(),
                v["customer"]["tenantId"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(got, want);
    let active: Vec<_> = want.iter().filter(|w| w.1 == "active").cloned().collect();
    let (_, got, _) = graph_walk(&sim, &graph, &format!("{base}?$filter=status eq 'active'"), usize::MAX).await;
    assert_eq!(got.len(), active.len());
    assert!(got.iter().zip(&active).all(|(v, w)| v["id"] == w.0.as_str()));

    // One relationship and its assignments by id, found through the index.
    for w in [&want[0], &want[want.len() / 2], &want[want.len() - 1]] {
        let (st, _, v) = get_json(&sim, &graph, &format!("{base}/{}", w.0.to_uppercase()), &[]).await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["id"], w.0.as_str());
        assert_eq!(v["status"], w.1.as_str());
        let (st, _, v) = get_json(&sim, &graph, &format!("{base}/{}/accessAssignments", w.0), &[]).await;
        assert_eq!(st, 200, "{v}");
    }

    // Contracts and Partner Center customers: the customers with a contract, in fleet order.
    let with_contract: Vec<String> = customers
        .iter()
        .filter(|t| t.contract.is_some())
        .map(|t| t.id.to_string())
        .collect();
    let (_, got, _) = graph_walk(&sim, &graph, "/graph/v1.0/contracts?$top=999", usize::MAX).await;
    let got: Vec<&str> = got.iter().map(|v| v["customerId"].as_str().unwrap()).collect();
    assert_eq!(got, with_contract);
    let (_, got) = pc_walk(&sim, &pc, 500, usize::MAX).await;
    let got: Vec<&str> = got.iter().map(|v| v["id"].as_str().unwrap()).collect();
    assert_eq!(got, with_contract);

    // delegatedAdminCustomers: customers with an active relationship now.
    let active_customers: Vec<String> = customers
        .iter()
        .filter(|t| s.relationships(t).iter().any(|r| r.status == "active"))
        .map(|t| t.id.to_string())
        .collect();
    let gc = "/graph/v1.0/tenantRelationships/delegatedAdminCustomers";
    let (_, got, _) = graph_walk(&sim, &graph, gc, usize::MAX).await;
    let got: Vec<&str> = got.iter().map(|v| v["tenantId"].as_str().unwrap()).collect();
    assert_eq!(got, active_customers);
    let (_, _, v) = get_json(&sim, &graph, &format!("{gc}?$count=true"), &[]).await;
    assert_eq!(v["@odata.count"], active_customers.len());
}
