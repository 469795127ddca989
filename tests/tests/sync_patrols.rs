//! Patrols and their fixes flow up from the chief's phone and down to a supervisor's, through a
//! real server on loopback, intact and never duplicated.

use patrol_core::patrol::PatrolSource;
use patrol_core::sync::wire::Scope;
use patrol_core::sync::{NetworkState, SyncPolicy};
use patrol_core::{PatrolId, Role, StoredFix};
use patrol_model::sim::{ReceiverModel, SimRng, simulate_walk};
use patrol_tests::net::{Device, TestServer};

/// A chief's patrol of `n` fixes recorded as a phone would; returns its id.
pub fn record_patrol(dev: &mut Device, n: usize, seed: u64) -> PatrolId {
    let route = [
        (39.904, 116.1935),
        (39.911, 116.1937),
        (39.9112, 116.201),
        (39.9042, 116.201),
    ];
    let mut fixes = Vec::new();
    let mut rng = SimRng::new(seed);
    let mut start = 1_733_040_000_000 + seed as i64 * 10_000_000;
    while fixes.len() < n {
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
    fixes.truncate(n);
    let id = dev.store.start_patrol(&[]).unwrap();
    for chunk in fixes.chunks(1000) {
        dev.store.add_fixes(id, chunk).unwrap();
    }
    dev.store.stop_patrol(id).unwrap();
    id
}

fn fixes(dev: &Device, id: PatrolId) -> Vec<StoredFix> {
    dev.store.fixes(id).unwrap()
}

/// Asserts two devices hold the same fixes of a patrol, naming the first difference.
fn assert_same_fixes(a: &Device, b: &Device, id: PatrolId) {
    let (fa, fb) = (fixes(a, id), fixes(b, id));
    assert_eq!(fa.len(), fb.len(), "fix counts differ");
    if let Some(i) = (0..fa.len()).find(|i| fa[*i] != fb[*i]) {
        panic!("fix {i} differs: {:?} vs {:?}", fa[i], fb[i]);
    }
}

#[test]
fn patrols_and_fixes_reach_the_supervisor_intact() {
    let server = TestServer::start();
    let (_, chief_code) = server.add_user("王芳", Role::Chief, Scope::Own);
    let (_, sup_code) = server.add_user("李主任", Role::Supervisor, Scope::District);
    let mut chief = Device::enrol(&server.url(), &chief_code);
    let mut sup = Device::enrol(&server.url(), &sup_code);

    let a = record_patrol(&mut chief, 12_345, 1);
    let r = chief.sync();
    assert_eq!(r.patrols_up, 1);
    assert_eq!(r.fixes_up, 12_345);
    // A second sync has nothing to send.
    let again = chief.sync();
    assert_eq!((again.patrols_up, again.fixes_up), (0, 0));

    // On cellular the supervisor gets the header but the bulk fixes wait for wifi.
    let r = sup
        .sync_with(SyncPolicy::on(NetworkState::Cellular))
        .unwrap();
    assert_eq!(r.patrols_down, 1);
    assert_eq!(r.fixes_down, 0);
    assert_eq!(r.deferred.len(), 1, "{:?}", r.deferred);
    let r = sup.sync();
    assert_eq!(r.fixes_down, 12_345);
    assert_same_fixes(&sup, &chief, a);
    let info = sup.store.patrol(a).unwrap();
    assert_eq!(info.source, PatrolSource::Synced);
    assert_eq!(info.origin, Some(PatrolSource::Recorded));
    assert_eq!(info.summary, chief.store.patrol(a).unwrap().summary);

    // A patrol recorded while the supervisor is offline arrives on the next sync.
    let b = record_patrol(&mut chief, 500, 2);
    chief.sync();
    let off = sup
        .sync_with(SyncPolicy::on(NetworkState::Offline))
        .unwrap();
    assert_eq!(off.requests, 0);
    sup.sync();
    assert_same_fixes(&sup, &chief, b);
    assert_eq!(sup.store.list_patrols().unwrap().len(), 2);
}

#[test]
fn a_chief_sees_only_their_own_patrols() {
    let server = TestServer::start();
    let (_, c1) = server.add_user("王芳", Role::Chief, Scope::Own);
    let (_, c2) = server.add_user("张伟", Role::Chief, Scope::Own);
    let mut a = Device::enrol(&server.url(), &c1);
    let mut b = Device::enrol(&server.url(), &c2);
    record_patrol(&mut a, 100, 3);
    a.sync();
    let r = b.sync();
    assert_eq!(r.patrols_down, 0);
    assert!(b.store.list_patrols().unwrap().is_empty());
}

#[test]
fn a_recording_patrol_uploads_as_it_goes() {
    let server = TestServer::start();
    let (_, code) = server.add_user("王芳", Role::Chief, Scope::Own);
    let (_, sup_code) = server.add_user("李主任", Role::Supervisor, Scope::District);
    let mut chief = Device::enrol(&server.url(), &code);
    let mut sup = Device::enrol(&server.url(), &sup_code);
    let id = chief.store.start_patrol(&[]).unwrap();
    let walk = simulate_walk(
        &[(39.9, 116.2), (39.905, 116.2)],
        1.4,
        1_733_040_000_000,
        &ReceiverModel::default(),
        None,
        &mut SimRng::new(9),
    );
    let (first, rest) = walk.split_at(200);
    for (f, _) in first {
        chief.store.add_fix(id, f.clone()).unwrap();
    }
    assert_eq!(chief.sync().fixes_up, 200);
    for (f, _) in rest {
        chief.store.add_fix(id, f.clone()).unwrap();
    }
    chief.store.stop_patrol(id).unwrap();
    let r = chief.sync();
    assert_eq!(
        r.patrols_up, 1,
        "the header changed (stopped), so it goes again"
    );
    assert_eq!(r.fixes_up as usize, rest.len(), "only the new fixes");
    sup.sync();
    assert_same_fixes(&sup, &chief, id);
    assert_eq!(
        sup.store.patrol(id).unwrap().state,
        patrol_core::PatrolState::Stopped
    );
}

#[test]
fn a_supervisor_can_tell_an_imported_patrol_from_a_recorded_one() {
    let server = TestServer::start();
    let (_, chief_code) = server.add_user("王芳", Role::Chief, Scope::Own);
    let (_, sup_code) = server.add_user("李主任", Role::Supervisor, Scope::District);
    let mut chief = Device::enrol(&server.url(), &chief_code);
    let mut sup = Device::enrol(&server.url(), &sup_code);

    let recorded = record_patrol(&mut chief, 300, 5);
    let gpx = r#"<?xml version="1.0"?><gpx version="1.1" creator="logger"><trk><name>东街</name><trkseg>
        <trkpt lat="39.9040" lon="116.1935"><time>2024-12-02T01:00:00Z</time></trkpt>
        <trkpt lat="39.9044" lon="116.1935"><time>2024-12-02T01:00:30Z</time></trkpt>
        <trkpt lat="39.9048" lon="116.1935"><time>2024-12-02T01:01:00Z</time></trkpt>
        </trkseg></trk></gpx>"#;
    let file = chief.dir.path().join("walk.gpx");
    std::fs::write(&file, gpx).unwrap();
    let parsed = patrol_core::track::load_track_file(&file, 0).unwrap();
    let imported = chief
        .store
        .import_track(&parsed, &Default::default(), &mut |_, _| {})
        .unwrap()
        .patrol_id;
    assert_eq!(
        chief.store.patrol(imported).unwrap().origin,
        Some(PatrolSource::Imported)
    );
    chief.sync();
    sup.sync();
    for (id, origin) in [
        (recorded, PatrolSource::Recorded),
        (imported, PatrolSource::Imported),
    ] {
        let info = sup.store.patrol(id).unwrap();
        assert_eq!(
            (info.source, info.origin),
            (PatrolSource::Synced, Some(origin))
        );
    }
}
