//! Patrols in SQLite: the patrol rows, their events, planned streets and fixes, as functions
//! over a connection or the caller's transaction.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{
    BatchOutcome, PatrolInfo, PatrolSource, STORED_FIX_COLUMNS, advance, filter_judge,
    read_stored_fix, to_wgs84,
};
use crate::domain::{FixVerdict, NewFix, PatrolId, PatrolState, StoredFix, UserId};
use crate::error::{Error, Result};
use crate::store::{DeviceIdentity, RecorderState};
use crate::track::{FilterConfig, SamplingAdvice, TrackStats};

/// Starts patrol `id` for `me` (refused while another is open on the device), meant to cover
/// `planned_streets`.
pub(crate) fn start(
    tx: &Transaction<'_>,
    me: &DeviceIdentity,
    id: PatrolId,
    planned_streets: &[Option<String>],
    now_ms: i64,
) -> Result<()> {
    if let Some(open) = open_patrol(tx, &me.device_id.to_string())? {
        return Err(Error::PatrolAlreadyActive(open));
    }
    let row = insert_patrol(
        tx,
        id,
        &me.user_id,
        &me.device_id.to_string(),
        PatrolState::Recording,
        PatrolSource::Recorded,
        None,
        now_ms,
    )?;
    for street in planned_streets.iter().flatten() {
        tx.execute(
            "INSERT OR IGNORE INTO patrol_street (patrol_row, street_id) VALUES (?1, ?2)",
            params![row, street],
        )?;
    }
    insert_event(tx, row, "start", now_ms)
}

/// Moves patrol `id` from state `from` to `to` (`action` names it), starting a new track
/// segment when `new_segment`; returns the patrol's row id.
pub(crate) fn transition(
    tx: &Transaction<'_>,
    id: PatrolId,
    action: &'static str,
    (from, to): (PatrolState, PatrolState),
    new_segment: bool,
    now_ms: i64,
) -> Result<i64> {
    let (row, state) = patrol_row_state(tx, id)?;
    if state != from {
        return Err(Error::PatrolTransition { id, action, state });
    }
    tx.execute(
        "UPDATE patrol SET state = ?2, current_segment = current_segment + ?3 WHERE row_id = ?1",
        params![row, to.as_str(), new_segment as i64],
    )?;
    insert_event(tx, row, action, now_ms)?;
    Ok(row)
}

/// Marks the patrol with row id `row` stopped, with its track summary.
pub(crate) fn record_stop(
    tx: &Transaction<'_>,
    row: i64,
    stats: &TrackStats,
    now_ms: i64,
) -> Result<()> {
    let summary = serde_json::to_string(stats).expect("stats serialise");
    tx.execute(
        "UPDATE patrol SET state = 'stopped', stopped_at_ms = ?2, summary_json = ?3 WHERE row_id = ?1",
        params![row, now_ms, summary],
    )?;
    insert_event(tx, row, "stop", now_ms)
}

/// Stores `fixes` after those the recorder `work` has seen, judging each, and moves `work`
/// past them.
pub(crate) fn insert_fixes(
    tx: &Transaction<'_>,
    config: &FilterConfig,
    work: &mut RecorderState,
    fixes: &[NewFix],
) -> Result<BatchOutcome> {
    let first_seq = work.next_seq;
    let mut kept = 0u64;
    let mut sampling = work.detector.advice();
    let mut stmt = tx.prepare_cached(INSERT_FIX)?;
    for f in fixes {
        let f = to_wgs84(f.clone());
        let verdict = filter_judge(config, work, &f);
        bind_insert(
            &mut stmt,
            work.row,
            work.next_seq,
            work.segment,
            &f,
            verdict,
        )?;
        kept += (verdict == FixVerdict::Kept) as u64;
        let advice = advance(work, &f, verdict);
        sampling = SamplingAdvice {
            changed: sampling.changed || advice.changed,
            ..advice
        };
    }
    Ok(BatchOutcome {
        first_seq,
        count: fixes.len() as u64,
        kept,
        sampling,
    })
}

/// A patrol's details.
pub(crate) fn patrol(conn: &Connection, id: PatrolId) -> Result<PatrolInfo> {
    let row = conn
        .query_row(
            &format!("{SELECT_PATROL} WHERE p.id = ?1"),
            [id.to_string()],
            read_patrol,
        )
        .optional()?
        .ok_or(Error::UnknownPatrol(id))?;
    finish_patrol_info(conn, row)
}

/// Patrols in this store, newest first.
pub(crate) fn list_patrols(conn: &Connection) -> Result<Vec<PatrolInfo>> {
    let mut stmt = conn.prepare(&format!(
        "{SELECT_PATROL} ORDER BY p.started_at_ms DESC, p.row_id DESC"
    ))?;
    let rows = stmt
        .query_map([], read_patrol)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|r| finish_patrol_info(conn, r))
        .collect()
}

fn finish_patrol_info(conn: &Connection, raw: RawPatrol) -> Result<PatrolInfo> {
    let mut stmt = conn.prepare_cached(
        "SELECT street_id FROM patrol_street WHERE patrol_row = ?1 ORDER BY street_id",
    )?;
    let planned_streets = stmt
        .query_map([raw.row], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(PatrolInfo {
        id: raw.id.parse()?,
        user_id: raw.user_id.parse()?,
        device_id: raw.device_id.parse()?,
        state: raw.state.parse()?,
        source: PatrolSource::parse(&raw.source),
        origin: raw.origin.as_deref().map(PatrolSource::parse),
        name: raw.name,
        started_at_ms: raw.started_at_ms,
        stopped_at_ms: raw.stopped_at_ms,
        planned_streets,
        summary: raw.summary_json.and_then(|s| serde_json::from_str(&s).ok()),
    })
}

/// Every fix of a patrol, in order, with its verdict.
pub(crate) fn fixes(conn: &Connection, id: PatrolId) -> Result<Vec<StoredFix>> {
    let (row, _) = patrol_row_state(conn, id)?;
    load_fixes(conn, row)
}

/// Counts of a patrol's fixes by verdict.
pub(crate) fn verdict_counts(conn: &Connection, id: PatrolId) -> Result<BTreeMap<FixVerdict, u64>> {
    let (row, _) = patrol_row_state(conn, id)?;
    let mut stmt =
        conn.prepare("SELECT verdict, COUNT(*) FROM fix WHERE patrol_row = ?1 GROUP BY verdict")?;
    let rows = stmt.query_map([row], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = BTreeMap::new();
    for r in rows {
        let (v, n) = r?;
        out.insert(v.parse()?, n as u64);
    }
    Ok(out)
}

/// Every fix of the patrol with row id `row`, in order.
pub(crate) fn load_fixes(conn: &Connection, row: i64) -> Result<Vec<StoredFix>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {STORED_FIX_COLUMNS} FROM fix WHERE patrol_row = ?1 ORDER BY seq"
    ))?;
    let rows = stmt.query_map([row], read_stored_fix)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(crate) const INSERT_FIX: &str =
    "INSERT INTO fix (patrol_row, seq, segment, time_ms, lat, lon, accuracy_m, altitude_m,
                                           speed_mps, bearing_deg, provider, is_mock, verdict)
                          VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

pub(crate) fn insert_fix(
    conn: &Connection,
    row: i64,
    seq: i64,
    segment: i64,
    fix: &NewFix,
    verdict: FixVerdict,
) -> Result<()> {
    let mut stmt = conn.prepare_cached(INSERT_FIX)?;
    bind_insert(&mut stmt, row, seq, segment, fix, verdict)
}

pub(crate) fn bind_insert(
    stmt: &mut rusqlite::CachedStatement<'_>,
    row: i64,
    seq: i64,
    segment: i64,
    f: &NewFix,
    verdict: FixVerdict,
) -> Result<()> {
    stmt.execute(params![
        row,
        seq,
        segment,
        f.time_ms,
        f.lat,
        f.lon,
        f.accuracy_m,
        f.altitude_m,
        f.speed_mps,
        f.bearing_deg,
        f.provider,
        f.is_mock,
        verdict.as_str(),
    ])?;
    Ok(())
}

#[allow(
    clippy::too_many_arguments,
    reason = "each argument is one input of the computation; a struct would only rename them"
)]
pub(crate) fn insert_patrol(
    tx: &Transaction<'_>,
    id: PatrolId,
    user: &UserId,
    device: &str,
    state: PatrolState,
    source: PatrolSource,
    name: Option<&str>,
    started_at_ms: i64,
) -> Result<i64> {
    tx.execute(
        "INSERT INTO patrol (id, user_id, device_id, state, source, origin, name, started_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7)",
        params![
            id.to_string(),
            user.to_string(),
            device,
            state.as_str(),
            source.as_str(),
            name,
            started_at_ms
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

pub(crate) fn insert_event(tx: &Transaction<'_>, row: i64, kind: &str, at_ms: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO patrol_event (patrol_row, seq, kind, at_ms)
         VALUES (?1, (SELECT COALESCE(MAX(seq) + 1, 0) FROM patrol_event WHERE patrol_row = ?1), ?2, ?3)",
        params![row, kind, at_ms],
    )?;
    Ok(())
}

pub(crate) fn open_patrol(conn: &Connection, device: &str) -> Result<Option<PatrolId>> {
    let id: Option<String> = conn
        .query_row(
            "SELECT id FROM patrol WHERE device_id = ?1 AND state <> 'stopped'",
            [device],
            |r| r.get(0),
        )
        .optional()?;
    Ok(id.map(|s| s.parse()).transpose()?)
}

pub(crate) fn patrol_row_state(conn: &Connection, id: PatrolId) -> Result<(i64, PatrolState)> {
    let (row, state): (i64, String) = conn
        .query_row(
            "SELECT row_id, state FROM patrol WHERE id = ?1",
            [id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or(Error::UnknownPatrol(id))?;
    Ok((row, state.parse()?))
}

pub(crate) const SELECT_PATROL: &str =
    "SELECT p.row_id, p.id, p.user_id, p.state, p.source, p.name, p.started_at_ms,
                                    p.stopped_at_ms, p.summary_json, p.device_id, p.origin
                               FROM patrol p";

pub(crate) struct RawPatrol {
    row: i64,
    id: String,
    user_id: String,
    state: String,
    source: String,
    name: Option<String>,
    started_at_ms: i64,
    stopped_at_ms: Option<i64>,
    summary_json: Option<String>,
    device_id: String,
    origin: Option<String>,
}

pub(crate) fn read_patrol(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawPatrol> {
    Ok(RawPatrol {
        row: r.get(0)?,
        id: r.get(1)?,
        user_id: r.get(2)?,
        state: r.get(3)?,
        source: r.get(4)?,
        name: r.get(5)?,
        started_at_ms: r.get(6)?,
        stopped_at_ms: r.get(7)?,
        summary_json: r.get(8)?,
        device_id: r.get(9)?,
        origin: r.get(10)?,
    })
}
