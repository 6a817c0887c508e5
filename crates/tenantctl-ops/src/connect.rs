//! Where tenantctl connects and with which credentials.
//!
//! In order of precedence:
//! 1. `--sandbox`: the simulator, started in-process (seed 1, a few dozen customers).
//! 2. `--endpoint URL` / `TENANTCTL_ENDPOINT`: every service under one base URL with the
//!    simulator's prefixes (`/login`, `/graph`, `/partnercenter`, `/outlook`).
//! 3. A profile (`--profile NAME`, default `default`) in `<config dir>/tenantctl/config.toml`
//!    (`TENANTCTL_CONFIG` overrides the path).
//!
//! Credentials: `AZURE_TENANT_ID` (the partner tenant), `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`
//! and `TENANTCTL_REFRESH_TOKEN` override the profile. A refresh token (from the environment or
//! the profile's 0600 file written by `tenantctl login --device-code`) selects the delegated
//! GDAP path (Secure Application Model); otherwise a client secret selects app-only access.

use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tenantctl_transport::api::Api;
use tenantctl_transport::cloud::{CloudName, Endpoints};
use tenantctl_transport::http::{Executor, RetryPolicy};
use tenantctl_transport::token::{app_credential_from_env, Credential, RefreshTokenStore, Secret, TokenProvider};

/// One profile of `config.toml`.
#[derive(Deserialize, Debug, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// `global` (default), `usgov`, `usgovdod`, `china` or `custom`.
    pub cloud: Option<String>,
    /// Base URL for `cloud = "custom"`.
    pub endpoint: Option<String>,
    /// The partner tenant (GUID or domain).
    pub tenant_id: Option<String>,
    /// The partner's multi-tenant app registration.
    pub client_id: Option<String>,
    /// A file (0600) holding the client secret.
    pub client_secret_file: Option<PathBuf>,
    /// Where `login --device-code` stores the refresh token (default
    /// `<config dir>/tenantctl/<profile>.refresh-token`).
    pub refresh_token_file: Option<PathBuf>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

pub fn config_dir() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("tenantctl"))
}

pub fn config_path() -> Option<PathBuf> {
    std::env::var_os("TENANTCTL_CONFIG")
        .map(PathBuf::from)
        .or_else(|| config_dir().map(|d| d.join("config.toml")))
}

/// Reads a profile; a missing file or profile is an empty profile (env may supply everything).
pub fn load_profile(name: &str) -> Result<(Profile, Option<PathBuf>)> {
    let Some(path) = config_path() else {
        return Ok((Profile::default(), None));
    };
    if !path.exists() {
        return Ok((Profile::default(), Some(path)));
    }
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let cfg: ConfigFile = toml::from_str(&text).map_err(|e| anyhow!("{}", config_error(&path, &text, &e)))?;
    match cfg.profiles.get(name) {
        Some(p) => Ok((p.clone(), Some(path))),
        None if name == "default" => Ok((Profile::default(), Some(path))),
        None => bail!(
            "profile '{name}' is not in {} (profiles there: {})",
            path.display(),
            cfg.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
    }
}

/// A config file error as `path:line:column: message`, without TOML's quoted source line: the
/// line may hold a secret (probe D7: an inline `client_secret = "…"` was printed whole). When
/// the key on that line looks secret, quoted values in the message are hidden too.
fn config_error(path: &Path, text: &str, e: &toml::de::Error) -> String {
    let (line, col, line_text) = match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let start = before.rfind('\n').map_or(0, |i| i + 1);
            let line_text = text[start..].lines().next().unwrap_or("");
            (line, span.start - start + 1, line_text)
        }
        None => (0, 0, ""),
    };
    let key = line_text.split('=').next().unwrap_or("").trim().to_ascii_lowercase();
    let secret_key = ["secret", "token", "password", "key", "credential"]
        .iter()
        .any(|w| key.contains(w));
    let mut message = e.message().trim().to_owned();
    if secret_key {
        message = hide_quoted(&message);
    }
    let hint = if secret_key {
        format!(" (secrets do not belong in the config file: put `{key}` in a 0600 file and name it with `client_secret_file`, or use the environment)")
    } else {
        String::new()
    };
    if line == 0 {
        format!("{}: {message}{hint}", path.display())
    } else {
        format!("{}:{line}:{col}: {message}{hint}", path.display())
    }
}

/// Replaces every quoted part of `s` ("…", '…', `…` excepted) with `"***"`.
fn hide_quoted(s: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    for c in s.chars() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                out.push_str("\"***\"");
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, c) => out.push(c),
        }
    }
    out
}

fn env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn read_secret_file(p: &Path) -> Result<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::metadata(p) {
            if m.permissions().mode() & 0o077 != 0 {
                tracing::warn!("{} is readable by others; chmod 600 it", p.display());
            }
        }
    }
    Ok(std::fs::read_to_string(p)
        .with_context(|| format!("reading {}", p.display()))?
        .trim()
        .to_owned())
}

/// A connection to the services: the API door and the partner tenant.
pub struct Conn {
    pub api: Api,
    /// The partner tenant, as the token endpoint accepts it (GUID or domain).
    pub partner: String,
    /// Keeps the in-process simulator alive for `--sandbox`.
    pub _sandbox: Option<tenantctl_sim::RunningSim>,
}

/// What the global flags say about where to connect.
#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    pub sandbox: bool,
    /// An extra trusted root CA (PEM).
    pub ca_file: Option<PathBuf>,
    pub endpoint: Option<String>,
    pub cloud: Option<String>,
    pub profile: String,
    /// Where access tokens are kept across runs ([`token_cache_path`]); `None`: not kept
    /// (`--no-token-cache`). The sandbox never keeps them.
    pub token_cache: Option<PathBuf>,
    /// Where tenant sizes from earlier runs are kept ([`sizes_path`]), to start the biggest
    /// tenants first; `None`: not kept. The sandbox never keeps them.
    pub sizes: Option<PathBuf>,
}

/// The on-disk access-token cache: `TENANTCTL_TOKEN_CACHE`, else
/// `<cache dir>/tenantctl/tokens.json` (e.g. `~/.cache/tenantctl/tokens.json`).
pub fn token_cache_path() -> Option<PathBuf> {
    env("TENANTCTL_TOKEN_CACHE")
        .map(PathBuf::from)
        .or_else(|| dirs::cache_dir().map(|d| d.join("tenantctl").join("tokens.json")))
}

/// The tenant sizes of earlier runs ([`crate::sizes`]): `tenant-sizes.json` in the token
/// cache's directory (e.g. `~/.cache/tenantctl/tenant-sizes.json`).
pub fn sizes_path() -> Option<PathBuf> {
    token_cache_path().map(|p| match p.parent() {
        Some(d) => d.join("tenant-sizes.json"),
        None => PathBuf::from("tenant-sizes.json"),
    })
}

/// Empties the on-disk token cache (a new sign-in: the tokens of the previous one must not be
/// used for it).
pub fn clear_token_cache() -> Result<()> {
    if let Some(p) = token_cache_path() {
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(anyhow!("removing the token cache {}: {e}", p.display())),
        }
    }
    Ok(())
}

/// The HTTP executor; `ca_file` (`--ca-file`/`TENANTCTL_CA_FILE`) adds a trusted root (e.g. the
/// CA of `tenantctl sim serve --tls`) to the built-in ones, never "accept any certificate".
pub fn executor(ca_file: Option<&Path>) -> Result<Executor> {
    let mut b = Executor::builder().policy(RetryPolicy::default());
    if let Some(p) = ca_file {
        b = b.ca_file(p);
    }
    b.build().map_err(|e| anyhow!("{e}"))
}

/// The sandbox simulator: seed 1, 30 customers, no added latency; its changes are kept in
/// [`sandbox_dir`] between commands (written atomically by the simulator after each write).
pub async fn start_sandbox() -> Result<tenantctl_sim::RunningSim> {
    let mut cfg = tenantctl_sim::SimConfig::new(1, 30);
    // A few B2B guests per customer, as real tenants have (`reports guests`).
    cfg.fleet.guests = true;
    if let Some(dir) = sandbox_dir() {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating the sandbox's directory {}", dir.display()))?;
        cfg.state_dir = Some(dir);
    }
    tenantctl_sim::start(cfg)
        .await
        .context("starting the sandbox simulator")
}

/// Endpoints, partner tenant and client id, without credentials (what `login` needs).
pub struct Destination {
    pub endpoints: Endpoints,
    pub partner: String,
    pub client_id: String,
    pub profile: Profile,
    pub profile_name: String,
}

pub fn resolve_target(a: &ConnectOptions, sandbox: Option<&tenantctl_sim::RunningSim>) -> Result<Destination> {
    let (profile, path) = load_profile(&a.profile)?;
    let where_ = path
        .map(|p| format!("[profiles.{}] in {}", a.profile, p.display()))
        .unwrap_or_else(|| "a profile".into());
    if let Some(sim) = sandbox {
        let f = &sim.sim.fleet;
        return Ok(Destination {
            endpoints: Endpoints::custom(&sim.base_url).map_err(|e| anyhow!(e))?,
            partner: f.partner_tenant().id.to_string(),
            client_id: f.partner.client_id.to_string(),
            profile,
            profile_name: a.profile.clone(),
        });
    }
    let endpoint = a.endpoint.clone().or_else(|| env("TENANTCTL_ENDPOINT"));
    let endpoints = if let Some(e) = endpoint {
        Endpoints::custom(&e).map_err(|e| anyhow!("--endpoint: {e}"))?
    } else {
        let cloud_s = a
            .cloud
            .clone()
            .or(profile.cloud.clone())
            .unwrap_or_else(|| "global".into());
        let cloud: CloudName = cloud_s.parse().map_err(|e: String| anyhow!("cloud: {e}"))?;
        if cloud == CloudName::Custom {
            let e = profile
                .endpoint
                .clone()
                .ok_or_else(|| anyhow!("cloud = \"custom\" needs endpoint = \"<base URL>\" in {where_}"))?;
            Endpoints::custom(&e).map_err(|e| anyhow!("endpoint in {where_}: {e}"))?
        } else {
            Endpoints::for_cloud(cloud).expect("a national cloud")
        }
    };
    let partner = env("AZURE_TENANT_ID").or(profile.tenant_id.clone()).ok_or_else(|| {
        anyhow!("which partner tenant? set AZURE_TENANT_ID or tenant_id in {where_} (or try --sandbox)")
    })?;
    let client_id = env("AZURE_CLIENT_ID").or(profile.client_id.clone()).ok_or_else(|| {
        anyhow!("which app? set AZURE_CLIENT_ID or client_id in {where_} (README: 'Set up a real partner')")
    })?;
    Ok(Destination {
        endpoints,
        partner,
        client_id,
        profile,
        profile_name: a.profile.clone(),
    })
}

/// The refresh-token file of a profile.
pub fn refresh_token_file(t: &Destination) -> Option<PathBuf> {
    t.profile
        .refresh_token_file
        .clone()
        .or_else(|| config_dir().map(|d| d.join(format!("{}.refresh-token", t.profile_name))))
}

pub async fn connect(a: &ConnectOptions) -> Result<Conn> {
    let sandbox = if a.sandbox { Some(start_sandbox().await?) } else { None };
    let t = resolve_target(a, sandbox.as_ref())?;
    let secret = match (&sandbox, env("AZURE_CLIENT_SECRET"), &t.profile.client_secret_file) {
        (Some(sim), _, _) => Some(sim.sim.fleet.partner.client_secret.clone()),
        (None, Some(s), _) => Some(s),
        (None, None, Some(p)) => Some(read_secret_file(p)?),
        _ => None,
    };
    let (rt, rt_file) = match &sandbox {
        Some(sim) => (Some(sim.sim.fleet.partner.initial_refresh_token.clone()), None),
        None => match env("TENANTCTL_REFRESH_TOKEN") {
            Some(rt) => (Some(rt), None),
            None => match refresh_token_file(&t).filter(|p| p.exists()) {
                Some(p) => (Some(read_secret_file(&p)?), Some(p)),
                None => (None, None),
            },
        },
    };
    let credential = match (rt, secret) {
        // No refresh token and no secret: a certificate or a federated token (workload
        // identity), as azure-identity's EnvironmentCredential reads them.
        (None, None) if sandbox.is_none() => match app_credential_from_env(env)
            .map_err(|e| anyhow!("AZURE_CLIENT_CERTIFICATE_PATH: {e}"))?
        {
            Some(c) => c,
            None => bail!(
                "no credentials: run `tenantctl login`, or set TENANTCTL_REFRESH_TOKEN, AZURE_CLIENT_SECRET, \
                 AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE (README: 'Set up a real partner'); or try --sandbox"
            ),
        },
        (Some(rt), secret) => Credential::RefreshToken {
            client_id: t.client_id.clone(),
            secret: secret.map(Secret::new),
            store: Arc::new(RefreshTokenStore::new(Secret::new(rt), rt_file)),
        },
        (None, Some(s)) => Credential::ClientSecret {
            client_id: t.client_id.clone(),
            secret: Secret::new(s),
        },
        (None, None) => bail!(
            "no credentials: run `tenantctl login --device-code`, or set TENANTCTL_REFRESH_TOKEN or AZURE_CLIENT_SECRET \
             (README: 'Set up a real partner'); or try --sandbox"
        ),
    };
    let exec = executor(a.ca_file.as_deref())?;
    let mut tokens = TokenProvider::new(t.endpoints.clone(), credential, exec.clone());
    if let (Some(path), None) = (&a.token_cache, &sandbox) {
        tokens = tokens.with_disk_cache(path.clone());
    }
    let tokens = Arc::new(tokens);
    Ok(Conn {
        api: Api::new(exec, tokens),
        partner: t.partner,
        _sandbox: sandbox,
    })
}

/// Where the sandbox keeps its changes between commands: `TENANTCTL_SANDBOX_DIR`, else
/// `<data dir>/tenantctl/sandbox` (e.g. `~/.local/share/tenantctl/sandbox`).
pub fn sandbox_dir() -> Option<PathBuf> {
    env("TENANTCTL_SANDBOX_DIR")
        .map(PathBuf::from)
        .or_else(|| dirs::data_dir().map(|d| d.join("tenantctl").join("sandbox")))
}

/// Forgets every change made in the sandbox.
pub fn reset_sandbox() -> Result<()> {
    if let Some(d) = sandbox_dir() {
        tenantctl_sim::reset_state(&d).with_context(|| format!("removing the sandbox's state in {}", d.display()))?;
    }
    Ok(())
}

/// Publishes, in the sandbox's simulated DNS, the verification TXT record of a domain added
/// to a sandbox customer (what a partner does at the DNS host). Returns the tenants concerned.
pub async fn sandbox_publish_dns(domain: &str) -> Result<Vec<String>> {
    let sim = start_sandbox().await?;
    let done = sim
        .sim
        .publish_verification_txt(domain)
        .with_context(|| format!("publishing the TXT record of {domain}"))?;
    sim.stop().await;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_error(text: &str) -> String {
        let e = toml::from_str::<ConfigFile>(text).unwrap_err();
        config_error(Path::new("config.toml"), text, &e)
    }

    /// Probe D7: an inline secret under an unknown key was printed verbatim in the TOML error.
    #[test]
    fn config_errors_never_echo_a_secret() {
        let text =
            "[profiles.default]\ntenant_id = \"contoso.onmicrosoft.com\"\nclient_secret = \"Sup3r~Secr3t.Value\"\n";
        let m = parse_error(text);
        assert!(!m.contains("Sup3r~Secr3t.Value"), "{m}");
        assert!(m.starts_with("config.toml:3:"), "{m}");
        assert!(m.contains("client_secret"), "names the key: {m}");
        assert!(m.contains("client_secret_file"), "says what to do: {m}");
        // A wrong type under a secret-looking key: the value is not quoted back either.
        let m = parse_error("[profiles.default]\nrefresh_token_file = [\"eyJhbGciOiJSUzI1NiJ9.x.y\"]\n");
        assert!(!m.contains("eyJ"), "{m}");
        // Other errors keep their words.
        let m = parse_error("[profiles.default]\ncloud = 5\n");
        assert!(m.starts_with("config.toml:2:"), "{m}");
        assert!(!m.contains('\n'), "one line: {m:?}");
    }
}
