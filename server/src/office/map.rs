//! The map's data for one user's reach and one period, as one GeoJSON FeatureCollection: every
//! segment of the district's published street network with its coverage by the period's patrols
//! (computed as a phone's coverage map is, [`crate::reports::network_coverage`]), the open
//! problems from the issue index, and the signboards that have a position. What the map page
//! draws on a blank background and what "download as GeoJSON" saves. Coordinates are
//! `[lon, lat]` (WGS-84), as GeoJSON has them.

use std::collections::HashMap;

use patrol_model::domain::IssueStatus;
use patrol_model::reference::SignboardRow;
use patrol_model::report::period::{Period, beijing_time_text};
use serde::Serialize;
use serde_json::{Value, json};

use super::{OfficeResult, OfficeUser};
use crate::storage::{IssueQuery, Storage, Tx};

/// Most open problems one map shows (beyond it, the first ones in the index's order).
pub const MAX_ISSUES: u64 = 20_000;

/// The figures the map page's header shows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MapSummary {
    /// Segments on the map (of the user's streets).
    pub segments: usize,
    pub streets: usize,
    /// Their total length, and the length the period's patrols covered together.
    pub length_m: f64,
    pub covered_m: f64,
    /// `covered_m / length_m`, 0 when there is no network.
    pub covered_share: f64,
    /// Segments with no coverage at all in the period.
    pub uncovered_segments: usize,
    pub open_issues: usize,
    pub overdue_issues: usize,
    pub signboards: usize,
}

/// The map of one reach and period.
#[derive(Debug, Clone)]
pub struct MapData {
    /// A GeoJSON FeatureCollection; its `properties` hold the period and the summary.
    pub geojson: Value,
    pub summary: MapSummary,
}

/// The map `user` sees for `period`, as of `now_ms` (what is overdue). `status_name` names a
/// status in the office's words, for the popups.
pub fn map_data(
    storage: &dyn Storage,
    user: &OfficeUser,
    period: &Period,
    now_ms: i64,
    status_name: fn(IssueStatus) -> &'static str,
) -> OfficeResult<MapData> {
    let mine = user.subdistrict();
    let min_share = {
        let mut tx = storage.read()?;
        crate::reports::report_rules(tx.as_mut())?
            .assessment
            .segment_patrolled_min_share
    };
    let covered = crate::reports::network_coverage(storage, period, min_share)?;
    crate::issue_index::catch_up(storage)?;
    let mut tx = storage.read()?;
    let mut in_reach = InReach::new(mine.as_deref());
    let mut summary = MapSummary::default();
    let mut features = Vec::new();
    let mut street_names: HashMap<String, String> = HashMap::new();

    if let Some(found) = &covered {
        let (net, coverage) = &**found;
        let network = &net.network;
        let mut streets_shown = std::collections::HashSet::new();
        for state in &coverage.segments {
            let Some(seg) = network.segments.get(state.segment) else {
                continue;
            };
            let street = network.street_of(state.segment);
            let street_id = street.id.to_string();
            street_names.insert(street_id.clone(), street.label());
            if !in_reach.street(tx.as_mut(), &street_id)? {
                continue;
            }
            streets_shown.insert(street_id.clone());
            summary.segments += 1;
            summary.length_m += seg.length_m;
            summary.covered_m += seg.length_m * state.covered_ratio;
            if state.covered_ratio <= 0.0 {
                summary.uncovered_segments += 1;
            }
            let coordinates: Vec<Value> = seg
                .points
                .iter()
                .map(|&(lat, lon)| json!([round7(lon), round7(lat)]))
                .collect();
            features.push(json!({
                "type": "Feature",
                "id": seg.id.to_string(),
                "geometry": { "type": "LineString", "coordinates": coordinates },
                "properties": {
                    "kind": "segment",
                    "segment_id": seg.id.to_string(),
                    "street_id": street_id,
                    "street": street.label(),
                    "length_m": (seg.length_m * 10.0).round() / 10.0,
                    "covered_ratio": ratio(state.covered_ratio),
                    "patrols": state.patrols,
                },
            }));
        }
        summary.streets = streets_shown.len();
        summary.covered_share = if summary.length_m > 0.0 {
            (summary.covered_m / summary.length_m).clamp(0.0, 1.0)
        } else {
            0.0
        };
    }

    let catalog = crate::rules::catalog(tx.as_mut())?;
    let (open, _) = tx.issue_index_query(&IssueQuery {
        open: Some(true),
        subdistrict_id: mine.clone().map(Some),
        limit: MAX_ISSUES,
        ..Default::default()
    })?;
    for r in &open {
        let overdue = r.due_at_ms < now_ms;
        summary.open_issues += 1;
        summary.overdue_issues += usize::from(overdue);
        let category = catalog
            .get(&r.category)
            .map(|c| c.name_zh.clone())
            .unwrap_or_else(|| r.category.clone());
        features.push(json!({
            "type": "Feature",
            "id": r.id,
            "geometry": { "type": "Point", "coordinates": [round7(r.lon), round7(r.lat)] },
            "properties": {
                "kind": "issue",
                "id": r.id,
                "status": r.status.as_str(),
                "status_name": status_name(r.status),
                "category": category,
                "description": r.description.chars().take(80).collect::<String>(),
                "street": r.street_id.as_ref().and_then(|s| street_names.get(s)),
                "reported": beijing_time_text(r.reported_at_ms),
                "due": beijing_time_text(r.due_at_ms),
                "overdue": overdue,
                "url": format!("/office/issues/{}", r.id),
            },
        }));
    }

    for (id, body) in tx.references("signboard")? {
        let Ok(row) = serde_json::from_value::<SignboardRow>(body) else {
            tracing::warn!(signboard = %id, "a signboard row that does not read is left off the map");
            continue;
        };
        let (Some(lat), Some(lon)) = (row.lat, row.lon) else {
            continue;
        };
        if !in_reach.street(tx.as_mut(), &row.street_id)? {
            continue;
        }
        summary.signboards += 1;
        features.push(json!({
            "type": "Feature",
            "id": row.id,
            "geometry": { "type": "Point", "coordinates": [round7(lon), round7(lat)] },
            "properties": {
                "kind": "signboard",
                "id": row.id,
                "street_id": row.street_id,
                "street": street_names.get(&row.street_id),
            },
        }));
    }

    let geojson = json!({
        "type": "FeatureCollection",
        "properties": {
            "period": period.label,
            "from_ms": period.from_ms,
            "to_ms": period.to_ms,
            "now_ms": now_ms,
            "summary": summary,
        },
        "features": features,
    });
    Ok(MapData { geojson, summary })
}

/// Whether a street is within the user's reach: every street for the district, those of their
/// subdistrict for a subdistrict supervisor (asked of storage once per street).
struct InReach<'a> {
    subdistrict: Option<&'a str>,
    known: HashMap<String, bool>,
}

impl<'a> InReach<'a> {
    fn new(subdistrict: Option<&'a str>) -> Self {
        Self {
            subdistrict,
            known: HashMap::new(),
        }
    }

    fn street(&mut self, tx: &mut dyn Tx, street_id: &str) -> OfficeResult<bool> {
        let Some(want) = self.subdistrict else {
            return Ok(true);
        };
        if let Some(&yes) = self.known.get(street_id) {
            return Ok(yes);
        }
        let yes = tx.street_subdistrict(street_id)?.flatten().as_deref() == Some(want);
        self.known.insert(street_id.to_owned(), yes);
        Ok(yes)
    }
}

/// A share in 0..=1 to four places (`+ 0.0` turns a -0 from the arithmetic into 0).
fn ratio(x: f64) -> f64 {
    (x.clamp(0.0, 1.0) * 1e4).round() / 1e4 + 0.0
}

fn round7(x: f64) -> f64 {
    (x * 1e7).round() / 1e7
}
