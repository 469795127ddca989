//! The office platform's pages (`/office/...`), served to supervisors signed in with a password.
//! Every page and data answer needs a live session (cookie `patrol_office`: HttpOnly,
//! SameSite=Strict, Secure when the server's public address is https); every form carries the
//! session's CSRF token; sign-in is rate-limited per address and locks an account after repeated
//! wrong passwords. The logic is in [`crate::office`]; this layer reads requests, renders the
//! askama templates in `server/templates/office/` and maps errors to pages.

mod assessment_page;
mod audit_page;
mod exports;
mod issues;
mod map_page;
mod overview_page;
mod pages;
mod sign_in;
mod stewards_page;
mod words;

use axum::Router;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::ratelimit::{RateLimit, RateLimiter};
use super::{AppState, blocking};
use crate::office::sessions::{self, Session};
use crate::office::{OfficeError, OfficeResult};

/// The session cookie's name.
pub const COOKIE: &str = "patrol_office";

/// What the office pages share across requests.
pub struct OfficeDoor {
    /// Sign-in attempts per client address.
    pub sign_in: RateLimiter,
}

impl OfficeDoor {
    pub fn new(limit: RateLimit) -> Self {
        Self {
            sign_in: RateLimiter::new(limit),
        }
    }
}

impl std::fmt::Debug for OfficeDoor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfficeDoor").finish_non_exhaustive()
    }
}

/// Sign-in: 10 attempts, then one every 6 seconds, per address (the account itself locks after
/// five wrong passwords in a row).
pub const SIGN_IN_LIMIT: RateLimit = RateLimit {
    burst: 10,
    every: std::time::Duration::from_secs(6),
};

pub fn router(_state: AppState) -> Router<AppState> {
    Router::new()
        .route("/office", get(overview_page::page))
        .route("/office/login", get(sign_in::form).post(sign_in::submit))
        .route("/office/logout", post(sign_in::sign_out))
        .route("/office/issues", get(issues::queue))
        .route("/office/issues.csv", get(issues::queue_csv))
        .route("/office/issues/{id}", get(issues::page))
        .route("/office/issues/{id}/act", post(issues::act))
        .route("/office/issues/{id}/photo/{sha}", get(issues::photo))
        .route("/office/assessment", get(assessment_page::page))
        .route("/office/assessment.csv", get(assessment_page::csv))
        .route("/office/assessment.xlsx", get(assessment_page::xlsx))
        .route("/office/assessment/{user}", get(assessment_page::chief))
        .route("/office/stewards", get(stewards_page::stewards_page))
        .route("/office/stewards.csv", get(stewards_page::stewards_csv))
        .route("/office/stewards.xlsx", get(stewards_page::stewards_xlsx))
        .route("/office/merchants", get(stewards_page::merchants_page))
        .route("/office/merchants.csv", get(stewards_page::merchants_csv))
        .route("/office/merchants.xlsx", get(stewards_page::merchants_xlsx))
        .route("/office/map", get(map_page::page))
        .route("/office/map/data.geojson", get(map_page::data))
        .route("/office/audit", get(audit_page::page))
        .layer(axum::middleware::from_fn(office_headers))
}

/// Every office answer: the public pages' security headers, and never cached (they show
/// people's data). The referrer goes to this server only (`same-origin`), never elsewhere: under
/// `no-referrer` a browser sends `Origin: null` with a form's post, and the sign-in form, which
/// checks that it was sent from this site, could not be used from a real browser.
async fn office_headers(req: Request, next: Next) -> Response {
    let mut r = super::public::security_headers(req, next).await;
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    r
}

/// The session token in the request's cookies.
fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 100)
}

/// The session of a signed-in page request; without one, the answer is the sign-in page.
#[derive(Debug)]
pub struct PageSession(pub Session);

/// The session of a data request (CSV, photos, the map's GeoJSON); without one, 401.
#[derive(Debug)]
pub struct DataSession(pub Session);

impl FromRequestParts<AppState> for PageSession {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        signed_in(state, &parts.headers, true)
            .await
            .map(PageSession)
    }
}

impl FromRequestParts<AppState> for DataSession {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        signed_in(state, &parts.headers, false)
            .await
            .map(DataSession)
    }
}

/// A built page, or the answer that replaced it.
fn show(built: Result<impl askama::Template, Response>) -> Response {
    match built {
        Ok(page) => crate::http::public::pages::html(StatusCode::OK, &page),
        Err(r) => r,
    }
}

/// The signed-in session, or the answer to give instead: the sign-in page for a page, 401 for
/// data.
async fn signed_in(state: &AppState, headers: &HeaderMap, page: bool) -> Result<Session, Response> {
    let Some(token) = cookie_token(headers) else {
        return Err(signed_out(page));
    };
    let storage = state.storage.clone();
    let now = state.now_ms();
    // Read from a snapshot; the writer is taken only when the session's last use is due to be
    // written (once a minute) or a dead session is to be removed.
    let checked = blocking(move || {
        let found = {
            let mut tx = storage.read()?;
            sessions::look_up(tx.as_mut(), &token, now)
        };
        if let Ok(lookup) = &found
            && !matches!(
                lookup,
                sessions::Lookup::Live { touch: false, .. }
                    | sessions::Lookup::Dead { stale: None }
            )
        {
            let mut tx = storage.write()?;
            if sessions::upkeep(tx.as_mut(), lookup, now).is_ok() {
                tx.commit()?;
            }
        }
        Ok(found)
    })
    .await;
    match checked {
        Ok(Ok(sessions::Lookup::Live { session, .. })) => Ok(session),
        Ok(Ok(sessions::Lookup::Dead { .. })) => Err(signed_out(page)),
        Ok(Err(e)) => Err(error_page(&e)),
        Err(e) => Err(e.into_response()),
    }
}

fn signed_out(page: bool) -> Response {
    if page {
        let mut r = Redirect::to("/office/login").into_response();
        r.headers_mut().insert(
            header::SET_COOKIE,
            HeaderValue::from_static(
                "patrol_office=; Path=/office; Max-Age=0; HttpOnly; SameSite=Strict",
            ),
        );
        r
    } else {
        (StatusCode::UNAUTHORIZED, "请先登录 / please sign in\n").into_response()
    }
}

/// An error as a page: what the person can do about it; internal faults logged, not shown.
fn error_page(e: &OfficeError) -> Response {
    let (status, title, body) = match e {
        OfficeError::NotFound => (
            StatusCode::NOT_FOUND,
            "未找到",
            "没有这个问题，或它不在您的管辖范围内。".to_owned(),
        ),
        OfficeError::SignedOut => (
            StatusCode::UNAUTHORIZED,
            "请先登录",
            "登录已过期，请重新登录。".to_owned(),
        ),
        OfficeError::NotAllowed(why) => (StatusCode::FORBIDDEN, "无权操作", why.clone()),
        OfficeError::Invalid(why) => (StatusCode::BAD_REQUEST, "输入有误", why.clone()),
        OfficeError::Refused(why) => (StatusCode::CONFLICT, "无法执行", why.clone()),
        OfficeError::BadCredentials | OfficeError::Locked { .. } => {
            (StatusCode::UNAUTHORIZED, "登录失败", e.to_string())
        }
        OfficeError::Storage(_) | OfficeError::Internal(_) => {
            tracing::error!(error = %e, "office page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "服务器出错",
                "服务器处理时出错，已记录。请稍后重试。".to_owned(),
            )
        }
    };
    pages::message(status, title, &body)
}

/// Whether a form's CSRF token is the session's; a refusal page when not.
#[expect(
    clippy::result_large_err,
    reason = "the error is the page to answer with, built once per refused request"
)]
fn check_csrf(session: &Session, sent: Option<&str>) -> Result<(), Response> {
    match sent {
        Some(t) if sessions::csrf_matches(session, t) => Ok(()),
        _ => Err(pages::message(
            StatusCode::FORBIDDEN,
            "表单已失效",
            "这个表单不是从本页面提交的，或登录已更换。请返回重新操作。",
        )),
    }
}

/// Runs office logic off the runtime and turns its error into a page.
async fn run<T: Send + 'static>(
    f: impl FnOnce() -> OfficeResult<T> + Send + 'static,
) -> Result<T, Response> {
    match blocking(move || Ok(f())).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(error_page(&e)),
        Err(e) => Err(e.into_response()),
    }
}
