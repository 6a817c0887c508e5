//! The cmdlets the simulator runs (contract §1.7), one module per concern. A cmdlet checks
//! its parameters (unknown → ParameterBindingException, missing mandatory likewise) and
//! returns rows and warnings; paging and `$select` are [`super::invoke`]'s.

pub mod domains;
pub mod mailbox;
pub mod permissions;
pub mod statistics;
pub mod trace;

use super::access::{ExoCtx, ExoRole};
use super::errors::ExoError;
use super::params::Params;
use serde_json::{Map, Value};

/// What a cmdlet returns.
#[derive(Debug, Default)]
pub struct Output {
    pub rows: Vec<Map<String, Value>>,
    pub warnings: Vec<String>,
}

type Run = fn(&ExoCtx, &Params) -> Result<Output, ExoError>;

/// The cmdlet table: name, whether it writes, and its implementation.
const CMDLETS: &[(&str, bool, Run)] = &[
    ("Get-Mailbox", false, mailbox::get_mailbox),
    ("Set-Mailbox", true, mailbox::set_mailbox),
    ("Get-MailboxStatistics", false, statistics::get_mailbox_statistics),
    ("Get-AcceptedDomain", false, domains::get_accepted_domain),
    ("Get-OrganizationConfig", false, domains::get_organization_config),
    ("Get-MessageTraceV2", false, trace::get_message_trace_v2),
    ("Get-MailboxPermission", false, permissions::get_mailbox_permission),
    ("Add-MailboxPermission", true, permissions::add_mailbox_permission),
];

/// The cmdlet names the simulator knows.
pub fn names() -> impl Iterator<Item = &'static str> {
    CMDLETS.iter().map(|c| c.0)
}

/// Runs cmdlet `name` (case-insensitive). A cmdlet the caller's role lacks is absent from its
/// session, as in Exchange RBAC: the same CommandNotFoundException as an unknown one.
pub fn dispatch(ctx: &ExoCtx, name: &str, params: &Params) -> Result<Output, ExoError> {
    let (_, write, run) = CMDLETS
        .iter()
        .find(|c| c.0.eq_ignore_ascii_case(name))
        .ok_or_else(|| ExoError::command_not_found(name))?;
    if *write && ctx.role != ExoRole::Full {
        return Err(ExoError::command_not_found(name));
    }
    run(ctx, params)
}
