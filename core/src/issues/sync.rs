//! Moving issue documents between devices: what the sync client (and a USB hand-over by file)
//! needs, and nothing about transport.
//!
//! - [`Store::issue_heads`]: a document's current heads.
//! - [`Store::issue_changes_since`]: the changes past a set of heads, as bytes.
//! - [`Store::apply_issue_changes`]: merges changes (or a whole document) from elsewhere and
//!   updates the projection in the same transaction.
//! - [`Store::issues_changed_since`]: the change feed: documents that moved after a cursor.
//! - [`Store::export_issue`] / [`Store::import_issue`]: a whole document as bytes, and
//!   [`Store::export_issue_file`] / [`Store::import_issue_file`] as one file.
//!
//! Incoming bytes are checked before anything is written: they must parse as Automerge, leave no
//! change waiting for a missing dependency, and be the document they claim to be. Events in them
//! that break the role rules are kept in the history but refused by the fold.

use std::path::Path;

use automerge::{Automerge, AutomergeError, ChangeHash, LoadOptions, OnPartialLoad, ReadDoc, VerificationMode};
use serde::Serialize;

use crate::domain::{IssueId, IssueStatus};
use crate::error::{Error, Result};
use crate::hlc::HlcClock;
use crate::issues::{doc, load_catalog, persist, refresh};
use crate::store::Store;

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
        Ok(persist::stored_heads(&self.conn, id)?.ok_or(Error::UnknownIssue(id))?.1)
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
    pub fn issue_own_changes_since(&self, id: IssueId, heads: &[ChangeHash], actor: &str) -> Result<Vec<Vec<u8>>> {
        let stored = persist::load(&self.conn, id)?.ok_or(Error::UnknownIssue(id))?;
        Ok(stored
            .doc
            .get_changes(heads)
            .into_iter()
            .filter(|c| c.actor_id().to_hex_string() == actor)
            .map(|c| c.raw_bytes().to_vec())
            .collect())
    }

    /// The whole document, compacted: what `patrol issue export` writes.
    pub fn export_issue(&self, id: IssueId) -> Result<Vec<u8>> {
        let stored = persist::load(&self.conn, id)?.ok_or(Error::UnknownIssue(id))?;
        Ok(stored.doc.save())
    }

    /// Merges a whole exported document (see [`Store::export_issue`]).
    pub fn import_issue(&mut self, bytes: &[u8]) -> Result<MergeOutcome> {
        self.apply_issue_changes(None, bytes)
    }

    /// Writes the whole document to `path` (whole or not at all; an existing file is replaced),
    /// for handing over by file or share sheet. Returns the bytes written.
    pub fn export_issue_file(&self, id: IssueId, path: &Path) -> Result<u64> {
        let bytes = self.export_issue(id)?;
        crate::files::write_atomically(path, &bytes)?;
        Ok(bytes.len() as u64)
    }

    /// Merges a document file written by [`Store::export_issue_file`] (or `patrol issue export`).
    /// A file larger than [`MAX_DOCUMENT_FILE_BYTES`] is refused unread.
    pub fn import_issue_file(&mut self, path: &Path) -> Result<MergeOutcome> {
        let io = |source| Error::Io { path: path.to_path_buf(), source };
        let size = std::fs::metadata(path).map_err(io)?.len();
        if size > MAX_DOCUMENT_FILE_BYTES {
            return Err(Error::BadDocument(format!(
                "{} is {size} bytes, more than an issue document may have ({MAX_DOCUMENT_FILE_BYTES}); choose the exported issue file",
                path.display()
            )));
        }
        let bytes = std::fs::read(path).map_err(io)?;
        self.import_issue(&bytes)
    }

    /// Merges changes from another device into the issue `id` (or, for a whole document or
    /// changes from its start, into whichever issue they hold when `id` is `None`), then folds
    /// and rewrites the projection, all in one transaction. Nothing is written when the bytes
    /// are not valid, need changes this store lacks, or belong to another issue.
    pub fn apply_issue_changes(&mut self, id: Option<IssueId>, bytes: &[u8]) -> Result<MergeOutcome> {
        if bytes.is_empty() {
            return Err(Error::BadDocument("no changes given (the input is empty)".into()));
        }
        // Parse on its own first: garbage fails here; changes that build on earlier ones fail
        // only with MissingDeps, which is fine when we have those earlier ones.
        let standalone = match Automerge::load_with_options(
            bytes,
            LoadOptions::new().on_partial_load(OnPartialLoad::Error).verification_mode(VerificationMode::Check),
        ) {
            Ok(d) => Some(d),
            Err(AutomergeError::MissingDeps) => None,
            Err(e) => return Err(incoming(e)),
        };
        let claimed = match &standalone {
            Some(d) => Some(doc::read(d)?.id),
            None => None,
        };
        let id = match (id, claimed) {
            (Some(want), Some(got)) if want != got => {
                return Err(Error::BadDocument(format!("these changes belong to issue {got}, not {want}")));
            }
            (_, Some(got)) => got,
            (Some(want), None) => want,
            (None, None) => {
                return Err(Error::BadDocument(
                    "these changes build on earlier ones and name no issue; apply them to a known issue".into(),
                ));
            }
        };
        let me = self.require_device()?;
        let now = self.clock.now_ms();
        let catalog = load_catalog(&self.conn)?;
        let tx = self.conn.transaction()?;
        let (mut stored, new) = match persist::load(&tx, id)? {
            Some(mut s) => {
                s.doc.load_incremental(bytes).map_err(incoming)?;
                (s, false)
            }
            None => match standalone {
                Some(d) => (persist::insert(&tx, id, &d, false)?, true),
                None => return Err(Error::UnknownIssue(id)),
            },
        };
        let missing = stored.doc.get_missing_deps(&[]);
        if !missing.is_empty() {
            return Err(Error::BadDocument(format!(
                "these changes depend on {} change(s) this device does not have; fetch the issue whole",
                missing.len()
            )));
        }
        let merged = doc::read(&stored.doc)?;
        if merged.id != id {
            return Err(Error::BadDocument(format!("after merging, the document says it is issue {}, not {id}", merged.id)));
        }
        let changed = persist::persist(&tx, &mut stored, false)? || new;
        let mut hlc = HlcClock::load(&tx, &me.actor_id)?;
        if let Some(latest) = merged.latest_stamp() {
            hlc.observe(latest, now);
            hlc.save(&tx)?;
        }
        let view = refresh(&tx, &stored, &catalog, now)?;
        crate::points::on_issue_state(&tx, &me, &view, now)?;
        tx.commit()?;
        Ok(MergeOutcome { id, new, changed, status: view.status, heads: view.heads })
    }

    /// Issues whose document changed after `cursor` (local edits and merges, or with
    /// `local_only` only this device's own edits), oldest change first, at most `limit`.
    pub fn issues_changed_since(&self, cursor: i64, local_only: bool, limit: u32) -> Result<Vec<ChangedIssue>> {
        let sql = if local_only {
            "SELECT id, local_seq, heads FROM issue_doc WHERE local_seq > ?1 ORDER BY local_seq LIMIT ?2"
        } else {
            "SELECT id, change_seq, heads FROM issue_doc WHERE change_seq > ?1 ORDER BY change_seq LIMIT ?2"
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map(rusqlite::params![cursor, limit], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, Vec<u8>>(2)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, seq, heads) = row?;
            let heads = persist::blob_to_heads(&heads)?.iter().map(|h| h.to_string()).collect();
            out.push(ChangedIssue { id: id.parse()?, seq, heads });
        }
        Ok(out)
    }
}
