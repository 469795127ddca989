//! Merchants in SQLite: the documents (through [`MERCHANTS`]), their projection rows, and the
//! writes that change a document, each inside the caller's transaction.

use automerge::AutomergeError;
use rusqlite::{Connection, Transaction, params};

use super::{
    Frontage, IssueLink, MERCHANTS, Merchant, MerchantEdit, MerchantFields, MerchantMergeOutcome,
    MerchantQuery, MerchantSummary, NewInspection, clean, doc,
};
use crate::docs::StoredDoc;
use crate::docs::fields::actor_from_hex;
use crate::docs::persist::{incoming_target, load_standalone, require_complete};
use crate::domain::{InspectionId, IssueId, MerchantId};
use crate::error::{Error, Result};
use crate::hlc::HlcStamp;
use crate::merchants::Inspection;
use crate::store::DeviceIdentity;

/// Creates merchant `id` with `fields`, written by `me`, and its projection row.
pub(crate) fn insert_merchant(
    tx: &Transaction<'_>,
    me: &DeviceIdentity,
    id: MerchantId,
    fields: &MerchantFields,
    now_ms: i64,
) -> Result<Merchant> {
    let doc = doc::create(
        actor_from_hex(&me.actor_id)?,
        id,
        fields,
        me.user_id,
        now_ms,
    )?;
    let snapshot = doc.save();
    let stored = MERCHANTS.insert(tx, &id.to_string(), doc, &snapshot, true)?;
    refresh(tx, &stored, now_ms)
}

/// Applies `edit` to merchant `id` as `me`; `location` is a checked new location with its
/// frontage (street, segment).
pub(crate) fn edit_merchant(
    tx: &Transaction<'_>,
    me: &DeviceIdentity,
    id: MerchantId,
    edit: MerchantEdit,
    location: Option<(f64, f64, Frontage)>,
    now_ms: i64,
) -> Result<Merchant> {
    let mut stored = load(tx, id)?;
    stored.doc.set_actor(actor_from_hex(&me.actor_id)?);
    let old = doc::read(&stored.doc)?.fields;
    let mut new = old.clone();
    if let Some(n) = clean(edit.name, "name")? {
        new.name = n;
    }
    if edit.kind.is_some() {
        new.kind = clean(edit.kind, "kind")?;
    }
    if edit.address.is_some() {
        new.address = clean(edit.address, "address")?;
    }
    if edit.contact.is_some() {
        new.contact = clean(edit.contact, "contact")?;
    }
    if let Some((lat, lon, (street, segment))) = location {
        (new.lat, new.lon, new.street_id, new.segment_id) = (lat, lon, street, segment);
    }
    if let Some(c) = edit.closed {
        new.closed = c;
    }
    doc::edit(&mut stored.doc, &old, &new)?;
    MERCHANTS.persist(tx, &mut stored, true)?;
    refresh(tx, &stored, now_ms)
}

/// Appends an inspection by `me` to merchant `id`, stamped by the device's clock; `photos`
/// are already in the photo store and `note` is cleaned.
pub(crate) fn append_inspection(
    tx: &Transaction<'_>,
    me: &DeviceIdentity,
    id: MerchantId,
    new: NewInspection,
    photos: Vec<String>,
    note: Option<String>,
    now_ms: i64,
) -> Result<Inspection> {
    let mut stored = load(tx, id)?;
    stored.doc.set_actor(actor_from_hex(&me.actor_id)?);
    let current = doc::read(&stored.doc)?;
    let mut hlc = crate::hlc::load_clock(tx, &me.actor_id)?;
    let at = hlc.stamp_after(doc::latest_stamp(&current), now_ms);
    crate::hlc::save_clock(tx, &hlc)?;
    let inspection = Inspection {
        id: InspectionId::new(),
        by: me.user_id,
        role: me.role,
        at,
        sanitation: new.sanitation,
        greening: new.greening,
        order: new.order,
        note,
        photos,
    };
    doc::append_inspection(&mut stored.doc, &inspection)?;
    MERCHANTS.persist(tx, &mut stored, true)?;
    refresh(tx, &stored, now_ms)?;
    Ok(inspection)
}

/// Appends to merchant `id` that `issue` is (`linked`) or is not theirs, as `me`.
pub(crate) fn append_issue_link(
    tx: &Transaction<'_>,
    me: &DeviceIdentity,
    id: MerchantId,
    issue: IssueId,
    linked: bool,
    now_ms: i64,
) -> Result<Merchant> {
    let mut stored = load(tx, id)?;
    stored.doc.set_actor(actor_from_hex(&me.actor_id)?);
    let current = doc::read(&stored.doc)?;
    let mut hlc = crate::hlc::load_clock(tx, &me.actor_id)?;
    let at = hlc.stamp_after(doc::latest_stamp(&current), now_ms);
    crate::hlc::save_clock(tx, &hlc)?;
    doc::append_link(
        &mut stored.doc,
        &IssueLink {
            issue_id: issue,
            linked,
            by: me.user_id,
            at,
        },
    )?;
    MERCHANTS.persist(tx, &mut stored, true)?;
    refresh(tx, &stored, now_ms)
}

/// A merchant in full.
pub(crate) fn merchant(conn: &Connection, id: MerchantId) -> Result<Merchant> {
    Ok(doc::read(&load(conn, id)?.doc)?)
}

/// Every merchant's id, in name order.
pub(crate) fn merchant_ids(conn: &Connection) -> Result<Vec<MerchantId>> {
    let ids: Vec<String> = conn
        .prepare("SELECT id FROM merchant ORDER BY name, id")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    ids.iter().map(|id| Ok(id.parse()?)).collect()
}

/// Merchants from the projection: along a street or segment, open ones unless asked.
pub(crate) fn list_merchants(conn: &Connection, q: &MerchantQuery) -> Result<Vec<MerchantSummary>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, kind, street_id, segment_id, lat, lon, closed, inspection_count, last_inspected_ms FROM merchant
          WHERE (?1 IS NULL OR street_id = ?1) AND (?2 IS NULL OR segment_id = ?2) AND (?3 OR closed = 0)
          ORDER BY name, id",
    )?;
    let rows = stmt.query_map(params![q.street_id, q.segment_id, q.include_closed], |r| {
        Ok((
            r.get::<_, String>(0)?,
            MerchantSummary {
                id: MerchantId::default(),
                name: r.get(1)?,
                kind: r.get(2)?,
                street_id: r.get(3)?,
                segment_id: r.get(4)?,
                lat: r.get(5)?,
                lon: r.get(6)?,
                closed: r.get(7)?,
                inspection_count: r.get(8)?,
                last_inspected_ms: r.get(9)?,
            },
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, mut m) = row?;
        m.id = id.parse()?;
        out.push(m);
    }
    Ok(out)
}

/// The whole document of merchant `id`, saved.
pub(crate) fn export_merchant(conn: &Connection, id: MerchantId) -> Result<Vec<u8>> {
    Ok(load(conn, id)?.doc.save())
}

/// Merges a merchant document from another device and lets `me`'s clock observe its latest
/// stamp.
pub(crate) fn import_merchant(
    tx: &Transaction<'_>,
    me: Option<&DeviceIdentity>,
    bytes: &[u8],
    now_ms: i64,
) -> Result<MerchantMergeOutcome> {
    let (outcome, latest) = merge_merchant(tx, None, bytes, now_ms)?;
    if let (Some(me), Some(latest)) = (me, latest) {
        let mut hlc = crate::hlc::load_clock(tx, &me.actor_id)?;
        hlc.observe(&latest, now_ms);
        crate::hlc::save_clock(tx, &hlc)?;
    }
    Ok(outcome)
}

/// Merges changes from elsewhere (or a whole document) into merchant `id`, or into whichever
/// merchant a whole document holds when `id` is `None`, then rewrites the projection, inside the
/// caller's transaction. Returns the outcome and the latest stamp of the merged document, for
/// the caller's clock. On an error some of it may be written: roll the transaction back.
pub(crate) fn merge_merchant(
    conn: &Connection,
    id: Option<MerchantId>,
    bytes: &[u8],
    now_ms: i64,
) -> Result<(MerchantMergeOutcome, Option<HlcStamp>)> {
    if bytes.is_empty() {
        return Err(Error::BadDocument(
            "no merchant document given (the input is empty)".into(),
        ));
    }
    let not_merchant =
        |e: AutomergeError| Error::BadDocument(format!("not a merchant document: {e}"));
    let standalone = load_standalone(bytes).map_err(not_merchant)?;
    let mut standalone_read = standalone.as_ref().map(doc::read).transpose()?;
    let id = incoming_target(id, standalone_read.as_ref().map(|m| m.id), "merchant")?;
    let (mut stored, new) = match MERCHANTS.load(conn, &id.to_string())? {
        Some(mut s) => {
            s.doc.load_incremental(bytes).map_err(not_merchant)?;
            (s, false)
        }
        None => match standalone {
            Some(d) => (
                MERCHANTS.insert(conn, &id.to_string(), d, bytes, false)?,
                true,
            ),
            None => {
                return Err(Error::BadDocument(format!(
                    "these changes build on merchant {id}, which this device does not have; fetch it whole"
                )));
            }
        },
    };
    require_complete(&stored.doc, "merchant")?;
    let merged = match standalone_read.take() {
        Some(m) if new => m,
        _ => doc::read(&stored.doc)?,
    };
    if merged.id != id {
        return Err(Error::BadDocument(format!(
            "after merging, the document says it is merchant {}, not {id}",
            merged.id
        )));
    }
    let changed = MERCHANTS.persist(conn, &mut stored, false)? || new;
    let latest = doc::latest_stamp(&merged).cloned();
    refresh_read(conn, &stored, merged, now_ms)?;
    Ok((MerchantMergeOutcome { id, new, changed }, latest))
}

fn load(conn: &Connection, id: MerchantId) -> Result<StoredDoc> {
    MERCHANTS
        .load(conn, &id.to_string())?
        .ok_or(Error::UnknownMerchant(id))
}

/// Reads a stored document and rewrites its projection row.
fn refresh(conn: &Connection, stored: &StoredDoc, now_ms: i64) -> Result<Merchant> {
    refresh_read(conn, stored, doc::read(&stored.doc)?, now_ms)
}

/// [`refresh`] with the document already read (`m` must be `stored.doc` as read).
fn refresh_read(
    conn: &Connection,
    stored: &StoredDoc,
    m: Merchant,
    now_ms: i64,
) -> Result<Merchant> {
    let last = m.inspections.iter().map(|i| i.at.wall_ms).max();
    conn.prepare_cached(
        "INSERT INTO merchant (doc_row, id, name, kind, street_id, segment_id, lat, lon, closed, inspection_count,
                               last_inspected_ms, updated_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (doc_row) DO UPDATE SET name = excluded.name, kind = excluded.kind, street_id = excluded.street_id,
            segment_id = excluded.segment_id, lat = excluded.lat, lon = excluded.lon, closed = excluded.closed,
            inspection_count = excluded.inspection_count, last_inspected_ms = excluded.last_inspected_ms,
            updated_at_ms = excluded.updated_at_ms",
    )?
    .execute(params![
        stored.row,
        m.id.to_string(),
        m.fields.name,
        m.fields.kind,
        m.fields.street_id,
        m.fields.segment_id,
        m.fields.lat,
        m.fields.lon,
        m.fields.closed,
        m.inspections.len() as i64,
        last,
        now_ms
    ])?;
    Ok(m)
}
