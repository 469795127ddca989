//! The core's error type. Every message says what was wrong and, where there is one, what to do.

use std::path::PathBuf;

use crate::domain::{IssueId, ParseEnumError, ParseIdError, PatrolId, PatrolState};
use crate::photos::PhotoError;
use crate::track::TrackFileError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "{path} is not a StreetPatrol database (not an SQLite file, or encrypted); move it away or choose another path"
    )]
    NotADatabase { path: PathBuf },

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
        "this store has no device user yet; run `patrol init --name NAME --role ROLE` (or enrol) first"
    )]
    NotInitialised,

    #[error(
        "this store is already set up for {name} ({role}); use another --db to create a second device"
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

    #[error(
        "no issue with id {0} in this store; import it (`patrol issue import FILE`) or sync first"
    )]
    UnknownIssue(IssueId),

    /// The role table or the workflow refused an action; nothing was written.
    #[error("cannot {action} issue {id}: {reason}")]
    Refused {
        action: &'static str,
        id: IssueId,
        reason: String,
    },

    #[error("bad issue document: {0}")]
    BadDocument(String),

    #[error(transparent)]
    Photo(#[from] PhotoError),

    #[error(transparent)]
    Streets(#[from] crate::streets::StreetsError),

    #[error(transparent)]
    Signboard(#[from] crate::signboard::SignboardError),

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

    #[error(
        "this device is not enrolled with a server; run `patrol enroll --server URL --code CODE` first"
    )]
    NotEnrolled,

    #[error("this store belongs to user {user}; enrol into a new store (another --db) instead")]
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

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::OperationInterrupted) => Error::Interrupted,
            _ => Error::Sqlite(e),
        }
    }
}
