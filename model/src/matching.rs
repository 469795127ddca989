//! Map matching: which street segment each kept fix of a patrol was on.
//!
//! A hidden Markov model in the spirit of Newson & Krumm (2009), solved with Viterbi:
//! - candidates of a fix: segments within a tolerance (default 25 m, widened to twice the fix's
//!   accuracy for poor fixes, capped), at most a handful, nearest first;
//! - emission: Gaussian in the distance to the segment (sigma from the fix's accuracy), plus
//!   agreement of the walker's heading (the fix's bearing, or the direction of travel over half
//!   a minute) with the segment's axis, so a fix at a crossing goes to the street walked along,
//!   and a small prior for named streets over the unnamed sidewalks and cycle tracks mapped
//!   beside them;
//! - transition: exponential in how much longer the way along the network is than the straight
//!   line between the fixes. Segments that do not connect within a short detour cannot follow
//!   each other, which is what keeps a walk on one of two parallel streets 30 m apart.
//!
//! A fix with no candidate is left unmatched; a fix that no candidate of the chain can reach is
//! skipped as an outlier (multipath), and after several in a row, a long time gap, or a pause
//! (a new track segment), the chain ends and a new one starts. Runs of matched fixes are what
//! [`crate::coverage`] measures.

use serde::{Deserialize, Serialize};

use crate::domain::{FixVerdict, SegmentId, StoredFix, StreetId};
use crate::spatial::{IndexedNetwork, SegmentHit};
use crate::streets::{Place, RouteScratch};

/// Matching thresholds. Defaults suit people walking with phones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchConfig {
    /// A fix farther than this from every segment matches nothing (metres) ...
    pub base_tolerance_m: f64,
    /// ... widened to this multiple of the fix's accuracy (about 3 sigma) for poorer fixes ...
    pub accuracy_tolerance_factor: f64,
    /// ... but never beyond this.
    pub max_tolerance_m: f64,
    /// Candidates kept per fix, nearest first.
    pub max_candidates: usize,
    /// Accuracy assumed for fixes that carry none (files), metres.
    pub default_accuracy_m: f64,
    /// Floor of the distance sigma, metres.
    pub min_sigma_m: f64,
    /// Log-likelihood lost by a candidate perpendicular to the walker's heading.
    pub heading_weight: f64,
    /// Log-likelihood lost per fix by a candidate on an unnamed way: a walk along a named
    /// street and the unnamed sidewalk or cycle track mapped beside it counts for the street.
    pub unnamed_penalty: f64,
    /// A platform bearing counts only above this speed (a standing phone's bearing is noise).
    pub heading_min_speed_mps: f64,
    /// Without a bearing, the direction of travel over this many seconds either side ...
    pub derived_heading_window_s: f64,
    /// ... counts when the walker moved at least this far in it (metres).
    pub derived_heading_min_m: f64,
    /// GPS errors of fixes taken close together are not independent (the receiver drifts):
    /// a fix's evidence counts in full only when it comes this many seconds after the previous
    /// one, proportionally less at higher rates, so a minute of drift at 1 Hz cannot outvote
    /// the street network's continuity.
    pub error_correlation_s: f64,
    /// Scale of the transition penalty for a way along the network longer than the straight
    /// line between two fixes (metres).
    pub transition_beta_m: f64,
    /// How much longer than the straight line a way between consecutive fixes may be.
    pub detour_slack_m: f64,
    /// No way between fixes may need a speed above this (plus the tolerances).
    pub max_speed_mps: f64,
    /// A longer time without a matched fix ends the chain.
    pub max_gap_s: f64,
    /// This many unreachable fixes in a row end the chain; matching restarts at the first.
    pub max_outliers: usize,
}

impl Default for MatchConfig {
    fn default() -> Self {
        Self {
            base_tolerance_m: 25.0,
            accuracy_tolerance_factor: 2.0,
            max_tolerance_m: 75.0,
            max_candidates: 6,
            default_accuracy_m: 10.0,
            min_sigma_m: 3.0,
            heading_weight: 2.0,
            unnamed_penalty: 0.7,
            heading_min_speed_mps: 0.5,
            derived_heading_window_s: 15.0,
            derived_heading_min_m: 15.0,
            error_correlation_s: 10.0,
            transition_beta_m: 10.0,
            detour_slack_m: 60.0,
            max_speed_mps: 7.0,
            max_gap_s: 60.0,
            max_outliers: 8,
        }
    }
}

impl MatchConfig {
    /// The matching tolerance for a fix of the given accuracy.
    pub fn tolerance_m(&self, accuracy_m: Option<f64>) -> f64 {
        let widened = accuracy_m
            .filter(|a| a.is_finite() && *a > 0.0)
            .map_or(0.0, |a| a * self.accuracy_tolerance_factor);
        self.base_tolerance_m
            .max(widened)
            .min(self.max_tolerance_m.max(self.base_tolerance_m))
    }

    fn sigma_m(&self, accuracy_m: Option<f64>) -> f64 {
        // Platforms report a 68 % radius; per axis that is about accuracy / 1.5.
        let a = accuracy_m
            .filter(|a| a.is_finite() && *a > 0.0)
            .unwrap_or(self.default_accuracy_m);
        (a / 1.5).max(self.min_sigma_m)
    }
}

/// One fix placed on a segment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchedFix {
    /// Index of the fix in the slice given to [`match_track`].
    pub fix: usize,
    pub segment: usize,
    /// Distance along the segment, projected metres.
    pub offset_m: f64,
    /// Distance from the fix to the segment, metres.
    pub distance_m: f64,
}

/// Fixes matched one after another with a plausible way along the network between each pair.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MatchedRun {
    pub fixes: Vec<MatchedFix>,
}

/// The outcome of matching a track.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrackMatch {
    pub runs: Vec<MatchedRun>,
    /// Kept fixes with valid coordinates that were considered.
    pub fixes_considered: usize,
    pub fixes_matched: usize,
    /// Fixes with no segment within tolerance.
    pub fixes_off_network: usize,
}

struct Point {
    fix: usize,
    x: f64,
    y: f64,
    time_ms: Option<i64>,
    track_segment: i64,
    accuracy_m: Option<f64>,
    /// Unit heading (x east, y north) and how much to trust it.
    heading: Option<([f64; 2], f64)>,
}

struct Step {
    point: usize,
    start: usize,
    end: usize,
}

/// The Viterbi lattice of the current chain, in flat vectors reused across chains.
#[derive(Default)]
struct Chain {
    steps: Vec<Step>,
    hits: Vec<SegmentHit>,
    scores: Vec<f64>,
    backs: Vec<u32>,
}

impl Chain {
    /// Whether the chain must end before point `p`: a time gap or a new track segment.
    fn breaks_before(&self, points: &[Point], p: &Point, config: &MatchConfig) -> bool {
        let Some(last) = self.steps.last() else {
            return false;
        };
        let q = &points[last.point];
        let gap = match (q.time_ms, p.time_ms) {
            (Some(a), Some(b)) => (b - a) as f64 / 1000.0 > config.max_gap_s,
            _ => false,
        };
        gap || q.track_segment != p.track_segment
    }

    /// Starts the chain at point `i` with its candidates, scored by emission alone.
    fn start(&mut self, i: usize, hits: &[SegmentHit], emission: &Emission<'_>) {
        self.steps.push(Step {
            point: i,
            start: 0,
            end: hits.len(),
        });
        self.scores.extend(hits.iter().map(|h| emission.score(h)));
        self.backs.extend(std::iter::repeat_n(u32::MAX, hits.len()));
        self.hits.extend_from_slice(hits);
    }

    /// Adds point `i` with its candidates as scored by `t`, shifted so the best is zero (a
    /// day-long chain does not lose precision).
    fn extend(&mut self, i: usize, hits: &[SegmentHit], t: &Transitions) {
        let top = t.scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let start = self.hits.len();
        self.steps.push(Step {
            point: i,
            start,
            end: start + hits.len(),
        });
        self.hits.extend_from_slice(hits);
        self.scores.extend(t.scores.iter().map(|s| s - top));
        self.backs.extend_from_slice(&t.backs);
    }

    fn clear(&mut self) {
        self.steps.clear();
        self.hits.clear();
        self.scores.clear();
        self.backs.clear();
    }

    /// Backtracks the best path and appends it as a run.
    fn finish(&mut self, points: &[Point], out: &mut TrackMatch) {
        let Some(last) = self.steps.last() else {
            return;
        };
        let mut k = (last.start..last.end)
            .max_by(|&a, &b| self.scores[a].total_cmp(&self.scores[b]))
            .unwrap_or(last.start);
        let mut fixes = Vec::with_capacity(self.steps.len());
        for step in self.steps.iter().rev() {
            let h = self.hits[k];
            fixes.push(MatchedFix {
                fix: points[step.point].fix,
                segment: h.segment,
                offset_m: h.offset_m,
                distance_m: h.distance_m,
            });
            k = self.backs[k] as usize;
        }
        fixes.reverse();
        out.fixes_matched += fixes.len();
        out.runs.push(MatchedRun { fixes });
        self.clear();
    }
}

/// Matches the kept fixes of a track (in `seq` order) to the network. Rejected fixes and fixes
/// with invalid coordinates are ignored.
///
/// One Viterbi chain grows point by point: candidates near each point (emission: distance,
/// named streets, heading), transitions from the chain's last candidates along the network
/// (route length against the straight line). A time gap or a new track segment ends the chain;
/// a point nothing in the chain leads to is an outlier, and too many in a row end the chain and
/// start a new one at the first of them.
pub fn match_track(net: &IndexedNetwork, fixes: &[StoredFix], config: &MatchConfig) -> TrackMatch {
    let points = prepare(net, fixes, config);
    let mut out = TrackMatch {
        fixes_considered: points.len(),
        ..Default::default()
    };
    let mut chain = Chain::default();
    let mut work = Transitions::default();
    let mut hits = Vec::new();
    let mut outliers = 0usize;
    let mut first_outlier: Option<usize> = None;
    let mut off_network = vec![false; points.len()];
    let mut i = 0;
    while i < points.len() {
        let p = &points[i];
        if chain.breaks_before(&points, p, config) {
            chain.finish(&points, &mut out);
            if let Some(first) = first_outlier.take() {
                outliers = 0;
                i = first;
                continue;
            }
        }
        let tolerance = config.tolerance_m(p.accuracy_m);
        net.nearest_segments_into(p.x, p.y, tolerance, config.max_candidates, &mut hits);
        if hits.is_empty() {
            off_network[i] = true;
            i += 1;
            continue;
        }
        let emission = Emission::at(net, config, &chain, &points, p);
        if chain.steps.is_empty() {
            chain.start(i, &hits, &emission);
            i += 1;
            continue;
        }
        if !work.score(net, config, &chain, &points, p, tolerance, &hits, &emission) {
            // Nothing of the chain leads here: an outlier, or the walker left the mapped streets.
            first_outlier.get_or_insert(i);
            outliers += 1;
            if outliers > config.max_outliers {
                chain.finish(&points, &mut out);
                i = first_outlier.take().unwrap_or(i);
                outliers = 0;
            } else {
                i += 1;
            }
            continue;
        }
        outliers = 0;
        first_outlier = None;
        chain.extend(i, &hits, &work);
        i += 1;
    }
    chain.finish(&points, &mut out);
    out.fixes_off_network = off_network.iter().filter(|o| **o).count();
    out
}

/// How well a candidate explains a point: its distance against the point's accuracy, a penalty
/// for unnamed ways, the heading, weighted by how independent the point is of the last one.
struct Emission<'a> {
    net: &'a IndexedNetwork,
    config: &'a MatchConfig,
    sigma: f64,
    weight: f64,
    heading: Option<([f64; 2], f64)>,
}

impl<'a> Emission<'a> {
    fn at(
        net: &'a IndexedNetwork,
        config: &'a MatchConfig,
        chain: &Chain,
        points: &[Point],
        p: &Point,
    ) -> Self {
        let weight = match (
            chain.steps.last().and_then(|l| points[l.point].time_ms),
            p.time_ms,
        ) {
            (Some(a), Some(b)) if config.error_correlation_s > 0.0 => {
                ((b - a) as f64 / 1000.0 / config.error_correlation_s).clamp(0.05, 1.0)
            }
            _ => 1.0,
        };
        Self {
            net,
            config,
            sigma: config.sigma_m(p.accuracy_m),
            weight,
            heading: p.heading,
        }
    }

    #[inline]
    fn score(&self, h: &SegmentHit) -> f64 {
        let z = h.distance_m / self.sigma;
        let mut e = -0.5 * z * z;
        if !self.net.network.segment_is_named(h.segment) {
            e -= self.config.unnamed_penalty;
        }
        if let Some((dir, trust)) = self.heading {
            let cross = dir[0] * h.direction[1] - dir[1] * h.direction[0];
            e -= self.config.heading_weight * trust * cross * cross;
        }
        e * self.weight
    }
}

/// The best way into each candidate of a new point from the chain's last step, in buffers
/// reused across points.
#[derive(Default)]
struct Transitions {
    scratch: RouteScratch,
    scores: Vec<f64>,
    backs: Vec<u32>,
}

impl Transitions {
    /// Scores every candidate in `hits` (best predecessor plus emission); `false` when no
    /// predecessor reaches any of them within the distance a walk allows.
    #[allow(
        clippy::too_many_arguments,
        reason = "the lattice, the new point and its candidates are each one input of the step"
    )]
    fn score(
        &mut self,
        net: &IndexedNetwork,
        config: &MatchConfig,
        chain: &Chain,
        points: &[Point],
        p: &Point,
        tolerance: f64,
        hits: &[SegmentHit],
        emission: &Emission<'_>,
    ) -> bool {
        let Some(last) = chain.steps.last() else {
            return false;
        };
        let q = &points[last.point];
        let straight = (p.x - q.x).hypot(p.y - q.y);
        let mut limit = straight + config.detour_slack_m.max(2.0 * tolerance);
        if let (Some(a), Some(b)) = (q.time_ms, p.time_ms) {
            let dt = ((b - a) as f64 / 1000.0).max(1.0);
            limit = limit.min(config.max_speed_mps * dt + 2.0 * tolerance);
        }
        self.scores.clear();
        self.backs.clear();
        let mut any = false;
        for h in hits {
            let mut best = f64::NEG_INFINITY;
            let mut back = u32::MAX;
            let to = Place {
                segment: h.segment,
                offset_m: h.offset_m,
            };
            for k in last.start..last.end {
                let prev = chain.hits[k];
                let from = Place {
                    segment: prev.segment,
                    offset_m: prev.offset_m,
                };
                let Some(d) = net
                    .network
                    .route_distance_m(from, to, limit, &mut self.scratch)
                else {
                    continue;
                };
                let s = chain.scores[k] - (d - straight).abs() / config.transition_beta_m;
                if s > best {
                    best = s;
                    back = k as u32;
                }
            }
            if back != u32::MAX {
                any = true;
                self.scores.push(best + emission.score(h));
            } else {
                self.scores.push(f64::NEG_INFINITY);
            }
            self.backs.push(back);
        }
        any
    }
}

/// Projects the kept fixes and works out a heading for each.
fn prepare(net: &IndexedNetwork, fixes: &[StoredFix], config: &MatchConfig) -> Vec<Point> {
    let proj = &net.network.projection;
    let mut points: Vec<Point> = fixes
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            f.verdict == FixVerdict::Kept && crate::geodesy::check_coordinates(f.lat, f.lon).is_ok()
        })
        .map(|(i, f)| {
            let (x, y) = proj.to_metres(f.lat, f.lon);
            let moving = f
                .speed_mps
                .is_none_or(|s| s >= config.heading_min_speed_mps);
            let heading = f.bearing_deg.filter(|b| b.is_finite() && moving).map(|b| {
                let r = b.to_radians();
                ([r.sin(), r.cos()], 1.0)
            });
            Point {
                fix: i,
                x,
                y,
                time_ms: f.time_ms,
                track_segment: f.segment,
                accuracy_m: f.accuracy_m,
                heading,
            }
        })
        .collect();
    // Direction of travel for fixes without a usable bearing: from the fix `window` seconds
    // before to the one `window` seconds after, when the walker moved far enough between them.
    let window_ms = (config.derived_heading_window_s * 1000.0) as i64;
    let (mut lo, mut hi) = (0usize, 0usize);
    for i in 0..points.len() {
        let (Some(t), seg) = (points[i].time_ms, points[i].track_segment) else {
            continue;
        };
        while lo < i
            && (points[lo].track_segment != seg
                || points[lo].time_ms.is_none_or(|tl| tl < t - window_ms))
        {
            lo += 1;
        }
        hi = hi.max(i);
        while hi + 1 < points.len()
            && points[hi + 1].track_segment == seg
            && points[hi + 1].time_ms.is_some_and(|th| th <= t + window_ms)
        {
            hi += 1;
        }
        if points[i].heading.is_some() {
            continue;
        }
        let (a, b) = (&points[lo], &points[hi]);
        let (dx, dy) = (b.x - a.x, b.y - a.y);
        let d = dx.hypot(dy);
        let needed = config
            .derived_heading_min_m
            .max(2.0 * points[i].accuracy_m.unwrap_or(0.0));
        if d >= needed {
            points[i].heading = Some(([dx / d, dy / d], 0.5));
        }
    }
    points
}

/// A single place matched to its street: where an issue was reported, a signboard stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PointMatch {
    pub street_id: StreetId,
    pub street_name: Option<String>,
    pub segment_id: SegmentId,
    /// Distance along the segment from its first vertex, metres.
    pub offset_m: f64,
    /// Distance from the point to the segment, metres.
    pub distance_m: f64,
}

/// Matches one point to the most likely segment within the tolerance (distance and, when a
/// bearing is given, heading), or `None` when no street is that close.
pub fn match_point(
    net: &IndexedNetwork,
    lat: f64,
    lon: f64,
    accuracy_m: Option<f64>,
    bearing_deg: Option<f64>,
    config: &MatchConfig,
) -> Option<PointMatch> {
    let hits = net.nearest_segments(
        lat,
        lon,
        config.tolerance_m(accuracy_m),
        config.max_candidates,
    );
    let sigma = config.sigma_m(accuracy_m);
    let heading = bearing_deg
        .filter(|b| b.is_finite())
        .map(|b| (b.to_radians().sin(), b.to_radians().cos()));
    let score = |h: &SegmentHit| {
        let z = h.distance_m / sigma;
        let turn = heading.map_or(0.0, |(hx, hy)| {
            let c = hx * h.direction[1] - hy * h.direction[0];
            c * c
        });
        let unnamed = if net.network.segment_is_named(h.segment) {
            0.0
        } else {
            config.unnamed_penalty
        };
        -0.5 * z * z - config.heading_weight * turn - unnamed
    };
    let best = hits.iter().max_by(|a, b| score(a).total_cmp(&score(b)))?;
    let seg = &net.network.segments[best.segment];
    let street = net.network.street_of(best.segment);
    Some(PointMatch {
        street_id: street.id,
        street_name: street.name.clone(),
        segment_id: seg.id,
        offset_m: best.offset_m * seg.scale(),
        distance_m: best.distance_m,
    })
}

/// How a track matched the network, in counts (kept, matched, off the network, runs); summed
/// over patrols for a period.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct MatchSummary {
    pub fixes_kept: u64,
    pub fixes_matched: u64,
    /// Kept fixes farther than the tolerance from every street.
    pub fixes_off_network: u64,
    /// Stretches matched without a break.
    pub runs: u64,
}

impl MatchSummary {
    pub fn add(&mut self, m: &TrackMatch) {
        self.fixes_kept += m.fixes_considered as u64;
        self.fixes_matched += m.fixes_matched as u64;
        self.fixes_off_network += m.fixes_off_network as u64;
        self.runs += m.runs.len() as u64;
    }

    pub fn merge(&mut self, other: &MatchSummary) {
        self.fixes_kept += other.fixes_kept;
        self.fixes_matched += other.fixes_matched;
        self.fixes_off_network += other.fixes_off_network;
        self.runs += other.runs;
    }
}
