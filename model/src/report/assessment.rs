//! The chief assessment (考核) for a period: each chief's record of duty, measured and scored.
//!
//! Per chief: patrols started in the period, their hours and distance; coverage of each
//! assigned street as the share of its segments patrolled at least N times (N from the street's
//! class and the period's length, see [`ReportRules::required_patrols`]; one patrol patrols a
//! segment when it covers at least `segment_patrolled_min_share` of it); issues the chief found;
//! and of the issues reported on their streets in the period, as of the period's end: assigned,
//! resolved on time against the category's due time, verified, reopened, and the median time
//! from report to verification. The score adds the rules' lines ([`super::score`]), each
//! explained, so a chief can see why.
//!
//! Computed from [`AssessmentFacts`], whoever gathered them: a phone from its store, the
//! district server from its own.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use crate::domain::{Role, StreetId};
use crate::report::facts::{IssueOutcome, PatrolFacts, People, Person, median};
use crate::report::period::Period;
use crate::report::rules::{Metric, ReportRules};
use crate::report::score::{Measured, Score, ScoreLine, num, round2, round4, score};
use crate::streets::StreetNetwork;

/// A whole assessment report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssessmentReport {
    pub period: Period,
    pub rules_name: String,
    pub rules_version: u32,
    /// Chiefs, best score first.
    pub chiefs: Vec<ChiefAssessment>,
}

/// One chief's assessment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChiefAssessment {
    pub rank: u32,
    #[serde(flatten)]
    pub person: Person,
    pub score: f64,
    pub max_score: f64,
    /// Patrols counted below (imported ones only when the rules count them).
    pub patrols: u64,
    /// Patrols of the period imported from GPS files rather than recorded in the app.
    pub patrols_imported: u64,
    pub hours: f64,
    pub distance_m: f64,
    pub streets_assigned: u64,
    pub segments: u64,
    /// Segments patrolled at least the required number of times.
    pub segments_patrolled_enough: u64,
    /// `segments_patrolled_enough / segments`; `None` without streets.
    pub coverage_share: Option<f64>,
    pub issues_found: u64,
    /// Issues reported on the chief's streets in the period (duplicates and cancelled ones aside).
    pub issues_on_streets: u64,
    pub issues_assigned: u64,
    pub issues_resolved: u64,
    pub issues_resolved_on_time: u64,
    pub issues_verified: u64,
    pub issues_reopened: u64,
    pub median_hours_to_verify: Option<f64>,
    pub streets: Vec<StreetAssessment>,
    /// The score, line by line.
    pub explanation: Vec<ScoreLine>,
    /// Things a supervisor should know (no streets assigned, no patrols ...).
    pub notes: Vec<String>,
}

/// One assigned street of a chief.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreetAssessment {
    pub street_id: String,
    pub name: Option<String>,
    pub class: String,
    pub length_m: f64,
    pub segments: u64,
    /// Patrols each segment needed in the period.
    pub required_patrols: u32,
    pub segments_patrolled_enough: u64,
    pub coverage_share: f64,
    /// The chief's patrols that patrolled at least one of its segments.
    pub patrols: u64,
    /// Least and most patrols any one of its segments had.
    pub min_segment_patrols: u32,
    pub max_segment_patrols: u32,
}

/// What an assessment is computed from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssessmentFacts {
    pub people: People,
    /// Patrols started in the period, every source alike, oldest first; the counted patrols of
    /// chiefs ([`patrols_to_measure`]) with their coverage when there is a network.
    pub patrols: Vec<PatrolFacts>,
    /// Issues reported in the period, each as of the period's end.
    pub issues: Vec<IssueOutcome>,
}

/// Indices into `patrols` of the ones the assessment counts: the chiefs' own, imported ones
/// only when the rules count them. Only these need their coverage measured, so a gatherer
/// does not map-match a district's every patrol for a few chiefs.
pub fn patrols_to_measure(
    people: &People,
    patrols: &[PatrolFacts],
    rules: &ReportRules,
) -> Vec<usize> {
    let chiefs: HashSet<String> = people.with_role(Role::Chief).into_iter().collect();
    patrols
        .iter()
        .enumerate()
        .filter(|(_, p)| chiefs.contains(&p.user_id))
        .filter(|(_, p)| rules.assessment.count_imported_patrols || !p.imported)
        .map(|(i, _)| i)
        .collect()
}

/// The assessment of every chief for `period` under `rules` (validated by the caller, see
/// [`ReportRules::validate`]). Without a `network` no street can be measured: chiefs get no
/// street rows and no coverage.
pub fn assess_chiefs(
    facts: &AssessmentFacts,
    network: Option<&StreetNetwork>,
    rules: &ReportRules,
    period: &Period,
) -> AssessmentReport {
    let people = &facts.people;
    let chiefs = people.with_role(Role::Chief);
    let counted = patrols_to_measure(people, &facts.patrols, rules);
    let mut imported_of: HashMap<&str, u64> = HashMap::new();
    for p in facts.patrols.iter().filter(|p| p.imported) {
        *imported_of.entry(p.user_id.as_str()).or_default() += 1;
    }
    // Per counted patrol (index into `facts.patrols`): the segments it patrolled.
    let mut patrolled: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut patrols_of: HashMap<&str, Vec<usize>> = HashMap::new();
    for &i in &counted {
        let p = &facts.patrols[i];
        patrols_of.entry(p.user_id.as_str()).or_default().push(i);
        if let (Some(net), Some(c)) = (network, &p.coverage) {
            let segs = c.patrolled_segments(net, rules.assessment.segment_patrolled_min_share);
            patrolled.insert(i, segs);
        }
    }
    let mut by_street: HashMap<&str, Vec<&IssueOutcome>> = HashMap::new();
    let mut found_by: HashMap<&str, u64> = HashMap::new();
    for i in facts.issues.iter().filter(|i| i.counts()) {
        if let Some(s) = i.street_id.as_deref() {
            by_street.entry(s).or_default().push(i);
        }
        *found_by.entry(i.reporter_id.as_str()).or_default() += 1;
    }
    let mut out = Vec::with_capacity(chiefs.len());
    for chief in &chiefs {
        let mine = patrols_of
            .get(chief.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        let street_ids = people.streets_of(chief, Role::Chief);
        let streets = match network {
            Some(net) => street_rows(net, &street_ids, mine, &patrolled, rules, period),
            None => Vec::new(),
        };
        let mut street_texts: Vec<String> = street_ids.iter().map(|s| s.to_string()).collect();
        street_texts.sort();
        street_texts.dedup();
        let on_streets: Vec<&IssueOutcome> = street_texts
            .iter()
            .flat_map(|s| by_street.get(s.as_str()).cloned().unwrap_or_default())
            .collect();
        let figures: Vec<(f64, f64)> = mine
            .iter()
            .map(|&i| (facts.patrols[i].duration_s, facts.patrols[i].distance_m))
            .collect();
        let found = found_by.get(chief.as_str()).copied().unwrap_or(0);
        let mut assessed = assess_chief(
            people.person(chief),
            &streets,
            &figures,
            found,
            &on_streets,
            street_ids.len(),
            rules,
            period,
        );
        let imported = imported_of.get(chief.as_str()).copied().unwrap_or(0);
        note_imported(&mut assessed, imported, rules);
        out.push(assessed);
    }
    rank(&mut out);
    AssessmentReport {
        period: period.clone(),
        rules_name: rules.name.clone(),
        rules_version: rules.version,
        chiefs: out,
    }
}

/// Says how many of a chief's patrols were imported from files, and whether they counted.
fn note_imported(assessed: &mut ChiefAssessment, imported: u64, rules: &ReportRules) {
    if imported == 0 {
        return;
    }
    assessed.patrols_imported = imported;
    assessed.notes.push(if rules.assessment.count_imported_patrols {
        format!("{imported} patrol(s) imported from GPS files, not recorded in the app")
    } else {
        format!(
            "{imported} patrol(s) imported from GPS files are not counted (rules: count_imported_patrols)"
        )
    });
}

/// Best score first (ties by name, then id), ranked from 1.
fn rank(chiefs: &mut [ChiefAssessment]) {
    chiefs.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.person.name.cmp(&b.person.name))
            .then_with(|| a.person.user_id.cmp(&b.person.user_id))
    });
    for (i, c) in chiefs.iter_mut().enumerate() {
        c.rank = i as u32 + 1;
    }
}

/// The rows of a chief's assigned streets the network has, named ones first. `mine` are the
/// chief's counted patrols, `patrolled` the segments each counted patrol patrolled.
fn street_rows(
    network: &StreetNetwork,
    street_ids: &[StreetId],
    mine: &[usize],
    patrolled: &HashMap<usize, Vec<usize>>,
    rules: &ReportRules,
    period: &Period,
) -> Vec<StreetAssessment> {
    let mut seg_patrols: HashMap<usize, u32> = HashMap::new();
    for p in mine {
        for &s in patrolled.get(p).map(Vec::as_slice).unwrap_or(&[]) {
            *seg_patrols.entry(s).or_default() += 1;
        }
    }
    let mut rows: Vec<StreetAssessment> = street_ids
        .iter()
        .filter_map(|id| {
            let si = network.street_index(*id)?;
            Some((network.streets.get(si)?, network.street_segments.get(si)?))
        })
        .map(|(street, segs)| {
            let required = rules.required_patrols(&street.class, period.days());
            let counts: Vec<u32> = segs
                .iter()
                .map(|s| seg_patrols.get(s).copied().unwrap_or(0))
                .collect();
            let enough = counts.iter().filter(|&&n| n >= required).count() as u64;
            let patrols = mine
                .iter()
                .filter(|r| {
                    patrolled
                        .get(r)
                        .is_some_and(|list| list.iter().any(|s| segs.contains(s)))
                })
                .count() as u64;
            StreetAssessment {
                street_id: street.id.to_string(),
                name: street.name.clone(),
                class: street.class.clone(),
                length_m: street.length_m,
                segments: segs.len() as u64,
                required_patrols: required,
                segments_patrolled_enough: enough,
                coverage_share: if segs.is_empty() {
                    0.0
                } else {
                    round4(enough as f64 / segs.len() as f64)
                },
                patrols,
                min_segment_patrols: counts.iter().copied().min().unwrap_or(0),
                max_segment_patrols: counts.iter().copied().max().unwrap_or(0),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        (a.name.is_none(), &a.name, &a.street_id).cmp(&(b.name.is_none(), &b.name, &b.street_id))
    });
    rows
}

#[allow(
    clippy::too_many_arguments,
    reason = "each argument is one input of the computation; a struct would only rename them"
)]
fn assess_chief(
    person: Person,
    streets: &[StreetAssessment],
    patrols: &[(f64, f64)],
    found: u64,
    on_streets: &[&IssueOutcome],
    assigned_streets: usize,
    rules: &ReportRules,
    period: &Period,
) -> ChiefAssessment {
    let f = ChiefFigures::count(streets, patrols, found, on_streets);
    let Score {
        score,
        max_score,
        lines,
    } = score(&rules.assessment.lines, &f.indicators(period));
    ChiefAssessment {
        rank: 0,
        person,
        score,
        max_score,
        patrols: f.patrols,
        patrols_imported: 0,
        hours: round4(f.hours),
        distance_m: round2(f.distance_m),
        streets_assigned: assigned_streets as u64,
        segments: f.segments,
        segments_patrolled_enough: f.enough,
        coverage_share: (f.segments > 0).then(|| round4(f.enough as f64 / f.segments as f64)),
        issues_found: found,
        issues_on_streets: f.issues,
        issues_assigned: f.assigned,
        issues_resolved: f.resolved,
        issues_resolved_on_time: f.on_time,
        issues_verified: f.verified,
        issues_reopened: f.reopened,
        median_hours_to_verify: f.median_hours_to_verify.map(round4),
        streets: streets.to_vec(),
        explanation: lines,
        notes: chief_notes(streets.len(), assigned_streets, f.patrols),
    }
}

/// What a chief's period adds up to, before any rule weighs it.
#[derive(Debug)]
struct ChiefFigures {
    patrols: u64,
    hours: f64,
    distance_m: f64,
    segments: u64,
    enough: u64,
    found: u64,
    issues: u64,
    assigned: u64,
    resolved: u64,
    on_time: u64,
    verified: u64,
    reopened: u64,
    verified_count_for_median: usize,
    median_hours_to_verify: Option<f64>,
}

impl ChiefFigures {
    fn count(
        streets: &[StreetAssessment],
        patrols: &[(f64, f64)],
        found: u64,
        on_streets: &[&IssueOutcome],
    ) -> Self {
        let count =
            |f: fn(&IssueOutcome) -> bool| on_streets.iter().filter(|i| f(i)).count() as u64;
        let mut to_verify: Vec<f64> = on_streets
            .iter()
            .filter_map(|i| i.hours_to_verify())
            .collect();
        let median_hours_to_verify = median(&mut to_verify);
        Self {
            patrols: patrols.len() as u64,
            hours: patrols.iter().map(|p| p.0).sum::<f64>() / 3600.0,
            distance_m: patrols.iter().map(|p| p.1).sum(),
            segments: streets.iter().map(|s| s.segments).sum(),
            enough: streets.iter().map(|s| s.segments_patrolled_enough).sum(),
            found,
            issues: on_streets.len() as u64,
            assigned: count(|i| i.assigned),
            resolved: count(|i| i.resolved),
            on_time: count(|i| i.resolved_on_time),
            verified: count(|i| i.verified),
            reopened: count(|i| i.reopened > 0),
            verified_count_for_median: to_verify.len(),
            median_hours_to_verify,
        }
    }

    /// Every indicator the rules may weigh, with the figures behind it in words.
    fn indicators(&self, period: &Period) -> BTreeMap<Metric, Measured> {
        let weeks = period.weeks();
        let share = |k: u64, of: u64, what: &str| Measured {
            value: (of > 0).then(|| k as f64 / of as f64),
            detail: if of > 0 {
                format!("{k} of {of} {what}")
            } else {
                format!("no {what}")
            },
        };
        let rate = |v: f64, unit: &str| Measured {
            value: Some(v / weeks),
            detail: format!("{} {unit} in {} days", num(v), num(period.days())),
        };
        let count = |v: u64, detail: String| Measured {
            value: Some(v as f64),
            detail,
        };
        let n = self.issues;
        BTreeMap::from([
            (
                Metric::CoverageShare,
                share(
                    self.enough,
                    self.segments,
                    "assigned segments patrolled often enough",
                ),
            ),
            (Metric::PatrolHoursPerWeek, rate(self.hours, "hours")),
            (Metric::PatrolsPerWeek, rate(self.patrols as f64, "patrols")),
            (
                Metric::DistanceKmPerWeek,
                rate(self.distance_m / 1000.0, "km"),
            ),
            (
                Metric::IssuesFoundPerWeek,
                rate(self.found as f64, "issues found"),
            ),
            (
                Metric::AssignedShare,
                share(self.assigned, n, "issues on their streets assigned"),
            ),
            (
                Metric::OnTimeShare,
                share(self.on_time, n, "issues on their streets resolved on time"),
            ),
            (
                Metric::VerifiedShare,
                share(self.verified, n, "issues on their streets verified"),
            ),
            (
                Metric::Reopened,
                count(
                    self.reopened,
                    format!("{} of {n} issues reopened", self.reopened),
                ),
            ),
            (
                Metric::MedianHoursToVerify,
                Measured {
                    value: self.median_hours_to_verify,
                    detail: match self.median_hours_to_verify {
                        Some(h) => format!(
                            "median of {} verified issue(s): {} h",
                            self.verified_count_for_median,
                            num(h)
                        ),
                        None => "no issue verified".into(),
                    },
                },
            ),
            (
                Metric::Patrols,
                count(self.patrols, format!("{} patrols", self.patrols)),
            ),
            (
                Metric::IssuesFound,
                count(self.found, format!("{} issues found", self.found)),
            ),
        ])
    }
}

/// What the reader of a chief's row should know: streets missing, no patrols.
fn chief_notes(streets_in_network: usize, assigned_streets: usize, patrols: u64) -> Vec<String> {
    let mut notes = Vec::new();
    if assigned_streets == 0 {
        notes.push(
            "no streets assigned: coverage cannot be measured; assign streets to this chief".into(),
        );
    } else if streets_in_network < assigned_streets {
        notes.push(format!(
            "{} assigned street(s) are not in this store's street network",
            assigned_streets - streets_in_network
        ));
    }
    if patrols == 0 {
        notes.push("no patrols in this period".into());
    }
    notes
}
