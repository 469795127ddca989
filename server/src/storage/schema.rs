//! The server's SQLite schema, as numbered steps recorded in `user_version`.

pub const SCHEMA_VERSION: i64 = 7;

pub fn step(version: i64) -> &'static str {
    match version {
        1 => V1,
        2 => V2,
        3 => V3_TRUST,
        4 => V4_DISTRICT_KEY,
        5 => V5_PUBLIC,
        6 => V6_OFFICE,
        7 => V7_COVERAGE,
        _ => "",
    }
}

const V1: &str = r#"
CREATE TABLE district (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    id        TEXT NOT NULL,
    name      TEXT NOT NULL,
    code      TEXT
);

CREATE TABLE subdistrict (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    code TEXT
);

CREATE TABLE user (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    scope         TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);

-- One-time enrolment codes, stored hashed.
CREATE TABLE enrol_code (
    code_hash     TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES user(id),
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    used_at_ms    INTEGER,
    used_by       TEXT
);

-- Enrolled devices: bearer tokens stored hashed, each bound to one Automerge actor.
CREATE TABLE device (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES user(id),
    actor_id      TEXT NOT NULL UNIQUE,
    token_hash    TEXT NOT NULL UNIQUE,
    name          TEXT,
    created_at_ms INTEGER NOT NULL,
    revoked_at_ms INTEGER,
    last_seen_ms  INTEGER
);

-- The change feed: one row per item, moved to a new seq whenever the item changes. Its scope
-- columns let the server filter what each device may receive.
CREATE TABLE feed (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind           TEXT NOT NULL,
    item_id        TEXT NOT NULL,
    street_id      TEXT,
    subdistrict_id TEXT,
    owner_id       TEXT,
    -- space-separated user ids and departments the item is addressed to
    audience       TEXT NOT NULL DEFAULT '',
    UNIQUE (kind, item_id)
);
CREATE INDEX feed_by_street ON feed (street_id, seq);

-- CRDT documents, compacted.
CREATE TABLE doc (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    data          BLOB NOT NULL,
    heads         TEXT NOT NULL,
    -- photos (SHA-256) the document refers to, space-separated
    blobs         TEXT NOT NULL DEFAULT '',
    updated_at_ms INTEGER NOT NULL
);

-- What each device has of each document: confirmed heads, and heads sent but not yet confirmed
-- (confirmed once the device's cursor passes pending_seq).
CREATE TABLE device_doc (
    device_id       TEXT NOT NULL,
    doc_id          TEXT NOT NULL,
    confirmed_heads TEXT,
    pending_heads   TEXT,
    pending_seq     INTEGER,
    PRIMARY KEY (device_id, doc_id)
) WITHOUT ROWID;
CREATE INDEX device_doc_pending ON device_doc (device_id, pending_seq) WHERE pending_seq IS NOT NULL;

CREATE TABLE patrol (
    row_id     INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    user_id    TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL
);

CREATE TABLE fix (
    patrol_row  INTEGER NOT NULL REFERENCES patrol(row_id),
    seq         INTEGER NOT NULL,
    segment     INTEGER NOT NULL,
    time_ms     INTEGER,
    lat         REAL NOT NULL,
    lon         REAL NOT NULL,
    accuracy_m  REAL,
    altitude_m  REAL,
    speed_mps   REAL,
    bearing_deg REAL,
    provider    TEXT,
    is_mock     INTEGER NOT NULL,
    verdict     TEXT NOT NULL,
    PRIMARY KEY (patrol_row, seq)
) WITHOUT ROWID;

-- Grow-only sets: pickups, points entries, check-ins.
CREATE TABLE record (
    kind    TEXT NOT NULL,
    id      TEXT NOT NULL,
    user_id TEXT NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;

-- Reference data administered here and sent down: streets, segments, assignments, signboards.
CREATE TABLE reference (
    tbl       TEXT NOT NULL,
    id        TEXT NOT NULL,
    street_id TEXT,
    body      TEXT NOT NULL,
    deleted   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tbl, id)
) WITHOUT ROWID;
CREATE TABLE assignment (
    street_id TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    role      TEXT NOT NULL,
    PRIMARY KEY (street_id, user_id, role)
) WITHOUT ROWID;
CREATE INDEX assignment_by_user ON assignment (user_id);
CREATE TABLE street (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    subdistrict_id TEXT
);

-- Photos and other blobs, content-addressed by SHA-256; bytes live in files.
CREATE TABLE blob (
    hash          TEXT PRIMARY KEY,
    size          INTEGER NOT NULL,
    received      INTEGER NOT NULL,
    complete      INTEGER NOT NULL DEFAULT 0,
    created_at_ms INTEGER NOT NULL
);
"#;

/// Photos belong to what holds them: an index from a photo to the documents and records that
/// refer to it (who may read it follows from theirs), whose upload completed each photo, and
/// uploads in progress kept per device so no device can disturb another's. Partial uploads of the old shared kind are dropped (their
/// devices start again from zero).
const V2: &str = r#"
CREATE TABLE blob_ref (
    hash    TEXT NOT NULL,
    -- the feed kind of the item that refers to the photo: doc:issue, doc:merchant, record:pickup
    kind    TEXT NOT NULL,
    item_id TEXT NOT NULL,
    PRIMARY KEY (hash, kind, item_id)
) WITHOUT ROWID;
CREATE INDEX blob_ref_by_item ON blob_ref (kind, item_id);

WITH RECURSIVE part (id, kind, hash, rest) AS (
    SELECT id, kind, '', blobs || ' ' FROM doc WHERE blobs <> ''
    UNION ALL
    SELECT id, kind, substr(rest, 1, instr(rest, ' ') - 1), substr(rest, instr(rest, ' ') + 1)
      FROM part WHERE rest <> ''
)
INSERT OR IGNORE INTO blob_ref (hash, kind, item_id)
SELECT hash, 'doc:' || kind, id FROM part WHERE hash <> '';

INSERT OR IGNORE INTO blob_ref (hash, kind, item_id)
SELECT json_extract(body, '$.photo_sha256'), 'record:' || kind, id FROM record
 WHERE kind = 'pickup' AND json_valid(body) AND json_type(body, '$.photo_sha256') = 'text';

-- Uploads in progress, one per device and photo; the bytes are partial/<hash>.<device>.
CREATE TABLE blob_upload (
    hash          TEXT NOT NULL,
    device_id     TEXT NOT NULL,
    size          INTEGER NOT NULL,
    received      INTEGER NOT NULL,
    started_at_ms INTEGER NOT NULL,
    PRIMARY KEY (hash, device_id)
) WITHOUT ROWID;

DELETE FROM blob WHERE complete = 0;
-- Whose upload completed a photo: only items where that user declared it let others read it.
ALTER TABLE blob ADD COLUMN uploaded_by TEXT;
"#;

/// The server as the authority: items an administrator took out of every feed, and the points
/// ledger as the server accepted it (a projection of the `points` records, indexed for the
/// checks every new entry goes through: one entry per source, daily caps, the balance).
const V3_TRUST: &str = r#"
CREATE TABLE quarantine (
    kind       TEXT NOT NULL,
    item_id    TEXT NOT NULL,
    reason     TEXT NOT NULL,
    at_ms      INTEGER NOT NULL,
    -- the feed row's scope, to put it back on release
    street_id      TEXT,
    subdistrict_id TEXT,
    owner_id       TEXT,
    audience       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (kind, item_id)
) WITHOUT ROWID;

CREATE TABLE points_ledger (
    entry_id  TEXT PRIMARY KEY,
    user_id   TEXT NOT NULL,
    kind      TEXT NOT NULL,
    source_id TEXT NOT NULL,
    day       TEXT NOT NULL,
    points    INTEGER NOT NULL,
    -- 'accepted', or for a redemption past the automatic limit 'pending' until a supervisor
    -- approves ('accepted') or declines ('declined') it
    status    TEXT NOT NULL CHECK (status IN ('accepted', 'pending', 'declined')),
    at_ms     INTEGER NOT NULL,
    UNIQUE (user_id, kind, source_id)
);
CREATE INDEX points_ledger_by_day ON points_ledger (user_id, day, kind);
CREATE INDEX points_ledger_pending ON points_ledger (status) WHERE status = 'pending';

-- How many fixes the device said a patrol has: once the server holds them all, it computes the
-- patrol's summary itself.
ALTER TABLE patrol ADD COLUMN fix_claim INTEGER;
"#;

/// The district's signboard key, kept by the server itself. Until this step the network and the
/// key lived in a phone store beside the data (`network.db`); the first signboard issued after
/// it moves that store's key here, so codes already printed stay valid.
const V4_DISTRICT_KEY: &str = r#"
CREATE TABLE district_key (
    public_key    BLOB PRIMARY KEY,
    secret_key    BLOB NOT NULL,
    created_at_ms INTEGER NOT NULL
);
"#;

/// The public's door (the signboard pages): the server's own settings and secrets (the key its
/// forms are signed with, the desk residents report through), residents' reports with the
/// receipt token (hashed) and the contact phone only supervisors read, and steward
/// applications waiting for the district.
const V5_PUBLIC: &str = r#"
CREATE TABLE site_setting (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE public_report (
    token_hash    TEXT PRIMARY KEY,
    issue_id      TEXT NOT NULL UNIQUE,
    signboard_id  TEXT NOT NULL,
    street_id     TEXT NOT NULL,
    -- for follow-up; read by authorised supervisors only, masked everywhere else
    contact_phone TEXT,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX public_report_by_time ON public_report (created_at_ms);

CREATE TABLE steward_application (
    id            TEXT PRIMARY KEY,
    token_hash    TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    phone         TEXT NOT NULL,
    street_id     TEXT NOT NULL,
    signboard_id  TEXT,
    availability  TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'declined')),
    reason        TEXT,
    -- once approved: the steward user, and the one-time code the applicant's page shows
    user_id       TEXT,
    enrol_code    TEXT,
    created_at_ms INTEGER NOT NULL,
    decided_at_ms INTEGER
);
CREATE INDEX steward_application_by_status ON steward_application (status, created_at_ms);
"#;

/// The office platform (the district's web desk): supervisors' passwords (Argon2id PHC strings)
/// with their failed attempts and lock-out, sign-in sessions (tokens hashed), the audit log of
/// every action taken through the web, and the issue index the queue, the overview and the map
/// read: one row per issue document, folded, refreshed when the document's heads move.
const V6_OFFICE: &str = r#"
CREATE TABLE office_login (
    user_id         TEXT PRIMARY KEY REFERENCES user(id),
    password_hash   TEXT NOT NULL,
    is_admin        INTEGER NOT NULL DEFAULT 0,
    set_at_ms       INTEGER NOT NULL,
    failed_count    INTEGER NOT NULL DEFAULT 0,
    locked_until_ms INTEGER
);

CREATE TABLE office_session (
    token_hash    TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES user(id),
    csrf_token    TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    last_seen_ms  INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    address       TEXT
);
CREATE INDEX office_session_by_user ON office_session (user_id);

CREATE TABLE office_audit (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms     INTEGER NOT NULL,
    -- NULL for a sign-in under a name nobody has
    user_id   TEXT,
    action    TEXT NOT NULL,
    target    TEXT,
    detail    TEXT NOT NULL DEFAULT '',
    address   TEXT
);

CREATE TABLE issue_index (
    id                  TEXT PRIMARY KEY,
    heads               TEXT NOT NULL,
    status              TEXT NOT NULL,
    is_open             INTEGER NOT NULL,
    category            TEXT NOT NULL,
    description         TEXT NOT NULL,
    street_id           TEXT,
    subdistrict_id      TEXT,
    lat                 REAL NOT NULL,
    lon                 REAL NOT NULL,
    reporter_role       TEXT NOT NULL,
    assignees           TEXT NOT NULL DEFAULT '',
    reported_at_ms      INTEGER NOT NULL,
    updated_at_ms       INTEGER NOT NULL,
    due_at_ms           INTEGER NOT NULL,
    resolved_at_ms      INTEGER,
    verified_at_ms      INTEGER,
    photo_count         INTEGER NOT NULL
);
CREATE INDEX issue_index_open_due ON issue_index (is_open, due_at_ms);
CREATE INDEX issue_index_by_sub ON issue_index (subdistrict_id, reported_at_ms);
CREATE INDEX issue_index_by_time ON issue_index (reported_at_ms);
"#;

/// What each patrol covered, kept so a month's reports read it instead of map-matching every
/// track again: the phone cache's bytes (segments and streets by id), valid for the fixes the
/// patrol had (`fix_mark`) and the street network's version it was matched against. And the
/// patrols' start and duration and the pickups' time, bags and street in columns of their own,
/// indexed, which every report's period and the overview read.
const V7_COVERAGE: &str = r#"
-- A patrol's start and duration (its summary's, else stop minus start) beside its header, and
-- each pickup's time, bags and street beside its record: what every report's period and the
-- overview's sums read without parsing JSON.
ALTER TABLE patrol ADD COLUMN started_at_ms INTEGER;
ALTER TABLE patrol ADD COLUMN duration_s REAL;
UPDATE patrol SET
    started_at_ms = json_extract(body, '$.started_at_ms'),
    duration_s = MAX(0, COALESCE(json_extract(body, '$.summary.duration_s'),
        (json_extract(body, '$.stopped_at_ms') - json_extract(body, '$.started_at_ms')) / 1000.0, 0));
CREATE INDEX patrol_by_start ON patrol (started_at_ms, user_id, duration_s);

CREATE TABLE pickup (
    id        TEXT PRIMARY KEY,
    user_id   TEXT NOT NULL,
    at_ms     INTEGER NOT NULL,
    bags      INTEGER NOT NULL,
    street_id TEXT
) WITHOUT ROWID;
INSERT INTO pickup (id, user_id, at_ms, bags, street_id)
    SELECT id, user_id, COALESCE(json_extract(body, '$.at_ms'), 0), COALESCE(json_extract(body, '$.bags'), 0),
           json_extract(body, '$.street_id')
      FROM record WHERE kind = 'pickup';
CREATE INDEX pickup_by_time ON pickup (at_ms, street_id, bags);

-- What reports read of an issue without its document: who reported it and the events the fold
-- applied, (kind, HLC wall time) in order. Rows are folded again to fill them.
ALTER TABLE issue_index ADD COLUMN reporter_id TEXT NOT NULL DEFAULT '';
ALTER TABLE issue_index ADD COLUMN applied TEXT NOT NULL DEFAULT '[]';
DELETE FROM issue_index;

CREATE TABLE patrol_coverage (
    patrol_id       TEXT PRIMARY KEY,
    fix_mark        INTEGER NOT NULL,
    network_version INTEGER NOT NULL,
    data            BLOB NOT NULL
) WITHOUT ROWID;
"#;
