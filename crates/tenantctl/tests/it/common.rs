//! Running the `tenantctl` binary against a simulator, as a partner's script would: the
//! simulator's base URL in `TENANTCTL_ENDPOINT`, the partner's credentials in the environment,
//! no configuration file.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::process::Command;
use tenantctl_sim::RunningSim;

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// The binary with a clean environment pointing at `sim`.
pub fn command(sim: &RunningSim, args: &[&str]) -> Command {
    let p = &sim.sim.fleet.partner;
    let mut c = Command::new(env!("CARGO_BIN_EXE_tenantctl"));
    c.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TENANTCTL_CONFIG", "/nonexistent/tenantctl-test-config.toml")
        // Each test's tokens are its own (tests/it/e2e_token_cache.rs turns the cache on).
        .env("TENANTCTL_NO_TOKEN_CACHE", "1")
        .env("TENANTCTL_ENDPOINT", &sim.base_url)
        .env("AZURE_TENANT_ID", sim.sim.fleet.partner_tenant().id.to_string())
        .env("AZURE_CLIENT_ID", p.client_id.to_string())
        .env("AZURE_CLIENT_SECRET", &p.client_secret)
        .env("TENANTCTL_REFRESH_TOKEN", &p.initial_refresh_token);
    c
}

/// Runs a command off the async runtime (the simulator keeps serving meanwhile). Every run
/// of the suite is checked for secrets on its stdout and stderr and in the files it wrote
/// (`--out`, `--status-out`) (issue 12, "secrets never printed"): the client secret and
/// refresh token it was given, and any JWT (`eyJ…`).
pub async fn run_cmd(mut c: Command) -> Run {
    let secrets: Vec<String> = c
        .get_envs()
        .filter(|(k, _)| {
            let k = k.to_string_lossy();
            k.contains("SECRET") || k.contains("TOKEN") && !k.ends_with("_FILE")
        })
        .filter_map(|(_, v)| v.map(|v| v.to_string_lossy().into_owned()))
        .filter(|v| v.len() >= 8)
        .collect();
    // The files it writes (`--out`, `--status-out`) are checked as well.
    let args: Vec<String> = c.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
    let written: Vec<std::path::PathBuf> = args
        .windows(2)
        .filter(|w| w[0] == "--out" || w[0] == "--status-out")
        .map(|w| std::path::PathBuf::from(&w[1]))
        .chain(
            args.iter()
                .filter_map(|a| a.strip_prefix("--out=").map(std::path::PathBuf::from)),
        )
        .collect();
    let out = tokio::task::spawn_blocking(move || c.output().unwrap()).await.unwrap();
    for f in &written {
        if let Ok(bytes) = std::fs::read(f) {
            assert_no_secrets(&String::from_utf8_lossy(&bytes), &secrets, &f.display().to_string());
        }
    }
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    };
    assert_no_secrets(&run.stdout, &secrets, "stdout");
    assert_no_secrets(&run.stderr, &secrets, "stderr");
    run
}

/// Fails when `text` holds one of `secrets` or a JWT (`eyJ` + base64url header).
pub fn assert_no_secrets(text: &str, secrets: &[String], what: &str) {
    for s in secrets {
        assert!(
            !text.contains(s.as_str()),
            "a secret given to tenantctl appeared on its {what}"
        );
    }
    if let Some(i) = text.find("eyJ") {
        let jwt_like = text[i..]
            .chars()
            .take(20)
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
        assert!(
            !jwt_like,
            "a JWT appeared on tenantctl's {what}: {}…",
            &text[i..i + 12.min(text.len() - i)]
        );
    }
}

pub async fn tenantctl(sim: &RunningSim, args: &[&str]) -> Run {
    run_cmd(command(sim, args)).await
}

/// A CSV's header and rows (as column → value).
pub fn csv_rows(text: &str) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers.iter().cloned().zip(rec.iter().map(str::to_owned)).collect()
        })
        .collect();
    (headers, rows)
}
