//! What the server needs to know about a CRDT document to replicate it partially and to refuse
//! changes a device may not make. The rules themselves live in the core (the same role table the
//! phones enforce locally); this trait is how the sync logic asks them.

use std::collections::HashSet;

use automerge::{Automerge, ReadDoc};
use patrol_model::DeviceId;
use patrol_model::wire::{DocKind, UserRecord};

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
    /// An issue whose loop has ended: its status folds to verified, cancelled or duplicate.
    pub closed: bool,
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

    /// Checks that `after` (which is `before` plus the device's changes, whose hashes are
    /// `changes`; `before` is `None` for a new document) is a valid document and every change is
    /// one the device's user may make.
    fn check_update(
        &self,
        kind: DocKind,
        id: &str,
        before: Option<&Automerge>,
        after: &Automerge,
        changes: &[automerge::ChangeHash],
        device: &DeviceCtx,
    ) -> Result<DocFacts, Refusal>;
}

/// The policy for the documents phones sync, issues and merchants: the same document models, role
/// table and fold the phones use.
///
/// Both kinds must keep their layout and limits (known keys only, bounded sizes and counts, a
/// known `schema`: [`patrol_model::issues::validate`], [`patrol_model::merchants::validate`]);
/// a fault already stored (a document from before a rule) does not block later changes.
///
/// Issues: a device's changes are accepted when the document is still a valid issue, nothing written by
/// the reporter at creation (category, location, reporter, description) changed, nothing already
/// there was altered or removed (a photo entry is fixed once attached: stage, position, author,
/// thumbnail), every new event, comment and photo is signed with the device's own user (events
/// and comments also with its role and device), the role table allows the event for the role,
/// and the fold applies it as the device saw the issue: the document as of the change that wrote
/// the event (that change and its ancestors), whatever heads the device declares. An event is
/// written whole in one change. An event that the fold refuses only because of changes the
/// device had not yet seen (a concurrent reopen, say) is accepted: it stays in the history,
/// refused, and changes nothing, exactly as on every phone.
///
/// Merchants: only supervisors and chiefs write them (as on the phones); who created a merchant
/// and when is fixed; inspections and issue links are append-only and every new one is signed
/// with the device's own user (and role); the fields (name, address, location, closed) are
/// registers either may set.
#[derive(Debug)]
pub struct CorePolicy;

fn read_issue(doc: &Automerge) -> Result<patrol_model::issues::IssueDoc, Refusal> {
    patrol_model::issues::doc::read(doc)
        .map_err(|e| Refusal::Invalid(format!("not a valid issue document: {e}")))
}

fn read_merchant(doc: &Automerge) -> Result<patrol_model::merchants::Merchant, Refusal> {
    patrol_model::merchants::doc::read(doc)
        .map_err(|e| Refusal::Invalid(format!("not a valid merchant document: {e}")))
}

/// Items of a root list, readable or not (reading skips the unreadable ones).
fn list_len(doc: &Automerge, key: &str) -> usize {
    match doc.get(automerge::ROOT, key) {
        Ok(Some((automerge::Value::Object(automerge::ObjType::List), obj))) => doc.length(&obj),
        _ => 0,
    }
}

/// Refuses a document whose root containers (`keys`) are not the very objects they were: a
/// device that replaces or deletes the events list (say) would silently drop what others append
/// to the old one, even when the new list holds copies of everything.
fn same_containers(
    id: &str,
    before: Option<&Automerge>,
    after: &Automerge,
    keys: &[&str],
) -> Result<(), Refusal> {
    for key in keys {
        let now = after
            .get_all(automerge::ROOT, *key)
            .map_err(|e| Refusal::Invalid(format!("document {id}: {e}")))?;
        let was = match before {
            Some(b) => b
                .get_all(automerge::ROOT, *key)
                .map_err(|e| Refusal::Invalid(format!("document {id}: {e}")))?,
            None => now.clone(),
        };
        let ids = |v: &[(automerge::Value<'_>, automerge::ObjId)]| {
            v.iter().map(|(_, o)| o.clone()).collect::<Vec<_>>()
        };
        if now.len() != 1 || ids(&now) != ids(&was) {
            return Err(Refusal::NotAllowed(format!(
                "document {id}: its {key} were replaced or removed; they are only added to"
            )));
        }
    }
    Ok(())
}

/// Refuses two items with the same id (a copy of someone's item with other content would pass
/// for theirs).
fn unique_ids<T: PartialEq + std::fmt::Display>(
    id: &str,
    what: &str,
    ids: impl Iterator<Item = T>,
) -> Result<(), Refusal> {
    let mut seen: Vec<T> = Vec::new();
    for i in ids {
        if seen.contains(&i) {
            return Err(Refusal::NotAllowed(format!(
                "document {id}: two {what} have the id {i}"
            )));
        }
        seen.push(i);
    }
    Ok(())
}

/// A photo id: SHA-256, 64 lowercase hex digits.
fn valid_photo_id(id: &str, sha: &str) -> Result<(), Refusal> {
    if patrol_model::photos::is_photo_id(sha) {
        return Ok(());
    }
    Err(Refusal::Invalid(format!(
        "document {id}: photo {sha:?} is not a SHA-256 in lowercase hex"
    )))
}

fn merchant_facts(m: &patrol_model::merchants::Merchant) -> DocFacts {
    let mut blobs: Vec<String> = m
        .inspections
        .iter()
        .flat_map(|i| i.photos.iter().cloned())
        .collect();
    blobs.sort();
    blobs.dedup();
    DocFacts {
        street_id: m.fields.street_id.clone(),
        owner_id: Some(m.created_by.to_string()),
        audience: Vec::new(),
        blobs,
        closed: false,
    }
}

/// Whether an issue in `status` has left the loop for good (a reopen starts a new round of an
/// issue that was verified, but the resident's phone is not needed for it).
pub fn is_closed(status: patrol_model::domain::IssueStatus) -> bool {
    use patrol_model::domain::IssueStatus as S;
    matches!(status, S::Verified | S::Cancelled | S::Duplicate)
}

fn issue_facts(issue: &patrol_model::issues::IssueDoc) -> DocFacts {
    let state = patrol_model::issues::workflow::fold(issue);
    let mut audience: Vec<String> = state.assignees.iter().map(|a| a.to_string()).collect();
    audience.sort();
    audience.dedup();
    DocFacts {
        street_id: issue.location.street_id.clone(),
        owner_id: Some(issue.reporter.user_id.to_string()),
        audience,
        blobs: issue.photos.iter().map(|p| p.sha256.clone()).collect(),
        closed: is_closed(state.status),
    }
}

fn check_merchant_update(
    id: &str,
    before: Option<&Automerge>,
    after: &Automerge,
    device: &DeviceCtx,
) -> Result<patrol_model::merchants::Merchant, Refusal> {
    use patrol_model::Role;
    let role = device.user.role;
    if !matches!(role, Role::Supervisor | Role::Chief) {
        return Err(Refusal::NotAllowed(format!(
            "merchant {id}: a {role} may not edit merchants; supervisors and chiefs do"
        )));
    }
    let new = read_merchant(after)?;
    if new.id.to_string() != id {
        return Err(Refusal::Invalid(format!(
            "document {id} says it is merchant {}",
            new.id
        )));
    }
    let unreadable = (list_len(after, "inspections")
        - new.inspections.len().min(list_len(after, "inspections")))
        + (list_len(after, "links") - new.links.len().min(list_len(after, "links")));
    if unreadable > 0 {
        return Err(Refusal::Invalid(format!(
            "merchant {id}: {unreadable} inspection(s) or link(s) are not readable"
        )));
    }
    same_containers(id, before, after, &["inspections", "links"])?;
    unique_ids(id, "inspections", new.inspections.iter().map(|i| i.id))?;
    for sha in new.inspections.iter().flat_map(|i| &i.photos) {
        valid_photo_id(id, sha)?;
    }
    if role == Role::Chief
        && let Some(street) = &new.fields.street_id
        && !device.streets.contains(street)
    {
        return Err(Refusal::NotAllowed(format!(
            "merchant {id}: a chief keeps merchants along their own streets only"
        )));
    }
    let me = device.user.id;
    let old = match before {
        None => {
            if new.created_by != me {
                return Err(Refusal::NotAllowed(format!(
                    "merchant {id} names another creator ({}); a device creates merchants only as its own user",
                    new.created_by
                )));
            }
            None
        }
        Some(b) => Some(read_merchant(b)?),
    };
    if let Some(old) = &old {
        if old.created_by != new.created_by || old.created_at_ms != new.created_at_ms {
            return Err(Refusal::NotAllowed(format!(
                "merchant {id}: who created it and when are fixed"
            )));
        }
        for i in &old.inspections {
            if new.inspections.iter().find(|n| n.id == i.id) != Some(i) {
                return Err(Refusal::NotAllowed(format!(
                    "merchant {id}: inspection {} was changed or removed; inspections are append-only",
                    i.id
                )));
            }
        }
        for l in &old.links {
            if !new.links.contains(l) {
                return Err(Refusal::NotAllowed(format!(
                    "merchant {id}: an issue link was changed or removed; links are append-only"
                )));
            }
        }
    }
    let was = |f: &dyn Fn(&patrol_model::merchants::Merchant) -> bool| old.as_ref().is_some_and(f);
    for i in new
        .inspections
        .iter()
        .filter(|i| !was(&|o| o.inspections.iter().any(|x| x.id == i.id)))
    {
        if i.by != me || i.role != role {
            return Err(Refusal::NotAllowed(format!(
                "merchant {id}: inspection {} is signed by another user",
                i.id
            )));
        }
    }
    for l in new.links.iter().filter(|l| !was(&|o| o.links.contains(l))) {
        if l.by != me {
            return Err(Refusal::NotAllowed(format!(
                "merchant {id}: the link to issue {} is signed by another user",
                l.issue_id
            )));
        }
    }
    Ok(new)
}

impl DocPolicy for CorePolicy {
    fn facts(&self, kind: DocKind, doc: &Automerge) -> Result<DocFacts, Refusal> {
        Ok(match kind {
            DocKind::Merchant => merchant_facts(&read_merchant(doc)?),
            DocKind::Issue => issue_facts(&read_issue(doc)?),
        })
    }

    fn check_update(
        &self,
        kind: DocKind,
        id: &str,
        before: Option<&Automerge>,
        after: &Automerge,
        changes: &[automerge::ChangeHash],
        device: &DeviceCtx,
    ) -> Result<DocFacts, Refusal> {
        if kind == DocKind::Merchant {
            read_merchant(after)?;
            keeps_layout(kind, id, before, after)?;
            return check_merchant_update(id, before, after, device).map(|m| merchant_facts(&m));
        }
        let new = read_issue(after)?;
        keeps_layout(kind, id, before, after)?;
        check_issue_update(id, before, after, &new, changes, device)?;
        Ok(issue_facts(&new))
    }
}

/// The issue checks of [`CorePolicy::check_update`], on `new`, `after` as read.
fn check_issue_update(
    id: &str,
    before: Option<&Automerge>,
    after: &Automerge,
    new: &patrol_model::issues::IssueDoc,
    changes: &[automerge::ChangeHash],
    device: &DeviceCtx,
) -> Result<(), Refusal> {
    use patrol_model::issues::roles::{Allowance, allowance, verb};
    issue_is_readable(id, before, after, new)?;
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
        history_is_kept(id, old, new)?;
    }
    for p in new
        .photos
        .iter()
        .filter(|p| old.as_ref().is_none_or(|o| o.photo(&p.sha256).is_none()))
    {
        if p.added_by != me {
            return Err(Refusal::NotAllowed(format!(
                "issue {id}: photo {} says it was attached by {}; a device attaches photos only as its own user",
                p.sha256, p.added_by
            )));
        }
    }
    let is_new = |eid| {
        old.as_ref()
            .is_none_or(|o| o.events.iter().all(|e| e.id != eid))
    };
    let fresh: Vec<_> = new.events.iter().filter(|e| is_new(e.id)).collect();
    for c in new.comments.iter().filter(|c| {
        old.as_ref()
            .is_none_or(|o| o.comments.iter().all(|x| x.id != c.id))
    }) {
        if c.by != me || c.role != device.user.role {
            return Err(Refusal::NotAllowed(format!(
                "issue {id}: comment {} is signed by another user",
                c.id
            )));
        }
    }
    if fresh.is_empty() {
        return Ok(());
    }
    for e in &fresh {
        if e.by != me || e.role != device.user.role || e.device != device.device_id {
            return Err(Refusal::NotAllowed(format!(
                "issue {id}: event {} claims to be by {} ({}) on device {}; a device acts only as its own user",
                e.id, e.by, e.role, e.device
            )));
        }
        if allowance(e.kind, e.role) == Allowance::No {
            return Err(Refusal::NotAllowed(format!(
                "issue {id}: a {} may not {}",
                e.role,
                verb(e.kind)
            )));
        }
    }
    workflow_as_seen(id, after, changes, &fresh)
}

/// An issue upload's readability: it is the document it says, every event, comment and photo
/// entry reads, ids are unique, and the containers are those it had.
fn issue_is_readable(
    id: &str,
    before: Option<&Automerge>,
    after: &Automerge,
    new: &patrol_model::issues::IssueDoc,
) -> Result<(), Refusal> {
    if new.id.to_string() != id {
        return Err(Refusal::Invalid(format!(
            "document {id} says it is issue {}",
            new.id
        )));
    }
    if !new.unreadable_events.is_empty() {
        return Err(Refusal::Invalid(format!(
            "issue {id}: {} event(s) are not readable",
            new.unreadable_events.len()
        )));
    }
    same_containers(
        id,
        before,
        after,
        &["events", "comments", "photos", "location", "reporter"],
    )?;
    unique_ids(id, "events", new.events.iter().map(|e| e.id))?;
    unique_ids(id, "comments", new.comments.iter().map(|c| c.id))?;
    for p in &new.photos {
        valid_photo_id(id, &p.sha256)?;
    }
    let entries = match after.get(automerge::ROOT, "photos") {
        Ok(Some((automerge::Value::Object(automerge::ObjType::Map), obj))) => {
            after.keys(&obj).count()
        }
        _ => 0,
    };
    if entries != new.photos.len() {
        return Err(Refusal::Invalid(format!(
            "issue {id}: {} photo entry(ies) are not readable",
            entries.saturating_sub(new.photos.len())
        )));
    }
    Ok(())
}

/// What an update may not change of the issue it had: the report's fields, and every event,
/// comment and photo entry already there (append-only).
fn history_is_kept(
    id: &str,
    old: &patrol_model::issues::IssueDoc,
    new: &patrol_model::issues::IssueDoc,
) -> Result<(), Refusal> {
    if old.category != new.category
        || old.location != new.location
        || old.reporter != new.reporter
        || old.description != new.description
    {
        return Err(Refusal::NotAllowed(format!(
            "issue {id}: category, location, reporter and description are fixed when it is reported"
        )));
    }
    for e in &old.events {
        if new.events.iter().find(|n| n.id == e.id) != Some(e) {
            return Err(Refusal::NotAllowed(format!(
                "issue {id}: event {} was changed or removed; events are append-only",
                e.id
            )));
        }
    }
    for c in &old.comments {
        if new.comments.iter().find(|n| n.id == c.id) != Some(c) {
            return Err(Refusal::NotAllowed(format!(
                "issue {id}: comment {} was changed or removed",
                c.id
            )));
        }
    }
    for p in &old.photos {
        match new.photo(&p.sha256) {
            None => {
                return Err(Refusal::NotAllowed(format!(
                    "issue {id}: photo {} was removed",
                    p.sha256
                )));
            }
            Some(now) if now != p => {
                return Err(Refusal::NotAllowed(format!(
                    "issue {id}: photo {} was changed; a photo's entry (stage, place, author, thumbnail) is fixed once attached",
                    p.sha256
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Refuses a document that breaks its kind's layout or limits, unless the fault was already in
/// `before` (stored before the rule existed: not this device's doing).
fn keeps_layout(
    kind: DocKind,
    id: &str,
    before: Option<&Automerge>,
    after: &Automerge,
) -> Result<(), Refusal> {
    use patrol_model::docs::validate::first_new_fault;
    let faults = |doc: &Automerge| match kind {
        DocKind::Issue => patrol_model::issues::validate::issue_faults(id, doc),
        DocKind::Merchant => patrol_model::merchants::validate::merchant_faults(id, doc),
    };
    let now = faults(after);
    if now.is_empty() {
        return Ok(());
    }
    let was = before.map(faults).unwrap_or_default();
    match first_new_fault(&was, now) {
        Some(fault) => Err(Refusal::Invalid(fault.to_string())),
        None => Ok(()),
    }
}

/// Folds each new event as its author saw the issue: the document as of the uploaded change
/// that wrote the event, which holds exactly that change's ancestors (what the device had when
/// it made it). The heads a device declares play no part: a device that declares heads leaving
/// its own change out cannot hide an event from the check. The event must read the same there
/// as in the whole document (written whole in one change, not completed or altered later).
fn workflow_as_seen(
    id: &str,
    after: &Automerge,
    changes: &[automerge::ChangeHash],
    fresh: &[&patrol_model::issues::IssueEvent],
) -> Result<(), Refusal> {
    use std::collections::BTreeMap;
    let mut by_change: BTreeMap<automerge::ChangeHash, Vec<&patrol_model::issues::IssueEvent>> =
        BTreeMap::new();
    for e in fresh {
        let hash = writing_change(after, changes, &e.id.to_string()).ok_or_else(|| {
            Refusal::Invalid(format!(
                "issue {id}: event {} was not written by the uploaded changes",
                e.id
            ))
        })?;
        by_change.entry(hash).or_default().push(e);
    }
    for (hash, events) in by_change {
        let seen = after
            .fork_at(&[hash])
            .map_err(|e| Refusal::Invalid(format!("issue {id}: {e}")))?;
        let seen_doc = read_issue(&seen)?;
        let state = patrol_model::issues::workflow::fold(&seen_doc);
        for e in events {
            if seen_doc.events.iter().find(|s| s.id == e.id) != Some(e) {
                return Err(Refusal::NotAllowed(format!(
                    "issue {id}: event {} was completed or changed after the change that wrote it; an event is written whole in one change",
                    e.id
                )));
            }
            if let Some(why) = state.refusal_of(e.id) {
                return Err(Refusal::NotAllowed(format!("issue {id}: {why}")));
            }
        }
    }
    Ok(())
}

/// The uploaded change (of `changes`) that created the event map whose `id` is `event_id`.
fn writing_change(
    doc: &Automerge,
    changes: &[automerge::ChangeHash],
    event_id: &str,
) -> Option<automerge::ChangeHash> {
    let events = match doc.get(automerge::ROOT, "events").ok()?? {
        (automerge::Value::Object(automerge::ObjType::List), obj) => obj,
        _ => return None,
    };
    let made_by = (0..doc.length(&events)).find_map(|i| {
        let (_, obj) = doc.get(&events, i).ok()??;
        let (value, _) = doc.get(&obj, "id").ok()??;
        (value.as_str() == Some(event_id)).then_some(obj)
    })?;
    let automerge::ObjId::Id(counter, actor, _) = made_by else {
        return None;
    };
    changes.iter().copied().find(|h| {
        doc.get_change_by_hash(h).is_some_and(|c| {
            c.actor_id() == &actor && c.start_op().get() <= counter && counter <= c.max_op()
        })
    })
}
