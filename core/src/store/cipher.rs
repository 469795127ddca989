//! Encryption at rest: the store's database through SQLCipher (AES-256 pages with an HMAC each,
//! the WAL too) with a raw 32-byte key from the platform's secret store, its photo files sealed
//! with a second key from there ([`crate::sealed`]), and the sync token kept there instead of in
//! a table.
//!
//! Opening an encrypted store: the file's first bytes say whether it is plain SQLite
//! (`SQLite format 3\0`), absent, or something else, which only the key can open. A new store
//! gets new keys, kept in the secret store before the file is created. A plain store is encrypted
//! in place: its photos sealed one by one, then the database exported with `sqlcipher_export`
//! into `<db>.encrypting`, synced, and renamed over the plain file. Killed at any point, the
//! store still opens: before the rename the plain file is whole (and the work is done again),
//! after it the encrypted one is. An encrypted file whose key is missing or wrong is refused
//! untouched.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, params};

use crate::error::{Error, Result};
use crate::secrets::{self, Key, PHOTO_KEY, STORE_KEY, SYNC_TOKEN, SecretStore};

/// Whether a store is encrypted at rest, and where its keys are.
#[derive(Clone, Default)]
pub enum Protection {
    /// Plain SQLite and plain photo files, the sync token in a table: tests, benchmarks,
    /// scratch stores. A phone never opens one (the bindings always pass the platform's secret
    /// store).
    #[default]
    Clear,
    /// SQLCipher with keys from this secret store, photos sealed, the sync token kept there.
    /// A plain store at the path is encrypted in place when it opens.
    Encrypted(Arc<dyn SecretStore>),
}

impl std::fmt::Debug for Protection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Protection::Clear => "Clear",
            Protection::Encrypted(_) => "Encrypted(..)",
        })
    }
}

impl Protection {
    pub(crate) fn secrets(&self) -> Option<&dyn SecretStore> {
        match self {
            Protection::Clear => None,
            Protection::Encrypted(s) => Some(s.as_ref()),
        }
    }
}

/// The keys an encrypted store is open with.
#[derive(Debug)]
pub(crate) struct Keys {
    pub(crate) database: Key,
    pub(crate) photos: Key,
}

/// What the file at a store's path holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileState {
    /// No file, or an empty one: a new store.
    Absent,
    /// Plain SQLite.
    Clear,
    /// Whole pages of what looks like random bytes: an encrypted store (or not a database at
    /// all, which only the key can tell).
    Encrypted,
    /// Neither: a text file, a truncated copy. Refused as not a database.
    NotADatabase,
}

const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

fn file_state(path: &Path) -> Result<FileState> {
    use std::io::Read as _;
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileState::Absent),
        Err(e) => return Err(io(e)),
    };
    let len = file.metadata().map_err(io)?.len();
    let mut head = Vec::with_capacity(16);
    (&mut file).take(16).read_to_end(&mut head).map_err(io)?;
    Ok(match head.as_slice() {
        [] => FileState::Absent,
        h if h == SQLITE_HEADER => FileState::Clear,
        // SQLCipher writes whole pages (512 bytes at the least) that begin with a random salt.
        h if len % 512 == 0 && !h.iter().all(|b| b.is_ascii_graphic() || *b == b' ') => {
            FileState::Encrypted
        }
        _ => FileState::NotADatabase,
    })
}

/// `<db><suffix>` beside the store.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

const ENCRYPTING: &str = ".encrypting";

/// The keys for the store at `path` (`None` for an in-memory one), its file made encrypted
/// first when it is plain (photos in `photos_dir` sealed too). Refuses an encrypted file whose
/// key the secret store does not have.
pub(crate) fn unlock(
    path: Option<&Path>,
    secrets: &dyn SecretStore,
    photos_dir: Option<&Path>,
) -> Result<Keys> {
    let Some(path) = path else {
        return Ok(Keys {
            database: secrets::key_or_new(secrets, STORE_KEY)?,
            photos: secrets::key_or_new(secrets, PHOTO_KEY)?,
        });
    };
    // One opener at a time, in this process or another (the app and a background sync opening
    // at the first launch after an upgrade): making keys and encrypting in place are not safe
    // twice at once.
    let _turn = lock_opening(path)?;
    remove_leftovers(path)?;
    match file_state(path)? {
        FileState::Absent => Ok(Keys {
            database: secrets::key_or_new(secrets, STORE_KEY)?,
            photos: secrets::key_or_new(secrets, PHOTO_KEY)?,
        }),
        FileState::NotADatabase => Err(Error::NotADatabase {
            path: path.to_path_buf(),
        }),
        FileState::Encrypted => {
            let missing = || Error::KeyMissing {
                path: path.to_path_buf(),
            };
            let database = secrets::key(secrets, STORE_KEY)?.ok_or_else(missing)?;
            // A wrong database key is told as such before anything about the photos.
            let check = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            apply_key(&check, &database, path)?;
            drop(check);
            // A photo key is made only while no photo is sealed: sealed files under a key that
            // is gone would be lost silently.
            let photos = match secrets::key(secrets, PHOTO_KEY)? {
                Some(key) => key,
                None if photos_dir.is_some_and(crate::sealed::folder_has_sealed) => {
                    return Err(missing());
                }
                None => secrets::key_or_new(secrets, PHOTO_KEY)?,
            };
            Ok(Keys { database, photos })
        }
        FileState::Clear => {
            // Everything that can refuse comes before the photos are touched.
            let version = check_plain(path)?;
            let keys = Keys {
                database: secrets::key_or_new(secrets, STORE_KEY)?,
                photos: secrets::key_or_new(secrets, PHOTO_KEY)?,
            };
            if let Some(dir) = photos_dir {
                crate::sealed::seal_photo_folder(dir, &keys.photos)?;
            }
            encrypt_in_place(path, &keys.database, version)?;
            Ok(keys)
        }
    }
}

/// Holds `<db>.lock` exclusively until dropped.
fn lock_opening(path: &Path) -> Result<std::fs::File> {
    let lock = sibling(path, ".lock");
    let io = |source| Error::Io {
        path: lock.clone(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock)
        .map_err(io)?;
    file.lock().map_err(io)?;
    Ok(file)
}

/// The schema version of the plain store at `path`, refused when newer than this code or when
/// its path cannot be attached; nothing is written.
fn check_plain(path: &Path) -> Result<i64> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > super::SCHEMA_VERSION {
        return Err(Error::DatabaseTooNew {
            path: path.to_path_buf(),
            found: version,
            supported: super::SCHEMA_VERSION,
        });
    }
    if sibling(path, ENCRYPTING).to_str().is_none() {
        return Err(Error::InvalidConfig(format!(
            "{} is not a UTF-8 path; SQLCipher cannot encrypt the store there",
            path.display()
        )));
    }
    Ok(version)
}

/// Removes what an interrupted encryption left beside the store (never the store itself).
fn remove_leftovers(path: &Path) -> Result<()> {
    for suffix in [ENCRYPTING, ".encrypting-journal"] {
        let p = sibling(path, suffix);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(Error::Io { path: p, source }),
        }
    }
    Ok(())
}

/// Each page's MAC. HMAC-SHA256 rather than SQLCipher 4's default SHA-512: as strong a MAC for
/// a 4 KiB page, and a third cheaper per page written, which a fix committed on its own pays
/// (docs/performance.md, encryption at rest). Every connection and the export say it, since
/// SQLCipher does not record it in the file.
const HMAC: &str = "HMAC_SHA256";

/// SQLCipher's raw-key form: the 32 bytes as hex, used as they are (no key derivation).
fn raw_key(key: &Key) -> String {
    let hex: String = key.bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("x'{hex}'")
}

/// Gives `conn` the database key and checks it opens the file: a wrong key (or a file that is
/// no database) is [`Error::WrongKey`] before anything is written.
pub(crate) fn apply_key(conn: &Connection, key: &Key, path: &Path) -> Result<()> {
    // SQLCipher writes its own failures (a page that does not decrypt: the wrong key) to
    // standard error; the error returned here says it in the task's words instead.
    conn.execute_batch("PRAGMA cipher_log_level = NONE")?;
    conn.pragma_update(None, "key", raw_key(key))?;
    conn.pragma_update(None, "cipher_hmac_algorithm", HMAC)?;
    match conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(()),
        Err(e) if e.sqlite_error_code() == Some(ErrorCode::NotADatabase) => Err(Error::WrongKey {
            path: path.to_path_buf(),
        }),
        Err(e) => Err(e.into()),
    }
}

/// The plain store at `path` (at schema `version`) re-written encrypted under `key`, replacing
/// it whole.
fn encrypt_in_place(path: &Path, key: &Key, version: i64) -> Result<()> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| Error::Io { path: p, source }
    };
    let target = sibling(path, ENCRYPTING);
    // CREATE for the attached file; the plain one is there (its header was just read).
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // Everything in the WAL goes into the main file first, so the export reads it all and the
    // WAL left behind is empty.
    let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
    if busy != 0 {
        return Err(Error::InvalidConfig(format!(
            "{} is in use by another connection and cannot be encrypted now; close the other and open it again",
            path.display()
        )));
    }
    let target_name = target.to_str().ok_or_else(|| {
        Error::InvalidConfig(format!(
            "{} is not a UTF-8 path; SQLCipher cannot attach it",
            target.display()
        ))
    })?;
    conn.execute(
        "ATTACH DATABASE ?1 AS encrypted KEY ?2",
        params![target_name, raw_key(key)],
    )?;
    conn.pragma_update(Some("encrypted"), "cipher_hmac_algorithm", HMAC)?;
    conn.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
    conn.pragma_update(Some("encrypted"), "user_version", version)?;
    conn.execute_batch("DETACH DATABASE encrypted")?;
    conn.close().map_err(|(_, e)| Error::from(e))?;
    std::fs::File::open(&target)
        .and_then(|f| f.sync_all())
        .map_err(io(&target))?;
    // The plain file's WAL and index are empty now (checkpointed, then closed); an encrypted
    // file must not meet them.
    for suffix in ["-wal", "-shm"] {
        let p = sibling(path, suffix);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(Error::Io { path: p, source }),
        }
    }
    std::fs::rename(&target, path).map_err(io(path))?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        // Makes the rename durable; a folder that cannot be opened for this (some platforms)
        // still has the rename, which is atomic.
        if let Ok(dir) = std::fs::File::open(parent) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

/// Moves a sync token still in the `sync_account` table (a store enrolled before it was
/// encrypted) into the secret store, then blanks the column; run again after an interruption,
/// it finishes the move.
pub(crate) fn move_token_out(conn: &Connection, secrets: &dyn SecretStore) -> Result<()> {
    let token: Option<String> = conn
        .query_row("SELECT token FROM sync_account", [], |r| r.get(0))
        .optional()?;
    if let Some(token) = token.filter(|t| !t.is_empty()) {
        secrets::write(secrets, SYNC_TOKEN, token.as_bytes())?;
        conn.execute("UPDATE sync_account SET token = ''", [])?;
    }
    Ok(())
}

/// The sync token: the secret store's when the store is encrypted, else the table's.
pub(crate) fn sync_token(in_table: String, secrets: Option<&dyn SecretStore>) -> Result<String> {
    match secrets {
        Some(s) if in_table.is_empty() => {
            let bytes = secrets::read(s, SYNC_TOKEN)?.unwrap_or_default();
            String::from_utf8(bytes).map_err(|_| {
                Error::SecretStore("the sync token in the secret store is not text".into())
            })
        }
        _ => Ok(in_table),
    }
}

/// What the `sync_account` table keeps of a new token: nothing when the secret store keeps it
/// (written there first), the token itself for a plain store.
pub(crate) fn keep_token(secrets: Option<&dyn SecretStore>, token: &str) -> Result<String> {
    match secrets {
        Some(s) => {
            secrets::write(s, SYNC_TOKEN, token.as_bytes())?;
            Ok(String::new())
        }
        None => Ok(token.to_owned()),
    }
}
