//! Exchange admin API error answers (contract §1.6).
//!
//! Body, as captured from the service (2023, `Remove-Mailbox` of a missing object) [O]:
//! `{"error":{"code":"NotFound","message":"Error executing cmdlet","details":[{"code":"Client",
//! "target":"","message":"<id>|<exception type>|<text>"}],"innererror":{…,"internalexception":{…}},
//! "adminapi.warnings@odata.type":"#Collection(String)","@adminapi.warnings":[]}}`.
//! ExoHelper `Get-ExoException` splits `details[].message` on `|` into exactly three parts [C];
//! CIPP reads `error.details.message` first [C]. Statuses other than 404 `NotFound` are [I].

use crate::ids::hash;
use crate::odata::hash_str;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// PowerShell / Exchange exception type names used in `details[].message`.
pub mod exceptions {
    /// Exchange: the -Identity names no object (captured body, contract §1.6).
    pub const OBJECT_NOT_FOUND: &str = "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException";
    /// Exchange: the -Identity matches more than one object.
    pub const AMBIGUOUS: &str = "Microsoft.Exchange.Configuration.Tasks.ManagementObjectAmbiguousException";
    /// PowerShell: unknown parameter, missing mandatory parameter.
    pub const PARAMETER_BINDING: &str = "System.Management.Automation.ParameterBindingException";
    /// PowerShell: a value that cannot be converted to the parameter's type.
    pub const ARGUMENT_TRANSFORMATION: &str =
        "System.Management.Automation.ParameterBindingArgumentTransformationException";
    /// PowerShell: a value the parameter's validation refuses.
    pub const VALIDATION: &str = "System.Management.Automation.ParameterBindingValidationException";
    /// PowerShell: "The term '…' is not recognized…" (also what RBAC gives for a cmdlet the
    /// caller's roles do not include: the cmdlet is absent from the role-scoped session).
    pub const COMMAND_NOT_FOUND: &str = "System.Management.Automation.CommandNotFoundException";
    /// Exchange: a task-level argument error (bad filter, bad date range) [I].
    pub const TASK_ARGUMENT: &str = "Microsoft.Exchange.Configuration.Tasks.TaskArgumentException";
    /// No management role at all [I].
    pub const UNAUTHORIZED: &str = "System.UnauthorizedAccessException";
    /// The service's own OData exception (innererror.type in the capture).
    pub const ODATA_SERVICE: &str = "Microsoft.Exchange.Admin.OData.Core.ODataServiceException";
}

/// One Exchange error answer.
#[derive(Debug, Clone)]
pub struct ExoError {
    pub status: StatusCode,
    /// `error.code` ("NotFound", "BadRequest", "Forbidden"…).
    pub code: &'static str,
    pub exception: &'static str,
    pub text: String,
}

impl ExoError {
    pub fn new(status: StatusCode, code: &'static str, exception: &'static str, text: impl Into<String>) -> Self {
        ExoError {
            status,
            code,
            exception,
            text: text.into(),
        }
    }

    /// 404: the object named by -Identity does not exist (captured text, contract §1.6).
    pub fn not_found(identity: &str, server: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            exceptions::OBJECT_NOT_FOUND,
            format!("The operation couldn't be performed because object '{identity}' couldn't be found on '{server}'."),
        )
    }

    /// 400: the -Identity names several objects (Exchange's ambiguity text; status [I]).
    pub fn ambiguous(identity: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            exceptions::AMBIGUOUS,
            format!("The operation couldn't be performed because '{identity}' matches multiple entries."),
        )
    }

    /// 400: PowerShell's text for a parameter name no parameter matches.
    pub fn unknown_parameter(name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            exceptions::PARAMETER_BINDING,
            format!("A parameter cannot be found that matches parameter name '{name}'."),
        )
    }

    /// 400: PowerShell's text for missing mandatory parameters (non-interactive host).
    pub fn missing_mandatory(names: &[&str]) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            exceptions::PARAMETER_BINDING,
            format!(
                "Cannot process command because of one or more missing mandatory parameters: {}.",
                names.join(" ")
            ),
        )
    }

    /// 400: PowerShell's argument-transformation text for a value of the wrong type.
    pub fn bad_value(param: &str, value: &str, type_name: &str, why: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            exceptions::ARGUMENT_TRANSFORMATION,
            format!(
                "Cannot process argument transformation on parameter '{param}'. Cannot convert value \"{value}\" to type \"{type_name}\". Error: \"{why}\""
            ),
        )
    }

    /// 403: the cmdlet is unknown, or not in the caller's roles (graph2otel saw 403 for an
    /// "unauthorized (or unknown) cmdlet" [O]; PowerShell's CommandNotFoundException text).
    pub fn command_not_found(cmdlet: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            exceptions::COMMAND_NOT_FOUND,
            format!(
                "The term '{cmdlet}' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again."
            ),
        )
    }

    /// 400: a task argument the cmdlet refuses.
    pub fn task_argument(text: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", exceptions::TASK_ARGUMENT, text)
    }

    /// 400: a body that is not `{"CmdletInput":{"CmdletName":…,"Parameters":{…}}}` [I text].
    pub fn bad_body(text: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", exceptions::ODATA_SERVICE, text)
    }

    /// 400: a nextLink replayed with another body or after 30 minutes [O graph2otel].
    pub fn expired_page() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            exceptions::ODATA_SERVICE,
            "Expired or Invalid pagination request. Default Expiry time is 00:30:00",
        )
    }

    /// `<id>|<exception type>|<text>`; the id is stable per exception type [I].
    pub fn detail_message(&self) -> String {
        let id = hash(&[hash_str(self.exception), 0xE7]) & 0xFF_FFFF;
        format!("Ex{id:06X}|{}|{}", self.exception, self.text)
    }

    /// The JSON body (`{"error":{…}}`).
    pub fn body(&self) -> serde_json::Value {
        const INNER: &str = "Microsoft.Exchange.Management.PSDirectInvoke.DirectInvokeCmdletExecutionException";
        json!({
            "error": {
                "code": self.code,
                "message": "Error executing cmdlet",
                "details": [{"code": "Client", "target": "", "message": self.detail_message()}],
                "innererror": {
                    "message": "Error executing cmdlet",
                    "type": exceptions::ODATA_SERVICE,
                    "stacktrace": "",
                    "internalexception": {
                        "message": self.text,
                        "type": INNER,
                        "stacktrace": "",
                    }
                },
                "adminapi.warnings@odata.type": "#Collection(String)",
                "@adminapi.warnings": [],
            }
        })
    }
}

impl IntoResponse for ExoError {
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(self.body())).into_response();
        if let Ok(v) = HeaderValue::from_str(self.exception.rsplit('.').next().unwrap_or_default()) {
            // ExoHelper reads an `X-ExceptionType` header on failures [C ExoHelper].
            r.headers_mut().insert(HeaderName::from_static("x-exceptiontype"), v);
        }
        r
    }
}

/// The front door's 401 for a token it does not accept: empty body, `WWW-Authenticate` and
/// `x-ms-diagnostics` as captured on outlook.office365.com (contract §1.6) [O].
pub fn unauthorized(reason: &str) -> Response {
    let mut r = StatusCode::UNAUTHORIZED.into_response();
    let h = r.headers_mut();
    h.insert(
        http::header::WWW_AUTHENTICATE,
        HeaderValue::from_static(
            "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", trusted_issuers=\"00000001-0000-0000-c000-000000000000@*\", token_types=\"app_asserted_user_v1 service_asserted_app_v1\", authorization_uri=\"https://login.windows.net/common/oauth2/authorize\", error=\"invalid_token\"",
        ),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "2000003;reason=\"{reason}\";error_category=\"invalid_resource\""
    )) {
        h.insert(HeaderName::from_static("x-ms-diagnostics"), v);
    }
    r
}

/// An unmatched path under `/outlook`: 404 in Exchange's error shape [I].
pub fn unmatched(path: &str) -> Response {
    ExoError::new(
        StatusCode::NOT_FOUND,
        "NotFound",
        exceptions::ODATA_SERVICE,
        format!("The requested resource '{path}' does not exist."),
    )
    .into_response()
}

/// A method the path does not serve: 405 in Exchange's error shape [I].
pub fn method_not_allowed(method: &str) -> Response {
    ExoError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        exceptions::ODATA_SERVICE,
        format!("The HTTP method '{method}' is not supported by this resource."),
    )
    .into_response()
}
