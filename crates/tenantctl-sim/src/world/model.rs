//! The world's typed entities, independent of any service's wire shape: Graph, Partner Center
//! (and next Exchange and usage reports) each render these in their own JSON.

use crate::fleet::{Tenant, User};
use crate::ids::Guid;
use crate::skus::Catalog;
use serde::{Deserialize, Serialize};

/// A licence held by a user: the SKU and the service plans turned off in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignedLicence {
    pub sku_id: Guid,
    #[serde(default)]
    pub disabled_plans: Vec<Guid>,
}

/// A user's full state after writes. Generated users become one on demand.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    pub id: Guid,
    pub user_principal_name: String,
    pub display_name: String,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub job_title: Option<String>,
    pub mail: Option<String>,
    pub mobile_phone: Option<String>,
    pub business_phones: Vec<String>,
    pub office_location: Option<String>,
    pub preferred_language: Option<String>,
    pub account_enabled: bool,
    pub licences: Vec<AssignedLicence>,
    pub city: Option<String>,
    pub country: Option<String>,
    /// Unix seconds.
    pub created: i64,
    pub department: Option<String>,
    pub mail_nickname: String,
    pub usage_location: Option<String>,
    /// "Member" or "Guest".
    pub user_type: String,
    /// B2B guests: the invitation's state (none for members).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalUser>,
}

/// A guest's invitation (resources/user: `creationType` "Invitation", `externalUserState`,
/// `externalUserStateChangeDateTime`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalUser {
    /// "Accepted" or "PendingAcceptance".
    pub state: String,
    /// Unix seconds.
    pub state_changed: i64,
}

impl UserRecord {
    /// The record of generated user `u` of tenant `t`, as generated.
    pub fn generated(t: &Tenant, u: User) -> UserRecord {
        let cat = Catalog::get();
        UserRecord {
            id: u.id,
            user_principal_name: u.user_principal_name,
            display_name: u.display_name,
            given_name: Some(u.given_name.to_owned()),
            surname: Some(u.surname.to_owned()),
            job_title: Some(u.job_title.to_owned()),
            mail: u.mail,
            mobile_phone: u.mobile_phone,
            business_phones: u.business_phones,
            office_location: u.office_location,
            preferred_language: Some(u.preferred_language.to_owned()),
            account_enabled: u.account_enabled,
            licences: u
                .licenses
                .iter()
                .map(|&s| AssignedLicence {
                    sku_id: cat.skus[t.subscriptions[s].sku].id,
                    disabled_plans: vec![],
                })
                .collect(),
            city: Some(u.city.to_owned()),
            country: Some(u.country.to_owned()),
            created: u.created,
            department: Some(u.department.to_owned()),
            mail_nickname: u.mail_nickname,
            usage_location: u.usage_location.map(str::to_owned),
            user_type: "Member".into(),
            external: None,
        }
    }

    /// Whether `key` (object id or UPN, case-insensitive) names this user.
    pub fn is(&self, key: &str) -> bool {
        self.user_principal_name.eq_ignore_ascii_case(key) || self.id.to_string().eq_ignore_ascii_case(key)
    }

    pub fn holds(&self, sku: Guid) -> bool {
        self.licences.iter().any(|l| l.sku_id == sku)
    }
}

/// A user as read: where it sits in the tenant's user list, and its state.
#[derive(Clone, Debug, PartialEq)]
pub struct UserView {
    /// Position in the tenant's listing order (generated users first, then created ones).
    pub index: u64,
    pub user: UserRecord,
}

/// The properties a user update (PATCH) may change; `None` leaves a property alone, and
/// `Some(None)` clears a nullable one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserPatch {
    pub account_enabled: Option<bool>,
    pub business_phones: Option<Vec<String>>,
    pub city: Option<Option<String>>,
    pub country: Option<Option<String>>,
    pub department: Option<Option<String>>,
    pub display_name: Option<String>,
    pub given_name: Option<Option<String>>,
    pub job_title: Option<Option<String>>,
    pub mobile_phone: Option<Option<String>>,
    pub office_location: Option<Option<String>>,
    pub preferred_language: Option<Option<String>>,
    pub surname: Option<Option<String>>,
    pub usage_location: Option<Option<String>>,
}

impl UserPatch {
    pub fn apply_to(self, u: &mut UserRecord) {
        fn set<T>(slot: &mut T, v: Option<T>) {
            if let Some(v) = v {
                *slot = v;
            }
        }
        set(&mut u.account_enabled, self.account_enabled);
        set(&mut u.business_phones, self.business_phones);
        set(&mut u.city, self.city);
        set(&mut u.country, self.country);
        set(&mut u.department, self.department);
        set(&mut u.display_name, self.display_name);
        set(&mut u.given_name, self.given_name);
        set(&mut u.job_title, self.job_title);
        set(&mut u.mobile_phone, self.mobile_phone);
        set(&mut u.office_location, self.office_location);
        set(&mut u.preferred_language, self.preferred_language);
        set(&mut u.surname, self.surname);
        set(&mut u.usage_location, self.usage_location);
    }
}

/// A licence change on one user (assignLicense): SKUs to add (with disabled plans) and remove.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LicenceChange {
    pub add: Vec<AssignedLicence>,
    pub remove: Vec<Guid>,
}

/// One SKU of a tenant with its units, summed over the tenant's subscriptions of it.
#[derive(Clone, Debug, PartialEq)]
pub struct SkuView {
    /// Index into [`Catalog::skus`].
    pub sku: usize,
    pub sku_id: Guid,
    pub enabled: u32,
    pub suspended: u32,
    pub warning: u32,
    pub locked_out: u32,
    /// Units assigned to users now (generated assignments plus writes).
    pub consumed: i64,
    /// "Enabled", "Warning", "Suspended", "LockedOut".
    pub capability_status: &'static str,
    pub subscription_ids: Vec<Guid>,
}

impl SkuView {
    pub fn free(&self) -> i64 {
        self.enabled as i64 - self.consumed
    }
}

/// Why a change to the world was refused. Each service words these its own way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorldError {
    /// No user/domain with that key.
    NotFound,
    /// Another user has this UPN.
    UpnTaken,
    /// The UPN's domain is not a verified domain of the tenant.
    UpnDomainNotVerified,
    NoUsageLocation,
    UnknownSku(Guid),
    NoFreeUnits(Guid),
    NotHeld(Guid),
    DomainExists,
    DomainVerifiedElsewhere(String),
    /// The initial or default domain cannot be deleted.
    DomainProtected,
    /// Verification found no `MS=ms…` TXT record.
    VerificationFailed {
        name: String,
        txt: String,
    },
}
