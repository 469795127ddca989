//! Real headless Chromium for the browser tests (`tests/tests/public_browser.rs`,
//! `tests/tests/office_browser.rs`): finding the tools, running one step of a driver script in
//! `tests/browser/` and reading back what it saw, and the checks every page gets.
//!
//! A driver script (`public.mjs`, `office.mjs`) is run with node once per step (its MODE); it
//! drives Chromium with npm playwright-core and prints what it saw as one JSON line, which the
//! Rust test asserts on. The tools:
//!   - Chromium at /usr/bin/chromium (Debian: `apt-get install chromium`; `PATROL_CHROMIUM`
//!     names another), and for the screenshots a CJK font and Chromium's own words in Chinese
//!     (Debian: `fonts-noto-cjk`, `chromium-l10n`);
//!   - node, and npm `playwright-core` at the version pinned in tests/browser/package.json,
//!     installed outside the repository:
//!     `npm install --prefix ~/.cache/streetpatrol/browser playwright-core@VERSION`
//!     (`$PATROL_TOOLS_DIR/browser` when set; `PATROL_BROWSER_MODULES` names another
//!     node_modules folder).
//!
//! `bash .ci/run` installs all of it. Without it a test prints SKIP, unless `CI` is set or
//! `PATROL_REQUIRE_BROWSER=1` (set by `.ci/run`), which make it fail.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

/// What the browser tests run with.
#[derive(Debug)]
pub struct Tools {
    pub chromium: PathBuf,
    pub modules: PathBuf,
}

/// The repository's root folder.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the repository")
        .to_path_buf()
}

/// Where the screenshots committed with the repository go: `docs/images/` (made when missing).
pub fn shots_dir() -> PathBuf {
    let shots = repo_root().join("docs/images");
    std::fs::create_dir_all(&shots).expect("docs/images");
    shots
}

/// The playwright-core version tests/browser/package.json pins.
pub fn pinned_playwright() -> String {
    let file = repo_root().join("tests/browser/package.json");
    let text = std::fs::read_to_string(&file).expect("tests/browser/package.json");
    let v: Value = serde_json::from_str(&text).expect("package.json is JSON");
    v["dependencies"]["playwright-core"]
        .as_str()
        .expect("playwright-core pinned")
        .to_owned()
}

/// Where `.ci/run` installs playwright-core: `$PATROL_TOOLS_DIR/browser/node_modules`, by default
/// under `~/.cache/streetpatrol`.
pub fn modules_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PATROL_BROWSER_MODULES") {
        return PathBuf::from(dir);
    }
    let tools = std::env::var_os("PATROL_TOOLS_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_CACHE_HOME").map(|c| PathBuf::from(c).join("streetpatrol"))
        })
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/streetpatrol")))
        .unwrap_or_else(|| PathBuf::from(".cache/streetpatrol"));
    tools.join("browser/node_modules")
}

/// The tools, or what is missing.
pub fn find_tools() -> Result<Tools, String> {
    let mut missing = Vec::new();
    let chromium = std::env::var_os("PATROL_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if !chromium.is_file() {
        missing.push(format!(
            "Chromium at {} (apt-get install chromium)",
            chromium.display()
        ));
    }
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        missing.push("node (apt-get install nodejs npm)".into());
    }
    let modules = modules_dir();
    let pinned = pinned_playwright();
    let package = modules.join("playwright-core/package.json");
    let installed = std::fs::read_to_string(&package)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v["version"].as_str().map(str::to_owned));
    match installed {
        Some(v) if v == pinned => {}
        found => missing.push(format!(
            "npm playwright-core {pinned} in {} ({}; npm install --prefix {} playwright-core@{pinned})",
            modules.display(),
            match found {
                Some(v) => format!("{v} is there"),
                None => "not there".into(),
            },
            modules.parent().unwrap_or(&modules).display(),
        )),
    }
    if missing.is_empty() {
        Ok(Tools { chromium, modules })
    } else {
        Err(missing.join("; "))
    }
}

/// The tools, or `None` after printing why the test skips. Under CI (`CI` set) or with
/// `PATROL_REQUIRE_BROWSER=1` (set by `.ci/run`) a missing tool fails the test instead.
pub fn tools_or_skip(test: &str) -> Option<Tools> {
    match find_tools() {
        Ok(t) => Some(t),
        Err(missing) => {
            let required = std::env::var("PATROL_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
            if required || crate::in_ci() {
                panic!(
                    "{test}: the browser test needs what is missing: {missing}. `bash .ci/run` installs it."
                );
            }
            eprintln!(
                "SKIP: {test} needs headless Chromium driven by playwright-core; missing: {missing}. `bash .ci/run` installs it."
            );
            None
        }
    }
}

/// `target/tmp` (what cargo names `CARGO_TARGET_TMPDIR` for integration tests), where a failed
/// step's screenshots go.
pub fn failure_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary");
    let target = exe
        .parent()
        .and_then(|d| d.parent())
        .and_then(|d| d.parent())
        .expect("the target folder");
    let dir = target.join("tmp");
    std::fs::create_dir_all(&dir).expect("target/tmp");
    dir
}

/// Runs one mode of the driver `tests/browser/{script}` and returns what it saw; fails the test
/// with the driver's output (and where the screenshots of its open pages went) when a step
/// failed.
pub fn browse(tools: &Tools, script: &str, mode: &str, mut args: Value) -> Value {
    let stem = script.trim_end_matches(".mjs");
    let fail_shot = failure_dir().join(format!("{stem}-browser-failed-{mode}.png"));
    args["fail_shot"] = json!(fail_shot);
    let started = std::time::Instant::now();
    let out = Command::new("node")
        .arg(repo_root().join("tests/browser").join(script))
        .arg(mode)
        .arg(args.to_string())
        .env("PATROL_BROWSER_MODULES", &tools.modules)
        .env("PATROL_CHROMIUM", &tools.chromium)
        .output()
        .expect("start node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprint!("{stderr}");
    let line = stdout.lines().rev().find(|l| !l.trim().is_empty());
    let seen: Option<Value> = line.and_then(|l| serde_json::from_str(l).ok());
    match seen {
        Some(v) if out.status.success() && v.get("error").is_none() => {
            eprintln!(
                "browser {stem} {mode}: {:.1} s",
                started.elapsed().as_secs_f64()
            );
            v
        }
        _ => panic!(
            "{script} {mode} failed ({}); screenshots of its pages: {}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
            out.status,
            fail_shot.display()
        ),
    }
}

/// Nothing was requested but from the server, and no page logged an error (a blocked script or
/// style, a failed load, an exception) but those `expected` names (a part of the message).
pub fn assert_only_the_server(seen: &Value, what: &str, expected: &[&str]) {
    assert_eq!(
        seen["foreign_requests"],
        json!([]),
        "{what}: requests to other hosts; all: {}",
        seen["requests"]
    );
    assert!(
        !seen["requests"].as_array().expect("requests").is_empty(),
        "{what}: no request seen at all"
    );
    let errors: Vec<&str> = seen["console_errors"]
        .as_array()
        .expect("console errors")
        .iter()
        .map(|e| str_of(e, "console error"))
        .filter(|e| !expected.iter().any(|x| e.contains(x)))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: the pages logged errors: {errors:#?}"
    );
}

/// `v` as a string, or a failure naming `what`.
pub fn str_of<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {v}"))
}

/// The PNG at `file`, with its width checked.
pub fn assert_png_width(file: &Path, width: u32) {
    let png = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    assert!(png.starts_with(b"\x89PNG"), "{} is a PNG", file.display());
    let img = image::load_from_memory(&png).expect("a PNG");
    assert_eq!(img.width(), width, "{}", file.display());
}
