//! Which customer tenants a command runs in: `--tenant` (id, domain or name; repeatable),
//! `--all-tenants`, `--exclude`.

use crate::session::Session;
use anyhow::{anyhow, bail, Result};
use tenantctl_core::models::Customer;
use tenantctl_core::{TenantId, TenantSelector};
use tenantctl_fanout::Target;
use tenantctl_transport::http::Request;

/// The selection as the user gave it.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub tenants: Vec<String>,
    pub all: bool,
    pub exclude: Vec<String>,
}

pub fn target_of(c: &Customer) -> Target {
    Target {
        id: c.tenant_id,
        name: c.name.clone(),
        relationship_status: Some(c.relationship_status.clone()),
    }
}

/// Resolves a selection to targets (each once, in the order given; `--all-tenants` in the
/// customer list's order).
pub async fn select(s: &Session, sel: &Selection) -> Result<Vec<Target>> {
    if !sel.all && sel.tenants.is_empty() {
        bail!("which customers? give --tenant <id|domain|name> (repeatable) or --all-tenants");
    }
    let list = &s.customers().await?.customers;
    let mut targets = if sel.all {
        list.iter().map(target_of).collect::<Vec<_>>()
    } else {
        let mut v: Vec<Target> = vec![];
        for name in &sel.tenants {
            let t = find(s, name, "--tenant").await?;
            if !v.iter().any(|x| x.id == t.id) {
                v.push(t);
            }
        }
        v
    };
    for name in &sel.exclude {
        let t = find(s, name, "--exclude").await?;
        targets.retain(|x| x.id != t.id);
    }
    if targets.is_empty() {
        bail!("no customer tenant left to run in");
    }
    Ok(targets)
}

/// Finds one tenant by id, domain or name; `flag` names the input in errors.
pub async fn find(s: &Session, sel: &str, flag: &str) -> Result<Target> {
    let list = &s.customers().await?.customers;
    let parsed = TenantSelector::parse(sel);
    let hit = list.iter().find(|c| match &parsed {
        TenantSelector::Id(id) => c.tenant_id == *id,
        TenantSelector::Domain(d) => c.default_domain.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(d)),
        TenantSelector::Name(n) => c.name.eq_ignore_ascii_case(n),
    });
    if let Some(c) = hit {
        return Ok(target_of(c));
    }
    match parsed {
        // Not in the partner's lists: try it anyway; its status will say what is wrong.
        TenantSelector::Id(id) => Ok(Target {
            id,
            name: id.to_string(),
            relationship_status: None,
        }),
        TenantSelector::Domain(d) => match tenant_of_domain(s, &d).await {
            Some(id) => Ok(list
                .iter()
                .find(|c| c.tenant_id == id)
                .map(target_of)
                .unwrap_or(Target {
                    id,
                    name: d.clone(),
                    relationship_status: None,
                })),
            None => bail!("{flag} '{sel}': no tenant has the domain '{d}' (check the spelling and the cloud)"),
        },
        TenantSelector::Name(n) => {
            let near: Vec<&str> = list
                .iter()
                .filter(|c| c.name.to_lowercase().contains(&n.to_lowercase()))
                .map(|c| c.name.as_str())
                .take(5)
                .collect();
            if near.is_empty() {
                Err(anyhow!(
                    "{flag} '{sel}': no customer has that name; `tenantctl customers list` shows them"
                ))
            } else {
                Err(anyhow!(
                    "{flag} '{sel}': no customer has exactly that name; did you mean: {}?",
                    near.join(", ")
                ))
            }
        }
    }
}

/// Looks a domain up the way Entra does: the tenant's OpenID configuration names its id
/// (learn.microsoft.com/entra/identity-platform/v2-protocols-oidc, "Find your app's OpenID
/// configuration document URI").
async fn tenant_of_domain(s: &Session, domain: &str) -> Option<TenantId> {
    let url = format!(
        "{}/{domain}/v2.0/.well-known/openid-configuration",
        s.api().endpoints().authority
    );
    let r = s.api().executor.send(&Request::get(url)).await.ok()?;
    if !r.status.is_success() {
        return None;
    }
    let v: serde_json::Value = r.json().ok()?;
    let issuer = v.get("issuer")?.as_str()?;
    issuer.split('/').find_map(|p| p.parse::<TenantId>().ok())
}
