//! `GET /subscribedSkus` (subscribedsku-list): one entry per SKU, consumed units after writes.

use super::paging::{context, page_direct, Fields, Listing, Projected, Projection, CTX};
use super::specs::SKUS;
use crate::fleet::Tenant;
use crate::platform::errors::GraphError;
use crate::platform::extract::{Directory, GraphCall};
use crate::skus::Catalog;
use crate::world::model::SkuView;
use axum::extract::RawQuery;
use axum::response::Response;
use serde::ser::SerializeMap;
use serde::Serialize;

pub async fn subscribed_skus(call: GraphCall<Directory>, RawQuery(raw): RawQuery) -> Result<Response, GraphError> {
    let q = call.query(&raw, &SKUS)?;
    let cost = call.charge(3, Some(&q))?;
    let t = call.t();
    let skus = call.sim.world.skus(t);
    let ctx = context(&format!("{CTX}subscribedSkus"), &q);
    // `$select` and `$top` only: no `$filter`, `$search` or `$orderby` (SKUS).
    let props = Projection::of(SkuJson::NAMES, &q, &SKUS);
    let item = |i: u64| {
        let s = skus.get(i as usize)?;
        Some(Projected {
            entity: SkuJson { t, s },
            props: &props,
            context: None,
        })
    };
    page_direct(
        &call,
        Listing {
            spec: &SKUS,
            q: &q,
            path: "subscribedSkus",
            ctx,
            cost,
        },
        skus.len() as u64,
        &|_| true,
        &item,
        false,
    )
}

/// learn.microsoft.com/graph/api/subscribedsku-list example.
pub struct SkuJson<'a> {
    pub t: &'a Tenant,
    pub s: &'a SkuView,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PrepaidUnits {
    enabled: u32,
    suspended: u32,
    warning: u32,
    locked_out: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ServicePlan<'a> {
    service_plan_id: crate::ids::Guid,
    service_plan_name: &'a str,
    provisioning_status: &'static str,
    applies_to: &'static str,
}

impl Fields for SkuJson<'_> {
    const NAMES: &'static [&'static str] = &[
        "accountName",
        "accountId",
        "appliesTo",
        "capabilityStatus",
        "consumedUnits",
        "id",
        "prepaidUnits",
        "servicePlans",
        "skuId",
        "skuPartNumber",
        "subscriptionIds",
    ];

    fn write<M: SerializeMap>(&self, m: &mut M, i: usize) -> Result<(), M::Error> {
        let (t, s) = (self.t, self.s);
        let sku = &Catalog::get().skus[s.sku];
        let k = Self::NAMES[i];
        match i {
            0 => m.serialize_entry(k, &t.display_name),
            1 => m.serialize_entry(k, &t.id),
            2 => m.serialize_entry(k, "User"),
            3 => m.serialize_entry(k, s.capability_status),
            4 => m.serialize_entry(k, &s.consumed),
            5 => m.serialize_entry(k, &format!("{}_{}", t.id, sku.id)),
            6 => m.serialize_entry(
                k,
                &PrepaidUnits {
                    enabled: s.enabled,
                    suspended: s.suspended,
                    warning: s.warning,
                    locked_out: s.locked_out,
                },
            ),
            7 => {
                let provisioning_status = if s.capability_status == "Suspended" {
                    "Disabled"
                } else {
                    "Success"
                };
                let plans: Vec<ServicePlan> = sku
                    .plans
                    .iter()
                    .map(|p| ServicePlan {
                        service_plan_id: p.id,
                        service_plan_name: &p.name,
                        provisioning_status,
                        applies_to: "User",
                    })
                    .collect();
                m.serialize_entry(k, &plans)
            }
            8 => m.serialize_entry(k, &sku.id),
            9 => m.serialize_entry(k, &sku.part_number),
            _ => m.serialize_entry(k, &s.subscription_ids),
        }
    }
}

#[cfg(test)]
mod names {
    use super::*;

    #[test]
    fn the_properties_written_are_the_selectable_ones() {
        super::super::paging::assert_names_are_the_specs(<SkuJson as Fields>::NAMES, &super::super::specs::SKUS, &[]);
    }
}
