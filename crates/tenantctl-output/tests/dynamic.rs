//! Dynamic-column output: fixed tenant cells + the properties each row brought, united into one
//! header at the end (Exchange cmdlet results, usage reports whose columns differ by tenant).

use serde_json::{json, Map, Value};
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use tenantctl_core::status::{TenantOutcome, TenantStatus};
use tenantctl_output::{
    open_dynamic, open_dynamic_with_stdout, Cell, Column, DynamicError, Format, Kind, OutputError, OutputSpec,
};

// ---------------------------------------------------------------------------------------
// Allocation accounting per thread, for the spool's memory check.

struct Counting;

thread_local! {
    static LIVE: std::cell::Cell<isize> = const { std::cell::Cell::new(0) };
    static PEAK: std::cell::Cell<isize> = const { std::cell::Cell::new(0) };
}

fn account(delta: isize) {
    let _ = LIVE.try_with(|l| {
        let now = l.get() + delta;
        l.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        account(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        account(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        account(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Resets this thread's peak to its current live bytes; returns the live bytes.
fn reset_peak() -> isize {
    let live = LIVE.with(|l| l.get());
    PEAK.with(|p| p.set(live));
    live
}

fn peak() -> isize {
    PEAK.with(|p| p.get())
}

// ---------------------------------------------------------------------------------------
// Fixtures: three tenants whose mailboxes bring different properties.

const FIXED: &[Column] = &[
    Column {
        name: "tenantId",
        kind: Kind::Id,
    },
    Column {
        name: "tenantName",
        kind: Kind::Text,
    },
    Column {
        name: "defaultDomain",
        kind: Kind::Text,
    },
];

const CONTOSO: &str = "52eaad04-13a2-4a2f-9ce8-93a294fadf36";
const FABRIKAM: &str = "cef26524-1111-4222-8333-944455556666";
const TESUTO: &str = "7860f7b5-0b2c-4c6e-9d3a-0e8f2f6c1a11";

fn fixed(id: &str, name: &str, domain: &str) -> Vec<Cell> {
    vec![
        Cell::Text(id.into()),
        Cell::Text(name.into()),
        Cell::Text(domain.into()),
    ]
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("an object"),
    }
}

/// Arrival order is not the natural order (Tesuto, Contoso, Fabrikam).
fn mailboxes() -> Vec<(Vec<Cell>, Map<String, Value>)> {
    vec![
        (
            fixed(TESUTO, "Tesuto KK", "tesuto.jp"),
            obj(json!({
                "displayname": "Chie",
                "ItemCount": null,
                "Quota": {"Value": 5},
                "tenantName": "clash",
                "Guid": "aaaaaaaa-0000-4000-8000-000000000003",
            })),
        ),
        (
            fixed(CONTOSO, "Contoso", "contoso.com"),
            obj(json!({
                "DisplayName": "Adele",
                "ItemCount": 12,
                "ArchiveStatus": "None",
                "WhenCreated": "2024-01-15T10:00:00Z",
                "EmailAddresses": ["SMTP:adele@contoso.com", "smtp:a@contoso.com"],
                "Guid": "aaaaaaaa-0000-4000-8000-000000000001",
                "IsShared": false,
            })),
        ),
        (
            fixed(FABRIKAM, "Fabrikam", "fabrikam.com"),
            obj(json!({
                "DisplayName": "Bob",
                "ItemCount": 3,
                "WhenCreated": "/Date(1700000000000)/",
                "IsShared": true,
                "LitigationHoldEnabled": true,
                "Guid": "aaaaaaaa-0000-4000-8000-000000000002",
            })),
        ),
    ]
}

fn outcomes() -> Vec<TenantOutcome> {
    [(CONTOSO, "Contoso"), (FABRIKAM, "Fabrikam"), (TESUTO, "Tesuto KK")]
        .iter()
        .map(|(id, name)| TenantOutcome {
            tenant_id: id.parse().unwrap(),
            tenant_name: (*name).into(),
            status: TenantStatus::Ok,
            detail: String::new(),
            rows: 1,
            elapsed_ms: 10,
        })
        .collect()
}

#[derive(Clone, Default)]
struct Stdout(Arc<Mutex<Vec<u8>>>);

impl Write for Stdout {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Stdout {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn spec(format: Option<Format>) -> OutputSpec {
    OutputSpec {
        format,
        default_sort: vec!["tenantName"],
        ..OutputSpec::default()
    }
}

fn render(spec: &OutputSpec) -> Result<String, DynamicError> {
    let out = Stdout::default();
    let mut sink = open_dynamic_with_stdout(spec, FIXED.to_vec(), false, Box::new(out.clone()))?;
    for (f, p) in mailboxes() {
        sink.write_row(f, &p)?;
    }
    assert_eq!(sink.rows(), 3);
    sink.finish(&outcomes())?;
    Ok(out.text())
}

/// csv parsed back by header name: one map per row.
fn csv_rows(text: &str) -> (Vec<String>, Vec<HashMap<String, String>>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r
        .records()
        .map(|rec| {
            header
                .iter()
                .cloned()
                .zip(rec.unwrap().iter().map(str::to_owned))
                .collect()
        })
        .collect();
    (header, rows)
}

const UNION: &[&str] = &[
    "tenantId",
    "tenantName",
    "defaultDomain",
    "displayname",
    "ItemCount",
    "Quota",
    "tenantName_1",
    "Guid",
    "ArchiveStatus",
    "WhenCreated",
    "EmailAddresses",
    "IsShared",
    "LitigationHoldEnabled",
];

// ---------------------------------------------------------------------------------------

#[test]
fn csv_has_one_header_uniting_every_tenants_properties_in_first_seen_order_without_misalignment() {
    let (header, rows) = csv_rows(&render(&spec(Some(Format::Csv))).unwrap());
    assert_eq!(
        header, UNION,
        "fixed first; a property named like a fixed column gets _1"
    );
    assert_eq!(rows.len(), 3);
    let by = |name: &str| rows.iter().find(|r| r["tenantName"] == name).unwrap();
    let (contoso, fabrikam, tesuto) = (by("Contoso"), by("Fabrikam"), by("Tesuto KK"));
    assert_eq!(
        contoso["displayname"], "Adele",
        "DisplayName and displayname are one column"
    );
    assert_eq!(contoso["ItemCount"], "12");
    assert_eq!(contoso["ArchiveStatus"], "None");
    assert_eq!(contoso["EmailAddresses"], "SMTP:adele@contoso.com; smtp:a@contoso.com");
    assert_eq!(contoso["WhenCreated"], "2024-01-15T10:00:00Z");
    assert_eq!(contoso["IsShared"], "false");
    assert_eq!(contoso["LitigationHoldEnabled"], "", "missing is empty");
    assert_eq!(fabrikam["defaultDomain"], "fabrikam.com");
    assert_eq!(
        fabrikam["WhenCreated"], "2023-11-14T22:13:20Z",
        "/Date(ms)/ read as UTC"
    );
    assert_eq!(fabrikam["ArchiveStatus"], "");
    assert_eq!(fabrikam["LitigationHoldEnabled"], "true");
    assert_eq!(tesuto["tenantName_1"], "clash");
    assert_eq!(tesuto["Quota"], r#"{"Value":5}"#, "objects as compact JSON");
    assert_eq!(tesuto["ItemCount"], "");
    assert_eq!(tesuto["Guid"], "aaaaaaaa-0000-4000-8000-000000000003");
}

#[test]
fn kinds_are_inferred_per_column_over_all_rows() {
    let mut sink = open_dynamic_with_stdout(
        &spec(Some(Format::Csv)),
        FIXED.to_vec(),
        false,
        Box::new(Stdout::default()),
    )
    .unwrap();
    for (f, p) in mailboxes() {
        sink.write_row(f, &p).unwrap();
    }
    let kinds: Vec<(&str, Kind)> = sink.columns().iter().map(|c| (c.name, c.kind)).collect();
    assert_eq!(
        kinds,
        [
            ("tenantId", Kind::Id),
            ("tenantName", Kind::Text),
            ("defaultDomain", Kind::Text),
            ("displayname", Kind::Text),
            ("ItemCount", Kind::Int),
            ("Quota", Kind::Text),
            ("tenantName_1", Kind::Text),
            ("Guid", Kind::Id),
            ("ArchiveStatus", Kind::Text),
            ("WhenCreated", Kind::DateTime),
            ("EmailAddresses", Kind::List),
            ("IsShared", Kind::Bool),
            ("LitigationHoldEnabled", Kind::Bool),
        ]
    );
    // One more tenant sends a fraction: the column becomes text.
    sink.write_row(
        fixed(CONTOSO, "Contoso", "contoso.com"),
        &obj(json!({"ItemCount": 2.5})),
    )
    .unwrap();
    assert_eq!(sink.columns()[4].kind, Kind::Text);
}

#[test]
fn json_has_every_column_in_every_object_typed() {
    let v: Value = serde_json::from_str(&render(&spec(Some(Format::Json))).unwrap()).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for r in rows {
        let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, UNION);
    }
    let contoso = &rows[1];
    assert_eq!(contoso["ItemCount"], json!(12));
    assert_eq!(contoso["IsShared"], json!(false));
    assert_eq!(
        contoso["EmailAddresses"],
        json!(["SMTP:adele@contoso.com", "smtp:a@contoso.com"])
    );
    assert_eq!(contoso["LitigationHoldEnabled"], Value::Null);
    assert_eq!(rows[2]["WhenCreated"], json!("2023-11-14T22:13:20Z"));
    assert_eq!(rows[0]["Quota"], json!(r#"{"Value":5}"#));
}

#[test]
fn jsonl_without_sort_or_query_streams_each_row_as_received() {
    let out = Stdout::default();
    let mut sink =
        open_dynamic_with_stdout(&spec(Some(Format::Jsonl)), FIXED.to_vec(), false, Box::new(out.clone())).unwrap();
    let rows = mailboxes();
    sink.write_row(rows[1].0.clone(), &rows[1].1).unwrap();
    sink.flush().unwrap();
    let first: Value = serde_json::from_str(out.text().trim()).unwrap();
    assert_eq!(first["tenantName"], json!("Contoso"), "out before finish");
    assert_eq!(first["ItemCount"], json!(12));
    sink.write_row(rows[2].0.clone(), &rows[2].1).unwrap();
    sink.write_row(rows[0].0.clone(), &rows[0].1).unwrap();
    sink.finish(&outcomes()).unwrap();
    let lines: Vec<Value> = out.text().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[1]["WhenCreated"],
        json!("/Date(1700000000000)/"),
        "values as received"
    );
    assert!(lines[1].get("ArchiveStatus").is_none(), "only the row's own properties");
    assert_eq!(lines[2]["tenantName"], json!("Tesuto KK"));
    assert_eq!(lines[2]["tenantName_1"], json!("clash"));
    assert_eq!(lines[2]["Quota"], json!({"Value": 5}));
}

#[test]
fn jsonl_with_sort_is_spooled_and_sorted_on_a_dynamic_column() {
    let s = OutputSpec {
        sort: vec!["-itemcount".into()],
        ..spec(Some(Format::Jsonl))
    };
    let lines: Vec<Value> = render(&s)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<&Value> = lines.iter().map(|l| &l["tenantName"]).collect();
    assert_eq!(
        names,
        [&json!("Contoso"), &json!("Fabrikam"), &json!("Tesuto KK")],
        "12, 3, then empty"
    );
    assert_eq!(lines[2]["ItemCount"], Value::Null);
    assert_eq!(lines[0].as_object().unwrap().len(), UNION.len());
}

#[test]
fn select_and_sort_name_dynamic_columns_case_insensitively() {
    let s = OutputSpec {
        select: vec!["tenantName,itemcount".into(), "DISPLAYNAME".into()],
        sort: vec!["ItemCount".into()],
        ..spec(Some(Format::Csv))
    };
    let text = render(&s).unwrap();
    assert_eq!(
        text, "tenantName,ItemCount,displayname\r\nFabrikam,3,Bob\r\nContoso,12,Adele\r\nTesuto KK,,Chie\r\n",
        "numeric order (3 before 12), empty last"
    );
}

#[test]
fn a_select_or_sort_naming_a_column_no_row_had_fails_listing_the_columns_seen() {
    let s = OutputSpec {
        select: vec!["DisplayNmae".into()],
        ..spec(Some(Format::Csv))
    };
    let err = render(&s).unwrap_err();
    match &err {
        DynamicError::Output(OutputError::UnknownColumn { flag, name, valid, .. }) => {
            assert_eq!(*flag, "--select");
            assert_eq!(name, "DisplayNmae");
            assert_eq!(valid, UNION);
        }
        other => panic!("expected UnknownColumn, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("did you mean 'displayname'"), "{msg}");
    assert!(msg.contains("LitigationHoldEnabled"), "{msg}");

    let s = OutputSpec {
        sort: vec!["Size".into()],
        ..spec(Some(Format::Json))
    };
    assert!(matches!(
        render(&s),
        Err(DynamicError::Output(OutputError::UnknownColumn { flag: "--sort", .. }))
    ));

    // To a file: nothing is left behind.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.csv");
    let s = OutputSpec {
        out: Some(path.clone()),
        select: vec!["nope".into()],
        ..spec(None)
    };
    let mut sink = open_dynamic(&s, FIXED.to_vec(), true).unwrap();
    for (f, p) in mailboxes() {
        sink.write_row(f, &p).unwrap();
    }
    assert!(sink.finish(&outcomes()).is_err());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn flag_combinations_fail_at_open_with_the_same_errors_as_open() {
    let err = |s: &OutputSpec, terminal: bool| match open_dynamic_with_stdout(
        s,
        FIXED.to_vec(),
        terminal,
        Box::new(Stdout::default()),
    ) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    };
    let bom = OutputSpec {
        bom: true,
        ..spec(Some(Format::Json))
    };
    assert!(matches!(err(&bom, false), OutputError::BomWithoutCsv { .. }));
    let q = OutputSpec {
        query: Some("[].x".into()),
        ..spec(Some(Format::Csv))
    };
    assert!(matches!(err(&q, false), OutputError::QueryNeedsJson { .. }));
    let bad = OutputSpec {
        query: Some("[?".into()),
        ..spec(None)
    };
    assert!(matches!(err(&bad, false), OutputError::Query { .. }));
    assert!(matches!(
        err(&spec(Some(Format::Xlsx)), true),
        OutputError::XlsxToTerminal
    ));
    let unwritable = OutputSpec {
        out: Some("/nonexistent-dir/x.csv".into()),
        ..spec(None)
    };
    assert!(matches!(err(&unwritable, false), OutputError::Create { .. }));
}

#[test]
fn query_runs_over_the_united_rows() {
    let s = OutputSpec {
        query: Some("[?ItemCount > `5`].displayname".into()),
        ..spec(None)
    };
    let v: Value = serde_json::from_str(&render(&s).unwrap()).unwrap();
    assert_eq!(v, json!(["Adele"]));
}

#[test]
fn the_table_hides_id_columns_including_guid_properties_and_sorts_naturally() {
    let text = render(&spec(Some(Format::Table))).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        [
            "tenantName",
            "defaultDomain",
            "displayname",
            "ItemCount",
            "Quota",
            "tenantName_1",
            "ArchiveStatus",
            "WhenCreated",
            "EmailAddresses",
            "IsShared",
            "LitigationHoldEnabled"
        ]
    );
    assert!(lines[2].starts_with("Contoso "), "{text}");
    assert!(lines[3].starts_with("Fabrikam "), "{text}");
    assert!(lines[4].starts_with("Tesuto KK "), "{text}");
    assert!(lines[2].contains("2024-01-15 10:00"), "dates to the minute: {text}");
    assert!(!text.contains(CONTOSO) && !text.contains("aaaaaaaa-"), "ids hidden");
}

#[test]
fn xlsx_has_typed_cells_for_dynamic_columns_and_the_tenants_sheet() {
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mailboxes.xlsx");
    let s = OutputSpec {
        out: Some(path.clone()),
        ..spec(None)
    };
    let mut sink = open_dynamic(&s, FIXED.to_vec(), true).unwrap();
    for (f, p) in mailboxes() {
        sink.write_row(f, &p).unwrap();
    }
    sink.finish(&outcomes()).unwrap();
    let mut wb: Xlsx<_> = open_workbook(&path).unwrap();
    assert_eq!(wb.sheet_names(), ["Data", "Tenants"]);
    let data = wb.worksheet_range("Data").unwrap();
    let rows: Vec<&[Data]> = data.rows().collect();
    let header: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
    assert_eq!(header, UNION);
    let col = |name: &str| UNION.iter().position(|n| *n == name).unwrap();
    let contoso = rows[1];
    assert_eq!(
        contoso[col("tenantName")],
        Data::String("Contoso".into()),
        "sorted by tenantName"
    );
    assert_eq!(contoso[col("ItemCount")], Data::Float(12.0));
    assert_eq!(contoso[col("IsShared")], Data::Bool(false));
    assert!(
        matches!(contoso[col("WhenCreated")], Data::DateTime(_)),
        "{:?}",
        contoso[col("WhenCreated")]
    );
    assert_eq!(
        contoso[col("EmailAddresses")],
        Data::String("SMTP:adele@contoso.com; smtp:a@contoso.com".into())
    );
    assert_eq!(rows[3][col("ItemCount")], Data::Empty);
    let tenants = wb.worksheet_range("Tenants").unwrap();
    assert_eq!(tenants.rows().count(), 4);
}

#[test]
fn no_rows_gives_the_fixed_header_and_a_row_of_the_wrong_width_is_refused() {
    let out = Stdout::default();
    let mut sink =
        open_dynamic_with_stdout(&spec(Some(Format::Csv)), FIXED.to_vec(), false, Box::new(out.clone())).unwrap();
    let err = sink.write_row(vec![Cell::Null], &Map::new()).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    sink.finish(&[]).unwrap();
    assert_eq!(out.text(), "tenantId,tenantName,defaultDomain\r\n");
}

/// `exo ... --select UserPrincipalName` in a tenant where nothing matched: the header is what
/// was asked for, not an "unknown column" error.
#[test]
fn no_rows_with_select_gives_the_selected_header() {
    let out = Stdout::default();
    let mut s = spec(Some(Format::Csv));
    s.select = vec!["tenantName".into(), "UserPrincipalName,RecipientTypeDetails".into()];
    let sink = open_dynamic_with_stdout(&s, FIXED.to_vec(), false, Box::new(out.clone())).unwrap();
    sink.finish(&[]).unwrap();
    assert_eq!(out.text(), "tenantName,UserPrincipalName,RecipientTypeDetails\r\n");
}

/// 200k rows (~40 MB of properties) through the spool into a csv file: the memory held stays
/// a small fraction of that, while writing and while finishing. Not timed.
#[test]
fn two_hundred_thousand_rows_are_spooled_not_held_in_memory() {
    const N: usize = 200_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.csv");
    let s = OutputSpec {
        out: Some(path.clone()),
        ..spec(None)
    };
    let mut sink = open_dynamic(&s, FIXED.to_vec(), false).unwrap();
    let base = reset_peak();
    let filler = "x".repeat(120);
    for i in 0..N {
        let props = obj(json!({
            "DisplayName": format!("User {i} {filler}"),
            "PrimarySmtpAddress": format!("user{i}@contoso.com"),
            "ItemCount": i,
            "IsShared": i % 2 == 0,
            "WhenCreated": "2024-01-15T10:00:00Z",
        }));
        sink.write_row(fixed(CONTOSO, "Contoso", "contoso.com"), &props)
            .unwrap();
    }
    let writing = peak() - base;
    reset_peak();
    sink.finish(&outcomes()).unwrap();
    let finishing = peak() - base;
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size > 40_000_000, "the output is {size} bytes");
    let limit = 8 << 20;
    assert!(writing < limit, "writing held {writing} bytes");
    assert!(finishing < limit, "finishing held {finishing} bytes");

    let mut r = csv::Reader::from_path(&path).unwrap();
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "tenantId",
            "tenantName",
            "defaultDomain",
            "DisplayName",
            "PrimarySmtpAddress",
            "ItemCount",
            "IsShared",
            "WhenCreated"
        ]
    );
    let mut count = 0;
    let mut last = None;
    for rec in r.records() {
        last = Some(rec.unwrap());
        count += 1;
    }
    assert_eq!(count, N);
    let last = last.unwrap();
    assert_eq!(&last[4], format!("user{}@contoso.com", N - 1));
    assert_eq!(&last[5], (N - 1).to_string());
}

/// Usage reports' days (`YYYY-MM-DD`) are a `Date` column: date cells in xlsx, the day itself in
/// JSON and CSV; a report's header declared before any row heads an empty output.
#[test]
fn days_are_date_cells_and_a_declared_header_heads_an_empty_report() {
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.xlsx");
    let s = OutputSpec {
        out: Some(path.clone()),
        ..spec(None)
    };
    let mut sink = open_dynamic(&s, FIXED.to_vec(), true).unwrap();
    sink.declare(&["Report Refresh Date".to_owned(), "Item Count".to_owned()]);
    let row = obj(json!({"Report Refresh Date": "2026-11-30", "Item Count": 3}));
    sink.write_row(fixed(CONTOSO, "Contoso", "contoso.com"), &row).unwrap();
    sink.finish(&[]).unwrap();
    let mut wb: Xlsx<_> = open_workbook(&path).unwrap();
    let data = wb.worksheet_range("Data").unwrap();
    let rows: Vec<&[Data]> = data.rows().collect();
    assert!(matches!(rows[1][3], Data::DateTime(_)), "{:?}", rows[1][3]);
    assert_eq!(rows[1][4], Data::Float(3.0));

    let out = Stdout::default();
    let mut sink =
        open_dynamic_with_stdout(&spec(Some(Format::Json)), FIXED.to_vec(), false, Box::new(out.clone())).unwrap();
    sink.write_row(fixed(CONTOSO, "Contoso", "contoso.com"), &row).unwrap();
    sink.finish(&[]).unwrap();
    let v: Value = serde_json::from_str(&out.text()).unwrap();
    assert_eq!(v[0]["Report Refresh Date"], "2026-11-30");

    let out = Stdout::default();
    let mut sink =
        open_dynamic_with_stdout(&spec(Some(Format::Csv)), FIXED.to_vec(), false, Box::new(out.clone())).unwrap();
    sink.declare(&["Report Refresh Date".to_owned(), "Item Count".to_owned()]);
    sink.finish(&[]).unwrap();
    assert_eq!(
        out.text(),
        "tenantId,tenantName,defaultDomain,Report Refresh Date,Item Count\r\n"
    );
}
