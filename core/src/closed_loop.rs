//! The closed loop (发现, 分派, 处置, 反馈) on this device: each action on an issue, and each
//! issue merged in from elsewhere, together with the points it earns, in one transaction.
//!
//! The issue layer ([`crate::issues`]) appends the event or merges the document and returns what
//! happened to the issue (an [`IssueTransition`]); this layer, above both issues and points,
//! credits the reporter of a verified issue ([`crate::points::credit_issue_transition`]).

use std::path::Path;

use crate::domain::{IssueEventKind, IssueId, PhotoStage};
use crate::error::{Error, Result};
use crate::issues::sync::{MAX_DOCUMENT_FILE_BYTES, MergeOutcome};
use crate::issues::{Assignee, EventPayload, IssueView};
use crate::points::credit_issue_transition;
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
        self.act_on_issue(
            id,
            IssueEventKind::Assign,
            None,
            |state| {
                Ok(EventPayload {
                    to: Some(to),
                    replaces: state.assignments.iter().map(|a| a.event).collect(),
                    note,
                    ..Default::default()
                })
            },
            credit_issue_transition,
        )
    }

    /// The assignee hands the issue back, with a reason.
    pub fn return_issue(&mut self, id: IssueId, reason: &str) -> Result<IssueView> {
        let reason = Some(reason.trim().to_owned());
        self.act_on_issue(
            id,
            IssueEventKind::Return,
            None,
            |_| {
                Ok(EventPayload {
                    reason,
                    ..Default::default()
                })
            },
            credit_issue_transition,
        )
    }

    /// The assignee takes the issue on.
    pub fn accept_issue(&mut self, id: IssueId) -> Result<IssueView> {
        self.act_on_issue(
            id,
            IssueEventKind::Accept,
            None,
            |_| Ok(EventPayload::default()),
            credit_issue_transition,
        )
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
        self.act_on_issue(
            id,
            IssueEventKind::Resolve,
            Some(photo),
            |_| {
                Ok(EventPayload {
                    photo: Some(sha),
                    note,
                    ..Default::default()
                })
            },
            credit_issue_transition,
        )
    }

    /// The chief or the reporter confirms the fix.
    pub fn verify_issue(&mut self, id: IssueId, note: Option<String>) -> Result<IssueView> {
        self.act_on_issue(
            id,
            IssueEventKind::Verify,
            None,
            |_| {
                Ok(EventPayload {
                    note,
                    ..Default::default()
                })
            },
            credit_issue_transition,
        )
    }

    /// Opens a closed issue again (a new round), with a reason.
    pub fn reopen_issue(&mut self, id: IssueId, reason: &str) -> Result<IssueView> {
        let reason = Some(reason.trim().to_owned());
        self.act_on_issue(
            id,
            IssueEventKind::Reopen,
            None,
            |_| {
                Ok(EventPayload {
                    reason,
                    ..Default::default()
                })
            },
            credit_issue_transition,
        )
    }

    /// Marks the issue as the same problem as `original`.
    pub fn mark_duplicate(&mut self, id: IssueId, original: IssueId) -> Result<IssueView> {
        self.act_on_issue(
            id,
            IssueEventKind::DuplicateOf,
            None,
            |_| {
                Ok(EventPayload {
                    duplicate_of: Some(original),
                    ..Default::default()
                })
            },
            credit_issue_transition,
        )
    }

    /// Withdraws the issue, with a reason.
    pub fn cancel_issue(&mut self, id: IssueId, reason: &str) -> Result<IssueView> {
        let reason = Some(reason.trim().to_owned());
        self.act_on_issue(
            id,
            IssueEventKind::Cancel,
            None,
            |_| {
                Ok(EventPayload {
                    reason,
                    ..Default::default()
                })
            },
            credit_issue_transition,
        )
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
        let mut out = Vec::new();
        for (i, bytes) in documents.into_iter().enumerate() {
            match merge.apply(&tx, None, bytes) {
                Ok((o, transition)) => {
                    credit_issue_transition(&tx, merge.me(), &transition)?;
                    out.push(o);
                }
                Err(Error::BadDocument(why)) => {
                    return Err(Error::BadDocument(format!(
                        "document {} of the batch: {why}; nothing was imported",
                        i + 1
                    )));
                }
                Err(e) => return Err(e),
            }
        }
        merge.finish(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Merges a document file written by [`Store::export_issue_file`] (or `patrol issue export`).
    /// A file larger than [`MAX_DOCUMENT_FILE_BYTES`] is refused unread.
    pub fn import_issue_file(&mut self, path: &Path) -> Result<MergeOutcome> {
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
        let bytes = std::fs::read(path).map_err(io)?;
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
        let (outcome, transition) = merge.apply(&tx, id, bytes)?;
        credit_issue_transition(&tx, merge.me(), &transition)?;
        merge.finish(&tx)?;
        tx.commit()?;
        Ok(outcome)
    }
}
