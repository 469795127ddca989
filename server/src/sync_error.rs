//! What the sync logic ([`crate::sync`], [`crate::blob_access`]) answers when it refuses or
//! fails: its own error, free of HTTP. The web layer gives each variant its status code and
//! stable machine code (`http::error`).

use crate::policy::Refusal;
use crate::storage::StorageError;
use crate::validate::CheckError;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The request is not what the protocol says (bad heads, ids, shapes).
    #[error("{0}")]
    Malformed(String),
    /// The device may not do or see this (scope, role, ownership, quarantine).
    #[error("{0}")]
    NotAllowed(String),
    /// The upload contradicts what the server holds (an id taken by another kind or owner).
    #[error("{0}")]
    Conflict(String),
    /// Changes that build on changes the server does not have yet (a document that reached the
    /// device by hand): kept on the device and sent again later, not refused.
    #[error("{0}")]
    MissingDependencies(String),
    /// More than the protocol allows in one request or one item.
    #[error("{0}")]
    TooLarge(String),
    /// Well-formed but invalid: a document, record or fix batch the checks refuse.
    #[error("{0}")]
    Invalid(String),
    /// The device speaks a protocol version this server does not.
    #[error("{0}")]
    ProtocolVersion(String),
    /// The server's own fault (storage, a stored document it cannot read); logged, not shown.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

pub type SyncResult<T> = Result<T, SyncError>;

impl From<StorageError> for SyncError {
    fn from(e: StorageError) -> Self {
        SyncError::Internal(anyhow::Error::new(e))
    }
}

/// A document, record or patrol refused by the checks: malformed is invalid, not allowed stays
/// not allowed.
impl From<Refusal> for SyncError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Invalid(m) => SyncError::Invalid(m),
            Refusal::NotAllowed(m) => SyncError::NotAllowed(m),
        }
    }
}

impl From<CheckError> for SyncError {
    fn from(e: CheckError) -> Self {
        match e {
            CheckError::Refused(r) => r.into(),
            CheckError::Storage(e) => e.into(),
        }
    }
}
