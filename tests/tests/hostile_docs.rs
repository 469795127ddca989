//! Hand-made document changes from enrolled devices that the server must refuse although the
//! device may write to the issue: rewriting a photo entry (to resolve with the reporter's
//! photo), hiding an event from the workflow check behind declared heads, and documents that
//! break the layout and limits (huge keys, thumbnails and comments, thousands of comments,
//! unknown keys, an unknown schema). Each is refused with its status and a message naming the
//! document, nothing is stored, and the honest devices keep syncing exactly what they held.

use automerge::transaction::{Transactable, Transaction};
use automerge::{ActorId, Automerge, ObjId, ObjType, ROOT, ReadDoc, ScalarValue};
use patrol_core::hlc::HlcStamp;
use patrol_core::issues::{Assignee, EventPayload, IssueEvent, NewIssue};
use patrol_core::sync::wire::{PROTOCOL_VERSION, Scope};
use patrol_core::{Department, IssueEventId, IssueEventKind, IssueId, IssueStatus, Role};
use patrol_server::admin;
use patrol_tests::hostile::http;
use patrol_tests::net::{Device, TWO_STREETS, TestServer};
use serde_json::{Value, json};

/// One hand-made change to `dev`'s copy of issue `id`, made with `dev`'s actor: the change's
/// bytes, the document's heads before it and after it.
fn craft(
    dev: &Device,
    id: IssueId,
    edit: impl FnOnce(&mut Transaction<'_>, &Automerge),
) -> (Vec<u8>, Vec<String>, Vec<String>) {
    let actor = dev.store.require_device().unwrap().actor_id;
    let doc = Automerge::load(&dev.store.export_issue(id).unwrap())
        .unwrap()
        .with_actor(ActorId::try_from(actor.as_str()).unwrap());
    let hex = |d: &Automerge| d.get_heads().iter().map(|h| h.to_string()).collect();
    let before = hex(&doc);
    let mut after = doc.clone();
    let mut tx = after.transaction();
    edit(&mut tx, &doc);
    tx.commit();
    let mut change = after.get_last_local_change().unwrap();
    (change.bytes().to_vec(), before, hex(&after))
}

fn obj(doc: &Automerge, at: &ObjId, key: &str) -> ObjId {
    doc.get(at, key).unwrap().unwrap().1
}

/// The photo map of photo `sha` in the issue.
fn photo_obj(doc: &Automerge, sha: &str) -> ObjId {
    obj(doc, &obj(doc, &ROOT, "photos"), sha)
}

/// An event by `dev`'s user as a tampered app writes it.
fn event_by(dev: &Device, id: IssueId, kind: IssueEventKind, payload: EventPayload) -> IssueEvent {
    let me = dev.store.require_device().unwrap();
    IssueEvent {
        id: IssueEventId::new(),
        kind,
        by: me.user_id,
        role: me.role,
        device: me.device_id,
        at: HlcStamp {
            wall_ms: 1_900_000_000_000,
            counter: 0,
            actor: me.actor_id,
        },
        round: dev.store.issue(id).unwrap().round,
        payload,
    }
}

/// Writes `e` into the events list as the phones do (same layout as core's `doc::append_event`).
fn put_event(tx: &mut Transaction<'_>, doc: &Automerge, e: &IssueEvent) -> ObjId {
    let events = obj(doc, &ROOT, "events");
    let len = tx.length(&events);
    let m = tx.insert_object(&events, len, ObjType::Map).unwrap();
    for (k, v) in [
        ("id", e.id.to_string()),
        ("kind", e.kind.as_str().to_owned()),
        ("by", e.by.to_string()),
        ("role", e.role.as_str().to_owned()),
        ("device", e.device.to_string()),
        ("actor", e.at.actor.clone()),
    ] {
        tx.put(&m, k, v).unwrap();
    }
    tx.put(&m, "at_ms", e.at.wall_ms).unwrap();
    tx.put(&m, "at_counter", i64::from(e.at.counter)).unwrap();
    tx.put(&m, "round", i64::from(e.round)).unwrap();
    let p = tx.put_object(&m, "payload", ObjType::Map).unwrap();
    if let Some(photo) = &e.payload.photo {
        tx.put(&p, "photo", photo.as_str()).unwrap();
    }
    m
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

/// Incompressible bytes (a compressed change would hide nothing from the limits, but shows
/// they hold for data that does not shrink).
fn noise(n: usize) -> Vec<u8> {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    (0..n)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

fn jpeg(dir: &std::path::Path, name: &str, tint: u8) -> std::path::PathBuf {
    let path = dir.join(name);
    image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8, y as u8, tint]))
        .save(&path)
        .unwrap();
    path
}

#[test]
fn hostile_document_changes_are_refused_and_honest_devices_keep_syncing() {
    let server = TestServer::start();
    server.import_streets(&TWO_STREETS);
    let storage = server.storage();
    let url = server.url();
    let (steward_id, steward_code) = server.add_user("李大妈", Role::Steward, Scope::Own);
    let (chief_id, chief_code) = server.add_user("王芳", Role::Chief, Scope::Own);
    let (_, supervisor_code) = server.add_user("陈主任", Role::Supervisor, Scope::District);
    let (_, crew_code) = server.add_user("刘师傅", Role::Crew, Scope::District);
    admin::assign(
        storage.as_ref(),
        "八角西街",
        &steward_id,
        Role::Steward,
        true,
    )
    .unwrap();
    admin::assign(storage.as_ref(), "八角西街", &chief_id, Role::Chief, true).unwrap();
    let mut steward = Device::enrol(&url, &steward_code);
    let mut chief = Device::enrol(&url, &chief_code);
    let mut supervisor = Device::enrol(&url, &supervisor_code);
    let mut crew = Device::enrol(&url, &crew_code);
    for d in [&mut steward, &mut chief, &mut supervisor, &mut crew] {
        d.sync();
    }

    // The steward reports with a before-photo and adds an after-photo of their own later; the
    // chief hands the issue to city property.
    let photos = tempfile::tempdir().unwrap();
    let before_sha = steward
        .store
        .attach_photo(jpeg(photos.path(), "before.jpg", 1))
        .unwrap()
        .sha256;
    let mut new = NewIssue::at("litter", 39.9075, 116.19370);
    new.photos = vec![before_sha.clone()];
    let id = steward.store.report_issue(new).unwrap().issue.id;
    let stewards_after = steward
        .store
        .attach_photo(jpeg(photos.path(), "steward-after.jpg", 2))
        .unwrap()
        .sha256;
    steward
        .store
        .add_issue_photo(id, &stewards_after, patrol_core::PhotoStage::After)
        .unwrap();
    steward.sync();
    chief.sync();
    chief
        .store
        .assign_issue(id, Assignee::Department(Department::CityProperty), None)
        .unwrap();
    chief.sync();
    let mut honest = [&mut steward, &mut chief, &mut supervisor, &mut crew];
    for d in honest.iter_mut() {
        d.sync();
    }
    let stored = || {
        storage
            .read()
            .unwrap()
            .doc(&id.to_string())
            .unwrap()
            .unwrap()
    };
    let heads_before = stored().heads;
    for d in &honest {
        assert_eq!(d.store.issue(id).unwrap().heads, heads_before);
    }
    let crew = &*honest[3];

    let refused = |what: &str, (change, heads): (Vec<u8>, Vec<String>), want: u16, says: &str| {
        let (status, body) = upload(&url, crew, id, change, heads);
        let msg = body["message"].as_str().unwrap_or_default().to_owned();
        assert_eq!(status, want, "{what}: {body}");
        assert!(
            msg.contains(&id.to_string()),
            "{what}: the message names the issue: {msg}"
        );
        assert!(msg.contains(says), "{what}: {msg}");
        assert_eq!(stored().heads, heads_before, "{what}: nothing stored");
    };
    let sent = |(change, _, after): (Vec<u8>, Vec<String>, Vec<String>)| (change, after);

    // 1. Relabelling the reporter's photo: its stage, position, author and thumbnail.
    for (what, key, value) in [
        ("stage", "stage", ScalarValue::from("after")),
        ("position", "lat", ScalarValue::F64(39.9)),
        (
            "author",
            "added_by",
            ScalarValue::from(crew.store.require_device().unwrap().user_id.to_string()),
        ),
        (
            "thumbnail",
            "thumbnail",
            ScalarValue::Bytes(vec![0xff, 0xd8]),
        ),
    ] {
        let change = craft(crew, id, |tx, doc| {
            tx.put(photo_obj(doc, &before_sha), key, value).unwrap();
        });
        refused(what, sent(change), 403, "fixed once attached");
    }

    // 2. The crew resolves with the reporter's photo: the before-photo relabelled in the same
    //    change, or the reporter's own after-photo.
    let resolve = |sha: &str| {
        event_by(
            crew,
            id,
            IssueEventKind::Resolve,
            EventPayload {
                photo: Some(sha.to_owned()),
                ..Default::default()
            },
        )
    };
    let change = craft(crew, id, |tx, doc| {
        tx.put(photo_obj(doc, &before_sha), "stage", "after")
            .unwrap();
        put_event(tx, doc, &resolve(&before_sha));
    });
    refused(
        "resolve with a relabelled photo",
        sent(change),
        403,
        "fixed once attached",
    );
    let change = craft(crew, id, |tx, doc| {
        put_event(tx, doc, &resolve(&stewards_after));
    });
    refused(
        "resolve with the reporter's after-photo",
        sent(change),
        403,
        "someone else",
    );

    // 3. An event the crew may not make (verifying, which only the reporter may), declared
    //    with the heads from before it so the document at those heads leaves it out.
    let verify = event_by(crew, id, IssueEventKind::Verify, EventPayload::default());
    let (change, before, _) = craft(crew, id, |tx, doc| {
        put_event(tx, doc, &verify);
    });
    refused(
        "an event hidden behind declared heads",
        (change, before),
        403,
        "verify",
    );

    // 4. Sizes: a 1 MiB key, a 3 MiB thumbnail, an 8 MiB comment, 10,000 comments.
    let change = craft(crew, id, |tx, _| {
        tx.put(ROOT, "k".repeat(1 << 20), 1).unwrap();
    });
    refused("a 1 MiB key", sent(change), 422, "not a field");
    let big_sha = "cd".repeat(32);
    let crew_user = crew.store.require_device().unwrap().user_id.to_string();
    let change = craft(crew, id, |tx, doc| {
        let photos = obj(doc, &ROOT, "photos");
        let m = tx
            .put_object(&photos, big_sha.as_str(), ObjType::Map)
            .unwrap();
        tx.put(&m, "stage", "after").unwrap();
        tx.put(&m, "mime", "image/jpeg").unwrap();
        tx.put(&m, "added_by", crew_user.as_str()).unwrap();
        tx.put(&m, "thumbnail", ScalarValue::Bytes(noise(3 << 20)))
            .unwrap();
    });
    refused("a 3 MiB thumbnail", sent(change), 422, "thumbnail");
    let comment = |tx: &mut Transaction<'_>, doc: &Automerge, at: usize, text: &str| {
        let comments = obj(doc, &ROOT, "comments");
        let m = tx.insert_object(&comments, at, ObjType::Map).unwrap();
        tx.put(&m, "id", patrol_core::CommentId::new().to_string())
            .unwrap();
        tx.put(&m, "by", crew_user.as_str()).unwrap();
        tx.put(&m, "role", "crew").unwrap();
        tx.put(&m, "at_ms", 1_900_000_000_000i64).unwrap();
        tx.put(&m, "at_counter", at as i64).unwrap();
        tx.put(&m, "actor", crew.store.require_device().unwrap().actor_id)
            .unwrap();
        tx.put(&m, "text", text).unwrap();
    };
    let long: String = noise(8 << 20)
        .iter()
        .map(|b| char::from(b'a' + b % 26))
        .collect();
    let change = craft(crew, id, |tx, doc| comment(tx, doc, 0, &long));
    refused("an 8 MiB comment", sent(change), 413, "at most");
    let change = craft(crew, id, |tx, doc| {
        for i in 0..10_000 {
            comment(tx, doc, i, "spam");
        }
    });
    refused("10,000 comments", sent(change), 422, "comments");

    // 5. Unknown keys, at the root and in an event, and a schema from no known app.
    let change = craft(crew, id, |tx, _| {
        tx.put(ROOT, "points_bonus", 1000).unwrap();
    });
    refused("an unknown root key", sent(change), 422, "points_bonus");
    let change = craft(crew, id, |tx, doc| {
        let events = obj(doc, &ROOT, "events");
        let first = doc.get(&events, 0).unwrap().unwrap().1;
        tx.put(&first, "weight", 10).unwrap();
    });
    refused(
        "an unknown key in an event",
        sent(change),
        422,
        "events[0].weight",
    );
    let change = craft(crew, id, |tx, _| {
        tx.put(ROOT, "schema", 99).unwrap();
    });
    refused("schema 99", sent(change), 422, "schema");

    // 6. The honest devices sync and hold exactly what they held; an honest resolve (with the
    //    crew's own after-photo) still goes through to everyone.
    for d in honest.iter_mut() {
        let r = d.sync();
        assert!(r.rejected.is_empty(), "{r:?}");
        assert_eq!(d.store.issue(id).unwrap().heads, heads_before);
    }
    let crew = &mut *honest[3];
    let sha = crew
        .store
        .attach_photo(jpeg(photos.path(), "crew-after.jpg", 3))
        .unwrap()
        .sha256;
    crew.store
        .resolve_issue(id, &sha, Some((39.9075, 116.1937)), None)
        .unwrap();
    crew.sync();
    for d in honest.iter_mut() {
        d.sync();
        let view = d.store.issue(id).unwrap();
        assert_eq!(view.status, IssueStatus::Resolved);
        assert_eq!(view.heads, stored().heads);
    }
}
