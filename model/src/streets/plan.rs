//! Importing a draft network over a stored one, as a plan any storage carries out: the phone
//! store writes it to its SQLite tables, the server to its own.
//!
//! A street is matched to a stored one by key, so a re-import updates it in place and its id,
//! assignments and signboards survive; its lines are split into segments no longer than the
//! import's limit; a segment whose place (ordinal) and geometry did not change keeps its id, so
//! a re-import of an unchanged map changes nothing devices would have to sync again.

use std::collections::HashMap;

use serde::Serialize;

use crate::domain::{SegmentId, StreetId};
use crate::streets::build::{line_length_m, split_line};
use crate::streets::{DraftStreet, E7, NetworkDraft, StreetImportOptions};

/// What a storage holds of one street, for a re-import to keep its ids.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredStreet {
    pub id: StreetId,
    /// (ordinal, points, id) of each stored segment.
    pub segments: Vec<(u32, Vec<E7>, SegmentId)>,
}

/// One street of a draft, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedStreet<'a> {
    pub id: StreetId,
    /// Not in the storage before (no stored street had its key).
    pub is_new: bool,
    pub draft: &'a DraftStreet,
    /// The `highway` value covering most of its length.
    pub class: String,
    pub length_m: f64,
    pub segments: Vec<PlannedSegment>,
}

/// One segment of a planned street.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedSegment {
    pub id: SegmentId,
    pub ordinal: u32,
    pub points: Vec<E7>,
    pub length_m: f64,
    /// The source object (OSM way, GeoJSON feature) the segment was cut from.
    pub source_ref: String,
}

/// Plans one street of a draft over what the storage holds under its key (`None`: nothing).
pub fn plan_street<'a>(
    draft: &'a DraftStreet,
    max_segment_m: f64,
    stored: Option<StoredStreet>,
) -> PlannedStreet<'a> {
    let (id, is_new, stored_segments) = match stored {
        Some(s) => (s.id, false, s.segments),
        None => (StreetId::new(), true, Vec::new()),
    };
    // Stored segments by their place and geometry.
    let mut kept: HashMap<(u32, Vec<E7>), SegmentId> = stored_segments
        .into_iter()
        .map(|(ordinal, points, id)| ((ordinal, points), id))
        .collect();
    let mut segments = Vec::new();
    for line in &draft.lines {
        for points in split_line(&line.points, max_segment_m) {
            let ordinal = segments.len() as u32;
            let length_m = line_length_m(&points);
            // A segment's default id is a fresh one.
            let id = kept.remove(&(ordinal, points.clone())).unwrap_or_default();
            segments.push(PlannedSegment {
                id,
                ordinal,
                points,
                length_m,
                source_ref: line.source_ref.clone(),
            });
        }
    }
    PlannedStreet {
        id,
        is_new,
        draft,
        class: draft.class(),
        length_m: segments.iter().map(|s| s.length_m).sum(),
        segments,
    }
}

/// What a street import did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreetImportReport {
    /// `osm` or `geojson`.
    pub format: String,
    /// Streets in the file (named streets plus unnamed ways).
    pub streets: u64,
    pub named_streets: u64,
    pub unnamed_streets: u64,
    /// Streets created, and streets already stored (same key) whose geometry was replaced.
    pub streets_new: u64,
    pub streets_updated: u64,
    /// Segments written for the file's streets.
    pub segments: u64,
    /// Haversine length of all the file's streets.
    pub total_length_m: f64,
    pub max_segment_m: f64,
    pub lines_read: u64,
    pub lines_skipped: u64,
    pub missing_node_refs: u64,
}

impl StreetImportReport {
    /// The report of an import of `draft` that has stored nothing yet.
    pub fn start(draft: &NetworkDraft, options: &StreetImportOptions) -> Self {
        Self {
            format: draft.format.clone(),
            streets: 0,
            named_streets: 0,
            unnamed_streets: 0,
            streets_new: 0,
            streets_updated: 0,
            segments: 0,
            total_length_m: 0.0,
            max_segment_m: options.max_segment_m,
            lines_read: draft.lines_read as u64,
            lines_skipped: draft.lines_skipped as u64,
            missing_node_refs: draft.missing_node_refs as u64,
        }
    }

    /// Counts a street once it is stored.
    pub fn count(&mut self, street: &PlannedStreet<'_>) {
        self.streets += 1;
        if street.draft.name.is_some() {
            self.named_streets += 1;
        } else {
            self.unnamed_streets += 1;
        }
        if street.is_new {
            self.streets_new += 1;
        } else {
            self.streets_updated += 1;
        }
        self.segments += street.segments.len() as u64;
        self.total_length_m += street.length_m;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::streets::DraftLine;
    use crate::streets::to_e7;

    fn street(points: &[(f64, f64)]) -> DraftStreet {
        DraftStreet {
            key: "name:|茶叶胡同".into(),
            name: Some("茶叶胡同".into()),
            subdistrict: None,
            lines: vec![DraftLine {
                points: points.iter().map(|&(lat, lon)| to_e7(lat, lon)).collect(),
                class: "residential".into(),
                source_ref: "way/1".into(),
            }],
        }
    }

    #[test]
    fn a_reimport_keeps_the_ids_of_what_did_not_change() {
        // About 330 m east-west: four segments of at most 100 m.
        let before = street(&[(39.9, 116.3), (39.9, 116.3039)]);
        let first = plan_street(&before, 100.0, None);
        assert!(first.is_new && first.segments.len() == 4, "{first:?}");
        let stored = StoredStreet {
            id: first.id,
            segments: first
                .segments
                .iter()
                .map(|s| (s.ordinal, s.points.clone(), s.id))
                .collect(),
        };
        let again = plan_street(&before, 100.0, Some(stored.clone()));
        assert!(!again.is_new);
        assert_eq!(again.id, first.id, "the street keeps its id");
        assert_eq!(
            again.segments.iter().map(|s| s.id).collect::<Vec<_>>(),
            first.segments.iter().map(|s| s.id).collect::<Vec<_>>(),
            "an unchanged map changes no segment id"
        );
        // The street grows at its end: the first segments stay, the changed ones are new.
        let longer = street(&[(39.9, 116.3), (39.9, 116.3059)]);
        let grown = plan_street(&longer, 100.0, Some(stored));
        assert_eq!(grown.id, first.id);
        let kept = grown
            .segments
            .iter()
            .filter(|s| first.segments.iter().any(|f| f.id == s.id))
            .count();
        assert!(kept < grown.segments.len(), "changed segments get new ids");
        let mut report = StreetImportReport::start(
            &NetworkDraft {
                format: "osm".into(),
                streets: vec![],
                lines_read: 1,
                lines_skipped: 0,
                missing_node_refs: 0,
            },
            &StreetImportOptions::default(),
        );
        report.count(&grown);
        assert_eq!(
            (report.streets, report.streets_updated, report.named_streets),
            (1, 1, 1)
        );
        assert_eq!(report.segments, grown.segments.len() as u64);
    }
}
