//! The street network: streets (街巷) made of segments (分段) of bounded length, imported from
//! OpenStreetMap XML or GeoJSON, stored in the local store, exported as GeoJSON, and loaded into
//! memory with its topology (which segments meet where) for map matching and coverage.
//!
//! - [`osm`] and [`geojson`] read files into a [`NetworkDraft`] (no storage).
//! - [`build`] splits lines into segments of bounded length.
//! - [`plan`] plans an import over what a storage holds (ids kept across re-imports).
//! - [`network`] is the loaded, projected network with its junctions; [`route`] finds the
//!   shortest way along it between two places.
//!
//! The phone store's `streets` module persists drafts (one transaction per import) and
//! assignments.

pub mod build;
pub mod geojson;
pub mod network;
pub mod osm;
pub mod plan;
pub mod route;

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use build::{DraftLine, DraftStreet, NetworkDraft, StreetImportOptions};
pub use network::{Junction, NetworkSegment, StreetNetwork};
pub use plan::{PlannedSegment, PlannedStreet, StoredStreet, StreetImportReport, plan_street};
pub use route::{Place, RoutePiece, RouteScratch};

use crate::domain::{SegmentId, StreetId};
pub use crate::error::StreetsError;

/// A coordinate in 1e-7 degrees (OpenStreetMap's own precision, about 1 cm): compact to store,
/// and two lines that share a point share it exactly, which is how junctions are found.
pub type E7 = (i32, i32);

/// Degrees (lat, lon) to [`E7`].
pub fn to_e7(lat: f64, lon: f64) -> E7 {
    ((lat * 1e7).round() as i32, (lon * 1e7).round() as i32)
}

/// [`E7`] to degrees (lat, lon).
pub fn from_e7(p: E7) -> (f64, f64) {
    (p.0 as f64 * 1e-7, p.1 as f64 * 1e-7)
}

/// A street as stored: a name (unnamed ways are streets of their own with no name), the
/// subdistrict that runs it, and the kind of road from OpenStreetMap's `highway` tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Street {
    pub id: StreetId,
    pub name: Option<String>,
    pub subdistrict: Option<String>,
    /// The `highway` value covering most of its length (`residential`, `footway`, ...).
    pub class: String,
    pub length_m: f64,
}

impl Street {
    /// The name, or a description for an unnamed way (`unnamed footway`).
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None => format!("unnamed {}", self.class),
        }
    }
}

/// A segment as stored: part of one street, a WGS-84 polyline of (lat, lon) and its Haversine
/// length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub id: SegmentId,
    pub street_id: StreetId,
    /// Position among its street's segments.
    pub ordinal: u32,
    pub points: Vec<(f64, f64)>,
    pub length_m: f64,
}

/// Reads a street file, choosing the reader by extension (or by content when it says nothing).
pub fn read_street_file(
    path: &Path,
    bytes: &[u8],
    options: &StreetImportOptions,
) -> Result<NetworkDraft, StreetsError> {
    options.validate()?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "osm" | "xml" => osm::parse_osm(bytes, options),
        "geojson" | "json" => geojson::parse_geojson(bytes, options),
        _ => {
            let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]);
            let head = head.trim_start();
            if head.starts_with('<') {
                osm::parse_osm(bytes, options)
            } else if head.starts_with('{') {
                geojson::parse_geojson(bytes, options)
            } else {
                Err(StreetsError::UnknownFormat(ext))
            }
        }
    }
}
