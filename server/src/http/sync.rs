//! `POST /v1/sync`: the document, patrol and record exchange (see `crate::sync`).

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::routing::post;
use axum::{Json, Router};
use patrol_model::wire::{MAX_SYNC_REQUEST_BYTES, SyncRequest, SyncResponse};
use serde::de::DeserializeOwned;

use super::auth::AuthDevice;
use super::error::{ApiError, ApiResult};
use super::{AppState, Metrics, blocking};

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/v1/sync",
        post(sync).layer(DefaultBodyLimit::max(MAX_SYNC_REQUEST_BYTES)),
    )
}

/// JSON whose rejections come back in the API's error format.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::BytesRejection(e))
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(ApiError::PayloadTooLarge(format!(
                    "request body too large: {}",
                    e.body_text()
                )))
            }
            Err(e) => Err(ApiError::BadRequest(format!(
                "request body: {}",
                e.body_text()
            ))),
        }
    }
}

async fn sync(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
    ApiJson(req): ApiJson<SyncRequest>,
) -> ApiResult<Json<SyncResponse>> {
    let now = state.now_ms();
    let uploaded = req.docs.len() as u64;
    let (storage, policy) = (state.storage.clone(), state.policy.clone());
    let result = blocking(move || {
        Ok(crate::sync::sync(
            storage.as_ref(),
            policy.as_ref(),
            &device,
            &req,
            now,
        )?)
    })
    .await;
    Metrics::add(&state.metrics.syncs, 1);
    match result {
        Ok(resp) => {
            Metrics::add(&state.metrics.docs_received, uploaded);
            Metrics::add(&state.metrics.docs_sent, resp.docs.len() as u64);
            Ok(Json(resp))
        }
        Err(e) => {
            Metrics::add(&state.metrics.sync_errors, 1);
            tracing::info!(error = %e, "sync refused");
            Err(e)
        }
    }
}
