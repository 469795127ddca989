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
//! This file holds the store's issue API: report, act, comment, show and list.

pub(crate) mod persist;
pub mod projection;
pub mod sync;

pub use patrol_model::issues::{
    DUPLICATE_RADIUS_M, MAX_DESCRIPTION_CHARS, MAX_POSSIBLE_DUPLICATES, catalog, doc, model, roles,
    validate, workflow,
};

#[cfg(test)]
mod tests;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

pub use catalog::{Catalog, CategorySpec};
pub use model::{
    Assignee, Comment, EventPayload, IssueDoc, IssueEvent, IssueLocation, PhotoRef, Reporter,
};
pub use projection::{IssueQuery, IssueSummary};
pub use workflow::{IssueState, IssueTransition, fold};

use crate::domain::{CommentId, Datum, IssueEventId, IssueEventKind, IssueId, PhotoStage};
use crate::error::{Error, Result};
use crate::geodesy::{check_coordinates, gcj02_to_wgs84};
use crate::store::{DeviceIdentity, Store};
use persist::StoredDoc;

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

impl Store {
    /// The categories this store knows: the built-in ones and those added to it.
    pub fn issue_catalog(&self) -> Result<Catalog> {
        load_catalog(&self.conn)
    }

    /// Adds a custom category (or changes the due time of one added before).
    pub fn add_issue_category(
        &mut self,
        code: &str,
        name_zh: &str,
        name_en: &str,
        due_hours: u32,
    ) -> Result<()> {
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
        self.conn.execute(
            "INSERT INTO issue_category (code, name_zh, name_en, due_hours) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en,
                                               due_hours = excluded.due_hours",
            params![code, name_zh, name_en, due_hours],
        )?;
        Ok(())
    }

    /// Reports an issue as this device's user: one new document holding the report event and
    /// the before-photos. Also returns the open issues of the same category within
    /// [`DUPLICATE_RADIUS_M`], which may be the same problem.
    pub fn report_issue(&mut self, new: NewIssue) -> Result<ReportOutcome> {
        let me = self.require_device()?;
        let catalog = self.issue_catalog()?;
        let category = catalog.parse(&new.category)?;
        let (lat, lon) = match new.datum {
            Datum::Wgs84 => (new.lat, new.lon),
            Datum::Gcj02 => gcj02_to_wgs84(new.lat, new.lon),
        };
        check_coordinates(lat, lon)
            .map_err(|why| Error::InvalidInput(format!("issue location ({lat}, {lon}) {why}")))?;
        let description = new.description.trim().to_owned();
        check_text("description", &description, MAX_DESCRIPTION_CHARS)?;
        // With a street network in the store, an issue reported without a street lands on the
        // street (and segment) its location matches, so it reaches that street's chief.
        // A street given is an id of the network or a name only one street has.
        let mut street_id = self.street_of_record(new.street_id.as_deref())?;
        let mut segment_id = clean_opt(new.segment_id);
        if street_id.is_none() {
            let matched = match self.match_point(lat, lon, None) {
                Ok(m) => m,
                Err(Error::Streets(crate::streets::StreetsError::NoNetwork)) => None,
                Err(e) => return Err(e),
            };
            if let Some(m) = matched {
                street_id = Some(m.street_id.to_string());
                segment_id = Some(m.segment_id.to_string());
            }
        }
        let location = IssueLocation {
            lat,
            lon,
            street_id,
            segment_id,
        };
        let now = self.clock.now_ms();
        let possible_duplicates = self.list_issues(&duplicates_query(
            &category,
            lat,
            lon,
            MAX_POSSIBLE_DUPLICATES,
        ))?;
        let mut photos = Vec::new();
        for sha in &new.photos {
            photos.push(self.photo_ref(sha, PhotoStage::Before, &me, Some((lat, lon)))?);
        }

        let id = IssueId::new();
        let tx = self.conn.transaction()?;
        let mut hlc = crate::hlc::load_clock(&tx, &me.actor_id)?;
        let at = hlc.tick(now);
        crate::hlc::save_clock(&tx, &hlc)?;
        let reporter = Reporter {
            user_id: me.user_id,
            name: me.name.clone(),
            role: me.role,
            device_id: me.device_id,
        };
        let report = IssueEvent {
            id: IssueEventId::new(),
            kind: IssueEventKind::Report,
            by: me.user_id,
            role: me.role,
            device: me.device_id,
            at,
            round: 1,
            payload: EventPayload {
                note: (!description.is_empty()).then(|| description.clone()),
                ..Default::default()
            },
        };
        let automerge_doc = doc::create(
            doc::actor_from_hex(&me.actor_id)?,
            &doc::NewIssueDoc {
                id,
                category: &category,
                description: &description,
                location: &location,
                reporter: &reporter,
                report: &report,
                photos: &photos,
            },
        )?;
        let snapshot = automerge_doc.save();
        let stored = persist::insert(&tx, id, automerge_doc, &snapshot, true)?;
        let view = refresh(&tx, &stored, &catalog, now)?;
        tx.commit()?;
        Ok(ReportOutcome {
            issue: view,
            possible_duplicates,
        })
    }

    /// An issue in full, folded from its document.
    pub fn issue(&self, id: IssueId) -> Result<IssueView> {
        let stored = persist::load(&self.conn, id)?.ok_or(Error::UnknownIssue(id))?;
        let catalog = self.issue_catalog()?;
        let d = doc::read(&stored.doc)?;
        let state = fold(&d);
        Ok(IssueView::new(
            d,
            state,
            &catalog,
            &stored.heads,
            self.clock.now_ms(),
        ))
    }

    /// The open issues of the same category within [`DUPLICATE_RADIUS_M`] of issue `id`, nearest
    /// first, leaving it out: what a chief looks at before marking it a duplicate (reporting
    /// returns the same list for the new issue).
    pub fn possible_duplicates(&self, id: IssueId) -> Result<Vec<IssueSummary>> {
        let (category, lat, lon): (String, f64, f64) = self
            .conn
            .query_row(
                "SELECT category, lat, lon FROM issue WHERE id = ?1",
                [id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?
            .ok_or(Error::UnknownIssue(id))?;
        let mut found = self.list_issues(&duplicates_query(
            &category,
            lat,
            lon,
            MAX_POSSIBLE_DUPLICATES + 1,
        ))?;
        found.retain(|s| s.id != id);
        found.truncate(MAX_POSSIBLE_DUPLICATES as usize);
        Ok(found)
    }

    /// Adds a comment (anyone may comment).
    pub fn comment_issue(&mut self, id: IssueId, text: &str) -> Result<IssueView> {
        let me = self.require_device()?;
        let text = text.trim();
        if text.is_empty() {
            return Err(Error::InvalidInput("a comment needs some text".into()));
        }
        check_text("comment", text, MAX_DESCRIPTION_CHARS)?;
        let now = self.clock.now_ms();
        let catalog = self.issue_catalog()?;
        let tx = self.conn.transaction()?;
        let mut stored = persist::load(&tx, id)?.ok_or(Error::UnknownIssue(id))?;
        stored.doc.set_actor(doc::actor_from_hex(&me.actor_id)?);
        let current = doc::read(&stored.doc)?;
        let mut hlc = crate::hlc::load_clock(&tx, &me.actor_id)?;
        let at = hlc.stamp_after(current.latest_stamp(), now);
        crate::hlc::save_clock(&tx, &hlc)?;
        let comment = Comment {
            id: CommentId::new(),
            by: me.user_id,
            role: me.role,
            at,
            text: text.to_owned(),
        };
        doc::append_comment(&mut stored.doc, &comment)?;
        persist::persist(&tx, &mut stored, true)?;
        let view = refresh(&tx, &stored, &catalog, now)?;
        tx.commit()?;
        Ok(view)
    }

    /// Adds a photo from the photo store to the issue (a further before-photo, say).
    pub fn add_issue_photo(
        &mut self,
        id: IssueId,
        sha256: &str,
        stage: PhotoStage,
    ) -> Result<IssueView> {
        let me = self.require_device()?;
        let now = self.clock.now_ms();
        let catalog = self.issue_catalog()?;
        let issue_at = {
            let v = self.issue(id)?;
            (v.location.lat, v.location.lon)
        };
        let photo = self.photo_ref(sha256, stage, &me, Some(issue_at))?;
        let tx = self.conn.transaction()?;
        let mut stored = persist::load(&tx, id)?.ok_or(Error::UnknownIssue(id))?;
        stored.doc.set_actor(doc::actor_from_hex(&me.actor_id)?);
        doc::add_photo(&mut stored.doc, &photo)?;
        persist::persist(&tx, &mut stored, true)?;
        let view = refresh(&tx, &stored, &catalog, now)?;
        tx.commit()?;
        Ok(view)
    }

    /// Issues matching `q`, from the projection.
    pub fn list_issues(&self, q: &IssueQuery) -> Result<Vec<IssueSummary>> {
        projection::list(&self.conn, q, self.clock.now_ms())
    }

    /// How many issues match `q`.
    pub fn count_issues(&self, q: &IssueQuery) -> Result<u64> {
        projection::count(&self.conn, q)
    }

    /// Open issues overdue now, most overdue first.
    pub fn overdue_issues(&self, limit: Option<u32>) -> Result<Vec<IssueSummary>> {
        let now = self.clock.now_ms();
        self.list_issues(&IssueQuery {
            overdue_at_ms: Some(now),
            limit,
            ..Default::default()
        })
    }

    /// Appends one event as this device's user, after the same check the fold applies: a
    /// refused event is never written. `then` runs in the same transaction with what the event
    /// did to the issue (the layer above credits points there); an error from it undoes the
    /// event.
    pub(crate) fn act_on_issue(
        &mut self,
        id: IssueId,
        kind: IssueEventKind,
        photo: Option<PhotoRef>,
        payload: impl FnOnce(&IssueState) -> Result<EventPayload>,
        then: impl FnOnce(&Connection, &DeviceIdentity, &IssueTransition) -> Result<()>,
    ) -> Result<IssueView> {
        let me = self.require_device()?;
        let now = self.clock.now_ms();
        let catalog = self.issue_catalog()?;
        let tx = self.conn.transaction()?;
        let mut stored = persist::load(&tx, id)?.ok_or(Error::UnknownIssue(id))?;
        stored.doc.set_actor(doc::actor_from_hex(&me.actor_id)?);
        let current = doc::read(&stored.doc)?;
        let state = fold(&current);
        let payload = payload(&state)?;
        let mut photos = current.photos.clone();
        if let Some(p) = &photo
            && current.photo(&p.sha256).is_none()
        {
            photos.push(p.clone());
        }
        let facts = roles::IssueFacts {
            issue_id: id,
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
            by: &me.user_id,
            role: me.role,
            round: state.round,
            payload: &payload,
        };
        let allowed = roles::check(&facts, &proposal).map_err(|r| Error::Refused {
            action: roles::verb(kind),
            role: me.role,
            id,
            reason: r.0,
        })?;
        let mut payload = payload;
        if allowed.assignment.is_some() && payload.assignment.is_none() {
            payload.assignment = allowed.assignment;
        }
        let mut hlc = crate::hlc::load_clock(&tx, &me.actor_id)?;
        let at = hlc.stamp_after(current.latest_stamp(), now);
        crate::hlc::save_clock(&tx, &hlc)?;
        let event = IssueEvent {
            id: IssueEventId::new(),
            kind,
            by: me.user_id,
            role: me.role,
            device: me.device_id,
            at,
            round: state.round,
            payload,
        };
        doc::append_event(&mut stored.doc, &event, photo.as_ref())?;
        persist::persist(&tx, &mut stored, true)?;
        let view = refresh(&tx, &stored, &catalog, now)?;
        let transition = IssueTransition {
            issue_id: id,
            reporter: current.reporter.user_id,
            after: view.status,
            at_ms: now,
        };
        then(&tx, &me, &transition)?;
        tx.commit()?;
        Ok(view)
    }

    /// The document metadata of a photo in the photo store.
    pub(crate) fn photo_ref(
        &self,
        sha256: &str,
        stage: PhotoStage,
        me: &DeviceIdentity,
        fallback_location: Option<(f64, f64)>,
    ) -> Result<PhotoRef> {
        let info = self.photo(sha256)?;
        let thumbnail = self.photo_thumbnail(&info.sha256)?;
        let (lat, lon) = match (info.lat, info.lon, fallback_location) {
            (Some(lat), Some(lon), _) => (Some(lat), Some(lon)),
            (_, _, Some((lat, lon))) => (Some(lat), Some(lon)),
            _ => (None, None),
        };
        Ok(PhotoRef {
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
        })
    }
}

/// Reads and folds a stored document and rewrites its projection row; returns the view.
pub(crate) fn refresh(
    conn: &Connection,
    stored: &StoredDoc,
    catalog: &Catalog,
    now_ms: i64,
) -> Result<IssueView> {
    refresh_read(conn, stored, doc::read(&stored.doc)?, catalog, now_ms)
}

/// [`refresh`] with the document already read (`d` must be `stored.doc` as read).
pub(crate) fn refresh_read(
    conn: &Connection,
    stored: &StoredDoc,
    d: IssueDoc,
    catalog: &Catalog,
    now_ms: i64,
) -> Result<IssueView> {
    let state = fold(&d);
    projection::write(conn, stored.row, &d, &state, catalog)?;
    Ok(IssueView::new(d, state, catalog, &stored.heads, now_ms))
}

pub(crate) fn load_catalog(conn: &Connection) -> Result<Catalog> {
    let mut catalog = Catalog::builtin();
    let mut stmt = conn.prepare_cached(
        "SELECT code, name_zh, name_en, due_hours FROM issue_category ORDER BY code",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(CategorySpec {
            code: r.get(0)?,
            name_zh: r.get(1)?,
            name_en: r.get(2)?,
            due_hours: r.get(3)?,
            builtin: false,
        })
    })?;
    for r in rows {
        catalog = catalog.with(r?);
    }
    Ok(catalog)
}

/// Open issues of `category` near (lat, lon): possible duplicates of a report there.
fn duplicates_query(category: &str, lat: f64, lon: f64, limit: u32) -> IssueQuery {
    IssueQuery {
        open_only: true,
        category: Some(category.to_owned()),
        near: Some((lat, lon, DUPLICATE_RADIUS_M)),
        limit: Some(limit),
        ..Default::default()
    }
}

fn clean_opt(s: Option<String>) -> Option<String> {
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
