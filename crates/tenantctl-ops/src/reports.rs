//! Reports across customers: Graph's usage reports (`reports get`/`aggregate`), the security
//! data partners ask for first (`mfa`, `sign-ins`, `guests`, `admins`) and the monthly
//! summaries (`active-users`; `licences` is [`crate::list::licences`]).
//!
//! A usage report is read per tenant as its CSV streams in; its rows reach the caller when the
//! tenant ends (each tenant's rows together, none twice: a download cut in the middle is read
//! again from a new URL, the partial rows dropped). Tenants whose reports conceal user names
//! are flagged in their outcome's `detail`; with `reveal` the tenant's setting is switched off
//! for the download and switched back on afterwards, whatever happened in between.

use crate::errors::classify;
use crate::session::{RunOptions, Session};
use futures::TryStreamExt;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;
use tenantctl_clients::reports::{date_time, ReportItem, ReportRow, Reports};
use tenantctl_core::reports::{looks_concealed, Period, ReportCall, Window, IDENTIFYING_COLUMNS};
use tenantctl_core::roles::role_name;
use tenantctl_core::rows::parse_day;
use tenantctl_core::tables::{AdminRow, GuestRow, InactiveUserRow, MfaRow, SignInRow};
use tenantctl_core::{TenantId, TenantStatus};
use tenantctl_fanout::{Flow, Summary, Target, TenantCtx, TenantResult, Verdict};
use tenantctl_transport::api::ApiError;
use time::OffsetDateTime;

/// The `detail` of a tenant whose report concealed user names.
pub const CONCEALED_NOTE: &str =
    "user names concealed by the tenant's report setting (displayConcealedNames); --reveal shows them";

/// How often a download cut in the middle is started again.
const DOWNLOAD_ATTEMPTS: u32 = 3;

/// Why a tenant's report failed.
#[derive(Debug)]
pub enum Failure {
    Api(ApiError),
    /// `--reveal` could not switch the setting off: the rows came concealed.
    RevealRefused(ApiError),
    /// The setting was switched off and could not be switched back on.
    RestoreFailed(ApiError),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Api(e) => write!(f, "{e}"),
            Failure::RevealRefused(e) if e.is_forbidden() => write!(
                f,
                "names concealed: --reveal needs Global Administrator in this tenant to change its report setting, which the partner's roles here lack ({e})"
            ),
            Failure::RevealRefused(e) => write!(f, "names concealed: the report setting could not be changed ({e})"),
            Failure::RestoreFailed(e) => write!(
                f,
                "the report setting was switched off for --reveal and could NOT be switched back on; turn 'Display concealed user, group, and site names' back on in the Microsoft 365 admin center (Settings > Org settings > Reports): {e}"
            ),
        }
    }
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Failure {
        Failure::Api(e)
    }
}

fn classify_failure(f: &Failure, t: &Target) -> Verdict {
    match f {
        Failure::Api(e) | Failure::RevealRefused(e) => classify(e, t),
        Failure::RestoreFailed(_) => Verdict::tenant(TenantStatus::Error),
    }
}

/// What `reports get`/`aggregate` fetch.
#[derive(Clone, Debug)]
pub struct ReportRun {
    pub call: ReportCall,
    /// Switch concealment off for the download (and back on after it) where it is on.
    pub reveal: bool,
    /// Also read each tenant's current default domain (`/domains`, beside the report).
    pub default_domains: bool,
}

/// One finished tenant of a usage report: its header and rows, and its current default
/// domain when asked for and readable.
pub struct ReportTenant {
    pub result: TenantResult<ReportItem>,
    pub default_domain: Option<String>,
}

/// Whether a row shows a concealed name in any identifying column.
fn is_concealed(r: &ReportRow) -> bool {
    IDENTIFYING_COLUMNS
        .iter()
        .any(|c| r.get(c).is_some_and(looks_concealed))
}

/// Reads one tenant's report whole (rows kept until the download ends, so a download cut in
/// the middle is read again without duplicates).
async fn read_report(reports: &Reports, tenant: &str, call: &ReportCall) -> Result<Vec<ReportItem>, ApiError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let rows: Result<Vec<ReportItem>, ApiError> = reports.rows(tenant, call).try_collect().await;
        match rows {
            Err(ApiError::Transport(e)) if attempt < DOWNLOAD_ATTEMPTS && e.answer_lost() => {
                tracing::debug!(tenant, attempt, "report download cut: reading it again");
            }
            other => return other,
        }
    }
}

/// `reports aggregate` (and `get`, with one target): the report in each target; each
/// finished tenant's header and rows go to `on_done` (its outcome counts the rows), whose
/// outcome's `detail` flags concealed names.
pub async fn usage_report(
    s: &Session,
    targets: Vec<Target>,
    what: ReportRun,
    run: &RunOptions,
    mut on_done: impl FnMut(ReportTenant) -> Flow,
) -> anyhow::Result<Summary> {
    let reports = Reports::new(s.api().clone());
    let graph = s.graph();
    let what = Arc::new(what);
    let domains: Arc<parking_lot::Mutex<HashMap<TenantId, String>>> = Default::default();
    let domains_read = domains.clone();
    // Tenants whose setting `--reveal` switched off and has not switched back on yet.
    let switched: Arc<parking_lot::Mutex<HashSet<TenantId>>> = Default::default();
    let concealed: Arc<parking_lot::Mutex<HashMap<TenantId, bool>>> = Default::default();
    let flags = concealed.clone();
    let mut rows_of: HashMap<TenantId, u64> = HashMap::new();
    let summary = tenantctl_fanout::run(
        targets,
        run.limits,
        s.api().clock(),
        classify_failure,
        &run.stop,
        |ctx: Arc<TenantCtx<ReportItem>>| {
            let (reports, what, concealed) = (reports.clone(), what.clone(), concealed.clone());
            let (graph, domains, switched) = (graph.clone(), domains.clone(), switched.clone());
            async move {
                let tid = ctx.target.id.to_string();
                let domain = async {
                    if !what.default_domains {
                        return;
                    }
                    let _p = ctx.permit().await;
                    // The report does not depend on it: a failure leaves the contract's copy.
                    if let Ok(ds) = graph.domains(&tid).await {
                        if let Some(d) = ds.into_iter().find(|d| d.is_default) {
                            domains.lock().insert(ctx.target.id, d.name);
                        }
                    }
                };
                let (report, ()) = futures::join!(report_of(&reports, &what, &ctx, &concealed, &switched), domain);
                report
            }
        },
        |mut r: TenantResult<ReportItem>| {
            r.outcome.rows = r.items.iter().filter(|i| matches!(i, ReportItem::Row(_))).count() as u64;
            rows_of.insert(r.target.id, r.outcome.rows);
            if r.outcome.status == TenantStatus::Ok && flags.lock().get(&r.target.id).copied().unwrap_or(false) {
                r.outcome.detail = CONCEALED_NOTE.to_owned();
            }
            let default_domain = domains_read.lock().remove(&r.target.id);
            on_done(ReportTenant {
                result: r,
                default_domain,
            })
        },
    )
    .await;
    let mut summary = summary;
    // A run stopped (Ctrl-C) while a tenant's setting was off: back on now.
    let left_off: Vec<TenantId> = switched.lock().drain().collect();
    for id in left_off {
        let restored = reports.set_concealed_names(&id.to_string(), true).await;
        if let Some(o) = summary.outcomes.iter_mut().find(|o| o.tenant_id == id) {
            o.detail = match restored {
                Ok(()) => format!("{} (the report setting was switched back on)", o.detail),
                Err(e) => Failure::RestoreFailed(e).to_string(),
            };
        }
    }
    let flags = concealed.lock();
    for o in &mut summary.outcomes {
        if let Some(n) = rows_of.get(&o.tenant_id) {
            o.rows = *n;
        }
        if o.status == TenantStatus::Ok && flags.get(&o.tenant_id).copied().unwrap_or(false) {
            o.detail = CONCEALED_NOTE.to_owned();
        }
    }
    Ok(summary)
}

/// One tenant's report (with `--reveal`'s switch off and back on around it).
async fn report_of(
    reports: &Reports,
    what: &ReportRun,
    ctx: &TenantCtx<ReportItem>,
    concealed: &parking_lot::Mutex<HashMap<TenantId, bool>>,
    switched: &parking_lot::Mutex<HashSet<TenantId>>,
) -> Result<(), Failure> {
    let tid = ctx.target.id.to_string();
    let _p = ctx.permit().await;
    let mut switched_off = false;
    let mut reveal_refused = None;
    if what.reveal && reports.concealed_names(&tid).await? {
        // Noted before the change: a run stopped in between switches it back on at its end.
        switched.lock().insert(ctx.target.id);
        match reports.set_concealed_names(&tid, false).await {
            Ok(()) => switched_off = true,
            Err(e) if e.is_forbidden() => reveal_refused = Some(e),
            Err(e) => {
                // Not switched (or not known to be): the end of the run switches it on again.
                return Err(Failure::RevealRefused(e));
            }
        }
    }
    let rows = read_report(reports, &tid, &what.call).await;
    if switched_off {
        // Back on, whatever the download did (nothing left half-applied).
        if let Err(e) = reports.set_concealed_names(&tid, true).await {
            return Err(Failure::RestoreFailed(e));
        }
    }
    switched.lock().remove(&ctx.target.id);
    let rows = rows?;
    let hidden = rows.iter().any(|i| matches!(i, ReportItem::Row(r) if is_concealed(r)));
    concealed.lock().insert(ctx.target.id, hidden);
    for r in rows {
        ctx.emit(r);
    }
    match reveal_refused {
        Some(e) if hidden => Err(Failure::RevealRefused(e)),
        _ => Ok(()),
    }
}

/// `--reveal --what-if`: each target's report setting (true: names concealed), read only.
pub async fn reveal_plan(s: &Session, targets: Vec<Target>, run: &RunOptions) -> Vec<(Target, Result<bool, ApiError>)> {
    use futures::StreamExt;
    let reports = Reports::new(s.api().clone());
    let mut out: Vec<(Target, Result<bool, ApiError>)> = futures::stream::iter(targets)
        .map(|t| {
            let reports = reports.clone();
            async move {
                let r = reports.concealed_names(&t.id.to_string()).await;
                (t, r)
            }
        })
        .buffer_unordered(run.limits.tenants.max(1))
        .collect()
        .await;
    out.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    out
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
    Fut: std::future::Future<Output = Result<(), ApiError>>,
{
    crate::list::fan_out(s, targets, run, op, on_done).await
}

/// `reports mfa`: every user's MFA registration; `admins_only` keeps the admins.
pub async fn mfa(
    s: &Session,
    targets: Vec<Target>,
    admins_only: bool,
    run: &RunOptions,
    on_done: impl FnMut(TenantResult<MfaRow>) -> Flow,
) -> Summary {
    let reports = Reports::new(s.api().clone());
    fan_out(
        s,
        targets,
        run,
        |ctx: Arc<TenantCtx<MfaRow>>| {
            let reports = reports.clone();
            async move {
                let tid = ctx.target.id.to_string();
                let _p = ctx.permit().await;
                let pages = reports.registrations(&tid);
                futures::pin_mut!(pages);
                while let Some(page) = pages.try_next().await? {
                    for r in page {
                        if admins_only && !r.is_admin {
                            continue;
                        }
                        ctx.emit(MfaRow {
                            user_principal_name: r.user_principal_name.unwrap_or_default(),
                            display_name: r.user_display_name.unwrap_or_default(),
                            user_type: r.user_type.unwrap_or_default(),
                            is_admin: r.is_admin,
                            mfa_capable: r.is_mfa_capable,
                            mfa_registered: r.is_mfa_registered,
                            admin_without_mfa: r.is_admin && !r.is_mfa_registered,
                            passwordless_capable: r.is_passwordless_capable,
                            sspr_registered: r.is_sspr_registered,
                            methods: r.methods_registered,
                            preferred_method: r
                                .user_preferred_method_for_secondary_authentication
                                .filter(|m| !m.is_empty()),
                            last_updated: date_time(&r.last_updated_date_time),
                            user_id: r.id,
                        });
                    }
                }
                Ok(())
            }
        },
        on_done,
    )
    .await
}

/// Whole days from `then` to `now` (0 when `then` is later).
fn days_between(then: OffsetDateTime, now: OffsetDateTime) -> i64 {
    ((now - then).whole_seconds() / 86_400).max(0)
}

/// `reports sign-ins`: users with their last sign-ins; with `inactive_days`, only those who
/// have not signed in (interactively or not) for that many days, or never.
pub async fn sign_ins(
    s: &Session,
    targets: Vec<Target>,
    inactive_days: Option<u32>,
    now: OffsetDateTime,
    run: &RunOptions,
    on_done: impl FnMut(TenantResult<SignInRow>) -> Flow,
) -> Summary {
    let reports = Reports::new(s.api().clone());
    fan_out(
        s,
        targets,
        run,
        |ctx: Arc<TenantCtx<SignInRow>>| {
            let reports = reports.clone();
            async move {
                let tid = ctx.target.id.to_string();
                let _p = ctx.permit().await;
                let pages = reports.sign_ins(&tid);
                futures::pin_mut!(pages);
                while let Some(page) = pages.try_next().await? {
                    for u in page {
                        let a = u.sign_in_activity.unwrap_or_default();
                        let last = date_time(&a.last_sign_in_date_time);
                        let non_interactive = date_time(&a.last_non_interactive_sign_in_date_time);
                        let latest = last.max(non_interactive);
                        let days = latest.map(|d| days_between(d, now));
                        if let Some(n) = inactive_days {
                            if days.is_some_and(|d| d < i64::from(n)) {
                                continue;
                            }
                        }
                        ctx.emit(SignInRow {
                            user_principal_name: u.user_principal_name.unwrap_or_default(),
                            display_name: u.display_name.unwrap_or_default(),
                            user_type: u.user_type.unwrap_or_default(),
                            account_enabled: u.account_enabled,
                            licensed: !u.assigned_licenses.is_empty(),
                            last_sign_in: last,
                            last_non_interactive: non_interactive,
                            last_successful: date_time(&a.last_successful_sign_in_date_time),
                            days_since: days,
                            created: date_time(&u.created_date_time),
                            user_id: u.id,
                        });
                    }
                }
                Ok(())
            }
        },
        on_done,
    )
    .await
}

/// `reports guests`: every guest user.
pub async fn guests(
    s: &Session,
    targets: Vec<Target>,
    run: &RunOptions,
    on_done: impl FnMut(TenantResult<GuestRow>) -> Flow,
) -> Summary {
    let reports = Reports::new(s.api().clone());
    fan_out(
        s,
        targets,
        run,
        |ctx: Arc<TenantCtx<GuestRow>>| {
            let reports = reports.clone();
            async move {
                let tid = ctx.target.id.to_string();
                let guests = {
                    let _p = ctx.permit().await;
                    reports.guests(&tid).await?
                };
                for g in guests {
                    ctx.emit(GuestRow {
                        user_principal_name: g.user_principal_name.unwrap_or_default(),
                        display_name: g.display_name.unwrap_or_default(),
                        mail: g.mail,
                        invitation_state: g.external_user_state,
                        state_changed: date_time(&g.external_user_state_change_date_time),
                        created: date_time(&g.created_date_time),
                        account_enabled: g.account_enabled,
                        creation_type: g.creation_type,
                        user_id: g.id,
                    });
                }
                Ok(())
            }
        },
        on_done,
    )
    .await
}

/// `reports admins`: who holds which directory role (assignments with the principal
/// expanded; roles named from the tenant's role definitions, else the built-in table).
pub async fn admins(
    s: &Session,
    targets: Vec<Target>,
    run: &RunOptions,
    on_done: impl FnMut(TenantResult<AdminRow>) -> Flow,
) -> Summary {
    let reports = Reports::new(s.api().clone());
    fan_out(
        s,
        targets,
        run,
        |ctx: Arc<TenantCtx<AdminRow>>| {
            let reports = reports.clone();
            async move {
                let tid = ctx.target.id.to_string();
                let (assignments, definitions) = futures::try_join!(
                    async {
                        let _p = ctx.permit().await;
                        reports.role_assignments(&tid).await
                    },
                    async {
                        let _p = ctx.permit().await;
                        reports.role_definitions(&tid).await
                    }
                )?;
                let names: HashMap<String, String> = definitions
                    .into_iter()
                    .flat_map(|d| {
                        let name = d.display_name.clone().unwrap_or_default();
                        let mut keys = vec![(d.id.to_ascii_lowercase(), name.clone())];
                        if let Some(t) = d.template_id {
                            keys.push((t.to_ascii_lowercase(), name));
                        }
                        keys
                    })
                    .filter(|(_, n)| !n.is_empty())
                    .collect();
                for a in assignments {
                    let p = a.principal.clone().unwrap_or_default();
                    let role = names
                        .get(&a.role_definition_id.to_ascii_lowercase())
                        .cloned()
                        .unwrap_or_else(|| role_name(&a.role_definition_id).to_owned());
                    ctx.emit(AdminRow {
                        role,
                        principal_type: p.kind().to_owned(),
                        user_principal_name: p.user_principal_name.clone(),
                        display_name: p.display_name.clone(),
                        account_enabled: p.account_enabled,
                        scope: a.directory_scope_id.clone().unwrap_or_else(|| "/".into()),
                        principal_id: a.principal_id,
                        role_id: a.role_definition_id,
                    });
                }
                Ok(())
            }
        },
        on_done,
    )
    .await
}

/// The smallest period that covers `days` (at most D180).
pub fn period_covering(days: u32) -> Period {
    Period::ALL
        .into_iter()
        .find(|p| p.days() >= days)
        .unwrap_or(Period::D180)
}

/// The inactive licensed users of one report (`getOffice365ActiveUserDetail`): not deleted,
/// some product assigned, and no activity in any service for `days` days before `today`
/// (never active counts as inactive).
pub fn inactive_users(rows: &[ReportRow], days: u32, today: time::Date) -> Vec<InactiveUserRow> {
    let day = |r: &ReportRow, c: &str| r.get(c).and_then(parse_day);
    rows.iter()
        .filter(|r| r.get("Is Deleted") != Some("True"))
        .filter_map(|r| {
            let products: Vec<String> = r
                .get("Assigned Products")
                .unwrap_or_default()
                .split('+')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect();
            if products.is_empty() {
                return None;
            }
            let services = [
                "Exchange",
                "OneDrive",
                "SharePoint",
                "Skype For Business",
                "Yammer",
                "Teams",
            ];
            let last = services
                .iter()
                .filter_map(|s| day(r, &format!("{s} Last Activity Date")))
                .max();
            let inactive_for = last.map(|d| (today - d).whole_days().max(0));
            if inactive_for.is_some_and(|n| n < i64::from(days)) {
                return None;
            }
            Some(InactiveUserRow {
                user_principal_name: r.get("User Principal Name").unwrap_or_default().to_owned(),
                display_name: r.get("Display Name").unwrap_or_default().to_owned(),
                assigned_products: products,
                last_activity: last,
                days_inactive: inactive_for,
                exchange: day(r, "Exchange Last Activity Date"),
                onedrive: day(r, "OneDrive Last Activity Date"),
                sharepoint: day(r, "SharePoint Last Activity Date"),
                teams: day(r, "Teams Last Activity Date"),
                names_concealed: is_concealed(r),
            })
        })
        .collect()
}

/// `reports active-users --days N`: licensed users with no activity in N days, from each
/// tenant's `getOffice365ActiveUserDetail` (judged against the report's refresh date).
pub async fn active_users(
    s: &Session,
    targets: Vec<Target>,
    days: u32,
    run: &RunOptions,
    mut on_done: impl FnMut(TenantResult<InactiveUserRow>) -> Flow,
) -> anyhow::Result<Summary> {
    let call = ReportCall {
        name: "getOffice365ActiveUserDetail".into(),
        window: Window::Period(period_covering(days)),
    };
    let what = ReportRun {
        call,
        reveal: false,
        default_domains: false,
    };
    let fallback_today = OffsetDateTime::from(s.api().clock().now_system()).date();
    let mut rows_of: HashMap<TenantId, u64> = HashMap::new();
    let mut summary = usage_report(s, targets, what, run, |t: ReportTenant| {
        let r = t.result;
        let rows: Vec<ReportRow> = r
            .items
            .into_iter()
            .filter_map(|i| match i {
                ReportItem::Row(r) => Some(r),
                ReportItem::Header(_) => None,
            })
            .collect();
        let today = rows
            .first()
            .and_then(|x| x.get("Report Refresh Date"))
            .and_then(parse_day)
            .unwrap_or(fallback_today);
        let items = inactive_users(&rows, days, today);
        let mut outcome = r.outcome;
        outcome.rows = items.len() as u64;
        rows_of.insert(r.target.id, outcome.rows);
        on_done(TenantResult {
            outcome,
            target: r.target,
            items,
        })
    })
    .await?;
    // Rows counted are the inactive users, not the report's rows.
    for o in &mut summary.outcomes {
        if let Some(n) = rows_of.get(&o.tenant_id) {
            o.rows = *n;
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(values: &[(&str, &str)]) -> ReportRow {
        ReportRow {
            header: values.iter().map(|(k, _)| k.to_string()).collect::<Vec<_>>().into(),
            values: values.iter().map(|(_, v)| v.to_string()).collect(),
        }
    }

    #[test]
    fn inactive_means_licensed_and_no_service_used_within_the_days() {
        let today = time::macros::date!(2026 - 11 - 30);
        let rows = vec![
            row(&[
                ("User Principal Name", "old@x.com"),
                ("Is Deleted", "False"),
                ("Exchange Last Activity Date", "2026-09-01"),
                ("Teams Last Activity Date", "2026-10-01"),
                ("Assigned Products", "MICROSOFT 365 BUSINESS STANDARD"),
            ]),
            row(&[
                ("User Principal Name", "recent@x.com"),
                ("Is Deleted", "False"),
                ("Exchange Last Activity Date", "2026-09-01"),
                ("Teams Last Activity Date", "2026-11-29"),
                ("Assigned Products", "MICROSOFT 365 BUSINESS STANDARD"),
            ]),
            row(&[
                ("User Principal Name", "never@x.com"),
                ("Is Deleted", "False"),
                ("Assigned Products", "EXCHANGE ONLINE (PLAN 1)"),
            ]),
            row(&[
                ("User Principal Name", "unlicensed@x.com"),
                ("Is Deleted", "False"),
                ("Assigned Products", ""),
            ]),
            row(&[
                ("User Principal Name", "gone@x.com"),
                ("Is Deleted", "True"),
                ("Assigned Products", "EXCHANGE ONLINE (PLAN 1)"),
            ]),
        ];
        let out = inactive_users(&rows, 30, today);
        let names: Vec<&str> = out.iter().map(|r| r.user_principal_name.as_str()).collect();
        assert_eq!(names, ["old@x.com", "never@x.com"]);
        assert_eq!(out[0].days_inactive, Some(60), "the latest of the services counts");
        assert_eq!(out[1].days_inactive, None);
    }

    #[test]
    fn the_period_read_covers_the_days_asked_for() {
        assert_eq!(period_covering(1), Period::D7);
        assert_eq!(period_covering(30), Period::D30);
        assert_eq!(period_covering(31), Period::D90);
        assert_eq!(period_covering(365), Period::D180);
    }

    #[test]
    fn a_row_is_concealed_when_an_identifying_column_holds_32_hex_digits() {
        assert!(is_concealed(&row(&[(
            "User Principal Name",
            "FE7CC8C15246EDCCA289C9A4022762F7"
        )])));
        assert!(!is_concealed(&row(&[("User Principal Name", "adele@contoso.com")])));
        assert!(!is_concealed(&row(&[("Report Date", "2026-11-30")])));
    }
}
