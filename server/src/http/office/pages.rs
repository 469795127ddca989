//! The office pages as askama templates (`server/templates/office/`).

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use crate::http::public::pages::{ASSET_VERSION, html};
use crate::office::sessions::Session;

/// What every signed-in page's layout shows.
pub struct Base {
    pub title: String,
    pub user_name: String,
    /// 全区, or the subdistrict's name.
    pub reach: String,
    pub is_admin: bool,
    pub csrf: String,
    /// Which tab is current: overview, issues, map, audit.
    pub tab: &'static str,
    pub asset_version: &'static str,
}

impl Base {
    pub fn new(
        session: &Session,
        reach: String,
        title: impl Into<String>,
        tab: &'static str,
    ) -> Self {
        Self {
            title: title.into(),
            user_name: session.user.user.name.clone(),
            reach,
            is_admin: session.user.is_admin,
            csrf: session.csrf_token.clone(),
            tab,
            asset_version: ASSET_VERSION,
        }
    }
}

#[derive(Template)]
#[template(path = "office/login.html")]
pub struct LoginPage {
    pub error: Option<String>,
    pub name: String,
    pub asset_version: &'static str,
}

#[derive(Template)]
#[template(path = "office/message.html")]
pub struct MessagePage<'a> {
    pub title: &'a str,
    pub body: &'a str,
    pub asset_version: &'static str,
}

pub fn message(status: StatusCode, title: &str, body: &str) -> Response {
    html(
        status,
        &MessagePage {
            title,
            body,
            asset_version: ASSET_VERSION,
        },
    )
}
