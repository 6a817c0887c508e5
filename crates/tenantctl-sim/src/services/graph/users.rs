//! Reading users: `GET /users` (user-list), `GET /users/{id|upn}` (user-get) and
//! `GET /users/$count` (aad-advanced-queries), all over the world's merged users.

use super::paging::{context, date, entity, page, Listing, CTX};
use super::security;
use super::specs::USERS;
use crate::odata::{self, Query};
use crate::platform::errors::{graph_headers, GraphError};
use crate::platform::extract::{set_header, Directory, GraphCall};
use crate::world::model::UserRecord;
use axum::extract::{Path, RawQuery};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

type Res = Result<Response, GraphError>;

/// learn.microsoft.com/graph/api/resources/user (property names), user-list example order.
pub fn user_json(u: &UserRecord) -> Value {
    let licences: Vec<Value> = u
        .licences
        .iter()
        .map(|l| {
            json!({
                "disabledPlans": l.disabled_plans.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
                "skuId": l.sku_id.to_string(),
            })
        })
        .collect();
    json!({
        "businessPhones": u.business_phones,
        "displayName": u.display_name,
        "givenName": u.given_name,
        "jobTitle": u.job_title,
        "mail": u.mail,
        "mobilePhone": u.mobile_phone,
        "officeLocation": u.office_location,
        "preferredLanguage": u.preferred_language,
        "surname": u.surname,
        "userPrincipalName": u.user_principal_name,
        "id": u.id.to_string(),
        "accountEnabled": u.account_enabled,
        "assignedLicenses": licences,
        "city": u.city,
        "country": u.country,
        "createdDateTime": date(u.created),
        "department": u.department,
        "mailNickname": u.mail_nickname,
        "usageLocation": u.usage_location,
        "userType": u.user_type,
        "creationType": u.external.as_ref().map(|_| "Invitation"),
        "externalUserState": u.external.as_ref().map(|e| e.state.clone()),
        "externalUserStateChangeDateTime": u.external.as_ref().map(|e| date(e.state_changed)),
    })
}

/// A user as `POST /users` and `GET /users/{id}` answer it (default properties).
pub fn user_entity(u: &UserRecord, q: &Query) -> Value {
    entity(&format!("{CTX}users"), q, odata::project(&user_json(u), q, &USERS))
}

pub async fn users(call: GraphCall<Directory>, RawQuery(raw): RawQuery) -> Res {
    let mut q = call.query(&raw, &USERS)?;
    let sign_in = security::wants_sign_in(&q);
    if sign_in {
        security::prepare_sign_in(&call, &mut q)?;
    }
    let cost = call.charge(2, Some(&q))?;
    let view = call.sim.world.tenant(call.t());
    let now = call.sim.clock.now_unix();
    let item = |i: u64| {
        view.user_at(i)
            .map(|v| {
                let mut j = user_json(&v.user);
                if sign_in {
                    j["signInActivity"] = security::sign_in_json(&view.sign_in(&v, now));
                }
                j
            })
            .unwrap_or(Value::Null)
    };
    let ctx = context(&format!("{CTX}users"), &q);
    let listing = Listing {
        spec: &USERS,
        q: &q,
        path: "users",
        ctx,
        cost,
    };
    page(&call, listing, view.len(), &item, view.changed())
}

pub async fn user(call: GraphCall<Directory>, Path(key): Path<String>, RawQuery(raw): RawQuery) -> Res {
    if key == "$count" {
        return count(&call, raw);
    }
    let mut q = call.query(&raw, &USERS)?;
    let sign_in = security::wants_sign_in(&q);
    if sign_in {
        security::prepare_sign_in(&call, &mut q)?;
    }
    let cost = call.charge(1, Some(&q))?;
    let view = call.sim.world.tenant(call.t());
    let Some(v) = view.user(&key) else {
        return Err(call.not_found(&key));
    };
    if !sign_in {
        return Ok(call.ok(user_entity(&v.user, &q), cost));
    }
    let mut j = user_json(&v.user);
    j["signInActivity"] = security::sign_in_json(&view.sign_in(&v, call.sim.clock.now_unix()));
    Ok(call.ok(entity(&format!("{CTX}users"), &q, odata::project(&j, &q, &USERS)), cost))
}

/// `/users/$count` needs `ConsistencyLevel: eventual` (aad-advanced-queries) and answers
/// text/plain.
fn count(call: &GraphCall<Directory>, raw: Option<String>) -> Res {
    if !call.eventual {
        return Err(call.bad_request("$count is not currently supported."));
    }
    // `$count=true` is implied for the advanced filters on this segment.
    let mut raw = raw.unwrap_or_default();
    if !raw.to_ascii_lowercase().contains("$count=") {
        raw = if raw.is_empty() {
            "$count=true".into()
        } else {
            format!("{raw}&$count=true")
        };
    }
    let mut q = call.query(&Some(raw), &USERS)?;
    let sign_in = security::wants_sign_in(&q);
    if sign_in {
        security::prepare_sign_in(call, &mut q)?;
    }
    let cost = call.charge(2, Some(&q))?;
    let view = call.sim.world.tenant(call.t());
    let now = call.sim.clock.now_unix();
    let n = if !view.changed() && !q.narrows() {
        view.len()
    } else {
        view.users()
            .filter(|v| {
                let mut j = user_json(&v.user);
                if sign_in {
                    j["signInActivity"] = security::sign_in_json(&view.sign_in(v, now));
                }
                q.hit(&j)
            })
            .count() as u64
    };
    let mut resp = (StatusCode::OK, n.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain;charset=utf-8"),
    );
    graph_headers(h, &call.ids);
    set_header(h, "x-ms-resource-unit", &cost.to_string());
    Ok(resp)
}

/// The options of a request without any: Graph's default properties.
pub fn default_query() -> Query {
    odata::parse(None, &USERS, false).expect("no options parse")
}
