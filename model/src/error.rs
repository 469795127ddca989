//! The model's error: what was wrong with the data a caller handed in. It names the task, never a
//! command to run; the layers above (the phone store, the server, the CLI) add what their users
//! can do about it.

use crate::domain::{ParseEnumError, ParseIdError, StreetId};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid input: {0}")]
    InvalidInput(String),

    #[error("invalid configuration: {0}")]
    InvalidConfig(String),

    #[error("bad issue document: {0}")]
    BadDocument(String),

    #[error(transparent)]
    TrackFile(#[from] TrackFileError),

    #[error(transparent)]
    Streets(#[from] StreetsError),

    #[error(transparent)]
    BadId(#[from] ParseIdError),

    #[error(transparent)]
    BadValue(#[from] ParseEnumError),
}

/// Why a track file could not be read. Nothing is written when this is returned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrackFileError {
    #[error("not a well-formed GPX file (at byte {position}): {message}")]
    Xml { position: u64, message: String },
    #[error("not a GPX file: the root element is <{0}>, expected <gpx>")]
    NotGpx(String),
    #[error("GPX point at byte {position} has a bad {attribute}: {value:?}")]
    BadPoint {
        position: u64,
        attribute: &'static str,
        value: String,
    },
    #[error("the file holds no track points{hint}; nothing was imported")]
    NoTrackPoints { hint: &'static str },
    #[error("not a GeoLife PLT file: line {line}: {message}")]
    Plt { line: usize, message: String },
    #[error("unknown track file type {0:?}; expected .gpx or .plt")]
    UnknownFormat(String),
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
    #[error("no street {0:?} in this store (by id or name)")]
    UnknownStreet(String),
    #[error("{name:?} names {count} streets ({ids}); use the street id instead")]
    AmbiguousStreet {
        name: String,
        count: usize,
        ids: String,
    },
    #[error("this store has no street network yet; import one or sync first")]
    NoNetwork,
    #[error("invalid street import option: {0}")]
    BadOption(String),
}

/// Why a signboard code was refused or could not be made. Nothing is recorded when a scan
/// returns one of these.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SignboardError {
    #[error("not a StreetPatrol signboard code: {0}")]
    Malformed(String),
    #[error(
        "this signboard code has format version {0}, newer than this app understands; update the app"
    )]
    UnsupportedVersion(u8),
    #[error(
        "the signboard code failed verification: it was mistyped, damaged, or not issued by this district; nothing was recorded"
    )]
    BadSignature,
    #[error(
        "this store has no district key to check signboard codes against; sync with the server, or trust the district's public key"
    )]
    NoDistrictKey,
    #[error(
        "this device holds the district's public key only; signboards are issued on the device that holds its secret key"
    )]
    NotIssuer,
    #[error("{0:?} is not a district public key (expected 32 bytes in base64url)")]
    BadPublicKey(String),
    #[error("not a public address for the signboard pages: {0}")]
    BadPublicUrl(String),
    #[error(
        "the signboard code is genuine but names street {0}, which this store does not have; sync the street network first"
    )]
    StreetNotInStore(StreetId),
}
