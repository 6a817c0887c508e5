//! Get-MessageTraceV2 (learn.microsoft.com/powershell/module/exchange/get-messagetracev2) [C]:
//! "search message data for the last 90 days. If you run this cmdlet without any parameters,
//! only data from the last 48 hours is returned. You can only return 10 days worth of data per
//! query. By default, this cmdlet returns up to 1000 results, with a maximum of 5000 results."
//! Time stamps in UTC. Error texts for the limits are [I].
//!
//! History: deterministic messages per tenant and day (seed, tenant, day, n) between the
//! tenant's mailboxes and outside addresses, newest first.

use super::Output;
use crate::ids::{hash, Guid, Rng};
use crate::services::exchange::access::ExoCtx;
use crate::services::exchange::errors::ExoError;
use crate::services::exchange::params::Params;
use crate::services::exchange::render::date;
use crate::world::mailboxes::{MailboxKind, EXTERNAL_DOMAINS};
use serde_json::{json, Map, Value};

const DAY: i64 = 86_400;
/// History kept: 90 days [C].
pub const HISTORY_DAYS: i64 = 90;
/// Longest window per query: 10 days [C].
pub const MAX_WINDOW_DAYS: i64 = 10;
/// Default and largest -ResultSize [C].
pub const DEFAULT_RESULT_SIZE: usize = 1000;
pub const MAX_RESULT_SIZE: usize = 5000;

const SUBJECTS: &[&str] = &[
    "Quarterly report",
    "Invoice",
    "Re: Project update",
    "Meeting notes",
    "Fw: Contract draft",
    "Welcome aboard",
    "Your order has shipped",
    "Team lunch on Friday",
    "Action required: password expiry",
    "Re: Budget approval",
];

/// Parses a DateTime parameter: ISO 8601 (zone optional, UTC assumed), `yyyy-MM-dd`, or
/// `MM/dd/yyyy[ HH:mm[:ss]]` (the en-US short date the Learn examples use).
pub fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some(t) = crate::platform::clock::parse_rfc3339(s) {
        return t.duration_since(std::time::UNIX_EPOCH).ok().map(|d| d.as_secs() as i64);
    }
    let (d, t) = s.split_once(['T', ' ']).unwrap_or((s, ""));
    let (y, mo, day) = if d.contains('/') {
        let mut it = d.split('/');
        let (m, dd, y) = (it.next()?, it.next()?, it.next()?);
        (y.parse::<i32>().ok()?, m.parse::<u8>().ok()?, dd.parse::<u8>().ok()?)
    } else {
        let mut it = d.split('-');
        (
            it.next()?.parse::<i32>().ok()?,
            it.next()?.parse::<u8>().ok()?,
            it.next()?.parse::<u8>().ok()?,
        )
    };
    let month = time::Month::try_from(mo).ok()?;
    let date = time::Date::from_calendar_date(y, month, day).ok()?;
    let t = t.trim().trim_end_matches('Z');
    let mut hms = t.split(':').filter(|x| !x.is_empty());
    let h: u8 = hms.next().map(|x| x.parse().ok()).unwrap_or(Some(0))?;
    let mi: u8 = hms.next().map(|x| x.parse().ok()).unwrap_or(Some(0))?;
    let sec: f64 = hms.next().map(|x| x.parse().ok()).unwrap_or(Some(0.0))?;
    let time = time::Time::from_hms(h, mi, sec as u8).ok()?;
    Some(time::PrimitiveDateTime::new(date, time).assume_utc().unix_timestamp())
}

/// One traced message.
#[derive(Debug, Clone)]
pub struct Message {
    pub received: i64,
    pub sender: String,
    pub recipient: String,
    pub subject: &'static str,
    pub status: &'static str,
    pub size: u64,
    pub message_id: String,
    pub trace_id: Guid,
    pub from_ip: String,
    pub to_ip: Option<String>,
}

/// The tenant's messages received in `[start, end]` (never after `now`, never before
/// `now - 90 days`), newest first.
pub fn messages(ctx: &ExoCtx, start: i64, end: i64) -> Vec<Message> {
    let t = ctx.t();
    let seed = ctx.sim.fleet.config.seed;
    let addrs: Vec<String> = ctx
        .sim
        .world
        .tenant(t)
        .mailboxes(ctx.now)
        .into_iter()
        .filter(|m| matches!(m.kind, MailboxKind::User | MailboxKind::Shared))
        .map(|m| m.primary_smtp_address)
        .collect();
    if addrs.is_empty() {
        return vec![];
    }
    let lo = start.max(ctx.now - HISTORY_DAYS * DAY);
    let hi = end.min(ctx.now);
    let per_day = (addrs.len() as u64 * 3).clamp(3, 400);
    let mut out = vec![];
    let mut day = lo.div_euclid(DAY);
    while day * DAY <= hi {
        for k in 0..per_day {
            let mut r = Rng::new(&[seed, t.idx as u64, day as u64, k, 0x7A]);
            let received = day * DAY + r.below(DAY as u64) as i64;
            if received < lo || received > hi {
                continue;
            }
            let inside = addrs[r.below(addrs.len() as u64) as usize].clone();
            let outside = format!(
                "{}@{}",
                ["news", "info", "sales", "support", "jane.doe", "j.smith"][r.below(6) as usize],
                EXTERNAL_DOMAINS[r.below(EXTERNAL_DOMAINS.len() as u64) as usize]
            );
            let (sender, recipient) = match r.unit() {
                x if x < 0.45 => (outside, inside),
                x if x < 0.9 => (inside, outside),
                _ => (inside, addrs[r.below(addrs.len() as u64) as usize].clone()),
            };
            let status = match r.unit() {
                x if x < 0.92 => "Delivered",
                x if x < 0.95 => "Failed",
                x if x < 0.98 => "FilteredAsSpam",
                x if x < 0.99 => "Quarantined",
                _ => "Expanded",
            };
            let trace_id = Guid::from_parts(&[seed, t.idx as u64, day as u64, k, 0x7B]);
            out.push(Message {
                received,
                sender,
                recipient,
                subject: SUBJECTS[r.below(SUBJECTS.len() as u64) as usize],
                status,
                size: r.range(2_000, 5_000_000),
                message_id: format!(
                    "<{:016x}@{}>",
                    hash(&[seed, t.idx as u64, day as u64, k]),
                    t.initial_domain
                ),
                trace_id,
                from_ip: format!("40.107.{}.{}", r.below(256), r.below(256)),
                to_ip: (status == "Delivered").then(|| format!("52.101.{}.{}", r.below(256), r.below(256))),
            });
        }
        day += 1;
    }
    out.sort_by(|a, b| b.received.cmp(&a.received).then(a.trace_id.0.cmp(&b.trace_id.0)));
    out
}

fn date_param(p: &Params, name: &str) -> Result<Option<i64>, ExoError> {
    match p.string(name)? {
        None => Ok(None),
        Some(s) => parse_date(&s).map(Some).ok_or_else(|| {
            ExoError::bad_value(
                name,
                &s,
                "System.DateTime",
                "String was not recognized as a valid DateTime.",
            )
        }),
    }
}

fn row(m: &Message, org: &str) -> Map<String, Value> {
    match json!({
        "Organization": org,
        "MessageId": m.message_id,
        "Received": date(m.received),
        "SenderAddress": m.sender,
        "RecipientAddress": m.recipient,
        "Subject": m.subject,
        "Status": m.status,
        "ToIP": m.to_ip,
        "FromIP": m.from_ip,
        "Size": m.size,
        "MessageTraceId": m.trace_id.to_string(),
        "StartDate": null,
        "EndDate": null,
    }) {
        Value::Object(o) => o,
        _ => Map::new(),
    }
}

/// Get-MessageTraceV2.
pub fn get_message_trace_v2(ctx: &ExoCtx, p: &Params) -> Result<Output, ExoError> {
    p.check(
        &[
            "StartDate",
            "EndDate",
            "SenderAddress",
            "RecipientAddress",
            "Status",
            "MessageId",
            "MessageTraceId",
            "ResultSize",
            "Subject",
            "SubjectFilterType",
            "FromIP",
            "ToIP",
            "StartingRecipientAddress",
        ],
        &[],
    )?;
    let size = match p.get("ResultSize") {
        None => DEFAULT_RESULT_SIZE,
        Some(v) => {
            let s = crate::services::exchange::params::display(v);
            let n: usize = s.trim().parse().map_err(|_| {
                ExoError::bad_value(
                    "ResultSize",
                    &s,
                    "System.Int32",
                    "Input string was not in a correct format.",
                )
            })?;
            if n == 0 || n > MAX_RESULT_SIZE {
                return Err(ExoError::task_argument(format!(
                    "The ResultSize value must be between 1 and {MAX_RESULT_SIZE}."
                )));
            }
            n
        }
    };
    let now = ctx.now;
    let (start, end) = match (date_param(p, "StartDate")?, date_param(p, "EndDate")?) {
        (None, None) => (now - 2 * DAY, now),
        (Some(s), None) => (s, now),
        (None, Some(e)) => (e - 2 * DAY, e),
        (Some(s), Some(e)) => (s, e),
    };
    if end < start {
        return Err(ExoError::task_argument(
            "The EndDate value must be later than the StartDate value.",
        ));
    }
    if end - start > MAX_WINDOW_DAYS * DAY {
        return Err(ExoError::task_argument(format!(
            "The time range between StartDate and EndDate can't exceed {MAX_WINDOW_DAYS} days."
        )));
    }
    if start < now - HISTORY_DAYS * DAY {
        return Err(ExoError::task_argument(format!(
            "The StartDate value can't be older than {HISTORY_DAYS} days."
        )));
    }
    let list = |n: &str| -> Result<Vec<String>, ExoError> { Ok(p.strings(n)?.unwrap_or_default()) };
    let senders = list("SenderAddress")?;
    let recipients = list("RecipientAddress")?;
    let statuses = list("Status")?;
    let ids = list("MessageId")?;
    let trace_id = p.string("MessageTraceId")?;
    let subject = p.string("Subject")?.map(|s| s.to_ascii_lowercase());
    let any = |l: &[String], v: &str| l.is_empty() || l.iter().any(|x| x.eq_ignore_ascii_case(v));
    let org = ctx.t().initial_domain.clone();
    let rows: Vec<_> = messages(ctx, start, end)
        .into_iter()
        .filter(|m| any(&senders, &m.sender) && any(&recipients, &m.recipient) && any(&statuses, m.status))
        .filter(|m| any(&ids, &m.message_id))
        .filter(|m| {
            trace_id
                .as_deref()
                .is_none_or(|t| t.eq_ignore_ascii_case(&m.trace_id.to_string()))
        })
        .filter(|m| {
            subject
                .as_deref()
                .is_none_or(|s| m.subject.to_ascii_lowercase().contains(s))
        })
        .take(size)
        .map(|m| row(&m, &org))
        .collect();
    Ok(Output { rows, warnings: vec![] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_in_the_forms_the_docs_use() {
        assert_eq!(parse_date("2025-11-25T00:00:00Z"), Some(1_764_028_800));
        assert_eq!(parse_date("2025-11-25"), Some(1_764_028_800));
        assert_eq!(parse_date("11/25/2025"), Some(1_764_028_800));
        assert_eq!(parse_date("11/25/2025 01:00"), Some(1_764_032_400));
        assert_eq!(parse_date("2025-11-25T01:00:00"), Some(1_764_032_400));
        assert_eq!(parse_date("yesterday"), None);
    }
}
