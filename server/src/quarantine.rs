//! The administrator's hold on items: list, inspect, quarantine and release them, and scan what
//! the server already stores for items today's checks would refuse (accepted before the checks
//! existed). A quarantined item leaves every feed: no device receives it again, and uploads to
//! it are refused until it is released. Redemptions past the automatic limit wait here too,
//! until a supervisor approves or declines them (`admin points`).

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::storage::{FeedRow, PointsStatus, QuarantineRow, Storage, Tx};
use crate::validate;

/// An item found by a scan, with what is wrong with it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub kind: String,
    pub item_id: String,
    pub reason: String,
}

/// The feed kinds an administrator may hold.
fn check_kind(kind: &str) -> Result<()> {
    if kind == "patrol"
        || kind.starts_with("doc:")
        || kind.starts_with("record:")
        || kind.starts_with("ref:")
    {
        Ok(())
    } else {
        bail!(
            "{kind:?} is not an item kind; use doc:issue, doc:merchant, patrol, record:pickup, record:points or ref:TABLE"
        )
    }
}

pub fn list(storage: &dyn Storage) -> Result<Vec<QuarantineRow>> {
    Ok(storage.read()?.quarantine_list()?)
}

/// Takes an item out of every feed.
pub fn hold(storage: &dyn Storage, kind: &str, id: &str, reason: &str, now_ms: i64) -> Result<()> {
    check_kind(kind)?;
    let reason = reason.trim();
    patrol_model::text::check_text("the reason", reason, 1_000)?;
    if reason.is_empty() {
        bail!("say why the item is held (--reason)");
    }
    let mut tx = storage.write()?;
    if tx.quarantined(kind, id)?.is_some() {
        bail!("{kind} {id} is already held");
    }
    let Some(row) = tx.feed_row(kind, id)? else {
        bail!("no {kind} {id} on this server");
    };
    tx.quarantine(&QuarantineRow {
        kind: kind.into(),
        item_id: id.into(),
        reason: reason.into(),
        at_ms: now_ms,
        scope: row.scope,
    })?;
    tx.commit()?;
    Ok(())
}

/// Puts a held item back in the feed: devices in its scope receive it at their next sync.
pub fn release(storage: &dyn Storage, kind: &str, id: &str) -> Result<()> {
    check_kind(kind)?;
    let mut tx = storage.write()?;
    if kind == "record:points"
        && let Some(e) = tx.points_entry(id)?
        && e.status != PointsStatus::Accepted
    {
        bail!("points entry {id} is a redemption waiting for approval: use `admin points approve`");
    }
    if !tx.release(kind, id)? {
        bail!("{kind} {id} is not held");
    }
    tx.commit()?;
    Ok(())
}

/// Everything the server holds of an item, for an administrator to judge it.
pub fn show(storage: &dyn Storage, kind: &str, id: &str) -> Result<serde_json::Value> {
    check_kind(kind)?;
    let mut tx = storage.read()?;
    let held = tx
        .quarantined(kind, id)?
        .map(|q| serde_json::json!({ "reason": q.reason, "at_ms": q.at_ms }));
    let row = tx.feed_row(kind, id)?;
    let in_feed = row.is_some();
    let body = item_body(tx.as_mut(), kind, id)?;
    let problem = match &row {
        Some(row) => stored_item_problem(tx.as_mut(), row)?,
        None => None,
    };
    if body.is_none() && held.is_none() {
        bail!("no {kind} {id} on this server");
    }
    Ok(serde_json::json!({
        "kind": kind, "id": id, "held": held, "in_feed": in_feed, "problem": problem, "body": body,
    }))
}

fn item_body(tx: &mut dyn Tx, kind: &str, id: &str) -> Result<Option<serde_json::Value>> {
    Ok(if kind == "patrol" {
        tx.patrol(id)?.map(serde_json::to_value).transpose()?
    } else if let Some(k) = kind.strip_prefix("record:") {
        tx.record(k, id)?.map(|r| r.body)
    } else if let Some(t) = kind.strip_prefix("ref:") {
        tx.reference(t, id)?.map(|(b, _)| b)
    } else if kind.starts_with("doc:") {
        tx.doc(id)?.map(|d| {
            serde_json::json!({ "kind": d.kind, "bytes": d.data.len(), "heads": d.heads, "photos": d.blobs })
        })
    } else {
        None
    })
}

/// What today's checks find wrong with an item the server already holds (types, ranges, lengths,
/// known keys; a document's layout and limits), or `None`.
pub fn stored_item_problem(tx: &mut dyn Tx, row: &FeedRow) -> Result<Option<String>> {
    let id = row.item_id.as_str();
    if row.kind == "patrol" {
        let Some(p) = tx.patrol(id)? else {
            return Ok(None);
        };
        return Ok(validate::stored_patrol_problem(&p));
    }
    if let Some(kind) = row.kind.strip_prefix("record:") {
        let Some(r) = tx.record(kind, id)? else {
            return Ok(None);
        };
        return Ok(validate::stored_record_problem(&r));
    }
    if let Some(kind) = row.kind.strip_prefix("doc:") {
        let Some(d) = tx.doc(id)? else {
            return Ok(None);
        };
        let doc = match automerge::Automerge::load(&d.data) {
            Ok(doc) => doc,
            Err(e) => return Ok(Some(format!("the document does not load: {e}"))),
        };
        // Readable by the phones' model, and within the layout and limits uploads are held to.
        let problem = match kind {
            "issue" => patrol_model::issues::doc::read(&doc)
                .map_err(|e| format!("not a valid issue document: {e}"))
                .and_then(|_| {
                    patrol_model::issues::validate::check_issue(id, &doc).map_err(|e| e.to_string())
                }),
            "merchant" => patrol_model::merchants::doc::read(&doc)
                .map_err(|e| format!("not a valid merchant document: {e}"))
                .and_then(|_| {
                    patrol_model::merchants::validate::check_merchant(id, &doc)
                        .map_err(|e| e.to_string())
                }),
            _ => Ok(()),
        };
        return Ok(problem.err());
    }
    Ok(None)
}

/// Walks the whole feed and returns the items today's checks would refuse; with `hold`, takes
/// each of them out of every feed in the same transaction.
pub fn scan(storage: &dyn Storage, hold: bool, now_ms: i64) -> Result<Vec<Finding>> {
    let mut tx = storage.write()?;
    let mut cursor = 0u64;
    let mut found = Vec::new();
    loop {
        let rows = tx.feed_after(cursor, 1_000)?;
        let Some(last) = rows.last() else { break };
        cursor = last.seq;
        for row in rows {
            if let Some(reason) = stored_item_problem(tx.as_mut(), &row)
                .with_context(|| format!("reading {} {}", row.kind, row.item_id))?
            {
                found.push((row, reason));
            }
        }
    }
    let mut out = Vec::new();
    for (row, reason) in found {
        if hold {
            tx.quarantine(&QuarantineRow {
                kind: row.kind.clone(),
                item_id: row.item_id.clone(),
                reason: format!("scan: {reason}"),
                at_ms: now_ms,
                scope: row.scope.clone(),
            })?;
        }
        out.push(Finding {
            kind: row.kind,
            item_id: row.item_id,
            reason,
        });
    }
    tx.commit()?;
    Ok(out)
}

/// Redemptions waiting for a supervisor.
pub fn pending_points(storage: &dyn Storage) -> Result<Vec<serde_json::Value>> {
    Ok(storage
        .read()?
        .points_pending()?
        .into_iter()
        .map(|e| {
            serde_json::json!({
                "entry_id": e.entry_id, "user_id": e.user_id, "points": e.points, "day": e.day, "at_ms": e.at_ms,
            })
        })
        .collect())
}

/// Approves a waiting redemption (it joins the feed) or declines it (it stays out, and no
/// longer counts against the balance).
pub fn decide_points(storage: &dyn Storage, entry_id: &str, approve: bool) -> Result<()> {
    let mut tx = storage.write()?;
    match tx.points_entry(entry_id)? {
        Some(e) if e.status == PointsStatus::Pending => {}
        Some(e) => bail!(
            "points entry {entry_id} is {}, not waiting for approval",
            e.status.as_str()
        ),
        None => bail!("no points entry {entry_id} on this server"),
    }
    if approve {
        tx.set_points_status(entry_id, PointsStatus::Accepted)?;
        tx.release("record:points", entry_id)?;
    } else {
        tx.set_points_status(entry_id, PointsStatus::Declined)?;
    }
    tx.commit()?;
    Ok(())
}
