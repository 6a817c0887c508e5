//! `/users`, `/users/{id}`, `/users/$count` and `/subscribedSkus` answer byte for byte what they
//! answered when users were rendered through a `serde_json::Value` each: every digest below was
//! taken from that implementation (status, `Content-Type`, `x-ms-resource-unit` and the body with
//! the origin replaced, over every page of a listing), on a fixed fleet and a manual clock, in a
//! tenant as generated and in one changed by writes (replaced, deleted, created and licensed
//! users: sparse listings, computed counts, disabled plans).

use crate::common::*;
use serde_json::{json, Value};
use tenantctl_sim::fleet::Tenant;
use tenantctl_sim::ids::Guid;
use tenantctl_sim::world::model::UserRecord;
use tenantctl_sim::{Clock, RunningSim, SimConfig};

fn fnv(h: &mut u64, bytes: &[u8]) {
    for b in bytes {
        *h ^= *b as u64;
        *h = h.wrapping_mul(0x100_0000_01b3);
    }
}

const EVENTUAL: &[(&str, &str)] = &[("ConsistencyLevel", "eventual")];

/// The digest of every page from `first` (at most `max_pages`), and the pages walked.
async fn walk(sim: &RunningSim, tok: &str, first: &str, eventual: bool, max_pages: usize) -> (u64, usize) {
    let extra = if eventual { EVENTUAL } else { &[] };
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut path = first.to_owned();
    let mut pages = 0;
    loop {
        let (s, headers, body) = get(sim, tok, &path, extra).await;
        let header = |n: &str| {
            headers
                .get(n)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        fnv(&mut h, s.to_string().as_bytes());
        fnv(&mut h, header("content-type").as_bytes());
        fnv(&mut h, header("x-ms-resource-unit").as_bytes());
        fnv(&mut h, body.replace(&sim.base_url, "BASE").as_bytes());
        pages += 1;
        let next = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v["@odata.nextLink"].as_str().map(str::to_owned));
        match next {
            Some(link) if pages < max_pages => path = rel(sim, &link),
            _ => break,
        }
    }
    (h, pages)
}

async fn sim() -> RunningSim {
    let mut c = SimConfig::new(1, 6);
    c.fleet.users_per_tenant = Some(1_200);
    c.fleet.anchor = ANCHOR;
    c.fleet.guests = true;
    c.throttle.enabled = false;
    c.clock = Clock::manual_at(ANCHOR + 86_400);
    start_with(c).await
}

/// The first two customers with guests and Entra ID P1 (sign-in activity), made healthy.
fn tenants(sim: &RunningSim) -> (Tenant, Tenant) {
    let picks: Vec<usize> = sim
        .sim
        .fleet
        .customers()
        .iter()
        .enumerate()
        .filter(|(_, t)| t.guest_count > 0 && sim.sim.world.tenant(t).has_entra_premium())
        .map(|(n, _)| n)
        .take(2)
        .collect();
    assert_eq!(picks.len(), 2, "two customers with guests and P1");
    (healthy(sim, picks[0]), healthy(sim, picks[1]))
}

const SEL: &str = "id,userPrincipalName,displayName,accountEnabled,usageLocation,createdDateTime,assignedLicenses";
const ALL: &str = "ID,displayName,id,businessPhones,mobilePhone,officeLocation,preferredLanguage,givenName,surname,\
jobTitle,mail,city,country,department,mailNickname,usageLocation,userType,creationType,externalUserState,\
externalUserStateChangeDateTime,createdDateTime,accountEnabled,assignedLicenses,userPrincipalName";
const GUEST_SEL: &str =
    "id,userPrincipalName,mail,creationType,externalUserState,externalUserStateChangeDateTime,assignedLicenses";

/// (path, ConsistencyLevel: eventual, pages walked at most) of the listings pinned.
fn listings() -> Vec<(String, bool, usize)> {
    let u = "/graph/v1.0/users";
    vec![
        (u.to_owned(), false, 100),
        (format!("{u}?$select={SEL}&$top=999"), false, 100),
        (format!("{u}?$top=999&$select={SEL}&$count=true"), true, 100),
        (format!("{u}?$select={ALL}&$top=500"), false, 100),
        (format!("{u}?$top=5&$count=true"), true, 3),
        (format!("{u}?$count=true&$top=3"), false, 2),
        (format!("{u}?$top=1"), false, 2),
        (format!("{u}?$filter=userType eq 'Guest'"), false, 100),
        (
            format!("{u}?$filter=userType eq 'Guest'&$select={GUEST_SEL}"),
            false,
            100,
        ),
        (
            format!("{u}?$filter=startswith(displayName,'A')&$select=id,displayName&$top=50"),
            false,
            100,
        ),
        (
            format!("{u}?$filter=accountEnabled eq false&$top=10&$count=true"),
            true,
            3,
        ),
        (format!("{u}?$orderby=displayName&$top=50"), false, 3),
        (
            format!("{u}?$search=\"displayName:an\"&$count=true&$select=id,displayName"),
            true,
            100,
        ),
        (format!("{u}?$select=id,signInActivity&$top=999"), false, 100),
        ("/graph/v1.0/subscribedSkus".to_owned(), false, 10),
        (
            "/graph/v1.0/subscribedSkus?$select=skuId,consumedUnits,servicePlans".to_owned(),
            false,
            10,
        ),
        ("/graph/v1.0/subscribedSkus?$top=1&$count=true".to_owned(), true, 10),
        (
            "/graph/v1.0/subscribedSkus?$top=2&$count=true&$select=id,prepaidUnits".to_owned(),
            false,
            10,
        ),
    ]
}

/// Single users: members, a guest, by id and by UPN, with and without `$select`; `$count`.
fn singles(sim: &RunningSim, t: &Tenant) -> Vec<(String, bool, usize)> {
    let w = sim.sim.world.tenant(t);
    let m0 = w.user_at(0).unwrap().user;
    let m7 = w.user_at(7).unwrap().user;
    let g0 = w.user_at(t.user_count as u64).unwrap().user;
    drop(w);
    assert_eq!(g0.user_type, "Guest");
    let u = "/graph/v1.0/users";
    vec![
        (format!("{u}/{}", m0.id), false, 1),
        (format!("{u}/{}", m0.user_principal_name.to_uppercase()), false, 1),
        (
            format!("{u}/{}?$select=displayName,id,assignedLicenses", m7.id),
            false,
            1,
        ),
        (format!("{u}/{}?$select={ALL}", m7.id), false, 1),
        (format!("{u}/{}", g0.id), false, 1),
        (format!("{u}/{}", g0.user_principal_name.replace('#', "%23")), false, 1),
        (
            format!(
                "{u}/{}?$select=creationType,externalUserState,externalUserStateChangeDateTime,userType",
                g0.id
            ),
            false,
            1,
        ),
        (format!("{u}/{}?$select=signInActivity,displayName", m7.id), false, 1),
        (format!("{u}/$count"), true, 1),
        (format!("{u}/$count?$filter=userType eq 'Guest'"), true, 1),
    ]
}

/// Writes in `t`: user 3 replaced, user 5 deleted, user 7 licensed with a disabled plan, one
/// user created with a fixed id. Returns the answer bodies of the writes that have one.
async fn write(sim: &RunningSim, tok: &str, t: &Tenant) -> Vec<String> {
    let w = sim.sim.world.tenant(t);
    let (u3, u5, u7) = (
        w.user_at(3).unwrap().user,
        w.user_at(5).unwrap().user,
        w.user_at(7).unwrap().user,
    );
    drop(w);
    let send = |method: reqwest::Method, path: String, body: Option<Value>| {
        let mut rb = client()
            .request(method, format!("{}/graph/v1.0/{path}", sim.base_url))
            .bearer_auth(tok);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        async move {
            let r = rb.send().await.unwrap();
            let s = r.status().as_u16();
            (s, r.text().await.unwrap())
        }
    };
    let patch = json!({"displayName": "Zoë \"Q\" O'Brien\u{1}", "city": null, "businessPhones": ["+1 555 0100", "x"]});
    let (s, b) = send(reqwest::Method::PATCH, format!("users/{}", u3.id), Some(patch)).await;
    assert_eq!(s, 204, "{b}");
    let (s, b) = send(reqwest::Method::DELETE, format!("users/{}", u5.id), None).await;
    assert_eq!(s, 204, "{b}");
    let skus = sim.sim.world.skus(t);
    let cat = tenantctl_sim::skus::Catalog::get();
    let sku = &cat.skus[skus[0].sku];
    let add = json!({
        "addLicenses": [{"skuId": sku.id.to_string(), "disabledPlans": [sku.plans[0].id.to_string()]}],
        "removeLicenses": [],
    });
    let (s, assigned) = send(
        reqwest::Method::POST,
        format!("users/{}/assignLicense", u7.id),
        Some(add),
    )
    .await;
    assert_eq!(s, 200, "{assigned}");
    let mut created = u3.clone();
    created.id = Guid::from_parts(&[42, 4242]);
    created.user_principal_name = format!("created@{}", t.initial_domain);
    created.mail_nickname = "created".into();
    sim.sim.world.create_user(t, created).expect("created");
    vec![assigned]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_and_skus_answer_the_bytes_they_answered() {
    let sim = sim().await;
    let (a, b) = tenants(&sim);
    let (ta, tb) = (delegated_graph_token(&sim, &a), delegated_graph_token(&sim, &b));
    let mut got = vec![];
    let mut queries = listings();
    queries.extend(singles(&sim, &a));
    for (path, eventual, max) in &queries {
        let (h, pages) = walk(&sim, &ta, path, *eventual, *max).await;
        got.push((format!("A {path}"), h, pages));
    }
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for body in write(&sim, &tb, &b).await {
        fnv(&mut h, body.as_bytes());
    }
    got.push(("B writes".to_owned(), h, 1));
    let mut queries = listings();
    queries.extend(singles(&sim, &b));
    let w = sim.sim.world.tenant(&b);
    let changed: Vec<UserRecord> = [3u64, 7, b.generated_users()]
        .iter()
        .map(|&i| w.user_at(i).unwrap().user)
        .collect();
    drop(w);
    for u in &changed {
        queries.push((format!("/graph/v1.0/users/{}", u.id), false, 1));
        queries.push((format!("/graph/v1.0/users/{}?$select={ALL}", u.id), false, 1));
    }
    for (path, eventual, max) in &queries {
        let (h, pages) = walk(&sim, &tb, path, *eventual, *max).await;
        got.push((format!("B {path}"), h, pages));
    }
    let mut failures = vec![];
    for (n, (what, h, pages)) in got.iter().enumerate() {
        println!("{n:2} {h:#018x} {pages:3} {what}");
        match WANT.get(n) {
            Some(&want) if want == *h => {}
            want => failures.push(format!("{n} {what}: {h:#018x}, was {want:x?}")),
        }
    }
    assert_eq!(got.len(), WANT.len(), "queries pinned");
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The digests, in the order of the queries above, from the former implementation.
const WANT: &[u64] = &[
    0x3b870ca03e148f2d,
    0x1810e1f938934b25,
    0xbdb541e467708916,
    0x5c32b50626ac5732,
    0x3a1d1a6c0b679eab,
    0x1de21a2580ce0ac2,
    0x84da17a87efb40f2,
    0xd9217567bb9d7141,
    0xc2bab48082e4ad62,
    0x311778130eeebe19,
    0xef63652a6fae4a78,
    0x083f6abaf6fc5a9b,
    0x4c38c9901cc8e294,
    0x1b95adf45df67bc2,
    0x9848326f4f03424c,
    0xe9d24225aa417d33,
    0xb142dca5d7b9d70c,
    0x71ba5be389d3557b,
    0x4de6115de8d191ba,
    0x4de6115de8d191ba,
    0x4a5e95b8c23a0c59,
    0x16ac131be2a98e71,
    0x1387466687816e89,
    0x1387466687816e89,
    0xef5de109cb68b667,
    0x170e6122dc3e5106,
    0x17ff5fac7160f669,
    0xef925176d7dae2fc,
    0x8d7ebe835db1fb4e,
    0xfb5799c9bf207b76,
    0x451b737be39130db,
    0x89422980b1b32b2d,
    0xba5bd557770de68f,
    0x296258ce35aceb27,
    0x15826b4aa2254c40,
    0x99fdbc55867f8655,
    0x15acaa13216b8c99,
    0x71b9de11483b3abb,
    0x3e5ef2a891266d99,
    0xb7f18407eedc2b75,
    0xd26d81faad7adb10,
    0x72f85f4b273c202c,
    0x59ac99bbfc348d66,
    0xb9e7d261fbfa4554,
    0xe1b759259c09aed0,
    0xfc777faaf5c2dc14,
    0x1644e464363921d4,
    0x972688df95a23aa0,
    0x972688df95a23aa0,
    0x7ccaa7e683f80b42,
    0xc2b1a9764b5f0240,
    0xdc3412bcdae49d19,
    0xdc3412bcdae49d19,
    0xf393f0539d6a7c97,
    0x1dff76817f72a3f6,
    0x17ff5dac7160f303,
    0xef925376d7dae662,
    0xa1e84235ee37b10d,
    0xc0a7d307d0e3bb9e,
    0x6734b1cfaf6415ec,
    0xc2b1a9764b5f0240,
    0x89c8eb8bb96f723b,
    0xb2ddf2609580206b,
];
