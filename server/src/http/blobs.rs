//! Photos and other blobs, content-addressed by SHA-256, uploaded resumably:
//! `HEAD` tells how much of a blob the server has (`Upload-Offset`), `PATCH` appends a chunk at
//! that offset, and the last chunk is verified against the hash before the blob counts as
//! stored. A blob the server already has is never uploaded again. `GET` downloads it.
//!
//! Photos belong to what holds them ([`crate::blob_access`]): only a device that may read an item
//! referring to a photo may fetch it (others get 404, as for a photo not stored), and only its
//! declaring user's devices may upload it. Each device's upload in progress is its own, so no
//! other device can disturb it; only bytes that hash to the name are ever stored.

use std::io::Write;
use std::path::PathBuf;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use patrol_model::DeviceId;
use patrol_model::wire::{MAX_BLOB_BYTES, MAX_BLOB_CHUNK_BYTES};
use sha2::{Digest, Sha256};

use super::auth::AuthDevice;
use super::error::{ApiError, ApiResult};
use super::{AppState, Metrics, blocking};
use crate::blob_access;
use crate::storage::{BlobRow, DeviceRow, Storage, Tx};
use crate::sync::device_ctx;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/v1/blobs/{hash}",
        get(download)
            .head(status)
            .patch(append)
            .layer(DefaultBodyLimit::max(MAX_BLOB_CHUNK_BYTES)),
    )
}

/// Only 64 lowercase hex digits: a hash is also a file name, so nothing else may pass.
fn check_hash(hash: &str) -> ApiResult<()> {
    if patrol_model::photos::is_photo_id(hash) {
        Ok(())
    } else {
        Err(ApiError::BadRequest(
            "a blob id is the SHA-256 of its bytes: 64 lowercase hex digits".into(),
        ))
    }
}

fn final_path(dir: &std::path::Path, hash: &str) -> PathBuf {
    crate::blob_access::blob_file(dir, hash)
}

fn partial_path(dir: &std::path::Path, hash: &str, device: &DeviceId) -> PathBuf {
    dir.join("partial").join(format!("{hash}.{device}"))
}

fn header_u64(headers: &HeaderMap, name: &str) -> ApiResult<u64> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| {
            ApiError::BadRequest(format!("header {name} (a number of bytes) is required"))
        })
}

fn offset_headers(row: &BlobRow) -> [(&'static str, HeaderValue); 3] {
    [
        ("upload-offset", HeaderValue::from(row.received)),
        ("upload-length", HeaderValue::from(row.size)),
        (
            "blob-complete",
            HeaderValue::from_static(if row.complete { "true" } else { "false" }),
        ),
    ]
}

/// `HEAD`: to a device that may read the photo, whether it is stored; to its declaring user's
/// devices, also how much of their own upload the server has. To anyone else, 404.
async fn status(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
    Path(hash): Path<String>,
) -> ApiResult<Response> {
    check_hash(&hash)?;
    let storage = state.storage.clone();
    let row = blocking(move || {
        let mut tx = storage.read()?;
        let ctx = device_ctx(tx.as_mut(), &device)?;
        let stored = tx.blob(&hash)?.filter(|b| b.complete);
        if let Some(b) = &stored
            && blob_access::may_read(tx.as_mut(), &ctx, &hash, b.uploaded_by.as_ref())?
        {
            return Ok(Some(b.clone()));
        }
        if blob_access::declarations(tx.as_mut(), &ctx.user.id, &hash)?.is_empty() {
            return Ok(None);
        }
        // Stored by this user's upload: done. Stored by someone else's: this device learns
        // nothing of it and sees only its own upload (it proves it holds the bytes by sending them).
        match stored {
            Some(b) if b.uploaded_by == Some(ctx.user.id) => Ok(Some(b)),
            _ => Ok(tx.blob_upload(&hash, &device.id)?),
        }
    })
    .await?;
    match row {
        None => Ok(StatusCode::NOT_FOUND.into_response()),
        Some(row) => Ok((StatusCode::OK, offset_headers(&row)).into_response()),
    }
}

/// `PATCH`: a chunk of this device's upload of a photo its user declared.
async fn append(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
    Path(hash): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    check_hash(&hash)?;
    let offset = header_u64(&headers, "upload-offset")?;
    let length = header_u64(&headers, "upload-length")?;
    if length == 0 || length > MAX_BLOB_BYTES {
        return Err(ApiError::PayloadTooLarge(format!(
            "a blob must be 1 to {MAX_BLOB_BYTES} bytes; this one says {length}"
        )));
    }
    let (storage, dir, now) = (
        state.storage.clone(),
        state.blobs_dir.clone(),
        state.now_ms(),
    );
    let chunk = body.len() as u64;
    let device_id = device.id;
    let upload = Chunk {
        hash,
        offset,
        length,
        bytes: body,
    };
    let row = blocking(move || append_chunk(storage.as_ref(), &dir, &device, &upload, now)).await?;
    Metrics::add(&state.metrics.blob_bytes_received, chunk);
    tracing::debug!(device = %device_id, blob = %row.hash, received = row.received, "blob chunk");
    let status = if row.complete {
        StatusCode::CREATED
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, offset_headers(&row)).into_response())
}

/// One `PATCH` of an upload: the blob's hash, where the chunk goes, the whole blob's length.
struct Chunk {
    hash: String,
    offset: u64,
    length: u64,
    bytes: Bytes,
}

/// Appends a chunk to this device's upload in one write transaction (which doubles as the lock
/// that keeps two requests for one blob apart); the last chunk is verified against the hash and
/// the blob stored. Returns the upload's row as it now stands.
fn append_chunk(
    storage: &dyn Storage,
    dir: &std::path::Path,
    device: &DeviceRow,
    c: &Chunk,
    now: i64,
) -> ApiResult<BlobRow> {
    let hash = &c.hash;
    let mut tx = storage.write()?;
    blob_access::check_upload(tx.as_mut(), &device.user.id, hash, c.length)?;
    let partial = partial_path(dir, hash, &device.id);
    if let Some(done) = tx
        .blob(hash)?
        .filter(|b| b.complete && b.uploaded_by == Some(device.user.id))
    {
        // Stored already by this user (and verified): an upload in progress is moot.
        if tx.blob_upload(hash, &device.id)?.is_some() {
            tx.delete_blob_upload(hash, &device.id)?;
            tx.commit()?;
            let _ = std::fs::remove_file(&partial);
        }
        return Ok(done);
    }
    let mut up = upload_to_resume(tx.as_mut(), device, c)?;
    write_chunk(&partial, c)?;
    up.received = c.offset + c.bytes.len() as u64;
    if up.received < c.length {
        tx.put_blob_upload(&device.id, &up, now)?;
        tx.commit()?;
        return Ok(up);
    }
    let bytes = std::fs::read(&partial).map_err(anyhow::Error::from)?;
    let actual = hex::encode(Sha256::digest(&bytes));
    tx.delete_blob_upload(hash, &device.id)?;
    if actual != *hash {
        tx.commit()?;
        let _ = std::fs::remove_file(&partial);
        return Err(ApiError::Unprocessable(format!(
            "blob {hash}: the bytes hash to {actual}; the upload was discarded, send it again"
        )));
    }
    if let Some(stored) = tx.blob(hash)?.filter(|b| b.complete) {
        // Someone else's upload stored the same bytes: this one proved it holds them; the
        // photo and its uploader stay as they are.
        tx.commit()?;
        let _ = std::fs::remove_file(&partial);
        return Ok(BlobRow {
            received: stored.size,
            ..stored
        });
    }
    let dest = final_path(dir, hash);
    std::fs::create_dir_all(dest.parent().expect("blob dir")).map_err(anyhow::Error::from)?;
    std::fs::rename(&partial, &dest).map_err(anyhow::Error::from)?;
    up.complete = true;
    up.uploaded_by = Some(device.user.id);
    tx.put_blob(&up, now)?;
    tx.commit()?;
    Ok(up)
}

/// This device's upload of the blob that the chunk continues: a new one, or the one in progress
/// (restarted when a chunk at offset 0 gives another length); refused when the chunk is not at
/// the offset the server has or runs past the length.
fn upload_to_resume(tx: &mut dyn Tx, device: &DeviceRow, c: &Chunk) -> ApiResult<BlobRow> {
    let (hash, length, offset) = (&c.hash, c.length, c.offset);
    let up = match tx.blob_upload(hash, &device.id)? {
        Some(u) if u.size == length => u,
        // Started with another length: starting again from zero replaces it.
        Some(u) if offset == 0 => BlobRow {
            size: length,
            received: 0,
            ..u
        },
        Some(u) => {
            return Err(ApiError::Conflict(format!(
                "blob {hash}: this device's upload was started with length {}, not {length}; \
                 start again from offset 0",
                u.size
            )));
        }
        None => BlobRow {
            hash: hash.clone(),
            size: length,
            received: 0,
            complete: false,
            uploaded_by: None,
        },
    };
    if offset != up.received {
        return Err(ApiError::Conflict(format!(
            "blob {hash}: the server has {} bytes; send from there",
            up.received
        )));
    }
    if offset + c.bytes.len() as u64 > length {
        return Err(ApiError::BadRequest(format!(
            "blob {hash}: chunk runs past Upload-Length {length}"
        )));
    }
    Ok(up)
}

/// Writes the chunk at its offset in the partial file, durably.
fn write_chunk(partial: &std::path::Path, c: &Chunk) -> ApiResult<()> {
    std::fs::create_dir_all(partial.parent().expect("partial dir")).map_err(anyhow::Error::from)?;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(partial)
        .map_err(anyhow::Error::from)?;
    // A crash after an earlier append but before its row was saved leaves extra bytes: cut them.
    f.set_len(c.offset).map_err(anyhow::Error::from)?;
    f.write_all(&c.bytes).map_err(anyhow::Error::from)?;
    f.sync_data().map_err(anyhow::Error::from)?;
    Ok(())
}

/// `GET`: the photo, to a device that may read an item referring to it; 404 to anyone else, as
/// for a photo not stored, so whether it exists is not revealed.
async fn download(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
    Path(hash): Path<String>,
) -> ApiResult<Response> {
    check_hash(&hash)?;
    let (storage, dir) = (state.storage.clone(), state.blobs_dir.clone());
    let bytes = blocking(move || {
        let mut tx = storage.read()?;
        let ctx = device_ctx(tx.as_mut(), &device)?;
        let stored = tx.blob(&hash)?.filter(|r| r.complete);
        let readable = match &stored {
            Some(b) => blob_access::may_read(tx.as_mut(), &ctx, &hash, b.uploaded_by.as_ref())?,
            None => false,
        };
        if readable {
            drop(tx);
            Ok(std::fs::read(final_path(&dir, &hash)).map_err(anyhow::Error::from)?)
        } else {
            Err(ApiError::NotFound(format!(
                "blob {hash} is not stored here"
            )))
        }
    })
    .await?;
    Ok((
        [(header::CONTENT_TYPE, "application/octet-stream")],
        Body::from(bytes),
    )
        .into_response())
}
