//! Per-patrol coverage kept in the store, so a monthly report over ten thousand patrols reads
//! what each patrol covered instead of map-matching every track again.
//!
//! A stopped patrol's coverage (intervals per segment, time per street, how its fixes matched)
//! is stored in `patrol_coverage_cache` keyed by the patrol and valid for one network version
//! (a schema trigger moves it on every change to a segment or a street's name), one hash of
//! the matching and coverage configuration, and one fix count (a synced patrol's fixes may
//! still be arriving). Anything else recomputes. Patrols still recording are never cached.
//!
//! The blob is little-endian binary: a version byte, then per segment its id (16 bytes), the
//! number of intervals and each interval (two f64, projected metres); then per street its id
//! and the seconds spent; then the four match counts.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::coverage::Coverage;
use crate::domain::{PatrolId, SegmentId, StreetId};
use crate::error::{Error, Result};
use crate::matching::match_track;
use crate::patrol::load_fixes;
use crate::secrets::Key;
use crate::spatial::IndexedNetwork;
use crate::store::StoreConfig;
use crate::store::cipher;
use patrol_model::matching::MatchSummary;

const BLOB_VERSION: u8 = 1;

/// From this many patrols to match, the work is spread over every core.
const PARALLEL_FROM: usize = 64;

/// Coverages stored per transaction.
const STORE_BATCH: usize = 256;

/// How long storing coverages waits for a write lock held elsewhere: they are a cache.
const CACHE_WRITE_WAIT: std::time::Duration = std::time::Duration::from_millis(200);

/// A patrol matched by a worker: its place among the misses, the fix count it was computed
/// from, and what it covered.
type Matched = (usize, i64, (Coverage, MatchSummary));

/// A stored patrol to cover: its row and whether it may still change.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PatrolKey {
    pub row: i64,
    pub stopped: bool,
}

/// The version of the street network: it moves whenever a segment, or a street's name,
/// changes.
pub(crate) fn network_version(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT version FROM network_version")?
        .query_row([], |r| r.get(0))?)
}

/// The coverage of each patrol on its own (finished), from the cache where it is valid,
/// matched and stored otherwise.
///
/// Cache look-ups run in one read transaction. Misses are read and map-matched on every
/// core, then stored a batch per transaction. Storing is best effort: a report never fails
/// because another connection held the write lock, it only matches those patrols again.
pub(crate) fn patrol_coverages(
    conn: &Connection,
    config: &StoreConfig,
    key: Option<&Key>,
    now_ms: i64,
    net: &IndexedNetwork,
    patrols: &[PatrolKey],
) -> Result<Vec<(Coverage, MatchSummary)>> {
    let version = network_version(conn)?;
    let hash = coverage_config_hash(config);
    // What the cache holds, and the index in `patrols` of each patrol to match.
    let (mut out, misses) = look_up(conn, net, patrols, version, &hash)?;

    let (matching, covering) = (&config.matching, &config.coverage);
    let cover = |k: usize, fixes: &[crate::domain::StoredFix]| -> Matched {
        let matched = match_track(net, fixes, matching);
        let mut coverage = Coverage::new();
        coverage.add_track(net, fixes, &matched, covering);
        coverage.finish(net, covering);
        let mut summary = MatchSummary::default();
        summary.add(&matched);
        // The fix count it was computed from (a sync may have added fixes since the
        // look-up), so the cache never claims more than it saw.
        let fix_count = fixes.last().map_or(0, |f| f.seq + 1);
        (k, fix_count, (coverage, summary))
    };
    let next = AtomicUsize::new(0);
    // Takes the next patrol until none is left, reading its fixes on `conn`. A read that
    // fails stops the taker and hands back that patrol with the error.
    let take = |conn: &rusqlite::Connection| -> (Vec<Matched>, Option<(usize, Error)>) {
        let mut mine = Vec::new();
        loop {
            let k = next.fetch_add(1, Ordering::Relaxed);
            let Some(&i) = misses.get(k) else {
                return (mine, None);
            };
            match load_fixes(conn, patrols[i].row) {
                Ok(fixes) => mine.push(cover(k, &fixes)),
                Err(e) => return (mine, Some((k, e))),
            }
        }
    };
    // Reading fixes costs as much as matching them, so each extra thread reads on its own
    // connection (WAL readers do not block each other or the app's writes).
    let readers = if misses.len() >= PARALLEL_FROM {
        extra_readers(conn, config, key)
    } else {
        Vec::new()
    };
    let mut done = std::thread::scope(|scope| -> Result<Vec<Matched>> {
        let helpers: Vec<_> = readers
            .into_iter()
            .map(|conn| scope.spawn(move || take(&conn)))
            .collect();
        let (mut done, failed) = take(conn);
        if let Some((_, e)) = failed {
            // On this connection a failure fails the report: the helpers stop taking work.
            next.store(misses.len(), Ordering::Relaxed);
            return Err(e);
        }
        for helper in helpers {
            match helper.join() {
                Ok((theirs, failed)) => {
                    done.extend(theirs);
                    // A helper's failed read is done again on this connection.
                    if let Some((k, _)) = failed {
                        done.push(cover(k, &load_fixes(conn, patrols[misses[k]].row)?));
                    }
                }
                // A panic in matching is a bug: it carries on in this thread as it was.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(done)
    })?;
    done.sort_unstable_by_key(|(k, _, _)| *k);

    // Best effort, a batch per transaction: the report stands whether or not its records
    // are kept. A write lock held elsewhere (a sync) is waited for briefly, not for the
    // whole busy timeout, and the first batch that cannot be written ends the writing;
    // those patrols are matched again next time.
    let _ = conn.busy_timeout(CACHE_WRITE_WAIT);
    for batch in done.chunks(STORE_BATCH) {
        let rows: Vec<(i64, i64, Vec<u8>)> = batch
            .iter()
            .map(|(k, fix_count, (c, s))| (misses[*k], *fix_count, c, s))
            .filter(|(i, ..)| patrols[*i].stopped)
            .map(|(i, fix_count, c, s)| (patrols[i].row, fix_count, encode(c, s, net)))
            .collect();
        if store_coverages(conn, now_ms, version, &hash, &rows).is_err() {
            break;
        }
    }
    conn.busy_timeout(config.busy_timeout())?;
    for (k, _, found) in done {
        out[misses[k]] = Some(found);
    }
    Ok(out
        .into_iter()
        .map(|found| found.expect("every patrol was found in the cache or matched"))
        .collect())
}

/// The valid cached coverage of each patrol (`None` where there is none), and the index in
/// `patrols` of each one missing, read in one read transaction.
#[allow(
    clippy::type_complexity,
    reason = "a coverage per patrol and the misses: naming the pair would only rename it"
)]
fn look_up(
    conn: &Connection,
    net: &IndexedNetwork,
    patrols: &[PatrolKey],
    version: i64,
    hash: &str,
) -> Result<(Vec<Option<(Coverage, MatchSummary)>>, Vec<usize>)> {
    let mut out: Vec<Option<(Coverage, MatchSummary)>> = Vec::with_capacity(patrols.len());
    let mut misses: Vec<usize> = Vec::new();
    in_savepoint(conn, "coverage_lookup", || {
        // A row is valid as it stands: it was written only while the patrol had exactly the
        // fixes it was computed from, and a fix stored for the patrol later removes it
        // (`forget`). So no fix is read here: on an encrypted store each patrol's last fix
        // page cost a decryption (docs/performance.md).
        let mut lookup = conn.prepare_cached(
            "SELECT data FROM patrol_coverage_cache
              WHERE patrol_row = ?1 AND network_version = ?2 AND config_hash = ?3",
        )?;
        for (i, p) in patrols.iter().enumerate() {
            let data: Option<Vec<u8>> = if p.stopped {
                lookup
                    .query_row(params![p.row, version, hash], |r| r.get(0))
                    .optional()?
            } else {
                None
            };
            let found = data.and_then(|b| decode(&b, net));
            if found.is_none() {
                misses.push(i);
            }
            out.push(found);
        }
        Ok(())
    })?;

    Ok((out, misses))
}

/// Read-only connections for the other threads (up to `max_worker_threads` in all, no more
/// than the cores; each given the database `key` of an encrypted store), when this store is a file and no transaction of this connection's is
/// open (its writes would be invisible to another connection). Each has read the fix table
/// once, so a file it cannot use is found here. None where they cannot be opened: the work
/// then runs on this connection alone.
pub(crate) fn extra_readers(
    conn: &Connection,
    config: &StoreConfig,
    key: Option<&Key>,
) -> Vec<rusqlite::Connection> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.min(config.max_worker_threads.max(1) as usize);
    let Some(path) = conn.path().filter(|p| !p.is_empty()) else {
        return Vec::new();
    };
    if threads < 2 || !conn.is_autocommit() {
        return Vec::new();
    }
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX
        | rusqlite::OpenFlags::SQLITE_OPEN_URI;
    (1..threads)
        .map_while(|_| {
            let conn = rusqlite::Connection::open_with_flags(path, flags).ok()?;
            if let Some(key) = key {
                cipher::apply_key(&conn, key, Path::new(path)).ok()?;
            }
            conn.busy_timeout(config.busy_timeout()).ok()?;
            conn.query_row(
                "SELECT COUNT(*) FROM (SELECT 1 FROM fix LIMIT 1)",
                [],
                |r| r.get::<_, i64>(0),
            )
            .ok()?;
            Some(conn)
        })
        .collect()
}

/// Stores computed coverages in one transaction.
fn store_coverages(
    conn: &Connection,
    now_ms: i64,
    version: i64,
    hash: &str,
    rows: &[(i64, i64, Vec<u8>)],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    in_savepoint(conn, "coverage_store", || {
        // Kept only if the patrol still has the fixes it was computed from: a sync may have
        // stored more since they were read (and removed no row, there being none yet).
        let mut insert = conn.prepare_cached(
            "INSERT INTO patrol_coverage_cache (patrol_row, network_version, config_hash, fix_count, computed_at_ms, data)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6
              WHERE (SELECT COALESCE(MAX(seq) + 1, 0) FROM fix WHERE patrol_row = ?1) = ?4
             ON CONFLICT (patrol_row) DO UPDATE SET network_version = excluded.network_version,
                config_hash = excluded.config_hash, fix_count = excluded.fix_count,
                computed_at_ms = excluded.computed_at_ms, data = excluded.data",
        )?;
        for (row, fix_count, data) in rows {
            insert.execute(params![row, version, hash, fix_count, now_ms, data])?;
        }
        Ok(())
    })
}

/// Removes the kept coverage of the patrol with row id `patrol_row`, inside the caller's
/// transaction: called wherever fixes are stored for a patrol that may have one (a sync bringing
/// more of another device's patrol), since the cache's rows are trusted without reading fixes.
pub(crate) fn forget(conn: &Connection, patrol_row: i64) -> Result<()> {
    conn.prepare_cached("DELETE FROM patrol_coverage_cache WHERE patrol_row = ?1")?
        .execute([patrol_row])?;
    Ok(())
}

/// Runs `f` in a savepoint: its own transaction outside one (so a run of statements takes
/// the lock once), nested inside a caller's. Rolled back if `f` fails.
fn in_savepoint<T>(conn: &Connection, name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    conn.execute_batch(&format!("SAVEPOINT {name}"))?;
    // Releasing the outermost savepoint commits, which can fail too (busy, disk full).
    let result = f().and_then(|v| {
        conn.execute_batch(&format!("RELEASE {name}"))?;
        Ok(v)
    });
    if result.is_err() {
        // Never leave the connection inside a transaction.
        let _ = conn.execute_batch(&format!("ROLLBACK TO {name}; RELEASE {name}"));
    }
    result
}

/// Drops every cached patrol coverage (benchmarks measure the uncached path with it).
pub(crate) fn clear_coverage_cache(conn: &Connection) -> Result<u64> {
    Ok(conn.execute("DELETE FROM patrol_coverage_cache", [])? as u64)
}

/// The patrols to cover, by id, in the order given.
pub(crate) fn patrol_keys(conn: &Connection, ids: &[PatrolId]) -> Result<Vec<PatrolKey>> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let (row, state): (i64, String) = conn
            .prepare_cached("SELECT row_id, state FROM patrol WHERE id = ?1")?
            .query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .ok_or(crate::error::Error::UnknownPatrol(*id))?;
        out.push(PatrolKey {
            row,
            stopped: state == "stopped",
        });
    }
    Ok(out)
}

/// A short hash of the matching and coverage configuration the cache depends on.
fn coverage_config_hash(config: &StoreConfig) -> String {
    let text = serde_json::to_string(&(&config.matching, &config.coverage)).unwrap_or_default();
    Sha256::digest(text.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(super) fn encode(c: &Coverage, s: &MatchSummary, net: &IndexedNetwork) -> Vec<u8> {
    let mut out = vec![BLOB_VERSION];
    let mut segments: Vec<_> = c.intervals().iter().collect();
    segments.sort_by_key(|(k, _)| **k);
    out.extend_from_slice(&(segments.len() as u32).to_le_bytes());
    for (&seg, list) in segments {
        out.extend_from_slice(net.network.segments[seg].id.0.as_bytes());
        out.extend_from_slice(&(list.len() as u32).to_le_bytes());
        for &(lo, hi) in list {
            out.extend_from_slice(&lo.to_le_bytes());
            out.extend_from_slice(&hi.to_le_bytes());
        }
    }
    let mut streets: Vec<_> = c.time_by_street().iter().collect();
    streets.sort_by_key(|(k, _)| **k);
    out.extend_from_slice(&(streets.len() as u32).to_le_bytes());
    for (&street, &t) in streets {
        out.extend_from_slice(net.network.streets[street].id.0.as_bytes());
        out.extend_from_slice(&t.to_le_bytes());
    }
    for n in [s.fixes_kept, s.fixes_matched, s.fixes_off_network, s.runs] {
        out.extend_from_slice(&n.to_le_bytes());
    }
    out
}

/// Reads a blob back against the loaded network; `None` when it is damaged or names a segment
/// the network lacks (then the patrol is simply covered again).
pub(super) fn decode(bytes: &[u8], net: &IndexedNetwork) -> Option<(Coverage, MatchSummary)> {
    let mut r = Reader(bytes);
    if r.take(1)?[0] != BLOB_VERSION {
        return None;
    }
    let mut intervals = HashMap::new();
    let mut time_s = HashMap::new();
    for _ in 0..r.u32()? {
        let seg = net.network.segment_index(SegmentId(r.uuid()?))?;
        let n = r.u32()? as usize;
        let mut list = Vec::with_capacity(n.min(1 << 16));
        for _ in 0..n {
            list.push((r.f64()?, r.f64()?));
        }
        intervals.insert(seg, list);
    }
    for _ in 0..r.u32()? {
        let street = net.network.street_index(StreetId(r.uuid()?))?;
        time_s.insert(street, r.f64()?);
    }
    let s = MatchSummary {
        fixes_kept: r.u64()?,
        fixes_matched: r.u64()?,
        fixes_off_network: r.u64()?,
        runs: r.u64()?,
    };
    r.0.is_empty()
        .then_some((Coverage::from_parts(intervals, time_s), s))
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn f64(&mut self) -> Option<f64> {
        Some(f64::from_le_bytes(self.take(8)?.try_into().ok()?)).filter(|v| v.is_finite())
    }
    fn uuid(&mut self) -> Option<uuid::Uuid> {
        Some(uuid::Uuid::from_bytes(self.take(16)?.try_into().ok()?))
    }
}
