//! Reliability and security promises (issue 12), each from a finding of the reliability probe
//! (`shared/reviews/reliability-probe-2026-11-25.md`, D-numbers), against the `tenantctl`
//! binary and a simulator.

use crate::common::tenantctl;
use tenantctl_sim::{RunningSim, SimConfig};

async fn sim(seed: u64, tenants: u32) -> RunningSim {
    let mut c = SimConfig::new(seed, tenants);
    c.fleet.users_per_tenant = Some(3);
    c.fleet.trouble_share = 0.0;
    tenantctl_sim::start(c).await.unwrap()
}

/// A path in a fresh directory of this test process.
fn tmp(name: &str) -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("tenantctl-rel-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

/// Probe D2: `users create -t <the partner's own domain>` (and a CSV row naming it) created
/// the user in the partner tenant. A write goes only to a customer; the partner's own tenant
/// only with `--partner-tenant`; a tenant that is nobody's customer never.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_go_only_to_customers_and_to_the_partner_tenant_only_when_told() {
    let sim = sim(31, 2).await;
    let partner = sim.sim.fleet.partner_tenant();
    let domain = partner.default_domain().to_owned();
    let upn = format!("probe.d2@{domain}");
    let pw = tmp("pw.csv");
    let create = |extra: &[&str]| {
        let mut v: Vec<String> = [
            "users",
            "create",
            "-t",
            domain.as_str(),
            "--upn",
            upn.as_str(),
            "--display-name",
            "Probe D2",
            "--passwords-out",
            pw.to_str().unwrap(),
            "--yes",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let args = create(&[]);
    let r = tenantctl(&sim, &args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("is the partner's own tenant"), "{}", r.stderr);
    assert!(r.stderr.contains("--partner-tenant"), "says how: {}", r.stderr);
    assert!(sim.sim.world.user(partner, &upn).is_none(), "nothing was created");

    // A CSV row naming the partner tenant: refused the same way, by line.
    let csv = tmp("users.csv");
    std::fs::write(
        &csv,
        format!(
            "UserPrincipalName,FirstName,LastName,DisplayName,Password,TenantId,UsageLocation,LicenseAssignment\n{upn},Probe,D2,Probe D2,Xq7!pLm2#vR9,{domain},US,\n"
        ),
    )
    .unwrap();
    let r = tenantctl(&sim, &["users", "import", csv.to_str().unwrap(), "--yes"]).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("line 2"), "{}", r.stderr);
    assert!(r.stderr.contains("is the partner's own tenant"), "{}", r.stderr);
    assert!(sim.sim.world.user(partner, &upn).is_none());

    // A tenant that is no customer of the partner: never written to.
    let stranger = "7c0f6b2e-1d4a-4c3b-9e8f-0a1b2c3d4e5f";
    let r = tenantctl(&sim, &["domains", "add", "probe-d2.example", "-t", stranger, "--yes"]).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("is not a customer of the partner"), "{}", r.stderr);

    // Said explicitly: the partner's own tenant is written to.
    let args = create(&["--partner-tenant"]);
    let r = tenantctl(&sim, &args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(sim.sim.world.user(partner, &upn).is_some());
    sim.stop().await;
}

/// Probe D19: `--tenant ""` suggested five arbitrary customers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_tenant_is_named_as_such() {
    let sim = sim(32, 2).await;
    for t in ["", "   "] {
        let r = tenantctl(&sim, &["users", "list", "--tenant", t]).await;
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert!(r.stderr.contains("--tenant is empty"), "{}", r.stderr);
    }
    sim.stop().await;
}

/// Probe D15: a CSV saved by PowerShell 5's `Export-Csv -Encoding Unicode` (UTF-16 LE with a
/// BOM) was refused as "stream did not contain valid UTF-8"; Excel's `;`-separated CSV in
/// Windows-1252 likewise. Both are read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_files_from_windows_are_read() {
    let sim = sim(33, 2).await;
    let t = &sim.sim.fleet.customers()[0];
    let domain = t.initial_domain.clone();
    let header = "UserPrincipalName,FirstName,LastName,DisplayName,Password,TenantId,UsageLocation,LicenseAssignment";
    let text = format!(
        "{header}\r\nutf16.user@{domain},Ute,Sixteen,Ute Sixteen,Xq7!pLm2#vR9,{},US,\r\n",
        t.id
    );
    let mut utf16: Vec<u8> = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    let f = tmp("utf16.csv");
    std::fs::write(&f, &utf16).unwrap();
    let r = tenantctl(&sim, &["users", "import", f.to_str().unwrap(), "--yes", "-o", "csv"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(sim.sim.world.user(t, &format!("utf16.user@{domain}")).is_some());

    // Excel, German locale: `;` and Windows-1252 ("Müller" is 0xFC).
    let mut cp1252 = format!("{}\r\n", header.replace(',', ";")).into_bytes();
    cp1252.extend_from_slice(format!("m.mueller@{domain};Max;M").as_bytes());
    cp1252.push(0xFC);
    cp1252.extend_from_slice(b"ller;Max M");
    cp1252.push(0xFC);
    cp1252.extend_from_slice(format!("ller;Xq7!pLm2#vR9;{};DE;\r\n", t.id).as_bytes());
    let f = tmp("excel.csv");
    std::fs::write(&f, &cp1252).unwrap();
    let r = tenantctl(&sim, &["users", "import", f.to_str().unwrap(), "--yes", "-o", "csv"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let u = sim.sim.world.user(t, &format!("m.mueller@{domain}")).unwrap();
    assert_eq!(u.user.display_name, "Max Müller");
    sim.stop().await;
}

/// The suite-wide secret check (every `tenantctl` run of this suite goes through it) can fail.
#[test]
fn the_secret_check_catches_a_jwt_and_a_given_secret() {
    use crate::common::assert_no_secrets;
    let caught = |text: &str| {
        std::panic::catch_unwind(|| assert_no_secrets(text, &["s3cr3t-value-123".into()], "stdout")).is_err()
    };
    assert!(caught("token: eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.e30.sig"));
    assert!(caught("the secret is s3cr3t-value-123"));
    assert!(!caught("nothing to see; eyJ alone is not a token"));
}

/// Probe D19: `--status-out` into a missing directory failed only after the run (the rows file
/// already written). It is checked before anything runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_status_out_fails_before_the_run() {
    let sim = sim(34, 2).await;
    let out = tmp("users.csv");
    let r = tenantctl(
        &sim,
        &[
            "users",
            "list",
            "--all-tenants",
            "--out",
            out.to_str().unwrap(),
            "--status-out",
            "/nonexistent-dir/s.json",
        ],
    )
    .await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("--status-out /nonexistent-dir/s.json"),
        "{}",
        r.stderr
    );
    assert!(!out.exists(), "nothing was written");
    sim.stop().await;
}

/// Probe D19: a revoked refresh token gave AADSTS50173 and no word on what to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_sign_in_says_to_sign_in_again() {
    let sim = sim(35, 2).await;
    sim.sim.identity.revoke_refresh_tokens();
    let r = tenantctl(&sim, &["users", "list", "--all-tenants"]).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("AADSTS50173"), "{}", r.stderr);
    assert!(r.stderr.contains("tenantctl login --device-code"), "{}", r.stderr);
    sim.stop().await;
}

/// The probe's fault set "F" end to end: 20% 429, 5% 503, 1% connections cut, 5-second
/// tokens. Every list gives exactly the fault-free rows (none missing, none twice, none
/// mixed between tenants).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_the_probes_fault_set_every_list_equals_the_fault_free_run() {
    let mut c = SimConfig::new(36, 12);
    c.fleet.users_per_tenant = Some(120);
    c.fleet.trouble_share = 0.0;
    let sim = tenantctl_sim::start(c).await.unwrap();
    let lists: [&[&str]; 3] = [
        &["users", "list", "--all-tenants", "-o", "csv"],
        &["licenses", "list", "--all-tenants", "-o", "csv"],
        &["domains", "list", "--all-tenants", "-o", "csv"],
    ];
    let sorted = |text: &str| {
        let mut v: Vec<String> = text.lines().map(str::to_owned).collect();
        v.sort();
        v
    };
    let mut clean = vec![];
    for args in lists {
        let r = tenantctl(&sim, args).await;
        assert_eq!(r.code, 0, "{}", r.stderr);
        clean.push(sorted(&r.stdout));
    }
    *sim.sim.faults.write() = tenantctl_sim::faults::Faults {
        fault_429: 0.2,
        fault_503: 0.05,
        fault_reset: 0.01,
        retry_after_secs: 1,
        latency_ms: 5,
        ..Default::default()
    };
    sim.sim
        .token_lifetime_secs
        .store(5, std::sync::atomic::Ordering::Relaxed);
    for (args, clean) in lists.iter().zip(&clean) {
        let r = tenantctl(&sim, args).await;
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        let got = sorted(&r.stdout);
        assert_eq!(got.len(), clean.len(), "{args:?}: rows");
        assert_eq!(&got, clean, "{args:?}: the same rows");
    }
    let injected: u64 = sim
        .sim
        .stats
        .rows()
        .iter()
        .filter(|r| r.status == 429 || r.status == 503)
        .map(|r| r.count)
        .sum();
    assert!(injected > 0, "faults were injected");
    sim.stop().await;
}
