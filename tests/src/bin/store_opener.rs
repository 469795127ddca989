//! A child process for the encryption crash test: opens the store given as the first argument as
//! the `patrol` command does (encrypted, its keys in `<db>.secrets`), which encrypts a plain
//! store in place, then prints `opened`. The parent kills it with SIGKILL at chosen moments.

use std::sync::Arc;

use patrol_core::secrets::FileSecretStore;
use patrol_core::{Protection, Store, StoreConfig};

fn main() {
    let Some(db) = std::env::args().nth(1) else {
        eprintln!("usage: store_opener DB");
        std::process::exit(2);
    };
    let db = std::path::PathBuf::from(db);
    let config = StoreConfig {
        protection: Protection::Encrypted(Arc::new(FileSecretStore::beside(&db))),
        ..StoreConfig::default()
    };
    match Store::open(&db, config) {
        Ok(store) => {
            drop(store);
            println!("opened");
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
