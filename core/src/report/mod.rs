//! Supervisors' reports, read on a phone after a wifi sync and exported for the office.
//!
//! - [`period`]: report periods (`YYYY-MM`, `YYYY-MM-DD`, `YYYY-Www`, `FROM..TO`) in Beijing
//!   time (UTC+8), where the district works.
//! - [`rules`]: the versioned rules file (weights, thresholds, caps, credit decay and rating
//!   bands) every score is computed by; a default ships, `--rules FILE` replaces it.
//! - [`score`]: indicators + rules -> a score explained line by line. Pure.
//! - `facts`: what reports read: people, assignments, patrols of a period, issue outcomes as
//!   of a period's end (from the issue timeline projection).
//! - [`assessment`]: the chief assessment (考核).
//! - [`stewards`]: points, leaderboards per subdistrict, pickups per street, workload.
//! - [`merchants`]: merchant credit from frontage-duty inspections and linked issues.
//! - [`network`]: coverage of the whole network over a period (maps, GeoJSON).
//! - [`table`], [`tables`], [`export`]: reports as tables, CSV and XLSX; GeoJSON and GPX.
//!
//! Every patrol counts the same whatever its source (recorded here, imported, or synced from
//! another device): a supervisor's store holds everyone's. Only the assessment looks at how a
//! patrol was made (its origin), to show imported ones and, if the rules say so, leave them out.

pub use patrol_model::report::{period, rules, score};

pub mod assessment;
pub mod export;
pub(crate) mod facts;
pub mod merchants;
pub mod network;
mod published;
pub mod stewards;
pub mod table;
pub mod tables;

#[cfg(test)]
mod tests;

pub use assessment::{AssessmentReport, ChiefAssessment, StreetAssessment};
pub use facts::{IssueOutcome, Person};
pub use merchants::{MerchantCredit, MerchantReport};
pub use network::NetworkCoverage;
pub use period::Period;
pub use rules::ReportRules;
pub use score::{Score, ScoreLine};
pub use stewards::StewardReport;
pub use table::{Cell, Table};
pub use tables::ToTables;
