//! The HTTP API: one router per resource, assembled here with the cross-cutting layers (request
//! tracing, body limits, gzip). Every route but `/healthz` and `/v1/enrol` needs a device token,
//! which handlers ask for by taking [`auth::AuthDevice`]; `/v1/enrol` is rate-limited per client
//! address ([`ratelimit`]). `/metrics` is not on the API at all: [`metrics_router`] serves it on
//! a listener of its own (`serve --metrics-addr`).

pub mod auth;
mod blobs;
mod enrol;
pub mod error;
mod fixes;
mod health;
pub mod logging;
pub mod office;
pub mod public;
pub mod ratelimit;
mod sync;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;

use crate::policy::DocPolicy;
use crate::storage::Storage;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub storage: Arc<dyn Storage>,
    pub policy: Arc<dyn DocPolicy>,
    pub blobs_dir: PathBuf,
    pub metrics: Arc<Metrics>,
    /// Enrolment attempts per client address.
    pub enrol_limiter: Arc<ratelimit::RateLimiter>,
    /// The public pages' form key and rate limits.
    pub public: Arc<public::PublicDoor>,
    /// The office platform's sign-in limits.
    pub office: Arc<office::OfficeDoor>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

impl AppState {
    pub fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// Counters served at `/metrics` (on the metrics listener) in the Prometheus text format.
#[derive(Debug, Default)]
pub struct Metrics {
    pub syncs: AtomicU64,
    pub sync_errors: AtomicU64,
    pub docs_received: AtomicU64,
    pub docs_sent: AtomicU64,
    pub fixes_received: AtomicU64,
    pub fixes_sent: AtomicU64,
    pub blob_bytes_received: AtomicU64,
    pub enrolments: AtomicU64,
    pub enrolments_limited: AtomicU64,
    pub auth_failures: AtomicU64,
    pub public_reports: AtomicU64,
    pub steward_applications: AtomicU64,
    pub public_limited: AtomicU64,
}

impl Metrics {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for (name, help, v) in [
            ("patrol_syncs_total", "sync requests served", &self.syncs),
            (
                "patrol_sync_errors_total",
                "sync requests refused or failed",
                &self.sync_errors,
            ),
            (
                "patrol_docs_received_total",
                "documents taken from devices",
                &self.docs_received,
            ),
            (
                "patrol_docs_sent_total",
                "documents sent to devices",
                &self.docs_sent,
            ),
            (
                "patrol_fixes_received_total",
                "GPS fixes taken from devices",
                &self.fixes_received,
            ),
            (
                "patrol_fixes_sent_total",
                "GPS fixes sent to devices",
                &self.fixes_sent,
            ),
            (
                "patrol_blob_bytes_received_total",
                "photo bytes received",
                &self.blob_bytes_received,
            ),
            (
                "patrol_enrolments_total",
                "devices enrolled",
                &self.enrolments,
            ),
            (
                "patrol_enrolments_limited_total",
                "enrolment attempts refused by the per-address rate limit",
                &self.enrolments_limited,
            ),
            (
                "patrol_auth_failures_total",
                "requests with a missing, wrong or revoked token",
                &self.auth_failures,
            ),
            (
                "patrol_public_reports_total",
                "problems residents reported through signboard pages",
                &self.public_reports,
            ),
            (
                "patrol_steward_applications_total",
                "steward applications residents sent",
                &self.steward_applications,
            ),
            (
                "patrol_public_limited_total",
                "signboard-page posts refused by a rate limit",
                &self.public_limited,
            ),
        ] {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
                v.load(Ordering::Relaxed)
            ));
        }
        out
    }
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(enrol::router(state.clone()))
        .merge(sync::router())
        .merge(fixes::router())
        .merge(blobs::router())
        .merge(public::router(state.clone()))
        .merge(office::router(state.clone()))
        .layer(RequestDecompressionLayer::new())
        .layer(CompressionLayer::new())
        .layer(axum::middleware::from_fn(check_content_length))
        .layer(logging::trace_layer())
        // Routes set their own, smaller limits; this caps everything else.
        .layer(DefaultBodyLimit::max(64 * 1024))
        .with_state(state)
}

/// `/metrics` alone, for the metrics listener: the counters say how busy the district is, so
/// they are not served to anyone who can reach the API.
pub fn metrics_router(state: AppState) -> Router {
    health::metrics_router()
        .layer(logging::trace_layer())
        .with_state(state)
}

/// The largest body each endpoint takes.
pub fn body_limit_for(path: &str) -> usize {
    use patrol_model::wire::{MAX_BLOB_CHUNK_BYTES, MAX_FIX_BATCH_BYTES, MAX_SYNC_REQUEST_BYTES};
    if path == "/v1/sync" {
        MAX_SYNC_REQUEST_BYTES
    } else if path.starts_with("/v1/patrols/") {
        MAX_FIX_BATCH_BYTES
    } else if path.starts_with("/v1/blobs/") {
        MAX_BLOB_CHUNK_BYTES
    } else if path == "/v1/fixes/download" {
        256 * 1024
    } else if path == "/v1/enrol" {
        4 * 1024
    } else if path.starts_with("/s/") && path.ends_with("/report") {
        public::MAX_REPORT_BODY_BYTES
    } else if path.starts_with("/s/") && path.ends_with("/steward") {
        public::MAX_STEWARD_BODY_BYTES
    } else {
        64 * 1024
    }
}

/// Refuses a body whose announced `Content-Length` is over the endpoint's limit at once, instead
/// of after the first `limit` bytes trickle in (axum's own limit, set per route too, catches
/// bodies that do not announce their length).
async fn check_content_length(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let limit = body_limit_for(req.uri().path());
    let announced = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match announced {
        Some(n) if n > limit as u64 => error::ApiError::PayloadTooLarge(format!(
            "a request body of {n} bytes is larger than this endpoint takes ({limit} bytes)"
        ))
        .into_response(),
        _ => next.run(req).await,
    }
}

/// Runs blocking storage work off the async runtime.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> error::ApiResult<T> + Send + 'static,
) -> error::ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| error::ApiError::Internal(anyhow::anyhow!("worker failed: {e}")))?
}
