//! Access tokens: RS256 JWTs minted by the identity endpoint and validated by every resource
//! (Graph, Partner Center, Exchange). Validation uses the *published* JWKS components, so a
//! wrong JWKS document would fail every request.

use crate::ids::{random_guid, Guid};
use axum::http::HeaderMap;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

const SIGNING_KEY_PEM: &[u8] = include_bytes!("../keys/sim-signing-key.pem");
const SIGNING_JWK: &str = include_str!("../keys/sim-signing-key.jwk.json");
/// How many verified tokens [`Keys`] remembers (a token per tenant and resource in use).
const VERIFIED_TOKENS: usize = 8_192;

/// Audiences (the `aud` claim) of the resources the simulator serves.
pub const AUD_GRAPH: &str = "https://graph.microsoft.com";
pub const AUD_EXCHANGE: &str = "https://outlook.office365.com";
pub const AUD_PARTNER_CENTER: &str = "https://api.partnercenter.microsoft.com";

/// Maps a requested scope (`https://graph.microsoft.com/.default`, ...) to its audience.
pub fn audience_for_scope(scope: &str) -> Option<&'static str> {
    let resource = scope
        .trim()
        .trim_end_matches("/.default")
        .trim_end_matches("/user_impersonation")
        .trim_end_matches('/');
    match resource.to_ascii_lowercase().as_str() {
        "https://graph.microsoft.com" | "00000003-0000-0000-c000-000000000000" => Some(AUD_GRAPH),
        "https://outlook.office365.com" | "https://outlook.office.com" | "00000002-0000-0ff1-ce00-000000000000" => {
            Some(AUD_EXCHANGE)
        }
        "https://api.partnercenter.microsoft.com" | "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd" => Some(AUD_PARTNER_CENTER),
        _ => None,
    }
}

/// Claims of a v1.0 access token as Entra mints them for Graph-style resources.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub tid: String,
    pub oid: String,
    pub sub: String,
    pub appid: String,
    pub azp: String,
    /// "app" for client credentials, "user" for delegated tokens.
    pub idtyp: String,
    pub ver: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub scp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub roles: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub upn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub unique_name: Option<String>,
    pub uti: String,
}

pub struct Keys {
    /// Kept for [`Keys::sign_with_jsonwebtoken`], the reference the fast signer is tested against.
    #[cfg_attr(not(test), allow(dead_code))]
    encoding: EncodingKey,
    /// The signing key parsed once: `jsonwebtoken::encode` parses (and checks) the RSA key again
    /// for every token, which cost about as much CPU as the rest of a token request together.
    signer: ring::signature::RsaKeyPair,
    rng: ring::rand::SystemRandom,
    /// `{"typ":"JWT","alg":"RS256","kid":…}` base64url-encoded, as jsonwebtoken writes it.
    header_b64: String,
    decoding: DecodingKey,
    /// Tokens whose signature and claims checked out, with their claims: a token is presented
    /// again and again, and whether its signature is good depends on its bytes alone (so only
    /// its lifetime is checked again). Emptied when full.
    verified: Mutex<HashMap<String, Claims>>,
    pub kid: String,
    /// The JWK (public part) as served under `/discovery/v2.0/keys`.
    pub jwk: serde_json::Value,
}

impl Keys {
    pub fn load() -> Keys {
        let jwk: serde_json::Value = serde_json::from_str(SIGNING_JWK).expect("bundled JWK parses");
        let n = jwk["n"].as_str().expect("jwk n");
        let e = jwk["e"].as_str().expect("jwk e");
        let kid = jwk["kid"].as_str().unwrap_or("tenantctl-sim-1").to_owned();
        let mut h = Header::new(Algorithm::RS256);
        h.kid = Some(kid.clone());
        h.typ = Some("JWT".into());
        let header_b64 = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&h).expect("header serializes"));
        Keys {
            encoding: EncodingKey::from_rsa_pem(SIGNING_KEY_PEM).expect("bundled signing key parses"),
            signer: ring::signature::RsaKeyPair::from_pkcs8(&pem_der(SIGNING_KEY_PEM)).expect("bundled PKCS#8 key"),
            rng: ring::rand::SystemRandom::new(),
            header_b64,
            decoding: DecodingKey::from_rsa_components(n, e).expect("jwk components"),
            verified: Mutex::new(HashMap::new()),
            kid,
            jwk,
        }
    }

    pub fn sign(&self, claims: &Claims) -> String {
        self.sign_claims(claims)
    }

    /// Signs any claims set (access or ID token) with the published key (`kid` in the header).
    /// The same bytes as `jsonwebtoken::encode` (RS256 PKCS#1 v1.5 signatures are
    /// deterministic), with the key parsed once.
    pub fn sign_claims<T: Serialize>(&self, claims: &T) -> String {
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialize"));
        let message = format!("{}.{body}", self.header_b64);
        let mut sig = vec![0; self.signer.public().modulus_len()];
        self.signer
            .sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &self.rng,
                message.as_bytes(),
                &mut sig,
            )
            .expect("RS256 signing");
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    /// `jsonwebtoken::encode` with the same header: what [`Keys::sign_claims`] must equal.
    #[cfg(test)]
    fn sign_with_jsonwebtoken<T: Serialize>(&self, claims: &T) -> String {
        let mut h = Header::new(Algorithm::RS256);
        h.kid = Some(self.kid.clone());
        h.typ = Some("JWT".into());
        jsonwebtoken::encode(&h, claims, &self.encoding).expect("RS256 signing")
    }

    /// Validates signature and lifetime only; audience and tenant are the resource's checks.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        if let Some(c) = self.verified.lock().get(token) {
            // What `jsonwebtoken::decode` checks after the signature: `exp` and `nbf` (both
            // non-negative, or the token would not have passed), no leeway.
            let now = jsonwebtoken::get_current_timestamp();
            return if (c.exp as u64) < now {
                Err(AuthError::Expired)
            } else if c.nbf as u64 > now {
                Err(AuthError::NotYetValid)
            } else {
                Ok(c.clone())
            };
        }
        let c = self.decode(token)?;
        let mut verified = self.verified.lock();
        if verified.len() >= VERIFIED_TOKENS {
            verified.clear();
        }
        verified.insert(token.to_owned(), c.clone());
        Ok(c)
    }

    fn decode(&self, token: &str) -> Result<Claims, AuthError> {
        let mut v = Validation::new(Algorithm::RS256);
        v.validate_aud = false;
        v.leeway = 0;
        v.validate_nbf = true;
        v.set_required_spec_claims(&["exp", "nbf", "aud", "iss"]);
        match jsonwebtoken::decode::<Claims>(token, &self.decoding, &v) {
            Ok(d) => Ok(d.claims),
            Err(e) => Err(match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                jsonwebtoken::errors::ErrorKind::ImmatureSignature => AuthError::NotYetValid,
                jsonwebtoken::errors::ErrorKind::InvalidSignature => AuthError::BadSignature,
                _ => AuthError::Malformed,
            }),
        }
    }
}

/// The DER inside a PEM file (the base64 between the BEGIN and END lines).
fn pem_der(pem: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(pem).expect("PEM is text");
    let b64: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("PEM base64")
}

/// The simulator's "now" in Unix seconds: the one place identity and auth read the wall clock
/// (to be redirected to the simulator's injectable clock).
#[allow(clippy::disallowed_methods)] // the one wall-clock read of identity (see its doc)
pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Who is calling: what a resource learns from a valid token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub tenant_id: Guid,
    pub app_id: Guid,
    pub oid: Guid,
    /// Delegated (user) token; else app-only.
    pub delegated: bool,
    pub upn: Option<String>,
    pub scopes: Vec<String>,
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthError {
    Missing,
    Malformed,
    BadSignature,
    Expired,
    NotYetValid,
    WrongAudience,
}

impl AuthError {
    /// Graph's 401 message for each failure (code `InvalidAuthenticationToken`).
    pub fn graph_message(self) -> &'static str {
        match self {
            AuthError::Missing => "Access token is empty.",
            AuthError::Malformed => "IDX14100: JWT is not well formed, there are no dots (.).",
            AuthError::BadSignature => "Access token validation failure.",
            AuthError::Expired => "Lifetime validation failed, the token is expired.",
            AuthError::NotYetValid => "Lifetime validation failed, the token is not yet valid.",
            AuthError::WrongAudience => "Access token validation failure. Invalid audience.",
        }
    }
}

/// Reads the bearer token, verifies it and checks the audience.
pub fn authenticate(keys: &Keys, headers: &HeaderMap, audience: &str) -> Result<Caller, AuthError> {
    let raw = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(AuthError::Missing)?;
    let token = raw
        .strip_prefix("Bearer ")
        .or_else(|| raw.strip_prefix("bearer "))
        .ok_or(AuthError::Missing)?
        .trim();
    if token.is_empty() {
        return Err(AuthError::Missing);
    }
    if token.matches('.').count() != 2 {
        return Err(AuthError::Malformed);
    }
    let c = keys.verify(token)?;
    if !c.aud.eq_ignore_ascii_case(audience) {
        return Err(AuthError::WrongAudience);
    }
    let parse = |s: &str| s.parse::<Guid>().map_err(|_| AuthError::Malformed);
    Ok(Caller {
        tenant_id: parse(&c.tid)?,
        app_id: parse(&c.appid)?,
        oid: parse(&c.oid)?,
        delegated: c.idtyp == "user",
        upn: c.upn.clone(),
        scopes: c
            .scp
            .as_deref()
            .map(|s| s.split(' ').map(str::to_owned).collect())
            .unwrap_or_default(),
        roles: c.roles.clone().unwrap_or_default(),
    })
}

/// What a token is for; the identity endpoint fills it, [`mint`] signs it.
pub struct TokenRequest<'a> {
    pub tenant_id: Guid,
    pub audience: &'a str,
    pub app_id: Guid,
    /// `Some((oid, upn))` for a delegated token.
    pub user: Option<(Guid, &'a str)>,
    pub lifetime_secs: i64,
}

/// Delegated scopes a partner's multi-tenant app typically holds (Secure Application Model).
/// `AuditLog.Read.All`: sign-in activity and authentication-method registration (user-list,
/// authenticationmethodsroot-list-userregistrationdetails).
pub const DELEGATED_GRAPH_SCOPES: &str = "AuditLog.Read.All Directory.AccessAsUser.All Directory.ReadWrite.All Domain.ReadWrite.All DelegatedAdminRelationship.ReadWrite.All Reports.Read.All User.ReadWrite.All";
/// Application permissions consented for app-only calls.
pub const APP_GRAPH_ROLES: &[&str] = &[
    "AuditLog.Read.All",
    "Directory.Read.All",
    "Domain.ReadWrite.All",
    "User.ReadWrite.All",
    "Reports.Read.All",
    "Organization.Read.All",
    "ReportSettings.Read.All",
];

pub fn mint(keys: &Keys, req: &TokenRequest<'_>) -> String {
    let now = now_unix();
    let (oid, idtyp, scp, roles, upn) = match req.user {
        Some((oid, upn)) => {
            let scp = match req.audience {
                AUD_GRAPH => DELEGATED_GRAPH_SCOPES.to_owned(),
                AUD_EXCHANGE => "Exchange.Manage".to_owned(),
                _ => "user_impersonation".to_owned(),
            };
            (oid, "user", Some(scp), None, Some(upn.to_owned()))
        }
        None => {
            let roles = match req.audience {
                AUD_GRAPH => APP_GRAPH_ROLES.iter().map(|s| s.to_string()).collect(),
                AUD_EXCHANGE => vec!["Exchange.ManageAsApp".to_owned()],
                _ => vec![],
            };
            // An app-only token's oid is the service principal's object id in that tenant.
            (
                Guid::from_parts(&[req.app_id.tail_u32() as u64, req.tenant_id.tail_u32() as u64, 0x5E]),
                "app",
                None,
                Some(roles),
                None,
            )
        }
    };
    let claims = Claims {
        aud: req.audience.to_owned(),
        iss: format!("https://sts.windows.net/{}/", req.tenant_id),
        iat: now,
        nbf: now,
        exp: now + req.lifetime_secs,
        tid: req.tenant_id.to_string(),
        oid: oid.to_string(),
        sub: oid.to_string(),
        appid: req.app_id.to_string(),
        azp: req.app_id.to_string(),
        idtyp: idtyp.to_owned(),
        ver: "1.0".to_owned(),
        scp,
        roles,
        unique_name: upn.clone(),
        upn,
        uti: random_guid().to_string(),
    };
    keys.sign(&claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(token: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
        h
    }

    #[test]
    fn the_fast_signer_writes_what_jsonwebtoken_writes() {
        let keys = Keys::load();
        let claims = serde_json::json!({"aud": "https://graph.microsoft.com", "tid": "t", "exp": 1, "n": [1, 2]});
        assert_eq!(keys.sign_claims(&claims), keys.sign_with_jsonwebtoken(&claims));
        let c = Claims {
            aud: AUD_GRAPH.into(),
            iss: "https://sts.windows.net/x/".into(),
            iat: 1,
            nbf: 1,
            exp: 2,
            tid: "x".into(),
            oid: "o".into(),
            sub: "o".into(),
            appid: "a".into(),
            azp: "a".into(),
            idtyp: "app".into(),
            ver: "1.0".into(),
            scp: None,
            roles: Some(vec!["User.Read.All".into()]),
            unique_name: None,
            upn: None,
            uti: "u".into(),
        };
        assert_eq!(keys.sign(&c), keys.sign_with_jsonwebtoken(&c));
    }

    #[test]
    fn a_verified_token_is_checked_again_for_its_lifetime_only() {
        let keys = Keys::load();
        let req = TokenRequest {
            tenant_id: Guid::from_parts(&[1]),
            audience: AUD_GRAPH,
            app_id: Guid::from_parts(&[2]),
            user: None,
            lifetime_secs: 60,
        };
        let tok = mint(&keys, &req);
        let first = keys.verify(&tok).unwrap();
        let again = keys.verify(&tok).unwrap();
        assert_eq!(
            serde_json::to_value(&first).unwrap(),
            serde_json::to_value(&again).unwrap()
        );
        assert_eq!(keys.verified.lock().len(), 1);
        let now = jsonwebtoken::get_current_timestamp() as i64;
        keys.verified.lock().get_mut(&tok).unwrap().exp = now - 1;
        assert_eq!(keys.verify(&tok).unwrap_err(), AuthError::Expired);
        keys.verified.lock().get_mut(&tok).unwrap().exp = now + 30;
        assert!(keys.verify(&tok).is_ok());
        keys.verified.lock().get_mut(&tok).unwrap().nbf = now + 100;
        assert_eq!(keys.verify(&tok).unwrap_err(), AuthError::NotYetValid);
        // Failures are not remembered.
        let expired = mint(
            &keys,
            &TokenRequest {
                lifetime_secs: -5,
                ..req
            },
        );
        assert_eq!(keys.verify(&expired).unwrap_err(), AuthError::Expired);
        assert_eq!(keys.verified.lock().len(), 1);
    }

    #[test]
    fn minted_tokens_validate_and_wrong_audience_or_tampering_fails() {
        let keys = Keys::load();
        let t = Guid::from_parts(&[1]);
        let app = Guid::from_parts(&[2]);
        let tok = mint(
            &keys,
            &TokenRequest {
                tenant_id: t,
                audience: AUD_GRAPH,
                app_id: app,
                user: None,
                lifetime_secs: 60,
            },
        );
        let c = authenticate(&keys, &headers(&tok), AUD_GRAPH).unwrap();
        assert_eq!(c.tenant_id, t);
        assert!(!c.delegated);
        assert_eq!(
            authenticate(&keys, &headers(&tok), AUD_PARTNER_CENTER).unwrap_err(),
            AuthError::WrongAudience
        );
        // Flip one character in the middle of the signature.
        let mut bad: Vec<char> = tok.chars().collect();
        let k = bad.len() - 20;
        bad[k] = if bad[k] == 'A' { 'B' } else { 'A' };
        let bad: String = bad.into_iter().collect();
        assert_eq!(
            authenticate(&keys, &headers(&bad), AUD_GRAPH).unwrap_err(),
            AuthError::BadSignature
        );
        assert_eq!(
            authenticate(&keys, &HeaderMap::new(), AUD_GRAPH).unwrap_err(),
            AuthError::Missing
        );
        let expired = mint(
            &keys,
            &TokenRequest {
                tenant_id: t,
                audience: AUD_GRAPH,
                app_id: app,
                user: None,
                lifetime_secs: -5,
            },
        );
        assert_eq!(
            authenticate(&keys, &headers(&expired), AUD_GRAPH).unwrap_err(),
            AuthError::Expired
        );
    }
}
