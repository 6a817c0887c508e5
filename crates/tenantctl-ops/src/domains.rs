//! `domains add|verify|records`: add a domain to a customer, the DNS records that prove it,
//! verify it. Each ends with a result row like the other writes.

use crate::session::Session;
use crate::targets;
use anyhow::{anyhow, bail, Result};
use tenantctl_clients::graph_writes::DnsRecord;
use tenantctl_core::plan::access::{self, Need};
use tenantctl_core::tables::{DnsRecordRow, DomainResultRow};
use tenantctl_fanout::Target;
use tenantctl_transport::api::ApiError;

/// Checks and normalises a domain name (lower case, no trailing dot).
pub fn check_domain_name(name: &str) -> Result<String> {
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

/// A record as a DNS admin publishes it: the full owner name (the SRV record lives at
/// `_service._protocol.<domain>`, not the apex) and the value.
pub fn record_row(domain: &str, r: &DnsRecord) -> DnsRecordRow {
    let name = match (r.record_type.as_str(), &r.service, &r.protocol) {
        ("Srv", Some(s), Some(p)) => format!("{s}.{p}.{}", r.label),
        _ => r.label.clone(),
    };
    DnsRecordRow {
        domain: domain.to_owned(),
        record_type: r.record_type.clone(),
        name,
        value: r.value(),
        preference: r.preference,
        ttl: r.ttl.unwrap_or(3600),
        is_optional: r.is_optional,
        supported_service: r.supported_service.clone(),
    }
}

/// A BIND zone-file fragment for the records.
pub fn zone_text(domain: &str, records: &[DnsRecord]) -> String {
    let mut text = format!("; {domain}: records to publish at the DNS host\n");
    for r in records {
        text.push_str(&r.zone_line());
        text.push('\n');
    }
    text
}

async fn tenant_for(s: &Session, tenant: &str, need: Option<Need>, purpose: targets::Purpose) -> Result<Target> {
    let t = targets::find_for(s, tenant, "--tenant", purpose).await?;
    if let Some(need) = need {
        let rels = &s.customers().await?.relationships;
        if let Some(msg) = access::check(rels, t.id, need).problem() {
            bail!("{}: {msg}", t.name);
        }
    }
    Ok(t)
}

fn result(t: &Target, domain: &str, result: &str, detail: String) -> DomainResultRow {
    DomainResultRow {
        tenant_id: t.id.to_string(),
        tenant_name: t.name.clone(),
        domain: domain.to_owned(),
        result: result.to_owned(),
        detail,
    }
}

/// What `domains add` did, and the records that prove ownership.
pub struct Added {
    pub result: DomainResultRow,
    /// The verification records (empty when the domain was already verified or in what-if).
    pub records: Vec<DnsRecord>,
}

/// Adds `name` to the tenant (unless it is there already).
pub async fn add(s: &Session, tenant: &str, name: &str, what_if: bool, partner_tenant: bool) -> Result<Added> {
    let name = check_domain_name(name)?;
    let t = tenant_for(
        s,
        tenant,
        Some(Need::ManageDomains),
        targets::Purpose::Write { partner_tenant },
    )
    .await?;
    let graph = s.graph();
    let tid = t.id.to_string();
    let existing = graph
        .get_domain(&tid, &name)
        .await
        .map_err(|e| anyhow!("{}: {e}", t.name))?;
    let (res, detail) = match (&existing, what_if) {
        (Some(d), _) if d.is_verified => {
            return Ok(Added {
                result: result(
                    &t,
                    &name,
                    "already_verified",
                    "added and verified already; nothing to do".into(),
                ),
                records: vec![],
            })
        }
        (Some(_), _) => ("already_added", "added already, not verified yet".to_owned()),
        (None, true) => {
            return Ok(Added {
                result: result(&t, &name, "planned", "would add the domain".into()),
                records: vec![],
            })
        }
        (None, false) => {
            graph
                .add_domain(&tid, &name)
                .await
                .map_err(|e| anyhow!("adding {name} to {}: {e}", t.name))?;
            ("added", String::new())
        }
    };
    let records = graph
        .verification_records(&tid, &name)
        .await
        .map_err(|e| anyhow!("{}: {e}", t.name))?;
    let txt = records
        .iter()
        .find(|r| r.record_type == "Txt")
        .map(|r| format!("publish TXT {} \"{}\" at the DNS host", r.label, r.value()))
        .unwrap_or_else(|| "publish the records below at the DNS host".into());
    let detail = [
        detail,
        format!("{txt}, then: tenantctl domains verify {name} --tenant {}", t.id),
    ]
    .into_iter()
    .filter(|x| !x.is_empty())
    .collect::<Vec<_>>()
    .join("; ");
    Ok(Added {
        result: result(&t, &name, res, detail),
        records,
    })
}

/// Verifies `name` in the tenant; result `verified`, `already_verified`, `not_verified`
/// (the DNS record is not visible yet: the detail says which to publish) or `planned`.
pub async fn verify(
    s: &Session,
    tenant: &str,
    name: &str,
    what_if: bool,
    partner_tenant: bool,
) -> Result<DomainResultRow> {
    let name = check_domain_name(name)?;
    let t = tenant_for(
        s,
        tenant,
        Some(Need::ManageDomains),
        targets::Purpose::Write { partner_tenant },
    )
    .await?;
    let graph = s.graph();
    let tid = t.id.to_string();
    match graph
        .get_domain(&tid, &name)
        .await
        .map_err(|e| anyhow!("{}: {e}", t.name))?
    {
        None => bail!(
            "{name} is not a domain of {} yet; add it first: tenantctl domains add {name} --tenant {}",
            t.name,
            t.id
        ),
        Some(d) if d.is_verified => return Ok(result(&t, &name, "already_verified", "verified already".into())),
        Some(_) if what_if => return Ok(result(&t, &name, "planned", "would ask Microsoft to verify it".into())),
        Some(_) => {}
    }
    match graph.verify_domain(&tid, &name).await {
        Ok(d) if d.is_verified => Ok(result(&t, &name, "verified", String::new())),
        Ok(_) => Ok(result(
            &t,
            &name,
            "not_verified",
            "Microsoft has not verified it yet; try again later".into(),
        )),
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
            Ok(result(
                &t,
                &name,
                "not_verified",
                format!(
                    "the DNS record is not visible yet: publish {txt} at the DNS host and try again (DNS changes can take up to 72 hours); Microsoft said: {message}"
                ),
            ))
        }
        Err(e) => Err(anyhow!("verifying {name} in {}: {e}", t.name)),
    }
}

/// The DNS records the domain's services need (MX, SPF, autodiscover, SRV...).
pub async fn records(s: &Session, tenant: &str, name: &str) -> Result<Vec<DnsRecord>> {
    let name = check_domain_name(name)?;
    let t = tenant_for(s, tenant, None, targets::Purpose::Read).await?;
    s.graph()
        .service_records(&t.id.to_string(), &name)
        .await
        .map_err(|e| anyhow!("{}: {e}", t.name))
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

    #[test]
    fn the_srv_record_row_names_its_full_owner_like_the_zone_form() {
        let r: DnsRecord = serde_json::from_value(serde_json::json!({
            "recordType": "Srv", "label": "contoso.com", "ttl": 3600, "isOptional": false,
            "supportedService": "OfficeCommunicationsOnline", "nameTarget": "sipfed.online.lync.com",
            "port": 5061, "priority": 100, "protocol": "_tcp", "service": "_sipfederationtls", "weight": 1
        }))
        .unwrap();
        let row = record_row("contoso.com", &r);
        assert_eq!(row.name, "_sipfederationtls._tcp.contoso.com");
        assert!(
            r.zone_line().starts_with(&format!("{}.", row.name)),
            "{}",
            r.zone_line()
        );
    }
}
