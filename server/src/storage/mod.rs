//! Storage behind a trait, so the embedded SQLite backend (one file, the default) can be joined by
//! a PostgreSQL one when one machine is not enough. The sync logic (`crate::sync`) runs on a
//! [`Tx`]: a transaction with the primitive reads and writes it needs, nothing backend-specific.

mod schema;
pub mod sqlite;
mod sqlite_office;

use patrol_model::domain::StoredFix;
use patrol_model::domain::{IssueEventKind, IssueStatus};
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

/// A device as a person's data export lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceSummary {
    pub id: DeviceId,
    /// The label the phone sent when it enrolled.
    pub name: Option<String>,
    pub created_at_ms: i64,
    pub last_seen_ms: Option<i64>,
    pub revoked_at_ms: Option<i64>,
}

/// An office session as a person's data export lists it (its token and form token left out).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSummary {
    pub created_at_ms: i64,
    pub last_seen_ms: i64,
    pub expires_at_ms: i64,
    pub address: Option<String>,
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

/// A person's office (web) sign-in: their password as an Argon2id PHC string, never in clear.
#[derive(Debug, Clone, PartialEq)]
pub struct OfficeLoginRow {
    pub user_id: UserId,
    pub password_hash: String,
    /// May read the audit log and see every subdistrict's contact phones.
    pub is_admin: bool,
    pub set_at_ms: i64,
    /// Wrong passwords since the last good one.
    pub failed_count: u32,
    pub locked_until_ms: Option<i64>,
}

/// A signed-in browser. The cookie holds the token; only its hash is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct OfficeSessionRow {
    pub token_hash: String,
    pub user_id: UserId,
    /// Every form of this session carries it.
    pub csrf_token: String,
    pub created_at_ms: i64,
    pub last_seen_ms: i64,
    pub expires_at_ms: i64,
    pub address: Option<String>,
}

/// One action taken through the office platform: who, what, when, from where.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRow {
    /// Assigned on insert (0 before).
    pub seq: i64,
    pub at_ms: i64,
    pub user_id: Option<UserId>,
    pub action: String,
    pub target: Option<String>,
    pub detail: String,
    pub address: Option<String>,
}

/// An issue as the office lists it: its document folded, kept beside the document and
/// refreshed when the document's heads move.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueIndexRow {
    pub id: String,
    /// The document's heads this row was folded from.
    pub heads: Vec<String>,
    pub status: IssueStatus,
    pub category: String,
    pub description: String,
    pub street_id: Option<String>,
    pub subdistrict_id: Option<String>,
    pub lat: f64,
    pub lon: f64,
    pub reporter_role: Role,
    pub reporter_id: String,
    /// The events the fold applied, in order, as (kind, HLC wall time): what reports read.
    pub applied: Vec<(IssueEventKind, i64)>,
    /// Who holds it now, as `Assignee` strings.
    pub assignees: Vec<String>,
    pub reported_at_ms: i64,
    pub updated_at_ms: i64,
    /// When its current round is due (the category's due time after the round began).
    pub due_at_ms: i64,
    /// When the resolve and the verify that stand were made (HLC wall time).
    pub resolved_at_ms: Option<i64>,
    pub verified_at_ms: Option<i64>,
    pub photo_count: u32,
}

/// How a queue is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IssueSort {
    #[default]
    Newest,
    Oldest,
    /// Soonest due first (the most overdue on top).
    Due,
    /// Most recently changed first.
    Updated,
}

/// Which issues a queue holds; every field narrows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IssueQuery {
    pub status: Option<IssueStatus>,
    pub open: Option<bool>,
    pub category: Option<String>,
    /// `Some(None)`: issues on no subdistrict's street.
    pub subdistrict_id: Option<Option<String>>,
    pub street_id: Option<String>,
    /// Open and due before this time.
    pub overdue_at_ms: Option<i64>,
    pub reporter_role: Option<Role>,
    pub reported_from_ms: Option<i64>,
    pub reported_to_ms: Option<i64>,
    pub sort: IssueSort,
    pub offset: u64,
    pub limit: u64,
}

/// Issue counts of one subdistrict (`None`: streets of no subdistrict) over a period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssueCounts {
    pub subdistrict_id: Option<String>,
    pub open: u64,
    pub overdue: u64,
    pub reported: u64,
    pub resolved: u64,
    pub verified: u64,
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
    /// Every device a user enrolled, revoked ones too, oldest first.
    fn devices_of_user(&mut self, user: &UserId) -> StorageResult<Vec<DeviceSummary>>;
    /// Every patrol of a user, oldest first.
    fn patrols_of_user(&mut self, user: &UserId) -> StorageResult<Vec<PatrolRecord>>;
    /// Every ledger record (pickups, points entries) of a user, quarantined ones too.
    fn records_of_user(&mut self, user: &UserId) -> StorageResult<Vec<LedgerRecord>>;
    /// A user's office sessions still held, oldest first.
    fn office_sessions_of(&mut self, user: &UserId) -> StorageResult<Vec<SessionSummary>>;

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
    /// Every record of a kind (`pickup`, `points`) not taken out of the feed, by id: what
    /// reports read.
    fn records_of_kind(&mut self, kind: &str) -> StorageResult<Vec<LedgerRecord>>;

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
    /// The resident's report an issue came from, if it came through a signboard page.
    fn public_report_of_issue(&mut self, issue_id: &str) -> StorageResult<Option<PublicReportRow>>;
    /// Forgets the contact phone of the resident's report an issue came from; true when there
    /// was one.
    fn erase_contact_phone(&mut self, issue_id: &str) -> StorageResult<bool>;
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

    // --- the office platform
    fn office_login(&mut self, user: &UserId) -> StorageResult<Option<OfficeLoginRow>>;
    /// Inserts or replaces a user's sign-in.
    fn put_office_login(&mut self, row: &OfficeLoginRow) -> StorageResult<()>;
    fn put_office_session(&mut self, row: &OfficeSessionRow) -> StorageResult<()>;
    fn office_session(&mut self, token_hash: &str) -> StorageResult<Option<OfficeSessionRow>>;
    fn touch_office_session(&mut self, token_hash: &str, now_ms: i64) -> StorageResult<()>;
    fn delete_office_session(&mut self, token_hash: &str) -> StorageResult<()>;
    /// Ends every session of a user (a new password, a revoked person); returns how many.
    fn delete_office_sessions_of(&mut self, user: &UserId) -> StorageResult<usize>;
    /// Appends to the audit log; returns the entry's seq.
    fn put_audit(&mut self, row: &AuditRow) -> StorageResult<i64>;
    /// The newest entries before `before_seq` (all when `None`), newest first.
    fn audit(&mut self, before_seq: Option<i64>, limit: usize) -> StorageResult<Vec<AuditRow>>;
    /// Issue documents whose index row is missing or was folded from other heads.
    fn stale_issue_index(&mut self) -> StorageResult<Vec<String>>;
    fn put_issue_index(&mut self, row: &IssueIndexRow) -> StorageResult<()>;
    /// Empties the index (the categories' due times changed: every row is folded again).
    fn clear_issue_index(&mut self) -> StorageResult<()>;
    fn issue_index(&mut self, id: &str) -> StorageResult<Option<IssueIndexRow>>;
    /// One page of the queue, and how many issues the query holds in all.
    fn issue_index_query(&mut self, q: &IssueQuery) -> StorageResult<(Vec<IssueIndexRow>, u64)>;
    /// Counts per subdistrict (only `subdistrict_id`'s when given): open and overdue at `now_ms`;
    /// reported, resolved and verified in `[from_ms, to_ms)`.
    fn issue_counts(
        &mut self,
        subdistrict_id: Option<&str>,
        from_ms: i64,
        to_ms: i64,
        now_ms: i64,
    ) -> StorageResult<Vec<IssueCounts>>;
    /// Patrols started in `[from_ms, to_ms)` per user: (user, patrols, seconds patrolled: the
    /// summary's duration, else stop minus start).
    fn patrol_time_by_user(
        &mut self,
        from_ms: i64,
        to_ms: i64,
    ) -> StorageResult<Vec<(UserId, u64, f64)>>;
    /// How many patrols started in `[from_ms, to_ms)` and the latest time one of them changed.
    fn patrols_changed_between(&mut self, from_ms: i64, to_ms: i64) -> StorageResult<(u64, i64)>;
    /// Up to `limit` complete patrols (stopped, the server's own summary written once every fix
    /// came) with no kept coverage for `network_version`.
    fn patrols_unmeasured(
        &mut self,
        network_version: i64,
        limit: usize,
    ) -> StorageResult<Vec<PatrolRecord>>;
    /// A patrol's kept coverage: (fix mark, network version, bytes).
    fn patrol_coverage(&mut self, patrol_id: &str) -> StorageResult<Option<(i64, i64, Vec<u8>)>>;
    fn put_patrol_coverage(
        &mut self,
        patrol_id: &str,
        fix_mark: i64,
        network_version: i64,
        data: &[u8],
    ) -> StorageResult<()>;
    /// Litter pickups made in `[from_ms, to_ms)` (on `subdistrict_id`'s streets when given), as
    /// (pickups, bags).
    fn pickup_counts(
        &mut self,
        subdistrict_id: Option<&str>,
        from_ms: i64,
        to_ms: i64,
    ) -> StorageResult<(u64, u64)>;
}

/// The scope a user's record says, with `Own` for roles that only see their own and assigned.
pub fn default_scope(role: Role) -> Scope {
    match role {
        Role::Supervisor => Scope::District,
        _ => Scope::Own,
    }
}
