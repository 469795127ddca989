//! Encryption at rest on real files: a new encrypted store, a plain store encrypted in place with
//! its photos and its sync token, and the refusals (wrong key, missing key, a newer plain store)
//! that leave the file as it was.

use std::path::Path;
use std::sync::Arc;

use patrol_core::secrets::{
    FileSecretStore, MemorySecretStore, PHOTO_KEY, STORE_KEY, SYNC_TOKEN, SecretStore,
};
use patrol_core::sync::wire::{EnrolResponse, Scope, UserRecord};
use patrol_core::{Error, NewFix, Protection, Role, Store, StoreConfig, UserId};

const SQLITE_HEADER: &[u8] = b"SQLite format 3\0";

fn encrypted(secrets: Arc<dyn SecretStore>) -> StoreConfig {
    StoreConfig {
        protection: Protection::Encrypted(secrets),
        ..StoreConfig::default()
    }
}

fn head(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()[..16].to_vec()
}

fn jpeg(dir: &Path, shade: u8) -> std::path::PathBuf {
    let img = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([shade, (x * 3) as u8, (y * 5) as u8])
    });
    let path = dir.join(format!("photo-{shade}.jpg"));
    img.save(&path).unwrap();
    path
}

/// A chief's store with a recorded patrol of `fixes` fixes.
fn with_patrol(store: &mut Store, fixes: usize) {
    store.init_device("王芳", Role::Chief, None).unwrap();
    let p = store.start_patrol(&[]).unwrap();
    for i in 0..fixes {
        let mut fix = NewFix::at(
            39.9 + i as f64 * 1e-4,
            116.4,
            1_733_000_000_000 + i as i64 * 5_000,
        );
        fix.accuracy_m = Some(5.0);
        store.add_fix(p, fix).unwrap();
    }
    store.stop_patrol(p).unwrap();
}

fn fix_count(store: &Store) -> i64 {
    store
        .connection()
        .query_row("SELECT count(*) FROM fix", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_new_encrypted_store_has_no_plain_bytes_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chief.db");
    let secrets: Arc<dyn SecretStore> = Arc::new(FileSecretStore::beside(&db));
    let mut store = Store::open(&db, encrypted(secrets.clone())).unwrap();
    assert!(store.is_encrypted());
    let cipher: String = store
        .connection()
        .query_row("PRAGMA cipher_version", [], |r| r.get(0))
        .unwrap();
    assert!(!cipher.is_empty(), "SQLCipher is linked");
    let hmac: String = store
        .connection()
        .query_row("PRAGMA cipher_hmac_algorithm", [], |r| r.get(0))
        .unwrap();
    assert_eq!(hmac, "HMAC_SHA256");
    with_patrol(&mut store, 30);
    let photo = store.attach_photo(jpeg(dir.path(), 10)).unwrap();
    store.close().unwrap();

    assert_ne!(head(&db), SQLITE_HEADER);
    let file = std::fs::read(&db).unwrap();
    assert!(
        !file.windows("王芳".len()).any(|w| w == "王芳".as_bytes()),
        "the user's name is not in the file in clear"
    );
    let sealed = std::fs::read(&photo.path).unwrap();
    let original = std::fs::read(dir.path().join("photo-10.jpg")).unwrap();
    assert_ne!(sealed, original);
    assert!(!sealed.starts_with(&[0xff, 0xd8]), "not a JPEG on disk");

    let store = Store::open(&db, encrypted(secrets.clone())).unwrap();
    assert_eq!(fix_count(&store), 30);
    assert_eq!(store.photo_bytes(&photo.sha256).unwrap(), original);
    assert!(store.quick_check().unwrap().is_empty());
    for name in [STORE_KEY, PHOTO_KEY] {
        assert_eq!(
            secrets.get(name).unwrap().map(|k| k.len()),
            Some(32),
            "{name}"
        );
    }
    assert_ne!(
        secrets.get(STORE_KEY).unwrap(),
        secrets.get(PHOTO_KEY).unwrap()
    );
}

#[test]
fn a_wrong_key_or_a_missing_one_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chief.db");
    let secrets = MemorySecretStore::new();
    let mut store = Store::open(&db, encrypted(secrets.clone())).unwrap();
    with_patrol(&mut store, 5);
    store.close().unwrap();
    let before = std::fs::read(&db).unwrap();

    let wrong = MemorySecretStore::new();
    wrong.put(STORE_KEY, &[9u8; 32]).unwrap();
    let err = Store::open(&db, encrypted(wrong)).unwrap_err();
    assert!(matches!(err, Error::WrongKey { .. }), "{err:?}");
    assert!(err.to_string().contains("left untouched"), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), before);

    let missing = MemorySecretStore::new();
    let err = Store::open(&db, encrypted(missing.clone())).unwrap_err();
    assert!(matches!(err, Error::KeyMissing { .. }), "{err:?}");
    assert_eq!(std::fs::read(&db).unwrap(), before);
    assert_eq!(
        missing.get(STORE_KEY).unwrap(),
        None,
        "no new key made for it"
    );

    // Opened as a plain store, it is not a database.
    let err = Store::open(&db, StoreConfig::default()).unwrap_err();
    assert!(matches!(err, Error::NotADatabase { .. }), "{err:?}");
    assert_eq!(std::fs::read(&db).unwrap(), before);

    // And with its own key it is all there.
    let store = Store::open(&db, encrypted(secrets)).unwrap();
    assert_eq!(fix_count(&store), 5);
}

#[test]
fn a_plain_store_is_encrypted_in_place_with_its_photos_and_token() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chief.db");
    let mut plain = Store::open(&db, StoreConfig::default()).unwrap();
    let user = UserId::new();
    let enrolment = EnrolResponse {
        device_id: patrol_core::DeviceId::new(),
        actor_id: "00112233445566778899aabbccddeeff".into(),
        token: "secret-bearer-token".into(),
        user: UserRecord {
            id: user,
            name: "王芳".into(),
            role: Role::Chief,
            scope: Scope::Own,
        },
        server_time_ms: 1_733_000_000_000,
    };
    plain
        .apply_enrolment("http://127.0.0.1:9", &enrolment)
        .unwrap();
    let p = plain.start_patrol(&[]).unwrap();
    plain
        .add_fix(p, NewFix::at(39.9, 116.4, 1_733_000_000_000))
        .unwrap();
    let photo = plain.attach_photo(jpeg(dir.path(), 20)).unwrap();
    let original = std::fs::read(&photo.path).unwrap();
    // Left as an app killed mid-work leaves it: never closed, the last writes only in the WAL.
    #[expect(
        clippy::mem_forget,
        reason = "a connection that is never closed, as in a crash"
    )]
    std::mem::forget(plain);
    let wal = std::fs::metadata(dir.path().join("chief.db-wal")).map_or(0, |m| m.len());
    assert!(wal > 0, "the WAL holds the last writes");
    assert_eq!(head(&db), SQLITE_HEADER);

    let secrets = MemorySecretStore::new();
    let store = Store::open(&db, encrypted(secrets.clone())).unwrap();
    assert_ne!(head(&db), SQLITE_HEADER, "encrypted in place");
    assert_eq!(fix_count(&store), 1, "the WAL's writes came along");
    assert_eq!(store.require_device().unwrap().user_id, user);
    assert_eq!(store.photo_bytes(&photo.sha256).unwrap(), original);
    assert_ne!(
        std::fs::read(&photo.path).unwrap(),
        original,
        "the file is sealed"
    );
    let in_table: String = store
        .connection()
        .query_row("SELECT token FROM sync_account", [], |r| r.get(0))
        .unwrap();
    assert_eq!(in_table, "", "the token left the table");
    assert_eq!(
        secrets.get(SYNC_TOKEN).unwrap().as_deref(),
        Some(&b"secret-bearer-token"[..])
    );
    assert_eq!(
        store.sync_account().unwrap().unwrap().token,
        "secret-bearer-token"
    );
    assert!(store.quick_check().unwrap().is_empty());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("encrypting"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    store.close().unwrap();
    let again = Store::open(&db, encrypted(secrets)).unwrap();
    assert_eq!(fix_count(&again), 1);
}

#[test]
fn a_file_that_is_no_database_is_refused_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.db");
    let text = "these are my notes, not a database. ".repeat(200);
    std::fs::write(&notes, &text).unwrap();
    let secrets = MemorySecretStore::new();
    let err = Store::open(&notes, encrypted(secrets.clone())).unwrap_err();
    assert!(matches!(err, Error::NotADatabase { .. }), "{err:?}");
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), text);
    assert_eq!(secrets.get(STORE_KEY).unwrap(), None);
}

#[test]
fn a_plain_store_newer_than_the_app_is_not_encrypted() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chief.db");
    Store::open(&db, StoreConfig::default())
        .unwrap()
        .close()
        .unwrap();
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.pragma_update(None, "user_version", patrol_core::store::SCHEMA_VERSION + 1)
            .unwrap();
    }
    let before = std::fs::read(&db).unwrap();
    let err = Store::open(&db, encrypted(MemorySecretStore::new())).unwrap_err();
    assert!(matches!(err, Error::DatabaseTooNew { .. }), "{err:?}");
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[test]
fn an_encrypted_store_opens_a_second_connection_and_report_readers() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chief.db");
    let mut store = Store::open(&db, encrypted(MemorySecretStore::new())).unwrap();
    with_patrol(&mut store, 3);
    let other = store.open_another().unwrap();
    assert_eq!(fix_count(&other), 3);
    assert!(other.is_encrypted());
}

#[test]
fn enrolling_another_users_code_keeps_this_stores_token() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chief.db");
    let secrets = MemorySecretStore::new();
    let mut store = Store::open(&db, encrypted(secrets.clone())).unwrap();
    let enrolment = |user: UserId, token: &str| EnrolResponse {
        device_id: patrol_core::DeviceId::new(),
        actor_id: "00112233445566778899aabbccddeeff".into(),
        token: token.into(),
        user: UserRecord {
            id: user,
            name: "某人".into(),
            role: Role::Chief,
            scope: Scope::Own,
        },
        server_time_ms: 1_733_000_000_000,
    };
    store
        .apply_enrolment("http://127.0.0.1:9", &enrolment(UserId::new(), "token-a"))
        .unwrap();
    let err = store
        .apply_enrolment("http://127.0.0.1:9", &enrolment(UserId::new(), "token-b"))
        .unwrap_err();
    assert!(
        matches!(err, Error::StoreBelongsToAnother { .. }),
        "{err:?}"
    );
    assert_eq!(
        secrets.get(SYNC_TOKEN).unwrap().as_deref(),
        Some(&b"token-a"[..])
    );
    assert_eq!(store.sync_account().unwrap().unwrap().token, "token-a");
}

#[test]
fn a_lost_photo_key_is_refused_not_replaced_while_sealed_photos_exist() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chief.db");
    let secrets = MemorySecretStore::new();
    let mut store = Store::open(&db, encrypted(secrets.clone())).unwrap();
    store.init_device("王芳", Role::Chief, None).unwrap();
    store.attach_photo(jpeg(dir.path(), 30)).unwrap();
    store.close().unwrap();
    secrets.delete(PHOTO_KEY).unwrap();
    let err = Store::open(&db, encrypted(secrets.clone())).unwrap_err();
    assert!(matches!(err, Error::KeyMissing { .. }), "{err:?}");
    assert_eq!(secrets.get(PHOTO_KEY).unwrap(), None, "no new photo key");
}

#[test]
fn a_refused_plain_store_keeps_its_photos_plain() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chief.db");
    let mut plain = Store::open(&db, StoreConfig::default()).unwrap();
    plain.init_device("王芳", Role::Chief, None).unwrap();
    let photo = plain.attach_photo(jpeg(dir.path(), 40)).unwrap();
    plain.close().unwrap();
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.pragma_update(None, "user_version", patrol_core::store::SCHEMA_VERSION + 1)
            .unwrap();
    }
    let before = std::fs::read(&photo.path).unwrap();
    let err = Store::open(&db, encrypted(MemorySecretStore::new())).unwrap_err();
    assert!(matches!(err, Error::DatabaseTooNew { .. }), "{err:?}");
    assert_eq!(std::fs::read(&photo.path).unwrap(), before, "not sealed");
}

#[test]
fn two_first_opens_at_once_agree_on_one_key() {
    for round in 0..8 {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("chief.db");
        {
            let mut plain = Store::open(&db, StoreConfig::default()).unwrap();
            with_patrol(&mut plain, 200);
            plain.attach_photo(jpeg(dir.path(), 50)).unwrap();
            plain.close().unwrap();
        }
        // Each opener with its own handle on the same secrets file, as two processes have.
        let open = |db: std::path::PathBuf| {
            std::thread::spawn(move || {
                let secrets: Arc<dyn SecretStore> = Arc::new(FileSecretStore::beside(&db));
                Store::open(&db, encrypted(secrets)).map(|s| fix_count(&s))
            })
        };
        let (a, b) = (open(db.clone()), open(db.clone()));
        assert_eq!(a.join().unwrap().unwrap(), 200, "round {round}");
        assert_eq!(b.join().unwrap().unwrap(), 200, "round {round}");
        let secrets: Arc<dyn SecretStore> = Arc::new(FileSecretStore::beside(&db));
        let store = Store::open(&db, encrypted(secrets)).unwrap();
        assert_eq!(fix_count(&store), 200);
        let sha: String = store
            .connection()
            .query_row("SELECT sha256 FROM photo", [], |r| r.get(0))
            .unwrap();
        assert!(
            store.photo_bytes(&sha).is_ok(),
            "round {round}: the photo opens"
        );
    }
}
