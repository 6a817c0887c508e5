//! Clouds and their endpoints. Each cloud is an authority host plus the Graph, Partner Center
//! and Exchange hosts; `custom` takes any base URLs (the simulator, a proxy).
//!
//! Sources: learn.microsoft.com/graph/deployments (login and Graph hosts per national cloud,
//! [C]); Exchange hosts from Connect-ExchangeOnline's `-ExchangeEnvironmentName` environments
//! and Partner Center's national endpoints are [I] (not confirmed in a Microsoft page here).

use std::fmt;
use std::str::FromStr;
use url::Url;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloudName {
    Global,
    /// Microsoft Cloud for US Government, GCC High (L4).
    UsGov,
    /// US Government DoD (L5).
    UsGovDod,
    /// Microsoft 365 operated by 21Vianet.
    China,
    Custom,
}

impl FromStr for CloudName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "global" | "public" | "azurecloud" => CloudName::Global,
            "usgov" | "us-gov" | "gcchigh" | "gcc-high" => CloudName::UsGov,
            "usgovdod" | "us-gov-dod" | "dod" => CloudName::UsGovDod,
            "china" | "21vianet" => CloudName::China,
            "custom" => CloudName::Custom,
            _ => {
                return Err(format!(
                    "unknown cloud '{s}': use global, usgov, usgovdod, china or custom"
                ))
            }
        })
    }
}

impl fmt::Display for CloudName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CloudName::Global => "global",
            CloudName::UsGov => "usgov",
            CloudName::UsGovDod => "usgovdod",
            CloudName::China => "china",
            CloudName::Custom => "custom",
        })
    }
}

/// Which service a request is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resource {
    Graph,
    PartnerCenter,
    Exchange,
}

/// Base URLs (no trailing slash) and token resources of one cloud.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    pub cloud: CloudName,
    /// Authority host: `{authority}/{tenant}/oauth2/v2.0/token`.
    pub authority: String,
    /// Graph root: `{graph}/v1.0/users`.
    pub graph: String,
    /// Partner Center root: `{partner_center}/v1/customers`.
    pub partner_center: String,
    /// Exchange root: `{exchange}/adminapi/beta/{tenant}/InvokeCommand`.
    pub exchange: String,
    /// The resource URIs tokens are requested for (`<resource>/.default`).
    pub graph_resource: String,
    pub partner_center_resource: String,
    pub exchange_resource: String,
}

impl Endpoints {
    pub fn for_cloud(cloud: CloudName) -> Option<Endpoints> {
        let e = |authority: &str, graph: &str, pc: &str, exo: &str| Endpoints {
            cloud,
            authority: authority.to_owned(),
            graph: graph.to_owned(),
            partner_center: pc.to_owned(),
            exchange: exo.to_owned(),
            graph_resource: graph.to_owned(),
            partner_center_resource: pc.to_owned(),
            exchange_resource: exo.to_owned(),
        };
        Some(match cloud {
            CloudName::Global => e(
                "https://login.microsoftonline.com",
                "https://graph.microsoft.com",
                "https://api.partnercenter.microsoft.com",
                "https://outlook.office365.com",
            ),
            CloudName::UsGov => e(
                "https://login.microsoftonline.us",
                "https://graph.microsoft.us",
                "https://api.partnercenter.microsoftonline.us",
                "https://outlook.office365.us",
            ),
            CloudName::UsGovDod => e(
                "https://login.microsoftonline.us",
                "https://dod-graph.microsoft.us",
                "https://api.partnercenter.microsoftonline.us",
                "https://outlook-dod.office365.us",
            ),
            CloudName::China => e(
                "https://login.chinacloudapi.cn",
                "https://microsoftgraph.chinacloudapi.cn",
                "https://partner.partnercenterapi.microsoftonline.cn",
                "https://partner.outlook.cn",
            ),
            CloudName::Custom => return None,
        })
    }

    /// Every service under one base URL with the simulator's prefixes (`/login`, `/graph`,
    /// `/partnercenter`, `/outlook`); tokens are requested for the global resources.
    pub fn custom(base: &str) -> Result<Endpoints, String> {
        let u = Url::parse(base).map_err(|e| format!("endpoint '{base}' is not a URL: {e}"))?;
        if !matches!(u.scheme(), "http" | "https") {
            return Err(format!("endpoint '{base}': use an http:// or https:// URL"));
        }
        let b = base.trim_end_matches('/');
        let g = Endpoints::for_cloud(CloudName::Global).expect("global");
        Ok(Endpoints {
            cloud: CloudName::Custom,
            authority: format!("{b}/login"),
            graph: format!("{b}/graph"),
            partner_center: format!("{b}/partnercenter"),
            exchange: format!("{b}/outlook"),
            ..g
        })
    }

    pub fn token_url(&self, tenant: &str) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.authority, tenant)
    }

    pub fn device_code_url(&self, tenant: &str) -> String {
        format!("{}/{}/oauth2/v2.0/devicecode", self.authority, tenant)
    }

    pub fn resource_uri(&self, r: Resource) -> &str {
        match r {
            Resource::Graph => &self.graph_resource,
            Resource::PartnerCenter => &self.partner_center_resource,
            Resource::Exchange => &self.exchange_resource,
        }
    }

    /// The `.default` scope of a resource.
    pub fn scope(&self, r: Resource) -> String {
        format!("{}/.default", self.resource_uri(r))
    }

    pub fn graph_v1(&self, path: &str) -> String {
        format!("{}/v1.0/{}", self.graph, path.trim_start_matches('/'))
    }

    pub fn partner_center_v1(&self, path: &str) -> String {
        format!("{}/v1/{}", self.partner_center, path.trim_start_matches('/'))
    }

    /// The base URL of a resource's service.
    pub fn base_of(&self, r: Resource) -> &str {
        match r {
            Resource::Graph => &self.graph,
            Resource::PartnerCenter => &self.partner_center,
            Resource::Exchange => &self.exchange,
        }
    }

    /// Whether `url` is on the service's own origin (scheme, host and port), the only place its
    /// token may be sent.
    pub fn is_origin_of(&self, r: Resource, url: &str) -> bool {
        let origin = |u: &str| Url::parse(u).ok().map(|u| u.origin());
        match (origin(self.base_of(r)), origin(url)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        }
    }

    /// Exchange's admin API in a tenant: `{exchange}/adminapi/beta/{tenant}/{path}`
    /// (`InvokeCommand`, `$batch`), the form the Exchange Online V3 module and CIPP call.
    pub fn exchange_admin(&self, tenant: &str, path: &str) -> String {
        format!(
            "{}/adminapi/beta/{}/{}",
            self.exchange,
            tenant,
            path.trim_start_matches('/')
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(u: &str) -> String {
        Url::parse(u).unwrap().host_str().unwrap().to_owned()
    }

    #[test]
    fn each_national_cloud_changes_every_host() {
        let global = Endpoints::for_cloud(CloudName::Global).unwrap();
        for cloud in [CloudName::UsGov, CloudName::UsGovDod, CloudName::China] {
            let e = Endpoints::for_cloud(cloud).unwrap();
            for (a, b) in [
                (&e.authority, &global.authority),
                (&e.graph, &global.graph),
                (&e.partner_center, &global.partner_center),
                (&e.exchange, &global.exchange),
            ] {
                assert_ne!(host(a), host(b), "{cloud}: {a} must differ from the global host");
            }
            assert!(
                e.scope(Resource::Graph).starts_with(&e.graph),
                "{cloud}: Graph scope must use the cloud's Graph host"
            );
            assert!(e.token_url("contoso.onmicrosoft.com").starts_with(&e.authority));
        }
    }

    #[test]
    fn documented_hosts_per_cloud() {
        // learn.microsoft.com/graph/deployments
        let g = |c| Endpoints::for_cloud(c).unwrap();
        assert_eq!(g(CloudName::Global).graph, "https://graph.microsoft.com");
        assert_eq!(g(CloudName::UsGov).graph, "https://graph.microsoft.us");
        assert_eq!(g(CloudName::UsGovDod).graph, "https://dod-graph.microsoft.us");
        assert_eq!(g(CloudName::China).graph, "https://microsoftgraph.chinacloudapi.cn");
        assert_eq!(g(CloudName::UsGov).authority, "https://login.microsoftonline.us");
        assert_eq!(g(CloudName::China).authority, "https://login.chinacloudapi.cn");
    }

    #[test]
    fn custom_puts_every_service_under_one_base() {
        let e = Endpoints::custom("http://127.0.0.1:8080/").unwrap();
        assert_eq!(e.token_url("t"), "http://127.0.0.1:8080/login/t/oauth2/v2.0/token");
        assert_eq!(e.graph_v1("/users"), "http://127.0.0.1:8080/graph/v1.0/users");
        assert_eq!(
            e.partner_center_v1("customers"),
            "http://127.0.0.1:8080/partnercenter/v1/customers"
        );
        assert_eq!(e.scope(Resource::Graph), "https://graph.microsoft.com/.default");
        assert!(Endpoints::custom("ftp://x").is_err());
        assert!(Endpoints::custom("not a url").is_err());
    }
}
