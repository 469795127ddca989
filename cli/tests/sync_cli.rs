//! `patrol enroll` and `patrol sync` as scripts use them, against a real server on loopback.

use std::process::Command;

use patrol_core::Role;
use patrol_core::sync::wire::Scope;
use patrol_server::{ServerConfig, ServerThread, admin};
use serde_json::Value;

fn patrol(db: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_patrol"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("run patrol")
}

fn json(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn enroll_then_sync() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let server = ServerThread::spawn(ServerConfig::new(
        data.clone(),
        "127.0.0.1:0".parse().unwrap(),
    ))
    .unwrap();
    let storage = patrol_server::open_storage(&data).unwrap();
    let chief = admin::add_user(storage.as_ref(), "王芳", Role::Chief, Scope::Own, None).unwrap();
    let sup = admin::add_user(
        storage.as_ref(),
        "陈主任",
        Role::Supervisor,
        Scope::District,
        None,
    )
    .unwrap();

    let a = tmp.path().join("chief.db");
    let me = json(&patrol(
        &a,
        &[
            "enroll",
            "--server",
            &server.url(),
            "--code",
            &chief.enrol_code,
            "--json",
        ],
    ));
    assert_eq!(me["role"], "chief");
    assert_eq!(me["user_id"], chief.user_id.to_string());
    // A code works once.
    let again = patrol(
        &tmp.path().join("other.db"),
        &[
            "enroll",
            "--server",
            &server.url(),
            "--code",
            &chief.enrol_code,
        ],
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already used"));

    let gpx = tmp.path().join("walk.gpx");
    std::fs::write(
        &gpx,
        r#"<gpx version="1.1"><trk><trkseg>
        <trkpt lat="39.9000" lon="116.2000"><time>2024-05-01T08:00:00Z</time></trkpt>
        <trkpt lat="39.9001" lon="116.2000"><time>2024-05-01T08:00:10Z</time></trkpt>
        </trkseg></trk></gpx>"#,
    )
    .unwrap();
    json(&patrol(
        &a,
        &["track", "import", gpx.to_str().unwrap(), "--json"],
    ));
    let r = json(&patrol(&a, &["sync", "--json"]));
    assert_eq!(r["patrols_up"], 1);
    assert_eq!(r["fixes_up"], 2);
    assert!(r["bytes_up"].as_u64().unwrap() > 0 && r["bytes_down"].as_u64().unwrap() > 0);

    let b = tmp.path().join("sup.db");
    json(&patrol(
        &b,
        &[
            "enroll",
            "--server",
            &server.url(),
            "--code",
            &sup.enrol_code,
            "--json",
        ],
    ));
    let r = json(&patrol(&b, &["sync", "--network", "cellular", "--json"]));
    assert_eq!(r["patrols_down"], 1);
    assert_eq!(r["fixes_down"], 0, "bulk waits for wifi");
    let r = json(&patrol(&b, &["sync", "--network", "wifi", "--json"]));
    assert_eq!(r["fixes_down"], 2);
    let r = json(&patrol(&b, &["sync", "--json"]));
    assert!(
        r["bytes_down"].as_u64().unwrap() + r["bytes_up"].as_u64().unwrap() < 10_000,
        "a no-op sync is small: {r}"
    );

    // Not enrolled, or offline: clear answers.
    let fresh = tmp.path().join("fresh.db");
    let out = patrol(&fresh, &["sync"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not enrolled"));
    // Plain http to another machine is refused.
    let out = patrol(
        &fresh,
        &[
            "enroll",
            "--server",
            "http://192.0.2.1:8080",
            "--code",
            "AAAA-BBBB-CCCC",
        ],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("plain http"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
