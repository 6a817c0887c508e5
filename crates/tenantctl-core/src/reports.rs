//! Microsoft 365 usage reports (Graph `GET /reports/{function}(period='D30')`): the catalogue
//! tenantctl knows, their parameters, what each replaces of the retired per-customer
//! reporting web service, how a CSV value becomes a typed value, and how concealed user names
//! are recognised. Pure: the download and its parsing into records live in the clients
//! (records come from [`CsvPush`], a push parser fed with the download's chunks).
//!
//! Sources: learn.microsoft.com/graph/api/resources/report (the list of report functions) and
//! each `reportroot-get…` page (parameters, columns), learn.microsoft.com/graph/api/adminreportsettings-get
//! (concealed names). Columns are always mapped **by name**: Microsoft adds columns over time,
//! and a tenant's CSV may carry columns another tenant's lacks.

use serde_json::Value;
use std::fmt;

/// What a report function takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Params {
    /// `(period='D7|D30|D90|D180')` or `(date=YYYY-MM-DD)` (a day within the last 30).
    PeriodOrDate,
    /// `(period='…')` only.
    Period,
    /// No parameter at all (`getOffice365ActivationsUserDetail`).
    None,
}

/// One usage report function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReportSpec {
    /// The Graph function name (`getMailboxUsageDetail`).
    pub name: &'static str,
    pub params: Params,
    /// One line of meaning.
    pub meaning: &'static str,
    /// The retired reporting web service report(s) it replaces (empty: none).
    pub replaces: &'static str,
}

macro_rules! report {
    ($name:literal, $params:ident, $meaning:literal, $replaces:literal) => {
        ReportSpec {
            name: $name,
            params: Params::$params,
            meaning: $meaning,
            replaces: $replaces,
        }
    };
}

/// The usage reports tenantctl knows by name. Any other `get…` function is still accepted
/// (Graph decides), with a period.
pub const CATALOG: &[ReportSpec] = &[
    report!(
        "getOffice365ActiveUserDetail",
        PeriodOrDate,
        "per user: licences per service and the last activity date in each (Exchange, OneDrive, SharePoint, Teams…)",
        "UserActivity, StaleUser"
    ),
    report!(
        "getOffice365ActiveUserCounts",
        Period,
        "per day: how many users were active in each service",
        "ConnectionbyClientType (tenant-wide activity)"
    ),
    report!(
        "getOffice365ActivationsUserDetail",
        None,
        "per user: Microsoft 365 Apps activations by platform",
        "LicenseVsUsageSummary (activations)"
    ),
    report!(
        "getEmailActivityUserDetail",
        PeriodOrDate,
        "per user: mail sent, received, read and meetings over the period",
        "MailboxActivity (per user)"
    ),
    report!(
        "getEmailActivityCounts",
        Period,
        "per day: mail sent, received and read in the tenant",
        "MailboxActivityDaily, MailTrafficSummary"
    ),
    report!(
        "getMailboxUsageDetail",
        Period,
        "per mailbox: size, item count, quotas, last activity, archive (the modern stale-mailbox report)",
        "StaleMailbox, StaleMailboxDetail, MailboxUsageDetail"
    ),
    report!(
        "getMailboxUsageMailboxCounts",
        Period,
        "per day: mailboxes in all and active",
        "MailboxActivityWeekly/Monthly (counts)"
    ),
    report!(
        "getMailboxUsageStorage",
        Period,
        "per day: storage used by all mailboxes",
        "MailboxUsage (storage)"
    ),
    report!(
        "getOneDriveUsageAccountDetail",
        PeriodOrDate,
        "per OneDrive: owner, files, active files, storage",
        ""
    ),
    report!(
        "getSharePointSiteUsageDetail",
        PeriodOrDate,
        "per SharePoint site: files, page views, storage, owner",
        ""
    ),
    report!(
        "getTeamsUserActivityUserDetail",
        PeriodOrDate,
        "per user: Teams chats, calls, meetings and their durations",
        ""
    ),
];

/// The catalogue entry of `name` (case-insensitive).
pub fn spec(name: &str) -> Option<&'static ReportSpec> {
    CATALOG.iter().find(|s| s.name.eq_ignore_ascii_case(name))
}

/// A reporting period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    D7,
    D30,
    D90,
    D180,
}

impl Period {
    pub const ALL: [Period; 4] = [Period::D7, Period::D30, Period::D90, Period::D180];

    pub fn as_str(self) -> &'static str {
        match self {
            Period::D7 => "D7",
            Period::D30 => "D30",
            Period::D90 => "D90",
            Period::D180 => "D180",
        }
    }

    pub fn days(self) -> u32 {
        match self {
            Period::D7 => 7,
            Period::D30 => 30,
            Period::D90 => 90,
            Period::D180 => 180,
        }
    }
}

impl std::str::FromStr for Period {
    type Err = ReportError;

    /// `D7`, `D30`, `D90`, `D180` (case-insensitive; `30` is read as `D30`).
    fn from_str(s: &str) -> Result<Period, ReportError> {
        let t = s.trim();
        let digits = t.strip_prefix(['D', 'd']).unwrap_or(t);
        Period::ALL
            .into_iter()
            .find(|p| p.days().to_string() == digits)
            .ok_or_else(|| ReportError::BadPeriod(s.to_owned()))
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a report is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    Period(Period),
    /// One day (`date=YYYY-MM-DD`).
    Date(time::Date),
    /// The report takes no parameter.
    None,
}

/// A problem with the report asked for (before any request).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("--period {0:?}: Graph's usage reports take D7, D30, D90 or D180")]
    BadPeriod(String),
    #[error("--date {0:?}: give a day as YYYY-MM-DD (within the last 30 days)")]
    BadDate(String),
    #[error("report {0:?}: a report function's name is one word such as getMailboxUsageDetail (see `tenantctl reports list`)")]
    BadName(String),
    #[error("{name} takes a period only, not --date")]
    PeriodOnly { name: &'static str },
    #[error("{name} takes no period or date: drop --period/--date")]
    NoParameter { name: &'static str },
    #[error("give either --period or --date, not both")]
    PeriodAndDate,
}

/// A report call: the function and its window, checked against the catalogue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportCall {
    /// The function's name as Graph spells it (the catalogue's spelling when known).
    pub name: String,
    pub window: Window,
}

impl ReportCall {
    /// Checks `name` and the window flags. Unknown `get…` names pass (Graph has more reports
    /// than the catalogue, and decides); a report that takes no parameter ignores the default
    /// period but refuses one given explicitly (`explicit_period`).
    pub fn new(
        name: &str,
        period: Option<Period>,
        date: Option<&str>,
        explicit_period: bool,
    ) -> Result<ReportCall, ReportError> {
        let valid_name = !name.is_empty()
            && name.len() <= 100
            && name.starts_with("get")
            && name.bytes().all(|b| b.is_ascii_alphanumeric());
        if !valid_name {
            return Err(ReportError::BadName(name.to_owned()));
        }
        let date = match date {
            Some(d) => Some(crate::rows::parse_day(d.trim()).ok_or_else(|| ReportError::BadDate(d.to_owned()))?),
            None => None,
        };
        if date.is_some() && explicit_period {
            return Err(ReportError::PeriodAndDate);
        }
        let known = spec(name);
        let canonical = known.map_or(name, |s| s.name).to_owned();
        let params = known.map_or(Params::PeriodOrDate, |s| s.params);
        let window = match (params, date) {
            (Params::None, Some(_)) => {
                return Err(ReportError::NoParameter {
                    name: known.unwrap().name,
                })
            }
            (Params::None, None) if explicit_period => {
                return Err(ReportError::NoParameter {
                    name: known.unwrap().name,
                })
            }
            (Params::None, None) => Window::None,
            (Params::Period, Some(_)) => {
                return Err(ReportError::PeriodOnly {
                    name: known.unwrap().name,
                })
            }
            (_, Some(d)) => Window::Date(d),
            (_, None) => Window::Period(period.unwrap_or(Period::D30)),
        };
        Ok(ReportCall {
            name: canonical,
            window,
        })
    }

    /// The path segment after `/reports/`: `getMailboxUsageDetail(period='D30')`,
    /// `getEmailActivityUserDetail(date=2026-11-30)`, `getOffice365ActivationsUserDetail`.
    pub fn path(&self) -> String {
        match self.window {
            Window::Period(p) => format!("{}(period='{}')", self.name, p),
            Window::Date(d) => format!("{}(date={})", self.name, crate::rows::format_day(d)),
            Window::None => self.name.clone(),
        }
    }
}

/// Columns that name a person or a site: hidden when the tenant conceals names, and always
/// text (a name can look like a number).
pub const IDENTIFYING_COLUMNS: &[&str] = &[
    "User Principal Name",
    "Display Name",
    "Owner Display Name",
    "Owner Principal Name",
    "Site URL",
];

/// Columns that are text whatever their values look like.
const TEXT_COLUMNS: &[&str] = &[
    "User Id",
    "Site Id",
    "Tenant Display Name",
    "Shared Channel Tenant Display Names",
    "Product Type",
    "Root Web Template",
    "Recipient Type",
];

/// Columns whose values are several products joined with `+`.
const LIST_COLUMNS: &[&str] = &["Assigned Products"];

/// A CSV value as a typed JSON value, by the column's name and the value's form: empty → null;
/// `True`/`False` (and `Yes`/`No` in `Is …`/`Has …` columns) → booleans; whole numbers →
/// numbers; `YYYY-MM-DD` stays a day string (a `Date` column in every output);
/// `Assigned Products` → a list; identifying and id columns stay text. Anything else is text,
/// so a value of a new form is never lost.
pub fn typed_value(column: &str, text: &str) -> Value {
    if text.is_empty() {
        return Value::Null;
    }
    let is = |set: &[&str]| set.iter().any(|c| c.eq_ignore_ascii_case(column));
    if is(IDENTIFYING_COLUMNS) || is(TEXT_COLUMNS) {
        return Value::from(text);
    }
    if is(LIST_COLUMNS) {
        return Value::from(
            text.split('+')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>(),
        );
    }
    match text {
        "True" | "true" | "TRUE" => return Value::Bool(true),
        "False" | "false" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let flag_column = column.starts_with("Is ") || column.starts_with("Has ");
    if flag_column {
        match text {
            "Yes" => return Value::Bool(true),
            "No" => return Value::Bool(false),
            _ => {}
        }
    }
    let digits = text.strip_prefix('-').unwrap_or(text);
    if !digits.is_empty() && digits.len() <= 18 && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(n) = text.parse::<i64>() {
            return Value::from(n);
        }
    }
    Value::from(text)
}

/// Whether `value` has the form Graph gives a concealed name: 32 upper-case hexadecimal
/// digits (e.g. `FE7CC8C15246EDCCA289C9A4022762F7`).
pub fn looks_concealed(value: &str) -> bool {
    value.len() == 32 && value.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
}

/// A push CSV parser for a download read in chunks: feed it bytes as they arrive, take each
/// complete record at once. A UTF-8 byte order mark at the start is dropped (Graph's report
/// CSVs carry one); quoted fields may span chunks and lines (RFC 4180).
pub struct CsvPush {
    core: csv_core::Reader,
    /// Bytes of the record being read so far, and where its fields end.
    out: Vec<u8>,
    ends: Vec<usize>,
    out_len: usize,
    ends_len: usize,
    /// Bytes before the BOM check (fewer than 3 seen yet).
    start: Vec<u8>,
    started: bool,
    records: u64,
}

/// A record that is not UTF-8.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    #[error("record {record} of the CSV is not UTF-8 text")]
    NotUtf8 { record: u64 },
}

impl Default for CsvPush {
    fn default() -> Self {
        CsvPush::new()
    }
}

impl CsvPush {
    pub fn new() -> CsvPush {
        CsvPush {
            core: csv_core::ReaderBuilder::new().build(),
            out: vec![0; 4096],
            ends: vec![0; 64],
            out_len: 0,
            ends_len: 0,
            start: Vec::new(),
            started: false,
            records: 0,
        }
    }

    /// Records completed so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Feeds `chunk`; calls `each` with every record it completes.
    pub fn push(&mut self, chunk: &[u8], each: &mut dyn FnMut(Vec<String>)) -> Result<(), CsvError> {
        if !self.started {
            self.start.extend_from_slice(chunk);
            if self.start.len() < 3 && b"\xEF\xBB\xBF".starts_with(&self.start) {
                return Ok(()); // could still be a BOM
            }
            self.started = true;
            let start = std::mem::take(&mut self.start);
            let body = start.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&start);
            return self.feed(body, each);
        }
        self.feed(chunk, each)
    }

    /// The end of the input: the last record, if it had no line ending.
    pub fn finish(&mut self, each: &mut dyn FnMut(Vec<String>)) -> Result<(), CsvError> {
        if !self.started {
            self.started = true;
            let start = std::mem::take(&mut self.start);
            if start != b"\xEF\xBB\xBF"[..start.len()] {
                self.feed(&start, each)?;
            }
        }
        self.feed(&[], each)
    }

    fn feed(&mut self, mut input: &[u8], each: &mut dyn FnMut(Vec<String>)) -> Result<(), CsvError> {
        use csv_core::ReadRecordResult as R;
        loop {
            let (res, nin, nout, nend) =
                self.core
                    .read_record(input, &mut self.out[self.out_len..], &mut self.ends[self.ends_len..]);
            input = &input[nin..];
            self.out_len += nout;
            self.ends_len += nend;
            match res {
                R::InputEmpty => return Ok(()),
                R::OutputFull => {
                    let n = self.out.len() * 2;
                    self.out.resize(n, 0);
                }
                R::OutputEndsFull => {
                    let n = self.ends.len() * 2;
                    self.ends.resize(n, 0);
                }
                R::Record => {
                    self.records += 1;
                    let bytes = &self.out[..self.out_len];
                    let text = std::str::from_utf8(bytes).map_err(|_| CsvError::NotUtf8 { record: self.records })?;
                    let mut fields = Vec::with_capacity(self.ends_len);
                    let mut at = 0;
                    for &end in &self.ends[..self.ends_len] {
                        fields.push(text[at..end].to_owned());
                        at = end;
                    }
                    self.out_len = 0;
                    self.ends_len = 0;
                    each(fields);
                }
                R::End => return Ok(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse_in_chunks(bytes: &[u8], size: usize) -> Vec<Vec<String>> {
        let mut p = CsvPush::new();
        let mut out = vec![];
        for c in bytes.chunks(size.max(1)) {
            p.push(c, &mut |r| out.push(r)).unwrap();
        }
        p.finish(&mut |r| out.push(r)).unwrap();
        out
    }

    #[test]
    fn records_are_the_same_whatever_the_chunks() {
        let csv = "\u{feff}Report Refresh Date,User Principal Name,Display Name\r\n2026-11-30,a@x.com,\"Smith, Ann\"\r\n2026-11-30,b@x.com,\"Line\nbreak \"\"quoted\"\"\"\r\n2026-11-30,c@x.com,Zoë";
        let whole = parse_in_chunks(csv.as_bytes(), csv.len());
        assert_eq!(whole.len(), 4);
        assert_eq!(whole[0][0], "Report Refresh Date", "the BOM is dropped");
        assert_eq!(whole[1][2], "Smith, Ann");
        assert_eq!(whole[2][2], "Line\nbreak \"quoted\"");
        assert_eq!(whole[3][2], "Zoë", "the last record without a line ending");
        for size in [1, 2, 3, 5, 7, 64] {
            assert_eq!(parse_in_chunks(csv.as_bytes(), size), whole, "chunks of {size}");
        }
    }

    #[test]
    fn an_empty_download_has_no_records_and_a_lone_bom_none_either() {
        assert!(parse_in_chunks(b"", 4).is_empty());
        assert!(parse_in_chunks(b"\xEF\xBB\xBF", 1).is_empty());
        assert!(parse_in_chunks(b"\xEF\xBB", 1).is_empty(), "a cut BOM is no record");
    }

    #[test]
    fn bytes_that_are_not_utf8_are_an_error_naming_the_record() {
        let mut p = CsvPush::new();
        let e = p.push(b"a,b\n\xff,c\n", &mut |_| {}).unwrap_err();
        assert_eq!(e, CsvError::NotUtf8 { record: 2 });
    }

    #[test]
    fn values_are_typed_by_column_and_form() {
        assert_eq!(typed_value("Item Count", "42"), json!(42));
        assert_eq!(typed_value("Storage Used (Byte)", "1032552448"), json!(1_032_552_448));
        assert_eq!(typed_value("Is Deleted", "False"), json!(false));
        assert_eq!(typed_value("Has Other Action", "No"), json!(false));
        assert_eq!(typed_value("Last Activity Date", ""), Value::Null);
        assert_eq!(typed_value("Last Activity Date", "2026-11-28"), json!("2026-11-28"));
        assert_eq!(typed_value("Report Period", "30"), json!(30));
        assert_eq!(
            typed_value("Assigned Products", "MICROSOFT 365 BUSINESS STANDARD+MICROSOFT TEAMS"),
            json!(["MICROSOFT 365 BUSINESS STANDARD", "MICROSOFT TEAMS"])
        );
        assert_eq!(typed_value("Display Name", "2024"), json!("2024"), "a name stays text");
        assert_eq!(typed_value("Audio Duration", "PT0S"), json!("PT0S"));
        assert_eq!(typed_value("A Column Microsoft Adds Later", "7"), json!(7));
        assert_eq!(
            typed_value("Yes Column", "Yes"),
            json!("Yes"),
            "Yes is a flag only in Is/Has columns"
        );
    }

    #[test]
    fn concealed_names_are_32_upper_hex_digits() {
        assert!(looks_concealed("FE7CC8C15246EDCCA289C9A4022762F7"));
        assert!(!looks_concealed("fe7cc8c15246edcca289c9a4022762f7"));
        assert!(!looks_concealed("adele@contoso.com"));
    }

    #[test]
    fn calls_are_checked_against_the_catalogue() {
        let c = ReportCall::new("getmailboxusagedetail", Some(Period::D7), None, true).unwrap();
        assert_eq!(
            c.path(),
            "getMailboxUsageDetail(period='D7')",
            "the catalogue's spelling"
        );
        let c = ReportCall::new("getEmailActivityUserDetail", None, Some("2026-11-30"), false).unwrap();
        assert_eq!(c.path(), "getEmailActivityUserDetail(date=2026-11-30)");
        let c = ReportCall::new("getOffice365ActivationsUserDetail", Some(Period::D30), None, false).unwrap();
        assert_eq!(
            c.path(),
            "getOffice365ActivationsUserDetail",
            "the default period is not sent"
        );
        assert!(matches!(
            ReportCall::new("getOffice365ActivationsUserDetail", Some(Period::D7), None, true),
            Err(ReportError::NoParameter { .. })
        ));
        assert!(matches!(
            ReportCall::new("getMailboxUsageDetail", None, Some("2026-11-30"), false),
            Err(ReportError::PeriodOnly { .. })
        ));
        assert_eq!(
            ReportCall::new("getMailboxUsageDetail", Some(Period::D7), Some("2026-11-30"), true),
            Err(ReportError::PeriodAndDate)
        );
        assert!(matches!(
            ReportCall::new("getX(period='D7')", None, None, false),
            Err(ReportError::BadName(_))
        ));
        assert!(matches!(
            ReportCall::new("x", None, None, false),
            Err(ReportError::BadName(_))
        ));
        assert_eq!(
            ReportCall::new("getSomethingNew", None, None, false).unwrap().path(),
            "getSomethingNew(period='D30')"
        );
        assert!(matches!(
            ReportCall::new("getMailboxUsageDetail", None, Some("30/11/2026"), false),
            Err(ReportError::BadDate(_))
        ));
    }

    #[test]
    fn periods_read_as_microsoft_writes_them() {
        assert_eq!("D30".parse::<Period>(), Ok(Period::D30));
        assert_eq!("d7".parse::<Period>(), Ok(Period::D7));
        assert_eq!("180".parse::<Period>(), Ok(Period::D180));
        let e = "D14".parse::<Period>().unwrap_err();
        assert!(e.to_string().contains("D7, D30, D90 or D180"), "{e}");
    }
}
