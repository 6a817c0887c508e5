//! `sandbox`: the in-process simulator behind `--sandbox`.

use anyhow::Result;
use clap::Subcommand;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Forget every change made in the sandbox.
    Reset,
}

pub async fn exec(a: Args) -> Result<i32> {
    match a.cmd {
        Cmd::Reset => {
            tenantctl_ops::connect::reset_sandbox()?;
            eprintln!("The sandbox starts afresh.");
            Ok(0)
        }
    }
}
