//! The chief's patrol in the demo: a simulated walk round the neighbourhood with a phone's GPS
//! error, recorded fix by fix the way the app does (following the core's sampling advice), with
//! a signboard scanned on the way.

use anyhow::Result;
use patrol_core::PatrolId;
use patrol_core::coverage::PatrolCoverage;
use patrol_core::signboard::CheckIn;
use patrol_core::track::{Motion, TrackStats};
use patrol_model::sim::{ReceiverModel, SimRng, route_length_m, simulate_walk};

use super::district::{Phone, neighbourhood};

/// What the patrol left.
pub struct Walk {
    pub patrol_id: PatrolId,
    pub stats: TrackStats,
    pub coverage: PatrolCoverage,
    pub check_in: Option<CheckIn>,
    /// (ms from the start, motion, advised interval in s) at each change of advice.
    pub transitions: Vec<(i64, Motion, u32)>,
    pub fixes_offered: u64,
    pub fixes_recorded: u64,
    pub route_length_m: f64,
    /// Where the chief stopped by a merchant (and found the overflowing bin).
    pub bin_spot: (f64, f64),
}

/// Up 八角西街, along 八角北路, down the alley, back along 杨庄东街.
fn route() -> Vec<(f64, f64)> {
    let streets = neighbourhood();
    let mut route = streets[0].1.clone();
    route.extend(streets[1].1.iter().skip(1));
    route.extend(streets[3].1.iter().skip(1));
    route.extend(streets[2].1.iter().rev().skip(1));
    route
}

pub fn walk(chief: &mut Phone, seed: u64, signboard_link: &str) -> Result<Walk> {
    let store = &mut chief.store;
    let planned: Vec<String> = store
        .assignments_of(&chief.user_id.to_string())?
        .into_iter()
        .map(|a| a.street_id.to_string())
        .collect();
    let route = route();
    let start_ms = 1_733_040_000_000; // 2024-12-01 08:00 UTC (16:00 in Beijing)
    let mut rng = SimRng::new(seed);
    let receiver = ReceiverModel {
        error_sigma_m: 6.0,
        spike_probability: 0.01,
        ..Default::default()
    };
    // Three minutes with a merchant two-thirds of the way round.
    let walk = simulate_walk(
        &route,
        1.3,
        start_ms,
        &receiver,
        Some((0.66, 180.0)),
        &mut rng,
    );

    let id = store.start_patrol(&planned)?;
    let mut check_in = None;
    let mut recorded = 0u64;
    let mut interval_s = 1u32;
    let mut last: Option<i64> = None;
    let mut transitions = Vec::new();
    for (fix, _truth) in &walk {
        let t = fix.time_ms.unwrap_or_default();
        // The phone follows the core's advice: while standing, it samples less often.
        if last.is_some_and(|l| t - l < interval_s as i64 * 1000) {
            continue;
        }
        last = Some(t);
        let out = store.add_fix(id, fix.clone())?;
        recorded += 1;
        // Halfway up 八角西街 the chief scans its signboard: proof of presence.
        if check_in.is_none() && fix.lat >= 39.9075 {
            check_in = store.scan_signboard(signboard_link, None)?.check_in;
        }
        if out.sampling.changed {
            interval_s = out.sampling.interval_s;
            transitions.push((t - start_ms, out.sampling.motion, interval_s));
        }
    }
    let stats = store.stop_patrol(id)?;
    let coverage = store.patrol_coverage(id)?;
    let stop = &walk[walk.len() * 2 / 3].1;
    Ok(Walk {
        patrol_id: id,
        stats,
        coverage,
        check_in,
        transitions,
        fixes_offered: walk.len() as u64,
        fixes_recorded: recorded,
        route_length_m: route_length_m(&route),
        bin_spot: (stop.lat, stop.lon),
    })
}
