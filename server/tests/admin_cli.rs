//! `patrol-server admin ...` as an administrator scripts it.

use std::process::Command;

use serde_json::Value;

// The shared-data policy (SKIP outside CI, fail under CI) from patrol-tests, which depends on this
// crate and so cannot be a dependency of its tests.
#[path = "../../tests/src/shared_data.rs"]
#[allow(dead_code, reason = "this test uses shared_data() only")]
mod shared_data;

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

#[test]
fn subdistricts_import_from_the_national_list() {
    let Some(names) = shared_data::shared_data("names") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let beijing = names.join("beijing_streets__modood.csv");
    let beijing = beijing.to_str().unwrap();
    // The city-wide list, narrowed to 石景山区 by its area code.
    let r = json(&admin(
        &data,
        &[
            "subdistrict",
            "import",
            beijing,
            "--area",
            "110107",
            "--json",
        ],
    ));
    assert_eq!(r["rows"], 9);
    let added = r["added"].as_array().unwrap();
    assert_eq!(added.len(), 9);
    let bajiao = added.iter().find(|s| s["name"] == "八角街道").unwrap();
    assert_eq!(bajiao["code"], "110107003");
    // The district's own file adds nothing the second time round.
    let shijingshan = names.join("shijingshan_subdistricts__modood.csv");
    let again = json(&admin(
        &data,
        &[
            "subdistrict",
            "import",
            shijingshan.to_str().unwrap(),
            "--json",
        ],
    ));
    assert_eq!(again["added"].as_array().unwrap().len(), 0);
    assert_eq!(again["existing"].as_array().unwrap().len(), 9);
    let list = json(&admin(&data, &["subdistrict", "list", "--json"]));
    assert_eq!(list.as_array().unwrap().len(), 9);
    // Imported subdistricts are scopes like added ones.
    let u = json(&admin(
        &data,
        &[
            "user",
            "add",
            "--name",
            "陈主任",
            "--role",
            "supervisor",
            "--scope",
            "subdistrict:八角街道",
            "--json",
        ],
    ));
    assert_eq!(
        u["scope"],
        format!("subdistrict:{}", bajiao["id"].as_str().unwrap())
    );

    // Wrong files and filters fail with a reason and add nothing.
    for (args, needle) in [
        (vec!["--area", "999"], "no row of the CSV is in area 999"),
        (vec!["--area", "石景山"], "not a number"),
    ] {
        let mut full = vec!["subdistrict", "import", beijing];
        full.extend(args);
        let out = admin(&data, &full);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{err}");
    }
    // The city-wide list without --area names 八里庄街道 twice (朝阳 and 海淀).
    let out = admin(&data, &["subdistrict", "import", beijing]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err.contains("八里庄街道 is listed twice")
            && err.contains("--area"),
        "{err}"
    );
    // A bad line is named by its line in the file, blank lines counted.
    let bad = tmp.path().join("bad.csv");
    std::fs::write(&bad, "code,name\n110108001,海淀街道\n\nnot-a-code,某街道\n").unwrap();
    let out = admin(&data, &["subdistrict", "import", bad.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("line 4"), "{err}");
    // 八角街道 in GBK, as a spreadsheet may save it.
    let gbk = tmp.path().join("gbk.csv");
    let mut bytes = b"code,name\n110107003,".to_vec();
    bytes.extend_from_slice(&[0xb0, 0xcb, 0xbd, 0xc7, 0xbd, 0xd6, 0xb5, 0xc0, b'\n']);
    std::fs::write(&gbk, bytes).unwrap();
    let out = admin(&data, &["subdistrict", "import", gbk.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("iconv"), "{err}");
    let list = json(&admin(&data, &["subdistrict", "list", "--json"]));
    assert_eq!(
        list.as_array().unwrap().len(),
        9,
        "a refused file adds nothing"
    );
}

#[test]
fn enrolment_codes_expire_after_the_days_the_admin_gives() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let day_ms = 86_400_000_i64;
    let now = patrol_server::admin::now_ms();
    let days_left =
        |u: &Value| (u["enrol_code_expires_at_ms"].as_i64().unwrap() - now) as f64 / day_ms as f64;
    let u = json(&admin(
        &data,
        &["user", "add", "--name", "王芳", "--role", "chief", "--json"],
    ));
    assert!((13.99..14.01).contains(&days_left(&u)), "{u}");
    let u = json(&admin(
        &data,
        &[
            "user",
            "add",
            "--name",
            "李雷",
            "--role",
            "chief",
            "--code-valid-days",
            "3",
            "--json",
        ],
    ));
    assert!((2.99..3.01).contains(&days_left(&u)), "{u}");
    let text = admin(&data, &["user", "add", "--name", "赵敏", "--role", "chief"]);
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("valid 14 days, once"),
        "{}",
        String::from_utf8_lossy(&text.stdout)
    );
    for days in ["0", "91"] {
        let out = admin(
            &data,
            &[
                "user",
                "code",
                u["user_id"].as_str().unwrap(),
                "--code-valid-days",
                days,
            ],
        );
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("valid for 1 to 90 days"), "{err}");
    }
    let c = json(&admin(
        &data,
        &[
            "user",
            "code",
            u["user_id"].as_str().unwrap(),
            "--code-valid-days",
            "90",
            "--json",
        ],
    ));
    assert_eq!(c["valid_days"], 90);
}

/// A free loopback port (bound and released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET path` with a raw HTTP/1.1 request; the status line and the body.
fn get(port: u16, path: &str) -> Option<(String, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let (head, body) = out.split_once("\r\n\r\n")?;
    Some((head.lines().next()?.to_owned(), body.to_owned()))
}

#[test]
fn serve_puts_metrics_on_the_metrics_address_only() {
    let tmp = tempfile::tempdir().unwrap();
    let (api, metrics) = (free_port(), free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_patrol-server"))
        .arg("--data")
        .arg(tmp.path().join("data"))
        .arg("--listen")
        .arg(format!("127.0.0.1:{api}"))
        .args(["serve", "--metrics-addr", &format!("127.0.0.1:{metrics}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut ready = false;
    for _ in 0..100 {
        if get(api, "/healthz").is_some_and(|(s, _)| s.contains(" 200 ")) {
            ready = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let on_api = get(api, "/metrics");
    let on_metrics = get(metrics, "/metrics");
    let _ = child.kill();
    let _ = child.wait();
    assert!(ready, "the server did not start");
    let (status, body) = on_api.unwrap();
    assert!(status.contains(" 404 "), "{status} {body}");
    let (status, body) = on_metrics.unwrap();
    assert!(status.contains(" 200 "), "{status}");
    assert!(body.contains("patrol_enrolments_total 0"), "{body}");
}

#[test]
fn names_with_escapes_are_refused_and_old_ones_print_neutralised() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    for bad in ["\u{1b}]0;x\u{7}王芳", "王\u{202E}芳"] {
        let out = admin(&data, &["user", "add", "--name", bad, "--role", "chief"]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("a user's name holds a control or text-direction character"),
            "{err}"
        );
    }
    // A name that got into the data anyway, written through storage directly.
    let hostile = "\u{1b}]0;pwned\u{7}=王\u{202E}芳";
    {
        let storage = patrol_server::open_storage(&data).unwrap();
        let mut tx = storage.write().unwrap();
        tx.add_user(
            &patrol_core::sync::wire::UserRecord {
                id: patrol_core::UserId::new(),
                name: hostile.into(),
                role: patrol_core::Role::Chief,
                scope: patrol_core::sync::wire::Scope::Own,
            },
            0,
        )
        .unwrap();
        tx.commit().unwrap();
    }
    let out = admin(&data, &["user", "list"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{202E}'),
        "{text:?}"
    );
    assert!(
        text.contains("\u{FFFD}]0;pwned\u{FFFD}=王\u{FFFD}芳"),
        "{text:?}"
    );
    // JSON keeps the name as stored, escaped.
    let list = json(&admin(&data, &["user", "list", "--json"]));
    assert_eq!(list[0]["name"], hostile);
}

/// A district with one street and a signboard on it, made with the admin commands; returns the
/// signboard's code.
fn district_with_signboard(data: &std::path::Path) -> String {
    assert!(
        admin(data, &["district", "set", "--name", "石景山区"])
            .status
            .success()
    );
    assert!(
        admin(data, &["subdistrict", "add", "--name", "八角街道"])
            .status
            .success()
    );
    let net = data.parent().unwrap().join("net.geojson");
    std::fs::write(
        &net,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"八角西街"},
            "geometry":{"type":"LineString","coordinates":[[116.1935,39.9040],[116.1937,39.9110]]}}]}"#,
    )
    .unwrap();
    let out = admin(
        data,
        &[
            "streets",
            "import",
            net.to_str().unwrap(),
            "--subdistrict",
            "八角街道",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sign = json(&admin(
        data,
        &[
            "streets",
            "signboard",
            "八角西街",
            "--lat",
            "39.9075",
            "--lon",
            "116.1936",
            "--json",
        ],
    ));
    sign["payload"].as_str().unwrap().to_owned()
}

#[test]
fn steward_applications_are_listed_approved_and_declined_from_the_command_line() {
    use patrol_server::public::applications::{NewApplication, apply};
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let code = district_with_signboard(&data);
    {
        // Two residents apply through the signboard's page (its handler calls this).
        let storage = patrol_server::open_storage(&data).unwrap();
        for (name, phone) in [("张阿姨", "13900001111"), ("赵先生", "13700002222")] {
            let new = NewApplication {
                code: code.clone(),
                name: name.into(),
                phone: phone.into(),
                street: String::new(),
                availability: "周末".into(),
            };
            apply(storage.as_ref(), &new, patrol_server::admin::now_ms()).unwrap();
        }
    }
    let list = json(&admin(&data, &["applications", "list", "--json"]));
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["name"], "张阿姨");
    assert_eq!(
        list[0]["phone"], "13900001111",
        "the district reads the phone it calls"
    );
    assert_eq!(list[0]["status"], "pending");
    let (first, second) = (
        list[0]["id"].as_str().unwrap().to_owned(),
        list[1]["id"].as_str().unwrap().to_owned(),
    );

    let done = json(&admin(
        &data,
        &["applications", "approve", &first, "--json"],
    ));
    let enrol = done["enrol_code"].as_str().unwrap();
    assert_eq!(enrol.len(), 14);
    let users = json(&admin(&data, &["user", "list", "--json"]));
    let steward = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "张阿姨")
        .expect("the steward user");
    assert_eq!(steward["role"], "steward");
    assert_eq!(steward["id"], done["user_id"]);
    let again = admin(&data, &["applications", "approve", &first]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("approved already"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    let no_reason = admin(
        &data,
        &["applications", "decline", &second, "--reason", "  "],
    );
    assert!(!no_reason.status.success());
    let out = admin(
        &data,
        &["applications", "decline", &second, "--reason", "名额已满"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        json(&admin(&data, &["applications", "list", "--json"]))
            .as_array()
            .unwrap()
            .is_empty()
    );
    let all = json(&admin(&data, &["applications", "list", "--all", "--json"]));
    let statuses: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["approved", "declined"]);
    assert!(
        !admin(&data, &["applications", "approve", "no-such-id"])
            .status
            .success()
    );
}

#[test]
fn residents_reports_list_with_phones_masked_unless_asked() {
    use patrol_server::public::report::{NewPublicReport, submit};
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let code = district_with_signboard(&data);
    {
        let storage = patrol_server::open_storage(&data).unwrap();
        let new = NewPublicReport {
            code,
            category: "litter".into(),
            description: "垃圾".into(),
            contact_phone: "13812345678".into(),
            ..Default::default()
        };
        submit(
            storage.as_ref(),
            patrol_server::default_policy().as_ref(),
            &data.join("blobs"),
            new,
            patrol_server::admin::now_ms(),
        )
        .unwrap();
    }
    let masked = json(&admin(&data, &["public-reports", "list", "--json"]));
    assert_eq!(masked[0]["contact_phone"], "138****5678");
    let shown = json(&admin(
        &data,
        &["public-reports", "list", "--show-phones", "--json"],
    ));
    assert_eq!(shown[0]["contact_phone"], "13812345678");
    assert!(shown[0]["issue_id"].is_string());
}

/// `admin user password NAME` with the password piped in: stored only as an Argon2id hash,
/// never printed; refused for a chief and for a short password, with a clear message.
#[test]
fn an_office_password_is_set_from_standard_input_and_kept_hashed() {
    use std::io::Write;
    use std::process::Stdio;

    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    assert!(
        admin(&data, &["district", "set", "--name", "石景山区"])
            .status
            .success()
    );
    json(&admin(
        &data,
        &[
            "user",
            "add",
            "--name",
            "赵敏",
            "--role",
            "supervisor",
            "--json",
        ],
    ));
    json(&admin(
        &data,
        &["user", "add", "--name", "王芳", "--role", "chief", "--json"],
    ));
    let password = "a long office password";
    let set = |name: &str, pw: &str, extra: &[&str]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_patrol-server"))
            .arg("--data")
            .arg(&data)
            .args(["admin", "user", "password", name])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{pw}").unwrap();
        child.wait_with_output().unwrap()
    };
    let out = set("赵敏", password, &["--admin"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("office password set for 赵敏"), "{said}");
    assert!(!said.contains(password));

    let out = set("王芳", password, &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("supervisors"));
    let out = set("赵敏", "short", &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 10 characters"));
    let out = set("无此人", password, &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no user is called"));

    let db = rusqlite::Connection::open(data.join("server.db")).unwrap();
    let (hash, is_admin): (String, bool) = db
        .query_row(
            "SELECT password_hash, is_admin FROM office_login",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(password));
    assert!(is_admin);
}
