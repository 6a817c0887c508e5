//! The `serve` command's flags, shared by `tenantctl-sim serve` and `tenantctl sim serve`.

use crate::faults::Faults;
use crate::throttle::ThrottleConfig;
use crate::SimConfig;
use std::net::IpAddr;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Port (0 picks a free one; the ready line says which).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Number of customer tenants.
    #[arg(long, default_value_t = 50)]
    tenants: u32,
    /// Seed: the same seed and size give the same fleet.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A fixed number of users in every customer (default: an SMB-heavy distribution).
    #[arg(long)]
    users_per_tenant: Option<u32>,
    /// No B2B guests in the customers (by default a few per customer, after the members).
    #[arg(long)]
    no_guests: bool,
    /// Share of customers in trouble (expired relationship, missing consent, read-only roles).
    #[arg(long, default_value_t = 0.05)]
    trouble_share: f64,
    /// "Now" for generated dates, as YYYY-MM-DD (default: today, UTC).
    #[arg(long, value_parser = parse_date)]
    anchor: Option<i64>,
    /// Latency added to every request, e.g. 80ms.
    #[arg(long, value_parser = parse_duration, default_value = "0ms")]
    latency: Duration,
    /// Uniform extra latency up to this much, e.g. 20ms.
    #[arg(long, value_parser = parse_duration, default_value = "0ms")]
    jitter: Duration,
    /// Latency of the token endpoints, e.g. 150ms.
    #[arg(long, value_parser = parse_duration, default_value = "0ms")]
    token_latency: Duration,
    /// Probability of an injected 429 (with Retry-After).
    #[arg(long, default_value_t = 0.0)]
    fault_429: f64,
    /// Probability of an injected 503.
    #[arg(long, default_value_t = 0.0)]
    fault_503: f64,
    /// Probability of a connection reset.
    #[arg(long, default_value_t = 0.0)]
    fault_reset: f64,
    /// Access-token lifetime, e.g. 60s (default 3599s like Entra).
    #[arg(long, value_parser = parse_duration, default_value = "3599s")]
    token_lifetime: Duration,
    /// Domain verification succeeds as if every TXT record were already published.
    #[arg(long)]
    publish_dns: bool,
    /// Turn Graph-style throttling off.
    #[arg(long)]
    no_throttle: bool,
    /// Multiply Graph's documented throttling limits (e.g. 0.1 to reach them sooner).
    #[arg(long, default_value_t = 1.0)]
    throttle_scale: f64,
    /// Exchange admin API: concurrent requests allowed per tenant (0: no cap); more get
    /// Exchange's "maximum number of concurrent requests per tenant" answer.
    #[arg(long, default_value_t = crate::services::exchange::throttle::DEFAULT_MAX_CONCURRENT)]
    exchange_max_concurrent: u32,
    /// Seed of the fault schedule (default: the fleet seed): the same seed replays the same faults.
    #[arg(long)]
    fault_seed: Option<u64>,
    /// Keep the world's changes in DIR/state.json across runs (a sandbox that remembers).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<std::path::PathBuf>,
    /// Serve https with a throwaway CA created at start (its PEM path is `ca_file` in the ready line).
    #[arg(long)]
    tls: bool,
    /// Serve https with this PEM certificate (chain) instead of a generated one (with --tls-key).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
    /// Directory to write the generated CA certificate to (default: a new temp directory).
    #[arg(long)]
    tls_dir: Option<std::path::PathBuf>,
}

pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map(|i| s.split_at(i))
        .unwrap_or((s, "ms"));
    let n: f64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration: use e.g. 80ms, 2s, 1m"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("'{s}': unknown unit '{unit}' (use ms, s or m)")),
    };
    Ok(Duration::from_secs_f64(secs))
}

fn parse_date(s: &str) -> Result<i64, String> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt)
        .map(|d| d.midnight().assume_utc().unix_timestamp())
        .map_err(|_| format!("'{s}' is not a date: use YYYY-MM-DD"))
}

impl ServeArgs {
    pub fn config(&self) -> Result<SimConfig, String> {
        for (name, p) in [
            ("--fault-429", self.fault_429),
            ("--fault-503", self.fault_503),
            ("--fault-reset", self.fault_reset),
            ("--trouble-share", self.trouble_share),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("{name} {p}: a probability must be between 0 and 1"));
            }
        }
        let mut c = SimConfig::new(self.seed, self.tenants);
        c.bind = self.bind;
        c.port = self.port;
        c.fleet.users_per_tenant = self.users_per_tenant;
        c.fleet.guests = !self.no_guests;
        c.fleet.trouble_share = self.trouble_share;
        if let Some(a) = self.anchor {
            c.fleet.anchor = a;
        }
        c.faults = Faults {
            latency_ms: self.latency.as_millis() as u64,
            jitter_ms: self.jitter.as_millis() as u64,
            token_latency_ms: self.token_latency.as_millis() as u64,
            fault_429: self.fault_429,
            fault_503: self.fault_503,
            fault_reset: self.fault_reset,
            retry_after_secs: 1,
            drop_write_responses: 0,
        };
        c.token_lifetime_secs = self.token_lifetime.as_secs().max(1) as i64;
        c.publish_dns = self.publish_dns;
        if let Some(s) = self.fault_seed {
            c.fault_seed = s;
        }
        c.state_dir = self.state_dir.clone();
        c.throttle = ThrottleConfig {
            enabled: !self.no_throttle,
            scale: self.throttle_scale,
        };
        c.exchange_max_concurrent = self.exchange_max_concurrent;
        if self.tls || self.tls_cert.is_some() {
            c.tls = Some(crate::tls::TlsOptions {
                cert_file: self.tls_cert.clone(),
                key_file: self.tls_key.clone(),
                dir: self.tls_dir.clone(),
                ca_file: None,
            });
        }
        Ok(c)
    }
}

/// Starts the simulator, prints the ready line on stdout, serves until Ctrl-C.
pub async fn serve(args: &ServeArgs) -> Result<(), String> {
    let cfg = args.config()?;
    let running = crate::start(cfg)
        .await
        .map_err(|e| format!("cannot start the simulator: {e}"))?;
    println!("{}", running.ready_line());
    let _ = tokio::signal::ctrl_c().await;
    eprintln!("tenantctl-sim: stopping");
    running.stop().await;
    Ok(())
}
