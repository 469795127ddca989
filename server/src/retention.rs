//! What the server keeps only as long as it needs it. A resident's contact phone is kept while
//! their problem is in the loop, for following it up; when the loop ends (verified, cancelled, a
//! duplicate) it is erased, in the transaction that ended it, and at every start for issues that
//! ended before (docs/privacy.md).

use crate::storage::{AuditRow, Storage, StorageError, Tx};

/// Erases the contact phone of the resident's report `issue_id` came from, its loop having
/// ended, and records it in the audit log; inside the caller's transaction.
pub fn erase_contact_of_closed(
    tx: &mut dyn Tx,
    issue_id: &str,
    now_ms: i64,
) -> Result<bool, StorageError> {
    let erased = tx.erase_contact_phone(issue_id)?;
    if erased {
        tx.put_audit(&AuditRow {
            seq: 0,
            at_ms: now_ms,
            user_id: None,
            action: "public.erase_contact".into(),
            target: Some(issue_id.to_owned()),
            detail: "the issue's loop ended: the resident's contact phone is no longer needed"
                .into(),
            address: None,
        })?;
    }
    Ok(erased)
}

/// Erases the contact phones still held for issues whose loop has ended (ones that ended
/// before the server erased them as they closed); run when the server starts. Returns how many.
pub fn erase_contacts_of_closed_issues(
    storage: &dyn Storage,
    now_ms: i64,
) -> anyhow::Result<usize> {
    let mut tx = storage.write()?;
    let held: Vec<String> = tx
        .public_reports(0, usize::MAX)?
        .into_iter()
        .filter(|r| r.contact_phone.is_some())
        .map(|r| r.issue_id)
        .collect();
    let mut erased = 0;
    for id in held {
        let Some(doc) = tx.doc(&id)? else { continue };
        let closed = automerge::Automerge::load(&doc.data)
            .ok()
            .and_then(|d| patrol_model::issues::doc::read(&d).ok())
            .is_some_and(|issue| {
                crate::policy::is_closed(patrol_model::issues::workflow::fold(&issue).status)
            });
        if closed && erase_contact_of_closed(tx.as_mut(), &id, now_ms)? {
            erased += 1;
        }
    }
    tx.commit()?;
    Ok(erased)
}
