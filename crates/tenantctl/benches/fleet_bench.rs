//! The fleet benchmarks (design §4), run with `cargo bench -p tenantctl --bench fleet_bench`:
//!
//! 1. `users list --all-tenants -o csv` over `fleet-1000` (1,000 customers, SMB-heavy users,
//!    every request +80 ms ±20 ms, the token endpoint +150 ms): wall time, requests, retries,
//!    peak RSS, against the lower bound computable from the workload and the sequential
//!    baseline (one tenant after another, one request at a time, as the classic scripts do).
//! 2. `users import` of 5,000 users across 50 tenants at the same latency, against a
//!    one-at-a-time loop (the `Import-Csv | foreach { New-MsolUser }` shape) measured on a
//!    sample and extrapolated.
//!
//! 3. `mailboxes list --all-tenants -o csv` over `fleet-1000` at the same latency: Exchange's
//!    `Get-Mailbox` per tenant, then `Get-MailboxStatistics` for every mailbox in `$batch`es of
//!    10 within Exchange's per-tenant concurrency budget (`--per-tenant`, default 3), against
//!    the lower bound and the sequential baseline (one cmdlet at a time, tenant after tenant,
//!    as the classic `DelegatedOrg` scripts do).
//!
//! 4. `reports aggregate getMailboxUsageDetail --all-tenants -o csv` over `fleet-1000` at the
//!    same latency (per tenant: a token, the report call answering 302, the download, and the
//!    tenant's default domain beside them), against the lower bound, and the seed's loop
//!    *measured*: the same command one tenant after another, one request at a time
//!    (`--concurrency 1 --fixed-concurrency --per-tenant 1`; `FLEET_BENCH_LOOP_TENANTS=N`
//!    measures the first N tenants and extrapolates).
//!
//! `FLEET_BENCH=reads|writes|mailboxes|reports` runs one of them.
//!
//! The simulator runs in this process and shares the machine's cores with the CLI.

// A benchmark measures wall time.
#![allow(clippy::disallowed_methods)]

mod common;

use common::{cpu_secs, proc_field};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tenantctl_sim::faults::Faults;
use tenantctl_sim::fleet::Trouble;
use tenantctl_sim::{RunningSim, SimConfig};

const LAT: f64 = 0.080;
const TOKEN_LAT: f64 = 0.150;

struct Measured {
    wall: f64,
    code: i32,
    peak_rss_mib: f64,
    cpu: f64,
    stderr: String,
}

/// Runs the CLI against the simulator, sampling its peak RSS and CPU time until it exits.
fn run_cli(sim: &RunningSim, args: &[&str]) -> Measured {
    let p = &sim.sim.fleet.partner;
    let t0 = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tenantctl"))
        .args(args)
        .env("TENANTCTL_CONFIG", "/nonexistent/tenantctl-bench.toml")
        .env("TENANTCTL_NO_TOKEN_CACHE", "1")
        .env("TENANTCTL_ENDPOINT", &sim.base_url)
        .env("AZURE_TENANT_ID", sim.sim.fleet.partner_tenant().id.to_string())
        .env("AZURE_CLIENT_ID", p.client_id.to_string())
        .env("AZURE_CLIENT_SECRET", &p.client_secret)
        .env("TENANTCTL_REFRESH_TOKEN", &p.initial_refresh_token)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tenantctl runs");
    let pid = child.id();
    let mut peak = 0;
    let mut cpu = 0.0;
    let status = loop {
        peak = peak.max(proc_field(pid, "VmHWM:"));
        let c = cpu_secs(pid);
        if c > 0.0 {
            cpu = c;
        }
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let wall = t0.elapsed().as_secs_f64();
    let mut stderr = String::new();
    use std::io::Read;
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    Measured {
        wall,
        code: status.code().unwrap_or(-1),
        peak_rss_mib: peak as f64 / 1024.0,
        cpu,
        stderr,
    }
}

fn summary_line(stderr: &str) -> String {
    stderr
        .lines()
        .rev()
        .find(|l| l.contains("requests") || l.contains(" rows: "))
        .unwrap_or("")
        .to_owned()
}

/// The workload's arithmetic for a fan-out read: the partner's own chain, each tenant's
/// chain, and the sequential baseline, all in seconds.
struct Workload {
    partner_chain: f64,
    chains: Vec<f64>,
    sequential: f64,
}

impl Workload {
    fn longest(&self) -> f64 {
        self.chains.iter().cloned().fold(0.0, f64::max)
    }

    /// With C tenants at once the work spreads over C lanes; no run beats its longest chain.
    fn bound(&self, conc: usize) -> f64 {
        self.partner_chain + self.longest().max(self.chains.iter().sum::<f64>() / conc as f64)
    }

    /// Runs `command --all-tenants -o csv --out FILE --concurrency C` for each C and prints a
    /// table row per run: wall time against the bound, RSS, CPU, speed-up over the sequential
    /// baseline, rows written (`of` of them expected) and the CLI's summary line.
    fn run(&self, sim: &RunningSim, command: &[&str], concurrencies: &[usize], of: Option<usize>) {
        println!(
            "  lower bound (unlimited concurrency): {:.2} s; sequential baseline (computed): {:.0} s",
            self.partner_chain + self.longest(),
            self.sequential
        );
        println!(
            "  {:>11} {:>8} {:>9} {:>8} {:>9} {:>8} {:>10}  summary",
            "concurrency", "wall_s", "bound_s", "x_bound", "rss_MiB", "cpu_s", "vs_seq"
        );
        for &conc in concurrencies {
            let out = std::env::temp_dir().join(format!("tenantctl-bench-{}-{conc}.csv", command.join("-")));
            let conc_s = conc.to_string();
            let mut args: Vec<&str> = command.to_vec();
            args.extend([
                "--all-tenants",
                "-o",
                "csv",
                "--out",
                out.to_str().unwrap(),
                "--concurrency",
                &conc_s,
            ]);
            let m = run_cli(sim, &args);
            let rows = std::fs::read_to_string(&out)
                .map(|s| s.lines().count().saturating_sub(1))
                .unwrap_or(0);
            let bound = self.bound(conc);
            let expected = of.map(|n| format!("/{n}")).unwrap_or_default();
            println!(
                "  {:>11} {:>8.2} {:>9.2} {:>8.2} {:>9.1} {:>8.2} {:>9.0}x  exit {} rows {rows}{expected}: {}",
                conc,
                m.wall,
                bound,
                m.wall / bound,
                m.peak_rss_mib,
                m.cpu,
                self.sequential / m.wall,
                m.code,
                summary_line(&m.stderr)
            );
            let _ = std::fs::remove_file(out);
        }
    }
}

fn fleet_sim(rt: &tokio::runtime::Runtime, tenants: u32, users: Option<u32>) -> RunningSim {
    let mut c = SimConfig::new(1, tenants);
    c.fleet.users_per_tenant = users;
    c.faults = Faults {
        latency_ms: 80,
        jitter_ms: 20,
        token_latency_ms: 150,
        ..Default::default()
    };
    rt.block_on(tenantctl_sim::start(c)).expect("simulator starts")
}

fn reads(rt: &tokio::runtime::Runtime) {
    let sim = fleet_sim(rt, 1000, None);
    let f = &sim.sim.fleet;
    // The workload's arithmetic: per tenant a token, then subscribedSkus beside the users pages.
    let partner_chain = TOKEN_LAT + 2.0 * LAT; // token, then contracts ∥ relationships (one page each at 1,000)
    let chains: Vec<f64> = f
        .customers()
        .iter()
        .map(|t| {
            if sim.sim.trouble(t) == Trouble::RelationshipExpired || sim.sim.trouble(t) == Trouble::ConsentMissing {
                TOKEN_LAT
            } else {
                let pages = (t.user_count as f64 / 999.0).ceil().max(1.0);
                TOKEN_LAT + (pages * LAT).max(LAT)
            }
        })
        .collect();
    let sequential: f64 = partner_chain
        + f.customers()
            .iter()
            .map(|t| TOKEN_LAT + LAT + (t.user_count as f64 / 999.0).ceil().max(1.0) * LAT)
            .sum::<f64>();
    let expected_rows: u64 = f
        .customers()
        .iter()
        .filter(|t| sim.sim.trouble(t) == Trouble::None || sim.sim.trouble(t) == Trouble::ReadOnlyRoles)
        .map(|t| t.user_count as u64)
        .sum();
    println!(
        "fleet-1000: {} customers, {} users (expected rows {expected_rows}), latency 80±20 ms, token 150 ms",
        f.customers().len(),
        f.total_users()
    );
    let w = Workload {
        partner_chain,
        chains,
        sequential,
    };
    w.run(&sim, &["users", "list"], &[32, 64, 128], None);
    rt.block_on(sim.stop());
}

fn writes(rt: &tokio::runtime::Runtime) {
    let sim = fleet_sim(rt, 50, Some(5));
    let f = &sim.sim.fleet;
    let healthy: Vec<_> = f
        .customers()
        .iter()
        .filter(|t| sim.sim.trouble(t) == Trouble::None)
        .collect();
    let per = 5000 / healthy.len();
    let path = std::env::temp_dir().join("tenantctl-bench-import.csv");
    let mut file = std::fs::File::create(&path).unwrap();
    writeln!(
        file,
        "UserPrincipalName,FirstName,LastName,DisplayName,Password,TenantId,UsageLocation,LicenseAssignment"
    )
    .unwrap();
    let mut rows = 0;
    for t in &healthy {
        for i in 0..per {
            writeln!(
                file,
                "bench.user{i:04}@{d},Bench,User{i:04},Bench User {i:04},Xq7!pLm2#vR{i},{id},US,",
                d = t.initial_domain,
                id = t.id
            )
            .unwrap();
            rows += 1;
        }
    }
    drop(file);
    println!(
        "\nimport: {rows} users across {} tenants, latency 80±20 ms, token 150 ms",
        healthy.len()
    );
    for per_tenant in [4usize, 16] {
        let m = run_cli(
            &sim,
            &[
                "users",
                "import",
                path.to_str().unwrap(),
                "-o",
                "csv",
                "--per-tenant",
                &per_tenant.to_string(),
                "-q",
                // Writes to several tenants without a terminal need `--yes` (stdin is not one here).
                "--yes",
            ],
        );
        println!(
            "  tenantctl --per-tenant {per_tenant:>2}: {:.2} s, peak RSS {:.1} MiB, cpu {:.2} s, exit {}",
            m.wall, m.peak_rss_mib, m.cpu, m.code
        );
        // Start again from an empty overlay for the next setting.
        sim.sim.world.reset();
    }
    // The one-at-a-time loop: one POST /users after another, measured on a sample.
    let sample = 100;
    let t = healthy[0];
    let p = &f.partner;
    let secs = rt.block_on(async {
        let http = reqwest::Client::new();
        let tok: serde_json::Value = http
            .post(format!("{}/login/{}/oauth2/v2.0/token", sim.base_url, t.id))
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", &p.client_id.to_string()),
                ("client_secret", &p.client_secret),
                ("refresh_token", &p.initial_refresh_token),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = tok["access_token"].as_str().unwrap().to_owned();
        let t0 = Instant::now();
        for i in 0..sample {
            let r = http
                .post(format!("{}/graph/v1.0/users", sim.base_url))
                .bearer_auth(&token)
                .json(&serde_json::json!({
                    "accountEnabled": true, "displayName": format!("Loop User {i}"), "mailNickname": format!("loop{i}"),
                    "userPrincipalName": format!("loop.user{i}@{}", t.initial_domain), "usageLocation": "US",
                    "passwordProfile": {"forceChangePasswordNextSignIn": true, "password": "Xq7!pLm2#vR9"}
                }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
        }
        t0.elapsed().as_secs_f64()
    });
    let per_user = secs / sample as f64;
    println!(
        "  one-at-a-time loop: {sample} users in {secs:.2} s ({:.0} ms each) → {rows} users ≈ {:.0} s (+ one token per tenant)",
        per_user * 1000.0,
        per_user * rows as f64
    );
    let _ = std::fs::remove_file(path);
    rt.block_on(sim.stop());
}

fn mailboxes(rt: &tokio::runtime::Runtime) {
    let sim = fleet_sim(rt, 1000, None);
    let f = &sim.sim.fleet;
    let readable: Vec<_> = f
        .customers()
        .iter()
        .filter(|t| sim.sim.exchange_role(t).is_some())
        .collect();
    let counts: Vec<usize> = readable
        .iter()
        .map(|t| sim.sim.exchange_mailboxes(&t.id.to_string()).len())
        .collect();
    let total: usize = counts.iter().sum();
    let batches: usize = counts.iter().map(|n| n.div_ceil(10)).sum();
    let per_tenant = 3.0;
    // Per tenant: a token, Get-Mailbox (1,000 per page), then the batches 3 at a time.
    let chains: Vec<f64> = counts
        .iter()
        .map(|&n| {
            TOKEN_LAT + (n.max(1) as f64 / 1000.0).ceil() * LAT + (n.div_ceil(10) as f64 / per_tenant).ceil() * LAT
        })
        .collect();
    let partner_chain = TOKEN_LAT + 2.0 * LAT;
    let sequential: f64 = partner_chain + counts.iter().map(|&n| TOKEN_LAT + LAT + n as f64 * LAT).sum::<f64>();
    println!(
        "\nmailboxes: {} tenants with an Exchange role ({} customers), {total} mailboxes, {batches} $batch requests of up to 10 expected; latency 80±20 ms, token 150 ms",
        readable.len(),
        f.customers().len()
    );
    let w = Workload {
        partner_chain,
        chains,
        sequential,
    };
    w.run(&sim, &["mailboxes", "list"], &[64, 128], Some(total));
    rt.block_on(sim.stop());
}

fn reports(rt: &tokio::runtime::Runtime) {
    let sim = fleet_sim(rt, 1000, None);
    let f = &sim.sim.fleet;
    let call = "getMailboxUsageDetail(period='D30')";
    // Tenants whose report the partner may read (Global Reader included: concealed names).
    let readable: Vec<_> = f
        .customers()
        .iter()
        .filter(|t| matches!(sim.sim.trouble(t), Trouble::None | Trouble::ReadOnlyRoles))
        .collect();
    let expected: usize = readable
        .iter()
        .map(|t| {
            tenantctl_sim::services::graph::reports::ground_truth(&sim.sim, t.idx, call)
                .map(|csv| csv.lines().count().saturating_sub(1))
                .unwrap_or(0)
        })
        .sum();
    // Per tenant: token, then the report call and its download one after the other (the
    // domains read runs beside them); a troubled tenant ends at its token.
    let chains: Vec<f64> = f
        .customers()
        .iter()
        .map(|t| match sim.sim.trouble(t) {
            Trouble::None | Trouble::ReadOnlyRoles => TOKEN_LAT + 2.0 * LAT,
            _ => TOKEN_LAT,
        })
        .collect();
    let partner_chain = TOKEN_LAT + 2.0 * LAT;
    let sequential: f64 = partner_chain + chains.iter().map(|c| c + LAT).sum::<f64>();
    println!(
        "\nreports: getMailboxUsageDetail over {} customers ({} readable), {expected} rows expected; latency 80±20 ms, token 150 ms",
        f.customers().len(),
        readable.len()
    );
    let w = Workload {
        partner_chain,
        chains,
        sequential,
    };
    let cmd = ["reports", "aggregate", "getMailboxUsageDetail", "--period", "D30"];
    w.run(&sim, &cmd, &[64, 128, 256], Some(expected));

    // The seed's loop: one tenant after another, one request at a time, into one CSV.
    let n: usize = std::env::var("FLEET_BENCH_LOOP_TENANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(f.customers().len())
        .clamp(1, f.customers().len());
    let out = std::env::temp_dir().join("tenantctl-bench-reports-loop.csv");
    let ids: Vec<String> = f.customers()[..n].iter().map(|t| t.id.to_string()).collect();
    let mut args: Vec<&str> = cmd.to_vec();
    if n == f.customers().len() {
        args.push("--all-tenants");
    } else {
        for id in &ids {
            args.extend(["--tenant", id.as_str()]);
        }
    }
    args.extend([
        "-o",
        "csv",
        "--out",
        out.to_str().unwrap(),
        "--concurrency",
        "1",
        "--fixed-concurrency",
        "--per-tenant",
        "1",
    ]);
    let m = run_cli(&sim, &args);
    let rows = std::fs::read_to_string(&out)
        .map(|s| s.lines().count().saturating_sub(1))
        .unwrap_or(0);
    let scale = f.customers().len() as f64 / n as f64;
    println!(
        "  seed's loop (one tenant after another, {n} tenants{}): wall {:.1} s{}, peak RSS {:.1} MiB, cpu {:.2} s, exit {}, rows {rows}: {}",
        if n < f.customers().len() { ", measured" } else { "" },
        m.wall,
        if n < f.customers().len() {
            format!(" → {:.0} s for all {} (extrapolated)", m.wall * scale, f.customers().len())
        } else {
            String::new()
        },
        m.peak_rss_mib,
        m.cpu,
        m.code,
        summary_line(&m.stderr)
    );
    let _ = std::fs::remove_file(out);
    rt.block_on(sim.stop());
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    println!(
        "tenantctl fleet benchmark ({} cores; simulator and CLI share them)",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let which = std::env::var("FLEET_BENCH").unwrap_or_default();
    if which.is_empty() || which == "reads" {
        reads(&rt);
    }
    if which.is_empty() || which == "writes" {
        writes(&rt);
    }
    if which.is_empty() || which == "mailboxes" {
        mailboxes(&rt);
    }
    if which.is_empty() || which == "reports" {
        reports(&rt);
    }
}
