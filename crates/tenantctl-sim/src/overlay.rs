//! What writes changed: a per-tenant overlay over the generated (immutable) fleet, merged into
//! every read. Tenants nobody wrote to have no overlay and read exactly as generated.
//!
//! Users are addressed by index: `0..user_count` are the generated ones (an entry in
//! `replaced` overrides one, `deleted` hides one), `user_count..` are created ones.

use crate::fleet::Tenant;
use crate::ids::{hash, Guid};
use parking_lot::RwLock;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// A domain added through `POST /domains`.
#[derive(Clone, Debug)]
pub struct AddedDomain {
    pub name: String,
    pub verified: bool,
}

#[derive(Default, Debug)]
pub struct TenantOverlay {
    /// Full user JSON of changed generated users, by index.
    pub replaced: HashMap<u64, Value>,
    /// Created users (index = `user_count + position`); `None` once deleted.
    pub created: Vec<Option<Value>>,
    pub deleted: HashSet<u64>,
    /// Change of `consumedUnits` per skuId.
    pub consumed_delta: HashMap<Guid, i64>,
    pub domains: Vec<AddedDomain>,
    /// Generated domains removed with `DELETE /domains/{id}`.
    pub removed_domains: HashSet<String>,
}

impl TenantOverlay {
    pub fn len(&self, t: &Tenant) -> u64 {
        t.user_count as u64 + self.created.len() as u64
    }

    /// The user at `i` after writes: `None` when deleted. `generated` builds an untouched one.
    pub fn user(&self, t: &Tenant, i: u64, generated: &dyn Fn(u64) -> Value) -> Option<Value> {
        let base = t.user_count as u64;
        if i >= base {
            return self.created.get((i - base) as usize).cloned().flatten();
        }
        if self.deleted.contains(&i) {
            return None;
        }
        Some(self.replaced.get(&i).cloned().unwrap_or_else(|| generated(i)))
    }
}

/// All tenants' overlays and the simulated public DNS.
#[derive(Default)]
pub struct Writes {
    pub tenants: RwLock<HashMap<u32, TenantOverlay>>,
    /// Published records: lower-case name → (type, value).
    pub dns: RwLock<HashMap<String, Vec<(String, String)>>>,
}

impl Writes {
    pub fn reset(&self) {
        self.tenants.write().clear();
        self.dns.write().clear();
    }

    pub fn dns_has(&self, name: &str, kind: &str, value: &str) -> bool {
        self.dns
            .read()
            .get(&name.to_ascii_lowercase())
            .is_some_and(|v| v.iter().any(|(k, x)| k.eq_ignore_ascii_case(kind) && x == value))
    }
}

/// The 8 digits of a domain's `MS=ms########` verification record: fixed per tenant and domain.
pub fn verification_code(t: &Tenant, domain: &str) -> String {
    let h = hash(&[
        t.idx as u64,
        crate::odata::hash_str(&domain.to_ascii_lowercase()),
        0x7e57,
    ]);
    format!("{:08}", h % 100_000_000)
}
