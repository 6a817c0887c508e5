//! Generated users: user `i` of a tenant as a pure function of (seed, tenant, i), and the
//! inverse lookups by object id and UPN.

use super::*;

impl Fleet {
    /// User `i` of tenant `t` (0 ≤ i < t.user_count).
    pub fn user(&self, t: &Tenant, i: u32) -> User {
        let seed = self.config.seed;
        let ti = t.idx as u64;
        let mut rng = Rng::new(&[seed, ti, i as u64, 0x05E2]);
        let p = t.name_perm.forward(i as u64);
        let round = i as u64 / NAME_SPACE;
        let (gi, si) = (
            (p / SURNAMES.len() as u64) as usize,
            (p % SURNAMES.len() as u64) as usize,
        );
        let (given, surname) = (GIVEN[gi], SURNAMES[si]);
        let (given_slugs, surname_slugs) = slugs();
        let mut nick = [given_slugs[gi].as_str(), ".", surname_slugs[si].as_str()].concat();
        if round > 0 {
            nick.push_str(&(round + 1).to_string());
        }
        let upn = [nick.as_str(), "@", t.default_domain()].concat();
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

/// `names::slug` of every given name and surname, by index.
fn slugs() -> &'static (Vec<String>, Vec<String>) {
    static SLUGS: OnceLock<(Vec<String>, Vec<String>)> = OnceLock::new();
    SLUGS.get_or_init(|| {
        let slug_all = |names: &[&str]| names.iter().map(|n| names::slug(n)).collect();
        (slug_all(GIVEN), slug_all(SURNAMES))
    })
}

fn name_maps() -> &'static (HashMap<String, usize>, HashMap<String, usize>) {
    static MAPS: OnceLock<(HashMap<String, usize>, HashMap<String, usize>)> = OnceLock::new();
    MAPS.get_or_init(|| {
        let (g, s) = slugs();
        let index = |slugs: &[String]| slugs.iter().enumerate().map(|(i, n)| (n.clone(), i)).collect();
        (index(g), index(s))
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
