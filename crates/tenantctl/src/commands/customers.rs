//! `customers list`.

use crate::args::{FanoutArgs, Global, OutputArgs};
use crate::ui::{self, RowWriter};
use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use tenantctl_clients::customers::Source;
use tenantctl_core::rows::Row;
use tenantctl_core::tables::CustomerRow;
use tenantctl_ops::{list, Session};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// List every customer with its current default domain.
    ///
    /// Example: tenantctl customers list --select tenantName,defaultDomain,relationshipEnd
    List(ListArgs),
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// Where the list comes from.
    #[arg(long, value_enum, default_value = "graph")]
    pub source: SourceArg,
    /// Show the default domain recorded when the partnership began (`/contracts`) instead of
    /// reading each tenant's current one (no request per tenant).
    #[arg(long)]
    pub contract_domains: bool,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub fanout: FanoutArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SourceArg {
    /// Graph `/contracts` and GDAP relationships.
    Graph,
    /// Partner Center `/v1/customers` (reseller customers), with GDAP status from Graph.
    PartnerCenter,
}

pub async fn exec(g: &Global, a: Args) -> Result<i32> {
    let Cmd::List(a) = a.cmd;
    let session = Session::connect(&g.connect_options()).await?;
    let source = match a.source {
        SourceArg::Graph => Source::Graph,
        SourceArg::PartnerCenter => Source::PartnerCenter,
    };
    let sink = ui::open_sink(&a.output, CustomerRow::columns().to_vec(), &["tenantName"])?;
    let run = ui::run_options(&a.fanout);
    let n = session.customers().await?.customers.len();
    let mut w = RowWriter::new(sink, n, g.quiet);
    let summary = list::customers(&session, source, !a.contract_domains, &run, |r| w.plain(r)).await?;
    ui::finish(g, &a.output, w, &summary, &session, &run.stop)
}
