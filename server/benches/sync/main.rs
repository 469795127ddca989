//! Sync benchmark (issue 5), in one run, against a real `patrol-server` process on loopback:
//!
//! 1. initial sync of 10,000 issue documents and 1,000,000 GPS fixes to a fresh supervisor's
//!    phone on wifi: total, the documents part and the fixes part (time and bytes), fixes per
//!    second; and a documents-only sync (cellular: bulk fixes wait for wifi) of another fresh
//!    supervisor, which is what the JavaScript comparison measures;
//! 2. re-syncs with the 10,000 documents present: nothing changed, 10 documents changed on
//!    another phone, 10 changed on this one (milliseconds, body bytes and wire bytes), against a
//!    bare `GET /healthz` on a fresh connection;
//! 3. 50 phones (25 chiefs and 25 stewards, two to a street) syncing at once, each reporting an
//!    issue or commenting and syncing, round after round: syncs per second, median and p99
//!    latency, against 50 threads doing bare `GET /healthz`;
//! 4. the server's memory (VmHWM, VmRSS from /proc) after each scenario, each scenario on its
//!    own server process;
//! 5. the Automerge project's own JavaScript sync server on the same 10,000 documents: a fresh
//!    Node client fetching them all from the server just started, then ten fresh clients in
//!    turn fetching 1,000 each from the warm server (the most favourable case for JS), against
//!    our fresh documents-only sync.
//!
//! The data is built once and cached in `target/bench-cache/sync-v1/` (see `fixture.rs`: about a
//! minute for ours; loading the same documents into the JS server takes about 10 more, once).
//! Each measured run copies the cached data into a temporary folder, so runs do not affect each
//! other. Wire bytes are counted by a TCP proxy between the phone and the
//! server; body bytes are the client's `SyncReport` (uncompressed bodies).
//!
//! Run: `cargo bench -p patrol-server --bench sync` (about 10 minutes once the data is cached,
//! 5 to 7 of them the JavaScript side's; add `-- --quick` for one run of ours and no JS).

#[path = "../../../core/benches/common/mod.rs"]
mod common;
mod fixture;
mod floor;
mod js;
mod proxy;
mod serverproc;

use std::path::Path;
use std::sync::{Arc, Barrier, Mutex};
use std::time::Instant;

use patrol_core::issues::{IssueQuery, NewIssue};
use patrol_core::sync::wire::Scope;
use patrol_core::sync::{NetworkState, SyncPolicy, SyncProgress, SyncReport, SyncStage};
use patrol_core::{IssueId, Role, Store, StoreConfig};
use patrol_model::sim::SimRng;
use patrol_server::admin;

use common::{machine, median};
use fixture::{Fixture, enrol_device, sync_wifi};
use proxy::{Bytes, CountingProxy};
use serverproc::{Memory, ServerProcess, http_get};

const DEVICES: usize = 50;
/// Fresh JS clients sharing the warm-server fetch.
const JS_SPLIT: usize = 10;

struct Settings {
    quick: bool,
    /// Fresh-supervisor runs (each on its own server process and data copy).
    initial_runs: usize,
    resync_rounds: usize,
    noop_syncs: usize,
    device_rounds: usize,
    js_runs: usize,
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 * p).ceil() as usize)
        .saturating_sub(1)
        .min(v.len() - 1)]
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

fn kb(b: f64) -> String {
    if b >= 1e6 {
        format!("{:.2} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.1} kB", b / 1e3)
    } else {
        format!("{b:.0} B")
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

fn sync_with(store: &mut Store, policy: &SyncPolicy, progress: &dyn SyncProgress) -> SyncReport {
    patrol_core::sync::sync(store, &fixture::transport(), policy, progress).expect("sync")
}

/// Points a phone at another server address.
fn repoint(store: &Store, url: &str) {
    store
        .connection()
        .execute("UPDATE sync_account SET server_url = ?1", [url])
        .expect("repoint");
}

/// Records when each progress report came and the proxy's byte counts then, to split one sync
/// into its documents part and its fixes part.
struct Marks {
    proxy: Arc<proxy::Counters>,
    marks: Mutex<Vec<(SyncStage, Instant, Bytes)>>,
}

impl SyncProgress for Marks {
    fn progress(&self, stage: SyncStage, _done: u64, _total: u64) {
        use std::sync::atomic::Ordering::SeqCst;
        let b = Bytes {
            up: self.proxy.up.load(SeqCst),
            down: self.proxy.down.load(SeqCst),
        };
        self.marks
            .lock()
            .expect("marks")
            .push((stage, Instant::now(), b));
    }
}

/// Time and bytes of repeated syncs.
#[derive(Default)]
struct Samples {
    ms: Vec<f64>,
    /// Bytes on the wire (through the proxy), both ways.
    wire: Vec<f64>,
    /// Body bytes as the client counts them (uncompressed), both ways.
    body: Vec<f64>,
}

impl Samples {
    /// Runs one sync of `store` (enrolled through `proxy`) and records its time and bytes.
    fn sync(
        &mut self,
        store: &mut Store,
        proxy: &CountingProxy,
        policy: &SyncPolicy,
    ) -> SyncReport {
        let b0 = proxy.bytes();
        let t = Instant::now();
        let r = sync_with(store, policy, &patrol_core::sync::NoProgress);
        self.ms.push(ms_since(t));
        self.wire.push(proxy.bytes().since(b0).total() as f64);
        self.body.push((r.bytes_up + r.bytes_down) as f64);
        r
    }
}

/// A fresh copy of the cached server data with new supervisors (district scope); returns their
/// enrolment codes.
fn data_copy(fixture: &Fixture, dir: &Path, supervisors: usize) -> Vec<String> {
    let data = dir.join("server");
    copy_dir(&fixture.server_data(), &data);
    let storage = patrol_server::open_storage(&data).expect("storage");
    (0..supervisors)
        .map(|i| {
            admin::add_user(
                storage.as_ref(),
                &format!("主任{i}"),
                Role::Supervisor,
                Scope::District,
                None,
            )
            .expect("supervisor")
            .enrol_code
        })
        .collect()
}

#[derive(Default)]
struct Initial {
    total_ms: Vec<f64>,
    docs_ms: Vec<f64>,
    fixes_ms: Vec<f64>,
    docs_wire: Vec<f64>,
    fixes_wire: Vec<f64>,
    body: Vec<f64>,
    only_docs: Samples,
    requests: u64,
    memory: Vec<Memory>,
    idle: Vec<Memory>,
    server_docs_ms: Vec<f64>,
    server_docs_bytes: Vec<f64>,
    server_fixes_ms: Vec<f64>,
    phone_docs_ms: Vec<f64>,
    phone_fixes_ms: Vec<f64>,
}

/// Scenario 1. Returns the measurements and the last run's folder, server data and supervisor
/// phone (holding everything) for the re-sync scenario.
fn initial_sync(
    fixture: &Fixture,
    s: &Settings,
    documents: &[Vec<u8>],
) -> (Initial, tempfile::TempDir, Store) {
    let mut out = Initial::default();
    let mut last = None;
    for run in 0..s.initial_runs {
        let tmp = tempfile::tempdir().expect("tempdir");
        let codes = data_copy(fixture, tmp.path(), 3);
        let server = ServerProcess::start(&tmp.path().join("server"));
        out.idle.push(server.memory());
        let proxy = CountingProxy::start(server.addr);

        // Documents only: cellular, so the bulk fixes wait for wifi.
        let mut only = enrol_device(
            &tmp.path().join("supervisor-cellular"),
            &proxy.url(),
            &codes[1],
        );
        let r = out
            .only_docs
            .sync(&mut only, &proxy, &SyncPolicy::on(NetworkState::Cellular));
        assert_eq!(
            r.docs_down as usize,
            fixture::ISSUES,
            "documents-only sync: {r:?}"
        );
        assert_eq!(r.fixes_down, 0);

        // Everything, on wifi.
        let mut sup = enrol_device(&tmp.path().join("supervisor"), &proxy.url(), &codes[0]);
        let marks = Marks {
            proxy: proxy.counters.clone(),
            marks: Mutex::new(Vec::new()),
        };
        let b0 = proxy.bytes();
        let t0 = Instant::now();
        let r = sync_with(&mut sup, &SyncPolicy::on(NetworkState::Wifi), &marks);
        let t_end = Instant::now();
        let b_end = proxy.bytes();
        assert_eq!(r.docs_down as usize, fixture::ISSUES, "initial sync: {r:?}");
        assert_eq!(r.fixes_down as usize, fixture::FIXES, "initial sync: {r:?}");
        let marks = marks.marks.into_inner().expect("marks");
        let (_, t_docs, b_docs) = marks
            .iter()
            .rev()
            .find(|(stage, _, _)| *stage == SyncStage::Documents)
            .cloned()
            .expect("a documents mark");
        out.total_ms.push((t_end - t0).as_secs_f64() * 1e3);
        out.docs_ms.push((t_docs - t0).as_secs_f64() * 1e3);
        out.fixes_ms.push((t_end - t_docs).as_secs_f64() * 1e3);
        out.docs_wire.push(b_docs.since(b0).total() as f64);
        out.fixes_wire.push(b_end.since(b_docs).total() as f64);
        out.body.push((r.bytes_up + r.bytes_down) as f64);
        out.requests = r.requests;

        // Where the time goes: the server's part over raw HTTP, the phone's part without network.
        let raw = enrol_device(&tmp.path().join("supervisor-raw"), &server.url(), &codes[2]);
        let token = raw.require_account().expect("account").token;
        let (ms, docs, bytes) = floor::server_docs(server.addr, &token);
        assert_eq!(docs as usize, fixture::ISSUES);
        out.server_docs_ms.push(ms);
        out.server_docs_bytes.push(bytes as f64);
        let token = sup.require_account().expect("account").token;
        let (ms, fixes) = floor::server_fixes(server.addr, &token, &floor::patrol_ends(&sup));
        assert_eq!(fixes as usize, fixture::FIXES);
        out.server_fixes_ms.push(ms);
        out.memory.push(server.stop());
        let (ms, fixes) = floor::phone_fixes(&mut only, &sup);
        assert_eq!(fixes as usize, fixture::FIXES);
        out.phone_fixes_ms.push(ms);
        drop(only);
        out.phone_docs_ms
            .push(floor::phone_docs(tmp.path(), documents));
        println!(
            "  run {}: documents only {:.0} ms; wifi total {:.0} ms = documents {:.0} ms + fixes {:.0} ms ({} requests)",
            run + 1,
            out.only_docs.ms[run],
            out.total_ms[run],
            out.docs_ms[run],
            out.fixes_ms[run],
            r.requests
        );
        last = Some((tmp, sup));
    }
    let (tmp, sup) = last.expect("at least one run");
    (out, tmp, sup)
}

#[derive(Default)]
struct Resync {
    noop: Samples,
    /// 10 documents changed on another phone.
    down: Samples,
    /// 10 documents changed on this phone.
    up: Samples,
    healthz_ms: Vec<f64>,
    memory: Memory,
}

/// Scenario 2, on a new server process over the data the last initial sync left.
fn resync(fixture: &Fixture, s: &Settings, tmp: &Path, sup: &mut Store) -> Resync {
    let mut out = Resync::default();
    let server = ServerProcess::start(&tmp.join("server"));
    let proxy = CountingProxy::start(server.addr);
    repoint(sup, &proxy.url());
    copy_dir(&fixture.chief_dir(), &tmp.join("chief"));
    let mut chief =
        Store::open(tmp.join("chief/phone.db"), StoreConfig::default()).expect("chief's phone");
    repoint(&chief, &server.url());
    let wifi = SyncPolicy::on(NetworkState::Wifi);

    // Warm-up: a first re-sync may still confirm something.
    sync_with(sup, &wifi, &patrol_core::sync::NoProgress);
    for _ in 0..s.noop_syncs {
        let r = out.noop.sync(sup, &proxy, &wifi);
        assert_eq!(
            (r.docs_up, r.docs_down, r.fixes_down),
            (0, 0, 0),
            "a no-op sync moved something: {r:?}"
        );
        let t = Instant::now();
        assert_eq!(http_get(proxy.addr, "/healthz").expect("healthz"), 200);
        out.healthz_ms.push(ms_since(t));
    }

    let mut ids: Vec<IssueId> = chief
        .list_issues(&IssueQuery {
            limit: Some(fixture::ISSUES as u32),
            ..Default::default()
        })
        .expect("list")
        .into_iter()
        .map(|i| i.id)
        .collect();
    let mut rng = SimRng::new(0x10c4);
    for i in (1..ids.len()).rev() {
        ids.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
    }
    let mut batches = ids.chunks(10);
    for round in 0..s.resync_rounds {
        // 10 documents changed on the chief's phone, synced there, then fetched here.
        for id in batches.next().expect("ids") {
            chief
                .comment_issue(*id, &format!("第{}轮复查：仍需处理", round + 1))
                .expect("chief comments");
        }
        let up = sync_wifi(&mut chief);
        assert_eq!(up.docs_up, 10, "the chief's sync: {up:?}");
        let r = out.down.sync(sup, &proxy, &wifi);
        assert_eq!(r.docs_down, 10, "10 changed elsewhere: {r:?}");

        // 10 documents changed here and sent.
        for id in batches.next().expect("ids") {
            sup.comment_issue(*id, "督办：请本周内完成")
                .expect("supervisor comments");
        }
        let r = out.up.sync(sup, &proxy, &wifi);
        assert_eq!(r.docs_up, 10, "10 changed here: {r:?}");
    }
    out.memory = server.stop();
    out
}

#[derive(Default)]
struct Crowd {
    syncs: usize,
    errors: usize,
    wall_s: f64,
    latency_ms: Vec<f64>,
    setup_s: f64,
    docs_at_setup: u64,
    healthz_per_s: f64,
    healthz_ms: Vec<f64>,
    memory: Memory,
}

/// Scenario 3: 50 phones (a chief and a steward on each of 25 streets) on a new server process
/// over the same data.
fn crowd(s: &Settings, tmp: &Path) -> Crowd {
    let mut out = Crowd::default();
    let data = tmp.join("server");
    let streets = fixture::street_ids(&data);
    let mut people = Vec::new();
    {
        let storage = patrol_server::open_storage(&data).expect("storage");
        for (i, (name, street_id)) in streets.iter().take(DEVICES / 2).enumerate() {
            for role in [Role::Chief, Role::Steward] {
                let u = admin::add_user(
                    storage.as_ref(),
                    &format!("{name}{role}{i}"),
                    role,
                    Scope::Own,
                    None,
                )
                .expect("user");
                admin::assign(storage.as_ref(), street_id, &u.user_id, role, true).expect("assign");
                people.push((u.enrol_code, street_id.clone()));
            }
        }
    }
    let server = ServerProcess::start(&data);
    let url = server.url();

    // Baseline: the same 50 threads, each doing bare GET /healthz on fresh connections.
    let rounds = s.device_rounds * 4;
    let t = Instant::now();
    let handles: Vec<_> = (0..DEVICES)
        .map(|_| {
            let addr = server.addr;
            std::thread::spawn(move || {
                (0..rounds)
                    .map(|_| {
                        let t = Instant::now();
                        assert_eq!(http_get(addr, "/healthz").expect("healthz"), 200);
                        ms_since(t)
                    })
                    .collect::<Vec<f64>>()
            })
        })
        .collect();
    for h in handles {
        out.healthz_ms.extend(h.join().expect("healthz thread"));
    }
    out.healthz_per_s = out.healthz_ms.len() as f64 / t.elapsed().as_secs_f64();

    let setup = Instant::now();
    let barrier = Arc::new(Barrier::new(DEVICES + 1));
    let handles: Vec<_> = people
        .into_iter()
        .enumerate()
        .map(|(i, (code, street))| {
            let (url, barrier, dir) =
                (url.clone(), barrier.clone(), tmp.join(format!("device{i}")));
            let rounds = s.device_rounds;
            std::thread::spawn(move || {
                let mut phone = enrol_device(&dir, &url, &code);
                let first = sync_wifi(&mut phone);
                let mut rng = SimRng::new(i as u64 + 1);
                barrier.wait();
                let mut latency = Vec::new();
                let mut errors = 0;
                for round in 0..rounds {
                    let mine = phone
                        .list_issues(&IssueQuery {
                            street_id: Some(street.clone()),
                            limit: Some(100),
                            ..Default::default()
                        })
                        .expect("list");
                    if round % 2 == 0 || mine.is_empty() {
                        let near = mine.first().map_or((39.9, 116.19), |m| (m.lat, m.lon));
                        let mut new =
                            NewIssue::at("litter", near.0 + (rng.uniform() - 0.5) * 0.0002, near.1);
                        new.street_id = Some(street.clone());
                        new.description = "路口有垃圾".into();
                        phone.report_issue(new).expect("report");
                    } else {
                        let pick = &mine[(rng.next_u64() % mine.len() as u64) as usize];
                        phone
                            .comment_issue(pick.id, "已到现场查看")
                            .expect("comment");
                    }
                    let t = Instant::now();
                    let policy = SyncPolicy {
                        max_attempts: 1,
                        ..SyncPolicy::on(NetworkState::Wifi)
                    };
                    match patrol_core::sync::sync(
                        &mut phone,
                        &fixture::transport(),
                        &policy,
                        &patrol_core::sync::NoProgress,
                    ) {
                        Ok(r) if r.rejected.is_empty() && r.docs_up == 1 => {
                            latency.push(ms_since(t))
                        }
                        Ok(r) => {
                            eprintln!("  device {i}: unexpected sync {r:?}");
                            errors += 1;
                        }
                        Err(e) => {
                            eprintln!("  device {i}: sync failed: {e}");
                            errors += 1;
                        }
                    }
                }
                (first.docs_down, latency, errors)
            })
        })
        .collect();
    barrier.wait();
    out.setup_s = setup.elapsed().as_secs_f64();
    let t = Instant::now();
    for h in handles {
        let (docs, latency, errors) = h.join().expect("device thread");
        out.docs_at_setup += docs;
        out.syncs += latency.len();
        out.errors += errors;
        out.latency_ms.extend(latency);
    }
    out.wall_s = t.elapsed().as_secs_f64();
    out.memory = server.stop();
    out
}

#[derive(Default)]
struct JsRuns {
    cold_ms: Vec<f64>,
    warm_ms: Vec<f64>,
    cold_process_ms: Vec<f64>,
    cold_wire: Vec<f64>,
    memory: Vec<Memory>,
}

/// Scenario 5: the JS sync server on the same documents.
fn javascript(fixture: &Fixture, s: &Settings) -> JsRuns {
    let mut out = JsRuns::default();
    let (data, urls) = js::ensure_loaded(fixture);
    for run in 0..s.js_runs {
        let tmp = tempfile::tempdir().expect("tempdir");
        copy_dir(&data, &tmp.path().join("js-data"));
        let server = js::start_server(&tmp.path().join("js-data"));
        let proxy = CountingProxy::start(server.addr);
        let b0 = proxy.bytes();
        let cold = js::fetch(proxy.addr, &urls);
        out.cold_wire.push(proxy.bytes().since(b0).total() as f64);
        assert_eq!(
            cold.ready as usize,
            fixture::ISSUES,
            "the JS client did not get every document"
        );
        let warm = js::fetch_split(proxy.addr, &urls, JS_SPLIT, tmp.path());
        assert_eq!(
            warm.ready as usize,
            fixture::ISSUES,
            "the JS clients did not get every document"
        );
        out.cold_ms.push(cold.ms);
        out.cold_process_ms.push(cold.process_ms);
        out.warm_ms.push(warm.ms);
        out.memory.push(server.stop());
        println!(
            "  run {}: one client, cold server {:.0} ms (node process {:.0} ms); {JS_SPLIT} clients in turn, warm server {:.0} ms (node processes {:.0} ms)",
            run + 1,
            cold.ms,
            cold.process_ms,
            warm.ms,
            warm.process_ms
        );
    }
    out
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let s = if quick {
        Settings {
            quick,
            initial_runs: 1,
            resync_rounds: 3,
            noop_syncs: 7,
            device_rounds: 4,
            js_runs: 0,
        }
    } else {
        Settings {
            quick,
            initial_runs: 3,
            resync_rounds: 7,
            noop_syncs: 21,
            device_rounds: 10,
            js_runs: 1,
        }
    };
    let node = js::node_version();
    println!(
        "sync benchmark{} on {}; Node {}",
        if s.quick { " (--quick)" } else { "" },
        machine(),
        node.as_deref().unwrap_or("absent")
    );
    let fixture = fixture::fixture();
    let documents = fixture.documents();
    let doc_bytes: usize = documents.iter().map(Vec::len).sum();
    println!("  every measured run works on its own copy of that data and its own server process");
    println!(
        "  {} issue documents ({} of Automerge, {} per document), {} fixes in {} patrols",
        fixture::ISSUES,
        kb(doc_bytes as f64),
        kb(doc_bytes as f64 / fixture::ISSUES as f64),
        fixture::FIXES,
        fixture::FIXES.div_ceil(fixture::FIXES_PER_PATROL)
    );

    println!(
        "\n1. initial sync to a fresh supervisor's phone ({} run(s), each on a fresh copy and server process)",
        s.initial_runs
    );
    let (mut a, tmp, mut sup) = initial_sync(&fixture, &s, &documents);
    let fixes_per_s = fixture::FIXES as f64 / (median(&mut a.fixes_ms) / 1e3);
    println!("   | what | median | bytes (wire) | bytes (bodies) |");
    println!(
        "   | wifi, total | {:.0} ms | {} | {} |",
        median(&mut a.total_ms),
        kb(median(&mut a.docs_wire) + median(&mut a.fixes_wire)),
        kb(median(&mut a.body))
    );
    println!(
        "   | documents part | {:.0} ms | {} | |",
        median(&mut a.docs_ms),
        kb(median(&mut a.docs_wire))
    );
    println!(
        "   | fixes part | {:.0} ms ({:.0} fixes/s; target >= 300,000) | {} | |",
        median(&mut a.fixes_ms),
        fixes_per_s,
        kb(median(&mut a.fixes_wire))
    );
    println!(
        "   | documents only (cellular, another fresh supervisor) | {:.0} ms (target < 2,000) | {} | {} |",
        median(&mut a.only_docs.ms),
        kb(median(&mut a.only_docs.wire)),
        kb(median(&mut a.only_docs.body))
    );

    let docs_total = median(&mut a.only_docs.ms);
    let fixes_total = median(&mut a.fixes_ms);
    println!("   where the time goes (same data, same run):");
    let server_docs = format!(
        "documents, server part: every page over raw HTTP, decoded not stored (no gzip, {})",
        kb(median(&mut a.server_docs_bytes))
    );
    let (of_docs, of_fixes) = ("of the documents-only sync", "of the fixes part");
    for (what, v, whole, of) in [
        (
            server_docs.as_str(),
            &mut a.server_docs_ms,
            docs_total,
            of_docs,
        ),
        (
            "documents, phone part: the 10,000 documents merged into a fresh store, no network",
            &mut a.phone_docs_ms,
            docs_total,
            of_docs,
        ),
        (
            "fixes, server part: every fix over raw HTTP, frames decoded not stored (no gzip)",
            &mut a.server_fixes_ms,
            fixes_total,
            of_fixes,
        ),
        (
            "fixes, phone part: the 1,000,000 fixes stored with store_synced_fixes, no network",
            &mut a.phone_fixes_ms,
            fixes_total,
            of_fixes,
        ),
    ] {
        let m = median(v);
        println!(
            "   | {what} | {m:.0} ms ({:.0} % {of}) |",
            100.0 * m / whole
        );
    }

    println!(
        "\n2. re-sync with {} documents present ({} no-op syncs, {} rounds of 10 changed)",
        fixture::ISSUES,
        s.noop_syncs,
        s.resync_rounds
    );
    let mut b = resync(&fixture, &s, tmp.path(), &mut sup);
    drop(sup);
    let healthz = median(&mut b.healthz_ms);
    println!("   | what | median | wire bytes | body bytes |");
    let noop = median(&mut b.noop.ms);
    println!(
        "   | no-op | {noop:.1} ms ({:.1}x a bare GET /healthz on a fresh connection, {healthz:.2} ms) | {} (target < 10 kB) | {} |",
        noop / healthz,
        kb(median(&mut b.noop.wire)),
        kb(median(&mut b.noop.body))
    );
    for (what, m) in [
        ("10 changed on another phone", &mut b.down),
        ("10 changed on this phone", &mut b.up),
    ] {
        println!(
            "   | {what} | {:.1} ms | {} | {} |",
            median(&mut m.ms),
            kb(median(&mut m.wire)),
            kb(median(&mut m.body))
        );
    }

    println!(
        "\n3. {DEVICES} phones syncing at once ({} rounds each: report or comment, then sync)",
        s.device_rounds
    );
    let mut c = crowd(&s, tmp.path());
    let per_s = c.syncs as f64 / c.wall_s;
    println!(
        "   setup: {DEVICES} phones enrolled and first-synced ({} documents) in {:.1} s",
        c.docs_at_setup, c.setup_s
    );
    println!(
        "   | syncs | {} in {:.1} s = {:.0} syncs/s; latency median {:.0} ms, p99 {:.0} ms; {} errors |",
        c.syncs,
        c.wall_s,
        per_s,
        median(&mut c.latency_ms),
        percentile(&mut c.latency_ms, 0.99),
        c.errors
    );
    println!(
        "   | baseline GET /healthz, same 50 threads | {:.0} requests/s; median {:.1} ms, p99 {:.1} ms |",
        c.healthz_per_s,
        median(&mut c.healthz_ms),
        percentile(&mut c.healthz_ms, 0.99)
    );

    println!("\n4. server memory (patrol-server process, pid per scenario)");
    let peak = |m: &[Memory]| m.iter().map(|m| m.peak_bytes).max().unwrap_or(0);
    println!(
        "   | idle after start | VmRSS {:.0} MiB |",
        mib(a.idle.iter().map(|m| m.now_bytes).max().unwrap_or(0))
    );
    println!(
        "   | initial syncs | VmHWM {:.0} MiB, VmRSS after {:.0} MiB |",
        mib(peak(&a.memory)),
        mib(a.memory.last().map_or(0, |m| m.now_bytes))
    );
    println!(
        "   | re-syncs | VmHWM {:.0} MiB, VmRSS after {:.0} MiB |",
        mib(b.memory.peak_bytes),
        mib(b.memory.now_bytes)
    );
    println!(
        "   | {DEVICES} phones | VmHWM {:.0} MiB, VmRSS after {:.0} MiB |",
        mib(c.memory.peak_bytes),
        mib(c.memory.now_bytes)
    );
    drop(tmp);

    println!(
        "\n5. the Automerge project's JavaScript sync server, same {} documents",
        fixture::ISSUES
    );
    let ours = median(&mut a.only_docs.ms);
    let (js_cold, js_warm, js_hwm) = match node {
        Some(_) if s.js_runs == 0 => {
            println!(
                "   SKIPPED with --quick: the JS side takes about 6 minutes (run without --quick)"
            );
            (f64::NAN, f64::NAN, 0)
        }
        Some(_) => match js::ensure_installed() {
            Err(why) => {
                println!(
                    "   SKIPPED: the JS packages cannot be installed here, so there is nothing to compare with; the results above stand\n   {why}"
                );
                (f64::NAN, f64::NAN, 0)
            }
            Ok(_) => {
                let mut j = javascript(&fixture, &s);
                let (cold, warm) = (median(&mut j.cold_ms), median(&mut j.warm_ms));
                println!(
                    "   | fresh Node client fetching all ({} at a time), server just started | {:.0} ms ({} on the wire) |",
                    js::FETCH_CONCURRENCY,
                    cold,
                    kb(median(&mut j.cold_wire))
                );
                println!(
                    "   | then {JS_SPLIT} fresh clients one after another, {} documents each (all in server memory; the most favourable for JS) | {warm:.0} ms |",
                    fixture::ISSUES / JS_SPLIT
                );
                println!(
                    "   | node fetch.mjs as a whole, start-up included | {:.0} ms |",
                    median(&mut j.cold_process_ms)
                );
                println!(
                    "   | ours, fresh supervisor, documents only | {ours:.0} ms: {:.1}x faster than one JS client on the cold server, {:.1}x than {JS_SPLIT} clients on the warm one (target >= 20x) |",
                    cold / ours,
                    warm / ours
                );
                println!(
                    "   | JS server memory | VmHWM {:.0} MiB |",
                    mib(peak(&j.memory))
                );
                (cold, warm, peak(&j.memory))
            }
        },
        None => {
            println!("   SKIPPED: node is not installed");
            (f64::NAN, f64::NAN, 0)
        }
    };

    println!(
        "\nRESULT initial_total_ms={:.0} docs_ms={:.0} fixes_ms={:.0} fixes_per_s={:.0} docs_only_ms={:.0} noop_ms={:.1} noop_wire_bytes={:.0} changed10_down_ms={:.1} changed10_up_ms={:.1} crowd_syncs_per_s={:.0} crowd_p50_ms={:.0} crowd_p99_ms={:.0} server_hwm_mib={:.0} js_cold_ms={:.0} js_warm_split_ms={:.0} vs_js_cold={:.1}x vs_js_warm_split={:.1}x js_hwm_mib={:.0}",
        median(&mut a.total_ms),
        median(&mut a.docs_ms),
        median(&mut a.fixes_ms),
        fixes_per_s,
        ours,
        noop,
        median(&mut b.noop.wire),
        median(&mut b.down.ms),
        median(&mut b.up.ms),
        per_s,
        median(&mut c.latency_ms),
        percentile(&mut c.latency_ms, 0.99),
        mib(peak(&a.memory)
            .max(b.memory.peak_bytes)
            .max(c.memory.peak_bytes)),
        js_cold,
        js_warm,
        js_cold / ours,
        js_warm / ours,
        mib(js_hwm)
    );
}
