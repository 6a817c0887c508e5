//! The read operations: customers, relationships, domains, users, licences. Per-tenant ones
//! run through the fan-out and hand each finished tenant's typed rows to `on_done`.

use crate::errors::classify;
use crate::session::{RunOptions, Session};
use crate::targets::{self, Selection};
use anyhow::{bail, Result};
use futures::TryStreamExt;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use tenantctl_clients::customers::Source;
use tenantctl_clients::graph::UserQuery;
use tenantctl_core::licences::LicenceCatalog;
use tenantctl_core::tables::{CustomerRow, DomainRow, RelationshipRow, SkuRow, UserListRow, UserRows};
use tenantctl_core::SkuId;
use tenantctl_fanout::{Flow, Summary, Target, Targets, TenantCtx, TenantResult};
use tenantctl_transport::api::ApiError;
use time::OffsetDateTime;

/// Runs a per-tenant Graph operation over `targets` with the service error classifier.
pub async fn fan_out<R, F, Fut>(
    s: &Session,
    targets: impl Into<Targets>,
    run: &RunOptions,
    op: F,
    on_done: impl FnMut(TenantResult<R>) -> Flow,
) -> Summary
where
    F: Fn(Arc<TenantCtx<R>>) -> Fut,
    Fut: Future<Output = Result<(), ApiError>>,
{
    tenantctl_fanout::run(targets, run.limits, s.api().clock(), classify, &run.stop, op, on_done).await
}

/// `customers list`: every customer. With `current_domains`, each tenant's current default
/// domain is read (one request per tenant, through the fan-out); a tenant that cannot be read
/// keeps the copy `/contracts` took when the partnership began, and its status says why.
pub async fn customers(
    s: &Session,
    source: Source,
    current_domains: bool,
    run: &RunOptions,
    mut on_done: impl FnMut(TenantResult<CustomerRow>) -> Flow,
) -> Result<Summary> {
    let list = match source {
        Source::Graph => s.customers().await?.clone(),
        other => s.read_customers(other).await?,
    };
    let by_id: Arc<HashMap<_, _>> = Arc::new(list.customers.iter().map(|c| (c.tenant_id, c.clone())).collect());
    let targets: Vec<Target> = list.customers.iter().map(targets::target_of).collect();
    let graph = s.graph();
    Ok(fan_out(
        s,
        targets,
        run,
        |ctx: Arc<TenantCtx<CustomerRow>>| {
            let (graph, by_id) = (graph.clone(), by_id.clone());
            async move {
                let c = &by_id[&ctx.target.id];
                if !current_domains {
                    ctx.emit(CustomerRow::new(c, None));
                    return Ok(());
                }
                let read = {
                    let _p = ctx.permit().await;
                    graph.domains(&ctx.target.id.to_string()).await
                };
                let domains = read?;
                let default = domains.into_iter().find(|d| d.is_default).map(|d| d.name);
                ctx.emit(CustomerRow::new(c, default));
                Ok(())
            }
        },
        |mut r| {
            // A customer whose domains could not be read is still listed (with the stored
            // domain); its status says why.
            if r.items.is_empty() && r.outcome.status != tenantctl_core::TenantStatus::Cancelled {
                r.items.push(CustomerRow::new(&by_id[&r.target.id], None));
                r.outcome.rows = 1;
            }
            on_done(r)
        },
    )
    .await)
}

/// `relationships list`: GDAP relationships, of the selected customers (or all), sorted by
/// customer then end date.
pub async fn relationships(s: &Session, sel: &Selection, now: OffsetDateTime) -> Result<Vec<RelationshipRow>> {
    let list = s.customers().await?;
    let mut rels = list.relationships.clone();
    if !sel.tenants.is_empty() || !sel.exclude.is_empty() || sel.all {
        let all = Selection {
            all: sel.tenants.is_empty(),
            ..sel.clone()
        };
        let wanted: HashSet<_> = targets::select(s, &all).await?.into_iter().map(|t| t.id).collect();
        rels.retain(|r| wanted.contains(&r.customer_tenant_id));
    }
    rels.sort_by(|a, b| {
        a.customer_name
            .to_lowercase()
            .cmp(&b.customer_name.to_lowercase())
            .then(a.end.cmp(&b.end))
    });
    Ok(rels.iter().map(|r| RelationshipRow::new(r, now)).collect())
}

/// `domains list`.
pub async fn domains(
    s: &Session,
    targets: impl Into<Targets>,
    run: &RunOptions,
    on_done: impl FnMut(TenantResult<DomainRow>) -> Flow,
) -> Summary {
    let graph = s.graph();
    fan_out(
        s,
        targets,
        run,
        |ctx: Arc<TenantCtx<DomainRow>>| {
            let graph = graph.clone();
            async move {
                let domains = {
                    let _p = ctx.permit().await;
                    graph.domains(&ctx.target.id.to_string()).await?
                };
                for d in &domains {
                    ctx.emit(DomainRow::from(d));
                }
                Ok(())
            }
        },
        on_done,
    )
    .await
}

/// `licenses list`.
pub async fn licences(
    s: &Session,
    targets: impl Into<Targets>,
    run: &RunOptions,
    on_done: impl FnMut(TenantResult<SkuRow>) -> Flow,
) -> Summary {
    let graph = s.graph();
    let catalog = LicenceCatalog::builtin();
    fan_out(
        s,
        targets,
        run,
        |ctx: Arc<TenantCtx<SkuRow>>| {
            let graph = graph.clone();
            async move {
                let skus = {
                    let _p = ctx.permit().await;
                    graph.subscribed_skus(&ctx.target.id.to_string()).await?
                };
                for sku in &skus {
                    ctx.emit(SkuRow::new(sku, catalog));
                }
                Ok(())
            }
        },
        on_done,
    )
    .await
}

/// A SKU as the user named it.
#[derive(Clone, Debug, PartialEq)]
pub enum SkuArg {
    Id(SkuId),
    Part(String),
}

impl SkuArg {
    /// A skuId or a part number Microsoft's table knows.
    pub fn parse(s: &str) -> Result<SkuArg> {
        if let Ok(id) = s.parse::<SkuId>() {
            return Ok(SkuArg::Id(id));
        }
        if LicenceCatalog::builtin().by_part_number(s).is_some() {
            return Ok(SkuArg::Part(s.to_owned()));
        }
        bail!("--sku '{s}': not a skuId (GUID) nor a known SKU part number (e.g. SPB, O365_BUSINESS_PREMIUM); `tenantctl licenses list` shows each tenant's")
    }
}

/// `users list` filters.
#[derive(Clone, Debug, Default)]
pub struct UsersQuery {
    /// OData `$filter` passed to Graph.
    pub filter: Option<String>,
    pub licensed: bool,
    pub unlicensed: bool,
    pub sku: Option<SkuArg>,
}

/// `users list`: users and their licences (part numbers and friendly names).
pub async fn users(
    s: &Session,
    targets: impl Into<Targets>,
    q: UsersQuery,
    run: &RunOptions,
    on_done: impl FnMut(TenantResult<UserListRow>) -> Flow,
) -> Summary {
    let graph = s.graph();
    let catalog = LicenceCatalog::builtin();
    // A tenant's size is its users (all of them: no filter).
    let sized = q.filter.is_none() && !q.licensed && !q.unlicensed && q.sku.is_none();
    let q = Arc::new(q);
    let summary = fan_out(
        s,
        targets,
        run,
        |ctx: Arc<TenantCtx<UserListRow>>| {
            let (graph, q) = (graph.clone(), q.clone());
            async move {
                let tid = ctx.target.id.to_string();
                let query = UserQuery {
                    filter: q.filter.clone(),
                };
                // One request at a time: the users' pages, and the tenant's SKUs only when
                // they are needed (issue 13): for `--sku <part number>`, or for a skuId
                // Microsoft's table doesn't know (its part number comes from the tenant).
                let _p = ctx.permit().await;
                let mut rows = UserRows::new(catalog);
                let wanted: Option<SkuId> = match &q.sku {
                    None => None,
                    Some(SkuArg::Id(id)) => Some(*id),
                    Some(SkuArg::Part(p)) => {
                        let skus = graph.subscribed_skus(&tid).await?;
                        let found = skus
                            .iter()
                            .find(|s| s.part_number.eq_ignore_ascii_case(p))
                            .map(|s| s.sku_id);
                        rows.set_parts(skus.into_iter().map(|s| (s.sku_id, s.part_number)).collect());
                        // The tenant doesn't have that SKU: nobody holds it.
                        let Some(id) = found else { return Ok(()) };
                        Some(id)
                    }
                };
                let mut pages = std::pin::pin!(graph.users(&tid, &query));
                while let Some(page) = pages.try_next().await? {
                    let unknown = |u: &tenantctl_core::models::UserInfo| {
                        u.licences.iter().any(|s| catalog.by_sku_id(*s).is_none())
                    };
                    if !rows.has_parts() && page.iter().any(unknown) {
                        let skus = graph.subscribed_skus(&tid).await?;
                        rows.set_parts(skus.into_iter().map(|s| (s.sku_id, s.part_number)).collect());
                    }
                    ctx.reserve_exact(page.len());
                    for u in page {
                        if (q.licensed && u.licences.is_empty())
                            || (q.unlicensed && !u.licences.is_empty())
                            || wanted.is_some_and(|w| !u.licences.contains(&w))
                        {
                            continue;
                        }
                        ctx.emit(rows.row(u));
                    }
                }
                Ok(())
            }
        },
        on_done,
    )
    .await;
    if sized {
        s.sizes().record(crate::sizes::USERS, &summary);
    }
    summary
}
