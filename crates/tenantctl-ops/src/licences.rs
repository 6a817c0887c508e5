//! `licenses assign|remove` (one change, or many from a CSV): planned like the import (every
//! problem at once), applied per tenant through the same parallel fan-out.

use crate::session::{RunOptions, Session};
use crate::targets;
use anyhow::Result;
use futures::StreamExt;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tenantctl_clients::Graph;
use tenantctl_core::bulk::RowError;
use tenantctl_core::licences::LicenceCatalog;
use tenantctl_core::models::SkuUsage;
use tenantctl_core::plan::access::{self, Need};
use tenantctl_core::plan::licences::{self as planner, LicField, LicenceAction, LicenceRow};
use tenantctl_core::tables::LicenceResultRow;
use tenantctl_core::{SkuId, TenantId, TenantStatus};
use tenantctl_fanout::{Flow, Summary, Target, TenantCtx};
use tenantctl_transport::api::ApiError;
use tokio::sync::Semaphore;

/// One change with its tenant and plan.
#[derive(Clone, Debug)]
pub struct PlannedChange {
    pub row: LicenceRow,
    pub target: Option<Target>,
    pub plan: Result<LicenceAction, Vec<RowError>>,
}

impl PlannedChange {
    fn result(&self, result: &str, detail: String) -> LicenceResultRow {
        LicenceResultRow {
            line: self.row.line,
            tenant_id: self.target.as_ref().map(|t| t.id.to_string()),
            tenant_name: self
                .target
                .as_ref()
                .map(|t| t.name.clone())
                .or_else(|| self.row.tenant.clone())
                .unwrap_or_default(),
            user_principal_name: self.row.user.clone(),
            sku: self.row.sku.clone(),
            result: result.to_owned(),
            detail,
        }
    }

    fn writes(&self) -> bool {
        matches!(
            self.plan,
            Ok(LicenceAction::Assign { .. } | LicenceAction::Remove { .. })
        )
    }
}

#[derive(Clone, Debug)]
pub struct LicencePlan {
    pub changes: Vec<PlannedChange>,
}

impl LicencePlan {
    pub fn problems(&self) -> Vec<RowError> {
        let mut v: Vec<RowError> = self
            .changes
            .iter()
            .filter_map(|c| c.plan.as_ref().err())
            .flatten()
            .cloned()
            .collect();
        v.sort_by_key(|e| e.line);
        v
    }

    /// Changes that will write, and the tenants they are in.
    pub fn scope(&self) -> (usize, usize) {
        let w: Vec<&PlannedChange> = self.changes.iter().filter(|c| c.writes()).collect();
        let t: std::collections::HashSet<TenantId> = w.iter().filter_map(|c| c.target.as_ref().map(|t| t.id)).collect();
        (w.len(), t.len())
    }

    pub fn preview(&self) -> Vec<LicenceResultRow> {
        self.changes
            .iter()
            .map(|c| match &c.plan {
                Ok(LicenceAction::Assign { .. }) => c.result("planned", "assign".into()),
                Ok(LicenceAction::Remove { .. }) => c.result("planned", "remove".into()),
                Ok(LicenceAction::Nothing(r, d)) => c.result(r, d.clone()),
                Err(e) => c.result("failed", join(e)),
            })
            .collect()
    }
}

fn join(e: &[RowError]) -> String {
    e.iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// One change's plan, with its tenant's SKUs when they could be read.
type Planned = (usize, Result<LicenceAction, RowError>, Option<Vec<SkuUsage>>);

/// Plans every change: reads each tenant's SKUs once and each user, in parallel.
pub async fn plan(
    s: &Session,
    rows: Vec<LicenceRow>,
    default_tenant: Option<&str>,
    assign: bool,
    partner_tenant: bool,
    run: &RunOptions,
) -> Result<LicencePlan> {
    let catalog = LicenceCatalog::builtin();
    let offline = planner::check_offline(&rows, default_tenant, catalog);
    let rels = s.customers().await?.relationships.clone();
    let mut resolved: HashMap<String, Result<Target, String>> = HashMap::new();
    let mut changes = vec![];
    for row in rows {
        let mut problems: Vec<RowError> = offline.iter().filter(|e| e.line == row.line).cloned().collect();
        let key = row
            .tenant
            .clone()
            .or(default_tenant.map(str::to_owned))
            .unwrap_or_default();
        let mut target = None;
        if !key.is_empty() {
            let k = key.to_ascii_lowercase();
            if !resolved.contains_key(&k) {
                let flag = if row.tenant.is_some() {
                    LicField::Tenant.name(row.source)
                } else {
                    "--tenant"
                };
                let purpose = targets::Purpose::Write { partner_tenant };
                resolved.insert(
                    k.clone(),
                    targets::find_for(s, &key, flag, purpose)
                        .await
                        .map_err(|e| e.to_string()),
                );
            }
            match &resolved[&k] {
                Ok(t) => {
                    if let Some(msg) = access::check(&rels, t.id, Need::ManageLicences).problem() {
                        problems.push(row.problem(LicField::Tenant, format!("{}: {msg}", t.name)));
                    }
                    target = Some(t.clone());
                }
                Err(e) => problems.push(row.problem(LicField::Tenant, e.clone())),
            }
        }
        let plan = if problems.is_empty() {
            Ok(LicenceAction::Nothing("", String::new()))
        } else {
            Err(problems)
        };
        changes.push(PlannedChange { row, target, plan });
    }
    let mut by_tenant: BTreeMap<TenantId, Vec<usize>> = BTreeMap::new();
    for (i, c) in changes.iter().enumerate() {
        if let (Some(t), true) = (&c.target, c.plan.is_ok()) {
            by_tenant.entry(t.id).or_default().push(i);
        }
    }
    let graph = s.graph();
    let per_tenant = run.limits.per_tenant.max(1);
    let planned: Vec<Planned> = {
        let changes = &changes;
        futures::stream::iter(by_tenant.values())
            .map(|idxs| {
                let graph = &graph;
                async move { plan_tenant(graph, changes, idxs, assign, per_tenant, catalog).await }
            })
            .buffer_unordered(run.limits.tenants.max(1))
            .flat_map(futures::stream::iter)
            .collect()
            .await
    };
    let mut skus_of: HashMap<TenantId, Vec<SkuUsage>> = HashMap::new();
    for (i, plan, skus) in planned {
        if let (Some(t), Some(skus)) = (&changes[i].target, skus) {
            skus_of.entry(t.id).or_insert(skus);
        }
        changes[i].plan = plan.map_err(|e| vec![e]);
    }
    let rows: Vec<LicenceRow> = changes.iter().map(|c| c.row.clone()).collect();
    let actions: Vec<(usize, TenantId, &LicenceAction)> = changes
        .iter()
        .enumerate()
        .filter_map(|(i, c)| Some((i, c.target.as_ref()?.id, c.plan.as_ref().ok()?)))
        .collect();
    let names: HashMap<TenantId, String> = changes
        .iter()
        .filter_map(|c| c.target.as_ref())
        .map(|t| (t.id, t.name.clone()))
        .collect();
    let over = planner::check_units(&rows, &actions, &|k| skus_of.get(k).cloned(), &|k| {
        names.get(k).cloned().unwrap_or_default()
    });
    for (i, e) in over {
        changes[i].plan = Err(vec![e]);
    }
    Ok(LicencePlan { changes })
}

/// Plans one tenant's changes: its SKUs once, each user (per-tenant limit) in parallel.
async fn plan_tenant(
    graph: &Graph,
    changes: &[PlannedChange],
    idxs: &[usize],
    assign: bool,
    per_tenant: usize,
    catalog: &LicenceCatalog,
) -> Vec<Planned> {
    let t = changes[idxs[0]].target.clone().expect("grouped by target");
    let tid = t.id.to_string();
    let skus = match graph.subscribed_skus(&tid).await {
        Ok(s) => s,
        Err(e) => {
            return idxs
                .iter()
                .map(|&i| {
                    (
                        i,
                        Err(changes[i]
                            .row
                            .problem(LicField::Tenant, format!("{} is not reachable: {e}", t.name))),
                        None,
                    )
                })
                .collect()
        }
    };
    let limit = Semaphore::new(per_tenant);
    let out = futures::future::join_all(idxs.iter().map(|&i| {
        let (limit, skus, t, tid) = (&limit, &skus, &t, &tid);
        async move {
            let _p = limit.acquire().await.expect("never closed");
            let r = &changes[i].row;
            let plan = match graph.find_user(tid, &r.user).await {
                Ok(u) => {
                    let u = u.as_ref().map(crate::import::directory_user);
                    planner::plan_row(r, &t.name, skus, u.as_ref(), assign, catalog)
                }
                Err(e) => Err(r.problem(LicField::User, format!("{}: {e}", t.name))),
            };
            (i, plan)
        }
    }))
    .await;
    out.into_iter().map(|(i, p)| (i, p, Some(skus.clone()))).collect()
}

pub struct LicenceOutcome {
    pub summary: Summary,
    pub results: Vec<LicenceResultRow>,
}

impl LicenceOutcome {
    pub fn bad(&self) -> usize {
        self.results.iter().filter(|r| r.result == "failed").count()
    }
}

/// Applies the writing changes per tenant, in parallel; the others are reported as planned.
pub async fn apply(s: &Session, plan: LicencePlan, run: &RunOptions) -> LicenceOutcome {
    let changes = Arc::new(plan.changes);
    let mut results = vec![];
    let mut by_tenant: BTreeMap<TenantId, Vec<usize>> = BTreeMap::new();
    for (i, c) in changes.iter().enumerate() {
        match &c.plan {
            Ok(LicenceAction::Nothing(r, d)) => results.push(c.result(r, d.clone())),
            Err(e) => results.push(c.result("failed", join(e))),
            Ok(_) => by_tenant
                .entry(c.target.as_ref().expect("tenant").id)
                .or_default()
                .push(i),
        }
    }
    let todo: Vec<Target> = by_tenant
        .values()
        .map(|v| changes[v[0]].target.clone().expect("tenant"))
        .collect();
    let by_tenant = Arc::new(by_tenant);
    let graph = s.graph();
    let summary = crate::list::fan_out(
        s,
        todo,
        run,
        |ctx: Arc<TenantCtx<LicenceResultRow>>| {
            let (graph, changes, by_tenant) = (graph.clone(), changes.clone(), by_tenant.clone());
            async move {
                let tid = ctx.target.id.to_string();
                let done = futures::future::join_all(by_tenant[&ctx.target.id].iter().map(|&i| {
                    let (graph, changes, ctx, tid) = (&graph, &changes, &ctx, &tid);
                    async move {
                        let _p = ctx.permit().await;
                        let c = &changes[i];
                        let r = match c.plan.as_ref().expect("writing plan") {
                            LicenceAction::Assign { sku, disabled_plans } => {
                                assign_resolving(graph, tid, &c.row.user, &[(*sku, disabled_plans.clone())], &[])
                                    .await
                                    .map(|d| ("assigned", d))
                            }
                            LicenceAction::Remove { sku } => assign_resolving(graph, tid, &c.row.user, &[], &[*sku])
                                .await
                                .map(|d| ("removed", d)),
                            LicenceAction::Nothing(r, _) => Ok((*r, String::new())),
                        };
                        (i, r)
                    }
                }))
                .await;
                let mut first = None;
                for (i, r) in done {
                    match r {
                        Ok((word, detail)) => ctx.emit(changes[i].result(word, detail)),
                        Err(e) => {
                            ctx.emit(changes[i].result("failed", e.to_string()));
                            first.get_or_insert(e);
                        }
                    }
                }
                first.map_or(Ok(()), Err)
            }
        },
        |r| {
            if r.outcome.status == TenantStatus::Cancelled {
                for &i in &by_tenant[&r.target.id] {
                    results.push(changes[i].result("cancelled", "the run was stopped before this change".into()));
                }
            } else {
                results.extend(r.items);
            }
            Flow::Continue
        },
    )
    .await;
    results.sort_by_key(|r| r.line);
    LicenceOutcome { summary, results }
}

/// `assignLicense`, with a lost answer (timeout, reset, 5xx out of retries) resolved by reading
/// the user back, as creates are: when the user already holds what was added and none of what
/// was removed, the change happened (the detail says so); otherwise the error stands and
/// nothing is claimed (probe D13: five licences assigned but reported `failed`).
pub(crate) async fn assign_resolving(
    graph: &Graph,
    tenant: &str,
    user: &str,
    add: &[(SkuId, Vec<String>)],
    remove: &[SkuId],
) -> Result<String, ApiError> {
    match graph.assign_license(tenant, user, add, remove).await {
        Ok(()) => Ok(String::new()),
        Err(e) if e.outcome_unknown() => match graph.find_user(tenant, user).await {
            Ok(Some(u)) if add.iter().all(|(s, _)| u.has_sku(*s)) && remove.iter().all(|s| !u.has_sku(*s)) => {
                Ok("the answer was lost; the user was read back with the change made".into())
            }
            _ => Err(e),
        },
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use axum::routing::{get, post};
    use axum::{Json, Router};
    use parking_lot::Mutex;
    use serde_json::json;
    use std::time::{Duration, SystemTime};
    use tenantctl_transport::api::Api;
    use tenantctl_transport::clock::ManualClock;
    use tenantctl_transport::cloud::Endpoints;
    use tenantctl_transport::http::Executor;
    use tenantctl_transport::token::{Credential, Secret, TokenProvider};

    const SKU: &str = "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46";

    /// A Graph whose `assignLicense` applies the change and then fails every time (503), as
    /// when every answer is lost; the user reads back with what was applied.
    #[derive(Default)]
    struct Lossy {
        assigned: Mutex<bool>,
        posts: Mutex<u32>,
    }

    async fn start(s: Arc<Lossy>) -> String {
        let app = Router::new()
            .route(
                "/login/{t}/oauth2/v2.0/token",
                post(|| async { Json(json!({"token_type":"Bearer","expires_in":3600,"access_token":"at"})) }),
            )
            .route(
                "/graph/v1.0/users/{u}/assignLicense",
                post(|State(s): State<Arc<Lossy>>| async move {
                    *s.assigned.lock() = true;
                    *s.posts.lock() += 1;
                    (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"error":{"code":"serviceNotAvailable","message":"try later"}}))).into_response()
                }),
            )
            .route(
                "/graph/v1.0/users/{u}",
                get(|State(s): State<Arc<Lossy>>| async move {
                    let lic = if *s.assigned.lock() { json!([{"skuId": SKU, "disabledPlans": []}]) } else { json!([]) };
                    Json(json!({"id":"87d349ed-44d7-43e1-9a83-5f2406dee5bd","userPrincipalName":"a@contoso.com","assignedLicenses": lic}))
                }),
            )
            .with_state(s);
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        base
    }

    /// Probe D13: with every `assignLicense` answer lost, five licences were assigned but
    /// reported `failed`. The user is read back: the change is found made.
    #[tokio::test]
    async fn a_licence_change_whose_answers_are_lost_is_resolved_by_reading_the_user_back() {
        let lossy = Arc::new(Lossy::default());
        let base = start(lossy.clone()).await;
        let clock = ManualClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_028_800));
        // The retries' waits pass on the manual clock.
        let c = clock.clone();
        tokio::spawn(async move {
            loop {
                c.wait_for_sleepers(1).await;
                c.advance(Duration::from_secs(60));
                tokio::task::yield_now().await;
            }
        });
        let exec = Executor::builder().clock(clock.shared()).build().unwrap();
        let credential = Credential::ClientSecret {
            client_id: "11111111-2222-3333-4444-555555555555".into(),
            secret: Secret::new("s"),
        };
        let tokens = TokenProvider::new(Endpoints::custom(&base).unwrap(), credential, exec.clone());
        let graph = Graph::new(Api::new(exec, Arc::new(tokens)));
        let sku: SkuId = SKU.parse().unwrap();
        let detail = assign_resolving(
            &graph,
            "contoso.onmicrosoft.com",
            "a@contoso.com",
            &[(sku, vec![])],
            &[],
        )
        .await
        .unwrap();
        assert!(detail.contains("read back with the change made"), "{detail}");
        assert!(*lossy.posts.lock() > 1, "the write was retried before reading back");

        // A removal whose answers are lost and which did not happen stays an error.
        *lossy.assigned.lock() = true;
        let e = assign_resolving(&graph, "contoso.onmicrosoft.com", "a@contoso.com", &[], &[sku]).await;
        assert!(e.is_err(), "the licence is still there: not claimed removed");
    }
}
