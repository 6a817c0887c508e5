//! Graph's request preamble as an axum extractor: `GraphCall<Directory>` or
//! `GraphCall<Partner>` authenticates the bearer token, resolves the token's tenant and
//! authorises the caller there; its rejection is Graph's error answer.

use crate::auth::{authenticate, Caller, AUD_GRAPH};
use crate::fleet::{roles, Tenant, TenantKind};
use crate::odata::{self, EntitySpec, Query};
use crate::platform::errors::{graph_json_sized, GraphError, RequestIds};
use crate::state::Sim;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Serialize;
use std::marker::PhantomData;
use std::sync::Arc;

/// Graph's text for a missing permission or role.
pub const DENIED: &str = "Insufficient privileges to complete the operation.";

/// Which tenant a Graph call must be made in.
pub trait Side: Send + Sync + 'static {
    fn allows(sim: &Sim, t: &Tenant, caller: &Caller) -> bool;
}

/// The partner tenant only (GDAP relationships, customers).
pub struct Partner;
/// A tenant's own directory; in a customer tenant the partner needs GDAP access or consent.
pub struct Directory;

impl Side for Partner {
    fn allows(_: &Sim, t: &Tenant, _: &Caller) -> bool {
        t.kind == TenantKind::Partner
    }
}

impl Side for Directory {
    fn allows(sim: &Sim, t: &Tenant, caller: &Caller) -> bool {
        if t.kind != TenantKind::Customer {
            return true;
        }
        let a = sim.access(t);
        if caller.delegated {
            a.active_relationship && a.consent && !a.roles.is_empty()
        } else {
            a.consent
        }
    }
}

/// An authenticated, authorised Graph request.
pub struct GraphCall<S> {
    pub sim: Arc<Sim>,
    tenant: u32,
    pub caller: Caller,
    pub ids: RequestIds,
    /// `ConsistencyLevel: eventual` was sent.
    pub eventual: bool,
    /// Scheme and host the request came in on: absolute URLs (`@odata.nextLink`) use it.
    pub base: String,
    _side: PhantomData<S>,
}

impl<S: Side> FromRequestParts<Arc<Sim>> for GraphCall<S> {
    type Rejection = GraphError;

    async fn from_request_parts(parts: &mut Parts, sim: &Arc<Sim>) -> Result<Self, GraphError> {
        let headers = &parts.headers;
        let ids = RequestIds::from_headers(headers);
        let unauthorized =
            |msg: &str| GraphError::new(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", msg, &ids);
        let caller = authenticate(&sim.keys, headers, AUD_GRAPH).map_err(|e| unauthorized(e.graph_message()))?;
        let Some(t) = sim.fleet.tenant_by_id(caller.tenant_id) else {
            return Err(unauthorized("Access token validation failure."));
        };
        if !S::allows(sim, t, &caller) {
            return Err(denied(&ids));
        }
        let eventual = headers
            .get("consistencylevel")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("eventual"));
        let base = crate::origin::Origin::from_parts(&parts.headers, &parts.extensions, &parts.uri).base();
        Ok(GraphCall {
            sim: sim.clone(),
            tenant: t.idx,
            caller,
            ids,
            eventual,
            base,
            _side: PhantomData,
        })
    }
}

pub fn denied(ids: &RequestIds) -> GraphError {
    GraphError::new(StatusCode::FORBIDDEN, "Authorization_RequestDenied", DENIED, ids)
}

fn throttled(ids: &RequestIds, th: crate::throttle::Throttled) -> GraphError {
    GraphError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "TooManyRequests",
        "Please retry again later.",
        ids,
    )
    .with_header("retry-after", th.retry_after_secs.to_string())
    .with_header("x-ms-throttle-scope", th.scope)
    .with_header("x-ms-throttle-information", th.information)
}

impl<S> GraphCall<S> {
    /// The tenant the token was issued for.
    pub fn t(&self) -> &Tenant {
        &self.sim.fleet.tenants[self.tenant as usize]
    }

    pub fn query(&self, raw: &Option<String>, spec: &EntitySpec) -> Result<Query, GraphError> {
        odata::parse(raw.as_deref(), spec, self.eventual)
            .map_err(|e| self.error(StatusCode::BAD_REQUEST, e.code, e.message))
    }

    pub fn error(&self, status: StatusCode, code: &str, message: impl Into<String>) -> GraphError {
        GraphError::new(status, code, message, &self.ids)
    }

    /// 400 `Request_BadRequest`.
    pub fn bad_request(&self, message: impl Into<String>) -> GraphError {
        self.error(StatusCode::BAD_REQUEST, "Request_BadRequest", message)
    }

    /// 400 "Invalid value specified for property '…' of resource '…'."
    pub fn invalid_value(&self, prop: &str, resource: &str) -> GraphError {
        self.bad_request(format!(
            "Invalid value specified for property '{prop}' of resource '{resource}'."
        ))
    }

    pub fn not_found(&self, key: &str) -> GraphError {
        self.error(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!(
                "Resource '{key}' does not exist or one of its queried reference-property objects are not present."
            ),
        )
    }

    /// Charges the request's resource units (learn.microsoft.com/graph/throttling-limits).
    pub fn charge(&self, base: u32, q: Option<&Query>) -> Result<u32, GraphError> {
        let cost = crate::throttle::graph_cost(
            base,
            q.is_some_and(|q| q.select.is_some()),
            false,
            q.and_then(|q| q.top),
        );
        self.sim
            .throttle
            .charge(self.caller.app_id, self.t(), cost, false)
            .map(|()| cost)
            .map_err(|th| throttled(&self.ids, th).with_header("x-ms-resource-unit", cost.to_string()))
    }

    /// Charges one write (identity and access writes: 1 RU plus one write).
    pub fn charge_write(&self) -> Result<u32, GraphError> {
        let cost = 1;
        self.sim
            .throttle
            .charge(self.caller.app_id, self.t(), cost, true)
            .map(|()| cost)
            .map_err(|th| throttled(&self.ids, th))
    }

    /// Authorises a write: a GDAP role (delegated) or an application permission (app-only).
    pub fn authorize_write(&self, any_role: &[&str], app_perms: &[&str]) -> Result<(), GraphError> {
        let t = self.t();
        if t.kind != TenantKind::Customer {
            return Ok(());
        }
        let ok = if self.caller.delegated {
            let a = self.sim.access(t);
            a.active_relationship && any_role.iter().any(|role| a.has_role(role))
        } else {
            self.caller.roles.iter().any(|x| app_perms.contains(&x.as_str()))
        };
        ok.then_some(()).ok_or_else(|| denied(&self.ids))
    }

    /// User Administrator (delegated) or User.ReadWrite.All (app-only).
    pub fn authorize_user_write(&self) -> Result<(), GraphError> {
        self.authorize_write(
            &[roles::USER_ADMINISTRATOR],
            &["User.ReadWrite.All", "Directory.ReadWrite.All"],
        )
    }

    /// A JSON answer with Graph's headers and the charged resource units.
    pub fn ok(&self, body: impl Serialize, cost: u32) -> Response {
        self.json(StatusCode::OK, body, cost)
    }

    pub fn json(&self, status: StatusCode, body: impl Serialize, cost: u32) -> Response {
        self.json_sized(status, body, 128, cost)
    }

    /// [`GraphCall::json`] with a first guess of the body's size (see `graph_json_sized`).
    pub fn json_sized(&self, status: StatusCode, body: impl Serialize, capacity: usize, cost: u32) -> Response {
        let mut r = graph_json_sized(status, body, capacity, &self.ids);
        set_header(r.headers_mut(), "x-ms-resource-unit", &cost.to_string());
        r
    }

    /// 204 with Graph's headers.
    pub fn no_content(&self) -> Response {
        let mut r = Response::new(axum::body::Body::empty());
        *r.status_mut() = StatusCode::NO_CONTENT;
        crate::platform::errors::graph_headers(r.headers_mut(), &self.ids);
        r
    }
}

pub fn set_header(h: &mut axum::http::HeaderMap, name: &'static str, v: &str) {
    if let Ok(v) = HeaderValue::from_str(v) {
        h.insert(HeaderName::from_static(name), v);
    }
}
