//! The output contract of every list command, format by format.

use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tenantctl_core::status::{TenantOutcome, TenantStatus};
use tenantctl_output::{
    open, open_with_stdout, render_status_report, resolve_format, Cell, Column, Format, Kind, OutputError, OutputSpec,
};
use time::macros::datetime;

// ---------------------------------------------------------------------------------------
// Fixtures: a users-list schema and four users, one with a CJK name, one with a very long
// display name, in an arrival order that is not the natural order.

const fn col(name: &'static str, kind: Kind) -> Column {
    Column { name, kind }
}

const USERS: &[Column] = &[
    col("tenantId", Kind::Id),
    col("tenantName", Kind::Text),
    col("userPrincipalName", Kind::Text),
    col("displayName", Kind::Text),
    col("id", Kind::Id),
    col("accountEnabled", Kind::Bool),
    col("licenses", Kind::List),
    col("mailboxMb", Kind::Int),
    col("createdDateTime", Kind::DateTime),
];

const CONTOSO: &str = "52eaad04-13a2-4a2f-9ce8-93a294fadf36";
const ADATUM: &str = "df57263a-e11c-4e01-b55a-ff4a94d4a8ae";
const TESUTO: &str = "7860f7b5-0b2c-4c6e-9d3a-0e8f2f6c1a11";

const LONG_NAME: &str = "Adele Vance, Head of Strategic Partnerships for Europe, the Middle East and Africa, seconded to the Office of the CEO";

fn t(s: &str) -> Cell {
    Cell::Text(s.to_owned())
}

fn list(v: &[&str]) -> Cell {
    Cell::List(v.iter().map(|s| s.to_string()).collect())
}

fn users() -> Vec<Vec<Cell>> {
    vec![
        vec![
            t(CONTOSO),
            t("Contoso"),
            t("zoe@contoso.com"),
            t("Zoë Adams"),
            t("0f1e2d3c-0000-4000-8000-000000000001"),
            Cell::Bool(true),
            list(&["SPB"]),
            Cell::Int(1024),
            Cell::DateTime(datetime!(2024-03-01 08:15:42 UTC)),
        ],
        vec![
            t(ADATUM),
            t("Adatum Farms Ltd"),
            t("juergen@adatumfarms.com"),
            t("Jürgen Müller, \"JM\" 日本語テスト"),
            t("0f1e2d3c-0000-4000-8000-000000000002"),
            Cell::Bool(true),
            list(&["SPB", "POWER_BI_PRO"]),
            Cell::Int(5),
            Cell::DateTime(datetime!(2023-11-05 23:59:59 +01:00)),
        ],
        vec![
            t(CONTOSO),
            t("Contoso"),
            t("adele@contoso.com"),
            t(LONG_NAME),
            t("0f1e2d3c-0000-4000-8000-000000000003"),
            Cell::Bool(false),
            list(&[]),
            Cell::Null,
            Cell::Null,
        ],
        vec![
            t(TESUTO),
            t("株式会社テスト"),
            t("taro@tesuto.co.jp"),
            t("山田太郎"),
            t("0f1e2d3c-0000-4000-8000-000000000004"),
            Cell::Bool(true),
            list(&["O365_BUSINESS_PREMIUM"]),
            Cell::Int(123_456),
            Cell::DateTime(datetime!(2025-01-02 03:04:05 UTC)),
        ],
    ]
}

fn outcomes() -> Vec<TenantOutcome> {
    let o = |id: &str, name: &str, status, detail: &str, rows| TenantOutcome {
        tenant_id: id.parse().unwrap(),
        tenant_name: name.into(),
        status,
        detail: detail.into(),
        rows,
        elapsed_ms: 420,
    };
    vec![
        o(CONTOSO, "Contoso", TenantStatus::Ok, "", 2),
        o(ADATUM, "Adatum Farms Ltd", TenantStatus::Ok, "", 1),
        o(TESUTO, "株式会社テスト", TenantStatus::Ok, "", 1),
        o(
            "cef26524-1111-4222-8333-944455556666",
            "Fabrikam Properties AB",
            TenantStatus::ConsentMissing,
            "AADSTS65001: The user or administrator has not consented",
            0,
        ),
    ]
}

/// A stdout stand-in that records every write call.
#[derive(Clone, Default)]
struct Stdout(Arc<Mutex<Vec<Vec<u8>>>>);

impl Write for Stdout {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().push(b.to_vec());
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Stdout {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().concat()).unwrap()
    }
    fn writes(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|w| String::from_utf8(w.clone()).unwrap())
            .collect()
    }
}

fn spec(format: Option<Format>) -> OutputSpec {
    OutputSpec {
        format,
        default_sort: vec!["tenantName", "userPrincipalName"],
        ..OutputSpec::default()
    }
}

/// Writes the users through a sink on a fake stdout and returns what it printed.
fn render(spec: &OutputSpec, terminal: bool) -> String {
    let out = Stdout::default();
    let mut sink = open_with_stdout(spec, USERS.to_vec(), terminal, Box::new(out.clone())).unwrap();
    for r in users() {
        sink.write_row(r).unwrap();
    }
    sink.finish(&outcomes()).unwrap();
    out.text()
}

fn table(width: Option<usize>) -> String {
    let s = OutputSpec {
        terminal_width: width,
        ..spec(None)
    };
    render(&s, true)
}

fn open_err(spec: &OutputSpec, terminal: bool) -> String {
    match open_with_stdout(spec, USERS.to_vec(), terminal, Box::new(Stdout::default())) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

fn display_width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

// ---------------------------------------------------------------------------------------
// Table

#[test]
fn table_on_a_160_column_terminal_hides_ids_sorts_right_aligns_numbers_and_cuts_the_long_name() {
    let expected = "\
tenantName        userPrincipalName        displayName                                        accountEnabled  licenses               mailboxMb  createdDateTime
----------------  -----------------------  -------------------------------------------------  --------------  ---------------------  ---------  ----------------
Adatum Farms Ltd  juergen@adatumfarms.com  Jürgen Müller, \"JM\" 日本語テスト                   yes             SPB, POWER_BI_PRO              5  2023-11-05 22:59
Contoso           adele@contoso.com        Adele Vance, Head of Strategic Partnerships for…   no
Contoso           zoe@contoso.com          Zoë Adams                                          yes             SPB                         1024  2024-03-01 08:15
株式会社テスト    taro@tesuto.co.jp        山田太郎                                           yes             O365_BUSINESS_PREMIUM     123456  2025-01-02 03:04
";
    let got = table(Some(160));
    assert_eq!(got, expected, "\n{got}");
    assert!(got.lines().all(|l| display_width(l) <= 160));
    assert_eq!(got.lines().map(display_width).max(), Some(160), "uses the whole width");
}

#[test]
fn table_on_an_80_column_terminal_keeps_headers_and_names_the_columns_left_out() {
    let expected = "\
tenantName  userPrincipalName  displayName  accountEnabled  licenses   mailboxMb
----------  -----------------  -----------  --------------  ---------  ---------
Adatum Fa…  juergen@adatumfa…  Jürgen Mül…  yes             SPB, POW…          5
Contoso     adele@contoso.com  Adele Vanc…  no
Contoso     zoe@contoso.com    Zoë Adams    yes             SPB             1024
株式会社…   taro@tesuto.co.jp  山田太郎     yes             O365_BUS…     123456
(1 more column not shown: createdDateTime; choose columns with --select)
";
    let got = table(Some(80));
    assert_eq!(got, expected, "\n{got}");
    assert!(got.lines().all(|l| display_width(l) <= 80));
}

#[test]
fn table_lines_never_exceed_the_terminal_whatever_its_width() {
    for w in 30..=200 {
        let got = table(Some(w));
        for l in got.lines() {
            assert!(display_width(l) <= w, "width {w}: {l:?}");
        }
        assert!(
            got.starts_with("tenantName"),
            "width {w}: the first column always shows"
        );
    }
}

#[test]
fn table_to_a_file_or_pipe_cuts_nothing_but_still_hides_ids() {
    let got = table(None);
    assert!(got.contains(LONG_NAME), "{got}");
    assert!(got.contains("O365_BUSINESS_PREMIUM"));
    assert!(!got.contains(CONTOSO), "tenantId hidden");
    assert!(!got.contains("0f1e2d3c-"), "id hidden");
    // Columns stay aligned by display width: CJK cells count two.
    let lines: Vec<&str> = got.lines().collect();
    let col = |l: &str, needle: &str| display_width(&l[..l.find(needle).unwrap()]);
    assert_eq!(col(lines[0], "userPrincipalName"), col(lines[5], "taro@"));
    assert_eq!(col(lines[0], "accountEnabled"), col(lines[2], "yes"));
    assert_eq!(col(lines[0], "accountEnabled"), col(lines[5], "yes"));
}

#[test]
fn table_shows_id_columns_that_select_names_in_the_order_given() {
    let s = OutputSpec {
        select: vec!["tenantid,userprincipalname".into(), "ID".into()],
        terminal_width: Some(160),
        ..spec(None)
    };
    let got = render(&s, true);
    let first = got.lines().next().unwrap();
    assert_eq!(
        first,
        "tenantId                              userPrincipalName        id"
    );
    assert!(got.contains(&format!(
        "{ADATUM}  juergen@adatumfarms.com  0f1e2d3c-0000-4000-8000-000000000002"
    )));
}

#[test]
fn table_sort_flag_overrides_the_natural_order_and_puts_empty_cells_last() {
    let s = OutputSpec {
        sort: vec!["-mailboxMb".into()],
        select: vec!["userPrincipalName".into(), "mailboxMb".into()],
        ..spec(None)
    };
    let got = render(&s, true);
    let upns: Vec<&str> = got
        .lines()
        .skip(2)
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        upns,
        [
            "taro@tesuto.co.jp",
            "zoe@contoso.com",
            "juergen@adatumfarms.com",
            "adele@contoso.com"
        ]
    );
}

#[test]
fn table_of_no_rows_is_the_header_alone() {
    let out = Stdout::default();
    let sink = open_with_stdout(&spec(Some(Format::Table)), USERS.to_vec(), true, Box::new(out.clone())).unwrap();
    sink.finish(&[]).unwrap();
    assert_eq!(out.text().lines().count(), 2);
    assert!(out.text().starts_with("tenantName  userPrincipalName"));
}

// ---------------------------------------------------------------------------------------
// CSV

#[test]
fn csv_header_is_the_schema_rows_stream_in_arrival_order_lists_semicolon_joined() {
    let got = render(&spec(Some(Format::Csv)), false);
    let lines: Vec<&str> = got.split_inclusive("\r\n").collect();
    let header: Vec<&str> = USERS.iter().map(|c| c.name).collect();
    assert_eq!(lines[0], format!("{}\r\n", header.join(",")));
    assert_eq!(lines.len(), 5, "header once, then every row");
    assert!(
        lines[1].starts_with(&format!("{CONTOSO},Contoso,zoe@")),
        "arrival order: csv streams"
    );
    assert_eq!(
        lines[2],
        format!(
            "{ADATUM},Adatum Farms Ltd,juergen@adatumfarms.com,\"Jürgen Müller, \"\"JM\"\" 日本語テスト\",\
             0f1e2d3c-0000-4000-8000-000000000002,true,SPB; POWER_BI_PRO,5,2023-11-05T22:59:59Z\r\n"
        )
    );
    assert!(
        lines[3].ends_with(",false,,,\r\n"),
        "empty list and nulls are empty cells"
    );
    assert!(!got.starts_with('\u{feff}'), "no BOM unless asked");
}

#[test]
fn csv_with_bom_starts_with_the_utf8_byte_order_mark_once() {
    let s = OutputSpec {
        bom: true,
        ..spec(Some(Format::Csv))
    };
    let got = render(&s, false);
    assert!(got.starts_with("\u{feff}tenantId,tenantName,"));
    assert_eq!(got.matches('\u{feff}').count(), 1);
}

#[test]
fn csv_without_rows_still_has_its_header() {
    let out = Stdout::default();
    let sink = open_with_stdout(&spec(Some(Format::Csv)), USERS.to_vec(), false, Box::new(out.clone())).unwrap();
    sink.finish(&[]).unwrap();
    assert!(out.text().starts_with("tenantId,tenantName,userPrincipalName,"));
    assert_eq!(out.text().matches("\r\n").count(), 1);
}

#[test]
fn csv_select_keeps_the_named_columns_in_that_order_and_sort_buffers_then_sorts() {
    let s = OutputSpec {
        select: vec!["mailboxMb".into(), "USERPRINCIPALNAME".into()],
        sort: vec!["mailboxMb".into()],
        ..spec(Some(Format::Csv))
    };
    assert_eq!(
        render(&s, false),
        "mailboxMb,userPrincipalName\r\n5,juergen@adatumfarms.com\r\n1024,zoe@contoso.com\r\n\
         123456,taro@tesuto.co.jp\r\n,adele@contoso.com\r\n"
    );
}

#[test]
fn csv_reaches_stdout_in_whole_rows_only() {
    let out = Stdout::default();
    let mut sink = open_with_stdout(&spec(Some(Format::Csv)), USERS.to_vec(), false, Box::new(out.clone())).unwrap();
    for r in users() {
        sink.write_row(r).unwrap();
        sink.flush().unwrap(); // as the caller does after each tenant
    }
    sink.finish(&[]).unwrap();
    let writes = out.writes();
    assert_eq!(
        writes.len(),
        4,
        "each flushed row (the header goes with the first): {writes:?}"
    );
    for w in &writes {
        assert!(w.ends_with("\r\n"), "a write ends at a row boundary: {w:?}");
    }
}

#[test]
fn a_row_of_the_wrong_width_is_refused() {
    let mut sink = open_with_stdout(
        &spec(Some(Format::Csv)),
        USERS.to_vec(),
        false,
        Box::new(Stdout::default()),
    )
    .unwrap();
    let e = sink.write_row(vec![t("x")]).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
}

// ---------------------------------------------------------------------------------------
// JSON and JSONL

#[test]
fn json_is_one_array_with_lists_as_arrays_numbers_as_numbers_bools_and_nulls() {
    let v: Value = serde_json::from_str(&render(&spec(Some(Format::Json)), false)).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(
        rows[1],
        json!({
            "tenantId": ADATUM,
            "tenantName": "Adatum Farms Ltd",
            "userPrincipalName": "juergen@adatumfarms.com",
            "displayName": "Jürgen Müller, \"JM\" 日本語テスト",
            "id": "0f1e2d3c-0000-4000-8000-000000000002",
            "accountEnabled": true,
            "licenses": ["SPB", "POWER_BI_PRO"],
            "mailboxMb": 5,
            "createdDateTime": "2023-11-05T22:59:59Z",
        })
    );
    assert_eq!(rows[2]["licenses"], json!([]));
    assert_eq!(rows[2]["mailboxMb"], Value::Null);
    let keys: Vec<&String> = rows[0].as_object().unwrap().keys().collect();
    assert_eq!(keys, USERS.iter().map(|c| c.name).collect::<Vec<_>>(), "schema order");
}

#[test]
fn json_without_rows_is_an_empty_array() {
    let out = Stdout::default();
    let sink = open_with_stdout(&spec(Some(Format::Json)), USERS.to_vec(), false, Box::new(out.clone())).unwrap();
    sink.finish(&[]).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&out.text()).unwrap(), json!([]));
}

#[test]
fn jsonl_is_one_object_per_line_and_select_applies() {
    let s = OutputSpec {
        select: vec!["userPrincipalName,licenses".into()],
        ..spec(Some(Format::Jsonl))
    };
    let got = render(&s, false);
    let lines: Vec<Value> = got.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(
        lines[3],
        json!({"userPrincipalName": "taro@tesuto.co.jp", "licenses": ["O365_BUSINESS_PREMIUM"]})
    );
}

// ---------------------------------------------------------------------------------------
// Choosing the format; flag errors name the flag and the fix

fn with_out(format: Option<Format>, out: &str) -> OutputSpec {
    OutputSpec {
        out: Some(out.into()),
        ..spec(format)
    }
}

#[test]
fn the_format_follows_the_out_extension_else_table_on_a_terminal_else_csv() {
    for (file, f) in [
        ("a.csv", Format::Csv),
        ("a.CSV", Format::Csv),
        ("a.json", Format::Json),
        ("a.jsonl", Format::Jsonl),
        ("a.ndjson", Format::Jsonl),
        ("a.xlsx", Format::Xlsx),
        ("a.txt", Format::Table),
    ] {
        assert_eq!(resolve_format(&with_out(None, file), true).unwrap(), f, "{file}");
        assert_eq!(resolve_format(&with_out(Some(f), file), false).unwrap(), f, "{file}");
    }
    assert_eq!(resolve_format(&spec(None), true).unwrap(), Format::Table);
    assert_eq!(resolve_format(&spec(None), false).unwrap(), Format::Csv);
    assert_eq!(
        resolve_format(&with_out(Some(Format::Json), "report"), false).unwrap(),
        Format::Json
    );
    assert_eq!(
        resolve_format(&spec(Some(Format::Xlsx)), false).unwrap(),
        Format::Xlsx,
        "xlsx into a pipe is fine"
    );
}

#[test]
fn an_unknown_extension_is_an_error_never_a_silent_csv() {
    let e = resolve_format(&with_out(None, "report.tsv"), false).unwrap_err();
    assert!(matches!(e, OutputError::UnknownExtension { .. }));
    assert_eq!(
        e.to_string(),
        "--out report.tsv: unknown extension '.tsv'; name the file .csv, .json, .jsonl (or .ndjson), .xlsx or .txt (table)"
    );
    assert!(
        resolve_format(&with_out(Some(Format::Csv), "report.tsv"), false).is_err(),
        "even with -o"
    );
    assert_eq!(
        resolve_format(&with_out(None, "report"), false).unwrap_err().to_string(),
        "--out report: no extension to tell the format; name the file .csv, .json, .jsonl, .xlsx or .txt, or give -o FORMAT"
    );
}

#[test]
fn a_format_contradicting_the_extension_is_an_error() {
    assert_eq!(
        resolve_format(&with_out(Some(Format::Json), "x.xlsx"), false)
            .unwrap_err()
            .to_string(),
        "-o json contradicts --out x.xlsx (a .xlsx file is xlsx); drop -o or rename the file"
    );
}

#[test]
fn xlsx_refuses_a_terminal_and_bom_refuses_anything_but_csv() {
    assert_eq!(
        open_err(&spec(Some(Format::Xlsx)), true),
        "-o xlsx writes a binary workbook, not for a terminal; give --out FILE.xlsx"
    );
    let s = OutputSpec {
        bom: true,
        ..spec(Some(Format::Json))
    };
    assert_eq!(
        open_err(&s, false),
        "--bom applies to csv only, and the output is json; drop --bom"
    );
}

#[test]
fn unknown_select_and_sort_columns_are_errors_listing_the_valid_columns() {
    let s = OutputSpec {
        select: vec!["tenantName,principal".into()],
        ..spec(Some(Format::Csv))
    };
    assert_eq!(
        open_err(&s, false),
        "--select: no column 'principal'; did you mean 'userPrincipalName'?; the columns are: \
         tenantId, tenantName, userPrincipalName, displayName, id, accountEnabled, licenses, mailboxMb, createdDateTime"
    );
    let s = OutputSpec {
        sort: vec!["-created".into()],
        ..spec(Some(Format::Csv))
    };
    let e = open_err(&s, false);
    assert!(
        e.starts_with("--sort: no column 'created'; did you mean 'createdDateTime'?; the columns are: tenantId,"),
        "{e}"
    );
    let s = OutputSpec {
        sort: vec!["bogus".into()],
        ..spec(Some(Format::Csv))
    };
    assert!(open_err(&s, false).starts_with("--sort: no column 'bogus'; the columns are: tenantId, "));
}

// ---------------------------------------------------------------------------------------
// Files: whole or not at all

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_file_gets_its_name_only_when_finished() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.csv");
    let s = with_out(None, path.to_str().unwrap());
    let mut sink = open(&s, USERS.to_vec(), true).unwrap();
    for r in users() {
        sink.write_row(r).unwrap();
        sink.flush().unwrap();
    }
    assert!(!path.exists(), "no file under the final name before finish");
    let names = entries(dir.path());
    assert_eq!(names.len(), 1);
    assert!(
        names[0].starts_with(".users.csv.") && names[0].ends_with(".partial"),
        "{names:?}"
    );
    sink.finish(&outcomes()).unwrap();
    assert_eq!(
        entries(dir.path()),
        ["users.csv"],
        "the temporary file became the output"
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 5);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let plain = dir.path().join("plain");
        std::fs::File::create(&plain).unwrap();
        assert_eq!(
            mode(&path),
            mode(&plain),
            "the permissions of any new file (umask), not tempfile's 0600"
        );
    }
}

#[test]
fn an_interrupted_output_leaves_no_file_and_an_existing_one_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    std::fs::write(&path, "previous run").unwrap();
    let mut sink = open(&with_out(None, path.to_str().unwrap()), USERS.to_vec(), false).unwrap();
    sink.write_row(users().remove(0)).unwrap();
    sink.flush().unwrap();
    drop(sink); // the run died before finish
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "previous run");
    assert_eq!(entries(dir.path()), ["users.json"], "no partial file left");
}

#[test]
fn an_uncreatable_out_file_fails_at_open_naming_the_flag() {
    let e = match open(&with_out(None, "/nonexistent-dir/x.csv"), USERS.to_vec(), false) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("opened"),
    };
    assert!(
        e.starts_with("--out /nonexistent-dir/x.csv: cannot create a file there: "),
        "{e}"
    );
}

#[test]
fn a_closed_pipe_is_reported_as_a_broken_pipe() {
    struct Closed;
    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut sink = open_with_stdout(&spec(Some(Format::Jsonl)), USERS.to_vec(), false, Box::new(Closed)).unwrap();
    sink.write_row(users().remove(0)).unwrap();
    let e = sink.flush().unwrap_err();
    assert!(tenantctl_output::is_broken_pipe(&e));
}

// ---------------------------------------------------------------------------------------
// XLSX

fn excel_serial(d: time::OffsetDateTime) -> f64 {
    d.unix_timestamp() as f64 / 86_400.0 + 25_569.0
}

#[test]
fn xlsx_has_typed_cells_a_header_sorted_rows_and_a_tenants_sheet() {
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.xlsx");
    let mut sink = open(&with_out(None, path.to_str().unwrap()), USERS.to_vec(), true).unwrap();
    for r in users() {
        sink.write_row(r).unwrap();
    }
    sink.finish(&outcomes()).unwrap();

    let mut wb: Xlsx<_> = open_workbook(&path).unwrap();
    assert_eq!(wb.sheet_names(), ["Data", "Tenants"]);
    let data = wb.worksheet_range("Data").unwrap();
    let rows: Vec<&[Data]> = data.rows().collect();
    assert_eq!(rows.len(), 5);
    let header: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
    assert_eq!(
        header,
        USERS.iter().map(|c| c.name).collect::<Vec<_>>(),
        "every column, ids too"
    );
    // Sorted like the table: Adatum first.
    let adatum = rows[1];
    assert_eq!(adatum[0], Data::String(ADATUM.into()));
    assert_eq!(adatum[5], Data::Bool(true), "a boolean cell");
    assert_eq!(adatum[6], Data::String("SPB; POWER_BI_PRO".into()));
    assert_eq!(adatum[7], Data::Float(5.0), "a number cell");
    match &adatum[8] {
        Data::DateTime(d) => {
            assert!((d.as_f64() - excel_serial(datetime!(2023-11-05 22:59:59 UTC))).abs() < 1e-6)
        }
        other => panic!("a date cell, got {other:?}"),
    }
    assert_eq!(rows[2][3], Data::String(LONG_NAME.into()), "nothing cut");
    assert_eq!(rows[2][7], Data::Empty);
    assert_eq!(rows[4][1], Data::String("株式会社テスト".into()));

    let tenants = wb.worksheet_range("Tenants").unwrap();
    let rows: Vec<&[Data]> = tenants.rows().collect();
    let header: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
    assert_eq!(
        header,
        [
            "tenantName",
            "tenantId",
            "status",
            "detail",
            "rows",
            "elapsedMs",
            "whatToDo"
        ]
    );
    assert_eq!(rows.len(), 5, "every tenant, ok or not");
    let fabrikam = rows
        .iter()
        .find(|r| r[0] == Data::String("Fabrikam Properties AB".into()))
        .unwrap();
    assert_eq!(fabrikam[2], Data::String("consent_missing".into()));
    assert_eq!(fabrikam[4], Data::Float(0.0));
    assert_eq!(fabrikam[6], Data::String(TenantStatus::ConsentMissing.hint().into()));
}

#[test]
fn xlsx_into_a_pipe_is_a_whole_workbook_written_at_finish() {
    let out = Stdout::default();
    let mut sink = open_with_stdout(&spec(Some(Format::Xlsx)), USERS.to_vec(), false, Box::new(out.clone())).unwrap();
    for r in users() {
        sink.write_row(r).unwrap();
        sink.flush().unwrap();
    }
    assert!(out.text().is_empty(), "nothing before finish");
    sink.finish(&outcomes()).unwrap();
    let bytes = out.0.lock().unwrap().concat();
    let wb = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    assert!(wb.file_names().any(|n| n == "xl/worksheets/sheet2.xml"));
}

#[test]
fn xlsx_header_is_bold_frozen_and_filtered() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u.xlsx");
    let mut sink = open(
        &with_out(Some(Format::Xlsx), path.to_str().unwrap()),
        USERS.to_vec(),
        true,
    )
    .unwrap();
    for r in users() {
        sink.write_row(r).unwrap();
    }
    sink.finish(&outcomes()).unwrap();
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut read = |name: &str| {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut s).unwrap();
        s
    };
    let sheet = read("xl/worksheets/sheet1.xml");
    assert!(sheet.contains(r#"<autoFilter ref="A1:I5"/>"#), "{sheet}");
    assert!(
        sheet.contains(r#"ySplit="1""#) && sheet.contains(r#"state="frozen""#),
        "frozen header"
    );
    assert!(sheet.contains("<cols>"), "column widths set");
    assert!(read("xl/worksheets/sheet2.xml").contains(r#"<autoFilter ref="A1:G5"/>"#));
    assert!(read("xl/styles.xml").contains("<b/>"), "a bold font for the header");
}

#[test]
fn xlsx_select_and_sort_apply() {
    use calamine::{open_workbook, Reader, Xlsx};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u.xlsx");
    let s = OutputSpec {
        select: vec!["userPrincipalName".into(), "mailboxMb".into()],
        sort: vec!["-mailboxMb".into()],
        ..with_out(None, path.to_str().unwrap())
    };
    let mut sink = open(&s, USERS.to_vec(), true).unwrap();
    for r in users() {
        sink.write_row(r).unwrap();
    }
    sink.finish(&[]).unwrap();
    let mut wb: Xlsx<_> = open_workbook(&path).unwrap();
    let data = wb.worksheet_range("Data").unwrap();
    let col0: Vec<String> = data.rows().map(|r| r[0].to_string()).collect();
    assert_eq!(
        col0,
        [
            "userPrincipalName",
            "taro@tesuto.co.jp",
            "zoe@contoso.com",
            "juergen@adatumfarms.com",
            "adele@contoso.com"
        ]
    );
    assert_eq!(data.get_size().1, 2);
}

// ---------------------------------------------------------------------------------------
// Status report (stderr)

fn failed(name: &str, id: &str, status: TenantStatus, detail: &str) -> TenantOutcome {
    TenantOutcome {
        tenant_id: id.parse().unwrap(),
        tenant_name: name.into(),
        status,
        detail: detail.into(),
        rows: 0,
        elapsed_ms: 10,
    }
}

fn fleet() -> Vec<TenantOutcome> {
    let mut v = outcomes(); // three ok, Fabrikam consent_missing
    v.push(failed(
        "Coho Textiles SA",
        "11111111-1111-4111-8111-111111111111",
        TenantStatus::RelationshipExpired,
        "AADSTS50020: expired",
    ));
    v.push(failed(
        "Alpine Accounting",
        "22222222-2222-4222-8222-222222222222",
        TenantStatus::ConsentMissing,
        "AADSTS65001: The user or administrator has not consented",
    ));
    v.push(failed(
        "Beacon Realty Group",
        "33333333-3333-4333-8333-333333333333",
        TenantStatus::ConsentMissing,
        "AADSTS65001: The user or administrator has not consented",
    ));
    v
}

#[test]
fn the_status_report_groups_failed_tenants_by_status_with_the_advice_once() {
    let expected = "\
consent_missing (3 tenants): the partner app is not consented in this tenant; push
  consent (Partner Center applicationconsents) or ask the customer's admin
  cause: AADSTS65001: The user or administrator has not consented
  Alpine Accounting, Beacon Realty Group, Fabrikam Properties AB
relationship_expired (1 tenant): the GDAP relationship has expired; request a new
  one in Partner Center
  cause: AADSTS50020: expired
  Coho Textiles SA
";
    let got = render_status_report(&fleet(), 84, false);
    assert_eq!(got, expected, "\n{got}");
    assert!(!got.contains("Contoso"), "ok tenants are not listed");
    assert!(!got.contains("-1111-"), "ids only when verbose");
}

#[test]
fn the_status_report_wraps_names_to_the_width_and_lists_ids_when_verbose() {
    let got = render_status_report(&fleet(), 42, false);
    assert!(got.lines().all(|l| display_width(l) <= 42), "{got}");
    assert!(
        got.contains("  Alpine Accounting, Beacon Realty Group,\n  Fabrikam Properties AB\n"),
        "{got}"
    );
    let verbose = render_status_report(&fleet(), 200, true);
    assert!(
        verbose.contains("  Coho Textiles SA (11111111-1111-4111-8111-111111111111): AADSTS50020: expired\n"),
        "{verbose}"
    );
    assert_eq!(
        verbose.lines().count(),
        2 + 3 + 1,
        "a heading per status, a line per tenant"
    );
}

#[test]
fn the_status_report_is_empty_when_every_tenant_is_ok_and_omits_differing_causes() {
    assert_eq!(render_status_report(&outcomes()[..3], 80, false), "");
    let v = vec![
        failed("A", CONTOSO, TenantStatus::Error, "HTTP 500"),
        failed("B", ADATUM, TenantStatus::Error, "HTTP 502"),
    ];
    assert_eq!(
        render_status_report(&v, 200, false),
        format!("error (2 tenants): {}\n  A, B\n", TenantStatus::Error.hint())
    );
}

// ---------------------------------------------------------------------------------------
// --query (JMESPath)

fn query(q: &str, format: Option<Format>) -> OutputSpec {
    OutputSpec {
        query: Some(q.into()),
        ..spec(format)
    }
}

#[test]
fn query_runs_jmespath_over_the_rows_and_prints_its_json_result() {
    // Even on a terminal: a query's result is JSON.
    let got = render(
        &query("[?accountEnabled].{upn: userPrincipalName, mb: mailboxMb}", None),
        true,
    );
    let v: Value = serde_json::from_str(&got).unwrap();
    assert_eq!(
        v,
        json!([
            {"upn": "zoe@contoso.com", "mb": 1024},
            {"upn": "juergen@adatumfarms.com", "mb": 5},
            {"upn": "taro@tesuto.co.jp", "mb": 123456},
        ]),
        "arrival order, numbers stay numbers"
    );
    let got = render(
        &query("length([?contains(licenses, 'SPB')])", Some(Format::Json)),
        false,
    );
    assert_eq!(got.trim(), "2", "lists are arrays to the query");
}

#[test]
fn query_with_jsonl_prints_one_element_a_line_after_select_and_sort() {
    let s = OutputSpec {
        select: vec!["userPrincipalName".into(), "mailboxMb".into()],
        sort: vec!["-mailboxMb".into()],
        ..query("[].userPrincipalName", Some(Format::Jsonl))
    };
    assert_eq!(
        render(&s, false),
        "\"taro@tesuto.co.jp\"\n\"zoe@contoso.com\"\n\"juergen@adatumfarms.com\"\n\"adele@contoso.com\"\n"
    );
    let s = OutputSpec {
        select: vec!["userPrincipalName".into()],
        ..query("[0]", Some(Format::Jsonl))
    };
    assert_eq!(
        render(&s, false),
        "{\"userPrincipalName\":\"zoe@contoso.com\"}\n",
        "the query sees only the selected columns"
    );
}

#[test]
fn a_bad_query_or_a_query_with_a_non_json_format_fails_at_open() {
    let e = open_err(&query("[?accountEnabled", None), false);
    assert!(e.starts_with("--query: "), "{e}");
    assert_eq!(
        open_err(&query("[]", Some(Format::Csv)), false),
        "--query gives JSON, and the output is csv; use -o json or -o jsonl (or drop -o)"
    );
}

/// Writes `rows` of the users schema and returns what was printed.
fn render_rows(spec: &OutputSpec, terminal: bool, rows: Vec<Vec<Cell>>) -> String {
    let out = Stdout::default();
    let mut sink = open_with_stdout(spec, USERS.to_vec(), terminal, Box::new(out.clone())).unwrap();
    for r in rows {
        sink.write_row(r).unwrap();
    }
    sink.finish(&[]).unwrap();
    out.text()
}

fn hostile_user() -> Vec<Cell> {
    vec![
        t(CONTOSO),
        t("Contoso\u{1b}[2J\u{1b}]0;pwned\u{7}"),
        t("=HYPERLINK(\"http://evil.example\",\"click\")@contoso.com"),
        t("\u{202e}nimda\u{202c} Mallory"),
        t("0f1e2d3c-0000-4000-8000-000000000009"),
        Cell::Bool(true),
        list(&["+SPB", "@X"]),
        Cell::Int(-5),
        Cell::Null,
    ]
}

/// Probe D18: tenant data with escape sequences and bidi overrides reached the terminal raw.
#[test]
fn the_table_never_passes_escape_sequences_or_bidi_overrides_to_the_terminal() {
    let out = render_rows(
        &OutputSpec {
            terminal_width: Some(200),
            ..spec(None)
        },
        true,
        vec![hostile_user()],
    );
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
    assert!(!out.contains('\u{202e}') && !out.contains('\u{202c}'), "{out:?}");
    let report = tenantctl_output::render_status_report(
        &[TenantOutcome {
            tenant_id: CONTOSO.parse().unwrap(),
            tenant_name: "Evil\u{1b}[31m Co\u{202e}".into(),
            status: TenantStatus::Error,
            detail: "boom\u{1b}[0m".into(),
            rows: 0,
            elapsed_ms: 1,
        }],
        120,
        false,
    );
    assert!(!report.contains('\u{1b}') && !report.contains('\u{202e}'), "{report:?}");
}

/// Probe D18: a display name `=HYPERLINK(…)` was written to csv as is (OWASP "CSV injection").
/// With `--excel-safe` text cells a spreadsheet would run get a leading `'`; numbers do not.
#[test]
fn excel_safe_csv_neutralises_formula_like_text_only() {
    let plain = render_rows(&spec(Some(Format::Csv)), false, vec![hostile_user()]);
    assert!(plain.contains(",\"=HYPERLINK("), "data kept as is by default: {plain}");
    let safe = render_rows(
        &OutputSpec {
            excel_safe: true,
            ..spec(Some(Format::Csv))
        },
        false,
        vec![hostile_user()],
    );
    assert!(safe.contains(",\"'=HYPERLINK("), "{safe}");
    assert!(safe.contains("'+SPB; @X"), "{safe}");
    assert!(safe.contains(",-5,"), "numbers are not touched: {safe}");
    let e = open_err(
        &OutputSpec {
            excel_safe: true,
            ..spec(Some(Format::Json))
        },
        false,
    );
    assert!(e.contains("--excel-safe applies to csv only"), "{e}");
}

/// `--out /dev/null` renamed a regular file over the device (the whole machine lost its
/// `/dev/null`). A device or FIFO given as `--out` is written to directly and stays what it
/// is. Checked on a FIFO of our own, never on the real `/dev/null`.
#[cfg(unix)]
#[test]
fn out_to_a_fifo_or_device_writes_into_it_and_never_replaces_it() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let s = OutputSpec {
        out: Some(fifo.clone()),
        ..spec(Some(Format::Csv))
    };
    let mut sink = tenantctl_output::open(&s, USERS.to_vec(), false).unwrap();
    for r in users() {
        sink.write_row(r).unwrap();
    }
    sink.finish(&[]).unwrap();
    let got = reader.join().unwrap();
    assert!(got.starts_with("tenantId,tenantName,userPrincipalName"), "{got}");
    assert_eq!(got.lines().count(), 1 + users().len());
    let t = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(t.is_fifo(), "the FIFO is still a FIFO");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "no temporary file beside it");
}
