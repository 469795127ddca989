//! Photos and other blobs, content-addressed by SHA-256, uploaded resumably:
//! `HEAD` tells how much of a blob the server has (`Upload-Offset`), `PATCH` appends a chunk at
//! that offset, and the last chunk is verified against the hash before the blob counts as
//! stored. A blob the server already has is never uploaded again. `GET` downloads it.

use std::io::Write;
use std::path::PathBuf;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use patrol_core::sync::wire::{MAX_BLOB_BYTES, MAX_BLOB_CHUNK_BYTES};
use sha2::{Digest, Sha256};

use super::auth::AuthDevice;
use super::error::{ApiError, ApiResult};
use super::{AppState, Metrics, blocking};
use crate::storage::BlobRow;

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
    if patrol_core::photos::is_photo_id(hash) {
        Ok(())
    } else {
        Err(ApiError::BadRequest(
            "a blob id is the SHA-256 of its bytes: 64 lowercase hex digits".into(),
        ))
    }
}

fn final_path(dir: &std::path::Path, hash: &str) -> PathBuf {
    dir.join(&hash[..2]).join(hash)
}

fn partial_path(dir: &std::path::Path, hash: &str) -> PathBuf {
    dir.join("partial").join(hash)
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

async fn status(
    State(state): State<AppState>,
    _auth: AuthDevice,
    Path(hash): Path<String>,
) -> ApiResult<Response> {
    check_hash(&hash)?;
    let storage = state.storage.clone();
    let row = blocking(move || Ok(storage.read()?.blob(&hash)?)).await?;
    match row {
        None => Ok(StatusCode::NOT_FOUND.into_response()),
        Some(row) => Ok((StatusCode::OK, offset_headers(&row)).into_response()),
    }
}

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
    let row = blocking(move || {
        // The write transaction doubles as the lock that keeps two uploads of one blob apart.
        let mut tx = storage.write()?;
        let mut row = tx.blob(&hash)?.unwrap_or(BlobRow { hash: hash.clone(), size: length, received: 0, complete: false });
        if row.complete {
            return Ok(row);
        }
        if row.size != length {
            return Err(ApiError::Conflict(format!("blob {hash} was started with length {}, not {length}", row.size)));
        }
        if offset != row.received {
            return Err(ApiError::Conflict(format!("blob {hash}: the server has {} bytes; send from there", row.received)));
        }
        if offset + chunk > length {
            return Err(ApiError::BadRequest(format!("blob {hash}: chunk runs past Upload-Length {length}")));
        }
        let partial = partial_path(&dir, &hash);
        std::fs::create_dir_all(partial.parent().expect("partial dir")).map_err(anyhow::Error::from)?;
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&partial).map_err(anyhow::Error::from)?;
        // A crash after an earlier append but before its row was saved leaves extra bytes: cut them.
        f.set_len(offset).map_err(anyhow::Error::from)?;
        f.write_all(&body).map_err(anyhow::Error::from)?;
        f.sync_data().map_err(anyhow::Error::from)?;
        row.received = offset + chunk;
        if row.received == length {
            let bytes = std::fs::read(&partial).map_err(anyhow::Error::from)?;
            let actual = hex::encode(Sha256::digest(&bytes));
            if actual != hash {
                let _ = std::fs::remove_file(&partial);
                tx.put_blob(&BlobRow { received: 0, ..row.clone() }, now)?;
                tx.commit()?;
                return Err(ApiError::Unprocessable(format!(
                    "blob {hash}: the bytes hash to {actual}; the upload was discarded, send it again"
                )));
            }
            let dest = final_path(&dir, &hash);
            std::fs::create_dir_all(dest.parent().expect("blob dir")).map_err(anyhow::Error::from)?;
            std::fs::rename(&partial, &dest).map_err(anyhow::Error::from)?;
            row.complete = true;
        }
        tx.put_blob(&row, now)?;
        tx.commit()?;
        Ok(row)
    })
    .await?;
    Metrics::add(&state.metrics.blob_bytes_received, chunk);
    tracing::debug!(device = %device.id, blob = %row.hash, received = row.received, "blob chunk");
    let status = if row.complete {
        StatusCode::CREATED
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, offset_headers(&row)).into_response())
}

async fn download(
    State(state): State<AppState>,
    _auth: AuthDevice,
    Path(hash): Path<String>,
) -> ApiResult<Response> {
    check_hash(&hash)?;
    let (storage, dir) = (state.storage.clone(), state.blobs_dir.clone());
    let bytes = blocking(move || {
        let row = storage.read()?.blob(&hash)?;
        match row {
            Some(r) if r.complete => {
                Ok(std::fs::read(final_path(&dir, &hash)).map_err(anyhow::Error::from)?)
            }
            _ => Err(ApiError::NotFound(format!(
                "blob {hash} is not stored here"
            ))),
        }
    })
    .await?;
    Ok((
        [(header::CONTENT_TYPE, "application/octet-stream")],
        Body::from(bytes),
    )
        .into_response())
}
