//! The server's logs never hold a secret or a person's details, even at the most verbose level:
//! the real `patrol-server` binary runs with `RUST_LOG=trace` while a chief's phone enrols and
//! syncs a patrol, a resident reports a problem with a contact phone, reads the receipt (by its
//! link and by typing the token) and downloads their record, another applies to be a steward, and a supervisor
//! signs in to the office and opens the problem with the resident's phone on it. Every device
//! token, receipt and application token, enrolment code, password, session cookie, phone number
//! and the patrol's positions are then looked for in what the server wrote: none may be there,
//! while the requests themselves are (by their route).

use std::io::Read;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use patrol_tests::office::{PASSWORD, set_password, walk_bajiao_west};
use patrol_tests::public::{Browser, Site, server_binary};
use reqwest::blocking::multipart::Form;

const RESIDENT_PHONE: &str = "13812345678";
const APPLICANT_PHONE: &str = "13900001111";

struct Running {
    child: Child,
    log: std::path::PathBuf,
}

impl Running {
    /// Stops the server and returns everything it wrote.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut text = String::new();
        std::fs::File::open(&self.log)
            .and_then(|mut f| f.read_to_string(&mut text))
            .expect("the server's log");
        text
    }
}

fn serve(data: &std::path::Path, addr: SocketAddr, log: std::path::PathBuf) -> Running {
    let out = std::fs::File::create(&log).expect("log file");
    let err = out.try_clone().expect("log file");
    let mut child = Command::new(server_binary())
        .arg("--data")
        .arg(data)
        .arg("--listen")
        .arg(addr.to_string())
        .arg("serve")
        .env("RUST_LOG", "trace")
        .env_remove("NO_COLOR")
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .expect("start patrol-server");
    for _ in 0..200 {
        if std::net::TcpStream::connect(addr).is_ok() {
            return Running { child, log };
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("patrol-server did not answer on {addr}");
}

#[test]
fn the_servers_logs_hold_no_token_phone_password_or_position() {
    let mut site = Site::new();
    set_password(&site, "李强", false);
    let addr = site.server.server.as_ref().expect("running").addr;
    let url = site.server.url();
    let page_url = site.page();
    // The same data and address, served by the binary the district runs.
    site.server.stop();
    let tmp = tempfile::tempdir().expect("tempdir");
    let server = serve(&site.server.data, addr, tmp.path().join("server.log"));

    // A chief's phone enrols, records a patrol along 八角西街 and syncs it.
    let mut chief = patrol_tests::net::Device::enrol(&url, &site.chief_code);
    let patrol = walk_bajiao_west(&mut chief, 7);
    let report = chief.sync();
    assert!(report.fixes_up > 0, "{report:?}");
    let device_token = chief.store.sync_account().unwrap().unwrap().token;
    assert!(device_token.starts_with("spt_"));
    let positions: Vec<String> = chief
        .store
        .fixes(patrol)
        .unwrap()
        .iter()
        .take(20)
        .flat_map(|f| [format!("{:.6}", f.lat), format!("{:.6}", f.lon)])
        .collect();

    // A resident reports litter with a contact phone, then reads the receipt both ways.
    let mut resident = Browser::new();
    let page = resident.get(&page_url);
    let form = Form::new()
        .text("form_token", page.input("form_token").expect("form token"))
        .text("website", "")
        .text("category", "litter")
        .text("description", "路口垃圾桶旁堆了很多装修垃圾")
        .text("contact_phone", "138 1234 5678")
        .text("lat", "")
        .text("lon", "");
    let done = resident.post_multipart(&format!("{page_url}/report"), form);
    assert_eq!(done.status, 303, "{}", done.body);
    let receipt_path = done.location.expect("redirect to the receipt");
    let receipt_token = receipt_path.trim_start_matches("/r/").to_owned();
    assert_eq!(resident.get(&format!("{url}{receipt_path}")).status, 200);
    let (status, _) = resident.get_bytes(&format!("{url}{receipt_path}/data.json"));
    assert_eq!(status, 200, "the resident's record");
    let typed = resident.get(&format!("{url}/r?token={receipt_token}"));
    assert!(
        typed.status == 200 || typed.status == 303,
        "{}",
        typed.status
    );

    // Another resident applies to be a steward.
    let mut applicant = Browser::new();
    let page = applicant.get(&page_url);
    let applied = applicant.post_form(
        &format!("{page_url}/steward"),
        &[
            ("form_token", &page.input("form_token").expect("form token")),
            ("name", "张阿姨"),
            ("phone", "139 0000 1111"),
            ("street", ""),
            ("availability", "周末上午"),
        ],
    );
    assert_eq!(applied.status, 303, "{}", applied.body);
    let application_path = applied.location.expect("redirect to the application");
    let application_token = application_path.trim_start_matches("/a/").to_owned();
    assert_eq!(
        applicant.get(&format!("{url}{application_path}")).status,
        200
    );

    // The subdistrict's supervisor signs in and opens the resident's problem, phone shown.
    let mut office = Browser::new();
    let signed = office.post_form(
        &format!("{url}/office/login"),
        &[("name", "李强"), ("password", PASSWORD)],
    );
    assert_eq!(signed.status, 303, "{}", signed.body);
    let cookie = office.cookie.clone().expect("session cookie");
    let session = cookie
        .trim_start_matches("patrol_office=")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let storage = patrol_server::open_storage(&site.server.data).expect("storage");
    let issue = {
        let mut tx = storage.read().unwrap();
        let rows = tx.public_reports(0, 10).unwrap();
        rows[0].issue_id.clone()
    };
    let shown = office.get(&format!("{url}/office/issues/{issue}"));
    assert_eq!(shown.status, 200);
    assert!(
        shown.body.contains(RESIDENT_PHONE),
        "the supervisor sees it"
    );

    let log = server.stop();
    // The log is verbose enough to have told: every request is there, by its route.
    for route in [
        "/v1/enrol",
        "/v1/sync",
        "/r/{token}",
        "/r/{token}/data.json",
        "/a/{token}",
        "/office/issues/{id}",
    ] {
        assert!(log.contains(route), "no {route} in the log:\n{log}");
    }
    let mut secrets: Vec<(&str, String)> = vec![
        ("device token", device_token.clone()),
        ("the token without its prefix", device_token[4..].to_owned()),
        ("enrolment code", site.chief_code.clone()),
        ("receipt token", receipt_token),
        ("application token", application_token),
        ("resident's phone", RESIDENT_PHONE.into()),
        ("resident's phone as typed", "138 1234 5678".into()),
        ("applicant's phone", APPLICANT_PHONE.into()),
        ("office password", PASSWORD.into()),
        ("office session", session),
        ("applicant's name", "张阿姨".into()),
    ];
    secrets.extend(positions.into_iter().map(|p| ("a fix's position", p)));
    let found: Vec<_> = secrets
        .iter()
        .filter(|(_, s)| !s.is_empty() && log.contains(s.as_str()))
        .map(|(what, s)| format!("{what} ({s})"))
        .collect();
    assert!(
        found.is_empty(),
        "the server's log holds {found:?}:\n{}",
        log.lines()
            .filter(|l| secrets.iter().any(|(_, s)| l.contains(s.as_str())))
            .take(10)
            .collect::<Vec<_>>()
            .join("\n")
    );
}
