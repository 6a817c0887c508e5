//! Writing users: `POST /users` (user-post-users), `PATCH /users/{id}` (user-update) and
//! `DELETE /users/{id}` (user-delete). Bodies are checked here and become typed world changes.
//!
//! A delegated write needs User Administrator (or Global Administrator) through GDAP, else 403
//! `Authorization_RequestDenied`. Error texts marked `[I]` are inferred (no Microsoft page quoting
//! them was found); the others are Graph's observed messages.

use super::users::user_entity;
use super::world_error;
use crate::ids::random_guid;
use crate::platform::errors::GraphError;
use crate::platform::extract::{Directory, GraphCall};
use crate::world::model::{UserPatch, UserRecord};
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value};

type Res = Result<Response, GraphError>;
type Body = Map<String, Value>;

/// The JSON object of a request body, else Graph's 400 for an unreadable payload.
pub fn json_body<S>(call: &GraphCall<S>, body: &Bytes) -> Result<Body, GraphError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(call.error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )),
    }
}

/// Microsoft's SDKs send `"@odata.type": "#microsoft.graph.user"` with every user body
/// (msgraph-sdk serialisers); Graph accepts it. Another type is refused.
fn check_odata_type<S>(call: &GraphCall<S>, b: &Body, type_name: &str, resource: &str) -> Result<(), GraphError> {
    match b.get("@odata.type") {
        None => Ok(()),
        Some(Value::String(s)) if s.trim_start_matches('#').eq_ignore_ascii_case(type_name) => Ok(()),
        Some(_) => Err(call.invalid_value("@odata.type", resource)),
    }
}

/// Entra's rules for a cloud user's password: 8–256 characters, three of four classes.
fn password_ok(p: &str) -> bool {
    let n = p.chars().count();
    let classes = [
        p.chars().any(|c| c.is_ascii_lowercase()),
        p.chars().any(|c| c.is_ascii_uppercase()),
        p.chars().any(|c| c.is_ascii_digit()),
        p.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    (8..=256).contains(&n) && classes.iter().filter(|x| **x).count() >= 3
}

fn upn_local_ok(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "'.-_!#^~".contains(c))
}

fn is_country(code: &str) -> bool {
    code.len() == 2 && code.chars().all(|c| c.is_ascii_uppercase())
}

/// Typed readers of body properties: a wrong JSON type is Graph's "Invalid value" 400.
struct Props<'a, S> {
    call: &'a GraphCall<S>,
    b: &'a Body,
}

impl<S> Props<'_, S> {
    fn invalid(&self, k: &str) -> GraphError {
        self.call.invalid_value(k, "User")
    }
    /// A nullable string property: absent → `None`, null → `Some(None)`.
    fn text(&self, k: &str) -> Result<Option<Option<String>>, GraphError> {
        match self.b.get(k) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
            Some(_) => Err(self.invalid(k)),
        }
    }
    fn required_text(&self, k: &str) -> Result<String, GraphError> {
        match self.b.get(k) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
            _ => Err(self.invalid(k)),
        }
    }
    fn flag(&self, k: &str) -> Result<Option<bool>, GraphError> {
        match self.b.get(k) {
            None => Ok(None),
            Some(Value::Bool(x)) => Ok(Some(*x)),
            Some(_) => Err(self.invalid(k)),
        }
    }
    fn phones(&self, k: &str) -> Result<Option<Vec<String>>, GraphError> {
        match self.b.get(k) {
            None => Ok(None),
            Some(Value::Array(a)) => a
                .iter()
                .map(|x| x.as_str().map(str::to_owned).ok_or_else(|| self.invalid(k)))
                .collect::<Result<_, _>>()
                .map(Some),
            Some(_) => Err(self.invalid(k)),
        }
    }
    /// `usageLocation`: null or a two-letter country code.
    fn usage_location(&self) -> Result<Option<Option<String>>, GraphError> {
        match self.text("usageLocation") {
            Ok(Some(Some(u))) if !is_country(&u) => Err(self.invalid("usageLocation")),
            other => other,
        }
    }
}

/// The user a create body describes, after Graph's checks of required properties, UPN,
/// password and usage location.
fn new_user(call: &GraphCall<Directory>, b: &Body) -> Result<UserRecord, GraphError> {
    check_odata_type(call, b, "microsoft.graph.user", "User")?;
    let p = Props { call, b };
    for k in [
        "accountEnabled",
        "displayName",
        "mailNickname",
        "userPrincipalName",
        "passwordProfile",
    ] {
        if b.get(k).is_none_or(Value::is_null) {
            // [I] Graph's text for a missing required property on create.
            return Err(p.invalid(k));
        }
    }
    let upn = p.required_text("userPrincipalName")?;
    let display_name = p.required_text("displayName")?;
    let mail_nickname = p.required_text("mailNickname")?;
    match upn.split_once('@') {
        Some((local, _)) if upn_local_ok(local) => {}
        _ => return Err(p.invalid("userPrincipalName")),
    }
    let password = b
        .get("passwordProfile")
        .and_then(|p| p.get("password"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !password_ok(password) {
        return Err(call.bad_request(
            "The specified password does not comply with password complexity requirements. Please provide a different password.",
        ));
    }
    let usage_location = p.usage_location()?.flatten();
    let text = |k: &str| p.text(k).map(Option::flatten);
    Ok(UserRecord {
        id: random_guid(),
        user_principal_name: upn,
        display_name,
        given_name: text("givenName")?,
        surname: text("surname")?,
        job_title: text("jobTitle")?,
        mail: None,
        mobile_phone: text("mobilePhone")?,
        business_phones: p.phones("businessPhones")?.unwrap_or_default(),
        office_location: text("officeLocation")?,
        preferred_language: text("preferredLanguage")?,
        account_enabled: p.flag("accountEnabled")?.unwrap_or(true),
        licences: vec![],
        city: text("city")?,
        country: text("country")?,
        created: call.sim.clock().now_unix(),
        department: text("department")?,
        mail_nickname,
        usage_location,
        user_type: "Member".into(),
        external: None,
    })
}

pub async fn create_user(call: GraphCall<Directory>, body: Bytes) -> Res {
    call.authorize_user_write()?;
    let cost = call.charge_write()?;
    let b = json_body(&call, &body)?;
    let user = new_user(&call, &b)?;
    let v = call
        .sim
        .world
        .create_user(call.t(), user)
        .map_err(|e| world_error(&call, e, ""))?;
    super::persist(&call).await?;
    Ok(call.json(
        StatusCode::CREATED,
        user_entity(&v.user, &super::users::default_query()),
        cost,
    ))
}

const UPDATABLE: &[&str] = &[
    "accountEnabled",
    "businessPhones",
    "city",
    "country",
    "department",
    "displayName",
    "givenName",
    "jobTitle",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "usageLocation",
];

/// The typed change an update body asks for.
fn user_patch(call: &GraphCall<Directory>, b: &Body) -> Result<UserPatch, GraphError> {
    check_odata_type(call, b, "microsoft.graph.user", "User")?;
    if let Some(k) = b
        .keys()
        .find(|k| k.as_str() != "@odata.type" && !UPDATABLE.contains(&k.as_str()))
    {
        return Err(call.bad_request(format!("Invalid property '{k}'."))); // [I]
    }
    let p = Props { call, b };
    let display_name = match b.get("displayName") {
        None => None,
        Some(_) => Some(p.required_text("displayName")?),
    };
    Ok(UserPatch {
        account_enabled: p.flag("accountEnabled")?,
        business_phones: p.phones("businessPhones")?,
        city: p.text("city")?,
        country: p.text("country")?,
        department: p.text("department")?,
        display_name,
        given_name: p.text("givenName")?,
        job_title: p.text("jobTitle")?,
        mobile_phone: p.text("mobilePhone")?,
        office_location: p.text("officeLocation")?,
        preferred_language: p.text("preferredLanguage")?,
        surname: p.text("surname")?,
        usage_location: p.usage_location()?,
    })
}

pub async fn update_user(call: GraphCall<Directory>, Path(key): Path<String>, body: Bytes) -> Res {
    call.authorize_user_write()?;
    call.charge_write()?;
    let b = json_body(&call, &body)?;
    let patch = user_patch(&call, &b)?;
    call.sim
        .world
        .apply(call.t(), &key, patch)
        .map_err(|e| world_error(&call, e, &key))?;
    super::persist(&call).await?;
    Ok(call.no_content())
}

pub async fn delete_user(call: GraphCall<Directory>, Path(key): Path<String>) -> Res {
    call.authorize_user_write()?;
    call.charge_write()?;
    call.sim
        .world
        .delete_user_at(call.t(), &key, call.sim.clock.now_unix())
        .map_err(|e| world_error(&call, e, &key))?;
    super::persist(&call).await?;
    Ok(call.no_content())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_need_three_classes_and_eight_characters() {
        assert!(password_ok("Passw0rd"));
        assert!(!password_ok("password1"));
        assert!(!password_ok("Pw0!"));
    }
}
