//! The materialised projection of issue documents: one `issue` row (status, category, street,
//! assignees, location, times, due date) per document, rewritten from the fold after every local
//! edit or merge in the same transaction, and the indexed queries that lists and counts run.
//!
//! "Overdue" is not stored: it depends on when you ask. The row holds `due_at_ms` and an index
//! on it over open issues, so "overdue now" is a range scan.

use rusqlite::{Connection, params, params_from_iter, types::Value as SqlValue};
use serde::Serialize;

use crate::domain::{IssueId, IssueStatus};
use crate::error::Result;
use crate::geodesy::haversine_distance_m;
use crate::issues::catalog::Catalog;
use crate::issues::model::{Assignee, IssueDoc};
use crate::issues::workflow::IssueState;

/// Metres per degree of latitude (mean Earth radius), for bounding boxes.
const M_PER_DEG_LAT: f64 = 111_195.08;

/// When the current round of an issue is due.
pub fn due_at_ms(doc: &IssueDoc, state: &IssueState, catalog: &Catalog) -> i64 {
    state
        .round_started_at_ms
        .saturating_add(catalog.due_ms(&doc.category))
}

/// Rewrites the projection row of the document in `doc_row`.
pub(crate) fn write(
    conn: &Connection,
    doc_row: i64,
    doc: &IssueDoc,
    state: &IssueState,
    catalog: &Catalog,
) -> Result<()> {
    let assignees: Vec<String> = state.assignees.iter().map(|a| a.to_string()).collect();
    conn.prepare_cached(
        "INSERT INTO issue (doc_row, id, status, is_open, category, description, street_id, segment_id, lat, lon,
                            reporter_id, reporter_role, assignees, has_conflict, round, event_count, photo_count,
                            comment_count, reported_at_ms, updated_at_ms, due_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)
         ON CONFLICT (doc_row) DO UPDATE SET
            status = excluded.status, is_open = excluded.is_open, category = excluded.category,
            description = excluded.description, street_id = excluded.street_id, segment_id = excluded.segment_id,
            lat = excluded.lat, lon = excluded.lon, reporter_id = excluded.reporter_id,
            reporter_role = excluded.reporter_role, assignees = excluded.assignees,
            has_conflict = excluded.has_conflict, round = excluded.round, event_count = excluded.event_count,
            photo_count = excluded.photo_count, comment_count = excluded.comment_count,
            reported_at_ms = excluded.reported_at_ms, updated_at_ms = excluded.updated_at_ms,
            due_at_ms = excluded.due_at_ms",
    )?
    .execute(params![
        doc_row,
        doc.id.to_string(),
        state.status.as_str(),
        state.status.is_open(),
        doc.category,
        doc.description,
        doc.location.street_id,
        doc.location.segment_id,
        doc.location.lat,
        doc.location.lon,
        doc.reporter.user_id.to_string(),
        doc.reporter.role.as_str(),
        assignees.join(" "),
        state.conflict.is_some(),
        state.round,
        doc.events.len() as i64,
        doc.photos.len() as i64,
        doc.comments.len() as i64,
        state.reported_at_ms,
        state.updated_at_ms,
        due_at_ms(doc, state, catalog),
    ])?;
    conn.prepare_cached("DELETE FROM issue_assignee WHERE doc_row = ?1")?
        .execute([doc_row])?;
    let mut ins = conn.prepare_cached(
        "INSERT OR IGNORE INTO issue_assignee (assignee, doc_row) VALUES (?1, ?2)",
    )?;
    for a in &assignees {
        ins.execute(params![a, doc_row])?;
    }
    write_timeline(conn, doc_row, state)
}

/// Rewrites the timeline of applied events of the document in `doc_row` (what reports read to
/// know an issue's state at the end of a past period).
fn write_timeline(conn: &Connection, doc_row: i64, state: &IssueState) -> Result<()> {
    conn.prepare_cached("DELETE FROM issue_timeline WHERE doc_row = ?1")?
        .execute([doc_row])?;
    let mut ins = conn.prepare_cached(
        "INSERT INTO issue_timeline (doc_row, ord, kind, at_ms, round, by_user) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (ord, e) in state.applied().enumerate() {
        ins.execute(params![
            doc_row,
            ord as i64,
            e.kind.as_str(),
            e.at.wall_ms,
            e.round,
            e.by.to_string()
        ])?;
    }
    conn.prepare_cached("DELETE FROM issue_timeline_pending WHERE doc_row = ?1")?
        .execute([doc_row])?;
    Ok(())
}

/// Builds the timelines of issues stored before timelines existed (the schema step marks them
/// pending), folding each document once. Cheap when none are pending: one indexed look.
#[cfg(feature = "reports")]
pub(crate) fn ensure_timelines(conn: &Connection) -> Result<()> {
    let pending: Vec<(i64, String)> = conn
        .prepare_cached("SELECT p.doc_row, d.id FROM issue_timeline_pending p JOIN issue_doc d ON d.row_id = p.doc_row")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    if pending.is_empty() {
        return Ok(());
    }
    let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
    for (row, id) in pending {
        let id: IssueId = id.parse()?;
        if let Some(stored) = super::persist::load(&tx, id)? {
            let state = super::workflow::fold(&super::doc::read(&stored.doc)?);
            write_timeline(&tx, row, &state)?;
        }
    }
    tx.execute("DELETE FROM issue_timeline_pending", [])?;
    tx.commit()?;
    Ok(())
}

/// Which issues to list. Every filter is optional; they combine with AND.
#[derive(Debug, Clone, Default)]
pub struct IssueQuery {
    pub status: Option<IssueStatus>,
    /// Only issues someone still has to act on.
    pub open_only: bool,
    pub street_id: Option<String>,
    pub category: Option<String>,
    pub assignee: Option<Assignee>,
    /// Within `radius_m` of (lat, lon); results come nearest first.
    pub near: Option<(f64, f64, f64)>,
    /// Only open issues whose due time is before this instant (ms).
    pub overdue_at_ms: Option<i64>,
    /// At most this many (newest first, or nearest / most overdue first).
    pub limit: Option<u32>,
}

/// One issue as lists show it: the projection row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IssueSummary {
    pub id: IssueId,
    pub status: IssueStatus,
    pub category: String,
    pub description: String,
    pub street_id: Option<String>,
    pub segment_id: Option<String>,
    pub lat: f64,
    pub lon: f64,
    pub reporter_id: String,
    pub assignees: Vec<String>,
    pub has_conflict: bool,
    pub round: u32,
    pub event_count: u32,
    pub reported_at_ms: i64,
    pub updated_at_ms: i64,
    pub due_at_ms: i64,
    /// Due time passed while still open (as of the query's time).
    pub overdue: bool,
    /// Distance from the query point, for `near` queries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_m: Option<f64>,
}

const COLUMNS: &str = "i.id, i.status, i.category, i.description, i.street_id, i.segment_id, i.lat, i.lon,
                       i.reporter_id, i.assignees, i.has_conflict, i.round, i.event_count, i.reported_at_ms,
                       i.updated_at_ms, i.due_at_ms, i.is_open";

fn build(q: &IssueQuery, select: &str) -> (String, Vec<SqlValue>) {
    let mut sql = format!("SELECT {select} FROM issue i");
    let mut wh: Vec<String> = Vec::new();
    let mut args: Vec<SqlValue> = Vec::new();
    let arg = |v: SqlValue, args: &mut Vec<SqlValue>| {
        args.push(v);
        format!("?{}", args.len())
    };
    if let Some(a) = &q.assignee {
        let p = arg(SqlValue::Text(a.to_string()), &mut args);
        sql.push_str(&format!(
            " JOIN issue_assignee ia ON ia.doc_row = i.doc_row AND ia.assignee = {p}"
        ));
    }
    if let Some(s) = q.status {
        wh.push(format!(
            "i.status = {}",
            arg(SqlValue::Text(s.as_str().into()), &mut args)
        ));
    }
    if q.open_only || q.overdue_at_ms.is_some() {
        wh.push("i.is_open = 1".into());
    }
    if let Some(s) = &q.street_id {
        wh.push(format!(
            "i.street_id = {}",
            arg(SqlValue::Text(s.clone()), &mut args)
        ));
    }
    if let Some(c) = &q.category {
        wh.push(format!(
            "i.category = {}",
            arg(SqlValue::Text(c.clone()), &mut args)
        ));
    }
    if let Some(now) = q.overdue_at_ms {
        wh.push(format!(
            "i.due_at_ms < {}",
            arg(SqlValue::Integer(now), &mut args)
        ));
    }
    if let Some((lat, lon, r)) = q.near {
        let dlat = r / M_PER_DEG_LAT;
        let dlon = r / (M_PER_DEG_LAT * lat.to_radians().cos().abs().max(0.01));
        wh.push(format!(
            "i.lat BETWEEN {} AND {}",
            arg(SqlValue::Real(lat - dlat), &mut args),
            arg(SqlValue::Real(lat + dlat), &mut args)
        ));
        wh.push(format!(
            "i.lon BETWEEN {} AND {}",
            arg(SqlValue::Real(lon - dlon), &mut args),
            arg(SqlValue::Real(lon + dlon), &mut args)
        ));
    }
    if !wh.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&wh.join(" AND "));
    }
    (sql, args)
}

/// The issues matching `q`; `now_ms` decides which are overdue.
pub(crate) fn list(conn: &Connection, q: &IssueQuery, now_ms: i64) -> Result<Vec<IssueSummary>> {
    let (mut sql, args) = build(q, COLUMNS);
    if q.overdue_at_ms.is_some() {
        sql.push_str(" ORDER BY i.due_at_ms, i.id");
    } else if q.near.is_none() {
        sql.push_str(" ORDER BY i.reported_at_ms DESC, i.id");
    }
    // A near query is cut after the exact distance filter, not here.
    if let (Some(n), None) = (q.limit, q.near) {
        sql.push_str(&format!(" LIMIT {n}"));
    }
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), |r| {
        let assignees: String = r.get(9)?;
        let due: i64 = r.get(15)?;
        let open: bool = r.get(16)?;
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            IssueSummary {
                id: IssueId::default(),
                status: IssueStatus::Reported,
                category: r.get(2)?,
                description: r.get(3)?,
                street_id: r.get(4)?,
                segment_id: r.get(5)?,
                lat: r.get(6)?,
                lon: r.get(7)?,
                reporter_id: r.get(8)?,
                assignees: assignees.split_whitespace().map(str::to_owned).collect(),
                has_conflict: r.get(10)?,
                round: r.get(11)?,
                event_count: r.get(12)?,
                reported_at_ms: r.get(13)?,
                updated_at_ms: r.get(14)?,
                due_at_ms: due,
                overdue: open && due < now_ms,
                distance_m: None,
            },
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, status, mut s) = row?;
        s.id = id.parse()?;
        s.status = status.parse()?;
        out.push(s);
    }
    if let Some((lat, lon, r)) = q.near {
        for s in &mut out {
            s.distance_m = Some(haversine_distance_m(lat, lon, s.lat, s.lon));
        }
        out.retain(|s| s.distance_m.is_some_and(|d| d <= r));
        out.sort_by(|a, b| {
            a.distance_m
                .unwrap_or(0.0)
                .total_cmp(&b.distance_m.unwrap_or(0.0))
                .then(a.id.cmp(&b.id))
        });
        if let Some(n) = q.limit {
            out.truncate(n as usize);
        }
    }
    Ok(out)
}

/// How many issues match `q` (a `near` query counts its bounding box, not the circle).
pub(crate) fn count(conn: &Connection, q: &IssueQuery) -> Result<u64> {
    if q.near.is_some() {
        return Ok(list(
            conn,
            &IssueQuery {
                limit: None,
                ..q.clone()
            },
            0,
        )?
        .len() as u64);
    }
    let (sql, args) = build(q, "COUNT(*)");
    let n: i64 = conn
        .prepare_cached(&sql)?
        .query_row(params_from_iter(args), |r| r.get(0))?;
    Ok(n as u64)
}
