//! GPX 1.0 and 1.1 track reading (`trk` / `trkseg` / `trkpt`), streaming and tolerant of what
//! real devices write: empty segments, empty `<ele/>`, missing or bogus times, vendor extensions.
//! Routes and waypoints are plans, not tracks, and are not read.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::domain::{Datum, NewFix};
use crate::track::{ParsedTrack, TrackFileError, TrackFormat, plausible_time};

/// Parses GPX bytes; times later than a day after the current system time count as bogus.
pub fn parse_gpx(bytes: &[u8]) -> Result<ParsedTrack, TrackFileError> {
    parse_gpx_at(
        bytes,
        crate::clock::Clock::now_ms(&crate::clock::SystemClock),
    )
}

/// Which text child of a `trkpt` is being read.
#[derive(Clone, Copy, PartialEq)]
enum Field {
    Ele,
    Time,
    Speed,
    Course,
    TrackName,
}

/// Parses GPX bytes with `now_ms` as the current time for the bogus-time check.
pub fn parse_gpx_at(bytes: &[u8], now_ms: i64) -> Result<ParsedTrack, TrackFileError> {
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().check_end_names = true;
    let mut out = ParsedTrack {
        format: TrackFormat::Gpx,
        ..Default::default()
    };
    let mut saw_root = false;
    let mut in_trk = false;
    let mut trk_depth = 0usize;
    let mut depth = 0usize;
    let mut segment: Option<Vec<NewFix>> = None;
    let mut point: Option<NewFix> = None;
    let mut field: Option<Field> = None;
    let mut text = String::new();
    let mut other_points = 0usize;

    loop {
        let position = reader.buffer_position();
        let event = reader.read_event().map_err(|e| TrackFileError::Xml {
            position: reader.error_position(),
            message: e.to_string(),
        })?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = e.local_name();
                let name = name.as_ref();
                if !saw_root {
                    if name != "gpx" {
                        return Err(TrackFileError::NotGpx(name.to_owned()));
                    }
                    saw_root = true;
                }
                if !empty {
                    depth += 1;
                }
                match name {
                    "trk" if !empty => {
                        in_trk = true;
                        trk_depth = depth;
                    }
                    "name" if in_trk && depth == trk_depth + 1 && out.name.is_none() && !empty => {
                        field = Some(Field::TrackName);
                        text.clear();
                    }
                    "trkseg" if in_trk => {
                        finish_segment(&mut out, segment.take());
                        if empty {
                            out.empty_segments += 1;
                        } else {
                            segment = Some(Vec::new());
                        }
                    }
                    "trkpt" if in_trk => {
                        let p = read_point(e, position)?;
                        if empty {
                            segment.get_or_insert_with(Vec::new).push(p);
                        } else {
                            point = Some(p);
                        }
                    }
                    "rtept" | "wpt" => other_points += 1,
                    _ if point.is_some() && !empty => {
                        field = match name {
                            "ele" => Some(Field::Ele),
                            "time" => Some(Field::Time),
                            // GPX 1.0 <speed>/<course>, and Garmin's TrackPointExtension speed.
                            "speed" => Some(Field::Speed),
                            "course" => Some(Field::Course),
                            _ => None,
                        };
                        text.clear();
                    }
                    _ => {}
                }
            }
            Event::Text(t) if field.is_some() => {
                text.push_str(&t.xml10_content());
            }
            Event::CData(t) if field.is_some() => {
                text.push_str(&t.into_inner());
            }
            Event::GeneralRef(r) if field.is_some() => {
                text.push_str(match &*r {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    _ => "",
                });
            }
            Event::End(ref e) => {
                let name = e.local_name();
                if let Some(f) = field.take() {
                    apply_field(f, text.trim(), point.as_mut(), &mut out, now_ms);
                }
                match name.as_ref() {
                    "trkpt" => {
                        if let Some(p) = point.take() {
                            segment.get_or_insert_with(Vec::new).push(p);
                        }
                    }
                    "trkseg" => {
                        let s = segment.take();
                        if s.as_ref().is_some_and(Vec::is_empty) {
                            out.empty_segments += 1;
                        }
                        finish_segment(&mut out, s);
                    }
                    "trk" => {
                        finish_segment(&mut out, segment.take());
                        in_trk = false;
                    }
                    _ => {}
                }
                depth = depth.saturating_sub(1);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err(TrackFileError::Xml {
            position: 0,
            message: "the file is empty".into(),
        });
    }
    finish_segment(&mut out, segment.take());
    if out.segments.is_empty() {
        return Err(TrackFileError::NoTrackPoints {
            hint: if other_points > 0 {
                " (only waypoints or routes, which are plans, not tracks)"
            } else {
                ""
            },
        });
    }
    Ok(out)
}

fn finish_segment(out: &mut ParsedTrack, segment: Option<Vec<NewFix>>) {
    if let Some(s) = segment.filter(|s| !s.is_empty()) {
        out.segments.push(s);
    }
}

fn read_point(e: &BytesStart<'_>, position: u64) -> Result<NewFix, TrackFileError> {
    let mut lat = None;
    let mut lon = None;
    for attr in e.attributes().flatten() {
        let key = attr.key.local_name();
        let which = match key.as_ref() {
            "lat" => "lat",
            "lon" => "lon",
            _ => continue,
        };
        let raw = attr.value.trim().to_owned();
        let value: f64 =
            raw.parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or(TrackFileError::BadPoint {
                    position,
                    attribute: which,
                    value: raw,
                })?;
        if which == "lat" {
            lat = Some(value)
        } else {
            lon = Some(value)
        }
    }
    let missing = |attribute| TrackFileError::BadPoint {
        position,
        attribute,
        value: String::new(),
    };
    Ok(NewFix {
        lat: lat.ok_or_else(|| missing("lat (missing)"))?,
        lon: lon.ok_or_else(|| missing("lon (missing)"))?,
        accuracy_m: None,
        altitude_m: None,
        speed_mps: None,
        bearing_deg: None,
        time_ms: None,
        provider: Some("file".into()),
        is_mock: false,
        datum: Datum::Wgs84,
    })
}

fn apply_field(
    field: Field,
    text: &str,
    point: Option<&mut NewFix>,
    out: &mut ParsedTrack,
    now_ms: i64,
) {
    if field == Field::TrackName {
        if !text.is_empty() {
            out.name = Some(text.to_owned());
        }
        return;
    }
    let Some(p) = point else { return };
    let number = || text.parse::<f64>().ok().filter(|v| v.is_finite());
    match field {
        Field::Ele => p.altitude_m = number(),
        Field::Speed => p.speed_mps = number().filter(|v| *v >= 0.0),
        Field::Course => p.bearing_deg = number().filter(|v| (0.0..=360.0).contains(v)),
        Field::Time => match parse_time_ms(text) {
            Some(t) if plausible_time(t, now_ms) => p.time_ms = Some(t),
            _ if text.is_empty() => {}
            _ => out.bogus_timestamps += 1,
        },
        Field::TrackName => {}
    }
}

/// Parses an ISO 8601 / RFC 3339 time as GPX files write it (any number of fraction digits; a
/// missing offset means UTC) into milliseconds since the epoch.
pub fn parse_time_ms(text: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    use time::{OffsetDateTime, PrimitiveDateTime};
    let text = text.trim();
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some((t.unix_timestamp_nanos() / 1_000_000) as i64);
    }
    // No offset: read as UTC. Fractions beyond nanoseconds are cut.
    let fmt = time::macros::format_description!(
        version = 2,
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    PrimitiveDateTime::parse(text, &fmt)
        .ok()
        .map(|t| (t.assume_utc().unix_timestamp_nanos() / 1_000_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn gpx_1_1_with_segments_extensions_and_empty_ele() {
        let gpx = br#"<?xml version="1.0"?>
<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1" xmlns:ns3="x">
 <trk><name>Patrol &amp; pickup</name>
  <trkseg>
   <trkpt lat="39.9" lon="116.2"><ele/><time>2024-05-01T08:00:00Z</time>
     <extensions><ns3:TrackPointExtension><ns3:speed>1.3</ns3:speed></ns3:TrackPointExtension></extensions></trkpt>
   <trkpt lat="39.9001" lon="116.2"><ele>55.5</ele><time>2024-05-01T08:00:01.2073437Z</time></trkpt>
  </trkseg>
  <trkseg></trkseg>
  <trkseg><trkpt lat="39.91" lon="116.21"/></trkseg>
 </trk>
</gpx>"#;
        let t = parse_gpx_at(gpx, NOW).unwrap();
        assert_eq!(t.name.as_deref(), Some("Patrol & pickup"));
        assert_eq!(t.segments.len(), 2);
        assert_eq!(t.empty_segments, 1);
        assert_eq!(t.point_count(), 3);
        let p0 = &t.segments[0][0];
        assert_eq!(p0.altitude_m, None);
        assert_eq!(p0.speed_mps, Some(1.3));
        assert_eq!(p0.time_ms, Some(1_714_550_400_000));
        assert_eq!(t.segments[0][1].time_ms, Some(1_714_550_401_207));
        assert_eq!(t.segments[0][1].altitude_m, Some(55.5));
        assert_eq!(t.segments[1][0].time_ms, None);
    }

    #[test]
    fn bogus_times_are_dropped_and_counted() {
        let gpx = br#"<gpx version="1.0"><trk><trkseg>
<trkpt lat="46.4" lon="13.7"><time>1901-12-13T20:45:52.2073437Z</time></trkpt>
<trkpt lat="46.4" lon="13.7"><time>yesterday</time></trkpt>
<trkpt lat="46.4" lon="13.7"><time>2010-12-14T06:17:04</time></trkpt>
</trkseg></trk></gpx>"#;
        let t = parse_gpx_at(gpx, NOW).unwrap();
        assert_eq!(t.bogus_timestamps, 2);
        assert_eq!(t.segments[0][0].time_ms, None);
        assert_eq!(t.segments[0][2].time_ms, Some(1_292_307_424_000));
    }

    #[test]
    fn broken_files_are_refused() {
        for (bytes, want) in [
            (&b"<xml\xe2\x88\x82></xml>"[..], "not"),
            (
                b"<gpx><trk><trkseg><trkpt lat=\"1\" lon=\"2\"></trkseg></trk></gpx>",
                "well-formed",
            ),
            (
                b"<gpx><trk><trkseg><trkpt lat=\"abc\" lon=\"2\"/></trkseg></trk></gpx>",
                "bad lat",
            ),
            (
                b"<gpx><trk><trkseg><trkpt lon=\"2\"/></trkseg></trk></gpx>",
                "lat (missing)",
            ),
            (b"<gpx><wpt lat=\"1\" lon=\"2\"/></gpx>", "only waypoints"),
            (b"<gpx><trk><trkseg/></trk></gpx>", "no track points"),
            (b"", "empty"),
            (b"<html><body>hello</body></html>", "root element is <html>"),
        ] {
            let err = parse_gpx_at(bytes, NOW).unwrap_err().to_string();
            assert!(
                err.contains(want),
                "{:?}: {err}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
}
