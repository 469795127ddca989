//! The benchmark's data, built once through the real APIs and cached under
//! `target/bench-cache/sync-v1/` (delete that folder to rebuild):
//!
//! - a district with one subdistrict and a street grid of 40 streets (GeoJSON imported with
//!   `network::import_streets`, as `patrol-server admin streets import` does);
//! - 10,000 issue documents reported through the core API on a chief's phone (each reported on a
//!   street, 60 % assigned to a department, 25 % commented) and uploaded with real syncs;
//! - 1,000,000 GPS fixes: 35 patrols (34 of 28,800 fixes, 8 hours at 1 Hz, and one of 20,800) by
//!   five chiefs, simulated with `sim::simulate_walk`, recorded with `Store::add_fixes` and
//!   uploaded with real syncs;
//! - the chief's phone (`chief/phone.db`), to make changes in the re-sync scenario;
//! - every issue document's Automerge bytes (`issues.amdocs`: u32 LE length + bytes each), for
//!   the JavaScript server.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use patrol_core::issues::{Assignee, IssueQuery, NewIssue};
use patrol_core::streets::StreetImportOptions;
use patrol_core::sync::wire::Scope;
use patrol_core::sync::{NetworkState, NoProgress, SyncPolicy, SyncReport};
use patrol_core::{Department, Role, Store, StoreConfig};
use patrol_model::sim::{ReceiverModel, SimRng, simulate_walk};
use patrol_server::{ServerConfig, ServerThread, admin, network};

pub const ISSUES: usize = 10_000;
pub const FIXES: usize = 1_000_000;
pub const FIXES_PER_PATROL: usize = 28_800;
pub const PATROL_CHIEFS: usize = 5;
pub const SUBDISTRICT: &str = "八角街道";
const NS_STREETS: usize = 20;
const EW_STREETS: usize = 20;
const CATEGORIES: [&str; 6] = [
    "litter",
    "overflowing_bin",
    "illegal_parking",
    "street_vending",
    "illegal_advertising",
    "damaged_facility",
];
const NOTES: [&str; 5] = [
    "路边有垃圾堆积",
    "垃圾桶已满，需要清运",
    "机动车占用人行道",
    "流动摊贩占道经营",
    "墙上有小广告",
];

/// The cached data set.
pub struct Fixture {
    pub dir: PathBuf,
}

/// A street of the grid: its name and its two ends (lat, lon).
#[derive(Clone, Debug)]
pub struct GridStreet {
    pub name: String,
    pub from: (f64, f64),
    pub to: (f64, f64),
}

/// The street grid: 20 north-south streets about 100 m apart, 20 east-west ones about 110 m
/// apart, each about 2 km long, in Shijingshan.
pub fn grid() -> Vec<GridStreet> {
    let (lat0, lon0) = (39.895, 116.180);
    let mut out = Vec::new();
    for i in 0..NS_STREETS {
        let lon = lon0 + i as f64 * 0.0012;
        out.push(GridStreet {
            name: format!("南北{}街", i + 1),
            from: (lat0, lon),
            to: (lat0 + EW_STREETS as f64 * 0.001, lon),
        });
    }
    for j in 0..EW_STREETS {
        let lat = lat0 + j as f64 * 0.001;
        out.push(GridStreet {
            name: format!("东西{}路", j + 1),
            from: (lat, lon0),
            to: (lat, lon0 + NS_STREETS as f64 * 0.0012),
        });
    }
    out
}

fn grid_geojson(path: &Path) {
    let features: Vec<_> = grid()
        .iter()
        .map(|s| {
            serde_json::json!({
                "type": "Feature",
                "properties": { "name": s.name, "highway": "residential" },
                "geometry": { "type": "LineString", "coordinates": [[s.from.1, s.from.0], [s.to.1, s.to.0]] }
            })
        })
        .collect();
    let fc = serde_json::json!({ "type": "FeatureCollection", "features": features });
    std::fs::write(path, serde_json::to_vec(&fc).expect("json")).expect("write grid");
}

/// The server's street ids by grid name.
pub fn street_ids(server_data: &Path) -> Vec<(String, String)> {
    let storage = patrol_server::open_storage(server_data).expect("server storage");
    network::list_streets(storage.as_ref())
        .expect("list streets")
        .into_iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap_or("").to_owned(),
                v["id"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

impl Fixture {
    pub fn server_data(&self) -> PathBuf {
        self.dir.join("server")
    }

    pub fn chief_dir(&self) -> PathBuf {
        self.dir.join("chief")
    }

    pub fn docs_file(&self) -> PathBuf {
        self.dir.join("issues.amdocs")
    }

    /// The exported documents, in order.
    pub fn documents(&self) -> Vec<Vec<u8>> {
        let bytes = std::fs::read(self.docs_file()).expect("read issues.amdocs");
        let mut out = Vec::new();
        let mut pos = 0;
        while pos + 4 <= bytes.len() {
            let len =
                u32::from_le_bytes([bytes[pos], bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]])
                    as usize;
            out.push(bytes[pos + 4..pos + 4 + len].to_vec());
            pos += 4 + len;
        }
        out
    }
}

pub fn cache_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-cache")
}

/// Opens a phone's store in `dir` and enrols it with the server.
pub fn enrol_device(dir: &Path, url: &str, code: &str) -> Store {
    std::fs::create_dir_all(dir).expect("device dir");
    let mut store =
        Store::open(dir.join("phone.db"), StoreConfig::default()).expect("open phone store");
    patrol_core::sync::enrol(
        &mut store,
        &transport(),
        &NoProgress,
        url,
        code,
        SyncPolicy::on(NetworkState::Wifi),
    )
    .expect("enrol");
    store
}

pub fn sync_wifi(store: &mut Store) -> SyncReport {
    let policy = SyncPolicy::on(NetworkState::Wifi);
    patrol_core::sync::sync(store, &transport(), &policy, &NoProgress).expect("sync")
}

/// A phone's HTTP stack, new for each sync as a phone's worker would make it.
pub fn transport() -> patrol_core::sync::NativeTransport {
    patrol_core::sync::NativeTransport::new().expect("HTTP client")
}

/// The cached fixture, built first when absent.
pub fn fixture() -> Fixture {
    let root = cache_root();
    let dir = root.join("sync-v1");
    if dir.join("server").is_dir() && dir.join("issues.amdocs").is_file() {
        println!("  data: reusing {} (delete it to rebuild)", dir.display());
        return Fixture { dir };
    }
    std::fs::create_dir_all(&root).expect("cache dir");
    let building = root.join("sync-v1.building");
    let _ = std::fs::remove_dir_all(&building);
    std::fs::create_dir_all(&building).expect("building dir");
    println!(
        "  data: building {} once (about 2 minutes) ...",
        dir.display()
    );
    let start = Instant::now();
    build(&building);
    std::fs::rename(&building, &dir).expect("move the built data into place");
    println!("  data: built in {:.0} s", start.elapsed().as_secs_f64());
    Fixture { dir }
}

fn build(dir: &Path) {
    let data = dir.join("server");
    let storage = patrol_server::open_storage(&data).expect("server storage");
    admin::set_district(storage.as_ref(), "石景山区", None).expect("district");
    admin::add_subdistrict(storage.as_ref(), SUBDISTRICT, None).expect("subdistrict");
    let geojson = dir.join("grid.geojson");
    grid_geojson(&geojson);
    let options = StreetImportOptions {
        subdistrict: Some(SUBDISTRICT.into()),
        ..Default::default()
    };
    network::import_streets(storage.as_ref(), &geojson, &options).expect("import streets");
    let chief =
        admin::add_user(storage.as_ref(), "王芳", Role::Chief, Scope::Own, None).expect("chief");
    let mut patrollers = Vec::new();
    for i in 0..PATROL_CHIEFS {
        patrollers.push(
            admin::add_user(
                storage.as_ref(),
                &format!("巡查员{}", i + 1),
                Role::Chief,
                Scope::Own,
                None,
            )
            .expect("chief"),
        );
    }
    drop(storage);

    // 50 phones enrol from 127.0.0.1 at once: no enrolment limit for the bench.
    let server = ServerThread::spawn(ServerConfig {
        enrol_limit: patrol_server::http::ratelimit::RateLimit::NONE,
        ..ServerConfig::new(data.clone(), "127.0.0.1:0".parse().expect("addr"))
    })
    .expect("server");
    let url = server.url();
    let streets = grid();
    let ids = street_ids(&data);
    let id_of = |name: &str| {
        ids.iter()
            .find(|(n, _)| n == name)
            .map(|(_, id)| id.clone())
            .expect("street imported")
    };

    // 10,000 issues on the chief's phone, then uploaded.
    let t = Instant::now();
    let mut phone = enrol_device(&dir.join("chief"), &url, &chief.enrol_code);
    sync_wifi(&mut phone);
    let mut rng = SimRng::new(0x5eed_5171);
    for n in 0..ISSUES {
        let s = &streets[(rng.next_u64() % streets.len() as u64) as usize];
        let f = rng.uniform();
        let lat = s.from.0 + (s.to.0 - s.from.0) * f + (rng.uniform() - 0.5) * 0.0001;
        let lon = s.from.1 + (s.to.1 - s.from.1) * f + (rng.uniform() - 0.5) * 0.0001;
        let mut new = NewIssue::at(CATEGORIES[n % CATEGORIES.len()], lat, lon);
        new.street_id = Some(id_of(&s.name));
        new.description = NOTES[(rng.next_u64() % NOTES.len() as u64) as usize].into();
        let id = phone.report_issue(new).expect("report").issue.id;
        if rng.uniform() < 0.6 {
            let dept = if rng.uniform() < 0.8 {
                Department::CityProperty
            } else {
                Department::Enforcement
            };
            phone
                .assign_issue(id, Assignee::Department(dept), None)
                .expect("assign");
        }
        if rng.uniform() < 0.25 {
            phone
                .comment_issue(id, "已通知物业，请尽快处理")
                .expect("comment");
        }
        if (n + 1) % 2_000 == 0 {
            println!(
                "    {} issues reported ({:.0} s)",
                n + 1,
                t.elapsed().as_secs_f64()
            );
        }
    }
    let mut syncs = 0;
    let mut uploaded = 0;
    loop {
        let r = sync_wifi(&mut phone);
        syncs += 1;
        uploaded += r.docs_up;
        if r.docs_up == 0 || syncs > 100 {
            break;
        }
    }
    assert_eq!(
        uploaded as usize, ISSUES,
        "the chief's phone did not upload every issue"
    );
    println!(
        "    {ISSUES} issues uploaded in {} sync call(s) ({:.0} s)",
        syncs - 1,
        t.elapsed().as_secs_f64()
    );

    // Every document's bytes, for the JavaScript server.
    let list = phone
        .list_issues(&IssueQuery {
            limit: Some(ISSUES as u32 + 1),
            ..Default::default()
        })
        .expect("list");
    assert_eq!(list.len(), ISSUES);
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(dir.join("issues.amdocs")).expect("docs file"),
    );
    for s in &list {
        let bytes = phone.export_issue(s.id).expect("export");
        out.write_all(&(bytes.len() as u32).to_le_bytes())
            .expect("write");
        out.write_all(&bytes).expect("write");
    }
    out.flush().expect("flush");
    drop(phone);

    // 1,000,000 fixes in 35 patrols by five chiefs.
    let t = Instant::now();
    let patrols = FIXES.div_ceil(FIXES_PER_PATROL);
    let mut left = FIXES;
    for (c, user) in patrollers.iter().enumerate() {
        let mut phone = enrol_device(&dir.join(format!("patroller{c}")), &url, &user.enrol_code);
        sync_wifi(&mut phone);
        let mut recorded = 0;
        for k in (c..patrols).step_by(PATROL_CHIEFS) {
            let n = left.min(FIXES_PER_PATROL);
            left -= n;
            recorded += n;
            record_patrol(&mut phone, n, k as u64);
        }
        let r = sync_wifi(&mut phone);
        assert_eq!(
            r.fixes_up as usize, recorded,
            "a patroller's phone did not upload every fix"
        );
        drop(phone);
        let _ = std::fs::remove_dir_all(dir.join(format!("patroller{c}")));
    }
    assert_eq!(left, 0);
    println!(
        "    {FIXES} fixes in {patrols} patrols recorded and uploaded ({:.0} s)",
        t.elapsed().as_secs_f64()
    );
    server.stop();
}

/// One patrol of `n` fixes around a block of the grid, recorded as a phone would (batches of 60
/// fixes, a minute at 1 Hz), then stopped.
fn record_patrol(phone: &mut Store, n: usize, k: u64) {
    let (a, b) = ((k % 15) as f64, ((k * 7) % 15) as f64);
    let (lat0, lon0) = (39.895 + b * 0.001, 116.180 + a * 0.0012);
    let (lat1, lon1) = (lat0 + 0.004, lon0 + 0.0048);
    let route = [
        (lat0, lon0),
        (lat1, lon0),
        (lat1, lon1),
        (lat0, lon1),
        (lat0, lon0),
    ];
    let mut rng = SimRng::new(0xf1c5 + k);
    let mut start = 1_733_040_000_000 + k as i64 * 86_400_000;
    let mut fixes = Vec::with_capacity(n);
    while fixes.len() < n {
        let lap = simulate_walk(
            &route,
            1.3,
            start,
            &ReceiverModel::default(),
            None,
            &mut rng,
        );
        start = lap.last().and_then(|(f, _)| f.time_ms).unwrap_or(start) + 1000;
        fixes.extend(lap.into_iter().map(|(f, _)| f));
    }
    fixes.truncate(n);
    let id = phone.start_patrol(&[]).expect("start patrol");
    for chunk in fixes.chunks(60) {
        phone.add_fixes(id, chunk).expect("add fixes");
    }
    phone.stop_patrol(id).expect("stop patrol");
}
