//! Coverage figures for people: per assigned street (covered length over length, time spent),
//! totals, and streets visited that were not assigned; for one patrol or for a period across
//! patrols (what supervisors' assessment reports use).

use std::collections::BTreeSet;

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::coverage::{Coverage, CoverageConfig};
use crate::domain::{PatrolId, SegmentId, StreetId, UserId};
use crate::error::{Error, Result};
use crate::matching::MatchSummary;
use crate::patrol::PatrolInfo;
use crate::secrets::Key;
use crate::spatial::IndexedNetwork;
use crate::store::StoreConfig;
use crate::streets::{self, StreetNetwork};

use super::cache;

/// One segment's coverage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentCoverage {
    pub segment_id: SegmentId,
    pub ordinal: u32,
    pub length_m: f64,
    pub covered_m: f64,
    /// Covered stretches, metres from the segment's first vertex.
    pub intervals_m: Vec<[f64; 2]>,
}

/// One street's coverage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreetCoverage {
    pub street_id: StreetId,
    pub name: Option<String>,
    pub subdistrict: Option<String>,
    pub class: String,
    pub length_m: f64,
    pub covered_m: f64,
    /// covered_m / length_m, 0..1.
    pub covered_ratio: f64,
    /// Seconds spent on the street.
    pub time_s: f64,
    /// Whether the street is one the patrol (or the period's people) answer for.
    pub assigned: bool,
    pub segments: Vec<SegmentCoverage>,
}

/// Sums over the streets reported.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct CoverageTotals {
    pub streets: u64,
    /// Streets with a meaningful covered length (see [`CoverageConfig::visit_min_m`]).
    pub streets_visited: u64,
    pub length_m: f64,
    pub covered_m: f64,
    pub covered_ratio: f64,
    pub time_s: f64,
}

/// What one patrol covered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatrolCoverage {
    pub patrol_id: PatrolId,
    pub user_id: UserId,
    pub started_at_ms: i64,
    pub stopped_at_ms: Option<i64>,
    /// The streets assigned to the patrol's user plus those the patrol set out to cover; when
    /// there are none, every street visited (with `assigned` false).
    pub streets: Vec<StreetCoverage>,
    pub totals: CoverageTotals,
    /// Streets visited that were not assigned.
    pub visited_unassigned: Vec<StreetCoverage>,
    /// Planned street references that match no street of the network.
    pub unknown_planned_streets: Vec<String>,
    pub matching: MatchSummary,
}

/// Which patrols a period report covers: started in `[from_ms, to_ms)`, optionally one user's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodQuery {
    pub from_ms: i64,
    pub to_ms: i64,
    /// Only this user's patrols, measured against this user's streets. `None`: everyone's
    /// patrols against every assigned street.
    pub user_id: Option<String>,
}

/// What the patrols of a period covered together (the union of their intervals).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodCoverage {
    pub from_ms: i64,
    pub to_ms: i64,
    pub user_id: Option<String>,
    pub patrols: Vec<PatrolId>,
    pub streets: Vec<StreetCoverage>,
    pub totals: CoverageTotals,
    pub visited_unassigned: Vec<StreetCoverage>,
    pub matching: MatchSummary,
}

/// Matches a patrol's track to the street network `net` and measures its coverage against the
/// streets assigned to its user and those it set out to cover.
pub(crate) fn patrol_coverage(
    conn: &Connection,
    config: &StoreConfig,
    key: Option<&Key>,
    now_ms: i64,
    net: &IndexedNetwork,
    info: &PatrolInfo,
) -> Result<PatrolCoverage> {
    let (coverage, matching) = cover_patrols(conn, config, key, now_ms, net, &[info.id])?;
    let mut assigned = assigned_streets(conn, &net.network, Some(&info.user_id.to_string()))?;
    let (planned, unknown_planned_streets) = resolve_planned(&net.network, &info.planned_streets);
    assigned.extend(planned);
    let (streets, totals, visited_unassigned) =
        street_report(&net.network, &coverage, &assigned, &config.coverage);
    Ok(PatrolCoverage {
        patrol_id: info.id,
        user_id: info.user_id,
        started_at_ms: info.started_at_ms,
        stopped_at_ms: info.stopped_at_ms,
        streets,
        totals,
        visited_unassigned,
        unknown_planned_streets,
        matching,
    })
}

/// The id of the user this store knows by `name`, if any.
pub(crate) fn user_id_by_name(conn: &Connection, name: &str) -> Option<String> {
    conn.query_row("SELECT id FROM user WHERE name = ?1", [name], |r| r.get(0))
        .ok()
}

/// Coverage of `patrols` (newest first, as listed) together, against the streets assigned to
/// `user` (anyone's when `None`) and those the patrols set out to cover.
#[allow(
    clippy::too_many_arguments,
    reason = "storage functions take the store's parts one by one (connection, config, key, clock)"
)]
pub(crate) fn period_coverage(
    conn: &Connection,
    config: &StoreConfig,
    key: Option<&Key>,
    now_ms: i64,
    net: &IndexedNetwork,
    query: &PeriodQuery,
    user: Option<&str>,
    patrols: &[PatrolInfo],
) -> Result<PeriodCoverage> {
    let ids: Vec<PatrolId> = patrols.iter().rev().map(|p| p.id).collect();
    let (coverage, matching) = cover_patrols(conn, config, key, now_ms, net, &ids)?;
    let mut assigned = assigned_streets(conn, &net.network, user)?;
    for p in patrols {
        assigned.extend(resolve_planned(&net.network, &p.planned_streets).0);
    }
    let (streets, totals, visited_unassigned) =
        street_report(&net.network, &coverage, &assigned, &config.coverage);
    Ok(PeriodCoverage {
        from_ms: query.from_ms,
        to_ms: query.to_ms,
        user_id: user.map(str::to_owned),
        patrols: ids,
        streets,
        totals,
        visited_unassigned,
        matching,
    })
}

/// Refuses a period that does not end after it starts.
pub(crate) fn check_period(query: &PeriodQuery) -> Result<()> {
    if query.to_ms <= query.from_ms {
        return Err(Error::InvalidConfig(format!(
            "the period must end after it starts (from {} to {} ms)",
            query.from_ms, query.to_ms
        )));
    }
    Ok(())
}

/// Matches and covers the given patrols (each from the per-patrol cache where it is
/// valid), adding their coverage together.
fn cover_patrols(
    conn: &Connection,
    config: &StoreConfig,
    key: Option<&Key>,
    now_ms: i64,
    net: &IndexedNetwork,
    ids: &[PatrolId],
) -> Result<(Coverage, MatchSummary)> {
    let keys = cache::patrol_keys(conn, ids)?;
    let mut coverage = Coverage::new();
    let mut summary = MatchSummary::default();
    for (c, s) in cache::patrol_coverages(conn, config, key, now_ms, net, &keys)? {
        coverage.add(&c);
        summary.merge(&s);
    }
    coverage.finish(net, &config.coverage);
    Ok((coverage, summary))
}

/// Street indices assigned to `user` (as chief or steward), or to anyone when `None`.
fn assigned_streets(
    conn: &Connection,
    network: &StreetNetwork,
    user: Option<&str>,
) -> Result<BTreeSet<usize>> {
    let list = match user {
        Some(u) => streets::store::assignments_of(conn, u)?,
        None => streets::store::assignments(conn)?,
    };
    Ok(list
        .iter()
        .filter_map(|a| network.street_index(a.street_id))
        .collect())
}

/// Street references a patrol was started with: ids, or names that only one street has.
fn resolve_planned(network: &StreetNetwork, planned: &[String]) -> (Vec<usize>, Vec<String>) {
    let mut found = Vec::new();
    let mut unknown = Vec::new();
    for r in planned {
        let by_id = r
            .parse::<StreetId>()
            .ok()
            .and_then(|id| network.street_index(id));
        let by_name = || {
            let mut it = network
                .streets
                .iter()
                .enumerate()
                .filter(|(_, s)| s.name.as_deref() == Some(r.as_str()));
            match (it.next(), it.next()) {
                (Some((i, _)), None) => Some(i),
                _ => None,
            }
        };
        match by_id.or_else(by_name) {
            Some(i) => found.push(i),
            None => unknown.push(r.clone()),
        }
    }
    (found, unknown)
}

fn street_coverage(
    network: &StreetNetwork,
    coverage: &Coverage,
    street: usize,
    assigned: bool,
) -> StreetCoverage {
    let s = &network.streets[street];
    let segments: Vec<SegmentCoverage> = network.street_segments[street]
        .iter()
        .map(|&i| {
            let seg = &network.segments[i];
            let intervals = coverage.segment_intervals_m(network, i);
            SegmentCoverage {
                segment_id: seg.id,
                ordinal: seg.ordinal,
                length_m: seg.length_m,
                covered_m: (intervals.iter().map(|(a, b)| b - a).sum::<f64>() + 0.0)
                    .min(seg.length_m),
                intervals_m: intervals.into_iter().map(|(a, b)| [a, b]).collect(),
            }
        })
        .collect();
    let length_m: f64 = segments.iter().map(|s| s.length_m).sum();
    // `+ 0.0` turns the -0.0 of an empty sum into 0.0.
    let covered_m: f64 = segments.iter().map(|s| s.covered_m).sum::<f64>() + 0.0;
    StreetCoverage {
        street_id: s.id,
        name: s.name.clone(),
        subdistrict: s.subdistrict.clone(),
        class: s.class.clone(),
        length_m,
        covered_m,
        covered_ratio: if length_m > 0.0 {
            (covered_m / length_m).min(1.0)
        } else {
            0.0
        },
        time_s: coverage.street_time_s(street),
        assigned,
        segments,
    }
}

/// (assigned streets, their totals, visited streets not assigned). Without assigned streets,
/// the visited ones take their place so a track with no assignment still says where it went.
fn street_report(
    network: &StreetNetwork,
    coverage: &Coverage,
    assigned: &BTreeSet<usize>,
    config: &CoverageConfig,
) -> (Vec<StreetCoverage>, CoverageTotals, Vec<StreetCoverage>) {
    let visited: Vec<usize> = coverage
        .touched_streets(network)
        .into_iter()
        .filter(|&s| coverage.visited(network, s, config))
        .collect();
    let mut unassigned: Vec<StreetCoverage> = visited
        .iter()
        .filter(|s| !assigned.contains(s))
        .map(|&s| street_coverage(network, coverage, s, false))
        .collect();
    unassigned.sort_by(|a, b| b.covered_m.total_cmp(&a.covered_m));
    let mut streets: Vec<StreetCoverage> = assigned
        .iter()
        .map(|&s| street_coverage(network, coverage, s, true))
        .collect();
    streets.sort_by(|a, b| {
        (a.name.is_none(), &a.name, a.street_id).cmp(&(b.name.is_none(), &b.name, b.street_id))
    });
    let reported = if streets.is_empty() {
        &unassigned
    } else {
        &streets
    };
    let mut totals = CoverageTotals::default();
    for s in reported {
        totals.streets += 1;
        totals.length_m += s.length_m;
        totals.covered_m += s.covered_m;
        totals.time_s += s.time_s;
        if network
            .street_index(s.street_id)
            .is_some_and(|i| coverage.visited(network, i, config))
        {
            totals.streets_visited += 1;
        }
    }
    totals.covered_ratio = if totals.length_m > 0.0 {
        (totals.covered_m / totals.length_m).min(1.0)
    } else {
        0.0
    };
    if streets.is_empty() {
        return (unassigned, totals, Vec::new());
    }
    (streets, totals, unassigned)
}
