//! The partner side of Graph: contracts (contract-list) and GDAP (tenantrelationship-list-
//! delegatedadminrelationships, delegatedadminrelationship-list-accessassignments,
//! tenantrelationship-list-delegatedadmincustomers).

use super::paging::{context, date7, etag, page, vec_page, Listing, CTX, GDAP_CTX};
use super::specs::{ASSIGNMENTS, CONTRACTS, GDAP_CUSTOMERS, RELATIONSHIPS};
use crate::fleet::{Adjusted, Relationship, Tenant, TenantKind};
use crate::odata;
use crate::platform::errors::GraphError;
use crate::platform::extract::{Directory, GraphCall, Partner};
use crate::state::Sim;
use axum::extract::{Path, RawQuery};
use axum::response::Response;
use serde_json::{json, Map, Value};

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
fn relationship_at(sim: &Sim, i: usize) -> Value {
    let (ti, ri) = sim.fleet.listings.relationships[i];
    let t = &sim.fleet.tenants[ti as usize];
    relationship_json(t, &sim.relationships_now(t)[ri as usize])
}

pub async fn relationships(call: GraphCall<Partner>, RawQuery(raw): RawQuery) -> Res {
    let q = call.query(&raw, &RELATIONSHIPS)?;
    let cost = call.charge(1, Some(&q))?;
    let sim = &call.sim;
    let len = sim.fleet.listings.relationships.len() as u64;
    let item = |i: u64| relationship_at(sim, i as usize);
    let ctx = context(&format!("{GDAP_CTX}delegatedAdminRelationships"), &q);
    let path = "tenantRelationships/delegatedAdminRelationships";
    page(
        &call,
        Listing {
            spec: &RELATIONSHIPS,
            q: &q,
            path,
            ctx,
            cost,
        },
        len,
        &item,
        false,
    )
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
    let mut v = odata::project(&relationship_json(t, &rel), &q, &RELATIONSHIPS);
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
fn relationship_json(t: &Tenant, r: &Relationship) -> Value {
    // Not yet activated relationships have null activation and end dates (list example, third item);
    // ended ones were last modified when they ended.
    let pending = matches!(r.status, "created" | "approvalPending" | "approved" | "activating");
    let ended = matches!(r.status, "expired" | "terminated");
    let last_modified = if ended { r.end } else { r.activated.max(r.created) };
    let opt = |on: bool, ts: i64| if on { Value::from(date7(ts)) } else { Value::Null };
    json!({
        "@odata.type": "#microsoft.graph.delegatedAdminRelationship",
        "@odata.etag": etag(&[t.idx as u64, odata::hash_str(&r.id), odata::hash_str(r.status)]),
        "id": r.id,
        "displayName": r.display_name,
        "duration": format!("P{}D", r.duration_days),
        "customer": {"tenantId": t.id.to_string(), "displayName": t.display_name},
        "accessDetails": roles_json(&r.roles),
        "status": r.status,
        "autoExtendDuration": r.auto_extend,
        "createdDateTime": date7(r.created),
        "lastModifiedDateTime": date7(if pending { r.created } else { last_modified }),
        "activatedDateTime": opt(!pending && r.activated > 0, r.activated),
        "endDateTime": opt(!pending, r.end),
    })
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
