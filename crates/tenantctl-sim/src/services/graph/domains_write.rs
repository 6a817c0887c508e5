//! Writing domains: `POST /domains` (domain-post-domains), `POST /domains/{id}/verify`
//! (domain-verify) and `DELETE /domains/{id}` (domain-delete). Domain Name Administrator
//! through GDAP (delegated) or `Domain.ReadWrite.All` (app-only).

use super::domains::domain_json;
use super::paging::{entity, CTX};
use super::users_write::json_body;
use super::world_error;
use crate::fleet::roles;
use crate::odata::Query;
use crate::platform::errors::GraphError;
use crate::platform::extract::{Directory, GraphCall};
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

type Res = Result<Response, GraphError>;

fn domain_ok(name: &str) -> bool {
    name.contains('.')
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

fn authorize(call: &GraphCall<Directory>) -> Result<(), GraphError> {
    call.authorize_write(
        &[roles::DOMAIN_NAME_ADMINISTRATOR],
        &["Domain.ReadWrite.All", "Directory.ReadWrite.All"],
    )
}

pub async fn add_domain(call: GraphCall<Directory>, body: Bytes) -> Res {
    authorize(&call)?;
    let cost = call.charge_write()?;
    let b = json_body(&call, &body)?;
    // Only `id` may be given (domain-post-domains); the SDKs add `@odata.type`.
    if let Some(k) = b.keys().find(|k| !matches!(k.as_str(), "id" | "@odata.type")) {
        return Err(call.bad_request(format!("Invalid property '{k}'."))); // [I]
    }
    if let Some(ty) = b.get("@odata.type") {
        if !ty
            .as_str()
            .is_some_and(|s| s.trim_start_matches('#').eq_ignore_ascii_case("microsoft.graph.domain"))
        {
            return Err(call.invalid_value("@odata.type", "Domain"));
        }
    }
    let name = b
        .get("id")
        .and_then(Value::as_str)
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| domain_ok(s))
        .ok_or_else(|| call.invalid_value("id", "Domain"))?;
    let d = call
        .sim
        .world
        .add_domain(call.t(), &name)
        .map_err(|e| world_error(&call, e, &name))?;
    super::persist(&call).await?;
    let mut v = domain_json(&d);
    v["isRoot"] = json!(true);
    Ok(call.json(
        StatusCode::CREATED,
        entity(&format!("{CTX}domains"), &Query::default(), v),
        cost,
    ))
}

pub async fn delete_domain(call: GraphCall<Directory>, Path(id): Path<String>) -> Res {
    authorize(&call)?;
    call.charge_write()?;
    call.sim
        .world
        .delete_domain(call.t(), &id)
        .map_err(|e| world_error(&call, e, &id))?;
    super::persist(&call).await?;
    Ok(call.no_content())
}

pub async fn verify_domain(call: GraphCall<Directory>, Path(id): Path<String>) -> Res {
    authorize(&call)?;
    let cost = call.charge_write()?;
    let assume = call.sim.initial.publish_dns;
    let d = call
        .sim
        .world
        .verify_domain(call.t(), &id, assume)
        .map_err(|e| world_error(&call, e, &id))?;
    super::persist(&call).await?;
    let mut v = domain_json(&d);
    v["availabilityStatus"] = json!("AvailableImmediately");
    Ok(call.ok(entity(&format!("{CTX}domains"), &Query::default(), v), cost))
}
