//! The district's rules travel as reference data with their versions: report rules, points rule
//! versions and issue categories published on the server reach the phones on their next sync;
//! reports name the version they scored by; the server scores points claims by the version in
//! force, whatever version an entry cites.

use patrol_core::issues::NewIssue;
use patrol_core::points::{NewPickup, beijing_day};
use patrol_core::report::rules::DEFAULT_RULES_JSON;
use patrol_core::report::{Period, ReportRules};
use patrol_core::sync::reference::CategoryRow;
use patrol_core::sync::wire::{PROTOCOL_VERSION, Scope};
use patrol_core::{Datum, PointsKind, Role};
use patrol_server::{quarantine, rules};
use patrol_tests::net::{Device, TestServer};
use serde_json::json;

fn republished(version: u32, name: &str) -> String {
    let mut r: serde_json::Value = serde_json::from_str(DEFAULT_RULES_JSON).unwrap();
    r["version"] = json!(version);
    r["name"] = json!(name);
    r.to_string()
}

#[test]
fn report_rules_and_categories_reach_every_device_with_their_version() {
    let server = TestServer::start();
    let storage = server.storage();
    let (_, chief_code) = server.add_user("王芳", Role::Chief, Scope::Own);
    let (_, sup_code) = server.add_user("李主任", Role::Supervisor, Scope::District);
    let mut chief = Device::enrol(&server.url(), &chief_code);
    let mut sup = Device::enrol(&server.url(), &sup_code);
    sup.sync();
    assert_eq!(sup.store.published_report_rules().unwrap(), None);
    let shipped = ReportRules::default().version;

    let (name, version) =
        rules::publish_report_rules(storage.as_ref(), &republished(shipped + 1, "石景山区 2027"))
            .unwrap();
    assert_eq!((name.as_str(), version), ("石景山区 2027", shipped + 1));
    // The same or an older version is refused; a file that is not rules too.
    assert!(rules::publish_report_rules(storage.as_ref(), &republished(shipped + 1, "x")).is_err());
    assert!(rules::publish_report_rules(storage.as_ref(), "{\"version\": 99}").is_err());

    rules::publish_category(
        storage.as_ref(),
        &CategoryRow {
            code: "shared_bikes".into(),
            name_zh: "共享单车乱停".into(),
            name_en: "Shared bikes parked badly".into(),
            due_hours: 12,
        },
    )
    .unwrap();
    for bad in [
        ("litter", "垃圾", 24), // a built-in category
        ("Bad Code", "x", 24),  // not a code
        ("late_bikes", "x", 0), // no due time
    ] {
        let row = CategoryRow {
            code: bad.0.into(),
            name_zh: bad.1.into(),
            name_en: "x".into(),
            due_hours: bad.2,
        };
        assert!(
            rules::publish_category(storage.as_ref(), &row).is_err(),
            "{bad:?}"
        );
    }

    for dev in [&mut chief, &mut sup] {
        let r = dev.sync();
        assert!(r.set_aside.is_empty(), "{:?}", r.set_aside);
        let rules = dev.store.report_rules().unwrap();
        assert_eq!(
            (rules.name.as_str(), rules.version),
            ("石景山区 2027", shipped + 1)
        );
    }
    let month = Period::parse("2026-11").unwrap();
    let report = sup
        .store
        .assessment_report(&month, &sup.store.report_rules().unwrap())
        .unwrap();
    assert_eq!(
        report.rules_version,
        shipped + 1,
        "the report names the version it used"
    );

    // The published category is one the chief can report under, with its due time.
    let issue = chief
        .store
        .report_issue(NewIssue::at("shared_bikes", 39.9075, 116.1936))
        .unwrap()
        .issue;
    assert_eq!(issue.category, "shared_bikes");
    let published = rules::published(storage.as_ref()).unwrap();
    assert_eq!(published.categories.len(), 1);
    assert_eq!(
        published.report_rules,
        Some(("石景山区 2027".into(), shipped + 1))
    );
}

#[test]
fn points_rule_versions_reach_the_phones_and_the_server_scores_by_the_one_in_force() {
    let server = TestServer::start();
    let storage = server.storage();
    let (_, code) = server.add_user("李阿姨", Role::Steward, Scope::Own);
    let (_, sup_code) = server.add_user("李主任", Role::Supervisor, Scope::District);
    let mut steward = Device::enrol(&server.url(), &code);
    let mut sup = Device::enrol(&server.url(), &sup_code);
    // Version 2 of pickups: 3 points and 2 a bag; of redemptions: at most 3 a day without approval.
    let pickup_v2 = rules::publish_points_rule(
        storage.as_ref(),
        PointsKind::Pickup,
        3,
        2,
        Some(30),
        0,
        "3 points a pickup and 2 a bag, at most 30 a day",
    )
    .unwrap();
    assert_eq!(pickup_v2.version, 2);
    rules::publish_points_rule(
        storage.as_ref(),
        PointsKind::Redemption,
        0,
        0,
        Some(3),
        0,
        "at most 3 a day without approval",
    )
    .unwrap();
    // A version that starts before the one it follows, or with negative points, is refused.
    assert!(
        rules::publish_points_rule(storage.as_ref(), PointsKind::Pickup, -1, 0, None, 0, "x")
            .is_err()
    );

    steward.sync();
    let on_phone = steward.store.points_rules().unwrap();
    assert!(on_phone.contains(&pickup_v2), "{on_phone:?}");
    let earned = steward
        .store
        .log_pickup(NewPickup {
            lat: 39.9075,
            lon: 116.1936,
            datum: Datum::Wgs84,
            bags: 2,
            items: 0,
            street_id: None,
            photo_sha256: None,
            note: None,
        })
        .unwrap()
        .points;
    assert_eq!((earned.rule_version, earned.points), (2, 7));
    assert!(steward.sync().rejected.is_empty());
    let me = steward.store.require_device().unwrap().user_id;
    assert_eq!(storage.read().unwrap().points_sum(&me, None).unwrap(), 7);

    // A redemption citing version 1 (no limit) is held to version 2's limit all the same.
    let now = patrol_server::admin::now_ms();
    let id = patrol_core::PointsEntryId::new().to_string();
    let entry = json!({ "kind": "points", "id": id, "user_id": me, "body": {
        "id": id, "user_id": me, "at_ms": now, "day": beijing_day(now), "kind": "redemption",
        "source_id": id, "rule_id": "redemption", "rule_version": 1, "points": -5, "note": null }});
    let _ = rustls::crypto::ring::default_provider().install_default();
    let r = reqwest::blocking::Client::new()
        .post(format!("{}/v1/sync", server.url()))
        .bearer_auth(steward.store.sync_account().unwrap().unwrap().token)
        .json(&json!({ "protocol": PROTOCOL_VERSION, "cursor": 0, "records": [entry] }))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let pending = quarantine::pending_points(storage.as_ref()).unwrap();
    assert_eq!(
        pending.len(),
        1,
        "past version 2's limit, it waits for a supervisor"
    );
    sup.sync();
    let redeemed: i64 = sup
        .store
        .connection()
        .query_row(
            "SELECT COUNT(*) FROM points_entry WHERE id = ?1",
            [&id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(redeemed, 0);
}
