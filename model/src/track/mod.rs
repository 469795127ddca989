//! GPS track processing, with no storage: the fix filter, track metrics, the stationary
//! detector, and reading/writing track files. [`crate::patrol`] puts these to work on the store.

mod config;
pub mod export;
pub mod filter;
pub mod gpx;
pub mod metrics;
pub mod plt;
pub mod stationary;

use std::path::Path;

pub use config::{FilterConfig, MetricsConfig, StationaryConfig, TrackConfig};
pub use filter::{FilterState, judge_fix};
pub use metrics::{Gap, TrackStats, compute_stats};
pub use stationary::{Motion, SamplingAdvice, StationaryDetector};

use crate::domain::NewFix;
pub use crate::error::TrackFileError;

/// A track read from a file, before filtering: the points of each non-empty segment, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedTrack {
    /// The first track name found in the file, if any.
    pub name: Option<String>,
    pub format: TrackFormat,
    pub segments: Vec<Vec<NewFix>>,
    /// How many points had a timestamp that cannot be right (unparseable, before 2000, or more
    /// than a day in the future); their time was dropped, the points kept.
    pub bogus_timestamps: usize,
    /// Segments that held no points and were skipped.
    pub empty_segments: usize,
}

impl ParsedTrack {
    pub fn point_count(&self) -> usize {
        self.segments.iter().map(Vec::len).sum()
    }
}

/// The track file formats the core reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrackFormat {
    #[default]
    Gpx,
    /// GeoLife trajectory (`.plt`).
    Plt,
}

/// Reads a GPX or PLT file, choosing the parser by extension (and by content when the extension
/// says nothing). `now_ms` bounds plausible fix times.
pub fn read_track_file(
    path: &Path,
    bytes: &[u8],
    now_ms: i64,
) -> Result<ParsedTrack, TrackFileError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "gpx" | "xml" => gpx::parse_gpx_at(bytes, now_ms),
        "plt" => plt::parse_plt_at(bytes, now_ms),
        _ => {
            let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]);
            if head.contains("<gpx") || head.trim_start().starts_with("<?xml") {
                gpx::parse_gpx_at(bytes, now_ms)
            } else if head.starts_with("Geolife trajectory") {
                plt::parse_plt_at(bytes, now_ms)
            } else {
                Err(TrackFileError::UnknownFormat(ext))
            }
        }
    }
}

/// The latest instant a fix may carry, relative to now, before its time is called bogus.
pub(crate) const MAX_FUTURE_MS: i64 = 24 * 3600 * 1000;
/// 2000-01-01T00:00:00Z: GPS receivers that lost their almanac report 1901, 1970 or 1980.
pub(crate) const MIN_PLAUSIBLE_MS: i64 = 946_684_800_000;

/// Whether a timestamp could be a real fix time, given the current wall-clock time.
pub(crate) fn plausible_time(time_ms: i64, now_ms: i64) -> bool {
    time_ms >= MIN_PLAUSIBLE_MS && time_ms <= now_ms.saturating_add(MAX_FUTURE_MS)
}
