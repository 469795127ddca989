//! Fix append benchmark: durable single-fix append latency and batch import rate of the core,
//! each against a plain rusqlite INSERT of the same rows into the same table with the same
//! pragmas, and the core on a store encrypted at rest (SQLCipher, as phones open it) against the
//! core on a plain one; measured alternately in one run so machine noise hits all alike.
//!
//! Run: `cargo bench -p patrol-core --bench fix_append` (add `-- --quick` for a short run).

use std::time::{Duration, Instant};

use patrol_core::secrets::MemorySecretStore;
use patrol_core::{NewFix, PatrolId, Protection, Role, Store, StoreConfig};
use patrol_model::sim::{ReceiverModel, SimRng, simulate_walk};
use rusqlite::params;

#[path = "common/mod.rs"]
mod common;
use common::{machine, median};

struct Bench {
    _dir: tempfile::TempDir,
    store: Store,
    patrol: PatrolId,
    row: i64,
}

fn fresh(name: &str) -> Bench {
    fresh_with(name, Protection::Clear)
}

/// A store encrypted at rest, its keys in memory (the phone's come from its secret store).
fn fresh_encrypted(name: &str) -> Bench {
    fresh_with(name, Protection::Encrypted(MemorySecretStore::new()))
}

fn fresh_with(name: &str, protection: Protection) -> Bench {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = StoreConfig {
        protection,
        ..StoreConfig::default()
    };
    let mut store = Store::open(dir.path().join(format!("{name}.db")), config).expect("open");
    store.init_device("bench", Role::Chief, None).expect("init");
    let patrol = store.start_patrol(&[]).expect("start");
    let row = store
        .connection()
        .query_row(
            "SELECT row_id FROM patrol WHERE id = ?1",
            [patrol.to_string()],
            |r| r.get(0),
        )
        .expect("row");
    Bench {
        _dir: dir,
        store,
        patrol,
        row,
    }
}

const PLAIN_INSERT: &str =
    "INSERT INTO fix (patrol_row, seq, segment, time_ms, lat, lon, accuracy_m, altitude_m,
                            speed_mps, bearing_deg, provider, is_mock, verdict)
                            VALUES (?1, ?2, 0, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'kept')";

fn plain_insert(b: &Bench, seq: i64, f: &NewFix) {
    let mut stmt = b
        .store
        .connection()
        .prepare_cached(PLAIN_INSERT)
        .expect("prepare");
    stmt.execute(params![
        b.row,
        seq,
        f.time_ms,
        f.lat,
        f.lon,
        f.accuracy_m,
        f.altitude_m,
        f.speed_mps,
        f.bearing_deg,
        f.provider,
        f.is_mock
    ])
    .expect("insert");
}

fn walk(n: usize) -> Vec<NewFix> {
    // A long walk around a 2 km loop with phone-like noise; repeated laps shift time forward.
    let route = [
        (39.904, 116.1935),
        (39.911, 116.1937),
        (39.9112, 116.201),
        (39.9042, 116.201),
        (39.904, 116.1935),
    ];
    let mut rng = SimRng::new(42);
    let rx = ReceiverModel::default();
    let mut out = Vec::with_capacity(n);
    let mut start = 1_714_550_400_000;
    while out.len() < n {
        let lap = simulate_walk(&route, 1.4, start, &rx, None, &mut rng);
        start = lap.last().and_then(|(f, _)| f.time_ms).unwrap_or(start) + 1000;
        out.extend(lap.into_iter().map(|(f, _)| f));
    }
    out.truncate(n);
    out
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (single_n, rounds, batch_n) = if quick {
        (500, 4, 20_000)
    } else {
        (2_000, 10, 100_000)
    };
    println!("fix_append benchmark on {}", machine());

    // --- Durable single appends, alternating core and plain in rounds.
    let fixes = walk(single_n * rounds);
    let core = &mut fresh("single-core");
    let plain = &mut fresh("single-plain");
    let sealed = &mut fresh_encrypted("single-encrypted");
    let mut core_lat = Vec::with_capacity(fixes.len());
    let mut plain_lat = Vec::with_capacity(fixes.len());
    let mut sealed_lat = Vec::with_capacity(fixes.len());
    for (r, chunk) in fixes.chunks(single_n).enumerate() {
        for (i, f) in chunk.iter().enumerate() {
            let seq = (r * single_n + i) as i64;
            let t = Instant::now();
            core.store.add_fix(core.patrol, f.clone()).expect("add_fix");
            core_lat.push(t.elapsed());
            let t = Instant::now();
            plain_insert(plain, seq, f);
            plain_lat.push(t.elapsed());
            let t = Instant::now();
            sealed
                .store
                .add_fix(sealed.patrol, f.clone())
                .expect("add_fix");
            sealed_lat.push(t.elapsed());
        }
    }
    core_lat.sort();
    plain_lat.sort();
    sealed_lat.sort();
    let (em, e99) = (percentile(&sealed_lat, 0.5), percentile(&sealed_lat, 0.99));
    let (cm, c99) = (percentile(&core_lat, 0.5), percentile(&core_lat, 0.99));
    let (pm, p99) = (percentile(&plain_lat, 0.5), percentile(&plain_lat, 0.99));
    println!(
        "\nsingle durable append ({} fixes, each its own commit, WAL synchronous=NORMAL)",
        core_lat.len()
    );
    println!(
        "  core add_fix        median {:>8.1} us   p99 {:>8.1} us",
        us(cm),
        us(c99)
    );
    println!(
        "  plain rusqlite      median {:>8.1} us   p99 {:>8.1} us",
        us(pm),
        us(p99)
    );
    println!(
        "  ratio core/plain    median {:>8.2}      p99 {:>8.2}",
        us(cm) / us(pm),
        us(c99) / us(p99)
    );
    println!(
        "  core, encrypted     median {:>8.1} us   p99 {:>8.1} us",
        us(em),
        us(e99)
    );
    println!(
        "  ratio encrypted/core median {:>7.2}      p99 {:>8.2}   (goal: at most 1.3)",
        us(em) / us(cm),
        us(e99) / us(c99)
    );

    // --- Batch import rate.
    let fixes = walk(batch_n);
    let mut core_rates = Vec::new();
    let mut plain_rates = Vec::new();
    let mut sealed_rates = Vec::new();
    let repeats = if quick { 3 } else { 5 };
    for _ in 0..repeats {
        let mut core = fresh("batch-core");
        let t = Instant::now();
        for chunk in fixes.chunks(10_000) {
            core.store.add_fixes(core.patrol, chunk).expect("add_fixes");
        }
        core_rates.push(batch_n as f64 / t.elapsed().as_secs_f64());

        let mut sealed = fresh_encrypted("batch-encrypted");
        let t = Instant::now();
        for chunk in fixes.chunks(10_000) {
            sealed
                .store
                .add_fixes(sealed.patrol, chunk)
                .expect("add_fixes");
        }
        sealed_rates.push(batch_n as f64 / t.elapsed().as_secs_f64());

        let plain = fresh("batch-plain");
        let t = Instant::now();
        let conn = plain.store.connection();
        for (c, chunk) in fixes.chunks(10_000).enumerate() {
            conn.execute_batch("BEGIN").expect("begin");
            let mut stmt = conn.prepare_cached(PLAIN_INSERT).expect("prepare");
            for (i, f) in chunk.iter().enumerate() {
                let seq = (c * 10_000 + i) as i64;
                stmt.execute(params![
                    plain.row,
                    seq,
                    f.time_ms,
                    f.lat,
                    f.lon,
                    f.accuracy_m,
                    f.altitude_m,
                    f.speed_mps,
                    f.bearing_deg,
                    f.provider,
                    f.is_mock
                ])
                .expect("insert");
            }
            drop(stmt);
            conn.execute_batch("COMMIT").expect("commit");
        }
        plain_rates.push(batch_n as f64 / t.elapsed().as_secs_f64());
    }
    let (cr, pr) = (median(&mut core_rates), median(&mut plain_rates));
    let er = median(&mut sealed_rates);
    println!("\nbatch import ({batch_n} fixes in batches of 10,000, median of {repeats} runs)");
    println!(
        "  core add_fixes      {:>10.0} fixes/s  (filter, stationary detector, insert)",
        cr
    );
    println!("  plain rusqlite      {:>10.0} fixes/s  (insert only)", pr);
    println!("  ratio core/plain    {:>10.2}", cr / pr);
    println!("  core, encrypted     {:>10.0} fixes/s", er);
    println!("  ratio plain-store / encrypted time {:>5.2}", cr / er);
    println!(
        "\nRESULT single_median_us={:.1} single_p99_us={:.1} single_ratio_median={:.2} single_ratio_p99={:.2} batch_fixes_per_s={:.0} batch_ratio={:.2} encrypted_single_median_us={:.1} encrypted_single_ratio_median={:.2} encrypted_batch_fixes_per_s={:.0} encrypted_batch_time_ratio={:.2}",
        us(cm),
        us(c99),
        us(cm) / us(pm),
        us(c99) / us(p99),
        cr,
        cr / pr,
        us(em),
        us(em) / us(cm),
        er,
        cr / er
    );
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
