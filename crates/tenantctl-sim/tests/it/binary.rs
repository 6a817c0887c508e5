//! `tenantctl-sim serve` as scripts use it: start, read the one ready line, connect, stop.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn serve_prints_one_json_ready_line_and_stops_on_ctrl_c() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tenantctl-sim"))
        .args([
            "serve",
            "--port",
            "0",
            "--tenants",
            "12",
            "--seed",
            "7",
            "--users-per-tenant",
            "3",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ready: Value = serde_json::from_str(&line).expect("the ready line is JSON");
    for k in [
        "base_url",
        "partner_tenant_id",
        "partner_domain",
        "client_id",
        "client_secret",
        "refresh_token",
    ] {
        assert!(ready[k].as_str().is_some_and(|v| !v.is_empty()), "{k} in {line}");
    }
    assert_eq!(ready["tenants"], 12);
    let base = ready["base_url"].as_str().unwrap();
    assert!(base.starts_with("http://127.0.0.1:"));

    // The printed credentials work.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .post(format!(
                "{base}/login/{}/oauth2/v2.0/token",
                ready["partner_domain"].as_str().unwrap()
            ))
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", ready["client_id"].as_str().unwrap()),
                ("client_secret", ready["client_secret"].as_str().unwrap()),
                ("refresh_token", ready["refresh_token"].as_str().unwrap()),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);

    // Ctrl-C (SIGINT) stops it cleanly.
    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let t0 = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            assert!(st.success(), "clean exit, got {st}");
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn serve_refuses_a_state_dir_it_cannot_use_with_a_message() {
    let dir = std::env::temp_dir().join(format!("tenantctl-sim-bin-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("state.json"), b"not json").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tenantctl-sim"))
        .args(["serve", "--port", "0", "--tenants", "2", "--state-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("state.json") && err.contains("is not valid"), "{err}");
    assert!(out.stdout.is_empty(), "no ready line");
    let _ = std::fs::remove_dir_all(&dir);
}
