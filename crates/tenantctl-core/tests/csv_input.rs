//! CSV input that comes from Windows (issue 12 item 8, reliability probe D15): the encodings
//! PowerShell and Excel write, `;` and tab delimiters, the Microsoft 365 admin center's bulk-add
//! template, and one clear message for what cannot be read.

use tenantctl_core::bulk::{check_row, parse_users_csv, parse_users_csv_bytes, read_users_csv, Style, UserRow};
use tenantctl_core::csvin::{decode_csv, detect_delimiter, CsvInputError, Delimiter, Encoding};
use tenantctl_core::plan::licences::{parse_licence_csv, parse_licence_csv_bytes};

/// The users file every encoding case carries: a non-ASCII name, a quoted comma, CRLF.
const USERS: &str = "UserPrincipalName,FirstName,LastName,DisplayName,UsageLocation\r\n\
                     anna@contoso.com,Anna,Müller,Anna Müller,de\r\n\
                     \r\n\
                     bob@contoso.com,Bob,\"Smith, Jr\",\"Bob Smith, Jr\",GB\r\n";

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}
fn utf16be(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_be_bytes).collect()
}
fn with(prefix: &[u8], body: Vec<u8>) -> Vec<u8> {
    [prefix.to_vec(), body].concat()
}
/// Windows-1252 for the Latin-1 range this file's fixtures use (ü, é, ß are one byte each).
fn cp1252(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| u8::try_from(c as u32).expect("fixture character outside Latin-1"))
        .collect()
}

fn reference_rows() -> Vec<UserRow> {
    parse_users_csv(USERS).expect("the UTF-8 reference reads")
}

#[test]
fn every_windows_encoding_reads_to_the_same_rows_and_is_reported() {
    let cases: Vec<(&str, Vec<u8>, Encoding)> = vec![
        ("UTF-8", USERS.as_bytes().to_vec(), Encoding::Utf8 { bom: false }),
        (
            "UTF-8 with BOM (Excel 'CSV UTF-8')",
            with(&[0xEF, 0xBB, 0xBF], USERS.as_bytes().to_vec()),
            Encoding::Utf8 { bom: true },
        ),
        (
            "UTF-16 LE with BOM (PowerShell 5 Out-File, Export-Csv -Encoding Unicode)",
            with(&[0xFF, 0xFE], utf16le(USERS)),
            Encoding::Utf16Le { bom: true },
        ),
        (
            "UTF-16 BE with BOM (Export-Csv -Encoding BigEndianUnicode)",
            with(&[0xFE, 0xFF], utf16be(USERS)),
            Encoding::Utf16Be { bom: true },
        ),
        (
            "UTF-16 LE without BOM",
            utf16le(USERS),
            Encoding::Utf16Le { bom: false },
        ),
        (
            "UTF-16 BE without BOM",
            utf16be(USERS),
            Encoding::Utf16Be { bom: false },
        ),
        (
            "UTF-32 LE with BOM (Export-Csv -Encoding UTF32)",
            with(
                &[0xFF, 0xFE, 0, 0],
                USERS.chars().flat_map(|c| (c as u32).to_le_bytes()).collect(),
            ),
            Encoding::Utf32Le,
        ),
        (
            "Windows-1252 (Excel 'CSV' on Western Windows)",
            cp1252(USERS),
            Encoding::Windows1252,
        ),
    ];
    let want = reference_rows();
    assert_eq!(want[0].surname.as_deref(), Some("Müller"));
    for (name, bytes, encoding) in cases {
        let got = read_users_csv(&bytes).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(got.encoding, encoding, "{name}");
        assert_eq!(got.delimiter, Delimiter::Comma, "{name}");
        assert_eq!(got.rows, want, "{name}: rows, line numbers included");
        assert_eq!(parse_users_csv_bytes(&bytes).unwrap(), want, "{name}");
        assert_eq!(decode_csv(&bytes, "x").unwrap().encoding, encoding, "{name}");
    }
}

#[test]
fn encodings_have_names_for_messages() {
    assert_eq!(Encoding::Utf16Le { bom: true }.to_string(), "UTF-16 LE with BOM");
    assert_eq!(Encoding::Utf16Be { bom: false }.to_string(), "UTF-16 BE without BOM");
    assert_eq!(Encoding::Windows1252.to_string(), "Windows-1252");
    let d = decode_csv(&with(&[0xFF, 0xFE], utf16le("a;b\r\n1;2\r\n")), "x").unwrap();
    assert_eq!(d.describe(), "UTF-16 LE with BOM, semicolon-separated");
}

#[test]
fn the_header_line_decides_the_delimiter() {
    let cases: &[(&str, &str, Delimiter)] = &[
        (
            "comma",
            "UserPrincipalName,DisplayName,UsageLocation\r\na@contoso.com,Anna Müller,DE\r\n",
            Delimiter::Comma,
        ),
        (
            "semicolon (Excel in de/fr/nl)",
            "UserPrincipalName;DisplayName;UsageLocation\r\na@contoso.com;Anna Müller;DE\r\n",
            Delimiter::Semicolon,
        ),
        (
            "tab (copied from a sheet)",
            "UserPrincipalName\tDisplayName\tUsageLocation\na@contoso.com\tAnna Müller\tDE\n",
            Delimiter::Tab,
        ),
        (
            "semicolon, every field quoted (Export-Csv -Delimiter ';')",
            "\"UserPrincipalName\";\"DisplayName\";\"UsageLocation\"\r\n\"a@contoso.com\";\"Anna Müller\";\"DE\"\r\n",
            Delimiter::Semicolon,
        ),
        (
            "semicolon with commas inside quoted header names",
            "\"UserPrincipalName\";\"DisplayName, as shown\";\"UsageLocation\"\r\n",
            Delimiter::Semicolon,
        ),
    ];
    for (name, text, delim) in cases {
        let d = decode_csv(text.as_bytes(), "x").unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(d.delimiter, *delim, "{name}");
        if name.contains("inside quoted") {
            continue;
        }
        let rows = parse_users_csv(text).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(rows.len(), 1, "{name}");
        assert_eq!(rows[0].user_principal_name, "a@contoso.com", "{name}");
        assert_eq!(rows[0].display_name, "Anna Müller", "{name}");
        assert_eq!(rows[0].usage_location.as_deref(), Some("DE"), "{name}");
    }
    // Excel's "Unicode Text (*.txt)": UTF-16 LE with BOM and tabs.
    let unicode_text = "UserPrincipalName\tDisplayName\r\nwei@contoso.cn\t张伟\r\nli@contoso.cn\t李娜\r\n";
    for bytes in [with(&[0xFF, 0xFE], utf16le(unicode_text)), utf16le(unicode_text)] {
        let got = read_users_csv(&bytes).unwrap();
        assert_eq!(got.delimiter, Delimiter::Tab);
        assert!(matches!(got.encoding, Encoding::Utf16Le { .. }));
        assert_eq!(got.rows[1].display_name, "李娜");
    }
    assert_eq!(detect_delimiter("a,b;c,d"), Some(Delimiter::Comma), "most used wins");
    assert_eq!(detect_delimiter("a;b;c,d"), Some(Delimiter::Semicolon));
    assert_eq!(
        detect_delimiter("a,b;c"),
        Some(Delimiter::Comma),
        "ties go to the comma"
    );
    assert_eq!(detect_delimiter("\"a;b\""), None, "inside quotes does not count");
}

#[test]
fn german_excel_csv_is_windows_1252_with_semicolons() {
    // Excel (de-DE) "CSV (Trennzeichen-getrennt)": ANSI code page and `;`, licences with `,`.
    let text = "UserPrincipalName;FirstName;LastName;DisplayName;UsageLocation;LicenseAssignment\r\n\
                j.mueller@contoso.de;Jürgen;Müller;Jürgen Müller;DE;\"SPB,O365_BUSINESS\"\r\n\
                r.weiss@contoso.de;Renée;Weiß;Renée Weiß;at;\r\n";
    let got = read_users_csv(&cp1252(text)).unwrap();
    assert_eq!(
        (got.encoding, got.delimiter),
        (Encoding::Windows1252, Delimiter::Semicolon)
    );
    assert_eq!(got.rows[0].display_name, "Jürgen Müller");
    assert_eq!(got.rows[0].licenses, ["SPB", "O365_BUSINESS"]);
    assert_eq!(got.rows[1].surname.as_deref(), Some("Weiß"));
    assert_eq!(got.rows[1].usage_location.as_deref(), Some("AT"));
    assert_eq!(got.rows[1].line, 3);
    assert!(got.rows.iter().all(|r| check_row(r).is_empty()));
}

#[test]
fn powershell_type_line_and_excel_sep_line_are_skipped_and_lines_keep_their_numbers() {
    // Windows PowerShell 5.1 `Export-Csv` without -NoTypeInformation: a `#TYPE` first line and
    // every field quoted; written here as UTF-16 LE with BOM (`-Encoding Unicode`).
    let ps = "#TYPE System.Management.Automation.PSCustomObject\r\n\
              \"UserPrincipalName\",\"DisplayName\"\r\n\
              \"a@contoso.com\",\"A\"\r\n";
    let rows = parse_users_csv_bytes(&with(&[0xFF, 0xFE], utf16le(ps))).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].line, 3, "the file's own line");

    // Excel's `sep=` line sets the delimiter, even against the header's look.
    let excel = "sep=;\r\nUserPrincipalName;DisplayName, full\r\na@contoso.com;A, B\r\n";
    let d = decode_csv(excel.as_bytes(), "x").unwrap();
    assert_eq!((d.delimiter, d.header_line), (Delimiter::Semicolon, 2));
    let e = parse_users_csv(excel).unwrap_err();
    assert!(
        e.iter().any(|e| e.line == 2 && e.field == "DisplayName, full"),
        "header problems name the header's line: {e:?}"
    );

    // Licences too.
    let lic =
        "#TYPE Selected.System.Management.Automation.PSCustomObject\r\ntenant,upn,sku\r\nContoso,a@contoso.com,SPB\r\n";
    assert_eq!(parse_licence_csv(lic).unwrap()[0].line, 3);
}

#[test]
fn the_admin_center_bulk_add_template_is_accepted() {
    // The header of Users > Active users > Add multiple users' template, as documented in
    // learn.microsoft.com/microsoft-365/admin/add-users/add-several-users-at-the-same-time.
    let bytes = include_bytes!("data/admin-center-template.csv");
    assert!(std::str::from_utf8(bytes)
        .unwrap()
        .starts_with(&tenantctl_core::bulk::ADMIN_CENTER_TEMPLATE.join(",")));
    let got = read_users_csv(bytes).unwrap();
    assert_eq!(got.rows.len(), 2);
    let chris = &got.rows[0];
    assert_eq!(chris.style, Style::AdminCenter);
    assert_eq!(chris.user_principal_name, "chris@contoso.com");
    assert_eq!(chris.display_name, "Chris Green");
    assert_eq!(chris.given_name.as_deref(), Some("Chris"));
    assert_eq!(chris.surname.as_deref(), Some("Green"));
    assert_eq!(
        chris.usage_location.as_deref(),
        Some("US"),
        "Country or Region as a code"
    );
    assert_eq!((chris.tenant.as_ref(), chris.password.as_ref()), (None, None));
    assert!(check_row(chris).is_empty());

    // The documented sample writes country names: a problem in the template's own words.
    let ben = &got.rows[1];
    let problems = check_row(ben);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].line, 3);
    assert_eq!(problems[0].field, "Country or Region");
    assert!(
        problems[0].message.contains("'United States' is not a two-letter"),
        "{}",
        problems[0]
    );
    assert!(problems[0].message.contains("usage location"), "{}", problems[0]);

    // Columns with values the model has no field for are named in a note, not lost silently.
    assert_eq!(got.notes.len(), 1);
    for col in [
        "Job Title",
        "Department",
        "Alternate email address",
        "ZIP or Postal Code",
    ] {
        assert!(got.notes[0].contains(col), "{col}: {}", got.notes[0]);
    }
    assert!(!got.notes[0].contains("Country or Region"));
}

#[test]
fn the_template_in_other_shapes_and_its_problems() {
    // The older template (no "Alternate email address"), semicolon-separated by a German Excel,
    // with a Licenses column added and the unused columns left empty: no note.
    let text = "User Name;First Name;Last Name;Display Name;Job Title;Department;Office Number;Office Phone;\
                Mobile Phone;Fax;Address;City;State or Province;ZIP or Postal Code;Country or Region;Licenses\r\n\
                lena@contoso.de;Lena;Groß;Lena Groß;;;;;;;;;;;de;SPB\r\n";
    let got = read_users_csv(&cp1252(text)).unwrap();
    assert!(got.notes.is_empty(), "{:?}", got.notes);
    let r = &got.rows[0];
    assert_eq!(
        (r.display_name.as_str(), r.usage_location.as_deref()),
        ("Lena Groß", Some("DE"))
    );
    assert_eq!(r.licenses, ["SPB"]);
    assert!(check_row(r).is_empty());

    // Problems name the template's columns.
    let e = parse_users_csv("User Name,First Name,Nickname\r\na@contoso.com,A,x\r\n").unwrap_err();
    assert!(e
        .iter()
        .any(|e| e.field == "Nickname" && e.message.contains("User Name,First Name,Last Name,Display Name")));
    assert!(e
        .iter()
        .any(|e| e.field == "Display Name" && e.message.contains("required column is missing")));
    let rows = parse_users_csv("User Name,Display Name\r\nnot a upn,\r\n").unwrap();
    let fields: Vec<String> = check_row(&rows[0]).into_iter().map(|e| e.field).collect();
    assert_eq!(fields, ["User Name", "Display Name"]);
    // A licence without a usage location asks for Country or Region.
    let rows = parse_users_csv("User Name,Display Name,Licenses\r\na@contoso.com,A,SPB\r\n").unwrap();
    assert_eq!(check_row(&rows[0])[0].field, "Country or Region");
}

#[test]
fn header_problems_say_how_the_file_was_read() {
    // A semicolon file with a misspelt column, in UTF-16: the message says what was guessed.
    let text = "UserPrincipalName;DisplayNam\r\na@contoso.com;A\r\n";
    let e = parse_users_csv_bytes(&with(&[0xFF, 0xFE], utf16le(text))).unwrap_err();
    let unknown = e
        .iter()
        .find(|e| e.field == "DisplayNam")
        .expect("unknown column reported");
    assert!(
        unknown
            .message
            .contains("read as UTF-16 LE with BOM, semicolon-separated"),
        "{unknown}"
    );
    // A plain UTF-8 comma file is not described.
    let e = parse_users_csv("UserPrincipalName,DisplayNam\r\n").unwrap_err();
    assert!(!e[0].message.contains("read as"), "{}", e[0]);
    // Licences: a missing column too.
    let e = parse_licence_csv_bytes(&cp1252("tenant;user;skü\r\n")).unwrap_err();
    assert_eq!(e[0].field, "sku");
    assert!(
        e[0].message.contains("read as Windows-1252, semicolon-separated"),
        "{}",
        e[0]
    );
}

#[test]
fn licence_csv_bytes_read_every_encoding_and_delimiter() {
    let text = "tenant;userPrincipalName;sku;disabledPlans\r\n\
                Contoso GmbH;jürgen@contoso.de;SPB;\"EXCHANGE_S_STANDARD;SWAY\"\r\n";
    for (name, bytes) in [
        ("UTF-16 LE with BOM", with(&[0xFF, 0xFE], utf16le(text))),
        ("UTF-16 LE without BOM", utf16le(text)),
        ("Windows-1252", cp1252(text)),
        ("UTF-8 with BOM", with(&[0xEF, 0xBB, 0xBF], text.as_bytes().to_vec())),
    ] {
        let rows = parse_licence_csv_bytes(&bytes).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(rows.len(), 1, "{name}");
        assert_eq!(rows[0].user, "jürgen@contoso.de", "{name}");
        assert_eq!(rows[0].tenant.as_deref(), Some("Contoso GmbH"), "{name}");
        assert_eq!(rows[0].disabled_plans, ["EXCHANGE_S_STANDARD", "SWAY"], "{name}");
        assert_eq!(rows[0].line, 2, "{name}");
    }
}

/// What cannot be read: one message naming what was found and the fix, without the file's raw
/// bytes (no NUL, no control character reaches the terminal).
#[test]
fn unreadable_input_gets_one_clear_message() {
    let mut utf16_broken = with(&[0xFF, 0xFE], utf16le("UserPrincipalName,DisplayName\r\n"));
    utf16_broken.extend_from_slice(&0xD800u16.to_le_bytes()); // a lone high surrogate
    utf16_broken.extend_from_slice(&utf16le("x\r\n"));
    let cases: Vec<(&str, Vec<u8>, &[&str])> = vec![
        ("empty", vec![], &["is empty"]),
        (
            "only a BOM and blank lines",
            b"\xEF\xBB\xBF\r\n\r\n".to_vec(),
            &["is empty"],
        ),
        ("only a #TYPE line", b"#TYPE System.Object\r\n".to_vec(), &["is empty"]),
        (
            "an .xlsx workbook",
            b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00".to_vec(),
            &["Excel workbook (.xlsx)", "CSV UTF-8"],
        ),
        (
            "an .xls workbook",
            vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0, 0, 0],
            &["(.xls)", "CSV UTF-8"],
        ),
        (
            "UTF-16 LE cut to an odd length",
            with(&[0xFF, 0xFE], utf16le("UserPrincipalName,DisplayName\r\n"))[..31].to_vec(),
            &["UTF-16 LE with BOM", "odd number of bytes", "CSV UTF-8"],
        ),
        (
            "UTF-16 with a lone surrogate",
            utf16_broken,
            &["UTF-16 LE with BOM", "unpaired surrogate", "CSV UTF-8"],
        ),
        (
            "UTF-8 BOM but Windows-1252 inside",
            with(
                &[0xEF, 0xBB, 0xBF],
                cp1252("UserPrincipalName,DisplayName\r\na@b.com,Müller\r\n"),
            ),
            &["UTF-8 with BOM", "not UTF-8 on line 2", "CSV UTF-8"],
        ),
        (
            "NUL bytes in no UTF-16 pattern",
            b"UserPrincipalName,DisplayName\r\na@b.com,A\x00B\r\n".to_vec(),
            &["UTF-8 without BOM", "U+0000 on line 2", "CSV UTF-8"],
        ),
        (
            "an OEM code page (CP850 \u{fc} is 0x81, unassigned in Windows-1252)",
            b"UserPrincipalName,DisplayName\r\na@b.com,M\x81ller\r\n".to_vec(),
            &["read as Windows-1252", "U+0081 on line 2", "another encoding"],
        ),
        (
            "a terminal escape sequence",
            b"UserPrincipalName,DisplayName\r\na@b.com,\x1b[31mred\r\n".to_vec(),
            &["U+001B on line 2"],
        ),
        (
            "a header with no delimiter",
            b"UserPrincipalName|DisplayName\r\na@b.com|A\r\n".to_vec(),
            &[
                "\"UserPrincipalName|DisplayName\"",
                "no comma, semicolon or tab",
                "UTF-8 without BOM",
            ],
        ),
        (
            "an unsupported sep= line",
            b"sep=|\r\na|b\r\n".to_vec(),
            &["'|' (sep=|)", "comma, semicolon or tab"],
        ),
    ];
    for (name, bytes, want) in cases {
        let e = decode_csv(&bytes, "users.csv").expect_err(name);
        let msg = e.to_string();
        assert!(msg.starts_with("users.csv"), "{name}: names the input: {msg}");
        for w in want {
            assert!(msg.contains(w), "{name}: wants {w:?} in {msg}");
        }
        assert!(
            !msg.chars().any(char::is_control),
            "{name}: control character in {msg:?}"
        );
        // Both readers give that one problem, on its line.
        for got in [
            parse_users_csv_bytes(&bytes).unwrap_err(),
            parse_licence_csv_bytes(&bytes).unwrap_err(),
        ] {
            assert_eq!(got.len(), 1, "{name}: {got:?}");
            assert_eq!(got[0].line, e.line(), "{name}");
            assert!(!got[0].to_string().chars().any(char::is_control), "{name}");
            assert!(got[0].message.starts_with("the file"), "{name}: {}", got[0]);
        }
    }
    let bad_utf8 = with(&[0xEF, 0xBB, 0xBF], cp1252("a,b\r\n1,2\r\nMüller,3\r\n"));
    assert_eq!(
        decode_csv(&bad_utf8, "f").unwrap_err().line(),
        3,
        "the first bad byte's line"
    );
    assert_eq!(
        decode_csv(b"a,b\r\n1,\x072\r\n", "f").unwrap_err(),
        CsvInputError::ControlCharacter {
            what: "f".into(),
            encoding: Encoding::Utf8 { bom: false },
            line: 2,
            code: "U+0007".into()
        }
    );
}

/// The probe's D15 reproductions (reliability-probe-2026-11-25 §3): each failed before with
/// "stream did not contain valid UTF-8", NUL-filled column names or "unknown column".
#[test]
fn the_probe_d15_files_now_import() {
    let header = "UserPrincipalName,FirstName,LastName,DisplayName,Password,TenantId,UsageLocation,LicenseAssignment";
    let csv = format!("{header}\r\nkarl@contoso.com,Karl,Müller,Karl Müller,,contoso.onmicrosoft.com,DE,SPB\r\n");
    let semicolon = csv.replace(',', ";");
    for (name, bytes) in [
        ("utf16le.csv", with(&[0xFF, 0xFE], utf16le(&csv))),
        ("utf16le_nobom.csv", utf16le(&csv)),
        ("cp1252.csv", cp1252(&csv)),
        ("semicolon.csv", semicolon.into_bytes()),
    ] {
        let rows = parse_users_csv_bytes(&bytes).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(rows.len(), 1, "{name}");
        assert_eq!(rows[0].display_name, "Karl Müller", "{name}");
        assert_eq!(rows[0].tenant.as_deref(), Some("contoso.onmicrosoft.com"), "{name}");
        assert_eq!(rows[0].licenses, ["SPB"], "{name}");
        assert!(check_row(&rows[0]).is_empty(), "{name}");
    }
}

#[test]
fn row_problems_in_decoded_files_keep_the_files_line_numbers() {
    // UTF-16 without BOM, a blank line, a short row on line 4.
    let text = "UserPrincipalName,DisplayName\r\na@contoso.com,A\r\n\r\nb@contoso.com\r\n";
    let e = parse_users_csv_bytes(&utf16le(text)).unwrap_err();
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].line, 4);
    assert!(e[0].message.contains("1 fields where the header has 2"), "{}", e[0]);
    // Excel's empty trailing columns are not unknown columns.
    let rows = parse_users_csv("UserPrincipalName;DisplayName;;\r\na@contoso.com;A;;\r\n").unwrap();
    assert_eq!(rows.len(), 1);
}

/// Arbitrary bytes never panic the readers, and whatever they say is free of control
/// characters (a deterministic pseudo-random sweep over the bytes that matter here).
#[test]
fn arbitrary_bytes_never_panic_and_never_echo_control_characters() {
    let pieces: &[&[u8]] = &[
        b",",
        b";",
        b"\t",
        b"\r\n",
        b"\n",
        b"\"",
        b"\0",
        b"\xFF\xFE",
        b"\xFE\xFF",
        b"\xEF\xBB\xBF",
        b"\xFC",
        b"\x81",
        b"\x1b[2J",
        b"sep=;",
        b"sep=",
        b"#TYPE x",
        b"User Name",
        b"UserPrincipalName",
        b"DisplayName",
        b"a@b.com",
        b"\xC3",
        b"\xD8\x00",
        b"sku",
        b"tenant",
    ];
    let mut seed: u64 = 0x5eed_cafe;
    let mut next = || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    for _ in 0..3000 {
        let n = next() % 24;
        let bytes: Vec<u8> = (0..n).flat_map(|_| pieces[next() % pieces.len()].to_vec()).collect();
        for msg in [
            parse_users_csv_bytes(&bytes)
                .err()
                .map(|e| e.iter().map(|e| e.to_string()).collect::<Vec<_>>()),
            parse_licence_csv_bytes(&bytes)
                .err()
                .map(|e| e.iter().map(|e| e.to_string()).collect()),
            read_users_csv(&bytes).ok().map(|c| c.notes),
        ]
        .into_iter()
        .flatten()
        .flatten()
        {
            assert!(!msg.chars().any(char::is_control), "{bytes:?} gave {msg:?}");
        }
    }
}

#[test]
fn problems_escape_tabs_line_breaks_and_bidi_overrides_from_the_input() {
    let e = parse_users_csv("\"Nick\nname\",\"Job\tTitle\",UserPrincipalName,DisplayName\r\n").unwrap_err();
    let shown: Vec<String> = e.iter().map(|e| e.to_string()).collect();
    assert!(
        shown
            .iter()
            .any(|s| s.starts_with("line 1, Nick\\nname: unknown column")),
        "{shown:?}"
    );
    assert!(
        shown
            .iter()
            .any(|s| s.starts_with("line 1, Job\\tTitle: unknown column")),
        "{shown:?}"
    );
    let rows = parse_users_csv("UserPrincipalName,DisplayName\r\n\"a\tb@contoso.com\",A\r\n").unwrap();
    let shown = check_row(&rows[0])[0].to_string();
    assert!(shown.contains("'a\\tb@contoso.com'"), "{shown}");
    assert!(!shown.chars().any(char::is_control), "{shown:?}");
    use tenantctl_core::csvin::printable;
    assert_eq!(printable("\u{202e}gnp.exe"), "\\u{202e}gnp.exe");
    assert_eq!(printable("Müller"), "Müller");
}
