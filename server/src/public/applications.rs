//! Steward applications (小巷管家): a resident applies from a signboard's page; the application
//! waits until the district approves it (which makes the steward user, assigns them to the
//! street they chose and makes an enrolment code the applicant's page then shows) or declines
//! it (with a reason the applicant reads).

use patrol_model::wire::{Scope, UserRecord};
use patrol_model::{Role, UserId};

use super::contact::check_phone;
use super::signboards;
use super::{
    Field, FieldError, Problem, PublicError, PublicResult, check_text, new_public_token,
    normalise_token,
};
use crate::storage::{ApplicationStatus, StewardApplicationRow, Storage, Tx};

pub const MAX_NAME_CHARS: usize = 50;
pub const MAX_AVAILABILITY_CHARS: usize = 200;
pub const MAX_REASON_CHARS: usize = 500;
/// Most applications waiting at once; past it the page asks people to come back later, so a
/// flood cannot fill the district's list.
pub const MAX_PENDING: usize = 5_000;

/// What an applicant sent.
#[derive(Debug, Clone, Default)]
pub struct NewApplication {
    pub code: String,
    pub name: String,
    pub phone: String,
    /// A street id; empty for the signboard's own street.
    pub street: String,
    pub availability: String,
}

/// What the applicant keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplicationReceipt {
    pub token: String,
    pub id: String,
}

/// Checks an application and records it as pending.
pub fn apply(
    storage: &dyn Storage,
    new: &NewApplication,
    now_ms: i64,
) -> PublicResult<ApplicationReceipt> {
    let mut errors = Vec::new();
    let name = check_text(Field::Name, &new.name, true, MAX_NAME_CHARS, &mut errors);
    let phone = match new.phone.trim() {
        "" => {
            errors.push(FieldError::new(Field::Phone, Problem::Missing));
            None
        }
        t => {
            let p = check_phone(t);
            if p.is_none() {
                errors.push(FieldError::new(Field::Phone, Problem::BadPhone));
            }
            p
        }
    };
    let availability = check_text(
        Field::Availability,
        &new.availability,
        true,
        MAX_AVAILABILITY_CHARS,
        &mut errors,
    );
    let mut tx = storage.write()?;
    let signboard = signboards::verify(tx.as_mut(), &new.code)?;
    // The signboard's street, or another of its subdistrict (the choices the page offers).
    let own = signboard.row.street_id.clone();
    let own_subdistrict = tx.street_subdistrict(&own)?.flatten();
    let street_id = match new.street.trim() {
        "" => own,
        s if s == own => own,
        s => {
            let theirs = tx.street_subdistrict(s)?;
            if own_subdistrict.is_some() && theirs == Some(own_subdistrict.clone()) {
                s.to_owned()
            } else {
                errors.push(FieldError::new(Field::Street, Problem::NotAChoice));
                String::new()
            }
        }
    };
    let (Some(phone), true) = (phone, errors.is_empty()) else {
        return Err(PublicError::Fields(errors));
    };
    let pending = tx.steward_applications(Some(ApplicationStatus::Pending))?;
    if pending.iter().any(|a| a.phone == phone) {
        return Err(PublicError::Fields(vec![FieldError::new(
            Field::Phone,
            Problem::AlreadyApplied,
        )]));
    }
    if pending.len() >= MAX_PENDING {
        return Err(PublicError::Conflict(
            "too many applications are waiting".into(),
        ));
    }
    let token = new_public_token();
    let id = uuid::Uuid::now_v7().to_string();
    tx.put_steward_application(&StewardApplicationRow {
        id: id.clone(),
        token_hash: crate::secrets::hash_secret(&token),
        name,
        phone,
        street_id,
        signboard_id: Some(signboard.row.id),
        availability,
        status: ApplicationStatus::Pending,
        reason: None,
        user_id: None,
        enrol_code: None,
        created_at_ms: now_ms,
        decided_at_ms: None,
    })?;
    tx.commit()?;
    Ok(ApplicationReceipt { token, id })
}

/// The application a status-page token names.
pub fn by_token(tx: &mut dyn Tx, token: &str) -> PublicResult<StewardApplicationRow> {
    let token = normalise_token(token).ok_or(PublicError::NotFound)?;
    tx.steward_application_by_token(&crate::secrets::hash_secret(&token))?
        .ok_or(PublicError::NotFound)
}

/// Applications, oldest first (only those with `status` when given).
pub fn list(
    storage: &dyn Storage,
    status: Option<ApplicationStatus>,
) -> PublicResult<Vec<StewardApplicationRow>> {
    Ok(storage.read()?.steward_applications(status)?)
}

/// What approving made.
#[derive(Debug, Clone, PartialEq)]
pub struct Approved {
    pub user_id: UserId,
    pub name: String,
    pub street_id: String,
    pub enrol_code: String,
    pub enrol_qr: String,
}

fn pending(tx: &mut dyn Tx, id: &str) -> PublicResult<StewardApplicationRow> {
    let a = tx
        .steward_application(id.trim())?
        .ok_or(PublicError::NotFound)?;
    if a.status != ApplicationStatus::Pending {
        return Err(PublicError::Conflict(format!(
            "application {} was {} already",
            a.id,
            a.status.as_str()
        )));
    }
    Ok(a)
}

/// Approves a pending application in one transaction: the steward user, their street, and an
/// enrolment code (valid [`crate::people::ENROL_CODE_VALID_DAYS`]) the applicant's page shows.
pub fn approve(
    storage: &dyn Storage,
    id: &str,
    server_url: Option<&str>,
    now_ms: i64,
) -> PublicResult<Approved> {
    let mut tx = storage.write()?;
    let mut a = pending(tx.as_mut(), id)?;
    let user = UserRecord {
        id: UserId::new(),
        name: a.name.clone(),
        role: Role::Steward,
        scope: Scope::Own,
    };
    let code = crate::secrets::new_enrol_code();
    crate::people::create_user(
        tx.as_mut(),
        &user,
        &code,
        now_ms,
        crate::people::ENROL_CODE_TTL_MS,
    )?;
    crate::people::assign_in(tx.as_mut(), &a.street_id, &user.id, Role::Steward, true)?;
    a.status = ApplicationStatus::Approved;
    a.user_id = Some(user.id);
    a.enrol_code = Some(code.clone());
    a.decided_at_ms = Some(now_ms);
    tx.put_steward_application(&a)?;
    tx.commit()?;
    Ok(Approved {
        user_id: user.id,
        name: user.name,
        street_id: a.street_id,
        enrol_qr: crate::people::enrol_qr(&code, server_url),
        enrol_code: code,
    })
}

/// Declines a pending application with a reason the applicant reads.
pub fn decline(storage: &dyn Storage, id: &str, reason: &str, now_ms: i64) -> PublicResult<()> {
    let mut errors = Vec::new();
    let reason = check_text(Field::Name, reason, true, MAX_REASON_CHARS, &mut errors);
    if !errors.is_empty() {
        return Err(PublicError::Conflict(format!(
            "give a reason of 1 to {MAX_REASON_CHARS} characters"
        )));
    }
    let mut tx = storage.write()?;
    let mut a = pending(tx.as_mut(), id)?;
    a.status = ApplicationStatus::Declined;
    a.reason = Some(reason);
    a.decided_at_ms = Some(now_ms);
    tx.put_steward_application(&a)?;
    tx.commit()?;
    Ok(())
}
