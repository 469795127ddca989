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
/// The path under the district's public address where a signboard's page lives: the printed
/// link is `{public_url}/s/{code}`.
pub const PAGE_PATH: &str = "/s/";

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

/// What a signboard's QR code holds: the link to its public page under the district's public
/// address (`https://HOST/s/SP1.…`) when the district has set one, else the bare
/// code (which the app reads all the same).
pub fn link_for(public_url: Option<&str>, payload: &str) -> String {
    match public_url {
        Some(base) => format!("{}{PAGE_PATH}{payload}", base.trim_end_matches('/')),
        None => payload.to_owned(),
    }
}

/// Checks the district's public address (where residents' phones reach the server): `http(s)`,
/// a host, an optional port and path; no credentials, query, fragment, spaces or control
/// characters. Returns it without a trailing slash.
pub fn check_public_url(url: &str) -> Result<String, SignboardError> {
    let bad = |why: &str| SignboardError::BadPublicUrl(format!("{url:?}: {why}"));
    let url = url.trim();
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("spaces or control characters"));
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| bad("it must start with https:// (or http:// on a closed network)"))?;
    if rest.contains(['?', '#']) {
        return Err(bad("no query or fragment"));
    }
    let authority = rest.split('/').next().unwrap_or("");
    if authority.contains('@') {
        return Err(bad("no credentials"));
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(inner) => {
            let (host, after) = inner.split_once(']').ok_or_else(|| bad("bad host"))?;
            if host.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(bad("bad host"));
            }
            match after {
                "" => (host, None),
                p => (
                    host,
                    Some(p.strip_prefix(':').ok_or_else(|| bad("bad port"))?),
                ),
            }
        }
        None => match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    if port.is_some_and(|p| p.parse::<u16>().ok().filter(|p| *p != 0).is_none()) {
        return Err(bad("bad port"));
    }
    let plain = host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if host.is_empty() || !(plain || host.parse::<std::net::Ipv6Addr>().is_ok()) {
        return Err(bad("bad host"));
    }
    if url.len() > 200 {
        return Err(bad("longer than 200 characters"));
    }
    Ok(url.trim_end_matches('/').to_owned())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_is_the_page_under_the_public_address_or_the_bare_code() {
        assert_eq!(
            link_for(Some("https://10.0.0.5/"), "SP1.abc"),
            "https://10.0.0.5/s/SP1.abc"
        );
        assert_eq!(
            link_for(Some("http://10.0.0.5:8080/jiexiang"), "SP1.abc"),
            "http://10.0.0.5:8080/jiexiang/s/SP1.abc"
        );
        assert_eq!(link_for(None, "SP1.abc"), "SP1.abc");
    }

    #[test]
    fn a_public_address_is_checked() {
        for good in [
            "https://10.0.0.5",
            "https://localhost/",
            "http://10.0.0.5:8080/jiexiang/",
            "http://[::1]:3000",
        ] {
            let ok = check_public_url(good).unwrap_or_else(|e| panic!("{good}: {e}"));
            assert!(!ok.ends_with('/'), "{ok}");
        }
        for bad in [
            "10.0.0.5",
            "ftp://localhost",
            "https://",
            "https://user:pw@localhost",
            "https://localhost/?q=1",
            "https://localhost/#a",
            "https://localhost:0",
            "https://localhost:99999",
            "https://local host",
            "https://[::1",
            "https://[nope]:80",
            "https://local_host",
        ] {
            assert!(check_public_url(bad).is_err(), "{bad} was taken");
        }
    }
}
