//! The platform's secret store, where the store's keys and the sync token live (Android
//! Keystore, the iOS Keychain), never in the store's own tables or files. The host passes one to
//! `PatrolStore.open`: the Android package ships `KeystoreSecretStore`, the Swift package
//! `KeychainSecretStore`; JVM tests use a file-based one written for tests only.
//!
//! The core asks for three names (`streetpatrol.store-key`, `streetpatrol.photo-key`,
//! `streetpatrol.sync-token`), each a few dozen bytes. A secret never written is `null`/`nil`,
//! not an error; an error means the secret store itself failed, and the call that needed it
//! fails with `PatrolError.SecretStore` and changes nothing.

use std::sync::Arc;

use crate::platform::guarded;

/// The platform's secret store failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum SecretStoreError {
    #[error("{reason}")]
    Failed { reason: String },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for SecretStoreError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        SecretStoreError::Failed { reason: e.reason }
    }
}

/// Keeps small secrets by name, protected by the platform (hardware-backed where it can be),
/// for this app only and on this device only (not in backups: a store restored without its key
/// is refused, and the device enrols again).
#[uniffi::export(foreign)]
pub trait SecretStore: Send + Sync {
    /// The secret called `name`, or null when there is none.
    fn get(&self, name: String) -> Result<Option<Vec<u8>>, SecretStoreError>;
    /// Keeps `value` under `name`, replacing what was there; durable when it returns.
    fn put(&self, name: String, value: Vec<u8>) -> Result<(), SecretStoreError>;
    /// Forgets the secret called `name` (nothing when there is none).
    fn delete(&self, name: String) -> Result<(), SecretStoreError>;
}

/// The host's secret store as the core asks it; a host exception is an error, not a crash.
pub(crate) struct HostSecrets(pub Arc<dyn SecretStore>);

fn failed<T>(result: Option<Result<T, SecretStoreError>>) -> Result<T, String> {
    match result {
        Some(Ok(v)) => Ok(v),
        Some(Err(SecretStoreError::Failed { reason })) => Err(reason),
        None => Err("the app's secret store threw".into()),
    }
}

impl patrol_core::secrets::SecretStore for HostSecrets {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        failed(guarded(|| self.0.get(name.to_owned())))
    }

    fn put(&self, name: &str, value: &[u8]) -> Result<(), String> {
        failed(guarded(|| self.0.put(name.to_owned(), value.to_vec())))
    }

    fn delete(&self, name: &str) -> Result<(), String> {
        failed(guarded(|| self.0.delete(name.to_owned())))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Mutex;

    /// Secrets in memory, as a host's secret store (the bindings' tests).
    #[derive(Default)]
    pub(crate) struct InMemory(Mutex<HashMap<String, Vec<u8>>>);

    impl InMemory {
        pub(crate) fn shared() -> Arc<dyn SecretStore> {
            Arc::new(InMemory::default())
        }
    }

    impl SecretStore for InMemory {
        fn get(&self, name: String) -> Result<Option<Vec<u8>>, SecretStoreError> {
            Ok(self.0.lock().unwrap().get(&name).cloned())
        }
        fn put(&self, name: String, value: Vec<u8>) -> Result<(), SecretStoreError> {
            self.0.lock().unwrap().insert(name, value);
            Ok(())
        }
        fn delete(&self, name: String) -> Result<(), SecretStoreError> {
            self.0.lock().unwrap().remove(&name);
            Ok(())
        }
    }
}
