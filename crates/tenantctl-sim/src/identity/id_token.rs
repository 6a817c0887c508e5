//! ID tokens and `client_info`, as the v2.0 token endpoint returns them.
//!
//! Claims per learn.microsoft.com/entra/identity-platform/id-token-claims-reference (v2.0):
//! `aud` (the client id), `iss` (`.../{tid}/v2.0`), `iat`, `nbf`, `exp`, `name`, `nonce` (when the
//! sign-in request carried one), `oid`, `preferred_username`, `sub` (pairwise per app), `tid`,
//! `uti`, `ver` = "2.0". Header `typ` JWT, `alg` RS256, `kid`.
//! `client_info` (requested with `client_info=1`, which MSAL always sends) is base64url JSON of
//! `uid` (the user's object id in its home tenant) and `utid` (the home tenant id); MSAL builds its
//! account id `uid.utid` from it.

use crate::auth::{now_unix, Keys};
use crate::ids::{random_guid, Guid};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// Claims of a v2.0 ID token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdTokenClaims {
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub nonce: Option<String>,
    pub oid: String,
    pub preferred_username: String,
    pub sub: String,
    pub tid: String,
    pub uti: String,
    pub ver: String,
}

/// Who signed in, for whom, and where.
pub struct IdTokenRequest<'a> {
    /// `{origin}[/login]/{tid}/v2.0`, the same issuer the discovery document names.
    pub issuer: String,
    pub client_id: Guid,
    pub tenant_id: Guid,
    pub oid: Guid,
    pub upn: &'a str,
    pub name: &'a str,
    pub nonce: Option<&'a str>,
    /// ID tokens live an hour [I: Entra's default].
    pub lifetime_secs: i64,
}

/// `sub`: a pairwise identifier, stable for one user and one app, different across apps.
pub fn pairwise_sub(oid: Guid, client_id: Guid) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, format!("{oid}|{client_id}").as_bytes());
    URL_SAFE_NO_PAD.encode(&d.as_ref()[..32])
}

pub fn mint_id_token(keys: &Keys, r: &IdTokenRequest<'_>) -> String {
    let now = now_unix();
    let claims = IdTokenClaims {
        aud: r.client_id.to_string(),
        iss: r.issuer.clone(),
        iat: now,
        nbf: now,
        exp: now + r.lifetime_secs,
        name: r.name.to_owned(),
        nonce: r.nonce.map(str::to_owned),
        oid: r.oid.to_string(),
        preferred_username: r.upn.to_owned(),
        sub: pairwise_sub(r.oid, r.client_id),
        tid: r.tenant_id.to_string(),
        uti: URL_SAFE_NO_PAD.encode(&random_guid().0[..16]),
        ver: "2.0".to_owned(),
    };
    keys.sign_claims(&claims)
}

/// `client_info`: base64url (no padding) of `{"uid":…,"utid":…}`.
pub fn client_info(uid: Guid, utid: Guid) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::json!({ "uid": uid.to_string(), "utid": utid.to_string() }).to_string())
}

/// Does a scope list ask for an ID token? (`openid`, as MSAL always sends with
/// `profile offline_access`.)
pub fn wants_id_token(scope: &str) -> bool {
    scope.split_whitespace().any(|s| s == "openid")
}
