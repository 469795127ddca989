//! The photo store: photos copied into a content-addressed folder beside the database
//! (`<db>.photos/<sha256[..2]>/<sha256>.jpg|png`), their EXIF time, GPS and orientation, and a
//! small JPEG thumbnail (at most [`THUMBNAIL_MAX_PX`] a side) that travels inside issue
//! documents so every device can show the picture before the original is fetched.
//!
//! A photo is checked whole before anything is written: size, real image type (by content,
//! not by name), pixel count, and that it decodes. The file is written to a temporary name,
//! synced and renamed, then recorded; if recording fails the new file is removed. So a failure
//! leaves nothing half-stored, and the same photo added twice is stored once.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageFormat, ImageReader, Limits, metadata::Orientation};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use patrol_model::photos::{PhotoLimits, THUMBNAIL_MAX_PX, is_photo_id};

pub use crate::error::PhotoError;

use crate::error::{Error, Result};
use crate::sealed;
use crate::secrets::Key;

/// A photo in the store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhotoInfo {
    pub sha256: String,
    pub mime: String,
    pub size_bytes: u64,
    pub width: u32,
    pub height: u32,
    /// When the camera says it was taken (EXIF; Beijing time unless the photo gives an offset).
    pub taken_at_ms: Option<i64>,
    /// EXIF GPS position, WGS-84.
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// EXIF orientation 1-8 (already applied to the thumbnail).
    pub orientation: Option<u16>,
    pub thumbnail_bytes: u64,
    /// Where the original's file is; sealed when the store is encrypted, so read the photo with
    /// [`crate::Store::photo_bytes`].
    pub path: PathBuf,
    /// It was already in the store (same content).
    pub already_stored: bool,
}

/// What EXIF says.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ExifFacts {
    pub taken_at_ms: Option<i64>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub orientation: Option<u16>,
}

/// The folder photos are kept in: the one configured, or `<db>.photos` beside the database
/// file at `db`.
pub(crate) fn photos_dir(configured: Option<&Path>, db: &Path) -> Result<PathBuf> {
    if let Some(d) = configured {
        return Ok(d.to_path_buf());
    }
    if db.as_os_str().is_empty() || db == Path::new(":memory:") {
        return Err(PhotoError::NoPhotoFolder.into());
    }
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".photos");
    Ok(db.with_file_name(name))
}

/// A photo read from a file and checked whole, not stored yet.
pub(crate) struct NewPhoto {
    pub(crate) sha256: String,
    bytes: Vec<u8>,
    checked: Checked,
}

/// Reads the photo at `path` and checks it whole against `limits`.
pub(crate) fn check_photo(path: &Path, limits: &PhotoLimits) -> Result<NewPhoto> {
    let bytes = read_limited(path, limits.max_bytes)?;
    check_photo_bytes(path, bytes, limits)
}

/// Checks a photo's `bytes` whole against `limits`; `label` names it in errors.
pub(crate) fn check_photo_bytes(
    label: &Path,
    bytes: Vec<u8>,
    limits: &PhotoLimits,
) -> Result<NewPhoto> {
    if bytes.is_empty() {
        return Err(PhotoError::Empty {
            path: label.to_path_buf(),
        }
        .into());
    }
    if bytes.len() as u64 > limits.max_bytes {
        return Err(PhotoError::TooLarge {
            path: label.to_path_buf(),
            size: bytes.len() as u64,
            max: limits.max_bytes,
        }
        .into());
    }
    let path = label;
    let checked = inspect(path, &bytes, limits)?;
    let sha256 = hex(&Sha256::digest(&bytes));
    Ok(NewPhoto {
        sha256,
        bytes,
        checked,
    })
}

/// Writes a checked photo into the folder `dir` (sealed with `key` when the store is
/// encrypted) and records it; if recording fails, a file this call created is removed.
pub(crate) fn store_photo(
    conn: &Connection,
    dir: &Path,
    key: Option<&Key>,
    new: &NewPhoto,
    now_ms: i64,
) -> Result<()> {
    let checked = &new.checked;
    let final_path = photo_path(dir, &new.sha256, checked.format);
    let created = match key {
        Some(key) => store_bytes(&final_path, &sealed::seal(key, &new.sha256, &new.bytes)?)?,
        None => store_bytes(&final_path, &new.bytes)?,
    };
    let recorded = conn.execute(
        "INSERT INTO photo (sha256, mime, size_bytes, width, height, taken_at_ms, lat, lon, orientation, thumbnail, stored_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT (sha256) DO NOTHING",
        params![
            new.sha256,
            mime(checked.format),
            new.bytes.len() as i64,
            checked.width,
            checked.height,
            checked.exif.taken_at_ms,
            checked.exif.lat,
            checked.exif.lon,
            checked.exif.orientation,
            checked.thumbnail,
            now_ms
        ],
    );
    if let Err(e) = recorded {
        if created {
            let _ = std::fs::remove_file(&final_path);
        }
        return Err(e.into());
    }
    Ok(())
}

/// A stored photo's details; its path is in `dir` (empty without one).
pub(crate) fn photo(conn: &Connection, dir: Option<&Path>, sha256: &str) -> Result<PhotoInfo> {
    let sha = sha256.trim().to_ascii_lowercase();
    let row = conn
        .query_row(
            "SELECT sha256, mime, size_bytes, width, height, taken_at_ms, lat, lon, orientation, length(thumbnail)
               FROM photo WHERE sha256 = ?1",
            [&sha],
            |r| {
                Ok(PhotoInfo {
                    sha256: r.get(0)?,
                    mime: r.get(1)?,
                    size_bytes: r.get::<_, i64>(2)? as u64,
                    width: r.get(3)?,
                    height: r.get(4)?,
                    taken_at_ms: r.get(5)?,
                    lat: r.get(6)?,
                    lon: r.get(7)?,
                    orientation: r.get(8)?,
                    thumbnail_bytes: r.get::<_, i64>(9)? as u64,
                    path: PathBuf::new(),
                    already_stored: true,
                })
            },
        )
        .optional()?
        .ok_or_else(|| PhotoError::Unknown(sha.clone()))?;
    let format = if row.mime == "image/png" {
        ImageFormat::Png
    } else {
        ImageFormat::Jpeg
    };
    let path = dir
        .map(|d| photo_path(d, &row.sha256, format))
        .unwrap_or_default();
    Ok(PhotoInfo { path, ..row })
}

/// A stored photo original's bytes, opened when its file is sealed (with `key`: the seal also
/// proves they are the bytes sealed under this photo's name), checked against the size recorded
/// for it (the server checks a plain file's hash when it arrives).
pub(crate) fn photo_bytes(info: &PhotoInfo, key: Option<&Key>) -> Result<Vec<u8>> {
    let io = |source| Error::Io {
        path: info.path.clone(),
        source,
    };
    let bytes = std::fs::read(&info.path).map_err(io)?;
    let bytes = sealed::open(key, &info.sha256, &info.path, bytes)?;
    if bytes.len() as u64 != info.size_bytes {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "the original on this device is not the photo recorded ({} bytes, {} expected)",
                bytes.len(),
                info.size_bytes
            ),
        )));
    }
    Ok(bytes)
}

/// A stored photo's thumbnail (JPEG bytes).
pub(crate) fn photo_thumbnail(conn: &Connection, sha256: &str) -> Result<Vec<u8>> {
    let sha = sha256.trim().to_ascii_lowercase();
    conn.query_row(
        "SELECT thumbnail FROM photo WHERE sha256 = ?1",
        [&sha],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| PhotoError::Unknown(sha).into())
}

/// Whether `path_or_sha` names a stored photo by its hash rather than a file.
pub(crate) fn looks_like_hash(path_or_sha: &str) -> bool {
    path_or_sha.len() == 64
        && path_or_sha.chars().all(|c| c.is_ascii_hexdigit())
        && !Path::new(path_or_sha).exists()
}

fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    if size > max {
        return Err(PhotoError::TooLarge {
            path: path.into(),
            size,
            max,
        }
        .into());
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(max + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > max {
        return Err(PhotoError::TooLarge {
            path: path.into(),
            size: bytes.len() as u64,
            max,
        }
        .into());
    }
    if bytes.is_empty() {
        return Err(PhotoError::Empty { path: path.into() }.into());
    }
    Ok(bytes)
}

/// A photo received as bytes (a resident's upload to the signboard page), checked whole: what
/// the phones record of a photo they store.
#[derive(Debug, Clone, PartialEq)]
pub struct InspectedPhoto {
    pub sha256: String,
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
    pub exif: ExifFacts,
    /// A JPEG of at most [`THUMBNAIL_MAX_PX`] a side, orientation applied.
    pub thumbnail: Vec<u8>,
}

/// Checks a photo's bytes as [`crate::Store::add_photo`] checks a file (size, real type by
/// content, pixel count, that it decodes) and reads its EXIF and thumbnail; `name` says which
/// photo in errors.
pub fn inspect_photo_bytes(
    name: &str,
    bytes: &[u8],
    limits: &PhotoLimits,
) -> Result<InspectedPhoto> {
    let path = Path::new(name);
    if bytes.is_empty() {
        return Err(PhotoError::Empty { path: path.into() }.into());
    }
    if bytes.len() as u64 > limits.max_bytes {
        return Err(PhotoError::TooLarge {
            path: path.into(),
            size: bytes.len() as u64,
            max: limits.max_bytes,
        }
        .into());
    }
    let checked = inspect(path, bytes, limits)?;
    Ok(InspectedPhoto {
        sha256: hex(&Sha256::digest(bytes)),
        mime: mime(checked.format),
        width: checked.width,
        height: checked.height,
        exif: checked.exif,
        thumbnail: checked.thumbnail,
    })
}

/// A copy of a photo fit to show anyone: decoded, turned upright, at most `max_side_px` a side
/// and encoded again as JPEG, so nothing of the original's metadata (EXIF position, time,
/// camera) is in it.
pub fn public_jpeg(bytes: &[u8], limits: &PhotoLimits, max_side_px: u32) -> Result<Vec<u8>> {
    let checked_path = Path::new("photo");
    let format = image::guess_format(bytes).map_err(|_| PhotoError::NotAnImage {
        path: checked_path.into(),
        found: describe_start(bytes),
    })?;
    let undecodable = |e: image::ImageError| PhotoError::Undecodable {
        path: checked_path.into(),
        format: if format == ImageFormat::Png {
            "PNG"
        } else {
            "JPEG"
        },
        reason: e.to_string(),
    };
    let orientation = read_exif(bytes).orientation;
    let img = decode_within(bytes, format, limits).map_err(undecodable)?;
    let img = if img.width() > max_side_px || img.height() > max_side_px {
        img.resize(
            max_side_px,
            max_side_px,
            image::imageops::FilterType::Triangle,
        )
    } else {
        img
    };
    Ok(upright_jpeg(img, orientation, 80).map_err(undecodable)?)
}

/// The whole image decoded, refused past `limits` (sides, and memory for its pixels).
fn decode_within(
    bytes: &[u8],
    format: ImageFormat,
    limits: &PhotoLimits,
) -> image::ImageResult<DynamicImage> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut decode_limits = Limits::default();
    decode_limits.max_image_width = Some(limits.max_side_px);
    decode_limits.max_image_height = Some(limits.max_side_px);
    decode_limits.max_alloc = Some(limits.max_pixels.saturating_mul(8));
    reader.limits(decode_limits);
    reader.decode()
}

struct Checked {
    format: ImageFormat,
    width: u32,
    height: u32,
    exif: ExifFacts,
    thumbnail: Vec<u8>,
}

/// Checks type, size and pixel count, decodes, and makes the thumbnail.
fn inspect(path: &Path, bytes: &[u8], limits: &PhotoLimits) -> Result<Checked> {
    let format = match image::guess_format(bytes) {
        Ok(f @ (ImageFormat::Jpeg | ImageFormat::Png)) => f,
        Ok(other) => {
            return Err(PhotoError::NotAnImage {
                path: path.into(),
                found: format!("{other:?} image"),
            }
            .into());
        }
        Err(_) => {
            return Err(PhotoError::NotAnImage {
                path: path.into(),
                found: describe_start(bytes),
            }
            .into());
        }
    };
    let name = if format == ImageFormat::Png {
        "PNG"
    } else {
        "JPEG"
    };
    let undecodable = |e: image::ImageError| PhotoError::Undecodable {
        path: path.into(),
        format: name,
        reason: e
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    };
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(undecodable)?;
    if u64::from(width) * u64::from(height) > limits.max_pixels
        || width > limits.max_side_px
        || height > limits.max_side_px
        || width == 0
        || height == 0
    {
        return Err(PhotoError::TooManyPixels {
            path: path.into(),
            width,
            height,
            max_pixels: limits.max_pixels,
            max_side: limits.max_side_px,
        }
        .into());
    }
    let exif = read_exif(bytes);
    let thumbnail = match scaled_jpeg_thumbnail(bytes, format, (width, height), limits) {
        Some(thumb) => thumb,
        None => {
            let img = decode_within(bytes, format, limits).map_err(undecodable)?;
            let (w, h) = thumbnail_size(img.width(), img.height());
            img.thumbnail_exact(w, h)
        }
    };
    let thumbnail = encode_thumbnail(thumbnail, exif.orientation).map_err(undecodable)?;
    Ok(Checked {
        format,
        width,
        height,
        exif,
        thumbnail,
    })
}

/// The thumbnail's size for a `width` x `height` image: at most [`THUMBNAIL_MAX_PX`] a side, the
/// same proportions (as `DynamicImage::thumbnail` computes it).
fn thumbnail_size(width: u32, height: u32) -> (u32, u32) {
    let ratio = f64::min(
        f64::from(THUMBNAIL_MAX_PX) / f64::from(width),
        f64::from(THUMBNAIL_MAX_PX) / f64::from(height),
    );
    let side = |v: u32| ((f64::from(v) * ratio).round() as u32).max(1);
    (side(width), side(height))
}

/// The thumbnail of a JPEG decoded at the smallest of 1/8, 1/4, 1/2 or full size that still
/// covers the thumbnail (DCT scaling: a 12-megapixel camera photo is decoded as 500 x 375
/// pixels, its inverse DCT, colour conversion and the shrinking done on 1/64 of the pixels). Every
/// coefficient of the whole image is still read, so a photo that does not decode is still
/// found out. `None` when this decoder cannot say (not a JPEG, a kind it does not handle such as
/// CMYK or 12-bit, its size not the one the header gave, or an error): the caller then decodes
/// at full size as before, so what is accepted or refused, and why, stays the full decoder's say.
fn scaled_jpeg_thumbnail(
    bytes: &[u8],
    format: ImageFormat,
    (width, height): (u32, u32),
    limits: &PhotoLimits,
) -> Option<DynamicImage> {
    if format != ImageFormat::Jpeg {
        return None;
    }
    let (tw, th) = thumbnail_size(width, height);
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.set_max_decoding_buffer_size(
        usize::try_from(limits.max_pixels.saturating_mul(8)).unwrap_or(usize::MAX),
    );
    decoder.read_info().ok()?;
    let full = decoder.info()?;
    if (u32::from(full.width), u32::from(full.height)) != (width, height) {
        return None;
    }
    let (sw, sh) = decoder
        .scale(u16::try_from(tw).ok()?, u16::try_from(th).ok()?)
        .ok()?;
    let pixels = decoder.decode().ok()?;
    let (sw, sh) = (u32::from(sw), u32::from(sh));
    let img = match decoder.info()?.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => {
            DynamicImage::ImageRgb8(image::RgbImage::from_raw(sw, sh, pixels)?)
        }
        jpeg_decoder::PixelFormat::L8 => {
            DynamicImage::ImageLuma8(image::GrayImage::from_raw(sw, sh, pixels)?)
        }
        jpeg_decoder::PixelFormat::L16 | jpeg_decoder::PixelFormat::CMYK32 => return None,
    };
    Some(img.thumbnail_exact(tw, th))
}

/// The thumbnail turned upright and encoded as JPEG.
fn encode_thumbnail(thumb: DynamicImage, orientation: Option<u16>) -> image::ImageResult<Vec<u8>> {
    upright_jpeg(thumb, orientation, 70)
}

/// An image turned upright by its EXIF `orientation` and encoded as an RGB JPEG of `quality`:
/// only pixels, no metadata.
fn upright_jpeg(
    mut img: DynamicImage,
    orientation: Option<u16>,
    quality: u8,
) -> image::ImageResult<Vec<u8>> {
    if let Some(o) = orientation
        .and_then(|o| u8::try_from(o).ok())
        .and_then(Orientation::from_exif)
    {
        img.apply_orientation(o);
    }
    let rgb = DynamicImage::ImageRgb8(img.to_rgb8());
    let mut out = Vec::new();
    rgb.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
        &mut out, quality,
    ))?;
    Ok(out)
}

/// EXIF time, GPS and orientation; whatever is missing or malformed is `None`.
pub fn read_exif(bytes: &[u8]) -> ExifFacts {
    use exif::{In, Tag, Value};
    let Ok(ex) = exif::Reader::new().read_from_container(&mut Cursor::new(bytes)) else {
        return ExifFacts::default();
    };
    let ascii = |tag| match ex.get_field(tag, In::PRIMARY).map(|f| &f.value) {
        Some(Value::Ascii(v)) => v.first().map(|s| String::from_utf8_lossy(s).into_owned()),
        _ => None,
    };
    let coordinate = |tag, reference, negative: &str| -> Option<f64> {
        let Some(Value::Rational(parts)) = ex.get_field(tag, In::PRIMARY).map(|f| &f.value) else {
            return None;
        };
        if parts.len() < 3 || parts.iter().take(3).any(|r| r.denom == 0) {
            return None;
        }
        let deg = parts[0].to_f64() + parts[1].to_f64() / 60.0 + parts[2].to_f64() / 3600.0;
        let sign = if ascii(reference).is_some_and(|r| r.trim().eq_ignore_ascii_case(negative)) {
            -1.0
        } else {
            1.0
        };
        Some(sign * deg)
    };
    let lat = coordinate(Tag::GPSLatitude, Tag::GPSLatitudeRef, "S");
    let lon = coordinate(Tag::GPSLongitude, Tag::GPSLongitudeRef, "W");
    let (lat, lon) = match (lat, lon) {
        (Some(a), Some(o)) if crate::geodesy::check_coordinates(a, o).is_ok() => (Some(a), Some(o)),
        _ => (None, None),
    };
    let orientation = ex
        .get_field(Tag::Orientation, In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .and_then(|o| u16::try_from(o).ok())
        .filter(|o| (1..=8).contains(o));
    let taken_at_ms = ascii(Tag::DateTimeOriginal)
        .or_else(|| ascii(Tag::DateTime))
        .and_then(|t| exif_time_ms(&t, ascii(Tag::OffsetTimeOriginal).as_deref()));
    ExifFacts {
        taken_at_ms,
        lat,
        lon,
        orientation,
    }
}

/// "2024:05:01 16:00:00" (camera local time) with an optional "+08:00" offset; Beijing time
/// when no offset is given.
fn exif_time_ms(text: &str, offset: Option<&str>) -> Option<i64> {
    let nums: Vec<i64> = text
        .split([':', ' ', '-', 'T'])
        .filter(|s| !s.is_empty())
        .map(|s| s.trim().parse().ok())
        .collect::<Option<_>>()?;
    let [y, mo, d, h, mi, s] = nums[..] else {
        return None;
    };
    let month = time::Month::try_from(u8::try_from(mo).ok()?).ok()?;
    let date = time::Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(d).ok()?)
        .ok()?;
    let t = time::Time::from_hms(
        u8::try_from(h).ok()?,
        u8::try_from(mi).ok()?,
        u8::try_from(s).ok()?,
    )
    .ok()?;
    let offset_s = match offset.map(str::trim) {
        Some(o) if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let hh: i64 = o.get(1..3)?.parse().ok()?;
            let mm: i64 = o.get(4..6)?.parse().ok()?;
            sign * (hh * 3600 + mm * 60)
        }
        _ => 8 * 3600,
    };
    let local = time::PrimitiveDateTime::new(date, t)
        .assume_utc()
        .unix_timestamp();
    Some((local - offset_s) * 1000)
}

fn describe_start(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(16)];
    if head
        .iter()
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        format!("it starts with text {:?}", String::from_utf8_lossy(head))
    } else {
        format!("it starts with bytes {}", hex(head))
    }
}

fn mime(format: ImageFormat) -> &'static str {
    if format == ImageFormat::Png {
        "image/png"
    } else {
        "image/jpeg"
    }
}

fn photo_path(dir: &Path, sha256: &str, format: ImageFormat) -> PathBuf {
    let ext = if format == ImageFormat::Png {
        "png"
    } else {
        "jpg"
    };
    dir.join(&sha256[..2]).join(format!("{sha256}.{ext}"))
}

/// Stores a photo's bytes at its content-addressed path (whole or not at all, see
/// [`crate::files`]); false when a file of the same length was there already (the same
/// content, plain or sealed the same way).
fn store_bytes(target: &Path, bytes: &[u8]) -> Result<bool> {
    if std::fs::metadata(target).is_ok_and(|m| m.len() == bytes.len() as u64) {
        return Ok(false);
    }
    crate::files::write_atomically(target, bytes)?;
    Ok(true)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(img: DynamicImage) -> Vec<u8> {
        let mut out = Vec::new();
        img.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
            &mut out, 85,
        ))
        .unwrap();
        out
    }

    /// A picture with detail everywhere, `w` x `h`, colour or grey.
    fn scene(w: u32, h: u32, grey: bool) -> DynamicImage {
        let rgb = image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([
                (x * 255 / w) as u8,
                (y * 255 / h) as u8,
                ((x / 7 + y / 5) % 2 * 120 + (x ^ y) % 60) as u8,
            ])
        });
        let img = DynamicImage::ImageRgb8(rgb);
        if grey {
            DynamicImage::ImageLuma8(img.to_luma8())
        } else {
            img
        }
    }

    fn mean(img: &DynamicImage) -> [f64; 3] {
        let rgb = img.to_rgb8();
        let n = f64::from(rgb.width() * rgb.height());
        let mut sum = [0.0; 3];
        for p in rgb.pixels() {
            for (s, v) in sum.iter_mut().zip(p.0) {
                *s += f64::from(v);
            }
        }
        sum.map(|s| s / n)
    }

    #[test]
    fn a_large_jpeg_is_thumbnailed_from_a_scaled_decode_like_the_full_one() {
        for (w, h, grey) in [(2001, 1333, false), (1333, 2001, false), (1600, 1200, true)] {
            let bytes = jpeg(scene(w, h, grey));
            let limits = PhotoLimits::default();
            let scaled = scaled_jpeg_thumbnail(&bytes, ImageFormat::Jpeg, (w, h), &limits)
                .expect("decoded at a fraction of its size");
            let full = image::load_from_memory(&bytes)
                .unwrap()
                .thumbnail(THUMBNAIL_MAX_PX, THUMBNAIL_MAX_PX);
            assert_eq!(
                (scaled.width(), scaled.height()),
                (full.width(), full.height()),
                "{w} x {h}"
            );
            for (a, b) in mean(&scaled).iter().zip(mean(&full)) {
                assert!((a - b).abs() < 4.0, "{w} x {h}: {a} against {b}");
            }
            let p = inspect_photo_bytes("p.jpg", &bytes, &limits).unwrap();
            assert_eq!((p.width, p.height), (w, h));
            let t = image::load_from_memory(&p.thumbnail).unwrap();
            assert_eq!((t.width(), t.height()), (full.width(), full.height()));
        }
    }

    #[test]
    fn what_the_scaled_decoder_refuses_the_full_decoder_judges_as_before() {
        let bytes = jpeg(scene(1600, 1200, false));
        let limits = PhotoLimits::default();
        // Cut in the middle of its pixels: the scaled decoder gives up, the full decoder (which
        // judged every photo before) decodes what is there, so the photo is taken as before.
        let cut = &bytes[..bytes.len() * 3 / 4];
        assert!(scaled_jpeg_thumbnail(cut, ImageFormat::Jpeg, (1600, 1200), &limits).is_none());
        let full = image::load_from_memory(cut).map(|_| ());
        let inspected = inspect_photo_bytes("cut.jpg", cut, &limits).map(|_| ());
        assert_eq!(inspected.is_ok(), full.is_ok());
        // Cut in its headers: refused, as before.
        assert!(inspect_photo_bytes("cut.jpg", &bytes[..300], &limits).is_err());
    }

    #[test]
    fn exif_times_default_to_beijing_time() {
        // 2024-05-01 16:00 in Beijing is 08:00 UTC.
        assert_eq!(
            exif_time_ms("2024:05:01 16:00:00", None),
            Some(1_714_550_400_000)
        );
        assert_eq!(
            exif_time_ms("2024:05:01 10:00:00", Some("+02:00")),
            Some(1_714_550_400_000)
        );
        assert_eq!(exif_time_ms("0000:00:00 00:00:00", None), None);
        assert_eq!(exif_time_ms("garbage", None), None);
        // An offset that is not ASCII must not panic on a char boundary.
        assert_eq!(exif_time_ms("2024:05:01 16:00:00", Some("+0é:0")), None);
    }
}
