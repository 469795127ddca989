//! Moving issue documents between devices: what the sync client (and a USB hand-over by file)
//! needs, and nothing about transport.
//!
//! - [`crate::Store::issue_heads`]: a document's current heads.
//! - [`crate::Store::issue_changes_since`]: the changes past a set of heads, as bytes.
//! - [`crate::Store::apply_issue_changes`]: merges changes (or a whole document) from elsewhere and
//!   updates the projection in the same transaction.
//! - [`crate::Store::issues_changed_since`]: the change feed: documents that moved after a cursor.
//! - [`crate::Store::export_issue`] / [`crate::Store::import_issue`]: a whole document as bytes
//!   ([`crate::Store::import_issues`]: several in one transaction), and
//!   [`crate::Store::export_issue_file`] / [`crate::Store::import_issue_file`] as one file.
//!
//! Incoming bytes are checked before anything is written: they must parse as Automerge, leave no
//! change waiting for a missing dependency, and be the document they claim to be. Events in them
//! that break the role rules are kept in the history but refused by the fold.

use std::path::Path;

use automerge::{AutomergeError, ChangeHash};
use serde::Serialize;

use rusqlite::Connection;

use crate::docs::persist::{incoming_target, load_standalone, require_complete};
use crate::domain::{IssueId, IssueStatus};
use crate::error::{Error, Result};
use crate::hlc::HlcClock;
use crate::issues::catalog::Catalog;
use crate::issues::{IssueTransition, doc, load_catalog, persist, refresh_read};
use crate::store::DeviceIdentity;

/// What applying changes did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergeOutcome {
    pub id: IssueId,
    /// The store had not seen this issue before.
    pub new: bool,
    /// Anything changed (false when every change was already here).
    pub changed: bool,
    pub status: IssueStatus,
    /// Heads after the merge (hex, sorted).
    pub heads: Vec<String>,
}

/// One entry of the change feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedIssue {
    pub id: IssueId,
    /// The cursor value of its last change; pass the largest back to continue.
    pub seq: i64,
    pub heads: Vec<String>,
}

/// Largest issue document file [`crate::Store::import_issue_file`] reads (documents carry thumbnails,
/// not originals: a busy issue is tens of kilobytes).
pub const MAX_DOCUMENT_FILE_BYTES: u64 = 16 << 20;

fn incoming(e: AutomergeError) -> Error {
    Error::BadDocument(format!("not issue changes this app can read: {e}"))
}

/// The heads of an issue's document as this store has them.
pub(crate) fn issue_heads(conn: &Connection, id: IssueId) -> Result<Vec<ChangeHash>> {
    Ok(persist::stored_heads(conn, id)?
        .ok_or(Error::UnknownIssue(id))?
        .1)
}

/// The changes of an issue's document that a peer with `heads` lacks, concatenated (empty
/// when it has them all). Heads this store does not know are ignored, so everything past
/// the known part is sent.
pub(crate) fn changes_since(
    conn: &Connection,
    id: IssueId,
    heads: &[ChangeHash],
) -> Result<Vec<u8>> {
    let stored = persist::load(conn, id)?.ok_or(Error::UnknownIssue(id))?;
    Ok(stored.doc.save_after(heads))
}

/// The changes by `actor` (hex) that a peer with `heads` lacks, one change's bytes each.
pub(crate) fn own_changes_since(
    conn: &Connection,
    id: IssueId,
    heads: &[ChangeHash],
    actor: &str,
) -> Result<Vec<Vec<u8>>> {
    persist::ISSUES
        .own_changes_since(conn, &id.to_string(), heads, actor)?
        .ok_or(Error::UnknownIssue(id))
}

/// The whole document, compacted.
pub(crate) fn export_issue(conn: &Connection, id: IssueId) -> Result<Vec<u8>> {
    let stored = persist::load(conn, id)?.ok_or(Error::UnknownIssue(id))?;
    Ok(stored.doc.save())
}

/// Issues whose document changed after `cursor` (local edits and merges, or with
/// `local_only` only this device's own edits), oldest change first, at most `limit`.
pub(crate) fn issues_changed_since(
    conn: &Connection,
    cursor: i64,
    local_only: bool,
    limit: u32,
) -> Result<Vec<ChangedIssue>> {
    let sql = if local_only {
        "SELECT id, local_seq, heads FROM issue_doc WHERE local_seq > ?1 ORDER BY local_seq LIMIT ?2"
    } else {
        "SELECT id, change_seq, heads FROM issue_doc WHERE change_seq > ?1 ORDER BY change_seq LIMIT ?2"
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(rusqlite::params![cursor, limit], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, Vec<u8>>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, seq, heads) = row?;
        let heads = persist::blob_to_heads(&heads)?
            .iter()
            .map(|h| h.to_string())
            .collect();
        out.push(ChangedIssue {
            id: id.parse()?,
            seq,
            heads,
        });
    }
    Ok(out)
}

/// Reads a document file written by `export_issue_file` (or `patrol issue export`); a file
/// larger than [`MAX_DOCUMENT_FILE_BYTES`] is refused unread.
pub(crate) fn read_document_file(path: &Path) -> Result<Vec<u8>> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > MAX_DOCUMENT_FILE_BYTES {
        return Err(Error::BadDocument(format!(
            "{} is {size} bytes, more than an issue document may have ({MAX_DOCUMENT_FILE_BYTES}); choose the exported issue file",
            path.display()
        )));
    }
    std::fs::read(path).map_err(io)
}

/// Merges issue documents from elsewhere inside a transaction the caller holds, so a sync can
/// store a page of documents in one transaction (one commit, not one per document). Call
/// [`IssueMerge::finish`] before committing.
pub(crate) struct IssueMerge {
    me: DeviceIdentity,
    catalog: Catalog,
    hlc: HlcClock,
    hlc_moved: bool,
    now: i64,
}

impl IssueMerge {
    /// What merging issue documents as `me` at `now_ms` needs, read once for a whole batch
    /// of documents.
    pub(crate) fn new(conn: &Connection, me: DeviceIdentity, now_ms: i64) -> Result<Self> {
        let hlc = crate::hlc::load_clock(conn, &me.actor_id)?;
        Ok(IssueMerge {
            me,
            catalog: load_catalog(conn)?,
            hlc,
            hlc_moved: false,
            now: now_ms,
        })
    }

    /// Merges `bytes` into issue `id` (see [`crate::Store::apply_issue_changes`]) and says what that did
    /// to the issue. On an error some of it may be written: run it in a transaction or savepoint
    /// that is then rolled back.
    pub(crate) fn apply(
        &mut self,
        conn: &Connection,
        id: Option<IssueId>,
        bytes: &[u8],
    ) -> Result<(MergeOutcome, IssueTransition)> {
        if bytes.is_empty() {
            return Err(Error::BadDocument(
                "no changes given (the input is empty)".into(),
            ));
        }
        // Parse on its own first: garbage fails here; changes that build on earlier ones fail
        // only with MissingDeps, which is fine when we have those earlier ones.
        let standalone = load_standalone(bytes).map_err(incoming)?;
        let mut standalone_read = standalone.as_ref().map(doc::read).transpose()?;
        let id = incoming_target(id, standalone_read.as_ref().map(|d| d.id), "issue")?;
        let (mut stored, new) = match persist::load(conn, id)? {
            Some(mut s) => {
                s.doc.load_incremental(bytes).map_err(incoming)?;
                (s, false)
            }
            None => match standalone {
                // Loaded from exactly these bytes with every dependency present: store them as
                // they came.
                Some(d) => (persist::insert(conn, id, d, bytes, false)?, true),
                None => return Err(Error::UnknownIssue(id)),
            },
        };
        require_complete(&stored.doc, "issue")?;
        // A new document is the standalone one, already read.
        let merged = match standalone_read.take() {
            Some(d) if new => d,
            _ => doc::read(&stored.doc)?,
        };
        if merged.id != id {
            return Err(Error::BadDocument(format!(
                "after merging, the document says it is issue {}, not {id}",
                merged.id
            )));
        }
        let changed = persist::persist(conn, &mut stored, false)? || new;
        let latest = merged.latest_stamp().cloned();
        let reporter = merged.reporter.user_id;
        let view = refresh_read(conn, &stored, merged, &self.catalog, self.now)?;
        if let Some(latest) = latest {
            self.observe(&latest);
        }
        let transition = IssueTransition {
            issue_id: id,
            reporter,
            after: view.status,
            at_ms: self.now,
        };
        let outcome = MergeOutcome {
            id,
            new,
            changed,
            status: view.status,
            heads: view.heads,
        };
        Ok((outcome, transition))
    }

    /// This device's identity, for what the layer above does with a merge's transition.
    pub(crate) fn me(&self) -> &DeviceIdentity {
        &self.me
    }

    /// The time merges are stamped with.
    pub(crate) fn now(&self) -> i64 {
        self.now
    }

    /// Moves the clock past a stamp merged from another document (a merchant's, say).
    pub(crate) fn observe(&mut self, stamp: &crate::hlc::HlcStamp) {
        self.hlc.observe(stamp, self.now);
        self.hlc_moved = true;
    }

    /// Saves the clock the merged documents moved forward.
    pub(crate) fn finish(&self, conn: &Connection) -> Result<()> {
        if self.hlc_moved {
            crate::hlc::save_clock(conn, &self.hlc)?;
        }
        Ok(())
    }
}
