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
    ///
    /// Example: tenantctl sandbox reset
    Reset,
    /// Publish a sandbox domain's verification TXT record in the simulated DNS (what you would
    /// do at the DNS host), so that `domains verify` succeeds.
    ///
    /// Example: tenantctl sandbox publish-dns adatumfarms.de
    PublishDns {
        /// The domain added with `tenantctl --sandbox domains add`.
        name: String,
    },
}

pub async fn exec(a: Args) -> Result<i32> {
    match a.cmd {
        Cmd::Reset => {
            tenantctl_ops::connect::reset_sandbox()?;
            eprintln!("The sandbox starts afresh.");
            Ok(0)
        }
        Cmd::PublishDns { name } => {
            let tenants = tenantctl_ops::connect::sandbox_publish_dns(&name).await?;
            if tenants.is_empty() {
                anyhow::bail!(
                    "no sandbox customer has added {name} (unverified); add it first: tenantctl --sandbox domains add {name} --tenant <customer>"
                );
            }
            eprintln!("Published the TXT record of {name}; now run: tenantctl --sandbox domains verify {name} --tenant <customer>");
            Ok(0)
        }
    }
}
