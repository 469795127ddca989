//! The issue document in Automerge: its layout, and reading and writing it.
//!
//! ```text
//! ROOT { schema: int, id, category, description,
//!        location: { lat, lon, street_id?, segment_id? },
//!        reporter: { user_id, name, role, device_id },
//!        photos:   { <sha256>: { stage, mime, size_bytes, width, height, taken_at_ms?, lat?, lon?,
//!                                orientation?, added_by, thumbnail: bytes } },
//!        comments: [ { id, by, role, at_ms, at_counter, actor, text } ],
//!        events:   [ { id, kind, by, role, device, at_ms, at_counter, actor, round,
//!                      payload: { to?, replaces?, assignment?, reason?, note?, photo?, duplicate_of? } } ] }
//! ```
//! Only the reporting device creates the root objects (in the document's first change); every
//! other device gets them by merging, so two devices never create rival `events` lists. After
//! that, changes only append to `events` and `comments` and add keys to `photos`: concurrent
//! edits merge without conflict. Photos are keyed by content hash, so the same photo attached
//! twice is one entry.

use automerge::transaction::{Transactable, Transaction};
use automerge::{ActorId, Automerge, AutomergeError, ObjId, ObjType, ROOT, ReadDoc, ScalarValue};

use crate::docs::fields::{MapFields, am, finish, hydrated, need, object, parse, put_stamp};

use crate::domain::{PhotoStage, Role};
use crate::error::Result;
use crate::issues::model::{
    Comment, DOC_SCHEMA_VERSION, EventPayload, IssueDoc, IssueEvent, IssueLocation, PhotoRef,
    Reporter,
};

/// The fields of a new issue, before it is a document.
#[derive(Debug, Clone)]
pub struct NewIssueDoc<'a> {
    pub id: crate::domain::IssueId,
    pub category: &'a str,
    pub description: &'a str,
    pub location: &'a IssueLocation,
    pub reporter: &'a Reporter,
    pub report: &'a IssueEvent,
    pub photos: &'a [PhotoRef],
}

/// A new document holding the issue, its report event and its before-photos, all in one change.
pub fn create(actor: ActorId, new: &NewIssueDoc<'_>) -> Result<Automerge> {
    let mut doc = Automerge::new().with_actor(actor);
    let mut tx = doc.transaction();
    write_root(&mut tx, new).map_err(am)?;
    tx.commit();
    Ok(doc)
}

fn write_root(tx: &mut Transaction<'_>, new: &NewIssueDoc<'_>) -> Result<(), AutomergeError> {
    tx.put(ROOT, "schema", DOC_SCHEMA_VERSION)?;
    tx.put(ROOT, "id", new.id.to_string())?;
    tx.put(ROOT, "category", new.category)?;
    tx.put(ROOT, "description", new.description)?;
    let loc = tx.put_object(ROOT, "location", ObjType::Map)?;
    tx.put(&loc, "lat", new.location.lat)?;
    tx.put(&loc, "lon", new.location.lon)?;
    if let Some(s) = &new.location.street_id {
        tx.put(&loc, "street_id", s.as_str())?;
    }
    if let Some(s) = &new.location.segment_id {
        tx.put(&loc, "segment_id", s.as_str())?;
    }
    let rep = tx.put_object(ROOT, "reporter", ObjType::Map)?;
    tx.put(&rep, "user_id", new.reporter.user_id.to_string())?;
    tx.put(&rep, "name", new.reporter.name.as_str())?;
    tx.put(&rep, "role", new.reporter.role.as_str())?;
    tx.put(&rep, "device_id", new.reporter.device_id.to_string())?;
    let photos = tx.put_object(ROOT, "photos", ObjType::Map)?;
    for p in new.photos {
        put_photo(tx, &photos, p)?;
    }
    tx.put_object(ROOT, "comments", ObjType::List)?;
    let events = tx.put_object(ROOT, "events", ObjType::List)?;
    put_event(tx, &events, new.report)?;
    Ok(())
}

/// Appends an event (and the photo it carries, if any) in one change.
pub fn append_event(
    doc: &mut Automerge,
    event: &IssueEvent,
    photo: Option<&PhotoRef>,
) -> Result<()> {
    let events = object(doc, "events")?;
    let photos = object(doc, "photos")?;
    let mut tx = doc.transaction();
    let result = (|| {
        if let Some(p) = photo {
            put_photo(&mut tx, &photos, p)?;
        }
        put_event(&mut tx, &events, event)
    })();
    finish(tx, result)
}

/// Adds a photo on its own (a before-photo taken later, say).
pub fn add_photo(doc: &mut Automerge, photo: &PhotoRef) -> Result<()> {
    let photos = object(doc, "photos")?;
    let mut tx = doc.transaction();
    let result = put_photo(&mut tx, &photos, photo);
    finish(tx, result)
}

/// Appends a comment.
pub fn append_comment(doc: &mut Automerge, c: &Comment) -> Result<()> {
    let comments = object(doc, "comments")?;
    let mut tx = doc.transaction();
    let result = (|| {
        let len = tx.length(&comments);
        let m = tx.insert_object(&comments, len, ObjType::Map)?;
        tx.put(&m, "id", c.id.to_string())?;
        tx.put(&m, "by", c.by.to_string())?;
        tx.put(&m, "role", c.role.as_str())?;
        put_stamp(&mut tx, &m, &c.at)?;
        tx.put(&m, "text", c.text.as_str())
    })();
    finish(tx, result)
}

fn put_event(
    tx: &mut Transaction<'_>,
    events: &ObjId,
    e: &IssueEvent,
) -> Result<(), AutomergeError> {
    let len = tx.length(events);
    let m = tx.insert_object(events, len, ObjType::Map)?;
    tx.put(&m, "id", e.id.to_string())?;
    tx.put(&m, "kind", e.kind.as_str())?;
    tx.put(&m, "by", e.by.to_string())?;
    tx.put(&m, "role", e.role.as_str())?;
    tx.put(&m, "device", e.device.to_string())?;
    put_stamp(tx, &m, &e.at)?;
    tx.put(&m, "round", i64::from(e.round))?;
    let p = tx.put_object(&m, "payload", ObjType::Map)?;
    let pl = &e.payload;
    if let Some(to) = &pl.to {
        tx.put(&p, "to", to.to_string())?;
    }
    if !pl.replaces.is_empty() {
        let ids: Vec<String> = pl.replaces.iter().map(|i| i.to_string()).collect();
        tx.put(&p, "replaces", ids.join(" "))?;
    }
    if let Some(a) = pl.assignment {
        tx.put(&p, "assignment", a.to_string())?;
    }
    for (key, text) in [
        ("reason", &pl.reason),
        ("note", &pl.note),
        ("photo", &pl.photo),
    ] {
        if let Some(t) = text {
            tx.put(&p, key, t.as_str())?;
        }
    }
    if let Some(d) = pl.duplicate_of {
        tx.put(&p, "duplicate_of", d.to_string())?;
    }
    Ok(())
}

fn put_photo(tx: &mut Transaction<'_>, photos: &ObjId, p: &PhotoRef) -> Result<(), AutomergeError> {
    if tx.get(photos, p.sha256.as_str())?.is_some() {
        return Ok(()); // content-addressed: already there
    }
    let m = tx.put_object(photos, p.sha256.as_str(), ObjType::Map)?;
    tx.put(&m, "stage", p.stage.as_str())?;
    tx.put(&m, "mime", p.mime.as_str())?;
    tx.put(&m, "size_bytes", p.size_bytes)?;
    tx.put(&m, "width", u64::from(p.width))?;
    tx.put(&m, "height", u64::from(p.height))?;
    if let Some(t) = p.taken_at_ms {
        tx.put(&m, "taken_at_ms", t)?;
    }
    if let (Some(lat), Some(lon)) = (p.lat, p.lon) {
        tx.put(&m, "lat", lat)?;
        tx.put(&m, "lon", lon)?;
    }
    if let Some(o) = p.orientation {
        tx.put(&m, "orientation", u64::from(o))?;
    }
    tx.put(&m, "added_by", p.added_by.to_string())?;
    tx.put(&m, "thumbnail", ScalarValue::Bytes(p.thumbnail.clone()))?;
    Ok(())
}

// ---- reading -------------------------------------------------------------------------------

/// Reads the whole document. Fails only when it is not an issue document at all; a single
/// unreadable event is reported in [`IssueDoc::unreadable_events`] and skipped.
pub fn read(doc: &Automerge) -> Result<IssueDoc> {
    let whole = hydrated(doc)?;
    let root = MapFields::root(&whole)?;
    let schema = need(root.i64("schema"), "schema version")?;
    let id = parse(root.str("id"), "id")?;
    let category = need(root.str("category"), "category")?;
    let description = root.str("description").unwrap_or_default();
    let loc = root.need_map("location")?;
    let location = IssueLocation {
        lat: need(loc.f64("lat"), "latitude")?,
        lon: need(loc.f64("lon"), "longitude")?,
        street_id: loc.str("street_id"),
        segment_id: loc.str("segment_id"),
    };
    let rep = root.need_map("reporter")?;
    let reporter = Reporter {
        user_id: parse(rep.str("user_id"), "reporter id")?,
        name: rep.str("name").unwrap_or_default(),
        role: parse(rep.str("role"), "reporter role")?,
        device_id: parse(rep.str("device_id"), "reporter device")?,
    };

    let mut photos: Vec<PhotoRef> = root
        .need_map("photos")?
        .maps()
        .filter_map(|(sha, m)| read_photo(m, sha))
        .collect();
    photos.sort_by(|a, b| a.sha256.cmp(&b.sha256));

    let mut comments: Vec<Comment> = root
        .list("comments")?
        .flatten()
        .filter_map(read_comment)
        .collect();
    comments.sort_by(|a, b| (&a.at, a.id).cmp(&(&b.at, b.id)));

    let mut events = Vec::new();
    let mut unreadable_events = Vec::new();
    for (i, m) in root.list("events")?.enumerate() {
        match m.ok_or_else(|| "not a map".to_owned()).and_then(read_event) {
            Ok(e) => events.push(e),
            Err(why) => unreadable_events.push(format!("event {i}: {why}")),
        }
    }
    Ok(IssueDoc {
        schema,
        id,
        category,
        description,
        location,
        reporter,
        photos,
        comments,
        events,
        unreadable_events,
    })
}

fn read_event(m: MapFields<'_>) -> std::result::Result<IssueEvent, String> {
    let field = |k: &str| m.str(k).ok_or_else(|| format!("no {k}"));
    let p = m.map("payload");
    let ps = |k: &str| p.and_then(|p| p.str(k));
    let payload = EventPayload {
        to: ps("to")
            .map(|t| t.parse())
            .transpose()
            .map_err(|e| format!("{e}"))?,
        replaces: ps("replaces")
            .map(|r| {
                r.split_whitespace()
                    .map(|i| i.parse())
                    .collect::<std::result::Result<Vec<crate::domain::IssueEventId>, _>>()
            })
            .transpose()
            .map_err(|e| e.to_string())?
            .unwrap_or_default(),
        assignment: ps("assignment")
            .map(|a| a.parse::<crate::domain::IssueEventId>())
            .transpose()
            .map_err(|e| e.to_string())?,
        reason: ps("reason"),
        note: ps("note"),
        photo: ps("photo"),
        duplicate_of: ps("duplicate_of")
            .map(|d| d.parse::<crate::domain::IssueId>())
            .transpose()
            .map_err(|e| e.to_string())?,
    };
    Ok(IssueEvent {
        id: field("id")?.parse().map_err(|e| format!("{e}"))?,
        kind: field("kind")?.parse().map_err(|e| format!("{e}"))?,
        by: field("by")?.parse().map_err(|e| format!("{e}"))?,
        role: field("role")?.parse::<Role>().map_err(|e| format!("{e}"))?,
        device: field("device")?.parse().map_err(|e| format!("{e}"))?,
        at: m.stamp().ok_or("no readable time stamp")?,
        round: m
            .i64("round")
            .and_then(|r| u32::try_from(r).ok())
            .ok_or("no round")?,
        payload,
    })
}

fn read_comment(m: MapFields<'_>) -> Option<Comment> {
    Some(Comment {
        id: m.str("id")?.parse().ok()?,
        by: m.str("by")?.parse().ok()?,
        role: m.str("role")?.parse().ok()?,
        at: m.stamp()?,
        text: m.str("text")?,
    })
}

fn read_photo(m: MapFields<'_>, sha: &str) -> Option<PhotoRef> {
    Some(PhotoRef {
        sha256: sha.to_owned(),
        stage: m.str("stage")?.parse::<PhotoStage>().ok()?,
        mime: m.str("mime").unwrap_or_default(),
        size_bytes: m.i64("size_bytes").unwrap_or(0).max(0) as u64,
        width: m
            .i64("width")
            .and_then(|w| u32::try_from(w).ok())
            .unwrap_or(0),
        height: m
            .i64("height")
            .and_then(|h| u32::try_from(h).ok())
            .unwrap_or(0),
        taken_at_ms: m.i64("taken_at_ms"),
        lat: m.f64("lat"),
        lon: m.f64("lon"),
        orientation: m.i64("orientation").and_then(|o| u16::try_from(o).ok()),
        added_by: m.str("added_by")?.parse().ok()?,
        thumbnail: m.bytes("thumbnail").map(<[u8]>::to_vec).unwrap_or_default(),
    })
}

pub use crate::docs::fields::actor_from_hex;
