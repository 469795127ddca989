//! Documents in SQLite: a compacted snapshot plus the incremental chunks written since, each
//! chunk being `save_after(heads)` of one edit or merge (never a full save per edit). After
//! [`COMPACT_AFTER_CHUNKS`] chunks the document is saved whole again and the chunks go.
//! Documents are loaded one at a time, when an edit or a detail view needs them; lists read a
//! projection instead.
//!
//! Each kind of document has its own pair of tables with the same layout ([`DocTables`]):
//! `<kind>_doc (row_id, id, snapshot, heads, chunk_count, change_seq, local_seq)` and
//! `<kind>_chunk (doc_row, seq, bytes)`. `change_seq` and `local_seq` are the cursors sync
//! uses to find what moved.

use automerge::{
    Automerge, AutomergeError, ChangeHash, LoadOptions, OnPartialLoad, ReadDoc, VerificationMode,
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Error, Result};

/// Chunks kept before the document is compacted into a new snapshot.
pub const COMPACT_AFTER_CHUNKS: i64 = 16;

/// The two tables one kind of document lives in, and what to call it in messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DocTables {
    pub docs: &'static str,
    pub chunks: &'static str,
    pub what: &'static str,
}

/// A document as loaded, with what the database holds of it.
pub(crate) struct StoredDoc {
    pub row: i64,
    pub doc: Automerge,
    /// The heads the database has (the last chunk written ends here).
    pub heads: Vec<ChangeHash>,
    pub chunk_count: i64,
}

pub(crate) fn heads_to_blob(heads: &[ChangeHash]) -> Vec<u8> {
    let mut sorted = heads.to_vec();
    sorted.sort();
    sorted.iter().flat_map(|h| h.0).collect()
}

pub(crate) fn blob_to_heads(blob: &[u8]) -> Result<Vec<ChangeHash>> {
    if !blob.len().is_multiple_of(32) {
        return Err(Error::BadDocument(
            "stored heads are not a list of 32-byte hashes".into(),
        ));
    }
    Ok(blob
        .chunks_exact(32)
        .map(|c| {
            let mut h = [0u8; 32];
            h.copy_from_slice(c);
            ChangeHash(h)
        })
        .collect())
}

/// Incoming bytes (a whole document, or changes) loaded on their own with every hash checked:
/// `Some` when they hold a whole document (or every change from its start), `None` when they
/// build on changes the store must already have. Bytes that are not Automerge are an error.
pub(crate) fn load_standalone(
    bytes: &[u8],
) -> std::result::Result<Option<Automerge>, AutomergeError> {
    match Automerge::load_with_options(
        bytes,
        LoadOptions::new()
            .on_partial_load(OnPartialLoad::Error)
            .verification_mode(VerificationMode::Check),
    ) {
        Ok(d) => Ok(Some(d)),
        Err(AutomergeError::MissingDeps) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The document incoming changes go to: the one the caller names (`want`) and the one a whole
/// document says it is (`got`) must agree, and one of them must be known. `what` names the kind.
pub(crate) fn incoming_target<T: PartialEq + std::fmt::Display + Copy>(
    want: Option<T>,
    got: Option<T>,
    what: &str,
) -> Result<T> {
    match (want, got) {
        (Some(want), Some(got)) if want != got => Err(Error::BadDocument(format!(
            "these changes belong to {what} {got}, not {want}"
        ))),
        (_, Some(got)) => Ok(got),
        (Some(want), None) => Ok(want),
        (None, None) => Err(Error::BadDocument(format!(
            "these changes build on earlier ones and name no {what}; apply them to a known {what}"
        ))),
    }
}

/// Refuses a merged document that still waits for changes this store lacks.
pub(crate) fn require_complete(doc: &Automerge, what: &str) -> Result<()> {
    let missing = doc.get_missing_deps(&[]);
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::BadDocument(format!(
        "these changes depend on {} change(s) this device does not have; fetch the {what} whole",
        missing.len()
    )))
}

impl DocTables {
    /// The row id and stored heads of a document, without loading it.
    pub fn stored_heads(
        &self,
        conn: &Connection,
        id: &str,
    ) -> Result<Option<(i64, Vec<ChangeHash>)>> {
        let row: Option<(i64, Vec<u8>)> = conn
            .prepare_cached(&format!(
                "SELECT row_id, heads FROM {} WHERE id = ?1",
                self.docs
            ))?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(r, h)| Ok((r, blob_to_heads(&h)?))).transpose()
    }

    /// Loads a document (snapshot, then its chunks in order), or `None` if this store has never
    /// seen it.
    pub fn load(&self, conn: &Connection, id: &str) -> Result<Option<StoredDoc>> {
        let row: Option<(i64, Vec<u8>, Vec<u8>, i64)> = conn
            .prepare_cached(&format!(
                "SELECT row_id, snapshot, heads, chunk_count FROM {} WHERE id = ?1",
                self.docs
            ))?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        let Some((row, snapshot, heads, chunk_count)) = row else {
            return Ok(None);
        };
        let what = self.what;
        let damaged = |e: automerge::AutomergeError| {
            Error::BadDocument(format!("stored {what} {id} cannot be loaded: {e}"))
        };
        // Our own storage, written after checks: skip re-hashing the heads on every load.
        let mut doc = Automerge::load_with_options(
            &snapshot,
            LoadOptions::new().verification_mode(VerificationMode::DontCheck),
        )
        .map_err(damaged)?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT bytes FROM {} WHERE doc_row = ?1 ORDER BY seq",
            self.chunks
        ))?;
        let mut rows = stmt.query([row])?;
        while let Some(r) = rows.next()? {
            let bytes: Vec<u8> = r.get(0)?;
            doc.load_incremental(&bytes).map_err(damaged)?;
        }
        Ok(Some(StoredDoc {
            row,
            doc,
            heads: blob_to_heads(&heads)?,
            chunk_count,
        }))
    }

    /// Changes of a document by `actor` (hex) that a peer with `heads` lacks, one change's
    /// bytes each: what a device uploads (its own changes only). `None` when the store does not
    /// hold the document.
    pub fn own_changes_since(
        &self,
        conn: &Connection,
        id: &str,
        heads: &[ChangeHash],
        actor: &str,
    ) -> Result<Option<Vec<Vec<u8>>>> {
        let Some(stored) = self.load(conn, id)? else {
            return Ok(None);
        };
        Ok(Some(
            stored
                .doc
                .get_changes(heads)
                .into_iter()
                .filter(|c| c.actor_id().to_hex_string() == actor)
                .map(|c| c.raw_bytes().to_vec())
                .collect(),
        ))
    }

    /// Documents edited on this device (`local_seq`) after `cursor`, oldest first: (id, seq).
    pub fn edited_since(&self, conn: &Connection, cursor: i64) -> Result<Vec<(String, i64)>> {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT id, local_seq FROM {} WHERE local_seq > ?1 ORDER BY local_seq",
            self.docs
        ))?;
        let rows = stmt.query_map([cursor], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The next value of the store-wide change cursor of this kind.
    fn next_change_seq(&self, conn: &Connection) -> Result<i64> {
        Ok(conn
            .prepare_cached(&format!(
                "SELECT COALESCE(MAX(change_seq), 0) + 1 FROM {}",
                self.docs
            ))?
            .query_row([], |r| r.get(0))?)
    }

    /// Stores a document this store has not seen, with `snapshot` as its bytes: a `save()` of
    /// it, or the bytes it was loaded from (a document that came whole from another device is
    /// stored as it came, not compressed a second time).
    pub fn insert(
        &self,
        conn: &Connection,
        id: &str,
        doc: Automerge,
        snapshot: &[u8],
        local: bool,
    ) -> Result<StoredDoc> {
        let seq = self.next_change_seq(conn)?;
        let heads = doc.get_heads();
        conn.prepare_cached(&format!(
            "INSERT INTO {} (id, snapshot, heads, chunk_count, change_seq, local_seq) VALUES (?1, ?2, ?3, 0, ?4, ?5)",
            self.docs
        ))?
        .execute(params![id, snapshot, heads_to_blob(&heads), seq, if local { seq } else { 0 }])?;
        Ok(StoredDoc {
            row: conn.last_insert_rowid(),
            doc,
            heads,
            chunk_count: 0,
        })
    }

    /// Writes what changed in `stored.doc` since the stored heads as one chunk (or compacts);
    /// returns false when nothing changed.
    pub fn persist(&self, conn: &Connection, stored: &mut StoredDoc, local: bool) -> Result<bool> {
        let mut heads = stored.doc.get_heads();
        heads.sort();
        let mut old = stored.heads.clone();
        old.sort();
        if heads == old {
            return Ok(false);
        }
        let seq = self.next_change_seq(conn)?;
        if stored.chunk_count + 1 >= COMPACT_AFTER_CHUNKS {
            conn.execute(
                &format!("DELETE FROM {} WHERE doc_row = ?1", self.chunks),
                [stored.row],
            )?;
            conn.execute(
                &format!(
                    "UPDATE {} SET snapshot = ?2, chunk_count = 0 WHERE row_id = ?1",
                    self.docs
                ),
                params![stored.row, stored.doc.save()],
            )?;
            stored.chunk_count = 0;
        } else {
            let bytes = stored.doc.save_after(&stored.heads);
            conn.prepare_cached(&format!(
                "INSERT INTO {c} (doc_row, seq, bytes)
                 VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM {c} WHERE doc_row = ?1), ?2)",
                c = self.chunks
            ))?
            .execute(params![stored.row, bytes])?;
            stored.chunk_count += 1;
            conn.prepare_cached(&format!(
                "UPDATE {} SET chunk_count = ?2 WHERE row_id = ?1",
                self.docs
            ))?
            .execute(params![stored.row, stored.chunk_count])?;
        }
        conn.prepare_cached(&format!(
            "UPDATE {} SET heads = ?2, change_seq = ?3, local_seq = CASE WHEN ?4 THEN ?3 ELSE local_seq END
              WHERE row_id = ?1",
            self.docs
        ))?
        .execute(params![stored.row, heads_to_blob(&heads), seq, local])?;
        stored.heads = heads;
        Ok(true)
    }
}
