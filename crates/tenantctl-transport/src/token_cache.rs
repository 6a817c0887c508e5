//! Access tokens kept across runs: a partner who runs three reports within the hour pays the
//! thousand customer token requests once (issue 13).
//!
//! - One JSON file, readable by its owner only (0600, written atomically with
//!   [`write_private_file`]), as the Azure CLI keeps its MSAL token cache
//!   (`~/.azure/msal_token_cache.json`).
//! - An entry's key is a SHA-256 of the credential's identity (client id and a hash of the
//!   secret, the certificate's thumbprint, the federated token file, or the refresh token's
//!   origin), the token URL (cloud, port and tenant) and the scope: a token is only ever
//!   reused by the credential that obtained it, for the tenant and resource it was issued for.
//!   Neither tenant ids nor secrets appear in the file in clear, only the access tokens.
//! - Expiry is honoured on the wall clock: an entry is used only while it has more than its
//!   refresh margin left (a fifth of its lifetime, at most 5 minutes), as a token held in
//!   memory is; expired entries are dropped when the file is written.
//! - A token the service rejects (401) is forgotten here too. The file is written once, when
//!   the token provider is dropped at the end of the command, merged with what another run may
//!   have written meanwhile; an unreadable or foreign-readable file is not used (and replaced).

use crate::clock::SharedClock;
use crate::token::{write_private_file_with, Secret};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const VERSION: u32 = 1;

/// One cached access token as stored.
#[derive(Clone, Serialize, Deserialize)]
struct Stored {
    /// Shared with the token provider's slot (a token is held once in memory).
    access_token: Arc<str>,
    /// Expiry, seconds since the Unix epoch.
    expires_on: u64,
    /// Seconds before expiry at which the token stops being used.
    refresh_margin: u64,
}

#[derive(Deserialize, Default)]
struct FileV1 {
    version: u32,
    tokens: BTreeMap<String, Stored>,
}

#[derive(Serialize)]
struct FileV1Ref<'a> {
    version: u32,
    tokens: &'a BTreeMap<String, Stored>,
}

/// A token read from the cache: the secret and how long it remains usable.
#[derive(Clone, Debug)]
pub struct Cached {
    pub token: Secret,
    /// Time left before expiry (on the wall clock).
    pub remaining: Duration,
    pub refresh_margin: Duration,
}

/// The on-disk cache of one credential's access tokens.
pub struct DiskTokenCache {
    path: PathBuf,
    identity: String,
    clock: SharedClock,
    state: Mutex<State>,
}

fn stamp(path: &Path) -> Option<(u64, SystemTime)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.len(), m.modified().ok()?))
}

#[derive(Default)]
struct State {
    entries: BTreeMap<String, Stored>,
    /// Keys written or forgotten in this run (merged over the file's when saving).
    changed: HashSet<String>,
    /// The file's length and modification time when last read or written: unchanged at
    /// saving time, it need not be read again to merge.
    seen: Option<(u64, SystemTime)>,
}

fn sha256_hex(parts: &[&str]) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for p in parts {
        ctx.update(p.as_bytes());
        ctx.update(b"\n");
    }
    ctx.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The file's entries, or why it can't be used.
fn read_file(path: &Path) -> Result<BTreeMap<String, Stored>, String> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(e.to_string()),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata().map_err(|e| e.to_string())?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "it is readable by other users (mode {:o}); it will be replaced by a 0600 file",
                mode & 0o777
            ));
        }
    }
    // Parsed as read: the file is never held whole in memory.
    let f: FileV1 =
        serde_json::from_reader(std::io::BufReader::new(file)).map_err(|e| format!("not a token cache ({e})"))?;
    if f.version != VERSION {
        return Err(format!("version {} (this tenantctl writes {VERSION})", f.version));
    }
    Ok(f.tokens)
}

impl DiskTokenCache {
    /// Opens the cache at `path` for the credential whose identity is `identity` (see
    /// [`crate::token::Credential::cache_identity`]). A missing file is an empty cache; one
    /// that can't be used is ignored with a warning (never an error: the cache only saves time).
    pub fn open(path: PathBuf, identity: &str, clock: SharedClock) -> DiskTokenCache {
        let seen = stamp(&path);
        let entries = match read_file(&path) {
            Ok(e) => e,
            Err(why) => {
                tracing::warn!("token cache {} not used: {why}", path.display());
                BTreeMap::new()
            }
        };
        DiskTokenCache {
            path,
            identity: sha256_hex(&[identity]),
            clock,
            state: Mutex::new(State {
                entries,
                changed: HashSet::new(),
                seen,
            }),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn key(&self, token_url: &str, scope: &str) -> String {
        sha256_hex(&[&self.identity, token_url, scope])
    }

    /// A token for (`token_url`, `scope`) with more than its refresh margin left.
    pub fn get(&self, token_url: &str, scope: &str) -> Option<Cached> {
        let key = self.key(token_url, scope);
        let now = unix(self.clock.now_system());
        let st = self.state.lock();
        let s = st.entries.get(&key)?;
        let remaining = s.expires_on.checked_sub(now)?;
        if remaining <= s.refresh_margin {
            return None;
        }
        Some(Cached {
            token: Secret::from_shared(s.access_token.clone()),
            remaining: Duration::from_secs(remaining),
            refresh_margin: Duration::from_secs(s.refresh_margin),
        })
    }

    /// Keeps a token obtained now, valid for `lifetime`.
    pub fn put(&self, token_url: &str, scope: &str, token: &Secret, lifetime: Duration, refresh_margin: Duration) {
        let key = self.key(token_url, scope);
        let expires_on = unix(self.clock.now_system()) + lifetime.as_secs();
        let mut st = self.state.lock();
        st.entries.insert(
            key.clone(),
            Stored {
                access_token: token.shared(),
                expires_on,
                refresh_margin: refresh_margin.as_secs(),
            },
        );
        st.changed.insert(key);
    }

    /// Forgets the token for (`token_url`, `scope`) if it is `rejected`.
    pub fn forget(&self, token_url: &str, scope: &str, rejected: &Secret) {
        let key = self.key(token_url, scope);
        let mut st = self.state.lock();
        if st
            .entries
            .get(&key)
            .is_some_and(|s| &*s.access_token == rejected.expose())
        {
            st.entries.remove(&key);
            st.changed.insert(key);
        }
    }

    /// Writes the file if this run changed anything: the file's current entries (another run
    /// may have added some), overlaid with this run's, without the expired ones.
    pub fn save(&self) -> std::io::Result<()> {
        let mut st = self.state.lock();
        if st.changed.is_empty() {
            return Ok(());
        }
        let st = &mut *st;
        // Another run may have written the file since it was read: its entries, overlaid with
        // this run's changes. Unchanged: this run's entries are already all there is.
        if stamp(&self.path) != st.seen {
            let mut merged = read_file(&self.path).unwrap_or_default();
            for k in &st.changed {
                match st.entries.get(k) {
                    Some(s) => merged.insert(k.clone(), s.clone()),
                    None => merged.remove(k),
                };
            }
            st.entries = merged;
        }
        let now = unix(self.clock.now_system());
        st.entries.retain(|_, s| s.expires_on > now);
        let file = FileV1Ref {
            version: VERSION,
            tokens: &st.entries,
        };
        write_private_file_with(&self.path, |w| {
            serde_json::to_writer(w, &file).map_err(std::io::Error::other)
        })?;
        st.changed.clear();
        st.seen = stamp(&self.path);
        Ok(())
    }
}

impl Drop for DiskTokenCache {
    fn drop(&mut self) {
        if let Err(e) = self.save() {
            tracing::warn!("could not save the token cache to {}: {e}", self.path.display());
        }
    }
}

impl std::fmt::Debug for DiskTokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiskTokenCache")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    const URL: &str = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token";
    const SCOPE: &str = "https://graph.microsoft.com/.default";

    fn clock() -> ManualClock {
        ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_800_000_000))
    }

    #[test]
    fn a_token_kept_by_one_run_is_found_by_the_next_until_its_margin_and_the_file_is_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("tokens.json");
        let c = clock();
        let first = DiskTokenCache::open(path.clone(), "cred-a", c.shared());
        assert!(first.get(URL, SCOPE).is_none());
        first.put(
            URL,
            SCOPE,
            &Secret::new("eyJ.token.one"),
            Duration::from_secs(3599),
            Duration::from_secs(300),
        );
        drop(first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("contoso"), "no tenant in clear: {text}");
        assert!(!text.contains("cred-a"), "no credential in clear: {text}");

        c.advance(Duration::from_secs(3000));
        let second = DiskTokenCache::open(path.clone(), "cred-a", c.shared());
        let got = second.get(URL, SCOPE).expect("599 s left, margin 300 s");
        assert_eq!(got.token.expose(), "eyJ.token.one");
        assert_eq!(got.remaining, Duration::from_secs(599));
        // Another credential, tenant or resource never sees it.
        let other = DiskTokenCache::open(path.clone(), "cred-b", c.shared());
        assert!(other.get(URL, SCOPE).is_none());
        assert!(second.get(&URL.replace("contoso", "fabrikam"), SCOPE).is_none());
        assert!(second.get(URL, "https://outlook.office365.com/.default").is_none());
        // Within the refresh margin it is not used.
        c.advance(Duration::from_secs(300));
        assert!(second.get(URL, SCOPE).is_none());
    }

    #[test]
    fn a_rejected_token_is_forgotten_and_expired_ones_are_not_written_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        let c = clock();
        let a = DiskTokenCache::open(path.clone(), "cred", c.shared());
        let m = Duration::from_secs(60);
        a.put(URL, SCOPE, &Secret::new("t1"), Duration::from_secs(3599), m);
        a.put(URL, "s-short", &Secret::new("t2"), Duration::from_secs(100), m);
        a.save().unwrap();
        // A token other than the one cached is not forgotten; the cached one is.
        a.forget(URL, SCOPE, &Secret::new("something else"));
        assert!(a.get(URL, SCOPE).is_some());
        a.forget(URL, SCOPE, &Secret::new("t1"));
        assert!(a.get(URL, SCOPE).is_none());
        c.advance(Duration::from_secs(200));
        a.save().unwrap();
        let f: FileV1 = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(f.tokens.is_empty(), "t1 forgotten, t2 expired");
    }

    #[test]
    fn two_runs_writing_the_cache_keep_each_others_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        let c = clock();
        let (a, b) = (
            DiskTokenCache::open(path.clone(), "cred", c.shared()),
            DiskTokenCache::open(path.clone(), "cred", c.shared()),
        );
        let (life, m) = (Duration::from_secs(3599), Duration::from_secs(300));
        a.put(URL, "scope-a", &Secret::new("ta"), life, m);
        b.put(URL, "scope-b", &Secret::new("tb"), life, m);
        drop(a);
        drop(b);
        let c2 = DiskTokenCache::open(path, "cred", c.shared());
        assert_eq!(c2.get(URL, "scope-a").unwrap().token.expose(), "ta");
        assert_eq!(c2.get(URL, "scope-b").unwrap().token.expose(), "tb");
    }

    #[test]
    fn an_unusable_file_is_ignored_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        let c = clock();
        std::fs::write(&path, "not json").unwrap();
        let a = DiskTokenCache::open(path.clone(), "cred", c.shared());
        assert!(a.get(URL, SCOPE).is_none());
        a.put(
            URL,
            SCOPE,
            &Secret::new("t"),
            Duration::from_secs(3599),
            Duration::from_secs(300),
        );
        drop(a);
        assert!(DiskTokenCache::open(path.clone(), "cred", c.shared())
            .get(URL, SCOPE)
            .is_some());
        #[cfg(unix)]
        {
            // A cache others can read is not trusted (someone may have planted tokens in it).
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(DiskTokenCache::open(path.clone(), "cred", c.shared())
                .get(URL, SCOPE)
                .is_none());
        }
    }
}
