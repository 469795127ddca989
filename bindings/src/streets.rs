//! The street network: importing a street file (slow: off the caller's thread, with progress and
//! cancellation), listing streets and their segments, resolving a street by name, assigning
//! chiefs and stewards, and matching a point to its street.

use std::path::Path;
use std::sync::Arc;

use patrol_core::matching::PointMatch;
use patrol_core::streets::{
    Assignment, Street, StreetImportOptions, StreetImportReport, StreetInfo, read_street_file,
};
use patrol_core::{Datum, Role, SegmentId, StreetId};

use crate::error::PatrolError;
use crate::platform::{ProgressListener, ProgressReporter, ProgressStage};
use crate::store::{PatrolStore, run_noting_writes};
use crate::types::LatLon;
use crate::worker::{self, CancelToken};

/// A street (街巷): a name (unnamed ways are streets of their own), the subdistrict that runs it,
/// the kind of road (OpenStreetMap's `highway` value) and its length.
#[uniffi::remote(Record)]
pub struct Street {
    pub id: StreetId,
    pub name: Option<String>,
    pub subdistrict: Option<String>,
    /// `residential`, `footway`, `service` ...: the kind covering most of its length.
    pub class: String,
    pub length_m: f64,
}

/// A street as listed, with who answers for it.
#[uniffi::remote(Record)]
pub struct StreetInfo {
    pub street: Street,
    /// What matches the street across re-imports (its name and subdistrict, or its OSM way).
    pub key: String,
    pub segments: u64,
    /// The chief's user id (or the name a supervisor assigned).
    pub chief: Option<String>,
    pub stewards: Vec<String>,
    pub signboards: u64,
}

/// A user answering for a street.
#[uniffi::remote(Record)]
pub struct Assignment {
    pub street_id: StreetId,
    /// A user id, or a user's name as a supervisor typed it (it counts for that user).
    pub user_id: String,
    pub role: Role,
    pub assigned_at_ms: i64,
}

/// What a street import did.
#[uniffi::remote(Record)]
pub struct StreetImportReport {
    /// `osm` or `geojson`.
    pub format: String,
    /// Streets in the file (named streets plus unnamed ways).
    pub streets: u64,
    pub named_streets: u64,
    pub unnamed_streets: u64,
    /// Streets created, and streets already in the store whose geometry was replaced (they keep
    /// their id, assignments and signboards).
    pub streets_new: u64,
    pub streets_updated: u64,
    pub segments: u64,
    /// Haversine length of all the file's streets.
    pub total_length_m: f64,
    pub max_segment_m: f64,
    pub lines_read: u64,
    pub lines_skipped: u64,
    /// OpenStreetMap node references the file lacks (a clipped extract): lines break there.
    pub missing_node_refs: u64,
}

/// A point matched to its street.
#[uniffi::remote(Record)]
pub struct PointMatch {
    pub street_id: StreetId,
    pub street_name: Option<String>,
    pub segment_id: SegmentId,
    /// Distance along the segment from its first vertex, metres.
    pub offset_m: f64,
    /// Distance from the point to the segment, metres.
    pub distance_m: f64,
}

/// One segment (分段) of a street, for drawing: a WGS-84 polyline.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Segment {
    pub id: SegmentId,
    pub street_id: StreetId,
    /// Position among its street's segments.
    pub ordinal: u32,
    pub points: Vec<LatLon>,
    pub length_m: f64,
}

impl From<patrol_core::streets::Segment> for Segment {
    fn from(s: patrol_core::streets::Segment) -> Self {
        Segment {
            id: s.id,
            street_id: s.street_id,
            ordinal: s.ordinal,
            points: s
                .points
                .into_iter()
                .map(|(lat, lon)| LatLon { lat, lon })
                .collect(),
            length_m: s.length_m,
        }
    }
}

/// How a street file is imported. Absent fields take the core's defaults.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct StreetImportSettings {
    /// Lines longer than this are split into equal segments no longer than it (metres, at least
    /// 10; 200 when absent).
    #[uniffi(default = None)]
    pub max_segment_m: Option<f64>,
    /// The subdistrict (街道) running the streets, when the file does not say.
    #[uniffi(default = None)]
    pub subdistrict: Option<String>,
    /// The datum of the file's coordinates: WGS-84 when absent (OpenStreetMap); GCJ-02 for
    /// exports from Chinese map apps.
    #[uniffi(default = None)]
    pub datum: Option<Datum>,
}

impl From<StreetImportSettings> for StreetImportOptions {
    fn from(s: StreetImportSettings) -> Self {
        let d = StreetImportOptions::default();
        StreetImportOptions {
            max_segment_m: s.max_segment_m.unwrap_or(d.max_segment_m),
            subdistrict: s.subdistrict.or(d.subdistrict),
            datum: s.datum.unwrap_or(d.datum),
        }
    }
}

#[uniffi::export]
impl PatrolStore {
    /// Imports a street network file (`.osm` OpenStreetMap XML, or `.geojson` LineStrings) on a
    /// worker thread, in one transaction: a bad file stores nothing. Streets already in the store
    /// (same name and subdistrict) keep their id, assignments and signboards. The file is read
    /// and parsed before the store is taken, so other calls go on meanwhile; while the streets
    /// are stored they wait. Progress goes to `progress` from the worker thread (bytes read, then
    /// streets stored). Cancelling the call (the coroutine, or `cancel`) rolls it back.
    #[uniffi::method(default(progress = None, cancel = None, settings))]
    pub async fn import_street_file(
        &self,
        path: String,
        settings: StreetImportSettings,
        progress: Option<Arc<dyn ProgressListener>>,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<StreetImportReport, PatrolError> {
        let store = Arc::clone(&self.store);
        let changes = Arc::clone(&self.changes);
        worker::spawn("street import", cancel, move |cancel| {
            let reporter = ProgressReporter::new(progress);
            let path = Path::new(&path);
            let options: StreetImportOptions = settings.into();
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            reporter.report(ProgressStage::ReadingFile, 0, size);
            let bytes = std::fs::read(path).map_err(|source| patrol_core::Error::Io {
                path: path.to_path_buf(),
                source,
            })?;
            let draft =
                read_street_file(path, &bytes, &options).map_err(patrol_core::Error::from)?;
            drop(bytes);
            reporter.report(ProgressStage::ReadingFile, size, size);
            run_noting_writes(&store, &changes, |store| {
                store.import_streets_with_cancel(
                    &draft,
                    &options,
                    &mut |done, total| reporter.report(ProgressStage::StoringStreets, done, total),
                    cancel,
                )
            })
        })
        .await
    }

    /// Every street with who answers for it, by name (unnamed ways last). On a worker thread.
    pub async fn list_streets(&self) -> Result<Vec<StreetInfo>, PatrolError> {
        self.in_background("street list", |s| s.streets()).await
    }

    /// One street; `NotFound` if the store does not have it.
    pub fn street(&self, street_id: StreetId) -> Result<Street, PatrolError> {
        self.with_store(|s| s.street(street_id))
    }

    /// The street a person means: its id, or a name only one street has. `NotFound` when none
    /// matches, `InvalidInput` (listing the ids) when several streets share the name.
    pub fn resolve_street(&self, reference: String) -> Result<StreetId, PatrolError> {
        self.with_store(|s| s.resolve_street(&reference))
    }

    /// Every segment of the network (WGS-84 polylines), by street: what a map draws. On a worker
    /// thread.
    pub async fn street_segments(&self) -> Result<Vec<Segment>, PatrolError> {
        Ok(self
            .in_background("street segments", |s| s.segments())
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// The whole network as the text of a GeoJSON FeatureCollection (one feature per segment),
    /// for map SDKs; `InvalidState` when no network was imported. On a worker thread.
    pub async fn export_streets_geojson(&self) -> Result<String, PatrolError> {
        self.in_background("street export", |s| {
            s.export_streets_geojson().map(|v| v.to_string())
        })
        .await
    }

    /// Makes `user_id` the street's chief (replacing the chief it had, whose id is returned) or
    /// adds them as one of its stewards (`role` is `Chief` or `Steward`).
    pub fn assign_street(
        &self,
        street_id: StreetId,
        user_id: String,
        role: Role,
    ) -> Result<Option<String>, PatrolError> {
        self.with_store(|s| s.assign_street(street_id, &user_id, role))
    }

    /// Removes a user's assignment to a street; false if there was none.
    pub fn unassign_street(
        &self,
        street_id: StreetId,
        user_id: String,
        role: Role,
    ) -> Result<bool, PatrolError> {
        self.with_store(|s| s.unassign_street(street_id, &user_id, role))
    }

    /// Every assignment in the store.
    pub fn street_assignments(&self) -> Result<Vec<Assignment>, PatrolError> {
        self.with_store(|s| s.assignments())
    }

    /// The streets a user answers for (by id, or by name where this store knows the user).
    pub fn assignments_of(&self, user_id: String) -> Result<Vec<Assignment>, PatrolError> {
        self.with_store(|s| s.assignments_of(&user_id))
    }

    /// The street and segment a WGS-84 point lies on, or none when no street is within the
    /// matching tolerance (25 m, more for a poor `accuracy_m`). `InvalidState` without a network.
    #[uniffi::method(default(accuracy_m = None))]
    pub fn match_point(
        &self,
        lat: f64,
        lon: f64,
        accuracy_m: Option<f64>,
    ) -> Result<Option<PointMatch>, PatrolError> {
        self.with_store(|s| s.match_point(lat, lon, accuracy_m))
    }
}
