//! Property test of the simulator's OData query parser (issue 12 item 11): any query string a
//! client sends gets a parse or an error, never a panic. `PROPTEST_CASES=100000` for longer.

use proptest::prelude::*;
use tenantctl_sim::odata;
use tenantctl_sim::services::graph::specs::{DOMAINS, USERS};

fn query() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("$filter=".to_owned()),
        Just("$select=".to_owned()),
        Just("$top=".to_owned()),
        Just("$orderby=".to_owned()),
        Just("$count=true".to_owned()),
        Just("$search=".to_owned()),
        Just(" eq ".to_owned()),
        Just(" and ".to_owned()),
        Just("startswith(".to_owned()),
        Just("userPrincipalName".to_owned()),
        Just("'x'".to_owned()),
        Just("&".to_owned()),
        Just("(".to_owned()),
        Just(")".to_owned()),
        ".{0,8}",
    ];
    proptest::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn any_query_is_parsed_or_refused_never_a_panic(q in query(), eventual in any::<bool>()) {
        let _ = odata::parse(Some(&q), &USERS, eventual);
        let _ = odata::parse(Some(&q), &DOMAINS, eventual);
    }
}
