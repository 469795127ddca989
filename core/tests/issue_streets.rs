//! An issue reported without a street lands on the street its location matches, when the store
//! has a street network; without a network, or far from any street, it has none.

use patrol_core::issues::NewIssue;
use patrol_core::streets::StreetImportOptions;
use patrol_core::{Role, Store, StoreConfig};

#[test]
fn reported_issues_find_their_street() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("a.db"), StoreConfig::default()).unwrap();
    store.init_device("王芳", Role::Chief, None).unwrap();

    let before = store
        .report_issue(NewIssue::at("litter", 39.9075, 116.19362))
        .unwrap();
    assert_eq!(before.issue.location.street_id, None, "no network yet");

    let geojson = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"name":"八角西街"},"geometry":{"type":"LineString","coordinates":[[116.1935,39.9040],[116.1937,39.9110]]}},
        {"type":"Feature","properties":{"name":"古城小巷"},"geometry":{"type":"LineString","coordinates":[[116.2010,39.9040],[116.2010,39.9110]]}}]}"#;
    store
        .import_streets_file(
            std::path::Path::new("n.geojson"),
            geojson.as_bytes(),
            &StreetImportOptions::default(),
        )
        .unwrap();
    let xijie = store.resolve_street("八角西街").unwrap().to_string();

    // Eight metres east of 八角西街.
    let near = store
        .report_issue(NewIssue::at("overflowing_bin", 39.9075, 116.19370))
        .unwrap();
    assert_eq!(
        near.issue.location.street_id.as_deref(),
        Some(xijie.as_str())
    );
    assert!(near.issue.location.segment_id.is_some());

    // In the middle of a block, 300 m from both streets: no street.
    let far = store
        .report_issue(NewIssue::at("greening", 39.9075, 116.1973))
        .unwrap();
    assert_eq!(far.issue.location.street_id, None);

    // A street given by the reporter, by name, is stored as that street's id; a street the
    // network does not know is refused (it would reach nobody).
    let mut given = NewIssue::at("litter", 39.9075, 116.19370);
    given.street_id = Some("八角西街".into());
    assert_eq!(
        store
            .report_issue(given)
            .unwrap()
            .issue
            .location
            .street_id
            .as_deref(),
        Some(xijie.as_str())
    );
    let mut unknown = NewIssue::at("litter", 39.9075, 116.19370);
    unknown.street_id = Some("my-street".into());
    assert!(store.report_issue(unknown).is_err());
}
