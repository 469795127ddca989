//! Document changes the server must refuse: a steward writing to another street's issue, a crew
//! member verifying their own work, changes forged with another device's actor id. Each gets the
//! right 4xx, nothing is stored, the device sets the refused document aside and keeps syncing
//! everything else.

use automerge::Automerge;
use patrol_core::hlc::HlcStamp;
use patrol_core::issues::{Assignee, EventPayload, IssueEvent, NewIssue};
use patrol_core::sync::wire::{PROTOCOL_VERSION, Scope};
use patrol_core::{Department, IssueEventId, IssueEventKind, IssueId, IssueStatus, Role};
use patrol_server::admin;
use patrol_tests::hostile::http;
use patrol_tests::net::{Device, TWO_STREETS, TestServer};
use serde_json::{Value, json};

/// Appends `kind` by `dev`'s user to an issue document without the local role checks (a
/// tampered app), and returns the one new change's bytes and the new heads.
fn forged_event(
    dev: &Device,
    id: IssueId,
    kind: IssueEventKind,
    actor_hex: &str,
) -> (Vec<u8>, Vec<String>) {
    let me = dev.store.require_device().unwrap();
    let bytes = dev.store.export_issue(id).unwrap();
    let mut doc = Automerge::load(&bytes)
        .unwrap()
        .with_actor(automerge::ActorId::try_from(actor_hex).unwrap());
    let view = dev.store.issue(id).unwrap();
    let event = IssueEvent {
        id: IssueEventId::new(),
        kind,
        by: me.user_id,
        role: me.role,
        device: me.device_id,
        at: HlcStamp {
            wall_ms: 1_900_000_000_000,
            counter: 0,
            actor: actor_hex.to_owned(),
        },
        round: view.round,
        payload: EventPayload::default(),
    };
    patrol_core::issues::doc::append_event(&mut doc, &event, None).unwrap();
    let mut change = doc.get_last_local_change().unwrap();
    let heads = doc.get_heads().iter().map(|h| h.to_string()).collect();
    (change.bytes().to_vec(), heads)
}

/// Appends `event` as it is (a copy of another, say) without any local checks.
fn forged_event_as(
    dev: &Device,
    id: IssueId,
    event: IssueEvent,
    actor_hex: &str,
) -> (Vec<u8>, Vec<String>) {
    let mut doc = Automerge::load(&dev.store.export_issue(id).unwrap())
        .unwrap()
        .with_actor(automerge::ActorId::try_from(actor_hex).unwrap());
    patrol_core::issues::doc::append_event(&mut doc, &event, None).unwrap();
    let mut change = doc.get_last_local_change().unwrap();
    (
        change.bytes().to_vec(),
        doc.get_heads().iter().map(|h| h.to_string()).collect(),
    )
}

/// A hand-made change putting a mark operation in the issue's events list (the public API
/// refuses marks outside text).
fn marked_events(dev: &Device, id: IssueId, actor_hex: &str) -> (Vec<u8>, Vec<String>) {
    let doc = Automerge::load(&dev.store.export_issue(id).unwrap()).unwrap();
    let first = doc.get_changes(&[]).into_iter().next().unwrap().decode();
    let v = serde_json::to_value(&first).unwrap();
    let events_at = v["ops"]
        .as_array()
        .unwrap()
        .iter()
        .position(|op| op["key"] == "events")
        .unwrap();
    let events = format!(
        "{}@{}",
        first.start_op.get() + events_at as u64,
        v["actor"].as_str().unwrap()
    );
    let mine = doc
        .get_changes(&[])
        .into_iter()
        .filter(|c| c.actor_id().to_hex_string() == actor_hex)
        .map(|c| (c.seq(), c.max_op()))
        .max();
    let start = doc
        .get_changes(&[])
        .iter()
        .map(|c| c.max_op())
        .max()
        .unwrap()
        + 1;
    let mark: automerge::ExpandedChange = serde_json::from_value(json!({
        "actor": actor_hex, "seq": mine.map_or(1, |m| m.0 + 1), "startOp": start, "time": 0,
        "deps": doc.get_heads().iter().map(|h| h.to_string()).collect::<Vec<_>>(),
        "ops": [{ "action": "markBegin", "obj": events, "elemId": "_head", "insert": true,
                  "name": "bold", "value": true, "expand": false, "pred": [] }],
    }))
    .unwrap();
    let change = automerge::Change::from(mark);
    let mut after = doc.clone();
    after.apply_changes([change.clone()]).unwrap();
    (
        change.raw_bytes().to_vec(),
        after.get_heads().iter().map(|h| h.to_string()).collect(),
    )
}

fn upload(
    url: &str,
    dev: &Device,
    id: IssueId,
    change: Vec<u8>,
    heads: Vec<String>,
) -> (u16, Value) {
    use base64::Engine;
    let token = dev.store.sync_account().unwrap().unwrap().token;
    let body = json!({
        "protocol": PROTOCOL_VERSION, "cursor": 0,
        "docs": [{ "kind": "issue", "id": id, "heads": heads,
                   "changes": [base64::engine::general_purpose::STANDARD.encode(change)] }]
    });
    let r = http()
        .post(format!("{url}/v1/sync"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

#[test]
fn forged_and_out_of_scope_changes_are_refused() {
    let server = TestServer::start();
    server.import_streets(&TWO_STREETS);
    let storage = server.storage();
    let url = server.url();
    let (s1_id, s1_code) = server.add_user("李大妈", Role::Steward, Scope::Own);
    let (s2_id, s2_code) = server.add_user("赵大爷", Role::Steward, Scope::Own);
    let (chief_id, chief_code) = server.add_user("王芳", Role::Chief, Scope::Own);
    let (_, crew_code) = server.add_user("刘师傅", Role::Crew, Scope::District);
    admin::assign(storage.as_ref(), "八角西街", &s1_id, Role::Steward, true).unwrap();
    admin::assign(storage.as_ref(), "古城小巷", &s2_id, Role::Steward, true).unwrap();
    admin::assign(storage.as_ref(), "八角西街", &chief_id, Role::Chief, true).unwrap();
    let mut s1 = Device::enrol(&url, &s1_code);
    let mut s2 = Device::enrol(&url, &s2_code);
    let mut chief = Device::enrol(&url, &chief_code);
    let mut crew = Device::enrol(&url, &crew_code);
    for d in [&mut s1, &mut s2, &mut chief, &mut crew] {
        d.sync();
    }

    // Steward 1 reports on 八角西街; the chief hands it to city property; the crew resolves it.
    let id = s1
        .store
        .report_issue(NewIssue::at("litter", 39.9075, 116.19370))
        .unwrap()
        .issue
        .id;
    s1.sync();
    chief.sync();
    chief
        .store
        .assign_issue(id, Assignee::Department(Department::CityProperty), None)
        .unwrap();
    chief.sync();
    crew.sync();
    let photo = tempfile::tempdir().unwrap();
    let jpg = photo.path().join("after.jpg");
    image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8, y as u8, 9]))
        .save(&jpg)
        .unwrap();
    let sha = crew.store.attach_photo(&jpg).unwrap().sha256;
    crew.store
        .resolve_issue(id, &sha, Some((39.9075, 116.1937)), None)
        .unwrap();
    crew.sync();
    let heads_before = storage
        .read()
        .unwrap()
        .doc(&id.to_string())
        .unwrap()
        .unwrap()
        .heads;

    // 1. The crew member verifies their own work with a tampered app: 403, nothing stored.
    let crew_actor = crew.store.require_device().unwrap().actor_id;
    let (change, heads) = forged_event(&crew, id, IssueEventKind::Verify, &crew_actor);
    let (status, body) = upload(&url, &crew, id, change, heads);
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains(id.to_string().as_str()),
        "{body}"
    );
    assert_eq!(
        storage
            .read()
            .unwrap()
            .doc(&id.to_string())
            .unwrap()
            .unwrap()
            .heads,
        heads_before
    );

    // 2. A change signed with another device's actor id (the chief's), uploaded by the crew.
    let chief_actor = chief.store.require_device().unwrap().actor_id;
    let (change, heads) = forged_event(&crew, id, IssueEventKind::Verify, &chief_actor);
    let (status, body) = upload(&url, &crew, id, change, heads);
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("actor"),
        "{body}"
    );

    // 3. Steward 2 (古城小巷) got the document by USB and comments on it: outside their scope.
    s2.store
        .import_issue(&s1.store.export_issue(id).unwrap())
        .unwrap();
    s2.store.comment_issue(id, "not my street").unwrap();
    let s2_other = s2
        .store
        .report_issue(NewIssue::at("litter", 39.9075, 116.20103))
        .unwrap()
        .issue
        .id;
    let r = s2.sync();
    assert_eq!(r.rejected.len(), 1, "{r:?}");
    assert!(
        r.rejected[0].id.contains(&id.to_string()) && r.rejected[0].reason.contains("outside"),
        "{r:?}"
    );
    assert_eq!(r.docs_up, 1, "the steward's own issue still went up");
    assert!(
        storage
            .read()
            .unwrap()
            .doc(&s2_other.to_string())
            .unwrap()
            .is_some()
    );
    assert_eq!(s2.store.rejected_items().unwrap().len(), 1);
    // The next sync does not try again, and still works.
    let r = s2.sync();
    assert!(r.rejected.is_empty() && r.docs_up == 0, "{r:?}");
    assert_eq!(
        storage
            .read()
            .unwrap()
            .doc(&id.to_string())
            .unwrap()
            .unwrap()
            .heads,
        heads_before
    );

    // 4. Tampering that reads like appending: a copy of an existing event under its id but
    //    another kind, the events list replaced, and a mark operation inside the events list
    //    (marks belong on text; automerge's hydrate panics on one elsewhere). 403, 403, 422.
    let events_change =
        |edit: &dyn Fn(&mut automerge::transaction::Transaction<'_>, &automerge::ObjId)| {
            use automerge::ReadDoc;
            let mut doc = Automerge::load(&crew.store.export_issue(id).unwrap())
                .unwrap()
                .with_actor(automerge::ActorId::try_from(crew_actor.as_str()).unwrap());
            let events = doc.get(automerge::ROOT, "events").unwrap().unwrap().1;
            let mut tx = doc.transaction();
            edit(&mut tx, &events);
            tx.commit();
            let mut change = doc.get_last_local_change().unwrap();
            (
                change.bytes().to_vec(),
                doc.get_heads()
                    .iter()
                    .map(|h| h.to_string())
                    .collect::<Vec<_>>(),
            )
        };
    let (change, heads) = events_change(&|tx, _| {
        use automerge::transaction::Transactable;
        tx.put_object(automerge::ROOT, "events", automerge::ObjType::List)
            .unwrap();
    });
    let (status, body) = upload(&url, &crew, id, change, heads);
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("replaced or removed"),
        "{body}"
    );
    let view = crew.store.issue(id).unwrap();
    let report = view.events.first().unwrap().event.clone();
    let (change, heads) = forged_event_as(
        &crew,
        id,
        IssueEvent {
            kind: IssueEventKind::Verify,
            ..report
        },
        &crew_actor,
    );
    let (status, body) = upload(&url, &crew, id, change, heads);
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("two events have the id"),
        "{body}"
    );
    let (change, heads) = marked_events(&crew, id, &crew_actor);
    let (status, body) = upload(&url, &crew, id, change, heads);
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        storage
            .read()
            .unwrap()
            .doc(&id.to_string())
            .unwrap()
            .unwrap()
            .heads,
        heads_before
    );

    // 5. The rightful chief verifies; it goes through.
    chief.sync();
    chief.store.verify_issue(id, None).unwrap();
    chief.sync();
    s1.sync();
    assert_eq!(s1.store.issue(id).unwrap().status, IssueStatus::Verified);
    let doc = Automerge::load(
        &storage
            .read()
            .unwrap()
            .doc(&id.to_string())
            .unwrap()
            .unwrap()
            .data,
    )
    .unwrap();
    assert!(!doc.get_heads().is_empty());
}
