//! Signboard (公示牌) codes: what a QR code on a signboard holds and how it is checked.
//!
//! A code is `SP1.` followed by base64url of: version (1 byte), signboard id (16), street id
//! (16), and an Ed25519 signature (64) by the district's key over a domain tag and those 33
//! bytes. Anyone with the district's public key verifies a code, so a mistyped, damaged or forged
//! one is refused and nobody without the district's secret key can make one. The printed QR
//! holds a link ending in the code. The records of a signboard and a check-in are here too; storing
//! them is the phone store's (and the server's) business.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::Serialize;

use crate::domain::{CheckInId, PatrolId, SignboardId, StreetId};
pub use crate::error::SignboardError;

pub const PAYLOAD_VERSION: u8 = 1;
const PREFIX: &str = "SP";
/// Signed together with the code's bytes, so a signature made for anything else never verifies.
const DOMAIN_TAG: &[u8] = b"streetpatrol/signboard/v1";
const BODY_LEN: usize = 1 + 16 + 16;
const CODE_LEN: usize = BODY_LEN + 64;
/// Where the printed link points (the public report page); the code is its last path part.
pub const DEFAULT_LINK_BASE: &str = "https://streetpatrol.example/s/";

/// What a verified code says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SignboardCode {
    pub version: u8,
    pub signboard_id: SignboardId,
    pub street_id: StreetId,
}

/// Makes the code text for a signboard, signed with the district's key.
pub fn encode_code(key: &SigningKey, signboard: SignboardId, street: StreetId) -> String {
    let mut bytes = Vec::with_capacity(CODE_LEN);
    bytes.push(PAYLOAD_VERSION);
    bytes.extend_from_slice(signboard.0.as_bytes());
    bytes.extend_from_slice(street.0.as_bytes());
    let signature = key.sign(&signed_message(&bytes));
    bytes.extend_from_slice(&signature.to_bytes());
    format!(
        "{PREFIX}{PAYLOAD_VERSION}.{}",
        URL_SAFE_NO_PAD.encode(&bytes)
    )
}

fn signed_message(body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(DOMAIN_TAG.len() + body.len());
    m.extend_from_slice(DOMAIN_TAG);
    m.extend_from_slice(body);
    m
}

/// Reads and verifies a scanned code (the bare code or a link ending in it) against the
/// district's public keys.
pub fn decode_code(scanned: &str, keys: &[VerifyingKey]) -> Result<SignboardCode, SignboardError> {
    let text = scanned.trim();
    // A link: the code is the last path part (query or fragment aside).
    let last = text
        .split(['?', '#'])
        .next()
        .unwrap_or(text)
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(text);
    let Some(rest) = last.strip_prefix(PREFIX) else {
        return Err(SignboardError::Malformed(format!(
            "{text:?} does not start with {PREFIX}<version>."
        )));
    };
    let (version, body) = rest
        .split_once('.')
        .ok_or_else(|| SignboardError::Malformed("no '.' after the version".into()))?;
    let version: u8 = version
        .parse()
        .map_err(|_| SignboardError::Malformed(format!("bad version {version:?}")))?;
    if version != PAYLOAD_VERSION {
        return Err(if version > PAYLOAD_VERSION {
            SignboardError::UnsupportedVersion(version)
        } else {
            SignboardError::Malformed(format!("unknown version {version}"))
        });
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| SignboardError::BadSignature)?;
    if bytes.len() != CODE_LEN || bytes[0] != version {
        // A character dropped or added while typing: the check value cannot match.
        return Err(SignboardError::BadSignature);
    }
    if keys.is_empty() {
        return Err(SignboardError::NoDistrictKey);
    }
    let mut sig = [0u8; 64];
    sig.copy_from_slice(&bytes[BODY_LEN..]);
    let signature = Signature::from_bytes(&sig);
    let message = signed_message(&bytes[..BODY_LEN]);
    if !keys
        .iter()
        .any(|k| k.verify_strict(&message, &signature).is_ok())
    {
        return Err(SignboardError::BadSignature);
    }
    let id = |range: std::ops::Range<usize>| {
        let mut b = [0u8; 16];
        b.copy_from_slice(&bytes[range]);
        uuid::Uuid::from_bytes(b)
    };
    Ok(SignboardCode {
        version,
        signboard_id: SignboardId(id(1..17)),
        street_id: StreetId(id(17..33)),
    })
}

/// A district public key (base64url of 32 bytes) checked to be a valid Ed25519 key.
pub fn decode_public_key(public_key: &str) -> Result<[u8; 32], SignboardError> {
    let bad = || SignboardError::BadPublicKey(public_key.to_owned());
    let bytes: [u8; 32] = URL_SAFE_NO_PAD
        .decode(public_key.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(bad)?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| bad())?;
    Ok(bytes)
}

/// Link for a code.
pub fn link_for(payload: &str) -> String {
    format!("{DEFAULT_LINK_BASE}{payload}")
}

/// A signboard as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signboard {
    pub id: SignboardId,
    pub street_id: StreetId,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// The code (what the app reads).
    pub payload: String,
    /// The link printed as the QR code: the public report page, ending in the code.
    pub link: String,
    pub created_at_ms: i64,
}

/// A recorded check-in.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct CheckIn {
    pub id: CheckInId,
    pub patrol_id: PatrolId,
    pub signboard_id: SignboardId,
    pub street_id: StreetId,
    pub user_id: String,
    pub at_ms: i64,
    /// The patrol's fix used as the position (the latest kept one) when none was given.
    pub fix_seq: Option<i64>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub accuracy_m: Option<f64>,
    /// How far the position was from the signboard, when both are known.
    pub distance_to_signboard_m: Option<f64>,
}

/// What scanning a code led to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanOutcome {
    pub signboard_id: SignboardId,
    pub street_id: StreetId,
    pub street_name: Option<String>,
    /// Recorded when a chief or steward scans during an open patrol.
    pub check_in: Option<CheckIn>,
    /// Why no check-in was recorded, when none was.
    pub note: Option<String>,
}

/// A position given with a scan (the phone's fix at that moment).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScanPosition {
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
}
