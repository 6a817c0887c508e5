//! The authorization code flow (learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow),
//! what MSAL's interactive sign-in uses with a loopback redirect (`http://localhost:PORT`).
//!
//! `GET /{tenant}/oauth2/v2.0/authorize` signs the partner's service account in at once (the
//! simulator has no password page) and redirects to `redirect_uri` with `code` and `state`
//! (`response_mode` query, fragment or form_post). The code is single-use, lives 10 minutes
//! [I: Entra's figure], remembers `nonce` for the ID token and the PKCE `code_challenge`
//! (RFC 7636, `S256` or `plain`), and is redeemed with `grant_type=authorization_code`.

use crate::auth::now_unix;
use crate::errors::aad_error;
use crate::ids::{random_guid, Guid};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::collections::HashMap;

/// How long an authorization code can be redeemed.
pub const CODE_LIFETIME_SECS: i64 = 600;

/// An issued authorization code.
#[derive(Clone, Debug)]
pub struct AuthCode {
    pub client_id: Guid,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    /// `(code_challenge, method)`.
    pub challenge: Option<(String, String)>,
    pub expires: i64,
    pub redeemed: bool,
}

/// Redirect URIs the simulated app registration accepts: loopback addresses on any port and
/// path (Entra ignores the port of `localhost` redirect URIs of public clients), and the native
/// client URI.
pub fn redirect_allowed(uri: &str) -> bool {
    if uri == "https://login.microsoftonline.com/common/oauth2/nativeclient" {
        return true;
    }
    match url::Url::parse(uri) {
        Ok(u) => {
            matches!(u.scheme(), "http" | "https")
                && matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
                && u.fragment().is_none()
        }
        Err(_) => false,
    }
}

/// AADSTS50011 for a redirect URI the app does not have (shown on Entra's page, not redirected).
pub fn redirect_mismatch(uri: &str, client_id: &str) -> Response {
    aad_error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        50011,
        &format!(
            "The redirect URI '{uri}' specified in the request does not match the redirect URIs configured for the \
             application '{client_id}'. Make sure the redirect URI sent in the request matches one added to your \
             application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about \
             how to fix this."
        ),
    )
}

/// A fresh opaque code.
pub fn new_code() -> String {
    let mut raw = Vec::with_capacity(48);
    for _ in 0..3 {
        raw.extend_from_slice(&random_guid().0);
    }
    format!("1.sim.{}", URL_SAFE_NO_PAD.encode(raw))
}

/// Sends the user agent back to the client with `params`, as `response_mode` asks.
pub fn respond(redirect_uri: &str, response_mode: &str, params: &[(&str, &str)]) -> Response {
    if response_mode == "form_post" {
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('"', "&quot;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        let inputs: String = params
            .iter()
            .map(|(k, v)| format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", esc(k), esc(v)))
            .collect();
        return Html(format!(
            "<html><head><title>Working...</title></head><body><form method=\"POST\" name=\"hiddenform\" \
             action=\"{}\">{inputs}<noscript><p>Script is disabled. Click Submit to continue.</p>\
             <input type=\"submit\" value=\"Submit\"></noscript></form>\
             <script>document.forms[0].submit();</script></body></html>",
            esc(redirect_uri)
        ))
        .into_response();
    }
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter())
        .finish();
    let sep = match response_mode {
        "fragment" => "#",
        _ if redirect_uri.contains('?') => "&",
        _ => "?",
    };
    (
        StatusCode::FOUND,
        [(header::LOCATION, format!("{redirect_uri}{sep}{encoded}"))],
    )
        .into_response()
}

/// Checks a PKCE `code_verifier` against the stored challenge.
pub fn verifier_matches(challenge: &(String, String), verifier: Option<&str>) -> bool {
    let Some(v) = verifier else {
        return false;
    };
    let (c, method) = challenge;
    if method.eq_ignore_ascii_case("S256") {
        let d = ring::digest::digest(&ring::digest::SHA256, v.as_bytes());
        URL_SAFE_NO_PAD.encode(d.as_ref()) == *c
    } else {
        v == c
    }
}

/// Takes the code for redemption: checks it exists, belongs to `client_id`, is unexpired and
/// unused, and that `redirect_uri` and the PKCE verifier match. Marks it redeemed.
pub fn redeem(
    codes: &mut HashMap<String, AuthCode>,
    form: &HashMap<String, String>,
    client_id: &str,
) -> Result<AuthCode, Response> {
    let Some(code) = form.get("code") else {
        return Err(aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'code'.",
        ));
    };
    let Some(c) = codes.get_mut(code) else {
        return Err(aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            9002313,
            "Invalid request. Request is malformed or invalid.",
        ));
    };
    if c.redeemed {
        // Real text: AzureAD/microsoft-identity-web#2612.
        return Err(aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            54005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing \
             refresh token.",
        ));
    }
    if c.client_id.to_string() != client_id.to_ascii_lowercase() {
        return Err(aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            70000,
            "Provided grant is invalid or malformed.",
        ));
    }
    if now_unix() > c.expires {
        return Err(aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive \
             authorization request for this user and resource.",
        ));
    }
    let sent_redirect = form.get("redirect_uri").map(String::as_str).unwrap_or("");
    if sent_redirect != c.redirect_uri {
        // [I] code and text.
        return Err(aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            500112,
            &format!(
                "The reply address '{sent_redirect}' does not match the reply address '{}' provided when requesting \
                 Authorization code.",
                c.redirect_uri
            ),
        ));
    }
    if let Some(ch) = &c.challenge {
        if !verifier_matches(ch, form.get("code_verifier").map(String::as_str)) {
            // Real text: CoasterKaty/PHPAzureADoAuth#18.
            return Err(aad_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                501481,
                "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
            ));
        }
    }
    c.redeemed = true;
    Ok(c.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects_on_any_port_are_registered_others_are_not() {
        assert!(redirect_allowed("http://localhost:51234"));
        assert!(redirect_allowed("http://localhost"));
        assert!(redirect_allowed("http://127.0.0.1:8400/callback"));
        assert!(redirect_allowed(
            "https://login.microsoftonline.com/common/oauth2/nativeclient"
        ));
        assert!(!redirect_allowed("https://evil.example/cb"));
        assert!(!redirect_allowed("not a url"));
    }

    #[test]
    fn pkce_s256_and_plain() {
        // RFC 7636 appendix B.
        let ch = (
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_owned(),
            "S256".to_owned(),
        );
        assert!(verifier_matches(
            &ch,
            Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        ));
        assert!(!verifier_matches(&ch, Some("wrong")));
        assert!(!verifier_matches(&ch, None));
        assert!(verifier_matches(&("abc".into(), "plain".into()), Some("abc")));
    }
}
