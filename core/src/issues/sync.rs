//! Moving issue documents between devices: what the sync client (and a USB hand-over by file)
//! needs, and nothing about transport.
//!
//! - [`Store::issue_heads`]: a document's current heads.
//! - [`Store::issue_changes_since`]: the changes past a set of heads, as bytes.
//! - [`Store::apply_issue_changes`]: merges changes (or a whole document) from elsewhere and
//!   updates the projection in the same transaction.
//! - [`Store::issues_changed_since`]: the change feed: documents that moved after a cursor.
//! - [`Store::export_issue`] / [`Store::import_issue`]: a whole document as bytes
//!   ([`Store::import_issues`]: several in one transaction), and
//!   [`Store::export_issue_file`] / [`Store::import_issue_file`] as one file.
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
use crate::store::{DeviceIdentity, Store};

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

/// Largest issue document file [`Store::import_issue_file`] reads (documents carry thumbnails,
/// not originals: a busy issue is tens of kilobytes).
pub const MAX_DOCUMENT_FILE_BYTES: u64 = 16 << 20;

fn incoming(e: AutomergeError) -> Error {
    Error::BadDocument(format!("not issue changes this app can read: {e}"))
}

impl Store {
    /// The heads of an issue's document as this store has them.
    pub fn issue_heads(&self, id: IssueId) -> Result<Vec<ChangeHash>> {
        Ok(persist::stored_heads(&self.conn, id)?
            .ok_or(Error::UnknownIssue(id))?
            .1)
    }

    /// The changes of an issue's document that a peer with `heads` lacks, concatenated (empty
    /// when it has them all). Heads this store does not know are ignored, so everything past
    /// the known part is sent.
    pub fn issue_changes_since(&self, id: IssueId, heads: &[ChangeHash]) -> Result<Vec<u8>> {
        let stored = persist::load(&self.conn, id)?.ok_or(Error::UnknownIssue(id))?;
        Ok(stored.doc.save_after(heads))
    }

    /// This device's own changes (by `actor`, hex) that a peer with `heads` lacks, one change's
    /// bytes each: what a device uploads to the sync server, which takes only a device's own
    /// changes (others' changes travel through their own devices).
    pub fn issue_own_changes_since(
        &self,
        id: IssueId,
        heads: &[ChangeHash],
        actor: &str,
    ) -> Result<Vec<Vec<u8>>> {
        persist::ISSUES
            .own_changes_since(&self.conn, &id.to_string(), heads, actor)?
            .ok_or(Error::UnknownIssue(id))
    }

    /// The whole document, compacted: what `patrol issue export` writes.
    pub fn export_issue(&self, id: IssueId) -> Result<Vec<u8>> {
        let stored = persist::load(&self.conn, id)?.ok_or(Error::UnknownIssue(id))?;
        Ok(stored.doc.save())
    }

    /// Writes the whole document to `path` (whole or not at all; an existing file is replaced),
    /// for handing over by file or share sheet. Returns the bytes written.
    pub fn export_issue_file(&self, id: IssueId, path: &Path) -> Result<u64> {
        let bytes = self.export_issue(id)?;
        crate::files::write_atomically(path, &bytes)?;
        Ok(bytes.len() as u64)
    }

    /// What merging issue documents needs, read once for a whole batch of documents.
    pub(crate) fn issue_merge(&self) -> Result<IssueMerge> {
        let me = self.require_device()?;
        let hlc = crate::hlc::load_clock(&self.conn, &me.actor_id)?;
        Ok(IssueMerge {
            me,
            catalog: load_catalog(&self.conn)?,
            hlc,
            hlc_moved: false,
            now: self.clock.now_ms(),
        })
    }
    /// Issues whose document changed after `cursor` (local edits and merges, or with
    /// `local_only` only this device's own edits), oldest change first, at most `limit`.
    pub fn issues_changed_since(
        &self,
        cursor: i64,
        local_only: bool,
        limit: u32,
    ) -> Result<Vec<ChangedIssue>> {
        let sql = if local_only {
            "SELECT id, local_seq, heads FROM issue_doc WHERE local_seq > ?1 ORDER BY local_seq LIMIT ?2"
        } else {
            "SELECT id, change_seq, heads FROM issue_doc WHERE change_seq > ?1 ORDER BY change_seq LIMIT ?2"
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
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
    /// Merges `bytes` into issue `id` (see [`Store::apply_issue_changes`]) and says what that did
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
