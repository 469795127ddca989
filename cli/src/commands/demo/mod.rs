//! `patrol demo`: the main job. A patrol-server on loopback for a small neighbourhood of 八角
//! subdistrict, and the phones of one street team (a chief, a steward, a crew member, a
//! supervisor) working offline and syncing, through the same API the apps use:
//!
//! 1. Every phone syncs: the street network, the assignments and the signboard key arrive.
//! 2. Offline, the chief patrols with realistic GPS noise (drift, multipath spikes, a stop to
//!    talk to a merchant), scans a signboard and reports an overflowing bin with a photo; at the
//!    same stop registers the shop, inspects its frontage duty and links the bin to it; the
//!    steward logs a litter pickup and reports illegal advertising. A resident scans the
//!    signboard with their phone's camera and reports litter through its web page (no app, no
//!    account: plain HTTP to the server's public page).
//! 3. They sync on cellular (photos wait for wifi); the supervisor dispatches the bin and the
//!    resident's litter to the city-property crew, whose phone receives them and resolves them
//!    with after-photos; the chief verifies both fixes: the loop closes, and the resident's
//!    receipt page says so.
//! 4. The supervisor's phone, on wifi, now holds the patrol with its track, the issues, the
//!    merchant, the pickups and points, and measures the chief's coverage, assesses the chief
//!    and rates the merchant offline.

mod district;
mod patrol;
mod resident;

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::Args;
use patrol_core::coverage::PatrolCoverage;
use patrol_core::issues::{Assignee, IssueQuery, IssueView, NewIssue};
use patrol_core::merchants::{Merchant, NewInspection, NewMerchant};
use patrol_core::photos::PhotoInfo;
use patrol_core::points::NewPickup;
use patrol_core::sync::{NetworkState, SyncReport};
use patrol_core::track::Motion;
use patrol_core::{Datum, Department, DutyGrade, IssueStatus};
use serde_json::json;

use crate::output::{Context, duration, metres};

#[derive(Args)]
pub struct DemoArgs {
    /// Seed of the simulated GPS noise (the same seed gives the same patrol).
    #[arg(long, default_value_t = 2018)]
    seed: u64,
    /// Also write the recorded track as GeoJSON here (open it in QGIS or geojson.io).
    #[arg(long)]
    geojson: Option<PathBuf>,
    /// Keep the district server running after the story and print the office platform's
    /// address with the demo supervisor's sign-in (stop it with Ctrl-C).
    #[arg(long)]
    serve: bool,
    /// The server's address (default: a free port on loopback).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    listen: std::net::SocketAddr,
}

/// The demo supervisor's office password (`--serve`): the demo's data is made up and the
/// server listens on loopback unless told otherwise.
pub const DEMO_OFFICE_PASSWORD: &str = "demo-office-2026";

fn sync_line(who: &str, network: &str, r: &SyncReport) -> String {
    let mut moved = Vec::new();
    let up = [
        ("documents", r.docs_up),
        ("patrols", r.patrols_up),
        ("records", r.records_up),
        ("fixes", r.fixes_up),
        ("photos", r.photos_up),
    ];
    let down = [
        ("documents", r.docs_down),
        ("patrols", r.patrols_down),
        ("records", r.records_down),
        ("reference rows", r.reference_down),
        ("fixes", r.fixes_down),
        ("photos", r.photos_down),
    ];
    let list = |items: &[(&str, u64)]| {
        items
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| format!("{n} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (u, d) = (list(&up), list(&down));
    if !u.is_empty() {
        moved.push(format!("up {u}"));
    }
    if !d.is_empty() {
        moved.push(format!("down {d}"));
    }
    if moved.is_empty() {
        moved.push("nothing new".into());
    }
    let mut line = format!(
        "  {who:<8} syncs on {network:<8} {} ({} bytes)",
        moved.join("; "),
        r.bytes_up + r.bytes_down
    );
    for d in &r.deferred {
        line.push_str(&format!("\n           waiting for wifi: {d}"));
    }
    line
}

/// What the demo tells as it goes: one line per step and per sync, and every sync's report for
/// `--json`.
#[derive(Default)]
struct Timeline {
    log: Vec<String>,
    syncs: Vec<serde_json::Value>,
}

impl Timeline {
    /// Syncs `phone` on `net` and notes what moved.
    fn sync(&mut self, phone: &mut district::Phone, net: NetworkState) -> Result<SyncReport> {
        let r = phone.sync(net)?;
        let label = match net {
            NetworkState::Wifi => "wifi",
            NetworkState::Cellular => "cellular",
            NetworkState::Offline => "offline",
        };
        self.log.push(sync_line(phone.name, label, &r));
        self.syncs
            .push(json!({ "phone": phone.name, "network": net, "report": r }));
        Ok(r)
    }
}

/// What the chief and the steward did offline (step 2).
struct OfflineWork {
    walk: patrol::Walk,
    /// The bin's before-photo.
    before: PhotoInfo,
    bin: IssueView,
    shop: Merchant,
    ad: IssueView,
    /// The resident's report through the signboard's page.
    resident: resident::Receipt,
}

/// What arrived on the supervisor's phone and what it computes offline (step 4).
struct SupervisorView {
    bin: IssueView,
    ad: IssueView,
    coverage: PatrolCoverage,
    fixes: usize,
    photos: usize,
    pickups: i64,
    assessment: Option<(String, patrol_core::report::ChiefAssessment)>,
    merchant: Option<patrol_core::report::MerchantCredit>,
}

pub fn run(ctx: &Context, args: DemoArgs) -> Result<()> {
    let scratch = tempfile::tempdir()?;
    let chief_db = ctx
        .db
        .clone()
        .unwrap_or_else(|| scratch.path().join("chief.db"));
    if ctx.db.is_some() && chief_db.exists() && std::fs::metadata(&chief_db)?.len() > 0 {
        bail!(
            "{} exists already; the demo sets up a new phone, so give it a new --db path",
            chief_db.display()
        );
    }
    let mut d = district::set_up(scratch.path(), &chief_db, args.listen)?;
    let mut timeline = Timeline::default();

    // 1. Everyone gets the district's reference data.
    timeline
        .log
        .push("1. The phones join the district server and sync".into());
    for p in [&mut d.chief, &mut d.steward, &mut d.crew, &mut d.supervisor] {
        timeline.sync(p, NetworkState::Wifi)?;
    }

    // 2. Offline work.
    let photos = tempfile::tempdir()?;
    let work = work_offline(&mut d, args.seed, photos.path(), &mut timeline)?;

    // 3. The loop: report -> assign -> handle -> verify.
    let after = close_the_loop(&mut d, &work, photos.path(), &mut timeline)?;

    // 4. The supervisor's view, offline from here on.
    let view = supervisor_view(&mut d, &work, &after, &mut timeline)?;
    if view.bin.status != IssueStatus::Verified {
        bail!(
            "the demo's loop did not close: the bin is {} on the supervisor's phone",
            view.bin.status
        );
    }

    if let Some(out) = &args.geojson {
        write_track_geojson(&d.chief, &work.walk, out)?;
    }
    if ctx.json {
        print_json(ctx, &d, &work, &view, &timeline)?;
    } else {
        print_story(&d, &work, &view, &timeline.log);
        if ctx.db.is_some() {
            println!("The chief's store: {}", chief_db.display());
        }
    }
    if args.serve {
        serve(&d, ctx.json)?;
    }
    Ok(())
}

/// `--serve`: gives the demo supervisor an office password, prints where to sign in (on stderr
/// under `--json`, whose stdout is the run's JSON), and keeps the server running until Ctrl-C.
fn serve(d: &district::District, json: bool) -> Result<()> {
    let storage = patrol_server::open_storage(&d.server_data)?;
    let supervisor = patrol_server::admin::resolve_user(storage.as_ref(), d.supervisor.name)?;
    patrol_server::office::accounts::set_password(
        storage.as_ref(),
        &supervisor,
        DEMO_OFFICE_PASSWORD,
        true,
        patrol_core::Clock::now_ms(&patrol_core::SystemClock),
    )
    .map_err(|e| anyhow::anyhow!("setting the demo supervisor's office password: {e}"))?;
    drop(storage);
    let text = format!(
        "\nThe district office platform: {}/office\n  sign in as {} with the password {DEMO_OFFICE_PASSWORD}\n  the signboard's page: {}\nThe server keeps running; Ctrl-C stops it (the demo's data is thrown away).",
        d.server.url(),
        d.supervisor.name,
        d.signboard_link
    );
    if json {
        eprintln!("{text}");
    } else {
        println!("{text}");
        use std::io::Write;
        std::io::stdout().flush()?;
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(tokio::signal::ctrl_c())?;
    eprintln!("stopping the demo server");
    Ok(())
}

/// Step 2, offline: the chief patrols, reports the overflowing bin with a photo, registers the
/// shop it belongs to, inspects its frontage duty and links the bin to it; the steward logs a
/// pickup and reports illegal advertising.
fn work_offline(
    d: &mut district::District,
    seed: u64,
    photos: &Path,
    timeline: &mut Timeline,
) -> Result<OfflineWork> {
    let walk = patrol::walk(&mut d.chief, seed, &d.signboard_link)?;
    let before = d
        .chief
        .store
        .attach_photo(district::photo(photos, "bin-before.jpg", 40)?)?;
    let here = walk.bin_spot;
    let mut bin = NewIssue::at("overflowing_bin", here.0, here.1);
    bin.description = "商户门前垃圾桶满溢".into();
    bin.photos = vec![before.sha256.clone()];
    let bin = d.chief.store.report_issue(bin)?.issue;
    // The shop whose bin it is: registered, its frontage duty inspected, the bin linked to it.
    let shop = d.chief.store.add_merchant(NewMerchant {
        name: "八角便民超市".into(),
        kind: Some("grocery".into()),
        address: None,
        contact: None,
        lat: here.0,
        lon: here.1,
        datum: Datum::Wgs84,
        street: None,
    })?;
    d.chief.store.inspect_merchant(
        shop.id,
        NewInspection {
            sanitation: DutyGrade::Poor,
            greening: DutyGrade::Good,
            order: DutyGrade::Fair,
            note: Some("门前垃圾桶满溢，已提醒店主".into()),
            photos: vec![before.sha256.clone()],
        },
    )?;
    d.chief.store.link_merchant_issue(shop.id, bin.id, true)?;
    let pickup = d.steward.store.log_pickup(NewPickup {
        lat: 39.90412,
        lon: 116.19750,
        datum: Datum::Wgs84,
        bags: 2,
        items: 0,
        street_id: None,
        photo_sha256: None,
        note: Some("杨庄东街路边".into()),
    })?;
    let mut ad = NewIssue::at("illegal_advertising", 39.90415, 116.19900);
    ad.description = "电线杆上小广告".into();
    let ad = d.steward.store.report_issue(ad)?.issue;
    // A resident at the signboard: the phone's browser, plain HTTP, no account.
    let browser = patrol_core::sync::NativeTransport::new()?;
    let snapshot = std::fs::read(district::photo(photos, "resident.jpg", 120)?)?;
    let resident = resident::report_at_signboard(
        &browser,
        &d.signboard_link,
        "litter",
        "公示牌旁边有人倒了一堆装修垃圾",
        &snapshot,
    )?;
    timeline.log.push(format!(
        "2. Offline: {} patrols {}, reports an overflowing bin with a photo and inspects the frontage of {}, the shop it belongs to; {} picks up {} bags of litter and reports illegal advertising",
        d.chief.name,
        metres(walk.stats.distance_m),
        shop.fields.name,
        d.steward.name,
        pickup.pickup.bags
    ));
    timeline.log.push(format!(
        "  A resident scans the signboard of 八角西街 with the phone's camera and reports litter on its page, no app, no account:\n           {}\n           receipt {} at {}",
        d.signboard_link, resident.number, resident.url
    ));
    Ok(OfflineWork {
        walk,
        before,
        bin,
        shop,
        ad,
        resident,
    })
}

/// Step 3, back on the network: the supervisor dispatches, the crew resolves the bin with an
/// after-photo, the chief verifies. Returns the after-photo.
fn close_the_loop(
    d: &mut district::District,
    work: &OfflineWork,
    photos: &Path,
    timeline: &mut Timeline,
) -> Result<PhotoInfo> {
    let (bin, ad) = (work.bin.id, work.ad.id);
    timeline
        .log
        .push("3. Back on the network, the loop runs".into());
    timeline.sync(&mut d.chief, NetworkState::Cellular)?;
    timeline.sync(&mut d.steward, NetworkState::Cellular)?;
    timeline.sync(&mut d.supervisor, NetworkState::Wifi)?;
    let litter = resident_issue(&d.chief)?;
    d.supervisor.store.assign_issue(
        bin,
        Assignee::Department(Department::CityProperty),
        Some("请城市物业处理".into()),
    )?;
    d.supervisor.store.assign_issue(
        litter,
        Assignee::Department(Department::CityProperty),
        None,
    )?;
    d.supervisor
        .store
        .assign_issue(ad, Assignee::Department(Department::Enforcement), None)?;
    timeline.log.push(format!(
        "  {:<8} dispatches the bin and the resident's litter to city property and the advertising to enforcement",
        d.supervisor.name
    ));
    timeline.sync(&mut d.supervisor, NetworkState::Wifi)?;
    timeline.sync(&mut d.crew, NetworkState::Wifi)?;
    d.crew.store.accept_issue(bin)?;
    let after = d
        .crew
        .store
        .attach_photo(district::photo(photos, "bin-after.jpg", 200)?)?;
    d.crew.store.resolve_issue(
        bin,
        &after.sha256,
        Some(work.walk.bin_spot),
        Some("已清运".into()),
    )?;
    d.crew.store.accept_issue(litter)?;
    let cleared = d
        .crew
        .store
        .attach_photo(district::photo(photos, "litter-after.jpg", 160)?)?;
    d.crew.store.resolve_issue(
        litter,
        &cleared.sha256,
        Some((39.9075, 116.1937)),
        Some("已清理".into()),
    )?;
    timeline.log.push(format!(
        "  {:<8} accepts both and resolves them with after-photos",
        d.crew.name
    ));
    timeline.sync(&mut d.crew, NetworkState::Wifi)?;
    timeline.sync(&mut d.chief, NetworkState::Wifi)?;
    d.chief.store.verify_issue(bin, Some("已核实".into()))?;
    d.chief.store.verify_issue(litter, None)?;
    timeline.log.push(format!(
        "  {:<8} checks the street and verifies both fixes: the loop is closed",
        d.chief.name
    ));
    timeline.sync(&mut d.chief, NetworkState::Wifi)?;
    let browser = patrol_core::sync::NativeTransport::new()?;
    let status = resident::receipt_status(&browser, &work.resident)?;
    timeline.log.push(format!(
        "  The resident's receipt page now says: {status} (roles only, the after-photo without EXIF)"
    ));
    Ok(after)
}

/// The issue the resident reported through the signboard's page, as the chief's phone received
/// it: the one reported by the role `public`.
fn resident_issue(chief: &district::Phone) -> Result<patrol_core::IssueId> {
    for summary in chief.store.list_issues(&IssueQuery::default())? {
        let issue = chief.store.issue(summary.id)?;
        if issue.reporter.role == patrol_core::Role::Public {
            return Ok(issue.id);
        }
    }
    bail!("the chief's phone did not receive the resident's report")
}

/// Step 4: the steward and the supervisor sync a last time; then what the supervisor's phone holds
/// and computes, offline.
fn supervisor_view(
    d: &mut district::District,
    work: &OfflineWork,
    after: &PhotoInfo,
    timeline: &mut Timeline,
) -> Result<SupervisorView> {
    timeline.sync(&mut d.steward, NetworkState::Wifi)?;
    timeline.sync(&mut d.supervisor, NetworkState::Wifi)?;
    let sup = &d.supervisor.store;
    let patrol_id = work.walk.patrol_id;
    let bin = sup.issue(work.bin.id)?;
    let ad = sup.issue(work.ad.id)?;
    let coverage = sup.patrol_coverage(patrol_id)?;
    let fixes = sup.fixes(patrol_id)?.len();
    let photos = [&work.before.sha256, &after.sha256]
        .iter()
        .filter(|s| sup.photo(s).is_ok())
        .count();
    let pickups: i64 =
        sup.connection()
            .query_row("SELECT COUNT(*) FROM litter_pickup", [], |r| r.get(0))?;
    let day_ms = sup.patrol(patrol_id)?.started_at_ms;
    let assessment = assess_the_day(sup, &d.chief.user_id.to_string(), day_ms)?;
    let merchant = rate_the_merchant(sup, work.shop.id, day_ms)?;
    Ok(SupervisorView {
        bin,
        ad,
        coverage,
        fixes,
        photos,
        pickups,
        assessment,
        merchant,
    })
}

/// `--geojson FILE`: the chief's recorded track.
fn write_track_geojson(chief: &district::Phone, walk: &patrol::Walk, out: &Path) -> Result<()> {
    let props = json!({ "patrol_id": walk.patrol_id, "chief": chief.name, "distance_m": walk.stats.distance_m });
    let fixes = chief.store.fixes(walk.patrol_id)?;
    let doc = patrol_core::track::export::track_geojson(
        props,
        &fixes,
        Datum::Wgs84,
        patrol_core::track::export::ExportFixes::All,
    );
    std::fs::write(out, serde_json::to_vec_pretty(&doc)?)?;
    Ok(())
}

/// `--json`: the whole run for scripts.
fn print_json(
    ctx: &Context,
    d: &district::District,
    work: &OfflineWork,
    view: &SupervisorView,
    timeline: &Timeline,
) -> Result<()> {
    let walk = &work.walk;
    ctx.print_json(&json!({
        "server": d.server.url(),
        "network": { "streets": d.network_streets, "total_length_m": d.network_length_m },
        "chief": d.chief.name,
        "patrol_id": walk.patrol_id,
        "route_length_m": walk.route_length_m,
        "fixes_offered": walk.fixes_offered,
        "fixes_recorded": walk.fixes_recorded,
        "sampling_changes": walk.transitions.iter().map(|(t, m, i)| json!({"at_s": t / 1000, "motion": m, "interval_s": i})).collect::<Vec<_>>(),
        "stats": walk.stats,
        "check_in": walk.check_in,
        "coverage": {
            "streets": walk.coverage.streets.iter().map(|s| json!({
                "street_id": s.street_id, "name": s.name, "length_m": s.length_m,
                "covered_m": s.covered_m, "covered_ratio": s.covered_ratio, "time_s": s.time_s,
            })).collect::<Vec<_>>(),
            "totals": walk.coverage.totals,
        },
        "issue": view.bin,
        "issues": [
            { "id": work.bin.id, "category": work.bin.category, "status": view.bin.status },
            { "id": work.ad.id, "category": work.ad.category, "status": view.ad.status },
        ],
        "resident": {
            "signboard": d.signboard_link,
            "receipt": work.resident.url,
            "receipt_status": resident::receipt_status(
                &patrol_core::sync::NativeTransport::new()?,
                &work.resident,
            )?,
        },
        "assessment": view.assessment.as_ref().map(|(day, c)| json!({ "period": day, "chief": c })),
        "merchant": view.merchant,
        "supervisor": {
            "fixes": view.fixes,
            "photos": view.photos,
            "pickups": view.pickups,
            "coverage_totals": view.coverage.totals,
        },
        "syncs": timeline.syncs,
    }))
}

/// The run told for a person: the district, the steps with their syncs, the chief's patrol, and
/// the supervisor's view.
fn print_story(d: &district::District, work: &OfflineWork, view: &SupervisorView, log: &[String]) {
    println!(
        "StreetPatrol demo: a street team of 八角 subdistrict, offline first, synced through a server\n"
    );
    println!(
        "District server on {} with {} streets ({}); {} is chief of all of them, {} is steward of 杨庄东街\n",
        d.server.url(),
        d.network_streets,
        metres(d.network_length_m),
        d.chief.name,
        d.steward.name
    );
    println!(
        "The signboard of 八角西街 (its QR code, for any phone's browser): {}\n",
        d.signboard_link
    );
    for line in &log[..5] {
        println!("{line}");
    }
    println!("\n{}", log[5]);
    print_patrol(&work.walk);
    for line in &log[6..] {
        println!("{line}");
    }
    print_supervisor_view(d, work, view);
    println!(
        "\nEvery fix, event, inspection and photo went round through the server; every phone worked offline in between."
    );
}

/// The chief's patrol: sampling changes, distance, time, fixes, the check-in and the coverage of
/// the assigned streets.
fn print_patrol(walk: &patrol::Walk) {
    println!("\n  The chief's patrol {}", walk.patrol_id);
    for (t, motion, interval) in &walk.transitions {
        let what = match motion {
            Motion::Stationary => "standing still: the phone samples every",
            Motion::Moving => "walking again: the phone samples every",
        };
        println!(
            "    +{:>8}  {what} {interval} s",
            duration(*t as f64 / 1000.0)
        );
    }
    let s = &walk.stats;
    println!(
        "    walked          {} (raw GPS length {}, before filtering)",
        metres(s.distance_m),
        metres(s.raw_distance_m)
    );
    println!(
        "    time            {} ({} moving)",
        duration(s.duration_s),
        duration(s.moving_s)
    );
    println!(
        "    fixes           {} recorded, {} kept, {} not needed while standing",
        walk.fixes_recorded,
        s.fixes_kept,
        walk.fixes_offered - walk.fixes_recorded
    );
    let rejected: Vec<String> = s
        .rejected
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{n} {}", k.replace('_', " ")))
        .collect();
    if !rejected.is_empty() {
        println!("    filtered out    {}", rejected.join(", "));
    }
    if let Some(c) = &walk.check_in {
        let at = c
            .distance_to_signboard_m
            .map(|d| format!(", {d:.0} m from it"))
            .unwrap_or_default();
        println!("    check-in        signboard of 八角西街{at}");
    }
    println!("    coverage of the assigned streets:");
    for st in &walk.coverage.streets {
        println!(
            "      {:<10} {:>9} of {:>9}  {:>5.1} %  {}",
            st.name.as_deref().unwrap_or("unnamed"),
            metres(st.covered_m),
            metres(st.length_m),
            st.covered_ratio * 100.0,
            duration(st.time_s)
        );
    }
    let t = &walk.coverage.totals;
    println!(
        "      {:<10} {:>9} of {:>9}  {:>5.1} %\n",
        "total",
        metres(t.covered_m),
        metres(t.length_m),
        t.covered_ratio * 100.0
    );
}

/// Step 4 as the supervisor sees it: the patrol, the issues, photos and pickups that arrived, the
/// merchant's rating and the chief's assessment line by line.
fn print_supervisor_view(d: &district::District, work: &OfflineWork, view: &SupervisorView) {
    println!("\n4. On the supervisor's phone, offline from here on");
    println!(
        "  the chief's patrol with {} fixes; coverage measured here: {:.1} % of the assigned streets",
        view.fixes,
        view.coverage.totals.covered_ratio * 100.0
    );
    for (issue, there) in [(&work.bin, &view.bin), (&work.ad, &view.ad)] {
        println!(
            "  issue {} ({}): {}",
            short(&issue.id.to_string()),
            issue.category,
            there.status
        );
    }
    println!(
        "  {} photo originals and {} litter pickup(s) arrived intact",
        view.photos, view.pickups
    );
    if let Some(m) = &view.merchant {
        println!(
            "  merchant {}: {} inspection(s), {} linked issue(s); credit {:.0}, rating {}",
            m.name,
            m.inspections_in_period,
            m.issues_linked_total,
            m.credit_score,
            m.rating.as_deref().unwrap_or("-")
        );
    }
    if let Some((day, a)) = &view.assessment {
        println!(
            "\n  Assessment of {} for {day} (default rules): {} of {} points",
            d.chief.name, a.score, a.max_score
        );
        for l in &a.explanation {
            println!("    {:>6}  {:<44} {}", l.points, l.label, l.detail);
        }
    }
}

/// The merchant's credit for the day of the patrol as the supervisor's phone computes it (the
/// same report `patrol report merchants` prints).
fn rate_the_merchant(
    store: &patrol_core::Store,
    id: patrol_core::MerchantId,
    day_ms: i64,
) -> Result<Option<patrol_core::report::MerchantCredit>> {
    let period = patrol_core::report::Period::parse(
        &patrol_core::report::period::beijing_date_text(day_ms),
    )?;
    let report = store.merchant_report(&period, &patrol_core::report::ReportRules::default())?;
    Ok(report.merchants.into_iter().find(|m| m.merchant_id == id))
}

/// What the supervisor sees of this chief for the day of the patrol: the assessment, line by
/// line (the same report `patrol report assessment` prints for every chief).
fn assess_the_day(
    store: &patrol_core::Store,
    chief: &str,
    day_ms: i64,
) -> Result<Option<(String, patrol_core::report::ChiefAssessment)>> {
    let day = patrol_core::report::period::beijing_date_text(day_ms);
    let period = patrol_core::report::Period::parse(&day)?;
    let report = store.assessment_report(&period, &patrol_core::report::ReportRules::default())?;
    Ok(report
        .chiefs
        .into_iter()
        .find(|c| c.person.user_id == chief)
        .map(|c| (day, c)))
}

fn short(id: &str) -> &str {
    &id[id.len().saturating_sub(8)..]
}
