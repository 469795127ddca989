//! Issues: photo-tagged problems found on a street, and their closed loop (发现, 分派, 处置, 反馈)
//! from report to verified fix, edited concurrently on phones that are offline half the time.
//!
//! - [`model`]: the plain Rust view of an issue document (events, photos, comments).
//! - [`catalog`]: the categories and their due times.
//! - [`roles`]: who may do what: one table, plus the state rules; pure.
//! - [`workflow`]: the fold from events to status, round, assignees and conflicts; pure.
//! - [`doc`]: the Automerge layout, reading and writing it.
//! - `persist`: documents in SQLite as snapshot plus `save_after` chunks, compacted.
//! - [`projection`]: the materialised `issue` table and its indexed queries.
//! - [`sync`]: heads, changes since heads, applying changes from another device, change feed.
//! - [`validate`]: the document's layout and limits, checked on upload (server) and receipt.
//!
//! This file holds the issue types and the checks of what a user enters; `storage` holds the
//! SQL of reporting, acting, commenting, showing and listing.

pub(crate) mod persist;
pub mod projection;
pub(crate) mod storage;
pub mod sync;

pub use patrol_model::issues::{
    DUPLICATE_RADIUS_M, MAX_DESCRIPTION_CHARS, MAX_POSSIBLE_DUPLICATES, catalog, doc, model, roles,
    validate, workflow,
};

#[cfg(test)]
mod tests;

use serde::Serialize;

pub use catalog::{Catalog, CategorySpec};
pub use model::{
    Assignee, Comment, EventPayload, IssueDoc, IssueEvent, IssueLocation, PhotoRef, Reporter,
};
pub use projection::{IssueQuery, IssueSummary};
pub use workflow::{IssueState, IssueTransition, fold};

use crate::domain::{Datum, IssueId, PhotoStage};
use crate::error::{Error, Result};
use crate::geodesy::{check_coordinates, gcj02_to_wgs84};
use crate::photos::PhotoInfo;
use crate::store::DeviceIdentity;

pub(crate) use storage::{load_catalog, refresh_read};

/// What a reporter enters.
#[derive(Debug, Clone)]
pub struct NewIssue {
    /// A category code (or a loose spelling of one: `illegal-parking`).
    pub category: String,
    pub description: String,
    pub lat: f64,
    pub lon: f64,
    pub datum: Datum,
    pub street_id: Option<String>,
    pub segment_id: Option<String>,
    /// Before-photos already in this store's photo store (by SHA-256).
    pub photos: Vec<String>,
}

impl NewIssue {
    pub fn at(category: &str, lat: f64, lon: f64) -> Self {
        Self {
            category: category.into(),
            description: String::new(),
            lat,
            lon,
            datum: Datum::Wgs84,
            street_id: None,
            segment_id: None,
            photos: Vec::new(),
        }
    }
}

/// An issue in full: its document and the state folded from it.
#[derive(Debug, Clone, Serialize)]
pub struct IssueView {
    pub id: IssueId,
    pub status: crate::domain::IssueStatus,
    pub category: String,
    pub description: String,
    pub location: IssueLocation,
    pub reporter: Reporter,
    pub round: u32,
    /// The single assignee, or `None` when unassigned or in conflict (see `assignees`).
    pub assignee: Option<Assignee>,
    pub assignees: Vec<Assignee>,
    pub conflict: Option<workflow::AssignmentConflict>,
    pub resolved_by: Option<crate::domain::UserId>,
    pub verified_by: Option<crate::domain::UserId>,
    pub duplicate_of: Option<IssueId>,
    pub reported_at_ms: i64,
    pub updated_at_ms: i64,
    pub due_at_ms: i64,
    pub overdue: bool,
    pub photos: Vec<PhotoRef>,
    pub comments: Vec<Comment>,
    /// Every event in fold order, each with whether it was applied and why not.
    pub events: Vec<workflow::FoldedEvent>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable_events: Vec<String>,
    /// The document's heads (hex), for comparing devices.
    pub heads: Vec<String>,
}

impl IssueView {
    fn new(
        doc: IssueDoc,
        state: IssueState,
        catalog: &Catalog,
        heads: &[automerge::ChangeHash],
        now_ms: i64,
    ) -> Self {
        let due_at_ms = projection::due_at_ms(&doc, &state, catalog);
        let mut heads: Vec<String> = heads.iter().map(|h| h.to_string()).collect();
        heads.sort();
        Self {
            id: doc.id,
            status: state.status,
            category: doc.category,
            description: doc.description,
            location: doc.location,
            reporter: doc.reporter,
            round: state.round,
            assignee: if state.assignees.len() == 1 {
                state.assignees.first().cloned()
            } else {
                None
            },
            assignees: state.assignees,
            conflict: state.conflict,
            resolved_by: state.resolved_by,
            verified_by: state.verified_by,
            duplicate_of: state.duplicate_of,
            reported_at_ms: state.reported_at_ms,
            updated_at_ms: state.updated_at_ms,
            due_at_ms,
            overdue: state.status.is_open() && due_at_ms < now_ms,
            photos: doc.photos,
            comments: doc.comments,
            events: state.events,
            unreadable_events: doc.unreadable_events,
            heads,
        }
    }
}

/// What reporting returns: the new issue and the open issues nearby that may be the same.
#[derive(Debug, Clone, Serialize)]
pub struct ReportOutcome {
    #[serde(flatten)]
    pub issue: IssueView,
    pub possible_duplicates: Vec<IssueSummary>,
}

/// A category code as entered, checked: valid, not built in, with a due time.
pub(crate) fn check_new_category(code: &str, due_hours: u32) -> Result<String> {
    let code = catalog::normalise_code(code);
    if !catalog::valid_code(&code) {
        return Err(Error::InvalidInput(format!(
            "{code:?} is not a valid category code: use lowercase letters, digits and _ (at most 40)"
        )));
    }
    if Catalog::builtin().get(&code).is_some() {
        return Err(Error::InvalidInput(format!(
            "{code} is a built-in category"
        )));
    }
    if due_hours == 0 {
        return Err(Error::InvalidInput(
            "a category's due time must be at least one hour".into(),
        ));
    }
    Ok(code)
}

/// A new issue's location in WGS-84 and its description, checked.
pub(crate) fn check_new_issue(new: &NewIssue) -> Result<(f64, f64, String)> {
    let (lat, lon) = match new.datum {
        Datum::Wgs84 => (new.lat, new.lon),
        Datum::Gcj02 => gcj02_to_wgs84(new.lat, new.lon),
    };
    check_coordinates(lat, lon)
        .map_err(|why| Error::InvalidInput(format!("issue location ({lat}, {lon}) {why}")))?;
    let description = new.description.trim().to_owned();
    check_text("description", &description, MAX_DESCRIPTION_CHARS)?;
    Ok((lat, lon, description))
}

/// A comment as entered, trimmed and checked.
pub(crate) fn check_comment(text: &str) -> Result<&str> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::InvalidInput("a comment needs some text".into()));
    }
    check_text("comment", text, MAX_DESCRIPTION_CHARS)?;
    Ok(text)
}

/// The document metadata of photo `info` (its thumbnail given), added by `me`, placed at
/// `fallback_location` when it carries no GPS of its own.
pub(crate) fn photo_ref(
    info: PhotoInfo,
    thumbnail: Vec<u8>,
    stage: PhotoStage,
    me: &DeviceIdentity,
    fallback_location: Option<(f64, f64)>,
) -> PhotoRef {
    let (lat, lon) = match (info.lat, info.lon, fallback_location) {
        (Some(lat), Some(lon), _) => (Some(lat), Some(lon)),
        (_, _, Some((lat, lon))) => (Some(lat), Some(lon)),
        _ => (None, None),
    };
    PhotoRef {
        sha256: info.sha256,
        stage,
        mime: info.mime,
        size_bytes: info.size_bytes,
        width: info.width,
        height: info.height,
        taken_at_ms: info.taken_at_ms,
        lat,
        lon,
        orientation: info.orientation,
        added_by: me.user_id,
        thumbnail,
    }
}

/// Open issues of `category` near (lat, lon): possible duplicates of a report there.
pub(crate) fn duplicates_query(category: &str, lat: f64, lon: f64, limit: u32) -> IssueQuery {
    IssueQuery {
        open_only: true,
        category: Some(category.to_owned()),
        near: Some((lat, lon, DUPLICATE_RADIUS_M)),
        limit: Some(limit),
        ..Default::default()
    }
}

pub(crate) fn clean_opt(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn check_text(what: &str, text: &str, max: usize) -> Result<()> {
    if text.chars().count() > max {
        return Err(Error::InvalidInput(format!(
            "the {what} may have at most {max} characters"
        )));
    }
    Ok(())
}
