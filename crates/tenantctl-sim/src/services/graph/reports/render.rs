//! CSV writing of the usage reports: UTF-8 with a byte-order mark, the documented header line,
//! RFC 4180 quoting, CRLF line ends [I], dates `YYYY-MM-DD`, booleans `True`/`False`, empty
//! cells for null (contract §2.2). Per-user reports are rendered in chunks of user slots, so a
//! download streams and never holds a large tenant's CSV (or its lock) at once.
//!
//! The data rules are those of `world/usage.rs`.

use super::catalog::{Kind, Spec};
use crate::fleet::Tenant;
use crate::state::Sim;
use crate::world::mailboxes::{Mailbox, Quota};
use crate::world::model::UserRecord;
use crate::world::usage::{self, concealed, ymd, Activity, Service, Window, SERVICES};
use crate::world::TenantView;

/// The UTF-8 byte-order mark every report starts with.
pub const BOM: &str = "\u{feff}";
/// User slots rendered per streamed chunk.
pub const CHUNK: u64 = 256;
/// OneDrive's default storage per user: 1 TB [I].
const ONEDRIVE_ALLOCATED: u64 = 1 << 40;
/// A SharePoint site's storage allocation: 25 TB [I].
const SITE_ALLOCATED: u64 = 25 << 40;
/// Recoverable Items quota: 30 GB, 100 GB on hold [I: Exchange Online limits].
const DELETED_ITEM_QUOTA: u64 = 30 << 30;
const DELETED_ITEM_QUOTA_HOLD: u64 = 100 << 30;

/// Field numbers of the concealed-name hash.
const F_UPN: u64 = 1;
const F_NAME: u64 = 2;
const F_ONEDRIVE: u64 = 3;
const F_SITE_URL: u64 = 4;
const F_SITE_OWNER: u64 = 5;

/// One report to render: what, for whom, over which days, concealed or not.
#[derive(Clone, Debug)]
pub struct Job {
    pub tenant: u32,
    pub spec: &'static Spec,
    pub window: Window,
    /// The report refresh day (`Report Refresh Date`).
    pub refresh: i64,
    /// The `Report Period` cell: the day count (`1` for a `date=` report [I]).
    pub period: String,
    pub concealed: bool,
    /// The file's entity tag (`ETag`, `If-None-Match`).
    pub etag: String,
}

/// One row source of a per-user report.
struct Entry {
    index: u64,
    user: UserRecord,
    /// Deletion time when deleted.
    deleted: Option<i64>,
}

fn b(v: bool) -> &'static str {
    if v {
        "True"
    } else {
        "False"
    }
}

fn opt_day(d: Option<i64>) -> String {
    d.map(ymd).unwrap_or_default()
}

fn quota(q: Quota) -> String {
    match q {
        Quota::Bytes(n) => n.to_string(),
        Quota::Unlimited => String::new(),
    }
}

/// An ISO 8601 duration: `PT1H2M3S`, `PT0S` [I].
fn duration(secs: u64) -> String {
    if secs == 0 {
        return "PT0S".into();
    }
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::from("PT");
    if h > 0 {
        out.push_str(&format!("{h}H"));
    }
    if m > 0 {
        out.push_str(&format!("{m}M"));
    }
    if s > 0 {
        out.push_str(&format!("{s}S"));
    }
    out
}

/// Appends one CSV line (RFC 4180 quoting) ending in CRLF.
pub fn line<S: AsRef<str>>(out: &mut String, cells: &[S]) {
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let c = c.as_ref();
        if c.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&c.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(c);
        }
    }
    out.push_str("\r\n");
}

impl Job {
    fn t<'a>(&self, sim: &'a Sim) -> &'a Tenant {
        &sim.fleet.tenants[self.tenant as usize]
    }

    /// The BOM and the header line.
    pub fn header(&self) -> String {
        let mut s = String::from(BOM);
        line(&mut s, self.spec.columns);
        s
    }

    /// How many chunks [`Job::chunk`] renders (per-user reports: one per [`CHUNK`] slots).
    pub fn chunks(&self, sim: &Sim) -> u64 {
        if !self.spec.per_user() {
            return 1;
        }
        let v = sim.world.tenant(self.t(sim));
        let n = v.len() + v.deleted_users().len() as u64;
        n.div_ceil(CHUNK)
    }

    /// The whole CSV (the ground-truth control endpoint; tests).
    pub fn render_all(&self, sim: &Sim, now: i64) -> String {
        let mut s = self.header();
        for k in 0..self.chunks(sim) {
            s.push_str(&self.chunk(sim, k, now));
        }
        s
    }

    /// Chunk `k` of the body (after the header).
    pub fn chunk(&self, sim: &Sim, k: u64, now: i64) -> String {
        let t = self.t(sim);
        let view = sim.world.tenant(t);
        let mut out = String::new();
        if !self.spec.per_user() {
            if k == 0 {
                match self.spec.kind {
                    Kind::SharePointSiteUsageDetail => self.sharepoint(&view, &mut out),
                    _ => self.counts(&view, now, &mut out),
                }
            }
            return out;
        }
        let len = view.len();
        let deleted = view.deleted_users();
        let (lo, hi) = (k * CHUNK, ((k + 1) * CHUNK).min(len + deleted.len() as u64));
        for i in lo..hi {
            let e = if i < len {
                match view.user_at(i) {
                    Some(v) => Entry {
                        index: v.index,
                        user: v.user,
                        deleted: None,
                    },
                    None => continue,
                }
            } else {
                let d = &deleted[(i - len) as usize];
                if usage::day_of(d.deleted) < self.window.first() {
                    continue;
                }
                Entry {
                    index: d.index,
                    user: d.user.clone(),
                    deleted: Some(d.deleted),
                }
            };
            self.user_row(&view, &e, now, &mut out);
        }
        out
    }

    fn names(&self, t: &Tenant, u: &UserRecord) -> (String, String) {
        if self.concealed {
            (concealed(t.id, u.id, F_UPN), concealed(t.id, u.id, F_NAME))
        } else {
            (u.user_principal_name.clone(), u.display_name.clone())
        }
    }

    fn activity(&self, view: &TenantView<'_>, e: &Entry, now: i64) -> (Activity, Option<Mailbox>) {
        let (seed, anchor) = view.seed_anchor();
        let m = view.mailbox_of(&e.user, e.index, now);
        (Activity::new(seed, anchor, view.t, &e.user, m.as_ref()), m)
    }

    fn user_row(&self, view: &TenantView<'_>, e: &Entry, now: i64, out: &mut String) {
        let t = view.t;
        let w = self.window;
        let r = ymd(self.refresh);
        let (upn, name) = self.names(t, &e.user);
        let del = b(e.deleted.is_some());
        let del_date = opt_day(e.deleted.map(usage::day_of));
        let (a, m) = self.activity(view, e, now);
        let p = self.period.as_str();
        match self.spec.kind {
            Kind::ActiveUserDetail => {
                let created = usage::day_of(e.user.created);
                let mut cells: Vec<String> = vec![r, upn, name, del.into(), del_date];
                cells.extend(SERVICES.iter().map(|&s| b(a.licensed(s)).to_owned()));
                cells.extend(SERVICES.iter().map(|&s| opt_day(a.last_active(s, w.last))));
                cells.extend(
                    SERVICES
                        .iter()
                        .map(|&s| if a.licensed(s) { ymd(created) } else { String::new() }),
                );
                cells.push(usage::assigned_products(&e.user));
                line(out, &cells);
            }
            Kind::EmailActivityUserDetail => {
                if m.is_none() {
                    return;
                }
                let c = a.email(w);
                let mut cells = vec![
                    r,
                    upn,
                    name,
                    del.into(),
                    del_date,
                    opt_day(a.last_active(Service::Exchange, w.last)),
                ];
                cells.extend(c.iter().map(u64::to_string));
                cells.push(usage::assigned_products(&e.user));
                cells.push(p.into());
                line(out, &cells);
            }
            Kind::MailboxUsageDetail => {
                let Some(m) = m else { return };
                let s = &m.activity;
                line(
                    out,
                    &[
                        r,
                        upn,
                        name,
                        del.into(),
                        del_date,
                        ymd(usage::day_of(m.when_created)),
                        opt_day(a.last_active(Service::Exchange, w.last)),
                        s.item_count.to_string(),
                        s.total_item_bytes.to_string(),
                        quota(m.issue_warning_quota),
                        quota(m.prohibit_send_quota),
                        quota(m.prohibit_send_receive_quota),
                        s.deleted_item_count.to_string(),
                        s.total_deleted_item_bytes.to_string(),
                        if m.litigation_hold.is_some() {
                            DELETED_ITEM_QUOTA_HOLD
                        } else {
                            DELETED_ITEM_QUOTA
                        }
                        .to_string(),
                        b(m.archive_guid.is_some()).into(),
                        p.into(),
                    ],
                );
            }
            Kind::OneDriveUsageAccountDetail => {
                if !a.licensed(Service::OneDrive) {
                    return;
                }
                let url = if self.concealed {
                    concealed(t.id, e.user.id, F_ONEDRIVE)
                } else {
                    usage::onedrive_url(t, &e.user.user_principal_name)
                };
                let (files, active, bytes) = usage::onedrive(&a, w);
                line(
                    out,
                    &[
                        r,
                        url,
                        name,
                        del.into(),
                        opt_day(a.last_active(Service::OneDrive, w.last)),
                        files.to_string(),
                        active.to_string(),
                        bytes.to_string(),
                        ONEDRIVE_ALLOCATED.to_string(),
                        upn,
                        p.into(),
                    ],
                );
            }
            Kind::TeamsUserActivityUserDetail => {
                let x = usage::teams(&a, w);
                let licensed = a.licensed(Service::Teams);
                let user_id = if self.concealed {
                    upn.clone()
                } else {
                    e.user.id.to_string()
                };
                let (audio, video, screen) = (x[15], x[16], x[16] / 2);
                let mut cells = vec![
                    r,
                    t.display_name.clone(),
                    String::new(),
                    user_id,
                    upn,
                    opt_day(a.last_active(Service::Teams, w.last)),
                    del.into(),
                    del_date,
                    usage::assigned_products(&e.user),
                ];
                cells.extend(x[..15].iter().map(u64::to_string));
                cells.extend([duration(audio), duration(video), duration(screen)]);
                cells.extend([audio.to_string(), video.to_string(), screen.to_string()]);
                let other = x.iter().sum::<u64>() > 0 && a.draw(Service::Teams, 0, 0x0A) % 4 == 0;
                cells.push(if other { "Yes" } else { "No" }.into());
                cells.push(if licensed { "Yes" } else { "No" }.into());
                cells.push(p.into());
                line(out, &cells);
            }
            Kind::ActivationsUserDetail => {
                if e.deleted.is_some() {
                    return;
                }
                for (k, product) in usage::office_products(&e.user).into_iter().enumerate() {
                    let h = a.draw(Service::Exchange, -(k as i64) - 1, 0xAC);
                    let counts = [h % 4, (h >> 4) % 2, 0, (h >> 8) % 3, (h >> 12) % 3];
                    let any = counts.iter().sum::<u64>() > 0;
                    let activated = (usage::day_of(e.user.created) + ((h >> 16) % 20) as i64).min(self.refresh);
                    let mut cells = vec![r.clone(), upn.clone(), name.clone(), product.to_owned()];
                    cells.push(if any { ymd(activated) } else { String::new() });
                    cells.extend(counts.iter().map(u64::to_string));
                    cells.push(b((h >> 20) % 15 == 0).into());
                    line(out, &cells);
                }
            }
            _ => {}
        }
    }

    /// Every listed user (now and deleted within the window), for the counts reports.
    fn entries(&self, view: &TenantView<'_>) -> Vec<Entry> {
        let mut v: Vec<Entry> = view
            .users()
            .map(|u| Entry {
                index: u.index,
                user: u.user,
                deleted: None,
            })
            .collect();
        v.extend(
            view.deleted_users()
                .iter()
                .filter(|d| usage::day_of(d.deleted) >= self.window.first())
                .map(|d| Entry {
                    index: d.index,
                    user: d.user.clone(),
                    deleted: Some(d.deleted),
                }),
        );
        v
    }

    fn counts(&self, view: &TenantView<'_>, now: i64, out: &mut String) {
        let w = self.window;
        let n = w.days as usize;
        let r = ymd(self.refresh);
        // Per day (index 0 = the window's first day).
        let mut active = vec![[0u64; 7]; n];
        let mut mail = vec![[0u64; 3]; n];
        let mut total = vec![0u64; n];
        let mut storage = vec![0u64; n];
        for e in self.entries(view) {
            let (a, m) = self.activity(view, &e, now);
            let gone = e.deleted.map(usage::day_of).unwrap_or(i64::MAX);
            for (k, d) in (w.first()..=w.last).enumerate() {
                match self.spec.kind {
                    Kind::ActiveUserCounts => {
                        let mut any = false;
                        for s in SERVICES {
                            if a.active(s, d) {
                                active[k][1 + s as usize] += 1;
                                any = true;
                            }
                        }
                        active[k][0] += u64::from(any);
                    }
                    Kind::EmailActivityCounts if a.active(Service::Exchange, d) => {
                        for (x, v) in mail[k].iter_mut().zip(a.email_day(d)) {
                            *x += v;
                        }
                    }
                    Kind::MailboxUsageMailboxCounts | Kind::MailboxUsageStorage => {
                        let Some(m) = &m else { break };
                        if usage::day_of(m.when_created) <= d && d < gone {
                            total[k] += 1;
                            active[k][0] += u64::from(a.active(Service::Exchange, d));
                            let shrink = 1.0 - 0.001 * (self.refresh - d) as f64;
                            storage[k] += (m.activity.total_item_bytes as f64 * shrink.max(0.0)) as u64;
                        }
                    }
                    _ => {}
                }
            }
        }
        for k in (0..n).rev() {
            let day = ymd(w.first() + k as i64);
            let p = self.period.clone();
            match self.spec.kind {
                Kind::ActiveUserCounts => {
                    let mut cells = vec![r.clone()];
                    cells.extend(active[k].iter().map(u64::to_string));
                    cells.extend([day, p]);
                    line(out, &cells);
                }
                Kind::EmailActivityCounts => {
                    let mut cells = vec![r.clone()];
                    cells.extend(mail[k].iter().map(u64::to_string));
                    cells.extend([day, p]);
                    line(out, &cells);
                }
                Kind::MailboxUsageMailboxCounts => {
                    line(
                        out,
                        &[r.clone(), total[k].to_string(), active[k][0].to_string(), day, p],
                    );
                }
                Kind::MailboxUsageStorage => line(out, &[r.clone(), storage[k].to_string(), day, p]),
                _ => {}
            }
        }
    }

    fn sharepoint(&self, view: &TenantView<'_>, out: &mut String) {
        let t = view.t;
        let (seed, _) = view.seed_anchor();
        let r = ymd(self.refresh);
        for s in usage::sites(seed, t, t.user_count as u64) {
            let owner = view.user_at(s.owner_slot).map(|v| v.user);
            let owner_upn = match (&owner, self.concealed) {
                (Some(u), true) => concealed(t.id, u.id, F_UPN),
                (Some(u), false) => u.user_principal_name.clone(),
                (None, _) => String::new(),
            };
            let owner_name = if self.concealed {
                concealed(t.id, s.id, F_SITE_OWNER)
            } else if s.template == "Group" {
                format!("{} Owners", s.title)
            } else {
                owner.as_ref().map(|u| u.display_name.clone()).unwrap_or_default()
            };
            let url = if self.concealed {
                concealed(t.id, s.id, F_SITE_URL)
            } else {
                s.url.clone()
            };
            let (files, active, views, visited, bytes) = s.figures(self.window);
            line(
                out,
                &[
                    r.clone(),
                    s.id.to_string(),
                    url,
                    owner_name,
                    "False".into(),
                    opt_day(s.last_active(self.window.last)),
                    files.to_string(),
                    active.to_string(),
                    views.to_string(),
                    visited.to_string(),
                    bytes.to_string(),
                    SITE_ALLOCATED.to_string(),
                    s.template.into(),
                    owner_upn,
                    self.period.clone(),
                ],
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_as_rfc_4180_says() {
        let mut s = String::new();
        line(&mut s, &["a", "b,c", "say \"hi\"", ""]);
        assert_eq!(s, "a,\"b,c\",\"say \"\"hi\"\"\",\r\n");
    }

    #[test]
    fn durations_are_iso_8601() {
        assert_eq!(duration(0), "PT0S");
        assert_eq!(duration(3723), "PT1H2M3S");
        assert_eq!(duration(600), "PT10M");
    }
}
