//! Microsoft 365 usage reports, as the specification of the simulator's side
//! (docs/simulator-reports.md; shared/reference/exchange-and-reports-contract.md §2).
//!
//! Every report function answers `302 Found` with `Content-Type: text/plain` and a
//! pre-authenticated `Location` (learn.microsoft.com/graph/api/reportroot-getmailboxusagedetail
//! and every reportroot-* page); the download needs no `Authorization` header and answers
//! `application/octet-stream` with a UTF-8 CSV with BOM whose header is the page's column list.
//! Time is the simulator's manual clock, moved through `POST /_sim/clock`.

use crate::common::*;
use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use tenantctl_sim::fleet::{Tenant, Trouble};
use tenantctl_sim::{Clock, RunningSim, SimConfig};

/// 10:00 UTC on the anchor day: the refresh date is two days earlier, 2025-11-23.
const NOW: i64 = ANCHOR + 10 * 3600;
const REFRESH: &str = "2025-11-23";

async fn start(tenants: u32, users: u32) -> RunningSim {
    let mut c = SimConfig::new(1, tenants);
    c.fleet.users_per_tenant = Some(users);
    c.fleet.anchor = ANCHOR;
    c.clock = Clock::manual_at(NOW);
    c.throttle.enabled = false;
    start_with(c).await
}

fn report_path(call: &str) -> String {
    format!("/graph/v1.0/reports/{call}")
}

/// The report call: status, headers, body.
async fn call(sim: &RunningSim, tok: &str, call: &str) -> (u16, HeaderMap, String) {
    get(sim, tok, &report_path(call), &[]).await
}

/// Fetches a download URL, with or without a bearer token.
async fn download(url: &str, token: Option<&str>) -> (u16, HeaderMap, Vec<u8>) {
    let mut rb = client().get(url);
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    let r = rb.send().await.unwrap();
    let s = r.status().as_u16();
    let h = r.headers().clone();
    (s, h, r.bytes().await.unwrap().to_vec())
}

/// Call, follow the 302 without a token, return the CSV bytes.
async fn fetch(sim: &RunningSim, tok: &str, c: &str) -> Vec<u8> {
    let (s, h, b) = call(sim, tok, c).await;
    assert_eq!(s, 302, "{c}: {b}");
    let (s, h2, body) = download(h["location"].to_str().unwrap(), None).await;
    assert_eq!(s, 200);
    assert_eq!(h2["content-type"], "application/octet-stream");
    body
}

/// A parsed CSV: header and rows (RFC 4180, CRLF), after checking and removing the BOM.
fn parse(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 BOM first");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let mut lines = vec![];
    let (mut row, mut cell, mut quoted) = (vec![], String::new(), false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut cell)),
            ('\r', false) => {
                assert_eq!(chars.next(), Some('\n'), "CRLF line ends");
                row.push(std::mem::take(&mut cell));
                lines.push(std::mem::take(&mut row));
            }
            _ => cell.push(c),
        }
    }
    assert!(row.is_empty() && cell.is_empty(), "the last line ends with CRLF");
    let header = lines.remove(0);
    (header, lines)
}

fn col<'a>(h: &[String], row: &'a [String], name: &str) -> &'a str {
    let i = h
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    &row[i]
}

/// The ground truth of the control API.
async fn truth(sim: &RunningSim, t: &Tenant, c: &str) -> Vec<u8> {
    let r = client()
        .get(format!("{}/_sim/reports/{}/{c}", sim.base_url, t.id))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.bytes().await.unwrap().to_vec()
}

async fn control(sim: &RunningSim, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
    let mut rb = client().request(method, format!("{}{path}", sim.base_url));
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap_or(Value::Null)
}

async fn advance(sim: &RunningSim, secs: f64) {
    control(
        sim,
        reqwest::Method::POST,
        "/_sim/clock",
        Some(json!({"advanceSeconds": secs})),
    )
    .await;
}

/// Shows names in tenant `t`: Global Administrator given through the control API, then
/// PATCH displayConcealedNames false.
async fn reveal(sim: &RunningSim, t: &Tenant, tok: &str) {
    let path = format!("/_sim/tenants/{}/global-admin", t.id);
    control(sim, reqwest::Method::PUT, &path, Some(json!({"granted": true}))).await;
    let r = client()
        .patch(format!("{}/graph/v1.0/admin/reportSettings", sim.base_url))
        .bearer_auth(tok)
        .json(&json!({"displayConcealedNames": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
}

fn split(list: &str) -> Vec<String> {
    list.split(", ").map(str::to_owned).collect()
}

/// Exact column lists of contract §2.2 (one per learn.microsoft.com/graph/api/reportroot-* page).
#[tokio::test]
async fn every_report_has_the_documented_columns_in_order() {
    let sim = start(6, 12).await;
    // A customer with a Microsoft 365 Apps SKU, so that the activations report has rows.
    let cat = tenantctl_sim::skus::Catalog::get();
    let n = (0..6)
        .find(|&i| {
            sim.sim.world.skus(&sim.sim.fleet.customers()[i]).iter().any(|s| {
                cat.skus[s.sku]
                    .plans
                    .iter()
                    .any(|p| p.name == "OFFICESUBSCRIPTION" || p.name == "OFFICE_BUSINESS")
                    && s.consumed > 0
            })
        })
        .expect("a customer with Microsoft 365 Apps");
    let t = healthy(&sim, n);
    let tok = delegated_graph_token(&sim, &t);
    let expected = [
        // reportroot-getmailboxusagedetail
        ("getMailboxUsageDetail(period='D7')", "Report Refresh Date, User Principal Name, Display Name, Is Deleted, Deleted Date, Created Date, Last Activity Date, Item Count, Storage Used (Byte), Issue Warning Quota (Byte), Prohibit Send Quota (Byte), Prohibit Send/Receive Quota (Byte), Deleted Item Count, Deleted Item Size (Byte), Deleted Item Quota (Byte), Has Archive, Report Period"),
        // reportroot-getoffice365activeuserdetail
        ("getOffice365ActiveUserDetail(period='D7')", "Report Refresh Date, User Principal Name, Display Name, Is Deleted, Deleted Date, Has Exchange License, Has OneDrive License, Has SharePoint License, Has Skype For Business License, Has Yammer License, Has Teams License, Exchange Last Activity Date, OneDrive Last Activity Date, SharePoint Last Activity Date, Skype For Business Last Activity Date, Yammer Last Activity Date, Teams Last Activity Date, Exchange License Assign Date, OneDrive License Assign Date, SharePoint License Assign Date, Skype For Business License Assign Date, Yammer License Assign Date, Teams License Assign Date, Assigned Products"),
        // reportroot-getemailactivityuserdetail
        ("getEmailActivityUserDetail(period='D7')", "Report Refresh Date, User Principal Name, Display Name, Is Deleted, Deleted Date, Last Activity Date, Send Count, Receive Count, Read Count, Meeting Created Count, Meeting Interacted Count, Assigned Products, Report Period"),
        // reportroot-getonedriveusageaccountdetail
        ("getOneDriveUsageAccountDetail(period='D7')", "Report Refresh Date, Site URL, Owner Display Name, Is Deleted, Last Activity Date, File Count, Active File Count, Storage Used (Byte), Storage Allocated (Byte), Owner Principal Name, Report Period"),
        // reportroot-getteamsuseractivityuserdetail (ms.date 04/04/2024)
        ("getTeamsUserActivityUserDetail(period='D7')", "Report Refresh Date, Tenant Display Name, Shared Channel Tenant Display Names, User Id, User Principal Name, Last Activity Date, Is Deleted, Deleted Date, Assigned Products, Team Chat Message Count, Private Chat Message Count, Call Count, Meeting Count, Post Messages, Reply Messages, Urgent Messages, Meetings Organized Count, Meetings Attended Count, Ad Hoc Meetings Organized Count, Ad Hoc Meetings Attended Count, Scheduled One-time Meetings Organized Count, Scheduled One-time Meetings Attended Count, Scheduled Recurring Meetings Organized Count, Scheduled Recurring Meetings Attended Count, Audio Duration, Video Duration, Screen Share Duration, Audio Duration In Seconds, Video Duration In Seconds, Screen Share Duration In Seconds, Has Other Action, Is Licensed, Report Period"),
        // reportroot-getmailboxusagestorage
        ("getMailboxUsageStorage(period='D7')", "Report Refresh Date, Storage Used (Byte), Report Date, Report Period"),
        // reportroot-getmailboxusagemailboxcounts
        ("getMailboxUsageMailboxCounts(period='D7')", "Report Refresh Date, Total, Active, Report Date, Report Period"),
        // reportroot-getoffice365activeusercounts
        ("getOffice365ActiveUserCounts(period='D7')", "Report Refresh Date, Office 365, Exchange, OneDrive, SharePoint, Skype For Business, Yammer, Teams, Report Date, Report Period"),
        // reportroot-getoffice365activationsuserdetail (no parameter)
        ("getOffice365ActivationsUserDetail", "Report Refresh Date, User Principal Name, Display Name, Product Type, Last Activated Date, Windows, Mac, Windows 10 Mobile, iOS, Android, Activated On Shared Computer"),
        // reportroot-getemailactivitycounts
        ("getEmailActivityCounts(period='D7')", "Report Refresh Date, Send, Receive, Read, Report Date, Report Period"),
        // reportroot-getsharepointsiteusagedetail
        ("getSharePointSiteUsageDetail(period='D7')", "Report Refresh Date, Site Id, Site URL, Owner Display Name, Is Deleted, Last Activity Date, File Count, Active File Count, Page View Count, Visited Page Count, Storage Used (Byte), Storage Allocated (Byte), Root Web Template, Owner Principal Name, Report Period"),
    ];
    for (c, cols) in expected {
        let (header, rows) = parse(&fetch(&sim, &tok, c).await);
        assert_eq!(header, split(cols), "{c}");
        assert!(rows.iter().all(|r| r.len() == header.len()), "{c}: ragged rows");
        assert!(!rows.is_empty(), "{c}: no rows");
        assert!(rows.iter().all(|r| r[0] == REFRESH), "{c}: Report Refresh Date");
    }
}

/// reportroot-getemailactivityuserdetail, "Response": 302, text/plain, Location; the download
/// needs no Authorization header and is the ground truth of the control API byte for byte.
#[tokio::test]
async fn a_report_call_redirects_to_a_preauthenticated_download() {
    let sim = start(1, 20).await;
    let t = healthy(&sim, 0);
    let tok = delegated_graph_token(&sim, &t);
    let (s, h, body) = call(&sim, &tok, "getEmailActivityUserDetail(period='D30')").await;
    assert_eq!(s, 302);
    assert_eq!(h["content-type"], "text/plain");
    assert!(body.is_empty());
    assert!(h.contains_key("request-id"));
    let loc = h["location"].to_str().unwrap();
    let prefix = format!("{}/reports-download/data/download/", sim.base_url);
    assert!(loc.starts_with(&prefix), "{loc}");
    let opaque = &loc[prefix.len()..];
    assert!(opaque.len() >= 32 && !opaque.contains(&t.id.to_string()));
    let (s, h, csv) = download(loc, None).await;
    assert_eq!(s, 200);
    assert_eq!(h["content-type"], "application/octet-stream");
    assert_eq!(csv, truth(&sim, &t, "getEmailActivityUserDetail(period='D30')").await);
    let (_, rows) = parse(&csv);
    assert!(rows.iter().all(|r| r[12] == "30"), "Report Period = the day count");
    // Percent-encoded quotes and parentheses are the same call.
    let (s, _, _) = call(&sim, &tok, "getEmailActivityUserDetail%28period%3D%27D30%27%29").await;
    assert_eq!(s, 302);
    // Two calls get two different links (random, not derived from the tenant).
    let (_, h2, _) = call(&sim, &tok, "getEmailActivityUserDetail(period='D30')").await;
    assert_ne!(h2["location"], loc);
}

/// "Preauthenticated download URLs … do not require an Authorization header": the simulator
/// refuses one that carries it, loudly, and counts it (GET /_sim/reports).
#[tokio::test]
async fn a_download_carrying_authorization_is_refused_and_counted() {
    let sim = start(1, 8).await;
    let t = healthy(&sim, 0);
    let tok = delegated_graph_token(&sim, &t);
    let (_, h, _) = call(&sim, &tok, "getMailboxUsageDetail(period='D7')").await;
    let loc = h["location"].to_str().unwrap();
    let (s, h, body) = download(loc, Some(&tok)).await;
    assert_eq!(s, 400);
    assert!(h["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert!(String::from_utf8(body)
        .unwrap()
        .contains("without an Authorization header"));
    let (s, _, _) = download(loc, None).await;
    assert_eq!(s, 200);
    let v = control(&sim, reqwest::Method::GET, "/_sim/reports", None).await;
    assert_eq!(v["downloads_refused_authorization"], 1);
    assert_eq!(v["downloads_served"], 1);
    assert_eq!(v["links_issued"], 1);
}

/// URLs "are only valid for a short period of time (a few minutes)": 5 minutes here [I].
#[tokio::test]
async fn a_download_url_expires_after_five_minutes() {
    let sim = start(1, 8).await;
    let t = healthy(&sim, 0);
    let tok = delegated_graph_token(&sim, &t);
    let (_, h, _) = call(&sim, &tok, "getMailboxUsageDetail(period='D7')").await;
    let loc = h["location"].to_str().unwrap().to_owned();
    advance(&sim, 299.0).await;
    assert_eq!(download(&loc, None).await.0, 200);
    advance(&sim, 2.0).await;
    let (s, _, body) = download(&loc, None).await;
    assert_eq!(s, 404);
    assert!(String::from_utf8(body).unwrap().contains("expired"));
    // An invented id is no better.
    let fake = format!(
        "{}/reports-download/data/download/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        sim.base_url
    );
    assert_eq!(download(&fake, None).await.0, 404);
}

/// Graph's error resource (learn.microsoft.com/graph/errors) for bad calls; texts [I].
#[tokio::test]
async fn bad_periods_dates_and_functions_are_graphs_400() {
    let sim = start(1, 8).await;
    let t = healthy(&sim, 0);
    let tok = delegated_graph_token(&sim, &t);
    let cases = [
        ("getMailboxUsageDetail(period='D14')", "period"),
        // Within the last 30 days only (reportroot-getemailactivityuserdetail, "date").
        ("getEmailActivityUserDetail(date=2025-10-01)", "past 30 days"),
        ("getEmailActivityUserDetail(date=2025-11-31)", "YYYY-MM-DD"),
        ("getEmailActivityUserDetail", "either period or date"),
        // getMailboxUsageDetail has no date overload; activations has no parameter.
        (
            "getMailboxUsageDetail(date=2025-11-20)",
            "Resource not found for the segment 'getMailboxUsageDetail'.",
        ),
        (
            "getOffice365ActivationsUserDetail(period='D7')",
            "Resource not found for the segment 'getOffice365ActivationsUserDetail'.",
        ),
        ("getFoo(period='D7')", "Resource not found for the segment 'getFoo'."),
    ];
    for (c, text) in cases {
        let (s, _, body) = call(&sim, &tok, c).await;
        assert_eq!(s, 400, "{c}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["error"]["code"], "BadRequest", "{c}");
        assert!(v["error"]["message"].as_str().unwrap().contains(text), "{c}: {v}");
        assert!(v["error"]["innerError"]["request-id"].is_string());
    }
    // A date within the last 30 days works for a detail report.
    let (s, _, _) = call(&sim, &tok, "getEmailActivityUserDetail(date=2025-11-20)").await;
    assert_eq!(s, 302);
    // A deeper unknown path names its segment too.
    let (s, _, body) = get(&sim, &tok, "/graph/v1.0/reports/getFoo/bar", &[]).await;
    assert_eq!(s, 400);
    assert!(body.contains("Resource not found for the segment 'getFoo'."), "{body}");
}

/// reportroot-getmailboxusagemailboxcounts: "… how many are active each day of the reporting
/// period": one row per day, newest first, ending at the refresh date [I alignment].
#[tokio::test]
async fn counts_reports_have_one_row_per_day_of_the_period() {
    let sim = start(1, 30).await;
    let t = healthy(&sim, 0);
    let tok = delegated_graph_token(&sim, &t);
    for c in [
        "getMailboxUsageMailboxCounts",
        "getMailboxUsageStorage",
        "getOffice365ActiveUserCounts",
        "getEmailActivityCounts",
    ] {
        for (p, n) in [("D7", 7), ("D30", 30)] {
            let (h, rows) = parse(&fetch(&sim, &tok, &format!("{c}(period='{p}')")).await);
            assert_eq!(rows.len(), n, "{c} {p}");
            assert_eq!(col(&h, &rows[0], "Report Date"), REFRESH);
            assert!(rows.iter().all(|r| col(&h, r, "Report Period") == n.to_string()));
            let dates: Vec<&str> = rows.iter().map(|r| col(&h, r, "Report Date")).collect();
            assert!(dates.windows(2).all(|w| w[0] > w[1]), "{c}: newest first");
        }
    }
}

/// World consistency (docs/simulator-reports.md "ground truth"): counts equal what the detail
/// rows imply on the refresh date.
#[tokio::test]
async fn counts_agree_with_the_detail_rows() {
    let sim = start(1, 60).await;
    let t = healthy(&sim, 0);
    let tok = delegated_graph_token(&sim, &t);
    let (h, detail) = parse(&fetch(&sim, &tok, "getMailboxUsageDetail(period='D30')").await);
    let (hc, counts) = parse(&fetch(&sim, &tok, "getMailboxUsageMailboxCounts(period='D30')").await);
    let live: Vec<&Vec<String>> = detail
        .iter()
        .filter(|r| col(&h, r, "Is Deleted") == "False" && col(&h, r, "Created Date") <= REFRESH)
        .collect();
    assert_eq!(col(&hc, &counts[0], "Total"), live.len().to_string());
    let active = live
        .iter()
        .filter(|r| col(&h, r, "Last Activity Date") == REFRESH)
        .count();
    assert_eq!(col(&hc, &counts[0], "Active"), active.to_string());
    let (hs, storage) = parse(&fetch(&sim, &tok, "getMailboxUsageStorage(period='D30')").await);
    let bytes: u64 = live
        .iter()
        .map(|r| col(&h, r, "Storage Used (Byte)").parse::<u64>().unwrap())
        .sum();
    assert_eq!(col(&hs, &storage[0], "Storage Used (Byte)"), bytes.to_string());
    // Active users per service on the refresh date.
    let (ha, users) = parse(&fetch(&sim, &tok, "getOffice365ActiveUserDetail(period='D30')").await);
    let (hu, per_day) = parse(&fetch(&sim, &tok, "getOffice365ActiveUserCounts(period='D30')").await);
    for (svc, column) in [
        ("Exchange", "Exchange Last Activity Date"),
        ("OneDrive", "OneDrive Last Activity Date"),
        ("Teams", "Teams Last Activity Date"),
    ] {
        let n = users.iter().filter(|r| col(&ha, r, column) == REFRESH).count();
        assert_eq!(col(&hu, &per_day[0], svc), n.to_string(), "{svc}");
    }
    let any = users
        .iter()
        .filter(|r| {
            ha.iter()
                .enumerate()
                .any(|(i, c)| c.ends_with("Last Activity Date") && r[i] == REFRESH)
        })
        .count();
    assert_eq!(col(&hu, &per_day[0], "Office 365"), any.to_string());
    // Email activity: the detail's Last Activity Date is the mailbox report's.
    let (he, email) = parse(&fetch(&sim, &tok, "getEmailActivityUserDetail(period='D30')").await);
    assert_eq!(email.len(), detail.len());
    for (a, b) in email.iter().zip(&detail) {
        assert_eq!(col(&he, a, "Last Activity Date"), col(&h, b, "Last Activity Date"));
    }
}

/// The mailbox usage report agrees with Exchange's Get-MailboxStatistics in the simulator
/// (the world's mailboxes: TotalItemSize, ItemCount, deleted items, quotas, archive).
#[tokio::test]
async fn mailbox_usage_agrees_with_get_mailboxstatistics() {
    let sim = start(1, 60).await;
    let t = healthy(&sim, 0);
    let tok = delegated_graph_token(&sim, &t);
    reveal(&sim, &t, &tok).await;
    let (h, rows) = parse(&fetch(&sim, &tok, "getMailboxUsageDetail(period='D30')").await);
    let boxes = sim.sim.exchange_mailboxes(&t.id.to_string());
    assert_eq!(rows.len(), boxes.len());
    for m in &boxes {
        let r = rows
            .iter()
            .find(|r| col(&h, r, "User Principal Name") == m.user_principal_name)
            .unwrap_or_else(|| panic!("{} missing", m.user_principal_name));
        let a = &m.activity;
        assert_eq!(col(&h, r, "Storage Used (Byte)"), a.total_item_bytes.to_string());
        assert_eq!(col(&h, r, "Item Count"), a.item_count.to_string());
        assert_eq!(col(&h, r, "Deleted Item Count"), a.deleted_item_count.to_string());
        assert_eq!(
            col(&h, r, "Deleted Item Size (Byte)"),
            a.total_deleted_item_bytes.to_string()
        );
        assert_eq!(
            col(&h, r, "Has Archive"),
            if m.archive_guid.is_some() { "True" } else { "False" }
        );
        assert_eq!(col(&h, r, "Display Name"), m.display_name);
        if let tenantctl_sim::world::mailboxes::Quota::Bytes(b) = m.prohibit_send_receive_quota {
            assert_eq!(col(&h, r, "Prohibit Send/Receive Quota (Byte)"), b.to_string());
        }
        // Exchange's last user action is the report's Last Activity Date when before the refresh.
        let last = a
            .last_user_action
            .map(|x| tenantctl_sim::world::usage::ymd(x.div_euclid(86_400)));
        match last {
            Some(d) if d.as_str() <= REFRESH => assert_eq!(col(&h, r, "Last Activity Date"), d),
            Some(_) => assert!(col(&h, r, "Last Activity Date") <= REFRESH),
            None => assert_eq!(col(&h, r, "Last Activity Date"), ""),
        }
    }
}

/// Reports are views of the directory: a created user appears at once (no activity yet); a
/// deleted one shows `Is Deleted` True and its `Deleted Date`.
#[tokio::test]
async fn created_and_deleted_users_show_in_the_next_report() {
    let sim = start(1, 10).await;
    let t = healthy(&sim, 0);
    let tok = delegated_graph_token(&sim, &t);
    reveal(&sim, &t, &tok).await;
    let upn = format!("new.person@{}", t.initial_domain);
    let r = client()
        .post(format!("{}/graph/v1.0/users", sim.base_url))
        .bearer_auth(&tok)
        .json(
            &json!({"accountEnabled": true, "displayName": "New Person", "mailNickname": "new.person",
            "userPrincipalName": upn, "usageLocation": "US",
            "passwordProfile": {"forceChangePasswordNextSignIn": true, "password": "xWwvJ]6NMw+bWH-d"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let (h, rows) = parse(&fetch(&sim, &tok, "getOffice365ActiveUserDetail(period='D7')").await);
    let row = rows
        .iter()
        .find(|r| col(&h, r, "User Principal Name") == upn)
        .expect("created user listed");
    assert_eq!(col(&h, row, "Is Deleted"), "False");
    assert_eq!(col(&h, row, "Has Exchange License"), "False");
    assert_eq!(col(&h, row, "Assigned Products"), "");
    // Delete a licensed generated user with a mailbox.
    let (hm, boxes) = parse(&fetch(&sim, &tok, "getMailboxUsageDetail(period='D7')").await);
    let victim = col(&hm, &boxes[0], "User Principal Name").to_owned();
    let r = client()
        .delete(format!("{}/graph/v1.0/users/{victim}", sim.base_url))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (hm, boxes2) = parse(&fetch(&sim, &tok, "getMailboxUsageDetail(period='D7')").await);
    assert_eq!(boxes2.len(), boxes.len());
    let row = boxes2
        .iter()
        .find(|r| col(&hm, r, "User Principal Name") == victim)
        .expect("deleted user listed");
    assert_eq!(col(&hm, row, "Is Deleted"), "True");
    assert_eq!(col(&hm, row, "Deleted Date"), "2025-11-25", "the clock's day");
    let (hc, counts) = parse(&fetch(&sim, &tok, "getMailboxUsageMailboxCounts(period='D7')").await);
    // It still existed on the refresh date, two days before its deletion.
    let existing = boxes.iter().filter(|r| col(&hm, r, "Created Date") <= REFRESH).count();
    assert_eq!(col(&hc, &counts[0], "Total"), existing.to_string());
}

/// adminReportSettings (learn.microsoft.com/graph/api/adminreportsettings-get, -update):
/// concealed by default (Microsoft's default since 2021-09-01); only a Global Administrator may
/// PATCH it (techcommunity 2022-06-23); concealed values are 32 upper-case hex digits, stable
/// per user; Global Reader always gets concealed names (techcommunity 2021-08-30).
#[tokio::test]
async fn names_are_concealed_by_default_and_a_global_admin_can_reveal_them() {
    let sim = start(2, 10).await;
    let t = healthy(&sim, 0);
    let tok = delegated_graph_token(&sim, &t);
    let settings = format!("{}/graph/v1.0/admin/reportSettings", sim.base_url);
    let (s, _, v) = get_json(&sim, &tok, "/graph/v1.0/admin/reportSettings", &[]).await;
    assert_eq!(s, 200);
    assert_eq!(
        v,
        json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#admin/reportSettings/$entity",
               "displayConcealedNames": true})
    );
    let is_hex = |s: &str| s.len() == 32 && s.chars().all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c));
    let (h, rows) = parse(&fetch(&sim, &tok, "getMailboxUsageDetail(period='D7')").await);
    assert!(rows
        .iter()
        .all(|r| is_hex(col(&h, r, "User Principal Name")) && is_hex(col(&h, r, "Display Name"))));
    let (h2, rows2) = parse(&fetch(&sim, &tok, "getEmailActivityUserDetail(period='D7')").await);
    assert_eq!(
        col(&h2, &rows2[0], "User Principal Name"),
        col(&h, &rows[0], "User Principal Name"),
        "stable"
    );
    let (ho, od) = parse(&fetch(&sim, &tok, "getOneDriveUsageAccountDetail(period='D7')").await);
    assert!(od
        .iter()
        .all(|r| is_hex(col(&ho, r, "Site URL")) && is_hex(col(&ho, r, "Owner Principal Name"))));
    // Healthy customers hold no Global Administrator unless drawn: PATCH is refused.
    sim.sim.global_admin_overrides.write().insert(t.idx, false);
    let patch = |tok: String| {
        let url = settings.clone();
        async move {
            client()
                .patch(url)
                .bearer_auth(tok)
                .json(&json!({"displayConcealedNames": false}))
                .send()
                .await
                .unwrap()
        }
    };
    let r = patch(tok.clone()).await;
    assert_eq!(r.status(), 403);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "Authorization_RequestDenied");
    reveal(&sim, &t, &tok).await;
    let (_, _, v) = get_json(&sim, &tok, "/graph/v1.0/admin/reportSettings", &[]).await;
    assert_eq!(v["displayConcealedNames"], false);
    let (h, rows) = parse(&fetch(&sim, &tok, "getMailboxUsageDetail(period='D7')").await);
    assert!(rows.iter().all(|r| col(&h, r, "User Principal Name").contains('@')));
    let (ho, od) = parse(&fetch(&sim, &tok, "getOneDriveUsageAccountDetail(period='D7')").await);
    let slug = t.initial_domain.split('.').next().unwrap();
    assert!(od
        .iter()
        .all(|r| col(&ho, r, "Site URL").starts_with(&format!("https://{slug}-my.sharepoint.com/personal/"))));
    // The ground truth honours the setting.
    assert_eq!(
        truth(&sim, &t, "getMailboxUsageDetail(period='D7')").await,
        fetch(&sim, &tok, "getMailboxUsageDetail(period='D7')").await
    );
    // Global Reader only (no Global Administrator either): concealed regardless of the setting.
    sim.sim.global_admin_overrides.write().remove(&t.idx);
    sim.sim.trouble_overrides.write().insert(t.idx, Trouble::ReadOnlyRoles);
    let (h, rows) = parse(&fetch(&sim, &tok, "getMailboxUsageDetail(period='D7')").await);
    assert!(rows.iter().all(|r| is_hex(col(&h, r, "User Principal Name"))));
    // App-only: the partner app reads the setting (ReportSettings.Read.All) but may not change it.
    let f = &sim.sim.fleet;
    let app = tenantctl_sim::auth::mint(
        &sim.sim.keys,
        &tenantctl_sim::auth::TokenRequest {
            tenant_id: t.id,
            audience: tenantctl_sim::auth::AUD_GRAPH,
            app_id: f.partner.client_id,
            user: None,
            lifetime_secs: 3600,
        },
    );
    let (s, _, v) = get_json(&sim, &app, "/graph/v1.0/admin/reportSettings", &[]).await;
    assert_eq!((s, v["displayConcealedNames"].clone()), (200, json!(false)));
    assert_eq!(patch(app.clone()).await.status(), 403);
    // App-only reads reports with Reports.Read.All and sees names when the tenant shows them.
    let (h, rows) = parse(&fetch(&sim, &app, "getMailboxUsageDetail(period='D7')").await);
    assert!(rows.iter().all(|r| col(&h, r, "User Principal Name").contains('@')));
    // Another tenant keeps the default.
    let other = healthy(&sim, 1);
    let (_, _, v) = get_json(
        &sim,
        &delegated_graph_token(&sim, &other),
        "/graph/v1.0/admin/reportSettings",
        &[],
    )
    .await;
    assert_eq!(v["displayConcealedNames"], true);
}

/// ~10% of healthy customers hold Global Administrator (an independent draw); the control API
/// lists it and gives or takes it.
#[tokio::test]
async fn some_healthy_customers_hold_global_administrator() {
    let mut c = SimConfig::new(1, 200);
    c.fleet.users_per_tenant = Some(3);
    c.fleet.anchor = ANCHOR;
    let sim = start_with(c).await;
    let ga: Vec<_> = sim.sim.fleet.global_admin_customers().cloned().collect();
    let healthy_n = sim
        .sim
        .fleet
        .customers()
        .iter()
        .filter(|t| t.trouble == Trouble::None)
        .count();
    assert!(
        ga.len() * 100 > healthy_n * 4 && ga.len() * 100 < healthy_n * 18,
        "{} of {healthy_n}",
        ga.len()
    );
    let gid = tenantctl_sim::fleet::roles::GLOBAL_ADMINISTRATOR;
    assert!(ga.iter().all(|t| t.active_roles().contains(&gid)));
    assert!(ga.iter().all(|t| t.relationships[0].auto_extend == "PT0S"));
    assert!(sim
        .sim
        .fleet
        .no_exchange_role_customers()
        .all(|t| !t.active_roles().contains(&gid)));
    let v = control(&sim, reqwest::Method::GET, "/_sim/tenants", None).await;
    let listed = v["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["globalAdmin"] == true)
        .count();
    assert_eq!(listed, ga.len());
    let t = &ga[0];
    let path = format!("/_sim/tenants/{}/global-admin", t.id);
    let v = control(&sim, reqwest::Method::PUT, &path, Some(json!({"granted": false}))).await;
    assert_eq!(v["globalAdmin"], false);
    let v = control(&sim, reqwest::Method::PUT, &path, Some(json!({"granted": null}))).await;
    assert_eq!(v["globalAdmin"], true);
}

/// learn.microsoft.com/graph/throttling-limits: 14 CSV requests per 10 minutes per app per
/// tenant per report API; 429 TooManyRequests with Retry-After; another report still answers.
#[tokio::test]
async fn the_fifteenth_call_of_one_report_in_ten_minutes_is_throttled() {
    let sim = start(1, 5).await;
    let t = healthy(&sim, 0);
    let tok = delegated_graph_token(&sim, &t);
    // Throttling is off in tests: the reports quota alone is switched on.
    let v = control(
        &sim,
        reqwest::Method::POST,
        "/_sim/reports",
        Some(json!({"quota_enabled": true})),
    )
    .await;
    assert_eq!(v["quota_enabled"], true);
    for i in 0..14 {
        let (s, _, b) = call(&sim, &tok, "getMailboxUsageDetail(period='D7')").await;
        assert_eq!(s, 302, "call {i}: {b}");
        advance(&sim, 10.0).await;
    }
    let (s, h, b) = call(&sim, &tok, "getMailboxUsageDetail(period='D7')").await;
    assert_eq!(s, 429);
    let v: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(v["error"]["code"], "TooManyRequests");
    let retry: f64 = h["retry-after"].to_str().unwrap().parse().unwrap();
    // The first call was 140 s ago: it leaves the window in 460 s.
    assert_eq!(retry, 460.0);
    let (s, _, _) = call(&sim, &tok, "getMailboxUsageDetail(period='D30')").await;
    assert_eq!(s, 429, "the same report API, whatever the period");
    let (s, _, _) = call(&sim, &tok, "getEmailActivityUserDetail(period='D7')").await;
    assert_eq!(s, 302, "another report API has its own 14");
    advance(&sim, retry).await;
    let (s, _, _) = call(&sim, &tok, "getMailboxUsageDetail(period='D7')").await;
    assert_eq!(s, 302);
    // Switched off, no limit.
    control(
        &sim,
        reqwest::Method::POST,
        "/_sim/reports",
        Some(json!({"quota_enabled": false})),
    )
    .await;
    for _ in 0..20 {
        assert_eq!(call(&sim, &tok, "getMailboxUsageDetail(period='D7')").await.0, 302);
    }
}

/// The tenant of a report is the token's; a link serves only the report it was issued for.
#[tokio::test]
async fn reports_are_isolated_per_tenant() {
    let sim = start(2, 10).await;
    let (a, b) = (healthy(&sim, 0), healthy(&sim, 1));
    let (ta, tb) = (delegated_graph_token(&sim, &a), delegated_graph_token(&sim, &b));
    reveal(&sim, &a, &ta).await;
    reveal(&sim, &b, &tb).await;
    let of = |t: &Tenant, upn: &str| t.domains.iter().any(|d| upn.ends_with(&format!("@{}", d.name)));
    let (h, rows) = parse(&fetch(&sim, &ta, "getMailboxUsageDetail(period='D7')").await);
    assert!(!rows.is_empty() && rows.iter().all(|r| of(&a, col(&h, r, "User Principal Name"))));
    let (h, rows) = parse(&fetch(&sim, &tb, "getMailboxUsageDetail(period='D7')").await);
    assert!(!rows.is_empty() && rows.iter().all(|r| of(&b, col(&h, r, "User Principal Name"))));
    // A tenant whose relationship expired gives no token's access: the call is refused.
    sim.sim
        .trouble_overrides
        .write()
        .insert(a.idx, Trouble::RelationshipExpired);
    let (s, _, _) = call(&sim, &ta, "getMailboxUsageDetail(period='D7')").await;
    assert_eq!(s, 403);
}

/// A tenant of 5,000 users downloads in chunks (the benchmark's shape), with every mailbox.
#[tokio::test]
async fn a_large_tenant_streams_its_mailbox_report() {
    let sim = start(1, 5000).await;
    let t = healthy(&sim, 0);
    let tok = delegated_graph_token(&sim, &t);
    let started = std::time::Instant::now();
    let (_, rows) = parse(&fetch(&sim, &tok, "getMailboxUsageDetail(period='D180')").await);
    let took = started.elapsed();
    assert_eq!(rows.len(), sim.sim.exchange_mailboxes(&t.id.to_string()).len());
    assert!(took.as_secs_f64() < 20.0, "{took:?}");
}

/// The concealed-names setting is a change like any other: saved with `--state-dir` and
/// loaded at the next start; a state file written before the setting existed still loads.
#[tokio::test]
async fn the_concealed_names_setting_survives_a_restart() {
    let dir = std::env::temp_dir().join(format!(
        "tenantctl-sim-reports-{}-{}",
        std::process::id(),
        tenantctl_sim::ids::random_guid()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let config = || {
        let mut c = SimConfig::new(3, 2);
        c.fleet.users_per_tenant = Some(4);
        c.fleet.anchor = ANCHOR;
        c.clock = Clock::manual_at(NOW);
        c.throttle.enabled = false;
        c.state_dir = Some(dir.clone());
        c
    };
    let sim = start_with(config()).await;
    let t = healthy(&sim, 0);
    reveal(&sim, &t, &delegated_graph_token(&sim, &t)).await;
    sim.stop().await;
    let file = dir.join(tenantctl_sim::STATE_FILE);
    let saved: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(saved["tenants"][t.idx.to_string()]["display_concealed_names"], false);
    let sim = start_with(config()).await;
    let t = healthy(&sim, 0);
    let (_, _, v) = get_json(
        &sim,
        &delegated_graph_token(&sim, &t),
        "/graph/v1.0/admin/reportSettings",
        &[],
    )
    .await;
    assert_eq!(v["displayConcealedNames"], false);
    sim.stop().await;
    // An older file: no report setting, no deleted-user records.
    let mut old = saved.clone();
    let o = old["tenants"][t.idx.to_string()].as_object_mut().unwrap();
    o.remove("display_concealed_names");
    o.remove("deleted_users");
    o.insert("verified_domains".into(), json!(["x.example"]));
    std::fs::write(&file, serde_json::to_vec(&old).unwrap()).unwrap();
    let sim = start_with(config()).await;
    let t = healthy(&sim, 0);
    let (_, _, v) = get_json(
        &sim,
        &delegated_graph_token(&sim, &t),
        "/graph/v1.0/admin/reportSettings",
        &[],
    )
    .await;
    assert_eq!(v["displayConcealedNames"], true);
    sim.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// json-batching: a report function inside `$batch` answers its 302 as a sub-response with the
/// `Location` header, not followed (microsoft-api-contracts.md §2.4 [I]).
#[tokio::test]
async fn a_report_call_in_a_batch_is_a_302_step_with_its_location() {
    let sim = start(1, 6).await;
    let t = healthy(&sim, 0);
    let tok = delegated_graph_token(&sim, &t);
    let r = client()
        .post(format!("{}/graph/v1.0/$batch", sim.base_url))
        .bearer_auth(&tok)
        .json(
            &json!({"requests": [{"id": "1", "method": "GET", "url": "/reports/getMailboxUsageDetail(period='D7')"}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let step = &v["responses"][0];
    assert_eq!(step["status"], 302, "{v}");
    let loc = step["headers"]["Location"]
        .as_str()
        .or(step["headers"]["location"].as_str())
        .unwrap();
    assert_eq!(download(loc, None).await.0, 200);
}

/// "If-None-Match: if the eTag provided matches the current tag on the file, a 304 Not
/// Modified response code is returned" (reportroot-getmailboxusagedetail, request headers).
#[tokio::test]
async fn if_none_match_with_the_current_tag_is_304() {
    let sim = start(1, 6).await;
    let t = healthy(&sim, 0);
    let tok = delegated_graph_token(&sim, &t);
    let c = "getMailboxUsageDetail(period='D7')";
    let (s, h, _) = call(&sim, &tok, c).await;
    assert_eq!(s, 302);
    let tag = h["etag"].to_str().unwrap().to_owned();
    let (_, h2, _) = download(h["location"].to_str().unwrap(), None).await;
    assert_eq!(h2["etag"], tag.as_str());
    let (s, h3, _) = get(&sim, &tok, &report_path(c), &[("if-none-match", &tag)]).await;
    assert_eq!(s, 304);
    assert_eq!(h3["etag"], tag.as_str());
    // Another period is another file; the next day's file is another too.
    let (s, _, _) = get(
        &sim,
        &tok,
        &report_path("getMailboxUsageDetail(period='D30')"),
        &[("if-none-match", &tag)],
    )
    .await;
    assert_eq!(s, 302);
    advance(&sim, 86_400.0).await;
    let (s, _, _) = get(&sim, &tok, &report_path(c), &[("if-none-match", &tag)]).await;
    assert_eq!(s, 302);
}
