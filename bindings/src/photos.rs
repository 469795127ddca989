//! Photos: attaching a photo file to the store's content-addressed photo folder (off the caller's
//! thread: it is read, checked, hashed, decoded for a thumbnail and written sealed with the
//! store's photo key through a synced rename), and reading back what the store knows of a
//! photo, its thumbnail and its original. The files are sealed, so an app reads a photo through
//! `photo_bytes`, never from the folder.

use crate::error::PatrolError;
use crate::store::PatrolStore;

/// A photo in this store.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PhotoInfo {
    /// The content's SHA-256 (hex): how issues, pickups and sync name the photo.
    pub sha256: String,
    /// `image/jpeg` or `image/png` (by content, whatever the file was called).
    pub mime: String,
    pub size_bytes: u64,
    pub width: u32,
    pub height: u32,
    /// When the camera says it was taken (EXIF; Beijing time unless the photo has an offset).
    pub taken_at_ms: Option<i64>,
    /// EXIF GPS position, WGS-84.
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// EXIF orientation 1-8 (already applied to the thumbnail).
    pub orientation: Option<u16>,
    pub thumbnail_bytes: u64,
    /// It was already in the store (the same content attached before).
    pub already_stored: bool,
}

impl From<patrol_core::photos::PhotoInfo> for PhotoInfo {
    fn from(p: patrol_core::photos::PhotoInfo) -> Self {
        PhotoInfo {
            sha256: p.sha256,
            mime: p.mime,
            size_bytes: p.size_bytes,
            width: p.width,
            height: p.height,
            taken_at_ms: p.taken_at_ms,
            lat: p.lat,
            lon: p.lon,
            orientation: p.orientation,
            thumbnail_bytes: p.thumbnail_bytes,
            already_stored: p.already_stored,
        }
    }
}

#[uniffi::export]
impl PatrolStore {
    /// Copies the JPEG or PNG at `path` into the store's photo folder on a worker thread and
    /// returns what it holds; pass its `sha256` to `report_issue`, `resolve_issue` or
    /// `log_pickup`. A file that is not a JPEG or PNG, is empty, too large (25 MiB) or has too
    /// many pixels fails with `InvalidInput` and leaves no file; a missing one with `Io`.
    /// Attaching the same photo twice stores it once.
    pub async fn attach_photo(&self, path: String) -> Result<PhotoInfo, PatrolError> {
        self.in_background("photo attach", move |s| s.attach_photo(&path))
            .await
            .map(Into::into)
    }

    /// A stored photo's details, by SHA-256; `NotFound` when this store does not have it.
    pub fn photo(&self, sha256: String) -> Result<PhotoInfo, PatrolError> {
        self.with_store(|s| s.photo(&sha256)).map(Into::into)
    }

    /// A stored photo's original (JPEG or PNG bytes, as attached), opened on a worker thread;
    /// `NotFound` when this store does not have it, `Io` when its file is damaged.
    pub async fn photo_bytes(&self, sha256: String) -> Result<Vec<u8>, PatrolError> {
        self.in_background("photo read", move |s| s.photo_bytes(&sha256))
            .await
    }

    /// A stored photo's thumbnail: JPEG bytes, at most ~320 px a side. (Photos of issues from
    /// other devices: their thumbnails are in `IssueView.photos`.)
    pub fn photo_thumbnail(&self, sha256: String) -> Result<Vec<u8>, PatrolError> {
        self.with_store(|s| s.photo_thumbnail(&sha256))
    }
}
