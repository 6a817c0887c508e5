//! One file per command: its clap `Args` and an `exec` that calls `tenantctl-ops`.

pub mod customers;
pub mod domains;
pub mod exo;
pub mod licenses;
pub mod login;
pub mod mailboxes;
pub mod relationships;
pub mod reports;
pub mod sandbox;
pub mod sim;
pub mod users;

use crate::cli::{Cli, Command};
use anyhow::Result;

pub async fn exec(cli: Cli) -> Result<i32> {
    let g = &cli.global;
    match cli.command {
        Command::Customers(a) => customers::exec(g, a).await,
        Command::Relationships(a) => relationships::exec(g, a).await,
        Command::Domains(a) => domains::exec(g, a).await,
        Command::Exo(a) => exo::exec(g, a).await,
        Command::Users(a) => users::exec(g, a).await,
        Command::Licenses(a) => licenses::exec(g, a).await,
        Command::Login(a) => login::exec(g, a).await,
        Command::Mailboxes(a) => mailboxes::exec(g, a).await,
        Command::Reports(a) => reports::exec(g, a).await,
        Command::Sim(a) => sim::exec(a).await,
        Command::Sandbox(a) => sandbox::exec(a).await,
    }
}
