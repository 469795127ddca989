//! Configuration the host passes in: how the store is opened, the GPS thresholds, how a track
//! file is imported and exported. Every field of the host-facing settings is optional and falls
//! back to the core's default, so the defaults live in one place (the core).

use patrol_core::patrol::{ImportOptions, TrackExportFormat};
use patrol_core::store::Durability;
use patrol_core::track::export::ExportFixes;
use patrol_core::track::{FilterConfig, MetricsConfig, StationaryConfig, TrackConfig};
use patrol_core::{Datum, StoreConfig};

/// How hard a commit works to survive power loss.
#[uniffi::remote(Enum)]
pub enum Durability {
    /// A commit survives the app being killed at any moment (the default).
    ProcessCrashSafe,
    /// Every commit is also fsynced, so it survives power loss; costs a flush per fix.
    PowerLossSafe,
}

/// When a fix is rejected. Start from [`default_track_config`] and change what you need.
#[uniffi::remote(Record)]
pub struct FilterConfig {
    /// Fixes whose horizontal accuracy is worse than this are rejected.
    pub max_accuracy_m: f64,
    /// Faster than this from the last kept fix is impossible for the patrol.
    pub max_speed_mps: f64,
    /// Speeds are computed over at least this long.
    pub min_interval_s: f64,
    /// Without a usable time, a fix farther than this from the last kept one is a jump.
    pub max_jump_m: f64,
    /// A fix at the same time as the last kept one and within this distance is a duplicate.
    pub duplicate_radius_m: f64,
    /// Reject fixes the platform marks as mock locations.
    pub reject_mock: bool,
    /// After this many consecutive speed or jump rejections the filter trusts the new position.
    pub reanchor_after: u32,
}

/// How track metrics are computed.
#[uniffi::remote(Record)]
pub struct MetricsConfig {
    /// No kept fix for longer than this, within a segment, is reported as a gap.
    pub gap_s: f64,
    /// A step slower than this is standing, not moving time.
    pub moving_speed_mps: f64,
    /// Ramer-Douglas-Peucker tolerance for the simplified track, in metres.
    pub simplify_tolerance_m: f64,
    /// Steps shorter than this multiple of a fix's accuracy wait until the walker has moved
    /// beyond the noise (0 counts every step).
    pub jitter_floor_accuracy_factor: f64,
}

/// When the host may slow its location sampling to save battery.
#[uniffi::remote(Record)]
pub struct StationaryConfig {
    /// Staying within this radius ...
    pub radius_m: f64,
    /// ... for this long means stationary.
    pub dwell_s: f64,
    /// Sampling interval advised while moving, seconds.
    pub moving_interval_s: u32,
    /// Sampling interval advised while stationary, seconds.
    pub stationary_interval_s: u32,
}

/// All tunable track thresholds.
#[uniffi::remote(Record)]
pub struct TrackConfig {
    pub filter: FilterConfig,
    pub metrics: MetricsConfig,
    pub stationary: StationaryConfig,
}

/// How the patrol moves; chooses the filter's speed and jump limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum FilterProfile {
    /// A chief or steward on foot (the default).
    Walking,
    /// By bicycle or e-bike.
    Cycling,
    /// By car.
    Driving,
}

/// The core's default thresholds, with the filter for `profile`: the starting point for a
/// [`StoreSettings::track`] or an [`ImportSettings::filter`].
#[uniffi::export]
pub fn default_track_config(profile: FilterProfile) -> TrackConfig {
    let filter = match profile {
        FilterProfile::Walking => FilterConfig::walking(),
        FilterProfile::Cycling => FilterConfig::cycling(),
        FilterProfile::Driving => FilterConfig::driving(),
    };
    TrackConfig {
        filter,
        ..TrackConfig::default()
    }
}

/// How a store is opened. Absent fields take the core's defaults; `StoreSettings()` is right for
/// most apps.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct StoreSettings {
    #[uniffi(default = None)]
    pub durability: Option<Durability>,
    /// How long a writer waits for another connection's lock before giving up.
    #[uniffi(default = None)]
    pub busy_timeout_ms: Option<u32>,
    /// The WAL file is truncated back to this size after checkpoints.
    #[uniffi(default = None)]
    pub wal_size_limit_bytes: Option<i64>,
    /// GPS thresholds; checked when the store opens (`PatrolError.InvalidInput` if out of range).
    #[uniffi(default = None)]
    pub track: Option<TrackConfig>,
    /// Threads a report may use to map-match patrols not yet in its cache (each extra one with
    /// a read-only connection of its own); never more than the cores. 1 keeps reports on the
    /// calling thread.
    #[uniffi(default = None)]
    pub max_worker_threads: Option<u32>,
}

impl From<StoreSettings> for StoreConfig {
    fn from(s: StoreSettings) -> Self {
        let d = StoreConfig::default();
        StoreConfig {
            durability: s.durability.unwrap_or(d.durability),
            busy_timeout_ms: s.busy_timeout_ms.unwrap_or(d.busy_timeout_ms),
            wal_size_limit_bytes: s.wal_size_limit_bytes.unwrap_or(d.wal_size_limit_bytes),
            track: s.track.unwrap_or_else(|| d.track.clone()),
            max_worker_threads: s.max_worker_threads.unwrap_or(d.max_worker_threads),
            ..d
        }
    }
}

/// How to read a track file being imported.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct ImportSettings {
    /// The datum of the file's coordinates: WGS-84 when absent (GPX is WGS-84 by definition, but
    /// exports from Chinese apps are often GCJ-02).
    #[uniffi(default = None)]
    pub datum: Option<Datum>,
    /// Filter thresholds; the store's when absent.
    #[uniffi(default = None)]
    pub filter: Option<FilterConfig>,
    /// A name for the patrol; the file's track name when absent.
    #[uniffi(default = None)]
    pub name: Option<String>,
}

impl From<ImportSettings> for ImportOptions {
    fn from(s: ImportSettings) -> Self {
        ImportOptions {
            datum: s.datum.unwrap_or(Datum::Wgs84),
            filter: s.filter,
            name: s.name,
        }
    }
}

/// The file formats a track is exported in.
#[uniffi::remote(Enum)]
pub enum TrackExportFormat {
    /// GPX 1.1, for GPS tools.
    Gpx,
    /// A GeoJSON FeatureCollection with the patrol's metrics, for GIS tools and web maps.
    GeoJson,
}

/// Which fixes an export holds.
#[uniffi::remote(Enum)]
pub enum ExportFixes {
    /// Only kept fixes: the track as the patrol walked it.
    Kept,
    /// Every fix; GeoJSON adds a point per fix with its verdict.
    All,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_settings_are_the_core_defaults() {
        let (ours, core): (StoreConfig, StoreConfig) =
            (StoreSettings::default().into(), StoreConfig::default());
        assert_eq!(ours.durability, core.durability);
        assert_eq!(ours.busy_timeout_ms, core.busy_timeout_ms);
        assert_eq!(ours.wal_size_limit_bytes, core.wal_size_limit_bytes);
        assert_eq!(ours.track, core.track);
        let import: ImportOptions = ImportSettings::default().into();
        assert_eq!(import.datum, ImportOptions::default().datum);
        assert!(import.filter.is_none() && import.name.is_none());
    }

    #[test]
    fn profiles_choose_the_filter() {
        assert_eq!(
            default_track_config(FilterProfile::Walking),
            TrackConfig::default()
        );
        assert_eq!(
            default_track_config(FilterProfile::Cycling).filter,
            FilterConfig::cycling()
        );
        assert_eq!(
            default_track_config(FilterProfile::Driving).filter,
            FilterConfig::driving()
        );
    }
}
