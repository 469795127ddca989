//! `patrol streets`, `patrol coverage` and `patrol signboard` as scripts use them: the real binary,
//! real files, JSON on stdout, clean errors that leave the store as it was.

mod common;

use common::{assert_clean_failure, json_of, patrol};
use patrol_core::geodesy::LocalProjection;
use patrol_model::sim::{ReceiverModel, SimRng, simulate_walk};
use serde_json::Value;

/// Two 590 m streets 30 m apart joined by two 30 m lanes, as OpenStreetMap XML.
fn parallel_osm() -> (String, LocalProjection) {
    let proj = LocalProjection::new(39.9, 116.2);
    let node = |id: u32, x: f64, y: f64| {
        let (lat, lon) = proj.to_degrees(x, y);
        format!(r#"<node id="{id}" lat="{lat:.7}" lon="{lon:.7}"/>"#)
    };
    let way = |id: u32, a: u32, b: u32, name: &str| {
        format!(
            r#"<way id="{id}"><nd ref="{a}"/><nd ref="{b}"/><tag k="highway" v="residential"/><tag k="name" v="{name}"/></way>"#
        )
    };
    let xml = format!(
        "<?xml version=\"1.0\"?><osm version=\"0.6\">{}{}{}{}{}{}{}{}</osm>",
        node(1, 0.0, 0.0),
        node(2, 590.0, 0.0),
        node(3, 0.0, 30.0),
        node(4, 590.0, 30.0),
        way(10, 1, 2, "南街"),
        way(11, 3, 4, "北街"),
        way(12, 1, 3, "西巷"),
        way(13, 2, 4, "东巷"),
    );
    (xml, proj)
}

fn fixes_along(proj: &LocalProjection, y: f64, start_ms: i64) -> String {
    let route = [proj.to_degrees(0.0, y), proj.to_degrees(590.0, y)];
    let rx = ReceiverModel {
        interval_s: 1.0,
        error_sigma_m: 8.0,
        spike_probability: 0.0,
        ..Default::default()
    };
    simulate_walk(&route, 1.3, start_ms, &rx, None, &mut SimRng::new(5))
        .into_iter()
        .map(|(f, _)| serde_json::to_string(&f).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn import_assign_patrol_coverage_and_signboards() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("chief.db");
    json_of(&patrol(
        &db,
        &["init", "--name", "王芳", "--role", "chief", "--json"],
    ));
    let (xml, proj) = parallel_osm();
    let osm = tmp.path().join("parallel.osm");
    std::fs::write(&osm, xml).unwrap();

    let r = json_of(&patrol(
        &db,
        &["streets", "import", osm.to_str().unwrap(), "--json"],
    ));
    assert_eq!(r["streets"], 4);
    assert_eq!(
        r["segments"],
        3 + 3 + 1 + 1,
        "590 m in three segments of at most 200 m"
    );
    let total = r["total_length_m"].as_f64().unwrap();
    assert!((total - 1240.0).abs() < 2.0, "{total}");

    let list = json_of(&patrol(&db, &["streets", "list", "--json"]));
    assert_eq!(list.as_array().unwrap().len(), 4);
    let south = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "南街")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let a = json_of(&patrol(
        &db,
        &["streets", "assign", "南街", "--chief", "me", "--json"],
    ));
    assert_eq!(a["street_id"], south.as_str());
    json_of(&patrol(
        &db,
        &[
            "streets",
            "assign",
            &south,
            "--steward",
            "steward-7",
            "--json",
        ],
    ));
    let list = json_of(&patrol(&db, &["streets", "list", "--json"]));
    let s = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == south.as_str())
        .unwrap();
    assert!(
        s["chief"].is_string() && s["stewards"][0] == "steward-7",
        "{s}"
    );

    // A walk along 南街, recorded from the shell.
    let id = json_of(&patrol(
        &db,
        &["record", "start", "--street", &south, "--json"],
    ))["patrol_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let fixes = tmp.path().join("walk.jsonl");
    std::fs::write(&fixes, fixes_along(&proj, 0.0, 1_733_040_000_000)).unwrap();
    json_of(&patrol(
        &db,
        &[
            "record",
            "fixes",
            &id,
            "--file",
            fixes.to_str().unwrap(),
            "--json",
        ],
    ));
    // Scanning 南街's signboard during the patrol records a check-in.
    let qr = patrol(&db, &["signboard", "qr", "南街"]);
    assert!(
        qr.status.success(),
        "{}",
        String::from_utf8_lossy(&qr.stderr)
    );
    let link = String::from_utf8(qr.stdout).unwrap().trim().to_owned();
    // A store of its own has no district address to link under: the QR holds the bare code.
    assert!(link.starts_with("SP1."), "{link}");
    let scan = json_of(&patrol(&db, &["signboard", "scan", &link, "--json"]));
    assert_eq!(scan["street_id"], south.as_str());
    assert_eq!(scan["check_in"]["patrol_id"], id.as_str());
    assert!(
        scan["check_in"]["lat"].is_f64(),
        "the patrol's latest fix: {scan}"
    );
    json_of(&patrol(&db, &["record", "stop", &id, "--json"]));

    let c = json_of(&patrol(&db, &["coverage", &id, "--json"]));
    let streets = c["streets"].as_array().unwrap();
    assert_eq!(streets.len(), 1, "the one assigned street: {c}");
    for key in [
        "street_id",
        "name",
        "length_m",
        "covered_m",
        "covered_ratio",
    ] {
        assert!(streets[0].get(key).is_some(), "missing {key}");
    }
    assert_eq!(streets[0]["name"], "南街");
    assert!(
        streets[0]["covered_ratio"].as_f64().unwrap() > 0.95,
        "{}",
        streets[0]
    );
    assert!(c["totals"]["covered_ratio"].as_f64().unwrap() > 0.95);
    let others: Vec<&str> = c["visited_unassigned"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(
        !others.contains(&"北街"),
        "the parallel street 30 m away was not walked: {others:?}"
    );

    let p = json_of(&patrol(
        &db,
        &[
            "coverage",
            "--period",
            "0..99999999999999",
            "--user",
            "me",
            "--json",
        ],
    ));
    assert_eq!(p["patrols"].as_array().unwrap().len(), 1);
    assert!(p["totals"]["covered_m"].as_f64().unwrap() > 550.0);
    let human = patrol(&db, &["coverage", &id]);
    assert!(String::from_utf8_lossy(&human.stdout).contains("南街"));

    // After the patrol, a scan still verifies but records nothing.
    let scan = json_of(&patrol(&db, &["signboard", "scan", &link, "--json"]));
    assert!(
        scan["check_in"].is_null() && scan["note"].as_str().unwrap().contains("no patrol is open")
    );

    // A mistyped code, a forged one (another district's key), junk.
    let code = link.rsplit('/').next().unwrap();
    let mut typo: Vec<char> = code.chars().collect();
    let i = typo.len() - 10;
    typo[i] = if typo[i] == 'q' { 'r' } else { 'q' };
    let typo: String = typo.into_iter().collect();
    assert_clean_failure(
        &patrol(&db, &["signboard", "scan", &typo]),
        "failed verification",
    );
    let other_db = tmp.path().join("other.db");
    json_of(&patrol(
        &other_db,
        &["streets", "import", osm.to_str().unwrap(), "--json"],
    ));
    let forged = String::from_utf8(patrol(&other_db, &["signboard", "qr", "南街"]).stdout).unwrap();
    assert_clean_failure(
        &patrol(&db, &["signboard", "scan", forged.trim()]),
        "failed verification",
    );
    assert_clean_failure(
        &patrol(&db, &["signboard", "scan", "hello"]),
        "not a StreetPatrol signboard code",
    );
    assert_clean_failure(
        &patrol(&db, &["signboard", "qr", "不存在的路"]),
        "no street",
    );

    // Export and import elsewhere: the same network.
    let out = tmp.path().join("net.geojson");
    assert!(
        patrol(&db, &["streets", "export", "--out", out.to_str().unwrap()])
            .status
            .success()
    );
    let copy = tmp.path().join("copy.db");
    let back = json_of(&patrol(
        &copy,
        &["streets", "import", out.to_str().unwrap(), "--json"],
    ));
    assert_eq!(back["streets"], 4);
    assert_eq!(back["segments"], r["segments"]);
    let stdout_export: Value =
        serde_json::from_slice(&patrol(&db, &["streets", "export"]).stdout).unwrap();
    assert_eq!(stdout_export["features"].as_array().unwrap().len(), 8);
}

#[test]
fn bad_street_input_fails_cleanly_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("a.db");
    json_of(&patrol(
        &db,
        &["init", "--name", "a", "--role", "supervisor", "--json"],
    ));
    let (xml, _) = parallel_osm();
    let good = tmp.path().join("good.osm");
    std::fs::write(&good, &xml).unwrap();
    json_of(&patrol(
        &db,
        &["streets", "import", good.to_str().unwrap(), "--json"],
    ));
    let cases: [(&str, &[u8], &str); 5] = [
        ("buildings.osm", br#"<osm><node id="1" lat="39.9" lon="116.2"/><way id="2"><nd ref="1"/><tag k="building" v="yes"/></way></osm>"#, "no ways with a highway tag"),
        ("broken.osm", &xml.as_bytes()[..xml.len() - 40], "not a well-formed OpenStreetMap XML"),
        ("points.geojson", br#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"x"},"geometry":{"type":"Point","coordinates":[116.2,39.9]}}]}"#, "feature 0 is a Point"),
        ("notes.txt", b"shopping list", "unknown street file type"),
        ("empty.geojson", b"", "not a GeoJSON document"),
    ];
    for (name, bytes, needle) in cases {
        let f = tmp.path().join(name);
        std::fs::write(&f, bytes).unwrap();
        assert_clean_failure(
            &patrol(&db, &["streets", "import", f.to_str().unwrap()]),
            needle,
        );
    }
    assert_clean_failure(
        &patrol(&db, &["streets", "import", "/nonexistent.osm"]),
        "cannot read",
    );
    assert_eq!(
        json_of(&patrol(&db, &["streets", "list", "--json"]))
            .as_array()
            .unwrap()
            .len(),
        4,
        "nothing half-imported"
    );
    assert_clean_failure(
        &patrol(
            &db,
            &["streets", "assign", "不存在的路", "--chief", "someone"],
        ),
        "no street",
    );
    assert_clean_failure(
        &patrol(&db, &["coverage", "01900000-0000-7000-8000-000000000000"]),
        "no patrol",
    );
    let empty = tmp.path().join("empty.db");
    assert_clean_failure(&patrol(&empty, &["streets", "export"]), "no street network");
}

#[test]
fn real_extract_imports_from_the_shell() {
    let Some(dir) = patrol_tests::shared_data("osm") else {
        return;
    };
    let file = dir.join("beijing_tsinghua_wudaokou__FreemanDane-PathPlanning.osm");
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("a.db");
    let r = json_of(&patrol(
        &db,
        &["streets", "import", file.to_str().unwrap(), "--json"],
    ));
    assert_eq!(r["lines_read"], 684);
    assert!(
        (r["total_length_m"].as_f64().unwrap() - 127_340.0).abs() < 10.0,
        "{}",
        r["total_length_m"]
    );
    let list = json_of(&patrol(&db, &["streets", "list", "--json"]));
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "中关村北大街")
    );
}

#[test]
fn names_with_escapes_are_refused_and_old_ones_print_neutralised() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("p.db");
    for bad in ["\u{1b}]0;x\u{7}王芳", "王\u{202E}芳"] {
        assert_clean_failure(
            &patrol(&db, &["init", "--name", bad, "--role", "chief"]),
            "the user's name holds a control or text-direction character",
        );
    }
    json_of(&patrol(
        &db,
        &["init", "--name", "王芳", "--role", "chief", "--json"],
    ));
    // A street file with an override in a name is refused, naming the way.
    let (xml, _) = parallel_osm();
    let osm = tmp.path().join("bad.osm");
    std::fs::write(&osm, xml.replace("北街", "北\u{202E}街")).unwrap();
    assert_clean_failure(
        &patrol(&db, &["streets", "import", osm.to_str().unwrap()]),
        "OpenStreetMap way 11: its name holds a control or text-direction character (U+202E)",
    );
    assert_eq!(
        json_of(&patrol(&db, &["streets", "list", "--json"])),
        serde_json::json!([])
    );
    // A name already in the store (as if written before the check) prints neutralised.
    let (xml, _) = parallel_osm();
    let osm = tmp.path().join("good.osm");
    std::fs::write(&osm, xml).unwrap();
    json_of(&patrol(
        &db,
        &["streets", "import", osm.to_str().unwrap(), "--json"],
    ));
    let store = common::open_store(&db);
    store
        .connection()
        .execute(
            "UPDATE street SET name = ?1 WHERE name = '南街'",
            ["\u{1b}]0;pwned\u{7}南\u{202E}街"],
        )
        .unwrap();
    store.close().unwrap();
    let out = patrol(&db, &["streets", "list"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{202E}'),
        "{text:?}"
    );
    assert!(
        text.contains("\u{FFFD}]0;pwned\u{FFFD}南\u{FFFD}街"),
        "{text:?}"
    );
}
