//! Streets in the local store: importing a draft (one transaction: a bad file writes nothing),
//! listing, resolving a street by id or name, assignments of chiefs and stewards, and loading the
//! whole network.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::domain::{Role, SegmentId, StreetId};
use crate::error::{Error, Result};
use crate::streets::geojson::network_geojson;
use crate::streets::{
    E7, NetworkDraft, Segment, StoredStreet, Street, StreetImportOptions, StreetImportReport,
    StreetsError, from_e7, plan_street,
};

/// Streets stored between two progress reports of an import.
pub const STREET_PROGRESS_EVERY: usize = 256;

/// A street as listed, with who answers for it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreetInfo {
    #[serde(flatten)]
    pub street: Street,
    pub key: String,
    pub segments: u64,
    /// The chief's user id.
    pub chief: Option<String>,
    pub stewards: Vec<String>,
    pub signboards: u64,
}

/// A user answering for a street.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assignment {
    pub street_id: StreetId,
    pub user_id: String,
    pub role: Role,
    pub assigned_at_ms: i64,
}

/// Encodes an [`E7`] polyline as the stored BLOB.
pub(crate) fn encode_geometry(points: &[E7]) -> Vec<u8> {
    let mut out = Vec::with_capacity(points.len() * 8);
    for (lat, lon) in points {
        out.extend_from_slice(&lat.to_le_bytes());
        out.extend_from_slice(&lon.to_le_bytes());
    }
    out
}

/// Decodes a stored geometry BLOB; `None` if it is not a whole number of vertices.
pub(crate) fn decode_geometry(bytes: &[u8]) -> Option<Vec<E7>> {
    if !bytes.len().is_multiple_of(8) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(8)
            .map(|c| {
                let lat = i32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                let lon = i32::from_le_bytes([c[4], c[5], c[6], c[7]]);
                (lat, lon)
            })
            .collect(),
    )
}

/// Stores a draft network inside the caller's transaction (see
/// [`crate::Store::import_streets_with_cancel`]): streets are matched to stored ones by key, their
/// lines split into segments no longer than `options.max_segment_m`. Reports progress every
/// [`STREET_PROGRESS_EVERY`] streets and gives up with [`Error::Interrupted`] once `cancel` is
/// set; the caller reports the end.
pub(crate) fn import_draft(
    tx: &Transaction<'_>,
    draft: &NetworkDraft,
    options: &StreetImportOptions,
    now: i64,
    progress: &mut dyn FnMut(u64, u64),
    cancel: &AtomicBool,
) -> Result<StreetImportReport> {
    let mut report = StreetImportReport::start(draft, options);
    let total = draft.streets.len() as u64;
    {
        let mut find = tx.prepare_cached("SELECT id FROM street WHERE key = ?1")?;
        let mut insert_street = tx.prepare_cached(
            "INSERT INTO street (id, key, name, subdistrict, class, length_m, source, imported_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        let mut update_street = tx.prepare_cached(
            "UPDATE street SET name = ?2, subdistrict = ?3, class = ?4, length_m = ?5, source = ?6, imported_at_ms = ?7
             WHERE id = ?1",
        )?;
        let mut delete_segments = tx.prepare_cached("DELETE FROM segment WHERE street_id = ?1")?;
        let mut old_segments =
            tx.prepare_cached("SELECT ordinal, geometry, id FROM segment WHERE street_id = ?1")?;
        let mut insert_segment = tx.prepare_cached(
            "INSERT INTO segment (id, street_id, ordinal, length_m, geometry, source_ref) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for (done, s) in draft.streets.iter().enumerate() {
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::Interrupted);
            }
            if done > 0 && done % STREET_PROGRESS_EVERY == 0 {
                progress(done as u64, total);
            }
            // What is stored under the street's key, for the plan to keep its ids.
            let existing: Option<String> = find.query_row([&s.key], |r| r.get(0)).optional()?;
            let stored = match existing {
                Some(id) => {
                    let mut segments = Vec::new();
                    let rows = old_segments.query_map([&id], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, Vec<u8>>(1)?,
                            r.get::<_, String>(2)?,
                        ))
                    })?;
                    for row in rows {
                        let (ordinal, geometry, segment_id) = row?;
                        // A row this code cannot read again gets a new id, as if changed.
                        if let (Ok(ordinal), Some(points), Ok(segment_id)) = (
                            u32::try_from(ordinal),
                            decode_geometry(&geometry),
                            segment_id.parse::<SegmentId>(),
                        ) {
                            segments.push((ordinal, points, segment_id));
                        }
                    }
                    Some(StoredStreet {
                        id: id.parse()?,
                        segments,
                    })
                }
                None => None,
            };
            let planned = plan_street(s, options.max_segment_m, stored);
            let id = planned.id.to_string();
            if planned.is_new {
                insert_street.execute(params![
                    id,
                    s.key,
                    s.name,
                    s.subdistrict,
                    planned.class,
                    planned.length_m,
                    draft.format,
                    now
                ])?;
            } else {
                update_street.execute(params![
                    id,
                    s.name,
                    s.subdistrict,
                    planned.class,
                    planned.length_m,
                    draft.format,
                    now
                ])?;
                delete_segments.execute([&id])?;
            }
            for seg in &planned.segments {
                insert_segment.execute(params![
                    seg.id.to_string(),
                    id,
                    i64::from(seg.ordinal),
                    seg.length_m,
                    encode_geometry(&seg.points),
                    seg.source_ref
                ])?;
            }
            report.count(&planned);
        }
    }
    if cancel.load(Ordering::Relaxed) {
        return Err(Error::Interrupted);
    }
    Ok(report)
}

/// Makes `user_id` the chief of a street (replacing the previous chief, whose id is
/// returned) or adds them as one of its stewards.
pub(crate) fn assign(
    tx: &Transaction<'_>,
    street: StreetId,
    user_id: &str,
    role: Role,
    now: i64,
) -> Result<Option<String>> {
    let mut previous = None;
    if role == Role::Chief {
        previous = tx
            .query_row(
                "SELECT user_id FROM street_assignment WHERE street_id = ?1 AND role = 'chief'",
                [street.to_string()],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .filter(|p| p != user_id);
        tx.execute(
            "DELETE FROM street_assignment WHERE street_id = ?1 AND role = 'chief'",
            [street.to_string()],
        )?;
    }
    tx.execute(
        "INSERT OR IGNORE INTO street_assignment (street_id, user_id, role, assigned_at_ms) VALUES (?1, ?2, ?3, ?4)",
        params![street.to_string(), user_id, role.as_str(), now],
    )?;
    Ok(previous)
}

/// Removes a user's assignment to a street; true if there was one.
pub(crate) fn unassign(
    conn: &Connection,
    street: StreetId,
    user_id: &str,
    role: Role,
) -> Result<bool> {
    let n = conn.execute(
        "DELETE FROM street_assignment WHERE street_id = ?1 AND user_id = ?2 AND role = ?3",
        params![street.to_string(), user_id.trim(), role.as_str()],
    )?;
    Ok(n > 0)
}

/// Every street, ordered by name (unnamed last), with its assignments.
pub(crate) fn streets(conn: &Connection) -> Result<Vec<StreetInfo>> {
    let mut stmt = conn.prepare(
        "SELECT s.id, s.name, s.subdistrict, s.class, s.length_m, s.key,
                (SELECT COUNT(*) FROM segment g WHERE g.street_id = s.id),
                (SELECT COUNT(*) FROM signboard b WHERE b.street_id = s.id)
           FROM street s ORDER BY s.name IS NULL, s.name, s.key",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            read_street_row(r)?,
            r.get::<_, String>(5)?,
            r.get::<_, i64>(6)?,
            r.get::<_, i64>(7)?,
        ))
    })?;
    let mut assignments: HashMap<StreetId, Vec<Assignment>> = HashMap::new();
    for a in self::assignments(conn)? {
        assignments.entry(a.street_id).or_default().push(a);
    }
    let mut out = Vec::new();
    for row in rows {
        let (street, key, segments, signboards) = row?;
        let street = street?;
        let mine = assignments.remove(&street.id).unwrap_or_default();
        out.push(StreetInfo {
            chief: mine
                .iter()
                .find(|a| a.role == Role::Chief)
                .map(|a| a.user_id.clone()),
            stewards: mine
                .iter()
                .filter(|a| a.role == Role::Steward)
                .map(|a| a.user_id.clone())
                .collect(),
            street,
            key,
            segments: segments as u64,
            signboards: signboards as u64,
        });
    }
    Ok(out)
}

/// One street by id.
pub(crate) fn street(conn: &Connection, id: StreetId) -> Result<Street> {
    conn.query_row(
        "SELECT id, name, subdistrict, class, length_m FROM street WHERE id = ?1",
        [id.to_string()],
        read_street_row,
    )
    .optional()?
    .ok_or_else(|| StreetsError::UnknownStreet(id.to_string()))?
}

/// Whether this store has a street network.
pub(crate) fn has_streets(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row("SELECT EXISTS (SELECT 1 FROM street)", [], |r| r.get(0))?)
}

/// The street a record names, for the phone's own reports (issues, pickups, planned
/// streets): with a street network, an id of it or a name only one street has (a name
/// stored as an id would reach nobody); without one (a phone before its first sync), the
/// reference as given. `None` for nothing or blanks.
pub(crate) fn street_of_record(conn: &Connection, given: Option<&str>) -> Result<Option<String>> {
    let Some(given) = given.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if !has_streets(conn)? {
        return Ok(Some(given.to_owned()));
    }
    Ok(Some(resolve_street(conn, given)?.to_string()))
}

/// The street a user means: an id, or a name that only one street has. Refuses a name
/// several streets have, listing them, and anything in a store without streets.
pub(crate) fn resolve_street(conn: &Connection, reference: &str) -> Result<StreetId> {
    let reference = reference.trim();
    if let Ok(id) = reference.parse::<StreetId>() {
        let found: Option<String> = conn
            .query_row(
                "SELECT id FROM street WHERE id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        if found.is_some() {
            return Ok(id);
        }
    }
    let mut stmt = conn.prepare_cached(
        "SELECT id, subdistrict, class FROM street WHERE name = ?1 ORDER BY subdistrict, id",
    )?;
    let rows = stmt
        .query_map([reference], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // Each candidate with what tells them apart.
    let ids: Vec<String> = rows
        .iter()
        .map(|(id, sub, class)| match sub {
            Some(sub) => format!(
                "{id} ({}, {})",
                crate::text::for_terminal(sub),
                crate::text::for_terminal(class)
            ),
            None => format!("{id} ({})", crate::text::for_terminal(class)),
        })
        .collect();
    match rows.len() {
        0 if !has_streets(conn)? => Err(StreetsError::NoNetwork.into()),
        0 => Err(StreetsError::UnknownStreet(reference.to_owned()).into()),
        1 => Ok(rows[0].0.parse()?),
        n => Err(StreetsError::AmbiguousStreet {
            name: reference.to_owned(),
            count: n,
            ids: ids.join(", "),
        }
        .into()),
    }
}

/// Every assignment in the store.
pub(crate) fn assignments(conn: &Connection) -> Result<Vec<Assignment>> {
    query_assignments(
        conn,
        "SELECT street_id, user_id, role, assigned_at_ms FROM street_assignment ORDER BY street_id, role, user_id",
        [],
    )
}

/// The streets a user answers for, as chief or steward. Assignments made to the user's
/// name (as a supervisor may type it before ids are known) count too, when this store knows
/// the user.
pub(crate) fn assignments_of(conn: &Connection, user_id: &str) -> Result<Vec<Assignment>> {
    query_assignments(
        conn,
        "SELECT street_id, user_id, role, assigned_at_ms FROM street_assignment
          WHERE user_id = ?1 OR user_id IN (SELECT name FROM user WHERE id = ?1)
          ORDER BY street_id",
        [user_id.trim()],
    )
}

fn query_assignments<P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    p: P,
) -> Result<Vec<Assignment>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(p, |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (street, user_id, role, at) = row?;
        out.push(Assignment {
            street_id: street.parse()?,
            user_id,
            role: role.parse()?,
            assigned_at_ms: at,
        });
    }
    Ok(out)
}

/// Every segment, WGS-84, ordered by street and ordinal.
pub(crate) fn segments(conn: &Connection) -> Result<Vec<Segment>> {
    let mut stmt =
        conn.prepare("SELECT id, street_id, ordinal, length_m, geometry FROM segment ORDER BY street_id, ordinal")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, f64>(3)?,
            r.get::<_, Vec<u8>>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, street, ordinal, length_m, blob) = row?;
        let points = decode_geometry(&blob)
            .filter(|p| p.len() >= 2)
            .ok_or_else(|| {
                Error::InvalidConfig(format!("segment {id} has a damaged geometry in the store"))
            })?;
        out.push(Segment {
            id: id.parse()?,
            street_id: street.parse()?,
            ordinal: ordinal as u32,
            points: points.into_iter().map(from_e7).collect(),
            length_m,
        });
    }
    Ok(out)
}

/// Every street with its key, for export and for loading the network.
pub(crate) fn streets_with_keys(conn: &Connection) -> Result<Vec<(Street, String)>> {
    let mut stmt = conn
        .prepare("SELECT id, name, subdistrict, class, length_m, key FROM street ORDER BY rowid")?;
    let rows = stmt.query_map([], |r| Ok((read_street_row(r)?, r.get::<_, String>(5)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (s, key) = row?;
        out.push((s?, key));
    }
    Ok(out)
}

/// The whole network as GeoJSON (one feature per segment).
pub(crate) fn export_streets_geojson(conn: &Connection) -> Result<serde_json::Value> {
    let streets = streets_with_keys(conn)?;
    if streets.is_empty() {
        return Err(StreetsError::NoNetwork.into());
    }
    Ok(network_geojson(&streets, &segments(conn)?))
}

/// Counts of streets and segments and the total length, for summaries.
pub(crate) fn street_totals(conn: &Connection) -> Result<(u64, u64, f64)> {
    Ok(conn.query_row(
        "SELECT (SELECT COUNT(*) FROM street), (SELECT COUNT(*) FROM segment), (SELECT COALESCE(SUM(length_m), 0) FROM segment)",
        [],
        |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64, r.get(2)?)),
    )?)
}

/// Reads (id, name, subdistrict, class, length_m) into a street; a bad id is an error value.
fn read_street_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Street>> {
    let id: String = r.get(0)?;
    Ok(id
        .parse::<StreetId>()
        .map_err(Error::from)
        .map(|id| Street {
            id,
            name: r.get(1).ok().flatten(),
            subdistrict: r.get(2).ok().flatten(),
            class: r.get(3).unwrap_or_default(),
            length_m: r.get(4).unwrap_or_default(),
        }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Store, StoreConfig};
    use crate::streets::{DraftLine, DraftStreet, to_e7};

    /// `n` short named streets side by side, 0.001 degrees (~85 m) apart.
    fn many_streets(n: usize) -> NetworkDraft {
        let streets = (0..n)
            .map(|i| {
                let lon = 116.2 + i as f64 * 0.001;
                DraftStreet {
                    key: format!("street {i}"),
                    name: Some(format!("街 {i}")),
                    subdistrict: None,
                    lines: vec![DraftLine {
                        points: vec![to_e7(39.9, lon), to_e7(39.901, lon)],
                        class: "residential".into(),
                        source_ref: format!("way/{i}"),
                    }],
                }
            })
            .collect();
        NetworkDraft {
            format: "geojson".into(),
            streets,
            lines_read: n,
            lines_skipped: 0,
            missing_node_refs: 0,
        }
    }

    #[test]
    fn a_cancelled_street_import_stores_nothing_and_progress_reaches_the_total() {
        let draft = many_streets(1000);
        let mut s = Store::open_in_memory(StoreConfig::default()).unwrap();
        let cancel = AtomicBool::new(false);
        let mut reports = vec![];
        let err = s
            .import_streets_with_cancel(
                &draft,
                &StreetImportOptions::default(),
                &mut |done, total| {
                    reports.push((done, total));
                    cancel.store(true, Ordering::Relaxed);
                },
                &cancel,
            )
            .unwrap_err();
        assert!(matches!(err, Error::Interrupted), "{err:?}");
        assert_eq!(
            reports,
            vec![(STREET_PROGRESS_EVERY as u64, 1000)],
            "stopped at the next street"
        );
        assert_eq!(
            s.street_totals().unwrap(),
            (0, 0, 0.0),
            "the rolled-back import left nothing"
        );

        let mut reports = vec![];
        let report = s
            .import_streets_with_cancel(
                &draft,
                &StreetImportOptions::default(),
                &mut |d, t| reports.push((d, t)),
                &AtomicBool::new(false),
            )
            .unwrap();
        assert_eq!(report.streets, 1000);
        assert_eq!(
            reports,
            vec![(256, 1000), (512, 1000), (768, 1000), (1000, 1000)]
        );
        assert_eq!(s.street_totals().unwrap().0, 1000);
    }

    #[test]
    fn geometry_round_trips() {
        let pts = vec![
            to_e7(39.9, 116.2),
            to_e7(-33.9, -70.6),
            (i32::MAX, i32::MIN),
        ];
        assert_eq!(decode_geometry(&encode_geometry(&pts)).unwrap(), pts);
        assert_eq!(decode_geometry(&[1, 2, 3]), None);
    }
}
