//! Property tests of the parsers that read what users and services hand in (issue 12 item 11):
//! whatever the input, no panic, and problems printable on a terminal. CI runs the default
//! number of cases; `PROPTEST_CASES=100000 cargo test -p tenantctl-core --test properties`
//! runs a longer campaign.

use proptest::prelude::*;
use tenantctl_core::bulk::parse_users_csv_bytes;
use tenantctl_core::exchange::{parse_byte_quantified, parse_exo_time};
use tenantctl_core::plan::licences::parse_licence_csv_bytes;
use tenantctl_core::pwsh;

/// Bytes shaped like the import's CSVs: a real header, then fields of mixed junk.
fn csv_like() -> impl Strategy<Value = Vec<u8>> {
    let header = prop_oneof![
        Just(
            "UserPrincipalName,FirstName,LastName,DisplayName,Password,TenantId,UsageLocation,LicenseAssignment\n"
                .to_owned()
        ),
        Just("tenant,userPrincipalName,displayName,givenName,surname,usageLocation,licenses,password\n".to_owned()),
        Just("tenant;userPrincipalName;sku\n".to_owned()),
        ".{0,40}\n",
    ];
    let body = proptest::collection::vec(any::<u8>(), 0..400);
    (header, body).prop_map(|(h, b)| {
        let mut v = h.into_bytes();
        v.extend(b);
        v
    })
}

fn printable(s: &str) -> bool {
    !s.chars().any(|c| c.is_control() && c != '\n')
}

proptest! {
    #[test]
    fn the_user_import_reader_never_panics_and_its_problems_print_safely(bytes in csv_like()) {
        if let Err(problems) = parse_users_csv_bytes(&bytes) {
            for p in problems {
                prop_assert!(printable(&p.to_string()), "{:?}", p.to_string());
            }
        }
    }

    #[test]
    fn the_user_import_reader_takes_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse_users_csv_bytes(&bytes);
        let _ = parse_licence_csv_bytes(&bytes);
    }

    #[test]
    fn powershell_lines_never_panic(line in ".{0,120}") {
        let _ = pwsh::parse_line(&line);
        let words: Vec<String> = line.split(' ').map(str::to_owned).collect();
        let _ = pwsh::parse_args(&words);
    }

    #[test]
    fn byte_quantified_sizes_read_their_exact_count(n in any::<u64>(), unit in "[0-9.]{1,5} (B|KB|MB|GB|TB)") {
        let digits = n.to_string();
        // Thousands separators as Exchange writes them.
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        prop_assert_eq!(parse_byte_quantified(&format!("{unit} ({grouped} bytes)")), Some(n));
    }

    #[test]
    fn exchange_texts_never_panic(s in ".{0,60}") {
        let _ = parse_byte_quantified(&s);
        let _ = parse_exo_time(&s);
        let _ = parse_exo_time(&format!("/Date({s})/"));
    }
}
