//! Get-MailboxStatistics (learn.microsoft.com/powershell/module/exchange/get-mailboxstatistics):
//! `-Identity` (mandatory here, as CIPP always sends it), `-Archive` for the archive mailbox.

use super::mailbox::resolve;
use super::Output;
use crate::services::exchange::access::ExoCtx;
use crate::services::exchange::errors::{exceptions, ExoError};
use crate::services::exchange::params::Params;
use crate::services::exchange::render;
use axum::http::StatusCode;

/// Get-MailboxStatistics.
pub fn get_mailbox_statistics(ctx: &ExoCtx, p: &Params) -> Result<Output, ExoError> {
    p.check(
        &[
            "Identity",
            "Archive",
            "IncludeSoftDeletedRecipients",
            "IncludeMoveReport",
        ],
        &["Identity"],
    )?;
    let id = p.string("Identity")?.unwrap_or_default();
    let archive = p.bool("Archive")?.unwrap_or(false);
    let m = resolve(ctx, &id)?;
    if archive && m.archive_guid.is_none() {
        // [I] text: the mailbox has no archive.
        return Err(ExoError::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            exceptions::TASK_ARGUMENT,
            format!("The mailbox '{}' doesn't have an archive.", m.name),
        ));
    }
    Ok(Output {
        rows: vec![render::statistics(&m, ctx.t().id, archive)],
        warnings: vec![],
    })
}
