//! The commands: each builds records and hands them to the shared output.

use crate::config::{self, Conn, ConnArgs};
use crate::output::{Format, Output};
use crate::progress::Progress;
use crate::{
    Cli, Command, CustomersCmd, DomainsCmd, Global, LicensesCmd, RelationshipsCmd, SimCmd, TenantArgs, UsersCmd,
};
use anyhow::{anyhow, bail, Context, Result};
use futures::TryStreamExt;
use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use tenantctl_clients::customers::{self, Source};
use tenantctl_clients::graph::UserQuery;
use tenantctl_clients::{Graph, PartnerCenter};
use tenantctl_core::licences::LicenceCatalog;
use tenantctl_core::models::{Customer, GdapRelationship};
use tenantctl_core::{SkuId, TenantId, TenantSelector, TenantStatus};
use tenantctl_fanout::{Limits, Summary, Target, TenantCtx};
use tenantctl_transport::api::ApiError;
use tenantctl_transport::http::Request;
use time::OffsetDateTime;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SourceArg {
    /// Graph `/contracts` and GDAP relationships.
    Graph,
    /// Partner Center `/v1/customers` (reseller customers), with GDAP status from Graph.
    PartnerCenter,
}

pub const CUSTOMER_COLUMNS: &[&str] = &[
    "tenantId",
    "tenantName",
    "defaultDomain",
    "contractType",
    "relationshipStatus",
    "relationshipEnd",
    "sources",
];
pub const RELATIONSHIP_COLUMNS: &[&str] = &[
    "tenantId",
    "tenantName",
    "relationship",
    "status",
    "roles",
    "endDateTime",
    "daysLeft",
    "autoExtend",
    "endingSoon",
    "relationshipId",
];
pub const DOMAIN_COLUMNS: &[&str] = &[
    "tenantId",
    "tenantName",
    "domain",
    "isDefault",
    "isInitial",
    "isVerified",
    "authenticationType",
    "supportedServices",
];
pub const USER_COLUMNS: &[&str] = &[
    "tenantId",
    "tenantName",
    "userPrincipalName",
    "displayName",
    "accountEnabled",
    "isLicensed",
    "licenses",
    "licenseNames",
    "usageLocation",
    "createdDateTime",
    "id",
];
pub const LICENSE_COLUMNS: &[&str] = &[
    "tenantId",
    "tenantName",
    "license",
    "partNumber",
    "bought",
    "assigned",
    "free",
    "suspended",
    "warning",
    "status",
    "skuId",
];

pub(crate) fn conn_args(g: &Global) -> ConnArgs {
    ConnArgs {
        sandbox: g.sandbox,
        endpoint: g.endpoint.clone(),
        cloud: g.cloud.clone(),
        profile: g.profile.clone(),
    }
}

/// The output format: the flag, else table on a terminal, else by --out's extension, else csv.
fn format_of(g: &Global) -> Format {
    if let Some(f) = g.output {
        return f;
    }
    if let Some(p) = &g.out {
        return match p
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("json") => Format::Json,
            Some("jsonl" | "ndjson") => Format::Jsonl,
            _ => Format::Csv,
        };
    }
    if std::io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Csv
    }
}

pub(crate) fn open_output(g: &Global, columns: &[&'static str]) -> Result<Output> {
    let w: Box<dyn Write + Send> = match &g.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("--out {}: cannot create the file", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    Ok(Output::new(format_of(g), columns.to_vec(), w)?)
}

pub async fn run(cli: Cli) -> Result<i32> {
    let g = cli.global;
    match cli.command {
        Command::Sim {
            cmd: SimCmd::Serve(args),
        } => {
            tenantctl_sim::cli::serve(&args).await.map_err(|e| anyhow!(e))?;
            Ok(0)
        }
        Command::Login { .. } => login(&g).await,
        Command::Customers {
            cmd: CustomersCmd::List { source },
        } => {
            let conn = config::connect(&conn_args(&g)).await?;
            let (list, _) = customer_list(&conn, source).await?;
            let mut out = open_output(&g, CUSTOMER_COLUMNS)?;
            for c in &list {
                out.write(&c.to_record())?;
            }
            out.finish()?;
            Ok(0)
        }
        Command::Relationships {
            cmd: RelationshipsCmd::List { tenants },
        } => {
            let conn = config::connect(&conn_args(&g)).await?;
            let graph = Graph::new(conn.api.clone());
            let mut rels = graph.relationships(&conn.partner).await.map_err(partner_err)?;
            if !tenants.is_empty() {
                let sels: Vec<TenantSelector> = tenants.iter().map(|t| TenantSelector::parse(t)).collect();
                rels.retain(|r| sels.iter().any(|s| rel_matches(s, r)));
            }
            rels.sort_by(|a, b| {
                a.customer_name
                    .to_lowercase()
                    .cmp(&b.customer_name.to_lowercase())
                    .then(a.end.cmp(&b.end))
            });
            let now = OffsetDateTime::now_utc();
            let mut out = open_output(&g, RELATIONSHIP_COLUMNS)?;
            for r in &rels {
                out.write(&r.to_record(now))?;
            }
            out.finish()?;
            Ok(0)
        }
        Command::Domains {
            cmd: DomainsCmd::Add { name, tenant, what_if },
        } => crate::writes::domains_add(&g, name, tenant, what_if).await,
        Command::Domains {
            cmd: DomainsCmd::Verify { name, tenant },
        } => crate::writes::domains_verify(&g, name, tenant).await,
        Command::Domains {
            cmd: DomainsCmd::Records { name, tenant, zone },
        } => crate::writes::domains_records(&g, name, tenant, zone).await,
        Command::Licenses {
            cmd: LicensesCmd::Assign(c),
        } => crate::writes::licenses_change(&g, c, true).await,
        Command::Licenses {
            cmd: LicensesCmd::Remove(c),
        } => crate::writes::licenses_change(&g, c, false).await,
        Command::Users {
            cmd:
                UsersCmd::Create {
                    tenant,
                    upn,
                    display_name,
                    first_name,
                    last_name,
                    usage_location,
                    licenses,
                    password_stdin,
                    passwords_out,
                    write,
                },
        } => {
            crate::writes::users_create(
                &g,
                tenant,
                upn,
                display_name,
                first_name,
                last_name,
                usage_location,
                licenses,
                password_stdin,
                passwords_out,
                write.what_if,
            )
            .await
        }
        Command::Users {
            cmd:
                UsersCmd::Import {
                    file,
                    tenant,
                    passwords_out,
                    no_force_change_password,
                    write,
                },
        } => {
            let rows = crate::import::read_csv(&file)?;
            crate::import::import(
                &g,
                rows,
                crate::import::ImportOpts {
                    default_tenant: tenant,
                    what_if: write.what_if,
                    continue_on_error: write.continue_on_error,
                    passwords_out,
                    force_change_password: !no_force_change_password,
                },
            )
            .await
        }
        Command::Domains {
            cmd: DomainsCmd::List { tenants },
        } => {
            fan_out(&g, &tenants, DOMAIN_COLUMNS, |graph, ctx| async move {
                let tid = ctx.target.id.to_string();
                let domains = {
                    let _p = ctx.permit().await;
                    graph.domains(&tid).await?
                };
                for d in domains {
                    ctx.emit(d.to_record());
                }
                Ok(())
            })
            .await
        }
        Command::Licenses {
            cmd: LicensesCmd::List { tenants },
        } => {
            let catalog = LicenceCatalog::builtin();
            fan_out(&g, &tenants, LICENSE_COLUMNS, move |graph, ctx| async move {
                let tid = ctx.target.id.to_string();
                let skus = {
                    let _p = ctx.permit().await;
                    graph.subscribed_skus(&tid).await?
                };
                for s in skus {
                    ctx.emit(s.to_record(catalog));
                }
                Ok(())
            })
            .await
        }
        Command::Users {
            cmd:
                UsersCmd::List {
                    tenants,
                    filter,
                    licensed,
                    unlicensed,
                    sku,
                },
        } => {
            let catalog = LicenceCatalog::builtin();
            let sku = sku.map(|s| parse_sku_arg(&s, catalog)).transpose()?;
            let query = UserQuery { filter };
            let sku = Arc::new(sku);
            fan_out(&g, &tenants, USER_COLUMNS, move |graph, ctx| {
                let query = query.clone();
                let sku = sku.clone();
                async move {
                    let tid = ctx.target.id.to_string();
                    // The tenant's SKUs name the licences (part numbers) and the users, in
                    // parallel.
                    let skus_f = async {
                        let _p = ctx.permit().await;
                        graph.subscribed_skus(&tid).await
                    };
                    let users_f = async {
                        let _p = ctx.permit().await;
                        graph.users(&tid, &query).try_collect::<Vec<_>>().await
                    };
                    let (skus, pages) = futures::join!(skus_f, users_f);
                    let skus = skus?;
                    let parts: HashMap<SkuId, String> =
                        skus.iter().map(|s| (s.sku_id, s.part_number.clone())).collect();
                    let wanted: Option<SkuId> = match sku.as_ref() {
                        None => None,
                        Some(SkuArg::Id(id)) => Some(*id),
                        Some(SkuArg::Part(p)) => match skus.iter().find(|s| s.part_number.eq_ignore_ascii_case(p)) {
                            Some(s) => Some(s.sku_id),
                            // The tenant doesn't have that SKU: nobody holds it.
                            None => return Ok(()),
                        },
                    };
                    for page in pages? {
                        for u in page {
                            if (licensed && u.licences.is_empty())
                                || (unlicensed && !u.licences.is_empty())
                                || wanted.is_some_and(|w| !u.licences.contains(&w))
                            {
                                continue;
                            }
                            ctx.emit(u.to_record(catalog, &|s| parts.get(&s).cloned()));
                        }
                    }
                    Ok(())
                }
            })
            .await
        }
    }
}

pub(crate) enum SkuArg {
    Id(SkuId),
    Part(String),
}

pub(crate) fn parse_sku_arg(s: &str, catalog: &LicenceCatalog) -> Result<SkuArg> {
    if let Ok(id) = s.parse::<SkuId>() {
        return Ok(SkuArg::Id(id));
    }
    if catalog.by_part_number(s).is_some() {
        return Ok(SkuArg::Part(s.to_owned()));
    }
    bail!("--sku '{s}': not a skuId (GUID) nor a known SKU part number (e.g. SPB, O365_BUSINESS_PREMIUM); `tenantctl licenses list` shows each tenant's")
}

fn rel_matches(s: &TenantSelector, r: &GdapRelationship) -> bool {
    match s {
        TenantSelector::Id(id) => r.customer_tenant_id == *id,
        TenantSelector::Name(n) => r.customer_name.eq_ignore_ascii_case(n),
        TenantSelector::Domain(d) => r.customer_name.eq_ignore_ascii_case(d),
    }
}

/// A partner-side failure is fatal for the run: say what it means.
fn partner_err(e: ApiError) -> anyhow::Error {
    anyhow!("reading the partner's customers failed: {e}")
}

pub(crate) async fn customer_list(conn: &Conn, source: SourceArg) -> Result<(Vec<Customer>, Vec<GdapRelationship>)> {
    let graph = Graph::new(conn.api.clone());
    let pc = PartnerCenter::new(conn.api.clone());
    let source = match source {
        SourceArg::Graph => Source::Graph,
        SourceArg::PartnerCenter => Source::PartnerCenter,
    };
    customers::list(&graph, &pc, &conn.partner, source)
        .await
        .map_err(partner_err)
}

fn target_of(c: &Customer) -> Target {
    Target {
        id: c.tenant_id,
        name: c.name.clone(),
        relationship_status: Some(c.relationship_status.clone()),
    }
}

/// Looks a domain up the way Entra does: the tenant's OpenID configuration names its id.
async fn tenant_of_domain(conn: &Conn, domain: &str) -> Option<TenantId> {
    let url = format!(
        "{}/{domain}/v2.0/.well-known/openid-configuration",
        conn.api.endpoints().authority
    );
    let r = conn.api.executor.send(&Request::get(url)).await.ok()?;
    if !r.status.is_success() {
        return None;
    }
    let v: serde_json::Value = r.json().ok()?;
    let issuer = v.get("issuer")?.as_str()?;
    issuer.split('/').find_map(|p| p.parse::<TenantId>().ok())
}

pub(crate) async fn find(conn: &Conn, list: &[Customer], sel: &str) -> Result<Target> {
    let s = TenantSelector::parse(sel);
    let hit = list.iter().find(|c| match &s {
        TenantSelector::Id(id) => c.tenant_id == *id,
        TenantSelector::Domain(d) => c.default_domain.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(d)),
        TenantSelector::Name(n) => c.name.eq_ignore_ascii_case(n),
    });
    if let Some(c) = hit {
        return Ok(target_of(c));
    }
    match s {
        // Not in the partner's lists: try it anyway; its status will say what is wrong.
        TenantSelector::Id(id) => Ok(Target {
            id,
            name: id.to_string(),
            relationship_status: None,
        }),
        TenantSelector::Domain(d) => match tenant_of_domain(conn, &d).await {
            Some(id) => Ok(list
                .iter()
                .find(|c| c.tenant_id == id)
                .map(target_of)
                .unwrap_or(Target {
                    id,
                    name: d.clone(),
                    relationship_status: None,
                })),
            None => bail!("--tenant '{sel}': no tenant has the domain '{d}' (check the spelling and the cloud)"),
        },
        TenantSelector::Name(n) => {
            let near: Vec<&str> = list
                .iter()
                .filter(|c| c.name.to_lowercase().contains(&n.to_lowercase()))
                .map(|c| c.name.as_str())
                .take(5)
                .collect();
            if near.is_empty() {
                bail!("--tenant '{sel}': no customer has that name; `tenantctl customers list` shows them")
            }
            bail!(
                "--tenant '{sel}': no customer has exactly that name; did you mean: {}?",
                near.join(", ")
            )
        }
    }
}

/// Resolves `--tenant`/`--all-tenants`/`--exclude` to targets.
async fn select(conn: &Conn, a: &TenantArgs) -> Result<Vec<Target>> {
    if !a.all_tenants && a.tenants.is_empty() {
        bail!("which customers? give --tenant <id|domain|name> (repeatable) or --all-tenants");
    }
    let (list, _) = customer_list(conn, SourceArg::Graph).await?;
    let mut targets = if a.all_tenants {
        list.iter().map(target_of).collect::<Vec<_>>()
    } else {
        let mut v: Vec<Target> = vec![];
        for sel in &a.tenants {
            let t = find(conn, &list, sel).await?;
            if !v.iter().any(|x| x.id == t.id) {
                v.push(t);
            }
        }
        v
    };
    for sel in &a.exclude {
        let t = find(conn, &list, sel)
            .await
            .map_err(|e| anyhow!("{}", e.to_string().replace("--tenant", "--exclude")))?;
        targets.retain(|x| x.id != t.id);
    }
    if targets.is_empty() {
        bail!("no customer tenant left to run in");
    }
    Ok(targets)
}

/// Runs a per-tenant operation over the selected tenants, writing rows as tenants finish,
/// then the status of every tenant that is not ok (stderr) and a summary.
async fn fan_out<F, Fut>(g: &Global, a: &TenantArgs, columns: &[&'static str], op: F) -> Result<i32>
where
    F: Fn(Graph, Arc<TenantCtx>) -> Fut,
    Fut: std::future::Future<Output = Result<(), ApiError>>,
{
    let conn = config::connect(&conn_args(g)).await?;
    let targets = select(&conn, a).await?;
    let graph = Graph::new(conn.api.clone());
    let mut out = open_output(g, columns)?;
    let mut progress = Progress::new(targets.len(), g.quiet);
    let mut write_err: Option<std::io::Error> = None;
    let limits = Limits {
        tenants: g.concurrency as usize,
        per_tenant: g.per_tenant as usize,
    };
    let summary = tenantctl_fanout::run(
        targets,
        limits,
        |ctx| op(graph.clone(), ctx),
        |r| {
            progress.tenant_done(r.outcome.status.is_ok(), r.outcome.rows);
            for row in &r.rows {
                if write_err.is_none() {
                    if let Err(e) = out.write(row) {
                        write_err = Some(e);
                    }
                }
            }
        },
    )
    .await;
    progress.finish();
    if let Some(e) = write_err {
        return Err(anyhow!("writing the output: {e}"));
    }
    out.finish()?;
    report(g, &summary, &conn)?;
    Ok(summary.exit_code())
}

pub(crate) fn report(g: &Global, s: &Summary, conn: &Conn) -> Result<()> {
    if let Some(p) = &g.status_out {
        let text = serde_json::to_string_pretty(&s.outcomes)?;
        std::fs::write(p, text).with_context(|| format!("--status-out {}", p.display()))?;
    }
    let mut err = std::io::stderr().lock();
    let bad: Vec<_> = s.outcomes.iter().filter(|o| !o.status.is_ok()).collect();
    if !bad.is_empty() {
        let rows: Vec<Vec<String>> = bad
            .iter()
            .map(|o| {
                vec![
                    o.status.to_string(),
                    o.tenant_name.clone(),
                    o.tenant_id.to_string(),
                    o.status.hint().to_owned(),
                ]
            })
            .collect();
        writeln!(err)?;
        write!(
            err,
            "{}",
            crate::output::render_table(&["status", "tenant", "tenantId", "what to do"], &rows)
        )?;
        if g.verbose > 0 {
            for o in &bad {
                writeln!(err, "{} ({}): {}", o.tenant_name, o.tenant_id, o.detail)?;
            }
        }
    }
    if let Some(f) = &s.fatal {
        writeln!(err, "error: stopped: {f}")?;
    }
    if !g.quiet {
        let mut counts: std::collections::BTreeMap<TenantStatus, usize> = Default::default();
        for o in &s.outcomes {
            *counts.entry(o.status).or_default() += 1;
        }
        let parts: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
        let rows: u64 = s.outcomes.iter().map(|o| o.rows).sum();
        let (requests, retries, throttled) = conn.api.executor.stats.snapshot();
        writeln!(
            err,
            "{} tenants: {}; {rows} rows; {requests} requests, {retries} retried, {throttled} throttled",
            s.outcomes.len(),
            parts.join(", ")
        )?;
    }
    Ok(())
}

async fn login(g: &Global) -> Result<i32> {
    let sandbox = if g.sandbox {
        Some(config::start_sandbox().await?)
    } else {
        None
    };
    let t = config::resolve_target(&conn_args(g), sandbox.as_ref())?;
    let exec = config::executor();
    let rt = tenantctl_transport::token::TokenProvider::device_code_login(
        &t.endpoints,
        &exec,
        &t.client_id,
        &t.partner,
        |uri, code| {
            eprintln!("To sign in, open {uri} and enter the code {code}");
        },
    )
    .await
    .map_err(|e| anyhow!("sign-in failed: {e}"))?;
    if sandbox.is_some() {
        eprintln!("Signed in to the sandbox (its refresh token is not stored).");
        return Ok(0);
    }
    let path = config::refresh_token_file(&t)
        .ok_or_else(|| anyhow!("no config directory: set refresh_token_file in the profile"))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    tenantctl_transport::token::write_private_file(&path, rt.expose())
        .with_context(|| format!("saving the refresh token to {}", path.display()))?;
    eprintln!("Signed in; the refresh token is stored in {} (0600).", path.display());
    Ok(0)
}
