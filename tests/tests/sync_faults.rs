//! A bad network between phone and server: connections cut after a random number of bytes in
//! either direction, delays, requests replayed to the server a second time, and the server
//! restarted in the middle. Afterwards nothing is lost or duplicated: the server holds exactly
//! the chief's patrols, fixes, issues and photos, and a supervisor receives identical copies.

use patrol_core::issues::NewIssue;
use patrol_core::sync::wire::Scope;
use patrol_core::sync::{NetworkState, SyncPolicy};
use patrol_core::{PatrolId, Role};
use patrol_model::sim::{ReceiverModel, SimRng, simulate_walk};
use patrol_tests::net::{Device, TestServer};
use patrol_tests::proxy::{FaultProxy, Faults};
use std::time::Duration;

fn record(dev: &mut Device, seconds: usize, seed: u64) -> PatrolId {
    let route = [
        (39.904, 116.1935),
        (39.911, 116.1937),
        (39.9112, 116.201),
        (39.9042, 116.201),
        (39.904, 116.1935),
    ];
    let mut rng = SimRng::new(seed);
    let mut fixes = Vec::new();
    let mut start = 1_733_040_000_000 + seed as i64 * 100_000_000;
    while fixes.len() < seconds {
        let lap = simulate_walk(
            &route,
            1.4,
            start,
            &ReceiverModel::default(),
            None,
            &mut rng,
        );
        start = lap.last().and_then(|(f, _)| f.time_ms).unwrap_or(start) + 1000;
        fixes.extend(lap.into_iter().map(|(f, _)| f));
    }
    fixes.truncate(seconds);
    let id = dev.store.start_patrol(&[]).unwrap();
    for c in fixes.chunks(500) {
        dev.store.add_fixes(id, c).unwrap();
    }
    dev.store.stop_patrol(id).unwrap();
    id
}

#[test]
fn nothing_is_lost_or_duplicated_over_a_bad_network() {
    let mut server = TestServer::start();
    let (_, chief_code) = server.add_user("王芳", Role::Chief, Scope::Own);
    let (_, sup_code) = server.add_user("陈主任", Role::Supervisor, Scope::District);
    let mut chief = Device::enrol(&server.url(), &chief_code);
    let mut sup = Device::enrol(&server.url(), &sup_code);

    // A day's work offline: three patrols (40,000 fixes), 30 issues, some with photos.
    let patrols: Vec<_> = (0..3)
        .map(|i| record(&mut chief, [25_000, 10_000, 5_000][i], i as u64))
        .collect();
    let photos = tempfile::tempdir().unwrap();
    let mut issues = Vec::new();
    for i in 0..30 {
        let mut new = NewIssue::at("litter", 39.905 + i as f64 * 1e-4, 116.195);
        if i % 5 == 0 {
            let p = photos.path().join(format!("{i}.jpg"));
            image::RgbImage::from_fn(400, 300, |x, y| image::Rgb([x as u8, y as u8, i as u8]))
                .save(&p)
                .unwrap();
            new.photos = vec![chief.store.attach_photo(&p).unwrap().sha256];
        }
        issues.push(chief.store.report_issue(new).unwrap().issue.id);
    }

    // Sync through the bad network until a sync completes; restart the server on the way.
    let upstream = server.server.as_ref().unwrap().addr;
    let proxy = FaultProxy::start(
        upstream,
        Faults {
            cut_probability: 1.0,
            cut_within: 700_000,
            max_delay_ms: 2,
            replay_probability: 0.5,
        },
        7,
    );
    chief.repoint(&proxy.url());
    let policy = SyncPolicy {
        max_attempts: 2,
        base_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        ..SyncPolicy::on(NetworkState::Wifi)
    };
    // Interrupted syncs first: each is stopped (the server restarted under it) part way through,
    // as a phone losing its network would be.
    let mut failures = 0;
    let mut retries = 0;
    let mut done = false;
    for attempt in 0..200 {
        if attempt == 1 {
            server.restart_same_port();
        }
        match chief.sync_with(policy.clone()) {
            Ok(r) => {
                retries += r.retries;
                if r.deferred.is_empty() {
                    done = true;
                    break;
                }
            }
            Err(_) => failures += 1,
        }
    }
    eprintln!(
        "bad network: {failures} failed syncs, {retries} retried requests, {} cut connections, {} replayed",
        proxy.cuts.load(std::sync::atomic::Ordering::Relaxed),
        proxy.replays.load(std::sync::atomic::Ordering::Relaxed)
    );
    assert!(done, "no sync completed in 200 attempts");
    assert!(
        failures + retries > 0,
        "the proxy never got in the way; the test proves nothing"
    );
    assert!(proxy.cuts.load(std::sync::atomic::Ordering::Relaxed) > 0);
    assert!(proxy.replays.load(std::sync::atomic::Ordering::Relaxed) > 0);
    // Once more, cleanly: nothing left to send.
    chief.repoint(&server.url());
    let r = chief.sync();
    assert_eq!(
        (r.docs_up, r.patrols_up, r.fixes_up, r.photos_up),
        (0, 0, 0, 0),
        "{r:?}"
    );

    // The server holds exactly what the chief has.
    let storage = server.storage();
    let mut tx = storage.read().unwrap();
    for p in &patrols {
        let local = chief.store.fixes(*p).unwrap();
        let remote = tx.fixes(&p.to_string(), 0, 1_000_000).unwrap();
        assert_eq!(
            remote.len(),
            local.len(),
            "patrol {p}: no fix lost or doubled"
        );
        assert!(remote == local, "patrol {p}: fixes differ");
    }
    for id in &issues {
        let row = tx
            .doc(&id.to_string())
            .unwrap()
            .expect("every issue reached the server");
        let mut local: Vec<String> = chief
            .store
            .issue_heads(*id)
            .unwrap()
            .iter()
            .map(|h| h.to_string())
            .collect();
        local.sort();
        assert_eq!(row.heads, local);
    }
    drop(tx);

    // A supervisor receives identical copies.
    sup.sync();
    for p in &patrols {
        assert!(sup.store.fixes(*p).unwrap() == chief.store.fixes(*p).unwrap());
    }
    for id in &issues {
        assert_eq!(
            sup.store.issue(*id).unwrap().heads,
            chief.store.issue(*id).unwrap().heads
        );
        for photo in chief.store.issue(*id).unwrap().photos {
            let a = std::fs::read(sup.store.photo(&photo.sha256).unwrap().path).unwrap();
            let b = std::fs::read(chief.store.photo(&photo.sha256).unwrap().path).unwrap();
            assert_eq!(a, b);
        }
    }
}

#[test]
fn the_same_batch_twice_changes_nothing() {
    let server = TestServer::start();
    let (_, code) = server.add_user("王芳", Role::Chief, Scope::Own);
    let mut chief = Device::enrol(&server.url(), &code);
    let id = record(&mut chief, 3_000, 9);
    chief.sync();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::blocking::Client::new();
    let token = chief.store.sync_account().unwrap().unwrap().token;
    let fixes = chief.store.fixes(id).unwrap();
    let batch = patrol_core::sync::fixcodec::encode_fixes(&fixes[1000..2000]);
    for _ in 0..2 {
        let r = http
            .put(format!("{}/v1/patrols/{id}/fixes", server.url()))
            .bearer_auth(&token)
            .body(batch.clone())
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let mark: serde_json::Value = r.json().unwrap();
        assert_eq!(mark["next_seq"], 3000);
    }
    let stored = server
        .storage()
        .read()
        .unwrap()
        .fixes(&id.to_string(), 0, 10_000)
        .unwrap();
    assert_eq!(stored.len(), 3000);
    // The same sync request twice: the second changes nothing.
    let mut again = chief.store.next_sync_request(None).unwrap();
    again.patrols = vec![
        chief
            .store
            .patrol_record(&chief.store.patrol(id).unwrap())
            .unwrap(),
    ];
    for _ in 0..2 {
        let r = http
            .post(format!("{}/v1/sync", server.url()))
            .bearer_auth(&token)
            .json(&again)
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
    let stored = server
        .storage()
        .read()
        .unwrap()
        .fixes(&id.to_string(), 0, 10_000)
        .unwrap();
    assert_eq!(stored.len(), 3000);
}
