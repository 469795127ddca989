//! Recording patrols, importing and exporting tracks, reading them back ([`crate::patrol`]).

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;

use crate::domain::{Datum, FixVerdict, NewFix, PatrolId, PatrolState, StoredFix};
use crate::error::{Error, Result};
use crate::patrol::import::{self, TrackImport};
use crate::patrol::recorder::{load_recorder, validate_live_fix};
use crate::patrol::{
    BatchOutcome, FixOutcome, ImportOptions, ImportReport, PatrolInfo, TrackExportFormat, advance,
    export, filter_judge, storage, to_wgs84,
};
use crate::store::{RecorderState, Store};
use crate::track::export::ExportFixes;
use crate::track::{
    ParsedTrack, SamplingAdvice, TrackStats, compute_stats, metrics::simplify_track,
};

impl Store {
    /// Starts recording a patrol for this device's user, meant to cover `planned_streets`.
    pub fn start_patrol(&mut self, planned_streets: &[String]) -> Result<PatrolId> {
        let me = self.require_device()?;
        let planned_streets = planned_streets
            .iter()
            .map(|s| self.street_of_record(Some(s.as_str())))
            .collect::<Result<Vec<_>>>()?;
        let now = self.clock.now_ms();
        let id = PatrolId::new();
        let tx = self.conn.transaction()?;
        storage::start(&tx, &me, id, &planned_streets, now)?;
        tx.commit()?;
        Ok(id)
    }

    /// The patrol this device is recording or has paused, if any.
    pub fn open_patrol(&self) -> Result<Option<PatrolId>> {
        let me = self.require_device()?;
        storage::open_patrol(&self.conn, &me.device_id.to_string())
    }

    /// Pauses recording: fixes are refused until [`Store::resume_patrol`].
    pub fn pause_patrol(&mut self, id: PatrolId) -> Result<()> {
        self.transition(
            id,
            "pause",
            PatrolState::Recording,
            PatrolState::Paused,
            false,
        )
    }

    /// Resumes a paused patrol; its next fixes start a new track segment, so the distance does
    /// not bridge the pause.
    pub fn resume_patrol(&mut self, id: PatrolId) -> Result<()> {
        self.transition(
            id,
            "resume",
            PatrolState::Paused,
            PatrolState::Recording,
            true,
        )
    }

    fn transition(
        &mut self,
        id: PatrolId,
        action: &'static str,
        from: PatrolState,
        to: PatrolState,
        new_segment: bool,
    ) -> Result<()> {
        let now = self.clock.now_ms();
        let tx = self.conn.transaction()?;
        let row = storage::transition(&tx, id, action, (from, to), new_segment, now)?;
        tx.commit()?;
        if let Some(r) = self.recorders.get_mut(&row) {
            r.state = to;
            r.segment += new_segment as i64;
        }
        Ok(())
    }

    /// Stops a patrol (recording or paused) and stores its track summary.
    pub fn stop_patrol(&mut self, id: PatrolId) -> Result<TrackStats> {
        let now = self.clock.now_ms();
        let (row, state) = storage::patrol_row_state(&self.conn, id)?;
        if state == PatrolState::Stopped {
            return Err(Error::PatrolTransition {
                id,
                action: "stop",
                state,
            });
        }
        let fixes = self.fixes_of_row(row)?;
        let stats = compute_stats(&self.config.track.metrics, &fixes);
        let tx = self.conn.transaction()?;
        storage::record_stop(&tx, row, &stats, now)?;
        tx.commit()?;
        self.recorders.remove(&row);
        Ok(stats)
    }

    fn recorder(&mut self, id: PatrolId) -> Result<&mut RecorderState> {
        // Look up by id among the loaded recorders first; load from the database otherwise.
        if let Some(row) = self
            .recorders
            .iter()
            .find(|(_, r)| r.id == id)
            .map(|(row, _)| *row)
        {
            return Ok(self.recorders.get_mut(&row).expect("just found"));
        }
        let r = load_recorder(&self.conn, &self.config.track, id)?;
        let row = r.row;
        Ok(self.recorders.entry(row).or_insert(r))
    }

    /// Adds one fix to a recording patrol and commits it before returning: if the app is killed
    /// right after, the fix is in the database. Invalid fixes are refused with
    /// [`Error::InvalidFix`] and nothing is stored.
    pub fn add_fix(&mut self, id: PatrolId, fix: NewFix) -> Result<FixOutcome> {
        validate_live_fix(&fix)?;
        let fix = to_wgs84(fix);
        let config = self.config.track.filter.clone();
        let rec = self.recorder(id)?;
        if rec.state != PatrolState::Recording {
            return Err(Error::PatrolNotRecording {
                id,
                state: rec.state,
            });
        }
        let verdict = filter_judge(&config, rec, &fix);
        let (row, seq, segment) = (rec.row, rec.next_seq, rec.segment);
        // Autocommit: this single INSERT is the durable commit.
        storage::insert_fix(&self.conn, row, seq, segment, &fix, verdict)?;
        let rec = self.recorders.get_mut(&row).expect("recorder loaded above");
        let sampling = advance(rec, &fix, verdict);
        Ok(FixOutcome {
            seq,
            verdict,
            sampling,
        })
    }

    /// Adds many fixes (catching up after the app was suspended) in one transaction: all are
    /// stored or, if any is invalid, none is and the error names the first bad one.
    pub fn add_fixes(&mut self, id: PatrolId, fixes: &[NewFix]) -> Result<BatchOutcome> {
        for (i, f) in fixes.iter().enumerate() {
            validate_live_fix(f).map_err(|e| match e {
                Error::InvalidFix { field, reason } => Error::InvalidFix {
                    field,
                    reason: format!("{reason} (fix {i} of the batch; nothing was stored)"),
                },
                other => other,
            })?;
        }
        let config = self.config.track.filter.clone();
        let rec = self.recorder(id)?;
        if rec.state != PatrolState::Recording {
            return Err(Error::PatrolNotRecording {
                id,
                state: rec.state,
            });
        }
        // Work on a copy so a failed transaction leaves the recorder as the database is.
        let mut work = rec.clone();
        let tx = self.conn.transaction()?;
        let outcome = storage::insert_fixes(&tx, &config, &mut work, fixes)?;
        tx.commit()?;
        let row = work.row;
        self.recorders.insert(row, work);
        Ok(outcome)
    }

    /// The sampling advice for a patrol as of its last fix, without adding one: what interval the
    /// host should start its location updates with after a restart or a resume.
    pub fn sampling_advice(&self, id: PatrolId) -> Result<SamplingAdvice> {
        if let Some(rec) = self.recorders.values().find(|r| r.id == id) {
            return Ok(rec.detector.advice());
        }
        // Not cached: rebuild without caching, so asking about stopped patrols keeps nothing.
        Ok(load_recorder(&self.conn, &self.config.track, id)?
            .detector
            .advice())
    }

    /// A patrol's details.
    pub fn patrol(&self, id: PatrolId) -> Result<PatrolInfo> {
        storage::patrol(&self.conn, id)
    }

    /// Patrols in this store, newest first.
    pub fn list_patrols(&self) -> Result<Vec<PatrolInfo>> {
        storage::list_patrols(&self.conn)
    }

    /// Every fix of a patrol, in order, with its verdict.
    pub fn fixes(&self, id: PatrolId) -> Result<Vec<StoredFix>> {
        storage::fixes(&self.conn, id)
    }

    /// Every fix of the patrol with row id `row`, in order.
    pub(crate) fn fixes_of_row(&self, row: i64) -> Result<Vec<StoredFix>> {
        storage::load_fixes(&self.conn, row)
    }

    /// Track metrics of a patrol, computed from its fixes now.
    pub fn track_stats(&self, id: PatrolId) -> Result<TrackStats> {
        Ok(compute_stats(&self.config.track.metrics, &self.fixes(id)?))
    }

    /// The kept track simplified for display and upload, one line of (lat, lon) per segment.
    pub fn simplified_track(&self, id: PatrolId) -> Result<Vec<Vec<(f64, f64)>>> {
        Ok(simplify_track(
            self.config.track.metrics.simplify_tolerance_m,
            &self.fixes(id)?,
        ))
    }

    /// Counts of a patrol's fixes by verdict.
    pub fn verdict_counts(&self, id: PatrolId) -> Result<BTreeMap<FixVerdict, u64>> {
        storage::verdict_counts(&self.conn, id)
    }

    /// Stores a parsed track as a stopped patrol of this device's user. `progress` is called with
    /// (points done, points in all) as the import goes.
    pub fn import_track(
        &mut self,
        track: &ParsedTrack,
        options: &ImportOptions,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<ImportReport> {
        self.import_track_with_cancel(track, options, progress, &AtomicBool::new(false))
    }

    /// Like [`Store::import_track`], but gives up with [`Error::Interrupted`] soon after another
    /// thread sets `cancel` (the host cancelled the import); the transaction is rolled back, so
    /// nothing of the track is stored. SQLite's interrupt cannot do this reliably: it only stops
    /// a statement that is running at that instant, and an import spends most of its time
    /// between statements.
    pub fn import_track_with_cancel(
        &mut self,
        track: &ParsedTrack,
        options: &ImportOptions,
        progress: &mut dyn FnMut(u64, u64),
        cancel: &AtomicBool,
    ) -> Result<ImportReport> {
        let me = self.require_device()?;
        let filter = options
            .filter
            .clone()
            .unwrap_or_else(|| self.config.track.filter.clone());
        let track_config = crate::track::TrackConfig {
            filter,
            ..self.config.track.clone()
        };
        track_config.validate()?;
        let total = track.point_count() as u64;
        let name = options.name.clone().or_else(|| track.name.clone());
        let started_at_ms = track
            .segments
            .iter()
            .flatten()
            .filter_map(|f| f.time_ms)
            .min()
            .unwrap_or_else(|| self.clock.now_ms());
        let run = TrackImport {
            me: &me,
            id: PatrolId::new(),
            name: name.as_deref(),
            started_at_ms,
            now_ms: self.clock.now_ms(),
        };
        let tx = self.conn.transaction()?;
        let stats =
            import::store_track(&tx, &run, track, options, &track_config, progress, cancel)?;
        tx.commit()?;
        progress(total, total);
        Ok(ImportReport {
            patrol_id: run.id,
            name,
            bogus_timestamps: track.bogus_timestamps as u64,
            empty_segments: track.empty_segments as u64,
            stats,
        })
    }

    /// A patrol's track as the text of a GPX or GeoJSON file, coordinates in `datum`.
    pub fn export_track(
        &self,
        id: PatrolId,
        format: TrackExportFormat,
        datum: Datum,
        which: ExportFixes,
    ) -> Result<String> {
        let info = self.patrol(id)?;
        let fixes = self.fixes(id)?;
        Ok(export::track_file(
            &info,
            &fixes,
            format,
            datum,
            which,
            &self.config.track.metrics,
        ))
    }
}
