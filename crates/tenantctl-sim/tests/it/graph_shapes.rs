//! Shapes of the Graph endpoints against the examples of their learn.microsoft.com pages.

#[allow(unused_imports)]
use crate::common::{get, get_json, healthy, keys, rel};

use serde_json::json;
use tenantctl_sim::skus::Catalog;
use tenantctl_sim::RunningSim;

fn partner_token(sim: &RunningSim) -> String {
    crate::common::delegated_graph_token(sim, sim.sim.fleet.partner_tenant())
}

// learn.microsoft.com/graph/api/contract-list
#[tokio::test]
async fn contracts_follow_contract_list_example() {
    let sim = crate::common::start_sim(6, Some(5)).await;
    let (s, h, v) = get_json(&sim, &partner_token(&sim), "/graph/v1.0/contracts", &[]).await;
    assert_eq!(s, 200);
    assert!(h.contains_key("request-id") && h.contains_key("client-request-id"));
    assert_eq!(
        v["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#contracts"
    );
    let expected: Vec<_> = sim
        .sim
        .fleet
        .customers()
        .iter()
        .filter(|t| t.contract.is_some())
        .collect();
    let items = v["value"].as_array().unwrap();
    assert_eq!(items.len(), expected.len());
    for (item, t) in items.iter().zip(expected) {
        let c = t.contract.as_ref().unwrap();
        assert_eq!(
            keys(item),
            ["id", "contractType", "customerId", "defaultDomainName", "displayName"]
        );
        assert_eq!(item["id"], c.id.to_string());
        assert_eq!(item["contractType"], c.contract_type);
        assert_eq!(item["customerId"], t.id.to_string());
        assert_eq!(item["defaultDomainName"], c.default_domain_name);
    }
}

// learn.microsoft.com/graph/api/tenantrelationship-list-delegatedadminrelationships,
// .../delegatedadminrelationship-get, .../delegatedadminrelationship-list-accessassignments
#[tokio::test]
async fn gdap_relationships_and_access_assignments_follow_their_examples() {
    let sim = crate::common::start_sim(5, Some(5)).await;
    let tok = partner_token(&sim);
    let (s, _, v) = get_json(
        &sim,
        &tok,
        "/graph/v1.0/tenantRelationships/delegatedAdminRelationships",
        &[],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        v["@odata.context"],
        "https://graph.microsoft.com/v1.0/tenantRelationships/$metadata#delegatedAdminRelationships"
    );
    let total: usize = sim
        .sim
        .fleet
        .customers()
        .iter()
        .map(|t| sim.sim.relationships(t).len())
        .sum();
    let items = v["value"].as_array().unwrap();
    assert_eq!(items.len(), total);
    let t = sim
        .sim
        .fleet
        .customers()
        .iter()
        .find(|t| !t.relationships.is_empty())
        .unwrap();
    let r = &sim.sim.relationships(t)[0];
    let item = items.iter().find(|i| i["id"] == r.id.as_str()).unwrap();
    assert_eq!(
        keys(item),
        [
            "@odata.type",
            "@odata.etag",
            "id",
            "displayName",
            "duration",
            "customer",
            "accessDetails",
            "status",
            "autoExtendDuration",
            "createdDateTime",
            "lastModifiedDateTime",
            "activatedDateTime",
            "endDateTime"
        ]
    );
    assert_eq!(item["@odata.type"], "#microsoft.graph.delegatedAdminRelationship");
    assert_eq!(item["duration"], format!("P{}D", r.duration_days));
    assert_eq!(
        item["customer"],
        json!({"tenantId": t.id.to_string(), "displayName": t.display_name})
    );
    assert_eq!(item["status"], r.status);
    let roles: Vec<_> = r.roles.iter().map(|x| json!({"roleDefinitionId": x})).collect();
    assert_eq!(item["accessDetails"], json!({"unifiedRoles": roles}));
    let end = item["endDateTime"].as_str().unwrap();
    assert!(end.ends_with(".0000000Z") && end.len() == 28, "{end}");

    let (s, _, one) = get_json(
        &sim,
        &tok,
        &format!("/graph/v1.0/tenantRelationships/delegatedAdminRelationships/{}", r.id),
        &[],
    )
    .await;
    assert_eq!(s, 200);
    assert!(one["@odata.context"]
        .as_str()
        .unwrap()
        .ends_with("#delegatedAdminRelationships/$entity"));
    assert_eq!(one["id"], r.id.as_str());

    let (s, _, aa) = get_json(
        &sim,
        &tok,
        &format!(
            "/graph/v1.0/tenantRelationships/delegatedAdminRelationships/{}/accessAssignments",
            r.id
        ),
        &[],
    )
    .await;
    assert_eq!(s, 200);
    let list = aa["value"].as_array().unwrap();
    assert_eq!(list.len(), r.assignments.len());
    for (a, want) in list.iter().zip(&r.assignments) {
        assert_eq!(
            keys(a),
            [
                "@odata.etag",
                "id",
                "status",
                "createdDateTime",
                "lastModifiedDateTime",
                "accessContainer",
                "accessDetails"
            ]
        );
        assert_eq!(a["id"], want.id.to_string());
        assert_eq!(
            a["accessContainer"],
            json!({"accessContainerId": sim.sim.fleet.partner.admin_agents_group.to_string(), "accessContainerType": "securityGroup"})
        );
    }
    let (s, _, e) = get_json(
        &sim,
        &tok,
        "/graph/v1.0/tenantRelationships/delegatedAdminRelationships/nope",
        &[],
    )
    .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (404, Some("Request_ResourceNotFound"))
    );
}

// learn.microsoft.com/graph/api/tenantrelationship-list-delegatedadmincustomers
#[tokio::test]
async fn gdap_customers_are_the_tenants_with_an_active_relationship() {
    let sim = crate::common::start_sim(8, Some(5)).await;
    let (s, _, v) = get_json(
        &sim,
        &partner_token(&sim),
        "/graph/v1.0/tenantRelationships/delegatedAdminCustomers",
        &[],
    )
    .await;
    assert_eq!(s, 200);
    let want: Vec<String> = sim
        .sim
        .fleet
        .customers()
        .iter()
        .filter(|t| sim.sim.relationships(t).iter().any(|r| r.status == "active"))
        .map(|t| t.id.to_string())
        .collect();
    let got: Vec<String> = v["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["tenantId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, want);
    let first = &v["value"][0];
    assert_eq!(
        keys(first),
        ["@odata.type", "@odata.etag", "id", "tenantId", "displayName"]
    );
    assert_eq!(first["id"], first["tenantId"]);
}

// learn.microsoft.com/graph/api/organization-list
#[tokio::test]
async fn organization_follows_organization_list_example() {
    let sim = crate::common::start_sim(2, Some(5)).await;
    let t = healthy(&sim, 0);
    let tok = crate::common::delegated_graph_token(&sim, &t);
    let (s, _, v) = get_json(&sim, &tok, "/graph/v1.0/organization", &[]).await;
    assert_eq!(s, 200);
    assert_eq!(
        v["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#organization"
    );
    let o = &v["value"][0];
    assert_eq!(v["value"].as_array().unwrap().len(), 1);
    assert_eq!(o["id"], t.id.to_string());
    assert_eq!(o["displayName"], t.display_name);
    assert_eq!(o["countryLetterCode"], t.country);
    assert_eq!(o["tenantType"], "AAD");
    let vd = o["verifiedDomains"].as_array().unwrap();
    assert_eq!(vd.len(), t.domains.iter().filter(|d| d.is_verified).count());
    assert_eq!(keys(&vd[0]), ["capabilities", "isDefault", "isInitial", "name", "type"]);
    assert!(vd
        .iter()
        .any(|d| d["isInitial"] == true && d["name"] == t.initial_domain.as_str()));
    assert!(o["assignedPlans"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| keys(p) == ["assignedDateTime", "capabilityStatus", "service", "servicePlanId"]));
}

// learn.microsoft.com/graph/api/domain-list, learn.microsoft.com/graph/api/domain-get
#[tokio::test]
async fn domains_follow_domain_list_and_get_examples() {
    let sim = crate::common::start_sim(2, Some(5)).await;
    let t = healthy(&sim, 1);
    let tok = crate::common::delegated_graph_token(&sim, &t);
    let (s, _, v) = get_json(&sim, &tok, "/graph/v1.0/domains", &[]).await;
    assert_eq!(s, 200);
    let list = v["value"].as_array().unwrap();
    assert_eq!(list.len(), t.domains.len());
    assert_eq!(
        keys(&list[0]),
        [
            "authenticationType",
            "availabilityStatus",
            "id",
            "isAdminManaged",
            "isDefault",
            "isInitial",
            "isRoot",
            "isVerified",
            "supportedServices",
            "passwordValidityPeriodInDays",
            "passwordNotificationWindowInDays",
            "state"
        ]
    );
    let d = &t.domains[0];
    let (s, _, one) = get_json(&sim, &tok, &format!("/graph/v1.0/domains/{}", d.name), &[]).await;
    assert_eq!(s, 200);
    assert_eq!(
        one["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#domains/$entity"
    );
    assert_eq!(one["id"], d.name.as_str());
    assert_eq!(one["isInitial"], d.is_initial);
    assert_eq!(one["state"], serde_json::Value::Null);
    let (s, _, e) = get_json(&sim, &tok, "/graph/v1.0/domains/unknown.example", &[]).await;
    assert_eq!(s, 404);
    assert_eq!(e["error"]["code"], "Request_ResourceNotFound");
}

// learn.microsoft.com/graph/api/user-list, learn.microsoft.com/graph/api/user-get
#[tokio::test]
async fn users_follow_user_list_and_user_get_examples() {
    let sim = crate::common::start_sim(2, Some(7)).await;
    let t = healthy(&sim, 0);
    let tok = crate::common::delegated_graph_token(&sim, &t);
    let f = &sim.sim.fleet;
    let (s, _, v) = get_json(&sim, &tok, "/graph/v1.0/users", &[]).await;
    assert_eq!(s, 200);
    assert_eq!(v["@odata.context"], "https://graph.microsoft.com/v1.0/$metadata#users");
    assert!(v.get("@odata.nextLink").is_none());
    let list = v["value"].as_array().unwrap();
    assert_eq!(list.len(), t.user_count as usize);
    assert_eq!(
        keys(&list[0]),
        [
            "businessPhones",
            "displayName",
            "givenName",
            "jobTitle",
            "mail",
            "mobilePhone",
            "officeLocation",
            "preferredLanguage",
            "surname",
            "userPrincipalName",
            "id"
        ]
    );
    let u0 = f.user(&t, 0);
    assert_eq!(list[0]["id"], u0.id.to_string());
    assert_eq!(list[0]["userPrincipalName"], u0.user_principal_name);

    let sel = "id,displayName,userPrincipalName,accountEnabled,usageLocation,assignedLicenses";
    let (s, _, v) = get_json(&sim, &tok, &format!("/graph/v1.0/users?$select={sel}&$top=999"), &[]).await;
    assert_eq!(s, 200);
    assert_eq!(
        v["@odata.context"],
        format!("https://graph.microsoft.com/v1.0/$metadata#users({sel})")
    );
    let cat = Catalog::get();
    for (i, item) in v["value"].as_array().unwrap().iter().enumerate() {
        let u = f.user(&t, i as u32);
        assert_eq!(keys(item), sel.split(',').collect::<Vec<_>>());
        assert_eq!(item["accountEnabled"], u.account_enabled);
        let skus: Vec<_> = u
            .licenses
            .iter()
            .map(|&s| json!({"disabledPlans": [], "skuId": cat.skus[t.subscriptions[s].sku].id.to_string()}))
            .collect();
        assert_eq!(item["assignedLicenses"], json!(skus));
    }

    for key in [u0.id.to_string(), u0.user_principal_name.clone()] {
        let (s, _, one) = get_json(&sim, &tok, &format!("/graph/v1.0/users/{key}"), &[]).await;
        assert_eq!(s, 200);
        assert_eq!(
            one["@odata.context"],
            "https://graph.microsoft.com/v1.0/$metadata#users/$entity"
        );
        assert_eq!(one["id"], u0.id.to_string());
    }
    let (s, _, e) = get_json(&sim, &tok, "/graph/v1.0/users/nobody@example.com", &[]).await;
    assert_eq!(s, 404);
    assert_eq!(e["error"]["code"], "Request_ResourceNotFound");
    assert_eq!(
        e["error"]["message"],
        "Resource 'nobody@example.com' does not exist or one of its queried reference-property objects are not present."
    );
}

// learn.microsoft.com/graph/api/subscribedsku-list
#[tokio::test]
async fn subscribed_skus_follow_subscribedsku_list_example() {
    let sim = crate::common::start_sim(3, Some(20)).await;
    let t = healthy(&sim, 2);
    let tok = crate::common::delegated_graph_token(&sim, &t);
    let (s, h, v) = get_json(&sim, &tok, "/graph/v1.0/subscribedSkus", &[]).await;
    assert_eq!(s, 200);
    assert_eq!(h["x-ms-resource-unit"], "3");
    let list = v["value"].as_array().unwrap();
    assert!(!list.is_empty());
    let cat = Catalog::get();
    for item in list {
        assert_eq!(
            keys(item),
            [
                "accountName",
                "accountId",
                "appliesTo",
                "capabilityStatus",
                "consumedUnits",
                "id",
                "prepaidUnits",
                "servicePlans",
                "skuId",
                "skuPartNumber",
                "subscriptionIds"
            ]
        );
        let sku_id = item["skuId"].as_str().unwrap();
        assert_eq!(item["id"], format!("{}_{}", t.id, sku_id));
        let subs: Vec<_> = t
            .subscriptions
            .iter()
            .filter(|s| cat.skus[s.sku].id.to_string() == sku_id)
            .collect();
        assert_eq!(item["consumedUnits"], subs.iter().map(|s| s.consumed).sum::<u32>());
        assert_eq!(
            item["prepaidUnits"]["enabled"],
            subs.iter().map(|s| s.enabled).sum::<u32>()
        );
        assert_eq!(
            keys(&item["prepaidUnits"]),
            ["enabled", "suspended", "warning", "lockedOut"]
        );
        assert_eq!(
            keys(&item["servicePlans"][0]),
            ["servicePlanId", "servicePlanName", "provisioningStatus", "appliesTo"]
        );
    }
}
