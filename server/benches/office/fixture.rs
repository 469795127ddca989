//! The district month in a server's data folder, as the server holds it once every phone has
//! synced: the month of the reports benchmark (`core/benches/common/district.rs`: 685 streets,
//! 315 chiefs, 1,500 stewards, 30 days of patrols, 1,500 issues, 90,000 pickups with their
//! points), written through the server's own `Storage`/`Tx` API in large transactions with the
//! checks and writes of a sync:
//!
//! - the district, subdistrict 八角街道 and the street grid imported with
//!   `network::import_streets`; every person made with `people::create_user`, one phone each
//!   (`Tx::add_device`), chiefs and stewards assigned with `people::assign_in`;
//! - each patrol recorded on its walker's phone (the fix filter judging each fix as it comes,
//!   source `recorded`), its header taken as a sync takes it (`validate::check_patrol`,
//!   `put_patrol`, the fix claim, the feed), then its fixes as the fixes upload takes them
//!   (`validate::check_fixes`, `insert_fixes`) with the summary the server computes from them
//!   (`validate::summary_from_fixes`); one transaction per day (about 530 patrols, 87,000 fixes);
//! - each issue written with the document model by the phones that act on it: reported by the
//!   street's chief (`doc::create`), assigned to the owning department, accepted and resolved
//!   with an after-photo by the district supervisor (`propose_event`, `doc::append_event`),
//!   every change stored through `sync::accept_server_doc` / `accept_server_change` (the
//!   server's document policy, role table and fold); the photo is a stored blob;
//! - each pickup and its points entry taken as a sync takes records (`validate::check_pickup`,
//!   `validate::check_points`, `put_record`, `put_points`, the feed).
//!
//! Unlike the reports benchmark (where the supervisor's own phone reported every issue), the
//! street's chief reports it, as in the field; the walks, streets, times and counts are the same.
//! The issue index the office reads is left as a sync leaves it: empty, to be caught up by the
//! first office page.

use std::collections::HashSet;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::Instant;

use automerge::Automerge;
use patrol_model::docs::fields::actor_from_hex;
use patrol_model::domain::{
    Department, IssueEventId, IssueEventKind, IssueId, PatrolId, PatrolState, PhotoStage, StoredFix,
};
use patrol_model::hlc::HlcClock;
use patrol_model::issues::act::{Author, propose_event};
use patrol_model::issues::doc::{self, NewIssueDoc};
use patrol_model::issues::{
    Assignee, EventPayload, IssueEvent, IssueLocation, PhotoRef, Reporter, fold,
};
use patrol_model::sim::SimRng;
use patrol_model::streets::StreetImportOptions;
use patrol_model::track::{FilterState, TrackConfig, compute_stats};
use patrol_model::wire::{DocKind, LedgerRecord, PatrolRecord, Scope, UserRecord};
use patrol_model::{DeviceId, Role, UserId};
use patrol_server::policy::{DeviceCtx, DocPolicy};
use patrol_server::storage::{BlobRow, FeedScope, Storage, Tx};
use patrol_server::{admin, network, people, secrets, validate};
use serde_json::json;

use crate::district::{self, CHIEFS, DAYS, STEWARDS, Walker};

pub const DISTRICT: &str = "石景山区";
pub const SUBDISTRICT: &str = "八角街道";
/// The district supervisor who signs in to the office.
pub const SUPERVISOR: &str = "区城管委督查员";
/// How long after a patrol's stop, a pickup or an issue's event its phone syncs it.
const SYNC_AFTER_MS: i64 = 10 * 60 * 1000;

pub fn cache_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-cache")
}

/// The server's storage schema version (that of a fresh data folder).
fn schema_version() -> i64 {
    let tmp = tempfile::tempdir().expect("temp dir");
    drop(patrol_server::open_storage(tmp.path()).expect("fresh storage"));
    rusqlite::Connection::open(tmp.path().join("server.db"))
        .and_then(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
        .expect("schema version")
}

/// The cached data folder, built first when absent.
pub fn cached() -> PathBuf {
    let root = cache_root();
    let dir = root.join(format!("office-district-schema{}", schema_version()));
    if dir.join("server.db").is_file() {
        println!(
            "data: reusing {} (delete that folder to rebuild it)",
            dir.display()
        );
        return dir;
    }
    std::fs::create_dir_all(&root).expect("cache dir");
    let building = dir.with_extension("building");
    let _ = std::fs::remove_dir_all(&building);
    println!(
        "data: building {} once (a few minutes on 2 cores) ...",
        dir.display()
    );
    let started = Instant::now();
    build(&building);
    std::fs::rename(&building, &dir).expect("move the built data into place");
    println!(
        "data: built in {:.0} s; delete {} to rebuild it",
        started.elapsed().as_secs_f64(),
        dir.display()
    );
    dir
}

/// A copy of the cached data folder in a fresh temporary folder (the server writes to its data:
/// sessions, the audit log, the issue index), so every run starts from the same data.
pub fn working_copy(cached: &Path) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir_in(cache_root()).expect("temp dir");
    let data = tmp.path().join("data");
    copy_dir(cached, &data);
    (tmp, data)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A person and their phone.
struct Phone {
    ctx: DeviceCtx,
    actor: String,
}

impl Phone {
    fn author(&self) -> Author<'_> {
        Author {
            user_id: &self.ctx.user.id,
            role: self.ctx.user.role,
            device_id: self.ctx.device_id,
        }
    }
}

/// Adds `user` with an enrolment code and one enrolled phone.
fn enrol(tx: &mut dyn Tx, user: UserRecord, now: i64) -> Phone {
    let code = secrets::new_token();
    people::create_user(tx, &user, &code, now, people::ENROL_CODE_TTL_MS).expect("user");
    let device_id = DeviceId::new();
    let actor = hex::encode(device_id.0.as_bytes());
    let token_hash = secrets::hash_secret(&secrets::new_token());
    tx.add_device(
        &device_id,
        &user.id,
        &actor,
        &token_hash,
        Some("phone"),
        now,
    )
    .expect("device");
    Phone {
        ctx: DeviceCtx {
            device_id,
            user,
            actor_id: actor.clone(),
            streets: HashSet::new(),
        },
        actor,
    }
}

fn person(id: &str, name: String, role: Role, scope: Scope) -> UserRecord {
    UserRecord {
        id: id.parse().expect("user id"),
        name,
        role,
        scope,
    }
}

fn build(dir: &Path) {
    let started = Instant::now();
    let storage = patrol_server::open_storage(dir).expect("storage");
    let s = storage.as_ref();
    let policy = patrol_server::default_policy();
    admin::set_district(s, DISTRICT, None).expect("district");
    admin::add_subdistrict(s, SUBDISTRICT, None).expect("subdistrict");

    let streets = district::grid();
    assert_eq!(streets.len(), 685);
    let file = dir.join("district.geojson");
    std::fs::write(&file, district::geojson(&streets)).expect("write streets");
    let report = network::import_streets(
        s,
        &file,
        &StreetImportOptions {
            max_segment_m: district::MAX_SEGMENT_M,
            ..Default::default()
        },
    )
    .expect("import streets");
    std::fs::remove_file(&file).expect("remove the street file");
    println!(
        "  network: {} streets, {} segments ({:.0} s)",
        report.streets,
        report.segments,
        started.elapsed().as_secs_f64()
    );
    let ids: Vec<String> = {
        let mut tx = s.read().expect("read");
        streets
            .iter()
            .map(|(name, _)| {
                let found = tx.streets_named(name).expect("street");
                assert_eq!(found.len(), 1, "street {name}");
                found[0].clone()
            })
            .collect()
    };

    // People, their phones and assignments, in one transaction.
    let now = district::DEC_1 - 2 * district::DAY;
    let mut tx = s.write().expect("write");
    let supervisor = enrol(
        tx.as_mut(),
        UserRecord {
            id: UserId::new(),
            name: SUPERVISOR.into(),
            role: Role::Supervisor,
            scope: Scope::District,
        },
        now,
    );
    let mut chiefs: Vec<Phone> = (0..CHIEFS)
        .map(|i| {
            let u = person(
                &district::chief_id(i),
                district::chief_name(i),
                Role::Chief,
                Scope::Own,
            );
            enrol(tx.as_mut(), u, now)
        })
        .collect();
    let mut stewards: Vec<Phone> = (0..STEWARDS)
        .map(|i| {
            let u = person(
                &district::steward_id(i),
                district::steward_name(i),
                Role::Steward,
                Scope::Own,
            );
            enrol(tx.as_mut(), u, now)
        })
        .collect();
    for (k, id) in ids.iter().enumerate() {
        let c = &mut chiefs[k % CHIEFS];
        people::assign_in(tx.as_mut(), id, &c.ctx.user.id, Role::Chief, true).expect("assign");
        c.ctx.streets.insert(id.clone());
    }
    for (i, st) in stewards.iter_mut().enumerate() {
        let id = &ids[i % ids.len()];
        people::assign_in(tx.as_mut(), id, &st.ctx.user.id, Role::Steward, true).expect("assign");
        st.ctx.streets.insert(id.clone());
    }
    tx.commit().expect("commit people");
    println!(
        "  {} chiefs, {} stewards and a district supervisor, each with a phone ({:.0} s)",
        chiefs.len(),
        stewards.len(),
        started.elapsed().as_secs_f64()
    );

    // Patrols, a day per transaction.
    let mut rng = SimRng::new(district::WALK_SEED);
    let config = TrackConfig::default();
    let (mut patrols, mut fixes) = (0usize, 0usize);
    for day in 0..DAYS {
        let mut tx = s.write().expect("write");
        for p in district::patrols_of_day(day, streets.len()) {
            let phone = match p.walker {
                Walker::Chief(c) => &chiefs[c],
                Walker::Steward(i) => &stewards[i],
            };
            let walked =
                district::walk(&streets[p.street].1, p.there_and_back, p.start_ms, &mut rng);
            fixes += store_patrol(tx.as_mut(), phone, &walked, p.start_ms, &config);
            patrols += 1;
        }
        tx.commit().expect("commit patrols");
        if (day + 1) % 5 == 0 {
            println!(
                "  day {}: {patrols} patrols, {fixes} fixes so far ({:.0} s)",
                day + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }

    // Pickups and their points, in one transaction.
    let mut tx = s.write().expect("write");
    let plan = district::pickups(streets.len());
    for p in &plan {
        store_pickup(tx.as_mut(), &stewards[p.steward], p, &ids[p.street]);
    }
    tx.commit().expect("commit pickups");
    println!(
        "  {} pickups with their points ({:.0} s)",
        plan.len(),
        started.elapsed().as_secs_f64()
    );

    // Issues, in one transaction.
    let photo = after_photo(dir.join("blobs"), s, &supervisor);
    let mut tx = s.write().expect("write");
    let plan = district::issues(&streets);
    for issue in &plan {
        let chief = &chiefs[issue.street % CHIEFS];
        store_issue(
            tx.as_mut(),
            policy.as_ref(),
            chief,
            &supervisor,
            issue,
            &ids[issue.street],
            &photo,
        );
    }
    tx.commit().expect("commit issues");
    println!(
        "  {} issues ({:.0} s)",
        plan.len(),
        started.elapsed().as_secs_f64()
    );
    // What a running server has done by the time a month has synced: measured each complete
    // patrol's coverage as it came in (the background measurer), and folded the issue index.
    let mut measured = 0;
    loop {
        let n = patrol_server::coverage::measure_pending(s, 256).expect("measure patrols");
        if n == 0 {
            break;
        }
        measured += n;
    }
    patrol_server::issue_index::catch_up(s).expect("issue index");
    println!(
        "  {measured} patrols' coverage measured, as the server's background measurer does ({:.0} s)",
        started.elapsed().as_secs_f64()
    );
    drop(storage);
}

/// One patrol as its phone records it (each fix judged as it comes) and syncs it: the header,
/// then the fixes. Returns how many fixes.
fn store_patrol(
    tx: &mut dyn Tx,
    phone: &Phone,
    walked: &[patrol_model::domain::NewFix],
    start_ms: i64,
    config: &TrackConfig,
) -> usize {
    let mut filter = FilterState::default();
    let stored: Vec<StoredFix> = walked
        .iter()
        .enumerate()
        .map(|(seq, f)| StoredFix {
            seq: seq as i64,
            segment: 0,
            lat: f.lat,
            lon: f.lon,
            accuracy_m: f.accuracy_m,
            altitude_m: f.altitude_m,
            speed_mps: f.speed_mps,
            bearing_deg: f.bearing_deg,
            time_ms: f.time_ms,
            provider: f.provider.clone(),
            is_mock: f.is_mock,
            verdict: filter.push(&config.filter, f, None),
        })
        .collect();
    let stats = compute_stats(&config.metrics, &stored);
    let stop = stats.end_ms.unwrap_or(start_ms);
    let now = stop + SYNC_AFTER_MS;
    let header = PatrolRecord {
        id: PatrolId::new(),
        user_id: phone.ctx.user.id,
        device_id: phone.ctx.device_id,
        state: PatrolState::Stopped,
        source: "recorded".into(),
        name: None,
        started_at_ms: start_ms,
        stopped_at_ms: Some(stop),
        planned_streets: Vec::new(),
        summary: Some(serde_json::to_value(&stats).expect("stats")),
        check_ins: Vec::new(),
    };
    let id = header.id.to_string();
    let scope = FeedScope {
        owner_id: Some(phone.ctx.user.id.to_string()),
        ..Default::default()
    };
    // The header, as a sync takes it (no fixes yet: no summary of the server's own).
    let kept = validate::check_patrol(tx, &phone.ctx, &header, None, now).expect("patrol");
    tx.put_patrol(&kept, now).expect("put patrol");
    tx.set_patrol_fix_claim(&id, validate::claimed_fixes(&header))
        .expect("claim");
    tx.feed_touch("patrol", &id, &scope).expect("feed");
    // The fixes, as the fixes upload takes them: all there, so the summary is the server's.
    validate::check_fixes(&id, &stored, 0, now).expect("fixes");
    let mark = tx.insert_fixes(&id, &stored).expect("insert fixes");
    assert_eq!(mark, stored.len() as i64);
    tx.put_patrol(
        &PatrolRecord {
            summary: Some(validate::summary_from_fixes(&stored)),
            ..kept
        },
        now,
    )
    .expect("summary");
    tx.feed_touch("patrol", &id, &scope).expect("feed");
    stored.len()
}

/// A pickup and its points entry, as a sync takes records.
fn store_pickup(tx: &mut dyn Tx, phone: &Phone, p: &district::PlannedPickup, street: &str) {
    let me = phone.ctx.user.id;
    let now = p.at_ms + SYNC_AFTER_MS;
    let pickup = LedgerRecord {
        kind: "pickup".into(),
        id: p.id.clone(),
        user_id: me,
        body: json!({
            "id": p.id, "user_id": me, "device_id": phone.ctx.device_id, "at_ms": p.at_ms,
            "lat": p.lat, "lon": p.lon, "bags": 1, "items": 0, "street_id": street,
        }),
    };
    let checked = validate::check_pickup(tx, &phone.ctx, &pickup, now).expect("pickup");
    assert!(tx.put_record(&pickup).expect("put pickup"));
    let subdistrict_id = tx.street_subdistrict(street).expect("street").flatten();
    tx.feed_touch(
        "record:pickup",
        &p.id,
        &FeedScope {
            street_id: checked.street_id,
            subdistrict_id,
            owner_id: Some(me.to_string()),
            audience: Vec::new(),
        },
    )
    .expect("feed");
    let points = LedgerRecord {
        kind: "points".into(),
        id: p.id.clone(),
        user_id: me,
        body: json!({
            "id": p.id, "user_id": me, "at_ms": p.at_ms,
            "day": patrol_model::report::period::beijing_day(p.at_ms), "kind": "pickup",
            "source_id": p.id, "rule_id": "pickup", "rule_version": 1, "points": 3, "note": null,
        }),
    };
    let row = validate::check_points(tx, &phone.ctx, &points, now).expect("points");
    assert_eq!(row.points, 3);
    assert!(tx.put_record(&points).expect("put points"));
    tx.put_points(&row).expect("ledger");
    tx.feed_touch(
        "record:points",
        &p.id,
        &FeedScope {
            owner_id: Some(me.to_string()),
            ..Default::default()
        },
    )
    .expect("feed");
}

/// The after-photo every resolve carries (as the reports benchmark: one 320 x 240 picture),
/// stored as the supervisor's phone uploads it; returns what its document entries say of it.
fn after_photo(blobs: PathBuf, s: &dyn Storage, supervisor: &Phone) -> PhotoRef {
    let img = image::RgbImage::from_fn(320, 240, |x, y| {
        image::Rgb([(x / 2) as u8, (y / 2) as u8, 90])
    });
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new(&mut Cursor::new(&mut bytes))
        .encode_image(&img)
        .expect("jpeg");
    let inspected = patrol_core::photos::inspect_photo_bytes(
        "after.jpg",
        &bytes,
        &patrol_model::photos::PhotoLimits::default(),
    )
    .expect("photo");
    let path = patrol_server::blob_access::blob_file(&blobs, &inspected.sha256);
    patrol_server::blob_access::write_blob_file(&path, &bytes).expect("blob file");
    let mut tx = s.write().expect("write");
    tx.put_blob(
        &BlobRow {
            hash: inspected.sha256.clone(),
            size: bytes.len() as u64,
            received: bytes.len() as u64,
            complete: true,
            uploaded_by: Some(supervisor.ctx.user.id),
        },
        district::DEC_1,
    )
    .expect("blob");
    tx.commit().expect("commit blob");
    PhotoRef {
        sha256: inspected.sha256,
        stage: PhotoStage::After,
        mime: inspected.mime.to_owned(),
        size_bytes: bytes.len() as u64,
        width: inspected.width,
        height: inspected.height,
        taken_at_ms: inspected.exif.taken_at_ms,
        lat: None,
        lon: None,
        orientation: inspected.exif.orientation,
        added_by: supervisor.ctx.user.id,
        thumbnail: inspected.thumbnail,
    }
}

/// One issue taken round its loop by the phones that act on it, each change stored as the
/// server stores a device's upload.
fn store_issue(
    tx: &mut dyn Tx,
    policy: &dyn DocPolicy,
    chief: &Phone,
    supervisor: &Phone,
    issue: &district::PlannedIssue,
    street: &str,
    photo: &PhotoRef,
) {
    let id = IssueId::new();
    let at = issue.reported_at_ms;
    let report = IssueEvent {
        id: IssueEventId::new(),
        kind: IssueEventKind::Report,
        by: chief.ctx.user.id,
        role: Role::Chief,
        device: chief.ctx.device_id,
        at: HlcClock::new(chief.actor.clone()).tick(at),
        round: 1,
        payload: EventPayload::default(),
    };
    let created = doc::create(
        actor_from_hex(&chief.actor).expect("actor"),
        &NewIssueDoc {
            id,
            category: issue.category,
            description: "",
            location: &IssueLocation {
                lat: issue.lat,
                lon: issue.lon,
                street_id: Some(street.to_owned()),
                segment_id: None,
            },
            reporter: &Reporter {
                user_id: chief.ctx.user.id,
                name: chief.ctx.user.name.clone(),
                role: Role::Chief,
                device_id: chief.ctx.device_id,
            },
            report: &report,
            photos: &[],
        },
    )
    .expect("issue document");
    let id = id.to_string();
    patrol_server::sync::accept_server_doc(
        tx,
        policy,
        &chief.ctx,
        DocKind::Issue,
        &id,
        &created,
        at + SYNC_AFTER_MS,
    )
    .expect("report");
    if !issue.assigned {
        return;
    }
    let owner = EventPayload {
        to: Some(Assignee::Department(Department::Owner)),
        ..Default::default()
    };
    act(
        tx,
        policy,
        supervisor,
        &id,
        IssueEventKind::Assign,
        owner,
        None,
        at,
    );
    if let Some(accepted) = issue.accepted_at_ms {
        let none = EventPayload::default();
        act(
            tx,
            policy,
            supervisor,
            &id,
            IssueEventKind::Accept,
            none,
            None,
            accepted,
        );
    }
    if let Some(resolved) = issue.resolved_at_ms {
        let here = PhotoRef {
            lat: Some(issue.lat),
            lon: Some(issue.lon),
            ..photo.clone()
        };
        let cites = EventPayload {
            photo: Some(here.sha256.clone()),
            ..Default::default()
        };
        act(
            tx,
            policy,
            supervisor,
            &id,
            IssueEventKind::Resolve,
            cites,
            Some(&here),
            resolved,
        );
    }
}

/// `phone` adds one event to issue `id` at `at_ms` and syncs it.
#[expect(
    clippy::too_many_arguments,
    reason = "an event's parts, spelled out at each call"
)]
fn act(
    tx: &mut dyn Tx,
    policy: &dyn DocPolicy,
    phone: &Phone,
    id: &str,
    kind: IssueEventKind,
    payload: EventPayload,
    photo: Option<&PhotoRef>,
    at_ms: i64,
) {
    let row = tx.doc(id).expect("doc").expect("stored issue");
    let before = Automerge::load(&row.data).expect("load");
    let issue = doc::read(&before).expect("read");
    let state = fold(&issue);
    let payload = EventPayload {
        replaces: if kind == IssueEventKind::Assign {
            state.assignments.iter().map(|a| a.event).collect()
        } else {
            payload.replaces.clone()
        },
        ..payload
    };
    let at = HlcClock::new(phone.actor.clone()).stamp_after(issue.latest_stamp(), at_ms);
    let event = propose_event(&issue, &state, &phone.author(), kind, payload, photo, at)
        .unwrap_or_else(|r| panic!("{kind:?} on {id}: {}", r.0));
    let mut after = before.clone();
    after.set_actor(actor_from_hex(&phone.actor).expect("actor"));
    doc::append_event(&mut after, &event, photo).expect("append");
    patrol_server::sync::accept_server_change(
        tx,
        policy,
        &phone.ctx,
        DocKind::Issue,
        id,
        &before,
        &after,
        at_ms + SYNC_AFTER_MS,
    )
    .expect("event");
}

/// What the data folder holds, counted.
pub fn figures(data: &Path) -> String {
    let db = rusqlite::Connection::open_with_flags(
        data.join("server.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open");
    let n = |sql: &str| {
        db.query_row(sql, [], |r| r.get::<_, i64>(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    };
    let segments: i64 = {
        let mut stmt = db
            .prepare("SELECT body FROM reference WHERE tbl = 'street' AND deleted = 0")
            .expect("streets");
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .expect("streets");
        rows.map(|b| {
            let v: serde_json::Value = serde_json::from_str(&b.expect("row")).expect("json");
            v["segments"].as_array().map_or(0, |a| a.len() as i64)
        })
        .sum()
    };
    let size = std::fs::metadata(data.join("server.db"))
        .map(|m| m.len())
        .unwrap_or(0);
    format!(
        "{} streets, {segments} segments, {} chiefs, {} stewards, {} supervisor(s), {} devices, {} patrols, {} fixes, {} issues ({} assigned to the owning department, {} of them resolved with an after-photo; {} only reported), {} pickups, {} points entries; server.db {:.0} MB",
        n("SELECT COUNT(*) FROM street"),
        n("SELECT COUNT(*) FROM user WHERE role = 'chief'"),
        n("SELECT COUNT(*) FROM user WHERE role = 'steward'"),
        n("SELECT COUNT(*) FROM user WHERE role = 'supervisor'"),
        n("SELECT COUNT(*) FROM device"),
        n("SELECT COUNT(*) FROM patrol"),
        n("SELECT COUNT(*) FROM fix"),
        n("SELECT COUNT(*) FROM doc WHERE kind = 'issue'"),
        n("SELECT COUNT(*) FROM feed WHERE kind = 'doc:issue' AND audience <> ''"),
        n("SELECT COUNT(*) FROM doc WHERE kind = 'issue' AND blobs <> ''"),
        n("SELECT COUNT(*) FROM feed WHERE kind = 'doc:issue' AND audience = ''"),
        n("SELECT COUNT(*) FROM record WHERE kind = 'pickup'"),
        n("SELECT COUNT(*) FROM points_ledger"),
        size as f64 / 1e6
    )
}
