//! What a photo is to the model: its id (the SHA-256 of its bytes) and the size of the
//! thumbnail documents carry. The photo store itself (files, EXIF, thumbnails) is the phone's.

/// Longest side of a thumbnail, in pixels.
pub const THUMBNAIL_MAX_PX: u32 = 320;

/// Whether `id` can be a photo's id: the SHA-256 of its bytes as 64 lowercase hex digits (ids
/// also become file names, so nothing else may pass).
pub fn is_photo_id(id: &str) -> bool {
    id.len() == 64
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// What a photo may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoLimits {
    pub max_bytes: u64,
    /// Width times height.
    pub max_pixels: u64,
    pub max_side_px: u32,
}

impl Default for PhotoLimits {
    fn default() -> Self {
        // A 50-megapixel phone camera fits; a decompression bomb does not.
        Self {
            max_bytes: 25 * 1024 * 1024,
            max_pixels: 64_000_000,
            max_side_px: 16_384,
        }
    }
}
