//! Reading users: `GET /users` (user-list), `GET /users/{id|upn}` (user-get) and
//! `GET /users/$count` (aad-advanced-queries), all over the world's merged users.
//!
//! A user's properties are written in one place ([`Fields`] for [`UserRecord`]): straight into
//! the answer when nothing filters, searches or sorts, else into the `Value` those work on.

use super::paging::{context, entity, full_json, page, page_direct, Date, Fields, Listing, Projected, Projection, CTX};
use super::security;
use super::specs::USERS;
use crate::odata::{self, Query};
use crate::platform::errors::{graph_headers, GraphError};
use crate::platform::extract::{set_header, Directory, GraphCall};
use crate::world::model::{AssignedLicence, UserRecord};
use axum::extract::{Path, RawQuery};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::Value;

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

/// Users write their own properties ([`USER_PROPS`]): into a page or an entity as it is
/// written, or into a `Value` ([`user_json`]) for `$filter`, `$search` and `$orderby`.
impl Fields for UserRecord {
    const NAMES: &'static [&'static str] = &USER_PROPS;

    fn write<M: SerializeMap>(&self, m: &mut M, i: usize) -> Result<(), M::Error> {
        let u = self;
        let k = USER_PROPS[i];
        let ext = u.external.as_ref();
        match i {
            0 => m.serialize_entry(k, &u.business_phones),
            1 => m.serialize_entry(k, &u.display_name),
            2 => m.serialize_entry(k, &u.given_name),
            3 => m.serialize_entry(k, &u.job_title),
            4 => m.serialize_entry(k, &u.mail),
            5 => m.serialize_entry(k, &u.mobile_phone),
            6 => m.serialize_entry(k, &u.office_location),
            7 => m.serialize_entry(k, &u.preferred_language),
            8 => m.serialize_entry(k, &u.surname),
            9 => m.serialize_entry(k, &u.user_principal_name),
            10 => m.serialize_entry(k, &u.id),
            11 => m.serialize_entry(k, &u.account_enabled),
            12 => m.serialize_entry(k, &Licences(&u.licences)),
            13 => m.serialize_entry(k, &u.city),
            14 => m.serialize_entry(k, &u.country),
            15 => m.serialize_entry(k, &Date(u.created)),
            16 => m.serialize_entry(k, &u.department),
            17 => m.serialize_entry(k, &u.mail_nickname),
            18 => m.serialize_entry(k, &u.usage_location),
            19 => m.serialize_entry(k, &u.user_type),
            20 => m.serialize_entry(k, &ext.map(|_| "Invitation")),
            21 => m.serialize_entry(k, &ext.map(|e| &e.state)),
            _ => m.serialize_entry(k, &ext.map(|e| Date(e.state_changed))),
        }
    }
}

/// `assignedLicenses`: `[{"disabledPlans": […], "skuId": …}]`.
struct Licences<'a>(&'a [AssignedLicence]);

impl Serialize for Licences<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(Licence))
    }
}

struct Licence<'a>(&'a AssignedLicence);

impl Serialize for Licence<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("disabledPlans", &self.0.disabled_plans)?;
        m.serialize_entry("skuId", &self.0.sku_id)?;
        m.end()
    }
}

/// learn.microsoft.com/graph/api/resources/user: every property, in [`USER_PROPS`] order.
pub fn user_json(u: &UserRecord) -> Value {
    full_json(u)
}

/// A user as `POST /users`, `GET /users/{id}` and `assignLicense` answer it: `@odata.context`
/// `…/$entity` first, then the properties `q` keeps (what `entity(…, odata::project(…))`
/// made of [`user_json`]).
pub fn user_entity<'a>(u: &'a UserRecord, q: &'a Query) -> UserEntity<'a> {
    UserEntity {
        ctx: format!("{}/$entity", context(&format!("{CTX}users"), q)),
        user: u,
        props: Projection::of(&USER_PROPS, q, &USERS),
    }
}

/// See [`user_entity`].
pub struct UserEntity<'a> {
    ctx: String,
    user: &'a UserRecord,
    props: Projection<'a>,
}

impl Serialize for UserEntity<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Projected {
            entity: self.user,
            props: &self.props,
            context: Some(&self.ctx),
        }
        .serialize(s)
    }
}

/// A listed user: its record and the properties the page keeps.
struct Listed<'a> {
    user: UserRecord,
    props: &'a Projection<'a>,
}

impl Serialize for Listed<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Projected {
            entity: &self.user,
            props: self.props,
            context: None,
        }
        .serialize(s)
    }
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
        // Nothing to match or sort on: each user writes its kept properties into the answer.
        let props = Projection::of(&USER_PROPS, &q, &USERS);
        let listed = |i: u64| view.has_user_at(i);
        let item = |i: u64| {
            view.user_at(i).map(|v| Listed {
                user: v.user,
                props: &props,
            })
        };
        let listing = Listing {
            spec: &USERS,
            q: &q,
            path: "users",
            ctx,
            cost,
        };
        return page_direct(&call, listing, view.len(), &listed, &item, view.changed());
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

#[cfg(test)]
mod names {
    use super::*;

    /// `signInActivity` is added by the sign-in path (`security::sign_in_json`, Entra ID P1).
    #[test]
    fn the_properties_written_are_the_selectable_ones() {
        super::super::paging::assert_names_are_the_specs(
            <crate::world::model::UserRecord as Fields>::NAMES,
            &super::super::specs::USERS,
            &["signInActivity"],
        );
    }
}
