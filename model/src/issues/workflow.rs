//! The workflow fold: an issue's status, round, assignees and conflicts computed from its
//! events, deterministically. Status is never a stored field someone overwrites: every device
//! folds the same set of events in the same order (HLC stamp, then event id) and so reaches the
//! same answer, whatever order the changes arrived in.
//!
//! Each event is checked again with [`roles::check`] against the state so far; an event that
//! breaks the rules (from a device that skipped the check, or made concurrently with a reopen)
//! stays in the history, marked refused with the reason, and changes nothing.
//!
//! Two assignments that do not know of each other (neither `replaces` the other) both stay
//! current: the fold reports them as a conflict for a person to settle, instead of letting the
//! later clock win silently.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::domain::{IssueEventId, IssueEventKind, IssueId, IssueStatus, UserId};
use crate::issues::model::{Assignee, IssueDoc, IssueEvent};
use crate::issues::roles::{self, Assignment, IssueFacts, Proposal};

/// One event as the fold saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FoldedEvent {
    #[serde(flatten)]
    pub event: IssueEvent,
    /// Whether it changed the state.
    pub applied: bool,
    /// Why not, when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

/// Two or more people or departments hold the issue at once and nobody chose between them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssignmentConflict {
    pub assignees: Vec<Assignee>,
    pub events: Vec<IssueEventId>,
}

/// The state of an issue, as of all its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssueState {
    pub status: IssueStatus,
    /// 1, then one more per reopen.
    pub round: u32,
    /// Who holds the issue now (distinct, sorted).
    pub assignees: Vec<Assignee>,
    pub assignments: Vec<Assignment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflict: Option<AssignmentConflict>,
    pub resolved_by: Option<UserId>,
    pub verified_by: Option<UserId>,
    pub duplicate_of: Option<IssueId>,
    /// HLC wall time of the report.
    pub reported_at_ms: i64,
    /// HLC wall time the current round began (report or reopen): the due time counts from here.
    pub round_started_at_ms: i64,
    /// HLC wall time of the latest event or comment.
    pub updated_at_ms: i64,
    /// Every event in fold order.
    pub events: Vec<FoldedEvent>,
}

impl IssueState {
    /// The events that were applied, in fold order.
    pub fn applied(&self) -> impl Iterator<Item = &IssueEvent> {
        self.events.iter().filter(|e| e.applied).map(|e| &e.event)
    }

    /// Why the fold refused event `id` (`None` when it was applied or is not there). The sync
    /// server folds a document with incoming changes merged and rejects the changes whose new
    /// events come back refused.
    pub fn refusal_of(&self, id: IssueEventId) -> Option<&str> {
        self.events
            .iter()
            .find(|e| e.event.id == id)
            .and_then(|e| e.refused.as_deref())
    }
}

/// Folds a document's events into its state: every event in order (HLC stamp, then id), each
/// checked against the state so far and applied or marked refused.
pub fn fold(doc: &IssueDoc) -> IssueState {
    let mut events: Vec<&IssueEvent> = doc.events.iter().collect();
    events.sort_by(|a, b| (&a.at, a.id).cmp(&(&b.at, b.id)));
    let mut state = Folding::default();
    let mut seen = BTreeSet::new();
    let mut folded = Vec::with_capacity(events.len());
    for e in events {
        let outcome = if seen.insert(e.id) {
            state
                .check(doc, e)
                .and_then(|allowed| state.apply(doc, e, &allowed))
        } else {
            Err(roles::Refusal(
                "an event with this id is already in the history".into(),
            ))
        };
        folded.push(FoldedEvent {
            event: e.clone(),
            applied: outcome.is_ok(),
            refused: outcome.err().map(|why| why.0),
        });
    }
    state.finish(doc, folded)
}

/// The state while folding, event by event.
#[derive(Debug)]
struct Folding {
    status: Option<IssueStatus>,
    round: u32,
    assignments: Vec<Assignment>,
    resolved_by: Option<UserId>,
    verified_by: Option<UserId>,
    duplicate_of: Option<IssueId>,
    reported_at_ms: i64,
    round_started_at_ms: i64,
}

impl Default for Folding {
    fn default() -> Self {
        Self {
            status: None,
            round: 1,
            assignments: Vec::new(),
            resolved_by: None,
            verified_by: None,
            duplicate_of: None,
            reported_at_ms: 0,
            round_started_at_ms: 0,
        }
    }
}

impl Folding {
    /// The role table's verdict on event `e` given the state so far.
    fn check(&self, doc: &IssueDoc, e: &IssueEvent) -> Result<roles::Allowed, roles::Refusal> {
        let facts = IssueFacts {
            issue_id: doc.id,
            status: self.status,
            round: self.round,
            reporter: &doc.reporter.user_id,
            assignments: &self.assignments,
            resolver: self.resolved_by.as_ref(),
            location: (doc.location.lat, doc.location.lon),
            photos: &doc.photos,
        };
        let proposal = Proposal {
            kind: e.kind,
            by: &e.by,
            role: e.role,
            round: e.round,
            payload: &e.payload,
        };
        roles::check(&facts, &proposal)
    }

    /// Applies an allowed event: the status it leads to and what else it changes.
    fn apply(
        &mut self,
        doc: &IssueDoc,
        e: &IssueEvent,
        allowed: &roles::Allowed,
    ) -> Result<(), roles::Refusal> {
        let wall = e.at.wall_ms;
        let next = match e.kind {
            IssueEventKind::Report => {
                if e.by != doc.reporter.user_id {
                    return Err(roles::Refusal(
                        "the report event must be made by the reporter".into(),
                    ));
                }
                self.reported_at_ms = wall;
                self.round_started_at_ms = wall;
                IssueStatus::Reported
            }
            IssueEventKind::Assign => {
                self.assignments
                    .retain(|a| !e.payload.replaces.contains(&a.event));
                if let Some(to) = &e.payload.to {
                    self.assignments.push(Assignment {
                        event: e.id,
                        to: to.clone(),
                        accepted: false,
                    });
                }
                assignment_status(&self.assignments)
            }
            IssueEventKind::Return => {
                self.assignments
                    .retain(|a| Some(a.event) != allowed.assignment);
                if self.assignments.is_empty() {
                    IssueStatus::Returned
                } else {
                    assignment_status(&self.assignments)
                }
            }
            IssueEventKind::Accept => {
                for a in self
                    .assignments
                    .iter_mut()
                    .filter(|a| Some(a.event) == allowed.assignment)
                {
                    a.accepted = true;
                }
                IssueStatus::InProgress
            }
            IssueEventKind::Resolve => {
                self.resolved_by = Some(e.by);
                IssueStatus::Resolved
            }
            IssueEventKind::Verify => {
                self.verified_by = Some(e.by);
                IssueStatus::Verified
            }
            IssueEventKind::Reopen => {
                self.round += 1;
                self.round_started_at_ms = wall;
                self.assignments.clear();
                self.resolved_by = None;
                self.verified_by = None;
                self.duplicate_of = None;
                IssueStatus::Reopened
            }
            IssueEventKind::DuplicateOf => {
                self.duplicate_of = e.payload.duplicate_of;
                IssueStatus::Duplicate
            }
            IssueEventKind::Cancel => IssueStatus::Cancelled,
        };
        self.status = Some(next);
        Ok(())
    }

    /// The state once every event is folded: distinct assignees, a conflict when more than one
    /// holds the issue, the latest time anything happened.
    fn finish(self, doc: &IssueDoc, events: Vec<FoldedEvent>) -> IssueState {
        let assignees: Vec<Assignee> = self
            .assignments
            .iter()
            .map(|a| a.to.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let conflict = (assignees.len() > 1).then(|| AssignmentConflict {
            assignees: assignees.clone(),
            events: self.assignments.iter().map(|a| a.event).collect(),
        });
        let updated_at_ms = events
            .iter()
            .map(|f| f.event.at.wall_ms)
            .chain(doc.comments.iter().map(|c| c.at.wall_ms))
            .max()
            .unwrap_or(0);
        IssueState {
            status: self.status.unwrap_or(IssueStatus::Reported),
            round: self.round,
            assignees,
            assignments: self.assignments,
            conflict,
            resolved_by: self.resolved_by,
            verified_by: self.verified_by,
            duplicate_of: self.duplicate_of,
            reported_at_ms: self.reported_at_ms,
            round_started_at_ms: self.round_started_at_ms,
            updated_at_ms,
            events,
        }
    }
}

fn assignment_status(assignments: &[Assignment]) -> IssueStatus {
    if assignments.iter().any(|a| a.accepted) {
        IssueStatus::InProgress
    } else {
        IssueStatus::Assigned
    }
}

/// What one action or merge did to an issue: the status it left it in, and whose report it is. The issue layer returns it; the layers above
/// act on it (a verified report earns its reporter points) in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssueTransition {
    pub issue_id: IssueId,
    pub reporter: UserId,
    pub after: IssueStatus,
    /// When it was written, by this device's clock.
    pub at_ms: i64,
}

impl IssueTransition {
    /// Whether the issue is in `status` after this transition.
    pub fn ends(&self, status: IssueStatus) -> bool {
        self.after == status
    }
}
