//! Client assertions: an application proves who it is with a JWT instead of a secret.
//!
//! Certificate credentials (learn.microsoft.com/entra/identity-platform/certificate-credentials):
//! a JWT signed with the app's certificate key; header `alg` RS256, `typ` JWT, `x5t` (base64url
//! SHA-1 thumbprint of the DER certificate) and `x5t#S256` (SHA-256); claims `aud` = the token
//! endpoint URL, `iss` = `sub` = the client id, `jti` a GUID, `nbf`, `iat` and `exp` (5-10
//! minutes after `nbf` at most). The page now recommends PS256 with `x5t#S256`; RS256 with
//! both thumbprints is what MSAL sends for a certificate and what the simulator checks.
//! Workload identity federation (learn.microsoft.com/entra/workload-id/workload-identity-federation):
//! the assertion is a token another identity provider issued, read fresh from
//! `AZURE_FEDERATED_TOKEN_FILE` for each token request (it is rotated on disk).
//! Both are sent as `client_assertion` with `client_assertion_type` [`JWT_BEARER`].

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// `client_assertion_type` of a JWT client assertion (RFC 7523).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long a certificate assertion is valid.
pub const ASSERTION_LIFETIME: Duration = Duration::from_secs(600);

/// A certificate credential could not be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AssertionError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: Arc<std::io::Error>,
    },
    #[error("certificate PEM: {0}")]
    Pem(String),
    #[error("signing the client assertion: {0}")]
    Sign(#[source] Arc<jsonwebtoken::errors::Error>),
    #[error("the federated token file {0} is empty")]
    EmptyFederatedToken(PathBuf),
}

/// An application certificate with its private key, ready to sign assertions.
#[derive(Clone)]
pub struct ClientCertificate {
    key: Arc<EncodingKey>,
    x5t: String,
    x5t_s256: String,
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("x5t#S256", &self.x5t_s256)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    nbf: u64,
    iat: u64,
    exp: u64,
}

impl ClientCertificate {
    /// From a PEM holding the certificate and its RSA private key (PKCS#8 `PRIVATE KEY` or
    /// PKCS#1 `RSA PRIVATE KEY`), as `AZURE_CLIENT_CERTIFICATE_PATH` names one. With several
    /// certificates (a chain), the first is the app's.
    pub fn from_pem(pem_text: &[u8]) -> Result<ClientCertificate, AssertionError> {
        let blocks = pem::parse_many(pem_text).map_err(|e| AssertionError::Pem(e.to_string()))?;
        let cert = blocks
            .iter()
            .find(|b| b.tag() == "CERTIFICATE")
            .ok_or_else(|| AssertionError::Pem("no CERTIFICATE block".into()))?;
        let key = blocks
            .iter()
            .find(|b| matches!(b.tag(), "PRIVATE KEY" | "RSA PRIVATE KEY"))
            .ok_or_else(|| {
                AssertionError::Pem("no unencrypted RSA private key (PRIVATE KEY or RSA PRIVATE KEY block)".into())
            })?;
        let key = EncodingKey::from_rsa_pem(pem::encode(key).as_bytes())
            .map_err(|e| AssertionError::Pem(format!("private key: {e}")))?;
        let der = cert.contents();
        let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, der);
        let sha256 = ring::digest::digest(&ring::digest::SHA256, der);
        Ok(ClientCertificate {
            key: Arc::new(key),
            x5t: URL_SAFE_NO_PAD.encode(sha1.as_ref()),
            x5t_s256: URL_SAFE_NO_PAD.encode(sha256.as_ref()),
        })
    }

    pub fn from_file(path: &Path) -> Result<ClientCertificate, AssertionError> {
        let pem_text = std::fs::read(path).map_err(|e| AssertionError::Read {
            path: path.to_owned(),
            source: Arc::new(e),
        })?;
        ClientCertificate::from_pem(&pem_text)
    }

    /// Base64url SHA-1 thumbprint of the DER certificate (`x5t`).
    pub fn x5t(&self) -> &str {
        &self.x5t
    }

    /// Base64url SHA-256 thumbprint of the DER certificate (`x5t#S256`).
    pub fn x5t_s256(&self) -> &str {
        &self.x5t_s256
    }

    /// A signed assertion for `client_id` at the token endpoint `audience`, valid from `now`
    /// for [`ASSERTION_LIFETIME`]; `jti` must be unique per assertion.
    pub fn assertion(
        &self,
        client_id: &str,
        audience: &str,
        now: SystemTime,
        jti: uuid::Uuid,
    ) -> Result<String, AssertionError> {
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some("JWT".into());
        header.x5t = Some(self.x5t.clone());
        header.x5t_s256 = Some(self.x5t_s256.clone());
        let secs = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs();
        let claims = Claims {
            aud: audience,
            iss: client_id,
            sub: client_id,
            jti: jti.to_string(),
            nbf: secs,
            iat: secs,
            exp: secs + ASSERTION_LIFETIME.as_secs(),
        };
        jsonwebtoken::encode(&header, &claims, &self.key).map_err(|e| AssertionError::Sign(Arc::new(e)))
    }
}

/// A random (version 4) GUID for `jti`.
pub fn random_jti() -> uuid::Uuid {
    let mut bytes = [0u8; 16];
    // ring's system randomness; on failure fall back to fastrand (uniqueness, not secrecy).
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).is_err() {
        bytes = fastrand::u128(..).to_le_bytes();
    }
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// Reads a workload identity federation token (the file is rewritten when it rotates).
pub fn read_federated_token(path: &Path) -> Result<String, AssertionError> {
    let t = std::fs::read_to_string(path).map_err(|e| AssertionError::Read {
        path: path.to_owned(),
        source: Arc::new(e),
    })?;
    let t = t.trim();
    if t.is_empty() {
        return Err(AssertionError::EmptyFederatedToken(path.to_owned()));
    }
    Ok(t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    const CERT_AND_KEY: &[u8] = include_bytes!("../tests/data/app-cert-and-key.pem");
    const PUBLIC_KEY: &[u8] = include_bytes!("../tests/data/app-pub.pem");
    // From `openssl x509 -noout -fingerprint -sha1 / -sha256` of tests/data/app-cert.pem,
    // hex → base64url without padding.
    const X5T: &str = "JOj5yTHFMEHpEA-b0YWVn9RXjO4";
    const X5T_S256: &str = "hLPYkesjm2HKcmyf8JkqLErTKZTgCtDFHZU2wQAywJc";

    #[test]
    fn thumbprints_are_base64url_hashes_of_the_der_certificate() {
        let c = ClientCertificate::from_pem(CERT_AND_KEY).unwrap();
        assert_eq!(c.x5t(), X5T);
        assert_eq!(c.x5t_s256(), X5T_S256);
        assert!(!format!("{c:?}").contains("PRIVATE"));
    }

    /// The assertion format of learn.microsoft.com/entra/identity-platform/certificate-credentials.
    #[test]
    fn the_assertion_has_the_documented_header_and_claims_and_verifies_with_the_cert_key() {
        let c = ClientCertificate::from_pem(CERT_AND_KEY).unwrap();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_028_800);
        let aud = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token";
        let jti = random_jti();
        let jwt = c
            .assertion("11111111-2222-3333-4444-555555555555", aud, now, jti)
            .unwrap();

        let header = jsonwebtoken::decode_header(&jwt).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        assert_eq!(header.x5t.as_deref(), Some(X5T));
        assert_eq!(header.x5t_s256.as_deref(), Some(X5T_S256));

        let mut v = Validation::new(Algorithm::RS256);
        v.set_audience(&[aud]);
        v.validate_exp = false; // `now` is a fixed date in the past
        let key = DecodingKey::from_rsa_pem(PUBLIC_KEY).unwrap();
        let claims = jsonwebtoken::decode::<serde_json::Value>(&jwt, &key, &v)
            .unwrap()
            .claims;
        assert_eq!(claims["aud"], aud);
        assert_eq!(claims["iss"], "11111111-2222-3333-4444-555555555555");
        assert_eq!(claims["sub"], claims["iss"]);
        assert_eq!(claims["jti"], jti.to_string());
        assert_eq!(claims["nbf"], 1_764_028_800u64);
        assert_eq!(claims["exp"], 1_764_028_800u64 + 600);
        assert_eq!(jti.get_version_num(), 4);
        assert_ne!(random_jti(), jti);

        // A changed claim no longer verifies: the signature covers header and claims.
        let parts: Vec<&str> = jwt.split('.').collect();
        let forged_claims = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(
                &serde_json::json!({"aud": aud, "iss": "someone-else", "sub": "someone-else",
                "nbf": 1_764_028_800u64, "exp": 1_764_029_400u64}),
            )
            .unwrap(),
        );
        let forged = format!("{}.{forged_claims}.{}", parts[0], parts[2]);
        assert!(jsonwebtoken::decode::<serde_json::Value>(&forged, &key, &v).is_err());
    }

    #[test]
    fn a_pem_without_a_key_or_certificate_is_refused() {
        let cert_only: String = String::from_utf8_lossy(CERT_AND_KEY)
            .split("-----BEGIN PRIVATE KEY-----")
            .next()
            .unwrap()
            .to_owned();
        assert!(matches!(
            ClientCertificate::from_pem(cert_only.as_bytes()),
            Err(AssertionError::Pem(m)) if m.contains("private key")
        ));
        assert!(ClientCertificate::from_pem(PUBLIC_KEY).is_err());
        assert!(ClientCertificate::from_pem(b"not pem").is_err());
    }

    #[test]
    fn a_federated_token_is_read_fresh_and_an_empty_one_is_refused() {
        let dir = std::env::temp_dir().join(format!("tenantctl-fed-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("token");
        std::fs::write(&f, "eyJ.first.sig\n").unwrap();
        assert_eq!(read_federated_token(&f).unwrap(), "eyJ.first.sig");
        std::fs::write(&f, "eyJ.rotated.sig").unwrap();
        assert_eq!(read_federated_token(&f).unwrap(), "eyJ.rotated.sig");
        std::fs::write(&f, " \n").unwrap();
        assert!(matches!(
            read_federated_token(&f),
            Err(AssertionError::EmptyFederatedToken(_))
        ));
        assert!(matches!(
            read_federated_token(&dir.join("missing")),
            Err(AssertionError::Read { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
