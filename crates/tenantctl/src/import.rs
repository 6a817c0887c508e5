//! `users import` and `users create`: plan, validate everything, then apply, row by row.
//!
//! 1. Read the CSV and check every row offline (UPN, names, usage location, password,
//!    duplicates in the file, a tenant for every row).
//! 2. Check every row against its tenant, reading only: the tenant is reachable, its GDAP
//!    relationship carries the roles (User Administrator; License Administrator for licences),
//!    the UPN's domain is verified there, the SKUs exist with enough free units, and what
//!    already exists (so a second run changes nothing).
//! 3. Any problem: print them all (line and field), apply nothing, exit 1 — unless
//!    `--continue-on-error`, which applies the good rows and reports the others as failed.
//! 4. `--what-if` prints the plan and stops.
//! 5. Apply per tenant (tenants and requests in parallel). A create whose answer is lost
//!    (timeout, reset, 5xx) is checked by reading the user back, never blindly repeated.
//!
//! Every row ends with one result: `created`, `already_existed`, `licensed` (existed; licences
//! added), `conflict` (exists but differs; left alone), `failed`, `planned` (what-if) or
//! `not_applied` (another row was bad).

use crate::commands::{self, customer_list, find, open_output, SourceArg};
use crate::config;
use crate::Global;
use anyhow::{anyhow, bail, Context, Result};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use tenantctl_clients::graph_writes::{ExistingUser, NewUser};
use tenantctl_clients::Graph;
use tenantctl_core::bulk::{check_row, parse_users_csv, RowError, UserRow};
use tenantctl_core::licences::LicenceCatalog;
use tenantctl_core::models::{GdapRelationship, SkuUsage};
use tenantctl_core::{roles, Record, SkuId, TenantId};
use tenantctl_fanout::{Limits, Target};
use tenantctl_transport::api::ApiError;

pub const RESULT_COLUMNS: &[&str] = &[
    "line",
    "tenantId",
    "tenantName",
    "userPrincipalName",
    "result",
    "licenses",
    "detail",
];

/// Options shared by `users import` and `users create`.
#[derive(Clone, Debug, Default)]
pub struct ImportOpts {
    pub default_tenant: Option<String>,
    pub what_if: bool,
    pub continue_on_error: bool,
    pub passwords_out: Option<PathBuf>,
    pub force_change_password: bool,
}

#[derive(Clone, Debug, PartialEq)]
enum Action {
    Create,
    /// Exists with the same name; these SKUs are missing (and its usage location, when
    /// `true`, is to be set from the row first).
    AddLicences(Vec<SkuId>, bool),
    AlreadyExists,
    Conflict(String),
    Invalid(String),
}

#[derive(Clone, Debug)]
struct Planned {
    row: UserRow,
    target: Option<Target>,
    skus: Vec<SkuId>,
    action: Action,
    password: Option<String>,
}

/// A strong password: 16 characters from the OS's random source, all four classes.
pub fn generate_password() -> String {
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGIT: &[u8] = b"23456789";
    const SYMBOL: &[u8] = b"!#%+-=?@^_~";
    let mut bytes = uuid::Uuid::new_v4().into_bytes().to_vec();
    bytes.extend_from_slice(&uuid::Uuid::new_v4().into_bytes());
    let sets = [LOWER, UPPER, DIGIT, SYMBOL];
    let mut out: Vec<u8> = (0..16)
        .map(|i| {
            let set = if i < 4 {
                sets[i]
            } else {
                sets[(bytes[i + 16] as usize) % 3]
            };
            set[bytes[i] as usize % set.len()]
        })
        .collect();
    // Shuffle so the classes are not in a fixed order.
    for i in (1..out.len()).rev() {
        let j = bytes[(i + 8) % 32] as usize % (i + 1);
        out.swap(i, j);
    }
    String::from_utf8(out).expect("ascii")
}

fn has_role(rels: &[GdapRelationship], tenant: TenantId, role: &str) -> bool {
    rels.iter()
        .filter(|r| r.customer_tenant_id == tenant && r.status == "active")
        .any(|r| r.role_ids.iter().any(|x| x == role || x == roles::GLOBAL_ADMINISTRATOR))
}

fn same_name(a: &str, b: Option<&str>) -> bool {
    b.is_some_and(|b| a.trim().eq_ignore_ascii_case(b.trim()))
}

fn record(p: &Planned, result: &str, detail: &str) -> Record {
    let licences: Vec<String> = p.row.licenses.clone();
    Record::new()
        .with("line", p.row.line as u64)
        .with(
            "tenantId",
            p.target.as_ref().map(|t| t.id.to_string()).unwrap_or_default(),
        )
        .with(
            "tenantName",
            p.target
                .as_ref()
                .map(|t| t.name.clone())
                .or_else(|| p.row.tenant.clone())
                .unwrap_or_default(),
        )
        .with("userPrincipalName", p.row.user_principal_name.clone())
        .with("result", result)
        .with("licenses", licences.join("; "))
        .with("detail", detail)
}

/// What one tenant's read-only check found.
struct TenantFacts {
    verified_domains: HashSet<String>,
    skus: Vec<SkuUsage>,
    existing: HashMap<String, ExistingUser>,
}

async fn facts(graph: &Graph, tenant: TenantId) -> Result<TenantFacts, ApiError> {
    let tid = tenant.to_string();
    let (domains, skus, users) = futures::join!(
        graph.domains(&tid),
        graph.subscribed_skus(&tid),
        graph.existing_users(&tid)
    );
    Ok(TenantFacts {
        verified_domains: domains?
            .into_iter()
            .filter(|d| d.is_verified)
            .map(|d| d.name.to_ascii_lowercase())
            .collect(),
        skus: skus?,
        existing: users?
            .into_iter()
            .map(|u| (u.user_principal_name.to_ascii_lowercase(), u))
            .collect(),
    })
}

/// Plans the rows of one tenant against what it holds; problems become `Action::Invalid`.
fn plan_tenant(rows: &mut [Planned], f: &TenantFacts, catalog: &LicenceCatalog) {
    let mut needed: BTreeMap<SkuId, Vec<usize>> = BTreeMap::new();
    for p in rows.iter_mut() {
        let name = p.target.as_ref().map(|t| t.name.clone()).unwrap_or_default();
        let upn = p.row.user_principal_name.to_ascii_lowercase();
        let domain = upn.split('@').nth(1).unwrap_or_default().to_owned();
        if !f.verified_domains.contains(&domain) {
            let mut v: Vec<&String> = f.verified_domains.iter().collect();
            v.sort();
            p.action = Action::Invalid(format!(
                "UserPrincipalName: '{domain}' is not a verified domain of {name} (verified: {})",
                v.into_iter().cloned().collect::<Vec<_>>().join(", ")
            ));
            continue;
        }
        let mut skus = vec![];
        let mut bad = None;
        for l in &p.row.licenses {
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
                    bad = Some(format!(
                        "LicenseAssignment: {name} has no subscription to '{l}' (it has: {})",
                        has.join(", ")
                    ));
                    break;
                }
            }
        }
        if let Some(b) = bad {
            p.action = Action::Invalid(b);
            continue;
        }
        p.skus = skus.clone();
        p.action = match f.existing.get(&upn) {
            None => Action::Create,
            Some(u) if !same_name(&p.row.display_name, u.display_name.as_deref()) => Action::Conflict(format!(
                "exists with display name '{}'",
                u.display_name.clone().unwrap_or_default()
            )),
            Some(u) => {
                let missing: Vec<SkuId> = skus.iter().copied().filter(|s| !u.has_sku(*s)).collect();
                if missing.is_empty() {
                    Action::AlreadyExists
                } else if u.usage_location.is_none() && p.row.usage_location.is_none() {
                    Action::Invalid("UsageLocation: the existing user has none; give one to assign a licence".into())
                } else {
                    Action::AddLicences(missing, u.usage_location.is_none())
                }
            }
        };
        let wants: Vec<SkuId> = match &p.action {
            Action::Create => skus,
            Action::AddLicences(m, _) => m.clone(),
            _ => vec![],
        };
        for s in wants {
            needed.entry(s).or_default().push(p.row.line);
        }
    }
    // Enough free units for every SKU the plan assigns?
    for (sku, lines) in needed {
        let s = f.skus.iter().find(|x| x.sku_id == sku).expect("planned SKUs exist");
        if (lines.len() as i64) > s.free() {
            let msg = format!(
                "LicenseAssignment: {} needs {} unit(s) of {} but {} free ({} bought, {} assigned)",
                "this import",
                lines.len(),
                s.part_number,
                s.free(),
                s.enabled,
                s.consumed
            );
            for p in rows.iter_mut().filter(|p| lines.contains(&p.row.line)) {
                p.action = Action::Invalid(msg.clone());
            }
        }
    }
}

/// Reads, validates, plans and (unless what-if) applies; returns the exit code.
pub async fn import(g: &Global, rows: Vec<UserRow>, opts: ImportOpts) -> Result<i32> {
    let catalog = LicenceCatalog::builtin();
    // 1. Offline checks.
    let mut errors: Vec<RowError> = rows.iter().flat_map(check_row).collect();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for r in &rows {
        let key = r.user_principal_name.to_ascii_lowercase();
        if let Some(first) = seen.insert(key, r.line) {
            errors.push(RowError {
                line: r.line,
                field: "UserPrincipalName".into(),
                message: format!("'{}' is already on line {first}", r.user_principal_name),
            });
        }
        if r.tenant.is_none() && opts.default_tenant.is_none() {
            errors.push(RowError {
                line: r.line,
                field: "TenantId".into(),
                message: "is empty; fill it or give --tenant".into(),
            });
        }
        for l in &r.licenses {
            if l.parse::<SkuId>().is_err() && catalog.by_part_number(l).is_none() {
                errors.push(RowError {
                    line: r.line,
                    field: "LicenseAssignment".into(),
                    message: format!(
                        "'{l}' is neither a skuId nor a known SKU part number (e.g. SPB, O365_BUSINESS_PREMIUM)"
                    ),
                });
            }
        }
    }
    if !errors.is_empty() && !opts.continue_on_error {
        return fail_validation(&errors);
    }
    let offline_bad: HashMap<usize, String> = errors
        .iter()
        .map(|e| (e.line, format!("{}: {}", e.field, e.message)))
        .collect();

    // 2. Tenants and their facts (read only).
    let conn = config::connect(&commands::conn_args(g)).await?;
    let graph = Graph::new(conn.api.clone());
    let (customers, rels) = customer_list(&conn, SourceArg::Graph).await?;
    let mut targets: HashMap<String, Target> = HashMap::new();
    let mut planned: Vec<Planned> = vec![];
    for r in rows {
        let key = r.tenant.clone().or(opts.default_tenant.clone()).unwrap_or_default();
        let mut p = Planned {
            password: r.password.clone(),
            row: r,
            target: None,
            skus: vec![],
            action: Action::Create,
        };
        if let Some(m) = offline_bad.get(&p.row.line) {
            p.action = Action::Invalid(m.clone());
        } else if !key.is_empty() {
            if let std::collections::hash_map::Entry::Vacant(slot) = targets.entry(key.to_ascii_lowercase()) {
                match find(&conn, &customers, &key).await {
                    Ok(t) => {
                        slot.insert(t);
                    }
                    Err(e) => p.action = Action::Invalid(format!("TenantId: {e}")),
                }
            }
            p.target = targets.get(&key.to_ascii_lowercase()).cloned();
        }
        planned.push(p);
    }
    let mut by_tenant: BTreeMap<TenantId, Vec<usize>> = BTreeMap::new();
    for (i, p) in planned.iter().enumerate() {
        if let (Some(t), false) = (&p.target, matches!(p.action, Action::Invalid(_))) {
            by_tenant.entry(t.id).or_default().push(i);
        }
    }
    // Role checks need no request; the tenants' facts are read in parallel.
    let mut to_read: Vec<TenantId> = vec![];
    for (tid, idxs) in &by_tenant {
        let name = planned[idxs[0]]
            .target
            .as_ref()
            .map(|t| t.name.clone())
            .unwrap_or_default();
        let wants_licences = idxs.iter().any(|&i| !planned[i].row.licenses.is_empty());
        let known_rels = rels.iter().any(|r| r.customer_tenant_id == *tid);
        let role_problem = if !known_rels {
            None
        } else if !has_role(&rels, *tid, roles::USER_ADMINISTRATOR) {
            Some("role_missing: the GDAP relationship lacks User Administrator (needed to create users)")
        } else if wants_licences
            && !has_role(&rels, *tid, roles::LICENSE_ADMINISTRATOR)
            && !has_role(&rels, *tid, roles::USER_ADMINISTRATOR)
        {
            Some("role_missing: the GDAP relationship lacks License Administrator")
        } else {
            None
        };
        match role_problem {
            Some(msg) => {
                for &i in idxs {
                    planned[i].action = Action::Invalid(format!("{name}: {msg}"));
                }
            }
            None => to_read.push(*tid),
        }
    }
    let fetched: Vec<(TenantId, Result<TenantFacts, ApiError>)> = {
        use futures::StreamExt;
        let graph = &graph;
        futures::stream::iter(to_read)
            .map(|tid| async move { (tid, facts(graph, tid).await) })
            .buffer_unordered(g.concurrency as usize)
            .collect()
            .await
    };
    for (tid, got) in fetched {
        let idxs = &by_tenant[&tid];
        let name = planned[idxs[0]]
            .target
            .as_ref()
            .map(|t| t.name.clone())
            .unwrap_or_default();
        match got {
            Ok(f) => {
                let mut rows: Vec<Planned> = idxs.iter().map(|&i| planned[i].clone()).collect();
                plan_tenant(&mut rows, &f, catalog);
                for (k, &i) in idxs.iter().enumerate() {
                    planned[i] = rows[k].clone();
                }
            }
            Err(e) => {
                let status = planned[idxs[0]]
                    .target
                    .as_ref()
                    .map(|t| tenantctl_fanout::classify(&e, t).0)
                    .unwrap_or(tenantctl_core::TenantStatus::Error);
                for &i in idxs {
                    planned[i].action = Action::Invalid(format!("{name} is not reachable ({status}): {e}"));
                }
            }
        }
    }
    let invalid: Vec<&Planned> = planned
        .iter()
        .filter(|p| matches!(p.action, Action::Invalid(_)))
        .collect();
    if !invalid.is_empty() && !opts.continue_on_error {
        let errs: Vec<RowError> = invalid
            .iter()
            .map(|p| {
                let Action::Invalid(m) = &p.action else { unreachable!() };
                let (field, message) = m.split_once(": ").unwrap_or(("", m));
                RowError {
                    line: p.row.line,
                    field: field.to_owned(),
                    message: message.to_owned(),
                }
            })
            .collect();
        return fail_validation(&errs);
    }

    // New users without a password get a generated one, which must go somewhere private.
    let need_pw: Vec<usize> = planned
        .iter()
        .filter(|p| p.action == Action::Create && p.password.is_none())
        .map(|p| p.row.line)
        .collect();
    if !need_pw.is_empty() && opts.passwords_out.is_none() && !opts.what_if {
        bail!(
            "{} new user(s) have no Password (line {}); give --passwords-out FILE to receive generated passwords (written 0600); nothing was changed",
            need_pw.len(),
            need_pw.iter().take(5).map(|l| l.to_string()).collect::<Vec<_>>().join(", ")
        );
    }

    // 3. What-if: the plan, nothing written.
    let mut out = open_output(g, RESULT_COLUMNS)?;
    if opts.what_if {
        for p in &planned {
            let (result, detail) = match &p.action {
                Action::Create => (
                    "planned",
                    "create user".to_owned() + if p.skus.is_empty() { "" } else { " and assign licences" },
                ),
                Action::AddLicences(s, set_loc) => (
                    "planned",
                    format!(
                        "exists; {}assign {} licence(s)",
                        if *set_loc { "set usage location, " } else { "" },
                        s.len()
                    ),
                ),
                Action::AlreadyExists => ("already_existed", "exists with these licences; nothing to do".into()),
                Action::Conflict(m) => ("conflict", m.clone()),
                Action::Invalid(m) => ("failed", m.clone()),
            };
            out.write(&record(p, result, &detail))?;
        }
        out.finish()?;
        eprintln!("what-if: nothing was changed");
        return Ok(0);
    }

    // Generated passwords are saved before anything is created.
    if let Some(path) = &opts.passwords_out {
        let mut text = String::from("userPrincipalName,password\n");
        for p in planned
            .iter_mut()
            .filter(|p| p.password.is_none() && p.action == Action::Create)
        {
            let pw = generate_password();
            text.push_str(&format!("{},{}\n", p.row.user_principal_name, pw));
            p.password = Some(pw);
        }
        tenantctl_transport::token::write_private_file(path, &text)
            .with_context(|| format!("--passwords-out {}", path.display()))?;
    }

    // 4. Apply, tenant by tenant.
    let planned = Arc::new(planned);
    let mut results: Vec<(usize, &'static str, String)> = vec![];
    for (i, p) in planned.iter().enumerate() {
        match &p.action {
            Action::AlreadyExists => results.push((i, "already_existed", "exists with these licences".into())),
            Action::Conflict(m) => results.push((i, "conflict", m.clone())),
            Action::Invalid(m) => results.push((i, "failed", m.clone())),
            _ => {}
        }
    }
    let todo: Vec<Target> = by_tenant
        .iter()
        .filter(|(_, idxs)| {
            idxs.iter()
                .any(|&i| matches!(planned[i].action, Action::Create | Action::AddLicences(..)))
        })
        .map(|(_, idxs)| planned[idxs[0]].target.clone().expect("grouped rows have a tenant"))
        .collect();
    let shared = Arc::new(parking_lot::Mutex::new(Vec::<(usize, &'static str, String)>::new()));
    let limits = Limits {
        tenants: g.concurrency as usize,
        per_tenant: g.per_tenant as usize,
    };
    let force = opts.force_change_password;
    let summary = tenantctl_fanout::run(
        todo,
        limits,
        |ctx| {
            let graph = graph.clone();
            let planned = planned.clone();
            let shared = shared.clone();
            async move {
                let mine: Vec<usize> = (0..planned.len())
                    .filter(|&i| planned[i].target.as_ref().map(|t| t.id) == Some(ctx.target.id))
                    .filter(|&i| matches!(planned[i].action, Action::Create | Action::AddLicences(..)))
                    .collect();
                let tid = ctx.target.id.to_string();
                let outcomes = futures::future::join_all(mine.iter().map(|&i| {
                    let graph = &graph;
                    let planned = &planned;
                    let ctx = &ctx;
                    let tid = &tid;
                    async move {
                        let _permit = ctx.permit().await;
                        (i, apply_row(graph, tid, &planned[i], force).await)
                    }
                }))
                .await;
                let mut first_err = None;
                for (i, r) in outcomes {
                    match r {
                        Ok((res, detail)) => shared.lock().push((i, res, detail)),
                        Err(e) => {
                            shared.lock().push((i, "failed", e.to_string()));
                            first_err.get_or_insert(e);
                        }
                    }
                }
                match first_err {
                    Some(e) => Err(e),
                    None => Ok(()),
                }
            }
        },
        |_| {},
    )
    .await;
    results.extend(shared.lock().drain(..));
    results.sort_by_key(|(i, _, _)| planned[*i].row.line);
    let mut bad = 0;
    for (i, result, detail) in &results {
        if matches!(*result, "failed" | "conflict") {
            bad += 1;
        }
        out.write(&record(&planned[*i], result, detail))?;
    }
    out.finish()?;
    if summary.outcomes.iter().any(|o| !o.status.is_ok()) {
        commands::report(g, &summary, &conn)?;
    }
    let counts = results.iter().fold(BTreeMap::<&str, usize>::new(), |mut m, (_, r, _)| {
        *m.entry(r).or_default() += 1;
        m
    });
    if !g.quiet {
        eprintln!(
            "{} rows: {}",
            results.len(),
            counts
                .iter()
                .map(|(k, v)| format!("{v} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(if summary.fatal.is_some() {
        1
    } else if bad > 0 {
        3
    } else {
        0
    })
}

fn fail_validation(errors: &[RowError]) -> Result<i32> {
    let mut sorted = errors.to_vec();
    sorted.sort_by_key(|e| e.line);
    for e in &sorted {
        eprintln!("{e}");
    }
    eprintln!(
        "error: {} problem(s) in the input; nothing was changed (fix them, or --continue-on-error to apply the good rows)",
        sorted.len()
    );
    Ok(1)
}

/// Creates (or licenses) one user. A lost answer is resolved by reading the user back.
async fn apply_row(graph: &Graph, tid: &str, p: &Planned, force: bool) -> Result<(&'static str, String), ApiError> {
    let upn = &p.row.user_principal_name;
    match &p.action {
        Action::AddLicences(missing, set_location) => {
            if *set_location {
                if let Some(loc) = &p.row.usage_location {
                    graph
                        .update_user(tid, upn, &serde_json::json!({ "usageLocation": loc }))
                        .await?;
                }
            }
            let add: Vec<(SkuId, Vec<String>)> = missing.iter().map(|s| (*s, vec![])).collect();
            graph.assign_license(tid, upn, &add, &[]).await?;
            Ok(("licensed", format!("existed; {} licence(s) assigned", missing.len())))
        }
        Action::Create => {
            let new = NewUser {
                user_principal_name: upn.clone(),
                display_name: p.row.display_name.clone(),
                given_name: p.row.given_name.clone(),
                surname: p.row.surname.clone(),
                usage_location: p.row.usage_location.clone(),
                password: p.password.clone().unwrap_or_default(),
                force_change_password: force,
            };
            let mut detail = String::new();
            let user = match graph.create_user(tid, &new).await {
                Ok(u) => u,
                Err(e) => {
                    let lost = matches!(e, ApiError::Transport(_))
                        || matches!(e, ApiError::Http { status, .. } if status >= 500);
                    let dup =
                        matches!(&e, ApiError::Http { status: 400, message, .. } if message.contains("already exists"));
                    if !(lost || dup) {
                        return Err(e);
                    }
                    // Did the create happen after all (or did someone else create it)?
                    match graph.find_user(tid, upn).await? {
                        Some(u) if same_name(&p.row.display_name, u.display_name.as_deref()) => {
                            detail = if lost {
                                "the answer was lost; the user was found created".into()
                            } else {
                                "created meanwhile by someone else".into()
                            };
                            u
                        }
                        Some(u) => {
                            return Ok((
                                "conflict",
                                format!("exists with display name '{}'", u.display_name.unwrap_or_default()),
                            ))
                        }
                        None if lost => {
                            // Not created: one more attempt is safe.
                            graph.create_user(tid, &new).await?
                        }
                        None => return Err(e),
                    }
                }
            };
            let missing: Vec<(SkuId, Vec<String>)> = p
                .skus
                .iter()
                .filter(|s| !user.has_sku(**s))
                .map(|s| (*s, vec![]))
                .collect();
            if !missing.is_empty() {
                graph.assign_license(tid, &user.id, &missing, &[]).await?;
            }
            Ok(("created", detail))
        }
        _ => Err(ApiError::Transport(format!("{upn}: nothing to apply"))),
    }
}

/// Reads the CSV file (UTF-8, BOM allowed).
pub fn read_csv(path: &PathBuf) -> Result<Vec<UserRow>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse_users_csv(&text).map_err(|errs| {
        anyhow!(
            "{}: {} problem(s):\n{}",
            path.display(),
            errs.len(),
            errs.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_meet_the_rules_and_differ() {
        let a = generate_password();
        let b = generate_password();
        assert_ne!(a, b);
        for p in [a, b] {
            assert_eq!(p.len(), 16);
            tenantctl_core::bulk::check_password(&p).unwrap();
            assert!(p.chars().any(|c| !c.is_ascii_alphanumeric()));
        }
    }
}
