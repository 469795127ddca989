//! The `patrol` binary as scripts use it: JSON on stdout, errors on stderr with a non-zero exit,
//! never a panic.

mod common;

use std::process::Command;

use common::{assert_clean_failure, json_of, patrol};

const WALK: &str = r#"<?xml version="1.0"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1"><trk><name>银河大街</name><trkseg>
<trkpt lat="39.9000" lon="116.2000"><time>2024-05-01T08:00:00Z</time></trkpt>
<trkpt lat="39.9001" lon="116.2000"><time>2024-05-01T08:00:10Z</time></trkpt>
<trkpt lat="39.9002" lon="116.2000"><time>2024-05-01T08:00:20Z</time></trkpt>
<trkpt lat="39.9502" lon="116.2000"><time>2024-05-01T08:00:21Z</time></trkpt>
<trkpt lat="39.9003" lon="116.2000"><time>2024-05-01T08:00:30Z</time></trkpt>
</trkseg></trk></gpx>"#;

#[test]
fn init_import_stats_export() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("chief.db");
    let me = json_of(&patrol(
        &db,
        &["init", "--name", "王芳", "--role", "chief", "--json"],
    ));
    assert_eq!(me["role"], "chief");
    assert_clean_failure(
        &patrol(&db, &["init", "--name", "x", "--role", "chief"]),
        "already set up",
    );

    let gpx = tmp.path().join("walk.gpx");
    std::fs::write(&gpx, WALK).unwrap();
    let r = json_of(&patrol(
        &db,
        &["track", "import", gpx.to_str().unwrap(), "--json"],
    ));
    for key in [
        "patrol_id",
        "fixes_read",
        "fixes_kept",
        "segments",
        "distance_m",
        "raw_distance_m",
        "duration_s",
        "rejected",
    ] {
        assert!(r.get(key).is_some(), "missing {key} in {r}");
    }
    assert_eq!(r["fixes_read"], 5);
    assert_eq!(r["fixes_kept"], 4);
    assert_eq!(r["segments"], 1);
    assert_eq!(r["rejected"]["impossible_speed"], 1);
    assert_eq!(r["duration_s"], 30.0);
    let d = r["distance_m"].as_f64().unwrap();
    assert!((d - 33.36).abs() < 0.05, "{d}");
    assert!(r["raw_distance_m"].as_f64().unwrap() > 11_000.0);

    let id = r["patrol_id"].as_str().unwrap();
    let s = json_of(&patrol(&db, &["track", "stats", id, "--json"]));
    assert_eq!(s["patrol_id"], id);
    assert_eq!(s["fixes_kept"], 4);
    assert!(s["simplified_points"].as_u64().unwrap() >= 2);

    let out = patrol(&db, &["track", "export", id, "--format", "gpx"]);
    assert!(out.status.success());
    let back = tmp.path().join("back.gpx");
    std::fs::write(&back, &out.stdout).unwrap();
    let again = json_of(&patrol(
        &db,
        &["track", "import", back.to_str().unwrap(), "--json"],
    ));
    assert_eq!(again["fixes_read"], 4, "the export holds the kept fixes");
    assert!((again["distance_m"].as_f64().unwrap() - d).abs() < 0.01);

    let g = json_of(&patrol(
        &db,
        &[
            "track", "export", id, "--format", "geojson", "--datum", "gcj02",
        ],
    ));
    assert_eq!(g["type"], "FeatureCollection");
    let lon = g["features"][0]["geometry"]["coordinates"][0][0][0]
        .as_f64()
        .unwrap();
    assert!(
        (lon - 116.2).abs() > 1e-3,
        "GCJ-02 shifts Beijing by hundreds of metres: {lon}"
    );

    let list = json_of(&patrol(&db, &["track", "list", "--json"]));
    assert_eq!(list.as_array().unwrap().len(), 2);
}

#[test]
fn gcj02_import_lands_on_wgs84() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("a.db");
    json_of(&patrol(
        &db,
        &["init", "--name", "a", "--role", "steward", "--json"],
    ));
    let gpx = tmp.path().join("walk.gpx");
    std::fs::write(&gpx, WALK).unwrap();
    let r = json_of(&patrol(
        &db,
        &[
            "track",
            "import",
            gpx.to_str().unwrap(),
            "--datum",
            "gcj02",
            "--json",
        ],
    ));
    let g = json_of(&patrol(
        &db,
        &[
            "track",
            "export",
            r["patrol_id"].as_str().unwrap(),
            "--format",
            "geojson",
        ],
    ));
    let first = &g["features"][0]["geometry"]["coordinates"][0][0];
    // WGS-84 is south-west of GCJ-02 in Beijing.
    assert!(
        first[0].as_f64().unwrap() < 116.2 - 1e-3 && first[1].as_f64().unwrap() < 39.9,
        "{first}"
    );
}

#[test]
fn bad_input_fails_cleanly_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("a.db");
    json_of(&patrol(
        &db,
        &["init", "--name", "a", "--role", "chief", "--json"],
    ));
    let cases: [(&str, &[u8], &str); 4] = [
        (
            "broken.gpx",
            b"<gpx><trk><trkseg><trkpt lat=\"1\" lon=\"2\"></trk></gpx>",
            "not a well-formed GPX",
        ),
        ("empty.gpx", b"", "empty"),
        (
            "nothing.gpx",
            b"<gpx version=\"1.1\"><trk><trkseg></trkseg></trk></gpx>",
            "no track points",
        ),
        (
            "bad.plt",
            b"Geolife trajectory\n1\n2\n3\n4\n5\nx,y,0,1,2,2008-01-01,00:00:00\n",
            "latitude",
        ),
    ];
    for (name, bytes, needle) in cases {
        let f = tmp.path().join(name);
        std::fs::write(&f, bytes).unwrap();
        assert_clean_failure(
            &patrol(&db, &["track", "import", f.to_str().unwrap()]),
            needle,
        );
    }
    assert_clean_failure(
        &patrol(&db, &["track", "import", "/nonexistent.gpx"]),
        "cannot read",
    );
    let list = json_of(&patrol(&db, &["track", "list", "--json"]));
    assert_eq!(list.as_array().unwrap().len(), 0);
    assert_clean_failure(
        &patrol(
            &db,
            &["track", "stats", "01900000-0000-7000-8000-000000000000"],
        ),
        "no patrol",
    );
    assert_clean_failure(&patrol(&db, &["track", "stats", "not-an-id"]), "not-an-id");

    let notes = tmp.path().join("notes.txt");
    std::fs::write(&notes, "shopping list: eggs, 豆腐, rice".repeat(100)).unwrap();
    assert_clean_failure(
        &patrol(&notes, &["track", "list"]),
        "not a StreetPatrol database",
    );
}

#[test]
fn recording_from_the_shell() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("a.db");
    json_of(&patrol(
        &db,
        &["init", "--name", "a", "--role", "chief", "--json"],
    ));
    let id = json_of(&patrol(&db, &["record", "start", "--json"]))["patrol_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let f = json_of(&patrol(
        &db,
        &[
            "record",
            "fix",
            &id,
            "--lat",
            "39.9",
            "--lon",
            "116.2",
            "--time",
            "2024-05-01T08:00:00Z",
            "--json",
        ],
    ));
    assert_eq!(f["verdict"], "kept");
    assert_clean_failure(
        &patrol(&db, &["record", "fix", &id, "--lat", "0", "--lon", "0"]),
        "invalid fix",
    );
    assert_clean_failure(
        &patrol(
            &db,
            &["record", "fix", &id, "--lat", "NaN", "--lon", "116.2"],
        ),
        "invalid fix",
    );
    let batch = tmp.path().join("fixes.jsonl");
    let lines: Vec<String> = (1..=30)
        .map(|i| format!(r#"{{"lat":{},"lon":116.2,"accuracy_m":4.0,"altitude_m":null,"speed_mps":null,"bearing_deg":null,"time_ms":{},"provider":"gps","is_mock":false,"datum":"wgs84"}}"#, 39.9 + i as f64 * 1e-5, 1_714_550_400_000i64 + i * 1000))
        .collect();
    std::fs::write(&batch, lines.join("\n")).unwrap();
    let b = json_of(&patrol(
        &db,
        &[
            "record",
            "fixes",
            &id,
            "--file",
            batch.to_str().unwrap(),
            "--json",
        ],
    ));
    assert_eq!(b["count"], 30);
    assert_eq!(b["first_seq"], 1);
    let stats = json_of(&patrol(&db, &["record", "stop", &id, "--json"]));
    assert_eq!(stats["fixes_read"], 31);
}

#[test]
fn demo_runs_and_reports() {
    let out = Command::new(env!("CARGO_BIN_EXE_patrol"))
        .args(["demo", "--json"])
        .output()
        .unwrap();
    let d = json_of(&out);
    let kept = d["stats"]["fixes_kept"].as_u64().unwrap();
    assert!(kept > 1000);
    let planned = d["route_length_m"].as_f64().unwrap();
    let walked = d["stats"]["distance_m"].as_f64().unwrap();
    assert!(
        (walked - planned).abs() / planned < 0.15,
        "walked {walked} vs route {planned}"
    );
    assert!(
        d["sampling_changes"].as_array().unwrap().len() >= 2,
        "the chief stood still once"
    );
    let streets = d["coverage"]["streets"].as_array().unwrap();
    assert_eq!(streets.len(), 5, "every assigned street is reported");
    for s in streets {
        let ratio = s["covered_ratio"].as_f64().unwrap();
        if s["name"] == "杨庄北巷" {
            assert!(ratio < 0.1, "the alley was not walked: {s}");
        } else {
            assert!(ratio > 0.9, "walked end to end: {s}");
        }
    }
    assert!(
        d["check_in"]["signboard_id"].is_string(),
        "the signboard scanned on the way"
    );
    assert_eq!(d["issue"]["category"], "overflowing_bin");
    assert_eq!(
        d["issue"]["status"], "verified",
        "the loop closes in the demo"
    );
    // The day's assessment of the chief, computed on the supervisor's phone after sync: one
    // patrol, one issue found, 18 segments of 5 streets.
    let a = &d["assessment"]["chief"];
    assert_eq!(
        (
            a["patrols"].as_u64(),
            a["issues_found"].as_u64(),
            a["segments"].as_u64()
        ),
        (Some(1), Some(1), Some(18))
    );
    assert_eq!(a["explanation"].as_array().unwrap().len(), 8);
    // A resident reported through the signboard's page over HTTP; the chief's phone received
    // it and the loop closed: the receipt page says verified.
    let server = d["server"].as_str().unwrap();
    let resident = &d["resident"];
    assert!(
        resident["signboard"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{server}/s/SP1.")),
        "{resident}"
    );
    assert!(
        resident["receipt"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{server}/r/")),
        "{resident}"
    );
    assert_eq!(resident["receipt_status"], "已核实办结", "{resident}");
    let human = Command::new(env!("CARGO_BIN_EXE_patrol"))
        .arg("demo")
        .output()
        .unwrap();
    assert!(human.status.success());
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("八角西街") && text.contains("coverage of the assigned streets"),
        "{text}"
    );
    assert!(text.contains("verified"), "{text}");
    assert!(text.contains("Assessment of 王芳"), "{text}");
    assert!(
        text.contains("/s/SP1.") && text.contains("receipt page now says: 已核实办结"),
        "{text}"
    );
    // The shop the chief inspected, rated on the supervisor's phone after sync.
    let m = &d["merchant"];
    assert_eq!(
        (
            m["inspections_in_period"].as_u64(),
            m["issues_linked_total"].as_u64()
        ),
        (Some(1), Some(1)),
        "{m}"
    );
    assert!(m["rating"].is_string(), "{m}");
    assert!(text.contains("merchant 八角便民超市"), "{text}");
    // The supervisor's phone got everything through the server.
    assert_eq!(d["supervisor"]["photos"], 2);
    assert_eq!(d["supervisor"]["fixes"], d["fixes_recorded"]);
    assert!(d["syncs"].as_array().unwrap().len() >= 10);
}

#[test]
fn a_car_track_imported_on_foot_gets_a_profile_hint() {
    let Some(dir) = patrol_tests::shared_data("gpx") else {
        return;
    };
    let file = dir.join("gpxpy__around-visnjan-with-car.gpx");
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("a.db");
    let import = |profile: &str| {
        let out = patrol(
            &db,
            &[
                "track",
                "import",
                file.to_str().unwrap(),
                "--profile",
                profile,
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let on_foot = import("walking");
    assert!(on_foot.contains("--profile cycling"), "{on_foot}");
    let by_car = import("driving");
    assert!(!by_car.contains("hint:"), "{by_car}");
    let json = json_of(&patrol(
        &db,
        &["track", "import", file.to_str().unwrap(), "--json"],
    ));
    assert!(
        json["hint"]
            .as_str()
            .unwrap_or("")
            .contains("--profile cycling"),
        "{json}"
    );
}

/// `patrol demo --serve` keeps the demo's server running after the story and prints the office
/// platform's address and the demo supervisor's sign-in, which works: the overview shows the
/// demo's problems. Ctrl-C (SIGINT) stops it cleanly.
#[test]
fn demo_serve_keeps_the_office_platform_up_with_a_supervisor_sign_in() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let mut child = Command::new(env!("CARGO_BIN_EXE_patrol"))
        .args(["demo", "--json", "--serve"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut office = None;
    let mut sign_in = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(url) = line.split_whitespace().find(|w| w.ends_with("/office")) {
            office = Some(url.to_owned());
        }
        if line.contains("sign in as") {
            sign_in = Some(line.clone());
            break;
        }
    }
    let office = office.expect("the office's address is printed");
    let sign_in = sign_in.expect("the sign-in is printed");
    let words: Vec<&str> = sign_in.split_whitespace().collect();
    let name = words[3];
    let password = *words.last().unwrap();

    let mut b = patrol_tests::public::Browser::new();
    let p = b.post_form(
        &format!("{office}/login"),
        &[("name", name), ("password", password)],
    );
    assert_eq!(p.status, 303, "{}", p.body);
    let overview = b.get(&office);
    assert_eq!(overview.status, 200);
    assert!(
        overview.body.contains("id=\"total-reported\">3<"),
        "the demo's three problems: {}",
        overview.body
    );
    let queue = b.get(&format!("{office}/issues"));
    assert!(queue.body.contains("共 3 件"), "{}", queue.body);

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "Ctrl-C stops the demo cleanly: {status:?}"
    );
}
