//! Scoring: indicator values and the rules' lines in, a score and its explanation out, one
//! line per rule saying what was measured, the rule, and the points it gave. Pure: the same
//! values and rules always give the same score.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::report::rules::{Metric, ScoreRule, WhenNone};

/// One explained line of a score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreLine {
    pub metric: Metric,
    pub label: String,
    /// The measured value (`None`: nothing to measure, see `explanation`).
    pub value: Option<f64>,
    /// What the measurement is made of ("6 of 8 segments").
    pub detail: String,
    pub points: f64,
    /// Most points the line can give (0 for penalty lines).
    pub max_points: f64,
    /// The rule applied, in words, with the arithmetic.
    pub explanation: String,
}

/// A score: the sum of its lines (never below 0) out of the most the rules can give.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    pub score: f64,
    pub max_score: f64,
    pub lines: Vec<ScoreLine>,
}

/// A measured indicator: its value and what it is made of.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Measured {
    pub value: Option<f64>,
    pub detail: String,
}

/// Scores `values` by `rules`. A metric the values lack counts as `None`. A line with
/// `scaled_by` is multiplied by the share of its points the named line gave.
pub fn score(rules: &[ScoreRule], values: &BTreeMap<Metric, Measured>) -> Score {
    let value_of = |m: Metric| values.get(&m).cloned().unwrap_or_default();
    let mut lines = Vec::with_capacity(rules.len());
    for r in rules {
        let scale = r.scaled_by.and_then(|by| {
            rules
                .iter()
                .find(|o| o.metric == by && o.weight.is_some())
                .map(|base| (earned_share(base, &value_of(by)), base))
        });
        lines.push(score_line(r, value_of(r.metric), scale));
    }
    let total: f64 = lines.iter().map(|l| l.points).sum();
    Score {
        score: round2(total.max(0.0)),
        max_score: round2(lines.iter().map(|l| l.max_points).sum()),
        lines,
    }
}

fn label_of(r: &ScoreRule) -> String {
    r.label
        .clone()
        .unwrap_or_else(|| r.metric.as_str().replace('_', " "))
}

/// The share (0 to 1) of its points a scale line gives for `m`; 0 for a count line.
fn earned_share(r: &ScoreRule, m: &Measured) -> f64 {
    match (r.full_at, r.zero_at, m.value) {
        (Some(_), Some(_), None) if r.when_none == WhenNone::Full => 1.0,
        (Some(_), Some(_), None) => 0.0,
        (Some(full), Some(zero), Some(v)) => ((v - zero) / (full - zero)).clamp(0.0, 1.0),
        _ => 0.0,
    }
}

fn score_line(r: &ScoreRule, m: Measured, scale: Option<(f64, &ScoreRule)>) -> ScoreLine {
    let label = label_of(r);
    let (points, max_points, explanation) = match (
        r.weight, r.full_at, r.zero_at, r.per_unit, r.cap,
    ) {
        (Some(w), Some(full), Some(zero), _, _) => {
            let rule = format!(
                "{} points at {} or {}, 0 at {}",
                num(w),
                num(full),
                if full > zero { "more" } else { "less" },
                num(zero)
            );
            let share = earned_share(r, &m);
            let p = w * share;
            let unscaled = match m.value {
                None => format!(
                    "nothing to measure: {} of {} points ({rule})",
                    num(p),
                    num(w)
                ),
                Some(_) => format!(
                    "{} x {} = {} of {} points ({rule})",
                    num(w),
                    num(share),
                    num(p),
                    num(w)
                ),
            };
            match scale {
                None => (p, w, unscaled),
                Some((duty, base)) => {
                    let scaled = p * duty;
                    (
                        scaled,
                        w,
                        format!(
                            "{unscaled}; x {} = {} points, the share met of \"{}\" (these points count only as far as that duty was met)",
                            num(duty),
                            num(scaled),
                            label_of(base),
                        ),
                    )
                }
            }
        }
        (_, _, _, Some(per), Some(cap)) => {
            let v = m.value.unwrap_or(0.0);
            let raw = per * v;
            let p = raw.clamp(-cap, cap);
            let max = if per > 0.0 { cap } else { 0.0 };
            let capped = if p != raw {
                format!(", capped at {}", num(if per > 0.0 { cap } else { -cap }))
            } else {
                String::new()
            };
            (
                p,
                max,
                format!(
                    "{} x {} = {} points{capped} ({} per unit, at most {} either way)",
                    num(v),
                    num(per),
                    num(p),
                    num(per),
                    num(cap)
                ),
            )
        }
        // Rules are validated before use; a line that is neither gives nothing.
        _ => (0.0, 0.0, "not a valid line".into()),
    };
    ScoreLine {
        metric: r.metric,
        label,
        value: m.value.map(round4),
        detail: m.detail,
        points: round2(points),
        max_points,
        explanation,
    }
}

/// A number as people read it: at most two decimals, no trailing zeros.
pub fn num(v: f64) -> String {
    let s = format!("{:.2}", v);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_owned() }
}

pub fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0 + 0.0
}

pub fn round4(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0 + 0.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::rules::ReportRules;

    fn measured(v: Option<f64>) -> Measured {
        Measured {
            value: v,
            detail: String::new(),
        }
    }

    #[test]
    fn scale_count_and_none_lines() {
        let rules = ReportRules::default();
        let mut values = BTreeMap::new();
        values.insert(Metric::CoverageShare, measured(Some(0.45))); // half of 0.9: 17.5 of 35
        values.insert(Metric::PatrolHoursPerWeek, measured(Some(10.0))); // beyond full: 15
        values.insert(Metric::IssuesFoundPerWeek, measured(Some(0.0))); // 0 of 10
        // The issue-handling lines are scaled by the coverage line's share, 0.5 here.
        values.insert(Metric::AssignedShare, measured(None)); // none: full 10, x 0.5 = 5
        values.insert(Metric::OnTimeShare, measured(None)); // 15 x 0.5 = 7.5
        values.insert(Metric::VerifiedShare, measured(None)); // 10 x 0.5 = 5
        values.insert(Metric::MedianHoursToVerify, measured(Some(96.0))); // (96-168)/(24-168) = 0.5: 2.5 x 0.5 = 1.25
        values.insert(Metric::Reopened, measured(Some(7.0))); // -14 capped at -10
        let s = score(&rules.assessment.lines, &values);
        let pts: Vec<f64> = s.lines.iter().map(|l| l.points).collect();
        assert_eq!(pts, vec![17.5, 15.0, 0.0, 5.0, 7.5, 5.0, 1.25, -10.0]);
        assert_eq!(s.score, 41.25);
        assert_eq!(s.max_score, 100.0);
        assert!(
            s.lines[7].explanation.contains("capped at -10"),
            "{}",
            s.lines[7].explanation
        );
        assert!(
            s.lines[3].explanation.contains("nothing to measure"),
            "{}",
            s.lines[3].explanation
        );
        assert_eq!(
            s.lines[0].explanation,
            "35 x 0.5 = 17.5 of 35 points (35 points at 0.9 or more, 0 at 0)"
        );
        assert_eq!(
            s.lines[4].explanation,
            "nothing to measure: 15 of 15 points (15 points at 0.9 or more, 0 at 0); x 0.5 = 7.5 \
             points, the share met of \"assigned segments patrolled often enough\" (these points \
             count only as far as that duty was met)"
        );
    }

    #[test]
    fn nothing_to_handle_gives_no_issue_points_without_the_patrol_duty() {
        let rules = ReportRules::default();
        // No streets, no patrols: coverage has nothing to measure (0 points), so the issue
        // lines' "nothing to handle: full marks" is multiplied by 0.
        let mut values = BTreeMap::new();
        for m in [
            Metric::CoverageShare,
            Metric::AssignedShare,
            Metric::OnTimeShare,
            Metric::VerifiedShare,
            Metric::MedianHoursToVerify,
        ] {
            values.insert(m, measured(None));
        }
        let idle = score(&rules.assessment.lines, &values);
        assert_eq!(idle.score, 0.0);
        // The same with every assigned segment patrolled often enough: full marks.
        values.insert(Metric::CoverageShare, measured(Some(1.0)));
        let s = score(&rules.assessment.lines, &values);
        assert_eq!(s.score, 35.0 + 10.0 + 15.0 + 10.0 + 5.0);

        // A rules file of version 1 (no scaled_by) still parses and scores as it did.
        let mut v: serde_json::Value =
            serde_json::from_str(crate::report::rules::DEFAULT_RULES_JSON).unwrap();
        v["version"] = 1.into();
        for l in v["assessment"]["lines"].as_array_mut().unwrap() {
            l.as_object_mut().unwrap().remove("scaled_by");
        }
        let old = ReportRules::from_json(&v.to_string()).unwrap();
        values.insert(Metric::CoverageShare, measured(None));
        assert_eq!(score(&old.assessment.lines, &values).score, 40.0);
    }

    #[test]
    fn a_score_never_goes_below_zero() {
        let rules = ReportRules::default();
        let mut values = BTreeMap::new();
        values.insert(Metric::Reopened, measured(Some(50.0)));
        values.insert(Metric::AssignedShare, measured(Some(0.0)));
        values.insert(Metric::OnTimeShare, measured(Some(0.0)));
        values.insert(Metric::VerifiedShare, measured(Some(0.0)));
        values.insert(Metric::MedianHoursToVerify, measured(Some(500.0)));
        assert_eq!(score(&rules.assessment.lines, &values).score, 0.0);
    }
}
