//! Where the shared real data lives (`../shared/data` beside the repository: device GPX tracks,
//! OpenStreetMap extracts, the national list of subdistricts), and the one policy for tests that
//! need it when it is absent: outside CI they print a SKIP line and pass; under CI (`CI` set to
//! anything but empty, `0` or `false`, as `.ci/run`'s runner sets `CI=true`) they fail, so a
//! CI run without the data cannot pass by skipping.
//!
//! `PATROL_SHARED_DATA=DIR` points the tests at another copy (or, to check this policy, at a
//! folder that does not exist).
//!
//! This file depends on nothing but std: `patrol_tests` re-exports it, and crates that
//! `patrol-tests` depends on (`patrol-server`) include it with `#[path]` instead of a dependency.

use std::path::PathBuf;

/// `../shared/data` beside the repository, or `$PATROL_SHARED_DATA` when set; `None` when that
/// folder does not exist. Says nothing: see [`shared_data`] for what a test should call.
pub fn shared_data_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PATROL_SHARED_DATA") {
        let dir = PathBuf::from(dir);
        return dir.is_dir().then_some(dir);
    }
    // CARGO_MANIFEST_DIR is a member's folder (tests/, server/, cli/): the repository is its parent.
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    dir.is_dir().then(|| dir.canonicalize().unwrap_or(dir))
}

/// Whether this is a CI run: `CI` set to anything but empty, `0` or `false`.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false" | "FALSE" | "False"))
}

/// The shared data subfolder `name` (`gpx`, `osm`, `names`). When it is absent: under CI, panics
/// (the test fails with what is missing); otherwise prints `SKIP: ...` and returns `None`, and the
/// test returns early.
pub fn shared_data(name: &str) -> Option<PathBuf> {
    if let Some(dir) = shared_data_dir()
        .map(|d| d.join(name))
        .filter(|d| d.is_dir())
    {
        return Some(dir);
    }
    let wanted = match std::env::var_os("PATROL_SHARED_DATA") {
        Some(dir) => format!(
            "{}/{name} (PATROL_SHARED_DATA)",
            PathBuf::from(dir).display()
        ),
        None => format!("../shared/data/{name}"),
    };
    if in_ci() {
        panic!(
            "{wanted} is not present, and CI must not skip the tests that need the shared real \
             data: put the shared folder beside the repository (or set PATROL_SHARED_DATA)"
        );
    }
    eprintln!("SKIP: {wanted} is not present; this test needs the shared real data");
    None
}
