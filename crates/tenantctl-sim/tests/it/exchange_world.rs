//! Exchange's view of the world agrees with Graph's: mailboxes from licensed users, resource
//! mailboxes from disabled ones, accepted domains from verified ones; writes persist.

use crate::common::*;
use crate::exchange::*;
use serde_json::{json, Value};
use std::collections::HashSet;
use tenantctl_sim::skus::Catalog;
use tenantctl_sim::world::model::{AssignedLicence, UserRecord};
use tenantctl_sim::SimConfig;

/// Whether a Graph user's assigned licences include an Exchange Online mailbox plan
/// (EXCHANGE_S_STANDARD/ENTERPRISE/DESKLESS in Microsoft's service plan table) not disabled.
fn has_exchange_plan(user: &Value) -> bool {
    let cat = Catalog::get();
    user["assignedLicenses"].as_array().unwrap().iter().any(|l| {
        let sku: tenantctl_sim::ids::Guid = l["skuId"].as_str().unwrap().parse().unwrap();
        let disabled: Vec<String> = l["disabledPlans"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_owned())
            .collect();
        cat.skus.iter().filter(|s| s.id == sku).flat_map(|s| &s.plans).any(|p| {
            matches!(
                p.name.as_str(),
                "EXCHANGE_S_STANDARD" | "EXCHANGE_S_ENTERPRISE" | "EXCHANGE_S_DESKLESS"
            ) && !disabled.contains(&p.id.to_string())
        })
    })
}

#[tokio::test]
async fn mailboxes_are_the_exchange_licensed_users_plus_resource_mailboxes() {
    let sim = start_sim(4, Some(120)).await;
    let mut resource_total = 0;
    for n in 0..3 {
        let t = exo_tenant(&sim, n);
        let (s, _, users) = get_json(
            &sim,
            &delegated_graph_token(&sim, &t),
            "/graph/v1.0/users?$top=999&$select=id,accountEnabled,assignedLicenses,userPrincipalName",
            &[],
        )
        .await;
        assert_eq!(s, 200);
        let users = users["value"].as_array().unwrap().clone();
        let (rows, _) = invoke_all(
            &sim,
            &t,
            &exo_token(&sim, &t),
            &cmd("Get-Mailbox", json!({"ResultSize": "Unlimited"})),
            &[],
        )
        .await;
        let licensed: HashSet<&str> = users
            .iter()
            .filter(|u| has_exchange_plan(u))
            .map(|u| u["id"].as_str().unwrap())
            .collect();
        let user_boxes: HashSet<&str> = rows
            .iter()
            .filter(|r| r["RecipientTypeDetails"] == "UserMailbox")
            .map(|r| r["ExternalDirectoryObjectId"].as_str().unwrap())
            .collect();
        assert_eq!(user_boxes, licensed, "UserMailbox ⇔ an Exchange plan");
        // Resource mailboxes: unlicensed, sign-in-disabled users (their ids are Graph user ids).
        let resources: Vec<&Value> = rows
            .iter()
            .filter(|r| r["RecipientTypeDetails"] != "UserMailbox")
            .collect();
        for r in &resources {
            let id = r["ExternalDirectoryObjectId"].as_str().unwrap();
            let u = users
                .iter()
                .find(|u| u["id"] == id)
                .expect("a Graph user behind every mailbox");
            assert_eq!(u["accountEnabled"], false);
            assert_eq!(u["assignedLicenses"], json!([]));
            assert_eq!(r["UserPrincipalName"], u["userPrincipalName"]);
        }
        assert_eq!(rows.len(), licensed.len() + resources.len());
        resource_total += resources.len();
    }
    assert!(
        resource_total > 0,
        "some disabled users are shared/room/equipment mailboxes"
    );
}

#[tokio::test]
async fn accepted_domains_are_the_verified_email_domains_with_one_default() {
    let sim = start_sim(3, Some(4)).await;
    let t = exo_tenant(&sim, 0);
    let tok = exo_token(&sim, &t);
    // A domain added and verified through the world (as Graph's POST /domains + verify do).
    sim.sim.world.add_domain(&t, "mail-added.example").unwrap();
    let (_, v) = invoke(&sim, &t, &tok, cmd("Get-AcceptedDomain", json!({}))).await;
    let names: HashSet<String> = v["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["DomainName"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        !names.contains("mail-added.example"),
        "unverified domains are not accepted"
    );
    sim.sim.world.verify_domain(&t, "mail-added.example", true).unwrap();
    let (_, v) = invoke(&sim, &t, &tok, cmd("Get-AcceptedDomain", json!({}))).await;
    let rows = v["value"].as_array().unwrap();
    let expected: HashSet<String> = sim
        .sim
        .world
        .domains(&t)
        .into_iter()
        .filter(|d| d.is_verified && d.supported_services.contains(&"Email"))
        .map(|d| d.name)
        .collect();
    let names: HashSet<String> = rows
        .iter()
        .map(|d| d["DomainName"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, expected);
    assert!(names.contains("mail-added.example"));
    assert_eq!(rows.iter().filter(|d| d["Default"] == true).count(), 1);
    for d in rows {
        assert_eq!(d["DomainType"], "Authoritative");
        assert_eq!(d["SendingFromDomainDisabled"], false);
        assert_eq!(d["Name"], d["DomainName"]);
    }
}

fn state_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "tenantctl-sim-exo-{}-{}",
        std::process::id(),
        tenantctl_sim::ids::random_guid()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[tokio::test]
async fn set_mailbox_persists_in_the_state_and_shows_in_get_mailbox() {
    let dir = state_dir();
    let config = || {
        let mut c = SimConfig::new(5, 3);
        c.fleet.users_per_tenant = Some(12);
        c.fleet.anchor = ANCHOR;
        c.throttle.enabled = false;
        c.state_dir = Some(dir.clone());
        c
    };
    let sim = start_with(config()).await;
    let t = exo_tenant(&sim, 0);
    let tok = exo_token(&sim, &t);
    let boxes = sim.sim.exchange_mailboxes(&t.id.to_string());
    let (m, other) = (&boxes[0], &boxes[1]);
    // CIPP Set-CIPPForwarding: ForwardingSMTPAddress spelled its way, ForwardingAddress null.
    let (s, v) = invoke(
        &sim,
        &t,
        &tok,
        cmd(
            "Set-Mailbox",
            json!({
        "Identity": m.user_id.to_string(), "ForwardingSMTPAddress": "archive@partner.example",
        "ForwardingAddress": null, "DeliverToMailboxAndForward": true,
        "HiddenFromAddressListsEnabled": true, "ProhibitSendQuota": "40 GB", "IssueWarningQuota": "39GB",
        "ProhibitSendReceiveQuota": "Unlimited"}),
        ),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["value"], json!([]));
    // Unchanged: Exchange's warning, no rows.
    let (_, v) = invoke(
        &sim,
        &t,
        &tok,
        cmd(
            "Set-Mailbox",
            json!({"Identity": m.user_principal_name, "HiddenFromAddressListsEnabled": true}),
        ),
    )
    .await;
    assert!(
        v["@adminapi.warnings"][0].as_str().unwrap().contains("no settings of"),
        "{v}"
    );
    // Forwarding to another mailbox by identity.
    let (s, _) = invoke(
        &sim,
        &t,
        &tok,
        cmd(
            "Set-Mailbox",
            json!({"Identity": other.user_principal_name, "ForwardingAddress": m.user_principal_name}),
        ),
    )
    .await;
    assert_eq!(s, 200);
    sim.stop().await;

    let sim = start_with(config()).await;
    let t = exo_tenant(&sim, 0);
    let tok = exo_token(&sim, &t);
    let (_, v) = invoke(
        &sim,
        &t,
        &tok,
        cmd("Get-Mailbox", json!({"Identity": m.user_principal_name})),
    )
    .await;
    let r = &v["value"][0];
    assert_eq!(r["ForwardingSmtpAddress"], "smtp:archive@partner.example");
    assert_eq!(r["DeliverToMailboxAndForward"], true);
    assert_eq!(r["HiddenFromAddressListsEnabled"], true);
    assert_eq!(r["ProhibitSendQuota"], "40 GB (42,949,672,960 bytes)");
    assert_eq!(r["IssueWarningQuota"], "39 GB (41,875,931,136 bytes)");
    assert_eq!(r["ProhibitSendReceiveQuota"], "Unlimited");
    let (_, v) = invoke(
        &sim,
        &t,
        &tok,
        cmd("Get-Mailbox", json!({"Identity": other.user_principal_name})),
    )
    .await;
    assert_eq!(v["value"][0]["ForwardingAddress"], m.name.as_str());
    // Clearing forwarding with null (CIPP's "disable forwarding").
    let (s, _) = invoke(
        &sim,
        &t,
        &tok,
        cmd(
            "Set-Mailbox",
            json!({"Identity": m.user_principal_name, "ForwardingSmtpAddress": null}),
        ),
    )
    .await;
    assert_eq!(s, 200);
    assert!(sim.sim.exchange_mailboxes(&t.initial_domain)[0]
        .forwarding_smtp_address
        .is_none());
    sim.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn mailbox_permissions_are_granted_and_listed() {
    let sim = start_sim(2, Some(10)).await;
    let t = exo_tenant(&sim, 0);
    let tok = exo_token(&sim, &t);
    let boxes = sim.sim.exchange_mailboxes(&t.id.to_string());
    let (m, who) = (&boxes[0], &boxes[1]);
    let (s, v) = invoke(
        &sim,
        &t,
        &tok,
        cmd(
            "Add-MailboxPermission",
            json!({
        "Identity": m.user_principal_name, "User": who.user_principal_name,
        "AccessRights": ["FullAccess"], "InheritanceType": "all", "AutoMapping": false}),
        ),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["value"][0]["AccessRights"], json!(["FullAccess"]));
    let (_, v) = invoke(
        &sim,
        &t,
        &tok,
        cmd("Get-MailboxPermission", json!({"Identity": m.user_principal_name})),
    )
    .await;
    let rows = v["value"].as_array().unwrap();
    assert_eq!(rows[0]["User"], "NT AUTHORITY\\SELF");
    let granted = rows
        .iter()
        .find(|r| r["User"] == who.user_principal_name.as_str())
        .unwrap();
    assert_eq!(granted["InheritanceType"], "All");
    assert_eq!(granted["IsInherited"], false);
    let (s, v) = invoke(
        &sim,
        &t,
        &tok,
        cmd(
            "Add-MailboxPermission",
            json!({
        "Identity": m.user_principal_name, "User": who.user_principal_name, "AccessRights": "Everything"}),
        ),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(
        detail(&v).1,
        "System.Management.Automation.ParameterBindingArgumentTransformationException"
    );
}

#[tokio::test]
async fn a_licensed_new_user_gets_a_mailbox_and_a_deleted_user_loses_it() {
    let sim = start_sim(8, Some(10)).await;
    let cat = Catalog::get();
    let exo_sku_of = |t: &tenantctl_sim::fleet::Tenant| {
        sim.sim
            .world
            .skus(t)
            .into_iter()
            .find(|s| {
                s.free() > 0
                    && cat.skus[s.sku]
                        .plans
                        .iter()
                        .any(|p| p.name == "EXCHANGE_S_STANDARD" || p.name == "EXCHANGE_S_ENTERPRISE")
            })
            .map(|s| s.sku_id)
    };
    let (t, exo_sku) = (0..6)
        .map(|n| exo_tenant(&sim, n))
        .find_map(|t| exo_sku_of(&t).map(|s| (t, s)))
        .expect("a customer with a free Exchange-bearing SKU");
    let tok = exo_token(&sim, &t);
    let before = sim.sim.exchange_mailboxes(&t.id.to_string()).len();
    let template = sim.sim.world.tenant(&t).user_at(0).unwrap().user;
    let upn = format!("newhire@{}", t.default_domain());
    let rec = UserRecord {
        id: tenantctl_sim::ids::random_guid(),
        user_principal_name: upn.clone(),
        display_name: "New Hire".into(),
        mail_nickname: "newhire".into(),
        licences: vec![AssignedLicence {
            sku_id: exo_sku,
            disabled_plans: vec![],
        }],
        account_enabled: true,
        ..template
    };
    sim.sim.world.create_user(&t, rec).unwrap();
    let (s, v) = invoke(&sim, &t, &tok, cmd("Get-Mailbox", json!({"Identity": upn}))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["value"][0]["RecipientTypeDetails"], "UserMailbox");
    assert_eq!(sim.sim.exchange_mailboxes(&t.id.to_string()).len(), before + 1);
    sim.sim.world.delete_user(&t, &upn).unwrap();
    let (s, _) = invoke(&sim, &t, &tok, cmd("Get-Mailbox", json!({"Identity": upn}))).await;
    assert_eq!(s, 404);
    assert_eq!(sim.sim.exchange_mailboxes(&t.id.to_string()).len(), before);
}

#[tokio::test]
async fn the_stale_ground_truth_agrees_with_get_mailbox_statistics() {
    let mut c = SimConfig::new(3, 3);
    c.fleet.users_per_tenant = Some(150);
    c.fleet.anchor = ANCHOR;
    c.throttle.enabled = false;
    c.clock = tenantctl_sim::Clock::manual_at(ANCHOR + 7200);
    let sim = start_with(c).await;
    let t = exo_tenant(&sim, 0);
    let tok = exo_token(&sim, &t);
    let now = ANCHOR + 7200;
    let boxes = sim.sim.exchange_mailboxes(&t.id.to_string());
    let stale: HashSet<String> = sim
        .sim
        .exchange_stale_mailboxes(&t.id.to_string(), 30)
        .into_iter()
        .map(|m| m.user_principal_name)
        .collect();
    assert!(
        !stale.is_empty() && stale.len() < boxes.len(),
        "{} of {}",
        stale.len(),
        boxes.len()
    );
    let mut from_wire = HashSet::new();
    let mut never_used = 0;
    let mut stale_but_recent_logon = 0;
    for m in &boxes {
        let (_, v) = invoke(
            &sim,
            &t,
            &tok,
            cmd("Get-MailboxStatistics", json!({"Identity": m.user_principal_name})),
        )
        .await;
        let r = &v["value"][0];
        let secs = |k: &str| {
            r[k].as_str().map(|s| {
                tenantctl_sim::platform::clock::parse_rfc3339(s)
                    .unwrap()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs() as i64
            })
        };
        let last = secs("LastUserActionTime");
        // The documented rule: the later of LastUserActionTime and LastInteractionTime (the
        // mailbox's creation when never used) older than now - 30 days.
        let activity = match (last, secs("LastInteractionTime")) {
            (Some(a), Some(b)) => a.max(b),
            (a, b) => a.or(b).unwrap_or(m.when_created),
        };
        if activity < now - 30 * 86_400 {
            from_wire.insert(m.user_principal_name.clone());
            let logon = r["LastLogonTime"]
                .as_str()
                .map(|s| tenantctl_sim::platform::clock::parse_rfc3339(s).unwrap());
            if last.is_some()
                && logon.is_some_and(|l| {
                    l.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64 > now - 7 * 86_400
                })
            {
                stale_but_recent_logon += 1;
            }
        }
        if last.is_none() {
            never_used += 1;
        }
    }
    assert_eq!(from_wire, stale);
    assert!(never_used > 0, "some mailboxes were never used");
    assert!(stale_but_recent_logon > 0, "LastLogonTime is unreliable (Petri)");
}

#[tokio::test]
async fn message_trace_v2_follows_its_documented_limits() {
    let mut c = SimConfig::new(2, 2);
    c.fleet.users_per_tenant = Some(20);
    c.fleet.anchor = ANCHOR;
    c.throttle.enabled = false;
    c.clock = tenantctl_sim::Clock::manual_at(ANCHOR + 3600);
    let sim = start_with(c).await;
    let t = exo_tenant(&sim, 0);
    let tok = exo_token(&sim, &t);
    let now = ANCHOR + 3600;
    let secs = |s: &str| {
        tenantctl_sim::platform::clock::parse_rfc3339(s)
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    };
    // No parameters: the last 48 hours, newest first, the documented properties.
    let (s, v) = invoke(&sim, &t, &tok, cmd("Get-MessageTraceV2", json!({}))).await;
    assert_eq!(s, 200, "{v}");
    let rows = v["value"].as_array().unwrap();
    assert!(!rows.is_empty());
    let times: Vec<i64> = rows.iter().map(|r| secs(r["Received"].as_str().unwrap())).collect();
    assert!(times.iter().all(|&x| x >= now - 2 * 86_400 && x <= now));
    assert!(times.windows(2).all(|w| w[0] >= w[1]));
    for p in [
        "Received",
        "SenderAddress",
        "RecipientAddress",
        "Subject",
        "Status",
        "ToIP",
        "FromIP",
        "Size",
        "MessageId",
        "MessageTraceId",
    ] {
        assert!(rows[0].get(p).is_some(), "{p}");
    }
    // The same query answers the same (deterministic history).
    let (_, again) = invoke(&sim, &t, &tok, cmd("Get-MessageTraceV2", json!({}))).await;
    assert_eq!(again["value"], v["value"]);
    // SenderAddress filter.
    let sender = rows[0]["SenderAddress"].as_str().unwrap().to_owned();
    let (_, v) = invoke(
        &sim,
        &t,
        &tok,
        cmd("Get-MessageTraceV2", json!({"SenderAddress": sender})),
    )
    .await;
    assert!(v["value"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["SenderAddress"] == sender.as_str()));
    // A 10-day window is allowed, 11 days is not; nothing older than 90 days.
    let day = |d: i64| tenantctl_sim::services::exchange::render::date(now - d * 86_400);
    assert_eq!(
        invoke(
            &sim,
            &t,
            &tok,
            cmd("Get-MessageTraceV2", json!({"StartDate": day(10), "EndDate": day(0)}))
        )
        .await
        .0,
        200
    );
    let (s, e) = invoke(
        &sim,
        &t,
        &tok,
        cmd("Get-MessageTraceV2", json!({"StartDate": day(11), "EndDate": day(0)})),
    )
    .await;
    assert_eq!(s, 400, "{e}");
    let (s, _) = invoke(
        &sim,
        &t,
        &tok,
        cmd("Get-MessageTraceV2", json!({"StartDate": day(95), "EndDate": day(88)})),
    )
    .await;
    assert_eq!(s, 400);
    let (s, _) = invoke(&sim, &t, &tok, cmd("Get-MessageTraceV2", json!({"ResultSize": 5001}))).await;
    assert_eq!(s, 400);
    let (s, v) = invoke(&sim, &t, &tok, cmd("Get-MessageTraceV2", json!({"ResultSize": 3}))).await;
    assert_eq!(s, 200);
    assert_eq!(v["value"].as_array().unwrap().len(), 3);
    let (s, e) = invoke(
        &sim,
        &t,
        &tok,
        cmd("Get-MessageTraceV2", json!({"StartDate": "not a date"})),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(
        detail(&e).1,
        "System.Management.Automation.ParameterBindingArgumentTransformationException"
    );
}

async fn graph_call(
    sim: &tenantctl_sim::RunningSim,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let r = client()
        .request(method, format!("{}/graph/v1.0/{path}", sim.base_url))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, serde_json::from_str(&r.text().await.unwrap()).unwrap_or(Value::Null))
}

#[tokio::test]
async fn licensing_through_graph_creates_the_mailbox_unless_the_exchange_plan_is_disabled() {
    let sim = start_sim(8, Some(6)).await;
    let cat = Catalog::get();
    // A customer with a free unit of a SKU carrying EXCHANGE_S_STANDARD/ENTERPRISE.
    let (t, sku_id, plan_id) = (0..6)
        .map(|n| exo_tenant(&sim, n))
        .find_map(|t| {
            let s = sim.sim.world.skus(&t).into_iter().find(|s| {
                s.free() > 1
                    && cat.skus[s.sku].plans.iter().any(|p| {
                        p.name.starts_with("EXCHANGE_S_")
                            && p.name != "EXCHANGE_S_FOUNDATION"
                            && p.name != "EXCHANGE_S_ARCHIVE_ADDON"
                    })
            })?;
            let plan = cat.skus[s.sku]
                .plans
                .iter()
                .find(|p| {
                    matches!(
                        p.name.as_str(),
                        "EXCHANGE_S_STANDARD" | "EXCHANGE_S_ENTERPRISE" | "EXCHANGE_S_DESKLESS"
                    )
                })?
                .id;
            Some((t, s.sku_id, plan))
        })
        .expect("a customer with two free units of an Exchange-bearing SKU");
    let gtok = delegated_graph_token(&sim, &t);
    let xtok = exo_token(&sim, &t);
    let mut upns = vec![];
    for (nick, disabled) in [("exo.full", vec![]), ("exo.noplan", vec![plan_id.to_string()])] {
        let upn = format!("{nick}@{}", t.default_domain());
        let user = json!({"accountEnabled": true, "displayName": nick, "mailNickname": nick, "userPrincipalName": upn,
                          "usageLocation": "US", "passwordProfile": {"password": "xWwvJ]6NMw+bWH-d"}});
        let (s, created) = graph_call(&sim, &gtok, reqwest::Method::POST, "users", user).await;
        assert_eq!(s, 201, "{created}");
        // Created but unlicensed and enabled: no mailbox yet.
        assert_eq!(
            invoke(&sim, &t, &xtok, cmd("Get-Mailbox", json!({"Identity": upn})))
                .await
                .0,
            404
        );
        let body =
            json!({"addLicenses": [{"skuId": sku_id.to_string(), "disabledPlans": disabled}], "removeLicenses": []});
        let (s, v) = graph_call(
            &sim,
            &gtok,
            reqwest::Method::POST,
            &format!("users/{}/assignLicense", created["id"].as_str().unwrap()),
            body,
        )
        .await;
        assert_eq!(s, 200, "{v}");
        upns.push((upn, created["id"].as_str().unwrap().to_owned()));
    }
    let (s, v) = invoke(&sim, &t, &xtok, cmd("Get-Mailbox", json!({"Identity": upns[0].0}))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["value"][0]["ExternalDirectoryObjectId"], upns[0].1.as_str());
    assert_eq!(
        invoke(&sim, &t, &xtok, cmd("Get-Mailbox", json!({"Identity": upns[1].0})))
            .await
            .0,
        404,
        "Exchange plan disabled: no mailbox"
    );
    // Deleting the user through Graph removes its mailbox.
    let (s, _) = graph_call(
        &sim,
        &gtok,
        reqwest::Method::DELETE,
        &format!("users/{}", upns[0].1),
        Value::Null,
    )
    .await;
    assert_eq!(s, 204);
    assert_eq!(
        invoke(&sim, &t, &xtok, cmd("Get-Mailbox", json!({"Identity": upns[0].0})))
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn an_identity_naming_two_mailboxes_is_ambiguous() {
    let sim = start_sim(2, Some(6)).await;
    let t = exo_tenant(&sim, 0);
    let tok = exo_token(&sim, &t);
    // Two licensed users with the same display name (Graph allows that).
    let first = sim
        .sim
        .world
        .tenant(&t)
        .users()
        .find(|u| tenantctl_sim::world::mailboxes::exchange_capability(&u.user).is_some());
    let template = first.expect("a licensed user").user;
    for nick in ["twin.one", "twin.two"] {
        let rec = UserRecord {
            id: tenantctl_sim::ids::random_guid(),
            user_principal_name: format!("{nick}@{}", t.default_domain()),
            display_name: "Twin Mailbox".into(),
            mail_nickname: nick.into(),
            ..template.clone()
        };
        sim.sim.world.create_user(&t, rec).unwrap();
    }
    let (s, v) = invoke(&sim, &t, &tok, cmd("Get-Mailbox", json!({"Identity": "Twin Mailbox"}))).await;
    assert_eq!(s, 400, "{v}");
    let (_, ty, text) = detail(&v);
    assert_eq!(
        ty,
        "Microsoft.Exchange.Configuration.Tasks.ManagementObjectAmbiguousException"
    );
    assert_eq!(
        text,
        "The operation couldn't be performed because 'Twin Mailbox' matches multiple entries."
    );
    let (s, _) = invoke(&sim, &t, &tok, cmd("Get-Mailbox", json!({"Identity": "twin.two"}))).await;
    assert_eq!(s, 200);
}
