//! Exchange Online as its admin API renders it (`InvokeCommand`): the mailbox and statistics
//! models, the value forms Exchange uses (sizes as `ByteQuantifiedSize` text, several date
//! forms, `smtp:` prefixes), and the stale-mailbox rule. Pure; the client decodes the wire.

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

/// One mailbox (`Get-Mailbox`), the properties tenantctl's views use.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mailbox {
    pub user_principal_name: String,
    pub display_name: String,
    pub primary_smtp_address: String,
    /// `RecipientTypeDetails`: UserMailbox, SharedMailbox, RoomMailbox, EquipmentMailbox...
    pub recipient_type_details: String,
    /// The Entra object id (`ExternalDirectoryObjectId`), the join key to Graph's users.
    pub external_directory_object_id: Option<String>,
    pub exchange_guid: Option<String>,
    /// An archive mailbox exists (`ArchiveStatus` Active or a non-zero `ArchiveGuid`).
    pub archive: bool,
    pub litigation_hold: bool,
    pub hidden_from_address_lists: bool,
    /// `ForwardingSmtpAddress` without its `smtp:` prefix.
    pub forwarding_smtp_address: Option<String>,
    /// `ForwardingAddress` (a recipient of the tenant).
    pub forwarding_address: Option<String>,
    pub deliver_to_mailbox_and_forward: bool,
    /// `WhenMailboxCreated`.
    pub created: Option<OffsetDateTime>,
}

/// A mailbox's statistics (`Get-MailboxStatistics`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MailboxStatistics {
    /// `TotalItemSize` in bytes.
    pub total_item_size: Option<u64>,
    pub item_count: Option<u64>,
    pub deleted_item_count: Option<u64>,
    pub total_deleted_item_size: Option<u64>,
    /// Unreliable for staleness (background access moves it); shown, never judged on.
    pub last_logon_time: Option<OffsetDateTime>,
    pub last_user_action_time: Option<OffsetDateTime>,
    pub last_interaction_time: Option<OffsetDateTime>,
}

impl MailboxStatistics {
    /// The last time a person used the mailbox: the later of `LastUserActionTime` and
    /// `LastInteractionTime` (Microsoft's replacement for `LastLogonTime`, which services
    /// touch without any user: learn.microsoft.com/powershell/module/exchange/get-mailboxstatistics).
    pub fn last_activity(&self) -> Option<OffsetDateTime> {
        match (self.last_user_action_time, self.last_interaction_time) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }
}

/// The stale-mailbox rule of `mailboxes stale --days N` (the modern `Get-StaleMailboxReport`):
/// nobody has used the mailbox for `days` days. A mailbox never used counts from its creation
/// (a new one is not stale); never used and of unknown age, it is stale.
pub fn is_stale(mailbox: &Mailbox, stats: &MailboxStatistics, now: OffsetDateTime, days: u32) -> bool {
    let cutoff = now - Duration::days(i64::from(days));
    match stats.last_activity().or(mailbox.created) {
        Some(t) => t < cutoff,
        None => true,
    }
}

/// Whole days since the mailbox was last used (`None` when never).
pub fn days_inactive(stats: &MailboxStatistics, now: OffsetDateTime) -> Option<i64> {
    stats.last_activity().map(|t| (now - t).whole_days().max(0))
}

/// Bytes of an Exchange `ByteQuantifiedSize` as `InvokeCommand` renders it:
/// `"984.7 MB (1,032,552,448 bytes)"`, `"0 B (0 bytes)"`; the exact count in parentheses is
/// the value (CIPP's `Get-ExoOnlineStringBytes` reads the same). `"Unlimited"` and text
/// without the byte count give `None`. A bare integer is taken as bytes (the typed OData
/// functions return `Edm.Int64`).
pub fn parse_byte_quantified(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u64>() {
        return Some(n);
    }
    let open = s.rfind('(')?;
    let inner = s[open + 1..].strip_suffix(')')?.trim();
    let digits = inner
        .strip_suffix("bytes")
        .or_else(|| inner.strip_suffix("byte"))?
        .trim();
    let clean: String = digits.chars().filter(|c| *c != ',' && *c != '.' && *c != ' ').collect();
    if clean.is_empty() || !clean.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    clean.parse().ok()
}

/// A date-time as Exchange's JSON carries it: ISO 8601 with or without an offset (no offset
/// means UTC, as Exchange stores these times), or the `/Date(1700000000000)/` form of older
/// serialisers. Anything else (and empty) is `None`.
pub fn parse_exo_time(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(ms) = s.strip_prefix("/Date(").and_then(|r| r.strip_suffix(")/")) {
        // `/Date(1700000000000+0000)/`: the offset is informational; the number is UTC.
        // (A sign at the start is the number's own; found by chars: the text is untrusted.)
        let end = ms
            .char_indices()
            .skip(1)
            .find(|(_, c)| matches!(c, '+' | '-'))
            .map_or(ms.len(), |(i, _)| i);
        let ms: i64 = ms[..end].parse().ok()?;
        return OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok();
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t);
    }
    // No offset: `2024-05-01T10:00:00` or with fractional seconds.
    let fmt = time::macros::format_description!(
        version = 2,
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    PrimitiveDateTime::parse(s, &fmt)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// `smtp:adele@contoso.com` → `adele@contoso.com` (Exchange stores forwarding addresses with
/// their proxy prefix).
pub fn strip_proxy_prefix(s: &str) -> &str {
    match s.split_once(':') {
        Some((p, rest)) if p.eq_ignore_ascii_case("smtp") => rest,
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    /// Real `TotalItemSize` texts (contract §1.7, Exchange output quoted by Petri 2018).
    #[test]
    fn byte_quantified_sizes_read_the_exact_byte_count() {
        let cases = [
            ("0 B (0 bytes)", Some(0)),
            ("864 KB (884,736 bytes)", Some(884_736)),
            ("2.625 MB (2,752,512 bytes)", Some(2_752_512)),
            ("4.719 MB (4,947,968 bytes)", Some(4_947_968)),
            ("984.7 MB (1,032,552,448 bytes)", Some(1_032_552_448)),
            ("6.065 GB (6,512,255,010 bytes)", Some(6_512_255_010)),
            ("130 MB (136,304,982 bytes)", Some(136_304_982)),
            ("99 GB (106,300,440,576 bytes)", Some(106_300_440_576)),
            ("3.322 KB (3,402 bytes)", Some(3_402)),
            ("1 B (1 byte)", Some(1)),
            ("123456", Some(123_456)),
            ("Unlimited", None),
            ("", None),
            ("12 MB", None),
            ("12 MB (lots of bytes)", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_byte_quantified(text), want, "{text:?}");
        }
    }

    #[test]
    fn exchange_times_in_each_form() {
        let want = datetime!(2024-05-01 10:00:00 UTC);
        assert_eq!(parse_exo_time("2024-05-01T10:00:00Z"), Some(want));
        assert_eq!(parse_exo_time("2024-05-01T12:00:00+02:00"), Some(want));
        assert_eq!(parse_exo_time("2024-05-01T10:00:00"), Some(want));
        assert_eq!(
            parse_exo_time("2024-05-01T10:00:00.5"),
            Some(want + Duration::milliseconds(500))
        );
        assert_eq!(parse_exo_time("/Date(1714557600000)/"), Some(want));
        assert_eq!(parse_exo_time("/Date(1714557600000+0000)/"), Some(want));
        assert_eq!(parse_exo_time(""), None);
        assert_eq!(parse_exo_time("yesterday"), None);
    }

    #[test]
    fn staleness_is_judged_on_user_activity_not_logons() {
        let now = datetime!(2026-11-25 12:00:00 UTC);
        let mb = Mailbox {
            created: Some(now - Duration::days(400)),
            ..Default::default()
        };
        let old = now - Duration::days(45);
        let recent = now - Duration::days(3);
        let stats = |ua, ia, logon| MailboxStatistics {
            last_user_action_time: ua,
            last_interaction_time: ia,
            last_logon_time: logon,
            ..Default::default()
        };
        // A service logged on yesterday; nobody used it for 45 days: stale.
        assert!(is_stale(&mb, &stats(Some(old), Some(old), Some(recent)), now, 30));
        // Either activity time being recent keeps it fresh.
        assert!(!is_stale(&mb, &stats(Some(old), Some(recent), None), now, 30));
        assert!(!is_stale(&mb, &stats(Some(recent), None, None), now, 30));
        // Never used: judged from its creation.
        assert!(is_stale(&mb, &stats(None, None, Some(recent)), now, 30));
        let new = Mailbox {
            created: Some(now - Duration::days(2)),
            ..Default::default()
        };
        assert!(!is_stale(&new, &stats(None, None, None), now, 30));
        assert!(is_stale(&Mailbox::default(), &stats(None, None, None), now, 30));
        assert_eq!(days_inactive(&stats(Some(old), None, None), now), Some(45));
        assert_eq!(days_inactive(&stats(None, None, Some(recent)), now), None);
    }

    #[test]
    fn forwarding_addresses_lose_their_proxy_prefix() {
        assert_eq!(strip_proxy_prefix("smtp:a@b.com"), "a@b.com");
        assert_eq!(strip_proxy_prefix("SMTP:a@b.com"), "a@b.com");
        assert_eq!(strip_proxy_prefix("a@b.com"), "a@b.com");
    }
}
