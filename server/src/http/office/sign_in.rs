//! Signing in and out.

use std::net::IpAddr;
use std::time::Instant;

use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::pages::{LoginPage, message};
use super::{AppState, COOKIE, PageSession, check_csrf, run};
use crate::http::public::pages::{ASSET_VERSION, html};
use crate::office::{OfficeError, accounts, audit, sessions};

/// The client's address (`0.0.0.0` when served without connect info).
pub(super) fn ip_of(ext: &Extensions) -> IpAddr {
    ext.get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip())
        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

fn login_page(status: StatusCode, error: Option<String>, name: String) -> Response {
    html(
        status,
        &LoginPage {
            error,
            name,
            asset_version: ASSET_VERSION,
        },
    )
}

/// `GET /office/login`.
pub async fn form() -> Response {
    login_page(StatusCode::OK, None, String::new())
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

/// A post from a page of another site is refused: the browser says where it comes from, in
/// `Sec-Fetch-Site` and in `Origin`.
fn same_origin(headers: &HeaderMap) -> bool {
    let fetched_from = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if matches!(fetched_from, Some("cross-site" | "same-site")) {
        return false;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match (
        headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()),
        host,
    ) {
        (None, _) => true,
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest == host),
        (Some(_), None) => false,
    }
}

/// `POST /office/login`.
pub async fn submit(
    State(state): State<AppState>,
    ext: Extensions,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> Response {
    if !same_origin(&headers) {
        return message(
            StatusCode::FORBIDDEN,
            "登录失败",
            "登录表单必须从本站提交。",
        );
    }
    let ip = ip_of(&ext);
    if let Err(wait) = state.office.sign_in.take(ip, Instant::now()) {
        let mut r = login_page(
            StatusCode::TOO_MANY_REQUESTS,
            Some(format!(
                "尝试次数过多，请 {} 秒后再试。",
                wait.as_secs_f64().ceil().max(1.0)
            )),
            f.name,
        );
        if let Ok(v) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    if f.name.chars().count() > 200 || f.password.chars().count() > accounts::MAX_PASSWORD_CHARS * 2
    {
        return login_page(
            StatusCode::BAD_REQUEST,
            Some("用户名或密码过长。".into()),
            String::new(),
        );
    }
    let storage = state.storage.clone();
    let now = state.now_ms();
    let address = ip.to_string();
    let name = f.name.clone();
    let result = run(move || {
        let mut tx = storage.write()?;
        let outcome = accounts::sign_in(tx.as_mut(), &f.name, &f.password, now);
        let result = match outcome {
            Ok(user) => {
                let session = sessions::start(tx.as_mut(), &user, Some(&address), now)?;
                audit::record(
                    tx.as_mut(),
                    now,
                    Some(&user.user.id),
                    "sign_in",
                    None,
                    "",
                    Some(&address),
                )?;
                Ok(session)
            }
            Err(e) => {
                // Which account was tried, as the entry's target (the actor is unknown), never
                // the text typed: a password typed into the name field must not be kept.
                let tried = accounts::candidates(tx.as_mut(), &f.name)?;
                let target = tried.first().map(|(user, _)| user.id.to_string());
                let detail = match &target {
                    Some(_) => e.to_string(),
                    None => format!(
                        "a name no office account has ({} characters): {e}",
                        f.name.trim().chars().count()
                    ),
                };
                audit::record(
                    tx.as_mut(),
                    now,
                    None,
                    "sign_in_failed",
                    target.as_deref(),
                    &detail,
                    Some(&address),
                )?;
                Err(e)
            }
        };
        // The cookie is marked Secure when the server's public address is https.
        let https = crate::network::public_url(tx.as_mut())
            .ok()
            .flatten()
            .is_some_and(|u| u.starts_with("https://"));
        // Failed attempts and lock-outs are written whatever the answer.
        tx.commit()?;
        Ok(result.map(|s| (s, https)))
    })
    .await;
    let (session, https) = match result {
        Ok(Ok(s)) => s,
        Ok(Err(OfficeError::BadCredentials)) => {
            return login_page(
                StatusCode::UNAUTHORIZED,
                Some("用户名或密码错误。".into()),
                name,
            );
        }
        Ok(Err(OfficeError::Locked { until_ms })) => {
            return login_page(
                StatusCode::FORBIDDEN,
                Some(format!(
                    "密码连续错误次数过多，账号已锁定至 {}（北京时间）。",
                    super::words::time(until_ms)
                )),
                name,
            );
        }
        Ok(Err(OfficeError::NotAllowed(why))) => {
            return login_page(
                StatusCode::FORBIDDEN,
                Some(format!("无权登录：{why}")),
                name,
            );
        }
        Ok(Err(e)) => return super::error_page(&e),
        Err(r) => return r,
    };
    let mut cookie = format!(
        "{COOKIE}={}; Path=/office; HttpOnly; SameSite=Strict; Max-Age={}",
        session.token,
        sessions::MAX_AGE_MS / 1000
    );
    if https {
        cookie.push_str("; Secure");
    }
    let mut r = Redirect::to("/office").into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

/// `POST /office/logout`.
pub async fn sign_out(
    State(state): State<AppState>,
    ext: Extensions,
    PageSession(session): PageSession,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Err(r) = check_csrf(&session, f.csrf.as_deref()) {
        return r;
    }
    let storage = state.storage.clone();
    let now = state.now_ms();
    let address = ip_of(&ext).to_string();
    let ended = run(move || {
        let mut tx = storage.write()?;
        sessions::end(tx.as_mut(), &session.token_hash)?;
        audit::record(
            tx.as_mut(),
            now,
            Some(&session.user.user.id),
            "sign_out",
            None,
            "",
            Some(&address),
        )?;
        tx.commit()?;
        Ok(())
    })
    .await;
    if let Err(r) = ended {
        return r;
    }
    let mut r = Redirect::to("/office/login").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "patrol_office=; Path=/office; Max-Age=0; HttpOnly; SameSite=Strict",
        ),
    );
    r
}
