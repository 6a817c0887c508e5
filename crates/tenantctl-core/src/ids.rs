//! Typed ids: a tenant id can't be passed where a SKU id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("'{input}' is not a valid {what}: expected a GUID like 00000000-0000-0000-0000-000000000000")]
pub struct ParseIdError {
    pub what: &'static str,
    pub input: String,
}

macro_rules! guid_id {
    ($name:ident, $what:literal) => {
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.hyphenated())
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;
            fn from_str(s: &str) -> Result<Self, ParseIdError> {
                let t = s.trim();
                if t.len() != 36 {
                    return Err(ParseIdError {
                        what: $what,
                        input: s.to_owned(),
                    });
                }
                Uuid::parse_str(t).map($name).map_err(|_| ParseIdError {
                    what: $what,
                    input: s.to_owned(),
                })
            }
        }
    };
}

guid_id!(TenantId, "tenant id");
guid_id!(ObjectId, "object id");
guid_id!(SkuId, "SKU id");

/// How a user names a tenant on the command line: `--tenant <id|domain|name>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TenantSelector {
    Id(TenantId),
    /// Any of the tenant's domains (`contoso.onmicrosoft.com`, `contoso.com`).
    Domain(String),
    /// The tenant's display name (case-insensitive, exact).
    Name(String),
}

impl TenantSelector {
    pub fn parse(s: &str) -> TenantSelector {
        let t = s.trim();
        if let Ok(id) = t.parse::<TenantId>() {
            TenantSelector::Id(id)
        } else if t.contains('.') && !t.contains(' ') {
            TenantSelector::Domain(t.to_ascii_lowercase())
        } else {
            TenantSelector::Name(t.to_owned())
        }
    }
}

impl fmt::Display for TenantSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TenantSelector::Id(id) => write!(f, "{id}"),
            TenantSelector::Domain(d) => f.write_str(d),
            TenantSelector::Name(n) => f.write_str(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_selector_tells_ids_domains_and_names_apart() {
        let id = "52eaad04-13a2-4a2f-9ce8-93a294fadf36";
        assert_eq!(TenantSelector::parse(id), TenantSelector::Id(id.parse().unwrap()));
        assert_eq!(
            TenantSelector::parse("Contoso.OnMicrosoft.com"),
            TenantSelector::Domain("contoso.onmicrosoft.com".into())
        );
        assert_eq!(
            TenantSelector::parse("Contoso Ltd."),
            TenantSelector::Name("Contoso Ltd.".into())
        );
    }

    #[test]
    fn bad_ids_name_the_input() {
        let e = "1234".parse::<TenantId>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "'1234' is not a valid tenant id: expected a GUID like 00000000-0000-0000-0000-000000000000"
        );
        assert!("52eaad04-13a2-4a2f-9ce8-93a294fadf36".parse::<SkuId>().is_ok());
    }
}
