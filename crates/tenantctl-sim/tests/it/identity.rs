//! The identity platform as a CSP partner's tool meets it: the token endpoint's grants and
//! errors, device code sign-in, discovery and signing keys. Contracts from
//! learn.microsoft.com/entra/identity-platform: v2-oauth2-client-creds-grant-flow,
//! v2-oauth2-auth-code-flow (refresh), v2-oauth2-device-code, reference-error-codes.

use crate::common::*;
use serde_json::Value;
use tenantctl_sim::fleet::{Tenant, Trouble};

const GRAPH: &str = "https://graph.microsoft.com/.default";

fn healthy(sim: &tenantctl_sim::RunningSim) -> &Tenant {
    sim.sim
        .fleet
        .customers()
        .iter()
        .find(|t| t.trouble == Trouble::None)
        .expect("a healthy customer")
}

/// Every error is the identity platform's: `error`, an `error_description` starting with the
/// AADSTS code, `error_codes`, `timestamp`, `trace_id`, `correlation_id`.
fn assert_aad_error(body: &Value, error: &str, code: u32) {
    assert_eq!(body["error"], error, "{body}");
    let desc = body["error_description"].as_str().unwrap();
    assert!(desc.starts_with(&format!("AADSTS{code}: ")), "{desc}");
    assert!(
        desc.contains("\r\nTrace ID: ") && desc.contains("\r\nCorrelation ID: "),
        "{desc}"
    );
    assert_eq!(body["error_codes"], serde_json::json!([code]));
    for k in ["timestamp", "trace_id", "correlation_id"] {
        assert!(body[k].as_str().is_some_and(|s| !s.is_empty()), "{k} in {body}");
    }
}

#[tokio::test]
async fn client_credentials_issue_an_rs256_app_token_verifiable_with_the_published_jwks() {
    let sim = start_sim(3, Some(5)).await;
    let p = &sim.sim.fleet.partner;
    let partner = sim.sim.fleet.partner_tenant();
    let (status, body) = post_login(
        &sim,
        &partner.id.to_string(),
        "token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &p.client_id.to_string()),
            ("client_secret", &p.client_secret),
            ("scope", GRAPH),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert!(
        body.get("refresh_token").is_none(),
        "no refresh token for client credentials"
    );
    let at = body["access_token"].as_str().unwrap();
    let c = jwt_claims(at);
    assert_eq!(c["tid"], partner.id.to_string());
    assert_eq!(c["aud"], "https://graph.microsoft.com");
    assert_eq!(c["appid"], p.client_id.to_string());
    assert_eq!(c["idtyp"], "app");
    assert!(c["roles"].as_array().is_some_and(|r| !r.is_empty()));
    assert!(c.get("scp").is_none());
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 3599);

    // Discovery points at the keys; the token verifies against them.
    let cfg: Value = client()
        .get(format!(
            "{}/login/{}/v2.0/.well-known/openid-configuration",
            sim.base_url, partner.id
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(cfg["token_endpoint"].as_str().unwrap().ends_with("/oauth2/v2.0/token"));
    // The issuer lives on the simulator's origin (here through the `/login` alias), as the ID
    // tokens' `iss` does: MSAL checks that the issuer matches the authority's host.
    assert_eq!(cfg["issuer"], format!("{}/login/{}/v2.0", sim.base_url, partner.id));
    let jwks: Value = client()
        .get(cfg["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    let header = jsonwebtoken::decode_header(at).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    assert_eq!(header.kid.as_deref(), key["kid"].as_str());
    let dk =
        jsonwebtoken::DecodingKey::from_rsa_components(key["n"].as_str().unwrap(), key["e"].as_str().unwrap()).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&["https://graph.microsoft.com"]);
    jsonwebtoken::decode::<Value>(at, &dk, &v).expect("token verifies with the JWKS key");
}

#[tokio::test]
async fn client_secret_may_come_as_http_basic_auth() {
    let sim = start_sim(2, Some(5)).await;
    let p = &sim.sim.fleet.partner;
    let r = client()
        .post(format!(
            "{}/login/{}/oauth2/v2.0/token",
            sim.base_url,
            sim.sim.fleet.partner_tenant().initial_domain
        ))
        .basic_auth(p.client_id.to_string(), Some(&p.client_secret))
        .form(&[("grant_type", "client_credentials"), ("scope", GRAPH)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn token_errors_are_entra_errors() {
    let sim = start_sim(2, Some(5)).await;
    let p = &sim.sim.fleet.partner;
    let partner = sim.sim.fleet.partner_tenant().id.to_string();
    let cid = p.client_id.to_string();

    // AADSTS7000215: wrong secret, 401 invalid_client.
    let (s, b) = post_login(
        &sim,
        &partner,
        "token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &cid),
            ("client_secret", "not-the-secret"),
            ("scope", GRAPH),
        ],
    )
    .await;
    assert_eq!(s, 401);
    assert_aad_error(&b, "invalid_client", 7000215);
    assert!(!b.to_string().contains(&p.client_secret), "the secret is never echoed");

    // AADSTS90002: unknown tenant (GUID or domain).
    for t in ["00000000-1111-2222-3333-444444444444", "nosuch.onmicrosoft.com"] {
        let (s, b) = post_login(
            &sim,
            t,
            "token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &cid),
                ("client_secret", &p.client_secret),
                ("scope", GRAPH),
            ],
        )
        .await;
        assert_eq!(s, 400);
        assert_aad_error(&b, "invalid_request", 90002);
        assert!(b["error_description"].as_str().unwrap().contains(t));
    }

    // AADSTS700016: app unknown.
    let (s, b) = post_login(
        &sim,
        &partner,
        "token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "11111111-2222-3333-4444-555555555555"),
            ("client_secret", "x"),
            ("scope", GRAPH),
        ],
    )
    .await;
    assert_eq!(s, 400);
    assert_aad_error(&b, "unauthorized_client", 700016);

    // AADSTS900144: a required parameter missing; AADSTS70003: unknown grant.
    let (s, b) = post_login(&sim, &partner, "token", &[("client_id", &cid)]).await;
    assert_eq!(s, 400);
    assert_aad_error(&b, "invalid_request", 900144);
    assert!(b["error_description"].as_str().unwrap().contains("'grant_type'"));
    let (s, b) = post_login(
        &sim,
        &partner,
        "token",
        &[("grant_type", "password"), ("client_id", &cid)],
    )
    .await;
    assert_eq!(s, 400);
    assert_aad_error(&b, "unsupported_grant_type", 70003);

    // AADSTS1002012: client credentials need `<resource>/.default`.
    let (s, b) = post_login(
        &sim,
        &partner,
        "token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &cid),
            ("client_secret", &p.client_secret),
            ("scope", "https://graph.microsoft.com/User.Read"),
        ],
    )
    .await;
    assert_eq!(s, 400);
    assert_aad_error(&b, "invalid_scope", 1002012);

    // AADSTS9001023: client credentials over /common.
    let (s, b) = post_login(
        &sim,
        "common",
        "token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &cid),
            ("client_secret", &p.client_secret),
            ("scope", GRAPH),
        ],
    )
    .await;
    assert_eq!(s, 400);
    assert_aad_error(&b, "invalid_request", 9001023);
}

#[tokio::test]
async fn refresh_grant_reaches_a_customer_under_gdap_and_rotates_the_refresh_token() {
    let sim = start_sim(6, Some(5)).await;
    let t = healthy(&sim);
    let p = &sim.sim.fleet.partner;
    let (s, b) = sam_token(&sim, &t.id.to_string(), GRAPH).await;
    assert_eq!(s, 200, "{b}");
    let c = jwt_claims(b["access_token"].as_str().unwrap());
    assert_eq!(c["tid"], t.id.to_string(), "the authority decides the tenant");
    assert_eq!(c["idtyp"], "user");
    assert_eq!(c["upn"], p.service_account_upn);
    assert!(c["scp"].as_str().unwrap().contains("Directory.ReadWrite.All"));
    assert!(b["scope"].as_str().unwrap().starts_with("https://graph.microsoft.com/"));
    let rotated = b["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rotated, p.initial_refresh_token);

    // The new token works; the old one is not revoked by use (the refresh section of the doc).
    let cid = p.client_id.to_string();
    for rt in [rotated.as_str(), p.initial_refresh_token.as_str()] {
        let (s, _) = post_login(
            &sim,
            &t.initial_domain,
            "token",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", &cid),
                ("client_secret", &p.client_secret),
                ("refresh_token", rt),
                ("scope", "https://outlook.office365.com/.default"),
            ],
        )
        .await;
        assert_eq!(s, 200);
    }

    // One resource per token: each scope yields its audience.
    for (scope, aud) in [
        (
            "https://outlook.office365.com/.default",
            "https://outlook.office365.com",
        ),
        (
            "https://api.partnercenter.microsoft.com/user_impersonation",
            "https://api.partnercenter.microsoft.com",
        ),
        (
            "offline_access https://graph.microsoft.com/.default",
            "https://graph.microsoft.com",
        ),
    ] {
        let (s, b) = sam_token(&sim, &sim.sim.fleet.partner_tenant().id.to_string(), scope).await;
        assert_eq!(s, 200, "{scope}: {b}");
        assert_eq!(jwt_claims(b["access_token"].as_str().unwrap())["aud"], aud);
    }
}

#[tokio::test]
async fn customers_in_trouble_get_the_errors_entra_gives() {
    let sim = start_sim(6, Some(5)).await;
    let f = &sim.sim.fleet;
    let (a, b, c) = (&f.customers()[0], &f.customers()[1], &f.customers()[2]);
    sim.sim
        .trouble_overrides
        .write()
        .insert(a.idx, Trouble::RelationshipExpired);
    sim.sim.trouble_overrides.write().insert(b.idx, Trouble::ConsentMissing);
    sim.sim.trouble_overrides.write().insert(c.idx, Trouble::ReadOnlyRoles);

    let (s, body) = sam_token(&sim, &a.id.to_string(), GRAPH).await;
    assert_eq!(s, 400);
    assert_aad_error(&body, "invalid_grant", 50020);
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains(&f.partner.service_account_upn));

    let (s, body) = sam_token(&sim, &b.id.to_string(), GRAPH).await;
    assert_eq!(s, 400);
    assert_aad_error(&body, "invalid_grant", 65001);

    // App-only into the customer without consent: the app does not exist there.
    let (s, body) = post_login(
        &sim,
        &b.id.to_string(),
        "token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &f.partner.client_id.to_string()),
            ("client_secret", &f.partner.client_secret),
            ("scope", GRAPH),
        ],
    )
    .await;
    assert_eq!(s, 400);
    assert_aad_error(&body, "unauthorized_client", 700016);

    // Read-only roles still get a token: the resource refuses writes, not the identity platform.
    let (s, _) = sam_token(&sim, &c.id.to_string(), GRAPH).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn revoked_expired_and_unknown_refresh_tokens_fail() {
    let sim = start_sim(2, Some(5)).await;
    let partner = sim.sim.fleet.partner_tenant().id.to_string();
    let p = &sim.sim.fleet.partner;
    let cid = p.client_id.to_string();
    let (s, b) = post_login(
        &sim,
        &partner,
        "token",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &cid),
            ("refresh_token", "1.sim.garbage"),
            ("scope", GRAPH),
        ],
    )
    .await;
    assert_eq!(s, 400);
    assert_aad_error(&b, "invalid_grant", 9002313);

    let ctl = |path: &'static str| {
        let url = format!("{}/_sim/identity/refresh-tokens/{path}", sim.base_url);
        async move { client().post(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(ctl("expire").await, 204);
    let (s, b) = sam_token(&sim, &partner, GRAPH).await;
    assert_eq!(s, 400);
    assert_aad_error(&b, "invalid_grant", 700082);

    assert_eq!(
        client()
            .post(format!("{}/_sim/reset", sim.base_url))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(sam_token(&sim, &partner, GRAPH).await.0, 200);
    assert_eq!(ctl("revoke").await, 204);
    let (s, b) = sam_token(&sim, &partner, GRAPH).await;
    assert_eq!(s, 400);
    assert_aad_error(&b, "invalid_grant", 50173);
}

#[tokio::test]
async fn device_code_sign_in_pends_until_approved_then_yields_a_refresh_token_once() {
    let sim = start_sim(2, Some(5)).await;
    let p = &sim.sim.fleet.partner;
    let cid = p.client_id.to_string();
    let (s, dc) = post_login(
        &sim,
        "organizations",
        "devicecode",
        &[
            ("client_id", &cid),
            ("scope", "offline_access https://graph.microsoft.com/.default"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{dc}");
    for k in ["user_code", "device_code", "verification_uri", "message"] {
        assert!(dc[k].as_str().is_some_and(|v| !v.is_empty()), "{k}");
    }
    assert_eq!(dc["expires_in"], 900);
    assert_eq!(dc["interval"], 5);
    assert!(dc.get("verification_uri_complete").is_none());
    let user_code = dc["user_code"].as_str().unwrap();
    assert!(dc["message"].as_str().unwrap().contains(user_code));
    let device_code = dc["device_code"].as_str().unwrap();
    let poll = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("client_id", cid.as_str()),
        ("device_code", device_code),
    ];
    let (s, b) = post_login(&sim, "organizations", "token", &poll).await;
    assert_eq!(s, 400);
    assert_aad_error(&b, "authorization_pending", 70016);

    let pending: Value = client()
        .get(format!("{}/_sim/identity/device", sim.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pending["user_codes"], serde_json::json!([user_code]));
    let r = client()
        .post(format!("{}/_sim/identity/device/approve", sim.base_url))
        .json(&serde_json::json!({ "user_code": user_code }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);

    let (s, b) = post_login(&sim, "organizations", "token", &poll).await;
    assert_eq!(s, 200, "{b}");
    assert!(
        b["refresh_token"].as_str().is_some(),
        "offline_access yields a refresh token"
    );
    let c = jwt_claims(b["access_token"].as_str().unwrap());
    assert_eq!(c["tid"], sim.sim.fleet.partner_tenant().id.to_string());
    assert_eq!(c["upn"], p.service_account_upn);

    // The stored refresh token now reaches customers.
    let rt = b["refresh_token"].as_str().unwrap();
    let t = healthy(&sim);
    let (s, _) = post_login(
        &sim,
        &t.id.to_string(),
        "token",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &cid),
            ("refresh_token", rt),
            ("scope", GRAPH),
        ],
    )
    .await;
    assert_eq!(s, 200);

    // A device code is redeemed once.
    let (s, b) = post_login(&sim, "organizations", "token", &poll).await;
    assert_eq!(s, 400);
    assert_eq!(b["error"], "invalid_grant");
}

#[tokio::test]
async fn device_code_declined_and_unknown_codes() {
    let sim = start_sim(1, Some(5)).await;
    let cid = sim.sim.fleet.partner.client_id.to_string();
    let (_, dc) = post_login(
        &sim,
        "organizations",
        "devicecode",
        &[("client_id", &cid), ("scope", GRAPH)],
    )
    .await;
    let r = client()
        .post(format!("{}/_sim/identity/device/decline", sim.base_url))
        .json(&serde_json::json!({ "user_code": dc["user_code"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let poll = |code: String| {
        let cid = cid.clone();
        let sim = &sim;
        async move {
            post_login(
                sim,
                "organizations",
                "token",
                &[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                    ("client_id", &cid),
                    ("device_code", &code),
                ],
            )
            .await
        }
    };
    let (s, b) = poll(dc["device_code"].as_str().unwrap().to_owned()).await;
    assert_eq!((s, b["error"].as_str().unwrap()), (400, "authorization_declined"));
    let (s, b) = poll("no-such-code".into()).await;
    assert_eq!(s, 400);
    assert_aad_error(&b, "bad_verification_code", 70018);
}

#[tokio::test]
async fn token_lifetime_is_set_through_the_control_api() {
    let sim = start_sim(1, Some(5)).await;
    let r = client()
        .post(format!("{}/_sim/token-lifetime", sim.base_url))
        .json(&serde_json::json!({ "seconds": 60 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (s, b) = sam_token(&sim, &sim.sim.fleet.partner_tenant().id.to_string(), GRAPH).await;
    assert_eq!(s, 200);
    assert_eq!(b["expires_in"], 60);
    let c = jwt_claims(b["access_token"].as_str().unwrap());
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 60);
}
