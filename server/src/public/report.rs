//! A resident's report through a signboard page becomes an issue document, written by the public
//! desk ([`super::desk`]) exactly as a phone writes a report (one change with the report event and
//! the before-photos) and stored after the checks a phone's upload passes
//! ([`crate::sync::accept_server_doc`]: document model, role table, fold). It lies on the
//! signboard's street, so the street's chief, the subdistrict's supervisors and the district's
//! receive it on their next sync as they would a chief's own report; its photos become blobs
//! the phones download like any other.
//!
//! Everything is checked before anything is written; the photo files are written first
//! (content-addressed, so a retry finds them) and removed again if the transaction fails.

use std::path::{Path, PathBuf};

use automerge::Automerge;
use patrol_core::photos::{InspectedPhoto, inspect_photo_bytes};
use patrol_model::domain::{IssueEventId, IssueEventKind, IssueId, PhotoStage};
use patrol_model::hlc::HlcClock;
use patrol_model::issues::doc::{self, NewIssueDoc};
use patrol_model::issues::{Catalog, EventPayload, IssueEvent, IssueLocation, PhotoRef, Reporter};
use patrol_model::photos::PhotoLimits;
use patrol_model::wire::DocKind;

use super::contact::check_phone;
use super::signboards::{self, VerifiedSignboard};
use super::{Field, FieldError, Problem, PublicError, PublicResult, check_text, new_public_token};
use crate::blob_access::blob_file;
use crate::policy::DocPolicy;
use crate::storage::{BlobRow, PublicReportRow, Storage};

/// Most photos one report carries.
pub const MAX_PUBLIC_PHOTOS: usize = 3;
/// Largest photo a resident may send (the page shrinks camera photos before sending; this is
/// the server's own limit).
pub const MAX_PUBLIC_PHOTO_BYTES: u64 = 8 * 1024 * 1024;
/// Longest description.
pub const MAX_PUBLIC_DESCRIPTION_CHARS: usize = 500;
/// How far from the signboard (or its street) a position may be and still be about the street.
pub const MAX_FROM_SIGNBOARD_M: f64 = 500.0;

/// What a resident's photo may be: a phone camera's photo fits (16 megapixels, 4,096 px a side;
/// the page shrinks larger ones before sending), a small file that decodes into gigabytes does
/// not.
pub const PUBLIC_PHOTO_LIMITS: PhotoLimits = PhotoLimits {
    max_bytes: MAX_PUBLIC_PHOTO_BYTES,
    max_pixels: 16_000_000,
    max_side_px: 4_096,
};

/// What a resident sent, as the form gave it.
#[derive(Debug, Clone, Default)]
pub struct NewPublicReport {
    pub code: String,
    pub category: String,
    pub description: String,
    /// The photos' bytes, as uploaded.
    pub photos: Vec<Vec<u8>>,
    /// The browser's geolocation, when the resident allowed it.
    pub position: Option<(f64, f64)>,
    pub contact_phone: String,
}

/// What the resident keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicReceipt {
    /// The receipt token (the server keeps only its hash).
    pub token: String,
    pub issue_id: IssueId,
}

/// Where the report is placed and why.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PositionSource {
    Browser,
    PhotoExif,
    Signboard,
    Street,
}

/// The report's fields, checked: every problem found at once.
struct Checked {
    category: String,
    description: String,
    photos: Vec<(Vec<u8>, InspectedPhoto)>,
    contact_phone: Option<String>,
}

fn check_fields(
    new: &NewPublicReport,
    photos_in: Vec<Vec<u8>>,
    catalog: &Catalog,
) -> Result<Checked, Vec<FieldError>> {
    let mut errors = Vec::new();
    let category = match new.category.trim() {
        "" => {
            errors.push(FieldError::new(Field::Category, Problem::Missing));
            String::new()
        }
        c => match catalog.get(c) {
            Some(spec) => spec.code.clone(),
            None => {
                errors.push(FieldError::new(Field::Category, Problem::NotInCatalog));
                String::new()
            }
        },
    };
    // Every phone the issue reaches receives its description (the street's chief, supervisors, a
    // crew once assigned): a number typed into it is masked, the contact field is for that.
    let description = super::contact::mask_numbers(&check_text(
        Field::Description,
        &new.description,
        false,
        MAX_PUBLIC_DESCRIPTION_CHARS,
        &mut errors,
    ));
    let contact_phone = match new.contact_phone.trim() {
        "" => None,
        t => {
            let p = check_phone(t);
            if p.is_none() {
                errors.push(FieldError::new(Field::Phone, Problem::BadPhone));
            }
            p
        }
    };
    let mut photos = Vec::new();
    if photos_in.len() > MAX_PUBLIC_PHOTOS {
        errors.push(FieldError::new(
            Field::Photos,
            Problem::TooManyPhotos {
                max: MAX_PUBLIC_PHOTOS,
            },
        ));
    } else {
        for (i, bytes) in photos_in.into_iter().enumerate() {
            if bytes.len() as u64 > MAX_PUBLIC_PHOTO_BYTES {
                errors.push(FieldError::new(
                    Field::Photos,
                    Problem::PhotoTooLarge {
                        max_bytes: MAX_PUBLIC_PHOTO_BYTES,
                    },
                ));
                break;
            }
            match inspect_photo_bytes(&format!("photo {}", i + 1), &bytes, &PUBLIC_PHOTO_LIMITS) {
                Ok(p) => photos.push((bytes, p)),
                Err(_) => {
                    errors.push(FieldError::new(Field::Photos, Problem::NotAPhoto));
                    break;
                }
            }
        }
    }
    if let Some((lat, lon)) = new.position
        && patrol_model::geodesy::check_coordinates(lat, lon).is_err()
    {
        errors.push(FieldError::new(Field::Location, Problem::BadPosition));
    }
    if errors.is_empty() {
        Ok(Checked {
            category,
            description,
            photos,
            contact_phone,
        })
    } else {
        Err(errors)
    }
}

/// Where the issue is: the browser's position when it is near the signboard, else a photo's
/// EXIF position near it, else the signboard's own, else a point of its street.
pub fn place(
    signboard: &VerifiedSignboard,
    browser: Option<(f64, f64)>,
    exif: &[(f64, f64)],
) -> Option<((f64, f64), PositionSource)> {
    let near = |p: &(f64, f64)| signboard.distance_m(p.0, p.1) <= MAX_FROM_SIGNBOARD_M;
    if let Some(p) = browser.filter(near) {
        return Some((p, PositionSource::Browser));
    }
    if let Some(p) = exif.iter().copied().find(near) {
        return Some((p, PositionSource::PhotoExif));
    }
    if let Some(p) = signboard.position() {
        return Some((p, PositionSource::Signboard));
    }
    signboard
        .street_point()
        .map(|p| (p, PositionSource::Street))
}

/// Checks a resident's report, writes it as an issue of the signboard's street and returns the
/// receipt. Nothing is stored when anything is wrong.
pub fn submit(
    storage: &dyn Storage,
    policy: &dyn DocPolicy,
    blobs_dir: &Path,
    mut new: NewPublicReport,
    now_ms: i64,
) -> PublicResult<PublicReceipt> {
    // The signboard first: a forged code is "not found", whatever else the form says.
    let (signboard, catalog) = {
        let mut tx = storage.read()?;
        let signboard = signboards::verify(tx.as_mut(), &new.code)?;
        (signboard, crate::rules::catalog(tx.as_mut())?)
    };
    let photos = std::mem::take(&mut new.photos);
    let checked = check_fields(&new, photos, &catalog).map_err(PublicError::Fields)?;
    let exif: Vec<(f64, f64)> = checked
        .photos
        .iter()
        .filter_map(|(_, p)| p.exif.lat.zip(p.exif.lon))
        .collect();
    let ((lat, lon), source) = place(&signboard, new.position, &exif)
        .ok_or_else(|| anyhow::anyhow!("signboard {} has no street geometry", signboard.row.id))?;

    // One writer at a time from here (the storage's write lock, which device uploads of photos
    // take too): a photo file is written only when no stored blob has it, and removed again,
    // still under the lock, when this report is not stored after all.
    let mut tx = storage.write()?;
    let mut created: Vec<PathBuf> = Vec::new();
    let written = (|| -> PublicResult<PublicReceipt> {
        for (bytes, p) in &checked.photos {
            if tx.blob(&p.sha256)?.is_some_and(|b| b.complete) {
                continue;
            }
            let path = blob_file(blobs_dir, &p.sha256);
            crate::blob_access::write_blob_file(&path, bytes)
                .map_err(crate::storage::StorageError::from)?;
            created.push(path);
        }
        let desk = super::desk::desk(tx.as_mut(), now_ms)?;
        let issue_id = IssueId::new();
        let near = |p: &InspectedPhoto| {
            p.exif
                .lat
                .zip(p.exif.lon)
                .filter(|q| signboard.distance_m(q.0, q.1) <= MAX_FROM_SIGNBOARD_M)
        };
        let photos: Vec<PhotoRef> = checked
            .photos
            .iter()
            .map(|(bytes, p)| PhotoRef {
                sha256: p.sha256.clone(),
                stage: PhotoStage::Before,
                mime: p.mime.to_owned(),
                size_bytes: bytes.len() as u64,
                width: p.width,
                height: p.height,
                taken_at_ms: p.exif.taken_at_ms,
                // Where it was taken: its own position when that is about this street, else
                // the report's (a far one stays out of what the phones are sent).
                lat: Some(near(p).map_or(lat, |q| q.0)),
                lon: Some(near(p).map_or(lon, |q| q.1)),
                orientation: p.exif.orientation,
                added_by: desk.user.id,
                thumbnail: p.thumbnail.clone(),
            })
            .collect();
        let reporter = Reporter {
            user_id: desk.user.id,
            name: super::desk::REPORTER_NAME.into(),
            role: desk.user.role,
            device_id: desk.device_id,
        };
        let report = IssueEvent {
            id: IssueEventId::new(),
            kind: IssueEventKind::Report,
            by: desk.user.id,
            role: desk.user.role,
            device: desk.device_id,
            at: HlcClock::new(desk.actor_id.clone()).tick(now_ms),
            round: 1,
            payload: EventPayload {
                note: (!checked.description.is_empty()).then(|| checked.description.clone()),
                ..Default::default()
            },
        };
        let location = IssueLocation {
            lat,
            lon,
            street_id: Some(signboard.row.street_id.clone()),
            segment_id: None,
        };
        let actor = patrol_model::docs::fields::actor_from_hex(&desk.actor_id)
            .map_err(|e| anyhow::anyhow!("the desk's actor: {e}"))?;
        let doc: Automerge = doc::create(
            actor,
            &NewIssueDoc {
                id: issue_id,
                category: &checked.category,
                description: &checked.description,
                location: &location,
                reporter: &reporter,
                report: &report,
                photos: &photos,
            },
        )
        .map_err(|e| anyhow::anyhow!("writing the issue document: {e}"))?;
        for (bytes, p) in &checked.photos {
            if tx.blob(&p.sha256)?.is_none_or(|b| !b.complete) {
                tx.put_blob(
                    &BlobRow {
                        hash: p.sha256.clone(),
                        size: bytes.len() as u64,
                        received: bytes.len() as u64,
                        complete: true,
                        uploaded_by: Some(desk.user.id),
                    },
                    now_ms,
                )?;
            }
        }
        let scope = crate::sync::accept_server_doc(
            tx.as_mut(),
            policy,
            &desk,
            DocKind::Issue,
            &issue_id.to_string(),
            &doc,
            now_ms,
        )
        .map_err(|e| anyhow::anyhow!("the server refused its own report: {e}"))?;
        if scope.street_id.as_deref() != Some(signboard.row.street_id.as_str()) {
            return Err(anyhow::anyhow!("a public report landed outside its street").into());
        }
        let token = new_public_token();
        tx.put_public_report(&PublicReportRow {
            token_hash: crate::secrets::hash_secret(&token),
            issue_id: issue_id.to_string(),
            signboard_id: signboard.row.id.clone(),
            street_id: signboard.row.street_id.clone(),
            contact_phone: checked.contact_phone.clone(),
            created_at_ms: now_ms,
        })?;
        Ok(PublicReceipt { token, issue_id })
    })();
    match written {
        Ok(receipt) => match tx.commit() {
            Ok(()) => {
                tracing::debug!(issue = %receipt.issue_id, position = ?source, "public report stored");
                Ok(receipt)
            }
            Err(e) => {
                for path in &created {
                    let _ = std::fs::remove_file(path);
                }
                Err(e.into())
            }
        },
        Err(e) => {
            for path in &created {
                let _ = std::fs::remove_file(path);
            }
            drop(tx);
            Err(e)
        }
    }
}
