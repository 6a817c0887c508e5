//! Adaptive concurrency under sustained throttling (issue 12 item 7, probe D4), run with
//! `cargo bench -p tenantctl --bench adaptive_bench`:
//!
//! `users list --all-tenants -o csv` over `fleet-1000` (1,000 customers, 30 ± 20 ms latency, as
//! the probe) with the simulator's Graph limits 100× smaller (throttle scale 0.01), at a fixed
//! 8 / 64 / 500 tenants at once (`--fixed-concurrency`, the old behaviour) and adaptive with a
//! ceiling of 500. Each run gets a fresh simulator (full buckets). Prints wall time, tenants
//! `ok` / `throttled`, requests and 429s (the simulator's counts) and the peak of tenants in
//! flight (the fan-out's own count, from its `info` log line).
//!
//! `ADAPTIVE_BENCH_TENANTS=N` runs a smaller fleet; `ADAPTIVE_BENCH_SCALE=1` the real limits
//! (what adapting costs when nothing throttles).

// A benchmark measures wall time.
#![allow(clippy::disallowed_methods)]

use std::process::{Command, Stdio};
use std::time::Instant;
use tenantctl_sim::faults::Faults;
use tenantctl_sim::{RunningSim, SimConfig};

fn scale() -> f64 {
    std::env::var("ADAPTIVE_BENCH_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.01)
}

fn sim(rt: &tokio::runtime::Runtime, tenants: u32) -> RunningSim {
    let mut c = SimConfig::new(3, tenants);
    c.throttle.scale = scale();
    c.faults = Faults {
        latency_ms: 30,
        jitter_ms: 20,
        ..Default::default()
    };
    rt.block_on(tenantctl_sim::start(c)).expect("simulator starts")
}

struct Row {
    wall: f64,
    code: i32,
    ok: usize,
    throttled: usize,
    other: usize,
    requests: u64,
    throttles: u64,
    peak: String,
    cuts: String,
}

fn field(line: &str, name: &str) -> String {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{name}=")))
        .unwrap_or("?")
        .to_owned()
}

fn run(rt: &tokio::runtime::Runtime, tenants: u32, flags: &[&str]) -> Row {
    let sim = sim(rt, tenants);
    let p = &sim.sim.fleet.partner;
    let status = std::env::temp_dir().join(format!("tenantctl-adaptive-bench-{}.json", std::process::id()));
    let t0 = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_tenantctl"))
        .args(["users", "list", "--all-tenants", "-o", "csv", "--out"])
        .arg(std::env::temp_dir().join(format!("tenantctl-adaptive-bench-{}.csv", std::process::id())))
        .arg("--status-out")
        .arg(&status)
        .args(flags)
        .env("TENANTCTL_CONFIG", "/nonexistent/tenantctl-bench.toml")
        .env("TENANTCTL_NO_TOKEN_CACHE", "1")
        .env("TENANTCTL_ENDPOINT", &sim.base_url)
        .env("TENANTCTL_LOG", "warn,tenantctl_fanout=info")
        .env("AZURE_TENANT_ID", sim.sim.fleet.partner_tenant().id.to_string())
        .env("AZURE_CLIENT_ID", p.client_id.to_string())
        .env("AZURE_CLIENT_SECRET", &p.client_secret)
        .env("TENANTCTL_REFRESH_TOKEN", &p.initial_refresh_token)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("tenantctl runs");
    let wall = t0.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let statuses: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&status).unwrap_or_else(|_| "[]".into())).unwrap_or_default();
    let count = |s: &str| statuses.iter().filter(|v| v["status"] == s).count();
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.contains("tenants in flight"))
        .unwrap_or("");
    let (ok, throttled) = (count("ok"), count("throttled"));
    Row {
        wall,
        code: out.status.code().unwrap_or(-1),
        ok,
        throttled,
        other: statuses.len() - ok - throttled,
        requests: sim.sim.stats.total(),
        throttles: sim
            .sim
            .stats
            .rows()
            .iter()
            .filter(|r| r.status == 429)
            .map(|r| r.count)
            .sum(),
        peak: field(line, "peak_in_flight"),
        cuts: field(line, "cuts"),
    }
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let tenants: u32 = std::env::var("ADAPTIVE_BENCH_TENANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "adaptive concurrency: users list over fleet-{tenants} (seed 3), latency 30±20 ms, throttle scale {} ({} cores shared by sim and CLI)",
        scale(),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    println!(
        "  {:<22} {:>7} {:>5} {:>6} {:>9} {:>6} {:>9} {:>6} {:>5} {:>5}",
        "run", "wall_s", "exit", "ok", "throttled", "other", "requests", "429s", "peak", "cuts"
    );
    let runs: [(&str, &[&str]); 5] = [
        (
            "fixed 8 (per-tenant 2)",
            &["--concurrency", "8", "--per-tenant", "2", "--fixed-concurrency"],
        ),
        (
            "fixed 64 (4)",
            &["--concurrency", "64", "--per-tenant", "4", "--fixed-concurrency"],
        ),
        (
            "fixed 500 (16)",
            &["--concurrency", "500", "--per-tenant", "16", "--fixed-concurrency"],
        ),
        ("adaptive ≤64 (4)", &["--concurrency", "64", "--per-tenant", "4"]),
        ("adaptive ≤500 (16)", &["--concurrency", "500", "--per-tenant", "16"]),
    ];
    for (name, flags) in runs {
        let r = run(&rt, tenants, flags);
        println!(
            "  {:<22} {:>7.1} {:>5} {:>6} {:>9} {:>6} {:>9} {:>6} {:>5} {:>5}",
            name, r.wall, r.code, r.ok, r.throttled, r.other, r.requests, r.throttles, r.peak, r.cuts
        );
    }
}
