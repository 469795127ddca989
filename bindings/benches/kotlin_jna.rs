//! What the JNA boundary costs: `add_fix` per call from Kotlin (generated bindings, JNA) against
//! the same call from Rust (`patrol_ffi::PatrolStore::add_fix`, no boundary), the batch call per
//! fix both ways, and an 8-hour 1 Hz patrol (28,800 fixes) replayed from Kotlin. The Rust side is
//! measured before and after the JVM run and pooled, so machine noise hits both alike.
//!
//! Run: `cargo bench -p patrol-ffi --bench kotlin_jna` (add `-- --quick` for a short run). Needs
//! the Kotlin toolchain that `.ci/run` installs.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use patrol_core::Role;
use patrol_ffi::secrets::{SecretStore, SecretStoreError};
use patrol_ffi::types::Fix;
use patrol_ffi::{PatrolStore, settings::StoreSettings};

const T0: i64 = 1_714_550_400_000;
const M_PER_DEG: f64 = 111_195.08;

/// Fix `i` of the walk Fixtures.kt's `walkFix` makes: the same fixes on both sides.
fn walk_fix(i: usize) -> Fix {
    Fix {
        lat: 39.904 + i as f64 * 1.4 / M_PER_DEG,
        lon: 116.1935,
        time_ms: T0 + i as i64 * 1000,
        accuracy_m: Some(5.0),
        altitude_m: None,
        speed_mps: None,
        bearing_deg: None,
        provider: Some("gps".into()),
        is_mock: false,
        datum: None,
    }
}

/// The keys in memory, as the app's secret store would hold them (the Kotlin side uses the
/// tests' file-based one): both sides' stores are encrypted alike.
#[derive(Default)]
struct Keys(std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>);

impl SecretStore for Keys {
    fn get(&self, name: String) -> Result<Option<Vec<u8>>, SecretStoreError> {
        Ok(self.0.lock().expect("keys").get(&name).cloned())
    }
    fn put(&self, name: String, value: Vec<u8>) -> Result<(), SecretStoreError> {
        self.0.lock().expect("keys").insert(name, value);
        Ok(())
    }
    fn delete(&self, name: String) -> Result<(), SecretStoreError> {
        self.0.lock().expect("keys").remove(&name);
        Ok(())
    }
}

fn fresh(dir: &std::path::Path, name: &str) -> std::sync::Arc<PatrolStore> {
    let path = dir.join(format!("{name}.db"));
    let store = PatrolStore::open(
        path.display().to_string(),
        std::sync::Arc::new(Keys::default()),
        StoreSettings::default(),
        None,
        None,
        None,
    )
    .expect("open");
    store
        .init_device("bench".into(), Role::Chief, None)
        .expect("init");
    store
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

struct RustSide {
    empty_ns: Vec<f64>,
    per_call_us: Vec<f64>,
    one_call_ms: Vec<f64>,
}

fn measure_rust(
    dir: &std::path::Path,
    tag: &str,
    single: usize,
    rounds: usize,
    replay: usize,
    into: &mut RustSide,
) {
    for _ in 0..rounds {
        let t = Instant::now();
        for _ in 0..100_000 {
            std::hint::black_box(patrol_ffi::store::live_store_handles());
        }
        into.empty_ns
            .push(t.elapsed().as_nanos() as f64 / 100_000.0);
    }
    for r in 0..rounds {
        let store = fresh(dir, &format!("{tag}-single-{r}"));
        let id = store.start_patrol(vec![]).expect("start");
        for i in 0..single {
            let fix = walk_fix(i);
            let t = Instant::now();
            store.add_fix(id, fix).expect("add_fix");
            into.per_call_us.push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    let fixes: Vec<Fix> = (0..replay).map(walk_fix).collect();
    for r in 0..rounds {
        let store = fresh(dir, &format!("{tag}-batch-{r}"));
        let id = store.start_patrol(vec![]).expect("start");
        let batch = fixes.clone();
        let t = Instant::now();
        store.add_fixes(id, batch).expect("add_fixes");
        into.one_call_ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    format!("{cpu}, {cores} cores, {}", std::env::consts::OS)
}

fn field(result: &str, key: &str) -> f64 {
    result
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("the Kotlin bench printed no {key}: {result}"))
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (single, rounds, replay) = if quick {
        (500, 3, 28_800)
    } else {
        (2_000, 5, 28_800)
    };
    println!("kotlin_jna benchmark on {}", machine());
    let Some(tc) = support::toolchain_or_skip("kotlin_jna bench") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");

    let mut rust = RustSide {
        empty_ns: vec![],
        per_call_us: vec![],
        one_call_ms: vec![],
    };
    measure_rust(dir.path(), "before", single, rounds, replay, &mut rust);

    let classes = support::compiled_tests(&tc);
    let mut cmd = support::jvm(&tc, &classes, &[], "org.streetpatrol.tests.BenchKt");
    cmd.args([single.to_string(), rounds.to_string(), replay.to_string()]);
    let out = support::run(&mut cmd, "the Kotlin bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let result = stdout
        .lines()
        .find(|l| l.starts_with("RESULT "))
        .unwrap_or_else(|| panic!("no RESULT line:\n{stdout}"));

    measure_rust(dir.path(), "after", single, rounds, replay, &mut rust);

    let k_empty = field(result, "empty_call_ns");
    let (k_med, k_p99) = (
        field(result, "single_median_us"),
        field(result, "single_p99_us"),
    );
    let k_one_call = field(result, "replay_one_call_ms");
    let k_batches = field(result, "replay_batches_of_60_ms");
    let k_per_fix = field(result, "batch_ns_per_fix");
    let r_empty = median(&mut rust.empty_ns);
    rust.per_call_us.sort_by(f64::total_cmp);
    let (r_med, r_p99) = (
        percentile(&rust.per_call_us, 0.5),
        percentile(&rust.per_call_us, 0.99),
    );
    let r_one_call = median(&mut rust.one_call_ms);
    let r_per_fix = r_one_call * 1e6 / replay as f64;

    println!("\nan empty call (live_store_handles: one atomic load), median");
    println!("  Kotlin via JNA     {k_empty:>9.1} ns   (what crossing the boundary costs)");
    println!("  Rust               {r_empty:>9.1} ns   (the same function, no boundary)");
    println!(
        "\nadd_fix, one durable commit per call ({} calls each side)",
        rust.per_call_us.len()
    );
    println!("  Kotlin via JNA     median {k_med:>7.2} us   p99 {k_p99:>7.2} us");
    println!("  Rust               median {r_med:>7.2} us   p99 {r_p99:>7.2} us");
    println!(
        "  ratio Kotlin/Rust  median {:>7.2}      p99 {:>7.2}",
        k_med / r_med,
        k_p99 / r_p99
    );
    println!(
        "  JNA overhead       median {:>7.2} us per call",
        k_med - r_med
    );
    println!("\nadd_fixes, an 8-hour 1 Hz patrol ({replay} fixes) in one call, median of {rounds}");
    println!("  Kotlin via JNA     {k_one_call:>8.1} ms   {k_per_fix:>7.1} ns per fix");
    println!("  Rust               {r_one_call:>8.1} ms   {r_per_fix:>7.1} ns per fix");
    println!("  ratio Kotlin/Rust  {:>8.2}", k_one_call / r_one_call);
    println!(
        "  Kotlin, in 480 batches of 60 fixes: {k_batches:.1} ms (target for the replay: < 1000 ms)"
    );
    println!(
        "\nRESULT kotlin_empty_ns={k_empty:.1} rust_empty_ns={r_empty:.1} kotlin_add_fix_median_us={k_med:.2} rust_add_fix_median_us={r_med:.2} add_fix_ratio={:.2} kotlin_replay_ms={k_one_call:.1} rust_replay_ms={r_one_call:.1} replay_ratio={:.2} kotlin_batch_ns_per_fix={k_per_fix:.1} rust_batch_ns_per_fix={r_per_fix:.1} kotlin_replay_batches_of_60_ms={k_batches:.1}",
        k_med / r_med,
        k_one_call / r_one_call
    );
}
