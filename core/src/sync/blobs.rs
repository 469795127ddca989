//! Photo originals in sync: this device's photos the server lacks go up (resumably, verified by
//! hash on arrival); originals of photos other people attached come down. Both are bulk, so
//! they wait for wifi unless the policy allows cellular. Documents carry thumbnails, so a photo
//! can be shown before its original arrives.

use std::path::PathBuf;

use rusqlite::params;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::store::Store;

impl Store {
    /// Photos stored here that the server is not known to have: (sha256, file, size).
    pub(crate) fn photos_to_upload(&self) -> Result<Vec<(String, PathBuf, u64)>> {
        let shas: Vec<String> = {
            let mut stmt = self.conn.prepare(
                "SELECT p.sha256 FROM photo p
                  WHERE NOT EXISTS (SELECT 1 FROM sync_blob b WHERE b.sha256 = p.sha256 AND b.on_server = 1)
                  ORDER BY p.stored_at_ms",
            )?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        let mut out = Vec::new();
        for sha in shas {
            let info = self.photo(&sha)?;
            out.push((sha, info.path, info.size_bytes));
        }
        Ok(out)
    }

    pub(crate) fn mark_blob_on_server(&mut self, sha: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO sync_blob (sha256, on_server) VALUES (?1, 1) ON CONFLICT (sha256) DO UPDATE SET on_server = 1",
            [sha],
        )?;
        // Set aside by an earlier sync, stored now: no longer anything to show.
        self.conn.execute(
            "DELETE FROM sync_rejected WHERE kind = 'photo' AND id = ?1",
            [sha],
        )?;
        Ok(())
    }

    /// Originals wanted here (a document refers to them) that are not here yet.
    pub(crate) fn wanted_photos(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare(
            "SELECT b.sha256 FROM sync_blob b WHERE b.wanted = 1
                AND NOT EXISTS (SELECT 1 FROM photo p WHERE p.sha256 = b.sha256) ORDER BY b.sha256",
        )?;
        Ok(stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Stores a downloaded original after checking it is the photo it was asked as.
    pub(crate) fn store_downloaded_photo(&mut self, sha: &str, bytes: &[u8]) -> Result<()> {
        let actual = crate::photos::hex(&Sha256::digest(bytes));
        if actual != sha {
            return Err(Error::Protocol(format!(
                "photo {sha} arrived as different bytes ({actual}); it will be fetched again"
            )));
        }
        let dir = self.photos_dir()?;
        std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?;
        let tmp = dir.join(format!(".incoming-{sha}"));
        std::fs::write(&tmp, bytes).map_err(|source| Error::Io {
            path: tmp.clone(),
            source,
        })?;
        let stored = self.attach_photo(&tmp);
        let _ = std::fs::remove_file(&tmp);
        stored?;
        self.conn.execute(
            "UPDATE sync_blob SET wanted = 0, on_server = 1 WHERE sha256 = ?1",
            params![sha],
        )?;
        Ok(())
    }
}
