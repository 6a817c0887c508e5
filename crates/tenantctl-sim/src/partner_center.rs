//! Partner Center REST API v1 (`/partnercenter/v1/...`), the partner's commercial view.
//!
//! - `GET /v1/customers?size=N` (learn.microsoft.com/partner-center/developer/get-a-list-of-customers):
//!   `totalCount`, `items[]` (`id`, `companyProfile{tenantId,domain,companyName}`,
//!   `relationshipToPartner`), `links.self`, and while more remain `continuationToken` plus
//!   `links.next` carrying the `MS-ContinuationToken` header to send with the next GET
//!   (`seekOperation=Next`).
//! - `GET /v1/customers/{id}`, `GET /v1/customers/{id}/subscriptions`
//!   (.../get-all-of-a-customer-s-subscriptions).
//!
//! Only customers with a reseller relationship are listed; a GDAP-only customer is not a Partner
//! Center customer and answers 404 here, as Microsoft's does. Errors use Partner Center's body
//! (`code`, `description`, `data`, `source`); every response carries `MS-RequestId` and
//! `MS-CorrelationId` (the caller's, echoed, when it sent them).

use crate::auth::{authenticate, AUD_PARTNER_CENTER};
use crate::errors::partner_center_error;
use crate::fleet::{Tenant, TenantKind};
use crate::ids::{hash, random_guid, Guid};
use crate::server::Sim;
use crate::skus::Catalog;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Page size when `size` is absent, and the largest accepted.
pub const DEFAULT_PAGE: usize = 200;
pub const MAX_PAGE: usize = 500;

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/partnercenter/v1/customers", get(customers))
        .route("/partnercenter/v1/customers/{id}", get(customer))
        .route("/partnercenter/v1/customers/{id}/subscriptions", get(subscriptions))
}

fn with_ids(mut r: Response, headers: &HeaderMap) -> Response {
    for name in ["ms-requestid", "ms-correlationid"] {
        let v = headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_else(|| random_guid().to_string());
        if let Ok(v) = HeaderValue::from_str(&v) {
            r.headers_mut().insert(HeaderName::from_static(name), v);
        }
    }
    r.headers_mut().insert(
        HeaderName::from_static("ms-cv"),
        HeaderValue::from_static("tenantctl-sim.0"),
    );
    r
}

fn error(status: StatusCode, code: u32, description: &str, headers: &HeaderMap) -> Response {
    with_ids(partner_center_error(status, code, description), headers)
}

/// Bearer check: a Partner Center token of the partner tenant.
fn authorize(sim: &Sim, headers: &HeaderMap) -> Result<(), Response> {
    let caller = match authenticate(&sim.keys, headers, AUD_PARTNER_CENTER) {
        Ok(c) => c,
        Err(e) => {
            let mut r = error(
                StatusCode::UNAUTHORIZED,
                900401,
                &format!("Authentication failed: {}", e.graph_message()),
                headers,
            );
            r.headers_mut()
                .insert(http::header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return Err(r);
        }
    };
    if caller.tenant_id != sim.fleet.partner_tenant().id {
        return Err(error(
            StatusCode::FORBIDDEN,
            900403,
            "The caller is not a partner: the token's tenant has no partner account.",
            headers,
        ));
    }
    Ok(())
}

fn relationship(t: &Tenant) -> &'static str {
    match t.contract.as_ref().map(|c| c.contract_type) {
        Some("ResellerPartner") | Some("BreadthPartner") => "reseller",
        Some("SyndicationPartner") => "syndication",
        _ => "none",
    }
}

fn customer_json(t: &Tenant) -> Value {
    // The company profile carries the domain recorded when the customer was created: the
    // initial `onmicrosoft.com` domain.
    json!({
        "id": t.id.to_string(),
        "commerceId": Guid::from_parts(&[hash(&[t.id.tail_u32() as u64, 0xC0]), 1]).to_string(),
        "companyProfile": {
            "tenantId": t.id.to_string(),
            "domain": t.initial_domain,
            "companyName": t.display_name,
            "links": { "self": { "uri": format!("/customers/{}/profiles/company", t.id), "method": "GET", "headers": [] } },
            "attributes": { "objectType": "CustomerCompanyProfile" }
        },
        "relationshipToPartner": relationship(t),
        "allowDelegatedAccess": true,
        "customDomains": t.domains.iter().filter(|d| !d.is_initial).map(|d| d.name.clone()).collect::<Vec<_>>(),
        "links": { "self": { "uri": format!("/customers/{}", t.id), "method": "GET", "headers": [] } },
        "attributes": { "objectType": "Customer" }
    })
}

/// Partner Center's customers: customer tenants with a reseller/syndication contract.
fn listed(sim: &Sim) -> Vec<&Tenant> {
    sim.fleet.customers().iter().filter(|t| t.contract.is_some()).collect()
}

fn encode_token(offset: usize, size: usize, seed: u64) -> String {
    let raw = format!("{offset}:{size}:{:x}", hash(&[offset as u64, size as u64, seed]));
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_token(tok: &str, seed: u64) -> Option<(usize, usize)> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(tok.trim())
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let mut it = s.split(':');
    let offset: usize = it.next()?.parse().ok()?;
    let size: usize = it.next()?.parse().ok()?;
    let check = it.next()?;
    (check == format!("{:x}", hash(&[offset as u64, size as u64, seed]))).then_some((offset, size))
}

async fn customers(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = authorize(&sim, &headers) {
        return r;
    }
    let seed = sim.fleet.config.seed;
    let all = listed(&sim);
    let continuation = headers
        .get("ms-continuationtoken")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (offset, size) = match (&continuation, q.get("seekOperation")) {
        (Some(tok), _) => match decode_token(tok, seed) {
            Some(x) => x,
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    2000,
                    "The continuation token is invalid.",
                    &headers,
                )
            }
        },
        (None, Some(_)) => {
            return error(
                StatusCode::BAD_REQUEST,
                2000,
                "seekOperation requires the MS-ContinuationToken header.",
                &headers,
            )
        }
        (None, None) => {
            let size = match q.get("size") {
                None => DEFAULT_PAGE,
                Some(s) => match s.parse::<usize>() {
                    Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
                    _ => {
                        return error(
                            StatusCode::BAD_REQUEST,
                            2000,
                            &format!("The size parameter must be between 1 and {MAX_PAGE}, got '{s}'."),
                            &headers,
                        )
                    }
                },
            };
            (0, size)
        }
    };
    let page: Vec<Value> = all.iter().skip(offset).take(size).map(|t| customer_json(t)).collect();
    let mut body = json!({
        "totalCount": all.len(),
        "items": page,
        "links": { "self": { "uri": format!("/v1/customers?size={size}"), "method": "GET", "headers": [] } },
        "attributes": { "objectType": "Collection" }
    });
    let next = offset + size;
    if next < all.len() {
        let tok = encode_token(next, size, seed);
        body["continuationToken"] = json!(tok);
        body["links"]["next"] = json!({
            "uri": format!("/v1/customers?size={size}&seekOperation=Next"),
            "method": "GET",
            "headers": [{ "key": "MS-ContinuationToken", "value": tok }]
        });
    }
    with_ids(Json(body).into_response(), &headers)
}

fn find_customer<'a>(sim: &'a Sim, id: &str, headers: &HeaderMap) -> Result<&'a Tenant, Response> {
    let t = id
        .parse::<Guid>()
        .ok()
        .and_then(|g| sim.fleet.tenant_by_id(g))
        .filter(|t| t.kind == TenantKind::Customer && t.contract.is_some());
    t.ok_or_else(|| {
        error(
            StatusCode::NOT_FOUND,
            3000,
            &format!("Customer with tenant id {id} could not be found"),
            headers,
        )
    })
}

async fn customer(State(sim): State<Arc<Sim>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = authorize(&sim, &headers) {
        return r;
    }
    match find_customer(&sim, &id, &headers) {
        Ok(t) => with_ids(Json(customer_json(t)).into_response(), &headers),
        Err(r) => r,
    }
}

fn pc_date(unix: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

async fn subscriptions(State(sim): State<Arc<Sim>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = authorize(&sim, &headers) {
        return r;
    }
    let t = match find_customer(&sim, &id, &headers) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let cat = Catalog::get();
    let items: Vec<Value> = t
        .subscriptions
        .iter()
        .map(|s| {
            let sku = &cat.skus[s.sku];
            let offer_id = format!("{}-OFFER", sku.part_number).replace('_', "-");
            let status = match s.capability_status {
                "Suspended" | "LockedOut" => "suspended",
                _ => "active",
            };
            let order = Guid::from_parts(&[s.subscription_id.tail_u32() as u64, 0x0D]);
            json!({
                "id": s.subscription_id.to_string(),
                "entitlementId": Guid::from_parts(&[s.subscription_id.tail_u32() as u64, 0xE7]).to_string(),
                "offerId": offer_id,
                "offerName": sku.display_name,
                "friendlyName": sku.display_name,
                "quantity": s.enabled + s.suspended + s.warning,
                "unitType": "Licenses",
                "hasPurchasableAddons": false,
                "creationDate": pc_date(s.created),
                "effectiveStartDate": pc_date(s.created),
                "commitmentEndDate": pc_date(s.created + 365 * 86_400),
                "status": status,
                "autoRenewEnabled": s.auto_renew,
                "isTrial": false,
                "billingType": "license",
                "billingCycle": "monthly",
                "termDuration": "P1Y",
                "contractType": "subscription",
                "orderId": order.to_string(),
                "links": {
                    "offer": { "uri": format!("/offers/{offer_id}?country={}", t.country), "method": "GET", "headers": [] },
                    "self": { "uri": format!("/customers/{}/subscriptions/{}", t.id, s.subscription_id), "method": "GET", "headers": [] }
                },
                "attributes": { "etag": format!("{:x}", hash(&[s.subscription_id.tail_u32() as u64])), "objectType": "Subscription" }
            })
        })
        .collect();
    let body = json!({
        "totalCount": items.len(),
        "items": items,
        "links": { "self": { "uri": format!("/customers/{}/subscriptions", t.id), "method": "GET", "headers": [] } },
        "attributes": { "objectType": "Collection" }
    });
    with_ids(Json(body).into_response(), &headers)
}
