//! Customers and their subscriptions (get-a-list-of-customers, get-a-customer-by-id,
//! get-all-of-a-customer-s-subscriptions).

use super::{PartnerCall, DEFAULT_PAGE, MAX_PAGE};
use crate::fleet::{Tenant, TenantKind};
use crate::ids::{hash, Guid};
use crate::platform::errors::PartnerCenterError;
use crate::skus::Catalog;
use crate::state::Sim;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use serde_json::{json, Value};
use std::collections::HashMap;

type Res = Result<Response, PartnerCenterError>;

fn relationship(t: &Tenant) -> &'static str {
    match t.contract.as_ref().map(|c| c.contract_type) {
        Some("ResellerPartner") | Some("BreadthPartner") => "reseller",
        Some("SyndicationPartner") => "syndication",
        _ => "none",
    }
}

fn customer_json(sim: &Sim, t: &Tenant) -> Value {
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
        "customDomains": sim.world.domains(t).iter().filter(|d| !d.is_initial).map(|d| d.name.clone()).collect::<Vec<_>>(),
        "links": { "self": { "uri": format!("/customers/{}", t.id), "method": "GET", "headers": [] } },
        "attributes": { "objectType": "Customer" }
    })
}

/// Partner Center's customers: customer tenants with a reseller/syndication contract,
/// indexed in listing order so that a page renders only its own customers.
fn listed(sim: &Sim) -> &[u32] {
    &sim.fleet.listings.contracts
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

/// Where a page starts and how long it is: from the continuation token, else from `size`.
fn page_window(call: &PartnerCall, q: &HashMap<String, String>) -> Result<(usize, usize), PartnerCenterError> {
    let seed = call.sim.fleet.config.seed;
    let continuation = call.headers.get("ms-continuationtoken").and_then(|v| v.to_str().ok());
    let bad = |m: String| call.error(StatusCode::BAD_REQUEST, 2000, m);
    match (continuation, q.get("seekOperation")) {
        (Some(tok), _) => decode_token(tok, seed).ok_or_else(|| bad("The continuation token is invalid.".into())),
        (None, Some(_)) => Err(bad("seekOperation requires the MS-ContinuationToken header.".into())),
        (None, None) => match q.get("size") {
            None => Ok((0, DEFAULT_PAGE)),
            Some(s) => match s.parse::<usize>() {
                Ok(n) if (1..=MAX_PAGE).contains(&n) => Ok((0, n)),
                _ => Err(bad(format!(
                    "The size parameter must be between 1 and {MAX_PAGE}, got '{s}'."
                ))),
            },
        },
    }
}

pub async fn customers(call: PartnerCall, Query(q): Query<HashMap<String, String>>) -> Res {
    let sim = &call.sim;
    let seed = sim.fleet.config.seed;
    let all = listed(sim);
    let (offset, size) = page_window(&call, &q)?;
    let page: Vec<Value> = all
        .iter()
        .skip(offset)
        .take(size)
        .map(|&ti| customer_json(sim, &sim.fleet.tenants[ti as usize]))
        .collect();
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
    Ok(call.ok(body))
}

/// A Partner Center customer (a customer tenant with a contract), else Partner Center's 404.
fn find_customer<'a>(call: &'a PartnerCall, id: &str) -> Result<&'a Tenant, PartnerCenterError> {
    id.parse::<Guid>()
        .ok()
        .and_then(|g| call.sim.fleet.tenant_by_id(g))
        .filter(|t| t.kind == TenantKind::Customer && t.contract.is_some())
        .ok_or_else(|| {
            call.error(
                StatusCode::NOT_FOUND,
                3000,
                format!("Customer with tenant id {id} could not be found"),
            )
        })
}

pub async fn customer(call: PartnerCall, Path(id): Path<String>) -> Res {
    let t = find_customer(&call, &id)?;
    Ok(call.ok(customer_json(&call.sim, t)))
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

pub async fn subscriptions(call: PartnerCall, Path(id): Path<String>) -> Res {
    let t = find_customer(&call, &id)?;
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
    Ok(call.ok(body))
}
