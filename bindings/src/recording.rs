//! Recording a patrol: start, fixes one at a time or in batches, pause, resume, stop, and the
//! sampling advice that tells the host how often to ask for locations.

use patrol_core::patrol::{BatchOutcome, FixOutcome};
use patrol_core::track::SamplingAdvice;
use patrol_core::{NewFix, PatrolId};

use crate::error::PatrolError;
use crate::store::PatrolStore;
use crate::types::{Fix, TrackStats};

#[uniffi::export]
impl PatrolStore {
    /// Starts recording a patrol for this device's user, meant to cover `planned_streets`.
    /// Fails with `InvalidState` while another patrol is open.
    #[uniffi::method(default(planned_streets = []))]
    pub fn start_patrol(&self, planned_streets: Vec<String>) -> Result<PatrolId, PatrolError> {
        self.with_store(|s| s.start_patrol(&planned_streets))
    }

    /// The patrol this device is recording or has paused, if any (after an app restart: resume
    /// recording into it).
    pub fn open_patrol(&self) -> Result<Option<PatrolId>, PatrolError> {
        self.with_store(|s| s.open_patrol())
    }

    /// Adds one fix and commits it before returning. A fix that is not a fix (NaN, out of range,
    /// (0, 0), negative accuracy) fails with `InvalidInput` and nothing is stored.
    pub fn add_fix(&self, patrol_id: PatrolId, fix: Fix) -> Result<FixOutcome, PatrolError> {
        self.with_store(|s| s.add_fix(patrol_id, fix.into()))
    }

    /// Adds a batch of fixes in one transaction: all or, if one is invalid, none. The way to pass
    /// the locations a platform delivers batched, or that piled up while the app was suspended.
    pub fn add_fixes(
        &self,
        patrol_id: PatrolId,
        fixes: Vec<Fix>,
    ) -> Result<BatchOutcome, PatrolError> {
        let fixes: Vec<NewFix> = fixes.into_iter().map(Into::into).collect();
        self.with_store(|s| s.add_fixes(patrol_id, &fixes))
    }

    /// Pauses recording: fixes are refused until `resume_patrol`.
    pub fn pause_patrol(&self, patrol_id: PatrolId) -> Result<(), PatrolError> {
        self.with_store(|s| s.pause_patrol(patrol_id))
    }

    /// Resumes a paused patrol; its next fixes start a new track segment.
    pub fn resume_patrol(&self, patrol_id: PatrolId) -> Result<(), PatrolError> {
        self.with_store(|s| s.resume_patrol(patrol_id))
    }

    /// Stops a patrol (recording or paused) and returns its track summary.
    pub fn stop_patrol(&self, patrol_id: PatrolId) -> Result<TrackStats, PatrolError> {
        self.with_store(|s| s.stop_patrol(patrol_id))
            .map(Into::into)
    }

    /// The sampling advice as of the patrol's last fix, without adding one: the interval to
    /// start location updates with after a restart or a resume.
    pub fn sampling_advice(&self, patrol_id: PatrolId) -> Result<SamplingAdvice, PatrolError> {
        self.with_store(|s| s.sampling_advice(patrol_id))
    }
}
