//! Thresholds for filtering, metrics and the stationary detector. Defaults suit a chief walking
//! their alleys; [`FilterConfig::cycling`] and [`FilterConfig::driving`] suit other tracks.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// All tunable track thresholds.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TrackConfig {
    pub filter: FilterConfig,
    pub metrics: MetricsConfig,
    pub stationary: StationaryConfig,
}

impl TrackConfig {
    pub fn validate(&self) -> Result<()> {
        fn positive(name: &str, v: f64) -> Result<()> {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(Error::InvalidConfig(format!(
                    "{name} must be a positive number, got {v}"
                )))
            }
        }
        let f = &self.filter;
        positive("filter.max_accuracy_m", f.max_accuracy_m)?;
        positive("filter.max_speed_mps", f.max_speed_mps)?;
        positive("filter.min_interval_s", f.min_interval_s)?;
        positive("filter.max_jump_m", f.max_jump_m)?;
        positive("filter.duplicate_radius_m", f.duplicate_radius_m)?;
        let m = &self.metrics;
        positive("metrics.gap_s", m.gap_s)?;
        positive("metrics.moving_speed_mps", m.moving_speed_mps)?;
        positive("metrics.simplify_tolerance_m", m.simplify_tolerance_m)?;
        if !(0.0..=2.0).contains(&m.jitter_floor_accuracy_factor) {
            return Err(Error::InvalidConfig(
                "metrics.jitter_floor_accuracy_factor must be between 0 and 2".into(),
            ));
        }
        let s = &self.stationary;
        positive("stationary.radius_m", s.radius_m)?;
        positive("stationary.dwell_s", s.dwell_s)?;
        if s.moving_interval_s == 0 || s.stationary_interval_s < s.moving_interval_s {
            return Err(Error::InvalidConfig(
                "stationary intervals: moving must be >= 1 s and stationary >= moving".into(),
            ));
        }
        Ok(())
    }
}

/// When a fix is rejected. Every fix is stored either way; rejected ones carry the reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilterConfig {
    /// Fixes whose horizontal accuracy is worse than this are rejected.
    pub max_accuracy_m: f64,
    /// Faster than this from the last kept fix is impossible for the patrol.
    pub max_speed_mps: f64,
    /// Speeds are computed over at least this long, so several fixes in one second (common in
    /// real logs) never yield infinite speeds.
    pub min_interval_s: f64,
    /// Without a usable time, a fix farther than this from the last kept one is a jump.
    pub max_jump_m: f64,
    /// A fix at the same time as the last kept one and within this distance is a duplicate.
    pub duplicate_radius_m: f64,
    /// Reject fixes the platform marks as mock locations.
    pub reject_mock: bool,
    /// After this many consecutive speed or jump rejections the filter trusts the new position:
    /// the last kept fix was probably the outlier, or the receiver recovered after a long gap.
    pub reanchor_after: u32,
}

impl Default for FilterConfig {
    fn default() -> Self {
        Self::walking()
    }
}

impl FilterConfig {
    /// A chief or steward on foot (the default). 7 m/s leaves room for a run or a short
    /// bicycle ride between alleys while catching the 100 m jumps of a reflecting signal.
    pub fn walking() -> Self {
        Self {
            max_accuracy_m: 50.0,
            max_speed_mps: 7.0,
            min_interval_s: 1.0,
            max_jump_m: 200.0,
            duplicate_radius_m: 1.0,
            reject_mock: true,
            reanchor_after: 5,
        }
    }

    /// By bicycle or e-bike.
    pub fn cycling() -> Self {
        Self {
            max_speed_mps: 15.0,
            max_jump_m: 400.0,
            ..Self::walking()
        }
    }

    /// By car (imported drives, patrol vehicles).
    pub fn driving() -> Self {
        Self {
            max_speed_mps: 60.0,
            max_accuracy_m: 100.0,
            max_jump_m: 2_000.0,
            ..Self::walking()
        }
    }

    /// The profile with the given name: `walking`, `cycling` or `driving`.
    pub fn profile(name: &str) -> Result<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "walking" | "walk" => Ok(Self::walking()),
            "cycling" | "bicycle" | "bike" => Ok(Self::cycling()),
            "driving" | "car" => Ok(Self::driving()),
            other => Err(Error::InvalidConfig(format!(
                "unknown filter profile {other:?}; expected walking, cycling or driving"
            ))),
        }
    }
}

/// How track metrics are computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsConfig {
    /// No kept fix for longer than this, within a segment, is reported as a gap.
    pub gap_s: f64,
    /// A step between kept fixes slower than this is standing, not moving time.
    pub moving_speed_mps: f64,
    /// Ramer-Douglas-Peucker tolerance for the simplified track, in metres.
    pub simplify_tolerance_m: f64,
    /// Steps shorter than this multiple of a fix's accuracy are not added to the distance until
    /// the walker has moved beyond the noise, so an hour standing still does not add kilometres
    /// of jitter. 0 counts every step. Fixes with no accuracy (most files) count every step.
    pub jitter_floor_accuracy_factor: f64,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            gap_s: 60.0,
            moving_speed_mps: 0.5,
            simplify_tolerance_m: 5.0,
            jitter_floor_accuracy_factor: 0.5,
        }
    }
}

/// When the host may slow its location sampling to save battery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StationaryConfig {
    /// Staying within this radius ...
    pub radius_m: f64,
    /// ... for this long means stationary.
    pub dwell_s: f64,
    /// Sampling interval advised while moving.
    pub moving_interval_s: u32,
    /// Sampling interval advised while stationary.
    pub stationary_interval_s: u32,
}

impl Default for StationaryConfig {
    fn default() -> Self {
        Self {
            radius_m: 15.0,
            dwell_s: 60.0,
            moving_interval_s: 1,
            stationary_interval_s: 15,
        }
    }
}
