//! The layers of ARCHITECTURE.md, checked: which crate may depend on which, what the model must
//! never pull in, and that the modules inside a crate form no cycle.
//!
//! The crate graph is read from `cargo metadata` (the resolved dependency graph, features and
//! all, so an optional dependency switched on by a feature is seen). The module graph is read
//! from the sources: every `crate::name` outside a comment is an arrow from the module the file
//! belongs to towards the top-level module `name`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// `cargo metadata` of the workspace, the lock file as it is.
fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

/// Package id -> (name, ids of its normal (not dev, not build) dependencies), from the resolve
/// graph.
fn normal_graph(meta: &Value) -> BTreeMap<String, (String, Vec<String>)> {
    let names: BTreeMap<&str, &str> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    meta["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            let id = n["id"].as_str().unwrap().to_owned();
            let deps = n["deps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| {
                    d["dep_kinds"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|k| k["kind"].is_null())
                })
                .map(|d| d["pkg"].as_str().unwrap().to_owned())
                .collect();
            (id.clone(), (names[id.as_str()].to_owned(), deps))
        })
        .collect()
}

/// Names of every package `name` depends on, directly or not, as a normal dependency.
fn normal_closure(meta: &Value, name: &str) -> BTreeSet<String> {
    let graph = normal_graph(meta);
    let start = graph
        .iter()
        .find(|(_, (n, _))| n == name)
        .unwrap_or_else(|| panic!("{name} is a workspace package"))
        .0
        .clone();
    let mut seen = BTreeSet::new();
    let mut todo = vec![start];
    let mut names = BTreeSet::new();
    while let Some(id) = todo.pop() {
        if !seen.insert(id.clone()) {
            continue;
        }
        let (n, deps) = &graph[&id];
        names.insert(n.clone());
        todo.extend(deps.iter().cloned());
    }
    names.remove(name);
    names
}

/// What the model must never depend on: storage, HTTP, an async runtime, pictures, workbooks.
const NOT_IN_THE_MODEL: &[&str] = &[
    "rusqlite",
    "libsqlite3-sys",
    "reqwest",
    "hyper",
    "tokio",
    "axum",
    "resvg",
    "rust_xlsxwriter",
    "image",
];

#[test]
fn the_model_depends_on_no_storage_network_or_runtime() {
    let deps = normal_closure(&metadata(), "patrol-model");
    let bad: Vec<_> = NOT_IN_THE_MODEL
        .iter()
        .filter(|c| deps.contains(**c))
        .collect();
    assert!(
        bad.is_empty(),
        "patrol-model must stay sans-I/O, but its dependency tree holds {bad:?}"
    );
    // The check can fail: the phone store above it does pull these in.
    let core = normal_closure(&metadata(), "patrol-core");
    assert!(core.contains("rusqlite") && core.contains("patrol-model"));
}

/// Which workspace crates each may depend on (normal dependencies), lowest layer first.
const LAYERS: &[(&str, &[&str])] = &[
    ("patrol-model", &[]),
    ("patrol-core", &["patrol-model"]),
    ("patrol-server", &["patrol-model", "patrol-core"]),
    ("patrol-ffi", &["patrol-model", "patrol-core"]),
    (
        "patrol-cli",
        &["patrol-model", "patrol-core", "patrol-server"],
    ),
    (
        "patrol-tests",
        &["patrol-model", "patrol-core", "patrol-server"],
    ),
];

#[test]
fn workspace_crates_depend_only_downwards() {
    let meta = metadata();
    let graph = normal_graph(&meta);
    let members: BTreeSet<String> = meta["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| graph[id.as_str().unwrap()].0.clone())
        .collect();
    let listed: BTreeSet<String> = LAYERS.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(
        members, listed,
        "every workspace crate has its place in LAYERS"
    );
    for (id, (name, deps)) in &graph {
        let Some((_, allowed)) = LAYERS.iter().find(|(n, _)| n == name) else {
            continue;
        };
        if !meta["workspace_members"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == id.as_str())
        {
            continue;
        }
        for d in deps {
            let dep = &graph[d].0;
            if members.contains(dep) {
                assert!(
                    allowed.contains(&dep.as_str()),
                    "{name} depends on {dep}, which is not below it (ARCHITECTURE.md)"
                );
            }
        }
    }
}

/// The top-level module a source file belongs to (`src/issues/doc.rs` -> `issues`), or `None`
/// for the crate root.
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?.to_owned();
    match first.strip_suffix(".rs") {
        Some("lib" | "main") => None,
        Some(m) => Some(m.to_owned()),
        None => Some(first),
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source folder") {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The arrows between top-level modules of the crate in `dir`: module -> modules it names.
/// Test modules (`tests.rs`, `tests/`) are left out: a test may look anywhere.
fn module_graph(dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let src = dir.join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        if file.file_name().is_some_and(|n| n == "tests.rs")
            || file.components().any(|c| c.as_os_str() == "tests")
        {
            continue;
        }
        let Some(from) = top_module(&src, &file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        let arrows = graph.entry(from.clone()).or_default();
        // An inline `mod tests { .. }` ends the file's code.
        let code = text
            .split("\n#[cfg(test)]\nmod tests {")
            .next()
            .unwrap_or("");
        for line in code.lines() {
            let line = line.split("//").next().unwrap_or("");
            let mut rest = line;
            while let Some(i) = rest.find("crate::") {
                rest = &rest[i + "crate::".len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty()
                    && name != from
                    && name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                    && (src.join(format!("{name}.rs")).exists() || src.join(&name).is_dir())
                {
                    arrows.insert(name);
                }
            }
        }
    }
    graph
}

/// The module path of a source file (`src/coverage/cache.rs` -> `coverage::cache`,
/// `src/coverage/mod.rs` -> `coverage`), or `None` for the crate root.
fn module_path(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?.with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts.len() == 1 && (parts[0] == "lib" || parts[0] == "main") {
        return None;
    }
    Some(parts.join("::"))
}

/// The longest prefix of `path` (`a::b::Name`) that is a module of the crate.
fn longest_module(path: &[String], modules: &BTreeSet<String>) -> Option<String> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].join("::"))
        .find(|m| modules.contains(m))
}

/// The arrows between every module of the crate in `dir`, submodules included, from `crate::`
/// and `super::` paths. A module naming one of its ancestors (what a parent re-exports) or its
/// own children (what it declares) is no arrow: those are how Rust modules nest. What is left
/// are arrows between siblings and cousins, where a cycle is a real one.
fn submodule_graph(dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let src = dir.join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.retain(|f| {
        !(f.file_name().is_some_and(|n| n == "tests.rs")
            || f.components().any(|c| c.as_os_str() == "tests"))
    });
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_path(&src, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let Some(from) = module_path(&src, file) else {
            continue;
        };
        let own: Vec<String> = from.split("::").map(str::to_owned).collect();
        let text = std::fs::read_to_string(file).unwrap();
        let code = text
            .split("\n#[cfg(test)]\nmod tests {")
            .next()
            .unwrap_or("");
        let arrows = graph.entry(from.clone()).or_default();
        for line in code.lines() {
            let line = line.split("//").next().unwrap_or("");
            let words = line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'));
            for word in words {
                let parts: Vec<&str> = word.split("::").filter(|p| !p.is_empty()).collect();
                let absolute: Vec<String> = match parts.first() {
                    Some(&"crate") => parts[1..].iter().map(|p| (*p).to_owned()).collect(),
                    Some(&"super") => {
                        let ups = parts.iter().take_while(|p| **p == "super").count();
                        // A file's module is `own`; `super` is its parent.
                        if ups > own.len() {
                            continue;
                        }
                        let mut base = own[..own.len() - ups].to_vec();
                        base.extend(parts[ups..].iter().map(|p| (*p).to_owned()));
                        base
                    }
                    _ => continue,
                };
                let Some(to) = longest_module(&absolute, &modules) else {
                    continue;
                };
                let ancestor = from.starts_with(&format!("{to}::"));
                let child = to.starts_with(&format!("{from}::"));
                if to != from && !ancestor && !child {
                    arrows.insert(to);
                }
            }
        }
    }
    graph
}

/// The strongly connected components with more than one module (Tarjan), each sorted.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<Vec<String>> {
    struct Tarjan<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        out: BTreeSet<Vec<String>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, v: &'a str) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low.get_mut(v).unwrap();
                    *lv = (*lv).min(lw);
                } else if self.on_stack.contains(w) {
                    let iw = self.index[w];
                    let lv = self.low.get_mut(v).unwrap();
                    *lv = (*lv).min(iw);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w.to_owned());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.out.insert(component);
                }
            }
        }
    }
    let mut t = Tarjan {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: BTreeSet::new(),
    };
    for v in graph.keys() {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v);
        }
    }
    t.out
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(
        cycles(&graph),
        BTreeSet::from([vec!["a".to_owned(), "b".into(), "c".into()]])
    );
}

#[test]
fn no_crate_has_a_module_cycle() {
    let root = workspace_root();
    let model = module_graph(&root.join("model"));
    assert!(
        model.contains_key("issues") && model["coverage"].contains("matching"),
        "the module graph is read: {model:?}"
    );
    let mut found = BTreeMap::new();
    for dir in ["model", "core", "server", "bindings", "cli"] {
        let c = cycles(&module_graph(&root.join(dir)));
        if !c.is_empty() {
            found.insert(dir, c);
        }
        // Inside a module too: `coverage::cache` and `coverage::report` must not name each other.
        let c = cycles(&submodule_graph(&root.join(dir)));
        if !c.is_empty() {
            found.entry(dir).or_default().extend(c);
        }
    }
    assert!(
        found.is_empty(),
        "module cycles, by crate folder: {found:?}"
    );
}

/// The lines of `text` that open an `impl Store` block (comments left out), by line number.
fn impl_store_lines(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            let code = line.split("//").next().unwrap_or("").trim_start();
            [
                "impl Store",
                "impl crate::Store",
                "impl crate::store::Store",
            ]
            .iter()
            .any(|head| {
                code.strip_prefix(head)
                    .is_some_and(|rest| rest.starts_with([' ', '{', '<']) || rest.is_empty())
            })
        })
        .map(|(i, _)| i + 1)
        .collect()
}

#[test]
fn the_phone_store_api_lives_in_store_and_api_only() {
    let src = workspace_root().join("core").join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found = 0;
    let mut outside = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap();
        let rel_text = rel.to_string_lossy().replace('\\', "/");
        let lines = impl_store_lines(&std::fs::read_to_string(&file).unwrap());
        found += lines.len();
        if !(rel.starts_with("store") || rel.starts_with("api")) {
            outside.extend(lines.iter().map(|l| format!("core/src/{rel_text}:{l}")));
        }
    }
    assert!(
        found > 10 && src.join("api").is_dir(),
        "the scan reads the store's impl blocks: {found}"
    );
    assert!(
        outside.is_empty(),
        "`impl Store` outside core/src/store/ and core/src/api/ (ARCHITECTURE.md: capabilities are \
         storage functions over a connection, Store's methods facades in api/): {outside:?}"
    );
}

#[test]
fn the_impl_store_scan_sees_what_it_must() {
    let text = "impl Store {\n// impl Store {\nimpl Store<'_> {}\n    impl crate::Store {\nimpl StoreConfig {\nimpl Stored {";
    assert_eq!(impl_store_lines(text), vec![1, 3, 4]);
}

/// The crates (and features) the mobile library is built with: `cargo tree` for `patrol-ffi`
/// alone, as `android/build-jni.sh` and `ios/build-xcframework.sh` build it.
fn mobile_tree(edges: &str) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--locked",
            "-p",
            "patrol-ffi",
            "--no-default-features",
            "-e",
            edges,
            "--prefix",
            "none",
        ])
        .current_dir(workspace_root())
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("cargo tree prints text")
}

/// Crates a phone never links: reports and pictures, the server, and an HTTP or TLS stack of its
/// own (the platform's carries the sync, `patrol_core::sync::transport`).
const MOBILE_NEVER: &[&str] = &[
    "resvg",
    "rust_xlsxwriter",
    "axum",
    "patrol-server",
    "reqwest",
    "hyper",
    "tokio",
    "rustls",
    "ring",
    "webpki-roots",
];

#[test]
fn phones_link_neither_reports_pictures_nor_the_simulator() {
    let crates: BTreeSet<String> = mobile_tree("normal")
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    assert!(
        crates.contains("patrol-core") && crates.contains("rusqlite"),
        "the tree is read: {crates:?}"
    );
    for never in MOBILE_NEVER {
        assert!(!crates.contains(*never), "the mobile library links {never}");
    }
    let features = mobile_tree("features,normal");
    assert!(
        features.contains("patrol-model v"),
        "the feature tree is read: {features}"
    );
    assert!(
        !features.contains("patrol-core feature \"reports\""),
        "the mobile library has the core's reports"
    );
    assert!(
        !features.contains("patrol-model feature \"sim\""),
        "the mobile library has the GPS simulator"
    );
    assert!(
        !features.contains("patrol-core feature \"native-http\""),
        "the mobile library has the core's own HTTP stack"
    );
}
