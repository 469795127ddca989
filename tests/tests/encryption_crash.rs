//! Encrypting a plain store in place survives SIGKILL at any moment: a child opens a plain store
//! as the app does (which seals its photos, exports the database encrypted and renames it over
//! the plain file, then moves the sync token out), and is killed at moments spread over the
//! whole of that work, up to three times in a row on the same files. Each time the store then
//! opens with its keys and holds everything it held: every fix, the device, the token, every
//! photo byte for byte.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use patrol_core::secrets::{FileSecretStore, SYNC_TOKEN, SecretStore};
use patrol_core::sync::wire::{EnrolResponse, Scope, UserRecord};
use patrol_core::{DeviceId, NewFix, Protection, Role, Store, StoreConfig, UserId};

const TOKEN: &str = "a-bearer-token-that-must-survive";
const FIXES: i64 = 120_000;
const PHOTOS: u32 = 24;

/// A plain store (as an app before encryption left it) with a long patrol, photos and a token;
/// returns the photos' hashes and bytes.
fn plain_store(db: &Path) -> Vec<(String, Vec<u8>)> {
    let mut store = Store::open(db, StoreConfig::default()).unwrap();
    store
        .apply_enrolment(
            "http://127.0.0.1:9",
            &EnrolResponse {
                device_id: DeviceId::new(),
                actor_id: "00112233445566778899aabbccddeeff".into(),
                token: TOKEN.into(),
                user: UserRecord {
                    id: UserId::new(),
                    name: "王芳".into(),
                    role: Role::Chief,
                    scope: Scope::Own,
                },
                server_time_ms: 1_714_550_400_000,
            },
        )
        .unwrap();
    let patrol = store.start_patrol(&[]).unwrap();
    for chunk in (0..FIXES).collect::<Vec<_>>().chunks(2_000) {
        let fixes: Vec<NewFix> = chunk
            .iter()
            .map(|&i| {
                NewFix::at(39.9 + i as f64 * 1e-5, 116.2, 1_714_550_400_000 + i * 1000)
                    .with_accuracy(5.0)
            })
            .collect();
        store.add_fixes(patrol, &fixes).unwrap();
    }
    let dir = db.parent().unwrap().join("camera");
    std::fs::create_dir_all(&dir).unwrap();
    let mut photos = Vec::new();
    for i in 0..PHOTOS {
        let bytes =
            patrol_tests::public::jpeg_with_gps(320 + i * 8, 240, 39.9, 116.2, "crash-test");
        let file = dir.join(format!("{i}.jpg"));
        std::fs::write(&file, &bytes).unwrap();
        let info = store.attach_photo(&file).unwrap();
        photos.push((info.sha256, bytes));
    }
    // Left as an app killed while recording leaves it: the last writes still in the WAL.
    drop(store);
    photos
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn opener(db: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_store_opener"))
        .arg(db)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn store_opener")
}

fn is_plain(db: &Path) -> bool {
    std::fs::read(db).unwrap().starts_with(b"SQLite format 3\0")
}

/// Opens the store as the app does and checks it holds everything.
fn check_whole(db: &Path, photos: &[(String, Vec<u8>)], round: usize) {
    let secrets = Arc::new(FileSecretStore::beside(db));
    let config = StoreConfig {
        protection: Protection::Encrypted(secrets.clone()),
        ..StoreConfig::default()
    };
    let store = Store::open(db, config)
        .unwrap_or_else(|e| panic!("round {round}: the store does not open after SIGKILL: {e}"));
    assert!(!is_plain(db), "round {round}: encrypted once opened");
    assert!(store.quick_check().unwrap().is_empty(), "round {round}");
    let fixes: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM fix", [], |r| r.get(0))
        .unwrap();
    assert_eq!(fixes, FIXES, "round {round}: fixes");
    assert_eq!(
        store.require_device().unwrap().name,
        "王芳",
        "round {round}"
    );
    assert_eq!(
        store.sync_account().unwrap().unwrap().token,
        TOKEN,
        "round {round}"
    );
    assert_eq!(
        secrets.get(SYNC_TOKEN).unwrap().as_deref(),
        Some(TOKEN.as_bytes()),
        "round {round}: the token is in the secret store"
    );
    for (sha, bytes) in photos {
        assert_eq!(
            &store.photo_bytes(sha).unwrap(),
            bytes,
            "round {round}: photo {sha}"
        );
        let file = store.photo(sha).unwrap().path;
        assert_ne!(
            &std::fs::read(file).unwrap(),
            bytes,
            "round {round}: sealed on disk"
        );
    }
    let folder = db.parent().unwrap();
    let leftovers: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".encrypting"))
        .collect();
    assert!(leftovers.is_empty(), "round {round}: {leftovers:?}");
}

#[test]
fn encrypting_a_plain_store_survives_sigkill_at_any_moment() {
    let tmp = tempfile::tempdir().unwrap();
    let original = tmp.path().join("original");
    std::fs::create_dir_all(&original).unwrap();
    let photos = plain_store(&original.join("chief.db"));

    // How long the whole encryption takes here, uninterrupted.
    let timing = tmp.path().join("timing");
    copy_dir(&original, &timing);
    let started = Instant::now();
    let out = opener(&timing.join("chief.db")).wait_with_output().unwrap();
    let whole = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "opened");
    check_whole(&timing.join("chief.db"), &photos, 0);

    let rounds = 14;
    let (mut mid_export, mut still_plain, mut finished) = (0, 0, 0);
    for round in 1..=rounds {
        let dir = tmp.path().join(format!("round-{round}"));
        copy_dir(&original, &dir);
        let db = dir.join("chief.db");
        // Moments spread evenly over the whole run (and a little past it), then up to two more
        // kills of the next attempts on the same files.
        let kills = 1 + round % 3;
        for k in 0..kills {
            let fraction = (round as f64 - 0.5 + k as f64 * 0.37) / rounds as f64;
            let at = whole.mul_f64((fraction * 1.15).fract().max(0.01));
            let mut child = opener(&db);
            std::thread::sleep(at);
            let _ = child.kill();
            let status = child.wait().unwrap();
            let killed = !status.success();
            let encrypting = dir.join("chief.db.encrypting").exists();
            match (killed, encrypting, is_plain(&db)) {
                (true, true, _) => mid_export += 1,
                (true, false, true) => still_plain += 1,
                _ => finished += 1,
            }
        }
        check_whole(&db, &photos, round);
        std::fs::remove_dir_all(&dir).unwrap();
    }
    eprintln!(
        "encryption took {whole:?} whole; kills: {mid_export} mid-export, {still_plain} before the export (sealing photos or starting), {finished} after the rename or finished"
    );
    assert!(
        mid_export >= 2,
        "only {mid_export} kills landed during the export; the data is too small to test it"
    );
}
