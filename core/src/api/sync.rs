//! Sync's local half on this store: the account, what to upload next, storing what the server
//! answered, photo originals and ledger records ([`crate::sync`]). The HTTP client calls these.

use std::collections::BTreeMap;

use crate::domain::{PatrolId, StoredFix};
use crate::error::Result;
use crate::patrol::PatrolInfo;
use crate::store::{DeviceIdentity, Store, cipher};
use crate::sync::docs::{self, RejectedDoc};
use crate::sync::engine::{
    self, Account, Applied, DOC_UPLOADS_PER_REQUEST, RECORD_UPLOADS_PER_REQUEST, SetAside,
};
use crate::sync::reference::{self, StreetBundle};
use crate::sync::wire::{
    DocDownload, EnrolResponse, PROTOCOL_VERSION, PatrolRecord, SyncRequest, SyncResponse,
};
use crate::sync::{blobs, records};

impl Store {
    /// The sync account, or `None` before enrolment.
    pub fn sync_account(&self) -> Result<Option<Account>> {
        let Some(mut account) = engine::sync_account(&self.conn)? else {
            return Ok(None);
        };
        account.token = cipher::sync_token(account.token, self.config.protection.secrets())?;
        Ok(Some(account))
    }

    /// Reference rows received from the server, by table.
    pub fn reference_rows(&self, table: &str) -> Result<Vec<serde_json::Value>> {
        engine::reference_rows(&self.conn, table)
    }

    /// Items received from the server that this device set aside, oldest first.
    pub fn set_aside_items(&self) -> Result<Vec<SetAside>> {
        engine::set_aside_items(&self.conn)
    }

    /// Counts of what this store holds that came from or went to the server.
    pub fn sync_counts(&self) -> Result<BTreeMap<&'static str, i64>> {
        engine::sync_counts(&self.conn)
    }

    /// Synced patrols whose fixes the server holds further than this store: (patrol, from seq,
    /// server next seq).
    pub fn fixes_to_download(&self) -> Result<Vec<(PatrolId, i64, i64)>> {
        engine::fixes_to_download(&self.conn)
    }

    /// The sync account, or [`crate::Error::NotEnrolled`].
    pub fn require_account(&self) -> Result<Account> {
        self.sync_account()?.ok_or(crate::Error::NotEnrolled)
    }

    /// Sets this store up as the device the server just enrolled: its user, its device id and
    /// actor, and the account. A fresh store becomes that device; a store that already belongs
    /// to the same user takes the new token; any other store is refused untouched.
    pub fn apply_enrolment(
        &mut self,
        server_url: &str,
        resp: &EnrolResponse,
    ) -> Result<DeviceIdentity> {
        let now = self.clock.now_ms();
        let tx = self.conn.transaction()?;
        // Checked before the token is kept: the secret store is no part of the transaction.
        engine::refuse_another_owner(&tx, resp)?;
        let kept = cipher::keep_token(self.config.protection.secrets(), &resp.token)?;
        engine::apply_enrolment(&tx, server_url, resp, &kept, now)?;
        tx.commit()?;
        self.recorders.clear();
        self.require_device()
    }

    /// Own patrols whose header the server has not confirmed as it is now.
    pub fn patrols_to_upload(&self) -> Result<Vec<PatrolRecord>> {
        let me = self.require_device()?;
        engine::patrols_to_upload(&self.conn, &me)
    }

    /// The next sync request: the cursor and everything not yet confirmed by the server (at
    /// most [`DOC_UPLOADS_PER_REQUEST`] documents and [`RECORD_UPLOADS_PER_REQUEST`] records;
    /// the rest goes in the next).
    pub fn next_sync_request(&mut self, max_entries: Option<u32>) -> Result<SyncRequest> {
        let account = self.require_account()?;
        let tx = self.conn.transaction()?;
        docs::mark_pending_docs(&tx)?;
        tx.commit()?;
        let me = self.require_device()?;
        Ok(SyncRequest {
            protocol: PROTOCOL_VERSION,
            cursor: account.cursor,
            docs: docs::docs_to_upload(&self.conn, &me.actor_id, DOC_UPLOADS_PER_REQUEST)?,
            patrols: self.patrols_to_upload()?,
            records: records::records_to_upload(&self.conn, &me, RECORD_UPLOADS_PER_REQUEST)?,
            max_entries,
            refetch: self.docs_to_refetch()?,
        })
    }

    /// Stores one sync response in one transaction: confirms what `sent` uploaded, stores what
    /// came down, and moves the cursor. Either all of it is stored or none (and the same
    /// response can then be applied again).
    pub fn apply_sync_response(
        &mut self,
        sent: &SyncRequest,
        resp: &SyncResponse,
    ) -> Result<Applied> {
        let me = self.require_device()?;
        let now = self.clock.now_ms();
        let mut applied = Applied::default();
        // Documents merge a few hundred to a transaction (each is idempotent); the cursor moves only
        // after all of them are stored.
        applied.docs += self.store_doc_downloads(&resp.docs, false, &mut applied.set_aside)?;
        applied.docs += self.store_doc_downloads(&resp.refetched, true, &mut applied.set_aside)?;
        if !resp.accepted.is_empty() {
            // One transaction for the lot (reads go through the same connection).
            let tx = self.conn.unchecked_transaction()?;
            docs::confirm_docs(&self.conn, &me.actor_id, &resp.accepted)?;
            tx.commit()?;
        }
        let mut tx = self.conn.transaction()?;
        let network_changed = engine::apply_response(&mut tx, &me, sent, resp, now, &mut applied)?;
        tx.commit()?;
        if network_changed {
            self.forget_network();
        }
        Ok(applied)
    }

    /// Merges documents that came down, a few hundred to a transaction (each document in a
    /// savepoint of its own); one that cannot be applied (this device lacks what it builds on)
    /// is marked to be fetched whole. Returns how many were applied.
    pub(crate) fn store_doc_downloads(
        &mut self,
        downloads: &[DocDownload],
        whole: bool,
        set_aside: &mut Vec<SetAside>,
    ) -> Result<u64> {
        let mut merge = self.issue_merge()?;
        let mut applied = 0;
        for part in downloads.chunks(docs::DOCS_PER_TRANSACTION) {
            let mut tx = self.conn.transaction()?;
            applied += docs::store_doc_part(&mut tx, &mut merge, part, whole, set_aside)?;
            tx.commit()?;
        }
        Ok(applied)
    }

    /// Own patrols with fixes the server lacks: (patrol, first seq to send, local next seq).
    pub fn fixes_to_upload(&self) -> Result<Vec<(PatrolId, i64, i64)>> {
        let me = self.require_device()?;
        engine::fixes_to_upload(&self.conn, &me)
    }

    /// Fixes of a patrol from `from_seq`, at most `limit`.
    pub fn fixes_from(&self, id: PatrolId, from_seq: i64, limit: usize) -> Result<Vec<StoredFix>> {
        let all = self.fixes(id)?;
        Ok(all
            .into_iter()
            .filter(|f| f.seq >= from_seq)
            .take(limit)
            .collect())
    }

    /// Records the server's fix high-water mark of an own patrol after an upload.
    pub fn set_server_fix_mark(&mut self, id: PatrolId, next_seq: i64) -> Result<()> {
        engine::set_server_fix_mark(&self.conn, id, next_seq)
    }

    /// Stores fixes of a synced patrol downloaded from the server (idempotent).
    pub fn store_synced_fixes(&mut self, id: PatrolId, fixes: &[StoredFix]) -> Result<()> {
        let tx = self.conn.transaction()?;
        engine::store_synced_fixes(&tx, id, fixes)?;
        tx.commit()?;
        Ok(())
    }

    /// The wire form of a patrol header, with its check-ins.
    pub fn patrol_record(&self, p: &PatrolInfo) -> Result<PatrolRecord> {
        engine::patrol_record_with_check_ins(&self.conn, p)
    }

    /// Documents to ask for whole again.
    pub(crate) fn docs_to_refetch(&self) -> Result<Vec<String>> {
        docs::docs_to_refetch(&self.conn)
    }

    /// Marks a document the server refused; it is left out of uploads from now on.
    pub(crate) fn reject_doc(&mut self, id: &str, reason: &str) -> Result<()> {
        docs::reject_doc(&self.conn, id, reason)
    }

    /// Marks a patrol header or record the server refused.
    pub(crate) fn reject_item(&mut self, kind: &str, id: &str, reason: &str) -> Result<()> {
        docs::reject_item(&self.conn, kind, id, reason)
    }

    /// Everything the server refused (documents, patrol headers, records), with the reasons.
    pub fn rejected_items(&self) -> Result<Vec<RejectedDoc>> {
        docs::rejected_items(&self.conn)
    }

    /// Photos stored here that the server is not known to have (their hashes).
    pub(crate) fn photos_to_upload(&self) -> Result<Vec<String>> {
        blobs::photos_not_on_server(&self.conn)
    }

    pub(crate) fn mark_blob_on_server(&mut self, sha: &str) -> Result<()> {
        blobs::mark_blob_on_server(&self.conn, sha)
    }

    /// Originals wanted here (a document refers to them) that are not here yet.
    pub(crate) fn wanted_photos(&self) -> Result<Vec<String>> {
        blobs::wanted_photos(&self.conn)
    }

    /// Stores a downloaded original after checking it is the photo it was asked as.
    pub(crate) fn store_downloaded_photo(&mut self, sha: &str, bytes: &[u8]) -> Result<()> {
        blobs::check_download(sha, bytes)?;
        self.attach_photo_bytes(std::path::Path::new(sha), bytes.to_vec())?;
        blobs::mark_downloaded(&self.conn, sha)
    }

    /// Every street of this store with its segments, as the server publishes them.
    pub fn street_bundles(&self) -> Result<Vec<StreetBundle>> {
        reference::street_bundles(&self.conn)
    }
}
