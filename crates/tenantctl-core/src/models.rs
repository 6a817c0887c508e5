//! What tenantctl reads from the services, as plain data, and how each becomes an output
//! record. Wire formats (Graph/Partner Center JSON) are the service clients' business; these
//! are the product's own models.

use crate::ids::{ObjectId, SkuId, TenantId};
use crate::licences::LicenceCatalog;
use crate::record::Record;
use crate::roles::role_name;
use serde_json::Value;
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

impl Customer {
    pub fn to_record(&self) -> Record {
        Record::new()
            .with("tenantId", self.tenant_id.to_string())
            .with("tenantName", self.name.clone())
            .with("defaultDomain", opt_str(&self.default_domain))
            .with("contractType", opt_str(&self.contract_type))
            .with("relationshipStatus", self.relationship_status.clone())
            .with("relationshipEnd", opt_date(self.relationship_end))
            .with("sources", self.sources.join("+"))
    }
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

    pub fn to_record(&self, now: OffsetDateTime) -> Record {
        let days = self.days_left(now);
        let ending_soon = self.status == "active" && matches!(days, Some(d) if d <= 30);
        Record::new()
            .with("tenantId", self.customer_tenant_id.to_string())
            .with("tenantName", self.customer_name.clone())
            .with("relationship", self.display_name.clone())
            .with("status", self.status.clone())
            .with(
                "roles",
                self.role_ids
                    .iter()
                    .map(|r| role_name(r))
                    .collect::<Vec<_>>()
                    .join("; "),
            )
            .with("endDateTime", opt_date(self.end))
            .with("daysLeft", days.map(Value::from).unwrap_or(Value::Null))
            .with("autoExtend", self.auto_extends())
            .with("endingSoon", ending_soon)
            .with("relationshipId", self.id.clone())
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

impl DomainInfo {
    pub fn to_record(&self) -> Record {
        Record::new()
            .with("domain", self.name.clone())
            .with("isDefault", self.is_default)
            .with("isInitial", self.is_initial)
            .with("isVerified", self.is_verified)
            .with("authenticationType", self.authentication_type.clone())
            .with("supportedServices", self.supported_services.join("; "))
    }
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

impl UserInfo {
    /// `skus` maps the tenant's SKU ids to part numbers (from its `/subscribedSkus`), so that a
    /// SKU missing from Microsoft's table still shows its part number.
    pub fn to_record(&self, catalog: &LicenceCatalog, part_of: &dyn Fn(SkuId) -> Option<String>) -> Record {
        let parts: Vec<String> = self
            .licences
            .iter()
            .map(|s| {
                part_of(*s)
                    .or_else(|| catalog.by_sku_id(*s).map(|n| n.part_number.clone()))
                    .unwrap_or_else(|| s.to_string())
            })
            .collect();
        let names: Vec<String> = self
            .licences
            .iter()
            .zip(&parts)
            .map(|(s, p)| catalog.friendly_name(*s, Some(p.as_str())))
            .collect();
        Record::new()
            .with("userPrincipalName", self.user_principal_name.clone())
            .with("displayName", self.display_name.clone())
            .with(
                "accountEnabled",
                self.account_enabled.map(Value::from).unwrap_or(Value::Null),
            )
            .with("isLicensed", !self.licences.is_empty())
            .with("licenses", parts.join("; "))
            .with("licenseNames", names.join("; "))
            .with("usageLocation", opt_str(&self.usage_location))
            .with("createdDateTime", opt_str(&self.created))
            .with("id", self.id.to_string())
    }
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

    pub fn to_record(&self, catalog: &LicenceCatalog) -> Record {
        Record::new()
            .with("license", catalog.friendly_name(self.sku_id, Some(&self.part_number)))
            .with("partNumber", self.part_number.clone())
            .with("bought", self.enabled)
            .with("assigned", self.consumed)
            .with("free", self.free())
            .with("suspended", self.suspended)
            .with("warning", self.warning)
            .with("status", self.capability_status.clone())
            .with("skuId", self.sku_id.to_string())
    }
}

fn opt_str(s: &Option<String>) -> Value {
    s.as_ref().map(|s| Value::from(s.clone())).unwrap_or(Value::Null)
}

/// RFC 3339 in UTC, seconds precision.
pub fn format_date(d: OffsetDateTime) -> String {
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
}

fn opt_date(d: Option<OffsetDateTime>) -> Value {
    d.map(|d| Value::from(format_date(d))).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relationship_days_left_and_ending_soon() {
        let now = OffsetDateTime::from_unix_timestamp(1_764_028_800).unwrap();
        let r = GdapRelationship {
            id: "a-b".into(),
            display_name: "GDAP".into(),
            customer_tenant_id: "52eaad04-13a2-4a2f-9ce8-93a294fadf36".parse().unwrap(),
            customer_name: "Contoso".into(),
            status: "active".into(),
            role_ids: vec![crate::roles::GLOBAL_READER.into()],
            created: None,
            end: Some(now + time::Duration::days(12)),
            auto_extend_duration: "PT0S".into(),
        };
        let rec = r.to_record(now);
        assert_eq!(rec.get("daysLeft"), Some(&Value::from(12)));
        assert_eq!(rec.get("endingSoon"), Some(&Value::from(true)));
        assert_eq!(rec.get("roles"), Some(&Value::from("Global Reader")));
        assert_eq!(rec.get("autoExtend"), Some(&Value::from(false)));
    }

    #[test]
    fn free_units_never_negative() {
        let s = SkuUsage {
            sku_id: "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46".parse().unwrap(),
            part_number: "SPB".into(),
            capability_status: "Enabled".into(),
            enabled: 10,
            suspended: 0,
            warning: 0,
            locked_out: 0,
            consumed: 12,
        };
        assert_eq!(s.free(), 0);
        assert_eq!(
            s.to_record(LicenceCatalog::builtin()).get("license"),
            Some(&Value::from("Microsoft 365 Business Premium"))
        );
    }
}
