//! Photos belong to the documents and records that hold them. Enrolled devices with hand-made
//! requests cannot read photos beyond their scope, cannot squat or forge another person's
//! upload, and the owner's phone neither loses its photo nor loops when the server keeps
//! answering 409.

use std::time::Duration;

use patrol_core::issues::{Assignee, NewIssue};
use patrol_core::streets::StreetImportOptions;
use patrol_core::sync::wire::{PROTOCOL_VERSION, Scope};
use patrol_core::sync::{NetworkState, SyncPolicy, SyncReport};
use patrol_core::{Department, Role, UserId};
use patrol_server::{admin, network};
use patrol_tests::hostile::http;
use patrol_tests::net::{Device, TWO_STREETS, TestServer};
use serde_json::json;
use sha2::{Digest, Sha256};

fn token_of(dev: &Device) -> String {
    dev.store.sync_account().unwrap().unwrap().token
}

/// A real JPEG (a gradient) written to `path`.
fn jpeg(path: &std::path::Path, seed: u8) {
    let img = image::RgbImage::from_fn(96, 64, |x, y| image::Rgb([x as u8 * 2, y as u8 * 3, seed]));
    img.save_with_format(path, image::ImageFormat::Jpeg)
        .unwrap();
}

/// Runs `f` on its own thread and fails the test if it takes longer than `secs` (a sync that
/// loops would otherwise hang the test).
fn within<T: Send + 'static>(secs: u64, what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs))
        .unwrap_or_else(|_| panic!("{what} did not finish within {secs} s"))
}

fn sync_on(mut d: Device, network: NetworkState) -> (Device, patrol_core::Result<SyncReport>) {
    let policy = SyncPolicy {
        max_attempts: 3,
        base_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        ..SyncPolicy::on(network)
    };
    within(60, "a sync", move || {
        let r = d.sync_with(policy);
        (d, r)
    })
}

/// Two subdistricts: 八角街道 (A, street 八角西街) and 古城街道 (B, street 古城小巷). In B, a
/// steward reports an issue with a photo, a supervisor and a crew member look after it; A has a
/// chief, a crew member and a public user.
struct World {
    server: TestServer,
    url: String,
    owner: Device,
    sup_b: Device,
    crew_b: Device,
    chief_a: Device,
    crew_a: Device,
    public_a: Device,
    chief_a_id: UserId,
    photo: Vec<u8>,
    sha: String,
    _photos: tempfile::TempDir,
}

fn world() -> World {
    let server = TestServer::start();
    let url = server.url();
    let storage = server.storage();
    let a = admin::add_subdistrict(storage.as_ref(), "八角街道", None).unwrap();
    let b = admin::add_subdistrict(storage.as_ref(), "古城街道", None).unwrap();
    for (street, sub) in [(TWO_STREETS[0], "八角街道"), (TWO_STREETS[1], "古城街道")] {
        let options = StreetImportOptions {
            subdistrict: Some(sub.into()),
            ..Default::default()
        };
        let file = server.network_file(&[street]);
        network::import_streets(storage.as_ref(), &file, &options).unwrap();
    }
    let enrol = |name: &str, role: Role, scope: Scope, street: Option<&str>| {
        let (id, code) = server.add_user(name, role, scope);
        if let Some(st) = street {
            admin::assign(storage.as_ref(), st, &id, role, true).unwrap();
        }
        let mut d = Device::enrol(&url, &code);
        d.sync();
        (id, d)
    };
    let (_, owner) = enrol("赵大爷", Role::Steward, Scope::Own, Some("古城小巷"));
    let (_, sup_b) = enrol("陈主任", Role::Supervisor, Scope::Subdistrict(b), None);
    let (_, crew_b) = enrol("刘师傅", Role::Crew, Scope::Subdistrict(b), None);
    let (chief_a_id, chief_a) = enrol("王芳", Role::Chief, Scope::Own, Some("八角西街"));
    let (_, crew_a) = enrol("张师傅", Role::Crew, Scope::Subdistrict(a), None);
    let (_, public_a) = enrol("李先生", Role::Public, Scope::Own, None);

    let photos = tempfile::tempdir().unwrap();
    let file = photos.path().join("bin.jpg");
    jpeg(&file, 9);
    let photo = std::fs::read(&file).unwrap();
    let mut owner = owner;
    let sha = owner.store.attach_photo(&file).unwrap().sha256;
    assert_eq!(sha, hex::encode(Sha256::digest(&photo)));
    let mut new = NewIssue::at("overflowing_bin", 39.9075, 116.20103);
    new.photos = vec![sha.clone()];
    owner.store.report_issue(new).unwrap();
    World {
        server,
        url,
        owner,
        sup_b,
        crew_b,
        chief_a,
        crew_a,
        public_a,
        chief_a_id,
        photo,
        sha,
        _photos: photos,
    }
}

fn get(w: &World, dev: &Device) -> (u16, Vec<u8>) {
    let r = http()
        .get(format!("{}/v1/blobs/{}", w.url, w.sha))
        .bearer_auth(token_of(dev))
        .send()
        .unwrap();
    (r.status().as_u16(), r.bytes().unwrap().to_vec())
}

fn head(w: &World, dev: &Device) -> reqwest::blocking::Response {
    http()
        .head(format!("{}/v1/blobs/{}", w.url, w.sha))
        .bearer_auth(token_of(dev))
        .send()
        .unwrap()
}

fn patch(w: &World, dev: &Device, offset: usize, length: usize, chunk: &[u8]) -> (u16, String) {
    let r = http()
        .patch(format!("{}/v1/blobs/{}", w.url, w.sha))
        .bearer_auth(token_of(dev))
        .header("upload-offset", offset.to_string())
        .header("upload-length", length.to_string())
        .body(chunk.to_vec())
        .send()
        .unwrap();
    (r.status().as_u16(), r.text().unwrap_or_default())
}

/// The attacker declares the victim's photo in a litter pickup of their own, by hand.
fn declare_in_own_pickup(w: &World, dev: &Device, user: &UserId) {
    let id = "0190f00d-0000-7000-8000-00000000beef";
    let body = json!({
        "protocol": PROTOCOL_VERSION,
        "cursor": 0,
        "records": [{
            "kind": "pickup", "id": id, "user_id": user,
            "body": {
                "id": id, "user_id": user, "device_id": dev.store.require_device().unwrap().device_id,
                "at_ms": 1_700_000_000_000i64, "lat": 39.9075, "lon": 116.1936, "bags": 1, "items": 3,
                "street_id": null, "photo_sha256": w.sha, "note": null
            }
        }]
    });
    let r = http()
        .post(format!("{}/v1/sync", w.url))
        .bearer_auth(token_of(dev))
        .json(&body)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().unwrap_or_default());
}

/// The photo arrived intact on the device through its own sync.
fn has_photo(d: &Device, sha: &str) {
    let info = d
        .store
        .photo(sha)
        .unwrap_or_else(|e| panic!("the photo {sha} did not arrive: {e}"));
    let bytes = std::fs::read(&info.path).unwrap();
    assert_eq!(hex::encode(Sha256::digest(&bytes)), sha, "photo damaged");
}

#[test]
fn photos_are_read_only_by_who_may_read_their_issue() {
    let mut w = world();
    w.owner.sync();
    w.sup_b.sync();
    has_photo(&w.sup_b, &w.sha);
    let issue = w.sup_b.store.list_issues(&Default::default()).unwrap()[0].id;
    w.sup_b
        .store
        .assign_issue(issue, Assignee::Department(Department::CityProperty), None)
        .unwrap();
    w.sup_b.sync();
    w.crew_b.sync();
    has_photo(&w.crew_b, &w.sha);

    for (who, d) in [("supervisor of B", &w.sup_b), ("crew of B", &w.crew_b)] {
        let (s, bytes) = get(&w, d);
        assert_eq!(s, 200, "{who} may read the photo");
        assert_eq!(bytes, w.photo, "{who} gets it intact");
        let h = head(&w, d);
        assert_eq!(h.status().as_u16(), 200, "{who}: HEAD");
        assert_eq!(h.headers()["blob-complete"], "true");
    }
    // Outside B, knowing the hash is not enough; and the answer is the one for a photo that is
    // not stored, so the photo's existence is not revealed either.
    let absent = hex::encode(Sha256::digest(b"no such photo"));
    for (who, d) in [
        ("chief of A", &w.chief_a),
        ("crew of A", &w.crew_a),
        ("public of A", &w.public_a),
    ] {
        let (s, bytes) = get(&w, d);
        assert_eq!(s, 404, "{who} must not read B's photo");
        assert!(!bytes.starts_with(&w.photo[..16]), "{who} got the bytes");
        assert_eq!(head(&w, d).status().as_u16(), 404, "{who}: HEAD");
        let other = http()
            .get(format!("{}/v1/blobs/{absent}", w.url))
            .bearer_auth(token_of(d))
            .send()
            .unwrap();
        assert_eq!(other.status().as_u16(), 404);
        assert_eq!(other.text().unwrap().replace(&absent, "H"), {
            String::from_utf8_lossy(&bytes).replace(&w.sha, "H")
        });
    }
    // Their own syncs do not bring it either.
    for d in [&mut w.chief_a, &mut w.crew_a, &mut w.public_a] {
        d.sync();
        assert!(d.store.photo(&w.sha).is_err());
    }
    let _ = &w.server;
}

#[test]
fn uploads_cannot_be_squatted() {
    let w = world();
    let World { owner, .. } = w;
    // The issue goes up on cellular; its photo waits for wifi.
    let (owner, r) = sync_on(owner, NetworkState::Cellular);
    assert_eq!(r.unwrap().photos_up, 0);
    let w = World { owner, ..w };
    let len = w.photo.len();

    // The supervisor of B sees the issue and so knows the hash, but did not add the photo.
    let (s, msg) = patch(&w, &w.sup_b, 0, len + 10, &[0u8; 100]);
    assert_eq!(s, 403, "{msg}");
    assert!(msg.contains(&w.sha) && msg.contains("upload"), "{msg}");
    // Nor may anyone of A.
    for d in [&w.chief_a, &w.crew_a, &w.public_a] {
        assert_eq!(patch(&w, d, 0, 7, b"squat!!").0, 403);
    }
    // The owner's own device may not start it with a length other than the one it declared.
    let (s, msg) = patch(&w, &w.owner, 0, len + 1, &w.photo[..100]);
    assert_eq!(s, 409, "{msg}");
    assert!(msg.contains(&len.to_string()), "{msg}");
    // Nothing was stored for anyone.
    assert_eq!(head(&w, &w.owner).status().as_u16(), 404);

    // An attacker who declares the photo in a pickup of their own may start an upload, but it is
    // theirs alone: it does not disturb the owner's.
    declare_in_own_pickup(&w, &w.chief_a, &w.chief_a_id);
    let (s, msg) = patch(&w, &w.chief_a, 0, len * 3, &vec![7u8; len + 5]);
    assert_eq!(s, 202, "{msg}");
    assert_eq!(head(&w, &w.owner).status().as_u16(), 404);

    let World {
        owner, mut sup_b, ..
    } = w;
    let (owner, r) = sync_on(owner, NetworkState::Wifi);
    let r = r.expect("the owner's sync");
    assert_eq!(r.photos_up, 1, "{r:?}");
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    assert!(r.requests < 10, "{} requests", r.requests);
    sup_b.sync();
    has_photo(&sup_b, &w.sha);
    // Declaring someone else's photo in a pickup of one's own does not open it either.
    let r = http()
        .get(format!("{}/v1/blobs/{}", w.url, w.sha))
        .bearer_auth(token_of(&w.chief_a))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    drop(owner);
}

#[test]
fn a_forged_completion_is_refused_and_the_honest_upload_goes_through() {
    let w = world();
    let World { owner, .. } = w;
    let (owner, r) = sync_on(owner, NetworkState::Cellular);
    assert_eq!(r.unwrap().photos_up, 0);
    let w = World { owner, ..w };
    let len = w.photo.len();
    let junk = vec![0x55u8; len];

    // Whole, wrong bytes in one go by someone who did not add the photo: refused outright.
    let (s, msg) = patch(&w, &w.sup_b, 0, len, &junk);
    assert_eq!(s, 403, "{msg}");
    // By someone who declared it in their own pickup: the hash check throws the bytes away.
    declare_in_own_pickup(&w, &w.chief_a, &w.chief_a_id);
    let (s, msg) = patch(&w, &w.chief_a, 0, len, &junk);
    assert_eq!(s, 422, "{msg}");
    assert!(msg.contains("hash"), "{msg}");
    assert_eq!(head(&w, &w.owner).status().as_u16(), 404, "nothing stored");
    assert_eq!(get(&w, &w.sup_b).0, 404);

    // The owner's honest upload succeeds, and the supervisor gets the real photo.
    let World {
        owner, mut sup_b, ..
    } = w;
    let (owner, r) = sync_on(owner, NetworkState::Wifi);
    let r = r.expect("the owner's sync");
    assert_eq!(r.photos_up, 1);
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    sup_b.sync();
    has_photo(&sup_b, &w.sha);
    drop(owner);
}

#[test]
fn the_owner_gives_up_on_a_photo_the_server_keeps_refusing_with_409() {
    let w = world();
    let World { mut owner, .. } = w;
    let (o, r) = sync_on(owner, NetworkState::Cellular);
    assert_eq!(r.unwrap().photos_up, 0);
    owner = o;

    // The original on the phone no longer matches what the issue declares (a damaged store): every
    // upload meets 409 (the server wants the declared length).
    let info = owner.store.photo(&w.sha).unwrap();
    let original = std::fs::read(&info.path).unwrap();
    let mut longer = original.clone();
    longer.extend_from_slice(&[0u8; 333]);
    std::fs::write(&info.path, &longer).unwrap();
    owner
        .store
        .connection()
        .execute(
            "UPDATE photo SET size_bytes = ?1 WHERE sha256 = ?2",
            rusqlite::params![longer.len() as i64, w.sha],
        )
        .unwrap();

    let started = std::time::Instant::now();
    let (o, r) = sync_on(owner, NetworkState::Wifi);
    owner = o;
    let r = r.expect("a photo the server refuses does not fail the sync");
    assert_eq!(r.photos_up, 0);
    let rejected: Vec<_> = r
        .rejected
        .iter()
        .filter(|x| x.id == format!("photo:{}", w.sha))
        .collect();
    assert_eq!(rejected.len(), 1, "{:?}", r.rejected);
    assert!(rejected[0].reason.contains("conflict"), "{:?}", rejected[0]);
    // One sync request, then at most a HEAD and a PATCH per conflict.
    assert!(r.requests <= 12, "{} requests for one photo", r.requests);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(
        owner
            .store
            .rejected_items()
            .unwrap()
            .iter()
            .any(|x| x.id == format!("photo:{}", w.sha)),
        "shown to the user"
    );

    // Repaired, the next sync uploads it and it is no longer shown as set aside.
    std::fs::write(&info.path, &original).unwrap();
    owner
        .store
        .connection()
        .execute(
            "UPDATE photo SET size_bytes = ?1 WHERE sha256 = ?2",
            rusqlite::params![original.len() as i64, w.sha],
        )
        .unwrap();
    let (owner, r) = sync_on(owner, NetworkState::Wifi);
    let r = r.unwrap();
    assert_eq!(r.photos_up, 1, "{r:?}");
    assert!(
        owner
            .store
            .rejected_items()
            .unwrap()
            .iter()
            .all(|x| x.id != format!("photo:{}", w.sha))
    );
    let mut sup_b = w.sup_b;
    sup_b.sync();
    has_photo(&sup_b, &w.sha);
}
