//! Who may call Exchange's admin API in a tenant (contract §1.1).
//!
//! * Token audience `https://outlook.office365.com`; any other (a Graph token) → the front
//!   door's 401 with `WWW-Authenticate` and `x-ms-diagnostics` [O, capture in §1.6].
//! * The token's tenant must be the path's tenant: else 401 with the same headers and reason
//!   "The tenant in the token does not match the tenant in the request." [I].
//! * Delegated (GDAP): Global Administrator / Exchange Administrator → Organization
//!   Management (everything); Global Reader → View-Only Organization Management (`Get-*` only:
//!   other cmdlets are absent from the role-scoped session, so they answer CommandNotFound);
//!   no Exchange-capable role → 403 "isn't assigned to any management roles" [I text]
//!   (learn.microsoft.com/exchange/permissions-exo/permissions-exo).
//! * App-only: `Exchange.ManageAsApp` and a directory role: neither → 401, the app role only →
//!   403 [O graph2otel]. The directory role is taken as held when the customer consented and
//!   the partner's GDAP roles there include an Exchange-capable one [I].

use super::errors::{exceptions, unauthorized, ExoError};
use crate::auth::{authenticate, AuthError, Caller, AUD_EXCHANGE};
use crate::fleet::{roles, Tenant, TenantKind};
use crate::state::Sim;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// What the caller may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExoRole {
    /// Organization Management: every cmdlet.
    Full,
    /// View-Only Organization Management: `Get-*` cmdlets only.
    ReadOnly,
}

/// The Exchange role a set of Entra roles maps to (None: no Exchange role at all).
pub fn exchange_role(entra_roles: &[&str]) -> Option<ExoRole> {
    if entra_roles.contains(&roles::GLOBAL_ADMINISTRATOR) || entra_roles.contains(&roles::EXCHANGE_ADMINISTRATOR) {
        Some(ExoRole::Full)
    } else if entra_roles.contains(&roles::GLOBAL_READER) {
        Some(ExoRole::ReadOnly)
    } else {
        None
    }
}

impl Sim {
    /// The Exchange role the partner holds in tenant `t` now (run-time trouble applied):
    /// `None` when GDAP grants no Exchange-capable role or no active relationship.
    pub fn exchange_role(&self, t: &Tenant) -> Option<ExoRole> {
        if t.kind != TenantKind::Customer {
            return Some(ExoRole::Full);
        }
        let a = self.access(t);
        if !(a.active_relationship && a.consent) {
            return None;
        }
        exchange_role(&a.roles)
    }
}

/// An authenticated, authorised Exchange request.
pub struct ExoCtx {
    pub sim: Arc<Sim>,
    pub tenant: u32,
    /// The tenant segment of the path as sent (links reuse it).
    pub tenant_segment: String,
    pub role: ExoRole,
    pub caller: Caller,
    /// Scheme and host the request came in on (absolute nextLinks use it).
    pub base: String,
    /// The simulator's clock, read once per request (Unix seconds).
    pub now: i64,
}

impl ExoCtx {
    pub fn t(&self) -> &Tenant {
        &self.sim.fleet.tenants[self.tenant as usize]
    }

    /// The fake server name Exchange names in "couldn't be found on '…'" texts.
    pub fn server(&self) -> String {
        format!(
            "SIMPR{:02}A{:03}DC{:03}.SIMPR{:02}A{:03}.PROD.OUTLOOK.COM",
            self.tenant % 7 + 1,
            self.tenant % 997,
            self.tenant % 13 + 1,
            self.tenant % 7 + 1,
            self.tenant % 997
        )
    }
}

/// Authenticates and authorises a request to tenant `segment` (GUID or domain).
pub fn authorize(sim: &Arc<Sim>, headers: &HeaderMap, segment: &str, base: String) -> Result<ExoCtx, Response> {
    let caller = authenticate(&sim.keys, headers, AUD_EXCHANGE).map_err(|e| {
        unauthorized(match e {
            AuthError::WrongAudience => "The audience claim value is invalid 'aud'.",
            AuthError::Missing => "The token is missing.",
            AuthError::Expired => "The token has expired.",
            AuthError::NotYetValid => "The token is not yet valid.",
            AuthError::BadSignature | AuthError::Malformed => "The token signature is invalid.",
        })
    })?;
    let t = sim
        .fleet
        .find_tenant(segment)
        .filter(|t| t.id == caller.tenant_id)
        .ok_or_else(|| unauthorized("The tenant in the token does not match the tenant in the request."))?;
    let role = if caller.delegated {
        sim.exchange_role(t).ok_or_else(|| {
            ExoError::new(
                StatusCode::FORBIDDEN,
                "Forbidden",
                exceptions::UNAUTHORIZED,
                format!(
                    "The user \"{}\" isn't assigned to any management roles.",
                    caller.upn.as_deref().unwrap_or("unknown")
                ),
            )
            .into_response()
        })?
    } else {
        if !caller.roles.iter().any(|r| r == "Exchange.ManageAsApp") {
            return Err(unauthorized(
                "The application does not have the Exchange.ManageAsApp role.",
            ));
        }
        let directory_role = if t.kind != TenantKind::Customer {
            Some(ExoRole::Full)
        } else {
            let a = sim.access(t);
            if a.consent {
                exchange_role(&a.roles)
            } else {
                None
            }
        };
        directory_role.ok_or_else(|| {
            ExoError::new(
                StatusCode::FORBIDDEN,
                "Forbidden",
                exceptions::UNAUTHORIZED,
                "The application isn't assigned to any management roles.",
            )
            .into_response()
        })?
    };
    Ok(ExoCtx {
        sim: sim.clone(),
        tenant: t.idx,
        tenant_segment: segment.to_owned(),
        role,
        caller,
        base,
        now: sim.clock.now_unix(),
    })
}
