//! Microsoft Graph writes in a customer tenant: users (learn.microsoft.com/graph/api/user-post-users,
//! user-update, user-delete), licences (user-assignlicense) and domains (domain-post-domains,
//! domain-list-verificationdnsrecords, domain-verify, domain-list-serviceconfigurationrecords).

use crate::graph::Graph;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use tenantctl_core::{ObjectId, SkuId};
use tenantctl_transport::api::ApiError;
use tenantctl_transport::cloud::Resource;
use tenantctl_transport::http::Request;

/// A user to create (`POST /users`).
#[derive(Clone, Debug, PartialEq)]
pub struct NewUser {
    pub user_principal_name: String,
    pub display_name: String,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub usage_location: Option<String>,
    pub password: String,
    pub force_change_password: bool,
}

impl NewUser {
    /// The mail nickname Graph requires: the UPN's local part.
    pub fn mail_nickname(&self) -> String {
        self.user_principal_name
            .split('@')
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    pub fn body(&self) -> Value {
        let mut b = json!({
            "accountEnabled": true,
            "displayName": self.display_name,
            "mailNickname": self.mail_nickname(),
            "userPrincipalName": self.user_principal_name,
            "passwordProfile": {
                "forceChangePasswordNextSignIn": self.force_change_password,
                "password": self.password,
            },
        });
        if let Some(v) = &self.given_name {
            b["givenName"] = json!(v);
        }
        if let Some(v) = &self.surname {
            b["surname"] = json!(v);
        }
        if let Some(v) = &self.usage_location {
            b["usageLocation"] = json!(v);
        }
        b
    }
}

/// A user as read back (for comparing with what an import wants).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExistingUser {
    pub id: String,
    pub user_principal_name: String,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub usage_location: Option<String>,
    #[serde(default)]
    pub assigned_licenses: Vec<AssignedLicense>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignedLicense {
    pub sku_id: String,
    #[serde(default)]
    pub disabled_plans: Vec<String>,
}

impl ExistingUser {
    pub fn object_id(&self) -> Option<ObjectId> {
        self.id.parse().ok()
    }
    pub fn has_sku(&self, sku: SkuId) -> bool {
        self.assigned_licenses
            .iter()
            .any(|l| l.sku_id.parse::<SkuId>().ok() == Some(sku))
    }
}

const EXISTING_SELECT: &str = "id,userPrincipalName,displayName,givenName,surname,usageLocation,assignedLicenses";

/// One DNS record Graph asks to publish (`domainDnsRecord` and its subtypes).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DnsRecord {
    pub record_type: String,
    pub label: String,
    #[serde(default)]
    pub ttl: Option<u32>,
    #[serde(default)]
    pub is_optional: bool,
    #[serde(default)]
    pub supported_service: Option<String>,
    pub text: Option<String>,
    pub mail_exchange: Option<String>,
    pub preference: Option<u32>,
    pub canonical_name: Option<String>,
    pub name_target: Option<String>,
    pub port: Option<u32>,
    pub priority: Option<u32>,
    pub protocol: Option<String>,
    pub service: Option<String>,
    pub weight: Option<u32>,
}

impl DnsRecord {
    /// The record's value as a DNS admin types it.
    pub fn value(&self) -> String {
        match self.record_type.as_str() {
            "Txt" => self.text.clone().unwrap_or_default(),
            "Mx" => self.mail_exchange.clone().unwrap_or_default(),
            "CName" => self.canonical_name.clone().unwrap_or_default(),
            "Srv" => format!(
                "{} {} {} {}",
                self.priority.unwrap_or(0),
                self.weight.unwrap_or(0),
                self.port.unwrap_or(0),
                self.name_target.clone().unwrap_or_default()
            ),
            _ => String::new(),
        }
    }

    /// One line of a BIND zone file.
    pub fn zone_line(&self) -> String {
        let ttl = self.ttl.unwrap_or(3600);
        match self.record_type.as_str() {
            "Txt" => format!("{}. {ttl} IN TXT \"{}\"", self.label, self.value()),
            "Mx" => format!(
                "{}. {ttl} IN MX {} {}.",
                self.label,
                self.preference.unwrap_or(0),
                self.value()
            ),
            "CName" => format!("{}. {ttl} IN CNAME {}.", self.label, self.value()),
            "Srv" => {
                let name = match (&self.service, &self.protocol) {
                    (Some(s), Some(p)) => format!("{s}.{p}.{}", self.label),
                    _ => self.label.clone(),
                };
                format!("{name}. {ttl} IN SRV {}.", self.value())
            }
            other => format!("; {} {other} (not publishable)", self.label),
        }
    }
}

/// A domain as `POST /domains` and `verify` return it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainState {
    pub id: String,
    #[serde(default)]
    pub is_verified: bool,
    #[serde(default)]
    pub is_default: bool,
}

fn seg(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A Graph collection answer (`{"value":[...]}`), e.g. a domain's DNS records.
#[derive(Deserialize)]
struct Collection<T> {
    value: Vec<T>,
}

impl Graph {
    /// Sends a write or read and deserialises its answer.
    async fn call<T: DeserializeOwned>(&self, tenant: &str, req: Request, what: &str) -> Result<T, ApiError> {
        self.api.get(tenant, Resource::Graph, req, what).await
    }

    /// Sends a request whose answer body does not matter (204 or the changed object).
    async fn call_no_body(&self, tenant: &str, req: Request) -> Result<(), ApiError> {
        self.api.send(tenant, Resource::Graph, req).await.map(|_| ())
    }

    /// `GET /users/{upn}`; `None` when Graph answers 404.
    pub async fn find_user(&self, tenant: &str, upn: &str) -> Result<Option<ExistingUser>, ApiError> {
        let url = self
            .api
            .endpoints()
            .graph_v1(&format!("users/{}?$select={EXISTING_SELECT}", seg(upn)));
        match self.call(tenant, Request::get(url), "user").await {
            Ok(u) => Ok(Some(u)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every user of a tenant with the properties an import compares.
    pub async fn existing_users(&self, tenant: &str) -> Result<Vec<ExistingUser>, ApiError> {
        use futures::TryStreamExt;
        let url = self
            .api
            .endpoints()
            .graph_v1(&format!("users?$select={EXISTING_SELECT}&$top=999"));
        let mut out = vec![];
        let mut pages = std::pin::pin!(tenantctl_transport::api::graph_pages::<ExistingUser>(
            self.api.clone(),
            tenant.to_owned(),
            Request::get(url)
        ));
        while let Some(p) = pages.try_next().await? {
            out.extend(p.value);
        }
        Ok(out)
    }

    /// `POST /users`: not idempotent; a caller that loses the answer
    /// ([`ApiError::outcome_unknown`]) must look the user up; a duplicate UPN is
    /// [`ApiError::is_already_exists`].
    pub async fn create_user(&self, tenant: &str, u: &NewUser) -> Result<ExistingUser, ApiError> {
        let url = self.api.endpoints().graph_v1("users");
        self.call(tenant, Request::post_json(url, &u.body()), "created user")
            .await
    }

    /// `PATCH /users/{id}` with the given properties (idempotent).
    pub async fn update_user(&self, tenant: &str, user: &str, changes: &Value) -> Result<(), ApiError> {
        let url = self.api.endpoints().graph_v1(&format!("users/{}", seg(user)));
        self.call_no_body(tenant, Request::patch_json(url, changes)).await
    }

    /// `POST /users/{id}/assignLicense`. Safe to repeat with the same body.
    pub async fn assign_license(
        &self,
        tenant: &str,
        user: &str,
        add: &[(SkuId, Vec<String>)],
        remove: &[SkuId],
    ) -> Result<(), ApiError> {
        let url = self
            .api
            .endpoints()
            .graph_v1(&format!("users/{}/assignLicense", seg(user)));
        let body = json!({
            "addLicenses": add.iter().map(|(s, d)| json!({"skuId": s.to_string(), "disabledPlans": d})).collect::<Vec<_>>(),
            "removeLicenses": remove.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        });
        self.call_no_body(tenant, Request::post_json(url, &body).idempotent())
            .await
    }

    /// `POST /domains`.
    pub async fn add_domain(&self, tenant: &str, name: &str) -> Result<DomainState, ApiError> {
        let url = self.api.endpoints().graph_v1("domains");
        self.call(tenant, Request::post_json(url, &json!({ "id": name })), "domain")
            .await
    }

    /// `GET /domains/{name}`; `None` on 404.
    pub async fn get_domain(&self, tenant: &str, name: &str) -> Result<Option<DomainState>, ApiError> {
        let url = self.api.endpoints().graph_v1(&format!("domains/{}", seg(name)));
        match self.call(tenant, Request::get(url), "domain").await {
            Ok(d) => Ok(Some(d)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn records(&self, tenant: &str, name: &str, which: &str) -> Result<Vec<DnsRecord>, ApiError> {
        let url = self.api.endpoints().graph_v1(&format!("domains/{}/{which}", seg(name)));
        let c: Collection<DnsRecord> = self.call(tenant, Request::get(url), "DNS records").await?;
        Ok(c.value)
    }

    /// `GET /domains/{name}/verificationDnsRecords`.
    pub async fn verification_records(&self, tenant: &str, name: &str) -> Result<Vec<DnsRecord>, ApiError> {
        self.records(tenant, name, "verificationDnsRecords").await
    }

    /// `GET /domains/{name}/serviceConfigurationRecords`.
    pub async fn service_records(&self, tenant: &str, name: &str) -> Result<Vec<DnsRecord>, ApiError> {
        self.records(tenant, name, "serviceConfigurationRecords").await
    }

    /// `POST /domains/{name}/verify`.
    pub async fn verify_domain(&self, tenant: &str, name: &str) -> Result<DomainState, ApiError> {
        let url = self.api.endpoints().graph_v1(&format!("domains/{}/verify", seg(name)));
        self.call(tenant, Request::post_json(url, &json!({})).idempotent(), "domain")
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_lines_are_bind_syntax() {
        let txt: DnsRecord = serde_json::from_value(json!({
            "@odata.type": "#microsoft.graph.domainDnsTxtRecord", "id": "x", "isOptional": false,
            "label": "contoso.com", "recordType": "Txt", "supportedService": "None", "ttl": 3600,
            "text": "MS=ms87654321"
        }))
        .unwrap();
        assert_eq!(txt.zone_line(), "contoso.com. 3600 IN TXT \"MS=ms87654321\"");
        let mx: DnsRecord = serde_json::from_value(json!({
            "label": "contoso.com", "recordType": "Mx", "ttl": 3600,
            "mailExchange": "contoso-com.mail.protection.outlook.com", "preference": 0
        }))
        .unwrap();
        assert_eq!(
            mx.zone_line(),
            "contoso.com. 3600 IN MX 0 contoso-com.mail.protection.outlook.com."
        );
    }

    /// A Graph on 127.0.0.1:0: `POST /users` answers the duplicate-UPN error Microsoft posted
    /// (microsoftgraph/microsoft-graph-docs#1508), `GET /users/bad@x` a user whose id is a
    /// number, any other `GET /users/{upn}` Graph's 404.
    async fn graph_mock() -> Graph {
        use axum::extract::Path;
        use axum::http::StatusCode;
        use axum::routing::{get, post};
        use axum::{Json, Router};
        use std::sync::Arc;
        use tenantctl_transport::cloud::Endpoints;
        use tenantctl_transport::http::Executor;
        use tenantctl_transport::token::{Credential, Secret, TokenProvider};
        let app = Router::new()
            .route(
                "/login/{tenant}/oauth2/v2.0/token",
                post(|| async { Json(json!({"token_type": "Bearer", "expires_in": 3600, "access_token": "at"})) }),
            )
            .route(
                "/graph/v1.0/users",
                post(|| async {
                    (
                        StatusCode::BAD_REQUEST,
                        Json(json!({"error": {
                            "code": "Request_BadRequest",
                            "message": "Another object with the same value for property userPrincipalName already exists.",
                            "innerError": {"request-id": "462649d3-a124-42bc-b046-815fb41aae76"},
                            "details": [{"target": "userPrincipalName", "code": "ObjectConflict"}]
                        }})),
                    )
                }),
            )
            .route(
                "/graph/v1.0/users/{upn}",
                get(|Path(upn): Path<String>| async move {
                    if upn == "bad@x" {
                        (StatusCode::OK, Json(json!({"id": 5, "userPrincipalName": "bad@x"})))
                    } else {
                        (
                            StatusCode::NOT_FOUND,
                            Json(json!({"error": {"code": "Request_ResourceNotFound",
                                "message": format!("Resource '{upn}' does not exist or one of its queried reference-property objects are not present.")}})),
                        )
                    }
                }),
            );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        let exec = Executor::new(Default::default());
        let cred = Credential::ClientSecret {
            client_id: "c".into(),
            secret: Secret::new("s"),
        };
        let tokens = TokenProvider::new(Endpoints::custom(&base).unwrap(), cred, exec.clone());
        Graph::new(tenantctl_transport::api::Api::new(exec, Arc::new(tokens)))
    }

    fn adele() -> NewUser {
        NewUser {
            user_principal_name: "AdeleV@contoso.com".into(),
            display_name: "Adele Vance".into(),
            given_name: None,
            surname: None,
            usage_location: None,
            password: "xWwvJ]6NMw+bWH-d".into(),
            force_change_password: true,
        }
    }

    #[tokio::test]
    async fn a_duplicate_upn_is_already_exists_and_not_an_unknown_outcome() {
        let g = graph_mock().await;
        let e = g.create_user("t", &adele()).await.unwrap_err();
        assert!(e.is_already_exists(), "{e}");
        assert!(!e.outcome_unknown());
        assert_eq!(e.request_id(), Some("462649d3-a124-42bc-b046-815fb41aae76"));
    }

    #[tokio::test]
    async fn a_missing_user_is_none_and_a_malformed_one_is_a_decode_error_not_a_transport_one() {
        let g = graph_mock().await;
        assert_eq!(g.find_user("t", "nobody@x").await.unwrap(), None);
        let e = g.find_user("t", "bad@x").await.unwrap_err();
        assert!(
            matches!(&e, ApiError::Decode { what, status: 200, .. } if what == "user"),
            "{e:?}"
        );
        assert!(!e.answer_lost() && !e.outcome_unknown());
        assert!(std::error::Error::source(&e).is_some(), "the serde error is the source");
    }

    #[test]
    fn new_user_body_has_graphs_required_properties() {
        let u = NewUser {
            user_principal_name: "AdeleV@contoso.com".into(),
            display_name: "Adele Vance".into(),
            given_name: Some("Adele".into()),
            surname: None,
            usage_location: Some("US".into()),
            password: "xWwvJ]6NMw+bWH-d".into(),
            force_change_password: true,
        };
        let b = u.body();
        for k in [
            "accountEnabled",
            "displayName",
            "mailNickname",
            "userPrincipalName",
            "passwordProfile",
        ] {
            assert!(b.get(k).is_some(), "{k}");
        }
        assert_eq!(b["mailNickname"], "AdeleV");
        assert!(b.get("surname").is_none());
    }
}
