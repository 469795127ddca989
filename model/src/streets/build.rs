//! What importers produce (a [`NetworkDraft`]: streets with their lines) and how lines become
//! segments of bounded length, so that "80 % covered" means something on a 2 km road.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::domain::Datum;
use crate::geodesy::{gcj02_to_wgs84, haversine_distance_m};
use crate::streets::{E7, StreetsError, from_e7, to_e7};

/// How a street file is imported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreetImportOptions {
    /// Lines longer than this are split into equal segments no longer than it (metres).
    pub max_segment_m: f64,
    /// The subdistrict (街道) running the imported streets, when the file does not say.
    pub subdistrict: Option<String>,
    /// The datum of the file's coordinates (OpenStreetMap is WGS-84; Chinese map exports may be
    /// GCJ-02). Stored in WGS-84.
    pub datum: Datum,
}

impl Default for StreetImportOptions {
    fn default() -> Self {
        Self {
            max_segment_m: 200.0,
            subdistrict: None,
            datum: Datum::Wgs84,
        }
    }
}

impl StreetImportOptions {
    pub fn validate(&self) -> Result<(), StreetsError> {
        if !(self.max_segment_m.is_finite() && self.max_segment_m >= 10.0) {
            return Err(StreetsError::BadOption(format!(
                "max segment length must be at least 10 m, got {}",
                self.max_segment_m
            )));
        }
        if let Some(sub) = &self.subdistrict
            && let Err(e) = crate::text::check_name(
                "the subdistrict's name",
                sub.trim(),
                crate::text::MAX_NAME_CHARS,
            )
        {
            return Err(StreetsError::BadOption(e.to_string()));
        }
        Ok(())
    }
}

/// One polyline read from a file (an OSM way, a GeoJSON LineString or MultiLineString part).
#[derive(Debug, Clone, PartialEq)]
pub struct DraftLine {
    pub points: Vec<E7>,
    /// The road kind (`highway` tag) of this line.
    pub class: String,
    /// Where it came from (`osm:way/123`, `geojson:feature/4`), for people reading the store.
    pub source_ref: String,
}

/// A street read from a file: all lines sharing a name (and subdistrict), or one unnamed line.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftStreet {
    /// Identity across re-imports: `name:<subdistrict>|<name>` for named streets, the source
    /// object for unnamed ones. Importing a file again updates these streets in place, so their
    /// ids, assignments and signboards survive.
    pub key: String,
    pub name: Option<String>,
    pub subdistrict: Option<String>,
    pub lines: Vec<DraftLine>,
}

impl DraftStreet {
    /// The class covering most of the street's length (a known class before `unknown`).
    pub fn class(&self) -> String {
        let mut by_class: HashMap<&str, f64> = HashMap::new();
        let known = self.lines.iter().any(|l| l.class != "unknown");
        for l in self.lines.iter().filter(|l| !known || l.class != "unknown") {
            *by_class.entry(l.class.as_str()).or_default() += line_length_m(&l.points);
        }
        by_class
            .into_iter()
            .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(c, _)| c.to_owned())
            .unwrap_or_else(|| "unknown".into())
    }
}

/// Streets read from a file, not yet stored.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NetworkDraft {
    /// `osm` or `geojson`.
    pub format: String,
    pub streets: Vec<DraftStreet>,
    /// Lines read (OSM highway ways, GeoJSON line parts).
    pub lines_read: usize,
    /// Lines left out: fewer than two distinct resolvable points.
    pub lines_skipped: usize,
    /// OSM node references that the file does not define (clipped extracts); lines are broken
    /// there rather than drawn straight across the hole.
    pub missing_node_refs: usize,
}

/// Groups lines into streets by (subdistrict, name); unnamed lines are streets of their own.
/// Keeps the first-seen order so imports are deterministic.
pub(crate) fn group_streets(
    lines: Vec<(Option<String>, Option<String>, String, DraftLine)>,
) -> Vec<DraftStreet> {
    let mut order: Vec<DraftStreet> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for (name, subdistrict, unnamed_key, line) in lines {
        let key = match &name {
            Some(n) => format!("name:{}|{}", subdistrict.as_deref().unwrap_or(""), n),
            None => unnamed_key,
        };
        match by_key.get(&key) {
            Some(&i) => order[i].lines.push(line),
            None => {
                by_key.insert(key.clone(), order.len());
                order.push(DraftStreet {
                    key,
                    name,
                    subdistrict,
                    lines: vec![line],
                });
            }
        }
    }
    order
}

/// A trimmed, non-empty name or `None`.
pub(crate) fn clean_name(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Converts a point to WGS-84 [`E7`] from the import datum.
pub(crate) fn point_e7(lat: f64, lon: f64, datum: Datum) -> E7 {
    let (lat, lon) = match datum {
        Datum::Wgs84 => (lat, lon),
        Datum::Gcj02 => gcj02_to_wgs84(lat, lon),
    };
    to_e7(lat, lon)
}

/// Haversine length of an [`E7`] polyline in metres.
pub fn line_length_m(points: &[E7]) -> f64 {
    points
        .windows(2)
        .map(|w| {
            let (a, b) = (from_e7(w[0]), from_e7(w[1]));
            haversine_distance_m(a.0, a.1, b.0, b.1)
        })
        .sum()
}

/// Drops consecutive repeated points; `None` when fewer than two distinct points remain.
pub(crate) fn dedup_line(mut points: Vec<E7>) -> Option<Vec<E7>> {
    points.dedup();
    (points.len() >= 2).then_some(points)
}

/// Splits a polyline into the fewest equal-length pieces no longer than `max_m` (Haversine).
/// Cut points are interpolated and shared by the two pieces they join, so the pieces meet
/// exactly and their lengths add up to the line's.
///
/// ```
/// use patrol_model::streets::{build::split_line, to_e7};
/// // About 445 m due north: three pieces of about 148 m.
/// let line = vec![to_e7(39.900, 116.2), to_e7(39.904, 116.2)];
/// let pieces = split_line(&line, 200.0);
/// assert_eq!(pieces.len(), 3);
/// assert_eq!(pieces[0].last(), pieces[1].first());
/// ```
pub fn split_line(points: &[E7], max_m: f64) -> Vec<Vec<E7>> {
    let deg: Vec<(f64, f64)> = points.iter().map(|p| from_e7(*p)).collect();
    let mut cumulative = Vec::with_capacity(deg.len());
    let mut total = 0.0;
    cumulative.push(0.0);
    for w in deg.windows(2) {
        total += haversine_distance_m(w[0].0, w[0].1, w[1].0, w[1].1);
        cumulative.push(total);
    }
    let n = ((total / max_m).ceil() as usize).max(1);
    if n == 1 {
        return vec![points.to_vec()];
    }
    let piece_m = total / n as f64;
    let mut pieces = Vec::with_capacity(n);
    let mut current = vec![points[0]];
    let mut next_cut = piece_m;
    for i in 1..points.len() {
        // Cut every boundary that falls inside the edge (i-1, i).
        while pieces.len() + 1 < n && cumulative[i] > next_cut + 1e-9 {
            let edge = cumulative[i] - cumulative[i - 1];
            let t = if edge > 0.0 {
                (next_cut - cumulative[i - 1]) / edge
            } else {
                0.0
            };
            let (a, b) = (deg[i - 1], deg[i]);
            let cut = to_e7(a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
            if current.last() != Some(&cut) {
                current.push(cut);
            }
            if current.len() >= 2 {
                pieces.push(std::mem::replace(&mut current, vec![cut]));
            }
            next_cut += piece_m;
        }
        if current.last() != Some(&points[i]) {
            current.push(points[i]);
        }
    }
    if current.len() >= 2 {
        pieces.push(current);
    } else if let (Some(last), Some(p)) = (pieces.last_mut(), current.first())
        && last.last() != Some(p)
    {
        last.push(*p);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_pieces_are_bounded_and_add_up() {
        // An L-shaped line of about 1.1 km with a vertex in the middle of a piece.
        let line = vec![
            to_e7(39.90, 116.20),
            to_e7(39.905, 116.20),
            to_e7(39.905, 116.2065),
        ];
        let total = line_length_m(&line);
        for max in [50.0, 200.0, 333.0, 5000.0] {
            let pieces = split_line(&line, max);
            assert_eq!(
                pieces.len(),
                ((total / max).ceil() as usize).max(1),
                "max {max}"
            );
            let sum: f64 = pieces.iter().map(|p| line_length_m(p)).sum();
            assert!((sum - total).abs() < 0.01, "{sum} vs {total}");
            for p in &pieces {
                assert!(
                    line_length_m(p) <= max + 0.05,
                    "{} > {max}",
                    line_length_m(p)
                );
            }
            for w in pieces.windows(2) {
                assert_eq!(w[0].last(), w[1].first());
            }
            assert_eq!(pieces[0][0], line[0]);
            assert_eq!(pieces.last().unwrap().last(), line.last());
        }
    }

    #[test]
    fn grouping_by_name_keeps_unnamed_apart() {
        let line = |r: &str| DraftLine {
            points: vec![(0, 0), (1, 1)],
            class: "service".into(),
            source_ref: r.into(),
        };
        let streets = group_streets(vec![
            (
                Some("成府路".into()),
                None,
                "osm:way/1".into(),
                line("osm:way/1"),
            ),
            (None, None, "osm:way/2".into(), line("osm:way/2")),
            (
                Some("成府路".into()),
                None,
                "osm:way/3".into(),
                line("osm:way/3"),
            ),
            (None, None, "osm:way/4".into(), line("osm:way/4")),
            (
                Some("成府路".into()),
                Some("八角".into()),
                "osm:way/5".into(),
                line("osm:way/5"),
            ),
        ]);
        assert_eq!(streets.len(), 4);
        assert_eq!(streets[0].lines.len(), 2);
        assert_eq!(streets[0].key, "name:|成府路");
        assert_eq!(streets[1].key, "osm:way/2");
        assert_eq!(streets[3].key, "name:八角|成府路");
    }
}
