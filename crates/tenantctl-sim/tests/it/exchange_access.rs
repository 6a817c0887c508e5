//! Exchange admin API: tokens, roles (contract §1.1), throttling (§1.6) and `$batch` (§1.5).

use crate::common::*;
use crate::exchange::*;
use serde_json::{json, Value};
use tenantctl_sim::fleet::Trouble;
use tenantctl_sim::services::exchange::THROTTLED_TEXT;
use tenantctl_sim::SimConfig;

#[tokio::test]
async fn a_graph_token_is_refused_with_the_front_doors_401_and_headers() {
    let sim = start_sim(3, Some(5)).await;
    let t = exo_tenant(&sim, 0);
    let graph = delegated_graph_token(&sim, &t);
    let (s, h, _) = post(&invoke_url(&sim, &t), &graph, &cmd("Get-Mailbox", json!({})), &[]).await;
    assert_eq!(s, 401);
    // Captured on outlook.office365.com (contract §1.6).
    let www = h["www-authenticate"].to_str().unwrap();
    assert!(
        www.starts_with("Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\""),
        "{www}"
    );
    assert!(www.contains("error=\"invalid_token\""));
    let diag = h["x-ms-diagnostics"].to_str().unwrap();
    assert!(
        diag.starts_with("2000003;reason=\"The audience claim value is invalid 'aud'.\""),
        "{diag}"
    );
    // No token at all, and a token of another tenant: 401 too [I].
    let r = client()
        .post(invoke_url(&sim, &t))
        .json(&cmd("Get-Mailbox", json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let other = exo_tenant(&sim, 1);
    let (s, h, _) = post(
        &invoke_url(&sim, &t),
        &exo_token(&sim, &other),
        &cmd("Get-Mailbox", json!({})),
        &[],
    )
    .await;
    assert_eq!(s, 401);
    assert!(h.get("www-authenticate").is_some());
}

#[tokio::test]
async fn a_global_reader_reads_but_its_writes_are_not_recognised() {
    let sim = start_sim(3, Some(8)).await;
    let t = exo_tenant(&sim, 0);
    // Global Reader → View-Only Organization Management (contract §1.1).
    sim.sim.trouble_overrides.write().insert(t.idx, Trouble::ReadOnlyRoles);
    let tok = exo_token(&sim, &t);
    let (s, v) = invoke(&sim, &t, &tok, cmd("Get-Mailbox", json!({}))).await;
    assert_eq!(s, 200, "{v}");
    let upn = v["value"][0]["UserPrincipalName"].as_str().unwrap().to_owned();
    for body in [
        cmd(
            "Set-Mailbox",
            json!({"Identity": upn, "HiddenFromAddressListsEnabled": true}),
        ),
        cmd(
            "Add-MailboxPermission",
            json!({"Identity": upn, "User": upn, "AccessRights": "FullAccess"}),
        ),
    ] {
        let (s, v) = invoke(&sim, &t, &tok, body).await;
        assert_eq!(s, 403, "{v}");
        let (_, ty, text) = detail(&v);
        assert_eq!(ty, "System.Management.Automation.CommandNotFoundException");
        assert!(text.contains("is not recognized as the name of a cmdlet"));
    }
    // An Exchange Administrator may write.
    sim.sim.trouble_overrides.write().insert(t.idx, Trouble::None);
    let (s, v) = invoke(
        &sim,
        &t,
        &tok,
        cmd(
            "Set-Mailbox",
            json!({"Identity": upn, "HiddenFromAddressListsEnabled": true}),
        ),
    )
    .await;
    assert_eq!(s, 200, "{v}");
}

#[tokio::test]
async fn customers_without_an_exchange_role_are_refused_and_exist_in_the_fleet() {
    let sim = start_sim(300, Some(3)).await;
    let none: Vec<_> = sim.sim.fleet.no_exchange_role_customers().cloned().collect();
    // ~3% of trouble-free customers.
    assert!((3..=20).contains(&none.len()), "{}", none.len());
    let t = &none[0];
    assert_eq!(t.trouble, Trouble::None);
    let roles = t.active_roles();
    assert!(!roles.contains(&tenantctl_sim::fleet::roles::GLOBAL_READER));
    assert!(!roles.contains(&tenantctl_sim::fleet::roles::EXCHANGE_ADMINISTRATOR));
    assert!(roles.contains(&tenantctl_sim::fleet::roles::USER_ADMINISTRATOR));
    assert!(sim.sim.exchange_role(t).is_none());
    let (s, v) = invoke(&sim, t, &exo_token(&sim, t), cmd("Get-Mailbox", json!({}))).await;
    assert_eq!(s, 403, "{v}");
    let (_, ty, text) = detail(&v);
    assert_eq!(ty, "System.UnauthorizedAccessException");
    assert!(text.contains("isn't assigned to any management roles"), "{text}");
    // App-only in the same tenant: Exchange.ManageAsApp but no directory role → 403 (graph2otel).
    let (s, _) = invoke(&sim, t, &exo_app_token(&sim, t), cmd("Get-Mailbox", json!({}))).await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn app_only_tokens_with_manage_as_app_run_cmdlets() {
    let sim = start_sim(3, Some(6)).await;
    let t = exo_tenant(&sim, 0);
    let (s, v) = invoke(
        &sim,
        &t,
        &exo_app_token(&sim, &t),
        cmd("Get-OrganizationConfig", json!({})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let org = &v["value"][0];
    for p in [
        "AutoExpandingArchiveEnabled",
        "IsDehydrated",
        "AuditDisabled",
        "BookingsEnabled",
        "EwsEnabled",
    ] {
        assert!(org.get(p).is_some(), "{p}");
    }
}

fn throttled_config(max: u32) -> SimConfig {
    let mut c = SimConfig::new(1, 3);
    c.fleet.users_per_tenant = Some(6);
    c.fleet.anchor = ANCHOR;
    c.throttle.enabled = true;
    c.exchange_max_concurrent = max;
    c
}

#[tokio::test]
async fn over_the_concurrent_cap_the_answer_is_exchanges_plain_text_429() {
    let sim = start_with(throttled_config(2)).await;
    let t = exo_tenant(&sim, 0);
    let tok = exo_token(&sim, &t);
    // Two requests in flight for this tenant (held directly: no timing involved).
    let a = sim.sim.exchange.try_acquire(t.idx).unwrap();
    let b = sim.sim.exchange.try_acquire(t.idx).unwrap();
    let r = client()
        .post(invoke_url(&sim, &t))
        .bearer_auth(&tok)
        .json(&cmd("Get-Mailbox", json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    let h = r.headers().clone();
    assert_eq!(h["rate-limit-remaining"], "0");
    assert!(h.get("rate-limit-reset").is_some());
    assert!(h.get("retry-after").is_none(), "no Retry-After (graph2otel)");
    assert!(h["content-type"].to_str().unwrap().starts_with("text/plain"));
    // ExoHelper matches this text to retry (contract §1.6).
    assert_eq!(r.text().await.unwrap(), THROTTLED_TEXT);
    // Another tenant is not affected; freeing a slot lets the tenant in again.
    let other = exo_tenant(&sim, 1);
    assert_eq!(
        invoke(&sim, &other, &exo_token(&sim, &other), cmd("Get-Mailbox", json!({})))
            .await
            .0,
        200
    );
    drop(a);
    let (s, h, _) = post(&invoke_url(&sim, &t), &tok, &cmd("Get-Mailbox", json!({})), &[]).await;
    assert_eq!(s, 200);
    assert_eq!(h["rate-limit-remaining"], "0");
    drop(b);
    assert_eq!(sim.sim.exchange.in_flight(t.idx), 0);
    // The cap is a control knob: 0 lifts it.
    let r = client()
        .post(format!("{}/_sim/exchange", sim.base_url))
        .json(&json!({"max_concurrent": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let _held: Vec<_> = (0..5).map(|_| sim.sim.exchange.try_acquire(t.idx).unwrap()).collect();
    assert_eq!(
        post(&invoke_url(&sim, &t), &tok, &cmd("Get-Mailbox", json!({})), &[])
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn n_plus_one_concurrent_requests_get_one_throttle_answer() {
    let sim = start_with(throttled_config(3)).await;
    let t = exo_tenant(&sim, 0);
    let tok = exo_token(&sim, &t);
    // A slow service (latency holds the slot) and 4 requests at once.
    sim.sim.faults.write().latency_ms = 400;
    let url = invoke_url(&sim, &t);
    let body = cmd("Get-AcceptedDomain", json!({}));
    let futs = (0..4).map(|_| post(&url, &tok, &body, &[]));
    let statuses: Vec<u16> = futures::future::join_all(futs).await.into_iter().map(|r| r.0).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 3, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 1, "{statuses:?}");
}

#[tokio::test]
async fn a_batch_of_ten_answers_by_id_and_one_failure_does_not_stop_the_others() {
    let sim = start_sim(3, Some(30)).await;
    let t = exo_tenant(&sim, 0);
    let tok = exo_token(&sim, &t);
    let boxes = sim.sim.exchange_mailboxes(&t.id.to_string());
    assert!(boxes.len() >= 9);
    // CIPP New-ExoBulkRequest: absolute url with a trailing "?", headers per item.
    let item_url = format!("https://outlook.office365.com/adminapi/beta/{}/InvokeCommand?", t.id);
    let mut requests: Vec<Value> = boxes
        .iter()
        .take(9)
        .enumerate()
        .map(|(i, m)| {
            json!({"id": format!("id-{i}"), "method": "POST", "url": item_url,
                   "body": cmd("Get-MailboxStatistics", json!({"Identity": m.user_principal_name})),
                   "headers": {"Prefer": "odata.maxpagesize = 1000;odata.continue-on-error", "parameter-based-routing": true}})
        })
        .collect();
    requests.insert(
        4,
        json!({"id": "bad", "method": "POST", "url": item_url,
                              "body": cmd("Get-MailboxStatistics", json!({"Identity": "ghost@nowhere.test"}))}),
    );
    let batch_url = format!("{}/outlook/adminapi/beta/{}/$batch", sim.base_url, t.id);
    let (s, _, v) = post(
        &batch_url,
        &tok,
        &json!({"requests": requests}),
        &[("Prefer", "odata.maxpagesize = 1000;odata.continue-on-error")],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let responses = v["responses"].as_array().unwrap();
    assert_eq!(responses.len(), 10);
    for (i, m) in boxes.iter().take(9).enumerate() {
        let r = responses.iter().find(|r| r["id"] == format!("id-{i}")).unwrap();
        assert_eq!(r["status"], 200);
        assert_eq!(r["body"]["value"][0]["DisplayName"], m.display_name.as_str());
    }
    let bad = responses.iter().find(|r| r["id"] == "bad").unwrap();
    assert_eq!(bad["status"], 404);
    // CIPP reads error.details.message.
    assert!(bad["body"]["error"]["details"][0]["message"]
        .as_str()
        .unwrap()
        .contains("ManagementObjectNotFoundException"));
    // 11 items: refused as a whole [I: CIPP chunks by 10].
    let eleven: Vec<Value> = (0..11).map(|i| json!({"id": i.to_string(), "method": "POST", "url": item_url, "body": cmd("Get-AcceptedDomain", json!({}))})).collect();
    let (s, _, _) = post(&batch_url, &tok, &json!({"requests": eleven}), &[]).await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn a_batch_items_next_link_is_followed_in_the_next_batch() {
    let sim = start_sim(2, Some(20)).await;
    let t = exo_tenant(&sim, 0);
    let tok = exo_token(&sim, &t);
    let total = sim.sim.exchange_mailboxes(&t.id.to_string()).len();
    let batch_url = format!("{}/outlook/adminapi/beta/{}/$batch", sim.base_url, t.id);
    let mut url = format!("https://outlook.office365.com/adminapi/beta/{}/InvokeCommand?", t.id);
    let mut seen = 0;
    for _ in 0..20 {
        let req = json!({"requests": [{"id": "1", "method": "POST", "url": url,
            "body": cmd("Get-Mailbox", json!({})), "headers": {"Prefer": "odata.maxpagesize=4"}}]});
        let (s, _, v) = post(&batch_url, &tok, &req, &[]).await;
        assert_eq!(s, 200);
        let body = &v["responses"][0]["body"];
        seen += body["value"].as_array().unwrap().len();
        match body["@odata.nextLink"].as_str() {
            Some(n) => url = n.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, total);
}

#[tokio::test]
async fn injected_faults_answer_in_exchanges_words() {
    let sim = start_sim(2, Some(4)).await;
    let t = exo_tenant(&sim, 0);
    let tok = exo_token(&sim, &t);
    sim.sim.faults.write().fault_429 = 1.0;
    let r = client()
        .post(invoke_url(&sim, &t))
        .bearer_auth(&tok)
        .json(&cmd("Get-Mailbox", json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    assert!(r.headers().get("retry-after").is_none());
    assert_eq!(r.text().await.unwrap(), THROTTLED_TEXT);
    sim.sim.faults.write().fault_429 = 0.0;
    sim.sim.faults.write().fault_503 = 1.0;
    let (s, _, v) = post(&invoke_url(&sim, &t), &tok, &cmd("Get-Mailbox", json!({})), &[]).await;
    assert_eq!(s, 503);
    assert!(detail(&v).2.contains("temporarily unavailable"));
}

#[tokio::test]
async fn the_control_api_lists_each_tenants_exchange_role() {
    let sim = start_sim(300, Some(2)).await;
    let v: Value = client()
        .get(format!("{}/_sim/tenants", sim.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list = v["tenants"].as_array().unwrap();
    let none: Vec<String> = sim
        .sim
        .fleet
        .no_exchange_role_customers()
        .map(|t| t.id.to_string())
        .collect();
    for t in list {
        let id = t["id"].as_str().unwrap().to_owned();
        match t["trouble"].as_str().unwrap() {
            "read_only_roles" => assert_eq!(t["exchangeRole"], "read_only"),
            "none" if none.contains(&id) => assert_eq!(t["exchangeRole"], Value::Null),
            "none" => assert_eq!(t["exchangeRole"], "full"),
            _ => {}
        }
    }
}
