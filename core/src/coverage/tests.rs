//! Matching and coverage end to end on small synthetic networks: a network imported into a real
//! store, walks simulated with GPS noise and recorded through the phone's API, coverage read back.

use std::path::Path;

use serde_json::json;

use crate::coverage::PeriodQuery;
use crate::domain::{NewFix, PatrolId, Role, StreetId};
use crate::geodesy::LocalProjection;
use crate::store::{Store, StoreConfig};
use crate::streets::StreetImportOptions;
use patrol_model::sim::{ReceiverModel, SimRng, simulate_walk};

const T0: i64 = 1_733_040_000_000;

/// A store whose network has the given streets, each a polyline in metres (x east, y north)
/// around 39.9 N 116.2 E.
fn store_with(streets: &[(&str, Vec<(f64, f64)>)]) -> (Store, LocalProjection) {
    store_at(
        Store::open_in_memory(StoreConfig::default()).unwrap(),
        streets,
    )
}

/// [`store_with`] on a store already opened (a file, say).
fn store_at(mut store: Store, streets: &[(&str, Vec<(f64, f64)>)]) -> (Store, LocalProjection) {
    let proj = LocalProjection::new(39.9, 116.2);
    let features: Vec<_> = streets
        .iter()
        .map(|(name, xy)| {
            let coords: Vec<_> = xy
                .iter()
                .map(|&(x, y)| {
                    let (lat, lon) = proj.to_degrees(x, y);
                    json!([lon, lat])
                })
                .collect();
            json!({"type": "Feature", "properties": {"name": name, "highway": "residential"},
                   "geometry": {"type": "LineString", "coordinates": coords}})
        })
        .collect();
    let doc = json!({"type": "FeatureCollection", "features": features}).to_string();
    store.init_device("测试", Role::Chief, None).unwrap();
    store
        .import_streets_file(
            Path::new("n.geojson"),
            doc.as_bytes(),
            &StreetImportOptions::default(),
        )
        .unwrap();
    (store, proj)
}

fn route_deg(proj: &LocalProjection, xy: &[(f64, f64)]) -> Vec<(f64, f64)> {
    xy.iter().map(|&(x, y)| proj.to_degrees(x, y)).collect()
}

fn record(store: &mut Store, planned: &[StreetId], fixes: Vec<NewFix>) -> PatrolId {
    let names: Vec<String> = planned.iter().map(|s| s.to_string()).collect();
    let id = store.start_patrol(&names).unwrap();
    store.add_fixes(id, &fixes).unwrap();
    store.stop_patrol(id).unwrap();
    id
}

fn walk(
    route: &[(f64, f64)],
    interval_s: f64,
    sigma: f64,
    seed: u64,
    dwell: Option<(f64, f64)>,
) -> Vec<NewFix> {
    let rx = ReceiverModel {
        interval_s,
        error_sigma_m: sigma,
        spike_probability: 0.0,
        ..Default::default()
    };
    simulate_walk(route, 1.3, T0, &rx, dwell, &mut SimRng::new(seed))
        .into_iter()
        .map(|(f, _)| f)
        .collect()
}

fn ratio_of(store: &Store, patrol: PatrolId, street: StreetId) -> f64 {
    let c = store.patrol_coverage(patrol).unwrap();
    c.streets
        .iter()
        .chain(&c.visited_unassigned)
        .find(|s| s.street_id == street)
        .map_or(0.0, |s| s.covered_ratio)
}

#[test]
fn a_walk_on_one_of_two_parallel_streets_30_m_apart_stays_on_it() {
    // Two 600 m streets 30 m apart, joined at both ends.
    let (mut store, proj) = store_with(&[
        ("南街", vec![(0.0, 0.0), (600.0, 0.0)]),
        ("北街", vec![(0.0, 30.0), (600.0, 30.0)]),
        ("西巷", vec![(0.0, 0.0), (0.0, 30.0)]),
        ("东巷", vec![(600.0, 0.0), (600.0, 30.0)]),
    ]);
    let south = store.resolve_street("南街").unwrap();
    let north = store.resolve_street("北街").unwrap();
    for (seed, interval, sigma, on_north) in [
        (1, 1.0, 8.0, false),
        (2, 10.0, 10.0, true),
        (3, 1.0, 12.0, true),
        (4, 10.0, 6.0, false),
    ] {
        let y = if on_north { 30.0 } else { 0.0 };
        let route = route_deg(&proj, &[(0.0, y), (600.0, y)]);
        let id = record(
            &mut store,
            &[south, north],
            walk(&route, interval, sigma, seed, None),
        );
        let (walked, other) = if on_north {
            (north, south)
        } else {
            (south, north)
        };
        let (rw, ro) = (ratio_of(&store, id, walked), ratio_of(&store, id, other));
        assert!(
            rw > 0.9 && ro < 0.1,
            "seed {seed}: walked street {rw:.2}, the parallel one {ro:.2}"
        );
    }
}

#[test]
fn coverage_of_part_of_a_route_is_close_to_the_truth() {
    // An L of two streets; the walk goes all of 东西街 and 40 % of 南北街.
    let (mut store, proj) = store_with(&[
        ("东西街", vec![(0.0, 0.0), (250.0, 5.0), (500.0, 0.0)]),
        ("南北街", vec![(500.0, 0.0), (500.0, 500.0)]),
    ]);
    let ew = store.resolve_street("东西街").unwrap();
    let ns = store.resolve_street("南北街").unwrap();
    let route = route_deg(
        &proj,
        &[(0.0, 0.0), (250.0, 5.0), (500.0, 0.0), (500.0, 200.0)],
    );
    for (seed, interval, sigma) in [
        (11, 1.0, 5.0),
        (12, 10.0, 5.0),
        (13, 1.0, 15.0),
        (14, 10.0, 15.0),
    ] {
        let id = record(
            &mut store,
            &[ew, ns],
            walk(&route, interval, sigma, seed, None),
        );
        let (a, b) = (ratio_of(&store, id, ew), ratio_of(&store, id, ns));
        assert!(
            (a - 1.0).abs() <= 0.05,
            "seed {seed} {interval} s {sigma} m: 东西街 {a:.3}"
        );
        assert!(
            (b - 0.4).abs() <= 0.05,
            "seed {seed} {interval} s {sigma} m: 南北街 {b:.3}"
        );
        let c = store.patrol_coverage(id).unwrap();
        assert_eq!(c.streets.len(), 2);
        assert!(c.totals.time_s > 0.8 * (700.0 / 1.3), "{}", c.totals.time_s);
    }
}

#[test]
fn standing_still_for_an_hour_covers_nothing_more() {
    let (mut store, proj) = store_with(&[("长街", vec![(0.0, 0.0), (1000.0, 0.0)])]);
    let street = store.resolve_street("长街").unwrap();
    // Walk 300 m, stand an hour, walk back 100 m; with and without platform speeds.
    let route = route_deg(&proj, &[(100.0, 0.0), (400.0, 0.0), (300.0, 0.0)]);
    for (seed, keep_speed) in [(21, true), (22, false), (23, true), (24, false)] {
        let mut fixes = walk(&route, 1.0, 10.0, seed, Some((0.75, 3600.0)));
        if !keep_speed {
            for f in &mut fixes {
                f.speed_mps = None;
                f.bearing_deg = None;
            }
        }
        let id = record(&mut store, &[street], fixes);
        let covered = ratio_of(&store, id, street) * 1000.0;
        assert!(
            (covered - 300.0).abs() < 40.0,
            "seed {seed} speeds {keep_speed}: covered {covered:.0} m of the 300 m walked"
        );
        let c = store.patrol_coverage(id).unwrap();
        assert!(
            c.totals.time_s > 3600.0,
            "time on the street includes standing: {}",
            c.totals.time_s
        );
    }
}

#[test]
fn a_jump_across_unconnected_streets_covers_nothing_between() {
    // Two streets 400 m apart, not connected: a walk on one, then (after a bus ride nobody
    // recorded) on the other. Nothing in between is covered, and nothing is credited twice.
    let (mut store, proj) = store_with(&[
        ("甲街", vec![(0.0, 0.0), (300.0, 0.0)]),
        ("乙街", vec![(0.0, 400.0), (300.0, 400.0)]),
    ]);
    let a = store.resolve_street("甲街").unwrap();
    let b = store.resolve_street("乙街").unwrap();
    let mut fixes = walk(
        &route_deg(&proj, &[(0.0, 0.0), (150.0, 0.0)]),
        5.0,
        5.0,
        31,
        None,
    );
    let later: Vec<NewFix> = walk(
        &route_deg(&proj, &[(150.0, 400.0), (300.0, 400.0)]),
        5.0,
        5.0,
        32,
        None,
    )
    .into_iter()
    .map(|mut f| {
        f.time_ms = f.time_ms.map(|t| t + 200_000);
        f
    })
    .collect();
    fixes.extend(later);
    let id = record(&mut store, &[a, b], fixes);
    let (ra, rb) = (ratio_of(&store, id, a), ratio_of(&store, id, b));
    assert!(
        (ra - 0.5).abs() < 0.07 && (rb - 0.5).abs() < 0.07,
        "{ra} {rb}"
    );
    let c = store.patrol_coverage(id).unwrap();
    assert!(c.matching.runs >= 2, "the jump ends a run");
}

#[test]
fn period_coverage_is_the_union_of_patrols_and_unassigned_visits_are_listed() {
    let (mut store, proj) = store_with(&[
        ("长街", vec![(0.0, 0.0), (1000.0, 0.0)]),
        ("小巷", vec![(1000.0, 0.0), (1000.0, 300.0)]),
    ]);
    let street = store.resolve_street("长街").unwrap();
    let alley = store.resolve_street("小巷").unwrap();
    let me = store.require_device().unwrap().user_id.to_string();
    store.assign_street(street, &me, Role::Chief).unwrap();
    // Morning: the first 600 m. Afternoon: from 400 m to the end, and up the alley.
    let morning = record(
        &mut store,
        &[],
        walk(
            &route_deg(&proj, &[(0.0, 0.0), (600.0, 0.0)]),
            5.0,
            5.0,
            41,
            None,
        ),
    );
    let afternoon_walk: Vec<NewFix> = walk(
        &route_deg(&proj, &[(400.0, 0.0), (1000.0, 0.0), (1000.0, 300.0)]),
        5.0,
        5.0,
        42,
        None,
    )
    .into_iter()
    .map(|mut f| {
        f.time_ms = f.time_ms.map(|t| t + 6 * 3600 * 1000);
        f
    })
    .collect();
    let afternoon = record(&mut store, &[], afternoon_walk);
    let one = store.patrol_coverage(morning).unwrap();
    assert_eq!(one.streets.len(), 1, "only the assigned street");
    assert!(
        (one.streets[0].covered_ratio - 0.6).abs() < 0.05,
        "{}",
        one.streets[0].covered_ratio
    );
    let two = store.patrol_coverage(afternoon).unwrap();
    assert_eq!(two.visited_unassigned.len(), 1);
    assert_eq!(two.visited_unassigned[0].street_id, alley);

    let now = store.clock().now_ms();
    let period = store
        .period_coverage(&PeriodQuery {
            from_ms: now - 3_600_000,
            to_ms: now + 3_600_000,
            user_id: Some(me),
        })
        .unwrap();
    assert_eq!(period.patrols.len(), 2);
    assert!(
        (period.streets[0].covered_ratio - 1.0).abs() < 0.05,
        "{}",
        period.streets[0].covered_ratio
    );
    assert!(period.totals.covered_m <= period.totals.length_m);
    let nobody = store
        .period_coverage(&PeriodQuery {
            from_ms: now - 3_600_000,
            to_ms: now + 3_600_000,
            user_id: Some("someone else".into()),
        })
        .unwrap();
    assert!(nobody.patrols.is_empty() && nobody.totals.covered_m == 0.0);
}

#[test]
fn a_single_point_matches_its_street_and_segment() {
    let (store, proj) = store_with(&[
        ("长街", vec![(0.0, 0.0), (1000.0, 0.0)]),
        ("小巷", vec![(500.0, 0.0), (500.0, 300.0)]),
    ]);
    let (lat, lon) = proj.to_degrees(700.0, 8.0);
    let m = store.match_point(lat, lon, Some(5.0)).unwrap().unwrap();
    assert_eq!(m.street_name.as_deref(), Some("长街"));
    assert!((m.distance_m - 8.0).abs() < 0.5);
    let seg = store
        .segments()
        .unwrap()
        .into_iter()
        .find(|s| s.id == m.segment_id)
        .unwrap();
    assert_eq!(seg.street_id, m.street_id);
    let (lat, lon) = proj.to_degrees(505.0, 200.0);
    assert_eq!(
        store
            .match_point(lat, lon, None)
            .unwrap()
            .unwrap()
            .street_name
            .as_deref(),
        Some("小巷")
    );
    let (lat, lon) = proj.to_degrees(300.0, 200.0);
    assert_eq!(
        store.match_point(lat, lon, None).unwrap(),
        None,
        "200 m from any street"
    );
    for (lat, lon) in [(f64::NAN, 116.2), (39.9, f64::INFINITY), (91.0, 116.2)] {
        assert!(
            matches!(
                store.match_point(lat, lon, None),
                Err(crate::Error::InvalidInput(_))
            ),
            "({lat}, {lon})"
        );
    }
}

#[test]
fn streets_assigned_to_the_users_name_count_as_theirs() {
    let (mut store, proj) = store_with(&[
        ("长街", vec![(0.0, 0.0), (500.0, 0.0)]),
        ("短街", vec![(0.0, 100.0), (200.0, 100.0)]),
    ]);
    let street = store.resolve_street("长街").unwrap();
    store.assign_street(street, "测试", Role::Chief).unwrap();
    let id = record(
        &mut store,
        &[],
        walk(
            &route_deg(&proj, &[(0.0, 0.0), (500.0, 0.0)]),
            5.0,
            5.0,
            51,
            None,
        ),
    );
    let c = store.patrol_coverage(id).unwrap();
    assert_eq!(c.streets.len(), 1);
    assert!(c.streets[0].assigned && c.streets[0].street_id == street);
    let now = store.clock().now_ms();
    let p = store
        .period_coverage(&PeriodQuery {
            from_ms: now - 60_000,
            to_ms: now + 60_000,
            user_id: Some("测试".into()),
        })
        .unwrap();
    assert_eq!(p.patrols, vec![id]);
    assert!(p.totals.covered_ratio > 0.9, "{}", p.totals.covered_ratio);
}

/// What a coverage amounts to, comparable: metres per segment and seconds per street.
fn figures(c: &crate::coverage::Coverage, net: &crate::spatial::IndexedNetwork) -> String {
    let mut times: Vec<_> = c.street_times_s().collect();
    times.sort_by_key(|(s, _)| *s);
    format!("{:?} {:?}", c.covered_segments_m(&net.network), times)
}

#[test]
fn many_patrols_are_matched_on_every_core_and_cached_once_stopped() {
    matched_on_every_core_and_cached(crate::Protection::Clear);
}

#[test]
fn an_encrypted_store_matches_on_every_core_too() {
    let secrets = crate::secrets::MemorySecretStore::new();
    matched_on_every_core_and_cached(crate::Protection::Encrypted(secrets));
}

fn matched_on_every_core_and_cached(protection: crate::Protection) {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        protection,
        ..StoreConfig::default()
    };
    let store = Store::open(dir.path().join("phone.db"), config).unwrap();
    let (mut store, proj) = store_at(
        store,
        &[
            ("东西街", vec![(0.0, 0.0), (600.0, 0.0)]),
            ("南北街", vec![(300.0, 0.0), (300.0, 600.0)]),
        ],
    );
    let ew = store.resolve_street("东西街").unwrap();
    let ns = store.resolve_street("南北街").unwrap();
    // More patrols than the parallel threshold, of different lengths, and one still recording.
    let mut ids = Vec::new();
    for seed in 0..90u64 {
        let end = 100.0 + (seed % 9) as f64 * 60.0;
        let route = route_deg(&proj, &[(0.0, 0.0), (300.0, 0.0), (300.0, end)]);
        ids.push(record(
            &mut store,
            &[ew, ns],
            walk(&route, 5.0, 8.0, seed, None),
        ));
    }
    let open = store.start_patrol(&[ew.to_string()]).unwrap();
    let route = route_deg(&proj, &[(0.0, 0.0), (200.0, 0.0)]);
    store
        .add_fixes(open, &walk(&route, 5.0, 8.0, 99, None))
        .unwrap();
    ids.push(open);

    let net = store.street_network().unwrap();
    let keys = store.patrol_keys(&ids).unwrap();
    // The helpers' read-only connections open on this WAL file (one per extra core, at most
    // `max_worker_threads` threads in all).
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(store.extra_readers().len(), cores.min(4) - 1);

    // While a sync holds the write lock, a report still comes out; nothing is cached and the
    // connection is not left inside a transaction.
    let other = store.open_another().unwrap();
    let other = other.connection();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let locked_out = store.patrol_coverages(&net, &keys).unwrap();
    assert!(store.connection().is_autocommit());
    let cached: i64 = store
        .connection()
        .query_row("SELECT COUNT(*) FROM patrol_coverage_cache", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(cached, 0);
    other.execute_batch("COMMIT").unwrap();

    let cold = store.patrol_coverages(&net, &keys).unwrap();
    for (i, ((c, s), (l, ls))) in cold.iter().zip(&locked_out).enumerate() {
        assert_eq!(figures(c, &net), figures(l, &net), "patrol {i}");
        assert_eq!(s, ls, "patrol {i}");
    }
    let cached: i64 = store
        .connection()
        .query_row("SELECT COUNT(*) FROM patrol_coverage_cache", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(
        cached, 90,
        "every stopped patrol cached, the recording one not"
    );
    let warm = store.patrol_coverages(&net, &keys).unwrap();
    assert_eq!(cold.len(), ids.len());
    for (i, ((c, s), (w, ws))) in cold.iter().zip(&warm).enumerate() {
        assert_eq!(
            figures(c, &net),
            figures(w, &net),
            "patrol {i}: cache differs"
        );
        assert_eq!(s, ws, "patrol {i}");
    }
    // Each patrol matched alone, on this connection only, gives what the parallel run gave,
    // in the same order.
    store.clear_coverage_cache().unwrap();
    for (i, (id, (c, s))) in ids.iter().zip(&cold).enumerate() {
        let keys = store.patrol_keys(&[*id]).unwrap();
        let alone = store.patrol_coverages(&net, &keys).unwrap();
        assert_eq!(figures(&alone[0].0, &net), figures(c, &net), "patrol {i}");
        assert_eq!(&alone[0].1, s, "patrol {i}");
        assert!(s.fixes_matched > 0, "patrol {i} matched nothing");
    }
}

#[test]
fn fixes_a_sync_brings_later_replace_a_patrols_kept_coverage() {
    let (mut store, proj) = store_with(&[("长街", vec![(0.0, 0.0), (600.0, 0.0)])]);
    let street = store.resolve_street("长街").unwrap();
    let fixes = walk(
        &route_deg(&proj, &[(0.0, 0.0), (600.0, 0.0)]),
        5.0,
        5.0,
        77,
        None,
    );
    // The whole walk recorded elsewhere, as the owner's phone holds it.
    let whole = record(&mut store, &[street], fixes.clone());
    let all = store.fixes(whole).unwrap();
    // The first half here as a synced patrol whose header says it stopped.
    let half = record(&mut store, &[street], fixes[..fixes.len() / 2].to_vec());
    store
        .connection()
        .execute(
            "UPDATE patrol SET source = 'synced' WHERE id = ?1",
            [half.to_string()],
        )
        .unwrap();
    let before = ratio_of(&store, half, street);
    let kept: i64 = store
        .connection()
        .query_row("SELECT COUNT(*) FROM patrol_coverage_cache", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(kept >= 1, "its coverage is kept");
    assert!((0.35..0.65).contains(&before), "{before}");

    // The rest arrives by sync: the kept coverage goes, the next report sees the whole walk.
    let n = store.fixes(half).unwrap().len();
    store.store_synced_fixes(half, &all[n..]).unwrap();
    let after = ratio_of(&store, half, street);
    assert!(after > 0.9, "{after} after the rest of the fixes arrived");
    assert!((after - ratio_of(&store, whole, street)).abs() < 1e-9);
}
