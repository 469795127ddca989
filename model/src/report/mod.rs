//! What reports are computed by, over plain data: periods in Beijing time, the district's rules,
//! the scores they give, the facts reports read and the reports themselves. Whoever holds the
//! data (a phone's SQLite store, the district server's storage) gathers the facts; the same
//! functions here compute the same reports from them.
//!
//! - [`period`]: report periods (`YYYY-MM`, `YYYY-MM-DD`, `YYYY-Www`, `FROM..TO`) in Beijing
//!   time (UTC+8), where the district works.
//! - [`rules`]: the versioned rules (weights, thresholds, caps, credit decay and rating bands)
//!   every score is computed by; a default ships.
//! - [`score`]: indicators + rules -> a score explained line by line.
//! - [`facts`]: what reports read: people and assignments, patrols with what they covered,
//!   issue outcomes as of a period's end, ledger rows, pickups.
//! - [`assessment`]: the chief assessment (考核), [`assess_chiefs`].
//! - [`stewards`]: points, leaderboards per subdistrict, pickups per street, workload,
//!   [`steward_report`].
//! - [`merchants`]: merchant credit from frontage-duty inspections and linked issues,
//!   [`merchant_report`].
//! - [`network`]: coverage of the whole network over a period, [`network_coverage`].

pub mod assessment;
pub mod facts;
pub mod merchants;
pub mod network;
pub mod period;
pub mod rules;
pub mod score;
pub mod stewards;

#[cfg(test)]
mod tests;

pub use assessment::{
    AssessmentFacts, AssessmentReport, ChiefAssessment, StreetAssessment, assess_chiefs,
};
pub use facts::{IssueOutcome, Person};
pub use merchants::{MerchantCredit, MerchantFacts, MerchantReport, merchant_report};
pub use network::{NetworkCoverage, SegmentState, network_coverage};
pub use period::Period;
pub use rules::ReportRules;
pub use score::{Score, ScoreLine};
pub use stewards::{StewardFacts, StewardReport, steward_report};
