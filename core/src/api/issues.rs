//! Issues: report, comment, show, list, and moving documents between devices
//! ([`crate::issues`]).

use std::path::Path;

use automerge::ChangeHash;

use crate::domain::{IssueId, PhotoStage};
use crate::error::{Error, Result};
use crate::issues::storage::{self, NewReport, Writer};
use crate::issues::sync::{self, ChangedIssue, IssueMerge};
use crate::issues::{
    self, Catalog, IssueLocation, IssueQuery, IssueSummary, IssueView, MAX_POSSIBLE_DUPLICATES,
    NewIssue, PhotoRef, ReportOutcome, duplicates_query, projection,
};
use crate::store::{DeviceIdentity, Store};

impl Store {
    /// The categories this store knows: the built-in ones and those added to it.
    pub fn issue_catalog(&self) -> Result<Catalog> {
        issues::load_catalog(&self.conn)
    }

    /// Adds a custom category (or changes the due time of one added before).
    pub fn add_issue_category(
        &mut self,
        code: &str,
        name_zh: &str,
        name_en: &str,
        due_hours: u32,
    ) -> Result<()> {
        let code = issues::check_new_category(code, due_hours)?;
        storage::upsert_category(&self.conn, &code, name_zh, name_en, due_hours)
    }

    /// Reports an issue as this device's user: one new document holding the report event and
    /// the before-photos. Also returns the open issues of the same category within
    /// [`issues::DUPLICATE_RADIUS_M`], which may be the same problem.
    pub fn report_issue(&mut self, new: NewIssue) -> Result<ReportOutcome> {
        let me = self.require_device()?;
        let catalog = self.issue_catalog()?;
        let category = catalog.parse(&new.category)?;
        let (lat, lon, description) = issues::check_new_issue(&new)?;
        // With a street network in the store, an issue reported without a street lands on the
        // street (and segment) its location matches, so it reaches that street's chief.
        // A street given is an id of the network or a name only one street has.
        let mut street_id = self.street_of_record(new.street_id.as_deref())?;
        let mut segment_id = issues::clean_opt(new.segment_id);
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
        let report = NewReport {
            id: IssueId::new(),
            category: &category,
            description: &description,
            location: &location,
            photos: &photos,
        };
        let w = Writer {
            me: &me,
            catalog: &catalog,
            now_ms: now,
        };
        let tx = self.conn.transaction()?;
        let view = storage::insert_report(&tx, &w, &report)?;
        tx.commit()?;
        Ok(ReportOutcome {
            issue: view,
            possible_duplicates,
        })
    }

    /// An issue in full, folded from its document.
    pub fn issue(&self, id: IssueId) -> Result<IssueView> {
        let catalog = self.issue_catalog()?;
        storage::issue(&self.conn, id, &catalog, self.clock.now_ms())
    }

    /// The open issues of the same category within [`issues::DUPLICATE_RADIUS_M`] of issue
    /// `id`, nearest first, leaving it out: what a chief looks at before marking it a duplicate
    /// (reporting returns the same list for the new issue).
    pub fn possible_duplicates(&self, id: IssueId) -> Result<Vec<IssueSummary>> {
        let (category, lat, lon) = storage::category_and_location(&self.conn, id)?;
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
        let text = issues::check_comment(text)?;
        let now = self.clock.now_ms();
        let catalog = self.issue_catalog()?;
        let w = Writer {
            me: &me,
            catalog: &catalog,
            now_ms: now,
        };
        let tx = self.conn.transaction()?;
        let view = storage::append_comment(&tx, &w, id, text)?;
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
        let w = Writer {
            me: &me,
            catalog: &catalog,
            now_ms: now,
        };
        let tx = self.conn.transaction()?;
        let view = storage::append_photo(&tx, &w, id, &photo)?;
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
        Ok(issues::photo_ref(
            info,
            thumbnail,
            stage,
            me,
            fallback_location,
        ))
    }

    /// The heads of an issue's document as this store has them.
    pub fn issue_heads(&self, id: IssueId) -> Result<Vec<ChangeHash>> {
        sync::issue_heads(&self.conn, id)
    }

    /// The changes of an issue's document that a peer with `heads` lacks, concatenated (empty
    /// when it has them all). Heads this store does not know are ignored, so everything past
    /// the known part is sent.
    pub fn issue_changes_since(&self, id: IssueId, heads: &[ChangeHash]) -> Result<Vec<u8>> {
        sync::changes_since(&self.conn, id, heads)
    }

    /// This device's own changes (by `actor`, hex) that a peer with `heads` lacks, one change's
    /// bytes each: what a device uploads to the sync server, which takes only a device's own
    /// changes (others' changes travel through their own devices).
    pub fn issue_own_changes_since(
        &self,
        id: IssueId,
        heads: &[ChangeHash],
        actor: &str,
    ) -> Result<Vec<Vec<u8>>> {
        sync::own_changes_since(&self.conn, id, heads, actor)
    }

    /// The whole document, compacted: what `patrol issue export` writes.
    pub fn export_issue(&self, id: IssueId) -> Result<Vec<u8>> {
        sync::export_issue(&self.conn, id)
    }

    /// Writes the whole document to `path` (whole or not at all; an existing file is replaced),
    /// for handing over by file or share sheet. Returns the bytes written.
    pub fn export_issue_file(&self, id: IssueId, path: &Path) -> Result<u64> {
        let bytes = self.export_issue(id)?;
        crate::files::write_atomically(path, &bytes)?;
        Ok(bytes.len() as u64)
    }

    /// What merging issue documents needs, read once for a whole batch of documents.
    pub(crate) fn issue_merge(&self) -> Result<IssueMerge> {
        let me = self.require_device()?;
        IssueMerge::new(&self.conn, me, self.clock.now_ms())
    }

    /// Issues whose document changed after `cursor` (local edits and merges, or with
    /// `local_only` only this device's own edits), oldest change first, at most `limit`.
    pub fn issues_changed_since(
        &self,
        cursor: i64,
        local_only: bool,
        limit: u32,
    ) -> Result<Vec<ChangedIssue>> {
        sync::issues_changed_since(&self.conn, cursor, local_only, limit)
    }
}
