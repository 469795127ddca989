//! Reports computed from the server's own storage through the same model functions a phone
//! uses ([`patrol_model::report`]): the server gathers the plain facts (people, assignments,
//! the published street network and categories, the patrols of a period with their fixes, each
//! issue document folded) and the model computes. A supervisor's phone that has synced
//! everything and the server give the same figures; the office platform reads them from here.

use std::collections::HashMap;

use anyhow::{Context, Result};
use automerge::Automerge;
use patrol_model::coverage::Coverage;
use patrol_model::domain::Role;
use patrol_model::issues::catalog::{Catalog, CategorySpec};
use patrol_model::matching::{MatchConfig, match_track};
use patrol_model::reference::{AssignmentRow, CategoryRow, StreetBundle};
use patrol_model::report::assessment::{
    AssessmentFacts, AssessmentReport, assess_chiefs, patrols_to_measure,
};
use patrol_model::report::facts::{
    Assignment, CoverageFacts, IssueOutcome, PatrolFacts, People, Person, ReportedIssue,
    applied_events,
};
use patrol_model::report::period::Period;
use patrol_model::report::rules::ReportRules;
use patrol_model::spatial::IndexedNetwork;
use patrol_model::streets::StreetNetwork;
use patrol_model::track::{MetricsConfig, compute_stats};
use patrol_model::wire::{PatrolRecord, Scope};

use crate::storage::{Storage, Tx};

/// The rules the district published, else the shipped ones.
pub fn report_rules(tx: &mut dyn Tx) -> Result<ReportRules> {
    Ok(match tx.reference("rules", ReportRules::REFERENCE_ID)? {
        Some((body, false)) => ReportRules::from_json(&body.to_string())?,
        _ => ReportRules::default(),
    })
}

/// The assessment of every chief for `period`, under `rules` or, when `None`, the published ones.
pub fn assessment_report(
    storage: &dyn Storage,
    period: &Period,
    rules: Option<&ReportRules>,
) -> Result<AssessmentReport> {
    let mut tx = storage.read()?;
    let rules = match rules {
        Some(r) => r.clone(),
        None => report_rules(tx.as_mut())?,
    };
    rules.validate()?;
    let people = people(tx.as_mut())?;
    let net = network(tx.as_mut())?;
    let catalog = catalog(tx.as_mut())?;
    let records = tx.patrols_started_between(period.from_ms, period.to_ms)?;
    let mut patrols = records
        .iter()
        .map(|p| patrol_facts(tx.as_mut(), p))
        .collect::<Result<Vec<_>>>()?;
    if let Some(net) = &net {
        for i in patrols_to_measure(&people, &patrols, &rules) {
            if let (Some(record), Some(facts)) = (records.get(i), patrols.get_mut(i)) {
                facts.coverage = Some(coverage(tx.as_mut(), net, record)?);
            }
        }
    }
    let issues = issue_outcomes(tx.as_mut(), period, &catalog)?;
    let facts = AssessmentFacts {
        people,
        patrols,
        issues,
    };
    Ok(assess_chiefs(
        &facts,
        net.as_ref().map(|n| &n.network),
        &rules,
        period,
    ))
}

/// The district's users (residents aside) with the subdistrict of their scope, and the
/// published assignments.
fn people(tx: &mut dyn Tx) -> Result<People> {
    let subdistricts: HashMap<String, String> = tx
        .subdistricts()?
        .into_iter()
        .map(|(id, name, _)| (id, name))
        .collect();
    let users = tx
        .users()?
        .into_iter()
        .filter(|u| u.role != Role::Public)
        .map(|u| Person {
            user_id: u.id.to_string(),
            name: Some(u.name),
            role: Some(u.role),
            subdistrict: match &u.scope {
                Scope::Subdistrict(s) => subdistricts.get(&s.to_string()).cloned(),
                _ => None,
            },
        })
        .collect();
    let mut assignments = Vec::new();
    for (id, body) in tx.references("assignment")? {
        let row: AssignmentRow =
            serde_json::from_value(body).with_context(|| format!("assignment {id}"))?;
        assignments.push(Assignment {
            street_id: row.street_id.parse()?,
            user_id: row.user_id,
            role: row.role,
        });
    }
    Ok(People::new(users, assignments))
}

/// The published street network with its R-tree, or `None` before one is imported.
pub(crate) fn network(tx: &mut dyn Tx) -> Result<Option<IndexedNetwork>> {
    let mut streets = Vec::new();
    let mut segments = Vec::new();
    for (id, body) in tx.references("street")? {
        let bundle: StreetBundle =
            serde_json::from_value(body).with_context(|| format!("street {id}"))?;
        streets.push(bundle.street);
        segments.extend(bundle.segments);
    }
    if streets.is_empty() {
        return Ok(None);
    }
    Ok(Some(IndexedNetwork::build(StreetNetwork::new(
        streets, segments,
    ))))
}

/// The built-in categories and the published ones.
fn catalog(tx: &mut dyn Tx) -> Result<Catalog> {
    let mut catalog = Catalog::builtin();
    for (id, body) in tx.references("category")? {
        let row: CategoryRow =
            serde_json::from_value(body).with_context(|| format!("category {id}"))?;
        catalog = catalog.with(CategorySpec {
            code: row.code,
            name_zh: row.name_zh,
            name_en: row.name_en,
            due_hours: row.due_hours,
            builtin: false,
        });
    }
    Ok(catalog)
}

/// A patrol's headline figures: from the summary the server computed from its fixes, else
/// (a header whose fixes have not all come) from the fixes it has.
fn patrol_facts(tx: &mut dyn Tx, p: &PatrolRecord) -> Result<PatrolFacts> {
    let figures = p.summary.as_ref().map(|v| {
        (
            v["duration_s"].as_f64().unwrap_or(0.0),
            v["distance_m"].as_f64().unwrap_or(0.0),
        )
    });
    let (duration_s, distance_m) = match figures {
        Some(f) => f,
        None => {
            let fixes = tx.fixes(&p.id.to_string(), 0, usize::MAX)?;
            let stats = compute_stats(&MetricsConfig::default(), &fixes);
            (stats.duration_s, stats.distance_m)
        }
    };
    Ok(PatrolFacts {
        id: p.id,
        user_id: p.user_id.to_string(),
        started_at_ms: p.started_at_ms,
        duration_s,
        distance_m,
        imported: p.source == "imported",
        coverage: None,
    })
}

/// What a patrol covered: its fixes matched to the network, as a phone measures it.
fn coverage(tx: &mut dyn Tx, net: &IndexedNetwork, p: &PatrolRecord) -> Result<CoverageFacts> {
    Ok(CoverageFacts::of(
        &patrol_coverage(tx, net, p)?,
        &net.network,
    ))
}

/// What a patrol covered, finished, as a phone measures it.
fn patrol_coverage(tx: &mut dyn Tx, net: &IndexedNetwork, p: &PatrolRecord) -> Result<Coverage> {
    let fixes = tx.fixes(&p.id.to_string(), 0, usize::MAX)?;
    let matched = match_track(net, &fixes, &MatchConfig::default());
    let config = Default::default();
    let mut coverage = Coverage::new();
    coverage.add_track(net, &fixes, &matched, &config);
    coverage.finish(net, &config);
    Ok(coverage)
}

/// Every segment's coverage by the patrols started in `period`, with the published network
/// (`None` before a network is imported): what the office map colours streets by, computed as a
/// phone's coverage map is ([`patrol_model::report::network::network_coverage`]).
pub fn network_coverage(
    storage: &dyn Storage,
    period: &Period,
    min_share: f64,
) -> Result<
    Option<(
        IndexedNetwork,
        patrol_model::report::network::NetworkCoverage,
    )>,
> {
    let mut tx = storage.read()?;
    let Some(net) = network(tx.as_mut())? else {
        return Ok(None);
    };
    let records = tx.patrols_started_between(period.from_ms, period.to_ms)?;
    let mut coverages = Vec::with_capacity(records.len());
    for p in &records {
        coverages.push(patrol_coverage(tx.as_mut(), &net, p)?);
    }
    let report = patrol_model::report::network::network_coverage(
        &net,
        Some(period),
        records.iter().map(|p| p.id).collect(),
        &coverages,
        min_share,
        &Default::default(),
    );
    Ok(Some((net, report)))
}

/// Issues reported in the period, each folded from its document as it stood at the period's
/// end. A document this build cannot read is left out of the report (the sync refused to store
/// one it could not, so this is a document of a newer schema).
fn issue_outcomes(
    tx: &mut dyn Tx,
    period: &Period,
    catalog: &Catalog,
) -> Result<Vec<IssueOutcome>> {
    let mut out = Vec::new();
    for (id, row) in tx.docs_of_kind("issue")? {
        let Ok(doc) = Automerge::load(&row.data) else {
            tracing::warn!(issue = %id, "an issue document that does not load is left out of a report");
            continue;
        };
        let Ok(issue) = patrol_model::issues::doc::read(&doc) else {
            tracing::warn!(issue = %id, "an issue document that does not read is left out of a report");
            continue;
        };
        let state = patrol_model::issues::workflow::fold(&issue);
        if !period.contains(state.reported_at_ms) {
            continue;
        }
        let reported = ReportedIssue::of(&issue, &state);
        let due_ms = catalog.due_ms(&reported.category);
        out.push(IssueOutcome::as_of(
            reported,
            due_ms,
            &applied_events(&state),
            period.to_ms,
        ));
    }
    out.sort_by(|a, b| {
        a.reported_at_ms
            .cmp(&b.reported_at_ms)
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(out)
}
