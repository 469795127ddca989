//! A small district whose every report figure is known in advance (worked out by hand in
//! `tests/tests/reports.rs`): four streets, three chiefs (one with no streets), a steward, a
//! crew and a supervisor, each on their own device store, a week of patrols, six issues run
//! round their loop across the devices, pickups up to the daily points cap, and two merchants.
//!
//! Every device acts through the core API on its own store with a clock the test moves. Issue
//! documents travel between devices by export and import (a real Automerge merge). Patrols,
//! people, pickups and points reach the supervisor's store the way sync delivers them: as the
//! same rows in the same tables (copied with SQLite's ATTACH here, since sync lives on another
//! branch), so the reports read exactly what a supervisor's phone holds after a wifi sync.
//!
//! The period is ISO week 2024-W49: Monday 2 December to Sunday 8 December 2024, Beijing time.
//!
//! Geometry, in metres east (x) and north (y) of 39.9 N 116.2 E (subdistrict 八角):
//! - 东街 (residential): (0,0) -> (0,400), two 200 m segments;
//! - 西街 (residential): (0,400) -> (-200,400), one segment;
//! - 北巷 (footway): (300,0) -> (300,300), two 150 m segments;
//! - 南路 (primary): (0,0) -> (200,0), one segment.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use patrol_core::issues::{Assignee, NewIssue};
use patrol_core::merchants::{NewInspection, NewMerchant};
use patrol_core::patrol::ImportOptions;
use patrol_core::points::NewPickup;
use patrol_core::streets::StreetImportOptions;
use patrol_core::track::ParsedTrack;
use patrol_core::{Clock, Datum, DutyGrade, IssueId, MerchantId, NewFix, Role, Store, StoreConfig};

/// Monday 2 December 2024, 00:00 in Beijing (2024-12-01T16:00:00Z).
pub const W49_MONDAY_MS: i64 = 1_733_068_800_000;
pub const HOUR_MS: i64 = 3_600_000;
/// The segment length the district's streets are imported with.
pub const DISTRICT_MAX_SEGMENT_M: f64 = 205.0;
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// An instant of the district's week: `day` 0 is Monday 2 December (negative: the week
/// before), at `hour:minute` Beijing time.
pub fn bj(day: i64, hour: i64, minute: i64) -> i64 {
    W49_MONDAY_MS + day * DAY_MS + hour * HOUR_MS + minute * 60_000
}

/// (lat, lon) of a point `x` metres east and `y` metres north of 39.9 N 116.2 E.
pub fn at(x: f64, y: f64) -> (f64, f64) {
    let m_per_deg_lat = 111_195.08;
    (
        39.9 + y / m_per_deg_lat,
        116.2 + x / (m_per_deg_lat * 39.9f64.to_radians().cos()),
    )
}

struct WorldClock(Arc<AtomicI64>);

impl Clock for WorldClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The district: every device store and the ids the tests look for.
#[derive(Debug)]
pub struct District {
    pub dir: PathBuf,
    pub now: Arc<AtomicI64>,
    pub supervisor: Store,
    pub chief_a: Store,
    pub chief_b: Store,
    pub chief_c: Store,
    pub steward: Store,
    pub crew: Store,
    /// Street name -> id.
    pub streets: BTreeMap<&'static str, String>,
    /// I1 .. I6 in the order of the module documentation of `tests/tests/reports.rs`.
    pub issues: Vec<IssueId>,
    pub merchant_shop: MerchantId,
    pub merchant_florist: MerchantId,
    /// A's first patrol (东街 and 西街 on Monday).
    pub first_patrol: patrol_core::PatrolId,
}

impl District {
    pub fn set_time(&self, ms: i64) {
        assert!(
            ms >= self.now.load(Ordering::SeqCst),
            "the district's clock only moves forward"
        );
        self.now.store(ms, Ordering::SeqCst);
    }

    pub fn user_id(store: &Store) -> String {
        store.require_device().expect("device").user_id.to_string()
    }

    /// The supervisor's store file.
    pub fn supervisor_path(&self) -> PathBuf {
        self.dir.join("supervisor.db")
    }

    fn devices(&mut self) -> [&mut Store; 6] {
        [
            &mut self.supervisor,
            &mut self.chief_a,
            &mut self.chief_b,
            &mut self.chief_c,
            &mut self.steward,
            &mut self.crew,
        ]
    }

    /// Hands an issue document from the device that just changed it to every other device.
    fn spread(&mut self, id: IssueId) {
        let mut newest: Option<Vec<u8>> = None;
        for d in self.devices() {
            if d.export_issue(id).is_ok() {
                if let Some(n) = &newest {
                    d.import_issue(n).expect("merge");
                }
                newest = Some(d.export_issue(id).expect("export"));
            }
        }
        let bytes = newest.expect("somebody has the issue");
        for d in self.devices() {
            d.import_issue(&bytes).expect("merge");
        }
    }
}

fn device(dir: &Path, clock: &Arc<AtomicI64>, file: &str, name: &str, role: Role) -> Store {
    let mut s = Store::open_with_clock(
        dir.join(file),
        StoreConfig::default(),
        Arc::new(WorldClock(clock.clone())),
    )
    .expect("open");
    s.init_device(name, role, None).expect("init");
    s
}

/// A walk along `path` (metres) at 1 m/s with a fix every 5 s from `start_ms`, accuracy 5 m.
pub fn walk(path: &[(f64, f64)], start_ms: i64) -> ParsedTrack {
    let mut fixes = Vec::new();
    let mut t = 0.0;
    for w in path.windows(2) {
        let (a, b) = (w[0], w[1]);
        let len = (b.0 - a.0).hypot(b.1 - a.1);
        let steps = (len / 5.0).round() as usize;
        for k in 0..steps {
            let f = k as f64 / steps as f64;
            let (lat, lon) = at(a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f);
            fixes.push(NewFix::at(lat, lon, start_ms + (t * 1000.0) as i64).with_accuracy(5.0));
            t += 5.0;
        }
    }
    let last = path[path.len() - 1];
    let (lat, lon) = at(last.0, last.1);
    fixes.push(NewFix::at(lat, lon, start_ms + (t * 1000.0) as i64).with_accuracy(5.0));
    ParsedTrack {
        name: Some("patrol".into()),
        segments: vec![fixes],
        ..Default::default()
    }
}

fn patrol(store: &mut Store, path: &[(f64, f64)], start_ms: i64) -> patrol_core::PatrolId {
    store
        .import_track(
            &walk(path, start_ms),
            &ImportOptions::default(),
            &mut |_, _| {},
        )
        .expect("import")
        .patrol_id
}

/// The street file the supervisor imports.
pub fn streets_geojson() -> String {
    let line = |pts: &[(f64, f64)]| {
        pts.iter()
            .map(|&(x, y)| at(x, y))
            .map(|(lat, lon)| serde_json::json!([lon, lat]))
            .collect::<Vec<_>>()
    };
    let feature = |name: &str, highway: &str, pts: &[(f64, f64)]| {
        serde_json::json!({
            "type": "Feature",
            "properties": { "name": name, "highway": highway, "subdistrict": "八角" },
            "geometry": { "type": "LineString", "coordinates": line(pts) },
        })
    };
    serde_json::json!({
        "type": "FeatureCollection",
        "features": [
            feature("东街", "residential", &[(0.0, 0.0), (0.0, 400.0)]),
            feature("西街", "residential", &[(0.0, 400.0), (-200.0, 400.0)]),
            feature("北巷", "footway", &[(300.0, 0.0), (300.0, 300.0)]),
            feature("南路", "primary", &[(0.0, 0.0), (200.0, 0.0)]),
        ],
    })
    .to_string()
}

/// Copies what sync would deliver from a device to the supervisor: the device's user, its
/// patrols with their fixes and planned streets, its pickups and points entries.
pub fn replicate(from: &Path, to: &Store) {
    let c = to.connection();
    c.execute(
        "ATTACH DATABASE ?1 AS src",
        [from.to_str().expect("utf-8 path")],
    )
    .expect("attach");
    c.execute_batch(
        "INSERT OR IGNORE INTO user (id, name, role, subdistrict_id, created_at_ms)
             SELECT id, name, role, NULL, created_at_ms FROM src.user;
         INSERT INTO patrol (id, user_id, device_id, state, source, origin, name, started_at_ms, stopped_at_ms, current_segment, summary_json)
             SELECT id, user_id, device_id, state, 'synced', origin, name, started_at_ms, stopped_at_ms, current_segment, summary_json
               FROM src.patrol WHERE id NOT IN (SELECT id FROM main.patrol);
         INSERT OR IGNORE INTO patrol_street (patrol_row, street_id)
             SELECT m.row_id, s.street_id FROM src.patrol_street s
               JOIN src.patrol p ON p.row_id = s.patrol_row JOIN main.patrol m ON m.id = p.id;
         INSERT OR IGNORE INTO fix (patrol_row, seq, segment, time_ms, lat, lon, accuracy_m, altitude_m, speed_mps,
                                    bearing_deg, provider, is_mock, verdict)
             SELECT m.row_id, f.seq, f.segment, f.time_ms, f.lat, f.lon, f.accuracy_m, f.altitude_m, f.speed_mps,
                    f.bearing_deg, f.provider, f.is_mock, f.verdict
               FROM src.fix f JOIN src.patrol p ON p.row_id = f.patrol_row JOIN main.patrol m ON m.id = p.id;
         INSERT OR IGNORE INTO litter_pickup (id, user_id, device_id, at_ms, lat, lon, bags, items, street_id, photo_sha256, note)
             SELECT id, user_id, device_id, at_ms, lat, lon, bags, items, street_id, NULL, note FROM src.litter_pickup;
         INSERT OR IGNORE INTO points_entry SELECT * FROM src.points_entry;",
    )
    .expect("replicate");
    c.execute("DETACH DATABASE src", []).expect("detach");
}

/// A small PNG for photos.
fn png(dir: &Path, name: &str, shade: u8) -> PathBuf {
    let path = dir.join(name);
    let img = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([shade, (x * 4) as u8, (y * 5) as u8])
    });
    img.save(&path).expect("write png");
    path
}

/// Builds the district in `dir` and runs its week. See the module documentation.
pub fn build(dir: &Path) -> District {
    let now = Arc::new(AtomicI64::new(bj(-3, 8, 0)));
    let mut d = District {
        dir: dir.to_path_buf(),
        supervisor: device(dir, &now, "supervisor.db", "张科长", Role::Supervisor),
        chief_a: device(dir, &now, "chief_a.db", "王芳", Role::Chief),
        chief_b: device(dir, &now, "chief_b.db", "李雷", Role::Chief),
        chief_c: device(dir, &now, "chief_c.db", "赵敏", Role::Chief),
        steward: device(dir, &now, "steward.db", "刘大妈", Role::Steward),
        crew: device(dir, &now, "crew.db", "物业张师傅", Role::Crew),
        now,
        streets: BTreeMap::new(),
        issues: Vec::new(),
        merchant_shop: MerchantId::default(),
        merchant_florist: MerchantId::default(),
        first_patrol: patrol_core::PatrolId::default(),
    };
    let (a, b, steward, crew) = (
        District::user_id(&d.chief_a),
        District::user_id(&d.chief_b),
        District::user_id(&d.steward),
        District::user_id(&d.crew),
    );

    // Friday before: the supervisor imports the streets and assigns them. Segments of at most
    // 205 m, so the 200 m and 400 m streets (a hair longer by Haversine than in the flat metres
    // they are drawn in) split into 200 m segments.
    let options = StreetImportOptions {
        max_segment_m: DISTRICT_MAX_SEGMENT_M,
        ..Default::default()
    };
    d.supervisor
        .import_streets_file(
            Path::new("八角.geojson"),
            streets_geojson().as_bytes(),
            &options,
        )
        .expect("streets");
    for name in ["东街", "西街", "北巷", "南路"] {
        d.streets.insert(
            name,
            d.supervisor
                .resolve_street(name)
                .expect("street")
                .to_string(),
        );
    }
    let sid = |d: &District, n: &str| d.streets[n].parse().expect("street id");
    for (street, user, role) in [
        ("东街", &a, Role::Chief),
        ("西街", &a, Role::Chief),
        ("北巷", &b, Role::Chief),
        ("北巷", &steward, Role::Steward),
        ("南路", &steward, Role::Steward),
    ] {
        let id = sid(&d, street);
        d.supervisor.assign_street(id, user, role).expect("assign");
    }
    let east = d.streets["东街"].clone();
    let west = d.streets["西街"].clone();
    let north = d.streets["北巷"].clone();

    let report =
        |d: &mut District, who: usize, category: &str, street: &str, xy: (f64, f64)| -> IssueId {
            let (lat, lon) = at(xy.0, xy.1);
            let mut new = NewIssue::at(category, lat, lon);
            new.street_id = Some(street.to_owned());
            let store = match who {
                0 => &mut d.chief_a,
                1 => &mut d.chief_b,
                _ => &mut d.chief_c,
            };
            let id = store.report_issue(new).expect("report").issue.id;
            d.spread(id);
            id
        };
    let crew_user: patrol_core::UserId = crew.parse().expect("crew id");
    let photo = png(dir, "after.png", 120);
    let after = d.crew.attach_photo(&photo).expect("photo").sha256;

    // The week before: I6 and a patrol of A, neither in the period.
    d.set_time(bj(-2, 10, 0));
    let i6 = report(&mut d, 0, "litter", &east, (0.0, 380.0));
    d.set_time(bj(-2, 15, 0));
    patrol(&mut d.chief_a, &[(0.0, 0.0), (0.0, 400.0)], bj(-2, 15, 0));

    // Monday.
    d.set_time(bj(0, 7, 0));
    let (lat, lon) = at(10.0, 100.0);
    d.merchant_shop = d
        .supervisor
        .add_merchant(NewMerchant {
            name: "老王小卖部".into(),
            kind: Some("grocery".into()),
            address: None,
            contact: None,
            lat,
            lon,
            datum: Datum::Wgs84,
            street: Some("东街".into()),
        })
        .expect("merchant")
        .id;
    let (lat, lon) = at(-150.0, 410.0);
    d.merchant_florist = d
        .supervisor
        .add_merchant(NewMerchant {
            name: "绿叶花店".into(),
            kind: Some("florist".into()),
            address: None,
            contact: None,
            lat,
            lon,
            datum: Datum::Wgs84,
            street: None,
        })
        .expect("merchant")
        .id;
    d.set_time(bj(0, 8, 0));
    d.first_patrol = patrol(
        &mut d.chief_a,
        &[(0.0, 0.0), (0.0, 400.0), (-200.0, 400.0)],
        bj(0, 8, 0),
    );
    d.set_time(bj(0, 9, 0));
    let i1 = report(&mut d, 0, "litter", &east, (0.0, 100.0));
    d.set_time(bj(0, 9, 30));
    patrol(
        &mut d.chief_b,
        &[(300.0, 0.0), (300.0, 300.0)],
        bj(0, 9, 30),
    );
    d.set_time(bj(0, 10, 0));
    d.supervisor
        .assign_issue(i1, Assignee::User(crew_user), None)
        .expect("assign");
    d.spread(i1);
    d.set_time(bj(0, 12, 0));
    d.crew.accept_issue(i1).expect("accept");
    d.spread(i1);
    d.set_time(bj(0, 20, 0));
    let (lat, lon) = at(0.0, 100.0);
    d.crew
        .resolve_issue(i1, &after, Some((lat, lon)), None)
        .expect("resolve");
    d.spread(i1);

    // Tuesday.
    d.set_time(bj(1, 8, 0));
    patrol(
        &mut d.chief_a,
        &[(0.0, 0.0), (0.0, 400.0), (-200.0, 400.0)],
        bj(1, 8, 0),
    );
    d.set_time(bj(1, 9, 0));
    d.chief_a.verify_issue(i1, None).expect("verify");
    d.spread(i1);
    d.set_time(bj(1, 10, 0));
    let i2 = report(&mut d, 0, "overflowing_bin", &west, (-100.0, 400.0));
    d.set_time(bj(1, 10, 30));
    d.supervisor
        .assign_issue(i2, Assignee::User(crew_user), None)
        .expect("assign");
    d.spread(i2);
    d.set_time(bj(1, 12, 0));
    let inspection_photo = d
        .supervisor
        .attach_photo(png(dir, "shopfront.png", 60))
        .expect("photo")
        .sha256;
    d.supervisor
        .inspect_merchant(
            d.merchant_shop,
            NewInspection {
                sanitation: DutyGrade::Poor,
                greening: DutyGrade::Good,
                order: DutyGrade::Fair,
                note: Some("门前堆放纸箱".into()),
                photos: vec![inspection_photo],
            },
        )
        .expect("inspect");

    // Wednesday.
    d.set_time(bj(2, 8, 0));
    patrol(&mut d.chief_a, &[(0.0, 0.0), (0.0, 200.0)], bj(2, 8, 0));
    d.set_time(bj(2, 9, 0));
    let i3 = report(&mut d, 2, "illegal_parking", &east, (0.0, 300.0));
    d.set_time(bj(2, 9, 30));
    d.supervisor
        .assign_issue(i3, Assignee::User(crew_user), None)
        .expect("assign");
    d.spread(i3);
    d.set_time(bj(2, 10, 0));
    let (lat, lon) = at(-100.0, 400.0);
    d.crew
        .resolve_issue(i2, &after, Some((lat, lon)), None)
        .expect("resolve late");
    d.spread(i2);
    d.set_time(bj(2, 11, 0));
    let (lat, lon) = at(0.0, 300.0);
    d.crew
        .resolve_issue(i3, &after, Some((lat, lon)), None)
        .expect("resolve");
    d.spread(i3);
    d.set_time(bj(2, 12, 0));
    d.chief_a.verify_issue(i3, None).expect("verify");
    d.spread(i3);
    d.set_time(bj(2, 15, 0));
    d.supervisor
        .inspect_merchant(
            d.merchant_florist,
            NewInspection {
                sanitation: DutyGrade::Good,
                greening: DutyGrade::Good,
                order: DutyGrade::Good,
                note: None,
                photos: vec![],
            },
        )
        .expect("inspect");
    d.set_time(bj(2, 22, 0));
    d.chief_a.verify_issue(i2, None).expect("verify");
    d.spread(i2);

    // Thursday.
    d.set_time(bj(3, 9, 0));
    d.chief_a.reopen_issue(i3, "车又停回来了").expect("reopen");
    d.spread(i3);
    d.set_time(bj(3, 9, 30));
    patrol(
        &mut d.chief_b,
        &[(300.0, 0.0), (300.0, 300.0)],
        bj(3, 9, 30),
    );
    d.set_time(bj(3, 10, 0));
    let i5 = report(&mut d, 1, "greening", &north, (300.0, 150.0));

    // Friday: the steward patrols 南路 and picks up litter six times (the sixth is past the cap).
    d.set_time(bj(4, 10, 0));
    patrol(&mut d.steward, &[(0.0, 0.0), (200.0, 0.0)], bj(4, 10, 0));
    for k in 0..6 {
        d.set_time(bj(4, 11, k));
        let (lat, lon) = at(100.0, 0.0);
        d.steward
            .log_pickup(NewPickup {
                lat,
                lon,
                datum: Datum::Wgs84,
                bags: 2,
                items: 0,
                street_id: None,
                photo_sha256: None,
                note: None,
            })
            .expect("pickup");
    }

    // Sunday evening: I4, assigned at once, handled only after the week ends.
    d.set_time(bj(6, 20, 0));
    let i4 = report(&mut d, 0, "litter", &east, (0.0, 50.0));
    d.set_time(bj(6, 21, 0));
    d.supervisor
        .assign_issue(i4, Assignee::User(crew_user), None)
        .expect("assign");
    d.spread(i4);
    d.set_time(bj(7, 8, 0));
    let (lat, lon) = at(0.0, 50.0);
    d.crew
        .resolve_issue(i4, &after, Some((lat, lon)), None)
        .expect("resolve");
    d.spread(i4);
    d.set_time(bj(7, 12, 0));
    d.chief_a
        .verify_issue(i4, None)
        .expect("verify after the week");
    d.spread(i4);
    d.set_time(bj(8, 8, 0));
    patrol(&mut d.chief_b, &[(300.0, 0.0), (300.0, 300.0)], bj(8, 8, 0));

    d.issues = vec![i1, i2, i3, i4, i5, i6];
    for f in [
        "chief_a.db",
        "chief_b.db",
        "chief_c.db",
        "steward.db",
        "crew.db",
    ] {
        replicate(&dir.join(f), &d.supervisor);
    }
    d
}
