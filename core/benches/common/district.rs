//! The district month two benchmarks build, each into its own storage: the reports benchmark into
//! a district supervisor's phone store (`core/benches/reports.rs`), the office benchmark into a
//! server's data folder (`server/benches/office.rs`). Only the plan is here: the street grid,
//! the people, every patrol's walk, the issues and the pickups, in the order the random numbers
//! are drawn, so both stores hold the same month.
//!
//! - 685 streets: a 38 x 38 grid of nodes 150 m apart, each row and column cut into streets of
//!   four blocks, and one alley, in subdistrict 八角;
//! - 315 chiefs (street `k` is chief `k % 315`'s) and 1,500 stewards (steward `i` on street
//!   `i % 685`);
//! - 30 days of patrols from 2024-12-01 (Beijing): every chief every day along one of their
//!   streets and back, every steward once a week along their street, GPS at 5 s with simulated
//!   receiver error;
//! - 50 issues a day on random streets, most taken round their loop (assigned to the owning
//!   department, accepted an hour later, resolved with an after-photo 0 to 29 hours after that);
//! - two pickups a day by every steward, each worth 3 points.
//!
//! Included with `#[path]` by the benchmarks that use it (not from `common/mod.rs`, which every
//! benchmark includes).

#![allow(dead_code, reason = "each benchmark uses its part of the plan")]

use patrol_model::domain::NewFix;
use patrol_model::sim::{ReceiverModel, SimRng, simulate_walk};

pub const CHIEFS: usize = 315;
pub const STEWARDS: usize = 1_500;
pub const DAYS: i64 = 30;
pub const ISSUES_PER_DAY: usize = 50;
/// 2024-12-01 00:00 in Beijing.
pub const DEC_1: i64 = 1_732_982_400_000;
pub const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;
/// Grid: 38 x 38 nodes 150 m apart; each row and column is cut into streets of 4 blocks.
const NODES: usize = 38;
const BLOCK_M: f64 = 150.0;
/// The subdistrict every street lies in (the `subdistrict` property of the GeoJSON).
pub const SUBDISTRICT: &str = "八角";
/// The issues' categories, in turn.
pub const CATEGORIES: [&str; 6] = [
    "litter",
    "overflowing_bin",
    "illegal_parking",
    "street_vending",
    "greening",
    "frontage_duty_violation",
];
/// The seeds of the walk simulator and of the issues' streets and delays.
pub const WALK_SEED: u64 = 49;
pub const ISSUE_SEED: u64 = 7;

/// Chief `i`'s user id.
pub fn chief_id(i: usize) -> String {
    format!("00000000-0000-7000-8000-{i:012}")
}

/// Steward `i`'s user id.
pub fn steward_id(i: usize) -> String {
    format!("00000000-0000-7000-9000-{i:012}")
}

pub fn chief_name(i: usize) -> String {
    format!("街巷长{i:03}")
}

pub fn steward_name(i: usize) -> String {
    format!("管家{i:04}")
}

/// (lat, lon) of a point `x` metres east and `y` metres north of the grid's corner.
pub fn at(x: f64, y: f64) -> (f64, f64) {
    let m = 111_195.08;
    (39.88 + y / m, 116.14 + x / (m * 39.9f64.to_radians().cos()))
}

/// The streets: (name, polyline in metres).
pub fn grid() -> Vec<(String, Vec<(f64, f64)>)> {
    let mut out = Vec::new();
    let cuts: Vec<(usize, usize)> = (0..9)
        .map(|k| (k * 4, if k == 8 { NODES - 1 } else { k * 4 + 4 }))
        .collect();
    for row in 0..NODES {
        for (k, &(a, b)) in cuts.iter().enumerate() {
            let y = row as f64 * BLOCK_M;
            out.push((
                format!("东西{row:02}-{k}"),
                vec![(a as f64 * BLOCK_M, y), (b as f64 * BLOCK_M, y)],
            ));
            let x = row as f64 * BLOCK_M;
            out.push((
                format!("南北{row:02}-{k}"),
                vec![(x, a as f64 * BLOCK_M), (x, b as f64 * BLOCK_M)],
            ));
        }
    }
    // One alley more makes the district's 685.
    out.push(("小巷".into(), vec![(75.0, 0.0), (75.0, BLOCK_M)]));
    out
}

/// The streets as the GeoJSON file a district imports (import with segments of at most 205 m).
pub fn geojson(streets: &[(String, Vec<(f64, f64)>)]) -> String {
    let features: Vec<_> = streets
        .iter()
        .map(|(name, pts)| {
            let coords: Vec<_> = pts.iter().map(|&(x, y)| at(x, y)).map(|(la, lo)| serde_json::json!([lo, la])).collect();
            serde_json::json!({ "type": "Feature", "properties": { "name": name, "highway": "residential", "subdistrict": SUBDISTRICT },
                                "geometry": { "type": "LineString", "coordinates": coords } })
        })
        .collect();
    serde_json::json!({ "type": "FeatureCollection", "features": features }).to_string()
}

/// The longest segment the street import makes.
pub const MAX_SEGMENT_M: f64 = 205.0;

/// A walk along `route` (metres) and, when `there_and_back`, back again, as a phone records it
/// at one fix every 5 s.
pub fn walk(
    route: &[(f64, f64)],
    there_and_back: bool,
    start_ms: i64,
    rng: &mut SimRng,
) -> Vec<NewFix> {
    let mut pts: Vec<(f64, f64)> = route.iter().map(|&(x, y)| at(x, y)).collect();
    if there_and_back {
        pts.extend(route.iter().rev().skip(1).map(|&(x, y)| at(x, y)));
    }
    let receiver = ReceiverModel {
        interval_s: 5.0,
        error_sigma_m: 4.0,
        spike_probability: 0.002,
        ..Default::default()
    };
    simulate_walk(&pts, 1.2, start_ms, &receiver, None, rng)
        .into_iter()
        .map(|(f, _)| f)
        .collect()
}

/// Who walks a patrol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walker {
    Chief(usize),
    Steward(usize),
}

/// One patrol of the month: who, along which street (index into [`grid`]), whether back
/// again, from when.
#[derive(Debug, Clone, Copy)]
pub struct PlannedPatrol {
    pub walker: Walker,
    pub street: usize,
    pub there_and_back: bool,
    pub start_ms: i64,
}

/// The patrols of day `day` (0-based) among `streets` streets, in the order their walks are
/// simulated: every chief along one of their streets (a different one each day) and back, then
/// the stewards whose day of the week it is, along their street.
pub fn patrols_of_day(day: i64, streets: usize) -> Vec<PlannedPatrol> {
    let mut out = Vec::new();
    for c in 0..CHIEFS {
        let mine: Vec<usize> = (0..streets).filter(|k| k % CHIEFS == c).collect();
        out.push(PlannedPatrol {
            walker: Walker::Chief(c),
            street: mine[day as usize % mine.len()],
            there_and_back: true,
            start_ms: DEC_1 + day * DAY + (8 + (c % 4) as i64) * HOUR,
        });
    }
    for i in (0..STEWARDS).filter(|i| (*i as i64 + day) % 7 == 0) {
        out.push(PlannedPatrol {
            walker: Walker::Steward(i),
            street: i % streets,
            there_and_back: false,
            start_ms: DEC_1 + day * DAY + 15 * HOUR,
        });
    }
    out
}

/// One litter pickup: its id (also its points entry's), the steward, when and where, and the
/// steward's street (index into [`grid`]). One bag each.
#[derive(Debug, Clone)]
pub struct PlannedPickup {
    pub id: String,
    pub steward: usize,
    pub at_ms: i64,
    pub lat: f64,
    pub lon: f64,
    pub street: usize,
}

/// Every steward's two pickups a day, day by day.
pub fn pickups(streets: usize) -> Vec<PlannedPickup> {
    let mut out = Vec::new();
    for day in 0..DAYS {
        for i in 0..STEWARDS {
            for k in 0..2 {
                let (lat, lon) = at(((i * 37) % 5000) as f64, ((i * 53) % 5000) as f64);
                out.push(PlannedPickup {
                    id: format!("00000000-0000-7000-a{:03}-{:012}", day * 2 + k, i),
                    steward: i,
                    at_ms: DEC_1 + day * DAY + (9 + k) * HOUR,
                    lat,
                    lon,
                    street: i % streets,
                });
            }
        }
    }
    out
}

/// One issue: reported on street `street` (index into [`grid`]) 10 m from its start; every
/// 20th stays unassigned, every 7th of the rest stays assigned to the owning department, the
/// others are accepted an hour after the report and resolved with an after-photo.
#[derive(Debug, Clone)]
pub struct PlannedIssue {
    pub street: usize,
    pub lat: f64,
    pub lon: f64,
    pub category: &'static str,
    pub reported_at_ms: i64,
    /// Assigned to the owning department when reported.
    pub assigned: bool,
    pub accepted_at_ms: Option<i64>,
    pub resolved_at_ms: Option<i64>,
}

/// The month's issues, in order.
pub fn issues(streets: &[(String, Vec<(f64, f64)>)]) -> Vec<PlannedIssue> {
    let mut r = SimRng::new(ISSUE_SEED);
    let mut out = Vec::new();
    for day in 0..DAYS {
        for n in 0..ISSUES_PER_DAY {
            let k = (r.next_u64() % streets.len() as u64) as usize;
            let (x0, y0) = streets[k].1[0];
            let (lat, lon) = at(x0 + 10.0, y0);
            let reported_at_ms = DEC_1 + day * DAY + 7 * HOUR + n as i64 * 600_000;
            let mut issue = PlannedIssue {
                street: k,
                lat,
                lon,
                category: CATEGORIES[n % CATEGORIES.len()],
                reported_at_ms,
                assigned: n % 20 != 0,
                accepted_at_ms: None,
                resolved_at_ms: None,
            };
            if issue.assigned && n % 7 != 0 {
                let accepted = reported_at_ms + HOUR;
                issue.accepted_at_ms = Some(accepted);
                issue.resolved_at_ms = Some(accepted + (r.next_u64() % 30) as i64 * HOUR);
            }
            out.push(issue);
        }
    }
    out
}
