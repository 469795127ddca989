//! The street network from the real Beijing OpenStreetMap extracts in ../shared/data/osm
//! (Chinese names, one-way dual carriageways, footways): import counts and lengths agree with an
//! independent scan; simulated walks along real streets are covered as walked; bad files and
//! codes are refused with nothing written.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use patrol_core::streets::StreetImportOptions;
use patrol_core::{Error, NewFix, Role, Store, StoreConfig, StreetId};
use patrol_model::sim::{ReceiverModel, SimRng, simulate_walk};
use patrol_tests::{NaiveWay, independent_length_m, naive_osm_highways, shared_data};

fn osm_files() -> Option<Vec<PathBuf>> {
    let dir = shared_data("osm")?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "osm"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 2,
        "expected the shared OSM extracts, found {files:?}"
    );
    Some(files)
}

fn wudaokou() -> Option<PathBuf> {
    osm_files()?
        .into_iter()
        .find(|p| p.to_string_lossy().contains("wudaokou"))
}

fn counts(store: &Store) -> (i64, i64, i64, i64) {
    let c = store.connection();
    let n = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    (
        n("SELECT COUNT(*) FROM street"),
        n("SELECT COUNT(*) FROM segment"),
        n("SELECT COUNT(*) FROM street_assignment"),
        n("SELECT COUNT(*) FROM signboard"),
    )
}

fn new_store() -> Store {
    let mut store = Store::open_in_memory(StoreConfig::default()).unwrap();
    store.init_device("测试", Role::Chief, None).unwrap();
    store
}

fn import(store: &mut Store, path: &Path) -> patrol_core::streets::StreetImportReport {
    let bytes = std::fs::read(path).unwrap();
    store
        .import_streets_file(path, &bytes, &StreetImportOptions::default())
        .unwrap()
}

#[test]
fn real_extracts_import_with_independently_computed_counts_and_lengths() {
    let Some(files) = osm_files() else { return };
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let ways = naive_osm_highways(&text);
        let names: BTreeSet<&str> = ways.iter().filter_map(|w| w.name.as_deref()).collect();
        let unnamed = ways.iter().filter(|w| w.name.is_none()).count();
        let lengths: Vec<f64> = ways
            .iter()
            .map(|w| independent_length_m(&w.points))
            .collect();
        let total: f64 = lengths.iter().sum();
        let segments: u64 = lengths
            .iter()
            .map(|l| ((l / 200.0).ceil() as u64).max(1))
            .sum();

        let mut store = new_store();
        let r = import(&mut store, &path);
        assert_eq!(r.lines_read as usize, ways.len(), "{name}: highway ways");
        assert_eq!(r.streets as usize, names.len() + unnamed, "{name}: streets");
        assert_eq!(
            r.named_streets as usize,
            names.len(),
            "{name}: named streets"
        );
        assert_eq!(r.segments, segments, "{name}: segments of at most 200 m");
        assert!(
            (r.total_length_m - total).abs() < 1e-6 * total,
            "{name}: {} vs {total}",
            r.total_length_m
        );
        let (streets, segs, _, _) = counts(&store);
        assert_eq!((streets as u64, segs as u64), (r.streets, r.segments));
        let stored: f64 = store.segments().unwrap().iter().map(|s| s.length_m).sum();
        assert!((stored - total).abs() < 1e-6 * total);
        assert!(
            store
                .segments()
                .unwrap()
                .iter()
                .all(|s| s.length_m <= 200.0 + 0.01)
        );

        // Chinese names arrive intact, and each named street's length is the sum of its ways.
        let listed = store.streets().unwrap();
        for n in &names {
            let s = listed
                .iter()
                .find(|s| s.street.name.as_deref() == Some(n))
                .unwrap_or_else(|| panic!("{name}: {n} missing"));
            let expected: f64 = ways
                .iter()
                .filter(|w| w.name.as_deref() == Some(n))
                .map(|w| independent_length_m(&w.points))
                .sum();
            assert!(
                (s.street.length_m - expected).abs() < 1e-6 * expected.max(1.0),
                "{n}"
            );
        }

        // Importing the same file again updates the same streets: ids survive, nothing doubles.
        let ids: BTreeSet<StreetId> = listed.iter().map(|s| s.street.id).collect();
        let again = import(&mut store, &path);
        assert_eq!((again.streets_new, again.streets_updated), (0, r.streets));
        let ids_again: BTreeSet<StreetId> = store
            .streets()
            .unwrap()
            .iter()
            .map(|s| s.street.id)
            .collect();
        assert_eq!(ids, ids_again);
        assert_eq!(counts(&store).1 as u64, r.segments);
    }
}

#[test]
fn the_exported_geojson_imports_back_to_the_same_network() {
    let Some(path) = wudaokou() else { return };
    let mut store = new_store();
    let r = import(&mut store, &path);
    let doc = store.export_streets_geojson().unwrap();
    assert_eq!(doc["features"].as_array().unwrap().len() as u64, r.segments);
    let bytes = serde_json::to_vec(&doc).unwrap();
    let mut other = new_store();
    let back = other
        .import_streets_file(
            Path::new("net.geojson"),
            &bytes,
            &StreetImportOptions::default(),
        )
        .unwrap();
    assert_eq!(back.streets, r.streets);
    assert_eq!(
        back.segments, r.segments,
        "segments already short are not split again"
    );
    assert!((back.total_length_m - r.total_length_m).abs() < 0.01 * r.segments as f64);
}

/// The ways of a named street chained end to end into one route.
fn chained_route(ways: &[NaiveWay], name: &str) -> Vec<(f64, f64)> {
    let mut parts: Vec<Vec<(f64, f64)>> = ways
        .iter()
        .filter(|w| w.name.as_deref() == Some(name))
        .map(|w| w.points.clone())
        .collect();
    assert!(!parts.is_empty(), "{name} not in the file");
    // Start with the part whose first point ends no other part.
    let start = (0..parts.len())
        .find(|&i| !parts.iter().any(|p| p.last() == parts[i].first()))
        .unwrap_or(0);
    let mut route = parts.remove(start);
    while !parts.is_empty() {
        let next = parts
            .iter()
            .position(|p| p.first() == route.last())
            .unwrap_or_else(|| panic!("{name} does not chain"));
        let p = parts.remove(next);
        route.extend(p.into_iter().skip(1));
    }
    route
}

/// The first `fraction` of a route (by length).
fn part_of(route: &[(f64, f64)], fraction: f64) -> Vec<(f64, f64)> {
    let target = independent_length_m(route) * fraction;
    let mut out = vec![route[0]];
    let mut done = 0.0;
    for w in route.windows(2) {
        let d = independent_length_m(w);
        if done + d >= target {
            let t = (target - done) / d;
            out.push((
                w[0].0 + (w[1].0 - w[0].0) * t,
                w[0].1 + (w[1].1 - w[0].1) * t,
            ));
            return out;
        }
        done += d;
        out.push(w[1]);
    }
    out
}

#[test]
fn walks_along_real_streets_are_covered_as_walked() {
    let Some(path) = wudaokou() else { return };
    let text = std::fs::read_to_string(&path).unwrap();
    let ways = naive_osm_highways(&text);
    let mut store = new_store();
    import(&mut store, &path);
    let me = store.require_device().unwrap().user_id.to_string();
    // (street, fraction walked): single ways and a street of three ways; service roads among
    // footways and cycleways of the Tsinghua campus.
    let cases = [
        ("学堂路", 1.0),
        ("新民路", 1.0),
        ("明德路", 0.6),
        ("清华西路", 1.0),
        ("紫荆路", 0.5),
    ];
    let mut n = 0u64;
    for (name, fraction) in cases {
        let street = store.resolve_street(name).unwrap();
        store.assign_street(street, &me, Role::Chief).unwrap();
        let full = chained_route(&ways, name);
        let route = part_of(&full, fraction);
        for (interval_s, sigma) in [(1.0, 5.0), (10.0, 5.0), (1.0, 15.0), (10.0, 15.0)] {
            n += 1;
            let rx = ReceiverModel {
                interval_s,
                error_sigma_m: sigma,
                ..Default::default()
            };
            let walk: Vec<NewFix> = simulate_walk(
                &route,
                1.3,
                1_733_040_000_000,
                &rx,
                None,
                &mut SimRng::new(n),
            )
            .into_iter()
            .map(|(f, _)| f)
            .collect();
            let patrol = store.start_patrol(&[street.to_string()]).unwrap();
            store.add_fixes(patrol, &walk).unwrap();
            store.stop_patrol(patrol).unwrap();
            let c = store.patrol_coverage(patrol).unwrap();
            let s = c.streets.iter().find(|s| s.street_id == street).unwrap();
            let truth = independent_length_m(&route) / independent_length_m(&full);
            assert!(
                (s.covered_ratio - truth).abs() <= 0.05,
                "{name} walked {:.0} %, {interval_s} s sampling, {sigma} m noise: coverage {:.1} %",
                truth * 100.0,
                s.covered_ratio * 100.0
            );
            assert!(s.time_s > 0.0);
        }
    }
}

#[test]
fn bad_street_files_and_codes_are_refused_and_write_nothing() {
    let Some(path) = wudaokou() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut store = Store::open(tmp.path().join("s.db"), StoreConfig::default()).unwrap();
    store.init_device("测试", Role::Chief, None).unwrap();
    import(&mut store, &path);
    let street = store.resolve_street("成府路").unwrap();
    let board = store.issue_signboard(street, Some((40.0, 116.32))).unwrap();
    let before = counts(&store);
    let opts = StreetImportOptions::default();
    let real = std::fs::read_to_string(&path).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("no-highways.osm", br#"<osm version="0.6"><node id="1" lat="40" lon="116.3"/><node id="2" lat="40.001" lon="116.3"/><way id="3"><nd ref="1"/><nd ref="2"/><tag k="building" v="yes"/></way></osm>"#.to_vec(), "no ways with a highway tag"),
        // The real file cut in the middle of an element.
        ("cut.osm", real.as_bytes()[..real.len() / 2].to_vec(), "not a well-formed OpenStreetMap XML"),
        ("broken.osm", b"<osm><way id=\"1\"><nd ref=\"1\"></way></osm>".to_vec(), "not a well-formed"),
        ("polygon.geojson", br#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"name":"A"},"geometry":{"type":"LineString","coordinates":[[116.3,40.0],[116.31,40.0]]}},
            {"type":"Feature","properties":{"name":"park"},"geometry":{"type":"Polygon","coordinates":[[[116.3,40.0],[116.31,40.0],[116.31,40.01],[116.3,40.0]]]}}]}"#.to_vec(), "feature 1 is a Polygon"),
        ("junk.geojson", b"{\"type\": ".to_vec(), "not a GeoJSON document"),
    ];
    for (file, bytes, needle) in cases {
        let e = store
            .import_streets_file(Path::new(file), &bytes, &opts)
            .unwrap_err();
        assert!(e.to_string().contains(needle), "{file}: {e}");
        assert!(
            e.to_string().contains("nothing was imported"),
            "{file}: {e}"
        );
        assert_eq!(counts(&store), before, "{file} changed the store");
    }
    assert!(matches!(
        store.resolve_street("不存在的路"),
        Err(Error::Streets(_))
    ));
    assert!(
        store
            .resolve_street("不存在的路")
            .unwrap_err()
            .to_string()
            .contains("no street")
    );

    // A code with a wrong check value: one character changed.
    let mut chars: Vec<char> = board.payload.chars().collect();
    let i = chars.len() / 2;
    chars[i] = if chars[i] == 'x' { 'y' } else { 'x' };
    let typo: String = chars.into_iter().collect();
    let e = store.scan_signboard(&typo, None).unwrap_err();
    assert!(e.to_string().contains("failed verification"), "{e}");
    let ok = store.scan_signboard(&board.link, None).unwrap();
    assert_eq!(ok.street_id, street);
    assert_eq!(ok.street_name.as_deref(), Some("成府路"));
    assert!(store.quick_check().unwrap().is_empty());
}
