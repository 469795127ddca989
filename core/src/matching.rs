//! Map matching on the store's own street network: where a point (an issue's location, a
//! check-in) lies. The algorithm is [`patrol_model::matching`].

pub use patrol_model::matching::*;

use crate::error::{Error, Result};

/// Refuses a point that is not a place on Earth (NaN, out of range) with
/// [`Error::InvalidInput`].
pub(crate) fn check_point(lat: f64, lon: f64) -> Result<()> {
    crate::geodesy::check_coordinates(lat, lon)
        .map_err(|why| Error::InvalidInput(format!("the point ({lat}, {lon}) {why}")))
}
