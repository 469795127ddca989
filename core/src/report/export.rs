//! Writing reports for the office and for GIS tools: CSV and XLSX of any report's tables,
//! GeoJSON of issues, patrol tracks and network coverage (for QGIS), and GPX of patrols (the
//! track writer of [`crate::track::export`]).
//!
//! CSV follows RFC 4180 (UTF-8 with a byte-order mark so Excel reads Chinese names right,
//! fields quoted when needed); every text cell goes through [`crate::text::csv_cell`]: one
//! starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'` so a
//! spreadsheet never runs it as a formula, and control and bidi characters are replaced.
//! Numbers stay numbers (a negative score is not a formula).

use std::io::Write;

use serde_json::{Value, json};

use rusqlite::Connection;

use crate::domain::{Datum, FixVerdict, StoredFix};
use crate::error::{Error, Result};
use crate::patrol::PatrolInfo;
use crate::report::NetworkCoverage;
use crate::report::period::{Period, beijing_time_text};
use crate::report::table::{Cell, Table};
use crate::streets::StreetNetwork;
use crate::track::export::{ExportFixes, round7, write_gpx_tracks};

/// A table as CSV text.
pub fn csv(table: &Table) -> String {
    let mut out = String::from("\u{feff}");
    let line = |cells: Vec<String>| cells.join(",") + "\r\n";
    out.push_str(&line(table.columns.iter().map(|c| csv_field(c)).collect()));
    for row in &table.rows {
        out.push_str(&line(
            row.iter().map(|c| csv_field(&cell_text(c))).collect(),
        ));
    }
    out
}

fn cell_text(c: &Cell) -> String {
    match c {
        Cell::Text(t) => crate::text::csv_cell(t).into_owned(),
        Cell::Int(i) => i.to_string(),
        Cell::Num(v) => {
            let s = format!("{v:.4}");
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        }
        Cell::Empty => String::new(),
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Tables as an XLSX workbook, one sheet each, header row bold and frozen.
pub fn xlsx(tables: &[Table]) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let fail = |e: rust_xlsxwriter::XlsxError| {
        Error::InvalidInput(format!("cannot write the XLSX workbook: {e}"))
    };
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    for t in tables {
        let sheet = book.add_worksheet();
        let name: String = t
            .name
            .chars()
            .filter(|c| !"[]:*?/\\".contains(*c))
            .take(31)
            .collect();
        sheet.set_name(name).map_err(fail)?;
        for (c, title) in t.columns.iter().enumerate() {
            sheet
                .write_string_with_format(0, c as u16, title, &bold)
                .map_err(fail)?;
        }
        for (r, row) in t.rows.iter().enumerate() {
            let r = u32::try_from(r + 1)
                .map_err(|_| Error::InvalidInput("too many rows for a spreadsheet".into()))?;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    // A string cell is never a formula in XLSX; control characters are
                    // replaced all the same (XML cannot hold most of them).
                    Cell::Text(s) => sheet
                        .write_string(r, c, crate::text::for_terminal(s))
                        .map(|_| ()),
                    Cell::Int(i) => sheet.write_number(r, c, *i as f64).map(|_| ()),
                    Cell::Num(v) => sheet.write_number(r, c, *v).map(|_| ()),
                    Cell::Empty => Ok(()),
                }
                .map_err(fail)?;
            }
        }
        sheet.set_freeze_panes(1, 0).map_err(fail)?;
        sheet.autofit();
    }
    book.save_to_buffer().map_err(fail)
}

/// Issues as GeoJSON points with their state (reported in `period`, or all), for QGIS: age
/// and overdue as of `now_ms`.
pub(crate) fn issues_geojson(
    conn: &Connection,
    now_ms: i64,
    period: Option<&Period>,
    open_only: bool,
) -> Result<Value> {
    let now = now_ms;
    let (from, to) = period.map_or((i64::MIN, i64::MAX), |p| (p.from_ms, p.to_ms));
    let mut stmt = conn.prepare_cached(
        "SELECT id, status, category, street_id, lat, lon, reporter_id, assignees, round, reported_at_ms, due_at_ms, is_open
           FROM issue WHERE reported_at_ms >= ?1 AND reported_at_ms < ?2 AND (?3 = 0 OR is_open = 1)
          ORDER BY reported_at_ms, id",
    )?;
    let rows = stmt.query_map(rusqlite::params![from, to, open_only], |r| {
        let reported: i64 = r.get(9)?;
        let due: i64 = r.get(10)?;
        let open: bool = r.get(11)?;
        Ok(json!({
            "type": "Feature",
            "geometry": { "type": "Point", "coordinates": [round7(r.get::<_, f64>(5)?), round7(r.get::<_, f64>(4)?)] },
            "properties": {
                "id": r.get::<_, String>(0)?,
                "status": r.get::<_, String>(1)?,
                "category": r.get::<_, String>(2)?,
                "street_id": r.get::<_, Option<String>>(3)?,
                "reporter_id": r.get::<_, String>(6)?,
                "assignees": r.get::<_, String>(7)?,
                "round": r.get::<_, i64>(8)?,
                "reported_at": beijing_time_text(reported),
                "reported_at_ms": reported,
                "age_days": ((now - reported) as f64 / 86_400_000.0 * 10.0).round() / 10.0,
                "open": open,
                "overdue": open && due < now,
            },
        }))
    })?;
    let features = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(json!({ "type": "FeatureCollection", "features": features }))
}

/// Patrol tracks (kept fixes) as GeoJSON, one MultiLineString each.
pub(crate) fn patrols_geojson(patrols: &[(PatrolInfo, Vec<StoredFix>)]) -> Value {
    let mut features = Vec::new();
    for (p, fixes) in patrols {
        let kept: Vec<_> = fixes
            .iter()
            .filter(|f| f.verdict == FixVerdict::Kept)
            .collect();
        let lines: Vec<Value> = kept
            .chunk_by(|a, b| a.segment == b.segment)
            .filter(|seg| seg.len() >= 2)
            .map(|seg| {
                Value::Array(
                    seg.iter()
                        .map(|f| json!([round7(f.lon), round7(f.lat)]))
                        .collect(),
                )
            })
            .collect();
        features.push(json!({
            "type": "Feature",
            "geometry": { "type": "MultiLineString", "coordinates": lines },
            "properties": {
                "patrol_id": p.id,
                "user_id": p.user_id,
                "name": p.name,
                "started_at": beijing_time_text(p.started_at_ms),
                "distance_m": p.summary.as_ref().map(|s| s.distance_m),
                "duration_s": p.summary.as_ref().map(|s| s.duration_s),
            },
        }));
    }
    json!({ "type": "FeatureCollection", "features": features })
}

/// Patrols as one GPX file, a track each.
pub(crate) fn patrols_gpx(patrols: &[(PatrolInfo, Vec<StoredFix>)]) -> Result<String> {
    let names: Vec<String> = patrols
        .iter()
        .map(|(p, _)| {
            format!(
                "{} {} {}",
                p.name.clone().unwrap_or_else(|| "patrol".into()),
                beijing_time_text(p.started_at_ms),
                p.id
            )
        })
        .collect();
    let refs: Vec<(&str, &[StoredFix])> = names
        .iter()
        .zip(patrols)
        .map(|(n, (_, f))| (n.as_str(), f.as_slice()))
        .collect();
    let mut buf = Vec::new();
    write_gpx_tracks(&mut buf, &refs, Datum::Wgs84, ExportFixes::Kept)
        .map_err(|e| Error::InvalidInput(format!("cannot write GPX: {e}")))?;
    String::from_utf8(buf).map_err(|_| Error::InvalidInput("GPX output is not UTF-8".into()))
}

/// Every segment of the network as a GeoJSON line with its coverage in `period` (or all
/// time): the share covered and the number of patrols.
pub(crate) fn coverage_geojson(
    network: &StreetNetwork,
    cov: &NetworkCoverage,
    period: Option<&Period>,
) -> Value {
    let features: Vec<Value> = cov
        .segments
        .iter()
        .filter_map(|s| {
            let seg = network.segments.get(s.segment)?;
            let street = network.street_of(s.segment);
            Some(json!({
                "type": "Feature",
                "geometry": { "type": "LineString", "coordinates": seg.points.iter().map(|&(lat, lon)| json!([round7(lon), round7(lat)])).collect::<Vec<_>>() },
                "properties": {
                    "segment_id": seg.id,
                    "street_id": street.id,
                    "street": street.name,
                    "class": street.class,
                    "length_m": seg.length_m,
                    "covered_ratio": (s.covered_ratio * 1e4).round() / 1e4,
                    "patrols": s.patrols,
                },
            }))
        })
        .collect();
    json!({
        "type": "FeatureCollection",
        "properties": { "period": period.map(|p| p.label.clone()), "patrols": cov.patrols.len() },
        "features": features,
    })
}

/// Writes bytes to a file, saying which file when it fails.
pub fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let mut f = std::fs::File::create(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    f.write_all(bytes).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}
