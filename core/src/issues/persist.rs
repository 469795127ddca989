//! Issue documents in SQLite (`issue_doc`, `issue_chunk`): the shared document persistence of
//! [`crate::docs::persist`] (a compacted snapshot plus `save_after(heads)` chunks) bound to the
//! issue tables.

use automerge::{Automerge, ChangeHash};
use rusqlite::Connection;

use crate::docs::DocTables;
use crate::domain::IssueId;
use crate::error::Result;

pub(crate) use crate::docs::StoredDoc;
#[cfg(test)]
pub(crate) use crate::docs::persist::COMPACT_AFTER_CHUNKS;
pub(crate) use crate::docs::persist::blob_to_heads;

pub(crate) const ISSUES: DocTables = DocTables {
    docs: "issue_doc",
    chunks: "issue_chunk",
    what: "issue",
};

/// The row id and stored heads of an issue's document, without loading it.
pub(crate) fn stored_heads(
    conn: &Connection,
    id: IssueId,
) -> Result<Option<(i64, Vec<ChangeHash>)>> {
    ISSUES.stored_heads(conn, &id.to_string())
}

/// Loads an issue's document, or `None` if this store has never seen it.
pub(crate) fn load(conn: &Connection, id: IssueId) -> Result<Option<StoredDoc>> {
    ISSUES.load(conn, &id.to_string())
}

/// Stores a document this store has not seen, `snapshot` being its bytes.
pub(crate) fn insert(
    conn: &Connection,
    id: IssueId,
    doc: Automerge,
    snapshot: &[u8],
    local: bool,
) -> Result<StoredDoc> {
    ISSUES.insert(conn, &id.to_string(), doc, snapshot, local)
}

/// Writes what changed since the stored heads as one chunk (or compacts); false when nothing did.
pub(crate) fn persist(conn: &Connection, stored: &mut StoredDoc, local: bool) -> Result<bool> {
    ISSUES.persist(conn, stored, local)
}
