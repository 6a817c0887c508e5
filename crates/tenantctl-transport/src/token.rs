//! Tokens: credentials, the OAuth flows (through the `oauth2` crate, over our retrying
//! executor), the refresh-token store, and a per-(tenant, resource) cache with early refresh
//! and single-flight: 500 tasks wanting the same token cause one token request.
//!
//! Contracts: learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow,
//! v2-oauth2-auth-code-flow (refresh), v2-oauth2-device-code, reference-error-codes.

use crate::assertion::{random_jti, read_federated_token, AssertionError, ClientCertificate, JWT_BEARER};
use crate::clock::{MonoTime, SharedClock};
use crate::cloud::{Endpoints, Resource};
use crate::http::{Executor, TransportError};
use crate::token_cache::DiskTokenCache;
use oauth2::basic::{BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenResponse};
use oauth2::{
    AuthType, ClientId, ClientSecret, DeviceAuthorizationUrl, EndpointNotSet, EndpointSet, RefreshToken,
    RequestTokenError, Scope, StandardRevocableToken, TokenResponse, TokenUrl,
};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A secret string whose `Debug`/`Display` never print it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(Arc::from(s.into()))
    }
    /// The secret itself: for an `Authorization` header or a form field only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where the partner's stored refresh token lives; rotated tokens replace it (file 0600).
pub struct RefreshTokenStore {
    current: Mutex<Secret>,
    /// The token as given (the identity of an environment-given sign-in).
    initial: Secret,
    file: Option<PathBuf>,
    last_saved: Mutex<Option<MonoTime>>,
}

impl RefreshTokenStore {
    pub fn new(token: Secret, file: Option<PathBuf>) -> RefreshTokenStore {
        RefreshTokenStore {
            initial: token.clone(),
            current: Mutex::new(token),
            file,
            last_saved: Mutex::new(None),
        }
    }

    pub fn get(&self) -> Secret {
        self.current.lock().clone()
    }

    /// Keeps the newest token; persists it at most every 10 minutes (the old one stays valid:
    /// Entra does not revoke a refresh token when it is redeemed). `now` is on the token
    /// provider's clock.
    pub fn rotate(&self, new: Secret, now: MonoTime) {
        *self.current.lock() = new.clone();
        let Some(path) = &self.file else { return };
        let mut last = self.last_saved.lock();
        if last.is_some_and(|t| now.saturating_since(t) < Duration::from_secs(600)) {
            return;
        }
        if let Err(e) = write_private_file(path, new.expose()) {
            tracing::warn!("could not save the rotated refresh token to {}: {e}", path.display());
        } else {
            *last = Some(now);
        }
    }
}

/// Writes a file readable by its owner only (0600 on Unix), atomically: the content goes to a
/// new file with a random name in the same directory, created exclusively (`O_EXCL`, so a
/// pre-existing or symlinked temporary name can neither weaken its mode nor redirect it),
/// synced, then renamed over `path` (probe D8).
pub fn write_private_file(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    write_private_file_with(path, |f| f.write_all(contents.as_bytes()))
}

/// [`write_private_file`] with the content written by `write` (e.g. serialised straight into
/// the file, never held whole in memory).
pub fn write_private_file_with(
    path: &std::path::Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{name}.");
    let mut b = tempfile::Builder::new();
    b.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o600));
    }
    let mut f = b.tempfile_in(dir)?;
    {
        let mut w = std::io::BufWriter::new(f.as_file_mut());
        write(&mut w)?;
        w.flush()?;
    }
    f.as_file().sync_all()?;
    f.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// How tenantctl proves who it is.
#[derive(Clone)]
pub enum Credential {
    /// App-only: `client_credentials` with a client secret.
    ClientSecret { client_id: String, secret: Secret },
    /// Delegated (GDAP, Secure Application Model): the partner account's refresh token,
    /// redeemed per customer tenant and resource; `secret` for a confidential app.
    RefreshToken {
        client_id: String,
        secret: Option<Secret>,
        store: Arc<RefreshTokenStore>,
    },
    /// App-only: `client_credentials` with a JWT assertion signed by the app's certificate
    /// (`AZURE_CLIENT_CERTIFICATE_PATH`: a PEM with certificate and private key).
    Certificate {
        client_id: String,
        certificate: ClientCertificate,
    },
    /// App-only: `client_credentials` with workload identity federation: the assertion is the
    /// token in `token_file` (`AZURE_FEDERATED_TOKEN_FILE`), read afresh for each request.
    Federated { client_id: String, token_file: PathBuf },
}

impl Credential {
    pub fn client_id(&self) -> &str {
        match self {
            Credential::ClientSecret { client_id, .. }
            | Credential::RefreshToken { client_id, .. }
            | Credential::Certificate { client_id, .. }
            | Credential::Federated { client_id, .. } => client_id,
        }
    }
    /// Who this credential is, for the on-disk token cache's keys ([`crate::token_cache`]):
    /// the flow, the client id and what tells one secret, certificate or sign-in from another
    /// (hashed there; never written in clear). A refresh token read from a file is known by the
    /// file (it rotates on every run; `tenantctl login` empties the cache when it writes a new
    /// one); one given in the environment by the token itself.
    pub fn cache_identity(&self) -> String {
        match self {
            Credential::ClientSecret { client_id, secret } => format!("secret|{client_id}|{}", secret.expose()),
            Credential::Certificate { client_id, certificate } => {
                format!("certificate|{client_id}|{}", certificate.x5t_s256())
            }
            Credential::Federated { client_id, token_file } => {
                format!("federated|{client_id}|{}", token_file.display())
            }
            Credential::RefreshToken { client_id, store, .. } => match &store.file {
                Some(f) => format!("refresh-token-file|{client_id}|{}", f.display()),
                None => format!("refresh-token|{client_id}|{}", store.initial.expose()),
            },
        }
    }

    fn flow(&self) -> &'static str {
        match self {
            Credential::ClientSecret { .. } => "client_credentials",
            Credential::Certificate { .. } => "client_credentials (certificate)",
            Credential::Federated { .. } => "client_credentials (federated)",
            Credential::RefreshToken { .. } => "refresh_token",
        }
    }

    /// The `client_assertion` for a token request at `token_url`, for assertion credentials.
    fn client_assertion(&self, token_url: &str, clock: &SharedClock) -> Result<Option<String>, AssertionError> {
        match self {
            Credential::Certificate { client_id, certificate } => certificate
                .assertion(client_id, token_url, clock.now_system(), random_jti())
                .map(Some),
            Credential::Federated { token_file, .. } => read_federated_token(token_file).map(Some),
            _ => Ok(None),
        }
    }
}

/// The app-only credential azure-identity's `EnvironmentCredential` and
/// `WorkloadIdentityCredential` would pick from these variables (`env` looks one up):
/// `AZURE_CLIENT_ID` with `AZURE_CLIENT_SECRET`, else `AZURE_CLIENT_CERTIFICATE_PATH` (PEM with
/// certificate and key), else `AZURE_FEDERATED_TOKEN_FILE`. `None` when none is set (or no
/// client id); an unreadable certificate is an error.
pub fn app_credential_from_env(env: impl Fn(&str) -> Option<String>) -> Result<Option<Credential>, AssertionError> {
    let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    let Some(client_id) = get("AZURE_CLIENT_ID") else {
        return Ok(None);
    };
    if let Some(secret) = get("AZURE_CLIENT_SECRET") {
        return Ok(Some(Credential::ClientSecret {
            client_id,
            secret: Secret::new(secret),
        }));
    }
    if let Some(path) = get("AZURE_CLIENT_CERTIFICATE_PATH") {
        let certificate = ClientCertificate::from_file(std::path::Path::new(&path))?;
        return Ok(Some(Credential::Certificate { client_id, certificate }));
    }
    if let Some(file) = get("AZURE_FEDERATED_TOKEN_FILE") {
        return Ok(Some(Credential::Federated {
            client_id,
            token_file: PathBuf::from(file),
        }));
    }
    Ok(None)
}

/// Microsoft's token error body: `error`, `error_description`, `error_codes`, ids.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AadErrorResponse {
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
    #[serde(default)]
    pub error_codes: Vec<u32>,
    #[serde(default)]
    pub trace_id: Option<String>,
    #[serde(default)]
    pub correlation_id: Option<String>,
}

impl fmt::Display for AadErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}",
            self.error,
            first_sentence(self.error_description.as_deref().unwrap_or(""))
        )
    }
}

impl oauth2::ErrorResponse for AadErrorResponse {}

/// The AADSTS description's first line, without the trailing trace/correlation ids.
pub fn first_sentence(d: &str) -> String {
    let d = d.split(" Trace ID:").next().unwrap_or(d);
    d.lines().next().unwrap_or("").trim().to_owned()
}

/// What a token failure means for a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AadKind {
    /// The app is not consented in the tenant (65001, 90099, 700016, 650051/650052).
    ConsentMissing,
    /// No GDAP relationship/assignment covers the user here (50020, 50034, 51004, 530034).
    NoAccess,
    /// Unknown tenant (90002).
    TenantNotFound,
    /// Bad or expired client secret/certificate: nothing will work (7000215, 7000222, 700027).
    BadCredentials,
    /// The stored refresh token is expired/revoked or needs MFA: run `tenantctl login`.
    ReauthRequired,
    /// Throttled or temporarily unavailable even after retries.
    Transient,
    Other,
}

impl AadKind {
    pub fn from_code(code: Option<u32>, error: &str) -> AadKind {
        match code {
            Some(65001 | 90099 | 700016 | 650051 | 650052) => AadKind::ConsentMissing,
            Some(50020 | 50034 | 51004 | 530034 | 50177) => AadKind::NoAccess,
            Some(90002) => AadKind::TenantNotFound,
            Some(7000215 | 7000222 | 700027 | 7000218 | 700025) => AadKind::BadCredentials,
            Some(700082 | 70008 | 50173 | 70043 | 50076 | 50079 | 50078 | 9002313 | 70000) => AadKind::ReauthRequired,
            Some(90055 | 90024 | 90006 | 90033) => AadKind::Transient,
            _ if error == "temporarily_unavailable" => AadKind::Transient,
            _ => AadKind::Other,
        }
    }

    /// Failures that concern the whole run, not one tenant.
    pub fn is_fatal(self) -> bool {
        matches!(self, AadKind::BadCredentials | AadKind::ReauthRequired)
    }

    /// What to do about it (`; …`), where there is one thing to do (probe D19: a revoked
    /// refresh token said nothing about signing in again).
    pub fn hint(self) -> &'static str {
        match self {
            AadKind::ReauthRequired => {
                "; the partner admin's sign-in has expired or was revoked: sign in again with `tenantctl login --device-code`"
            }
            AadKind::BadCredentials => {
                "; check the app's client secret or certificate (AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or the profile)"
            }
            _ => "",
        }
    }
}

#[derive(Clone, Debug, thiserror::Error)]
pub enum TokenError {
    #[error("token for {tenant}: AADSTS{code}: {summary}{hint}", code = code.map(|c| c.to_string()).unwrap_or_else(|| "?".into()), hint = kind.hint())]
    Aad {
        tenant: String,
        kind: AadKind,
        code: Option<u32>,
        error: String,
        summary: String,
    },
    /// No answer from the token endpoint.
    #[error("token for {tenant}: {source}")]
    Transport {
        tenant: String,
        #[source]
        source: TransportError,
    },
    /// An answer that is not a token response (or a token URL that cannot be built).
    #[error("token for {tenant}: {message}")]
    Protocol { tenant: String, message: String },
    /// The credential itself is unusable (unreadable certificate or federated token file).
    #[error("credential: {0}")]
    Credential(#[source] AssertionError),
}

impl TokenError {
    pub fn kind(&self) -> AadKind {
        match self {
            TokenError::Aad { kind, .. } => *kind,
            TokenError::Transport { .. } | TokenError::Protocol { .. } => AadKind::Transient,
            TokenError::Credential(_) => AadKind::BadCredentials,
        }
    }
}

/// An access token and when to stop using it.
#[derive(Clone)]
pub struct AccessToken {
    pub token: Secret,
    /// On the token provider's clock.
    pub expires_at: MonoTime,
    /// Refresh this long before expiry (a fifth of the lifetime, at most 5 minutes).
    pub refresh_margin: Duration,
}

impl AccessToken {
    pub fn is_fresh(&self, now: MonoTime) -> bool {
        fresh(now, self.expires_at, self.refresh_margin)
    }
}

/// A token expiring at `expires_at` is used while more than `refresh_margin` is left.
fn fresh(now: MonoTime, expires_at: MonoTime, refresh_margin: Duration) -> bool {
    now + refresh_margin < expires_at
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

type AadClient = oauth2::Client<
    AadErrorResponse,
    BasicTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

#[derive(Default)]
enum SlotState {
    #[default]
    Empty,
    Ready(AccessToken),
    /// Fresh until `expires_at` (less the margin), and kept in the on-disk cache only: read
    /// back from there when asked for (a run over 10,000 tenants does not hold 10,000 tokens).
    OnDisk {
        expires_at: MonoTime,
        refresh_margin: Duration,
    },
    /// A definite failure (not a transient one), remembered briefly so that a tenant without
    /// consent does not cost one token request per waiting task.
    Failed(TokenError, MonoTime),
}

impl SlotState {
    fn on_disk(t: &AccessToken) -> SlotState {
        SlotState::OnDisk {
            expires_at: t.expires_at,
            refresh_margin: t.refresh_margin,
        }
    }
}

#[derive(Default)]
struct Slot {
    state: tokio::sync::Mutex<SlotState>,
}

const FAILURE_TTL: Duration = Duration::from_secs(30);

/// Issues access tokens per (tenant, resource) for one credential, cached and single-flight.
pub struct TokenProvider {
    endpoints: Endpoints,
    credential: Credential,
    executor: Executor,
    clock: SharedClock,
    slots: Mutex<HashMap<(String, Resource), Arc<Slot>>>,
    requests: AtomicU64,
    /// Tokens kept across runs (`None`: `--no-token-cache`, the sandbox, tests).
    disk: Option<DiskTokenCache>,
    disk_hits: AtomicU64,
}

impl TokenProvider {
    /// Uses the executor's clock for expiry, early refresh and failure memory.
    pub fn new(endpoints: Endpoints, credential: Credential, executor: Executor) -> TokenProvider {
        TokenProvider {
            endpoints,
            credential,
            clock: executor.clock().clone(),
            executor,
            slots: Mutex::new(HashMap::new()),
            requests: AtomicU64::new(0),
            disk: None,
            disk_hits: AtomicU64::new(0),
        }
    }

    /// Also keeps tokens across runs in the 0600 file at `path` (see [`crate::token_cache`]).
    pub fn with_disk_cache(mut self, path: PathBuf) -> TokenProvider {
        let identity = self.credential.cache_identity();
        self.disk = Some(DiskTokenCache::open(path, &identity, self.clock.clone()));
        self
    }

    /// Tokens taken from the on-disk cache so far.
    pub fn disk_hits(&self) -> u64 {
        self.disk_hits.load(Ordering::Relaxed)
    }

    /// A fresh token for `tenant` and `resource` from the on-disk cache.
    fn read_disk(&self, tenant: &str, resource: Resource) -> Option<AccessToken> {
        let c = self
            .disk
            .as_ref()?
            .get(&self.endpoints.token_url(tenant), &self.endpoints.scope(resource))?;
        Some(AccessToken {
            token: c.token,
            expires_at: self.clock.now_mono() + c.remaining,
            refresh_margin: c.refresh_margin,
        })
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// Token requests sent so far (cache misses).
    pub fn token_requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// A token for `resource` in `tenant` (GUID or domain), from the cache when fresh.
    pub async fn token(&self, tenant: &str, resource: Resource) -> Result<AccessToken, TokenError> {
        let key = (tenant.to_ascii_lowercase(), resource);
        let slot = self.slots.lock().entry(key).or_default().clone();
        let mut st = slot.state.lock().await;
        let now = self.clock.now_mono();
        match &*st {
            SlotState::Ready(t) if t.is_fresh(now) => return Ok(t.clone()),
            SlotState::OnDisk {
                expires_at,
                refresh_margin,
            } if fresh(now, *expires_at, *refresh_margin) => {
                if let Some(t) = self.read_disk(tenant, resource) {
                    return Ok(t);
                }
            }
            SlotState::Failed(e, at) if now.saturating_since(*at) < FAILURE_TTL => return Err(e.clone()),
            SlotState::Empty => {
                if let Some(t) = self.read_disk(tenant, resource) {
                    self.disk_hits.fetch_add(1, Ordering::Relaxed);
                    *st = SlotState::on_disk(&t);
                    return Ok(t);
                }
            }
            _ => {}
        }
        let r = self.fetch(tenant, resource).await;
        *st = match &r {
            Ok((t, true)) => SlotState::on_disk(t),
            Ok((t, false)) => SlotState::Ready(t.clone()),
            Err(e) if e.kind() != AadKind::Transient => SlotState::Failed(e.clone(), self.clock.now_mono()),
            Err(_) => SlotState::Empty,
        };
        r.map(|(t, _)| t)
    }

    /// Forgets a token the resource rejected (401), so the next call fetches a new one.
    pub async fn invalidate(&self, tenant: &str, resource: Resource, rejected: &Secret) {
        let slot = self.slots.lock().get(&(tenant.to_ascii_lowercase(), resource)).cloned();
        if let Some(slot) = slot {
            let mut st = slot.state.lock().await;
            // On disk: the disk cache forgets it below if it is the rejected one; the next
            // call reads the disk again (finding a newer token, or none).
            if matches!(&*st, SlotState::Ready(t) if &t.token == rejected) || matches!(&*st, SlotState::OnDisk { .. }) {
                *st = SlotState::Empty;
            }
        }
        if let Some(d) = &self.disk {
            d.forget(
                &self.endpoints.token_url(tenant),
                &self.endpoints.scope(resource),
                rejected,
            );
        }
    }

    /// A new token, and whether the on-disk cache kept it.
    async fn fetch(&self, tenant: &str, resource: Resource) -> Result<(AccessToken, bool), TokenError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let token_url = self.endpoints.token_url(tenant);
        let url = TokenUrl::new(token_url.clone()).map_err(|e| TokenError::Protocol {
            tenant: tenant.into(),
            message: format!("bad token URL: {e}"),
        })?;
        let assertion = self
            .credential
            .client_assertion(&token_url, &self.clock)
            .map_err(TokenError::Credential)?;
        let mut client: AadClient =
            oauth2::Client::new(ClientId::new(self.credential.client_id().to_owned())).set_token_uri(url);
        client = client.set_auth_type(AuthType::RequestBody);
        let scope = Scope::new(self.endpoints.scope(resource));
        let exec = self.executor.clone();
        let http = move |req: oauth2::HttpRequest| {
            let exec = exec.clone();
            async move { exec.oauth_http(req).await }
        };
        tracing::debug!(tenant, ?resource, flow = self.credential.flow(), "requesting token");
        let result = match &self.credential {
            Credential::ClientSecret { secret, .. } => {
                client
                    .set_client_secret(ClientSecret::new(secret.expose().to_owned()))
                    .exchange_client_credentials()
                    .add_scope(scope)
                    .request_async(&http)
                    .await
            }
            Credential::Certificate { .. } | Credential::Federated { .. } => {
                let assertion = assertion.unwrap_or_default();
                client
                    .exchange_client_credentials()
                    .add_scope(scope)
                    .add_extra_param("client_assertion_type", JWT_BEARER)
                    .add_extra_param("client_assertion", assertion)
                    .request_async(&http)
                    .await
            }
            Credential::RefreshToken { secret, store, .. } => {
                if let Some(s) = secret {
                    client = client.set_client_secret(ClientSecret::new(s.expose().to_owned()));
                }
                let rt = RefreshToken::new(store.get().expose().to_owned());
                let r = client
                    .exchange_refresh_token(&rt)
                    .add_scope(scope)
                    .request_async(&http)
                    .await;
                if let Ok(ok) = &r {
                    if let Some(new_rt) = ok.refresh_token() {
                        store.rotate(Secret::new(new_rt.secret().clone()), self.clock.now_mono());
                    }
                }
                r
            }
        };
        match result {
            Ok(resp) => {
                let lifetime = resp.expires_in().unwrap_or(Duration::from_secs(3599));
                let t = AccessToken {
                    token: Secret::new(resp.access_token().secret().clone()),
                    expires_at: self.clock.now_mono() + lifetime,
                    refresh_margin: (lifetime / 5).min(Duration::from_secs(300)),
                };
                let kept = self.disk.as_ref().is_some_and(|d| {
                    d.put(
                        &token_url,
                        &self.endpoints.scope(resource),
                        &t.token,
                        lifetime,
                        t.refresh_margin,
                    )
                });
                Ok((t, kept))
            }
            Err(e) => Err(map_token_error(tenant, e)),
        }
    }

    /// Interactive sign-in of the partner's admin with the device code flow; returns the
    /// refresh token to store. `show` prints the instructions (code and URL) to the user.
    pub async fn device_code_login(
        endpoints: &Endpoints,
        executor: &Executor,
        client_id: &str,
        tenant: &str,
        show: impl Fn(&str, &str),
    ) -> Result<Secret, TokenError> {
        let err = |m: String| TokenError::Protocol {
            tenant: tenant.into(),
            message: m,
        };
        let client: oauth2::Client<
            AadErrorResponse,
            BasicTokenResponse,
            BasicTokenIntrospectionResponse,
            StandardRevocableToken,
            BasicRevocationErrorResponse,
            EndpointNotSet,
            EndpointSet,
            EndpointNotSet,
            EndpointNotSet,
            EndpointSet,
        > = oauth2::Client::new(ClientId::new(client_id.to_owned()))
            .set_auth_type(AuthType::RequestBody)
            .set_token_uri(TokenUrl::new(endpoints.token_url(tenant)).map_err(|e| err(e.to_string()))?)
            .set_device_authorization_url(
                DeviceAuthorizationUrl::new(endpoints.device_code_url(tenant)).map_err(|e| err(e.to_string()))?,
            );
        let exec = executor.clone();
        let clock = executor.clock().clone();
        let http = move |req: oauth2::HttpRequest| {
            let exec = exec.clone();
            async move { exec.oauth_http(req).await }
        };
        let details: oauth2::StandardDeviceAuthorizationResponse = client
            .exchange_device_code()
            .add_scope(Scope::new("offline_access".into()))
            .add_scope(Scope::new(endpoints.scope(Resource::Graph)))
            .request_async(&http)
            .await
            .map_err(|e| map_token_error(tenant, e))?;
        show(details.verification_uri().as_str(), details.user_code().secret());
        let tok = client
            .exchange_device_access_token(&details)
            .request_async(&http, |d| clock.sleep(d), None)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(r) => TokenError::Aad {
                    tenant: tenant.into(),
                    kind: AadKind::Other,
                    code: None,
                    error: r.error().as_ref().to_owned(),
                    summary: r.error_description().cloned().unwrap_or_default(),
                },
                RequestTokenError::Request(t) => TokenError::Transport {
                    tenant: tenant.into(),
                    source: t,
                },
                other => err(other.to_string()),
            })?;
        tok.refresh_token()
            .map(|r| Secret::new(r.secret().clone()))
            .ok_or_else(|| err("the sign-in returned no refresh token (was offline_access granted?)".into()))
    }
}

fn map_token_error(tenant: &str, e: RequestTokenError<TransportError, AadErrorResponse>) -> TokenError {
    match e {
        RequestTokenError::ServerResponse(r) => {
            let desc = r.error_description.clone().unwrap_or_default();
            let code = r.error_codes.first().copied().or_else(|| aadsts_code(&desc));
            TokenError::Aad {
                tenant: tenant.into(),
                kind: AadKind::from_code(code, &r.error),
                code,
                error: r.error.clone(),
                summary: first_sentence(desc.trim_start_matches(&format!("AADSTS{}: ", code.unwrap_or(0)))),
            }
        }
        RequestTokenError::Request(t) => TokenError::Transport {
            tenant: tenant.into(),
            source: t,
        },
        RequestTokenError::Parse(p, body) => TokenError::Protocol {
            tenant: tenant.into(),
            // Never the body: it may hold a token (a truncated `access_token`, probe D12).
            message: format!(
                "unreadable token response ({p}; {} bytes{}); is the authority host right, or a proxy in the way?",
                body.len(),
                if body.trim_ascii_start().starts_with(b"<") {
                    ", an HTML page"
                } else {
                    ""
                }
            ),
        },
        RequestTokenError::Other(m) => TokenError::Protocol {
            tenant: tenant.into(),
            message: m,
        },
    }
}

/// `AADSTS700016: ...` → 700016.
pub fn aadsts_code(desc: &str) -> Option<u32> {
    let rest = desc.trim_start().strip_prefix("AADSTS")?;
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aadsts_codes_map_to_what_they_mean_for_a_run() {
        let k = |c| AadKind::from_code(Some(c), "invalid_grant");
        assert_eq!(k(65001), AadKind::ConsentMissing);
        assert_eq!(k(700016), AadKind::ConsentMissing);
        assert_eq!(k(50020), AadKind::NoAccess);
        assert_eq!(k(90002), AadKind::TenantNotFound);
        assert_eq!(k(7000215), AadKind::BadCredentials);
        assert!(k(7000215).is_fatal());
        assert_eq!(k(700082), AadKind::ReauthRequired);
        assert_eq!(k(50173), AadKind::ReauthRequired);
        assert!(!k(65001).is_fatal());
        assert_eq!(AadKind::from_code(None, "temporarily_unavailable"), AadKind::Transient);
        assert_eq!(AadKind::from_code(Some(12345), "invalid_request"), AadKind::Other);
    }

    #[test]
    fn descriptions_yield_code_and_first_sentence() {
        let d = "AADSTS65001: The user or administrator has not consented to use the application. Trace ID: 1 Correlation ID: 2 Timestamp: x";
        assert_eq!(aadsts_code(d), Some(65001));
        assert_eq!(
            first_sentence(d),
            "AADSTS65001: The user or administrator has not consented to use the application."
        );
        assert_eq!(aadsts_code("nothing"), None);
    }

    /// Probe D8: a stale `<name>.tmp` (0644) or a symlink of that name beside the target once
    /// made the refresh-token store 0644, or wrote the token where the symlink pointed.
    #[cfg(unix)]
    #[test]
    fn private_files_ignore_planted_temporary_names() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("default.refresh-token");
        let planted = dir.path().join("default.tmp");
        std::fs::write(&planted, "old").unwrap();
        std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o644)).unwrap();
        let elsewhere = dir.path().join("elsewhere.txt");
        std::fs::write(&elsewhere, "untouched").unwrap();
        std::os::unix::fs::symlink(&elsewhere, dir.path().join("default.refresh-token.tmp")).unwrap();
        std::os::unix::fs::symlink(&elsewhere, dir.path().join(".default.refresh-token.tmp")).unwrap();
        write_private_file(&target, "secret-token").unwrap();
        let meta = std::fs::symlink_metadata(&target).unwrap();
        assert!(
            meta.file_type().is_file(),
            "the target is a regular file, not a symlink"
        );
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "secret-token");
        assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "untouched");
        // Rewriting keeps it 0600 and leaves no temporary file behind.
        write_private_file(&target, "rotated").unwrap();
        assert_eq!(std::fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o600);
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            // Random temporary names, not the ones this test planted.
            .filter(|n| n.starts_with(".default.refresh-token.") && n != ".default.refresh-token.tmp")
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("super-secret");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        let t = AccessToken {
            token: s,
            expires_at: MonoTime::ZERO,
            refresh_margin: Duration::ZERO,
        };
        assert!(!format!("{t:?}").contains("super-secret"));
    }

    mod mock {
        //! A token endpoint on 127.0.0.1:0 that records each request's form.
        use axum::extract::{Form, State};
        use axum::http::StatusCode;
        use axum::routing::post;
        use axum::{Json, Router};
        use parking_lot::Mutex;
        use serde_json::{json, Value};
        use std::collections::HashMap;
        use std::sync::Arc;

        #[derive(Default)]
        pub struct Mock {
            pub forms: Mutex<Vec<HashMap<String, String>>>,
            /// Answer with AADSTS7000215 (invalid client secret) instead of a token.
            pub refuse: Mutex<bool>,
        }

        async fn token(
            State(m): State<Arc<Mock>>,
            Form(f): Form<HashMap<String, String>>,
        ) -> (StatusCode, Json<Value>) {
            m.forms.lock().push(f);
            let n = m.forms.lock().len();
            if *m.refuse.lock() {
                return (
                    StatusCode::UNAUTHORIZED,
                    Json(
                        json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.",
                                "error_codes": [7000215]}),
                    ),
                );
            }
            (
                StatusCode::OK,
                Json(json!({"token_type": "Bearer", "expires_in": 3600, "access_token": format!("at-{n}")})),
            )
        }

        pub async fn start() -> (String, Arc<Mock>) {
            let m = Arc::new(Mock::default());
            let app = Router::new()
                .route("/login/{tenant}/oauth2/v2.0/token", post(token))
                .with_state(m.clone());
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}", l.local_addr().unwrap());
            tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
            (base, m)
        }
    }

    fn provider(base: &str, credential: Credential, clock: &crate::clock::ManualClock) -> TokenProvider {
        let exec = Executor::builder()
            .clock(clock.shared())
            .policy(crate::http::RetryPolicy {
                max_attempts: 1,
                ..Default::default()
            })
            .build()
            .unwrap();
        TokenProvider::new(Endpoints::custom(base).unwrap(), credential, exec)
    }

    fn clock() -> crate::clock::ManualClock {
        crate::clock::ManualClock::new(std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_028_800))
    }

    const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
    const TENANT: &str = "contoso.onmicrosoft.com";

    /// learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow, "second
    /// case: access token request with a certificate".
    #[tokio::test]
    async fn a_certificate_credential_sends_a_signed_assertion_for_the_token_endpoint() {
        let (base, mock) = mock::start().await;
        let cert = ClientCertificate::from_pem(include_bytes!("../tests/data/app-cert-and-key.pem")).unwrap();
        let c = clock();
        let p = provider(
            &base,
            Credential::Certificate {
                client_id: CLIENT.into(),
                certificate: cert,
            },
            &c,
        );
        let t = p.token(TENANT, Resource::Graph).await.unwrap();
        assert_eq!(t.token.expose(), "at-1");
        let form = mock.forms.lock()[0].clone();
        assert_eq!(form["grant_type"], "client_credentials");
        assert_eq!(form["client_id"], CLIENT);
        assert_eq!(form["scope"], "https://graph.microsoft.com/.default");
        assert_eq!(form["client_assertion_type"], JWT_BEARER);
        assert!(!form.contains_key("client_secret"));
        let jwt = &form["client_assertion"];
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        let aud = format!("{base}/login/{TENANT}/oauth2/v2.0/token");
        v.set_audience(&[&aud]);
        v.validate_exp = false;
        let key = jsonwebtoken::DecodingKey::from_rsa_pem(include_bytes!("../tests/data/app-pub.pem")).unwrap();
        let claims = jsonwebtoken::decode::<serde_json::Value>(jwt, &key, &v).unwrap().claims;
        assert_eq!(
            (claims["iss"].as_str(), claims["sub"].as_str()),
            (Some(CLIENT), Some(CLIENT))
        );
        // nbf is the injected clock's time.
        assert_eq!(claims["nbf"], 1_764_028_800u64);
    }

    /// learn.microsoft.com/entra/workload-id/workload-identity-federation: the federated token
    /// is the client assertion; the file is read for each request because it rotates.
    #[tokio::test]
    async fn a_federated_credential_sends_the_current_token_file_as_the_assertion() {
        let (base, mock) = mock::start().await;
        let dir = std::env::temp_dir().join(format!("tenantctl-wif-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("azure-identity-token");
        std::fs::write(&file, "eyJ.first.sig\n").unwrap();
        let c = clock();
        let p = provider(
            &base,
            Credential::Federated {
                client_id: CLIENT.into(),
                token_file: file.clone(),
            },
            &c,
        );
        p.token(TENANT, Resource::Graph).await.unwrap();
        std::fs::write(&file, "eyJ.rotated.sig").unwrap();
        p.token(TENANT, Resource::PartnerCenter).await.unwrap();
        let forms = mock.forms.lock().clone();
        assert_eq!(forms.len(), 2);
        assert_eq!(forms[0]["client_assertion"], "eyJ.first.sig");
        assert_eq!(forms[1]["client_assertion"], "eyJ.rotated.sig");
        assert!(forms
            .iter()
            .all(|f| f["client_assertion_type"] == JWT_BEARER && f["grant_type"] == "client_credentials"));
        // A missing file is a credential failure for the whole run, and sends nothing.
        std::fs::remove_dir_all(&dir).unwrap();
        let e = p.token(TENANT, Resource::Exchange).await.unwrap_err();
        assert!(matches!(e, TokenError::Credential(_)), "{e}");
        assert!(e.kind().is_fatal());
        assert_eq!(mock.forms.lock().len(), 2);
    }

    #[tokio::test]
    async fn a_token_is_refreshed_early_on_the_injected_clock() {
        let (base, mock) = mock::start().await;
        let c = clock();
        let p = provider(
            &base,
            Credential::ClientSecret {
                client_id: CLIENT.into(),
                secret: Secret::new("s"),
            },
            &c,
        );
        assert_eq!(p.token(TENANT, Resource::Graph).await.unwrap().token.expose(), "at-1");
        // 3600 s lifetime, refreshed 300 s (a fifth, at most 5 minutes) before expiry.
        c.advance(Duration::from_secs(3299));
        assert_eq!(p.token(TENANT, Resource::Graph).await.unwrap().token.expose(), "at-1");
        c.advance(Duration::from_secs(2));
        assert_eq!(p.token(TENANT, Resource::Graph).await.unwrap().token.expose(), "at-2");
        assert_eq!(mock.forms.lock().len(), 2);
    }

    #[tokio::test]
    async fn a_definite_failure_is_remembered_for_30_seconds_of_the_injected_clock() {
        let (base, mock) = mock::start().await;
        *mock.refuse.lock() = true;
        let c = clock();
        let p = provider(
            &base,
            Credential::ClientSecret {
                client_id: CLIENT.into(),
                secret: Secret::new("wrong"),
            },
            &c,
        );
        let e = p.token(TENANT, Resource::Graph).await.unwrap_err();
        assert_eq!(e.kind(), AadKind::BadCredentials);
        c.advance(Duration::from_secs(29));
        assert_eq!(
            p.token(TENANT, Resource::Graph).await.unwrap_err().kind(),
            AadKind::BadCredentials
        );
        assert_eq!(mock.forms.lock().len(), 1, "remembered, not asked again");
        *mock.refuse.lock() = false;
        c.advance(Duration::from_secs(2));
        assert_eq!(p.token(TENANT, Resource::Graph).await.unwrap().token.expose(), "at-2");
    }

    #[test]
    fn the_environment_picks_secret_then_certificate_then_federated_token() {
        let cert = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/app-cert-and-key.pem");
        let from = |vars: &[(&str, &str)]| {
            let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            app_credential_from_env(|k| vars.get(k).cloned())
        };
        let kind = |c: Option<Credential>| c.map(|c| c.flow());
        assert_eq!(kind(from(&[]).unwrap()), None);
        assert_eq!(
            kind(from(&[("AZURE_CLIENT_SECRET", "s")]).unwrap()),
            None,
            "no client id"
        );
        let all = [
            ("AZURE_CLIENT_ID", CLIENT),
            ("AZURE_CLIENT_SECRET", "s"),
            ("AZURE_CLIENT_CERTIFICATE_PATH", cert),
            (
                "AZURE_FEDERATED_TOKEN_FILE",
                "/var/run/secrets/azure/tokens/azure-identity-token",
            ),
        ];
        assert_eq!(kind(from(&all).unwrap()), Some("client_credentials"));
        assert_eq!(
            kind(from(&[all[0], all[2], all[3]]).unwrap()),
            Some("client_credentials (certificate)")
        );
        match from(&[all[0], all[3]]).unwrap() {
            Some(Credential::Federated { client_id, token_file }) => {
                assert_eq!(client_id, CLIENT);
                assert_eq!(token_file, PathBuf::from(all[3].1));
            }
            other => panic!("{:?}", other.map(|c| c.flow())),
        }
        assert!(from(&[all[0], ("AZURE_CLIENT_CERTIFICATE_PATH", "/nonexistent.pem")]).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("tenantctl-test-{}", std::process::id()));
        let p = dir.join("rt");
        write_private_file(&p, "x").unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        let _ = std::fs::remove_dir_all(dir);
    }
}
