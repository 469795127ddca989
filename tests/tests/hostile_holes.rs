//! The smaller holes of "Trust", closed and kept closed, against a real server on loopback:
//! `/metrics` only on its own listener, enrolment rate-limited per address and codes that
//! expire, and names that cannot carry terminal escapes or bidi overrides.

use std::time::Duration;

use patrol_core::Role;
use patrol_core::sync::wire::Scope;
use patrol_server::http::ratelimit::RateLimit;
use patrol_tests::hostile::http as client;
use patrol_tests::net::{Device, TestServer};
use serde_json::{Value, json};

fn enrol(http: &reqwest::blocking::Client, url: &str, code: &str) -> reqwest::blocking::Response {
    http.post(format!("{url}/v1/enrol"))
        .json(&json!({ "code": code, "device_name": "test" }))
        .send()
        .expect("enrol request")
}

#[test]
fn metrics_are_served_on_their_own_listener_not_on_the_api() {
    let server = TestServer::start();
    let http = client();
    let (_, code) = server.add_user("王芳", Role::Chief, Scope::Own);
    let _phone = Device::enrol(&server.url(), &code);

    let api = http
        .get(format!("{}/metrics", server.url()))
        .send()
        .unwrap();
    assert_eq!(
        api.status().as_u16(),
        404,
        "the API port does not serve /metrics"
    );
    let api_text = api.text().unwrap();
    assert!(!api_text.contains("patrol_"), "{api_text}");

    let m = http
        .get(format!("{}/metrics", server.metrics_url()))
        .send()
        .unwrap();
    assert_eq!(m.status().as_u16(), 200);
    let text = m.text().unwrap();
    assert!(
        text.contains("# TYPE patrol_enrolments_total counter")
            && text.contains("patrol_enrolments_total 1\n"),
        "{text}"
    );
    assert!(text.contains("patrol_syncs_total "), "{text}");
    // The metrics listener serves nothing else.
    let other = http
        .get(format!("{}/healthz", server.metrics_url()))
        .send()
        .unwrap();
    assert_eq!(other.status().as_u16(), 404);
}

#[test]
fn a_flood_of_enrolments_from_one_address_gets_429_after_the_burst() {
    let server = TestServer::start_with_enrol_limit(RateLimit::ENROL_DEFAULT);
    let url = server.url();
    let http = client();
    // Failed attempts count: ten wrong codes use up the burst.
    for i in 0..RateLimit::ENROL_DEFAULT.burst {
        let r = enrol(&http, &url, "AAAA-BBBB-CCCC");
        assert_eq!(r.status().as_u16(), 401, "attempt {i} is within the burst");
    }
    let r = enrol(&http, &url, "AAAA-BBBB-CCCC");
    assert_eq!(r.status().as_u16(), 429);
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry), "{retry}");
    let body: Value = r.json().unwrap();
    assert_eq!(body["error"], "too_many_requests");
    assert!(
        body["message"].as_str().unwrap().contains("try again in"),
        "{body}"
    );
    // Even a good code waits its turn: the limit is checked before the code.
    let (_, code) = server.add_user("王芳", Role::Chief, Scope::Own);
    assert_eq!(enrol(&http, &url, &code).status().as_u16(), 429);
    // Malformed bodies count too.
    let junk = http
        .post(format!("{url}/v1/enrol"))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .unwrap();
    assert_eq!(junk.status().as_u16(), 429);
    // The refusals are counted on the metrics listener.
    let text = http
        .get(format!("{}/metrics", server.metrics_url()))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        text.contains("patrol_enrolments_limited_total 3\n"),
        "{text}"
    );
    // Everything else is served as usual.
    assert_eq!(
        http.get(format!("{url}/healthz"))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        200
    );
}

#[test]
fn the_limit_refills_and_a_lifted_limit_lets_many_phones_enrol() {
    let server = TestServer::start_with_enrol_limit(RateLimit {
        burst: 2,
        every: Duration::from_millis(500),
    });
    let url = server.url();
    let http = client();
    for _ in 0..2 {
        assert_eq!(enrol(&http, &url, "AAAA-BBBB-CCCC").status().as_u16(), 401);
    }
    assert_eq!(enrol(&http, &url, "AAAA-BBBB-CCCC").status().as_u16(), 429);
    std::thread::sleep(Duration::from_millis(600));
    let (_, code) = server.add_user("王芳", Role::Chief, Scope::Own);
    assert_eq!(enrol(&http, &url, &code).status().as_u16(), 200);

    // The test servers run without a limit: 30 phones from 127.0.0.1 in a row.
    let open = TestServer::start();
    for i in 0..30 {
        let (_, code) = open.add_user(&format!("巡查员{i}"), Role::Chief, Scope::Own);
        assert_eq!(
            enrol(&http, &open.url(), &code).status().as_u16(),
            200,
            "phone {i}"
        );
    }
}

#[test]
fn an_expired_enrolment_code_is_refused_saying_so() {
    let server = TestServer::start();
    let url = server.url();
    let http = client();
    let (user, _) = server.add_user("王芳", Role::Chief, Scope::Own);
    // A code written straight into storage that expired three days ago.
    let code = "EXPD-CODE-2024";
    let now = patrol_server::admin::now_ms();
    {
        let storage = server.storage();
        let mut tx = storage.write().unwrap();
        tx.add_enrol_code(
            &patrol_server::secrets::hash_secret(&patrol_server::secrets::normalise_code(code)),
            &user,
            now - 17 * 86_400_000,
            now - 3 * 86_400_000,
        )
        .unwrap();
        tx.commit().unwrap();
    }
    let r = enrol(&http, &url, code);
    assert_eq!(r.status().as_u16(), 401);
    let body: Value = r.json().unwrap();
    let msg = body["message"].as_str().unwrap();
    assert!(
        msg.contains("expired 3 days ago") && msg.contains("admin user code"),
        "{msg}"
    );
    // An unknown code is not called expired.
    let body: Value = enrol(&http, &url, "ZZZZ-ZZZZ-ZZZZ").json().unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("unknown or already used"),
        "{body}"
    );
    // A fresh code from the admin operations is valid 14 days by default.
    let storage = server.storage();
    let u = patrol_server::admin::add_user(storage.as_ref(), "李雷", Role::Chief, Scope::Own, None)
        .unwrap();
    let days = (u.enrol_code_expires_at_ms - now) as f64 / 86_400_000.0;
    assert!((13.99..14.01).contains(&days), "{days}");
    assert!(
        patrol_server::admin::add_user_with_code_days(
            storage.as_ref(),
            "韩梅梅",
            Role::Chief,
            Scope::Own,
            None,
            0
        )
        .is_err()
    );
    assert_eq!(enrol(&http, &url, &u.enrol_code).status().as_u16(), 200);
}

/// What a hostile name looks like: an OSC sequence that retitles the terminal, a CSV formula,
/// and a right-to-left override.
const HOSTILE: &str = "=HYPERLINK(\"http://x\")\u{1b}]0;pwned\u{7}王\u{202E}芳";

#[test]
fn street_and_subdistrict_names_with_escapes_are_refused_at_import() {
    let server = TestServer::start();
    let storage = server.storage();
    let file = server.network_file(&[
        ("清华路", [[116.30, 39.90], [116.301, 39.90]]),
        ("王\u{202E}芳路", [[116.30, 39.91], [116.301, 39.91]]),
    ]);
    let e = patrol_server::network::import_streets(storage.as_ref(), &file, &Default::default())
        .unwrap_err();
    let msg = format!("{e:#}");
    assert!(
        msg.contains("GeoJSON feature 1") && msg.contains("U+202E"),
        "{msg}"
    );
    assert!(
        patrol_server::network::list_streets(storage.as_ref())
            .map(|l| l.is_empty())
            .unwrap_or(true),
        "nothing was imported"
    );
    let opts = patrol_core::streets::StreetImportOptions {
        subdistrict: Some("八角\u{1b}[2J街道".into()),
        ..Default::default()
    };
    let file = server.network_file(&[("清华路", [[116.30, 39.90], [116.301, 39.90]])]);
    let e = patrol_server::network::import_streets(storage.as_ref(), &file, &opts).unwrap_err();
    assert!(format!("{e:#}").contains("subdistrict"), "{e:#}");

    let csv = "code,name\n110107001,八角街道\n110107002,\u{1b}]0;x\u{7}古城街道\n";
    let e = patrol_server::admin::import_subdistricts(storage.as_ref(), csv.as_bytes(), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 3") && e.contains("U+001B"), "{e}");
    assert!(
        storage.read().unwrap().subdistricts().unwrap().is_empty(),
        "nothing half-imported"
    );
    for bad in ["\u{1b}]0;x\u{7}王芳", "王\u{202E}芳"] {
        let e =
            patrol_server::admin::add_user(storage.as_ref(), bad, Role::Chief, Scope::Own, None)
                .unwrap_err()
                .to_string();
        assert!(e.contains("control or text-direction character"), "{e}");
    }
}

#[test]
fn a_hostile_name_already_in_the_data_is_neutralised_in_csv_exports() {
    let tmp = tempfile::tempdir().unwrap();
    let d = patrol_tests::district::build(tmp.path());
    // As if it had come in before names were checked: straight into the supervisor's store.
    let n = d
        .supervisor
        .connection()
        .execute("UPDATE user SET name = ?1 WHERE name = '王芳'", [HOSTILE])
        .unwrap();
    assert_eq!(n, 1);
    let r = d
        .supervisor
        .assessment_report(
            &patrol_core::report::Period::parse("2024-W49").unwrap(),
            &patrol_core::report::ReportRules::default(),
        )
        .unwrap();
    use patrol_core::report::ToTables;
    let tables = r.tables();
    let chiefs = patrol_core::report::export::csv(&tables[0]);
    assert!(
        !chiefs.contains('\u{1b}') && !chiefs.contains('\u{202E}'),
        "{chiefs}"
    );
    assert!(
        chiefs.contains("\"'=HYPERLINK(\"\"http://x\"\")\u{FFFD}]0;pwned\u{FFFD}王\u{FFFD}芳\""),
        "the formula gets an apostrophe, the controls U+FFFD: {chiefs}"
    );
    // Numbers stay numbers: A's reopened line is -2 points, not '-2.
    let lines = patrol_core::report::export::csv(&tables[2]);
    assert!(lines.contains(",-2,0,"), "{lines}");
    assert!(!lines.contains("'-2"), "{lines}");
}
