//! The world's rules, without HTTP.

use super::fleet::{Fleet, FleetConfig, Tenant};
use super::model::{AssignedLicence, LicenceChange, UserPatch, WorldError};
use super::overlay::verification_txt;
use super::World;
use std::sync::Arc;

fn world() -> World {
    let mut c = FleetConfig::new(1, 3);
    c.users_per_tenant = Some(20);
    c.anchor = 1_764_028_800;
    World::new(Arc::new(Fleet::generate(c)))
}

fn customer(w: &World) -> Tenant {
    w.fleet.customers()[0].clone()
}

#[test]
fn an_untouched_tenant_reads_as_generated() {
    let w = world();
    let t = customer(&w);
    let v = w.tenant(&t);
    assert!(!v.changed());
    assert_eq!(v.users().count(), 20);
    let u = w.fleet.user(&t, 3);
    assert_eq!(v.user(&u.user_principal_name).unwrap().index, 3);
    assert_eq!(
        v.user(&u.id.to_string().to_uppercase()).unwrap().user.display_name,
        u.display_name
    );
}

#[test]
fn a_patch_changes_one_user_and_nothing_else() {
    let w = world();
    let t = customer(&w);
    let upn = w.fleet.user(&t, 5).user_principal_name;
    let patch = UserPatch {
        job_title: Some(Some("Chief Tester".into())),
        department: Some(None),
        ..Default::default()
    };
    let v = w.apply(&t, &upn, patch).unwrap();
    assert_eq!(v.user.job_title.as_deref(), Some("Chief Tester"));
    assert_eq!(v.user.department, None);
    assert_eq!(w.user(&t, &upn).unwrap().user, v.user);
    assert_eq!(
        w.tenant(&t).user_at(6).unwrap().user.user_principal_name,
        w.fleet.user(&t, 6).user_principal_name
    );
    assert_eq!(
        w.apply(&t, "nobody@x.com", UserPatch::default()),
        Err(WorldError::NotFound)
    );
}

#[test]
fn licences_move_consumed_units_and_deleting_a_user_returns_them() {
    let w = world();
    let t = customer(&w);
    let sku = w
        .skus(&t)
        .into_iter()
        .find(|s| s.free() > 0)
        .expect("a SKU with free units");
    let holder = w
        .tenant(&t)
        .users()
        .find(|v| !v.user.holds(sku.sku_id) && v.user.usage_location.is_some());
    let key = holder.expect("someone without it").user.user_principal_name;
    let add = LicenceChange {
        add: vec![AssignedLicence {
            sku_id: sku.sku_id,
            disabled_plans: vec![],
        }],
        remove: vec![],
    };
    let v = w.assign_licences(&t, &key, add.clone()).unwrap();
    assert!(v.user.holds(sku.sku_id));
    let consumed = |w: &World| {
        w.skus(&t)
            .into_iter()
            .find(|s| s.sku_id == sku.sku_id)
            .unwrap()
            .consumed
    };
    assert_eq!(consumed(&w), sku.consumed + 1);
    // Assigning again changes nothing.
    w.assign_licences(&t, &key, add).unwrap();
    assert_eq!(consumed(&w), sku.consumed + 1);
    w.delete_user(&t, &key).unwrap();
    assert_eq!(consumed(&w), sku.consumed);
    assert!(w.user(&t, &key).is_none());
    assert_eq!(w.tenant(&t).users().count(), 19);
}

#[test]
fn a_domain_verifies_only_once_its_txt_record_is_published() {
    let w = world();
    let t = customer(&w);
    let d = w.add_domain(&t, "example-sim.com").unwrap();
    assert!(!d.is_verified);
    assert_eq!(w.add_domain(&t, "example-sim.com"), Err(WorldError::DomainExists));
    let txt = verification_txt(&t, "example-sim.com");
    assert_eq!(
        w.verify_domain(&t, "example-sim.com", false),
        Err(WorldError::VerificationFailed {
            name: "example-sim.com".into(),
            txt: txt.clone()
        })
    );
    w.publish_dns("Example-Sim.com.", "txt", &txt);
    assert!(w.verify_domain(&t, "example-sim.com", false).unwrap().is_verified);
    // Another tenant cannot add a name verified here.
    let other = w.fleet.customers()[1].clone();
    assert_eq!(
        w.add_domain(&other, "example-sim.com"),
        Err(WorldError::DomainVerifiedElsewhere("example-sim.com".into()))
    );
    assert_eq!(w.delete_domain(&t, &t.initial_domain), Err(WorldError::DomainProtected));
    w.delete_domain(&t, "example-sim.com").unwrap();
    assert!(!w.domains(&t).iter().any(|d| d.name == "example-sim.com"));
}

#[test]
fn a_generated_unverified_domain_verifies_in_place() {
    let mut c = FleetConfig::new(4, 60);
    c.anchor = 1_764_028_800;
    c.users_per_tenant = Some(2);
    let w = World::new(Arc::new(Fleet::generate(c)));
    let (t, name) = w
        .fleet
        .customers()
        .iter()
        .find_map(|t| {
            t.domains
                .iter()
                .find(|d| !d.is_verified)
                .map(|d| (t.clone(), d.name.clone()))
        })
        .expect("some generated domain is unverified");
    let before = w.domains(&t).len();
    w.verify_domain(&t, &name, true).unwrap();
    let after = w.domains(&t);
    assert_eq!(after.len(), before, "verified in place, not listed twice");
    assert!(after.iter().any(|d| d.name == name && d.is_verified));
}

#[test]
fn every_write_moves_the_generation() {
    let w = world();
    let t = customer(&w);
    let g0 = w.generation();
    w.publish_dns("a.example", "TXT", "x");
    assert!(w.generation() > g0);
    let g1 = w.generation();
    w.publish_dns("a.example", "TXT", "x"); // already there
    assert_eq!(w.generation(), g1);
    let _ = w.delete_user(&t, "nobody@nowhere.example");
    assert_eq!(w.generation(), g1, "a refused write changes nothing");
}

/// One lock per tenant (code review 2.6-7): a page being built in one tenant (its read lock
/// held) does not hold up a write in another.
#[test]
fn a_write_in_one_tenant_does_not_wait_for_a_read_in_another() {
    let w = Arc::new(world());
    let a = w.fleet.customers()[0].clone();
    let b = w.fleet.customers()[1].clone();
    let page_in_a = w.tenant(&a);
    let (tx, rx) = std::sync::mpsc::channel();
    let writer = {
        let w = w.clone();
        let upn = w.fleet.user(&b, 0).user_principal_name;
        std::thread::spawn(move || {
            let patch = UserPatch {
                city: Some(Some("Elsewhere".into())),
                ..Default::default()
            };
            tx.send(w.apply(&b, &upn, patch).is_ok()).unwrap();
        })
    };
    let done = rx.recv_timeout(std::time::Duration::from_secs(5));
    assert_eq!(done, Ok(true), "the write in b waited for the read in a");
    assert_eq!(page_in_a.users().count(), 20);
    drop(page_in_a);
    writer.join().unwrap();
}
