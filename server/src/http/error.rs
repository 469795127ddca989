//! One error type for every handler: a status code per variant, a stable machine code and a
//! message in the body. Internal errors are logged with their detail and answered with a
//! generic 500, never leaking internals to the client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use patrol_model::wire::ErrorBody;

use crate::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// Changes that build on changes the server does not have yet (a document that reached the
    /// device by hand): kept on the device and sent again later, not refused (409).
    #[error("{0}")]
    MissingDependencies(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    UpgradeRequired(String),
    /// Over a rate limit: answered 429 with `Retry-After`.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after_s: u64 },
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) | ApiError::MissingDependencies(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::UpgradeRequired(_) => StatusCode::UPGRADE_REQUIRED,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::MissingDependencies(_) => "missing_dependencies",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::Unprocessable(_) => "unprocessable",
            ApiError::UpgradeRequired(_) => "protocol_version",
            ApiError::TooManyRequests { .. } => "too_many_requests",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        ApiError::Internal(anyhow::Error::new(e))
    }
}

/// The sync logic's answer, given its status: malformed 400, not allowed 403, a conflict or
/// missing dependencies 409, too large 413, invalid 422, an old protocol 426.
impl From<crate::sync_error::SyncError> for ApiError {
    fn from(e: crate::sync_error::SyncError) -> Self {
        use crate::sync_error::SyncError as S;
        match e {
            S::Malformed(m) => ApiError::BadRequest(m),
            S::NotAllowed(m) => ApiError::Forbidden(m),
            S::Conflict(m) => ApiError::Conflict(m),
            S::MissingDependencies(m) => ApiError::MissingDependencies(m),
            S::TooLarge(m) => ApiError::PayloadTooLarge(m),
            S::Invalid(m) => ApiError::Unprocessable(m),
            S::ProtocolVersion(m) => ApiError::UpgradeRequired(m),
            S::Internal(e) => ApiError::Internal(e),
        }
    }
}

/// A document, record or patrol refused by the checks: malformed is 422, not allowed is 403.
impl From<crate::policy::Refusal> for ApiError {
    fn from(r: crate::policy::Refusal) -> Self {
        match r {
            crate::policy::Refusal::Invalid(m) => ApiError::Unprocessable(m),
            crate::policy::Refusal::NotAllowed(m) => ApiError::Forbidden(m),
        }
    }
}

impl From<crate::validate::CheckError> for ApiError {
    fn from(e: crate::validate::CheckError) -> Self {
        match e {
            crate::validate::CheckError::Refused(r) => r.into(),
            crate::validate::CheckError::Storage(e) => e.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(e) = &self {
            tracing::error!(error = ?e, "internal error");
        }
        let body = ErrorBody {
            error: self.code().to_owned(),
            message: self.to_string(),
        };
        let mut response = (self.status_code(), Json(body)).into_response();
        if let ApiError::TooManyRequests { retry_after_s, .. } = &self {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(*retry_after_s),
            );
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
