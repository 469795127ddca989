//! GPS tracks read from the files people pick on this device. The processing itself (filtering,
//! metrics, the stationary detector, GPX / PLT parsing and writing) is [`patrol_model::track`].

use std::path::Path;

pub use patrol_model::track::*;

use crate::error::{Error, Result};

/// Reads the file at `path` from disk and parses it with [`read_track_file`]: what an import of a
/// file the user picked does first. Fails with [`Error::Io`] naming the path when the file
/// cannot be read.
pub fn load_track_file(path: &Path, now_ms: i64) -> Result<ParsedTrack> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(read_track_file(path, &bytes, now_ms)?)
}
