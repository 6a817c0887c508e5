//! Get-AcceptedDomain and Get-OrganizationConfig.
//!
//! Accepted domains are the tenant's verified domains that carry Email (domains added and
//! verified through Graph included): "When you add your domain to Microsoft 365 or Office 365,
//! it's called an accepted domain" [C learn.microsoft.com/exchange/mail-flow-best-practices/
//! manage-accepted-domains/manage-accepted-domains]; all Authoritative, the tenant's default
//! domain `Default` [I].

use super::Output;
use crate::ids::{hash, Guid};
use crate::odata::hash_str;
use crate::services::exchange::access::ExoCtx;
use crate::services::exchange::errors::ExoError;
use crate::services::exchange::params::Params;
use serde_json::{json, Map, Value};

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Get-AcceptedDomain (`-Identity` a domain name).
pub fn get_accepted_domain(ctx: &ExoCtx, p: &Params) -> Result<Output, ExoError> {
    p.check(&["Identity", "ResultSize"], &[])?;
    let _ = p.result_size()?;
    let id = p.string("Identity")?;
    let t = ctx.t();
    let rows: Vec<_> = ctx
        .sim
        .world
        .domains(t)
        .into_iter()
        .filter(|d| d.is_verified && d.supported_services.contains(&"Email"))
        .filter(|d| id.as_deref().is_none_or(|i| i.eq_ignore_ascii_case(&d.name)))
        .map(|d| {
            let guid = Guid::from_parts(&[hash(&[t.idx as u64, hash_str(&d.name.to_ascii_lowercase()), 0xAD])]);
            obj(json!({
                "Identity": d.name,
                "Name": d.name,
                "DomainName": d.name,
                "DomainType": "Authoritative",
                "Default": d.is_default,
                "InitialDomain": d.is_initial,
                "MatchSubDomains": false,
                "SendingFromDomainDisabled": false,
                "AddressBookEnabled": true,
                "AuthenticationType": d.authentication_type,
                "Guid": guid.to_string(),
            }))
        })
        .collect();
    if let Some(i) = id {
        if rows.is_empty() {
            return Err(ExoError::not_found(&i, &ctx.server()));
        }
    }
    Ok(Output { rows, warnings: vec![] })
}

/// Get-OrganizationConfig: one object (CIPP's access test reads it; contract §1.7).
pub fn get_organization_config(ctx: &ExoCtx, p: &Params) -> Result<Output, ExoError> {
    p.check(&["Identity"], &[])?;
    let t = ctx.t();
    let row = obj(json!({
        "Identity": t.initial_domain,
        "Name": t.initial_domain,
        "DisplayName": t.display_name,
        "Guid": Guid::from_parts(&[t.idx as u64, 0x0C]).to_string(),
        "ExternalDirectoryOrganizationId": t.id.to_string(),
        "IsDehydrated": false,
        "AuditDisabled": false,
        "AutoExpandingArchiveEnabled": false,
        "AutoEnableArchiveMailbox": false,
        "AutoArchivingThresholdPercentage": 90,
        "BookingsEnabled": true,
        "EwsEnabled": null,
        "MessageRecallEnabled": null,
        "DlpViaDcsEnabled": false,
        "CustomerLockboxEnabled": false,
        "FocusedInboxOn": null,
        "OnlineMeetingsByDefaultEnabled": null,
        "RejectDirectSend": false,
        "SendFromAliasEnabled": false,
        "TwoClickMailPreviewEnabled": false,
        "OAuth2ClientProfileEnabled": true,
        "WhenCreated": crate::services::exchange::render::date(t.created),
    }));
    Ok(Output {
        rows: vec![row],
        warnings: vec![],
    })
}
