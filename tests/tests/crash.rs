//! Durability: a child records fixes and is killed with SIGKILL at random moments, many rounds on
//! the same file. Every fix it was told was committed must be there, and the file must pass
//! `quick_check` and keep accepting fixes.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use std::sync::Arc;

use patrol_core::secrets::FileSecretStore;
use patrol_core::{Protection, Store, StoreConfig};
use rand::Rng;

#[test]
fn fixes_confirmed_before_sigkill_survive() {
    fixes_survive_sigkill(false);
}

/// The same on a store encrypted at rest (SQLCipher: the WAL's pages are encrypted too).
#[test]
fn fixes_confirmed_before_sigkill_survive_in_an_encrypted_store() {
    fixes_survive_sigkill(true);
}

fn fixes_survive_sigkill(encrypted: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("crash.db");
    let config = || StoreConfig {
        protection: if encrypted {
            Protection::Encrypted(Arc::new(FileSecretStore::beside(&db)))
        } else {
            Protection::Clear
        },
        ..StoreConfig::default()
    };
    let mut rng = rand::rng();
    let mut confirmed = BTreeSet::new();
    let rounds = 40;
    for round in 0..rounds {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fix_writer"))
            .arg(&db)
            .arg(round.to_string())
            .arg(if encrypted { "encrypted" } else { "clear" })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn fix_writer");
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| l.parse::<i64>().ok())
                .collect::<Vec<_>>()
        });
        // Kill at a random moment: sometimes during start-up, mostly mid-write.
        std::thread::sleep(Duration::from_micros(rng.random_range(2_000..120_000)));
        child.kill().expect("SIGKILL");
        let status = child.wait().unwrap();
        assert!(
            !status.success(),
            "round {round}: the child should have been killed"
        );
        confirmed.extend(reader.join().unwrap());

        let store = Store::open(&db, config()).expect("reopen after SIGKILL");
        assert!(
            store.quick_check().unwrap().is_empty(),
            "round {round}: quick_check failed"
        );
        if let Some(patrol) = store.open_patrol().ok().flatten() {
            let stored: BTreeSet<i64> = store
                .fixes(patrol)
                .unwrap()
                .into_iter()
                .map(|f| f.seq)
                .collect();
            let lost: Vec<_> = confirmed.difference(&stored).take(5).collect();
            assert!(
                lost.is_empty(),
                "round {round}: confirmed fixes lost: {lost:?}"
            );
            // Sequence numbers stay dense: nothing half-written in the middle.
            if let Some(max) = stored.last() {
                assert_eq!(stored.len() as i64, max + 1, "round {round}: gaps in seq");
            }
        } else {
            assert!(
                confirmed.is_empty(),
                "round {round}: fixes confirmed but no patrol"
            );
        }
    }
    assert!(
        confirmed.len() > 100,
        "the child confirmed only {} fixes; kills came too early",
        confirmed.len()
    );
}
