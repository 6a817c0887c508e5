//! What writes changed in one tenant: a typed overlay over the generated (immutable) fleet,
//! merged into every read. Tenants nobody wrote to have an empty overlay and read exactly as
//! generated.
//!
//! Users are addressed by index: `0..generated_users()` are the generated ones (members, then
//! guests; an entry in `replaced` overrides one, `deleted` hides one), the rest created ones.

use super::model::UserRecord;
use crate::fleet::Tenant;
use crate::ids::{hash, Guid};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A domain added through `POST /domains`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddedDomain {
    pub name: String,
    pub verified: bool,
}

#[derive(Default, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TenantOverlay {
    /// Changed generated users, by index.
    pub replaced: BTreeMap<u64, UserRecord>,
    /// Created users (index = `generated_users() + position`); `None` once deleted.
    pub created: Vec<Option<UserRecord>>,
    pub deleted: BTreeSet<u64>,
    /// Change of consumed units per skuId.
    pub consumed_delta: BTreeMap<Guid, i64>,
    /// Domains added by writes, in order.
    pub domains: Vec<AddedDomain>,
    /// Generated domains removed with `DELETE /domains/{id}` (lower case).
    pub removed_domains: BTreeSet<String>,
    /// Generated unverified domains verified since (lower case).
    pub verified_domains: BTreeSet<String>,
    /// Set-Mailbox changes, by the mailbox user's object id.
    pub mailboxes: BTreeMap<Guid, super::mailboxes::MailboxSettings>,
    /// Add-MailboxPermission grants.
    pub mailbox_permissions: Vec<super::mailboxes::MailboxPermission>,
    /// Users deleted by writes, as they were, with the time of deletion (usage reports list
    /// them with `Is Deleted`).
    pub deleted_users: Vec<DeletedUser>,
    /// `admin/reportSettings` `displayConcealedNames` after a PATCH; `None`: Microsoft's
    /// default (`true`, since 2021-09-01).
    pub display_concealed_names: Option<bool>,
}

/// A user deleted by a write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeletedUser {
    /// Its slot in the tenant's user list.
    pub index: u64,
    pub user: UserRecord,
    /// Unix seconds.
    pub deleted: i64,
}

impl TenantOverlay {
    pub fn is_empty(&self) -> bool {
        *self == TenantOverlay::default()
    }

    /// How many user slots the tenant has (deleted ones included).
    pub fn len(&self, t: &Tenant) -> u64 {
        t.generated_users() + self.created.len() as u64
    }

    /// The stored state of user `i` when writes touched it: `Some(None)` when deleted,
    /// `None` when it reads as generated.
    pub fn touched(&self, t: &Tenant, i: u64) -> Option<Option<&UserRecord>> {
        let base = t.generated_users();
        if i >= base {
            return Some(self.created.get((i - base) as usize).and_then(Option::as_ref));
        }
        if self.deleted.contains(&i) {
            return Some(None);
        }
        self.replaced.get(&i).map(Some)
    }

    /// Stores user `i` (or deletes it with `None`).
    pub fn store(&mut self, t: &Tenant, i: u64, v: Option<UserRecord>) {
        let base = t.generated_users();
        if i >= base {
            let k = (i - base) as usize;
            if k == self.created.len() {
                self.created.push(v);
            } else {
                self.created[k] = v;
            }
            return;
        }
        match v {
            Some(v) => {
                self.replaced.insert(i, v);
            }
            None => {
                self.replaced.remove(&i);
                self.deleted.insert(i);
            }
        }
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

/// The TXT value that verifies `domain` in tenant `t`.
pub fn verification_txt(t: &Tenant, domain: &str) -> String {
    format!("MS=ms{}", verification_code(t, domain))
}
