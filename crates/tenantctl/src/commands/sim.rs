//! `sim serve`: the simulator as a server.

use anyhow::{anyhow, Result};
use clap::Subcommand;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Serve the simulator; prints one JSON line (base_url, credentials) once ready.
    Serve(tenantctl_sim::cli::ServeArgs),
}

pub async fn exec(a: Args) -> Result<i32> {
    let Cmd::Serve(args) = a.cmd;
    tenantctl_sim::cli::serve(&args).await.map_err(|e| anyhow!(e))?;
    Ok(0)
}
