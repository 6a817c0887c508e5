//! Which customer tenants a command runs in: `--tenant` (id, domain or name; repeatable),
//! `--all-tenants`, `--exclude`.

use crate::session::Session;
use crate::sizes::Weights;
use anyhow::{anyhow, bail, Result};
use futures::{FutureExt, StreamExt};
use parking_lot::Mutex;
use std::collections::BinaryHeap;
use std::sync::Arc;
use tenantctl_clients::customers;
use tenantctl_core::models::Customer;
use tenantctl_core::{TenantId, TenantSelector};
use tenantctl_fanout::{Target, TargetCount, Targets};
use tenantctl_transport::adaptive::{self, AdaptiveConfig, AdaptiveLimit};
use tenantctl_transport::api::ApiError;
use tenantctl_transport::cloud::Resource;
use tenantctl_transport::http::Request;
use tokio::sync::Notify;

/// The selection as the user gave it.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub tenants: Vec<String>,
    pub all: bool,
    pub exclude: Vec<String>,
}

pub fn target_of(c: &Customer) -> Target {
    Target {
        id: c.tenant_id,
        name: c.name.clone(),
        relationship_status: Some(c.relationship_status.clone()),
    }
}

/// Resolves a selection to targets (each once, in the order given; `--all-tenants` in the
/// customer list's order).
pub async fn select(s: &Session, sel: &Selection) -> Result<Vec<Target>> {
    select_for(s, sel, Purpose::Read).await
}

/// [`select`] for a purpose (a write's `--tenant`s must be customers, see [`Purpose`]).
pub async fn select_for(s: &Session, sel: &Selection, purpose: Purpose) -> Result<Vec<Target>> {
    if !sel.all && sel.tenants.is_empty() {
        bail!("which customers? give --tenant <id|domain|name> (repeatable) or --all-tenants");
    }
    let list = &s.customers().await?.customers;
    let mut targets = if sel.all {
        list.iter().map(target_of).collect::<Vec<_>>()
    } else {
        let mut v: Vec<Target> = vec![];
        for name in &sel.tenants {
            let t = find_for(s, name, "--tenant", purpose).await?;
            if !v.iter().any(|x| x.id == t.id) {
                v.push(t);
            }
        }
        v
    };
    for name in &sel.exclude {
        let t = find(s, name, "--exclude").await?;
        targets.retain(|x| x.id != t.id);
    }
    if targets.is_empty() {
        bail!("no customer tenant left to run in");
    }
    Ok(targets)
}

/// The tenants of a read as the fan-out takes them ([`select_streamed`]).
pub struct Selected {
    pub targets: Targets,
    /// Why the customer list stopped before its end, if it did.
    failure: Option<Arc<Mutex<Option<ApiError>>>>,
}

impl Selected {
    /// Tenants named so far (and whether that is all), for progress.
    pub fn count(&self) -> Arc<TargetCount> {
        self.targets.count()
    }

    /// Splits into the targets and a check to make once the run is over: an error when the
    /// customer list broke off part-way (the tenants listed until then have run and have
    /// their statuses; the others were never named).
    pub fn into_parts(self) -> (Targets, ListingCheck) {
        (self.targets, ListingCheck(self.failure))
    }
}

/// See [`Selected::into_parts`].
pub struct ListingCheck(Option<Arc<Mutex<Option<ApiError>>>>);

impl ListingCheck {
    pub fn result(self) -> Result<()> {
        match self.0.and_then(|f| f.lock().take()) {
            Some(e) => Err(anyhow!(
                "reading the partner's customers failed part-way, so not every customer ran: {e}"
            )),
            None => Ok(()),
        }
    }
}

/// [`select`] for a read whose tenants may start while the customer list is still being
/// read: with `--all-tenants` (and no `--exclude`, which needs the whole list to resolve),
/// `/contracts` and the GDAP relationships are read side by side in a task of their own, page
/// by page, and each customer starts as soon as its page has said all there is to say about
/// it ([`customers::Streamed`]): on fleet-1000 the first tenants start after one page instead
/// of four (issue 13). Returns once the first tenant is known, so that a failure to read the
/// list at all (bad credentials) is this call's error, as with [`select`].
///
/// With a `workload` ([`crate::sizes`]), the tenants named and not yet started are started
/// biggest first by their size at an earlier run of it (those it doesn't know first of all).
pub async fn select_streamed(s: &Session, sel: &Selection, workload: Option<&str>) -> Result<Selected> {
    let mut selected = select_listed(s, sel).await?;
    let weights = workload.map(|w| s.sizes().weights(w)).unwrap_or_default();
    selected.targets = prefetch_tokens(s, selected.targets, Resource::Graph, weights);
    Ok(selected)
}

/// Customer token requests in flight ahead of the fan-out's lanes ([`prefetch_tokens`]): as
/// many as the lanes' default ceiling (on fleet-1000, 32 left the cold run at 2.45 s, 256 and
/// 512 both gave 2.0 s; Entra throttles token requests per tenant, and these go to as many
/// tenants as are in flight).
pub const TOKEN_WINDOW: usize = 256;

/// A tenant named and not yet handed on, in the order it is wanted: biggest first (unknown
/// size before every known one), then in the order named.
struct Waiting<T> {
    weight: u64,
    seq: u64,
    item: T,
}

/// A tenant's place in that order: its size, or above every size when unknown.
fn weight_of(weights: &Weights, id: &TenantId) -> u64 {
    weights.of(id).unwrap_or(u64::MAX)
}

impl<T> PartialEq for Waiting<T> {
    fn eq(&self, o: &Self) -> bool {
        (self.weight, self.seq) == (o.weight, o.seq)
    }
}
impl<T> Eq for Waiting<T> {}
impl<T> PartialOrd for Waiting<T> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl<T> Ord for Waiting<T> {
    /// A max-heap pops the biggest weight, and among equals the first named.
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.weight.cmp(&o.weight).then(o.seq.cmp(&self.seq))
    }
}

/// The tenants named and not yet taken by the fan-out (which takes one whenever a lane is
/// free), and whether the naming is over.
#[derive(Default)]
struct Queue {
    heap: BinaryHeap<Waiting<Target>>,
    closed: bool,
}

/// Puts the tenants' tokens off the lanes' critical path: a task reads the targets as they are
/// named and asks for each one's `resource` token with at most [`TOKEN_WINDOW`] token requests
/// in flight, in the order the lanes will want them; the fan-out takes the tenants named so far
/// in that order, biggest first by `weights` (see [`Waiting`]), whenever a lane is free. A lane
/// that starts before its token has arrived waits on the same request (the token cache is
/// single-flight), so no token is asked for twice; one that was in the on-disk cache costs no
/// request at all. A tenant whose token fails fails the same way in its lane (the cache
/// remembers definite failures for 30 s).
pub fn prefetch_tokens(s: &Session, targets: Targets, resource: Resource, weights: Weights) -> Targets {
    let count = targets.count();
    let feed_count = count.clone();
    let tokens = s.api().tokens.clone();
    let queue: Arc<(Mutex<Queue>, Notify)> = Arc::default();
    let feed = queue.clone();
    tokio::spawn(async move {
        // However this task ends, the fan-out is told that no more tenants come.
        struct Close(Arc<(Mutex<Queue>, Notify)>);
        impl Drop for Close {
            fn drop(&mut self) {
                self.0 .0.lock().closed = true;
                self.0 .1.notify_one();
            }
        }
        let close = Close(feed);
        let mut named = targets.into_stream();
        let mut waiting: BinaryHeap<Waiting<TenantId>> = BinaryHeap::new();
        let mut in_flight = tokio::task::JoinSet::new();
        let mut named_all = false;
        let mut seq = 0;
        loop {
            if count.run_stopped() {
                // The run stopped: nothing more to prepare; the rest only end `cancelled`.
                in_flight.abort_all();
                waiting.clear();
            }
            while in_flight.len() < TOKEN_WINDOW {
                let Some(w) = waiting.pop() else { break };
                let tokens = tokens.clone();
                in_flight.spawn(async move {
                    let _ = tokens.token(&w.item.to_string(), resource).await;
                });
            }
            if named_all && in_flight.is_empty() {
                return;
            }
            tokio::select! {
                t = named.next(), if !named_all => {
                    // This tenant and every other one named at the same time (a page of the
                    // list, a `--tenant` list) go in as one batch: the fan-out chooses among
                    // all of them, not among those that happened to arrive first.
                    let mut batch = vec![];
                    let mut next = t;
                    loop {
                        match next {
                            Some(t) => batch.push(t),
                            None => named_all = true,
                        }
                        if named_all {
                            break;
                        }
                        match named.next().now_or_never() {
                            Some(n) => next = n,
                            None => break,
                        }
                    }
                    if Arc::strong_count(&close.0) == 1 {
                        return; // the run was dropped
                    }
                    let mut q = close.0 .0.lock();
                    for t in batch {
                        seq += 1;
                        let weight = weight_of(&weights, &t.id);
                        if !count.run_stopped() {
                            waiting.push(Waiting { weight, seq, item: t.id });
                        }
                        q.heap.push(Waiting { weight, seq, item: t });
                    }
                    q.closed |= named_all;
                    drop(q);
                    close.0 .1.notify_one();
                }
                _ = in_flight.join_next(), if !in_flight.is_empty() => {}
            }
        }
    });
    let stream = futures::stream::unfold(queue, |q| async move {
        loop {
            {
                let mut st = q.0.lock();
                if let Some(w) = st.heap.pop() {
                    drop(st);
                    return Some((w.item, q));
                }
                if st.closed {
                    return None;
                }
            }
            // One consumer: a notification sent since the check above is kept as a permit.
            q.1.notified().await;
        }
    });
    Targets::streamed(stream, feed_count)
}

/// [`select_streamed`] without the token prefetch.
async fn select_listed(s: &Session, sel: &Selection) -> Result<Selected> {
    if !sel.all || !sel.exclude.is_empty() || s.customers_read().is_some() {
        return Ok(Selected {
            targets: select(s, sel).await?.into(),
            failure: None,
        });
    }
    let (graph, partner) = (s.graph(), s.partner().to_owned());
    let count = Arc::new(TargetCount::default());
    let failure: Arc<Mutex<Option<ApiError>>> = Arc::default();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Target>();
    let (count_w, failure_w) = (count.clone(), failure.clone());
    // The list's requests now share the app's throttling budget with the tenants already
    // running: a 429 with `Retry-After` is waited out as the server says (paced, as inside an
    // adaptive fan-out) instead of drawing on the retry budget the fleet is using up.
    let pacer = AdaptiveLimit::new(AdaptiveConfig::up_to(1), s.api().clock().clone());
    tokio::spawn(adaptive::scoped(pacer, async move {
        let mut list = customers::Streamed::default();
        let mut pages = std::pin::pin!(customers::pages(&graph, &partner));
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => {
                    let start = list.add(page);
                    count_w.add(start.len());
                    for c in &start {
                        if tx.send(target_of(c)).is_err() {
                            return; // the run was dropped
                        }
                    }
                }
                Err(e) => {
                    *failure_w.lock() = Some(e);
                    break;
                }
            }
        }
        count_w.set_complete();
    }));
    let Some(first) = rx.recv().await else {
        if let Some(e) = failure.lock().take() {
            bail!("reading the partner's customers failed: {e}");
        }
        bail!("no customer tenant left to run in");
    };
    let rest = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|t| (t, rx)) });
    Ok(Selected {
        targets: Targets::streamed(futures::stream::once(async move { first }).chain(rest), count),
        failure: Some(failure),
    })
}

/// What a tenant is looked up for. A write goes only to a customer of the partner (one in its
/// GDAP or contract lists); the partner's own tenant only when the user says so
/// (`--partner-tenant`), and an unknown tenant never (probe D2, D5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Purpose {
    #[default]
    Read,
    Write {
        /// `--partner-tenant`: the partner's own tenant may be written to.
        partner_tenant: bool,
    },
}

/// Finds one tenant by id, domain or name; `flag` names the input in errors.
pub async fn find(s: &Session, sel: &str, flag: &str) -> Result<Target> {
    find_for(s, sel, flag, Purpose::Read).await
}

/// [`find`] for a purpose: for a write, only a customer (or, when allowed, the partner's own
/// tenant); a name shared by several customers is an error listing them.
pub async fn find_for(s: &Session, sel: &str, flag: &str, purpose: Purpose) -> Result<Target> {
    if sel.trim().is_empty() {
        bail!("{flag} is empty; give a tenant id, domain or name");
    }
    let sel = sel.trim();
    let list = &s.customers().await?.customers;
    let parsed = TenantSelector::parse(sel);
    if let Some(c) = pick(list, &parsed, sel, flag)? {
        return Ok(target_of(c));
    }
    let found = find_outside(s, sel, flag, &parsed, list).await?;
    let Purpose::Write { partner_tenant } = purpose else {
        return Ok(found);
    };
    // Not one of the partner's customers: the partner's own tenant, or nobody's to write to.
    let partner = partner_id(s).await;
    if partner == Some(found.id) {
        if partner_tenant {
            return Ok(Target {
                name: format!("{} (partner tenant)", s.partner()),
                ..found
            });
        }
        bail!(
            "{flag} '{}' is the partner's own tenant; tenantctl writes there only when told so: add --partner-tenant",
            shorten(sel)
        );
    }
    bail!(
        "{flag} '{}' ({}) is not a customer of the partner (no GDAP relationship or contract lists it); tenantctl writes only to customers",
        shorten(sel),
        found.id
    )
}

/// The one customer `parsed` names, `None` when no customer matches; an error when several
/// do (names are not unique), listing each with its id and default domain.
fn pick<'a>(list: &'a [Customer], parsed: &TenantSelector, sel: &str, flag: &str) -> Result<Option<&'a Customer>> {
    let hits: Vec<&Customer> = list
        .iter()
        .filter(|c| match parsed {
            TenantSelector::Id(id) => c.tenant_id == *id,
            TenantSelector::Domain(d) => c.default_domain.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(d)),
            TenantSelector::Name(n) => c.name.eq_ignore_ascii_case(n),
        })
        .collect();
    if hits.len() > 1 {
        let names: Vec<String> = hits
            .iter()
            .map(|c| {
                format!(
                    "{} ({})",
                    c.tenant_id,
                    c.default_domain.as_deref().unwrap_or("no default domain known")
                )
            })
            .collect();
        bail!(
            "{flag} '{}': {} customers have that name: {}; give the tenant id or domain instead",
            shorten(sel),
            hits.len(),
            names.join(", ")
        );
    }
    Ok(hits.first().copied())
}

/// The partner tenant's id (its configured GUID, or its domain looked up).
async fn partner_id(s: &Session) -> Option<TenantId> {
    match s.partner().parse::<TenantId>() {
        Ok(id) => Some(id),
        Err(_) => tenant_of_domain(s, s.partner()).await,
    }
}

/// An input as quoted back in a message: at most 80 characters.
fn shorten(s: &str) -> String {
    if s.chars().count() <= 80 {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(80).collect::<String>())
    }
}

/// A tenant that is not in the partner's lists: by id as given, or by domain (looked up).
async fn find_outside(
    s: &Session,
    sel: &str,
    flag: &str,
    parsed: &TenantSelector,
    list: &[Customer],
) -> Result<Target> {
    let sel = &shorten(sel);
    match parsed.clone() {
        // Not in the partner's lists: try it anyway; its status will say what is wrong.
        TenantSelector::Id(id) => Ok(Target {
            id,
            name: id.to_string(),
            relationship_status: None,
        }),
        TenantSelector::Domain(d) => match tenant_of_domain(s, &d).await {
            Some(id) => Ok(list
                .iter()
                .find(|c| c.tenant_id == id)
                .map(target_of)
                .unwrap_or(Target {
                    id,
                    name: d.clone(),
                    relationship_status: None,
                })),
            None => bail!("{flag} '{sel}': no tenant has the domain '{d}' (check the spelling and the cloud)"),
        },
        TenantSelector::Name(n) => {
            let near: Vec<&str> = list
                .iter()
                .filter(|c| c.name.to_lowercase().contains(&n.to_lowercase()))
                .map(|c| c.name.as_str())
                .take(5)
                .collect();
            if near.is_empty() {
                Err(anyhow!(
                    "{flag} '{sel}': no customer has that name; `tenantctl customers list` shows them"
                ))
            } else {
                Err(anyhow!(
                    "{flag} '{sel}': no customer has exactly that name; did you mean: {}?",
                    near.join(", ")
                ))
            }
        }
    }
}

/// Looks a domain up the way Entra does: the tenant's OpenID configuration names its id
/// (learn.microsoft.com/entra/identity-platform/v2-protocols-oidc, "Find your app's OpenID
/// configuration document URI").
async fn tenant_of_domain(s: &Session, domain: &str) -> Option<TenantId> {
    let url = format!(
        "{}/{domain}/v2.0/.well-known/openid-configuration",
        s.api().endpoints().authority
    );
    let r = s.api().executor.send(&Request::get(url)).await.ok()?;
    if !r.status.is_success() {
        return None;
    }
    let v: serde_json::Value = r.json().ok()?;
    let issuer = v.get("issuer")?.as_str()?;
    issuer.split('/').find_map(|p| p.parse::<TenantId>().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(id: &str, name: &str, domain: &str) -> Customer {
        Customer {
            tenant_id: id.parse().unwrap(),
            name: name.into(),
            default_domain: Some(domain.into()),
            contract_type: None,
            relationship_status: "active".into(),
            relationship_end: None,
            sources: vec!["gdap"],
        }
    }

    /// Probe D5: a name two customers share picked one of them silently.
    #[test]
    fn a_name_shared_by_two_customers_is_an_error_listing_both() {
        let list = [
            customer("52eaad04-13a2-4a2f-9ce8-93a294fadf36", "Contoso", "contoso.com"),
            customer("6f1ba9f1-8d2c-4c1e-8f0e-6d1f3a2b4c5d", "contoso", "contoso.de"),
            customer("0b1d7bde-4e3c-4c0c-9f57-3a3ec1b0a111", "Fabrikam", "fabrikam.com"),
        ];
        let sel = "CONTOSO";
        let e = pick(&list, &TenantSelector::parse(sel), sel, "--exclude")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("--exclude 'CONTOSO': 2 customers have that name"), "{e}");
        assert!(e.contains("52eaad04-13a2-4a2f-9ce8-93a294fadf36 (contoso.com)"), "{e}");
        assert!(e.contains("6f1ba9f1-8d2c-4c1e-8f0e-6d1f3a2b4c5d (contoso.de)"), "{e}");
        // Ids and domains are unique: they pick one.
        let by_domain = pick(&list, &TenantSelector::parse("contoso.de"), "contoso.de", "--tenant").unwrap();
        assert_eq!(by_domain.unwrap().name, "contoso");
        let none = pick(&list, &TenantSelector::parse("Northwind"), "Northwind", "--tenant").unwrap();
        assert!(none.is_none());
    }

    /// Issue 13: the next tenant is the biggest known from an earlier run; a tenant of unknown
    /// size (a new customer) comes before every known one; equals in the order named.
    #[test]
    fn waiting_tenants_come_out_unknown_first_then_biggest_then_in_the_order_named() {
        let id = |n: u128| TenantId(uuid::Uuid::from_u128(n));
        let weights: Weights = [(id(1), 5), (id(2), 6077), (id(3), 5), (id(4), 120)]
            .into_iter()
            .collect();
        let mut heap = BinaryHeap::new();
        for (seq, n) in [1, 2, 3, 4, 5, 6].into_iter().enumerate() {
            heap.push(Waiting {
                weight: weight_of(&weights, &id(n)),
                seq: seq as u64,
                item: n,
            });
        }
        let order: Vec<u128> = std::iter::from_fn(|| heap.pop().map(|w| w.item)).collect();
        assert_eq!(order, [5, 6, 2, 4, 1, 3]);
    }
}
