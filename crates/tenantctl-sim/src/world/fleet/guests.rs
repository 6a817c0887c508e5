//! Generated B2B guests: guest `g` of a tenant (listing slot `user_count + g`) as a pure
//! function of (seed, tenant, g), and the inverse lookups. Members are untouched: guests are
//! an extra small set per customer (`Tenant::guest_count`, 0 unless `FleetConfig::guests`).
//!
//! Shape (resources/user, user-list example 4, invitation-post): UPN
//! `first.last_example.com#EXT#@{initial domain}`, `mail` the external address, `userType`
//! "Guest", `creationType` "Invitation", `externalUserState` "Accepted" (85%) or
//! "PendingAcceptance", no licences, no mailbox.

use super::*;
use crate::world::model::{ExternalUser, UserRecord};

/// Outside organisations guests come from [I].
const GUEST_DOMAINS: &[&str] = &[
    "gmail.com",
    "outlook.com",
    "fabrikamconsulting.com",
    "northwindaccounting.net",
    "contosolegal.com",
    "adatumit.co.uk",
];

impl Fleet {
    /// The object id of guest `g` (slot `user_count + g`): invertible like members' ids.
    pub fn guest_id(&self, t: &Tenant, g: u32) -> Guid {
        self.user_id(t, t.user_count + g)
    }

    /// Guest `g` of tenant `t` (0 ≤ g < t.guest_count).
    pub fn guest(&self, t: &Tenant, g: u32) -> UserRecord {
        let seed = self.config.seed;
        let mut rng = Rng::new(&[seed, t.idx as u64, g as u64, 0x6E58]);
        let given = *rng.pick(GIVEN);
        let surname = *rng.pick(SURNAMES);
        let domain = *rng.pick(GUEST_DOMAINS);
        let local = format!("{}.{}", names::slug(given), names::slug(surname));
        let mail = format!("{local}@{domain}");
        let nick = format!("{}_{domain}#EXT#", local);
        let span = (self.config.anchor - t.created).max(86_400);
        let created = t.created + 3600 + rng.below(span as u64) as i64;
        let accepted = rng.chance(0.85);
        let state_changed = if accepted {
            (created + rng.range(60, 5 * 86_400) as i64).min(self.config.anchor)
        } else {
            created
        };
        UserRecord {
            id: self.guest_id(t, g),
            user_principal_name: format!("{nick}@{}", t.initial_domain),
            display_name: format!("{given} {surname}"),
            given_name: Some(given.to_owned()),
            surname: Some(surname.to_owned()),
            job_title: None,
            mail: Some(mail),
            mobile_phone: None,
            business_phones: vec![],
            office_location: None,
            preferred_language: None,
            account_enabled: true,
            licences: vec![],
            city: None,
            country: None,
            created,
            department: None,
            mail_nickname: nick,
            usage_location: None,
            user_type: "Guest".into(),
            external: Some(ExternalUser {
                state: if accepted { "Accepted" } else { "PendingAcceptance" }.into(),
                state_changed,
            }),
        }
    }

    /// The guest slot `g` with object id `id`, O(1).
    pub fn guest_index_by_id(&self, t: &Tenant, id: Guid) -> Option<u32> {
        let i = id.tail_u32() ^ t.id_mask;
        let g = i.checked_sub(t.user_count)?;
        (g < t.guest_count && self.guest_id(t, g) == id).then_some(g)
    }

    /// The guest slot with this UPN (case-insensitive): a scan of the tenant's few guests.
    pub fn guest_index_by_upn(&self, t: &Tenant, upn: &str) -> Option<u32> {
        if !upn.to_ascii_lowercase().contains("#ext#@") {
            return None;
        }
        (0..t.guest_count).find(|&g| self.guest(t, g).user_principal_name.eq_ignore_ascii_case(upn))
    }
}
