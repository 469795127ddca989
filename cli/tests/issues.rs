//! The issue loop through the real `patrol` binary: several devices (one store each, one role
//! each) hand the issue over by `issue export` / `issue import`, the way two offline phones do
//! by file. JSON statuses and categories are lowercase snake_case; refusals exit non-zero with
//! one line on stderr, and a second naming the command to run where the CLI knows one.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

#[allow(
    dead_code,
    reason = "this file has its own `patrol` runner; it uses `open_store`"
)]
mod common;

fn patrol(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_patrol"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("run patrol")
}

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn refused(out: &Output, needle: &str) {
    assert!(
        !out.status.success(),
        "expected a refusal, got: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.trim_end().lines().collect();
    assert!(
        lines.len() == 1
            || (lines.len() == 2
                && lines[1].starts_with("hint: ")
                && lines[1].contains("`patrol ")),
        "one line, and at most a hint naming a command: {err}"
    );
    assert!(
        err.starts_with("error: ") && err.contains(needle),
        "expected {needle:?} in: {err}"
    );
}

struct Device {
    db: PathBuf,
}

impl Device {
    fn new(dir: &Path, name: &str, role: &str) -> Self {
        let db = dir.join(format!("{name}.db"));
        let me = json_of(&patrol(
            &db,
            &["init", "--name", name, "--role", role, "--json"],
        ));
        assert_eq!(me["role"], role);
        Self { db }
    }
    fn run(&self, args: &[&str]) -> Output {
        patrol(&self.db, args)
    }
    fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.push("--json");
        json_of(&self.run(&a))
    }
    /// Hands `id` to `other` by file.
    fn hand_to(&self, other: &Device, id: &str) -> Value {
        let file = self.db.with_extension(format!("{}.automerge", &id[..8]));
        let f = file.to_str().unwrap();
        json_of(&self.run(&["issue", "export", id, "--out", f, "--json"]));
        other.json(&["issue", "import", f])
    }
}

/// A street network as GeoJSON: 八角西街 where the loop's issues are, and two streets called
/// 清华路 in two subdistricts.
fn network(dir: &Path) -> String {
    let line = |name: &str, sub: &str, lat: f64| {
        serde_json::json!({
            "type": "Feature",
            "properties": { "name": name, "subdistrict": sub, "highway": "residential" },
            "geometry": { "type": "LineString", "coordinates": [[116.1930, lat], [116.1945, lat]] }
        })
    };
    let fc = serde_json::json!({ "type": "FeatureCollection", "features": [
        line("八角西街", "八角街道", 39.9075),
        line("清华路", "八角街道", 39.9100),
        line("清华路", "古城街道", 39.9200),
        line("学院路", "古城街道", 39.9300),
    ]});
    let path = dir.join("net.geojson");
    std::fs::write(&path, fc.to_string()).unwrap();
    path.to_str().unwrap().to_owned()
}

fn png(dir: &Path, name: &str) -> String {
    let p = dir.join(name);
    // Each name gives different pixels, so different photos have different hashes.
    let seed = name
        .bytes()
        .fold(7u8, |a, b| a.wrapping_mul(31).wrapping_add(b));
    image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8 * 6, y as u8 * 8, seed]))
        .save(&p)
        .unwrap();
    p.to_str().unwrap().to_owned()
}

fn kinds(issue: &Value) -> Vec<String> {
    issue["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_loop_from_report_to_verified_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let steward = Device::new(dir, "steward", "steward");
    let chief = Device::new(dir, "chief", "chief");
    let crew = Device::new(dir, "crew", "crew");
    let before = png(dir, "before.png");
    // `--street` names a street of the store's network: the steward's has 八角西街.
    steward.json(&["streets", "import", &network(dir)]);

    let new = steward.json(&[
        "issue",
        "new",
        "--category",
        "litter",
        "--lat",
        "39.9075",
        "--lon",
        "116.1936",
        "--note",
        "路边一堆垃圾",
        "--photo",
        &before,
        "--street",
        "八角西街",
    ]);
    let id = new["id"].as_str().unwrap().to_owned();
    assert_eq!(new["status"], "reported");
    assert_eq!(new["category"], "litter");
    assert_eq!(new["possible_duplicates"].as_array().unwrap().len(), 0);
    assert_eq!(new["photos"][0]["stage"], "before");
    // A second report of the same problem nearby is offered as a duplicate.
    let again = steward.json(&[
        "issue",
        "new",
        "--category",
        "litter",
        "--lat",
        "39.90752",
        "--lon",
        "116.1936",
    ]);
    assert_eq!(again["possible_duplicates"][0]["id"], id.as_str());

    assert_eq!(steward.hand_to(&chief, &id)["new"], true);
    refused(
        &chief.run(&["issue", "resolve", &id, "--photo", &before]),
        "only the assignee",
    );
    let a = chief.json(&["issue", "assign", &id, "--to", "city-property"]);
    assert_eq!(a["status"], "assigned");
    assert_eq!(a["assignee"], "city_property");

    chief.hand_to(&crew, &id);
    assert_eq!(
        crew.json(&["issue", "accept", &id])["status"],
        "in_progress"
    );
    refused(
        &crew.run(&[
            "issue",
            "resolve",
            &id,
            "--photo",
            &png(dir, "after-far.png"),
            "--lat",
            "39.95",
            "--lon",
            "116.1936",
        ]),
        "m from the issue",
    );
    let after = png(dir, "after.png");
    let r = crew.json(&[
        "issue", "resolve", &id, "--photo", &after, "--lat", "39.9076", "--lon", "116.1936",
    ]);
    assert_eq!(r["status"], "resolved");

    crew.hand_to(&steward, &id);
    refused(
        &steward.run(&["issue", "verify", &id]),
        "steward may not verify",
    );
    crew.hand_to(&chief, &id);
    let c = chief.json(&["issue", "comment", &id, "--text", "checked on my patrol"]);
    assert_eq!(c["comments"][0]["text"], "checked on my patrol");
    let v = chief.json(&["issue", "verify", &id]);
    assert_eq!(v["status"], "verified");

    let merged = chief.hand_to(&steward, &id);
    assert_eq!(merged["status"], "verified");
    let shown = steward.json(&["issue", "show", &id]);
    assert_eq!(shown["id"], id.as_str());
    assert_eq!(shown["status"], "verified");
    assert_eq!(shown["category"], "litter");
    assert_eq!(
        kinds(&shown),
        ["report", "assign", "accept", "resolve", "verify"]
    );
    assert_eq!(shown["heads"], chief.json(&["issue", "show", &id])["heads"]);
    // The steward's report ended verified: points.
    assert_eq!(steward.json(&["points"])["balance"], 5);
    let list = steward.json(&["issue", "list", "--status", "verified"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    // The first is verified; the second, reported without --street, landed on 八角西街 by its
    // location (the steward's store has the network) and is still open.
    let open_here = steward.json(&["issue", "list", "--street", "八角西街", "--open"]);
    assert_eq!(open_here.as_array().unwrap().len(), 1);
    assert_eq!(open_here[0]["id"], again["id"]);
    assert_eq!(
        steward
            .json(&[
                "issue",
                "list",
                "--near",
                "39.9075,116.1936",
                "--radius",
                "50"
            ])
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Export to stdout works too (`issue export ID > FILE`).
    let piped = steward.run(&["issue", "export", &id]);
    assert!(piped.status.success());
    let file = dir.join("piped.automerge");
    std::fs::write(&file, &piped.stdout).unwrap();
    assert_eq!(
        crew.json(&["issue", "import", file.to_str().unwrap()])["status"],
        "verified"
    );

    // Importing the same file twice changes nothing; junk is refused in one line.
    let again = chief.hand_to(&steward, &id);
    assert_eq!(again["changed"], false);
    let junk = dir.join("junk.automerge");
    std::fs::write(&junk, "not a document").unwrap();
    refused(
        &steward.run(&["issue", "import", junk.to_str().unwrap()]),
        "not issue changes",
    );
    refused(
        &steward.run(&[
            "issue",
            "new",
            "--category",
            "graffiti",
            "--lat",
            "39.9",
            "--lon",
            "116.2",
        ]),
        "not an issue category",
    );
    refused(
        &steward.run(&["issue", "assign", &id, "--to", "the-mayor"]),
        "not someone an issue can be assigned to",
    );
}

#[test]
fn concurrent_assignments_show_as_a_conflict() {
    let tmp = tempfile::tempdir().unwrap();
    let chief = Device::new(tmp.path(), "chief", "chief");
    let sup = Device::new(tmp.path(), "sup", "supervisor");
    let id = chief.json(&[
        "issue",
        "new",
        "--category",
        "illegal-parking",
        "--lat",
        "39.9",
        "--lon",
        "116.2",
    ])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    chief.hand_to(&sup, &id);
    chief.json(&["issue", "assign", &id, "--to", "enforcement"]);
    sup.json(&["issue", "assign", &id, "--to", "city_property"]);
    chief.hand_to(&sup, &id);
    sup.hand_to(&chief, &id);
    let a = chief.json(&["issue", "show", &id]);
    let b = sup.json(&["issue", "show", &id]);
    assert_eq!(a["category"], "illegal_parking");
    assert_eq!(a["status"], "assigned");
    assert_eq!(
        a["conflict"]["assignees"],
        serde_json::json!(["city_property", "enforcement"])
    );
    assert_eq!(a["heads"], b["heads"]);
    assert_eq!(a["events"], b["events"]);
    let settled = sup.json(&["issue", "assign", &id, "--to", "enforcement"]);
    assert!(settled["conflict"].is_null());
}

#[test]
fn photos_pickups_and_points() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Device::new(tmp.path(), "steward", "steward");
    let p = png(tmp.path(), "bag.png");
    let photo = s.json(&["photo", "add", &p]);
    assert_eq!(photo["mime"], "image/png");
    assert_eq!(photo["sha256"].as_str().unwrap().len(), 64);
    let text = tmp.path().join("notes.jpg");
    std::fs::write(&text, "not a photo").unwrap();
    refused(
        &s.run(&["photo", "add", text.to_str().unwrap()]),
        "not a JPEG or PNG",
    );

    let log = s.json(&[
        "pickup", "log", "--bags", "2", "--lat", "39.9075", "--lon", "116.1936", "--photo", &p,
    ]);
    assert_eq!(log["points"]["points"], 4);
    assert_eq!(log["pickup"]["photo_sha256"], photo["sha256"]);
    refused(
        &s.run(&["pickup", "log", "--lat", "39.9", "--lon", "116.2"]),
        "--bags",
    );
    let pts = s.json(&["points"]);
    assert_eq!(pts["balance"], 4);
    assert_eq!(pts["entries"][0]["kind"], "pickup");
    refused(
        &s.run(&["points", "redeem", "--points", "5", "--for", "rice"]),
        "balance is 4",
    );
    assert_eq!(
        s.json(&["points", "redeem", "--points", "4", "--for", "rice"])["points"],
        -4
    );
    assert_eq!(s.json(&["points"])["balance"], 0);
}

#[test]
fn street_options_take_an_id_or_a_name_only_one_street_has() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let chief = Device::new(dir, "chief", "chief");
    let new_issue = |street: &str| {
        chief.run(&[
            "issue",
            "new",
            "--category",
            "litter",
            "--lat",
            "39.9075",
            "--lon",
            "116.1936",
            "--street",
            street,
        ])
    };
    // No network yet: a name cannot be a street of it.
    refused(&new_issue("清华路"), "no street network yet");
    chief.json(&["streets", "import", &network(dir)]);
    let streets = chief.json(&["streets", "list"]);
    let id_of = |name: &str, sub: &str| {
        streets
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name && s["subdistrict"] == sub)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (qh_bajiao, qh_gucheng) = (id_of("清华路", "八角街道"), id_of("清华路", "古城街道"));
    let xueyuan = id_of("学院路", "古城街道");

    // Two streets are called 清华路: refused, listing both.
    let out = new_issue("清华路");
    refused(&out, "names 2 streets");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{qh_bajiao} (八角街道, residential)"))
            && err.contains(&format!("{qh_gucheng} (古城街道, residential)")),
        "{err}"
    );
    refused(&new_issue("长安街"), "no street \"长安街\"");
    refused(
        &new_issue("00000000-0000-0000-0000-000000000000"),
        "no street",
    );
    assert_eq!(
        chief.json(&["issue", "list"]).as_array().unwrap().len(),
        0,
        "nothing was stored"
    );

    // A name only one street has is stored as its id, and so is an id.
    let by_name = chief.json(&[
        "issue",
        "new",
        "--category",
        "litter",
        "--lat",
        "39.9300",
        "--lon",
        "116.1936",
        "--street",
        "学院路",
    ]);
    assert_eq!(by_name["location"]["street_id"], xueyuan.as_str());
    let by_id = chief.json(&[
        "issue",
        "new",
        "--category",
        "litter",
        "--lat",
        "39.9100",
        "--lon",
        "116.1936",
        "--street",
        &qh_gucheng,
    ]);
    assert_eq!(by_id["location"]["street_id"], qh_gucheng.as_str());
    let listed = chief.json(&["issue", "list", "--street", "学院路"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    refused(
        &chief.run(&["issue", "list", "--street", "清华路"]),
        "names 2 streets",
    );

    // The other commands that take --street resolve it the same way.
    let pickup = |street: &str| {
        chief.run(&[
            "pickup", "log", "--bags", "1", "--lat", "39.93", "--lon", "116.1936", "--street",
            street, "--json",
        ])
    };
    refused(&pickup("清华路"), "names 2 streets");
    let p = json_of(&pickup("学院路"));
    assert_eq!(p["pickup"]["street_id"], xueyuan.as_str());
    refused(
        &chief.run(&["record", "start", "--street", "清华路"]),
        "names 2 streets",
    );
    refused(
        &chief.run(&[
            "merchant",
            "add",
            "--name",
            "小卖部",
            "--lat",
            "39.91",
            "--lon",
            "116.1936",
            "--street",
            "清华路",
        ]),
        "names 2 streets",
    );
    let started = chief.json(&["record", "start", "--street", "学院路"]);
    assert!(started["patrol_id"].is_string());
    let store = common::open_store(&chief.db);
    let planned: Vec<String> = store
        .connection()
        .prepare("SELECT street_id FROM patrol_street")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(planned, vec![xueyuan]);
}
