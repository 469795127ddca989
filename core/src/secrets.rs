//! Secrets a store keeps outside itself: the key of its database, the key its photo files are
//! sealed with, and the device's sync token. They live in the platform's secret store (Android
//! Keystore, the iOS Keychain), which the host passes in as a [`SecretStore`]; the core never
//! writes them into its own tables or files.
//!
//! [`FileSecretStore`] keeps them in a file instead, for the command line and tests on a desktop:
//! it protects nothing against someone who can read that file, and says so.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::error::{Error, Result};

/// The database key's name in the secret store: 32 random bytes (SQLCipher's raw key).
pub const STORE_KEY: &str = "streetpatrol.store-key";
/// The photo key's name: 32 random bytes (XChaCha20-Poly1305), apart from the database's.
pub const PHOTO_KEY: &str = "streetpatrol.photo-key";
/// The sync token's name: the bearer token the server gave this device at enrolment.
pub const SYNC_TOKEN: &str = "streetpatrol.sync-token";

/// Length of the database and photo keys.
pub const KEY_BYTES: usize = 32;

/// The platform's secret store, as the core asks it. Names are the constants above; values are
/// bytes. An error means the secret store itself failed (locked keystore, no keychain access);
/// a name never written is `Ok(None)`.
pub trait SecretStore: Send + Sync {
    fn get(&self, name: &str) -> std::result::Result<Option<Vec<u8>>, String>;
    fn put(&self, name: &str, value: &[u8]) -> std::result::Result<(), String>;
    fn delete(&self, name: &str) -> std::result::Result<(), String>;
}

fn failed(e: String) -> Error {
    Error::SecretStore(e)
}

/// The secret called `name`, `None` when the secret store has none.
pub(crate) fn read(secrets: &dyn SecretStore, name: &str) -> Result<Option<Vec<u8>>> {
    secrets.get(name).map_err(failed)
}

/// Writes the secret called `name`.
pub(crate) fn write(secrets: &dyn SecretStore, name: &str, value: &[u8]) -> Result<()> {
    secrets.put(name, value).map_err(failed)
}

/// A 32-byte key kept under `name`: read it, or when the secret store has none, make one from
/// the operating system's random source and keep it first. A value of another length there is
/// refused: it is not a key this core wrote.
pub(crate) fn key_or_new(secrets: &dyn SecretStore, name: &str) -> Result<Key> {
    if let Some(key) = key(secrets, name)? {
        return Ok(key);
    }
    let mut bytes = [0u8; KEY_BYTES];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::SecretStore(format!("no random bytes for a new key: {e}")))?;
    write(secrets, name, &bytes)?;
    Ok(Key(bytes))
}

/// The 32-byte key kept under `name`, `None` when the secret store has none.
pub(crate) fn key(secrets: &dyn SecretStore, name: &str) -> Result<Option<Key>> {
    match read(secrets, name)? {
        None => Ok(None),
        Some(v) => {
            let bytes: [u8; KEY_BYTES] = v.as_slice().try_into().map_err(|_| {
                Error::SecretStore(format!(
                    "the secret store's {name} is {} bytes, not a {KEY_BYTES}-byte key",
                    v.len()
                ))
            })?;
            Ok(Some(Key(bytes)))
        }
    }
}

/// A 32-byte key, wiped from memory when dropped and never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Key(pub(crate) [u8; KEY_BYTES]);

impl Key {
    pub(crate) fn bytes(&self) -> &[u8; KEY_BYTES] {
        &self.0
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

/// DEVELOPMENT ONLY: secrets in a plain file (JSON, base64 values, mode 0600 on Unix), for the
/// `patrol` command and tests on a desktop. Whoever can read the file can read the store it
/// unlocks, so it adds no protection when it sits beside the store; on a phone the platform's
/// secret store takes its place.
#[derive(Debug)]
pub struct FileSecretStore {
    path: PathBuf,
    lock: Mutex<()>,
}

impl FileSecretStore {
    /// Secrets kept in the file at `path` (created on the first write).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            lock: Mutex::new(()),
        }
    }

    /// The file beside a store at `db`: `<db>.secrets`.
    pub fn beside(db: &Path) -> Self {
        let mut name = db.file_name().unwrap_or_default().to_os_string();
        name.push(".secrets");
        Self::new(db.with_file_name(name))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn load(&self) -> std::result::Result<BTreeMap<String, String>, String> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| format!("{} is not a secrets file: {e}", self.path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(format!("cannot read {}: {e}", self.path.display())),
        }
    }

    fn save(&self, all: &BTreeMap<String, String>) -> std::result::Result<(), String> {
        let bytes = serde_json::to_vec_pretty(all).map_err(|e| e.to_string())?;
        write_private(&self.path, &bytes)
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))
    }
}

/// Writes `bytes` to `path` whole (a synced temporary file renamed over it), readable by its
/// owner only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = parent.join(format!(".secrets-{}", uuid::Uuid::now_v7().simple()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = (|| {
        let mut f = options.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

impl SecretStore for FileSecretStore {
    fn get(&self, name: &str) -> std::result::Result<Option<Vec<u8>>, String> {
        let _turn = self.lock.lock().map_err(|_| "secrets lock poisoned")?;
        match self.load()?.get(name) {
            None => Ok(None),
            Some(v) => BASE64
                .decode(v)
                .map(Some)
                .map_err(|e| format!("{}: {name} is not base64: {e}", self.path.display())),
        }
    }

    fn put(&self, name: &str, value: &[u8]) -> std::result::Result<(), String> {
        let _turn = self.lock.lock().map_err(|_| "secrets lock poisoned")?;
        let mut all = self.load()?;
        all.insert(name.to_owned(), BASE64.encode(value));
        self.save(&all)
    }

    fn delete(&self, name: &str) -> std::result::Result<(), String> {
        let _turn = self.lock.lock().map_err(|_| "secrets lock poisoned")?;
        let mut all = self.load()?;
        if all.remove(name).is_some() {
            self.save(&all)?;
        }
        Ok(())
    }
}

/// Secrets held in memory only, gone with the process: tests and benchmarks that need an
/// encrypted store for one run.
#[derive(Default)]
pub struct MemorySecretStore(Mutex<BTreeMap<String, Vec<u8>>>);

impl std::fmt::Debug for MemorySecretStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MemorySecretStore(..)")
    }
}

impl MemorySecretStore {
    pub fn new() -> Arc<Self> {
        Arc::default()
    }
}

impl SecretStore for MemorySecretStore {
    fn get(&self, name: &str) -> std::result::Result<Option<Vec<u8>>, String> {
        let all = self.0.lock().map_err(|_| "secrets lock poisoned")?;
        Ok(all.get(name).cloned())
    }

    fn put(&self, name: &str, value: &[u8]) -> std::result::Result<(), String> {
        let mut all = self.0.lock().map_err(|_| "secrets lock poisoned")?;
        all.insert(name.to_owned(), value.to_vec());
        Ok(())
    }

    fn delete(&self, name: &str) -> std::result::Result<(), String> {
        let mut all = self.0.lock().map_err(|_| "secrets lock poisoned")?;
        all.remove(name);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_secrets_survive_a_new_instance_and_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("p.db");
        let a = FileSecretStore::beside(&db);
        assert_eq!(a.path(), dir.path().join("p.db.secrets"));
        assert_eq!(a.get(STORE_KEY).unwrap(), None);
        let key = key_or_new(&a, STORE_KEY).unwrap();
        a.put(SYNC_TOKEN, b"token").unwrap();
        let b = FileSecretStore::beside(&db);
        assert_eq!(
            key_or_new(&b, STORE_KEY).unwrap(),
            key,
            "the same key, not a new one"
        );
        assert_eq!(b.get(SYNC_TOKEN).unwrap().as_deref(), Some(&b"token"[..]));
        b.delete(SYNC_TOKEN).unwrap();
        assert_eq!(a.get(SYNC_TOKEN).unwrap(), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(a.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("p.db.secrets")]);
    }

    #[test]
    fn a_value_that_is_not_a_key_is_refused() {
        let s = MemorySecretStore::new();
        s.put(PHOTO_KEY, b"short").unwrap();
        let err = key_or_new(s.as_ref(), PHOTO_KEY).unwrap_err();
        assert!(matches!(err, Error::SecretStore(_)), "{err:?}");
        assert!(err.to_string().contains("5 bytes"), "{err}");
        assert_eq!(format!("{:?}", Key([7; 32])), "Key(..)");
    }

    #[test]
    fn a_broken_secrets_file_is_an_error_not_an_empty_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        std::fs::write(&path, "not json").unwrap();
        let s = FileSecretStore::new(&path);
        let err = key_or_new(&s, STORE_KEY).unwrap_err();
        assert!(err.to_string().contains("not a secrets file"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"not json", "left as it was");
    }
}
