//! Merchants (商户) along the streets and their frontage duty (门前三包: sanitation, greening and
//! order in front of each shop).
//!
//! A merchant is an Automerge document like an issue ([`doc`], stored with the shared
//! [`crate::docs::persist`] in `merchant_doc` / `merchant_chunk`), because supervisors and chiefs
//! edit them on phones that are offline half the time: fields are registers, inspections and
//! issue links are appended, and two phones that inspected the same shop both keep their
//! inspection after a merge. A `merchant` projection row per document makes lists plain SQL.
//! The credit score and rating are computed by reports ([`crate::report::merchants`]).
//! [`validate`] holds the document's layout and limits, checked on upload and receipt.

pub use patrol_model::merchants::{MAX_TEXT_CHARS, doc, model, validate};

use automerge::AutomergeError;
use rusqlite::{Connection, params};
use serde::Serialize;

pub use model::{Inspection, IssueLink, Merchant, MerchantFields};

use crate::docs::fields::actor_from_hex;
use crate::docs::persist::{incoming_target, load_standalone, require_complete};
use crate::docs::{DocTables, StoredDoc};
use crate::domain::{Datum, DutyGrade, InspectionId, IssueId, MerchantId, Role};
use crate::error::{Error, Result};
use crate::geodesy::{check_coordinates, gcj02_to_wgs84};
use crate::hlc::HlcStamp;
use crate::store::{DeviceIdentity, Store};

pub(crate) const MERCHANTS: DocTables = DocTables {
    docs: "merchant_doc",
    chunks: "merchant_chunk",
    what: "merchant",
};

/// What a supervisor or chief enters for a new merchant.
#[derive(Debug, Clone)]
pub struct NewMerchant {
    pub name: String,
    pub kind: Option<String>,
    pub address: Option<String>,
    pub contact: Option<String>,
    pub lat: f64,
    pub lon: f64,
    pub datum: Datum,
    /// The street (id or unambiguous name) of its frontage; matched from the location when
    /// `None` and the store has a street network.
    pub street: Option<String>,
}

/// Changes to a merchant's fields; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct MerchantEdit {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub address: Option<String>,
    pub contact: Option<String>,
    pub location: Option<(f64, f64)>,
    pub closed: Option<bool>,
}

/// A frontage-duty inspection as entered.
#[derive(Debug, Clone)]
pub struct NewInspection {
    pub sanitation: DutyGrade,
    pub greening: DutyGrade,
    pub order: DutyGrade,
    pub note: Option<String>,
    /// Photos already in the photo store (SHA-256).
    pub photos: Vec<String>,
}

/// A merchant as lists show it: the projection row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MerchantSummary {
    pub id: MerchantId,
    pub name: String,
    pub kind: Option<String>,
    pub street_id: Option<String>,
    pub segment_id: Option<String>,
    pub lat: f64,
    pub lon: f64,
    pub closed: bool,
    pub inspection_count: u32,
    pub last_inspected_ms: Option<i64>,
}

/// Which merchants to list.
#[derive(Debug, Clone, Default)]
pub struct MerchantQuery {
    pub street_id: Option<String>,
    pub segment_id: Option<String>,
    pub include_closed: bool,
}

/// What merging a merchant document from another device did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MerchantMergeOutcome {
    pub id: MerchantId,
    pub new: bool,
    pub changed: bool,
}

impl Store {
    /// Adds a merchant (supervisors and chiefs only).
    pub fn add_merchant(&mut self, new: NewMerchant) -> Result<Merchant> {
        let me = self.merchant_editor("add a merchant")?;
        let (lat, lon) = match new.datum {
            Datum::Wgs84 => (new.lat, new.lon),
            Datum::Gcj02 => gcj02_to_wgs84(new.lat, new.lon),
        };
        check_coordinates(lat, lon).map_err(|why| {
            Error::InvalidInput(format!("merchant location ({lat}, {lon}) {why}"))
        })?;
        let name = clean(Some(new.name), "name")?
            .ok_or_else(|| Error::InvalidInput("a merchant needs a name".into()))?;
        let (street_id, segment_id) = self.frontage_of(new.street.as_deref(), lat, lon)?;
        let fields = MerchantFields {
            name,
            kind: clean(new.kind, "kind")?,
            address: clean(new.address, "address")?,
            contact: clean(new.contact, "contact")?,
            lat,
            lon,
            street_id,
            segment_id,
            closed: false,
        };
        let id = MerchantId::new();
        let now = self.clock.now_ms();
        let doc = doc::create(actor_from_hex(&me.actor_id)?, id, &fields, me.user_id, now)?;
        let tx = self.conn.transaction()?;
        let snapshot = doc.save();
        let stored = MERCHANTS.insert(&tx, &id.to_string(), doc, &snapshot, true)?;
        let m = refresh(&tx, &stored, now)?;
        tx.commit()?;
        Ok(m)
    }

    /// Changes a merchant's fields (supervisors and chiefs only).
    pub fn edit_merchant(&mut self, id: MerchantId, edit: MerchantEdit) -> Result<Merchant> {
        let me = self.merchant_editor("edit a merchant")?;
        let mut location = None;
        if let Some((lat, lon)) = edit.location {
            check_coordinates(lat, lon).map_err(|why| {
                Error::InvalidInput(format!("merchant location ({lat}, {lon}) {why}"))
            })?;
            location = Some((lat, lon, self.frontage_of(None, lat, lon)?));
        }
        let now = self.clock.now_ms();
        let tx = self.conn.transaction()?;
        let mut stored = load(&tx, id)?;
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
        MERCHANTS.persist(&tx, &mut stored, true)?;
        let m = refresh(&tx, &stored, now)?;
        tx.commit()?;
        Ok(m)
    }

    /// Records a frontage-duty inspection (supervisors and chiefs only); photos must be in the
    /// photo store already.
    pub fn inspect_merchant(&mut self, id: MerchantId, new: NewInspection) -> Result<Inspection> {
        let me = self.merchant_editor("inspect a merchant")?;
        let mut photos = Vec::new();
        for sha in &new.photos {
            photos.push(self.photo(sha)?.sha256);
        }
        let note = clean(new.note, "note")?;
        let now = self.clock.now_ms();
        let tx = self.conn.transaction()?;
        let mut stored = load(&tx, id)?;
        stored.doc.set_actor(actor_from_hex(&me.actor_id)?);
        let current = doc::read(&stored.doc)?;
        let mut hlc = crate::hlc::load_clock(&tx, &me.actor_id)?;
        let at = hlc.stamp_after(doc::latest_stamp(&current), now);
        crate::hlc::save_clock(&tx, &hlc)?;
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
        MERCHANTS.persist(&tx, &mut stored, true)?;
        refresh(&tx, &stored, now)?;
        tx.commit()?;
        Ok(inspection)
    }

    /// Links an issue to a merchant (`linked`), or says it is not theirs (an issue found near
    /// the shop that someone else caused); supervisors and chiefs only.
    pub fn link_merchant_issue(
        &mut self,
        id: MerchantId,
        issue: IssueId,
        linked: bool,
    ) -> Result<Merchant> {
        let me = self.merchant_editor("link an issue to a merchant")?;
        self.issue(issue)?;
        let now = self.clock.now_ms();
        let tx = self.conn.transaction()?;
        let mut stored = load(&tx, id)?;
        stored.doc.set_actor(actor_from_hex(&me.actor_id)?);
        let current = doc::read(&stored.doc)?;
        let mut hlc = crate::hlc::load_clock(&tx, &me.actor_id)?;
        let at = hlc.stamp_after(doc::latest_stamp(&current), now);
        crate::hlc::save_clock(&tx, &hlc)?;
        doc::append_link(
            &mut stored.doc,
            &IssueLink {
                issue_id: issue,
                linked,
                by: me.user_id,
                at,
            },
        )?;
        MERCHANTS.persist(&tx, &mut stored, true)?;
        let m = refresh(&tx, &stored, now)?;
        tx.commit()?;
        Ok(m)
    }

    /// A merchant in full.
    pub fn merchant(&self, id: MerchantId) -> Result<Merchant> {
        Ok(doc::read(&load(&self.conn, id)?.doc)?)
    }

    /// Every merchant document in full (reports), in name order.
    pub fn all_merchants(&self) -> Result<Vec<Merchant>> {
        let ids: Vec<String> = self
            .conn
            .prepare("SELECT id FROM merchant ORDER BY name, id")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        ids.iter().map(|id| self.merchant(id.parse()?)).collect()
    }

    /// Merchants from the projection: along a street or segment, open ones unless asked.
    pub fn list_merchants(&self, q: &MerchantQuery) -> Result<Vec<MerchantSummary>> {
        let mut stmt = self.conn.prepare_cached(
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

    /// The whole document, for another device (`patrol merchant export`).
    pub fn export_merchant(&self, id: MerchantId) -> Result<Vec<u8>> {
        Ok(load(&self.conn, id)?.doc.save())
    }

    /// Merges a merchant document from another device, in one transaction.
    pub fn import_merchant(&mut self, bytes: &[u8]) -> Result<MerchantMergeOutcome> {
        let now = self.clock.now_ms();
        let me = self.device()?;
        let tx = self.conn.transaction()?;
        let (outcome, latest) = merge_merchant(&tx, None, bytes, now)?;
        if let (Some(me), Some(latest)) = (me, latest) {
            let mut hlc = crate::hlc::load_clock(&tx, &me.actor_id)?;
            hlc.observe(&latest, now);
            crate::hlc::save_clock(&tx, &hlc)?;
        }
        tx.commit()?;
        Ok(outcome)
    }

    /// This device's user, if they may edit merchants.
    fn merchant_editor(&self, action: &str) -> Result<DeviceIdentity> {
        let me = self.require_device()?;
        if !matches!(me.role, Role::Supervisor | Role::Chief) {
            return Err(Error::InvalidInput(format!(
                "a {} may not {action}: supervisors and chiefs edit merchants",
                me.role
            )));
        }
        Ok(me)
    }

    /// The street and segment of a frontage: the street given (id or name) and the nearest of
    /// its segments, or the segment the location matches.
    fn frontage_of(
        &self,
        street: Option<&str>,
        lat: f64,
        lon: f64,
    ) -> Result<(Option<String>, Option<String>)> {
        let net = match self.street_network() {
            Ok(n) => n,
            Err(Error::Streets(crate::streets::StreetsError::NoNetwork)) => {
                return Ok((
                    street
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty()),
                    None,
                ));
            }
            Err(e) => return Err(e),
        };
        if let Some(s) = street {
            let id = self.resolve_street(s)?;
            let (x, y) = net.network.projection.to_metres(lat, lon);
            let seg = net.network.street_index(id).and_then(|si| {
                net.network.street_segments[si]
                    .iter()
                    .map(|&g| (g, net.network.segments[g].project(x, y).1))
                    .min_by(|a, b| a.1.total_cmp(&b.1))
                    .map(|(g, _)| net.network.segments[g].id.to_string())
            });
            return Ok((Some(id.to_string()), seg));
        }
        Ok(match self.match_point(lat, lon, None)? {
            Some(m) => (
                Some(m.street_id.to_string()),
                Some(m.segment_id.to_string()),
            ),
            None => (None, None),
        })
    }
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

/// A trimmed optional text, `None` when empty, refused when too long.
fn clean(text: Option<String>, what: &str) -> Result<Option<String>> {
    let t = text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    if t.as_ref()
        .is_some_and(|t| t.chars().count() > MAX_TEXT_CHARS)
    {
        return Err(Error::InvalidInput(format!(
            "the merchant's {what} may have at most {MAX_TEXT_CHARS} characters"
        )));
    }
    Ok(t)
}
