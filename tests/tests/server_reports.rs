//! The server computes the chief assessment from its own storage through the same model code a
//! phone runs: after a chief's patrol and issue reach the server and a supervisor's phone has
//! synced everything, the two assessments agree figure for figure.

use patrol_core::issues::NewIssue;
use patrol_core::report::period::Period;
use patrol_core::report::rules::ReportRules;
use patrol_core::sync::wire::Scope;
use patrol_core::sync::{NetworkState, SyncPolicy};
use patrol_core::{Clock, Role, SystemClock};
use patrol_server::{admin, network, reports};
use patrol_tests::net::{Device, THREE_STREETS, TestServer};
use patrol_tests::office::walk_bajiao_west;
use serde_json::Value;

/// The report as JSON without the people's subdistricts: the server knows a user's subdistrict
/// from their scope, a phone only what was published about them.
fn comparable(report: &patrol_core::report::assessment::AssessmentReport) -> Value {
    let mut v = serde_json::to_value(report).unwrap();
    if let Some(chiefs) = v["chiefs"].as_array_mut() {
        for c in chiefs {
            c.as_object_mut().unwrap().remove("subdistrict");
        }
    }
    v
}

#[test]
fn the_server_and_a_synced_supervisor_assess_the_chiefs_alike() {
    let server = TestServer::start();
    let storage = server.storage();
    let file = server.network_file(&THREE_STREETS);
    network::import_streets(storage.as_ref(), &file, &Default::default()).unwrap();
    let (wang, wang_code) = server.add_user("王芳", Role::Chief, Scope::Own);
    let (li, li_code) = server.add_user("李强", Role::Chief, Scope::Own);
    let (_, sup_code) = server.add_user("赵敏", Role::Supervisor, Scope::District);
    admin::assign(storage.as_ref(), "八角西街", &wang, Role::Chief, true).unwrap();
    admin::assign(storage.as_ref(), "杨庄东街", &li, Role::Chief, true).unwrap();

    // 王芳 walks her street and reports litter on it; 李强 does nothing this period.
    let mut chief = Device::enrol(&server.url(), &wang_code);
    chief.sync();
    let _idle = Device::enrol(&server.url(), &li_code);
    walk_bajiao_west(&mut chief, 7);
    chief
        .store
        .report_issue(NewIssue::at("litter", 39.9075, 116.1936))
        .unwrap();
    let up = chief.sync();
    assert_eq!((up.patrols_up, up.docs_up), (1, 1), "{up:?}");

    let mut supervisor = Device::enrol(&server.url(), &sup_code);
    supervisor
        .sync_with(SyncPolicy::on(NetworkState::Wifi))
        .unwrap();
    assert_eq!(supervisor.store.list_patrols().unwrap().len(), 1);

    let now = SystemClock.now_ms();
    let period = Period::between(now - 86_400_000, now + 3_600_000).unwrap();
    let rules = ReportRules::default();
    let on_server = reports::assessment_report(storage.as_ref(), &period, Some(&rules)).unwrap();
    let on_phone = supervisor.store.assessment_report(&period, &rules).unwrap();

    // What the server computed is a real assessment, not an empty one that matches by luck.
    assert_eq!(on_server.chiefs.len(), 2, "{on_server:#?}");
    let top = &on_server.chiefs[0];
    assert_eq!(top.person.user_id, wang.to_string());
    assert_eq!(top.patrols, 1);
    assert_eq!(top.issues_found, 1);
    assert_eq!(top.issues_on_streets, 1);
    assert!(top.coverage_share.unwrap() > 0.9, "{top:#?}");
    assert!(top.distance_m > 700.0, "{top:#?}");
    assert!(top.score > on_server.chiefs[1].score);

    assert_eq!(comparable(&on_server), comparable(&on_phone));

    // Without rules given, the server scores by what it published (the shipped ones here).
    let published = reports::assessment_report(storage.as_ref(), &period, None).unwrap();
    assert_eq!(comparable(&published), comparable(&on_server));

    // Kept in memory for the next request, and computed again once anything changed: a new
    // chief assigned to a street is in the next report.
    let again = reports::assessment_report(storage.as_ref(), &period, None).unwrap();
    assert_eq!(again, published);
    let (zhou, _) = server.add_user("周勇", Role::Chief, Scope::Own);
    admin::assign(storage.as_ref(), "杨庄东街", &zhou, Role::Chief, true).unwrap();
    let after = reports::assessment_report(storage.as_ref(), &period, None).unwrap();
    assert_eq!(after.chiefs.len(), published.chiefs.len() + 1);
    assert!(
        after
            .chiefs
            .iter()
            .any(|c| c.person.user_id == zhou.to_string())
    );
}

/// The server keeps what each patrol covered and reads it back for the next report; bytes that
/// do not read, or were measured against another network version or fewer fixes, are measured
/// again, with the same answer.
#[test]
fn the_server_keeps_each_patrols_coverage_and_measures_again_what_is_stale() {
    let server = TestServer::start();
    let storage = server.storage();
    let file = server.network_file(&THREE_STREETS);
    network::import_streets(storage.as_ref(), &file, &Default::default()).unwrap();
    let (wang, wang_code) = server.add_user("王芳", Role::Chief, Scope::Own);
    admin::assign(storage.as_ref(), "八角西街", &wang, Role::Chief, true).unwrap();
    let mut chief = Device::enrol(&server.url(), &wang_code);
    chief.sync();
    let id = walk_bajiao_west(&mut chief, 11);
    chief.sync();

    let now = SystemClock.now_ms();
    let period = Period::between(now - 86_400_000, now + 3_600_000).unwrap();
    let rules = ReportRules::default();
    let first = reports::assessment_report(storage.as_ref(), &period, Some(&rules)).unwrap();
    assert!(first.chiefs[0].coverage_share.unwrap() > 0.9, "{first:#?}");
    let pid = id.to_string();
    let kept = || storage.read().unwrap().patrol_coverage(&pid).unwrap();
    let (mark, version, bytes) = kept().expect("the patrol's coverage is kept");
    assert_eq!(mark, storage.read().unwrap().fix_mark(&pid).unwrap());
    assert!(bytes.len() > 20);

    // Damaged bytes, an older network version and fewer fixes are all measured again.
    for (m, v, b) in [
        (mark, version, vec![9u8; 7]),
        (mark, version - 1, bytes.clone()),
        (mark - 1, version, bytes.clone()),
    ] {
        let mut tx = storage.write().unwrap();
        tx.put_patrol_coverage(&pid, m, v, &b).unwrap();
        tx.commit().unwrap();
        let again = reports::assessment_report(storage.as_ref(), &period, Some(&rules)).unwrap();
        assert_eq!(again, first);
        assert_eq!(
            kept(),
            Some((mark, version, bytes.clone())),
            "kept again, whole"
        );
    }
    // A new import of the network moves its version: the next report measures again.
    network::import_streets(storage.as_ref(), &file, &Default::default()).unwrap();
    let after = reports::assessment_report(storage.as_ref(), &period, Some(&rules)).unwrap();
    assert_eq!(after, first);
    assert_eq!(kept().expect("kept").1, version + 1);
}

/// A running server measures what a complete patrol covered in the background, without any
/// report asking: the month's report then finds it kept.
#[test]
fn the_server_measures_a_complete_patrol_in_the_background() {
    let server = TestServer::start();
    let storage = server.storage();
    let file = server.network_file(&THREE_STREETS);
    network::import_streets(storage.as_ref(), &file, &Default::default()).unwrap();
    let (wang, wang_code) = server.add_user("王芳", Role::Chief, Scope::Own);
    admin::assign(storage.as_ref(), "八角西街", &wang, Role::Chief, true).unwrap();
    let mut chief = Device::enrol(&server.url(), &wang_code);
    chief.sync();
    let id = walk_bajiao_west(&mut chief, 5);
    chief.sync();
    let pid = id.to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let kept = loop {
        if let Some(k) = storage.read().unwrap().patrol_coverage(&pid).unwrap() {
            break k;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the patrol's coverage was not measured in the background"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(kept.0, storage.read().unwrap().fix_mark(&pid).unwrap());
    assert!(kept.2.len() > 20, "a real coverage: {} bytes", kept.2.len());
}
