//! `users import` and `users create`: plan every row (offline checks, tenants resolved, roles,
//! what each tenant holds) reporting every problem at once, then apply per tenant through the
//! fan-out. A create whose answer is lost is checked by reading the user back, never blindly
//! repeated.
//!
//! Every row ends with one result: `created`, `already_existed`, `licensed` (existed; licences
//! added), `conflict` (exists but differs; left alone), `failed`, `planned` (what-if) or
//! `cancelled` (the run was stopped before its tenant finished).

use crate::errors::classify;
use crate::files;
use crate::session::{RunOptions, Session};
use crate::targets;
use anyhow::{bail, Result};
use futures::StreamExt;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use tenantctl_clients::graph_writes::{ExistingUser, NewUser};
use tenantctl_clients::Graph;
use tenantctl_core::bulk::{Field, RowError, UserRow};
use tenantctl_core::licences::LicenceCatalog;
use tenantctl_core::models::DirectoryUser;
use tenantctl_core::plan::users::{self as planner, RowPlan, TenantFacts, UserAction};
use tenantctl_core::tables::ImportResultRow;
use tenantctl_core::{SkuId, TenantId, TenantStatus};
use tenantctl_fanout::{Flow, Summary, Target, TenantCtx};
use tenantctl_transport::api::ApiError;

/// Options of an import.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// The tenant of rows without one (`--tenant`).
    pub default_tenant: Option<String>,
    pub force_change_password: bool,
    /// Where generated passwords go (created new, 0600).
    pub passwords_out: Option<PathBuf>,
    /// `--partner-tenant`: rows may name the partner's own tenant.
    pub partner_tenant: bool,
}

/// One input row with its tenant and plan.
#[derive(Clone, Debug)]
pub struct PlannedRow {
    pub row: UserRow,
    pub target: Option<Target>,
    pub plan: RowPlan,
    pub password: Option<String>,
}

impl PlannedRow {
    fn result(&self, result: &str, detail: String) -> ImportResultRow {
        ImportResultRow {
            line: self.row.line,
            tenant_id: self.target.as_ref().map(|t| t.id.to_string()),
            tenant_name: self
                .target
                .as_ref()
                .map(|t| t.name.clone())
                .or_else(|| self.row.tenant.clone())
                .unwrap_or_default(),
            user_principal_name: self.row.user_principal_name.clone(),
            result: result.to_owned(),
            licenses: self.row.licenses.clone(),
            detail,
        }
    }

    fn writes(&self) -> bool {
        matches!(&self.plan, Ok((a, _)) if a.writes())
    }
}

/// A checked import: every row planned or with its problems.
#[derive(Clone, Debug)]
pub struct ImportPlan {
    pub rows: Vec<PlannedRow>,
}

impl ImportPlan {
    /// Every problem of the input, by line.
    pub fn problems(&self) -> Vec<RowError> {
        let mut v: Vec<RowError> = self
            .rows
            .iter()
            .filter_map(|p| p.plan.as_ref().err())
            .flatten()
            .cloned()
            .collect();
        v.sort_by_key(|e| e.line);
        v
    }

    /// Rows that will write, and the tenants they are in.
    pub fn scope(&self) -> (usize, usize) {
        let w: Vec<&PlannedRow> = self.rows.iter().filter(|p| p.writes()).collect();
        let tenants: std::collections::HashSet<TenantId> =
            w.iter().filter_map(|p| p.target.as_ref().map(|t| t.id)).collect();
        (w.len(), tenants.len())
    }

    /// The what-if plan: one row per input row (problems as `failed`).
    pub fn preview(&self) -> Vec<ImportResultRow> {
        self.rows
            .iter()
            .map(|p| match &p.plan {
                Ok((a, skus)) => {
                    let (r, d) = a.describe(skus.len());
                    p.result(r, d)
                }
                Err(e) => p.result("failed", join_problems(e)),
            })
            .collect()
    }

    /// Lines of new users without a password (they need `--passwords-out`).
    pub fn need_passwords(&self) -> Vec<usize> {
        self.rows
            .iter()
            .filter(|p| matches!(p.plan, Ok((UserAction::Create, _))) && p.password.is_none())
            .map(|p| p.row.line)
            .collect()
    }
}

fn join_problems(e: &[RowError]) -> String {
    e.iter()
        .map(|e| {
            if e.field.is_empty() {
                e.message.clone()
            } else {
                format!("{}: {}", e.field, e.message)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Plans every row; reads each tenant once (in parallel), writes nothing.
pub async fn plan(s: &Session, rows: Vec<UserRow>, opts: &ImportOptions, run: &RunOptions) -> Result<ImportPlan> {
    let catalog = LicenceCatalog::builtin();
    let offline = planner::check_offline(&rows, opts.default_tenant.as_deref(), catalog);
    let rels = s.customers().await?.relationships.clone();
    let mut resolved: HashMap<String, Result<Target, String>> = HashMap::new();
    let mut planned: Vec<PlannedRow> = Vec::with_capacity(rows.len());
    for row in rows {
        let mut problems: Vec<RowError> = offline.iter().filter(|e| e.line == row.line).cloned().collect();
        let key = row.tenant.clone().or(opts.default_tenant.clone()).unwrap_or_default();
        let mut target = None;
        if !key.is_empty() {
            let k = key.to_ascii_lowercase();
            if !resolved.contains_key(&k) {
                let flag = if row.tenant.is_some() {
                    row.problem(Field::Tenant, "").field
                } else {
                    "--tenant".into()
                };
                let purpose = targets::Purpose::Write {
                    partner_tenant: opts.partner_tenant,
                };
                let r = targets::find_for(s, &key, &flag, purpose)
                    .await
                    .map_err(|e| e.to_string());
                resolved.insert(k.clone(), r);
            }
            match &resolved[&k] {
                Ok(t) => target = Some(t.clone()),
                Err(e) => problems.push(row.problem(Field::Tenant, e.clone())),
            }
        }
        let plan = if problems.is_empty() {
            Ok((UserAction::Create, vec![]))
        } else {
            Err(problems)
        };
        planned.push(PlannedRow {
            password: row.password.clone(),
            row,
            target,
            plan,
        });
    }
    // Group the rows still valid by tenant; refuse whole tenants the role check rules out.
    let mut by_tenant: BTreeMap<TenantId, Vec<usize>> = BTreeMap::new();
    for (i, p) in planned.iter().enumerate() {
        if let (Some(t), true) = (&p.target, p.plan.is_ok()) {
            by_tenant.entry(t.id).or_default().push(i);
        }
    }
    let mut to_read = vec![];
    for (tid, idxs) in &by_tenant {
        let name = planned[idxs[0]]
            .target
            .as_ref()
            .map(|t| t.name.clone())
            .unwrap_or_default();
        match planner::tenant_access(&rels, *tid).problem() {
            Some(msg) => {
                for &i in idxs {
                    planned[i].plan = Err(vec![planned[i].row.problem(Field::Tenant, format!("{name}: {msg}"))]);
                }
            }
            None => to_read.push((*tid, planned[idxs[0]].target.clone().expect("grouped by target"))),
        }
    }
    let graph = s.graph();
    let fetched: Vec<(TenantId, Target, Result<TenantFacts, ApiError>)> = futures::stream::iter(to_read)
        .map(|(tid, t)| {
            let graph = &graph;
            async move {
                let f = facts(graph, &t).await;
                (tid, t, f)
            }
        })
        .buffer_unordered(run.limits.tenants.max(1))
        .collect()
        .await;
    for (tid, t, got) in fetched {
        let idxs = &by_tenant[&tid];
        match got {
            Ok(f) => {
                let rows: Vec<&UserRow> = idxs.iter().map(|&i| &planned[i].row).collect();
                let plans = planner::plan_tenant(&rows, &f, &rels, tid, catalog);
                for (&i, p) in idxs.iter().zip(plans) {
                    planned[i].plan = p;
                }
            }
            Err(e) => {
                let status = classify(&e, &t).status;
                for &i in idxs {
                    planned[i].plan = Err(vec![planned[i]
                        .row
                        .problem(Field::Tenant, format!("{} is not reachable ({status}): {e}", t.name))]);
                }
            }
        }
    }
    Ok(ImportPlan { rows: planned })
}

/// What one tenant holds (three reads in parallel).
async fn facts(graph: &Graph, t: &Target) -> Result<TenantFacts, ApiError> {
    let tid = t.id.to_string();
    let (domains, skus, users) = futures::join!(
        graph.domains(&tid),
        graph.subscribed_skus(&tid),
        graph.existing_users(&tid)
    );
    Ok(TenantFacts {
        name: t.name.clone(),
        verified_domains: domains?
            .into_iter()
            .filter(|d| d.is_verified)
            .map(|d| d.name.to_ascii_lowercase())
            .collect(),
        skus: skus?,
        existing: users?
            .into_iter()
            .map(|u| (u.user_principal_name.to_ascii_lowercase(), directory_user(&u)))
            .collect(),
    })
}

pub(crate) fn directory_user(u: &ExistingUser) -> DirectoryUser {
    DirectoryUser {
        id: u.id.clone(),
        user_principal_name: u.user_principal_name.clone(),
        display_name: u.display_name.clone(),
        usage_location: u.usage_location.clone(),
        skus: u
            .assigned_licenses
            .iter()
            .filter_map(|l| l.sku_id.parse().ok())
            .collect(),
    }
}

/// The result of applying an import.
pub struct ImportOutcome {
    pub summary: Summary,
    /// One result per input row, by line.
    pub results: Vec<ImportResultRow>,
}

impl ImportOutcome {
    /// Rows that ended `failed` or `conflict`.
    pub fn bad(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r.result.as_str(), "failed" | "conflict"))
            .count()
    }
}

/// Applies a plan: rows with problems are reported `failed` (the caller decided to go on),
/// generated passwords are saved (file created new, 0600) before anything is created.
pub async fn apply(s: &Session, mut plan: ImportPlan, opts: &ImportOptions, run: &RunOptions) -> Result<ImportOutcome> {
    let need = plan.need_passwords();
    if !need.is_empty() {
        let Some(path) = &opts.passwords_out else {
            bail!(
                "{} new user(s) have no password (line {}); give --passwords-out FILE to receive generated passwords (written 0600); nothing was changed",
                need.len(),
                need.iter().take(5).map(|l| l.to_string()).collect::<Vec<_>>().join(", ")
            );
        };
        let mut w = csv_text(&["userPrincipalName", "password"]);
        for p in plan.rows.iter_mut().filter(|p| need.contains(&p.row.line)) {
            let pw = generate_password();
            w.push_str(&csv_line(&[&p.row.user_principal_name, &pw]));
            p.password = Some(pw);
        }
        files::create_private_new(path, &w)?;
    }
    let planned = Arc::new(plan.rows);
    let mut results: Vec<ImportResultRow> = vec![];
    let mut by_tenant: BTreeMap<TenantId, Vec<usize>> = BTreeMap::new();
    for (i, p) in planned.iter().enumerate() {
        match &p.plan {
            Ok((UserAction::AlreadyExists, _)) => {
                results.push(p.result("already_existed", "exists with these licences".into()))
            }
            Ok((UserAction::Conflict(m), _)) => results.push(p.result("conflict", m.clone())),
            Err(e) => results.push(p.result("failed", join_problems(e))),
            Ok(_) => by_tenant
                .entry(p.target.as_ref().expect("planned rows have a tenant").id)
                .or_default()
                .push(i),
        }
    }
    let todo: Vec<Target> = by_tenant
        .values()
        .map(|idxs| planned[idxs[0]].target.clone().expect("tenant"))
        .collect();
    let by_tenant = Arc::new(by_tenant);
    let graph = s.graph();
    let force = opts.force_change_password;
    let summary = crate::list::fan_out(
        s,
        todo,
        run,
        |ctx: Arc<TenantCtx<ImportResultRow>>| {
            let (graph, planned, by_tenant) = (graph.clone(), planned.clone(), by_tenant.clone());
            async move {
                let mine = &by_tenant[&ctx.target.id];
                let tid = ctx.target.id.to_string();
                let outcomes = futures::future::join_all(mine.iter().map(|&i| {
                    let (graph, planned, ctx, tid) = (&graph, &planned, &ctx, &tid);
                    async move {
                        let _permit = ctx.permit().await;
                        (i, apply_row(graph, tid, &planned[i], force).await)
                    }
                }))
                .await;
                let mut first_err = None;
                for (i, r) in outcomes {
                    match r {
                        Ok((res, detail)) => ctx.emit(planned[i].result(res, detail)),
                        Err(e) => {
                            ctx.emit(planned[i].result("failed", e.to_string()));
                            first_err.get_or_insert(e);
                        }
                    }
                }
                first_err.map_or(Ok(()), Err)
            }
        },
        |r| {
            if r.outcome.status == TenantStatus::Cancelled {
                for &i in &by_tenant[&r.target.id] {
                    results
                        .push(planned[i].result("cancelled", "the run was stopped before this row was applied".into()));
                }
            } else {
                results.extend(r.items);
            }
            Flow::Continue
        },
    )
    .await;
    results.sort_by_key(|r| r.line);
    Ok(ImportOutcome { summary, results })
}

fn csv_text(header: &[&str]) -> String {
    csv_line(header)
}

fn csv_line(fields: &[&str]) -> String {
    let mut w = csv::WriterBuilder::new().from_writer(vec![]);
    w.write_record(fields).expect("writing to memory");
    String::from_utf8(w.into_inner().expect("in memory")).expect("utf-8 in, utf-8 out")
}

/// Creates (or licenses) one user. A lost answer is resolved by reading the user back.
async fn apply_row(graph: &Graph, tid: &str, p: &PlannedRow, force: bool) -> Result<(&'static str, String), ApiError> {
    let upn = &p.row.user_principal_name;
    let (action, skus) = p.plan.as_ref().expect("only planned rows are applied");
    match action {
        UserAction::AddLicences {
            missing,
            set_usage_location,
        } => {
            if *set_usage_location {
                if let Some(loc) = &p.row.usage_location {
                    graph
                        .update_user(tid, upn, &serde_json::json!({ "usageLocation": loc }))
                        .await?;
                }
            }
            let add: Vec<(SkuId, Vec<String>)> = missing.iter().map(|s| (*s, vec![])).collect();
            let lost = crate::licences::assign_resolving(graph, tid, upn, &add, &[]).await?;
            let mut detail = format!("existed; {} licence(s) assigned", missing.len());
            if !lost.is_empty() {
                detail = format!("{detail} ({lost})");
            }
            Ok(("licensed", detail))
        }
        UserAction::Create => create(graph, tid, p, skus, force).await,
        UserAction::AlreadyExists | UserAction::Conflict(_) => Ok(("already_existed", String::new())),
    }
}

async fn create(
    graph: &Graph,
    tid: &str,
    p: &PlannedRow,
    skus: &[SkuId],
    force: bool,
) -> Result<(&'static str, String), ApiError> {
    let upn = &p.row.user_principal_name;
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
            let lost = answer_lost(&e);
            let dup = already_exists(&e);
            if !(lost || dup) {
                return Err(e);
            }
            // Did the create happen after all (or did someone else create it)?
            match graph.find_user(tid, upn).await? {
                Some(u) if planner::same_name(&p.row.display_name, u.display_name.as_deref()) => {
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
                // Not created: one more attempt is safe.
                None if lost => graph.create_user(tid, &new).await?,
                None => return Err(e),
            }
        }
    };
    let missing: Vec<(SkuId, Vec<String>)> = skus
        .iter()
        .filter(|s| !user.has_sku(**s))
        .map(|s| (*s, vec![]))
        .collect();
    if !missing.is_empty() {
        let lost = crate::licences::assign_resolving(graph, tid, &user.id, &missing, &[]).await?;
        if !lost.is_empty() && detail.is_empty() {
            detail = format!("licences: {lost}");
        }
    }
    Ok(("created", detail))
}

/// The request may have reached the service: the answer was lost or the service failed.
fn answer_lost(e: &ApiError) -> bool {
    e.outcome_unknown()
}

/// Graph's answer to a create whose UPN is taken (typed: `ApiError::is_already_exists`).
fn already_exists(e: &ApiError) -> bool {
    e.is_already_exists()
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
        }
    }
}
