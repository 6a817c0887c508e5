//! The HTTP server: router assembly and start-up.
//!
//! One origin, a prefix per service, the real services' paths beneath it:
//! `/login/{tenant}/oauth2/v2.0/token`, `/graph/v1.0/...`, `/partnercenter/v1/...`, and the
//! control API under `/_sim/` (tests and demos only; a client never needs it). A path or method
//! no route serves answers in the error body of the service its prefix names.

pub use crate::state::{Access, Sim, SimConfig};

use crate::auth::Keys;
use crate::fleet::Fleet;
use crate::platform::errors::{aad_error, ControlError};
use crate::platform::faults::{Dice, Stats};
use crate::platform::throttle::Throttle;
use crate::services::{exchange, graph, partner_center};
use crate::world::persist::{self, Persist};
use crate::world::World;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::AtomicI64;
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The router of all services, with the latency/fault/stats middleware in front.
pub fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .merge(crate::identity::routes())
        .merge(graph::routes())
        .merge(crate::batch::routes())
        .merge(partner_center::routes())
        .merge(exchange::routes())
        .merge(crate::control::routes())
        .route_layer(axum::middleware::from_fn_with_state(
            sim.clone(),
            crate::platform::faults::middleware,
        ))
        // Exchange's concurrent-request cap, outside the faults layer: a slow request holds its slot.
        .route_layer(axum::middleware::from_fn_with_state(
            sim.clone(),
            exchange::throttle::middleware,
        ))
        .fallback(unmatched)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(sim)
}

/// No route for this path: the error body of the service the prefix names.
async fn unmatched(req: Request) -> Response {
    let path = req.uri().path();
    let headers = req.headers();
    if path.starts_with("/graph") {
        graph::unmatched(path, headers).into_response()
    } else if path.starts_with("/partnercenter") {
        partner_center::unmatched(path, headers).into_response()
    } else if path.starts_with("/outlook") {
        exchange::unmatched(path)
    } else if path.starts_with("/login") {
        // Entra's text for a request it cannot parse.
        aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            9002313,
            "Invalid request. Request is malformed or invalid.",
        )
    } else {
        ControlError::not_found(format!("no such path: {path}")).into_response()
    }
}

/// A route exists for this path, but not for this method.
async fn method_not_allowed(req: Request) -> Response {
    let path = req.uri().path();
    let headers = req.headers();
    if path.starts_with("/graph") {
        graph::method_not_allowed(headers).into_response()
    } else if path.starts_with("/partnercenter") {
        partner_center::method_not_allowed(headers).into_response()
    } else if path.starts_with("/outlook") {
        exchange::method_not_allowed(req.method().as_str())
    } else if path.starts_with("/login") {
        aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900561,
            &format!(
                "The endpoint only accepts POST, OPTIONS requests. Received a {} request.",
                req.method()
            ),
        )
    } else {
        ControlError {
            status: StatusCode::METHOD_NOT_ALLOWED,
            message: format!("{} is not allowed on {path}", req.method()),
        }
        .into_response()
    }
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

    /// Publishes a DNS TXT record (see [`Sim::publish_dns`]).
    pub fn publish_dns(&self, domain: &str, txt: &str) -> std::io::Result<()> {
        self.sim.publish_dns(domain, txt)
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

/// Builds the shared state: generates the fleet and loads the saved state, if any.
pub async fn build(cfg: SimConfig, base_url: String) -> std::io::Result<Arc<Sim>> {
    let fleet = tokio::task::spawn_blocking({
        let fc = cfg.fleet.clone();
        move || Fleet::generate(fc)
    })
    .await
    .map_err(std::io::Error::other)?;
    let fleet = Arc::new(fleet);
    let world = World::new(fleet.clone());
    let persist = match &cfg.state_dir {
        Some(dir) => {
            persist::load(dir, &world)?;
            Some(Persist::new(dir.clone(), &world))
        }
        None => None,
    };
    let identity = crate::identity::IdentityState::new(&fleet);
    Ok(Arc::new(Sim {
        fleet,
        world,
        keys: Keys::load(),
        base_url,
        faults: RwLock::new(cfg.faults.clone()),
        throttle: Throttle::new(cfg.throttle.clone(), cfg.clock.clone()),
        stats: Stats::default(),
        token_lifetime_secs: AtomicI64::new(cfg.token_lifetime_secs),
        trouble_overrides: RwLock::new(HashMap::new()),
        role_overrides: RwLock::new(HashMap::new()),
        identity,
        clock: cfg.clock.clone(),
        dice: Dice::new(cfg.fault_seed),
        exchange: exchange::ExchangeThrottle::new(cfg.exchange_max_concurrent),
        persist,
        global_admin_overrides: RwLock::new(HashMap::new()),
        reports: graph::reports::ReportsState::default(),
        initial: cfg,
    }))
}

/// Generates the fleet, loads the saved state (`cfg.state_dir`), binds the socket and serves
/// in a background task. A state file of another fleet, or a corrupt one, is refused with
/// `ErrorKind::InvalidData` and a message saying which.
pub async fn start(mut cfg: SimConfig) -> std::io::Result<RunningSim> {
    // TLS: certificates first, so a bad --tls-cert fails before binding.
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
    let sim = build(cfg, base_url.clone()).await?;
    // Requests learn their scheme and default host (absolute URLs follow the request's origin).
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
