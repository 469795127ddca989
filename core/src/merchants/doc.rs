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
use automerge::{ActorId, Automerge, AutomergeError, ObjId, ObjType, ROOT, ReadDoc, ScalarValue};

use crate::docs::fields::{child, finish, get_f64, get_i64, get_str, need, object, parse, put_stamp, read_stamp, scalar};
use crate::domain::{MerchantId, UserId};
use crate::error::Result;
use crate::merchants::model::{IssueLink, Inspection, MERCHANT_DOC_SCHEMA_VERSION, Merchant, MerchantFields};

/// A new document holding the merchant's fields, in one change.
pub fn create(actor: ActorId, id: MerchantId, fields: &MerchantFields, by: UserId, at_ms: i64) -> Result<Automerge> {
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
fn put_fields(tx: &mut impl Transactable, f: &MerchantFields, old: Option<&MerchantFields>) -> Result<(), AutomergeError> {
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
    need(get_i64(doc, &ROOT, "schema"), "schema version")?;
    let id = parse(get_str(doc, &ROOT, "id"), "id")?;
    let fields = MerchantFields {
        name: need(get_str(doc, &ROOT, "name"), "name")?,
        kind: get_str(doc, &ROOT, "kind"),
        address: get_str(doc, &ROOT, "address"),
        contact: get_str(doc, &ROOT, "contact"),
        lat: need(get_f64(doc, &ROOT, "lat"), "latitude")?,
        lon: need(get_f64(doc, &ROOT, "lon"), "longitude")?,
        street_id: get_str(doc, &ROOT, "street_id"),
        segment_id: get_str(doc, &ROOT, "segment_id"),
        closed: matches!(scalar(doc, &ROOT, "closed").as_deref(), Some(ScalarValue::Boolean(true))),
    };
    let inspections_obj = object(doc, "inspections")?;
    let mut inspections: Vec<Inspection> =
        (0..doc.length(&inspections_obj)).filter_map(|i| child(doc, &inspections_obj, i)).filter_map(|m| read_inspection(doc, &m)).collect();
    inspections.sort_by(|a, b| (&a.at, a.id).cmp(&(&b.at, b.id)));
    let links_obj = object(doc, "links")?;
    let mut links: Vec<IssueLink> =
        (0..doc.length(&links_obj)).filter_map(|i| child(doc, &links_obj, i)).filter_map(|m| read_link(doc, &m)).collect();
    links.sort_by(|a, b| (&a.at, a.issue_id).cmp(&(&b.at, b.issue_id)));
    Ok(Merchant {
        id,
        fields,
        created_by: parse(get_str(doc, &ROOT, "created_by"), "creator")?,
        created_at_ms: get_i64(doc, &ROOT, "created_at_ms").unwrap_or(0),
        inspections,
        links,
    })
}

fn read_inspection(doc: &Automerge, m: &ObjId) -> Option<Inspection> {
    Some(Inspection {
        id: get_str(doc, m, "id")?.parse().ok()?,
        by: get_str(doc, m, "by")?.parse().ok()?,
        role: get_str(doc, m, "role")?.parse().ok()?,
        at: read_stamp(doc, m)?,
        sanitation: get_str(doc, m, "sanitation")?.parse().ok()?,
        greening: get_str(doc, m, "greening")?.parse().ok()?,
        order: get_str(doc, m, "order")?.parse().ok()?,
        note: get_str(doc, m, "note"),
        photos: get_str(doc, m, "photos").map(|p| p.split_whitespace().map(str::to_owned).collect()).unwrap_or_default(),
    })
}

fn read_link(doc: &Automerge, m: &ObjId) -> Option<IssueLink> {
    Some(IssueLink {
        issue_id: get_str(doc, m, "issue_id")?.parse().ok()?,
        linked: matches!(scalar(doc, m, "linked").as_deref(), Some(ScalarValue::Boolean(true))),
        by: get_str(doc, m, "by")?.parse().ok()?,
        at: read_stamp(doc, m)?,
    })
}

/// The latest HLC stamp in the document (so a new stamp is made after it).
pub fn latest_stamp(m: &Merchant) -> Option<&crate::hlc::HlcStamp> {
    m.inspections.iter().map(|i| &i.at).chain(m.links.iter().map(|l| &l.at)).max()
}

