//! The origin (scheme + host) a request came in on.
//!
//! Every absolute URL the simulator emits (discovery endpoints, `verification_uri`,
//! `@odata.nextLink`, ...) is built from [`Origin`], never from a fixed base: a client that
//! reached the simulator as `https://localhost:8443` must be sent back to `https://localhost:8443`.
//! The scheme comes from the listener (TLS or not, told by [`ListenerInfo`], which `start` puts
//! on every request); the host from the `Host` header, else the URI's authority, else the
//! address the listener is bound to.

use axum::extract::FromRequestParts;
use axum::Router;
use http::request::Parts;
use std::convert::Infallible;

/// What the listener knows about itself; `start` adds it to every request as an extension.
#[derive(Clone, Debug)]
pub struct ListenerInfo {
    /// Serving TLS (`https`).
    pub https: bool,
    /// `127.0.0.1:PORT`: the host used when a request names none.
    pub authority: String,
}

/// Puts `info` on every request the router serves.
pub fn layer<S: Clone + Send + Sync + 'static>(router: Router<S>, info: ListenerInfo) -> Router<S> {
    router.layer(axum::Extension(info))
}

/// Scheme and host of the incoming request, e.g. `https` + `127.0.0.1:8443`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub scheme: &'static str,
    pub host: String,
}

impl Origin {
    /// `scheme://host`, without a trailing slash.
    pub fn base(&self) -> String {
        format!("{}://{}", self.scheme, self.host)
    }

    /// The origin of a request from its parts.
    pub fn of(parts: &Parts) -> Origin {
        Origin::from_parts(&parts.headers, &parts.extensions, &parts.uri)
    }

    /// The origin from a request's headers, extensions and URI.
    pub fn from_parts(headers: &http::HeaderMap, extensions: &http::Extensions, uri: &http::Uri) -> Origin {
        let info = extensions.get::<ListenerInfo>();
        let scheme = if info.is_some_and(|i| i.https) { "https" } else { "http" };
        let host = headers
            .get(http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| uri.authority().map(|a| a.as_str().to_owned()))
            .filter(|h| plausible_host(h))
            .or_else(|| info.map(|i| i.authority.clone()))
            .unwrap_or_else(|| "127.0.0.1".to_owned());
        Origin { scheme, host }
    }
}

/// A host[:port] we are willing to echo into URLs (no paths, userinfo or spaces).
fn plausible_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 255
        && h.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_'))
}

impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Origin::of(parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(host: Option<&str>, https: bool) -> Parts {
        let mut b = http::Request::builder().uri("/x");
        if let Some(h) = host {
            b = b.header("host", h);
        }
        let (mut p, _) = b.body(()).unwrap().into_parts();
        p.extensions.insert(ListenerInfo {
            https,
            authority: "127.0.0.1:9".into(),
        });
        p
    }

    #[test]
    fn scheme_from_the_listener_host_from_the_request() {
        assert_eq!(
            Origin::of(&parts(Some("localhost:8443"), true)).base(),
            "https://localhost:8443"
        );
        assert_eq!(
            Origin::of(&parts(Some("127.0.0.1:80"), false)).base(),
            "http://127.0.0.1:80"
        );
        // No Host header, or one that is not a host: the listener's own address.
        assert_eq!(Origin::of(&parts(None, false)).base(), "http://127.0.0.1:9");
        assert_eq!(
            Origin::of(&parts(Some("evil.example/path?x"), true)).base(),
            "https://127.0.0.1:9"
        );
    }
}
