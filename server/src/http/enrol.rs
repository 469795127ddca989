//! `POST /v1/enrol`: a one-time code becomes a device with a token and an Automerge actor id.
//! Attempts are rate-limited per client address (see [`super::ratelimit`]); a code is good once,
//! until it expires (`admin user add --code-valid-days`).

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::post;
use axum::{Json, Router};
use patrol_model::DeviceId;
use patrol_model::wire::{EnrolRequest, EnrolResponse};

use super::error::{ApiError, ApiResult};
use super::{AppState, Metrics, blocking, sync::ApiJson};
use crate::secrets::{hash_secret, new_token, normalise_code};

pub fn router(state: AppState) -> Router<AppState> {
    Router::new().route(
        "/v1/enrol",
        post(enrol)
            .layer(DefaultBodyLimit::max(4 * 1024))
            // Outermost: every attempt takes a token, before its body is even read.
            .layer(axum::middleware::from_fn_with_state(
                state,
                super::ratelimit::limit_enrol,
            )),
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
        let code_hash = hash_secret(&code);
        let Some(user_id) = tx.use_enrol_code(&code_hash, &device_id, now)? else {
            if let Some(expired_ms) = tx.enrol_code_expired_at(&code_hash, now)? {
                return Err(ApiError::Unauthorized(format!(
                    "this enrolment code expired {} ago; ask a supervisor for a new one (`patrol-server admin user code USER`)",
                    ago(now - expired_ms)
                )));
            }
            return Err(ApiError::Unauthorized(
                "this enrolment code is unknown or already used; ask a supervisor for a new one".into(),
            ));
        };
        if crate::public::desk::is_desk(tx.as_mut(), &user_id).map_err(|e| ApiError::Internal(e.into()))? {
            return Err(ApiError::Unauthorized(
                "this enrolment code is unknown or already used; ask a supervisor for a new one".into(),
            ));
        }
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

/// A duration as people say it: "3 days", "5 hours", "12 minutes".
fn ago(ms: i64) -> String {
    let minutes = ms.max(0) / 60_000;
    match minutes {
        m if m >= 2 * 24 * 60 => format!("{} days", m / (24 * 60)),
        m if m >= 2 * 60 => format!("{} hours", m / 60),
        m => format!("{m} minute(s)"),
    }
}
