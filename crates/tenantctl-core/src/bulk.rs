//! Bulk user input: the CSV formats `users import` accepts, and the checks every row passes
//! before anything is written. No I/O: bytes or text in, rows or errors (line and field named) out.
//!
//! The file may be in any encoding and with any delimiter [`crate::csvin`] recognises (UTF-8,
//! UTF-16/32 as PowerShell writes them, Windows-1252; `,` `;` or tab). Three headers are
//! accepted (case and spaces in names ignored, any column order):
//! - the classic `New-MsolUser` one: `UserPrincipalName,FirstName,LastName,DisplayName,Password,
//!   TenantId,UsageLocation,LicenseAssignment` (`LicenseAssignment` = `account:PART_NUMBER`,
//!   `PART_NUMBER` or a skuId);
//! - the modern one: `tenant,userPrincipalName,displayName,givenName,surname,usageLocation,
//!   licenses,password` (`licenses` = part numbers or skuIds separated by `;`).
//! - the Microsoft 365 admin center's "Add multiple users" template ([`ADMIN_CENTER_TEMPLATE`]):
//!   `User Name` is the UPN, `Country or Region` the usage location (a two-letter code, else the
//!   row gets a problem naming that column); its contact and address columns are not imported
//!   (noted by [`read_users_csv`] when they hold values). `Tenant`, `Password` and `Licenses`
//!   columns may be added to it.
//!
//! Only the UPN and the display name are required; the tenant may come from `--tenant`.

use crate::csvin::{decode_csv, printable, DecodedCsv, Delimiter, Encoding};
use std::collections::HashMap;
use std::fmt;

/// The header of the Microsoft 365 admin center's "Add multiple users" CSV template (Users >
/// Active users > Add multiple users), as given in "Add several users at the same time to
/// Microsoft 365" (learn.microsoft.com/microsoft-365/admin/add-users/add-several-users-at-the-same-time,
/// revision of 2024-11-26). Older templates lack `Alternate email address`; both are accepted.
pub const ADMIN_CENTER_TEMPLATE: [&str; 16] = [
    "User Name",
    "First Name",
    "Last Name",
    "Display Name",
    "Job Title",
    "Department",
    "Office Number",
    "Office Phone",
    "Mobile Phone",
    "Fax",
    "Alternate email address",
    "Address",
    "City",
    "State or Province",
    "ZIP or Postal Code",
    "Country or Region",
];

/// The template's columns the user model has no field for (Job Title ... ZIP or Postal Code).
const ADMIN_CENTER_NOT_IMPORTED: std::ops::Range<usize> = 4..15;

/// One user row, as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRow {
    /// 1-based line in the file (the header is line 1).
    pub line: usize,
    pub tenant: Option<String>,
    pub user_principal_name: String,
    pub display_name: String,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub usage_location: Option<String>,
    /// Part numbers (upper-cased) or skuIds, as written.
    pub licenses: Vec<String>,
    pub password: Option<String>,
    /// How the input names its fields (problems are reported in the user's own words).
    pub style: Style,
}

/// Where rows came from, so that a problem names the user's own column or flag.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Style {
    /// The `New-MsolUser` header: `UserPrincipalName,FirstName,...,TenantId,LicenseAssignment`.
    #[default]
    Classic,
    /// The modern header: `tenant,userPrincipalName,...,licenses`.
    Modern,
    /// Command-line flags (`users create --upn ... --license ...`).
    Flags,
    /// The admin center's bulk-add template: `User Name,First Name,...,Country or Region`
    /// ([`ADMIN_CENTER_TEMPLATE`]).
    AdminCenter,
}

/// A field of a user row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Upn,
    DisplayName,
    GivenName,
    Surname,
    Password,
    Tenant,
    UsageLocation,
    Licenses,
}

impl Field {
    /// The field's name in the given style.
    pub fn name(self, style: Style) -> &'static str {
        use Field::*;
        match (style, self) {
            (Style::Classic, Upn) => "UserPrincipalName",
            (Style::Classic, DisplayName) => "DisplayName",
            (Style::Classic, GivenName) => "FirstName",
            (Style::Classic, Surname) => "LastName",
            (Style::Classic, Password) => "Password",
            (Style::Classic, Tenant) => "TenantId",
            (Style::Classic, UsageLocation) => "UsageLocation",
            (Style::Classic, Licenses) => "LicenseAssignment",
            (Style::Modern, Upn) => "userPrincipalName",
            (Style::Modern, DisplayName) => "displayName",
            (Style::Modern, GivenName) => "givenName",
            (Style::Modern, Surname) => "surname",
            (Style::Modern, Password) => "password",
            (Style::Modern, Tenant) => "tenant",
            (Style::Modern, UsageLocation) => "usageLocation",
            (Style::Modern, Licenses) => "licenses",
            (Style::Flags, Upn) => "--upn",
            (Style::Flags, DisplayName) => "--display-name",
            (Style::Flags, GivenName) => "--first-name",
            (Style::Flags, Surname) => "--last-name",
            (Style::Flags, Password) => "--password-stdin",
            (Style::Flags, Tenant) => "--tenant",
            (Style::Flags, UsageLocation) => "--usage-location",
            (Style::Flags, Licenses) => "--license",
            (Style::AdminCenter, Upn) => "User Name",
            (Style::AdminCenter, DisplayName) => "Display Name",
            (Style::AdminCenter, GivenName) => "First Name",
            (Style::AdminCenter, Surname) => "Last Name",
            (Style::AdminCenter, Password) => "Password",
            (Style::AdminCenter, Tenant) => "Tenant",
            (Style::AdminCenter, UsageLocation) => "Country or Region",
            (Style::AdminCenter, Licenses) => "Licenses",
        }
    }
}

impl UserRow {
    /// A problem with one of this row's fields, named as the user wrote it.
    pub fn problem(&self, field: Field, message: impl Into<String>) -> RowError {
        RowError {
            line: self.line,
            field: field.name(self.style).to_owned(),
            message: message.into(),
        }
    }
}

/// A problem with the input, naming where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub line: usize,
    pub field: String,
    pub message: String,
}

/// `line N, Field: message`, with control characters from the input escaped
/// ([`crate::csvin::printable`]) so that a problem never writes raw bytes to the terminal.
/// Quoted values longer than 80 characters cut to their start and their length (probe D19: a
/// 1 MB UPN was echoed whole, a megabyte of stderr per problem).
fn shorten_quoted(message: &str) -> std::borrow::Cow<'_, str> {
    const MAX: usize = 80;
    if message.len() <= MAX {
        return message.into();
    }
    let parts: Vec<&str> = message.split('\'').collect();
    if parts.len() < 3 || !parts.iter().skip(1).step_by(2).any(|p| p.chars().count() > MAX) {
        return message.into();
    }
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push('\'');
        }
        let n = p.chars().count();
        if i % 2 == 1 && n > MAX && i + 1 < parts.len() {
            out.extend(p.chars().take(40));
            out.push_str(&format!("… ({n} characters)"));
        } else {
            out.push_str(p);
        }
    }
    out.into()
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let short = shorten_quoted(&self.message);
        let message = printable(&short);
        if self.field.is_empty() {
            write!(f, "line {}: {message}", self.line)
        } else {
            write!(f, "line {}, {}: {message}", self.line, printable(&self.field))
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Col {
    Upn,
    Display,
    Given,
    Surname,
    Password,
    Tenant,
    Usage,
    Licenses,
}

/// A header name compared without case or spaces: `User Name` → `username`.
fn norm(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase()
}

fn column(name: &str) -> Option<Col> {
    Some(match norm(name).as_str() {
        "userprincipalname" | "upn" | "username" => Col::Upn,
        "displayname" => Col::Display,
        "firstname" | "givenname" => Col::Given,
        "lastname" | "surname" => Col::Surname,
        "password" => Col::Password,
        "tenantid" | "tenant" => Col::Tenant,
        "usagelocation" | "countryorregion" => Col::Usage,
        "licenseassignment" | "licenses" | "license" => Col::Licenses,
        _ => return None,
    })
}

/// The style a header is written in: the template's `User Name` or `Country or Region` make it
/// the admin center's; a modern-only name the modern one; else the classic one.
fn style_of(headers: &csv::StringRecord) -> Style {
    let names: Vec<String> = headers.iter().map(norm).collect();
    let has = |n: &[&str]| names.iter().any(|h| n.contains(&h.as_str()));
    if has(&["username", "countryorregion"]) {
        Style::AdminCenter
    } else if has(&["tenant", "givenname", "surname", "licenses", "license", "upn"]) {
        Style::Modern
    } else {
        Style::Classic
    }
}

/// The 1-based line of a byte offset.
pub(crate) fn line_of(text: &str, byte: u64) -> usize {
    let b = text.as_bytes();
    let mut end = (byte as usize).min(b.len());
    // After a CRLF the reader's position may point at its `\n`: step over line ends.
    while end < b.len() && (b[end] == b'\n' || b[end] == b'\r') {
        end += 1;
    }
    text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
}

/// A users CSV as read from a file: its rows and how it was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsersCsv {
    pub rows: Vec<UserRow>,
    /// The encoding found (for a "read as ..." note).
    pub encoding: Encoding,
    pub delimiter: Delimiter,
    /// Things worth telling that are not problems, e.g. template columns holding values that are
    /// not imported.
    pub notes: Vec<String>,
}

/// Reads a users CSV from the file's bytes (any encoding and delimiter [`crate::csvin`] knows).
/// All problems are returned together; a file that cannot be decoded gives one problem saying
/// what was found and how to re-save it.
pub fn read_users_csv(bytes: &[u8]) -> Result<UsersCsv, Vec<RowError>> {
    let d = decode_csv(bytes, "the file").map_err(|e| {
        vec![RowError {
            line: e.line(),
            field: String::new(),
            message: e.to_string(),
        }]
    })?;
    parse_decoded(&d)
}

/// Reads a users CSV from the file's bytes: [`read_users_csv`] without the notes.
pub fn parse_users_csv_bytes(bytes: &[u8]) -> Result<Vec<UserRow>, Vec<RowError>> {
    read_users_csv(bytes).map(|c| c.rows)
}

/// Reads a users CSV from text (BOM allowed; delimiter detected). All problems are returned
/// together.
pub fn parse_users_csv(text: &str) -> Result<Vec<UserRow>, Vec<RowError>> {
    parse_users_csv_bytes(text.as_bytes())
}

fn parse_decoded(d: &DecodedCsv) -> Result<UsersCsv, Vec<RowError>> {
    let text = d.text.as_str();
    let mut rdr = d.reader();
    let err = |line: usize, field: &str, message: String| RowError {
        line,
        field: printable(field).into_owned(),
        message,
    };
    // Header problems also say how the file was read when anything was guessed.
    let read_as = if d.is_plain() {
        String::new()
    } else {
        format!(" (file read as {})", d.describe())
    };
    let hl = d.header_line;
    let headers = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(vec![err(hl, "", format!("cannot read the header: {e}{read_as}"))]),
    };
    let style = style_of(&headers);
    let expected = match style {
        Style::Modern => "the modern header is tenant,userPrincipalName,displayName,givenName,surname,usageLocation,licenses,password".to_owned(),
        Style::AdminCenter => format!(
            "the admin center template's header is {} (Tenant, Password and Licenses may be added)",
            ADMIN_CENTER_TEMPLATE.join(",")
        ),
        _ => "the classic header is UserPrincipalName,FirstName,LastName,DisplayName,Password,TenantId,UsageLocation,LicenseAssignment".to_owned(),
    };
    let not_imported: Vec<String> = ADMIN_CENTER_TEMPLATE[ADMIN_CENTER_NOT_IMPORTED]
        .iter()
        .map(|n| norm(n))
        .collect();
    let mut cols: HashMap<Col, usize> = HashMap::new();
    // Columns read but not imported: (index, name as written).
    let mut unused: Vec<(usize, String)> = vec![];
    let mut errors = vec![];
    for (i, h) in headers.iter().enumerate() {
        match column(h) {
            Some(c) if cols.contains_key(&c) => errors.push(err(hl, h, format!("column given twice{read_as}"))),
            Some(c) => {
                cols.insert(c, i);
            }
            // Excel writes empty trailing columns when cells beyond the data were ever formatted.
            None if h.trim().is_empty() => unused.push((i, format!("column {} (no name)", i + 1))),
            None if style == Style::AdminCenter && not_imported.contains(&norm(h)) => {
                unused.push((i, h.trim().to_owned()))
            }
            None => errors.push(err(
                hl,
                h,
                format!("unknown column; {expected} (see README, 'CSV formats'){read_as}"),
            )),
        }
    }
    for (c, f) in [(Col::Upn, Field::Upn), (Col::Display, Field::DisplayName)] {
        if !cols.contains_key(&c) {
            errors.push(err(hl, f.name(style), format!("required column is missing{read_as}")));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut rows = vec![];
    let mut unused_with_values = vec![false; unused.len()];
    let mut last_line = hl;
    for rec in rdr.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| line_of(text, p.byte())).unwrap_or(last_line + 1);
                errors.push(err(line, "", format!("not valid CSV: {e}")));
                continue;
            }
        };
        // The file's own line number (blank lines and quoted newlines counted).
        let line = rec.position().map(|p| line_of(text, p.byte())).unwrap_or(last_line + 1);
        last_line = line;
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if rec.len() != headers.len() {
            errors.push(err(
                line,
                "",
                format!(
                    "{} fields where the header has {} ({}-separated)",
                    rec.len(),
                    headers.len(),
                    d.delimiter
                ),
            ));
            continue;
        }
        for (k, (i, _)) in unused.iter().enumerate() {
            if rec.get(*i).is_some_and(|v| !v.trim().is_empty()) {
                unused_with_values[k] = true;
            }
        }
        let get = |c: Col| {
            cols.get(&c)
                .and_then(|&i| rec.get(i))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let licenses = get(Col::Licenses)
            .map(|s| {
                s.split([';', ','])
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    // `syndication-account:O365_Business_Premium` → `O365_BUSINESS_PREMIUM`.
                    .map(|p| p.rsplit(':').next().unwrap_or(p).to_ascii_uppercase())
                    .collect()
            })
            .unwrap_or_default();
        rows.push(UserRow {
            line,
            tenant: get(Col::Tenant),
            user_principal_name: get(Col::Upn).unwrap_or_default(),
            display_name: get(Col::Display).unwrap_or_default(),
            given_name: get(Col::Given),
            surname: get(Col::Surname),
            // A code is upper-cased (`us` → `US`); anything else is kept as written for the
            // problem `check_row` reports.
            usage_location: get(Col::Usage).map(|s| {
                if s.chars().count() == 2 {
                    s.to_ascii_uppercase()
                } else {
                    s
                }
            }),
            licenses,
            password: cols
                .get(&Col::Password)
                .and_then(|&i| rec.get(i))
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            style,
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let dropped: Vec<&str> = unused
        .iter()
        .zip(&unused_with_values)
        .filter(|(_, &v)| v)
        .map(|((_, n), _)| n.as_str())
        .collect();
    let mut notes = vec![];
    if !dropped.is_empty() {
        notes.push(format!(
            "not imported (tenantctl sets only the user name, first, last and display name, usage location, \
             licences and password): {}",
            dropped.join(", ")
        ));
    }
    Ok(UsersCsv {
        rows,
        encoding: d.encoding,
        delimiter: d.delimiter,
        notes,
    })
}

/// Checks a UPN's syntax: `local@domain`, local part of Graph's allowed characters
/// (`A-Z a-z 0-9 ' . - _ ! # ^ ~`, learn.microsoft.com/graph/api/resources/user), not starting
/// or ending with a dot, at most 64 characters; a domain with a dot.
pub fn check_upn(upn: &str) -> Result<(), String> {
    let Some((local, domain)) = upn.split_once('@') else {
        return Err(format!("'{upn}' is not a user principal name: expected name@domain"));
    };
    if local.is_empty() || local.len() > 64 {
        return Err(format!("'{upn}': the part before @ must have 1 to 64 characters"));
    }
    if let Some(c) = local
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "'.-_!#^~".contains(*c)))
    {
        return Err(format!(
            "'{upn}': '{c}' is not allowed before @ (allowed: letters, digits and ' . - _ ! # ^ ~)"
        ));
    }
    if local.starts_with('.') || local.ends_with('.') {
        return Err(format!("'{upn}': the part before @ cannot start or end with a dot"));
    }
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if !domain_ok {
        return Err(format!("'{upn}': '{domain}' is not a domain name"));
    }
    Ok(())
}

/// Entra's password rules for cloud users: 8 to 256 characters, three of four classes
/// (lower case, upper case, digits, symbols).
pub fn check_password(p: &str) -> Result<(), String> {
    let n = p.chars().count();
    if !(8..=256).contains(&n) {
        return Err(format!("must have 8 to 256 characters (has {n})"));
    }
    let classes = [
        p.chars().any(|c| c.is_ascii_lowercase()),
        p.chars().any(|c| c.is_ascii_uppercase()),
        p.chars().any(|c| c.is_ascii_digit()),
        p.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if classes.iter().filter(|x| **x).count() < 3 {
        return Err("needs three of: lower case, upper case, digits, symbols".into());
    }
    Ok(())
}

/// ISO 3166-1 alpha-2 codes (what Graph's `usageLocation` takes).
const ISO_3166: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

pub fn check_usage_location(code: &str) -> Result<(), String> {
    if code.len() == 2 && ISO_3166.split(' ').any(|c| c == code) {
        Ok(())
    } else {
        Err(format!(
            "'{code}' is not a two-letter ISO 3166 country code (e.g. US, GB, DE, BR)"
        ))
    }
}

/// The offline checks of one row: UPN, display name, usage location (required with a
/// licence, as `assignLicense` demands), password (when given).
pub fn check_row(r: &UserRow) -> Vec<RowError> {
    let mut e = vec![];
    if r.user_principal_name.is_empty() {
        e.push(r.problem(Field::Upn, "is empty"));
    } else if let Err(m) = check_upn(&r.user_principal_name) {
        e.push(r.problem(Field::Upn, m));
    }
    if r.display_name.is_empty() {
        e.push(r.problem(Field::DisplayName, "is empty"));
    } else if r.display_name.chars().count() > 256 {
        e.push(r.problem(Field::DisplayName, "longer than 256 characters"));
    }
    match &r.usage_location {
        Some(u) => {
            if let Err(m) = check_usage_location(u) {
                let m = if r.style == Style::AdminCenter {
                    format!("{m}: tenantctl takes Country or Region as the user's usage location")
                } else {
                    m
                };
                e.push(r.problem(Field::UsageLocation, m));
            }
        }
        None if !r.licenses.is_empty() => e.push(r.problem(
            Field::UsageLocation,
            "is required to assign a licence (a two-letter country code like US)",
        )),
        None => {}
    }
    if let Some(p) = &r.password {
        if let Err(m) = check_password(p) {
            e.push(r.problem(Field::Password, format!("does not meet the password rules: {m}")));
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Probe D19: a 1 MB value in a problem was printed whole.
    #[test]
    fn long_values_in_problems_are_cut() {
        let upn = format!("{}@contoso.com", "a".repeat(1_000_000));
        let e = RowError {
            line: 2,
            field: "UserPrincipalName".into(),
            message: format!("'{upn}' is longer than 113 characters"),
        };
        let text = e.to_string();
        assert!(text.len() < 200, "{} bytes", text.len());
        assert!(text.contains("(1000012 characters)"), "{text}");
        assert!(text.ends_with("is longer than 113 characters"), "{text}");
        let short = RowError {
            line: 2,
            field: "X".into(),
            message: "'abc' is fine".into(),
        };
        assert_eq!(short.to_string(), "line 2, X: 'abc' is fine");
    }

    const CLASSIC: &str = "UserPrincipalName,FirstName,LastName,DisplayName,Password,TenantId,UsageLocation,LicenseAssignment\r\n\
        adele@contoso.com,Adele,Vance,Adele Vance,Pa55word!x,contoso.onmicrosoft.com,us,syndication-account:O365_Business_Premium\r\n\
        \r\n\
        \"bob@contoso.com\",Bob,\"Smith, Jr\",\"Bob Smith, Jr\",,contoso.onmicrosoft.com,GB,\r\n";

    #[test]
    fn the_classic_msonline_header_reads_with_licences_normalised() {
        let rows = parse_users_csv(CLASSIC).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].licenses, ["O365_BUSINESS_PREMIUM"]);
        assert_eq!(rows[0].usage_location.as_deref(), Some("US"));
        assert_eq!(rows[0].given_name.as_deref(), Some("Adele"));
        assert_eq!(rows[1].line, 4, "blank lines keep their numbers");
        assert_eq!(rows[1].display_name, "Bob Smith, Jr");
        assert_eq!(rows[1].password, None);
        assert!(rows.iter().all(|r| check_row(r).is_empty()));
    }

    #[test]
    fn the_modern_header_in_any_order() {
        let rows = parse_users_csv(
            "displayName,userPrincipalName,licenses,usageLocation\nAdele Vance,adele@contoso.com,SPB;O365_BUSINESS,DE\n",
        )
        .unwrap();
        assert_eq!(rows[0].licenses, ["SPB", "O365_BUSINESS"]);
        assert_eq!(rows[0].tenant, None);
    }

    #[test]
    fn bad_headers_and_rows_name_line_and_field() {
        let e = parse_users_csv("UserPrincipalName,Nickname\nx@y.com,z\n").unwrap_err();
        assert!(e.iter().any(|e| e.line == 1 && e.field == "Nickname"));
        assert!(e
            .iter()
            .any(|e| e.field == "DisplayName" && e.message.contains("missing")));

        let rows = parse_users_csv(
            "UserPrincipalName,DisplayName,UsageLocation,LicenseAssignment,Password\n\
             bad upn,Someone,US,,\n\
             ok@contoso.com,,XX,SPB,short\n",
        )
        .unwrap();
        let errs: Vec<String> = rows.iter().flat_map(check_row).map(|e| e.to_string()).collect();
        assert!(
            errs.iter().any(|e| e.starts_with("line 2, UserPrincipalName:")),
            "{errs:?}"
        );
        assert!(errs.iter().any(|e| e.starts_with("line 3, DisplayName: is empty")));
        assert!(errs.iter().any(|e| e.starts_with("line 3, UsageLocation:")));
        assert!(errs.iter().any(|e| e.starts_with("line 3, Password:")));

        let e = parse_users_csv("UserPrincipalName,DisplayName\na@b.com,A,extra\n").unwrap_err();
        assert_eq!(e[0].line, 2);
    }

    #[test]
    fn upn_and_password_rules() {
        assert!(check_upn("o'neil.j-x_y!#^~@sub.contoso.com").is_ok());
        for bad in [
            "nobody",
            "a b@contoso.com",
            ".a@contoso.com",
            "a@contoso",
            "a@con_toso.com",
            "@contoso.com",
        ] {
            assert!(check_upn(bad).is_err(), "{bad}");
        }
        assert!(check_password("Passw0rd").is_ok());
        assert!(check_password("password1").is_err(), "two classes");
        assert!(check_password("Ab1!").is_err(), "too short");
        assert!(check_usage_location("BR").is_ok());
        assert!(check_usage_location("UK").is_err(), "GB is the code");
    }

    #[test]
    fn licence_without_usage_location_is_refused_up_front() {
        let rows = parse_users_csv("UserPrincipalName,DisplayName,LicenseAssignment\na@b.com,A,SPB\n").unwrap();
        let e = check_row(&rows[0]);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].field, "UsageLocation");
    }
}
