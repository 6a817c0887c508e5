//! The user import planner (`users import`, `users create`): every row checked offline, then
//! against what its tenant holds, with every problem reported at once.

use super::access::{self, Access, Need};
use crate::bulk::{check_row, Field, RowError, UserRow};
use crate::licences::LicenceCatalog;
use crate::models::{DirectoryUser, GdapRelationship, SkuUsage};
use crate::{SkuId, TenantId};
use std::collections::{BTreeMap, HashMap};

/// What one tenant holds, as far as the import cares (read-only facts).
#[derive(Clone, Debug, Default)]
pub struct TenantFacts {
    pub name: String,
    /// Verified domains, lower case.
    pub verified_domains: Vec<String>,
    pub skus: Vec<SkuUsage>,
    /// Existing users by lower-case UPN.
    pub existing: HashMap<String, DirectoryUser>,
}

/// What applying a row will do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserAction {
    Create,
    /// The user exists with the same name; these SKUs are missing (and the usage location is
    /// set from the row first when `set_usage_location`).
    AddLicences {
        missing: Vec<SkuId>,
        set_usage_location: bool,
    },
    AlreadyExists,
    /// Exists but differs: left alone.
    Conflict(String),
}

impl UserAction {
    /// The result word and detail of a what-if plan row.
    pub fn describe(&self, licences: usize) -> (&'static str, String) {
        match self {
            UserAction::Create => (
                "planned",
                "create user".to_owned() + if licences == 0 { "" } else { " and assign licences" },
            ),
            UserAction::AddLicences {
                missing,
                set_usage_location,
            } => (
                "planned",
                format!(
                    "exists; {}assign {} licence(s)",
                    if *set_usage_location {
                        "set usage location, "
                    } else {
                        ""
                    },
                    missing.len()
                ),
            ),
            UserAction::AlreadyExists => ("already_existed", "exists with these licences; nothing to do".into()),
            UserAction::Conflict(m) => ("conflict", m.clone()),
        }
    }

    pub fn writes(&self) -> bool {
        matches!(self, UserAction::Create | UserAction::AddLicences { .. })
    }
}

/// A planned row: the action and the SKUs it resolved, or its problems.
pub type RowPlan = Result<(UserAction, Vec<SkuId>), Vec<RowError>>;

/// The checks that need no tenant: each row's fields, duplicates in the input, a tenant for
/// every row, licence names known.
pub fn check_offline(rows: &[UserRow], default_tenant: Option<&str>, catalog: &LicenceCatalog) -> Vec<RowError> {
    let mut errors: Vec<RowError> = rows.iter().flat_map(check_row).collect();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for r in rows {
        let key = r.user_principal_name.to_ascii_lowercase();
        if let Some(first) = seen.insert(key, r.line) {
            errors.push(r.problem(
                Field::Upn,
                format!("'{}' is already on line {first}", r.user_principal_name),
            ));
        }
        if r.tenant.is_none() && default_tenant.is_none() {
            errors.push(r.problem(Field::Tenant, "is empty; fill it or give --tenant"));
        }
        for l in &r.licenses {
            if l.parse::<SkuId>().is_err() && catalog.by_part_number(l).is_none() {
                errors.push(r.problem(
                    Field::Licenses,
                    format!("'{l}' is neither a skuId nor a known SKU part number (e.g. SPB, O365_BUSINESS_PREMIUM)"),
                ));
            }
        }
    }
    errors.sort_by_key(|e| e.line);
    errors
}

/// The role check before any read: the weakest need of an import is licensing existing
/// users, so a tenant where even that is refused is not read at all.
pub fn tenant_access(rels: &[GdapRelationship], tenant: TenantId) -> Access {
    access::check(rels, tenant, Need::ManageLicences)
}

/// Plans one tenant's rows against its facts. Each row's roles are checked for what it
/// really does: creating needs User Administrator; licensing an existing user needs License
/// Administrator (or User Administrator), setting its usage location User Administrator.
pub fn plan_tenant(
    rows: &[&UserRow],
    f: &TenantFacts,
    rels: &[GdapRelationship],
    tenant: TenantId,
    catalog: &LicenceCatalog,
) -> Vec<RowPlan> {
    let mut plans: Vec<RowPlan> = rows.iter().map(|r| plan_row(r, f, catalog)).collect();
    // Roles, per row.
    for (p, r) in plans.iter_mut().zip(rows) {
        let needs: Vec<Need> = match p {
            Ok((UserAction::Create, _)) => vec![Need::ManageUsers],
            Ok((UserAction::AddLicences { set_usage_location, .. }, _)) => {
                let mut v = vec![Need::ManageLicences];
                if *set_usage_location {
                    v.push(Need::ManageUsers);
                }
                v
            }
            _ => vec![],
        };
        if let Some(msg) = needs.iter().find_map(|n| access::check(rels, tenant, *n).problem()) {
            *p = Err(vec![r.problem(Field::Tenant, format!("{}: {msg}", f.name))]);
        }
    }
    // Enough free units for every SKU the plan assigns?
    let mut needed: BTreeMap<SkuId, Vec<usize>> = BTreeMap::new();
    for (i, p) in plans.iter().enumerate() {
        let wants: &[SkuId] = match p {
            Ok((UserAction::Create, skus)) => skus,
            Ok((UserAction::AddLicences { missing, .. }, _)) => missing,
            _ => &[],
        };
        for s in wants {
            needed.entry(*s).or_default().push(i);
        }
    }
    for (sku, idxs) in needed {
        let Some(s) = f.skus.iter().find(|x| x.sku_id == sku) else {
            continue;
        };
        if (idxs.len() as i64) > s.free() {
            let msg = format!(
                "this import needs {} unit(s) of {} in {} but {} free ({} bought, {} assigned)",
                idxs.len(),
                s.part_number,
                f.name,
                s.free(),
                s.enabled,
                s.consumed
            );
            for i in idxs {
                plans[i] = Err(vec![rows[i].problem(Field::Licenses, msg.clone())]);
            }
        }
    }
    plans
}

fn plan_row(r: &UserRow, f: &TenantFacts, catalog: &LicenceCatalog) -> RowPlan {
    let upn = r.user_principal_name.to_ascii_lowercase();
    let domain = upn.split('@').nth(1).unwrap_or_default();
    let mut problems = vec![];
    if !f.verified_domains.iter().any(|d| d == domain) {
        let mut v = f.verified_domains.clone();
        v.sort();
        problems.push(r.problem(
            Field::Upn,
            format!(
                "'{domain}' is not a verified domain of {} (verified: {})",
                f.name,
                v.join(", ")
            ),
        ));
    }
    let mut skus = vec![];
    for l in &r.licenses {
        let found = match l.parse::<SkuId>() {
            Ok(id) => f.skus.iter().find(|s| s.sku_id == id),
            Err(_) => f.skus.iter().find(|s| s.part_number.eq_ignore_ascii_case(l)),
        };
        match found {
            Some(s) => skus.push(s.sku_id),
            None => {
                let has: Vec<String> = f
                    .skus
                    .iter()
                    .map(|s| {
                        format!(
                            "{} ({})",
                            s.part_number,
                            catalog.friendly_name(s.sku_id, Some(&s.part_number))
                        )
                    })
                    .collect();
                problems.push(r.problem(
                    Field::Licenses,
                    format!("{} has no subscription to '{l}' (it has: {})", f.name, has.join(", ")),
                ));
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let action = match f.existing.get(&upn) {
        None => UserAction::Create,
        Some(u) if !same_name(&r.display_name, u.display_name.as_deref()) => UserAction::Conflict(format!(
            "exists with display name '{}'",
            u.display_name.clone().unwrap_or_default()
        )),
        Some(u) => {
            let missing: Vec<SkuId> = skus.iter().copied().filter(|s| !u.skus.contains(s)).collect();
            if missing.is_empty() {
                UserAction::AlreadyExists
            } else if u.usage_location.is_none() && r.usage_location.is_none() {
                return Err(vec![r.problem(
                    Field::UsageLocation,
                    "the existing user has none; give one to assign a licence",
                )]);
            } else {
                UserAction::AddLicences {
                    missing,
                    set_usage_location: u.usage_location.is_none(),
                }
            }
        }
    };
    Ok((action, skus))
}

/// Display names compare trimmed and case-insensitively.
pub fn same_name(a: &str, b: Option<&str>) -> bool {
    b.is_some_and(|b| a.trim().eq_ignore_ascii_case(b.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulk::Style;
    use crate::roles;

    const T: &str = "52eaad04-13a2-4a2f-9ce8-93a294fadf36";
    const SPB: &str = "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46";

    fn row(line: usize, upn: &str, name: &str, lic: &[&str], loc: Option<&str>, style: Style) -> UserRow {
        UserRow {
            line,
            tenant: Some("Contoso".into()),
            user_principal_name: upn.into(),
            display_name: name.into(),
            given_name: None,
            surname: None,
            usage_location: loc.map(str::to_owned),
            licenses: lic.iter().map(|s| s.to_string()).collect(),
            password: None,
            style,
        }
    }

    fn facts(free: i64) -> TenantFacts {
        let spb: SkuId = SPB.parse().unwrap();
        TenantFacts {
            name: "Contoso".into(),
            verified_domains: vec!["contoso.com".into()],
            skus: vec![SkuUsage {
                sku_id: spb,
                part_number: "SPB".into(),
                capability_status: "Enabled".into(),
                enabled: 10,
                suspended: 0,
                warning: 0,
                locked_out: 0,
                consumed: 10 - free,
            }],
            existing: [(
                "old@contoso.com".to_owned(),
                DirectoryUser {
                    id: "1".into(),
                    user_principal_name: "old@contoso.com".into(),
                    display_name: Some("Old User".into()),
                    usage_location: Some("US".into()),
                    skus: vec![],
                },
            )]
            .into(),
        }
    }

    fn rel(roles: &[&str]) -> Vec<GdapRelationship> {
        vec![GdapRelationship {
            id: "r".into(),
            display_name: "GDAP".into(),
            customer_tenant_id: T.parse().unwrap(),
            customer_name: "Contoso".into(),
            status: "active".into(),
            role_ids: roles.iter().map(|r| r.to_string()).collect(),
            created: None,
            end: None,
            auto_extend_duration: "PT0S".into(),
        }]
    }

    #[test]
    fn offline_problems_name_the_users_own_columns() {
        let rows = vec![
            row(2, "bad upn", "A", &[], None, Style::Modern),
            row(3, "b@contoso.com", "B", &["SPB"], None, Style::Modern),
            row(4, "b@contoso.com", "B", &["NOPE"], Some("US"), Style::Classic),
        ];
        let e = check_offline(&rows, None, LicenceCatalog::builtin());
        let fields: Vec<(usize, &str)> = e.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(
            fields,
            [
                (2, "userPrincipalName"),
                (3, "usageLocation"),
                (4, "UserPrincipalName"),
                (4, "LicenseAssignment")
            ]
        );
    }

    #[test]
    fn a_licence_administrator_alone_may_license_existing_users_but_not_create() {
        let t: TenantId = T.parse().unwrap();
        let new = row(2, "new@contoso.com", "New", &["SPB"], Some("US"), Style::Modern);
        let old = row(3, "old@contoso.com", "Old User", &["SPB"], None, Style::Modern);
        let rels = rel(&[roles::LICENSE_ADMINISTRATOR]);
        let p = plan_tenant(&[&new, &old], &facts(5), &rels, t, LicenceCatalog::builtin());
        let e = p[0].as_ref().unwrap_err();
        assert!(e[0].message.contains("lacks User Administrator"), "{:?}", e);
        assert_eq!(e[0].field, "tenant");
        assert!(matches!(
            &p[1],
            Ok((
                UserAction::AddLicences {
                    set_usage_location: false,
                    ..
                },
                _
            ))
        ));
    }

    #[test]
    fn existing_users_are_planned_as_already_existed_or_conflict() {
        let t: TenantId = T.parse().unwrap();
        let same = row(2, "OLD@contoso.com", " old user ", &[], None, Style::Modern);
        let other = row(3, "old@contoso.com", "Someone Else", &[], None, Style::Modern);
        let rels = rel(&[roles::USER_ADMINISTRATOR]);
        let p = plan_tenant(&[&same, &other], &facts(5), &rels, t, LicenceCatalog::builtin());
        assert_eq!(p[0].as_ref().unwrap().0, UserAction::AlreadyExists);
        assert!(matches!(&p[1].as_ref().unwrap().0, UserAction::Conflict(m) if m.contains("Old User")));
    }

    #[test]
    fn every_row_beyond_the_free_units_fails_and_unverified_domains_are_named() {
        let t: TenantId = T.parse().unwrap();
        let a = row(2, "a@contoso.com", "A", &["SPB"], Some("US"), Style::Classic);
        let b = row(3, "b@contoso.com", "B", &["SPB"], Some("US"), Style::Classic);
        let c = row(4, "c@fabrikam.com", "C", &["XYZ"], Some("US"), Style::Classic);
        let rels = rel(&[roles::USER_ADMINISTRATOR]);
        let p = plan_tenant(&[&a, &b, &c], &facts(1), &rels, t, LicenceCatalog::builtin());
        for x in &p[..2] {
            let e = x.as_ref().unwrap_err();
            assert!(
                e[0].message.contains("needs 2 unit(s) of SPB in Contoso but 1 free"),
                "{e:?}"
            );
        }
        let e = p[2].as_ref().unwrap_err();
        assert_eq!(e.len(), 2, "both problems of the row at once: {e:?}");
        assert!(e[0]
            .message
            .contains("'fabrikam.com' is not a verified domain of Contoso"));
        assert!(e[1].message.contains("has no subscription to 'XYZ'"));
    }

    #[test]
    fn an_expired_relationship_is_relationship_expired_before_any_read() {
        let t: TenantId = T.parse().unwrap();
        let mut rels = rel(&[roles::USER_ADMINISTRATOR]);
        rels[0].status = "expired".into();
        let a = tenant_access(&rels, t);
        assert_eq!(a, Access::Expired);
        assert!(a.problem().unwrap().starts_with("relationship_expired"));
    }
}
