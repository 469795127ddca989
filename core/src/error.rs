//! The core's error type. Every message says what was wrong and, where there is one, what to do
//! about it in words of the task; hosts add their own hints (the CLI names its commands) from the
//! variant, which carries what a caller branches on.

use std::path::PathBuf;

use crate::domain::{
    IssueId, MerchantId, ParseEnumError, ParseIdError, PatrolId, PatrolState, Role,
};
use patrol_model::error::{StreetsError, TrackFileError};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "{path} is not a StreetPatrol database (not an SQLite file, or encrypted); move it away or choose another path"
    )]
    NotADatabase { path: PathBuf },

    #[error(
        "{path} is encrypted with another key than the one in this device's secret store (or is not a StreetPatrol database); the file was left untouched"
    )]
    WrongKey { path: PathBuf },

    #[error(
        "{path} is encrypted, and this device's secret store has no key for it (the app's data was restored without its keys?); the file was left untouched"
    )]
    KeyMissing { path: PathBuf },

    #[error("the platform's secret store failed: {0}")]
    SecretStore(String),

    #[error(
        "the database {path} has schema version {found}, newer than this app understands ({supported}); update the app, the file was left untouched"
    )]
    DatabaseTooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    #[error(
        "upgrading the database to schema version {version} failed, nothing was changed: {source}"
    )]
    Migration {
        version: i64,
        #[source]
        source: rusqlite::Error,
    },

    #[error("the operation was interrupted")]
    Interrupted,

    #[error(
        "this store has no device user yet; set this device up (a name and a role) or enrol it first"
    )]
    NotInitialised,

    #[error(
        "this store is already set up for {name} ({role}); a second device needs a store of its own"
    )]
    AlreadyInitialised { name: String, role: String },

    #[error("invalid fix: {field} {reason}")]
    InvalidFix { field: &'static str, reason: String },

    #[error("invalid configuration: {0}")]
    InvalidConfig(String),

    #[error("no patrol with id {0} in this store")]
    UnknownPatrol(PatrolId),

    #[error(
        "patrol {id} is {state}, so it cannot take fixes; resume it (if paused) or start a new patrol"
    )]
    PatrolNotRecording { id: PatrolId, state: PatrolState },

    #[error("cannot {action} patrol {id}: it is {state}")]
    PatrolTransition {
        id: PatrolId,
        action: &'static str,
        state: PatrolState,
    },

    #[error("patrol {0} is still open on this device; stop it before starting another")]
    PatrolAlreadyActive(PatrolId),

    #[error(transparent)]
    TrackFile(#[from] TrackFileError),

    #[error("invalid input: {0}")]
    InvalidInput(String),

    #[error("no issue with id {0} in this store; import it or sync first")]
    UnknownIssue(IssueId),

    /// The role table or the workflow refused an action; nothing was written. `role` is the
    /// role the device acted in, `action` the verb refused.
    #[error("cannot {action} issue {id}: {reason}")]
    Refused {
        action: &'static str,
        role: Role,
        id: IssueId,
        reason: String,
    },

    #[error("no merchant with id {0} in this store; sync or import it first")]
    UnknownMerchant(MerchantId),

    #[error("bad issue document: {0}")]
    BadDocument(String),

    #[error(transparent)]
    Photo(#[from] PhotoError),

    #[error(transparent)]
    Streets(#[from] StreetsError),

    #[error(transparent)]
    Signboard(#[from] patrol_model::error::SignboardError),

    #[error(transparent)]
    BadId(#[from] ParseIdError),

    #[error(transparent)]
    BadValue(#[from] ParseEnumError),

    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("this device is not enrolled with a server; enrol it first")]
    NotEnrolled,

    #[error("this store belongs to user {user}; enrol into a new store instead")]
    StoreBelongsToAnother { user: String },

    #[error(
        "refusing plain http to {0}: use https (plain http is only allowed to this machine, or when explicitly allowed for development)"
    )]
    InsecureUrl(String),

    #[error("cannot reach the server: {0} (will retry on the next sync)")]
    Network(String),

    #[error("the server refused the request ({status} {code}): {message}")]
    Server {
        status: u16,
        code: String,
        message: String,
    },

    #[error("sync protocol error: {0}")]
    Protocol(String),

    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
}

/// The model's errors are faults in the data handed in; each keeps its own variant here.
impl From<patrol_model::Error> for Error {
    fn from(e: patrol_model::Error) -> Self {
        use patrol_model::Error as M;
        match e {
            M::InvalidInput(m) => Error::InvalidInput(m),
            M::InvalidConfig(m) => Error::InvalidConfig(m),
            M::BadDocument(m) => Error::BadDocument(m),
            M::TrackFile(e) => Error::TrackFile(e),
            M::Streets(e) => Error::Streets(e),
            M::BadId(e) => Error::BadId(e),
            M::BadValue(e) => Error::BadValue(e),
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::OperationInterrupted) => Error::Interrupted,
            _ => Error::Sqlite(e),
        }
    }
}

/// Why a photo was not stored. Each says which file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("{path} is empty; choose the photo file itself")]
    Empty { path: PathBuf },
    #[error(
        "{path} is {size} bytes, more than the {max} a photo may have; take it at a lower resolution"
    )]
    TooLarge { path: PathBuf, size: u64, max: u64 },
    #[error(
        "{path} is not a JPEG or PNG image ({found}); photos must be JPEG or PNG whatever the file is called"
    )]
    NotAnImage { path: PathBuf, found: String },
    #[error(
        "{path} is {width} x {height} pixels, more than the {max_pixels} pixels (or {max_side} per side) a photo may have"
    )]
    TooManyPixels {
        path: PathBuf,
        width: u32,
        height: u32,
        max_pixels: u64,
        max_side: u32,
    },
    #[error("{path} looks like a {format} but cannot be decoded: {reason}")]
    Undecodable {
        path: PathBuf,
        format: &'static str,
        reason: String,
    },
    #[error(
        "this store has no photo folder (an in-memory store); open a store file or set StoreConfig::photos_dir"
    )]
    NoPhotoFolder,
    #[error("no photo {0} in this store's photo folder; add the photo first")]
    Unknown(String),
}
