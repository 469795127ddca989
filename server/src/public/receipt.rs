//! A report's progress for the resident who made it, read with the receipt token: plain steps
//! (reported, dispatched, handled, verified, or returned with the reason), who acted by role or
//! department only (never a name or a number), and the photos to show.

use patrol_model::Role;
use patrol_model::domain::{Department, IssueEventKind, IssueStatus, PhotoStage};
use patrol_model::issues::Assignee;

use super::contact::{mask_numbers, mask_phone};
use super::{PublicError, PublicResult, normalise_token};
use crate::storage::{PublicReportRow, Tx};

/// Who acted, as the public is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Resident,
    Role(Role),
    Department(Department),
}

/// One step of the loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub kind: IssueEventKind,
    pub at_ms: i64,
    pub by: Actor,
    /// For a dispatch: to whom (a department, or a role when it went to a person).
    pub to: Option<Actor>,
    /// Why it was returned, reopened or cancelled, as the one who did it wrote.
    pub reason: Option<String>,
}

/// What the receipt page shows.
#[derive(Debug, Clone)]
pub struct ReceiptView {
    pub report: PublicReportRow,
    pub category: String,
    pub description: String,
    pub status: IssueStatus,
    pub steps: Vec<Step>,
    /// The resident's own photos (SHA-256).
    pub before_photos: Vec<String>,
    /// The after-photo of the fix, once resolved.
    pub after_photo: Option<String>,
    pub contact_masked: Option<String>,
    /// The district's categories, for the label.
    pub catalog: patrol_model::issues::Catalog,
}

impl ReceiptView {
    /// Whether `sha` is a photo this receipt shows.
    pub fn shows_photo(&self, sha: &str) -> bool {
        self.after_photo.as_deref() == Some(sha) || self.before_photos.iter().any(|p| p == sha)
    }
}

/// The report a receipt token names, and its issue folded.
pub fn receipt(tx: &mut dyn Tx, token: &str) -> PublicResult<ReceiptView> {
    let token = normalise_token(token).ok_or(PublicError::NotFound)?;
    let report = tx
        .public_report(&crate::secrets::hash_secret(&token))?
        .ok_or(PublicError::NotFound)?;
    if tx.quarantined("doc:issue", &report.issue_id)?.is_some() {
        // Held by the district's administrator: nothing of it is shown until released.
        return Err(PublicError::NotFound);
    }
    let row = tx
        .doc(&report.issue_id)?
        .ok_or_else(|| anyhow::anyhow!("issue {} of a receipt is missing", report.issue_id))?;
    let doc = automerge::Automerge::load(&row.data)
        .map_err(|e| anyhow::anyhow!("issue {} unreadable: {e}", report.issue_id))?;
    let issue = patrol_model::issues::doc::read(&doc)
        .map_err(|e| anyhow::anyhow!("issue {} unreadable: {e}", report.issue_id))?;
    let state = patrol_model::issues::workflow::fold(&issue);
    let actor = |role: Role| {
        if role == Role::Public {
            Actor::Resident
        } else {
            Actor::Role(role)
        }
    };
    let mut after_photo = None;
    let mut steps = Vec::new();
    for e in state.applied() {
        let to = match &e.payload.to {
            Some(Assignee::Department(d)) => Some(Actor::Department(*d)),
            // A person: said by what they do, not who they are.
            Some(Assignee::User(u)) => tx.user(u)?.map(|u| actor(u.role)),
            None => None,
        };
        if e.kind == IssueEventKind::Resolve {
            after_photo = e.payload.photo.clone();
        }
        if matches!(e.kind, IssueEventKind::Reopen) {
            after_photo = None;
        }
        steps.push(Step {
            kind: e.kind,
            at_ms: e.at.wall_ms,
            by: actor(e.role),
            to,
            reason: e.payload.reason.as_deref().map(mask_numbers),
        });
    }
    let before_photos = issue
        .photos
        .iter()
        .filter(|p| p.stage == PhotoStage::Before && p.added_by == issue.reporter.user_id)
        .map(|p| p.sha256.clone())
        .collect();
    Ok(ReceiptView {
        catalog: crate::rules::catalog(tx)?,
        contact_masked: report.contact_phone.as_deref().map(mask_phone),
        report,
        category: issue.category.clone(),
        description: issue.description.clone(),
        status: state.status,
        steps,
        before_photos,
        after_photo,
    })
}

/// Everything the district holds of a resident's report, for the resident holding its receipt
/// (PIPL's right of access), as JSON: the report as they made it (category, description, place to
/// about 100 m, time), their photos (by hash, with the time the camera recorded), the issue's
/// progress as the receipt shows it, and whether a contact phone is held. Whoever holds the
/// receipt link may not be the resident (links get forwarded), so it shows no more of the phone
/// than the receipt does, and no precise place.
pub fn resident_data(tx: &mut dyn Tx, token: &str, now_ms: i64) -> PublicResult<serde_json::Value> {
    let view = receipt(tx, token)?;
    let doc = tx
        .doc(&view.report.issue_id)?
        .ok_or(PublicError::NotFound)?;
    let issue = automerge::Automerge::load(&doc.data)
        .ok()
        .and_then(|d| patrol_model::issues::doc::read(&d).ok())
        .ok_or(PublicError::NotFound)?;
    let photos: Vec<serde_json::Value> = issue
        .photos
        .iter()
        .filter(|p| view.before_photos.contains(&p.sha256))
        .map(|p| serde_json::json!({ "sha256": p.sha256, "taken_at_ms": p.taken_at_ms }))
        .collect();
    let steps: Vec<serde_json::Value> = view
        .steps
        .iter()
        .map(|s| serde_json::json!({ "step": s.kind.as_str(), "at_ms": s.at_ms, "reason": s.reason }))
        .collect();
    Ok(serde_json::json!({
        "format": "streetpatrol.resident-report/1",
        "exported_at_ms": now_ms,
        "issue_id": view.report.issue_id,
        "reported_at_ms": view.report.created_at_ms,
        "category": view.category,
        "description": view.description,
        // To about 100 m, like the camera's place, which is left out: a receipt link may have
        // been forwarded, and the street says where the problem is.
        "location": {
            "lat": (issue.location.lat * 1000.0).round() / 1000.0,
            "lon": (issue.location.lon * 1000.0).round() / 1000.0,
            "street_id": view.report.street_id,
        },
        "photos": photos,
        "status": view.status.as_str(),
        "steps": steps,
        "contact_phone": view.contact_masked,
    }))
}

/// Erases the contact phone of the report a receipt token names, at the resident's request, and
/// records it in the office's audit log; false when none was held.
pub fn erase_contact(tx: &mut dyn Tx, token: &str, now_ms: i64) -> PublicResult<bool> {
    let token = normalise_token(token).ok_or(PublicError::NotFound)?;
    let report = tx
        .public_report(&crate::secrets::hash_secret(&token))?
        .ok_or(PublicError::NotFound)?;
    let erased = tx.erase_contact_phone(&report.issue_id)?;
    if erased {
        tx.put_audit(&crate::storage::AuditRow {
            seq: 0,
            at_ms: now_ms,
            user_id: None,
            action: "public.erase_contact".into(),
            target: Some(report.issue_id.clone()),
            detail: "the resident erased their contact phone from the receipt page".into(),
            address: None,
        })?;
    }
    Ok(erased)
}
