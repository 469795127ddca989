//! Uploading one photo original: resumable from where the server stands with this device's
//! upload, counted as stored only when the server says the photo is complete (it verifies the
//! hash first), and bounded: repeated conflicts meet growing, jittered waits and, after
//! [`MAX_CONFLICTS`], the photo is set aside for this sync instead of looping.

use super::{SyncClient, error_body, server_error};
use crate::error::Result;
use crate::sync::transport::{HttpMethod as Method, HttpResponse};

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

fn header<T: std::str::FromStr>(answer: &HttpResponse, name: &str) -> Option<T> {
    answer.header(name).and_then(|v| v.trim().parse().ok())
}

fn complete(answer: &HttpResponse) -> bool {
    answer.header("blob-complete") == Some("true")
}

/// Where this device's upload stands on the server: `None` when the photo is stored, else the
/// offset to send from (0 unless the server holds part of an upload of exactly this length).
fn resume_point(client: &mut SyncClient<'_>, path: &str, len: usize) -> Result<Option<usize>> {
    let answer = client.exchange(Method::Head, path, Vec::new(), &[])?;
    if answer.status != 200 {
        return Ok(Some(0));
    }
    if complete(&answer) {
        return Ok(None);
    }
    let offset: usize = header(&answer, "upload-offset").unwrap_or(0);
    let length: Option<usize> = header(&answer, "upload-length");
    Ok(Some(if length == Some(len) && offset < len {
        offset
    } else {
        0
    }))
}

/// Uploads one photo from where the server stands (it may have part of it from an earlier try).
pub(super) fn upload_photo(
    client: &mut SyncClient<'_>,
    sha: &str,
    bytes: &[u8],
) -> Result<PhotoUpload> {
    let path = format!("/v1/blobs/{sha}");
    let len = bytes.len();
    let Some(mut offset) = resume_point(client, &path, len)? else {
        return Ok(PhotoUpload::Stored);
    };
    let mut conflicts = 0u32;
    loop {
        let end = (offset + PHOTO_CHUNK).min(len);
        let headers = [
            ("upload-offset", offset.to_string()),
            ("upload-length", len.to_string()),
        ];
        let answer =
            client.exchange(Method::Patch, &path, bytes[offset..end].to_vec(), &headers)?;
        let (status, body) = (answer.status, &answer.body);
        let conflict = match status {
            _ if answer.is_success() => {
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
            409 => error_body(status, body).1,
            403 => return Ok(PhotoUpload::NotYours(error_body(status, body).1)),
            400 | 404 | 413 | 422 => {
                return Ok(PhotoUpload::SetAside(error_body(status, body).1));
            }
            _ => return Err(server_error(status, body)),
        };
        conflicts += 1;
        if conflicts >= MAX_CONFLICTS {
            return Ok(PhotoUpload::SetAside(format!(
                "gave up after {conflicts} conflicts in this sync (tried again at the next): {conflict}"
            )));
        }
        let wait = client.backoff(conflicts);
        client.wait(wait)?;
        match resume_point(client, &path, len)? {
            None => return Ok(PhotoUpload::Stored),
            Some(o) => offset = o,
        }
    }
}
