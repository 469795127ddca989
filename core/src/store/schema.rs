//! The schema, as numbered steps. A step is never edited once released: changes are new steps.
//! Each runs in its own IMMEDIATE transaction (see [`super::Store::open`]).

use rusqlite::Transaction;

/// The schema version this code writes and understands.
pub const SCHEMA_VERSION: i64 = 3;

pub(crate) fn upgrade_to(tx: &Transaction<'_>, version: i64) -> rusqlite::Result<()> {
    match version {
        1 => tx.execute_batch(V1),
        2 => tx.execute_batch(V2_STREETS),
        3 => tx.execute_batch(V3_SYNC),
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

/// Sync bookkeeping: the server account, what the server has confirmed of each patrol, and the
/// reference rows received. Nothing here is ever needed to read local data.
const V3_SYNC: &str = r#"
CREATE TABLE sync_account (
    singleton       INTEGER PRIMARY KEY CHECK (singleton = 1),
    server_url      TEXT NOT NULL,
    token           TEXT NOT NULL,
    -- change-feed position up to which everything received is stored
    cursor          INTEGER NOT NULL DEFAULT 0,
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

-- The heads the server is known to have of each document.
CREATE TABLE sync_doc (
    doc_id       TEXT PRIMARY KEY,
    server_heads TEXT NOT NULL
);

-- Reference rows from the server (users, subdistricts, streets ...), as received.
CREATE TABLE reference_row (
    tbl     TEXT NOT NULL,
    id      TEXT NOT NULL,
    body    TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tbl, id)
) WITHOUT ROWID;
"#;
