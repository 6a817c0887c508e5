//! Wire rows: the PowerShell objects as `InvokeCommand` returns them (PascalCase property
//! names, JSON booleans, quotas as ByteQuantifiedSize text, `EmailAddresses` a list with
//! prefixes; contract §1.4, §1.7).
//!
//! Dates: ISO 8601 UTC with seconds and `Z` (`2026-11-25T10:00:00Z`) or null. The service's
//! JSON date form is not documented; the contract's check accepts ISO 8601 [I].

use crate::ids::Guid;
use crate::world::mailboxes::{byte_quantified, Mailbox};
use serde_json::{json, Map, Value};
use std::time::{Duration, UNIX_EPOCH};

/// The nil GUID Exchange shows for a missing archive [C CIPP].
pub const NIL_GUID: &str = "00000000-0000-0000-0000-000000000000";

/// A Unix time in the documented date form.
pub fn date(unix: i64) -> String {
    crate::platform::clock::rfc3339(UNIX_EPOCH + Duration::from_secs(unix.max(0) as u64))
}

fn opt_date(t: Option<i64>) -> Value {
    t.map(|t| Value::String(date(t))).unwrap_or(Value::Null)
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// A Get-Mailbox row.
pub fn mailbox(m: &Mailbox, org: &str) -> Map<String, Value> {
    let archive = m.archive_guid.map(|g| g.to_string());
    let mut row = obj(json!({
        "Identity": m.name,
        "Name": m.name,
        "Alias": m.alias,
        "DisplayName": m.display_name,
        "UserPrincipalName": m.user_principal_name,
        "PrimarySmtpAddress": m.primary_smtp_address,
        "EmailAddresses": m.email_addresses,
        "RecipientType": "UserMailbox",
        "RecipientTypeDetails": m.kind.type_details(),
        "ExternalDirectoryObjectId": m.user_id.to_string(),
        "ExchangeGuid": m.exchange_guid.to_string(),
        "Guid": m.guid.to_string(),
        "Id": m.name,
        "OrganizationId": org,
        "ArchiveGuid": archive.clone().unwrap_or_else(|| NIL_GUID.into()),
        "ArchiveStatus": if archive.is_some() { "Active" } else { "None" },
        "ArchiveName": if archive.is_some() { json!([format!("In-Place Archive -{}", m.display_name)]) } else { json!([]) },
        "ArchiveQuota": "100 GB (107,374,182,400 bytes)",
        "ArchiveWarningQuota": "90 GB (96,636,764,160 bytes)",
        "AutoExpandingArchiveEnabled": false,
    }));
    row.extend(obj(json!({
        "LitigationHoldEnabled": m.litigation_hold.is_some(),
        "LitigationHoldDate": opt_date(m.litigation_hold),
        "LitigationHoldDuration": "Unlimited",
        "LitigationHoldOwner": if m.litigation_hold.is_some() { Value::String(format!("admin@{org}")) } else { Value::Null },
        "InPlaceHolds": [],
        "ProhibitSendQuota": m.prohibit_send_quota.text(),
        "ProhibitSendReceiveQuota": m.prohibit_send_receive_quota.text(),
        "IssueWarningQuota": m.issue_warning_quota.text(),
        "RecoverableItemsQuota": "30 GB (32,212,254,720 bytes)",
        "RecoverableItemsWarningQuota": "20 GB (21,474,836,480 bytes)",
        "UseDatabaseQuotaDefaults": false,
        "HiddenFromAddressListsEnabled": m.hidden_from_address_lists,
        "ForwardingSmtpAddress": m.forwarding_smtp_address,
        "ForwardingAddress": m.forwarding_address,
        "DeliverToMailboxAndForward": m.deliver_to_mailbox_and_forward,
        "GrantSendOnBehalfTo": [],
        "WhenCreated": date(m.when_created),
        "WhenCreatedUTC": date(m.when_created),
        "WhenMailboxCreated": date(m.when_created),
        "WhenChanged": date(m.when_created),
        "WhenSoftDeleted": null,
        "RetentionPolicy": "Default MRM Policy",
        "RetainDeletedItemsFor": "14.00:00:00",
        "AuditEnabled": true,
        "SingleItemRecoveryEnabled": true,
        "IsInactiveMailbox": false,
        "IsMailboxEnabled": true,
        "IsResource": matches!(m.kind.type_details(), "RoomMailbox" | "EquipmentMailbox"),
        "IsShared": m.kind.type_details() == "SharedMailbox",
        "AccountDisabled": m.account_disabled,
        "ResourceType": match m.kind.type_details() { "RoomMailbox" => Value::from("Room"), "EquipmentMailbox" => Value::from("Equipment"), _ => Value::Null },
        "PersistedCapabilities": m.persisted_capabilities,
        "MessageCopyForSentAsEnabled": false,
        "MessageCopyForSendOnBehalfEnabled": false,
        "UsageLocation": null,
    })));
    row
}

/// A Get-MailboxStatistics row (`archive`: the archive mailbox's statistics).
pub fn statistics(m: &Mailbox, org_id: Guid, archive: bool) -> Map<String, Value> {
    let a = &m.activity;
    let (items, bytes, deleted_items, deleted_bytes) = if archive {
        (a.archive_item_count, a.archive_bytes, 0, 0)
    } else {
        (
            a.item_count,
            a.total_item_bytes,
            a.deleted_item_count,
            a.total_deleted_item_bytes,
        )
    };
    let limit = match m.prohibit_send_receive_quota {
        crate::world::mailboxes::Quota::Bytes(b) => b,
        crate::world::mailboxes::Quota::Unlimited => u64::MAX,
    };
    obj(json!({
        "DisplayName": m.display_name,
        "MailboxGuid": if archive { m.archive_guid.unwrap_or(m.exchange_guid) } else { m.exchange_guid }.to_string(),
        "ExternalDirectoryOrganizationId": org_id.to_string(),
        "OwnerADGuid": m.guid.to_string(),
        "IsArchiveMailbox": archive,
        "MailboxType": "Private",
        "MailboxTypeDetail": m.kind.type_detail_stats(),
        "ItemCount": items,
        "AssociatedItemCount": items / 40 + 12,
        "DeletedItemCount": deleted_items,
        "TotalItemSize": byte_quantified(bytes),
        "TotalDeletedItemSize": byte_quantified(deleted_bytes),
        "LastLogonTime": opt_date(a.last_logon),
        "LastLogoffTime": opt_date(a.last_logoff),
        "LastLoggedOnUserAccount": null,
        "LastInteractionTime": opt_date(a.last_interaction),
        "LastUserActionTime": opt_date(a.last_user_action),
        "StorageLimitStatus": if bytes >= limit { "MailboxDisabled" } else { "BelowLimit" },
        "DatabaseIssueWarningQuota": m.issue_warning_quota.text(),
        "DatabaseProhibitSendQuota": m.prohibit_send_quota.text(),
        "DatabaseProhibitSendReceiveQuota": m.prohibit_send_receive_quota.text(),
        "IsQuarantined": false,
        "Identity": m.exchange_guid.to_string(),
    }))
}
