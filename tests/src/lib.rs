//! Helpers shared by the end-to-end tests: where the real data lives, and independent
//! computations to check the core against.

use std::path::PathBuf;

pub mod district;

/// `../shared/data` beside the repository (or `$PATROL_SHARED_DATA`), if present. Tests that
/// need it print why they skip when it is absent.
pub fn shared_data_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PATROL_SHARED_DATA") {
        let dir = PathBuf::from(dir);
        return dir.is_dir().then_some(dir);
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    dir.is_dir().then(|| dir.canonicalize().unwrap_or(dir))
}

/// The shared data subfolder `name`, or `None` after printing a skip message.
pub fn shared_data(name: &str) -> Option<PathBuf> {
    match shared_data_dir().map(|d| d.join(name)).filter(|d| d.is_dir()) {
        Some(d) => Some(d),
        None => {
            eprintln!("SKIP: ../shared/data/{name} is not present; this test needs the shared real data");
            None
        }
    }
}

/// Haversine distance written out independently of the core (mean Earth radius, as geo uses).
pub fn independent_haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    const R: f64 = 6_371_008.8;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * R * a.sqrt().asin()
}

/// Track segments of a GPX file read with a deliberately naive text scan (no XML library):
/// the (lat, lon) of every `<trkpt` between `<trkseg` and `</trkseg>`, empty segments included.
pub fn naive_gpx_segments(text: &str) -> Vec<Vec<(f64, f64)>> {
    let mut segments = Vec::new();
    for chunk in text.split("<trkseg").skip(1) {
        let body = chunk.split("</trkseg>").next().unwrap_or("");
        let mut points = Vec::new();
        for pt in body.split("<trkpt").skip(1) {
            let tag = &pt[..pt.find('>').unwrap_or(pt.len())];
            let attr = |name: &str| -> f64 {
                let key = format!("{name}=\"");
                let start = tag.find(&key).expect("attribute present") + key.len();
                let end = start + tag[start..].find('"').expect("attribute closed");
                tag[start..end].trim().parse().expect("a number")
            };
            points.push((attr("lat"), attr("lon")));
        }
        segments.push(points);
    }
    segments
}

/// A highway way of an OpenStreetMap file, read with a deliberately naive text scan.
#[derive(Debug, Clone, PartialEq)]
pub struct NaiveWay {
    pub id: String,
    pub name: Option<String>,
    pub highway: String,
    /// (lat, lon) of its nodes, in order.
    pub points: Vec<(f64, f64)>,
}

/// Every way with a `highway` tag in an OpenStreetMap XML text, nodes resolved, found by
/// splitting the text on `<node` and `<way` (no XML library). Assumes attributes in double
/// quotes, as the OSM API writes them.
pub fn naive_osm_highways(text: &str) -> Vec<NaiveWay> {
    fn attr(tag: &str, name: &str) -> Option<String> {
        let key = format!(" {name}=\"");
        let start = tag.find(&key)? + key.len();
        let end = start + tag[start..].find('"')?;
        Some(tag[start..end].to_owned())
    }
    let mut nodes = std::collections::HashMap::new();
    for chunk in text.split("<node ").skip(1) {
        let tag = &chunk[..chunk.find('>').unwrap_or(chunk.len())];
        let tag = format!(" {tag}");
        if let (Some(id), Some(lat), Some(lon)) = (attr(&tag, "id"), attr(&tag, "lat"), attr(&tag, "lon")) {
            nodes.insert(id, (lat.parse::<f64>().expect("lat"), lon.parse::<f64>().expect("lon")));
        }
    }
    let mut ways = Vec::new();
    for chunk in text.split("<way ").skip(1) {
        let body = chunk.split("</way>").next().unwrap_or("");
        let head = format!(" {}", &body[..body.find('>').unwrap_or(body.len())]);
        let mut highway = None;
        let mut name = None;
        for t in body.split("<tag ").skip(1) {
            let t = format!(" {}", &t[..t.find('>').unwrap_or(t.len())]);
            match attr(&t, "k").as_deref() {
                Some("highway") => highway = attr(&t, "v"),
                Some("name") => name = attr(&t, "v"),
                _ => {}
            }
        }
        let Some(highway) = highway else { continue };
        let points = body
            .split("<nd ")
            .skip(1)
            .filter_map(|nd| attr(&format!(" {}", &nd[..nd.find('>').unwrap_or(nd.len())]), "ref"))
            .filter_map(|r| nodes.get(&r).copied())
            .collect();
        ways.push(NaiveWay { id: attr(&head, "id").unwrap_or_default(), name, highway, points });
    }
    ways
}

/// Independent Haversine length of a (lat, lon) polyline.
pub fn independent_length_m(points: &[(f64, f64)]) -> f64 {
    points.windows(2).map(|w| independent_haversine_m(w[0].0, w[0].1, w[1].0, w[1].1)).sum()
}
