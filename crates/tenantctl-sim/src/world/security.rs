//! The world's security data, partners' first questions about every customer: who holds a
//! directory role, when each user last signed in, who registered for MFA. Each is a pure
//! function of (seed, tenant, user) plus the overlay, computed per request (O(users of the
//! tenant) at most, never O(fleet)); nothing is materialised. Services render it (Graph:
//! `services/graph/security.rs`); the rules are in `docs/simulator-security.md`.
//!
//! Ground truth rules:
//! * **Role assignments**: each customer has 1–3 Global Administrators and a deterministic
//!   handful of other admins (User, Exchange, Helpdesk, SharePoint, Teams, Billing, Security
//!   Administrators, Global and Security Readers…) among its generated users, preferably
//!   enabled, licensed members. A deleted user loses its assignments; created users hold none.
//! * **Sign-in activity** follows the user's Exchange mailbox (`mailboxes.rs`): interactive =
//!   `LastUserActionTime`, non-interactive = `LastLogonTime` (a phone's mail client refreshing
//!   tokens; the same unreliable recency). Accounts of resource mailboxes never sign in; users
//!   without a mailbox get their own draw (20% never signed in). A disabled account signed in
//!   last before it was disabled (14–393 days ago). 6% of last interactive attempts failed:
//!   their last successful sign-in is older. `[I]` throughout.
//! * **MFA registration**: 75% of admins and a per-tenant share (35–95%) of members registered
//!   a strong method; guests rarely (10%). `isMfaCapable ⇒ isMfaRegistered`,
//!   `isSsprCapable ⇒ isSsprRegistered ∧ isSsprEnabled` by construction; `isAdmin` ⇔ the user
//!   holds a role assignment.

use super::fleet::{roles, Tenant};
use super::mailboxes::MailboxKind;
use super::model::{SkuView, UserRecord, UserView};
use super::TenantView;
use crate::ids::{hash, unit, Guid, Rng};
use crate::skus::Catalog;
use base64::Engine;
use std::collections::BTreeSet;

const DAY: i64 = 86_400;

/// A built-in Entra role: template id (also the role definition's id), display name and
/// description, from learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference.
#[derive(Debug, PartialEq, Eq)]
pub struct RoleDef {
    pub id: &'static str,
    pub display_name: &'static str,
    pub description: &'static str,
}

const fn def(id: &'static str, display_name: &'static str, description: &'static str) -> RoleDef {
    RoleDef {
        id,
        display_name,
        description,
    }
}

/// The built-in roles the simulator knows: the ones assigned in customers plus the ones GDAP
/// grants the partner (so a client can name every role id it meets).
pub static ROLE_DEFINITIONS: &[RoleDef] = &[
    def(roles::GLOBAL_ADMINISTRATOR, "Global Administrator", "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities."),
    def(roles::GLOBAL_READER, "Global Reader", "Can read everything that a Global Administrator can, but not update anything."),
    def(roles::USER_ADMINISTRATOR, "User Administrator", "Can manage all aspects of users and groups, including resetting passwords for limited admins."),
    def(roles::EXCHANGE_ADMINISTRATOR, "Exchange Administrator", "Can manage all aspects of the Exchange product."),
    def(roles::HELPDESK_ADMINISTRATOR, "Helpdesk Administrator", "Can reset passwords for non-administrators and Helpdesk Administrators."),
    def(roles::SHAREPOINT_ADMINISTRATOR, "SharePoint Administrator", "Can manage all aspects of the SharePoint service."),
    def(roles::TEAMS_ADMINISTRATOR, "Teams Administrator", "Can manage the Microsoft Teams service."),
    def(roles::BILLING_ADMINISTRATOR, "Billing Administrator", "Can perform common billing related tasks like updating payment information."),
    def(roles::SECURITY_ADMINISTRATOR, "Security Administrator", "Can read security information and reports, and manage configuration in Microsoft Entra ID and Office 365."),
    def(roles::SECURITY_READER, "Security Reader", "Can read security information and reports in Microsoft Entra ID and Office 365."),
    def(roles::REPORTS_READER, "Reports Reader", "Can read sign-in and audit reports."),
    def(roles::LICENSE_ADMINISTRATOR, "License Administrator", "Can manage product licenses on users and groups."),
    def(roles::PRIVILEGED_ROLE_ADMINISTRATOR, "Privileged Role Administrator", "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management."),
    def(roles::AUTHENTICATION_ADMINISTRATOR, "Authentication Administrator", "Can access to view, set and reset authentication method information for any non-admin user."),
    def(roles::CONDITIONAL_ACCESS_ADMINISTRATOR, "Conditional Access Administrator", "Can manage Conditional Access capabilities."),
    def(roles::APPLICATION_ADMINISTRATOR, "Application Administrator", "Can create and manage all aspects of app registrations and enterprise apps."),
    def(roles::DIRECTORY_READERS, "Directory Readers", "Can read basic directory information. Commonly used to grant directory read access to applications and guests."),
    def(roles::DOMAIN_NAME_ADMINISTRATOR, "Domain Name Administrator", "Can manage domain names in cloud and on-premises."),
];

pub fn role_def(id: &str) -> Option<&'static RoleDef> {
    ROLE_DEFINITIONS.iter().find(|r| r.id.eq_ignore_ascii_case(id))
}

/// Roles assigned in customers beside Global Administrator: (role, share of tenants having
/// holders, most holders). `[I]`: an SMB-shaped guess.
const ASSIGNED: &[(&str, f64, u64)] = &[
    (roles::USER_ADMINISTRATOR, 0.35, 2),
    (roles::EXCHANGE_ADMINISTRATOR, 0.30, 1),
    (roles::GLOBAL_READER, 0.30, 2),
    (roles::HELPDESK_ADMINISTRATOR, 0.25, 2),
    (roles::BILLING_ADMINISTRATOR, 0.20, 1),
    (roles::SHAREPOINT_ADMINISTRATOR, 0.15, 1),
    (roles::TEAMS_ADMINISTRATOR, 0.15, 1),
    (roles::SECURITY_ADMINISTRATOR, 0.15, 1),
    (roles::SECURITY_READER, 0.10, 1),
    (roles::LICENSE_ADMINISTRATOR, 0.10, 1),
    (roles::REPORTS_READER, 0.08, 1),
    (roles::AUTHENTICATION_ADMINISTRATOR, 0.05, 1),
    (roles::PRIVILEGED_ROLE_ADMINISTRATOR, 0.05, 1),
];

/// One directory role assignment at tenant scope (`/`).
#[derive(Clone, Debug, PartialEq)]
pub struct RoleAssignment {
    /// Graph's id: base64url of the role's and the principal's GUID bytes, then `-1`.
    pub id: String,
    pub role: &'static RoleDef,
    pub principal: UserView,
}

/// A GUID's bytes as .NET writes them (the first three fields little-endian).
fn guid_bytes_le(g: Guid) -> [u8; 16] {
    let b = g.0;
    [
        b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15],
    ]
}

/// The id Graph gives a directory role assignment: in rbacapplication-list-roleassignments,
/// `lAPpYvVpN0KRkAEhdxReEMmO4KwRqtpKkUWt3wOYIz4-1` is Global Administrator
/// (`62e90394-…`) for principal `ace08ec9-…`: base64url of both GUIDs' bytes plus `-1`.
pub fn assignment_id(role: &str, principal: Guid) -> String {
    let role: Guid = role.parse().unwrap_or(Guid([0; 16]));
    let mut raw = Vec::with_capacity(32);
    raw.extend_from_slice(&guid_bytes_le(role));
    raw.extend_from_slice(&guid_bytes_le(principal));
    format!("{}-1", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw))
}

/// A word of a GUID for hashing.
fn id_word(g: Guid) -> u64 {
    let b = g.0;
    u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
        ^ u64::from_le_bytes([b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]]).rotate_left(29)
}

impl TenantView<'_> {
    fn seed(&self) -> u64 {
        self.fleet.config.seed
    }

    /// A generated user to hold a role: from a hashed start, the first enabled, licensed
    /// user among 16 (else the first one probed).
    fn pick_holder(&self, salt: u64) -> Option<u32> {
        let t = self.t;
        let n = t.user_count;
        if n == 0 {
            return None;
        }
        let start = (hash(&[self.seed(), t.idx as u64, salt, 0xAD]) % n as u64) as u32;
        let probes = n.min(16);
        (0..probes)
            .map(|k| (start + k) % n)
            .find(|&i| {
                let u = self.fleet.user(t, i);
                u.account_enabled && !u.licenses.is_empty()
            })
            .or(Some(start))
    }

    /// The tenant's directory role assignments now (generated holders still present), in
    /// role order. Only customers carry them.
    pub fn role_assignments(&self) -> Vec<RoleAssignment> {
        let t = self.t;
        if t.kind != super::fleet::TenantKind::Customer {
            return vec![];
        }
        let seed = self.seed();
        let mut rng = Rng::new(&[seed, t.idx as u64, 0xA5]);
        let mut picks: Vec<(&'static str, u32)> = Vec::new();
        let add = |role: &'static str, salt: u64, picks: &mut Vec<(&'static str, u32)>| {
            if let Some(i) = self.pick_holder(salt) {
                if !picks.contains(&(role, i)) {
                    picks.push((role, i));
                }
            }
        };
        for k in 0..rng.range(1, 3) {
            add(roles::GLOBAL_ADMINISTRATOR, k, &mut picks);
        }
        for (r, (role, share, most)) in ASSIGNED.iter().enumerate() {
            // Bigger tenants delegate more.
            let share = if t.user_count > 50 {
                (share * 1.8).min(0.9)
            } else {
                *share
            };
            if rng.chance(share) {
                for k in 0..rng.range(1, *most) {
                    add(role, 100 + r as u64 * 10 + k, &mut picks);
                }
            }
        }
        picks
            .into_iter()
            .filter_map(|(role, i)| {
                let v = self.user_at(i as u64)?;
                Some(RoleAssignment {
                    id: assignment_id(role, v.user.id),
                    role: role_def(role).expect("assigned roles are defined"),
                    principal: v,
                })
            })
            .collect()
    }

    /// Object ids of the users holding at least one directory role (`isAdmin`).
    pub fn admin_ids(&self) -> BTreeSet<Guid> {
        self.role_assignments()
            .into_iter()
            .map(|a| a.principal.user.id)
            .collect()
    }

    /// Whether the tenant holds Entra ID P1 or P2: a subscribed SKU, not suspended, whose
    /// service plans include `AAD_PREMIUM` or `AAD_PREMIUM_P2` (Business Premium, E3, E5, F3,
    /// EMS, Entra ID P1…). signInActivity and the authentication-methods reports need it.
    pub fn has_entra_premium(&self) -> bool {
        has_entra_premium(&self.skus())
    }

    /// The user's sign-in activity now (see the module's rules).
    pub fn sign_in(&self, v: &UserView, now: i64) -> SignIn {
        sign_in_of(self, &v.user, v.index, now)
    }

    /// The user's authentication-method registration now.
    pub fn registration(&self, u: &UserRecord, is_admin: bool, now: i64) -> Registration {
        registration_of(self.seed(), self.t, u, is_admin, now)
    }
}

pub fn has_entra_premium(skus: &[SkuView]) -> bool {
    let cat = Catalog::get();
    skus.iter().any(|s| {
        s.capability_status != "Suspended"
            && s.enabled + s.warning > 0
            && cat.skus[s.sku]
                .plans
                .iter()
                .any(|p| p.name == "AAD_PREMIUM" || p.name == "AAD_PREMIUM_P2")
    })
}

/// signInActivity: Unix seconds (None: never) and request ids.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SignIn {
    pub last_sign_in: Option<(i64, Guid)>,
    pub last_non_interactive: Option<(i64, Guid)>,
    pub last_successful: Option<(i64, Guid)>,
}

impl SignIn {
    /// Never signed in at all.
    pub fn is_never(&self) -> bool {
        self.last_sign_in.is_none() && self.last_non_interactive.is_none()
    }
}

fn sign_in_of(view: &TenantView<'_>, u: &UserRecord, index: u64, now: i64) -> SignIn {
    let seed = view.seed();
    let t = view.t;
    let w = id_word(u.id);
    let h = |salt: u64| hash(&[seed, t.idx as u64, w, salt]);
    let life = now - u.created;
    // A guest who never redeemed the invitation never signed in.
    if u.external.as_ref().is_some_and(|e| e.state == "PendingAcceptance") {
        return SignIn::default();
    }
    let (mut inter, mut non) = match view.mailbox_of(u, index, now) {
        Some(m) if m.kind == MailboxKind::User => (m.activity.last_user_action, m.activity.last_logon),
        // The disabled account behind a shared, room or equipment mailbox never signs in.
        Some(_) => (None, None),
        None if life < DAY || unit(h(0x51)) < 0.2 => (None, None),
        None => {
            let mut rng = Rng::new(&[seed, t.idx as u64, w, 0x52]);
            let a = (rng.below(150 * DAY as u64) as i64).min(life);
            let n = rng.chance(0.6).then(|| (rng.below(10 * DAY as u64) as i64).min(life));
            (Some(now - a), n.map(|n| now - n))
        }
    };
    if !u.account_enabled {
        // Disabled some days ago: nothing after that.
        let off = now - (14 + (h(0x53) % 380) as i64) * DAY;
        let clamp = |x: Option<i64>, salt: u64| {
            x.map(|x| {
                if x > off {
                    off - (h(salt) % DAY as u64) as i64
                } else {
                    x
                }
            })
            .filter(|&x| x >= u.created)
        };
        inter = clamp(inter, 0x54);
        non = clamp(non, 0x55);
    }
    let rid = |salt: u64, ts: i64| Guid::from_parts(&[seed, t.idx as u64, w, salt, ts as u64]);
    let failed = inter.is_some() && unit(h(0x56)) < 0.06;
    let inter_success = match inter {
        Some(x) if failed => Some(x - (1 + (h(0x57) % 20) as i64) * DAY).filter(|&y| y >= u.created),
        other => other,
    };
    let success = match (inter_success, non) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    SignIn {
        last_sign_in: inter.map(|x| (x, rid(0x61, x))),
        last_non_interactive: non.map(|x| (x, rid(0x62, x))),
        last_successful: success.map(|x| {
            // The same sign-in as the interactive or non-interactive one when it is that one.
            let same = if Some(x) == inter && !failed {
                rid(0x61, x)
            } else if Some(x) == non {
                rid(0x62, x)
            } else {
                rid(0x63, x)
            };
            (x, same)
        }),
    }
}

/// userRegistrationDetails of one user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    pub is_admin: bool,
    pub methods: Vec<&'static str>,
    pub is_mfa_registered: bool,
    pub is_mfa_capable: bool,
    pub is_passwordless_capable: bool,
    pub is_sspr_enabled: bool,
    pub is_sspr_registered: bool,
    pub is_sspr_capable: bool,
    pub is_system_preferred_enabled: bool,
    pub system_preferred: Vec<&'static str>,
    /// `push, oath, voiceMobile, sms, none` (or `""` for guests, as the documented example shows).
    pub user_preferred: &'static str,
    /// Unix seconds of the report's refresh.
    pub last_updated: i64,
    /// `member` or `guest`.
    pub user_type: &'static str,
}

fn registration_of(seed: u64, t: &Tenant, u: &UserRecord, is_admin: bool, now: i64) -> Registration {
    let ti = t.idx as u64;
    let w = id_word(u.id);
    let tenant_draw = |salt: u64| unit(hash(&[seed, ti, salt]));
    let guest = u.user_type.eq_ignore_ascii_case("guest");
    // Tenant policies [I]: SSPR for all users in 55% of tenants, system-preferred MFA on in 90%,
    // and an MFA adoption share of 35–95% of members.
    let sspr_policy = tenant_draw(0x70) < 0.55;
    let system_preferred_on = tenant_draw(0x71) < 0.9;
    let adoption = 0.35 + 0.6 * tenant_draw(0x72);
    let mut rng = Rng::new(&[seed, ti, w, 0x73]);
    let p = if guest {
        0.1
    } else if is_admin {
        0.75
    } else {
        adoption
    };
    let mfa = rng.chance(p);
    let mut methods: Vec<&'static str> = Vec::new();
    if mfa {
        let push = rng.chance(0.8);
        if push {
            methods.push("microsoftAuthenticatorPush");
        }
        if rng.chance(if push { 0.4 } else { 0.3 }) {
            methods.push("softwareOneTimePasscode");
        }
        if rng.chance(0.45) || methods.is_empty() {
            methods.insert(0, "mobilePhone");
        }
        if rng.chance(0.05) {
            methods.push("fido2");
        }
        if rng.chance(0.08) {
            methods.push("windowsHelloForBusiness");
        }
    }
    if rng.chance(0.15) {
        methods.push("email");
    }
    let sspr_enabled = sspr_policy && !guest;
    let sspr_registered = !methods.is_empty() && rng.chance(0.85);
    let mfa_capable = mfa && rng.chance(0.95);
    let user_preferred = if !mfa {
        if guest {
            ""
        } else {
            "none"
        }
    } else if methods.contains(&"microsoftAuthenticatorPush") {
        "push"
    } else if methods.contains(&"softwareOneTimePasscode") {
        "oath"
    } else if rng.chance(0.5) {
        "sms"
    } else {
        "voiceMobile"
    };
    let system_preferred = if system_preferred_on && mfa {
        let m = if methods.contains(&"fido2") {
            "Fido2"
        } else if methods.contains(&"microsoftAuthenticatorPush") {
            "push"
        } else if methods.contains(&"softwareOneTimePasscode") {
            "oath"
        } else {
            "sms"
        };
        vec![m]
    } else {
        vec![]
    };
    // The report refreshes every few hours [I].
    let period = 4 * 3600;
    let last_updated = now - (now + (hash(&[seed, ti, 0x74]) % period as u64) as i64).rem_euclid(period);
    Registration {
        is_admin,
        is_passwordless_capable: methods.contains(&"fido2") || methods.contains(&"windowsHelloForBusiness"),
        methods,
        is_mfa_registered: mfa,
        is_mfa_capable: mfa_capable,
        is_sspr_enabled: sspr_enabled,
        is_sspr_registered: sspr_registered,
        is_sspr_capable: sspr_enabled && sspr_registered && u.account_enabled,
        is_system_preferred_enabled: system_preferred_on,
        system_preferred,
        user_preferred,
        last_updated,
        user_type: if guest { "guest" } else { "member" },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::{Fleet, FleetConfig};
    use crate::world::World;

    #[test]
    fn some_customers_hold_entra_id_p1_and_some_do_not() {
        let mut c = FleetConfig::new(1, 400);
        c.anchor = 1_764_028_800;
        let world = World::new(std::sync::Arc::new(Fleet::generate(c)));
        let customers = world.fleet.customers();
        let p1 = customers.iter().filter(|t| world.tenant(t).has_entra_premium()).count();
        let share = p1 as f64 / customers.len() as f64;
        println!("{p1} of {} customers hold Entra ID P1/P2 ({share:.2})", customers.len());
        assert!((0.3..0.85).contains(&share), "{share}");
        // Every customer has 1–3 Global Administrators.
        let now = 1_764_028_800;
        let (mut admins, mut without_mfa) = (0, 0);
        for t in customers {
            let v = world.tenant(t);
            let a = v.role_assignments();
            let gas = a.iter().filter(|x| x.role.id == roles::GLOBAL_ADMINISTRATOR).count();
            assert!((1..=3).contains(&gas), "{gas}");
            for id in v.admin_ids() {
                admins += 1;
                let u = v.user(&id.to_string()).unwrap();
                if !v.registration(&u.user, true, now).is_mfa_registered {
                    without_mfa += 1;
                }
            }
        }
        println!("{admins} admins, {without_mfa} without MFA");
        assert!(without_mfa > 0 && without_mfa < admins / 2);
    }

    #[test]
    fn assignment_ids_follow_the_documented_example() {
        // rbacapplication-list-roleassignments, example 1.
        let p: Guid = "ace08ec9-aa11-4ada-9145-addf0398233e".parse().unwrap();
        assert_eq!(
            assignment_id(roles::GLOBAL_ADMINISTRATOR, p),
            "lAPpYvVpN0KRkAEhdxReEMmO4KwRqtpKkUWt3wOYIz4-1"
        );
    }
}
