//! Microsoft Graph v1.0 under `/graph/v1.0/...`: the partner-side discovery endpoints (contracts,
//! GDAP relationships and customers) and the customer-side directory (organization, domains,
//! users, subscribedSkus) with its writes, with Graph's paging, OData options, errors, auth and
//! throttling.
//!
//! Shapes follow the example responses of the learn.microsoft.com/graph/api pages named in each
//! module. `@odata.context` uses graph.microsoft.com like the real service; `@odata.nextLink`
//! points at this simulator and carries the original options plus an opaque `$skiptoken`.

pub mod domains;
pub mod domains_write;
pub mod gdap;
pub mod licences;
pub mod org;
pub mod paging;
pub mod reports;
pub mod security;
pub mod skus;
pub mod specs;
pub mod users;
pub mod users_write;

use crate::platform::errors::{GraphError, RequestIds};
use crate::platform::extract::GraphCall;
use crate::state::Sim;
use crate::world::model::WorldError;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

/// Graph's route table.
pub fn routes() -> Router<Arc<Sim>> {
    const REL: &str = "/graph/v1.0/tenantRelationships/delegatedAdminRelationships";
    Router::new()
        .route("/graph/v1.0/contracts", get(gdap::contracts))
        .route(REL, get(gdap::relationships))
        .route(&format!("{REL}/{{id}}"), get(gdap::relationship))
        .route(
            &format!("{REL}/{{id}}/accessAssignments"),
            get(gdap::access_assignments),
        )
        .route(
            "/graph/v1.0/tenantRelationships/delegatedAdminCustomers",
            get(gdap::gdap_customers),
        )
        .route("/graph/v1.0/organization", get(org::organization))
        .route(
            "/graph/v1.0/domains",
            get(domains::domains).post(domains_write::add_domain),
        )
        .route(
            "/graph/v1.0/domains/{id}",
            get(domains::domain).delete(domains_write::delete_domain),
        )
        .route(
            "/graph/v1.0/domains/{id}/verificationDnsRecords",
            get(domains::verification_records),
        )
        .route("/graph/v1.0/domains/{id}/verify", post(domains_write::verify_domain))
        .route(
            "/graph/v1.0/domains/{id}/serviceConfigurationRecords",
            get(domains::service_records),
        )
        .route("/graph/v1.0/users", get(users::users).post(users_write::create_user))
        .route(
            "/graph/v1.0/users/{id}",
            get(users::user)
                .patch(users_write::update_user)
                .delete(users_write::delete_user),
        )
        .route("/graph/v1.0/users/{id}/assignLicense", post(licences::assign_license))
        .route("/graph/v1.0/subscribedSkus", get(skus::subscribed_skus))
        .merge(reports::routes())
        .route(
            "/graph/v1.0/roleManagement/directory/roleAssignments",
            get(security::role_assignments),
        )
        .route(
            "/graph/v1.0/roleManagement/directory/roleDefinitions",
            get(security::role_definitions),
        )
        .route(
            "/graph/v1.0/roleManagement/directory/roleDefinitions/{id}",
            get(security::role_definition),
        )
        .route(
            "/graph/v1.0/reports/authenticationMethods/userRegistrationDetails",
            get(security::user_registration_details),
        )
        .route(
            "/graph/v1.0/reports/authenticationMethods/userRegistrationDetails/{id}",
            get(security::user_registration_detail),
        )
}

/// Graph's wording of a refused world change. `key` is the id or name the request used.
pub(crate) fn world_error<S>(call: &GraphCall<S>, e: WorldError, key: &str) -> GraphError {
    match e {
        WorldError::NotFound => call.not_found(key),
        WorldError::UpnTaken => {
            call.bad_request("Another object with the same value for property userPrincipalName already exists.")
                .with_detail("ObjectConflict", "userPrincipalName")
        }
        WorldError::UpnDomainNotVerified => call.bad_request(
            "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.",
        ),
        // Observed text (CIPP#783, Partner-Center-DotNet-Samples#131).
        WorldError::NoUsageLocation => {
            call.bad_request("License assignment cannot be done for user with invalid usage location.")
        }
        // [I] below: inferred texts.
        WorldError::UnknownSku(s) => call.bad_request(format!("License {s} does not correspond to a valid company License.")),
        WorldError::NoFreeUnits(s) => call.bad_request(format!("Subscription {s} does not have any available licenses.")),
        WorldError::NotHeld(s) => call.bad_request(format!("User does not have a corresponding license {s}.")),
        WorldError::DomainExists => {
            call.bad_request("Another object with the same value for property id already exists.")
                .with_detail("ObjectConflict", "id")
        }
        WorldError::DomainVerifiedElsewhere(name) => call.bad_request(format!(
            "Domain '{name}' is already verified in another organization and cannot be added."
        )),
        WorldError::DomainProtected => {
            call.bad_request("The initial or default domain of an organization cannot be deleted.")
        }
        WorldError::VerificationFailed { name, txt } => call.bad_request(format!(
            "Domain verification failed. The DNS record required to verify '{name}' was not found: publish TXT {txt} and try again."
        )),
    }
}

/// Saves the world after a write when the simulator has a state directory; a failed save is a
/// 500 (the change is in memory but would be lost).
pub(crate) async fn persist<S>(call: &GraphCall<S>) -> Result<(), GraphError> {
    call.sim.clone().save_state().await.map_err(|e| {
        call.error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "generalException",
            format!("The simulator could not save its state: {e}"),
        )
    })
}

/// The first path segment Graph would not resolve, for "Resource not found for the segment".
fn unresolved_segment(path: &str) -> String {
    const COLLECTIONS: &[&str] = &[
        "users",
        "domains",
        "delegatedAdminRelationships",
        "delegatedAdminCustomers",
        "accessAssignments",
        "contracts",
        "roleAssignments",
        "roleDefinitions",
        "userRegistrationDetails",
    ];
    const KNOWN: &[&str] = &[
        "organization",
        "subscribedSkus",
        "tenantRelationships",
        "assignLicense",
        "verify",
        "verificationDnsRecords",
        "serviceConfigurationRecords",
        "reports",
        "admin",
        "reportSettings",
        "roleManagement",
        "directory",
        "authenticationMethods",
    ];
    let rest = path.trim_start_matches("/graph").trim_start_matches('/');
    let mut segs = rest.split('/').filter(|s| !s.is_empty());
    let Some(version) = segs.next() else {
        return String::new();
    };
    if version != "v1.0" {
        return version.to_owned();
    }
    let mut after_collection = false;
    for s in segs {
        if after_collection {
            after_collection = false;
            continue;
        }
        if COLLECTIONS.contains(&s) {
            after_collection = true;
        } else if !KNOWN.contains(&s) {
            return s.to_owned();
        }
    }
    rest.rsplit('/').next().unwrap_or_default().to_owned()
}

/// An unmatched path under `/graph`: Graph's 400 `BadRequest` "Resource not found for the
/// segment '…'." (as Graph answers, e.g. microsoft-graph-docs#21648, msgraph-beta-sdk-python#764),
/// never an empty 404.
pub fn unmatched(path: &str, headers: &HeaderMap) -> GraphError {
    let ids = RequestIds::from_headers(headers);
    GraphError::new(
        StatusCode::BAD_REQUEST,
        "BadRequest",
        format!("Resource not found for the segment '{}'.", unresolved_segment(path)),
        &ids,
    )
}

/// A known path with a method Graph does not serve there: 405 with Graph's envelope. [I]
pub fn method_not_allowed(headers: &HeaderMap) -> GraphError {
    let ids = RequestIds::from_headers(headers);
    GraphError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "Request_BadRequest",
        "Specified HTTP method is not allowed for the request target.",
        &ids,
    )
}

#[cfg(test)]
mod tests {
    use super::unresolved_segment;

    #[test]
    fn the_unresolved_segment_is_the_first_graph_does_not_know() {
        assert_eq!(unresolved_segment("/graph/v1.0/me"), "me");
        assert_eq!(unresolved_segment("/graph/v1.0/users/abc/manager"), "manager");
        assert_eq!(unresolved_segment("/graph/v1.0/domains/x.com/bogus/more"), "bogus");
        assert_eq!(unresolved_segment("/graph/beta/users"), "beta");
        assert_eq!(
            unresolved_segment("/graph/v1.0/tenantRelationships/delegatedAdminThings"),
            "delegatedAdminThings"
        );
    }
}
