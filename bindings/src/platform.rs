//! Platform services the host implements (foreign traits), so the core needs no platform calls
//! and tests can fake each one: the wall clock, the network state, and a listener for the
//! progress of slow work.
//!
//! A host implementation that throws must not break the core: every call into the host goes
//! through [`guarded`], and a throwing clock falls back to the system clock, a throwing listener
//! is not called again, a throwing network monitor reads as "unknown".

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Wall-clock time (named so as not to clash with Swift's `Clock`). Pass one to `PatrolStore.open` to control time in tests; apps normally pass
/// none and the system clock is used.
#[uniffi::export(foreign)]
pub trait WallClock: Send + Sync {
    /// Milliseconds since the Unix epoch (UTC).
    fn now_ms(&self) -> i64;
}

/// The kind of network the device is on, as the host's connectivity callbacks see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum NetworkState {
    /// No usable network.
    Offline,
    /// A metered network (mobile data): metadata syncs, original photos and bulk downloads wait.
    Cellular,
    /// An unmetered network (wifi, ethernet): everything syncs.
    Wifi,
}

/// Tells the core which network the device is on. The host keeps the answer current from its
/// connectivity callbacks (Android `ConnectivityManager.NetworkCallback`, iOS `NWPathMonitor`);
/// the core asks when it decides what to sync.
#[uniffi::export(foreign)]
pub trait NetworkMonitor: Send + Sync {
    fn network_state(&self) -> NetworkState;
}

/// The step a slow operation is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ProgressStage {
    /// Reading and parsing a track or street file; `done`/`total` count bytes.
    ReadingFile,
    /// Storing an imported track; `done`/`total` count points.
    StoringFixes,
    /// Storing an imported street network; `done`/`total` count streets.
    StoringStreets,
    /// Sync: exchanging documents, patrol headers and records; `done`/`total` count pages.
    SyncDocuments,
    /// Sync: uploading this device's fixes; `done`/`total` count fixes.
    SyncFixesUp,
    /// Sync: downloading other patrols' fixes; `done`/`total` count fixes.
    SyncFixesDown,
    /// Sync: photo originals up and down; `done`/`total` count photos.
    SyncPhotos,
}

/// How far a slow operation has come (not `Progress`: Foundation has one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct ProgressReport {
    pub stage: ProgressStage,
    pub done: u64,
    pub total: u64,
}

/// Receives progress of slow work. Called on the worker thread doing the work, never on the
/// caller's thread: post to the UI thread from here.
#[uniffi::export(foreign)]
pub trait ProgressListener: Send + Sync {
    fn on_progress(&self, progress: ProgressReport);
}

/// Runs a call into the host, turning a host exception (a panic on this side) into `None`.
pub(crate) fn guarded<T>(call: impl FnOnce() -> T) -> Option<T> {
    catch_unwind(AssertUnwindSafe(call)).ok()
}

/// The host's clock as the core's [`patrol_core::Clock`].
pub(crate) struct HostClock(pub Arc<dyn WallClock>);

impl patrol_core::Clock for HostClock {
    fn now_ms(&self) -> i64 {
        guarded(|| self.0.now_ms()).unwrap_or_else(|| patrol_core::SystemClock.now_ms())
    }
}

/// Forwards progress to an optional host listener, and stops forwarding after the listener
/// threw once (the work itself goes on).
pub(crate) struct ProgressReporter {
    listener: Option<Arc<dyn ProgressListener>>,
    broken: AtomicBool,
}

impl ProgressReporter {
    pub fn new(listener: Option<Arc<dyn ProgressListener>>) -> Self {
        Self {
            listener,
            broken: AtomicBool::new(false),
        }
    }

    pub fn report(&self, stage: ProgressStage, done: u64, total: u64) {
        let Some(listener) = &self.listener else {
            return;
        };
        if self.broken.load(Ordering::Relaxed) {
            return;
        }
        if guarded(|| listener.on_progress(ProgressReport { stage, done, total })).is_none() {
            self.broken.store(true, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use patrol_core::Clock as _;
    use std::sync::Mutex;

    struct Throwing;
    impl WallClock for Throwing {
        fn now_ms(&self) -> i64 {
            panic!("the host clock threw")
        }
    }
    impl ProgressListener for Throwing {
        fn on_progress(&self, _: ProgressReport) {
            panic!("the host listener threw")
        }
    }

    #[test]
    fn a_throwing_clock_falls_back_to_the_system_clock() {
        let now = patrol_core::SystemClock.now_ms();
        let t = HostClock(Arc::new(Throwing)).now_ms();
        assert!((t - now).abs() < 60_000, "{t} vs {now}");
    }

    #[test]
    fn a_throwing_listener_is_dropped_and_a_good_one_hears_everything() {
        let r = ProgressReporter::new(Some(Arc::new(Throwing)));
        r.report(ProgressStage::StoringFixes, 1, 2);
        assert!(r.broken.load(Ordering::Relaxed));
        r.report(ProgressStage::StoringFixes, 2, 2); // not called again: no second panic

        struct Recorder(Mutex<Vec<ProgressReport>>);
        impl ProgressListener for Recorder {
            fn on_progress(&self, p: ProgressReport) {
                self.0.lock().unwrap().push(p);
            }
        }
        let rec = Arc::new(Recorder(Mutex::new(vec![])));
        let r = ProgressReporter::new(Some(rec.clone()));
        r.report(ProgressStage::ReadingFile, 0, 10);
        r.report(ProgressStage::StoringFixes, 5, 5);
        let seen = rec.0.lock().unwrap().clone();
        assert_eq!(seen.len(), 2);
        assert_eq!(
            seen[1],
            ProgressReport {
                stage: ProgressStage::StoringFixes,
                done: 5,
                total: 5
            }
        );
    }
}
