//! The embedded SQLite backend: one file in the data folder, one writer connection (writes are
//! serialised, as SQLite does anyway) and a small pool of readers working on WAL snapshots.

use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use patrol_model::domain::StoredFix;
use patrol_model::wire::{LedgerRecord, PatrolRecord, UserRecord};
use patrol_model::{DeviceId, Role, UserId};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::sqlite_office as office;
use super::{
    ApplicationStatus, AuditRow, BlobRow, DeviceDoc, DeviceRow, DeviceSummary, DocRow, FeedRow,
    FeedScope, IssueCounts, IssueIndexRow, IssueQuery, OfficeLoginRow, OfficeSessionRow,
    PointsLedgerRow, PointsStatus, PublicReportRow, QuarantineRow, SessionSummary,
    StewardApplicationRow, Storage, StorageError, StorageResult, Tx, schema,
};

const READERS: usize = 4;

#[derive(Debug)]
pub struct SqliteStorage {
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    path: std::path::PathBuf,
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "temp_store", 2)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

impl SqliteStorage {
    /// Opens (creating and migrating) `server.db` in `dir`.
    pub fn open(dir: &Path) -> StorageResult<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("server.db");
        let writer = Connection::open(&path)?;
        let _: String = writer.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        configure(&writer)?;
        let found: i64 = writer.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if found > schema::SCHEMA_VERSION {
            return Err(StorageError::TooNew {
                path: path.display().to_string(),
                found,
                supported: schema::SCHEMA_VERSION,
            });
        }
        for v in (found + 1)..=schema::SCHEMA_VERSION {
            writer.execute_batch("BEGIN IMMEDIATE")?;
            let step = writer
                .execute_batch(schema::step(v))
                .and_then(|_| writer.pragma_update(None, "user_version", v));
            match step {
                Ok(()) => writer.execute_batch("COMMIT")?,
                Err(e) => {
                    let _ = writer.execute_batch("ROLLBACK");
                    return Err(e.into());
                }
            }
        }
        Ok(Self {
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            path,
        })
    }

    fn reader(&self) -> StorageResult<Connection> {
        if let Some(c) = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            return Ok(c);
        }
        let c = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&c)?;
        Ok(c)
    }
}

enum Handle<'a> {
    Writer(MutexGuard<'a, Connection>),
    Reader(Option<Connection>, &'a Mutex<Vec<Connection>>),
}

impl Deref for Handle<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        match self {
            Handle::Writer(g) => g,
            Handle::Reader(c, _) => c.as_ref().expect("reader present until drop"),
        }
    }
}

impl DerefMut for Handle<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        match self {
            Handle::Writer(g) => g,
            Handle::Reader(c, _) => c.as_mut().expect("reader present until drop"),
        }
    }
}

impl Drop for Handle<'_> {
    fn drop(&mut self) {
        if let Handle::Reader(c, pool) = self
            && let Some(c) = c.take()
        {
            let mut pool = pool.lock().unwrap_or_else(|e| e.into_inner());
            if pool.len() < READERS {
                pool.push(c);
            }
        }
    }
}

pub struct SqliteTx<'a> {
    conn: Handle<'a>,
    open: bool,
}

impl std::fmt::Debug for SqliteTx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteTx").finish_non_exhaustive()
    }
}

impl Drop for SqliteTx<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

impl Storage for SqliteStorage {
    fn write(&self) -> StorageResult<Box<dyn Tx + '_>> {
        let guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        guard.execute_batch("BEGIN IMMEDIATE")?;
        Ok(Box::new(SqliteTx {
            conn: Handle::Writer(guard),
            open: true,
        }))
    }

    fn read(&self) -> StorageResult<Box<dyn Tx + '_>> {
        let conn = self.reader()?;
        conn.execute_batch("BEGIN")?;
        Ok(Box::new(SqliteTx {
            conn: Handle::Reader(Some(conn), &self.readers),
            open: true,
        }))
    }
}

fn feed_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FeedRow> {
    Ok(FeedRow {
        seq: r.get::<_, i64>(0)? as u64,
        kind: r.get(1)?,
        item_id: r.get(2)?,
        scope: FeedScope {
            street_id: r.get(3)?,
            subdistrict_id: r.get(4)?,
            owner_id: r.get(5)?,
            audience: r
                .get::<_, String>(6)?
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
        },
    })
}

fn quarantine_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<QuarantineRow> {
    Ok(QuarantineRow {
        kind: r.get(0)?,
        item_id: r.get(1)?,
        reason: r.get(2)?,
        at_ms: r.get(3)?,
        scope: FeedScope {
            street_id: r.get(4)?,
            subdistrict_id: r.get(5)?,
            owner_id: r.get(6)?,
            audience: r
                .get::<_, String>(7)?
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
        },
    })
}

const SELECT_POINTS: &str =
    "SELECT entry_id, user_id, kind, source_id, day, points, status, at_ms FROM points_ledger";

fn points_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PointsLedgerRow> {
    let bad = |i: usize, what: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("points_ledger: {what}").into(),
        )
    };
    Ok(PointsLedgerRow {
        entry_id: r.get(0)?,
        user_id: r
            .get::<_, String>(1)?
            .parse()
            .map_err(|_| bad(1, "user id"))?,
        kind: r.get(2)?,
        source_id: r.get(3)?,
        day: r.get(4)?,
        points: r.get(5)?,
        status: PointsStatus::parse(&r.get::<_, String>(6)?).ok_or_else(|| bad(6, "status"))?,
        at_ms: r.get(7)?,
    })
}

const PUBLIC_REPORT_COLUMNS: &str =
    "token_hash, issue_id, signboard_id, street_id, contact_phone, created_at_ms";

fn public_report_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PublicReportRow> {
    Ok(PublicReportRow {
        token_hash: r.get(0)?,
        issue_id: r.get(1)?,
        signboard_id: r.get(2)?,
        street_id: r.get(3)?,
        contact_phone: r.get(4)?,
        created_at_ms: r.get(5)?,
    })
}

const APPLICATION_COLUMNS: &str = "id, token_hash, name, phone, street_id, signboard_id, \
     availability, status, reason, user_id, enrol_code, created_at_ms, decided_at_ms";

fn application_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(StewardApplicationRow, String)> {
    let status: String = r.get(7)?;
    let user: Option<String> = r.get(9)?;
    Ok((
        StewardApplicationRow {
            id: r.get(0)?,
            token_hash: r.get(1)?,
            name: r.get(2)?,
            phone: r.get(3)?,
            street_id: r.get(4)?,
            signboard_id: r.get(5)?,
            availability: r.get(6)?,
            status: ApplicationStatus::Pending,
            reason: r.get(8)?,
            user_id: None,
            enrol_code: r.get(10)?,
            created_at_ms: r.get(11)?,
            decided_at_ms: r.get(12)?,
        },
        format!("{status} {}", user.unwrap_or_default()),
    ))
}

/// An application row with its status and user read (kept apart so a damaged value is said).
fn application_from(
    (mut row, rest): (StewardApplicationRow, String),
) -> StorageResult<StewardApplicationRow> {
    let (status, user) = rest.split_once(' ').unwrap_or((rest.as_str(), ""));
    row.status = ApplicationStatus::parse(status)
        .ok_or_else(|| corrupt(format!("application {}: status {status:?}", row.id)))?;
    row.user_id = if user.is_empty() {
        None
    } else {
        Some(
            user.parse()
                .map_err(|_| corrupt(format!("application {}: user {user:?}", row.id)))?,
        )
    };
    Ok(row)
}

/// Seconds a patrol lasted, as reports count them: its summary's duration, else stop minus start.
fn patrol_duration_s(p: &PatrolRecord) -> f64 {
    p.summary
        .as_ref()
        .and_then(|s| s["duration_s"].as_f64())
        .or_else(|| {
            p.stopped_at_ms
                .map(|stop| stop.saturating_sub(p.started_at_ms) as f64 / 1000.0)
        })
        .unwrap_or(0.0)
        .max(0.0)
}

fn join(heads: &[String]) -> String {
    heads.join(" ")
}

fn split(s: Option<String>) -> Option<Vec<String>> {
    s.map(|s| s.split_whitespace().map(str::to_owned).collect())
}

fn corrupt(what: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(what.to_string())
}

fn user_from(id: String, name: String, role: String, scope: String) -> StorageResult<UserRecord> {
    Ok(UserRecord {
        id: id.parse().map_err(corrupt)?,
        name,
        role: role.parse().map_err(corrupt)?,
        scope: scope.parse().map_err(corrupt)?,
    })
}

impl Tx for SqliteTx<'_> {
    fn commit(mut self: Box<Self>) -> StorageResult<()> {
        self.conn.execute_batch("COMMIT")?;
        self.open = false;
        Ok(())
    }

    fn set_district(&mut self, id: &str, name: &str, code: Option<&str>) -> StorageResult<()> {
        self.conn.execute(
            "INSERT INTO district (singleton, id, name, code) VALUES (1, ?1, ?2, ?3)
             ON CONFLICT (singleton) DO UPDATE SET name = excluded.name, code = excluded.code",
            params![id, name, code],
        )?;
        Ok(())
    }

    fn district(&mut self) -> StorageResult<Option<(String, String)>> {
        Ok(self
            .conn
            .query_row("SELECT id, name FROM district", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?)
    }

    fn add_subdistrict(&mut self, id: &str, name: &str, code: Option<&str>) -> StorageResult<()> {
        self.conn.execute(
            "INSERT INTO subdistrict (id, name, code) VALUES (?1, ?2, ?3)",
            params![id, name, code],
        )?;
        Ok(())
    }

    fn subdistricts(&mut self) -> StorageResult<Vec<(String, String, Option<String>)>> {
        let mut s = self
            .conn
            .prepare_cached("SELECT id, name, code FROM subdistrict ORDER BY name")?;
        let rows = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn add_user(&mut self, u: &UserRecord, now_ms: i64) -> StorageResult<()> {
        self.conn.execute(
            "INSERT INTO user (id, name, role, scope, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                u.id.to_string(),
                u.name,
                u.role.as_str(),
                u.scope.to_string(),
                now_ms
            ],
        )?;
        Ok(())
    }

    fn user(&mut self, id: &UserId) -> StorageResult<Option<UserRecord>> {
        let row = self
            .conn
            .prepare_cached("SELECT id, name, role, scope FROM user WHERE id = ?1")?
            .query_row([id.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        row.map(|(a, b, c, d)| user_from(a, b, c, d)).transpose()
    }

    fn users(&mut self) -> StorageResult<Vec<UserRecord>> {
        let mut s = self
            .conn
            .prepare_cached("SELECT id, name, role, scope FROM user ORDER BY created_at_ms")?;
        let rows: Vec<(String, String, String, String)> = s
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .map(|(a, b, c, d)| user_from(a, b, c, d))
            .collect()
    }

    fn add_enrol_code(
        &mut self,
        code_hash: &str,
        user: &UserId,
        now_ms: i64,
        expires_ms: i64,
    ) -> StorageResult<()> {
        self.conn.execute(
            "INSERT INTO enrol_code (code_hash, user_id, created_at_ms, expires_at_ms) VALUES (?1, ?2, ?3, ?4)",
            params![code_hash, user.to_string(), now_ms, expires_ms],
        )?;
        Ok(())
    }

    fn use_enrol_code(
        &mut self,
        code_hash: &str,
        device: &DeviceId,
        now_ms: i64,
    ) -> StorageResult<Option<UserId>> {
        let user: Option<String> = self
            .conn
            .query_row(
                "UPDATE enrol_code SET used_at_ms = ?2, used_by = ?3
                  WHERE code_hash = ?1 AND used_at_ms IS NULL AND expires_at_ms > ?2
              RETURNING user_id",
                params![code_hash, now_ms, device.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        user.map(|u| u.parse().map_err(corrupt)).transpose()
    }

    fn enrol_code_expired_at(
        &mut self,
        code_hash: &str,
        now_ms: i64,
    ) -> StorageResult<Option<i64>> {
        Ok(self
            .conn
            .query_row(
                "SELECT expires_at_ms FROM enrol_code
                  WHERE code_hash = ?1 AND used_at_ms IS NULL AND expires_at_ms <= ?2",
                params![code_hash, now_ms],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn add_device(
        &mut self,
        device: &DeviceId,
        user: &UserId,
        actor_id: &str,
        token_hash: &str,
        name: Option<&str>,
        now_ms: i64,
    ) -> StorageResult<()> {
        self.conn.execute(
            "INSERT INTO device (id, user_id, actor_id, token_hash, name, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![device.to_string(), user.to_string(), actor_id, token_hash, name, now_ms],
        )?;
        Ok(())
    }

    fn device_by_token(&mut self, token_hash: &str) -> StorageResult<Option<DeviceRow>> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT d.id, d.actor_id, d.revoked_at_ms IS NOT NULL, u.id, u.name, u.role, u.scope
                   FROM device d JOIN user u ON u.id = d.user_id WHERE d.token_hash = ?1",
            )?
            .query_row([token_hash], |r| {
                Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
            })
            .optional()?;
        let Some((id, actor_id, revoked, uid, name, role, scope)) = row else {
            return Ok(None);
        };
        Ok(Some(DeviceRow {
            id: id.parse().map_err(corrupt)?,
            user: user_from(uid, name, role, scope)?,
            actor_id,
            revoked,
        }))
    }

    fn touch_device(&mut self, device: &DeviceId, now_ms: i64) -> StorageResult<()> {
        self.conn
            .prepare_cached("UPDATE device SET last_seen_ms = ?2 WHERE id = ?1")?
            .execute(params![device.to_string(), now_ms])?;
        Ok(())
    }

    fn revoke_devices(
        &mut self,
        device: Option<&DeviceId>,
        user: Option<&UserId>,
        now_ms: i64,
    ) -> StorageResult<usize> {
        Ok(self.conn.execute(
            "UPDATE device SET revoked_at_ms = ?3
              WHERE revoked_at_ms IS NULL AND (id = ?1 OR user_id = ?2)",
            params![
                device.map(|d| d.to_string()),
                user.map(|u| u.to_string()),
                now_ms
            ],
        )?)
    }

    fn district_secret_key(&mut self) -> StorageResult<Option<[u8; 32]>> {
        let secret: Option<Vec<u8>> = self
            .conn
            .prepare_cached(
                "SELECT secret_key FROM district_key ORDER BY created_at_ms DESC LIMIT 1",
            )?
            .query_row([], |r| r.get(0))
            .optional()?;
        Ok(secret.and_then(|s| s.try_into().ok()))
    }

    fn put_district_key(
        &mut self,
        public_key: &[u8; 32],
        secret_key: &[u8; 32],
        now_ms: i64,
    ) -> StorageResult<()> {
        self.conn.execute(
            "INSERT OR IGNORE INTO district_key (public_key, secret_key, created_at_ms) VALUES (?1, ?2, ?3)",
            params![public_key.to_vec(), secret_key.to_vec(), now_ms],
        )?;
        Ok(())
    }

    fn put_street(
        &mut self,
        id: &str,
        name: &str,
        subdistrict_id: Option<&str>,
    ) -> StorageResult<()> {
        self.conn.execute(
            "INSERT INTO street (id, name, subdistrict_id) VALUES (?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, subdistrict_id = excluded.subdistrict_id",
            params![id, name, subdistrict_id],
        )?;
        Ok(())
    }

    fn street_subdistrict(&mut self, street_id: &str) -> StorageResult<Option<Option<String>>> {
        Ok(self
            .conn
            .prepare_cached("SELECT subdistrict_id FROM street WHERE id = ?1")?
            .query_row([street_id], |r| r.get(0))
            .optional()?)
    }

    fn streets_named(&mut self, name: &str) -> StorageResult<Vec<String>> {
        let mut s = self
            .conn
            .prepare_cached("SELECT id FROM street WHERE name = ?1 OR id = ?1")?;
        Ok(s.query_map([name], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?)
    }

    fn street_names(
        &mut self,
        subdistrict_id: Option<&str>,
        limit: usize,
    ) -> StorageResult<Vec<(String, String)>> {
        let mut s = self.conn.prepare_cached(
            "SELECT id, name FROM street WHERE subdistrict_id IS ?1 ORDER BY name, id LIMIT ?2",
        )?;
        Ok(s.query_map(params![subdistrict_id, limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?)
    }

    fn put_reference(
        &mut self,
        tbl: &str,
        id: &str,
        street_id: Option<&str>,
        body: &serde_json::Value,
        deleted: bool,
    ) -> StorageResult<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO reference (tbl, id, street_id, body, deleted) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (tbl, id) DO UPDATE SET street_id = excluded.street_id, body = excluded.body, deleted = excluded.deleted",
            )?
            .execute(params![tbl, id, street_id, body.to_string(), deleted])?;
        Ok(())
    }

    fn reference(
        &mut self,
        tbl: &str,
        id: &str,
    ) -> StorageResult<Option<(serde_json::Value, bool)>> {
        let row: Option<(String, bool)> = self
            .conn
            .prepare_cached("SELECT body, deleted FROM reference WHERE tbl = ?1 AND id = ?2")?
            .query_row(params![tbl, id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(b, d)| Ok((serde_json::from_str(&b).map_err(corrupt)?, d)))
            .transpose()
    }

    fn references(&mut self, tbl: &str) -> StorageResult<Vec<(String, serde_json::Value)>> {
        let mut s = self.conn.prepare_cached(
            "SELECT id, body FROM reference WHERE tbl = ?1 AND deleted = 0 ORDER BY id",
        )?;
        let rows = s
            .query_map([tbl], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(id, b)| Ok((id, serde_json::from_str(&b).map_err(corrupt)?)))
            .collect()
    }

    fn set_assignment(
        &mut self,
        street_id: &str,
        user: &UserId,
        role: Role,
        assigned: bool,
    ) -> StorageResult<()> {
        let sql = if assigned {
            "INSERT OR IGNORE INTO assignment (street_id, user_id, role) VALUES (?1, ?2, ?3)"
        } else {
            "DELETE FROM assignment WHERE street_id = ?1 AND user_id = ?2 AND role = ?3"
        };
        self.conn
            .execute(sql, params![street_id, user.to_string(), role.as_str()])?;
        Ok(())
    }

    fn streets_of_user(&mut self, user: &UserId) -> StorageResult<Vec<String>> {
        let mut s = self
            .conn
            .prepare_cached("SELECT DISTINCT street_id FROM assignment WHERE user_id = ?1")?;
        Ok(s.query_map([user.to_string()], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?)
    }

    fn feed_items_of_street(&mut self, street_id: &str) -> StorageResult<Vec<(String, String)>> {
        let mut s = self
            .conn
            .prepare_cached("SELECT kind, item_id FROM feed WHERE street_id = ?1 ORDER BY seq")?;
        Ok(s.query_map([street_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?)
    }

    fn feed_touch(&mut self, kind: &str, item_id: &str, scope: &FeedScope) -> StorageResult<u64> {
        // REPLACE deletes the old row and inserts a new one: the item moves to a fresh seq.
        let seq: i64 = self
            .conn
            .prepare_cached(
                "INSERT OR REPLACE INTO feed (kind, item_id, street_id, subdistrict_id, owner_id, audience)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING seq",
            )?
            .query_row(
                params![kind, item_id, scope.street_id, scope.subdistrict_id, scope.owner_id, scope.audience.join(" ")],
                |r| r.get(0),
            )?;
        Ok(seq as u64)
    }

    fn feed_after(&mut self, cursor: u64, limit: usize) -> StorageResult<Vec<FeedRow>> {
        let mut s = self.conn.prepare_cached(
            "SELECT seq, kind, item_id, street_id, subdistrict_id, owner_id, audience FROM feed
              WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = s.query_map(params![cursor as i64, limit as i64], feed_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn feed_row(&mut self, kind: &str, item_id: &str) -> StorageResult<Option<FeedRow>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT seq, kind, item_id, street_id, subdistrict_id, owner_id, audience FROM feed
                  WHERE kind = ?1 AND item_id = ?2",
            )?
            .query_row(params![kind, item_id], feed_row)
            .optional()?)
    }

    fn feed_head(&mut self) -> StorageResult<u64> {
        let seq: i64 = self
            .conn
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM feed", [], |r| r.get(0))?;
        Ok(seq as u64)
    }

    fn doc(&mut self, id: &str) -> StorageResult<Option<DocRow>> {
        let row: Option<(String, Vec<u8>, String, String)> = self
            .conn
            .prepare_cached("SELECT kind, data, heads, blobs FROM doc WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        Ok(row.map(|(kind, data, heads, blobs)| DocRow {
            kind,
            data,
            heads: split(Some(heads)).unwrap_or_default(),
            blobs: split(Some(blobs)).unwrap_or_default(),
        }))
    }

    fn doc_heads(&mut self, id: &str) -> StorageResult<Option<Vec<String>>> {
        let heads: Option<String> = self
            .conn
            .prepare_cached("SELECT heads FROM doc WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        Ok(heads.map(|h| split(Some(h)).unwrap_or_default()))
    }

    fn docs_of_kind(&mut self, kind: &str) -> StorageResult<Vec<(String, DocRow)>> {
        let rows = self
            .conn
            .prepare_cached(
                "SELECT id, kind, data, heads, blobs FROM doc WHERE kind = ?1 ORDER BY id",
            )?
            .query_map([kind], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows
            .into_iter()
            .map(|(id, kind, data, heads, blobs)| {
                let row = DocRow {
                    kind,
                    data,
                    heads: split(Some(heads)).unwrap_or_default(),
                    blobs: split(Some(blobs)).unwrap_or_default(),
                };
                (id, row)
            })
            .collect())
    }

    fn put_doc(
        &mut self,
        id: &str,
        kind: &str,
        data: &[u8],
        heads: &[String],
        blobs: &[String],
        now_ms: i64,
    ) -> StorageResult<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO doc (id, kind, data, heads, blobs, updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (id) DO UPDATE SET data = excluded.data, heads = excluded.heads, blobs = excluded.blobs,
                     updated_at_ms = excluded.updated_at_ms",
            )?
            .execute(params![id, kind, data, join(heads), join(blobs), now_ms])?;
        let feed_kind = format!("doc:{kind}");
        self.conn
            .prepare_cached("DELETE FROM blob_ref WHERE kind = ?1 AND item_id = ?2")?
            .execute(params![feed_kind, id])?;
        let mut add = self.conn.prepare_cached(
            "INSERT OR IGNORE INTO blob_ref (hash, kind, item_id) VALUES (?1, ?2, ?3)",
        )?;
        for hash in blobs {
            add.execute(params![hash, feed_kind, id])?;
        }
        Ok(())
    }

    fn device_doc(&mut self, device: &DeviceId, doc: &str) -> StorageResult<DeviceDoc> {
        let row = self
            .conn
            .prepare_cached("SELECT confirmed_heads, pending_heads, pending_seq FROM device_doc WHERE device_id = ?1 AND doc_id = ?2")?
            .query_row(params![device.to_string(), doc], |r| {
                Ok(DeviceDoc {
                    confirmed_heads: split(r.get(0)?),
                    pending_heads: split(r.get(1)?),
                    pending_seq: r.get::<_, Option<i64>>(2)?.map(|s| s as u64),
                })
            })
            .optional()?;
        Ok(row.unwrap_or_default())
    }

    fn set_device_doc(
        &mut self,
        device: &DeviceId,
        doc: &str,
        st: &DeviceDoc,
    ) -> StorageResult<()> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO device_doc (device_id, doc_id, confirmed_heads, pending_heads, pending_seq)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                device.to_string(),
                doc,
                st.confirmed_heads.as_deref().map(join),
                st.pending_heads.as_deref().map(join),
                st.pending_seq.map(|s| s as i64)
            ])?;
        Ok(())
    }

    fn confirm_device_docs(&mut self, device: &DeviceId, cursor: u64) -> StorageResult<usize> {
        Ok(self
            .conn
            .prepare_cached(
                "UPDATE device_doc SET confirmed_heads = pending_heads, pending_heads = NULL, pending_seq = NULL
                  WHERE device_id = ?1 AND pending_seq IS NOT NULL AND pending_seq <= ?2",
            )?
            .execute(params![device.to_string(), cursor as i64])?)
    }

    fn put_patrol(&mut self, p: &PatrolRecord, now_ms: i64) -> StorageResult<()> {
        let body = serde_json::to_string(p).map_err(corrupt)?;
        self.conn
            .prepare_cached(
                "INSERT INTO patrol (id, user_id, device_id, body, updated_at_ms, started_at_ms, duration_s)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (id) DO UPDATE SET body = excluded.body, updated_at_ms = excluded.updated_at_ms,
                     started_at_ms = excluded.started_at_ms, duration_s = excluded.duration_s",
            )?
            .execute(params![
                p.id.to_string(),
                p.user_id.to_string(),
                p.device_id.to_string(),
                body,
                now_ms,
                p.started_at_ms,
                patrol_duration_s(p)
            ])?;
        Ok(())
    }

    fn devices_of_user(&mut self, user: &UserId) -> StorageResult<Vec<DeviceSummary>> {
        type Raw = (String, Option<String>, i64, Option<i64>, Option<i64>);
        let rows: Vec<Raw> = self
            .conn
            .prepare_cached(
                "SELECT id, name, created_at_ms, last_seen_ms, revoked_at_ms FROM device
                  WHERE user_id = ?1 ORDER BY created_at_ms, id",
            )?
            .query_map([user.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .map(|(id, name, created_at_ms, last_seen_ms, revoked_at_ms)| {
                Ok(DeviceSummary {
                    id: id.parse().map_err(corrupt)?,
                    name,
                    created_at_ms,
                    last_seen_ms,
                    revoked_at_ms,
                })
            })
            .collect()
    }

    fn patrols_of_user(&mut self, user: &UserId) -> StorageResult<Vec<PatrolRecord>> {
        let bodies: Vec<String> = self
            .conn
            .prepare_cached(
                "SELECT body FROM patrol WHERE user_id = ?1 ORDER BY started_at_ms, id",
            )?
            .query_map([user.to_string()], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        bodies
            .iter()
            .map(|b| serde_json::from_str(b).map_err(corrupt))
            .collect()
    }

    fn records_of_user(&mut self, user: &UserId) -> StorageResult<Vec<LedgerRecord>> {
        let rows: Vec<(String, String, String)> = self
            .conn
            .prepare_cached(
                "SELECT kind, id, body FROM record WHERE user_id = ?1 ORDER BY kind, id",
            )?
            .query_map([user.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .map(|(kind, id, body)| {
                Ok(LedgerRecord {
                    kind,
                    id,
                    user_id: *user,
                    body: serde_json::from_str(&body).map_err(corrupt)?,
                })
            })
            .collect()
    }

    fn office_sessions_of(&mut self, user: &UserId) -> StorageResult<Vec<SessionSummary>> {
        office::office_sessions_of(&self.conn, user)
    }

    fn patrol(&mut self, id: &str) -> StorageResult<Option<PatrolRecord>> {
        let body: Option<String> = self
            .conn
            .prepare_cached("SELECT body FROM patrol WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        body.map(|b| serde_json::from_str(&b).map_err(corrupt))
            .transpose()
    }

    fn patrols_started_between(
        &mut self,
        from_ms: i64,
        to_ms: i64,
    ) -> StorageResult<Vec<PatrolRecord>> {
        let bodies = self
            .conn
            .prepare_cached(
                "SELECT body FROM patrol
                  WHERE started_at_ms >= ?1 AND started_at_ms < ?2
                  ORDER BY started_at_ms, row_id",
            )?
            .query_map([from_ms, to_ms], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        bodies
            .iter()
            .map(|b| serde_json::from_str(b).map_err(corrupt))
            .collect()
    }

    fn set_patrol_fix_claim(&mut self, id: &str, claim: Option<i64>) -> StorageResult<()> {
        self.conn
            .prepare_cached("UPDATE patrol SET fix_claim = ?2 WHERE id = ?1")?
            .execute(params![id, claim])?;
        Ok(())
    }

    fn patrol_fix_claim(&mut self, id: &str) -> StorageResult<Option<i64>> {
        Ok(self
            .conn
            .prepare_cached("SELECT fix_claim FROM patrol WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?
            .flatten())
    }

    fn insert_fixes(&mut self, patrol: &str, fixes: &[StoredFix]) -> StorageResult<i64> {
        let row: i64 = self
            .conn
            .prepare_cached("SELECT row_id FROM patrol WHERE id = ?1")?
            .query_row([patrol], |r| r.get(0))?;
        let mut stmt = self
            .conn
            .prepare_cached(patrol_core::patrol::INSERT_STORED_FIX)?;
        for f in fixes {
            patrol_core::patrol::insert_stored_fix(&mut stmt, row, f)?;
        }
        drop(stmt);
        self.fix_mark(patrol)
    }

    fn fix_mark(&mut self, patrol: &str) -> StorageResult<i64> {
        // The contiguous high-water mark: the first missing seq. Batches arrive in order, so
        // the common case is MAX + 1 == COUNT.
        let (count, max): (i64, Option<i64>) = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*), MAX(seq) FROM fix WHERE patrol_row = (SELECT row_id FROM patrol WHERE id = ?1)",
            )?
            .query_row([patrol], |r| Ok((r.get(0)?, r.get(1)?)))?;
        match max {
            None => Ok(0),
            Some(m) if m + 1 == count => Ok(count),
            Some(_) => {
                let first_gap: i64 = self.conn.query_row(
                    "SELECT COALESCE(MIN(f.seq + 1), 0) FROM fix f
                      WHERE f.patrol_row = (SELECT row_id FROM patrol WHERE id = ?1)
                        AND NOT EXISTS (SELECT 1 FROM fix g WHERE g.patrol_row = f.patrol_row AND g.seq = f.seq + 1)",
                    [patrol],
                    |r| r.get(0),
                )?;
                let has_zero: bool = self.conn.query_row(
                    "SELECT EXISTS (SELECT 1 FROM fix WHERE patrol_row = (SELECT row_id FROM patrol WHERE id = ?1) AND seq = 0)",
                    [patrol],
                    |r| r.get(0),
                )?;
                Ok(if has_zero { first_gap } else { 0 })
            }
        }
    }

    fn fixes(
        &mut self,
        patrol: &str,
        from_seq: i64,
        limit: usize,
    ) -> StorageResult<Vec<StoredFix>> {
        let mut s = self.conn.prepare_cached(&format!(
            "SELECT {} FROM fix WHERE patrol_row = (SELECT row_id FROM patrol WHERE id = ?1) AND seq >= ?2 ORDER BY seq LIMIT ?3",
            patrol_core::patrol::STORED_FIX_COLUMNS
        ))?;
        let rows = s.query_map(
            params![patrol, from_seq, limit as i64],
            patrol_core::patrol::read_stored_fix,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn put_record(&mut self, rec: &LedgerRecord) -> StorageResult<bool> {
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO record (kind, id, user_id, body) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                rec.kind,
                rec.id,
                rec.user_id.to_string(),
                rec.body.to_string()
            ])?
            == 1;
        if inserted && rec.kind == "pickup" {
            self.conn
                .prepare_cached(
                    "INSERT OR IGNORE INTO pickup (id, user_id, at_ms, bags, street_id)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![
                    rec.id,
                    rec.user_id.to_string(),
                    rec.body.get("at_ms").and_then(|v| v.as_i64()).unwrap_or(0),
                    rec.body.get("bags").and_then(|v| v.as_i64()).unwrap_or(0),
                    rec.body.get("street_id").and_then(|v| v.as_str())
                ])?;
        }
        let photo = rec.body.get("photo_sha256").and_then(|v| v.as_str());
        if inserted
            && rec.kind == "pickup"
            && let Some(hash) = photo
        {
            self.conn
                .prepare_cached(
                    "INSERT OR IGNORE INTO blob_ref (hash, kind, item_id) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![hash, format!("record:{}", rec.kind), rec.id])?;
        }
        Ok(inserted)
    }

    fn records_of_kind(&mut self, kind: &str) -> StorageResult<Vec<LedgerRecord>> {
        let rows: Vec<(String, String, String)> = self
            .conn
            .prepare_cached(
                "SELECT r.id, r.user_id, r.body FROM record r
                 WHERE r.kind = ?1
                   AND NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.kind = 'record:' || ?1 AND q.item_id = r.id)
                 ORDER BY r.id",
            )?
            .query_map([kind], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .map(|(id, u, b)| {
                Ok(LedgerRecord {
                    kind: kind.to_owned(),
                    id,
                    user_id: u.parse().map_err(corrupt)?,
                    body: serde_json::from_str(&b).map_err(corrupt)?,
                })
            })
            .collect()
    }

    fn record(&mut self, kind: &str, id: &str) -> StorageResult<Option<LedgerRecord>> {
        let row: Option<(String, String)> = self
            .conn
            .prepare_cached("SELECT user_id, body FROM record WHERE kind = ?1 AND id = ?2")?
            .query_row(params![kind, id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(u, b)| {
            Ok(LedgerRecord {
                kind: kind.to_owned(),
                id: id.to_owned(),
                user_id: u.parse().map_err(corrupt)?,
                body: serde_json::from_str(&b).map_err(corrupt)?,
            })
        })
        .transpose()
    }

    fn quarantine(&mut self, row: &QuarantineRow) -> StorageResult<()> {
        self.conn
            .prepare_cached("DELETE FROM feed WHERE kind = ?1 AND item_id = ?2")?
            .execute(params![row.kind, row.item_id])?;
        let s = &row.scope;
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO quarantine (kind, item_id, reason, at_ms, street_id, subdistrict_id, owner_id, audience)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                row.kind,
                row.item_id,
                row.reason,
                row.at_ms,
                s.street_id,
                s.subdistrict_id,
                s.owner_id,
                s.audience.join(" ")
            ])?;
        Ok(())
    }

    fn release(&mut self, kind: &str, item_id: &str) -> StorageResult<bool> {
        let Some(row) = self.quarantined(kind, item_id)? else {
            return Ok(false);
        };
        self.conn
            .prepare_cached("DELETE FROM quarantine WHERE kind = ?1 AND item_id = ?2")?
            .execute(params![kind, item_id])?;
        self.feed_touch(kind, item_id, &row.scope)?;
        Ok(true)
    }

    fn quarantined(&mut self, kind: &str, item_id: &str) -> StorageResult<Option<QuarantineRow>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT kind, item_id, reason, at_ms, street_id, subdistrict_id, owner_id, audience FROM quarantine
                  WHERE kind = ?1 AND item_id = ?2",
            )?
            .query_row(params![kind, item_id], quarantine_row)
            .optional()?)
    }

    fn quarantine_list(&mut self) -> StorageResult<Vec<QuarantineRow>> {
        let mut s = self.conn.prepare_cached(
            "SELECT kind, item_id, reason, at_ms, street_id, subdistrict_id, owner_id, audience FROM quarantine
              ORDER BY at_ms, kind, item_id",
        )?;
        let rows = s.query_map([], quarantine_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn put_points(&mut self, row: &PointsLedgerRow) -> StorageResult<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO points_ledger (entry_id, user_id, kind, source_id, day, points, status, at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                row.entry_id,
                row.user_id.to_string(),
                row.kind,
                row.source_id,
                row.day,
                row.points,
                row.status.as_str(),
                row.at_ms
            ])?;
        Ok(())
    }

    fn points_entry(&mut self, entry_id: &str) -> StorageResult<Option<PointsLedgerRow>> {
        Ok(self
            .conn
            .prepare_cached(&format!("{SELECT_POINTS} WHERE entry_id = ?1"))?
            .query_row([entry_id], points_row)
            .optional()?)
    }

    fn points_credited(
        &mut self,
        user: &UserId,
        kind: &str,
        source_id: &str,
    ) -> StorageResult<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM points_ledger WHERE user_id = ?1 AND kind = ?2 AND source_id = ?3
                                   AND status <> 'declined')",
            )?
            .query_row(params![user.to_string(), kind, source_id], |r| r.get(0))?)
    }

    fn points_sum(&mut self, user: &UserId, kind_day: Option<(&str, &str)>) -> StorageResult<i64> {
        let user = user.to_string();
        Ok(match kind_day {
            Some((kind, day)) => self
                .conn
                .prepare_cached(
                    "SELECT COALESCE(SUM(points), 0) FROM points_ledger
                      WHERE user_id = ?1 AND day = ?2 AND kind = ?3 AND status <> 'declined'",
                )?
                .query_row(params![user, day, kind], |r| r.get(0))?,
            None => self
                .conn
                .prepare_cached(
                    "SELECT COALESCE(SUM(points), 0) FROM points_ledger WHERE user_id = ?1 AND status <> 'declined'",
                )?
                .query_row(params![user], |r| r.get(0))?,
        })
    }

    fn points_pending(&mut self) -> StorageResult<Vec<PointsLedgerRow>> {
        let mut s = self.conn.prepare_cached(&format!(
            "{SELECT_POINTS} WHERE status = 'pending' ORDER BY at_ms, entry_id"
        ))?;
        let rows = s.query_map([], points_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn set_points_status(&mut self, entry_id: &str, status: PointsStatus) -> StorageResult<bool> {
        Ok(self
            .conn
            .prepare_cached("UPDATE points_ledger SET status = ?2 WHERE entry_id = ?1")?
            .execute(params![entry_id, status.as_str()])?
            > 0)
    }

    fn blob(&mut self, hash: &str) -> StorageResult<Option<BlobRow>> {
        self.conn
            .prepare_cached(
                "SELECT hash, size, received, complete, uploaded_by FROM blob WHERE hash = ?1",
            )?
            .query_row([hash], |r| {
                Ok((
                    BlobRow {
                        hash: r.get(0)?,
                        size: r.get::<_, i64>(1)? as u64,
                        received: r.get::<_, i64>(2)? as u64,
                        complete: r.get(3)?,
                        uploaded_by: None,
                    },
                    r.get::<_, Option<String>>(4)?,
                ))
            })
            .optional()?
            .map(|(row, by)| -> StorageResult<BlobRow> {
                Ok(BlobRow {
                    uploaded_by: by.map(|u| u.parse().map_err(corrupt)).transpose()?,
                    ..row
                })
            })
            .transpose()
    }

    fn put_blob(&mut self, b: &BlobRow, now_ms: i64) -> StorageResult<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO blob (hash, size, received, complete, created_at_ms, uploaded_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (hash) DO UPDATE SET received = excluded.received, complete = excluded.complete,
                     uploaded_by = excluded.uploaded_by",
            )?
            .execute(params![b.hash, b.size as i64, b.received as i64, b.complete, now_ms,
                b.uploaded_by.map(|u| u.to_string())])?;
        Ok(())
    }

    fn blob_refs(&mut self, hash: &str) -> StorageResult<Vec<(String, String)>> {
        let mut s = self.conn.prepare_cached(
            "SELECT kind, item_id FROM blob_ref WHERE hash = ?1 ORDER BY kind, item_id",
        )?;
        Ok(s.query_map([hash], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?)
    }

    fn blob_upload(&mut self, hash: &str, device: &DeviceId) -> StorageResult<Option<BlobRow>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT size, received FROM blob_upload WHERE hash = ?1 AND device_id = ?2",
            )?
            .query_row(params![hash, device.to_string()], |r| {
                Ok(BlobRow {
                    hash: hash.to_owned(),
                    size: r.get::<_, i64>(0)? as u64,
                    received: r.get::<_, i64>(1)? as u64,
                    complete: false,
                    uploaded_by: None,
                })
            })
            .optional()?)
    }

    fn put_blob_upload(
        &mut self,
        device: &DeviceId,
        u: &BlobRow,
        now_ms: i64,
    ) -> StorageResult<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO blob_upload (hash, device_id, size, received, started_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (hash, device_id) DO UPDATE SET size = excluded.size, received = excluded.received",
            )?
            .execute(params![u.hash, device.to_string(), u.size as i64, u.received as i64, now_ms])?;
        Ok(())
    }

    fn delete_blob_upload(&mut self, hash: &str, device: &DeviceId) -> StorageResult<()> {
        self.conn
            .prepare_cached("DELETE FROM blob_upload WHERE hash = ?1 AND device_id = ?2")?
            .execute(params![hash, device.to_string()])?;
        Ok(())
    }

    fn site_setting(&mut self, name: &str) -> StorageResult<Option<Vec<u8>>> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM site_setting WHERE name = ?1")?
            .query_row([name], |r| r.get(0))
            .optional()?)
    }

    fn put_site_setting(&mut self, name: &str, value: &[u8]) -> StorageResult<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO site_setting (name, value) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![name, value])?;
        Ok(())
    }

    fn street_assignees(&mut self, street_id: &str) -> StorageResult<Vec<(UserId, Role)>> {
        let mut s = self.conn.prepare_cached(
            "SELECT user_id, role FROM assignment WHERE street_id = ?1 ORDER BY role, user_id",
        )?;
        let rows = s
            .query_map([street_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(u, role)| {
                Ok((
                    u.parse()
                        .map_err(|_| corrupt(format!("assignment user {u:?}")))?,
                    role.parse().map_err(corrupt)?,
                ))
            })
            .collect()
    }

    fn put_public_report(&mut self, row: &PublicReportRow) -> StorageResult<()> {
        self.conn
            .prepare_cached(&format!(
                "INSERT INTO public_report ({PUBLIC_REPORT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
            ))?
            .execute(params![
                row.token_hash,
                row.issue_id,
                row.signboard_id,
                row.street_id,
                row.contact_phone,
                row.created_at_ms
            ])?;
        Ok(())
    }

    fn public_report(&mut self, token_hash: &str) -> StorageResult<Option<PublicReportRow>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {PUBLIC_REPORT_COLUMNS} FROM public_report WHERE token_hash = ?1"
            ))?
            .query_row([token_hash], public_report_row)
            .optional()?)
    }

    fn public_report_of_issue(&mut self, issue_id: &str) -> StorageResult<Option<PublicReportRow>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {PUBLIC_REPORT_COLUMNS} FROM public_report WHERE issue_id = ?1"
            ))?
            .query_row([issue_id], public_report_row)
            .optional()?)
    }

    fn erase_contact_phone(&mut self, issue_id: &str) -> StorageResult<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "UPDATE public_report SET contact_phone = NULL
                  WHERE issue_id = ?1 AND contact_phone IS NOT NULL",
            )?
            .execute([issue_id])?
            > 0)
    }

    fn public_reports(
        &mut self,
        from_ms: i64,
        limit: usize,
    ) -> StorageResult<Vec<PublicReportRow>> {
        let mut s = self.conn.prepare_cached(&format!(
            "SELECT {PUBLIC_REPORT_COLUMNS} FROM public_report WHERE created_at_ms >= ?1
             ORDER BY created_at_ms DESC LIMIT ?2"
        ))?;
        Ok(
            s.query_map(params![from_ms, limit as i64], public_report_row)?
                .collect::<rusqlite::Result<_>>()?,
        )
    }

    fn put_steward_application(&mut self, a: &StewardApplicationRow) -> StorageResult<()> {
        self.conn
            .prepare_cached(&format!(
                "INSERT INTO steward_application ({APPLICATION_COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status,
                     reason = excluded.reason, user_id = excluded.user_id,
                     enrol_code = excluded.enrol_code, decided_at_ms = excluded.decided_at_ms"
            ))?
            .execute(params![
                a.id,
                a.token_hash,
                a.name,
                a.phone,
                a.street_id,
                a.signboard_id,
                a.availability,
                a.status.as_str(),
                a.reason,
                a.user_id.map(|u| u.to_string()),
                a.enrol_code,
                a.created_at_ms,
                a.decided_at_ms
            ])?;
        Ok(())
    }

    fn steward_application(&mut self, id: &str) -> StorageResult<Option<StewardApplicationRow>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {APPLICATION_COLUMNS} FROM steward_application WHERE id = ?1"
            ))?
            .query_row([id], application_row)
            .optional()?
            .map(application_from)
            .transpose()
    }

    fn steward_application_by_token(
        &mut self,
        token_hash: &str,
    ) -> StorageResult<Option<StewardApplicationRow>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {APPLICATION_COLUMNS} FROM steward_application WHERE token_hash = ?1"
            ))?
            .query_row([token_hash], application_row)
            .optional()?
            .map(application_from)
            .transpose()
    }

    fn steward_applications(
        &mut self,
        status: Option<ApplicationStatus>,
    ) -> StorageResult<Vec<StewardApplicationRow>> {
        let mut s = self.conn.prepare_cached(&format!(
            "SELECT {APPLICATION_COLUMNS} FROM steward_application
             WHERE ?1 IS NULL OR status = ?1 ORDER BY created_at_ms, id"
        ))?;
        let rows = s
            .query_map([status.map(ApplicationStatus::as_str)], application_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(application_from).collect()
    }

    fn office_login(&mut self, user: &UserId) -> StorageResult<Option<OfficeLoginRow>> {
        office::office_login(&self.conn, user)
    }

    fn put_office_login(&mut self, row: &OfficeLoginRow) -> StorageResult<()> {
        office::put_office_login(&self.conn, row)
    }

    fn put_office_session(&mut self, row: &OfficeSessionRow) -> StorageResult<()> {
        office::put_office_session(&self.conn, row)
    }

    fn office_session(&mut self, token_hash: &str) -> StorageResult<Option<OfficeSessionRow>> {
        office::office_session(&self.conn, token_hash)
    }

    fn touch_office_session(&mut self, token_hash: &str, now_ms: i64) -> StorageResult<()> {
        office::touch_office_session(&self.conn, token_hash, now_ms)
    }

    fn delete_office_session(&mut self, token_hash: &str) -> StorageResult<()> {
        office::delete_office_session(&self.conn, token_hash)
    }

    fn delete_office_sessions_of(&mut self, user: &UserId) -> StorageResult<usize> {
        office::delete_office_sessions_of(&self.conn, user)
    }

    fn put_audit(&mut self, row: &AuditRow) -> StorageResult<i64> {
        office::put_audit(&self.conn, row)
    }

    fn audit(&mut self, before_seq: Option<i64>, limit: usize) -> StorageResult<Vec<AuditRow>> {
        office::audit(&self.conn, before_seq, limit)
    }

    fn stale_issue_index(&mut self) -> StorageResult<Vec<String>> {
        office::stale_issue_index(&self.conn)
    }

    fn put_issue_index(&mut self, row: &IssueIndexRow) -> StorageResult<()> {
        office::put_issue_index(&self.conn, row)
    }

    fn clear_issue_index(&mut self) -> StorageResult<()> {
        office::clear_issue_index(&self.conn)
    }

    fn issue_index(&mut self, id: &str) -> StorageResult<Option<IssueIndexRow>> {
        office::issue_index(&self.conn, id)
    }

    fn issue_index_query(&mut self, q: &IssueQuery) -> StorageResult<(Vec<IssueIndexRow>, u64)> {
        office::issue_index_query(&self.conn, q)
    }

    fn issue_counts(
        &mut self,
        subdistrict_id: Option<&str>,
        from_ms: i64,
        to_ms: i64,
        now_ms: i64,
    ) -> StorageResult<Vec<IssueCounts>> {
        office::issue_counts(&self.conn, subdistrict_id, from_ms, to_ms, now_ms)
    }

    fn patrol_time_by_user(
        &mut self,
        from_ms: i64,
        to_ms: i64,
    ) -> StorageResult<Vec<(UserId, u64, f64)>> {
        let rows: Vec<(String, i64, f64)> = self
            .conn
            .prepare_cached(
                "SELECT user_id, COUNT(*), COALESCE(SUM(duration_s), 0)
                   FROM patrol
                  WHERE started_at_ms >= ?1 AND started_at_ms < ?2
                  GROUP BY user_id",
            )?
            .query_map([from_ms, to_ms], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .map(|(u, n, secs)| {
                Ok((
                    u.parse().map_err(corrupt)?,
                    u64::try_from(n).unwrap_or(0),
                    secs,
                ))
            })
            .collect()
    }

    fn patrols_changed_between(&mut self, from_ms: i64, to_ms: i64) -> StorageResult<(u64, i64)> {
        let (n, changed): (i64, i64) = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*), COALESCE(MAX(updated_at_ms), 0) FROM patrol
                  WHERE started_at_ms >= ?1 AND started_at_ms < ?2",
            )?
            .query_row([from_ms, to_ms], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok((u64::try_from(n).unwrap_or(0), changed))
    }

    fn patrols_unmeasured(
        &mut self,
        network_version: i64,
        limit: usize,
    ) -> StorageResult<Vec<PatrolRecord>> {
        let bodies = self
            .conn
            .prepare_cached(
                "SELECT p.body FROM patrol p LEFT JOIN patrol_coverage c ON c.patrol_id = p.id
                  WHERE json_extract(p.body, '$.state') = 'stopped'
                    AND json_extract(p.body, '$.summary') IS NOT NULL
                    AND (c.patrol_id IS NULL OR c.network_version <> ?1)
                  LIMIT ?2",
            )?
            .query_map(params![network_version, limit as i64], |r| {
                r.get::<_, String>(0)
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        bodies
            .iter()
            .map(|b| serde_json::from_str(b).map_err(corrupt))
            .collect()
    }

    fn patrol_coverage(&mut self, patrol_id: &str) -> StorageResult<Option<(i64, i64, Vec<u8>)>> {
        office::patrol_coverage(&self.conn, patrol_id)
    }

    fn put_patrol_coverage(
        &mut self,
        patrol_id: &str,
        fix_mark: i64,
        network_version: i64,
        data: &[u8],
    ) -> StorageResult<()> {
        office::put_patrol_coverage(&self.conn, patrol_id, fix_mark, network_version, data)
    }

    fn pickup_counts(
        &mut self,
        subdistrict_id: Option<&str>,
        from_ms: i64,
        to_ms: i64,
    ) -> StorageResult<(u64, u64)> {
        office::pickup_counts(&self.conn, subdistrict_id, from_ms, to_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A data folder of schema 1 with photos in documents and a pickup, and a shared partial
    /// upload of the old kind, migrates to the photo index and drops the partial upload.
    #[test]
    fn schema_2_indexes_existing_photos_and_drops_shared_partials() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = ("a".repeat(64), "b".repeat(64), "c".repeat(64));
        {
            let conn = Connection::open(dir.path().join("server.db")).unwrap();
            conn.execute_batch(schema::step(1)).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            let doc = "INSERT INTO doc (id, kind, data, heads, blobs, updated_at_ms) VALUES (?1, ?2, x'00', '', ?3, 0)";
            conn.execute(doc, params!["i1", "issue", format!("{a} {b}")])
                .unwrap();
            conn.execute(doc, params!["m1", "merchant", b.clone()])
                .unwrap();
            conn.execute(doc, params!["i2", "issue", ""]).unwrap();
            let rec = "INSERT INTO record (kind, id, user_id, body) VALUES (?1, ?2, 'u', ?3)";
            conn.execute(
                rec,
                params!["pickup", "p1", format!(r#"{{"photo_sha256":"{c}"}}"#)],
            )
            .unwrap();
            conn.execute(rec, params!["pickup", "p2", r#"{"photo_sha256":null}"#])
                .unwrap();
            conn.execute(rec, params!["points", "e1", r#"{"photo_sha256":"x"}"#])
                .unwrap();
            conn.execute(
                "INSERT INTO blob (hash, size, received, complete, created_at_ms) VALUES (?1, 10, 3, 0, 0), (?2, 10, 10, 1, 0)",
                params![a, b],
            )
            .unwrap();
        }
        let storage = SqliteStorage::open(dir.path()).unwrap();
        let mut tx = storage.read().unwrap();
        let refs = |tx: &mut Box<dyn Tx + '_>, h: &str| tx.blob_refs(h).unwrap();
        assert_eq!(refs(&mut tx, &a), vec![("doc:issue".into(), "i1".into())]);
        assert_eq!(
            refs(&mut tx, &b),
            vec![
                ("doc:issue".into(), "i1".into()),
                ("doc:merchant".into(), "m1".into())
            ]
        );
        assert_eq!(
            refs(&mut tx, &c),
            vec![("record:pickup".into(), "p1".into())]
        );
        assert!(refs(&mut tx, "x").is_empty());
        assert_eq!(
            tx.blob(&a).unwrap(),
            None,
            "the shared partial upload is dropped"
        );
        assert!(tx.blob(&b).unwrap().is_some_and(|r| r.complete));
    }

    #[test]
    fn documents_and_pickups_keep_the_photo_index_current() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(dir.path()).unwrap();
        let (a, b) = ("a".repeat(64), "b".repeat(64));
        let mut tx = storage.write().unwrap();
        tx.put_doc("m1", "merchant", b"x", &[], &[a.clone(), b.clone()], 0)
            .unwrap();
        tx.put_doc("m1", "merchant", b"x", &[], std::slice::from_ref(&b), 1)
            .unwrap();
        assert!(tx.blob_refs(&a).unwrap().is_empty(), "a photo taken out");
        assert_eq!(tx.blob_refs(&b).unwrap().len(), 1);
        let user: UserId = "0190f00d-0000-7000-8000-000000000001".parse().unwrap();
        let rec = LedgerRecord {
            kind: "pickup".into(),
            id: "p1".into(),
            user_id: user,
            body: serde_json::json!({ "photo_sha256": a }),
        };
        assert!(tx.put_record(&rec).unwrap());
        assert_eq!(
            tx.blob_refs(&a).unwrap(),
            vec![("record:pickup".into(), "p1".into())]
        );
    }
}
