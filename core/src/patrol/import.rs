//! Importing a whole track file as a (stopped) patrol: one transaction, so a file that fails
//! half-way leaves the store exactly as it was.

use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::{Transaction, params};
use serde::Serialize;

use crate::domain::{Datum, NewFix, PatrolId, PatrolState};
use crate::error::{Error, Result};
use crate::geodesy::{check_coordinates, gcj02_to_wgs84};
use crate::store::DeviceIdentity;
use crate::track::{
    FilterConfig, FilterState, ParsedTrack, TrackConfig, TrackStats, compute_stats,
};

use super::PatrolSource;
use super::storage::{INSERT_FIX, bind_insert, insert_event, insert_patrol, load_fixes};

/// Points between two progress reports.
const PROGRESS_EVERY: i64 = 4096;
/// Points between two looks at the cancel flag (an atomic load: cheap next to an INSERT).
const CANCEL_CHECK_EVERY: i64 = 256;

/// How to read an imported track.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The datum the file's coordinates are in (GPX is WGS-84 by definition, but exports from
    /// Chinese apps are often GCJ-02).
    pub datum: Datum,
    /// Filter thresholds; the store's configured ones when `None`.
    pub filter: Option<FilterConfig>,
    /// A name for the patrol; the file's track name when `None`.
    pub name: Option<String>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            datum: Datum::Wgs84,
            filter: None,
            name: None,
        }
    }
}

/// The outcome of an import: the new patrol and its track metrics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    pub patrol_id: PatrolId,
    pub name: Option<String>,
    /// Points whose timestamp could not be right; their time was dropped, the point kept.
    pub bogus_timestamps: u64,
    /// Track segments in the file that held no points (not stored).
    pub empty_segments: u64,
    #[serde(flatten)]
    pub stats: TrackStats,
}

/// A track to store as a patrol: whose, under which id and name, from when.
pub(crate) struct TrackImport<'a> {
    pub(crate) me: &'a DeviceIdentity,
    pub(crate) id: PatrolId,
    pub(crate) name: Option<&'a str>,
    pub(crate) started_at_ms: i64,
    pub(crate) now_ms: i64,
}

/// Stores a parsed track as a stopped patrol inside the caller's transaction, judging its
/// points with `track_config` (validated). `progress` is called with (points done, points in
/// all); gives up with [`Error::Interrupted`] soon after `cancel` is set.
pub(crate) fn store_track(
    tx: &Transaction<'_>,
    run: &TrackImport<'_>,
    track: &ParsedTrack,
    options: &ImportOptions,
    track_config: &TrackConfig,
    progress: &mut dyn FnMut(u64, u64),
    cancel: &AtomicBool,
) -> Result<TrackStats> {
    let (me, id, name, started_at_ms, now) =
        (run.me, run.id, run.name, run.started_at_ms, run.now_ms);
    let total = track.point_count() as u64;
    let row = insert_patrol(
        tx,
        id,
        &me.user_id,
        &me.device_id.to_string(),
        PatrolState::Stopped,
        PatrolSource::Imported,
        name,
        started_at_ms,
    )?;
    let mut state = FilterState::default();
    let mut seq = 0i64;
    {
        let mut stmt = tx.prepare_cached(INSERT_FIX)?;
        let to_wgs84 = |p: &NewFix| {
            let mut p = p.clone();
            if options.datum == Datum::Gcj02 && check_coordinates(p.lat, p.lon).is_ok() {
                (p.lat, p.lon) = gcj02_to_wgs84(p.lat, p.lon);
            }
            p
        };
        let all: Vec<(usize, NewFix)> = track
            .segments
            .iter()
            .enumerate()
            .flat_map(|(segment, points)| points.iter().map(move |p| (segment, p)))
            .map(|(segment, p)| (segment, to_wgs84(p)))
            .collect();
        for (i, (segment, p)) in all.iter().enumerate() {
            let segment = *segment;
            {
                let next = all.get(i + 1).map(|(_, n)| n);
                let verdict = state.push(&track_config.filter, p, next);
                bind_insert(&mut stmt, row, seq, segment as i64, p, verdict)?;
                seq += 1;
                if seq % CANCEL_CHECK_EVERY == 0 && cancel.load(Ordering::Relaxed) {
                    return Err(Error::Interrupted);
                }
                if seq % PROGRESS_EVERY == 0 {
                    progress(seq as u64, total);
                }
            }
        }
    }
    let fixes = load_fixes(tx, row)?;
    let stats = compute_stats(&track_config.metrics, &fixes);
    tx.execute(
        "UPDATE patrol SET stopped_at_ms = ?2, summary_json = ?3 WHERE row_id = ?1",
        params![
            row,
            stats.end_ms.unwrap_or(now),
            serde_json::to_string(&stats).expect("stats serialise")
        ],
    )?;
    insert_event(tx, row, "start", started_at_ms)?;
    insert_event(tx, row, "stop", stats.end_ms.unwrap_or(now))?;
    if cancel.load(Ordering::Relaxed) {
        return Err(Error::Interrupted);
    }
    Ok(stats)
}
