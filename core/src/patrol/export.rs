//! Writing a stored patrol's track as a file another tool opens: GPX for GPS tools, GeoJSON (with
//! the patrol's id, name and headline metrics as properties) for GIS tools and web maps. The
//! writers themselves live in [`crate::track::export`]; this module feeds them from the store.

use serde_json::json;

use crate::domain::{Datum, StoredFix};
use crate::patrol::PatrolInfo;
use crate::track::MetricsConfig;
use crate::track::export::{ExportFixes, track_geojson, write_gpx};

/// The file formats a track is exported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackExportFormat {
    /// GPX 1.1: one track, a `trkseg` per track segment.
    Gpx,
    /// A GeoJSON FeatureCollection: the kept track as a MultiLineString with the patrol's metrics.
    GeoJson,
}

/// A patrol's track as the text of a GPX or GeoJSON file, coordinates in `datum`; the
/// GeoJSON carries the metrics computed with `metrics`.
pub(crate) fn track_file(
    info: &PatrolInfo,
    fixes: &[StoredFix],
    format: TrackExportFormat,
    datum: Datum,
    which: ExportFixes,
    metrics: &MetricsConfig,
) -> String {
    let id = info.id;
    let mut buf = Vec::new();
    match format {
        TrackExportFormat::Gpx => {
            let name = info.name.clone().unwrap_or_else(|| format!("patrol {id}"));
            write_gpx(&mut buf, &name, fixes, datum, which).expect("writing to a Vec cannot fail");
        }
        TrackExportFormat::GeoJson => {
            let stats = crate::track::compute_stats(metrics, fixes);
            let props = json!({
                "patrol_id": id,
                "name": info.name,
                "datum": datum,
                "distance_m": stats.distance_m,
                "duration_s": stats.duration_s,
                "fixes_kept": stats.fixes_kept,
            });
            serde_json::to_writer_pretty(&mut buf, &track_geojson(props, fixes, datum, which))
                .expect("a JSON value always serialises");
            buf.push(b'\n');
        }
    }
    // Both writers emit UTF-8 only (names are Rust strings).
    String::from_utf8(buf).expect("the writers emit UTF-8")
}
