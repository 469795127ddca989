//! The sync protocol's local half, with no I/O: what to upload next, and how to store what the
//! server answered. The HTTP adapter ([`super::client`]) only moves these messages; everything
//! here is tested against the server's logic directly.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;

use super::wire::{EnrolResponse, FixMark, PatrolRecord, ReferenceRow, SyncRequest, SyncResponse};
use crate::domain::{PatrolId, StoredFix};
use crate::error::{Error, Result};
use crate::patrol::{PatrolInfo, PatrolSource};
use crate::store::DeviceIdentity;

/// Most documents one sync request uploads.
pub const DOC_UPLOADS_PER_REQUEST: usize = 500;
/// Most pickup and points records one sync request uploads.
pub const RECORD_UPLOADS_PER_REQUEST: usize = 2_000;

/// This device's account on a sync server. Printed without its token.
#[derive(Clone, PartialEq, Serialize)]
pub struct Account {
    pub server_url: String,
    #[serde(skip)]
    pub token: String,
    pub cursor: u64,
    pub enrolled_at_ms: i64,
    pub last_sync_ms: Option<i64>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("server_url", &self.server_url)
            .field("token", &"..")
            .field("cursor", &self.cursor)
            .field("enrolled_at_ms", &self.enrolled_at_ms)
            .field("last_sync_ms", &self.last_sync_ms)
            .finish()
    }
}

/// What one sync response changed locally.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Applied {
    pub docs: u64,
    pub patrols: u64,
    pub records: u64,
    pub reference: u64,
    /// Items received that this device could not take, set aside with the reason.
    pub set_aside: Vec<SetAside>,
}

/// An item the server sent that this device could not take: kept aside with the reason, so
/// that the rest of the sync goes on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetAside {
    /// `doc:issue`, `doc:merchant`, `patrol`, `record:pickup`, `record:points`, `ref:street`...
    pub kind: String,
    pub id: String,
    pub reason: String,
}

/// Whether an error storing a received item is the item's own fault (malformed, out of range,
/// refused by a check), as opposed to this device's (a full disk, a locked database): the first
/// sets the item aside, the second stops the sync so that it is tried again.
pub(crate) fn is_item_fault(e: &Error) -> bool {
    match e {
        Error::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => {
            f.code == rusqlite::ErrorCode::ConstraintViolation
        }
        Error::Sqlite(rusqlite::Error::FromSqlConversionFailure(..))
        | Error::Sqlite(rusqlite::Error::IntegralValueOutOfRange(..))
        | Error::Sqlite(rusqlite::Error::ToSqlConversionFailure(..)) => true,
        Error::Sqlite(_)
        | Error::Io { .. }
        | Error::Interrupted
        | Error::Network(_)
        | Error::Server { .. }
        | Error::NotEnrolled
        | Error::NotInitialised => false,
        _ => true,
    }
}

/// Records a received item set aside (replacing an earlier reason for the same item) and adds
/// it to `out`, the sync's list.
pub(crate) fn set_item_aside(
    conn: &rusqlite::Connection,
    item: SetAside,
    body: &str,
    now_ms: i64,
    out: &mut Vec<SetAside>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO sync_set_aside (kind, id, reason, body, at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![item.kind, item.id, item.reason, body, now_ms])?;
    out.push(item);
    Ok(())
}

/// Whether anything is set aside: when nothing is (nearly always), items taken need not be
/// cleared from the list one by one.
pub(crate) fn any_set_aside(conn: &rusqlite::Connection) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM sync_set_aside)")?
        .query_row([], |r| r.get(0))?)
}

/// A received item taken after all: it leaves the set-aside list.
pub(crate) fn clear_set_aside(conn: &rusqlite::Connection, kind: &str, id: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM sync_set_aside WHERE kind = ?1 AND id = ?2")?
        .execute(params![kind, id])?;
    Ok(())
}

/// How received items are taken in one transaction: each in a savepoint of its own; one the
/// device cannot take is rolled back and set aside with the reason and the item as received.
struct Intake<'a> {
    /// Whether anything was set aside before (else nothing needs clearing as items arrive).
    any_aside: bool,
    now_ms: i64,
    set_aside: &'a mut Vec<SetAside>,
}

impl Intake<'_> {
    /// Stores one item; true when it was stored.
    fn take<T: Serialize>(
        &mut self,
        tx: &mut rusqlite::Transaction<'_>,
        kind: &str,
        id: &str,
        item: &T,
        store: impl FnOnce(&rusqlite::Connection) -> Result<()>,
    ) -> Result<bool> {
        let sp = tx.savepoint()?;
        match store(&sp) {
            Ok(()) => {
                if self.any_aside {
                    clear_set_aside(&sp, kind, id)?;
                }
                sp.commit()?;
                Ok(true)
            }
            Err(e) if is_item_fault(&e) => {
                drop(sp);
                let aside = SetAside {
                    kind: kind.to_owned(),
                    id: id.to_owned(),
                    reason: e.to_string(),
                };
                let body = serde_json::to_string(item).unwrap_or_default();
                set_item_aside(tx, aside, &body, self.now_ms, self.set_aside)?;
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }
}

/// The sync account, or `None` before enrolment.
pub(crate) fn sync_account(conn: &Connection) -> Result<Option<Account>> {
    Ok(conn
        .query_row(
            "SELECT server_url, token, cursor, enrolled_at_ms, last_sync_ms FROM sync_account",
            [],
            |r| {
                Ok(Account {
                    server_url: r.get(0)?,
                    token: r.get(1)?,
                    cursor: r.get::<_, i64>(2)? as u64,
                    enrolled_at_ms: r.get(3)?,
                    last_sync_ms: r.get(4)?,
                })
            },
        )
        .optional()?)
}

/// Refuses an enrolment of another user than the one this store belongs to, before anything
/// (the secret store's token included) is written.
pub(crate) fn refuse_another_owner(conn: &Connection, resp: &EnrolResponse) -> Result<()> {
    let owner: Option<String> = conn
        .query_row("SELECT user_id FROM device", [], |r| r.get(0))
        .optional()?;
    match owner {
        Some(user) if user != resp.user.id.to_string() => {
            Err(Error::StoreBelongsToAnother { user })
        }
        _ => Ok(()),
    }
}

/// Sets this store up as the device the server just enrolled (see
/// [`crate::Store::apply_enrolment`]), inside the caller's transaction; the account keeps
/// `token_kept` (the token, or nothing when the secret store keeps it).
pub(crate) fn apply_enrolment(
    tx: &Transaction<'_>,
    server_url: &str,
    resp: &EnrolResponse,
    token_kept: &str,
    now: i64,
) -> Result<()> {
    refuse_another_owner(tx, resp)?;
    let existing: Option<(String, String)> = tx
        .query_row("SELECT user_id, id FROM device", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    match existing {
        Some((user, _)) if user != resp.user.id.to_string() => {
            return Err(Error::StoreBelongsToAnother { user });
        }
        Some(_) => {
            tx.execute(
                "UPDATE device SET id = ?1, actor_id = ?2 WHERE singleton = 1",
                params![resp.device_id.to_string(), resp.actor_id],
            )?;
        }
        None => {
            tx.execute(
                "INSERT OR REPLACE INTO user (id, name, role, subdistrict_id, created_at_ms) VALUES (?1, ?2, ?3, NULL, ?4)",
                params![resp.user.id.to_string(), resp.user.name, resp.user.role.as_str(), now],
            )?;
            tx.execute(
                "INSERT INTO device (singleton, id, user_id, actor_id, created_at_ms) VALUES (1, ?1, ?2, ?3, ?4)",
                params![resp.device_id.to_string(), resp.user.id.to_string(), resp.actor_id, now],
            )?;
        }
    }
    tx.execute(
        "INSERT OR REPLACE INTO sync_account (singleton, server_url, token, cursor, enrolled_at_ms)
         VALUES (1, ?1, ?2, COALESCE((SELECT cursor FROM sync_account), 0), ?3)",
        params![server_url, token_kept, now],
    )?;
    Ok(())
}

/// Own patrols whose header the server has not confirmed as it is now.
pub(crate) fn patrols_to_upload(
    conn: &Connection,
    me: &DeviceIdentity,
) -> Result<Vec<PatrolRecord>> {
    let mut out = Vec::new();
    for p in crate::patrol::storage::list_patrols(conn)? {
        if p.device_id != me.device_id {
            continue;
        }
        let record = patrol_record_with_check_ins(conn, &p)?;
        let header = serde_json::to_string(&record).expect("patrol record serialises");
        let uploaded: Option<String> = conn
            .query_row(
                "SELECT s.uploaded_header FROM sync_patrol s JOIN patrol p ON p.row_id = s.patrol_row WHERE p.id = ?1",
                [p.id.to_string()],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        let rejected: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sync_rejected WHERE kind = 'patrol' AND id = ?1)",
            [p.id.to_string()],
            |r| r.get(0),
        )?;
        if uploaded.as_deref() != Some(header.as_str()) && !rejected {
            out.push(record);
        }
    }
    out.reverse(); // oldest first
    Ok(out)
}

/// Stores what a sync response confirmed of `sent` and what came down besides documents, and
/// moves the cursor, inside the caller's transaction (see
/// [`crate::Store::apply_sync_response`]). Returns whether the street network changed.
pub(crate) fn apply_response(
    tx: &mut Transaction<'_>,
    me: &DeviceIdentity,
    sent: &SyncRequest,
    resp: &SyncResponse,
    now: i64,
    applied: &mut Applied,
) -> Result<bool> {
    for id in &sent.refetch {
        tx.execute("UPDATE sync_doc SET refetch = 0 WHERE doc_id = ?1", [id])?;
    }
    for p in &sent.patrols {
        let header = serde_json::to_string(p).expect("patrol record serialises");
        tx.execute(
            "INSERT INTO sync_patrol (patrol_row, uploaded_header)
             SELECT row_id, ?2 FROM patrol WHERE id = ?1
             ON CONFLICT (patrol_row) DO UPDATE SET uploaded_header = excluded.uploaded_header",
            params![p.id.to_string(), header],
        )?;
    }
    for r in &sent.records {
        tx.execute(
            "INSERT OR IGNORE INTO sync_record (kind, id) VALUES (?1, ?2)",
            params![r.kind, r.id],
        )?;
    }
    // Each item received is stored in a savepoint of its own: one the device cannot take is
    // set aside with the reason and the rest go on (one bad item never stops a sync).
    let mut network_changed = false;
    let mut intake = Intake {
        any_aside: any_set_aside(tx)?,
        now_ms: now,
        set_aside: &mut applied.set_aside,
    };
    for row in &resp.reference {
        let kind = format!("ref:{}", row.table);
        if intake.take(tx, &kind, &row.id, row, |c| {
            apply_reference(c, row, me, now)
        })? {
            network_changed |= row.table == "street";
            applied.reference += 1;
        }
    }
    if !resp.reference.is_empty() {
        super::reference::reconcile(tx, now)?;
    }
    for p in &resp.patrols {
        if p.device_id == me.device_id {
            continue;
        }
        if intake.take(tx, "patrol", &p.id.to_string(), p, |c| {
            upsert_synced_patrol(c, p)
        })? {
            applied.patrols += 1;
        }
    }
    for r in &resp.records {
        let kind = format!("record:{}", r.kind);
        if intake.take(tx, &kind, &r.id, r, |c| super::records::store_record(c, r))? {
            applied.records += 1;
        }
    }
    for FixMark {
        patrol_id,
        next_seq,
    } in &resp.fix_marks
    {
        tx.execute(
            "INSERT INTO sync_patrol (patrol_row, server_next_seq)
             SELECT row_id, ?2 FROM patrol WHERE id = ?1
             ON CONFLICT (patrol_row) DO UPDATE SET server_next_seq = MAX(server_next_seq, excluded.server_next_seq)",
            params![patrol_id.to_string(), next_seq],
        )?;
    }
    tx.execute(
        "UPDATE sync_account SET cursor = MAX(cursor, ?1), last_sync_ms = ?2",
        params![resp.cursor as i64, now],
    )?;
    Ok(network_changed)
}

/// Own patrols with fixes the server lacks: (patrol, first seq to send, local next seq).
pub(crate) fn fixes_to_upload(
    conn: &Connection,
    me: &DeviceIdentity,
) -> Result<Vec<(PatrolId, i64, i64)>> {
    let mut stmt = conn.prepare(
        "SELECT p.id, COALESCE(s.server_next_seq, 0), (SELECT COALESCE(MAX(seq) + 1, 0) FROM fix WHERE patrol_row = p.row_id)
           FROM patrol p LEFT JOIN sync_patrol s ON s.patrol_row = p.row_id
          WHERE p.device_id = ?1 AND s.uploaded_header IS NOT NULL",
    )?;
    let rows = stmt.query_map([me.device_id.to_string()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, server, local) = row?;
        if local > server {
            out.push((id.parse()?, server, local));
        }
    }
    Ok(out)
}

/// Synced patrols whose fixes the server holds further than this store: (patrol, from seq,
/// server next seq).
pub(crate) fn fixes_to_download(conn: &Connection) -> Result<Vec<(PatrolId, i64, i64)>> {
    let mut stmt = conn.prepare(
        "SELECT p.id, (SELECT COALESCE(MAX(seq) + 1, 0) FROM fix WHERE patrol_row = p.row_id), s.server_next_seq
           FROM patrol p JOIN sync_patrol s ON s.patrol_row = p.row_id
          WHERE p.source = 'synced'",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, local, server) = row?;
        if server > local {
            out.push((id.parse()?, local, server));
        }
    }
    Ok(out)
}

/// Records the server's fix high-water mark of an own patrol after an upload.
pub(crate) fn set_server_fix_mark(conn: &Connection, id: PatrolId, next_seq: i64) -> Result<()> {
    conn.execute(
        "UPDATE sync_patrol SET server_next_seq = MAX(server_next_seq, ?2)
          WHERE patrol_row = (SELECT row_id FROM patrol WHERE id = ?1)",
        params![id.to_string(), next_seq],
    )?;
    Ok(())
}

/// Stores fixes of a synced patrol downloaded from the server (idempotent).
pub(crate) fn store_synced_fixes(
    tx: &Transaction<'_>,
    id: PatrolId,
    fixes: &[StoredFix],
) -> Result<()> {
    let row: i64 = tx
        .query_row(
            "SELECT row_id FROM patrol WHERE id = ?1 AND source = 'synced'",
            [id.to_string()],
            |r| r.get(0),
        )
        .optional()?
        .ok_or(Error::UnknownPatrol(id))?;
    {
        let mut stmt = tx.prepare_cached(crate::patrol::INSERT_STORED_FIX)?;
        for f in fixes {
            crate::patrol::insert_stored_fix(&mut stmt, row, f)?;
        }
    }
    if !fixes.is_empty() {
        crate::coverage::cache::forget(tx, row)?;
    }
    Ok(())
}

/// Reference rows received from the server, by table.
pub(crate) fn reference_rows(conn: &Connection, table: &str) -> Result<Vec<serde_json::Value>> {
    let mut stmt =
        conn.prepare("SELECT body FROM reference_row WHERE tbl = ?1 AND deleted = 0 ORDER BY id")?;
    let rows = stmt.query_map([table], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for r in rows {
        out.push(
            serde_json::from_str(&r?)
                .map_err(|e| Error::Protocol(format!("stored reference row: {e}")))?,
        );
    }
    Ok(out)
}

/// Items received from the server that this device set aside, oldest first.
pub(crate) fn set_aside_items(conn: &Connection) -> Result<Vec<SetAside>> {
    let mut stmt =
        conn.prepare("SELECT kind, id, reason FROM sync_set_aside ORDER BY at_ms, kind, id")?;
    Ok(stmt
        .query_map([], |r| {
            Ok(SetAside {
                kind: r.get(0)?,
                id: r.get(1)?,
                reason: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?)
}

/// Counts of what this store holds that came from or went to the server.
pub(crate) fn sync_counts(conn: &Connection) -> Result<BTreeMap<&'static str, i64>> {
    let n = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0));
    let mut out = BTreeMap::new();
    out.insert(
        "patrols_synced_in",
        n("SELECT COUNT(*) FROM patrol WHERE source = 'synced'")?,
    );
    out.insert("reference_rows", n("SELECT COUNT(*) FROM reference_row")?);
    out.insert("records_confirmed", n("SELECT COUNT(*) FROM sync_record")?);
    Ok(out)
}

/// The wire form of a patrol header, with its check-ins.
pub(crate) fn patrol_record_with_check_ins(
    conn: &Connection,
    p: &PatrolInfo,
) -> Result<PatrolRecord> {
    let check_ins = crate::signboard::check_ins(conn, p.id)?
        .iter()
        .map(|c| serde_json::to_value(c).map_err(|e| Error::Protocol(e.to_string())))
        .collect::<Result<Vec<_>>>()?;
    Ok(PatrolRecord {
        check_ins,
        ..patrol_record(p)
    })
}

/// The wire form of a patrol header (without check-ins).
pub fn patrol_record(p: &PatrolInfo) -> PatrolRecord {
    PatrolRecord {
        id: p.id,
        user_id: p.user_id,
        device_id: p.device_id,
        state: p.state,
        source: p.source.as_str().to_owned(),
        name: p.name.clone(),
        started_at_ms: p.started_at_ms,
        stopped_at_ms: p.stopped_at_ms,
        planned_streets: p.planned_streets.clone(),
        summary: p
            .summary
            .as_ref()
            .and_then(|s| serde_json::to_value(s).ok()),
        check_ins: Vec::new(),
    }
}

fn apply_reference(
    tx: &rusqlite::Connection,
    row: &ReferenceRow,
    me: &DeviceIdentity,
    now_ms: i64,
) -> Result<()> {
    super::reference::apply_row(tx, &row.table, &row.body, row.deleted, now_ms)?;
    tx.execute(
        "INSERT INTO reference_row (tbl, id, body, deleted) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (tbl, id) DO UPDATE SET body = excluded.body, deleted = excluded.deleted",
        params![row.table, row.id, row.body.to_string(), row.deleted],
    )?;
    if row.table == "user" && row.id != me.user_id.to_string() {
        let name = row.body.get("name").and_then(|v| v.as_str()).unwrap_or("");
        let role = row.body.get("role").and_then(|v| v.as_str()).unwrap_or("");
        if let (Ok(role), false) = (role.parse::<crate::domain::Role>(), name.is_empty()) {
            tx.execute(
                "INSERT INTO user (id, name, role, created_at_ms) VALUES (?1, ?2, ?3, 0)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role",
                params![row.id, name, role.as_str()],
            )?;
        }
    }
    Ok(())
}

fn upsert_synced_patrol(tx: &rusqlite::Connection, p: &PatrolRecord) -> Result<()> {
    let summary = p.summary.as_ref().map(|s| s.to_string());
    // How the track was made on the device it came from; anything else is not known.
    let origin = match p.source.as_str() {
        "recorded" => Some("recorded"),
        "imported" => Some("imported"),
        _ => None,
    };
    let existing: Option<i64> = tx
        .query_row(
            "SELECT row_id FROM patrol WHERE id = ?1",
            [p.id.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    let row = match existing {
        Some(row) => {
            tx.execute(
                "UPDATE patrol SET state = ?2, name = ?3, stopped_at_ms = ?4, summary_json = ?5,
                        origin = COALESCE(origin, ?6) WHERE row_id = ?1",
                params![
                    row,
                    p.state.as_str(),
                    p.name,
                    p.stopped_at_ms,
                    summary,
                    origin
                ],
            )?;
            row
        }
        None => {
            tx.execute(
                "INSERT INTO patrol (id, user_id, device_id, state, source, name, started_at_ms, stopped_at_ms, summary_json, origin)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    p.id.to_string(),
                    p.user_id.to_string(),
                    p.device_id.to_string(),
                    p.state.as_str(),
                    PatrolSource::Synced.as_str(),
                    p.name,
                    p.started_at_ms,
                    p.stopped_at_ms,
                    summary,
                    origin
                ],
            )?;
            tx.last_insert_rowid()
        }
    };
    for street in &p.planned_streets {
        tx.execute(
            "INSERT OR IGNORE INTO patrol_street (patrol_row, street_id) VALUES (?1, ?2)",
            params![row, street],
        )?;
    }
    for c in &p.check_ins {
        let c: crate::signboard::CheckIn = serde_json::from_value(c.clone())
            .map_err(|e| Error::Protocol(format!("a check-in from the server: {e}")))?;
        crate::signboard::insert_check_in(tx, row, &c, true)?;
    }
    Ok(())
}
