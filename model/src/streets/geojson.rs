//! GeoJSON (RFC 7946) street import and export. Import takes a FeatureCollection (or a single
//! Feature) of LineString / MultiLineString features; a feature of any other geometry refuses the
//! whole file, so a supervisor never imports half a district by mistake. Properties read: `name`,
//! `subdistrict`, `highway` (or `class`), and `street_key` (what this module's export writes, so
//! an exported network imports back onto the same streets).

use serde_json::{Map, Value, json};

use crate::streets::build::{clean_name, dedup_line, group_streets, point_e7};
use crate::streets::{
    DraftLine, E7, NetworkDraft, Segment, Street, StreetImportOptions, StreetsError,
};

/// Reads GeoJSON bytes into a draft network.
pub fn parse_geojson(
    bytes: &[u8],
    options: &StreetImportOptions,
) -> Result<NetworkDraft, StreetsError> {
    let doc: Value =
        serde_json::from_slice(bytes).map_err(|e| StreetsError::GeoJson(e.to_string()))?;
    let features: Vec<&Value> = match doc.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => doc
            .get("features")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                StreetsError::GeoJson("a FeatureCollection without a \"features\" array".into())
            })?
            .iter()
            .collect(),
        Some("Feature") => vec![&doc],
        Some(other) => {
            return Err(StreetsError::GeoJson(format!(
                "the top level is a {other}; expected a FeatureCollection of LineString features with a name property"
            )));
        }
        None => return Err(StreetsError::GeoJson("no \"type\" at the top level".into())),
    };

    let mut draft = NetworkDraft {
        format: "geojson".into(),
        ..Default::default()
    };
    let mut lines = Vec::new();
    for (i, f) in features.iter().enumerate() {
        if f.get("type").and_then(Value::as_str) != Some("Feature") {
            return Err(StreetsError::BadFeature {
                feature: i,
                reason: "is not a Feature object".into(),
            });
        }
        let empty = Map::new();
        let props = f
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let text = |k: &str| clean_name(props.get(k).and_then(Value::as_str));
        let geometry =
            f.get("geometry")
                .filter(|g| !g.is_null())
                .ok_or_else(|| StreetsError::BadFeature {
                    feature: i,
                    reason: "has no geometry".into(),
                })?;
        let kind = geometry
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("geometry without a type");
        let coordinates = geometry.get("coordinates");
        let parts: Vec<&Value> = match (kind, coordinates) {
            ("LineString", Some(c)) => vec![c],
            ("MultiLineString", Some(Value::Array(parts))) => parts.iter().collect(),
            ("LineString" | "MultiLineString", _) => {
                return Err(StreetsError::BadFeature {
                    feature: i,
                    reason: format!("its {kind} has no coordinates array"),
                });
            }
            (other, _) => {
                return Err(StreetsError::NonLineGeometry {
                    feature: i,
                    kind: other.to_owned(),
                });
            }
        };
        let name = text("name");
        let subdistrict = text("subdistrict").or_else(|| options.subdistrict.clone());
        let class = text("highway")
            .or_else(|| text("class"))
            .unwrap_or_else(|| "unknown".into());
        for (what, value) in [
            ("its name", name.as_deref()),
            ("its subdistrict", subdistrict.as_deref()),
            ("its highway class", Some(class.as_str())),
        ] {
            if let Some(v) = value
                && let Err(e) = crate::text::check_name(what, v, crate::text::MAX_NAME_CHARS)
            {
                return Err(StreetsError::BadFeature {
                    feature: i,
                    reason: e.to_string(),
                });
            }
        }
        let feature_id = f.get("id").map(|v| {
            v.as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| v.to_string())
        });
        let unnamed_key = text("street_key")
            .or_else(|| feature_id.map(|id| format!("geojson:{id}")))
            .unwrap_or_else(|| format!("geojson:feature/{i}"));
        // An exported network carries its keys; named streets keep theirs too.
        let group_name = name.clone();
        for (p, part) in parts.into_iter().enumerate() {
            draft.lines_read += 1;
            let points = read_positions(part, i, options)?;
            let Some(points) = dedup_line(points) else {
                draft.lines_skipped += 1;
                continue;
            };
            let source_ref = if p == 0 {
                format!("geojson:feature/{i}")
            } else {
                format!("geojson:feature/{i}#{p}")
            };
            let line = DraftLine {
                points,
                class: class.clone(),
                source_ref,
            };
            lines.push((
                group_name.clone(),
                subdistrict.clone(),
                unnamed_key.clone(),
                line,
            ));
        }
    }
    if lines.is_empty() {
        return Err(StreetsError::NoLineFeatures);
    }
    draft.streets = group_streets(lines);
    Ok(draft)
}

fn read_positions(
    part: &Value,
    feature: usize,
    options: &StreetImportOptions,
) -> Result<Vec<E7>, StreetsError> {
    let bad = |reason: String| StreetsError::BadFeature { feature, reason };
    let positions = part
        .as_array()
        .ok_or_else(|| bad("a line's coordinates are not an array of positions".into()))?;
    let mut out = Vec::with_capacity(positions.len());
    for (j, pos) in positions.iter().enumerate() {
        let xy = pos.as_array().filter(|a| a.len() >= 2);
        let (lon, lat) = match xy.map(|a| (a[0].as_f64(), a[1].as_f64())) {
            Some((Some(lon), Some(lat))) => (lon, lat),
            _ => {
                return Err(bad(format!(
                    "position {j} is not [longitude, latitude]: {pos}"
                )));
            }
        };
        if let Err(why) = crate::geodesy::check_coordinates(lat, lon) {
            return Err(bad(format!(
                "position {j} [{lon}, {lat}] {why} (GeoJSON puts longitude first)"
            )));
        }
        out.push(point_e7(lat, lon, options.datum));
    }
    Ok(out)
}

/// The network as a GeoJSON FeatureCollection: one LineString feature per segment, with the
/// street's id, key, name, subdistrict and class, and the segment's id and length.
pub fn network_geojson(streets: &[(Street, String)], segments: &[Segment]) -> Value {
    let by_id: std::collections::HashMap<_, _> =
        streets.iter().map(|(s, k)| (s.id, (s, k))).collect();
    let features: Vec<Value> = segments
        .iter()
        .filter_map(|seg| {
            let (street, key) = by_id.get(&seg.street_id)?;
            let coordinates: Vec<Value> = seg
                .points
                .iter()
                .map(|(lat, lon)| json!([round7(*lon), round7(*lat)]))
                .collect();
            Some(json!({
                "type": "Feature",
                "id": seg.id.to_string(),
                "geometry": { "type": "LineString", "coordinates": coordinates },
                "properties": {
                    "street_id": street.id,
                    "street_key": key,
                    "name": street.name,
                    "subdistrict": street.subdistrict,
                    "highway": street.class,
                    "segment_id": seg.id,
                    "ordinal": seg.ordinal,
                    "length_m": (seg.length_m * 100.0).round() / 100.0,
                },
            }))
        })
        .collect();
    json!({ "type": "FeatureCollection", "features": features })
}

fn round7(x: f64) -> f64 {
    (x * 1e7).round() / 1e7
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_multilines_import() {
        let doc = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"name":"银河大街","highway":"secondary"},
           "geometry":{"type":"LineString","coordinates":[[116.2,39.9],[116.2,39.901]]}},
          {"type":"Feature","properties":{"name":"银河大街"},
           "geometry":{"type":"MultiLineString","coordinates":[[[116.2,39.901],[116.2,39.902]],[[116.3,39.9],[116.3,39.9]]]}},
          {"type":"Feature","id":7,"properties":{},
           "geometry":{"type":"LineString","coordinates":[[116.21,39.9],[116.21,39.901]]}}]}"#;
        let d = parse_geojson(doc.as_bytes(), &StreetImportOptions::default()).unwrap();
        assert_eq!(d.lines_read, 4);
        assert_eq!(d.lines_skipped, 1, "a line of one repeated point");
        assert_eq!(d.streets.len(), 2);
        assert_eq!(d.streets[0].lines.len(), 2);
        assert_eq!(d.streets[0].class(), "secondary");
        assert_eq!(d.streets[1].key, "geojson:7");
    }

    #[test]
    fn non_lines_and_junk_are_refused() {
        let o = StreetImportOptions::default();
        let point = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"name":"a"},"geometry":{"type":"LineString","coordinates":[[116.2,39.9],[116.2,39.901]]}},
          {"type":"Feature","properties":{"name":"sign"},"geometry":{"type":"Point","coordinates":[116.2,39.9]}}]}"#;
        let e = parse_geojson(point.as_bytes(), &o).unwrap_err();
        assert_eq!(
            e,
            StreetsError::NonLineGeometry {
                feature: 1,
                kind: "Point".into()
            }
        );
        assert!(
            e.to_string()
                .contains("only LineString and MultiLineString")
        );
        assert!(matches!(
            parse_geojson(b"{not json", &o),
            Err(StreetsError::GeoJson(_))
        ));
        assert!(matches!(
            parse_geojson(br#"{"type":"Point","coordinates":[1,2]}"#, &o),
            Err(StreetsError::GeoJson(_))
        ));
        assert_eq!(
            parse_geojson(br#"{"type":"FeatureCollection","features":[]}"#, &o),
            Err(StreetsError::NoLineFeatures)
        );
        let swapped = r#"{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[39.9,116.2],[39.9,116.3]]}}"#;
        let e = parse_geojson(swapped.as_bytes(), &o).unwrap_err();
        assert!(e.to_string().contains("longitude first"), "{e}");
    }
}
