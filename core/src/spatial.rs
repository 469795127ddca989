//! The store's street network, loaded once with its spatial index ([`patrol_model::spatial`])
//! and kept in memory until the stored network changes.

pub use patrol_model::spatial::*;

use rusqlite::Connection;

use crate::error::Result;
use crate::streets::{StreetNetwork, StreetsError, store};

/// The stored street network with its spatial index. Fails with [`StreetsError::NoNetwork`]
/// when no streets were imported.
pub(crate) fn load_network(conn: &Connection) -> Result<IndexedNetwork> {
    let streets: Vec<_> = store::streets_with_keys(conn)?
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    if streets.is_empty() {
        return Err(StreetsError::NoNetwork.into());
    }
    Ok(IndexedNetwork::build(StreetNetwork::new(
        streets,
        store::segments(conn)?,
    )))
}
