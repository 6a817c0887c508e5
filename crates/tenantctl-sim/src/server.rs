//! The simulator's shared state and HTTP server.
//!
//! One origin, a prefix per service, the real services' paths beneath it:
//! `/login/{tenant}/oauth2/v2.0/token`, `/graph/v1.0/...`, `/partnercenter/v1/...`, and the
//! control API under `/_sim/` (tests and demos only; a client never needs it).

use crate::auth::Keys;
use crate::faults::{Faults, Stats};
use crate::fleet::{roles, Fleet, FleetConfig, Relationship, Tenant, Trouble};
use crate::throttle::{Throttle, ThrottleConfig};
use axum::Router;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Everything needed to start a simulator.
#[derive(Clone, Debug)]
pub struct SimConfig {
    pub fleet: FleetConfig,
    pub bind: IpAddr,
    /// 0 picks a free port.
    pub port: u16,
    pub faults: Faults,
    pub throttle: ThrottleConfig,
    /// Access token lifetime (`expires_in`), 3599 s like Entra by default.
    pub token_lifetime_secs: i64,
    /// Device code polling `interval` (5 s like Entra; tests use 1).
    pub device_code_interval_secs: i64,
    /// Domain verification succeeds as if the registrar had published every TXT record.
    pub publish_dns: bool,
    /// Serve https (`serve --tls`); `start` fills in `ca_file` when it generates a CA.
    pub tls: Option<crate::tls::TlsOptions>,
}

impl SimConfig {
    pub fn new(seed: u64, tenants: u32) -> SimConfig {
        SimConfig {
            fleet: FleetConfig::new(seed, tenants),
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            faults: Faults::default(),
            throttle: ThrottleConfig::default(),
            token_lifetime_secs: 3599,
            device_code_interval_secs: crate::identity::DEVICE_CODE_INTERVAL_SECS,
            publish_dns: false,
            tls: None,
        }
    }
}

/// What the partner can do in a customer tenant right now.
#[derive(Debug, Clone)]
pub struct Access {
    pub active_relationship: bool,
    pub consent: bool,
    pub roles: Vec<&'static str>,
}

impl Access {
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.contains(&roles::GLOBAL_ADMINISTRATOR) || self.roles.contains(&role)
    }
}

/// Shared state of a running simulator.
pub struct Sim {
    pub fleet: Fleet,
    pub keys: Keys,
    /// `http://127.0.0.1:<port>`; absolute `@odata.nextLink`s point here.
    pub base_url: String,
    pub faults: RwLock<Faults>,
    pub throttle: Throttle,
    pub stats: Stats,
    pub token_lifetime_secs: AtomicI64,
    /// Per-tenant trouble set at run time through `/_sim/tenants/{id}/trouble`.
    pub trouble_overrides: RwLock<HashMap<u32, Trouble>>,
    pub identity: crate::identity::IdentityState,
    /// The start-up settings `/_sim/reset` returns to.
    pub initial: SimConfig,
    /// What writes changed, and the simulated public DNS.
    pub writes: crate::overlay::Writes,
}

impl Sim {
    /// The ready line's content: where the simulator is and how to sign in.
    pub fn ready_info(&self) -> serde_json::Value {
        let f = &self.fleet;
        let mut v = serde_json::json!({
            "base_url": self.base_url,
            "partner_tenant_id": f.partner_tenant().id.to_string(),
            "partner_domain": f.partner_tenant().initial_domain,
            "client_id": f.partner.client_id.to_string(),
            "client_secret": f.partner.client_secret,
            "refresh_token": f.partner.initial_refresh_token,
            "tenants": f.customers().len(),
            "users": f.total_users(),
        });
        // identity/TLS hooks (sim-identity): certificate thumbprint, `ca_file`.
        crate::identity::extend_ready_info(self, &mut v);
        crate::tls::extend_ready_info(&self.initial, &mut v);
        v
    }

    /// Back to the start-up settings: faults, throttling, token lifetime, trouble, statistics,
    /// refresh-token revocation/expiry.
    pub fn reset(&self) {
        *self.faults.write() = self.initial.faults.clone();
        self.throttle.set_config(self.initial.throttle.clone());
        self.throttle.reset();
        self.token_lifetime_secs
            .store(self.initial.token_lifetime_secs, Ordering::Relaxed);
        self.trouble_overrides.write().clear();
        self.stats.reset();
        self.identity.reset();
        self.writes.reset();
    }

    pub fn token_lifetime(&self) -> i64 {
        self.token_lifetime_secs.load(Ordering::Relaxed)
    }

    pub fn trouble(&self, t: &Tenant) -> Trouble {
        self.trouble_overrides.read().get(&t.idx).copied().unwrap_or(t.trouble)
    }

    /// The partner's access to tenant `t`, with any run-time trouble applied.
    pub fn access(&self, t: &Tenant) -> Access {
        let generated = Access {
            active_relationship: t.has_active_relationship(),
            consent: t.app_consent,
            roles: t.active_roles(),
        };
        match self.trouble_overrides.read().get(&t.idx) {
            None => generated,
            Some(Trouble::None) => Access {
                active_relationship: true,
                consent: true,
                roles: if generated.active_relationship && generated.roles.contains(&roles::USER_ADMINISTRATOR) {
                    generated.roles
                } else {
                    full_roles()
                },
            },
            Some(Trouble::RelationshipExpired) => Access {
                active_relationship: false,
                consent: true,
                roles: vec![],
            },
            Some(Trouble::ConsentMissing) => Access {
                consent: false,
                ..generated
            },
            Some(Trouble::ReadOnlyRoles) => Access {
                active_relationship: true,
                consent: true,
                roles: vec![roles::DIRECTORY_READERS, roles::GLOBAL_READER],
            },
        }
    }

    /// The GDAP relationships with tenant `t` as Graph lists them now (run-time trouble applied).
    pub fn relationships(&self, t: &Tenant) -> Vec<Relationship> {
        let mut rels = t.relationships.clone();
        let Some(over) = self.trouble_overrides.read().get(&t.idx).copied() else {
            return rels;
        };
        let anchor = self.fleet.config.anchor;
        let access = self.access(t);
        if over == Trouble::RelationshipExpired {
            for r in rels.iter_mut().filter(|r| r.status == "active") {
                r.status = "expired";
                r.end = anchor - 86_400;
                for a in &mut r.assignments {
                    a.status = "deleted";
                }
            }
        }
        if matches!(over, Trouble::None | Trouble::ReadOnlyRoles) {
            if let Some(main) = rels.first_mut() {
                if main.status != "active" {
                    main.status = "active";
                    main.end = anchor + 365 * 86_400;
                }
                main.roles = access.roles.clone();
                for a in &mut main.assignments {
                    a.roles = access.roles.clone();
                    a.status = "active";
                }
            }
        }
        rels
    }
}

fn full_roles() -> Vec<&'static str> {
    vec![
        roles::DIRECTORY_READERS,
        roles::GLOBAL_READER,
        roles::USER_ADMINISTRATOR,
        roles::LICENSE_ADMINISTRATOR,
        roles::DOMAIN_NAME_ADMINISTRATOR,
        roles::EXCHANGE_ADMINISTRATOR,
        roles::REPORTS_READER,
    ]
}

/// The router of all services, with the latency/fault/stats middleware in front.
pub fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .merge(crate::identity::routes())
        .merge(crate::graph::routes())
        .merge(crate::batch::routes()) // Graph $batch (sim-identity)
        .merge(crate::partner_center::routes())
        .merge(crate::control::routes())
        .route_layer(axum::middleware::from_fn_with_state(
            sim.clone(),
            crate::faults::middleware,
        ))
        .with_state(sim)
}

/// A simulator listening on a socket.
pub struct RunningSim {
    pub sim: Arc<Sim>,
    pub addr: SocketAddr,
    pub base_url: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningSim {
    /// The one JSON line `tenantctl-sim serve` prints when ready.
    pub fn ready_line(&self) -> String {
        self.sim.ready_info().to_string()
    }

    /// Stops accepting, lets in-flight requests finish, and waits for the server task.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Generates the fleet, binds the socket and serves in a background task.
pub async fn start(mut cfg: SimConfig) -> std::io::Result<RunningSim> {
    // TLS hook (sim-identity): certificates first, so a bad --tls-cert fails before binding.
    let tls = match cfg.tls.as_mut() {
        Some(o) => Some(crate::tls::prepare(o, cfg.bind)?),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(cfg.bind, cfg.port)).await?;
    let addr = listener.local_addr()?;
    let host = match addr.ip() {
        IpAddr::V6(ip) => format!("[{ip}]"),
        IpAddr::V4(ip) if ip.is_unspecified() => "127.0.0.1".to_owned(),
        ip => ip.to_string(),
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let base_url = format!("{scheme}://{host}:{}", addr.port());
    let fleet = tokio::task::spawn_blocking({
        let fc = cfg.fleet.clone();
        move || Fleet::generate(fc)
    })
    .await
    .map_err(std::io::Error::other)?;
    let identity = crate::identity::IdentityState::new(&fleet);
    let sim = Arc::new(Sim {
        fleet,
        keys: Keys::load(),
        base_url: base_url.clone(),
        faults: RwLock::new(cfg.faults.clone()),
        throttle: Throttle::new(cfg.throttle.clone()),
        stats: Stats::default(),
        token_lifetime_secs: AtomicI64::new(cfg.token_lifetime_secs),
        trouble_overrides: RwLock::new(HashMap::new()),
        identity,
        initial: cfg.clone(),
        writes: Default::default(),
    });
    // Origin hook (sim-identity): requests learn their scheme and default host.
    let listener_info = crate::origin::ListenerInfo {
        https: tls.is_some(),
        authority: format!("{host}:{}", addr.port()),
    };
    let app = crate::origin::layer(router(sim.clone()), listener_info);
    let (tx, rx) = oneshot::channel::<()>();
    let task = crate::tls::spawn_server(listener, app, tls.map(|t| t.config), rx)?;
    Ok(RunningSim {
        sim,
        addr,
        base_url,
        shutdown: Some(tx),
        task: Some(task),
    })
}
