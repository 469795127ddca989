//! The reports, exports and pictures of a store, as thin entry points: each gathers the facts
//! from SQLite ([`crate::report::facts`], [`crate::render::facts`]) and the network and
//! coverage the store keeps, then computes with the model ([`patrol_model::report`]) or draws
//! ([`crate::render`]). The district server computes the same reports from its own storage
//! through the same model functions.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::Value;

use crate::coverage::PatrolKey;
use crate::domain::PatrolId;
use crate::error::{Error, Result};
use crate::patrol::PatrolInfo;
use crate::render::{self, Picture};
use crate::report::assessment::{self, AssessmentFacts, AssessmentReport};
use crate::report::facts::{self as gather};
use crate::report::merchants::{self as merchant, MerchantFacts, MerchantReport};
use crate::report::network::NetworkCoverage;
use crate::report::period::Period;
use crate::report::stewards::{self, StewardFacts, StewardReport};
use crate::report::{ReportRules, export, published};
use crate::spatial::IndexedNetwork;
use crate::store::Store;
use crate::streets::{Street, StreetsError};
use patrol_model::report::facts::{CoverageFacts, PatrolFacts, PickupFacts};

impl Store {
    /// The report rules the district published (received in sync), or `None` when it published
    /// none: reports then score by the shipped rules ([`ReportRules::default`]).
    pub fn published_report_rules(&self) -> Result<Option<ReportRules>> {
        published::published_rules(self.connection())
    }

    /// The rules reports score by on this device: the district's published ones, else the
    /// shipped ones.
    pub fn report_rules(&self) -> Result<ReportRules> {
        Ok(self.published_report_rules()?.unwrap_or_default())
    }

    /// The assessment of every chief for `period` under `rules`.
    pub fn assessment_report(
        &self,
        period: &Period,
        rules: &ReportRules,
    ) -> Result<AssessmentReport> {
        rules.validate()?;
        let conn = self.connection();
        let people = gather::load_people(conn)?;
        let net = self.network_if_any()?;
        let catalog = self.issue_catalog()?;
        let (keys, mut patrols): (Vec<_>, Vec<_>) = gather::patrols_between(
            conn,
            &self.config().track.metrics,
            period.from_ms,
            period.to_ms,
        )?
        .into_iter()
        .unzip();
        let issues = gather::issue_outcomes(conn, period, &catalog)?;
        if let Some(net) = &net {
            let wanted = assessment::patrols_to_measure(&people, &patrols, rules);
            self.measure(net, &keys, &mut patrols, &wanted)?;
        }
        let facts = AssessmentFacts {
            people,
            patrols,
            issues,
        };
        Ok(assessment::assess_chiefs(
            &facts,
            net.as_deref().map(|n| &n.network),
            rules,
            period,
        ))
    }

    /// The steward report for `period` under `rules`.
    pub fn steward_report(&self, period: &Period, rules: &ReportRules) -> Result<StewardReport> {
        rules.validate()?;
        let conn = self.connection();
        let people = gather::load_people(conn)?;
        let net = self.network_if_any()?;
        let (from, to) = stewards::patrol_window(period, rules);
        let (keys, mut patrols): (Vec<_>, Vec<_>) =
            gather::patrols_between(conn, &self.config().track.metrics, from, to)?
                .into_iter()
                .unzip();
        if let Some(net) = &net {
            let all: Vec<usize> = (0..patrols.len()).collect();
            self.measure(net, &keys, &mut patrols, &all)?;
        }
        let streets: Vec<_> = self.streets()?.into_iter().map(|i| i.street).collect();
        let mut pickups = gather::pickups_between(conn, period)?;
        self.resolve_pickup_streets(&mut pickups, &streets);
        let facts = StewardFacts {
            people,
            streets,
            patrols,
            balances: gather::balances_at(conn, period.to_ms)?,
            entries: gather::ledger_between(conn, period)?,
            pickups,
        };
        Ok(stewards::steward_report(
            &facts,
            net.as_deref(),
            &self.config().matching,
            rules,
            period,
        ))
    }

    /// Every merchant's record in `period` and credit as of its end.
    pub fn merchant_report(&self, period: &Period, rules: &ReportRules) -> Result<MerchantReport> {
        rules.validate()?;
        let facts = MerchantFacts {
            merchants: self.all_merchants()?,
            issues: gather::merchant_issues_before(self.connection(), period.to_ms)?,
            streets: self.streets()?.into_iter().map(|i| i.street).collect(),
        };
        Ok(merchant::merchant_report(&facts, rules, period))
    }

    /// Every segment's coverage by the patrols started in `period` (all patrols when `None`).
    /// `min_share` is what one patrol must cover of a segment to count as patrolling it.
    pub fn network_coverage(
        &self,
        period: Option<&Period>,
        min_share: f64,
    ) -> Result<NetworkCoverage> {
        let net = self.street_network()?;
        let (from, to) = period.map_or((i64::MIN, i64::MAX), |p| (p.from_ms, p.to_ms));
        let patrols =
            gather::patrols_between(self.connection(), &self.config().track.metrics, from, to)?;
        let keys: Vec<PatrolKey> = patrols.iter().map(|p| p.0).collect();
        let coverages: Vec<_> = self
            .patrol_coverages(&net, &keys)?
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        Ok(crate::report::network::network_coverage(
            &net,
            period,
            patrols.iter().map(|p| p.1.id).collect(),
            &coverages,
            min_share,
            &self.config().coverage,
        ))
    }

    /// Issues as GeoJSON points with their state (reported in `period`, or all), for QGIS.
    pub fn issues_geojson(&self, period: Option<&Period>, open_only: bool) -> Result<Value> {
        export::issues_geojson(self.connection(), self.clock.now_ms(), period, open_only)
    }

    /// Patrol tracks (kept fixes) of `period` (or all) as GeoJSON, one MultiLineString each.
    pub fn patrols_geojson(&self, period: Option<&Period>) -> Result<Value> {
        Ok(export::patrols_geojson(&self.patrols_with_fixes(period)?))
    }

    /// Patrols of `period` (or all) as one GPX file, a track each.
    pub fn patrols_gpx(&self, period: Option<&Period>) -> Result<String> {
        export::patrols_gpx(&self.patrols_with_fixes(period)?)
    }

    /// Every segment of the network as a GeoJSON line with its coverage in `period` (or all
    /// time): the share covered and the number of patrols.
    pub fn coverage_geojson(&self, period: Option<&Period>, min_share: f64) -> Result<Value> {
        let net = self.street_network()?;
        let cov = self.network_coverage(period, min_share)?;
        Ok(export::coverage_geojson(&net.network, &cov, period))
    }

    /// A patrol's track over its streets, each segment of its assigned and visited streets
    /// coloured by the share of it this patrol covered.
    pub fn render_patrol_map(&self, id: PatrolId) -> Result<Picture> {
        let info = self.patrol(id)?;
        let net = self.street_network()?;
        let cov = self.patrol_coverage(id)?;
        let fixes = self.fixes(id)?;
        render::patrol_map(&info, &net, &cov, &fixes)
    }

    /// Open issues (reported in `period`, or all) as dots: colour by category, size by age,
    /// a dark ring when overdue; the street network in grey beneath.
    pub fn render_issues_map(&self, period: Option<&Period>) -> Result<Picture> {
        let now = self.clock.now_ms();
        let issues = render::facts::open_issues(self.connection(), period)?;
        let net = self.network_if_any()?;
        let catalog = self.issue_catalog()?;
        render::issues_map(now, &issues, net.as_deref(), &catalog)
    }

    /// The whole street network, each segment coloured by how much of it the patrols started in
    /// `period` (all patrols when `None`) covered together.
    pub fn render_coverage_map(&self, period: Option<&Period>, min_share: f64) -> Result<Picture> {
        let net = self.street_network()?;
        let cov = self.network_coverage(period, min_share)?;
        render::coverage_map(&net, &cov, period)
    }

    /// Issues found (reported) and closed (verified, cancelled or marked duplicate) per ISO week
    /// (Beijing), as paired bars: the weeks of `period`, or the 12 weeks up to now.
    pub fn render_trends(&self, period: Option<&Period>) -> Result<Picture> {
        let (from, to, weeks) = render::trend_weeks(self.clock.now_ms(), period);
        let conn = self.connection();
        let found = render::facts::reported_between(conn, from, to)?;
        let closed = render::facts::closed_between(conn, from, to)?;
        Ok(render::trends(
            period,
            from,
            &render::per_week(from, weeks, &found),
            &render::per_week(from, weeks, &closed),
        ))
    }

    /// The street network, or `None` when the store has none: reports then measure no streets.
    fn network_if_any(&self) -> Result<Option<Arc<IndexedNetwork>>> {
        match self.street_network() {
            Ok(n) => Ok(Some(n)),
            Err(Error::Streets(StreetsError::NoNetwork)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Fills in the coverage of the patrols at `which` (indices into `patrols`, whose cache
    /// keys are `keys`), from the store's per-patrol coverage cache (matched and stored on a
    /// miss), so a month's report does not map-match ten thousand tracks each time it is opened.
    fn measure(
        &self,
        net: &IndexedNetwork,
        keys: &[PatrolKey],
        patrols: &mut [PatrolFacts],
        which: &[usize],
    ) -> Result<()> {
        let which: Vec<usize> = which
            .iter()
            .copied()
            .filter(|&i| i < keys.len() && i < patrols.len())
            .collect();
        let wanted: Vec<PatrolKey> = which.iter().map(|&i| keys[i]).collect();
        let coverages = self.patrol_coverages(net, &wanted)?;
        for (&i, (coverage, _)) in which.iter().zip(coverages) {
            patrols[i].coverage = Some(CoverageFacts::of(&coverage, &net.network));
        }
        Ok(())
    }

    /// Pickups name their street as a steward typed it: an id this store has stays; anything
    /// else is resolved as a name (or an id) where the store can, and kept as typed otherwise.
    fn resolve_pickup_streets(&self, pickups: &mut [PickupFacts], streets: &[Street]) {
        let known: HashSet<String> = streets.iter().map(|s| s.id.to_string()).collect();
        for p in pickups {
            if let Some(s) = p.street_id.take() {
                p.street_id = Some(if known.contains(&s) {
                    s
                } else {
                    self.resolve_street(&s)
                        .map(|id| id.to_string())
                        .unwrap_or(s)
                });
            }
        }
    }

    /// The patrols of `period` (or all), oldest first, each with its fixes.
    fn patrols_with_fixes(
        &self,
        period: Option<&Period>,
    ) -> Result<Vec<(PatrolInfo, Vec<crate::domain::StoredFix>)>> {
        let mut list: Vec<_> = self
            .list_patrols()?
            .into_iter()
            .filter(|p| period.is_none_or(|per| per.contains(p.started_at_ms)))
            .collect();
        list.reverse();
        list.into_iter()
            .map(|p| {
                let fixes = self.fixes(p.id)?;
                Ok((p, fixes))
            })
            .collect()
    }
}
