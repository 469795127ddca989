//! Immutable records in the sync exchange: litter pickups and points ledger entries, made once
//! on one device with a UUIDv7 id. Uploads are this user's records the server has not
//! confirmed; records from others (a supervisor's view of stewards) are stored as they are.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};

use super::wire::LedgerRecord;
use crate::error::{Error, Result};
use crate::store::DeviceIdentity;

/// `me`'s pickups and points entries the server has not confirmed.
pub(crate) fn records_to_upload(
    conn: &Connection,
    me: &DeviceIdentity,
    limit: usize,
) -> Result<Vec<LedgerRecord>> {
    let mut out = Vec::new();
    let mut pickups = conn.prepare(
        "SELECT id, at_ms, lat, lon, bags, items, street_id, photo_sha256, note, device_id FROM litter_pickup p
          WHERE user_id = ?1 AND NOT EXISTS (SELECT 1 FROM sync_record s WHERE s.kind = 'pickup' AND s.id = p.id)
            AND NOT EXISTS (SELECT 1 FROM sync_rejected x WHERE x.kind = 'pickup' AND x.id = p.id)
          ORDER BY id LIMIT ?2",
    )?;
    let rows = pickups.query_map(params![me.user_id.to_string(), limit as i64], |r| {
        Ok((
            r.get::<_, String>(0)?,
            json!({
                "id": r.get::<_, String>(0)?, "user_id": me.user_id, "device_id": r.get::<_, String>(9)?,
                "at_ms": r.get::<_, i64>(1)?, "lat": r.get::<_, f64>(2)?, "lon": r.get::<_, f64>(3)?,
                "bags": r.get::<_, i64>(4)?, "items": r.get::<_, i64>(5)?, "street_id": r.get::<_, Option<String>>(6)?,
                "photo_sha256": r.get::<_, Option<String>>(7)?, "note": r.get::<_, Option<String>>(8)?,
            }),
        ))
    })?;
    for row in rows {
        let (id, body) = row?;
        out.push(LedgerRecord {
            kind: "pickup".into(),
            id,
            user_id: me.user_id,
            body,
        });
    }
    let mut entries = conn.prepare(
        "SELECT id, at_ms, day, kind, source_id, rule_id, rule_version, points, note FROM points_entry e
          WHERE user_id = ?1 AND NOT EXISTS (SELECT 1 FROM sync_record s WHERE s.kind = 'points' AND s.id = e.id)
            AND NOT EXISTS (SELECT 1 FROM sync_rejected x WHERE x.kind = 'points' AND x.id = e.id)
            -- Hours of a patrol go up once the server holds all its fixes: it checks them
            -- against the duration it computes itself.
            AND (e.kind <> 'patrol_hour' OR EXISTS (
                  SELECT 1 FROM patrol p JOIN sync_patrol sp ON sp.patrol_row = p.row_id
                   WHERE p.id = e.source_id AND sp.uploaded_header IS NOT NULL
                     AND sp.server_next_seq >= (SELECT COALESCE(MAX(seq) + 1, 0) FROM fix WHERE patrol_row = p.row_id)))
          ORDER BY id LIMIT ?2",
    )?;
    let rows = entries.query_map(params![me.user_id.to_string(), limit as i64], |r| {
        Ok((
            r.get::<_, String>(0)?,
            json!({
                "id": r.get::<_, String>(0)?, "user_id": me.user_id, "at_ms": r.get::<_, i64>(1)?,
                "day": r.get::<_, String>(2)?, "kind": r.get::<_, String>(3)?, "source_id": r.get::<_, String>(4)?,
                "rule_id": r.get::<_, String>(5)?, "rule_version": r.get::<_, i64>(6)?, "points": r.get::<_, i64>(7)?,
                "note": r.get::<_, Option<String>>(8)?,
            }),
        ))
    })?;
    for row in rows {
        let (id, body) = row?;
        out.push(LedgerRecord {
            kind: "points".into(),
            id,
            user_id: me.user_id,
            body,
        });
    }
    Ok(out)
}

fn field<'a>(body: &'a Value, name: &str) -> Result<&'a Value> {
    body.get(name)
        .ok_or_else(|| Error::Protocol(format!("a record from the server has no {name}")))
}

fn text(body: &Value, name: &str) -> Result<String> {
    field(body, name)?
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Error::Protocol(format!("record field {name} is not text")))
}

fn int(body: &Value, name: &str) -> Result<i64> {
    field(body, name)?
        .as_i64()
        .ok_or_else(|| Error::Protocol(format!("record field {name} is not a number")))
}

/// A pickup's count of bags or items, within what a pickup may claim.
fn count(body: &Value, name: &str) -> Result<i64> {
    let n = int(body, name)?;
    if (0..=i64::from(crate::points::MAX_PICKUP_COUNT)).contains(&n) {
        Ok(n)
    } else {
        Err(Error::Protocol(format!(
            "record field {name} is {n}, outside 0 to {}",
            crate::points::MAX_PICKUP_COUNT
        )))
    }
}

fn real(body: &Value, name: &str) -> Result<f64> {
    field(body, name)?
        .as_f64()
        .ok_or_else(|| Error::Protocol(format!("record field {name} is not a number")))
}

fn opt_text(body: &Value, name: &str) -> Option<String> {
    body.get(name).and_then(|v| v.as_str()).map(str::to_owned)
}

/// Most points (either way) a received ledger entry may carry; the server accepts far less.
const MAX_POINTS_RECEIVED: i64 = 1_000_000;

/// Stores a record received from the server (idempotent: a record is immutable).
pub(crate) fn store_record(tx: &Connection, r: &LedgerRecord) -> Result<()> {
    let b = &r.body;
    match r.kind.as_str() {
        "pickup" => {
            // The photo itself may not be on this device; the record is still worth having.
            let photo = opt_text(b, "photo_sha256").filter(|sha| {
                tx.query_row("SELECT 1 FROM photo WHERE sha256 = ?1", [sha], |_| Ok(()))
                    .optional()
                    .ok()
                    .flatten()
                    .is_some()
            });
            tx.execute(
                "INSERT OR IGNORE INTO litter_pickup (id, user_id, device_id, at_ms, lat, lon, bags, items, street_id, photo_sha256, note)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    r.id,
                    r.user_id.to_string(),
                    text(b, "device_id")?,
                    int(b, "at_ms")?,
                    real(b, "lat")?,
                    real(b, "lon")?,
                    count(b, "bags")?,
                    count(b, "items")?,
                    opt_text(b, "street_id"),
                    photo,
                    opt_text(b, "note")
                ],
            )?;
        }
        "points" => {
            let rule = (text(b, "rule_id")?, int(b, "rule_version")?);
            let known: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM points_rule WHERE id = ?1 AND version = ?2)",
                params![rule.0, rule.1],
                |r| r.get(0),
            )?;
            if !known {
                // Earned under a rule this device does not have (a newer app): nothing to
                // check it against, so it is not stored here.
                return Ok(());
            }
            // Sums of points must stay far from overflow whatever an old server let through.
            let points = int(b, "points")?;
            if !(-MAX_POINTS_RECEIVED..=MAX_POINTS_RECEIVED).contains(&points) {
                return Err(Error::Protocol(format!(
                    "points entry {} carries {points} points, more than any rule gives",
                    r.id
                )));
            }
            tx.execute(
                "INSERT OR IGNORE INTO points_entry (id, user_id, at_ms, day, kind, source_id, rule_id, rule_version, points, note)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    r.id,
                    r.user_id.to_string(),
                    int(b, "at_ms")?,
                    text(b, "day")?,
                    text(b, "kind")?,
                    text(b, "source_id")?,
                    rule.0,
                    rule.1,
                    int(b, "points")?,
                    opt_text(b, "note")
                ],
            )?;
        }
        _ => {}
    }
    Ok(())
}
