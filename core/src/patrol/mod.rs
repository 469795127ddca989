//! Recording patrols: start (with the streets to cover), pause, resume, stop, and the fixes in
//! between, one at a time (durable before the call returns) or in batches after the app was
//! suspended. Also importing whole tracks from files and reading tracks back.

mod export;
mod import;
pub(crate) mod recorder;

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

pub use export::TrackExportFormat;
pub use import::{ImportOptions, ImportReport};

use crate::domain::{
    Datum, DeviceId, FixVerdict, NewFix, PatrolId, PatrolState, StoredFix, UserId,
};
use crate::error::{Error, Result};
use crate::geodesy::gcj02_to_wgs84;
use crate::store::Store;
use crate::track::{SamplingAdvice, TrackStats, compute_stats, metrics::simplify_track};
use recorder::{load_recorder, validate_live_fix};

use crate::store::RecorderState;

/// What happened to one fix.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FixOutcome {
    pub seq: i64,
    pub verdict: FixVerdict,
    /// Whether the host may slow (or must speed up) its location sampling now.
    pub sampling: SamplingAdvice,
}

/// What happened to a batch of fixes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchOutcome {
    /// Sequence number of the first fix of the batch; the rest follow in order.
    pub first_seq: i64,
    pub count: u64,
    pub kept: u64,
    pub sampling: SamplingAdvice,
}

/// Where a patrol came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatrolSource {
    Recorded,
    Imported,
    /// Recorded by another device and received by sync (a supervisor's view).
    Synced,
}

impl PatrolSource {
    pub fn as_str(self) -> &'static str {
        match self {
            PatrolSource::Recorded => "recorded",
            PatrolSource::Imported => "imported",
            PatrolSource::Synced => "synced",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "imported" => PatrolSource::Imported,
            "synced" => PatrolSource::Synced,
            _ => PatrolSource::Recorded,
        }
    }
}

/// A patrol as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatrolInfo {
    pub id: PatrolId,
    pub user_id: UserId,
    /// The device that recorded it.
    pub device_id: DeviceId,
    pub state: PatrolState,
    pub source: PatrolSource,
    /// How the track was made on the device where it began (`Recorded` or `Imported`, also
    /// for a patrol received by sync); `None` when not known.
    pub origin: Option<PatrolSource>,
    pub name: Option<String>,
    pub started_at_ms: i64,
    pub stopped_at_ms: Option<i64>,
    pub planned_streets: Vec<String>,
    /// Track metrics as of the stop; `None` while recording.
    pub summary: Option<TrackStats>,
}

impl Store {
    /// Starts recording a patrol for this device's user, meant to cover `planned_streets`.
    pub fn start_patrol(&mut self, planned_streets: &[String]) -> Result<PatrolId> {
        let me = self.require_device()?;
        let planned_streets = planned_streets
            .iter()
            .map(|s| self.street_of_record(Some(s.as_str())))
            .collect::<Result<Vec<_>>>()?;
        let now = self.clock.now_ms();
        let id = PatrolId::new();
        let tx = self.conn.transaction()?;
        if let Some(open) = open_patrol(&tx, &me.device_id.to_string())? {
            return Err(Error::PatrolAlreadyActive(open));
        }
        let row = insert_patrol(
            &tx,
            id,
            &me.user_id,
            &me.device_id.to_string(),
            PatrolState::Recording,
            PatrolSource::Recorded,
            None,
            now,
        )?;
        for street in planned_streets.iter().flatten() {
            tx.execute(
                "INSERT OR IGNORE INTO patrol_street (patrol_row, street_id) VALUES (?1, ?2)",
                params![row, street],
            )?;
        }
        insert_event(&tx, row, "start", now)?;
        tx.commit()?;
        Ok(id)
    }

    /// The patrol this device is recording or has paused, if any.
    pub fn open_patrol(&self) -> Result<Option<PatrolId>> {
        let me = self.require_device()?;
        open_patrol(&self.conn, &me.device_id.to_string())
    }

    /// Pauses recording: fixes are refused until [`Store::resume_patrol`].
    pub fn pause_patrol(&mut self, id: PatrolId) -> Result<()> {
        self.transition(
            id,
            "pause",
            PatrolState::Recording,
            PatrolState::Paused,
            false,
        )
    }

    /// Resumes a paused patrol; its next fixes start a new track segment, so the distance does
    /// not bridge the pause.
    pub fn resume_patrol(&mut self, id: PatrolId) -> Result<()> {
        self.transition(
            id,
            "resume",
            PatrolState::Paused,
            PatrolState::Recording,
            true,
        )
    }

    fn transition(
        &mut self,
        id: PatrolId,
        action: &'static str,
        from: PatrolState,
        to: PatrolState,
        new_segment: bool,
    ) -> Result<()> {
        let now = self.clock.now_ms();
        let tx = self.conn.transaction()?;
        let (row, state) = patrol_row_state(&tx, id)?;
        if state != from {
            return Err(Error::PatrolTransition { id, action, state });
        }
        tx.execute(
            "UPDATE patrol SET state = ?2, current_segment = current_segment + ?3 WHERE row_id = ?1",
            params![row, to.as_str(), new_segment as i64],
        )?;
        insert_event(&tx, row, action, now)?;
        tx.commit()?;
        if let Some(r) = self.recorders.get_mut(&row) {
            r.state = to;
            r.segment += new_segment as i64;
        }
        Ok(())
    }

    /// Stops a patrol (recording or paused) and stores its track summary.
    pub fn stop_patrol(&mut self, id: PatrolId) -> Result<TrackStats> {
        let now = self.clock.now_ms();
        let (row, state) = patrol_row_state(&self.conn, id)?;
        if state == PatrolState::Stopped {
            return Err(Error::PatrolTransition {
                id,
                action: "stop",
                state,
            });
        }
        let fixes = self.fixes_of_row(row)?;
        let stats = compute_stats(&self.config.track.metrics, &fixes);
        let summary = serde_json::to_string(&stats).expect("stats serialise");
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE patrol SET state = 'stopped', stopped_at_ms = ?2, summary_json = ?3 WHERE row_id = ?1",
            params![row, now, summary],
        )?;
        insert_event(&tx, row, "stop", now)?;
        tx.commit()?;
        self.recorders.remove(&row);
        Ok(stats)
    }

    fn recorder(&mut self, id: PatrolId) -> Result<&mut RecorderState> {
        // Look up by id among the loaded recorders first; load from the database otherwise.
        if let Some(row) = self
            .recorders
            .iter()
            .find(|(_, r)| r.id == id)
            .map(|(row, _)| *row)
        {
            return Ok(self.recorders.get_mut(&row).expect("just found"));
        }
        let r = load_recorder(&self.conn, &self.config.track, id)?;
        let row = r.row;
        Ok(self.recorders.entry(row).or_insert(r))
    }

    /// Adds one fix to a recording patrol and commits it before returning: if the app is killed
    /// right after, the fix is in the database. Invalid fixes are refused with
    /// [`Error::InvalidFix`] and nothing is stored.
    pub fn add_fix(&mut self, id: PatrolId, fix: NewFix) -> Result<FixOutcome> {
        validate_live_fix(&fix)?;
        let fix = to_wgs84(fix);
        let config = self.config.track.filter.clone();
        let rec = self.recorder(id)?;
        if rec.state != PatrolState::Recording {
            return Err(Error::PatrolNotRecording {
                id,
                state: rec.state,
            });
        }
        let verdict = filter_judge(&config, rec, &fix);
        let (row, seq, segment) = (rec.row, rec.next_seq, rec.segment);
        // Autocommit: this single INSERT is the durable commit.
        insert_fix(&self.conn, row, seq, segment, &fix, verdict)?;
        let rec = self.recorders.get_mut(&row).expect("recorder loaded above");
        let sampling = advance(rec, &fix, verdict);
        Ok(FixOutcome {
            seq,
            verdict,
            sampling,
        })
    }

    /// Adds many fixes (catching up after the app was suspended) in one transaction: all are
    /// stored or, if any is invalid, none is and the error names the first bad one.
    pub fn add_fixes(&mut self, id: PatrolId, fixes: &[NewFix]) -> Result<BatchOutcome> {
        for (i, f) in fixes.iter().enumerate() {
            validate_live_fix(f).map_err(|e| match e {
                Error::InvalidFix { field, reason } => Error::InvalidFix {
                    field,
                    reason: format!("{reason} (fix {i} of the batch; nothing was stored)"),
                },
                other => other,
            })?;
        }
        let config = self.config.track.filter.clone();
        let rec = self.recorder(id)?;
        if rec.state != PatrolState::Recording {
            return Err(Error::PatrolNotRecording {
                id,
                state: rec.state,
            });
        }
        // Work on a copy so a failed transaction leaves the recorder as the database is.
        let mut work = rec.clone();
        let first_seq = work.next_seq;
        let mut kept = 0u64;
        let mut sampling = work.detector.advice();
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(INSERT_FIX)?;
            for f in fixes {
                let f = to_wgs84(f.clone());
                let verdict = filter_judge(&config, &work, &f);
                bind_insert(
                    &mut stmt,
                    work.row,
                    work.next_seq,
                    work.segment,
                    &f,
                    verdict,
                )?;
                kept += (verdict == FixVerdict::Kept) as u64;
                let advice = advance(&mut work, &f, verdict);
                sampling = SamplingAdvice {
                    changed: sampling.changed || advice.changed,
                    ..advice
                };
            }
        }
        tx.commit()?;
        let row = work.row;
        self.recorders.insert(row, work);
        Ok(BatchOutcome {
            first_seq,
            count: fixes.len() as u64,
            kept,
            sampling,
        })
    }

    /// The sampling advice for a patrol as of its last fix, without adding one: what interval the
    /// host should start its location updates with after a restart or a resume.
    pub fn sampling_advice(&self, id: PatrolId) -> Result<SamplingAdvice> {
        if let Some(rec) = self.recorders.values().find(|r| r.id == id) {
            return Ok(rec.detector.advice());
        }
        // Not cached: rebuild without caching, so asking about stopped patrols keeps nothing.
        Ok(load_recorder(&self.conn, &self.config.track, id)?
            .detector
            .advice())
    }

    /// A patrol's details.
    pub fn patrol(&self, id: PatrolId) -> Result<PatrolInfo> {
        let row = self
            .conn
            .query_row(
                &format!("{SELECT_PATROL} WHERE p.id = ?1"),
                [id.to_string()],
                read_patrol,
            )
            .optional()?
            .ok_or(Error::UnknownPatrol(id))?;
        self.finish_patrol_info(row)
    }

    /// Patrols in this store, newest first.
    pub fn list_patrols(&self) -> Result<Vec<PatrolInfo>> {
        let mut stmt = self.conn.prepare(&format!(
            "{SELECT_PATROL} ORDER BY p.started_at_ms DESC, p.row_id DESC"
        ))?;
        let rows = stmt
            .query_map([], read_patrol)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|r| self.finish_patrol_info(r))
            .collect()
    }

    fn finish_patrol_info(&self, raw: RawPatrol) -> Result<PatrolInfo> {
        let mut stmt = self.conn.prepare_cached(
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
    pub fn fixes(&self, id: PatrolId) -> Result<Vec<StoredFix>> {
        let (row, _) = patrol_row_state(&self.conn, id)?;
        self.fixes_of_row(row)
    }

    pub(crate) fn fixes_of_row(&self, row: i64) -> Result<Vec<StoredFix>> {
        load_fixes(&self.conn, row)
    }

    /// Track metrics of a patrol, computed from its fixes now.
    pub fn track_stats(&self, id: PatrolId) -> Result<TrackStats> {
        Ok(compute_stats(&self.config.track.metrics, &self.fixes(id)?))
    }

    /// The kept track simplified for display and upload, one line of (lat, lon) per segment.
    pub fn simplified_track(&self, id: PatrolId) -> Result<Vec<Vec<(f64, f64)>>> {
        Ok(simplify_track(
            self.config.track.metrics.simplify_tolerance_m,
            &self.fixes(id)?,
        ))
    }

    /// Counts of a patrol's fixes by verdict.
    pub fn verdict_counts(&self, id: PatrolId) -> Result<BTreeMap<FixVerdict, u64>> {
        let (row, _) = patrol_row_state(&self.conn, id)?;
        let mut stmt = self
            .conn
            .prepare("SELECT verdict, COUNT(*) FROM fix WHERE patrol_row = ?1 GROUP BY verdict")?;
        let rows = stmt.query_map([row], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        let mut out = BTreeMap::new();
        for r in rows {
            let (v, n) = r?;
            out.insert(v.parse()?, n as u64);
        }
        Ok(out)
    }
}

/// The columns of a stored fix, in the order [`read_stored_fix`] reads them. The fix table has
/// the same layout on phones and on the sync server.
pub const STORED_FIX_COLUMNS: &str = "seq, segment, lat, lon, accuracy_m, altitude_m, speed_mps, bearing_deg, time_ms, provider, is_mock, verdict";

/// A fix from a row selected with [`STORED_FIX_COLUMNS`].
pub fn read_stored_fix(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredFix> {
    // Borrowed, not a String: millions of fixes are read for a month's reports.
    let verdict = r.get_ref(11)?.as_str().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(11, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(StoredFix {
        seq: r.get(0)?,
        segment: r.get(1)?,
        lat: r.get(2)?,
        lon: r.get(3)?,
        accuracy_m: r.get(4)?,
        altitude_m: r.get(5)?,
        speed_mps: r.get(6)?,
        bearing_deg: r.get(7)?,
        time_ms: r.get(8)?,
        provider: r.get(9)?,
        is_mock: r.get(10)?,
        verdict: verdict.parse().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(11, rusqlite::types::Type::Text, Box::new(e))
        })?,
    })
}

/// Inserts a fix received from elsewhere (sync), leaving one already there with its seq alone,
/// so receiving a batch twice changes nothing.
pub const INSERT_STORED_FIX: &str = "INSERT OR IGNORE INTO fix (patrol_row, seq, segment, time_ms, lat, lon, accuracy_m,
                                     altitude_m, speed_mps, bearing_deg, provider, is_mock, verdict)
                                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

/// Runs [`INSERT_STORED_FIX`] for one fix of the patrol with row id `patrol_row`.
pub fn insert_stored_fix(
    stmt: &mut rusqlite::CachedStatement<'_>,
    patrol_row: i64,
    f: &StoredFix,
) -> rusqlite::Result<usize> {
    stmt.execute(params![
        patrol_row,
        f.seq,
        f.segment,
        f.time_ms,
        f.lat,
        f.lon,
        f.accuracy_m,
        f.altitude_m,
        f.speed_mps,
        f.bearing_deg,
        f.provider,
        f.is_mock,
        f.verdict.as_str()
    ])
}

/// Every fix of the patrol with row id `row`, in order.
pub(crate) fn load_fixes(conn: &rusqlite::Connection, row: i64) -> Result<Vec<StoredFix>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {STORED_FIX_COLUMNS} FROM fix WHERE patrol_row = ?1 ORDER BY seq"
    ))?;
    let rows = stmt.query_map([row], read_stored_fix)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

fn to_wgs84(mut fix: NewFix) -> NewFix {
    if fix.datum == Datum::Gcj02 {
        (fix.lat, fix.lon) = gcj02_to_wgs84(fix.lat, fix.lon);
        fix.datum = Datum::Wgs84;
    }
    if let Some(b) = fix.bearing_deg {
        fix.bearing_deg = Some(b.rem_euclid(360.0));
    }
    fix
}

fn filter_judge(
    config: &crate::track::FilterConfig,
    rec: &RecorderState,
    fix: &NewFix,
) -> FixVerdict {
    crate::track::judge_fix(config, &rec.filter, fix, None)
}

/// Moves the recorder past a stored fix; returns the sampling advice after it.
fn advance(rec: &mut RecorderState, fix: &NewFix, verdict: FixVerdict) -> SamplingAdvice {
    rec.next_seq += 1;
    rec.filter.record(fix, verdict);
    if verdict == FixVerdict::Kept {
        rec.detector
            .push(fix.lat, fix.lon, fix.time_ms, fix.accuracy_m, fix.speed_mps)
    } else {
        rec.detector.advice()
    }
}

const INSERT_FIX: &str =
    "INSERT INTO fix (patrol_row, seq, segment, time_ms, lat, lon, accuracy_m, altitude_m,
                                           speed_mps, bearing_deg, provider, is_mock, verdict)
                          VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

fn insert_fix(
    conn: &rusqlite::Connection,
    row: i64,
    seq: i64,
    segment: i64,
    fix: &NewFix,
    verdict: FixVerdict,
) -> Result<()> {
    let mut stmt = conn.prepare_cached(INSERT_FIX)?;
    bind_insert(&mut stmt, row, seq, segment, fix, verdict)
}

fn bind_insert(
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
fn insert_patrol(
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

fn insert_event(tx: &Transaction<'_>, row: i64, kind: &str, at_ms: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO patrol_event (patrol_row, seq, kind, at_ms)
         VALUES (?1, (SELECT COALESCE(MAX(seq) + 1, 0) FROM patrol_event WHERE patrol_row = ?1), ?2, ?3)",
        params![row, kind, at_ms],
    )?;
    Ok(())
}

fn open_patrol(conn: &rusqlite::Connection, device: &str) -> Result<Option<PatrolId>> {
    let id: Option<String> = conn
        .query_row(
            "SELECT id FROM patrol WHERE device_id = ?1 AND state <> 'stopped'",
            [device],
            |r| r.get(0),
        )
        .optional()?;
    Ok(id.map(|s| s.parse()).transpose()?)
}

fn patrol_row_state(conn: &rusqlite::Connection, id: PatrolId) -> Result<(i64, PatrolState)> {
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

const SELECT_PATROL: &str =
    "SELECT p.row_id, p.id, p.user_id, p.state, p.source, p.name, p.started_at_ms,
                                    p.stopped_at_ms, p.summary_json, p.device_id, p.origin
                               FROM patrol p";

struct RawPatrol {
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

fn read_patrol(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawPatrol> {
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

#[cfg(test)]
mod tests;
