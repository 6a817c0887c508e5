//! The licence change planner (`licenses assign|remove`, one change or a CSV of them).
//!
//! CSV: `tenant,userPrincipalName,sku[,disabledPlans]` (header any case; `tenant` may come
//! from `--tenant`; `disabledPlans` separated by `;`).

use crate::bulk::RowError;
use crate::licences::LicenceCatalog;
use crate::models::{DirectoryUser, SkuUsage};
use crate::{ObjectId, SkuId};
use std::collections::BTreeMap;

/// Where the changes came from (problems name the user's own column or flag).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Csv,
    Flags,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LicField {
    Tenant,
    User,
    Sku,
    DisabledPlans,
}

impl LicField {
    pub fn name(self, s: Source) -> &'static str {
        match (s, self) {
            (Source::Csv, LicField::Tenant) => "tenant",
            (Source::Csv, LicField::User) => "userPrincipalName",
            (Source::Csv, LicField::Sku) => "sku",
            (Source::Csv, LicField::DisabledPlans) => "disabledPlans",
            (Source::Flags, LicField::Tenant) => "--tenant",
            (Source::Flags, LicField::User) => "--user",
            (Source::Flags, LicField::Sku) => "--sku",
            (Source::Flags, LicField::DisabledPlans) => "--disable-plan",
        }
    }
}

/// One requested change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LicenceRow {
    pub line: usize,
    pub tenant: Option<String>,
    /// UPN or object id.
    pub user: String,
    /// Part number or skuId.
    pub sku: String,
    pub disabled_plans: Vec<String>,
    pub source: Source,
}

impl LicenceRow {
    pub fn problem(&self, field: LicField, message: impl Into<String>) -> RowError {
        RowError {
            line: self.line,
            field: field.name(self.source).to_owned(),
            message: message.into(),
        }
    }
}

/// Reads a licence CSV from text (BOM allowed; delimiter detected). All problems are returned
/// together.
pub fn parse_licence_csv(text: &str) -> Result<Vec<LicenceRow>, Vec<RowError>> {
    parse_licence_csv_bytes(text.as_bytes())
}

/// Reads a licence CSV from the file's bytes, in any encoding and with any delimiter
/// [`crate::csvin`] recognises (UTF-8, UTF-16/32 as PowerShell writes them, Windows-1252;
/// `,` `;` or tab). All problems are returned together; a file that cannot be decoded gives one
/// problem saying what was found and how to re-save it.
pub fn parse_licence_csv_bytes(bytes: &[u8]) -> Result<Vec<LicenceRow>, Vec<RowError>> {
    let d = crate::csvin::decode_csv(bytes, "the file").map_err(|e| {
        vec![RowError {
            line: e.line(),
            field: String::new(),
            message: e.to_string(),
        }]
    })?;
    let text = d.text.as_str();
    let hl = d.header_line;
    let read_as = if d.is_plain() {
        String::new()
    } else {
        format!(" (file read as {})", d.describe())
    };
    let mut rdr = d.reader();
    let err = |line: usize, field: &str, message: &str| RowError {
        line,
        field: field.to_owned(),
        message: message.to_owned(),
    };
    let headers: Vec<String> = match rdr.headers() {
        Ok(h) => h.iter().map(|h| h.trim().to_ascii_lowercase()).collect(),
        Err(e) => return Err(vec![err(hl, "", &format!("cannot read the header: {e}{read_as}"))]),
    };
    let col = |names: &[&str]| headers.iter().position(|h| names.contains(&h.as_str()));
    let t = col(&["tenant", "tenantid"]);
    let u = col(&["userprincipalname", "user", "upn"]);
    let s = col(&["sku", "license", "licenseassignment"]);
    let dp = col(&["disabledplans", "disableplans"]);
    let mut errors = vec![];
    let missing = format!("required column is missing (header: tenant,userPrincipalName,sku[,disabledPlans]){read_as}");
    if u.is_none() {
        errors.push(err(hl, "userPrincipalName", &missing));
    }
    if s.is_none() {
        errors.push(err(hl, "sku", &missing));
    }
    let (Some(u), Some(s)) = (u, s) else { return Err(errors) };
    let mut rows = vec![];
    for (k, rec) in rdr.records().enumerate() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e
                    .position()
                    .map(|p| crate::bulk::line_of(text, p.byte()))
                    .unwrap_or(hl + k + 1);
                errors.push(err(line, "", &format!("not valid CSV: {e}")));
                continue;
            }
        };
        // The file's own line number (blank lines counted).
        let line = rec
            .position()
            .map(|p| crate::bulk::line_of(text, p.byte()))
            .unwrap_or(hl + k + 1);
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let get = |i: usize| rec.get(i).unwrap_or_default().trim().to_owned();
        rows.push(LicenceRow {
            line,
            tenant: t.map(get).filter(|x| !x.is_empty()),
            user: get(u),
            sku: get(s).rsplit(':').next().unwrap_or_default().to_owned(),
            disabled_plans: dp
                .map(|i| {
                    get(i)
                        .split(';')
                        .map(|x| x.trim().to_owned())
                        .filter(|x| !x.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            source: Source::Csv,
        });
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// The checks that need no tenant.
pub fn check_offline(rows: &[LicenceRow], default_tenant: Option<&str>, catalog: &LicenceCatalog) -> Vec<RowError> {
    let mut problems = vec![];
    // The same change twice (tenant, user, licence; case-insensitive): probe D17 wrote both.
    let mut seen: std::collections::HashMap<(String, String, String), usize> = Default::default();
    for r in rows {
        let key = (
            r.tenant.as_deref().or(default_tenant).unwrap_or("").to_lowercase(),
            r.user.to_lowercase(),
            r.sku.to_lowercase(),
        );
        if let Some(first) = seen.get(&key) {
            problems.push(r.problem(
                LicField::User,
                format!(
                    "the same change as line {first} ({} {}); keep one of them",
                    r.user, r.sku
                ),
            ));
        } else {
            seen.insert(key, r.line);
        }
    }
    for r in rows {
        if r.tenant.is_none() && default_tenant.is_none() {
            problems.push(r.problem(LicField::Tenant, "is empty; fill it or give --tenant"));
        }
        if r.user.contains('@') {
            if let Err(m) = crate::bulk::check_upn(&r.user) {
                problems.push(r.problem(LicField::User, m));
            }
        } else if r.user.parse::<ObjectId>().is_err() {
            problems.push(r.problem(
                LicField::User,
                format!("'{}' is neither a UPN nor an object id", r.user),
            ));
        }
        if r.sku.parse::<SkuId>().is_err() && catalog.by_part_number(&r.sku).is_none() {
            problems.push(r.problem(
                LicField::Sku,
                format!("'{}' is neither a skuId nor a known part number", r.sku),
            ));
        }
        for p in &r.disabled_plans {
            if p.parse::<uuid::Uuid>().is_err() && catalog.service_plan_by_name(p).is_none() {
                problems.push(r.problem(
                    LicField::DisabledPlans,
                    format!("'{p}' is not a known service plan name or id"),
                ));
            }
        }
    }
    problems
}

/// What applying a change will do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LicenceAction {
    Assign {
        sku: SkuId,
        disabled_plans: Vec<String>,
    },
    Remove {
        sku: SkuId,
    },
    /// Nothing to do: `already_assigned` or `not_assigned`, with a detail.
    Nothing(&'static str, String),
}

/// Plans one change against its tenant's SKUs and the user (`None`: no such user).
pub fn plan_row(
    r: &LicenceRow,
    tenant_name: &str,
    skus: &[SkuUsage],
    user: Option<&DirectoryUser>,
    assign: bool,
    catalog: &LicenceCatalog,
) -> Result<LicenceAction, RowError> {
    let sku = match r.sku.parse::<SkuId>() {
        Ok(id) => skus.iter().find(|s| s.sku_id == id),
        Err(_) => skus.iter().find(|s| s.part_number.eq_ignore_ascii_case(&r.sku)),
    };
    let Some(sku) = sku else {
        let has: Vec<&str> = skus.iter().map(|s| s.part_number.as_str()).collect();
        return Err(r.problem(
            LicField::Sku,
            format!(
                "{tenant_name} has no subscription to '{}' (it has: {})",
                r.sku,
                has.join(", ")
            ),
        ));
    };
    let Some(user) = user else {
        return Err(r.problem(LicField::User, format!("no user '{}' in {tenant_name}", r.user)));
    };
    let holds = user.skus.contains(&sku.sku_id);
    match (assign, holds) {
        (true, true) => Ok(LicenceAction::Nothing(
            "already_assigned",
            format!("{} already holds {}", r.user, sku.part_number),
        )),
        (true, false) if user.usage_location.is_none() => Err(r.problem(
            LicField::User,
            format!(
                "{} has no usage location; set it first (e.g. `users import` with usageLocation for that user, or in the admin center)",
                r.user
            ),
        )),
        (true, false) => Ok(LicenceAction::Assign {
            sku: sku.sku_id,
            disabled_plans: r
                .disabled_plans
                .iter()
                .map(|p| match p.parse::<uuid::Uuid>() {
                    Ok(id) => id.to_string(),
                    Err(_) => catalog.service_plan_by_name(p).map(|sp| sp.id.to_string()).unwrap_or_default(),
                })
                .collect(),
        }),
        (false, true) => Ok(LicenceAction::Remove { sku: sku.sku_id }),
        (false, false) => Ok(LicenceAction::Nothing(
            "not_assigned",
            format!("{} does not hold {}", r.user, sku.part_number),
        )),
    }
}

/// Assignments beyond a SKU's free units, per tenant: each such row gets a problem.
/// `plans`: (row index, tenant key, action); `skus_of`: the SKUs of each tenant key.
pub fn check_units<K: Ord + Clone>(
    rows: &[LicenceRow],
    plans: &[(usize, K, &LicenceAction)],
    skus_of: &dyn Fn(&K) -> Option<Vec<SkuUsage>>,
    name_of: &dyn Fn(&K) -> String,
) -> Vec<(usize, RowError)> {
    let mut needed: BTreeMap<(K, SkuId), Vec<usize>> = BTreeMap::new();
    for (i, k, a) in plans {
        if let LicenceAction::Assign { sku, .. } = a {
            needed.entry((k.clone(), *sku)).or_default().push(*i);
        }
    }
    let mut out = vec![];
    for ((k, sku), idxs) in needed {
        let Some(s) = skus_of(&k).and_then(|v| v.into_iter().find(|s| s.sku_id == sku)) else {
            continue;
        };
        if idxs.len() as i64 > s.free() {
            for i in idxs.iter().copied() {
                out.push((
                    i,
                    rows[i].problem(
                        LicField::Sku,
                        format!(
                            "{} needs {} unit(s) of {} but {} free",
                            name_of(&k),
                            idxs.len(),
                            s.part_number,
                            s.free()
                        ),
                    ),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_licence_csv_reads_and_names_missing_columns() {
        let rows = parse_licence_csv("\u{feff}Tenant,UPN,SKU,disabledPlans\r\nContoso,a@contoso.com,acct:spb,EXCHANGE_S_STANDARD; SWAY\r\n\r\n,b@contoso.com,SPB,\r\n").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].sku, "spb");
        assert_eq!(rows[0].disabled_plans, ["EXCHANGE_S_STANDARD", "SWAY"]);
        assert_eq!(rows[1].tenant, None);
        assert_eq!(rows[1].line, 4);
        let e = parse_licence_csv("tenant,user\r\n").unwrap_err();
        assert_eq!(e[0].field, "sku");
    }

    /// Probe D17: a row given twice was applied twice.
    #[test]
    fn a_change_given_twice_is_a_problem_on_its_second_line() {
        let rows = parse_licence_csv(
            "tenant,userPrincipalName,sku\nContoso,a@contoso.com,SPB\ncontoso,A@Contoso.com,spb\nContoso,b@contoso.com,SPB\n",
        )
        .unwrap();
        let p = check_offline(&rows, None, LicenceCatalog::builtin());
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].line, 3);
        assert!(p[0].message.contains("the same change as line 2"), "{}", p[0].message);
    }

    #[test]
    fn offline_checks_name_flags_or_columns() {
        let mut r = LicenceRow {
            line: 1,
            tenant: None,
            user: "nobody".into(),
            sku: "NOPE".into(),
            disabled_plans: vec!["NOPLAN".into()],
            source: Source::Flags,
        };
        let e = check_offline(std::slice::from_ref(&r), None, LicenceCatalog::builtin());
        let f: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(f, ["--tenant", "--user", "--sku", "--disable-plan"]);
        r.source = Source::Csv;
        let e = check_offline(&[r], Some("Contoso"), LicenceCatalog::builtin());
        assert_eq!(e[0].field, "userPrincipalName");
    }

    #[test]
    fn plans_assign_remove_and_nothing() {
        let spb: SkuId = "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46".parse().unwrap();
        let skus = vec![SkuUsage {
            sku_id: spb,
            part_number: "SPB".into(),
            capability_status: "Enabled".into(),
            enabled: 1,
            suspended: 0,
            warning: 0,
            locked_out: 0,
            consumed: 0,
        }];
        let user = |loc: Option<&str>, held: bool| DirectoryUser {
            id: "1".into(),
            user_principal_name: "a@contoso.com".into(),
            display_name: None,
            usage_location: loc.map(str::to_owned),
            skus: if held { vec![spb] } else { vec![] },
        };
        let r = |line| LicenceRow {
            line,
            tenant: None,
            user: "a@contoso.com".into(),
            sku: "spb".into(),
            disabled_plans: vec![],
            source: Source::Csv,
        };
        let c = LicenceCatalog::builtin();
        assert!(matches!(
            plan_row(&r(2), "C", &skus, Some(&user(Some("US"), false)), true, c),
            Ok(LicenceAction::Assign { .. })
        ));
        assert!(matches!(
            plan_row(&r(2), "C", &skus, Some(&user(Some("US"), true)), true, c),
            Ok(LicenceAction::Nothing("already_assigned", _))
        ));
        assert!(matches!(
            plan_row(&r(2), "C", &skus, Some(&user(Some("US"), true)), false, c),
            Ok(LicenceAction::Remove { .. })
        ));
        let e = plan_row(&r(2), "C", &skus, Some(&user(None, false)), true, c).unwrap_err();
        assert!(e.message.contains("no usage location"));
        let e = plan_row(&r(2), "C", &skus, None, true, c).unwrap_err();
        assert_eq!(e.field, "userPrincipalName");
        // Two assignments, one free unit: both rows are refused.
        let rows = vec![r(2), r(3)];
        let a = LicenceAction::Assign {
            sku: spb,
            disabled_plans: vec![],
        };
        let bad = check_units(&rows, &[(0, 1u8, &a), (1, 1u8, &a)], &|_| Some(skus.clone()), &|_| {
            "C".into()
        });
        assert_eq!(bad.len(), 2);
        assert!(bad[0].1.message.contains("needs 2 unit(s) of SPB but 1 free"));
    }
}
