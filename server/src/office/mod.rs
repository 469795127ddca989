//! The office platform (信息平台): what the district office does at its desks, without HTTP. The
//! web layer (`crate::http::office`) turns requests into these calls and their errors into pages.
//!
//! - [`accounts`]: office passwords (Argon2id), sign-in with lock-out.
//! - [`sessions`]: signed-in browsers, with idle and absolute expiry and a CSRF token each.
//! - [`audit`]: the log of every action taken through the web.
//! - [`overview`]: the counts of the overview page (from [`crate::issue_index`]).
//! - [`reports`]: the assessment, steward and merchant reports, as the user may see them.
//! - [`map`]: the map's GeoJSON: the street network coloured by a period's coverage, the open
//!   problems and the signboards.
//! - [`act`]: a supervisor's action on an issue, through the same document model, role table and
//!   fold as a phone's.
//!
//! Who sees what follows the sync server's own scope rules ([`crate::sync::visible`]): a
//! subdistrict supervisor sees and acts on their subdistrict only.

pub mod accounts;
pub mod act;
pub mod audit;
pub mod map;
pub mod overview;
pub mod reports;
pub mod sessions;

use patrol_model::Role;
use patrol_model::wire::{Scope, UserRecord};

use crate::storage::StorageError;

/// What went wrong, in words the person at the desk can act on; internal faults are logged and
/// shown as a plain apology.
#[derive(Debug, thiserror::Error)]
pub enum OfficeError {
    /// Wrong name or password (the same answer for both, so names cannot be probed).
    #[error("the name or the password is wrong")]
    BadCredentials,
    /// Too many wrong passwords: the account waits until then.
    #[error("too many wrong passwords; the account is locked until {until_ms}")]
    Locked { until_ms: i64 },
    /// No session, or one that expired or was ended.
    #[error("please sign in")]
    SignedOut,
    /// The user may not use the office platform (not a supervisor, or no password set).
    #[error("{0}")]
    NotAllowed(String),
    /// No such item, or one outside what this user may see (the same answer).
    #[error("not found")]
    NotFound,
    /// What the user typed, with why it is refused; nothing was written.
    #[error("{0}")]
    Invalid(String),
    /// The role table or the state refuses the action.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type OfficeResult<T> = Result<T, OfficeError>;

/// The person signed in, as the office sees them.
#[derive(Debug, Clone)]
pub struct OfficeUser {
    pub user: UserRecord,
    /// May read the audit log.
    pub is_admin: bool,
}

impl OfficeUser {
    /// The subdistrict this user is limited to (`None`: the whole district).
    pub fn subdistrict(&self) -> Option<String> {
        match &self.user.scope {
            Scope::Subdistrict(s) => Some(s.to_string()),
            _ => None,
        }
    }
}

/// Whether a user may use the office platform at all: supervisors of the district or of a
/// subdistrict (the office's staff). Chiefs, stewards, crews and officers work on their phones.
pub fn may_use_office(user: &UserRecord) -> Result<(), String> {
    if user.role != Role::Supervisor {
        return Err(format!(
            "{} is a {}; the office platform is for supervisors",
            user.name, user.role
        ));
    }
    match user.scope {
        Scope::District | Scope::Subdistrict(_) => Ok(()),
        _ => Err(format!(
            "{} has scope {}; an office user needs the district or a subdistrict",
            user.name, user.scope
        )),
    }
}
