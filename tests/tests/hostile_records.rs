//! A hostile but enrolled device (its own token, hand-made requests on loopback) against the
//! server's checks of patrol headers, records, fix batches and points; and the honest devices of
//! every scope, which must still sync and hold exactly what they should, even when a bad item got
//! into the server's store before the checks existed.

use patrol_core::domain::{FixVerdict, StoredFix};
use patrol_core::sync::fixcodec::encode_fixes;
use patrol_core::sync::wire::{LedgerRecord, PROTOCOL_VERSION, Scope};
use patrol_core::{PatrolId, Role};
use patrol_server::quarantine;
use patrol_server::storage::FeedScope;
use patrol_tests::hostile::{
    District, district, http, points_record, post_sync, steward_pickup, token, upload_records,
};
use patrol_tests::net::Device;
use serde_json::{Value, json};

#[test]
fn points_are_what_the_rules_give_for_facts_the_server_holds() {
    let d = district();
    let xijie = d.street("八角西街");
    let mut steward = d.person("李阿姨", Role::Steward, Scope::Own, &["八角西街"]);
    let mut sup = d.district_supervisor();
    let now = patrol_server::admin::now_ms();

    // An honest pickup of 3 bags earns 2 + 3 = 5 points, on the phone and on the server.
    let (pickup, earned) = steward_pickup(&mut steward, &xijie, 3);
    assert_eq!(earned, 5);
    let r = steward.sync();
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    let me = steward.store.require_device().unwrap().user_id;
    let server_balance = |d: &District| {
        d.server
            .storage()
            .read()
            .unwrap()
            .points_sum(&me, None)
            .unwrap()
    };
    assert_eq!(server_balance(&d), 5);

    // A billion points for a pickup that does not exist, a second entry for the same pickup,
    // more than the rule gives for a real one, points as text: each refused, naming the entry.
    for (source, points, status) in [
        (
            "01939c2e-0000-7000-8000-00000000dead",
            json!(1_000_000_000),
            422,
        ),
        (pickup.as_str(), json!(5), 403),
    ] {
        let (s, b) = upload_records(
            &steward,
            json!([points_record(&steward, source, "pickup", points, now, 1)]),
        );
        assert_eq!(s, status, "{b}");
        assert!(
            b["message"].as_str().unwrap().contains("points entry"),
            "{b}"
        );
    }
    let (pickup2, _) = steward_pickup(&mut steward, &xijie, 1);
    // The phone's own entry for pickup2 is still unsent: claim more than the rules give.
    let (s, b) = {
        let pickup_rec = &steward.store.next_sync_request(None).unwrap().records[0];
        assert_eq!(pickup_rec.id, pickup2);
        let at = pickup_rec.body["at_ms"].as_i64().unwrap();
        // Dated another day than the pickup, to fill that day's cap: refused first.
        let (s, b) = upload_records(
            &steward,
            json!([
                pickup_rec,
                points_record(&steward, &pickup2, "pickup", json!(3), at - 86_400_000, 1)
            ]),
        );
        assert_eq!(s, 422, "{b}");
        assert!(
            b["message"].as_str().unwrap().contains("pickup's time"),
            "{b}"
        );
        upload_records(
            &steward,
            json!([
                pickup_rec,
                points_record(&steward, &pickup2, "pickup", json!(4), at, 1)
            ]),
        )
    };
    assert_eq!(s, 403, "{b}");
    assert!(
        b["message"].as_str().unwrap().contains("the rules give 3"),
        "{b}"
    );
    let (s, b) = upload_records(
        &steward,
        json!([points_record(
            &steward,
            &pickup,
            "pickup",
            json!("5"),
            now,
            1
        )]),
    );
    assert_eq!(s, 422, "{b}");

    // A redemption of 5,000 with a balance of 5: refused; of 5, within the balance: taken.
    let (s, b) = upload_records(
        &steward,
        json!([points_record(
            &steward,
            "",
            "redemption",
            json!(-5_000),
            now,
            1
        )]),
    );
    assert_eq!(s, 403, "{b}");
    assert!(b["message"].as_str().unwrap().contains("balance"), "{b}");
    steward.sync();
    assert_eq!(
        server_balance(&d),
        8,
        "the honest second pickup's 3 points count"
    );

    // The supervisor's steward report shows what the server accepted, nothing more.
    sup.sync();
    let ledger = sup.store.connection().query_row(
        "SELECT COALESCE(SUM(points), 0) FROM points_entry WHERE user_id = ?1",
        [me.to_string()],
        |r| r.get::<_, i64>(0),
    );
    assert_eq!(ledger.unwrap(), 8);
}

#[test]
fn a_redemption_past_the_automatic_limit_waits_for_a_supervisor() {
    let d = district();
    let xijie = d.street("八角西街");
    let storage = d.server.storage();
    // The district limits automatic redemptions to 3 points a day.
    patrol_server::rules::publish_points_rule(
        storage.as_ref(),
        patrol_core::PointsKind::Redemption,
        0,
        0,
        Some(3),
        0,
        "at most 3 a day without approval",
    )
    .unwrap();
    let mut steward = d.person("李阿姨", Role::Steward, Scope::Own, &["八角西街"]);
    let mut sup = d.district_supervisor();
    steward_pickup(&mut steward, &xijie, 3);
    let entry = steward.store.redeem_points(5, "雨伞").unwrap();
    let r = steward.sync();
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    sup.sync();
    let seen = |sup: &Device| {
        sup.store
            .connection()
            .query_row(
                "SELECT COUNT(*) FROM points_entry WHERE id = ?1",
                [entry.id.to_string()],
                |r| r.get::<_, i64>(0),
            )
            .unwrap()
    };
    assert_eq!(seen(&sup), 0, "a waiting redemption reaches nobody");
    let pending = quarantine::pending_points(storage.as_ref()).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["points"], -5);
    quarantine::decide_points(storage.as_ref(), &entry.id.to_string(), true).unwrap();
    sup.sync();
    assert_eq!(seen(&sup), 1, "approved, it reaches the supervisor");
}

#[test]
fn patrol_headers_are_checked_and_their_summary_is_the_servers() {
    let d = district();
    let mut chief = d.person("王芳", Role::Chief, Scope::Own, &["八角西街"]);
    let mut sup = d.district_supervisor();
    let mut other_sup = d.supervisor(&d.gucheng);
    let gu = d.street("古城小巷");
    let me = chief.store.require_device().unwrap();
    let now = patrol_server::admin::now_ms();
    let header = |id: PatrolId, planned: Vec<String>, check_ins: Value, summary: Value| {
        json!({ "id": id, "user_id": me.user_id, "device_id": me.device_id, "state": "stopped",
                "source": "recorded", "name": null, "started_at_ms": now - 3_600_000,
                "stopped_at_ms": now - 60_000, "planned_streets": planned,
                "summary": summary, "check_ins": check_ins })
    };
    let send = |dev: &Device, p: Value| {
        post_sync(
            dev,
            json!({ "protocol": PROTOCOL_VERSION, "cursor": 0, "patrols": [p] }),
        )
    };

    // Naming another subdistrict's street would carry the patrol into its feed.
    let (s, b) = send(
        &chief,
        header(PatrolId::new(), vec![gu], json!([]), Value::Null),
    );
    assert_eq!(s, 403, "{b}");
    assert!(
        b["message"].as_str().unwrap().contains("planned street"),
        "{b}"
    );
    // A check-in without its id, and one at a signboard the district never issued.
    let id = PatrolId::new();
    let (s, b) = send(
        &chief,
        header(id, vec![], json!([{ "patrol_id": id }]), Value::Null),
    );
    assert_eq!(s, 422, "{b}");
    assert!(b["message"].as_str().unwrap().contains("check-in 0"), "{b}");
    let forged = json!({ "id": patrol_core::PickupId::new().to_string(), "patrol_id": id, "signboard_id": patrol_core::PickupId::new().to_string(),
        "street_id": d.street("八角西街"), "user_id": me.user_id.to_string(), "at_ms": now - 120_000,
        "fix_seq": null, "lat": null, "lon": null, "accuracy_m": null, "distance_to_signboard_m": null });
    let (s, b) = send(&chief, header(id, vec![], json!([forged]), Value::Null));
    assert_eq!(s, 422, "{b}");
    assert!(
        b["message"]
            .as_str()
            .unwrap()
            .contains("not one the district issued"),
        "{b}"
    );

    // A summary of 99,999,999 m over two fixes: the server keeps its own, from the fixes.
    let id = PatrolId::new();
    let claimed = json!({ "fixes_read": 2, "distance_m": 99_999_999.0, "duration_s": 86_000.0 });
    let (s, b) = send(&chief, header(id, vec![], json!([]), claimed));
    assert_eq!(s, 200, "{b}");
    let fix = |seq: i64, lat: f64| StoredFix {
        seq,
        segment: 0,
        lat,
        lon: 116.1936,
        accuracy_m: Some(5.0),
        altitude_m: None,
        speed_mps: None,
        bearing_deg: None,
        time_ms: Some(now - 3_000_000 + seq.min(1_000) * 60_000),
        provider: None,
        is_mock: false,
        verdict: FixVerdict::Kept,
    };
    let put = |fixes: &[StoredFix]| {
        let r = http()
            .put(format!("{}/v1/patrols/{id}/fixes", chief.url))
            .bearer_auth(token(&chief))
            .body(encode_fixes(fixes))
            .send()
            .unwrap();
        (r.status().as_u16(), r.text().unwrap_or_default())
    };
    // A batch starting far past what the server holds (i64::MAX wrapped before), or a gap.
    for bad in [vec![fix(i64::MAX, 39.9)], vec![fix(5, 39.9)]] {
        let (s, b) = put(&bad);
        assert_eq!(s, 422, "{b}");
    }
    let (s, b) = put(&[fix(0, 39.9070), fix(1, 39.9080)]);
    assert_eq!(s, 200, "{b}");
    sup.sync();
    let got = sup.store.patrol(id).unwrap();
    let distance = got.summary.as_ref().map(|s| s.distance_m).unwrap();
    assert!(
        (100.0..120.0).contains(&distance),
        "the server's 111 m, not the claim: {distance}"
    );
    // The other subdistrict's supervisor never sees the chief's patrols.
    other_sup.sync();
    assert!(other_sup.store.list_patrols().unwrap().is_empty());
    // And the honest chief still syncs.
    assert!(chief.sync().rejected.is_empty());
}

#[test]
fn another_users_record_id_tells_nothing() {
    let d = district();
    let xijie = d.street("八角西街");
    let mut a = d.person("李阿姨", Role::Steward, Scope::Own, &["八角西街"]);
    let b = d.person("张大爷", Role::Steward, Scope::Own, &["八角西街"]);
    let (pickup, _) = steward_pickup(&mut a, &xijie, 1);
    a.sync();
    let bid = b.store.require_device().unwrap().user_id;
    let now = patrol_server::admin::now_ms();
    let rec = |id: &str| {
        json!({ "kind": "pickup", "id": id, "user_id": bid, "body": {
            "id": id, "user_id": bid, "device_id": b.store.require_device().unwrap().device_id,
            "at_ms": now, "lat": 39.9075, "lon": 116.1936, "bags": 1, "items": 0,
            "street_id": xijie, "photo_sha256": null, "note": null }})
    };
    let (taken, _) = upload_records(&b, json!([rec(&patrol_core::PickupId::new().to_string())]));
    let (reused, body) = upload_records(&b, json!([rec(&pickup)]));
    assert_eq!((taken, reused), (200, 200), "{body}");
    let stored = d
        .server
        .storage()
        .read()
        .unwrap()
        .record("pickup", &pickup)
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.user_id,
        a.store.require_device().unwrap().user_id,
        "A's pickup stays A's"
    );
}

#[test]
fn one_bad_item_never_stops_anyones_sync_and_can_be_held() {
    let d = district();
    let xijie = d.street("八角西街");
    let mut steward = d.person("李阿姨", Role::Steward, Scope::Own, &["八角西街"]);
    steward_pickup(&mut steward, &xijie, 2);
    steward.sync();
    // Poison the server's store as an old server accepted it: points as text, a check-in
    // without its id.
    let storage = d.server.storage();
    let me = steward.store.require_device().unwrap();
    let bad_id = patrol_core::PickupId::new().to_string();
    {
        let mut tx = storage.write().unwrap();
        tx.put_record(&LedgerRecord {
            kind: "points".into(),
            id: bad_id.clone(),
            user_id: me.user_id,
            body: json!({ "id": bad_id, "user_id": me.user_id, "at_ms": 1, "day": "x", "kind": "pickup",
                          "source_id": "s", "rule_id": "pickup", "rule_version": 1, "points": "lots" }),
        })
        .unwrap();
        tx.feed_touch(
            "record:points",
            &bad_id,
            &FeedScope {
                street_id: Some(xijie.clone()),
                subdistrict_id: Some(d.bajiao.clone()),
                owner_id: Some(me.user_id.to_string()),
                audience: vec![],
            },
        )
        .unwrap();
        tx.commit().unwrap();
    }
    // Every supervisor of the subdistrict, a freshly enrolled one too, still syncs: the bad
    // record is set aside with the reason, everything else arrives.
    // (Enrolling syncs once: that first sync meets the bad record.)
    let mut sup = d.supervisor(&d.bajiao);
    let aside = sup.store.set_aside_items().unwrap();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(aside[0].id, bad_id);
    assert_eq!(aside[0].kind, "record:points");
    assert!(aside[0].reason.contains("points"), "{aside:?}");
    let pickups: i64 = sup
        .store
        .connection()
        .query_row("SELECT COUNT(*) FROM litter_pickup", [], |r| r.get(0))
        .unwrap();
    assert_eq!(pickups, 1);
    assert!(
        sup.sync().set_aside.is_empty(),
        "set aside once, not at every sync"
    );

    // The administrator finds it with a scan, holds it, and a new supervisor never gets it.
    let found = quarantine::scan(storage.as_ref(), true, 0).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].item_id, bad_id);
    assert_eq!(quarantine::list(storage.as_ref()).unwrap().len(), 1);
    let mut fresh = d.supervisor(&d.bajiao);
    assert!(
        fresh.store.set_aside_items().unwrap().is_empty(),
        "held, it reaches nobody"
    );
    quarantine::release(storage.as_ref(), "record:points", &bad_id).unwrap();
    assert_eq!(
        fresh.sync().set_aside.len(),
        1,
        "released, it is in the feed again"
    );
}

#[test]
fn a_crew_scoped_to_a_subdistrict_receives_the_network() {
    let d = district();
    let mut crew = d.person(
        "物业",
        Role::Crew,
        Scope::Subdistrict(d.bajiao.parse().unwrap()),
        &[],
    );
    crew.sync();
    assert_eq!(crew.store.streets().unwrap().len(), 3);
}

#[test]
fn a_scan_finds_documents_stored_outside_their_layout() {
    use automerge::transaction::Transactable;
    let d = district();
    let mut chief = d.person("王芳", Role::Chief, Scope::Own, &["八角西街"]);
    let issue = chief
        .store
        .report_issue(patrol_core::issues::NewIssue::at(
            "litter", 39.9075, 116.1936,
        ))
        .unwrap()
        .issue
        .id;
    chief.sync();
    // As an older server would have taken it: an unknown key at the root.
    let mut doc = automerge::Automerge::load(&chief.store.export_issue(issue).unwrap()).unwrap();
    let mut tx = doc.transaction();
    tx.put(automerge::ROOT, "surprise", "x".repeat(10)).unwrap();
    tx.commit();
    let heads: Vec<String> = doc.get_heads().iter().map(|h| h.to_string()).collect();
    let storage = d.server.storage();
    {
        let mut tx = storage.write().unwrap();
        tx.put_doc(&issue.to_string(), "issue", &doc.save(), &heads, &[], 0)
            .unwrap();
        tx.commit().unwrap();
    }
    let found = quarantine::scan(storage.as_ref(), false, 0).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].kind, "doc:issue");
    assert!(found[0].reason.contains("surprise"), "{found:?}");
    assert!(
        quarantine::list(storage.as_ref()).unwrap().is_empty(),
        "a scan without --hold holds nothing"
    );
}
