use std::sync::Arc;

use super::*;
use crate::clock::FixedClock;
use crate::domain::Role;
use crate::error::Error;
use crate::geodesy::{haversine_distance_m, wgs84_to_gcj02};
use crate::store::{Store, StoreConfig};
use crate::track::{Motion, gpx::parse_gpx_at};

const T0: i64 = 1_714_550_400_000; // 2024-05-01T08:00:00Z
const M_PER_DEG: f64 = 111_195.08;

fn store() -> Store {
    file_store(std::path::Path::new(":memory:"), true)
}

/// A store in the file at `path` with the test clock; `init` sets the chief up (a new file).
fn file_store(path: &std::path::Path, init: bool) -> Store {
    let mut s =
        Store::open_with_clock(path, StoreConfig::default(), Arc::new(FixedClock(T0))).unwrap();
    if init {
        s.init_device("张伟", Role::Chief, None).unwrap();
    }
    s
}

fn walk_fix(i: i64) -> NewFix {
    NewFix::at(39.9 + i as f64 * 1.4 / M_PER_DEG, 116.2, T0 + i * 1000).with_accuracy(5.0)
}

#[test]
fn record_a_patrol_end_to_end() {
    let mut s = store();
    let id = s
        .start_patrol(&["street-a".into(), "street-b".into()])
        .unwrap();
    assert_eq!(s.open_patrol().unwrap(), Some(id));
    for i in 0..60 {
        let out = s.add_fix(id, walk_fix(i)).unwrap();
        assert_eq!(out.seq, i);
        assert_eq!(out.verdict, FixVerdict::Kept);
    }
    s.pause_patrol(id).unwrap();
    assert!(matches!(
        s.add_fix(id, walk_fix(60)),
        Err(Error::PatrolNotRecording { .. })
    ));
    s.resume_patrol(id).unwrap();
    // After the pause the walk continues 100 m further on: no distance bridges the pause.
    for i in 0..40 {
        s.add_fix(
            id,
            NewFix::at(
                39.9 + (200.0 + i as f64 * 1.4) / M_PER_DEG,
                116.2,
                T0 + 200_000 + i * 1000,
            ),
        )
        .unwrap();
    }
    let stats = s.stop_patrol(id).unwrap();
    assert_eq!(stats.fixes_read, 100);
    assert_eq!(stats.segments, 2);
    let expected = 59.0 * 1.4 + 39.0 * 1.4;
    assert!(
        (stats.distance_m - expected).abs() < 0.5,
        "{} vs {expected}",
        stats.distance_m
    );
    let info = s.patrol(id).unwrap();
    assert_eq!(info.state, PatrolState::Stopped);
    assert_eq!(
        info.planned_streets,
        vec!["street-a".to_string(), "street-b".into()]
    );
    assert_eq!(info.summary.unwrap().fixes_read, 100);
    assert!(matches!(
        s.stop_patrol(id),
        Err(Error::PatrolTransition { .. })
    ));
    assert_eq!(s.open_patrol().unwrap(), None);
}

#[test]
fn one_open_patrol_at_a_time() {
    let mut s = store();
    let a = s.start_patrol(&[]).unwrap();
    assert!(matches!(s.start_patrol(&[]), Err(Error::PatrolAlreadyActive(x)) if x == a));
    s.stop_patrol(a).unwrap();
    s.start_patrol(&[]).unwrap();
}

#[test]
fn bad_input_is_refused_and_nothing_stored() {
    let mut s = store();
    let id = s.start_patrol(&[]).unwrap();
    let mut cases: Vec<(&str, NewFix)> = vec![];
    let mut f = walk_fix(0);
    f.lat = f64::NAN;
    cases.push(("NaN latitude", f));
    let mut f = walk_fix(0);
    f.lon = 181.0;
    cases.push(("longitude out of range", f));
    let mut f = walk_fix(0);
    f.lat = -90.5;
    cases.push(("latitude out of range", f));
    let mut f = walk_fix(0);
    (f.lat, f.lon) = (0.0, 0.0);
    cases.push(("(0, 0)", f));
    cases.push(("negative accuracy", walk_fix(0).with_accuracy(-1.0)));
    let mut f = walk_fix(0);
    f.speed_mps = Some(f64::INFINITY);
    cases.push(("infinite speed", f));
    let mut f = walk_fix(0);
    f.time_ms = None;
    cases.push(("no time", f));
    for (what, fix) in cases {
        let err = s.add_fix(id, fix).unwrap_err();
        assert!(matches!(err, Error::InvalidFix { .. }), "{what}: {err:?}");
        assert!(err.to_string().starts_with("invalid fix"), "{what}: {err}");
    }
    assert!(s.fixes(id).unwrap().is_empty());
    // An unknown patrol.
    let err = s.add_fix(PatrolId::new(), walk_fix(0)).unwrap_err();
    assert!(matches!(err, Error::UnknownPatrol(_)), "{err:?}");
    // A batch with one bad fix stores nothing.
    let mut batch: Vec<_> = (0..10).map(walk_fix).collect();
    batch[7].lon = f64::NAN;
    let err = s.add_fixes(id, &batch).unwrap_err().to_string();
    assert!(err.contains("fix 7 of the batch"), "{err}");
    assert!(s.fixes(id).unwrap().is_empty());
}

#[test]
fn backwards_and_duplicate_timestamps_get_verdicts() {
    let mut s = store();
    let id = s.start_patrol(&[]).unwrap();
    let v: Vec<FixVerdict> = [
        walk_fix(0),
        walk_fix(1),
        walk_fix(1),
        walk_fix(0),
        walk_fix(2),
    ]
    .into_iter()
    .map(|f| s.add_fix(id, f).unwrap().verdict)
    .collect();
    use FixVerdict::*;
    assert_eq!(v, vec![Kept, Kept, Duplicate, OutOfOrder, Kept]);
    assert_eq!(s.fixes(id).unwrap().len(), 5, "every fix is stored");
}

#[test]
fn batches_match_single_appends() {
    let fixes: Vec<_> = (0..500)
        .map(|i| {
            let mut f = walk_fix(i);
            if i % 50 == 25 {
                f.lat += 300.0 / M_PER_DEG; // a spike
            }
            f
        })
        .collect();
    let mut a = store();
    let pa = a.start_patrol(&[]).unwrap();
    for f in &fixes {
        a.add_fix(pa, f.clone()).unwrap();
    }
    let mut b = store();
    let pb = b.start_patrol(&[]).unwrap();
    let out = b.add_fixes(pb, &fixes[..200]).unwrap();
    assert_eq!((out.first_seq, out.count), (0, 200));
    let out = b.add_fixes(pb, &fixes[200..]).unwrap();
    assert_eq!(out.first_seq, 200);
    let verdicts = |s: &Store, p| {
        s.fixes(p)
            .unwrap()
            .into_iter()
            .map(|f| f.verdict)
            .collect::<Vec<_>>()
    };
    assert_eq!(verdicts(&a, pa), verdicts(&b, pb));
    assert_eq!(
        a.verdict_counts(pa).unwrap()[&FixVerdict::ImpossibleSpeed],
        10
    );
}

#[test]
fn recorder_state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    let id;
    {
        let mut s = file_store(&path, true);
        id = s.start_patrol(&[]).unwrap();
        for i in 0..10 {
            s.add_fix(id, walk_fix(i)).unwrap();
        }
        // No close: as if the app were killed.
    }
    let mut s = file_store(&path, false);
    // The spike is judged against the last kept fix from before the restart.
    let mut spike = walk_fix(10);
    spike.lat += 500.0 / M_PER_DEG;
    let out = s.add_fix(id, spike).unwrap();
    assert_eq!((out.seq, out.verdict), (10, FixVerdict::ImpossibleSpeed));
    assert_eq!(
        s.add_fix(id, walk_fix(11)).unwrap().verdict,
        FixVerdict::Kept
    );
}

#[test]
fn stationary_advice_reaches_the_host() {
    let mut s = store();
    let id = s.start_patrol(&[]).unwrap();
    let mut transitions = vec![];
    for i in 0..90 {
        let out = s
            .add_fix(
                id,
                NewFix::at(39.9, 116.2 + (i % 3) as f64 * 1e-5, T0 + i * 1000),
            )
            .unwrap();
        if out.sampling.changed {
            transitions.push(out.sampling.motion);
        }
    }
    assert_eq!(transitions, vec![Motion::Stationary]);
}

#[test]
fn gcj02_fixes_are_stored_as_wgs84() {
    let mut s = store();
    let id = s.start_patrol(&[]).unwrap();
    let (glat, glon) = wgs84_to_gcj02(39.9, 116.2);
    let mut f = NewFix::at(glat, glon, T0);
    f.datum = Datum::Gcj02;
    s.add_fix(id, f).unwrap();
    let stored = &s.fixes(id).unwrap()[0];
    assert!(haversine_distance_m(stored.lat, stored.lon, 39.9, 116.2) < 0.01);
}

#[test]
fn import_is_all_or_nothing() {
    let gpx = br#"<gpx version="1.1"><trk><name>t</name>
      <trkseg><trkpt lat="39.9" lon="116.2"><time>2024-05-01T08:00:00Z</time></trkpt>
              <trkpt lat="39.9001" lon="116.2"><time>2024-05-01T08:00:10Z</time></trkpt>
              <trkpt lat="0" lon="0"><time>2024-05-01T08:00:20Z</time></trkpt></trkseg>
      <trkseg><trkpt lat="39.9002" lon="116.2"><time>2024-05-01T08:00:30Z</time></trkpt></trkseg></trk></gpx>"#;
    let track = parse_gpx_at(gpx, T0 + 1_000_000_000).unwrap();
    let mut s = store();
    let report = s
        .import_track(&track, &ImportOptions::default(), &mut |_, _| {})
        .unwrap();
    assert_eq!(report.stats.fixes_read, 4);
    assert_eq!(report.stats.fixes_kept, 3);
    assert_eq!(report.stats.rejected["invalid_coordinates"], 1);
    assert_eq!(report.stats.segments, 2);
    assert_eq!(report.stats.duration_s, 30.0);
    // The invalid fix does not count in the raw distance: 11.1 m in the first segment only.
    assert!(
        (report.stats.raw_distance_m - 11.12).abs() < 0.05,
        "{}",
        report.stats.raw_distance_m
    );
    let info = s.patrol(report.patrol_id).unwrap();
    assert_eq!(info.source, PatrolSource::Imported);
    assert_eq!(info.state, PatrolState::Stopped);
    assert_eq!(info.started_at_ms, T0);

    // An interrupted import leaves nothing behind.
    let before = s.list_patrols().unwrap().len();
    let handle = s.interrupt_handle();
    let result = s.import_track(&track, &ImportOptions::default(), &mut |_, _| {
        handle.interrupt()
    });
    // The interrupt lands on the next statement; either the import finished first, or nothing of it exists.
    match result {
        Ok(_) => assert_eq!(s.list_patrols().unwrap().len(), before + 1),
        Err(e) => {
            assert!(matches!(e, Error::Interrupted), "{e:?}");
            assert_eq!(s.list_patrols().unwrap().len(), before);
        }
    }
}

/// A GPX track of `n` points walking north at 1.4 m/s, one a second.
fn long_gpx(n: usize) -> Vec<u8> {
    let mut gpx = String::from(r#"<gpx version="1.1"><trk><name>long</name><trkseg>"#);
    for i in 0..n {
        let lat = 39.9 + i as f64 * 1.4 / M_PER_DEG;
        let time = crate::track::export::format_time_ms(T0 + i as i64 * 1000);
        gpx.push_str(&format!(
            r#"<trkpt lat="{lat:.7}" lon="116.2"><time>{time}</time></trkpt>"#
        ));
    }
    gpx.push_str("</trkseg></trk></gpx>");
    gpx.into_bytes()
}

#[test]
fn a_cancelled_import_stores_nothing() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let track = parse_gpx_at(&long_gpx(10_000), T0 + 1_000_000_000).unwrap();
    let mut s = store();
    let cancel = AtomicBool::new(false);
    let mut reports = vec![];
    let err = s
        .import_track_with_cancel(
            &track,
            &ImportOptions::default(),
            &mut |done, total| {
                reports.push((done, total));
                cancel.store(true, Ordering::Relaxed);
            },
            &cancel,
        )
        .unwrap_err();
    assert!(matches!(err, Error::Interrupted), "{err:?}");
    assert_eq!(
        reports,
        vec![(4096, 10_000)],
        "stopped within the next few hundred points"
    );
    assert!(
        s.list_patrols().unwrap().is_empty(),
        "the rolled-back import left nothing"
    );
    let fixes: i64 = s
        .connection()
        .query_row("SELECT COUNT(*) FROM fix", [], |r| r.get(0))
        .unwrap();
    assert_eq!(fixes, 0);

    // Not cancelled: the same track imports whole, and progress ends at the total.
    let cancel = AtomicBool::new(false);
    let mut last = (0, 0);
    let report = s
        .import_track_with_cancel(
            &track,
            &ImportOptions::default(),
            &mut |d, t| last = (d, t),
            &cancel,
        )
        .unwrap();
    assert_eq!(report.stats.fixes_read, 10_000);
    assert_eq!(last, (10_000, 10_000));
}

#[test]
fn export_writes_gpx_and_geojson_from_the_store() {
    use crate::track::export::ExportFixes;
    let mut s = store();
    let id = s.start_patrol(&[]).unwrap();
    let mut spike = walk_fix(5);
    spike.lat += 500.0 / M_PER_DEG;
    for f in (0..5)
        .map(walk_fix)
        .chain([spike])
        .chain((6..10).map(walk_fix))
    {
        s.add_fix(id, f).unwrap();
    }
    s.stop_patrol(id).unwrap();

    let gpx = s
        .export_track(id, TrackExportFormat::Gpx, Datum::Wgs84, ExportFixes::Kept)
        .unwrap();
    let back = parse_gpx_at(gpx.as_bytes(), T0 + 1_000_000_000).unwrap();
    assert_eq!(back.point_count(), 9, "the spike is left out");
    assert_eq!(back.name, Some(format!("patrol {id}")));
    let all = s
        .export_track(id, TrackExportFormat::Gpx, Datum::Wgs84, ExportFixes::All)
        .unwrap();
    assert_eq!(
        parse_gpx_at(all.as_bytes(), T0 + 1_000_000_000)
            .unwrap()
            .point_count(),
        10
    );

    let geojson = s
        .export_track(
            id,
            TrackExportFormat::GeoJson,
            Datum::Gcj02,
            ExportFixes::Kept,
        )
        .unwrap();
    let g: serde_json::Value = serde_json::from_str(&geojson).unwrap();
    let props = &g["features"][0]["properties"];
    assert_eq!(props["patrol_id"], id.to_string());
    assert_eq!(props["datum"], "gcj02");
    assert_eq!(props["fixes_kept"], 9);
    let first = &g["features"][0]["geometry"]["coordinates"][0][0];
    let (glat, glon) = wgs84_to_gcj02(39.9, 116.2);
    assert!(
        (first[0].as_f64().unwrap() - glon).abs() < 1e-6
            && (first[1].as_f64().unwrap() - glat).abs() < 1e-6
    );

    assert!(matches!(
        s.export_track(
            PatrolId::new(),
            TrackExportFormat::Gpx,
            Datum::Wgs84,
            ExportFixes::Kept
        ),
        Err(Error::UnknownPatrol(_))
    ));
}

#[test]
fn sampling_advice_without_a_fix_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    let id;
    {
        let mut s = file_store(&path, true);
        id = s.start_patrol(&[]).unwrap();
        assert_eq!(s.sampling_advice(id).unwrap().motion, Motion::Moving);
        for i in 0..90 {
            s.add_fix(
                id,
                NewFix::at(39.9, 116.2 + (i % 3) as f64 * 1e-5, T0 + i * 1000),
            )
            .unwrap();
        }
        let advice = s.sampling_advice(id).unwrap();
        assert_eq!(
            (advice.motion, advice.interval_s, advice.changed),
            (Motion::Stationary, 15, false)
        );
    }
    let s = file_store(&path, false);
    assert_eq!(
        s.sampling_advice(id).unwrap().motion,
        Motion::Stationary,
        "rebuilt from the stored fixes"
    );
    assert!(s.recorders.is_empty(), "asking does not cache a recorder");
    assert!(matches!(
        s.sampling_advice(PatrolId::new()),
        Err(Error::UnknownPatrol(_))
    ));
}

#[test]
fn loading_a_missing_track_file_names_it() {
    let err = crate::track::load_track_file(std::path::Path::new("/nonexistent/walk.gpx"), T0)
        .unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("/nonexistent/walk.gpx"), "{err}");
}
