//! The in-memory side of recording: per open patrol, the filter and stationary-detector state
//! and the next sequence number. All of it is derivable from the stored fixes, so after a crash
//! or restart it is rebuilt from the database on the first fix.

use rusqlite::{Connection, OptionalExtension, params};

use crate::domain::{NewFix, PatrolId};
use crate::error::{Error, Result};
use crate::geodesy::check_coordinates;
use crate::store::RecorderState;
use crate::track::filter::Anchor;
use crate::track::{FilterState, StationaryDetector, TrackConfig};

/// Rebuilds the recorder of patrol `id` from the database.
pub(crate) fn load_recorder(
    conn: &Connection,
    config: &TrackConfig,
    id: PatrolId,
) -> Result<RecorderState> {
    let (row, state, segment): (i64, String, i64) = conn
        .query_row(
            "SELECT row_id, state, current_segment FROM patrol WHERE id = ?1",
            [id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
        .ok_or(Error::UnknownPatrol(id))?;
    let next_seq: i64 = conn.query_row(
        "SELECT COALESCE(MAX(seq) + 1, 0) FROM fix WHERE patrol_row = ?1",
        [row],
        |r| r.get(0),
    )?;
    let last_kept = conn
        .query_row(
            "SELECT lat, lon, time_ms FROM fix WHERE patrol_row = ?1 AND verdict = 'kept'
                  ORDER BY seq DESC LIMIT 1",
            [row],
            |r| {
                Ok(Anchor {
                    lat: r.get(0)?,
                    lon: r.get(1)?,
                    time_ms: r.get(2)?,
                })
            },
        )
        .optional()?;
    let mut detector = StationaryDetector::new(config.stationary.clone());
    if let Some(Anchor {
        time_ms: Some(last_t),
        ..
    }) = last_kept
    {
        // Replay the recent past so a restart mid-dwell keeps its advice.
        let since = last_t - (config.stationary.dwell_s * 2000.0) as i64;
        let mut stmt = conn.prepare(
            "SELECT lat, lon, time_ms, accuracy_m, speed_mps FROM fix
                  WHERE patrol_row = ?1 AND verdict = 'kept' AND time_ms >= ?2 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![row, since], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
        for r in rows {
            let (lat, lon, t, acc, speed) = r?;
            detector.push(lat, lon, t, acc, speed);
        }
    }
    Ok(RecorderState {
        row,
        id,
        state: state.parse()?,
        segment,
        next_seq,
        filter: FilterState {
            last_kept,
            consecutive_motion_rejections: 0,
        },
        detector,
    })
}

/// Checks a fix from the host before anything is stored: a fix that is not a fix (NaN, out of
/// range, (0, 0), negative accuracy ...) is a bug in the caller, refused with a clear error.
pub(crate) fn validate_live_fix(fix: &NewFix) -> Result<()> {
    let bad = |field: &'static str, reason: String| Err(Error::InvalidFix { field, reason });
    if let Err(why) = check_coordinates(fix.lat, fix.lon) {
        return bad("position", format!("({}, {}) {why}", fix.lat, fix.lon));
    }
    if let Some(a) = fix.accuracy_m
        && (!a.is_finite() || a < 0.0)
    {
        return bad(
            "accuracy_m",
            format!("must be zero or more metres, got {a}"),
        );
    }
    if let Some(a) = fix.altitude_m
        && !a.is_finite()
    {
        return bad("altitude_m", format!("must be a number, got {a}"));
    }
    if let Some(s) = fix.speed_mps
        && (!s.is_finite() || s < 0.0)
    {
        return bad("speed_mps", format!("must be zero or more m/s, got {s}"));
    }
    if let Some(b) = fix.bearing_deg
        && !b.is_finite()
    {
        return bad(
            "bearing_deg",
            format!("must be a number of degrees, got {b}"),
        );
    }
    match fix.time_ms {
        None => {
            return bad(
                "time_ms",
                "is missing; a live fix needs the time it was taken".into(),
            );
        }
        Some(t) if t <= 0 => return bad("time_ms", format!("must be after 1970, got {t}")),
        _ => {}
    }
    if fix.provider.as_ref().is_some_and(|p| p.len() > 32) {
        return bad("provider", "must be at most 32 bytes".into());
    }
    Ok(())
}
