//! The comparison: the Automerge project's own JavaScript sync server
//! (`@automerge/automerge-repo-sync-server`) with Node clients (`@automerge/automerge-repo` and
//! `@automerge/automerge-repo-network-websocket`), pinned in `server/benches/js/package.json`
//! and installed by npm into `target/bench-js/`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::fixture::Fixture;
use crate::serverproc::{ServerProcess, free_addr};

fn sources() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/js")
}

pub fn install_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-js")
}

fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    if !out.status.success() {
        panic!(
            "{what} failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Node's version, or `None` when Node is not installed.
pub fn node_version() -> Option<String> {
    let out = Command::new("node").arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Copies the package files and scripts into `target/bench-js` and installs the pinned packages
/// (`npm ci` from the committed lock file) unless they are there already. When that cannot be
/// done (no npm, no registry, a lock file npm refuses) it says why, so the bench can report the
/// comparison as skipped and still print its own results.
pub fn ensure_installed() -> Result<PathBuf, String> {
    let dir = install_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut changed = false;
    for name in ["package.json", "package-lock.json", "load.mjs", "fetch.mjs"] {
        let src = std::fs::read(sources().join(name))
            .map_err(|e| format!("server/benches/js/{name}: {e}"))?;
        let dst = dir.join(name);
        if std::fs::read(&dst).ok().as_deref() != Some(src.as_slice()) {
            std::fs::write(&dst, &src).map_err(|e| format!("{}: {e}", dst.display()))?;
            changed |= name.starts_with("package");
        }
    }
    if changed
        || !dir
            .join("node_modules/@automerge/automerge-repo-sync-server")
            .is_dir()
    {
        println!("  js: npm ci in {} ...", dir.display());
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .output()
            .map_err(|e| format!("npm cannot be run ({e}); install Node.js with npm"))?;
        if !out.status.success() {
            // npm's own explanation is in its first error lines.
            let why: Vec<String> = String::from_utf8_lossy(&out.stderr)
                .lines()
                .filter(|l| !l.trim_end().ends_with("npm error"))
                .take(8)
                .map(str::to_owned)
                .collect();
            // Next time starts clean rather than from a half-installed folder.
            let _ = std::fs::remove_dir_all(dir.join("node_modules"));
            return Err(format!(
                "`npm ci` in {} failed ({}):\n     {}",
                dir.display(),
                out.status,
                why.join("\n     ")
            ));
        }
    }
    Ok(dir)
}

/// Starts the JavaScript sync server on a data folder, as its README runs it (`PORT`,
/// `DATA_DIR`), logging to `DIR.log`.
pub fn start_server(data: &Path) -> ServerProcess {
    let addr = free_addr();
    std::fs::create_dir_all(data).expect("js data dir");
    let mut cmd = Command::new("node");
    cmd.arg("node_modules/@automerge/automerge-repo-sync-server/src/index.js")
        .current_dir(install_dir())
        .env("PORT", addr.port().to_string())
        .env("DATA_DIR", data);
    ServerProcess::spawn(
        cmd,
        addr,
        &data.with_extension("log"),
        "/",
        "the JS sync server",
    )
}

/// The JS server's data folder holding the fixture's 10,000 documents and their URLs, loaded
/// once through a Node client and cached beside the fixture (minutes: the JS server's cost per
/// new document grows with the documents it holds).
pub fn ensure_loaded(fixture: &Fixture) -> (PathBuf, PathBuf) {
    let data = fixture.dir.join("js-data");
    let urls = fixture.dir.join("js-urls.json");
    if data.is_dir() && urls.is_file() {
        println!("  js: reusing the loaded JS server data {}", data.display());
        return (data, urls);
    }
    let building = fixture.dir.join("js-data.building");
    let _ = std::fs::remove_dir_all(&building);
    let server = start_server(&building);
    let t = Instant::now();
    let out = run(
        Command::new("node")
            .arg("load.mjs")
            .arg(format!("ws://{}", server.addr))
            .arg(fixture.docs_file())
            .arg(&building)
            .arg(&urls)
            .current_dir(install_dir())
            .stderr(Stdio::inherit()),
        "loading the documents into the JS sync server",
    );
    server.stop();
    println!(
        "  js: loaded the documents into the JS sync server in {:.0} s: {}",
        t.elapsed().as_secs_f64(),
        out.trim()
    );
    std::fs::rename(&building, &data).expect("move the JS data into place");
    (data, urls)
}

/// What one fresh Node client's fetch of every document took.
#[derive(Debug, Clone, Copy)]
pub struct Fetch {
    /// Inside the client: from creating the repo (connecting) to every document ready.
    pub ms: f64,
    /// The whole `node fetch.mjs` process, start-up included.
    pub process_ms: f64,
    pub ready: u64,
}

/// Documents a fetching client asks for at a time (see `fetch.mjs`).
pub const FETCH_CONCURRENCY: usize = 100;

pub fn fetch(ws_addr: SocketAddr, urls: &Path) -> Fetch {
    let t = Instant::now();
    let out = run(
        Command::new("node")
            .arg("fetch.mjs")
            .arg(format!("ws://{ws_addr}"))
            .arg(urls)
            .arg(FETCH_CONCURRENCY.to_string())
            .current_dir(install_dir()),
        "fetching the documents from the JS sync server",
    );
    let process_ms = t.elapsed().as_secs_f64() * 1e3;
    let v: serde_json::Value = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("fetch.mjs printed {out:?}: {e}"));
    let ready = v["ready"].as_u64().unwrap_or(0);
    let with_events = v["with_events"].as_u64().unwrap_or(0);
    assert_eq!(
        ready, with_events,
        "a fetched document lacks its events: {out}"
    );
    Fetch {
        ms: v["ms"].as_f64().unwrap_or(f64::NAN),
        process_ms,
        ready,
    }
}

/// Fetches every document with `parts` fresh clients one after another, each asking for its
/// share: the JS client's cost per document grows with the documents it holds (garbage
/// collection over a heap of 10,000 documents), so this is the most favourable way for the JS
/// side. Returns the summed in-client milliseconds.
pub fn fetch_split(ws_addr: SocketAddr, urls: &Path, parts: usize, scratch: &Path) -> Fetch {
    let all: Vec<String> =
        serde_json::from_slice(&std::fs::read(urls).expect("urls")).expect("a list of urls");
    let mut total = Fetch {
        ms: 0.0,
        process_ms: 0.0,
        ready: 0,
    };
    for (i, chunk) in all.chunks(all.len().div_ceil(parts)).enumerate() {
        let path = scratch.join(format!("urls-{i}.json"));
        std::fs::write(&path, serde_json::to_vec(chunk).expect("json")).expect("write urls");
        let f = fetch(ws_addr, &path);
        total.ms += f.ms;
        total.process_ms += f.process_ms;
        total.ready += f.ready;
    }
    total
}
