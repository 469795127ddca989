//! GCJ-02 ("Mars coordinates"), the obfuscated datum China's map SDKs return.
//!
//! The forward transform (WGS-84 -> GCJ-02) is the published closed form; the inverse has no
//! closed form, so it is solved by fixed-point iteration to well under a centimetre. Outside
//! mainland China GCJ-02 equals WGS-84.

use std::f64::consts::PI;

/// Krasovsky 1940 ellipsoid, which the transform is defined on.
const A: f64 = 6_378_245.0;
const EE: f64 = 0.006_693_421_622_965_943;

/// The rough rectangle the transform applies to (the published one; it includes some sea and
/// neighbours, as the SDKs do).
pub fn is_outside_china(lat: f64, lon: f64) -> bool {
    !(72.004..=137.8347).contains(&lon) || !(0.8293..=55.8271).contains(&lat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    let mut ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    ret
}

fn transform_lon(x: f64, y: f64) -> f64 {
    let mut ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    ret
}

/// The GCJ-02 offset (dlat, dlon) in degrees at a WGS-84 position.
fn offset(lat: f64, lon: f64) -> (f64, f64) {
    let dlat = transform_lat(lon - 105.0, lat - 35.0);
    let dlon = transform_lon(lon - 105.0, lat - 35.0);
    let rad_lat = lat.to_radians();
    let magic = 1.0 - EE * rad_lat.sin() * rad_lat.sin();
    let sqrt_magic = magic.sqrt();
    let dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    let dlon = (dlon * 180.0) / (A / sqrt_magic * rad_lat.cos() * PI);
    (dlat, dlon)
}

/// WGS-84 to GCJ-02, both (lat, lon) in degrees.
///
/// ```
/// use patrol_model::geodesy::{wgs84_to_gcj02, gcj02_to_wgs84};
/// let (glat, glon) = wgs84_to_gcj02(39.9087, 116.3975);
/// assert!((glat - 39.9087).abs() > 1e-4); // shifted by a few hundred metres
/// let (lat, lon) = gcj02_to_wgs84(glat, glon);
/// assert!((lat - 39.9087).abs() < 1e-8 && (lon - 116.3975).abs() < 1e-8);
/// ```
pub fn wgs84_to_gcj02(lat: f64, lon: f64) -> (f64, f64) {
    if is_outside_china(lat, lon) {
        return (lat, lon);
    }
    let (dlat, dlon) = offset(lat, lon);
    (lat + dlat, lon + dlon)
}

/// GCJ-02 to WGS-84, both (lat, lon) in degrees, exact to about 1e-9 degrees.
pub fn gcj02_to_wgs84(lat: f64, lon: f64) -> (f64, f64) {
    if is_outside_china(lat, lon) {
        return (lat, lon);
    }
    // Start from the first-order inverse and refine: w <- w - (f(w) - g).
    let (mut wlat, mut wlon) = (lat, lon);
    for _ in 0..30 {
        let (glat, glon) = wgs84_to_gcj02(wlat, wlon);
        let (elat, elon) = (glat - lat, glon - lon);
        wlat -= elat;
        wlon -= elon;
        if elat.abs() < 1e-10 && elon.abs() < 1e-10 {
            break;
        }
    }
    (wlat, wlon)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geodesy::haversine_distance_m;

    #[test]
    fn known_offset_in_beijing() {
        // The GCJ-02 shift in Beijing is a few hundred metres, mostly eastward/northward.
        let (glat, glon) = wgs84_to_gcj02(39.9087, 116.3975);
        let shift = haversine_distance_m(39.9087, 116.3975, glat, glon);
        assert!((100.0..700.0).contains(&shift), "{shift}");
        // Published reference value for this point (eviltransform): 39.91011, 116.40375.
        assert!(
            (glat - 39.91011).abs() < 2e-4 && (glon - 116.40375).abs() < 2e-4,
            "{glat},{glon}"
        );
    }

    #[test]
    fn round_trip_is_sub_centimetre_across_the_district() {
        for i in 0..50 {
            let lat = 39.85 + i as f64 * 0.003;
            let lon = 116.10 + i as f64 * 0.004;
            let (glat, glon) = wgs84_to_gcj02(lat, lon);
            let (blat, blon) = gcj02_to_wgs84(glat, glon);
            assert!(haversine_distance_m(lat, lon, blat, blon) < 0.01);
        }
    }

    #[test]
    fn identity_outside_china() {
        assert_eq!(wgs84_to_gcj02(48.85, 2.35), (48.85, 2.35));
        assert_eq!(gcj02_to_wgs84(48.85, 2.35), (48.85, 2.35));
    }
}
