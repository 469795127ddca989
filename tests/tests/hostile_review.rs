//! Regressions from a hostile review of the server (an enrolled device's token, hand-made
//! requests on loopback): each case reproduced a hole, and now asserts it is closed.
use patrol_core::domain::{FixVerdict, StoredFix};
use patrol_core::issues::NewIssue;
use patrol_core::sync::fixcodec::encode_fixes;
use patrol_core::sync::wire::{PROTOCOL_VERSION, Scope};
use patrol_core::{PatrolId, Role};
use patrol_server::{admin, quarantine};
use patrol_tests::hostile::{
    district, http, pickup_record, points_record, post_sync, steward_pickup, token, upload_records,
};
use patrol_tests::net::Device;
use serde_json::json;
use sha2::{Digest, Sha256};

const DAY: i64 = 86_400_000;

/// F1: a redemption of i64::MIN passes the balance check (unsigned_abs as i64 wraps negative).
#[test]
fn f1_redemption_of_i64_min() {
    let d = district();
    let xijie = d.street("八角西街");
    let mut st = d.person("李阿姨", Role::Steward, Scope::Own, &["八角西街"]);
    let mut sup = d.person("区督查", Role::Supervisor, Scope::District, &[]);
    steward_pickup(&mut st, &xijie, 3);
    st.sync();
    let now = admin::now_ms();
    let me = st.store.require_device().unwrap().user_id;
    // A small honest redemption first, then i64::MIN.
    let (s, b) = upload_records(
        &st,
        json!([points_record(&st, "", "redemption", json!(-1), now, 1)]),
    );
    assert_eq!(s, 200, "{b}");
    let (s, b) = upload_records(
        &st,
        json!([points_record(
            &st,
            "",
            "redemption",
            json!(i64::MIN),
            now,
            1
        )]),
    );
    eprintln!("F1 i64::MIN redemption -> {s} {b}");
    let bal = d.server.storage().read().unwrap().points_sum(&me, None);
    eprintln!("F1 server balance now: {bal:?}");
    // Any later redemption by that user.
    let (s2, b2) = upload_records(
        &st,
        json!([points_record(&st, "", "redemption", json!(-1), now, 1)]),
    );
    eprintln!("F1 next redemption -> {s2} {b2}");
    let r = sup.sync();
    eprintln!("F1 supervisor sync rejected={:?}", r.rejected);
    let sum = sup.store.connection().query_row(
        "SELECT SUM(points) FROM points_entry WHERE user_id = ?1",
        [me.to_string()],
        |r| r.get::<_, i64>(0),
    );
    eprintln!("F1 supervisor's SUM over the steward's ledger: {sum:?}");
    let period = patrol_core::report::Period::between(now - 7 * DAY, now + DAY).unwrap();
    let rep = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        sup.store
            .steward_report(&period, &Default::default())
            .map(|r| {
                r.stewards
                    .iter()
                    .map(|s| (s.points_balance, s.points_redeemed))
                    .collect::<Vec<_>>()
            })
    }));
    assert_eq!(s, 422, "a redemption of i64::MIN points is refused: {b}");
    assert_eq!(bal.unwrap(), 4, "5 earned, 1 redeemed");
    assert_eq!(s2, 200, "{b2}");
    assert!(r.set_aside.is_empty());
    assert_eq!(sum.unwrap(), 3, "5 earned, 2 redeemed");
    assert!(matches!(rep, Ok(Ok(_))), "the steward report is computed");
}

/// F2: the daily cap is keyed on the entry's own claimed day; backdating defeats it.
#[test]
fn f2_daily_cap_bypassed_by_backdating() {
    let d = district();
    let xijie = d.street("八角西街");
    let st = d.person("李阿姨", Role::Steward, Scope::Own, &["八角西街"]);
    let now = admin::now_ms();
    let mut total = 0;
    for k in 0..10 {
        let pid = patrol_core::PickupId::new().to_string();
        let at = now - k * DAY;
        let (s, b) = upload_records(
            &st,
            json!([
                pickup_record(&st, &pid, at, 18, Some(&xijie), None),
                points_record(&st, &pid, "pickup", json!(20), at, 1)
            ]),
        );
        assert_eq!(s, 200, "{b}");
        total += 20;
    }
    let me = st.store.require_device().unwrap().user_id;
    let bal = d
        .server
        .storage()
        .read()
        .unwrap()
        .points_sum(&me, None)
        .unwrap();
    // Within the claim window each day's cap holds once; older claims are refused.
    assert_eq!(bal, total);
    let pid = patrol_core::PickupId::new().to_string();
    let at = now - 40 * DAY;
    let (s, b) = upload_records(
        &st,
        json!([
            pickup_record(&st, &pid, at, 18, Some(&xijie), None),
            points_record(&st, &pid, "pickup", json!(20), at, 1)
        ]),
    );
    assert_eq!(s, 422, "{b}");
    assert!(b["message"].as_str().unwrap().contains("31 days"), "{b}");
}

/// F3: an older rule version stays valid: a published redemption:2 with a daily cap is
/// bypassed by citing the shipped redemption:1 (no cap) -> no supervisor approval.
#[test]
fn f3_old_rule_version_bypasses_approval() {
    let d = district();
    let xijie = d.street("八角西街");
    let storage = d.server.storage();
    storage.write().and_then(|mut tx| {
        tx.put_reference("points_rule", "redemption:2", None,
            &json!({ "id": "redemption", "version": 2, "kind": "redemption", "points": 0,
                     "per_bag": 0, "daily_cap": 3, "valid_from_ms": 0, "description": "at most 3 a day" }), false)?;
        tx.commit()
    }).unwrap();
    let mut st = d.person("李阿姨", Role::Steward, Scope::Own, &["八角西街"]);
    steward_pickup(&mut st, &xijie, 10);
    st.sync();
    let now = admin::now_ms();
    let (s, b) = upload_records(
        &st,
        json!([points_record(&st, "", "redemption", json!(-10), now, 1)]),
    );
    assert_eq!(s, 200, "{b}");
    let pending = quarantine::pending_points(storage.as_ref()).unwrap();
    assert_eq!(
        pending.len(),
        1,
        "held to version 2's limit whatever version it cites"
    );
}

/// F4: existence oracles for other users' ids (patrols, records, pickups, fixes download).
#[test]
fn f4_existence_oracles() {
    let d = district();
    let xijie = d.street("八角西街");
    let mut a = d.person("李阿姨", Role::Steward, Scope::Own, &["八角西街"]);
    let b = d.person("王芳", Role::Chief, Scope::Own, &["八角西街"]);
    let mut sup_g = d.person(
        "古城督查",
        Role::Supervisor,
        Scope::Subdistrict(d.gucheng.parse().unwrap()),
        &[],
    );
    let (pickup, _) = steward_pickup(&mut a, &xijie, 1);
    let patrol = a.store.start_patrol(&[]).unwrap();
    a.sync();
    let a_patrol = patrol.to_string();
    let fresh = PatrolId::new().to_string();
    let bm = b.store.require_device().unwrap();
    let now = admin::now_ms();
    // (a) patrol header with an invalid source under A's id vs a fresh id.
    let hdr = |id: &str| {
        json!({ "protocol": PROTOCOL_VERSION, "cursor": 0, "patrols": [{
        "id": id, "user_id": bm.user_id, "device_id": bm.device_id, "state": "recording",
        "source": "bogus", "name": null, "started_at_ms": now, "stopped_at_ms": null,
        "planned_streets": [], "summary": null, "check_ins": [] }]})
    };
    let (s1, _) = post_sync(&b, hdr(&a_patrol));
    let (s2, _) = post_sync(&b, hdr(&fresh));
    eprintln!("F4a patrol header: existing-other={s1} fresh={s2}");
    // (b) record with an invalid body under A's pickup id vs a fresh id.
    let bad =
        |id: &str| json!([{ "kind": "pickup", "id": id, "user_id": bm.user_id, "body": {"x": 1} }]);
    let (s3, _) = upload_records(&b, bad(&pickup));
    let (s4, _) = upload_records(&b, bad(&patrol_core::PickupId::new().to_string()));
    eprintln!("F4b record: existing-other={s3} fresh={s4}");
    // (c) points entry naming A's pickup vs a fresh id.
    let (s5, m5) = upload_records(
        &b,
        json!([points_record(&b, &pickup, "pickup", json!(1), now, 1)]),
    );
    let (s6, _) = upload_records(
        &b,
        json!([points_record(
            &b,
            &patrol_core::PickupId::new().to_string(),
            "pickup",
            json!(1),
            now,
            1
        )]),
    );
    eprintln!(
        "F4c points source: existing-other={s5} ({}) fresh={s6}",
        m5["message"]
    );
    // (d) fixes download of A's patrol by a supervisor of another subdistrict.
    let dl = |id: &str| {
        http()
            .post(format!("{}/v1/fixes/download", sup_g.url))
            .bearer_auth(token(&sup_g))
            .json(&json!({"patrols": [{"patrol_id": id, "from_seq": i64::MIN}]}))
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    let (s7, s8) = (dl(&a_patrol), dl(&fresh));
    eprintln!("F4d fixes download: existing-other={s7} fresh={s8}");
    sup_g.sync();
    assert_eq!(
        (s1, s3, s5, s7),
        (s2, s4, s6, s8),
        "another user's ids answer as fresh ones"
    );
}

/// F5: document existence (and an administrator's hold reason) visible to any device.
#[test]
fn f5_doc_oracle_and_hold_reason() {
    let d = district();
    let mut a = d.person("李阿姨", Role::Steward, Scope::Own, &["八角西街"]);
    let outsider = d.person(
        "古城督查",
        Role::Supervisor,
        Scope::Subdistrict(d.gucheng.parse().unwrap()),
        &[],
    );
    let issue = a
        .store
        .report_issue(NewIssue::at("litter", 39.9075, 116.19370))
        .unwrap()
        .issue
        .id
        .to_string();
    a.sync();
    let up = |id: &str| {
        post_sync(
            &outsider,
            json!({ "protocol": PROTOCOL_VERSION, "cursor": 0,
        "docs": [{ "kind": "issue", "id": id, "changes": [], "heads": [] }]}),
        )
    };
    let (s1, b1) = up(&issue);
    let (s2, b2) = up(&patrol_core::PickupId::new().to_string());
    let (s3, b3) = post_sync(
        &outsider,
        json!({ "protocol": PROTOCOL_VERSION, "cursor": 0,
        "docs": [{ "kind": "merchant", "id": issue, "changes": [], "heads": [] }]}),
    );
    eprintln!(
        "F5 doc: existing-other={s1} {} / fresh={s2} {} / as merchant={s3} {}",
        b1["message"], b2["message"], b3["message"]
    );
    quarantine::hold(
        d.server.storage().as_ref(),
        "doc:issue",
        &issue,
        "reporter 13800138000 harassment complaint",
        admin::now_ms(),
    )
    .unwrap();
    let (s4, b4) = up(&issue);
    // A document of another kind answers as one out of reach; the hold's reason stays with the
    // administrator. (An id out of reach and a fresh id still answer 403 and 422: ids of
    // documents are UUIDv7 made on devices.)
    assert_eq!((s1, s3), (403, 403), "{b1} {b3}");
    assert_eq!(
        b1["message"].as_str().unwrap().replace(&issue, ""),
        b3["message"].as_str().unwrap().replace(&issue, "")
    );
    assert!(!b4.to_string().contains("13800138000"), "{b4}");
    let _ = (s2, b2, s4);
}

/// F6: blob HEAD/PATCH tell a declaring stranger that a photo is stored; a held pickup's photo
/// can still be uploaded.
#[test]
fn f6_blob_oracle_and_held_upload() {
    let d = district();
    let xijie = d.street("八角西街");
    let mut owner = d.person("赵大爷", Role::Steward, Scope::Own, &["八角西街"]);
    let stranger = d.person(
        "古城督查",
        Role::Supervisor,
        Scope::Subdistrict(d.gucheng.parse().unwrap()),
        &[],
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.jpg");
    image::RgbImage::from_pixel(64, 48, image::Rgb([9, 200, 30]))
        .save(&file)
        .unwrap();
    let sha = owner.store.attach_photo(&file).unwrap().sha256;
    let mut new = NewIssue::at("litter", 39.9075, 116.19370);
    new.photos = vec![sha.clone()];
    owner.store.report_issue(new).unwrap();
    owner.sync();
    let head = |dev: &Device, h: &str| {
        let r = http()
            .head(format!("{}/v1/blobs/{h}", dev.url))
            .bearer_auth(token(dev))
            .send()
            .unwrap();
        (
            r.status().as_u16(),
            r.headers()
                .get("blob-complete")
                .map(|v| v.to_str().unwrap().to_owned()),
        )
    };
    eprintln!(
        "F6 stranger HEAD before declaring: {:?}",
        head(&stranger, &sha)
    );
    let pid = patrol_core::PickupId::new().to_string();
    let (s, b) = upload_records(
        &stranger,
        json!([pickup_record(
            &stranger,
            &pid,
            admin::now_ms(),
            1,
            None,
            Some(&sha)
        )]),
    );
    assert_eq!(s, 200, "{b}");
    let absent = hex::encode(Sha256::digest(b"nothing"));
    let pid2 = patrol_core::PickupId::new().to_string();
    upload_records(
        &stranger,
        json!([pickup_record(
            &stranger,
            &pid2,
            admin::now_ms(),
            1,
            None,
            Some(&absent)
        )]),
    );
    let (hs, ha) = (head(&stranger, &sha), head(&stranger, &absent));
    eprintln!("F6 stranger HEAD after declaring in own pickup: stored={hs:?} absent={ha:?}");
    let g = http()
        .get(format!("{}/v1/blobs/{sha}", stranger.url))
        .bearer_auth(token(&stranger))
        .send()
        .unwrap()
        .status();
    eprintln!("F6 stranger GET: {g}");
    // Held pickup: its photo still uploads.
    let mut st = d.person("李阿姨", Role::Steward, Scope::Own, &["八角西街"]);
    let photo = b"held photo bytes".to_vec();
    let hsha = hex::encode(Sha256::digest(&photo));
    let hp = patrol_core::PickupId::new().to_string();
    let (s, b) = upload_records(
        &st,
        json!([pickup_record(
            &st,
            &hp,
            admin::now_ms(),
            1,
            Some(&xijie),
            Some(&hsha)
        )]),
    );
    assert_eq!(s, 200, "{b}");
    quarantine::hold(
        d.server.storage().as_ref(),
        "record:pickup",
        &hp,
        "abusive photo",
        admin::now_ms(),
    )
    .unwrap();
    let r = http()
        .patch(format!("{}/v1/blobs/{hsha}", st.url))
        .bearer_auth(token(&st))
        .header("upload-offset", "0")
        .header("upload-length", photo.len().to_string())
        .body(photo.clone())
        .send()
        .unwrap();
    let held_upload = r.status().as_u16();
    st.sync();
    assert_eq!(
        hs.0, 404,
        "a stranger who declares a stored photo learns nothing: {hs:?}"
    );
    assert_eq!(hs, ha);
    assert_eq!(g.as_u16(), 404);
    assert_eq!(held_upload, 403, "a held pickup declares no photo");
}

/// Probe 7: odd JSON / numeric extremes: looking for 500s.
#[test]
fn p7_odd_inputs_no_500() {
    let d = district();
    let xijie = d.street("八角西街");
    let st = d.person("李阿姨", Role::Steward, Scope::Own, &["八角西街"]);
    let me = st.store.require_device().unwrap();
    let now = admin::now_ms();
    let mut bodies = vec![
        json!({ "protocol": PROTOCOL_VERSION, "cursor": u64::MAX }),
        json!({ "protocol": PROTOCOL_VERSION, "cursor": -1 }),
        json!({ "protocol": PROTOCOL_VERSION, "cursor": 0, "max_entries": 0 }),
        json!({ "protocol": PROTOCOL_VERSION, "cursor": 0, "max_entries": u32::MAX }),
        json!({ "protocol": PROTOCOL_VERSION, "cursor": 0, "refetch": ["../x"] }),
        json!({ "protocol": PROTOCOL_VERSION, "cursor": 0, "records": [{ "kind": "points", "id": "x", "user_id": me.user_id, "body": null }] }),
        json!({ "protocol": PROTOCOL_VERSION, "cursor": 0, "records": "x" }),
        json!({ "protocol": u32::MAX, "cursor": 0 }),
    ];
    for pts in [json!(i64::MAX), json!(1e300), json!(-0.0), json!(u64::MAX)] {
        let pid = patrol_core::PickupId::new().to_string();
        bodies.push(json!({ "protocol": PROTOCOL_VERSION, "cursor": 0, "records": [
            pickup_record(&st, &pid, now, 1, Some(&xijie), None), points_record(&st, &pid, "pickup", pts, now, 1)]}));
    }
    for v in [i64::MAX, i64::MIN] {
        bodies.push(json!({ "protocol": PROTOCOL_VERSION, "cursor": 0, "records": [points_record(&st, "x", "pickup", json!(1), now, v)]}));
        let pid = patrol_core::PickupId::new().to_string();
        bodies.push(json!({ "protocol": PROTOCOL_VERSION, "cursor": 0, "records": [pickup_record(&st, &pid, v, 1, Some(&xijie), None)]}));
        let id = PatrolId::new();
        bodies.push(json!({ "protocol": PROTOCOL_VERSION, "cursor": 0, "patrols": [{
            "id": id, "user_id": me.user_id, "device_id": me.device_id, "state": "stopped",
            "source": "recorded", "name": null, "started_at_ms": now - 1000, "stopped_at_ms": now,
            "planned_streets": [], "summary": {"fixes_read": v, "duration_s": 1e308}, "check_ins": [] }]}));
    }
    for (i, b) in bodies.into_iter().enumerate() {
        let (s, r) = post_sync(&st, b);
        eprintln!(
            "P7 #{i}: {s} {}",
            r["message"]
                .as_str()
                .unwrap_or("")
                .chars()
                .take(120)
                .collect::<String>()
        );
        assert_ne!(s, 500, "#{i}: {r}");
    }
}

/// Probe 8: patrol header re-upload back from stopped; two points for one fact in one request;
/// fixes with huge time spans earn a full day of patrol hours.
#[test]
fn p8_patrol_state_and_points() {
    let d = district();
    let st = d.person("王芳", Role::Chief, Scope::Own, &["八角西街"]);
    let me = st.store.require_device().unwrap();
    let now = admin::now_ms();
    let id = PatrolId::new();
    let hdr = |state: &str, stop: Option<i64>| {
        json!({ "protocol": PROTOCOL_VERSION, "cursor": 0, "patrols": [{
        "id": id, "user_id": me.user_id, "device_id": me.device_id, "state": state,
        "source": "recorded", "name": null, "started_at_ms": now - 3_600_000, "stopped_at_ms": stop,
        "planned_streets": [], "summary": {"fixes_read": 2}, "check_ins": [] }]})
    };
    let (s, b) = post_sync(&st, hdr("stopped", Some(now)));
    assert_eq!(s, 200, "{b}");
    let fix = |seq: i64, t: i64| StoredFix {
        seq,
        segment: 0,
        lat: 39.9075,
        lon: 116.1936,
        accuracy_m: Some(5.0),
        altitude_m: None,
        speed_mps: None,
        bearing_deg: None,
        time_ms: Some(t),
        provider: None,
        is_mock: false,
        verdict: FixVerdict::Kept,
    };
    let r = http()
        .put(format!("{}/v1/patrols/{id}/fixes", st.url))
        .bearer_auth(token(&st))
        .body(encode_fixes(&[fix(0, 0), fix(1, 4_102_444_800_000)]))
        .send()
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        422,
        "fixes dated 1970 and 2100 are refused"
    );
    let p = d
        .server
        .storage()
        .read()
        .unwrap()
        .patrol(&id.to_string())
        .unwrap()
        .unwrap();
    eprintln!(
        "P8 server summary duration_s = {:?}",
        p.summary.as_ref().and_then(|s| s.get("duration_s"))
    );
    let e1 = points_record(&st, &id.to_string(), "patrol_hour", json!(16), now, 1);
    let e2 = points_record(
        &st,
        &id.to_string(),
        "patrol_hour",
        json!(16),
        now - 2 * DAY,
        1,
    );
    let (s, b) = upload_records(&st, json!([e1, e2]));
    eprintln!(
        "P8 two patrol_hour entries for one patrol in one request: {s} {}",
        b["message"]
    );
    let (s, b) = upload_records(
        &st,
        json!([points_record(
            &st,
            &id.to_string(),
            "patrol_hour",
            json!(16),
            now,
            1
        )]),
    );
    eprintln!("P8 patrol_hour 16 pts for 2 fixes: {s} {}", b["message"]);
    assert_eq!(s, 422, "no hours for fixes the server does not hold: {b}");
    let (s, b) = post_sync(&st, hdr("recording", None));
    assert_eq!(s, 403, "a stopped patrol stays stopped: {b}");
}

/// F7: a held (quarantined) pickup still earns points.
#[test]
fn f7_held_pickup_still_earns_points() {
    let d = district();
    let xijie = d.street("八角西街");
    let st = d.person("李阿姨", Role::Steward, Scope::Own, &["八角西街"]);
    let now = admin::now_ms();
    let pid = patrol_core::PickupId::new().to_string();
    let (s, b) = upload_records(
        &st,
        json!([pickup_record(&st, &pid, now, 3, Some(&xijie), None)]),
    );
    assert_eq!(s, 200, "{b}");
    quarantine::hold(
        d.server.storage().as_ref(),
        "record:pickup",
        &pid,
        "fake pickup",
        now,
    )
    .unwrap();
    let (s, b) = upload_records(
        &st,
        json!([points_record(&st, &pid, "pickup", json!(5), now, 1)]),
    );
    assert_eq!(s, 422, "a held pickup earns nothing: {b}");
}
