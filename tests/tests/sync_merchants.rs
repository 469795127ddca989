//! Merchants (商户) sync like issues: a chief registers and inspects the shops along their street
//! offline, the supervisor rates them after a wifi sync, concurrent inspections and edits from
//! both phones converge, and only supervisors and the street's chiefs receive them. The server
//! refuses merchant changes from roles that may not make them, out of scope or signed by someone
//! else, with a 403 and nothing stored.

use automerge::Automerge;
use patrol_core::hlc::HlcStamp;
use patrol_core::merchants::{
    Inspection, MerchantEdit, MerchantFields, NewInspection, NewMerchant,
};
use patrol_core::sync::wire::{PROTOCOL_VERSION, Scope};
use patrol_core::{Datum, DutyGrade, InspectionId, MerchantId, Role};
use patrol_server::admin;
use patrol_tests::net::{Device, TWO_STREETS, TestServer};
use serde_json::{Value, json};

fn jpeg(path: &std::path::Path, seed: u8) {
    let img = image::RgbImage::from_fn(96, 64, |x, y| image::Rgb([x as u8 * 2, y as u8 * 3, seed]));
    img.save_with_format(path, image::ImageFormat::Jpeg)
        .unwrap();
}

fn inspection(sanitation: DutyGrade, note: &str, photos: Vec<String>) -> NewInspection {
    NewInspection {
        sanitation,
        greening: DutyGrade::Good,
        order: DutyGrade::Fair,
        note: Some(note.into()),
        photos,
    }
}

fn noodle_shop() -> NewMerchant {
    NewMerchant {
        name: "老北京面馆".into(),
        kind: Some("restaurant".into()),
        address: Some("八角西街12号".into()),
        contact: None,
        lat: 39.9075,
        lon: 116.19362,
        datum: Datum::Wgs84,
        street: Some("八角西街".into()),
    }
}

fn upload(
    url: &str,
    dev: &Device,
    id: &str,
    changes: &[Vec<u8>],
    heads: Vec<String>,
) -> (u16, Value) {
    use base64::Engine;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let token = dev.store.sync_account().unwrap().unwrap().token;
    let changes: Vec<String> = changes
        .iter()
        .map(|c| base64::engine::general_purpose::STANDARD.encode(c))
        .collect();
    let body = json!({
        "protocol": PROTOCOL_VERSION, "cursor": 0,
        "docs": [{ "kind": "merchant", "id": id, "heads": heads, "changes": changes }]
    });
    let r = reqwest::blocking::Client::new()
        .post(format!("{url}/v1/sync"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

fn heads_hex(doc: &Automerge) -> Vec<String> {
    doc.get_heads().iter().map(|h| h.to_string()).collect()
}

/// A chief and a steward of 八角西街, the chief of 古城小巷 and a district supervisor, enrolled
/// and synced once (the street network).
struct Team {
    server: TestServer,
    url: String,
    chief_id: patrol_core::UserId,
    other_chief_id: patrol_core::UserId,
    supervisor_id: patrol_core::UserId,
    chief: Device,
    other_chief: Device,
    steward: Device,
    supervisor: Device,
}

fn team() -> Team {
    let server = TestServer::start();
    server.import_streets(&TWO_STREETS);
    let storage = server.storage();
    let url = server.url();
    let (chief_id, chief_code) = server.add_user("王芳", Role::Chief, Scope::Own);
    let (other_chief_id, other_chief_code) = server.add_user("刘强", Role::Chief, Scope::Own);
    let (steward_id, steward_code) = server.add_user("李大妈", Role::Steward, Scope::Own);
    let (supervisor_id, supervisor_code) =
        server.add_user("张主任", Role::Supervisor, Scope::District);
    admin::assign(storage.as_ref(), "八角西街", &chief_id, Role::Chief, true).unwrap();
    admin::assign(
        storage.as_ref(),
        "古城小巷",
        &other_chief_id,
        Role::Chief,
        true,
    )
    .unwrap();
    admin::assign(
        storage.as_ref(),
        "八角西街",
        &steward_id,
        Role::Steward,
        true,
    )
    .unwrap();
    let mut t = Team {
        chief: Device::enrol(&url, &chief_code),
        other_chief: Device::enrol(&url, &other_chief_code),
        steward: Device::enrol(&url, &steward_code),
        supervisor: Device::enrol(&url, &supervisor_code),
        server,
        url,
        chief_id,
        other_chief_id,
        supervisor_id,
    };
    for d in [
        &mut t.chief,
        &mut t.other_chief,
        &mut t.steward,
        &mut t.supervisor,
    ] {
        d.sync();
    }
    t
}

#[test]
fn merchants_reach_supervisors_and_their_chiefs_and_converge() {
    let Team {
        server: _server,
        mut chief,
        mut other_chief,
        mut steward,
        mut supervisor,
        ..
    } = team();

    // Offline on the chief's phone: a shop registered along their street, inspected with a photo.
    let photo_path = chief.path().join("frontage.jpg");
    jpeg(&photo_path, 7);
    let photo = chief.store.attach_photo(&photo_path).unwrap().sha256;
    let shop = chief.store.add_merchant(noodle_shop()).unwrap();
    assert!(
        shop.fields.street_id.is_some(),
        "the frontage is matched to the street the chief gave"
    );
    chief
        .store
        .inspect_merchant(
            shop.id,
            inspection(DutyGrade::Poor, "门口堆放杂物", vec![photo.clone()]),
        )
        .unwrap();

    let up = chief.sync();
    assert_eq!(up.docs_up, 1, "{up:?}");
    assert!(up.rejected.is_empty(), "{up:?}");
    let down = supervisor.sync();
    assert_eq!(down.docs_down, 1, "{down:?}");
    let seen = supervisor.store.merchant(shop.id).unwrap();
    assert_eq!(seen, chief.store.merchant(shop.id).unwrap());
    assert_eq!(seen.inspections.len(), 1);
    assert_eq!(
        supervisor.store.photo(&photo).unwrap().size_bytes,
        std::fs::metadata(&photo_path).unwrap().len(),
        "the inspection photo arrives"
    );

    // Only supervisors and the street's chiefs receive merchants.
    other_chief.sync();
    assert!(
        other_chief.store.merchant(shop.id).is_err(),
        "another street's chief does not receive it"
    );
    steward.sync();
    assert!(
        steward.store.merchant(shop.id).is_err(),
        "stewards do not receive merchants"
    );

    // Both inspect offline, the chief also corrects the address; syncs in either order converge.
    supervisor
        .store
        .inspect_merchant(shop.id, inspection(DutyGrade::Fair, "已整改一半", vec![]))
        .unwrap();
    chief
        .store
        .inspect_merchant(shop.id, inspection(DutyGrade::Good, "门前已清理", vec![]))
        .unwrap();
    chief
        .store
        .edit_merchant(
            shop.id,
            MerchantEdit {
                address: Some("八角西街14号".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let r = supervisor.sync();
    assert_eq!(r.docs_up, 1, "{r:?}");
    let r = chief.sync();
    assert_eq!((r.docs_up, r.docs_down), (1, 1), "{r:?}");
    let r = supervisor.sync();
    assert_eq!(r.docs_down, 1, "{r:?}");
    let on_chief = chief.store.merchant(shop.id).unwrap();
    assert_eq!(on_chief, supervisor.store.merchant(shop.id).unwrap());
    assert_eq!(on_chief.inspections.len(), 3);
    assert_eq!(on_chief.fields.address.as_deref(), Some("八角西街14号"));
    let summary = &supervisor
        .store
        .list_merchants(&Default::default())
        .unwrap()[0];
    assert_eq!((summary.id, summary.inspection_count), (shop.id, 3));

    // Nothing left to send; a second sync moves nothing.
    for d in [&mut chief, &mut supervisor] {
        let r = d.sync();
        assert_eq!((r.docs_up, r.docs_down), (0, 0), "{r:?}");
    }
}

#[test]
fn merchant_changes_the_role_or_scope_does_not_allow_are_refused() {
    let Team {
        server,
        url,
        chief_id,
        other_chief_id,
        supervisor_id,
        mut chief,
        other_chief,
        steward,
        supervisor,
        ..
    } = team();
    let storage = server.storage();
    let shop = chief.store.add_merchant(noodle_shop()).unwrap();
    chief.sync();
    let street = shop.fields.street_id.clone();
    let stored = || {
        storage
            .write()
            .unwrap()
            .doc(&shop.id.to_string())
            .unwrap()
            .map(|d| d.heads)
    };
    let before = stored();

    // A steward's phone creating a merchant (a tampered app: its own store refuses to).
    let me = steward.store.require_device().unwrap();
    let fields = MerchantFields {
        name: "小卖部".into(),
        kind: None,
        address: None,
        contact: None,
        lat: 39.9080,
        lon: 116.19362,
        street_id: street.clone(),
        segment_id: None,
        closed: false,
    };
    let actor = automerge::ActorId::try_from(me.actor_id.as_str()).unwrap();
    let id = MerchantId::new();
    let doc =
        patrol_core::merchants::doc::create(actor, id, &fields, me.user_id, 1_714_550_400_000)
            .unwrap();
    let changes: Vec<Vec<u8>> = doc
        .get_changes(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    let (status, body) = upload(&url, &steward, &id.to_string(), &changes, heads_hex(&doc));
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("supervisors and chiefs"),
        "{body}"
    );
    assert!(
        storage
            .write()
            .unwrap()
            .doc(&id.to_string())
            .unwrap()
            .is_none(),
        "nothing stored"
    );

    // Another street's chief inspecting this shop (the document came by hand, not by sync).
    let foreign = |dev: &Device, by: patrol_core::UserId, role: Role| {
        let me = dev.store.require_device().unwrap();
        let mut doc = Automerge::load(&chief.store.export_merchant(shop.id).unwrap())
            .unwrap()
            .with_actor(automerge::ActorId::try_from(me.actor_id.as_str()).unwrap());
        let i = Inspection {
            id: InspectionId::new(),
            by,
            role,
            at: HlcStamp {
                wall_ms: 1_900_000_000_000,
                counter: 0,
                actor: me.actor_id.clone(),
            },
            sanitation: DutyGrade::Good,
            greening: DutyGrade::Good,
            order: DutyGrade::Good,
            note: None,
            photos: vec![],
        };
        patrol_core::merchants::doc::append_inspection(&mut doc, &i).unwrap();
        let mut change = doc.get_last_local_change().unwrap();
        (change.bytes().to_vec(), heads_hex(&doc))
    };
    let (change, heads) = foreign(&other_chief, other_chief_id, Role::Chief);
    let (status, body) = upload(&url, &other_chief, &shop.id.to_string(), &[change], heads);
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("outside"),
        "{body}"
    );

    // The supervisor's phone signing an inspection as the chief.
    let (change, heads) = foreign(&supervisor, chief_id, Role::Chief);
    let (status, body) = upload(&url, &supervisor, &shop.id.to_string(), &[change], heads);
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("signed by another user"),
        "{body}"
    );
    assert_eq!(stored(), before, "nothing stored");

    // Signed as themselves, the same inspection is taken; the server keeps serving everyone.
    let (change, heads) = foreign(&supervisor, supervisor_id, Role::Supervisor);
    let (status, body) = upload(&url, &supervisor, &shop.id.to_string(), &[change], heads);
    assert_eq!(status, 200, "{body}");
    assert_ne!(stored(), before);
    let r = chief.sync();
    assert_eq!(r.docs_down, 1, "{r:?}");
    assert_eq!(chief.store.merchant(shop.id).unwrap().inspections.len(), 1);

    // Tampering that looks like appending: a copy of the chief's own inspection signed as the
    // supervisor (same id), the inspections list replaced by a copy, a photo id that is no hash,
    // and the shop moved to another chief's street.
    chief
        .store
        .inspect_merchant(shop.id, inspection(DutyGrade::Good, "门前整洁", vec![]))
        .unwrap();
    chief.sync();
    let before = stored();
    let base = chief.store.merchant(shop.id).unwrap();
    let theirs = base.inspections[0].clone();
    let tamper =
        |edit: &dyn Fn(&mut automerge::transaction::Transaction<'_>, &automerge::ObjId)| {
            use automerge::ReadDoc;
            let me = chief.store.require_device().unwrap();
            let mut doc = Automerge::load(&chief.store.export_merchant(shop.id).unwrap())
                .unwrap()
                .with_actor(automerge::ActorId::try_from(me.actor_id.as_str()).unwrap());
            let list = doc.get(automerge::ROOT, "inspections").unwrap().unwrap().1;
            let mut tx = doc.transaction();
            edit(&mut tx, &list);
            tx.commit();
            let mut change = doc.get_last_local_change().unwrap();
            (change.bytes().to_vec(), heads_hex(&doc))
        };
    let forged_copy = Inspection {
        by: supervisor_id,
        role: Role::Supervisor,
        sanitation: DutyGrade::Poor,
        ..theirs.clone()
    };
    let with = |i: Inspection| {
        move |tx: &mut automerge::transaction::Transaction<'_>, list: &automerge::ObjId| {
            use automerge::ReadDoc;
            use automerge::transaction::Transactable;
            let n = tx.length(list);
            let m = tx.insert_object(list, n, automerge::ObjType::Map).unwrap();
            for (k, v) in [
                ("id", i.id.to_string()),
                ("by", i.by.to_string()),
                ("role", i.role.to_string()),
                ("actor", i.at.actor.clone()),
            ] {
                tx.put(&m, k, v).unwrap();
            }
            for (k, v) in [
                ("sanitation", i.sanitation.to_string()),
                ("greening", i.greening.to_string()),
                ("order", i.order.to_string()),
            ] {
                tx.put(&m, k, v).unwrap();
            }
            tx.put(&m, "at_ms", i.at.wall_ms + 1).unwrap();
            tx.put(&m, "at_counter", i64::from(i.at.counter)).unwrap();
            tx.put(&m, "photos", i.photos.join(" ")).unwrap();
        }
    };
    let (change, heads) = tamper(&with(forged_copy));
    let (status, body) = upload(&url, &chief, &shop.id.to_string(), &[change], heads);
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("two inspections have the id"),
        "{body}"
    );
    let (change, heads) = tamper(&|tx, _| {
        use automerge::transaction::Transactable;
        tx.put_object(automerge::ROOT, "inspections", automerge::ObjType::List)
            .unwrap();
    });
    let (status, body) = upload(&url, &chief, &shop.id.to_string(), &[change], heads);
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("replaced or removed"),
        "{body}"
    );
    let junk_photo = Inspection {
        id: InspectionId::new(),
        photos: vec!["../../etc/passwd".into()],
        ..theirs.clone()
    };
    let (change, heads) = tamper(&with(junk_photo));
    let (status, body) = upload(&url, &chief, &shop.id.to_string(), &[change], heads);
    assert_eq!(status, 422, "{body}");
    let other_street = patrol_server::network::list_streets(server.storage().as_ref())
        .unwrap()
        .into_iter()
        .find(|s| s["name"] == "古城小巷")
        .and_then(|s| s["id"].as_str().map(str::to_owned))
        .unwrap();
    let (change, heads) = tamper(&|tx, _| {
        use automerge::transaction::Transactable;
        tx.put(automerge::ROOT, "street_id", other_street.as_str())
            .unwrap();
    });
    let (status, body) = upload(&url, &chief, &shop.id.to_string(), &[change], heads);
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("their own streets"),
        "{body}"
    );
    assert_eq!(stored(), before, "nothing stored");
}

#[test]
fn edits_of_a_merchant_handed_over_by_file_wait_for_its_author_to_sync() {
    let Team {
        server: _server,
        mut chief,
        mut supervisor,
        ..
    } = team();
    let shop = chief.store.add_merchant(noodle_shop()).unwrap();
    // Handed over by file before the chief's phone has synced it; the supervisor inspects.
    supervisor
        .store
        .import_merchant(&chief.store.export_merchant(shop.id).unwrap())
        .unwrap();
    supervisor
        .store
        .inspect_merchant(shop.id, inspection(DutyGrade::Fair, "需要整改", vec![]))
        .unwrap();
    let r = supervisor.sync();
    assert_eq!(r.docs_up, 0, "{r:?}");
    assert!(r.rejected.is_empty(), "kept, not refused: {r:?}");
    assert!(
        r.deferred.iter().any(|d| d.contains("does not have yet")),
        "{r:?}"
    );
    // Once the chief's phone has sent the merchant, the supervisor's inspection goes up.
    chief.sync();
    let r = supervisor.sync();
    assert_eq!(r.docs_up, 1, "{r:?}");
    chief.sync();
    assert_eq!(
        chief.store.merchant(shop.id).unwrap(),
        supervisor.store.merchant(shop.id).unwrap()
    );
    assert_eq!(chief.store.merchant(shop.id).unwrap().inspections.len(), 1);
}
