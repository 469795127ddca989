//! Track metrics over stored fixes: geodesic distances, duration, moving time, gaps, bounding box
//! and a Ramer-Douglas-Peucker simplification done in a local metric projection.

use std::collections::BTreeMap;

use geo::{LineString, Simplify};
use serde::{Deserialize, Serialize};

use crate::domain::{FixVerdict, StoredFix};
use crate::geodesy::{BoundingBox, LocalProjection, check_coordinates, haversine_distance_m};
use crate::track::MetricsConfig;

/// A stretch with no kept fix for longer than the configured gap, within one segment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    pub segment: i64,
    pub from_ms: i64,
    pub to_ms: i64,
    pub duration_s: f64,
}

/// What a track adds up to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackStats {
    /// Every stored fix.
    pub fixes_read: u64,
    pub fixes_kept: u64,
    /// Rejected fixes by reason (every reason listed, zeros included).
    pub rejected: BTreeMap<String, u64>,
    /// Track segments holding at least one fix.
    pub segments: u64,
    /// Haversine length of the kept fixes, segment by segment, with the jitter floor applied.
    pub distance_m: f64,
    /// Haversine length of every fix with valid coordinates, segment by segment, unfiltered.
    pub raw_distance_m: f64,
    /// From the first to the last kept fix with a time; 0 when the track has no times.
    pub duration_s: f64,
    /// Time spent moving faster than the walking threshold between kept fixes, gaps excluded.
    pub moving_s: f64,
    pub has_timestamps: bool,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub gaps: Vec<Gap>,
    pub bbox: Option<BoundingBox>,
    /// Points left after simplification (the track drawn on a map and uploaded).
    pub simplified_points: u64,
}

/// Computes the metrics of a patrol's fixes, given in `seq` order.
pub fn compute_stats(config: &MetricsConfig, fixes: &[StoredFix]) -> TrackStats {
    let mut rejected: BTreeMap<String, u64> = FixVerdict::ALL
        .iter()
        .filter(|v| **v != FixVerdict::Kept)
        .map(|v| (v.as_str().to_owned(), 0))
        .collect();
    let mut segments = std::collections::BTreeSet::new();
    for f in fixes {
        segments.insert(f.segment);
        if f.verdict != FixVerdict::Kept {
            *rejected.entry(f.verdict.as_str().to_owned()).or_default() += 1;
        }
    }

    let raw_distance_m = segment_pairs(
        fixes
            .iter()
            .filter(|f| check_coordinates(f.lat, f.lon).is_ok()),
    )
    .map(|(a, b)| haversine_distance_m(a.lat, a.lon, b.lat, b.lon))
    .sum();

    let kept: Vec<&StoredFix> = fixes
        .iter()
        .filter(|f| f.verdict == FixVerdict::Kept)
        .collect();
    let distance_m = floored_distance_m(config, &kept);

    let mut moving_s = 0.0;
    let mut gaps = Vec::new();
    for (a, b) in segment_pairs(kept.iter().copied()) {
        let (Some(t0), Some(t1)) = (a.time_ms, b.time_ms) else {
            continue;
        };
        let dt_s = (t1 - t0) as f64 / 1000.0;
        if dt_s > config.gap_s {
            gaps.push(Gap {
                segment: a.segment,
                from_ms: t0,
                to_ms: t1,
                duration_s: dt_s,
            });
        } else if dt_s > 0.0
            && haversine_distance_m(a.lat, a.lon, b.lat, b.lon) / dt_s >= config.moving_speed_mps
        {
            moving_s += dt_s;
        }
    }

    let times = || kept.iter().filter_map(|f| f.time_ms);
    let start_ms = times().min();
    let end_ms = times().max();
    let duration_s = match (start_ms, end_ms) {
        (Some(a), Some(b)) => (b - a) as f64 / 1000.0,
        _ => 0.0,
    };

    let simplified_points = simplify_track(config.simplify_tolerance_m, fixes)
        .iter()
        .map(|s| s.len() as u64)
        .sum();

    TrackStats {
        fixes_read: fixes.len() as u64,
        fixes_kept: kept.len() as u64,
        rejected,
        segments: segments.len() as u64,
        distance_m,
        raw_distance_m,
        duration_s,
        moving_s,
        has_timestamps: start_ms.is_some(),
        start_ms,
        end_ms,
        gaps,
        bbox: BoundingBox::of_points(kept.iter().map(|f| (f.lat, f.lon))),
        simplified_points,
    }
}

/// Consecutive pairs of fixes that lie in the same segment.
fn segment_pairs<'a>(
    fixes: impl Iterator<Item = &'a StoredFix>,
) -> impl Iterator<Item = (&'a StoredFix, &'a StoredFix)> {
    let mut prev: Option<&StoredFix> = None;
    fixes.filter_map(move |f| {
        let pair = prev.filter(|p| p.segment == f.segment).map(|p| (p, f));
        prev = Some(f);
        pair
    })
}

/// Length of the kept fixes, where a step is only counted once the walker has moved farther
/// from the last counted point than the noise of the fix (a multiple of its accuracy).
fn floored_distance_m(config: &MetricsConfig, kept: &[&StoredFix]) -> f64 {
    let mut total = 0.0;
    for segment in kept.chunk_by(|a, b| a.segment == b.segment) {
        let mut counted = segment[0];
        for f in &segment[1..] {
            let d = haversine_distance_m(counted.lat, counted.lon, f.lat, f.lon);
            let floor = config.jitter_floor_accuracy_factor * f.accuracy_m.unwrap_or(0.0).min(20.0);
            if d >= floor {
                total += d;
                counted = f;
            }
        }
        // The walk did reach the segment's last fix: count what the floor held back.
        let last = segment[segment.len() - 1];
        total += haversine_distance_m(counted.lat, counted.lon, last.lat, last.lon);
    }
    total
}

/// The kept fixes of each segment simplified with Ramer-Douglas-Peucker at `tolerance_m`,
/// computed in a local metric projection and returned as (lat, lon).
pub fn simplify_track(tolerance_m: f64, fixes: &[StoredFix]) -> Vec<Vec<(f64, f64)>> {
    let kept: Vec<&StoredFix> = fixes
        .iter()
        .filter(|f| f.verdict == FixVerdict::Kept)
        .collect();
    let Some(proj) = LocalProjection::centred_on(kept.iter().map(|f| (f.lat, f.lon))) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for segment in kept.chunk_by(|a, b| a.segment == b.segment) {
        let line: LineString<f64> = segment
            .iter()
            .map(|f| proj.to_metres(f.lat, f.lon))
            .collect::<Vec<_>>()
            .into();
        let simplified = line.simplify(tolerance_m);
        out.push(
            simplified
                .0
                .iter()
                .map(|c| proj.to_degrees(c.x, c.y))
                .collect(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_700_000_000_000;
    const M_PER_DEG: f64 = 111_195.08;

    fn stored(seq: i64, segment: i64, north_m: f64, east_m: f64, t_s: Option<f64>) -> StoredFix {
        StoredFix {
            seq,
            segment,
            lat: 39.9 + north_m / M_PER_DEG,
            lon: 116.2 + east_m / (M_PER_DEG * 39.9f64.to_radians().cos()),
            accuracy_m: None,
            altitude_m: None,
            speed_mps: None,
            bearing_deg: None,
            time_ms: t_s.map(|s| T0 + (s * 1000.0) as i64),
            provider: None,
            is_mock: false,
            verdict: FixVerdict::Kept,
        }
    }

    #[test]
    fn straight_walk_metrics() {
        // 101 fixes, 1 m/s north for 100 s.
        let fixes: Vec<_> = (0..=100)
            .map(|i| stored(i, 0, i as f64, 0.0, Some(i as f64)))
            .collect();
        let s = compute_stats(&MetricsConfig::default(), &fixes);
        assert!((s.distance_m - 100.0).abs() < 0.1, "{}", s.distance_m);
        assert!((s.raw_distance_m - 100.0).abs() < 0.1);
        assert_eq!(s.duration_s, 100.0);
        assert_eq!(s.moving_s, 100.0);
        assert_eq!(s.simplified_points, 2, "a straight line keeps its ends");
        assert!(s.gaps.is_empty());
        assert_eq!(s.segments, 1);
    }

    #[test]
    fn segments_are_not_bridged_and_gaps_are_found() {
        let mut fixes = vec![
            stored(0, 0, 0.0, 0.0, Some(0.0)),
            stored(1, 0, 10.0, 0.0, Some(10.0)),
        ];
        // A second segment 1 km away: no distance across the break.
        fixes.push(stored(2, 1, 1000.0, 0.0, Some(20.0)));
        fixes.push(stored(3, 1, 1010.0, 0.0, Some(200.0)));
        let s = compute_stats(&MetricsConfig::default(), &fixes);
        assert!((s.distance_m - 20.0).abs() < 0.01, "{}", s.distance_m);
        assert_eq!(s.segments, 2);
        assert_eq!(s.gaps.len(), 1);
        assert_eq!(s.gaps[0].duration_s, 180.0);
    }

    #[test]
    fn rejected_fixes_count_only_in_raw_distance() {
        let mut fixes: Vec<_> = (0..3)
            .map(|i| stored(i, 0, i as f64 * 10.0, 0.0, Some(i as f64 * 10.0)))
            .collect();
        fixes[1].lat += 200.0 / M_PER_DEG;
        fixes[1].verdict = FixVerdict::ImpossibleSpeed;
        let s = compute_stats(&MetricsConfig::default(), &fixes);
        assert!((s.distance_m - 20.0).abs() < 0.01);
        assert!(s.raw_distance_m > 400.0);
        assert_eq!(s.rejected["impossible_speed"], 1);
        assert_eq!(s.rejected["duplicate"], 0);
        assert_eq!(s.fixes_kept, 2);
    }

    #[test]
    fn standing_still_adds_no_jitter_distance() {
        // An hour at 1 Hz within a 3 m wobble, accuracy 8 m.
        let fixes: Vec<_> = (0..3600)
            .map(|i| {
                let mut f = stored(
                    i,
                    0,
                    ((i * 37) % 7) as f64 * 0.5,
                    ((i * 53) % 5) as f64 * 0.5,
                    Some(i as f64),
                );
                f.accuracy_m = Some(8.0);
                f
            })
            .collect();
        let s = compute_stats(&MetricsConfig::default(), &fixes);
        assert!(s.distance_m < 5.0, "{}", s.distance_m);
        assert!(s.raw_distance_m > 1000.0);
    }

    #[test]
    fn no_times_means_no_duration() {
        let fixes: Vec<_> = (0..5)
            .map(|i| stored(i, 0, i as f64 * 5.0, 0.0, None))
            .collect();
        let s = compute_stats(&MetricsConfig::default(), &fixes);
        assert_eq!(s.duration_s, 0.0);
        assert!(!s.has_timestamps);
        assert!((s.distance_m - 20.0).abs() < 0.01);
    }

    #[test]
    fn simplification_keeps_corners() {
        // An L: 50 m north then 50 m east, a fix every metre.
        let mut fixes: Vec<_> = (0..=50)
            .map(|i| stored(i, 0, i as f64, 0.0, None))
            .collect();
        fixes.extend((1..=50).map(|i| stored(50 + i, 0, 50.0, i as f64, None)));
        let simplified = simplify_track(5.0, &fixes);
        assert_eq!(simplified[0].len(), 3);
    }
}
