//! The one error type the host sees, and the one place a core error becomes it.
//!
//! A host app branches on the variant (show the reason, ask for a different file, offer an
//! update, re-enrol a revoked device) and on the fields that variant carries, never on the text;
//! it shows `reason`, which comes from the core in words of the task. Kotlin sees
//! `PatrolException.NotAllowed(role, action, reason)` etc., Swift
//! `PatrolError.NotAllowed(role:action:reason:)`.

use patrol_core::Role;

/// Which kind of thing a [`PatrolError::NotFound`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum MissingKind {
    Patrol,
    Issue,
    Merchant,
    Street,
    Photo,
}

/// Why a call failed. Every variant carries `reason`, the core's message in words of the task
/// (show it to the user); variants an app branches on carry what it branches on: what was not
/// found and its id, the role and action refused, the schema versions of a database too new,
/// the status and stable code of a server's refusal.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum PatrolError {
    /// The caller passed something that is not valid: a fix that is not a fix, a malformed id, a
    /// setting out of range, a file that is not a track, a street network or a photo, a forged
    /// signboard code, bytes that are not an issue document. Nothing was stored.
    #[error("{reason}")]
    InvalidInput { reason: String },
    /// The thing asked for is not in this store: `kind` says which, `id` is what was asked
    /// (an id, or a street's name).
    #[error("{reason}")]
    NotFound {
        kind: MissingKind,
        id: String,
        reason: String,
    },
    /// The call does not fit the current state: no device user yet, a patrol that is not
    /// recording, a second open patrol, no street network imported yet, no district key.
    #[error("{reason}")]
    InvalidState { reason: String },
    /// The file at the store's path is not a StreetPatrol database; it was left untouched.
    #[error("{reason}")]
    NotADatabase { reason: String },
    /// The store was written by a newer app version (schema `found`, this app knows up to
    /// `supported`); it was left untouched. Update the app.
    #[error("{reason}")]
    DatabaseTooNew {
        found: i64,
        supported: i64,
        reason: String,
    },
    /// The store is encrypted and the key in the platform's secret store does not open it
    /// (`missing`: there is no key at all, as after a restore of the app's files without its
    /// keystore). The file was left untouched; the data can only come back from the server
    /// (enrol a new store) or with the original key.
    #[error("{reason}")]
    KeyUnavailable { missing: bool, reason: String },
    /// The platform's secret store (Keystore, Keychain) failed when the core asked it for a key
    /// or the sync token.
    #[error("{reason}")]
    SecretStore { reason: String },
    /// A file could not be read or written.
    #[error("{reason}")]
    Io { reason: String },
    /// The workflow refused `action` (a verb: "verify", "assign"...) to a user in `role` (a
    /// steward verifying, a crew member resolving an issue not assigned to them); nothing was
    /// stored.
    #[error("{reason}")]
    NotAllowed {
        role: Role,
        action: String,
        reason: String,
    },
    /// The server could not be reached (no network, timeouts) even after retries; nothing was
    /// lost, the next sync picks up where this one stopped.
    #[error("{reason}")]
    Network { reason: String },
    /// The server refused the request: `status` is the HTTP status, `code` the server's stable
    /// code (`unauthorized` for a revoked device, `protocol_version` for an outdated app,
    /// `too_many_requests`...).
    #[error("{reason}")]
    Server {
        status: u16,
        code: String,
        reason: String,
    },
    /// The server's answer broke the sync protocol.
    #[error("{reason}")]
    Protocol { reason: String },
    /// The work was cancelled (by the host) or interrupted; nothing of it was stored.
    #[error("{reason}")]
    Interrupted { reason: String },
    /// SQLite failed (disk full, I/O error, corruption).
    #[error("{reason}")]
    Storage { reason: String },
    /// A bug: a panic inside the core. The store is left as its last transaction left it; close it
    /// and open it again.
    #[error("{reason}")]
    Internal { reason: String },
}

impl From<patrol_core::Error> for PatrolError {
    /// Decides the kind of every core error. Exhaustive on purpose: a new core variant must be
    /// sorted here before the bindings compile.
    fn from(e: patrol_core::Error) -> Self {
        use patrol_core::Error as E;
        let reason = e.to_string();
        let invalid = |reason| PatrolError::InvalidInput { reason };
        let state = |reason| PatrolError::InvalidState { reason };
        let missing = |kind, id: String, reason| PatrolError::NotFound { kind, id, reason };
        match e {
            E::InvalidFix { .. }
            | E::InvalidConfig(_)
            | E::InvalidInput(_)
            | E::TrackFile(_)
            | E::BadId(_)
            | E::BadValue(_)
            | E::BadDocument(_)
            | E::InsecureUrl(_) => invalid(reason),
            E::Photo(p) => {
                use patrol_core::photos::PhotoError as P;
                match p {
                    P::Unknown(id) => missing(MissingKind::Photo, id, reason),
                    P::NoPhotoFolder => state(reason),
                    P::Empty { .. }
                    | P::TooLarge { .. }
                    | P::NotAnImage { .. }
                    | P::TooManyPixels { .. }
                    | P::Undecodable { .. } => invalid(reason),
                }
            }
            E::Streets(s) => {
                use patrol_core::streets::StreetsError as S;
                match s {
                    S::UnknownStreet(name) => missing(MissingKind::Street, name, reason),
                    S::NoNetwork => state(reason),
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
                    | S::BadOption(_) => invalid(reason),
                }
            }
            E::Signboard(s) => {
                use patrol_core::signboard::SignboardError as S;
                match s {
                    // A genuine code for a street this store has not synced yet.
                    S::StreetNotInStore(id) => missing(MissingKind::Street, id.to_string(), reason),
                    // No key to check against, or a store that only verifies asked to issue.
                    S::NoDistrictKey | S::NotIssuer => state(reason),
                    S::Malformed(_)
                    | S::UnsupportedVersion(_)
                    | S::BadSignature
                    | S::BadPublicKey(_)
                    | S::BadPublicUrl(_) => invalid(reason),
                }
            }
            E::UnknownPatrol(id) => missing(MissingKind::Patrol, id.to_string(), reason),
            E::UnknownIssue(id) => missing(MissingKind::Issue, id.to_string(), reason),
            E::UnknownMerchant(id) => missing(MissingKind::Merchant, id.to_string(), reason),
            E::Refused { action, role, .. } => PatrolError::NotAllowed {
                role,
                action: action.to_owned(),
                reason,
            },
            E::NotInitialised
            | E::AlreadyInitialised { .. }
            | E::PatrolNotRecording { .. }
            | E::PatrolTransition { .. }
            | E::PatrolAlreadyActive(_)
            | E::NotEnrolled
            | E::StoreBelongsToAnother { .. } => state(reason),
            E::NotADatabase { .. } => PatrolError::NotADatabase { reason },
            E::WrongKey { .. } => PatrolError::KeyUnavailable {
                missing: false,
                reason,
            },
            E::KeyMissing { .. } => PatrolError::KeyUnavailable {
                missing: true,
                reason,
            },
            E::SecretStore(_) => PatrolError::SecretStore { reason },
            E::DatabaseTooNew {
                found, supported, ..
            } => PatrolError::DatabaseTooNew {
                found,
                supported,
                reason,
            },
            E::Io { .. } => PatrolError::Io { reason },
            E::Interrupted => PatrolError::Interrupted { reason },
            E::Migration { .. } | E::Sqlite(_) => PatrolError::Storage { reason },
            E::Network(_) => PatrolError::Network { reason },
            E::Server { status, code, .. } => PatrolError::Server {
                status,
                code,
                reason,
            },
            E::Protocol(_) => PatrolError::Protocol { reason },
        }
    }
}

impl From<patrol_core::ParseIdError> for PatrolError {
    fn from(e: patrol_core::ParseIdError) -> Self {
        patrol_core::Error::from(e).into()
    }
}

impl PatrolError {
    /// A bug on this side of the boundary, with what happened.
    pub(crate) fn internal(reason: impl Into<String>) -> Self {
        PatrolError::Internal {
            reason: reason.into(),
        }
    }

    /// Work stopped before it finished, with what was kept.
    pub(crate) fn interrupted(reason: impl Into<String>) -> Self {
        PatrolError::Interrupted {
            reason: reason.into(),
        }
    }

    /// The store's lock was poisoned: an earlier call panicked while holding it.
    pub(crate) fn poisoned() -> Self {
        PatrolError::internal(
            "an earlier call on this store failed unexpectedly; close the store and open it again",
        )
    }

    /// A panic caught on a worker thread, with what it said.
    pub(crate) fn panicked(what: &str, payload: &(dyn std::any::Any + Send)) -> Self {
        let detail = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        PatrolError::internal(format!(
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
                |e| matches!(e, PatrolError::InvalidInput { .. }),
            ),
            (patrol_core::Error::UnknownPatrol(id), |e| {
                matches!(e, PatrolError::NotFound { .. })
            }),
            (
                patrol_core::Error::PatrolNotRecording {
                    id,
                    state: PatrolState::Paused,
                },
                |e| matches!(e, PatrolError::InvalidState { .. }),
            ),
            (
                patrol_core::Error::NotADatabase {
                    path: "/x.db".into(),
                },
                |e| matches!(e, PatrolError::NotADatabase { .. }),
            ),
            (patrol_core::Error::Interrupted, |e| {
                matches!(e, PatrolError::Interrupted { .. })
            }),
            (
                patrol_core::Error::Refused {
                    action: "verify",
                    role: patrol_core::Role::Steward,
                    id: patrol_core::IssueId::new(),
                    reason: "a steward may not verify an issue".into(),
                },
                |e| matches!(e, PatrolError::NotAllowed { .. }),
            ),
            (
                patrol_core::Error::UnknownIssue(patrol_core::IssueId::new()),
                |e| matches!(e, PatrolError::NotFound { .. }),
            ),
            (patrol_core::streets::StreetsError::NoNetwork.into(), |e| {
                matches!(e, PatrolError::InvalidState { .. })
            }),
            (
                patrol_core::streets::StreetsError::UnknownStreet("x".into()).into(),
                |e| matches!(e, PatrolError::NotFound { .. }),
            ),
            (
                patrol_core::photos::PhotoError::Unknown("ab".into()).into(),
                |e| matches!(e, PatrolError::NotFound { .. }),
            ),
            (
                patrol_core::signboard::SignboardError::BadSignature.into(),
                |e| matches!(e, PatrolError::InvalidInput { .. }),
            ),
            (
                patrol_core::signboard::SignboardError::NotIssuer.into(),
                |e| matches!(e, PatrolError::InvalidState { .. }),
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
        let refused = PatrolError::from(patrol_core::Error::Refused {
            action: "verify",
            role: patrol_core::Role::Steward,
            id: patrol_core::IssueId::new(),
            reason: "a steward may not verify an issue".into(),
        });
        assert!(
            matches!(&refused, PatrolError::NotAllowed { role: patrol_core::Role::Steward, action, .. } if action == "verify"),
            "the role and the action cross: {refused:?}"
        );
        let server = PatrolError::from(patrol_core::Error::Server {
            status: 401,
            code: "unauthorized".into(),
            message: "this device was revoked".into(),
        });
        assert!(
            matches!(&server, PatrolError::Server { status: 401, code, .. } if code == "unauthorized"),
            "the status and the code cross: {server:?}"
        );
        let too_new = PatrolError::from(patrol_core::Error::DatabaseTooNew {
            path: "/x.db".into(),
            found: 9,
            supported: 7,
        });
        assert!(
            matches!(
                too_new,
                PatrolError::DatabaseTooNew {
                    found: 9,
                    supported: 7,
                    ..
                }
            ),
            "both versions cross"
        );
        let merchant = patrol_core::MerchantId::new();
        assert!(matches!(
            PatrolError::from(patrol_core::Error::UnknownMerchant(merchant)),
            PatrolError::NotFound { kind: MissingKind::Merchant, id, .. } if id == merchant.to_string()
        ));
        let bad_id: PatrolError = "not-a-uuid".parse::<PatrolId>().unwrap_err().into();
        assert!(
            matches!(&bad_id, PatrolError::InvalidInput { reason } if reason.contains("not-a-uuid")),
            "{bad_id:?}"
        );
    }
}
