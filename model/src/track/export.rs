//! Writing tracks out: GPX 1.1 for other GPS tools, GeoJSON for GIS tools (QGIS) and web maps,
//! in WGS-84 or GCJ-02 (for Chinese map SDKs).

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::domain::{Datum, FixVerdict, StoredFix};
use crate::geodesy::wgs84_to_gcj02;

/// Which fixes an export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFixes {
    /// Only kept fixes: the track as the patrol walked it.
    Kept,
    /// Every fix; GeoJSON adds a point per fix with its verdict, GPX writes all of them.
    All,
}

fn to_datum(datum: Datum, lat: f64, lon: f64) -> (f64, f64) {
    match datum {
        Datum::Wgs84 => (lat, lon),
        Datum::Gcj02 => wgs84_to_gcj02(lat, lon),
    }
}

/// RFC 3339 UTC with milliseconds, as GPX expects.
pub fn format_time_ms(time_ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(time_ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&fmt).unwrap_or_default()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Writes a GPX 1.1 document: one track, one `trkseg` per track segment.
pub fn write_gpx(
    out: &mut impl Write,
    name: &str,
    fixes: &[StoredFix],
    datum: Datum,
    which: ExportFixes,
) -> io::Result<()> {
    write_gpx_tracks(out, &[(name, fixes)], datum, which)
}

/// Writes a GPX 1.1 document with one track per (name, fixes), e.g. every patrol of a month.
pub fn write_gpx_tracks(
    out: &mut impl Write,
    tracks: &[(&str, &[StoredFix])],
    datum: Datum,
    which: ExportFixes,
) -> io::Result<()> {
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<gpx version="1.1" creator="StreetPatrol" xmlns="http://www.topografix.com/GPX/1/1">"#
    )?;
    if datum == Datum::Gcj02 {
        writeln!(out, "  <!-- coordinates are GCJ-02, not WGS-84 -->")?;
    }
    for (name, fixes) in tracks {
        write_track(out, name, fixes, datum, which)?;
    }
    writeln!(out, "</gpx>")
}

fn write_track(
    out: &mut impl Write,
    name: &str,
    fixes: &[StoredFix],
    datum: Datum,
    which: ExportFixes,
) -> io::Result<()> {
    writeln!(out, "  <trk>\n    <name>{}</name>", xml_escape(name))?;
    let selected = fixes
        .iter()
        .filter(|f| which == ExportFixes::All || f.verdict == FixVerdict::Kept);
    let mut current: Option<i64> = None;
    for f in selected {
        if current != Some(f.segment) {
            if current.is_some() {
                writeln!(out, "    </trkseg>")?;
            }
            writeln!(out, "    <trkseg>")?;
            current = Some(f.segment);
        }
        let (lat, lon) = to_datum(datum, f.lat, f.lon);
        write!(out, r#"      <trkpt lat="{lat:.7}" lon="{lon:.7}">"#)?;
        if let Some(ele) = f.altitude_m {
            write!(out, "<ele>{ele:.1}</ele>")?;
        }
        if let Some(t) = f.time_ms {
            write!(out, "<time>{}</time>", format_time_ms(t))?;
        }
        writeln!(out, "</trkpt>")?;
    }
    if current.is_some() {
        writeln!(out, "    </trkseg>")?;
    }
    writeln!(out, "  </trk>")
}

/// A GeoJSON FeatureCollection: the kept track as one MultiLineString (a line per segment) with
/// `properties`, and with [`ExportFixes::All`] a Point per fix carrying its verdict.
pub fn track_geojson(
    properties: Value,
    fixes: &[StoredFix],
    datum: Datum,
    which: ExportFixes,
) -> Value {
    let coord = |f: &StoredFix| {
        let (lat, lon) = to_datum(datum, f.lat, f.lon);
        json!([round7(lon), round7(lat)])
    };
    let kept: Vec<&StoredFix> = fixes
        .iter()
        .filter(|f| f.verdict == FixVerdict::Kept)
        .collect();
    let lines: Vec<Value> = kept
        .chunk_by(|a, b| a.segment == b.segment)
        .map(|seg| Value::Array(seg.iter().map(|f| coord(f)).collect()))
        .collect();
    let mut features = vec![json!({
        "type": "Feature",
        "geometry": { "type": "MultiLineString", "coordinates": lines },
        "properties": properties,
    })];
    if which == ExportFixes::All {
        features.extend(fixes.iter().map(|f| {
            json!({
                "type": "Feature",
                "geometry": { "type": "Point", "coordinates": coord(f) },
                "properties": {
                    "seq": f.seq,
                    "segment": f.segment,
                    "time": f.time_ms.map(format_time_ms),
                    "accuracy_m": f.accuracy_m,
                    "verdict": f.verdict,
                },
            })
        }));
    }
    json!({ "type": "FeatureCollection", "features": features })
}

/// Seven decimals of a degree is about a centimetre: enough, and much shorter files.
pub fn round7(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::track::gpx::parse_gpx_at;

    fn fix(seq: i64, segment: i64, lat: f64, verdict: FixVerdict) -> StoredFix {
        StoredFix {
            seq,
            segment,
            lat,
            lon: 116.2,
            accuracy_m: Some(5.0),
            altitude_m: Some(60.0),
            speed_mps: None,
            bearing_deg: None,
            time_ms: Some(1_714_550_400_000 + seq * 1000),
            provider: None,
            is_mock: false,
            verdict,
        }
    }

    #[test]
    fn gpx_round_trips_through_our_reader() {
        let fixes = vec![
            fix(0, 0, 39.9, FixVerdict::Kept),
            fix(1, 0, 39.9001, FixVerdict::Kept),
            fix(2, 0, 39.95, FixVerdict::ImpossibleSpeed),
            fix(3, 1, 39.9002, FixVerdict::Kept),
        ];
        let mut buf = Vec::new();
        write_gpx(
            &mut buf,
            "银河大街 <patrol>",
            &fixes,
            Datum::Wgs84,
            ExportFixes::Kept,
        )
        .unwrap();
        let back = parse_gpx_at(&buf, 1_800_000_000_000).unwrap();
        assert_eq!(back.name.as_deref(), Some("银河大街 <patrol>"));
        assert_eq!(back.segments.len(), 2);
        assert_eq!(back.point_count(), 3);
        assert_eq!(back.segments[0][1].time_ms, Some(1_714_550_401_000));
        assert!((back.segments[1][0].lat - 39.9002).abs() < 1e-7);
    }

    #[test]
    fn geojson_in_gcj02_is_shifted() {
        let fixes = vec![
            fix(0, 0, 39.9, FixVerdict::Kept),
            fix(1, 0, 39.9001, FixVerdict::Duplicate),
        ];
        let g = track_geojson(json!({"id": "x"}), &fixes, Datum::Gcj02, ExportFixes::All);
        let feats = g["features"].as_array().unwrap();
        assert_eq!(feats.len(), 3);
        let first = &feats[0]["geometry"]["coordinates"][0][0];
        let lon = first[0].as_f64().unwrap();
        assert!(
            (lon - 116.2).abs() > 1e-4,
            "GCJ-02 moves Beijing by hundreds of metres"
        );
        assert_eq!(feats[2]["properties"]["verdict"], "duplicate");
    }
}
