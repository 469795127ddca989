//! Signboards (公示牌) and their QR codes.
//!
//! A code is `SP1.` followed by base64url of: version (1 byte), signboard id (16), street id
//! (16), and an Ed25519 signature (64) by the district's key over a domain tag and those 33
//! bytes. Phones verify with the district's public key only, so a mistyped, damaged or forged
//! code is refused and nobody without the district's secret key can make one. The printed QR
//! holds a link ending in the code, so a resident's camera app opens the report page of the
//! street, while the StreetPatrol app reads the code from the same link.
//!
//! A chief or steward scanning a signboard during a patrol records a check-in (proof of
//! presence) with the fix of that moment.

use ed25519_dalek::{SigningKey, VerifyingKey};
use rusqlite::{Connection, OptionalExtension, params};

use crate::domain::{CheckInId, PatrolId, SignboardId, StreetId};
use crate::error::{Error, Result};
use crate::geodesy::haversine_distance_m;
use patrol_model::reference::SiteRow;
pub use patrol_model::signboard::*;

/// The code format this app writes and reads.
/// Stores a check-in of the patrol with row id `row`; with `ignore_existing` one already there
/// (the same check-in received again by sync) is left as it is.
pub(crate) fn insert_check_in(
    conn: &Connection,
    row: i64,
    c: &CheckIn,
    ignore_existing: bool,
) -> Result<()> {
    let verb = if ignore_existing {
        "INSERT OR IGNORE"
    } else {
        "INSERT"
    };
    conn.execute(
        &format!(
            "{verb} INTO check_in (id, patrol_row, signboard_id, street_id, user_id, at_ms, fix_seq, lat, lon, accuracy_m,
                                   distance_to_signboard_m)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        ),
        params![
            c.id.to_string(),
            row,
            c.signboard_id.to_string(),
            c.street_id.to_string(),
            c.user_id,
            c.at_ms,
            c.fix_seq,
            c.lat,
            c.lon,
            c.accuracy_m,
            c.distance_to_signboard_m
        ],
    )?;
    Ok(())
}

/// The district public keys this store trusts.
pub(crate) fn district_public_keys(conn: &Connection) -> Result<Vec<VerifyingKey>> {
    let mut stmt =
        conn.prepare_cached("SELECT public_key FROM district_key ORDER BY created_at_ms")?;
    let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
    let mut out = Vec::new();
    for r in rows {
        let bytes: [u8; 32] = r?
            .try_into()
            .map_err(|_| Error::InvalidConfig("a stored district key is damaged".into()))?;
        out.push(
            VerifyingKey::from_bytes(&bytes)
                .map_err(|_| Error::InvalidConfig("a stored district key is damaged".into()))?,
        );
    }
    Ok(out)
}

/// The district signing key. A store with no key at all makes one (this device becomes the
/// issuer); a store holding only public keys cannot issue signboards.
pub(crate) fn district_signing_key(conn: &Connection, now_ms: i64) -> Result<SigningKey> {
    let secret: Option<Vec<u8>> = conn
        .query_row("SELECT secret_key FROM district_key WHERE secret_key IS NOT NULL ORDER BY created_at_ms DESC LIMIT 1", [], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(secret) = secret {
        let bytes: [u8; 32] = secret
            .try_into()
            .map_err(|_| Error::InvalidConfig("the stored district key is damaged".into()))?;
        return Ok(SigningKey::from_bytes(&bytes));
    }
    if !district_public_keys(conn)?.is_empty() {
        return Err(SignboardError::NotIssuer.into());
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| {
        Error::InvalidConfig(format!("no system randomness for a district key: {e}"))
    })?;
    let key = SigningKey::from_bytes(&seed);
    conn.execute(
        "INSERT INTO district_key (public_key, secret_key, created_at_ms) VALUES (?1, ?2, ?3)",
        params![
            key.verifying_key().to_bytes().to_vec(),
            seed.to_vec(),
            now_ms
        ],
    )?;
    Ok(key)
}

/// Trusts a district public key, as a phone does after sync.
pub(crate) fn trust_district_key(conn: &Connection, key: &[u8; 32], now_ms: i64) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO district_key (public_key, secret_key, created_at_ms) VALUES (?1, NULL, ?2)",
        params![key.to_vec(), now_ms],
    )?;
    Ok(())
}

/// The district's public address as received in sync (`reference_row`, table `site`), under
/// which signboard links point; `None` until the district sets one.
pub(crate) fn public_url(conn: &Connection) -> Result<Option<String>> {
    let body: Option<String> = conn
        .query_row(
            "SELECT body FROM reference_row WHERE tbl = ?1 AND id = ?2 AND deleted = 0",
            [SiteRow::TABLE, SiteRow::ID],
            |r| r.get(0),
        )
        .optional()?;
    Ok(body
        .and_then(|b| serde_json::from_str::<SiteRow>(&b).ok())
        .and_then(|s| check_public_url(&s.public_url).ok()))
}

/// Stores a new signboard of `street` signed with `key`, at a position if known.
pub(crate) fn insert_signboard(
    conn: &Connection,
    key: &SigningKey,
    street: StreetId,
    position: Option<(f64, f64)>,
    now_ms: i64,
) -> Result<Signboard> {
    let id = SignboardId::new();
    let payload = encode_code(key, id, street);
    conn.execute(
        "INSERT INTO signboard (id, street_id, lat, lon, payload, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id.to_string(), street.to_string(), position.map(|p| p.0), position.map(|p| p.1), payload, now_ms],
    )?;
    Ok(Signboard {
        id,
        street_id: street,
        lat: position.map(|p| p.0),
        lon: position.map(|p| p.1),
        link: link_for(public_url(conn)?.as_deref(), &payload),
        payload,
        created_at_ms: now_ms,
    })
}

/// The signboards of a street, oldest first.
pub(crate) fn signboards_of(conn: &Connection, street: StreetId) -> Result<Vec<Signboard>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, street_id, lat, lon, payload, created_at_ms FROM signboard WHERE street_id = ?1 ORDER BY created_at_ms, id",
    )?;
    let rows = stmt.query_map([street.to_string()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get::<_, String>(4)?,
            r.get(5)?,
        ))
    })?;
    let base = public_url(conn)?;
    let mut out = Vec::new();
    for row in rows {
        let (id, street_id, lat, lon, payload, created_at_ms) = row?;
        out.push(Signboard {
            id: id.parse()?,
            street_id: street_id.parse()?,
            lat,
            lon,
            link: link_for(base.as_deref(), &payload),
            payload,
            created_at_ms,
        });
    }
    Ok(out)
}

/// Records a check-in by `user_id` at the signboard of a verified `code` during open patrol
/// `patrol`, with `position` (or the patrol's latest kept fix) and its distance to the
/// signboard where both are known.
pub(crate) fn record_check_in(
    conn: &Connection,
    patrol: PatrolId,
    code: &SignboardCode,
    user_id: String,
    position: Option<ScanPosition>,
    now_ms: i64,
) -> Result<CheckIn> {
    let row: i64 = conn.query_row(
        "SELECT row_id FROM patrol WHERE id = ?1",
        [patrol.to_string()],
        |r| r.get(0),
    )?;
    let (fix_seq, lat, lon, accuracy_m) = match position {
        Some(p) => (None, Some(p.lat), Some(p.lon), p.accuracy_m),
        None => conn
            .query_row(
                "SELECT seq, lat, lon, accuracy_m FROM fix WHERE patrol_row = ?1 AND verdict = 'kept' ORDER BY seq DESC LIMIT 1",
                [row],
                |r| Ok((Some(r.get::<_, i64>(0)?), Some(r.get(1)?), Some(r.get(2)?), r.get(3)?)),
            )
            .optional()?
            .unwrap_or((None, None, None, None)),
    };
    let board: Option<(Option<f64>, Option<f64>)> = conn
        .query_row(
            "SELECT lat, lon FROM signboard WHERE id = ?1",
            [code.signboard_id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let distance_to_signboard_m = match (board, lat, lon) {
        (Some((Some(blat), Some(blon))), Some(lat), Some(lon)) => {
            Some(haversine_distance_m(lat, lon, blat, blon))
        }
        _ => None,
    };
    let check_in = CheckIn {
        id: CheckInId::new(),
        patrol_id: patrol,
        signboard_id: code.signboard_id,
        street_id: code.street_id,
        user_id,
        at_ms: now_ms,
        fix_seq,
        lat,
        lon,
        accuracy_m,
        distance_to_signboard_m,
    };
    insert_check_in(conn, row, &check_in, false)?;
    Ok(check_in)
}

/// Check-ins recorded on a patrol, in order.
pub(crate) fn check_ins(conn: &Connection, patrol: PatrolId) -> Result<Vec<CheckIn>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.id, c.signboard_id, c.street_id, c.user_id, c.at_ms, c.fix_seq, c.lat, c.lon, c.accuracy_m,
                c.distance_to_signboard_m
           FROM check_in c JOIN patrol p ON p.row_id = c.patrol_row WHERE p.id = ?1 ORDER BY c.at_ms, c.id",
    )?;
    let rows = stmt.query_map([patrol.to_string()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
            r.get(8)?,
            r.get(9)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (
            id,
            board,
            street,
            user_id,
            at_ms,
            fix_seq,
            lat,
            lon,
            accuracy_m,
            distance_to_signboard_m,
        ) = row?;
        out.push(CheckIn {
            id: id.parse()?,
            patrol_id: patrol,
            signboard_id: board.parse()?,
            street_id: street.parse()?,
            user_id,
            at_ms,
            fix_seq,
            lat,
            lon,
            accuracy_m,
            distance_to_signboard_m,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn codes_verify_and_tampering_is_refused() {
        let (board, street) = (SignboardId::new(), StreetId::new());
        let code = encode_code(&key(1), board, street);
        assert!(code.starts_with("SP1.") && code.len() < 140, "{code}");
        let keys = [key(1).verifying_key()];
        let read = decode_code(&code, &keys).unwrap();
        assert_eq!((read.signboard_id, read.street_id), (board, street));
        assert_eq!(
            decode_code(&link_for(Some("http://127.0.0.1:8080"), &code), &keys).unwrap(),
            read,
            "the printed link reads too"
        );

        // Every single-character typo is refused.
        let body_start = 4;
        for i in body_start..code.len() {
            let mut chars: Vec<char> = code.chars().collect();
            chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
            let typo: String = chars.into_iter().collect();
            assert!(decode_code(&typo, &keys).is_err(), "typo at {i} accepted");
        }
        assert_eq!(
            decode_code(&code[..code.len() - 1], &keys),
            Err(SignboardError::BadSignature)
        );
        // Signed by someone else: forged.
        let forged = encode_code(&key(2), board, street);
        assert_eq!(
            decode_code(&forged, &keys),
            Err(SignboardError::BadSignature)
        );
        assert_eq!(decode_code(&code, &[]), Err(SignboardError::NoDistrictKey));
        assert!(matches!(
            decode_code("SP9.abc", &keys),
            Err(SignboardError::UnsupportedVersion(9))
        ));
        assert!(matches!(
            decode_code("hello", &keys),
            Err(SignboardError::Malformed(_))
        ));
    }
}
