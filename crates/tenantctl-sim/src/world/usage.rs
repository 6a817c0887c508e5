//! Microsoft 365 usage as the usage reports see it: per-user, per-service, per-day activity
//! derived on demand (never materialised for the fleet) from (seed, tenant, user id, day) plus
//! the overlay and the user's mailbox (`mailboxes.rs`). Graph's report functions
//! (`services/graph/reports/`) are views of these rules; tests and the client engineer rely on
//! them.
//!
//! Ground truth (all `[I]`: Microsoft does not publish its pipeline):
//!
//! * **Refresh date** = the simulator clock's UTC day minus [`REFRESH_LAG_DAYS`] (2): reports
//!   lag about 48 hours. A `period='Dn'` report covers the `n` days ending at the refresh date;
//!   a `date=D` report covers the single day `D` (allowed from today − 30 days up to the refresh
//!   date).
//! * **Who is listed**: the tenant's users *now* (created users included, at once) and users
//!   deleted by writes within the period (deletion day > refresh date − n), shown with
//!   `Is Deleted` `True` and `Deleted Date` = the UTC day of the deletion.
//! * **Licences** come from the service plans of the user's SKUs, minus disabled plans:
//!   Exchange = an Exchange Online mailbox plan (`EXCHANGE_S_STANDARD|ENTERPRISE|DESKLESS`),
//!   OneDrive = `SHAREPOINTSTANDARD|SHAREPOINTENTERPRISE|SHAREPOINTDESKLESS|ONEDRIVESTANDARD`,
//!   SharePoint = `SHAREPOINTSTANDARD|SHAREPOINTENTERPRISE|SHAREPOINTDESKLESS`,
//!   Skype = `MCOSTANDARD`, Yammer = `YAMMER_ENTERPRISE`, Teams = `TEAMS1`. A licence's assign
//!   date is the user's creation day. `Assigned Products` = the SKUs' product names upper-cased,
//!   joined with `+`, in licence order.
//! * **Activity**: a licensed user is active in a service on day `d` when `d` is on or after the
//!   user's creation day, on or before the service's *stop day*, and a per-day draw
//!   `unit(hash(seed, tenant, user, service, d)) < rate` succeeds (`rate` 0.3–0.9 per user and
//!   service). Stop day: for Exchange, the UTC day of the mailbox's `LastUserActionTime`
//!   (`Get-MailboxStatistics`), which is always an active day — so the mailbox report's
//!   `Last Activity Date` is that day whenever it is on or before the refresh date; a mailbox
//!   never used has no activity. For the other services, 15% of users stopped 10–300 days
//!   before the fleet's anchor, disabled accounts 30–400 days before it; the rest never stop.
//! * **Last Activity Date** = the latest active day ≤ the report's last day (searched back
//!   [`LOOKBACK_DAYS`] from the earlier of that day and the stop day); empty when none.
//! * **Counts reports** have one row per day of the period, newest first: each day's count is
//!   the number of listed users active that day (Office 365 = active in any service); a
//!   mailbox counts in `Total` on day `d` when it exists then (created on or before `d`, not
//!   deleted yet); `Storage Used` on `d` is the sum of those mailboxes' storage, scaled down by
//!   0.1% per day before the refresh date.
//! * Per-day amounts (mails sent/received/read, Teams messages, files) are draws of the same
//!   hash on active days only; the detail reports' counts are their sums over the period.

use super::fleet::Tenant;
use super::mailboxes::Mailbox;
use super::model::UserRecord;
use crate::ids::{hash, unit, Guid};
use crate::skus::Catalog;
use std::collections::HashMap;
use std::sync::OnceLock;

pub const DAY: i64 = 86_400;
/// How far the report refresh date trails the clock's day.
pub const REFRESH_LAG_DAYS: i64 = 2;
/// How far back a Last Activity Date is searched.
pub const LOOKBACK_DAYS: i64 = 400;

/// The services of the active-users report, in its column order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Exchange = 0,
    OneDrive = 1,
    SharePoint = 2,
    Skype = 3,
    Yammer = 4,
    Teams = 5,
}

pub const SERVICES: [Service; 6] = [
    Service::Exchange,
    Service::OneDrive,
    Service::SharePoint,
    Service::Skype,
    Service::Yammer,
    Service::Teams,
];

/// UTC day number of a Unix time.
pub fn day_of(unix: i64) -> i64 {
    unix.div_euclid(DAY)
}

/// The report refresh day for clock time `now`.
pub fn refresh_day(now: i64) -> i64 {
    day_of(now) - REFRESH_LAG_DAYS
}

/// `YYYY-MM-DD` of a day number.
pub fn ymd(day: i64) -> String {
    let d = time::OffsetDateTime::from_unix_timestamp(day * DAY).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

/// Parses `YYYY-MM-DD` into a day number.
pub fn parse_ymd(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i32 = s[0..4].parse().ok()?;
    let m: u8 = s[5..7].parse().ok()?;
    let d: u8 = s[8..10].parse().ok()?;
    let date = time::Date::from_calendar_date(y, time::Month::try_from(m).ok()?, d).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp().div_euclid(DAY))
}

/// The days a report covers: `last - days + 1 ..= last`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub last: i64,
    pub days: i64,
}

impl Window {
    pub fn first(&self) -> i64 {
        self.last - self.days + 1
    }
    pub fn contains(&self, d: i64) -> bool {
        d >= self.first() && d <= self.last
    }
}

fn plan_service(name: &str) -> &'static [Service] {
    use Service::*;
    match name {
        "EXCHANGE_S_STANDARD" | "EXCHANGE_S_ENTERPRISE" | "EXCHANGE_S_DESKLESS" => &[Exchange],
        "SHAREPOINTSTANDARD" | "SHAREPOINTENTERPRISE" | "SHAREPOINTDESKLESS" => &[OneDrive, SharePoint],
        "ONEDRIVESTANDARD" => &[OneDrive],
        "MCOSTANDARD" => &[Skype],
        "YAMMER_ENTERPRISE" => &[Yammer],
        "TEAMS1" => &[Teams],
        _ => &[],
    }
}

struct SkuInfo {
    /// (plan id, services it licenses)
    plans: Vec<(Guid, &'static [Service])>,
    /// Plans of Microsoft 365 Apps (activations report): (plan id, product type).
    office: Vec<(Guid, &'static str)>,
    product: String,
}

fn sku_info() -> &'static HashMap<Guid, SkuInfo> {
    static M: OnceLock<HashMap<Guid, SkuInfo>> = OnceLock::new();
    M.get_or_init(|| {
        Catalog::get()
            .skus
            .iter()
            .map(|s| {
                let plans = s
                    .plans
                    .iter()
                    .map(|p| (p.id, plan_service(&p.name)))
                    .filter(|(_, v)| !v.is_empty())
                    .collect();
                let office = s
                    .plans
                    .iter()
                    .filter_map(|p| match p.name.as_str() {
                        "OFFICESUBSCRIPTION" => Some((p.id, "MICROSOFT 365 APPS FOR ENTERPRISE")),
                        "OFFICE_BUSINESS" => Some((p.id, "MICROSOFT 365 APPS FOR BUSINESS")),
                        _ => None,
                    })
                    .collect();
                (
                    s.id,
                    SkuInfo {
                        plans,
                        office,
                        product: s.display_name.to_uppercase(),
                    },
                )
            })
            .collect()
    })
}

/// Which services the user is licensed for (enabled plans of held SKUs), by [`Service`] index.
pub fn licensed(u: &UserRecord) -> [bool; 6] {
    let info = sku_info();
    let mut out = [false; 6];
    for l in &u.licences {
        for (id, svcs) in info.get(&l.sku_id).map(|s| s.plans.as_slice()).unwrap_or(&[]) {
            if !l.disabled_plans.contains(id) {
                for s in *svcs {
                    out[*s as usize] = true;
                }
            }
        }
    }
    out
}

/// `Assigned Products`: the product names upper-cased, joined with `+`.
pub fn assigned_products(u: &UserRecord) -> String {
    let info = sku_info();
    let names: Vec<&str> = u
        .licences
        .iter()
        .filter_map(|l| info.get(&l.sku_id).map(|s| s.product.as_str()))
        .collect();
    names.join("+")
}

/// Microsoft 365 Apps products the user holds (activations report).
pub fn office_products(u: &UserRecord) -> Vec<&'static str> {
    let info = sku_info();
    let mut out = vec![];
    for l in &u.licences {
        for (id, p) in info.get(&l.sku_id).map(|s| s.office.as_slice()).unwrap_or(&[]) {
            if !l.disabled_plans.contains(id) && !out.contains(p) {
                out.push(*p);
            }
        }
    }
    out
}

/// A 64-bit key of a GUID.
pub fn words(g: Guid) -> u64 {
    let b = g.0;
    u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
        ^ u64::from_le_bytes([b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]]).rotate_left(29)
}

/// What Graph prints instead of a name when reports conceal names: 32 upper-case hex digits,
/// stable per (tenant, object, which field).
pub fn concealed(tenant: Guid, object: Guid, field: u64) -> String {
    let a = hash(&[words(tenant), words(object), field, 0xC0C]);
    let b = hash(&[a, field, 0xC0D]);
    format!("{a:016X}{b:016X}")
}

/// One user's activity model (see the module rules).
pub struct Activity {
    key: [u64; 3],
    lic: [bool; 6],
    start: [i64; 6],
    stop: [i64; 6],
    rate: [f64; 6],
    /// The Exchange stop day is always active.
    exchange_last: Option<i64>,
}

impl Activity {
    /// The model of user `u` of tenant `t`; `mailbox` is its mailbox now (if any).
    pub fn new(seed: u64, anchor: i64, t: &Tenant, u: &UserRecord, mailbox: Option<&Mailbox>) -> Activity {
        let key = [seed, t.idx as u64, words(u.id)];
        let h = |a: u64, b: u64| hash(&[key[0], key[1], key[2], a, b]);
        let mut lic = licensed(u);
        let created = day_of(u.created);
        let anchor_day = day_of(anchor);
        let mut start = [created; 6];
        let mut stop = [i64::MAX; 6];
        let mut rate = [0.0; 6];
        for s in SERVICES {
            let i = s as usize;
            rate[i] = 0.3 + 0.6 * unit(h(i as u64, 0xA1));
            let r = unit(h(i as u64, 0xA2));
            let back = |lo: i64, hi: i64| lo + (h(i as u64, 0xA3) % (hi - lo + 1) as u64) as i64;
            if !u.account_enabled {
                stop[i] = anchor_day - back(30, 400);
            } else if r < 0.15 {
                stop[i] = anchor_day - back(10, 300);
            }
        }
        // Exchange follows the mailbox (Get-MailboxStatistics' LastUserActionTime).
        let ex = Service::Exchange as usize;
        let exchange_last = mailbox.and_then(|m| m.activity.last_user_action).map(day_of);
        match (mailbox, exchange_last) {
            (Some(m), Some(last)) => {
                start[ex] = day_of(m.when_created);
                stop[ex] = last;
                lic[ex] = lic[ex] || m.kind != super::mailboxes::MailboxKind::User;
            }
            _ => stop[ex] = i64::MIN,
        }
        Activity {
            key,
            lic,
            start,
            stop,
            rate,
            exchange_last,
        }
    }

    pub fn licensed(&self, s: Service) -> bool {
        self.lic[s as usize]
    }

    /// A per-(service, day) hash for amounts.
    pub fn draw(&self, s: Service, day: i64, salt: u64) -> u64 {
        hash(&[self.key[0], self.key[1], self.key[2], s as u64, day as u64, salt])
    }

    /// Whether the user was active in service `s` on day `day`.
    pub fn active(&self, s: Service, day: i64) -> bool {
        let i = s as usize;
        let exchange = s == Service::Exchange;
        if !(self.lic[i] || exchange) || day < self.start[i] || day > self.stop[i] {
            return false;
        }
        if exchange && Some(day) == self.exchange_last {
            return true;
        }
        unit(self.draw(s, day, 0xAC7)) < self.rate[i]
    }

    /// The latest active day on or before `upto`.
    pub fn last_active(&self, s: Service, upto: i64) -> Option<i64> {
        let i = s as usize;
        if !(self.lic[i] || s == Service::Exchange) || self.stop[i] < self.start[i] {
            return None;
        }
        let from = upto.min(self.stop[i]);
        let to = self.start[i].max(from.saturating_sub(LOOKBACK_DAYS));
        (to..=from).rev().find(|&d| self.active(s, d))
    }

    /// Active days of `s` within `w`.
    pub fn active_days(&self, s: Service, w: Window) -> impl Iterator<Item = i64> + '_ {
        let i = s as usize;
        let lo = w.first().max(self.start[i]);
        let hi = w.last.min(self.stop[i]);
        (lo..=hi).filter(move |&d| self.active(s, d))
    }

    /// Mail on one active day: (sent, received, read, meetings created, meetings interacted).
    pub fn email_day(&self, day: i64) -> [u64; 5] {
        let h = self.draw(Service::Exchange, day, 0xE1);
        let received = 2 + h % 40;
        [
            (h >> 8) % 12,
            received,
            1 + (h >> 16) % received,
            u64::from((h >> 24) % 10 == 0),
            (h >> 28) % 4,
        ]
    }

    /// Email counts over the window (sums of [`Activity::email_day`]).
    pub fn email(&self, w: Window) -> [u64; 5] {
        let mut out = [0u64; 5];
        for d in self.active_days(Service::Exchange, w) {
            for (o, v) in out.iter_mut().zip(self.email_day(d)) {
                *o += v;
            }
        }
        out
    }
}

/// Teams amounts over a window, in the report's column order from Team Chat Message Count to
/// Scheduled Recurring Meetings Attended Count, then audio/video/screen-share seconds.
pub fn teams(a: &Activity, w: Window) -> [u64; 17] {
    let mut o = [0u64; 17];
    for d in a.active_days(Service::Teams, w) {
        let h = a.draw(Service::Teams, d, 0x7E);
        let g = a.draw(Service::Teams, d, 0x7F);
        let adhoc_org = u64::from(h % 7 == 0);
        let adhoc_att = (h >> 3) % 2;
        let once_org = u64::from((h >> 5) % 9 == 0);
        let once_att = (h >> 9) % 2;
        let rec_org = u64::from((h >> 11) % 11 == 0);
        let rec_att = (h >> 15) % 3;
        let attended = adhoc_att + once_att + rec_att;
        let organized = adhoc_org + once_org + rec_org;
        let day = [
            (g % 15),                       // team chat
            (g >> 4) % 30,                  // private chat
            (g >> 9) % 3,                   // calls
            attended,                       // meetings
            (g >> 12) % 3,                  // posts
            (g >> 14) % 5,                  // replies
            u64::from((g >> 17) % 25 == 0), // urgent
            organized,
            attended,
            adhoc_org,
            adhoc_att,
            once_org,
            once_att,
            rec_org,
            rec_att,
        ];
        for (x, v) in o.iter_mut().zip(day) {
            *x += v;
        }
        let talk = attended * (600 + (g >> 20) % 2400) + (g >> 9) % 3 * 300;
        o[15] += talk; // audio (the video and screen-share shares follow)
        o[16] += talk / 3;
    }
    o
}

/// OneDrive figures of one user: (file count, active files in the window, bytes used).
pub fn onedrive(a: &Activity, w: Window) -> (u64, u64, u64) {
    let h = a.draw(Service::OneDrive, 0, 0x0D);
    let files = if a.licensed(Service::OneDrive) { h % 2500 } else { 0 };
    let bytes = files * (40_000 + (h >> 20) % 900_000);
    let active: u64 = a
        .active_days(Service::OneDrive, w)
        .map(|d| 1 + a.draw(Service::OneDrive, d, 0x0E) % 6)
        .sum();
    (files, active.min(files), bytes)
}

/// A SharePoint site of a tenant (a few per tenant, derived).
#[derive(Clone, Debug)]
pub struct Site {
    pub id: Guid,
    pub url: String,
    /// Site title: owner display name is `"{title} Owners"` for group sites.
    pub title: String,
    pub template: &'static str,
    /// Owner: a user slot of the tenant (its UPN is rendered).
    pub owner_slot: u64,
    pub created_day: i64,
    key: u64,
}

const SITE_NAMES: &[&str] = &[
    "Finance",
    "Marketing",
    "Operations",
    "HR",
    "Projects",
    "Sales",
    "Leadership",
    "IT",
    "Legal",
    "Clients",
];

/// The tenant's SharePoint sites: the root site plus 2–7 team or communication sites.
pub fn sites(seed: u64, t: &Tenant, slots: u64) -> Vec<Site> {
    let slug = slug(t);
    let n = 2 + hash(&[seed, t.idx as u64, 0x5175]) % 6;
    let mut out = Vec::new();
    for k in 0..=n {
        let key = hash(&[seed, t.idx as u64, 0x5176, k]);
        let (url, title, template) = if k == 0 {
            (
                format!("https://{slug}.sharepoint.com/"),
                "Communication site".to_owned(),
                "Communication Site",
            )
        } else {
            let name = SITE_NAMES[((key >> 8) % SITE_NAMES.len() as u64) as usize];
            let name = format!(
                "{name}{}",
                if k > SITE_NAMES.len() as u64 {
                    k.to_string()
                } else {
                    String::new()
                }
            );
            let template = match key % 3 {
                0 => "Communication Site",
                _ => "Group",
            };
            (
                format!("https://{slug}.sharepoint.com/sites/{name}-{k}"),
                format!("{name} {k}"),
                template,
            )
        };
        out.push(Site {
            id: Guid::from_parts(&[seed, t.idx as u64, 0x5177, k]),
            url,
            title,
            template,
            owner_slot: if slots == 0 { 0 } else { (key >> 16) % slots },
            created_day: day_of(t.created) + (key >> 24) as i64 % 400,
            key,
        });
    }
    out
}

impl Site {
    pub fn active(&self, day: i64) -> bool {
        day >= self.created_day && unit(hash(&[self.key, day as u64, 0xA5])) < 0.6
    }
    pub fn last_active(&self, upto: i64) -> Option<i64> {
        let to = self.created_day.max(upto - LOOKBACK_DAYS);
        (to..=upto).rev().find(|&d| self.active(d))
    }
    /// (files, active files in window, page views, visited pages, bytes used).
    pub fn figures(&self, w: Window) -> (u64, u64, u64, u64, u64) {
        let files = 20 + self.key % 5000;
        let mut active = 0;
        let mut views = 0;
        let mut visited = 0;
        for d in w.first()..=w.last {
            if self.active(d) {
                let h = hash(&[self.key, d as u64, 0xA6]);
                active += 1 + h % 20;
                views += 1 + (h >> 8) % 60;
                visited += 1 + (h >> 16) % 10;
            }
        }
        (
            files,
            active.min(files),
            views,
            visited,
            files * (60_000 + (self.key >> 32) % 2_000_000),
        )
    }
}

/// The tenant's SharePoint name: its `*.onmicrosoft.com` prefix.
pub fn slug(t: &Tenant) -> String {
    t.initial_domain
        .split('.')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// A user's OneDrive URL: `https://{slug}-my.sharepoint.com/personal/{upn with . and @ as _}`.
pub fn onedrive_url(t: &Tenant, upn: &str) -> String {
    let path: String = upn
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c == '.' || c == '@' { '_' } else { c })
        .collect();
    format!("https://{}-my.sharepoint.com/personal/{path}", slug(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(ymd(parse_ymd("2026-11-30").unwrap()), "2026-11-30");
        assert_eq!(parse_ymd("2026-02-30"), None);
        assert_eq!(parse_ymd("26-11-30"), None);
        assert_eq!(refresh_day(1_764_028_800 + 3600), day_of(1_764_028_800) - 2);
    }

    #[test]
    fn concealed_names_are_32_upper_hex_digits_and_stable() {
        let t = Guid::from_parts(&[1]);
        let u = Guid::from_parts(&[2]);
        let c = concealed(t, u, 1);
        assert_eq!(c.len(), 32);
        assert!(c.chars().all(|x| x.is_ascii_digit() || ('A'..='F').contains(&x)));
        assert_eq!(c, concealed(t, u, 1));
        assert_ne!(c, concealed(t, u, 2));
    }
}
