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
    assert!(parse_filter("displayName gt 'a'").is_err());
    assert!(parse_filter("displayName eq 'a").is_err());
}

#[test]
fn skiptokens_are_bound_to_their_query() {
    let tok = make_skiptoken(300, 77);
    assert_eq!(read_skiptoken(&tok, 77).unwrap(), 300);
    assert!(read_skiptoken(&tok, 78).is_err());
    assert!(read_skiptoken("garbage", 77).is_err());
}
