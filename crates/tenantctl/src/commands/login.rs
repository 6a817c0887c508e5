//! `login`: the device code flow.

use crate::args::Global;
use anyhow::Result;
use tenantctl_ops::login::{self, LoggedIn};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Use the device code flow (the default and only interactive flow; kept for scripts).
    #[arg(long)]
    pub device_code: bool,
}

pub async fn exec(g: &Global, _a: Args) -> Result<i32> {
    let done = login::device_code(&g.connect_options(), |uri, code| {
        eprintln!("To sign in, open {uri} and enter the code {code}");
    })
    .await?;
    match done {
        LoggedIn::Sandbox => eprintln!("Signed in to the sandbox (its refresh token is not stored)."),
        LoggedIn::Stored(p) => eprintln!("Signed in; the refresh token is stored in {} (0600).", p.display()),
    }
    Ok(0)
}
