//! The partner-side listings in listing order, built once with the fleet, so that a page of
//! `/contracts`, `delegatedAdminRelationships`, `delegatedAdminCustomers` or Partner Center's
//! `/v1/customers` seeks to its position instead of walking (and rendering) the whole fleet.
//! A page costs O(page): the services render only the entities on it, and run-time overrides
//! are applied to those tenants only.

use super::Tenant;

/// Positions of the partner-side listings (all generated data; nothing here changes at run
/// time: overrides change a relationship's status and roles, never which relationships exist).
#[derive(Debug, Default)]
pub struct Listings {
    /// Every GDAP relationship as (tenant index, index in `Tenant::relationships`), customers
    /// in fleet order, each customer's relationships in its own order.
    pub relationships: Vec<(u32, u32)>,
    /// Customers with a contract (Graph `/contracts`, Partner Center `/v1/customers`).
    pub contracts: Vec<u32>,
    /// Customers with an active relationship as generated (`delegatedAdminCustomers` before
    /// run-time trouble).
    pub gdap_active: Vec<u32>,
    /// (hash of the lower-case relationship id, position in `relationships`), sorted.
    by_id: Vec<(u64, u32)>,
}

impl Listings {
    pub fn build(tenants: &[Tenant]) -> Listings {
        let mut l = Listings::default();
        for t in tenants.iter().skip(1) {
            for (r, rel) in t.relationships.iter().enumerate() {
                l.by_id.push((id_hash(&rel.id), l.relationships.len() as u32));
                l.relationships.push((t.idx, r as u32));
            }
            if t.contract.is_some() {
                l.contracts.push(t.idx);
            }
            if t.has_active_relationship() {
                l.gdap_active.push(t.idx);
            }
        }
        l.by_id.sort_unstable();
        l
    }

    /// Positions in `relationships` whose id hashes like `id` (case-insensitive), in listing
    /// order; the caller compares the ids themselves.
    pub fn relationship_candidates(&self, id: &str) -> impl Iterator<Item = (u32, u32)> + '_ {
        let h = id_hash(id);
        let from = self.by_id.partition_point(|&(k, _)| k < h);
        let mut hits: Vec<u32> = self.by_id[from..]
            .iter()
            .take_while(|&&(k, _)| k == h)
            .map(|&(_, pos)| pos)
            .collect();
        hits.sort_unstable();
        hits.into_iter().map(|pos| self.relationships[pos as usize])
    }
}

fn id_hash(id: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in id.bytes() {
        h ^= b.to_ascii_lowercase() as u64;
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// A sorted set of tenant indices given as a generated base list plus run-time changes
/// (tenants added and removed, few): its length and its `p`-th element without building it.
pub struct Adjusted<'a> {
    base: &'a [u32],
    /// Sorted, none in `base`.
    added: Vec<u32>,
    /// Sorted, all in `base`.
    removed: Vec<u32>,
}

impl<'a> Adjusted<'a> {
    /// `changes`: (tenant index, member now) for the tenants whose membership may differ from
    /// `base`, in any order.
    pub fn new(base: &'a [u32], changes: impl IntoIterator<Item = (u32, bool)>) -> Adjusted<'a> {
        let (mut added, mut removed) = (vec![], vec![]);
        for (t, now) in changes {
            match (base.binary_search(&t).is_ok(), now) {
                (false, true) => added.push(t),
                (true, false) => removed.push(t),
                _ => {}
            }
        }
        added.sort_unstable();
        added.dedup();
        removed.sort_unstable();
        removed.dedup();
        Adjusted { base, added, removed }
    }

    pub fn len(&self) -> usize {
        self.base.len() + self.added.len() - self.removed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Members below tenant index `x`.
    fn rank(&self, x: u32) -> usize {
        let below = |v: &[u32]| v.partition_point(|&t| t < x);
        below(self.base) + below(&self.added) - below(&self.removed)
    }

    /// The `p`-th member (0-based) in ascending order.
    pub fn nth(&self, p: usize) -> Option<u32> {
        if p >= self.len() {
            return None;
        }
        if self.added.is_empty() && self.removed.is_empty() {
            return Some(self.base[p]);
        }
        // The smallest x with more than p members at or below it is the p-th member.
        let hi_base = self.base.last().copied().unwrap_or(0);
        let hi_added = self.added.last().copied().unwrap_or(0);
        let (mut lo, mut hi) = (0u32, hi_base.max(hi_added));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.rank(mid + 1) > p {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        Some(lo)
    }
}

#[cfg(test)]
mod tests {
    use super::Adjusted;

    #[test]
    fn adjusted_sets_list_like_the_materialised_set() {
        let base: Vec<u32> = (1..200).filter(|t| t % 7 != 0).collect();
        let changes = vec![
            (7, true),
            (8, false),
            (1, false),
            (199, false),
            (210, true),
            (14, false),
            (3, true),
        ];
        let a = Adjusted::new(&base, changes.clone());
        let mut want: Vec<u32> = base.clone();
        for (t, now) in changes {
            want.retain(|&x| x != t);
            if now {
                want.push(t);
            }
        }
        want.sort_unstable();
        assert_eq!(a.len(), want.len());
        let got: Vec<u32> = (0..a.len()).map(|p| a.nth(p).unwrap()).collect();
        assert_eq!(got, want);
        assert_eq!(a.nth(a.len()), None);
        let plain = Adjusted::new(&base, []);
        assert_eq!(
            (0..plain.len()).map(|p| plain.nth(p).unwrap()).collect::<Vec<_>>(),
            base
        );
    }
}
