//! `login`: the partner admin signs in with a device code; the refresh token is stored 0600.

use crate::connect::{self, ConnectOptions};
use anyhow::{anyhow, Context, Result};
use std::path::PathBuf;

/// Where the sign-in ended.
pub enum LoggedIn {
    /// The sandbox's token is not stored.
    Sandbox,
    Stored(PathBuf),
}

/// Runs the device code flow; `prompt(uri, code)` tells the user where to go.
pub async fn device_code(o: &ConnectOptions, prompt: impl Fn(&str, &str)) -> Result<LoggedIn> {
    let sandbox = if o.sandbox {
        Some(connect::start_sandbox().await?)
    } else {
        None
    };
    let t = connect::resolve_target(o, sandbox.as_ref())?;
    let exec = connect::executor(o.ca_file.as_deref())?;
    let rt = tenantctl_transport::token::TokenProvider::device_code_login(
        &t.endpoints,
        &exec,
        &t.client_id,
        &t.partner,
        |uri, code| prompt(uri, code),
    )
    .await
    .map_err(|e| anyhow!("sign-in failed: {e}"))?;
    if sandbox.is_some() {
        return Ok(LoggedIn::Sandbox);
    }
    let path = connect::refresh_token_file(&t)
        .ok_or_else(|| anyhow!("no config directory: set refresh_token_file in the profile"))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    tenantctl_transport::token::write_private_file(&path, rt.expose())
        .with_context(|| format!("saving the refresh token to {}", path.display()))?;
    // Tokens of an earlier sign-in are not this one's.
    connect::clear_token_cache()?;
    Ok(LoggedIn::Stored(path))
}
