//! `patrol-server admin ...` as an administrator scripts it.

use std::process::Command;

use serde_json::Value;

fn admin(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_patrol-server"))
        .arg("--data")
        .arg(data)
        .arg("admin")
        .args(args)
        .output()
        .unwrap()
}

fn json(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn admin_sets_up_a_district() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    assert!(
        admin(&data, &["district", "set", "--name", "石景山区"])
            .status
            .success()
    );
    let sub = json(&admin(
        &data,
        &["subdistrict", "add", "--name", "八角街道", "--json"],
    ));
    let sub_id = sub["subdistrict_id"].as_str().unwrap().to_owned();
    let u = json(&admin(
        &data,
        &["user", "add", "--name", "王芳", "--role", "chief", "--json"],
    ));
    assert!(u["user_id"].is_string());
    let code = u["enrol_code"].as_str().unwrap();
    assert_eq!(code.len(), 14);
    assert!(u["enrol_qr"].as_str().unwrap().contains(code));
    let s = json(&admin(
        &data,
        &[
            "user",
            "add",
            "--name",
            "陈主任",
            "--role",
            "supervisor",
            "--scope",
            &format!("subdistrict:{sub_id}"),
            "--json",
        ],
    ));
    assert_eq!(s["scope"], format!("subdistrict:{sub_id}"));
    let by_name = json(&admin(
        &data,
        &[
            "user",
            "add",
            "--name",
            "张主任",
            "--role",
            "supervisor",
            "--scope",
            "subdistrict:八角街道",
            "--json",
        ],
    ));
    assert_eq!(by_name["scope"], format!("subdistrict:{sub_id}"));
    let list = json(&admin(&data, &["user", "list", "--json"]));
    assert_eq!(list.as_array().unwrap().len(), 3);

    // Clear errors for bad input.
    for (args, needle) in [
        (vec!["user", "add", "--name", "x", "--role", "king"], "role"),
        (
            vec![
                "user",
                "add",
                "--name",
                "x",
                "--role",
                "chief",
                "--scope",
                "planet:mars",
            ],
            "not a scope",
        ),
        (
            vec![
                "user", "add", "--name", "x", "--role", "public", "--scope", "district",
            ],
            "own",
        ),
        (
            vec![
                "streets",
                "assign",
                "无此街",
                "--chief",
                u["user_id"].as_str().unwrap(),
            ],
            "no street",
        ),
        (vec!["streets", "import", "/nonexistent.osm"], "cannot read"),
    ] {
        let out = admin(&data, &args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let revoke = admin(
        &data,
        &["device", "revoke", "--user", u["user_id"].as_str().unwrap()],
    );
    assert!(revoke.status.success());
}
