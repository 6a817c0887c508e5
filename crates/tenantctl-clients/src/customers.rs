//! The partner's customer list, merged from Graph `/contracts` and GDAP relationships (and
//! Partner Center on request): a customer appears once, with the best relationship status.

use crate::{Graph, PartnerCenter};
use futures::{Stream, StreamExt, TryStreamExt};
use std::collections::{BTreeMap, HashSet};
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

/// Sorts customers by name (case-insensitive), then id.
fn sorted(map: BTreeMap<TenantId, Customer>) -> Vec<Customer> {
    let mut out: Vec<Customer> = map.into_values().collect();
    out.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then(a.tenant_id.cmp(&b.tenant_id))
    });
    out
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
            (contracts?, rels?)
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
    Ok((sorted(map), rels))
}

/// A page of the customer list as it arrives (see [`pages`]).
#[derive(Debug)]
pub enum ListPage {
    Contracts(Vec<Customer>),
    Relationships(Vec<GdapRelationship>),
    /// One of the two lists is complete.
    ContractsDone,
    RelationshipsDone,
}

/// Graph's two customer lists read side by side, page by page, in arrival order.
pub fn pages(graph: &Graph, partner: &str) -> impl Stream<Item = Result<ListPage, ApiError>> {
    let contracts = graph
        .contract_pages(partner)
        .map_ok(ListPage::Contracts)
        .chain(futures::stream::once(async { Ok(ListPage::ContractsDone) }));
    let rels = graph
        .relationship_pages(partner)
        .map_ok(ListPage::Relationships)
        .chain(futures::stream::once(async { Ok(ListPage::RelationshipsDone) }));
    futures::stream::select(rels, contracts)
}

/// Builds the customer list from pages as they arrive and says, page by page, which customers
/// can start at once: those whose GDAP status can't change any more (an `active`
/// relationship, the best there is) and whose name is known. The others wait for the end of
/// the lists, when [`Streamed::complete`] is true: at the end, every customer has been
/// started exactly once, with the same name and status as [`list`] gives.
#[derive(Default)]
pub struct Streamed {
    map: BTreeMap<TenantId, Customer>,
    started: HashSet<TenantId>,
    contracts_done: bool,
    relationships_done: bool,
}

impl Streamed {
    /// Takes one page; returns the customers to start now.
    pub fn add(&mut self, page: ListPage) -> Vec<Customer> {
        match page {
            ListPage::Contracts(cs) => {
                for c in cs {
                    if self.started.contains(&c.tenant_id) {
                        continue;
                    }
                    // A GDAP relationship seen first keeps its name and status; the contract
                    // adds the domain and contract type.
                    match self.map.get_mut(&c.tenant_id) {
                        Some(known) => {
                            known.default_domain = c.default_domain;
                            known.contract_type = c.contract_type;
                            known.sources.insert(0, "contracts");
                            if known.name.is_empty() {
                                known.name = c.name;
                            }
                        }
                        None => {
                            self.map.insert(c.tenant_id, c);
                        }
                    }
                }
                vec![]
            }
            ListPage::Relationships(mut rels) => {
                rels.retain(|r| !self.started.contains(&r.customer_tenant_id));
                merge(&mut self.map, &rels);
                let mut start = vec![];
                for r in &rels {
                    let id = r.customer_tenant_id;
                    let ready = self
                        .map
                        .get(&id)
                        .is_some_and(|c| c.relationship_status == "active" && !c.name.is_empty());
                    if ready && self.started.insert(id) {
                        start.extend(self.map.remove(&id));
                    }
                }
                // Neither the relationships nor a started customer are kept: a fan-out needs
                // only the customers not started yet (at 10,000 tenants the relationships were
                // 3 MB of role ids held to the end, the started customers 5 MB, issue 13).
                start
            }
            ListPage::ContractsDone => {
                self.contracts_done = true;
                self.rest()
            }
            ListPage::RelationshipsDone => {
                self.relationships_done = true;
                self.rest()
            }
        }
    }

    /// Both lists read.
    pub fn complete(&self) -> bool {
        self.contracts_done && self.relationships_done
    }

    /// At the end of both lists: the customers not started yet, sorted.
    fn rest(&mut self) -> Vec<Customer> {
        if !self.complete() {
            return vec![];
        }
        let rest = std::mem::take(&mut self.map);
        self.started.extend(rest.keys().copied());
        sorted(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> TenantId {
        format!("00000000-0000-0000-0000-0000000000{n:02}").parse().unwrap()
    }

    fn contract(n: u8, name: &str) -> Customer {
        Customer {
            tenant_id: id(n),
            name: name.into(),
            default_domain: Some(format!("t{n}.example")),
            contract_type: Some("resellerPartner".into()),
            relationship_status: "none".into(),
            relationship_end: None,
            sources: vec!["contracts"],
        }
    }

    fn rel(n: u8, name: &str, status: &str) -> GdapRelationship {
        GdapRelationship {
            id: format!("rel-{n}-{status}"),
            display_name: String::new(),
            customer_tenant_id: id(n),
            customer_name: name.into(),
            status: status.into(),
            role_ids: vec![],
            created: None,
            end: None,
            auto_extend_duration: String::new(),
        }
    }

    fn names(cs: &[Customer]) -> Vec<&str> {
        cs.iter().map(|c| c.name.as_str()).collect()
    }

    /// Issue 13: the customer list streams into the fan-out; what starts early is final.
    #[test]
    fn active_customers_start_with_their_page_the_rest_at_the_end_each_once_as_the_whole_list_says() {
        let pages = vec![
            ListPage::Relationships(vec![rel(1, "Alpha", "active"), rel(2, "Beta", "expired")]),
            ListPage::Contracts(vec![contract(1, "Alpha Old"), contract(3, "Gamma"), contract(4, "")]),
            ListPage::Relationships(vec![
                rel(2, "Beta", "active"),
                rel(1, "Alpha", "terminated"),
                rel(4, "", "active"),
            ]),
            ListPage::RelationshipsDone,
            ListPage::Relationships(vec![]),
            ListPage::ContractsDone,
        ];
        let mut s = Streamed::default();
        let mut started = vec![];
        let mut at_page = vec![];
        for p in pages {
            let now = s.add(p);
            at_page.push(names(&now).iter().map(|n| n.to_string()).collect::<Vec<_>>());
            started.extend(now);
        }
        assert_eq!(at_page[0], ["Alpha"], "active: starts with its page");
        assert!(at_page[1].is_empty(), "contracts alone start nobody");
        assert_eq!(at_page[2], ["Beta"], "Beta became active; tenant 4 has no name yet");
        assert!(at_page[3].is_empty(), "contracts not done yet");
        assert_eq!(at_page[5], ["", "Gamma"], "the rest at the end");
        assert!(s.complete());
        let mut ids: Vec<TenantId> = started.iter().map(|c| c.tenant_id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 4, "each customer once");
        // The same names and statuses as the whole list, read at once.
        let mut batch: BTreeMap<TenantId, Customer> = BTreeMap::new();
        for c in [contract(1, "Alpha Old"), contract(3, "Gamma"), contract(4, "")] {
            batch.insert(c.tenant_id, c);
        }
        merge(
            &mut batch,
            &[
                rel(1, "Alpha", "active"),
                rel(2, "Beta", "expired"),
                rel(2, "Beta", "active"),
                rel(1, "Alpha", "terminated"),
                rel(4, "", "active"),
            ],
        );
        let batch = sorted(batch);
        assert_eq!(started.len(), batch.len());
        for b in &batch {
            let st = started.iter().find(|c| c.tenant_id == b.tenant_id).unwrap();
            assert_eq!((&st.name, &st.relationship_status), (&b.name, &b.relationship_status));
        }
    }
}
