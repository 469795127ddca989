//! `POST /v1/enrol`: a one-time code becomes a device with a token and an Automerge actor id.

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::post;
use axum::{Json, Router};
use patrol_core::DeviceId;
use patrol_core::sync::wire::{EnrolRequest, EnrolResponse};

use super::error::{ApiError, ApiResult};
use super::{AppState, Metrics, blocking, sync::ApiJson};
use crate::secrets::{hash_secret, new_token, normalise_code};

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/v1/enrol",
        post(enrol).layer(DefaultBodyLimit::max(4 * 1024)),
    )
}

async fn enrol(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<EnrolRequest>,
) -> ApiResult<Json<EnrolResponse>> {
    let code = normalise_code(&req.code);
    if code.len() != 12 {
        return Err(ApiError::BadRequest(
            "an enrolment code has 12 letters and digits, like 7KQ2-M9XD-4TPA".into(),
        ));
    }
    let name = req
        .device_name
        .map(|n| n.chars().take(100).collect::<String>());
    let now = state.now_ms();
    let storage = state.storage.clone();
    let resp = blocking(move || {
        let mut tx = storage.write()?;
        let device_id = DeviceId::new();
        let Some(user_id) = tx.use_enrol_code(&hash_secret(&code), &device_id, now)? else {
            return Err(ApiError::Unauthorized(
                "this enrolment code is unknown, already used or expired; ask a supervisor for a new one".into(),
            ));
        };
        let user = tx.user(&user_id)?.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("code for missing user")))?;
        let token = new_token();
        // The actor id is the device id's bytes, as a phone makes it for itself.
        let actor_id = hex::encode(device_id.0.as_bytes());
        tx.add_device(&device_id, &user_id, &actor_id, &hash_secret(&token), name.as_deref(), now)?;
        tx.commit()?;
        Ok(EnrolResponse { device_id, actor_id, token, user, server_time_ms: now })
    })
    .await?;
    Metrics::add(&state.metrics.enrolments, 1);
    tracing::info!(device = %resp.device_id, user = %resp.user.id, "device enrolled");
    Ok(Json(resp))
}
