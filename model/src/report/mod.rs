//! What reports are computed by, over plain data: periods in Beijing time, the district's rules
//! and the scores they give.
//!
//! - [`period`]: report periods (`YYYY-MM`, `YYYY-MM-DD`, `YYYY-Www`, `FROM..TO`) in Beijing
//!   time (UTC+8), where the district works.
//! - [`rules`]: the versioned rules (weights, thresholds, caps, credit decay and rating bands)
//!   every score is computed by; a default ships.
//! - [`score`]: indicators + rules -> a score explained line by line.

pub mod period;
pub mod rules;
pub mod score;

pub use period::Period;
pub use rules::ReportRules;
pub use score::{Score, ScoreLine};
