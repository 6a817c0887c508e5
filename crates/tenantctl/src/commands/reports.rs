//! `reports`: Microsoft 365 usage reports for one customer or aggregated across all of them,
//! the security data partners ask for (MFA, sign-ins, guests, admins) and monthly summaries.

use crate::args::{FanoutArgs, Global, OneTenant, OutputArgs, TenantsArgs};
use crate::progress::Progress;
use crate::ui::{self, RowWriter};
use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use tenantctl_clients::reports::ReportItem;
use tenantctl_core::reports::{typed_value, Period, ReportCall, CATALOG};
use tenantctl_core::rows::{Cell, Column, Kind, Row, Tenanted, TENANT_COLUMNS};
use tenantctl_core::tables::{AdminRow, GuestRow, InactiveUserRow, MfaRow, SignInRow, SkuRow};
use tenantctl_core::{TenantId, TenantOutcome, TenantStatus};
use tenantctl_ops::reports::{self, ReportRun};
use tenantctl_ops::{list, targets, Flow, Session, Summary, Target};
use tenantctl_output::Format;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// The usage reports tenantctl knows: what each tells and which retired report it replaces.
    ///
    /// Example: tenantctl reports list
    List {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// One customer's usage report (Graph's CSV, typed in JSON and xlsx).
    ///
    /// Example: tenantctl reports get getMailboxUsageDetail --tenant contoso.com --period D30 -o json
    Get(GetArgs),
    /// One usage report across customers into one dataset: tenant columns first, the header
    /// once, columns that differ between tenants united, a status for every tenant.
    ///
    /// Example: tenantctl reports aggregate getMailboxUsageDetail --all-tenants --out mailboxes.xlsx --errors-out errors.csv
    Aggregate(AggregateArgs),
    /// Who is MFA-capable, which methods are registered, admins without MFA
    /// (authentication methods registration details).
    ///
    /// Example: tenantctl reports mfa --all-tenants --admins-only
    Mfa {
        /// Only users holding an admin role.
        #[arg(long)]
        admins_only: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Users' last sign-ins (needs Entra ID P1 in the customer); --inactive-days keeps those
    /// who have not signed in for N days, or never.
    ///
    /// Example: tenantctl reports sign-ins --all-tenants --inactive-days 90 -o csv --out inactive.csv
    SignIns {
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=3650))]
        inactive_days: Option<u32>,
        #[command(flatten)]
        common: Common,
    },
    /// Guest users: who invited from where, invitation state, created.
    ///
    /// Example: tenantctl reports guests --all-tenants --sort tenantName,created
    Guests {
        #[command(flatten)]
        common: Common,
    },
    /// Who holds which directory role (Global Administrator, Exchange Administrator...).
    ///
    /// Example: tenantctl reports admins --all-tenants --query "[?role=='Global Administrator']"
    Admins {
        #[command(flatten)]
        common: Common,
    },
    /// Licences per tenant and SKU: bought, assigned, free, with friendly names.
    ///
    /// Example: tenantctl reports licences --all-tenants --out licences.xlsx
    #[command(alias = "licenses")]
    Licences {
        #[command(flatten)]
        common: Common,
    },
    /// Licensed users with no activity in any service for N days (Microsoft 365 active user
    /// detail): licences worth reclaiming.
    ///
    /// Example: tenantctl reports active-users --all-tenants --days 60
    ActiveUsers {
        /// Days without activity.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=180))]
        days: u32,
        #[command(flatten)]
        common: Common,
    },
}

/// The flags of every cross-tenant report.
#[derive(clap::Args, Debug)]
pub struct Common {
    #[command(flatten)]
    pub tenants: TenantsArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub fanout: FanoutArgs,
}

/// Which report and window.
#[derive(clap::Args, Debug, Clone)]
pub struct ReportArgs {
    /// The report function, e.g. getMailboxUsageDetail (`tenantctl reports list`).
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The period: D7, D30, D90 or D180 (default D30).
    #[arg(long, value_name = "D7|D30|D90|D180")]
    pub period: Option<String>,
    /// One day instead of a period (YYYY-MM-DD, within the last 30 days; detail reports only).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<String>,
    /// Where the report conceals user names, switch the tenant's setting off for the download
    /// and back on after it (needs Global Administrator in the tenant).
    #[arg(long)]
    pub reveal: bool,
    /// With --reveal: show which tenants' setting would be switched; change nothing.
    #[arg(long, alias = "dry-run", requires = "reveal")]
    pub what_if: bool,
}

impl ReportArgs {
    fn call(&self) -> Result<ReportCall> {
        let period = self
            .period
            .as_deref()
            .map(str::parse::<Period>)
            .transpose()
            .map_err(|e| anyhow!("{e}"))?;
        ReportCall::new(&self.name, period, self.date.as_deref(), self.period.is_some()).map_err(|e| anyhow!("{e}"))
    }
}

#[derive(clap::Args, Debug)]
pub struct GetArgs {
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub tenant: OneTenant,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(clap::Args, Debug)]
pub struct AggregateArgs {
    #[command(flatten)]
    pub report: ReportArgs,
    /// Write every tenant that is not ok (and every ok tenant without rows) to FILE (CSV):
    /// tenant, status, what happened, what to do.
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub errors_out: Option<PathBuf>,
    #[command(flatten)]
    pub common: Common,
}

pub async fn exec(g: &Global, a: Args) -> Result<i32> {
    match a.cmd {
        Cmd::List { output } => {
            let rows: Vec<CatalogRow> = CATALOG
                .iter()
                .map(|s| CatalogRow {
                    report: s.name.to_owned(),
                    takes: match s.params {
                        tenantctl_core::reports::Params::PeriodOrDate => "period or date",
                        tenantctl_core::reports::Params::Period => "period",
                        tenantctl_core::reports::Params::None => "nothing",
                    }
                    .to_owned(),
                    meaning: s.meaning.to_owned(),
                    replaces: s.replaces.to_owned(),
                })
                .collect();
            ui::write_rows(&output, &rows)?;
            Ok(0)
        }
        Cmd::Get(x) => {
            let call = x.report.call()?;
            let session = Session::connect(&g.connect_options()).await?;
            let t = targets::find(&session, &x.tenant.tenant, "--tenant").await?;
            usage(
                g,
                &session,
                vec![t],
                &x.report,
                call,
                &x.output,
                &default_fanout(),
                None,
                false,
            )
            .await
        }
        Cmd::Aggregate(x) => {
            let call = x.report.call()?;
            if let Some(p) = &x.errors_out {
                check_new_file(p, "--errors-out")?;
            }
            let session = Session::connect(&g.connect_options()).await?;
            let targets = targets::select(&session, &x.common.tenants.selection()).await?;
            let errors_out = x.errors_out.clone();
            usage(
                g,
                &session,
                targets,
                &x.report,
                call,
                &x.common.output,
                &x.common.fanout,
                errors_out,
                true,
            )
            .await
        }
        Cmd::Mfa { admins_only, common } => {
            typed::<MfaRow, _, _>(
                g,
                &common,
                &["tenantName", "userPrincipalName"],
                |s, t, run, on| async move { reports::mfa(&s, t, admins_only, &run, on).await },
            )
            .await
        }
        Cmd::SignIns { inactive_days, common } => {
            typed::<SignInRow, _, _>(
                g,
                &common,
                &["tenantName", "userPrincipalName"],
                |s, t, run, on| async move {
                    let now = s.api().clock().now_system().into();
                    reports::sign_ins(&s, t, inactive_days, now, &run, on).await
                },
            )
            .await
        }
        Cmd::Guests { common } => {
            typed::<GuestRow, _, _>(
                g,
                &common,
                &["tenantName", "userPrincipalName"],
                |s, t, run, on| async move { reports::guests(&s, t, &run, on).await },
            )
            .await
        }
        Cmd::Admins { common } => {
            typed::<AdminRow, _, _>(
                g,
                &common,
                &["tenantName", "role", "userPrincipalName"],
                |s, t, run, on| async move { reports::admins(&s, t, &run, on).await },
            )
            .await
        }
        Cmd::Licences { common } => {
            typed::<SkuRow, _, _>(g, &common, &["tenantName", "license"], |s, t, run, on| async move {
                list::licences(&s, t, &run, on).await
            })
            .await
        }
        Cmd::ActiveUsers { days, common } => {
            typed::<InactiveUserRow, _, _>(
                g,
                &common,
                &["tenantName", "userPrincipalName"],
                |s, t, run, on| async move {
                    match reports::active_users(&s, t, days, &run, on).await {
                        Ok(summary) => summary,
                        Err(e) => Summary {
                            fatal: Some(format!("{e:#}")),
                            ..Summary::default()
                        },
                    }
                },
            )
            .await
        }
    }
}

tenantctl_core::define_row! {
    /// `reports list`: one report of the catalogue.
    #[derive(Clone, Debug, PartialEq)]
    pub struct CatalogRow {
        "report": Text => pub report: String,
        "takes": Text => pub takes: String,
        "meaning": Text => pub meaning: String,
        "replaces": Text => pub replaces: String,
    }
}

fn default_fanout() -> FanoutArgs {
    FanoutArgs {
        concurrency: 256,
        per_tenant: 4,
        fixed_concurrency: false,
    }
}

/// A file that must not exist yet (like `--passwords-out`: a complete record, never mixed
/// with an older run's).
fn check_new_file(p: &std::path::Path, flag: &str) -> Result<()> {
    if p.exists() {
        bail!(
            "{flag} {}: the file exists; give a new name (or remove it)",
            p.display()
        );
    }
    Ok(())
}

type OnDone<R> = Box<dyn FnMut(tenantctl_ops::TenantResult<R>) -> Flow>;

/// A typed cross-tenant report: sink, fan-out, status report.
async fn typed<R, F, Fut>(g: &Global, c: &Common, sort: &[&'static str], run_op: F) -> Result<i32>
where
    R: Row,
    F: FnOnce(std::sync::Arc<Session>, Vec<Target>, tenantctl_ops::RunOptions, OnDone<R>) -> Fut,
    Fut: std::future::Future<Output = Summary>,
{
    let session = std::sync::Arc::new(Session::connect(&g.connect_options()).await?);
    let targets = targets::select(&session, &c.tenants.selection()).await?;
    let sink = ui::open_sink(&c.output, Tenanted::<R>::schema(), sort)?;
    let run = ui::run_options(&c.fanout);
    let w = std::rc::Rc::new(std::cell::RefCell::new(RowWriter::new(sink, targets.len(), g.quiet)));
    let writer = w.clone();
    let summary = run_op(
        session.clone(),
        targets,
        run.clone(),
        Box::new(move |r| writer.borrow_mut().tenant(r)),
    )
    .await;
    if let Some(f) = &summary.fatal {
        if summary.outcomes.is_empty() {
            bail!("{f}");
        }
    }
    let w = std::rc::Rc::try_unwrap(w)
        .map_err(|_| anyhow!("the output is still in use"))?
        .into_inner();
    ui::finish(g, &c.output, w, &summary, &session, &run.stop)
}

/// The fixed columns of an aggregated report: the tenant columns and the default domain.
fn aggregate_columns() -> Vec<Column> {
    let mut v = TENANT_COLUMNS.to_vec();
    v.push(Column {
        name: "defaultDomain",
        kind: Kind::Text,
    });
    v
}

/// `reports get` and `aggregate`.
#[allow(clippy::too_many_arguments)]
async fn usage(
    g: &Global,
    session: &Session,
    targets: Vec<Target>,
    r: &ReportArgs,
    call: ReportCall,
    output: &OutputArgs,
    fanout: &FanoutArgs,
    errors_out: Option<PathBuf>,
    tenant_columns: bool,
) -> Result<i32> {
    let domains: HashMap<TenantId, String> = session
        .customers()
        .await?
        .customers
        .iter()
        .filter_map(|c| c.default_domain.clone().map(|d| (c.tenant_id, d)))
        .collect();
    let run = ui::run_options(fanout);
    if r.what_if {
        return what_if(session, targets, &call, &run).await;
    }
    ui::check_status_out(output)?;
    let spec = ui::output_spec(output, if tenant_columns { &["tenantName"] } else { &[] });
    let format = tenantctl_output::resolve_format(&spec, ui::stdout_is_terminal()).map_err(|e| anyhow!("{e}"))?;
    // CSV keeps Microsoft's text as it came; the other formats type every value.
    let verbatim = format == Format::Csv;
    let fixed = if tenant_columns { aggregate_columns() } else { vec![] };
    let mut sink =
        tenantctl_output::open_dynamic(&spec, fixed, ui::stdout_is_terminal()).map_err(|e| anyhow!("{e}"))?;
    let mut progress = Progress::new(targets.len(), g.quiet);
    let mut write_error = None;
    let what = ReportRun {
        call,
        reveal: r.reveal,
        default_domains: tenant_columns,
    };
    let summary = reports::usage_report(session, targets, what, &run, |t| {
        let res = &t.result;
        let domain = t
            .default_domain
            .clone()
            .or_else(|| domains.get(&res.target.id).cloned());
        progress.tenant_done(res.outcome.status.is_ok(), res.outcome.rows);
        let fixed = || {
            if tenant_columns {
                vec![
                    Cell::Text(res.target.id.to_string()),
                    Cell::Text(res.target.name.clone()),
                    domain.clone().map_or(Cell::Null, Cell::Text),
                ]
            } else {
                vec![]
            }
        };
        for item in &res.items {
            let row = match item {
                ReportItem::Header(h) => {
                    sink.declare(h);
                    continue;
                }
                ReportItem::Row(r) => r,
            };
            let mut props = Map::with_capacity(row.header.len());
            for (name, value) in row.header.iter().zip(&row.values) {
                let v = if verbatim {
                    if value.is_empty() {
                        Value::Null
                    } else {
                        Value::from(value.as_str())
                    }
                } else {
                    typed_value(name, value)
                };
                props.insert(name.clone(), v);
            }
            if let Err(e) = sink.write_row(fixed(), &props) {
                write_error = Some(e);
                return Flow::Stop;
            }
        }
        if let Err(e) = sink.flush() {
            write_error = Some(e);
            return Flow::Stop;
        }
        Flow::Continue
    })
    .await?;
    progress.finish();
    if let Some(e) = write_error {
        if !tenantctl_output::is_broken_pipe(&e) {
            bail!("writing the output: {e}");
        }
        return Ok(0);
    }
    let completed = ui::finish_dynamic(sink, &summary.outcomes)?;
    if let Some(p) = &errors_out {
        write_errors(p, &summary.outcomes, &domains)?;
    }
    let concealed: Vec<&TenantOutcome> = summary
        .outcomes
        .iter()
        .filter(|o| o.status == TenantStatus::Ok && o.detail == reports::CONCEALED_NOTE)
        .collect();
    if completed && !concealed.is_empty() && !g.quiet {
        let names: Vec<&str> = concealed.iter().take(5).map(|o| o.tenant_name.as_str()).collect();
        let more = if concealed.len() > 5 {
            format!(" and {} more", concealed.len() - 5)
        } else {
            String::new()
        };
        eprintln!(
            "note: {} tenant(s) conceal user names in reports ({}{more}); --reveal switches that off for the download and back on after it",
            concealed.len(),
            names.join(", ")
        );
    }
    ui::conclude(g, output, completed, &summary, session, &run.stop)
}

/// `--reveal --what-if`: each tenant's setting read, nothing changed.
async fn what_if(
    session: &Session,
    targets: Vec<Target>,
    call: &ReportCall,
    run: &tenantctl_ops::RunOptions,
) -> Result<i32> {
    let plan = reports::reveal_plan(session, targets, run).await;
    let mut failed = 0;
    for (t, r) in plan {
        match r {
            Ok(true) => println!(
                "what-if: {} ({}): would switch displayConcealedNames off, download {}, and switch it back on",
                t.name,
                t.id,
                call.path()
            ),
            Ok(false) => println!("what-if: {} ({}): names already shown; nothing to change", t.name, t.id),
            Err(e) => {
                failed += 1;
                println!("what-if: {} ({}): cannot read the report setting: {e}", t.name, t.id)
            }
        }
    }
    eprintln!("what-if: nothing was changed");
    Ok(if failed > 0 { 3 } else { 0 })
}

/// The errors file: one line per tenant that is not ok, or ok without rows.
fn write_errors(p: &std::path::Path, outcomes: &[TenantOutcome], domains: &HashMap<TenantId, String>) -> Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "tenantId",
        "tenantName",
        "defaultDomain",
        "status",
        "rows",
        "detail",
        "hint",
    ])?;
    for o in outcomes {
        let empty = o.status == TenantStatus::Ok && o.rows == 0;
        if o.status == TenantStatus::Ok && !empty {
            continue;
        }
        let detail = if empty {
            "the report has no rows"
        } else {
            o.detail.as_str()
        };
        w.write_record([
            o.tenant_id.to_string(),
            o.tenant_name.clone(),
            domains.get(&o.tenant_id).cloned().unwrap_or_default(),
            o.status.to_string(),
            o.rows.to_string(),
            detail.to_owned(),
            o.status.hint().to_owned(),
        ])?;
    }
    let bytes = w.into_inner().map_err(|e| anyhow!("{e}"))?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(p)
        .with_context(|| format!("--errors-out {}", p.display()))?;
    f.write_all(&bytes)
        .with_context(|| format!("--errors-out {}", p.display()))?;
    Ok(())
}
