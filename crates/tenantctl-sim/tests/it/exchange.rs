//! Exchange admin API: wire shapes, paging and errors against the contract
//! (shared/reference/exchange-and-reports-contract.md §1.3–§1.7).

use crate::common::*;
use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use tenantctl_sim::auth::{mint, TokenRequest, AUD_EXCHANGE};
use tenantctl_sim::fleet::{Tenant, Trouble};
use tenantctl_sim::RunningSim;

/// A delegated Exchange token (audience https://outlook.office365.com) for tenant `t`.
pub fn exo_token(sim: &RunningSim, t: &Tenant) -> String {
    let f = &sim.sim.fleet;
    mint(
        &sim.sim.keys,
        &TokenRequest {
            tenant_id: t.id,
            audience: AUD_EXCHANGE,
            app_id: f.partner.client_id,
            user: Some((f.partner.service_account_id, &f.partner.service_account_upn)),
            lifetime_secs: 3600,
        },
    )
}

/// An app-only Exchange token (roles: Exchange.ManageAsApp).
pub fn exo_app_token(sim: &RunningSim, t: &Tenant) -> String {
    mint(
        &sim.sim.keys,
        &TokenRequest {
            tenant_id: t.id,
            audience: AUD_EXCHANGE,
            app_id: sim.sim.fleet.partner.client_id,
            user: None,
            lifetime_secs: 3600,
        },
    )
}

/// The `n`th customer that has an Exchange-capable role, trouble forced to none.
pub fn exo_tenant(sim: &RunningSim, n: usize) -> Tenant {
    let seed = sim.sim.fleet.config.seed;
    let t = sim
        .sim
        .fleet
        .customers()
        .iter()
        .filter(|t| !tenantctl_sim::fleet::no_exchange_role_draw(seed, t.idx))
        .nth(n)
        .expect("enough customers")
        .clone();
    sim.sim.trouble_overrides.write().insert(t.idx, Trouble::None);
    t
}

pub fn invoke_url(sim: &RunningSim, t: &Tenant) -> String {
    format!("{}/outlook/adminapi/beta/{}/InvokeCommand", sim.base_url, t.id)
}

pub fn cmd(name: &str, params: Value) -> Value {
    json!({"CmdletInput": {"CmdletName": name, "Parameters": params}})
}

/// POSTs `body` to `url` with the token and extra headers: status, headers, JSON (or Null).
pub async fn post(url: &str, token: &str, body: &Value, extra: &[(&str, &str)]) -> (u16, HeaderMap, Value) {
    let mut rb = client().post(url).bearer_auth(token).json(body);
    for (k, v) in extra {
        rb = rb.header(*k, *v);
    }
    let r = rb.send().await.unwrap();
    let s = r.status().as_u16();
    let h = r.headers().clone();
    let text = r.text().await.unwrap();
    (s, h, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub async fn invoke(sim: &RunningSim, t: &Tenant, token: &str, body: Value) -> (u16, Value) {
    let (s, _, v) = post(&invoke_url(sim, t), token, &body, &[]).await;
    (s, v)
}

/// Follows every nextLink, re-POSTing the same body and headers (CIPP `New-ExoRequest`).
pub async fn invoke_all(
    sim: &RunningSim,
    t: &Tenant,
    token: &str,
    body: &Value,
    extra: &[(&str, &str)],
) -> (Vec<Value>, usize) {
    let mut url = invoke_url(sim, t);
    let mut rows = vec![];
    let mut pages = 0;
    loop {
        let (s, _, v) = post(&url, token, body, extra).await;
        assert_eq!(s, 200, "{v}");
        pages += 1;
        rows.extend(v["value"].as_array().unwrap().iter().cloned());
        match v["@odata.nextLink"].as_str() {
            Some(next) => {
                assert!(
                    !v["@adminapi.warnings"].as_array().unwrap().is_empty(),
                    "a cut page warns"
                );
                url = next.to_owned()
            }
            None => break,
        }
    }
    (rows, pages)
}

/// The three parts of `error.details[0].message` (ExoHelper splits on `|` into exactly three).
pub fn detail(v: &Value) -> (String, String, String) {
    let m = v["error"]["details"][0]["message"]
        .as_str()
        .expect("details[0].message");
    let parts: Vec<&str> = m.splitn(3, '|').collect();
    assert_eq!(parts.len(), 3, "{m}");
    (parts[0].to_owned(), parts[1].to_owned(), parts[2].to_owned())
}

async fn sim_with(users: u32) -> RunningSim {
    start_sim(6, Some(users)).await
}

#[tokio::test]
async fn get_mailbox_answers_in_the_contracts_shape() {
    let sim = sim_with(40).await;
    let t = exo_tenant(&sim, 0);
    let tok = exo_token(&sim, &t);
    let (s, v) = invoke(&sim, &t, &tok, cmd("Get-Mailbox", json!({"ResultSize": "Unlimited"}))).await;
    assert_eq!(s, 200, "{v}");
    // §1.4: context, the warnings annotation and an empty warnings array on a complete answer.
    assert!(v["@odata.context"].as_str().unwrap().contains("$metadata#"));
    assert_eq!(v["adminapi.warnings@odata.type"], "#Collection(String)");
    assert_eq!(v["@adminapi.warnings"], json!([]));
    assert!(v.get("@odata.nextLink").is_none());
    let rows = v["value"].as_array().unwrap();
    assert!(!rows.is_empty());
    // §1.7: the properties CIPP and graph2otel read, PascalCase, exactly these names.
    for name in [
        "Identity",
        "Name",
        "Alias",
        "DisplayName",
        "UserPrincipalName",
        "PrimarySmtpAddress",
        "EmailAddresses",
        "RecipientType",
        "RecipientTypeDetails",
        "ExternalDirectoryObjectId",
        "ExchangeGuid",
        "Guid",
        "ArchiveGuid",
        "ArchiveStatus",
        "LitigationHoldEnabled",
        "LitigationHoldDate",
        "LitigationHoldDuration",
        "ProhibitSendQuota",
        "ProhibitSendReceiveQuota",
        "IssueWarningQuota",
        "HiddenFromAddressListsEnabled",
        "ForwardingSmtpAddress",
        "ForwardingAddress",
        "DeliverToMailboxAndForward",
        "GrantSendOnBehalfTo",
        "WhenCreated",
        "WhenMailboxCreated",
        "RetentionPolicy",
        "AuditEnabled",
        "SingleItemRecoveryEnabled",
        "IsInactiveMailbox",
        "PersistedCapabilities",
        "InPlaceHolds",
        "WhenSoftDeleted",
    ] {
        for r in rows {
            assert!(r.get(name).is_some(), "{name} missing in {r}");
        }
    }
    let size_text = regex_like_size;
    for r in rows {
        assert!(r["LitigationHoldEnabled"].is_boolean() && r["AuditEnabled"].is_boolean());
        assert_eq!(r["LitigationHoldDuration"], "Unlimited");
        for q in ["ProhibitSendQuota", "ProhibitSendReceiveQuota", "IssueWarningQuota"] {
            let q = r[q].as_str().unwrap();
            assert!(q == "Unlimited" || size_text(q), "{q}");
        }
        let addrs = r["EmailAddresses"].as_array().unwrap();
        let primary = format!("SMTP:{}", r["PrimarySmtpAddress"].as_str().unwrap());
        assert_eq!(
            addrs
                .iter()
                .filter(|a| a.as_str().unwrap().starts_with("SMTP:"))
                .count(),
            1
        );
        assert!(addrs.contains(&Value::String(primary)));
        // The onmicrosoft proxy is always there (§1.4: SMTP:/smtp: prefixes).
        assert!(addrs
            .iter()
            .any(|a| a.as_str().unwrap().to_ascii_lowercase().ends_with(&t.initial_domain)));
        match r["ArchiveStatus"].as_str().unwrap() {
            "None" => assert_eq!(r["ArchiveGuid"], "00000000-0000-0000-0000-000000000000"),
            "Active" => assert_ne!(r["ArchiveGuid"], "00000000-0000-0000-0000-000000000000"),
            other => panic!("ArchiveStatus {other}"),
        }
        if let Some(f) = r["ForwardingSmtpAddress"].as_str() {
            assert!(f.starts_with("smtp:"), "stored as smtp:<address> (§1.4): {f}");
        }
        assert_eq!(r["RecipientType"], "UserMailbox");
    }
}

/// ByteQuantifiedSize text: `<n> <unit> (<digits with commas> bytes)`.
fn regex_like_size(s: &str) -> bool {
    let Some((head, tail)) = s.split_once(" (") else {
        return false;
    };
    let Some(bytes) = tail.strip_suffix(" bytes)") else {
        return false;
    };
    let Some((num, unit)) = head.split_once(' ') else {
        return false;
    };
    let Ok(b) = bytes.replace(',', "").parse::<u64>() else {
        return false;
    };
    num.parse::<f64>().is_ok()
        && ["B", "KB", "MB", "GB", "TB"].contains(&unit)
        && tenantctl_sim::world::mailboxes::byte_quantified(b) == s
}

#[tokio::test]
async fn statistics_sizes_are_exchange_text_and_dates_iso_or_null() {
    let sim = sim_with(30).await;
    let t = exo_tenant(&sim, 1);
    let tok = exo_token(&sim, &t);
    let boxes = sim.sim.exchange_mailboxes(&t.id.to_string());
    assert!(!boxes.is_empty());
    for m in boxes.iter().take(12) {
        let (s, v) = invoke(
            &sim,
            &t,
            &tok,
            cmd("Get-MailboxStatistics", json!({"Identity": m.user_principal_name})),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        let r = &v["value"][0];
        for p in [
            "DisplayName",
            "ItemCount",
            "DeletedItemCount",
            "TotalItemSize",
            "TotalDeletedItemSize",
            "LastLogonTime",
            "LastUserActionTime",
            "LastInteractionTime",
            "MailboxTypeDetail",
            "MailboxGuid",
            "IsArchiveMailbox",
            "ExternalDirectoryOrganizationId",
        ] {
            assert!(r.get(p).is_some(), "{p} missing");
        }
        assert!(
            regex_like_size(r["TotalItemSize"].as_str().unwrap()),
            "{}",
            r["TotalItemSize"]
        );
        assert!(regex_like_size(r["TotalDeletedItemSize"].as_str().unwrap()));
        for d in ["LastLogonTime", "LastUserActionTime", "LastInteractionTime"] {
            match &r[d] {
                Value::Null => {}
                Value::String(s) => assert!(tenantctl_sim::platform::clock::parse_rfc3339(s).is_some(), "{s}"),
                other => panic!("{d}: {other}"),
            }
        }
        assert_eq!(r["MailboxTypeDetail"], m.kind.type_details());
        assert_eq!(r["ExternalDirectoryOrganizationId"], t.id.to_string());
    }
}

#[tokio::test]
async fn paging_by_re_posting_to_the_next_link_returns_each_mailbox_once() {
    let sim = sim_with(60).await;
    let t = exo_tenant(&sim, 0);
    let tok = exo_token(&sim, &t);
    let body = cmd("Get-Mailbox", json!({"ResultSize": "Unlimited"}));
    let (all, pages) = invoke_all(&sim, &t, &tok, &body, &[]).await;
    assert_eq!(pages, 1, "without Prefer a page holds up to 1000 rows");
    let (paged, pages) = invoke_all(&sim, &t, &tok, &body, &[("Prefer", "odata.maxpagesize=7")]).await;
    assert_eq!(pages, all.len().div_ceil(7));
    let ids: Vec<&str> = paged
        .iter()
        .map(|r| r["ExternalDirectoryObjectId"].as_str().unwrap())
        .collect();
    let mut uniq = ids.clone();
    uniq.sort();
    uniq.dedup();
    assert_eq!(uniq.len(), ids.len(), "no mailbox twice");
    assert_eq!(paged, all);
    // The nextLink is absolute on the request's own origin and carries a skiptoken.
    let (_, _, v) = post(&invoke_url(&sim, &t), &tok, &body, &[("Prefer", "odata.maxpagesize=7")]).await;
    let next = v["@odata.nextLink"].as_str().unwrap();
    assert!(
        next.starts_with(&format!("{}/outlook/adminapi/beta/", sim.base_url)),
        "{next}"
    );
    assert!(next.contains("$skiptoken="));
    assert_eq!(v["value"].as_array().unwrap().len(), 7);
    // graph2otel: a truncated page carries a non-empty warnings array naming ResultSize.
    assert!(v["@adminapi.warnings"][0].as_str().unwrap().contains("ResultSize"));
}

#[tokio::test]
async fn a_next_link_replayed_with_another_body_or_after_30_minutes_is_refused() {
    let mut c = tenantctl_sim::SimConfig::new(1, 4);
    c.fleet.users_per_tenant = Some(30);
    c.fleet.anchor = ANCHOR;
    c.throttle.enabled = false;
    c.clock = tenantctl_sim::Clock::manual_at(ANCHOR + 3600);
    let sim = start_with(c).await;
    let t = exo_tenant(&sim, 0);
    let tok = exo_token(&sim, &t);
    let body = cmd("Get-Mailbox", json!({}));
    let prefer = [("Prefer", "odata.maxpagesize=5")];
    let (_, _, v) = post(&invoke_url(&sim, &t), &tok, &body, &prefer).await;
    let next = v["@odata.nextLink"].as_str().unwrap().to_owned();
    // Another body: graph2otel's observed 400 (contract §1.4).
    let other = cmd("Get-Mailbox", json!({"RecipientTypeDetails": "UserMailbox"}));
    let (s, _, e) = post(&next, &tok, &other, &prefer).await;
    assert_eq!(s, 400);
    assert_eq!(
        detail(&e).2,
        "Expired or Invalid pagination request. Default Expiry time is 00:30:00"
    );
    // Same body within 30 minutes: fine; after 30 minutes on the simulator's clock: expired.
    sim.sim.clock().advance_secs(29.0 * 60.0);
    assert_eq!(post(&next, &tok, &body, &prefer).await.0, 200);
    sim.sim.clock().advance_secs(2.0 * 60.0);
    let (s, _, e) = post(&next, &tok, &body, &prefer).await;
    assert_eq!(s, 400);
    assert!(detail(&e).2.starts_with("Expired or Invalid pagination request"));
}

#[tokio::test]
async fn result_size_cuts_with_exchanges_warning_and_select_keeps_named_properties() {
    let sim = sim_with(40).await;
    let t = exo_tenant(&sim, 0);
    let tok = exo_token(&sim, &t);
    let (s, v) = invoke(&sim, &t, &tok, cmd("Get-Mailbox", json!({"ResultSize": 5}))).await;
    assert_eq!(s, 200);
    assert_eq!(v["value"].as_array().unwrap().len(), 5);
    assert_eq!(
        v["@adminapi.warnings"],
        json!(["There are more results available than are currently displayed. To view them, increase the value for the ResultSize parameter."])
    );
    // CIPP -Select: ?$select=UserPrincipalName,PrimarySmtpAddress.
    let url = format!("{}?$select=UserPrincipalName,PrimarySmtpAddress", invoke_url(&sim, &t));
    let (s, _, v) = post(&url, &tok, &cmd("Get-Mailbox", json!({})), &[]).await;
    assert_eq!(s, 200);
    for r in v["value"].as_array().unwrap() {
        assert_eq!(keys(r), vec!["UserPrincipalName", "PrimarySmtpAddress"]);
    }
}

#[tokio::test]
async fn the_default_result_size_is_1000_with_the_warning() {
    // Learn Get-Mailbox: "The default value is 1000".
    let sim = start_sim(1, Some(1400)).await;
    let t = exo_tenant(&sim, 0);
    let tok = exo_token(&sim, &t);
    let total = sim.sim.exchange_mailboxes(&t.id.to_string()).len();
    assert!(total > 1000, "{total}");
    let (s, v) = invoke(&sim, &t, &tok, cmd("Get-Mailbox", json!({}))).await;
    assert_eq!(s, 200);
    assert_eq!(v["value"].as_array().unwrap().len(), 1000);
    assert!(v.get("@odata.nextLink").is_none());
    assert_eq!(v["@adminapi.warnings"].as_array().unwrap().len(), 1);
    let (rows, _) = invoke_all(
        &sim,
        &t,
        &tok,
        &cmd("Get-Mailbox", json!({"ResultSize": "unlimited"})),
        &[],
    )
    .await;
    assert_eq!(rows.len(), total);
}

#[tokio::test]
async fn identity_filters_and_recipient_types_select_mailboxes() {
    let sim = sim_with(80).await;
    let t = exo_tenant(&sim, 2);
    let tok = exo_token(&sim, &t);
    let boxes = sim.sim.exchange_mailboxes(&t.initial_domain);
    let m = &boxes[3];
    // -Identity: UPN, email, alias, GUIDs, the Graph user id (Learn Get-Mailbox; CIPP).
    for key in [
        m.user_principal_name.clone(),
        m.user_principal_name.to_uppercase(),
        m.alias.clone(),
        m.user_id.to_string(),
        m.guid.to_string(),
        m.exchange_guid.to_string(),
        format!("{}@{}", m.alias, t.initial_domain),
    ] {
        let (s, v) = invoke(&sim, &t, &tok, cmd("Get-Mailbox", json!({"identity": key}))).await;
        assert_eq!(s, 200, "{key}: {v}");
        assert_eq!(v["value"][0]["UserPrincipalName"], m.user_principal_name.as_str());
    }
    let count = |k: &str| boxes.iter().filter(|b| b.kind.type_details() == k).count();
    let (_, v) = invoke(
        &sim,
        &t,
        &tok,
        cmd(
            "Get-Mailbox",
            json!({"RecipientTypeDetails": ["RoomMailbox", "EquipmentMailbox"]}),
        ),
    )
    .await;
    assert_eq!(
        v["value"].as_array().unwrap().len(),
        count("RoomMailbox") + count("EquipmentMailbox")
    );
    let (_, v) = invoke(
        &sim,
        &t,
        &tok,
        cmd("Get-Mailbox", json!({"RecipientTypeDetails": "UserMailbox"})),
    )
    .await;
    assert_eq!(v["value"].as_array().unwrap().len(), count("UserMailbox"));
    // CIPP's filters (contract §1.7).
    let (_, v) = invoke(
        &sim,
        &t,
        &tok,
        cmd(
            "Get-Mailbox",
            json!({"Filter": "RecipientTypeDetails -eq 'RoomMailbox' -or RecipientTypeDetails -eq 'EquipmentMailbox'"}),
        ),
    )
    .await;
    assert_eq!(
        v["value"].as_array().unwrap().len(),
        count("RoomMailbox") + count("EquipmentMailbox")
    );
    let (_, v) = invoke(&sim, &t, &tok, cmd("Get-Mailbox", json!({"Filter": "ArchiveGuid -Eq \"00000000-0000-0000-0000-000000000000\" -AND RecipientTypeDetails -Eq \"UserMailbox\""}))).await;
    let no_archive = boxes
        .iter()
        .filter(|b| b.archive_guid.is_none() && b.kind.type_details() == "UserMailbox")
        .count();
    assert_eq!(v["value"].as_array().unwrap().len(), no_archive);
    let (_, v) = invoke(
        &sim,
        &t,
        &tok,
        cmd("Get-Mailbox", json!({"Filter": "LitigationHoldEnabled -eq \"False\""})),
    )
    .await;
    assert_eq!(
        v["value"].as_array().unwrap().len(),
        boxes.iter().filter(|b| b.litigation_hold.is_none()).count()
    );
}

#[tokio::test]
async fn every_error_answers_in_exchanges_shape_with_the_real_exception_types() {
    let sim = sim_with(10).await;
    let t = exo_tenant(&sim, 0);
    let tok = exo_token(&sim, &t);
    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (
            cmd("Get-Nothing", json!({})),
            403,
            "System.Management.Automation.CommandNotFoundException",
            "The term 'Get-Nothing' is not recognized",
        ),
        (
            cmd("Get-Mailbox", json!({"Bogus": 1})),
            400,
            "System.Management.Automation.ParameterBindingException",
            "A parameter cannot be found that matches parameter name 'Bogus'.",
        ),
        (
            cmd("Get-MailboxStatistics", json!({})),
            400,
            "System.Management.Automation.ParameterBindingException",
            "Cannot process command because of one or more missing mandatory parameters: Identity.",
        ),
        (
            cmd("Get-Mailbox", json!({"Identity": "nobody@nowhere.test"})),
            404,
            "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException",
            "The operation couldn't be performed because object 'nobody@nowhere.test' couldn't be found on '",
        ),
        (
            cmd("Get-Mailbox", json!({"ResultSize": "abc"})),
            400,
            "System.Management.Automation.ParameterBindingArgumentTransformationException",
            "Cannot process argument transformation on parameter 'ResultSize'.",
        ),
        (
            cmd(
                "Set-Mailbox",
                json!({"Identity": sim.sim.exchange_mailboxes(&t.initial_domain)[0].user_principal_name, "ProhibitSendQuota": "lots"}),
            ),
            400,
            "System.Management.Automation.ParameterBindingArgumentTransformationException",
            "Cannot process argument transformation on parameter 'ProhibitSendQuota'.",
        ),
        (
            cmd("Get-Mailbox", json!({"Filter": "Bogus -eq 'x'"})),
            400,
            "Microsoft.Exchange.Configuration.Tasks.TaskArgumentException",
            "Cannot bind parameter 'Filter'",
        ),
        (
            cmd("Get-Mailbox", json!({"RecipientTypeDetails": "Toaster"})),
            400,
            "System.Management.Automation.ParameterBindingArgumentTransformationException",
            "Cannot process argument transformation on parameter 'RecipientTypeDetails'.",
        ),
    ];
    for (body, status, exception, text) in cases {
        let (s, h, v) = post(&invoke_url(&sim, &t), &tok, &body, &[]).await;
        assert_eq!(s, status, "{body}: {v}");
        // Captured envelope (§1.6): error.code/message/details/innererror, warnings array.
        assert_eq!(v["error"]["message"], "Error executing cmdlet");
        assert_eq!(v["error"]["details"][0]["code"], "Client");
        assert!(v["error"]["innererror"]["internalexception"]["message"].is_string());
        assert_eq!(v["error"]["@adminapi.warnings"], json!([]));
        let (id, ty, msg) = detail(&v);
        assert!(id.starts_with("Ex") && id.len() == 8, "{id}");
        assert_eq!(ty, exception, "{body}");
        assert!(msg.starts_with(text), "{msg}");
        assert!(h.get("x-exceptiontype").is_some());
    }
    // A body without CmdletInput, and an unmatched path under /outlook: still Exchange's shape.
    let (s, _, v) = post(&invoke_url(&sim, &t), &tok, &json!({"nope": 1}), &[]).await;
    assert_eq!(s, 400);
    detail(&v);
    let (s, _, v) = post(
        &format!("{}/outlook/adminapi/beta/{}/Nope", sim.base_url, t.id),
        &tok,
        &json!({}),
        &[],
    )
    .await;
    assert_eq!(s, 404);
    assert_eq!(v["error"]["code"], "NotFound");
    detail(&v);
    let r = client()
        .get(invoke_url(&sim, &t))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
    detail(&r.json().await.unwrap());
}
