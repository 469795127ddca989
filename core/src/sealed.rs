//! Files sealed at rest: a photo original of an encrypted store is kept as
//! `MAGIC | nonce (24 bytes) | XChaCha20-Poly1305(photo key, nonce, bytes, aad = its name)`.
//!
//! The photo key comes from the platform's secret store, apart from the database's key and from
//! the files. The name (the photo's SHA-256) is bound in as associated data, so a sealed file
//! renamed to another photo's name fails to open instead of showing the wrong picture. Files
//! without the magic are plain (a clear store's, or one not yet sealed); sealing a folder seals
//! them one by one, each whole or not at all, so an interrupted run is simply run again.

use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::error::{Error, Result};
use crate::secrets::Key;

/// The first bytes of a sealed file.
pub(crate) const MAGIC: &[u8; 8] = b"SPSEAL1\0";
const NONCE_BYTES: usize = 24;
/// What sealing adds to a file's length: the magic, the nonce and the tag.
pub(crate) const OVERHEAD: usize = MAGIC.len() + NONCE_BYTES + 16;

/// Whether `bytes` are a sealed file's.
pub(crate) fn is_sealed(bytes: &[u8]) -> bool {
    bytes.len() >= OVERHEAD && bytes.starts_with(MAGIC)
}

/// `plain` sealed under `key`, bound to `name`.
pub(crate) fn seal(key: &Key, name: &str, plain: &[u8]) -> Result<Vec<u8>> {
    let mut nonce = [0u8; NONCE_BYTES];
    getrandom::fill(&mut nonce)
        .map_err(|e| Error::SecretStore(format!("no random bytes to seal a file: {e}")))?;
    let cipher = XChaCha20Poly1305::new(key.bytes().into());
    let sealed = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plain,
                aad: name.as_bytes(),
            },
        )
        .map_err(|_| Error::InvalidInput(format!("{name} could not be sealed")))?;
    let mut out = Vec::with_capacity(OVERHEAD + plain.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// The plain bytes of a file read from `path` and named `name`: opened when sealed (with
/// `key`), as they are when plain.
pub(crate) fn open(key: Option<&Key>, name: &str, path: &Path, bytes: Vec<u8>) -> Result<Vec<u8>> {
    if !is_sealed(&bytes) {
        return Ok(bytes);
    }
    let damaged = || Error::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the sealed file does not open with this device's photo key (damaged, renamed, or from another device)",
        ),
    };
    let key = key.ok_or_else(damaged)?;
    let (nonce, body) = bytes[MAGIC.len()..].split_at(NONCE_BYTES);
    XChaCha20Poly1305::new(key.bytes().into())
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: name.as_bytes(),
            },
        )
        .map_err(|_| damaged())
}

/// Whether any file in the photo folder `dir` is sealed (its first bytes are the magic).
pub(crate) fn folder_has_sealed(dir: &Path) -> bool {
    use std::io::Read as _;
    let Ok(shards) = std::fs::read_dir(dir) else {
        return false;
    };
    shards
        .flatten()
        .filter_map(|shard| std::fs::read_dir(shard.path()).ok())
        .flat_map(|files| files.flatten())
        .any(|f| {
            let mut head = [0u8; MAGIC.len()];
            std::fs::File::open(f.path())
                .and_then(|mut file| file.read_exact(&mut head))
                .is_ok()
                && &head == MAGIC
        })
}

/// Seals every plain photo in the folder `dir` (`<2 hex>/<sha256>.<ext>`) in place, each through
/// a synced temporary file and a rename; removes temporary files an interrupted write left.
/// Returns how many it sealed. A missing folder has nothing to seal.
pub(crate) fn seal_photo_folder(dir: &Path, key: &Key) -> Result<u64> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| Error::Io { path: p, source }
    };
    let shards = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io(dir)(e)),
    };
    let mut sealed = 0;
    for shard in shards {
        let shard = shard.map_err(io(dir))?.path();
        if !shard.is_dir() {
            continue;
        }
        let files: Vec<PathBuf> = std::fs::read_dir(&shard)
            .map_err(io(&shard))?
            .map(|e| e.map(|e| e.path()))
            .collect::<std::io::Result<_>>()
            .map_err(io(&shard))?;
        for file in files {
            let Some(name) = file.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if name.starts_with(".incoming-") {
                let _ = std::fs::remove_file(&file);
                continue;
            }
            let Some(sha) = file.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            if !patrol_model::photos::is_photo_id(sha) {
                continue;
            }
            let bytes = std::fs::read(&file).map_err(io(&file))?;
            if is_sealed(&bytes) {
                continue;
            }
            crate::files::write_atomically(&file, &seal(key, sha, &bytes)?)?;
            sealed += 1;
        }
    }
    Ok(sealed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "ab00000000000000000000000000000000000000000000000000000000000001";

    #[test]
    fn seal_then_open_and_refuse_the_wrong_key_or_name() {
        let key = Key([1; 32]);
        let plain = b"\xff\xd8 a photo".to_vec();
        let sealed = seal(&key, SHA, &plain).unwrap();
        assert!(is_sealed(&sealed));
        assert_eq!(sealed.len(), plain.len() + OVERHEAD);
        assert!(
            !sealed.windows(plain.len()).any(|w| w == plain),
            "no plain bytes"
        );
        let p = Path::new("x.jpg");
        assert_eq!(open(Some(&key), SHA, p, sealed.clone()).unwrap(), plain);
        assert!(open(Some(&Key([2; 32])), SHA, p, sealed.clone()).is_err());
        assert!(open(Some(&key), &SHA.replace('1', "2"), p, sealed.clone()).is_err());
        assert!(open(None, SHA, p, sealed).is_err());
        assert_eq!(
            open(None, SHA, p, plain.clone()).unwrap(),
            plain,
            "plain stays plain"
        );
    }

    #[test]
    fn sealing_a_folder_is_idempotent_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let key = Key([3; 32]);
        let shard = dir.path().join("ab");
        std::fs::create_dir_all(&shard).unwrap();
        let file = shard.join(format!("{SHA}.jpg"));
        std::fs::write(&file, b"plain photo").unwrap();
        std::fs::write(shard.join(".incoming-1"), b"half").unwrap();
        std::fs::write(shard.join("notes.txt"), b"left alone").unwrap();
        assert_eq!(seal_photo_folder(dir.path(), &key).unwrap(), 1);
        assert_eq!(seal_photo_folder(dir.path(), &key).unwrap(), 0);
        let bytes = std::fs::read(&file).unwrap();
        assert_eq!(open(Some(&key), SHA, &file, bytes).unwrap(), b"plain photo");
        assert!(!shard.join(".incoming-1").exists());
        assert_eq!(
            std::fs::read(shard.join("notes.txt")).unwrap(),
            b"left alone"
        );
        assert_eq!(
            seal_photo_folder(&dir.path().join("none"), &key).unwrap(),
            0
        );
    }
}
