//! The simulated world: one partner tenant and its customer tenants, generated from a seed.
//!
//! Tenants are generated eagerly (they are small); users are *virtual*: user `i` of a tenant
//! is a pure function of (seed, tenant, i), computed on demand. Ids and UPNs are invertible
//! back to the index, so `GET /users/{id|upn}` is O(1) without any stored directory. This is
//! how 10,000 tenants with 1.5 million users start in well under two seconds and a few MiB.

mod generate;
mod guests;
mod listing;
mod users;

pub use listing::{Adjusted, Listings};

use generate::gen_tenant;

use crate::ids::{hash, unit, Guid, Rng};
use crate::names::{self, COMPANY_FIRST, COMPANY_SECOND, COMPANY_SUFFIX, COUNTRIES, GIVEN, SURNAMES};
use crate::skus::{Catalog, SkuKind};
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

/// Entra built-in role template ids (roleDefinitionId in GDAP access details).
/// Source: learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference.
pub mod roles {
    pub const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";
    pub const GLOBAL_READER: &str = "f2ef992c-3afb-46b9-b7cf-a126ee74c451";
    pub const USER_ADMINISTRATOR: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";
    pub const LICENSE_ADMINISTRATOR: &str = "4d6ac14f-3453-41d0-bef9-a3e0c569773a";
    pub const DIRECTORY_READERS: &str = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b";
    pub const DOMAIN_NAME_ADMINISTRATOR: &str = "8329153b-31d0-4727-b945-745eb3bc5f31";
    pub const EXCHANGE_ADMINISTRATOR: &str = "29232cdf-9323-42fd-ade2-1d097af3e4de";
    pub const REPORTS_READER: &str = "4a5d8f65-41da-4de4-8968-e035b65339cf";
    pub const PRIVILEGED_ROLE_ADMINISTRATOR: &str = "e8611ab8-c189-46e8-94e1-60213ab1f814";
    pub const APPLICATION_ADMINISTRATOR: &str = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3";
    pub const SECURITY_ADMINISTRATOR: &str = "194ae4cb-b126-40b2-bd5b-6091b380977d";
    pub const SECURITY_READER: &str = "5d6b6bb7-de71-4623-b4af-96380a352509";
    pub const HELPDESK_ADMINISTRATOR: &str = "729827e3-9c14-49f7-bb1b-9608f156bbb8";
    pub const SHAREPOINT_ADMINISTRATOR: &str = "f28a1f50-f6e7-4571-818b-6a12f2af6b6c";
    pub const TEAMS_ADMINISTRATOR: &str = "69091246-20e8-4a56-aa4d-066075b2a7a8";
    pub const BILLING_ADMINISTRATOR: &str = "b0f54661-2d74-4c50-afa3-1ec803f12efe";
    pub const AUTHENTICATION_ADMINISTRATOR: &str = "c4e39bd9-1100-46d3-8c65-fb160da0071f";
    pub const CONDITIONAL_ACCESS_ADMINISTRATOR: &str = "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9";
}

/// What a generated fleet looks like.
#[derive(Clone, Debug)]
pub struct FleetConfig {
    pub seed: u64,
    /// Number of customer tenants.
    pub tenants: u32,
    /// A fixed number of users in every customer tenant (else an SMB-heavy distribution).
    pub users_per_tenant: Option<u32>,
    /// Share of customers in trouble (expired relationship, consent missing, read-only roles).
    pub trouble_share: f64,
    /// "Now" for generated dates (unix seconds). Listings depend only on seed, size and anchor.
    pub anchor: i64,
    /// B2B guests in customers (a few per tenant, after the members; see `fleet/guests.rs`).
    /// Off by default so that fleets of a fixed size list exactly `user_count` users; `serve`
    /// turns it on.
    pub guests: bool,
}

impl FleetConfig {
    pub fn new(seed: u64, tenants: u32) -> Self {
        FleetConfig {
            seed,
            tenants,
            users_per_tenant: None,
            trouble_share: 0.05,
            anchor: today_utc(),
            guests: false,
        }
    }
}

/// Midnight UTC of the current day, the default anchor for generated dates.
#[allow(clippy::disallowed_methods)] // the default anchor of generated dates (tests fix it)
pub fn today_utc() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    now - now.rem_euclid(86_400)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trouble {
    None,
    /// The only GDAP relationship has expired: no customer-tenant token (AADSTS50020-class).
    RelationshipExpired,
    /// The partner's app has no service principal / consent in the customer (AADSTS65001).
    ConsentMissing,
    /// The relationship grants reader roles only: reads work, writes get 403.
    ReadOnlyRoles,
}

impl Trouble {
    pub fn as_str(self) -> &'static str {
        match self {
            Trouble::None => "none",
            Trouble::RelationshipExpired => "relationship_expired",
            Trouble::ConsentMissing => "consent_missing",
            Trouble::ReadOnlyRoles => "read_only_roles",
        }
    }
    pub fn parse(s: &str) -> Option<Trouble> {
        Some(match s {
            "none" => Trouble::None,
            "relationship_expired" => Trouble::RelationshipExpired,
            "consent_missing" => Trouble::ConsentMissing,
            "read_only_roles" => Trouble::ReadOnlyRoles,
            _ => return None,
        })
    }
}

/// Share of trouble-free customers whose GDAP roles include no Exchange-capable role.
pub const NO_EXCHANGE_ROLE_SHARE: f64 = 0.03;

/// Whether customer `t` (when trouble-free) was granted no Exchange-capable role: Directory
/// Readers, User/License/Domain Name Administrator and Reports Reader, but neither Global
/// Reader nor Exchange Administrator. Independent of every other draw.
pub fn no_exchange_role_draw(seed: u64, t: u32) -> bool {
    t != 0 && unit(hash(&[seed, t as u64, 0xEC0])) < NO_EXCHANGE_ROLE_SHARE
}

/// Share of trouble-free customers whose main GDAP relationship also grants Global
/// Administrator (the only role that may change the reports' concealed-names setting).
pub const GLOBAL_ADMIN_SHARE: f64 = 0.10;

/// Whether customer `t` (when trouble-free) was granted Global Administrator in its main GDAP
/// relationship: an independent hash (no other draw moves); never together with
/// [`no_exchange_role_draw`] (Global Administrator can do everything in Exchange).
pub fn global_admin_draw(seed: u64, t: u32) -> bool {
    t != 0 && !no_exchange_role_draw(seed, t) && unit(hash(&[seed, t as u64, 0x6A0])) < GLOBAL_ADMIN_SHARE
}

impl Fleet {
    /// Customers generated with Global Administrator (see [`global_admin_draw`]).
    pub fn global_admin_customers(&self) -> impl Iterator<Item = &Tenant> {
        self.customers()
            .iter()
            .filter(move |t| t.trouble == Trouble::None && global_admin_draw(self.config.seed, t.idx))
    }

    /// Customers generated without any Exchange-capable GDAP role (see [`no_exchange_role_draw`]).
    pub fn no_exchange_role_customers(&self) -> impl Iterator<Item = &Tenant> {
        self.customers()
            .iter()
            .filter(move |t| t.trouble == Trouble::None && no_exchange_role_draw(self.config.seed, t.idx))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    pub name: String,
    pub is_verified: bool,
    pub is_default: bool,
    pub is_initial: bool,
    /// "Managed" or "Federated".
    pub authentication_type: &'static str,
    pub supported_services: Vec<&'static str>,
}

#[derive(Debug, Clone)]
pub struct Subscription {
    /// Index into [`Catalog::skus`].
    pub sku: usize,
    pub subscription_id: Guid,
    pub enabled: u32,
    pub suspended: u32,
    pub warning: u32,
    pub locked_out: u32,
    /// Units assigned to users (computed from the generated users).
    pub consumed: u32,
    /// "Enabled", "Warning", "Suspended", "LockedOut".
    pub capability_status: &'static str,
    /// Share of users holding it (suites share one draw; see [`Fleet::license_mask`]).
    coverage: f64,
    /// Partner Center commerce data.
    pub created: i64,
    pub auto_renew: bool,
}

#[derive(Debug, Clone)]
pub struct AccessAssignment {
    pub id: Guid,
    pub group_id: Guid,
    pub status: &'static str,
    pub roles: Vec<&'static str>,
    pub created: i64,
}

#[derive(Debug, Clone)]
pub struct Relationship {
    /// `<guid>-<guid>` as Graph formats GDAP relationship ids.
    pub id: String,
    pub display_name: String,
    pub duration_days: u32,
    pub status: &'static str,
    pub auto_extend: &'static str,
    pub created: i64,
    pub activated: i64,
    pub end: i64,
    pub roles: Vec<&'static str>,
    pub assignments: Vec<AccessAssignment>,
}

#[derive(Debug, Clone)]
pub struct Contract {
    pub id: Guid,
    /// "ResellerPartner", "SyndicationPartner", "BreadthPartner".
    pub contract_type: &'static str,
    /// Copies taken when the partnership was created; Graph does not update them.
    pub default_domain_name: String,
    pub display_name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantKind {
    Partner,
    Customer,
}

#[derive(Debug, Clone)]
pub struct Tenant {
    /// 0 for the partner, 1..=N for customers.
    pub idx: u32,
    pub kind: TenantKind,
    pub id: Guid,
    pub display_name: String,
    pub initial_domain: String,
    /// Initial domain first, then custom domains.
    pub domains: Vec<Domain>,
    pub country: &'static str,
    pub city: &'static str,
    pub created: i64,
    /// Generated members (`Fleet::user`); guests are counted apart.
    pub user_count: u32,
    /// Generated B2B guests (`Fleet::guest`), listed after the members.
    pub guest_count: u32,
    pub subscriptions: Vec<Subscription>,
    pub relationships: Vec<Relationship>,
    pub contract: Option<Contract>,
    pub app_consent: bool,
    pub trouble: Trouble,
    name_perm: NamePerm,
    /// Mask xor-ed into the tail of user ids (keeps ids random-looking yet invertible).
    id_mask: u32,
    /// Share of users whose account is disabled.
    disabled_share: f64,
}

impl Tenant {
    pub fn default_domain(&self) -> &str {
        self.domains
            .iter()
            .find(|d| d.is_default)
            .map(|d| d.name.as_str())
            .unwrap_or(&self.initial_domain)
    }
    /// Graph's throttling size tier: S < 50 users, M 50–500, L > 500.
    pub fn size_tier(&self) -> char {
        match self.user_count {
            0..=49 => 'S',
            50..=500 => 'M',
            _ => 'L',
        }
    }
    /// The partner's active relationship roles in this tenant (union over active relationships).
    pub fn active_roles(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for r in self.relationships.iter().filter(|r| r.status == "active") {
            for role in &r.roles {
                if !out.contains(role) {
                    out.push(role);
                }
            }
        }
        out
    }
    pub fn has_active_relationship(&self) -> bool {
        self.relationships.iter().any(|r| r.status == "active")
    }
    /// Generated user slots: members `0..user_count`, then guests; created users follow.
    pub fn generated_users(&self) -> u64 {
        self.user_count as u64 + self.guest_count as u64
    }
}

/// A bijection from user index to a (given name, surname) pair, distinct per tenant.
#[derive(Debug, Clone, Copy)]
struct NamePerm {
    a: u64,
    a_inv: u64,
    b: u64,
}

const NAME_SPACE: u64 = (GIVEN.len() * SURNAMES.len()) as u64;

impl NamePerm {
    fn new(h: u64) -> NamePerm {
        let mut a = (h % NAME_SPACE) | 1;
        while gcd(a, NAME_SPACE) != 1 {
            a += 2;
        }
        let a_inv = mod_inverse(a, NAME_SPACE);
        NamePerm {
            a,
            a_inv,
            b: (h >> 32) % NAME_SPACE,
        }
    }
    fn forward(&self, i: u64) -> u64 {
        (self.a * (i % NAME_SPACE) + self.b) % NAME_SPACE
    }
    fn backward(&self, p: u64) -> u64 {
        ((p + NAME_SPACE - self.b) % NAME_SPACE) * self.a_inv % NAME_SPACE
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn mod_inverse(a: u64, m: u64) -> u64 {
    let (mut t, mut new_t, mut r, mut new_r) = (0i64, 1i64, m as i64, a as i64);
    while new_r != 0 {
        let q = r / new_r;
        (t, new_t) = (new_t, t - q * new_t);
        (r, new_r) = (new_r, r - q * new_r);
    }
    t.rem_euclid(m as i64) as u64
}

/// One generated user. Everything Graph serves about a user comes from here.
#[derive(Debug, Clone)]
pub struct User {
    pub idx: u32,
    pub id: Guid,
    pub given_name: &'static str,
    pub surname: &'static str,
    pub display_name: String,
    pub mail_nickname: String,
    pub user_principal_name: String,
    pub mail: Option<String>,
    pub department: &'static str,
    pub job_title: &'static str,
    pub account_enabled: bool,
    pub usage_location: Option<&'static str>,
    pub created: i64,
    /// Indices into the tenant's `subscriptions`.
    pub licenses: Vec<usize>,
    pub city: &'static str,
    pub country: &'static str,
    pub mobile_phone: Option<String>,
    pub business_phones: Vec<String>,
    pub office_location: Option<String>,
    pub preferred_language: &'static str,
}

/// The partner's application registration and its GDAP service account.
#[derive(Debug, Clone)]
pub struct PartnerIdentity {
    pub client_id: Guid,
    pub client_secret: String,
    pub app_display_name: String,
    pub service_account_id: Guid,
    pub service_account_upn: String,
    /// The partner security group GDAP access assignments point at.
    pub admin_agents_group: Guid,
    /// The refresh token printed on start (the Secure Application Model's stored token).
    pub initial_refresh_token: String,
}

pub struct Fleet {
    pub config: FleetConfig,
    /// Index 0 is the partner tenant, 1..=N the customers.
    pub tenants: Vec<Tenant>,
    pub partner: PartnerIdentity,
    by_id: HashMap<Guid, u32>,
    by_domain: HashMap<String, u32>,
    /// The partner-side listings in listing order (built once; pages seek into them).
    pub listings: Listings,
}

impl Fleet {
    pub fn generate(config: FleetConfig) -> Fleet {
        let seed = config.seed;
        let mut tenants = Vec::with_capacity(config.tenants as usize + 1);
        let mut slugs = HashSet::new();
        let mut partner = gen_tenant(&config, 0, &mut slugs);
        partner.display_name = format!(
            "{} Cloud Partners",
            partner.display_name.split(' ').next().unwrap_or("Sim")
        );
        tenants.push(partner);
        for t in 1..=config.tenants {
            tenants.push(gen_tenant(&config, t, &mut slugs));
        }
        let partner_domain = tenants[0].initial_domain.clone();
        let identity = PartnerIdentity {
            client_id: Guid::from_parts(&[seed, 0xA99]),
            client_secret: secret_string(&[seed, 0x5EC], 40),
            app_display_name: "tenantctl".into(),
            service_account_id: Guid::from_parts(&[seed, 0x5A]),
            service_account_upn: format!("tenantctl-sam@{partner_domain}"),
            admin_agents_group: Guid::from_parts(&[seed, 0x6A]),
            initial_refresh_token: format!("1.sim.{}", secret_string(&[seed, 0x47], 96)),
        };
        let mut by_id = HashMap::with_capacity(tenants.len());
        let mut by_domain = HashMap::with_capacity(tenants.len() * 2);
        for t in &tenants {
            by_id.insert(t.id, t.idx);
            for d in &t.domains {
                by_domain.insert(d.name.to_ascii_lowercase(), t.idx);
            }
        }
        // GDAP access assignments point at the partner's security group.
        for t in tenants.iter_mut().skip(1) {
            for r in &mut t.relationships {
                for a in &mut r.assignments {
                    a.group_id = identity.admin_agents_group;
                }
            }
        }
        let mut fleet = Fleet {
            config,
            tenants,
            partner: identity,
            by_id,
            by_domain,
            listings: Listings::default(),
        };
        fleet.count_consumed_units();
        fleet.listings = Listings::build(&fleet.tenants);
        fleet
    }

    pub fn partner_tenant(&self) -> &Tenant {
        &self.tenants[0]
    }

    pub fn customers(&self) -> &[Tenant] {
        &self.tenants[1..]
    }

    /// Looks a tenant up by GUID or by any of its domain names (case-insensitive).
    pub fn find_tenant(&self, key: &str) -> Option<&Tenant> {
        if let Ok(g) = key.parse::<Guid>() {
            return self.by_id.get(&g).map(|&i| &self.tenants[i as usize]);
        }
        self.by_domain
            .get(&key.to_ascii_lowercase())
            .map(|&i| &self.tenants[i as usize])
    }

    pub fn tenant_by_id(&self, id: Guid) -> Option<&Tenant> {
        self.by_id.get(&id).map(|&i| &self.tenants[i as usize])
    }

    pub fn total_users(&self) -> u64 {
        self.customers().iter().map(|t| t.user_count as u64).sum()
    }

    /// Guests over all customers.
    pub fn total_guests(&self) -> u64 {
        self.customers().iter().map(|t| t.guest_count as u64).sum()
    }

    /// The bit mask of subscriptions (by index in `t.subscriptions`) user `i` holds.
    pub fn license_mask(&self, t: &Tenant, i: u32, enabled: bool) -> u32 {
        let seed = self.config.seed;
        let mut mask = 0u32;
        // Disabled accounts keep their licence in 60% of cases (a classic waste finding).
        if !enabled && unit(hash(&[seed, t.idx as u64, i as u64, 0xD15])) >= 0.6 {
            return 0;
        }
        let suite_draw = unit(hash(&[seed, t.idx as u64, i as u64, 0x501]));
        let mut acc = 0.0;
        let cat = Catalog::get();
        for (s, sub) in t.subscriptions.iter().enumerate() {
            if sub.capability_status == "Suspended" {
                continue;
            }
            match cat.skus[sub.sku].kind {
                SkuKind::Suite => {
                    if suite_draw >= acc && suite_draw < acc + sub.coverage {
                        mask |= 1 << s;
                    }
                    acc += sub.coverage;
                }
                SkuKind::AddOn | SkuKind::Free => {
                    if unit(hash(&[seed, t.idx as u64, i as u64, 0xADD, s as u64])) < sub.coverage {
                        mask |= 1 << s;
                    }
                }
            }
        }
        mask
    }

    fn account_enabled(&self, t: &Tenant, i: u32) -> bool {
        unit(hash(&[self.config.seed, t.idx as u64, i as u64, 0xE1])) >= t.disabled_share
    }

    fn count_consumed_units(&mut self) {
        let mut counts: Vec<Vec<u32>> = Vec::with_capacity(self.tenants.len());
        for t in &self.tenants {
            let mut c = vec![0u32; t.subscriptions.len()];
            for i in 0..t.user_count {
                let mut m = self.license_mask(t, i, self.account_enabled(t, i));
                while m != 0 {
                    let s = m.trailing_zeros() as usize;
                    c[s] += 1;
                    m &= m - 1;
                }
            }
            counts.push(c);
        }
        for (t, c) in self.tenants.iter_mut().zip(counts) {
            for (s, consumed) in t.subscriptions.iter_mut().zip(c) {
                s.consumed = consumed;
                let mut rng = Rng::new(&[
                    self.config.seed,
                    t.idx as u64,
                    s.subscription_id.tail_u32() as u64,
                    0xBE,
                ]);
                if s.capability_status == "Suspended" {
                    continue;
                }
                if s.enabled == 0 {
                    // Paid units: what is assigned plus some slack; sometimes none free.
                    let slack = if rng.chance(0.15) {
                        0
                    } else {
                        rng.range(1, 3 + consumed as u64 / 6) as u32
                    };
                    s.enabled = consumed + slack;
                }
            }
        }
    }
}

/// A secret-looking string (letters, digits, `~`, `.`, `_`, `-`) derived from `parts`.
pub fn secret_string(parts: &[u64], len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-";
    let mut rng = Rng::new(parts);
    (0..len)
        .map(|_| ALPHABET[rng.below(ALPHABET.len() as u64) as usize] as char)
        .collect()
}

#[cfg(test)]
mod tests;
