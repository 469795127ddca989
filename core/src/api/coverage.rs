//! Coverage of patrols and periods, and the per-patrol coverage cache ([`crate::coverage`]).

use std::sync::Arc;

use crate::coverage::Coverage;
use crate::coverage::cache::{self, PatrolKey};
use crate::coverage::report::{self, PatrolCoverage, PeriodCoverage, PeriodQuery};
use crate::domain::{PatrolId, UserId};
use crate::error::Result;
use crate::matching::MatchSummary;
use crate::spatial::{self, IndexedNetwork};
use crate::store::Store;

impl Store {
    /// The version of the street network: it moves whenever a segment, or a street's name,
    /// changes.
    pub fn network_version(&self) -> Result<i64> {
        cache::network_version(&self.conn)
    }

    /// The coverage of each patrol on its own (finished), from the cache where it is valid,
    /// matched and stored otherwise (see [`cache::patrol_coverages`]).
    #[cfg_attr(
        not(feature = "reports"),
        allow(dead_code, reason = "used by the reports feature only")
    )]
    pub(crate) fn patrol_coverages(
        &self,
        net: &IndexedNetwork,
        patrols: &[PatrolKey],
    ) -> Result<Vec<(Coverage, MatchSummary)>> {
        let now = self.clock.now_ms();
        cache::patrol_coverages(
            &self.conn,
            &self.config,
            self.database_key(),
            now,
            net,
            patrols,
        )
    }

    /// Read-only connections for the other threads (see [`cache::extra_readers`]).
    #[cfg(test)]
    pub(crate) fn extra_readers(&self) -> Vec<rusqlite::Connection> {
        cache::extra_readers(&self.conn, &self.config, self.database_key())
    }

    /// Drops every cached patrol coverage (benchmarks measure the uncached path with it).
    pub fn clear_coverage_cache(&self) -> Result<u64> {
        cache::clear_coverage_cache(&self.conn)
    }

    /// The patrols to cover, by id, in the order given.
    #[cfg(test)]
    pub(crate) fn patrol_keys(&self, ids: &[PatrolId]) -> Result<Vec<PatrolKey>> {
        cache::patrol_keys(&self.conn, ids)
    }

    /// Matches a patrol's track to the street network and measures its coverage.
    pub fn patrol_coverage(&self, id: PatrolId) -> Result<PatrolCoverage> {
        let info = self.patrol(id)?;
        let net = self.street_network()?;
        report::patrol_coverage(
            &self.conn,
            &self.config,
            self.database_key(),
            self.clock.now_ms(),
            &net,
            &info,
        )
    }

    /// Coverage of the patrols started in a period, together, against the assigned streets.
    pub fn period_coverage(&self, query: &PeriodQuery) -> Result<PeriodCoverage> {
        report::check_period(query)?;
        let net = self.street_network()?;
        // A user may be given by id or, when this store knows them, by name.
        let by_name: Option<String> = match query.user_id.as_deref().map(str::trim) {
            Some(u) if u.parse::<UserId>().is_err() => report::user_id_by_name(&self.conn, u),
            _ => None,
        };
        let user = by_name
            .as_deref()
            .or(query.user_id.as_deref().map(str::trim));
        let patrols: Vec<_> = self
            .list_patrols()?
            .into_iter()
            .filter(|p| p.started_at_ms >= query.from_ms && p.started_at_ms < query.to_ms)
            .filter(|p| user.is_none_or(|u| p.user_id.to_string() == u))
            .collect();
        report::period_coverage(
            &self.conn,
            &self.config,
            self.database_key(),
            self.clock.now_ms(),
            &net,
            query,
            user,
            &patrols,
        )
    }

    /// The street network with its spatial index, loaded from the store on first use and kept
    /// in memory while the stored network version stays the same. Fails with
    /// [`crate::streets::StreetsError::NoNetwork`] when no streets were imported.
    pub fn street_network(&self) -> Result<Arc<IndexedNetwork>> {
        let version = self.network_version()?;
        if let Some((v, n)) = self.network_cache.0.borrow().as_ref()
            && *v == version
        {
            return Ok(n.clone());
        }
        let network = Arc::new(spatial::load_network(&self.conn)?);
        *self.network_cache.0.borrow_mut() = Some((version, network.clone()));
        Ok(network)
    }

    /// Drops the cached network (after an import changed it).
    pub(crate) fn forget_network(&self) {
        self.network_cache.0.borrow_mut().take();
    }

    /// The street and segment a WGS-84 point lies on (an issue's location, a check-in), if any
    /// street is within the matching tolerance.
    /// A point that is not a place on Earth (NaN, out of range) is refused with
    /// [`crate::Error::InvalidInput`].
    pub fn match_point(
        &self,
        lat: f64,
        lon: f64,
        accuracy_m: Option<f64>,
    ) -> Result<Option<crate::matching::PointMatch>> {
        crate::matching::check_point(lat, lon)?;
        let net = self.street_network()?;
        Ok(crate::matching::match_point(
            &net,
            lat,
            lon,
            accuracy_m,
            None,
            &self.config.matching,
        ))
    }
}
