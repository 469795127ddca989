//! Issues in SQLite: the writes that append to an issue document (each inside the caller's
//! transaction, rewriting the projection row), reading one in full, and the categories.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::persist::{self, StoredDoc};
use super::{
    Catalog, CategorySpec, Comment, EventPayload, IssueDoc, IssueEvent, IssueLocation, IssueState,
    IssueTransition, IssueView, PhotoRef, Reporter, doc, fold, projection, roles,
};
use crate::domain::{CommentId, IssueEventId, IssueEventKind, IssueId};
use crate::error::{Error, Result};
use crate::store::DeviceIdentity;
use patrol_model::issues::act::{Author, propose_event};

/// Who writes to issue documents and when, with the categories their due times come from.
pub(crate) struct Writer<'a> {
    pub(crate) me: &'a DeviceIdentity,
    pub(crate) catalog: &'a Catalog,
    pub(crate) now_ms: i64,
}

/// Adds a custom category (or changes the due time of one added before); `code` is checked.
pub(crate) fn upsert_category(
    conn: &Connection,
    code: &str,
    name_zh: &str,
    name_en: &str,
    due_hours: u32,
) -> Result<()> {
    conn.execute(
        "INSERT INTO issue_category (code, name_zh, name_en, due_hours) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en,
                                           due_hours = excluded.due_hours",
        params![code, name_zh, name_en, due_hours],
    )?;
    Ok(())
}

/// What a new issue document holds besides its reporter.
pub(crate) struct NewReport<'a> {
    pub(crate) id: IssueId,
    pub(crate) category: &'a str,
    pub(crate) description: &'a str,
    pub(crate) location: &'a IssueLocation,
    pub(crate) photos: &'a [PhotoRef],
}

/// Creates the document of a new issue reported by `w.me`: the report event, stamped by the
/// device's clock, and the before-photos.
pub(crate) fn insert_report(
    tx: &Transaction<'_>,
    w: &Writer<'_>,
    new: &NewReport<'_>,
) -> Result<IssueView> {
    let me = w.me;
    let mut hlc = crate::hlc::load_clock(tx, &me.actor_id)?;
    let at = hlc.tick(w.now_ms);
    crate::hlc::save_clock(tx, &hlc)?;
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
            note: (!new.description.is_empty()).then(|| new.description.to_owned()),
            ..Default::default()
        },
    };
    let automerge_doc = doc::create(
        doc::actor_from_hex(&me.actor_id)?,
        &doc::NewIssueDoc {
            id: new.id,
            category: new.category,
            description: new.description,
            location: new.location,
            reporter: &reporter,
            report: &report,
            photos: new.photos,
        },
    )?;
    let snapshot = automerge_doc.save();
    let stored = persist::insert(tx, new.id, automerge_doc, &snapshot, true)?;
    refresh(tx, &stored, w.catalog, w.now_ms)
}

/// An issue in full, folded from its document.
pub(crate) fn issue(
    conn: &Connection,
    id: IssueId,
    catalog: &Catalog,
    now_ms: i64,
) -> Result<IssueView> {
    let stored = persist::load(conn, id)?.ok_or(Error::UnknownIssue(id))?;
    let d = doc::read(&stored.doc)?;
    let state = fold(&d);
    Ok(IssueView::new(d, state, catalog, &stored.heads, now_ms))
}

/// The category and location of issue `id`, from the projection.
pub(crate) fn category_and_location(conn: &Connection, id: IssueId) -> Result<(String, f64, f64)> {
    conn.query_row(
        "SELECT category, lat, lon FROM issue WHERE id = ?1",
        [id.to_string()],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()?
    .ok_or(Error::UnknownIssue(id))
}

/// Appends a comment by `w.me` (`text` is checked), stamped by the device's clock.
pub(crate) fn append_comment(
    tx: &Transaction<'_>,
    w: &Writer<'_>,
    id: IssueId,
    text: &str,
) -> Result<IssueView> {
    let me = w.me;
    let mut stored = persist::load(tx, id)?.ok_or(Error::UnknownIssue(id))?;
    stored.doc.set_actor(doc::actor_from_hex(&me.actor_id)?);
    let current = doc::read(&stored.doc)?;
    let mut hlc = crate::hlc::load_clock(tx, &me.actor_id)?;
    let at = hlc.stamp_after(current.latest_stamp(), w.now_ms);
    crate::hlc::save_clock(tx, &hlc)?;
    let comment = Comment {
        id: CommentId::new(),
        by: me.user_id,
        role: me.role,
        at,
        text: text.to_owned(),
    };
    doc::append_comment(&mut stored.doc, &comment)?;
    persist::persist(tx, &mut stored, true)?;
    refresh(tx, &stored, w.catalog, w.now_ms)
}

/// Adds a photo to the issue's document, as `w.me`.
pub(crate) fn append_photo(
    tx: &Transaction<'_>,
    w: &Writer<'_>,
    id: IssueId,
    photo: &PhotoRef,
) -> Result<IssueView> {
    let mut stored = persist::load(tx, id)?.ok_or(Error::UnknownIssue(id))?;
    stored.doc.set_actor(doc::actor_from_hex(&w.me.actor_id)?);
    doc::add_photo(&mut stored.doc, photo)?;
    persist::persist(tx, &mut stored, true)?;
    refresh(tx, &stored, w.catalog, w.now_ms)
}

/// Appends one event as `w.me`, after the same check the fold applies: a refused event is
/// never written. Returns the issue and what the event did to it.
pub(crate) fn append_event(
    tx: &Transaction<'_>,
    w: &Writer<'_>,
    id: IssueId,
    kind: IssueEventKind,
    photo: Option<PhotoRef>,
    payload: impl FnOnce(&IssueState) -> Result<EventPayload>,
) -> Result<(IssueView, IssueTransition)> {
    let me = w.me;
    let mut stored = persist::load(tx, id)?.ok_or(Error::UnknownIssue(id))?;
    stored.doc.set_actor(doc::actor_from_hex(&me.actor_id)?);
    let current = doc::read(&stored.doc)?;
    let state = fold(&current);
    let payload = payload(&state)?;
    let mut hlc = crate::hlc::load_clock(tx, &me.actor_id)?;
    let at = hlc.stamp_after(current.latest_stamp(), w.now_ms);
    let author = Author {
        user_id: &me.user_id,
        role: me.role,
        device_id: me.device_id,
    };
    let event = propose_event(&current, &state, &author, kind, payload, photo.as_ref(), at)
        .map_err(|r| Error::Refused {
            action: roles::verb(kind),
            role: me.role,
            id,
            reason: r.0,
        })?;
    crate::hlc::save_clock(tx, &hlc)?;
    doc::append_event(&mut stored.doc, &event, photo.as_ref())?;
    persist::persist(tx, &mut stored, true)?;
    let view = refresh(tx, &stored, w.catalog, w.now_ms)?;
    let transition = IssueTransition {
        issue_id: id,
        reporter: current.reporter.user_id,
        after: view.status,
        at_ms: w.now_ms,
    };
    Ok((view, transition))
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
