//! Tells the host when it may slow location sampling (the chief has stood in one place for a
//! while: talking to a merchant, waiting for a crew) and when to speed up again. A day-long
//! patrol at 1 Hz drains a phone; at one fix every 15 s while standing it does not.

use serde::{Deserialize, Serialize};

use crate::geodesy::haversine_distance_m;
use crate::track::StationaryConfig;

/// Whether the walker is moving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Motion {
    Moving,
    Stationary,
}

/// What the host should do with its location sampling after a fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamplingAdvice {
    pub motion: Motion,
    /// The sampling interval to use now, in seconds.
    pub interval_s: u32,
    /// True when `motion` changed with this fix, so the host only reconfigures on transitions.
    pub changed: bool,
}

/// A dwell detector: stationary once every kept fix for `dwell_s` stayed within `radius_m` of
/// where the dwell began; moving again as soon as one fix leaves that circle (or the platform
/// reports a walking speed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StationaryDetector {
    config: StationaryConfig,
    anchor: Option<(f64, f64, i64)>,
    motion: Motion,
}

impl StationaryDetector {
    pub fn new(config: StationaryConfig) -> Self {
        Self {
            config,
            anchor: None,
            motion: Motion::Moving,
        }
    }

    pub fn motion(&self) -> Motion {
        self.motion
    }

    /// The current advice without a new fix.
    pub fn advice(&self) -> SamplingAdvice {
        self.advise(false)
    }

    fn advise(&self, changed: bool) -> SamplingAdvice {
        let interval_s = match self.motion {
            Motion::Moving => self.config.moving_interval_s,
            Motion::Stationary => self.config.stationary_interval_s,
        };
        SamplingAdvice {
            motion: self.motion,
            interval_s,
            changed,
        }
    }

    /// Feeds a kept fix (WGS-84, with its time and, if known, accuracy and speed).
    pub fn push(
        &mut self,
        lat: f64,
        lon: f64,
        time_ms: Option<i64>,
        accuracy_m: Option<f64>,
        speed_mps: Option<f64>,
    ) -> SamplingAdvice {
        let Some(t) = time_ms else {
            return self.advise(false);
        };
        let before = self.motion;
        // A poor fix wobbles more: widen the circle by its accuracy, but not without limit.
        let radius = self
            .config
            .radius_m
            .max(accuracy_m.unwrap_or(0.0).min(30.0));
        let walking = speed_mps.is_some_and(|s| s > 1.0);
        match self.anchor {
            Some((alat, alon, at))
                if !walking && haversine_distance_m(alat, alon, lat, lon) <= radius =>
            {
                if (t - at) as f64 / 1000.0 >= self.config.dwell_s {
                    self.motion = Motion::Stationary;
                }
            }
            _ => {
                self.anchor = Some((lat, lon, t));
                self.motion = Motion::Moving;
            }
        }
        self.advise(self.motion != before)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stands_then_walks() {
        let mut d = StationaryDetector::new(StationaryConfig::default());
        let t0 = 1_700_000_000_000;
        let mut changes = vec![];
        // 2 minutes standing with a few metres of jitter, then walking north at 1.4 m/s.
        for s in 0..120 {
            let jitter = ((s * 7919) % 11) as f64 / 11.0 * 4e-5;
            let a = d.push(39.9 + jitter, 116.2, Some(t0 + s * 1000), Some(5.0), None);
            if a.changed {
                changes.push((s, a.motion, a.interval_s));
            }
        }
        for s in 120..180 {
            let north = (s - 120) as f64 * 1.4 / 111_195.0;
            let a = d.push(39.9 + north, 116.2, Some(t0 + s * 1000), Some(5.0), None);
            if a.changed {
                changes.push((s, a.motion, a.interval_s));
            }
        }
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert_eq!(changes[0], (60, Motion::Stationary, 15));
        assert_eq!(changes[1].1, Motion::Moving);
        assert_eq!(changes[1].2, 1);
        assert!(changes[1].0 > 120 && changes[1].0 < 135, "{changes:?}");
    }
}
