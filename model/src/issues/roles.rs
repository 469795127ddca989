//! Who may do what to an issue: ONE table of role against event kind, plus the rules that
//! depend on the issue's state (only the assignee resolves, a steward never verifies, nobody
//! verifies their own fix, a resolve needs an after-photo the resolver attached, taken near the
//! issue ...).
//!
//! [`check`] is pure: the phone calls it before appending an event, the workflow fold calls it
//! again for every event it folds (so an event merged in from a device that skipped the check
//! changes nothing), and the sync server can call it on incoming events.

use std::fmt;

use serde::Serialize;

use crate::domain::{IssueEventId, IssueEventKind, IssueId, IssueStatus, PhotoStage, Role, UserId};
use crate::geodesy::haversine_distance_m;
use crate::issues::model::{Assignee, EventPayload, PhotoRef};

/// How far from the issue an after-photo may have been taken, in metres.
pub const RESOLVE_PHOTO_RADIUS_M: f64 = 100.0;

/// Longest reason or note, in characters.
pub const MAX_TEXT_CHARS: usize = 2_000;

/// What the role table says about one role and one kind of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Allowance {
    /// Anyone with the role.
    Yes,
    /// Nobody with the role.
    No,
    /// Only someone the issue is currently assigned to (the person, or a member of the department).
    IfAssignee,
    /// Only the person who reported the issue.
    IfReporter,
}

use Allowance::{IfAssignee as A, IfReporter as R, No as N, Yes as Y};

/// The role table. Columns, in [`Role::ALL`] order:
/// chief, steward, supervisor, crew, enforcement, public.
pub const ROLE_TABLE: &[(IssueEventKind, [Allowance; 6])] = &[
    //                              chief steward super crew enforce public
    (IssueEventKind::Report, [Y, Y, Y, Y, Y, Y]),
    (IssueEventKind::Assign, [Y, N, Y, N, N, N]),
    (IssueEventKind::Return, [A, A, A, A, A, N]),
    (IssueEventKind::Accept, [A, A, A, A, A, N]),
    (IssueEventKind::Resolve, [A, A, A, A, A, N]),
    (IssueEventKind::Verify, [Y, N, R, R, R, R]),
    (IssueEventKind::Reopen, [Y, N, Y, R, R, R]),
    (IssueEventKind::DuplicateOf, [Y, N, Y, N, N, N]),
    (IssueEventKind::Cancel, [Y, R, Y, R, R, R]),
];

/// The table's answer for `role` doing `kind`.
pub fn allowance(kind: IssueEventKind, role: Role) -> Allowance {
    let col = Role::ALL
        .iter()
        .position(|r| *r == role)
        .unwrap_or(Role::ALL.len());
    ROLE_TABLE
        .iter()
        .find(|(k, _)| *k == kind)
        .and_then(|(_, row)| row.get(col).copied())
        .unwrap_or(Allowance::No)
}

/// A current assignment: the assign event and who it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assignment {
    pub event: IssueEventId,
    pub to: Assignee,
    /// Whether the assignee accepted it.
    pub accepted: bool,
}

/// What the rules need to know about the issue, as the fold has it so far.
#[derive(Debug, Clone)]
pub struct IssueFacts<'a> {
    pub issue_id: IssueId,
    /// `None` before the report event.
    pub status: Option<IssueStatus>,
    pub round: u32,
    pub reporter: &'a UserId,
    pub assignments: &'a [Assignment],
    pub resolver: Option<&'a UserId>,
    pub location: (f64, f64),
    pub photos: &'a [PhotoRef],
}

/// An event someone wants to add (or one being folded).
#[derive(Debug, Clone, Copy)]
pub struct Proposal<'a> {
    pub kind: IssueEventKind,
    pub by: &'a UserId,
    pub role: Role,
    pub round: u32,
    pub payload: &'a EventPayload,
}

/// Why an event is refused: one line a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal(pub String);

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an allowed event acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Allowed {
    /// For assignee actions: the assignment the author acts under.
    pub assignment: Option<IssueEventId>,
}

fn refuse<T>(reason: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal(reason.into()))
}

/// Whether `p` may happen to an issue in the state `facts` describes.
pub fn check(facts: &IssueFacts<'_>, p: &Proposal<'_>) -> Result<Allowed, Refusal> {
    let Some(status) = facts.status else {
        return match p.kind {
            IssueEventKind::Report => Ok(Allowed::default()),
            _ => refuse("the issue has no report event yet"),
        };
    };
    if p.kind == IssueEventKind::Report {
        return refuse("the issue is already reported");
    }
    if p.round < facts.round {
        return refuse(format!(
            "made in round {} before the issue was reopened (now round {})",
            p.round, facts.round
        ));
    }
    if p.round > facts.round {
        return refuse(format!(
            "claims round {} but the issue is in round {}",
            p.round, facts.round
        ));
    }
    check_texts(p)?;
    let mut allowed = Allowed::default();
    match allowance(p.kind, p.role) {
        Allowance::Yes => {}
        Allowance::No => return refuse(format!("a {} may not {} an issue", p.role, verb(p.kind))),
        Allowance::IfReporter if p.by == facts.reporter => {}
        Allowance::IfReporter => {
            return refuse(format!(
                "a {} may {} only an issue they reported",
                p.role,
                verb(p.kind)
            ));
        }
        Allowance::IfAssignee => allowed.assignment = Some(own_assignment(facts, p)?),
    }
    check_state(facts, status, p, allowed.assignment)?;
    Ok(allowed)
}

fn check_state(
    facts: &IssueFacts<'_>,
    status: IssueStatus,
    p: &Proposal<'_>,
    assignment: Option<IssueEventId>,
) -> Result<(), Refusal> {
    use IssueEventKind as K;
    use IssueStatus as S;
    let open = status.is_open();
    match p.kind {
        K::Report => unreachable!("handled before"),
        K::Assign => {
            if !open {
                return refuse(format!(
                    "the issue is {status}; reopen it before assigning it"
                ));
            }
            let Some(to) = &p.payload.to else {
                return refuse("an assignment needs someone to assign to");
            };
            if facts.assignments.len() == 1
                && &facts.assignments[0].to == to
                && p.payload.replaces.is_empty()
            {
                return refuse(format!("the issue is already assigned to {to}"));
            }
        }
        K::Return | K::Accept if !matches!(status, S::Assigned | S::InProgress) => {
            return refuse(format!("the issue is {status}, not assigned"));
        }
        K::Return => need_reason(p)?,
        K::Accept => {
            let mine = facts
                .assignments
                .iter()
                .find(|a| Some(a.event) == assignment);
            if mine.is_some_and(|a| a.accepted) {
                return refuse("you have already accepted this issue");
            }
        }
        K::Resolve => {
            if !matches!(status, S::Assigned | S::InProgress) {
                return refuse(format!(
                    "the issue is {status}; only an assigned issue can be resolved"
                ));
            }
            check_after_photo(facts, p)?;
        }
        K::Verify => {
            if status != S::Resolved {
                return refuse(format!(
                    "the issue is {status}; only a resolved issue can be verified"
                ));
            }
            if facts.resolver == Some(p.by) {
                return refuse("nobody verifies their own fix; the chief or the reporter must");
            }
        }
        K::Reopen => {
            if open {
                return refuse(format!(
                    "the issue is {status}, still open; only a closed issue can be reopened"
                ));
            }
            need_reason(p)?;
        }
        K::DuplicateOf => {
            if !open {
                return refuse(format!(
                    "the issue is {status}; only an open issue can be marked a duplicate"
                ));
            }
            match p.payload.duplicate_of {
                None => return refuse("say which issue this one duplicates"),
                Some(other) if other == facts.issue_id => {
                    return refuse("an issue cannot duplicate itself");
                }
                Some(_) => {}
            }
        }
        K::Cancel => {
            if !open {
                return refuse(format!(
                    "the issue is {status}; only an open issue can be cancelled"
                ));
            }
            let reporter_only = allowance(K::Cancel, p.role) == Allowance::IfReporter;
            if reporter_only && !matches!(status, S::Reported | S::Reopened) {
                return refuse("the reporter can withdraw an issue only before it is assigned");
            }
            need_reason(p)?;
        }
    }
    Ok(())
}

/// The current assignment `p`'s author acts under (the one named in the payload, else the
/// first that includes them).
fn own_assignment(facts: &IssueFacts<'_>, p: &Proposal<'_>) -> Result<IssueEventId, Refusal> {
    let includes = |a: &&Assignment| a.to.includes(p.by, p.role);
    let found = match p.payload.assignment {
        Some(id) => facts
            .assignments
            .iter()
            .filter(includes)
            .find(|a| a.event == id),
        None => facts.assignments.iter().find(includes),
    };
    match found {
        Some(a) => Ok(a.event),
        None if facts.assignments.is_empty() => refuse(format!(
            "only the assignee may {} an issue, and this one is not assigned",
            verb(p.kind)
        )),
        None => {
            let to: Vec<String> = facts.assignments.iter().map(|a| a.to.to_string()).collect();
            refuse(format!(
                "only the assignee may {} this issue; it is assigned to {}",
                verb(p.kind),
                to.join(" and ")
            ))
        }
    }
}

/// A resolve cites an after-photo of the fix that the resolver attached, taken near the issue:
/// someone else's photo (the reporter's, say) proves nothing about the fix.
fn check_after_photo(facts: &IssueFacts<'_>, p: &Proposal<'_>) -> Result<(), Refusal> {
    let Some(sha) = &p.payload.photo else {
        return refuse("resolving needs an after-photo of the fixed problem");
    };
    let Some(photo) = facts.photos.iter().find(|ph| &ph.sha256 == sha) else {
        return refuse(format!(
            "the after-photo {sha} is not attached to the issue"
        ));
    };
    if photo.stage != PhotoStage::After {
        return refuse("the photo given is a before-photo; take an after-photo of the fix");
    }
    if &photo.added_by != p.by {
        return refuse(format!(
            "the after-photo {sha} was attached by someone else; the resolver attaches their own"
        ));
    }
    let (Some(lat), Some(lon)) = (photo.lat, photo.lon) else {
        return refuse(
            "the after-photo has no location (no GPS in it and none given); say where it was taken",
        );
    };
    let d = haversine_distance_m(lat, lon, facts.location.0, facts.location.1);
    if d > RESOLVE_PHOTO_RADIUS_M {
        return refuse(format!(
            "the after-photo was taken {d:.0} m from the issue; it must be within {RESOLVE_PHOTO_RADIUS_M:.0} m"
        ));
    }
    Ok(())
}

fn need_reason(p: &Proposal<'_>) -> Result<(), Refusal> {
    match &p.payload.reason {
        Some(r) if !r.trim().is_empty() => Ok(()),
        _ => refuse(format!("to {} an issue, give a reason", verb(p.kind))),
    }
}

fn check_texts(p: &Proposal<'_>) -> Result<(), Refusal> {
    for text in [&p.payload.reason, &p.payload.note].into_iter().flatten() {
        if text.chars().count() > MAX_TEXT_CHARS {
            return refuse(format!(
                "a reason or note may have at most {MAX_TEXT_CHARS} characters"
            ));
        }
    }
    Ok(())
}

/// The verb for refusals: "may not verify an issue".
pub fn verb(kind: IssueEventKind) -> &'static str {
    match kind {
        IssueEventKind::Report => "report",
        IssueEventKind::Assign => "assign",
        IssueEventKind::Return => "return",
        IssueEventKind::Accept => "accept",
        IssueEventKind::Resolve => "resolve",
        IssueEventKind::Verify => "verify",
        IssueEventKind::Reopen => "reopen",
        IssueEventKind::DuplicateOf => "mark as duplicate",
        IssueEventKind::Cancel => "cancel",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Department, UserId};

    const AT: (f64, f64) = (39.9075, 116.1936);

    fn after_photo(sha: &str, by: UserId) -> PhotoRef {
        PhotoRef {
            sha256: sha.into(),
            stage: PhotoStage::After,
            mime: "image/jpeg".into(),
            size_bytes: 10,
            width: 1,
            height: 1,
            taken_at_ms: None,
            lat: Some(AT.0),
            lon: Some(AT.1 + 0.0003),
            orientation: None,
            added_by: by,
            thumbnail: vec![],
        }
    }

    /// The state in which `kind` is possible at all, with `insider` as reporter and assignee
    /// (or not), and the payload the event needs.
    fn scenario(
        kind: IssueEventKind,
        insider: bool,
        me: UserId,
    ) -> (Option<IssueStatus>, UserId, Vec<Assignment>, EventPayload) {
        let other = UserId::new();
        let reporter = if insider { me } else { other };
        let assignee = if insider { me } else { UserId::new() };
        let assigned = vec![Assignment {
            event: IssueEventId::new(),
            to: Assignee::User(assignee),
            accepted: false,
        }];
        let reason = EventPayload {
            reason: Some("because".into()),
            ..Default::default()
        };
        use IssueEventKind as K;
        use IssueStatus as S;
        match kind {
            K::Report => (None, reporter, vec![], EventPayload::default()),
            K::Assign => (
                Some(S::Reported),
                reporter,
                vec![],
                EventPayload {
                    to: Some(Assignee::Department(Department::CityProperty)),
                    ..Default::default()
                },
            ),
            K::Return => (Some(S::Assigned), reporter, assigned, reason),
            K::Accept => (
                Some(S::Assigned),
                reporter,
                assigned,
                EventPayload::default(),
            ),
            K::Resolve => (
                Some(S::InProgress),
                reporter,
                assigned,
                EventPayload {
                    photo: Some("ab".into()),
                    ..Default::default()
                },
            ),
            K::Verify => (Some(S::Resolved), reporter, vec![], EventPayload::default()),
            K::Reopen => (Some(S::Verified), reporter, vec![], reason),
            K::DuplicateOf => (
                Some(S::Reported),
                reporter,
                vec![],
                EventPayload {
                    duplicate_of: Some(IssueId::new()),
                    ..Default::default()
                },
            ),
            K::Cancel => (Some(S::Reported), reporter, vec![], reason),
        }
    }

    fn outcome(kind: IssueEventKind, role: Role, insider: bool) -> Result<Allowed, Refusal> {
        let me = UserId::new();
        let (status, reporter, assignments, payload) = scenario(kind, insider, me);
        let photos = [after_photo("ab", me)];
        let resolver = UserId::new();
        let facts = IssueFacts {
            issue_id: IssueId::new(),
            status,
            round: 1,
            reporter: &reporter,
            assignments: &assignments,
            resolver: Some(&resolver),
            location: AT,
            photos: &photos,
        };
        check(
            &facts,
            &Proposal {
                kind,
                by: &me,
                role,
                round: 1,
                payload: &payload,
            },
        )
    }

    /// Every role against every event, as someone with no tie to the issue and as its
    /// reporter-and-assignee. Written out by hand from the rules, not from [`ROLE_TABLE`].
    #[test]
    fn every_role_against_every_event() {
        //                        chief steward supervisor crew enforcement public
        let expected: &[(IssueEventKind, &str, &str)] = &[
            // kind                     stranger        reporter and assignee
            (IssueEventKind::Report, "Y Y Y Y Y Y", "Y Y Y Y Y Y"),
            (IssueEventKind::Assign, "Y N Y N N N", "Y N Y N N N"),
            (IssueEventKind::Return, "N N N N N N", "Y Y Y Y Y N"),
            (IssueEventKind::Accept, "N N N N N N", "Y Y Y Y Y N"),
            (IssueEventKind::Resolve, "N N N N N N", "Y Y Y Y Y N"),
            (IssueEventKind::Verify, "Y N N N N N", "Y N Y Y Y Y"),
            (IssueEventKind::Reopen, "Y N Y N N N", "Y N Y Y Y Y"),
            (IssueEventKind::DuplicateOf, "Y N Y N N N", "Y N Y N N N"),
            (IssueEventKind::Cancel, "Y N Y N N N", "Y Y Y Y Y Y"),
        ];
        assert_eq!(
            expected.len(),
            IssueEventKind::ALL.len(),
            "every event kind is covered"
        );
        for (kind, stranger, insider) in expected {
            for (who, row) in [(false, stranger), (true, insider)] {
                let want: Vec<bool> = row.split(' ').map(|c| c == "Y").collect();
                for (role, allowed) in Role::ALL.iter().zip(want) {
                    let got = outcome(*kind, *role, who);
                    assert_eq!(
                        got.is_ok(),
                        allowed,
                        "{role} {kind} (insider: {who}): {got:?}"
                    );
                    if let Err(Refusal(why)) = got {
                        assert!(
                            !why.is_empty() && !why.contains('\n'),
                            "one-line reason: {why:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_resolve_cites_the_resolvers_own_after_photo() {
        let (me, reporter) = (UserId::new(), UserId::new());
        let assignments = [Assignment {
            event: IssueEventId::new(),
            to: Assignee::User(me),
            accepted: true,
        }];
        let photos = [after_photo("ab", reporter), after_photo("cd", me)];
        let facts = IssueFacts {
            issue_id: IssueId::new(),
            status: Some(IssueStatus::InProgress),
            round: 1,
            reporter: &reporter,
            assignments: &assignments,
            resolver: None,
            location: AT,
            photos: &photos,
        };
        let resolve = |sha: &str| {
            let payload = EventPayload {
                photo: Some(sha.into()),
                ..Default::default()
            };
            check(
                &facts,
                &Proposal {
                    kind: IssueEventKind::Resolve,
                    by: &me,
                    role: Role::Crew,
                    round: 1,
                    payload: &payload,
                },
            )
        };
        assert!(resolve("ab").unwrap_err().0.contains("someone else"));
        assert!(resolve("cd").is_ok());
    }

    #[test]
    fn department_assignments_admit_their_members_only() {
        let me = UserId::new();
        let reporter = UserId::new();
        let payload = EventPayload::default();
        for (dept, member) in [
            (Department::CityProperty, Role::Crew),
            (Department::Enforcement, Role::Enforcement),
            (Department::Owner, Role::Supervisor),
        ] {
            let assignments = [Assignment {
                event: IssueEventId::new(),
                to: Assignee::Department(dept),
                accepted: false,
            }];
            let facts = IssueFacts {
                issue_id: IssueId::new(),
                status: Some(IssueStatus::Assigned),
                round: 1,
                reporter: &reporter,
                assignments: &assignments,
                resolver: None,
                location: AT,
                photos: &[],
            };
            for role in Role::ALL {
                let r = check(
                    &facts,
                    &Proposal {
                        kind: IssueEventKind::Accept,
                        by: &me,
                        role: *role,
                        round: 1,
                        payload: &payload,
                    },
                );
                assert_eq!(
                    r.is_ok(),
                    *role == member,
                    "{role} accepting for {dept}: {r:?}"
                );
            }
        }
    }

    #[test]
    fn nobody_verifies_their_own_fix_and_stale_rounds_are_refused() {
        let me = UserId::new();
        let facts = IssueFacts {
            issue_id: IssueId::new(),
            status: Some(IssueStatus::Resolved),
            round: 2,
            reporter: &me,
            assignments: &[],
            resolver: Some(&me),
            location: AT,
            photos: &[],
        };
        let p = EventPayload::default();
        let r = check(
            &facts,
            &Proposal {
                kind: IssueEventKind::Verify,
                by: &me,
                role: Role::Chief,
                round: 2,
                payload: &p,
            },
        );
        assert!(r.unwrap_err().0.contains("own fix"));
        let other = UserId::new();
        let r = check(
            &facts,
            &Proposal {
                kind: IssueEventKind::Verify,
                by: &other,
                role: Role::Chief,
                round: 1,
                payload: &p,
            },
        );
        assert!(r.unwrap_err().0.contains("before the issue was reopened"));
    }
}
