//! A world that remembers: the overlay (every change, published DNS included) saved to
//! `<state_dir>/state.json` and loaded on start. The fleet itself is not saved: it is generated
//! again from the recorded seed and size, which must match (a state file of another fleet is
//! refused: its user indices would name other people).
//!
//! Saving is atomic: a temporary file with a random name in the same directory is written,
//! flushed to disk and renamed over the old one, so a crash leaves either the old or the new
//! state, never a torn file.

use super::fleet::Fleet;
use super::overlay::TenantOverlay;
use super::{Dns, World};
use crate::ids::hash;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The state file's name inside the state directory.
pub const STATE_FILE: &str = "state.json";
const FORMAT: &str = "tenantctl-sim-state/1";

/// Which fleet a state file belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetId {
    pub seed: u64,
    pub tenants: u32,
    pub users_per_tenant: Option<u32>,
    /// A hash of every tenant's id, user count and generated domains: catches a generator
    /// that changed between versions.
    pub fingerprint: String,
}

impl FleetId {
    pub fn of(f: &Fleet) -> FleetId {
        let mut h = hash(&[f.config.seed, f.tenants.len() as u64]);
        for t in &f.tenants {
            let mut parts = vec![h, t.idx as u64, t.user_count as u64];
            // Guests move created users' slots: a fleet with guests is another fleet (none:
            // the same fingerprint as before guests existed).
            if t.guest_count > 0 {
                parts.push(0x6E57 ^ t.guest_count as u64);
            }
            parts.extend(
                t.id.0
                    .chunks(8)
                    .map(|c| u64::from_be_bytes(c.try_into().expect("8 bytes"))),
            );
            for d in &t.domains {
                parts.push(crate::odata::hash_str(&d.name));
            }
            h = hash(&parts);
        }
        FleetId {
            seed: f.config.seed,
            tenants: f.config.tenants,
            users_per_tenant: f.config.users_per_tenant,
            fingerprint: format!("{h:016x}"),
        }
    }

    fn describe(&self) -> String {
        let users = match self.users_per_tenant {
            Some(n) => format!("{n} users per tenant"),
            None => "the default user distribution".into(),
        };
        format!("seed {} with {} tenants and {users}", self.seed, self.tenants)
    }
}

#[derive(Serialize, Deserialize)]
struct StateFile {
    format: String,
    fleet: FleetId,
    #[serde(default)]
    tenants: BTreeMap<u32, TenantOverlay>,
    #[serde(default)]
    dns: Dns,
}

/// Why a state directory could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read the simulator state {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the simulator state {path} is not valid ({reason}); remove it (tenantctl sandbox reset) to start afresh")]
    Corrupt { path: PathBuf, reason: String },
    #[error("the simulator state {path} belongs to another fleet ({theirs}), not this one ({ours}); use another state directory or reset it")]
    OtherFleet {
        path: PathBuf,
        theirs: String,
        ours: String,
    },
}

impl From<StateError> for std::io::Error {
    fn from(e: StateError) -> Self {
        let kind = match &e {
            StateError::Io { source, .. } => source.kind(),
            _ => std::io::ErrorKind::InvalidData,
        };
        std::io::Error::new(kind, e.to_string())
    }
}

/// Loads `<dir>/state.json` into `world` when it exists; `Ok(false)` when there is none.
pub fn load(dir: &Path, world: &World) -> Result<bool, StateError> {
    let path = dir.join(STATE_FILE);
    let raw = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(source) => return Err(StateError::Io { path, source }),
    };
    let corrupt = |reason: String| StateError::Corrupt {
        path: path.clone(),
        reason,
    };
    let file: StateFile = serde_json::from_slice(&raw).map_err(|e| corrupt(e.to_string()))?;
    if file.format != FORMAT {
        return Err(corrupt(format!("format '{}', expected '{FORMAT}'", file.format)));
    }
    let ours = FleetId::of(&world.fleet);
    if file.fleet != ours {
        let theirs = file.fleet.describe();
        let ours_d = ours.describe();
        let (theirs, ours) = if theirs == ours_d {
            (
                format!("{theirs}, generator {}", file.fleet.fingerprint),
                format!("{ours_d}, generator {}", ours.fingerprint),
            )
        } else {
            (theirs, ours_d)
        };
        return Err(StateError::OtherFleet { path, theirs, ours });
    }
    world.restore(file.tenants, file.dns).map_err(corrupt)?;
    Ok(true)
}

/// Writes `bytes` to `path` atomically (a new owner-only temporary file with a random name in
/// the same directory, fsync, rename).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("state");
    let tmp = dir.join(format!(".{name}.{}.tmp", crate::ids::random_guid()));
    let result = (|| {
        // A new file (never an existing one or a symlink's target), owner-only: the state
        // holds the sandbox's users.
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        let mut f = o.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        // Make the rename itself durable.
        #[cfg(unix)]
        std::fs::File::open(dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Deletes the saved state in `dir` (nothing to do when there is none).
pub fn reset_state(dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(dir.join(STATE_FILE)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Saves a world's changes to its state directory after writes.
pub struct Persist {
    pub dir: PathBuf,
    fleet: FleetId,
    /// The world generation last saved; saves are serialised through this lock.
    saved: Mutex<u64>,
}

impl Persist {
    pub fn new(dir: PathBuf, world: &World) -> Persist {
        Persist {
            dir,
            fleet: FleetId::of(&world.fleet),
            saved: Mutex::new(world.generation()),
        }
    }

    /// Saves when the world changed since the last save. Concurrent writers coalesce: a save
    /// taken after another writer's change covers it too.
    pub fn save_if_changed(&self, world: &World) -> std::io::Result<()> {
        let mut saved = self.saved.lock();
        let generation = world.generation();
        if *saved >= generation {
            return Ok(());
        }
        let (tenants, dns) = world.changes();
        let file = StateFile {
            format: FORMAT.into(),
            fleet: self.fleet.clone(),
            tenants,
            dns,
        };
        let bytes = serde_json::to_vec_pretty(&file).map_err(std::io::Error::other)?;
        write_atomically(&self.dir.join(STATE_FILE), &bytes)?;
        *saved = generation;
        Ok(())
    }
}
