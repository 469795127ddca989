//! The office platform's tables in the SQLite backend, as functions over a connection: sign-ins,
//! sessions, the audit log and the issue index (schema step 6), and the patrols' kept coverage
//! (step 7). [`super::sqlite::SqliteTx`]
//! answers the [`super::Tx`] methods with these.

use patrol_model::domain::{IssueEventKind, IssueStatus};
use patrol_model::{Role, UserId};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use super::{
    AuditRow, IssueCounts, IssueIndexRow, IssueQuery, IssueSort, OfficeLoginRow, OfficeSessionRow,
    SessionSummary, StorageError, StorageResult,
};

fn corrupt(what: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(what.to_string())
}

fn user_id(text: &str) -> StorageResult<UserId> {
    text.parse()
        .map_err(|_| corrupt(format!("user id {text:?} in the office tables")))
}

pub(super) fn office_login(
    conn: &Connection,
    user: &UserId,
) -> StorageResult<Option<OfficeLoginRow>> {
    let row: Option<(String, bool, i64, i64, Option<i64>)> = conn
        .prepare_cached(
            "SELECT password_hash, is_admin, set_at_ms, failed_count, locked_until_ms
             FROM office_login WHERE user_id = ?1",
        )?
        .query_row([user.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?;
    Ok(row.map(
        |(password_hash, is_admin, set_at_ms, failed, locked_until_ms)| OfficeLoginRow {
            user_id: *user,
            password_hash,
            is_admin,
            set_at_ms,
            failed_count: u32::try_from(failed).unwrap_or(u32::MAX),
            locked_until_ms,
        },
    ))
}

pub(super) fn put_office_login(conn: &Connection, row: &OfficeLoginRow) -> StorageResult<()> {
    conn.prepare_cached(
        "INSERT INTO office_login (user_id, password_hash, is_admin, set_at_ms, failed_count, locked_until_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (user_id) DO UPDATE SET password_hash = excluded.password_hash,
             is_admin = excluded.is_admin, set_at_ms = excluded.set_at_ms,
             failed_count = excluded.failed_count, locked_until_ms = excluded.locked_until_ms",
    )?
    .execute(params![
        row.user_id.to_string(),
        row.password_hash,
        row.is_admin,
        row.set_at_ms,
        i64::from(row.failed_count),
        row.locked_until_ms
    ])?;
    Ok(())
}

pub(super) fn put_office_session(conn: &Connection, row: &OfficeSessionRow) -> StorageResult<()> {
    conn.prepare_cached(
        "INSERT INTO office_session (token_hash, user_id, csrf_token, created_at_ms, last_seen_ms, expires_at_ms, address)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        row.token_hash,
        row.user_id.to_string(),
        row.csrf_token,
        row.created_at_ms,
        row.last_seen_ms,
        row.expires_at_ms,
        row.address
    ])?;
    Ok(())
}

pub(super) fn office_sessions_of(
    conn: &Connection,
    user: &UserId,
) -> StorageResult<Vec<SessionSummary>> {
    Ok(conn
        .prepare_cached(
            "SELECT created_at_ms, last_seen_ms, expires_at_ms, address FROM office_session
              WHERE user_id = ?1 ORDER BY created_at_ms",
        )?
        .query_map([user.to_string()], |r| {
            Ok(SessionSummary {
                created_at_ms: r.get(0)?,
                last_seen_ms: r.get(1)?,
                expires_at_ms: r.get(2)?,
                address: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?)
}

pub(super) fn office_session(
    conn: &Connection,
    token_hash: &str,
) -> StorageResult<Option<OfficeSessionRow>> {
    type Raw = (String, String, i64, i64, i64, Option<String>);
    let row: Option<Raw> = conn
        .prepare_cached(
            "SELECT user_id, csrf_token, created_at_ms, last_seen_ms, expires_at_ms, address
             FROM office_session WHERE token_hash = ?1",
        )?
        .query_row([token_hash], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .optional()?;
    row.map(
        |(user, csrf_token, created_at_ms, last_seen_ms, expires_at_ms, address)| {
            Ok(OfficeSessionRow {
                token_hash: token_hash.to_owned(),
                user_id: user_id(&user)?,
                csrf_token,
                created_at_ms,
                last_seen_ms,
                expires_at_ms,
                address,
            })
        },
    )
    .transpose()
}

pub(super) fn touch_office_session(
    conn: &Connection,
    token_hash: &str,
    now_ms: i64,
) -> StorageResult<()> {
    conn.prepare_cached("UPDATE office_session SET last_seen_ms = ?2 WHERE token_hash = ?1")?
        .execute(params![token_hash, now_ms])?;
    Ok(())
}

pub(super) fn delete_office_session(conn: &Connection, token_hash: &str) -> StorageResult<()> {
    conn.prepare_cached("DELETE FROM office_session WHERE token_hash = ?1")?
        .execute([token_hash])?;
    Ok(())
}

pub(super) fn delete_office_sessions_of(conn: &Connection, user: &UserId) -> StorageResult<usize> {
    Ok(conn
        .prepare_cached("DELETE FROM office_session WHERE user_id = ?1")?
        .execute([user.to_string()])?)
}

pub(super) fn put_audit(conn: &Connection, row: &AuditRow) -> StorageResult<i64> {
    conn.prepare_cached(
        "INSERT INTO office_audit (at_ms, user_id, action, target, detail, address)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        row.at_ms,
        row.user_id.map(|u| u.to_string()),
        row.action,
        row.target,
        row.detail,
        row.address
    ])?;
    Ok(conn.last_insert_rowid())
}

pub(super) fn audit(
    conn: &Connection,
    before_seq: Option<i64>,
    limit: usize,
) -> StorageResult<Vec<AuditRow>> {
    type Raw = (
        i64,
        i64,
        Option<String>,
        String,
        Option<String>,
        String,
        Option<String>,
    );
    let mut s = conn.prepare_cached(
        "SELECT seq, at_ms, user_id, action, target, detail, address FROM office_audit
         WHERE seq < ?1 ORDER BY seq DESC LIMIT ?2",
    )?;
    let rows: Vec<Raw> = s
        .query_map(params![before_seq.unwrap_or(i64::MAX), limit as i64], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    rows.into_iter()
        .map(|(seq, at_ms, user, action, target, detail, address)| {
            Ok(AuditRow {
                seq,
                at_ms,
                user_id: user.as_deref().map(user_id).transpose()?,
                action,
                target,
                detail,
                address,
            })
        })
        .collect()
}

pub(super) fn stale_issue_index(conn: &Connection) -> StorageResult<Vec<String>> {
    let mut s = conn.prepare_cached(
        "SELECT d.id FROM doc d LEFT JOIN issue_index i ON i.id = d.id
         WHERE d.kind = 'issue' AND (i.heads IS NULL OR i.heads <> d.heads)",
    )?;
    Ok(s.query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

const INDEX_COLUMNS: &str = "id, heads, status, category, description, street_id, subdistrict_id, \
     lat, lon, reporter_role, assignees, reported_at_ms, updated_at_ms, due_at_ms, resolved_at_ms, \
     verified_at_ms, photo_count, reporter_id, applied";

pub(super) fn put_issue_index(conn: &Connection, row: &IssueIndexRow) -> StorageResult<()> {
    conn.prepare_cached(&format!(
        "INSERT OR REPLACE INTO issue_index ({INDEX_COLUMNS}, is_open)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)"
    ))?
    .execute(params![
        row.id,
        row.heads.join(" "),
        row.status.as_str(),
        row.category,
        row.description,
        row.street_id,
        row.subdistrict_id,
        row.lat,
        row.lon,
        row.reporter_role.as_str(),
        row.assignees.join(" "),
        row.reported_at_ms,
        row.updated_at_ms,
        row.due_at_ms,
        row.resolved_at_ms,
        row.verified_at_ms,
        i64::from(row.photo_count),
        row.reporter_id,
        applied_text(&row.applied),
        row.status.is_open()
    ])?;
    Ok(())
}

fn applied_text(applied: &[(IssueEventKind, i64)]) -> String {
    let pairs: Vec<(&str, i64)> = applied.iter().map(|(k, at)| (k.as_str(), *at)).collect();
    serde_json::to_string(&pairs).unwrap_or_else(|_| "[]".into())
}

fn applied_of(id: &str, text: &str) -> StorageResult<Vec<(IssueEventKind, i64)>> {
    let pairs: Vec<(String, i64)> = serde_json::from_str(text)
        .map_err(|e| corrupt(format!("issue {id}: applied events: {e}")))?;
    pairs
        .into_iter()
        .map(|(k, at)| {
            k.parse::<IssueEventKind>()
                .map(|k| (k, at))
                .map_err(|_| corrupt(format!("issue {id}: event {k:?}")))
        })
        .collect()
}

pub(super) fn clear_issue_index(conn: &Connection) -> StorageResult<()> {
    conn.execute("DELETE FROM issue_index", [])?;
    Ok(())
}

type IndexRaw = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    f64,
    f64,
    String,
    String,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    i64,
    String,
    String,
);

fn index_raw(r: &rusqlite::Row<'_>) -> rusqlite::Result<IndexRaw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        r.get(11)?,
        r.get(12)?,
        r.get(13)?,
        r.get(14)?,
        r.get(15)?,
        r.get(16)?,
        r.get(17)?,
        r.get(18)?,
    ))
}

fn index_row(raw: IndexRaw) -> StorageResult<IssueIndexRow> {
    let (
        id,
        heads,
        status,
        category,
        description,
        street_id,
        subdistrict_id,
        lat,
        lon,
        role,
        assignees,
        reported_at_ms,
        updated_at_ms,
        due_at_ms,
        resolved_at_ms,
        verified_at_ms,
        photo_count,
        reporter_id,
        applied,
    ) = raw;
    let words = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    Ok(IssueIndexRow {
        status: status
            .parse::<IssueStatus>()
            .map_err(|_| corrupt(format!("issue {id}: status {status:?}")))?,
        reporter_role: role
            .parse::<Role>()
            .map_err(|_| corrupt(format!("issue {id}: role {role:?}")))?,
        heads: words(&heads),
        assignees: words(&assignees),
        applied: applied_of(&id, &applied)?,
        reporter_id,
        id,
        category,
        description,
        street_id,
        subdistrict_id,
        lat,
        lon,
        reported_at_ms,
        updated_at_ms,
        due_at_ms,
        resolved_at_ms,
        verified_at_ms,
        photo_count: u32::try_from(photo_count).unwrap_or(0),
    })
}

pub(super) fn issue_index(conn: &Connection, id: &str) -> StorageResult<Option<IssueIndexRow>> {
    conn.prepare_cached(&format!(
        "SELECT {INDEX_COLUMNS} FROM issue_index WHERE id = ?1"
    ))?
    .query_row([id], index_raw)
    .optional()?
    .map(index_row)
    .transpose()
}

/// The WHERE clause and its parameters for a query.
fn index_filter(q: &IssueQuery) -> (String, Vec<SqlValue>) {
    let mut clauses: Vec<&str> = Vec::new();
    let mut values: Vec<SqlValue> = Vec::new();
    if let Some(status) = q.status {
        clauses.push("status = ?");
        values.push(SqlValue::Text(status.as_str().into()));
    }
    if let Some(open) = q.open {
        clauses.push("is_open = ?");
        values.push(SqlValue::Integer(i64::from(open)));
    }
    if let Some(c) = &q.category {
        clauses.push("category = ?");
        values.push(SqlValue::Text(c.clone()));
    }
    match &q.subdistrict_id {
        Some(Some(sub)) => {
            clauses.push("subdistrict_id = ?");
            values.push(SqlValue::Text(sub.clone()));
        }
        Some(None) => clauses.push("subdistrict_id IS NULL"),
        None => {}
    }
    if let Some(st) = &q.street_id {
        clauses.push("street_id = ?");
        values.push(SqlValue::Text(st.clone()));
    }
    if let Some(at) = q.overdue_at_ms {
        clauses.push("is_open = 1 AND due_at_ms < ?");
        values.push(SqlValue::Integer(at));
    }
    if let Some(role) = q.reporter_role {
        clauses.push("reporter_role = ?");
        values.push(SqlValue::Text(role.as_str().into()));
    }
    if let Some(from) = q.reported_from_ms {
        clauses.push("reported_at_ms >= ?");
        values.push(SqlValue::Integer(from));
    }
    if let Some(to) = q.reported_to_ms {
        clauses.push("reported_at_ms < ?");
        values.push(SqlValue::Integer(to));
    }
    let text = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    (text, values)
}

pub(super) fn issue_index_query(
    conn: &Connection,
    q: &IssueQuery,
) -> StorageResult<(Vec<IssueIndexRow>, u64)> {
    let (filter, values) = index_filter(q);
    let total: i64 = conn
        .prepare(&format!("SELECT COUNT(*) FROM issue_index {filter}"))?
        .query_row(params_from_iter(values.iter()), |r| r.get(0))?;
    let order = match q.sort {
        IssueSort::Newest => "reported_at_ms DESC, id",
        IssueSort::Oldest => "reported_at_ms ASC, id",
        IssueSort::Due => "is_open DESC, due_at_ms ASC, id",
        IssueSort::Updated => "updated_at_ms DESC, id",
    };
    let mut page_values = values;
    page_values.push(SqlValue::Integer(
        i64::try_from(q.limit).unwrap_or(i64::MAX),
    ));
    page_values.push(SqlValue::Integer(
        i64::try_from(q.offset).unwrap_or(i64::MAX),
    ));
    let mut s = conn.prepare(&format!(
        "SELECT {INDEX_COLUMNS} FROM issue_index {filter} ORDER BY {order} LIMIT ? OFFSET ?"
    ))?;
    let raws: Vec<IndexRaw> = s
        .query_map(params_from_iter(page_values.iter()), index_raw)?
        .collect::<rusqlite::Result<_>>()?;
    let rows = raws
        .into_iter()
        .map(index_row)
        .collect::<StorageResult<Vec<_>>>()?;
    Ok((rows, u64::try_from(total).unwrap_or(0)))
}

pub(super) fn issue_counts(
    conn: &Connection,
    subdistrict_id: Option<&str>,
    from_ms: i64,
    to_ms: i64,
    now_ms: i64,
) -> StorageResult<Vec<IssueCounts>> {
    let mut s = conn.prepare_cached(
        "SELECT subdistrict_id,
                COALESCE(SUM(is_open), 0),
                COALESCE(SUM(is_open = 1 AND due_at_ms < ?3), 0),
                COALESCE(SUM(reported_at_ms >= ?1 AND reported_at_ms < ?2), 0),
                COALESCE(SUM(resolved_at_ms >= ?1 AND resolved_at_ms < ?2), 0),
                COALESCE(SUM(verified_at_ms >= ?1 AND verified_at_ms < ?2), 0)
         FROM issue_index
         WHERE ?4 IS NULL OR subdistrict_id = ?4
         GROUP BY subdistrict_id ORDER BY subdistrict_id",
    )?;
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(
        s.query_map(params![from_ms, to_ms, now_ms, subdistrict_id], |r| {
            Ok(IssueCounts {
                subdistrict_id: r.get(0)?,
                open: n(r.get(1)?),
                overdue: n(r.get(2)?),
                reported: n(r.get(3)?),
                resolved: n(r.get(4)?),
                verified: n(r.get(5)?),
            })
        })?
        .collect::<rusqlite::Result<_>>()?,
    )
}

pub(super) fn pickup_counts(
    conn: &Connection,
    subdistrict_id: Option<&str>,
    from_ms: i64,
    to_ms: i64,
) -> StorageResult<(u64, u64)> {
    let (n, bags): (i64, i64) = conn
        .prepare_cached(
            "SELECT COUNT(*), COALESCE(SUM(p.bags), 0)
             FROM pickup p LEFT JOIN street s ON s.id = p.street_id
             WHERE p.at_ms >= ?1 AND p.at_ms < ?2
               AND (?3 IS NULL OR s.subdistrict_id = ?3)",
        )?
        .query_row(params![from_ms, to_ms, subdistrict_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    Ok((
        u64::try_from(n).unwrap_or(0),
        u64::try_from(bags).unwrap_or(0),
    ))
}

pub(super) fn patrol_coverage(
    conn: &Connection,
    patrol_id: &str,
) -> StorageResult<Option<(i64, i64, Vec<u8>)>> {
    Ok(conn
        .prepare_cached(
            "SELECT fix_mark, network_version, data FROM patrol_coverage WHERE patrol_id = ?1",
        )?
        .query_row([patrol_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?)
}

pub(super) fn put_patrol_coverage(
    conn: &Connection,
    patrol_id: &str,
    fix_mark: i64,
    network_version: i64,
    data: &[u8],
) -> StorageResult<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO patrol_coverage (patrol_id, fix_mark, network_version, data)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![patrol_id, fix_mark, network_version, data])?;
    Ok(())
}
