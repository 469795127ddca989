//! Coverage: which stretches of which segments a patrol walked, by linear referencing of its
//! matched fixes.
//!
//! Each matched fix has a position along its segment. Consecutive matched fixes cover the way
//! between them along the network: on one segment, the interval between their positions; on
//! segments that meet, the pieces up to and from the shared junction (so 10 s sampling does not
//! lose the ends of every segment); further apart, the pieces of the shortest way, if walking
//! could explain it. A long time gap, or a jump no walk explains, covers nothing. Per segment the
//! covered intervals are merged (union), so walking a street twice does not count twice.
//!
//! Standing still covers nothing: runs of fixes that are not moving (platform speed below a
//! threshold, or, without speeds, hardly any travel over half a minute) are collapsed to one
//! place, so an hour of GPS drift in front of a shop adds no length.
//!
//! [`report`] turns coverage into per-street figures for a patrol or a period.

pub(crate) mod cache;
pub mod report;

#[cfg(feature = "reports")]
pub(crate) use cache::PatrolKey;

/// A patrol's finished coverage and match counts as bytes naming segments and streets by id
/// (the phone's coverage cache format), which the server keeps for its patrols too.
pub fn encode_coverage(
    coverage: &Coverage,
    summary: &MatchSummary,
    net: &crate::spatial::IndexedNetwork,
) -> Vec<u8> {
    cache::encode(coverage, summary, net)
}

/// Reads [`encode_coverage`]'s bytes back against `net`; `None` when they are damaged or name a
/// segment `net` lacks (then the patrol is covered again).
pub fn decode_coverage(
    bytes: &[u8],
    net: &crate::spatial::IndexedNetwork,
) -> Option<(Coverage, MatchSummary)> {
    cache::decode(bytes, net)
}

pub use patrol_model::coverage::*;

pub use patrol_model::matching::MatchSummary;
pub use report::{
    CoverageTotals, PatrolCoverage, PeriodCoverage, PeriodQuery, SegmentCoverage, StreetCoverage,
};

#[cfg(test)]
mod tests;
