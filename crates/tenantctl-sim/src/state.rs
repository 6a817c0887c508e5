//! The simulator's shared state: configuration, the world, the platform's parts, and the
//! partner's access to each tenant.

use crate::auth::Keys;
use crate::fleet::{roles, Fleet, FleetConfig, Relationship, Tenant, Trouble};
use crate::platform::clock::Clock;
use crate::platform::faults::{Dice, Faults, Stats};
use crate::platform::throttle::{Throttle, ThrottleConfig};
use crate::world::persist::Persist;
use crate::world::World;
use parking_lot::RwLock;
use std::borrow::Cow;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

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
    /// Seed of the fault schedule (latency jitter, injected 429/503/resets): the same seed and
    /// the same sequence of requests give the same faults.
    pub fault_seed: u64,
    /// The clock (system by default; tests use [`Clock::manual`]).
    pub clock: Clock,
    /// Where the world's changes are kept between runs (`state.json`); none: forgotten on exit.
    pub state_dir: Option<PathBuf>,
    /// Serve https (`serve --tls`); `start` fills in `ca_file` when it generates a CA.
    pub tls: Option<crate::tls::TlsOptions>,
    /// Exchange admin API: concurrent requests allowed per tenant (0: no cap; applies while
    /// throttling is enabled). See `services::exchange::throttle`.
    pub exchange_max_concurrent: u32,
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
            fault_seed: seed,
            clock: Clock::system(),
            state_dir: None,
            tls: None,
            exchange_max_concurrent: crate::services::exchange::DEFAULT_MAX_CONCURRENT,
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
    /// The generated fleet (also `world.fleet`).
    pub fleet: Arc<Fleet>,
    /// The fleet plus every change writes made.
    pub world: World,
    pub keys: Keys,
    /// `http://127.0.0.1:<port>`; absolute `@odata.nextLink`s point here.
    pub base_url: String,
    pub faults: RwLock<Faults>,
    pub throttle: Throttle,
    pub stats: Stats,
    pub token_lifetime_secs: AtomicI64,
    /// Per-tenant trouble set at run time through `/_sim/tenants/{id}/trouble`.
    pub trouble_overrides: RwLock<HashMap<u32, Trouble>>,
    /// Per-tenant GDAP roles set at run time through `/_sim/tenants/{id}/roles` (replace the
    /// roles of the active relationships).
    pub role_overrides: RwLock<HashMap<u32, Vec<&'static str>>>,
    pub identity: crate::identity::IdentityState,
    /// The start-up settings `/_sim/reset` returns to.
    pub initial: SimConfig,
    pub clock: Clock,
    /// The fault schedule.
    pub dice: Dice,
    /// Saves the world after writes when a state directory is configured.
    pub persist: Option<Persist>,
    /// Exchange's concurrent requests per tenant.
    pub exchange: crate::services::exchange::ExchangeThrottle,
    /// Global Administrator given (`true`) or taken (`false`) in a customer's main GDAP
    /// relationship through `PUT /_sim/tenants/{id}/global-admin`.
    pub global_admin_overrides: RwLock<HashMap<u32, bool>>,
    /// Usage reports: issued download links, the reports quota, download counters.
    pub reports: crate::services::graph::reports::ReportsState,
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
            "guests": f.total_guests(),
        });
        // Certificate thumbprint, and `ca_file` in TLS mode.
        crate::identity::extend_ready_info(self, &mut v);
        crate::tls::extend_ready_info(&self.initial, &mut v);
        v
    }

    /// The simulator's clock: every "now" of the platform (throttle refill, faults, created
    /// dates) reads it, and `POST /_sim/clock` moves it.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Saves the world's changes to the state directory if it has one and they changed.
    pub async fn save_state(self: Arc<Self>) -> std::io::Result<()> {
        if self.persist.is_none() {
            return Ok(());
        }
        tokio::task::spawn_blocking(move || self.save_state_now())
            .await
            .map_err(std::io::Error::other)?
    }

    /// [`Sim::save_state`] on the calling thread.
    pub fn save_state_now(&self) -> std::io::Result<()> {
        match &self.persist {
            Some(p) => p.save_if_changed(&self.world),
            None => Ok(()),
        }
    }

    /// Publishes a DNS TXT record for `domain` (as the customer's registrar would), so that
    /// `POST /domains/{id}/verify` finds it; saved with the state.
    pub fn publish_dns(&self, domain: &str, txt: &str) -> std::io::Result<()> {
        self.world.publish_dns(domain, "TXT", txt);
        self.save_state_now()
    }

    /// Publishes the `MS=ms…` TXT record that verifies `domain` in every tenant where it was
    /// added and is not verified yet (what `tenantctl sandbox publish-dns NAME` needs: the
    /// registrar step of a domain verification). Returns the published values; empty when no
    /// tenant waits for that domain. Saved with the state.
    pub fn publish_verification_txt(&self, domain: &str) -> std::io::Result<Vec<String>> {
        let name = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        let mut published = vec![];
        for t in &self.fleet.tenants {
            let waiting = self
                .world
                .domains(t)
                .iter()
                .any(|d| !d.is_verified && d.name.eq_ignore_ascii_case(&name));
            if waiting {
                let txt = crate::world::overlay::verification_txt(t, &name);
                self.world.publish_dns(&name, "TXT", &txt);
                published.push(txt);
            }
        }
        self.save_state_now()?;
        Ok(published)
    }

    /// The TXT value that verifies `domain` in tenant `tenant` (GUID or domain), as
    /// `GET /domains/{id}/verificationDnsRecords` lists it.
    pub fn verification_txt(&self, tenant: &str, domain: &str) -> Option<String> {
        let t = self.fleet.find_tenant(tenant)?;
        Some(crate::world::overlay::verification_txt(t, domain))
    }

    /// Back to the start-up settings: faults, throttling, token lifetime, trouble, statistics,
    /// refresh-token revocation/expiry, the clock, the fault schedule, and every change writes
    /// made (the saved state too).
    pub fn reset(&self) {
        *self.faults.write() = self.initial.faults.clone();
        self.throttle.set_config(self.initial.throttle.clone());
        self.throttle.reset();
        self.exchange.set_max_concurrent(self.initial.exchange_max_concurrent);
        self.token_lifetime_secs
            .store(self.initial.token_lifetime_secs, Ordering::Relaxed);
        self.trouble_overrides.write().clear();
        self.global_admin_overrides.write().clear();
        self.reports.reset();
        self.role_overrides.write().clear();
        self.stats.reset();
        self.identity.reset();
        self.world.reset();
        self.clock.reset();
        self.dice.reseed(self.initial.fault_seed);
        if let Err(e) = self.save_state_now() {
            tracing::warn!("cannot save the reset state: {e}");
        }
    }

    pub fn token_lifetime(&self) -> i64 {
        self.token_lifetime_secs.load(Ordering::Relaxed)
    }

    pub fn trouble(&self, t: &Tenant) -> Trouble {
        self.trouble_overrides.read().get(&t.idx).copied().unwrap_or(t.trouble)
    }

    /// The partner's access to tenant `t`, with any run-time trouble, role override and
    /// Global Administrator override applied.
    pub fn access(&self, t: &Tenant) -> Access {
        let mut a = self.access_with_trouble(t);
        if let Some(r) = self.role_overrides.read().get(&t.idx) {
            if a.active_relationship {
                a.roles = r.clone();
            }
        }
        match self.global_admin_overrides.read().get(&t.idx) {
            Some(true) if a.active_relationship && !a.roles.contains(&roles::GLOBAL_ADMINISTRATOR) => {
                a.roles.push(roles::GLOBAL_ADMINISTRATOR)
            }
            Some(false) => a.roles.retain(|r| *r != roles::GLOBAL_ADMINISTRATOR),
            _ => {}
        }
        a
    }

    fn access_with_trouble(&self, t: &Tenant) -> Access {
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
        self.relationships_now(t).into_owned()
    }

    /// [`Sim::relationships`] without a copy when no run-time override concerns `t` (the
    /// listings render a page from this, so only the tenants on the page are looked at).
    pub fn relationships_now<'a>(&self, t: &'a Tenant) -> Cow<'a, [Relationship]> {
        if !self.global_admin_overrides.read().contains_key(&t.idx)
            && !self.trouble_overrides.read().contains_key(&t.idx)
        {
            return Cow::Borrowed(&t.relationships);
        }
        Cow::Owned(self.relationships_overridden(t))
    }

    /// Whether the partner has an active GDAP relationship with `t` now (`delegatedAdminCustomers`).
    pub fn gdap_active(&self, t: &Tenant) -> bool {
        self.relationships_now(t).iter().any(|rel| rel.status == "active")
    }

    fn relationships_overridden(&self, t: &Tenant) -> Vec<Relationship> {
        let mut rels = t.relationships.clone();
        if let Some(&ga) = self.global_admin_overrides.read().get(&t.idx) {
            if let Some(main) = rels.iter_mut().find(|r| r.status == "active") {
                let set = |list: &mut Vec<&'static str>| {
                    list.retain(|r| *r != roles::GLOBAL_ADMINISTRATOR);
                    if ga {
                        list.push(roles::GLOBAL_ADMINISTRATOR);
                    }
                };
                set(&mut main.roles);
                for a in &mut main.assignments {
                    set(&mut a.roles);
                }
            }
        }
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
