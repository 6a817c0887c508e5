//! Graph throttling (learn.microsoft.com/graph/throttling, /graph/throttling-limits): a burst over
//! the (app, tenant) resource-unit bucket gets 429 TooManyRequests with Retry-After and the
//! x-ms-throttle-* headers, and succeeds again after waiting that long. Time is the simulator's
//! manual clock, moved through `POST /_sim/clock`: no wall-clock band, no real sleep.

#[allow(unused_imports)]
use crate::common::{get, get_json, healthy, keys, rel};

use tenantctl_sim::throttle::ThrottleConfig;
use tenantctl_sim::{Clock, SimConfig};

#[tokio::test]
async fn a_burst_is_throttled_then_recovers_after_retry_after() {
    let mut c = SimConfig::new(1, 2);
    c.fleet.users_per_tenant = Some(10); // size S: 3,500 RU / 10 s, scaled to 10.5 RU (1.05 RU/s)
    c.fleet.anchor = crate::common::ANCHOR;
    c.clock = Clock::manual_at(crate::common::ANCHOR);
    c.throttle = ThrottleConfig {
        enabled: true,
        scale: 0.003,
    };
    let sim = crate::common::start_with(c).await;
    let t = healthy(&sim, 0);
    let tok = crate::common::delegated_graph_token(&sim, &t);
    // $select and $top < 20: 2 - 1 - 1 -> the minimum of 1 RU per request.
    let path = "/graph/v1.0/users?$select=id&$top=5";
    let mut ok = 0;
    let (headers, body) = loop {
        let (s, h, v) = get_json(&sim, &tok, path, &[]).await;
        if s == 429 {
            break (h, v);
        }
        assert_eq!(s, 200);
        assert_eq!(h["x-ms-resource-unit"], "1");
        ok += 1;
        assert!(ok <= 10, "never throttled");
    };
    // 10.5 RU at 1 RU a request, and the clock stands still: exactly 10 pass.
    assert_eq!(ok, 10);
    assert_eq!(body["error"]["code"], "TooManyRequests");
    assert!(body["error"]["innerError"]["request-id"].is_string());
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    // 0.5 RU left, 1 RU needed at 1.05 RU/s: ceil(0.48) = 1 s.
    assert_eq!(retry, 1);
    let scope = headers["x-ms-throttle-scope"].to_str().unwrap();
    assert_eq!(
        scope,
        format!("Tenant_Application/Read/{}/{}", sim.sim.fleet.partner.client_id, t.id)
    );
    assert_eq!(headers["x-ms-throttle-information"], "ResourceUnitLimitExceeded");
    // Another tenant has its own bucket.
    let other = healthy(&sim, 1);
    let (s, _, _) = get_json(&sim, &crate::common::delegated_graph_token(&sim, &other), path, &[]).await;
    assert_eq!(s, 200);
    // Still throttled while no time passes.
    let (s, _, _) = get_json(&sim, &tok, path, &[]).await;
    assert_eq!(s, 429);
    let r = crate::common::client()
        .post(format!("{}/_sim/clock", sim.base_url))
        .json(&serde_json::json!({ "advanceSeconds": retry }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (s, _, _) = get_json(&sim, &tok, path, &[]).await;
    assert_eq!(s, 200, "succeeds after waiting Retry-After");
}
