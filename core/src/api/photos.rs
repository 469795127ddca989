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
        self.keep_photo(new)
    }

    /// Keeps a photo whose bytes are here already (a download): checked whole like a file,
    /// written only sealed when the store is encrypted. `label` names it in errors.
    pub(crate) fn attach_photo_bytes(&mut self, label: &Path, bytes: Vec<u8>) -> Result<PhotoInfo> {
        let new = photos::check_photo_bytes(label, bytes, &self.config.photo_limits)?;
        self.keep_photo(new)
    }

    fn keep_photo(&mut self, new: photos::NewPhoto) -> Result<PhotoInfo> {
        if let Ok(existing) = self.photo(&new.sha256) {
            return Ok(PhotoInfo {
                already_stored: true,
                ..existing
            });
        }
        let dir = self.photos_dir()?;
        let key = self.keys.as_ref().map(|k| &k.photos);
        photos::store_photo(&self.conn, &dir, key, &new, self.clock.now_ms())?;
        Ok(PhotoInfo {
            already_stored: false,
            ..self.photo(&new.sha256)?
        })
    }

    /// A stored photo's details.
    pub fn photo(&self, sha256: &str) -> Result<PhotoInfo> {
        photos::photo(&self.conn, self.photos_dir().ok().as_deref(), sha256)
    }

    /// A stored photo original's bytes (its file opened when the store is encrypted), checked
    /// against its recorded size.
    pub fn photo_bytes(&self, sha256: &str) -> Result<Vec<u8>> {
        let info = self.photo(sha256)?;
        photos::photo_bytes(&info, self.keys.as_ref().map(|k| &k.photos))
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
