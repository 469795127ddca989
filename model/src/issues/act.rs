//! Authoring one workflow event: the check the fold applies, made before anything is written,
//! so a refused event never enters a document. The phone store and the server's office both
//! author through [`propose_event`]; only where the clock and the document are kept differs.

use crate::domain::{DeviceId, IssueEventId, IssueEventKind, Role, UserId};
use crate::hlc::HlcStamp;
use crate::issues::model::{EventPayload, IssueDoc, IssueEvent, PhotoRef};
use crate::issues::roles::{self, Refusal};
use crate::issues::workflow::IssueState;

/// Who acts, and through which device (a phone, or the server's office desk for a person
/// signed in on the web).
#[derive(Debug, Clone, Copy)]
pub struct Author<'a> {
    pub user_id: &'a UserId,
    pub role: Role,
    pub device_id: DeviceId,
}

/// The event `author` may add to the issue `current` (folded as `state`), stamped `at`, or why
/// not. `photo`, when given, is the photo the event carries (a resolve's after-photo) and counts
/// as attached for the check. An assignee's action names the assignment it acts under.
pub fn propose_event(
    current: &IssueDoc,
    state: &IssueState,
    author: &Author<'_>,
    kind: IssueEventKind,
    payload: EventPayload,
    photo: Option<&PhotoRef>,
    at: HlcStamp,
) -> Result<IssueEvent, Refusal> {
    let mut photos = current.photos.clone();
    if let Some(p) = photo
        && current.photo(&p.sha256).is_none()
    {
        photos.push(p.clone());
    }
    let facts = roles::IssueFacts {
        issue_id: current.id,
        status: Some(state.status),
        round: state.round,
        reporter: &current.reporter.user_id,
        assignments: &state.assignments,
        resolver: state.resolved_by.as_ref(),
        location: (current.location.lat, current.location.lon),
        photos: &photos,
    };
    let proposal = roles::Proposal {
        kind,
        by: author.user_id,
        role: author.role,
        round: state.round,
        payload: &payload,
    };
    let allowed = roles::check(&facts, &proposal)?;
    let mut payload = payload;
    if allowed.assignment.is_some() && payload.assignment.is_none() {
        payload.assignment = allowed.assignment;
    }
    Ok(IssueEvent {
        id: IssueEventId::new(),
        kind,
        by: *author.user_id,
        role: author.role,
        device: author.device_id,
        at,
        round: state.round,
        payload,
    })
}
