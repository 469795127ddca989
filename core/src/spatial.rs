//! The store's street network, loaded once with its spatial index ([`patrol_model::spatial`])
//! and kept in memory until the stored network changes.

use std::sync::Arc;

pub use patrol_model::spatial::*;

use crate::error::Result;
use crate::store::Store;
use crate::streets::{StreetNetwork, StreetsError};

impl Store {
    /// The street network with its spatial index, loaded from the store on first use and kept
    /// in memory while the stored network version stays the same. Fails with
    /// [`StreetsError::NoNetwork`] when no streets were imported.
    pub fn street_network(&self) -> Result<Arc<IndexedNetwork>> {
        let version = self.network_version()?;
        if let Some((v, n)) = self.network_cache.0.borrow().as_ref()
            && *v == version
        {
            return Ok(n.clone());
        }
        let streets: Vec<_> = self
            .streets_with_keys()?
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        if streets.is_empty() {
            return Err(StreetsError::NoNetwork.into());
        }
        let network = Arc::new(IndexedNetwork::build(StreetNetwork::new(
            streets,
            self.segments()?,
        )));
        *self.network_cache.0.borrow_mut() = Some((version, network.clone()));
        Ok(network)
    }

    /// Drops the cached network (after an import changed it).
    pub(crate) fn forget_network(&self) {
        self.network_cache.0.borrow_mut().take();
    }
}
