//! Shared harness for the simulator's HTTP tests: a simulator on 127.0.0.1, port 0.
#![allow(dead_code)]

use tenantctl_sim::auth::{mint, TokenRequest, AUD_GRAPH};
use tenantctl_sim::fleet::Tenant;
use tenantctl_sim::{RunningSim, SimConfig};

/// 2025-11-25T00:00:00Z: a fixed anchor so generated dates are stable in assertions.
pub const ANCHOR: i64 = 1_764_028_800;

/// Starts a simulator with `tenants` customers (fixed users per tenant when given), no latency,
/// no faults and throttling off (tests that want throttling turn it on).
pub async fn start_sim(tenants: u32, users_per_tenant: Option<u32>) -> RunningSim {
    let mut c = SimConfig::new(1, tenants);
    c.fleet.users_per_tenant = users_per_tenant;
    c.fleet.anchor = ANCHOR;
    c.throttle.enabled = false;
    tenantctl_sim::start(c).await.expect("simulator starts")
}

pub async fn start_with(c: SimConfig) -> RunningSim {
    tenantctl_sim::start(c).await.expect("simulator starts")
}

/// A delegated Graph token for tenant `t` minted with the simulator's own key (as if the
/// identity endpoint issued it to the partner's service account).
pub fn delegated_graph_token(sim: &RunningSim, t: &Tenant) -> String {
    let f = &sim.sim.fleet;
    mint(
        &sim.sim.keys,
        &TokenRequest {
            tenant_id: t.id,
            audience: AUD_GRAPH,
            app_id: f.partner.client_id,
            user: Some((f.partner.service_account_id, &f.partner.service_account_upn)),
            lifetime_secs: 3600,
        },
    )
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}
