//! The store object the host holds: opened at a path with settings and the platform services,
//! shared between threads (`Arc`, `Send + Sync`: the core store sits behind a mutex), closed by
//! the host (Kotlin `close()`/`use {}`, Swift deinit). Capability modules (`recording`, `tracks`,
//! streets, issues, sync) add their methods to it in their own `#[uniffi::export] impl`.
//!
//! Every call reaches the core through [`PatrolStore::with_store`] (on the caller's thread) or
//! [`PatrolStore::in_background`] (on a worker thread, for the slow calls the host awaits); both
//! tell the observers ([`crate::watch`]) when the call wrote.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use patrol_core::store::DeviceIdentity;
use patrol_core::{Protection, Role, Store, StoreConfig, SubdistrictId};

use crate::error::PatrolError;
use crate::http::HttpClient;
use crate::platform::{HostClock, NetworkMonitor, NetworkState, WallClock, guarded};
use crate::secrets::{HostSecrets, SecretStore};
use crate::settings::StoreSettings;
use crate::watch::ChangeSignal;
use crate::worker;

/// Store handles alive right now, across the process (see [`live_store_handles`]).
static LIVE_HANDLES: AtomicU64 = AtomicU64::new(0);

/// A StreetPatrol store on this device: one SQLite file holding this device's user, patrols and
/// GPS tracks. Calls are safe from any thread; they take turns on the one database connection
/// (a sync runs on a second connection of its own, so the app keeps working while it runs).
#[derive(uniffi::Object)]
pub struct PatrolStore {
    pub(crate) store: Arc<Mutex<Store>>,
    /// Held by the one sync running at a time.
    pub(crate) sync_turn: Arc<Mutex<()>>,
    /// Raised after a call wrote; the observers wait on it.
    pub(crate) changes: Arc<ChangeSignal>,
    network: Option<Arc<dyn NetworkMonitor>>,
    /// The host's HTTP stack, for enrolment and sync.
    pub(crate) http: Option<Arc<dyn HttpClient>>,
}

impl std::fmt::Debug for PatrolStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatrolStore").finish_non_exhaustive()
    }
}

impl PatrolStore {
    /// Runs `call` on the core store: the one place methods reach it and core errors become
    /// [`PatrolError`].
    pub(crate) fn with_store<T>(
        &self,
        call: impl FnOnce(&mut Store) -> patrol_core::Result<T>,
    ) -> Result<T, PatrolError> {
        run_noting_writes(&self.store, &self.changes, call)
    }

    /// Runs `call` on the core store on a worker thread, as a future the host awaits (Kotlin
    /// `suspend`, Swift `async`): for calls whose cost grows with the data or that read or write
    /// files. The call runs to its end even if the host stops awaiting it.
    pub(crate) async fn in_background<T, E>(
        &self,
        name: &str,
        call: impl FnOnce(&mut Store) -> Result<T, E> + Send + 'static,
    ) -> Result<T, PatrolError>
    where
        T: Send + 'static,
        PatrolError: From<E>,
    {
        let store = Arc::clone(&self.store);
        let changes = Arc::clone(&self.changes);
        worker::spawn(name, None, move |_| {
            run_noting_writes(&store, &changes, call)
        })
        .await
    }
}

/// Runs `call` on the locked store and raises `changes` if it wrote.
pub(crate) fn run_noting_writes<T, E>(
    store: &Mutex<Store>,
    changes: &ChangeSignal,
    call: impl FnOnce(&mut Store) -> Result<T, E>,
) -> Result<T, PatrolError>
where
    PatrolError: From<E>,
{
    let mut store = store.lock().map_err(|_| PatrolError::poisoned())?;
    let before = store.own_changes();
    let result = call(&mut store);
    let wrote = store.own_changes() != before;
    drop(store);
    if wrote {
        changes.notify();
    }
    Ok(result?)
}

impl Drop for PatrolStore {
    fn drop(&mut self) {
        self.changes.close();
        LIVE_HANDLES.fetch_sub(1, Ordering::Relaxed);
    }
}

#[uniffi::export]
impl PatrolStore {
    /// Opens (creating if needed) the store at `path`, encrypted at rest with keys kept in
    /// `secrets` (the platform's secret store), and brings its schema up to date; a plain store
    /// from an earlier version is encrypted in place first. `clock` replaces the system clock
    /// (tests); `network` tells sync which network the device is on; `http` carries enrolment
    /// and sync (the platform's HTTP stack; without one they fail with `InvalidState`). Fails
    /// with `NotADatabase`, `DatabaseTooNew` or `KeyUnavailable` leaving the file untouched.
    #[uniffi::constructor(default(clock = None, network = None, http = None, settings))]
    pub fn open(
        path: String,
        secrets: Arc<dyn SecretStore>,
        settings: StoreSettings,
        clock: Option<Arc<dyn WallClock>>,
        network: Option<Arc<dyn NetworkMonitor>>,
        http: Option<Arc<dyn HttpClient>>,
    ) -> Result<Arc<Self>, PatrolError> {
        let config = StoreConfig {
            protection: Protection::Encrypted(Arc::new(HostSecrets(secrets))),
            ..settings.into()
        };
        let store = match clock {
            Some(clock) => Store::open_with_clock(&path, config, Arc::new(HostClock(clock)))?,
            None => Store::open(&path, config)?,
        };
        LIVE_HANDLES.fetch_add(1, Ordering::Relaxed);
        Ok(Arc::new(PatrolStore {
            store: Arc::new(Mutex::new(store)),
            sync_turn: Arc::new(Mutex::new(())),
            changes: Arc::default(),
            network,
            http,
        }))
    }

    /// The file this store lives in.
    pub fn path(&self) -> Result<String, PatrolError> {
        self.with_store(|s| Ok(s.path().display().to_string()))
    }

    /// Sets the store up for its user (once): creates the user and this device.
    #[uniffi::method(default(subdistrict_id = None))]
    pub fn init_device(
        &self,
        name: String,
        role: Role,
        subdistrict_id: Option<SubdistrictId>,
    ) -> Result<DeviceIdentity, PatrolError> {
        self.with_store(|s| s.init_device(&name, role, subdistrict_id))
    }

    /// This device's identity, or none before [`PatrolStore::init_device`].
    pub fn device(&self) -> Result<Option<DeviceIdentity>, PatrolError> {
        self.with_store(|s| s.device())
    }

    /// The network the host says the device is on; none when the host gave no monitor or the
    /// monitor failed.
    pub fn network_state(&self) -> Option<NetworkState> {
        let monitor = self.network.as_ref()?;
        guarded(|| monitor.network_state())
    }

    /// SQLite's `quick_check`: empty when the file is sound, else the problems found.
    pub fn quick_check(&self) -> Result<Vec<String>, PatrolError> {
        self.with_store(|s| s.quick_check())
    }
}

/// How many store handles are alive in this process. Each `PatrolStore.open` adds one and each
/// closed (or collected) handle removes one: a host whose count only grows is leaking stores.
#[uniffi::export]
pub fn live_store_handles() -> u64 {
    LIVE_HANDLES.load(Ordering::Relaxed)
}

#[cfg(test)]
mod secret_store_tests {
    use std::sync::Arc;

    use crate::error::PatrolError;
    use crate::secrets::tests::InMemory;
    use crate::secrets::{SecretStore, SecretStoreError};
    use crate::settings::StoreSettings;
    use crate::store::PatrolStore;

    /// A keystore that is locked (fails) or throws.
    struct Broken {
        throws: bool,
    }

    impl SecretStore for Broken {
        fn get(&self, _: String) -> Result<Option<Vec<u8>>, SecretStoreError> {
            if self.throws {
                panic!("the host's keystore threw");
            }
            Err(SecretStoreError::Failed {
                reason: "the keystore is locked".into(),
            })
        }
        fn put(&self, name: String, _: Vec<u8>) -> Result<(), SecretStoreError> {
            self.get(name).map(|_| ())
        }
        fn delete(&self, name: String) -> Result<(), SecretStoreError> {
            self.get(name).map(|_| ())
        }
    }

    #[test]
    fn a_failing_or_throwing_secret_store_is_an_error_and_creates_no_store() {
        let dir = tempfile::tempdir().unwrap();
        for throws in [false, true] {
            let path = dir.path().join(format!("p-{throws}.db"));
            let secrets = Arc::new(Broken { throws });
            let path_s = path.display().to_string();
            let err =
                PatrolStore::open(path_s, secrets, StoreSettings::default(), None, None, None)
                    .unwrap_err();
            match err {
                PatrolError::SecretStore { reason } => {
                    let expected = if throws { "threw" } else { "locked" };
                    assert!(reason.contains(expected), "{reason}");
                }
                other => panic!("expected SecretStore, got {other:?}"),
            }
            assert!(!path.exists(), "no store file without its key");
        }
    }

    #[test]
    fn a_store_reopened_with_another_secret_store_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db").display().to_string();
        let store = PatrolStore::open(
            path.clone(),
            InMemory::shared(),
            StoreSettings::default(),
            None,
            None,
            None,
        )
        .unwrap();
        store
            .init_device("王芳".into(), patrol_core::Role::Chief, None)
            .unwrap();
        drop(store);
        let before = std::fs::read(&path).unwrap();
        let err = PatrolStore::open(
            path.clone(),
            InMemory::shared(),
            StoreSettings::default(),
            None,
            None,
            None,
        )
        .unwrap_err();
        assert!(
            matches!(err, PatrolError::KeyUnavailable { missing: true, .. }),
            "{err:?}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }
}
