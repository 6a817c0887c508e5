//! Reading users: `GET /users` (user-list), `GET /users/{id|upn}` (user-get) and
//! `GET /users/$count` (aad-advanced-queries), all over the world's merged users.

use super::paging::{context, date, entity, page, page_projected, Listing, CTX};
use super::security;
use super::specs::USERS;
use crate::odata::{self, Query};
use crate::platform::errors::{graph_headers, GraphError};
use crate::platform::extract::{set_header, Directory, GraphCall};
use crate::world::model::UserRecord;
use axum::extract::{Path, RawQuery};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

type Res = Result<Response, GraphError>;

/// The properties of a user as `user_json` writes them: learn.microsoft.com/graph/api/resources/user
/// (property names), user-list example order.
const USER_PROPS: [&str; 23] = [
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
    "accountEnabled",
    "assignedLicenses",
    "city",
    "country",
    "createdDateTime",
    "department",
    "mailNickname",
    "usageLocation",
    "userType",
    "creationType",
    "externalUserState",
    "externalUserStateChangeDateTime",
];

/// One property of a user (`Null` for a property the user record does not carry).
fn user_prop(u: &UserRecord, key: &str) -> Value {
    match key {
        "businessPhones" => json!(u.business_phones),
        "displayName" => json!(u.display_name),
        "givenName" => json!(u.given_name),
        "jobTitle" => json!(u.job_title),
        "mail" => json!(u.mail),
        "mobilePhone" => json!(u.mobile_phone),
        "officeLocation" => json!(u.office_location),
        "preferredLanguage" => json!(u.preferred_language),
        "surname" => json!(u.surname),
        "userPrincipalName" => json!(u.user_principal_name),
        "id" => json!(u.id.to_string()),
        "accountEnabled" => json!(u.account_enabled),
        "assignedLicenses" => Value::Array(
            u.licences
                .iter()
                .map(|l| {
                    json!({
                        "disabledPlans": l.disabled_plans.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
                        "skuId": l.sku_id.to_string(),
                    })
                })
                .collect(),
        ),
        "city" => json!(u.city),
        "country" => json!(u.country),
        "createdDateTime" => json!(date(u.created)),
        "department" => json!(u.department),
        "mailNickname" => json!(u.mail_nickname),
        "usageLocation" => json!(u.usage_location),
        "userType" => json!(u.user_type),
        "creationType" => json!(u.external.as_ref().map(|_| "Invitation")),
        "externalUserState" => json!(u.external.as_ref().map(|e| e.state.clone())),
        "externalUserStateChangeDateTime" => json!(u.external.as_ref().map(|e| date(e.state_changed))),
        _ => Value::Null,
    }
}

/// learn.microsoft.com/graph/api/resources/user: every property, in [`USER_PROPS`] order.
pub fn user_json(u: &UserRecord) -> Value {
    let mut m = Map::new();
    for k in USER_PROPS {
        m.insert(k.to_owned(), user_prop(u, k));
    }
    Value::Object(m)
}

/// `odata::project(&user_json(u), q, &USERS)` without building the properties that are not
/// kept (a users page renders 999 of them; most of a user's properties are not selected).
fn user_projected(u: &UserRecord, q: &Query) -> Value {
    let mut m = Map::new();
    match (&q.select, USERS.default_select) {
        (Some(sel), _) => {
            for k in sel {
                m.insert(k.clone(), user_prop(u, k));
            }
        }
        (None, Some(keep)) => {
            for k in USER_PROPS.iter().filter(|k| keep.contains(k)) {
                m.insert((*k).to_owned(), user_prop(u, k));
            }
        }
        (None, None) => return user_json(u),
    }
    Value::Object(m)
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
    let ctx = context(&format!("{CTX}users"), &q);
    if !sign_in && !q.narrows() && q.orderby.is_none() {
        // Nothing to match or sort on: render each user with its selected properties only.
        let item = |i: u64| view.user_at(i).map_or(Value::Null, |v| user_projected(&v.user, &q));
        let listing = Listing {
            spec: &USERS,
            q: &q,
            path: "users",
            ctx,
            cost,
        };
        return page_projected(&call, listing, view.len(), &item, view.changed());
    }
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
