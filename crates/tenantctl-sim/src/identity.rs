//! Microsoft identity platform v2.0 endpoints, as a CSP partner's tools use them.
//!
//! Served where Microsoft has them, at the root of the server (`/{tenant}/oauth2/v2.0/token`, so a
//! client whose authority is `https://127.0.0.1:PORT/{tenant}` derives the tenant from the path as
//! MSAL does), and under the `/login` prefix as an alias. Every URL the endpoints emit (discovery
//! document, `verification_uri`, ID token `iss`) is built from the request's [`Origin`].
//!
//! - `POST /login/{tenant}/oauth2/v2.0/token`: `client_credentials`, `refresh_token` (rotating,
//!   the Secure Application Model path into customer tenants under GDAP) and the device code grant
//!   (learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow,
//!   .../v2-oauth2-auth-code-flow#refresh-the-access-token, .../v2-oauth2-device-code).
//! - `POST /login/{tenant}/oauth2/v2.0/devicecode`.
//! - `GET /login/{tenant}/v2.0/.well-known/openid-configuration` and `/discovery/v2.0/keys`.
//!
//! `{tenant}` is a GUID, a verified domain, or `common` / `organizations` where Entra allows it.
//! Errors follow `reference-error-codes`: `error`, `error_description` starting with the AADSTS
//! code, `error_codes`, `timestamp`, `trace_id`, `correlation_id`.

pub mod assertion;
pub mod auth_code;
pub mod id_token;

use crate::auth::{audience_for_scope, mint, now_unix, TokenRequest, AUD_EXCHANGE, AUD_GRAPH};
use crate::errors::aad_error;
use crate::fleet::{secret_string, Fleet, Tenant, TenantKind};
use crate::ids::{random_guid, Guid};
use crate::origin::Origin;
use crate::server::Sim;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use parking_lot::Mutex;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

/// Seconds of inactivity after which a refresh token expires (AADSTS700082). Entra's figure.
pub const REFRESH_INACTIVITY_SECS: i64 = 90 * 86_400;
/// Device codes live 15 minutes (`expires_in: 900`), polled every 5 seconds.
pub const DEVICE_CODE_LIFETIME_SECS: i64 = 900;
pub const DEVICE_CODE_INTERVAL_SECS: i64 = 5;

#[derive(Clone, Debug)]
struct RefreshToken {
    client_id: Guid,
    issued: i64,
    last_used: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DeviceState {
    Pending,
    Approved,
    Declined,
    Redeemed,
}

#[derive(Clone, Debug)]
struct DeviceCode {
    user_code: String,
    client_id: Guid,
    scope: String,
    expires: i64,
    state: DeviceState,
}

/// Mutable identity state: issued refresh tokens and pending device codes.
pub struct IdentityState {
    refresh_tokens: Mutex<HashMap<String, RefreshToken>>,
    /// Tokens issued before this instant are revoked (AADSTS50173), as after a password reset.
    tokens_valid_from: Mutex<i64>,
    /// Simulated clock offset for refresh-token inactivity (`/_sim/identity/refresh-tokens/expire`).
    inactivity_offset: Mutex<i64>,
    device_codes: Mutex<HashMap<String, DeviceCode>>,
    auth_codes: Mutex<HashMap<String, auth_code::AuthCode>>,
    /// The app's registered certificate and federated credential (client assertions).
    pub credentials: assertion::Credentials,
}

impl IdentityState {
    pub fn new(fleet: &Fleet) -> IdentityState {
        let mut rts = HashMap::new();
        let now = now_unix();
        rts.insert(
            fleet.partner.initial_refresh_token.clone(),
            RefreshToken {
                client_id: fleet.partner.client_id,
                issued: now,
                last_used: now,
            },
        );
        IdentityState {
            refresh_tokens: Mutex::new(rts),
            tokens_valid_from: Mutex::new(0),
            inactivity_offset: Mutex::new(0),
            device_codes: Mutex::new(HashMap::new()),
            auth_codes: Mutex::new(HashMap::new()),
            credentials: assertion::Credentials::new(fleet.partner.client_id, &fleet.partner_tenant().initial_domain),
        }
    }

    /// Revokes every refresh token issued so far (password reset / "revoke sessions").
    pub fn revoke_refresh_tokens(&self) {
        *self.tokens_valid_from.lock() = now_unix() + 1;
    }

    /// Makes every refresh token look inactive for longer than the inactivity window.
    pub fn expire_refresh_tokens(&self) {
        *self.inactivity_offset.lock() = REFRESH_INACTIVITY_SECS + 86_400;
    }

    /// Undoes revocation and expiry (part of `/_sim/reset`).
    pub fn reset(&self) {
        *self.tokens_valid_from.lock() = 0;
        *self.inactivity_offset.lock() = 0;
    }

    /// Approves (`approve = true`) or declines a pending device code by its user code.
    /// Returns false if no pending code has that user code.
    pub fn complete_device_code(&self, user_code: &str, approve: bool) -> bool {
        let mut codes = self.device_codes.lock();
        let wanted = user_code.trim().to_ascii_uppercase();
        match codes
            .values_mut()
            .find(|d| d.user_code == wanted && d.state == DeviceState::Pending)
        {
            Some(d) => {
                d.state = if approve {
                    DeviceState::Approved
                } else {
                    DeviceState::Declined
                };
                true
            }
            None => false,
        }
    }

    /// User codes waiting for approval, oldest first is not guaranteed.
    pub fn pending_user_codes(&self) -> Vec<String> {
        self.device_codes
            .lock()
            .values()
            .filter(|d| d.state == DeviceState::Pending)
            .map(|d| d.user_code.clone())
            .collect()
    }

    fn issue_refresh_token(&self, client_id: Guid) -> String {
        let g = random_guid();
        let h = random_guid();
        let rt = format!(
            "1.sim.{}",
            secret_string(
                &[u64::from_le_bytes(g.0[..8].try_into().unwrap()), h.tail_u32() as u64],
                96
            )
        );
        let now = now_unix();
        self.refresh_tokens.lock().insert(
            rt.clone(),
            RefreshToken {
                client_id,
                issued: now,
                last_used: now,
            },
        );
        rt
    }
}

/// The display name of the partner's service account in ID tokens.
pub const SERVICE_ACCOUNT_NAME: &str = "tenantctl SAM service account";

pub fn routes() -> Router<Arc<Sim>> {
    let mut r = Router::new();
    // At the root where Microsoft has them, and under `/login` (the original alias).
    for prefix in ["", "/login"] {
        r = r
            .route(&format!("{prefix}/{{tenant}}/oauth2/v2.0/token"), post(token))
            .route(
                &format!("{prefix}/{{tenant}}/oauth2/v2.0/devicecode"),
                post(device_code),
            )
            .route(
                &format!("{prefix}/{{tenant}}/v2.0/.well-known/openid-configuration"),
                get(openid_configuration),
            )
            .route(&format!("{prefix}/{{tenant}}/discovery/v2.0/keys"), get(jwks))
            .route(&format!("{prefix}/{{tenant}}/oauth2/v2.0/authorize"), get(authorize));
    }
    r.route("/_sim/devicelogin", get(device_login_page).post(device_login_submit))
        .route("/_sim/credentials/certificate", get(credentials_certificate))
        .route("/_sim/federated-token", post(federated_token))
}

/// Is `path` one of the identity platform's endpoints (root form or `/login` alias)? For the
/// fault middleware, which gives identity requests `token_latency_ms` and AADSTS fault bodies.
pub fn is_identity_path(path: &str) -> bool {
    let rest = path.strip_prefix("/login").unwrap_or(path);
    let mut segs = rest.trim_start_matches('/').splitn(2, '/');
    let (Some(tenant), Some(tail)) = (segs.next(), segs.next()) else {
        return false;
    };
    !tenant.is_empty()
        && !matches!(tenant, "graph" | "partnercenter" | "_sim")
        && (tail.starts_with("oauth2/v2.0/") || tail.starts_with("v2.0/.well-known/") || tail.starts_with("discovery/"))
}

/// `scheme://host` of the request, plus `/login` when it came in through the alias: the base
/// under which this request's identity endpoints (and ID token issuers) live.
pub fn identity_base(origin: &Origin, uri: &Uri) -> String {
    if uri.path().starts_with("/login/") {
        format!("{}/login", origin.base())
    } else {
        origin.base()
    }
}

/// The `iss` of ID tokens and the discovery document for tenant `tid` under `base`.
pub fn issuer(base: &str, tid: &str) -> String {
    format!("{base}/{tid}/v2.0")
}

/// The ready line's identity fields: the registered certificate's thumbprint.
pub fn extend_ready_info(sim: &Sim, v: &mut serde_json::Value) {
    v["client_certificate_thumbprint"] = json!(sim.identity.credentials.certificate.thumbprint);
}

pub(crate) fn fmt_ts(unix: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:02}/{:02}/{:04} {:02}:{:02}:{:02}",
        t.month() as u8,
        t.day(),
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Where `{tenant}` in the path points.
#[derive(Clone, Copy)]
enum Authority<'a> {
    Tenant(&'a Tenant),
    /// `common` / `organizations`: the user's home tenant decides.
    Multi,
}

/// Resolves `{tenant}`; an unknown one answers AADSTS90002 with `error` = `error_name`
/// (`invalid_tenant` on discovery, as Entra answers it — Azure/azure-cli#22145 quotes the body —
/// and `invalid_request` on the token endpoints).
fn authority<'a>(sim: &'a Sim, key: &str, error_name: &str) -> Result<Authority<'a>, Response> {
    let k = key.to_ascii_lowercase();
    if k == "common" || k == "organizations" {
        return Ok(Authority::Multi);
    }
    match sim.fleet.find_tenant(&k) {
        Some(t) => Ok(Authority::Tenant(t)),
        None => Err(aad_error(
            StatusCode::BAD_REQUEST,
            error_name,
            90002,
            &format!(
                "Tenant '{key}' not found. Check to make sure you have the correct tenant ID and are signing into the \
                 correct cloud. Check with your subscription administrator, this may happen if there are no active \
                 subscriptions for the tenant."
            ),
        )),
    }
}

fn missing(param: &str) -> Response {
    aad_error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        900144,
        &format!("The request body must contain the following parameter: '{param}'."),
    )
}

fn app_not_found(client_id: &str, t: &Tenant) -> Response {
    aad_error(
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
        700016,
        &format!(
            "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the \
             application has not been installed by the administrator of the tenant or consented to by any user in \
             the tenant. You may have sent your authentication request to the wrong tenant.",
            t.display_name
        ),
    )
}

fn bad_secret(client_id: &str) -> Response {
    aad_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        7000215,
        &format!(
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, \
             not the client secret ID, for a secret added to app '{client_id}'."
        ),
    )
}

/// Client authentication: secret in the body or HTTP Basic (RFC 6749 §2.3.1).
fn client_credentials_of(form: &HashMap<String, String>, headers: &HeaderMap) -> (Option<String>, Option<String>) {
    if let Some(basic) = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        if let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(basic.trim()) {
            if let Ok(s) = String::from_utf8(raw) {
                if let Some((id, secret)) = s.split_once(':') {
                    let dec = |x: &str| {
                        percent_encoding::percent_decode_str(&x.replace('+', " "))
                            .decode_utf8_lossy()
                            .into_owned()
                    };
                    return (Some(dec(id)), Some(dec(secret)));
                }
            }
        }
    }
    (form.get("client_id").cloned(), form.get("client_secret").cloned())
}

/// The resource a scope list asks for: the first resource named (the doc: "if several resources
/// are listed the token is issued for the first"), ignoring `openid`, `profile`, `offline_access`.
fn resource_of(scope: &str) -> Result<Option<&'static str>, String> {
    for s in scope.split_whitespace() {
        if matches!(s, "openid" | "profile" | "offline_access" | "email") {
            continue;
        }
        // `<resource>/.default` or `<resource>/<permission>` (e.g. `.../User.Read`).
        let by_resource = s.rsplit_once('/').and_then(|(r, _)| audience_for_scope(r));
        return match audience_for_scope(s).or(by_resource) {
            Some(aud) => Ok(Some(aud)),
            None => Err(s.to_owned()),
        };
    }
    Ok(None)
}

fn invalid_scope(scope: &str) -> Response {
    aad_error(
        StatusCode::BAD_REQUEST,
        "invalid_scope",
        70011,
        &format!("The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."),
    )
}

async fn token(
    State(sim): State<Arc<Sim>>,
    Path(tenant): Path<String>,
    origin: Origin,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some(grant) = form.get("grant_type").map(String::as_str) else {
        return missing("grant_type");
    };
    let auth = match authority(&sim, &tenant, "invalid_request") {
        Ok(a) => a,
        Err(r) => return r,
    };
    let base = identity_base(&origin, &uri);
    let partner = &sim.fleet.partner;
    let (client_id, secret) = client_credentials_of(&form, &headers);
    // Client authentication by assertion (certificate or federated credential).
    let mut assertion_ok = false;
    let client_id = match form.get("client_assertion_type") {
        None => client_id,
        Some(ty) if ty != assertion::JWT_BEARER => {
            // [I] code and text.
            return aad_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                50027,
                &format!("Invalid JWT token. Unsupported client_assertion_type '{ty}'."),
            );
        }
        Some(_) => {
            let Some(a) = form.get("client_assertion") else {
                return missing("client_assertion");
            };
            let mut endpoints = vec![format!("{base}/{tenant}/oauth2/v2.0/token")];
            if let Authority::Tenant(t) = &auth {
                endpoints.push(format!("{base}/{}/oauth2/v2.0/token", t.id));
            }
            match assertion::validate(
                &sim.identity.credentials,
                partner.client_id,
                client_id.as_deref(),
                a,
                &endpoints,
            ) {
                Ok((id, _)) => {
                    assertion_ok = true;
                    Some(id)
                }
                Err(r) => return r,
            }
        }
    };
    let Some(client_id) = client_id else {
        return missing("client_id");
    };
    let app_known = client_id.parse::<Guid>().ok() == Some(partner.client_id);
    let home = sim.fleet.partner_tenant();
    let id_ctx = |scope: &str| IdTokenContext {
        base: base.clone(),
        wants_id_token: id_token::wants_id_token(scope),
        client_info: form.get("client_info").is_some_and(|v| v == "1"),
        nonce: None,
    };
    match grant {
        "client_credentials" => {
            let Authority::Tenant(t) = auth else {
                return aad_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    9001023,
                    "The grant type isn't supported over the /common or /consumers endpoints. Please use the \
                     /organizations or tenant-specific endpoint.",
                );
            };
            if !app_known {
                return app_not_found(&client_id, t);
            }
            match secret {
                None if assertion_ok => {}
                None => {
                    return aad_error(
                        StatusCode::UNAUTHORIZED,
                        "invalid_client",
                        7000218,
                        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
                    )
                }
                Some(s) if s != partner.client_secret => return bad_secret(&client_id),
                Some(_) => {}
            }
            let Some(scope) = form.get("scope") else {
                return missing("scope");
            };
            if scope.split_whitespace().count() != 1 || !scope.ends_with("/.default") {
                return aad_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    1002012,
                    &format!(
                        "The provided value for scope {scope} is not valid. Client credential flows must have a \
                         scope value with /.default suffixed to the resource identifier (application ID URI)."
                    ),
                );
            }
            let aud = match resource_of(scope) {
                Ok(Some(a)) => a,
                _ => return resource_not_found(scope, t),
            };
            if t.kind == TenantKind::Customer && !sim.access(t).consent {
                return app_not_found(&client_id, t);
            }
            let lifetime = sim.token_lifetime();
            let at = mint(
                &sim.keys,
                &TokenRequest {
                    tenant_id: t.id,
                    audience: aud,
                    app_id: partner.client_id,
                    user: None,
                    lifetime_secs: lifetime,
                },
            );
            Json(json!({
                "token_type": "Bearer",
                "expires_in": lifetime,
                "ext_expires_in": lifetime,
                "access_token": at,
            }))
            .into_response()
        }
        "refresh_token" => {
            let target = match auth {
                Authority::Tenant(t) => t,
                Authority::Multi => home,
            };
            if !app_known {
                return app_not_found(&client_id, target);
            }
            if let Some(s) = &secret {
                if *s != partner.client_secret {
                    return bad_secret(&client_id);
                }
            }
            let Some(rt) = form.get("refresh_token") else {
                return missing("refresh_token");
            };
            let now = now_unix();
            {
                let mut rts = sim.identity.refresh_tokens.lock();
                let Some(info) = rts.get_mut(rt) else {
                    return aad_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        9002313,
                        "Invalid request. Request is malformed or invalid.",
                    );
                };
                if info.client_id != partner.client_id {
                    return aad_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        70000,
                        "Provided grant is invalid or malformed.",
                    );
                }
                let valid_from = *sim.identity.tokens_valid_from.lock();
                if info.issued < valid_from {
                    return aad_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        50173,
                        &format!(
                            "The provided grant has expired due to it being revoked, a fresh auth token is needed. \
                             The user might have changed or reset their password. The grant was issued on '{}' and \
                             the TokensValidFrom date (before which tokens are not valid) for this user is '{}'.",
                            fmt_ts(info.issued),
                            fmt_ts(valid_from)
                        ),
                    );
                }
                let offset = *sim.identity.inactivity_offset.lock();
                if now + offset - info.last_used > REFRESH_INACTIVITY_SECS {
                    return aad_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        700082,
                        &format!(
                            "The refresh token has expired due to inactivity. The token was issued on {} and was \
                             inactive for 90.00:00:00.",
                            fmt_ts(info.issued)
                        ),
                    );
                }
                info.last_used = now;
            }
            let scope = form
                .get("scope")
                .cloned()
                .unwrap_or_else(|| "https://graph.microsoft.com/.default".into());
            let aud = match resource_of(&scope) {
                Ok(Some(a)) => a,
                Ok(None) => AUD_GRAPH,
                Err(s) => return resource_not_found(&s, target),
            };
            if let Err(r) = delegated_access(&sim, target, &client_id) {
                return r;
            }
            delegated_response(&sim, target, aud, true, &id_ctx(&scope))
        }
        "urn:ietf:params:oauth:grant-type:device_code" => {
            let Some(code) = form.get("device_code") else {
                return missing("device_code");
            };
            let now = now_unix();
            let dc = {
                let mut codes = sim.identity.device_codes.lock();
                let Some(dc) = codes.get_mut(code) else {
                    return aad_error(
                        StatusCode::BAD_REQUEST,
                        "bad_verification_code",
                        70018,
                        "Invalid verification code entered.",
                    );
                };
                if dc.client_id.to_string() != client_id.to_ascii_lowercase() {
                    return aad_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        70000,
                        "Provided grant is invalid or malformed.",
                    );
                }
                if now > dc.expires {
                    return aad_error(
                        StatusCode::BAD_REQUEST,
                        "expired_token",
                        70019,
                        "Verification code expired.",
                    );
                }
                match dc.state {
                    DeviceState::Pending => {
                        return aad_error(
                            StatusCode::BAD_REQUEST,
                            "authorization_pending",
                            70016,
                            "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                        )
                    }
                    DeviceState::Declined => {
                        return aad_error(
                            StatusCode::BAD_REQUEST,
                            "authorization_declined",
                            70000,
                            "The user denied the authorization request.",
                        )
                    }
                    DeviceState::Redeemed => {
                        return aad_error(
                            StatusCode::BAD_REQUEST,
                            "invalid_grant",
                            70000,
                            "Provided grant is invalid or malformed. The device code has already been redeemed.",
                        )
                    }
                    DeviceState::Approved => {
                        dc.state = DeviceState::Redeemed;
                        dc.clone()
                    }
                }
            };
            let target = match auth {
                Authority::Tenant(t) => t,
                Authority::Multi => home,
            };
            let aud = match resource_of(&dc.scope) {
                Ok(Some(a)) => a,
                Ok(None) => AUD_GRAPH,
                Err(s) => return resource_not_found(&s, target),
            };
            if let Err(r) = delegated_access(&sim, target, &client_id) {
                return r;
            }
            // A refresh token comes back from the device code grant only with `offline_access`.
            let offline = dc.scope.split_whitespace().any(|s| s == "offline_access");
            delegated_response(&sim, target, aud, offline, &id_ctx(&dc.scope))
        }
        "authorization_code" => {
            let target = match auth {
                Authority::Tenant(t) => t,
                Authority::Multi => home,
            };
            if !app_known {
                return app_not_found(&client_id, target);
            }
            if let Some(s) = &secret {
                if *s != partner.client_secret {
                    return bad_secret(&client_id);
                }
            }
            let redeemed = auth_code::redeem(&mut sim.identity.auth_codes.lock(), &form, &client_id);
            let ac = match redeemed {
                Ok(c) => c,
                Err(r) => return r,
            };
            let aud = match resource_of(&ac.scope) {
                Ok(Some(a)) => a,
                Ok(None) => AUD_GRAPH,
                Err(s) => return resource_not_found(&s, target),
            };
            if let Err(r) = delegated_access(&sim, target, &client_id) {
                return r;
            }
            let offline = ac.scope.split_whitespace().any(|s| s == "offline_access");
            let mut idc = id_ctx(&ac.scope);
            idc.nonce = ac.nonce.clone();
            delegated_response(&sim, target, aud, offline, &idc)
        }
        other => aad_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            &format!("The app requested an unsupported grant type '{other}'."),
        ),
    }
}

fn resource_not_found(scope: &str, t: &Tenant) -> Response {
    let resource = scope.trim_end_matches("/.default");
    aad_error(
        StatusCode::BAD_REQUEST,
        "invalid_resource",
        500011,
        &format!(
            "The resource principal named {resource} was not found in the tenant named {}. This can happen if the \
             application has not been installed by the administrator of the tenant or consented to by any user in \
             the tenant. You might have sent your authentication request to the wrong tenant.",
            t.display_name
        ),
    )
}

/// May the partner's service account get a delegated token in `t`? In the partner's own tenant,
/// always. In a customer tenant the app must be consented there (else AADSTS65001) and an active
/// GDAP relationship must cover the account (else AADSTS50020: the account "does not exist in
/// tenant", which is what Entra answers when no relationship or assignment covers the user).
fn delegated_access(sim: &Sim, t: &Tenant, client_id: &str) -> Result<(), Response> {
    if t.kind != TenantKind::Customer {
        return Ok(());
    }
    let partner = &sim.fleet.partner;
    let access = sim.access(t);
    if !access.active_relationship {
        return Err(aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            50020,
            &format!(
                "User account '{}' from identity provider 'https://sts.windows.net/{}/' does not exist in tenant '{}' \
                 and cannot access the application '{client_id}'({}) in that tenant. The account needs to be added as \
                 an external user in the tenant first. Sign out and sign in again with a different Azure Active \
                 Directory user account.",
                partner.service_account_upn,
                sim.fleet.partner_tenant().id,
                t.display_name,
                partner.app_display_name
            ),
        ));
    }
    if !access.consent {
        return Err(aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            65001,
            &format!(
                "The user or administrator has not consented to use the application with ID '{client_id}' named '{}'. \
                 Send an interactive authorization request for this user and resource.",
                partner.app_display_name
            ),
        ));
    }
    Ok(())
}

/// What decides the ID token and `client_info` of a delegated response.
struct IdTokenContext {
    /// [`identity_base`] of the request: ID tokens' `iss` lives under it.
    base: String,
    /// `openid` was in the scope.
    wants_id_token: bool,
    /// `client_info=1` was sent.
    client_info: bool,
    nonce: Option<String>,
}

/// A delegated token for the partner's service account, with a rotated refresh token, and an
/// ID token / `client_info` when asked for.
fn delegated_response(
    sim: &Sim,
    t: &Tenant,
    aud: &'static str,
    issue_refresh_token: bool,
    idc: &IdTokenContext,
) -> Response {
    let partner = &sim.fleet.partner;
    let lifetime = sim.token_lifetime();
    let at = mint(
        &sim.keys,
        &TokenRequest {
            tenant_id: t.id,
            audience: aud,
            app_id: partner.client_id,
            user: Some((partner.service_account_id, &partner.service_account_upn)),
            lifetime_secs: lifetime,
        },
    );
    let granted = match aud {
        AUD_GRAPH => crate::auth::DELEGATED_GRAPH_SCOPES
            .split(' ')
            .map(|s| format!("{AUD_GRAPH}/{s}"))
            .collect::<Vec<_>>()
            .join(" "),
        AUD_EXCHANGE => format!("{AUD_EXCHANGE}/Exchange.Manage"),
        other => format!("{other}/user_impersonation"),
    };
    let mut body = json!({
        "token_type": "Bearer",
        "scope": granted,
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": at,
    });
    if issue_refresh_token {
        body["refresh_token"] = json!(sim.identity.issue_refresh_token(partner.client_id));
    }
    if idc.wants_id_token {
        body["id_token"] = json!(id_token::mint_id_token(
            &sim.keys,
            &id_token::IdTokenRequest {
                issuer: issuer(&idc.base, &t.id.to_string()),
                client_id: partner.client_id,
                tenant_id: t.id,
                oid: partner.service_account_id,
                upn: &partner.service_account_upn,
                name: SERVICE_ACCOUNT_NAME,
                nonce: idc.nonce.as_deref(),
                lifetime_secs: 3600,
            },
        ));
    }
    if idc.client_info {
        // The account's home: the partner tenant, whichever tenant the token is for.
        body["client_info"] = json!(id_token::client_info(
            partner.service_account_id,
            sim.fleet.partner_tenant().id
        ));
    }
    Json(body).into_response()
}

async fn device_code(
    State(sim): State<Arc<Sim>>,
    Path(tenant): Path<String>,
    origin: Origin,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Err(r) = authority(&sim, &tenant, "invalid_request") {
        return r;
    }
    let Some(client_id) = form.get("client_id") else {
        return missing("client_id");
    };
    let Some(scope) = form.get("scope") else {
        return missing("scope");
    };
    let partner = &sim.fleet.partner;
    if client_id.parse::<Guid>().ok() != Some(partner.client_id) {
        return app_not_found(client_id, sim.fleet.partner_tenant());
    }
    if let Err(s) = resource_of(scope) {
        return invalid_scope(&s);
    }
    let g = random_guid();
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let user_code: String = g.0[..9]
        .iter()
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect();
    let device_code = format!(
        "DAQABAAEAAAD{}",
        secret_string(&[u64::from_le_bytes(g.0[8..].try_into().unwrap()), 0xDC], 120)
    );
    sim.identity.device_codes.lock().insert(
        device_code.clone(),
        DeviceCode {
            user_code: user_code.clone(),
            client_id: partner.client_id,
            scope: scope.clone(),
            expires: now_unix() + DEVICE_CODE_LIFETIME_SECS,
            state: DeviceState::Pending,
        },
    );
    // The sandbox's "browser": its own sign-in page stands in for microsoft.com/devicelogin.
    let verification_uri = format!("{}/_sim/devicelogin", origin.base());
    Json(json!({
        "user_code": user_code,
        "device_code": device_code,
        "verification_uri": verification_uri,
        "expires_in": DEVICE_CODE_LIFETIME_SECS,
        "interval": sim.initial.device_code_interval_secs,
        "message": format!("To sign in, use a web browser to open the page {verification_uri} and enter the code {user_code} to authenticate."),
    }))
    .into_response()
}

/// `GET /{tenant}/oauth2/v2.0/authorize`: signs the service account in and redirects back with
/// a code (see [`auth_code`]). Errors about the client or redirect URI are answered here (Entra
/// shows them on its own page); errors about the request go back to the redirect URI.
async fn authorize(
    State(sim): State<Arc<Sim>>,
    Path(tenant): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let auth = match authority(&sim, &tenant, "invalid_request") {
        Ok(a) => a,
        Err(r) => return r,
    };
    let partner = &sim.fleet.partner;
    let target = match auth {
        Authority::Tenant(t) => t,
        Authority::Multi => sim.fleet.partner_tenant(),
    };
    let Some(client_id) = q.get("client_id") else {
        return missing("client_id");
    };
    if client_id.parse::<Guid>().ok() != Some(partner.client_id) {
        return app_not_found(client_id, target);
    }
    let Some(redirect) = q.get("redirect_uri") else {
        return missing("redirect_uri");
    };
    if !auth_code::redirect_allowed(redirect) {
        return auth_code::redirect_mismatch(redirect, client_id);
    }
    let mode = q.get("response_mode").map(String::as_str).unwrap_or("query");
    let state = q.get("state").map(String::as_str);
    let back_with_error = |error: &str, code: u32, text: &str| {
        let desc = format!("AADSTS{code}: {text}");
        let mut params = vec![("error", error), ("error_description", desc.as_str())];
        if let Some(s) = state {
            params.push(("state", s));
        }
        auth_code::respond(redirect, mode, &params)
    };
    let response_type = q.get("response_type").map(String::as_str).unwrap_or("");
    if response_type != "code" {
        // [I] code; the error value is RFC 6749's.
        return back_with_error(
            "unsupported_response_type",
            700054,
            &format!("response_type '{response_type}' is not enabled for the application."),
        );
    }
    let Some(scope) = q.get("scope") else {
        return back_with_error(
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'scope'.",
        );
    };
    if let Err(s) = resource_of(scope) {
        return back_with_error(
            "invalid_scope",
            70011,
            &format!("The provided value for the input parameter 'scope' is not valid. The scope {s} is not valid."),
        );
    }
    if let Err(r) = delegated_access(&sim, target, client_id) {
        return r;
    }
    let challenge = q.get("code_challenge").map(|c| {
        let method = q.get("code_challenge_method").cloned();
        (c.clone(), method.unwrap_or_else(|| "plain".into()))
    });
    let code = auth_code::new_code();
    sim.identity.auth_codes.lock().insert(
        code.clone(),
        auth_code::AuthCode {
            client_id: partner.client_id,
            redirect_uri: redirect.clone(),
            scope: scope.clone(),
            nonce: q.get("nonce").cloned(),
            challenge,
            expires: now_unix() + auth_code::CODE_LIFETIME_SECS,
            redeemed: false,
        },
    );
    let session = random_guid().to_string();
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = state {
        params.push(("state", s));
    }
    params.push(("session_state", session.as_str()));
    auth_code::respond(redirect, mode, &params)
}

async fn device_login_page(State(sim): State<Arc<Sim>>) -> Html<String> {
    let upn = &sim.fleet.partner.service_account_upn;
    Html(format!(
        "<!doctype html><title>tenantctl-sim sign-in</title><h1>Sign in to the simulator</h1>\
         <p>Signing in as <b>{upn}</b>.</p>\
         <form method=post><label>Code <input name=user_code autofocus></label>\
         <button name=action value=approve>Approve</button> <button name=action value=decline>Decline</button></form>"
    ))
}

async fn device_login_submit(State(sim): State<Arc<Sim>>, Form(form): Form<HashMap<String, String>>) -> Response {
    let code = form.get("user_code").map(String::as_str).unwrap_or("");
    let approve = form.get("action").map(String::as_str) != Some("decline");
    if sim.identity.complete_device_code(code, approve) {
        Html(format!(
            "<p>{} You can close this window.</p>",
            if approve { "Signed in." } else { "Sign-in declined." }
        ))
        .into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            Html("<p>That code is unknown or expired.</p>".to_owned()),
        )
            .into_response()
    }
}

/// The OpenID Connect discovery document, its endpoints under the request's origin (and
/// `/login` when asked through the alias), its `issuer` the one ID tokens carry.
async fn openid_configuration(
    State(sim): State<Arc<Sim>>,
    Path(tenant): Path<String>,
    origin: Origin,
    uri: Uri,
) -> Response {
    let id = match authority(&sim, &tenant, "invalid_tenant") {
        Ok(Authority::Tenant(t)) => t.id.to_string(),
        Ok(Authority::Multi) => "{tenantid}".to_owned(),
        Err(r) => return r,
    };
    let base = identity_base(&origin, &uri);
    Json(json!({
        "token_endpoint": format!("{base}/{tenant}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/{tenant}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": issuer(&base, &id),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{}/graph/oidc/userinfo", origin.base()),
        "authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/{tenant}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username",
            "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
    }))
    .into_response()
}

async fn jwks(State(sim): State<Arc<Sim>>) -> Response {
    Json(json!({ "keys": [sim.keys.jwk.clone()] })).into_response()
}

/// `GET /_sim/credentials/certificate`: the certificate registered on the partner's app and its
/// private key (PEM), for clients that authenticate with a certificate assertion.
async fn credentials_certificate(State(sim): State<Arc<Sim>>) -> Response {
    Json(
        sim.identity
            .credentials
            .certificate
            .describe(sim.fleet.partner.client_id),
    )
    .into_response()
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct FederatedTokenRequest {
    subject: Option<String>,
    audience: Option<String>,
    lifetime_secs: Option<i64>,
}

/// `POST /_sim/federated-token`: a GitHub-Actions-style OIDC token from the simulated external
/// issuer (what `AZURE_FEDERATED_TOKEN_FILE` holds). By default for the subject and audience the
/// app's federated credential trusts; a JSON body may ask for others (to test refusals).
async fn federated_token(State(sim): State<Arc<Sim>>, body: axum::body::Bytes) -> Response {
    let req: FederatedTokenRequest = if body.is_empty() {
        FederatedTokenRequest::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(r) => r,
            Err(e) => return (StatusCode::BAD_REQUEST, Json(json!({ "error": e.to_string() }))).into_response(),
        }
    };
    let creds = &sim.identity.credentials;
    let fic = &creds.federated;
    let subject = req.subject.unwrap_or_else(|| fic.subject.clone());
    let audience = req.audience.unwrap_or_else(|| fic.audience.clone());
    let token = creds
        .federation_issuer
        .mint(&subject, &audience, req.lifetime_secs.unwrap_or(600));
    Json(json!({
        "token": token,
        "issuer": fic.issuer,
        "subject": subject,
        "audience": audience,
        "client_id": sim.fleet.partner.client_id.to_string(),
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_paths_at_the_root_and_under_the_alias() {
        for p in [
            "/contoso.onmicrosoft.com/oauth2/v2.0/token",
            "/login/common/oauth2/v2.0/devicecode",
            "/organizations/v2.0/.well-known/openid-configuration",
            "/9f1c0a1e-0000-4000-8000-000000000000/discovery/v2.0/keys",
        ] {
            assert!(is_identity_path(p), "{p}");
        }
        for p in [
            "/graph/v1.0/users",
            "/partnercenter/v1/customers",
            "/_sim/info",
            "/login",
            "/x",
        ] {
            assert!(!is_identity_path(p), "{p}");
        }
    }
}
