//! Security data in each customer, as the specification of the simulator's answers: directory
//! roles (learn.microsoft.com/graph/api/rbacapplication-list-roleassignments,
//! …/rbacapplication-list-roledefinitions), users' signInActivity
//! (…/resources/signinactivity, …/user-list) and the MFA registration report
//! (…/authenticationmethodsroot-list-userregistrationdetails), each checked against the
//! world's ground truth.

use crate::common::{delegated_graph_token, get_json, healthy, keys, rel};
use serde_json::Value;
use std::collections::BTreeSet;
use tenantctl_sim::auth::{mint, TokenRequest, AUD_GRAPH};
use tenantctl_sim::fleet::{roles, Tenant};
use tenantctl_sim::RunningSim;

const GA: &str = "62e90394-69f5-4237-9190-012177145e10";

/// The first healthy customer (trouble forced to none) with (`premium`) or without Entra ID P1/P2.
fn customer(sim: &RunningSim, premium: bool) -> Tenant {
    let n = sim
        .sim
        .fleet
        .customers()
        .iter()
        .position(|t| sim.sim.world.tenant(t).has_entra_premium() == premium)
        .expect("the fleet has tenants with and without Entra ID P1");
    healthy(sim, n)
}

fn app_token(sim: &RunningSim, t: &Tenant) -> String {
    mint(
        &sim.sim.keys,
        &TokenRequest {
            tenant_id: t.id,
            audience: AUD_GRAPH,
            app_id: sim.sim.fleet.partner.client_id,
            user: None,
            lifetime_secs: 3600,
        },
    )
}

/// Every item of a collection, following `@odata.nextLink`; also the page sizes.
async fn all_pages(sim: &RunningSim, tok: &str, path: &str) -> (Vec<Value>, Vec<usize>) {
    let (mut items, mut sizes) = (vec![], vec![]);
    let mut next = Some(path.to_owned());
    while let Some(p) = next {
        let (s, _, v) = get_json(sim, tok, &p, &[]).await;
        assert_eq!(s, 200, "{p}: {v}");
        let page = v["value"].as_array().unwrap();
        sizes.push(page.len());
        items.extend(page.iter().cloned());
        next = v["@odata.nextLink"].as_str().map(|l| rel(sim, l));
    }
    (items, sizes)
}

fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

// rbacapplication-list-roleassignments, example 1: `$filter` on roleDefinitionId and `$expand=principal`.
#[tokio::test]
async fn role_assignments_expand_principal_as_in_the_documented_example() {
    let sim = crate::common::start_sim(6, Some(40)).await;
    let t = healthy(&sim, 0);
    let tok = delegated_graph_token(&sim, &t);
    let (s, _, v) = get_json(
        &sim,
        &tok,
        "/graph/v1.0/roleManagement/directory/roleAssignments?$expand=principal",
        &[],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#roleManagement/directory/roleAssignments(principal())"
    );
    let items = v["value"].as_array().unwrap();
    let truth = sim.sim.world.tenant(&t).role_assignments();
    assert_eq!(items.len(), truth.len());
    let gas = items.iter().filter(|a| a["roleDefinitionId"] == GA).count();
    assert!((1..=3).contains(&gas), "1–3 Global Administrators, got {gas}");
    for a in items {
        assert_eq!(
            keys(a),
            [
                "id",
                "principalId",
                "resourceScope",
                "directoryScopeId",
                "roleDefinitionId",
                "principal"
            ]
        );
        assert_eq!(a["directoryScopeId"], "/");
        assert_eq!(a["resourceScope"], "/");
        assert!(a["id"].as_str().unwrap().ends_with("-1"));
        let p = &a["principal"];
        assert_eq!(p["@odata.type"], "#microsoft.graph.user");
        assert_eq!(p["id"], a["principalId"]);
        assert_eq!(p["userType"], "Member");
        assert!(p["userPrincipalName"].as_str().unwrap().contains('@'));
        // The principal is a user of this tenant.
        let (s, _, u) = get_json(
            &sim,
            &tok,
            &format!("/graph/v1.0/users/{}", a["principalId"].as_str().unwrap()),
            &[],
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(u["displayName"], p["displayName"]);
    }
    // Without $expand: no principal, the plain context.
    let (_, _, v) = get_json(&sim, &tok, "/graph/v1.0/roleManagement/directory/roleAssignments", &[]).await;
    assert_eq!(
        v["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#roleManagement/directory/roleAssignments"
    );
    assert!(v["value"][0].get("principal").is_none());
}

// rbacapplication-list-roleassignments, examples 1 and 2: filters on roleDefinitionId and principalId.
#[tokio::test]
async fn role_assignments_filter_on_role_definition_and_principal() {
    let sim = crate::common::start_sim(4, Some(60)).await;
    let t = healthy(&sim, 1);
    let tok = delegated_graph_token(&sim, &t);
    let path = format!(
        "/graph/v1.0/roleManagement/directory/roleAssignments?$filter=roleDefinitionId eq '{GA}'&$expand=principal"
    );
    let (s, _, v) = get_json(&sim, &tok, &path, &[]).await;
    assert_eq!(s, 200, "{v}");
    let gas = v["value"].as_array().unwrap();
    let truth: Vec<_> = sim
        .sim
        .world
        .tenant(&t)
        .role_assignments()
        .into_iter()
        .filter(|a| a.role.id == GA)
        .collect();
    assert_eq!(gas.len(), truth.len());
    assert!(gas.iter().all(|a| a["roleDefinitionId"] == GA));
    let pid = gas[0]["principalId"].as_str().unwrap().to_owned();
    let (_, _, v) = get_json(
        &sim,
        &tok,
        &format!("/graph/v1.0/roleManagement/directory/roleAssignments?$filter=principalId eq '{pid}'"),
        &[],
    )
    .await;
    let mine = v["value"].as_array().unwrap();
    assert!(!mine.is_empty() && mine.iter().all(|a| a["principalId"] == pid.as_str()));
    // $select keeps what is selected; the context names it.
    let (_, _, v) = get_json(
        &sim,
        &tok,
        "/graph/v1.0/roleManagement/directory/roleAssignments?$select=principalId,roleDefinitionId&$expand=principal",
        &[],
    )
    .await;
    assert_eq!(keys(&v["value"][0]), ["principalId", "roleDefinitionId", "principal"]);
    assert!(v["@odata.context"]
        .as_str()
        .unwrap()
        .ends_with("roleAssignments(principalId,roleDefinitionId,principal())"));
    // Options the page does not list, and an unknown navigation property: Graph's 400.
    for bad in ["$top=5", "$orderby=id", "$expand=manager", "$filter=displayName eq 'x'"] {
        let (s, _, v) = get_json(
            &sim,
            &tok,
            &format!("/graph/v1.0/roleManagement/directory/roleAssignments?{bad}"),
            &[],
        )
        .await;
        assert_eq!(s, 400, "{bad}: {v}");
        assert!(v["error"]["message"].is_string());
    }
}

// rbacapplication-list-roledefinitions; template ids from entra permissions-reference.
#[tokio::test]
async fn role_definitions_name_every_assigned_role() {
    let sim = crate::common::start_sim(10, Some(30)).await;
    let t = healthy(&sim, 2);
    let tok = delegated_graph_token(&sim, &t);
    let (s, _, v) = get_json(&sim, &tok, "/graph/v1.0/roleManagement/directory/roleDefinitions", &[]).await;
    assert_eq!(s, 200);
    let defs = v["value"].as_array().unwrap();
    let ga = defs.iter().find(|d| d["id"] == GA).expect("Global Administrator");
    assert_eq!(ga["displayName"], "Global Administrator");
    assert_eq!(ga["templateId"], GA);
    assert_eq!(ga["isBuiltIn"], true);
    assert!(ga["description"].is_string());
    let known: BTreeSet<&str> = defs.iter().map(|d| d["id"].as_str().unwrap()).collect();
    for c in sim.sim.fleet.customers() {
        for a in sim.sim.world.tenant(c).role_assignments() {
            assert!(known.contains(a.role.id), "{} defined", a.role.display_name);
        }
    }
    assert!(known.contains(roles::REPORTS_READER) && known.contains(roles::DIRECTORY_READERS));
    let (s, _, v) = get_json(
        &sim,
        &tok,
        &format!(
            "/graph/v1.0/roleManagement/directory/roleDefinitions/{}",
            roles::GLOBAL_READER
        ),
        &[],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["displayName"], "Global Reader");
    let (_, _, v) = get_json(
        &sim,
        &tok,
        "/graph/v1.0/roleManagement/directory/roleDefinitions?$filter=displayName eq 'Exchange Administrator'&$select=id,displayName",
        &[],
    )
    .await;
    assert_eq!(v["value"][0]["id"], roles::EXCHANGE_ADMINISTRATOR);
    assert_eq!(keys(&v["value"][0]), ["id", "displayName"]);
}

// resources/signinactivity and user-list: signInActivity needs Entra ID P1/P2 (contract §3.3).
#[tokio::test]
async fn sign_in_activity_needs_entra_id_p1_in_the_tenant() {
    // Activity times follow the simulator's clock: it stands still, so that the list and the
    // one user read after it are compared at the same instant (they once straddled a second).
    let sim = crate::common::start_sim_frozen(30, Some(20)).await;
    let free = customer(&sim, false);
    let tok = delegated_graph_token(&sim, &free);
    for path in [
        "/graph/v1.0/users?$select=displayName,signInActivity".to_owned(),
        "/graph/v1.0/users?$filter=signInActivity/lastSignInDateTime le 2026-01-01T00:00:00Z".to_owned(),
        format!(
            "/graph/v1.0/users/{}?$select=signInActivity",
            sim.sim.fleet.user_id(&free, 0)
        ),
        "/graph/v1.0/reports/authenticationMethods/userRegistrationDetails".to_owned(),
    ] {
        let (s, _, v) = get_json(&sim, &tok, &path, &[]).await;
        assert_eq!(s, 403, "{path}: {v}");
        assert_eq!(error_code(&v), "Authentication_RequestFromNonPremiumTenantOrB2CTenant");
        assert_eq!(
            v["error"]["message"],
            "Tenant is not a B2C tenant and doesn't have premium license"
        );
    }
    // Without signInActivity the same tenant lists users as ever.
    let (s, _, _) = get_json(&sim, &tok, "/graph/v1.0/users?$select=displayName", &[]).await;
    assert_eq!(s, 200);

    let p1 = customer(&sim, true);
    let tok = delegated_graph_token(&sim, &p1);
    let (s, _, v) = get_json(&sim, &tok, "/graph/v1.0/users?$select=id,signInActivity", &[]).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#users(id,signInActivity)"
    );
    let users = v["value"].as_array().unwrap();
    let with: Vec<&Value> = users.iter().filter(|u| !u["signInActivity"].is_null()).collect();
    assert!(!with.is_empty());
    for u in &with {
        let a = &u["signInActivity"];
        assert_eq!(
            keys(a),
            [
                "lastNonInteractiveSignInDateTime",
                "lastNonInteractiveSignInRequestId",
                "lastSignInDateTime",
                "lastSignInRequestId",
                "lastSuccessfulSignInDateTime",
                "lastSuccessfulSignInRequestId"
            ]
        );
        for k in [
            "lastSignInDateTime",
            "lastNonInteractiveSignInDateTime",
            "lastSuccessfulSignInDateTime",
        ] {
            if let Some(d) = a[k].as_str() {
                // 2014-01-01T00:00:00Z form.
                assert_eq!(d.len(), 20, "{d}");
                assert!(d.ends_with('Z') && &d[10..11] == "T");
            }
        }
    }
    // One user: the same activity.
    let id = with[0]["id"].as_str().unwrap();
    let (s, _, one) = get_json(
        &sim,
        &tok,
        &format!("/graph/v1.0/users/{id}?$select=signInActivity"),
        &[],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(one["signInActivity"], with[0]["signInActivity"]);
    assert!(one["@odata.context"]
        .as_str()
        .unwrap()
        .ends_with("users(signInActivity)/$entity"));
}

// user-list: "$filter=signInActivity/lastSignInDateTime le …" equals filtering the full list, and
// "the maximum page size for $top is 120".
#[tokio::test]
async fn sign_in_filter_equals_a_client_side_filter_and_pages_hold_at_most_120() {
    let sim = crate::common::start_sim_frozen(30, Some(300)).await;
    let t = customer(&sim, true);
    let tok = delegated_graph_token(&sim, &t);
    let (all, sizes) = all_pages(
        &sim,
        &tok,
        "/graph/v1.0/users?$select=id,accountEnabled,signInActivity&$top=999",
    )
    .await;
    assert_eq!(all.len(), 300);
    assert!(sizes.iter().all(|&n| n <= 120) && sizes[0] == 120, "{sizes:?}");
    let now = sim.sim.clock.now_unix();
    let cutoff = tenantctl_sim::platform::clock::rfc3339(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs((now - 30 * 86_400) as u64),
    );
    let mut want: Vec<&str> = all
        .iter()
        .filter(|u| {
            u["signInActivity"]["lastSignInDateTime"]
                .as_str()
                .is_some_and(|d| d <= cutoff.as_str())
        })
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    want.sort();
    for op in ["le"] {
        let (got, _) = all_pages(
            &sim,
            &tok,
            &format!(
                "/graph/v1.0/users?$select=id,signInActivity&$filter=signInActivity/lastSignInDateTime {op} {cutoff}"
            ),
        )
        .await;
        let mut got: Vec<&str> = got.iter().map(|u| u["id"].as_str().unwrap()).collect();
        got.sort();
        assert_eq!(got, want);
    }
    assert!(!want.is_empty(), "some users inactive for 30 days");
    // ge is the complement among users who signed in interactively.
    let (recent, _) = all_pages(
        &sim,
        &tok,
        &format!("/graph/v1.0/users?$select=id&$filter=signInActivity/lastSignInDateTime ge {cutoff}"),
    )
    .await;
    let signed_in = all
        .iter()
        .filter(|u| !u["signInActivity"]["lastSignInDateTime"].is_null())
        .count();
    assert!(recent.len() + want.len() >= signed_in && recent.len() <= signed_in);
    // Never signed in: `eq null`.
    let (never, _) = all_pages(
        &sim,
        &tok,
        "/graph/v1.0/users?$select=id&$filter=signInActivity/lastSignInDateTime eq null",
    )
    .await;
    assert_eq!(never.len(), all.len() - signed_in);
    // /users/$count counts the same users.
    let (s, _, n) = crate::common::get(
        &sim,
        &tok,
        &format!("/graph/v1.0/users/$count?$filter=signInActivity/lastSignInDateTime le {cutoff}"),
        &[("ConsistencyLevel", "eventual")],
    )
    .await;
    assert_eq!((s, n), (200, want.len().to_string()));
    // "but not with any other filterable properties".
    let (s, _, v) = get_json(
        &sim,
        &tok,
        &format!("/graph/v1.0/users?$filter=signInActivity/lastSignInDateTime le {cutoff} and accountEnabled eq true"),
        &[],
    )
    .await;
    assert_eq!(s, 400, "{v}");
    // A disabled account has no sign-in in the last two weeks.
    let fortnight = tenantctl_sim::platform::clock::rfc3339(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs((now - 14 * 86_400) as u64),
    );
    for u in all.iter().filter(|u| u["accountEnabled"] == false) {
        let a = &u["signInActivity"];
        for k in ["lastSignInDateTime", "lastNonInteractiveSignInDateTime"] {
            assert!(a[k].as_str().is_none_or(|d| d < fortnight.as_str()), "{u}");
        }
    }
}

// World consistency [I]: sign-ins follow the Exchange mailboxes (world/mailboxes.rs).
#[tokio::test]
async fn sign_ins_follow_the_mailboxes() {
    let sim = crate::common::start_sim_frozen(30, Some(80)).await;
    let t = customer(&sim, true);
    let view = sim.sim.world.tenant(&t);
    let now = sim.sim.clock.now_unix();
    let mut resource = 0;
    for v in view.users() {
        let si = view.sign_in(&v, now);
        match view.mailbox_of(&v.user, v.index, now) {
            Some(m) if m.kind != tenantctl_sim::world::mailboxes::MailboxKind::User => {
                resource += 1;
                assert!(si.is_never(), "a resource mailbox's account never signs in");
            }
            Some(m) if v.user.account_enabled => {
                assert_eq!(si.last_sign_in.map(|x| x.0), m.activity.last_user_action);
                assert_eq!(si.last_non_interactive.map(|x| x.0), m.activity.last_logon);
            }
            _ => {}
        }
        if let Some((s, _)) = si.last_successful {
            let latest = si.last_sign_in.map(|x| x.0).max(si.last_non_interactive.map(|x| x.0));
            assert!(Some(s) <= latest);
        }
    }
    let _ = resource;
}

// authenticationmethodsroot-list-userregistrationdetails: shape, one row per user, isAdmin ⇔ a
// directory role, and the definitions' implications.
#[tokio::test]
async fn registration_details_follow_the_example_and_the_roles() {
    let sim = crate::common::start_sim(30, Some(60)).await;
    let t = customer(&sim, true);
    let tok = delegated_graph_token(&sim, &t);
    let (s, _, v) = get_json(
        &sim,
        &tok,
        "/graph/v1.0/reports/authenticationMethods/userRegistrationDetails",
        &[],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#reports/authenticationMethods/userRegistrationDetails"
    );
    let rows = v["value"].as_array().unwrap();
    let view = sim.sim.world.tenant(&t);
    assert_eq!(rows.len(), view.users().count(), "one row per user");
    let admins: BTreeSet<String> = view
        .role_assignments()
        .iter()
        .map(|a| a.principal.user.id.to_string())
        .collect();
    drop(view);
    assert!(!admins.is_empty());
    for r in rows {
        assert_eq!(
            keys(r),
            [
                "id",
                "userPrincipalName",
                "userDisplayName",
                "isAdmin",
                "isSsprRegistered",
                "isSsprEnabled",
                "isSsprCapable",
                "isMfaRegistered",
                "isMfaCapable",
                "isPasswordlessCapable",
                "lastUpdatedDateTime",
                "methodsRegistered",
                "isSystemPreferredAuthenticationMethodEnabled",
                "systemPreferredAuthenticationMethods",
                "userPreferredMethodForSecondaryAuthentication",
                "userType"
            ]
        );
        let b = |k: &str| r[k].as_bool().unwrap();
        assert_eq!(b("isAdmin"), admins.contains(r["id"].as_str().unwrap()));
        assert!(!b("isMfaCapable") || b("isMfaRegistered"));
        assert!(!b("isSsprCapable") || (b("isSsprRegistered") && b("isSsprEnabled")));
        assert!(!b("isMfaRegistered") || !r["methodsRegistered"].as_array().unwrap().is_empty());
        // 2023-03-13T19:15:41.6195833Z form.
        assert_eq!(r["lastUpdatedDateTime"].as_str().unwrap().len(), 28);
        assert!(["member", "guest"].contains(&r["userType"].as_str().unwrap()));
    }
    // $filter on the documented properties (and isAdmin [I]) equals a client-side filter.
    let (s, _, v) = get_json(
        &sim,
        &tok,
        "/graph/v1.0/reports/authenticationMethods/userRegistrationDetails?$filter=isAdmin eq true and isMfaRegistered eq false",
        &[],
    )
    .await;
    assert_eq!(s, 200);
    let want: Vec<&Value> = rows
        .iter()
        .filter(|r| r["isAdmin"] == true && r["isMfaRegistered"] == false)
        .collect();
    assert_eq!(v["value"].as_array().unwrap().len(), want.len());
    let (_, _, v) = get_json(
        &sim,
        &tok,
        "/graph/v1.0/reports/authenticationMethods/userRegistrationDetails?$filter=methodsRegistered eq 'mobilePhone'",
        &[],
    )
    .await;
    let phones = rows
        .iter()
        .filter(|r| {
            r["methodsRegistered"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m == "mobilePhone")
        })
        .count();
    assert_eq!(v["value"].as_array().unwrap().len(), phones);
    let (s, _, v) = get_json(
        &sim,
        &tok,
        "/graph/v1.0/reports/authenticationMethods/userRegistrationDetails?$orderby=userPrincipalName desc",
        &[],
    )
    .await;
    assert_eq!(s, 200);
    let upns: Vec<&str> = v["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["userPrincipalName"].as_str().unwrap())
        .collect();
    assert!(upns.windows(2).all(|w| w[0].to_lowercase() >= w[1].to_lowercase()));
    // "supports only the $filter and $orderBy".
    for bad in ["$top=5", "$select=id", "$count=true"] {
        let (s, _, v) = get_json(
            &sim,
            &tok,
            &format!("/graph/v1.0/reports/authenticationMethods/userRegistrationDetails?{bad}"),
            &[],
        )
        .await;
        assert_eq!(s, 400, "{bad}: {v}");
    }
    // One user by id (userregistrationdetails-get).
    let id = rows[0]["id"].as_str().unwrap();
    let (s, _, one) = get_json(
        &sim,
        &tok,
        &format!("/graph/v1.0/reports/authenticationMethods/userRegistrationDetails/{id}"),
        &[],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(one["isMfaRegistered"], rows[0]["isMfaRegistered"]);
}

// The finding partners look for: admins without MFA exist, and not every admin lacks it.
#[tokio::test]
async fn some_admins_have_no_mfa() {
    let sim = crate::common::start_sim(40, Some(30)).await;
    let now = sim.sim.clock.now_unix();
    let (mut with, mut without) = (0, 0);
    for t in sim.sim.fleet.customers() {
        let view = sim.sim.world.tenant(t);
        for a in view.role_assignments() {
            if view.registration(&a.principal.user, true, now).is_mfa_registered {
                with += 1;
            } else {
                without += 1;
            }
        }
    }
    assert!(
        without > 0 && with > without,
        "{with} admins with MFA, {without} without"
    );
}

// Registration details need Entra ID P1 too (microsoft-graph-docs-contrib#8777), and the
// report follows paging when a tenant has more than a page.
#[tokio::test]
async fn registration_details_page_with_next_links() {
    let sim = crate::common::start_sim(30, Some(1200)).await;
    let t = customer(&sim, true);
    let tok = delegated_graph_token(&sim, &t);
    let (rows, sizes) = all_pages(
        &sim,
        &tok,
        "/graph/v1.0/reports/authenticationMethods/userRegistrationDetails",
    )
    .await;
    assert_eq!(rows.len(), 1200);
    assert_eq!(sizes, [1000, 200]);
}

// Tenant isolation: a token of tenant A reads A's roles and users, never B's.
#[tokio::test]
async fn a_token_of_one_tenant_never_reads_another() {
    let sim = crate::common::start_sim(30, Some(25)).await;
    let a = customer(&sim, true);
    let b = sim
        .sim
        .fleet
        .customers()
        .iter()
        .find(|x| x.idx != a.idx && sim.sim.world.tenant(x).has_entra_premium())
        .unwrap()
        .clone();
    let tok_a = delegated_graph_token(&sim, &a);
    let (_, _, va) = get_json(
        &sim,
        &tok_a,
        "/graph/v1.0/roleManagement/directory/roleAssignments",
        &[],
    )
    .await;
    let ids_a: BTreeSet<String> = va["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["principalId"].as_str().unwrap().to_owned())
        .collect();
    let ids_b: BTreeSet<String> = sim
        .sim
        .world
        .tenant(&b)
        .role_assignments()
        .iter()
        .map(|x| x.principal.user.id.to_string())
        .collect();
    assert!(ids_a.is_disjoint(&ids_b));
    // B's admin is not found with A's token, in users nor in the registration report.
    let other = ids_b.iter().next().unwrap();
    let (s, _, _) = get_json(
        &sim,
        &tok_a,
        &format!("/graph/v1.0/users/{other}?$select=signInActivity"),
        &[],
    )
    .await;
    assert_eq!(s, 404);
    let (s, _, _) = get_json(
        &sim,
        &tok_a,
        &format!("/graph/v1.0/reports/authenticationMethods/userRegistrationDetails/{other}"),
        &[],
    )
    .await;
    assert_eq!(s, 404);
    let (_, _, rows) = get_json(
        &sim,
        &tok_a,
        "/graph/v1.0/reports/authenticationMethods/userRegistrationDetails",
        &[],
    )
    .await;
    assert!(rows["value"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| !ids_b.contains(r["id"].as_str().unwrap())));
}

// Permissions: AuditLog.Read.All with a reader role (Reports Reader, Security Reader, Global
// Reader…); a customer whose GDAP roles lack one answers 403 Authorization_RequestDenied.
#[tokio::test]
async fn reader_roles_may_read_and_other_roles_get_403() {
    let sim = crate::common::start_sim(30, Some(20)).await;
    let t = customer(&sim, true);
    let tok = delegated_graph_token(&sim, &t);
    let sign_ins = "/graph/v1.0/users?$select=id,signInActivity";
    let report = "/graph/v1.0/reports/authenticationMethods/userRegistrationDetails";
    let assignments = "/graph/v1.0/roleManagement/directory/roleAssignments";
    let set = |roles: &[&'static str]| {
        sim.sim.role_overrides.write().insert(t.idx, roles.to_vec());
    };
    for reader in [
        roles::REPORTS_READER,
        roles::GLOBAL_READER,
        roles::SECURITY_READER,
        roles::GLOBAL_ADMINISTRATOR,
    ] {
        set(&[roles::DIRECTORY_READERS, reader]);
        for p in [sign_ins, report, assignments] {
            let (s, _, v) = get_json(&sim, &tok, p, &[]).await;
            assert_eq!(s, 200, "{reader} {p}: {v}");
        }
    }
    set(&[
        roles::DIRECTORY_READERS,
        roles::USER_ADMINISTRATOR,
        roles::LICENSE_ADMINISTRATOR,
    ]);
    for p in [sign_ins, report] {
        let (s, _, v) = get_json(&sim, &tok, p, &[]).await;
        assert_eq!(s, 403, "{p}");
        assert_eq!(error_code(&v), "Authorization_RequestDenied");
    }
    let (s, _, _) = get_json(&sim, &tok, assignments, &[]).await;
    assert_eq!(s, 200, "Directory Readers lists role assignments");
    set(&[roles::USER_ADMINISTRATOR]);
    let (s, _, _) = get_json(&sim, &tok, assignments, &[]).await;
    assert_eq!(s, 403);
    // App-only: the consented AuditLog.Read.All application permission is enough.
    let app = app_token(&sim, &t);
    for p in [sign_ins, report, assignments] {
        let (s, _, v) = get_json(&sim, &app, p, &[]).await;
        assert_eq!(s, 200, "app-only {p}: {v}");
    }
}

// The control API sets a customer's GDAP roles (and null restores them).
#[tokio::test]
async fn control_api_sets_gdap_roles() {
    let sim = crate::common::start_sim(5, Some(10)).await;
    let t = healthy(&sim, 0);
    let c = crate::common::client();
    let url = format!("{}/_sim/tenants/{}/roles", sim.base_url, t.id);
    let r = c
        .put(&url)
        .json(&serde_json::json!({"roles": [roles::DIRECTORY_READERS]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(sim.sim.access(&t).roles, vec![roles::DIRECTORY_READERS]);
    let r = c
        .put(&url)
        .json(&serde_json::json!({"roles": ["not-a-role"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = c
        .put(&url)
        .json(&serde_json::json!({"roles": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(sim.sim.access(&t).roles.len() > 1);
}

// ---- Guests (resources/user; user-list example 4: `a_contoso.com#EXT#@microsoft.onmicrosoft.com`) ----

async fn start_with_guests(tenants: u32, users: u32, guests: bool) -> RunningSim {
    let mut c = tenantctl_sim::SimConfig::new(1, tenants);
    c.fleet.users_per_tenant = Some(users);
    c.fleet.anchor = crate::common::ANCHOR;
    c.fleet.guests = guests;
    c.throttle.enabled = false;
    crate::common::start_with(c).await
}

/// The first healthy customer with guests and Entra ID P1.
fn guest_tenant(sim: &RunningSim) -> Tenant {
    let n = sim
        .sim
        .fleet
        .customers()
        .iter()
        .position(|t| t.guest_count > 0 && sim.sim.world.tenant(t).has_entra_premium())
        .expect("a customer with guests");
    healthy(sim, n)
}

#[tokio::test]
async fn guests_have_graphs_shape_and_filter_on_user_type() {
    let sim = start_with_guests(20, 30, true).await;
    let t = guest_tenant(&sim);
    let tok = delegated_graph_token(&sim, &t);
    let sel = "id,userPrincipalName,mail,mailNickname,userType,creationType,externalUserState,externalUserStateChangeDateTime,assignedLicenses,accountEnabled";
    let (s, _, v) = get_json(
        &sim,
        &tok,
        &format!("/graph/v1.0/users?$filter=userType eq 'Guest'&$select={sel}"),
        &[],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let guests = v["value"].as_array().unwrap();
    assert_eq!(guests.len() as u32, t.guest_count);
    for g in guests {
        let upn = g["userPrincipalName"].as_str().unwrap();
        let mail = g["mail"].as_str().unwrap();
        assert_eq!(upn, format!("{}#EXT#@{}", mail.replace('@', "_"), t.initial_domain));
        assert_eq!(g["mailNickname"], format!("{}#EXT#", mail.replace('@', "_")));
        assert_eq!(g["userType"], "Guest");
        assert_eq!(g["creationType"], "Invitation");
        assert!(["Accepted", "PendingAcceptance"].contains(&g["externalUserState"].as_str().unwrap()));
        assert!(g["externalUserStateChangeDateTime"].as_str().unwrap().ends_with('Z'));
        assert_eq!(g["assignedLicenses"], serde_json::json!([]));
        // By id and by UPN (`#` percent-encoded).
        let (s, _, one) = get_json(
            &sim,
            &tok,
            &format!("/graph/v1.0/users/{}", g["id"].as_str().unwrap()),
            &[],
        )
        .await;
        assert_eq!((s, &one["userPrincipalName"]), (200, &g["userPrincipalName"]));
        let (s, _, one) = get_json(
            &sim,
            &tok,
            &format!("/graph/v1.0/users/{}", upn.replace('#', "%23")),
            &[],
        )
        .await;
        assert_eq!((s, &one["id"]), (200, &g["id"]));
    }
    // Members: userType Member, no creationType.
    let (_, _, v) = get_json(
        &sim,
        &tok,
        "/graph/v1.0/users?$filter=userType eq 'Member'&$select=id,creationType&$top=999",
        &[],
    )
    .await;
    let members = v["value"].as_array().unwrap();
    assert_eq!(members.len() as u32, t.user_count);
    assert!(members.iter().all(|m| m["creationType"].is_null()));
    // Ordinary listings hold members then guests.
    let (all, _) = all_pages(&sim, &tok, "/graph/v1.0/users?$select=id,userType&$top=7").await;
    assert_eq!(all.len() as u32, t.user_count + t.guest_count);
    assert!(all[..t.user_count as usize].iter().all(|u| u["userType"] == "Member"));
    let (s, _, n) = crate::common::get(
        &sim,
        &tok,
        "/graph/v1.0/users/$count?$filter=userType eq 'Guest'",
        &[("ConsistencyLevel", "eventual")],
    )
    .await;
    assert_eq!((s, n), (200, t.guest_count.to_string()));
    // One registration row per user, guests included (userType "guest").
    let (_, _, r) = get_json(
        &sim,
        &tok,
        "/graph/v1.0/reports/authenticationMethods/userRegistrationDetails?$filter=userType eq 'guest'",
        &[],
    )
    .await;
    assert_eq!(r["value"].as_array().unwrap().len() as u32, t.guest_count);
    // A guest who has not accepted never signed in.
    let (_, _, si) = get_json(&sim, &tok, "/graph/v1.0/users?$select=id,signInActivity", &[]).await;
    for g in guests.iter().filter(|g| g["externalUserState"] == "PendingAcceptance") {
        let row = si["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == g["id"])
            .unwrap();
        assert!(row["signInActivity"].is_null());
    }
}

// Guests change nothing else: the members, their licences and mailboxes are those of a fleet
// without guests; guests hold no licence and no Exchange mailbox.
#[tokio::test]
async fn guests_leave_members_licences_and_mailboxes_as_they_were() {
    let with = start_with_guests(12, 25, true).await;
    let without = start_with_guests(12, 25, false).await;
    assert!(with.sim.fleet.total_guests() > 0);
    assert_eq!(without.sim.fleet.total_guests(), 0);
    for (a, b) in with.sim.fleet.customers().iter().zip(without.sim.fleet.customers()) {
        assert_eq!(a.user_count, b.user_count);
        let (va, vb) = (with.sim.world.tenant(a), without.sim.world.tenant(b));
        let members: Vec<_> = va.users().take(a.user_count as usize).collect();
        assert_eq!(members, vb.users().collect::<Vec<_>>());
        assert_eq!(va.skus(), vb.skus(), "consumed units unchanged");
        assert_eq!(va.role_assignments(), vb.role_assignments());
        drop((va, vb));
        let now = with.sim.clock.now_unix();
        let ma = with.sim.world.mailboxes(a, now);
        let mb = without.sim.world.mailboxes(b, now);
        assert_eq!(ma.len(), mb.len(), "no mailbox for guests");
    }
}

// Writes after guests: a created user takes the slot after the guests; a guest can be deleted.
#[tokio::test]
async fn users_created_after_guests_and_guests_deleted() {
    let sim = start_with_guests(20, 10, true).await;
    let t = guest_tenant(&sim);
    let guest = sim.sim.fleet.guest(&t, 0);
    let mut rec = guest.clone();
    rec.id = "00000000-0000-4000-8000-00000000abcd".parse().unwrap();
    rec.user_principal_name = format!("new.user@{}", t.initial_domain);
    rec.user_type = "Member".into();
    rec.external = None;
    let v = sim.sim.world.create_user(&t, rec).unwrap();
    assert_eq!(v.index, t.generated_users());
    assert_eq!(sim.sim.world.user(&t, &v.user.id.to_string()).unwrap().index, v.index);
    sim.sim.world.delete_user(&t, &guest.id.to_string()).unwrap();
    assert!(sim.sim.world.user(&t, &guest.user_principal_name).is_none());
    assert_eq!(sim.sim.world.tenant(&t).users().count() as u64, t.generated_users());
}
