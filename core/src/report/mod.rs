//! Supervisors' reports, read on a phone after a wifi sync and exported for the office.
//!
//! The reports are computed in the model ([`patrol_model::report`]) from plain facts, so the
//! district server computes the same ones from its own storage. Here the phone gathers those
//! facts from its store and exports what the model computed:
//!
//! - [`period`], [`rules`], [`score`]: periods in Beijing time, the versioned rules file (a
//!   default ships, `--rules FILE` replaces it), scores explained line by line (the model's).
//! - [`assessment`], [`stewards`], [`merchants`], [`network`]: the chief assessment (考核), the
//!   steward report, merchant credit and network coverage (the model's).
//! - `facts`: gathering the facts from SQLite: people, assignments, patrols of a period, issue
//!   outcomes as of a period's end (from the issue timeline projection), ledger rows, pickups.
//! - `published`: the rules the district published, as received in sync.
//! - [`table`], [`tables`], [`export`]: reports as tables, CSV and XLSX; GeoJSON and GPX.
//!
//! The entry points on a store (`Store::assessment_report`, `Store::steward_report`, ...) are
//! in `crate::api::reports`: they gather, then call the model.
//!
//! Every patrol counts the same whatever its source (recorded here, imported, or synced from
//! another device): a supervisor's store holds everyone's. Only the assessment looks at how a
//! patrol was made (its origin), to show imported ones and, if the rules say so, leave them out.

pub use patrol_model::report::{assessment, merchants, network, period, rules, score, stewards};

pub mod export;
pub(crate) mod facts;
pub(crate) mod published;
pub mod table;
pub mod tables;

#[cfg(test)]
mod tests;

pub use assessment::{AssessmentReport, ChiefAssessment, StreetAssessment};
pub use merchants::{MerchantCredit, MerchantReport};
pub use network::NetworkCoverage;
pub use patrol_model::report::facts::{IssueOutcome, Person};
pub use period::Period;
pub use rules::ReportRules;
pub use score::{Score, ScoreLine};
pub use stewards::StewardReport;
pub use table::{Cell, Table};
pub use tables::ToTables;
