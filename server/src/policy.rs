//! What the server needs to know about a CRDT document to replicate it partially and to refuse
//! changes a device may not make. The rules themselves live in the core (the same role table the
//! phones enforce locally); this trait is how the sync logic asks them.

use std::collections::HashSet;

use automerge::Automerge;
use patrol_core::sync::wire::{DocKind, UserRecord};
use patrol_core::DeviceId;

/// The authenticated device making a request, with what its user answers for.
#[derive(Debug, Clone)]
pub struct DeviceCtx {
    pub device_id: DeviceId,
    pub user: UserRecord,
    pub actor_id: String,
    /// Streets the user is assigned to (chief, steward) or scoped to.
    pub streets: HashSet<String>,
}

/// Who a document concerns, for partial replication.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DocFacts {
    pub street_id: Option<String>,
    /// The reporter.
    pub owner_id: Option<String>,
    /// Assignees: user ids and departments.
    pub audience: Vec<String>,
}

/// A change refused, with the reason for the client.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    /// Malformed or not a valid document of its kind (422).
    #[error("{0}")]
    Invalid(String),
    /// Valid, but not allowed for this device (403).
    #[error("{0}")]
    NotAllowed(String),
}

pub trait DocPolicy: Send + Sync + 'static {
    /// Facts of a (valid) document.
    fn facts(&self, kind: DocKind, doc: &Automerge) -> Result<DocFacts, Refusal>;

    /// Checks that `after` (which is `before` plus the device's changes; `before` is `None` for a
    /// new document) is a valid document and every change is one the device's user may make.
    fn check_update(
        &self,
        kind: DocKind,
        before: Option<&Automerge>,
        after: &Automerge,
        device: &DeviceCtx,
    ) -> Result<(), Refusal>;
}

/// The policy for issue documents. Until the issue document model lands in the core, every
/// issue upload is refused as unsupported.
pub struct IssuePolicy;

impl DocPolicy for IssuePolicy {
    fn facts(&self, _kind: DocKind, _doc: &Automerge) -> Result<DocFacts, Refusal> {
        Err(Refusal::Invalid("issue documents are not supported by this server yet".into()))
    }

    fn check_update(&self, _: DocKind, _: Option<&Automerge>, _: &Automerge, _: &DeviceCtx) -> Result<(), Refusal> {
        Err(Refusal::Invalid("issue documents are not supported by this server yet".into()))
    }
}
