//! TLS mode (`serve --tls`): Microsoft's libraries (MSAL, azure-identity, the Graph SDKs) only
//! talk https, so the simulator can serve TLS with a throwaway CA it creates at start (server
//! certificate for `localhost`, `127.0.0.1` and `::1`), or with a certificate and key given as PEM
//! files. The generated CA's certificate is written to a PEM file (`ca_file` in the ready line),
//! which a client adds as an extra trust root; its private key never leaves memory.

use axum::Router;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// TLS settings of [`crate::SimConfig`].
#[derive(Clone, Debug, Default)]
pub struct TlsOptions {
    /// PEM certificate chain to serve (with `key_file`); without it a throwaway CA and a server
    /// certificate are generated at start.
    pub cert_file: Option<PathBuf>,
    /// PEM private key of `cert_file`.
    pub key_file: Option<PathBuf>,
    /// Directory the generated CA certificate is written to (default: a new directory under the
    /// system's temp dir).
    pub dir: Option<PathBuf>,
    /// Set by `start`: where the generated CA certificate (PEM) was written.
    pub ca_file: Option<PathBuf>,
}

/// What `start` needs to serve TLS.
pub struct TlsSetup {
    pub config: Arc<rustls::ServerConfig>,
    /// The generated CA certificate, PEM (None when serving given files).
    pub ca_pem: Option<String>,
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

/// Builds the server's TLS configuration; with a generated CA, writes it and records its path
/// in `opts.ca_file`.
pub fn prepare(opts: &mut TlsOptions, bind: IpAddr) -> io::Result<TlsSetup> {
    let (chain, key, ca_pem) = match (&opts.cert_file, &opts.key_file) {
        (Some(c), Some(k)) => {
            let chain = CertificateDer::pem_file_iter(c)
                .map_err(|e| invalid(format!("--tls-cert {}: {e}", c.display())))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| invalid(format!("--tls-cert {}: {e}", c.display())))?;
            if chain.is_empty() {
                return Err(invalid(format!(
                    "--tls-cert {}: no certificate in the file",
                    c.display()
                )));
            }
            let key =
                PrivateKeyDer::from_pem_file(k).map_err(|e| invalid(format!("--tls-key {}: {e}", k.display())))?;
            (chain, key, None)
        }
        (None, None) => {
            let g = generate(bind).map_err(|e| invalid(format!("cannot generate the TLS certificates: {e}")))?;
            (vec![g.server_der, g.ca_der], g.server_key, Some(g.ca_pem))
        }
        _ => return Err(invalid("--tls-cert and --tls-key go together".into())),
    };
    if let Some(pem) = &ca_pem {
        let dir = match &opts.dir {
            Some(d) => d.clone(),
            None => std::env::temp_dir().join(format!(
                "tenantctl-sim-{}-{}",
                std::process::id(),
                crate::ids::random_guid().tail_u32()
            )),
        };
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("ca.pem");
        std::fs::write(&path, pem)?;
        opts.ca_file = Some(path);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| invalid(format!("TLS certificate/key: {e}")))?;
    // HTTP/2 first, as Microsoft's front doors offer it over TLS; HTTP/1.1 for the others.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsSetup {
        config: Arc::new(config),
        ca_pem,
    })
}

struct Generated {
    ca_der: CertificateDer<'static>,
    ca_pem: String,
    server_der: CertificateDer<'static>,
    server_key: PrivateKeyDer<'static>,
}

/// A throwaway CA and a server certificate it signs, for the loopback names (and `bind`).
fn generate(bind: IpAddr) -> Result<Generated, rcgen::Error> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType,
    };
    // Real time, not the simulator's clock: clients check validity against their own clock.
    let now = time::OffsetDateTime::now_utc();
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::default();
    ca.distinguished_name
        .push(DnType::CommonName, "tenantctl-sim throwaway CA");
    ca.distinguished_name.push(DnType::OrganizationName, "tenantctl-sim");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.not_before = now - time::Duration::days(1);
    ca.not_after = now + time::Duration::days(365);
    let ca_cert = ca.self_signed(&ca_key)?;

    let server_key = KeyPair::generate()?;
    let mut sp = CertificateParams::default();
    sp.distinguished_name.push(DnType::CommonName, "localhost");
    let mut sans = vec![
        SanType::DnsName("localhost".try_into()?),
        SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)),
    ];
    if !bind.is_loopback() && !bind.is_unspecified() {
        sans.push(SanType::IpAddress(bind));
    }
    sp.subject_alt_names = sans;
    sp.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    sp.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    sp.not_before = now - time::Duration::days(1);
    // Within the 398/825-day limits some clients (Apple) enforce on server certificates.
    sp.not_after = now + time::Duration::days(365);
    let server_cert = sp.signed_by(&server_key, &ca_cert, &ca_key)?;
    Ok(Generated {
        ca_pem: ca_cert.pem(),
        ca_der: ca_cert.der().clone(),
        server_der: server_cert.der().clone(),
        server_key: PrivateKeyDer::try_from(server_key.serialize_der())
            .map_err(|_| rcgen::Error::CouldNotParseKeyPair)?,
    })
}

/// The ready line's TLS field: `ca_file`, the generated CA's PEM path.
pub fn extend_ready_info(cfg: &crate::SimConfig, v: &mut serde_json::Value) {
    if let Some(ca) = cfg.tls.as_ref().and_then(|t| t.ca_file.as_ref()) {
        v["ca_file"] = serde_json::json!(ca.display().to_string());
    }
}

/// A listener whose connections have completed a TLS handshake. Handshakes run in their own
/// tasks, so a slow or failing client never holds up the others.
pub struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    acceptor_task: JoinHandle<()>,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, config: Arc<rustls::ServerConfig>) -> io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let acceptor = TlsAcceptor::from(config);
        let (tx, rx) = mpsc::channel(64);
        let acceptor_task = tokio::spawn(async move {
            loop {
                let (stream, peer) = match tcp.accept().await {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::debug!(error = %e, "accept failed");
                        #[allow(clippy::disallowed_methods)] // back-off of the accept loop: real time
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(error = %e, %peer, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener {
            rx,
            local,
            acceptor_task,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        // Stops accepting and closes the socket.
        self.acceptor_task.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(x) => x,
            // The acceptor task ended (only when the listener is being dropped).
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// Serves `app` on `listener` (TLS when `tls` is given) until `shutdown` fires.
pub fn spawn_server(
    listener: TcpListener,
    app: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: oneshot::Receiver<()>,
) -> io::Result<JoinHandle<()>> {
    let signal = async {
        let _ = shutdown.await;
    };
    Ok(match tls {
        None => tokio::spawn(async move {
            let _ = axum::serve(listener, app).with_graceful_shutdown(signal).await;
        }),
        Some(config) => {
            let l = TlsListener::new(listener, config)?;
            tokio::spawn(async move {
                let _ = axum::serve(l, app).with_graceful_shutdown(signal).await;
            })
        }
    })
}
