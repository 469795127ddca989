//! Writing files whole or not at all: a crash or a full disk never leaves half a photo or half an
//! exported document where a whole one is expected. The bytes go to a temporary file in the
//! target's folder, are synced, and the file is renamed over the target (atomic on one file
//! system).

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// Writes `bytes` to `target` through a synced temporary file and a rename, creating the folder
/// if needed. On failure the temporary file is removed and `target` is as it was.
pub(crate) fn write_atomically(target: &Path, bytes: &[u8]) -> Result<()> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| Error::Io { path: p, source }
    };
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let tmp = parent.join(format!(".incoming-{}", uuid::Uuid::now_v7().simple()));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, target)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(target)(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_replaces_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("sub/doc.bin");
        write_atomically(&target, b"first").unwrap();
        write_atomically(&target, b"second, longer").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"second, longer");
        let names: Vec<_> = std::fs::read_dir(target.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from("doc.bin")],
            "no temporary file left"
        );
        // A target that is a folder cannot be replaced: an Io error naming it, no temporary file.
        let err = write_atomically(dir.path().join("sub").as_path(), b"x").unwrap_err();
        assert!(
            matches!(&err, Error::Io { path, .. } if path.ends_with("sub")),
            "{err:?}"
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
