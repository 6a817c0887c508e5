//! Authentication and authorisation on Graph (learn.microsoft.com/graph/errors; 401
//! InvalidAuthenticationToken, 403 Authorization_RequestDenied).

#[allow(unused_imports)]
use crate::common::{get, get_json, healthy, keys, rel};

use reqwest::header::HeaderMap;
use tenantctl_sim::auth::{mint, TokenRequest, AUD_GRAPH, AUD_PARTNER_CENTER};
use tenantctl_sim::ids::Guid;
use tenantctl_sim::RunningSim;

fn token(sim: &RunningSim, tenant: Guid, audience: &str, delegated: bool, lifetime: i64) -> String {
    let f = &sim.sim.fleet;
    mint(
        &sim.sim.keys,
        &TokenRequest {
            tenant_id: tenant,
            audience,
            app_id: f.partner.client_id,
            user: delegated.then_some((f.partner.service_account_id, f.partner.service_account_upn.as_str())),
            lifetime_secs: lifetime,
        },
    )
}

async fn error_of(sim: &RunningSim, tok: &str, path: &str) -> (u16, String, String, HeaderMap) {
    let (s, h, v) = get_json(sim, tok, path, &[("client-request-id", "abc-123")]).await;
    (
        s,
        v["error"]["code"].as_str().unwrap_or("").to_owned(),
        v["error"]["message"].as_str().unwrap_or("").to_owned(),
        h,
    )
}

#[tokio::test]
async fn bad_tokens_get_401_invalid_authentication_token() {
    let sim = crate::common::start_sim(2, Some(5)).await;
    let t = healthy(&sim, 0);
    let good = crate::common::delegated_graph_token(&sim, &t);
    // No token at all.
    let resp = crate::common::client()
        .get(format!("{}/graph/v1.0/users", sim.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert!(resp.headers().contains_key("request-id"));
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["code"], "InvalidAuthenticationToken");
    assert_eq!(v["error"]["message"], "Access token is empty.");
    assert!(v["error"]["innerError"]["request-id"].is_string());

    // Altered signature.
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let sig = parts[2].clone().into_bytes();
    let mut sig2 = sig.clone();
    sig2[10] = if sig[10] == b'A' { b'B' } else { b'A' };
    parts[2] = String::from_utf8(sig2).unwrap();
    let altered = parts.join(".");
    let cases = [
        (altered, "Access token validation failure."),
        (
            token(&sim, t.id, AUD_GRAPH, true, -5),
            "Lifetime validation failed, the token is expired.",
        ),
        (
            token(&sim, t.id, AUD_PARTNER_CENTER, true, 3600),
            "Access token validation failure. Invalid audience.",
        ),
        (
            "not-a-jwt".to_owned(),
            "IDX14100: JWT is not well formed, there are no dots (.).",
        ),
    ];
    for (tok, msg) in cases {
        let (s, code, m, h) = error_of(&sim, &tok, "/graph/v1.0/users").await;
        assert_eq!((s, code.as_str(), m.as_str()), (401, "InvalidAuthenticationToken", msg));
        assert_eq!(h["client-request-id"], "abc-123");
    }
    // A well-signed token for a tenant the simulator does not know.
    let (s, code, _, _) = error_of(
        &sim,
        &token(&sim, Guid::from_parts(&[42, 42]), AUD_GRAPH, true, 3600),
        "/graph/v1.0/organization",
    )
    .await;
    assert_eq!((s, code.as_str()), (401, "InvalidAuthenticationToken"));
}

#[tokio::test]
async fn customer_tenants_without_gdap_or_consent_are_403() {
    let sim = crate::common::start_sim(3, Some(5)).await;
    let c = sim.sim.fleet.customers();
    let (expired, no_consent, fine) = (c[0].clone(), c[1].clone(), c[2].clone());
    {
        let mut o = sim.sim.trouble_overrides.write();
        o.insert(expired.idx, tenantctl_sim::fleet::Trouble::RelationshipExpired);
        o.insert(no_consent.idx, tenantctl_sim::fleet::Trouble::ConsentMissing);
        o.insert(fine.idx, tenantctl_sim::fleet::Trouble::None);
    }
    for (t, delegated, want) in [
        (&expired, true, 403),
        (&no_consent, true, 403),
        (&no_consent, false, 403),
        (&expired, false, 200), // app-only needs consent only
        (&fine, true, 200),
        (&fine, false, 200),
    ] {
        let tok = token(&sim, t.id, AUD_GRAPH, delegated, 3600);
        for path in [
            "/graph/v1.0/users",
            "/graph/v1.0/organization",
            "/graph/v1.0/domains",
            "/graph/v1.0/subscribedSkus",
        ] {
            let (s, code, msg, _) = error_of(&sim, &tok, path).await;
            assert_eq!(s, want, "{path} delegated={delegated} tenant={}", t.idx);
            if want == 403 {
                assert_eq!(code, "Authorization_RequestDenied");
                assert_eq!(msg, "Insufficient privileges to complete the operation.");
            }
        }
    }
}

#[tokio::test]
async fn partner_endpoints_need_the_partner_tenant_and_tenants_are_isolated() {
    let sim = crate::common::start_sim(2, Some(5)).await;
    let a = healthy(&sim, 0);
    let b = healthy(&sim, 1);
    let tok_a = crate::common::delegated_graph_token(&sim, &a);
    // Tenant B's user through tenant A's token: not found there.
    let ub = sim.sim.fleet.user(&b, 0);
    for key in [ub.id.to_string(), ub.user_principal_name.clone()] {
        let (s, code, _, _) = error_of(&sim, &tok_a, &format!("/graph/v1.0/users/{key}")).await;
        assert_eq!((s, code.as_str()), (404, "Request_ResourceNotFound"));
    }
    let (s, code, _, _) = error_of(
        &sim,
        &tok_a,
        "/graph/v1.0/tenantRelationships/delegatedAdminRelationships",
    )
    .await;
    assert_eq!((s, code.as_str()), (403, "Authorization_RequestDenied"));
    // Contracts exist only in partner tenants: an empty list elsewhere.
    let (s, _, v) = get_json(&sim, &tok_a, "/graph/v1.0/contracts", &[]).await;
    assert_eq!(s, 200);
    assert_eq!(v["value"].as_array().unwrap().len(), 0);
}
