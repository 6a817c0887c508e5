use super::*;
use serde_json::json;

#[test]
fn filters_parse_and_evaluate() {
    let u = json!({"displayName": "Adele Vance", "accountEnabled": false,
        "assignedLicenses": [{"disabledPlans": [], "skuId": "c7df2760-2c81-4ef7-b578-5b5392b571df"}],
        "customer": {"tenantId": "x1"}});
    let t = |s: &str| matches(&parse_filter(s).unwrap(), &u);
    assert!(t("accountEnabled eq false"));
    assert!(!t("accountEnabled ne false"));
    assert!(t("startswith(displayName,'adele')"));
    assert!(t("displayName in ('X', 'Adele Vance')"));
    assert!(t(
        "assignedLicenses/any(x:x/skuId eq c7df2760-2c81-4ef7-b578-5b5392b571df)"
    ));
    assert!(t(
        "assignedLicenses/$count ne 0 and (displayName eq 'no' or customer/tenantId eq 'X1')"
    ));
    assert!(t("not startsWith(displayName,'B')"));
    // Ordered operators parse; only `range` properties accept them (validate, graph_odata).
    assert!(matches!(
        parse_filter("displayName gt 'a'"),
        Ok(Filter::Cmp(_, CmpOp::Gt, _))
    ));
    let s = json!({"signInActivity": {"lastSignInDateTime": "2025-06-01T10:00:00Z"}, "n": null});
    let r = |f: &str| matches(&parse_filter(f).unwrap(), &s);
    assert!(r("signInActivity/lastSignInDateTime le 2026-01-01T00:00:00Z"));
    assert!(r("signInActivity/lastSignInDateTime ge 2025-06-01"));
    assert!(!r("signInActivity/lastSignInDateTime lt 2025-06-01T10:00:00Z"));
    assert!(r("signInActivity/lastSignInDateTime gt 2025-05-31T23:59:59Z"));
    assert!(!r("n le 2026-01-01T00:00:00Z") && !r("n ge 2026-01-01T00:00:00Z"));
    assert!(parse_filter("displayName eq 'a").is_err());
}

#[test]
fn skiptokens_are_bound_to_their_query() {
    let tok = make_skiptoken(300, 77);
    assert_eq!(read_skiptoken(&tok, 77).unwrap(), 300);
    assert!(read_skiptoken(&tok, 78).is_err());
    assert!(read_skiptoken("garbage", 77).is_err());
}
