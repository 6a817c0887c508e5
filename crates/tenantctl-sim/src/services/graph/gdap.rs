//! The partner side of Graph: contracts (contract-list) and GDAP (tenantrelationship-list-
//! delegatedadminrelationships, delegatedadminrelationship-list-accessassignments,
//! tenantrelationship-list-delegatedadmincustomers).

use super::paging::{
    context, date7, etag, full_json, page, page_direct, vec_page, Date7, Fields, Listing, Projected, Projection, CTX,
    GDAP_CTX,
};
use super::specs::{ASSIGNMENTS, CONTRACTS, GDAP_CUSTOMERS, RELATIONSHIPS};
use crate::fleet::{Adjusted, Relationship, Tenant, TenantKind};
use crate::odata;
use crate::platform::errors::GraphError;
use crate::platform::extract::{Directory, GraphCall, Partner};
use crate::state::Sim;
use axum::extract::{Path, RawQuery};
use axum::response::Response;
use serde::ser::SerializeMap;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::borrow::Cow;

type Res = Result<Response, GraphError>;

/// Contracts exist only in partner tenants (contract-list); elsewhere the list is empty.
/// A page renders only its own contracts (the fleet's are indexed in listing order).
pub async fn contracts(call: GraphCall<Directory>, RawQuery(raw): RawQuery) -> Res {
    let q = call.query(&raw, &CONTRACTS)?;
    let cost = call.charge(3, Some(&q))?;
    let sim = &call.sim;
    let listed: &[u32] = if call.t().kind == TenantKind::Partner {
        &sim.fleet.listings.contracts
    } else {
        &[]
    };
    let item = |i: u64| {
        let t = &sim.fleet.tenants[listed[i as usize] as usize];
        t.contract.as_ref().map_or(Value::Null, |c| {
            json!({
                "id": c.id.to_string(),
                "contractType": c.contract_type,
                "customerId": t.id.to_string(),
                "defaultDomainName": c.default_domain_name,
                "displayName": c.display_name,
            })
        })
    };
    let ctx = context(&format!("{CTX}contracts"), &q);
    page(
        &call,
        Listing {
            spec: &CONTRACTS,
            q: &q,
            path: "contracts",
            ctx,
            cost,
        },
        listed.len() as u64,
        &item,
        false,
    )
}

/// The relationship at position `i` of the fleet's listing, as Graph lists it now (run-time
/// overrides of that tenant applied).
fn relationship_at(sim: &Sim, i: usize) -> Listed<'_> {
    let (ti, ri) = sim.fleet.listings.relationships[i];
    let t = &sim.fleet.tenants[ti as usize];
    Listed {
        t,
        rels: sim.relationships_now(t),
        ri: ri as usize,
    }
}

/// A relationship of tenant `t`: `rels[ri]`.
struct Listed<'a> {
    t: &'a Tenant,
    rels: Cow<'a, [Relationship]>,
    ri: usize,
}

impl Listed<'_> {
    fn json(&self) -> RelationshipJson<'_> {
        RelationshipJson {
            t: self.t,
            r: &self.rels[self.ri],
        }
    }
}

pub async fn relationships(call: GraphCall<Partner>, RawQuery(raw): RawQuery) -> Res {
    let q = call.query(&raw, &RELATIONSHIPS)?;
    let cost = call.charge(1, Some(&q))?;
    let sim = &call.sim;
    let len = sim.fleet.listings.relationships.len() as u64;
    let ctx = context(&format!("{GDAP_CTX}delegatedAdminRelationships"), &q);
    let listing = Listing {
        spec: &RELATIONSHIPS,
        q: &q,
        path: "tenantRelationships/delegatedAdminRelationships",
        ctx,
        cost,
    };
    if !q.narrows() && q.orderby.is_none() {
        // Each relationship writes its kept properties into the answer.
        let props = Projection::of(RelationshipJson::NAMES, &q, &RELATIONSHIPS);
        let item = |i: u64| Some(ProjectedRelationship(relationship_at(sim, i as usize), &props));
        return page_direct(&call, listing, len, &|_| true, &item, false);
    }
    let item = |i: u64| full_json(relationship_at(sim, i as usize).json());
    page(&call, listing, len, &item, false)
}

/// A listed relationship with the properties a page keeps.
struct ProjectedRelationship<'a>(Listed<'a>, &'a Projection<'a>);

impl Serialize for ProjectedRelationship<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Projected {
            entity: self.0.json(),
            props: self.1,
            context: None,
        }
        .serialize(s)
    }
}

/// The first relationship (in listing order) with this id, case-insensitively, as it is now.
fn find_relationship(sim: &Sim, id: &str) -> Option<(u32, Relationship)> {
    sim.fleet.listings.relationship_candidates(id).find_map(|(ti, ri)| {
        let t = &sim.fleet.tenants[ti as usize];
        if !t.relationships[ri as usize].id.eq_ignore_ascii_case(id) {
            return None;
        }
        sim.relationships_now(t)
            .iter()
            .find(|r| r.id.eq_ignore_ascii_case(id))
            .cloned()
            .map(|r| (t.idx, r))
    })
}

pub async fn relationship(call: GraphCall<Partner>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Res {
    let q = call.query(&raw, &RELATIONSHIPS)?;
    let cost = call.charge(1, Some(&q))?;
    let Some((ti, rel)) = find_relationship(&call.sim, &id) else {
        return Err(call.not_found(&id));
    };
    let t = &call.sim.fleet.tenants[ti as usize];
    let mut v = odata::project(&full_json(RelationshipJson { t, r: &rel }), &q, &RELATIONSHIPS);
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        Value::String(format!(
            "{}/$entity",
            context(&format!("{GDAP_CTX}delegatedAdminRelationships"), &q)
        )),
    );
    if let Some(o) = v.as_object_mut() {
        body.append(o);
    }
    Ok(call.ok(Value::Object(body), cost))
}

pub async fn access_assignments(call: GraphCall<Partner>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Res {
    let q = call.query(&raw, &ASSIGNMENTS)?;
    let cost = call.charge(1, Some(&q))?;
    let Some((_, rel)) = find_relationship(&call.sim, &id) else {
        return Err(call.not_found(&id));
    };
    let items: Vec<Value> = rel.assignments.iter().map(assignment_json).collect();
    let ctx = context(
        &format!("{GDAP_CTX}delegatedAdminRelationships('{}')/accessAssignments", rel.id),
        &q,
    );
    let path = format!(
        "tenantRelationships/delegatedAdminRelationships/{}/accessAssignments",
        rel.id
    );
    vec_page(
        &call,
        Listing {
            spec: &ASSIGNMENTS,
            q: &q,
            path: &path,
            ctx,
            cost,
        },
        items,
    )
}

/// Customers with at least one active relationship: the generated ones (indexed) adjusted by
/// the tenants whose trouble was set at run time, so a page seeks to its position.
pub async fn gdap_customers(call: GraphCall<Partner>, RawQuery(raw): RawQuery) -> Res {
    let q = call.query(&raw, &GDAP_CUSTOMERS)?;
    let cost = call.charge(1, Some(&q))?;
    let sim = &call.sim;
    let overridden: Vec<u32> = sim.trouble_overrides.read().keys().copied().collect();
    let members = Adjusted::new(
        &sim.fleet.listings.gdap_active,
        overridden
            .into_iter()
            .filter(|&ti| ti != 0 && (ti as usize) < sim.fleet.tenants.len())
            .map(|ti| (ti, sim.gdap_active(&sim.fleet.tenants[ti as usize]))),
    );
    let item = |i: u64| {
        let Some(ti) = members.nth(i as usize) else {
            return Value::Null;
        };
        let t = &sim.fleet.tenants[ti as usize];
        json!({
            "@odata.type": "#microsoft.graph.delegatedAdminCustomer",
            "@odata.etag": etag(&[t.idx as u64, 0xC0]),
            "id": t.id.to_string(),
            "tenantId": t.id.to_string(),
            "displayName": t.display_name,
        })
    };
    let ctx = context(&format!("{GDAP_CTX}delegatedAdminCustomers"), &q);
    let path = "tenantRelationships/delegatedAdminCustomers";
    page(
        &call,
        Listing {
            spec: &GDAP_CUSTOMERS,
            q: &q,
            path,
            ctx,
            cost,
        },
        members.len() as u64,
        &item,
        false,
    )
}

fn roles_json(roles: &[&str]) -> Value {
    json!({"unifiedRoles": roles.iter().map(|r| json!({"roleDefinitionId": r})).collect::<Vec<_>>()})
}

/// learn.microsoft.com/graph/api/tenantrelationship-list-delegatedadminrelationships example.
struct RelationshipJson<'a> {
    t: &'a Tenant,
    r: &'a Relationship,
}

/// `{"unifiedRoles": [{"roleDefinitionId": …}]}`.
struct Roles<'a>(&'a [&'a str]);

impl Serialize for Roles<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Role<'a> {
            role_definition_id: &'a str,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Details<'a> {
            unified_roles: Vec<Role<'a>>,
        }
        Details {
            unified_roles: self.0.iter().map(|r| Role { role_definition_id: r }).collect(),
        }
        .serialize(s)
    }
}

impl Fields for RelationshipJson<'_> {
    const NAMES: &'static [&'static str] = &[
        "@odata.type",
        "@odata.etag",
        "id",
        "displayName",
        "duration",
        "customer",
        "accessDetails",
        "status",
        "autoExtendDuration",
        "createdDateTime",
        "lastModifiedDateTime",
        "activatedDateTime",
        "endDateTime",
    ];

    fn write<M: SerializeMap>(&self, m: &mut M, i: usize) -> Result<(), M::Error> {
        let (t, r) = (self.t, self.r);
        // Not yet activated relationships have null activation and end dates (list example,
        // third item); ended ones were last modified when they ended.
        let pending = matches!(r.status, "created" | "approvalPending" | "approved" | "activating");
        let k = Self::NAMES[i];
        match i {
            0 => m.serialize_entry(k, "#microsoft.graph.delegatedAdminRelationship"),
            1 => m.serialize_entry(
                k,
                &etag(&[t.idx as u64, odata::hash_str(&r.id), odata::hash_str(r.status)]),
            ),
            2 => m.serialize_entry(k, &r.id),
            3 => m.serialize_entry(k, &r.display_name),
            4 => m.serialize_entry(k, &format!("P{}D", r.duration_days)),
            5 => {
                #[derive(Serialize)]
                #[serde(rename_all = "camelCase")]
                struct Customer<'a> {
                    tenant_id: crate::ids::Guid,
                    display_name: &'a str,
                }
                m.serialize_entry(
                    k,
                    &Customer {
                        tenant_id: t.id,
                        display_name: &t.display_name,
                    },
                )
            }
            6 => m.serialize_entry(k, &Roles(&r.roles)),
            7 => m.serialize_entry(k, r.status),
            8 => m.serialize_entry(k, r.auto_extend),
            9 => m.serialize_entry(k, &Date7(r.created)),
            10 => {
                let ended = matches!(r.status, "expired" | "terminated");
                let last_modified = if ended { r.end } else { r.activated.max(r.created) };
                m.serialize_entry(k, &Date7(if pending { r.created } else { last_modified }))
            }
            11 => m.serialize_entry(k, &(!pending && r.activated > 0).then_some(Date7(r.activated))),
            _ => m.serialize_entry(k, &(!pending).then_some(Date7(r.end))),
        }
    }
}

/// learn.microsoft.com/graph/api/delegatedadminrelationship-list-accessassignments example.
fn assignment_json(a: &crate::fleet::AccessAssignment) -> Value {
    json!({
        "@odata.etag": etag(&[a.id.tail_u32() as u64, odata::hash_str(a.status)]),
        "id": a.id.to_string(),
        "status": a.status,
        "createdDateTime": date7(a.created),
        "lastModifiedDateTime": date7(a.created),
        "accessContainer": {"accessContainerId": a.group_id.to_string(), "accessContainerType": "securityGroup"},
        "accessDetails": roles_json(&a.roles),
    })
}

#[cfg(test)]
mod names {
    use super::*;

    #[test]
    fn the_properties_written_are_the_selectable_ones() {
        super::super::paging::assert_names_are_the_specs(
            <RelationshipJson as Fields>::NAMES,
            &super::super::specs::RELATIONSHIPS,
            &[],
        );
    }
}
