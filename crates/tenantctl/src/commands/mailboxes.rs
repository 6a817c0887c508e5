//! `mailboxes list|stale`: Exchange Online mailboxes with their statistics, across tenants.

use crate::args::{ExoFanoutArgs, Global, OutputArgs, TenantsArgs};
use crate::ui::{self, RowWriter};
use anyhow::Result;
use clap::Subcommand;
use tenantctl_core::rows::Tenanted;
use tenantctl_core::tables::{MailboxRow, StaleMailboxRow};
use tenantctl_ops::{exchange, targets, Session};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Every mailbox with its size, item count, last activity, archive, hold and forwarding
    /// (Get-Mailbox joined with Get-MailboxStatistics).
    ///
    /// Example: tenantctl mailboxes list --all-tenants --out mailboxes.xlsx
    List(ListArgs),
    /// Mailboxes nobody has used for N days (the modern Get-StaleMailboxReport), judged on
    /// LastUserActionTime/LastInteractionTime, not the unreliable LastLogonTime.
    ///
    /// Example: tenantctl mailboxes stale --days 30 --all-tenants -o csv --out stale.csv
    Stale(StaleArgs),
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    pub tenants: TenantsArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub fanout: ExoFanoutArgs,
}

#[derive(clap::Args, Debug)]
pub struct StaleArgs {
    /// Days without use that make a mailbox stale.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub days: u32,
    #[command(flatten)]
    pub tenants: TenantsArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub fanout: ExoFanoutArgs,
}

pub async fn exec(g: &Global, a: Args) -> Result<i32> {
    match a.cmd {
        Cmd::List(l) => {
            let session = Session::connect(&g.connect_options()).await?;
            let targets = targets::select(&session, &l.tenants.selection()).await?;
            let sink = ui::open_sink(
                &l.output,
                Tenanted::<MailboxRow>::schema(),
                &["tenantName", "userPrincipalName"],
            )?;
            let run = ui::run_options(&l.fanout.fanout());
            let mut w = RowWriter::new(sink, targets.len(), g.quiet);
            let summary = exchange::mailboxes(&session, targets, &run, |r| w.tenant(r)).await?;
            ui::finish(g, &l.output, w, &summary, &session, &run.stop)
        }
        Cmd::Stale(st) => {
            let session = Session::connect(&g.connect_options()).await?;
            let targets = targets::select(&session, &st.tenants.selection()).await?;
            let sink = ui::open_sink(
                &st.output,
                Tenanted::<StaleMailboxRow>::schema(),
                &["tenantName", "userPrincipalName"],
            )?;
            let run = ui::run_options(&st.fanout.fanout());
            let now = session.api().clock().now_system().into();
            let mut w = RowWriter::new(sink, targets.len(), g.quiet);
            let summary = exchange::stale(&session, targets, st.days, now, &run, |r| w.tenant(r)).await?;
            ui::finish(g, &st.output, w, &summary, &session, &run.stop)
        }
    }
}
