//! How a service error ends a tenant: the classifier the fan-out is given.

use tenantctl_core::TenantStatus;
use tenantctl_fanout::{Target, Verdict};
use tenantctl_transport::api::ApiError;
use tenantctl_transport::token::{AadKind, TokenError};

/// The status an error gives a tenant, and whether it concerns the whole run.
/// Graph's code for data that needs Entra ID P1/P2 in a tenant without it.
pub const NON_PREMIUM: &str = "Authentication_RequestFromNonPremiumTenantOrB2CTenant";

pub fn classify(e: &ApiError, target: &Target) -> Verdict {
    let expired = target.relationship_expired();
    let status = match e {
        ApiError::Token(t @ TokenError::Aad { .. }) => match t.kind() {
            AadKind::ConsentMissing => TenantStatus::ConsentMissing,
            AadKind::NoAccess if expired => TenantStatus::RelationshipExpired,
            AadKind::NoAccess => TenantStatus::NoRelationship,
            AadKind::TenantNotFound => TenantStatus::NotFound,
            AadKind::BadCredentials | AadKind::ReauthRequired => return Verdict::fatal(),
            AadKind::Transient => TenantStatus::Throttled,
            AadKind::Other => TenantStatus::Error,
        },
        ApiError::Token(t @ TokenError::Credential(_)) if t.kind().is_fatal() => return Verdict::fatal(),
        e if e.is_throttled() => TenantStatus::Throttled,
        // Probe D19: a 503 out of retries named its cause, not "unexpected error".
        ApiError::Http { status: 503, .. } => TenantStatus::ServiceUnavailable,
        // signinactivity / authenticationmethods reports without Entra ID P1 (contract §3.3).
        e if e.graph_code() == Some(NON_PREMIUM) => TenantStatus::LicenceMissing,
        e if e.is_forbidden() && expired => TenantStatus::RelationshipExpired,
        e if e.is_forbidden() => TenantStatus::RoleMissing,
        e if e.is_not_found() => TenantStatus::NotFound,
        _ => TenantStatus::Error,
    };
    Verdict::tenant(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(rel: &str) -> Target {
        Target {
            id: "00000000-0000-0000-0000-000000000001".parse().unwrap(),
            name: "T".into(),
            relationship_status: Some(rel.into()),
        }
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
        let (active, expired) = (target("active"), target("expired"));
        let t = |s| Verdict::tenant(s);
        let cases: Vec<(ApiError, &Target, Verdict)> = vec![
            (
                aad(65001, AadKind::ConsentMissing),
                &active,
                t(TenantStatus::ConsentMissing),
            ),
            (
                aad(700016, AadKind::ConsentMissing),
                &active,
                t(TenantStatus::ConsentMissing),
            ),
            (aad(50020, AadKind::NoAccess), &active, t(TenantStatus::NoRelationship)),
            (
                aad(50020, AadKind::NoAccess),
                &expired,
                t(TenantStatus::RelationshipExpired),
            ),
            (aad(90002, AadKind::TenantNotFound), &active, t(TenantStatus::NotFound)),
            (aad(7000215, AadKind::BadCredentials), &active, Verdict::fatal()),
            (aad(700082, AadKind::ReauthRequired), &active, Verdict::fatal()),
            (http(429), &active, t(TenantStatus::Throttled)),
            (http(403), &active, t(TenantStatus::RoleMissing)),
            // Graph's 403 for signInActivity without Entra ID P1 (contract §3.3).
            (
                ApiError::http(
                    tenantctl_transport::api::Service::Graph,
                    403,
                    NON_PREMIUM,
                    "Tenant is not a B2C tenant and doesn't have premium license",
                ),
                &active,
                t(TenantStatus::LicenceMissing),
            ),
            (http(403), &expired, t(TenantStatus::RelationshipExpired)),
            (http(404), &active, t(TenantStatus::NotFound)),
            (http(503), &active, t(TenantStatus::ServiceUnavailable)),
            (http(500), &active, t(TenantStatus::Error)),
        ];
        for (e, target, v) in cases {
            assert_eq!(classify(&e, target), v, "{e}");
        }
    }
}
