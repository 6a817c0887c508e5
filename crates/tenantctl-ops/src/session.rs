//! A connected session: the API door, the partner tenant, and the customer list read once.

use crate::connect::{self, Conn, ConnectOptions};
use crate::sizes::TenantSizes;
use anyhow::{anyhow, Result};
use tenantctl_clients::customers::{self, Source};
use tenantctl_clients::{Graph, PartnerCenter};
use tenantctl_core::models::{Customer, GdapRelationship};
use tenantctl_fanout::{Limits, Stop};
use tenantctl_transport::api::Api;
use tokio::sync::OnceCell;

/// The partner's customers and GDAP relationships, as read at the start of a command.
#[derive(Clone, Debug, Default)]
pub struct CustomerList {
    pub customers: Vec<Customer>,
    pub relationships: Vec<GdapRelationship>,
}

/// How a fan-out runs: limits and the stop signal (Ctrl-C).
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub limits: Limits,
    pub stop: Stop,
}

pub struct Session {
    conn: Conn,
    /// The profile used (for the confirmation before writes).
    pub profile: String,
    customers: OnceCell<CustomerList>,
    sizes: TenantSizes,
}

impl Session {
    pub async fn connect(o: &ConnectOptions) -> Result<Session> {
        Ok(Session {
            conn: connect::connect(o).await?,
            profile: o.profile.clone(),
            customers: OnceCell::new(),
            sizes: match (&o.sizes, o.sandbox) {
                (Some(p), false) => TenantSizes::open(p.clone()),
                _ => TenantSizes::none(),
            },
        })
    }

    /// Tenant sizes from earlier runs (to start the biggest tenants first).
    pub fn sizes(&self) -> &TenantSizes {
        &self.sizes
    }

    pub fn api(&self) -> &Api {
        &self.conn.api
    }

    pub fn graph(&self) -> Graph {
        Graph::new(self.conn.api.clone())
    }

    /// The partner tenant (GUID or domain, as configured).
    pub fn partner(&self) -> &str {
        &self.conn.partner
    }

    /// Requests sent, retried, throttled so far.
    pub fn request_stats(&self) -> (u64, u64, u64) {
        self.conn.api.executor.stats.snapshot()
    }

    /// The customer list from Graph (`/contracts` + GDAP), read once per session.
    pub async fn customers(&self) -> Result<&CustomerList> {
        self.customers
            .get_or_try_init(|| async { self.read_customers(Source::Graph).await })
            .await
    }

    /// The customer list, if this session has read it already.
    pub fn customers_read(&self) -> Option<&CustomerList> {
        self.customers.get()
    }

    /// The customer list from the given source (not cached).
    pub async fn read_customers(&self, source: Source) -> Result<CustomerList> {
        let graph = self.graph();
        let pc = PartnerCenter::new(self.conn.api.clone());
        let (customers, relationships) = customers::list(&graph, &pc, &self.conn.partner, source)
            .await
            .map_err(|e| anyhow!("reading the partner's customers failed: {e}"))?;
        Ok(CustomerList {
            customers,
            relationships,
        })
    }
}
