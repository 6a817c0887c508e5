//! The simulated world: the generated fleet (immutable, users virtual) plus a typed overlay of
//! the changes writes made, one lock per tenant, and the simulated public DNS.
//!
//! Services never touch the overlay: they read through [`World::tenant`] (a [`TenantView`] of
//! merged users, domains and SKUs) and change it through the `World` write methods, then render
//! what they get in their own wire shape.

pub mod fleet;
pub mod mailboxes;
pub mod model;
pub mod names;
pub mod overlay;
pub mod persist;
pub mod security;
pub mod skus;
pub mod usage;

use crate::ids::Guid;
use fleet::{Domain, Fleet, Subscription, Tenant};
use model::{LicenceChange, SkuView, UserPatch, UserRecord, UserView, WorldError};
use overlay::{verification_txt, AddedDomain, TenantOverlay};
use parking_lot::{Mutex, RwLock, RwLockReadGuard};
use serde::{Deserialize, Serialize};
use skus::Catalog;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// One published DNS record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsRecord {
    /// Upper case: `TXT`, `MX`…
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

/// Published records: lower-case name → records.
pub type Dns = BTreeMap<String, Vec<DnsRecord>>;

pub struct World {
    pub fleet: Arc<Fleet>,
    /// By tenant index.
    overlays: Vec<RwLock<TenantOverlay>>,
    dns: RwLock<Dns>,
    /// Serialises domain writes: whether a name is verified elsewhere spans tenants.
    domain_writes: Mutex<()>,
    /// Bumped by every change; persistence saves when it moved.
    generation: AtomicU64,
}

impl World {
    pub fn new(fleet: Arc<Fleet>) -> World {
        let overlays = (0..fleet.tenants.len()).map(|_| RwLock::default()).collect();
        World {
            fleet,
            overlays,
            dns: RwLock::default(),
            domain_writes: Mutex::new(()),
            generation: AtomicU64::new(0),
        }
    }

    /// A read view of tenant `t` (holds that tenant's read lock while alive).
    pub fn tenant<'a>(&'a self, t: &'a Tenant) -> TenantView<'a> {
        TenantView {
            fleet: &self.fleet,
            t,
            o: self.overlays[t.idx as usize].read(),
        }
    }

    /// The merged user `key` (object id or UPN) of tenant `t`.
    pub fn user(&self, t: &Tenant, key: &str) -> Option<UserView> {
        self.tenant(t).user(key)
    }

    /// The tenant's domains after writes.
    pub fn domains(&self, t: &Tenant) -> Vec<Domain> {
        self.tenant(t).domains()
    }

    /// The tenant's SKUs with consumed units after writes.
    pub fn skus(&self, t: &Tenant) -> Vec<SkuView> {
        self.tenant(t).skus()
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Forgets every change and every DNS record.
    pub fn reset(&self) {
        for o in &self.overlays {
            *o.write() = TenantOverlay::default();
        }
        self.dns.write().clear();
        self.changed();
    }

    /// Creates a user; the UPN's domain must be verified and the UPN free.
    pub fn create_user(&self, t: &Tenant, user: UserRecord) -> Result<UserView, WorldError> {
        let mut o = self.overlays[t.idx as usize].write();
        let domain = user.user_principal_name.split_once('@').map(|x| x.1).unwrap_or("");
        if !domains_of(t, &o)
            .iter()
            .any(|d| d.is_verified && d.name.eq_ignore_ascii_case(domain))
        {
            return Err(WorldError::UpnDomainNotVerified);
        }
        if find_user(&self.fleet, t, &o, &user.user_principal_name).is_some() {
            return Err(WorldError::UpnTaken);
        }
        let index = o.len(t);
        o.store(t, index, Some(user.clone()));
        self.changed();
        Ok(UserView { index, user })
    }

    /// Applies a user update.
    pub fn apply(&self, t: &Tenant, key: &str, patch: UserPatch) -> Result<UserView, WorldError> {
        let mut o = self.overlays[t.idx as usize].write();
        let mut v = find_user(&self.fleet, t, &o, key).ok_or(WorldError::NotFound)?;
        patch.apply_to(&mut v.user);
        o.store(t, v.index, Some(v.user.clone()));
        self.changed();
        Ok(v)
    }

    /// Deletes a user at the fleet's anchor time (see [`World::delete_user_at`]).
    pub fn delete_user(&self, t: &Tenant, key: &str) -> Result<UserView, WorldError> {
        self.delete_user_at(t, key, self.fleet.config.anchor)
    }

    /// Deletes a user at `when` (Unix seconds); its licences return to the pool, and usage
    /// reports keep listing it as deleted.
    pub fn delete_user_at(&self, t: &Tenant, key: &str, when: i64) -> Result<UserView, WorldError> {
        let mut o = self.overlays[t.idx as usize].write();
        let v = find_user(&self.fleet, t, &o, key).ok_or(WorldError::NotFound)?;
        for l in &v.user.licences {
            *o.consumed_delta.entry(l.sku_id).or_default() -= 1;
        }
        o.deleted_users.push(overlay::DeletedUser {
            index: v.index,
            user: v.user.clone(),
            deleted: when,
        });
        o.store(t, v.index, None);
        self.changed();
        Ok(v)
    }

    /// Adds and removes licences of one user, all or nothing (user-assignlicense).
    pub fn assign_licences(&self, t: &Tenant, key: &str, change: LicenceChange) -> Result<UserView, WorldError> {
        let mut o = self.overlays[t.idx as usize].write();
        let mut v = find_user(&self.fleet, t, &o, key).ok_or(WorldError::NotFound)?;
        if !change.add.is_empty() && v.user.usage_location.is_none() {
            return Err(WorldError::NoUsageLocation);
        }
        let skus = skus_of(t, &o);
        let mut delta: Vec<(Guid, i64)> = vec![];
        for a in &change.add {
            let sku = skus
                .iter()
                .find(|s| s.sku_id == a.sku_id)
                .ok_or(WorldError::UnknownSku(a.sku_id))?;
            if v.user.holds(a.sku_id) {
                continue;
            }
            if sku.free() < 1 {
                return Err(WorldError::NoFreeUnits(a.sku_id));
            }
            delta.push((a.sku_id, 1));
        }
        for s in &change.remove {
            if !v.user.holds(*s) {
                return Err(WorldError::NotHeld(*s));
            }
            delta.push((*s, -1));
        }
        let u = &mut v.user;
        u.licences.retain(|l| !change.remove.contains(&l.sku_id));
        for a in change.add {
            match u.licences.iter_mut().find(|l| l.sku_id == a.sku_id) {
                // Assigning a held SKU again updates its disabled plans.
                Some(l) => l.disabled_plans = a.disabled_plans,
                None => u.licences.push(a),
            }
        }
        for (s, d) in delta {
            *o.consumed_delta.entry(s).or_default() += d;
        }
        o.store(t, v.index, Some(v.user.clone()));
        self.changed();
        Ok(v)
    }

    /// Sets `admin/reportSettings` `displayConcealedNames` for tenant `t`.
    pub fn set_display_concealed_names(&self, t: &Tenant, v: bool) {
        self.overlays[t.idx as usize].write().display_concealed_names = Some(v);
        self.changed();
    }

    /// Whether a verified domain `name` exists in a tenant other than `except`.
    fn verified_elsewhere(&self, name: &str, except: u32) -> bool {
        self.fleet.tenants.iter().filter(|o| o.idx != except).any(|o| {
            self.domains(o)
                .iter()
                .any(|d| d.is_verified && d.name.eq_ignore_ascii_case(name))
        })
    }

    /// Adds an unverified domain (`name` lower case, already validated).
    pub fn add_domain(&self, t: &Tenant, name: &str) -> Result<Domain, WorldError> {
        let _serial = self.domain_writes.lock();
        if self.domains(t).iter().any(|d| d.name.eq_ignore_ascii_case(name)) {
            return Err(WorldError::DomainExists);
        }
        if self.verified_elsewhere(name, t.idx) {
            return Err(WorldError::DomainVerifiedElsewhere(name.to_owned()));
        }
        let mut o = self.overlays[t.idx as usize].write();
        o.domains.push(AddedDomain {
            name: name.to_owned(),
            verified: false,
        });
        self.changed();
        Ok(domains_of(t, &o)
            .into_iter()
            .find(|d| d.name == name)
            .expect("just added"))
    }

    /// Verifies a domain: its `MS=ms…` TXT record must be published (or `assume_published`).
    pub fn verify_domain(&self, t: &Tenant, name: &str, assume_published: bool) -> Result<Domain, WorldError> {
        let _serial = self.domain_writes.lock();
        let name = name.to_ascii_lowercase();
        let d = self
            .domains(t)
            .into_iter()
            .find(|d| d.name == name)
            .ok_or(WorldError::NotFound)?;
        if d.is_verified {
            return Ok(d);
        }
        let txt = verification_txt(t, &name);
        if !(assume_published || self.dns_has(&name, "TXT", &txt)) {
            return Err(WorldError::VerificationFailed { name, txt });
        }
        let mut o = self.overlays[t.idx as usize].write();
        match o.domains.iter_mut().find(|x| x.name == name) {
            Some(x) => x.verified = true,
            None => {
                o.verified_domains.insert(name.clone());
            }
        }
        self.changed();
        Ok(domains_of(t, &o).into_iter().find(|d| d.name == name).expect("present"))
    }

    /// Deletes a domain; the initial and the default one cannot be.
    pub fn delete_domain(&self, t: &Tenant, name: &str) -> Result<(), WorldError> {
        let _serial = self.domain_writes.lock();
        let name = name.to_ascii_lowercase();
        let mut o = self.overlays[t.idx as usize].write();
        let d = domains_of(t, &o)
            .into_iter()
            .find(|d| d.name.eq_ignore_ascii_case(&name))
            .ok_or(WorldError::NotFound)?;
        if d.is_initial || d.is_default {
            return Err(WorldError::DomainProtected);
        }
        let before = o.domains.len();
        o.domains.retain(|x| x.name != name);
        if o.domains.len() == before {
            o.verified_domains.remove(&name);
            o.removed_domains.insert(name);
        }
        self.changed();
        Ok(())
    }

    /// Publishes a DNS record, as the customer's registrar would. `kind` is upper-cased.
    pub fn publish_dns(&self, name: &str, kind: &str, value: &str) -> DnsRecord {
        let rec = DnsRecord {
            kind: kind.trim().to_ascii_uppercase(),
            value: value.trim().to_owned(),
        };
        let mut dns = self.dns.write();
        let list = dns.entry(dns_name(name)).or_default();
        if !list.contains(&rec) {
            list.push(rec.clone());
            self.changed();
        }
        rec
    }

    pub fn unpublish_dns(&self, name: &str, kind: &str, value: &str) {
        if let Some(list) = self.dns.write().get_mut(&dns_name(name)) {
            let before = list.len();
            list.retain(|r| !(r.kind.eq_ignore_ascii_case(kind) && r.value == value));
            if list.len() != before {
                self.changed();
            }
        }
    }

    pub fn dns(&self) -> Dns {
        self.dns.read().clone()
    }

    pub fn dns_has(&self, name: &str, kind: &str, value: &str) -> bool {
        self.dns
            .read()
            .get(&dns_name(name))
            .is_some_and(|v| v.iter().any(|r| r.kind.eq_ignore_ascii_case(kind) && r.value == value))
    }

    /// Every non-empty tenant overlay, by tenant index, and the DNS: what persistence saves.
    pub fn changes(&self) -> (BTreeMap<u32, TenantOverlay>, Dns) {
        let mut out = BTreeMap::new();
        for (i, o) in self.overlays.iter().enumerate() {
            let o = o.read();
            if !o.is_empty() {
                out.insert(i as u32, o.clone());
            }
        }
        (out, self.dns())
    }

    /// Replaces all changes (state loaded from disk). Unknown tenant indices are an error.
    pub fn restore(&self, overlays: BTreeMap<u32, TenantOverlay>, dns: Dns) -> Result<(), String> {
        if let Some(bad) = overlays.keys().find(|&&i| i as usize >= self.overlays.len()) {
            return Err(format!("tenant index {bad} does not exist in this fleet"));
        }
        for o in &self.overlays {
            *o.write() = TenantOverlay::default();
        }
        for (i, o) in overlays {
            let t = &self.fleet.tenants[i as usize];
            if let Some(&bad) = o
                .replaced
                .keys()
                .chain(o.deleted.iter())
                .find(|&&u| u >= t.generated_users())
            {
                return Err(format!("user index {bad} does not exist in tenant {}", t.id));
            }
            *self.overlays[i as usize].write() = o;
        }
        *self.dns.write() = dns;
        Ok(())
    }
}

fn dns_name(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// A read-locked view of one tenant after writes.
pub struct TenantView<'a> {
    fleet: &'a Fleet,
    pub t: &'a Tenant,
    o: RwLockReadGuard<'a, TenantOverlay>,
}

impl TenantView<'_> {
    /// Number of user slots (deleted users included): `user_at` is defined on `0..len()`.
    pub fn len(&self) -> u64 {
        self.o.len(self.t)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether writes touched the tenant (then counts must be computed, not taken as generated).
    pub fn changed(&self) -> bool {
        !self.o.is_empty()
    }

    /// The user in slot `i`, or `None` when it was deleted.
    pub fn user_at(&self, i: u64) -> Option<UserView> {
        user_at(self.fleet, self.t, &self.o, i)
    }

    /// Whether slot `i` holds a user (`user_at(i)` is `Some`), without reading it.
    pub fn has_user_at(&self, i: u64) -> bool {
        match self.o.touched(self.t, i) {
            Some(stored) => stored.is_some(),
            None => i < self.t.generated_users(),
        }
    }

    /// The user with object id or UPN `key`.
    pub fn user(&self, key: &str) -> Option<UserView> {
        find_user(self.fleet, self.t, &self.o, key)
    }

    /// All users after writes, in listing order.
    pub fn users(&self) -> impl Iterator<Item = UserView> + '_ {
        (0..self.len()).filter_map(|i| self.user_at(i))
    }

    pub fn domains(&self) -> Vec<Domain> {
        domains_of(self.t, &self.o)
    }

    pub fn skus(&self) -> Vec<SkuView> {
        skus_of(self.t, &self.o)
    }

    /// Users deleted by writes, in deletion order.
    pub fn deleted_users(&self) -> &[overlay::DeletedUser] {
        &self.o.deleted_users
    }

    /// `admin/reportSettings` `displayConcealedNames` (default `true`).
    pub fn display_concealed_names(&self) -> bool {
        self.o.display_concealed_names.unwrap_or(true)
    }

    /// The seed and anchor of the fleet (for derived data).
    pub fn seed_anchor(&self) -> (u64, i64) {
        (self.fleet.config.seed, self.fleet.config.anchor)
    }
}

fn user_at(fleet: &Fleet, t: &Tenant, o: &TenantOverlay, i: u64) -> Option<UserView> {
    let user = match o.touched(t, i) {
        Some(stored) => stored?.clone(),
        None if i < t.user_count as u64 => UserRecord::generated(t, fleet.user(t, i as u32)),
        None if i < t.generated_users() => fleet.guest(t, (i - t.user_count as u64) as u32),
        None => return None,
    };
    Some(UserView { index: i, user })
}

fn find_user(fleet: &Fleet, t: &Tenant, o: &TenantOverlay, key: &str) -> Option<UserView> {
    let base = t.generated_users();
    for (k, u) in o.created.iter().enumerate() {
        if let Some(u) = u.as_ref().filter(|u| u.is(key)) {
            return Some(UserView {
                index: base + k as u64,
                user: u.clone(),
            });
        }
    }
    for (i, u) in &o.replaced {
        if u.is(key) {
            return Some(UserView {
                index: *i,
                user: u.clone(),
            });
        }
    }
    let member = match key.parse::<Guid>() {
        Ok(g) => fleet.user_index_by_id(t, g),
        Err(_) => fleet.user_index_by_upn(t, key),
    };
    let guest = || match key.parse::<Guid>() {
        Ok(g) => fleet.guest_index_by_id(t, g),
        Err(_) => fleet.guest_index_by_upn(t, key),
    };
    let i = match member {
        Some(i) => i as u64,
        None => t.user_count as u64 + guest()? as u64,
    };
    // A renamed generated user no longer answers to its generated UPN.
    user_at(fleet, t, o, i).filter(|v| v.user.is(key))
}

fn domains_of(t: &Tenant, o: &TenantOverlay) -> Vec<Domain> {
    let verified_services = || vec!["Email", "OfficeCommunicationsOnline"];
    let mut out: Vec<Domain> = t
        .domains
        .iter()
        .filter(|d| !o.removed_domains.contains(&d.name.to_ascii_lowercase()))
        .cloned()
        .map(|mut d| {
            if !d.is_verified && o.verified_domains.contains(&d.name.to_ascii_lowercase()) {
                d.is_verified = true;
                d.supported_services = verified_services();
            }
            d
        })
        .collect();
    for d in &o.domains {
        out.push(Domain {
            name: d.name.clone(),
            is_verified: d.verified,
            is_default: false,
            is_initial: false,
            authentication_type: "Managed",
            supported_services: if d.verified { verified_services() } else { vec![] },
        });
    }
    out
}

fn skus_of(t: &Tenant, o: &TenantOverlay) -> Vec<SkuView> {
    let cat = Catalog::get();
    let mut order: Vec<usize> = Vec::new();
    for s in &t.subscriptions {
        if !order.contains(&s.sku) {
            order.push(s.sku);
        }
    }
    order
        .into_iter()
        .map(|k| {
            let subs: Vec<&Subscription> = t.subscriptions.iter().filter(|s| s.sku == k).collect();
            let sum = |f: fn(&Subscription) -> u32| subs.iter().map(|s| f(s)).sum::<u32>();
            let sku_id = cat.skus[k].id;
            SkuView {
                sku: k,
                sku_id,
                enabled: sum(|s| s.enabled),
                suspended: sum(|s| s.suspended),
                warning: sum(|s| s.warning),
                locked_out: sum(|s| s.locked_out),
                consumed: sum(|s| s.consumed) as i64 + o.consumed_delta.get(&sku_id).copied().unwrap_or(0),
                capability_status: subs[0].capability_status,
                subscription_ids: subs.iter().map(|s| s.subscription_id).collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
