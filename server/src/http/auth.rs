//! The authenticated device as an extractor: a handler that needs a device says so in its
//! signature and cannot forget the check.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::ApiError;
use super::{AppState, Metrics, blocking};
use crate::secrets::hash_secret;
use crate::storage::DeviceRow;

#[derive(Debug)]
pub struct AuthDevice(pub DeviceRow);

impl FromRequestParts<AppState> for AuthDevice {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let fail = |m: &str| {
            Metrics::add(&state.metrics.auth_failures, 1);
            ApiError::Unauthorized(m.to_owned())
        };
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| fail("this request needs a device token: send `Authorization: Bearer <token>` (enrol first)"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 256)
            .ok_or_else(|| fail("the Authorization header must be `Bearer <token>`"))?;
        let hash = hash_secret(token);
        let storage = state.storage.clone();
        let device = blocking(move || Ok(storage.read()?.device_by_token(&hash)?)).await?;
        match device {
            None => Err(fail("unknown device token; enrol this device again")),
            Some(d) if d.revoked => Err(fail(
                "this device's token was revoked; ask a supervisor for a new enrolment code",
            )),
            Some(d) => Ok(AuthDevice(d)),
        }
    }
}
