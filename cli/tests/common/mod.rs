//! Running the real `patrol` binary from tests: JSON on stdout, clean errors on stderr.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// Runs `patrol --db DB ARGS...`.
pub fn patrol(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_patrol"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("run patrol")
}

/// The JSON a successful command printed.
pub fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// A failure with a clear message on stderr, a non-zero exit and no panic.
pub fn assert_clean_failure(out: &Output, needle: &str) {
    assert!(
        !out.status.success(),
        "should have failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// Opens a store the `patrol` command wrote, as it opens it: encrypted, the keys in
/// `<db>.secrets`.
#[allow(dead_code, reason = "not every test file opens a store itself")]
pub fn open_store(db: &Path) -> patrol_core::Store {
    let secrets = std::sync::Arc::new(patrol_core::secrets::FileSecretStore::beside(db));
    let config = patrol_core::StoreConfig {
        protection: patrol_core::Protection::Encrypted(secrets),
        ..patrol_core::StoreConfig::default()
    };
    patrol_core::Store::open(db, config).expect("open the CLI's store")
}
