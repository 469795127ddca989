//! Shared by the Kotlin tests, the generated-code check and the JNA benchmark: where the built
//! library is, running the pinned `uniffi-bindgen` on it, and compiling and running Kotlin on a
//! JVM with JNA.
//!
//! The Kotlin toolchain: `kotlinc` with its `lib/` (kotlin-stdlib, kotlinx-coroutines-core-jvm),
//! from the npm package `kotlin-compiler`; JNA from Debian's `libjna-java`; a Java 17+ `java`.
//! Looked up, in order: `$KOTLINC`, `kotlinc` on the PATH, then where `.ci/run` installs it
//! (`$PATROL_TOOLS_DIR`, default `~/.cache/streetpatrol`, `/kotlin/node_modules/kotlin-compiler`);
//! JNA at `$JNA_JAR` or `/usr/share/java/jna.jar`.
#![allow(
    dead_code,
    reason = "each test binary uses its own part of this module"
)]

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// What a Kotlin test needs from the machine.
#[derive(Debug, Clone)]
pub struct Toolchain {
    pub kotlinc: PathBuf,
    /// kotlinc's `lib/`: kotlin-stdlib.jar and kotlinx-coroutines-core-jvm.jar.
    pub kotlin_lib: PathBuf,
    pub jna_jar: PathBuf,
    pub java: PathBuf,
}

impl Toolchain {
    /// The jars the compiled tests run with (besides their own classes).
    pub fn runtime_classpath(&self) -> Vec<PathBuf> {
        vec![
            self.kotlin_lib.join("kotlin-stdlib.jar"),
            self.kotlin_lib.join("kotlinx-coroutines-core-jvm.jar"),
            self.jna_jar.clone(),
        ]
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn tools_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PATROL_TOOLS_DIR") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".cache/streetpatrol")
}

/// Finds the toolchain, or says what is missing and how to get it.
pub fn find_toolchain() -> Result<Toolchain, String> {
    let mut missing = Vec::new();
    let kotlinc = std::env::var_os("KOTLINC")
        .map(PathBuf::from)
        .or_else(|| on_path("kotlinc"))
        .or_else(|| {
            let p = tools_dir().join("kotlin/node_modules/kotlin-compiler/bin/kotlinc");
            p.is_file().then_some(p)
        });
    // kotlinc on the PATH is often a symlink into the distribution: resolve it to find lib/.
    let kotlinc = kotlinc.map(|k| k.canonicalize().unwrap_or(k));
    let kotlin_lib = kotlinc
        .as_ref()
        .and_then(|k| k.parent()?.parent().map(|d| d.join("lib")));
    match &kotlin_lib {
        None => missing.push(
            "kotlinc (npm install --prefix ~/.cache/streetpatrol/kotlin kotlin-compiler@2.4.20, or set KOTLINC)".to_string(),
        ),
        Some(lib) => {
            for jar in ["kotlin-stdlib.jar", "kotlinx-coroutines-core-jvm.jar"] {
                if !lib.join(jar).is_file() {
                    missing.push(format!("{} (comes with the npm package kotlin-compiler)", lib.join(jar).display()));
                }
            }
        }
    }
    let jna_jar = std::env::var_os("JNA_JAR")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/usr/share/java/jna.jar".into());
    if !jna_jar.is_file() {
        missing.push(format!(
            "JNA at {} (apt-get install libjna-java, or set JNA_JAR)",
            jna_jar.display()
        ));
    }
    let java = std::env::var_os("JAVA_HOME")
        .map(|h| PathBuf::from(h).join("bin/java"))
        .filter(|p| p.is_file())
        .or_else(|| on_path("java"));
    if java.is_none() {
        missing.push("java 17 or newer (apt-get install openjdk-17-jdk-headless)".into());
    }
    match (kotlinc, kotlin_lib, java) {
        (Some(kotlinc), Some(kotlin_lib), Some(java)) if missing.is_empty() => Ok(Toolchain {
            kotlinc,
            kotlin_lib,
            jna_jar,
            java,
        }),
        _ => Err(missing.join("; ")),
    }
}

/// The toolchain, or `None` after printing why the test skips. With `PATROL_REQUIRE_KOTLIN=1`
/// (set by `.ci/run`) a missing toolchain fails the test instead.
pub fn toolchain_or_skip(test: &str) -> Option<Toolchain> {
    match find_toolchain() {
        Ok(t) => Some(t),
        Err(missing) => {
            if std::env::var("PATROL_REQUIRE_KOTLIN").is_ok_and(|v| v == "1") {
                panic!(
                    "{test}: the Kotlin test toolchain is missing: {missing}. `bash .ci/run` installs it."
                );
            }
            eprintln!(
                "SKIP: {test} needs the Kotlin test toolchain; missing: {missing}. `bash .ci/run` installs it."
            );
            None
        }
    }
}

/// `target/<profile>`: the directory this test or bench executable was built into.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    let deps = exe
        .parent()
        .expect("the executable is in target/<profile>/deps");
    deps.parent()
        .expect("deps is in target/<profile>")
        .to_path_buf()
}

/// The cdylib cargo built for this test run: `target/<profile>/deps/`, which `cargo test` and
/// `cargo bench` keep current (only `cargo build` copies it up to `target/<profile>/`, so that copy
/// may be stale).
pub fn cdylib() -> PathBuf {
    let name = format!(
        "{}patrol_ffi{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let lib = profile_dir().join("deps").join(&name);
    assert!(lib.is_file(), "{} was not built", lib.display());
    lib
}

/// Runs a command, failing with its output when it fails.
pub fn run(cmd: &mut Command, what: &str) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start {:?}: {e}", cmd.get_program()));
    if !out.status.success() {
        panic!(
            "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

/// Generates bindings for `languages` from the built library into `out_dir` (emptied first), the
/// way `bindings/generate.sh` does.
pub fn generate(languages: &[&str], out_dir: &Path) {
    let _ = std::fs::remove_dir_all(out_dir);
    std::fs::create_dir_all(out_dir).expect("create the output directory");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_uniffi-bindgen"));
    cmd.args(["generate", "--library"])
        .arg(cdylib())
        .arg("--out-dir")
        .arg(out_dir)
        .arg("--no-format");
    for l in languages {
        cmd.args(["--language", l]);
    }
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    run(&mut cmd, "uniffi-bindgen");
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bindings/ is in the repository")
        .to_path_buf()
}

/// Every `.kt` file directly in `dir`, sorted.
pub fn kotlin_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "kt"))
        .collect();
    files.sort();
    files
}

/// Generated Kotlin + the Android wrapper's platform-free part (`StreetPatrol.kt`, `Http.kt`) + `bindings/kotlin-tests`,
/// compiled once per test process into a directory keyed by the sources' content (so unchanged
/// sources are not compiled again). Returns the classes directory.
pub fn compiled_tests(tc: &Toolchain) -> PathBuf {
    static CLASSES: OnceLock<PathBuf> = OnceLock::new();
    CLASSES
        .get_or_init(|| {
            let work = profile_dir().join("kotlin-tests");
            let generated = work.join("generated");
            generate(&["kotlin"], &generated);
            let mut sources = vec![generated.join("org/streetpatrol/ffi/patrol_ffi.kt")];
            let wrapper = repo_root().join("android/src/main/kotlin/org/streetpatrol");
            sources.push(wrapper.join("StreetPatrol.kt"));
            sources.push(wrapper.join("Http.kt"));
            sources.extend(kotlin_files(&repo_root().join("bindings/kotlin-tests")));
            compile_kotlin(tc, &sources, &work)
        })
        .clone()
}

/// Compiles `sources` with kotlinc into `work/classes-<hash>` unless that exists already.
pub fn compile_kotlin(tc: &Toolchain, sources: &[PathBuf], work: &Path) -> PathBuf {
    let mut h = DefaultHasher::new();
    tc.kotlinc.hash(&mut h);
    for s in sources {
        s.hash(&mut h);
        std::fs::read(s)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", s.display()))
            .hash(&mut h);
    }
    let classes = work.join(format!("classes-{:016x}", h.finish()));
    if classes.join("COMPILED").is_file() {
        return classes;
    }
    // Classes of earlier sources are stale now: remove them so they do not pile up.
    if let Ok(entries) = std::fs::read_dir(work) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with("classes-") {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let classpath = std::env::join_paths([
        tc.kotlin_lib.join("kotlinx-coroutines-core-jvm.jar"),
        tc.jna_jar.clone(),
    ])
    .expect("a classpath");
    let mut cmd = Command::new(&tc.kotlinc);
    cmd.arg("-cp")
        .arg(classpath)
        .arg("-d")
        .arg(&classes)
        .arg("-jvm-target")
        .arg("17")
        .args(sources);
    let started = std::time::Instant::now();
    run(&mut cmd, "kotlinc");
    eprintln!(
        "compiled {} Kotlin files in {:.1} s",
        sources.len(),
        started.elapsed().as_secs_f64()
    );
    std::fs::write(classes.join("COMPILED"), b"").expect("mark the classes complete");
    classes
}

/// A `java` command running `main_class` from `classes` with JNA finding the built library;
/// `options` go to the JVM.
pub fn jvm(tc: &Toolchain, classes: &Path, options: &[&str], main_class: &str) -> Command {
    let mut cp = vec![classes.to_path_buf()];
    cp.extend(tc.runtime_classpath());
    let lib_dir = cdylib()
        .parent()
        .expect("the library is in a directory")
        .to_path_buf();
    let mut cmd = Command::new(&tc.java);
    cmd.arg(format!("-Djna.library.path={}", lib_dir.display()))
        // A fixed, pre-touched heap: the leak check reads the process RSS, which must not move
        // with heap growth.
        .args([
            "-Xms128m",
            "-Xmx128m",
            "-XX:+AlwaysPreTouch",
            "-XX:+UseSerialGC",
        ])
        .args(options)
        .arg("-cp")
        .arg(std::env::join_paths(cp).expect("a classpath"))
        .arg(main_class);
    cmd
}
