//! The identity platform where Microsoft's libraries look for it: endpoints at the root
//! (`/{tenant}/oauth2/v2.0/token`, ...) with `/login` as an alias, discovery naming endpoints on
//! the request's own origin, ID tokens and `client_info` as the v2.0 endpoint returns them, and
//! client assertions (certificate and workload identity federation).
//! Contracts: learn.microsoft.com/entra/identity-platform/v2-protocols-oidc,
//! id-token-claims-reference, certificate-credentials, v2-oauth2-client-creds-grant-flow;
//! learn.microsoft.com/entra/workload-id/workload-identity-federation.

use crate::common::*;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{json, Value};
use tenantctl_sim::RunningSim;

const GRAPH: &str = "https://graph.microsoft.com/.default";

/// Every error is the identity platform's, its description starting with the AADSTS code.
fn assert_aad(body: &Value, error: &str, code: u32) {
    assert_eq!(body["error"], error, "{body}");
    let desc = body["error_description"].as_str().unwrap();
    assert!(desc.starts_with(&format!("AADSTS{code}: ")), "{desc}");
    assert_eq!(body["error_codes"], json!([code]));
}

async fn post_form(url: &str, host: Option<&str>, form: &[(&str, &str)]) -> (u16, Value) {
    let mut rb = client().post(url).form(form);
    if let Some(h) = host {
        rb = rb.header("host", h);
    }
    let r = rb.send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap())
}

async fn get_doc(url: &str, host: Option<&str>) -> (u16, Value) {
    let mut rb = client().get(url);
    if let Some(h) = host {
        rb = rb.header("host", h);
    }
    let r = rb.send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap())
}

fn port(sim: &RunningSim) -> u16 {
    sim.addr.port()
}

#[tokio::test]
async fn discovery_at_the_root_names_endpoints_on_the_requests_origin() {
    let sim = start_sim(2, Some(3)).await;
    let partner = sim.sim.fleet.partner_tenant();
    let base = &sim.base_url;
    // By id at the root: endpoints at the root, issuer per tenant id.
    let (s, cfg) = get_doc(
        &format!("{base}/{}/v2.0/.well-known/openid-configuration", partner.id),
        None,
    )
    .await;
    assert_eq!(s, 200, "{cfg}");
    assert_eq!(
        cfg["token_endpoint"],
        format!("{base}/{}/oauth2/v2.0/token", partner.id)
    );
    assert_eq!(
        cfg["device_authorization_endpoint"],
        format!("{base}/{}/oauth2/v2.0/devicecode", partner.id)
    );
    assert_eq!(cfg["jwks_uri"], format!("{base}/{}/discovery/v2.0/keys", partner.id));
    assert_eq!(cfg["issuer"], format!("{base}/{}/v2.0", partner.id));

    // Asked as `localhost:PORT` (Host header), by domain: everything names that host.
    let host = format!("localhost:{}", port(&sim));
    let (s, cfg) = get_doc(
        &format!(
            "{base}/{}/v2.0/.well-known/openid-configuration",
            partner.initial_domain
        ),
        Some(&host),
    )
    .await;
    assert_eq!(s, 200);
    for k in [
        "token_endpoint",
        "jwks_uri",
        "authorization_endpoint",
        "device_authorization_endpoint",
        "issuer",
    ] {
        assert!(
            cfg[k].as_str().unwrap().starts_with(&format!("http://{host}/")),
            "{k}: {}",
            cfg[k]
        );
    }
    assert_eq!(
        cfg["token_endpoint"],
        format!("http://{host}/{}/oauth2/v2.0/token", partner.initial_domain)
    );
    assert_eq!(cfg["issuer"], format!("http://{host}/{}/v2.0", partner.id));

    // Through the `/login` alias, the endpoints keep the prefix; the keys it names serve.
    let (s, cfg) = get_doc(
        &format!("{base}/login/organizations/v2.0/.well-known/openid-configuration"),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        cfg["token_endpoint"],
        format!("{base}/login/organizations/oauth2/v2.0/token")
    );
    assert_eq!(cfg["issuer"], format!("{base}/login/{{tenantid}}/v2.0"));
    let (s, jwks) = get_doc(cfg["jwks_uri"].as_str().unwrap(), None).await;
    assert_eq!(s, 200);
    assert_eq!(jwks["keys"][0]["kty"], "RSA");
    let (s, jwks) = get_doc(&format!("{base}/{}/discovery/v2.0/keys", partner.id), None).await;
    assert_eq!(s, 200);
    assert_eq!(jwks["keys"][0]["kid"], sim.sim.keys.kid);
}

/// Entra's answer for an unknown tenant on discovery, as quoted in Azure/azure-cli#22145 and
/// microsoftgraph/windowsupdates-webapplication-sample#6: 400, `invalid_tenant`, AADSTS90002.
#[tokio::test]
async fn discovery_for_an_unknown_tenant_is_invalid_tenant_aadsts90002() {
    let sim = start_sim(1, Some(2)).await;
    for prefix in ["", "/login"] {
        let (s, b) = get_doc(
            &format!(
                "{}{prefix}/nosuchtenant.onmicrosoft.com/v2.0/.well-known/openid-configuration",
                sim.base_url
            ),
            None,
        )
        .await;
        assert_eq!(s, 400);
        assert_aad(&b, "invalid_tenant", 90002);
        assert!(b["error_description"].as_str().unwrap().starts_with(
            "AADSTS90002: Tenant 'nosuchtenant.onmicrosoft.com' not found. Check to make sure you have the correct \
             tenant ID and are signing into the correct cloud."
        ));
    }
}

#[tokio::test]
async fn token_and_devicecode_serve_at_the_root_and_verification_uri_follows_the_host() {
    let sim = start_sim(1, Some(2)).await;
    let p = &sim.sim.fleet.partner;
    let partner = sim.sim.fleet.partner_tenant();
    let cid = p.client_id.to_string();
    let (s, b) = post_form(
        &format!("{}/{}/oauth2/v2.0/token", sim.base_url, partner.id),
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &cid),
            ("client_secret", &p.client_secret),
            ("scope", GRAPH),
        ],
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        jwt_claims(b["access_token"].as_str().unwrap())["tid"],
        partner.id.to_string()
    );

    let host = format!("localhost:{}", port(&sim));
    let (s, dc) = post_form(
        &format!("{}/organizations/oauth2/v2.0/devicecode", sim.base_url),
        Some(&host),
        &[("client_id", &cid), ("scope", "openid profile offline_access")],
    )
    .await;
    assert_eq!(s, 200, "{dc}");
    assert_eq!(dc["verification_uri"], format!("http://{host}/_sim/devicelogin"));
    assert!(dc["message"]
        .as_str()
        .unwrap()
        .contains(&format!("http://{host}/_sim/devicelogin")));
}

/// Verifies an ID token with the published JWKS and returns its claims.
async fn verify_id_token(sim: &RunningSim, token: &str, client_id: &str) -> Value {
    let (_, jwks) = get_doc(&format!("{}/common/discovery/v2.0/keys", sim.base_url), None).await;
    let key = &jwks["keys"][0];
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(header.kid.as_deref(), key["kid"].as_str());
    let dk = DecodingKey::from_rsa_components(key["n"].as_str().unwrap(), key["e"].as_str().unwrap()).unwrap();
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(&[client_id]);
    jsonwebtoken::decode::<Value>(token, &dk, &v)
        .expect("the ID token verifies with the JWKS key and its aud is the client id")
        .claims
}

/// learn.microsoft.com/entra/identity-platform/id-token-claims-reference (v2.0 claims) and
/// MSAL's `client_info` (base64url `{"uid","utid"}`).
#[tokio::test]
async fn refresh_grant_with_openid_returns_an_id_token_and_client_info_like_entra() {
    let sim = start_sim(2, Some(3)).await;
    let p = &sim.sim.fleet.partner;
    let partner = sim.sim.fleet.partner_tenant();
    let cid = p.client_id.to_string();
    let url = format!("{}/{}/oauth2/v2.0/token", sim.base_url, partner.initial_domain);
    // As MSAL asks: resource scope plus `openid profile offline_access`, `client_info=1`.
    let (s, b) = post_form(
        &url,
        None,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &cid),
            ("client_secret", &p.client_secret),
            ("refresh_token", &p.initial_refresh_token),
            (
                "scope",
                "https://graph.microsoft.com/.default openid profile offline_access",
            ),
            ("client_info", "1"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let c = verify_id_token(&sim, b["id_token"].as_str().expect("id_token with openid"), &cid).await;
    assert_eq!(c["iss"], format!("{}/{}/v2.0", sim.base_url, partner.id));
    assert_eq!(c["aud"], cid);
    assert_eq!(c["tid"], partner.id.to_string());
    assert_eq!(c["oid"], p.service_account_id.to_string());
    assert_eq!(c["preferred_username"], p.service_account_upn);
    assert!(c["name"].as_str().is_some_and(|n| !n.is_empty()));
    assert_eq!(c["ver"], "2.0");
    assert!(c.get("nonce").is_none(), "no nonce was given");
    assert!(c["sub"]
        .as_str()
        .is_some_and(|s| !s.is_empty() && s != p.service_account_id.to_string()));
    let (iat, nbf, exp) = (
        c["iat"].as_i64().unwrap(),
        c["nbf"].as_i64().unwrap(),
        c["exp"].as_i64().unwrap(),
    );
    assert!(nbf <= iat && exp > iat);
    // The discovery document names the same issuer.
    let (_, cfg) = get_doc(
        &format!("{}/{}/v2.0/.well-known/openid-configuration", sim.base_url, partner.id),
        None,
    )
    .await;
    assert_eq!(cfg["issuer"], c["iss"]);

    let ci = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(b["client_info"].as_str().expect("client_info with client_info=1"))
        .unwrap();
    let ci: Value = serde_json::from_slice(&ci).unwrap();
    assert_eq!(
        ci,
        json!({"uid": p.service_account_id.to_string(), "utid": partner.id.to_string()})
    );

    // The rotated refresh token, in a customer tenant: `tid` is the customer's, the issuer too;
    // `utid` stays the home (partner) tenant.
    let customer = healthy(&sim, 0);
    let rt = b["refresh_token"].as_str().unwrap();
    let (s, b2) = post_form(
        &format!("{}/{}/oauth2/v2.0/token", sim.base_url, customer.id),
        None,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &cid),
            ("refresh_token", rt),
            (
                "scope",
                "https://graph.microsoft.com/.default openid profile offline_access",
            ),
            ("client_info", "1"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{b2}");
    let c2 = verify_id_token(&sim, b2["id_token"].as_str().unwrap(), &cid).await;
    assert_eq!(c2["tid"], customer.id.to_string());
    assert_eq!(c2["iss"], format!("{}/{}/v2.0", sim.base_url, customer.id));
    let ci2: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(b2["client_info"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(ci2["utid"], partner.id.to_string());

    // Without `openid` or `client_info`: neither (tenantctl's own requests stay as they were).
    let (s, b3) = post_form(
        &url,
        None,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &cid),
            ("refresh_token", b2["refresh_token"].as_str().unwrap()),
            ("scope", GRAPH),
        ],
    )
    .await;
    assert_eq!(s, 200, "{b3}");
    assert!(b3.get("id_token").is_none() && b3.get("client_info").is_none(), "{b3}");
}

#[tokio::test]
async fn device_code_with_openid_returns_an_id_token_on_the_alias_issuer() {
    let sim = start_sim(1, Some(2)).await;
    let p = &sim.sim.fleet.partner;
    let cid = p.client_id.to_string();
    let (s, dc) = post_login(
        &sim,
        "organizations",
        "devicecode",
        &[
            ("client_id", &cid),
            (
                "scope",
                "https://graph.microsoft.com/.default openid profile offline_access",
            ),
        ],
    )
    .await;
    assert_eq!(s, 200, "{dc}");
    sim.sim
        .identity
        .complete_device_code(dc["user_code"].as_str().unwrap(), true);
    let (s, b) = post_login(
        &sim,
        "organizations",
        "token",
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", &cid),
            ("device_code", dc["device_code"].as_str().unwrap()),
            ("client_info", "1"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let c = verify_id_token(&sim, b["id_token"].as_str().unwrap(), &cid).await;
    let home = sim.sim.fleet.partner_tenant().id;
    // Asked through `/login/organizations`: the user's home tenant, under the alias.
    assert_eq!(c["iss"], format!("{}/login/{home}/v2.0", sim.base_url));
    assert_eq!(c["tid"], home.to_string());
    assert!(b["client_info"].is_string());
}

// ---------- client assertions ----------

/// The app's registered certificate, as a client fetches it.
async fn certificate(sim: &RunningSim) -> Value {
    let (s, c) = get_doc(&format!("{}/_sim/credentials/certificate", sim.base_url), None).await;
    assert_eq!(s, 200);
    c
}

/// A key that is not the certificate's (the simulated federation issuer's; any other RSA key would do).
const OTHER_KEY: &str = include_str!("../../keys/federation-issuer-key.pem");

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

struct Assertion<'a> {
    key_pem: &'a str,
    x5t: Option<&'a str>,
    x5t_s256: Option<&'a str>,
    client_id: &'a str,
    aud: &'a str,
    exp_in: i64,
}

fn sign(a: &Assertion<'_>) -> String {
    let mut h = Header::new(Algorithm::RS256);
    h.x5t = a.x5t.map(str::to_owned);
    h.x5t_s256 = a.x5t_s256.map(str::to_owned);
    let now = now();
    let claims = json!({
        "aud": a.aud, "iss": a.client_id, "sub": a.client_id,
        "jti": format!("jti-{now}-{}", a.exp_in), "nbf": now - 5, "iat": now - 5, "exp": now + a.exp_in,
    });
    jsonwebtoken::encode(&h, &claims, &EncodingKey::from_rsa_pem(a.key_pem.as_bytes()).unwrap()).unwrap()
}

async fn assertion_grant(sim: &RunningSim, tenant: &str, client_id: &str, assertion: &str) -> (u16, Value) {
    post_form(
        &format!("{}/{tenant}/oauth2/v2.0/token", sim.base_url),
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("scope", GRAPH),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion),
        ],
    )
    .await
}

/// learn.microsoft.com/entra/identity-platform/certificate-credentials: header `x5t` (or
/// `x5t#S256`), `aud` = token endpoint, `iss` = `sub` = client id, `jti`, `nbf`, `exp`.
#[tokio::test]
async fn certificate_assertion_grant_succeeds_and_forgeries_fail_with_entras_aadsts_codes() {
    let sim = start_sim(1, Some(2)).await;
    let partner = sim.sim.fleet.partner_tenant();
    let cid = sim.sim.fleet.partner.client_id.to_string();
    let cert = certificate(&sim).await;
    assert_eq!(cert["client_id"], cid);
    let key = cert["private_key_pem"].as_str().unwrap();
    assert!(cert["certificate_pem"]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----"));
    let pem = cert["pem"].as_str().unwrap();
    assert!(pem.contains("PRIVATE KEY") && pem.contains("BEGIN CERTIFICATE"));
    let x5t = cert["x5t"].as_str().unwrap();
    let s256 = cert["x5t#S256"].as_str().unwrap();
    let thumb = cert["thumbprint"].as_str().unwrap();
    assert_eq!(thumb.len(), 40);
    // x5t is the SHA-1 thumbprint, base64url.
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(x5t).unwrap();
    assert_eq!(raw.iter().map(|b| format!("{b:02X}")).collect::<String>(), thumb);
    // The same certificate whichever time it is asked for (deterministic for the seed).
    assert_eq!(certificate(&sim).await["thumbprint"], thumb);

    let aud = format!("{}/{}/oauth2/v2.0/token", sim.base_url, partner.id);
    let good = Assertion {
        key_pem: key,
        x5t: Some(x5t),
        x5t_s256: None,
        client_id: &cid,
        aud: &aud,
        exp_in: 600,
    };
    let (s, b) = assertion_grant(&sim, &partner.id.to_string(), &cid, &sign(&good)).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        jwt_claims(b["access_token"].as_str().unwrap())["tid"],
        partner.id.to_string()
    );
    // `x5t#S256` alone identifies the certificate too.
    let (s, b) = assertion_grant(
        &sim,
        &partner.id.to_string(),
        &cid,
        &sign(&Assertion {
            x5t: None,
            x5t_s256: Some(s256),
            ..good
        }),
    )
    .await;
    assert_eq!(s, 200, "{b}");

    // Signed with another key: AADSTS700027 (signature validation).
    let (s, b) = assertion_grant(
        &sim,
        &partner.id.to_string(),
        &cid,
        &sign(&Assertion {
            key_pem: OTHER_KEY,
            ..good
        }),
    )
    .await;
    assert_eq!(s, 401);
    assert_aad(&b, "invalid_client", 700027);
    assert!(b["error_description"]
        .as_str()
        .unwrap()
        .contains("signature validation"));
    // Unknown thumbprint: AADSTS700027 "... is not registered on application" (msal-js#8339).
    let (s, b) = assertion_grant(
        &sim,
        &partner.id.to_string(),
        &cid,
        &sign(&Assertion {
            x5t: Some("AAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            ..good
        }),
    )
    .await;
    assert_eq!(s, 401);
    assert_aad(&b, "invalid_client", 700027);
    assert!(b["error_description"]
        .as_str()
        .unwrap()
        .contains("is not registered on application"));
    // No thumbprint at all: AADSTS50027 (MSAL.NET#124).
    let (s, b) = assertion_grant(
        &sim,
        &partner.id.to_string(),
        &cid,
        &sign(&Assertion { x5t: None, ..good }),
    )
    .await;
    assert_eq!(s, 401);
    assert_aad(&b, "invalid_client", 50027);
    // Expired: AADSTS700024 (msal4j#984).
    let (s, b) = assertion_grant(
        &sim,
        &partner.id.to_string(),
        &cid,
        &sign(&Assertion { exp_in: -60, ..good }),
    )
    .await;
    assert_eq!(s, 401);
    assert_aad(&b, "invalid_client", 700024);
    // For another audience (the real login.microsoftonline.com): AADSTS50012.
    let real = format!("https://login.microsoftonline.com/{}/oauth2/v2.0/token", partner.id);
    let (s, b) = assertion_grant(
        &sim,
        &partner.id.to_string(),
        &cid,
        &sign(&Assertion { aud: &real, ..good }),
    )
    .await;
    assert_eq!(s, 401);
    assert_aad(&b, "invalid_client", 50012);
    // For another app: AADSTS700016.
    let other = "11111111-2222-3333-4444-555555555555";
    let (s, b) = assertion_grant(
        &sim,
        &partner.id.to_string(),
        other,
        &sign(&Assertion {
            client_id: other,
            ..good
        }),
    )
    .await;
    assert_eq!(s, 400);
    assert_aad(&b, "unauthorized_client", 700016);
}

/// Workload identity federation (`AZURE_FEDERATED_TOKEN_FILE`): a token from a trusted issuer
/// whose issuer/subject/audience match the app's federated credential.
#[tokio::test]
async fn federated_assertion_from_the_trusted_issuer_is_accepted_others_are_not() {
    let sim = start_sim(1, Some(2)).await;
    let partner = sim.sim.fleet.partner_tenant();
    let cid = sim.sim.fleet.partner.client_id.to_string();
    let mint = |body: Value| {
        let url = format!("{}/_sim/federated-token", sim.base_url);
        async move {
            let r = client().post(url).json(&body).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()
        }
    };
    let t = mint(json!({})).await;
    assert_eq!(t["issuer"], "https://token.actions.githubusercontent.com");
    assert_eq!(t["audience"], "api://AzureADTokenExchange");
    let c = jwt_claims(t["token"].as_str().unwrap());
    assert_eq!(c["iss"], t["issuer"]);
    assert_eq!(c["sub"], t["subject"]);
    let (s, b) = assertion_grant(&sim, &partner.id.to_string(), &cid, t["token"].as_str().unwrap()).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(jwt_claims(b["access_token"].as_str().unwrap())["appid"], cid);

    // Another subject: AADSTS700213 (dotnet/maui#31978).
    let t = mint(json!({"subject": "repo:someone/else:ref:refs/heads/main"})).await;
    let (s, b) = assertion_grant(&sim, &partner.id.to_string(), &cid, t["token"].as_str().unwrap()).await;
    assert_eq!(s, 400);
    assert_aad(&b, "invalid_request", 700213);
    assert!(b["error_description"].as_str().unwrap().contains("repo:someone/else"));
    // Another audience: AADSTS700212.
    let t = mint(json!({"audience": "api://SomethingElse"})).await;
    let (s, b) = assertion_grant(&sim, &partner.id.to_string(), &cid, t["token"].as_str().unwrap()).await;
    assert_eq!(s, 400);
    assert_aad(&b, "invalid_request", 700212);
    // Expired: AADSTS700024.
    let t = mint(json!({"lifetime_secs": -30})).await;
    let (s, b) = assertion_grant(&sim, &partner.id.to_string(), &cid, t["token"].as_str().unwrap()).await;
    assert_eq!(s, 401);
    assert_aad(&b, "invalid_client", 700024);
    // An issuer the app does not trust: AADSTS70021 (Azure/azure-workload-identity#616).
    let now = now();
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &json!({"iss": "https://kubernetes.default.svc", "sub": "system:serviceaccount:x:y",
                "aud": "api://AzureADTokenExchange", "exp": now + 300, "nbf": now, "jti": "j"}),
        &EncodingKey::from_rsa_pem(OTHER_KEY.as_bytes()).unwrap(),
    )
    .unwrap();
    let (s, b) = assertion_grant(&sim, &partner.id.to_string(), &cid, &forged).await;
    assert_eq!(s, 400);
    assert_aad(&b, "invalid_request", 70021);
    assert!(b["error_description"]
        .as_str()
        .unwrap()
        .contains("Assertion Issuer: 'https://kubernetes.default.svc'"));
}

// ---------- authorization code (MSAL's interactive sign-in) ----------

/// RFC 7636 appendix B's verifier and its S256 challenge.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// Runs `/authorize` and returns the `Location` it redirects to.
async fn authorize(sim: &RunningSim, tenant: &str, query: &[(&str, &str)]) -> (u16, String, String) {
    let r = client()
        .get(format!("{}/{tenant}/oauth2/v2.0/authorize", sim.base_url))
        .query(query)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    let loc = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (s, loc, r.text().await.unwrap())
}

fn query_param(location: &str, key: &str) -> Option<String> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow: `/authorize` redirects
/// with `code` and `state`; the code (PKCE, single use) redeems for tokens, and the ID token
/// carries the `nonce` of the sign-in request.
#[tokio::test]
async fn authorization_code_with_pkce_returns_an_id_token_with_the_nonce_once() {
    let sim = start_sim(1, Some(2)).await;
    let cid = sim.sim.fleet.partner.client_id.to_string();
    let redirect = "http://localhost:53111/";
    let scope = "https://graph.microsoft.com/.default openid profile offline_access";
    let q = [
        ("client_id", cid.as_str()),
        ("response_type", "code"),
        ("redirect_uri", redirect),
        ("scope", scope),
        ("state", "st-42"),
        ("nonce", "n-0S6_WzA2Mj"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let (s, loc, _) = authorize(&sim, "organizations", &q).await;
    assert_eq!(s, 302);
    assert!(loc.starts_with(redirect), "{loc}");
    assert_eq!(query_param(&loc, "state").as_deref(), Some("st-42"));
    let code = query_param(&loc, "code").expect("code in the redirect");
    let token_url = format!("{}/organizations/oauth2/v2.0/token", sim.base_url);
    let redeem = |code: String, verifier: &'static str| {
        let (token_url, cid) = (token_url.clone(), cid.clone());
        async move {
            post_form(
                &token_url,
                None,
                &[
                    ("grant_type", "authorization_code"),
                    ("client_id", &cid),
                    ("code", &code),
                    ("redirect_uri", redirect),
                    ("code_verifier", verifier),
                    ("scope", scope),
                    ("client_info", "1"),
                ],
            )
            .await
        }
    };
    let (s, b) = redeem(code.clone(), VERIFIER).await;
    assert_eq!(s, 200, "{b}");
    assert!(b["refresh_token"].is_string() && b["client_info"].is_string());
    let c = verify_id_token(&sim, b["id_token"].as_str().unwrap(), &cid).await;
    assert_eq!(c["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(c["tid"], sim.sim.fleet.partner_tenant().id.to_string());
    // Single use: AADSTS54005 (AzureAD/microsoft-identity-web#2612).
    let (s, b) = redeem(code, VERIFIER).await;
    assert_eq!(s, 400);
    assert_aad(&b, "invalid_grant", 54005);
    // A verifier that does not match the challenge: AADSTS501481.
    let (_, loc, _) = authorize(&sim, "organizations", &q).await;
    let (s, b) = redeem(query_param(&loc, "code").unwrap(), "not-the-verifier").await;
    assert_eq!(s, 400);
    assert_aad(&b, "invalid_grant", 501481);

    // A redirect URI the app does not have is answered on the spot (AADSTS50011), not redirected.
    let mut bad = q;
    bad[2] = ("redirect_uri", "https://evil.example/cb");
    let (s, loc, body) = authorize(&sim, "organizations", &bad).await;
    assert_eq!(s, 400);
    assert!(loc.is_empty());
    assert_aad(&serde_json::from_str(&body).unwrap(), "invalid_request", 50011);
    // form_post: an auto-submitting form carrying the code and state.
    let mut fp = q.to_vec();
    fp.push(("response_mode", "form_post"));
    let (s, _, html) = authorize(&sim, "organizations", &fp).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("name=\"code\"") && html.contains("value=\"st-42\""),
        "{html}"
    );
}

/// The assertions MSAL Python 1.39 sends (captured against the simulator): `x5t` base64url
/// *with* padding and RS256, or `x5t#S256` (padded) with PS256 and `x5c`; `exp`/`iat` fractional,
/// no `nbf`.
#[tokio::test]
async fn certificate_assertions_in_msal_pythons_shape_are_accepted() {
    let sim = start_sim(1, Some(2)).await;
    let partner = sim.sim.fleet.partner_tenant();
    let cid = sim.sim.fleet.partner.client_id.to_string();
    let cert = certificate(&sim).await;
    let key = EncodingKey::from_rsa_pem(cert["private_key_pem"].as_str().unwrap().as_bytes()).unwrap();
    let aud = format!("{}/{}/oauth2/v2.0/token", sim.base_url, partner.id);
    let t = now() as f64 + 0.065;
    let claims = json!({"aud": aud, "iss": cid, "sub": cid, "exp": t + 600.0, "iat": t,
                        "jti": "19d00924-3096-4868-ab31-2513e66543dc"});
    let pad = |s: &str| format!("{s}{}", "=".repeat((4 - s.len() % 4) % 4));
    let mut rs = Header::new(Algorithm::RS256);
    rs.x5t = Some(pad(cert["x5t"].as_str().unwrap()));
    let mut ps = Header::new(Algorithm::PS256);
    ps.x5t_s256 = Some(pad(cert["x5t#S256"].as_str().unwrap()));
    ps.x5c = Some(vec!["MIIB".into()]);
    for h in [rs, ps] {
        let a = jsonwebtoken::encode(&h, &claims, &key).unwrap();
        let (s, b) = assertion_grant(&sim, &partner.id.to_string(), &cid, &a).await;
        assert_eq!(s, 200, "{:?}: {b}", h.alg);
    }
    // HS256 (a shared-secret MAC) is no certificate signature.
    let mut hs = Header::new(Algorithm::HS256);
    hs.x5t = Some(cert["x5t"].as_str().unwrap().to_owned());
    let a = jsonwebtoken::encode(&hs, &claims, &EncodingKey::from_secret(b"secret")).unwrap();
    let (s, b) = assertion_grant(&sim, &partner.id.to_string(), &cid, &a).await;
    assert_eq!(s, 401);
    assert_aad(&b, "invalid_client", 50027);
}
