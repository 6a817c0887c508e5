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
