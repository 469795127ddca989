//! Report benchmark: the month's chief assessment for a whole district on a supervisor's store.
//!
//! The store holds what a district supervisor's phone holds after a wifi sync: 685 streets
//! (a synthetic grid, 2,129 segments), 315 chiefs with their assignments, 1,500 stewards each
//! attached to a street, 30 days of patrols (every chief every day, every steward once a week:
//! 15,879 patrols and 2.6 million fixes, GPS at 5 s with simulated receiver error), 1,500 issues taken round their
//! loop, and the stewards' pickups and points. Patrols of others arrive by sync in the same
//! tables; here they are imported through the core and given their owner, as sync does.
//!
//! Measured, each a median of several runs:
//! 1. the month's assessment with the per-patrol coverage cache warm (the normal case: a
//!    supervisor opens the report again, or after a sync brought a few new patrols), with and
//!    without opening the store and loading the network first (target < 1 s);
//! 2. the same with the cache empty: every patrol map-matched again, the baseline;
//! 3. the steward report of the month (warm).
//!
//! The month's plan (streets, people, walks, issues, pickups) is `common/district.rs`, which the
//! server's office benchmark builds into a server's data folder.
//!
//! The store takes minutes to build on a 2-core machine, so it is built once into
//! `target/bench-cache/reports-district-schema<N>.db` and reused (delete it to rebuild).
//!
//! Run: `cargo bench -p patrol-core --bench reports` (add `-- --quick` for fewer runs).

mod common;
#[path = "common/district.rs"]
mod district;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use district::{CHIEFS, DAY, DAYS, DEC_1, STEWARDS, Walker, chief_id, geojson, grid, steward_id};
use patrol_core::issues::{Assignee, NewIssue};
use patrol_core::patrol::ImportOptions;
use patrol_core::report::{Period, ReportRules};
use patrol_core::secrets::FileSecretStore;
use patrol_core::streets::StreetImportOptions;
use patrol_core::track::ParsedTrack;
use patrol_core::{Clock, Department, Protection, Role, Store, StoreConfig};
use patrol_model::sim::SimRng;
use rusqlite::params;

struct Manual(Arc<AtomicI64>);
impl Clock for Manual {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn open(path: &Path, clock: Arc<AtomicI64>) -> Store {
    let protection = if path.to_string_lossy().ends_with("-encrypted.db") {
        Protection::Encrypted(Arc::new(FileSecretStore::beside(path)))
    } else {
        Protection::Clear
    };
    let config = StoreConfig {
        photos_dir: Some(path.with_extension("photos")),
        protection,
        ..Default::default()
    };
    Store::open_with_clock(path, config, Arc::new(Manual(clock))).expect("open")
}

/// A planned walk as the track file a phone would import.
fn walk(
    route: &[(f64, f64)],
    there_and_back: bool,
    start_ms: i64,
    rng: &mut SimRng,
) -> ParsedTrack {
    ParsedTrack {
        name: None,
        segments: vec![district::walk(route, there_and_back, start_ms, rng)],
        ..Default::default()
    }
}

fn build(path: &Path) {
    let started = Instant::now();
    let clock = Arc::new(AtomicI64::new(DEC_1 - 2 * DAY));
    let mut s = open(path, clock.clone());
    s.init_device("区城管委 supervisor", Role::Supervisor, None)
        .expect("init");
    let streets = grid();
    assert_eq!(streets.len(), 685);
    let report = s
        .import_streets_file(
            Path::new("district.geojson"),
            geojson(&streets).as_bytes(),
            &StreetImportOptions {
                max_segment_m: district::MAX_SEGMENT_M,
                ..Default::default()
            },
        )
        .expect("streets");
    eprintln!(
        "  network: {} streets, {} segments",
        report.streets, report.segments
    );
    let ids: Vec<String> = streets
        .iter()
        .map(|(n, _)| s.resolve_street(n).expect("street").to_string())
        .collect();

    // People and assignments, as sync delivers them.
    {
        let tx = s.connection().unchecked_transaction().expect("tx");
        for i in 0..CHIEFS {
            tx.execute(
                "INSERT INTO user (id, name, role, created_at_ms) VALUES (?1, ?2, 'chief', 0)",
                params![chief_id(i), district::chief_name(i)],
            )
            .expect("user");
        }
        for i in 0..STEWARDS {
            tx.execute(
                "INSERT INTO user (id, name, role, created_at_ms) VALUES (?1, ?2, 'steward', 0)",
                params![steward_id(i), district::steward_name(i)],
            )
            .expect("user");
        }
        for (k, id) in ids.iter().enumerate() {
            tx.execute(
                "INSERT INTO street_assignment VALUES (?1, ?2, 'chief', 0)",
                params![id, chief_id(k % CHIEFS)],
            )
            .expect("assign");
        }
        for i in 0..STEWARDS {
            tx.execute(
                "INSERT INTO street_assignment VALUES (?1, ?2, 'steward', 0)",
                params![ids[i % ids.len()], steward_id(i)],
            )
            .expect("assign");
        }
        tx.commit().expect("commit");
    }

    // Patrols: every chief every day along one of their streets and back; every steward once a
    // week along their street. Imported as this device, then given their owner (what sync does).
    let mut rng = SimRng::new(district::WALK_SEED);
    let mut owners: Vec<(String, String)> = Vec::new();
    for day in 0..DAYS {
        for p in district::patrols_of_day(day, streets.len()) {
            clock.store(p.start_ms, Ordering::SeqCst);
            let id = s
                .import_track(
                    &walk(&streets[p.street].1, p.there_and_back, p.start_ms, &mut rng),
                    &ImportOptions::default(),
                    &mut |_, _| {},
                )
                .expect("patrol")
                .patrol_id;
            let owner = match p.walker {
                Walker::Chief(c) => chief_id(c),
                Walker::Steward(i) => steward_id(i),
            };
            owners.push((id.to_string(), owner));
        }
        eprintln!(
            "  day {}: {} patrols so far ({:.0} s)",
            day + 1,
            owners.len(),
            started.elapsed().as_secs_f64()
        );
    }
    {
        let tx = s.connection().unchecked_transaction().expect("tx");
        for (id, user) in &owners {
            tx.execute(
                "UPDATE patrol SET user_id = ?2 WHERE id = ?1",
                params![id, user],
            )
            .expect("owner");
        }
        // Pickups and points of the stewards, as sync delivers them: two a day each.
        for p in district::pickups(streets.len()) {
            tx.execute(
                "INSERT INTO litter_pickup (id, user_id, device_id, at_ms, lat, lon, bags, items, street_id) VALUES (?1, ?2, 'bench', ?3, ?4, ?5, 1, 0, ?6)",
                params![p.id, steward_id(p.steward), p.at_ms, p.lat, p.lon, ids[p.street]],
            )
            .expect("pickup");
            tx.execute(
                "INSERT INTO points_entry VALUES (?1, ?2, ?3, ?4, 'pickup', ?1, 'pickup', 1, 3, NULL)",
                params![p.id, steward_id(p.steward), p.at_ms, patrol_core::points::beijing_day(p.at_ms)],
            )
            .expect("points");
        }
        tx.commit().expect("commit");
    }

    // Issues through the core: reported on a street, assigned to the owning department, and
    // for most of them accepted and resolved with an after-photo.
    let photo_path = path.with_extension("after.jpg");
    image::RgbImage::from_fn(320, 240, |x, y| {
        image::Rgb([(x / 2) as u8, (y / 2) as u8, 90])
    })
    .save(&photo_path)
    .expect("photo");
    let photo = s.attach_photo(&photo_path).expect("attach").sha256;
    for issue in district::issues(&streets) {
        clock.store(issue.reported_at_ms, Ordering::SeqCst);
        let mut new = NewIssue::at(issue.category, issue.lat, issue.lon);
        new.street_id = Some(ids[issue.street].clone());
        let id = s.report_issue(new).expect("report").issue.id;
        if !issue.assigned {
            continue;
        }
        s.assign_issue(id, Assignee::Department(Department::Owner), None)
            .expect("assign");
        if let Some(accepted) = issue.accepted_at_ms {
            clock.store(accepted, Ordering::SeqCst);
            s.accept_issue(id).expect("accept");
        }
        if let Some(resolved) = issue.resolved_at_ms {
            clock.store(resolved, Ordering::SeqCst);
            s.resolve_issue(id, &photo, Some((issue.lat, issue.lon)), None)
                .expect("resolve");
        }
    }
    s.close().expect("close");
    eprintln!("  built in {:.0} s", started.elapsed().as_secs_f64());
}

fn cached_store() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-cache");
    std::fs::create_dir_all(&dir).expect("cache dir");
    // Named by schema version: a store built by other code is never reused.
    let path = dir.join(format!(
        "reports-district-schema{}.db",
        patrol_core::store::SCHEMA_VERSION
    ));
    if !path.exists() {
        eprintln!(
            "building the district store (once) at {} ...",
            path.display()
        );
        let tmp = path.with_extension("building");
        let _ = std::fs::remove_file(&tmp);
        build(&tmp);
        std::fs::rename(&tmp, &path).expect("rename");
    }
    path
}

/// The same store encrypted at rest as a phone keeps it (SQLCipher, its keys in a secrets file
/// beside it here): a copy of the plain one encrypted in place by opening it, built once.
fn encrypted_copy(plain: &Path, clock: Arc<AtomicI64>) -> PathBuf {
    let path = plain.with_file_name(format!(
        "reports-district-schema{}-encrypted.db",
        patrol_core::store::SCHEMA_VERSION
    ));
    if !path.exists() {
        eprintln!(
            "encrypting a copy of the district store (once) at {} ...",
            path.display()
        );
        open(plain, clock.clone()).close().expect("checkpoint");
        let _ = std::fs::remove_file(FileSecretStore::beside(&path).path());
        std::fs::copy(plain, &path).expect("copy");
        let t = Instant::now();
        open(&path, clock).close().expect("encrypt");
        eprintln!("encrypted in place in {:.1} s", t.elapsed().as_secs_f64());
    }
    path
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let runs = if quick { 3 } else { 9 };
    println!("reports benchmark on {}", common::machine());
    let path = cached_store();
    let sealed = encrypted_copy(&path, Arc::new(AtomicI64::new(DEC_1 + 40 * DAY)));
    let clock = Arc::new(AtomicI64::new(DEC_1 + 40 * DAY));
    let month = Period::parse("2024-12").expect("period");
    let rules = ReportRules::default();
    {
        let s = open(&path, clock.clone());
        let n = |sql: &str| {
            s.connection()
                .query_row(sql, [], |r| r.get::<_, i64>(0))
                .expect("count")
        };
        println!(
            "store: {} streets, {} segments, {} chiefs, {} stewards, {} patrols, {} fixes, {} issues, {} pickups; {:.0} MB",
            n("SELECT COUNT(*) FROM street"),
            n("SELECT COUNT(*) FROM segment"),
            n("SELECT COUNT(*) FROM user WHERE role = 'chief'"),
            n("SELECT COUNT(*) FROM user WHERE role = 'steward'"),
            n("SELECT COUNT(*) FROM patrol"),
            n("SELECT COUNT(*) FROM fix"),
            n("SELECT COUNT(*) FROM issue"),
            n("SELECT COUNT(*) FROM litter_pickup"),
            std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) as f64 / 1e6
        );
        // Make sure the cache is warm (the first run after a build fills it).
        let t = Instant::now();
        let r = s.assessment_report(&month, &rules).expect("assessment");
        println!(
            "first assessment (fills the cache if empty): {:.0} ms, {} chiefs",
            t.elapsed().as_secs_f64() * 1e3,
            r.chiefs.len()
        );
    }

    {
        // The encrypted copy's cache warm too.
        let s = open(&sealed, clock.clone());
        assert!(s.is_encrypted());
        let r = s.assessment_report(&month, &rules).expect("assessment");
        assert_eq!(r.chiefs.len(), CHIEFS);
    }

    // 1. Warm: open the store, load the network, assess; and the assessment alone. Each run
    // does the same on the encrypted copy right after.
    let mut with_open = Vec::new();
    let mut alone = Vec::new();
    let mut stewards = Vec::new();
    let mut sealed_open = Vec::new();
    let mut sealed_alone = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let s = open(&sealed, clock.clone());
        let r = s.assessment_report(&month, &rules).expect("assessment");
        sealed_open.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(r.chiefs.len(), CHIEFS);
        let t = Instant::now();
        s.assessment_report(&month, &rules).expect("assessment");
        sealed_alone.push(t.elapsed().as_secs_f64() * 1e3);
        drop(s);
        let t = Instant::now();
        let s = open(&path, clock.clone());
        let r = s.assessment_report(&month, &rules).expect("assessment");
        with_open.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(r.chiefs.len(), CHIEFS);
        let t = Instant::now();
        let again = s.assessment_report(&month, &rules).expect("assessment");
        alone.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(again, r);
        let t = Instant::now();
        s.steward_report(&month, &rules).expect("stewards");
        stewards.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let warm_open = common::median(&mut with_open);
    let warm = common::median(&mut alone);
    let sealed_warm_open = common::median(&mut sealed_open);
    let sealed_warm = common::median(&mut sealed_alone);

    // 2. Cold: every patrol map-matched again (the cache emptied before each run).
    let cold_runs = if quick { 1 } else { 3 };
    let mut cold = Vec::new();
    let mut sealed_cold = Vec::new();
    for _ in 0..cold_runs {
        for (store, out) in [(&path, &mut cold), (&sealed, &mut sealed_cold)] {
            let s = open(store, clock.clone());
            s.clear_coverage_cache().expect("clear");
            let t = Instant::now();
            s.assessment_report(&month, &rules).expect("assessment");
            out.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    let cold = common::median(&mut cold);
    let sealed_cold = common::median(&mut sealed_cold);

    println!();
    println!("| what | median | runs |");
    println!("| --- | --- | --- |");
    println!(
        "| month's assessment, 315 chiefs, coverage cache warm (open store + network + report) | {warm_open:.0} ms | {runs} |"
    );
    println!("| the same, store already open | {warm:.0} ms | {runs} |");
    println!(
        "| the same with the cache empty (every chief patrol map-matched again): baseline | {cold:.0} ms | {cold_runs} |"
    );
    println!("| ratio warm / cold | {:.3} | |", warm_open / cold);
    println!(
        "| month's steward report, 1,500 stewards (warm) | {:.0} ms | {runs} |",
        common::median(&mut stewards)
    );
    println!(
        "| encrypted store (SQLCipher): month's assessment, cache warm (open store + network + report) | {sealed_warm_open:.0} ms | {runs} |"
    );
    println!("| encrypted store: the same, store already open | {sealed_warm:.0} ms | {runs} |");
    println!(
        "| encrypted store: the same with the cache empty | {sealed_cold:.0} ms | {cold_runs} |"
    );
    println!(
        "| ratio encrypted / plain: warm {:.2} (store already open {:.2}), cache empty {:.2} (goal: at most 1.3) | | |",
        sealed_warm_open / warm_open,
        sealed_warm / warm,
        sealed_cold / cold
    );
    println!(
        "target: the month's assessment under 1 s: {}",
        if warm_open < 1000.0 { "met" } else { "NOT met" }
    );
    println!(
        "RESULT warm_open_ms={warm_open:.0} warm_ms={warm:.0} cold_ms={cold:.0} encrypted_warm_open_ms={sealed_warm_open:.0} encrypted_warm_ms={sealed_warm:.0} encrypted_cold_ms={sealed_cold:.0} encrypted_ratio_warm={:.2} encrypted_ratio_cold={:.2}",
        sealed_warm_open / warm_open,
        sealed_cold / cold
    );
}
