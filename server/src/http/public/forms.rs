//! Reading the report form's multipart body with every part bounded: text fields to
//! [`MAX_TEXT_FIELD_BYTES`], photos to the server's photo limit (a photo past it is dropped and
//! said, not read to the end into memory), at most [`MAX_PUBLIC_PHOTOS`] photos kept.

use axum::extract::Multipart;

use crate::public::report::{MAX_PUBLIC_PHOTO_BYTES, MAX_PUBLIC_PHOTOS};

/// Longest text part read.
const MAX_TEXT_FIELD_BYTES: usize = 8 * 1024;
/// Most parts a form may have.
const MAX_PARTS: usize = 32;

/// The report form as sent.
#[derive(Debug, Default)]
pub struct ReportForm {
    pub form_token: String,
    pub website: String,
    pub lang: String,
    pub category: String,
    pub description: String,
    pub contact_phone: String,
    pub lat: String,
    pub lon: String,
    pub photos: Vec<Vec<u8>>,
    pub photo_too_large: bool,
    pub too_many_photos: bool,
}

/// Why a body could not be read as the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormFault {
    Malformed,
    TooLarge,
}

fn fault(e: &axum::extract::multipart::MultipartError) -> FormFault {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        FormFault::TooLarge
    } else {
        FormFault::Malformed
    }
}

/// Reads the form.
pub async fn read_report(mut m: Multipart) -> Result<ReportForm, FormFault> {
    let mut f = ReportForm::default();
    let mut parts = 0;
    while let Some(mut field) = m.next_field().await.map_err(|e| fault(&e))? {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(FormFault::Malformed);
        }
        let name = field.name().unwrap_or_default().to_owned();
        if name == "photos" {
            let mut bytes = Vec::new();
            let mut over = false;
            while let Some(chunk) = field.chunk().await.map_err(|e| fault(&e))? {
                if over {
                    continue;
                }
                if (bytes.len() + chunk.len()) as u64 > MAX_PUBLIC_PHOTO_BYTES {
                    over = true;
                    bytes = Vec::new();
                    continue;
                }
                bytes.extend_from_slice(&chunk);
            }
            if over {
                f.photo_too_large = true;
            } else if !bytes.is_empty() {
                // A file input left empty sends an empty part.
                if f.photos.len() == MAX_PUBLIC_PHOTOS {
                    f.too_many_photos = true;
                } else {
                    f.photos.push(bytes);
                }
            }
            continue;
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| fault(&e))? {
            if bytes.len() + chunk.len() > MAX_TEXT_FIELD_BYTES {
                return Err(FormFault::Malformed);
            }
            bytes.extend_from_slice(&chunk);
        }
        let text = String::from_utf8(bytes).map_err(|_| FormFault::Malformed)?;
        let slot = match name.as_str() {
            "form_token" => &mut f.form_token,
            "website" => &mut f.website,
            "lang" => &mut f.lang,
            "category" => &mut f.category,
            "description" => &mut f.description,
            "contact_phone" => &mut f.contact_phone,
            "lat" => &mut f.lat,
            "lon" => &mut f.lon,
            _ => continue,
        };
        *slot = text;
    }
    Ok(f)
}

/// The position the form gives: none when both are empty, an error when they are not a place.
pub fn position(lat: &str, lon: &str) -> Result<Option<(f64, f64)>, ()> {
    match (lat.trim(), lon.trim()) {
        ("", "") => Ok(None),
        (a, o) => {
            let (a, o) = (
                a.parse::<f64>().map_err(|_| ())?,
                o.parse::<f64>().map_err(|_| ())?,
            );
            patrol_model::geodesy::check_coordinates(a, o).map_err(|_| ())?;
            Ok(Some((a, o)))
        }
    }
}
