//! Issues (问题) and their closed loop: report (with before-photos), assign, return, accept,
//! resolve (with an after-photo), verify, reopen, mark as a duplicate, cancel, comment; lists
//! and queries; the folded view of one issue; documents in and out as bytes or files (two
//! offline phones hand an issue over without a server); the category catalog.
//!
//! Every action is checked by the core's role table before anything is written: a refused one
//! fails with `PatrolError::NotAllowed` saying why.
//!
//! Mirrors, where the core's shape does not cross: [`Assignee`] (a department or a person, one
//! flat enum), [`IssueEvent`] (an event as the fold saw it, its payload flattened), and the
//! records holding them.

use std::path::Path;

use patrol_core::hlc::HlcStamp;
use patrol_core::issues::sync::MergeOutcome;
use patrol_core::issues::{CategorySpec, Comment, IssueLocation, PhotoRef, Reporter};
use patrol_core::{
    CommentId, Datum, Department, DeviceId, IssueEventId, IssueEventKind, IssueId, IssueStatus,
    PhotoStage, Role, UserId,
};

use patrol_core::Store;

use crate::error::PatrolError;
use crate::store::PatrolStore;
use crate::types::LatLon;

/// Where an issue is in its loop (发现, 分派, 处置, 反馈), folded from its events.
#[uniffi::remote(Enum)]
pub enum IssueStatus {
    /// Found and reported; nobody has it yet.
    Reported,
    /// Given to a department or person.
    Assigned,
    /// Every assignee of the round handed it back.
    Returned,
    /// An assignee accepted it and is handling it.
    InProgress,
    /// An assignee says it is fixed (with an after-photo).
    Resolved,
    /// The chief or the reporter confirmed the fix: the loop is closed.
    Verified,
    /// Opened again; a new round begins.
    Reopened,
    /// The same problem as another issue.
    Duplicate,
    /// Withdrawn or not a problem.
    Cancelled,
}

/// What happened in one workflow event.
#[uniffi::remote(Enum)]
pub enum IssueEventKind {
    Report,
    Assign,
    Return,
    Accept,
    Resolve,
    Verify,
    Reopen,
    DuplicateOf,
    Cancel,
}

/// Whether a photo shows the problem or the fix.
#[uniffi::remote(Enum)]
pub enum PhotoStage {
    Before,
    After,
}

/// Who an issue is given to: one of the forces (DOMAIN.md), or a person.
#[derive(Debug, Clone, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Assignee {
    /// 城市物业: the cleaning crews (role `Crew`) that take every problem no department owns.
    CityProperty,
    /// 综合执法: law enforcement officers (role `Enforcement`).
    Enforcement,
    /// The department that owns the thing; a supervisor records its answers.
    Owner,
    /// One person, by user id.
    User { user_id: UserId },
}

impl From<Assignee> for patrol_core::issues::Assignee {
    fn from(a: Assignee) -> Self {
        use patrol_core::issues::Assignee as A;
        match a {
            Assignee::CityProperty => A::Department(Department::CityProperty),
            Assignee::Enforcement => A::Department(Department::Enforcement),
            Assignee::Owner => A::Department(Department::Owner),
            Assignee::User { user_id } => A::User(user_id),
        }
    }
}

impl From<patrol_core::issues::Assignee> for Assignee {
    fn from(a: patrol_core::issues::Assignee) -> Self {
        use patrol_core::issues::Assignee as A;
        match a {
            A::Department(Department::CityProperty) => Assignee::CityProperty,
            A::Department(Department::Enforcement) => Assignee::Enforcement,
            A::Department(Department::Owner) => Assignee::Owner,
            A::User(user_id) => Assignee::User { user_id },
        }
    }
}

/// A hybrid logical clock stamp: orders events from phones whose clocks are wrong.
#[uniffi::remote(Record)]
pub struct HlcStamp {
    /// Milliseconds since the epoch, as far as the clock could tell: show this as the time.
    pub wall_ms: i64,
    pub counter: u32,
    /// The device's Automerge actor id (hex).
    pub actor: String,
}

/// Where the problem is: WGS-84, and the street and segment it lies on when known.
#[uniffi::remote(Record)]
pub struct IssueLocation {
    pub lat: f64,
    pub lon: f64,
    pub street_id: Option<String>,
    pub segment_id: Option<String>,
}

/// Who reported an issue.
#[uniffi::remote(Record)]
pub struct Reporter {
    pub user_id: UserId,
    pub name: String,
    pub role: Role,
    pub device_id: DeviceId,
}

/// A photo of an issue as its document carries it: metadata and a small thumbnail (every device
/// has these; the original stays on the device that took it until sync uploads it).
#[uniffi::remote(Record)]
pub struct PhotoRef {
    pub sha256: String,
    pub stage: PhotoStage,
    pub mime: String,
    pub size_bytes: u64,
    pub width: u32,
    pub height: u32,
    pub taken_at_ms: Option<i64>,
    /// EXIF GPS, or where the device was when it was attached.
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// EXIF orientation (1-8), already applied to the thumbnail.
    pub orientation: Option<u16>,
    pub added_by: UserId,
    /// A JPEG of at most ~320 px.
    pub thumbnail: Vec<u8>,
}

/// A comment on an issue.
#[uniffi::remote(Record)]
pub struct Comment {
    pub id: CommentId,
    pub by: UserId,
    pub role: Role,
    pub at: HlcStamp,
    pub text: String,
}

/// A category of issue and how long one may stay open.
#[uniffi::remote(Record)]
pub struct CategorySpec {
    /// The code reports use (`litter`, `illegal_parking` ...).
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// Hours from the start of a round until the issue is overdue.
    pub due_hours: u32,
    pub builtin: bool,
}

/// What merging a document (or changes) from another device did.
#[uniffi::remote(Record)]
pub struct MergeOutcome {
    pub id: IssueId,
    /// The store had not seen this issue before.
    pub new: bool,
    /// Anything changed (false when every change was already here).
    pub changed: bool,
    pub status: IssueStatus,
    /// The document's heads after the merge (hex, sorted).
    pub heads: Vec<String>,
}

/// What a reporter enters.
#[derive(Debug, Clone, uniffi::Record)]
pub struct NewIssue {
    /// A category code from `issue_categories` (loose spellings like `illegal-parking` too).
    pub category: String,
    pub lat: f64,
    pub lon: f64,
    /// The datum of `lat`/`lon`: WGS-84 when absent; GCJ-02 from AMap or Tencent maps.
    #[uniffi(default = None)]
    pub datum: Option<Datum>,
    #[uniffi(default = "")]
    pub description: String,
    /// Before-photos already attached to this store (`attach_photo`), by SHA-256.
    #[uniffi(default = [])]
    pub photos: Vec<String>,
    /// The street it is on; when absent, the street its location matches (with a network).
    #[uniffi(default = None)]
    pub street_id: Option<String>,
    #[uniffi(default = None)]
    pub segment_id: Option<String>,
}

impl From<NewIssue> for patrol_core::issues::NewIssue {
    fn from(n: NewIssue) -> Self {
        patrol_core::issues::NewIssue {
            category: n.category,
            description: n.description,
            lat: n.lat,
            lon: n.lon,
            datum: n.datum.unwrap_or(Datum::Wgs84),
            street_id: n.street_id,
            segment_id: n.segment_id,
            photos: n.photos,
        }
    }
}

/// One workflow event as the fold saw it: what it says, and whether it was applied.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct IssueEvent {
    pub id: IssueEventId,
    pub kind: IssueEventKind,
    pub by: UserId,
    /// The author's role when they acted.
    pub role: Role,
    pub device: DeviceId,
    pub at: HlcStamp,
    /// The round of the loop the author saw (1, then one more per reopen).
    pub round: u32,
    /// assign: who gets it.
    pub to: Option<Assignee>,
    /// assign: the assignments (event ids) it replaces.
    pub replaces: Vec<IssueEventId>,
    /// return, accept, resolve: the assignment acted under.
    pub assignment: Option<IssueEventId>,
    /// return, reopen, cancel: why.
    pub reason: Option<String>,
    pub note: Option<String>,
    /// resolve: the after-photo's SHA-256.
    pub photo: Option<String>,
    /// duplicate_of: the original issue.
    pub duplicate_of: Option<IssueId>,
    /// Whether it changed the state.
    pub applied: bool,
    /// Why not, when it did not (an event from a device that skipped the rules, or made in a
    /// round a reopen ended).
    pub refused: Option<String>,
}

impl From<patrol_core::issues::workflow::FoldedEvent> for IssueEvent {
    fn from(f: patrol_core::issues::workflow::FoldedEvent) -> Self {
        let e = f.event;
        let p = e.payload;
        IssueEvent {
            id: e.id,
            kind: e.kind,
            by: e.by,
            role: e.role,
            device: e.device,
            at: e.at,
            round: e.round,
            to: p.to.map(Into::into),
            replaces: p.replaces,
            assignment: p.assignment,
            reason: p.reason,
            note: p.note,
            photo: p.photo,
            duplicate_of: p.duplicate_of,
            applied: f.applied,
            refused: f.refused,
        }
    }
}

/// Two or more assignees hold the issue at once and nobody chose between them: someone has to
/// assign it again.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct AssignmentConflict {
    pub assignees: Vec<Assignee>,
    /// The assign events in conflict.
    pub events: Vec<IssueEventId>,
}

/// An issue in full: its document and the state folded from it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct IssueView {
    pub id: IssueId,
    pub status: IssueStatus,
    pub category: String,
    pub description: String,
    pub location: IssueLocation,
    pub reporter: Reporter,
    pub round: u32,
    /// The one assignee; none when unassigned or in conflict (see `assignees`).
    pub assignee: Option<Assignee>,
    pub assignees: Vec<Assignee>,
    pub conflict: Option<AssignmentConflict>,
    pub resolved_by: Option<UserId>,
    pub verified_by: Option<UserId>,
    pub duplicate_of: Option<IssueId>,
    pub reported_at_ms: i64,
    pub updated_at_ms: i64,
    pub due_at_ms: i64,
    pub overdue: bool,
    pub photos: Vec<PhotoRef>,
    pub comments: Vec<Comment>,
    /// Every event in fold order, each applied or refused with the reason.
    pub events: Vec<IssueEvent>,
    /// Entries of the event list this app could not read (damaged, or from a newer app).
    pub unreadable_events: Vec<String>,
    /// The document's heads (hex): equal on two devices when they hold the same history.
    pub heads: Vec<String>,
}

impl From<patrol_core::issues::IssueView> for IssueView {
    fn from(v: patrol_core::issues::IssueView) -> Self {
        IssueView {
            id: v.id,
            status: v.status,
            category: v.category,
            description: v.description,
            location: v.location,
            reporter: v.reporter,
            round: v.round,
            assignee: v.assignee.map(Into::into),
            assignees: v.assignees.into_iter().map(Into::into).collect(),
            conflict: v.conflict.map(|c| AssignmentConflict {
                assignees: c.assignees.into_iter().map(Into::into).collect(),
                events: c.events,
            }),
            resolved_by: v.resolved_by,
            verified_by: v.verified_by,
            duplicate_of: v.duplicate_of,
            reported_at_ms: v.reported_at_ms,
            updated_at_ms: v.updated_at_ms,
            due_at_ms: v.due_at_ms,
            overdue: v.overdue,
            photos: v.photos,
            comments: v.comments,
            events: v.events.into_iter().map(Into::into).collect(),
            unreadable_events: v.unreadable_events,
            heads: v.heads,
        }
    }
}

/// One issue as lists show it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct IssueSummary {
    pub id: IssueId,
    pub status: IssueStatus,
    pub category: String,
    pub description: String,
    pub street_id: Option<String>,
    pub segment_id: Option<String>,
    pub lat: f64,
    pub lon: f64,
    pub reporter_id: String,
    pub assignees: Vec<Assignee>,
    pub has_conflict: bool,
    pub round: u32,
    pub event_count: u32,
    pub reported_at_ms: i64,
    pub updated_at_ms: i64,
    pub due_at_ms: i64,
    /// Due time passed while still open.
    pub overdue: bool,
    /// Distance from the query's point, for `near` queries.
    pub distance_m: Option<f64>,
}

impl TryFrom<patrol_core::issues::IssueSummary> for IssueSummary {
    type Error = PatrolError;

    fn try_from(s: patrol_core::issues::IssueSummary) -> Result<Self, PatrolError> {
        let assignees = s
            .assignees
            .iter()
            .map(|a| a.parse::<patrol_core::issues::Assignee>().map(Into::into))
            .collect::<Result<_, _>>()
            .map_err(patrol_core::Error::from)?;
        Ok(IssueSummary {
            id: s.id,
            status: s.status,
            category: s.category,
            description: s.description,
            street_id: s.street_id,
            segment_id: s.segment_id,
            lat: s.lat,
            lon: s.lon,
            reporter_id: s.reporter_id,
            assignees,
            has_conflict: s.has_conflict,
            round: s.round,
            event_count: s.event_count,
            reported_at_ms: s.reported_at_ms,
            updated_at_ms: s.updated_at_ms,
            due_at_ms: s.due_at_ms,
            overdue: s.overdue,
            distance_m: s.distance_m,
        })
    }
}

fn summaries(
    list: Vec<patrol_core::issues::IssueSummary>,
) -> Result<Vec<IssueSummary>, PatrolError> {
    list.into_iter().map(TryInto::try_into).collect()
}

/// The issues matching `query` as lists show them, "overdue" as of the store's clock now: what
/// `list_issues` returns and `observe_issues` delivers.
pub(crate) fn issue_list(
    store: &Store,
    query: &IssueQuery,
) -> Result<Vec<IssueSummary>, PatrolError> {
    let now_ms = store.clock().now_ms();
    summaries(store.list_issues(&query.clone().into_core(now_ms))?)
}

/// What reporting returns: the new issue, and the open issues of the same category within 50 m
/// that may be the same problem (offer to mark it a duplicate).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ReportOutcome {
    pub issue: IssueView,
    pub possible_duplicates: Vec<IssueSummary>,
}

/// A circle around a WGS-84 point.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct NearPoint {
    pub lat: f64,
    pub lon: f64,
    pub radius_m: f64,
}

/// Which issues to list. Every filter is optional; they combine with AND. `IssueQuery()` lists
/// the newest issues.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct IssueQuery {
    #[uniffi(default = None)]
    pub status: Option<IssueStatus>,
    /// Only issues someone still has to act on.
    #[uniffi(default = false)]
    pub open_only: bool,
    #[uniffi(default = None)]
    pub street_id: Option<String>,
    #[uniffi(default = None)]
    pub category: Option<String>,
    #[uniffi(default = None)]
    pub assignee: Option<Assignee>,
    /// Within the circle, nearest first.
    #[uniffi(default = None)]
    pub near: Option<NearPoint>,
    /// Only open issues past their due time now, most overdue first.
    #[uniffi(default = false)]
    pub overdue: bool,
    /// At most this many.
    #[uniffi(default = None)]
    pub limit: Option<u32>,
}

impl IssueQuery {
    /// The core's query; "overdue" means overdue as of `now_ms`.
    fn into_core(self, now_ms: i64) -> patrol_core::issues::IssueQuery {
        patrol_core::issues::IssueQuery {
            status: self.status,
            open_only: self.open_only,
            street_id: self.street_id,
            category: self.category,
            assignee: self.assignee.map(Into::into),
            near: self.near.map(|n| (n.lat, n.lon, n.radius_m)),
            overdue_at_ms: self.overdue.then_some(now_ms),
            limit: self.limit,
        }
    }
}

#[uniffi::export]
impl PatrolStore {
    /// Reports an issue as this device's user, with before-photos attached first
    /// (`attach_photo`). Returns it and the open issues nearby that may be the same.
    pub fn report_issue(&self, issue: NewIssue) -> Result<ReportOutcome, PatrolError> {
        let out = self.with_store(|s| s.report_issue(issue.into()))?;
        Ok(ReportOutcome {
            issue: out.issue.into(),
            possible_duplicates: summaries(out.possible_duplicates)?,
        })
    }

    /// The open issues of the same category within 50 m of an issue, nearest first. On a worker
    /// thread.
    pub async fn possible_duplicates(
        &self,
        issue_id: IssueId,
    ) -> Result<Vec<IssueSummary>, PatrolError> {
        summaries(
            self.in_background("duplicate search", move |s| s.possible_duplicates(issue_id))
                .await?,
        )
    }

    /// An issue in full, folded from its document; `NotFound` if the store does not have it.
    pub fn issue(&self, issue_id: IssueId) -> Result<IssueView, PatrolError> {
        self.with_store(|s| s.issue(issue_id)).map(Into::into)
    }

    /// Issues matching `query`, from the local projection (indexed: fast with 100,000 issues).
    /// On a worker thread; `observe_issues` keeps such a list current.
    #[uniffi::method(default(query))]
    pub async fn list_issues(&self, query: IssueQuery) -> Result<Vec<IssueSummary>, PatrolError> {
        self.in_background("issue list", move |s| issue_list(s, &query))
            .await
    }

    /// How many issues match `query` (its limit aside). On a worker thread.
    #[uniffi::method(default(query))]
    pub async fn count_issues(&self, query: IssueQuery) -> Result<u64, PatrolError> {
        self.in_background("issue count", move |s| {
            s.count_issues(&query.into_core(s.clock().now_ms()))
        })
        .await
    }

    /// Gives the issue to a force or a person (a chief or supervisor). It replaces the
    /// assignments this device knows of; one made elsewhere meanwhile stays as a conflict.
    #[uniffi::method(default(note = None))]
    pub fn assign_issue(
        &self,
        issue_id: IssueId,
        to: Assignee,
        note: Option<String>,
    ) -> Result<IssueView, PatrolError> {
        self.with_store(|s| s.assign_issue(issue_id, to.into(), note))
            .map(Into::into)
    }

    /// The assignee hands the issue back, with a reason.
    pub fn return_issue(
        &self,
        issue_id: IssueId,
        reason: String,
    ) -> Result<IssueView, PatrolError> {
        self.with_store(|s| s.return_issue(issue_id, &reason))
            .map(Into::into)
    }

    /// The assignee takes the issue on.
    pub fn accept_issue(&self, issue_id: IssueId) -> Result<IssueView, PatrolError> {
        self.with_store(|s| s.accept_issue(issue_id))
            .map(Into::into)
    }

    /// The assignee reports the fix with an after-photo (attached first, by SHA-256) taken within
    /// 100 m of the issue: its EXIF GPS, or `taken_at` when it has none.
    #[uniffi::method(default(taken_at = None, note = None))]
    pub fn resolve_issue(
        &self,
        issue_id: IssueId,
        photo_sha256: String,
        taken_at: Option<LatLon>,
        note: Option<String>,
    ) -> Result<IssueView, PatrolError> {
        self.with_store(|s| {
            s.resolve_issue(
                issue_id,
                &photo_sha256,
                taken_at.map(|p| (p.lat, p.lon)),
                note,
            )
        })
        .map(Into::into)
    }

    /// The chief or the reporter confirms the fix (never a steward, never whoever fixed it).
    #[uniffi::method(default(note = None))]
    pub fn verify_issue(
        &self,
        issue_id: IssueId,
        note: Option<String>,
    ) -> Result<IssueView, PatrolError> {
        self.with_store(|s| s.verify_issue(issue_id, note))
            .map(Into::into)
    }

    /// Opens a resolved or closed issue again (a new round), with a reason.
    pub fn reopen_issue(
        &self,
        issue_id: IssueId,
        reason: String,
    ) -> Result<IssueView, PatrolError> {
        self.with_store(|s| s.reopen_issue(issue_id, &reason))
            .map(Into::into)
    }

    /// Marks the issue as the same problem as `original`.
    pub fn mark_duplicate(
        &self,
        issue_id: IssueId,
        original: IssueId,
    ) -> Result<IssueView, PatrolError> {
        self.with_store(|s| s.mark_duplicate(issue_id, original))
            .map(Into::into)
    }

    /// Withdraws the issue, with a reason.
    pub fn cancel_issue(
        &self,
        issue_id: IssueId,
        reason: String,
    ) -> Result<IssueView, PatrolError> {
        self.with_store(|s| s.cancel_issue(issue_id, &reason))
            .map(Into::into)
    }

    /// Adds a comment (anyone may).
    pub fn comment_issue(&self, issue_id: IssueId, text: String) -> Result<IssueView, PatrolError> {
        self.with_store(|s| s.comment_issue(issue_id, &text))
            .map(Into::into)
    }

    /// Adds an attached photo to the issue (a further before-photo, say).
    pub fn add_issue_photo(
        &self,
        issue_id: IssueId,
        sha256: String,
        stage: PhotoStage,
    ) -> Result<IssueView, PatrolError> {
        self.with_store(|s| s.add_issue_photo(issue_id, &sha256, stage))
            .map(Into::into)
    }

    /// The whole document, for another device (`import_issue` there merges it).
    pub fn export_issue(&self, issue_id: IssueId) -> Result<Vec<u8>, PatrolError> {
        self.with_store(|s| s.export_issue(issue_id))
    }

    /// Merges a document (or changes) exported on another device. Bytes that are not an issue
    /// document fail with `InvalidInput` and change nothing; events in it that break the rules
    /// are kept in the history, refused. On a worker thread.
    pub async fn import_issue(&self, document: Vec<u8>) -> Result<MergeOutcome, PatrolError> {
        self.in_background("issue import", move |s| s.import_issue(&document))
            .await
    }

    /// Writes the whole document to a file (whole or not at all); returns the bytes written. On
    /// a worker thread.
    pub async fn export_issue_file(
        &self,
        issue_id: IssueId,
        path: String,
    ) -> Result<u64, PatrolError> {
        self.in_background("issue export", move |s| {
            s.export_issue_file(issue_id, Path::new(&path))
        })
        .await
    }

    /// Merges a document file written by `export_issue_file` (or `patrol issue export`). On a
    /// worker thread.
    pub async fn import_issue_file(&self, path: String) -> Result<MergeOutcome, PatrolError> {
        self.in_background("issue import", move |s| {
            s.import_issue_file(Path::new(&path))
        })
        .await
    }

    /// The categories issues can be reported in, with their due times.
    pub fn issue_categories(&self) -> Result<Vec<CategorySpec>, PatrolError> {
        self.with_store(|s| Ok(s.issue_catalog()?.all().to_vec()))
    }

    /// Adds a category of this district's own (or changes the due time of one added before).
    pub fn add_issue_category(
        &self,
        code: String,
        name_zh: String,
        name_en: String,
        due_hours: u32,
    ) -> Result<(), PatrolError> {
        self.with_store(|s| s.add_issue_category(&code, &name_zh, &name_en, due_hours))
    }
}
