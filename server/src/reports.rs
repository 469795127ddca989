//! Reports computed from the server's own storage through the same model functions a phone
//! uses ([`patrol_model::report`]): the server gathers the plain facts (people, assignments,
//! the published street network and categories, the patrols of a period with their fixes, each
//! issue document folded) and the model computes. A supervisor's phone that has synced
//! everything and the server give the same figures; the office platform reads them from here.

use std::collections::HashMap;

use anyhow::{Context, Result};
use automerge::Automerge;
use patrol_model::domain::Role;
use patrol_model::issues::catalog::Catalog;
use patrol_model::matching::MatchConfig;
use patrol_model::reference::AssignmentRow;
use patrol_model::report::assessment::{
    AssessmentFacts, AssessmentReport, assess_chiefs, patrols_to_measure,
};
use patrol_model::report::facts::{
    Assignment, CoverageFacts, IssueOutcome, PatrolFacts, People, Person, ReportedIssue,
};
use patrol_model::report::period::Period;
use patrol_model::report::rules::ReportRules;
use patrol_model::spatial::IndexedNetwork;
use patrol_model::track::{MetricsConfig, compute_stats};
use patrol_model::wire::PatrolRecord;

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
    if rules.is_some() {
        return compute_assessment(storage, period, rules);
    }
    // Under the published rules, the last assessment is kept in memory and given again while
    // nothing was published, synced or changed since (the change feed's head has not moved)
    // and the network is the same.
    let key = {
        let mut tx = storage.read()?;
        (
            (storage as *const dyn Storage).cast::<()>() as usize,
            period.from_ms,
            period.to_ms,
            tx.feed_head()?,
            crate::network::network_version(tx.as_mut())?,
        )
    };
    if let Some(kept) = LAST_ASSESSMENT.get(&key) {
        return Ok(kept.as_ref().clone());
    }
    let report = compute_assessment(storage, period, None)?;
    LAST_ASSESSMENT.put(key, std::sync::Arc::new(report.clone()));
    Ok(report)
}

/// The last answer computed, with the key of what it was computed from: a request whose key is
/// the same gets it again.
struct LastOne<K, V>(std::sync::Mutex<Option<(K, std::sync::Arc<V>)>>);

impl<K: PartialEq, V> LastOne<K, V> {
    const fn new() -> Self {
        Self(std::sync::Mutex::new(None))
    }

    fn get(&self, key: &K) -> Option<std::sync::Arc<V>> {
        match &*self.0.lock().unwrap_or_else(|e| e.into_inner()) {
            Some((k, v)) if k == key => Some(v.clone()),
            _ => None,
        }
    }

    fn put(&self, key: K, value: std::sync::Arc<V>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((key, value));
    }
}

/// The last assessment under the published rules, with what it was computed from: the storage
/// (by address), the period, the change feed's head and the network's version.
static LAST_ASSESSMENT: LastOne<(usize, i64, i64, u64, i64), AssessmentReport> = LastOne::new();

fn compute_assessment(
    storage: &dyn Storage,
    period: &Period,
    rules: Option<&ReportRules>,
) -> Result<AssessmentReport> {
    crate::issue_index::catch_up(storage)?;
    let mut tx = storage.read()?;
    let rules = match rules {
        Some(r) => r.clone(),
        None => report_rules(tx.as_mut())?,
    };
    rules.validate()?;
    let people = people(tx.as_mut())?;
    let net = crate::network::indexed(tx.as_mut())?;
    let catalog = crate::rules::catalog(tx.as_mut())?;
    let records = tx.patrols_started_between(period.from_ms, period.to_ms)?;
    let mut patrols = records
        .iter()
        .map(|p| patrol_facts(tx.as_mut(), p))
        .collect::<Result<Vec<_>>>()?;
    if let Some(net) = &net {
        let wanted = patrols_to_measure(&people, &patrols, &rules);
        measure_into(storage, net, &records, &mut patrols, &wanted)?;
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

/// The district's users (residents aside) with their subdistrict (their scope's, else their
/// first assigned street's), and the published assignments.
fn people(tx: &mut dyn Tx) -> Result<People> {
    let subdistricts: HashMap<String, String> = tx
        .subdistricts()?
        .into_iter()
        .map(|(id, name, _)| (id, name))
        .collect();
    let mut users = Vec::new();
    for u in tx.users()?.into_iter().filter(|u| u.role != Role::Public) {
        let subdistrict =
            crate::people::subdistrict_of(tx, &u)?.and_then(|id| subdistricts.get(&id).cloned());
        users.push(Person {
            user_id: u.id.to_string(),
            name: Some(u.name),
            role: Some(u.role),
            subdistrict,
        });
    }
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

/// Measures the patrols at `which` (indexes into `records` and `patrols`, the same order) and
/// gives each its coverage facts, as a phone measures them.
fn measure_into(
    storage: &dyn Storage,
    net: &IndexedNetwork,
    records: &[PatrolRecord],
    patrols: &mut [PatrolFacts],
    which: &[usize],
) -> Result<()> {
    let which: Vec<usize> = which
        .iter()
        .copied()
        .filter(|&i| i < records.len() && i < patrols.len())
        .collect();
    let wanted: Vec<&PatrolRecord> = which.iter().map(|&i| &records[i]).collect();
    let measured = crate::coverage::patrol_coverages(storage, net, &wanted)?;
    for (&i, c) in which.iter().zip(measured) {
        patrols[i].coverage = Some(CoverageFacts::of(&c, &net.network));
    }
    Ok(())
}

/// A network coverage computed, with the network it was computed on.
type NetworkAndCoverage = (
    IndexedNetwork,
    patrol_model::report::network::NetworkCoverage,
);

/// The last network coverage computed, with what it was computed from: the storage (by
/// address), the period, the share, the network's version and the period's patrols (how many,
/// and their latest change). The map asks for the same month again and again; anything that
/// would change the answer changes the key.
static LAST_NETWORK_COVERAGE: LastOne<NetworkCoverageKey, NetworkAndCoverage> = LastOne::new();

/// Storage address, period from and to, share bits, network version, patrols, latest change.
type NetworkCoverageKey = (usize, i64, i64, u64, i64, u64, i64);

/// Every segment's coverage by the patrols started in `period`, with the published network
/// (`None` before a network is imported): what the office map colours streets by, computed as a
/// phone's coverage map is ([`patrol_model::report::network::network_coverage`]). The last one
/// computed is kept in memory and given again while nothing it was computed from changed.
pub fn network_coverage(
    storage: &dyn Storage,
    period: &Period,
    min_share: f64,
) -> Result<Option<std::sync::Arc<NetworkAndCoverage>>> {
    let mut tx = storage.read()?;
    let (count, changed) = tx.patrols_changed_between(period.from_ms, period.to_ms)?;
    let key = (
        (storage as *const dyn Storage).cast::<()>() as usize,
        period.from_ms,
        period.to_ms,
        min_share.to_bits(),
        crate::network::network_version(tx.as_mut())?,
        count,
        changed,
    );
    if let Some(kept) = LAST_NETWORK_COVERAGE.get(&key) {
        return Ok(Some(kept));
    }
    let Some(net) = crate::network::indexed(tx.as_mut())? else {
        return Ok(None);
    };
    let records = tx.patrols_started_between(period.from_ms, period.to_ms)?;
    let all: Vec<&PatrolRecord> = records.iter().collect();
    let coverages = crate::coverage::patrol_coverages(storage, &net, &all)?;
    let report = patrol_model::report::network::network_coverage(
        &net,
        Some(period),
        records.iter().map(|p| p.id).collect(),
        &coverages,
        min_share,
        &Default::default(),
    );
    let kept = std::sync::Arc::new((net, report));
    LAST_NETWORK_COVERAGE.put(key, kept.clone());
    Ok(Some(kept))
}

/// Issues reported in the period, each as it stood at the period's end: read from the issue
/// index (which the caller caught up), whose rows hold what the fold of each document says (who
/// reported it, where and when, and the events applied, in order), so no document is loaded. A
/// document this build cannot read has no row and is left out (the sync refused to store one it
/// could not, so that is one of a newer schema).
fn issue_outcomes(
    tx: &mut dyn Tx,
    period: &Period,
    catalog: &Catalog,
) -> Result<Vec<IssueOutcome>> {
    let (rows, _) = tx.issue_index_query(&crate::storage::IssueQuery {
        reported_from_ms: Some(period.from_ms),
        reported_to_ms: Some(period.to_ms),
        sort: crate::storage::IssueSort::Oldest,
        limit: u64::MAX,
        ..Default::default()
    })?;
    let mut out: Vec<IssueOutcome> = rows
        .into_iter()
        .map(|row| {
            let due_ms = catalog.due_ms(&row.category);
            let reported = ReportedIssue {
                id: row.id,
                category: row.category,
                street_id: row.street_id,
                reporter_id: row.reporter_id,
                lat: row.lat,
                lon: row.lon,
                reported_at_ms: row.reported_at_ms,
            };
            IssueOutcome::as_of(reported, due_ms, &row.applied, period.to_ms)
        })
        .collect();
    out.sort_by(|a, b| {
        a.reported_at_ms
            .cmp(&b.reported_at_ms)
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(out)
}

/// The streets of the published network in the order a phone lists them: named ones by name,
/// then unnamed ones.
fn streets(net: Option<&IndexedNetwork>) -> Vec<patrol_model::streets::Street> {
    let mut streets = net.map(|n| n.network.streets.clone()).unwrap_or_default();
    streets.sort_by(|a, b| {
        (a.name.is_none(), &a.name, &a.subdistrict, a.id.to_string()).cmp(&(
            b.name.is_none(),
            &b.name,
            &b.subdistrict,
            b.id.to_string(),
        ))
    });
    streets
}

/// A points record as the ledger entry phones keep (`None` for one that does not read).
fn points_entry(r: &patrol_model::wire::LedgerRecord) -> Option<patrol_model::points::PointsEntry> {
    let b: crate::validate::PointsBody = serde_json::from_value(r.body.clone()).ok()?;
    Some(patrol_model::points::PointsEntry {
        id: b.id.parse().ok()?,
        user_id: b.user_id,
        at_ms: b.at_ms,
        day: b.day,
        kind: b.kind.parse().ok()?,
        source_id: b.source_id,
        rule_id: b.rule_id,
        rule_version: b.rule_version,
        points: b.points,
        note: b.note,
    })
}

/// The steward report for `period`, under `rules` or, when `None`, the published ones: the
/// same facts a supervisor's phone gathers (people, streets, the patrols of the report's window
/// with what each covered, the points ledger, the pickups), gathered from the server's storage.
pub fn steward_report(
    storage: &dyn Storage,
    period: &Period,
    rules: Option<&ReportRules>,
) -> Result<patrol_model::report::stewards::StewardReport> {
    use patrol_model::report::facts::PickupFacts;
    use patrol_model::report::stewards::{StewardFacts, patrol_window};

    let mut tx = storage.read()?;
    let rules = match rules {
        Some(r) => r.clone(),
        None => report_rules(tx.as_mut())?,
    };
    rules.validate()?;
    let people = people(tx.as_mut())?;
    let net = crate::network::indexed(tx.as_mut())?;
    let (from, to) = patrol_window(period, &rules);
    let records = tx.patrols_started_between(from, to)?;
    let mut patrols = records
        .iter()
        .map(|p| patrol_facts(tx.as_mut(), p))
        .collect::<Result<Vec<_>>>()?;
    if let Some(net) = &net {
        let all: Vec<usize> = (0..records.len()).collect();
        measure_into(storage, net, &records, &mut patrols, &all)?;
    }
    let mut balances = std::collections::BTreeMap::new();
    let mut entries = Vec::new();
    for e in tx
        .records_of_kind("points")?
        .iter()
        .filter_map(points_entry)
    {
        if e.at_ms < period.to_ms {
            *balances.entry(e.user_id.to_string()).or_insert(0) += e.points;
        }
        if period.contains(e.at_ms) {
            entries.push(e);
        }
    }
    entries.sort_by(|a, b| {
        (a.user_id.to_string(), a.at_ms, a.id.to_string()).cmp(&(
            b.user_id.to_string(),
            b.at_ms,
            b.id.to_string(),
        ))
    });
    let mut pickups = Vec::new();
    for r in tx.records_of_kind("pickup")? {
        let Ok(b) = serde_json::from_value::<crate::validate::PickupBody>(r.body.clone()) else {
            continue;
        };
        if period.contains(b.at_ms) {
            pickups.push(PickupFacts {
                user_id: b.user_id.to_string(),
                lat: b.lat,
                lon: b.lon,
                bags: i64::from(b.bags),
                items: i64::from(b.items),
                street_id: b.street_id,
            });
        }
    }
    let facts = StewardFacts {
        people,
        streets: streets(net.as_ref()),
        patrols,
        balances,
        entries,
        pickups,
    };
    Ok(patrol_model::report::stewards::steward_report(
        &facts,
        net.as_ref(),
        &MatchConfig::default(),
        &rules,
        period,
    ))
}

/// Every merchant's record in `period` and credit as of its end, under `rules` or the
/// published ones: the merchant documents read as a phone reads them, and the issues reported
/// before the period's end (duplicates and cancelled reports aside).
pub fn merchant_report(
    storage: &dyn Storage,
    period: &Period,
    rules: Option<&ReportRules>,
) -> Result<patrol_model::report::merchants::MerchantReport> {
    use patrol_model::domain::IssueStatus;
    use patrol_model::report::merchants::{MerchantFacts, MerchantIssue};

    crate::issue_index::catch_up(storage)?;
    let mut tx = storage.read()?;
    let rules = match rules {
        Some(r) => r.clone(),
        None => report_rules(tx.as_mut())?,
    };
    rules.validate()?;
    let mut merchants = Vec::new();
    for (id, row) in tx.docs_of_kind("merchant")? {
        let read = Automerge::load(&row.data)
            .ok()
            .and_then(|d| patrol_model::merchants::doc::read(&d).ok());
        match read {
            Some(m) => merchants.push(m),
            None => {
                tracing::warn!(merchant = %id, "a merchant document that does not read is left out of a report");
            }
        }
    }
    let (rows, _) = tx.issue_index_query(&crate::storage::IssueQuery {
        reported_to_ms: Some(period.to_ms),
        limit: u64::MAX,
        ..Default::default()
    })?;
    let mut issues = Vec::with_capacity(rows.len());
    for row in rows {
        if matches!(row.status, IssueStatus::Duplicate | IssueStatus::Cancelled) {
            continue;
        }
        issues.push(MerchantIssue {
            id: row.id.parse()?,
            category: row.category,
            lat: row.lat,
            lon: row.lon,
            reported_at_ms: row.reported_at_ms,
        });
    }
    issues.sort_by(|a, b| {
        a.reported_at_ms
            .cmp(&b.reported_at_ms)
            .then_with(|| a.id.to_string().cmp(&b.id.to_string()))
    });
    let net = crate::network::indexed(tx.as_mut())?;
    let facts = MerchantFacts {
        merchants,
        issues,
        streets: streets(net.as_ref()),
    };
    Ok(patrol_model::report::merchants::merchant_report(
        &facts, &rules, period,
    ))
}
