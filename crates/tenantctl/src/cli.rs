//! The command line: global options and the command tree (each command's flags live in its
//! file under `commands/`).

use crate::args::Global;
use crate::commands::{
    customers, domains, exo, licenses, login, mailboxes, relationships, reports, sandbox, sim, users,
};
use clap::{Parser, Subcommand};
use std::io::IsTerminal;

#[derive(Parser, Debug)]
#[command(
    name = "tenantctl",
    version,
    about = "Administer and report on all of a Microsoft 365 partner's customer tenants at once",
    after_help = "Try it without a tenant: tenantctl --sandbox users list --all-tenants --out users.xlsx"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// The partner's customers: tenant id, name, default domain, relationship status.
    Customers(customers::Args),
    /// GDAP relationships: roles, end dates, days left, auto-extend.
    Relationships(relationships::Args),
    /// Customer domains: list, add, verify, DNS records.
    Domains(domains::Args),
    /// Customer users and their licences: list, create, import.
    Users(users::Args),
    /// Subscribed licences (bought, assigned, free); assign and remove.
    Licenses(licenses::Args),
    /// Run any Exchange Online cmdlet in one customer or all (Exchange's admin API, no PowerShell).
    Exo(exo::Args),
    /// Exchange Online mailboxes with their statistics; stale mailboxes.
    Mailboxes(mailboxes::Args),
    /// Usage reports for one customer or across all; MFA, sign-ins, guests, admins; licence
    /// and inactive-user summaries.
    Reports(reports::Args),
    /// Sign the partner's admin in (device code) and store the refresh token (file 0600).
    Login(login::Args),
    /// The simulator of Microsoft's services.
    Sim(sim::Args),
    /// The sandbox (`--sandbox`): its remembered changes.
    Sandbox(sandbox::Args),
}

/// Logs on stderr: warnings by default, `-v` debug, `-vv` trace, or the filter in
/// `TENANTCTL_LOG` (else `RUST_LOG`); colour only on a terminal.
pub fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "tenantctl=debug,tenantctl_ops=debug,tenantctl_transport=debug,tenantctl_fanout=debug,tenantctl_clients=debug",
        _ => "trace",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TENANTCTL_LOG")
                .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level)),
        )
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn shared_flag_groups_parse_where_they_apply() {
        let c = Cli::try_parse_from([
            "tenantctl",
            "relationships",
            "list",
            "--all-tenants",
            "--exclude",
            "Contoso",
        ])
        .unwrap();
        assert!(matches!(c.command, Command::Relationships(_)));
        let c = Cli::try_parse_from(["tenantctl", "users", "import", "x.csv", "--dry-run", "--yes"]);
        assert!(c.is_ok(), "{c:?}");
        assert!(Cli::try_parse_from(["tenantctl", "sim", "serve", "--concurrency", "5"]).is_err());
        assert!(Cli::try_parse_from(["tenantctl", "login", "--out", "x.csv"]).is_err());
        let c = Cli::try_parse_from([
            "tenantctl",
            "users",
            "list",
            "-t",
            "A",
            "--select",
            "userPrincipalName,licenses",
            "--sort",
            "-displayName",
        ])
        .unwrap();
        let Command::Users(u) = c.command else { panic!() };
        let users::Cmd::List(l) = u.cmd else { panic!() };
        assert_eq!(l.output.select, ["userPrincipalName", "licenses"]);
        assert_eq!(l.output.sort, ["-displayName"]);
    }
}
