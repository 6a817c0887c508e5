//! `POST /users/{id}/assignLicense` (user-assignlicense): add and remove licences in one call.
//! License Administrator or User Administrator through GDAP (delegated), or
//! `LicenseAssignment.ReadWrite.All` and the like (app-only).

use super::users::{default_query, user_entity};
use super::users_write::json_body;
use super::world_error;
use crate::fleet::roles;
use crate::ids::Guid;
use crate::platform::errors::GraphError;
use crate::platform::extract::{Directory, GraphCall};
use crate::world::model::{AssignedLicence, LicenceChange};
use axum::body::Bytes;
use axum::extract::Path;
use axum::response::Response;
use serde_json::Value;

const USER_RESOURCE: &str = "Microsoft.DirectoryServices.User";

fn guid(v: &Value) -> Option<Guid> {
    v.as_str().and_then(|s| s.parse().ok())
}

/// The change a body asks for. Both properties are required (`[]` when empty).
fn licence_change(call: &GraphCall<Directory>, body: &Bytes) -> Result<LicenceChange, GraphError> {
    let b = json_body(call, body)?;
    let (Some(Value::Array(add)), Some(Value::Array(remove))) = (b.get("addLicenses"), b.get("removeLicenses")) else {
        let missing = if b.get("addLicenses").is_none() {
            "addLicenses"
        } else {
            "removeLicenses"
        };
        return Err(call.invalid_value(missing, USER_RESOURCE));
    };
    let mut change = LicenceChange::default();
    for a in add {
        let sku_id = a
            .get("skuId")
            .and_then(guid)
            .ok_or_else(|| call.invalid_value("skuId", "AssignedLicense"))?;
        let disabled_plans = match a.get("disabledPlans") {
            None | Some(Value::Null) => vec![],
            Some(Value::Array(p)) => p
                .iter()
                .map(|x| guid(x).ok_or_else(|| call.invalid_value("disabledPlans", "AssignedLicense")))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(call.invalid_value("disabledPlans", "AssignedLicense")),
        };
        change.add.push(AssignedLicence { sku_id, disabled_plans });
    }
    for x in remove {
        change
            .remove
            .push(guid(x).ok_or_else(|| call.invalid_value("removeLicenses", USER_RESOURCE))?);
    }
    Ok(change)
}

pub async fn assign_license(
    call: GraphCall<Directory>,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Response, GraphError> {
    call.authorize_write(
        &[roles::LICENSE_ADMINISTRATOR, roles::USER_ADMINISTRATOR],
        &[
            "User.ReadWrite.All",
            "Directory.ReadWrite.All",
            "LicenseAssignment.ReadWrite.All",
        ],
    )?;
    let cost = call.charge_write()?;
    let change = licence_change(&call, &body)?;
    let v = call
        .sim
        .world
        .assign_licences(call.t(), &key, change)
        .map_err(|e| world_error(&call, e, &key))?;
    super::persist(&call).await?;
    Ok(call.ok(user_entity(&v.user, &default_query()), cost))
}
