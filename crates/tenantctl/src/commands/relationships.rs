//! `relationships list`.

use crate::args::{Global, OutputArgs, TenantsArgs};
use crate::ui::{self, RowWriter};
use anyhow::Result;
use clap::Subcommand;
use tenantctl_core::rows::Row;
use tenantctl_core::tables::RelationshipRow;
use tenantctl_ops::{list, Session};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// List GDAP relationships (those ending within 30 days are flagged `endingSoon`).
    ///
    /// Example: tenantctl relationships list --all-tenants --sort daysLeft
    List(ListArgs),
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// Only these customers (none given: every relationship).
    #[command(flatten)]
    pub tenants: TenantsArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub async fn exec(g: &Global, a: Args) -> Result<i32> {
    let Cmd::List(a) = a.cmd;
    let session = Session::connect(&g.connect_options()).await?;
    let rows = list::relationships(&session, &a.tenants.selection(), time::OffsetDateTime::now_utc()).await?;
    let sink = ui::open_sink(
        &a.output,
        RelationshipRow::columns().to_vec(),
        &["tenantName", "endDateTime"],
    )?;
    let mut w = RowWriter::new(sink, 0, true);
    w.all(&rows);
    w.finish(None)?;
    Ok(0)
}
