//! The rules reports score by, as data: a versioned JSON document with the weights, thresholds
//! and caps of the chief assessment, the steward workload settings, and the merchant credit
//! rules (penalties, time decay, rating bands). A default ships with the app
//! (`default_rules.json`); a district replaces it with its own file (`--rules FILE`). Every
//! score a report prints names the rules' name and version, so a score can always be traced
//! back to the rules that made it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The rules shipped with the app.
pub const DEFAULT_RULES_JSON: &str = include_str!("default_rules.json");

/// All report rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportRules {
    pub version: u32,
    pub name: String,
    pub assessment: AssessmentRules,
    pub stewards: StewardRules,
    pub merchants: MerchantRules,
}

/// How chiefs are assessed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentRules {
    /// One patrol counts as having patrolled a segment when it covered at least this share of it.
    pub segment_patrolled_min_share: f64,
    /// Patrols each segment needs per week, by street class (OpenStreetMap `highway` value), with
    /// `default` for the rest. In a period of D days a segment needs ceil(rate x D / 7) patrols,
    /// at least one.
    pub required_patrols_per_week: BTreeMap<String, f64>,
    /// Whether patrols imported from GPS files (not recorded in the app) count like recorded
    /// ones. Either way the report says how many there were. Rules files that do not say count
    /// them.
    #[serde(default = "yes")]
    pub count_imported_patrols: bool,
    /// The score lines, in the order they are explained.
    pub lines: Vec<ScoreRule>,
}

fn yes() -> bool {
    true
}

/// One line of the score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreRule {
    pub metric: Metric,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Scale lines: up to `weight` points, linear from `zero_at` (0 points) to `full_at` (all
    /// of them); `full_at` below `zero_at` means lower is better (hours to verify).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_at: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zero_at: Option<f64>,
    /// Count lines: `per_unit` points for each unit of the metric (negative: a penalty), at
    /// most `cap` points either way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_unit: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<f64>,
    /// What a scale line gives when the metric has no value (no issues on the chief's streets
    /// to handle, no streets assigned): all its points or none.
    #[serde(default)]
    pub when_none: WhenNone,
    /// A scale line's points count only as far as another duty was met: they are multiplied
    /// by the share of its points the (unscaled) scale line of this metric gave, 0 to 1. The
    /// default rules scale the issue-handling lines by `coverage_share`, so a chief with no
    /// streets or no patrols does not get their full marks for having nothing to handle.
    /// Since rules version 2; files without it score every line on its own, as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaled_by: Option<Metric>,
}

/// What a line gives when its metric has no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenNone {
    Full,
    #[default]
    Zero,
}

/// What an assessment line measures. The rate metrics are per week of the period, so the same
/// thresholds work for a day, a week or a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Share of the chief's assigned segments patrolled at least the required number of times.
    CoverageShare,
    PatrolHoursPerWeek,
    PatrolsPerWeek,
    DistanceKmPerWeek,
    IssuesFoundPerWeek,
    /// Shares of the issues reported on the chief's streets in the period, as of its end.
    AssignedShare,
    OnTimeShare,
    VerifiedShare,
    /// Issues on the chief's streets reopened by the end of the period.
    Reopened,
    /// Median hours from report to verification of the issues verified by the period's end.
    MedianHoursToVerify,
    Patrols,
    IssuesFound,
}

impl Metric {
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::CoverageShare => "coverage_share",
            Metric::PatrolHoursPerWeek => "patrol_hours_per_week",
            Metric::PatrolsPerWeek => "patrols_per_week",
            Metric::DistanceKmPerWeek => "distance_km_per_week",
            Metric::IssuesFoundPerWeek => "issues_found_per_week",
            Metric::AssignedShare => "assigned_share",
            Metric::OnTimeShare => "on_time_share",
            Metric::VerifiedShare => "verified_share",
            Metric::Reopened => "reopened",
            Metric::MedianHoursToVerify => "median_hours_to_verify",
            Metric::Patrols => "patrols",
            Metric::IssuesFound => "issues_found",
        }
    }
}

/// Steward report settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StewardRules {
    /// A street no steward's patrol covered in this many days before the period's end is flagged.
    pub lately_days: u32,
    /// Share of a segment one patrol must cover to count as patrolling it.
    pub segment_patrolled_min_share: f64,
}

/// Merchant credit rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MerchantRules {
    /// An issue of a linked category within this distance of a merchant is linked to the
    /// nearest such merchant (unless someone unlinked it).
    pub link_radius_m: f64,
    pub linked_categories: Vec<String>,
    /// The score of a merchant with a clean record.
    pub base_score: f64,
    /// Every point earned or lost weighs half as much after this many days.
    pub half_life_days: f64,
    /// Points per inspected item (sanitation, greening, order) by grade.
    pub grade_points: BTreeMap<String, f64>,
    /// Points per linked issue by category, with `default`.
    pub issue_points: BTreeMap<String, f64>,
    /// Rating bands, best first: the first whose `min_score` the score reaches.
    pub ratings: Vec<RatingBand>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingBand {
    pub rating: String,
    pub min_score: f64,
}

impl Default for ReportRules {
    fn default() -> Self {
        // The shipped file is checked by a test; a broken build of it cannot reach a phone.
        Self::from_json(DEFAULT_RULES_JSON)
            .unwrap_or_else(|e| panic!("the shipped default_rules.json is invalid: {e}"))
    }
}

impl ReportRules {
    /// Parses and checks a rules document.
    pub fn from_json(text: &str) -> Result<Self> {
        let rules: ReportRules = serde_json::from_str(text)
            .map_err(|e| Error::InvalidConfig(format!("the rules file is not valid: {e}")))?;
        rules.validate()?;
        Ok(rules)
    }

    /// The reference-data id the district publishes its report rules under (`table = "rules"`).
    pub const REFERENCE_ID: &'static str = "report";

    /// Checks the numbers make sense, with a message naming the line at fault.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: String| {
            Err(Error::InvalidConfig(format!(
                "rules {:?} v{}: {what}",
                self.name, self.version
            )))
        };
        let share = |v: f64| v.is_finite() && (0.0..=1.0).contains(&v);
        let a = &self.assessment;
        if !share(a.segment_patrolled_min_share) || a.segment_patrolled_min_share == 0.0 {
            return bad("assessment.segment_patrolled_min_share must be in (0, 1]".into());
        }
        if !a.required_patrols_per_week.contains_key("default") {
            return bad("assessment.required_patrols_per_week needs a \"default\"".into());
        }
        if let Some((class, v)) = a
            .required_patrols_per_week
            .iter()
            .find(|(_, v)| !(v.is_finite() && **v > 0.0))
        {
            return bad(format!(
                "assessment.required_patrols_per_week.{class} must be above 0, not {v}"
            ));
        }
        if a.lines.is_empty() {
            return bad("assessment.lines is empty: nothing to score".into());
        }
        for (i, l) in a.lines.iter().enumerate() {
            let name = format!("assessment.lines[{i}] ({})", l.metric.as_str());
            let finite = |v: Option<f64>| v.is_none_or(f64::is_finite);
            if !(finite(l.weight)
                && finite(l.full_at)
                && finite(l.zero_at)
                && finite(l.per_unit)
                && finite(l.cap))
            {
                return bad(format!("{name} has a number that is not finite"));
            }
            match (l.weight, l.full_at, l.zero_at, l.per_unit, l.cap) {
                (Some(w), Some(full), Some(zero), None, None) => {
                    if w < 0.0 {
                        return bad(format!("{name}: weight cannot be negative"));
                    }
                    if full == zero {
                        return bad(format!("{name}: full_at and zero_at must differ"));
                    }
                }
                (None, None, None, Some(_), Some(cap)) => {
                    if cap < 0.0 {
                        return bad(format!("{name}: cap cannot be negative"));
                    }
                }
                _ => {
                    return bad(format!(
                        "{name} must be either a scale line (weight, full_at, zero_at) or a count line (per_unit, cap)"
                    ));
                }
            }
            if let Some(by) = l.scaled_by {
                if l.weight.is_none() {
                    return bad(format!(
                        "{name}: scaled_by applies to scale lines only, not to count lines"
                    ));
                }
                if by == l.metric {
                    return bad(format!("{name}: a line cannot be scaled_by its own metric"));
                }
                let Some(base) = a
                    .lines
                    .iter()
                    .find(|o| o.metric == by && o.weight.is_some())
                else {
                    return bad(format!(
                        "{name}: scaled_by {:?} names no scale line of these rules",
                        by.as_str()
                    ));
                };
                if base.scaled_by.is_some() {
                    return bad(format!(
                        "{name}: scaled_by {:?} names a line that is itself scaled",
                        by.as_str()
                    ));
                }
            }
        }
        if !(self.stewards.lately_days > 0 && share(self.stewards.segment_patrolled_min_share)) {
            return bad(
                "stewards.lately_days must be at least 1 and segment_patrolled_min_share in (0, 1]"
                    .into(),
            );
        }
        let m = &self.merchants;
        if !(m.link_radius_m.is_finite() && m.link_radius_m >= 0.0) {
            return bad("merchants.link_radius_m must be 0 or more".into());
        }
        if !(m.half_life_days.is_finite() && m.half_life_days > 0.0) {
            return bad("merchants.half_life_days must be above 0".into());
        }
        if !m.base_score.is_finite() {
            return bad("merchants.base_score must be a number".into());
        }
        for g in crate::domain::DutyGrade::ALL {
            if !m
                .grade_points
                .get(g.as_str())
                .is_some_and(|v| v.is_finite())
            {
                return bad(format!(
                    "merchants.grade_points needs a number for {:?}",
                    g.as_str()
                ));
            }
        }
        if !m.issue_points.get("default").is_some_and(|v| v.is_finite()) {
            return bad("merchants.issue_points needs a \"default\"".into());
        }
        if m.ratings.is_empty()
            || m.ratings
                .windows(2)
                .any(|w| w[0].min_score <= w[1].min_score)
        {
            return bad(
                "merchants.ratings must list bands best first with falling min_score".into(),
            );
        }
        if m.ratings
            .iter()
            .any(|r| r.rating.trim().is_empty() || !r.min_score.is_finite())
        {
            return bad("merchants.ratings: every band needs a rating and a min_score".into());
        }
        Ok(())
    }

    /// Patrols a segment of street class `class` needs in a period of `days` days.
    pub fn required_patrols(&self, class: &str, days: f64) -> u32 {
        let table = &self.assessment.required_patrols_per_week;
        let per_week = table
            .get(class)
            .or_else(|| table.get("default"))
            .copied()
            .unwrap_or(1.0);
        // A hair under an integer stays that integer (30 days x 7 / 7 is 30, not 31).
        ((per_week * days / 7.0) - 1e-9).ceil().max(1.0) as u32
    }

    /// The rating band a merchant credit score falls in.
    pub fn rating(&self, score: f64) -> String {
        self.merchants
            .ratings
            .iter()
            .find(|b| score >= b.min_score)
            .or(self.merchants.ratings.last())
            .map(|b| b.rating.clone())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_rules_are_valid_and_weigh_100() {
        let r = ReportRules::from_json(DEFAULT_RULES_JSON).unwrap();
        assert_eq!(r, ReportRules::default());
        let max: f64 = r.assessment.lines.iter().filter_map(|l| l.weight).sum();
        assert_eq!(max, 100.0);
        assert_eq!(r.required_patrols("residential", 30.0), 13);
        assert_eq!(r.required_patrols("residential", 7.0), 3);
        assert_eq!(r.required_patrols("residential", 1.0), 1);
        assert_eq!(r.required_patrols("no_such_class", 7.0), 2);
        assert_eq!(r.rating(95.0), "A");
        assert_eq!(r.rating(75.0), "B");
        assert_eq!(r.rating(-3.0), "D");
    }

    #[test]
    fn bad_rules_are_refused_with_the_line_at_fault() {
        let mut v: serde_json::Value = serde_json::from_str(DEFAULT_RULES_JSON).unwrap();
        v["assessment"]["lines"][1]["cap"] = 3.into();
        let e = ReportRules::from_json(&v.to_string())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("lines[1]") && e.contains("patrol_hours_per_week"),
            "{e}"
        );
        let mut v: serde_json::Value = serde_json::from_str(DEFAULT_RULES_JSON).unwrap();
        v["assessment"]["lines"][0]["metric"] = "charisma".into();
        let e = ReportRules::from_json(&v.to_string())
            .unwrap_err()
            .to_string();
        assert!(e.contains("charisma"), "{e}");
        let mut v: serde_json::Value = serde_json::from_str(DEFAULT_RULES_JSON).unwrap();
        v["merchants"]["ratings"][1]["min_score"] = 95.into();
        assert!(ReportRules::from_json(&v.to_string()).is_err());
        let mut v: serde_json::Value = serde_json::from_str(DEFAULT_RULES_JSON).unwrap();
        v["assessment"]["weights"] = 1.into();
        let e = ReportRules::from_json(&v.to_string())
            .unwrap_err()
            .to_string();
        assert!(e.contains("weights"), "unknown fields are typos: {e}");
        assert!(ReportRules::from_json("{").is_err());
        for (line, by, says) in [
            (7, "coverage_share", "scale lines only"),
            (3, "assigned_share", "its own metric"),
            (3, "patrols", "names no scale line"),
        ] {
            let mut v: serde_json::Value = serde_json::from_str(DEFAULT_RULES_JSON).unwrap();
            v["assessment"]["lines"][line]["scaled_by"] = by.into();
            let e = ReportRules::from_json(&v.to_string())
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(&format!("lines[{line}]")) && e.contains(says),
                "{e}"
            );
        }
        let mut v: serde_json::Value = serde_json::from_str(DEFAULT_RULES_JSON).unwrap();
        v["assessment"]["lines"][0]["scaled_by"] = "assigned_share".into();
        let e = ReportRules::from_json(&v.to_string())
            .unwrap_err()
            .to_string();
        assert!(e.contains("itself scaled"), "{e}");
    }
}
