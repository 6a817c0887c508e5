//! `domains list|add|verify|records`.

use crate::args::{FanoutArgs, Global, OneTenant, OutputArgs, TenantsArgs, WriteArgs};
use crate::ui::{self, RowWriter};
use anyhow::{Context, Result};
use clap::Subcommand;
use tenantctl_core::rows::Tenanted;
use tenantctl_core::tables::{DnsRecordRow, DomainRow};
use tenantctl_ops::{domains, list, targets, Session};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// List domains: name, default, initial, verified, authentication type, services.
    ///
    /// Example: tenantctl domains list --all-tenants --out domains.xlsx
    List {
        #[command(flatten)]
        tenants: TenantsArgs,
        #[command(flatten)]
        output: OutputArgs,
        #[command(flatten)]
        fanout: FanoutArgs,
    },
    /// Add a domain to a customer and print the DNS records that prove ownership.
    ///
    /// Example: tenantctl domains add contoso.com -t "Contoso Ltd"
    Add {
        /// The domain, e.g. contoso.com.
        name: String,
        #[command(flatten)]
        tenant: OneTenant,
        #[command(flatten)]
        write: WriteArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Verify a domain once its TXT record is published.
    ///
    /// Example: tenantctl domains verify contoso.com -t "Contoso Ltd"
    Verify {
        /// The domain, e.g. contoso.com.
        name: String,
        #[command(flatten)]
        tenant: OneTenant,
        #[command(flatten)]
        write: WriteArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// The DNS records the domain's services need (MX, SPF, autodiscover, SRV...).
    ///
    /// Example: tenantctl domains records contoso.com -t "Contoso Ltd" --zone
    Records {
        /// The domain, e.g. contoso.com.
        name: String,
        #[command(flatten)]
        tenant: OneTenant,
        /// Print a BIND zone-file fragment instead of rows.
        #[arg(long)]
        zone: bool,
        #[command(flatten)]
        output: OutputArgs,
    },
}

pub async fn exec(g: &Global, a: Args) -> Result<i32> {
    let session = Session::connect(&g.connect_options()).await?;
    match a.cmd {
        Cmd::List {
            tenants,
            output,
            fanout,
        } => {
            let selected = targets::select_streamed(&session, &tenants.selection(), None).await?;
            let sink = ui::open_sink(&output, Tenanted::<DomainRow>::schema(), &["tenantName", "domain"])?;
            let run = ui::run_options(&fanout);
            let mut w = RowWriter::streamed(sink, selected.count(), g.quiet);
            let (targets, listing) = selected.into_parts();
            let summary = list::domains(&session, targets, &run, |r| w.tenant(r)).await;
            ui::finish_listed(g, &output, w, &summary, &session, &run.stop, listing)
        }
        Cmd::Add {
            name,
            tenant,
            write,
            output,
        } => {
            if !write.what_if {
                ui::confirm_write(&session, &format!("add {name}"), 1, 1, write.yes)?;
            }
            let added = domains::add(&session, &tenant.tenant, &name, write.what_if, write.partner_tenant).await?;
            ui::write_rows(&output, std::slice::from_ref(&added.result))?;
            if !added.records.is_empty() {
                eprintln!(
                    "Publish one of these records at the DNS host, then run `tenantctl domains verify {} --tenant {}`:",
                    added.result.domain, added.result.tenant_id
                );
                eprint!("{}", domains::zone_text(&added.result.domain, &added.records));
            }
            Ok(0)
        }
        Cmd::Verify {
            name,
            tenant,
            write,
            output,
        } => {
            let row = domains::verify(&session, &tenant.tenant, &name, write.what_if, write.partner_tenant).await?;
            ui::write_rows(&output, std::slice::from_ref(&row))?;
            Ok(if row.result == "not_verified" { 3 } else { 0 })
        }
        Cmd::Records {
            name,
            tenant,
            zone,
            output,
        } => {
            let records = domains::records(&session, &tenant.tenant, &name).await?;
            let name = domains::check_domain_name(&name)?;
            if zone {
                let text = domains::zone_text(&name, &records);
                match &output.out {
                    Some(p) => std::fs::write(p, text).with_context(|| format!("--out {}", p.display()))?,
                    None => print!("{text}"),
                }
                return Ok(0);
            }
            let rows: Vec<DnsRecordRow> = records.iter().map(|r| domains::record_row(&name, r)).collect();
            ui::write_rows(&output, &rows)?;
            Ok(0)
        }
    }
}
