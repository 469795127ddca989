//! The district office platform (/office) in real headless Chromium at 1440x900, as a
//! subdistrict supervisor uses it: signs in through the form (typing name and password); the
//! overview's counts are those of the problems the test made; the queue filtered to overdue
//! problems holds the one problem past its due time; a problem is dispatched to city property
//! from its page, a crew's phone receives it on its next sync and resolves it with an
//! after-photo, and the supervisor verifies it from the web; the assessment lists every chief of
//! the district with the scores the core computes; every export downloads through the browser
//! and parses; the map draws the network, the problems and the signboard with Leaflet; and no
//! page fetches anything from anywhere but the server. `office.rs` and `office_map.rs` check the
//! same pages over plain HTTP.
//!
//! The overdue problem is real: the district publishes a category due within an hour
//! (`井盖缺失`, as `patrol-server admin rules category` does), a chief's phone learns it on its
//! next sync, and that phone, its clock 90 minutes behind, reports one; its round began then, so
//! it is half an hour past due when the office looks.
//!
//! The browser part is `tests/browser/office.mjs`, run with node once per step (`dispatch`,
//! `verify`, `reports`); each prints what it saw as one JSON line and the assertions are here.
//! The phones' parts (the crew's sync and resolution) run between the steps. The tools it needs
//! and how they are found are those of `public_browser.rs` (`patrol_tests::browser`); without
//! them the test prints SKIP, unless `CI` is set or `PATROL_REQUIRE_BROWSER=1`, which make it
//! fail.
//!
//! It writes the screenshots docs/images/office-{overview,queue,issue,map,assessment}.png
//! (1440 px wide), which are committed. On a failure the pages open then are saved under
//! `target/tmp/`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use patrol_core::issues::NewIssue;
use patrol_core::merchants::{NewInspection, NewMerchant};
use patrol_core::points::NewPickup;
use patrol_core::report::period::{Period, beijing_date_text};
use patrol_core::{Clock, Datum, IssueId, IssueStatus, Role, SystemClock};
use patrol_model::domain::DutyGrade;
use patrol_model::reference::CategoryRow;
use patrol_server::admin;
use patrol_tests::browser::{
    Tools, assert_only_the_server, assert_png_width, shots_dir, str_of, tools_or_skip,
};
use patrol_tests::net::Device;
use patrol_tests::office::{PASSWORD, crew_phone, crew_resolves, set_password, walk_bajiao_west};
use patrol_tests::public::{SIGNBOARD_AT, Site};
use serde_json::{Value, json};

/// How far behind 李明's phone's clock is.
const BEHIND_MS: i64 = 90 * 60 * 1000;
const HOUR_MS: i64 = 3_600_000;
/// Where 李明 reports the missing manhole cover: on 古城小巷.
const MANHOLE_AT: (f64, f64) = (39.9075, 116.2010);
/// Where 李强 reports the overflowing bin: on 八角西街, 170 m north of the signboard.
const BIN_AT: (f64, f64) = (39.9090, 116.19363);

/// A phone's clock set `0` ms behind.
struct BehindClock(i64);

impl Clock for BehindClock {
    fn now_ms(&self) -> i64 {
        SystemClock.now_ms() - self.0
    }
}

fn browse(tools: &Tools, mode: &str, args: Value) -> Value {
    patrol_tests::browser::browse(tools, "office.mjs", mode, args)
}

/// A problem the test made, and what the office should say of it.
#[derive(Debug, Clone)]
struct Made {
    id: IssueId,
    open: bool,
    overdue: bool,
    resolved: bool,
    verified: bool,
}

/// The overview's five counts for `made` (all reported in the period the test looks at).
fn expected_counts(made: &[Made]) -> Value {
    let n = |f: &dyn Fn(&Made) -> bool| made.iter().filter(|m| f(m)).count();
    json!({
        "open": n(&|m| m.open),
        "overdue": n(&|m| m.open && m.overdue),
        "reported": made.len(),
        "resolved": n(&|m| m.resolved),
        "verified": n(&|m| m.verified),
    })
}

fn counts_of(overview: &Value) -> Value {
    json!({
        "open": overview["open"],
        "overdue": overview["overdue"],
        "reported": overview["reported"],
        "resolved": overview["resolved"],
        "verified": overview["verified"],
    })
}

/// The sign-in through the form: the office sent the browser without a session to its sign-in
/// page, and the form's post signed it in with an HttpOnly session cookie.
fn assert_signed_in(seen: &Value, origin: &str) {
    let login = &seen["login"];
    assert_eq!(login["status"], 200, "{login}");
    assert_eq!(
        login["url"],
        format!("{origin}/office/login"),
        "no session: the sign-in page"
    );
    assert_eq!(login["post_status"], 303, "{login}");
    assert_eq!(login["landed"], format!("{origin}/office"));
    let who = str_of(&login["who"], "who");
    assert!(who.contains("李强") && who.contains("八角街道"), "{who}");
    assert_eq!(
        login["cookie"]["http_only"], true,
        "the session cookie: {login}"
    );
}

/// The rows of a downloaded CSV (a BOM dropped) by header.
fn csv_rows(file: &str) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader.headers().expect("a header").clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap_or_else(|e| panic!("{file}: a CSV row: {e}"));
            assert_eq!(r.len(), headers.len(), "{file}: a full row");
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

/// A download the browser finished, saved as `name_ends`; its file.
fn downloaded(seen: &Value, key: &str, name_ends: &str) -> String {
    let d = &seen["downloads"][key];
    assert_eq!(d["failure"], Value::Null, "{key}: {d}");
    let name = str_of(&d["name"], "file name");
    assert!(name.ends_with(name_ends), "{key}: saved as {name}");
    let file = str_of(&d["file"], "file").to_owned();
    assert!(
        std::fs::metadata(&file).is_ok_and(|m| m.len() > 0),
        "{key}: {file} holds something"
    );
    file
}

fn assert_workbook(file: &str) {
    let bytes = std::fs::read(file).expect("workbook");
    assert!(bytes.starts_with(b"PK\x03\x04"), "{file}: an XLSX is a zip");
    assert!(
        bytes.windows(13).any(|w| w == b"xl/workbook.x"),
        "{file}: the zip holds a workbook"
    );
}

#[test]
fn a_supervisor_works_the_office_in_chromium() {
    let Some(tools) = tools_or_skip("a_supervisor_works_the_office_in_chromium") else {
        return;
    };
    let started = std::time::Instant::now();
    let site = Site::new();
    let url = site.server.url();
    let origin = url.trim_end_matches('/').to_owned();
    let storage = site.server.storage();
    let shots = shots_dir();
    for name in [
        "office-overview.png",
        "office-queue.png",
        "office-issue.png",
        "office-map.png",
        "office-assessment.png",
    ] {
        // Each is written again by this run.
        let _ = std::fs::remove_file(shots.join(name));
    }
    let downloads = tempfile::tempdir().expect("tempdir");

    // The district: 王芳 chief of 八角西街 and 李明 of 古城小巷, 周丽 steward of 八角西街, 李强
    // supervisor of 八角街道 (Site), and a category due within the hour.
    let (li_ming, li_ming_code) =
        site.server
            .add_user("李明", Role::Chief, patrol_core::sync::wire::Scope::Own);
    admin::assign(storage.as_ref(), "古城小巷", &li_ming, Role::Chief, true).expect("assign");
    let (steward_id, steward_code) =
        site.server
            .add_user("周丽", Role::Steward, patrol_core::sync::wire::Scope::Own);
    admin::assign(
        storage.as_ref(),
        "八角西街",
        &steward_id,
        Role::Steward,
        true,
    )
    .expect("assign");
    // What `patrol-server admin rules category missing_manhole_cover --zh 井盖缺失 --en ...
    // --due-hours 1` does, on the running server's storage.
    patrol_server::rules::publish_category(
        storage.as_ref(),
        &CategoryRow {
            code: "missing_manhole_cover".into(),
            name_zh: "井盖缺失".into(),
            name_en: "missing manhole cover".into(),
            due_hours: 1,
        },
    )
    .expect("publish the category");

    // 王芳 walks 八角西街, reports litter by the signboard and inspects a restaurant.
    let mut wang = Device::enrol(&url, &site.chief_code);
    wang.sync();
    walk_bajiao_west(&mut wang, 7);
    let litter = wang
        .store
        .report_issue(NewIssue {
            description: "路口垃圾桶旁堆了装修垃圾".into(),
            ..NewIssue::at("litter", SIGNBOARD_AT.0, SIGNBOARD_AT.1)
        })
        .expect("report")
        .issue
        .id;
    let shop = wang
        .store
        .add_merchant(NewMerchant {
            name: "老北京面馆".into(),
            kind: Some("restaurant".into()),
            address: Some("八角西街12号".into()),
            contact: None,
            lat: SIGNBOARD_AT.0,
            lon: SIGNBOARD_AT.1 + 0.00002,
            datum: Datum::Wgs84,
            street: Some("八角西街".into()),
        })
        .expect("merchant");
    wang.store
        .inspect_merchant(
            shop.id,
            NewInspection {
                sanitation: DutyGrade::Poor,
                greening: DutyGrade::Good,
                order: DutyGrade::Fair,
                note: Some("门前堆物".into()),
                photos: vec![],
            },
        )
        .expect("inspection");
    wang.sync();

    // 周丽 picks up two bags on 八角西街.
    let street = admin::resolve_street(storage.as_ref(), "八角西街").expect("street");
    let mut zhou = Device::enrol(&url, &steward_code);
    zhou.sync();
    zhou.store
        .log_pickup(NewPickup {
            lat: SIGNBOARD_AT.0,
            lon: SIGNBOARD_AT.1,
            datum: Datum::Wgs84,
            bags: 2,
            items: 0,
            street_id: Some(street),
            photo_sha256: None,
            note: None,
        })
        .expect("pickup");
    zhou.sync();

    // 李明's phone, its clock 90 minutes behind, learns the new category and reports a missing
    // manhole cover on 古城小巷: due an hour after its report, so half an hour overdue now.
    let mut li = Device::enrol_with_clock(&url, &li_ming_code, Arc::new(BehindClock(BEHIND_MS)));
    li.sync();
    let manhole = li
        .store
        .report_issue(NewIssue {
            description: "井盖缺失，已放警示桶".into(),
            ..NewIssue::at("missing_manhole_cover", MANHOLE_AT.0, MANHOLE_AT.1)
        })
        .expect("report")
        .issue
        .id;
    li.sync();
    let seen = li.store.issue(manhole).expect("the manhole problem");
    assert_eq!(
        seen.due_at_ms - seen.reported_at_ms,
        HOUR_MS,
        "the phone knows the category's hour"
    );
    let behind = SystemClock.now_ms() - seen.reported_at_ms;
    assert!(
        (BEHIND_MS - 120_000..=BEHIND_MS + 120_000).contains(&behind),
        "reported by the phone's clock, {behind} ms ago"
    );

    // 李强's own phone reports an overflowing bin: the one he dispatches and then verifies (the
    // role table lets a supervisor verify only what they reported).
    let mut li_qiang = Device::enrol(&url, &site.supervisor_code);
    li_qiang.sync();
    let bin = li_qiang
        .store
        .report_issue(NewIssue {
            description: "垃圾桶满溢，周边有散落垃圾".into(),
            ..NewIssue::at("overflowing_bin", BIN_AT.0, BIN_AT.1)
        })
        .expect("report")
        .issue
        .id;
    li_qiang.sync();

    set_password(&site, "李强", false);

    let mut made = vec![
        Made {
            id: litter,
            open: true,
            overdue: false,
            resolved: false,
            verified: false,
        },
        Made {
            id: manhole,
            open: true,
            overdue: true,
            resolved: false,
            verified: false,
        },
        Made {
            id: bin,
            open: true,
            overdue: false,
            resolved: false,
            verified: false,
        },
    ];
    // Every report falls within the Beijing days from two hours ago to today.
    let now = SystemClock.now_ms();
    let period = format!(
        "{}..{}",
        beijing_date_text(now - 2 * HOUR_MS),
        beijing_date_text(now)
    );
    let base = json!({
        "origin": origin,
        "name": "李强",
        "password": PASSWORD,
        "shots": shots,
    });
    let with = |extra: Value| {
        let mut a = base.clone();
        for (k, v) in extra.as_object().expect("arguments") {
            a[k] = v.clone();
        }
        a
    };

    // --- Sign in, the overview, the queue, overdue only, and the dispatch.
    let seen = browse(
        &tools,
        "dispatch",
        with(json!({ "period": period, "issue": bin.to_string() })),
    );
    assert_only_the_server(&seen, "sign-in, overview, queue and dispatch", &[]);
    assert_signed_in(&seen, &origin);
    let overview = &seen["overview"];
    assert!(
        str_of(&overview["url"], "url").contains("period="),
        "the period typed in is the one shown: {overview}"
    );
    assert_eq!(counts_of(overview), expected_counts(&made), "{overview}");
    let rows = overview["subdistricts"].as_array().expect("rows");
    assert_eq!(rows.len(), 1, "one subdistrict in 李强's reach: {rows:?}");
    assert_eq!(
        rows[0],
        json!(["八角街道", "3", "1", "3", "0", "0"]),
        "the subdistrict's row"
    );

    let queue = &seen["queue"];
    assert_eq!(queue["total"], "共 3 件", "{queue}");
    let listed: BTreeMap<String, (String, bool)> = queue["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                str_of(&r["id"], "id").to_owned(),
                (
                    str_of(&r["status"], "status").to_owned(),
                    r["overdue"].as_bool().expect("overdue"),
                ),
            )
        })
        .collect();
    let want: BTreeMap<String, (String, bool)> = made
        .iter()
        .map(|m| (m.id.to_string(), ("reported".to_owned(), m.overdue)))
        .collect();
    assert_eq!(
        listed, want,
        "the open queue: every problem, the late one marked"
    );
    assert_eq!(
        queue["rows"][0]["id"],
        manhole.to_string(),
        "sorted by due time, the overdue one first"
    );
    assert_eq!(queue["rows"][0]["category"], "井盖缺失");

    let late = &seen["overdue_queue"];
    assert_eq!(late["checked"], true);
    assert!(str_of(&late["url"], "url").contains("overdue=1"), "{late}");
    assert_eq!(late["total"], "共 1 件", "{late}");
    let late_ids: Vec<&str> = late["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| str_of(&r["id"], "id"))
        .collect();
    assert_eq!(late_ids, vec![manhole.to_string()], "only the overdue one");
    assert_eq!(late["rows"][0]["late_mark"], "超期");

    let before = &seen["before"];
    assert_eq!(
        before["url"],
        format!("{origin}/office/issues/{bin}"),
        "opened from the queue"
    );
    assert_eq!(before["status"], "reported");
    assert_eq!(before["can_assign"], true, "a supervisor may dispatch");
    assert_eq!(before["can_verify"], false, "nothing to verify yet");
    assert_eq!(seen["chosen"], "city_property");
    assert_eq!(seen["post_status"], 303);
    let after = &seen["after"];
    assert_eq!(
        after["url"],
        format!("{origin}/office/issues/{bin}?done=assign")
    );
    assert_eq!(after["status"], "assigned", "{after}");
    assert_eq!(after["status_text"], "已派单");
    assert!(
        str_of(&after["assignees"], "assignees").contains("城市物业"),
        "{after}"
    );
    assert!(
        str_of(&after["notice"], "notice").starts_with("已派单"),
        "{after}"
    );

    // --- A crew's phone receives the dispatch on its next sync and resolves it.
    let mut crew = crew_phone(&site, "刘师傅");
    let after_photo = crew_resolves(&mut crew, bin, BIN_AT);
    made[2].resolved = true;

    // --- 李强 verifies it from the web.
    let seen = browse(
        &tools,
        "verify",
        with(json!({ "period": period, "issue": bin.to_string(), "note": "现场已核实" })),
    );
    assert_only_the_server(&seen, "the problem's page and the verification", &[]);
    assert_signed_in(&seen, &origin);
    let before = &seen["before"];
    assert_eq!(before["status"], "resolved", "{before}");
    assert_eq!(
        before["can_verify"], true,
        "李强 reported it: he may verify"
    );
    let photos = seen["photos"].as_array().expect("photos");
    assert_eq!(photos.len(), 1, "the after-photo: {photos:?}");
    assert_eq!(
        photos[0]["src"],
        format!("/office/issues/{bin}/photo/{after_photo}")
    );
    assert!(
        photos[0]["natural_width"].as_u64().is_some_and(|w| w > 0),
        "the after-photo decodes: {photos:?}"
    );
    assert_eq!(seen["post_status"], 303);
    let after = &seen["after"];
    assert_eq!(after["status"], "verified", "{after}");
    assert_eq!(after["status_text"], "已核实办结");
    assert_eq!(after["can_verify"], false);
    assert!(
        after["timeline"]
            .as_array()
            .expect("timeline")
            .iter()
            .any(|l| str_of(l, "line").contains("现场已核实")),
        "the verification and its note in the timeline: {}",
        after["timeline"]
    );
    made[2].open = false;
    made[2].verified = true;
    assert_eq!(
        counts_of(&seen["overview"]),
        expected_counts(&made),
        "{}",
        seen["overview"]
    );
    li_qiang.sync();
    assert_eq!(
        li_qiang.store.issue(bin).expect("problem").status,
        IssueStatus::Verified,
        "the web's verification reaches the phones"
    );

    // --- The assessment, every export, the map.
    let month = beijing_date_text(SystemClock.now_ms())[..7].to_owned();
    let report = patrol_server::reports::assessment_report(
        storage.as_ref(),
        &Period::parse(&month).expect("period"),
        None,
    )
    .expect("the core's assessment");
    let chiefs: BTreeSet<&str> = report
        .chiefs
        .iter()
        .map(|c| c.person.name.as_deref().unwrap_or_default())
        .collect();
    assert_eq!(
        chiefs,
        BTreeSet::from(["王芳", "李明"]),
        "the district's chiefs"
    );
    let seen = browse(
        &tools,
        "reports",
        with(json!({ "month": month, "downloads": downloads.path() })),
    );
    assert_only_the_server(&seen, "the assessment, exports and map", &[]);
    assert_signed_in(&seen, &origin);

    let page = &seen["assessment"];
    assert!(
        str_of(&page["url"], "url").contains(&format!("period={month}")),
        "{page}"
    );
    let rows = page["rows"].as_array().expect("rows");
    assert_eq!(
        rows.iter()
            .map(|r| str_of(&r["user"], "user"))
            .collect::<Vec<_>>(),
        report
            .chiefs
            .iter()
            .map(|c| c.person.user_id.as_str())
            .collect::<Vec<_>>(),
        "every chief, in the core's order: {rows:?}"
    );
    for (row, c) in rows.iter().zip(&report.chiefs) {
        assert_eq!(row["name"], c.person.name.as_deref().unwrap_or_default());
        assert_eq!(row["subdistrict"], "八角街道");
        assert_eq!(
            row["score"],
            format!("{:.1} / {:.1}", c.score, c.max_score),
            "{:?}'s score",
            c.person.name
        );
    }
    assert!(
        report.chiefs[0].score > report.chiefs[1].score,
        "the walk and report count: {:?}",
        report
            .chiefs
            .iter()
            .map(|c| (&c.person.name, c.score))
            .collect::<Vec<_>>()
    );

    let file = downloaded(&seen, "assessment_csv", ".csv");
    let csv = csv_rows(&file);
    assert_eq!(csv.len(), report.chiefs.len(), "{csv:?}");
    for (row, c) in csv.iter().zip(&report.chiefs) {
        assert_eq!(row["user_id"], c.person.user_id.as_str());
        assert_eq!(Some(&row["name"]), c.person.name.as_ref());
        let score: f64 = row["score"].parse().expect("a score");
        assert!(
            (score - c.score).abs() < 0.051,
            "{row:?} against {}",
            c.score
        );
    }
    assert_workbook(&downloaded(&seen, "assessment_xlsx", ".xlsx"));

    // The open queue's CSV: the two problems still open, the manhole overdue.
    let file = downloaded(&seen, "issues_csv", ".csv");
    let csv = csv_rows(&file);
    let open: BTreeMap<&str, &str> = csv
        .iter()
        .map(|r| (r["编号"].as_str(), r["超期"].as_str()))
        .collect();
    let manhole_id = manhole.to_string();
    let litter_id = litter.to_string();
    assert_eq!(
        open,
        BTreeMap::from([(manhole_id.as_str(), "是"), (litter_id.as_str(), "否")]),
        "{csv:?}"
    );

    let stewards = csv_rows(&downloaded(&seen, "stewards_csv", ".csv"));
    assert!(
        stewards
            .iter()
            .any(|r| r["name"] == "周丽" && r["user_id"] == steward_id.to_string()),
        "{stewards:?}"
    );
    assert_workbook(&downloaded(&seen, "stewards_xlsx", ".xlsx"));
    let merchants = csv_rows(&downloaded(&seen, "merchants_csv", ".csv"));
    assert!(
        merchants
            .iter()
            .any(|r| r["name"] == "老北京面馆" && r["merchant_id"] == shop.id.to_string()),
        "{merchants:?}"
    );
    assert_workbook(&downloaded(&seen, "merchants_xlsx", ".xlsx"));

    let file = downloaded(&seen, "map_geojson", ".geojson");
    let geojson: Value =
        serde_json::from_slice(&std::fs::read(&file).expect("GeoJSON")).expect("GeoJSON parses");
    assert_eq!(geojson["type"], "FeatureCollection");
    let features = geojson["features"].as_array().expect("features");
    let of_kind = |kind: &str| {
        features
            .iter()
            .filter(|f| f["properties"]["kind"] == kind)
            .collect::<Vec<_>>()
    };
    let segments = of_kind("segment");
    let issues = of_kind("issue");
    let signboards = of_kind("signboard");
    assert!(segments.len() >= 2, "both streets' segments");
    assert_eq!(
        issues
            .iter()
            .map(|f| str_of(&f["properties"]["id"], "id"))
            .collect::<BTreeSet<_>>(),
        BTreeSet::from([manhole_id.as_str(), litter_id.as_str()]),
        "the open problems"
    );
    assert_eq!(signboards.len(), 1);

    // The map as drawn: a line per segment, a circle per problem and signboard, inside the map,
    // the overdue problem in its own colour; no tile from anywhere.
    let map = &seen["map"];
    assert_eq!(map["leaflet"], true, "{map}");
    assert_eq!(map["tiles"], 0, "no tile layer");
    assert!(
        map["box"]["width"].as_f64().is_some_and(|w| w > 600.0)
            && map["box"]["height"].as_f64().is_some_and(|h| h > 300.0),
        "the map has room: {}",
        map["box"]
    );
    let shapes = map["shapes"].as_array().expect("shapes");
    let count = |kind: &str| shapes.iter().filter(|s| s["kind"] == kind).count();
    assert_eq!(
        count("line"),
        segments.len(),
        "a line per segment: {shapes:?}"
    );
    assert_eq!(
        count("circle"),
        issues.len() + signboards.len(),
        "a circle per problem and signboard: {shapes:?}"
    );
    assert!(
        shapes.iter().all(|s| s["inside"] == true),
        "everything drawn within the map: {shapes:?}"
    );
    assert_eq!(
        shapes.iter().filter(|s| s["fill"] == "#7f0000").count(),
        1,
        "the overdue problem, dark red: {shapes:?}"
    );
    assert_eq!(map["cards"]["map-open"], "2");
    assert_eq!(map["cards"]["map-overdue"], "1");
    assert_eq!(map["cards"]["map-signboards"], "1");
    assert_eq!(
        map["cards"]["map-segments"],
        segments.len().to_string(),
        "{map}"
    );

    for name in [
        "office-overview.png",
        "office-queue.png",
        "office-issue.png",
        "office-map.png",
        "office-assessment.png",
    ] {
        assert_png_width(&shots.join(name), 1440);
    }
    eprintln!(
        "a_supervisor_works_the_office_in_chromium: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
