//! The one role check: may the partner do this in that tenant, judged from its GDAP
//! relationships (learn.microsoft.com/partner-center/customers/gdap-least-privileged-roles-by-task).

use crate::models::GdapRelationship;
use crate::roles::{self, role_name};
use crate::status::TenantStatus;
use crate::TenantId;

/// What a write needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Create or update users: User Administrator.
    ManageUsers,
    /// Assign or remove licences: License Administrator or User Administrator.
    ManageLicences,
    /// Add and verify domains: Domain Name Administrator.
    ManageDomains,
    /// Run Exchange `Get-*` cmdlets. Entra roles map to Exchange role groups
    /// (learn.microsoft.com/exchange/permissions-exo/permissions-exo): Exchange Administrator →
    /// Organization Management, Global Reader → View-Only Organization Management, Exchange
    /// Recipient Administrator → Recipient Management.
    ExchangeRead,
    /// Run Exchange cmdlets that change something (Set-, Add-, New-, Remove-...).
    ExchangeWrite,
}

impl Need {
    /// The roles that grant it (Global Administrator grants everything).
    pub fn roles(self) -> &'static [&'static str] {
        match self {
            Need::ManageUsers => &[roles::USER_ADMINISTRATOR],
            Need::ManageLicences => &[roles::LICENSE_ADMINISTRATOR, roles::USER_ADMINISTRATOR],
            Need::ManageDomains => &[roles::DOMAIN_NAME_ADMINISTRATOR],
            Need::ExchangeRead => &[
                roles::EXCHANGE_ADMINISTRATOR,
                roles::GLOBAL_READER,
                roles::EXCHANGE_RECIPIENT_ADMINISTRATOR,
            ],
            Need::ExchangeWrite => &[roles::EXCHANGE_ADMINISTRATOR, roles::EXCHANGE_RECIPIENT_ADMINISTRATOR],
        }
    }

    fn purpose(self) -> &'static str {
        match self {
            Need::ManageUsers => "needed to create users",
            Need::ManageLicences => "needed to assign licences",
            Need::ManageDomains => "needed to add and verify domains",
            Need::ExchangeRead => "needed to read Exchange Online",
            Need::ExchangeWrite => "needed to change Exchange Online",
        }
    }
}

/// The verdict of the role check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// An active relationship carries a role that grants it.
    Allowed,
    /// No relationship is known for the tenant (app-only access, or a customer outside
    /// GDAP): the service decides, and its 403 is reported per row.
    Unknown,
    /// The tenant's relationships have all ended.
    Expired,
    /// Active relationships exist but none carries a role that grants it.
    RoleMissing(Need),
}

impl Access {
    /// The read-side status word for a refusal (`relationship_expired`, `role_missing`).
    pub fn status(&self) -> Option<TenantStatus> {
        match self {
            Access::Allowed | Access::Unknown => None,
            Access::Expired => Some(TenantStatus::RelationshipExpired),
            Access::RoleMissing(_) => Some(TenantStatus::RoleMissing),
        }
    }

    /// One line saying what is wrong and what to do; `None` when allowed.
    pub fn problem(&self) -> Option<String> {
        match self {
            Access::Allowed | Access::Unknown => None,
            Access::Expired => Some(format!(
                "{}: the GDAP relationship has expired; request a new one in Partner Center",
                TenantStatus::RelationshipExpired
            )),
            Access::RoleMissing(n) => {
                let names: Vec<String> = n.roles().iter().map(|r| role_name(r).to_string()).collect();
                Some(format!(
                    "{}: the GDAP relationship lacks {} ({})",
                    TenantStatus::RoleMissing,
                    names.join(" or "),
                    n.purpose()
                ))
            }
        }
    }
}

/// Checks `need` in `tenant` against the partner's GDAP relationships.
pub fn check(rels: &[GdapRelationship], tenant: TenantId, need: Need) -> Access {
    let mine: Vec<&GdapRelationship> = rels.iter().filter(|r| r.customer_tenant_id == tenant).collect();
    if mine.is_empty() {
        return Access::Unknown;
    }
    let active: Vec<&&GdapRelationship> = mine.iter().filter(|r| r.status == "active").collect();
    if active.is_empty() {
        return if mine.iter().any(|r| r.status == "expired") {
            Access::Expired
        } else {
            Access::Unknown
        };
    }
    let granted = active
        .iter()
        .flat_map(|r| r.role_ids.iter())
        .any(|x| x == roles::GLOBAL_ADMINISTRATOR || need.roles().contains(&x.as_str()));
    if granted {
        Access::Allowed
    } else {
        Access::RoleMissing(need)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(status: &str, roles: &[&str]) -> GdapRelationship {
        GdapRelationship {
            id: "r".into(),
            display_name: "GDAP".into(),
            customer_tenant_id: T.parse().unwrap(),
            customer_name: "Contoso".into(),
            status: status.into(),
            role_ids: roles.iter().map(|r| r.to_string()).collect(),
            created: None,
            end: None,
            auto_extend_duration: "PT0S".into(),
        }
    }
    const T: &str = "52eaad04-13a2-4a2f-9ce8-93a294fadf36";

    #[test]
    fn the_role_check_distinguishes_expired_missing_unknown_and_allowed() {
        let t: TenantId = T.parse().unwrap();
        assert_eq!(check(&[], t, Need::ManageUsers), Access::Unknown);
        assert_eq!(
            check(&[rel("expired", &[roles::USER_ADMINISTRATOR])], t, Need::ManageUsers),
            Access::Expired
        );
        let lic_only = [rel("active", &[roles::LICENSE_ADMINISTRATOR])];
        assert_eq!(
            check(&lic_only, t, Need::ManageUsers),
            Access::RoleMissing(Need::ManageUsers)
        );
        assert_eq!(check(&lic_only, t, Need::ManageLicences), Access::Allowed);
        assert_eq!(
            check(&[rel("active", &[roles::USER_ADMINISTRATOR])], t, Need::ManageLicences),
            Access::Allowed
        );
        assert_eq!(
            check(&[rel("active", &[roles::GLOBAL_ADMINISTRATOR])], t, Need::ManageDomains),
            Access::Allowed
        );
        // An expired relationship next to an active one with the role: allowed.
        let mixed = [rel("expired", &[]), rel("active", &[roles::DOMAIN_NAME_ADMINISTRATOR])];
        assert_eq!(check(&mixed, t, Need::ManageDomains), Access::Allowed);
        let p = check(&lic_only, t, Need::ManageUsers).problem().unwrap();
        assert!(
            p.starts_with("role_missing: the GDAP relationship lacks User Administrator"),
            "{p}"
        );
        let p = Access::Expired.problem().unwrap();
        assert!(p.starts_with("relationship_expired:"), "{p}");
    }

    /// Exchange's read-only role group comes with Global Reader; writes need Exchange
    /// Administrator (or Recipient Administrator); a relationship with neither is refused.
    #[test]
    fn exchange_reads_and_writes_follow_the_exchange_role_groups() {
        let t: TenantId = T.parse().unwrap();
        let reader = [rel("active", &[roles::DIRECTORY_READERS, roles::GLOBAL_READER])];
        assert_eq!(check(&reader, t, Need::ExchangeRead), Access::Allowed);
        assert_eq!(
            check(&reader, t, Need::ExchangeWrite),
            Access::RoleMissing(Need::ExchangeWrite)
        );
        let no_exchange = [rel(
            "active",
            &[
                roles::DIRECTORY_READERS,
                roles::USER_ADMINISTRATOR,
                roles::LICENSE_ADMINISTRATOR,
            ],
        )];
        assert_eq!(
            check(&no_exchange, t, Need::ExchangeRead),
            Access::RoleMissing(Need::ExchangeRead)
        );
        let admin = [rel("active", &[roles::EXCHANGE_ADMINISTRATOR])];
        assert_eq!(check(&admin, t, Need::ExchangeWrite), Access::Allowed);
        assert_eq!(check(&admin, t, Need::ExchangeRead), Access::Allowed);
        let ga = [rel("active", &[roles::GLOBAL_ADMINISTRATOR])];
        assert_eq!(check(&ga, t, Need::ExchangeWrite), Access::Allowed);
        let p = check(&reader, t, Need::ExchangeWrite).problem().unwrap();
        assert!(
            p.contains("Exchange Administrator or Exchange Recipient Administrator"),
            "{p}"
        );
    }
}
