//! `patrol report`, `patrol map`, `patrol export` and `patrol merchant` through the real binary,
//! on the hand-computed district of `patrol_tests::district` (a supervisor's store after sync).

mod common;

use std::path::{Path, PathBuf};

use common::{assert_clean_failure, json_of, patrol};
use patrol_tests::district;

/// Builds the district and closes every device store; returns the supervisor's store file.
fn district_db(dir: &Path) -> (PathBuf, String, String) {
    let d = district::build(dir);
    let first = d.first_patrol.to_string();
    let shop = d.merchant_shop.to_string();
    let path = d.supervisor_path();
    drop(d);
    (path, first, shop)
}

fn text(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn report_assessment_in_json_csv_and_xlsx() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, _, _) = district_db(tmp.path());
    let r = json_of(&patrol(
        &db,
        &[
            "report",
            "assessment",
            "--period",
            "2024-W49",
            "--format",
            "json",
        ],
    ));
    assert_eq!(r["period"]["label"], "2024-W49");
    let chiefs = r["chiefs"].as_array().unwrap();
    assert_eq!(chiefs.len(), 3);
    // Hand-computed in tests/tests/reports.rs: B 43.83, A 32.75 (A's issue lines count only
    // as far as A met the patrol duty, 1 of 3 segments), C 3.33.
    assert_eq!(chiefs[0]["name"], "李雷");
    assert_eq!(chiefs[0]["score"], 43.83);
    assert_eq!(chiefs[1]["name"], "王芳");
    assert_eq!(chiefs[1]["score"], 32.75);
    assert_eq!(chiefs[1]["segments_patrolled_enough"], 1);
    assert_eq!(chiefs[1]["explanation"].as_array().unwrap().len(), 8);
    assert_eq!(r["rules_version"], 2);
    assert_eq!(chiefs[2]["name"], "赵敏");
    assert_eq!(chiefs[2]["streets_assigned"], 0);
    // JSON is the default format, and the global --json changes nothing.
    let again = json_of(&patrol(
        &db,
        &["--json", "report", "assessment", "--period", "2024-W49"],
    ));
    assert_eq!(again["chiefs"][1]["score"], 32.75);

    let csv = text(&patrol(
        &db,
        &[
            "report",
            "assessment",
            "--period",
            "2024-W49",
            "--format",
            "csv",
        ],
    ));
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(
        lines[2].contains("王芳") && lines[2].contains("32.75"),
        "{csv}"
    );
    let streets = text(&patrol(
        &db,
        &[
            "report",
            "assessment",
            "--period",
            "2024-W49",
            "--format",
            "csv",
            "--table",
            "streets",
        ],
    ));
    assert!(streets.contains("东街") && streets.contains("北巷"));
    let out = tmp.path().join("week.csv");
    let done = patrol(
        &db,
        &[
            "report",
            "assessment",
            "--period",
            "2024-W49",
            "--format",
            "csv",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(done.status.success());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), csv);

    let xlsx = tmp.path().join("week.xlsx");
    let done = patrol(
        &db,
        &[
            "report",
            "assessment",
            "--period",
            "2024-W49",
            "--format",
            "xlsx",
            "--out",
            xlsx.to_str().unwrap(),
        ],
    );
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let bytes = std::fs::read(&xlsx).unwrap();
    assert_eq!(&bytes[..2], b"PK");
    assert_clean_failure(
        &patrol(
            &db,
            &[
                "report",
                "assessment",
                "--period",
                "2024-W49",
                "--format",
                "xlsx",
            ],
        ),
        "--out",
    );
    assert_clean_failure(
        &patrol(&db, &["report", "assessment", "--period", "2024-13"]),
        "ISO week",
    );
    assert_clean_failure(
        &patrol(
            &db,
            &[
                "report",
                "assessment",
                "--period",
                "2024-W49",
                "--format",
                "csv",
                "--table",
                "nope",
            ],
        ),
        "chiefs, streets, explanation",
    );
}

#[test]
fn report_with_a_rules_file_and_a_bad_one() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, _, _) = district_db(tmp.path());
    let mut rules: serde_json::Value =
        serde_json::from_str(patrol_core::report::rules::DEFAULT_RULES_JSON).unwrap();
    rules["version"] = 2.into();
    rules["assessment"]["lines"] =
        serde_json::json!([{ "metric": "issues_found", "per_unit": 10, "cap": 25 }]);
    let file = tmp.path().join("rules.json");
    std::fs::write(&file, rules.to_string()).unwrap();
    let r = json_of(&patrol(
        &db,
        &[
            "report",
            "assessment",
            "--period",
            "2024-W49",
            "--rules",
            file.to_str().unwrap(),
        ],
    ));
    assert_eq!(r["rules_version"], 2);
    // A found 3 issues: 30 points, capped at 25; B and C one each: 10.
    let scores: Vec<f64> = r["chiefs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["score"].as_f64().unwrap())
        .collect();
    assert_eq!(scores, vec![25.0, 10.0, 10.0]);

    std::fs::write(&file, r#"{"version": 1}"#).unwrap();
    assert_clean_failure(
        &patrol(
            &db,
            &[
                "report",
                "assessment",
                "--period",
                "2024-W49",
                "--rules",
                file.to_str().unwrap(),
            ],
        ),
        "rules",
    );
    assert_clean_failure(
        &patrol(
            &db,
            &[
                "report",
                "assessment",
                "--period",
                "2024-W49",
                "--rules",
                "/no/such/rules.json",
            ],
        ),
        "cannot read",
    );
}

#[test]
fn report_stewards_and_merchants() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, _, shop) = district_db(tmp.path());
    let s = json_of(&patrol(
        &db,
        &["report", "stewards", "--period", "2024-W49"],
    ));
    assert_eq!(s["stewards"][0]["points_earned"], 20);
    assert_eq!(s["stewards"][0]["entries_capped"], 1);
    assert_eq!(s["leaderboards"][0]["subdistrict"], "八角");
    assert_eq!(s["streets_not_covered_lately"].as_array().unwrap().len(), 3);
    let m = json_of(&patrol(
        &db,
        &["report", "merchants", "--period", "2024-W49"],
    ));
    let first = &m["merchants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["merchant_id"] == shop.as_str())
        .unwrap()
        .clone();
    assert_eq!(first["credit_score"], 86.61);
    assert_eq!(first["rating"], "B");
    let csv = text(&patrol(
        &db,
        &[
            "report",
            "merchants",
            "--period",
            "2024-W49",
            "--format",
            "csv",
        ],
    ));
    assert!(csv.contains("老王小卖部") && csv.contains("86.61"), "{csv}");
    let xlsx = tmp.path().join("stewards.xlsx");
    assert!(
        patrol(
            &db,
            &[
                "report",
                "stewards",
                "--period",
                "2024-12",
                "--format",
                "xlsx",
                "--out",
                xlsx.to_str().unwrap()
            ]
        )
        .status
        .success()
    );
    assert!(std::fs::metadata(&xlsx).unwrap().len() > 1000);
}

#[test]
fn maps_as_svg_and_png() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, first, _) = district_db(tmp.path());
    let out = |name: &str| tmp.path().join(name).to_str().unwrap().to_owned();
    let p = json_of(&patrol(
        &db,
        &["--json", "map", "patrol", &first, "--out", &out("p.svg")],
    ));
    assert_eq!(p["features"]["segment"], 3);
    let svg = std::fs::read_to_string(out("p.svg")).unwrap();
    assert!(svg.starts_with("<?xml") && svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("class=\"segment\"").count(), 3);
    let p = json_of(&patrol(
        &db,
        &["--json", "map", "patrol", &first, "--out", &out("p.png")],
    ));
    let png = std::fs::read(out("p.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let img = image::load_from_memory(&png).unwrap();
    assert_eq!(
        (img.width() as u64, img.height() as u64),
        (p["width"].as_u64().unwrap(), p["height"].as_u64().unwrap())
    );

    let c = json_of(&patrol(
        &db,
        &["--json", "map", "coverage", "--out", &out("c.png")],
    ));
    assert_eq!(c["features"]["segment"], 6, "the whole network, all time");
    let c = json_of(&patrol(
        &db,
        &[
            "--json",
            "map",
            "coverage",
            "--period",
            "2024-W49",
            "--out",
            &out("c.svg"),
        ],
    ));
    assert_eq!(c["features"]["segment"], 6);
    let i = json_of(&patrol(
        &db,
        &["--json", "map", "issues", "--out", &out("i.svg")],
    ));
    assert_eq!(i["features"]["issue"], 3);
    let t = json_of(&patrol(
        &db,
        &[
            "--json",
            "map",
            "trends",
            "--period",
            "2024-W49",
            "--out",
            &out("t.png"),
        ],
    ));
    assert_eq!(t["features"]["bar-found"], 1);
    assert_clean_failure(
        &patrol(&db, &["map", "issues", "--out", &out("i.jpg")]),
        ".svg or .png",
    );
    assert_clean_failure(
        &patrol(
            &db,
            &[
                "map",
                "patrol",
                "0192f0c4-7c1e-7d2a-9b1e-3f5c2a1d4e6f",
                "--out",
                &out("x.svg"),
            ],
        ),
        "no patrol",
    );
}

#[test]
fn exports_for_gis_tools() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, _, _) = district_db(tmp.path());
    let issues = json_of(&patrol(&db, &["export", "issues"]));
    assert_eq!(issues["type"], "FeatureCollection");
    assert_eq!(issues["features"].as_array().unwrap().len(), 6);
    let open = json_of(&patrol(
        &db,
        &["export", "issues", "--open", "--period", "2024-W49"],
    ));
    assert_eq!(open["features"].as_array().unwrap().len(), 2);
    let cov = json_of(&patrol(
        &db,
        &["export", "coverage", "--period", "2024-W49"],
    ));
    assert_eq!(cov["features"].as_array().unwrap().len(), 6);
    assert!(
        cov["features"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["properties"]["covered_ratio"].as_f64().unwrap() > 0.9)
    );
    let tracks = json_of(&patrol(&db, &["export", "patrols", "--period", "2024-W49"]));
    assert_eq!(tracks["features"].as_array().unwrap().len(), 6);
    let gpx = tmp.path().join("w49.gpx");
    let done = patrol(
        &db,
        &[
            "export",
            "patrols",
            "--period",
            "2024-W49",
            "--format",
            "gpx",
            "--out",
            gpx.to_str().unwrap(),
        ],
    );
    assert!(done.status.success());
    let text = std::fs::read_to_string(&gpx).unwrap();
    assert_eq!(patrol_tests::naive_gpx_segments(&text).len(), 6);
    assert_eq!(text.matches("<trk>").count(), 6);
    assert_clean_failure(
        &patrol(&db, &["export", "issues", "--format", "gpx"]),
        "GPX holds tracks",
    );
}

#[test]
fn merchants_through_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let sup = tmp.path().join("sup.db");
    json_of(&patrol(
        &sup,
        &["init", "--name", "张科长", "--role", "supervisor", "--json"],
    ));
    let streets = tmp.path().join("streets.geojson");
    std::fs::write(&streets, district::streets_geojson()).unwrap();
    assert!(
        patrol(
            &sup,
            &[
                "streets",
                "import",
                streets.to_str().unwrap(),
                "--max-segment-m",
                "205"
            ]
        )
        .status
        .success()
    );
    let (lat, lon) = district::at(10.0, 100.0);
    let (lat, lon) = (lat.to_string(), lon.to_string());
    let m = json_of(&patrol(
        &sup,
        &[
            "--json",
            "merchant",
            "add",
            "--name",
            "老王小卖部",
            "--lat",
            &lat,
            "--lon",
            &lon,
            "--kind",
            "grocery",
        ],
    ));
    let id = m["id"].as_str().unwrap().to_owned();
    assert!(
        m["segment_id"].is_string(),
        "the frontage segment was matched: {m}"
    );
    let photo = tmp.path().join("front.png");
    image::RgbImage::from_fn(32, 32, |x, _| image::Rgb([x as u8 * 8, 90, 60]))
        .save(&photo)
        .unwrap();
    let i = json_of(&patrol(
        &sup,
        &[
            "--json",
            "merchant",
            "inspect",
            &id,
            "--sanitation",
            "poor",
            "--greening",
            "good",
            "--order",
            "fair",
            "--photo",
            photo.to_str().unwrap(),
        ],
    ));
    assert_eq!(i["sanitation"], "poor");
    assert_eq!(i["photos"].as_array().unwrap().len(), 1);
    let list = json_of(&patrol(
        &sup,
        &["--json", "merchant", "list", "--street", "东街"],
    ));
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["inspection_count"], 1);
    let none = json_of(&patrol(
        &sup,
        &["--json", "merchant", "list", "--street", "北巷"],
    ));
    assert!(none.as_array().unwrap().is_empty());
    let edited = json_of(&patrol(
        &sup,
        &[
            "--json",
            "merchant",
            "edit",
            &id,
            "--contact",
            "138-0000-0000",
        ],
    ));
    assert_eq!(edited["contact"], "138-0000-0000");
    assert_clean_failure(
        &patrol(
            &sup,
            &[
                "merchant",
                "inspect",
                &id,
                "--sanitation",
                "bad",
                "--greening",
                "good",
                "--order",
                "good",
            ],
        ),
        "good, fair, poor",
    );

    // A chief's phone receives it by file and inspects too; a steward may not.
    let doc = tmp.path().join("m.automerge");
    assert!(
        patrol(
            &sup,
            &["merchant", "export", &id, "--out", doc.to_str().unwrap()]
        )
        .status
        .success()
    );
    let chief = tmp.path().join("chief.db");
    json_of(&patrol(
        &chief,
        &["init", "--name", "王芳", "--role", "chief", "--json"],
    ));
    let o = json_of(&patrol(
        &chief,
        &["--json", "merchant", "import", doc.to_str().unwrap()],
    ));
    assert_eq!(o["new"], true);
    assert!(
        patrol(
            &chief,
            &[
                "merchant",
                "inspect",
                &id,
                "--sanitation",
                "good",
                "--greening",
                "good",
                "--order",
                "good"
            ]
        )
        .status
        .success()
    );
    let back = tmp.path().join("back.automerge");
    assert!(
        patrol(
            &chief,
            &["merchant", "export", &id, "--out", back.to_str().unwrap()]
        )
        .status
        .success()
    );
    json_of(&patrol(
        &sup,
        &["--json", "merchant", "import", back.to_str().unwrap()],
    ));
    let shown = json_of(&patrol(&sup, &["--json", "merchant", "show", &id]));
    assert_eq!(
        shown["inspections"].as_array().unwrap().len(),
        2,
        "both inspections after the merge"
    );
    let r = json_of(&patrol(
        &sup,
        &["report", "merchants", "--period", "2026-01..2030-12"],
    ));
    assert_eq!(r["merchants"].as_array().unwrap().len(), 1);

    let steward = tmp.path().join("steward.db");
    json_of(&patrol(
        &steward,
        &["init", "--name", "刘大妈", "--role", "steward", "--json"],
    ));
    assert_clean_failure(
        &patrol(
            &steward,
            &[
                "merchant", "add", "--name", "x", "--lat", &lat, "--lon", &lon,
            ],
        ),
        "supervisors and chiefs",
    );
    assert_clean_failure(
        &patrol(
            &sup,
            &["merchant", "show", "0192f0c4-7c1e-7d2a-9b1e-3f5c2a1d4e6f"],
        ),
        "no merchant",
    );
    let junk = tmp.path().join("junk.bin");
    std::fs::write(&junk, b"not automerge").unwrap();
    assert_clean_failure(
        &patrol(&sup, &["merchant", "import", junk.to_str().unwrap()]),
        "not a merchant document",
    );
}
