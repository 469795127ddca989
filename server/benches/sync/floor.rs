//! Where the time of an initial sync goes: the server's part (the same requests over raw HTTP,
//! answers decoded but not stored) and the phone's part (the same data stored into a fresh store
//! with no network at all). Both measured on the same data in the same run.

use std::net::SocketAddr;
use std::time::Instant;

use patrol_core::sync::fixcodec::decode_fixes;
use patrol_core::sync::wire::{PROTOCOL_VERSION, SyncRequest, SyncResponse};
use patrol_core::{Role, Store, StoreConfig};

use crate::serverproc::http_post;

/// Every page of a fresh device's document exchange, as `POST /v1/sync` over raw HTTP (no gzip),
/// decoded into `SyncResponse`s but not stored. Returns (milliseconds, documents, body bytes).
pub fn server_docs(addr: SocketAddr, token: &str) -> (f64, u64, u64) {
    let t = Instant::now();
    let (mut cursor, mut docs, mut bytes) = (0u64, 0u64, 0u64);
    loop {
        let req = SyncRequest {
            protocol: PROTOCOL_VERSION,
            cursor,
            docs: vec![],
            patrols: vec![],
            records: vec![],
            max_entries: Some(2_000),
            refetch: vec![],
        };
        let body = serde_json::to_vec(&req).expect("request");
        let (status, answer) =
            http_post(addr, "/v1/sync", token, "application/json", &body).expect("POST /v1/sync");
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
        bytes += (body.len() + answer.len()) as u64;
        let resp: SyncResponse = serde_json::from_slice(&answer).expect("a sync response");
        docs += resp.docs.len() as u64;
        cursor = resp.cursor;
        if !resp.more {
            break;
        }
    }
    (t.elapsed().as_secs_f64() * 1e3, docs, bytes)
}

/// Every fix of `patrols` (id, next seq) through `POST /v1/fixes/download` over raw HTTP (no
/// gzip), in the phone's request sizes, frames decoded but not stored. Returns (milliseconds,
/// fixes).
pub fn server_fixes(
    addr: SocketAddr,
    token: &str,
    patrols: &[(patrol_core::PatrolId, i64)],
) -> (f64, u64) {
    let t = Instant::now();
    let mut from: Vec<(patrol_core::PatrolId, i64, i64)> =
        patrols.iter().map(|(p, end)| (*p, 0, *end)).collect();
    let mut total = 0u64;
    while !from.is_empty() {
        let body = serde_json::json!({
            "patrols": from.iter().map(|(p, s, _)| serde_json::json!({ "patrol_id": p, "from_seq": s })).collect::<Vec<_>>(),
            "max_fixes": 200_000,
        });
        let (status, answer) = http_post(
            addr,
            "/v1/fixes/download",
            token,
            "application/json",
            &serde_json::to_vec(&body).expect("json"),
        )
        .expect("POST /v1/fixes/download");
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
        let mut pos = 0usize;
        let mut got = 0u64;
        while pos + 20 <= answer.len() {
            let id = uuid::Uuid::from_slice(&answer[pos..pos + 16]).expect("patrol id");
            let len = u32::from_le_bytes([
                answer[pos + 16],
                answer[pos + 17],
                answer[pos + 18],
                answer[pos + 19],
            ]) as usize;
            let fixes = decode_fixes(&answer[pos + 20..pos + 20 + len]).expect("a fix batch");
            if let (Some(entry), Some(last)) =
                (from.iter_mut().find(|(p, _, _)| p.0 == id), fixes.last())
            {
                entry.1 = last.seq + 1;
            }
            got += fixes.len() as u64;
            pos += 20 + len;
        }
        total += got;
        if got == 0 {
            break;
        }
        from.retain(|(_, next, end)| next < end);
    }
    (t.elapsed().as_secs_f64() * 1e3, total)
}

/// Each patrol a store holds fixes of, with its next seq.
pub fn patrol_ends(store: &Store) -> Vec<(patrol_core::PatrolId, i64)> {
    let mut stmt = store
        .connection()
        .prepare("SELECT p.id, MAX(f.seq) + 1 FROM patrol p JOIN fix f ON f.patrol_row = p.row_id GROUP BY p.id")
        .expect("query");
    stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .expect("rows")
        .map(|r| {
            let (id, end) = r.expect("row");
            (id.parse().expect("patrol id"), end)
        })
        .collect()
}

/// The same documents merged into a fresh store, no network: the phone's share of a fresh sync.
pub fn phone_docs(dir: &std::path::Path, documents: &[Vec<u8>]) -> f64 {
    let mut store = Store::open(dir.join("floor.db"), StoreConfig::default()).expect("store");
    store
        .init_device("floor", Role::Supervisor, None)
        .expect("device");
    let t = Instant::now();
    // In pages as a sync brings them, each page in one transaction.
    for page in documents.chunks(2_000) {
        store
            .import_issues(page.iter().map(Vec::as_slice))
            .expect("import");
    }
    t.elapsed().as_secs_f64() * 1e3
}

/// The same fixes stored into a store that holds the patrols' headers (a documents-only synced
/// phone), no network: the phone's share of the fixes part. `source` holds the fixes.
pub fn phone_fixes(target: &mut Store, source: &Store) -> (f64, u64) {
    let mut elapsed = 0.0;
    let mut n = 0u64;
    for p in source.list_patrols().expect("patrols") {
        let fixes = source.fixes(p.id).expect("fixes");
        let t = Instant::now();
        target
            .store_synced_fixes(p.id, &fixes)
            .expect("store fixes");
        elapsed += t.elapsed().as_secs_f64() * 1e3;
        n += fixes.len() as u64;
    }
    (elapsed, n)
}
