//! The audit log: every action taken through the office platform (signing in and out, failed
//! sign-ins, actions on issues, exports), with who, what, when and from where. Written in the
//! same transaction as the action it records, so an action and its entry land together.

use patrol_model::UserId;

use super::OfficeResult;
use crate::storage::{AuditRow, Tx};

/// Longest detail kept, in characters.
const MAX_DETAIL_CHARS: usize = 500;

/// Appends an entry.
pub fn record(
    tx: &mut dyn Tx,
    at_ms: i64,
    user: Option<&UserId>,
    action: &str,
    target: Option<&str>,
    detail: &str,
    address: Option<&str>,
) -> OfficeResult<i64> {
    let detail: String = detail.chars().take(MAX_DETAIL_CHARS).collect();
    Ok(tx.put_audit(&AuditRow {
        seq: 0,
        at_ms,
        user_id: user.copied(),
        action: action.to_owned(),
        target: target.map(str::to_owned),
        detail,
        address: address.map(str::to_owned),
    })?)
}

/// One page of the log, newest first, before `before_seq`.
pub fn page(tx: &mut dyn Tx, before_seq: Option<i64>, limit: usize) -> OfficeResult<Vec<AuditRow>> {
    Ok(tx.audit(before_seq, limit)?)
}
