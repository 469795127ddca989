//! What each patrol covered, for the server's reports: kept in storage (the phone cache's bytes,
//! `patrol_core::coverage::encode_coverage`) for the fixes the patrol had and the network's
//! version, so a month's assessment, steward report or map reads what each patrol covered
//! instead of map-matching fifteen thousand tracks again. What is missing or stale is matched
//! on every core, each worker reading fixes through its own read transaction, and kept (best
//! effort: a report never fails because the cache could not be written). The server also
//! measures complete patrols in the background as they come in ([`measure_pending`]), so a
//! report seldom has anything left to match.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Result;
use patrol_core::coverage::{decode_coverage, encode_coverage};
use patrol_model::coverage::Coverage;
use patrol_model::matching::{MatchConfig, MatchSummary, match_track};
use patrol_model::spatial::IndexedNetwork;
use patrol_model::wire::PatrolRecord;

use crate::storage::Storage;

/// Most workers matching at once.
const MAX_WORKERS: usize = 4;

/// A patrol's coverage measured now: where it goes in the answer, the fix mark it was measured
/// at, and what it covered.
type Measured = (usize, i64, Coverage, MatchSummary);

/// Each patrol's finished coverage, in the order given.
pub fn patrol_coverages(
    storage: &dyn Storage,
    net: &IndexedNetwork,
    patrols: &[&PatrolRecord],
) -> Result<Vec<Coverage>> {
    let mut out: Vec<Option<Coverage>> = Vec::with_capacity(patrols.len());
    let mut misses = Vec::new();
    let version = {
        let mut tx = storage.read()?;
        let version = crate::network::network_version(tx.as_mut())?;
        for (i, p) in patrols.iter().enumerate() {
            let id = p.id.to_string();
            let mark = tx.fix_mark(&id)?;
            let kept = tx
                .patrol_coverage(&id)?
                .filter(|(m, v, _)| *m == mark && *v == version)
                .and_then(|(_, _, bytes)| decode_coverage(&bytes, net))
                .map(|(c, _)| c);
            if kept.is_none() {
                misses.push(i);
            }
            out.push(kept);
        }
        version
    };
    if !misses.is_empty() {
        let measured = measure(storage, net, patrols, &misses)?;
        keep(storage, net, patrols, &measured, version);
        for (i, _, coverage, _) in measured {
            if let Some(slot) = out.get_mut(i) {
                *slot = Some(coverage);
            }
        }
    }
    Ok(out.into_iter().map(|c| c.unwrap_or_default()).collect())
}

/// Matches the patrols at `misses` on every core.
fn measure(
    storage: &dyn Storage,
    net: &IndexedNetwork,
    patrols: &[&PatrolRecord],
    misses: &[usize],
) -> Result<Vec<Measured>> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, MAX_WORKERS)
        .min(misses.len());
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<Measured>> = Mutex::new(Vec::with_capacity(misses.len()));
    let config = MatchConfig::default();
    std::thread::scope(|scope| -> Result<()> {
        let work = || -> Result<()> {
            let mut tx = storage.read()?;
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(&i) = misses.get(k) else {
                    return Ok(());
                };
                let Some(p) = patrols.get(i) else {
                    continue;
                };
                let id = p.id.to_string();
                let fixes = tx.fixes(&id, 0, usize::MAX)?;
                let mark = tx.fix_mark(&id)?;
                let matched = match_track(net, &fixes, &config);
                let cfg = Default::default();
                let mut coverage = Coverage::new();
                coverage.add_track(net, &fixes, &matched, &cfg);
                coverage.finish(net, &cfg);
                let mut summary = MatchSummary::default();
                summary.add(&matched);
                done.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((i, mark, coverage, summary));
            }
        };
        let helpers: Vec<_> = (1..workers).map(|_| scope.spawn(work)).collect();
        let mine = work();
        for h in helpers {
            match h.join() {
                Ok(r) => r?,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        mine
    })?;
    Ok(done.into_inner().unwrap_or_else(|e| e.into_inner()))
}

/// Keeps what was measured, in one write transaction; a failure is logged, not returned.
fn keep(
    storage: &dyn Storage,
    net: &IndexedNetwork,
    patrols: &[&PatrolRecord],
    measured: &[Measured],
    version: i64,
) {
    let written = (|| -> Result<()> {
        let mut tx = storage.write()?;
        for (i, mark, coverage, summary) in measured {
            if let Some(p) = patrols.get(*i) {
                tx.put_patrol_coverage(
                    &p.id.to_string(),
                    *mark,
                    version,
                    &encode_coverage(coverage, summary, net),
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    })();
    if let Err(e) = written {
        tracing::warn!(error = %e, "patrol coverage not kept; the next report measures it again");
    }
}

/// Measures up to `batch` complete patrols that have no kept coverage for the current network
/// (none without a network); returns how many. The server calls it in the background until it
/// returns 0.
pub fn measure_pending(storage: &dyn Storage, batch: usize) -> Result<usize> {
    let (records, net) = {
        let mut tx = storage.read()?;
        let version = crate::network::network_version(tx.as_mut())?;
        let records = tx.patrols_unmeasured(version, batch)?;
        if records.is_empty() {
            return Ok(0);
        }
        match crate::network::indexed(tx.as_mut())? {
            Some(net) => (records, net),
            None => return Ok(0),
        }
    };
    let all: Vec<&PatrolRecord> = records.iter().collect();
    patrol_coverages(storage, &net, &all)?;
    Ok(records.len())
}

/// How long the background measurer waits when nothing is left to measure.
pub const MEASURE_IDLE: std::time::Duration = std::time::Duration::from_secs(5);

/// Patrols measured per step of the background measurer.
pub const MEASURE_BATCH: usize = 64;
