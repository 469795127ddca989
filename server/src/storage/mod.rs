//! Storage behind a trait, so the embedded SQLite backend (one file, the default) can be joined by
//! a PostgreSQL one when one machine is not enough. The sync logic (`crate::sync`) runs on a
//! [`Tx`]: a transaction with the primitive reads and writes it needs, nothing backend-specific.

mod schema;
pub mod sqlite;

use patrol_model::domain::StoredFix;
use patrol_model::wire::{LedgerRecord, PatrolRecord, Scope, UserRecord};
use patrol_model::{DeviceId, Role, UserId};

pub use sqlite::SqliteStorage;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "the data folder {path} holds a database of schema version {found}, newer than this server ({supported}); run a newer server"
    )]
    TooNew {
        path: String,
        found: i64,
        supported: i64,
    },
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

pub type StorageResult<T> = Result<T, StorageError>;

/// A storage backend: hands out transactions.
pub trait Storage: Send + Sync + 'static {
    /// A read-write transaction (one at a time; others wait).
    fn write(&self) -> StorageResult<Box<dyn Tx + '_>>;
    /// A read-only snapshot.
    fn read(&self) -> StorageResult<Box<dyn Tx + '_>>;
}

/// A device as authenticated by its token.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceRow {
    pub id: DeviceId,
    pub user: UserRecord,
    pub actor_id: String,
    pub revoked: bool,
}

/// Who may receive a feed item.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedScope {
    pub street_id: Option<String>,
    pub subdistrict_id: Option<String>,
    pub owner_id: Option<String>,
    /// User ids and department names (`city_property`, `enforcement`) it is addressed to.
    pub audience: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FeedRow {
    pub seq: u64,
    pub kind: String,
    pub item_id: String,
    pub scope: FeedScope,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DocRow {
    pub kind: String,
    pub data: Vec<u8>,
    pub heads: Vec<String>,
    pub blobs: Vec<String>,
}

/// What the server believes a device has of a document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceDoc {
    pub confirmed_heads: Option<Vec<String>>,
    pub pending_heads: Option<Vec<String>>,
    pub pending_seq: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BlobRow {
    pub hash: String,
    pub size: u64,
    pub received: u64,
    pub complete: bool,
    /// Whose upload completed it (`None` for photos stored before this was kept).
    pub uploaded_by: Option<UserId>,
}

/// An item an administrator took out of every feed.
#[derive(Debug, Clone, PartialEq)]
pub struct QuarantineRow {
    /// The feed kind: `doc:issue`, `patrol`, `record:points`...
    pub kind: String,
    pub item_id: String,
    pub reason: String,
    pub at_ms: i64,
    /// Where it stood in the feed, to put it back on release.
    pub scope: FeedScope,
}

/// Whether a points entry counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointsStatus {
    Accepted,
    /// A redemption past the automatic limit, waiting for a supervisor.
    Pending,
    Declined,
}

impl PointsStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PointsStatus::Accepted => "accepted",
            PointsStatus::Pending => "pending",
            PointsStatus::Declined => "declined",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "accepted" => Some(PointsStatus::Accepted),
            "pending" => Some(PointsStatus::Pending),
            "declined" => Some(PointsStatus::Declined),
            _ => None,
        }
    }
}

/// A points entry as the server accepted it.
#[derive(Debug, Clone, PartialEq)]
pub struct PointsLedgerRow {
    pub entry_id: String,
    pub user_id: UserId,
    pub kind: String,
    pub source_id: String,
    pub day: String,
    pub points: i64,
    pub status: PointsStatus,
    pub at_ms: i64,
}

/// A resident's report through a signboard page: the issue it became and how to follow it.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicReportRow {
    /// The receipt token, hashed ([`crate::secrets::hash_secret`]).
    pub token_hash: String,
    pub issue_id: String,
    pub signboard_id: String,
    pub street_id: String,
    /// Given for follow-up: only an authorised supervisor reads it unmasked.
    pub contact_phone: Option<String>,
    pub created_at_ms: i64,
}

/// Where a steward application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationStatus {
    Pending,
    Approved,
    Declined,
}

impl ApplicationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationStatus::Pending => "pending",
            ApplicationStatus::Approved => "approved",
            ApplicationStatus::Declined => "declined",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(ApplicationStatus::Pending),
            "approved" => Some(ApplicationStatus::Approved),
            "declined" => Some(ApplicationStatus::Declined),
            _ => None,
        }
    }
}

/// A resident's application to become an alley steward (小巷管家).
#[derive(Debug, Clone, PartialEq)]
pub struct StewardApplicationRow {
    pub id: String,
    /// The applicant's status-page token, hashed.
    pub token_hash: String,
    pub name: String,
    pub phone: String,
    pub street_id: String,
    pub signboard_id: Option<String>,
    pub availability: String,
    pub status: ApplicationStatus,
    /// Why it was declined, in words the applicant reads.
    pub reason: Option<String>,
    pub user_id: Option<UserId>,
    /// The one-time enrolment code made on approval, shown on the applicant's page.
    pub enrol_code: Option<String>,
    pub created_at_ms: i64,
    pub decided_at_ms: Option<i64>,
}

/// One transaction. Dropped without [`Tx::commit`], it rolls back.
pub trait Tx {
    fn commit(self: Box<Self>) -> StorageResult<()>;

    // --- admin structure
    fn set_district(&mut self, id: &str, name: &str, code: Option<&str>) -> StorageResult<()>;
    fn district(&mut self) -> StorageResult<Option<(String, String)>>;
    fn add_subdistrict(&mut self, id: &str, name: &str, code: Option<&str>) -> StorageResult<()>;
    fn subdistricts(&mut self) -> StorageResult<Vec<(String, String, Option<String>)>>;
    fn add_user(&mut self, user: &UserRecord, now_ms: i64) -> StorageResult<()>;
    fn user(&mut self, id: &UserId) -> StorageResult<Option<UserRecord>>;
    fn users(&mut self) -> StorageResult<Vec<UserRecord>>;

    // --- enrolment and devices
    fn add_enrol_code(
        &mut self,
        code_hash: &str,
        user: &UserId,
        now_ms: i64,
        expires_ms: i64,
    ) -> StorageResult<()>;
    /// Marks an unused, unexpired code used; returns its user, or `None`.
    fn use_enrol_code(
        &mut self,
        code_hash: &str,
        device: &DeviceId,
        now_ms: i64,
    ) -> StorageResult<Option<UserId>>;
    /// When an unused code expired, if it exists, is unused and expired by `now_ms`.
    fn enrol_code_expired_at(&mut self, code_hash: &str, now_ms: i64)
    -> StorageResult<Option<i64>>;
    fn add_device(
        &mut self,
        device: &DeviceId,
        user: &UserId,
        actor_id: &str,
        token_hash: &str,
        name: Option<&str>,
        now_ms: i64,
    ) -> StorageResult<()>;
    fn device_by_token(&mut self, token_hash: &str) -> StorageResult<Option<DeviceRow>>;
    fn touch_device(&mut self, device: &DeviceId, now_ms: i64) -> StorageResult<()>;
    /// Revokes one device, or every device of a user; returns how many.
    fn revoke_devices(
        &mut self,
        device: Option<&DeviceId>,
        user: Option<&UserId>,
        now_ms: i64,
    ) -> StorageResult<usize>;

    // --- reference data
    fn put_street(
        &mut self,
        id: &str,
        name: &str,
        subdistrict_id: Option<&str>,
    ) -> StorageResult<()>;
    fn street_subdistrict(&mut self, street_id: &str) -> StorageResult<Option<Option<String>>>;
    fn streets_named(&mut self, name: &str) -> StorageResult<Vec<String>>;
    /// Streets of a subdistrict (or of none) as (id, name), by name, at most `limit`.
    fn street_names(
        &mut self,
        subdistrict_id: Option<&str>,
        limit: usize,
    ) -> StorageResult<Vec<(String, String)>>;
    fn put_reference(
        &mut self,
        tbl: &str,
        id: &str,
        street_id: Option<&str>,
        body: &serde_json::Value,
        deleted: bool,
    ) -> StorageResult<()>;
    fn reference(
        &mut self,
        tbl: &str,
        id: &str,
    ) -> StorageResult<Option<(serde_json::Value, bool)>>;
    /// Every row of a reference table that is not deleted, by id.
    fn references(&mut self, tbl: &str) -> StorageResult<Vec<(String, serde_json::Value)>>;
    /// The secret half of the district's newest signboard key, if it has one.
    fn district_secret_key(&mut self) -> StorageResult<Option<[u8; 32]>>;
    fn put_district_key(
        &mut self,
        public_key: &[u8; 32],
        secret_key: &[u8; 32],
        now_ms: i64,
    ) -> StorageResult<()>;
    fn set_assignment(
        &mut self,
        street_id: &str,
        user: &UserId,
        role: Role,
        assigned: bool,
    ) -> StorageResult<()>;
    fn streets_of_user(&mut self, user: &UserId) -> StorageResult<Vec<String>>;
    fn feed_items_of_street(&mut self, street_id: &str) -> StorageResult<Vec<(String, String)>>;

    // --- feed
    /// Moves `(kind, item_id)` to the head of the feed with this scope; returns its new seq.
    fn feed_touch(&mut self, kind: &str, item_id: &str, scope: &FeedScope) -> StorageResult<u64>;
    fn feed_after(&mut self, cursor: u64, limit: usize) -> StorageResult<Vec<FeedRow>>;
    fn feed_head(&mut self) -> StorageResult<u64>;
    fn feed_row(&mut self, kind: &str, item_id: &str) -> StorageResult<Option<FeedRow>>;

    // --- documents
    fn doc(&mut self, id: &str) -> StorageResult<Option<DocRow>>;
    /// A document's heads without its bytes (a page that remembers folds by heads reads only
    /// these).
    fn doc_heads(&mut self, id: &str) -> StorageResult<Option<Vec<String>>>;
    fn put_doc(
        &mut self,
        id: &str,
        kind: &str,
        data: &[u8],
        heads: &[String],
        blobs: &[String],
        now_ms: i64,
    ) -> StorageResult<()>;
    /// Every document of `kind` (`issue`, `merchant`), by id: what reports read.
    fn docs_of_kind(&mut self, kind: &str) -> StorageResult<Vec<(String, DocRow)>>;
    fn device_doc(&mut self, device: &DeviceId, doc: &str) -> StorageResult<DeviceDoc>;
    fn set_device_doc(
        &mut self,
        device: &DeviceId,
        doc: &str,
        state: &DeviceDoc,
    ) -> StorageResult<()>;
    /// Promotes every pending entry sent at or before `cursor` to confirmed.
    fn confirm_device_docs(&mut self, device: &DeviceId, cursor: u64) -> StorageResult<usize>;

    // --- patrols, fixes, records
    fn put_patrol(&mut self, patrol: &PatrolRecord, now_ms: i64) -> StorageResult<()>;
    fn patrol(&mut self, id: &str) -> StorageResult<Option<PatrolRecord>>;
    /// Patrols started in `[from_ms, to_ms)`, oldest first: what reports read.
    fn patrols_started_between(
        &mut self,
        from_ms: i64,
        to_ms: i64,
    ) -> StorageResult<Vec<PatrolRecord>>;
    /// How many fixes the device says the patrol has (from its summary), kept apart from the
    /// header, whose summary is the server's own.
    fn set_patrol_fix_claim(&mut self, id: &str, claim: Option<i64>) -> StorageResult<()>;
    fn patrol_fix_claim(&mut self, id: &str) -> StorageResult<Option<i64>>;
    /// Inserts fixes (existing seqs are left as they are); returns the contiguous high-water mark.
    fn insert_fixes(&mut self, patrol: &str, fixes: &[StoredFix]) -> StorageResult<i64>;
    fn fix_mark(&mut self, patrol: &str) -> StorageResult<i64>;
    fn fixes(&mut self, patrol: &str, from_seq: i64, limit: usize)
    -> StorageResult<Vec<StoredFix>>;
    /// Inserts a record unless one with its kind and id exists; true when inserted.
    fn put_record(&mut self, record: &LedgerRecord) -> StorageResult<bool>;
    fn record(&mut self, kind: &str, id: &str) -> StorageResult<Option<LedgerRecord>>;

    // --- quarantine
    /// Takes an item out of the feed (every device stops receiving it) and records why.
    fn quarantine(&mut self, row: &QuarantineRow) -> StorageResult<()>;
    /// Puts a quarantined item back in the feed (at a new seq); returns whether it was held.
    fn release(&mut self, kind: &str, item_id: &str) -> StorageResult<bool>;
    fn quarantined(&mut self, kind: &str, item_id: &str) -> StorageResult<Option<QuarantineRow>>;
    fn quarantine_list(&mut self) -> StorageResult<Vec<QuarantineRow>>;

    // --- the points ledger as accepted
    fn put_points(&mut self, row: &PointsLedgerRow) -> StorageResult<()>;
    fn points_entry(&mut self, entry_id: &str) -> StorageResult<Option<PointsLedgerRow>>;
    /// Whether the user has an entry (of any status but declined) for this kind and source.
    fn points_credited(
        &mut self,
        user: &UserId,
        kind: &str,
        source_id: &str,
    ) -> StorageResult<bool>;
    /// The sum of a user's accepted and pending entries, of one kind on one day or of all.
    fn points_sum(&mut self, user: &UserId, kind_day: Option<(&str, &str)>) -> StorageResult<i64>;
    fn points_pending(&mut self) -> StorageResult<Vec<PointsLedgerRow>>;
    fn set_points_status(&mut self, entry_id: &str, status: PointsStatus) -> StorageResult<bool>;

    // --- blobs (metadata; bytes are files)
    fn blob(&mut self, hash: &str) -> StorageResult<Option<BlobRow>>;
    fn put_blob(&mut self, blob: &BlobRow, now_ms: i64) -> StorageResult<()>;
    /// The items referring to a photo, as (feed kind, item id): filled by [`Tx::put_doc`] from a
    /// document's `blobs` and by [`Tx::put_record`] from a pickup's `photo_sha256`.
    fn blob_refs(&mut self, hash: &str) -> StorageResult<Vec<(String, String)>>;
    /// One device's upload of a photo in progress (`complete` is always false).
    fn blob_upload(&mut self, hash: &str, device: &DeviceId) -> StorageResult<Option<BlobRow>>;
    fn put_blob_upload(
        &mut self,
        device: &DeviceId,
        upload: &BlobRow,
        now_ms: i64,
    ) -> StorageResult<()>;
    fn delete_blob_upload(&mut self, hash: &str, device: &DeviceId) -> StorageResult<()>;

    // --- the public's door
    /// A setting or secret the server keeps for itself (the form key, the public desk).
    fn site_setting(&mut self, name: &str) -> StorageResult<Option<Vec<u8>>>;
    fn put_site_setting(&mut self, name: &str, value: &[u8]) -> StorageResult<()>;
    /// Who is assigned to a street, as (user, role).
    fn street_assignees(&mut self, street_id: &str) -> StorageResult<Vec<(UserId, Role)>>;
    fn put_public_report(&mut self, row: &PublicReportRow) -> StorageResult<()>;
    fn public_report(&mut self, token_hash: &str) -> StorageResult<Option<PublicReportRow>>;
    /// Reports made since `from_ms`, newest first, at most `limit`.
    fn public_reports(&mut self, from_ms: i64, limit: usize)
    -> StorageResult<Vec<PublicReportRow>>;
    /// Inserts an application or updates the one with its id.
    fn put_steward_application(&mut self, row: &StewardApplicationRow) -> StorageResult<()>;
    fn steward_application(&mut self, id: &str) -> StorageResult<Option<StewardApplicationRow>>;
    fn steward_application_by_token(
        &mut self,
        token_hash: &str,
    ) -> StorageResult<Option<StewardApplicationRow>>;
    /// Applications, oldest first; only those with `status` when given.
    fn steward_applications(
        &mut self,
        status: Option<ApplicationStatus>,
    ) -> StorageResult<Vec<StewardApplicationRow>>;
}

/// The scope a user's record says, with `Own` for roles that only see their own and assigned.
pub fn default_scope(role: Role) -> Scope {
    match role {
        Role::Supervisor => Scope::District,
        _ => Scope::Own,
    }
}
