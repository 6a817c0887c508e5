//! What tenantctl reads from the services, as plain data (output rows are in `tables`).
//! Wire formats (Graph/Partner Center JSON) are the service clients' business; these are the
//! product's own models.

use crate::ids::{ObjectId, SkuId, TenantId};
use time::OffsetDateTime;

/// A customer tenant as the partner sees it, merged from Graph `/contracts`, GDAP
/// relationships and (optionally) Partner Center.
#[derive(Clone, Debug, PartialEq)]
pub struct Customer {
    pub tenant_id: TenantId,
    pub name: String,
    /// From `/contracts` (a copy taken when the partnership began) or Partner Center.
    pub default_domain: Option<String>,
    pub contract_type: Option<String>,
    /// Best GDAP status across the customer's relationships (`active` wins), or `none`.
    pub relationship_status: String,
    /// Latest end date among active relationships.
    pub relationship_end: Option<OffsetDateTime>,
    /// Where the customer was seen: `contracts`, `gdap`, `partner-center`.
    pub sources: Vec<&'static str>,
}

/// One GDAP relationship (Graph `delegatedAdminRelationship`).
#[derive(Clone, Debug, PartialEq)]
pub struct GdapRelationship {
    pub id: String,
    pub display_name: String,
    pub customer_tenant_id: TenantId,
    pub customer_name: String,
    pub status: String,
    pub role_ids: Vec<String>,
    pub created: Option<OffsetDateTime>,
    pub end: Option<OffsetDateTime>,
    /// ISO 8601 duration: `PT0S`/`P0D` = none, `P180D`.
    pub auto_extend_duration: String,
}

impl GdapRelationship {
    /// Whole days from `now` to the end date (negative once ended).
    pub fn days_left(&self, now: OffsetDateTime) -> Option<i64> {
        self.end.map(|e| (e - now).whole_days())
    }

    pub fn auto_extends(&self) -> bool {
        !matches!(self.auto_extend_duration.as_str(), "" | "PT0S" | "P0D")
    }
}

/// A domain of a customer tenant (Graph `domain`).
#[derive(Clone, Debug, PartialEq)]
pub struct DomainInfo {
    pub name: String,
    pub is_default: bool,
    pub is_initial: bool,
    pub is_verified: bool,
    pub authentication_type: String,
    pub supported_services: Vec<String>,
}

/// A user with the SKUs assigned to them (Graph `user`, `assignedLicenses`).
#[derive(Clone, Debug, PartialEq)]
pub struct UserInfo {
    pub id: ObjectId,
    pub user_principal_name: String,
    pub display_name: String,
    pub account_enabled: Option<bool>,
    pub usage_location: Option<String>,
    pub created: Option<String>,
    pub licences: Vec<SkuId>,
}

/// A user as the write planners need to know them (what exists already).
#[derive(Clone, Debug, PartialEq)]
pub struct DirectoryUser {
    pub id: String,
    pub user_principal_name: String,
    pub display_name: Option<String>,
    pub usage_location: Option<String>,
    pub skus: Vec<SkuId>,
}

/// A subscribed SKU of a tenant (Graph `subscribedSku`).
#[derive(Clone, Debug, PartialEq)]
pub struct SkuUsage {
    pub sku_id: SkuId,
    pub part_number: String,
    pub capability_status: String,
    pub enabled: i64,
    pub suspended: i64,
    pub warning: i64,
    pub locked_out: i64,
    pub consumed: i64,
}

impl SkuUsage {
    /// Bought units not yet assigned (`prepaidUnits.enabled − consumedUnits`, never below 0).
    pub fn free(&self) -> i64 {
        (self.enabled - self.consumed).max(0)
    }
}

/// RFC 3339 in UTC, seconds precision (`2026-12-02T09:05:00Z`). Written digit by digit: it
/// runs for every user row of a fleet (issue 13).
pub fn format_date(d: OffsetDateTime) -> String {
    let d = d.to_offset(time::UtcOffset::UTC);
    let year = d.year();
    if (0..=9999).contains(&year) {
        let mut out = String::with_capacity(20);
        let y = year as u16;
        for div in [1000u16, 100, 10, 1] {
            out.push(char::from(b'0' + ((y / div) % 10) as u8));
        }
        out.push('-');
        for (n, sep) in [
            (d.month() as u8, '-'),
            (d.day(), 'T'),
            (d.hour(), ':'),
            (d.minute(), ':'),
            (d.second(), 'Z'),
        ] {
            out.push(char::from(b'0' + n / 10));
            out.push(char::from(b'0' + n % 10));
            out.push(sep);
        }
        return out;
    }
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        d.year(),
        d.month() as u8,
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_date_writes_rfc3339_utc_seconds_as_format_did() {
        let old = |d: OffsetDateTime| {
            let d = d.to_offset(time::UtcOffset::UTC);
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                d.year(),
                d.month() as u8,
                d.day(),
                d.hour(),
                d.minute(),
                d.second()
            )
        };
        for unix in [0i64, 1_764_665_100, 951_782_400, -62_135_596_800, 253_402_300_799] {
            let d = OffsetDateTime::from_unix_timestamp(unix).unwrap();
            assert_eq!(format_date(d), old(d), "{unix}");
        }
        let offset = OffsetDateTime::from_unix_timestamp(1_764_665_100)
            .unwrap()
            .to_offset(time::UtcOffset::from_hms(5, 30, 0).unwrap());
        assert_eq!(format_date(offset), "2025-12-02T08:45:00Z");
    }
}
