//! `GET /subscribedSkus` (subscribedsku-list): one entry per SKU, consumed units after writes.

use super::paging::{context, vec_page, Listing, CTX};
use super::specs::SKUS;
use crate::fleet::Tenant;
use crate::platform::errors::GraphError;
use crate::platform::extract::{Directory, GraphCall};
use crate::skus::Catalog;
use crate::world::model::SkuView;
use axum::extract::RawQuery;
use axum::response::Response;
use serde_json::{json, Value};

pub async fn subscribed_skus(call: GraphCall<Directory>, RawQuery(raw): RawQuery) -> Result<Response, GraphError> {
    let q = call.query(&raw, &SKUS)?;
    let cost = call.charge(3, Some(&q))?;
    let t = call.t();
    let items = call.sim.world.skus(t).iter().map(|s| sku_json(t, s)).collect();
    let ctx = context(&format!("{CTX}subscribedSkus"), &q);
    vec_page(
        &call,
        Listing {
            spec: &SKUS,
            q: &q,
            path: "subscribedSkus",
            ctx,
            cost,
        },
        items,
    )
}

/// learn.microsoft.com/graph/api/subscribedsku-list example.
pub fn sku_json(t: &Tenant, s: &SkuView) -> Value {
    let sku = &Catalog::get().skus[s.sku];
    let status = s.capability_status;
    json!({
        "accountName": t.display_name,
        "accountId": t.id.to_string(),
        "appliesTo": "User",
        "capabilityStatus": status,
        "consumedUnits": s.consumed,
        "id": format!("{}_{}", t.id, sku.id),
        "prepaidUnits": {
            "enabled": s.enabled,
            "suspended": s.suspended,
            "warning": s.warning,
            "lockedOut": s.locked_out,
        },
        "servicePlans": sku.plans.iter().map(|p| json!({
            "servicePlanId": p.id.to_string(),
            "servicePlanName": p.name,
            "provisioningStatus": if status == "Suspended" { "Disabled" } else { "Success" },
            "appliesTo": "User",
        })).collect::<Vec<_>>(),
        "skuId": sku.id.to_string(),
        "skuPartNumber": sku.part_number,
        "subscriptionIds": s.subscription_ids.iter().map(|g| g.to_string()).collect::<Vec<_>>(),
    })
}
