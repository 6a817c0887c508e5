//! Security data in each customer: directory roles (`/roleManagement/directory/...`), the
//! `signInActivity` of users (rendered by `users.rs` through [`sign_in_json`]) and the
//! authentication-methods registration report, over the world's security view
//! (`world/security.rs`). Shapes from the learn.microsoft.com/graph/api page named at each
//! handler; `[I]` marks what the pages do not say.

use super::paging::{context, date, entity, page, vec_page, Listing, CTX};
use super::specs::{REGISTRATION, ROLE_ASSIGNMENTS, ROLE_DEFINITIONS};
use super::users::user_json;
use crate::fleet::{roles, TenantKind};
use crate::odata::{self, Query};
use crate::platform::errors::GraphError;
use crate::platform::extract::{denied, Directory, GraphCall};
use crate::world::security::{role_def, Registration, RoleAssignment, RoleDef, SignIn, ROLE_DEFINITIONS as DEFS};
use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};

type Res = Result<Response, GraphError>;

/// Delegated roles that may read sign-in activity and the authentication-methods reports:
/// Reports Reader, Security Reader, Security Administrator (userregistrationdetails-get, Entra
/// "Sign-in logs" roles) and Global Reader [C the reader roles of the Entra licensing table;
/// Global Reader I]; Global Administrator may do everything.
pub const AUDIT_READERS: &[&str] = &[
    roles::REPORTS_READER,
    roles::SECURITY_READER,
    roles::SECURITY_ADMINISTRATOR,
    roles::GLOBAL_READER,
];

/// Delegated roles that may list role assignments and definitions: rbacapplication-list-roleassignments'
/// least privileged Directory Readers, Global Reader, Privileged Role Administrator.
pub const ROLE_READERS: &[&str] = &[
    roles::DIRECTORY_READERS,
    roles::GLOBAL_READER,
    roles::PRIVILEGED_ROLE_ADMINISTRATOR,
    roles::SECURITY_READER,
    roles::SECURITY_ADMINISTRATOR,
];

/// Permissions (delegated scopes or application roles) that read role assignments.
const ROLE_READ_PERMISSIONS: &[&str] = &[
    "RoleManagement.Read.Directory",
    "RoleManagement.Read.All",
    "Directory.Read.All",
    "RoleManagement.ReadWrite.Directory",
    "Directory.ReadWrite.All",
];

/// `AuditLog.Read.All` (user-list for signInActivity; authenticationmethodsroot-list-userregistrationdetails).
const AUDIT_PERMISSIONS: &[&str] = &["AuditLog.Read.All"];

/// Authorises a read that needs a permission and, delegated in a customer, one of `any_role`
/// through GDAP: else Graph's 403 `Authorization_RequestDenied`.
pub fn authorize_read<S>(call: &GraphCall<S>, any_role: &[&str], permissions: &[&str]) -> Result<(), GraphError> {
    let held = if call.caller.delegated {
        &call.caller.scopes
    } else {
        &call.caller.roles
    };
    let permitted = held
        .iter()
        .any(|p| permissions.iter().any(|x| x.eq_ignore_ascii_case(p)));
    let t = call.t();
    let role_ok = if call.caller.delegated && t.kind == TenantKind::Customer {
        let a = call.sim.access(t);
        a.active_relationship && any_role.iter().any(|r| a.has_role(r))
    } else {
        true
    };
    (permitted && role_ok).then_some(()).ok_or_else(|| denied(&call.ids))
}

/// Entra ID P1/P2 in the tenant, else 403 `Authentication_RequestFromNonPremiumTenantOrB2CTenant`
/// "Tenant is not a B2C tenant and doesn't have premium license" (contract §3.3, observed; the
/// same answer for userRegistrationDetails: microsoft-graph-docs-contrib#8777).
pub fn require_premium<S>(call: &GraphCall<S>) -> Result<(), GraphError> {
    if call.sim.world.tenant(call.t()).has_entra_premium() {
        return Ok(());
    }
    Err(call.error(
        StatusCode::FORBIDDEN,
        "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
        "Tenant is not a B2C tenant and doesn't have premium license",
    ))
}

/// Only the named query options (lower case, with `$`); any other `$` option is Graph's 400.
fn only_options<S>(call: &GraphCall<S>, raw: &Option<String>, allowed: &[&str]) -> Result<(), GraphError> {
    for (k, _) in url::form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes()) {
        let k = k.to_ascii_lowercase();
        if k.starts_with('$') && !allowed.contains(&k.as_str()) {
            return Err(call.bad_request(format!("Query option '{k}' is not supported for this request.")));
        }
    }
    Ok(())
}

/// Splits `$expand` off the raw query: the expanded navigation properties (checked against
/// `allowed`) and the rest for the OData parser.
fn take_expand<S>(
    call: &GraphCall<S>,
    raw: &Option<String>,
    allowed: &[&'static str],
    type_name: &str,
) -> Result<(Option<String>, Vec<&'static str>), GraphError> {
    let mut rest = url::form_urlencoded::Serializer::new(String::new());
    let mut expand = Vec::new();
    for (k, v) in url::form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes()) {
        if k.eq_ignore_ascii_case("$expand") {
            for p in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let Some(canon) = allowed.iter().find(|a| a.eq_ignore_ascii_case(p)) else {
                    return Err(
                        call.bad_request(format!("Could not find a property named '{p}' on type '{type_name}'."))
                    );
                };
                if !expand.contains(canon) {
                    expand.push(*canon);
                }
            }
        } else {
            rest.append_pair(&k, &v);
        }
    }
    let rest = rest.finish();
    Ok(((!rest.is_empty()).then_some(rest), expand))
}

/// A user as a directory object inside another resource (`principal`): `@odata.type` first.
fn principal_json(a: &RoleAssignment) -> Value {
    let mut m = Map::new();
    m.insert("@odata.type".into(), json!("#microsoft.graph.user"));
    if let Value::Object(o) = user_json(&a.principal.user) {
        m.extend(o);
    }
    Value::Object(m)
}

/// resources/unifiedroleassignment, as rbacapplication-list-roleassignments shows it.
fn assignment_json(a: &RoleAssignment) -> Value {
    json!({
        "id": a.id,
        "principalId": a.principal.user.id.to_string(),
        "resourceScope": "/",
        "directoryScopeId": "/",
        "roleDefinitionId": a.role.id,
        "appScopeId": null,
    })
}

/// resources/unifiedroledefinition of a built-in role: its id is the template id.
/// `rolePermissions` is left empty [I].
fn definition_json(r: &RoleDef) -> Value {
    json!({
        "id": r.id,
        "description": r.description,
        "displayName": r.display_name,
        "isBuiltIn": true,
        "isEnabled": true,
        "resourceScopes": ["/"],
        "templateId": r.id,
        "version": "1",
        "rolePermissions": [{"allowedResourceActions": [], "condition": null}],
    })
}

/// `GET /roleManagement/directory/roleAssignments`
/// (learn.microsoft.com/graph/api/rbacapplication-list-roleassignments): `$filter`, `$select`,
/// `$expand=principal` (and `roleDefinition`); other options → 400. Every assignment in one
/// page (a tenant has a handful) [I].
pub async fn role_assignments(call: GraphCall<Directory>, RawQuery(raw): RawQuery) -> Res {
    let (rest, expand) = take_expand(
        &call,
        &raw,
        &["principal", "roleDefinition"],
        ROLE_ASSIGNMENTS.type_name,
    )?;
    only_options(&call, &rest, &["$filter", "$select"])?;
    let q = call.query(&rest, &ROLE_ASSIGNMENTS)?;
    authorize_read(&call, ROLE_READERS, ROLE_READ_PERMISSIONS)?;
    let cost = call.charge(2, Some(&q))?;
    let view = call.sim.world.tenant(call.t());
    let value: Vec<Value> = view
        .role_assignments()
        .iter()
        .filter_map(|a| {
            let full = assignment_json(a);
            if !q.hit(&full) {
                return None;
            }
            let mut v = odata::project(&full, &q, &ROLE_ASSIGNMENTS);
            if let Value::Object(o) = &mut v {
                for e in &expand {
                    match *e {
                        "principal" => o.insert("principal".into(), principal_json(a)),
                        _ => o.insert("roleDefinition".into(), definition_json(a.role)),
                    };
                }
            }
            Some(v)
        })
        .collect();
    // `…#roleManagement/directory/roleAssignments(principal())` when expanded (example 1).
    let mut parts: Vec<String> = q.select.clone().unwrap_or_default();
    parts.extend(expand.iter().map(|e| format!("{e}()")));
    let base = format!("{CTX}{}", ROLE_ASSIGNMENTS.context);
    let ctx = if parts.is_empty() {
        base
    } else {
        format!("{base}({})", parts.join(","))
    };
    Ok(call.ok(json!({"@odata.context": ctx, "value": value}), cost))
}

/// `GET /roleManagement/directory/roleDefinitions` (learn.microsoft.com/graph/api/rbacapplication-list-roledefinitions):
/// the built-in roles the simulator knows (a subset of Entra's) [I subset].
pub async fn role_definitions(call: GraphCall<Directory>, RawQuery(raw): RawQuery) -> Res {
    only_options(&call, &raw, &["$filter", "$select"])?;
    let q = call.query(&raw, &ROLE_DEFINITIONS)?;
    authorize_read(&call, ROLE_READERS, ROLE_READ_PERMISSIONS)?;
    let cost = call.charge(1, Some(&q))?;
    let items = DEFS.iter().map(definition_json).collect();
    let ctx = context(&format!("{CTX}{}", ROLE_DEFINITIONS.context), &q);
    let listing = Listing {
        spec: &ROLE_DEFINITIONS,
        q: &q,
        path: ROLE_DEFINITIONS.context,
        ctx,
        cost,
    };
    vec_page(&call, listing, items)
}

/// `GET /roleManagement/directory/roleDefinitions/{id}` (unifiedroledefinition-get).
pub async fn role_definition(call: GraphCall<Directory>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Res {
    only_options(&call, &raw, &["$select"])?;
    let q = call.query(&raw, &ROLE_DEFINITIONS)?;
    authorize_read(&call, ROLE_READERS, ROLE_READ_PERMISSIONS)?;
    let cost = call.charge(1, Some(&q))?;
    let r = role_def(&id).ok_or_else(|| call.not_found(&id))?;
    let v = odata::project(&definition_json(r), &q, &ROLE_DEFINITIONS);
    Ok(call.ok(entity(&format!("{CTX}{}", ROLE_DEFINITIONS.context), &q, v), cost))
}

/// resources/signinactivity: UTC `2014-01-01T00:00:00Z` dates, null where there was none;
/// the whole property is null for a user who never signed in ("This property isn't returned
/// for a user who never signed in", resources/user).
pub fn sign_in_json(s: &SignIn) -> Value {
    if s.is_never() {
        return Value::Null;
    }
    let d = |x: Option<(i64, crate::ids::Guid)>| x.map(|(t, _)| date(t));
    let r = |x: Option<(i64, crate::ids::Guid)>| x.map(|(_, g)| g.to_string());
    json!({
        "lastNonInteractiveSignInDateTime": d(s.last_non_interactive),
        "lastNonInteractiveSignInRequestId": r(s.last_non_interactive),
        "lastSignInDateTime": d(s.last_sign_in),
        "lastSignInRequestId": r(s.last_sign_in),
        "lastSuccessfulSignInDateTime": d(s.last_successful),
        "lastSuccessfulSignInRequestId": r(s.last_successful),
    })
}

/// Whether a users query reads signInActivity (selected or filtered on).
pub fn wants_sign_in(q: &Query) -> bool {
    q.select
        .as_ref()
        .is_some_and(|s| s.iter().any(|p| p.eq_ignore_ascii_case("signInActivity")))
        || q.filter
            .as_ref()
            .is_some_and(|f| f.props().iter().any(|p| p.starts_with("signinactivity/")))
}

/// The preconditions of a users read with signInActivity (user-list): `$filter` on it "not
/// with any other filterable properties"; AuditLog.Read.All and a reader role; Entra ID
/// P1/P2; "the maximum page size for $top is 120. Requests with $top set higher than 120 will
/// return pages with up to 120 users."
pub fn prepare_sign_in<S>(call: &GraphCall<S>, q: &mut Query) -> Result<(), GraphError> {
    if let Some(f) = &q.filter {
        let props = f.props();
        if props.iter().any(|p| p.starts_with("signinactivity/")) {
            if let Some(other) = props.iter().find(|p| !p.starts_with("signinactivity/")) {
                let e = odata::unsupported_filter(other, "User");
                return Err(call.error(StatusCode::BAD_REQUEST, e.code, e.message));
            }
        }
    }
    authorize_read(call, AUDIT_READERS, AUDIT_PERMISSIONS)?;
    require_premium(call)?;
    if let Some(top) = q.top {
        q.top = Some(top.min(SIGN_IN_MAX_TOP));
    }
    Ok(())
}

/// user-list: the page size cap when signInActivity is selected or filtered.
pub const SIGN_IN_MAX_TOP: u32 = 120;

/// resources/userregistrationdetails, in the documented example's key order;
/// `lastUpdatedDateTime` with seven fractional digits as there.
fn registration_json(u: &crate::world::model::UserRecord, r: &Registration) -> Value {
    let d = date(r.last_updated);
    let frac = (crate::ids::hash(&[r.last_updated as u64, 0xF7]) % 10_000_000) as u32;
    json!({
        "id": u.id.to_string(),
        "userPrincipalName": u.user_principal_name,
        "userDisplayName": u.display_name,
        "isAdmin": r.is_admin,
        "isSsprRegistered": r.is_sspr_registered,
        "isSsprEnabled": r.is_sspr_enabled,
        "isSsprCapable": r.is_sspr_capable,
        "isMfaRegistered": r.is_mfa_registered,
        "isMfaCapable": r.is_mfa_capable,
        "isPasswordlessCapable": r.is_passwordless_capable,
        "lastUpdatedDateTime": format!("{}.{frac:07}Z", &d[..d.len() - 1]),
        "methodsRegistered": r.methods,
        "isSystemPreferredAuthenticationMethodEnabled": r.is_system_preferred_enabled,
        "systemPreferredAuthenticationMethods": r.system_preferred,
        "userPreferredMethodForSecondaryAuthentication": r.user_preferred,
        "userType": r.user_type,
    })
}

const REGISTRATION_PATH: &str = "reports/authenticationMethods/userRegistrationDetails";

/// `GET /reports/authenticationMethods/userRegistrationDetails`
/// (learn.microsoft.com/graph/api/authenticationmethodsroot-list-userregistrationdetails):
/// AuditLog.Read.All; "supports only the `$filter` and `$orderBy`" (others → 400); one row per
/// user, guests included; pages of 1000 with `@odata.nextLink` [I size]. Needs Entra ID P1/P2
/// [O: microsoft-graph-docs-contrib#8777, the same 403 as signInActivity].
pub async fn user_registration_details(call: GraphCall<Directory>, RawQuery(raw): RawQuery) -> Res {
    only_options(&call, &raw, &["$filter", "$orderby", "$skiptoken"])?;
    let q = call.query(&raw, &REGISTRATION)?;
    authorize_read(&call, AUDIT_READERS, AUDIT_PERMISSIONS)?;
    require_premium(&call)?;
    let cost = call.charge(2, Some(&q))?;
    let view = call.sim.world.tenant(call.t());
    let admins = view.admin_ids();
    let now = call.sim.clock.now_unix();
    let item = |i: u64| {
        view.user_at(i)
            .map(|v| registration_json(&v.user, &view.registration(&v.user, admins.contains(&v.user.id), now)))
            .unwrap_or(Value::Null)
    };
    let ctx = format!("{CTX}{REGISTRATION_PATH}");
    let listing = Listing {
        spec: &REGISTRATION,
        q: &q,
        path: REGISTRATION_PATH,
        ctx,
        cost,
    };
    page(&call, listing, view.len(), &item, view.changed())
}

/// `GET /reports/authenticationMethods/userRegistrationDetails/{id}` (userregistrationdetails-get).
pub async fn user_registration_detail(
    call: GraphCall<Directory>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Res {
    only_options(&call, &raw, &[])?;
    authorize_read(&call, AUDIT_READERS, AUDIT_PERMISSIONS)?;
    require_premium(&call)?;
    let cost = call.charge(1, None)?;
    let view = call.sim.world.tenant(call.t());
    let Some(v) = view.user(&id) else {
        return Err(call.not_found(&id));
    };
    let is_admin = view.admin_ids().contains(&v.user.id);
    let now = call.sim.clock.now_unix();
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(format!("{CTX}{REGISTRATION_PATH}/$entity")),
    );
    if let Value::Object(o) = registration_json(&v.user, &view.registration(&v.user, is_admin, now)) {
        body.extend(o);
    }
    Ok(call.ok(Value::Object(body), cost))
}
