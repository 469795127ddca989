//! Coverage of the whole street network over a period (or all time): for every segment, how
//! many patrols patrolled it and how much of it the patrols covered together. What the coverage
//! map and the coverage GeoJSON draw.

use serde::Serialize;

use crate::coverage::{Coverage, CoverageConfig};
use crate::domain::PatrolId;
use crate::report::facts::CoverageFacts;
use crate::report::period::Period;
use crate::spatial::IndexedNetwork;
use crate::streets::StreetNetwork;

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
    /// Total length covered over total length (segments `network` lacks count nowhere).
    pub fn covered_ratio(&self, network: &StreetNetwork) -> f64 {
        let (mut covered, mut total) = (0.0, 0.0);
        for s in &self.segments {
            let Some(seg) = network.segments.get(s.segment) else {
                continue;
            };
            covered += seg.length_m * s.covered_ratio;
            total += seg.length_m;
        }
        if total > 0.0 { covered / total } else { 0.0 }
    }
}

/// Every segment's coverage by some patrols (`patrols`, each with its own finished
/// `coverages`, in the same order): the union of what they covered, and per segment how many
/// covered at least `min_share` of it. The union is finished by `config` (sidepaths credited,
/// intervals merged), as one patrol's coverage is.
pub fn network_coverage(
    net: &IndexedNetwork,
    period: Option<&Period>,
    patrols: Vec<PatrolId>,
    coverages: &[Coverage],
    min_share: f64,
    config: &CoverageConfig,
) -> NetworkCoverage {
    let mut union = Coverage::new();
    let mut counts = vec![0u32; net.network.segments.len()];
    for c in coverages {
        for s in CoverageFacts::of(c, &net.network).patrolled_segments(&net.network, min_share) {
            if let Some(n) = counts.get_mut(s) {
                *n += 1;
            }
        }
        union.add(c);
    }
    union.finish(net, config);
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
    NetworkCoverage {
        period: period.cloned(),
        patrols,
        segments,
    }
}
