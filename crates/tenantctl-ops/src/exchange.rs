//! Exchange Online in every customer: any cmdlet (`exo`), and the typed mailbox views
//! (`mailboxes list`, `mailboxes stale`) built on `Get-Mailbox` + `Get-MailboxStatistics`.
//!
//! Each tenant is checked against the partner's GDAP roles first (Exchange's role groups:
//! Global Reader may run `Get-*`, writes need Exchange Administrator): a tenant the roles
//! cannot cover ends `role_missing`/`relationship_expired` without a request. Requests per
//! tenant are capped by the run's `per_tenant` limit, which the CLI sets to Exchange's
//! concurrency budget (Exchange refuses more concurrent requests per tenant).

use crate::errors::classify;
use crate::session::{RunOptions, Session};
use futures::{StreamExt, TryStreamExt};
use serde_json::{Map, Value};
use std::fmt;
use std::sync::Arc;
use tenantctl_clients::exchange::{
    describe, exception_parts, statistics_cmdlet, statistics_of, Cmdlet, Exchange, WireStatistics, BATCH_SIZE,
};
use tenantctl_core::exchange::{is_stale, Mailbox, MailboxStatistics};
use tenantctl_core::plan::access::{self, Access, Need};
use tenantctl_core::tables::{MailboxRow, StaleMailboxRow};
use tenantctl_core::TenantStatus;
use tenantctl_fanout::{Flow, Summary, Target, TenantCtx, TenantResult, Verdict};
use tenantctl_transport::api::ApiError;
use time::OffsetDateTime;

/// Exchange's concurrent-request budget per tenant that tenantctl keeps to by default.
pub const DEFAULT_PER_TENANT: usize = 3;

/// Why a tenant's Exchange work failed.
#[derive(Debug)]
pub enum Failure {
    /// The service (or the token) refused or failed.
    Api(ApiError),
    /// The partner's GDAP roles do not allow it: not sent.
    Refused(TenantStatus, String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Api(e) if is_command_not_found(e) => write!(
                f,
                "{} (Exchange answers this for a cmdlet that does not exist, and for one the account's roles do not include)",
                describe(e)
            ),
            Failure::Api(e) => f.write_str(&describe(e)),
            Failure::Refused(_, why) => f.write_str(why),
        }
    }
}

/// PowerShell's "The term '…' is not recognized": an unknown cmdlet, or one outside the
/// caller's role-scoped session (Exchange cannot tell them apart for us).
fn is_command_not_found(e: &ApiError) -> bool {
    matches!(e, ApiError::Http { message, .. }
        if exception_parts(message).is_some_and(|(_, kind, _)| kind.ends_with("CommandNotFoundException")))
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Failure {
        Failure::Api(e)
    }
}

fn classify_failure(e: &Failure, t: &Target) -> Verdict {
    match e {
        // Most often a misspelt cmdlet (the GDAP role check ran before): not `role_missing`.
        Failure::Api(e) if is_command_not_found(e) => Verdict::tenant(TenantStatus::Error),
        Failure::Api(e) => classify(e, t),
        Failure::Refused(status, _) => Verdict::tenant(*status),
    }
}

async fn fan_out<R, F, Fut>(
    s: &Session,
    targets: Vec<Target>,
    run: &RunOptions,
    op: F,
    on_done: impl FnMut(TenantResult<R>) -> Flow,
) -> Summary
where
    F: Fn(Arc<TenantCtx<R>>) -> Fut,
    Fut: std::future::Future<Output = Result<(), Failure>>,
{
    tenantctl_fanout::run(
        targets,
        run.limits,
        s.api().clock(),
        classify_failure,
        &run.stop,
        op,
        on_done,
    )
    .await
}

/// The role check of `need` in each target, from the partner's GDAP relationships (none
/// known, as with app-only access: the service decides).
async fn access_map(
    s: &Session,
    targets: &[Target],
    need: Need,
) -> anyhow::Result<Arc<std::collections::HashMap<tenantctl_core::TenantId, Access>>> {
    let rels = &s.customers().await?.relationships;
    Ok(Arc::new(
        targets
            .iter()
            .map(|t| (t.id, access::check(rels, t.id, need)))
            .collect(),
    ))
}

fn refused(a: Option<&Access>) -> Result<(), Failure> {
    match a {
        Some(a) => match (a.status(), a.problem()) {
            (Some(status), Some(why)) => Err(Failure::Refused(status, why)),
            _ => Ok(()),
        },
        None => Ok(()),
    }
}

/// One output item of `exo`: a row of the cmdlet's output, or one of Exchange's warnings.
#[derive(Clone, Debug, PartialEq)]
pub enum ExoItem {
    Row(Map<String, Value>),
    Warning(String),
}

/// What `exo` runs.
#[derive(Clone, Debug)]
pub struct CmdletRun {
    pub cmdlet: Cmdlet,
    /// `?$select=` (the properties to return), when the output names its columns.
    pub select: Option<String>,
}

impl CmdletRun {
    /// What the GDAP roles must allow.
    pub fn need(&self) -> Need {
        if self.cmdlet.read_only {
            Need::ExchangeRead
        } else {
            Need::ExchangeWrite
        }
    }
}

/// `exo`: runs one cmdlet in each target, rows and warnings per tenant, pages read to the end.
pub async fn run_cmdlet(
    s: &Session,
    targets: Vec<Target>,
    what: CmdletRun,
    run: &RunOptions,
    mut on_done: impl FnMut(TenantResult<ExoItem>) -> Flow,
) -> anyhow::Result<Summary> {
    let access = access_map(s, &targets, what.need()).await?;
    let exo = Exchange::new(s.api().clone());
    let what = Arc::new(what);
    let mut rows_of: std::collections::HashMap<tenantctl_core::TenantId, u64> = Default::default();
    let mut summary = fan_out(
        s,
        targets,
        run,
        |ctx: Arc<TenantCtx<ExoItem>>| {
            let (exo, what, access) = (exo.clone(), what.clone(), access.clone());
            async move {
                refused(access.get(&ctx.target.id))?;
                let tid = ctx.target.id.to_string();
                let _p = ctx.permit().await;
                let pages = exo.invoke::<Map<String, Value>>(&tid, &what.cmdlet, what.select.as_deref());
                futures::pin_mut!(pages);
                while let Some(page) = pages.try_next().await? {
                    for w in page.warnings {
                        ctx.emit(ExoItem::Warning(w));
                    }
                    for r in page.rows {
                        ctx.emit(ExoItem::Row(r));
                    }
                }
                Ok(())
            }
        },
        |mut r: TenantResult<ExoItem>| {
            // Warnings are not rows.
            r.outcome.rows = r.items.iter().filter(|i| matches!(i, ExoItem::Row(_))).count() as u64;
            rows_of.insert(r.target.id, r.outcome.rows);
            on_done(r)
        },
    )
    .await;
    for o in &mut summary.outcomes {
        if let Some(n) = rows_of.get(&o.tenant_id) {
            o.rows = *n;
        }
    }
    Ok(summary)
}

/// A tenant's mailboxes with their statistics (`Err` = why a mailbox's statistics are
/// missing), statistics read [`BATCH_SIZE`] per `$batch`, the batches within the tenant's
/// request budget.
async fn mailboxes_with_statistics<R>(
    exo: &Exchange,
    ctx: &TenantCtx<R>,
) -> Result<Vec<(Mailbox, Result<MailboxStatistics, ApiError>)>, ApiError> {
    let tid = ctx.target.id.to_string();
    let (mailboxes, _warnings) = {
        let _p = ctx.permit().await;
        exo.mailboxes(&tid).await?
    };
    let ids: Vec<String> = mailboxes
        .iter()
        .map(|m| {
            if m.user_principal_name.is_empty() {
                m.primary_smtp_address.clone()
            } else {
                m.user_principal_name.clone()
            }
        })
        .collect();
    let chunks: Vec<Vec<String>> = ids.chunks(BATCH_SIZE).map(<[String]>::to_vec).collect();
    let answers: Vec<Vec<Result<MailboxStatistics, ApiError>>> = futures::stream::iter(chunks)
        .map(|chunk| {
            let tid = tid.clone();
            async move {
                let cmdlets: Vec<Cmdlet> = chunk.iter().map(|id| statistics_cmdlet(id)).collect();
                let _p = ctx.permit().await;
                let answers = exo.batch::<WireStatistics>(&tid, &cmdlets).await?;
                Ok::<_, ApiError>(
                    answers
                        .into_iter()
                        .map(|r| {
                            r.and_then(|p| {
                                p.rows.first().map(statistics_of).ok_or_else(|| ApiError::Protocol {
                                    service: tenantctl_transport::api::Service::Exchange,
                                    message: "Get-MailboxStatistics answered without a row".into(),
                                })
                            })
                        })
                        .collect(),
                )
            }
        })
        // The permits bound the requests; this only bounds the futures created at once.
        .buffered(16)
        .try_collect()
        .await?;
    Ok(mailboxes.into_iter().zip(answers.into_iter().flatten()).collect())
}

/// `mailboxes list`: every mailbox joined with its statistics. A mailbox whose statistics
/// failed is still listed (its `statistics` column says why) and the tenant ends `partial`.
pub async fn mailboxes(
    s: &Session,
    targets: Vec<Target>,
    run: &RunOptions,
    on_done: impl FnMut(TenantResult<MailboxRow>) -> Flow,
) -> anyhow::Result<Summary> {
    let access = access_map(s, &targets, Need::ExchangeRead).await?;
    let exo = Exchange::new(s.api().clone());
    Ok(fan_out(
        s,
        targets,
        run,
        |ctx: Arc<TenantCtx<MailboxRow>>| {
            let (exo, access) = (exo.clone(), access.clone());
            async move {
                refused(access.get(&ctx.target.id))?;
                let mut first_error = None;
                for (m, stats) in mailboxes_with_statistics(&exo, &ctx).await? {
                    match stats {
                        Ok(st) => ctx.emit(MailboxRow::new(&m, Ok(&st))),
                        Err(e) => {
                            ctx.emit(MailboxRow::new(&m, Err(&describe(&e))));
                            first_error.get_or_insert(e);
                        }
                    }
                }
                first_error.map_or(Ok(()), |e| Err(Failure::Api(e)))
            }
        },
        on_done,
    )
    .await)
}

/// `mailboxes stale --days N`: the mailboxes nobody has used for `days` days, judged on
/// `LastUserActionTime`/`LastInteractionTime` ([`is_stale`]). A mailbox whose statistics
/// failed cannot be judged: the tenant ends `partial` and says so.
pub async fn stale(
    s: &Session,
    targets: Vec<Target>,
    days: u32,
    now: OffsetDateTime,
    run: &RunOptions,
    on_done: impl FnMut(TenantResult<StaleMailboxRow>) -> Flow,
) -> anyhow::Result<Summary> {
    let access = access_map(s, &targets, Need::ExchangeRead).await?;
    let exo = Exchange::new(s.api().clone());
    Ok(fan_out(
        s,
        targets,
        run,
        |ctx: Arc<TenantCtx<StaleMailboxRow>>| {
            let (exo, access) = (exo.clone(), access.clone());
            async move {
                refused(access.get(&ctx.target.id))?;
                let mut unjudged = 0usize;
                let mut first_error = None;
                for (m, stats) in mailboxes_with_statistics(&exo, &ctx).await? {
                    match stats {
                        Ok(st) if is_stale(&m, &st, now, days) => ctx.emit(StaleMailboxRow::new(&m, &st, now)),
                        Ok(_) => {}
                        Err(e) => {
                            unjudged += 1;
                            first_error.get_or_insert(e);
                        }
                    }
                }
                match first_error {
                    None => Ok(()),
                    Some(e) => Err(Failure::Api(ApiError::Protocol {
                        service: tenantctl_transport::api::Service::Exchange,
                        message: format!(
                            "{unjudged} mailbox(es) could not be judged (statistics failed), first: {}",
                            describe(&e)
                        ),
                    })),
                }
            }
        },
        on_done,
    )
    .await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_carry_the_role_checks_status_and_words() {
        let why = Access::RoleMissing(Need::ExchangeWrite);
        match refused(Some(&why)) {
            Err(Failure::Refused(TenantStatus::RoleMissing, text)) => {
                assert!(text.contains("Exchange Administrator"), "{text}")
            }
            other => panic!("{other:?}"),
        }
        assert!(refused(Some(&Access::Allowed)).is_ok());
        assert!(refused(Some(&Access::Unknown)).is_ok());
        assert!(matches!(
            refused(Some(&Access::Expired)),
            Err(Failure::Refused(TenantStatus::RelationshipExpired, _))
        ));
        let t = Target {
            id: "52eaad04-13a2-4a2f-9ce8-93a294fadf36".parse().unwrap(),
            name: "Contoso".into(),
            relationship_status: Some("active".into()),
        };
        let e = Failure::Refused(TenantStatus::RoleMissing, "x".into());
        assert_eq!(classify_failure(&e, &t), Verdict::tenant(TenantStatus::RoleMissing));
    }
}
