//! Merchants and their frontage-duty inspections ([`crate::merchants`]).

use crate::domain::{IssueId, MerchantId};
use crate::error::{Error, Result};
use crate::merchants::{
    self, Frontage, Inspection, Merchant, MerchantEdit, MerchantFields, MerchantMergeOutcome,
    MerchantQuery, MerchantSummary, NewInspection, NewMerchant, clean, storage,
};
use crate::store::{DeviceIdentity, Store};

impl Store {
    /// Adds a merchant (supervisors and chiefs only).
    pub fn add_merchant(&mut self, new: NewMerchant) -> Result<Merchant> {
        let me = self.merchant_editor("add a merchant")?;
        let (lat, lon) = merchants::location_of(&new)?;
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
        let tx = self.conn.transaction()?;
        let m = storage::insert_merchant(&tx, &me, id, &fields, now)?;
        tx.commit()?;
        Ok(m)
    }

    /// Changes a merchant's fields (supervisors and chiefs only).
    pub fn edit_merchant(&mut self, id: MerchantId, edit: MerchantEdit) -> Result<Merchant> {
        let me = self.merchant_editor("edit a merchant")?;
        let mut location = None;
        if let Some((lat, lon)) = edit.location {
            merchants::check_location(lat, lon)?;
            location = Some((lat, lon, self.frontage_of(None, lat, lon)?));
        }
        let now = self.clock.now_ms();
        let tx = self.conn.transaction()?;
        let m = storage::edit_merchant(&tx, &me, id, edit, location, now)?;
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
        let note = clean(new.note.clone(), "note")?;
        let now = self.clock.now_ms();
        let tx = self.conn.transaction()?;
        let inspection = storage::append_inspection(&tx, &me, id, new, photos, note, now)?;
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
        let m = storage::append_issue_link(&tx, &me, id, issue, linked, now)?;
        tx.commit()?;
        Ok(m)
    }

    /// A merchant in full.
    pub fn merchant(&self, id: MerchantId) -> Result<Merchant> {
        storage::merchant(&self.conn, id)
    }

    /// Every merchant document in full (reports), in name order.
    pub fn all_merchants(&self) -> Result<Vec<Merchant>> {
        storage::merchant_ids(&self.conn)?
            .into_iter()
            .map(|id| storage::merchant(&self.conn, id))
            .collect()
    }

    /// Merchants from the projection: along a street or segment, open ones unless asked.
    pub fn list_merchants(&self, q: &MerchantQuery) -> Result<Vec<MerchantSummary>> {
        storage::list_merchants(&self.conn, q)
    }

    /// The whole document, for another device (`patrol merchant export`).
    pub fn export_merchant(&self, id: MerchantId) -> Result<Vec<u8>> {
        storage::export_merchant(&self.conn, id)
    }

    /// Merges a merchant document from another device, in one transaction.
    pub fn import_merchant(&mut self, bytes: &[u8]) -> Result<MerchantMergeOutcome> {
        let now = self.clock.now_ms();
        let me = self.device()?;
        let tx = self.conn.transaction()?;
        let outcome = storage::import_merchant(&tx, me.as_ref(), bytes, now)?;
        tx.commit()?;
        Ok(outcome)
    }

    /// This device's user, if they may edit merchants.
    fn merchant_editor(&self, action: &str) -> Result<DeviceIdentity> {
        merchants::require_editor(self.require_device()?, action)
    }

    /// The street and segment of a frontage: the street given (id or name) and the nearest of
    /// its segments, or the segment the location matches.
    fn frontage_of(&self, street: Option<&str>, lat: f64, lon: f64) -> Result<Frontage> {
        let net = match self.street_network() {
            Ok(n) => n,
            Err(Error::Streets(crate::streets::StreetsError::NoNetwork)) => {
                return Ok(merchants::frontage_without_network(street));
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
