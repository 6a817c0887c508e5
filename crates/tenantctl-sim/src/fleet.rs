//! The simulated world: one partner tenant and its customer tenants, generated from a seed.
//!
//! Tenants are generated eagerly (they are small); users are *virtual*: user `i` of a tenant
//! is a pure function of (seed, tenant, i), computed on demand. Ids and UPNs are invertible
//! back to the index, so `GET /users/{id|upn}` is O(1) without any stored directory. This is
//! how 10,000 tenants with 1.5 million users start in well under two seconds and a few MiB.

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
}

impl FleetConfig {
    pub fn new(seed: u64, tenants: u32) -> Self {
        FleetConfig {
            seed,
            tenants,
            users_per_tenant: None,
            trouble_share: 0.05,
            anchor: today_utc(),
        }
    }
}

/// Midnight UTC of the current day, the default anchor for generated dates.
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

#[derive(Debug, Clone)]
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
    pub user_count: u32,
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
        };
        fleet.count_consumed_units();
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

    /// User `i` of tenant `t` (0 ≤ i < t.user_count).
    pub fn user(&self, t: &Tenant, i: u32) -> User {
        let seed = self.config.seed;
        let ti = t.idx as u64;
        let mut rng = Rng::new(&[seed, ti, i as u64, 0x05E2]);
        let p = t.name_perm.forward(i as u64);
        let round = i as u64 / NAME_SPACE;
        let given = GIVEN[(p / SURNAMES.len() as u64) as usize];
        let surname = SURNAMES[(p % SURNAMES.len() as u64) as usize];
        let mut nick = format!("{}.{}", names::slug(given), names::slug(surname));
        if round > 0 {
            nick.push_str(&(round + 1).to_string());
        }
        let upn = format!("{nick}@{}", t.default_domain());
        let account_enabled = self.account_enabled(t, i);
        let mask = self.license_mask(t, i, account_enabled);
        let licensed = mask != 0;
        let usage_location = if licensed || rng.chance(0.7) {
            Some(t.country)
        } else {
            None
        };
        let span = (self.config.anchor - t.created).max(86_400);
        let created = t.created + 3600 + (rng.below(span as u64) as i64);
        let mail = if account_enabled || licensed {
            Some(upn.clone())
        } else {
            None
        };
        let phone_cc = country_phone(t.country);
        User {
            idx: i,
            id: self.user_id(t, i),
            given_name: given,
            surname,
            display_name: format!("{given} {surname}"),
            mail_nickname: nick,
            user_principal_name: upn,
            mail,
            department: names::DEPARTMENTS[rng.below(names::DEPARTMENTS.len() as u64) as usize],
            job_title: names::JOB_TITLES[rng.below(names::JOB_TITLES.len() as u64) as usize],
            account_enabled,
            usage_location,
            created,
            licenses: (0..t.subscriptions.len()).filter(|s| mask & (1 << s) != 0).collect(),
            city: t.city,
            country: t.country,
            mobile_phone: if rng.chance(0.4) {
                Some(format!("{phone_cc} 555 {:04}", rng.below(10_000)))
            } else {
                None
            },
            business_phones: if rng.chance(0.6) {
                vec![format!("{phone_cc} 555 {:04}", rng.below(10_000))]
            } else {
                vec![]
            },
            office_location: if rng.chance(0.5) {
                Some(format!("{}/{}", rng.range(1, 40), rng.range(1000, 3999)))
            } else {
                None
            },
            preferred_language: if t.country == "US" || t.country == "GB" {
                "en-US"
            } else {
                "en-GB"
            },
        }
    }

    pub fn user_id(&self, t: &Tenant, i: u32) -> Guid {
        Guid::from_parts(&[self.config.seed, t.idx as u64, i as u64, 0x1D]).with_tail_u32(i ^ t.id_mask)
    }

    /// Finds a user by object id, O(1).
    pub fn user_index_by_id(&self, t: &Tenant, id: Guid) -> Option<u32> {
        let i = id.tail_u32() ^ t.id_mask;
        (i < t.user_count && self.user_id(t, i) == id).then_some(i)
    }

    /// Finds a user by userPrincipalName (case-insensitive), O(1).
    pub fn user_index_by_upn(&self, t: &Tenant, upn: &str) -> Option<u32> {
        let upn = upn.to_ascii_lowercase();
        let (local, domain) = upn.split_once('@')?;
        if !domain.eq_ignore_ascii_case(t.default_domain()) {
            return None;
        }
        let digits = local.len() - local.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        let (base, suffix) = local.split_at(local.len() - digits);
        let round = if suffix.is_empty() {
            0
        } else {
            suffix.parse::<u64>().ok()?.checked_sub(1)?
        };
        let (g, s) = base.split_once('.')?;
        let (gmap, smap) = name_maps();
        let p = *gmap.get(g)? as u64 * SURNAMES.len() as u64 + *smap.get(s)? as u64;
        let i = round * NAME_SPACE + t.name_perm.backward(p);
        let i = u32::try_from(i).ok()?;
        (i < t.user_count && self.user(t, i).user_principal_name == upn).then_some(i)
    }
}

fn name_maps() -> &'static (HashMap<String, usize>, HashMap<String, usize>) {
    static MAPS: OnceLock<(HashMap<String, usize>, HashMap<String, usize>)> = OnceLock::new();
    MAPS.get_or_init(|| {
        let g = GIVEN.iter().enumerate().map(|(i, n)| (names::slug(n), i)).collect();
        let s = SURNAMES.iter().enumerate().map(|(i, n)| (names::slug(n), i)).collect();
        (g, s)
    })
}

fn country_phone(cc: &str) -> &'static str {
    match cc {
        "US" | "CA" => "+1",
        "GB" => "+44",
        "DE" => "+49",
        "NL" => "+31",
        "FR" => "+33",
        "AU" => "+61",
        "SE" => "+46",
        "ES" => "+34",
        "IT" => "+39",
        "BE" => "+32",
        "DK" => "+45",
        "IE" => "+353",
        "CH" => "+41",
        "NZ" => "+64",
        "PT" => "+351",
        "PL" => "+48",
        "JP" => "+81",
        "IN" => "+91",
        _ => "+1",
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

/// Users per tenant: SMB-heavy (most 5–300, a few 2,000–10,000), mean about 150.
fn draw_user_count(rng: &mut Rng) -> u32 {
    let log_uniform = |rng: &mut Rng, lo: f64, hi: f64| (lo.ln() + rng.unit() * (hi.ln() - lo.ln())).exp() as u32;
    let u = rng.unit();
    if u < 0.70 {
        log_uniform(rng, 5.0, 60.0)
    } else if u < 0.925 {
        log_uniform(rng, 60.0, 300.0)
    } else if u < 0.99 {
        log_uniform(rng, 300.0, 2000.0)
    } else {
        log_uniform(rng, 2000.0, 10_000.0)
    }
}

fn gen_tenant(cfg: &FleetConfig, t: u32, slugs: &mut HashSet<String>) -> Tenant {
    let seed = cfg.seed;
    let mut rng = Rng::new(&[seed, t as u64, 0x7E4A]);
    let first = *rng.pick(COMPANY_FIRST);
    let second = *rng.pick(COMPANY_SECOND);
    let suffix = *rng.pick(COMPANY_SUFFIX);
    let mut display_name = format!("{first} {second}");
    if !suffix.is_empty() {
        display_name.push(' ');
        display_name.push_str(suffix);
    }
    let base_slug = names::slug(&format!("{first}{second}"));
    let mut slug = base_slug.clone();
    let mut n = 2;
    while !slugs.insert(slug.clone()) {
        slug = format!("{base_slug}{n}");
        n += 1;
    }
    let total_weight: u32 = COUNTRIES.iter().map(|c| c.2).sum();
    let mut w = rng.below(total_weight as u64) as u32;
    let &(country, city, _) = COUNTRIES
        .iter()
        .find(|c| {
            if w < c.2 {
                true
            } else {
                w -= c.2;
                false
            }
        })
        .unwrap_or(&COUNTRIES[0]);
    let anchor = cfg.anchor;
    let day = 86_400i64;
    let created = anchor - rng.range(200, 3650) as i64 * day - rng.below(day as u64) as i64;
    let id = Guid::from_parts(&[seed, t as u64, 0x7E]);
    let initial_domain = format!("{slug}.onmicrosoft.com");

    // Domains: the initial one, then 0–4 custom domains, some still unverified.
    let mut domains = vec![Domain {
        name: initial_domain.clone(),
        is_verified: true,
        is_default: false,
        is_initial: true,
        authentication_type: "Managed",
        supported_services: vec!["Email", "OfficeCommunicationsOnline"],
    }];
    let n_custom = match rng.unit() {
        u if u < 0.25 => 0,
        u if u < 0.70 => 1,
        u if u < 0.88 => 2,
        u if u < 0.96 => 3,
        _ => 4,
    };
    let cc_tld = country.to_ascii_lowercase();
    let candidates = [
        format!("{slug}.com"),
        format!("{slug}.{cc_tld}"),
        format!("{slug}.net"),
        format!("{slug}-mail.com"),
    ];
    for (k, name) in candidates.into_iter().take(n_custom).enumerate() {
        let verified = if k == 0 { rng.chance(0.9) } else { rng.chance(0.7) };
        domains.push(Domain {
            name,
            is_verified: verified,
            is_default: false,
            is_initial: false,
            authentication_type: if verified && rng.chance(0.03) {
                "Federated"
            } else {
                "Managed"
            },
            supported_services: if verified {
                vec!["Email", "OfficeCommunicationsOnline"]
            } else {
                vec![]
            },
        });
    }
    let default_idx = domains.iter().position(|d| !d.is_initial && d.is_verified).unwrap_or(0);
    domains[default_idx].is_default = true;

    let user_count = if t == 0 {
        25
    } else {
        cfg.users_per_tenant.unwrap_or_else(|| draw_user_count(&mut rng))
    };

    // Trouble: a configurable share of customers, split evenly among the three kinds.
    let trouble = if t == 0 {
        Trouble::None
    } else {
        let u = unit(hash(&[seed, t as u64, 0x77]));
        if u < cfg.trouble_share {
            match (u / cfg.trouble_share * 3.0) as u32 {
                0 => Trouble::RelationshipExpired,
                1 => Trouble::ConsentMissing,
                _ => Trouble::ReadOnlyRoles,
            }
        } else {
            Trouble::None
        }
    };

    let subscriptions = if t == 0 {
        partner_subscriptions(seed, created)
    } else {
        gen_subscriptions(seed, t, user_count, created, &mut rng)
    };
    let relationships = if t == 0 {
        vec![]
    } else {
        gen_relationships(cfg, t, &display_name, &slug, trouble, &mut rng)
    };
    let contract = if t != 0 && rng.chance(0.9) {
        let contract_type = match rng.unit() {
            u if u < 0.9 => "ResellerPartner",
            u if u < 0.95 => "SyndicationPartner",
            _ => "BreadthPartner",
        };
        // Copies taken at partnership creation: the display name is sometimes stale.
        let stale_name = if rng.chance(0.06) {
            format!("{first} {second}")
        } else {
            display_name.clone()
        };
        Some(Contract {
            id: Guid::from_parts(&[seed, t as u64, 0xC0]),
            contract_type,
            default_domain_name: initial_domain.clone(),
            display_name: stale_name,
        })
    } else {
        None
    };

    Tenant {
        idx: t,
        kind: if t == 0 {
            TenantKind::Partner
        } else {
            TenantKind::Customer
        },
        id,
        display_name,
        initial_domain,
        domains,
        country,
        city,
        created,
        user_count,
        subscriptions,
        relationships,
        contract,
        app_consent: trouble != Trouble::ConsentMissing,
        trouble,
        name_perm: NamePerm::new(hash(&[seed, t as u64, 0x9E])),
        id_mask: hash(&[seed, t as u64, 0x3A5]) as u32,
        disabled_share: 0.02 + rng.unit() * 0.08,
    }
}

fn partner_subscriptions(seed: u64, created: i64) -> Vec<Subscription> {
    let cat = Catalog::get();
    vec![Subscription {
        sku: cat.by_part("SPB").expect("SPB in catalogue"),
        subscription_id: Guid::from_parts(&[seed, 0, 0x5B]),
        enabled: 0,
        suspended: 0,
        warning: 0,
        locked_out: 0,
        consumed: 0,
        capability_status: "Enabled",
        coverage: 0.9,
        created,
        auto_renew: true,
    }]
}

fn gen_subscriptions(seed: u64, t: u32, users: u32, tenant_created: i64, rng: &mut Rng) -> Vec<Subscription> {
    let cat = Catalog::get();
    let sku = |p: &str| cat.by_part(p).unwrap_or_else(|| panic!("{p} in catalogue"));
    // Suites weighted by what SMB customers buy; larger tenants lean to enterprise suites.
    let suites: &[(&str, u32)] = if users > 300 {
        &[
            ("SPE_E3", 30),
            ("ENTERPRISEPACK", 20),
            ("SPE_E5", 15),
            ("SPB", 15),
            ("O365_BUSINESS_PREMIUM", 10),
            ("SPE_F1", 10),
        ]
    } else {
        &[
            ("SPB", 30),
            ("O365_BUSINESS_PREMIUM", 25),
            ("O365_BUSINESS_ESSENTIALS", 20),
            ("EXCHANGESTANDARD", 7),
            ("SPE_E3", 6),
            ("ENTERPRISEPACK", 5),
            ("O365_BUSINESS", 4),
            ("SPE_E5", 3),
        ]
    };
    let pick_suite = |rng: &mut Rng| {
        let total: u32 = suites.iter().map(|s| s.1).sum();
        let mut w = rng.below(total as u64) as u32;
        for &(p, weight) in suites {
            if w < weight {
                return p;
            }
            w -= weight;
        }
        suites[0].0
    };
    let mut picks: Vec<(&str, f64)> = Vec::new();
    let first = pick_suite(rng);
    if rng.chance(0.2) {
        let mut second = pick_suite(rng);
        while second == first {
            second = pick_suite(rng);
        }
        let c1 = 0.5 + rng.unit() * 0.3;
        picks.push((first, c1));
        picks.push((second, (1.0 - c1) * (0.6 + rng.unit() * 0.4)));
    } else {
        picks.push((first, 0.75 + rng.unit() * 0.25));
    }
    for (p, prob) in [
        ("POWER_BI_PRO", 0.25),
        ("VISIOCLIENT", 0.08),
        ("PROJECTPROFESSIONAL", 0.06),
        ("AAD_PREMIUM", 0.08),
        ("EMS", 0.05),
        ("Microsoft_365_Copilot", 0.06),
        ("Microsoft_Teams_Premium", 0.03),
        ("MCOEV", 0.05),
        ("FLOW_FREE", 0.4),
        ("POWER_BI_STANDARD", 0.2),
    ] {
        if rng.chance(prob) {
            picks.push((p, 0.02 + rng.unit() * 0.28));
        }
    }
    let mut subs = Vec::with_capacity(picks.len() + 1);
    for (k, (p, coverage)) in picks.into_iter().enumerate() {
        let s = sku(p);
        let free = cat.skus[s].kind == SkuKind::Free;
        let mut sub = Subscription {
            sku: s,
            subscription_id: Guid::from_parts(&[seed, t as u64, k as u64, 0x5B]),
            enabled: if free {
                if p == "FLOW_FREE" {
                    10_000
                } else {
                    1_000_000
                }
            } else {
                0
            },
            suspended: 0,
            warning: 0,
            locked_out: 0,
            consumed: 0,
            capability_status: "Enabled",
            coverage,
            created: tenant_created + rng.range(1, 400) as i64 * 86_400,
            auto_renew: rng.chance(0.85),
        };
        // A few paid subscriptions are in their grace period (units in `warning`).
        if !free && rng.chance(0.03) {
            sub.warning = rng.range(1, 10) as u32;
        }
        subs.push(sub);
    }
    // Now and then a lapsed trial: suspended, nobody assigned.
    if rng.chance(0.04) {
        let s = sku("Microsoft_Teams_Premium");
        if !subs.iter().any(|x| x.sku == s) {
            subs.push(Subscription {
                sku: s,
                subscription_id: Guid::from_parts(&[seed, t as u64, 99, 0x5B]),
                enabled: 0,
                suspended: 25,
                warning: 0,
                locked_out: 0,
                consumed: 0,
                capability_status: "Suspended",
                coverage: 0.0,
                created: tenant_created + 86_400,
                auto_renew: false,
            });
        }
    }
    subs
}

fn gen_relationships(
    cfg: &FleetConfig,
    t: u32,
    customer_name: &str,
    slug: &str,
    trouble: Trouble,
    rng: &mut Rng,
) -> Vec<Relationship> {
    use roles::*;
    let seed = cfg.seed;
    let day = 86_400i64;
    let anchor = cfg.anchor;
    let mut out = Vec::new();
    let duration_days: u32 = if rng.chance(0.7) { 730 } else { 365 };
    let mut role_set: Vec<&'static str> = match trouble {
        Trouble::ReadOnlyRoles => vec![DIRECTORY_READERS, GLOBAL_READER],
        _ => vec![
            DIRECTORY_READERS,
            GLOBAL_READER,
            USER_ADMINISTRATOR,
            LICENSE_ADMINISTRATOR,
            DOMAIN_NAME_ADMINISTRATOR,
            EXCHANGE_ADMINISTRATOR,
            REPORTS_READER,
        ],
    };
    if trouble == Trouble::None && rng.chance(0.05) {
        role_set.push(PRIVILEGED_ROLE_ADMINISTRATOR);
    }
    // When does the main relationship end? Active ones end in the future (8% within 30 days),
    // an expired one ended 1–120 days ago.
    let end = match trouble {
        Trouble::RelationshipExpired => anchor - rng.range(1, 120) as i64 * day,
        _ if rng.chance(0.08) => anchor + rng.range(1, 29) as i64 * day,
        _ => anchor + rng.range(31, duration_days as u64 - 1) as i64 * day,
    } + rng.below(day as u64) as i64;
    let activated = end - duration_days as i64 * day;
    let created = activated - rng.range(60, 3 * 86_400) as i64;
    let status = if end <= anchor { "expired" } else { "active" };
    // Auto-extend is not allowed when Global Administrator is in the role set.
    let auto_extend = if rng.chance(0.4) { "P180D" } else { "PT0S" };
    out.push(make_relationship(
        seed,
        t,
        0,
        format!("GDAP {customer_name} ({slug}) {}", 2000 + (t % 7) + 19),
        duration_days,
        status,
        auto_extend,
        created,
        activated,
        end,
        role_set,
    ));
    // Some customers also carry an older, expired relationship (multiple per customer is normal).
    if rng.chance(0.15) {
        let end_old = activated - rng.range(1, 200) as i64 * day;
        let act_old = end_old - 365 * day;
        out.push(make_relationship(
            seed,
            t,
            1,
            format!("Legacy GDAP {slug}"),
            365,
            "expired",
            "PT0S",
            act_old - 3600,
            act_old,
            end_old,
            vec![DIRECTORY_READERS, GLOBAL_READER],
        ));
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn make_relationship(
    seed: u64,
    t: u32,
    k: u64,
    display_name: String,
    duration_days: u32,
    status: &'static str,
    auto_extend: &'static str,
    created: i64,
    activated: i64,
    end: i64,
    roles: Vec<&'static str>,
) -> Relationship {
    let a = Guid::from_parts(&[seed, t as u64, k, 0x6D1]);
    let b = Guid::from_parts(&[seed, t as u64, k, 0x6D2]);
    Relationship {
        id: format!("{a}-{b}"),
        display_name,
        duration_days,
        status,
        auto_extend,
        created,
        activated,
        end,
        assignments: vec![AccessAssignment {
            id: Guid::from_parts(&[seed, t as u64, k, 0xAA]),
            group_id: Guid([0; 16]),
            status: if status == "active" { "active" } else { "deleted" },
            roles: roles.clone(),
            created: activated + 600,
        }],
        roles,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet(n: u32) -> Fleet {
        let mut c = FleetConfig::new(1, n);
        c.anchor = 1_764_028_800; // 2025-11-25
        Fleet::generate(c)
    }

    #[test]
    fn name_lists_have_distinct_slugs() {
        let g: HashSet<_> = GIVEN.iter().map(|n| names::slug(n)).collect();
        let s: HashSet<_> = SURNAMES.iter().map(|n| names::slug(n)).collect();
        assert_eq!(g.len(), GIVEN.len());
        assert_eq!(s.len(), SURNAMES.len());
    }

    #[test]
    fn users_are_unique_and_invertible() {
        let f = fleet(30);
        for t in f.customers() {
            let mut upns = HashSet::new();
            for i in 0..t.user_count {
                let u = f.user(t, i);
                assert!(
                    upns.insert(u.user_principal_name.clone()),
                    "duplicate upn {}",
                    u.user_principal_name
                );
                assert_eq!(f.user_index_by_id(t, u.id), Some(i));
                assert_eq!(f.user_index_by_upn(t, &u.user_principal_name.to_uppercase()), Some(i));
            }
        }
    }

    #[test]
    fn upns_stay_unique_beyond_the_name_space() {
        let mut c = FleetConfig::new(3, 1);
        c.users_per_tenant = Some(NAME_SPACE as u32 + 50);
        let f = Fleet::generate(c);
        let t = &f.customers()[0];
        let i = NAME_SPACE as u32 + 7;
        let u = f.user(t, i);
        assert!(u.mail_nickname.ends_with('2'));
        assert_eq!(f.user_index_by_upn(t, &u.user_principal_name), Some(i));
    }

    #[test]
    fn consumed_units_match_assignments_and_fit_prepaid() {
        let f = fleet(40);
        for t in f.customers() {
            let mut counts = vec![0u32; t.subscriptions.len()];
            for i in 0..t.user_count {
                for s in f.user(t, i).licenses {
                    counts[s] += 1;
                }
            }
            for (s, c) in t.subscriptions.iter().zip(counts) {
                assert_eq!(s.consumed, c);
                assert!(s.consumed <= s.enabled || s.capability_status == "Suspended");
            }
        }
    }

    #[test]
    fn same_seed_same_fleet_other_seed_other_fleet() {
        let a = fleet(20);
        let b = fleet(20);
        let c = Fleet::generate(FleetConfig {
            seed: 2,
            ..a.config.clone()
        });
        for (x, y) in a.tenants.iter().zip(&b.tenants) {
            assert_eq!(x.id, y.id);
            assert_eq!(x.display_name, y.display_name);
            assert_eq!(x.user_count, y.user_count);
        }
        assert_ne!(a.tenants[1].id, c.tenants[1].id);
    }

    #[test]
    fn trouble_share_is_respected_roughly() {
        let mut c = FleetConfig::new(5, 2000);
        c.anchor = 1_764_028_800;
        let f = Fleet::generate(c);
        let troubled = f.customers().iter().filter(|t| t.trouble != Trouble::None).count();
        assert!((60..=140).contains(&troubled), "{troubled} troubled of 2000");
        for t in f.customers() {
            match t.trouble {
                Trouble::RelationshipExpired => assert!(!t.has_active_relationship()),
                Trouble::ConsentMissing => assert!(!t.app_consent && t.has_active_relationship()),
                Trouble::ReadOnlyRoles => assert!(!t.active_roles().contains(&roles::USER_ADMINISTRATOR)),
                Trouble::None => assert!(t.has_active_relationship() && t.app_consent),
            }
        }
    }
}
