//! Map matching on the store's own street network: where a point (an issue's location, a
//! check-in) lies. The algorithm is [`patrol_model::matching`].

pub use patrol_model::matching::*;

use crate::error::{Error, Result};
use crate::store::Store;

impl Store {
    /// The street and segment a WGS-84 point lies on (an issue's location, a check-in), if any
    /// street is within the matching tolerance.
    /// A point that is not a place on Earth (NaN, out of range) is refused with
    /// [`Error::InvalidInput`].
    pub fn match_point(
        &self,
        lat: f64,
        lon: f64,
        accuracy_m: Option<f64>,
    ) -> Result<Option<PointMatch>> {
        crate::geodesy::check_coordinates(lat, lon)
            .map_err(|why| Error::InvalidInput(format!("the point ({lat}, {lon}) {why}")))?;
        let net = self.street_network()?;
        Ok(match_point(
            &net,
            lat,
            lon,
            accuracy_m,
            None,
            &self.config.matching,
        ))
    }
}
