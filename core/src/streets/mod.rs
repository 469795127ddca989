//! The street network: streets (街巷) made of segments (分段) of bounded length, imported from
//! OpenStreetMap XML or GeoJSON, stored in the local store, exported as GeoJSON, and loaded into
//! memory with its topology (which segments meet where) for map matching and coverage.
//!
//! - [`osm`] and [`geojson`] read files into a [`NetworkDraft`] (no storage).
//! - [`build`] splits lines into segments of bounded length.
//! - [`network`] is the loaded, projected network with its junctions; [`route`] finds the
//!   shortest way along it between two places.
//! - `store` persists drafts (one transaction per import) and assignments.

pub mod build;
pub mod geojson;
pub mod network;
pub mod osm;
pub mod route;
mod store;

use serde::{Deserialize, Serialize};

pub use build::{DraftLine, DraftStreet, NetworkDraft, StreetImportOptions};
pub use network::{Junction, NetworkSegment, StreetNetwork};
pub use route::{Place, RoutePiece, RouteScratch};
pub(crate) use store::encode_geometry;
pub use store::{
    Assignment, STREET_PROGRESS_EVERY, StreetImportReport, StreetInfo, read_street_file,
};

use crate::domain::{SegmentId, StreetId};

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

/// Why a street network could not be imported or a street not found. Nothing is written when an
/// import returns one of these.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StreetsError {
    #[error(
        "not a well-formed OpenStreetMap XML file (at byte {position}): {message}; nothing was imported"
    )]
    Xml { position: u64, message: String },
    #[error(
        "not an OpenStreetMap XML file: the root element is <{0}>, expected <osm>; nothing was imported"
    )]
    NotOsm(String),
    #[error(
        "the file holds no ways with a highway tag ({nodes} nodes, {ways} ways read), so there is no street to import; nothing was imported"
    )]
    NoHighways { nodes: usize, ways: usize },
    #[error("OpenStreetMap node {id} has a bad {attribute}: {value:?}; nothing was imported")]
    BadNode {
        id: String,
        attribute: &'static str,
        value: String,
    },
    #[error("not a GeoJSON document: {0}; nothing was imported")]
    GeoJson(String),
    #[error(
        "GeoJSON feature {feature} is a {kind}; only LineString and MultiLineString features can be streets (remove or convert it); nothing was imported"
    )]
    NonLineGeometry { feature: usize, kind: String },
    #[error("GeoJSON feature {feature}: {reason}; nothing was imported")]
    BadFeature { feature: usize, reason: String },
    #[error("OpenStreetMap way {id}: {reason}; nothing was imported")]
    BadWay { id: String, reason: String },
    #[error(
        "the GeoJSON holds no line features, so there is no street to import; nothing was imported"
    )]
    NoLineFeatures,
    #[error(
        "unknown street file type {0:?}; expected .osm (OpenStreetMap XML) or .geojson / .json"
    )]
    UnknownFormat(String),
    #[error("no street {0:?} in this store (by id or name); `patrol streets list` shows them")]
    UnknownStreet(String),
    #[error("{name:?} names {count} streets ({ids}); use the street id instead")]
    AmbiguousStreet {
        name: String,
        count: usize,
        ids: String,
    },
    #[error("this store has no street network yet; import one with `patrol streets import FILE`")]
    NoNetwork,
    #[error("invalid street import option: {0}")]
    BadOption(String),
}
