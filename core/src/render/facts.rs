//! What pictures read from a phone's store: the open issues a map draws and the times issues
//! were found and closed that the trends count. Functions over a connection; the drawing is
//! done from these alone.

use rusqlite::{Connection, params};

use crate::error::Result;
use crate::render::OpenIssue;
use crate::report::period::Period;

/// Open issues reported in `period` (or all), newest first.
pub(crate) fn open_issues(conn: &Connection, period: Option<&Period>) -> Result<Vec<OpenIssue>> {
    let (from, to) = period.map_or((i64::MIN, i64::MAX), |p| (p.from_ms, p.to_ms));
    let mut stmt = conn.prepare_cached(
        "SELECT id, category, lat, lon, reported_at_ms, due_at_ms FROM issue
          WHERE is_open = 1 AND reported_at_ms >= ?1 AND reported_at_ms < ?2 ORDER BY reported_at_ms DESC, id",
    )?;
    let rows = stmt.query_map(params![from, to], |r| {
        Ok(OpenIssue {
            id: r.get(0)?,
            category: r.get(1)?,
            lat: r.get(2)?,
            lon: r.get(3)?,
            reported_at_ms: r.get(4)?,
            due_at_ms: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// When each issue reported in `[from_ms, to_ms)` was reported.
pub(crate) fn reported_between(conn: &Connection, from_ms: i64, to_ms: i64) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT reported_at_ms FROM issue WHERE reported_at_ms >= ?1 AND reported_at_ms < ?2",
    )?;
    let rows = stmt.query_map(params![from_ms, to_ms], |r| r.get::<_, i64>(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// When issues were closed (verified, cancelled or marked duplicate) in `[from_ms, to_ms)`,
/// from the timeline of applied events.
pub(crate) fn closed_between(conn: &Connection, from_ms: i64, to_ms: i64) -> Result<Vec<i64>> {
    crate::issues::projection::ensure_timelines(conn)?;
    let mut stmt = conn.prepare_cached(
        "SELECT at_ms FROM issue_timeline WHERE kind IN ('verify', 'cancel', 'duplicate_of') AND at_ms >= ?1 AND at_ms < ?2",
    )?;
    let rows = stmt.query_map(params![from_ms, to_ms], |r| r.get::<_, i64>(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
