//! What reports are computed from, as plain data: people and their assignments, patrols with
//! their headline figures and what they covered, issue outcomes as of a period's end, points
//! ledger rows and pickups. A phone gathers these from its SQLite store, the district server
//! from its own storage; the reports are the same because they are computed here.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::coverage::Coverage;
use crate::domain::{IssueEventKind, IssueStatus, PatrolId, Role, StreetId};
use crate::streets::StreetNetwork;

pub use crate::points::PointsEntry;

/// A person as reports know them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Person {
    pub user_id: String,
    /// `None` for someone only named in an assignment and not (yet) synced to this device.
    pub name: Option<String>,
    pub role: Option<Role>,
    pub subdistrict: Option<String>,
}

/// A user answering for a street in a role, as reports read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub street_id: StreetId,
    /// A user id, or (before ids are known) the name a supervisor typed.
    pub user_id: String,
    pub role: Role,
}

/// Everyone a report knows, and assignments with their user resolved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct People {
    pub by_id: BTreeMap<String, Person>,
    /// Assignments made to a known user's name resolved to their id.
    pub assignments: Vec<Assignment>,
}

impl People {
    /// The people of the user list plus anyone named in an assignment. An assignment made to a
    /// name that exactly one known user has is theirs (a supervisor may type names before ids
    /// are known); anyone else named is a person with only the assignment's role.
    pub fn new(users: Vec<Person>, assignments: Vec<Assignment>) -> Self {
        let mut by_name: HashMap<String, Vec<String>> = HashMap::new();
        let mut by_id = BTreeMap::new();
        for person in users {
            if let Some(name) = &person.name {
                by_name
                    .entry(name.clone())
                    .or_default()
                    .push(person.user_id.clone());
            }
            by_id.insert(person.user_id.clone(), person);
        }
        let mut resolved = Vec::with_capacity(assignments.len());
        for a in assignments {
            let user = match by_name.get(&a.user_id) {
                _ if by_id.contains_key(&a.user_id) => a.user_id.clone(),
                Some(ids) if ids.len() == 1 => ids[0].clone(),
                _ => a.user_id.clone(),
            };
            by_id.entry(user.clone()).or_insert_with(|| Person {
                user_id: user.clone(),
                name: None,
                role: Some(a.role),
                subdistrict: None,
            });
            resolved.push(Assignment {
                street_id: a.street_id,
                user_id: user,
                role: a.role,
            });
        }
        Self {
            by_id,
            assignments: resolved,
        }
    }

    /// The user ids with `role`: from the user list, and anyone assigned a street in it.
    pub fn with_role(&self, role: Role) -> Vec<String> {
        let mut out: Vec<String> = self
            .by_id
            .values()
            .filter(|p| p.role == Some(role))
            .map(|p| p.user_id.clone())
            .collect();
        out.extend(
            self.assignments
                .iter()
                .filter(|a| a.role == role)
                .map(|a| a.user_id.clone()),
        );
        out.sort();
        out.dedup();
        out
    }

    /// The streets a user answers for in `role`.
    pub fn streets_of(&self, user: &str, role: Role) -> Vec<StreetId> {
        self.assignments
            .iter()
            .filter(|a| a.user_id == user && a.role == role)
            .map(|a| a.street_id)
            .collect()
    }

    /// The person with this id, or one known by the id alone.
    pub fn person(&self, user: &str) -> Person {
        self.by_id.get(user).cloned().unwrap_or_else(|| Person {
            user_id: user.into(),
            name: None,
            role: None,
            subdistrict: None,
        })
    }
}

/// A patrol with its headline figures and, when measured, what it covered.
#[derive(Debug, Clone, PartialEq)]
pub struct PatrolFacts {
    pub id: PatrolId,
    pub user_id: String,
    pub started_at_ms: i64,
    pub duration_s: f64,
    pub distance_m: f64,
    /// Imported from a GPS file where it began, not recorded in the app.
    pub imported: bool,
    /// What it covered of the network; `None` without a network, or when the report does not
    /// need it (the assessment measures only the chiefs' counted patrols, see
    /// [`super::assessment::patrols_to_measure`]).
    pub coverage: Option<CoverageFacts>,
}

/// What one patrol covered, reduced to what reports read: metres per segment and seconds per
/// street, by index into the network the report is computed with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CoverageFacts {
    /// Covered metres of each segment it covered some of, by segment index, ascending.
    pub segments_m: Vec<(usize, f64)>,
    /// Seconds spent on each street, by street index.
    pub street_times_s: Vec<(usize, f64)>,
}

impl CoverageFacts {
    /// The figures of a finished coverage on `network` (the one it was computed on).
    pub fn of(coverage: &Coverage, network: &StreetNetwork) -> Self {
        Self {
            segments_m: coverage.covered_segments_m(network),
            street_times_s: coverage.street_times_s().collect(),
        }
    }

    /// Segment indices covered at least `min_share` of: the segments this patrol patrolled.
    pub fn patrolled_segments(&self, network: &StreetNetwork, min_share: f64) -> Vec<usize> {
        patrolled_segments(network, &self.segments_m, min_share)
    }
}

/// Segment indices of `covered_m` (segment, metres) covered at least `min_share` of their
/// length. A segment the network does not have, or of no length, is never patrolled.
pub fn patrolled_segments(
    network: &StreetNetwork,
    covered_m: &[(usize, f64)],
    min_share: f64,
) -> Vec<usize> {
    covered_m
        .iter()
        .filter(|&&(s, m)| {
            network
                .segments
                .get(s)
                .is_some_and(|seg| seg.length_m > 0.0 && m / seg.length_m >= min_share - 1e-9)
        })
        .map(|&(s, _)| s)
        .collect()
}

/// An issue as reported, before anything happened to it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportedIssue {
    pub id: String,
    pub category: String,
    pub street_id: Option<String>,
    pub reporter_id: String,
    pub lat: f64,
    pub lon: f64,
    pub reported_at_ms: i64,
}

impl ReportedIssue {
    /// The issue as its document and fold say it was reported: for storage that keeps documents
    /// rather than a projection (the server).
    pub fn of(
        doc: &crate::issues::model::IssueDoc,
        state: &crate::issues::workflow::IssueState,
    ) -> Self {
        ReportedIssue {
            id: doc.id.to_string(),
            category: doc.category.clone(),
            street_id: doc.location.street_id.clone(),
            reporter_id: doc.reporter.user_id.to_string(),
            lat: doc.location.lat,
            lon: doc.location.lon,
            reported_at_ms: state.reported_at_ms,
        }
    }
}

/// The events the fold applied, in order, as (kind, wall time): what [`IssueOutcome::as_of`]
/// reads (a phone keeps the same list as its issue timeline).
pub fn applied_events(state: &crate::issues::workflow::IssueState) -> Vec<(IssueEventKind, i64)> {
    state.applied().map(|e| (e.kind, e.at.wall_ms)).collect()
}

/// An issue reported in the period and where its loop stood at the period's end.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IssueOutcome {
    pub id: String,
    pub category: String,
    pub street_id: Option<String>,
    pub reporter_id: String,
    pub lat: f64,
    pub lon: f64,
    pub reported_at_ms: i64,
    /// When the first round was due (report + the category's due time).
    pub due_at_ms: i64,
    pub status_at_end: IssueStatus,
    pub assigned: bool,
    pub resolved: bool,
    /// Its first resolution came within its round's due time.
    pub resolved_on_time: bool,
    pub verified: bool,
    pub verified_at_ms: Option<i64>,
    /// Reopens by the end of the period.
    pub reopened: u32,
}

impl IssueOutcome {
    /// Where `issue` stood at `end_ms`, from its applied events in order (kind, time); events
    /// at or after `end_ms` are not seen, so an issue verified after a period ended is not
    /// verified in that period's report. `due_ms` is its category's due time: each round (the
    /// report, every reopen) is due that long after it began.
    pub fn as_of(
        issue: ReportedIssue,
        due_ms: i64,
        events: &[(IssueEventKind, i64)],
        end_ms: i64,
    ) -> Self {
        let mut o = IssueOutcome {
            due_at_ms: issue.reported_at_ms.saturating_add(due_ms),
            id: issue.id,
            category: issue.category,
            street_id: issue.street_id,
            reporter_id: issue.reporter_id,
            lat: issue.lat,
            lon: issue.lon,
            reported_at_ms: issue.reported_at_ms,
            status_at_end: IssueStatus::Reported,
            assigned: false,
            resolved: false,
            resolved_on_time: false,
            verified: false,
            verified_at_ms: None,
            reopened: 0,
        };
        let mut round_start = o.reported_at_ms;
        let mut assignees = 0i32;
        for &(kind, at) in events.iter().filter(|e| e.1 < end_ms) {
            o.verified_at_ms = None;
            o.status_at_end = match kind {
                IssueEventKind::Report => {
                    round_start = at;
                    IssueStatus::Reported
                }
                IssueEventKind::Assign => {
                    o.assigned = true;
                    assignees = 1;
                    IssueStatus::Assigned
                }
                IssueEventKind::Return => {
                    assignees -= 1;
                    if assignees <= 0 {
                        IssueStatus::Returned
                    } else {
                        IssueStatus::Assigned
                    }
                }
                IssueEventKind::Accept => IssueStatus::InProgress,
                IssueEventKind::Resolve => {
                    if !o.resolved {
                        o.resolved_on_time = at <= round_start.saturating_add(due_ms);
                    }
                    o.resolved = true;
                    IssueStatus::Resolved
                }
                IssueEventKind::Verify => {
                    o.verified_at_ms = Some(at);
                    IssueStatus::Verified
                }
                IssueEventKind::Reopen => {
                    o.reopened += 1;
                    round_start = at;
                    IssueStatus::Reopened
                }
                IssueEventKind::DuplicateOf => IssueStatus::Duplicate,
                IssueEventKind::Cancel => IssueStatus::Cancelled,
            };
        }
        o.verified = o.status_at_end == IssueStatus::Verified;
        o
    }

    /// Duplicates and cancelled reports need no handling: they count nowhere.
    pub fn counts(&self) -> bool {
        !matches!(
            self.status_at_end,
            IssueStatus::Duplicate | IssueStatus::Cancelled
        )
    }

    pub fn hours_to_verify(&self) -> Option<f64> {
        self.verified_at_ms
            .map(|v| (v - self.reported_at_ms) as f64 / 3_600_000.0)
    }
}

/// A litter pickup as reports read it.
#[derive(Debug, Clone, PartialEq)]
pub struct PickupFacts {
    pub user_id: String,
    pub lat: f64,
    pub lon: f64,
    pub bags: i64,
    pub items: i64,
    /// The street it was logged on, as a street id where the storage could tell; `None` when
    /// none was given, and then its place decides (map matching).
    pub street_id: Option<String>,
}

/// The median of some values (the mean of the middle two for an even count).
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}
