//! Sync with the district server: enrolment with a one-time code, and a sync of everything the
//! device has and may receive (off the caller's thread, with progress and cancellation). The
//! network state comes from the host's `NetworkMonitor` unless the call names one. See
//! `docs/sync-protocol.md`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use patrol_core::store::DeviceIdentity;
use patrol_core::sync::{self as core_sync, SyncPolicy};

use crate::error::PatrolError;
use crate::http::HostHttp;
use crate::platform::{NetworkState, ProgressListener, ProgressReporter, ProgressStage};
use crate::store::PatrolStore;
use crate::watch::ChangeSignal;
use crate::worker::{self, CancelToken};

/// How a sync may use the network.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct SyncSettings {
    /// The network to assume; when absent, the store's `NetworkMonitor` says (and without one,
    /// cellular: metadata only).
    #[uniffi(default = None)]
    pub network: Option<NetworkState>,
    /// Download other patrols' fixes (supervisors) on cellular too.
    #[uniffi(default = false)]
    pub bulk_on_cellular: bool,
    /// Upload and download photo originals on cellular too (thumbnails always go).
    #[uniffi(default = false)]
    pub photos_on_cellular: bool,
    /// Allow plain http to a host other than this device (development servers only).
    #[uniffi(default = false)]
    pub allow_insecure_http: bool,
}

/// Something the server refused, set aside with its reason.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RejectedItem {
    pub id: String,
    pub reason: String,
}

/// What a sync moved.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SyncReport {
    pub network: NetworkState,
    pub requests: u64,
    pub retries: u64,
    /// CRDT documents (issues and merchants) sent and received.
    pub documents_up: u64,
    pub documents_down: u64,
    pub patrols_up: u64,
    pub patrols_down: u64,
    pub records_up: u64,
    pub records_down: u64,
    pub reference_down: u64,
    pub fixes_up: u64,
    pub fixes_down: u64,
    pub photos_up: u64,
    pub photos_down: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
    /// What waited for a better network.
    pub deferred: Vec<String>,
    /// What the server refused in this sync.
    pub rejected: Vec<RejectedItem>,
}

/// The server account of this store.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SyncAccount {
    pub server_url: String,
    pub enrolled_at_ms: i64,
    pub last_sync_ms: Option<i64>,
}

fn to_core(n: NetworkState) -> core_sync::NetworkState {
    match n {
        NetworkState::Offline => core_sync::NetworkState::Offline,
        NetworkState::Cellular => core_sync::NetworkState::Cellular,
        NetworkState::Wifi => core_sync::NetworkState::Wifi,
    }
}

fn policy(network: NetworkState, s: &SyncSettings) -> SyncPolicy {
    SyncPolicy {
        bulk_on_cellular: s.bulk_on_cellular,
        photos_on_cellular: s.photos_on_cellular,
        allow_insecure_http: s.allow_insecure_http,
        ..SyncPolicy::on(to_core(network))
    }
}

/// The host's listener and cancel flag as the core sees them, and the observers told as each
/// step is stored (the sync writes through a connection of its own, which the app's calls do not
/// see).
struct Progress<'c> {
    listener: ProgressReporter,
    changes: Arc<ChangeSignal>,
    cancel: &'c AtomicBool,
}

impl core_sync::SyncProgress for Progress<'_> {
    fn progress(&self, stage: core_sync::SyncStage, done: u64, total: u64) {
        use core_sync::SyncStage as S;
        self.changes.notify();
        let stage = match stage {
            S::Documents => ProgressStage::SyncDocuments,
            S::FixesUp => ProgressStage::SyncFixesUp,
            S::FixesDown => ProgressStage::SyncFixesDown,
            S::Photos => ProgressStage::SyncPhotos,
        };
        self.listener.report(stage, done, total);
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// A cancelled sync says what it kept; other errors go to the host as they are. The core stops
/// before its next request once the flag is up (a request under way finishes or times out).
fn finished<T>(cancel: &AtomicBool, r: patrol_core::Result<T>) -> Result<T, PatrolError> {
    match r {
        Err(patrol_core::Error::Interrupted) if cancel.load(Ordering::Relaxed) => {
            Err(PatrolError::interrupted(
                "the sync was cancelled; what it had finished is kept, the next sync goes on from there",
            ))
        }
        r => r.map_err(PatrolError::from),
    }
}

impl PatrolStore {
    /// The host's HTTP stack as the core's transport, or the error that says it is missing.
    fn transport(&self) -> Result<HostHttp, PatrolError> {
        self.http.clone().map(HostHttp).ok_or_else(|| PatrolError::InvalidState {
            reason: "this store was opened without an HTTP client; pass the platform's (JavaNetHttpClient, URLSessionHttpClient) to PatrolStore.open to enrol or sync".into(),
        })
    }
}

#[uniffi::export]
impl PatrolStore {
    /// Enrols this store with a district server using a one-time code from a supervisor. A new
    /// store becomes that user's device; a store of another user is refused.
    #[uniffi::method(default(cancel = None, settings))]
    pub async fn enrol(
        &self,
        server_url: String,
        code: String,
        settings: SyncSettings,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<DeviceIdentity, PatrolError> {
        let store = Arc::clone(&self.store);
        let changes = Arc::clone(&self.changes);
        let transport = self.transport()?;
        worker::spawn("enrolment", cancel, move |cancel| {
            let mut store = store.lock().map_err(|_| PatrolError::poisoned())?;
            let p = policy(NetworkState::Wifi, &settings);
            let control = Progress {
                listener: ProgressReporter::new(None),
                changes: Arc::clone(&changes),
                cancel,
            };
            let r = core_sync::enrol(&mut store, &transport, &control, &server_url, &code, p);
            let r = finished(cancel, r);
            changes.notify();
            r
        })
        .await
    }

    /// Syncs with the server: this device's issues, merchants, patrol headers and records up and
    /// what it may see down, its fixes up, and (network permitting) photos and other patrols'
    /// fixes. It runs on a second connection to the store file, so other calls on this store go
    /// on meanwhile (a write may wait for one page of the sync to be stored); one sync runs at a
    /// time. Cancelling keeps what was finished.
    #[uniffi::method(default(progress = None, cancel = None, settings))]
    pub async fn sync(
        &self,
        settings: SyncSettings,
        progress: Option<Arc<dyn ProgressListener>>,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<SyncReport, PatrolError> {
        let network = settings
            .network
            .or_else(|| self.network_state())
            .unwrap_or(NetworkState::Cellular);
        let store = Arc::clone(&self.store);
        let turn = Arc::clone(&self.sync_turn);
        let changes = Arc::clone(&self.changes);
        let transport = self.transport()?;
        worker::spawn("sync", cancel, move |cancel| {
            let _one_at_a_time = turn.lock().map_err(|_| PatrolError::poisoned())?;
            let p = policy(network, &settings);
            let progress = Progress {
                listener: ProgressReporter::new(progress),
                changes: Arc::clone(&changes),
                cancel,
            };
            // The app's connection is held only to open the sync's own.
            let own = store
                .lock()
                .map_err(|_| PatrolError::poisoned())?
                .open_another();
            let r = match own {
                Ok(mut own) => core_sync::sync(&mut own, &transport, &p, &progress),
                // An in-memory store has no file for a second connection: sync on the app's.
                Err(_) => {
                    let mut store = store.lock().map_err(|_| PatrolError::poisoned())?;
                    core_sync::sync(&mut store, &transport, &p, &progress)
                }
            };
            let r = finished(cancel, r);
            changes.notify(); // also after a failure: what the sync finished is kept
            let r = r?;
            Ok(SyncReport {
                network,
                requests: r.requests,
                retries: r.retries,
                documents_up: r.docs_up,
                documents_down: r.docs_down,
                patrols_up: r.patrols_up,
                patrols_down: r.patrols_down,
                records_up: r.records_up,
                records_down: r.records_down,
                reference_down: r.reference_down,
                fixes_up: r.fixes_up,
                fixes_down: r.fixes_down,
                photos_up: r.photos_up,
                photos_down: r.photos_down,
                bytes_up: r.bytes_up,
                bytes_down: r.bytes_down,
                deferred: r.deferred,
                rejected: r
                    .rejected
                    .into_iter()
                    .map(|x| RejectedItem {
                        id: x.id,
                        reason: x.reason,
                    })
                    .collect(),
            })
        })
        .await
    }

    /// The server account, or none before enrolment.
    pub fn sync_account(&self) -> Result<Option<SyncAccount>, PatrolError> {
        self.with_store(|s| {
            Ok(s.sync_account()?.map(|a| SyncAccount {
                server_url: a.server_url,
                enrolled_at_ms: a.enrolled_at_ms,
                last_sync_ms: a.last_sync_ms,
            }))
        })
    }

    /// Everything the server refused (documents, patrol headers, records), with the reasons.
    pub fn rejected_sync_items(&self) -> Result<Vec<RejectedItem>, PatrolError> {
        self.with_store(|s| {
            Ok(s.rejected_items()?
                .into_iter()
                .map(|x| RejectedItem {
                    id: x.id,
                    reason: x.reason,
                })
                .collect())
        })
    }
}
