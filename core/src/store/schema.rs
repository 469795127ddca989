//! The schema, as numbered steps. A step is never edited once released: changes are new steps.
//! Each runs in its own IMMEDIATE transaction (see [`super::Store::open`]).

use rusqlite::Transaction;

/// The schema version this code writes and understands.
pub const SCHEMA_VERSION: i64 = 9;

pub(crate) fn upgrade_to(tx: &Transaction<'_>, version: i64) -> rusqlite::Result<()> {
    match version {
        1 => tx.execute_batch(V1),
        2 => tx.execute_batch(V2_STREETS),
        3 => tx.execute_batch(V3_ISSUES),
        4 => tx.execute_batch(V4_SYNC),
        5 => tx.execute_batch(V5_REPORTS),
        6 => tx.execute_batch(V6_MERCHANT_SYNC),
        7 => tx.execute_batch(V7_PATROL_ORIGIN),
        8 => tx.execute_batch(V8_SET_ASIDE),
        9 => tx.execute_batch(V9_COVERAGE_TRUSTED),
        _ => unreachable!("no migration step to version {version}"),
    }
}

/// Admin structure, users, this device, patrols and their GPS fixes.
const V1: &str = r#"
CREATE TABLE district (
    id      TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    code    TEXT
);

CREATE TABLE subdistrict (
    id          TEXT PRIMARY KEY,
    district_id TEXT NOT NULL REFERENCES district(id),
    name        TEXT NOT NULL,
    code        TEXT,
    UNIQUE (district_id, name)
);

CREATE TABLE user (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL
        CHECK (role IN ('chief', 'steward', 'supervisor', 'crew', 'enforcement', 'public')),
    subdistrict_id  TEXT REFERENCES subdistrict(id),
    created_at_ms   INTEGER NOT NULL
);

-- This installation: exactly one row once the store is set up.
CREATE TABLE device (
    singleton       INTEGER PRIMARY KEY CHECK (singleton = 1),
    id              TEXT NOT NULL,
    user_id         TEXT NOT NULL REFERENCES user(id),
    -- Automerge actor id (hex) this device signs its changes with.
    actor_id        TEXT NOT NULL,
    created_at_ms   INTEGER NOT NULL
);

-- `row_id` keys the (high-volume) fix table compactly; `id` is the global UUIDv7.
CREATE TABLE patrol (
    row_id          INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    -- No foreign key: patrols of other users arrive by sync before (or without) their user.
    user_id         TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('recording', 'paused', 'stopped')),
    -- recorded and imported here, or synced from another device
    source          TEXT NOT NULL CHECK (source IN ('recorded', 'imported', 'synced')),
    name            TEXT,
    started_at_ms   INTEGER NOT NULL,
    stopped_at_ms   INTEGER,
    -- Track segment new fixes go to; a resume starts a new one.
    current_segment INTEGER NOT NULL DEFAULT 0,
    -- Track metrics as of the stop (JSON), so lists need not re-read the fixes.
    summary_json    TEXT
);
-- One open (recording or paused) patrol per device at a time.
CREATE UNIQUE INDEX patrol_one_open_per_device ON patrol (device_id) WHERE state <> 'stopped';
CREATE INDEX patrol_by_user_time ON patrol (user_id, started_at_ms);

-- The streets a patrol set out to cover.
CREATE TABLE patrol_street (
    patrol_row  INTEGER NOT NULL REFERENCES patrol(row_id) ON DELETE CASCADE,
    street_id   TEXT NOT NULL,
    PRIMARY KEY (patrol_row, street_id)
) WITHOUT ROWID;

-- start / pause / resume / stop, in order.
CREATE TABLE patrol_event (
    patrol_row  INTEGER NOT NULL REFERENCES patrol(row_id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('start', 'pause', 'resume', 'stop')),
    at_ms       INTEGER NOT NULL,
    PRIMARY KEY (patrol_row, seq)
) WITHOUT ROWID;

-- Every fix ever received, raw (WGS-84), with the filter's verdict. Append-only.
CREATE TABLE fix (
    patrol_row  INTEGER NOT NULL REFERENCES patrol(row_id) ON DELETE CASCADE,
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
    is_mock     INTEGER NOT NULL DEFAULT 0,
    verdict     TEXT NOT NULL,
    PRIMARY KEY (patrol_row, seq)
) WITHOUT ROWID;
"#;

/// The street network (streets, segments), who answers for which street, signboards with their
/// QR codes and the district keys that sign them, and signboard check-ins during patrols.
/// User ids are plain text without a foreign key: the people come from the server.
const V2_STREETS: &str = r#"
CREATE TABLE street (
    id              TEXT PRIMARY KEY,
    -- Identity across re-imports: 'name:<subdistrict>|<name>' or the source object of an
    -- unnamed way ('osm:way/123'). A re-import updates the street in place.
    key             TEXT NOT NULL UNIQUE,
    name            TEXT,
    subdistrict     TEXT,
    -- OpenStreetMap highway value covering most of the street.
    class           TEXT NOT NULL,
    length_m        REAL NOT NULL CHECK (length_m >= 0),
    source          TEXT NOT NULL,
    imported_at_ms  INTEGER NOT NULL
);
CREATE INDEX street_by_name ON street (name);

-- A polyline of bounded length. geometry: little-endian i32 pairs (lat, lon) in 1e-7 degrees,
-- 8 bytes a vertex; shared points are bit-identical, which is how junctions are found.
CREATE TABLE segment (
    row_id      INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    street_id   TEXT NOT NULL REFERENCES street(id) ON DELETE CASCADE,
    ordinal     INTEGER NOT NULL,
    length_m    REAL NOT NULL CHECK (length_m >= 0),
    geometry    BLOB NOT NULL,
    source_ref  TEXT,
    UNIQUE (street_id, ordinal)
);

CREATE TABLE street_assignment (
    street_id       TEXT NOT NULL REFERENCES street(id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('chief', 'steward')),
    assigned_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (street_id, role, user_id)
) WITHOUT ROWID;
-- A street has one chief.
CREATE UNIQUE INDEX street_one_chief ON street_assignment (street_id) WHERE role = 'chief';
CREATE INDEX street_assignment_by_user ON street_assignment (user_id);

-- Ed25519 keys signing signboard QR codes. Phones hold public keys only; the secret is kept
-- on the device that issues signboards (a supervisor's, or the server).
CREATE TABLE district_key (
    public_key      BLOB PRIMARY KEY CHECK (length(public_key) = 32),
    secret_key      BLOB CHECK (secret_key IS NULL OR length(secret_key) = 32),
    created_at_ms   INTEGER NOT NULL
);

CREATE TABLE signboard (
    id              TEXT PRIMARY KEY,
    street_id       TEXT NOT NULL REFERENCES street(id),
    lat             REAL,
    lon             REAL,
    payload         TEXT NOT NULL UNIQUE,
    created_at_ms   INTEGER NOT NULL
);
CREATE INDEX signboard_by_street ON signboard (street_id);

-- A chief or steward scanned a signboard during a patrol: proof of presence, with the fix.
CREATE TABLE check_in (
    id                      TEXT PRIMARY KEY,
    patrol_row              INTEGER NOT NULL REFERENCES patrol(row_id) ON DELETE CASCADE,
    signboard_id            TEXT NOT NULL,
    street_id               TEXT NOT NULL,
    user_id                 TEXT NOT NULL,
    at_ms                   INTEGER NOT NULL,
    fix_seq                 INTEGER,
    lat                     REAL,
    lon                     REAL,
    accuracy_m              REAL,
    distance_to_signboard_m REAL
);
CREATE INDEX check_in_by_patrol ON check_in (patrol_row, at_ms);
"#;

/// Issues (Automerge documents and their projection), photos, litter pickups, the points ledger,
/// and this device's hybrid logical clock.
const V3_ISSUES: &str = r#"
-- The last HLC stamp this device issued, so a restart never goes backwards.
CREATE TABLE hlc_state (
    singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
    wall_ms     INTEGER NOT NULL,
    counter     INTEGER NOT NULL
);

-- One Automerge document per issue: a compacted snapshot plus the incremental chunks written
-- since (`save_after(heads)`), folded into a new snapshot every few chunks.
CREATE TABLE issue_doc (
    row_id          INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    snapshot        BLOB NOT NULL,
    -- Current heads: sorted 32-byte change hashes, concatenated.
    heads           BLOB NOT NULL,
    chunk_count     INTEGER NOT NULL DEFAULT 0,
    -- Store-wide sequence of the last change (local or merged) and of the last local edit:
    -- the cursors sync uses to find what moved.
    change_seq      INTEGER NOT NULL,
    local_seq       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX issue_doc_by_change ON issue_doc (change_seq);
CREATE INDEX issue_doc_by_local ON issue_doc (local_seq) WHERE local_seq > 0;

CREATE TABLE issue_chunk (
    doc_row     INTEGER NOT NULL REFERENCES issue_doc(row_id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    bytes       BLOB NOT NULL,
    PRIMARY KEY (doc_row, seq)
) WITHOUT ROWID;

-- The projection: one row per issue, rebuilt from the document after every local edit or
-- merge in the same transaction, so lists and counts are plain indexed SQL.
CREATE TABLE issue (
    doc_row         INTEGER PRIMARY KEY REFERENCES issue_doc(row_id) ON DELETE CASCADE,
    id              TEXT NOT NULL UNIQUE,
    status          TEXT NOT NULL,
    is_open         INTEGER NOT NULL,
    category        TEXT NOT NULL,
    description     TEXT NOT NULL,
    street_id       TEXT,
    segment_id      TEXT,
    lat             REAL NOT NULL,
    lon             REAL NOT NULL,
    reporter_id     TEXT NOT NULL,
    reporter_role   TEXT NOT NULL,
    -- Assignees, sorted, joined by a space; the single one is also in issue_assignee.
    assignees       TEXT NOT NULL,
    has_conflict    INTEGER NOT NULL,
    round           INTEGER NOT NULL,
    event_count     INTEGER NOT NULL,
    photo_count     INTEGER NOT NULL,
    comment_count   INTEGER NOT NULL,
    reported_at_ms  INTEGER NOT NULL,
    updated_at_ms   INTEGER NOT NULL,
    -- When the current round is overdue; "overdue" itself depends on the time of the query.
    due_at_ms       INTEGER NOT NULL
);
CREATE INDEX issue_by_street ON issue (street_id, is_open, reported_at_ms);
CREATE INDEX issue_by_status ON issue (status, reported_at_ms);
CREATE INDEX issue_open_by_due ON issue (due_at_ms) WHERE is_open = 1;
CREATE INDEX issue_open_by_category_lat ON issue (category, lat) WHERE is_open = 1;
CREATE INDEX issue_by_lat ON issue (lat);
CREATE INDEX issue_by_reported ON issue (reported_at_ms);

CREATE TABLE issue_assignee (
    assignee    TEXT NOT NULL,
    doc_row     INTEGER NOT NULL REFERENCES issue(doc_row) ON DELETE CASCADE,
    PRIMARY KEY (assignee, doc_row)
) WITHOUT ROWID;
-- The projection rewrite deletes a document's rows by doc_row.
CREATE INDEX issue_assignee_by_doc ON issue_assignee (doc_row);

-- Custom categories added to this store (the built-in ones live in code).
CREATE TABLE issue_category (
    code        TEXT PRIMARY KEY,
    name_zh     TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    due_hours   INTEGER NOT NULL CHECK (due_hours > 0)
);

-- Content-addressed photo store: the file is photos/<sha256[0..2]>/<sha256>.<ext>.
CREATE TABLE photo (
    sha256          TEXT PRIMARY KEY,
    mime            TEXT NOT NULL,
    size_bytes      INTEGER NOT NULL,
    width           INTEGER NOT NULL,
    height          INTEGER NOT NULL,
    taken_at_ms     INTEGER,
    lat             REAL,
    lon             REAL,
    orientation     INTEGER,
    thumbnail       BLOB NOT NULL,
    stored_at_ms    INTEGER NOT NULL
) WITHOUT ROWID;

-- Litter pickups: immutable once written.
CREATE TABLE litter_pickup (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    at_ms           INTEGER NOT NULL,
    lat             REAL NOT NULL,
    lon             REAL NOT NULL,
    bags            INTEGER NOT NULL CHECK (bags >= 0),
    items           INTEGER NOT NULL CHECK (items >= 0),
    street_id       TEXT,
    photo_sha256    TEXT REFERENCES photo(sha256),
    note            TEXT,
    CHECK (bags + items > 0)
) WITHOUT ROWID;
CREATE INDEX litter_pickup_by_user_time ON litter_pickup (user_id, at_ms);
CREATE TRIGGER litter_pickup_immutable_update BEFORE UPDATE ON litter_pickup
BEGIN SELECT RAISE(ABORT, 'litter pickups are immutable'); END;
CREATE TRIGGER litter_pickup_immutable_delete BEFORE DELETE ON litter_pickup
BEGIN SELECT RAISE(ABORT, 'litter pickups are immutable'); END;

-- Points rules as data, versioned: an entry keeps the (rule, version) it was earned under.
CREATE TABLE points_rule (
    id              TEXT NOT NULL,
    version         INTEGER NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('pickup', 'verified_issue', 'patrol_hour', 'redemption')),
    points          INTEGER NOT NULL,
    -- Extra points per bag (pickups).
    per_bag         INTEGER NOT NULL DEFAULT 0,
    daily_cap       INTEGER,
    valid_from_ms   INTEGER NOT NULL,
    description     TEXT NOT NULL,
    PRIMARY KEY (id, version)
) WITHOUT ROWID;
INSERT INTO points_rule VALUES
    ('pickup', 1, 'pickup', 2, 1, 20, 0, '2 points per pickup and 1 per bag, at most 20 a day'),
    ('verified_issue', 1, 'verified_issue', 5, 0, 25, 0, '5 points for a reported issue that ends verified, at most 25 a day'),
    ('patrol_hour', 1, 'patrol_hour', 4, 0, 16, 0, '4 points per full hour of patrol, at most 16 a day'),
    ('redemption', 1, 'redemption', 0, 0, NULL, 0, 'points spent on a reward');

-- The ledger: append-only; the balance is the sum.
CREATE TABLE points_entry (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL,
    at_ms           INTEGER NOT NULL,
    -- The Beijing calendar day (UTC+8) the entry counts against, YYYY-MM-DD.
    day             TEXT NOT NULL,
    kind            TEXT NOT NULL,
    -- What earned it: a pickup, issue or patrol id; for redemptions the entry's own id.
    source_id       TEXT NOT NULL,
    rule_id         TEXT NOT NULL,
    rule_version    INTEGER NOT NULL,
    points          INTEGER NOT NULL,
    note            TEXT,
    FOREIGN KEY (rule_id, rule_version) REFERENCES points_rule(id, version),
    UNIQUE (user_id, kind, source_id)
) WITHOUT ROWID;
CREATE INDEX points_entry_by_user_day ON points_entry (user_id, day, kind);
CREATE TRIGGER points_entry_append_only_update BEFORE UPDATE ON points_entry
BEGIN SELECT RAISE(ABORT, 'the points ledger is append-only'); END;
CREATE TRIGGER points_entry_append_only_delete BEFORE DELETE ON points_entry
BEGIN SELECT RAISE(ABORT, 'the points ledger is append-only'); END;
"#;

/// Sync bookkeeping: the server account, what the server has confirmed of each patrol, and the
/// reference rows received. Nothing here is ever needed to read local data.
const V4_SYNC: &str = r#"
CREATE TABLE sync_account (
    singleton       INTEGER PRIMARY KEY CHECK (singleton = 1),
    server_url      TEXT NOT NULL,
    token           TEXT NOT NULL,
    -- change-feed position up to which everything received is stored
    cursor          INTEGER NOT NULL DEFAULT 0,
    -- issue_doc.local_seq up to which own edits have been marked pending in sync_doc
    local_doc_cursor INTEGER NOT NULL DEFAULT 0,
    enrolled_at_ms  INTEGER NOT NULL,
    last_sync_ms    INTEGER
);

-- Per own patrol: the header the server confirmed, and the server's fix high-water mark.
-- Per synced patrol: how far its fixes have been downloaded is simply its local MAX(seq) + 1.
CREATE TABLE sync_patrol (
    patrol_row       INTEGER PRIMARY KEY REFERENCES patrol(row_id) ON DELETE CASCADE,
    uploaded_header  TEXT,
    server_next_seq  INTEGER NOT NULL DEFAULT 0
);

-- Records (pickups, points, check-ins) the server has confirmed.
CREATE TABLE sync_record (
    kind TEXT NOT NULL,
    id   TEXT NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;

-- Per document: the heads the server is known to have, whether this device has own changes
-- the server has not confirmed, whether it must be fetched whole again, and why the server
-- refused it (a refused document is left out of uploads and shown to the user).
CREATE TABLE sync_doc (
    doc_id       TEXT PRIMARY KEY,
    server_heads TEXT NOT NULL DEFAULT '',
    pending      INTEGER NOT NULL DEFAULT 0,
    refetch      INTEGER NOT NULL DEFAULT 0,
    rejected     TEXT
);
CREATE INDEX sync_doc_pending ON sync_doc (pending) WHERE pending = 1;

-- Photos: whether the server has the original, and whether this device wants it (a document
-- refers to it and the original is not here yet).
CREATE TABLE sync_blob (
    sha256    TEXT PRIMARY KEY,
    on_server INTEGER NOT NULL DEFAULT 0,
    wanted    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Patrol headers and records the server refused (kind 'patrol' / 'pickup' / 'points'), left out
-- of uploads from then on and shown to the user. Photos set aside (kind 'photo') are tried again
-- at each sync and dropped from here once uploaded.
CREATE TABLE sync_rejected (
    kind   TEXT NOT NULL,
    id     TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;

-- Reference rows from the server (users, subdistricts, streets ...), as received.
CREATE TABLE reference_row (
    tbl     TEXT NOT NULL,
    id      TEXT NOT NULL,
    body    TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tbl, id)
) WITHOUT ROWID;
"#;

/// What supervisors' reports need: the applied workflow events of every issue (so a report can
/// ask what an issue's state was at the end of a past period without loading its document),
/// a version of the street network that moves whenever a segment or street changes, per-patrol
/// coverage cached against that version, and merchants (Automerge documents like issues, with a
/// projection).
const V5_REPORTS: &str = r#"
-- The applied events of each issue in fold order: a projection rewritten with the `issue` row.
CREATE TABLE issue_timeline (
    doc_row     INTEGER NOT NULL REFERENCES issue(doc_row) ON DELETE CASCADE,
    ord         INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    at_ms       INTEGER NOT NULL,
    round       INTEGER NOT NULL,
    by_user     TEXT NOT NULL,
    PRIMARY KEY (doc_row, ord)
) WITHOUT ROWID;
-- Issues stored before this step: their timelines are built from the documents on first use.
CREATE TABLE issue_timeline_pending (doc_row INTEGER PRIMARY KEY);
INSERT INTO issue_timeline_pending SELECT doc_row FROM issue;

-- Moves on every change to the network's geometry or names, which is what coverage depends on.
CREATE TABLE network_version (
    singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
    version     INTEGER NOT NULL
);
INSERT INTO network_version VALUES (1, 1);
CREATE TRIGGER network_version_segment_insert AFTER INSERT ON segment
BEGIN UPDATE network_version SET version = version + 1; END;
CREATE TRIGGER network_version_segment_update AFTER UPDATE ON segment
BEGIN UPDATE network_version SET version = version + 1; END;
CREATE TRIGGER network_version_segment_delete AFTER DELETE ON segment
BEGIN UPDATE network_version SET version = version + 1; END;
CREATE TRIGGER network_version_street_insert AFTER INSERT ON street
BEGIN UPDATE network_version SET version = version + 1; END;
CREATE TRIGGER network_version_street_update AFTER UPDATE OF name ON street
BEGIN UPDATE network_version SET version = version + 1; END;
CREATE TRIGGER network_version_street_delete AFTER DELETE ON street
BEGIN UPDATE network_version SET version = version + 1; END;

-- What one stopped patrol covered (intervals per segment, time per street, match counts),
-- valid for one network version, one matching + coverage configuration and one fix count (a
-- synced patrol's fixes may still be arriving).
CREATE TABLE patrol_coverage_cache (
    patrol_row      INTEGER PRIMARY KEY REFERENCES patrol(row_id) ON DELETE CASCADE,
    network_version INTEGER NOT NULL,
    config_hash     TEXT NOT NULL,
    fix_count       INTEGER NOT NULL,
    computed_at_ms  INTEGER NOT NULL,
    data            BLOB NOT NULL
);

-- One Automerge document per merchant, stored like issues.
CREATE TABLE merchant_doc (
    row_id          INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    snapshot        BLOB NOT NULL,
    heads           BLOB NOT NULL,
    chunk_count     INTEGER NOT NULL DEFAULT 0,
    change_seq      INTEGER NOT NULL,
    local_seq       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX merchant_doc_by_change ON merchant_doc (change_seq);
CREATE INDEX merchant_doc_by_local ON merchant_doc (local_seq) WHERE local_seq > 0;

CREATE TABLE merchant_chunk (
    doc_row     INTEGER NOT NULL REFERENCES merchant_doc(row_id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    bytes       BLOB NOT NULL,
    PRIMARY KEY (doc_row, seq)
) WITHOUT ROWID;

-- The projection: one row per merchant, rewritten after every edit or merge.
CREATE TABLE merchant (
    doc_row             INTEGER PRIMARY KEY REFERENCES merchant_doc(row_id) ON DELETE CASCADE,
    id                  TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    kind                TEXT,
    street_id           TEXT,
    segment_id          TEXT,
    lat                 REAL NOT NULL,
    lon                 REAL NOT NULL,
    closed              INTEGER NOT NULL,
    inspection_count    INTEGER NOT NULL,
    last_inspected_ms   INTEGER,
    updated_at_ms       INTEGER NOT NULL
);
CREATE INDEX merchant_by_segment ON merchant (segment_id);
CREATE INDEX merchant_by_street ON merchant (street_id);
CREATE INDEX merchant_by_lat ON merchant (lat);
"#;

/// Merchants sync like issues: this device's own merchant edits are marked pending from their
/// own change cursor, and each synced document row says which kind of document it is.
const V6_MERCHANT_SYNC: &str = r#"
-- merchant_doc.local_seq up to which own merchant edits have been marked pending in sync_doc
ALTER TABLE sync_account ADD COLUMN local_merchant_cursor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_doc ADD COLUMN kind TEXT NOT NULL DEFAULT 'issue' CHECK (kind IN ('issue', 'merchant'));
"#;

/// How a patrol's track was made where it began: recorded fix by fix in the app, or imported
/// from a GPS file. `source` says 'synced' for every patrol received from another device, so
/// without this a supervisor could not tell a recorded patrol from a file (reports show it).
const V7_PATROL_ORIGIN: &str = r#"
-- NULL: not known (a patrol received before this step, or from an app that did not say).
ALTER TABLE patrol ADD COLUMN origin TEXT CHECK (origin IN ('recorded', 'imported'));
UPDATE patrol SET origin = source WHERE source IN ('recorded', 'imported');
"#;

/// Items the server sent that this device could not take (a record with a field of the wrong
/// type, a check-in it cannot read, a document that does not load): kept with the reason and
/// the body as received, so that one bad item never stops a sync, and listed for the user and
/// support. Taken again (and dropped from here) when the server sends a good version.
const V8_SET_ASIDE: &str = r#"
CREATE TABLE sync_set_aside (
    kind   TEXT NOT NULL,
    id     TEXT NOT NULL,
    reason TEXT NOT NULL,
    body   TEXT NOT NULL,
    at_ms  INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;
"#;

/// Kept coverages are trusted without reading fixes from now on (a fix stored later removes its
/// patrol's row, `coverage::cache::forget`): rows earlier code kept for fewer fixes than their
/// patrol has now go.
const V9_COVERAGE_TRUSTED: &str = r#"
DELETE FROM patrol_coverage_cache
 WHERE fix_count <> (SELECT COALESCE(MAX(seq) + 1, 0) FROM fix
                      WHERE fix.patrol_row = patrol_coverage_cache.patrol_row);
"#;
