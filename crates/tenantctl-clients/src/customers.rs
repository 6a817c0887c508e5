//! The partner's customer list, merged from Graph `/contracts` and GDAP relationships (and
//! Partner Center on request): a customer appears once, with the best relationship status.

use crate::graph::tenant_id;
use crate::{Graph, PartnerCenter};
use std::collections::BTreeMap;
use tenantctl_core::models::{Customer, GdapRelationship};
use tenantctl_core::TenantId;
use tenantctl_transport::api::ApiError;

/// Where the customer list comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Graph `/contracts` + `delegatedAdminRelationships` (default).
    Graph,
    /// Partner Center `/v1/customers`, with GDAP status from Graph.
    PartnerCenter,
}

/// Rank of a GDAP status when a customer has several relationships: `active` wins.
fn rank(status: &str) -> u8 {
    match status {
        "active" => 6,
        "activating" | "approved" | "approvalPending" => 5,
        "terminationRequested" | "terminating" => 4,
        "expired" => 3,
        "terminated" => 2,
        "none" => 0,
        _ => 1,
    }
}

/// Folds relationships into per-customer entries.
pub fn merge(customers: &mut BTreeMap<TenantId, Customer>, rels: &[GdapRelationship]) {
    for r in rels {
        let c = customers.entry(r.customer_tenant_id).or_insert_with(|| Customer {
            tenant_id: r.customer_tenant_id,
            name: r.customer_name.clone(),
            default_domain: None,
            contract_type: None,
            relationship_status: "none".into(),
            relationship_end: None,
            sources: vec![],
        });
        if !c.sources.contains(&"gdap") {
            c.sources.push("gdap");
        }
        // `/contracts` keeps the name the customer had when the partnership began ("not
        // automatically updated", learn.microsoft.com/graph/api/resources/contract); the GDAP
        // relationship's customer name is the newer one.
        if !r.customer_name.is_empty() {
            c.name = r.customer_name.clone();
        }
        let better = rank(&r.status) > rank(&c.relationship_status);
        let same_later = rank(&r.status) == rank(&c.relationship_status) && r.end > c.relationship_end;
        if better || same_later {
            c.relationship_status = r.status.clone();
            c.relationship_end = r.end;
        }
    }
}

/// Every customer of the partner, sorted by name then id, with relationships for reuse.
pub async fn list(
    graph: &Graph,
    pc: &PartnerCenter,
    partner: &str,
    source: Source,
) -> Result<(Vec<Customer>, Vec<GdapRelationship>), ApiError> {
    let mut map: BTreeMap<TenantId, Customer> = BTreeMap::new();
    let (base, rels) = match source {
        Source::Graph => {
            let (contracts, rels) = futures::join!(graph.contracts(partner), graph.relationships(partner));
            let base = contracts?
                .into_iter()
                .map(|c| {
                    Ok(Customer {
                        tenant_id: tenant_id(&c.customer_id)?,
                        name: c.display_name.unwrap_or_default(),
                        default_domain: c.default_domain_name,
                        contract_type: c.contract_type,
                        relationship_status: "none".into(),
                        relationship_end: None,
                        sources: vec!["contracts"],
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            (base, rels?)
        }
        Source::PartnerCenter => {
            let (pcs, rels) = futures::join!(pc.customers(partner), graph.relationships(partner));
            (pcs?, rels?)
        }
    };
    for c in base {
        map.insert(c.tenant_id, c);
    }
    merge(&mut map, &rels);
    let mut out: Vec<Customer> = map.into_values().collect();
    out.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then(a.tenant_id.cmp(&b.tenant_id))
    });
    Ok((out, rels))
}
