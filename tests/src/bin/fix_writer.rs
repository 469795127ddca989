//! A child process for the crash test: records a walk into the store given as the first argument,
//! fix by fix and in small batches, and prints `seq` for every fix the core has confirmed as
//! committed. The parent kills it with SIGKILL at random moments.

use std::io::Write;

use std::sync::Arc;

use patrol_core::secrets::FileSecretStore;
use patrol_core::{NewFix, Protection, Role, Store, StoreConfig};

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(db), Some(seed)) = (args.next(), args.next()) else {
        eprintln!("usage: fix_writer DB SEED [encrypted]");
        std::process::exit(2);
    };
    let seed: u64 = seed.parse().unwrap_or(1);
    // `encrypted`: as the app opens it, the keys in `<db>.secrets`.
    let protection = match args.next().as_deref() {
        Some("encrypted") => {
            Protection::Encrypted(Arc::new(FileSecretStore::beside(std::path::Path::new(&db))))
        }
        _ => Protection::Clear,
    };
    let config = StoreConfig {
        protection,
        ..StoreConfig::default()
    };
    let mut store = Store::open(&db, config).expect("open store");
    if store.device().expect("read device").is_none() {
        store.init_device("crash", Role::Chief, None).expect("init");
    }
    let patrol = match store.open_patrol().expect("open patrol") {
        Some(p) => p,
        None => store.start_patrol(&[]).expect("start"),
    };
    let mut next = store.fixes(patrol).expect("fixes").len() as i64;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut rng = seed;
    loop {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let fix = |i: i64| {
            NewFix::at(39.9 + i as f64 * 1e-5, 116.2, 1_714_550_400_000 + i * 1000)
                .with_accuracy(5.0)
        };
        if (rng >> 33).is_multiple_of(8) {
            // A batch of 20, as after the app was suspended.
            let batch: Vec<NewFix> = (next..next + 20).map(fix).collect();
            let done = store.add_fixes(patrol, &batch).expect("batch");
            for s in done.first_seq..done.first_seq + done.count as i64 {
                writeln!(out, "{s}").expect("stdout");
            }
            next += 20;
        } else {
            let done = store.add_fix(patrol, fix(next)).expect("fix");
            writeln!(out, "{}", done.seq).expect("stdout");
            next += 1;
        }
        out.flush().expect("flush");
    }
}
