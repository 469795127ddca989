//! The sync protocol's messages (protocol version 2), shared by the phone's client and the
//! server so both sides always agree. `docs/sync-protocol.md` describes the exchange; these
//! types are its JSON bodies. Binary payloads (Automerge changes) travel base64-encoded inside
//! JSON; GPS fixes travel in their own compact binary format ([`super::fixcodec`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::domain::{DeviceId, PatrolId, Role, SubdistrictId, UserId};

/// The protocol version this code speaks. A server refuses requests of another version with
/// 426 and a message saying which to use. Version 2 added merchant documents (a version 1 app
/// could not read them).
pub const PROTOCOL_VERSION: u32 = 2;

/// Largest JSON sync request the server accepts.
pub const MAX_SYNC_REQUEST_BYTES: usize = 16 * 1024 * 1024;
/// Largest binary fix batch the server accepts.
pub const MAX_FIX_BATCH_BYTES: usize = 16 * 1024 * 1024;
/// Largest photo (blob) the server stores.
pub const MAX_BLOB_BYTES: u64 = 25 * 1024 * 1024;
/// Largest chunk of a resumable blob upload.
pub const MAX_BLOB_CHUNK_BYTES: usize = 4 * 1024 * 1024;

/// What part of the district a user answers for; decides what their devices receive.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    District,
    Subdistrict(SubdistrictId),
    /// A single street (stewards and chiefs also get the streets they are assigned).
    Street(String),
    /// Nothing beyond the user's own records and what is assigned to them.
    Own,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::District => f.write_str("district"),
            Scope::Subdistrict(id) => write!(f, "subdistrict:{id}"),
            Scope::Street(id) => write!(f, "street:{id}"),
            Scope::Own => f.write_str("own"),
        }
    }
}

/// A scope written as `district`, `subdistrict:ID`, `street:ID` or `own` that is none of those.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a scope; expected district, subdistrict:ID, street:ID or own")]
pub struct ParseScopeError(pub String);

impl FromStr for Scope {
    type Err = ParseScopeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        match t.split_once(':') {
            None if t == "district" => Ok(Scope::District),
            None if t == "own" => Ok(Scope::Own),
            Some(("subdistrict", id)) => id
                .parse()
                .map(Scope::Subdistrict)
                .map_err(|_| ParseScopeError(s.into())),
            Some(("street", id)) if !id.trim().is_empty() => {
                Ok(Scope::Street(id.trim().to_owned()))
            }
            _ => Err(ParseScopeError(s.into())),
        }
    }
}

impl Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A person as the server knows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    pub id: UserId,
    pub name: String,
    pub role: Role,
    pub scope: Scope,
}

/// `POST /v1/enrol`: a phone trades a one-time enrolment code for a device token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrolRequest {
    pub code: String,
    /// A label for the device in the admin's lists ("王芳's phone").
    #[serde(default)]
    pub device_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrolResponse {
    pub device_id: DeviceId,
    /// The Automerge actor id (hex) this device must sign its changes with.
    pub actor_id: String,
    /// Bearer token for every later request. Shown once; the server keeps only its hash.
    pub token: String,
    pub user: UserRecord,
    pub server_time_ms: i64,
}

/// The kinds of CRDT documents that sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    Issue,
    /// Merchants and their frontage-duty inspections (protocol 2).
    Merchant,
}

impl DocKind {
    /// Every kind, in the order a device looks through them.
    pub const ALL: [DocKind; 2] = [DocKind::Issue, DocKind::Merchant];

    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Issue => "issue",
            DocKind::Merchant => "merchant",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "issue" => Some(DocKind::Issue),
            "merchant" => Some(DocKind::Merchant),
            _ => None,
        }
    }
}

/// Changes of one document the device has and the server may not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocUpload {
    pub kind: DocKind,
    pub id: String,
    /// Automerge changes, each one change's bytes.
    #[serde(with = "b64_list")]
    pub changes: Vec<Vec<u8>>,
    /// The device's heads after these changes (hex), so the server sends back only what it lacks.
    pub heads: Vec<String>,
}

/// A document's changes the device lacks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocDownload {
    pub kind: DocKind,
    pub id: String,
    /// Bytes for `Automerge::load_incremental` (a saved document or concatenated changes).
    #[serde(with = "b64")]
    pub data: Vec<u8>,
    /// The server's heads for the document after this (hex).
    pub heads: Vec<String>,
    /// Photos (SHA-256) the document refers to, so the device can fetch the originals.
    #[serde(default)]
    pub blobs: Vec<String>,
}

/// The server's heads for a document after taking an upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocHeads {
    pub id: String,
    pub heads: Vec<String>,
}

/// A patrol's header as it syncs (its fixes go separately).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatrolRecord {
    pub id: PatrolId,
    pub user_id: UserId,
    pub device_id: DeviceId,
    pub state: crate::domain::PatrolState,
    pub source: String,
    pub name: Option<String>,
    pub started_at_ms: i64,
    pub stopped_at_ms: Option<i64>,
    pub planned_streets: Vec<String>,
    /// Track metrics as of the stop.
    pub summary: Option<serde_json::Value>,
    /// Signboard check-ins made during the patrol (proof of presence).
    #[serde(default)]
    pub check_ins: Vec<serde_json::Value>,
}

/// An immutable record of a grow-only set (a litter pickup, a points ledger entry, a check-in):
/// made once on one device with a UUIDv7 id, so a record that arrives twice is the same record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerRecord {
    pub kind: String,
    pub id: String,
    pub user_id: UserId,
    pub body: serde_json::Value,
}

/// A row of reference data (streets, segments, assignments, signboards, users) that flows from
/// the server down to devices. `deleted` rows are tombstones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceRow {
    pub table: String,
    pub id: String,
    #[serde(default)]
    pub deleted: bool,
    pub body: serde_json::Value,
}

/// How far the server holds a patrol's fixes: every seq below `next_seq` is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixMark {
    pub patrol_id: PatrolId,
    pub next_seq: i64,
}

/// `POST /v1/sync`: one round trip carrying many documents each way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncRequest {
    pub protocol: u32,
    /// The change-feed position up to which this device has stored everything it was sent.
    pub cursor: u64,
    #[serde(default)]
    pub docs: Vec<DocUpload>,
    #[serde(default)]
    pub patrols: Vec<PatrolRecord>,
    #[serde(default)]
    pub records: Vec<LedgerRecord>,
    /// Most feed entries wanted in the response (the server caps it too); the rest comes with
    /// `more: true` and the next request.
    #[serde(default)]
    pub max_entries: Option<u32>,
    /// Documents this device needs whole again (it could not apply what it was sent).
    #[serde(default)]
    pub refetch: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SyncResponse {
    pub protocol: u32,
    /// The feed position this response brings the device to.
    pub cursor: u64,
    /// More entries wait past `cursor`.
    pub more: bool,
    /// The server's heads of each uploaded document.
    pub accepted: Vec<DocHeads>,
    pub docs: Vec<DocDownload>,
    pub reference: Vec<ReferenceRow>,
    pub patrols: Vec<PatrolRecord>,
    pub records: Vec<LedgerRecord>,
    /// Where the server stands on the fixes of this device's patrols and of the patrols it
    /// may download.
    pub fix_marks: Vec<FixMark>,
    /// Documents asked for again (`refetch`), whole.
    #[serde(default)]
    pub refetched: Vec<DocDownload>,
    pub server_time_ms: i64,
}

/// The body of every error response: a stable machine code and a message for people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    pub message: String,
}

/// Changes as base64 inside JSON.
pub mod b64 {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        STANDARD
            .decode(s.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

/// A list of byte strings as base64 strings inside JSON.
pub mod b64_list {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(list: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(list.len()))?;
        for b in list {
            seq.serialize_element(&STANDARD.encode(b))?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        let list = Vec::<std::borrow::Cow<'de, str>>::deserialize(d)?;
        list.iter()
            .map(|s| {
                STANDARD
                    .decode(s.as_bytes())
                    .map_err(serde::de::Error::custom)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_print() {
        for s in [
            "district",
            "own",
            "street:abc",
            "subdistrict:0192f0c4-7c1e-7d2a-9b1e-3f5c2a1d4e6f",
        ] {
            assert_eq!(s.parse::<Scope>().unwrap().to_string(), s);
        }
        for bad in ["", "street:", "subdistrict:nope", "planet:earth"] {
            assert!(bad.parse::<Scope>().is_err(), "{bad}");
        }
    }

    #[test]
    fn doc_upload_round_trips_with_base64() {
        let up = DocUpload {
            kind: DocKind::Issue,
            id: "x".into(),
            changes: vec![vec![0, 1, 255], vec![]],
            heads: vec![],
        };
        let json = serde_json::to_string(&up).unwrap();
        assert!(json.contains("\"AAH/\""), "{json}");
        assert_eq!(serde_json::from_str::<DocUpload>(&json).unwrap(), up);
        assert!(serde_json::from_str::<DocUpload>(&json.replace("AAH/", "!!")).is_err());
    }
}
