//! The one error type the host sees, and the one place a core error becomes it.
//!
//! Flat on purpose (like application-services' public errors): a host app branches on *kind*
//! (show the message, ask for a different file, offer an update) and shows the message, which
//! comes from the core and says what was wrong and what to do. Kotlin sees
//! `PatrolException.InvalidInput` etc., Swift `PatrolError.InvalidInput(message:)`.

/// Why a call failed.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum PatrolError {
    /// The caller passed something that is not valid: a fix that is not a fix, a malformed id, a
    /// setting out of range, a file that is not a track, a street network or a photo, a forged
    /// signboard code, bytes that are not an issue document. Nothing was stored.
    #[error("{0}")]
    InvalidInput(String),
    /// The thing asked for (a patrol, street, issue, photo) is not in this store.
    #[error("{0}")]
    NotFound(String),
    /// The call does not fit the current state: no device user yet, a patrol that is not
    /// recording, a second open patrol, no street network imported yet, no district key.
    #[error("{0}")]
    InvalidState(String),
    /// The file at the store's path is not a StreetPatrol database; it was left untouched.
    #[error("{0}")]
    NotADatabase(String),
    /// The store was written by a newer app version; it was left untouched. Update the app.
    #[error("{0}")]
    DatabaseTooNew(String),
    /// A file could not be read or written.
    #[error("{0}")]
    Io(String),
    /// The user's role may not do this (a steward verifying, a crew member resolving an issue not
    /// assigned to them): the workflow refused it and nothing was stored.
    #[error("{0}")]
    NotAllowed(String),
    /// The server could not be reached (no network, timeouts) even after retries; nothing was
    /// lost, the next sync picks up where this one stopped.
    #[error("{0}")]
    Network(String),
    /// The server answered with an error (refused the device, another protocol version).
    #[error("{0}")]
    Server(String),
    /// The work was cancelled (by the host) or interrupted; nothing of it was stored.
    #[error("{0}")]
    Interrupted(String),
    /// SQLite failed (disk full, I/O error, corruption).
    #[error("{0}")]
    Storage(String),
    /// A bug: a panic inside the core. The store is left as its last transaction left it; close it
    /// and open it again.
    #[error("{0}")]
    Internal(String),
}

impl From<patrol_core::Error> for PatrolError {
    /// Decides the kind of every core error. Exhaustive on purpose: a new core variant must be
    /// sorted here before the bindings compile.
    fn from(e: patrol_core::Error) -> Self {
        use patrol_core::Error as E;
        let message = e.to_string();
        match e {
            E::InvalidFix { .. }
            | E::InvalidConfig(_)
            | E::InvalidInput(_)
            | E::TrackFile(_)
            | E::BadId(_)
            | E::BadValue(_)
            | E::BadDocument(_) => PatrolError::InvalidInput(message),
            E::Photo(p) => {
                use patrol_core::photos::PhotoError as P;
                match p {
                    P::Unknown(_) => PatrolError::NotFound(message),
                    P::NoPhotoFolder => PatrolError::InvalidState(message),
                    P::Empty { .. }
                    | P::TooLarge { .. }
                    | P::NotAnImage { .. }
                    | P::TooManyPixels { .. }
                    | P::Undecodable { .. } => PatrolError::InvalidInput(message),
                }
            }
            E::Streets(s) => {
                use patrol_core::streets::StreetsError as S;
                match s {
                    S::UnknownStreet(_) => PatrolError::NotFound(message),
                    S::NoNetwork => PatrolError::InvalidState(message),
                    S::Xml { .. }
                    | S::NotOsm(_)
                    | S::NoHighways { .. }
                    | S::BadNode { .. }
                    | S::BadWay { .. }
                    | S::GeoJson(_)
                    | S::NonLineGeometry { .. }
                    | S::BadFeature { .. }
                    | S::NoLineFeatures
                    | S::UnknownFormat(_)
                    | S::AmbiguousStreet { .. }
                    | S::BadOption(_) => PatrolError::InvalidInput(message),
                }
            }
            E::Signboard(s) => {
                use patrol_core::signboard::SignboardError as S;
                match s {
                    // A genuine code for a street this store has not synced yet.
                    S::StreetNotInStore(_) => PatrolError::NotFound(message),
                    // No key to check against, or a store that only verifies asked to issue.
                    S::NoDistrictKey | S::NotIssuer => PatrolError::InvalidState(message),
                    S::Malformed(_)
                    | S::UnsupportedVersion(_)
                    | S::BadSignature
                    | S::BadPublicKey(_) => PatrolError::InvalidInput(message),
                }
            }
            E::UnknownPatrol(_) | E::UnknownIssue(_) => PatrolError::NotFound(message),
            E::Refused { .. } => PatrolError::NotAllowed(message),
            E::NotInitialised
            | E::AlreadyInitialised { .. }
            | E::PatrolNotRecording { .. }
            | E::PatrolTransition { .. }
            | E::PatrolAlreadyActive(_) => PatrolError::InvalidState(message),
            E::NotADatabase { .. } => PatrolError::NotADatabase(message),
            E::DatabaseTooNew { .. } => PatrolError::DatabaseTooNew(message),
            E::Io { .. } => PatrolError::Io(message),
            E::Interrupted => PatrolError::Interrupted(message),
            E::Migration { .. } | E::Sqlite(_) => PatrolError::Storage(message),
            E::NotEnrolled | E::StoreBelongsToAnother { .. } => PatrolError::InvalidState(message),
            E::InsecureUrl(_) => PatrolError::InvalidInput(message),
            E::Network(_) => PatrolError::Network(message),
            E::Server { .. } | E::Protocol(_) => PatrolError::Server(message),
        }
    }
}

impl From<patrol_core::ParseIdError> for PatrolError {
    fn from(e: patrol_core::ParseIdError) -> Self {
        patrol_core::Error::from(e).into()
    }
}

impl PatrolError {
    /// The store's lock was poisoned: an earlier call panicked while holding it.
    pub(crate) fn poisoned() -> Self {
        PatrolError::Internal(
            "an earlier call on this store failed unexpectedly; close the store and open it again"
                .into(),
        )
    }

    /// A panic caught on a worker thread, with what it said.
    pub(crate) fn panicked(what: &str, payload: &(dyn std::any::Any + Send)) -> Self {
        let detail = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        PatrolError::Internal(format!(
            "{what} failed unexpectedly (a bug; please report it): {detail}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use patrol_core::{PatrolId, PatrolState};

    #[test]
    fn core_errors_keep_their_message_and_get_a_kind() {
        let id = PatrolId::new();
        type IsKind = fn(&PatrolError) -> bool;
        let cases: Vec<(patrol_core::Error, IsKind)> = vec![
            (
                patrol_core::Error::InvalidFix {
                    field: "time_ms",
                    reason: "is missing".into(),
                },
                |e| matches!(e, PatrolError::InvalidInput(_)),
            ),
            (patrol_core::Error::UnknownPatrol(id), |e| {
                matches!(e, PatrolError::NotFound(_))
            }),
            (
                patrol_core::Error::PatrolNotRecording {
                    id,
                    state: PatrolState::Paused,
                },
                |e| matches!(e, PatrolError::InvalidState(_)),
            ),
            (
                patrol_core::Error::NotADatabase {
                    path: "/x.db".into(),
                },
                |e| matches!(e, PatrolError::NotADatabase(_)),
            ),
            (patrol_core::Error::Interrupted, |e| {
                matches!(e, PatrolError::Interrupted(_))
            }),
            (
                patrol_core::Error::Refused {
                    action: "verify",
                    id: patrol_core::IssueId::new(),
                    reason: "a steward may not verify an issue".into(),
                },
                |e| matches!(e, PatrolError::NotAllowed(_)),
            ),
            (
                patrol_core::Error::UnknownIssue(patrol_core::IssueId::new()),
                |e| matches!(e, PatrolError::NotFound(_)),
            ),
            (patrol_core::streets::StreetsError::NoNetwork.into(), |e| {
                matches!(e, PatrolError::InvalidState(_))
            }),
            (
                patrol_core::streets::StreetsError::UnknownStreet("x".into()).into(),
                |e| matches!(e, PatrolError::NotFound(_)),
            ),
            (
                patrol_core::photos::PhotoError::Unknown("ab".into()).into(),
                |e| matches!(e, PatrolError::NotFound(_)),
            ),
            (
                patrol_core::signboard::SignboardError::BadSignature.into(),
                |e| matches!(e, PatrolError::InvalidInput(_)),
            ),
            (
                patrol_core::signboard::SignboardError::NotIssuer.into(),
                |e| matches!(e, PatrolError::InvalidState(_)),
            ),
        ];
        for (core, kind) in cases {
            let text = core.to_string();
            let e = PatrolError::from(core);
            assert!(kind(&e), "{e:?}");
            assert_eq!(
                e.to_string(),
                text,
                "the core's message reaches the host unchanged"
            );
        }
        let bad_id: PatrolError = "not-a-uuid".parse::<PatrolId>().unwrap_err().into();
        assert!(
            matches!(&bad_id, PatrolError::InvalidInput(m) if m.contains("not-a-uuid")),
            "{bad_id:?}"
        );
    }
}
