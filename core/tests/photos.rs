//! The photo store with real files: JPEGs carrying EXIF written byte by byte here, a PNG, a
//! text file renamed .jpg, an empty file, an image whose header claims a huge size. Each gives
//! the right result or a clear error, and a refused photo leaves no file and no row behind.

use std::path::{Path, PathBuf};

use patrol_core::photos::{PhotoError, PhotoLimits, THUMBNAIL_MAX_PX};
use patrol_core::{Error, Role, Store, StoreConfig};

fn store(dir: &Path) -> Store {
    let mut s = Store::open(dir.join("chief.db"), StoreConfig::default()).unwrap();
    s.init_device("王芳", Role::Chief, None).unwrap();
    s
}

/// An EXIF APP1 segment (little-endian TIFF) with Orientation, DateTimeOriginal and GPS,
/// laid out by hand from the TIFF 6.0 / EXIF 2.3 specifications.
fn exif_app1(
    orientation: u16,
    taken: &str,
    lat: (u32, u32, u32),
    lon: (u32, u32, u32),
    south: bool,
) -> Vec<u8> {
    let mut t: Vec<u8> = Vec::new();
    let u16le = |t: &mut Vec<u8>, v: u16| t.extend_from_slice(&v.to_le_bytes());
    let u32le = |t: &mut Vec<u8>, v: u32| t.extend_from_slice(&v.to_le_bytes());
    let entry = |t: &mut Vec<u8>, tag: u16, typ: u16, count: u32, value: u32| {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&typ.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&value.to_le_bytes());
    };
    const IFD0: u32 = 8;
    const EXIF_IFD: u32 = IFD0 + 2 + 3 * 12 + 4; // 50
    const DATE: u32 = EXIF_IFD + 2 + 12 + 4; // 68
    const GPS_IFD: u32 = DATE + 20; // 88
    const LAT: u32 = GPS_IFD + 2 + 4 * 12 + 4; // 142
    const LON: u32 = LAT + 24; // 166
    t.extend_from_slice(b"II");
    u16le(&mut t, 42);
    u32le(&mut t, IFD0);
    u16le(&mut t, 3);
    entry(&mut t, 0x0112, 3, 1, u32::from(orientation)); // Orientation, SHORT, inline
    entry(&mut t, 0x8769, 4, 1, EXIF_IFD); // Exif IFD pointer
    entry(&mut t, 0x8825, 4, 1, GPS_IFD); // GPS IFD pointer
    u32le(&mut t, 0);
    assert_eq!(t.len() as u32, EXIF_IFD);
    u16le(&mut t, 1);
    entry(&mut t, 0x9003, 2, 20, DATE); // DateTimeOriginal, ASCII
    u32le(&mut t, 0);
    assert_eq!(taken.len(), 19);
    t.extend_from_slice(taken.as_bytes());
    t.push(0);
    assert_eq!(t.len() as u32, GPS_IFD);
    u16le(&mut t, 4);
    let reference = |c: u8| u32::from_le_bytes([c, 0, 0, 0]);
    entry(
        &mut t,
        0x0001,
        2,
        2,
        reference(if south { b'S' } else { b'N' }),
    );
    entry(&mut t, 0x0002, 5, 3, LAT);
    entry(&mut t, 0x0003, 2, 2, reference(b'E'));
    entry(&mut t, 0x0004, 5, 3, LON);
    u32le(&mut t, 0);
    for (d, m, s_milli) in [lat, lon] {
        for (num, den) in [(d, 1), (m, 1), (s_milli, 1000)] {
            u32le(&mut t, num);
            u32le(&mut t, den);
        }
    }
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&((2 + 6 + t.len()) as u16).to_be_bytes());
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend_from_slice(&t);
    app1
}

/// A real JPEG (encoded by the image crate) of `w` x `h` with `app1` spliced in after SOI.
fn jpeg_with(w: u32, h: u32, app1: &[u8]) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut jpeg = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
            &mut jpeg, 85,
        ))
        .unwrap();
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_in(&p))
            } else {
                out.push(p)
            }
        }
    }
    out
}

fn photo_rows(s: &Store) -> i64 {
    s.connection()
        .query_row("SELECT COUNT(*) FROM photo", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_jpeg_with_exif_gives_time_gps_orientation_and_a_rotated_thumbnail() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    // 39°54'27.000" N 116°11'37.000" E, taken 16:00 Beijing time, rotated 90° (orientation 6).
    let app1 = exif_app1(
        6,
        "2024:05:01 16:00:00",
        (39, 54, 27_000),
        (116, 11, 37_000),
        false,
    );
    let path = write(dir.path(), "IMG_0001.jpg", &jpeg_with(640, 480, &app1));
    let p = s.attach_photo(&path).unwrap();
    assert_eq!(p.mime, "image/jpeg");
    assert_eq!((p.width, p.height), (640, 480));
    assert_eq!(p.taken_at_ms, Some(1_714_550_400_000));
    assert!((p.lat.unwrap() - (39.0 + 54.0 / 60.0 + 27.0 / 3600.0)).abs() < 1e-9);
    assert!((p.lon.unwrap() - (116.0 + 11.0 / 60.0 + 37.0 / 3600.0)).abs() < 1e-9);
    assert_eq!(p.orientation, Some(6));
    assert!(!p.already_stored);
    // The stored file is the original, byte for byte, named by its hash.
    let stored = std::fs::read(&p.path).unwrap();
    assert_eq!(stored, std::fs::read(&path).unwrap());
    assert!(p.path.to_string_lossy().contains(&p.sha256));
    assert!(p.path.starts_with(dir.path().join("chief.db.photos")));
    // The thumbnail is a JPEG at most 320 px, turned upright: a 640x480 landscape shot with
    // orientation 6 becomes a 240x320 portrait.
    let thumb = s.photo_thumbnail(&p.sha256).unwrap();
    let t = image::load_from_memory_with_format(&thumb, image::ImageFormat::Jpeg).unwrap();
    assert_eq!((t.width(), t.height()), (240, THUMBNAIL_MAX_PX));
    // A hash typed in capitals (or with spaces around it) names the same photo.
    let loud = format!(" {} ", p.sha256.to_ascii_uppercase());
    assert_eq!(s.photo_thumbnail(&loud).unwrap(), thumb);
    assert_eq!(s.photo(&loud).unwrap().sha256, p.sha256);
    // Adding it again stores nothing new.
    let again = s.attach_photo(&path).unwrap();
    assert!(again.already_stored);
    assert_eq!(again.sha256, p.sha256);
    assert_eq!(photo_rows(&s), 1);
    assert_eq!(files_in(&dir.path().join("chief.db.photos")).len(), 1);
}

#[test]
fn southern_gps_and_a_photo_without_exif() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let app1 = exif_app1(
        1,
        "2023:12:31 23:59:59",
        (33, 52, 4_000),
        (151, 12, 26_000),
        true,
    );
    let p = s
        .attach_photo(write(dir.path(), "sydney.jpeg", &jpeg_with(100, 80, &app1)))
        .unwrap();
    assert!(p.lat.unwrap() < -33.0);
    let plain = jpeg_with(50, 40, &[]);
    let p = s
        .attach_photo(write(dir.path(), "plain.jpg", &plain))
        .unwrap();
    assert_eq!((p.taken_at_ms, p.lat, p.orientation), (None, None, None));
}

#[test]
fn a_png_is_taken_whatever_it_is_called() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let path = dir.path().join("screenshot.png");
    image::RgbaImage::from_fn(1000, 200, |x, _| image::Rgba([x as u8, 0, 0, 255]))
        .save(&path)
        .unwrap();
    let renamed = dir.path().join("really-a-png.jpg");
    std::fs::copy(&path, &renamed).unwrap();
    let p = s.attach_photo(&renamed).unwrap();
    assert_eq!(p.mime, "image/png");
    assert!(p.path.extension().unwrap() == "png");
    let t = image::load_from_memory(&s.photo_thumbnail(&p.sha256).unwrap()).unwrap();
    assert_eq!((t.width(), t.height()), (320, 64));
}

#[test]
fn bad_files_are_refused_clearly_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        photo_limits: PhotoLimits {
            max_bytes: 2 * 1024 * 1024,
            max_pixels: 4_000_000,
            max_side_px: 4096,
        },
        ..Default::default()
    };
    let mut s = Store::open(dir.path().join("chief.db"), config).unwrap();
    s.init_device("王芳", Role::Chief, None).unwrap();

    // A PNG whose header claims 100,000 x 100,000 pixels (a decompression bomb's trick): only
    // the header is real, the check must not try to decode it.
    let mut huge = Vec::new();
    image::RgbImage::new(1, 1)
        .write_to(
            &mut std::io::Cursor::new(&mut huge),
            image::ImageFormat::Png,
        )
        .unwrap();
    huge[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    huge[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let ihdr_crc = crc32(&huge[12..29]);
    huge[29..33].copy_from_slice(&ihdr_crc.to_be_bytes());
    // A JPEG over the pixel limit (3000 x 2000 = 6 MP > 4 MP) but small in bytes.
    let big_jpeg = jpeg_with(3000, 2000, &[]);

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "notes.jpg",
            "shopping list: eggs, 豆腐, rice\n".repeat(20).into_bytes(),
            "not a JPEG or PNG",
        ),
        ("empty.jpg", vec![], "is empty"),
        ("huge.png", huge, "100000 x 100000 pixels"),
        ("big.jpg", big_jpeg, "3000 x 2000 pixels"),
        (
            "truncated.jpg",
            jpeg_with(200, 200, &[])[..300].to_vec(),
            "cannot be decoded",
        ),
        (
            "gif.jpg",
            b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec(),
            "not a JPEG or PNG",
        ),
        ("too-big.jpg", vec![0xFF; 3 * 1024 * 1024], "more than the"),
    ];
    for (name, bytes, needle) in cases {
        let path = write(dir.path(), name, &bytes);
        let err = s.attach_photo(&path).unwrap_err();
        assert!(matches!(err, Error::Photo(_)), "{name}: {err:?}");
        let msg = err.to_string();
        assert!(msg.contains(needle), "{name}: {msg}");
        assert!(msg.contains(name), "the message names the file: {msg}");
        assert!(!msg.contains('\n'), "{msg}");
    }
    let missing = s.attach_photo(dir.path().join("nowhere.jpg")).unwrap_err();
    assert!(missing.to_string().contains("nowhere.jpg"), "{missing}");
    assert_eq!(photo_rows(&s), 0);
    assert!(
        files_in(&dir.path().join("chief.db.photos")).is_empty(),
        "nothing half-stored"
    );
    assert!(matches!(
        s.photo("00".repeat(32).as_str()),
        Err(Error::Photo(PhotoError::Unknown(_)))
    ));
}

#[test]
fn an_in_memory_store_without_a_photo_folder_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open_in_memory(StoreConfig::default()).unwrap();
    let path = write(dir.path(), "a.jpg", &jpeg_with(10, 10, &[]));
    let err = s.attach_photo(&path).unwrap_err();
    assert!(err.to_string().contains("no photo folder"), "{err}");
}

/// CRC-32 (IEEE), as PNG chunks use, written out so the test does not depend on a crate.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
