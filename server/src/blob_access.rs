//! Photos belong to the documents and records that hold them. A device may read a photo only if
//! it may receive an item referring to it (decided exactly as the change feed decides, by
//! [`crate::sync::visible`]) in which the photo's uploader declared it; it may upload one only if
//! its user declared that photo: added it to an issue (with its size), to a merchant inspection,
//! or to their own litter pickup, in an item the server already holds.

use automerge::Automerge;
use patrol_model::UserId;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::policy::DeviceCtx;
use crate::storage::Tx;
use crate::sync_error::{SyncError, SyncResult};

/// Whether the device may read the stored photo: some item referring to it is on its feed, and
/// in that item the photo was declared by the user whose upload stored it (so declaring someone
/// else's photo in an item of one's own does not open it). `uploaded_by` is `None` for photos
/// stored before uploaders were kept: then any referring item counts.
pub fn may_read(
    tx: &mut dyn Tx,
    ctx: &DeviceCtx,
    hash: &str,
    uploaded_by: Option<&UserId>,
) -> SyncResult<bool> {
    for (kind, id) in tx.blob_refs(hash)? {
        let Some(row) = tx.feed_row(&kind, &id)? else {
            continue;
        };
        if !crate::sync::visible(ctx, &row) {
            continue;
        }
        match uploaded_by {
            None => return Ok(true),
            Some(u) => {
                if !declared_in(tx, &kind, &id, u, hash)?.is_empty() {
                    return Ok(true);
                }
            }
        }
    }
    Ok(false)
}

/// One place a user declared a photo.
#[derive(Debug, Clone, PartialEq)]
pub struct Declaration {
    /// Where, for messages: `issue 0190…`, `merchant 0190…`, `pickup 0190…`.
    pub item: String,
    /// The size the declaration gives (issues do; inspections and pickups do not).
    pub size: Option<u64>,
}

/// Where `user` declared the photo, in the items the server holds.
pub fn declarations(tx: &mut dyn Tx, user: &UserId, hash: &str) -> SyncResult<Vec<Declaration>> {
    let mut out = Vec::new();
    for (kind, id) in tx.blob_refs(hash)? {
        // An item the administrator holds declares nothing until it is released.
        if tx.quarantined(&kind, &id)?.is_some() {
            continue;
        }
        out.extend(declared_in(tx, &kind, &id, user, hash)?);
    }
    Ok(out)
}

/// Where `user` declared the photo in one item (by its feed kind and id).
fn declared_in(
    tx: &mut dyn Tx,
    kind: &str,
    id: &str,
    user: &UserId,
    hash: &str,
) -> SyncResult<Vec<Declaration>> {
    let mut out = Vec::new();
    match kind {
        "doc:issue" | "doc:merchant" => {
            let Some(row) = tx.doc(id)? else {
                return Ok(out);
            };
            let doc = Automerge::load(&row.data).map_err(|e| {
                SyncError::Internal(anyhow::anyhow!("stored doc {id} unreadable: {e}"))
            })?;
            if kind == "doc:issue" {
                let Ok(issue) = patrol_model::issues::doc::read(&doc) else {
                    return Ok(out);
                };
                for p in issue.photos.iter().filter(|p| p.sha256 == hash) {
                    if p.added_by == *user {
                        out.push(Declaration {
                            item: format!("issue {id}"),
                            size: Some(p.size_bytes),
                        });
                    }
                }
            } else {
                let Ok(merchant) = patrol_model::merchants::doc::read(&doc) else {
                    return Ok(out);
                };
                let mine = merchant
                    .inspections
                    .iter()
                    .any(|i| i.by == *user && i.photos.iter().any(|p| p == hash));
                if mine {
                    out.push(Declaration {
                        item: format!("merchant {id}"),
                        size: None,
                    });
                }
            }
        }
        "record:pickup" => {
            if let Some(r) = tx.record("pickup", id)?
                && r.user_id == *user
            {
                out.push(Declaration {
                    item: format!("pickup {id}"),
                    size: None,
                });
            }
        }
        _ => {}
    }
    Ok(out)
}

/// Checks that `user` may upload the photo as `length` bytes: refused (403) when they declared it
/// nowhere, and (409) when every declaration that gives a size gives another one.
pub fn check_upload(
    tx: &mut dyn Tx,
    user: &UserId,
    hash: &str,
    length: u64,
) -> SyncResult<Vec<Declaration>> {
    let decls = declarations(tx, user, hash)?;
    if decls.is_empty() {
        return Err(SyncError::NotAllowed(format!(
            "photo {hash}: only the person who added it to an issue, a merchant inspection or their \
             own litter pickup may upload it, once the server holds that item; this device's user \
             has not"
        )));
    }
    if !decls.iter().any(|d| d.size.is_none_or(|s| s == length)) {
        let d = &decls[0];
        return Err(SyncError::Conflict(format!(
            "photo {hash} is declared as {} bytes in {}; Upload-Length says {length}",
            d.size.unwrap_or_default(),
            d.item
        )));
    }
    Ok(decls)
}

/// Where a stored photo's bytes are: `<blobs>/<hash[..2]>/<hash>` (`hash` checked by the caller
/// to be a photo id, so it is a plain file name).
pub fn blob_file(dir: &Path, hash: &str) -> PathBuf {
    dir.join(&hash[..2]).join(hash)
}

/// Writes a photo's bytes whole or not at all: to a temporary name beside it, synced, then
/// renamed into place.
pub fn write_blob_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let parent = path
        .parent()
        .ok_or_else(|| std::io::Error::other("a blob path has a folder"))?;
    std::fs::create_dir_all(parent)?;
    // A name of its own: two writers of the same photo never share a temporary file.
    let tmp = path.with_extension(format!("tmp{:016x}", rand::random::<u64>()));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}
