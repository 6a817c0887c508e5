//! Writes other than the user import: `users create`, `licenses assign|remove`, `domains add|
//! verify|records`. Same rules: validate first, `--what-if` changes nothing, a result per row.

use crate::commands::{self, customer_list, find, open_output, SourceArg};
use crate::config::{self, Conn};
use crate::import::{self, ImportOpts};
use crate::output::Format;
use crate::{Global, LicenseChange};
use anyhow::{anyhow, bail, Context, Result};
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::PathBuf;
use tenantctl_clients::graph_writes::DnsRecord;
use tenantctl_clients::Graph;
use tenantctl_core::bulk::{check_upn, UserRow};
use tenantctl_core::licences::LicenceCatalog;
use tenantctl_core::models::GdapRelationship;
use tenantctl_core::{roles, Record, SkuId, TenantId};
use tenantctl_fanout::Target;
use tenantctl_transport::api::ApiError;

#[allow(clippy::too_many_arguments)]
pub async fn users_create(
    g: &Global,
    tenant: String,
    upn: String,
    display_name: String,
    first: Option<String>,
    last: Option<String>,
    usage_location: Option<String>,
    licenses: Vec<String>,
    password_stdin: bool,
    passwords_out: Option<PathBuf>,
    what_if: bool,
) -> Result<i32> {
    let password = if password_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the password from stdin")?;
        Some(s.lines().next().unwrap_or_default().to_owned())
    } else {
        None
    };
    let row = UserRow {
        line: 1,
        tenant: Some(tenant.clone()),
        user_principal_name: upn,
        display_name,
        given_name: first,
        surname: last,
        usage_location: usage_location.map(|u| u.to_ascii_uppercase()),
        licenses: licenses.iter().map(|l| l.to_ascii_uppercase()).collect(),
        password,
    };
    import::import(
        g,
        vec![row],
        ImportOpts {
            default_tenant: Some(tenant),
            what_if,
            continue_on_error: false,
            passwords_out,
            force_change_password: true,
        },
    )
    .await
}

fn has_role(rels: &[GdapRelationship], tenant: TenantId, wanted: &[&str]) -> Option<bool> {
    let mine: Vec<&GdapRelationship> = rels.iter().filter(|r| r.customer_tenant_id == tenant).collect();
    if mine.is_empty() {
        return None; // not a GDAP customer we know: let the service decide
    }
    Some(
        mine.iter()
            .filter(|r| r.status == "active")
            .flat_map(|r| r.role_ids.iter())
            .any(|x| x == roles::GLOBAL_ADMINISTRATOR || wanted.contains(&x.as_str())),
    )
}

// ---------------------------------------------------------------------------------------------
// Licences

pub const LICENSE_RESULT_COLUMNS: &[&str] = &[
    "line",
    "tenantId",
    "tenantName",
    "userPrincipalName",
    "sku",
    "result",
    "detail",
];

#[derive(Clone, Debug)]
struct LicRow {
    line: usize,
    tenant: String,
    user: String,
    sku: String,
    disabled: Vec<String>,
}

fn read_license_csv(path: &PathBuf) -> Result<Vec<LicRow>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut rdr = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers: Vec<String> = rdr.headers()?.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
    let col = |names: &[&str]| headers.iter().position(|h| names.contains(&h.as_str()));
    let t = col(&["tenant", "tenantid"]);
    let (Some(u), Some(s)) = (
        col(&["userprincipalname", "user", "upn"]),
        col(&["sku", "license", "licenseassignment"]),
    ) else {
        bail!(
            "{}: line 1: the header needs userPrincipalName and sku columns (and tenant, unless --tenant is given)",
            path.display()
        );
    };
    let d = col(&["disabledplans", "disableplans"]);
    let mut rows = vec![];
    for (k, rec) in rdr.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: line {}", path.display(), k + 2))?;
        let get = |i: usize| rec.get(i).unwrap_or_default().trim().to_owned();
        rows.push(LicRow {
            line: k + 2,
            tenant: t.map(get).unwrap_or_default(),
            user: get(u),
            sku: get(s).rsplit(':').next().unwrap_or_default().to_owned(),
            disabled: d
                .map(|i| {
                    get(i)
                        .split(';')
                        .map(|x| x.trim().to_owned())
                        .filter(|x| !x.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    Ok(rows)
}

#[derive(Clone, Debug)]
enum LicPlan {
    Assign(SkuId, Vec<String>),
    Remove(SkuId),
    Nothing(&'static str, String),
    Invalid(String),
}

pub async fn licenses_change(g: &Global, c: LicenseChange, assign: bool) -> Result<i32> {
    let catalog = LicenceCatalog::builtin();
    let rows = match &c.csv {
        Some(p) => read_license_csv(p)?,
        None => vec![LicRow {
            line: 1,
            tenant: c.tenant.clone().ok_or_else(|| anyhow!("--tenant is required"))?,
            user: c.user.clone().unwrap_or_default(),
            sku: c.sku.clone().unwrap_or_default(),
            disabled: c.disable_plans.clone(),
        }],
    };
    let rows: Vec<LicRow> = rows
        .into_iter()
        .map(|mut r| {
            if r.tenant.is_empty() {
                r.tenant = c.tenant.clone().unwrap_or_default();
            }
            r
        })
        .collect();
    // Offline checks.
    let mut problems: Vec<String> = vec![];
    for r in &rows {
        if r.tenant.is_empty() {
            problems.push(format!("line {}, tenant: is empty; fill it or give --tenant", r.line));
        }
        if !r.user.contains('@') && r.user.parse::<tenantctl_core::ObjectId>().is_err() {
            problems.push(format!(
                "line {}, userPrincipalName: '{}' is neither a UPN nor an object id",
                r.line, r.user
            ));
        } else if r.user.contains('@') {
            if let Err(m) = check_upn(&r.user) {
                problems.push(format!("line {}, userPrincipalName: {m}", r.line));
            }
        }
        if r.sku.parse::<SkuId>().is_err() && catalog.by_part_number(&r.sku).is_none() {
            problems.push(format!(
                "line {}, sku: '{}' is neither a skuId nor a known part number",
                r.line, r.sku
            ));
        }
        for p in &r.disabled {
            if p.parse::<uuid::Uuid>().is_err() && catalog.service_plan_by_name(p).is_none() {
                problems.push(format!(
                    "line {}, disabledPlans: '{p}' is not a known service plan name or id",
                    r.line
                ));
            }
        }
    }
    if !problems.is_empty() && !c.write.continue_on_error {
        return fail(&problems);
    }
    let conn = config::connect(&commands::conn_args(g)).await?;
    let graph = Graph::new(conn.api.clone());
    let (customers, rels) = customer_list(&conn, SourceArg::Graph).await?;
    let mut targets: HashMap<String, Target> = HashMap::new();
    let mut skus_of: HashMap<TenantId, Vec<tenantctl_core::models::SkuUsage>> = HashMap::new();
    let mut plans: Vec<(LicRow, Option<Target>, LicPlan)> = vec![];
    let mut needed: BTreeMap<(TenantId, SkuId), usize> = BTreeMap::new();
    for r in rows {
        if let Some(p) = problems.iter().find(|p| p.starts_with(&format!("line {},", r.line))) {
            plans.push((r, None, LicPlan::Invalid(p.clone())));
            continue;
        }
        let key = r.tenant.to_ascii_lowercase();
        if !targets.contains_key(&key) {
            match find(&conn, &customers, &r.tenant).await {
                Ok(t) => {
                    targets.insert(key.clone(), t);
                }
                Err(e) => {
                    plans.push((
                        r.clone(),
                        None,
                        LicPlan::Invalid(format!("line {}, tenant: {e}", r.line)),
                    ));
                    continue;
                }
            }
        }
        let t = targets[&key].clone();
        let plan = plan_license_row(&graph, &rels, &mut skus_of, &t, &r, assign, catalog).await;
        if let LicPlan::Assign(s, _) = &plan {
            *needed.entry((t.id, *s)).or_default() += 1;
        }
        plans.push((r, Some(t), plan));
    }
    // Enough free units?
    for ((tid, sku), n) in needed {
        let s = skus_of[&tid].iter().find(|s| s.sku_id == sku).expect("planned");
        if n as i64 > s.free() {
            for (r, t, p) in plans.iter_mut() {
                if t.as_ref().map(|t| t.id) == Some(tid) && matches!(p, LicPlan::Assign(x, _) if *x == sku) {
                    *p = LicPlan::Invalid(format!(
                        "line {}, sku: {} needs {n} unit(s) of {} but {} free",
                        r.line,
                        t.as_ref().map(|t| t.name.as_str()).unwrap_or(""),
                        s.part_number,
                        s.free()
                    ));
                }
            }
        }
    }
    let invalid: Vec<String> = plans
        .iter()
        .filter_map(|(_, _, p)| match p {
            LicPlan::Invalid(m) => Some(m.clone()),
            _ => None,
        })
        .collect();
    if !invalid.is_empty() && !c.write.continue_on_error {
        return fail(&invalid);
    }
    let mut out = open_output(g, LICENSE_RESULT_COLUMNS)?;
    let mut bad = 0;
    for (r, t, p) in &plans {
        let (result, detail) = if c.write.what_if {
            match p {
                LicPlan::Assign(..) => ("planned".to_owned(), "assign".to_owned()),
                LicPlan::Remove(_) => ("planned".into(), "remove".into()),
                LicPlan::Nothing(res, d) => (res.to_string(), d.clone()),
                LicPlan::Invalid(m) => ("failed".into(), m.clone()),
            }
        } else {
            let tid = t.as_ref().map(|t| t.id.to_string()).unwrap_or_default();
            let res = match p {
                LicPlan::Assign(s, d) => graph
                    .assign_license(&tid, &r.user, &[(*s, d.clone())], &[])
                    .await
                    .map(|_| ("assigned".to_owned(), String::new())),
                LicPlan::Remove(s) => graph
                    .assign_license(&tid, &r.user, &[], &[*s])
                    .await
                    .map(|_| ("removed".to_owned(), String::new())),
                LicPlan::Nothing(res, d) => Ok((res.to_string(), d.clone())),
                LicPlan::Invalid(m) => Ok(("failed".into(), m.clone())),
            };
            res.unwrap_or_else(|e| ("failed".into(), e.to_string()))
        };
        if result == "failed" {
            bad += 1;
        }
        out.write(
            &Record::new()
                .with("line", r.line as u64)
                .with("tenantId", t.as_ref().map(|t| t.id.to_string()).unwrap_or_default())
                .with(
                    "tenantName",
                    t.as_ref().map(|t| t.name.clone()).unwrap_or_else(|| r.tenant.clone()),
                )
                .with("userPrincipalName", r.user.clone())
                .with("sku", r.sku.clone())
                .with("result", result)
                .with("detail", detail),
        )?;
    }
    out.finish()?;
    if c.write.what_if {
        eprintln!("what-if: nothing was changed");
    }
    Ok(if bad > 0 { 3 } else { 0 })
}

async fn plan_license_row(
    graph: &Graph,
    rels: &[GdapRelationship],
    skus_of: &mut HashMap<TenantId, Vec<tenantctl_core::models::SkuUsage>>,
    t: &Target,
    r: &LicRow,
    assign: bool,
    catalog: &LicenceCatalog,
) -> LicPlan {
    let tid = t.id.to_string();
    if has_role(rels, t.id, &[roles::LICENSE_ADMINISTRATOR, roles::USER_ADMINISTRATOR]) == Some(false) {
        return LicPlan::Invalid(format!(
            "line {}: {}: role_missing: the GDAP relationship lacks License Administrator",
            r.line, t.name
        ));
    }
    if let std::collections::hash_map::Entry::Vacant(slot) = skus_of.entry(t.id) {
        match graph.subscribed_skus(&tid).await {
            Ok(s) => {
                slot.insert(s);
            }
            Err(e) => return LicPlan::Invalid(format!("line {}: {} is not reachable: {e}", r.line, t.name)),
        }
    }
    let skus = &skus_of[&t.id];
    let sku = match r.sku.parse::<SkuId>() {
        Ok(id) => skus.iter().find(|s| s.sku_id == id),
        Err(_) => skus.iter().find(|s| s.part_number.eq_ignore_ascii_case(&r.sku)),
    };
    let Some(sku) = sku else {
        return LicPlan::Invalid(format!(
            "line {}, sku: {} has no subscription to '{}' (it has: {})",
            r.line,
            t.name,
            r.sku,
            skus.iter()
                .map(|s| s.part_number.clone())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    };
    let user = match graph.find_user(&tid, &r.user).await {
        Ok(Some(u)) => u,
        Ok(None) => {
            return LicPlan::Invalid(format!(
                "line {}, userPrincipalName: no user '{}' in {}",
                r.line, r.user, t.name
            ))
        }
        Err(e) => return LicPlan::Invalid(format!("line {}: {}: {e}", r.line, t.name)),
    };
    let holds = user.has_sku(sku.sku_id);
    if assign {
        if holds {
            return LicPlan::Nothing(
                "already_assigned",
                format!("{} already holds {}", r.user, sku.part_number),
            );
        }
        if user.usage_location.is_none() {
            return LicPlan::Invalid(format!(
                "line {}, userPrincipalName: {} has no usage location; set one before assigning a licence",
                r.line, r.user
            ));
        }
        let disabled: Vec<String> = r
            .disabled
            .iter()
            .map(|p| match p.parse::<uuid::Uuid>() {
                Ok(id) => id.to_string(),
                Err(_) => catalog
                    .service_plan_by_name(p)
                    .map(|sp| sp.id.to_string())
                    .unwrap_or_default(),
            })
            .collect();
        LicPlan::Assign(sku.sku_id, disabled)
    } else if holds {
        LicPlan::Remove(sku.sku_id)
    } else {
        LicPlan::Nothing("not_assigned", format!("{} does not hold {}", r.user, sku.part_number))
    }
}

fn fail(problems: &[String]) -> Result<i32> {
    for p in problems {
        eprintln!("{p}");
    }
    eprintln!(
        "error: {} problem(s) in the input; nothing was changed (fix them, or --continue-on-error)",
        problems.len()
    );
    Ok(1)
}

// ---------------------------------------------------------------------------------------------
// Domains

pub const DNS_COLUMNS: &[&str] = &[
    "domain",
    "recordType",
    "label",
    "value",
    "preference",
    "ttl",
    "isOptional",
    "supportedService",
];

fn dns_record(domain: &str, r: &DnsRecord) -> Record {
    Record::new()
        .with("domain", domain)
        .with("recordType", r.record_type.clone())
        .with("label", r.label.clone())
        .with("value", r.value())
        .with(
            "preference",
            r.preference
                .map(serde_json::Value::from)
                .unwrap_or(serde_json::Value::Null),
        )
        .with("ttl", r.ttl.unwrap_or(3600))
        .with("isOptional", r.is_optional)
        .with("supportedService", r.supported_service.clone().unwrap_or_default())
}

async fn one_tenant(g: &Global, tenant: &str) -> Result<(Conn, Target, Vec<GdapRelationship>)> {
    let conn = config::connect(&commands::conn_args(g)).await?;
    let (customers, rels) = customer_list(&conn, SourceArg::Graph).await?;
    let t = find(&conn, &customers, tenant).await?;
    Ok((conn, t, rels))
}

fn check_domain_name(name: &str) -> Result<String> {
    let n = name.trim().trim_end_matches('.').to_ascii_lowercase();
    let ok = n.contains('.')
        && n.len() <= 253
        && n.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if !ok {
        bail!("'{name}' is not a domain name (expected e.g. contoso.com)");
    }
    Ok(n)
}

fn print_records(g: &Global, domain: &str, records: &[DnsRecord], zone: bool) -> Result<()> {
    if zone {
        let mut text = format!("; {domain}: records to publish at the DNS host\n");
        for r in records {
            text.push_str(&r.zone_line());
            text.push('\n');
        }
        match &g.out {
            Some(p) => std::fs::write(p, text).with_context(|| format!("--out {}", p.display()))?,
            None => print!("{text}"),
        }
        return Ok(());
    }
    let mut out = open_output(g, DNS_COLUMNS)?;
    for r in records {
        out.write(&dns_record(domain, r))?;
    }
    out.finish()?;
    Ok(())
}

fn table_output(g: &Global) -> bool {
    g.output == Some(Format::Table)
        || (g.output.is_none() && g.out.is_none() && std::io::IsTerminal::is_terminal(&std::io::stdout()))
}

pub async fn domains_add(g: &Global, name: String, tenant: String, what_if: bool) -> Result<i32> {
    let name = check_domain_name(&name)?;
    let (conn, t, rels) = one_tenant(g, &tenant).await?;
    if has_role(&rels, t.id, &[roles::DOMAIN_NAME_ADMINISTRATOR]) == Some(false) {
        bail!(
            "{}: role_missing: the GDAP relationship lacks Domain Name Administrator",
            t.name
        );
    }
    let graph = Graph::new(conn.api.clone());
    let tid = t.id.to_string();
    let existing = graph
        .get_domain(&tid, &name)
        .await
        .map_err(|e| anyhow!("{}: {e}", t.name))?;
    match (&existing, what_if) {
        (Some(d), _) if d.is_verified => {
            eprintln!("{name} is already added to {} and verified; nothing to do", t.name);
            return Ok(0);
        }
        (Some(_), _) => eprintln!("{name} is already added to {} (not verified yet); its records:", t.name),
        (None, true) => {
            eprintln!("what-if: would add {name} to {}; nothing was changed", t.name);
            return Ok(0);
        }
        (None, false) => {
            graph
                .add_domain(&tid, &name)
                .await
                .map_err(|e| anyhow!("adding {name} to {}: {e}", t.name))?;
            eprintln!("Added {name} to {}. Publish one of these records at the DNS host, then run `tenantctl domains verify {name} --tenant {}`:", t.name, t.id);
        }
    }
    let records = graph
        .verification_records(&tid, &name)
        .await
        .map_err(|e| anyhow!("{}: {e}", t.name))?;
    print_records(g, &name, &records, false)?;
    if table_output(g) {
        println!();
        print_records(g, &name, &records, true)?;
    }
    Ok(0)
}

pub async fn domains_verify(g: &Global, name: String, tenant: String) -> Result<i32> {
    let name = check_domain_name(&name)?;
    let (conn, t, _) = one_tenant(g, &tenant).await?;
    let graph = Graph::new(conn.api.clone());
    let tid = t.id.to_string();
    match graph.verify_domain(&tid, &name).await {
        Ok(d) if d.is_verified => {
            eprintln!("{name} is verified in {}.", t.name);
            Ok(0)
        }
        Ok(_) => {
            eprintln!("{name} is not verified yet in {}.", t.name);
            Ok(3)
        }
        Err(ApiError::Http {
            status: 400, message, ..
        }) => {
            let txt = graph
                .verification_records(&tid, &name)
                .await
                .ok()
                .and_then(|r| r.into_iter().find(|r| r.record_type == "Txt"))
                .map(|r| format!("TXT {} \"{}\"", r.label, r.value()))
                .unwrap_or_else(|| "the TXT record `domains add` printed".into());
            eprintln!(
                "{name} could not be verified in {}: the DNS record is not visible yet.\n\
                 Publish {txt} at the domain's DNS host and try again (DNS changes can take up to 72 hours).\n\
                 Microsoft said: {message}",
                t.name
            );
            Ok(3)
        }
        Err(e) => Err(anyhow!("verifying {name} in {}: {e}", t.name)),
    }
}

pub async fn domains_records(g: &Global, name: String, tenant: String, zone: bool) -> Result<i32> {
    let name = check_domain_name(&name)?;
    let (conn, t, _) = one_tenant(g, &tenant).await?;
    let graph = Graph::new(conn.api.clone());
    let records = graph
        .service_records(&t.id.to_string(), &name)
        .await
        .map_err(|e| anyhow!("{}: {e}", t.name))?;
    print_records(g, &name, &records, zone)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_names_are_checked() {
        assert_eq!(check_domain_name("Contoso.COM.").unwrap(), "contoso.com");
        for bad in ["contoso", "-a.com", "a..com", "con toso.com"] {
            assert!(check_domain_name(bad).is_err(), "{bad}");
        }
    }
}
