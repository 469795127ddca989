//! The office platform over real HTTP on loopback: a supervisor signs in with a password, sees
//! the district's problems, dispatches one from the web, a crew's phone receives the assignment
//! on its next sync and resolves it, and the supervisor verifies it from the web; and the
//! platform's doors: no page or data without a session, no post without the session's form
//! token, expired sessions, wrong passwords, locked accounts, and a subdistrict supervisor
//! confined to their subdistrict whatever the URL or the form says.

use patrol_core::{IssueStatus, Role};
use patrol_server::admin;
use patrol_server::office::accounts;
use patrol_server::storage::OfficeSessionRow;
use patrol_tests::net::Device;
use patrol_tests::office::{
    PASSWORD, crew_phone, crew_resolves, get, now_ms, report_litter, set_password, signed_in,
    text_of, walk_bajiao_west,
};
use patrol_tests::public::{Browser, SIGNBOARD_AT, Site};

#[test]
fn a_supervisor_dispatches_from_the_web_and_verifies_after_the_crew_resolved() {
    let site = Site::new();
    let url = site.server.url();
    set_password(&site, "李强", false);

    // 李强's own phone reports a problem on 八角西街 (one person, one user: the web acts as him).
    let mut phone = Device::enrol(&url, &site.supervisor_code);
    phone.sync();
    let issue = report_litter(&mut phone);
    phone.sync();

    let mut web = signed_in(&site, "李强");
    let overview = get(&mut web, &site, "/office");
    assert_eq!(overview.status, 200, "{}", overview.body);
    assert_eq!(text_of(&overview, "total-open"), "1");
    assert_eq!(text_of(&overview, "total-overdue"), "0");
    assert_eq!(text_of(&overview, "total-reported"), "1");
    assert!(overview.body.contains("八角街道"), "the subdistrict's row");

    let queue = get(&mut web, &site, "/office/issues?status=open&sort=due");
    assert_eq!(queue.status, 200);
    assert!(
        queue.body.contains(&issue.to_string()),
        "the queue lists it"
    );
    assert_eq!(text_of(&queue, "queue-total"), "共 1 件");
    let none_overdue = get(&mut web, &site, "/office/issues?overdue=1");
    assert_eq!(text_of(&none_overdue, "queue-total"), "共 0 件");

    let page = get(&mut web, &site, &format!("/office/issues/{issue}"));
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("id=\"assign-form\""),
        "a supervisor may dispatch"
    );
    assert!(
        !page.body.contains("id=\"verify-form\""),
        "nothing to verify yet"
    );
    let csrf = page.input("csrf").expect("form token");
    let done = web.post_form(
        &format!("{url}/office/issues/{issue}/act"),
        &[
            ("csrf", &csrf),
            ("action", "assign"),
            ("to", "city_property"),
        ],
    );
    assert_eq!(done.status, 303, "{}", done.body);
    let page = get(
        &mut web,
        &site,
        &format!("/office/issues/{issue}?done=assign"),
    );
    assert!(
        page.body.contains("data-status=\"assigned\""),
        "{}",
        page.body
    );

    // The crew's phone receives the assignment on its next sync, and resolves it.
    let mut crew = crew_phone(&site, "刘师傅");
    let after_photo = crew_resolves(&mut crew, issue, SIGNBOARD_AT);

    // 李强 reported it, so the role table lets him verify it, from the web.
    let page = get(&mut web, &site, &format!("/office/issues/{issue}"));
    assert!(
        page.body.contains("data-status=\"resolved\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("id=\"verify-form\""));
    assert!(
        page.body
            .contains(&format!("/office/issues/{issue}/photo/{}", after_photo)),
        "the after-photo is shown"
    );
    let (status, thumb) = web.get_bytes(&format!(
        "{url}/office/issues/{issue}/photo/{}",
        after_photo
    ));
    assert_eq!(status, 200);
    assert!(thumb.starts_with(&[0xFF, 0xD8]), "a JPEG thumbnail");
    let csrf = page.input("csrf").expect("form token");
    let done = web.post_form(
        &format!("{url}/office/issues/{issue}/act"),
        &[
            ("csrf", &csrf),
            ("action", "verify"),
            ("text", "现场已核实"),
        ],
    );
    assert_eq!(done.status, 303, "{}", done.body);
    let overview = get(&mut web, &site, "/office");
    assert_eq!(text_of(&overview, "total-open"), "0");
    assert_eq!(text_of(&overview, "total-verified"), "1");

    phone.sync();
    assert_eq!(
        phone.store.issue(issue).expect("issue").status,
        IssueStatus::Verified,
        "the verification reaches the phones"
    );

    // A comment, then the audit log, which only an office administrator reads.
    let page = get(&mut web, &site, &format!("/office/issues/{issue}"));
    let csrf = page.input("csrf").expect("form token");
    let done = web.post_form(
        &format!("{url}/office/issues/{issue}/act"),
        &[
            ("csrf", &csrf),
            ("action", "comment"),
            ("text", "已电话回访"),
        ],
    );
    assert_eq!(done.status, 303);
    assert_eq!(get(&mut web, &site, "/office/audit").status, 403);
    let (_, _) = site.server.add_user(
        "赵敏",
        Role::Supervisor,
        patrol_core::sync::wire::Scope::District,
    );
    set_password(&site, "赵敏", true);
    let mut admin_web = signed_in(&site, "赵敏");
    let log = get(&mut admin_web, &site, "/office/audit");
    assert_eq!(log.status, 200);
    for action in ["sign_in", "issue.assign", "issue.verify", "issue.comment"] {
        assert!(log.body.contains(action), "the log holds {action}");
    }
    assert!(log.body.contains("李强"));
    assert!(!log.body.contains(PASSWORD), "no password in the log");
}

#[test]
fn no_page_or_data_without_a_session_and_no_post_without_its_token() {
    let site = Site::new();
    let url = site.server.url();
    set_password(&site, "李强", false);
    let id = "0190f1a0-0000-7000-8000-000000000001";
    let mut anon = Browser::new();
    for path in [
        "/office".to_owned(),
        "/office/issues".to_owned(),
        format!("/office/issues/{id}"),
        "/office/audit".to_owned(),
    ] {
        let p = get(&mut anon, &site, &path);
        assert_eq!(p.status, 303, "{path} without a session");
        assert_eq!(p.location.as_deref(), Some("/office/login"), "{path}");
    }
    for path in [
        "/office/issues.csv".to_owned(),
        format!("/office/issues/{id}/photo/{}", "ab".repeat(32)),
    ] {
        assert_eq!(get(&mut anon, &site, &path).status, 401, "{path}");
    }
    let p = anon.post_form(
        &format!("{url}/office/issues/{id}/act"),
        &[("action", "comment"), ("text", "x")],
    );
    assert_eq!(p.status, 303, "a post without a session goes to sign-in");

    // A made-up cookie is no session either.
    anon.cookie = Some("patrol_office=spt_made_up".into());
    assert_eq!(get(&mut anon, &site, "/office").status, 303);

    // Signed in, a post without the session's form token is refused, and so is another's.
    let mut web = signed_in(&site, "李强");
    let p = web.post_form(
        &format!("{url}/office/issues/{id}/act"),
        &[("action", "comment"), ("text", "x")],
    );
    assert_eq!(p.status, 403, "{}", p.body);
    assert!(p.body.contains("表单已失效"));
    let p = web.post_form(
        &format!("{url}/office/issues/{id}/act"),
        &[("csrf", "spt_forged"), ("action", "comment"), ("text", "x")],
    );
    assert_eq!(p.status, 403);
    let p = web.post_form(&format!("{url}/office/logout"), &[]);
    assert_eq!(p.status, 403, "sign-out needs the token too");

    // Sign-out ends the session: the old cookie opens nothing.
    let page = get(&mut web, &site, "/office");
    let csrf = page.input("csrf").expect("token");
    let old = web.cookie.clone();
    let p = web.post_form(&format!("{url}/office/logout"), &[("csrf", &csrf)]);
    assert_eq!(p.status, 303);
    web.cookie = old;
    assert_eq!(get(&mut web, &site, "/office").status, 303);

    // A session idle for longer than the limit has expired.
    let storage = site.server.storage();
    let user = admin::resolve_user(storage.as_ref(), "李强").expect("user");
    let token = "spt_an_old_session_token";
    let mut tx = storage.write().expect("tx");
    let long_ago = now_ms() - 3 * 3600 * 1000;
    tx.put_office_session(&OfficeSessionRow {
        token_hash: patrol_server::secrets::hash_secret(token),
        user_id: user.id,
        csrf_token: "spt_csrf".into(),
        created_at_ms: long_ago,
        last_seen_ms: long_ago,
        expires_at_ms: long_ago + 12 * 3600 * 1000,
        address: None,
    })
    .expect("session");
    tx.commit().expect("commit");
    let mut stale = Browser::new();
    stale.cookie = Some(format!("patrol_office={token}"));
    let p = get(&mut stale, &site, "/office");
    assert_eq!(p.status, 303, "an idle session has expired");
    assert_eq!(p.location.as_deref(), Some("/office/login"));
}

#[test]
fn wrong_passwords_are_refused_and_lock_the_account() {
    let site = Site::new();
    let url = site.server.url();
    set_password(&site, "李强", false);
    let mut b = Browser::new();
    let login = format!("{url}/office/login");
    // A sign-in posted from another site's page is refused, whatever the password.
    let cross = b
        .http
        .post(&login)
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[("name", "李强"), ("password", PASSWORD)])
        .send()
        .expect("post");
    assert_eq!(cross.status().as_u16(), 403);
    let p = b.post_form(&login, &[("name", "无此人"), ("password", PASSWORD)]);
    assert_eq!(p.status, 401);
    assert!(p.body.contains("用户名或密码错误"));
    for _ in 0..accounts::MAX_FAILURES - 1 {
        let p = b.post_form(&login, &[("name", "李强"), ("password", "wrong password!")]);
        assert_eq!(p.status, 401, "{}", p.body);
        assert!(p.body.contains("用户名或密码错误"));
        assert!(b.cookie.is_none(), "no session");
    }
    let p = b.post_form(&login, &[("name", "李强"), ("password", "wrong password!")]);
    assert_eq!(p.status, 403, "the fifth wrong password locks it");
    assert!(p.body.contains("已锁定"), "{}", p.body);
    let p = b.post_form(&login, &[("name", "李强"), ("password", PASSWORD)]);
    assert_eq!(p.status, 403, "locked: even the right password waits");
    assert!(b.cookie.is_none());
    // A password typed into the name field is not kept: the audit names the account tried, or
    // only says no account has the name.
    let p = b.post_form(&login, &[("name", PASSWORD), ("password", "x")]);
    assert_eq!(p.status, 401);
    let storage = site.server.storage();
    let failed: Vec<_> = {
        let mut tx = storage.read().unwrap();
        tx.audit(None, 100).unwrap()
    }
    .into_iter()
    .filter(|r| r.action == "sign_in_failed")
    .collect();
    assert_eq!(
        failed.len(),
        1 + accounts::MAX_FAILURES as usize + 2,
        "{failed:?}"
    );
    let li = admin::resolve_user(storage.as_ref(), "李强").expect("user");
    assert!(
        failed
            .iter()
            .filter(
                |r| r.user_id.is_none() && r.target.as_deref() == Some(li.id.to_string().as_str())
            )
            .count()
            >= accounts::MAX_FAILURES as usize,
        "the account tried is the target; who tried is unknown"
    );
    for row in &failed {
        assert!(
            !row.detail.contains(PASSWORD) && !row.detail.contains("无此人"),
            "{row:?}"
        );
    }

    // Chiefs work on their phones: no office password for them.
    let storage = site.server.storage();
    let chief = admin::resolve_user(storage.as_ref(), "王芳").expect("chief");
    let refused = accounts::set_password(storage.as_ref(), &chief, PASSWORD, false, now_ms());
    assert!(refused.is_err(), "a chief gets no office password");
    let short = admin::resolve_user(storage.as_ref(), "李强").expect("user");
    assert!(accounts::set_password(storage.as_ref(), &short, "short", false, now_ms()).is_err());
}

#[test]
fn a_subdistrict_supervisor_sees_and_acts_on_their_subdistrict_only() {
    let site = Site::new();
    let url = site.server.url();
    let storage = site.server.storage();
    // 王芳 reports on 八角西街 (八角街道).
    let mut chief = Device::enrol(&url, &site.chief_code);
    chief.sync();
    let issue = report_litter(&mut chief);
    chief.sync();
    // 陈静 supervises another subdistrict.
    admin::add_subdistrict(storage.as_ref(), "杨庄街道", None).expect("subdistrict");
    let other = admin::parse_scope(storage.as_ref(), "subdistrict:杨庄街道").expect("scope");
    site.server.add_user("陈静", Role::Supervisor, other);
    set_password(&site, "陈静", false);
    let mut web = signed_in(&site, "陈静");
    let sub_id = {
        let mut tx = storage.read().expect("tx");
        tx.subdistricts()
            .expect("subdistricts")
            .into_iter()
            .find(|(_, n, _)| n == "八角街道")
            .expect("八角街道")
            .0
    };

    let overview = get(&mut web, &site, "/office");
    assert_eq!(text_of(&overview, "total-open"), "0");
    assert!(!overview.body.contains("八角街道"));
    for path in [
        "/office/issues".to_owned(),
        format!("/office/issues?subdistrict={sub_id}"),
        "/office/issues?subdistrict=none".to_owned(),
    ] {
        let q = get(&mut web, &site, &path);
        assert_eq!(q.status, 200, "{path}");
        assert!(
            !q.body.contains(&issue.to_string()),
            "{path} shows another subdistrict's issue"
        );
    }
    let csv = get(
        &mut web,
        &site,
        &format!("/office/issues.csv?subdistrict={sub_id}"),
    );
    assert_eq!(csv.status, 200);
    assert_eq!(csv.body.lines().count(), 1, "only the header: {}", csv.body);

    let page = get(&mut web, &site, &format!("/office/issues/{issue}"));
    assert_eq!(page.status, 404, "out of reach reads as not found");
    let home = get(&mut web, &site, "/office");
    let csrf = home.input("csrf").expect("token");
    let p = web.post_form(
        &format!("{url}/office/issues/{issue}/act"),
        &[("csrf", &csrf), ("action", "assign"), ("to", "enforcement")],
    );
    assert_eq!(p.status, 404, "a crafted form acts on nothing: {}", p.body);
    let p = web.post_form(
        &format!("{url}/office/issues/{issue}/act"),
        &[("csrf", &csrf), ("action", "comment"), ("text", "越权留言")],
    );
    assert_eq!(p.status, 404);
    chief.sync();
    let seen = chief.store.issue(issue).expect("issue");
    assert_eq!(
        seen.status,
        IssueStatus::Reported,
        "nothing reached the phones"
    );

    // 李强, of 八角街道, sees it and may dispatch it.
    set_password(&site, "李强", false);
    let mut own = signed_in(&site, "李强");
    let page = get(&mut own, &site, &format!("/office/issues/{issue}"));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"assign-form\""));
    // An action the role table refuses is refused with its reason and writes nothing.
    let csrf = page.input("csrf").expect("token");
    let p = own.post_form(
        &format!("{url}/office/issues/{issue}/act"),
        &[("csrf", &csrf), ("action", "verify")],
    );
    assert_eq!(p.status, 409, "{}", p.body);
    let p = own.post_form(
        &format!("{url}/office/issues/{issue}/act"),
        &[("csrf", &csrf), ("action", "return"), ("text", "")],
    );
    assert_eq!(p.status, 400, "a return needs a reason: {}", p.body);
}

/// The assessment page lists every chief with the scores a synced supervisor's phone computes
/// for the same period and rules; a chief's page explains the score line by line with the
/// streets behind it; the exports download and parse; another subdistrict's supervisor sees no
/// chief of this one.
#[test]
fn the_assessment_page_shows_every_chief_with_the_phones_scores() {
    use patrol_core::report::period::{Period, beijing_date_text};
    use patrol_core::report::rules::ReportRules;
    use patrol_core::sync::{NetworkState, SyncPolicy};

    let site = Site::new();
    let url = site.server.url();
    let storage = site.server.storage();
    let (li_ming, _) =
        site.server
            .add_user("李明", Role::Chief, patrol_core::sync::wire::Scope::Own);
    admin::assign(storage.as_ref(), "古城小巷", &li_ming, Role::Chief, true).expect("assign");

    // 王芳 walks 八角西街 and reports litter on it; 李明 does nothing.
    let mut chief = Device::enrol(&url, &site.chief_code);
    chief.sync();
    walk_bajiao_west(&mut chief, 7);
    report_litter(&mut chief);
    chief.sync();

    let mut phone = Device::enrol(&url, &site.supervisor_code);
    phone
        .sync_with(SyncPolicy::on(NetworkState::Wifi))
        .expect("sync");
    let month = beijing_date_text(now_ms())[..7].to_owned();
    let period = Period::parse(&month).expect("period");
    let on_phone = phone
        .store
        .assessment_report(&period, &ReportRules::default())
        .expect("the phone's assessment");
    assert_eq!(on_phone.chiefs.len(), 2, "{on_phone:#?}");

    set_password(&site, "李强", false);
    let mut web = signed_in(&site, "李强");
    let overview = get(&mut web, &site, "/office");
    assert_eq!(text_of(&overview, "patrols"), "1", "王芳's patrol");
    let page = get(
        &mut web,
        &site,
        &format!("/office/assessment?period={month}"),
    );
    assert_eq!(page.status, 200, "{}", page.body);
    for c in &on_phone.chiefs {
        let at = page
            .body
            .find(&format!("data-user=\"{}\"", c.person.user_id))
            .unwrap_or_else(|| panic!("{:?} is listed", c.person.name));
        let row = &page.body[at..at + page.body[at..].find("</tr>").expect("row end")];
        assert!(
            row.contains(&format!("{:.1} / {:.1}", c.score, c.max_score)),
            "{:?}: the phone says {:.1}; the page's row: {row}",
            c.person.name,
            c.score
        );
    }
    let top = &on_phone.chiefs[0];
    assert!(top.score > on_phone.chiefs[1].score, "a real difference");
    let detail = get(
        &mut web,
        &site,
        &format!("/office/assessment/{}?period={month}", top.person.user_id),
    );
    assert_eq!(detail.status, 200);
    assert_eq!(text_of(&detail, "chief-score"), format!("{:.1}", top.score));
    for line in &top.explanation {
        assert!(
            detail.body.contains(&line.label),
            "line {:?} is explained",
            line.label
        );
    }
    assert!(
        detail.body.contains("八角西街"),
        "the street behind the score"
    );

    let csv = get(
        &mut web,
        &site,
        &format!("/office/assessment.csv?period={month}"),
    );
    assert_eq!(csv.status, 200);
    let mut reader = csv::Reader::from_reader(csv.body.trim_start_matches('\u{feff}').as_bytes());
    let names: Vec<String> = reader
        .records()
        .map(|r| r.expect("a CSV row")[2].to_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"王芳".to_owned()) && names.contains(&"李明".to_owned()));
    let (status, xlsx) = web.get_bytes(&format!("{url}/office/assessment.xlsx?period={month}"));
    assert_eq!(status, 200);
    assert!(xlsx.starts_with(b"PK"), "an XLSX workbook is a zip");

    admin::add_subdistrict(storage.as_ref(), "杨庄街道", None).expect("subdistrict");
    let other = admin::parse_scope(storage.as_ref(), "subdistrict:杨庄街道").expect("scope");
    site.server.add_user("陈静", Role::Supervisor, other);
    set_password(&site, "陈静", false);
    let mut outsider = signed_in(&site, "陈静");
    let page = get(
        &mut outsider,
        &site,
        &format!("/office/assessment?period={month}"),
    );
    assert!(
        !page.body.contains("data-user="),
        "no chief of another subdistrict"
    );
    let detail = get(
        &mut outsider,
        &site,
        &format!("/office/assessment/{}?period={month}", top.person.user_id),
    );
    assert_eq!(detail.status, 404);
}

/// The steward and merchant pages show the reports a synced supervisor's phone computes: a
/// steward's pickups and points, a chief's merchant with its inspection and the problem linked
/// to it; the exports download and parse.
#[test]
fn the_steward_and_merchant_pages_show_the_phones_reports() {
    use patrol_core::Datum;
    use patrol_core::merchants::{NewInspection, NewMerchant};
    use patrol_core::points::NewPickup;
    use patrol_core::report::period::{Period, beijing_date_text};
    use patrol_core::report::rules::ReportRules;
    use patrol_core::sync::{NetworkState, SyncPolicy};
    use patrol_model::domain::DutyGrade;

    let site = Site::new();
    let url = site.server.url();
    let storage = site.server.storage();
    let (steward_id, steward_code) =
        site.server
            .add_user("周丽", Role::Steward, patrol_core::sync::wire::Scope::Own);
    admin::assign(
        storage.as_ref(),
        "八角西街",
        &steward_id,
        Role::Steward,
        true,
    )
    .expect("assign");
    let street = admin::resolve_street(storage.as_ref(), "八角西街").expect("street");

    let mut steward = Device::enrol(&url, &steward_code);
    steward.sync();
    for bags in [1, 2] {
        steward
            .store
            .log_pickup(NewPickup {
                lat: SIGNBOARD_AT.0,
                lon: SIGNBOARD_AT.1,
                datum: Datum::Wgs84,
                bags,
                items: 0,
                street_id: Some(street.clone()),
                photo_sha256: None,
                note: None,
            })
            .expect("pickup");
    }
    steward.sync();

    let mut chief = Device::enrol(&url, &site.chief_code);
    chief.sync();
    let shop = chief
        .store
        .add_merchant(NewMerchant {
            name: "老北京面馆".into(),
            kind: Some("restaurant".into()),
            address: Some("八角西街12号".into()),
            contact: None,
            lat: SIGNBOARD_AT.0,
            lon: SIGNBOARD_AT.1 + 0.00002,
            datum: Datum::Wgs84,
            street: Some("八角西街".into()),
        })
        .expect("merchant");
    chief
        .store
        .inspect_merchant(
            shop.id,
            NewInspection {
                sanitation: DutyGrade::Poor,
                greening: DutyGrade::Good,
                order: DutyGrade::Fair,
                note: Some("门前堆物".into()),
                photos: vec![],
            },
        )
        .expect("inspection");
    report_litter(&mut chief);
    chief.sync();

    // The district's supervisor: her phone syncs everything the district holds.
    let (_, district_code) = site.server.add_user(
        "赵敏",
        Role::Supervisor,
        patrol_core::sync::wire::Scope::District,
    );
    let mut phone = Device::enrol(&url, &district_code);
    phone
        .sync_with(SyncPolicy::on(NetworkState::Wifi))
        .expect("sync");
    let month = beijing_date_text(now_ms())[..7].to_owned();
    let period = Period::parse(&month).expect("period");
    let rules = ReportRules::default();
    let stewards_on_phone = phone
        .store
        .steward_report(&period, &rules)
        .expect("stewards");
    let merchants_on_phone = phone
        .store
        .merchant_report(&period, &rules)
        .expect("merchants");
    let stewards_on_server =
        patrol_server::reports::steward_report(storage.as_ref(), &period, None).expect("server");
    let merchants_on_server =
        patrol_server::reports::merchant_report(storage.as_ref(), &period, None).expect("server");

    // Real reports, the same on both sides (a phone knows people's subdistricts only as far as
    // what was published names them; the server from their scope and streets).
    let row = stewards_on_phone
        .stewards
        .iter()
        .find(|s| s.person.user_id == steward_id.to_string())
        .expect("the steward's row");
    assert_eq!((row.pickups, row.bags), (2, 3), "{row:#?}");
    assert!(row.points_balance > 0, "pickups earn points: {row:#?}");
    let strip = |v: serde_json::Value| {
        let mut v = v;
        for s in v["stewards"].as_array_mut().into_iter().flatten() {
            s.as_object_mut().expect("row").remove("subdistrict");
            s.as_object_mut()
                .expect("row")
                .remove("leaderboard_subdistrict");
        }
        v.as_object_mut().expect("report").remove("leaderboards");
        for s in v["streets"].as_array_mut().into_iter().flatten() {
            s.as_object_mut().expect("street").remove("subdistrict");
        }
        v
    };
    assert_eq!(
        strip(serde_json::to_value(&stewards_on_server).expect("json")),
        strip(serde_json::to_value(&stewards_on_phone).expect("json")),
    );
    assert_eq!(merchants_on_phone.merchants.len(), 1);
    assert_eq!(merchants_on_phone.merchants[0].inspections_in_period, 1);
    assert_eq!(
        merchants_on_phone.merchants[0].issues_linked_total, 1,
        "{merchants_on_phone:#?}"
    );
    assert_eq!(
        serde_json::to_value(&merchants_on_server).expect("json"),
        serde_json::to_value(&merchants_on_phone).expect("json"),
    );

    set_password(&site, "李强", false);
    let mut web = signed_in(&site, "李强");
    let overview = get(&mut web, &site, "/office");
    assert_eq!(text_of(&overview, "pickups"), "2", "周丽's two pickups");
    assert!(overview.body.contains("3 袋"), "1 + 2 bags");
    let page = get(&mut web, &site, &format!("/office/stewards?period={month}"));
    assert_eq!(page.status, 200, "{}", page.body);
    let at = page
        .body
        .find(&format!("data-user=\"{steward_id}\""))
        .expect("the steward's row");
    let tr = &page.body[at..at + page.body[at..].find("</tr>").expect("row end")];
    assert!(
        tr.contains(&format!("class=\"balance\">{}<", row.points_balance)),
        "{tr}"
    );
    let page = get(
        &mut web,
        &site,
        &format!("/office/merchants?period={month}"),
    );
    assert_eq!(page.status, 200);
    let m = &merchants_on_phone.merchants[0];
    assert!(page.body.contains("老北京面馆"));
    assert!(
        page.body
            .contains(&format!("class=\"credit\">{:.1}<", m.credit_score))
    );

    for (path, rows) in [("stewards", 1usize), ("merchants", 1usize)] {
        let csv = get(
            &mut web,
            &site,
            &format!("/office/{path}.csv?period={month}"),
        );
        assert_eq!(csv.status, 200, "{path}");
        let mut reader =
            csv::Reader::from_reader(csv.body.trim_start_matches('\u{feff}').as_bytes());
        assert_eq!(reader.records().count(), rows, "{path}: {}", csv.body);
        let (status, xlsx) = web.get_bytes(&format!("{url}/office/{path}.xlsx?period={month}"));
        assert_eq!(status, 200);
        assert!(xlsx.starts_with(b"PK"), "{path}.xlsx is a workbook");
    }
}

/// A problem a resident reported through a signboard page shows the resident's contact phone to
/// the supervisors who may see it, and each showing is on the audit record; the overview's
/// "reported" figure links to the queue of that period.
#[test]
fn a_residents_phone_is_shown_to_supervisors_and_its_reading_audited() {
    use patrol_server::storage::PublicReportRow;

    let site = Site::new();
    let url = site.server.url();
    let storage = site.server.storage();
    let mut chief = Device::enrol(&url, &site.chief_code);
    chief.sync();
    let issue = report_litter(&mut chief);
    chief.sync();
    let street = admin::resolve_street(storage.as_ref(), "八角西街").expect("street");
    let mut tx = storage.write().expect("tx");
    tx.put_public_report(&PublicReportRow {
        token_hash: patrol_server::secrets::hash_secret("spt_receipt"),
        issue_id: issue.to_string(),
        signboard_id: site.signboard.id.to_string(),
        street_id: street,
        contact_phone: Some("13800138000".into()),
        created_at_ms: now_ms(),
    })
    .expect("public report");
    tx.commit().expect("commit");

    set_password(&site, "李强", true);
    let mut web = signed_in(&site, "李强");
    let overview = get(&mut web, &site, "/office");
    let month = &patrol_core::report::period::beijing_date_text(now_ms())[..7];
    assert!(
        overview
            .body
            .contains(&format!("href=\"/office/issues?period={month}\"")),
        "the reported figure links to its list"
    );
    let listed = get(&mut web, &site, &format!("/office/issues?period={month}"));
    assert_eq!(text_of(&listed, "queue-total"), "共 1 件");
    let last_year = get(&mut web, &site, "/office/issues?period=2020-01");
    assert_eq!(text_of(&last_year, "queue-total"), "共 0 件");
    // A page covers at most a year: a longer period is refused, not read whole.
    let centuries = get(
        &mut web,
        &site,
        "/office/assessment?period=1900-01..2999-01",
    );
    assert_eq!(centuries.status, 400, "{}", centuries.body);

    let page = get(&mut web, &site, &format!("/office/issues/{issue}"));
    assert!(text_of(&page, "contact-phone").starts_with("13800138000"));
    let log = get(&mut web, &site, "/office/audit");
    assert!(log.body.contains("view.contact_phone"));
    assert!(log.body.contains(&issue.to_string()));
}
