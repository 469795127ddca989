//! The merchant document in Automerge.
//!
//! ```text
//! ROOT { schema, id, created_by, created_at_ms,
//!        name, kind?, address?, contact?, lat, lon, street_id?, segment_id?, closed,
//!        inspections: [ { id, by, role, at_ms, at_counter, actor, sanitation, greening, order,
//!                         note?, photos } ],
//!        links:       [ { issue_id, linked, by, at_ms, at_counter, actor } ] }
//! ```
//! The creating device makes the root objects in the document's first change; every other
//! device gets them by merging. Fields are registers (concurrent edits of one field settle on
//! one value, the same on every device); inspections and links are appended, so concurrent
//! inspections from two phones both stay.

use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, AutomergeError, ObjType, ROOT, ReadDoc};

use crate::docs::fields::{MapFields, finish, hydrated, need, object, parse, put_stamp};
use crate::domain::{MerchantId, UserId};
use crate::error::Result;
use crate::merchants::model::{
    Inspection, IssueLink, MERCHANT_DOC_SCHEMA_VERSION, Merchant, MerchantFields,
};

/// A new document holding the merchant's fields, in one change.
pub fn create(
    actor: ActorId,
    id: MerchantId,
    fields: &MerchantFields,
    by: UserId,
    at_ms: i64,
) -> Result<Automerge> {
    let mut doc = Automerge::new().with_actor(actor);
    let mut tx = doc.transaction();
    let result = (|| {
        tx.put(ROOT, "schema", MERCHANT_DOC_SCHEMA_VERSION)?;
        tx.put(ROOT, "id", id.to_string())?;
        tx.put(ROOT, "created_by", by.to_string())?;
        tx.put(ROOT, "created_at_ms", at_ms)?;
        put_fields(&mut tx, fields, None)?;
        tx.put_object(ROOT, "inspections", ObjType::List)?;
        tx.put_object(ROOT, "links", ObjType::List)?;
        Ok(())
    })();
    finish(tx, result)?;
    Ok(doc)
}

/// Writes the fields that differ from `old` (all of them when `old` is `None`).
fn put_fields(
    tx: &mut impl Transactable,
    f: &MerchantFields,
    old: Option<&MerchantFields>,
) -> Result<(), AutomergeError> {
    let changed = |a: &dyn Fn(&MerchantFields) -> bool| old.is_none_or(a);
    if changed(&|o| o.name != f.name) {
        tx.put(ROOT, "name", f.name.as_str())?;
    }
    for (key, value, before) in [
        ("kind", &f.kind, old.map(|o| &o.kind)),
        ("address", &f.address, old.map(|o| &o.address)),
        ("contact", &f.contact, old.map(|o| &o.contact)),
        ("street_id", &f.street_id, old.map(|o| &o.street_id)),
        ("segment_id", &f.segment_id, old.map(|o| &o.segment_id)),
    ] {
        if before == Some(value) {
            continue;
        }
        match value {
            Some(v) => tx.put(ROOT, key, v.as_str())?,
            None if before.is_some() => tx.delete(ROOT, key)?,
            None => {}
        }
    }
    if changed(&|o| o.lat != f.lat || o.lon != f.lon) {
        tx.put(ROOT, "lat", f.lat)?;
        tx.put(ROOT, "lon", f.lon)?;
    }
    if changed(&|o| o.closed != f.closed) {
        tx.put(ROOT, "closed", f.closed)?;
    }
    Ok(())
}

/// Changes the fields (only those that differ) in one change.
pub fn edit(doc: &mut Automerge, old: &MerchantFields, new: &MerchantFields) -> Result<()> {
    let mut tx = doc.transaction();
    let result = put_fields(&mut tx, new, Some(old));
    finish(tx, result)
}

/// Appends an inspection.
pub fn append_inspection(doc: &mut Automerge, i: &Inspection) -> Result<()> {
    let list = object(doc, "inspections")?;
    let mut tx = doc.transaction();
    let result = (|| {
        let len = tx.length(&list);
        let m = tx.insert_object(&list, len, ObjType::Map)?;
        tx.put(&m, "id", i.id.to_string())?;
        tx.put(&m, "by", i.by.to_string())?;
        tx.put(&m, "role", i.role.as_str())?;
        put_stamp(&mut tx, &m, &i.at)?;
        tx.put(&m, "sanitation", i.sanitation.as_str())?;
        tx.put(&m, "greening", i.greening.as_str())?;
        tx.put(&m, "order", i.order.as_str())?;
        if let Some(n) = &i.note {
            tx.put(&m, "note", n.as_str())?;
        }
        tx.put(&m, "photos", i.photos.join(" "))?;
        Ok(())
    })();
    finish(tx, result)
}

/// Appends a link (or unlink) of an issue.
pub fn append_link(doc: &mut Automerge, l: &IssueLink) -> Result<()> {
    let list = object(doc, "links")?;
    let mut tx = doc.transaction();
    let result = (|| {
        let len = tx.length(&list);
        let m = tx.insert_object(&list, len, ObjType::Map)?;
        tx.put(&m, "issue_id", l.issue_id.to_string())?;
        tx.put(&m, "linked", l.linked)?;
        tx.put(&m, "by", l.by.to_string())?;
        put_stamp(&mut tx, &m, &l.at)?;
        Ok(())
    })();
    finish(tx, result)
}

/// Reads the whole document. Fails only when it is not a merchant document at all; an
/// unreadable inspection or link is skipped.
pub fn read(doc: &Automerge) -> Result<Merchant> {
    let whole = hydrated(doc)?;
    let root = MapFields::root(&whole)?;
    need(root.i64("schema"), "schema version")?;
    let id = parse(root.str("id"), "id")?;
    let fields = MerchantFields {
        name: need(root.str("name"), "name")?,
        kind: root.str("kind"),
        address: root.str("address"),
        contact: root.str("contact"),
        lat: need(root.f64("lat"), "latitude")?,
        lon: need(root.f64("lon"), "longitude")?,
        street_id: root.str("street_id"),
        segment_id: root.str("segment_id"),
        closed: root.is_true("closed"),
    };
    let mut inspections: Vec<Inspection> = root
        .list("inspections")?
        .flatten()
        .filter_map(read_inspection)
        .collect();
    inspections.sort_by(|a, b| (&a.at, a.id).cmp(&(&b.at, b.id)));
    let mut links: Vec<IssueLink> = root
        .list("links")?
        .flatten()
        .filter_map(read_link)
        .collect();
    links.sort_by(|a, b| (&a.at, a.issue_id).cmp(&(&b.at, b.issue_id)));
    Ok(Merchant {
        id,
        fields,
        created_by: parse(root.str("created_by"), "creator")?,
        created_at_ms: root.i64("created_at_ms").unwrap_or(0),
        inspections,
        links,
    })
}

fn read_inspection(m: MapFields<'_>) -> Option<Inspection> {
    Some(Inspection {
        id: m.str("id")?.parse().ok()?,
        by: m.str("by")?.parse().ok()?,
        role: m.str("role")?.parse().ok()?,
        at: m.stamp()?,
        sanitation: m.str("sanitation")?.parse().ok()?,
        greening: m.str("greening")?.parse().ok()?,
        order: m.str("order")?.parse().ok()?,
        note: m.str("note"),
        photos: m
            .str("photos")
            .map(|p| p.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default(),
    })
}

fn read_link(m: MapFields<'_>) -> Option<IssueLink> {
    Some(IssueLink {
        issue_id: m.str("issue_id")?.parse().ok()?,
        linked: m.is_true("linked"),
        by: m.str("by")?.parse().ok()?,
        at: m.stamp()?,
    })
}

/// The latest HLC stamp in the document (so a new stamp is made after it).
pub fn latest_stamp(m: &Merchant) -> Option<&crate::hlc::HlcStamp> {
    m.inspections
        .iter()
        .map(|i| &i.at)
        .chain(m.links.iter().map(|l| &l.at))
        .max()
}
