//! GeoLife trajectory files (`.plt`, Microsoft Research Asia's Beijing GPS dataset): six header
//! lines, then `lat,lon,0,altitude_ft,days_since_1899,date,time` per point, times in UTC.

use crate::domain::{Datum, NewFix};
use crate::track::{ParsedTrack, TrackFileError, TrackFormat, plausible_time};

const HEADER_LINES: usize = 6;
/// GeoLife writes -777 for "no altitude".
const NO_ALTITUDE_FT: f64 = -777.0;
const FEET_TO_METRES: f64 = 0.3048;

/// Parses a PLT file; times later than a day after the current system time count as bogus.
pub fn parse_plt(bytes: &[u8]) -> Result<ParsedTrack, TrackFileError> {
    parse_plt_at(
        bytes,
        crate::clock::Clock::now_ms(&crate::clock::SystemClock),
    )
}

pub fn parse_plt_at(bytes: &[u8], now_ms: i64) -> Result<ParsedTrack, TrackFileError> {
    let text = std::str::from_utf8(bytes).map_err(|e| TrackFileError::Plt {
        line: 0,
        message: format!("not UTF-8 text ({e})"),
    })?;
    let mut lines = text.lines().enumerate();
    let first = lines.next().map(|(_, l)| l.trim()).unwrap_or("");
    if !first.starts_with("Geolife trajectory") {
        return Err(TrackFileError::Plt {
            line: 1,
            message: "the first line should read \"Geolife trajectory\"".into(),
        });
    }
    let mut out = ParsedTrack {
        format: TrackFormat::Plt,
        ..Default::default()
    };
    let mut points = Vec::new();
    for (i, line) in lines.skip(HEADER_LINES - 1) {
        let line_no = i + 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad = |message: String| TrackFileError::Plt {
            line: line_no,
            message,
        };
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() < 7 {
            return Err(bad(format!(
                "expected 7 comma-separated fields, found {}",
                fields.len()
            )));
        }
        let num = |idx: usize, what: &str| {
            fields[idx]
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| bad(format!("{what} {:?} is not a number", fields[idx])))
        };
        let lat = num(0, "latitude")?;
        let lon = num(1, "longitude")?;
        let altitude_ft = num(3, "altitude")?;
        let time = crate::track::gpx::parse_time_ms(&format!("{}T{}Z", fields[5], fields[6]));
        let time_ms = match time {
            Some(t) if plausible_time(t, now_ms) => Some(t),
            _ => {
                out.bogus_timestamps += 1;
                None
            }
        };
        points.push(NewFix {
            lat,
            lon,
            accuracy_m: None,
            altitude_m: (altitude_ft != NO_ALTITUDE_FT).then_some(altitude_ft * FEET_TO_METRES),
            speed_mps: None,
            bearing_deg: None,
            time_ms,
            provider: Some("file".into()),
            is_mock: false,
            datum: Datum::Wgs84,
        });
    }
    if points.is_empty() {
        return Err(TrackFileError::NoTrackPoints { hint: "" });
    }
    out.segments.push(points);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "Geolife trajectory\nWGS 84\nAltitude is in Feet\nReserved 3\n0,2,255,My Track,0,0,2,8421376\n0\n\
39.984702,116.318417,0,492,39744.1201851852,2008-10-23,02:53:04\n\
39.984683,116.31845,0,-777,39744.1202546296,2008-10-23,02:53:10\n";

    #[test]
    fn reads_geolife_points() {
        let t = parse_plt_at(SAMPLE.as_bytes(), 1_800_000_000_000).unwrap();
        assert_eq!(t.point_count(), 2);
        let p = &t.segments[0][0];
        assert_eq!(p.time_ms, Some(1_224_730_384_000));
        assert!((p.altitude_m.unwrap() - 149.96).abs() < 0.01);
        assert_eq!(t.segments[0][1].altitude_m, None);
    }

    #[test]
    fn refuses_what_is_not_plt() {
        assert!(
            parse_plt_at(b"hello\n", 0)
                .unwrap_err()
                .to_string()
                .contains("Geolife")
        );
        let header_only = SAMPLE.lines().take(6).collect::<Vec<_>>().join("\n");
        assert!(matches!(
            parse_plt_at(header_only.as_bytes(), 0),
            Err(TrackFileError::NoTrackPoints { .. })
        ));
        let bad = SAMPLE.replace("39.984683", "north");
        let err = parse_plt_at(bad.as_bytes(), 1_800_000_000_000)
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 8") && err.contains("latitude"), "{err}");
    }
}
