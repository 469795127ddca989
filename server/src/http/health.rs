//! `/healthz` (liveness plus a database round trip) and `/metrics` (Prometheus text).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::error::ApiResult;
use super::{AppState, blocking};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
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
