//! `GET /office/map`: the map page for a period (`?period=` as the overview takes it), and
//! `GET /office/map/data.geojson`: what it draws, the street network coloured by coverage, the
//! open problems and the signboards, also the "download as GeoJSON" export (`&download=1`,
//! written to the audit log). The page's script (`/assets/office-map.js`) draws the data with
//! the embedded Leaflet on a blank background: no tiles, nothing fetched from outside.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{Extensions, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use patrol_model::report::period::beijing_date_text;
use serde::Deserialize;

use super::issues::url_escape;
use super::overview_page::{period_of, reach_of};
use super::pages::Base;
use super::sign_in::ip_of;
use super::{AppState, DataSession, PageSession, run, show, words};
use crate::office::audit;
use crate::office::map::{MapSummary, map_data};

#[derive(Debug, Default, Deserialize)]
pub struct MapQuery {
    period: Option<String>,
    download: Option<String>,
}

#[derive(Template)]
#[template(path = "office/map.html")]
pub struct MapPage {
    pub base: Base,
    /// The period as typed (empty: this month).
    pub period: String,
    pub from_text: String,
    pub to_text: String,
    pub summary: MapSummary,
    /// The covered share of the streets' length, as a percentage.
    pub covered_percent: String,
    pub length_km: String,
    /// Where the script fetches the map's data, and where it downloads.
    pub data_url: String,
    pub download_url: String,
}

/// The data's address for the period as typed.
fn data_url(period: Option<&str>) -> String {
    match period.map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => format!("/office/map/data.geojson?period={}", url_escape(p)),
        None => "/office/map/data.geojson".to_owned(),
    }
}

/// `GET /office/map`.
pub async fn page(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Query(q): Query<MapQuery>,
) -> Response {
    let storage = state.storage.clone();
    let now = state.now_ms();
    let built = run(move || {
        let period = period_of(q.period.as_deref(), now)?;
        let reach = reach_of(storage.as_ref(), &session.user)?;
        let map = map_data(storage.as_ref(), &session.user, &period, now, words::status)?;
        let data = data_url(q.period.as_deref());
        let download = format!(
            "{data}{}download=1",
            if data.contains('?') { "&" } else { "?" }
        );
        let s = map.summary;
        Ok(MapPage {
            base: Base::new(&session, reach, "地图", "map"),
            period: q.period.unwrap_or_default(),
            from_text: beijing_date_text(period.from_ms),
            to_text: beijing_date_text(period.to_ms - 1),
            covered_percent: format!("{:.1}%", s.covered_share * 100.0),
            length_km: format!("{:.2}", s.length_m / 1000.0),
            summary: s,
            data_url: data,
            download_url: download,
        })
    })
    .await;
    show(built)
}

/// A file name from a period's label: letters, digits, `-` and `.` kept, the rest `_`.
fn file_name(label: &str) -> String {
    let safe: String = label
        .chars()
        .take(40)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("map-{safe}.geojson")
}

/// `GET /office/map/data.geojson`: the map's GeoJSON; with `download=1` an attachment, and the
/// export is written to the audit log.
pub async fn data(
    State(state): State<AppState>,
    ext: Extensions,
    DataSession(session): DataSession,
    Query(q): Query<MapQuery>,
) -> Response {
    let storage = state.storage.clone();
    let now = state.now_ms();
    let address = ip_of(&ext).to_string();
    let download = q
        .download
        .as_deref()
        .is_some_and(|v| v == "1" || v == "true");
    let built = run(move || {
        let period = period_of(q.period.as_deref(), now)?;
        let map = map_data(storage.as_ref(), &session.user, &period, now, words::status)?;
        if download {
            let s = &map.summary;
            let mut tx = storage.write()?;
            audit::record(
                tx.as_mut(),
                now,
                Some(&session.user.user.id),
                "export.map_geojson",
                None,
                &format!(
                    "period {}; {} segments, {} open problems, {} signboards",
                    period.label, s.segments, s.open_issues, s.signboards
                ),
                Some(&address),
            )?;
            tx.commit()?;
        }
        let body = serde_json::to_string(&map.geojson).map_err(anyhow::Error::from)?;
        Ok((file_name(&period.label), body))
    })
    .await;
    match built {
        Ok((name, body)) => {
            let mut r = (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/geo+json"),
                )],
                body,
            )
                .into_response();
            if download
                && let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
            {
                r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            r
        }
        Err(r) => r,
    }
}
