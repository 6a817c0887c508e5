//! The fan-out engine: runs one per-tenant operation over a set of tenants.
//!
//! - At most `tenants` tenants run at once (the global limit); within a tenant an operation
//!   takes a [`TenantCtx::permit`] for each concurrent request (the per-tenant limit).
//! - A tenant's rows are collected while it runs and handed to the caller, with the tenant's
//!   one [`TenantOutcome`], as soon as it ends: output streams tenant by tenant, each tenant's
//!   rows together, and memory is bounded by the tenants in flight, not the fleet.
//! - Every tenant ends with exactly one status; an error is classified by [`classify`]; a
//!   tenant that failed after producing rows is `partial`. None is ever dropped.
//! - A failure that concerns the whole run (bad client secret, refresh token revoked) stops the
//!   run: the remaining tenants end `error` with the same cause, and [`Summary::fatal`] is set.

use futures::StreamExt;
use parking_lot::Mutex;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tenantctl_core::{Record, TenantId, TenantOutcome, TenantStatus};
use tenantctl_transport::api::ApiError;
use tenantctl_transport::token::{AadKind, TokenError};
use tokio::sync::{Semaphore, SemaphorePermit};

/// A tenant to run in.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub id: TenantId,
    pub name: String,
    /// GDAP status known from the customer list (`active`, `expired`, `none`...), used to tell
    /// `relationship_expired` from `no_relationship`.
    pub relationship_status: Option<String>,
}

/// Concurrency limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Tenants in flight.
    pub tenants: usize,
    /// Requests in flight within one tenant.
    pub per_tenant: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            tenants: 64,
            per_tenant: 4,
        }
    }
}

/// What an operation sees of its tenant.
pub struct TenantCtx {
    pub target: Target,
    rows: Mutex<Vec<Record>>,
    limit: Semaphore,
}

impl TenantCtx {
    /// Adds an output row; `tenantId` and `tenantName` are put in front of it.
    pub fn emit(&self, r: Record) {
        self.rows.lock().push(r.prefixed(vec![
            ("tenantId", self.target.id.to_string().into()),
            ("tenantName", self.target.name.clone().into()),
        ]));
    }

    /// Waits for a per-tenant request slot.
    pub async fn permit(&self) -> SemaphorePermit<'_> {
        self.limit.acquire().await.expect("semaphore never closed")
    }

    pub fn rows_so_far(&self) -> usize {
        self.rows.lock().len()
    }
}

/// One finished tenant.
pub struct TenantResult {
    pub outcome: TenantOutcome,
    pub rows: Vec<Record>,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Summary {
    pub outcomes: Vec<TenantOutcome>,
    /// The run-wide failure that stopped it, if any.
    pub fatal: Option<String>,
}

impl Summary {
    /// 0 all ok, 1 fatal, 3 some tenants not ok.
    pub fn exit_code(&self) -> i32 {
        if self.fatal.is_some() {
            1
        } else if self.outcomes.iter().all(|o| o.status.is_ok()) {
            0
        } else {
            3
        }
    }
}

/// The status an error gives a tenant, and whether it concerns the whole run.
pub fn classify(e: &ApiError, target: &Target) -> (TenantStatus, bool) {
    let expired = target.relationship_status.as_deref() == Some("expired");
    match e {
        ApiError::Token(t @ TokenError::Aad { .. }) => match t.kind() {
            AadKind::ConsentMissing => (TenantStatus::ConsentMissing, false),
            AadKind::NoAccess if expired => (TenantStatus::RelationshipExpired, false),
            AadKind::NoAccess => (TenantStatus::NoRelationship, false),
            AadKind::TenantNotFound => (TenantStatus::NotFound, false),
            AadKind::BadCredentials | AadKind::ReauthRequired => (TenantStatus::Error, true),
            AadKind::Transient => (TenantStatus::Throttled, false),
            AadKind::Other => (TenantStatus::Error, false),
        },
        ApiError::Token(t @ TokenError::Credential(_)) => (TenantStatus::Error, t.kind().is_fatal()),
        ApiError::Token(TokenError::Transport { .. } | TokenError::Protocol { .. }) => (TenantStatus::Error, false),
        e if e.is_throttled() => (TenantStatus::Throttled, false),
        e if e.is_forbidden() && expired => (TenantStatus::RelationshipExpired, false),
        e if e.is_forbidden() => (TenantStatus::RoleMissing, false),
        e if e.is_not_found() => (TenantStatus::NotFound, false),
        ApiError::Http { .. } | ApiError::Transport(_) | ApiError::Decode { .. } | ApiError::Protocol { .. } => {
            (TenantStatus::Error, false)
        }
    }
}

/// Runs `op` in every target; calls `on_done` as each tenant ends (in completion order).
pub async fn run<F, Fut>(targets: Vec<Target>, limits: Limits, op: F, mut on_done: impl FnMut(TenantResult)) -> Summary
where
    F: Fn(Arc<TenantCtx>) -> Fut,
    Fut: Future<Output = Result<(), ApiError>>,
{
    let stop = AtomicBool::new(false);
    let fatal: Mutex<Option<String>> = Mutex::new(None);
    let op = &op;
    let stop = &stop;
    let fatal_ref = &fatal;
    let per_tenant = limits.per_tenant.max(1);
    let mut results = futures::stream::iter(targets)
        .map(|target| async move {
            let started = Instant::now();
            let ctx = Arc::new(TenantCtx {
                target: target.clone(),
                rows: Mutex::new(Vec::new()),
                limit: Semaphore::new(per_tenant),
            });
            let (status, detail) = if stop.load(Ordering::Relaxed) {
                let cause = fatal_ref.lock().clone().unwrap_or_default();
                (TenantStatus::Error, format!("not run: {cause}"))
            } else {
                match op(ctx.clone()).await {
                    Ok(()) => (TenantStatus::Ok, String::new()),
                    Err(e) => {
                        let (status, is_fatal) = classify(&e, &target);
                        if is_fatal {
                            stop.store(true, Ordering::Relaxed);
                            fatal_ref.lock().get_or_insert_with(|| e.to_string());
                        }
                        tracing::debug!(tenant = %target.id, error = %e, "tenant failed");
                        let rows = ctx.rows_so_far();
                        if rows > 0 && !is_fatal {
                            (TenantStatus::Partial, format!("{status} after {rows} rows: {e}"))
                        } else {
                            (status, e.to_string())
                        }
                    }
                }
            };
            let rows = std::mem::take(&mut *ctx.rows.lock());
            TenantResult {
                outcome: TenantOutcome {
                    tenant_id: target.id,
                    tenant_name: target.name.clone(),
                    status,
                    detail,
                    rows: rows.len() as u64,
                    elapsed_ms: started.elapsed().as_millis() as u64,
                },
                rows,
            }
        })
        .buffer_unordered(limits.tenants.max(1));
    let mut outcomes = vec![];
    while let Some(r) = results.next().await {
        outcomes.push(r.outcome.clone());
        on_done(r);
    }
    drop(results);
    Summary {
        outcomes,
        fatal: fatal.into_inner(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    fn targets(n: u32) -> Vec<Target> {
        (0..n)
            .map(|i| Target {
                id: format!("00000000-0000-0000-0000-{:012}", i).parse().unwrap(),
                name: format!("T{i}"),
                relationship_status: Some(if i == 3 { "expired" } else { "active" }.into()),
            })
            .collect()
    }

    fn aad(code: u32, kind: AadKind) -> ApiError {
        ApiError::Token(TokenError::Aad {
            tenant: "t".into(),
            kind,
            code: Some(code),
            error: "invalid_grant".into(),
            summary: "x".into(),
        })
    }

    fn http(status: u16) -> ApiError {
        ApiError::http(tenantctl_transport::api::Service::Graph, status, "c", "m")
    }

    #[test]
    fn errors_classify_into_the_fan_out_statuses() {
        let t = &targets(4);
        let cases: Vec<(ApiError, &Target, TenantStatus, bool)> = vec![
            (
                aad(65001, AadKind::ConsentMissing),
                &t[0],
                TenantStatus::ConsentMissing,
                false,
            ),
            (
                aad(700016, AadKind::ConsentMissing),
                &t[0],
                TenantStatus::ConsentMissing,
                false,
            ),
            (
                aad(50020, AadKind::NoAccess),
                &t[0],
                TenantStatus::NoRelationship,
                false,
            ),
            (
                aad(50020, AadKind::NoAccess),
                &t[3],
                TenantStatus::RelationshipExpired,
                false,
            ),
            (
                aad(90002, AadKind::TenantNotFound),
                &t[0],
                TenantStatus::NotFound,
                false,
            ),
            (aad(7000215, AadKind::BadCredentials), &t[0], TenantStatus::Error, true),
            (aad(700082, AadKind::ReauthRequired), &t[0], TenantStatus::Error, true),
            (http(429), &t[0], TenantStatus::Throttled, false),
            (http(403), &t[0], TenantStatus::RoleMissing, false),
            (http(403), &t[3], TenantStatus::RelationshipExpired, false),
            (http(404), &t[0], TenantStatus::NotFound, false),
            (http(500), &t[0], TenantStatus::Error, false),
            (
                ApiError::Protocol {
                    service: tenantctl_transport::api::Service::PartnerCenter,
                    message: "links.next has no continuation token".into(),
                },
                &t[0],
                TenantStatus::Error,
                false,
            ),
        ];
        for (e, target, status, fatal) in cases {
            assert_eq!(classify(&e, target), (status, fatal), "{e}");
        }
    }

    #[tokio::test]
    async fn every_tenant_ends_once_with_its_rows_and_limits_hold() {
        let in_flight = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let mut seen = vec![];
        let summary = run(
            targets(40),
            Limits {
                tenants: 5,
                per_tenant: 2,
            },
            |ctx| {
                let (in_flight, peak) = (&in_flight, &peak);
                async move {
                    let n = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(n, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    let i: u32 = ctx.target.name[1..].parse().unwrap();
                    for k in 0..(i % 4) {
                        ctx.emit(Record::new().with("k", k));
                    }
                    match i % 10 {
                        7 => Err(http(403)),
                        9 if i % 4 > 0 => Err(http(429)),
                        _ => Ok(()),
                    }
                }
            },
            |r| seen.push((r.outcome.tenant_name.clone(), r.outcome.status, r.rows)),
        )
        .await;
        assert!(peak.load(Ordering::SeqCst) <= 5);
        assert_eq!(summary.outcomes.len(), 40);
        assert_eq!(seen.len(), 40);
        let mut names: Vec<_> = seen.iter().map(|s| s.0.clone()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 40, "each tenant once");
        for (name, status, rows) in &seen {
            let i: u32 = name[1..].parse().unwrap();
            assert_eq!(rows.len() as u32, i % 4);
            for r in rows {
                assert_eq!(r.columns()[..2], ["tenantId", "tenantName"]);
                assert_eq!(r.get("tenantName"), Some(&serde_json::Value::from(name.clone())));
            }
            let expected = match i % 10 {
                7 if i % 4 > 0 => TenantStatus::Partial,
                7 => TenantStatus::RoleMissing,
                9 if i % 4 > 0 => TenantStatus::Partial,
                _ => TenantStatus::Ok,
            };
            assert_eq!(*status, expected, "{name}");
        }
        assert_eq!(summary.exit_code(), 3);
    }

    #[tokio::test]
    async fn a_run_wide_failure_stops_the_run_and_names_the_cause_for_every_tenant() {
        let summary = run(
            targets(10),
            Limits {
                tenants: 1,
                per_tenant: 1,
            },
            |_ctx| async { Err(aad(7000215, AadKind::BadCredentials)) },
            |_| {},
        )
        .await;
        assert_eq!(summary.outcomes.len(), 10);
        assert!(summary.fatal.as_deref().unwrap().contains("7000215"));
        assert!(summary.outcomes[1..].iter().all(|o| o.detail.starts_with("not run:")));
        assert_eq!(summary.exit_code(), 1);
    }

    #[tokio::test]
    async fn all_ok_exits_zero() {
        let s = run(targets(3), Limits::default(), |_c| async { Ok(()) }, |_| {}).await;
        assert_eq!(s.exit_code(), 0);
    }
}
