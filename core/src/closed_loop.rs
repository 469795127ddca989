//! The closed loop (发现, 分派, 处置, 反馈) on this device: each action on an issue, and each
//! issue merged in from elsewhere, together with the points it earns, in one transaction.
//!
//! The issue layer ([`crate::issues`]) appends the event or merges the document and returns what
//! happened to the issue (an [`IssueTransition`]); this layer, above both issues and points,
//! credits the reporter of a verified issue ([`crate::points::credit_issue_transition`]).

use rusqlite::Transaction;

use crate::domain::{IssueEventKind, IssueId};
use crate::error::{Error, Result};
use crate::issues::storage::{self, Writer};
use crate::issues::sync::{IssueMerge, MergeOutcome};
use crate::issues::{EventPayload, IssueState, IssueView, PhotoRef};
use crate::points::credit_issue_transition;

/// Appends one event as `w.me` (see [`crate::issues::storage::append_event`]) and credits the
/// points the transition earns, inside the caller's transaction: an error from either undoes
/// both.
pub(crate) fn act(
    tx: &Transaction<'_>,
    w: &Writer<'_>,
    id: IssueId,
    kind: IssueEventKind,
    photo: Option<PhotoRef>,
    payload: impl FnOnce(&IssueState) -> Result<EventPayload>,
) -> Result<IssueView> {
    let (view, transition) = storage::append_event(tx, w, id, kind, photo, payload)?;
    credit_issue_transition(tx, w.me, &transition)?;
    Ok(view)
}

/// Merges changes from another device into issue `id` (or whichever issue they hold) and
/// credits the points the merge earns, inside the caller's transaction.
pub(crate) fn merge(
    tx: &Transaction<'_>,
    merge: &mut IssueMerge,
    id: Option<IssueId>,
    bytes: &[u8],
) -> Result<MergeOutcome> {
    let (outcome, transition) = merge.apply(tx, id, bytes)?;
    credit_issue_transition(tx, merge.me(), &transition)?;
    Ok(outcome)
}

/// Merges several whole documents and credits what they earn, inside the caller's
/// transaction: when one is not valid the error names which, and the caller rolls back.
pub(crate) fn merge_all<'a>(
    tx: &Transaction<'_>,
    merge: &mut IssueMerge,
    documents: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<MergeOutcome>> {
    let mut out = Vec::new();
    for (i, bytes) in documents.into_iter().enumerate() {
        match self::merge(tx, merge, None, bytes) {
            Ok(o) => out.push(o),
            Err(Error::BadDocument(why)) => {
                return Err(Error::BadDocument(format!(
                    "document {} of the batch: {why}; nothing was imported",
                    i + 1
                )));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}
