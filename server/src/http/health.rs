//! `/healthz` (liveness plus a database round trip) on the API, and `/metrics` (Prometheus
//! text) for the separate metrics listener.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::error::ApiResult;
use super::{AppState, blocking};

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

/// The metrics listener's only route.
pub fn metrics_router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

async fn healthz(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let storage = state.storage.clone();
    let feed = blocking(move || Ok(storage.read()?.feed_head()?)).await?;
    Ok(Json(
        json!({ "status": "ok", "feed_head": feed, "version": env!("CARGO_PKG_VERSION") }),
    ))
}

async fn metrics(State(state): State<AppState>) -> String {
    state.metrics.render()
}
