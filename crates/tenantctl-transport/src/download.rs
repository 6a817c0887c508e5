//! Streamed downloads from pre-authenticated URLs (Graph's usage reports answer `302 Found`
//! with a `Location` that "do[es] not require an Authorization header" and is valid a few
//! minutes: learn.microsoft.com/graph/api/reportroot-getmailboxusagedetail).
//!
//! - The request is made here, fresh: it never carries a bearer token or any header of the
//!   call that produced the URL, whatever host the URL names.
//! - Retries follow the one classifier ([`crate::retry::classify`]) until an answer starts
//!   whose body is worth reading; the body is then handed over as a stream of chunks and never
//!   held whole. A failure in the middle of the body is an error item of the stream (the
//!   caller starts again from a new URL: the old one may have expired).
//! - The URL itself is a credential while it lives: messages name only its scheme and host.

use crate::http::{connection_refused, Executor, FailureKind, Request, Response, TransportError};
use crate::retry::{classify, Attempt, Decision, RetryClass};
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::StreamExt;
use http::{HeaderMap, StatusCode};
use std::sync::atomic::Ordering;

/// A download whose answer has started: status, headers and the body as chunks.
pub struct Download {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// Retries before this answer.
    pub retries: u32,
    pub body: BoxStream<'static, Result<Bytes, TransportError>>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("status", &self.status)
            .field("retries", &self.retries)
            .finish_non_exhaustive()
    }
}

/// Why a download gave no body.
#[derive(Debug)]
pub enum DownloadError {
    /// No answer could be had.
    Transport(TransportError),
    /// The server answered with an error status (the whole, small, body is in it).
    Status(Response),
}

/// `https://reports.office.com/data/download/…` → `https://reports.office.com/…`: a
/// pre-authenticated URL's path and query are its credential.
pub fn redact_download_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!("{}://{}/…", u.scheme(), u.host_str().unwrap_or("?")),
        Err(_) => "(a download URL)".to_owned(),
    }
}

impl Executor {
    /// GETs a pre-authenticated `url` without credentials and streams the body of a
    /// successful answer. Only `http`/`https` URLs are fetched.
    pub async fn download(&self, url: &str) -> Result<Download, DownloadError> {
        let mut req = Request::get(url);
        req = req.header("accept", "*/*");
        debug_assert!(req.headers.get(http::header::AUTHORIZATION).is_none());
        let scheme_ok = url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if !scheme_ok {
            return Err(DownloadError::Status(Response {
                status: StatusCode::BAD_REQUEST,
                headers: HeaderMap::new(),
                body: Bytes::from(format!("not an http(s) download URL: {}", redact_download_url(url))),
                retries: 0,
                retries_exhausted: false,
            }));
        }
        let shown = redact_download_url(url);
        let mut attempt: u32 = 0;
        let started = self.clock().now_mono();
        loop {
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let sent = self.client.get(url).headers(req.headers.clone()).send().await;
            let now = self.clock().now_system();
            let (decision, answer) = match sent {
                Ok(r) if r.status().is_success() => {
                    let status = r.status();
                    let headers = r.headers().clone();
                    let exec = self.clone();
                    let shown = shown.clone();
                    let body = futures::stream::unfold(Some(r), move |state| {
                        let exec = exec.clone();
                        let shown = shown.clone();
                        async move {
                            let mut r = state?;
                            match r.chunk().await {
                                Ok(Some(c)) => Some((Ok(c), Some(r))),
                                Ok(None) => None,
                                Err(e) => {
                                    let req = Request::get(shown);
                                    Some((Err(exec.connection_error(&req, 0, e)), None))
                                }
                            }
                        }
                    })
                    .boxed();
                    self.budget.deposit_success();
                    return Ok(Download {
                        status,
                        headers,
                        retries: attempt,
                        body,
                    });
                }
                Ok(r) => {
                    let status = r.status();
                    let headers = r.headers().clone();
                    // An error answer: small; read it whole for the message.
                    let body = r.bytes().await.unwrap_or_default();
                    let answer = Response {
                        status,
                        headers,
                        body,
                        retries: attempt,
                        retries_exhausted: false,
                    };
                    let d = classify(
                        Attempt::Status(status.as_u16(), answer.header("retry-after")),
                        true,
                        now,
                    );
                    (d, Ok(answer))
                }
                Err(e) => {
                    let d = match FailureKind::of(&e) {
                        FailureKind::Build | FailureKind::Certificate => Decision::Done,
                        FailureKind::Connect if connection_refused(&e) => Decision::Done,
                        FailureKind::Connect => classify(Attempt::ConnectFailed, true, now),
                        _ => classify(Attempt::Broken, true, now),
                    };
                    (d, Err(e))
                }
            };
            let fail = |answer: Result<Response, reqwest::Error>, exhausted: bool| match answer {
                Ok(mut r) => {
                    r.retries_exhausted = exhausted;
                    DownloadError::Status(r)
                }
                Err(e) => DownloadError::Transport(self.connection_error(&Request::get(shown.clone()), attempt, e)),
            };
            let (class, after) = match decision {
                Decision::Done => return Err(fail(answer, false)),
                Decision::Retry { class, after } => (class, after),
            };
            if class == RetryClass::Throttled {
                self.stats.throttled.fetch_add(1, Ordering::Relaxed);
            }
            let delay = after.unwrap_or_else(|| self.policy.backoff.delay(attempt, self.jitter.unit()));
            let give_up = attempt + 1
                >= crate::adaptive::attempts_allowed(
                    self.policy.max_attempts,
                    self.policy.max_throttled_attempts,
                    class,
                    after,
                )
                || delay > self.policy.max_retry_after
                || self.clock().elapsed(started) + delay > self.policy.max_total
                || !(crate::adaptive::free_retry(class, after) || self.budget.try_withdraw(class));
            if give_up {
                return Err(fail(answer, true));
            }
            tracing::debug!(url = %shown, ?class, ?delay, attempt, "retrying the download");
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            self.clock().sleep(delay).await;
            attempt += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{FixedJitter, ManualClock};
    use crate::http::RetryPolicy;
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server that answers each connection with the next canned answer and records the
    /// requests' heads.
    async fn server(answers: Vec<Vec<u8>>) -> (String, Arc<Mutex<Vec<String>>>) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(vec![]));
        let log = seen.clone();
        tokio::spawn(async move {
            for a in answers {
                let (mut s, _) = l.accept().await.unwrap();
                let mut buf = vec![0u8; 8192];
                let n = s.read(&mut buf).await.unwrap_or(0);
                log.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf[..n]).into_owned());
                let _ = s.write_all(&a).await;
                let _ = s.shutdown().await;
            }
        });
        (format!("http://{addr}/data/download/SECRET-PART?sig=abc"), seen)
    }

    fn executor(clock: &ManualClock) -> Executor {
        Executor::builder()
            .policy(RetryPolicy::default())
            .clock(clock.shared())
            .jitter(Arc::new(FixedJitter(0.5)))
            .build()
            .unwrap()
    }

    async fn body_of(d: Download) -> Vec<u8> {
        let mut out = vec![];
        let mut b = d.body;
        while let Some(c) = b.next().await {
            out.extend_from_slice(&c.unwrap());
        }
        out
    }

    #[tokio::test]
    async fn a_download_carries_no_credentials_and_streams_its_body() {
        let (url, seen) = server(vec![
            b"HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n".to_vec(),
        ])
        .await;
        let d = executor(&ManualClock::new(std::time::SystemTime::UNIX_EPOCH))
            .download(&url)
            .await
            .unwrap();
        assert_eq!(d.status, 200);
        assert_eq!(body_of(d).await, b"hello world");
        let head = seen.lock().unwrap()[0].to_ascii_lowercase();
        assert!(!head.contains("authorization"), "{head}");
        assert!(head.starts_with("get /data/download/secret-part?sig=abc "), "{head}");
    }

    #[tokio::test]
    async fn a_throttled_download_is_waited_out_on_the_clock() {
        let (url, seen) = server(vec![
            b"HTTP/1.1 429 Too Many Requests\r\nretry-after: 30\r\ncontent-length: 0\r\n\r\n".to_vec(),
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_vec(),
        ])
        .await;
        let clock = ManualClock::new(std::time::SystemTime::UNIX_EPOCH);
        let exec = executor(&clock);
        let run = tokio::spawn(async move { exec.download(&url).await });
        clock.wait_for_sleepers(1).await;
        clock.advance(std::time::Duration::from_secs(30));
        let d = run.await.unwrap().unwrap();
        assert_eq!(d.retries, 1);
        assert_eq!(body_of(d).await, b"ok");
        assert_eq!(seen.lock().unwrap().len(), 2);
        assert_eq!(
            clock.sleep_log(),
            vec![std::time::Duration::from_secs(30)],
            "Retry-After honoured"
        );
    }

    #[tokio::test]
    async fn an_expired_url_is_the_servers_answer_not_retried() {
        let (url, seen) = server(vec![
            b"HTTP/1.1 403 Forbidden\r\ncontent-length: 7\r\n\r\nexpired".to_vec()
        ])
        .await;
        match executor(&ManualClock::new(std::time::SystemTime::UNIX_EPOCH))
            .download(&url)
            .await
        {
            Err(DownloadError::Status(r)) => {
                assert_eq!(r.status, 403);
                assert_eq!(&r.body[..], b"expired");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(seen.lock().unwrap().len(), 1);
    }

    #[test]
    fn messages_name_only_the_scheme_and_host_of_a_download_url() {
        assert_eq!(
            redact_download_url("https://reports.office.com/data/download/JDFKdf2_eJXKS034dbc7e0t__XDe?x=1"),
            "https://reports.office.com/…"
        );
        assert_eq!(redact_download_url("not a url"), "(a download URL)");
    }
}
