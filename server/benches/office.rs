//! Office platform benchmark (issue 14): the district office's pages on a district's month of
//! data, served by a real `patrol-server` process on loopback, measured with a plain HTTP client
//! holding one keep-alive connection as a signed-in browser does.
//!
//! The data is the month of the reports benchmark (`core/benches/common/district.rs`: 685
//! streets, 315 chiefs, 1,500 stewards, 15,879 patrols with 2.6 million fixes, 1,500 issues,
//! 90,000 pickups with their points), written into a server's data folder as the server holds it
//! once every phone has synced (see `office/fixture.rs`), built once and cached in
//! `target/bench-cache/office-district-schema<N>/` (delete it to rebuild). Each run works on a
//! copy of it, since the server writes (sessions, the audit log, the issue index).
//!
//! Measured, for the month of the data (December 2024, named in each URL):
//!
//! - the overview (`/office?period=2024-12`), the queue's first page
//!   (`/office/issues?status=open&sort=due`), one problem's page (the queue's first), the map's
//!   data (`/office/map/data.geojson?period=2024-12`) and the month's assessment
//!   (`/office/assessment?period=2024-12`);
//! - each cold: the first request of a server process just started on the data, a fresh process
//!   for every sample (the operating system's file cache stays warm: the data folder was just
//!   copied); and warm: the same server asked again, in interleaved rounds, each request after a
//!   bare `GET /healthz` on the same connection, the baseline;
//! - once per run, the first office page after the month synced: the queue, while the issue index
//!   catches up with the 1,500 documents the phones brought;
//! - the server's memory (VmRSS and VmHWM from /proc): started and idle, after each page cold,
//!   and after the warm rounds;
//! - where the time goes: the same work called in this process on the copy, phase by phase.
//!
//! Goals: every page under 100 ms warm, the month's assessment under 1 s cold, on 2 cores.
//!
//! Run: `cargo bench -p patrol-server --bench office` (`-- --quick`: one cold sample and three
//! warm rounds).

#[path = "../../core/benches/common/mod.rs"]
mod common;
#[path = "../../core/benches/common/district.rs"]
mod district;
#[allow(dead_code, reason = "the sync benchmark's helpers; this one uses some")]
#[path = "sync/serverproc.rs"]
mod serverproc;

#[path = "office/client.rs"]
mod client;
#[path = "office/fixture.rs"]
mod fixture;

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use automerge::Automerge;
use patrol_model::coverage::Coverage;
use patrol_model::matching::{MatchConfig, match_track};
use patrol_model::reference::StreetBundle;
use patrol_model::report::period::Period;
use patrol_model::spatial::IndexedNetwork;
use patrol_model::streets::StreetNetwork;
use patrol_model::wire::{Scope, UserRecord};
use patrol_model::{Role, UserId};
use patrol_server::office::OfficeUser;

use client::Client;
use common::{machine, median};
use serverproc::{Memory, ServerProcess};

const PERIOD: &str = "2024-12";
const PASSWORD: &str = "bench office password 14";
/// The goals.
const PAGE_WARM_GOAL_MS: f64 = 100.0;
const ASSESSMENT_COLD_GOAL_MS: f64 = 1000.0;

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// One page measured.
struct Page {
    key: &'static str,
    name: &'static str,
    path: String,
    cold: Vec<f64>,
    warm: Vec<f64>,
    /// `/healthz` just before each warm request, on the same connection.
    healthz: Vec<f64>,
    /// The cold process's memory after answering.
    cold_memory: Vec<Memory>,
    /// Body bytes as sent with gzip, and without.
    gzip_bytes: usize,
    plain_bytes: usize,
}

impl Page {
    fn new(key: &'static str, name: &'static str, path: String) -> Self {
        Self {
            key,
            name,
            path,
            cold: Vec::new(),
            warm: Vec::new(),
            healthz: Vec::new(),
            cold_memory: Vec::new(),
            gzip_bytes: 0,
            plain_bytes: 0,
        }
    }
}

/// When a file was last written.
fn modified(path: &str) -> std::time::SystemTime {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .expect("server binary")
}

/// Sets the supervisor's office password the way an administrator does:
/// `patrol-server --data DIR admin user password NAME`, the password piped in.
fn set_password(data: &Path) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_patrol-server"))
        .arg("--data")
        .arg(data)
        .args(["admin", "user", "password", fixture::SUPERVISOR])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("admin user password");
    writeln!(child.stdin.take().expect("stdin"), "{PASSWORD}").expect("password");
    let out = child.wait_with_output().expect("admin");
    assert!(
        out.status.success(),
        "admin user password: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Signs in over HTTP; the client keeps the session cookie.
fn sign_in(c: &mut Client) {
    let a = c.post_form(
        "/office/login",
        &[("name", fixture::SUPERVISOR), ("password", PASSWORD)],
    );
    assert_eq!(a.status, 303, "sign-in: {}", a.text());
    let cookie = a
        .header("set-cookie")
        .and_then(|v| v.split(';').next())
        .expect("session cookie")
        .to_owned();
    assert!(cookie.starts_with("patrol_office="), "{cookie}");
    c.cookie = Some(cookie);
}

fn get_ok(c: &mut Client, path: &str, gzip: bool) -> client::Answer {
    let a = c.get(path, gzip);
    assert_eq!(a.status, 200, "GET {path}: {}", a.text());
    a
}

/// The first problem the queue's page links to.
fn first_issue(html: &str) -> String {
    let mut rest = html;
    while let Some(at) = rest.find("/office/issues/") {
        let id: String = rest[at + 15..]
            .chars()
            .take_while(|c| c.is_ascii_hexdigit() || *c == '-')
            .collect();
        if id.len() == 36 {
            return id;
        }
        rest = &rest[at + 15..];
    }
    panic!("the queue links to no problem");
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let cold_runs = if quick { 1 } else { 3 };
    let warm_rounds = if quick { 3 } else { 7 };
    println!("office benchmark on {}", machine());
    let cached = fixture::cached();
    println!("data: {}", fixture::figures(&cached));
    let t = Instant::now();
    let (_tmp, data) = fixture::working_copy(&cached);
    println!(
        "copied the data folder for this run in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    set_password(&data);
    let binary = env!("CARGO_BIN_EXE_patrol-server");
    let built = modified(binary);
    println!("server: {binary}");

    // The first server: sign in; the first office page after the month synced; the sizes.
    let server = ServerProcess::start(&data);
    let idle = server.memory();
    let mut c = Client::connect(server.addr);
    sign_in(&mut c);
    let cookie = c.cookie.clone();
    let first = get_ok(&mut c, "/office/issues?status=open&sort=due", false);
    let issue = first_issue(&first.text());
    let mut pages = vec![
        Page::new("overview", "overview", format!("/office?period={PERIOD}")),
        Page::new(
            "queue",
            "queue, first page",
            "/office/issues?status=open&sort=due".into(),
        ),
        Page::new(
            "issue",
            "a problem's page",
            format!("/office/issues/{issue}"),
        ),
        Page::new(
            "map",
            "map data (GeoJSON)",
            format!("/office/map/data.geojson?period={PERIOD}"),
        ),
        Page::new(
            "assessment",
            "month's assessment",
            format!("/office/assessment?period={PERIOD}"),
        ),
    ];
    for p in &mut pages {
        p.plain_bytes = get_ok(&mut c, &p.path, false).body.len();
        p.gzip_bytes = get_ok(&mut c, &p.path, true).body.len();
    }
    drop(c);
    let after_sizes = server.stop();
    println!(
        "first office page after the month synced (the queue; the issue index catches up with 1,500 documents): {:.0} ms",
        first.ms
    );

    // Cold: a fresh server process for each sample of each page.
    for run in 0..cold_runs {
        for p in &mut pages {
            let server = ServerProcess::start(&data);
            let mut c = Client::connect(server.addr);
            c.cookie = cookie.clone();
            let a = get_ok(&mut c, &p.path, true);
            p.cold.push(a.ms);
            p.cold_memory.push(server.stop());
        }
        println!(
            "cold run {}: {}",
            run + 1,
            pages
                .iter()
                .map(|p| format!("{} {:.0} ms", p.key, p.cold[run]))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    // Warm: one server, every page once first, then interleaved rounds.
    let server = ServerProcess::start(&data);
    let mut c = Client::connect(server.addr);
    c.cookie = cookie.clone();
    for p in &pages {
        get_ok(&mut c, &p.path, true);
    }
    let mut max_rss = server.memory().now_bytes;
    for round in 0..warm_rounds {
        for p in &mut pages {
            let h = c.get("/healthz", true);
            assert_eq!(h.status, 200);
            p.healthz.push(h.ms);
            let a = get_ok(&mut c, &p.path, true);
            p.warm.push(a.ms);
            max_rss = max_rss.max(server.memory().now_bytes);
        }
        println!(
            "warm round {}: {}",
            round + 1,
            pages
                .iter()
                .map(|p| format!("{} {:.1} ms", p.key, p.warm[round]))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    drop(c);
    let warm_memory = server.stop();

    assert_eq!(
        modified(binary),
        built,
        "the server binary was rebuilt during the run (a shared target folder): run again"
    );

    // Where the time goes, in this process on the same data.
    let phases = where_time_goes(&data);

    // The table.
    let mut all_healthz: Vec<f64> = pages.iter().flat_map(|p| p.healthz.clone()).collect();
    let healthz = median(&mut all_healthz);
    println!();
    println!(
        "| page | cold, median ({cold_runs} fresh processes) | warm, median ({warm_rounds} rounds) | warm / healthz | server peak after the cold request (VmHWM) | answer gzip / plain |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    let mut result = Vec::new();
    let mut every_page_fast = true;
    let mut assessment_cold = 0.0;
    for p in &mut pages {
        let cold = median(&mut p.cold.clone());
        let warm = median(&mut p.warm.clone());
        let peak = p
            .cold_memory
            .iter()
            .map(|m| m.peak_bytes)
            .max()
            .unwrap_or(0);
        println!(
            "| {} (`{}`) | {cold:.1} ms | {warm:.1} ms | {:.0} | {:.0} MiB | {:.0} / {:.0} kB |",
            p.name,
            p.path,
            warm / healthz,
            mib(peak),
            p.gzip_bytes as f64 / 1e3,
            p.plain_bytes as f64 / 1e3
        );
        every_page_fast &= warm < PAGE_WARM_GOAL_MS;
        if p.key == "assessment" {
            assessment_cold = cold;
        }
        result.push(format!("{}_cold_ms={cold:.1}", p.key));
        result.push(format!("{}_warm_ms={warm:.1}", p.key));
        result.push(format!("{}_cold_hwm_mib={:.0}", p.key, mib(peak)));
    }
    println!("| baseline: `GET /healthz` on the same connection | | {healthz:.2} ms | 1 | | |");
    println!();
    println!(
        "first office page after the month synced (queue + issue index catch-up): {:.0} ms",
        first.ms
    );
    println!(
        "server memory: {:.0} MiB resident started and idle; {:.0} MiB resident (peak {:.0}) after the first server's pages; after the warm rounds {:.0} MiB resident, {:.0} MiB at most between requests, peak {:.0} MiB (VmHWM)",
        mib(idle.now_bytes),
        mib(after_sizes.now_bytes),
        mib(after_sizes.peak_bytes),
        mib(warm_memory.now_bytes),
        mib(max_rss),
        mib(warm_memory.peak_bytes)
    );
    println!();
    println!("where the time goes (in this process, one run each, the same data):");
    println!("| phase | ms |");
    println!("| --- | --- |");
    for (what, ms) in &phases {
        println!("| {what} | {ms:.0} |");
    }
    println!();
    let assess_ok = assessment_cold < ASSESSMENT_COLD_GOAL_MS;
    println!(
        "goals: every page under {PAGE_WARM_GOAL_MS:.0} ms warm: {}; the month's assessment under {ASSESSMENT_COLD_GOAL_MS:.0} ms cold: {}",
        if every_page_fast { "met" } else { "NOT met" },
        if assess_ok { "met" } else { "NOT met" }
    );
    println!(
        "RESULT {} healthz_ms={healthz:.2} first_read_ms={:.0} rss_idle_mib={:.0} warm_rss_mib={:.0} warm_hwm_mib={:.0} goal_pages_warm={} goal_assessment_cold={}",
        result.join(" "),
        first.ms,
        mib(idle.now_bytes),
        mib(warm_memory.now_bytes),
        mib(warm_memory.peak_bytes),
        if every_page_fast { "met" } else { "not_met" },
        if assess_ok { "met" } else { "not_met" }
    );
}

/// The published network with its R-tree, as the server's reports build it.
fn network(tx: &mut dyn patrol_server::storage::Tx) -> IndexedNetwork {
    let mut streets = Vec::new();
    let mut segments = Vec::new();
    for (_, body) in tx.references("street").expect("streets") {
        let b: StreetBundle = serde_json::from_value(body).expect("street bundle");
        streets.push(b.street);
        segments.extend(b.segments);
    }
    IndexedNetwork::build(StreetNetwork::new(streets, segments))
}

/// The office's work for each page called in this process, and the parts of the map and the
/// assessment done again step by step with the same calls the server makes.
fn where_time_goes(data: &Path) -> Vec<(String, f64)> {
    let storage = patrol_server::open_storage(data).expect("storage");
    let s = storage.as_ref();
    let period = Period::parse(PERIOD).expect("period");
    let now = patrol_server::admin::now_ms();
    let supervisor: UserRecord =
        patrol_server::admin::resolve_user(s, fixture::SUPERVISOR).expect("supervisor");
    assert_eq!(supervisor.scope, Scope::District);
    let user = OfficeUser {
        user: supervisor,
        is_admin: false,
    };
    let min_share = {
        let mut tx = s.read().expect("read");
        patrol_server::reports::report_rules(tx.as_mut())
            .expect("rules")
            .assessment
            .segment_patrolled_min_share
    };
    let mut out = Vec::new();
    let mut time = |what: &str, f: &mut dyn FnMut()| {
        let t = Instant::now();
        f();
        out.push((what.to_owned(), ms_since(t)));
    };

    // The issue index from nothing, as the first page after a sync of every document.
    {
        let mut tx = s.write().expect("write");
        tx.clear_issue_index().expect("clear");
        tx.commit().expect("commit");
    }
    time(
        "issue index caught up from empty (1,500 documents folded)",
        &mut || {
            patrol_server::issue_index::catch_up(s).expect("catch up");
        },
    );
    time(
        "overview's data (`office::overview::overview`)",
        &mut || {
            patrol_server::office::overview::overview(s, &user, &period, now).expect("overview");
        },
    );
    time("map's data (`office::map::map_data`)", &mut || {
        patrol_server::office::map::map_data(s, &user, &period, now, |st| st.as_str())
            .expect("map");
    });
    time(
        "  of which every patrol's coverage (`reports::network_coverage`)",
        &mut || {
            patrol_server::reports::network_coverage(s, &period, min_share).expect("coverage");
        },
    );
    time(
        "assessment's data (`office::reports::assessment`)",
        &mut || {
            patrol_server::office::reports::assessment(s, &user, &period).expect("assessment");
        },
    );

    // The steps, done again.
    let mut tx = s.read().expect("read");
    let t = Instant::now();
    let pickups = tx
        .pickup_counts(None, period.from_ms, period.to_ms)
        .expect("pickups");
    out.push((
        format!(
            "step: the month's pickups counted (`pickup_counts`: {} of them, their own indexed columns; the overview)",
            pickups.0
        ),
        ms_since(t),
    ));
    let t = Instant::now();
    for _ in 0..9 {
        tx.issue_counts(None, period.from_ms, period.to_ms, now)
            .expect("counts");
    }
    out.push((
        "step: issue counts, 9 times (`issue_counts` on the index; the overview and its trend)"
            .into(),
        ms_since(t),
    ));
    let t = Instant::now();
    let records = tx
        .patrols_started_between(period.from_ms, period.to_ms)
        .expect("patrols");
    out.push((
        format!(
            "step: the month's {} patrol headers (`patrols_started_between`: JSON of every header; the overview, the map, the assessment)",
            records.len()
        ),
        ms_since(t),
    ));
    let t = Instant::now();
    let net = network(tx.as_mut());
    out.push((
        "step: the published network read and indexed".into(),
        ms_since(t),
    ));
    let chiefs: HashSet<UserId> = tx
        .users()
        .expect("users")
        .into_iter()
        .filter(|u| u.role == Role::Chief)
        .map(|u| u.id)
        .collect();
    let (mut read_all, mut read_chiefs, mut match_all, mut match_chiefs) = (0.0, 0.0, 0.0, 0.0);
    let (mut fixes_all, mut fixes_chiefs, mut chief_patrols) = (0usize, 0usize, 0usize);
    for p in &records {
        let t = Instant::now();
        let fixes = tx.fixes(&p.id.to_string(), 0, usize::MAX).expect("fixes");
        let read = ms_since(t);
        let t = Instant::now();
        let matched = match_track(&net, &fixes, &MatchConfig::default());
        let config = Default::default();
        let mut coverage = Coverage::new();
        coverage.add_track(&net, &fixes, &matched, &config);
        coverage.finish(&net, &config);
        let matching = ms_since(t);
        read_all += read;
        match_all += matching;
        fixes_all += fixes.len();
        if chiefs.contains(&p.user_id) {
            read_chiefs += read;
            match_chiefs += matching;
            fixes_chiefs += fixes.len();
            chief_patrols += 1;
        }
    }
    out.push((
        format!(
            "step: reading the fixes of every patrol ({} patrols, {fixes_all} fixes; the map)",
            records.len()
        ),
        read_all,
    ));
    out.push((
        "step: matching them to the network and measuring coverage (the map)".into(),
        match_all,
    ));
    out.push((
        format!(
            "step: reading the fixes of the chiefs' patrols ({chief_patrols} patrols, {fixes_chiefs} fixes; the assessment)"
        ),
        read_chiefs,
    ));
    out.push((
        "step: matching them and measuring coverage (the assessment)".into(),
        match_chiefs,
    ));
    let t = Instant::now();
    let docs = tx.docs_of_kind("issue").expect("docs");
    out.push((
        format!(
            "step: reading the {} issue documents (`docs_of_kind`, {:.1} MB)",
            docs.len(),
            docs.iter().map(|(_, d)| d.data.len()).sum::<usize>() as f64 / 1e6
        ),
        ms_since(t),
    ));
    let t = Instant::now();
    for (_, d) in &docs {
        let doc = Automerge::load(&d.data).expect("load");
        let issue = patrol_model::issues::doc::read(&doc).expect("read");
        let _ = patrol_model::issues::fold(&issue);
    }
    out.push((
        "step: loading, reading and folding them (the assessment)".into(),
        ms_since(t),
    ));
    out
}
