//! Entra built-in role template ids (GDAP `roleDefinitionId`) and their display names.
//! Source: learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference.

pub const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";
pub const GLOBAL_READER: &str = "f2ef992c-3afb-46b9-b7cf-a126ee74c451";
pub const USER_ADMINISTRATOR: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";
pub const LICENSE_ADMINISTRATOR: &str = "4d6ac14f-3453-41d0-bef9-a3e0c569773a";
pub const DIRECTORY_READERS: &str = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b";
pub const DOMAIN_NAME_ADMINISTRATOR: &str = "8329153b-31d0-4727-b945-745eb3bc5f31";
pub const EXCHANGE_ADMINISTRATOR: &str = "29232cdf-9323-42fd-ade2-1d097af3e4de";
pub const EXCHANGE_RECIPIENT_ADMINISTRATOR: &str = "31392ffb-586c-42d1-9346-e59415a2cc4e";

const ROLES: &[(&str, &str)] = &[
    (GLOBAL_ADMINISTRATOR, "Global Administrator"),
    (GLOBAL_READER, "Global Reader"),
    (USER_ADMINISTRATOR, "User Administrator"),
    (LICENSE_ADMINISTRATOR, "License Administrator"),
    (DIRECTORY_READERS, "Directory Readers"),
    (DOMAIN_NAME_ADMINISTRATOR, "Domain Name Administrator"),
    (EXCHANGE_ADMINISTRATOR, "Exchange Administrator"),
    (EXCHANGE_RECIPIENT_ADMINISTRATOR, "Exchange Recipient Administrator"),
    ("4a5d8f65-41da-4de4-8968-e035b65339cf", "Reports Reader"),
    ("e8611ab8-c189-46e8-94e1-60213ab1f814", "Privileged Role Administrator"),
    ("9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", "Application Administrator"),
    (
        "158c047a-c907-4556-b7ef-446551a6b5f7",
        "Cloud Application Administrator",
    ),
    ("194ae4cb-b126-40b2-bd5b-6091b380977d", "Security Administrator"),
    ("5d6b6bb7-de71-4623-b4af-96380a352509", "Security Reader"),
    ("69091246-20e8-4a56-aa4d-066075b2a7a8", "Teams Administrator"),
    ("f28a1f50-f6e7-4571-818b-6a12f2af6b6c", "SharePoint Administrator"),
    ("b0f54661-2d74-4c50-afa3-1ec803f12efe", "Billing Administrator"),
    ("729827e3-9c14-49f7-bb1b-9608f156bbb8", "Helpdesk Administrator"),
    ("966707d0-3269-4727-9be2-8c3a10f19b9d", "Password Administrator"),
    ("3a2c62db-5318-420d-8d74-23affee5d9d5", "Intune Administrator"),
    (
        "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
        "Privileged Authentication Administrator",
    ),
    ("c4e39bd9-1100-46d3-8c65-fb160da0071f", "Authentication Administrator"),
    (
        "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9",
        "Conditional Access Administrator",
    ),
    ("f023fd81-a637-4b56-95fd-791ac0226033", "Service Support Administrator"),
    ("17315797-102d-40b4-93e0-432062caca18", "Compliance Administrator"),
    (
        "baf37b3a-610e-45da-9e62-d9d1e5e8914b",
        "Teams Communications Administrator",
    ),
];

/// The display name of a role template id, or the id itself when unknown.
pub fn role_name(id: &str) -> &str {
    ROLES
        .iter()
        .find(|(rid, _)| rid.eq_ignore_ascii_case(id))
        .map(|(_, n)| *n)
        .unwrap_or(id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_and_unknown_roles() {
        assert_eq!(
            super::role_name("F2EF992C-3AFB-46B9-B7CF-A126EE74C451"),
            "Global Reader"
        );
        assert_eq!(super::role_name("not-a-role"), "not-a-role");
    }
}
