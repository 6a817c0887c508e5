//! Exchange Online's view of the world: mailboxes derived from the tenant's users on demand
//! (never materialised for the whole fleet), their usage statistics, and the changes
//! `Set-Mailbox` / `Add-MailboxPermission` made (kept in the tenant overlay).
//!
//! Provisioning rule [I, the Exchange provisioning rule in contract §1.7]: a user holding a
//! licence whose SKU carries an enabled Exchange Online mailbox plan (`EXCHANGE_S_STANDARD`,
//! `EXCHANGE_S_ENTERPRISE`, `EXCHANGE_S_DESKLESS`; `EXCHANGE_S_FOUNDATION` and the archive
//! add-on give no mailbox) has a `UserMailbox`. About half of the unlicensed, sign-in-disabled
//! users are resource mailboxes (Shared 60%, Room 25%, Equipment 15%): real Exchange keeps a
//! disabled user object for each. Every property is a pure function of (seed, tenant, user id)
//! plus the overlay, so the same world answers the same everywhere.
//!
//! Staleness (the ground-truth rule the CLI's tests use): a mailbox is *stale for N days* when
//! the later of its `LastUserActionTime` and `LastInteractionTime` (its creation when never
//! used) is older than `now - N days`. `LastLogonTime`
//! is deliberately unreliable (Petri: "Why the Last Login Date Reported by the
//! Get-MailboxStatistics Cmdlet is so Wrong"): some stale mailboxes have a recent logon.

use super::fleet::Tenant;
use super::model::{UserRecord, WorldError};
use super::{TenantView, World};
use crate::ids::{hash, unit, Guid, Rng};
use crate::skus::Catalog;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::OnceLock;

const DAY: i64 = 86_400;
const GB: u64 = 1 << 30;

/// `RecipientTypeDetails` of a simulated mailbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MailboxKind {
    User,
    Shared,
    Room,
    Equipment,
}

impl MailboxKind {
    /// The `RecipientTypeDetails` text.
    pub fn type_details(self) -> &'static str {
        match self {
            MailboxKind::User => "UserMailbox",
            MailboxKind::Shared => "SharedMailbox",
            MailboxKind::Room => "RoomMailbox",
            MailboxKind::Equipment => "EquipmentMailbox",
        }
    }
    /// Get-MailboxStatistics' `MailboxTypeDetail`.
    pub fn type_detail_stats(self) -> &'static str {
        self.type_details()
    }
}

/// A mailbox quota: `Unlimited` or a byte count (rendered as ByteQuantifiedSize text).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Quota {
    Unlimited,
    Bytes(u64),
}

impl Quota {
    /// `"99 GB (106,300,440,576 bytes)"` or `"Unlimited"`.
    pub fn text(self) -> String {
        match self {
            Quota::Unlimited => "Unlimited".into(),
            Quota::Bytes(b) => byte_quantified(b),
        }
    }

    /// Parses a quota as Set-Mailbox accepts it: `Unlimited`, a byte count, `<n> <unit>` with
    /// unit B/KB/MB/GB/TB (decimals allowed), or the ByteQuantifiedSize text itself.
    pub fn parse(s: &str) -> Option<Quota> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("unlimited") {
            return Some(Quota::Unlimited);
        }
        // "50 GB (53,687,091,200 bytes)": the exact bytes win.
        if let Some(open) = s.find('(') {
            let inner = s[open + 1..].trim_end_matches(')').trim();
            let digits = inner.strip_suffix("bytes")?.trim().replace(',', "");
            return digits.parse().ok().map(Quota::Bytes);
        }
        let split = s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len());
        let (num, unit) = (s[..split].trim(), s[split..].trim().to_ascii_uppercase());
        let mult: u64 = match unit.as_str() {
            "" | "B" => 1,
            "KB" => 1 << 10,
            "MB" => 1 << 20,
            "GB" => 1 << 30,
            "TB" => 1 << 40,
            _ => return None,
        };
        let v: f64 = num.parse().ok()?;
        if !v.is_finite() || v < 0.0 {
            return None;
        }
        Some(Quota::Bytes((v * mult as f64).round() as u64))
    }
}

/// Exchange's ByteQuantifiedSize text: binary units B/KB/MB/GB/TB, the largest unit with a
/// value ≥ 1, at most 4 significant digits (rounded), trailing zeros dropped, then the exact
/// byte count with thousands separators: `"984.7 MB (1,032,552,448 bytes)"`, `"0 B (0 bytes)"`
/// (real values in contract §1.7, Petri 2018; CIPP `Get-ExoOnlineStringBytes`).
pub fn byte_quantified(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut u = 0;
    while u < UNITS.len() - 1 && bytes >= 1u64 << (10 * (u + 1)) {
        u += 1;
    }
    let value = bytes as f64 / (1u64 << (10 * u)) as f64;
    let int_digits = match value {
        v if v >= 1000.0 => 4,
        v if v >= 100.0 => 3,
        v if v >= 10.0 => 2,
        _ => 1,
    };
    let mut num = format!("{:.*}", 4 - int_digits, value);
    if num.contains('.') {
        num = num.trim_end_matches('0').trim_end_matches('.').to_owned();
    }
    format!("{num} {} ({} bytes)", UNITS[u], thousands(bytes))
}

/// `1032552448` → `"1,032,552,448"`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What Set-Mailbox changed on one mailbox (`None`: as derived).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MailboxSettings {
    pub forwarding_smtp_address: Option<Option<String>>,
    pub forwarding_address: Option<Option<String>>,
    pub deliver_to_mailbox_and_forward: Option<bool>,
    pub hidden_from_address_lists: Option<bool>,
    pub prohibit_send_quota: Option<Quota>,
    pub prohibit_send_receive_quota: Option<Quota>,
    pub issue_warning_quota: Option<Quota>,
}

impl MailboxSettings {
    /// Merges a later change into this one.
    pub fn merge(&mut self, p: MailboxSettings) {
        fn set<T>(slot: &mut Option<T>, v: Option<T>) {
            if v.is_some() {
                *slot = v;
            }
        }
        set(&mut self.forwarding_smtp_address, p.forwarding_smtp_address);
        set(&mut self.forwarding_address, p.forwarding_address);
        set(
            &mut self.deliver_to_mailbox_and_forward,
            p.deliver_to_mailbox_and_forward,
        );
        set(&mut self.hidden_from_address_lists, p.hidden_from_address_lists);
        set(&mut self.prohibit_send_quota, p.prohibit_send_quota);
        set(&mut self.prohibit_send_receive_quota, p.prohibit_send_receive_quota);
        set(&mut self.issue_warning_quota, p.issue_warning_quota);
    }
}

/// A permission granted with Add-MailboxPermission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxPermission {
    /// The mailbox (its user's object id).
    pub mailbox: Guid,
    /// The trustee as resolved (a UPN of the tenant).
    pub user: String,
    pub access_rights: Vec<String>,
    pub inheritance_type: String,
    pub auto_mapping: bool,
}

/// Usage statistics (Get-MailboxStatistics). Times are Unix seconds.
#[derive(Clone, Debug, PartialEq)]
pub struct MailboxActivity {
    pub item_count: u64,
    pub deleted_item_count: u64,
    pub total_item_bytes: u64,
    pub total_deleted_item_bytes: u64,
    /// Null when the mailbox was never used.
    pub last_user_action: Option<i64>,
    pub last_interaction: Option<i64>,
    /// Unreliable: may be recent on a stale mailbox.
    pub last_logon: Option<i64>,
    pub last_logoff: Option<i64>,
    /// Archive mailbox statistics (`-Archive`), when the mailbox has an archive.
    pub archive_item_count: u64,
    pub archive_bytes: u64,
}

/// One mailbox as Exchange holds it (typed; the service renders it).
#[derive(Clone, Debug, PartialEq)]
pub struct Mailbox {
    /// The user's object id (`ExternalDirectoryObjectId`).
    pub user_id: Guid,
    /// The user's position in the tenant's user list.
    pub user_index: u64,
    pub kind: MailboxKind,
    pub user_principal_name: String,
    pub display_name: String,
    pub alias: String,
    /// `Name` (and `Identity`): the alias, as for cloud-created mailboxes [I].
    pub name: String,
    pub primary_smtp_address: String,
    /// `SMTP:` primary, `smtp:` secondaries (the onmicrosoft one included), `SIP:` for users.
    pub email_addresses: Vec<String>,
    pub guid: Guid,
    pub exchange_guid: Guid,
    pub archive_guid: Option<Guid>,
    /// `LitigationHoldDate` when on hold.
    pub litigation_hold: Option<i64>,
    pub hidden_from_address_lists: bool,
    /// As stored: `smtp:<address>`.
    pub forwarding_smtp_address: Option<String>,
    pub forwarding_address: Option<String>,
    pub deliver_to_mailbox_and_forward: bool,
    pub prohibit_send_quota: Quota,
    pub prohibit_send_receive_quota: Quota,
    pub issue_warning_quota: Quota,
    /// Unix seconds.
    pub when_created: i64,
    pub persisted_capabilities: Vec<&'static str>,
    pub account_disabled: bool,
    pub activity: MailboxActivity,
}

impl Mailbox {
    /// The documented stale rule: nobody has used the mailbox since `now - days`, judged on
    /// the later of `LastUserActionTime` and `LastInteractionTime`; a mailbox never used
    /// counts from its creation (a new, unused mailbox is not stale yet).
    pub fn is_stale(&self, now: i64, days: i64) -> bool {
        let a = &self.activity;
        let last = match (a.last_user_action, a.last_interaction) {
            (Some(x), Some(y)) => x.max(y),
            (x, y) => x.or(y).unwrap_or(self.when_created),
        };
        last < now - days * DAY
    }

    /// Whether `key` names this mailbox (the -Identity forms of Learn Get-Mailbox: UPN, email
    /// address, alias, name, display name, mailbox GUID, ExchangeGuid or the Entra object id).
    pub fn answers_to(&self, key: &str) -> bool {
        let k = key.trim();
        if let Ok(g) = k.parse::<Guid>() {
            return g == self.user_id || g == self.guid || g == self.exchange_guid;
        }
        let k = k.strip_prefix("smtp:").or_else(|| k.strip_prefix("SMTP:")).unwrap_or(k);
        self.user_principal_name.eq_ignore_ascii_case(k)
            || self.alias.eq_ignore_ascii_case(k)
            || self.name.eq_ignore_ascii_case(k)
            || self.display_name.eq_ignore_ascii_case(k)
            || self
                .email_addresses
                .iter()
                .filter_map(|a| a.split_once(':'))
                .any(|(p, a)| p.eq_ignore_ascii_case("smtp") && a.eq_ignore_ascii_case(k))
    }
}

/// The Exchange mailbox plan of a SKU, if it has one: index into the plans by quota tier.
fn sku_mailbox_plans() -> &'static HashMap<Guid, Vec<(Guid, &'static str)>> {
    static PLANS: OnceLock<HashMap<Guid, Vec<(Guid, &'static str)>>> = OnceLock::new();
    PLANS.get_or_init(|| {
        let mut m = HashMap::new();
        for s in &Catalog::get().skus {
            let plans: Vec<(Guid, &'static str)> = s
                .plans
                .iter()
                .filter_map(|p| {
                    let tier = match p.name.as_str() {
                        "EXCHANGE_S_ENTERPRISE" => "BPOS_S_Enterprise",
                        "EXCHANGE_S_STANDARD" => "BPOS_S_Standard",
                        "EXCHANGE_S_DESKLESS" => "BPOS_S_Deskless",
                        _ => return None,
                    };
                    Some((p.id, tier))
                })
                .collect();
            if !plans.is_empty() {
                m.insert(s.id, plans);
            }
        }
        m
    })
}

/// The capability (`BPOS_S_*`) of the best enabled Exchange mailbox plan the user holds.
pub fn exchange_capability(u: &UserRecord) -> Option<&'static str> {
    let plans = sku_mailbox_plans();
    let mut best: Option<&'static str> = None;
    for l in &u.licences {
        for (id, tier) in plans.get(&l.sku_id).into_iter().flatten() {
            if l.disabled_plans.contains(id) {
                continue;
            }
            let rank = |t: &str| match t {
                "BPOS_S_Enterprise" => 3,
                "BPOS_S_Standard" => 2,
                _ => 1,
            };
            if best.is_none_or(|b| rank(tier) > rank(b)) {
                best = Some(tier);
            }
        }
    }
    best
}

fn words(g: Guid) -> u64 {
    let b = g.0;
    u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
        ^ u64::from_le_bytes([b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]]).rotate_left(17)
}

/// Outside domains forwarding and message traces use.
pub const EXTERNAL_DOMAINS: &[&str] = &["gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com"];

/// Derives the mailbox of user `u` (None: the user has none). `anchor` is the fleet's anchor
/// (fixed dates), `now` the simulator's clock (activity times are relative to it).
#[allow(clippy::too_many_arguments)]
pub fn derive(
    seed: u64,
    anchor: i64,
    t: &Tenant,
    initial_domain: &str,
    u: &UserRecord,
    index: u64,
    settings: Option<&MailboxSettings>,
    now: i64,
) -> Option<Mailbox> {
    // Guests have their mailbox in their home organisation.
    if u.user_type.eq_ignore_ascii_case("guest") {
        return None;
    }
    let key = [seed, t.idx as u64, words(u.id)];
    let h = |salt: u64| hash(&[key[0], key[1], key[2], salt]);
    let cap = exchange_capability(u);
    let kind = match cap {
        Some(_) => MailboxKind::User,
        None if !u.account_enabled && u.licences.is_empty() && unit(h(0xE0)) < 0.5 => match unit(h(0xE1)) {
            x if x < 0.60 => MailboxKind::Shared,
            x if x < 0.85 => MailboxKind::Room,
            _ => MailboxKind::Equipment,
        },
        None => return None,
    };
    let mut rng = Rng::new(&[key[0], key[1], key[2], 0xE2]);
    let upn = u.user_principal_name.clone();
    let alias = u.mail_nickname.clone();
    let mut email_addresses = vec![format!("SMTP:{upn}")];
    let onms = format!("{alias}@{initial_domain}");
    if !onms.eq_ignore_ascii_case(&upn) {
        email_addresses.push(format!("smtp:{onms}"));
    }
    if kind == MailboxKind::User {
        email_addresses.push(format!("SIP:{upn}"));
    }
    let archive = kind == MailboxKind::User && rng.chance(0.25);
    let hold = kind == MailboxKind::User && rng.chance(0.08);
    let hidden = rng.chance(if kind == MailboxKind::User { 0.02 } else { 0.3 });
    let forwarding = kind == MailboxKind::User && rng.chance(0.03);
    let ext = EXTERNAL_DOMAINS[rng.below(EXTERNAL_DOMAINS.len() as u64) as usize];
    let keep_copy = rng.chance(0.5);
    let limit = match cap {
        Some("BPOS_S_Enterprise") => 100 * GB,
        Some("BPOS_S_Deskless") => 2 * GB,
        _ => 50 * GB,
    };
    let when_created = u.created + rng.range(60, 3600) as i64;
    let life = (now - when_created).max(0);
    // Activity: 7% never used, 15% stale (last action 45–700 days ago), the rest active.
    let class = unit(h(0xE3));
    let age = |rng: &mut Rng, lo: i64, hi: i64| -> i64 { lo * DAY + rng.below(((hi - lo) * DAY).max(1) as u64) as i64 };
    let (last_action, last_logon) = if class < 0.07 || life < DAY {
        (None, None)
    } else if class < 0.22 {
        let a = age(&mut rng, 45, 700).min(life);
        // LastLogonTime is unreliable: 40% of stale mailboxes show a recent logon.
        let l = if rng.chance(0.4) {
            age(&mut rng, 0, 5)
        } else {
            a - rng.below(3600) as i64
        };
        (Some(now - a), Some(now - l.min(life)))
    } else {
        let a = age(&mut rng, 0, 20).min(life);
        (Some(now - a), Some(now - (a - rng.below(7200) as i64).max(0)))
    };
    let used = last_action.is_some();
    let total_item_bytes = if !used {
        if rng.chance(0.3) {
            0
        } else {
            rng.range(4_096, 400_000)
        }
    } else {
        let share = rng.unit().powi(3) * if kind == MailboxKind::User { 0.7 } else { 0.2 };
        (limit as f64 * share) as u64 + rng.range(1 << 20, 64 << 20)
    };
    let item_count = total_item_bytes / rng.range(40_000, 120_000);
    let total_deleted_item_bytes = total_item_bytes / rng.range(12, 60);
    let deleted_item_count = item_count / rng.range(12, 60);
    let (archive_item_count, archive_bytes) = if archive {
        let b = (rng.unit().powi(2) * 20.0 * GB as f64) as u64;
        (b / 90_000, b)
    } else {
        (0, 0)
    };
    let last_interaction = last_action.map(|a| (a + rng.below(3 * DAY as u64) as i64).min(now));
    let last_logoff = last_logon.map(|l| (l + rng.range(300, 7200) as i64).min(now));
    let hold_after = rng.range(DAY as u64, 400 * DAY as u64) as i64;
    let mut m = Mailbox {
        user_id: u.id,
        user_index: index,
        kind,
        user_principal_name: upn.clone(),
        display_name: u.display_name.clone(),
        alias: alias.clone(),
        name: alias,
        primary_smtp_address: upn,
        email_addresses,
        guid: Guid::from_parts(&[key[0], key[1], key[2], 0xE4]),
        exchange_guid: Guid::from_parts(&[key[0], key[1], key[2], 0xE5]),
        archive_guid: archive.then(|| Guid::from_parts(&[key[0], key[1], key[2], 0xE6])),
        // Placed on hold some days after creation, not after the fleet's anchor: fixed.
        litigation_hold: hold.then(|| (when_created + hold_after).min(anchor).max(when_created)),
        hidden_from_address_lists: hidden,
        forwarding_smtp_address: forwarding.then(|| format!("smtp:{}@{ext}", u.mail_nickname)),
        forwarding_address: None,
        deliver_to_mailbox_and_forward: forwarding && keep_copy,
        prohibit_send_quota: Quota::Bytes(limit / 100 * 99),
        prohibit_send_receive_quota: Quota::Bytes(limit),
        issue_warning_quota: Quota::Bytes(limit / 100 * 98),
        when_created,
        persisted_capabilities: cap.into_iter().collect(),
        account_disabled: !u.account_enabled,
        activity: MailboxActivity {
            item_count,
            deleted_item_count,
            total_item_bytes,
            total_deleted_item_bytes,
            last_user_action: last_action,
            last_interaction,
            last_logon,
            last_logoff,
            archive_item_count,
            archive_bytes,
        },
    };
    if let Some(s) = settings {
        apply(&mut m, s);
    }
    Some(m)
}

/// Applies Set-Mailbox changes to a derived mailbox.
pub fn apply(m: &mut Mailbox, s: &MailboxSettings) {
    if let Some(v) = &s.forwarding_smtp_address {
        m.forwarding_smtp_address = v.clone();
    }
    if let Some(v) = &s.forwarding_address {
        m.forwarding_address = v.clone();
    }
    if let Some(v) = s.deliver_to_mailbox_and_forward {
        m.deliver_to_mailbox_and_forward = v;
    }
    if let Some(v) = s.hidden_from_address_lists {
        m.hidden_from_address_lists = v;
    }
    if let Some(v) = s.prohibit_send_quota {
        m.prohibit_send_quota = v;
    }
    if let Some(v) = s.prohibit_send_receive_quota {
        m.prohibit_send_receive_quota = v;
    }
    if let Some(v) = s.issue_warning_quota {
        m.issue_warning_quota = v;
    }
}

impl TenantView<'_> {
    /// The tenant's initial (`*.onmicrosoft.com`) domain.
    fn initial_domain(&self) -> String {
        self.t.initial_domain.clone()
    }

    /// The mailbox of one user, as derived plus Set-Mailbox changes.
    pub fn mailbox_of(&self, u: &UserRecord, index: u64, now: i64) -> Option<Mailbox> {
        derive(
            self.fleet.config.seed,
            self.fleet.config.anchor,
            self.t,
            &self.initial_domain(),
            u,
            index,
            self.o.mailboxes.get(&u.id),
            now,
        )
    }

    /// Every mailbox of the tenant, in user order (computed now; O(users)).
    pub fn mailboxes(&self, now: i64) -> Vec<Mailbox> {
        self.users()
            .filter_map(|v| self.mailbox_of(&v.user, v.index, now))
            .collect()
    }

    /// The mailbox `key` names (see [`Mailbox::answers_to`]): by object id or UPN first (O(1)
    /// for generated users), then a scan.
    pub fn find_mailbox(&self, key: &str, now: i64) -> Option<Mailbox> {
        let mut v = self.find_mailboxes(key, now);
        (v.len() == 1).then(|| v.remove(0))
    }

    /// Every mailbox `key` names: one for a unique identity, several for an ambiguous one
    /// (two mailboxes with the same display name), none when nothing matches.
    pub fn find_mailboxes(&self, key: &str, now: i64) -> Vec<Mailbox> {
        let k = key.trim();
        let k = k.strip_prefix("smtp:").or_else(|| k.strip_prefix("SMTP:")).unwrap_or(k);
        if let Some(v) = self.user(k) {
            if let Some(m) = self.mailbox_of(&v.user, v.index, now) {
                return vec![m];
            }
        }
        self.users()
            .filter_map(|v| self.mailbox_of(&v.user, v.index, now))
            .filter(|m| m.answers_to(k))
            .collect()
    }

    /// Permissions granted on `mailbox` (a user object id) with Add-MailboxPermission.
    pub fn mailbox_permissions(&self, mailbox: Guid) -> Vec<MailboxPermission> {
        self.o
            .mailbox_permissions
            .iter()
            .filter(|p| p.mailbox == mailbox)
            .cloned()
            .collect()
    }
}

impl World {
    /// The tenant's mailboxes now (ground truth for tests: type, UPN, statistics).
    pub fn mailboxes(&self, t: &Tenant, now: i64) -> Vec<Mailbox> {
        self.tenant(t).mailboxes(now)
    }

    /// Records a Set-Mailbox change on the mailbox of user `user_id`.
    pub fn set_mailbox(&self, t: &Tenant, user_id: Guid, change: MailboxSettings) -> Result<(), WorldError> {
        let mut o = self.overlays[t.idx as usize].write();
        o.mailboxes.entry(user_id).or_default().merge(change);
        drop(o);
        self.changed();
        Ok(())
    }

    /// Adds (or widens) a mailbox permission.
    pub fn add_mailbox_permission(&self, t: &Tenant, p: MailboxPermission) {
        let mut o = self.overlays[t.idx as usize].write();
        match o
            .mailbox_permissions
            .iter_mut()
            .find(|x| x.mailbox == p.mailbox && x.user.eq_ignore_ascii_case(&p.user))
        {
            Some(x) => {
                for r in p.access_rights {
                    if !x.access_rights.iter().any(|a| a.eq_ignore_ascii_case(&r)) {
                        x.access_rights.push(r);
                    }
                }
                x.inheritance_type = p.inheritance_type;
                x.auto_mapping = p.auto_mapping;
            }
            None => o.mailbox_permissions.push(p),
        }
        drop(o);
        self.changed();
    }
}

impl crate::state::Sim {
    /// Ground truth for tests: the mailboxes of tenant `key` (GUID or any of its domains) as
    /// Exchange shows them now (the simulator's clock), in Get-Mailbox order. Empty for an
    /// unknown tenant. Stale rule: [`Mailbox::is_stale`].
    pub fn exchange_mailboxes(&self, key: &str) -> Vec<Mailbox> {
        match self.fleet.find_tenant(key) {
            Some(t) => self.world.mailboxes(t, self.clock.now_unix()),
            None => vec![],
        }
    }

    /// The mailboxes of tenant `key` stale for `days` days now (see [`Mailbox::is_stale`]).
    pub fn exchange_stale_mailboxes(&self, key: &str, days: i64) -> Vec<Mailbox> {
        let now = self.clock.now_unix();
        let mut v = self.exchange_mailboxes(key);
        v.retain(|m| m.is_stale(now, days));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_quantified_size_text_matches_the_real_values_of_contract_1_7() {
        // Petri 2018 / Exchange output, contract §1.7.
        assert_eq!(byte_quantified(0), "0 B (0 bytes)");
        assert_eq!(byte_quantified(884_736), "864 KB (884,736 bytes)");
        assert_eq!(byte_quantified(2_752_512), "2.625 MB (2,752,512 bytes)");
        assert_eq!(byte_quantified(4_947_968), "4.719 MB (4,947,968 bytes)");
        assert_eq!(byte_quantified(1_032_552_448), "984.7 MB (1,032,552,448 bytes)");
        assert_eq!(byte_quantified(6_512_255_010), "6.065 GB (6,512,255,010 bytes)");
        assert_eq!(byte_quantified(136_304_982), "130 MB (136,304,982 bytes)");
        // CIPP's own example string.
        assert_eq!(byte_quantified(3_402), "3.322 KB (3,402 bytes)");
        assert_eq!(byte_quantified(106_300_440_576), "99 GB (106,300,440,576 bytes)");
        assert_eq!(byte_quantified(1023), "1023 B (1,023 bytes)");
    }

    #[test]
    fn a_mailbox_is_the_same_later_only_its_activity_times_move_with_the_clock() {
        use crate::fleet::{Fleet, FleetConfig};
        let mut c = FleetConfig::new(4, 3);
        c.users_per_tenant = Some(80);
        c.anchor = 1_764_028_800;
        let world = World::new(std::sync::Arc::new(Fleet::generate(c)));
        let now = 1_764_028_800 + 3600;
        let all = |now| -> Vec<Mailbox> {
            world
                .fleet
                .customers()
                .iter()
                .flat_map(|t| world.mailboxes(t, now))
                .collect()
        };
        let (a, b) = (all(now), all(now + 1000));
        assert_eq!(a.len(), b.len());
        assert!(a.iter().any(|m| m.litigation_hold.is_some()), "{} mailboxes", a.len());
        for (x, y) in a.iter().zip(&b) {
            // Activity moves with the clock, except where it is held at the mailbox's creation.
            let moved = |a: Option<i64>, b: Option<i64>| match (a, b) {
                (None, None) => true,
                (Some(a), Some(b)) => b == a + 1000 || (b == a && a <= x.when_created + 7200),
                _ => false,
            };
            assert!(moved(x.activity.last_user_action, y.activity.last_user_action));
            assert!(moved(x.activity.last_logon, y.activity.last_logon));
            let (mut x, mut y) = (x.clone(), y.clone());
            x.activity = y.activity.clone();
            y.activity = x.activity.clone();
            assert_eq!(x, y);
        }
    }

    #[test]
    fn quotas_parse_in_the_forms_set_mailbox_accepts() {
        assert_eq!(Quota::parse("Unlimited"), Some(Quota::Unlimited));
        assert_eq!(Quota::parse("99 GB"), Some(Quota::Bytes(99 * GB)));
        assert_eq!(Quota::parse("49.5GB"), Some(Quota::Bytes(53_150_220_288)));
        assert_eq!(Quota::parse("1024"), Some(Quota::Bytes(1024)));
        assert_eq!(
            Quota::parse("99 GB (106,300,440,576 bytes)"),
            Some(Quota::Bytes(106_300_440_576))
        );
        assert_eq!(Quota::parse("lots"), None);
        assert_eq!(Quota::parse("12 XB"), None);
        assert_eq!(Quota::parse("-1 GB"), None);
    }
}
