//! Merchant credit (信用评价) from frontage-duty inspections and the issues linked to each shop.
//!
//! As of the end of the period, a merchant's score is the rules' `base_score` plus, for every
//! inspection, the points of each duty's grade, and for every linked issue the points of its
//! category, each weighted by time decay `0.5 ^ (age in days / half_life_days)` so a bad month
//! long ago weighs less than one last week; the score stays within 0 and the base. The rating
//! is the first band whose `min_score` it reaches. All numbers come from the rules file.
//!
//! An issue is linked to a merchant when someone linked it explicitly, or, unless someone
//! unlinked it, when its category is a frontage category and the merchant is the nearest one
//! within `link_radius_m`.

//!
//! Computed from [`MerchantFacts`], whoever gathered them: a phone from its store, the district
//! server from its own.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::domain::{FrontageDuty, IssueId, MerchantId};
use crate::geodesy::LocalProjection;
use crate::merchants::Merchant;
use crate::report::period::{DAY_MS, Period, beijing_date_text};
use crate::report::rules::ReportRules;
use crate::report::score::{num, round2};
use crate::streets::Street;

/// The merchant report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MerchantReport {
    pub period: Period,
    pub rules_name: String,
    pub rules_version: u32,
    pub merchants: Vec<MerchantCredit>,
}

/// One merchant's record and credit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MerchantCredit {
    pub merchant_id: MerchantId,
    pub name: String,
    pub kind: Option<String>,
    pub street_id: Option<String>,
    pub street_name: Option<String>,
    pub segment_id: Option<String>,
    pub closed: bool,
    /// Inspections in the period, and per duty how many were good, fair or poor.
    pub inspections_in_period: u64,
    pub duties_in_period: BTreeMap<String, BTreeMap<String, u64>>,
    pub issues_linked_in_period: u64,
    pub issues_linked_total: u64,
    pub linked_issue_ids: Vec<IssueId>,
    /// As of the end of the period.
    pub credit_score: f64,
    /// `None` for closed merchants.
    pub rating: Option<String>,
    /// Every contribution to the score, oldest first.
    pub explanation: Vec<String>,
}

/// An issue a merchant may answer for: reported before the period's end, duplicates and
/// cancelled reports aside.
#[derive(Debug, Clone, PartialEq)]
pub struct MerchantIssue {
    pub id: IssueId,
    pub category: String,
    pub lat: f64,
    pub lon: f64,
    pub reported_at_ms: i64,
}

/// What a merchant report is computed from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MerchantFacts {
    /// Every merchant, with its inspections and explicit issue links.
    pub merchants: Vec<Merchant>,
    /// Issues reported before the period's end, duplicates and cancelled reports aside, oldest
    /// first.
    pub issues: Vec<MerchantIssue>,
    /// The streets, for their names.
    pub streets: Vec<Street>,
}

/// Every merchant's record in `period` and credit as of its end, under `rules` (validated by
/// the caller, see [`ReportRules::validate`]). Open merchants first, best credit first.
pub fn merchant_report(
    facts: &MerchantFacts,
    rules: &ReportRules,
    period: &Period,
) -> MerchantReport {
    let links = link_issues(&facts.merchants, &facts.issues, rules);
    let names: HashMap<String, Option<String>> = facts
        .streets
        .iter()
        .map(|s| (s.id.to_string(), s.name.clone()))
        .collect();
    let mut out = Vec::with_capacity(facts.merchants.len());
    for m in &facts.merchants {
        let linked: Vec<&MerchantIssue> = links
            .get(&m.id)
            .map(|v| v.iter().filter_map(|&i| facts.issues.get(i)).collect())
            .unwrap_or_default();
        out.push(credit(m, &linked, period, rules, &names));
    }
    out.sort_by(|a, b| {
        (a.closed, -a.credit_score, &a.name)
            .partial_cmp(&(b.closed, -b.credit_score, &b.name))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    MerchantReport {
        period: period.clone(),
        rules_name: rules.name.clone(),
        rules_version: rules.version,
        merchants: out,
    }
}

/// Issue indices linked to each merchant: explicit links first, then the nearest open merchant
/// within the radius for issues of a frontage category (unless that merchant unlinked it).
fn link_issues(
    merchants: &[Merchant],
    issues: &[MerchantIssue],
    rules: &ReportRules,
) -> HashMap<MerchantId, Vec<usize>> {
    let r = &rules.merchants;
    let mut out: HashMap<MerchantId, Vec<usize>> = HashMap::new();
    let index: HashMap<IssueId, usize> =
        issues.iter().enumerate().map(|(i, x)| (x.id, i)).collect();
    let mut explicit: HashMap<usize, MerchantId> = HashMap::new();
    let mut unlinked: HashMap<MerchantId, Vec<IssueId>> = HashMap::new();
    for m in merchants {
        let (yes, no) = m.explicit_links();
        for id in yes {
            if let Some(&i) = index.get(&id) {
                explicit.insert(i, m.id);
            }
        }
        unlinked.insert(m.id, no);
    }
    let open: Vec<&Merchant> = merchants.iter().filter(|m| !m.fields.closed).collect();
    let proj = LocalProjection::centred_on(open.iter().map(|m| (m.fields.lat, m.fields.lon)));
    let cell = r.link_radius_m.max(1.0);
    // Cell -> (open merchant index, x, y) of the merchants in it.
    type Grid = HashMap<(i64, i64), Vec<(usize, f64, f64)>>;
    let mut grid: Grid = HashMap::new();
    if let Some(p) = &proj {
        for (k, m) in open.iter().enumerate() {
            let (x, y) = p.to_metres(m.fields.lat, m.fields.lon);
            grid.entry(((x / cell).floor() as i64, (y / cell).floor() as i64))
                .or_default()
                .push((k, x, y));
        }
    }
    for (i, issue) in issues.iter().enumerate() {
        if let Some(m) = explicit.get(&i) {
            out.entry(*m).or_default().push(i);
            continue;
        }
        let Some(p) = &proj else { continue };
        if !r.linked_categories.iter().any(|c| c == &issue.category) {
            continue;
        }
        let (x, y) = p.to_metres(issue.lat, issue.lon);
        let (cx, cy) = ((x / cell).floor() as i64, (y / cell).floor() as i64);
        let mut best: Option<(f64, usize)> = None;
        for dx in -1..=1 {
            for dy in -1..=1 {
                for &(k, mx, my) in grid
                    .get(&(cx + dx, cy + dy))
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
                {
                    let d = (mx - x).hypot(my - y);
                    if d <= r.link_radius_m && best.is_none_or(|b| d < b.0) {
                        best = Some((d, k));
                    }
                }
            }
        }
        if let Some((_, k)) = best {
            let m = open[k].id;
            if !unlinked.get(&m).is_some_and(|no| no.contains(&issue.id)) {
                out.entry(m).or_default().push(i);
            }
        }
    }
    out
}

/// One merchant's credit: the base score plus every decayed contribution, explained.
fn credit(
    m: &Merchant,
    linked: &[&MerchantIssue],
    period: &Period,
    rules: &ReportRules,
    names: &HashMap<String, Option<String>>,
) -> MerchantCredit {
    let r = &rules.merchants;
    let end = period.to_ms;
    let decay =
        |at: i64| 0.5f64.powf(((end - at).max(0) as f64 / DAY_MS as f64) / r.half_life_days);
    // (time, points, text) of every contribution up to the end of the period.
    let mut parts: Vec<(i64, f64, String)> = Vec::new();
    let mut duties: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut in_period = 0;
    for i in m.inspections.iter().filter(|i| i.at.wall_ms < end) {
        let mut raw = 0.0;
        let mut items = Vec::new();
        for duty in FrontageDuty::ALL {
            let g = i.grade(*duty);
            let p = r.grade_points.get(g.as_str()).copied().unwrap_or(0.0);
            raw += p;
            items.push(format!(
                "{duty} {g} ({}{})",
                if p > 0.0 { "+" } else { "" },
                num(p)
            ));
            if period.contains(i.at.wall_ms) {
                *duties
                    .entry(duty.as_str().into())
                    .or_default()
                    .entry(g.as_str().into())
                    .or_default() += 1;
            }
        }
        if period.contains(i.at.wall_ms) {
            in_period += 1;
        }
        let w = decay(i.at.wall_ms);
        parts.push((
            i.at.wall_ms,
            raw * w,
            format!(
                "{} inspection: {}: {} x {} (decay) = {}",
                beijing_date_text(i.at.wall_ms),
                items.join(", "),
                num(raw),
                num(w),
                num(raw * w)
            ),
        ));
    }
    for issue in linked.iter().filter(|i| i.reported_at_ms < end) {
        let p = r
            .issue_points
            .get(&issue.category)
            .or_else(|| r.issue_points.get("default"))
            .copied()
            .unwrap_or(0.0);
        let w = decay(issue.reported_at_ms);
        parts.push((
            issue.reported_at_ms,
            p * w,
            format!(
                "{} issue {} ({}): {} x {} (decay) = {}",
                beijing_date_text(issue.reported_at_ms),
                issue.id,
                issue.category,
                num(p),
                num(w),
                num(p * w)
            ),
        ));
    }
    parts.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.2.cmp(&b.2)));
    let sum: f64 = parts.iter().map(|p| p.1).sum();
    let score = round2((r.base_score + sum).clamp(0.0, r.base_score.max(0.0)));
    let mut explanation = vec![format!("base score {}", num(r.base_score))];
    explanation.extend(parts.into_iter().map(|p| p.2));
    explanation.push(format!(
        "{} {} = {}, kept within 0 and {}: {} (half-life {} days, rules {:?} v{})",
        num(r.base_score),
        if sum < 0.0 {
            format!("- {}", num(-sum))
        } else {
            format!("+ {}", num(sum))
        },
        num(r.base_score + sum),
        num(r.base_score),
        num(score),
        num(r.half_life_days),
        rules.name,
        rules.version
    ));
    let street_name = m
        .fields
        .street_id
        .as_ref()
        .and_then(|s| names.get(s).cloned().flatten());
    MerchantCredit {
        merchant_id: m.id,
        name: m.fields.name.clone(),
        kind: m.fields.kind.clone(),
        street_id: m.fields.street_id.clone(),
        street_name,
        segment_id: m.fields.segment_id.clone(),
        closed: m.fields.closed,
        inspections_in_period: in_period,
        duties_in_period: duties,
        issues_linked_in_period: linked
            .iter()
            .filter(|i| period.contains(i.reported_at_ms))
            .count() as u64,
        issues_linked_total: linked.len() as u64,
        linked_issue_ids: linked.iter().map(|i| i.id).collect(),
        credit_score: score,
        rating: (!m.fields.closed).then(|| rules.rating(score)),
        explanation,
    }
}
