//! `users list|create|import`.

use crate::args::{FanoutArgs, Global, OneTenant, OutputArgs, TenantsArgs, WriteArgs};
use crate::ui::{self, RowWriter};
use anyhow::{anyhow, Context, Result};
use clap::Subcommand;
use std::io::Read;
use std::path::PathBuf;
use tenantctl_core::bulk::{read_users_csv, Style, UserRow};
use tenantctl_core::rows::Tenanted;
use tenantctl_core::tables::UserListRow;
use tenantctl_ops::import::{self, ImportOptions};
use tenantctl_ops::list::{self, SkuArg, UsersQuery};
use tenantctl_ops::{files, sizes, targets, Session};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// List users with their licences (part numbers and friendly names).
    ///
    /// Example: tenantctl users list --all-tenants --licensed --filter "accountEnabled eq false"
    List(ListArgs),
    /// Create one user (and license it).
    ///
    /// Example: tenantctl users create -t "Contoso Ltd" --upn adele@contoso.com --display-name "Adele Vance" --usage-location US --license SPB --passwords-out pw.csv
    Create(CreateArgs),
    /// Create users from a CSV: the classic New-MsolUser header
    /// (UserPrincipalName,FirstName,LastName,DisplayName,Password,TenantId,UsageLocation,LicenseAssignment)
    /// or the modern one (tenant,userPrincipalName,displayName,givenName,surname,usageLocation,licenses,password).
    ///
    /// Example: tenantctl users import new-users.csv --passwords-out pw.csv --what-if
    Import(ImportArgs),
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    pub tenants: TenantsArgs,
    /// An OData $filter passed to Graph, e.g. "accountEnabled eq false".
    #[arg(long, value_name = "ODATA")]
    pub filter: Option<String>,
    /// Only users with at least one licence.
    #[arg(long, conflicts_with = "unlicensed")]
    pub licensed: bool,
    /// Only users without a licence.
    #[arg(long)]
    pub unlicensed: bool,
    /// Only users holding this SKU (part number like SPB, or skuId).
    #[arg(long, value_name = "PART_NUMBER|GUID")]
    pub sku: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub fanout: FanoutArgs,
}

#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    #[command(flatten)]
    pub tenant: OneTenant,
    /// The user principal name, e.g. adele@contoso.com (its domain must be verified).
    #[arg(long, value_name = "UPN")]
    pub upn: String,
    /// The name shown in address lists.
    #[arg(long)]
    pub display_name: String,
    /// Given name.
    #[arg(long)]
    pub first_name: Option<String>,
    /// Surname.
    #[arg(long)]
    pub last_name: Option<String>,
    /// Two-letter country code (needed for a licence).
    #[arg(long)]
    pub usage_location: Option<String>,
    /// A licence to assign (part number or skuId; repeatable).
    #[arg(long = "license", value_name = "PART_NUMBER|GUID")]
    pub licenses: Vec<String>,
    /// Read the password from the first line of stdin (else one is generated).
    #[arg(long)]
    pub password_stdin: bool,
    /// Where generated passwords go (a new CSV file, created 0600; never overwritten).
    #[arg(long, value_name = "FILE")]
    pub passwords_out: Option<PathBuf>,
    #[command(flatten)]
    pub write: WriteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The CSV file.
    pub file: PathBuf,
    /// The tenant of rows without a TenantId/tenant.
    #[arg(long = "tenant", short = 't', value_name = "ID|DOMAIN|NAME")]
    pub tenant: Option<String>,
    /// Where generated passwords go (a new CSV file, created 0600; never overwritten); needed
    /// when rows have no password.
    #[arg(long, value_name = "FILE")]
    pub passwords_out: Option<PathBuf>,
    /// Users need not change their password at first sign-in.
    #[arg(long)]
    pub no_force_change_password: bool,
    #[command(flatten)]
    pub write: WriteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub fanout: FanoutArgs,
}

pub async fn exec(g: &Global, a: Args) -> Result<i32> {
    match a.cmd {
        Cmd::List(l) => list_users(g, l).await,
        Cmd::Create(c) => {
            let password = if c.password_stdin {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .context("reading the password from stdin")?;
                Some(s.lines().next().unwrap_or_default().to_owned())
            } else {
                None
            };
            let row = UserRow {
                line: 1,
                tenant: Some(c.tenant.tenant.clone()),
                user_principal_name: c.upn,
                display_name: c.display_name,
                given_name: c.first_name,
                surname: c.last_name,
                usage_location: c.usage_location.map(|u| u.to_ascii_uppercase()),
                licenses: c.licenses.iter().map(|l| l.to_ascii_uppercase()).collect(),
                password,
                style: Style::Flags,
            };
            let opts = ImportOptions {
                default_tenant: Some(c.tenant.tenant),
                force_change_password: true,
                passwords_out: c.passwords_out,
                partner_tenant: c.write.partner_tenant,
            };
            let fanout = FanoutArgs {
                concurrency: 1,
                per_tenant: 4,
                fixed_concurrency: true,
            };
            run_import(g, vec![row], opts, &c.write, &c.output, &fanout).await
        }
        Cmd::Import(i) => {
            // Bytes: UTF-16 and Windows-1252 files (PowerShell, Excel) are decoded too.
            let bytes = std::fs::read(&i.file).with_context(|| format!("reading {}", i.file.display()))?;
            let csv = read_users_csv(&bytes).map_err(|errs| {
                anyhow!(
                    "{}: {} problem(s):\n{}",
                    i.file.display(),
                    errs.len(),
                    errs.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n")
                )
            })?;
            if !g.quiet {
                for n in &csv.notes {
                    eprintln!("note: {}: {n}", i.file.display());
                }
            }
            let rows = csv.rows;
            let opts = ImportOptions {
                default_tenant: i.tenant,
                force_change_password: !i.no_force_change_password,
                passwords_out: i.passwords_out,
                partner_tenant: i.write.partner_tenant,
            };
            run_import(g, rows, opts, &i.write, &i.output, &i.fanout).await
        }
    }
}

async fn list_users(g: &Global, l: ListArgs) -> Result<i32> {
    let q = UsersQuery {
        filter: l.filter,
        licensed: l.licensed,
        unlicensed: l.unlicensed,
        sku: l.sku.as_deref().map(SkuArg::parse).transpose()?,
    };
    let session = Session::connect(&g.connect_options()).await?;
    let selected = targets::select_streamed(&session, &l.tenants.selection(), Some(sizes::USERS)).await?;
    let sink = ui::open_sink(
        &l.output,
        Tenanted::<UserListRow>::schema(),
        &["tenantName", "userPrincipalName"],
    )?;
    let run = ui::run_options(&l.fanout);
    let mut w = RowWriter::streamed(sink, selected.count(), g.quiet);
    let (targets, listing) = selected.into_parts();
    let summary = list::users(&session, targets, q, &run, |r| w.tenant(r)).await;
    ui::finish_listed(g, &l.output, w, &summary, &session, &run.stop, listing)
}

async fn run_import(
    g: &Global,
    rows: Vec<UserRow>,
    opts: ImportOptions,
    write: &WriteArgs,
    output: &OutputArgs,
    fanout: &FanoutArgs,
) -> Result<i32> {
    // A passwords file that exists is refused before anything is read or written.
    if let (Some(p), false) = (&opts.passwords_out, write.what_if) {
        files::check_new(p)?;
    }
    let session = Session::connect(&g.connect_options()).await?;
    let run = ui::run_options(fanout);
    let plan = import::plan(&session, rows, &opts, &run).await?;
    let problems = plan.problems();
    if write.what_if {
        ui::print_problems(&problems);
        ui::write_rows(output, &plan.preview())?;
        eprintln!("what-if: nothing was changed");
        return Ok(if problems.is_empty() { 0 } else { 1 });
    }
    if !problems.is_empty() && !write.continue_on_error {
        ui::print_problems(&problems);
        eprintln!(
            "error: {} problem(s) in the input; nothing was changed (fix them, or --continue-on-error to apply the good rows)",
            problems.len()
        );
        return Ok(1);
    }
    let (rows, tenants) = plan.scope();
    ui::confirm_write(&session, "create or license users", rows, tenants, write.yes)?;
    let outcome = import::apply(&session, plan, &opts, &run).await?;
    ui::write_rows(output, &outcome.results)?;
    if outcome.summary.outcomes.iter().any(|o| !o.status.is_ok()) {
        ui::report(g, output, &outcome.summary, &session)?;
    }
    if !g.quiet {
        let mut counts = std::collections::BTreeMap::<&str, usize>::new();
        for r in &outcome.results {
            *counts.entry(r.result.as_str()).or_default() += 1;
        }
        let parts: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
        eprintln!("{} rows: {}", outcome.results.len(), parts.join(", "));
    }
    if run.stop.is_fired() {
        return Ok(ui::EXIT_INTERRUPTED);
    }
    Ok(if outcome.summary.fatal.is_some() {
        1
    } else if outcome.bad() > 0 {
        3
    } else {
        0
    })
}
