//! A supervisor's action on an issue from the office platform: dispatch it (to city property,
//! enforcement, the owning department or a person), return it, verify, reopen or cancel it, or
//! comment. The server authors the event on the signed-in user's behalf through the office desk
//! (a device of theirs that never syncs, made on first use) with the phones' own code: the fold,
//! [`patrol_model::issues::act::propose_event`] (the role table and the state rules), the
//! document layout, and then the same checks a device's upload passes
//! ([`crate::sync::accept_server_change`]). The phones receive it on their next sync.

use automerge::Automerge;
use patrol_model::docs::fields::actor_from_hex;
use patrol_model::domain::{CommentId, IssueEventKind, IssueId};
use patrol_model::hlc::HlcClock;
use patrol_model::issues::act::{Author, propose_event};
use patrol_model::issues::model::Comment;
use patrol_model::issues::{Assignee, EventPayload, IssueDoc, IssueState, doc, fold, roles};
use patrol_model::wire::DocKind;
use patrol_model::{DeviceId, UserId};
use serde::{Deserialize, Serialize};

use super::{OfficeError, OfficeResult, OfficeUser, audit};
use crate::policy::{DeviceCtx, DocPolicy};
use crate::storage::{FeedRow, Storage, Tx};

/// Longest reason, note or comment, in characters (the model's own limit).
pub const MAX_TEXT_CHARS: usize = roles::MAX_TEXT_CHARS;

/// What a supervisor does to an issue.
#[derive(Debug, Clone, PartialEq)]
pub enum OfficeAction {
    Assign { to: Assignee },
    Return { reason: String },
    Verify { note: Option<String> },
    Reopen { reason: String },
    Cancel { reason: String },
    Comment { text: String },
}

impl OfficeAction {
    /// The audit log's word for it.
    pub fn name(&self) -> &'static str {
        match self {
            OfficeAction::Assign { .. } => "issue.assign",
            OfficeAction::Return { .. } => "issue.return",
            OfficeAction::Verify { .. } => "issue.verify",
            OfficeAction::Reopen { .. } => "issue.reopen",
            OfficeAction::Cancel { .. } => "issue.cancel",
            OfficeAction::Comment { .. } => "issue.comment",
        }
    }

    fn detail(&self) -> String {
        match self {
            OfficeAction::Assign { to } => format!("to {to}"),
            OfficeAction::Return { reason }
            | OfficeAction::Reopen { reason }
            | OfficeAction::Cancel { reason } => reason.clone(),
            OfficeAction::Verify { note } => note.clone().unwrap_or_default(),
            OfficeAction::Comment { text } => text.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct DeskIds {
    device_id: DeviceId,
    actor_id: String,
}

fn desk_setting(user: &UserId) -> String {
    format!("office_desk:{user}")
}

/// The user's office desk as a device (made in `tx` the first time).
fn office_desk(tx: &mut dyn Tx, user: &OfficeUser, now_ms: i64) -> OfficeResult<DeviceCtx> {
    let key = desk_setting(&user.user.id);
    let ids = match tx.site_setting(&key)? {
        Some(bytes) => serde_json::from_slice::<DeskIds>(&bytes)
            .map_err(|e| anyhow::anyhow!("the office desk record of {}: {e}", user.user.id))?,
        None => {
            let (device_id, actor_id) =
                crate::people::add_server_device(tx, &user.user.id, "office platform", now_ms)?;
            let ids = DeskIds {
                device_id,
                actor_id,
            };
            tx.put_site_setting(
                &key,
                &serde_json::to_vec(&ids).map_err(anyhow::Error::from)?,
            )?;
            ids
        }
    };
    Ok(DeviceCtx {
        device_id: ids.device_id,
        user: user.user.clone(),
        actor_id: ids.actor_id,
        streets: tx.streets_of_user(&user.user.id)?.into_iter().collect(),
    })
}

/// Whether `user` may see the issue document `id` (its feed row as the sync server would
/// filter it for them); `NotFound` for a missing one and one out of reach alike.
pub fn check_visible(tx: &mut dyn Tx, user: &OfficeUser, id: &str) -> OfficeResult<()> {
    let row: Option<FeedRow> = tx.feed_row("doc:issue", id)?;
    let ctx = DeviceCtx {
        device_id: DeviceId(uuid::Uuid::nil()),
        user: user.user.clone(),
        actor_id: String::new(),
        streets: tx.streets_of_user(&user.user.id)?.into_iter().collect(),
    };
    match row {
        Some(r) if crate::sync::visible(&ctx, &r) => Ok(()),
        _ => Err(OfficeError::NotFound),
    }
}

/// An issue document read and folded.
pub fn load(tx: &mut dyn Tx, id: &str) -> OfficeResult<(Automerge, IssueDoc, IssueState)> {
    let row = tx
        .doc(id)?
        .filter(|d| d.kind == "issue")
        .ok_or(OfficeError::NotFound)?;
    let am = Automerge::load(&row.data)
        .map_err(|e| anyhow::anyhow!("stored issue {id} does not load: {e}"))?;
    let issue = doc::read(&am).map_err(|e| anyhow::anyhow!("stored issue {id}: {e}"))?;
    let state = fold(&issue);
    Ok((am, issue, state))
}

fn payload_of(action: &OfficeAction, state: &IssueState) -> EventPayload {
    let clean = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    match action {
        OfficeAction::Assign { to } => EventPayload {
            to: Some(to.clone()),
            replaces: state.assignments.iter().map(|a| a.event).collect(),
            ..Default::default()
        },
        OfficeAction::Return { reason }
        | OfficeAction::Reopen { reason }
        | OfficeAction::Cancel { reason } => EventPayload {
            reason: clean(reason),
            ..Default::default()
        },
        OfficeAction::Verify { note } => EventPayload {
            note: note.as_deref().and_then(clean),
            ..Default::default()
        },
        OfficeAction::Comment { .. } => EventPayload::default(),
    }
}

fn kind_of(action: &OfficeAction) -> Option<IssueEventKind> {
    Some(match action {
        OfficeAction::Assign { .. } => IssueEventKind::Assign,
        OfficeAction::Return { .. } => IssueEventKind::Return,
        OfficeAction::Verify { .. } => IssueEventKind::Verify,
        OfficeAction::Reopen { .. } => IssueEventKind::Reopen,
        OfficeAction::Cancel { .. } => IssueEventKind::Cancel,
        OfficeAction::Comment { .. } => return None,
    })
}

/// The workflow actions the role table and the issue's state allow `user` now (what the
/// issue's page offers). Comments are always offered to whoever sees the issue.
pub fn allowed_actions(
    user: &OfficeUser,
    issue: &IssueDoc,
    state: &IssueState,
) -> Vec<IssueEventKind> {
    let author = Author {
        user_id: &user.user.id,
        role: user.user.role,
        device_id: DeviceId(uuid::Uuid::nil()),
    };
    let sample = |kind: IssueEventKind| match kind {
        IssueEventKind::Assign => OfficeAction::Assign {
            to: Assignee::Department(patrol_model::domain::Department::CityProperty),
        },
        IssueEventKind::Return => OfficeAction::Return { reason: "?".into() },
        IssueEventKind::Reopen => OfficeAction::Reopen { reason: "?".into() },
        IssueEventKind::Cancel => OfficeAction::Cancel { reason: "?".into() },
        _ => OfficeAction::Verify { note: None },
    };
    [
        IssueEventKind::Assign,
        IssueEventKind::Return,
        IssueEventKind::Verify,
        IssueEventKind::Reopen,
        IssueEventKind::Cancel,
    ]
    .into_iter()
    .filter(|kind| {
        let at = HlcClock::new("00").stamp_after(issue.latest_stamp(), 0);
        let action = sample(*kind);
        // An assignment to whom it is held by already is refused; any department will do for
        // asking whether assigning is possible at all.
        let ok = |a: &OfficeAction| {
            propose_event(
                issue,
                state,
                &author,
                *kind,
                payload_of(a, state),
                None,
                at.clone(),
            )
            .is_ok()
        };
        ok(&action)
            || (*kind == IssueEventKind::Assign
                && ok(&OfficeAction::Assign {
                    to: Assignee::Department(patrol_model::domain::Department::Enforcement),
                }))
    })
    .collect()
}

fn check_text(text: &str, what: &str, required: bool) -> OfficeResult<()> {
    let t = text.trim();
    if required && t.is_empty() {
        return Err(OfficeError::Invalid(format!("{what} is required")));
    }
    if t.chars().count() > MAX_TEXT_CHARS {
        return Err(OfficeError::Invalid(format!(
            "{what} is longer than {MAX_TEXT_CHARS} characters"
        )));
    }
    patrol_model::text::check_text(what, t, MAX_TEXT_CHARS * 4)
        .map_err(|e| OfficeError::Invalid(e.to_string()))?;
    Ok(())
}

/// Takes `action` on issue `id` as `user`; writes the event, the index row and the audit entry
/// in one transaction.
pub fn act(
    storage: &dyn Storage,
    policy: &dyn DocPolicy,
    user: &OfficeUser,
    id: &str,
    action: &OfficeAction,
    address: Option<&str>,
    now_ms: i64,
) -> OfficeResult<()> {
    match action {
        OfficeAction::Return { reason } => check_text(reason, "the reason", true)?,
        OfficeAction::Reopen { reason } => check_text(reason, "the reason", true)?,
        OfficeAction::Cancel { reason } => check_text(reason, "the reason", true)?,
        OfficeAction::Verify { note } => {
            check_text(note.as_deref().unwrap_or(""), "the note", false)?
        }
        OfficeAction::Comment { text } => check_text(text, "the comment", true)?,
        OfficeAction::Assign { .. } => {}
    }
    let issue_id: IssueId = id.parse().map_err(|_| OfficeError::NotFound)?;
    let mut tx = storage.write()?;
    check_visible(tx.as_mut(), user, id)?;
    let (before, issue, state) = load(tx.as_mut(), id)?;
    let desk = office_desk(tx.as_mut(), user, now_ms)?;
    let mut after = before.clone();
    after.set_actor(
        actor_from_hex(&desk.actor_id).map_err(|e| anyhow::anyhow!("the desk's actor: {e}"))?,
    );
    let at = HlcClock::new(desk.actor_id.clone()).stamp_after(issue.latest_stamp(), now_ms);
    match kind_of(action) {
        Some(kind) => {
            let author = Author {
                user_id: &user.user.id,
                role: user.user.role,
                device_id: desk.device_id,
            };
            let event = propose_event(
                &issue,
                &state,
                &author,
                kind,
                payload_of(action, &state),
                None,
                at,
            )
            .map_err(|r| OfficeError::Refused(r.0))?;
            doc::append_event(&mut after, &event, None)
                .map_err(|e| anyhow::anyhow!("writing the event: {e}"))?;
        }
        None => {
            let OfficeAction::Comment { text } = action else {
                return Err(anyhow::anyhow!("an action without an event kind").into());
            };
            doc::append_comment(
                &mut after,
                &Comment {
                    id: CommentId::new(),
                    by: user.user.id,
                    role: user.user.role,
                    at,
                    text: text.trim().to_owned(),
                },
            )
            .map_err(|e| anyhow::anyhow!("writing the comment: {e}"))?;
        }
    }
    crate::sync::accept_server_change(
        tx.as_mut(),
        policy,
        &desk,
        DocKind::Issue,
        id,
        &before,
        &after,
        now_ms,
    )
    .map_err(|e| OfficeError::Refused(e.to_string()))?;
    let catalog = crate::rules::catalog(tx.as_mut())?;
    crate::issue_index::refresh(tx.as_mut(), id, &catalog)?;
    audit::record(
        tx.as_mut(),
        now_ms,
        Some(&user.user.id),
        action.name(),
        Some(&issue_id.to_string()),
        &action.detail(),
        address,
    )?;
    tx.commit()?;
    Ok(())
}
