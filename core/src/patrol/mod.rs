//! Recording patrols: start (with the streets to cover), pause, resume, stop, and the fixes in
//! between, one at a time (durable before the call returns) or in batches after the app was
//! suspended. Also importing whole tracks from files and reading tracks back.

pub(crate) mod export;
pub(crate) mod import;
pub(crate) mod recorder;
pub(crate) mod storage;

use rusqlite::params;
use serde::{Deserialize, Serialize};

pub use export::TrackExportFormat;
pub use import::{ImportOptions, ImportReport};

use crate::domain::{
    Datum, DeviceId, FixVerdict, NewFix, PatrolId, PatrolState, StoredFix, UserId,
};
use crate::geodesy::gcj02_to_wgs84;
use crate::track::{SamplingAdvice, TrackStats};

use crate::store::RecorderState;

pub(crate) use storage::load_fixes;

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

pub(crate) fn to_wgs84(mut fix: NewFix) -> NewFix {
    if fix.datum == Datum::Gcj02 {
        (fix.lat, fix.lon) = gcj02_to_wgs84(fix.lat, fix.lon);
        fix.datum = Datum::Wgs84;
    }
    if let Some(b) = fix.bearing_deg {
        fix.bearing_deg = Some(b.rem_euclid(360.0));
    }
    fix
}

pub(crate) fn filter_judge(
    config: &crate::track::FilterConfig,
    rec: &RecorderState,
    fix: &NewFix,
) -> FixVerdict {
    crate::track::judge_fix(config, &rec.filter, fix, None)
}

/// Moves the recorder past a stored fix; returns the sampling advice after it.
pub(crate) fn advance(
    rec: &mut RecorderState,
    fix: &NewFix,
    verdict: FixVerdict,
) -> SamplingAdvice {
    rec.next_seq += 1;
    rec.filter.record(fix, verdict);
    if verdict == FixVerdict::Kept {
        rec.detector
            .push(fix.lat, fix.lon, fix.time_ms, fix.accuracy_m, fix.speed_mps)
    } else {
        rec.detector.advice()
    }
}

#[cfg(test)]
mod tests;
