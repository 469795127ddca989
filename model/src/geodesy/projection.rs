//! A local equirectangular projection: metres east and north of an origin.

use crate::geodesy::haversine_distance_m;

/// Mean Earth radius in metres, the one geo's `Haversine` uses, so projected and geodesic
/// lengths agree.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Projects WGS-84 degrees to metres east (`x`) and north (`y`) of an origin, scaling longitude
/// by the cosine of the origin's latitude. Within a district (~20 km) lengths are off by well under
/// 0.5 %, which is what simplification and map matching need; distances that are reported use
/// Haversine instead.
///
/// ```
/// use patrol_model::geodesy::LocalProjection;
/// let p = LocalProjection::new(39.9, 116.2);
/// let (x, y) = p.to_metres(39.9, 116.2 + 0.001);
/// assert!((x - 85.3).abs() < 0.5 && y.abs() < 1e-9);
/// let (lat, lon) = p.to_degrees(x, y);
/// assert!((lat - 39.9).abs() < 1e-12 && (lon - 116.201).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalProjection {
    origin_lat: f64,
    origin_lon: f64,
    metres_per_deg_lat: f64,
    metres_per_deg_lon: f64,
}

impl LocalProjection {
    pub fn new(origin_lat: f64, origin_lon: f64) -> Self {
        let metres_per_deg_lat = EARTH_RADIUS_M.to_radians();
        Self {
            origin_lat,
            origin_lon,
            metres_per_deg_lat,
            metres_per_deg_lon: metres_per_deg_lat * origin_lat.to_radians().cos(),
        }
    }

    /// A projection centred on the middle of the given points, or `None` for no points.
    pub fn centred_on(points: impl IntoIterator<Item = (f64, f64)>) -> Option<Self> {
        let b = super::BoundingBox::of_points(points)?;
        Some(Self::new(
            (b.min_lat + b.max_lat) / 2.0,
            (b.min_lon + b.max_lon) / 2.0,
        ))
    }

    pub fn origin(&self) -> (f64, f64) {
        (self.origin_lat, self.origin_lon)
    }

    /// (lat, lon) in degrees to (x east, y north) in metres.
    pub fn to_metres(&self, lat: f64, lon: f64) -> (f64, f64) {
        (
            (lon - self.origin_lon) * self.metres_per_deg_lon,
            (lat - self.origin_lat) * self.metres_per_deg_lat,
        )
    }

    /// (x east, y north) in metres back to (lat, lon) in degrees.
    pub fn to_degrees(&self, x: f64, y: f64) -> (f64, f64) {
        (
            self.origin_lat + y / self.metres_per_deg_lat,
            self.origin_lon + x / self.metres_per_deg_lon,
        )
    }

    /// The relative error of the projected distance against Haversine between two points; used
    /// by tests to show the projection is fit for a district.
    pub fn relative_length_error(&self, a: (f64, f64), b: (f64, f64)) -> f64 {
        let (ax, ay) = self.to_metres(a.0, a.1);
        let (bx, by) = self.to_metres(b.0, b.1);
        let planar = (ax - bx).hypot(ay - by);
        let geodesic = haversine_distance_m(a.0, a.1, b.0, b.1);
        if geodesic == 0.0 {
            0.0
        } else {
            (planar - geodesic).abs() / geodesic
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn district_scale_lengths_agree_with_haversine() {
        // Shijingshan spans roughly 39.87..39.98 N, 116.10..116.25 E.
        let p = LocalProjection::new(39.92, 116.18);
        for (a, b) in [
            ((39.87, 116.10), (39.98, 116.25)),
            ((39.90, 116.15), (39.9005, 116.1507)),
            ((39.95, 116.24), (39.95, 116.11)),
        ] {
            let err = p.relative_length_error(a, b);
            assert!(err < 0.005, "{a:?}-{b:?}: {err}");
        }
    }
}
