//! Issue benchmark, in one run:
//! 1. create 10,000 issues with 5 workflow events each through the core API (each event its
//!    own transaction: load the document, check the role rules, append, `save_after`, fold,
//!    rewrite the projection), against writing the same data as plain rows (an issue row and
//!    one event row per event, each event its own transaction): the price of the CRDT;
//! 2. open a store holding 100,000 issues and list the open issues of one street and the
//!    overdue ones (target < 50 ms), plus a detail view (a lazy document load);
//! 3. merge cost per document: a whole document from another device, and a one-event delta;
//! 4. bytes per issue on disk.
//!
//! The 100,000-issue store takes minutes to build on a 2-core machine, so it is built once,
//! through the same API, into `target/bench-cache/issues-100k-schema<N>.db` and reused (delete it to
//! rebuild).
//!
//! Run: `cargo bench -p patrol-core --bench issues` (add `-- --quick` for a short run).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use patrol_core::issues::{Assignee, IssueQuery, NewIssue};
use patrol_core::{Clock, Department, IssueId, Role, Store, StoreConfig};
use rusqlite::params;

const T0: i64 = 1_733_040_000_000; // 2024-12-01 08:00 UTC
const DAY: i64 = 86_400_000;
const STREETS: usize = 685;
const CATEGORIES: [&str; 10] = [
    "litter",
    "overflowing_bin",
    "illegal_parking",
    "street_vending",
    "illegal_advertising",
    "damaged_facility",
    "greening",
    "frontage_duty_violation",
    "construction_waste",
    "other",
];

struct Manual(Arc<AtomicI64>);
impl Clock for Manual {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A tiny deterministic generator (xorshift), so every run builds the same data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct Spot {
    category: &'static str,
    street: String,
    lat: f64,
    lon: f64,
}

/// Issue sites spread over Shijingshan (about 8 x 8 km).
fn spot(rng: &mut Rng) -> Spot {
    Spot {
        category: CATEGORIES[rng.below(10) as usize],
        street: format!("street-{:03}", rng.below(STREETS as u64)),
        lat: 39.88 + rng.unit() * 0.07,
        lon: 116.14 + rng.unit() * 0.09,
    }
}

fn device(path: &Path, clock: Arc<AtomicI64>, role: Role) -> Store {
    let config = StoreConfig {
        photos_dir: Some(path.with_extension("photos")),
        ..Default::default()
    };
    let mut s = Store::open_with_clock(path, config, Arc::new(Manual(clock))).expect("open");
    if s.device().expect("device").is_none() {
        s.init_device("bench chief", role, None).expect("init");
    }
    s
}

fn after_photo(dir: &Path) -> PathBuf {
    let p = dir.join("after.jpg");
    let img = image::RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x / 3) as u8, (y / 2) as u8, 90])
    });
    img.save(&p).expect("photo");
    p
}

/// One issue through its loop: report, assign (city property), reassign to me, accept,
/// resolve with an after-photo. `events` cuts it short (1 to 5).
fn one_issue(s: &mut Store, sp: &Spot, photo: &str, events: usize) -> IssueId {
    let mut new = NewIssue::at(sp.category, sp.lat, sp.lon);
    new.street_id = Some(sp.street.clone());
    new.description = "bench issue".into();
    let id = s.report_issue(new).expect("report").issue.id;
    let me = s.require_device().expect("me").user_id;
    if events > 1 {
        s.assign_issue(id, Assignee::Department(Department::CityProperty), None)
            .expect("assign");
    }
    if events > 2 {
        s.assign_issue(id, Assignee::User(me), Some("I'll take it".into()))
            .expect("reassign");
    }
    if events > 3 {
        s.accept_issue(id).expect("accept");
    }
    if events > 4 {
        s.resolve_issue(id, photo, Some((sp.lat, sp.lon)), None)
            .expect("resolve");
    }
    id
}

const PLAIN_SCHEMA: &str = "
CREATE TABLE plain_issue (id TEXT PRIMARY KEY, category TEXT, description TEXT, street_id TEXT, lat REAL, lon REAL,
                          reporter TEXT, status TEXT, assignee TEXT, updated_at_ms INTEGER, due_at_ms INTEGER);
CREATE INDEX plain_by_street ON plain_issue (street_id, status);
CREATE TABLE plain_event (issue_id TEXT, seq INTEGER, kind TEXT, by_user TEXT, role TEXT, at_ms INTEGER, payload TEXT,
                          PRIMARY KEY (issue_id, seq)) WITHOUT ROWID;";

/// The same five steps as plain rows: insert or update the issue row and add an event row,
/// each step its own transaction.
fn plain_issue(conn: &rusqlite::Connection, sp: &Spot, me: &str, photo: &str, now: i64) {
    let id = IssueId::new().to_string();
    let steps: [(&str, &str, String); 5] = [
        ("report", "reported", String::new()),
        ("assign", "assigned", r#"{"to":"city_property"}"#.into()),
        (
            "assign",
            "assigned",
            format!(r#"{{"to":"{me}","note":"I'll take it"}}"#),
        ),
        ("accept", "in_progress", String::new()),
        ("resolve", "resolved", format!(r#"{{"photo":"{photo}"}}"#)),
    ];
    for (seq, (kind, status, payload)) in steps.iter().enumerate() {
        conn.execute_batch("BEGIN").expect("begin");
        if seq == 0 {
            conn.prepare_cached(
                "INSERT INTO plain_issue VALUES (?1, ?2, 'bench issue', ?3, ?4, ?5, ?6, ?7, NULL, ?8, ?9)",
            )
            .expect("prep")
            .execute(params![id, sp.category, sp.street, sp.lat, sp.lon, me, status, now, now + DAY])
            .expect("insert");
        } else {
            conn.prepare_cached(
                "UPDATE plain_issue SET status = ?2, updated_at_ms = ?3 WHERE id = ?1",
            )
            .expect("prep")
            .execute(params![id, status, now])
            .expect("update");
        }
        conn.prepare_cached("INSERT INTO plain_event VALUES (?1, ?2, ?3, ?4, 'chief', ?5, ?6)")
            .expect("prep")
            .execute(params![id, seq as i64, kind, me, now, payload])
            .expect("event");
        conn.execute_batch("COMMIT").expect("commit");
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    format!("{cpu}, {cores} cores, {}", std::env::consts::OS)
}

fn file_bytes(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// The 100,000-issue store, built once (through the core API) and cached under target/.
fn big_store(n: usize) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-cache");
    std::fs::create_dir_all(&dir).expect("cache dir");
    // Named by schema version: a store built by other code is never reused.
    let path = dir.join(format!(
        "issues-{}k-schema{}.db",
        n / 1000,
        patrol_core::store::SCHEMA_VERSION
    ));
    if path.exists() {
        println!("  (reusing {}; delete it to rebuild)", path.display());
        return path;
    }
    let building = path.with_extension("building");
    let _ = std::fs::remove_file(&building);
    let clock = Arc::new(AtomicI64::new(T0 - 30 * DAY));
    let mut s = device(&building, clock.clone(), Role::Chief);
    let photo = s
        .attach_photo(after_photo(building.parent().expect("dir")))
        .expect("photo")
        .sha256;
    let mut rng = Rng(0x5eed_0001);
    // Thirty days of reports, in time order (the HLC never runs backwards, so out-of-order
    // wall times would all collapse onto the latest). 1 in 20 is still open (reported in the
    // last 3 days, 1 to 4 events); the rest were cancelled or resolved.
    let mut plan: Vec<(i64, bool)> = (0..n)
        .map(|_| {
            let open = rng.below(20) == 0;
            let at = if open {
                T0 - rng.below(3 * DAY as u64) as i64
            } else {
                T0 - 3 * DAY - rng.below(27 * DAY as u64) as i64
            };
            (at, open)
        })
        .collect();
    plan.sort();
    let t = Instant::now();
    for (i, (at, open)) in plan.into_iter().enumerate() {
        clock.store(at, Ordering::SeqCst);
        let sp = spot(&mut rng);
        if open {
            one_issue(&mut s, &sp, &photo, 1 + rng.below(4) as usize);
        } else if rng.below(4) == 0 {
            one_issue(&mut s, &sp, &photo, 5);
        } else {
            let id = one_issue(&mut s, &sp, &photo, 2);
            s.cancel_issue(id, "handled on the spot").expect("cancel");
        }
        if i % 10_000 == 9_999 {
            println!(
                "  built {} issues in {:.0} s",
                i + 1,
                t.elapsed().as_secs_f64()
            );
        }
    }
    s.close().expect("close");
    std::fs::rename(&building, &path).expect("rename");
    let _ = std::fs::rename(
        building.with_extension("photos"),
        path.with_extension("photos"),
    );
    path
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (create_n, big_n, merge_n) = if quick {
        (1_000, 20_000, 200)
    } else {
        (10_000, 100_000, 1_000)
    };
    println!("issues benchmark on {}", machine());
    let tmp = tempfile::tempdir().expect("tempdir");

    // --- 1. Creation: CRDT documents against plain rows, alternating in blocks.
    let clock = Arc::new(AtomicI64::new(T0));
    let core_path = tmp.path().join("create.db");
    let mut core = device(&core_path, clock.clone(), Role::Chief);
    let photo = core
        .attach_photo(after_photo(tmp.path()))
        .expect("photo")
        .sha256;
    let me = core.require_device().expect("me").user_id.to_string();
    let plain_path = tmp.path().join("plain.db");
    let plain = device(&plain_path, clock.clone(), Role::Chief);
    plain
        .connection()
        .execute_batch(PLAIN_SCHEMA)
        .expect("plain schema");
    let mut rng = Rng(42);
    let spots: Vec<Spot> = (0..create_n).map(|_| spot(&mut rng)).collect();
    let (mut core_s, mut plain_s) = (0.0, 0.0);
    let mut ids = Vec::with_capacity(create_n);
    for block in spots.chunks(500) {
        let t = Instant::now();
        for sp in block {
            clock.fetch_add(1_000, Ordering::SeqCst);
            ids.push(one_issue(&mut core, sp, &photo, 5));
        }
        core_s += t.elapsed().as_secs_f64();
        let t = Instant::now();
        for sp in block {
            plain_issue(
                plain.connection(),
                sp,
                &me,
                &photo,
                clock.load(Ordering::SeqCst),
            );
        }
        plain_s += t.elapsed().as_secs_f64();
    }
    let events = (create_n * 5) as f64;
    println!(
        "\ncreate {create_n} issues x 5 events (report, assign, reassign, accept, resolve), one transaction per event"
    );
    println!(
        "  core (Automerge + fold + projection) {:>8.2} s  {:>7.0} us/event  {:>6.2} ms/issue",
        core_s,
        core_s / events * 1e6,
        core_s / create_n as f64 * 1e3
    );
    println!(
        "  plain rows                          {:>8.2} s  {:>7.0} us/event",
        plain_s,
        plain_s / events * 1e6
    );
    println!(
        "  ratio core/plain (price of the CRDT) {:>7.1}",
        core_s / plain_s
    );

    // --- 4. Bytes per issue.
    let c = core.connection();
    let doc_bytes: i64 = c
        .query_row(
            "SELECT (SELECT COALESCE(SUM(length(snapshot)), 0) FROM issue_doc) + (SELECT COALESCE(SUM(length(bytes)), 0) FROM issue_chunk)",
            [],
            |r| r.get(0),
        )
        .expect("bytes");
    let thumb: i64 = c
        .query_row("SELECT length(thumbnail) FROM photo", [], |r| r.get(0))
        .expect("thumb");

    // --- 3. Merge cost per document: whole documents into a second device, then one-event deltas.
    let other_clock = Arc::new(AtomicI64::new(T0 + 3_600_000));
    let mut other = device(&tmp.path().join("other.db"), other_clock, Role::Supervisor);
    let sample: Vec<IssueId> = ids
        .iter()
        .step_by((create_n / merge_n).max(1))
        .take(merge_n)
        .copied()
        .collect();
    let exports: Vec<Vec<u8>> = sample
        .iter()
        .map(|id| core.export_issue(*id).expect("export"))
        .collect();
    let t = Instant::now();
    for bytes in &exports {
        other.import_issue(bytes).expect("import");
    }
    let full_merge = t.elapsed().as_secs_f64() / sample.len() as f64;
    let mut deltas = Vec::with_capacity(sample.len());
    for id in &sample {
        let heads = other.issue_heads(*id).expect("heads");
        core.comment_issue(*id, "checked again").expect("comment");
        deltas.push((*id, core.issue_changes_since(*id, &heads).expect("delta")));
    }
    let t = Instant::now();
    for (id, bytes) in &deltas {
        other.apply_issue_changes(Some(*id), bytes).expect("apply");
    }
    let delta_merge = t.elapsed().as_secs_f64() / sample.len() as f64;
    let delta_bytes =
        deltas.iter().map(|(_, b)| b.len()).sum::<usize>() as f64 / deltas.len() as f64;
    let export_bytes = exports.iter().map(Vec::len).sum::<usize>() as f64 / exports.len() as f64;
    println!("\nmerge from another device ({} documents)", sample.len());
    println!(
        "  whole document (import, {:.0} bytes)  {:>7.0} us/document",
        export_bytes,
        full_merge * 1e6
    );
    println!(
        "  one-event delta ({:.0} bytes)         {:>7.0} us/document",
        delta_bytes,
        delta_merge * 1e6
    );

    core.close().expect("close");
    plain.close().expect("close");
    let per_issue_file = file_bytes(&core_path) as f64 / create_n as f64;
    let per_plain_file = file_bytes(&plain_path) as f64 / create_n as f64;
    println!(
        "\nbytes per issue on disk (5 events, 1 comment, after-photo thumbnail {thumb} bytes in the document)"
    );
    println!(
        "  Automerge snapshot + chunks   {:>8.0}",
        doc_bytes as f64 / create_n as f64
    );
    println!(
        "  whole database file           {:>8.0}  (documents, projection, indexes)",
        per_issue_file
    );
    println!(
        "  plain rows database file      {:>8.0}  (no thumbnail)",
        per_plain_file
    );

    // --- 2. Open a store with 100,000 issues and list.
    println!("\nstore with {big_n} issues");
    let big = big_store(big_n);
    let now = T0;
    let mut open_ms = Vec::new();
    let mut street_ms = Vec::new();
    let mut overdue_ms = Vec::new();
    let mut detail_ms = Vec::new();
    let (mut street_rows, mut overdue_rows, mut overdue_total) = (0, 0, 0);
    for run in 0..15 {
        let t = Instant::now();
        let s = Store::open_with_clock(
            &big,
            StoreConfig::default(),
            Arc::new(Manual(Arc::new(AtomicI64::new(now)))),
        )
        .expect("open");
        open_ms.push(ms(t.elapsed()));
        let street = format!("street-{:03}", (run * 37) % STREETS);
        let t = Instant::now();
        let rows = s
            .list_issues(&IssueQuery {
                street_id: Some(street),
                open_only: true,
                ..Default::default()
            })
            .expect("street");
        street_ms.push(ms(t.elapsed()));
        street_rows = rows.len();
        let t = Instant::now();
        let overdue = s.overdue_issues(None).expect("overdue");
        overdue_ms.push(ms(t.elapsed()));
        overdue_rows = overdue.len();
        overdue_total = s
            .count_issues(&IssueQuery {
                overdue_at_ms: Some(now),
                ..Default::default()
            })
            .expect("count");
        let pick = overdue.first().map(|o| o.id).expect("some overdue issue");
        let t = Instant::now();
        let v = s.issue(pick).expect("detail");
        detail_ms.push(ms(t.elapsed()));
        assert!(v.overdue);
        s.close().expect("close");
    }
    let (o, st, ov, de) = (
        median(&mut open_ms),
        median(&mut street_ms),
        median(&mut overdue_ms),
        median(&mut detail_ms),
    );
    println!("  open store (schema check, pragmas)   {:>7.2} ms", o);
    println!(
        "  open issues of one street ({street_rows} rows) {:>7.2} ms",
        st
    );
    println!(
        "  all overdue issues ({overdue_rows} rows)     {:>7.2} ms  (count {overdue_total})",
        ov
    );
    println!(
        "  open + street + overdue             {:>7.2} ms  (target < 50 ms)",
        o + st + ov
    );
    println!("  one issue in full (lazy doc load)   {:>7.2} ms", de);
    println!(
        "  database file                       {:>7.0} bytes/issue",
        file_bytes(&big) as f64 / big_n as f64
    );

    println!(
        "\nRESULT create_us_per_event={:.0} create_ratio={:.1} merge_full_us={:.0} merge_delta_us={:.0} doc_bytes_per_issue={:.0} file_bytes_per_issue={:.0} open_ms={:.2} street_ms={:.2} overdue_ms={:.2} open_street_overdue_ms={:.2} detail_ms={:.2}",
        core_s / events * 1e6,
        core_s / plain_s,
        full_merge * 1e6,
        delta_merge * 1e6,
        doc_bytes as f64 / create_n as f64,
        per_issue_file,
        o,
        st,
        ov,
        o + st + ov,
        de
    );
}
