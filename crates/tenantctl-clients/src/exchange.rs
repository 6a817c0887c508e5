//! Exchange Online's admin API, the REST endpoint the Exchange Online V3 module uses instead of
//! remote PowerShell: `POST {exchange}/adminapi/beta/{tenantId}/InvokeCommand` with
//! `{"CmdletInput":{"CmdletName":…,"Parameters":{…}}}`, and `…/$batch` for several cmdlets in
//! one round trip. Requests as CIPP's `New-ExoRequest`/`New-ExoBulkRequest` send them
//! (shared/reference/exchange-and-reports-contract.md §1): `X-AnchorMailbox` on the tenant's
//! system mailbox, `Prefer: odata.maxpagesize=1000`, the absolute `@odata.nextLink` re-POSTed
//! with the same body and headers, `@adminapi.warnings` surfaced.

use futures::Stream;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::HashSet;
use tenantctl_core::exchange::{parse_byte_quantified, parse_exo_time, strip_proxy_prefix, Mailbox, MailboxStatistics};
use tenantctl_transport::api::{Api, ApiError, Service};
use tenantctl_transport::cloud::Resource;
use tenantctl_transport::http::{redact_url, Request, Response};
use url::Url;

/// The routing hint CIPP sends for tenant-wide cmdlets: the organisation's system mailbox.
pub fn anchor(tenant: &str) -> String {
    format!("APP:SystemMailbox{{bb558c35-97f1-4cb9-8ff7-d53741dc928c}}@{tenant}")
}

/// The page size asked for (`Prefer: odata.maxpagesize`), as CIPP asks.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// Sub-requests per `$batch` (CIPP's own chunking; Exchange documents no limit).
pub const BATCH_SIZE: usize = 10;

/// One cmdlet to run: its name and parameters as `InvokeCommand` takes them.
#[derive(Clone, Debug, PartialEq)]
pub struct Cmdlet {
    pub name: String,
    pub parameters: Map<String, Value>,
    /// `Get-*` and other verbs that change nothing: safe to send twice (retried on 5xx and
    /// lost answers); a write is sent once.
    pub read_only: bool,
}

impl Cmdlet {
    pub fn new(name: &str, parameters: Map<String, Value>, read_only: bool) -> Cmdlet {
        Cmdlet {
            name: name.to_owned(),
            parameters,
            read_only,
        }
    }

    /// `{"CmdletInput":{"CmdletName":…,"Parameters":{…}}}`.
    pub fn body(&self) -> Value {
        json!({"CmdletInput": {"CmdletName": self.name, "Parameters": self.parameters}})
    }
}

/// One page of a cmdlet's output: rows as `T` (by default the PowerShell objects, properties
/// by name as Exchange sends them; the typed views decode straight into their wire types).
#[derive(Clone, Debug, PartialEq)]
pub struct ExoPage<T = Map<String, Value>> {
    pub rows: Vec<T>,
    /// `@adminapi.warnings` (e.g. "There are more results available than are currently
    /// displayed…" when `-ResultSize` cut the output).
    pub warnings: Vec<String>,
    pub next_link: Option<String>,
}

impl<T> Default for ExoPage<T> {
    fn default() -> Self {
        ExoPage {
            rows: vec![],
            warnings: vec![],
            next_link: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: DeserializeOwned"))]
struct WirePage<T> {
    #[serde(default = "none")]
    value: Option<Vec<T>>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
    #[serde(rename = "@adminapi.warnings", default)]
    warnings: Option<Vec<Value>>,
}

fn none<T>() -> Option<T> {
    None
}

impl<T> WirePage<T> {
    fn into_page(self) -> ExoPage<T> {
        ExoPage {
            rows: self.value.unwrap_or_default(),
            warnings: self
                .warnings
                .unwrap_or_default()
                .into_iter()
                .map(|w| match w {
                    Value::String(s) => s,
                    other => other.to_string(),
                })
                .collect(),
            next_link: self.next_link,
        }
    }
}

/// The Exchange admin API client.
#[derive(Clone)]
pub struct Exchange {
    pub api: Api,
}

/// The three parts of Exchange's `error.details[].message`: `<id>|<exception type>|<text>`
/// (contract §1.6; GreyCorbel/ExoHelper `Get-ExoException` splits it the same way).
pub fn exception_parts(message: &str) -> Option<(&str, &str, &str)> {
    let mut it = message.splitn(3, '|');
    match (it.next(), it.next(), it.next()) {
        (Some(id), Some(kind), Some(text)) if kind.contains('.') || kind.ends_with("Exception") => {
            Some((id, kind, text))
        }
        _ => None,
    }
}

/// An Exchange error as one line: the cmdlet's own text and the exception's short type
/// (`ManagementObjectNotFoundException: The operation couldn't be performed because…`).
pub fn describe(e: &ApiError) -> String {
    if let ApiError::Http {
        service: Service::Exchange,
        status,
        message,
        ..
    } = e
    {
        if let Some((_, kind, text)) = exception_parts(message) {
            let short = kind.rsplit('.').next().unwrap_or(kind);
            return format!("Exchange HTTP {status}: {short}: {text}");
        }
    }
    e.to_string()
}

/// Exchange's "There are more results available than are currently displayed…" warning. A
/// page cut by `Prefer: odata.maxpagesize` carries it too (graph2otel, contract §1.4); on a
/// page with a next link it only says the paging goes on, which the client follows, so it
/// is dropped there (a cut by `-ResultSize` comes without a next link and is kept).
fn is_paging_truncation(w: &str) -> bool {
    w.starts_with("There are more results available than are currently displayed")
}

fn protocol(message: String) -> ApiError {
    ApiError::Protocol {
        service: Service::Exchange,
        message,
    }
}

fn origin(u: &str) -> Option<(String, String, Option<u16>)> {
    let u = Url::parse(u).ok()?;
    Some((
        u.scheme().to_owned(),
        u.host_str()?.to_ascii_lowercase(),
        u.port_or_known_default(),
    ))
}

impl Exchange {
    pub fn new(api: Api) -> Exchange {
        Exchange { api }
    }

    /// `…/InvokeCommand` in `tenant`, with `?$select=` when some properties are wanted.
    pub fn invoke_url(&self, tenant: &str, select: Option<&str>) -> String {
        let base = self.api.endpoints().exchange_admin(tenant, "InvokeCommand");
        match select.filter(|s| !s.is_empty()) {
            Some(s) => format!(
                "{base}?$select={}",
                percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
            ),
            None => base,
        }
    }

    fn request(&self, tenant: &str, url: String, c: &Cmdlet) -> Request {
        let r = Request::post_json(url, &c.body())
            .header("content-type", "application/json; charset=utf-8")
            .header("prefer", &format!("odata.maxpagesize={MAX_PAGE_SIZE}"))
            .header("x-anchormailbox", &anchor(tenant));
        if c.read_only {
            r.idempotent()
        } else {
            r
        }
    }

    fn decode<T: DeserializeOwned>(r: &Response) -> Result<ExoPage<T>, ApiError> {
        if r.body.is_empty() {
            // Set-* cmdlets may answer with no rows at all.
            return Ok(ExoPage::default());
        }
        r.json::<WirePage<T>>()
            .map(WirePage::into_page)
            .map_err(|e| ApiError::decode(Service::Exchange, "InvokeCommand answer", r, e))
    }

    /// A next link is followed only on the Exchange host the run talks to: the bearer token
    /// never goes to another origin.
    fn check_next(&self, next: &str) -> Result<(), ApiError> {
        let mine = origin(&self.api.endpoints().exchange);
        if mine.is_some() && origin(next) == mine {
            Ok(())
        } else {
            Err(protocol(format!(
                "@odata.nextLink points to another host ({}); not followed with the token",
                redact_url(next)
            )))
        }
    }

    /// Runs `c` in `tenant`, one page per item, following `@odata.nextLink` by re-POSTing the
    /// same body and headers to it (what CIPP, Monkey365 and ExoHelper do). A link seen
    /// before, or on another host, ends the stream with [`ApiError::Protocol`].
    pub fn invoke<T: DeserializeOwned + Send + 'static>(
        &self,
        tenant: &str,
        c: &Cmdlet,
        select: Option<&str>,
    ) -> impl Stream<Item = Result<ExoPage<T>, ApiError>> + Send + 'static {
        let this = self.clone();
        let tenant = tenant.to_owned();
        let c = c.clone();
        let first = self.invoke_url(&tenant, select);
        async_stream::try_stream! {
            let mut seen: HashSet<String> = HashSet::from([first.clone()]);
            let mut url = Some(first);
            while let Some(u) = url.take() {
                let req = this.request(&tenant, u, &c);
                let r = this.api.send(&tenant, Resource::Exchange, req).await?;
                let mut page = Self::decode::<T>(&r)?;
                if let Some(next) = &page.next_link {
                    page.warnings.retain(|w| !is_paging_truncation(w));
                    this.check_next(next)?;
                    if !seen.insert(next.clone()) {
                        Err(protocol(format!("@odata.nextLink repeats a page already read ({})", redact_url(next))))?;
                    }
                    url = Some(next.clone());
                }
                yield page;
            }
        }
    }

    /// Runs `c` to the end: every row and every warning.
    pub async fn invoke_all<T: DeserializeOwned + Send + 'static>(
        &self,
        tenant: &str,
        c: &Cmdlet,
        select: Option<&str>,
    ) -> Result<ExoPage<T>, ApiError> {
        use futures::TryStreamExt;
        let mut all = ExoPage::default();
        let pages = self.invoke::<T>(tenant, c, select);
        futures::pin_mut!(pages);
        while let Some(p) = pages.try_next().await? {
            all.rows.extend(p.rows);
            all.warnings.extend(p.warnings);
        }
        Ok(all)
    }

    /// Runs up to [`BATCH_SIZE`] cmdlets in one `$batch` (contract §1.5: absolute sub-request
    /// urls, each with its own headers, `odata.continue-on-error` so one failure leaves the
    /// others). Answers come back in the order of `cmdlets`, matched by id; an item whose
    /// output has more pages is read to the end with [`Exchange::invoke`].
    pub async fn batch<T: DeserializeOwned>(
        &self,
        tenant: &str,
        cmdlets: &[Cmdlet],
    ) -> Result<Vec<Result<ExoPage<T>, ApiError>>, ApiError> {
        assert!(cmdlets.len() <= BATCH_SIZE, "at most {BATCH_SIZE} cmdlets per $batch");
        if cmdlets.is_empty() {
            return Ok(vec![]);
        }
        let url = self.api.endpoints().exchange_admin(tenant, "$batch");
        let invoke = format!("{}?", self.invoke_url(tenant, None));
        let prefer = format!("odata.maxpagesize={MAX_PAGE_SIZE};odata.continue-on-error");
        let read_only = cmdlets.iter().all(|c| c.read_only);
        let last = cmdlets.last().map(|c| c.name.clone()).unwrap_or_default();
        let build = |token: &str| {
            let requests: Vec<Value> = cmdlets
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    json!({
                        "id": (i + 1).to_string(),
                        "method": "POST",
                        "url": invoke,
                        "body": c.body(),
                        "headers": {
                            "Authorization": format!("Bearer {token}"),
                            "Prefer": prefer,
                            "parameter-based-routing": true,
                            "X-AnchorMailbox": anchor(tenant),
                            "X-CmdletName": c.name,
                            "Accept": "application/json; odata.metadata=minimal",
                            "Content-Type": "application/json; charset=utf-8",
                        }
                    })
                })
                .collect();
            let r = Request::post_json(url.clone(), &json!({ "requests": requests }))
                .header("content-type", "application/json; charset=utf-8")
                .header("prefer", &prefer)
                .header("parameter-based-routing", "True")
                .header("x-anchormailbox", &anchor(tenant))
                .header("x-cmdletname", &last)
                .header("accept", "application/json; odata.metadata=minimal")
                .bearer(token);
            if read_only {
                r.idempotent()
            } else {
                r
            }
        };
        let r = self.api.send_built(tenant, Resource::Exchange, build).await?;
        let answer: BatchAnswer = r
            .json()
            .map_err(|e| ApiError::decode(Service::Exchange, "$batch answer", &r, e))?;
        let mut out: Vec<Option<Result<ExoPage<T>, ApiError>>> = (0..cmdlets.len()).map(|_| None).collect();
        for item in answer.responses {
            let i = item
                .id
                .as_ref()
                .and_then(|id| match id {
                    Value::String(s) => s.parse::<usize>().ok(),
                    Value::Number(n) => n.as_u64().map(|n| n as usize),
                    _ => None,
                })
                .filter(|i| (1..=cmdlets.len()).contains(i))
                .ok_or_else(|| protocol(format!("$batch answer with an unknown id {:?}", item.id)))?;
            out[i - 1] = Some(self.batch_item::<T>(tenant, &cmdlets[i - 1], item).await);
        }
        out.into_iter()
            .enumerate()
            .map(|(i, o)| o.ok_or_else(|| protocol(format!("$batch answer lacks sub-request {}", i + 1))))
            .collect()
    }

    async fn batch_item<T: DeserializeOwned>(
        &self,
        tenant: &str,
        c: &Cmdlet,
        item: BatchItem,
    ) -> Result<ExoPage<T>, ApiError> {
        // The item's body as it came (no re-serialisation): decoded once, into `T`.
        let bytes = item.body.map(|b| b.get().as_bytes().to_vec()).unwrap_or_default();
        let resp = Response {
            status: http::StatusCode::from_u16(item.status).unwrap_or(http::StatusCode::BAD_GATEWAY),
            headers: Default::default(),
            body: bytes.into(),
            retries: 0,
            retries_exhausted: false,
        };
        if !resp.status.is_success() {
            return Err(ApiError::from_response(Service::Exchange, &resp));
        }
        let mut page = Self::decode::<T>(&resp)?;
        if let Some(next) = page.next_link.take() {
            page.warnings.retain(|w| !is_paging_truncation(w));
            self.check_next(&next)?;
            // The rest of this item: re-POST the same cmdlet to its next link.
            let mut seen = HashSet::from([next.clone()]);
            let mut url = Some(next);
            while let Some(u) = url.take() {
                let r = self
                    .api
                    .send(tenant, Resource::Exchange, self.request(tenant, u, c))
                    .await?;
                let mut p = Self::decode::<T>(&r)?;
                if p.next_link.is_some() {
                    p.warnings.retain(|w| !is_paging_truncation(w));
                }
                page.rows.extend(p.rows);
                page.warnings.extend(p.warnings);
                if let Some(n) = p.next_link {
                    self.check_next(&n)?;
                    if !seen.insert(n.clone()) {
                        return Err(protocol(format!(
                            "@odata.nextLink repeats a page already read ({})",
                            redact_url(&n)
                        )));
                    }
                    url = Some(n);
                }
            }
        }
        Ok(page)
    }

    /// Every mailbox of the tenant (`Get-Mailbox -ResultSize Unlimited`, the properties the
    /// mailbox views use).
    pub async fn mailboxes(&self, tenant: &str) -> Result<(Vec<Mailbox>, Vec<String>), ApiError> {
        let mut p = Map::new();
        p.insert("ResultSize".into(), Value::from("Unlimited"));
        let c = Cmdlet::new("Get-Mailbox", p, true);
        let page = self.invoke_all::<WireMailbox>(tenant, &c, Some(MAILBOX_SELECT)).await?;
        Ok((page.rows.iter().map(mailbox_of).collect(), page.warnings))
    }

    /// Statistics of each mailbox named (UPN or other identity), [`BATCH_SIZE`] per `$batch`,
    /// in order; a mailbox whose statistics fail has its own error.
    pub async fn mailbox_statistics(
        &self,
        tenant: &str,
        identities: &[String],
    ) -> Result<Vec<Result<MailboxStatistics, ApiError>>, ApiError> {
        let mut out = Vec::with_capacity(identities.len());
        for chunk in identities.chunks(BATCH_SIZE) {
            let cmdlets: Vec<Cmdlet> = chunk.iter().map(|id| statistics_cmdlet(id)).collect();
            for r in self.batch::<WireStatistics>(tenant, &cmdlets).await? {
                out.push(r.and_then(|p| {
                    p.rows
                        .first()
                        .map(statistics_of)
                        .ok_or_else(|| protocol("Get-MailboxStatistics answered without a row".to_owned()))
                }));
            }
        }
        Ok(out)
    }
}

/// `Get-MailboxStatistics -Identity <id>`.
pub fn statistics_cmdlet(identity: &str) -> Cmdlet {
    let mut p = Map::new();
    p.insert("Identity".into(), Value::from(identity));
    Cmdlet::new("Get-MailboxStatistics", p, true)
}

#[derive(Deserialize)]
struct BatchAnswer {
    #[serde(default)]
    responses: Vec<BatchItem>,
}

#[derive(Deserialize)]
struct BatchItem {
    id: Option<Value>,
    status: u16,
    #[serde(default)]
    body: Option<Box<serde_json::value::RawValue>>,
}

/// The `Get-Mailbox` properties [`Exchange::mailboxes`] asks for (`$select`).
pub const MAILBOX_SELECT: &str = "UserPrincipalName,DisplayName,PrimarySmtpAddress,RecipientTypeDetails,\
ExternalDirectoryObjectId,ExchangeGuid,ArchiveGuid,ArchiveStatus,LitigationHoldEnabled,\
HiddenFromAddressListsEnabled,ForwardingSmtpAddress,ForwardingAddress,DeliverToMailboxAndForward,WhenMailboxCreated";

/// A scalar as Exchange sends it: JSON booleans, numbers and strings (`"True"`, sizes as
/// `ByteQuantifiedSize` text) are all met.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    Bool(bool),
    Int(u64),
    Float(f64),
    Text(String),
    /// An array or object where a scalar was expected: kept as nothing.
    Other,
}

impl<'de> Deserialize<'de> for Scalar {
    /// By the JSON token met (no buffering and retrying as `#[serde(untagged)]` would do for
    /// each of 100,000 mailboxes).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a boolean, number or string")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar::Int(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
                Ok(u64::try_from(v).map_or(Scalar::Float(v as f64), Scalar::Int))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::Text(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar::Text(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Scalar, A::Error> {
                while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Scalar, A::Error> {
                while a
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Scalar::Other)
            }
        }
        d.deserialize_any(V)
    }
}

impl Scalar {
    fn text(&self) -> Option<String> {
        match self {
            Scalar::Text(s) if !s.is_empty() => Some(s.clone()),
            Scalar::Int(n) => Some(n.to_string()),
            _ => None,
        }
    }
    fn flag(&self) -> bool {
        match self {
            Scalar::Bool(b) => *b,
            Scalar::Text(s) => s.eq_ignore_ascii_case("true"),
            _ => false,
        }
    }
    fn count(&self) -> Option<u64> {
        match self {
            Scalar::Int(n) => Some(*n),
            Scalar::Text(s) => parse_byte_quantified(s),
            _ => None,
        }
    }
    fn time(&self) -> Option<time::OffsetDateTime> {
        self.text().and_then(|s| parse_exo_time(&s))
    }
}

fn text(v: &Option<Scalar>) -> Option<String> {
    v.as_ref().and_then(Scalar::text)
}
fn flag(v: &Option<Scalar>) -> bool {
    v.as_ref().is_some_and(Scalar::flag)
}
fn count(v: &Option<Scalar>) -> Option<u64> {
    v.as_ref().and_then(Scalar::count)
}
fn when(v: &Option<Scalar>) -> Option<time::OffsetDateTime> {
    v.as_ref().and_then(Scalar::time)
}

/// The `Get-Mailbox` properties the views read (Exchange's PascalCase names; others skipped).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WireMailbox {
    pub user_principal_name: Option<Scalar>,
    pub display_name: Option<Scalar>,
    pub primary_smtp_address: Option<Scalar>,
    pub recipient_type_details: Option<Scalar>,
    pub external_directory_object_id: Option<Scalar>,
    pub exchange_guid: Option<Scalar>,
    pub archive_guid: Option<Scalar>,
    pub archive_status: Option<Scalar>,
    pub litigation_hold_enabled: Option<Scalar>,
    pub hidden_from_address_lists_enabled: Option<Scalar>,
    pub forwarding_smtp_address: Option<Scalar>,
    pub forwarding_address: Option<Scalar>,
    pub deliver_to_mailbox_and_forward: Option<Scalar>,
    pub when_mailbox_created: Option<Scalar>,
    pub when_created: Option<Scalar>,
}

/// The `Get-MailboxStatistics` properties the views read.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WireStatistics {
    pub total_item_size: Option<Scalar>,
    pub item_count: Option<Scalar>,
    pub deleted_item_count: Option<Scalar>,
    pub total_deleted_item_size: Option<Scalar>,
    pub last_logon_time: Option<Scalar>,
    pub last_user_action_time: Option<Scalar>,
    pub last_interaction_time: Option<Scalar>,
}

const NO_GUID: &str = "00000000-0000-0000-0000-000000000000";

/// A `Get-Mailbox` row as the core model.
pub fn mailbox_of(m: &WireMailbox) -> Mailbox {
    let archive_guid = text(&m.archive_guid).filter(|g| g != NO_GUID);
    let archive_status = text(&m.archive_status);
    Mailbox {
        user_principal_name: text(&m.user_principal_name).unwrap_or_default(),
        display_name: text(&m.display_name).unwrap_or_default(),
        primary_smtp_address: text(&m.primary_smtp_address).unwrap_or_default(),
        recipient_type_details: text(&m.recipient_type_details).unwrap_or_default(),
        external_directory_object_id: text(&m.external_directory_object_id),
        exchange_guid: text(&m.exchange_guid),
        archive: archive_status.is_some_and(|s| s.eq_ignore_ascii_case("Active")) || archive_guid.is_some(),
        litigation_hold: flag(&m.litigation_hold_enabled),
        hidden_from_address_lists: flag(&m.hidden_from_address_lists_enabled),
        forwarding_smtp_address: text(&m.forwarding_smtp_address).map(|s| strip_proxy_prefix(&s).to_owned()),
        forwarding_address: text(&m.forwarding_address),
        deliver_to_mailbox_and_forward: flag(&m.deliver_to_mailbox_and_forward),
        created: when(&m.when_mailbox_created).or_else(|| when(&m.when_created)),
    }
}

/// A `Get-MailboxStatistics` row as the core model (sizes from their byte counts).
pub fn statistics_of(m: &WireStatistics) -> MailboxStatistics {
    MailboxStatistics {
        total_item_size: count(&m.total_item_size),
        item_count: count(&m.item_count),
        deleted_item_count: count(&m.deleted_item_count),
        total_deleted_item_size: count(&m.total_deleted_item_size),
        last_logon_time: when(&m.last_logon_time),
        last_user_action_time: when(&m.last_user_action_time),
        last_interaction_time: when(&m.last_interaction_time),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj<T: DeserializeOwned>(v: Value) -> T {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn exchange_error_details_split_into_id_type_and_text() {
        let m = "Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'x@contoso.onmicrosoft.com' couldn't be found on 'YQBPR01A12DC007.CANPR01A012.PROD.OUTLOOK.COM'.";
        let (id, kind, text) = exception_parts(m).unwrap();
        assert_eq!(id, "Ex6F9304");
        assert!(kind.ends_with("ManagementObjectNotFoundException"));
        assert!(text.starts_with("The operation couldn't be performed"));
        let e = ApiError::http(Service::Exchange, 404, "NotFound", m);
        assert!(describe(&e).starts_with("Exchange HTTP 404: ManagementObjectNotFoundException: The operation"));
        assert_eq!(exception_parts("just text"), None);
    }

    /// Property names and value forms of contract §1.4/§1.7 (graph2otel's live captures).
    #[test]
    fn mailbox_rows_map_to_the_model() {
        let m = mailbox_of(&obj::<WireMailbox>(json!({
            "UserPrincipalName": "adele@contoso.com",
            "DisplayName": "Adele Vance",
            "PrimarySmtpAddress": "adele@contoso.com",
            "RecipientTypeDetails": "UserMailbox",
            "ExternalDirectoryObjectId": "87d349ed-44d7-43e1-9a83-5f2406dee5bd",
            "ArchiveGuid": "00000000-0000-0000-0000-000000000000",
            "ArchiveStatus": "None",
            "LitigationHoldEnabled": true,
            "HiddenFromAddressListsEnabled": "False",
            "ForwardingSmtpAddress": "smtp:boss@fabrikam.com",
            "ForwardingAddress": null,
            "DeliverToMailboxAndForward": false,
            "WhenMailboxCreated": "2024-01-02T03:04:05Z"
        })));
        assert_eq!(m.recipient_type_details, "UserMailbox");
        assert!(!m.archive && m.litigation_hold && !m.hidden_from_address_lists);
        assert_eq!(m.forwarding_smtp_address.as_deref(), Some("boss@fabrikam.com"));
        assert_eq!(m.forwarding_address, None);
        assert!(m.created.is_some());
        let archived = mailbox_of(&obj::<WireMailbox>(
            json!({"ArchiveGuid": "6f1ba9f1-0000-4c1e-8f0e-6d1f3a2b4c5d", "ArchiveStatus": "Active"}),
        ));
        assert!(archived.archive);
    }

    #[test]
    fn statistics_sizes_come_from_the_byte_counts() {
        let s = statistics_of(&obj::<WireStatistics>(json!({
            "TotalItemSize": "984.7 MB (1,032,552,448 bytes)",
            "TotalDeletedItemSize": "0 B (0 bytes)",
            "ItemCount": 5120,
            "LastUserActionTime": "2026-10-01T08:00:00Z",
            "LastInteractionTime": null,
            "LastLogonTime": "/Date(1764028800000)/"
        })));
        assert_eq!(s.total_item_size, Some(1_032_552_448));
        assert_eq!(s.total_deleted_item_size, Some(0));
        assert_eq!(s.item_count, Some(5120));
        assert!(s.last_user_action_time.is_some() && s.last_interaction_time.is_none());
        assert!(s.last_logon_time.is_some());
    }

    #[test]
    fn cmdlet_bodies_are_cmdlet_input() {
        let mut p = Map::new();
        p.insert("ResultSize".into(), json!("Unlimited"));
        p.insert("RecipientTypeDetails".into(), json!(["UserMailbox", "SharedMailbox"]));
        let c = Cmdlet::new("Get-Mailbox", p, true);
        assert_eq!(
            c.body(),
            json!({"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":{"ResultSize":"Unlimited","RecipientTypeDetails":["UserMailbox","SharedMailbox"]}}})
        );
        assert_eq!(
            anchor("52eaad04-13a2-4a2f-9ce8-93a294fadf36"),
            "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@52eaad04-13a2-4a2f-9ce8-93a294fadf36"
        );
    }
}
