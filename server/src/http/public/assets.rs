//! The pages' stylesheets and scripts, embedded in the binary: nothing is fetched from anywhere
//! else (the district's network may be closed). Leaflet, which draws the office map, is
//! vendored from npm under `server/assets/vendor/` (see its README).

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

const ASSETS: &[(&str, &str, &str)] = &[
    (
        "public.css",
        "text/css; charset=utf-8",
        include_str!("../../../assets/public.css"),
    ),
    (
        "office.css",
        "text/css; charset=utf-8",
        include_str!("../../../assets/office.css"),
    ),
    (
        "public.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../assets/public.js"),
    ),
    (
        "office-map.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../assets/office-map.js"),
    ),
    (
        "leaflet.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../assets/vendor/leaflet/leaflet.js"),
    ),
    (
        "leaflet.css",
        "text/css; charset=utf-8",
        include_str!("../../../assets/vendor/leaflet/leaflet.css"),
    ),
];

/// `GET /assets/{name}`.
pub async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, mime, body)) => (
            [
                (header::CONTENT_TYPE, *mime),
                // The pages link them with the version in the query.
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            *body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
