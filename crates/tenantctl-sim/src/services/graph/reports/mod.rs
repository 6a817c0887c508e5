//! Microsoft 365 usage reports (`GET /graph/v1.0/reports/{function}(...)`) and the tenant's
//! report settings (`/graph/v1.0/admin/reportSettings`), views of the world's users, licences
//! and mailboxes (`world/usage.rs`). See `docs/simulator-reports.md`.
//!
//! Sources: learn.microsoft.com/graph/api/reportroot-* (one page per function, cited at each
//! spec in `catalog.rs`), learn.microsoft.com/graph/reportroot-authorization (roles),
//! learn.microsoft.com/graph/api/adminreportsettings-get / -update, learn.microsoft.com/graph/throttling-limits
//! (quota). `[I]` marks what no source states.
//!
//! A call is answered in this order: the function name (unknown → Graph's 400 "Resource not
//! found for the segment"), the caller's right to read reports (403), the parameter (400), the
//! reports quota (429), then `302 Found` to a pre-authenticated download URL (`download.rs`).

pub mod catalog;
pub mod download;
pub mod quota;
pub mod render;

use crate::fleet::{roles, TenantKind};
use crate::platform::errors::{graph_headers, GraphError};
use crate::platform::extract::{denied, set_header, Directory, GraphCall};
use crate::state::Sim;
use crate::world::usage::{self, Window};
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use catalog::{Params, Spec};
use render::Job;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

type Res = Result<Response, GraphError>;

/// Role template ids beyond `fleet::roles` [I: ids from Entra's built-in roles table].
pub mod report_roles {
    pub const SHAREPOINT_ADMINISTRATOR: &str = "f28a1f50-f6e7-4571-818b-6a12f2af6b6c";
    pub const TEAMS_ADMINISTRATOR: &str = "69091246-20e8-4a56-aa4d-066075b2a7a8";
    pub const TEAMS_COMMUNICATIONS_ADMINISTRATOR: &str = "baf37b3a-610e-45da-9e62-d9d1e5e8914b";
    pub const SKYPE_FOR_BUSINESS_ADMINISTRATOR: &str = "75941009-915a-4869-abe7-691bff18279e";
    pub const USAGE_SUMMARY_REPORTS_READER: &str = "75934031-6c7e-415a-99d7-48dbd49e875e";
}

/// Roles that may read usage reports and see user names (when the tenant shows them)
/// (learn.microsoft.com/graph/reportroot-authorization).
const NAMED_READERS: &[&str] = &[
    roles::GLOBAL_ADMINISTRATOR,
    roles::EXCHANGE_ADMINISTRATOR,
    report_roles::SHAREPOINT_ADMINISTRATOR,
    report_roles::TEAMS_ADMINISTRATOR,
    report_roles::TEAMS_COMMUNICATIONS_ADMINISTRATOR,
    report_roles::SKYPE_FOR_BUSINESS_ADMINISTRATOR,
    roles::REPORTS_READER,
];

/// Roles that may read usage reports but never see identifiable names: "Global reader and
/// Usage Summary Reports Reader roles will not have access to identifiable user information,
/// regardless of the setting chosen" (techcommunity.microsoft.com, "Privacy changes to
/// Microsoft 365 Usage Analytics", 2021-08-30; contract §2.3).
const CONCEALED_READERS: &[&str] = &[roles::GLOBAL_READER, report_roles::USAGE_SUMMARY_REPORTS_READER];

/// Usage reports state: download links, quota, counters (`GET /_sim/reports`).
#[derive(Default)]
pub struct ReportsState {
    pub links: download::Links,
    pub quota: quota::Quota,
    /// 302s answered.
    pub issued: AtomicU64,
    /// Downloads answered with a CSV.
    pub served: AtomicU64,
    /// Downloads refused because they carried an Authorization header.
    pub refused_authorization: AtomicU64,
    /// Downloads of an expired or unknown link.
    pub not_found: AtomicU64,
}

impl ReportsState {
    pub fn reset(&self) {
        self.links.clear();
        self.quota.reset();
        for c in [&self.issued, &self.served, &self.refused_authorization, &self.not_found] {
            c.store(0, Ordering::Relaxed);
        }
    }

    /// The control API's view.
    pub fn json(&self, sim: &Sim) -> Value {
        json!({
            "quota_enabled": self.quota.enabled(sim.throttle.config().enabled),
            "quota_forced": *self.quota.forced.lock(),
            "links_issued": self.issued.load(Ordering::Relaxed),
            "links_live": self.links.live(sim.clock.now_secs_f64()),
            "downloads_served": self.served.load(Ordering::Relaxed),
            "downloads_refused_authorization": self.refused_authorization.load(Ordering::Relaxed),
            "downloads_not_found": self.not_found.load(Ordering::Relaxed),
            "link_ttl_secs": download::LINK_TTL_SECS,
            "refresh_lag_days": usage::REFRESH_LAG_DAYS,
        })
    }
}

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/graph/v1.0/reports/{call}", get(report))
        .route(
            "/graph/v1.0/admin/reportSettings",
            get(get_settings).patch(patch_settings),
        )
        .route(&format!("{}/{{id}}", download::PREFIX), get(download::download))
}

/// Why a report call cannot be answered (worded by [`CallError::message`]).
#[derive(Debug, Clone, PartialEq)]
pub enum CallError {
    /// No such function (or no such overload): "Resource not found for the segment".
    Segment(String),
    /// Any other bad parameter: Graph's 400 `BadRequest` with this text [I].
    Bad(String),
}

/// A parsed report call: the function and its window.
#[derive(Debug, Clone)]
pub struct Call {
    pub spec: &'static Spec,
    pub window: Window,
    pub period: String,
}

fn unquote(v: &str) -> Option<&str> {
    v.strip_prefix('\'').and_then(|v| v.strip_suffix('\''))
}

/// The function name of a call segment (`getX(period='D7')` → `getX`).
pub fn function_name(segment: &str) -> &str {
    segment.split('(').next().unwrap_or(segment).trim()
}

/// Parses `getX(period='D30')`, `getX(date=2026-11-30)` or `getX` at clock time `now`.
/// Accepted dates: from today − 30 days to the refresh date [I].
pub fn parse_call(segment: &str, now: i64) -> Result<Call, CallError> {
    let segment = segment.trim();
    let name = function_name(segment);
    let spec = catalog::find(name).ok_or_else(|| CallError::Segment(name.to_owned()))?;
    let args = match segment[name.len()..].trim() {
        "" => None,
        rest => Some(
            rest.strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .ok_or_else(|| CallError::Bad(format!("The request URI segment '{segment}' is not valid.")))?
                .trim(),
        ),
    };
    let mut period = None;
    let mut date = None;
    for arg in args
        .into_iter()
        .flat_map(|a| a.split(','))
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        let Some((k, v)) = arg.split_once('=') else {
            return Err(CallError::Bad(format!(
                "The request URI segment '{segment}' is not valid."
            )));
        };
        match k.trim() {
            "period" if period.is_none() => period = Some(v.trim()),
            "date" if date.is_none() => date = Some(v.trim()),
            // No overload of the function takes this parameter [I: OData's answer].
            _ => return Err(CallError::Segment(spec.name.to_owned())),
        }
    }
    let refresh = usage::refresh_day(now);
    match (spec.params, period, date) {
        (Params::None, None, None) => Ok(Call {
            spec,
            window: Window { last: refresh, days: 1 },
            period: String::new(),
        }),
        // The function has no overload with these parameters [I].
        (Params::None, _, _) | (Params::Period, _, Some(_)) => Err(CallError::Segment(spec.name.to_owned())),
        (_, Some(_), Some(_)) => Err(CallError::Bad(
            "You need to set either period or date in the URL, not both.".into(),
        )),
        (_, None, None) => Err(CallError::Bad(match spec.params {
            Params::Period => format!(
                "The function '{}' needs a period parameter: period='D7', 'D30', 'D90' or 'D180'.",
                spec.name
            ),
            _ => "You need to set either period or date in the URL.".into(),
        })),
        (_, Some(p), None) => {
            let days = match unquote(p) {
                Some("D7") => 7,
                Some("D30") => 30,
                Some("D90") => 90,
                Some("D180") => 180,
                _ => {
                    return Err(CallError::Bad(format!(
                        "Invalid value '{}' for parameter 'period'. The supported values are D7, D30, D90 and D180.",
                        unquote(p).unwrap_or(p)
                    )))
                }
            };
            Ok(Call {
                spec,
                window: Window { last: refresh, days },
                period: days.to_string(),
            })
        }
        (_, None, Some(d)) => {
            let d = unquote(d).unwrap_or(d);
            let day = usage::parse_ymd(d).ok_or_else(|| {
                CallError::Bad(format!(
                    "Invalid value '{d}' for parameter 'date'. The date format is YYYY-MM-DD."
                ))
            })?;
            let earliest = usage::day_of(now) - 30;
            if day < earliest || day > refresh {
                return Err(CallError::Bad(format!(
                    "Invalid value '{d}' for parameter 'date'. The report is only available for the past 30 days: from {} to {}.",
                    usage::ymd(earliest),
                    usage::ymd(refresh)
                )));
            }
            Ok(Call {
                spec,
                window: Window { last: day, days: 1 },
                period: "1".into(),
            })
        }
    }
}

impl CallError {
    pub fn message(&self) -> String {
        match self {
            CallError::Segment(s) => format!("Resource not found for the segment '{s}'."),
            CallError::Bad(m) => m.clone(),
        }
    }
}

/// Whether the caller may read reports, and whether it may see names; `Err` is Graph's 403.
fn reader<S>(call: &GraphCall<S>) -> Result<bool, GraphError> {
    let t = call.t();
    if t.kind != TenantKind::Customer {
        return Ok(true);
    }
    if call.caller.delegated {
        let a = call.sim.access(t);
        let has = |set: &[&str]| a.roles.iter().any(|r| set.contains(r));
        if !a.active_relationship || !(has(NAMED_READERS) || has(CONCEALED_READERS)) {
            return Err(denied(&call.ids));
        }
        Ok(has(NAMED_READERS))
    } else if call.caller.roles.iter().any(|r| r == "Reports.Read.All") {
        Ok(true)
    } else {
        Err(denied(&call.ids))
    }
}

/// `GET /reports/{function}(...)`: 302 to a pre-authenticated download URL.
pub async fn report(call: GraphCall<Directory>, Path(segment): Path<String>, headers: HeaderMap) -> Res {
    let now = call.sim.clock.now_unix();
    let name = function_name(&segment);
    if catalog::find(name).is_none() {
        return Err(call.error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            CallError::Segment(name.into()).message(),
        ));
    }
    let names = reader(&call)?;
    let parsed =
        parse_call(&segment, now).map_err(|e| call.error(StatusCode::BAD_REQUEST, "BadRequest", e.message()))?;
    let sim = &call.sim;
    if sim.reports.quota.enabled(sim.throttle.config().enabled) {
        if let Err(secs) = sim.reports.quota.charge(
            call.caller.app_id,
            call.t().idx,
            parsed.spec.name,
            sim.clock.now_secs_f64(),
        ) {
            // The throttled answer of learn.microsoft.com/graph/throttling.
            return Err(call
                .error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "TooManyRequests",
                    "Please retry again later.",
                )
                .with_header("retry-after", secs.to_string()));
        }
    }
    let concealed = !names || sim.world.tenant(call.t()).display_concealed_names();
    let job = job_for(sim, call.t().idx, parsed, concealed, now);
    // "If this request header is included and the eTag provided matches the current tag on
    // the file, a 304 Not Modified response code is returned" (every reportroot-* page).
    let if_none_match = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok());
    if if_none_match.is_some_and(|tags| etag_matches(tags, &job.etag)) {
        let mut r = Response::new(axum::body::Body::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        set_etag(r.headers_mut(), &job.etag);
        graph_headers(r.headers_mut(), &call.ids);
        return Ok(r);
    }
    let etag = job.etag.clone();
    let id = sim.reports.links.issue(job, sim.clock.now_secs_f64());
    sim.reports.issued.fetch_add(1, Ordering::Relaxed);
    let mut r = Response::new(axum::body::Body::empty());
    *r.status_mut() = StatusCode::FOUND;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    if let Ok(v) = HeaderValue::from_str(&format!("{}{}/{id}", call.base, download::PREFIX)) {
        h.insert(header::LOCATION, v);
    }
    set_etag(h, &etag);
    graph_headers(h, &call.ids);
    Ok(r)
}

/// Whether an `If-None-Match` value (`*`, or a comma-separated list of tags) names `tag`.
fn etag_matches(header: &str, tag: &str) -> bool {
    header
        .split(',')
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == tag)
}

pub(crate) fn set_etag(h: &mut HeaderMap, tag: &str) {
    if let Ok(v) = HeaderValue::from_str(tag) {
        h.insert(header::ETAG, v);
    }
}

/// The rendering job of a parsed call. Its entity tag changes when the file may: another
/// function, window or concealment, another clock day, or any change to the world [I].
pub fn job_for(sim: &Sim, tenant: u32, c: Call, concealed: bool, now: i64) -> Job {
    let refresh = usage::refresh_day(now);
    let tag = crate::ids::hash(&[
        tenant as u64,
        crate::odata::hash_str(c.spec.name),
        c.window.last as u64,
        c.window.days as u64,
        refresh as u64,
        u64::from(concealed),
        sim.world.generation(),
        usage::day_of(now) as u64,
    ]);
    Job {
        tenant,
        spec: c.spec,
        window: c.window,
        refresh,
        period: c.period,
        concealed,
        etag: format!("\"{tag:016x}\""),
    }
}

/// Ground truth (`GET /_sim/reports/{tenant}/{call}`): the CSV a partner admin with full
/// reading rights would download now (the tenant's concealed-names setting honoured).
pub fn ground_truth(sim: &Sim, tenant: u32, segment: &str) -> Result<String, CallError> {
    let now = sim.clock.now_unix();
    let c = parse_call(segment, now)?;
    let t = &sim.fleet.tenants[tenant as usize];
    let concealed = sim.world.tenant(t).display_concealed_names();
    Ok(job_for(sim, tenant, c, concealed, now).render_all(sim, now))
}

const SETTINGS_CTX: &str = "https://graph.microsoft.com/v1.0/$metadata#admin/reportSettings/$entity";

/// `GET /admin/reportSettings` (learn.microsoft.com/graph/api/adminreportsettings-get):
/// `ReportSettings.Read.All`; delegated callers need a report-reading role [I].
pub async fn get_settings(call: GraphCall<Directory>) -> Res {
    let t = call.t();
    if t.kind == TenantKind::Customer && !call.caller.delegated {
        let ok = call
            .caller
            .roles
            .iter()
            .any(|r| r == "ReportSettings.Read.All" || r == "ReportSettings.ReadWrite.All");
        if !ok {
            return Err(denied(&call.ids));
        }
    } else {
        reader(&call)?;
    }
    let v = call.sim.world.tenant(t).display_concealed_names();
    let mut r = call.ok(json!({"@odata.context": SETTINGS_CTX, "displayConcealedNames": v}), 1);
    set_header(r.headers_mut(), "x-ms-resource-unit", "1");
    Ok(r)
}

/// `PATCH /admin/reportSettings {"displayConcealedNames": bool}` → 204
/// (learn.microsoft.com/graph/api/adminreportsettings-update). Delegated: only a Global
/// Administrator may change it ("Global admins can revert this change for their tenants",
/// techcommunity.microsoft.com "Privacy changes and API support for Microsoft 365 usage
/// reports", 2022-06-23); app-only: `ReportSettings.ReadWrite.All`.
pub async fn patch_settings(call: GraphCall<Directory>, body: Bytes) -> Res {
    let t = call.t();
    if t.kind == TenantKind::Customer {
        let ok = if call.caller.delegated {
            let a = call.sim.access(t);
            a.active_relationship && a.roles.contains(&roles::GLOBAL_ADMINISTRATOR)
        } else {
            call.caller.roles.iter().any(|r| r == "ReportSettings.ReadWrite.All")
        };
        if !ok {
            return Err(denied(&call.ids));
        }
    }
    let v: Value = serde_json::from_slice(&body)
        .map_err(|_| call.bad_request("Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format."))?;
    let Some(obj) = v.as_object() else {
        return Err(call.bad_request("Unable to read JSON request payload."));
    };
    let mut value = None;
    for (k, x) in obj {
        match k.as_str() {
            "displayConcealedNames" => match x.as_bool() {
                Some(b) => value = Some(b),
                None => return Err(call.invalid_value("displayConcealedNames", "adminReportSettings")),
            },
            "@odata.type" => {}
            other => {
                return Err(call.bad_request(format!(
                    "Property '{other}' does not exist on type 'microsoft.graph.adminReportSettings'."
                )))
            }
        }
    }
    if let Some(b) = value {
        call.sim.world.set_display_concealed_names(t, b);
        super::persist(&call).await?;
    }
    Ok(call.no_content())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_028_800 + 3600; // 2025-11-25T01:00Z: refresh day 2025-11-23

    #[test]
    fn calls_parse_as_graph_writes_them() {
        let c = parse_call("getMailboxUsageDetail(period='D30')", NOW).unwrap();
        assert_eq!(c.spec.name, "getMailboxUsageDetail");
        assert_eq!((usage::ymd(c.window.last), c.window.days), ("2025-11-23".into(), 30));
        let c = parse_call("getEmailActivityUserDetail(date=2025-11-20)", NOW).unwrap();
        assert_eq!(
            (usage::ymd(c.window.last), c.window.days, c.period.as_str()),
            ("2025-11-20".into(), 1, "1")
        );
        assert!(parse_call("getOffice365ActivationsUserDetail", NOW).is_ok());
        assert!(parse_call("getOffice365ActivationsUserDetail()", NOW).is_ok());
    }

    #[test]
    fn bad_calls_are_refused_with_graphs_wording() {
        let seg = |s: &str| parse_call(s, NOW).unwrap_err();
        assert_eq!(seg("getFoo(period='D7')"), CallError::Segment("getFoo".into()));
        assert!(matches!(seg("getMailboxUsageDetail(period='D14')"), CallError::Bad(_)));
        assert!(matches!(seg("getMailboxUsageDetail(period=D7)"), CallError::Bad(_)));
        assert_eq!(
            seg("getMailboxUsageDetail(date=2025-11-20)"),
            CallError::Segment("getMailboxUsageDetail".into())
        );
        assert_eq!(
            seg("getOffice365ActivationsUserDetail(period='D7')"),
            CallError::Segment("getOffice365ActivationsUserDetail".into())
        );
        assert!(matches!(
            seg("getEmailActivityUserDetail(date=2025-10-01)"),
            CallError::Bad(_)
        ));
        assert!(matches!(
            seg("getEmailActivityUserDetail(date=2025-11-24)"),
            CallError::Bad(_)
        ));
        assert!(matches!(
            seg("getEmailActivityUserDetail(date=2025-13-01)"),
            CallError::Bad(_)
        ));
        assert!(matches!(seg("getEmailActivityUserDetail"), CallError::Bad(_)));
    }
}
