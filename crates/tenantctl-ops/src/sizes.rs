//! Tenant sizes remembered from earlier runs, so that a fan-out starts its biggest tenants first
//! (issue 13).
//!
//! A run over many tenants ends when its slowest tenant does, and a tenant's users are pages
//! that must be read one after another (each page's `@odata.nextLink` names the next): on
//! fleet-1000 the biggest customer has 6,077 users, 7 pages, 0.56 s at 80 ms a page, and
//! started in the list's order it was among the last to start, so the run's last half-second
//! was that one tenant. Started first, its pages run beside everyone else's.
//!
//! - One small JSON file, `tenant-sizes.json` beside the token cache (0600, replaced
//!   atomically): per workload (`users`), the item count of each tenant's last complete run.
//!   Tenants are keys hashed with SHA-256 (16 hex digits): the file holds no customer's id in
//!   clear, and sizes only order work, they never decide what is read.
//! - Sizes don't expire: a customer's user count moves slowly, and a stale size only costs
//!   ordering. A tenant the file doesn't know (a new customer) is started before the known
//!   ones: it may be big.
//! - The sandbox keeps none (as with tokens). An unreadable file is ignored (with a warning)
//!   and replaced.

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use tenantctl_core::{TenantId, TenantStatus};
use tenantctl_fanout::Summary;

/// The workload of `users list` (the users a tenant has, all pages).
pub const USERS: &str = "users";

const VERSION: u32 = 1;

#[derive(Serialize, Deserialize, Default)]
struct SizesFile {
    version: u32,
    /// Workload → hashed tenant → items.
    workloads: BTreeMap<String, BTreeMap<String, u64>>,
}

/// The sizes known for one workload: a lookup by tenant.
#[derive(Clone, Debug, Default)]
pub struct Weights(HashMap<u64, u64>);

impl Weights {
    /// The tenant's size at its last complete run, if known.
    pub fn of(&self, tenant: &TenantId) -> Option<u64> {
        self.0.get(&key(tenant)).copied()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<(TenantId, u64)> for Weights {
    fn from_iter<I: IntoIterator<Item = (TenantId, u64)>>(it: I) -> Weights {
        Weights(it.into_iter().map(|(t, n)| (key(&t), n)).collect())
    }
}

/// A tenant's key in the file: the first 8 bytes of SHA-256 over a fixed prefix and its id.
fn key(tenant: &TenantId) -> u64 {
    let d = ring::digest::digest(
        &ring::digest::SHA256,
        format!("tenantctl tenant size\n{tenant}").as_bytes(),
    );
    u64::from_be_bytes(d.as_ref()[..8].try_into().expect("8 bytes"))
}

/// The sizes file of a session.
pub struct TenantSizes {
    path: Option<PathBuf>,
    workloads: Mutex<HashMap<String, HashMap<u64, u64>>>,
}

impl TenantSizes {
    /// No file: nothing known, nothing kept (the sandbox, tests).
    pub fn none() -> TenantSizes {
        TenantSizes {
            path: None,
            workloads: Mutex::default(),
        }
    }

    /// Reads the file at `path`; a missing file is nothing known yet.
    pub fn open(path: PathBuf) -> TenantSizes {
        let workloads = match std::fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice::<SizesFile>(&bytes) {
                Ok(f) if f.version == VERSION => f
                    .workloads
                    .into_iter()
                    .map(|(w, m)| {
                        let m = m
                            .into_iter()
                            .filter_map(|(k, v)| Some((u64::from_str_radix(&k, 16).ok()?, v)))
                            .collect();
                        (w, m)
                    })
                    .collect(),
                Ok(f) => {
                    tracing::warn!(
                        "tenant sizes {}: version {} not read (this tenantctl writes {VERSION})",
                        path.display(),
                        f.version
                    );
                    HashMap::new()
                }
                Err(e) => {
                    tracing::warn!("tenant sizes {} not used: {e}", path.display());
                    HashMap::new()
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
            Err(e) => {
                tracing::warn!("tenant sizes {} not used: {e}", path.display());
                HashMap::new()
            }
        };
        TenantSizes {
            path: Some(path),
            workloads: Mutex::new(workloads),
        }
    }

    /// What is known of `workload`.
    pub fn weights(&self, workload: &str) -> Weights {
        Weights(self.workloads.lock().get(workload).cloned().unwrap_or_default())
    }

    /// Takes the item counts of the tenants that ended `ok` in `summary` as their sizes for
    /// `workload` (the others keep what they had), and writes the file.
    pub fn record(&self, workload: &str, summary: &Summary) {
        let Some(path) = &self.path else { return };
        if summary.stopped || summary.fatal.is_some() {
            return;
        }
        let mut all = self.workloads.lock();
        let m = all.entry(workload.to_owned()).or_default();
        let mut changed = false;
        for o in summary.outcomes.iter().filter(|o| o.status == TenantStatus::Ok) {
            changed |= m.insert(key(&o.tenant_id), o.rows) != Some(o.rows);
        }
        if !changed {
            return;
        }
        let file = SizesFile {
            version: VERSION,
            workloads: all
                .iter()
                .map(|(w, m)| (w.clone(), m.iter().map(|(k, v)| (format!("{k:016x}"), *v)).collect()))
                .collect(),
        };
        drop(all);
        let written = tenantctl_transport::token::write_private_file_with(path, |w| {
            serde_json::to_writer(&mut *w, &file).map_err(std::io::Error::other)?;
            w.write_all(b"\n")
        });
        if let Err(e) = written {
            tracing::warn!("could not save the tenant sizes to {}: {e}", path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenantctl_core::status::TenantOutcome;

    fn outcome(id: TenantId, status: TenantStatus, rows: u64) -> TenantOutcome {
        TenantOutcome {
            tenant_id: id,
            tenant_name: "t".into(),
            status,
            detail: String::new(),
            rows,
            elapsed_ms: 1,
        }
    }

    fn tid(n: u128) -> TenantId {
        TenantId(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn sizes_of_ok_tenants_are_kept_for_the_next_session_without_tenant_ids_in_clear() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tenant-sizes.json");
        let s = TenantSizes::open(path.clone());
        assert!(s.weights(USERS).is_empty());
        let summary = Summary {
            outcomes: vec![
                outcome(tid(1), TenantStatus::Ok, 6077),
                outcome(tid(2), TenantStatus::Ok, 3),
                outcome(tid(3), TenantStatus::Throttled, 0),
            ],
            ..Summary::default()
        };
        s.record(USERS, &summary);
        let again = TenantSizes::open(path.clone()).weights(USERS);
        assert_eq!(again.of(&tid(1)), Some(6077));
        assert_eq!(again.of(&tid(2)), Some(3));
        assert_eq!(again.of(&tid(3)), None, "a tenant that did not end ok has no size");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&tid(1).to_string()), "{text}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn a_stopped_run_records_nothing_and_a_broken_file_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tenant-sizes.json");
        std::fs::write(&path, "{not json").unwrap();
        let s = TenantSizes::open(path.clone());
        assert!(s.weights(USERS).is_empty());
        let stopped = Summary {
            outcomes: vec![outcome(tid(1), TenantStatus::Ok, 5)],
            stopped: true,
            ..Summary::default()
        };
        s.record(USERS, &stopped);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{not json");
        let done = Summary {
            outcomes: vec![outcome(tid(1), TenantStatus::Ok, 5)],
            ..Summary::default()
        };
        s.record(USERS, &done);
        assert_eq!(TenantSizes::open(path).weights(USERS).of(&tid(1)), Some(5));
    }
}
