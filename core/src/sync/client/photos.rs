//! Uploading one photo original: resumable from where the server stands with this device's
//! upload, counted as stored only when the server says the photo is complete (it verifies the
//! hash first), and bounded: repeated conflicts meet growing, jittered waits and, after
//! [`MAX_CONFLICTS`], the photo is set aside for this sync instead of looping.

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};

use super::{SyncClient, error_body, server_error};
use crate::error::Result;

/// Chunk size of photo uploads: small enough to resume cheaply on a poor connection.
const PHOTO_CHUNK: usize = 512 * 1024;

/// Conflicts (409) one photo may meet in one sync before it is set aside.
pub(super) const MAX_CONFLICTS: u32 = 4;

/// How one photo's upload ended (network failures end the sync as errors instead).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum PhotoUpload {
    /// The server holds it, verified.
    Stored,
    /// The server does not take it from this user (403): not declared, or its item is not there
    /// yet.
    NotYours(String),
    /// Refused or given up, with the reason.
    SetAside(String),
}

fn header<T: std::str::FromStr>(headers: &HeaderMap, name: &str) -> Option<T> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

fn complete(headers: &HeaderMap) -> bool {
    headers.get("blob-complete").is_some_and(|v| v == "true")
}

/// Where this device's upload stands on the server: `None` when the photo is stored, else the
/// offset to send from (0 unless the server holds part of an upload of exactly this length).
async fn resume_point(client: &mut SyncClient, path: &str, len: usize) -> Result<Option<usize>> {
    let (status, headers, _) = client.exchange(Method::HEAD, path, Vec::new(), &[]).await?;
    if status != StatusCode::OK {
        return Ok(Some(0));
    }
    if complete(&headers) {
        return Ok(None);
    }
    let offset: usize = header(&headers, "upload-offset").unwrap_or(0);
    let length: Option<usize> = header(&headers, "upload-length");
    Ok(Some(if length == Some(len) && offset < len {
        offset
    } else {
        0
    }))
}

/// Uploads one photo from where the server stands (it may have part of it from an earlier try).
pub(super) async fn upload_photo(
    client: &mut SyncClient,
    sha: &str,
    file: &std::path::Path,
    size: u64,
) -> Result<PhotoUpload> {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            return Ok(PhotoUpload::SetAside(format!(
                "the original {} cannot be read: {e}",
                file.display()
            )));
        }
    };
    if bytes.len() as u64 != size {
        return Ok(PhotoUpload::SetAside(format!(
            "the original on this device is {} bytes, not {size}",
            bytes.len()
        )));
    }
    let path = format!("/v1/blobs/{sha}");
    let len = bytes.len();
    let Some(mut offset) = resume_point(client, &path, len).await? else {
        return Ok(PhotoUpload::Stored);
    };
    let mut conflicts = 0u32;
    loop {
        let end = (offset + PHOTO_CHUNK).min(len);
        let headers = [
            ("upload-offset", offset.to_string()),
            ("upload-length", len.to_string()),
        ];
        let (status, answer, body) = client
            .exchange(Method::PATCH, &path, bytes[offset..end].to_vec(), &headers)
            .await?;
        let conflict = match status {
            s if s.is_success() => {
                if complete(&answer) {
                    return Ok(PhotoUpload::Stored);
                }
                let next = header(&answer, "upload-offset").unwrap_or(end);
                if next > offset && next < len {
                    offset = next;
                    continue;
                }
                // Taken, yet not complete and not further on: out of step with the server.
                format!("the server took bytes {offset}..{end} but stands at {next} of {len}")
            }
            StatusCode::CONFLICT => error_body(status, &body).1,
            StatusCode::FORBIDDEN => return Ok(PhotoUpload::NotYours(error_body(status, &body).1)),
            s if matches!(s.as_u16(), 400 | 404 | 413 | 422) => {
                return Ok(PhotoUpload::SetAside(error_body(status, &body).1));
            }
            _ => return Err(server_error(status, &body)),
        };
        conflicts += 1;
        if conflicts >= MAX_CONFLICTS {
            return Ok(PhotoUpload::SetAside(format!(
                "gave up after {conflicts} conflicts in this sync (tried again at the next): {conflict}"
            )));
        }
        let wait = client.backoff(conflicts);
        tokio::time::sleep(wait).await;
        match resume_point(client, &path, len).await? {
            None => return Ok(PhotoUpload::Stored),
            Some(o) => offset = o,
        }
    }
}
