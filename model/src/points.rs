//! Points rules: what a fact (a pickup, a verified issue, an hour of patrol) earns, as data the
//! district publishes in versions, and the one computation of what is due that phones and the
//! server share. The ledger itself is stored by the phone store and the server.

use serde::Serialize;

use crate::domain::{PointsEntryId, PointsKind, UserId};
use crate::error::{Error, Result};

/// Most bags or items one pickup record may claim.
pub const MAX_PICKUP_COUNT: u32 = 1_000;

/// A version of a points rule. Published by the district as reference data (table
/// `points_rule`, id `KIND:VERSION`) in this form.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointsRule {
    pub id: String,
    pub version: i64,
    pub kind: PointsKind,
    pub points: i64,
    pub per_bag: i64,
    pub daily_cap: Option<i64>,
    pub valid_from_ms: i64,
    pub description: String,
}

/// The rules every store and server starts with: the same rows as the store's schema inserts
/// (a test holds them equal). A district changes them by publishing new versions.
pub fn default_points_rules() -> Vec<PointsRule> {
    let rule = |kind: PointsKind, points, per_bag, daily_cap, description: &str| PointsRule {
        id: kind.as_str().into(),
        version: 1,
        kind,
        points,
        per_bag,
        daily_cap,
        valid_from_ms: 0,
        description: description.into(),
    };
    vec![
        rule(
            PointsKind::Pickup,
            2,
            1,
            Some(20),
            "2 points per pickup and 1 per bag, at most 20 a day",
        ),
        rule(
            PointsKind::VerifiedIssue,
            5,
            0,
            Some(25),
            "5 points for a reported issue that ends verified, at most 25 a day",
        ),
        rule(
            PointsKind::PatrolHour,
            4,
            0,
            Some(16),
            "4 points per full hour of patrol, at most 16 a day",
        ),
        rule(
            PointsKind::Redemption,
            0,
            0,
            None,
            "points spent on a reward",
        ),
    ]
}

impl PointsRule {
    /// Checks a published rule: its id is its kind, its version counts from 1, its numbers are
    /// not negative, its description is a clean text.
    pub fn validate(&self) -> Result<()> {
        let bad = |why: &str| {
            Err(Error::InvalidConfig(format!(
                "points rule {} version {}: {why}",
                self.id, self.version
            )))
        };
        if self.id != self.kind.as_str() {
            return bad("its id must be its kind");
        }
        if self.version < 1 {
            return bad("versions count from 1");
        }
        if self.points < 0 || self.per_bag < 0 || self.daily_cap.is_some_and(|c| c < 0) {
            return bad("points, per-bag points and caps cannot be negative");
        }
        if self.points > 1_000 || self.per_bag > 1_000 {
            return bad("at most 1,000 points for one fact");
        }
        if crate::text::check_text("description", &self.description, 500).is_err() {
            return bad("the description is not a clean text of at most 500 bytes");
        }
        Ok(())
    }

    /// The reference-data id of this version: `KIND:VERSION`.
    pub fn reference_id(&self) -> String {
        format!("{}:{}", self.id, self.version)
    }
}

/// Points a fact earns under a rule before the daily cap: a pickup's base and bags, a verified
/// issue, the full hours of a patrol. The one computation phones and the server share.
pub fn points_due(rule: &PointsRule, bags: u32, patrol_duration_s: f64) -> i64 {
    match rule.kind {
        PointsKind::Pickup => rule
            .points
            .saturating_add(rule.per_bag.saturating_mul(i64::from(bags))),
        PointsKind::VerifiedIssue => rule.points,
        PointsKind::PatrolHour => {
            let hours = (patrol_duration_s / 3600.0).floor();
            let hours = if hours.is_finite() {
                hours.clamp(0.0, 24.0) as i64
            } else {
                0
            };
            hours.saturating_mul(rule.points)
        }
        PointsKind::Redemption => 0,
    }
}

/// One entry of a user's points ledger: what a fact earned under which rule version, or a
/// redemption (negative). A phone's ledger rows and the reports read the same type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PointsEntry {
    pub id: PointsEntryId,
    pub user_id: UserId,
    pub at_ms: i64,
    /// Beijing calendar day, YYYY-MM-DD.
    pub day: String,
    pub kind: PointsKind,
    pub source_id: String,
    pub rule_id: String,
    pub rule_version: i64,
    pub points: i64,
    pub note: Option<String>,
}

impl PointsEntry {
    /// Written with 0 points because a daily cap cut it (its note says so).
    pub fn capped(&self) -> bool {
        self.note
            .as_deref()
            .is_some_and(|n| n.starts_with("daily cap"))
    }
}
