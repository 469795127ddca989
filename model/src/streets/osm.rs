//! OpenStreetMap XML (`.osm`, API 0.6 / JOSM / Overpass "out meta") reading: every way with a
//! `highway` tag becomes a line, its node references resolved to coordinates. Ways that share a
//! name are one street; unnamed ways are streets of their own. Streaming (quick-xml), one pass.

use std::collections::HashMap;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::streets::build::{clean_name, dedup_line, group_streets, point_e7};
use crate::streets::{DraftLine, E7, NetworkDraft, StreetImportOptions, StreetsError};

/// A highway way as read, before its nodes are resolved.
struct RawWay {
    id: String,
    refs: Vec<i64>,
    highway: Option<String>,
    name: Option<String>,
    deleted: bool,
}

/// Reads OpenStreetMap XML into a draft network. Fails, naming what is wrong, on broken XML, a
/// root other than `<osm>`, a node with bad coordinates, or a file with no highway at all.
pub fn parse_osm(
    bytes: &[u8],
    options: &StreetImportOptions,
) -> Result<NetworkDraft, StreetsError> {
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().check_end_names = true;
    let mut nodes: HashMap<i64, E7> = HashMap::new();
    let mut ways: Vec<RawWay> = Vec::new();
    let mut way: Option<RawWay> = None;
    let mut saw_root = false;
    let mut node_count = 0usize;
    let mut way_count = 0usize;

    loop {
        let event = reader.read_event().map_err(|e| StreetsError::Xml {
            position: reader.error_position(),
            message: e.to_string(),
        })?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = e.local_name();
                let name = name.as_ref();
                if !saw_root {
                    if name != "osm" {
                        return Err(StreetsError::NotOsm(name.to_owned()));
                    }
                    saw_root = true;
                    continue;
                }
                match name {
                    "node" => {
                        node_count += 1;
                        if let Some((id, p)) = read_node(e, options)? {
                            nodes.insert(id, p);
                        }
                    }
                    "way" => {
                        way_count += 1;
                        let attrs = attributes(e);
                        let w = RawWay {
                            id: attrs.get("id").cloned().unwrap_or_default(),
                            refs: Vec::new(),
                            highway: None,
                            name: None,
                            deleted: is_deleted(&attrs),
                        };
                        if empty {
                            ways.push(w);
                        } else {
                            way = Some(w);
                        }
                    }
                    "nd" => {
                        if let Some(w) = way.as_mut() {
                            // A reference that is not a number cannot be resolved: it breaks the line.
                            let r = attributes(e)
                                .get("ref")
                                .and_then(|r| r.trim().parse().ok())
                                .unwrap_or(i64::MIN);
                            w.refs.push(r);
                        }
                    }
                    "tag" => {
                        if let Some(w) = way.as_mut() {
                            let attrs = attributes(e);
                            match attrs.get("k").map(String::as_str) {
                                Some("highway") => {
                                    w.highway = clean_name(attrs.get("v").map(String::as_str))
                                }
                                Some("name") => {
                                    w.name = clean_name(attrs.get("v").map(String::as_str))
                                }
                                _ => {}
                            }
                        }
                    }
                    _ => {}
                }
            }
            Event::End(ref e) => {
                if e.local_name().as_ref() == "way"
                    && let Some(w) = way.take()
                {
                    ways.push(w);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err(StreetsError::Xml {
            position: 0,
            message: "the file is empty".into(),
        });
    }

    let mut draft = NetworkDraft {
        format: "osm".into(),
        ..Default::default()
    };
    let mut lines = Vec::new();
    for w in ways.into_iter().filter(|w| !w.deleted) {
        let Some(highway) = w.highway else { continue };
        for (what, text) in [
            ("its name", &w.name),
            ("its highway tag", &Some(highway.clone())),
        ] {
            if let Some(t) = text
                && let Err(e) = crate::text::check_name(what, t, crate::text::MAX_NAME_CHARS)
            {
                return Err(StreetsError::BadWay {
                    id: w.id.clone(),
                    reason: e.to_string(),
                });
            }
        }
        draft.lines_read += 1;
        // Break the way where a node is missing rather than bridging the hole with a straight line.
        let mut runs: Vec<Vec<E7>> = vec![Vec::new()];
        for r in &w.refs {
            match nodes.get(r) {
                Some(p) => runs.last_mut().expect("never empty").push(*p),
                None => {
                    draft.missing_node_refs += 1;
                    runs.push(Vec::new());
                }
            }
        }
        let runs: Vec<Vec<E7>> = runs.into_iter().filter_map(dedup_line).collect();
        if runs.is_empty() {
            draft.lines_skipped += 1;
            continue;
        }
        let key = format!("osm:way/{}", w.id);
        for (i, points) in runs.into_iter().enumerate() {
            let source_ref = if i == 0 {
                key.clone()
            } else {
                format!("{key}#{i}")
            };
            let line = DraftLine {
                points,
                class: highway.clone(),
                source_ref,
            };
            lines.push((
                w.name.clone(),
                options.subdistrict.clone(),
                key.clone(),
                line,
            ));
        }
    }
    if draft.lines_read == 0 {
        return Err(StreetsError::NoHighways {
            nodes: node_count,
            ways: way_count,
        });
    }
    draft.streets = group_streets(lines);
    if draft.streets.is_empty() {
        return Err(StreetsError::NoHighways {
            nodes: node_count,
            ways: way_count,
        });
    }
    Ok(draft)
}

fn attributes(e: &BytesStart<'_>) -> HashMap<String, String> {
    e.attributes()
        .flatten()
        .map(|a| {
            let value = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(|v| v.into_owned())
                .unwrap_or_else(|_| a.value.clone().into_owned());
            (a.key.local_name().as_ref().to_owned(), value)
        })
        .collect()
}

/// JOSM marks deleted objects with `action="delete"`; the API with `visible="false"`.
fn is_deleted(attrs: &HashMap<String, String>) -> bool {
    attrs.get("action").is_some_and(|a| a == "delete")
        || attrs.get("visible").is_some_and(|v| v == "false")
}

fn read_node(
    e: &BytesStart<'_>,
    options: &StreetImportOptions,
) -> Result<Option<(i64, E7)>, StreetsError> {
    let attrs = attributes(e);
    if is_deleted(&attrs) {
        return Ok(None);
    }
    let id_text = attrs.get("id").cloned().unwrap_or_default();
    let Ok(id) = id_text.trim().parse::<i64>() else {
        return Err(StreetsError::BadNode {
            id: id_text,
            attribute: "id",
            value: String::new(),
        });
    };
    let coordinate = |name: &'static str, range: f64| -> Result<Option<f64>, StreetsError> {
        match attrs.get(name) {
            // Nodes without coordinates appear in some change files; they cannot be drawn.
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && x.abs() <= range)
                .map(Some)
                .ok_or_else(|| StreetsError::BadNode {
                    id: id_text.clone(),
                    attribute: name,
                    value: v.clone(),
                }),
        }
    };
    let (Some(lat), Some(lon)) = (coordinate("lat", 90.0)?, coordinate("lon", 180.0)?) else {
        return Ok(None);
    };
    Ok(Some((id, point_e7(lat, lon, options.datum))))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
 <node id="1" lat="39.9000000" lon="116.2000000"/>
 <node id="2" lat="39.9010000" lon="116.2000000"/>
 <node id="3" lat="39.9020000" lon="116.2000000"><tag k="highway" v="traffic_signals"/></node>
 <node id="4" lat="39.9020000" lon="116.2010000"/>
 <way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/><tag k="name" v="八角西街"/></way>
 <way id="11"><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/><tag k="name" v="八角西街"/></way>
 <way id="12"><nd ref="3"/><nd ref="4"/><nd ref="99"/><tag k="highway" v="footway"/></way>
 <way id="13"><nd ref="1"/><nd ref="4"/><tag k="building" v="yes"/></way>
 <way id="14" action="delete"><nd ref="1"/><nd ref="4"/><tag k="highway" v="service"/></way>
</osm>"#;

    #[test]
    fn highways_grouped_by_name_and_missing_nodes_counted() {
        let d = parse_osm(SMALL.as_bytes(), &StreetImportOptions::default()).unwrap();
        assert_eq!(d.lines_read, 3);
        assert_eq!(d.missing_node_refs, 1);
        assert_eq!(d.streets.len(), 2);
        assert_eq!(d.streets[0].name.as_deref(), Some("八角西街"));
        assert_eq!(d.streets[0].lines.len(), 2);
        assert_eq!(d.streets[1].name, None);
        assert_eq!(d.streets[1].key, "osm:way/12");
        assert_eq!(d.streets[1].lines[0].points.len(), 2);
    }

    #[test]
    fn bad_files_are_refused_with_reasons() {
        let o = StreetImportOptions::default();
        let no_highway = r#"<osm><node id="1" lat="1" lon="2"/><way id="5"><nd ref="1"/><tag k="building" v="yes"/></way></osm>"#;
        assert!(matches!(
            parse_osm(no_highway.as_bytes(), &o),
            Err(StreetsError::NoHighways { nodes: 1, ways: 1 })
        ));
        let broken = r#"<osm><node id="1" lat="1" lon="2"><way></osm>"#;
        assert!(matches!(
            parse_osm(broken.as_bytes(), &o),
            Err(StreetsError::Xml { .. })
        ));
        assert!(matches!(
            parse_osm(b"<gpx></gpx>", &o),
            Err(StreetsError::NotOsm(_))
        ));
        assert!(matches!(parse_osm(b"", &o), Err(StreetsError::Xml { .. })));
        let bad_lat = r#"<osm><node id="1" lat="north" lon="2"/></osm>"#;
        let e = parse_osm(bad_lat.as_bytes(), &o).unwrap_err();
        assert!(e.to_string().contains("node 1 has a bad lat"), "{e}");
    }
}
