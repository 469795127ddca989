//! A GPS walk simulator: a walker following a route at walking speed, sampled by a receiver with
//! realistic error (correlated drift plus white noise, the occasional multipath spike, honest
//! accuracy figures). The demo, benchmarks and tests use it to produce patrols that go through
//! exactly the API a phone uses. Deterministic for a given seed; no dependencies.

use crate::domain::NewFix;
use crate::geodesy::{LocalProjection, haversine_distance_m};

pub use crate::rng::SimRng;

/// How the simulated receiver behaves.
#[derive(Debug, Clone)]
pub struct ReceiverModel {
    /// Seconds between fixes.
    pub interval_s: f64,
    /// Typical horizontal error (1 sigma per axis), metres.
    pub error_sigma_m: f64,
    /// How much of the error carries over from one second to the next (0 = white noise; real
    /// receivers drift slowly, around 0.99 at 1 Hz).
    pub error_correlation: f64,
    /// Chance per fix of a multipath spike far off the route.
    pub spike_probability: f64,
    pub spike_distance_m: f64,
}

impl Default for ReceiverModel {
    fn default() -> Self {
        Self {
            interval_s: 1.0,
            error_sigma_m: 5.0,
            error_correlation: 0.99,
            spike_probability: 0.005,
            spike_distance_m: 150.0,
        }
    }
}

/// A position along the route at some time: ground truth for tests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TruePosition {
    pub lat: f64,
    pub lon: f64,
    pub time_ms: i64,
}

/// Walks `route` (WGS-84 (lat, lon) vertices) at `speed_mps`, starting at `start_ms`, and returns
/// the fixes a phone would deliver with the truth they came from. `dwell` optionally stands still
/// at a fraction of the route (0..1) for some seconds (talking to a merchant).
pub fn simulate_walk(
    route: &[(f64, f64)],
    speed_mps: f64,
    start_ms: i64,
    receiver: &ReceiverModel,
    dwell: Option<(f64, f64)>,
    rng: &mut SimRng,
) -> Vec<(NewFix, TruePosition)> {
    let Some(proj) = LocalProjection::centred_on(route.iter().copied()) else {
        return Vec::new();
    };
    let pts: Vec<(f64, f64)> = route
        .iter()
        .map(|&(la, lo)| proj.to_metres(la, lo))
        .collect();
    let mut cumulative = vec![0.0];
    for w in pts.windows(2) {
        let d = (w[1].0 - w[0].0).hypot(w[1].1 - w[0].1);
        cumulative.push(cumulative.last().copied().unwrap_or(0.0) + d);
    }
    let length = cumulative.last().copied().unwrap_or(0.0);
    let (dwell_at_m, dwell_s) = dwell
        .map(|(f, s)| (f.clamp(0.0, 1.0) * length, s))
        .unwrap_or((f64::MAX, 0.0));
    let walk_s = if speed_mps > 0.0 {
        length / speed_mps
    } else {
        0.0
    };
    let total_s = walk_s + dwell_s;

    let position_at = |along: f64| -> ((f64, f64), f64) {
        let i = cumulative
            .partition_point(|c| *c <= along)
            .clamp(1, pts.len().max(2) - 1);
        let (a, b) = (pts[i - 1], pts.get(i).copied().unwrap_or(pts[i - 1]));
        let seg = cumulative.get(i).copied().unwrap_or(length) - cumulative[i - 1];
        let t = if seg > 0.0 {
            ((along - cumulative[i - 1]) / seg).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let bearing = (b.0 - a.0).atan2(b.1 - a.1).to_degrees().rem_euclid(360.0);
        ((a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t), bearing)
    };

    let mut out = Vec::new();
    let (mut ex, mut ey) = (0.0, 0.0);
    let rho = receiver.error_correlation.clamp(0.0, 0.999);
    let innovation = receiver.error_sigma_m * (1.0 - rho * rho).sqrt();
    let mut t = 0.0;
    while t <= total_s + 1e-9 {
        let along = if t * speed_mps < dwell_at_m {
            t * speed_mps
        } else if t < dwell_at_m / speed_mps + dwell_s {
            dwell_at_m
        } else {
            (t - dwell_s) * speed_mps
        }
        .min(length);
        let moving = along < length && !(along == dwell_at_m && t * speed_mps >= dwell_at_m);
        let ((x, y), bearing) = position_at(along);
        ex = rho * ex + innovation * rng.normal();
        ey = rho * ey + innovation * rng.normal();
        let (mut nx, mut ny) = (x + ex, y + ey);
        if rng.uniform() < receiver.spike_probability {
            let angle = rng.range(0.0, std::f64::consts::TAU);
            nx += receiver.spike_distance_m * angle.cos();
            ny += receiver.spike_distance_m * angle.sin();
        }
        let (lat, lon) = proj.to_degrees(nx, ny);
        let (tlat, tlon) = proj.to_degrees(x, y);
        let time_ms = start_ms + (t * 1000.0).round() as i64;
        let accuracy = (receiver.error_sigma_m * 1.5 * rng.range(0.8, 1.25) * 10.0).round() / 10.0;
        let fix = NewFix {
            lat,
            lon,
            accuracy_m: Some(accuracy),
            altitude_m: Some(60.0 + rng.normal()),
            speed_mps: Some(if moving {
                (speed_mps + 0.2 * rng.normal()).max(0.0)
            } else {
                0.0
            }),
            bearing_deg: moving.then_some(bearing),
            time_ms: Some(time_ms),
            provider: Some("gps".into()),
            is_mock: false,
            datum: crate::domain::Datum::Wgs84,
        };
        out.push((
            fix,
            TruePosition {
                lat: tlat,
                lon: tlon,
                time_ms,
            },
        ));
        t += receiver.interval_s;
    }
    out
}

/// Length of a route in metres (Haversine).
pub fn route_length_m(route: &[(f64, f64)]) -> f64 {
    route
        .windows(2)
        .map(|w| haversine_distance_m(w[0].0, w[0].1, w[1].0, w[1].1))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulated_walk_has_the_asked_error_and_length() {
        let route = [(39.9, 116.2), (39.905, 116.2), (39.905, 116.206)];
        let mut rng = SimRng::new(7);
        let rx = ReceiverModel {
            spike_probability: 0.0,
            ..Default::default()
        };
        let walk = simulate_walk(&route, 1.4, 0, &rx, Some((0.5, 120.0)), &mut rng);
        let length = route_length_m(&route);
        let expected_fixes = (length / 1.4 + 120.0) as usize;
        assert!(
            walk.len().abs_diff(expected_fixes) <= 2,
            "{} vs {expected_fixes}",
            walk.len()
        );
        let errors: Vec<f64> = walk
            .iter()
            .map(|(f, t)| haversine_distance_m(f.lat, f.lon, t.lat, t.lon))
            .collect();
        let rms = (errors.iter().map(|e| e * e).sum::<f64>() / errors.len() as f64).sqrt();
        // Radial RMS of a 2-D error with sigma 5 per axis is about 7 m.
        assert!((3.0..12.0).contains(&rms), "{rms}");
        let last = walk.last().unwrap().1;
        assert!(haversine_distance_m(last.lat, last.lon, 39.905, 116.206) < 2.0);
    }
}
