//! The product's output row types, each declared once with [`define_row!`](crate::define_row),
//! and how each is built from the models. Per-tenant rows get `tenantId`/`tenantName` in front
//! from the fan-out ([`Tenanted`](crate::rows::Tenanted)); the others carry them themselves.

use crate::define_row;
use crate::exchange::{Mailbox, MailboxStatistics};
use crate::licences::LicenceCatalog;
use crate::models::{Customer, DomainInfo, GdapRelationship, SkuUsage, UserInfo};
use crate::roles::role_name;
use crate::{ObjectId, SkuId};
use compact_str::CompactString;
use std::collections::HashMap;
use std::sync::Arc;
use time::OffsetDateTime;

define_row! {
    /// `customers list`: one customer tenant.
    #[derive(Clone, Debug, PartialEq)]
    pub struct CustomerRow {
        "tenantId": Id => pub tenant_id: String,
        "tenantName": Text => pub tenant_name: String,
        "defaultDomain": Text => pub default_domain: Option<String>,
        "contractType": Text => pub contract_type: Option<String>,
        "relationshipStatus": Text => pub relationship_status: String,
        "relationshipEnd": DateTime => pub relationship_end: Option<OffsetDateTime>,
        "sources": List => pub sources: Vec<String>,
    }
}

impl CustomerRow {
    /// `default_domain`: the tenant's current default domain when it was read; else the copy
    /// `/contracts` took when the partnership began.
    pub fn new(c: &Customer, default_domain: Option<String>) -> CustomerRow {
        CustomerRow {
            tenant_id: c.tenant_id.to_string(),
            tenant_name: c.name.clone(),
            default_domain: default_domain.or_else(|| c.default_domain.clone()),
            contract_type: c.contract_type.clone(),
            relationship_status: c.relationship_status.clone(),
            relationship_end: c.relationship_end,
            sources: c.sources.iter().map(|s| s.to_string()).collect(),
        }
    }
}

define_row! {
    /// `relationships list`: one GDAP relationship.
    #[derive(Clone, Debug, PartialEq)]
    pub struct RelationshipRow {
        "tenantId": Id => pub tenant_id: String,
        "tenantName": Text => pub tenant_name: String,
        "relationship": Text => pub relationship: String,
        "status": Text => pub status: String,
        "roles": List => pub roles: Vec<String>,
        "endDateTime": DateTime => pub end: Option<OffsetDateTime>,
        "daysLeft": Int => pub days_left: Option<i64>,
        "autoExtend": Bool => pub auto_extend: bool,
        "endingSoon": Bool => pub ending_soon: bool,
        "relationshipId": Id => pub relationship_id: String,
    }
}

impl RelationshipRow {
    pub fn new(r: &GdapRelationship, now: OffsetDateTime) -> RelationshipRow {
        let days = r.days_left(now);
        RelationshipRow {
            tenant_id: r.customer_tenant_id.to_string(),
            tenant_name: r.customer_name.clone(),
            relationship: r.display_name.clone(),
            status: r.status.clone(),
            roles: r.role_ids.iter().map(|x| role_name(x).to_string()).collect(),
            end: r.end,
            days_left: days,
            auto_extend: r.auto_extends(),
            ending_soon: r.status == "active" && matches!(days, Some(d) if d <= 30),
            relationship_id: r.id.clone(),
        }
    }
}

define_row! {
    /// `domains list`: one domain of a tenant.
    #[derive(Clone, Debug, PartialEq)]
    pub struct DomainRow {
        "domain": Text => pub domain: String,
        "isDefault": Bool => pub is_default: bool,
        "isInitial": Bool => pub is_initial: bool,
        "isVerified": Bool => pub is_verified: bool,
        "authenticationType": Text => pub authentication_type: String,
        "supportedServices": List => pub supported_services: Vec<String>,
    }
}

impl From<&DomainInfo> for DomainRow {
    fn from(d: &DomainInfo) -> DomainRow {
        DomainRow {
            domain: d.name.clone(),
            is_default: d.is_default,
            is_initial: d.is_initial,
            is_verified: d.is_verified,
            authentication_type: d.authentication_type.clone(),
            supported_services: d.supported_services.clone(),
        }
    }
}

define_row! {
    /// `users list`: one user and the licences they hold.
    ///
    /// Held compactly (issue 13: a running tenant's rows stay in memory until it ends): the id
    /// as its 16 bytes, the licence columns shared by every row of the tenant holding the
    /// same SKUs (see [`UserRows`]), and strings of up to 24 bytes (most display names, the
    /// country code) inline instead of in an allocation of their own.
    #[derive(Clone, Debug, PartialEq)]
    pub struct UserListRow {
        "userPrincipalName": Text => pub user_principal_name: CompactString,
        "displayName": Text => pub display_name: CompactString,
        "accountEnabled": Bool => pub account_enabled: Option<bool>,
        "isLicensed": Bool => pub is_licensed: bool,
        "licenses": List => pub licenses: Arc<[String]>,
        "licenseNames": List => pub license_names: Arc<[String]>,
        "usageLocation": Text => pub usage_location: Option<CompactString>,
        "createdDateTime": DateTime => pub created: Option<OffsetDateTime>,
        "id": Id => pub id: ObjectId,
    }
}

/// Builds one tenant's [`UserListRow`]s. The rows of users holding the same SKUs share one
/// copy of their part numbers and names: a tenant has a handful of licence sets and
/// thousands of users.
pub struct UserRows<'a> {
    catalog: &'a LicenceCatalog,
    /// The tenant's own part numbers (its `/subscribedSkus`), when they were read: a SKU
    /// missing from Microsoft's table still shows its part number.
    parts: Option<HashMap<SkuId, String>>,
    labels: HashMap<Vec<SkuId>, Labels>,
}

/// A licence set's part numbers and friendly names, one per SKU, in the user's order.
type Labels = (Arc<[String]>, Arc<[String]>);

impl<'a> UserRows<'a> {
    pub fn new(catalog: &'a LicenceCatalog) -> UserRows<'a> {
        UserRows {
            catalog,
            parts: None,
            labels: HashMap::new(),
        }
    }

    /// Whether the tenant's part numbers were given.
    pub fn has_parts(&self) -> bool {
        self.parts.is_some()
    }

    /// The tenant's SKU ids and part numbers; they take precedence over Microsoft's table.
    pub fn set_parts(&mut self, parts: HashMap<SkuId, String>) {
        self.parts = Some(parts);
        // Labels built before named the SKUs by the table alone.
        self.labels.clear();
    }

    pub fn row(&mut self, u: UserInfo) -> UserListRow {
        let (licenses, license_names) = match self.labels.get(&u.licences) {
            Some((p, n)) => (p.clone(), n.clone()),
            None => {
                let labels = self.labels_of(&u.licences);
                self.labels.insert(u.licences.clone(), labels.clone());
                labels
            }
        };
        UserListRow {
            is_licensed: !u.licences.is_empty(),
            created: u
                .created
                .as_deref()
                .and_then(|s| OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()),
            user_principal_name: u.user_principal_name.into(),
            display_name: u.display_name.into(),
            account_enabled: u.account_enabled,
            licenses,
            license_names,
            usage_location: u.usage_location.map(CompactString::from),
            id: u.id,
        }
    }

    fn labels_of(&self, skus: &[SkuId]) -> Labels {
        let parts: Vec<String> = skus
            .iter()
            .map(|s| {
                self.parts
                    .as_ref()
                    .and_then(|p| p.get(s).cloned())
                    .or_else(|| self.catalog.by_sku_id(*s).map(|n| n.part_number.clone()))
                    .unwrap_or_else(|| s.to_string())
            })
            .collect();
        let names: Vec<String> = skus
            .iter()
            .zip(&parts)
            .map(|(s, p)| self.catalog.friendly_name(*s, Some(p.as_str())))
            .collect();
        (parts.into(), names.into())
    }
}

define_row! {
    /// `licenses list`: one subscribed SKU of a tenant.
    #[derive(Clone, Debug, PartialEq)]
    pub struct SkuRow {
        "license": Text => pub license: String,
        "partNumber": Text => pub part_number: String,
        "bought": Int => pub bought: i64,
        "assigned": Int => pub assigned: i64,
        "free": Int => pub free: i64,
        "suspended": Int => pub suspended: i64,
        "warning": Int => pub warning: i64,
        "status": Text => pub status: String,
        "skuId": Id => pub sku_id: String,
    }
}

impl SkuRow {
    pub fn new(s: &SkuUsage, catalog: &LicenceCatalog) -> SkuRow {
        SkuRow {
            license: catalog.friendly_name(s.sku_id, Some(&s.part_number)),
            part_number: s.part_number.clone(),
            bought: s.enabled,
            assigned: s.consumed,
            free: s.free(),
            suspended: s.suspended,
            warning: s.warning,
            status: s.capability_status.clone(),
            sku_id: s.sku_id.to_string(),
        }
    }
}

define_row! {
    /// `users import` / `users create`: what happened to one input row.
    #[derive(Clone, Debug, PartialEq)]
    pub struct ImportResultRow {
        "line": Int => pub line: usize,
        "tenantId": Id => pub tenant_id: Option<String>,
        "tenantName": Text => pub tenant_name: String,
        "userPrincipalName": Text => pub user_principal_name: String,
        "result": Text => pub result: String,
        "licenses": List => pub licenses: Vec<String>,
        "detail": Text => pub detail: String,
    }
}

define_row! {
    /// `licenses assign|remove`: what happened to one change.
    #[derive(Clone, Debug, PartialEq)]
    pub struct LicenceResultRow {
        "line": Int => pub line: usize,
        "tenantId": Id => pub tenant_id: Option<String>,
        "tenantName": Text => pub tenant_name: String,
        "userPrincipalName": Text => pub user_principal_name: String,
        "sku": Text => pub sku: String,
        "result": Text => pub result: String,
        "detail": Text => pub detail: String,
    }
}

define_row! {
    /// `domains add|verify`: what happened to the domain.
    #[derive(Clone, Debug, PartialEq)]
    pub struct DomainResultRow {
        "tenantId": Id => pub tenant_id: String,
        "tenantName": Text => pub tenant_name: String,
        "domain": Text => pub domain: String,
        "result": Text => pub result: String,
        "detail": Text => pub detail: String,
    }
}

define_row! {
    /// A DNS record to publish. `name` is the full owner name (e.g.
    /// `_sipfederationtls._tcp.contoso.com` for the SRV record), never just the apex.
    #[derive(Clone, Debug, PartialEq)]
    pub struct DnsRecordRow {
        "domain": Text => pub domain: String,
        "recordType": Text => pub record_type: String,
        "name": Text => pub name: String,
        "value": Text => pub value: String,
        "preference": Int => pub preference: Option<u32>,
        "ttl": Int => pub ttl: u32,
        "isOptional": Bool => pub is_optional: bool,
        "supportedService": Text => pub supported_service: Option<String>,
    }
}

define_row! {
    /// `mailboxes list`: a mailbox joined with its statistics.
    #[derive(Clone, Debug, PartialEq)]
    pub struct MailboxRow {
        "userPrincipalName": Text => pub user_principal_name: String,
        "displayName": Text => pub display_name: String,
        "primarySmtpAddress": Text => pub primary_smtp_address: String,
        "type": Text => pub recipient_type_details: String,
        "sizeBytes": Int => pub size_bytes: Option<u64>,
        "itemCount": Int => pub item_count: Option<u64>,
        "deletedItemSizeBytes": Int => pub deleted_item_size_bytes: Option<u64>,
        "lastUserActionTime": DateTime => pub last_user_action_time: Option<OffsetDateTime>,
        "lastInteractionTime": DateTime => pub last_interaction_time: Option<OffsetDateTime>,
        "lastLogonTime": DateTime => pub last_logon_time: Option<OffsetDateTime>,
        "archive": Bool => pub archive: bool,
        "litigationHold": Bool => pub litigation_hold: bool,
        "hiddenFromAddressLists": Bool => pub hidden_from_address_lists: bool,
        "forwardingSmtpAddress": Text => pub forwarding_smtp_address: Option<String>,
        "forwardingAddress": Text => pub forwarding_address: Option<String>,
        "deliverToMailboxAndForward": Bool => pub deliver_to_mailbox_and_forward: bool,
        "statistics": Text => pub statistics: String,
        "externalDirectoryObjectId": Id => pub external_directory_object_id: Option<String>,
        "exchangeGuid": Id => pub exchange_guid: Option<String>,
    }
}

impl MailboxRow {
    /// `stats`: `Err(reason)` when the statistics could not be read (the row still lists the
    /// mailbox, `statistics` says why).
    pub fn new(m: &Mailbox, stats: Result<&MailboxStatistics, &str>) -> MailboxRow {
        let (s, status) = match stats {
            Ok(s) => (s.clone(), "ok".to_owned()),
            Err(why) => (MailboxStatistics::default(), why.to_owned()),
        };
        MailboxRow {
            user_principal_name: m.user_principal_name.clone(),
            display_name: m.display_name.clone(),
            primary_smtp_address: m.primary_smtp_address.clone(),
            recipient_type_details: m.recipient_type_details.clone(),
            size_bytes: s.total_item_size,
            item_count: s.item_count,
            deleted_item_size_bytes: s.total_deleted_item_size,
            last_user_action_time: s.last_user_action_time,
            last_interaction_time: s.last_interaction_time,
            last_logon_time: s.last_logon_time,
            archive: m.archive,
            litigation_hold: m.litigation_hold,
            hidden_from_address_lists: m.hidden_from_address_lists,
            forwarding_smtp_address: m.forwarding_smtp_address.clone(),
            forwarding_address: m.forwarding_address.clone(),
            deliver_to_mailbox_and_forward: m.deliver_to_mailbox_and_forward,
            statistics: status,
            external_directory_object_id: m.external_directory_object_id.clone(),
            exchange_guid: m.exchange_guid.clone(),
        }
    }
}

define_row! {
    /// `mailboxes stale --days N`: a mailbox nobody has used for N days.
    #[derive(Clone, Debug, PartialEq)]
    pub struct StaleMailboxRow {
        "userPrincipalName": Text => pub user_principal_name: String,
        "displayName": Text => pub display_name: String,
        "type": Text => pub recipient_type_details: String,
        "lastActivity": DateTime => pub last_activity: Option<OffsetDateTime>,
        "daysInactive": Int => pub days_inactive: Option<i64>,
        "lastLogonTime": DateTime => pub last_logon_time: Option<OffsetDateTime>,
        "mailboxCreated": DateTime => pub created: Option<OffsetDateTime>,
        "sizeBytes": Int => pub size_bytes: Option<u64>,
        "itemCount": Int => pub item_count: Option<u64>,
        "externalDirectoryObjectId": Id => pub external_directory_object_id: Option<String>,
    }
}

impl StaleMailboxRow {
    pub fn new(m: &Mailbox, s: &MailboxStatistics, now: OffsetDateTime) -> StaleMailboxRow {
        StaleMailboxRow {
            user_principal_name: m.user_principal_name.clone(),
            display_name: m.display_name.clone(),
            recipient_type_details: m.recipient_type_details.clone(),
            last_activity: s.last_activity(),
            days_inactive: crate::exchange::days_inactive(s, now),
            last_logon_time: s.last_logon_time,
            created: m.created,
            size_bytes: s.total_item_size,
            item_count: s.item_count,
            external_directory_object_id: m.external_directory_object_id.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::{check_schema, Row, Tenanted};

    /// Every row type: unique names, cells in the declared order, and the csv header written
    /// from the declared columns equals the JSON object's keys (one definition, two renderers).
    fn check<R: Row>(sample: R) {
        check_schema(R::columns()).unwrap();
        check_schema(&Tenanted::<R>::schema()).unwrap_or(());
        assert_eq!(sample.cells().len(), R::columns().len());
        let keys: Vec<String> = sample.to_json().as_object().unwrap().keys().cloned().collect();
        let mut w = csv::Writer::from_writer(vec![]);
        w.write_record(R::columns().iter().map(|c| c.name)).unwrap();
        let header = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(header.trim_end(), keys.join(","));
    }

    #[test]
    fn every_row_type_declares_its_columns_once() {
        let now = OffsetDateTime::from_unix_timestamp(1_764_028_800).unwrap();
        let rel = GdapRelationship {
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
        let r = RelationshipRow::new(&rel, now);
        assert_eq!((r.days_left, r.ending_soon, r.auto_extend), (Some(12), true, false));
        assert_eq!(r.roles, ["Global Reader"]);
        check(r);
        check(CustomerRow {
            tenant_id: "x".into(),
            tenant_name: "Contoso".into(),
            default_domain: None,
            contract_type: None,
            relationship_status: "active".into(),
            relationship_end: None,
            sources: vec!["gdap".into()],
        });
        let mb = Mailbox {
            user_principal_name: "a@contoso.com".into(),
            ..Default::default()
        };
        check(MailboxRow::new(&mb, Ok(&MailboxStatistics::default())));
        check(MailboxRow::new(&mb, Err("not_found")));
        check(StaleMailboxRow::new(&mb, &MailboxStatistics::default(), now));
        check(DomainRow {
            domain: "contoso.com".into(),
            is_default: true,
            is_initial: false,
            is_verified: true,
            authentication_type: "Managed".into(),
            supported_services: vec!["Email".into()],
        });
        let sku = SkuUsage {
            sku_id: "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46".parse().unwrap(),
            part_number: "SPB".into(),
            capability_status: "Enabled".into(),
            enabled: 10,
            suspended: 0,
            warning: 0,
            locked_out: 0,
            consumed: 12,
        };
        let s = SkuRow::new(&sku, LicenceCatalog::builtin());
        assert_eq!((s.free, s.license.as_str()), (0, "Microsoft 365 Business Premium"));
        check(s);
        let u = UserInfo {
            id: "52eaad04-13a2-4a2f-9ce8-93a294fadf36".parse().unwrap(),
            user_principal_name: "a@contoso.com".into(),
            display_name: "A".into(),
            account_enabled: Some(true),
            usage_location: None,
            created: Some("2024-01-02T03:04:05Z".into()),
            licences: vec![sku.sku_id],
        };
        let mut rows = UserRows::new(LicenceCatalog::builtin());
        let row = rows.row(u.clone());
        assert_eq!(*row.licenses, ["SPB".to_owned()]);
        assert_eq!(*row.license_names, ["Microsoft 365 Business Premium".to_owned()]);
        assert_eq!(row.id.to_string(), "52eaad04-13a2-4a2f-9ce8-93a294fadf36");
        // Users holding the same SKUs share their labels; the tenant's own part numbers,
        // once given, replace the table's (labels built before are not reused).
        let again = rows.row(u.clone());
        assert!(Arc::ptr_eq(&row.licenses, &again.licenses));
        rows.set_parts(HashMap::from([(sku.sku_id, "SPB_TENANT".to_owned())]));
        assert_eq!(*rows.row(u).licenses, ["SPB_TENANT".to_owned()]);
        assert!(row.created.is_some());
        check(row);
        check(ImportResultRow {
            line: 2,
            tenant_id: None,
            tenant_name: "Contoso".into(),
            user_principal_name: "a@contoso.com".into(),
            result: "planned".into(),
            licenses: vec![],
            detail: String::new(),
        });
        check(LicenceResultRow {
            line: 2,
            tenant_id: None,
            tenant_name: "Contoso".into(),
            user_principal_name: "a@contoso.com".into(),
            sku: "SPB".into(),
            result: "assigned".into(),
            detail: String::new(),
        });
        check(DomainResultRow {
            tenant_id: "x".into(),
            tenant_name: "Contoso".into(),
            domain: "contoso.com".into(),
            result: "added".into(),
            detail: String::new(),
        });
        check(DnsRecordRow {
            domain: "contoso.com".into(),
            record_type: "Srv".into(),
            name: "_sipfederationtls._tcp.contoso.com".into(),
            value: "100 1 5061 sipfed.online.lync.com".into(),
            preference: None,
            ttl: 3600,
            is_optional: false,
            supported_service: Some("OfficeCommunicationsOnline".into()),
        });
    }
}

define_row! {
    /// `reports mfa`: one user's MFA and self-service password reset registration
    /// (Graph `userRegistrationDetails`).
    #[derive(Clone, Debug, PartialEq)]
    pub struct MfaRow {
        "userPrincipalName": Text => pub user_principal_name: String,
        "displayName": Text => pub display_name: String,
        "userType": Text => pub user_type: String,
        "isAdmin": Bool => pub is_admin: bool,
        "mfaCapable": Bool => pub mfa_capable: bool,
        "mfaRegistered": Bool => pub mfa_registered: bool,
        "adminWithoutMfa": Bool => pub admin_without_mfa: bool,
        "passwordlessCapable": Bool => pub passwordless_capable: bool,
        "ssprRegistered": Bool => pub sspr_registered: bool,
        "methods": List => pub methods: Vec<String>,
        "preferredMethod": Text => pub preferred_method: Option<String>,
        "lastUpdated": DateTime => pub last_updated: Option<OffsetDateTime>,
        "userId": Id => pub user_id: String,
    }
}

define_row! {
    /// `reports sign-ins`: one user's last sign-ins (Graph `signInActivity`, Entra ID P1).
    #[derive(Clone, Debug, PartialEq)]
    pub struct SignInRow {
        "userPrincipalName": Text => pub user_principal_name: String,
        "displayName": Text => pub display_name: String,
        "userType": Text => pub user_type: String,
        "accountEnabled": Bool => pub account_enabled: Option<bool>,
        "licensed": Bool => pub licensed: bool,
        "lastSignIn": DateTime => pub last_sign_in: Option<OffsetDateTime>,
        "lastNonInteractiveSignIn": DateTime => pub last_non_interactive: Option<OffsetDateTime>,
        "lastSuccessfulSignIn": DateTime => pub last_successful: Option<OffsetDateTime>,
        "daysSinceSignIn": Int => pub days_since: Option<i64>,
        "created": DateTime => pub created: Option<OffsetDateTime>,
        "userId": Id => pub user_id: String,
    }
}

define_row! {
    /// `reports guests`: one guest user.
    #[derive(Clone, Debug, PartialEq)]
    pub struct GuestRow {
        "userPrincipalName": Text => pub user_principal_name: String,
        "displayName": Text => pub display_name: String,
        "mail": Text => pub mail: Option<String>,
        "invitationState": Text => pub invitation_state: Option<String>,
        "invitationStateChanged": DateTime => pub state_changed: Option<OffsetDateTime>,
        "created": DateTime => pub created: Option<OffsetDateTime>,
        "accountEnabled": Bool => pub account_enabled: Option<bool>,
        "creationType": Text => pub creation_type: Option<String>,
        "userId": Id => pub user_id: String,
    }
}

define_row! {
    /// `reports admins`: one directory role held by one principal.
    #[derive(Clone, Debug, PartialEq)]
    pub struct AdminRow {
        "role": Text => pub role: String,
        "principalType": Text => pub principal_type: String,
        "userPrincipalName": Text => pub user_principal_name: Option<String>,
        "displayName": Text => pub display_name: Option<String>,
        "accountEnabled": Bool => pub account_enabled: Option<bool>,
        "scope": Text => pub scope: String,
        "principalId": Id => pub principal_id: String,
        "roleId": Id => pub role_id: String,
    }
}

define_row! {
    /// `reports active-users`: a licensed user with no activity in the days asked for (from
    /// the `getOffice365ActiveUserDetail` usage report).
    #[derive(Clone, Debug, PartialEq)]
    pub struct InactiveUserRow {
        "userPrincipalName": Text => pub user_principal_name: String,
        "displayName": Text => pub display_name: String,
        "assignedProducts": List => pub assigned_products: Vec<String>,
        "lastActivityDate": Date => pub last_activity: Option<time::Date>,
        "daysInactive": Int => pub days_inactive: Option<i64>,
        "exchangeLastActivity": Date => pub exchange: Option<time::Date>,
        "oneDriveLastActivity": Date => pub onedrive: Option<time::Date>,
        "sharePointLastActivity": Date => pub sharepoint: Option<time::Date>,
        "teamsLastActivity": Date => pub teams: Option<time::Date>,
        "namesConcealed": Bool => pub names_concealed: bool,
    }
}
