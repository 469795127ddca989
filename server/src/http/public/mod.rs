//! The public's pages, served by the server itself: a signboard's page (`GET /s/{code}`) with the
//! report and steward forms, the receipt (`/r/{token}`) and the applicant's page (`/a/{token}`),
//! their photos without EXIF, and the embedded assets. Chinese first (`?lang=en` or the
//! browser's languages for English), one column at 360 px, working without JavaScript, nothing
//! fetched from anywhere else.
//!
//! Abuse: posts are rate-limited per client address and per signboard, bodies and photos are
//! bounded, forms carry a token bound to a cookie ([`csrf`]) and a honeypot field, and every
//! page is sent with a content security policy allowing this server only.

mod assets;
pub mod csrf;
mod forms;
pub mod i18n;
pub(crate) mod pages;

use std::net::IpAddr;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::ratelimit::{RateLimiter, client_ip};
use super::{AppState, Metrics, blocking};
use crate::public::report::{MAX_PUBLIC_PHOTO_BYTES, MAX_PUBLIC_PHOTOS};
use crate::public::{self, PublicError};
use i18n::{Lang, beijing_date, beijing_time};
use pages::{
    ApplicationPage, Base, Choice, FormErrors, ReceiptPage, ReportInput, ResolvedItem,
    SignboardPage, StepItem, StewardInput, html, message,
};

/// The largest report body: the photos, and room for the fields and multipart framing.
pub const MAX_REPORT_BODY_BYTES: usize =
    MAX_PUBLIC_PHOTOS * MAX_PUBLIC_PHOTO_BYTES as usize + 256 * 1024;
/// The largest steward application body.
pub const MAX_STEWARD_BODY_BYTES: usize = 16 * 1024;
/// Largest side of a photo as shown to the public.
const PUBLIC_PHOTO_SIDE_PX: u32 = 1280;

/// What the public pages share: the form key and their rate limits.
pub struct PublicDoor {
    pub form_key: [u8; 32],
    /// Posts per client address.
    pub per_address: RateLimiter<IpAddr>,
    /// Posts per signboard (a flood through one code, from many addresses).
    pub per_signboard: RateLimiter<String>,
    /// Pages and photos per client address.
    pub pages: RateLimiter<IpAddr>,
    /// Public copies of photos being made: one at a time (a decode can take hundreds of
    /// megabytes).
    pub photo_decodes: tokio::sync::Semaphore,
}

impl std::fmt::Debug for PublicDoor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicDoor").finish_non_exhaustive()
    }
}

pub fn router(state: AppState) -> Router<AppState> {
    let limited = |r: axum::routing::MethodRouter<AppState>| {
        r.layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limit_per_address,
        ))
    };
    let page = |r: axum::routing::MethodRouter<AppState>| {
        r.layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limit_pages,
        ))
    };
    Router::new()
        .route("/s/{code}", page(get(signboard)))
        .route(
            "/s/{code}/report",
            limited(post(post_report).layer(DefaultBodyLimit::max(MAX_REPORT_BODY_BYTES))),
        )
        .route(
            "/s/{code}/steward",
            limited(post(post_steward).layer(DefaultBodyLimit::max(MAX_STEWARD_BODY_BYTES))),
        )
        .route("/r", get(lookup))
        .route("/r/{token}", page(get(receipt)))
        .route("/r/{token}/photo/{sha}", page(get(receipt_photo)))
        .route("/r/{token}/data.json", page(get(receipt_data)))
        .route(
            "/r/{token}/erase-contact",
            limited(post(erase_contact).layer(DefaultBodyLimit::max(4 * 1024))),
        )
        .route("/a/{token}", page(get(application)))
        .route("/assets/{name}", get(assets::asset))
        .layer(axum::middleware::from_fn(security_headers))
}

/// Every public response: this server only, never framed, no referrer, no sniffing.
pub(crate) async fn security_headers(req: Request, next: Next) -> Response {
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    r
}

#[derive(Debug, Default, Deserialize)]
struct LangQuery {
    lang: Option<String>,
    token: Option<String>,
}

/// The language of a request that may carry `?lang=`.
fn lang_of(q: &LangQuery, headers: &HeaderMap) -> Lang {
    Lang::choose(q.lang.as_deref(), headers)
}

fn too_many(lang: Lang, retry_after_s: u64, path: &str) -> Response {
    let t = lang.texts();
    let mut r = message(
        lang,
        StatusCode::TOO_MANY_REQUESTS,
        t.too_many_title,
        t.too_many_body,
        path,
        None,
    );
    if let Ok(v) = HeaderValue::from_str(&retry_after_s.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

fn retry_after(wait: std::time::Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

/// Posts take a token from the client address's bucket before their body is read.
async fn limit_per_address(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let ip = client_ip(&req);
    match state.public.per_address.take(ip, Instant::now()) {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            Metrics::add(&state.metrics.public_limited, 1);
            tracing::warn!(
                network = %crate::http::logging::network_of(ip),
                "public posts over the per-address limit"
            );
            let lang = Lang::choose(None, req.headers());
            too_many(lang, retry_after(wait), req.uri().path())
        }
    }
}

/// Pages and photos take a token from the client address's page bucket.
async fn limit_pages(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let ip = client_ip(&req);
    match state.public.pages.take(ip, Instant::now()) {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            Metrics::add(&state.metrics.public_limited, 1);
            let lang = Lang::choose(None, req.headers());
            too_many(lang, retry_after(wait), req.uri().path())
        }
    }
}

/// The page for an error that is not about one field.
fn error_page(lang: Lang, e: &PublicError, path: &str, back: Option<String>) -> Response {
    let t = lang.texts();
    match e {
        PublicError::NotFound => message(
            lang,
            StatusCode::NOT_FOUND,
            t.not_found_title,
            t.not_found_body,
            path,
            None,
        ),
        PublicError::NoSignboards => message(
            lang,
            StatusCode::NOT_FOUND,
            t.not_found_title,
            t.no_signboards_body,
            path,
            None,
        ),
        PublicError::Conflict(_) => message(
            lang,
            StatusCode::SERVICE_UNAVAILABLE,
            t.failed_title,
            t.busy_body,
            path,
            back,
        ),
        PublicError::Fields(_) | PublicError::Storage(_) | PublicError::Internal(_) => {
            tracing::error!(error = %e, "a public page failed");
            message(
                lang,
                StatusCode::INTERNAL_SERVER_ERROR,
                t.failed_title,
                t.failed_body,
                path,
                back,
            )
        }
    }
}

/// A path part that is not text (`/s/%FF`) answered with the not-found page, not axum's plain 400.
fn path_text(
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    lang: Lang,
) -> Result<String, Box<Response>> {
    path.map(|Path(p)| p).map_err(|_| {
        let t = lang.texts();
        Box::new(message(
            lang,
            StatusCode::NOT_FOUND,
            t.not_found_title,
            t.not_found_body,
            "/",
            None,
        ))
    })
}

/// The page for a body that is not the form (400).
fn bad_form(lang: Lang, back: &str) -> Response {
    let t = lang.texts();
    message(
        lang,
        StatusCode::BAD_REQUEST,
        t.bad_form_title,
        t.bad_form_body,
        back,
        Some(back.to_owned()),
    )
}

/// The form cookie the request carries, or a new one to set.
fn form_cookie(headers: &HeaderMap) -> (String, bool) {
    match csrf::cookie_of(headers) {
        Some(c) => (c, false),
        None => (csrf::new_cookie(), true),
    }
}

fn now_s(state: &AppState) -> i64 {
    state.now_ms() / 1000
}

/// Everything the signboard page shows besides the forms' state.
struct SignboardData {
    page: public::signboards::SignboardPage,
    streets: Vec<(String, String)>,
}

async fn load_signboard(state: &AppState, code: String) -> Result<SignboardData, PublicError> {
    let storage = state.storage.clone();
    let now = state.now_ms();
    tokio::task::spawn_blocking(move || {
        let mut tx = storage.read()?;
        let page = public::signboards::page(tx.as_mut(), &code, now)?;
        let sub = tx
            .street_subdistrict(&page.signboard.row.street_id)?
            .flatten();
        let streets = match sub {
            Some(s) => tx.street_names(Some(&s), 300)?,
            None => Vec::new(),
        };
        Ok(SignboardData { page, streets })
    })
    .await
    .map_err(|e| PublicError::Internal(anyhow::anyhow!("worker failed: {e}")))?
}

/// The forms' state when the page is shown again after a post.
#[derive(Default)]
struct FormState {
    report: ReportInput,
    report_errors: FormErrors,
    report_failed: bool,
    steward: StewardInput,
    steward_errors: FormErrors,
    steward_failed: bool,
}

fn signboard_page(
    state: &AppState,
    lang: Lang,
    code: &str,
    data: SignboardData,
    cookie: &str,
    forms: FormState,
) -> SignboardPage {
    let p = data.page;
    let q = lang.query();
    let own = p.signboard.row.street_id.clone();
    let mut streets: Vec<Choice> = vec![Choice {
        code: own.clone(),
        label: p.street_name.clone(),
    }];
    streets.extend(
        data.streets
            .into_iter()
            .filter(|(id, _)| *id != own)
            .map(|(id, name)| Choice {
                code: id,
                label: name,
            }),
    );
    let mut steward = forms.steward;
    if steward.street.is_empty() {
        steward.street = own;
    }
    let t = lang.texts();
    SignboardPage {
        base: Base::new(lang, p.street_name.clone(), &format!("/s/{code}")),
        t,
        lang_code: if lang == Lang::En { "en" } else { "zh" },
        street_name: p.street_name,
        subdistrict: p.subdistrict_name,
        chiefs: p.chiefs,
        chief_duty: match lang {
            Lang::Zh => p.info.chief_duty_zh.clone(),
            Lang::En => p.info.chief_duty_en.clone(),
        }
        .unwrap_or_else(|| t.chief_duty.to_owned()),
        hotline: p.info.hotline.clone(),
        open_count: p.open_count,
        resolved: p
            .resolved
            .iter()
            .map(|r| ResolvedItem {
                category: lang.category(&p.catalog, &r.category),
                reported: beijing_date(r.reported_at_ms),
                resolved: beijing_date(r.resolved_at_ms),
                verified: r.verified,
            })
            .collect(),
        categories: p
            .catalog
            .all()
            .iter()
            .map(|c| Choice {
                code: c.code.clone(),
                label: lang.category(&p.catalog, &c.code),
            })
            .collect(),
        streets,
        form_token: csrf::token(
            &state.public.form_key,
            cookie,
            &p.signboard.row.id,
            now_s(state),
        ),
        report_action: format!("/s/{code}/report{q}"),
        steward_action: format!("/s/{code}/steward{q}"),
        report: forms.report,
        report_errors: forms.report_errors,
        report_failed: forms.report_failed,
        steward,
        steward_errors: forms.steward_errors,
        steward_failed: forms.steward_failed,
    }
}

/// The signboard's page again after a post, its forms as `forms` says (what was typed, what is
/// wrong), with `status`.
fn form_again(
    state: &AppState,
    lang: Lang,
    code: &str,
    data: SignboardData,
    headers: &HeaderMap,
    forms: FormState,
    status: StatusCode,
) -> Response {
    let (cookie, fresh) = form_cookie(headers);
    let page = signboard_page(state, lang, code, data, &cookie, forms);
    with_cookie(html(status, &page), &cookie, fresh)
}

fn with_cookie(mut r: Response, cookie: &str, fresh: bool) -> Response {
    if fresh && let Ok(v) = HeaderValue::from_str(&csrf::set_cookie(cookie)) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// `GET /s/{code}`: the signboard's page.
async fn signboard(
    State(state): State<AppState>,
    code: Result<Path<String>, axum::extract::rejection::PathRejection>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&q, &headers);
    let code = match path_text(code, lang) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let path = format!("/s/{code}");
    let data = match load_signboard(&state, code.clone()).await {
        Ok(d) => d,
        Err(e) => return error_page(lang, &e, &path, None),
    };
    let (cookie, fresh) = form_cookie(&headers);
    let page = signboard_page(&state, lang, &code, data, &cookie, FormState::default());
    with_cookie(html(StatusCode::OK, &page), &cookie, fresh)
}

/// A post's checks before its content is looked at: the form token against the cookie, the
/// honeypot empty. The page to send when they fail.
fn check_post(
    state: &AppState,
    lang: Lang,
    headers: &HeaderMap,
    signboard_id: &str,
    token: &str,
    honeypot: &str,
    back: &str,
) -> Option<Response> {
    let t = lang.texts();
    let cookie = csrf::cookie_of(headers);
    if !csrf::check(
        &state.public.form_key,
        cookie.as_deref(),
        signboard_id,
        token,
        now_s(state),
    ) {
        return Some(message(
            lang,
            StatusCode::FORBIDDEN,
            t.bad_form_title,
            t.bad_form_body,
            back,
            Some(back.to_owned()),
        ));
    }
    if !honeypot.trim().is_empty() {
        return Some(message(
            lang,
            StatusCode::BAD_REQUEST,
            t.bad_form_title,
            t.bad_form_body,
            back,
            Some(back.to_owned()),
        ));
    }
    None
}

/// A post let in: its signboard verified, its form token and honeypot checked, then a token
/// taken from the signboard's bucket (only now, so posts that were never forms cannot shut a
/// signboard's forms). Otherwise the page to answer with.
async fn admit(
    state: &AppState,
    lang: Lang,
    headers: &HeaderMap,
    code: &str,
    form_token: &str,
    honeypot: &str,
    back: &str,
) -> Result<SignboardData, Box<Response>> {
    let data = load_signboard(state, code.to_owned())
        .await
        .map_err(|e| Box::new(error_page(lang, &e, back, None)))?;
    let id = &data.page.signboard.row.id;
    if let Some(r) = check_post(state, lang, headers, id, form_token, honeypot, back) {
        return Err(Box::new(r));
    }
    if let Some(r) = take_signboard(state, lang, &data, back) {
        return Err(Box::new(r));
    }
    Ok(data)
}

/// A token from the signboard's bucket, taken once a post has shown its form token (so nobody
/// can shut a signboard's forms with posts that were never forms), or the 429 page.
fn take_signboard(
    state: &AppState,
    lang: Lang,
    data: &SignboardData,
    path: &str,
) -> Option<Response> {
    let id = &data.page.signboard.row.id;
    match state
        .public
        .per_signboard
        .take_key(id.clone(), Instant::now())
    {
        Ok(()) => None,
        Err(wait) => {
            Metrics::add(&state.metrics.public_limited, 1);
            tracing::warn!(signboard = %id, "posts over the per-signboard limit");
            Some(too_many(lang, retry_after(wait), path))
        }
    }
}

/// `POST /s/{code}/report`: a resident's report.
async fn post_report(
    State(state): State<AppState>,
    code: Result<Path<String>, axum::extract::rejection::PathRejection>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let mut lang = lang_of(&q, &headers);
    let code = match path_text(code, lang) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let back = format!("/s/{code}{}", lang.query());
    let t = lang.texts();
    let form = match multipart {
        Ok(m) => forms::read_report(m).await,
        Err(_) => Err(forms::FormFault::Malformed),
    };
    let form = match form {
        Ok(f) => f,
        Err(forms::FormFault::TooLarge) => {
            return message(
                lang,
                StatusCode::PAYLOAD_TOO_LARGE,
                t.too_large_title,
                t.too_large_body,
                &back,
                Some(back.clone()),
            );
        }
        Err(forms::FormFault::Malformed) => return bad_form(lang, &back),
    };
    if q.lang.is_none() && !form.lang.is_empty() {
        lang = Lang::choose(Some(&form.lang), &headers);
    }
    let data = match admit(
        &state,
        lang,
        &headers,
        &code,
        &form.form_token,
        &form.website,
        &back,
    )
    .await
    {
        Ok(d) => d,
        Err(r) => return *r,
    };
    let input = ReportInput {
        category: form.category.clone(),
        description: form.description.clone(),
        contact_phone: form.contact_phone.clone(),
        lat: form.lat.clone(),
        lon: form.lon.clone(),
    };
    let mut early = Vec::new();
    if form.photo_too_large {
        early.push(public::FieldError::new(
            public::Field::Photos,
            public::Problem::PhotoTooLarge {
                max_bytes: MAX_PUBLIC_PHOTO_BYTES,
            },
        ));
    }
    if form.too_many_photos {
        early.push(public::FieldError::new(
            public::Field::Photos,
            public::Problem::TooManyPhotos {
                max: MAX_PUBLIC_PHOTOS,
            },
        ));
    }
    let position = forms::position(&form.lat, &form.lon);
    if position == Err(()) {
        early.push(public::FieldError::new(
            public::Field::Location,
            public::Problem::BadPosition,
        ));
    }
    let result = if early.is_empty() {
        let new = public::report::NewPublicReport {
            code: code.clone(),
            category: form.category,
            description: form.description,
            photos: form.photos,
            position: position.ok().flatten(),
            contact_phone: form.contact_phone,
        };
        let (storage, policy, dir) = (
            state.storage.clone(),
            state.policy.clone(),
            state.blobs_dir.clone(),
        );
        let now = state.now_ms();
        tokio::task::spawn_blocking(move || {
            public::report::submit(storage.as_ref(), policy.as_ref(), &dir, new, now)
        })
        .await
        .unwrap_or_else(|e| Err(anyhow::anyhow!("worker failed: {e}").into()))
    } else {
        Err(PublicError::Fields(early))
    };
    match result {
        Ok(receipt) => {
            Metrics::add(&state.metrics.public_reports, 1);
            tracing::info!(issue = %receipt.issue_id, "a resident reported a problem");
            Redirect::to(&format!("/r/{}{}", receipt.token, lang.query())).into_response()
        }
        Err(PublicError::Fields(errors)) => {
            let too_large = errors
                .iter()
                .any(|e| matches!(e.problem, public::Problem::PhotoTooLarge { .. }));
            let status = if too_large {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let forms = FormState {
                report: input,
                report_errors: FormErrors::from(lang, &errors),
                report_failed: true,
                ..FormState::default()
            };
            form_again(&state, lang, &code, data, &headers, forms, status)
        }
        Err(e) => error_page(lang, &e, &back, Some(back.clone())),
    }
}

#[derive(Debug, Default, Deserialize)]
struct StewardForm {
    #[serde(default)]
    form_token: String,
    #[serde(default)]
    website: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    street: String,
    #[serde(default)]
    availability: String,
}

/// `POST /s/{code}/steward`: an application to become an alley steward.
async fn post_steward(
    State(state): State<AppState>,
    code: Result<Path<String>, axum::extract::rejection::PathRejection>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    form: Result<axum::Form<StewardForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let mut lang = lang_of(&q, &headers);
    let code = match path_text(code, lang) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let back = format!("/s/{code}{}", lang.query());
    let Ok(axum::Form(form)) = form else {
        return bad_form(lang, &back);
    };
    if q.lang.is_none() && !form.lang.is_empty() {
        lang = Lang::choose(Some(&form.lang), &headers);
    }
    let data = match admit(
        &state,
        lang,
        &headers,
        &code,
        &form.form_token,
        &form.website,
        &back,
    )
    .await
    {
        Ok(d) => d,
        Err(r) => return *r,
    };
    let input = StewardInput {
        name: form.name.clone(),
        phone: form.phone.clone(),
        street: form.street.clone(),
        availability: form.availability.clone(),
    };
    let new = public::applications::NewApplication {
        code: code.clone(),
        name: form.name,
        phone: form.phone,
        street: form.street,
        availability: form.availability,
    };
    let storage = state.storage.clone();
    let now = state.now_ms();
    let result = tokio::task::spawn_blocking(move || {
        public::applications::apply(storage.as_ref(), &new, now)
    })
    .await
    .unwrap_or_else(|e| Err(anyhow::anyhow!("worker failed: {e}").into()));
    match result {
        Ok(receipt) => {
            Metrics::add(&state.metrics.steward_applications, 1);
            tracing::info!(application = %receipt.id, "a resident applied to be a steward");
            Redirect::to(&format!("/a/{}{}", receipt.token, lang.query())).into_response()
        }
        Err(PublicError::Fields(errors)) => {
            let forms = FormState {
                steward: input,
                steward_errors: FormErrors::from(lang, &errors),
                steward_failed: true,
                ..FormState::default()
            };
            form_again(
                &state,
                lang,
                &code,
                data,
                &headers,
                forms,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(e) => error_page(lang, &e, &back, Some(back.clone())),
    }
}

/// `GET /r?token=`: the receipt lookup form's target.
async fn lookup(Query(q): Query<LangQuery>, headers: HeaderMap) -> Response {
    let lang = lang_of(&q, &headers);
    match q.token.as_deref().and_then(public::normalise_token) {
        Some(t) => Redirect::to(&format!("/r/{t}{}", lang.query())).into_response(),
        None => {
            let t = lang.texts();
            message(
                lang,
                StatusCode::NOT_FOUND,
                t.not_found_title,
                t.not_found_body,
                "/r",
                None,
            )
        }
    }
}

/// `GET /r/{token}`: a report's progress.
async fn receipt(
    State(state): State<AppState>,
    token: Result<Path<String>, axum::extract::rejection::PathRejection>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&q, &headers);
    let token = match path_text(token, lang) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let path = format!("/r/{token}");
    let storage = state.storage.clone();
    let tok = token.clone();
    let view = blocking(move || {
        let mut tx = storage.read()?;
        Ok(public::receipt::receipt(tx.as_mut(), &tok))
    })
    .await;
    let view = match view {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => return error_page(lang, &e, &path, None),
        Err(e) => return e.into_response(),
    };
    let t = lang.texts();
    let token = public::normalise_token(&token).unwrap_or_default();
    let photo = |sha: &str| format!("/r/{token}/photo/{sha}");
    let (cookie, fresh) = form_cookie(&headers);
    let page = ReceiptPage {
        form_token: csrf::token(
            &state.public.form_key,
            &cookie,
            &receipt_purpose(&token),
            now_s(&state),
        ),
        data_link: format!("/r/{token}/data.json"),
        erase_action: format!("/r/{token}/erase-contact{}", lang.query()),
        base: Base::new(lang, t.receipt_title, &path),
        t,
        category: lang.category(&view.catalog, &view.category),
        status: lang.status(view.status),
        status_code: view.status.as_str(),
        token: public::grouped(&token),
        description: view.description.clone(),
        contact: view.contact_masked.clone(),
        steps: view
            .steps
            .iter()
            .map(|s| StepItem {
                kind: s.kind.as_str(),
                label: lang.step(s.kind),
                at: beijing_time(s.at_ms),
                who: match s.to {
                    Some(to) => format!("{} → {}", lang.actor(s.by), lang.actor(to)),
                    None => lang.actor(s.by).to_owned(),
                },
                reason: s.reason.clone(),
            })
            .collect(),
        after_photo: view.after_photo.as_deref().map(photo),
        before_photos: view.before_photos.iter().map(|s| photo(s)).collect(),
    };
    with_cookie(html(StatusCode::OK, &page), &cookie, fresh)
}

/// What a receipt's forms are for, in their form token: this receipt only.
fn receipt_purpose(token: &str) -> String {
    format!("receipt:{token}")
}

/// `GET /r/{token}/data.json`: what the district holds of this report, for the resident.
async fn receipt_data(
    State(state): State<AppState>,
    token: Result<Path<String>, axum::extract::rejection::PathRejection>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&q, &headers);
    let token = match path_text(token, lang) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let path = format!("/r/{token}");
    let storage = state.storage.clone();
    let now = state.now_ms();
    let data = blocking(move || {
        let mut tx = storage.read()?;
        Ok(public::receipt::resident_data(tx.as_mut(), &token, now))
    })
    .await;
    match data {
        Ok(Ok(v)) => {
            let body = serde_json::to_vec_pretty(&v).unwrap_or_default();
            let mut r = (StatusCode::OK, body).into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
            h.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"my-report.json\""),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Ok(Err(e)) => error_page(lang, &e, &path, None),
        Err(e) => e.into_response(),
    }
}

/// The erase form: its token (and the honeypot every public form has).
#[derive(Debug, serde::Deserialize)]
struct EraseForm {
    #[serde(default)]
    form_token: String,
    #[serde(default)]
    website: String,
}

/// `POST /r/{token}/erase-contact`: the resident erases the phone they left for follow-up.
async fn erase_contact(
    State(state): State<AppState>,
    token: Result<Path<String>, axum::extract::rejection::PathRejection>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    form: Result<axum::Form<EraseForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let lang = lang_of(&q, &headers);
    let token = match path_text(token, lang) {
        Ok(v) => public::normalise_token(&v).unwrap_or(v),
        Err(r) => return *r,
    };
    let back = format!("/r/{token}");
    let Ok(axum::Form(form)) = form else {
        return bad_form(lang, &back);
    };
    if let Some(r) = check_post(
        &state,
        lang,
        &headers,
        &receipt_purpose(&token),
        &form.form_token,
        &form.website,
        &back,
    ) {
        return r;
    }
    let storage = state.storage.clone();
    let now = state.now_ms();
    let tok = token.clone();
    let erased = blocking(move || {
        let mut tx = storage.write()?;
        let r = public::receipt::erase_contact(tx.as_mut(), &tok, now);
        if r.is_ok() {
            tx.commit()?;
        }
        Ok(r)
    })
    .await;
    match erased {
        Ok(Ok(_)) => Redirect::to(&format!("{back}{}", lang.query())).into_response(),
        Ok(Err(e)) => error_page(lang, &e, &back, None),
        Err(e) => e.into_response(),
    }
}

/// `GET /r/{token}/photo/{sha}`: a photo of that report, re-encoded without EXIF.
async fn receipt_photo(
    State(state): State<AppState>,
    Path((token, sha)): Path<(String, String)>,
) -> Response {
    if !patrol_model::photos::is_photo_id(&sha) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let (storage, dir) = (state.storage.clone(), state.blobs_dir.clone());
    let shown = {
        let (dir, sha) = (dir.clone(), sha.clone());
        tokio::task::spawn_blocking(move || -> Option<Option<Vec<u8>>> {
            let mut tx = storage.read().ok()?;
            let view = public::receipt::receipt(tx.as_mut(), &token).ok()?;
            if !view.shows_photo(&sha) {
                return None;
            }
            drop(tx);
            Some(std::fs::read(public_copy(&dir, &sha)).ok())
        })
        .await
        .ok()
        .flatten()
    };
    let bytes = match shown {
        None => None,
        Some(Some(copy)) => Some(copy),
        // Not made yet: one decode at a time, server-wide.
        Some(None) => match state.public.photo_decodes.acquire().await {
            Ok(_permit) => tokio::task::spawn_blocking(move || public_photo(&dir, &sha))
                .await
                .ok()
                .flatten(),
            Err(_) => None,
        },
    };
    match bytes {
        Some(b) => (
            [
                (header::CONTENT_TYPE, "image/jpeg"),
                (header::CACHE_CONTROL, "private, max-age=3600"),
            ],
            b,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Where the public copy of a photo is kept: `blobs/public/<sha256>.jpg` (no blob's folder is
/// called `public`: theirs are two hex digits).
fn public_copy(dir: &std::path::Path, sha: &str) -> std::path::PathBuf {
    dir.join("public").join(format!("{sha}.jpg"))
}

/// The public copy of a stored photo (made once, then kept beside the blobs).
fn public_photo(dir: &std::path::Path, sha: &str) -> Option<Vec<u8>> {
    let copy = public_copy(dir, sha);
    if let Ok(b) = std::fs::read(&copy) {
        return Some(b);
    }
    let original = std::fs::read(crate::blob_access::blob_file(dir, sha)).ok()?;
    let limits = patrol_model::photos::PhotoLimits::default();
    let out = match patrol_core::photos::public_jpeg(&original, &limits, PUBLIC_PHOTO_SIDE_PX) {
        Ok(o) => o,
        Err(e) => {
            tracing::warn!(photo = sha, error = %e, "a stored photo could not be made public");
            return None;
        }
    };
    if let Err(e) = crate::blob_access::write_blob_file(&copy, &out) {
        tracing::warn!(photo = sha, error = %e, "the public copy of a photo was not kept");
    }
    Some(out)
}

/// `GET /a/{token}`: a steward application's status.
async fn application(
    State(state): State<AppState>,
    token: Result<Path<String>, axum::extract::rejection::PathRejection>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&q, &headers);
    let token = match path_text(token, lang) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let path = format!("/a/{token}");
    let storage = state.storage.clone();
    let found = blocking(move || {
        let mut tx = storage.read()?;
        let a = match public::applications::by_token(tx.as_mut(), &token) {
            Ok(a) => a,
            Err(e) => return Ok(Err(e)),
        };
        let street = tx
            .reference("street", &a.street_id)?
            .and_then(|(b, _)| {
                serde_json::from_value::<patrol_model::reference::StreetBundle>(b).ok()
            })
            .map(|b| b.street.label())
            .unwrap_or_else(|| a.street_id.clone());
        let url = crate::network::public_url(tx.as_mut()).ok().flatten();
        Ok(Ok((a, street, url)))
    })
    .await;
    let (a, street, url) = match found {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => return error_page(lang, &e, &path, None),
        Err(e) => return e.into_response(),
    };
    let t = lang.texts();
    use crate::storage::ApplicationStatus as S;
    let page = ApplicationPage {
        base: Base::new(lang, t.application_title, &path),
        t,
        name: a.name.clone(),
        status: match a.status {
            S::Pending => t.application_pending,
            S::Approved => t.application_approved,
            S::Declined => t.application_declined,
        },
        status_code: a.status.as_str(),
        reason: a.reason.clone(),
        enrol_code: a.enrol_code.clone().filter(|_| a.status == S::Approved),
        server_url: url,
        phone: public::contact::mask_phone(&a.phone),
        street,
    };
    html(StatusCode::OK, &page)
}
