//! Client assertions (`private_key_jwt`) for confidential clients: a certificate registered for
//! the partner's app, and a federated identity credential (workload identity federation).
//!
//! learn.microsoft.com/entra/identity-platform/certificate-credentials: the assertion is an RS256
//! JWT whose header names the certificate (`x5t` = base64url SHA-1 thumbprint, or `x5t#S256`),
//! with `aud` = the token endpoint, `iss` = `sub` = the client id, `jti`, `exp`, `nbf`.
//! learn.microsoft.com/entra/workload-id/workload-identity-federation: an assertion issued by a
//! trusted external issuer (GitHub Actions, Kubernetes, ...) whose `iss`/`sub`/`aud` match one of
//! the app's federated credentials (`aud` is `api://AzureADTokenExchange`).

use crate::auth::now_unix;
use crate::errors::aad_error;
use crate::ids::Guid;
use axum::http::StatusCode;
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Deserialize;
use serde_json::json;

/// `client_assertion_type` of a JWT client assertion (RFC 7523).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The audience Entra expects in a federated assertion.
pub const FEDERATED_AUDIENCE: &str = "api://AzureADTokenExchange";
/// The issuer the simulator's federated credential trusts: GitHub Actions' OIDC issuer.
pub const FEDERATED_ISSUER: &str = "https://token.actions.githubusercontent.com";

const APP_CERT_KEY_PEM: &str = include_str!("../../keys/app-certificate-key.pem");
const FEDERATION_KEY_PEM: &str = include_str!("../../keys/federation-issuer-key.pem");

/// A certificate registered on the partner's app registration, with its private key (handed to
/// clients through `GET /_sim/credentials/certificate`).
pub struct AppCertificate {
    /// The X.509 certificate, PEM.
    pub certificate_pem: String,
    /// Its PKCS#8 private key, PEM.
    pub private_key_pem: String,
    /// SHA-1 thumbprint, upper-case hex (as the portal and AADSTS messages show it).
    pub thumbprint: String,
    /// `x5t`: base64url of the SHA-1 thumbprint.
    pub x5t: String,
    /// `x5t#S256`: base64url of the SHA-256 thumbprint.
    pub x5t_s256: String,
    pub not_before: i64,
    pub not_after: i64,
    decoding: DecodingKey,
}

impl AppCertificate {
    /// A self-signed certificate for the app `client_id`, deterministic for a given client id
    /// (fixed key, serial and validity; RSA PKCS#1 v1.5 signatures are deterministic).
    pub fn generate(client_id: Guid) -> AppCertificate {
        let key = rcgen::KeyPair::from_pem(APP_CERT_KEY_PEM).expect("bundled app certificate key parses");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("certificate params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, format!("tenantctl-sim app {client_id}"));
        let not_before = time::macros::datetime!(2025-01-01 00:00 UTC);
        let not_after = time::macros::datetime!(2035-01-01 00:00 UTC);
        params.not_before = not_before;
        params.not_after = not_after;
        // A positive serial: a leading 0x01 keeps the DER integer's sign bit clear.
        let mut serial = vec![0x01];
        serial.extend_from_slice(&client_id.0[..15]);
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
        let cert = params.self_signed(&key).expect("self-signed app certificate");
        let der = cert.der().to_vec();
        let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &der);
        let sha256 = ring::digest::digest(&ring::digest::SHA256, &der);
        AppCertificate {
            certificate_pem: cert.pem(),
            private_key_pem: key.serialize_pem(),
            thumbprint: sha1.as_ref().iter().map(|b| format!("{b:02X}")).collect(),
            x5t: URL_SAFE_NO_PAD.encode(sha1.as_ref()),
            x5t_s256: URL_SAFE_NO_PAD.encode(sha256.as_ref()),
            not_before: not_before.unix_timestamp(),
            not_after: not_after.unix_timestamp(),
            decoding: DecodingKey::from_rsa_pem(key.public_key_pem().as_bytes()).expect("public key"),
        }
    }

    /// What `GET /_sim/credentials/certificate` answers.
    pub fn describe(&self, client_id: Guid) -> serde_json::Value {
        json!({
            "client_id": client_id.to_string(),
            "thumbprint": self.thumbprint,
            "x5t": self.x5t,
            "x5t#S256": self.x5t_s256,
            "certificate_pem": self.certificate_pem,
            "private_key_pem": self.private_key_pem,
            // Cert and key in one file, as AZURE_CLIENT_CERTIFICATE_PATH expects.
            "pem": format!("{}{}", self.private_key_pem, self.certificate_pem),
        })
    }
}

/// A federated identity credential of the app: which external tokens it accepts.
#[derive(Clone, Debug)]
pub struct FederatedCredential {
    pub issuer: String,
    pub subject: String,
    pub audience: String,
}

/// The simulated external issuer (GitHub Actions' OIDC provider) and its signing key.
pub struct FederationIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    kid: String,
}

impl FederationIssuer {
    pub fn load() -> FederationIssuer {
        let key = rcgen::KeyPair::from_pem(FEDERATION_KEY_PEM).expect("bundled federation key parses");
        FederationIssuer {
            encoding: EncodingKey::from_rsa_pem(FEDERATION_KEY_PEM.as_bytes()).expect("federation key"),
            decoding: DecodingKey::from_rsa_pem(key.public_key_pem().as_bytes()).expect("federation public key"),
            kid: "tenantctl-sim-federation-1".into(),
        }
    }

    /// A GitHub-style OIDC token for `subject` and `audience`, valid `lifetime_secs`.
    pub fn mint(&self, subject: &str, audience: &str, lifetime_secs: i64) -> String {
        let now = now_unix();
        let mut h = Header::new(Algorithm::RS256);
        h.kid = Some(self.kid.clone());
        h.typ = Some("JWT".into());
        let claims = json!({
            "jti": crate::ids::random_guid().to_string(),
            "sub": subject,
            "aud": audience,
            "iss": FEDERATED_ISSUER,
            "nbf": now,
            "iat": now,
            "exp": now + lifetime_secs,
        });
        jsonwebtoken::encode(&h, &claims, &self.encoding).expect("RS256 signing")
    }
}

/// Everything the token endpoint needs to check client assertions of the partner's app.
pub struct Credentials {
    pub certificate: AppCertificate,
    pub federated: FederatedCredential,
    pub federation_issuer: FederationIssuer,
}

impl Credentials {
    pub fn new(client_id: Guid, partner_domain: &str) -> Credentials {
        let org = partner_domain.split('.').next().unwrap_or("partner");
        Credentials {
            certificate: AppCertificate::generate(client_id),
            federated: FederatedCredential {
                issuer: FEDERATED_ISSUER.into(),
                subject: format!("repo:{org}/tenantctl-automation:environment:production"),
                audience: FEDERATED_AUDIENCE.into(),
            },
            federation_issuer: FederationIssuer::load(),
        }
    }
}

#[derive(Deserialize, Default)]
struct AssertionClaims {
    #[serde(default)]
    aud: Option<serde_json::Value>,
    #[serde(default)]
    iss: Option<String>,
    #[serde(default)]
    sub: Option<String>,
    /// Seconds; MSAL Python sends fractional ones (`"exp": 1795628689.065`).
    #[serde(default)]
    exp: Option<f64>,
    #[serde(default)]
    nbf: Option<f64>,
    #[serde(default)]
    jti: Option<String>,
}

impl AssertionClaims {
    fn audiences(&self) -> Vec<String> {
        match &self.aud {
            Some(serde_json::Value::String(s)) => vec![s.clone()],
            Some(serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
            _ => vec![],
        }
    }
}

/// How the client authenticated with an assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssertionKind {
    Certificate,
    Federated,
}

fn invalid_jwt(detail: &str) -> Response {
    aad_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        50027,
        &format!("Invalid JWT token. {detail}"),
    )
}

/// ISO 8601 with seven fraction digits, as AADSTS700024 prints times.
fn iso7(unix: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.0000000Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Clock skew Entra tolerates on `nbf` [I: 5 minutes, the usual token-validation default].
const SKEW_SECS: i64 = 300;

fn check_lifetime(c: &AssertionClaims) -> Result<(), Response> {
    let now = now_unix();
    let nbf = c.nbf.map(|x| x as i64).unwrap_or(0);
    let Some(exp) = c.exp.map(|x| x as i64) else {
        return Err(invalid_jwt("Token does not contain an expiry claim."));
    };
    if exp <= now || nbf > now + SKEW_SECS {
        // Text of a real answer (AzureAD/microsoft-authentication-library-for-java#984,
        // AzureAD/microsoft-authentication-library-for-dotnet#4951): `invalid_client`.
        return Err(aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700024,
            &format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, \
                 expiry time of assertion {}. Review the documentation at \
                 https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
                iso7(now),
                iso7(nbf),
                iso7(exp)
            ),
        ));
    }
    Ok(())
}

/// Validates `client_assertion` for the app `client_id` (the form's, if sent) at a token
/// endpoint reachable as any of `token_endpoints`. Returns the authenticated client id.
pub fn validate(
    creds: &Credentials,
    app_id: Guid,
    form_client_id: Option<&str>,
    assertion: &str,
    token_endpoints: &[String],
) -> Result<(String, AssertionKind), Response> {
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| invalid_jwt("Token format not valid."))?;
    let unverified: AssertionClaims = assertion
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok())
        .and_then(|raw| serde_json::from_slice(&raw).ok())
        .ok_or_else(|| invalid_jwt("Token format not valid."))?;
    let app = app_id.to_string();
    let client_id = form_client_id
        .map(str::to_ascii_lowercase)
        .or_else(|| unverified.sub.clone())
        .unwrap_or_default();
    let self_issued = unverified
        .iss
        .as_deref()
        .is_some_and(|i| i.eq_ignore_ascii_case(&client_id));
    if self_issued {
        certificate_assertion(creds, &app, &client_id, &header, assertion, token_endpoints)
            .map(|()| (client_id, AssertionKind::Certificate))
    } else {
        federated_assertion(creds, &app, &client_id, &header, assertion, &unverified)
            .map(|()| (client_id, AssertionKind::Federated))
    }
}

fn certificate_assertion(
    creds: &Credentials,
    app: &str,
    client_id: &str,
    header: &Header,
    assertion: &str,
    token_endpoints: &[String],
) -> Result<(), Response> {
    if client_id != app {
        return Err(aad_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory. This can happen if the \
                 application has not been installed by the administrator of the tenant or consented to by any user \
                 in the tenant. You may have sent your authentication request to the wrong tenant."
            ),
        ));
    }
    let cert = &creds.certificate;
    // The thumbprint the client says it used, as upper-case hex of SHA-1 (or SHA-256).
    // base64url with or without padding: MSAL Python pads (`"x5t": "wxCy...KLE="`).
    let presented = match (header.x5t.as_deref(), header.x5t_s256.as_deref()) {
        (Some(x5t), _) => Some((x5t.trim_end_matches('=') == cert.x5t, x5t)),
        (None, Some(s256)) => Some((s256.trim_end_matches('=') == cert.x5t_s256, s256)),
        (None, None) => None,
    };
    let Some((known, raw)) = presented else {
        // MSAL.NET#124: "AADSTS50027: Invalid JWT token. No certificate thumbprint specified in token header."
        return Err(invalid_jwt("No certificate thumbprint specified in token header."));
    };
    let hex: String = URL_SAFE_NO_PAD
        .decode(raw.trim_end_matches('='))
        .map(|b| b.iter().map(|x| format!("{x:02X}")).collect())
        .unwrap_or_else(|_| raw.to_owned());
    if !known {
        // Real text: AzureAD/microsoft-authentication-library-for-js#8339.
        return Err(aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700027,
            &format!(
                "The certificate with identifier used to sign the client assertion is not registered on application. \
                 [Reason - The key was not found., Thumbprint of key used by client: '{hex}', Please visit the Azure \
                 Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{app}'. Review the \
                 documentation at https://docs.microsoft.com/en-us/graph/deployment-errors for more details.]"
            ),
        ));
    }
    let mut v = Validation::new(signing_alg(header)?);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    let claims = match jsonwebtoken::decode::<AssertionClaims>(assertion, &cert.decoding, &v) {
        Ok(d) => d.claims,
        Err(e) if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::InvalidSignature) => {
            // [I] wording: 700027 with the reason Entra gives for a signature mismatch
            // (the same reason text as AADSTS50013 in Azure/azure-sdk-for-java#25109).
            return Err(aad_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                700027,
                &format!(
                    "Client assertion failed signature validation. [Reason - The provided signature value did not \
                     match the expected signature value., Thumbprint of key used by client: '{}', Found key \
                     'Start={}, End={}']",
                    cert.thumbprint,
                    crate::identity::fmt_ts(cert.not_before),
                    crate::identity::fmt_ts(cert.not_after)
                ),
            ));
        }
        Err(_) => return Err(invalid_jwt("Token format not valid.")),
    };
    if claims.sub.as_deref().map(str::to_ascii_lowercase).as_deref() != Some(app) {
        // [I] code and text.
        return Err(aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700023,
            "Client assertion subject claim does not match the client id of the application.",
        ));
    }
    if claims.jti.as_deref().unwrap_or("").is_empty() {
        return Err(invalid_jwt("The 'jti' claim is missing."));
    }
    check_lifetime(&claims)?;
    let auds = claims.audiences();
    if !auds.iter().any(|a| {
        token_endpoints
            .iter()
            .any(|t| t.eq_ignore_ascii_case(a.trim_end_matches('/')))
    }) {
        // adal-python#79: "AADSTS50012: Client assertion audience claim does not match Realm issuer."
        return Err(aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            50012,
            "Client assertion audience claim does not match Realm issuer.",
        ));
    }
    Ok(())
}

/// RS256, or PS256 (RSA-PSS, which MSAL uses with `x5t#S256`); Entra accepts both [I: PS256
/// observed from MSAL Python 1.39 with a `public_certificate`].
fn signing_alg(header: &Header) -> Result<Algorithm, Response> {
    match header.alg {
        Algorithm::RS256 | Algorithm::PS256 => Ok(header.alg),
        other => Err(invalid_jwt(&format!("Unsupported signing algorithm '{other:?}'."))),
    }
}

fn federated_assertion(
    creds: &Credentials,
    app: &str,
    client_id: &str,
    header: &Header,
    assertion: &str,
    unverified: &AssertionClaims,
) -> Result<(), Response> {
    let issuer = unverified.iss.clone().unwrap_or_default();
    let subject = unverified.sub.clone().unwrap_or_default();
    let audience = unverified.audiences().join(",");
    let fic = &creds.federated;
    if client_id != app || issuer != fic.issuer {
        // Real text: Azure/azure-workload-identity#616 (400 invalid_request).
        return Err(aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            70021,
            &format!(
                "No matching federated identity record found for presented assertion. Assertion Issuer: '{issuer}'. \
                 Assertion Subject: '{subject}'. Assertion Audience: '{audience}'. \
                 https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
            ),
        ));
    }
    let mut v = Validation::new(signing_alg(header)?);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    let claims = match jsonwebtoken::decode::<AssertionClaims>(assertion, &creds.federation_issuer.decoding, &v) {
        Ok(d) => d.claims,
        // [I] code: the issuer's keys do not verify the assertion.
        Err(e) if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::InvalidSignature) => {
            return Err(aad_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                700027,
                "Client assertion failed signature validation.",
            ))
        }
        Err(_) => return Err(invalid_jwt("Token format not valid.")),
    };
    check_lifetime(&claims)?;
    if !claims.audiences().contains(&fic.audience) {
        // [I] text, by analogy with AADSTS700213 below.
        return Err(aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            700212,
            &format!(
                "No matching federated identity record found for presented assertion audience '{audience}'. Check \
                 your federated identity credential Subject, Audience and Issuer against the presented assertion. \
                 https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
            ),
        ));
    }
    if claims.sub.as_deref() != Some(fic.subject.as_str()) {
        // Real text: dotnet/maui#31978 (AADSTS700213; matching is case-sensitive).
        return Err(aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            700213,
            &format!(
                "No matching federated identity record found for presented assertion subject '{subject}'. Check your \
                 federated identity credential Subject, Audience and Issuer against the presented assertion. \
                 https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
            ),
        ));
    }
    Ok(())
}
