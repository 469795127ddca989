//! The district network on the server, kept in the server's own storage: a re-import keeps every
//! id, and a server upgraded from one that kept the network in a phone store (`network.db`)
//! signs new signboards with the same district key, so codes already printed stay valid.

use patrol_core::{Role, Store, StoreConfig};
use patrol_model::signboard::{decode_code, decode_public_key};
use patrol_model::streets::StreetImportOptions;
use patrol_server::network;
use patrol_tests::net::{THREE_STREETS, TestServer};

/// The published street rows as (id, body), sorted by id.
fn published(server: &TestServer) -> Vec<(String, serde_json::Value)> {
    let storage = server.storage();
    let mut tx = storage.read().unwrap();
    let mut rows = tx.references("street").unwrap();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

#[test]
fn a_reimport_keeps_every_street_and_segment_id_and_publishes_nothing_new() {
    let server = TestServer::start();
    let storage = server.storage();
    let file = server.network_file(&THREE_STREETS);
    let options = StreetImportOptions {
        max_segment_m: 40.0,
        ..Default::default()
    };
    let first = network::import_streets(storage.as_ref(), &file, &options).unwrap();
    assert_eq!((first.streets, first.streets_new), (3, 3));
    assert!(
        first.segments > 3,
        "streets are cut into segments: {first:?}"
    );
    let before = published(&server);
    let feed_before = storage.read().unwrap().feed_head().unwrap();

    let again = network::import_streets(storage.as_ref(), &file, &options).unwrap();
    assert_eq!((again.streets_new, again.streets_updated), (0, 3));
    assert_eq!(again.segments, first.segments);
    assert_eq!(published(&server), before, "same ids, same rows");
    assert_eq!(
        storage.read().unwrap().feed_head().unwrap(),
        feed_before,
        "an unchanged map sends devices nothing"
    );

    // Refused files publish nothing.
    let junk = server.data.join("junk.geojson");
    std::fs::write(
        &junk,
        b"{\"type\": \"FeatureCollection\", \"features\": []}",
    )
    .unwrap();
    assert!(network::import_streets(storage.as_ref(), &junk, &options).is_err());
    assert_eq!(published(&server), before);

    // Signboards name a street by id or by its one name; an unknown name is refused.
    let id = before[0].0.clone();
    network::issue_signboard(storage.as_ref(), &server.data, &id, None).unwrap();
    let e = network::issue_signboard(storage.as_ref(), &server.data, "没有这条街", None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("没有这条街"), "{e}");
}

#[test]
fn an_upgraded_server_signs_with_the_key_of_its_phone_store() {
    let server = TestServer::start();
    // What a server before this one left beside its data: a phone store holding the district
    // key, which signed the codes already printed.
    let (old_key, old_code) = {
        let mut store =
            Store::open(server.data.join("network.db"), StoreConfig::default()).unwrap();
        store
            .init_device("patrol-server", Role::Supervisor, None)
            .unwrap();
        let file = server.network_file(&THREE_STREETS);
        store
            .import_streets_file(
                &file,
                &std::fs::read(&file).unwrap(),
                &StreetImportOptions::default(),
            )
            .unwrap();
        let street = store.resolve_street("八角西街").unwrap();
        let sign = store.issue_signboard(street, None).unwrap();
        (store.district_public_key().unwrap(), sign.payload)
    };

    let storage = server.storage();
    let file = server.network_file(&THREE_STREETS);
    network::import_streets(storage.as_ref(), &file, &StreetImportOptions::default()).unwrap();
    let sign = network::issue_signboard(storage.as_ref(), &server.data, "八角西街", None).unwrap();
    let published = storage
        .read()
        .unwrap()
        .reference("district_key", "district")
        .unwrap()
        .expect("the key is published")
        .0;
    assert_eq!(published["public_key"], old_key, "the same district key");
    let key =
        ed25519_dalek::VerifyingKey::from_bytes(&decode_public_key(&old_key).unwrap()).unwrap();
    decode_code(&old_code, &[key]).expect("a code printed before the upgrade still verifies");
    decode_code(&sign.payload, &[key]).expect("and so does a new one");

    // A server that never had a phone store makes a key of its own, once.
    let fresh = TestServer::start();
    let storage = fresh.storage();
    let file = fresh.network_file(&THREE_STREETS);
    network::import_streets(storage.as_ref(), &file, &StreetImportOptions::default()).unwrap();
    let a = network::issue_signboard(storage.as_ref(), &fresh.data, "八角西街", None).unwrap();
    let b = network::issue_signboard(storage.as_ref(), &fresh.data, "八角西街", None).unwrap();
    let key_row = storage
        .read()
        .unwrap()
        .reference("district_key", "district")
        .unwrap()
        .unwrap()
        .0;
    assert_ne!(key_row["public_key"], old_key);
    let key = ed25519_dalek::VerifyingKey::from_bytes(
        &decode_public_key(key_row["public_key"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    for s in [a, b] {
        decode_code(&s.payload, &[key]).expect("both signed with the one key");
    }
}
