//! A person's data under PIPL.
//!
//! Minimum necessary: a resident's phone number stays on the server. A resident reports through
//! the signboard's page with a contact phone, and types the number into the description too; the
//! street's chief, the subdistrict's supervisor and the crew the problem is dispatched to sync it.
//! Not one of their stores holds the number, in any table, column or issue document.
//!
//! A person's export: `patrol-server admin person export` gives everything the server holds about
//! a chief who patrolled, reported and commented, as JSON, written to the audit log.

use patrol_core::issues::Assignee;
use patrol_core::{Department, IssueId};
use patrol_tests::net::Device;
use patrol_tests::office::{crew_phone, report_litter, walk_bajiao_west};
use patrol_tests::public::{Browser, Site, server_binary};
use reqwest::blocking::multipart::Form;

/// The number as stored, as typed (full width too), and its first seven digits.
const NEEDLES: [&str; 5] = [
    "13812345678",
    "138 1234 5678",
    "1381234",
    "138-1234",
    "１３８１２３４",
];

/// Every text and blob value of every table in the store, and each issue's document, searched
/// for the number in any of its forms.
fn holds_the_number(device: &Device, issue: IssueId) -> Vec<String> {
    let conn = device.store.connection();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let mut found = Vec::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for c in 0..columns {
                let text = match row.get_ref(c).unwrap() {
                    rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                        String::from_utf8_lossy(t).into_owned()
                    }
                    _ => continue,
                };
                if NEEDLES.iter().any(|n| text.contains(n)) {
                    found.push(format!("{table} column {c}"));
                }
            }
        }
    }
    // Automerge compresses its columns: the document read back as the app shows it.
    let document = format!("{:?}", device.store.issue(issue).unwrap());
    if NEEDLES.iter().any(|n| document.contains(n)) {
        found.push("the issue as read".into());
    }
    found
}

/// A resident's report of litter through the signboard's page, with a contact phone and
/// `description`: the browser that sent it, and the answer (303 to the receipt).
fn resident_reports(site: &Site, description: &str) -> (Browser, patrol_tests::public::Page) {
    let mut b = Browser::new();
    let page = b.get(&site.page());
    let form = Form::new()
        .text("form_token", page.input("form_token").expect("form token"))
        .text("website", "")
        .text("category", "litter")
        .text("description", description.to_owned())
        .text("contact_phone", "138 1234 5678")
        .text("lat", "")
        .text("lon", "");
    let done = b.post_multipart(&format!("{}/report", site.page()), form);
    assert_eq!(done.status, 303, "{}", done.body);
    (b, done)
}

#[test]
fn no_phone_that_receives_a_residents_problem_holds_the_residents_number() {
    let site = Site::new();
    let url = site.server.url();
    resident_reports(
        &site,
        "垃圾堆了三天，有事打我电话 138 1234 5678 或 １３８１２３４５６７８",
    );
    let storage = site.server.storage();
    let report = storage.read().unwrap().public_reports(0, 10).unwrap()[0].clone();
    assert_eq!(
        report.contact_phone.as_deref(),
        Some("13812345678"),
        "the server keeps it for the office"
    );
    let issue: IssueId = report.issue_id.parse().unwrap();

    let mut chief = Device::enrol(&url, &site.chief_code);
    chief.sync();
    let mut supervisor = Device::enrol(&url, &site.supervisor_code);
    supervisor.sync();
    supervisor
        .store
        .assign_issue(issue, Assignee::Department(Department::CityProperty), None)
        .expect("dispatch");
    supervisor.sync();
    let mut crew = crew_phone(&site, "刘师傅");
    crew.sync();

    for (who, device) in [
        ("chief", &chief),
        ("supervisor", &supervisor),
        ("crew", &crew),
    ] {
        let seen = device
            .store
            .issue(issue)
            .unwrap_or_else(|e| panic!("the {who}'s phone holds the problem: {e}"));
        assert!(
            seen.description.contains("138****5678"),
            "{who}: the number in the description is masked: {}",
            seen.description
        );
        let found = holds_the_number(device, issue);
        assert!(
            found.is_empty(),
            "the {who}'s store holds the number: {found:?}"
        );
    }
}

#[test]
fn a_persons_export_holds_what_the_server_holds_about_them_and_is_audited() {
    let site = Site::new();
    let url = site.server.url();
    let mut chief = Device::enrol(&url, &site.chief_code);
    let patrol = walk_bajiao_west(&mut chief, 3);
    let issue = report_litter(&mut chief);
    chief
        .store
        .comment_issue(issue, "已通知物业")
        .expect("comment");
    chief.sync();
    let fixes = chief.store.fixes(patrol).unwrap().len();
    let token = chief.store.sync_account().unwrap().unwrap().token;
    let user = chief.store.require_device().unwrap().user_id;

    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("王芳.json");
    let admin = |args: &[&str]| {
        std::process::Command::new(server_binary())
            .arg("--data")
            .arg(&site.server.data)
            .arg("admin")
            .args(args)
            .output()
            .expect("patrol-server admin")
    };
    let done = admin(&[
        "person",
        "export",
        "王芳",
        "--out",
        out.to_str().unwrap(),
        "--asked-by",
        "王芳本人 (申请编号 7)",
    ]);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "readable by its owner only");
    }
    let text = std::fs::read_to_string(&out).unwrap();
    let export: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(export["format"], "streetpatrol.person-export/1");
    assert_eq!(export["user"]["id"], user.to_string());
    assert_eq!(export["user"]["name"], "王芳");
    assert_eq!(export["devices"].as_array().unwrap().len(), 1);
    assert_eq!(export["streets"].as_array().unwrap().len(), 1, "八角西街");
    let patrols = export["patrols"].as_array().unwrap();
    assert_eq!(patrols.len(), 1);
    assert_eq!(patrols[0]["header"]["id"], patrol.to_string());
    assert_eq!(
        patrols[0]["fixes"].as_array().unwrap().len(),
        fixes,
        "every fix"
    );
    let issues = export["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0]["issue_id"], issue.to_string());
    assert_eq!(issues[0]["reporter"]["name"], "王芳");
    assert_eq!(issues[0]["comments"][0]["text"], "已通知物业");
    assert!(export["office"].is_null(), "a chief has no office account");
    // Credentials are never part of it.
    assert!(!text.contains(&token) && !text.contains("token_hash") && !text.contains("spt_"));

    // The export is on the record, with who asked.
    let storage = site.server.storage();
    let audit = storage.read().unwrap().audit(None, 100).unwrap();
    let entry = audit
        .iter()
        .find(|r| r.action == "person.export")
        .expect("audited");
    assert_eq!(entry.target.as_deref(), Some(user.to_string().as_str()));
    assert!(entry.detail.contains("王芳本人"), "{entry:?}");

    // An existing file is not overwritten; an unknown person is a clear error.
    let again = admin(&["person", "export", "王芳", "--out", out.to_str().unwrap()]);
    assert!(!again.status.success());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), text);
    let exports = storage
        .read()
        .unwrap()
        .audit(None, 100)
        .unwrap()
        .iter()
        .filter(|r| r.action == "person.export")
        .count();
    assert_eq!(exports, 1, "an export not delivered is not recorded as one");
    let nobody = admin(&["person", "export", "无此人"]);
    assert!(!nobody.status.success());
    assert!(
        String::from_utf8_lossy(&nobody.stderr).contains("无此人"),
        "{}",
        String::from_utf8_lossy(&nobody.stderr)
    );
}

#[test]
fn a_resident_downloads_their_record_and_erases_their_phone_from_the_receipt() {
    let site = Site::new();
    let url = site.server.url();
    let (mut b, done) = resident_reports(&site, "路口垃圾");
    let receipt_path = done.location.expect("receipt");
    let receipt_url = format!("{url}{receipt_path}");
    let receipt = b.get(&receipt_url);
    assert!(
        receipt.body.contains("id=\"erase-contact\""),
        "{}",
        receipt.body
    );

    // The record the district keeps, as a file.
    let (status, bytes) = b.get_bytes(&format!("{receipt_url}/data.json"));
    assert_eq!(status, 200);
    let data: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
    assert_eq!(data["format"], "streetpatrol.resident-report/1");
    assert_eq!(data["description"], "路口垃圾");
    assert_eq!(data["status"], "reported");
    assert_eq!(
        data["contact_phone"], "138****5678",
        "masked, as on the receipt"
    );
    assert!(data["location"]["lat"].is_f64());

    // Without the page's form token (another site's form), nothing is erased.
    let forged = b.post_form(
        &format!("{receipt_url}/erase-contact"),
        &[("form_token", "x")],
    );
    assert_eq!(forged.status, 403);
    let storage = site.server.storage();
    let phone = || {
        storage.read().unwrap().public_reports(0, 10).unwrap()[0]
            .contact_phone
            .clone()
    };
    assert_eq!(phone().as_deref(), Some("13812345678"));

    let token = receipt.input("form_token").expect("the erase form's token");
    let erased = b.post_form(
        &format!("{receipt_url}/erase-contact"),
        &[("form_token", &token)],
    );
    assert_eq!(erased.status, 303, "{}", erased.body);
    assert_eq!(phone(), None, "erased");
    let after = b.get(&receipt_url);
    assert!(!after.body.contains("138****5678") && !after.body.contains("id=\"erase-contact\""));
    let audit = storage.read().unwrap().audit(None, 50).unwrap();
    assert!(audit.iter().any(|r| r.action == "public.erase_contact"));
    // Another report's token erases nothing and shows nothing.
    let (status, _) = b.get_bytes(&format!("{url}/r/{}/data.json", "A".repeat(25)));
    assert_eq!(status, 404);
}

#[test]
fn a_cancelled_problems_phone_goes_too_and_a_restart_erases_those_left_behind() {
    let mut site = Site::new();
    let url = site.server.url();
    resident_reports(&site, "");
    let storage = site.server.storage();
    let report = || storage.read().unwrap().public_reports(0, 10).unwrap()[0].clone();
    let issue: IssueId = report().issue_id.parse().unwrap();

    let mut supervisor = Device::enrol(&url, &site.supervisor_code);
    supervisor.sync();
    supervisor
        .store
        .cancel_issue(issue, "不是问题：已有人清理")
        .expect("cancel");
    supervisor.sync();
    assert_eq!(report().contact_phone, None, "the loop ended: erased");

    // A phone held for an issue that ended before the server erased phones as they close.
    site.server.stop();
    rusqlite::Connection::open(site.server.data.join("server.db"))
        .unwrap()
        .execute("UPDATE public_report SET contact_phone = '13812345678'", [])
        .unwrap();
    site.server.restart();
    let storage = site.server.storage();
    let held = storage.read().unwrap().public_reports(0, 10).unwrap()[0]
        .contact_phone
        .clone();
    assert_eq!(held, None, "erased when the server started");
}
