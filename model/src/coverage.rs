//! Coverage: which stretches of which segments a patrol walked, by linear referencing of its
//! matched fixes.
//!
//! Each matched fix has a position along its segment. Consecutive matched fixes cover the way
//! between them along the network: on one segment, the interval between their positions; on
//! segments that meet, the pieces up to and from the shared junction (so 10 s sampling does not
//! lose the ends of every segment); further apart, the pieces of the shortest way, if walking
//! could explain it. A long time gap, or a jump no walk explains, covers nothing. Per segment the
//! covered intervals are merged (union), so walking a street twice does not count twice.
//!
//! Standing still covers nothing: runs of fixes that are not moving (platform speed below a
//! threshold, or, without speeds, hardly any travel over half a minute) are collapsed to one
//! place, so an hour of GPS drift in front of a shop adds no length.
//!
//! The phone store's `coverage::report` turns coverage into per-street figures for a patrol or a
//! period.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::domain::StoredFix;
use crate::matching::{MatchedFix, TrackMatch};
use crate::spatial::IndexedNetwork;
use crate::streets::{Place, RouteScratch, StreetNetwork};

/// Coverage thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoverageConfig {
    /// A fix reporting a speed below this is standing (m/s).
    pub stationary_speed_mps: f64,
    /// Without reported speeds, a fix is standing when the travel over this many seconds
    /// either side of it averages below `stationary_speed_mps`.
    pub stationary_window_s: f64,
    /// A longer time between consecutive matched places covers nothing between them.
    pub max_gap_s: f64,
    /// The way between consecutive places may need at most this speed ...
    pub max_speed_mps: f64,
    /// ... give or take this much GPS error (metres).
    pub slack_m: f64,
    /// A street counts as visited with this much covered, or half its length if shorter.
    pub visit_min_m: f64,
    /// A run that begins or ends this close to a junction (a crossing, a street's end), or
    /// within its end fix's accuracy (up to `max_end_snap_m`), is taken to begin or end there:
    /// walks start and turn at corners, and the first and last fixes fall short of them by GPS
    /// error and by the sampling interval.
    pub end_snap_m: f64,
    pub max_end_snap_m: f64,
    /// Covered stretches of an unnamed way (a sidewalk, a cycle track) running parallel to a
    /// named street within this distance also cover the named street: walking a street's
    /// sidewalk is patrolling the street. 0 turns it off.
    pub sidepath_m: f64,
}

impl Default for CoverageConfig {
    fn default() -> Self {
        Self {
            stationary_speed_mps: 0.5,
            stationary_window_s: 30.0,
            max_gap_s: 60.0,
            max_speed_mps: 7.0,
            slack_m: 60.0,
            visit_min_m: 25.0,
            end_snap_m: 15.0,
            max_end_snap_m: 30.0,
            sidepath_m: 15.0,
        }
    }
}

/// Covered intervals per segment and time per street, accumulated over one or more tracks.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    /// Segment index -> intervals in projected metres (merged by [`Coverage::finish`]).
    intervals: HashMap<usize, Vec<(f64, f64)>>,
    /// Street index -> seconds spent on it.
    time_s: HashMap<usize, f64>,
    merged: bool,
}

/// A place the walker was: a segment, an offset, and the time span spent there.
#[derive(Debug, Clone, Copy)]
struct Stop {
    segment: usize,
    offset_m: f64,
    first_ms: Option<i64>,
    last_ms: Option<i64>,
    accuracy_m: Option<f64>,
}

impl Coverage {
    pub fn new() -> Self {
        Self::default()
    }

    /// A coverage restored from what [`Coverage::intervals`] and [`Coverage::time_by_street`]
    /// gave when it was persisted (already merged).
    pub fn from_parts(
        intervals: HashMap<usize, Vec<(f64, f64)>>,
        time_s: HashMap<usize, f64>,
    ) -> Self {
        Self {
            intervals,
            time_s,
            merged: true,
        }
    }

    /// Segment index -> covered intervals in projected metres, for persistence.
    pub fn intervals(&self) -> &HashMap<usize, Vec<(f64, f64)>> {
        &self.intervals
    }

    /// Street index -> seconds spent on it, for persistence.
    pub fn time_by_street(&self) -> &HashMap<usize, f64> {
        &self.time_s
    }

    /// Adds what a matched track covered. `fixes` is the slice given to the matcher.
    pub fn add_track(
        &mut self,
        net: &IndexedNetwork,
        fixes: &[StoredFix],
        matched: &TrackMatch,
        config: &CoverageConfig,
    ) {
        let network = &net.network;
        let mut scratch = RouteScratch::default();
        for run in &matched.runs {
            self.add_time(network, fixes, &run.fixes, config);
            let stops = collapse_standing(network, fixes, &run.fixes, config);
            if let (true, Some(first), Some(last)) = (stops.len() >= 2, stops.first(), stops.last())
            {
                for end in [first, last] {
                    let accuracy = end.accuracy_m.unwrap_or(0.0).min(config.max_end_snap_m);
                    if let Some(j) = nearest_junction(
                        network,
                        end.segment,
                        end.offset_m,
                        config.end_snap_m.max(accuracy),
                    ) {
                        self.cover(end.segment, end.offset_m, j);
                    }
                }
            }
            for w in stops.windows(2) {
                let (p, q) = (w[0], w[1]);
                let dt_s = match (p.last_ms, q.first_ms) {
                    (Some(a), Some(b)) => Some(((b - a) as f64 / 1000.0).max(0.0)),
                    _ => None,
                };
                if dt_s.is_some_and(|dt| dt > config.max_gap_s) {
                    continue;
                }
                let (pa, pb) = (
                    network.segments[p.segment].point_at(p.offset_m),
                    network.segments[q.segment].point_at(q.offset_m),
                );
                let straight = (pa[0] - pb[0]).hypot(pa[1] - pb[1]);
                let mut limit = straight + config.slack_m;
                if let Some(dt) = dt_s {
                    limit = limit.min(config.max_speed_mps * dt.max(1.0) + config.slack_m);
                }
                let from = Place {
                    segment: p.segment,
                    offset_m: p.offset_m,
                };
                let to = Place {
                    segment: q.segment,
                    offset_m: q.offset_m,
                };
                if let Some((_, pieces)) = network.route(from, to, limit, &mut scratch) {
                    for piece in pieces {
                        self.cover(piece.segment, piece.from_m, piece.to_m);
                    }
                }
            }
        }
        self.merged = false;
    }

    /// Adds another coverage (another patrol of the same period).
    pub fn add(&mut self, other: &Coverage) {
        for (seg, list) in &other.intervals {
            self.intervals
                .entry(*seg)
                .or_default()
                .extend_from_slice(list);
        }
        for (street, t) in &other.time_s {
            *self.time_s.entry(*street).or_default() += t;
        }
        self.merged = false;
    }

    fn cover(&mut self, segment: usize, a: f64, b: f64) {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        if hi > lo {
            self.intervals.entry(segment).or_default().push((lo, hi));
        }
    }

    /// Time between consecutive matched fixes within the gap limit, half to each one's street.
    fn add_time(
        &mut self,
        network: &StreetNetwork,
        fixes: &[StoredFix],
        run: &[MatchedFix],
        config: &CoverageConfig,
    ) {
        for w in run.windows(2) {
            let (Some(a), Some(b)) = (fixes[w[0].fix].time_ms, fixes[w[1].fix].time_ms) else {
                continue;
            };
            let dt = (b - a) as f64 / 1000.0;
            if dt <= 0.0 || dt > config.max_gap_s {
                continue;
            }
            *self
                .time_s
                .entry(network.segments[w[0].segment].street)
                .or_default() += dt / 2.0;
            *self
                .time_s
                .entry(network.segments[w[1].segment].street)
                .or_default() += dt / 2.0;
        }
    }

    /// Credits named streets for their sidepaths (see [`CoverageConfig::sidepath_m`]) and
    /// merges overlapping intervals (the union per segment). Call before reading figures.
    pub fn finish(&mut self, net: &IndexedNetwork, config: &CoverageConfig) {
        if self.merged {
            return;
        }
        self.merge();
        if config.sidepath_m > 0.0 {
            let mut extra: Vec<(usize, f64, f64)> = Vec::new();
            for (&segment, list) in &self.intervals {
                if !net.network.segment_is_named(segment) {
                    for &(lo, hi) in list {
                        sidepath_intervals(net, segment, lo, hi, config.sidepath_m, &mut extra);
                    }
                }
            }
            for (segment, lo, hi) in extra {
                self.cover(segment, lo, hi);
            }
            self.merge();
        }
        self.merged = true;
    }

    fn merge(&mut self) {
        for list in self.intervals.values_mut() {
            list.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mut out: Vec<(f64, f64)> = Vec::with_capacity(list.len());
            for &(lo, hi) in list.iter() {
                match out.last_mut() {
                    Some(last) if lo <= last.1 => last.1 = last.1.max(hi),
                    _ => out.push((lo, hi)),
                }
            }
            *list = out;
        }
    }

    /// Covered intervals of a segment in reported (Haversine) metres from its first vertex,
    /// clipped to the segment. Call [`Coverage::finish`] first.
    pub fn segment_intervals_m(&self, network: &StreetNetwork, segment: usize) -> Vec<(f64, f64)> {
        let seg = &network.segments[segment];
        let (len, scale) = (seg.projected_length_m(), seg.scale());
        self.intervals
            .get(&segment)
            .map(|list| {
                list.iter()
                    .map(|&(lo, hi)| (lo.clamp(0.0, len) * scale, hi.clamp(0.0, len) * scale))
                    .filter(|(lo, hi)| hi > lo)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every segment with some covered length and that length in metres, by segment index.
    /// Call [`Coverage::finish`] first.
    pub fn covered_segments_m(&self, network: &StreetNetwork) -> Vec<(usize, f64)> {
        let mut out: Vec<(usize, f64)> = self
            .intervals
            .keys()
            .map(|&s| (s, self.segment_covered_m(network, s)))
            .filter(|(_, m)| *m > 0.0)
            .collect();
        out.sort_by_key(|(s, _)| *s);
        out
    }

    /// Seconds spent on each street, by street index.
    pub fn street_times_s(&self) -> impl Iterator<Item = (usize, f64)> + '_ {
        self.time_s.iter().map(|(&s, &t)| (s, t))
    }

    /// Covered length of a segment, metres. Call [`Coverage::finish`] first.
    pub fn segment_covered_m(&self, network: &StreetNetwork, segment: usize) -> f64 {
        self.segment_intervals_m(network, segment)
            .iter()
            .map(|(lo, hi)| hi - lo)
            .sum()
    }

    /// Covered length of a street, metres. Call [`Coverage::finish`] first.
    pub fn street_covered_m(&self, network: &StreetNetwork, street: usize) -> f64 {
        network.street_segments[street]
            .iter()
            .map(|&s| self.segment_covered_m(network, s))
            .sum()
    }

    /// Seconds spent on a street.
    pub fn street_time_s(&self, street: usize) -> f64 {
        self.time_s.get(&street).copied().unwrap_or(0.0)
    }

    /// Streets with any covered length or time, by index.
    pub fn touched_streets(&self, network: &StreetNetwork) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .intervals
            .keys()
            .map(|&s| network.segments[s].street)
            .chain(self.time_s.keys().copied())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether a street was visited: covered at least `visit_min_m`, or half of a shorter street.
    pub fn visited(&self, network: &StreetNetwork, street: usize, config: &CoverageConfig) -> bool {
        let covered = self.street_covered_m(network, street);
        let length = network.streets[street].length_m;
        covered > 0.0 && covered >= config.visit_min_m.min(0.5 * length)
    }
}

/// The stretches of named segments that run parallel within `within_m` of the interval
/// [lo, hi] of an unnamed segment, found by sampling it every few metres.
fn sidepath_intervals(
    net: &IndexedNetwork,
    segment: usize,
    lo: f64,
    hi: f64,
    within_m: f64,
    out: &mut Vec<(usize, f64, f64)>,
) {
    const STEP_M: f64 = 5.0;
    let seg = &net.network.segments[segment];
    let mut hits = Vec::new();
    let mut current: Option<(usize, f64, f64, f64)> = None;
    let samples = ((hi - lo) / STEP_M).ceil().max(1.0) as usize;
    for k in 0..=samples {
        let at = lo + (hi - lo) * k as f64 / samples as f64;
        let p = seg.point_at(at);
        let dir = seg.direction_at(at);
        net.nearest_segments_into(p[0], p[1], within_m, 4, &mut hits);
        let parallel = hits.iter().find(|h| {
            net.network.segment_is_named(h.segment)
                && (dir[0] * h.direction[0] + dir[1] * h.direction[1]).abs() >= 0.94
        });
        match (parallel, current.as_mut()) {
            (Some(h), Some(c)) if c.0 == h.segment && (h.offset_m - c.3).abs() <= 2.5 * STEP_M => {
                c.1 = c.1.min(h.offset_m);
                c.2 = c.2.max(h.offset_m);
                c.3 = h.offset_m;
            }
            (hit, _) => {
                if let Some(c) = current.take() {
                    out.push((c.0, c.1 - STEP_M / 2.0, c.2 + STEP_M / 2.0));
                }
                current = hit.map(|h| (h.segment, h.offset_m, h.offset_m, h.offset_m));
            }
        }
    }
    if let Some(c) = current {
        out.push((c.0, c.1 - STEP_M / 2.0, c.2 + STEP_M / 2.0));
    }
}

/// The offset of the junction on `segment` nearest to `offset_m`, if within `max_m`.
fn nearest_junction(
    network: &StreetNetwork,
    segment: usize,
    offset_m: f64,
    max_m: f64,
) -> Option<f64> {
    network.segments[segment]
        .junctions
        .iter()
        .map(|j| j.offset_m)
        .filter(|o| (o - offset_m).abs() <= max_m)
        .min_by(|a, b| (a - offset_m).abs().total_cmp(&(b - offset_m).abs()))
}

/// Turns a run of matched fixes into the places the walker passed, with every stretch of
/// standing still collapsed to one place (the median position on the segment most of it was
/// matched to).
fn collapse_standing(
    network: &StreetNetwork,
    fixes: &[StoredFix],
    run: &[MatchedFix],
    config: &CoverageConfig,
) -> Vec<Stop> {
    let standing = standing_flags(network, fixes, run, config);
    let mut out = Vec::with_capacity(run.len());
    let mut i = 0;
    while i < run.len() {
        let mut j = i + 1;
        if standing[i] {
            while j < run.len() && standing[j] {
                j += 1;
            }
        }
        let group = &run[i..j];
        let first_ms = fixes[group[0].fix].time_ms;
        let last_ms = fixes[group[group.len() - 1].fix].time_ms;
        if group.len() > 1 && !stayed_put(network, fixes, group, config) {
            // Speeds said standing but the fixes travelled: trust the positions.
            for m in group {
                let t = fixes[m.fix].time_ms;
                out.push(Stop {
                    segment: m.segment,
                    offset_m: m.offset_m,
                    first_ms: t,
                    last_ms: t,
                    accuracy_m: fixes[m.fix].accuracy_m,
                });
            }
        } else if group.len() == 1 {
            out.push(Stop {
                segment: group[0].segment,
                offset_m: group[0].offset_m,
                first_ms,
                last_ms,
                accuracy_m: fixes[group[0].fix].accuracy_m,
            });
        } else {
            let mut counts: HashMap<usize, usize> = HashMap::new();
            for m in group {
                *counts.entry(m.segment).or_default() += 1;
            }
            let segment = counts
                .into_iter()
                .max_by_key(|&(s, n)| (n, std::cmp::Reverse(s)))
                .map(|(s, _)| s)
                .unwrap_or(group[0].segment);
            let mut offsets: Vec<f64> = group
                .iter()
                .filter(|m| m.segment == segment)
                .map(|m| m.offset_m)
                .collect();
            offsets.sort_by(f64::total_cmp);
            // Averaged over the stand, the position is better than any one fix.
            out.push(Stop {
                segment,
                offset_m: offsets[offsets.len() / 2],
                first_ms,
                last_ms,
                accuracy_m: None,
            });
        }
        i = j;
    }
    out
}

/// Whether a group of standing fixes stayed within GPS drift of where it began: a phone that
/// reports zero speeds while walking must not erase the walk.
fn stayed_put(
    network: &StreetNetwork,
    fixes: &[StoredFix],
    group: &[MatchedFix],
    config: &CoverageConfig,
) -> bool {
    let (a, b) = (&fixes[group[0].fix], &fixes[group[group.len() - 1].fix]);
    let (ax, ay) = network.projection.to_metres(a.lat, a.lon);
    let (bx, by) = network.projection.to_metres(b.lat, b.lon);
    let duration_s = match (a.time_ms, b.time_ms) {
        (Some(t0), Some(t1)) => (t1 - t0) as f64 / 1000.0,
        _ => 0.0,
    };
    (bx - ax).hypot(by - ay) <= config.slack_m.max(config.stationary_speed_mps * duration_s)
}

/// Whether each fix of a run was taken standing still.
fn standing_flags(
    network: &StreetNetwork,
    fixes: &[StoredFix],
    run: &[MatchedFix],
    config: &CoverageConfig,
) -> Vec<bool> {
    let proj = &network.projection;
    let xy: Vec<(f64, f64)> = run
        .iter()
        .map(|m| proj.to_metres(fixes[m.fix].lat, fixes[m.fix].lon))
        .collect();
    let times: Vec<Option<i64>> = run.iter().map(|m| fixes[m.fix].time_ms).collect();
    let window_ms = (config.stationary_window_s * 1000.0) as i64;
    let (mut lo, mut hi) = (0usize, 0usize);
    let mut out = Vec::with_capacity(run.len());
    for k in 0..run.len() {
        if let Some(speed) = fixes[run[k].fix].speed_mps.filter(|s| s.is_finite()) {
            out.push(speed < config.stationary_speed_mps);
            continue;
        }
        let Some(t) = times[k] else {
            out.push(false);
            continue;
        };
        while lo < k && times[lo].is_none_or(|tl| tl < t - window_ms) {
            lo += 1;
        }
        hi = hi.max(k);
        while hi + 1 < run.len() && times[hi + 1].is_some_and(|th| th <= t + window_ms) {
            hi += 1;
        }
        let span_s = match (times[lo], times[hi]) {
            (Some(a), Some(b)) => (b - a) as f64 / 1000.0,
            _ => 0.0,
        };
        // Judge only over a full window; near the ends of a run, assume walking.
        if span_s < config.stationary_window_s {
            out.push(false);
            continue;
        }
        let travel = (xy[hi].0 - xy[lo].0).hypot(xy[hi].1 - xy[lo].1);
        out.push(travel / span_s < config.stationary_speed_mps);
    }
    out
}
