//! The street network in the store: imports, listing, resolving, assignments
//! ([`crate::streets`]).

use std::path::Path;
use std::sync::atomic::AtomicBool;

use crate::domain::{Role, StreetId};
use crate::error::{Error, Result};
use crate::store::Store;
use crate::streets::store;
use crate::streets::{
    Assignment, NetworkDraft, Segment, Street, StreetImportOptions, StreetImportReport, StreetInfo,
    StreetsError, read_street_file,
};

impl Store {
    /// Reads and imports a street file (`.osm` or `.geojson`) in one transaction.
    pub fn import_streets_file(
        &mut self,
        path: &Path,
        bytes: &[u8],
        options: &StreetImportOptions,
    ) -> Result<StreetImportReport> {
        let draft = read_street_file(path, bytes, options)?;
        self.import_streets(&draft, options)
    }

    /// Stores a draft network: streets are matched to stored ones by key (a re-import updates
    /// them in place, keeping ids, assignments and signboards), their lines split into segments
    /// no longer than `options.max_segment_m`. All or nothing.
    pub fn import_streets(
        &mut self,
        draft: &NetworkDraft,
        options: &StreetImportOptions,
    ) -> Result<StreetImportReport> {
        self.import_streets_with_cancel(draft, options, &mut |_, _| {}, &AtomicBool::new(false))
    }

    /// Like [`Store::import_streets`], reporting (streets stored, streets in all) to `progress`
    /// every [`crate::streets::STREET_PROGRESS_EVERY`] streets and at the end, and giving up with
    /// [`Error::Interrupted`] at the next street after another thread sets `cancel`: the
    /// transaction is rolled back, so nothing of the file is stored (as a cancelled track import).
    pub fn import_streets_with_cancel(
        &mut self,
        draft: &NetworkDraft,
        options: &StreetImportOptions,
        progress: &mut dyn FnMut(u64, u64),
        cancel: &AtomicBool,
    ) -> Result<StreetImportReport> {
        options.validate()?;
        if draft.streets.is_empty() {
            return Err(StreetsError::NoLineFeatures.into());
        }
        let now = self.clock.now_ms();
        let total = draft.streets.len() as u64;
        let tx = self.conn.transaction()?;
        let report = store::import_draft(&tx, draft, options, now, progress, cancel)?;
        tx.commit()?;
        self.forget_network();
        progress(total, total);
        Ok(report)
    }

    /// Makes `user_id` the chief of a street (replacing the previous chief, whose id is
    /// returned) or adds them as one of its stewards.
    pub fn assign_street(
        &mut self,
        street: StreetId,
        user_id: &str,
        role: Role,
    ) -> Result<Option<String>> {
        let user_id = user_id.trim();
        if user_id.is_empty() || user_id.chars().count() > 100 {
            return Err(Error::InvalidConfig(
                "a user id must be 1 to 100 characters".into(),
            ));
        }
        if !matches!(role, Role::Chief | Role::Steward) {
            return Err(Error::InvalidConfig(format!(
                "streets are assigned to a chief or stewards, not a {role}"
            )));
        }
        self.street(street)?;
        let now = self.clock.now_ms();
        let tx = self.conn.transaction()?;
        let previous = store::assign(&tx, street, user_id, role, now)?;
        tx.commit()?;
        Ok(previous)
    }

    /// Removes a user's assignment to a street; true if there was one.
    pub fn unassign_street(&mut self, street: StreetId, user_id: &str, role: Role) -> Result<bool> {
        store::unassign(&self.conn, street, user_id, role)
    }

    /// Every street, ordered by name (unnamed last), with its assignments.
    pub fn streets(&self) -> Result<Vec<StreetInfo>> {
        store::streets(&self.conn)
    }

    /// One street by id.
    pub fn street(&self, id: StreetId) -> Result<Street> {
        store::street(&self.conn, id)
    }

    /// Whether this store has a street network.
    pub fn has_streets(&self) -> Result<bool> {
        store::has_streets(&self.conn)
    }

    /// The street a record names, for the phone's own reports (issues, pickups, planned
    /// streets): with a street network, an id of it or a name only one street has (a name
    /// stored as an id would reach nobody); without one (a phone before its first sync), the
    /// reference as given. `None` for nothing or blanks.
    pub fn street_of_record(&self, given: Option<&str>) -> Result<Option<String>> {
        store::street_of_record(&self.conn, given)
    }

    /// The street a user means: an id, or a name that only one street has. Refuses a name
    /// several streets have, listing them, and anything in a store without streets.
    pub fn resolve_street(&self, reference: &str) -> Result<StreetId> {
        store::resolve_street(&self.conn, reference)
    }

    /// Every assignment in the store.
    pub fn assignments(&self) -> Result<Vec<Assignment>> {
        store::assignments(&self.conn)
    }

    /// The streets a user answers for, as chief or steward. Assignments made to the user's
    /// name (as a supervisor may type it before ids are known) count too, when this store knows
    /// the user.
    pub fn assignments_of(&self, user_id: &str) -> Result<Vec<Assignment>> {
        store::assignments_of(&self.conn, user_id)
    }

    /// Every segment, WGS-84, ordered by street and ordinal.
    pub fn segments(&self) -> Result<Vec<Segment>> {
        store::segments(&self.conn)
    }

    /// The whole network as GeoJSON (one feature per segment).
    pub fn export_streets_geojson(&self) -> Result<serde_json::Value> {
        store::export_streets_geojson(&self.conn)
    }

    /// Counts of streets and segments and the total length, for summaries.
    pub fn street_totals(&self) -> Result<(u64, u64, f64)> {
        store::street_totals(&self.conn)
    }
}
