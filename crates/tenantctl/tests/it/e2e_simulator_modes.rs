//! Issue 9 from the client's side: tenantctl over the simulator's TLS mode (trusting its CA
//! with `--ca-file`, never "accept any certificate"), certificate credentials, and a sandbox
//! that remembers its changes between commands.

use crate::common::*;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use tenantctl_sim::tls::TlsOptions;
use tenantctl_sim::SimConfig;

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tenantctl-e2e-{tag}-{}-{}", std::process::id(), uuid_like()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn uuid_like() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// `--ca-file` (an extra root) makes `users list` work over https; without it the certificate
/// is refused (no silent "accept any").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_list_over_tls_trusts_the_simulators_ca_given_with_ca_file() {
    let dir = temp_dir("tls");
    let mut cfg = SimConfig::new(5, 2);
    cfg.fleet.users_per_tenant = Some(4);
    cfg.tls = Some(TlsOptions {
        dir: Some(dir.clone()),
        ..Default::default()
    });
    let sim = tenantctl_sim::start(cfg).await.unwrap();
    assert!(sim.base_url.starts_with("https://"));
    let ready: Value = serde_json::from_str(&sim.ready_line()).unwrap();
    let ca = ready["ca_file"].as_str().unwrap().to_owned();

    let r = tenantctl(&sim, &["users", "list", "--all-tenants", "-o", "csv"]).await;
    assert_ne!(r.code, 0, "an unknown CA is refused: {}", r.stdout);

    let mut c = command(&sim, &["users", "list", "--all-tenants", "-o", "csv"]);
    c.env("TENANTCTL_CA_FILE", &ca);
    let r = run_cmd(c).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (_, rows) = csv_rows(&r.stdout);
    assert_eq!(rows.len(), 8, "{}", r.stdout);
    let r = tenantctl(&sim, &["--ca-file", &ca, "customers", "list", "-o", "json"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// `AZURE_CLIENT_CERTIFICATE_PATH` (PEM with certificate and key, as azure-identity reads it)
/// signs a client assertion the identity platform accepts (app-only access).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_credential_from_the_environment_signs_in() {
    let mut cfg = SimConfig::new(6, 2);
    cfg.fleet.users_per_tenant = Some(3);
    let sim = tenantctl_sim::start(cfg).await.unwrap();
    let cert: Value = reqwest::get(format!("{}/_sim/credentials/certificate", sim.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dir = temp_dir("cert");
    let pem = dir.join("app.pem");
    std::fs::write(&pem, cert["pem"].as_str().unwrap()).unwrap();
    let t = &sim.sim.fleet.customers()[0];
    let mut c = command(&sim, &["domains", "list", "-t", &t.id.to_string(), "-o", "json"]);
    c.env_remove("AZURE_CLIENT_SECRET")
        .env_remove("TENANTCTL_REFRESH_TOKEN")
        .env("AZURE_CLIENT_CERTIFICATE_PATH", &pem);
    let r = run_cmd(c).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert!(
        rows.iter().any(|d| d["domain"] == t.initial_domain.as_str()),
        "{}",
        r.stdout
    );
}

fn sandbox(dir: &std::path::Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_tenantctl"))
        .arg("--sandbox")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TENANTCTL_CONFIG", "/nonexistent/tenantctl-test-config.toml")
        // Each test's tokens are its own (tests/it/e2e_token_cache.rs turns the cache on).
        .env("TENANTCTL_NO_TOKEN_CACHE", "1")
        .env("TENANTCTL_SANDBOX_DIR", dir)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// The sandbox keeps an added domain across commands (add, publish its TXT, verify) and
/// `sandbox reset` forgets it.
#[test]
fn the_sandbox_remembers_an_added_domain_until_reset() {
    let dir = temp_dir("sandbox");
    let name = "remembered-domain.example";
    let r = sandbox(&dir, &["customers", "list", "-o", "json", "--contract-domains"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let customers: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let tenant = customers.iter().find(|c| c["relationshipStatus"] == "active").unwrap()["tenantId"]
        .as_str()
        .unwrap()
        .to_owned();

    let r = sandbox(&dir, &["domains", "add", name, "-t", &tenant, "-o", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let listed = |dir: &std::path::Path| {
        let r = sandbox(dir, &["domains", "list", "-t", &tenant, "-o", "json"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let rows: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
        rows.into_iter().find(|d| d["domain"] == name)
    };
    let d = listed(&dir).expect("the added domain is still there in the next command");
    assert_eq!(d["isVerified"], false);

    let r = sandbox(&dir, &["domains", "verify", name, "-t", &tenant, "-o", "json"]);
    assert_eq!(r.code, 3, "not verified before the TXT is published: {}", r.stdout);
    let r = sandbox(&dir, &["sandbox", "publish-dns", name]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = sandbox(&dir, &["domains", "verify", name, "-t", &tenant, "-o", "json"]);
    assert_eq!(r.code, 0, "{} {}", r.stdout, r.stderr);
    assert_eq!(listed(&dir).unwrap()["isVerified"], true);

    let r = sandbox(&dir, &["sandbox", "reset"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(listed(&dir).is_none(), "reset forgets the change");
    std::fs::remove_dir_all(dir).ok();
}
