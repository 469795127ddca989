//! The server refuses what it must, with the right 4xx and a clear message, stores nothing of a
//! refused request, and keeps serving.

use std::io::{Read, Write};
use std::net::TcpStream;

use patrol_core::Role;
use patrol_core::sync::wire::{PROTOCOL_VERSION, Scope};
use patrol_tests::net::{Device, TestServer};
/// A plain HTTP client for hand-made requests (loopback, so TLS is never used, but reqwest
/// needs a crypto provider installed to build).
struct Client;

impl Client {
    #[allow(
        clippy::new_ret_no_self,
        reason = "`Client::new` configures the reqwest client these tests send with"
    )]
    fn new() -> reqwest::blocking::Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::blocking::Client::new()
    }
}
use serde_json::{Value, json};

fn status_and_body(resp: reqwest::blocking::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let body: Value = resp.json().unwrap_or(Value::Null);
    (status, body)
}

fn healthy(url: &str) {
    let r = Client::new()
        .get(format!("{url}/healthz"))
        .send()
        .expect("healthz");
    assert_eq!(r.status().as_u16(), 200, "the server stopped serving");
}

fn token_of(dev: &Device) -> String {
    dev.store.sync_account().unwrap().unwrap().token
}

#[test]
fn tokens_are_required_checked_and_revocable() {
    let server = TestServer::start();
    let url = server.url();
    let http = Client::new();
    let (user, code) = server.add_user("王芳", Role::Chief, Scope::Own);
    let dev = Device::enrol(&url, &code);
    let sync_body = json!({ "protocol": PROTOCOL_VERSION, "cursor": 0 });

    let (s, b) = status_and_body(
        http.post(format!("{url}/v1/sync"))
            .json(&sync_body)
            .send()
            .unwrap(),
    );
    assert_eq!(s, 401);
    assert_eq!(b["error"], "unauthorized");
    assert!(b["message"].as_str().unwrap().contains("Bearer"));

    for bad in ["spt_nope", "", "x".repeat(5000).as_str()] {
        let (s, _) = status_and_body(
            http.post(format!("{url}/v1/sync"))
                .bearer_auth(bad)
                .json(&sync_body)
                .send()
                .unwrap(),
        );
        assert_eq!(s, 401, "token {bad:.20}");
    }
    let (s, _) = status_and_body(
        http.post(format!("{url}/v1/sync"))
            .header("authorization", "Basic abc")
            .json(&sync_body)
            .send()
            .unwrap(),
    );
    assert_eq!(s, 401);

    let token = token_of(&dev);
    let (s, _) = status_and_body(
        http.post(format!("{url}/v1/sync"))
            .bearer_auth(&token)
            .json(&sync_body)
            .send()
            .unwrap(),
    );
    assert_eq!(s, 200);

    // An enrolment code works once.
    let (s, b) = status_and_body(
        http.post(format!("{url}/v1/enrol"))
            .json(&json!({ "code": code }))
            .send()
            .unwrap(),
    );
    assert_eq!(s, 401, "{b}");
    assert!(b["message"].as_str().unwrap().contains("already used"));

    patrol_server::admin::revoke(server.storage().as_ref(), None, Some(&user)).unwrap();
    let (s, b) = status_and_body(
        http.post(format!("{url}/v1/sync"))
            .bearer_auth(&token)
            .json(&sync_body)
            .send()
            .unwrap(),
    );
    assert_eq!(s, 401);
    assert!(b["message"].as_str().unwrap().contains("revoked"));
    healthy(&url);
}

#[test]
fn oversize_garbage_and_path_tricks_get_4xx() {
    let server = TestServer::start();
    let url = server.url();
    let http = Client::new();
    let (_, code) = server.add_user("王芳", Role::Chief, Scope::Own);
    let dev = Device::enrol(&url, &code);
    let token = token_of(&dev);

    // A 1 GB body, announced: refused before it is read.
    let addr = server.server.as_ref().unwrap().addr;
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST /v1/sync HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n"
    )
    .unwrap();
    let _ = s.write_all(&[b' '; 65536]);
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 512];
    let n = s.read(&mut buf).unwrap_or(0);
    let answer = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:.200}");

    // Blob ids that try to escape the blob folder.
    for id in [
        "..%2F..%2Fetc%2Fpasswd",
        "..",
        "ABCDEF",
        &"g".repeat(64),
        &"a".repeat(65),
    ] {
        let r = http
            .get(format!("{url}/v1/blobs/{id}"))
            .bearer_auth(&token)
            .send()
            .unwrap();
        assert!(
            matches!(r.status().as_u16(), 400 | 404),
            "{id}: {}",
            r.status()
        );
    }
    let r = http
        .get(format!("{url}/v1/blobs/../../etc/passwd"))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert!(r.status().is_client_error());

    // Garbage in every field of a sync request.
    let garbage = [
        json!("not an object"),
        json!({ "protocol": "one", "cursor": 0 }),
        json!({ "protocol": PROTOCOL_VERSION, "cursor": -5 }),
        json!({ "protocol": PROTOCOL_VERSION, "cursor": 0, "docs": [{ "kind": "issue", "id": "x", "changes": ["!!!not base64"], "heads": [] }] }),
        json!({ "protocol": PROTOCOL_VERSION, "cursor": 0, "docs": [{ "kind": "issue", "id": "../x", "changes": [], "heads": [] }] }),
        json!({ "protocol": PROTOCOL_VERSION, "cursor": 0, "docs": [{ "kind": "spaceship", "id": "x", "changes": [], "heads": [] }] }),
        json!({ "protocol": PROTOCOL_VERSION, "cursor": 0, "docs": [{ "kind": "issue", "id": "x", "changes": ["AAAA"], "heads": [] }] }),
        json!({ "protocol": PROTOCOL_VERSION, "cursor": 0, "patrols": [{ "id": "nope" }] }),
        json!({ "protocol": PROTOCOL_VERSION, "cursor": 0, "records": [{ "kind": "pickup", "id": "x", "user_id": "y", "body": {} }] }),
    ];
    for g in garbage {
        let (s, b) = status_and_body(
            http.post(format!("{url}/v1/sync"))
                .bearer_auth(&token)
                .json(&g)
                .send()
                .unwrap(),
        );
        assert!((400..500).contains(&s), "{g}: {s} {b}");
        assert!(b["message"].is_string(), "{g}: {b}");
    }
    let (s, b) = status_and_body(
        http.post(format!("{url}/v1/sync"))
            .bearer_auth(&token)
            .json(&json!({ "protocol": 99, "cursor": 0 }))
            .send()
            .unwrap(),
    );
    assert_eq!(s, 426, "{b}");
    let (s, _) = status_and_body(
        http.post(format!("{url}/v1/sync"))
            .bearer_auth(&token)
            .body("{{{{")
            .header("content-type", "application/json")
            .send()
            .unwrap(),
    );
    assert_eq!(s, 400);

    // Garbage fix batches.
    let patrol = patrol_core::PatrolId::new();
    for body in [vec![], b"SPFX".to_vec(), vec![0xFF; 1000]] {
        let r = http
            .put(format!("{url}/v1/patrols/{patrol}/fixes"))
            .bearer_auth(&token)
            .body(body)
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 400);
    }
    let r = http
        .put(format!("{url}/v1/patrols/not-a-uuid/fixes"))
        .bearer_auth(&token)
        .body(vec![1])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    healthy(&url);
}

#[test]
fn a_device_cannot_write_as_another() {
    let server = TestServer::start();
    let url = server.url();
    let http = Client::new();
    let (_, c1) = server.add_user("王芳", Role::Chief, Scope::Own);
    let (_, c2) = server.add_user("张伟", Role::Chief, Scope::Own);
    let mut a = Device::enrol(&url, &c1);
    let b = Device::enrol(&url, &c2);
    let id = a.store.start_patrol(&[]).unwrap();
    a.store
        .add_fix(id, patrol_core::NewFix::at(39.9, 116.2, 1_733_040_000_000))
        .unwrap();
    a.store.stop_patrol(id).unwrap();
    a.sync();
    let header = serde_json::to_value(patrol_core::sync::engine::patrol_record(
        &a.store.patrol(id).unwrap(),
    ))
    .unwrap();

    // B re-sends A's patrol header as its own upload: refused, and nothing stored.
    let (s, body) = status_and_body(
        http.post(format!("{url}/v1/sync"))
            .bearer_auth(token_of(&b))
            .json(&json!({ "protocol": PROTOCOL_VERSION, "cursor": 0, "patrols": [header] }))
            .send()
            .unwrap(),
    );
    assert_eq!(s, 403, "{body}");
    // B uploads fixes into A's patrol.
    let fixes = patrol_core::sync::fixcodec::encode_fixes(&a.store.fixes(id).unwrap());
    let r = http
        .put(format!("{url}/v1/patrols/{id}/fixes"))
        .bearer_auth(token_of(&b))
        .body(fixes)
        .send()
        .unwrap();
    // Answered as for a patrol that does not exist: B learns nothing of A's ids.
    assert_eq!(r.status().as_u16(), 404);
    // B downloads A's fixes.
    let r = http
        .post(format!("{url}/v1/fixes/download"))
        .bearer_auth(token_of(&b))
        .json(&json!({ "patrols": [{ "patrol_id": id, "from_seq": 0 }] }))
        .send()
        .unwrap();
    // Out of B's scope: answered as an unknown patrol.
    assert_eq!(r.status().as_u16(), 404);
    // A record claiming another user.
    let rec = json!({ "kind": "pickup", "id": "01939c2e-0000-7000-8000-000000000001", "user_id": a.store.require_device().unwrap().user_id, "body": {} });
    let (s, _) = status_and_body(
        http.post(format!("{url}/v1/sync"))
            .bearer_auth(token_of(&b))
            .json(&json!({ "protocol": PROTOCOL_VERSION, "cursor": 0, "records": [rec] }))
            .send()
            .unwrap(),
    );
    assert_eq!(s, 403);
    healthy(&url);
}

#[test]
fn blobs_upload_resumably_and_verify_their_hash() {
    use sha2::{Digest, Sha256};
    let server = TestServer::start();
    let url = server.url();
    let http = Client::new();
    let (user, code) = server.add_user("王芳", Role::Chief, Scope::Own);
    let dev = Device::enrol(&url, &code);
    let token = token_of(&dev);
    let photo: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let hash = hex::encode(Sha256::digest(&photo));
    let wrong = hex::encode(Sha256::digest(b"something else"));
    // Only a photo its user declared may be uploaded: here, in litter pickups of their own.
    let device_id = dev.store.require_device().unwrap().device_id;
    let pickup = |n: u32, sha: &str| {
        let id = format!("0190f00d-0000-7000-8000-00000000000{n}");
        json!({ "kind": "pickup", "id": id, "user_id": user, "body": {
            "id": id, "user_id": user, "device_id": device_id, "at_ms": 1_700_000_000_000i64,
            "lat": 39.9075, "lon": 116.1936, "bags": 1, "items": 2, "street_id": null,
            "photo_sha256": sha, "note": null } })
    };
    let declare = json!({ "protocol": PROTOCOL_VERSION, "cursor": 0,
        "records": [pickup(1, &hash), pickup(2, &wrong)] });
    let r = http
        .post(format!("{url}/v1/sync"))
        .bearer_auth(&token)
        .json(&declare)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let patch = |offset: usize, chunk: &[u8], h: &str| {
        http.patch(format!("{url}/v1/blobs/{h}"))
            .bearer_auth(&token)
            .header("upload-offset", offset.to_string())
            .header("upload-length", photo.len().to_string())
            .body(chunk.to_vec())
            .send()
            .unwrap()
    };
    assert_eq!(
        http.head(format!("{url}/v1/blobs/{hash}"))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    assert_eq!(patch(0, &photo[..300_000], &hash).status().as_u16(), 202);
    // The connection dropped; ask where to resume.
    let r = http
        .head(format!("{url}/v1/blobs/{hash}"))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(r.headers()["upload-offset"], "300000");
    // A chunk at the wrong offset is refused with the right one in the message.
    assert_eq!(patch(100, &photo[100..200], &hash).status().as_u16(), 409);
    assert_eq!(
        patch(300_000, &photo[300_000..], &hash).status().as_u16(),
        201
    );
    let got = http
        .get(format!("{url}/v1/blobs/{hash}"))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    assert_eq!(&got[..], &photo[..]);
    // Uploading it again is a no-op.
    assert_eq!(patch(0, &photo[..10], &hash).status().as_u16(), 201);

    // Bytes that do not match their name are discarded.
    let r = http
        .patch(format!("{url}/v1/blobs/{wrong}"))
        .bearer_auth(&token)
        .header("upload-offset", "0")
        .header("upload-length", "5")
        .body(b"hello".to_vec())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    assert_eq!(
        http.get(format!("{url}/v1/blobs/{wrong}"))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    // A blob larger than the limit.
    let r = http
        .patch(format!("{url}/v1/blobs/{wrong}"))
        .bearer_auth(&token)
        .header("upload-offset", "0")
        .header("upload-length", (1u64 << 40).to_string())
        .body(b"x".to_vec())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    healthy(&url);
}
