//! Generating tenants: names, domains, subscriptions, GDAP relationships and contracts.

use super::*;

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

pub(super) fn gen_tenant(cfg: &FleetConfig, t: u32, slugs: &mut HashSet<String>) -> Tenant {
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

    // Guests: an independent draw, so no other draw moves [I]: 60% of customers have 1–8.
    let guest_count = if t == 0 || !cfg.guests {
        0
    } else {
        let g = hash(&[seed, t as u64, 0x6E57]);
        if unit(g) < 0.6 {
            1 + (crate::ids::mix(g) % (1 + (user_count as u64 / 15).min(7))) as u32
        } else {
            0
        }
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
        guest_count,
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
    // A few healthy customers granted no Exchange-capable role (neither Global Reader nor
    // Exchange Administrator): an independent hash, so no other draw moves.
    if trouble == Trouble::None && no_exchange_role_draw(seed, t) {
        role_set.retain(|r| *r != GLOBAL_READER && *r != EXCHANGE_ADMINISTRATOR);
    }
    if trouble == Trouble::None && rng.chance(0.05) {
        role_set.push(PRIVILEGED_ROLE_ADMINISTRATOR);
    }
    // ~10% of healthy customers also granted Global Administrator: an independent hash.
    let global_admin = trouble == Trouble::None && global_admin_draw(seed, t);
    if global_admin {
        role_set.push(GLOBAL_ADMINISTRATOR);
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
    let auto_extend = if rng.chance(0.4) && !global_admin {
        "P180D"
    } else {
        "PT0S"
    };
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
