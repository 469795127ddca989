//! How much of each assigned street a patrol, or the patrols of a period, covered: per street
//! (covered length, ratio, time spent, the covered stretches of each segment), totals, and the
//! streets visited that were not assigned.
//!
//! The core's per-segment intervals are `[from, to]` arrays; they cross as [`CoveredInterval`]
//! records, which is why the street, patrol and period reports are mirrors.

use patrol_core::coverage::MatchSummary;
use patrol_core::coverage::report::{CoverageTotals, PeriodQuery};
use patrol_core::{PatrolId, SegmentId, StreetId, UserId};

use crate::error::PatrolError;
use crate::store::PatrolStore;

/// Sums over the streets reported.
#[uniffi::remote(Record)]
pub struct CoverageTotals {
    pub streets: u64,
    /// Streets with a meaningful covered length.
    pub streets_visited: u64,
    pub length_m: f64,
    pub covered_m: f64,
    pub covered_ratio: f64,
    pub time_s: f64,
}

/// How the track matched the street network.
#[uniffi::remote(Record)]
pub struct MatchSummary {
    pub fixes_kept: u64,
    pub fixes_matched: u64,
    /// Kept fixes farther than the tolerance from every street.
    pub fixes_off_network: u64,
    /// Stretches matched without a break.
    pub runs: u64,
}

/// A covered stretch of a segment, in metres from its first vertex.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct CoveredInterval {
    pub from_m: f64,
    pub to_m: f64,
}

/// One segment's coverage.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SegmentCoverage {
    pub segment_id: SegmentId,
    pub ordinal: u32,
    pub length_m: f64,
    pub covered_m: f64,
    pub intervals: Vec<CoveredInterval>,
}

/// One street's coverage.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct StreetCoverage {
    pub street_id: StreetId,
    pub name: Option<String>,
    pub subdistrict: Option<String>,
    pub class: String,
    pub length_m: f64,
    pub covered_m: f64,
    /// `covered_m / length_m`, 0..1.
    pub covered_ratio: f64,
    /// Seconds spent on the street.
    pub time_s: f64,
    /// Whether the street is one the patrol's user (or the period's people) answer for or the
    /// patrol set out to cover.
    pub assigned: bool,
    pub segments: Vec<SegmentCoverage>,
}

/// What one patrol covered.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PatrolCoverage {
    pub patrol_id: PatrolId,
    pub user_id: UserId,
    pub started_at_ms: i64,
    pub stopped_at_ms: Option<i64>,
    /// The user's assigned streets plus the patrol's planned ones; when there are none, every
    /// street visited (with `assigned` false).
    pub streets: Vec<StreetCoverage>,
    pub totals: CoverageTotals,
    /// Streets visited that were not assigned.
    pub visited_unassigned: Vec<StreetCoverage>,
    /// Planned street references that match no street of the network.
    pub unknown_planned_streets: Vec<String>,
    pub matching: MatchSummary,
}

/// What the patrols of a period covered together (the union of their stretches).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PeriodCoverage {
    pub from_ms: i64,
    pub to_ms: i64,
    /// The user the report is about (an id; a name given is resolved where the store knows it).
    pub user_id: Option<String>,
    pub patrols: Vec<PatrolId>,
    pub streets: Vec<StreetCoverage>,
    pub totals: CoverageTotals,
    pub visited_unassigned: Vec<StreetCoverage>,
    pub matching: MatchSummary,
}

impl From<patrol_core::coverage::report::SegmentCoverage> for SegmentCoverage {
    fn from(s: patrol_core::coverage::report::SegmentCoverage) -> Self {
        SegmentCoverage {
            segment_id: s.segment_id,
            ordinal: s.ordinal,
            length_m: s.length_m,
            covered_m: s.covered_m,
            intervals: s
                .intervals_m
                .into_iter()
                .map(|[from_m, to_m]| CoveredInterval { from_m, to_m })
                .collect(),
        }
    }
}

impl From<patrol_core::coverage::report::StreetCoverage> for StreetCoverage {
    fn from(s: patrol_core::coverage::report::StreetCoverage) -> Self {
        StreetCoverage {
            street_id: s.street_id,
            name: s.name,
            subdistrict: s.subdistrict,
            class: s.class,
            length_m: s.length_m,
            covered_m: s.covered_m,
            covered_ratio: s.covered_ratio,
            time_s: s.time_s,
            assigned: s.assigned,
            segments: s.segments.into_iter().map(Into::into).collect(),
        }
    }
}

fn streets(list: Vec<patrol_core::coverage::report::StreetCoverage>) -> Vec<StreetCoverage> {
    list.into_iter().map(Into::into).collect()
}

impl From<patrol_core::coverage::report::PatrolCoverage> for PatrolCoverage {
    fn from(c: patrol_core::coverage::report::PatrolCoverage) -> Self {
        PatrolCoverage {
            patrol_id: c.patrol_id,
            user_id: c.user_id,
            started_at_ms: c.started_at_ms,
            stopped_at_ms: c.stopped_at_ms,
            streets: streets(c.streets),
            totals: c.totals,
            visited_unassigned: streets(c.visited_unassigned),
            unknown_planned_streets: c.unknown_planned_streets,
            matching: c.matching,
        }
    }
}

impl From<patrol_core::coverage::report::PeriodCoverage> for PeriodCoverage {
    fn from(c: patrol_core::coverage::report::PeriodCoverage) -> Self {
        PeriodCoverage {
            from_ms: c.from_ms,
            to_ms: c.to_ms,
            user_id: c.user_id,
            patrols: c.patrols,
            streets: streets(c.streets),
            totals: c.totals,
            visited_unassigned: streets(c.visited_unassigned),
            matching: c.matching,
        }
    }
}

#[uniffi::export]
impl PatrolStore {
    /// Matches a patrol's track (also one still recording) to the street network and measures
    /// what it covered. `InvalidState` when no street network was imported. Tens of milliseconds
    /// for a day-long patrol: on a worker thread.
    pub async fn patrol_coverage(
        &self,
        patrol_id: PatrolId,
    ) -> Result<PatrolCoverage, PatrolError> {
        self.in_background("patrol coverage", move |s| s.patrol_coverage(patrol_id))
            .await
            .map(Into::into)
    }

    /// What the patrols started in `[from_ms, to_ms)` covered together, against the streets
    /// assigned to `user_id` (an id or, where this store knows the user, a name) or, without
    /// one, to anyone: the figure assessment (考核) uses. On a worker thread.
    #[uniffi::method(default(user_id = None))]
    pub async fn period_coverage(
        &self,
        from_ms: i64,
        to_ms: i64,
        user_id: Option<String>,
    ) -> Result<PeriodCoverage, PatrolError> {
        self.in_background("period coverage", move |s| {
            s.period_coverage(&PeriodQuery {
                from_ms,
                to_ms,
                user_id,
            })
        })
        .await
        .map(Into::into)
    }
}
