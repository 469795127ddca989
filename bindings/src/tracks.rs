//! Reading patrols and tracks back (list, details, fixes, metrics, the simplified line), and
//! moving tracks in and out as files: import (slow, off the caller's thread, with progress and
//! cancellation) and GPX / GeoJSON export.

use std::path::Path;
use std::sync::Arc;

use patrol_core::patrol::TrackExportFormat;
use patrol_core::track::export::ExportFixes;
use patrol_core::track::load_track_file;
use patrol_core::{Datum, PatrolId, StoredFix};

use crate::error::PatrolError;
use crate::platform::{ProgressListener, ProgressReporter, ProgressStage};
use crate::settings::ImportSettings;
use crate::store::{PatrolStore, run_noting_writes};
use crate::types::{ImportReport, LatLon, PatrolInfo, TrackStats};
use crate::worker::{self, CancelToken};

#[uniffi::export]
impl PatrolStore {
    /// A patrol's details; `NotFound` if it is not in this store.
    pub fn patrol(&self, patrol_id: PatrolId) -> Result<PatrolInfo, PatrolError> {
        self.with_store(|s| s.patrol(patrol_id)).map(Into::into)
    }

    /// The patrols in this store, newest first. On a worker thread.
    pub async fn list_patrols(&self) -> Result<Vec<PatrolInfo>, PatrolError> {
        Ok(self
            .in_background("patrol list", |s| s.list_patrols())
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Every fix of a patrol, in order, with its verdict. On a worker thread.
    pub async fn fixes(&self, patrol_id: PatrolId) -> Result<Vec<StoredFix>, PatrolError> {
        self.in_background("fixes", move |s| s.fixes(patrol_id))
            .await
    }

    /// Track metrics of a patrol, computed from its fixes now (also while recording).
    pub fn track_stats(&self, patrol_id: PatrolId) -> Result<TrackStats, PatrolError> {
        self.with_store(|s| s.track_stats(patrol_id))
            .map(Into::into)
    }

    /// The kept track simplified for drawing, one line per track segment (WGS-84). On a worker
    /// thread.
    pub async fn simplified_track(
        &self,
        patrol_id: PatrolId,
    ) -> Result<Vec<Vec<LatLon>>, PatrolError> {
        let lines = self
            .in_background("track simplification", move |s| {
                s.simplified_track(patrol_id)
            })
            .await?;
        Ok(lines
            .into_iter()
            .map(|line| {
                line.into_iter()
                    .map(|(lat, lon)| LatLon { lat, lon })
                    .collect()
            })
            .collect())
    }

    /// A patrol's track as the text of a GPX or GeoJSON file, coordinates in `datum`. On a
    /// worker thread.
    pub async fn export_track(
        &self,
        patrol_id: PatrolId,
        format: TrackExportFormat,
        datum: Datum,
        which: ExportFixes,
    ) -> Result<String, PatrolError> {
        self.in_background("track export", move |s| {
            s.export_track(patrol_id, format, datum, which)
        })
        .await
    }

    /// Imports a GPX (1.0/1.1) or GeoLife PLT file as a stopped patrol of this device's user, on
    /// a worker thread: the caller's thread is free while it runs. Progress goes to `progress`
    /// from that thread. Cancelling the call (the coroutine or task) rolls the import back: nothing
    /// of the file is stored. A file that is not a track fails with `InvalidInput`, one that
    /// cannot be read with `Io`; either way nothing is stored. `cancel` cancels it explicitly
    /// (Swift: cancelling a Task does not reach the call). The store has one connection: other
    /// calls on it wait while the import runs, so import between patrols.
    #[uniffi::method(default(progress = None, cancel = None, settings))]
    pub async fn import_track_file(
        &self,
        path: String,
        settings: ImportSettings,
        progress: Option<Arc<dyn ProgressListener>>,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<ImportReport, PatrolError> {
        let store = Arc::clone(&self.store);
        let changes = Arc::clone(&self.changes);
        worker::spawn("track import", cancel, move |cancel| {
            let reporter = ProgressReporter::new(progress);
            let path = Path::new(&path);
            let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            reporter.report(ProgressStage::ReadingFile, 0, bytes);
            let report = run_noting_writes(&store, &changes, |store| {
                let track = load_track_file(path, store.clock().now_ms())?;
                reporter.report(ProgressStage::ReadingFile, bytes, bytes);
                store.import_track_with_cancel(
                    &track,
                    &settings.into(),
                    &mut |done, total| reporter.report(ProgressStage::StoringFixes, done, total),
                    cancel,
                )
            })?;
            Ok(report.into())
        })
        .await
    }
}
