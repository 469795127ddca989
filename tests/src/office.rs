//! The office platform in tests: a supervisor's password and a browser signed in with it, the
//! chief's walk along 八角西街, and a crew member's phone resolving a problem with an after-photo,
//! shared by the HTTP, map and Chromium tests of `/office`.

use patrol_core::issues::{Assignee, NewIssue};
use patrol_core::{Clock, Department, IssueId, IssueStatus, PatrolId, Role, SystemClock};
use patrol_model::sim::{ReceiverModel, SimRng, simulate_walk};
use patrol_server::admin;
use patrol_server::office::accounts;

use crate::net::Device;
use crate::public::{Browser, Page, SIGNBOARD_AT, Site, jpeg_with_gps};

/// The office password the tests give supervisors.
pub const PASSWORD: &str = "办公室密码-2026-12";

/// The camera the crew's after-photos say they come from.
pub const CREW_CAMERA: &str = "CrewCam";

pub fn now_ms() -> i64 {
    SystemClock.now_ms()
}

/// Gives the user called `name` the office password [`PASSWORD`] (`admin`: may read the audit
/// log).
pub fn set_password(site: &Site, name: &str, admin_flag: bool) {
    let storage = site.server.storage();
    let user = admin::resolve_user(storage.as_ref(), name).expect("user");
    accounts::set_password(storage.as_ref(), &user, PASSWORD, admin_flag, now_ms())
        .expect("password");
}

/// A browser signed in as `name` through `POST /office/login`.
pub fn signed_in(site: &Site, name: &str) -> Browser {
    let mut b = Browser::new();
    let p = b.post_form(
        &format!("{}/office/login", site.server.url()),
        &[("name", name), ("password", PASSWORD)],
    );
    assert_eq!(p.status, 303, "sign-in redirects: {}", p.body);
    assert_eq!(p.location.as_deref(), Some("/office"));
    let cookie = b.cookie.clone().expect("session cookie");
    assert!(cookie.starts_with("patrol_office="), "{cookie}");
    b
}

/// `GET` a path of the site's server.
pub fn get(b: &mut Browser, site: &Site, path: &str) -> Page {
    b.get(&format!("{}{path}", site.server.url()))
}

/// The text of the element with `id` (its first text, up to the next tag).
pub fn text_of(page: &Page, id: &str) -> String {
    let at = page
        .body
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} on the page"));
    let rest = &page.body[at..];
    let start = rest.find('>').expect("tag end") + 1;
    let end = rest[start..].find('<').expect("next tag");
    rest[start..start + end].trim().to_owned()
}

/// A patrol along 八角西街, end to end at a walking pace from now, with simulated receiver error
/// (`seed`), recorded fix by fix and stopped (not synced).
pub fn walk_bajiao_west(phone: &mut Device, seed: u64) -> PatrolId {
    let id = phone.store.start_patrol(&[]).expect("start");
    let walk = simulate_walk(
        &[(39.9040, 116.1935), (39.9110, 116.1937)],
        1.4,
        now_ms(),
        &ReceiverModel::default(),
        None,
        &mut SimRng::new(seed),
    );
    for (f, _) in &walk {
        phone.store.add_fix(id, f.clone()).expect("fix");
    }
    phone.store.stop_patrol(id).expect("stop");
    id
}

/// A city-property crew member of 八角街道, enrolled and synced.
pub fn crew_phone(site: &Site, name: &str) -> Device {
    let storage = site.server.storage();
    let scope = admin::parse_scope(storage.as_ref(), "subdistrict:八角街道").expect("scope");
    let (_, code) = site.server.add_user(name, Role::Crew, scope);
    let mut crew = Device::enrol(&site.server.url(), &code);
    crew.sync();
    crew
}

/// The crew's phone holds `issue` dispatched to city property; it accepts it and resolves it
/// with an after-photo taken 10 m east of `at`, then syncs. Returns the photo's SHA-256.
pub fn crew_resolves(crew: &mut Device, issue: IssueId, at: (f64, f64)) -> String {
    let held = crew
        .store
        .issue(issue)
        .expect("the crew's phone holds the problem");
    assert_eq!(held.status, IssueStatus::Assigned);
    assert_eq!(
        held.assignees,
        vec![Assignee::Department(Department::CityProperty)]
    );
    crew.store.accept_issue(issue).expect("accept");
    let path = crew.dir.path().join(format!("after-{issue}.jpg"));
    std::fs::write(
        &path,
        jpeg_with_gps(320, 240, at.0, at.1 + 0.0001, CREW_CAMERA),
    )
    .expect("after-photo");
    let photo = crew.store.attach_photo(&path).expect("attach").sha256;
    crew.store
        .resolve_issue(issue, &photo, None, Some("已清理".into()))
        .expect("resolve");
    crew.sync();
    photo
}

/// `phone` reports litter by the signboard of 八角西街 (not synced); returns the issue.
pub fn report_litter(phone: &mut Device) -> IssueId {
    phone
        .store
        .report_issue(NewIssue::at("litter", SIGNBOARD_AT.0, SIGNBOARD_AT.1))
        .expect("report")
        .issue
        .id
}
