//! TLS mode: https with a throwaway CA written to `ca_file` (or a given certificate and key),
//! trusted by a client as an extra root — never "accept any certificate" — and every emitted URL
//! on the https origin the request came in on.

#[allow(unused_imports)]
use crate::common::*;
use serde_json::Value;
use std::path::PathBuf;
use tenantctl_sim::tls::TlsOptions;
use tenantctl_sim::{RunningSim, SimConfig};

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "tenantctl-sim-test-{tag}-{}-{}",
        std::process::id(),
        tenantctl_sim::ids::random_guid().tail_u32()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

async fn start_tls(tls: TlsOptions) -> RunningSim {
    let mut c = SimConfig::new(1, 2);
    c.fleet.users_per_tenant = Some(3);
    c.fleet.anchor = ANCHOR;
    c.throttle.enabled = false;
    c.tls = Some(tls);
    tenantctl_sim::start(c).await.expect("simulator starts with TLS")
}

/// A client that trusts only `ca_pem` (no built-in roots), resolving `localhost` to the sim.
fn trusting(ca_pem: &[u8], sim: &RunningSim) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem).unwrap())
        .resolve("localhost", sim.addr)
        .build()
        .unwrap()
}

#[tokio::test]
async fn tls_mode_serves_https_with_a_generated_ca_and_urls_on_the_https_origin() {
    let dir = temp_dir("ca");
    let sim = start_tls(TlsOptions {
        dir: Some(dir.clone()),
        ..Default::default()
    })
    .await;
    let ready: Value = serde_json::from_str(&sim.ready_line()).unwrap();
    let port = sim.addr.port();
    assert_eq!(ready["base_url"], format!("https://127.0.0.1:{port}"));
    assert_eq!(sim.base_url, format!("https://127.0.0.1:{port}"));
    let ca_file = PathBuf::from(ready["ca_file"].as_str().expect("ca_file in the ready line"));
    assert_eq!(ca_file, dir.join("ca.pem"));
    let ca = std::fs::read(&ca_file).unwrap();
    assert!(String::from_utf8_lossy(&ca).starts_with("-----BEGIN CERTIFICATE-----"));
    let http = trusting(&ca, &sim);
    let partner = sim.sim.fleet.partner_tenant();

    // HTTP/2 is offered in ALPN, as Microsoft's front doors do; a client that speaks it gets it.
    let r = http
        .get(format!("https://127.0.0.1:{port}/_sim/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.version(), reqwest::Version::HTTP_2);

    // Discovery at the root form names https endpoints on the host asked: 127.0.0.1 and localhost.
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let cfg: Value = http
            .get(format!(
                "https://{host}/{}/v2.0/.well-known/openid-configuration",
                partner.id
            ))
            .send()
            .await
            .expect("the certificate is valid for this name under the CA")
            .json()
            .await
            .unwrap();
        assert_eq!(
            cfg["token_endpoint"],
            format!("https://{host}/{}/oauth2/v2.0/token", partner.id)
        );
        assert_eq!(cfg["issuer"], format!("https://{host}/{}/v2.0", partner.id));
    }

    // A token over TLS, then Graph with it; the nextLink stays on https.
    let p = &sim.sim.fleet.partner;
    let tok: Value = http
        .post(format!("https://localhost:{port}/{}/oauth2/v2.0/token", partner.id))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &p.client_id.to_string()),
            ("client_secret", &p.client_secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let at = tok["access_token"].as_str().expect("token over https");
    let r = http
        .get(format!("https://127.0.0.1:{port}/graph/v1.0/users?$top=1"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let users: Value = r.json().await.unwrap();
    let next = users["@odata.nextLink"].as_str().expect("more than one user");
    assert!(next.starts_with(&format!("https://127.0.0.1:{port}/")), "{next}");

    // A client that does not trust the CA cannot connect; plain http on the TLS port fails too.
    let strict = reqwest::Client::builder().build().unwrap();
    assert!(strict
        .get(format!("https://127.0.0.1:{port}/_sim/health"))
        .send()
        .await
        .is_err());
    assert!(client()
        .get(format!("http://127.0.0.1:{port}/_sim/health"))
        .send()
        .await
        .map(|r| !r.status().is_success())
        .unwrap_or(true));
    sim.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn tls_mode_serves_a_given_certificate_and_key() {
    let dir = temp_dir("given");
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let (cert_file, key_file) = (dir.join("server.pem"), dir.join("server.key"));
    std::fs::write(&cert_file, cert.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    let sim = start_tls(TlsOptions {
        cert_file: Some(cert_file),
        key_file: Some(key_file.clone()),
        ..Default::default()
    })
    .await;
    let ready: Value = serde_json::from_str(&sim.ready_line()).unwrap();
    assert!(ready.get("ca_file").is_none(), "no CA generated: {ready}");
    let http = trusting(cert.pem().as_bytes(), &sim);
    let r = http
        .get(format!("https://localhost:{}/_sim/health", sim.addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    sim.stop().await;

    // A key file without a key is refused at start.
    std::fs::write(&key_file, "not a key").unwrap();
    let mut c = SimConfig::new(1, 1);
    c.tls = Some(TlsOptions {
        cert_file: Some(dir.join("server.pem")),
        key_file: Some(key_file),
        ..Default::default()
    });
    assert!(tenantctl_sim::start(c).await.is_err());
    let _ = std::fs::remove_dir_all(dir);
}

/// `tenantctl-sim serve --tls`: the ready line says https and where the CA is.
#[tokio::test]
async fn serve_tls_prints_an_https_base_url_and_ca_file() {
    use tokio::io::AsyncBufReadExt;
    let dir = temp_dir("bin");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tenantctl-sim"))
        .args([
            "serve",
            "--tls",
            "--tenants",
            "2",
            "--users-per-tenant",
            "2",
            "--tls-dir",
        ])
        .arg(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut line = String::new();
    tokio::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .await
        .unwrap();
    let ready: Value = serde_json::from_str(&line).expect("ready line");
    let base = ready["base_url"].as_str().unwrap();
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");
    let ca = std::fs::read(ready["ca_file"].as_str().unwrap()).unwrap();
    let http = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .build()
        .unwrap();
    let r = http.get(format!("{base}/_sim/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    child.kill().await.unwrap();
    let _ = std::fs::remove_dir_all(dir);
}
