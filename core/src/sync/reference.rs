//! Reference data that flows down from the server (it is administered there): the street
//! network, assignments, signboards and the district's public key. The server publishes these
//! rows; a device stores each in its own tables so it matches tracks and measures coverage
//! offline, exactly as with a network it imported itself.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::domain::Role;
use crate::error::{Error, Result};
use crate::streets::{Segment, to_e7};

pub use patrol_model::reference::*;

/// Every street of this store with its segments, as the server publishes them.
pub(crate) fn street_bundles(conn: &Connection) -> Result<Vec<StreetBundle>> {
    let mut segments = crate::streets::store::segments(conn)?;
    let mut out = Vec::new();
    for (street, key) in crate::streets::store::streets_with_keys(conn)? {
        let mine: Vec<Segment> = segments
            .iter()
            .filter(|s| s.street_id == street.id)
            .cloned()
            .collect();
        segments.retain(|s| s.street_id != street.id);
        out.push(StreetBundle {
            street,
            key,
            segments: mine,
        });
    }
    Ok(out)
}

fn bad(table: &str, e: impl std::fmt::Display) -> Error {
    Error::Protocol(format!("a {table} row from the server is not valid: {e}"))
}

/// Stores one reference row in its table. Rows whose street is not here yet are kept in
/// `reference_row` and placed by [`reconcile`] once it arrives.
pub(crate) fn apply_row(
    tx: &rusqlite::Connection,
    table: &str,
    body: &serde_json::Value,
    deleted: bool,
    now_ms: i64,
) -> Result<bool> {
    match table {
        "street" => {
            let b: StreetBundle =
                serde_json::from_value(body.clone()).map_err(|e| bad(table, e))?;
            let id = b.street.id.to_string();
            // The server is the authority: a street of the same key made here gives way.
            let stale: Option<String> = tx
                .query_row(
                    "SELECT id FROM street WHERE key = ?1 AND id <> ?2",
                    params![b.key, id],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(old) = stale {
                tx.execute("DELETE FROM signboard WHERE street_id = ?1", [&old])?;
                tx.execute("DELETE FROM street WHERE id = ?1", [&old])?;
            }
            tx.execute(
                "INSERT INTO street (id, key, name, subdistrict, class, length_m, source, imported_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'server', ?7)
                 ON CONFLICT (id) DO UPDATE SET key = excluded.key, name = excluded.name, subdistrict = excluded.subdistrict,
                     class = excluded.class, length_m = excluded.length_m, source = 'server', imported_at_ms = excluded.imported_at_ms",
                params![id, b.key, b.street.name, b.street.subdistrict, b.street.class, b.street.length_m, now_ms],
            )?;
            tx.execute("DELETE FROM segment WHERE street_id = ?1", [&id])?;
            for s in &b.segments {
                if s.points.len() < 2
                    || s.points
                        .iter()
                        .any(|(la, lo)| crate::geodesy::check_coordinates(*la, *lo).is_err())
                {
                    return Err(bad(table, format!("segment {} has a bad geometry", s.id)));
                }
                let e7: Vec<_> = s.points.iter().map(|(la, lo)| to_e7(*la, *lo)).collect();
                tx.execute(
                    "INSERT INTO segment (id, street_id, ordinal, length_m, geometry, source_ref) VALUES (?1, ?2, ?3, ?4, ?5, 'server')",
                    params![s.id.to_string(), id, s.ordinal, s.length_m, crate::streets::encode_geometry(&e7)],
                )?;
            }
            Ok(true)
        }
        "assignment" => {
            let a: AssignmentRow =
                serde_json::from_value(body.clone()).map_err(|e| bad(table, e))?;
            if deleted {
                tx.execute(
                    "DELETE FROM street_assignment WHERE street_id = ?1 AND user_id = ?2 AND role = ?3",
                    params![a.street_id, a.user_id, a.role.as_str()],
                )?;
                return Ok(true);
            }
            if !street_here(tx, &a.street_id)? {
                return Ok(false);
            }
            if a.role == Role::Chief {
                tx.execute(
                    "DELETE FROM street_assignment WHERE street_id = ?1 AND role = 'chief'",
                    [&a.street_id],
                )?;
            }
            tx.execute(
                "INSERT OR IGNORE INTO street_assignment (street_id, user_id, role, assigned_at_ms) VALUES (?1, ?2, ?3, ?4)",
                params![a.street_id, a.user_id, a.role.as_str(), now_ms],
            )?;
            Ok(true)
        }
        "signboard" => {
            let s: SignboardRow =
                serde_json::from_value(body.clone()).map_err(|e| bad(table, e))?;
            if deleted {
                tx.execute("DELETE FROM signboard WHERE id = ?1", [&s.id])?;
                return Ok(true);
            }
            if !street_here(tx, &s.street_id)? {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO signboard (id, street_id, lat, lon, payload, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (id) DO UPDATE SET street_id = excluded.street_id, lat = excluded.lat, lon = excluded.lon, payload = excluded.payload",
                params![s.id, s.street_id, s.lat, s.lon, s.payload, now_ms],
            )?;
            Ok(true)
        }
        "district_key" => {
            let k: DistrictKeyRow =
                serde_json::from_value(body.clone()).map_err(|e| bad(table, e))?;
            let bytes =
                crate::signboard::decode_public_key(&k.public_key).map_err(|e| bad(table, e))?;
            tx.execute(
                "INSERT OR IGNORE INTO district_key (public_key, secret_key, created_at_ms) VALUES (?1, NULL, ?2)",
                params![bytes.to_vec(), now_ms],
            )?;
            Ok(true)
        }
        // The district's rules, published with their versions: points rules join the store's
        // versions (a version is never rewritten), categories the catalog, and the report rules
        // wait in `reference_row` for the next report (`Store::published_report_rules`).
        "points_rule" => {
            let rule: crate::points::PointsRule =
                serde_json::from_value(body.clone()).map_err(|e| bad(table, e))?;
            rule.validate()?;
            tx.execute(
                "INSERT OR IGNORE INTO points_rule (id, version, kind, points, per_bag, daily_cap, valid_from_ms, description)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    rule.id,
                    rule.version,
                    rule.kind.as_str(),
                    rule.points,
                    rule.per_bag,
                    rule.daily_cap,
                    rule.valid_from_ms,
                    rule.description
                ],
            )?;
            Ok(true)
        }
        "category" => {
            let c: CategoryRow = serde_json::from_value(body.clone()).map_err(|e| bad(table, e))?;
            c.validate()?;
            tx.execute(
                "INSERT INTO issue_category (code, name_zh, name_en, due_hours) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en,
                                                   due_hours = excluded.due_hours",
                params![c.code, c.name_zh, c.name_en, c.due_hours],
            )?;
            Ok(true)
        }
        "rules" => {
            patrol_model::report::ReportRules::from_json(&body.to_string())?;
            Ok(true)
        }
        _ => Ok(true),
    }
}

fn street_here(tx: &rusqlite::Connection, street_id: &str) -> Result<bool> {
    Ok(tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM street WHERE id = ?1)",
        [street_id],
        |r| r.get(0),
    )?)
}

/// Places rows that arrived before their street.
pub(crate) fn reconcile(tx: &Transaction<'_>, now_ms: i64) -> Result<()> {
    let pending: Vec<(String, String, bool)> = {
        let mut stmt = tx.prepare(
            "SELECT r.tbl, r.body, r.deleted FROM reference_row r
              WHERE r.tbl IN ('assignment', 'signboard') AND r.deleted = 0
                AND EXISTS (SELECT 1 FROM street s WHERE s.id = json_extract(r.body, '$.street_id'))
                AND NOT EXISTS (SELECT 1 FROM street_assignment a
                                 WHERE r.tbl = 'assignment' AND a.street_id = json_extract(r.body, '$.street_id')
                                   AND a.user_id = json_extract(r.body, '$.user_id') AND a.role = json_extract(r.body, '$.role'))
                AND NOT EXISTS (SELECT 1 FROM signboard b WHERE r.tbl = 'signboard' AND b.id = json_extract(r.body, '$.id'))",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (table, body, deleted) in pending {
        let body: serde_json::Value = serde_json::from_str(&body).map_err(|e| bad(&table, e))?;
        apply_row(tx, &table, &body, deleted, now_ms)?;
    }
    Ok(())
}
