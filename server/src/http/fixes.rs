//! GPS fixes: uploaded by their device in idempotent binary batches keyed by (patrol, seq), and
//! downloaded in bulk by devices whose scope covers the patrol (supervisors, for assessment).

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{post, put};
use axum::{Json, Router};
use patrol_model::PatrolId;
use patrol_model::fixcodec::{MAX_FIXES_PER_BATCH, decode_fixes, encode_fixes};
use patrol_model::wire::{FixMark, MAX_FIX_BATCH_BYTES};
use serde::Deserialize;

use super::auth::AuthDevice;
use super::error::{ApiError, ApiResult};
use super::sync::ApiJson;
use super::{AppState, Metrics, blocking};
use crate::sync::{device_ctx, visible};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/patrols/{id}/fixes",
            put(upload).layer(DefaultBodyLimit::max(MAX_FIX_BATCH_BYTES)),
        )
        .route(
            "/v1/fixes/download",
            post(download).layer(DefaultBodyLimit::max(256 * 1024)),
        )
}

async fn upload(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<FixMark>> {
    let patrol_id: PatrolId = id
        .parse()
        .map_err(|e| ApiError::BadRequest(format!("{e}")))?;
    let fixes = decode_fixes(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let n = fixes.len() as u64;
    let (storage, now) = (state.storage.clone(), state.now_ms());
    let next_seq = blocking(move || {
        let mut tx = storage.write()?;
        let id = patrol_id.to_string();
        let Some(patrol) = tx.patrol(&id)? else {
            return Err(ApiError::NotFound(format!(
                "patrol {id} is unknown here; sync its header (POST /v1/sync) first"
            )));
        };
        // Another device's patrol gets the answer an unknown one gets (no existence oracle).
        if patrol.device_id != device.id {
            return Err(ApiError::NotFound(format!(
                "patrol {id} is unknown here; sync its header (POST /v1/sync) first"
            )));
        }
        if let Some(q) = tx.quarantined("patrol", &id)? {
            return Err(ApiError::Conflict(format!(
                "patrol {id} is held by the district's administrator ({}); it takes no fixes until released",
                q.reason
            )));
        }
        let before = tx.fix_mark(&id)?;
        crate::validate::check_fixes(&id, &fixes, before, now)?;
        let mark = tx.insert_fixes(&id, &fixes)?;
        // Once the server holds every fix the device counted, the summary is the server's own,
        // and devices that receive the patrol get it.
        if mark > before
            && patrol.state == patrol_model::PatrolState::Stopped
            && tx.patrol_fix_claim(&id)?.is_some_and(|claim| mark >= claim)
        {
            let summary = crate::validate::summary_from_fixes(&tx.fixes(&id, 0, usize::MAX)?);
            tx.put_patrol(
                &patrol_model::wire::PatrolRecord {
                    summary: Some(summary),
                    ..patrol
                },
                now,
            )?;
            if let Some(row) = tx.feed_row("patrol", &id)? {
                tx.feed_touch("patrol", &id, &row.scope)?;
            }
        }
        tx.commit()?;
        Ok(mark)
    })
    .await?;
    Metrics::add(&state.metrics.fixes_received, n);
    Ok(Json(FixMark {
        patrol_id,
        next_seq,
    }))
}

#[derive(Deserialize)]
struct DownloadRequest {
    patrols: Vec<PatrolFrom>,
    #[serde(default)]
    max_fixes: Option<usize>,
}

#[derive(Deserialize)]
struct PatrolFrom {
    patrol_id: PatrolId,
    from_seq: i64,
}

/// Answers frames of `[patrol id: 16 bytes][length: u32 LE][fix batch]`, as many as fit in
/// `max_fixes` (default 1,000,000); a patrol cut short continues in the next request.
async fn download(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
    ApiJson(req): ApiJson<DownloadRequest>,
) -> ApiResult<impl IntoResponse> {
    if req.patrols.len() > 10_000 {
        return Err(ApiError::BadRequest(
            "at most 10,000 patrols per download".into(),
        ));
    }
    let budget = req.max_fixes.unwrap_or(1_000_000).min(2_000_000);
    let storage = state.storage.clone();
    let (body, sent) = blocking(move || {
        let mut tx = storage.read()?;
        let ctx = device_ctx(tx.as_mut(), &device)?;
        let mut out = Vec::new();
        let mut left = budget;
        for p in &req.patrols {
            if left == 0 {
                break;
            }
            let id = p.patrol_id.to_string();
            let Some(row) = tx.feed_row("patrol", &id)? else {
                return Err(ApiError::NotFound(format!("patrol {id} is unknown here")));
            };
            // Answered as for an unknown patrol: nothing is said of another scope's ids.
            if !visible(&ctx, &row) {
                return Err(ApiError::NotFound(format!("patrol {id} is unknown here")));
            }
            let mut from = p.from_seq.max(0);
            loop {
                let chunk = tx.fixes(&id, from, left.min(MAX_FIXES_PER_BATCH))?;
                if chunk.is_empty() {
                    break;
                }
                let batch = encode_fixes(&chunk);
                out.extend_from_slice(p.patrol_id.0.as_bytes());
                out.extend_from_slice(&(batch.len() as u32).to_le_bytes());
                out.extend_from_slice(&batch);
                left -= chunk.len();
                from = chunk.last().map_or(from, |f| f.seq.saturating_add(1));
                if left == 0 {
                    break;
                }
            }
        }
        Ok((out, budget - left))
    })
    .await?;
    Metrics::add(&state.metrics.fixes_sent, sent as u64);
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], body))
}
