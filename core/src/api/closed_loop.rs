//! The closed loop on this device ([`crate::closed_loop`]): each action on an issue, and each
//! issue merged in from elsewhere, together with the points it earns, in one transaction.

use std::path::Path;

use crate::closed_loop;
use crate::domain::{IssueEventKind, IssueId, PhotoStage};
use crate::error::Result;
use crate::issues::storage::Writer;
use crate::issues::sync::{MergeOutcome, read_document_file};
use crate::issues::{Assignee, EventPayload, IssueState, IssueView, PhotoRef};
use crate::store::Store;

impl Store {
    /// Assigns the issue to a department or a person. It replaces the assignments this device
    /// knows of; one made elsewhere at the same time stays beside it as a conflict.
    pub fn assign_issue(
        &mut self,
        id: IssueId,
        to: Assignee,
        note: Option<String>,
    ) -> Result<IssueView> {
        self.act(id, IssueEventKind::Assign, None, |state| {
            Ok(EventPayload {
                to: Some(to),
                replaces: state.assignments.iter().map(|a| a.event).collect(),
                note,
                ..Default::default()
            })
        })
    }

    /// The assignee hands the issue back, with a reason.
    pub fn return_issue(&mut self, id: IssueId, reason: &str) -> Result<IssueView> {
        let reason = Some(reason.trim().to_owned());
        self.act(id, IssueEventKind::Return, None, |_| {
            Ok(EventPayload {
                reason,
                ..Default::default()
            })
        })
    }

    /// The assignee takes the issue on.
    pub fn accept_issue(&mut self, id: IssueId) -> Result<IssueView> {
        self.act(id, IssueEventKind::Accept, None, |_| {
            Ok(EventPayload::default())
        })
    }

    /// The assignee reports the fix with an after-photo (already in the photo store, by hash).
    /// `taken_at` is where the photo was taken when it carries no GPS of its own.
    pub fn resolve_issue(
        &mut self,
        id: IssueId,
        photo_sha256: &str,
        taken_at: Option<(f64, f64)>,
        note: Option<String>,
    ) -> Result<IssueView> {
        let me = self.require_device()?;
        let photo = self.photo_ref(photo_sha256, PhotoStage::After, &me, taken_at)?;
        let sha = photo.sha256.clone();
        self.act(id, IssueEventKind::Resolve, Some(photo), |_| {
            Ok(EventPayload {
                photo: Some(sha),
                note,
                ..Default::default()
            })
        })
    }

    /// The chief or the reporter confirms the fix.
    pub fn verify_issue(&mut self, id: IssueId, note: Option<String>) -> Result<IssueView> {
        self.act(id, IssueEventKind::Verify, None, |_| {
            Ok(EventPayload {
                note,
                ..Default::default()
            })
        })
    }

    /// Opens a closed issue again (a new round), with a reason.
    pub fn reopen_issue(&mut self, id: IssueId, reason: &str) -> Result<IssueView> {
        let reason = Some(reason.trim().to_owned());
        self.act(id, IssueEventKind::Reopen, None, |_| {
            Ok(EventPayload {
                reason,
                ..Default::default()
            })
        })
    }

    /// Marks the issue as the same problem as `original`.
    pub fn mark_duplicate(&mut self, id: IssueId, original: IssueId) -> Result<IssueView> {
        self.act(id, IssueEventKind::DuplicateOf, None, |_| {
            Ok(EventPayload {
                duplicate_of: Some(original),
                ..Default::default()
            })
        })
    }

    /// Withdraws the issue, with a reason.
    pub fn cancel_issue(&mut self, id: IssueId, reason: &str) -> Result<IssueView> {
        let reason = Some(reason.trim().to_owned());
        self.act(id, IssueEventKind::Cancel, None, |_| {
            Ok(EventPayload {
                reason,
                ..Default::default()
            })
        })
    }

    /// Merges a whole exported document (see [`Store::export_issue`]).
    pub fn import_issue(&mut self, bytes: &[u8]) -> Result<MergeOutcome> {
        self.apply_issue_changes(None, bytes)
    }

    /// Merges several whole exported documents in one transaction: all of them or, when one is
    /// not valid, none (the error names which).
    pub fn import_issues<'a>(
        &mut self,
        documents: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Vec<MergeOutcome>> {
        let mut merge = self.issue_merge()?;
        let tx = self.conn.transaction()?;
        let out = closed_loop::merge_all(&tx, &mut merge, documents)?;
        merge.finish(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Merges a document file written by [`Store::export_issue_file`] (or `patrol issue export`).
    /// A file larger than [`crate::issues::sync::MAX_DOCUMENT_FILE_BYTES`] is refused unread.
    pub fn import_issue_file(&mut self, path: &Path) -> Result<MergeOutcome> {
        let bytes = read_document_file(path)?;
        self.import_issue(&bytes)
    }

    /// Merges changes from another device into the issue `id` (or, for a whole document or
    /// changes from its start, into whichever issue they hold when `id` is `None`), then folds
    /// and rewrites the projection, all in one transaction. Nothing is written when the bytes
    /// are not valid, need changes this store lacks, or belong to another issue.
    pub fn apply_issue_changes(
        &mut self,
        id: Option<IssueId>,
        bytes: &[u8],
    ) -> Result<MergeOutcome> {
        let mut merge = self.issue_merge()?;
        let tx = self.conn.transaction()?;
        let outcome = closed_loop::merge(&tx, &mut merge, id, bytes)?;
        merge.finish(&tx)?;
        tx.commit()?;
        Ok(outcome)
    }

    /// Appends one event as this device's user and credits the points it earns, in one
    /// transaction (see [`closed_loop::act`]).
    fn act(
        &mut self,
        id: IssueId,
        kind: IssueEventKind,
        photo: Option<PhotoRef>,
        payload: impl FnOnce(&IssueState) -> Result<EventPayload>,
    ) -> Result<IssueView> {
        let me = self.require_device()?;
        let now = self.clock.now_ms();
        let catalog = self.issue_catalog()?;
        let w = Writer {
            me: &me,
            catalog: &catalog,
            now_ms: now,
        };
        let tx = self.conn.transaction()?;
        let view = closed_loop::act(&tx, &w, id, kind, photo, payload)?;
        tx.commit()?;
        Ok(view)
    }
}
