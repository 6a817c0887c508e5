//! `licenses list|assign|remove`.

use crate::args::{FanoutArgs, Global, OutputArgs, TenantsArgs, WriteArgs};
use crate::ui::{self, RowWriter};
use anyhow::{anyhow, Context, Result};
use clap::Subcommand;
use std::path::PathBuf;
use tenantctl_core::plan::licences::{parse_licence_csv_bytes, LicenceRow, Source};
use tenantctl_core::rows::Tenanted;
use tenantctl_core::tables::SkuRow;
use tenantctl_ops::{licences, list, targets, Session};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// List subscribed SKUs: friendly name, part number, bought, assigned, free, suspended, warning.
    ///
    /// Example: tenantctl licenses list --all-tenants --sort -free
    List {
        #[command(flatten)]
        tenants: TenantsArgs,
        #[command(flatten)]
        output: OutputArgs,
        #[command(flatten)]
        fanout: FanoutArgs,
    },
    /// Assign a licence to a user (or to many: --csv).
    ///
    /// Example: tenantctl licenses assign -t "Contoso Ltd" --user adele@contoso.com --sku SPB
    Assign(Change),
    /// Remove a licence from a user (or from many: --csv).
    ///
    /// Example: tenantctl licenses remove --csv removals.csv --what-if
    Remove(Change),
}

#[derive(clap::Args, Debug, Clone)]
pub struct Change {
    /// The customer tenant (id, domain or name); the CSV's `tenant` column may name others.
    #[arg(long = "tenant", short = 't', value_name = "ID|DOMAIN|NAME")]
    pub tenant: Option<String>,
    /// The user (UPN or object id).
    #[arg(long, value_name = "UPN", required_unless_present = "csv")]
    pub user: Option<String>,
    /// The SKU: part number (e.g. SPB) or skuId.
    #[arg(long, value_name = "PART_NUMBER|GUID", required_unless_present = "csv")]
    pub sku: Option<String>,
    /// Service plans to leave off (name like EXCHANGE_S_STANDARD, or id); assign only.
    #[arg(long = "disable-plan", value_name = "PLAN")]
    pub disable_plans: Vec<String>,
    /// Many changes from a CSV with columns tenant,userPrincipalName,sku[,disabledPlans].
    #[arg(long, value_name = "FILE", conflicts_with_all = ["user", "sku"])]
    pub csv: Option<PathBuf>,
    #[command(flatten)]
    pub write: WriteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub fanout: FanoutArgs,
}

pub async fn exec(g: &Global, a: Args) -> Result<i32> {
    match a.cmd {
        Cmd::List {
            tenants,
            output,
            fanout,
        } => {
            let session = Session::connect(&g.connect_options()).await?;
            let selected = targets::select_streamed(&session, &tenants.selection(), None).await?;
            let sink = ui::open_sink(&output, Tenanted::<SkuRow>::schema(), &["tenantName", "license"])?;
            let run = ui::run_options(&fanout);
            let mut w = RowWriter::streamed(sink, selected.count(), g.quiet);
            let (targets, listing) = selected.into_parts();
            let summary = list::licences(&session, targets, &run, |r| w.tenant(r)).await;
            ui::finish_listed(g, &output, w, &summary, &session, &run.stop, listing)
        }
        Cmd::Assign(c) => change(g, c, true).await,
        Cmd::Remove(c) => change(g, c, false).await,
    }
}

fn read_rows(c: &Change) -> Result<Vec<LicenceRow>> {
    match &c.csv {
        Some(p) => {
            // Bytes: UTF-16 and Windows-1252 files (PowerShell, Excel) are decoded too.
            let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
            parse_licence_csv_bytes(&bytes).map_err(|errs| {
                anyhow!(
                    "{}: {} problem(s):\n{}",
                    p.display(),
                    errs.len(),
                    errs.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n")
                )
            })
        }
        None => Ok(vec![LicenceRow {
            line: 1,
            tenant: c.tenant.clone(),
            user: c.user.clone().unwrap_or_default(),
            sku: c.sku.clone().unwrap_or_default(),
            disabled_plans: c.disable_plans.clone(),
            source: Source::Flags,
        }]),
    }
}

async fn change(g: &Global, c: Change, assign: bool) -> Result<i32> {
    let rows = read_rows(&c)?;
    let session = Session::connect(&g.connect_options()).await?;
    let run = ui::run_options(&c.fanout);
    let plan = licences::plan(
        &session,
        rows,
        c.tenant.as_deref(),
        assign,
        c.write.partner_tenant,
        &run,
    )
    .await?;
    let problems = plan.problems();
    if c.write.what_if {
        ui::print_problems(&problems);
        ui::write_rows(&c.output, &plan.preview())?;
        eprintln!("what-if: nothing was changed");
        return Ok(if problems.is_empty() { 0 } else { 1 });
    }
    if !problems.is_empty() && !c.write.continue_on_error {
        ui::print_problems(&problems);
        eprintln!(
            "error: {} problem(s) in the input; nothing was changed (fix them, or --continue-on-error to apply the good rows)",
            problems.len()
        );
        return Ok(1);
    }
    let (rows, tenants) = plan.scope();
    let verb = if assign { "assign licences" } else { "remove licences" };
    ui::confirm_write(&session, verb, rows, tenants, c.write.yes)?;
    let outcome = licences::apply(&session, plan, &run).await;
    ui::write_rows(&c.output, &outcome.results)?;
    if outcome.summary.outcomes.iter().any(|o| !o.status.is_ok()) {
        ui::report(g, &c.output, &outcome.summary, &session)?;
    }
    if run.stop.is_fired() {
        return Ok(ui::EXIT_INTERRUPTED);
    }
    Ok(if outcome.bad() > 0 { 3 } else { 0 })
}
