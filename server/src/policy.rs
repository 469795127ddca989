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
    /// Photos (SHA-256) the document refers to.
    pub blobs: Vec<String>,
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
        id: &str,
        before: Option<&Automerge>,
        after: &Automerge,
        device_heads: &[automerge::ChangeHash],
        device: &DeviceCtx,
    ) -> Result<(), Refusal>;
}

/// The policy for issue documents: the same document model, role table and fold the phones use.
///
/// A device's changes are accepted when the document is still a valid issue, nothing written by
/// the reporter at creation (category, location, reporter, description) changed, nothing already
/// there was altered or removed, every new event and comment is signed with the device's own
/// user, role and device, the role table allows the event for the role, and the fold applies it
/// as the device saw the issue (at the heads the device declared). An event that the fold
/// refuses only because of changes the device had not yet seen (a concurrent reopen, say) is
/// accepted: it stays in the history, refused, and changes nothing, exactly as on every phone.
pub struct IssuePolicy;

fn read_issue(doc: &Automerge) -> Result<patrol_core::issues::IssueDoc, Refusal> {
    patrol_core::issues::doc::read(doc).map_err(|e| Refusal::Invalid(format!("not a valid issue document: {e}")))
}

impl DocPolicy for IssuePolicy {
    fn facts(&self, _kind: DocKind, doc: &Automerge) -> Result<DocFacts, Refusal> {
        let issue = read_issue(doc)?;
        let state = patrol_core::issues::workflow::fold(&issue);
        let mut audience: Vec<String> = state.assignees.iter().map(|a| a.to_string()).collect();
        audience.sort();
        audience.dedup();
        Ok(DocFacts {
            street_id: issue.location.street_id.clone(),
            owner_id: Some(issue.reporter.user_id.to_string()),
            audience,
            blobs: issue.photos.iter().map(|p| p.sha256.clone()).collect(),
        })
    }

    fn check_update(
        &self,
        _kind: DocKind,
        id: &str,
        before: Option<&Automerge>,
        after: &Automerge,
        device_heads: &[automerge::ChangeHash],
        device: &DeviceCtx,
    ) -> Result<(), Refusal> {
        use patrol_core::issues::roles::{Allowance, allowance, verb};
        let new = read_issue(after)?;
        if new.id.to_string() != id {
            return Err(Refusal::Invalid(format!("document {id} says it is issue {}", new.id)));
        }
        if !new.unreadable_events.is_empty() {
            return Err(Refusal::Invalid(format!("issue {id}: {} event(s) are not readable", new.unreadable_events.len())));
        }
        let me = device.user.id;
        let old = match before {
            None => {
                let r = &new.reporter;
                if r.user_id != me || r.device_id != device.device_id || r.role != device.user.role {
                    return Err(Refusal::NotAllowed(format!(
                        "issue {id} names another reporter ({} as {}); a device reports only as its own user",
                        r.user_id, r.role
                    )));
                }
                None
            }
            Some(b) => Some(read_issue(b)?),
        };
        if let Some(old) = &old {
            if old.category != new.category || old.location != new.location || old.reporter != new.reporter || old.description != new.description {
                return Err(Refusal::NotAllowed(format!(
                    "issue {id}: category, location, reporter and description are fixed when it is reported"
                )));
            }
            for e in &old.events {
                if new.events.iter().find(|n| n.id == e.id) != Some(e) {
                    return Err(Refusal::NotAllowed(format!("issue {id}: event {} was changed or removed; events are append-only", e.id)));
                }
            }
            for c in &old.comments {
                if new.comments.iter().find(|n| n.id == c.id) != Some(c) {
                    return Err(Refusal::NotAllowed(format!("issue {id}: comment {} was changed or removed", c.id)));
                }
            }
            for p in &old.photos {
                if new.photo(&p.sha256).is_none() {
                    return Err(Refusal::NotAllowed(format!("issue {id}: photo {} was removed", p.sha256)));
                }
            }
        }
        let is_new = |eid| old.as_ref().is_none_or(|o| o.events.iter().all(|e| e.id != eid));
        let fresh: Vec<_> = new.events.iter().filter(|e| is_new(e.id)).collect();
        for c in new.comments.iter().filter(|c| old.as_ref().is_none_or(|o| o.comments.iter().all(|x| x.id != c.id))) {
            if c.by != me || c.role != device.user.role {
                return Err(Refusal::NotAllowed(format!("issue {id}: comment {} is signed by another user", c.id)));
            }
        }
        if fresh.is_empty() {
            return Ok(());
        }
        // The issue as the device saw it when it made its events.
        let seen = if device_heads.is_empty() { None } else { after.fork_at(device_heads).ok() };
        let seen_state = match &seen {
            Some(d) => patrol_core::issues::workflow::fold(&read_issue(d)?),
            None => patrol_core::issues::workflow::fold(&new),
        };
        for e in fresh {
            if e.by != me || e.role != device.user.role || e.device != device.device_id {
                return Err(Refusal::NotAllowed(format!(
                    "issue {id}: event {} claims to be by {} ({}) on device {}; a device acts only as its own user",
                    e.id, e.by, e.role, e.device
                )));
            }
            if allowance(e.kind, e.role) == Allowance::No {
                return Err(Refusal::NotAllowed(format!("issue {id}: a {} may not {}", e.role, verb(e.kind))));
            }
            if let Some(why) = seen_state.refusal_of(e.id) {
                return Err(Refusal::NotAllowed(format!("issue {id}: {why}")));
            }
        }
        Ok(())
    }
}
