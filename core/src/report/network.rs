//! Coverage of the whole street network over a period (or all time): for every segment, how
//! many patrols patrolled it and how much of it the patrols covered together. What the coverage
//! map and the coverage GeoJSON draw.

use serde::Serialize;

use crate::coverage::{Coverage, PatrolKey};
use crate::domain::PatrolId;
use crate::error::Result;
use crate::report::assessment::patrolled_segments;
use crate::report::facts::patrols_between;
use crate::report::period::Period;
use crate::store::Store;

/// One segment's state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentState {
    /// Index into the loaded network's segments.
    pub segment: usize,
    /// Share of the segment covered by the patrols together, 0..1.
    pub covered_ratio: f64,
    /// Patrols that covered at least the rules' minimum share of it.
    pub patrols: u32,
}

/// The network's coverage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkCoverage {
    pub period: Option<Period>,
    pub patrols: Vec<PatrolId>,
    pub segments: Vec<SegmentState>,
}

impl NetworkCoverage {
    /// Total length covered over total length.
    pub fn covered_ratio(&self, store_net: &crate::streets::StreetNetwork) -> f64 {
        let (mut covered, mut total) = (0.0, 0.0);
        for s in &self.segments {
            let len = store_net.segments[s.segment].length_m;
            covered += len * s.covered_ratio;
            total += len;
        }
        if total > 0.0 { covered / total } else { 0.0 }
    }
}

impl Store {
    /// Every segment's coverage by the patrols started in `period` (all patrols when `None`).
    /// `min_share` is what one patrol must cover of a segment to count as patrolling it.
    pub fn network_coverage(
        &self,
        period: Option<&Period>,
        min_share: f64,
    ) -> Result<NetworkCoverage> {
        let net = self.street_network()?;
        let (from, to) = period.map_or((i64::MIN, i64::MAX), |p| (p.from_ms, p.to_ms));
        let patrols = patrols_between(self, from, to)?;
        let keys: Vec<PatrolKey> = patrols
            .iter()
            .map(|p| PatrolKey {
                row: p.row,
                stopped: p.stopped,
            })
            .collect();
        let mut union = Coverage::new();
        let mut counts = vec![0u32; net.network.segments.len()];
        for (c, _) in self.patrol_coverages(&net, &keys)? {
            for s in patrolled_segments(&net, &c, min_share) {
                counts[s] += 1;
            }
            union.add(&c);
        }
        union.finish(&net, &self.config.coverage);
        let segments = net
            .network
            .segments
            .iter()
            .enumerate()
            .map(|(i, seg)| SegmentState {
                segment: i,
                covered_ratio: if seg.length_m > 0.0 {
                    (union.segment_covered_m(&net.network, i) / seg.length_m).clamp(0.0, 1.0)
                } else {
                    0.0
                },
                patrols: counts[i],
            })
            .collect();
        Ok(NetworkCoverage {
            period: period.cloned(),
            patrols: patrols.iter().map(|p| p.id).collect(),
            segments,
        })
    }
}
