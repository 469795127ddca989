//! The street network is administered on the server and reaches each device, so a chief's phone
//! matches tracks and measures coverage of its assigned streets offline; signboard codes issued
//! on the server verify on the phone.

use patrol_core::streets::StreetImportOptions;
use patrol_core::sync::wire::Scope;
use patrol_core::{NewFix, Role};
use patrol_model::sim::{ReceiverModel, SimRng, simulate_walk};
use patrol_server::{admin, network};
use patrol_tests::net::{Device, THREE_STREETS, TestServer};

#[test]
fn the_network_flows_down_and_coverage_works_offline() {
    let server = TestServer::start();
    let storage = server.storage();
    let file = server.network_file(&THREE_STREETS);
    admin::add_subdistrict(storage.as_ref(), "八角街道", None).unwrap();
    let options = StreetImportOptions {
        subdistrict: Some("八角街道".into()),
        ..Default::default()
    };
    let report = network::import_streets(storage.as_ref(), &file, &options).unwrap();
    assert_eq!(report.streets, 3);
    let (chief_id, code) = server.add_user("王芳", Role::Chief, Scope::Own);
    admin::assign(storage.as_ref(), "八角西街", &chief_id, Role::Chief, true).unwrap();
    let sign = network::issue_signboard(
        storage.as_ref(),
        &server.data,
        "八角西街",
        Some((39.9075, 116.1936)),
    )
    .unwrap();

    let mut chief = Device::enrol(&server.url(), &code);
    let r = chief.sync();
    assert!(r.reference_down >= 6, "{r:?}");
    let streets = chief.store.streets().unwrap();
    assert_eq!(streets.len(), 3);
    let mine = chief.store.assignments_of(&chief_id.to_string()).unwrap();
    assert_eq!(mine.len(), 1);
    let xijie = chief.store.resolve_street("八角西街").unwrap();
    assert_eq!(mine[0].street_id, xijie);

    // The phone walks its street offline and measures coverage with the server's network.
    let id = chief.store.start_patrol(&[]).unwrap();
    let walk = simulate_walk(
        &[(39.9040, 116.1935), (39.9110, 116.1937)],
        1.4,
        1_733_040_000_000,
        &ReceiverModel::default(),
        None,
        &mut SimRng::new(4),
    );
    for (f, _) in &walk {
        chief.store.add_fix(id, f.clone()).unwrap();
    }
    // The signboard issued on the server verifies on the phone: a check-in.
    let scanned = chief.store.scan_signboard(&sign.link, None).unwrap();
    assert_eq!(scanned.street_id, xijie);
    chief.store.stop_patrol(id).unwrap();
    let cov = chief.store.patrol_coverage(id).unwrap();
    let xi = cov.streets.iter().find(|s| s.street_id == xijie).unwrap();
    assert!(xi.covered_ratio > 0.9, "{xi:?}");

    // A re-import that changes nothing publishes nothing; a changed street is sent again.
    let before = storage.read().unwrap().feed_head().unwrap();
    network::import_streets(storage.as_ref(), &file, &options).unwrap();
    assert_eq!(storage.read().unwrap().feed_head().unwrap(), before);
    let r = chief.sync();
    assert_eq!(r.reference_down, 0);

    // A forged signboard code (signed by another key) is refused on the phone.
    let other_key_code = {
        let mut other = patrol_core::Store::open_in_memory(Default::default()).unwrap();
        other.init_device("x", Role::Supervisor, None).unwrap();
        other
            .import_streets_file(&file, &std::fs::read(&file).unwrap(), &options)
            .unwrap();
        let s = other.resolve_street("八角西街").unwrap();
        other.issue_signboard(s, None).unwrap().link
    };
    assert!(chief.store.scan_signboard(&other_key_code, None).is_err());
    let _ = NewFix::at(0.1, 0.1, 0);
}

#[test]
fn real_osm_network_reaches_the_phone() {
    let Some(dir) = patrol_tests::shared_data("osm") else {
        return;
    };
    let server = TestServer::start();
    let storage = server.storage();
    let file = dir.join("beijing_tsinghua_wudaokou__FreemanDane-PathPlanning.osm");
    let report =
        network::import_streets(storage.as_ref(), &file, &StreetImportOptions::default()).unwrap();
    let (_, code) = server.add_user("李主任", Role::Supervisor, Scope::District);
    let mut sup = Device::enrol(&server.url(), &code);
    sup.sync();
    let (streets, segments, length) = sup.store.street_totals().unwrap();
    assert_eq!(streets, report.streets);
    assert_eq!(segments, report.segments);
    assert!(
        (length - report.total_length_m).abs() < 1.0,
        "{length} vs {}",
        report.total_length_m
    );
    // A second device gets the same, in pages.
    let (_, code2) = server.add_user("张主任", Role::Supervisor, Scope::District);
    let mut sup2 = Device::enrol(&server.url(), &code2);
    let policy = patrol_core::sync::SyncPolicy {
        page_size: 50,
        ..patrol_core::sync::SyncPolicy::on(patrol_core::sync::NetworkState::Wifi)
    };
    let r = sup2.sync_with(policy).unwrap();
    assert!(r.requests > 5, "{r:?}");
    assert_eq!(sup2.store.street_totals().unwrap().1, report.segments);
}

#[test]
fn signboard_links_point_under_the_districts_public_address() {
    let server = TestServer::start();
    let storage = server.storage();
    let file = server.network_file(&THREE_STREETS);
    network::import_streets(storage.as_ref(), &file, &Default::default()).unwrap();
    let (_, code) = server.add_user("王芳", Role::Chief, Scope::District);

    // No address set: the QR code holds the bare code, which phones read all the same.
    let bare = network::issue_signboard(storage.as_ref(), &server.data, "八角西街", None).unwrap();
    assert_eq!(bare.link, bare.payload);

    // The address residents reach this server at (here the test server's own) is checked,
    // stored, and published; links point under it.
    for bad in [
        "ftp://127.0.0.1",
        "https://user:pw@127.0.0.1",
        "https://127.0.0.1/?x",
    ] {
        assert!(
            network::set_public_url(storage.as_ref(), bad).is_err(),
            "{bad}"
        );
    }
    let base = network::set_public_url(storage.as_ref(), &format!("{}/", server.url())).unwrap();
    assert_eq!(base, server.url().trim_end_matches('/'));
    let head = storage.read().unwrap().feed_head().unwrap();
    network::set_public_url(storage.as_ref(), &server.url()).unwrap();
    assert_eq!(
        storage.read().unwrap().feed_head().unwrap(),
        head,
        "setting the same address again publishes nothing"
    );
    let sign = network::issue_signboard(storage.as_ref(), &server.data, "八角西街", None).unwrap();
    assert_eq!(sign.link, format!("{base}/s/{}", sign.payload));

    // A phone receives the address with the network and lists the same links.
    let mut chief = Device::enrol(&server.url(), &code);
    chief.sync();
    let street = chief.store.resolve_street("八角西街").unwrap();
    let links: Vec<String> = chief
        .store
        .signboards_of(street)
        .unwrap()
        .into_iter()
        .map(|s| s.link)
        .collect();
    assert!(links.contains(&sign.link), "{links:?}");
    assert!(
        links.contains(&format!("{base}/s/{}", bare.payload)),
        "{links:?}"
    );
    let scanned = chief.store.scan_signboard(&sign.link, None).unwrap();
    assert_eq!(scanned.street_id, street);
}
