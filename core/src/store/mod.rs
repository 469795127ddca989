//! The phone's local SQLite store: one opener, the pragmas a phone needs, and numbered schema
//! migrations.
//!
//! The opener follows application-services' `open_database`: pragmas first, then every missing
//! schema version in its own IMMEDIATE transaction recorded in `PRAGMA user_version`, and a file
//! newer than the code is refused untouched. Why each pragma is set is written down in
//! `docs/db-pragmas.md`.

pub(crate) mod cipher;
pub(crate) mod device;
mod schema;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};

pub use cipher::Protection;
pub use device::DeviceIdentity;
pub use schema::SCHEMA_VERSION;

use patrol_model::coverage::CoverageConfig;
use patrol_model::domain::{PatrolId, PatrolState};
use patrol_model::matching::MatchConfig;
use patrol_model::photos::PhotoLimits;
use patrol_model::spatial::IndexedNetwork;
use patrol_model::track::TrackConfig;
use patrol_model::track::{FilterState, StationaryDetector};

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};

/// How hard a commit works to survive power loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=NORMAL` in WAL mode: a commit survives the app being killed at any moment
    /// (the OS has the bytes); a power cut may lose the last few commits but never corrupts the
    /// file. The default: it makes a fix append cost a `write`, not an `fsync`.
    #[default]
    ProcessCrashSafe,
    /// `synchronous=FULL`: every commit is fsynced, so it also survives power loss.
    PowerLossSafe,
}

/// Everything that can be tuned when a store is opened.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub durability: Durability,
    /// How long a writer waits for another connection's lock before giving up.
    pub busy_timeout_ms: u32,
    /// The WAL file is truncated back to this size after checkpoints, so it cannot grow without
    /// bound on a phone.
    pub wal_size_limit_bytes: i64,
    /// GPS filtering, metrics and stationary-detection thresholds.
    pub track: TrackConfig,
    /// Map matching thresholds.
    pub matching: MatchConfig,
    /// Coverage thresholds.
    pub coverage: CoverageConfig,
    /// Where photos are kept; `None` means a folder beside the database file
    /// (`<db>.photos`). An in-memory store needs one set to take photos.
    pub photos_dir: Option<PathBuf>,
    /// Size, pixel and type limits for photos.
    pub photo_limits: PhotoLimits,
    /// Reports match patrols missing from the coverage cache on up to this many threads (each
    /// extra one with a read-only connection of its own), never more than the cores; 1 keeps
    /// the work on the caller's thread.
    pub max_worker_threads: u32,
    /// Encrypted at rest with keys from the platform's secret store, or plain (see
    /// [`Protection`]).
    pub protection: Protection,
}

impl StoreConfig {
    /// [`StoreConfig::busy_timeout_ms`] as the duration SQLite is given.
    pub fn busy_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.busy_timeout_ms.into())
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            durability: Durability::default(),
            busy_timeout_ms: 5_000,
            wal_size_limit_bytes: 4 * 1024 * 1024,
            track: TrackConfig::default(),
            matching: Default::default(),
            coverage: Default::default(),
            photos_dir: None,
            photo_limits: PhotoLimits::default(),
            max_worker_threads: 4,
            protection: Protection::Clear,
        }
    }
}

/// What the store keeps in memory of a patrol being recorded: the filter and stationary-detector
/// state and the next sequence number. Derivable from the stored fixes (`patrol::recorder`
/// rebuilds it after a restart).
#[derive(Debug, Clone)]
pub(crate) struct RecorderState {
    pub row: i64,
    pub id: PatrolId,
    pub state: PatrolState,
    pub segment: i64,
    pub next_seq: i64,
    pub filter: FilterState,
    pub detector: StationaryDetector,
}

/// The store's loaded network with the network version it was loaded at, shared by every query
/// until the network changes (an import here, or a sync on another connection).
#[derive(Debug, Default)]
pub(crate) struct NetworkCache(pub(crate) std::cell::RefCell<Option<(i64, Arc<IndexedNetwork>)>>);

/// An open local store. Not `Sync`: a host that shares it between threads wraps it in a mutex
/// (the FFI layer does).
pub struct Store {
    pub(crate) conn: Connection,
    path: PathBuf,
    pub(crate) config: StoreConfig,
    pub(crate) clock: Arc<dyn Clock>,
    /// Filter and stationary-detector state of the patrols being recorded, by patrol row id.
    /// Derivable from the fixes, so it is rebuilt lazily after a restart.
    pub(crate) recorders: HashMap<i64, RecorderState>,
    /// The street network and its R-tree, loaded on first use and dropped by an import.
    pub(crate) network_cache: NetworkCache,
    /// The keys this store is open with, when it is encrypted.
    pub(crate) keys: Option<Arc<cipher::Keys>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>, config: StoreConfig) -> Result<Self> {
        Self::open_with_clock(path, config, Arc::new(SystemClock))
    }

    /// Like [`Store::open`], with the wall clock supplied (tests, or the host through FFI).
    pub fn open_with_clock(
        path: impl AsRef<Path>,
        config: StoreConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        config.track.validate()?;
        let in_memory = path.as_os_str() == ":memory:" || path.as_os_str().is_empty();
        let keys = match config.protection.secrets() {
            None => None,
            Some(secrets) => {
                let photos = crate::photos::photos_dir(config.photos_dir.as_deref(), &path).ok();
                let file = (!in_memory).then_some(path.as_path());
                Some(Arc::new(cipher::unlock(file, secrets, photos.as_deref())?))
            }
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(&path, flags).map_err(|e| classify(e, &path))?;
        if let Some(keys) = &keys {
            cipher::apply_key(&conn, &keys.database, &path)?;
        }
        let mut store = Store {
            conn,
            path,
            config,
            clock,
            recorders: HashMap::new(),
            network_cache: Default::default(),
            keys,
        };
        store.prepare().map_err(|e| reclassify(e, &store.path))?;
        store.migrate()?;
        if let Some(secrets) = store.config.protection.secrets() {
            cipher::move_token_out(&store.conn, secrets)?;
        }
        Ok(store)
    }

    /// Another connection to the same store file, with the same configuration and clock: for
    /// work that runs beside this connection (a sync on a worker thread while the app keeps
    /// reading and recording). SQLite's WAL lets both read at once; writes take turns.
    pub fn open_another(&self) -> Result<Store> {
        let in_memory = self.path.as_os_str() == ":memory:" || self.path.as_os_str().is_empty();
        if in_memory {
            return Err(Error::InvalidInput(
                "an in-memory store has no file to open a second connection to".into(),
            ));
        }
        Self::open_with_clock(&self.path, self.config.clone(), self.clock.clone())
    }

    /// A private in-memory store (tests, benchmarks, the demo's scratch work).
    pub fn open_in_memory(config: StoreConfig) -> Result<Self> {
        Self::open_with_clock(":memory:", config, Arc::new(SystemClock))
    }

    fn prepare(&mut self) -> Result<()> {
        let c = &self.conn;
        // journal_mode answers with the mode it ended up in; an in-memory database stays "memory".
        let mode: String = c.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        debug_assert!(mode == "wal" || mode == "memory", "journal_mode {mode}");
        let sync = match self.config.durability {
            Durability::ProcessCrashSafe => "NORMAL",
            Durability::PowerLossSafe => "FULL",
        };
        c.pragma_update(None, "synchronous", sync)?;
        c.pragma_update(None, "foreign_keys", true)?;
        c.pragma_update(None, "temp_store", 2)?;
        c.pragma_update(None, "journal_size_limit", self.config.wal_size_limit_bytes)?;
        c.busy_timeout(self.config.busy_timeout())?;
        c.set_prepared_statement_cache_capacity(64);
        // Write transactions take the write lock when they begin: a deferred one that reads and
        // then writes fails at once (SQLITE_BUSY, no busy wait) when another connection committed
        // in between, which two connections of one app (a background sync) would meet.
        self.conn
            .set_transaction_behavior(TransactionBehavior::Immediate);
        Ok(())
    }

    fn migrate(&mut self) -> Result<()> {
        let found: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| reclassify(e.into(), &self.path))?;
        if found > SCHEMA_VERSION {
            return Err(Error::DatabaseTooNew {
                path: self.path.clone(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        for version in (found + 1)..=SCHEMA_VERSION {
            let mut step = || -> rusqlite::Result<()> {
                let tx = self
                    .conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)?;
                // Re-read inside the lock: another process may have migrated meanwhile.
                let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
                if now < version {
                    schema::upgrade_to(&tx, version)?;
                    tx.pragma_update(None, "user_version", version)?;
                }
                tx.commit()
            };
            step().map_err(|source| match source.sqlite_error_code() {
                Some(ErrorCode::NotADatabase) => Error::NotADatabase {
                    path: self.path.clone(),
                },
                _ => Error::Migration { version, source },
            })?;
        }
        Ok(())
    }

    /// The file this store lives in (`:memory:` for an in-memory store).
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// A handle another thread can use to abort a long query or import; the interrupted call
    /// returns [`Error::Interrupted`] and its transaction is rolled back.
    pub fn interrupt_handle(&self) -> rusqlite::InterruptHandle {
        self.conn.get_interrupt_handle()
    }

    /// Runs SQLite's `quick_check`; `Ok(())` when the file is sound.
    pub fn quick_check(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare("PRAGMA quick_check")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let problems: Vec<String> = rows
            .collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .filter(|r| r != "ok")
            .collect();
        Ok(problems)
    }

    /// Closes the store explicitly, checkpointing the WAL, so the caller learns of any error
    /// instead of it being swallowed by `Drop`.
    pub fn close(self) -> Result<()> {
        // Best effort: keeps the WAL small for the next start; failure is not data loss.
        let _ = self
            .conn
            .execute_batch("PRAGMA optimize; PRAGMA wal_checkpoint(TRUNCATE);");
        self.conn.close().map_err(|(_, e)| Error::from(e))
    }

    /// Whether the store is encrypted at rest (SQLCipher, photos sealed).
    pub fn is_encrypted(&self) -> bool {
        self.keys.is_some()
    }

    /// The database key of an encrypted store, for the extra connections a report opens.
    pub(crate) fn database_key(&self) -> Option<&crate::secrets::Key> {
        self.keys.as_ref().map(|k| &k.database)
    }

    /// Raw access for the crate's own modules and for tests that inspect the file.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

fn classify(e: rusqlite::Error, path: &Path) -> Error {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => Error::NotADatabase {
            path: path.to_path_buf(),
        },
        _ => Error::from(e),
    }
}

fn reclassify(e: Error, path: &Path) -> Error {
    match e {
        Error::Sqlite(inner) => classify(inner, path),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_store_is_at_current_version_with_pragmas() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("a.db"), StoreConfig::default()).unwrap();
        let c = store.connection();
        let v: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        let mode: String = c
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = c
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        let sync: i64 = c.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
        assert_eq!(sync, 1, "NORMAL");
        let temp: i64 = c.query_row("PRAGMA temp_store", [], |r| r.get(0)).unwrap();
        assert_eq!(temp, 2, "MEMORY");
        let limit: i64 = c
            .query_row("PRAGMA journal_size_limit", [], |r| r.get(0))
            .unwrap();
        assert_eq!(limit, 4 * 1024 * 1024);
        assert!(store.quick_check().unwrap().is_empty());
        store.close().unwrap();
    }

    #[test]
    fn reopening_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        Store::open(&path, StoreConfig::default())
            .unwrap()
            .close()
            .unwrap();
        let store = Store::open(&path, StoreConfig::default()).unwrap();
        let v: i64 = store
            .connection()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
    }

    #[test]
    fn step_7_keeps_how_existing_patrols_were_made() {
        // A store as version 6 left it: one patrol recorded, one imported, one synced.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        {
            let mut c = Connection::open(&path).unwrap();
            for version in 1..=6 {
                let tx = c.transaction().unwrap();
                schema::upgrade_to(&tx, version).unwrap();
                tx.commit().unwrap();
            }
            c.pragma_update(None, "user_version", 6).unwrap();
            for (id, source) in [("a", "recorded"), ("b", "imported"), ("c", "synced")] {
                c.execute(
                    "INSERT INTO patrol (id, user_id, device_id, state, source, started_at_ms)
                     VALUES (?1, 'u', ?1, 'stopped', ?2, 0)",
                    [id, source],
                )
                .unwrap();
            }
        }
        let store = Store::open(&path, StoreConfig::default()).unwrap();
        let origins: Vec<(String, Option<String>)> = store
            .connection()
            .prepare("SELECT id, origin FROM patrol ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(
            origins,
            vec![
                ("a".into(), some("recorded")),
                ("b".into(), some("imported")),
                ("c".into(), None),
            ]
        );
    }

    #[test]
    fn step_9_drops_kept_coverages_older_than_their_fixes() {
        // A store as version 8 left it: two stopped patrols with a kept coverage each, one of
        // them computed before a sync brought two more fixes.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        {
            let mut c = Connection::open(&path).unwrap();
            for version in 1..=8 {
                let tx = c.transaction().unwrap();
                schema::upgrade_to(&tx, version).unwrap();
                tx.commit().unwrap();
            }
            c.pragma_update(None, "user_version", 8).unwrap();
            for (row, fixes, kept_for) in [(1, 3, 3), (2, 5, 3)] {
                c.execute(
                    "INSERT INTO patrol (row_id, id, user_id, device_id, state, source, started_at_ms)
                     VALUES (?1, ?1, 'u', 'd', 'stopped', 'synced', 0)",
                    [row],
                )
                .unwrap();
                for seq in 0..fixes {
                    c.execute(
                        "INSERT INTO fix (patrol_row, seq, segment, lat, lon, verdict)
                         VALUES (?1, ?2, 0, 39.9, 116.4, 'kept')",
                        [row, seq],
                    )
                    .unwrap();
                }
                c.execute(
                    "INSERT INTO patrol_coverage_cache
                       (patrol_row, network_version, config_hash, fix_count, computed_at_ms, data)
                     VALUES (?1, 1, 'h', ?2, 0, x'00')",
                    [row, kept_for],
                )
                .unwrap();
            }
        }
        let store = Store::open(&path, StoreConfig::default()).unwrap();
        let kept: Vec<i64> = store
            .connection()
            .prepare("SELECT patrol_row FROM patrol_coverage_cache")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(kept, vec![1], "the one kept for fewer fixes went");
    }

    #[test]
    fn a_newer_schema_is_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        Store::open(&path, StoreConfig::default())
            .unwrap()
            .close()
            .unwrap();
        {
            let c = Connection::open(&path).unwrap();
            c.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
                .unwrap();
        }
        let before = std::fs::read(&path).unwrap();
        match Store::open(&path, StoreConfig::default()) {
            Err(Error::DatabaseTooNew {
                found, supported, ..
            }) => {
                assert_eq!(found, SCHEMA_VERSION + 1);
                assert_eq!(supported, SCHEMA_VERSION);
            }
            other => panic!("expected DatabaseTooNew, got {other:?}"),
        }
        assert_eq!(before, std::fs::read(&path).unwrap());
    }

    #[test]
    fn a_file_that_is_not_sqlite_is_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.db");
        let junk = b"these are my notes, not a database. ".repeat(200);
        std::fs::write(&path, &junk).unwrap();
        let err = Store::open(&path, StoreConfig::default()).unwrap_err();
        assert!(matches!(err, Error::NotADatabase { .. }), "{err:?}");
        assert!(err.to_string().contains("not a StreetPatrol database"));
        assert_eq!(std::fs::read(&path).unwrap(), junk);
    }

    #[test]
    fn interrupt_aborts_a_long_query() {
        let store = Store::open_in_memory(StoreConfig::default()).unwrap();
        let handle = store.interrupt_handle();
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            handle.interrupt();
        });
        let r: rusqlite::Result<i64> = store.connection().query_row(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c",
            [],
            |r| r.get(0),
        );
        t.join().unwrap();
        assert!(matches!(Error::from(r.unwrap_err()), Error::Interrupted));
    }
}
