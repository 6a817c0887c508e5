//! Microsoft's JSON as documented (learn.microsoft.com/graph/api/resources/...,
//! learn.microsoft.com/partner-center/developer/...). Unknown fields are ignored; fields the
//! docs mark nullable are `Option`.

use serde::Deserialize;
use tenantctl_core::{ObjectId, SkuId, TenantId};

/// `microsoft.graph.contract` (learn.microsoft.com/graph/api/resources/contract).
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Contract {
    pub customer_id: String,
    pub default_domain_name: Option<String>,
    pub display_name: Option<String>,
    pub contract_type: Option<String>,
}

/// `delegatedAdminRelationship` (learn.microsoft.com/graph/api/resources/delegatedadminrelationship).
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Relationship {
    pub id: String,
    pub display_name: Option<String>,
    pub status: String,
    pub created_date_time: Option<String>,
    pub end_date_time: Option<String>,
    pub auto_extend_duration: Option<String>,
    pub customer: Option<RelationshipCustomer>,
    pub access_details: Option<AccessDetails>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct RelationshipCustomer {
    pub tenant_id: Option<TenantId>,
    pub display_name: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct AccessDetails {
    #[serde(default)]
    pub unified_roles: Vec<UnifiedRole>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct UnifiedRole {
    pub role_definition_id: String,
}

/// `domain` (learn.microsoft.com/graph/api/resources/domain).
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Domain {
    pub id: String,
    #[serde(default)]
    pub is_default: bool,
    #[serde(default)]
    pub is_initial: bool,
    #[serde(default)]
    pub is_verified: bool,
    pub authentication_type: Option<String>,
    #[serde(default)]
    pub supported_services: Vec<String>,
}

/// `user` with the properties tenantctl selects (learn.microsoft.com/graph/api/resources/user).
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: ObjectId,
    pub user_principal_name: Option<String>,
    pub display_name: Option<String>,
    pub account_enabled: Option<bool>,
    pub usage_location: Option<String>,
    pub created_date_time: Option<String>,
    #[serde(default)]
    pub assigned_licenses: Vec<AssignedLicense>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct AssignedLicense {
    pub sku_id: SkuId,
}

/// `subscribedSku` (learn.microsoft.com/graph/api/resources/subscribedsku).
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct SubscribedSku {
    pub sku_id: SkuId,
    pub sku_part_number: String,
    pub capability_status: Option<String>,
    #[serde(default)]
    pub consumed_units: i64,
    pub prepaid_units: Option<PrepaidUnits>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct PrepaidUnits {
    #[serde(default)]
    pub enabled: i64,
    #[serde(default)]
    pub suspended: i64,
    #[serde(default)]
    pub warning: i64,
    #[serde(default)]
    pub locked_out: i64,
}

/// Partner Center `Customer` (learn.microsoft.com/partner-center/developer/customer-resources).
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct PcCustomer {
    pub id: String,
    pub company_profile: Option<PcCompanyProfile>,
    pub relationship_to_partner: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct PcCompanyProfile {
    pub tenant_id: Option<String>,
    pub domain: Option<String>,
    pub company_name: Option<String>,
}
