//! A person's rights under PIPL (个人信息保护法, arts. 44 to 47), on the server: everything it holds
//! about one user, as one machine-readable document (`patrol-server admin person export`). Each
//! export is written to the audit log.
//!
//! What is held about a user: the user row, the devices they enrolled, their streets, their
//! office account (never its password hash) with its sessions and the audit entries of what they
//! did; their patrols with every fix; their pickups and points entries; what they wrote into
//! issue and merchant documents (a report, comments, the events of the loop they acted in,
//! photos they added, inspections); the steward application they became a user through. Figures
//! others' reports compute about them (an assessment, a leaderboard) are derived, not held.
//! Audit entries about them are listed without the address of whoever acted (another person's
//! data).

use serde::Serialize;
use serde_json::{Value, json};

use patrol_model::domain::UserId;
use patrol_model::wire::{LedgerRecord, PatrolRecord, UserRecord};

use crate::storage::{AuditRow, Storage, StorageError, Tx};

/// The export's `format`, for whoever reads it.
pub const EXPORT_FORMAT: &str = "streetpatrol.person-export/1";

/// Fixes read from storage at a time.
const FIX_PAGE: usize = 10_000;

/// Audit entries read at a time.
const AUDIT_PAGE: usize = 1_000;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum RightsError {
    #[error("no user {0} on this server")]
    UnknownUser(UserId),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Everything the server holds about one user.
#[derive(Debug, Serialize)]
pub struct PersonExport {
    pub format: &'static str,
    pub exported_at_ms: i64,
    pub user: UserRecord,
    pub devices: Vec<Value>,
    pub streets: Vec<String>,
    pub office: Option<Value>,
    pub patrols: Vec<Value>,
    pub records: Vec<LedgerRecord>,
    pub issues: Vec<Value>,
    pub merchants: Vec<Value>,
    pub steward_applications: Vec<Value>,
    /// Documents that could not be read (damaged), so the person can be told what is missing.
    pub unreadable_documents: Vec<String>,
}

/// Gathers what the server holds about `user`, in one read transaction (the server goes on
/// serving meanwhile).
pub fn export_person(
    storage: &dyn Storage,
    user: &UserId,
    now_ms: i64,
) -> Result<PersonExport, RightsError> {
    let mut tx = storage.read()?;
    gather(tx.as_mut(), user, now_ms)
}

/// Records in the audit log that `user`'s data was exported (once it was delivered); `by` names
/// who asked, in the administrator's words.
pub fn record_export(
    storage: &dyn Storage,
    user: &UserId,
    by: &str,
    now_ms: i64,
) -> Result<(), RightsError> {
    let mut tx = storage.write()?;
    tx.put_audit(&AuditRow {
        seq: 0,
        at_ms: now_ms,
        user_id: None,
        action: "person.export".into(),
        target: Some(user.to_string()),
        detail: format!("asked by {by}"),
        address: None,
    })?;
    tx.commit()?;
    Ok(())
}

fn gather(tx: &mut dyn Tx, user: &UserId, now_ms: i64) -> Result<PersonExport, RightsError> {
    let record = tx.user(user)?.ok_or(RightsError::UnknownUser(*user))?;
    let devices = tx
        .devices_of_user(user)?
        .into_iter()
        .map(|d| {
            json!({
                "id": d.id,
                "name": d.name,
                "created_at_ms": d.created_at_ms,
                "last_seen_ms": d.last_seen_ms,
                "revoked_at_ms": d.revoked_at_ms,
            })
        })
        .collect();
    let streets = tx.streets_of_user(user)?;
    let office = office_of(tx, user)?;
    let mut patrols = Vec::new();
    for header in tx.patrols_of_user(user)? {
        patrols.push(patrol_of(tx, header)?);
    }
    let records = tx.records_of_user(user)?;
    let mut unreadable_documents = Vec::new();
    let issues = issues_of(tx, user, &mut unreadable_documents)?;
    let merchants = merchants_of(tx, user, &mut unreadable_documents)?;
    let steward_applications = tx
        .steward_applications(None)?
        .into_iter()
        .filter(|a| a.user_id.as_ref() == Some(user))
        .map(|a| {
            json!({
                "id": a.id,
                "name": a.name,
                "phone": a.phone,
                "street_id": a.street_id,
                "availability": a.availability,
                "status": format!("{:?}", a.status).to_lowercase(),
                "created_at_ms": a.created_at_ms,
                "decided_at_ms": a.decided_at_ms,
            })
        })
        .collect();
    Ok(PersonExport {
        format: EXPORT_FORMAT,
        exported_at_ms: now_ms,
        user: record,
        devices,
        streets,
        office,
        patrols,
        records,
        issues,
        merchants,
        steward_applications,
        unreadable_documents,
    })
}

/// The office account (never its password hash), its sessions and the audit entries of what the
/// user did or was done to them.
fn office_of(tx: &mut dyn Tx, user: &UserId) -> Result<Option<Value>, RightsError> {
    let login = tx.office_login(user)?;
    let sessions: Vec<Value> = tx
        .office_sessions_of(user)?
        .into_iter()
        .map(|s| {
            json!({
                "created_at_ms": s.created_at_ms,
                "last_seen_ms": s.last_seen_ms,
                "expires_at_ms": s.expires_at_ms,
                "address": s.address,
            })
        })
        .collect();
    let mut audit = Vec::new();
    let mut before = None;
    loop {
        let page = tx.audit(before, AUDIT_PAGE)?;
        let Some(last) = page.last() else { break };
        before = Some(last.seq);
        let full = page.len() == AUDIT_PAGE;
        let target = user.to_string();
        audit.extend(
            page.into_iter()
                .filter(|r| {
                    r.user_id.as_ref() == Some(user) || r.target.as_deref() == Some(&target)
                })
                .map(|r| {
                    json!({
                        "at_ms": r.at_ms,
                        "by_this_user": r.user_id.as_ref() == Some(user),
                        "action": r.action,
                        "target": r.target,
                        "detail": r.detail,
                        "address": (r.user_id.as_ref() == Some(user)).then_some(r.address).flatten(),
                    })
                }),
        );
        if !full {
            break;
        }
    }
    if login.is_none() && sessions.is_empty() && audit.is_empty() {
        return Ok(None);
    }
    Ok(Some(json!({
        "has_password": login.is_some(),
        "is_admin": login.as_ref().is_some_and(|l| l.is_admin),
        "locked_until_ms": login.as_ref().and_then(|l| l.locked_until_ms),
        "sessions": sessions,
        "audit": audit,
    })))
}

/// A patrol's header and every fix the server holds of it.
fn patrol_of(tx: &mut dyn Tx, header: PatrolRecord) -> Result<Value, RightsError> {
    let id = header.id.to_string();
    let mut fixes = Vec::new();
    let mut from = 0;
    loop {
        let page = tx.fixes(&id, from, FIX_PAGE)?;
        let Some(last) = page.last() else { break };
        from = last.seq + 1;
        let full = page.len() == FIX_PAGE;
        fixes.extend(page);
        if !full {
            break;
        }
    }
    Ok(json!({ "header": header, "fixes": fixes }))
}

/// What the user wrote into issue documents: the report, comments, events, photos.
fn issues_of(
    tx: &mut dyn Tx,
    user: &UserId,
    unreadable: &mut Vec<String>,
) -> Result<Vec<Value>, RightsError> {
    let mut out = Vec::new();
    for (id, row) in tx.docs_of_kind("issue")? {
        let read = automerge::Automerge::load(&row.data)
            .ok()
            .and_then(|d| patrol_model::issues::doc::read(&d).ok());
        let Some(issue) = read else {
            unreadable.push(id);
            continue;
        };
        let reported = issue.reporter.user_id == *user;
        let comments: Vec<_> = issue.comments.iter().filter(|c| c.by == *user).collect();
        let events: Vec<_> = issue.events.iter().filter(|e| e.by == *user).collect();
        let photos: Vec<Value> = issue
            .photos
            .iter()
            .filter(|p| p.added_by == *user)
            .map(|p| {
                json!({
                    "sha256": p.sha256,
                    "stage": p.stage,
                    "taken_at_ms": p.taken_at_ms,
                    "lat": p.lat,
                    "lon": p.lon,
                })
            })
            .collect();
        if !reported && comments.is_empty() && events.is_empty() && photos.is_empty() {
            continue;
        }
        out.push(json!({
            "issue_id": id,
            "category": issue.category,
            "reporter": reported.then(|| json!({
                "name": issue.reporter.name,
                "role": issue.reporter.role,
                "device_id": issue.reporter.device_id,
                "description": issue.description,
                "location": issue.location,
            })),
            "comments": comments,
            "events": events,
            "photos": photos,
        }));
    }
    Ok(out)
}

/// Merchants the user registered and inspections they made.
fn merchants_of(
    tx: &mut dyn Tx,
    user: &UserId,
    unreadable: &mut Vec<String>,
) -> Result<Vec<Value>, RightsError> {
    let mut out = Vec::new();
    for (id, row) in tx.docs_of_kind("merchant")? {
        let read = automerge::Automerge::load(&row.data)
            .ok()
            .and_then(|d| patrol_model::merchants::doc::read(&d).ok());
        let Some(merchant) = read else {
            unreadable.push(id);
            continue;
        };
        let created = merchant.created_by == *user;
        let inspections: Vec<_> = merchant
            .inspections
            .iter()
            .filter(|i| i.by == *user)
            .collect();
        if !created && inspections.is_empty() {
            continue;
        }
        out.push(json!({
            "merchant_id": id,
            "name": merchant.fields.name,
            "registered_by_this_user": created,
            "inspections": inspections,
        }));
    }
    Ok(out)
}
