//! Photo originals in sync: this device's photos the server lacks go up (resumably, verified by
//! hash on arrival); originals of photos other people attached come down. Both are bulk, so
//! they wait for wifi unless the policy allows cellular. Documents carry thumbnails, so a photo
//! can be shown before its original arrives.

use rusqlite::{Connection, params};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Photos stored here that the server is not known to have, oldest first.
pub(crate) fn photos_not_on_server(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT p.sha256 FROM photo p
          WHERE NOT EXISTS (SELECT 1 FROM sync_blob b WHERE b.sha256 = p.sha256 AND b.on_server = 1)
          ORDER BY p.stored_at_ms",
    )?;
    Ok(stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

/// Records that the server has photo `sha`.
pub(crate) fn mark_blob_on_server(conn: &Connection, sha: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO sync_blob (sha256, on_server) VALUES (?1, 1) ON CONFLICT (sha256) DO UPDATE SET on_server = 1",
        [sha],
    )?;
    // Set aside by an earlier sync, stored now: no longer anything to show.
    conn.execute(
        "DELETE FROM sync_rejected WHERE kind = 'photo' AND id = ?1",
        [sha],
    )?;
    Ok(())
}

/// Originals wanted here (a document refers to them) that are not here yet.
pub(crate) fn wanted_photos(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT b.sha256 FROM sync_blob b WHERE b.wanted = 1
            AND NOT EXISTS (SELECT 1 FROM photo p WHERE p.sha256 = b.sha256) ORDER BY b.sha256",
    )?;
    Ok(stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

/// Refuses a downloaded original that is not the photo it was asked as.
pub(crate) fn check_download(sha: &str, bytes: &[u8]) -> Result<()> {
    let actual = crate::photos::hex(&Sha256::digest(bytes));
    if actual != sha {
        return Err(Error::Protocol(format!(
            "photo {sha} arrived as different bytes ({actual}); it will be fetched again"
        )));
    }
    Ok(())
}

/// Records that a downloaded original is stored here (and so on the server too).
pub(crate) fn mark_downloaded(conn: &Connection, sha: &str) -> Result<()> {
    conn.execute(
        "UPDATE sync_blob SET wanted = 0, on_server = 1 WHERE sha256 = ?1",
        params![sha],
    )?;
    Ok(())
}
