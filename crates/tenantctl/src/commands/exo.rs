//! `exo`: any Exchange Online cmdlet in one customer or all of them, over Exchange's admin
//! REST API (what the Exchange Online V3 module calls), without PowerShell.

use crate::args::{ConfirmArgs, ExoFanoutArgs, Global, OutputArgs, TenantsArgs};
use crate::progress::Progress;
use crate::ui;
use anyhow::{anyhow, bail, Result};
use clap::CommandFactory;
use std::ffi::OsString;
use tenantctl_clients::exchange::Cmdlet;
use tenantctl_core::pwsh::{self, CmdletCall};
use tenantctl_core::rows::{Cell, TENANT_COLUMNS};
use tenantctl_ops::exchange::{self, CmdletRun, ExoItem};
use tenantctl_ops::{targets, Flow, Session};

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tenantctl exo --tenant contoso.com Get-Mailbox -ResultSize Unlimited -RecipientTypeDetails SharedMailbox
  tenantctl exo --all-tenants Get-MailboxStatistics -Identity admin@contoso.com -o json
  tenantctl exo -t contoso.com Set-Mailbox -Identity adele@contoso.com -HiddenFromAddressListsEnabled:$true --what-if
  tenantctl exo -t contoso.com \"Get-Mailbox -Filter \\\"RecipientTypeDetails -eq 'RoomMailbox'\\\"\"
  tenantctl exo -t contoso.com Get-Mailbox --params-json '{\"ResultSize\":\"Unlimited\"}'

tenantctl's own options go before the cmdlet (long ones such as --tenant or --out are also
understood after it). The cmdlet's parameters follow it in PowerShell's syntax: -Name value,
-Switch, -Flag:$false, a,b arrays, 'quoted strings', $true/$false/$null, @{Add='x'}.")]
pub struct Args {
    #[command(flatten)]
    pub tenants: TenantsArgs,
    /// The cmdlet's parameters as one JSON object instead of PowerShell syntax.
    #[arg(long, value_name = "JSON")]
    pub params_json: Option<String>,
    #[command(flatten)]
    pub confirm: ConfirmArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub fanout: ExoFanoutArgs,
    /// The cmdlet, then its parameters in PowerShell syntax.
    #[arg(
        required = true,
        num_args = 1..,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMDLET [-PARAMETER VALUE]..."
    )]
    pub command: Vec<String>,
}

/// The cmdlet call the words describe (`--params-json` or PowerShell syntax).
fn cmdlet_call(a: &Args) -> Result<CmdletCall> {
    let r = match &a.params_json {
        Some(json) => {
            if a.command.len() != 1 {
                bail!(
                    "--params-json gives every parameter; after the cmdlet name ({}) nothing else may follow",
                    a.command[0]
                );
            }
            pwsh::from_json(&a.command[0], json)
        }
        None => pwsh::parse_args(&a.command),
    };
    r.map_err(|e| anyhow!("{e}"))
}

/// The properties `--select` names, sent as `$select` (the tenant columns are tenantctl's).
fn server_select(o: &OutputArgs) -> Option<String> {
    let names: Vec<&str> = o
        .select
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|n| !n.is_empty() && !TENANT_COLUMNS.iter().any(|c| c.name.eq_ignore_ascii_case(n)))
        .collect();
    (!names.is_empty()).then(|| names.join(","))
}

pub async fn exec(g: &Global, a: Args) -> Result<i32> {
    let call = cmdlet_call(&a)?;
    let read_only = call.is_read_only();
    let cmdlet = Cmdlet::new(&call.name, call.parameters.clone(), read_only);
    let session = Session::connect(&g.connect_options()).await?;
    let purpose = if read_only {
        targets::Purpose::Read
    } else {
        targets::Purpose::Write {
            partner_tenant: a.confirm.partner_tenant,
        }
    };
    let targets = targets::select_for(&session, &a.tenants.selection(), purpose).await?;
    if !read_only {
        if a.confirm.what_if {
            let body = serde_json::to_string(&call.to_body())?;
            for t in &targets {
                println!("what-if: {} ({}): InvokeCommand {body}", t.name, t.id);
            }
            eprintln!("what-if: nothing was changed");
            return Ok(0);
        }
        let what = format!("run {}", call.name);
        ui::confirm_write(&session, &what, targets.len(), targets.len(), a.confirm.yes)?;
    }
    ui::check_status_out(&a.output)?;
    let spec = ui::output_spec(&a.output, &["tenantName"]);
    let mut sink = tenantctl_output::open_dynamic(&spec, TENANT_COLUMNS.to_vec(), ui::stdout_is_terminal())
        .map_err(|e| anyhow!("{e}"))?;
    let run = ui::run_options(&a.fanout.fanout());
    let what = CmdletRun {
        cmdlet,
        select: server_select(&a.output),
    };
    let mut progress = Progress::new(targets.len(), g.quiet);
    let mut write_error = None;
    let summary = exchange::run_cmdlet(&session, targets, what, &run, |r| {
        progress.tenant_done(r.outcome.status.is_ok(), r.outcome.rows);
        let fixed = || vec![Cell::Text(r.target.id.to_string()), Cell::Text(r.target.name.clone())];
        for item in &r.items {
            match item {
                ExoItem::Warning(w) => eprintln!("warning: {}: {w}", r.target.name),
                ExoItem::Row(props) => {
                    if let Err(e) = sink.write_row(fixed(), props) {
                        write_error = Some(e);
                        return Flow::Stop;
                    }
                }
            }
        }
        Flow::Continue
    })
    .await?;
    progress.finish();
    if let Some(e) = write_error {
        bail!("writing the output: {e}");
    }
    let completed = ui::finish_dynamic(sink, &summary.outcomes)?;
    ui::conclude(g, &a.output, completed, &summary, &session, &run.stop)
}

/// Moves tenantctl's own long options written after the cmdlet before it, so that
/// `tenantctl exo Get-Mailbox -ResultSize 10 --tenant contoso.com -o json` means what it
/// says. PowerShell parameters take one dash, so a `--name` is always tenantctl's; a bare
/// `--` ends this (what follows goes to the cmdlet untouched). Other commands' argv is
/// returned as is.
pub fn hoist_options(argv: Vec<OsString>) -> Vec<OsString> {
    let cli = crate::cli::Cli::command();
    let Some(exo) = cli.find_subcommand("exo") else {
        return argv;
    };
    let takes_value = |name: &str| -> Option<bool> {
        cli.get_arguments()
            .chain(exo.get_arguments())
            .find(|a| a.get_long() == Some(name) || a.get_all_aliases().is_some_and(|al| al.contains(&name)))
            .map(|a| a.get_action().takes_values())
    };
    let short_takes_value = |c: char| -> bool {
        cli.get_arguments()
            .chain(exo.get_arguments())
            .find(|a| a.get_short() == Some(c))
            .is_some_and(|a| a.get_action().takes_values())
    };
    let words: Vec<String> = argv.iter().map(|w| w.to_string_lossy().into_owned()).collect();
    // Find `exo`, then the cmdlet: the first word that is neither an option nor its value.
    let mut i = 1;
    let mut seen_exo = false;
    let mut cmdlet_at = None;
    while i < words.len() {
        let w = &words[i];
        if let Some(long) = w.strip_prefix("--") {
            if long.is_empty() {
                break;
            }
            let consumes = !long.contains('=') && takes_value(long).unwrap_or(false);
            i += if consumes { 2 } else { 1 };
            continue;
        }
        if w.starts_with('-') && w.len() > 1 && !seen_exo {
            let c = w.chars().nth(1).unwrap_or('-');
            i += if w.len() == 2 && short_takes_value(c) { 2 } else { 1 };
            continue;
        }
        if !seen_exo {
            if w != "exo" {
                return argv;
            }
            seen_exo = true;
            i += 1;
            continue;
        }
        if w.starts_with('-') && w.len() > 1 {
            let c = w.chars().nth(1).unwrap_or('-');
            i += if w.len() == 2 && short_takes_value(c) { 2 } else { 1 };
            continue;
        }
        cmdlet_at = Some(i);
        break;
    }
    let Some(at) = cmdlet_at else {
        return argv;
    };
    let mut hoisted: Vec<OsString> = vec![];
    let mut rest: Vec<OsString> = vec![];
    let mut j = at;
    while j < argv.len() {
        let w = &words[j];
        if w == "--" {
            rest.extend(argv[j + 1..].iter().cloned());
            break;
        }
        if let Some(long) = w.strip_prefix("--") {
            if let Some(tv) = takes_value(long.split('=').next().unwrap_or(long)) {
                hoisted.push(argv[j].clone());
                if tv && !long.contains('=') && j + 1 < argv.len() {
                    hoisted.push(argv[j + 1].clone());
                    j += 1;
                }
                j += 1;
                continue;
            }
        }
        rest.push(argv[j].clone());
        j += 1;
    }
    let mut out: Vec<OsString> = argv[..at].to_vec();
    out.extend(hoisted);
    out.extend(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hoist(words: &[&str]) -> Vec<String> {
        hoist_options(words.iter().map(OsString::from).collect())
            .into_iter()
            .map(|w| w.into_string().unwrap())
            .collect()
    }

    #[test]
    fn long_options_after_the_cmdlet_move_before_it() {
        assert_eq!(
            hoist(&[
                "tenantctl",
                "exo",
                "Get-Mailbox",
                "-ResultSize",
                "10",
                "--tenant",
                "contoso.com",
                "--output",
                "json"
            ]),
            [
                "tenantctl",
                "exo",
                "--tenant",
                "contoso.com",
                "--output",
                "json",
                "Get-Mailbox",
                "-ResultSize",
                "10"
            ]
        );
        assert_eq!(
            hoist(&[
                "tenantctl",
                "--sandbox",
                "exo",
                "-t",
                "x",
                "Get-Mailbox",
                "--out=a.csv",
                "-Archive"
            ]),
            [
                "tenantctl",
                "--sandbox",
                "exo",
                "-t",
                "x",
                "--out=a.csv",
                "Get-Mailbox",
                "-Archive"
            ]
        );
        // Global options after the cmdlet too; switches take no value.
        assert_eq!(
            hoist(&[
                "tenantctl",
                "exo",
                "Get-Mailbox",
                "--sandbox",
                "--all-tenants",
                "-Identity",
                "a"
            ]),
            [
                "tenantctl",
                "exo",
                "--sandbox",
                "--all-tenants",
                "Get-Mailbox",
                "-Identity",
                "a"
            ]
        );
    }

    #[test]
    fn powershell_words_and_other_commands_are_left_alone() {
        let same = ["tenantctl", "users", "list", "--tenant", "x"];
        assert_eq!(hoist(&same), same);
        let ps = [
            "tenantctl",
            "exo",
            "-t",
            "x",
            "Set-Mailbox",
            "-Identity",
            "a",
            "-Flag:$false",
        ];
        assert_eq!(hoist(&ps), ps);
        // After `--` everything is the cmdlet's, even a `--word`.
        assert_eq!(
            hoist(&["tenantctl", "exo", "Get-X", "--", "--tenant", "y"]),
            ["tenantctl", "exo", "Get-X", "--tenant", "y"]
        );
        // An unknown `--word` is not tenantctl's: it stays for the parser to report.
        assert_eq!(
            hoist(&["tenantctl", "exo", "Get-X", "--nope"]),
            ["tenantctl", "exo", "Get-X", "--nope"]
        );
    }

    #[test]
    fn select_names_the_properties_to_ask_for() {
        let o = OutputArgs {
            select: vec!["tenantName".into(), "UserPrincipalName,PrimarySmtpAddress".into()],
            ..Default::default()
        };
        assert_eq!(
            server_select(&o).as_deref(),
            Some("UserPrincipalName,PrimarySmtpAddress")
        );
        assert_eq!(server_select(&OutputArgs::default()), None);
    }
}
