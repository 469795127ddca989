//! The data that crosses the boundary.
//!
//! Where a core type already has the right shape it is exposed as it is (`#[uniffi::remote]`:
//! the field and variant lists below are checked against the core's by the compiler). Where the
//! shape must differ for the host, a mirror record converts from the core type:
//! - [`Fix`]: a live fix always has a time, and most hosts never set the datum;
//! - [`TrackStats`]: rejected counts keyed by [`FixVerdict`], not by string;
//! - [`PatrolInfo`] and [`ImportReport`], which hold a `TrackStats`.
//!
//! Ids are UUID strings on the host side (`typealias PatrolId = String` in Kotlin); a malformed
//! one is refused with `PatrolError::InvalidInput` before the call runs.

use std::collections::HashMap;

use patrol_core::geodesy::BoundingBox;
use patrol_core::patrol::{BatchOutcome, FixOutcome, PatrolSource};
use patrol_core::store::DeviceIdentity;
use patrol_core::track::{Gap, Motion, SamplingAdvice};
use patrol_core::{
    CheckInId, CommentId, Datum, DeviceId, FixVerdict, IssueEventId, IssueId, PatrolId,
    PatrolState, PickupId, PointsEntryId, Role, SegmentId, SignboardId, StoredFix, StreetId,
    SubdistrictId, UserId,
};

use crate::error::PatrolError;

/// Declares a core id newtype as a string on the host side. A string that is not a UUID fails
/// the call with `PatrolError::InvalidInput` (uniffi passes the error through as the call's own).
macro_rules! uuid_string {
    ($($id:ident),+) => {$(
        uniffi::custom_type!($id, String, {
            remote,
            lower: |id| id.to_string(),
            try_lift: |s| s.parse::<$id>().map_err(|e| PatrolError::from(e).into()),
        });
    )+};
}
uuid_string!(
    PatrolId,
    UserId,
    DeviceId,
    SubdistrictId,
    StreetId,
    SegmentId,
    SignboardId,
    CheckInId,
    IssueId,
    IssueEventId,
    CommentId,
    PickupId,
    PointsEntryId
);

/// What a user does in the system; decides what they may do and what they see.
#[uniffi::remote(Enum)]
pub enum Role {
    /// 街巷长: answers for their streets, patrols them, verifies fixes.
    Chief,
    /// 小巷管家: volunteer who patrols and picks up litter, earns points.
    Steward,
    /// Subdistrict or district staff: dispatch, assessment, credit.
    Supervisor,
    /// 城市物业 cleaning crew member: resolves assigned issues.
    Crew,
    /// 综合执法 officer: resolves assigned issues.
    Enforcement,
    /// A resident reporting through a signboard's QR code.
    Public,
}

/// The geodetic datum of a coordinate. Everything is stored in WGS-84; Chinese map SDKs (AMap,
/// Tencent) hand out GCJ-02.
#[uniffi::remote(Enum)]
pub enum Datum {
    Wgs84,
    Gcj02,
}

/// Where a patrol is in its life.
#[uniffi::remote(Enum)]
pub enum PatrolState {
    Recording,
    Paused,
    Stopped,
}

/// Where a patrol came from.
#[uniffi::remote(Enum)]
pub enum PatrolSource {
    Recorded,
    Imported,
    /// Recorded by another device and received by sync (a supervisor's view).
    Synced,
}

/// What the filter decided about one fix. Every fix is stored with its verdict; only `Kept`
/// fixes count for distance and display.
#[uniffi::remote(Enum)]
pub enum FixVerdict {
    Kept,
    /// Horizontal accuracy worse than the configured limit.
    PoorAccuracy,
    /// Reaching it from the last kept fix needs a speed no patrol moves at.
    ImpossibleSpeed,
    /// Far from the last kept fix with no time to tell a speed.
    Jump,
    /// Same place and time as the last kept fix.
    Duplicate,
    /// The platform flagged it as coming from a mock-location provider.
    MockLocation,
    /// Not a place on Earth, or the (0, 0) of a receiver with no fix.
    InvalidCoordinates,
    /// Its timestamp is earlier than the last kept fix's.
    OutOfOrder,
}

/// Whether the walker is moving.
#[uniffi::remote(Enum)]
pub enum Motion {
    Moving,
    Stationary,
}

/// What the host should do with its location sampling after a fix.
#[uniffi::remote(Record)]
pub struct SamplingAdvice {
    pub motion: Motion,
    /// The sampling interval to use now, in seconds.
    pub interval_s: u32,
    /// True when `motion` changed with this fix: reconfigure location updates only then.
    pub changed: bool,
}

/// What happened to one fix.
#[uniffi::remote(Record)]
pub struct FixOutcome {
    pub seq: i64,
    pub verdict: FixVerdict,
    pub sampling: SamplingAdvice,
}

/// What happened to a batch of fixes.
#[uniffi::remote(Record)]
pub struct BatchOutcome {
    /// Sequence number of the first fix of the batch; the rest follow in order.
    pub first_seq: i64,
    pub count: u64,
    pub kept: u64,
    pub sampling: SamplingAdvice,
}

/// A fix as stored: WGS-84, numbered within its patrol, with the filter's verdict.
#[uniffi::remote(Record)]
pub struct StoredFix {
    pub seq: i64,
    /// Track segment: the stretch between a resume and the next pause (or a GPX `trkseg`).
    pub segment: i64,
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
    pub altitude_m: Option<f64>,
    pub speed_mps: Option<f64>,
    pub bearing_deg: Option<f64>,
    pub time_ms: Option<i64>,
    pub provider: Option<String>,
    pub is_mock: bool,
    pub verdict: FixVerdict,
}

/// A stretch with no kept fix for longer than the configured gap, within one segment.
#[uniffi::remote(Record)]
pub struct Gap {
    pub segment: i64,
    pub from_ms: i64,
    pub to_ms: i64,
    pub duration_s: f64,
}

/// The smallest latitude/longitude box holding a track (WGS-84 degrees).
#[uniffi::remote(Record)]
pub struct BoundingBox {
    pub min_lat: f64,
    pub min_lon: f64,
    pub max_lat: f64,
    pub max_lon: f64,
}

/// Who this store belongs to.
#[uniffi::remote(Record)]
pub struct DeviceIdentity {
    pub device_id: DeviceId,
    pub user_id: UserId,
    pub name: String,
    pub role: Role,
    pub subdistrict_id: Option<SubdistrictId>,
    /// The Automerge actor id (hex) this device's changes carry.
    pub actor_id: String,
}

/// One GPS reading from the platform's location service.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Fix {
    pub lat: f64,
    pub lon: f64,
    /// When the fix was taken, milliseconds since the Unix epoch (UTC); Android's
    /// `Location.time`, iOS's `CLLocation.timestamp`.
    pub time_ms: i64,
    /// Horizontal accuracy (68 % radius) in metres.
    #[uniffi(default = None)]
    pub accuracy_m: Option<f64>,
    #[uniffi(default = None)]
    pub altitude_m: Option<f64>,
    #[uniffi(default = None)]
    pub speed_mps: Option<f64>,
    /// Course over ground in degrees clockwise from north.
    #[uniffi(default = None)]
    pub bearing_deg: Option<f64>,
    /// Location provider (`gps`, `network`, `fused` ...), at most 32 bytes.
    #[uniffi(default = None)]
    pub provider: Option<String>,
    /// The platform says it came from a mock-location app.
    #[uniffi(default = false)]
    pub is_mock: bool,
    /// The datum of `lat`/`lon`: WGS-84 when absent (Android, iOS); GCJ-02 from AMap or Tencent.
    #[uniffi(default = None)]
    pub datum: Option<Datum>,
}

impl From<Fix> for patrol_core::NewFix {
    fn from(f: Fix) -> Self {
        patrol_core::NewFix {
            lat: f.lat,
            lon: f.lon,
            accuracy_m: f.accuracy_m,
            altitude_m: f.altitude_m,
            speed_mps: f.speed_mps,
            bearing_deg: f.bearing_deg,
            time_ms: Some(f.time_ms),
            provider: f.provider,
            is_mock: f.is_mock,
            datum: f.datum.unwrap_or(Datum::Wgs84),
        }
    }
}

/// What a track adds up to.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct TrackStats {
    /// Every stored fix.
    pub fixes_read: u64,
    pub fixes_kept: u64,
    /// Rejected fixes by verdict (every rejecting verdict present, zeros included).
    pub rejected: HashMap<FixVerdict, u64>,
    /// Track segments holding at least one fix.
    pub segments: u64,
    /// Haversine length of the kept fixes, segment by segment, standing-still jitter left out.
    pub distance_m: f64,
    /// Haversine length of every fix with valid coordinates, unfiltered.
    pub raw_distance_m: f64,
    /// From the first to the last kept fix with a time; 0 when the track has no times.
    pub duration_s: f64,
    /// Time spent moving between kept fixes, gaps excluded.
    pub moving_s: f64,
    pub has_timestamps: bool,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub gaps: Vec<Gap>,
    pub bbox: Option<BoundingBox>,
    /// Points left after simplification (what a map draws).
    pub simplified_points: u64,
}

impl From<patrol_core::track::TrackStats> for TrackStats {
    fn from(s: patrol_core::track::TrackStats) -> Self {
        TrackStats {
            fixes_read: s.fixes_read,
            fixes_kept: s.fixes_kept,
            // The core keys these by `FixVerdict::as_str`, so every key parses.
            rejected: s
                .rejected
                .into_iter()
                .filter_map(|(k, n)| Some((k.parse().ok()?, n)))
                .collect(),
            segments: s.segments,
            distance_m: s.distance_m,
            raw_distance_m: s.raw_distance_m,
            duration_s: s.duration_s,
            moving_s: s.moving_s,
            has_timestamps: s.has_timestamps,
            start_ms: s.start_ms,
            end_ms: s.end_ms,
            gaps: s.gaps,
            bbox: s.bbox,
            simplified_points: s.simplified_points,
        }
    }
}

/// A patrol as listed.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PatrolInfo {
    pub id: PatrolId,
    pub user_id: UserId,
    pub state: PatrolState,
    pub source: PatrolSource,
    pub name: Option<String>,
    pub started_at_ms: i64,
    pub stopped_at_ms: Option<i64>,
    /// The streets the patrol set out to cover.
    pub planned_streets: Vec<String>,
    /// Track metrics as of the stop; absent while recording.
    pub summary: Option<TrackStats>,
    /// How the track was made on the phone where it began, `RECORDED` or `IMPORTED` (also for
    /// a patrol received by sync, whose `source` is `SYNCED`); absent when not known.
    pub origin: Option<PatrolSource>,
}

impl From<patrol_core::patrol::PatrolInfo> for PatrolInfo {
    fn from(p: patrol_core::patrol::PatrolInfo) -> Self {
        PatrolInfo {
            id: p.id,
            user_id: p.user_id,
            state: p.state,
            source: p.source,
            name: p.name,
            started_at_ms: p.started_at_ms,
            stopped_at_ms: p.stopped_at_ms,
            planned_streets: p.planned_streets,
            summary: p.summary.map(Into::into),
            origin: p.origin,
        }
    }
}

/// The outcome of a track import: the new (stopped) patrol and its metrics.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ImportReport {
    pub patrol_id: PatrolId,
    pub name: Option<String>,
    /// Points whose timestamp could not be right; their time was dropped, the point kept.
    pub bogus_timestamps: u64,
    /// Track segments in the file that held no points (not stored).
    pub empty_segments: u64,
    pub stats: TrackStats,
}

impl From<patrol_core::patrol::ImportReport> for ImportReport {
    fn from(r: patrol_core::patrol::ImportReport) -> Self {
        ImportReport {
            patrol_id: r.patrol_id,
            name: r.name,
            bogus_timestamps: r.bogus_timestamps,
            empty_segments: r.empty_segments,
            stats: r.stats.into(),
        }
    }
}

/// A WGS-84 position: a point of a track or a street to draw, where a photo was taken.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fix_without_a_datum_is_wgs84_and_keeps_its_time() {
        let f = Fix {
            lat: 39.9,
            lon: 116.2,
            time_ms: 1_714_550_400_000,
            accuracy_m: Some(4.0),
            altitude_m: None,
            speed_mps: None,
            bearing_deg: None,
            provider: Some("fused".into()),
            is_mock: false,
            datum: None,
        };
        let core: patrol_core::NewFix = f.clone().into();
        assert_eq!(core.datum, Datum::Wgs84);
        assert_eq!(core.time_ms, Some(f.time_ms));
        assert_eq!(core.provider.as_deref(), Some("fused"));
        let gcj: patrol_core::NewFix = Fix {
            datum: Some(Datum::Gcj02),
            ..f
        }
        .into();
        assert_eq!(gcj.datum, Datum::Gcj02);
    }

    #[test]
    fn rejected_counts_keep_every_verdict() {
        let stats = patrol_core::track::compute_stats(&Default::default(), &[]);
        let ffi = TrackStats::from(stats.clone());
        assert_eq!(
            ffi.rejected.len(),
            stats.rejected.len(),
            "no key lost in the translation"
        );
        assert_eq!(
            ffi.rejected.len(),
            FixVerdict::ALL.len() - 1,
            "every rejecting verdict"
        );
        assert!(!ffi.rejected.contains_key(&FixVerdict::Kept));
    }
}
