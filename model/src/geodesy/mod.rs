//! Geometry on the Earth: geodesic distances, a local metric projection for planar algorithms,
//! and the GCJ-02 datum used by Chinese map SDKs.
//!
//! Distances are Haversine on the mean Earth radius (geo's `Haversine`); planar algorithms
//! (simplification, map matching) run on [`LocalProjection`] coordinates in metres, because geo's
//! planar algorithms assume a metric plane.

mod gcj02;
mod projection;

pub use gcj02::{gcj02_to_wgs84, is_outside_china, wgs84_to_gcj02};
pub use projection::LocalProjection;

use geo::{Distance, Haversine, Point};
use serde::{Deserialize, Serialize};

/// Great-circle distance in metres between two WGS-84 positions (Haversine, mean Earth radius).
///
/// ```
/// use patrol_model::geodesy::haversine_distance_m;
/// // One arc-minute of latitude is about one nautical mile.
/// let d = haversine_distance_m(39.0, 116.0, 39.0 + 1.0 / 60.0, 116.0);
/// assert!((d - 1853.2).abs() < 1.0);
/// ```
pub fn haversine_distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    Haversine.distance(Point::new(lon1, lat1), Point::new(lon2, lat2))
}

/// Whether a latitude/longitude pair is a real place a receiver could report: finite, in range,
/// and not the (0, 0) a receiver without a fix emits.
pub fn check_coordinates(lat: f64, lon: f64) -> Result<(), &'static str> {
    if !lat.is_finite() || !lon.is_finite() {
        return Err("is not a number");
    }
    if !(-90.0..=90.0).contains(&lat) {
        return Err("latitude is outside -90..90");
    }
    if !(-180.0..=180.0).contains(&lon) {
        return Err("longitude is outside -180..180");
    }
    if lat == 0.0 && lon == 0.0 {
        return Err("is (0, 0), what a receiver without a fix reports");
    }
    Ok(())
}

/// A latitude/longitude box (WGS-84 degrees).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoundingBox {
    pub min_lat: f64,
    pub min_lon: f64,
    pub max_lat: f64,
    pub max_lon: f64,
}

impl BoundingBox {
    /// The smallest box holding every point, or `None` for no points.
    pub fn of_points(points: impl IntoIterator<Item = (f64, f64)>) -> Option<Self> {
        let mut it = points.into_iter();
        let (lat, lon) = it.next()?;
        let mut b = BoundingBox {
            min_lat: lat,
            min_lon: lon,
            max_lat: lat,
            max_lon: lon,
        };
        for (lat, lon) in it {
            b.min_lat = b.min_lat.min(lat);
            b.max_lat = b.max_lat.max(lat);
            b.min_lon = b.min_lon.min(lon);
            b.max_lon = b.max_lon.max(lon);
        }
        Some(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haversine_matches_a_known_distance() {
        // Tiananmen to the Shijingshan amusement park (八角游乐园): about 17.3 km.
        let d = haversine_distance_m(39.9087, 116.3975, 39.9110, 116.1972);
        assert!((d - 17_100.0).abs() < 300.0, "{d}");
        assert_eq!(haversine_distance_m(39.9, 116.2, 39.9, 116.2), 0.0);
    }

    #[test]
    fn coordinates_are_checked() {
        assert!(check_coordinates(39.9, 116.2).is_ok());
        assert!(check_coordinates(f64::NAN, 116.2).is_err());
        assert!(check_coordinates(39.9, f64::INFINITY).is_err());
        assert!(check_coordinates(91.0, 116.2).is_err());
        assert!(check_coordinates(39.9, -180.5).is_err());
        assert!(check_coordinates(0.0, 0.0).is_err());
        assert!(check_coordinates(0.0, 116.2).is_ok());
    }
}
