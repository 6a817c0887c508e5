//! Microsoft Graph's reports in a customer tenant: the usage reports (CSV behind a redirect,
//! streamed), the report settings that conceal user names, and the security data partners ask
//! for (MFA registration, directory role assignments, sign-in activity, guests).
//!
//! - Usage reports: `GET /reports/{function}(period='D30')` answers `302 Found` with a
//!   pre-authenticated download URL in `Location`; the download needs no `Authorization`
//!   header and gets none (learn.microsoft.com/graph/api/reportroot-getmailboxusagedetail,
//!   "Preauthenticated download URLs are only valid for a short period of time … and do not
//!   require an Authorization header"). The CSV is parsed as it arrives ([`CsvPush`]), never
//!   held whole; a UTF-8 BOM is dropped.
//! - `GET/PATCH /admin/reportSettings` (`displayConcealedNames`; adminreportsettings-get/-update).
//! - `GET /reports/authenticationMethods/userRegistrationDetails` (authenticationmethodsroot-list-userregistrationdetails),
//!   `GET /roleManagement/directory/roleAssignments?$expand=principal` (rbacapplication-list-roleassignments),
//!   `GET /users?$select=…,signInActivity` (user-list; signinactivity), guests by `userType eq 'Guest'`.

use futures::{Stream, StreamExt, TryStreamExt};
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;
use tenantctl_core::reports::{CsvPush, ReportCall};
use tenantctl_transport::api::{graph_pages, Api, ApiError, Service};
use tenantctl_transport::cloud::Resource;
use tenantctl_transport::http::Request;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Graph's page size cap for `/users` when `signInActivity` is selected (user-list: "$top …
/// 120 when signInActivity is selected" [I until confirmed]; a smaller page is always accepted).
pub const SIGN_IN_PAGE: u32 = 120;

/// One data row of a usage report: its values, in the order of `header`.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportRow {
    /// The report's column names as the tenant's CSV gave them (shared by its rows).
    pub header: Arc<[String]>,
    pub values: Vec<String>,
}

impl ReportRow {
    /// The value of `column` (by name; columns are never mapped by position).
    pub fn get(&self, column: &str) -> Option<&str> {
        self.header
            .iter()
            .position(|h| h == column)
            .and_then(|i| self.values.get(i))
            .map(String::as_str)
    }
}

/// What a usage report download yields: its header first (also when it has no rows), then
/// its rows.
#[derive(Clone, Debug, PartialEq)]
pub enum ReportItem {
    Header(Arc<[String]>),
    Row(ReportRow),
}

#[derive(Clone)]
pub struct Reports {
    pub api: Api,
}

fn protocol(message: impl Into<String>) -> ApiError {
    ApiError::Protocol {
        service: Service::Graph,
        message: message.into(),
    }
}

impl Reports {
    pub fn new(api: Api) -> Reports {
        Reports { api }
    }

    /// The request of a usage report call (`/reports/getX(period='D30')`).
    pub fn report_request(&self, call: &ReportCall) -> Request {
        Request::get(self.api.endpoints().graph_v1(&format!("reports/{}", call.path())))
    }

    /// The report's rows as the download streams in (the header is in each row). A row with
    /// more values than the header has columns breaks the contract: an error.
    pub fn rows(
        &self,
        tenant: &str,
        call: &ReportCall,
    ) -> impl Stream<Item = Result<ReportItem, ApiError>> + Send + 'static {
        let api = self.api.clone();
        let req = self.report_request(call);
        let tenant = tenant.to_owned();
        let name = call.name.clone();
        async_stream::try_stream! {
            let url = api.redirect_location(&tenant, Resource::Graph, req).await?;
            let download = api.download(Service::Graph, &url).await?;
            let mut body = download.body;
            let mut parser = CsvPush::new();
            let mut header: Option<Arc<[String]>> = None;
            let mut done = false;
            while !done {
                let mut records = Vec::new();
                match body.next().await {
                    Some(chunk) => {
                        let chunk = chunk.map_err(ApiError::from)?;
                        parser
                            .push(&chunk, &mut |r| records.push(r))
                            .map_err(|e| protocol(format!("{name}: {e}")))?;
                    }
                    None => {
                        parser
                            .finish(&mut |r| records.push(r))
                            .map_err(|e| protocol(format!("{name}: {e}")))?;
                        done = true;
                    }
                }
                for values in records {
                    let Some(h) = &header else {
                        let h: Arc<[String]> = values.into();
                        header = Some(h.clone());
                        yield ReportItem::Header(h);
                        continue;
                    };
                    if values.len() == 1 && values[0].is_empty() {
                        continue; // a blank line
                    }
                    if values.len() > h.len() {
                        Err(protocol(format!(
                            "{name}: a row has {} values for {} columns",
                            values.len(),
                            h.len()
                        )))?;
                    }
                    yield ReportItem::Row(ReportRow { header: h.clone(), values });
                }
            }
        }
    }

    /// `GET /admin/reportSettings`: whether reports conceal user names. Learn's example wraps
    /// the entity in `{"value":{…}}`; both shapes are read.
    pub async fn concealed_names(&self, tenant: &str) -> Result<bool, ApiError> {
        let v = self
            .api
            .get_json(
                tenant,
                Resource::Graph,
                Request::get(self.api.endpoints().graph_v1("admin/reportSettings")),
            )
            .await?;
        v.get("displayConcealedNames")
            .or_else(|| v.pointer("/value/displayConcealedNames"))
            .and_then(Value::as_bool)
            .ok_or_else(|| protocol("admin/reportSettings answered without displayConcealedNames"))
    }

    /// `PATCH /admin/reportSettings {"displayConcealedNames": …}` (204).
    pub async fn set_concealed_names(&self, tenant: &str, conceal: bool) -> Result<(), ApiError> {
        let req = Request::patch_json(
            self.api.endpoints().graph_v1("admin/reportSettings"),
            &serde_json::json!({ "displayConcealedNames": conceal }),
        );
        self.api.send(tenant, Resource::Graph, req).await.map(|_| ())
    }

    /// Every user's MFA/SSPR registration (`userRegistrationDetails`), page by page.
    pub fn registrations(&self, tenant: &str) -> impl Stream<Item = Result<Vec<Registration>, ApiError>> {
        let first = Request::get(
            self.api
                .endpoints()
                .graph_v1("reports/authenticationMethods/userRegistrationDetails"),
        );
        graph_pages::<Registration>(self.api.clone(), tenant.to_owned(), first).map_ok(|p| p.value)
    }

    /// Every directory role assignment with its principal expanded.
    pub async fn role_assignments(&self, tenant: &str) -> Result<Vec<RoleAssignment>, ApiError> {
        let first = Request::get(
            self.api
                .endpoints()
                .graph_v1("roleManagement/directory/roleAssignments?$expand=principal"),
        );
        collect(&self.api, tenant, first).await
    }

    /// The tenant's role definitions (names of the roles assignments refer to).
    pub async fn role_definitions(&self, tenant: &str) -> Result<Vec<RoleDefinition>, ApiError> {
        let first = Request::get(
            self.api
                .endpoints()
                .graph_v1("roleManagement/directory/roleDefinitions?$select=id,displayName,templateId"),
        );
        collect(&self.api, tenant, first).await
    }

    /// Users with their `signInActivity` (needs Entra ID P1 in the tenant), page by page.
    pub fn sign_ins(&self, tenant: &str) -> impl Stream<Item = Result<Vec<SignInUser>, ApiError>> {
        let first = Request::get(self.api.endpoints().graph_v1(&format!(
            "users?$select=id,userPrincipalName,displayName,accountEnabled,userType,createdDateTime,assignedLicenses,signInActivity&$top={SIGN_IN_PAGE}"
        )));
        graph_pages::<SignInUser>(self.api.clone(), tenant.to_owned(), first).map_ok(|p| p.value)
    }

    /// The tenant's guests (`userType eq 'Guest'`).
    pub async fn guests(&self, tenant: &str) -> Result<Vec<Guest>, ApiError> {
        let first = Request::get(self.api.endpoints().graph_v1(
            "users?$filter=userType%20eq%20%27Guest%27&$select=id,userPrincipalName,displayName,mail,accountEnabled,createdDateTime,creationType,externalUserState,externalUserStateChangeDateTime&$top=999",
        ));
        collect(&self.api, tenant, first).await
    }
}

/// A Graph date-time (`2014-01-01T00:00:00Z`); `None` when absent or unreadable.
pub fn date_time(s: &Option<String>) -> Option<OffsetDateTime> {
    s.as_deref().and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
}

async fn collect<T: serde::de::DeserializeOwned>(api: &Api, tenant: &str, first: Request) -> Result<Vec<T>, ApiError> {
    let mut out = vec![];
    let mut pages = std::pin::pin!(graph_pages::<T>(api.clone(), tenant.to_owned(), first));
    while let Some(p) = pages.try_next().await? {
        out.extend(p.value);
    }
    Ok(out)
}

/// `userRegistrationDetails` (authenticationmethods-userregistrationdetails resource).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    pub id: String,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub user_display_name: Option<String>,
    #[serde(default)]
    pub user_type: Option<String>,
    #[serde(default)]
    pub is_admin: bool,
    #[serde(default)]
    pub is_mfa_capable: bool,
    #[serde(default)]
    pub is_mfa_registered: bool,
    #[serde(default)]
    pub is_passwordless_capable: bool,
    #[serde(default)]
    pub is_sspr_registered: bool,
    #[serde(default)]
    pub methods_registered: Vec<String>,
    #[serde(default)]
    pub user_preferred_method_for_secondary_authentication: Option<String>,
    #[serde(default)]
    pub last_updated_date_time: Option<String>,
}

/// A principal as `$expand=principal` gives it (a user, group or service principal).
#[derive(Clone, Debug, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Principal {
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub app_id: Option<String>,
    #[serde(default)]
    pub account_enabled: Option<bool>,
}

impl Principal {
    /// `user`, `group`, `servicePrincipal` (from `#microsoft.graph.user`…).
    pub fn kind(&self) -> &str {
        self.odata_type
            .as_deref()
            .map(|t| t.trim_start_matches("#microsoft.graph."))
            .unwrap_or("unknown")
    }
}

/// `unifiedRoleAssignment`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignment {
    pub id: String,
    pub principal_id: String,
    pub role_definition_id: String,
    #[serde(default)]
    pub directory_scope_id: Option<String>,
    #[serde(default)]
    pub principal: Option<Principal>,
}

/// `unifiedRoleDefinition` (the properties selected).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RoleDefinition {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub template_id: Option<String>,
}

/// `signInActivity` (signinactivity resource).
#[derive(Clone, Debug, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct SignInActivity {
    #[serde(default)]
    pub last_sign_in_date_time: Option<String>,
    #[serde(default)]
    pub last_non_interactive_sign_in_date_time: Option<String>,
    #[serde(default)]
    pub last_successful_sign_in_date_time: Option<String>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LicenceRef {
    pub sku_id: String,
}

/// A user with its sign-in activity.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SignInUser {
    pub id: String,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub account_enabled: Option<bool>,
    #[serde(default)]
    pub user_type: Option<String>,
    #[serde(default)]
    pub created_date_time: Option<String>,
    #[serde(default)]
    pub assigned_licenses: Vec<LicenceRef>,
    #[serde(default)]
    pub sign_in_activity: Option<SignInActivity>,
}

/// A guest user.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Guest {
    pub id: String,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub account_enabled: Option<bool>,
    #[serde(default)]
    pub created_date_time: Option<String>,
    #[serde(default)]
    pub creation_type: Option<String>,
    #[serde(default)]
    pub external_user_state: Option<String>,
    #[serde(default)]
    pub external_user_state_change_date_time: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shapes_follow_the_documented_examples() {
        // rbacapplication-list-roleassignments, example with $expand=principal.
        let a: RoleAssignment = serde_json::from_value(serde_json::json!({
            "id": "lAPpYvVpN0KRkAEhdxReEJC2sEqbR_9Hr48lds9SGHI-1",
            "principalId": "4ab0b690-479b-47ff-af8f-2576cf521872",
            "directoryScopeId": "/",
            "roleDefinitionId": "62e90394-69f5-4237-9190-012177145e10",
            "principal": {"@odata.type": "#microsoft.graph.user", "id": "4ab0b690-479b-47ff-af8f-2576cf521872",
                          "displayName": "Adele Vance", "userPrincipalName": "AdeleV@contoso.com"}
        }))
        .unwrap();
        assert_eq!(a.principal.as_ref().unwrap().kind(), "user");
        // signinactivity: UTC ISO 8601, null when never.
        let u: SignInUser = serde_json::from_value(serde_json::json!({
            "id": "x", "userPrincipalName": "a@b.c",
            "signInActivity": {"lastSignInDateTime": "2014-01-01T00:00:00Z", "lastNonInteractiveSignInDateTime": null}
        }))
        .unwrap();
        let s = u.sign_in_activity.unwrap();
        assert_eq!(
            date_time(&s.last_sign_in_date_time).unwrap().unix_timestamp(),
            1_388_534_400
        );
        assert!(s.last_non_interactive_sign_in_date_time.is_none());
    }

    #[test]
    fn report_rows_are_read_by_column_name() {
        let header: Arc<[String]> = vec!["User Principal Name".to_owned(), "Item Count".to_owned()].into();
        let r = ReportRow {
            header,
            values: vec!["a@b.c".into(), "4".into()],
        };
        assert_eq!(r.get("Item Count"), Some("4"));
        assert_eq!(r.get("Storage Used (Byte)"), None);
    }
}
