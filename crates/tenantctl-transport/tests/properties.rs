//! Property tests of what the transport reads from servers (issue 12 item 11): `Retry-After`
//! and the origin a next link points at. `PROPTEST_CASES=100000` runs a longer campaign.

use proptest::prelude::*;
use std::time::{Duration, SystemTime};
use tenantctl_transport::cloud::{Endpoints, Resource};
use tenantctl_transport::retry::parse_retry_after;

proptest! {
    #[test]
    fn retry_after_never_panics(v in ".{0,40}") {
        let _ = parse_retry_after(&v, SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_028_800));
    }

    #[test]
    fn whole_seconds_are_taken_as_given(n in 0u64..1_000_000) {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_028_800);
        prop_assert_eq!(parse_retry_after(&n.to_string(), now), Some(Duration::from_secs(n)));
    }

    /// The bearer token only goes to its service's origin: a link to any other host, port or
    /// scheme is not the service's, whatever its path.
    #[test]
    fn only_the_services_own_origin_is_its_origin(host in "[a-z]{1,12}(\\.[a-z]{2,6}){1,2}", port in 1u16.., path in "[a-zA-Z0-9/$=&?._-]{0,40}") {
        let e = Endpoints::custom("https://sim.example:8443").unwrap();
        let own = format!("https://sim.example:8443/graph/v1.0/{path}");
        prop_assert!(e.is_origin_of(Resource::Graph, &own));
        let other = format!("https://{host}:{port}/graph/v1.0/{path}");
        prop_assert_eq!(e.is_origin_of(Resource::Graph, &other), host == "sim.example" && port == 8443);
        let plain = format!("http://sim.example:8443/graph/v1.0/{path}");
        prop_assert!(!e.is_origin_of(Resource::Graph, &plain));
    }
}
