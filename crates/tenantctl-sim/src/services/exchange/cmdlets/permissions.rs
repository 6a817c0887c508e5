//! Get-MailboxPermission and Add-MailboxPermission
//! (learn.microsoft.com/powershell/module/exchange/add-mailboxpermission).

use super::mailbox::resolve;
use super::Output;
use crate::services::exchange::access::ExoCtx;
use crate::services::exchange::errors::ExoError;
use crate::services::exchange::params::Params;
use crate::world::mailboxes::{Mailbox, MailboxPermission};
use serde_json::{json, Map, Value};

/// -AccessRights values [C Learn Add-MailboxPermission].
const ACCESS_RIGHTS: &[&str] = &[
    "ChangeOwner",
    "ChangePermission",
    "DeleteItem",
    "ExternalAccount",
    "FullAccess",
    "ReadPermission",
];

/// -InheritanceType values [C Learn Add-MailboxPermission].
const INHERITANCE: &[&str] = &["None", "All", "Children", "Descendents", "SelfAndChildren"];

fn row(m: &Mailbox, user: &str, rights: &[String], inheritance: &str, inherited: bool) -> Map<String, Value> {
    match json!({
        "Identity": m.name,
        "User": user,
        "AccessRights": rights,
        "IsInherited": inherited,
        "Deny": false,
        "InheritanceType": inheritance,
    }) {
        Value::Object(o) => o,
        _ => Map::new(),
    }
}

fn canonical(list: &[&str], v: &str) -> Option<String> {
    list.iter()
        .find(|x| x.eq_ignore_ascii_case(v.trim()))
        .map(|s| s.to_string())
}

/// Get-MailboxPermission: the mailbox owner's own entry plus granted ones.
pub fn get_mailbox_permission(ctx: &ExoCtx, p: &Params) -> Result<Output, ExoError> {
    p.check(&["Identity", "User", "Owner", "ResultSize"], &["Identity"])?;
    let m = resolve(ctx, &p.string("Identity")?.unwrap_or_default())?;
    let user = p.string("User")?;
    let self_rights = vec!["FullAccess".to_owned(), "ReadPermission".to_owned()];
    let mut rows = vec![row(&m, "NT AUTHORITY\\SELF", &self_rights, "All", false)];
    for g in ctx.sim.world.tenant(ctx.t()).mailbox_permissions(m.user_id) {
        rows.push(row(&m, &g.user, &g.access_rights, &g.inheritance_type, false));
    }
    if let Some(u) = user {
        rows.retain(|r| r["User"].as_str().is_some_and(|x| x.eq_ignore_ascii_case(&u)));
    }
    Ok(Output { rows, warnings: vec![] })
}

/// Add-MailboxPermission: returns the added entry, as Exchange does.
pub fn add_mailbox_permission(ctx: &ExoCtx, p: &Params) -> Result<Output, ExoError> {
    p.check(
        &[
            "Identity",
            "User",
            "AccessRights",
            "InheritanceType",
            "AutoMapping",
            "Deny",
            "Owner",
        ],
        &["Identity", "User", "AccessRights"],
    )?;
    let m = resolve(ctx, &p.string("Identity")?.unwrap_or_default())?;
    let user_key = p.string("User")?.unwrap_or_default();
    let trustee = resolve(ctx, &user_key)?;
    let mut rights = vec![];
    for r in p.strings("AccessRights")?.unwrap_or_default() {
        // "FullAccess, ReadPermission" as one string is allowed too.
        for part in r.split(',') {
            let c = canonical(ACCESS_RIGHTS, part).ok_or_else(|| {
                ExoError::bad_value(
                    "AccessRights",
                    part.trim(),
                    "Microsoft.Exchange.Management.RecipientTasks.MailboxRights[]",
                    &format!(
                        "Unable to match the identifier name {} to a valid enumerator name. Specify one of the following enumerator names and try again: {}",
                        part.trim(),
                        ACCESS_RIGHTS.join(", ")
                    ),
                )
            })?;
            if !rights.contains(&c) {
                rights.push(c);
            }
        }
    }
    let inheritance = match p.string("InheritanceType")? {
        None => "All".to_owned(),
        Some(s) => canonical(INHERITANCE, &s).ok_or_else(|| {
            ExoError::bad_value(
                "InheritanceType",
                &s,
                "System.DirectoryServices.ActiveDirectorySecurityInheritance",
                &format!(
                    "Unable to match the identifier name {s} to a valid enumerator name. Specify one of the following enumerator names and try again: {}",
                    INHERITANCE.join(", ")
                ),
            )
        })?,
    };
    let auto_mapping = p.bool("AutoMapping")?.unwrap_or(true);
    ctx.sim.world.add_mailbox_permission(
        ctx.t(),
        MailboxPermission {
            mailbox: m.user_id,
            user: trustee.user_principal_name.clone(),
            access_rights: rights.clone(),
            inheritance_type: inheritance.clone(),
            auto_mapping,
        },
    );
    ctx.sim.save_state_now().map_err(|e| {
        ExoError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            crate::services::exchange::errors::exceptions::ODATA_SERVICE,
            format!("The simulator could not save its state: {e}"),
        )
    })?;
    Ok(Output {
        rows: vec![row(&m, &trustee.user_principal_name, &rights, &inheritance, false)],
        warnings: vec![],
    })
}
