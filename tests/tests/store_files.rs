//! The store refuses files it must not touch, and survives being reopened by a newer process.

use patrol_core::{Error, Store, StoreConfig, store::SCHEMA_VERSION};

#[test]
fn refuses_non_sqlite_files_and_newer_schemas_without_touching_them() {
    let tmp = tempfile::tempdir().unwrap();
    // A photo someone pointed --db at.
    let jpeg = tmp.path().join("photo.db");
    let bytes: Vec<u8> = [0xFF, 0xD8, 0xFF, 0xE0]
        .into_iter()
        .chain((0..5000).map(|i| (i % 251) as u8))
        .collect();
    std::fs::write(&jpeg, &bytes).unwrap();
    assert!(matches!(
        Store::open(&jpeg, StoreConfig::default()),
        Err(Error::NotADatabase { .. })
    ));
    assert_eq!(std::fs::read(&jpeg).unwrap(), bytes);
    assert!(!tmp.path().join("photo.db-wal").exists());

    // A store written by a future version of the app.
    let future = tmp.path().join("future.db");
    {
        let c = rusqlite::Connection::open(&future).unwrap();
        c.execute_batch("CREATE TABLE x (y); INSERT INTO x VALUES (1);")
            .unwrap();
        c.pragma_update(None, "user_version", SCHEMA_VERSION + 3)
            .unwrap();
    }
    let err = Store::open(&future, StoreConfig::default()).unwrap_err();
    assert!(err.to_string().contains("update the app"), "{err}");
    let c = rusqlite::Connection::open(&future).unwrap();
    let v: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, SCHEMA_VERSION + 3);
}
