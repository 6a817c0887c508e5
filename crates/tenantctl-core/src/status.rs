//! Every tenant of a fan-out ends with exactly one status (design §2, "Fan-out contract").

use crate::ids::TenantId;
use serde::Serialize;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum TenantStatus {
    Ok,
    /// Some of the tenant's data came back, some did not.
    Partial,
    /// Retries exhausted on 429s.
    Throttled,
    /// AADSTS65001/700016/90099: the partner's app is not consented in the tenant.
    ConsentMissing,
    /// No GDAP relationship covers the partner's user (AADSTS50020-class).
    NoRelationship,
    /// The GDAP relationship has expired.
    RelationshipExpired,
    /// 403 Authorization_RequestDenied: the relationship lacks the role.
    RoleMissing,
    /// 403 Authentication_RequestFromNonPremiumTenantOrB2CTenant: the data asked for needs a
    /// licence the tenant lacks (sign-in activity, authentication-methods reports: Entra ID P1).
    LicenceMissing,
    /// The tenant or object does not exist (AADSTS90002, 404).
    NotFound,
    /// The run stopped (Ctrl-C, or the output was closed) before this tenant finished.
    Cancelled,
    /// 503 Service Unavailable through every retry: Microsoft's side is down or overloaded.
    ServiceUnavailable,
    Error,
}

impl TenantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TenantStatus::Ok => "ok",
            TenantStatus::Partial => "partial",
            TenantStatus::Throttled => "throttled",
            TenantStatus::ConsentMissing => "consent_missing",
            TenantStatus::NoRelationship => "no_relationship",
            TenantStatus::RelationshipExpired => "relationship_expired",
            TenantStatus::RoleMissing => "role_missing",
            TenantStatus::LicenceMissing => "licence_missing",
            TenantStatus::NotFound => "not_found",
            TenantStatus::Cancelled => "cancelled",
            TenantStatus::ServiceUnavailable => "service_unavailable",
            TenantStatus::Error => "error",
        }
    }

    /// What a partner admin can do about it, in one line.
    pub fn hint(self) -> &'static str {
        match self {
            TenantStatus::Ok => "",
            TenantStatus::Partial => "some requests failed; re-run for this tenant with --tenant",
            TenantStatus::Throttled => "Microsoft throttled this tenant; re-run later or lower --concurrency",
            TenantStatus::ConsentMissing => {
                "the partner app is not consented in this tenant; push consent (Partner Center applicationconsents) or ask the customer's admin"
            }
            TenantStatus::NoRelationship => {
                "no GDAP relationship/access assignment covers the partner account; request one in Partner Center"
            }
            TenantStatus::RelationshipExpired => "the GDAP relationship has expired; request a new one in Partner Center",
            TenantStatus::RoleMissing => "the GDAP relationship lacks the role this needs; add it to the access assignment",
            TenantStatus::LicenceMissing => {
                "the tenant lacks the licence this data needs (sign-in activity and MFA registration details need Entra ID P1 or P2, e.g. Microsoft 365 Business Premium)"
            }
            TenantStatus::NotFound => "tenant or object not found; check the id/domain and the cloud",
            TenantStatus::Cancelled => "the run was stopped before this tenant finished; re-run for it with --tenant",
            TenantStatus::ServiceUnavailable => {
                "the service was unavailable (HTTP 503) through every retry; re-run later and check the Microsoft 365 service health"
            }
            TenantStatus::Error => "unexpected error; re-run with -v for details",
        }
    }

    pub fn is_ok(self) -> bool {
        self == TenantStatus::Ok
    }
}

impl fmt::Display for TenantStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How one tenant's part of a fan-out ended.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantOutcome {
    pub tenant_id: TenantId,
    pub tenant_name: String,
    pub status: TenantStatus,
    /// One line: the error code and message that decided the status (empty when ok).
    pub detail: String,
    pub rows: u64,
    pub elapsed_ms: u64,
}
