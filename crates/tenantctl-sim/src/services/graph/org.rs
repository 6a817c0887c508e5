//! `GET /organization` (organization-list): the tenant's profile, plans and verified domains.

use super::paging::{context, date, vec_page, Listing, CTX};
use super::specs::ORGANIZATION;
use crate::fleet::{Domain, Tenant, TenantKind};
use crate::platform::errors::GraphError;
use crate::platform::extract::{Directory, GraphCall};
use crate::skus::Catalog;
use axum::extract::RawQuery;
use axum::response::Response;
use serde_json::{json, Value};

pub async fn organization(call: GraphCall<Directory>, RawQuery(raw): RawQuery) -> Result<Response, GraphError> {
    let q = call.query(&raw, &ORGANIZATION)?;
    let cost = call.charge(1, Some(&q))?;
    let items = vec![organization_json(call.t(), &call.sim.world.domains(call.t()))];
    let ctx = context(&format!("{CTX}organization"), &q);
    vec_page(
        &call,
        Listing {
            spec: &ORGANIZATION,
            q: &q,
            path: "organization",
            ctx,
            cost,
        },
        items,
    )
}

/// The `service` of an assigned plan, from the plan name's family.
fn plan_service(name: &str) -> &'static str {
    let n = name.to_ascii_uppercase();
    if n.starts_with("EXCHANGE") {
        "exchange"
    } else if n.starts_with("SHAREPOINT") || n.starts_with("ONEDRIVE") {
        "SharePoint"
    } else if n.starts_with("MCO") {
        "MicrosoftCommunicationsOnline"
    } else if n.starts_with("TEAMS") {
        "TeamspaceAPI"
    } else if n.contains("OFFICE") || n.starts_with("O365") {
        "MicrosoftOffice"
    } else if n.starts_with("INTUNE") {
        "SCO"
    } else if n.starts_with("AAD") {
        "AADPremiumService"
    } else if n.starts_with("FLOW") {
        "ProcessSimple"
    } else if n.starts_with("POWERAPPS") {
        "PowerAppsService"
    } else {
        "MicrosoftOffice"
    }
}

/// learn.microsoft.com/graph/api/organization-list example.
fn organization_json(t: &Tenant, domains: &[Domain]) -> Value {
    let cat = Catalog::get();
    let mut assigned = Vec::new();
    for s in &t.subscriptions {
        for p in &cat.skus[s.sku].plans {
            assigned.push(json!({
                "assignedDateTime": date(s.created),
                "capabilityStatus": if s.capability_status == "Suspended" { "Suspended" } else { "Enabled" },
                "service": plan_service(&p.name),
                "servicePlanId": p.id.to_string(),
            }));
        }
    }
    let verified: Vec<Value> = domains
        .iter()
        .filter(|d| d.is_verified)
        .map(|d| {
            let caps = if d.supported_services.is_empty() {
                "None".to_owned()
            } else {
                d.supported_services
                    .iter()
                    .filter(|s| matches!(**s, "Email" | "OfficeCommunicationsOnline"))
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            json!({
                "capabilities": if caps.is_empty() { "None".to_owned() } else { caps },
                "isDefault": d.is_default,
                "isInitial": d.is_initial,
                "name": d.name,
                "type": d.authentication_type,
            })
        })
        .collect();
    json!({
        "id": t.id.to_string(),
        "deletedDateTime": null,
        "businessPhones": [],
        "city": t.city,
        "country": null,
        "countryLetterCode": t.country,
        "createdDateTime": date(t.created),
        "defaultUsageLocation": t.country,
        "displayName": t.display_name,
        "marketingNotificationEmails": [],
        "onPremisesLastSyncDateTime": null,
        "onPremisesSyncEnabled": null,
        "partnerTenantType": if t.kind == TenantKind::Partner { Value::from("ResellerPartnerDelegatedAdmin") } else { Value::Null },
        "postalCode": null,
        "preferredLanguage": "en",
        "securityComplianceNotificationMails": [],
        "securityComplianceNotificationPhones": [],
        "state": null,
        "street": null,
        "technicalNotificationMails": [format!("admin@{}", t.initial_domain)],
        "tenantType": "AAD",
        "directorySizeQuota": {"used": t.user_count as u64 + 50, "total": 300000},
        "privacyProfile": null,
        "assignedPlans": assigned,
        "provisionedPlans": [],
        "verifiedDomains": verified,
    })
}
