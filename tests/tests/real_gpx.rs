//! Every real device track in ../shared/data/gpx imports with the right counts, or (the
//! malformed and the empty one) fails cleanly with the store unchanged.

use patrol_core::patrol::ImportOptions;
use patrol_core::track::read_track_file;
use patrol_core::{Role, Store, StoreConfig};
use patrol_tests::{independent_haversine_m, naive_gpx_segments, shared_data};

fn table_counts(store: &Store) -> (i64, i64, i64) {
    let c = store.connection();
    let n = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    (
        n("SELECT COUNT(*) FROM patrol"),
        n("SELECT COUNT(*) FROM fix"),
        n("SELECT COUNT(*) FROM patrol_event"),
    )
}

#[test]
fn every_real_gpx_file_imports_or_fails_cleanly() {
    let Some(dir) = shared_data("gpx") else {
        return;
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("gpx" | "xml")))
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "expected the shared GPX files, found {files:?}"
    );

    let tmp = tempfile::tempdir().unwrap();
    let mut store = Store::open(tmp.path().join("real.db"), StoreConfig::default()).unwrap();
    store.init_device("测试", Role::Chief, None).unwrap();
    let now = store.clock().now_ms();
    let mut imported = 0;
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let expected: Vec<Vec<(f64, f64)>> = if text.contains("<gpx") {
            naive_gpx_segments(&text)
        } else {
            vec![]
        };
        let expected_points: usize = expected.iter().map(Vec::len).sum();
        let before = table_counts(&store);

        let result = read_track_file(path, &bytes, now)
            .map_err(patrol_core::Error::from)
            .and_then(|t| store.import_track(&t, &ImportOptions::default(), &mut |_, _| {}));
        match result {
            Ok(report) => {
                imported += 1;
                let s = &report.stats;
                assert_eq!(s.fixes_read as usize, expected_points, "{name}: points");
                let non_empty = expected.iter().filter(|s| !s.is_empty()).count();
                assert_eq!(s.segments as usize, non_empty, "{name}: segments");
                let raw: f64 = expected
                    .iter()
                    .flat_map(|seg| seg.windows(2))
                    .map(|w| independent_haversine_m(w[0].0, w[0].1, w[1].0, w[1].1))
                    .sum();
                assert!(
                    (s.raw_distance_m - raw).abs() <= 1e-6 * raw.max(1.0),
                    "{name}: raw {} vs {raw}",
                    s.raw_distance_m
                );
                assert!(
                    s.distance_m <= s.raw_distance_m + 1e-6,
                    "{name}: filtered longer than raw"
                );
                let rejected: u64 = s.rejected.values().sum();
                assert_eq!(
                    s.fixes_kept + rejected,
                    s.fixes_read,
                    "{name}: every fix has one verdict"
                );
                let after = table_counts(&store);
                assert_eq!(after.0, before.0 + 1, "{name}: one patrol");
                assert_eq!(
                    after.1,
                    before.1 + expected_points as i64,
                    "{name}: every point stored"
                );
            }
            Err(e) => {
                assert!(
                    name.contains("badcharacter") || expected_points == 0,
                    "{name} should have imported but failed: {e}"
                );
                assert!(!e.to_string().is_empty());
                assert_eq!(
                    table_counts(&store),
                    before,
                    "{name}: a failed import changes nothing"
                );
            }
        }
    }
    assert!(imported >= 9, "only {imported} files imported");
    assert!(store.quick_check().unwrap().is_empty());
}

#[test]
fn garmin_walk_has_its_known_shape() {
    let Some(dir) = shared_data("gpx") else {
        return;
    };
    let path = dir.join("georust-gpx__garmin-activity.gpx");
    let bytes = std::fs::read(&path).unwrap();
    let mut store = Store::open_in_memory(StoreConfig::default()).unwrap();
    store.init_device("测试", Role::Chief, None).unwrap();
    let track = read_track_file(&path, &bytes, store.clock().now_ms()).unwrap();
    let r = store
        .import_track(&track, &ImportOptions::default(), &mut |_, _| {})
        .unwrap();
    // A 988-point casual stroll (Garmin Connect), about 1.5 hours.
    assert_eq!(r.stats.fixes_read, 988);
    assert_eq!(r.stats.fixes_kept, 988);
    assert!(
        (5000.0..6000.0).contains(&r.stats.duration_s),
        "{}",
        r.stats.duration_s
    );
    assert!(r.stats.simplified_points < 988 && r.stats.simplified_points > 20);
    assert_eq!(r.name.as_deref(), Some("casual stroll"));
}
