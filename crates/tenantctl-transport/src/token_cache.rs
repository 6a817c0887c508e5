//! Access tokens kept across runs: a partner who runs three reports within the hour pays the
//! thousand customer token requests once (issue 13).
//!
//! - One file, readable by its owner only (0600, replaced atomically with
//!   [`write_private_file_with`]), as the Azure CLI keeps its MSAL token cache
//!   (`~/.azure/msal_token_cache.json`). It is JSON Lines: a header `{"version":2}`, then one
//!   token a line.
//! - An entry's key is a SHA-256 of the credential's identity (client id and a hash of the
//!   secret, the certificate's thumbprint, the federated token file, or the refresh token's
//!   origin), the token URL (cloud, port and tenant) and the scope: a token is only ever
//!   reused by the credential that obtained it, for the tenant and resource it was issued for.
//!   Neither tenant ids nor secrets appear in the file in clear, only the access tokens.
//! - Expiry is honoured on the wall clock: an entry is used only while it has more than its
//!   refresh margin left (a fifth of its lifetime, at most 5 minutes), as a token held in
//!   memory is; expired entries are dropped when the file is written.
//! - **Tokens stay on disk, not in memory**: opening the file indexes it (key, expiry and
//!   where its line is: ≈70 bytes a token), and a token is read back by offset when asked for;
//!   a token obtained in this run goes at once to an unnamed 0600 journal in the same directory
//!   (gone with the process, even when it crashes), and is read back from there. At 10,000
//!   tenants this keeps 13 MB of tokens out of the heap (issue 13). The open handles keep
//!   reading what they indexed even when another run replaces the file meanwhile.
//! - A token the service rejects (401) is forgotten here too. The file is written once, when
//!   the token provider is dropped at the end of the command, merged with what another run may
//!   have written meanwhile; an unreadable, foreign-readable or older-format file is not used
//!   (and replaced).

use crate::clock::SharedClock;
use crate::token::{write_private_file_with, Secret};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const VERSION: u32 = 2;

/// The file's first line.
#[derive(Serialize, Deserialize)]
struct Header {
    version: u32,
}

/// One cached access token, one line of the file (or of the journal).
#[derive(Serialize, Deserialize)]
struct Line<'a> {
    /// The entry's key, hex.
    #[serde(borrow)]
    key: Cow<'a, str>,
    #[serde(borrow)]
    access_token: Cow<'a, str>,
    /// Expiry, seconds since the Unix epoch.
    expires_on: u64,
    /// Seconds before expiry at which the token stops being used.
    refresh_margin: u64,
}

type Key = [u8; 32];

/// Where an entry's line is, and what needs no reading of it.
#[derive(Clone, Copy, Debug)]
struct At {
    /// Index into [`State::sources`].
    source: usize,
    offset: u64,
    len: u32,
    expires_on: u64,
    refresh_margin: u64,
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
    index: HashMap<Key, At>,
    /// The files entries are read from: the cache file as opened (and as re-read to merge),
    /// and this run's journal.
    sources: Vec<File>,
    /// This run's journal: its place in `sources` and its length.
    journal: Option<(usize, u64)>,
    /// The journal could not be written (a full disk...): tokens are no longer kept.
    journal_failed: bool,
    /// Keys written or forgotten in this run (merged over the file's when saving).
    changed: HashSet<Key>,
    /// The file's length and modification time when last read or written: unchanged at
    /// saving time, it need not be read again to merge.
    seen: Option<(u64, SystemTime)>,
}

fn sha256(parts: &[&str]) -> Key {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for p in parts {
        ctx.update(p.as_bytes());
        ctx.update(b"\n");
    }
    let mut k = [0; 32];
    k.copy_from_slice(ctx.finish().as_ref());
    k
}

fn hex(k: &Key) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(64);
    for b in k {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

fn unhex(s: &str) -> Option<Key> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut k = [0; 32];
    for (i, pair) in b.chunks(2).enumerate() {
        k[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(k)
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

#[cfg(unix)]
fn read_at(f: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, offset)
}

#[cfg(windows)]
fn read_at(f: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        let n = std::os::windows::fs::FileExt::seek_read(f, &mut buf[done..], offset + done as u64)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        done += n;
    }
    Ok(())
}

#[cfg(unix)]
fn write_at(f: &File, buf: &[u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(f, buf, offset)
}

#[cfg(windows)]
fn write_at(f: &File, buf: &[u8], offset: u64) -> std::io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        done += std::os::windows::fs::FileExt::seek_write(f, &buf[done..], offset + done as u64)?;
    }
    Ok(())
}

/// An opened cache file and its entries, indexed (`source` unset).
type Indexed = (File, Vec<(Key, At)>);

/// The file, open, with its entries indexed, or why it can't be used.
/// `None`: there is no file.
fn read_file(path: &Path) -> Result<Option<Indexed>, String> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
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
    let mut r = std::io::BufReader::new(&file);
    let mut line = Vec::new();
    let mut offset = r.read_until(b'\n', &mut line).map_err(|e| e.to_string())? as u64;
    let header: Header = serde_json::from_slice(trim_newline(&line)).map_err(|e| format!("not a token cache ({e})"))?;
    if header.version != VERSION {
        return Err(format!("version {} (this tenantctl writes {VERSION})", header.version));
    }
    let mut entries = Vec::new();
    loop {
        line.clear();
        let n = r.read_until(b'\n', &mut line).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        let text = trim_newline(&line);
        // Read as it is indexed: a line that is not an entry (cut short by a full disk) is
        // skipped, not the whole file.
        if let Some((key, at)) = serde_json::from_slice::<Line>(text)
            .ok()
            .and_then(|l| Some((unhex(&l.key)?, l.expires_on, l.refresh_margin)))
            .map(|(key, expires_on, refresh_margin)| {
                let at = At {
                    source: usize::MAX,
                    offset,
                    len: text.len() as u32,
                    expires_on,
                    refresh_margin,
                };
                (key, at)
            })
        {
            entries.push((key, at));
        }
        offset += n as u64;
    }
    drop(r);
    Ok(Some((file, entries)))
}

fn trim_newline(b: &[u8]) -> &[u8] {
    b.strip_suffix(b"\n").unwrap_or(b)
}

impl State {
    /// Adds an opened file's entries as a source; returns them as an index.
    fn add_source(&mut self, file: File, entries: Vec<(Key, At)>) -> HashMap<Key, At> {
        let source = self.sources.len();
        self.sources.push(file);
        entries.into_iter().map(|(k, at)| (k, At { source, ..at })).collect()
    }

    /// The line of `at`, as stored.
    fn line(&self, at: &At) -> std::io::Result<Vec<u8>> {
        let mut buf = vec![0; at.len as usize];
        read_at(&self.sources[at.source], &mut buf, at.offset)?;
        Ok(buf)
    }

    /// The token at `at`, if its line is one for `key`.
    fn token(&self, key: &Key, at: &At) -> Option<String> {
        let buf = self.line(at).ok()?;
        let line: Line = serde_json::from_slice(&buf).ok()?;
        (unhex(&line.key)? == *key).then(|| line.access_token.into_owned())
    }
}

impl DiskTokenCache {
    /// Opens the cache at `path` for the credential whose identity is `identity` (see
    /// [`crate::token::Credential::cache_identity`]). A missing file is an empty cache; one
    /// that can't be used is ignored with a warning (never an error: the cache only saves time).
    pub fn open(path: PathBuf, identity: &str, clock: SharedClock) -> DiskTokenCache {
        let mut state = State {
            seen: stamp(&path),
            ..State::default()
        };
        match read_file(&path) {
            Ok(Some((file, entries))) => state.index = state.add_source(file, entries),
            Ok(None) => {}
            Err(why) => tracing::warn!("token cache {} not used: {why}", path.display()),
        }
        DiskTokenCache {
            path,
            identity: hex(&sha256(&[identity])),
            clock,
            state: Mutex::new(state),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn key(&self, token_url: &str, scope: &str) -> Key {
        sha256(&[&self.identity, token_url, scope])
    }

    /// A token for (`token_url`, `scope`) with more than its refresh margin left.
    pub fn get(&self, token_url: &str, scope: &str) -> Option<Cached> {
        let key = self.key(token_url, scope);
        let now = unix(self.clock.now_system());
        let st = self.state.lock();
        let at = st.index.get(&key)?;
        let remaining = at.expires_on.checked_sub(now)?;
        if remaining <= at.refresh_margin {
            return None;
        }
        Some(Cached {
            token: Secret::new(st.token(&key, at)?),
            remaining: Duration::from_secs(remaining),
            refresh_margin: Duration::from_secs(at.refresh_margin),
        })
    }

    /// Keeps a token obtained now, valid for `lifetime`. `false` when it could not be kept
    /// (the journal could not be written): the caller keeps it in memory instead.
    pub fn put(
        &self,
        token_url: &str,
        scope: &str,
        token: &Secret,
        lifetime: Duration,
        refresh_margin: Duration,
    ) -> bool {
        let key = self.key(token_url, scope);
        let expires_on = unix(self.clock.now_system()) + lifetime.as_secs();
        let line = Line {
            key: Cow::Owned(hex(&key)),
            access_token: Cow::Borrowed(token.expose()),
            expires_on,
            refresh_margin: refresh_margin.as_secs(),
        };
        let Ok(mut bytes) = serde_json::to_vec(&line) else {
            return false;
        };
        let len = bytes.len() as u32;
        bytes.push(b'\n');
        let mut st = self.state.lock();
        if st.journal_failed {
            return false;
        }
        let written = (|| {
            let (source, end) = match st.journal {
                Some(j) => j,
                None => {
                    let file = self.new_journal()?;
                    st.sources.push(file);
                    (st.sources.len() - 1, 0)
                }
            };
            write_at(&st.sources[source], &bytes, end)?;
            st.journal = Some((source, end + bytes.len() as u64));
            Ok::<_, std::io::Error>((source, end))
        })();
        match written {
            Ok((source, offset)) => {
                let at = At {
                    source,
                    offset,
                    len,
                    expires_on,
                    refresh_margin: refresh_margin.as_secs(),
                };
                st.index.insert(key, at);
                st.changed.insert(key);
                true
            }
            Err(e) => {
                tracing::warn!("token cache {}: cannot keep tokens ({e})", self.path.display());
                st.journal_failed = true;
                false
            }
        }
    }

    /// An unnamed file beside the cache, readable by its owner only (`O_TMPFILE` or created
    /// and unlinked at once): it holds this run's new tokens until the file is written.
    fn new_journal(&self) -> std::io::Result<File> {
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        std::fs::create_dir_all(dir)?;
        tempfile::tempfile_in(dir)
    }

    /// Forgets the token for (`token_url`, `scope`) if it is `rejected`.
    pub fn forget(&self, token_url: &str, scope: &str, rejected: &Secret) {
        let key = self.key(token_url, scope);
        let mut st = self.state.lock();
        let Some(at) = st.index.get(&key) else { return };
        if st.token(&key, at).is_some_and(|t| t == rejected.expose()) {
            st.index.remove(&key);
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
            let mut merged = match read_file(&self.path) {
                Ok(Some((file, entries))) => st.add_source(file, entries),
                _ => HashMap::new(),
            };
            for k in &st.changed {
                match st.index.get(k) {
                    Some(at) => merged.insert(*k, *at),
                    None => merged.remove(k),
                };
            }
            st.index = merged;
        }
        let now = unix(self.clock.now_system());
        st.index.retain(|_, at| at.expires_on > now);
        let st_ref = &*st;
        write_private_file_with(&self.path, |w| {
            serde_json::to_writer(&mut *w, &Header { version: VERSION }).map_err(std::io::Error::other)?;
            w.write_all(b"\n")?;
            for at in st_ref.index.values() {
                w.write_all(&st_ref.line(at)?)?;
                w.write_all(b"\n")?;
            }
            Ok(())
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
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"version\":2}\n",
            "t1 forgotten, t2 expired"
        );
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

    #[test]
    fn tokens_are_read_back_from_disk_even_after_another_run_replaced_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        let c = clock();
        let (life, m) = (Duration::from_secs(3599), Duration::from_secs(300));
        let first = DiskTokenCache::open(path.clone(), "cred", c.shared());
        for i in 0..500 {
            first.put(
                &format!("{URL}/{i}"),
                SCOPE,
                &Secret::new(format!("token-{i}")),
                life,
                m,
            );
        }
        // This run's tokens come back from its journal, the file not written yet.
        assert!(!path.exists());
        assert_eq!(first.get(&format!("{URL}/7"), SCOPE).unwrap().token.expose(), "token-7");
        drop(first);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 501, "a header and one line a token");
        assert!(text.starts_with("{\"version\":2}\n"));

        let second = DiskTokenCache::open(path.clone(), "cred", c.shared());
        // Another run replaces the file (rename over it), then it is gone altogether: the
        // second run reads what it indexed from the file it opened.
        let third = DiskTokenCache::open(path.clone(), "cred", c.shared());
        third.put(URL, "scope-third", &Secret::new("t3"), life, m);
        drop(third);
        std::fs::remove_file(&path).unwrap();
        for i in [0, 250, 499] {
            let got = second.get(&format!("{URL}/{i}"), SCOPE).unwrap();
            assert_eq!(got.token.expose(), format!("token-{i}"));
        }
        assert!(second.get(URL, "scope-third").is_none(), "not in the file it opened");
    }

    #[test]
    fn a_cache_of_the_older_format_or_with_a_broken_line_is_handled() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        let c = clock();
        let private = |text: &str| {
            std::fs::write(&path, text).unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            }
        };
        // Version 1 (one JSON object): not used, and replaced when this run writes.
        private(r#"{"version":1,"tokens":{}}"#);
        let a = DiskTokenCache::open(path.clone(), "cred", c.shared());
        let (life, m) = (Duration::from_secs(3599), Duration::from_secs(300));
        a.put(URL, SCOPE, &Secret::new("t"), life, m);
        a.put(URL, "other", &Secret::new("u"), life, m);
        drop(a);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("{\"version\":2}\n"), "{text}");
        // A line cut short (a full disk, a crash while another tool wrote) costs that line only.
        let mut lines: Vec<&str> = text.lines().collect();
        let cut = lines[1][..20].to_owned();
        lines[1] = &cut;
        private(&(lines.join("\n") + "\n"));
        let b = DiskTokenCache::open(path.clone(), "cred", c.shared());
        let found = [SCOPE, "other"].iter().filter(|s| b.get(URL, s).is_some()).count();
        assert_eq!(found, 1);
    }
}
