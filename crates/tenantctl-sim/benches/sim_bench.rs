//! Simulator benchmark: start time and memory at 1,000 and 10,000 tenants, cheap-GET
//! throughput, and the simulator's CPU per request of the routes a fleet-wide listing makes.
//! Run with `cargo bench -p tenantctl-sim` (release build); prints its figures.
//!
//! Start time is measured on the real binary, from spawn to its ready line; memory is the
//! child's resident set (VmRSS) right after start and its peak (VmHWM) after the load; CPU is
//! the child's user + system time (`/proc/<pid>/stat`) over requests sent one at a time.

// A benchmark measures wall time.
#![allow(clippy::disallowed_methods)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn spawn_sim(args: &[&str]) -> (Child, serde_json::Value, Duration) {
    let t0 = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tenantctl-sim"))
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn tenantctl-sim");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("ready line");
    let elapsed = t0.elapsed();
    let ready: serde_json::Value = serde_json::from_str(&line).expect("ready line is JSON");
    (child, ready, elapsed)
}

fn proc_kib(pid: u32, field: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// CPU seconds the child has used so far (utime + stime, in clock ticks of 10 ms).
fn cpu_secs(pid: u32) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = s
        .rsplit_once(')')
        .map(|x| x.1)
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let tick = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

async fn customer_token(http: &reqwest::Client, ready: &serde_json::Value) -> String {
    let customer = healthy_customers(http, ready).await.swap_remove(0);
    token(http, ready, customer["id"].as_str().unwrap()).await
}

/// The customers without trouble, in fleet order.
async fn healthy_customers(http: &reqwest::Client, ready: &serde_json::Value) -> Vec<serde_json::Value> {
    let base = ready["base_url"].as_str().unwrap();
    let tenants: serde_json::Value = http
        .get(format!("{base}/_sim/tenants"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let healthy: Vec<serde_json::Value> = tenants["tenants"]
        .as_array()
        .expect("tenants")
        .iter()
        .filter(|t| t["trouble"] == "none" && t["kind"] != "partner")
        .cloned()
        .collect();
    assert!(!healthy.is_empty(), "a healthy customer");
    healthy
}

/// A delegated Graph token for tenant `tid` (the partner's refresh token redeemed there).
async fn token(http: &reqwest::Client, ready: &serde_json::Value, tid: &str) -> String {
    let base = ready["base_url"].as_str().unwrap();
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", ready["client_id"].as_str().unwrap()),
        ("client_secret", ready["client_secret"].as_str().unwrap()),
        ("refresh_token", ready["refresh_token"].as_str().unwrap()),
        ("scope", "https://graph.microsoft.com/.default"),
    ];
    let r: serde_json::Value = http
        .post(format!("{base}/login/{tid}/oauth2/v2.0/token"))
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access_token"].as_str().expect("access token").to_owned()
}

async fn load(url: String, token: String, concurrency: usize, secs: u64) -> (f64, u64, u64) {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let ok = Arc::new(AtomicU64::new(0));
    let bad = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, url, token, ok, bad) = (http.clone(), url.clone(), token.clone(), ok.clone(), bad.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                match http.get(&url).bearer_auth(&token).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        bad.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let el = t0.elapsed().as_secs_f64();
    let okn = ok.load(Ordering::Relaxed);
    (okn as f64 / el, okn, bad.load(Ordering::Relaxed))
}

/// The simulator's CPU per request over `n` requests made one at a time by `request`.
async fn cpu_per_request<F, Fut>(pid: u32, n: u32, mut request: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let before = cpu_secs(pid);
    for _ in 0..n {
        request().await;
    }
    (cpu_secs(pid) - before) / n as f64
}

/// GETs `url` and follows `@odata.nextLink` to the end; returns the pages read.
async fn walk(http: &reqwest::Client, url: &str, token: &str) -> u32 {
    let (mut next, mut pages) = (Some(url.to_owned()), 0);
    while let Some(url) = next {
        let v: serde_json::Value = http
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(v["value"].is_array(), "{url}: {v}");
        next = v["@odata.nextLink"].as_str().map(str::to_owned);
        pages += 1;
    }
    pages
}

/// CPU per token request, per page of the users listing `tenantctl users list` reads (999
/// users), per `/subscribedSkus`, and per `delegatedAdminRelationships` page at 10,000 tenants.
fn cpu_per_request_figures(rt: &tokio::runtime::Runtime) {
    println!("\nsimulator CPU per request (one at a time):");
    let (mut child, ready, _) = spawn_sim(&["--tenants", "1000", "--seed", "1", "--no-throttle"]);
    let base = ready["base_url"].as_str().unwrap().to_owned();
    let pid = child.id();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let customers = healthy_customers(&http, &ready).await;
        let tid = customers[0]["id"].as_str().unwrap();
        let ms = 1000.0 * cpu_per_request(pid, 200, || async { drop(token(&http, &ready, tid).await) }).await;
        println!("  POST token (refresh_token grant)               {ms:>7.2} ms");
        let big = customers.iter().max_by_key(|t| t["users"].as_u64()).unwrap();
        let tok = token(&http, &ready, big["id"].as_str().unwrap()).await;
        let users = format!(
            "{base}/graph/v1.0/users?$select=id,userPrincipalName,displayName,accountEnabled,usageLocation,createdDateTime,assignedLicenses&$top=999"
        );
        let get = |url: String| {
            let (http, tok) = (&http, &tok);
            async move {
                let r = http.get(url).bearer_auth(tok).send().await.unwrap();
                assert!(r.status().is_success());
                drop(r.bytes().await);
            }
        };
        let ms = 1000.0 * cpu_per_request(pid, 50, || get(users.clone())).await;
        println!("  GET users, 999 users ({:>5} in the tenant)      {ms:>7.2} ms", big["users"]);
        let skus = format!("{base}/graph/v1.0/subscribedSkus");
        let ms = 1000.0 * cpu_per_request(pid, 200, || get(skus.clone())).await;
        println!("  GET subscribedSkus                             {ms:>7.2} ms");
    });
    let _ = child.kill();
    let _ = child.wait();

    let (mut child, ready, _) = spawn_sim(&["--tenants", "10000", "--seed", "1", "--no-throttle"]);
    let base = ready["base_url"].as_str().unwrap().to_owned();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let tok = token(&http, &ready, ready["partner_tenant_id"].as_str().unwrap()).await;
        let url = format!("{base}/graph/v1.0/tenantRelationships/delegatedAdminRelationships?$top=300");
        let pages = walk(&http, &url, &tok).await;
        let before = cpu_secs(child.id());
        for _ in 0..3 {
            walk(&http, &url, &tok).await;
        }
        let ms = 1000.0 * (cpu_secs(child.id()) - before) / (3 * pages) as f64;
        println!("  GET delegatedAdminRelationships page, 10,000 tenants ({pages} pages of 300) {ms:>7.2} ms");
    });
    let _ = child.kill();
    let _ = child.wait();
}

fn main() {
    // `cargo test --benches` runs bench targets with no `--bench` flag: do nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    println!(
        "tenantctl-sim benchmark ({} cores)",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    println!("{:>8} {:>10} {:>12} {:>12}", "tenants", "users", "start_ms", "rss_MiB");
    for n in [1_000u32, 10_000] {
        let (mut child, ready, start) = spawn_sim(&["--tenants", &n.to_string(), "--seed", "1", "--no-throttle"]);
        std::thread::sleep(Duration::from_millis(200));
        let rss = proc_kib(child.id(), "VmRSS:");
        println!(
            "{:>8} {:>10} {:>12.0} {:>12.1}",
            n,
            ready["users"],
            start.as_secs_f64() * 1000.0,
            mib(rss)
        );
        let _ = child.kill();
        let _ = child.wait();
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (mut child, ready, _) = spawn_sim(&["--tenants", "1000", "--seed", "1", "--no-throttle"]);
    let base = ready["base_url"].as_str().unwrap().to_owned();
    let secs = std::env::var("SIM_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    rt.block_on(async {
        let http = reqwest::Client::new();
        let token = customer_token(&http, &ready).await;
        println!("\nthroughput over {secs} s, 64 connections, load generator on the same machine:");
        for path in [
            "/graph/v1.0/organization",
            "/graph/v1.0/users?$top=1",
            "/graph/v1.0/users?$top=100",
        ] {
            let (rps, ok, bad) = load(format!("{base}{path}"), token.clone(), 64, secs).await;
            println!("  GET {path:<32} {rps:>9.0} req/s  ({ok} ok, {bad} failed)");
        }
    });
    println!(
        "\npeak RSS of the 1,000-tenant simulator after the load: {:.1} MiB",
        mib(proc_kib(child.id(), "VmHWM:"))
    );
    let _ = child.kill();
    let _ = child.wait();
    cpu_per_request_figures(&rt);
}
