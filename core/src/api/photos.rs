//! The photo store ([`crate::photos`]).

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::photos::{self, PhotoInfo};
use crate::store::Store;

impl Store {
    /// The folder photos are kept in.
    pub fn photos_dir(&self) -> Result<PathBuf> {
        photos::photos_dir(self.config.photos_dir.as_deref(), self.path())
    }

    /// Copies the photo at `path` into the photo store and returns what it holds.
    pub fn attach_photo(&mut self, path: impl AsRef<Path>) -> Result<PhotoInfo> {
        let new = photos::check_photo(path.as_ref(), &self.config.photo_limits)?;
        if let Ok(existing) = self.photo(&new.sha256) {
            return Ok(PhotoInfo {
                already_stored: true,
                ..existing
            });
        }
        let dir = self.photos_dir()?;
        photos::store_photo(&self.conn, &dir, &new, self.clock.now_ms())?;
        Ok(PhotoInfo {
            already_stored: false,
            ..self.photo(&new.sha256)?
        })
    }

    /// A stored photo's details.
    pub fn photo(&self, sha256: &str) -> Result<PhotoInfo> {
        photos::photo(&self.conn, self.photos_dir().ok().as_deref(), sha256)
    }

    /// A stored photo's thumbnail (JPEG bytes).
    pub fn photo_thumbnail(&self, sha256: &str) -> Result<Vec<u8>> {
        photos::photo_thumbnail(&self.conn, sha256)
    }

    /// A photo given as a file path (added to the store first) or as the hash of a stored one.
    pub fn photo_by_path_or_hash(&mut self, path_or_sha: &str) -> Result<PhotoInfo> {
        if photos::looks_like_hash(path_or_sha) {
            return self.photo(path_or_sha);
        }
        self.attach_photo(path_or_sha)
    }
}
