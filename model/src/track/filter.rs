//! The fix filter: decides, fix by fix and in arrival order, whether a fix is kept or why it is
//! rejected. Pure: the caller stores every fix with its verdict and feeds the state forward.

use serde::{Deserialize, Serialize};

use crate::domain::{FixVerdict, NewFix};
use crate::geodesy::{check_coordinates, haversine_distance_m};
use crate::track::FilterConfig;

/// The last kept fix: what the next fix is judged against.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Anchor {
    pub lat: f64,
    pub lon: f64,
    pub time_ms: Option<i64>,
}

/// What the filter remembers between fixes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FilterState {
    pub last_kept: Option<Anchor>,
    /// Speed or jump rejections in a row since the last kept fix.
    pub consecutive_motion_rejections: u32,
}

impl FilterState {
    /// Judges `fix` (WGS-84) and advances the state; returns the verdict. `next` is the fix
    /// after it when known (a file being imported), which lets untimed spikes be recognised.
    pub fn push(
        &mut self,
        config: &FilterConfig,
        fix: &NewFix,
        next: Option<&NewFix>,
    ) -> FixVerdict {
        let verdict = judge_fix(config, self, fix, next);
        self.record(fix, verdict);
        verdict
    }

    /// Advances the state by a fix already judged.
    pub fn record(&mut self, fix: &NewFix, verdict: FixVerdict) {
        match verdict {
            FixVerdict::Kept => {
                self.last_kept = Some(Anchor {
                    lat: fix.lat,
                    lon: fix.lon,
                    time_ms: fix.time_ms,
                });
                self.consecutive_motion_rejections = 0;
            }
            FixVerdict::ImpossibleSpeed | FixVerdict::Jump => {
                self.consecutive_motion_rejections += 1;
            }
            _ => {}
        }
    }
}

/// The verdict for `fix` (WGS-84) given what came before (and, for files, the fix after it).
/// Checks run from the cheapest and most certain (the coordinates themselves) to those that
/// depend on the neighbours.
pub fn judge_fix(
    config: &FilterConfig,
    state: &FilterState,
    fix: &NewFix,
    next: Option<&NewFix>,
) -> FixVerdict {
    if check_coordinates(fix.lat, fix.lon).is_err() {
        return FixVerdict::InvalidCoordinates;
    }
    if fix.is_mock && config.reject_mock {
        return FixVerdict::MockLocation;
    }
    if let Some(acc) = fix.accuracy_m
        && acc > config.max_accuracy_m
    {
        return FixVerdict::PoorAccuracy;
    }
    let Some(last) = state.last_kept else {
        return FixVerdict::Kept;
    };
    let distance_m = haversine_distance_m(last.lat, last.lon, fix.lat, fix.lon);
    match (last.time_ms, fix.time_ms) {
        (Some(t0), Some(t1)) if t1 < t0 => FixVerdict::OutOfOrder,
        (Some(t0), Some(t1)) => {
            if t1 == t0 && distance_m <= config.duplicate_radius_m {
                return FixVerdict::Duplicate;
            }
            // The fix's own uncertainty is allowed for, so a poor but honest fix next to a good
            // one does not look like a sprint.
            let slack_m = fix.accuracy_m.unwrap_or(0.0);
            let moved_m = (distance_m - slack_m).max(0.0);
            let dt_s = ((t1 - t0) as f64 / 1000.0).max(config.min_interval_s);
            if moved_m / dt_s > config.max_speed_mps {
                motion_rejection(config, state, FixVerdict::ImpossibleSpeed)
            } else {
                FixVerdict::Kept
            }
        }
        _ => {
            if distance_m <= config.duplicate_radius_m && last.time_ms == fix.time_ms {
                return FixVerdict::Duplicate;
            }
            // Without times, sparse sampling and a spike look alike from behind; a spike is the
            // point that goes far out while its neighbours stay close to each other.
            let spike = next.is_some_and(|n| {
                check_coordinates(n.lat, n.lon).is_ok()
                    && distance_m > config.max_jump_m
                    && haversine_distance_m(fix.lat, fix.lon, n.lat, n.lon) > config.max_jump_m
                    && haversine_distance_m(last.lat, last.lon, n.lat, n.lon) < distance_m / 2.0
            });
            if spike {
                motion_rejection(config, state, FixVerdict::Jump)
            } else {
                FixVerdict::Kept
            }
        }
    }
}

/// A speed or jump rejection, unless so many came in a row that the new position is trusted.
fn motion_rejection(config: &FilterConfig, state: &FilterState, verdict: FixVerdict) -> FixVerdict {
    if config.reanchor_after > 0 && state.consecutive_motion_rejections >= config.reanchor_after {
        FixVerdict::Kept
    } else {
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_700_000_000_000;
    /// Metres per degree of latitude (mean radius).
    const M_PER_DEG: f64 = 111_195.08;

    fn fix(north_m: f64, t_s: f64) -> NewFix {
        NewFix::at(
            39.9 + north_m / M_PER_DEG,
            116.2,
            T0 + (t_s * 1000.0) as i64,
        )
    }

    fn run(fixes: &[NewFix]) -> Vec<FixVerdict> {
        let cfg = FilterConfig::walking();
        let mut st = FilterState::default();
        fixes
            .iter()
            .enumerate()
            .map(|(i, f)| st.push(&cfg, f, fixes.get(i + 1)))
            .collect()
    }

    #[test]
    fn a_steady_walk_is_kept() {
        let fixes: Vec<_> = (0..100).map(|i| fix(i as f64 * 1.4, i as f64)).collect();
        assert!(run(&fixes).iter().all(|v| *v == FixVerdict::Kept));
    }

    #[test]
    fn a_spike_is_rejected_and_the_walk_goes_on() {
        let v = run(&[
            fix(0.0, 0.0),
            fix(1.4, 1.0),
            fix(150.0, 2.0),
            fix(4.2, 3.0),
            fix(5.6, 4.0),
        ]);
        use FixVerdict::*;
        assert_eq!(v, vec![Kept, Kept, ImpossibleSpeed, Kept, Kept]);
    }

    #[test]
    fn many_fixes_in_one_second_never_make_infinite_speed() {
        // Five fixes stamped in the same millisecond, a metre or two apart: plausible, kept.
        let v = run(&[
            fix(0.0, 0.0),
            fix(1.5, 0.0),
            fix(3.0, 0.0),
            fix(4.0, 0.2),
            fix(5.0, 0.2),
        ]);
        assert!(v.iter().all(|v| *v == FixVerdict::Kept), "{v:?}");
    }

    #[test]
    fn duplicates_out_of_order_mock_accuracy() {
        use FixVerdict::*;
        let mut mock = fix(2.0, 2.0);
        mock.is_mock = true;
        let poor = fix(3.0, 3.0).with_accuracy(80.0);
        let v = run(&[
            fix(0.0, 0.0),
            fix(0.0, 0.0),
            fix(1.0, 1.0),
            fix(1.0, 0.5),
            mock,
            poor,
        ]);
        assert_eq!(
            v,
            vec![
                Kept,
                Duplicate,
                Kept,
                OutOfOrder,
                MockLocation,
                PoorAccuracy
            ]
        );
    }

    #[test]
    fn invalid_coordinates_get_a_verdict() {
        let mut zero = fix(0.0, 0.0);
        zero.lat = 0.0;
        zero.lon = 0.0;
        assert_eq!(run(&[zero]), vec![FixVerdict::InvalidCoordinates]);
    }

    #[test]
    fn without_times_spikes_are_jumps_but_sparse_points_are_not() {
        let untimed = |north_m| {
            let mut f = fix(north_m, 0.0);
            f.time_ms = None;
            f
        };
        use FixVerdict::*;
        // Out 500 m and back: a spike.
        let v = run(&[untimed(0.0), untimed(0.0), untimed(500.0), untimed(10.0)]);
        assert_eq!(v, vec![Kept, Duplicate, Jump, Kept]);
        // 300 m steps in a straight line: a sparse track, all kept.
        let v = run(&[untimed(0.0), untimed(300.0), untimed(600.0), untimed(900.0)]);
        assert_eq!(v, vec![Kept, Kept, Kept, Kept]);
    }

    #[test]
    fn after_enough_rejections_the_new_place_is_trusted() {
        // The first fix was a wild outlier 1 km away; the walk itself is consistent.
        let mut fixes = vec![fix(1000.0, 0.0)];
        fixes.extend((1..20).map(|i| fix(i as f64 * 1.4, i as f64)));
        let v = run(&fixes);
        let first_kept_again = v
            .iter()
            .skip(1)
            .position(|v| *v == FixVerdict::Kept)
            .unwrap();
        assert_eq!(first_kept_again, 5);
        assert!(v[7..].iter().all(|v| *v == FixVerdict::Kept), "{v:?}");
    }
}
