//! Get-Mailbox and Set-Mailbox (learn.microsoft.com/powershell/module/exchange/get-mailbox,
//! …/set-mailbox; CIPP's calls in contract §1.7).

use super::Output;
use crate::services::exchange::access::ExoCtx;
use crate::services::exchange::errors::{exceptions, ExoError};
use crate::services::exchange::filter;
use crate::services::exchange::params::{Params, ResultSize};
use crate::services::exchange::render;
use crate::world::mailboxes::{Mailbox, MailboxSettings, Quota};
use axum::http::StatusCode;

/// Get-Mailbox's `-ResultSize` default: "The default value is 1000" [C Learn Get-Mailbox].
pub const DEFAULT_RESULT_SIZE: usize = 1000;

/// Exchange's warning when -ResultSize cut the result [O, quoted in contract §1.4].
pub const MORE_RESULTS_WARNING: &str = "There are more results available than are currently displayed. To view them, increase the value for the ResultSize parameter.";

/// -RecipientTypeDetails values Get-Mailbox accepts [C Learn Get-Mailbox].
const RECIPIENT_TYPE_DETAILS: &[&str] = &[
    "DiscoveryMailbox",
    "EquipmentMailbox",
    "GroupMailbox",
    "LegacyMailbox",
    "LinkedMailbox",
    "LinkedRoomMailbox",
    "RoomMailbox",
    "SchedulingMailbox",
    "SharedMailbox",
    "TeamMailbox",
    "UserMailbox",
];

/// The mailbox -Identity names, or Exchange's 404.
pub fn resolve(ctx: &ExoCtx, identity: &str) -> Result<Mailbox, ExoError> {
    let mut found = ctx.sim.world.tenant(ctx.t()).find_mailboxes(identity, ctx.now);
    match found.len() {
        0 => Err(ExoError::not_found(identity, &ctx.server())),
        1 => Ok(found.remove(0)),
        _ => Err(ExoError::ambiguous(identity)),
    }
}

/// The tenant's mailbox rows after -RecipientTypeDetails / -Anr / -Filter.
fn listed(ctx: &ExoCtx, p: &Params) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, ExoError> {
    let types = p.strings("RecipientTypeDetails")?;
    if let Some(ts) = &types {
        for t in ts {
            if !RECIPIENT_TYPE_DETAILS.iter().any(|k| k.eq_ignore_ascii_case(t.trim())) {
                return Err(ExoError::bad_value(
                    "RecipientTypeDetails",
                    t,
                    "Microsoft.Exchange.Data.Directory.Recipient.RecipientTypeDetails[]",
                    &format!(
                        "Unable to match the identifier name {t} to a valid enumerator name. Specify one of the following enumerator names and try again: {}",
                        RECIPIENT_TYPE_DETAILS.join(", ")
                    ),
                ));
            }
        }
    }
    let f = p.string("Filter")?.map(|s| filter::parse(&s)).transpose()?;
    let anr = p.string("Anr")?.map(|s| s.to_ascii_lowercase());
    let org = ctx.t().initial_domain.clone();
    let view = ctx.sim.world.tenant(ctx.t());
    let mut rows = vec![];
    for m in view.mailboxes(ctx.now) {
        if let Some(ts) = &types {
            if !ts.iter().any(|t| t.trim().eq_ignore_ascii_case(m.kind.type_details())) {
                continue;
            }
        }
        if let Some(a) = &anr {
            let hit = [&m.name, &m.alias, &m.display_name, &m.user_principal_name]
                .iter()
                .any(|s| s.to_ascii_lowercase().starts_with(a.as_str()));
            if !hit {
                continue;
            }
        }
        let row = render::mailbox(&m, &org);
        if let Some(f) = &f {
            f.check_props(&row)?;
            if !f.matches(&row) {
                continue;
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

/// Get-Mailbox.
pub fn get_mailbox(ctx: &ExoCtx, p: &Params) -> Result<Output, ExoError> {
    p.check(
        &[
            "Identity",
            "ResultSize",
            "RecipientTypeDetails",
            "Filter",
            "Anr",
            "IncludeInactiveMailbox",
            "SoftDeletedMailbox",
            "InactiveMailboxOnly",
            "Archive",
            "PropertySets",
        ],
        &[],
    )?;
    let size = p.result_size()?;
    // No soft-deleted or inactive mailboxes exist in the simulator.
    if p.bool("SoftDeletedMailbox")? == Some(true) || p.bool("InactiveMailboxOnly")? == Some(true) {
        return Ok(Output::default());
    }
    if let Some(id) = p.string("Identity")? {
        let m = resolve(ctx, &id)?;
        let org = ctx.t().initial_domain.clone();
        return Ok(Output {
            rows: vec![render::mailbox(&m, &org)],
            warnings: vec![],
        });
    }
    let mut rows = listed(ctx, p)?;
    let limit = size.unwrap_or(ResultSize::Limit(DEFAULT_RESULT_SIZE)).limit();
    let mut warnings = vec![];
    if rows.len() > limit {
        rows.truncate(limit);
        warnings.push(MORE_RESULTS_WARNING.to_owned());
    }
    Ok(Output { rows, warnings })
}

fn quota(p: &Params, name: &str) -> Result<Option<Quota>, ExoError> {
    match p.string(name)? {
        None => Ok(None),
        Some(s) => Quota::parse(&s).map(Some).ok_or_else(|| {
            ExoError::bad_value(
                name,
                &s,
                "Microsoft.Exchange.Data.Unlimited`1[Microsoft.Exchange.Data.ByteQuantifiedSize]",
                &format!(
                    "The value \"{s}\" isn't valid. Valid values are a size (for example 50 GB, 1024 MB) or Unlimited."
                ),
            )
        }),
    }
}

/// Set-Mailbox: forwarding, GAL visibility and quotas, kept in the overlay (state.json).
pub fn set_mailbox(ctx: &ExoCtx, p: &Params) -> Result<Output, ExoError> {
    p.check(
        &[
            "Identity",
            "ForwardingSmtpAddress",
            "ForwardingAddress",
            "DeliverToMailboxAndForward",
            "HiddenFromAddressListsEnabled",
            "ProhibitSendQuota",
            "ProhibitSendReceiveQuota",
            "IssueWarningQuota",
            "Force",
        ],
        &["Identity"],
    )?;
    let id = p.string("Identity")?.unwrap_or_default();
    let mut change = MailboxSettings::default();
    if p.has("ForwardingSmtpAddress") {
        change.forwarding_smtp_address = Some(match p.string("ForwardingSmtpAddress")? {
            None => None,
            Some(s) if s.trim().is_empty() => None,
            Some(s) => {
                let addr = s.trim();
                let addr = addr
                    .strip_prefix("smtp:")
                    .or_else(|| addr.strip_prefix("SMTP:"))
                    .unwrap_or(addr);
                let valid = addr
                    .split_once('@')
                    .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !addr.contains(' '));
                if !valid {
                    return Err(ExoError::bad_value(
                        "ForwardingSmtpAddress",
                        &s,
                        "Microsoft.Exchange.Data.ProxyAddress",
                        &format!("The address '{s}' is invalid: \"{s}\" isn't a valid SMTP address."),
                    ));
                }
                Some(format!("smtp:{addr}"))
            }
        });
    }
    if p.has("ForwardingAddress") {
        change.forwarding_address = Some(match p.string("ForwardingAddress")? {
            None => None,
            Some(s) if s.trim().is_empty() => None,
            Some(s) => {
                let target = ctx
                    .sim
                    .world
                    .tenant(ctx.t())
                    .find_mailbox(&s, ctx.now)
                    .ok_or_else(|| {
                        ExoError::new(
                            StatusCode::NOT_FOUND,
                            "NotFound",
                            exceptions::OBJECT_NOT_FOUND,
                            format!("Couldn't find object \"{s}\". Please make sure that it was spelled correctly or specify a different object."),
                        )
                    })?;
                Some(target.name)
            }
        });
    }
    change.deliver_to_mailbox_and_forward = p.bool("DeliverToMailboxAndForward")?;
    change.hidden_from_address_lists = p.bool("HiddenFromAddressListsEnabled")?;
    change.prohibit_send_quota = quota(p, "ProhibitSendQuota")?;
    change.prohibit_send_receive_quota = quota(p, "ProhibitSendReceiveQuota")?;
    change.issue_warning_quota = quota(p, "IssueWarningQuota")?;
    let before = resolve(ctx, &id)?;
    let mut after = before.clone();
    crate::world::mailboxes::apply(&mut after, &change);
    if after == before {
        // Exchange's warning for a Set-* that changed nothing.
        return Ok(Output {
            rows: vec![],
            warnings: vec![format!(
                "The command completed successfully but no settings of '{}' have been modified.",
                before.name
            )],
        });
    }
    ctx.sim
        .world
        .set_mailbox(ctx.t(), before.user_id, change)
        .map_err(|_| ExoError::not_found(&id, &ctx.server()))?;
    ctx.sim.save_state_now().map_err(|e| {
        ExoError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            exceptions::ODATA_SERVICE,
            format!("The simulator could not save its state: {e}"),
        )
    })?;
    Ok(Output::default())
}
