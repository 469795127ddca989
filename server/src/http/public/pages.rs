//! The pages as askama templates (`server/templates/public/`), and how each is answered.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::i18n::{Lang, Texts};
use crate::public::FieldError;

/// Changes whenever the embedded assets change, so browsers fetch them again.
pub const ASSET_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What the layout needs.
pub struct Base {
    pub lang_tag: &'static str,
    pub page_title: String,
    pub t: &'static Texts,
    pub other_lang_href: String,
    pub asset_version: &'static str,
}

impl Base {
    /// The layout for a page at `path` (the language switch links to it in the other language).
    pub fn new(lang: Lang, title: impl Into<String>, path: &str) -> Self {
        let other = match lang {
            Lang::Zh => "en",
            Lang::En => "zh",
        };
        Self {
            lang_tag: lang.tag(),
            page_title: title.into(),
            t: lang.texts(),
            other_lang_href: format!("{path}?lang={other}"),
            asset_version: ASSET_VERSION,
        }
    }
}

/// A form's problems by field name.
#[derive(Debug, Default)]
pub struct FormErrors(pub Vec<(&'static str, String)>);

impl FormErrors {
    pub fn from(lang: Lang, errors: &[FieldError]) -> Self {
        Self(
            errors
                .iter()
                .map(|e| (e.field.name(), lang.problem(e)))
                .collect(),
        )
    }

    pub fn of(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

/// An option of a select.
pub struct Choice {
    pub code: String,
    pub label: String,
}

/// The report form's values, kept when the form comes back with an error.
#[derive(Debug, Default, Clone)]
pub struct ReportInput {
    pub category: String,
    pub description: String,
    pub contact_phone: String,
    pub lat: String,
    pub lon: String,
}

/// The steward form's values.
#[derive(Debug, Default, Clone)]
pub struct StewardInput {
    pub name: String,
    pub phone: String,
    pub street: String,
    pub availability: String,
}

pub struct ResolvedItem {
    pub category: String,
    pub reported: String,
    pub resolved: String,
    pub verified: bool,
}

#[derive(Template)]
#[template(path = "public/signboard.html")]
pub struct SignboardPage {
    pub base: Base,
    pub t: &'static Texts,
    pub lang_code: &'static str,
    pub street_name: String,
    pub subdistrict: Option<String>,
    pub chiefs: Vec<String>,
    /// The duty line under the chief's name.
    pub chief_duty: String,
    pub hotline: Option<String>,
    pub open_count: usize,
    pub resolved: Vec<ResolvedItem>,
    pub categories: Vec<Choice>,
    pub streets: Vec<Choice>,
    pub form_token: String,
    pub report_action: String,
    pub steward_action: String,
    pub report: ReportInput,
    pub report_errors: FormErrors,
    pub report_failed: bool,
    pub steward: StewardInput,
    pub steward_errors: FormErrors,
    pub steward_failed: bool,
}

#[derive(Template)]
#[template(path = "public/message.html")]
pub struct MessagePage {
    pub base: Base,
    pub t: &'static Texts,
    pub status: u16,
    pub body: String,
    pub back_href: Option<String>,
}

pub struct StepItem {
    pub kind: &'static str,
    pub label: &'static str,
    pub at: String,
    pub who: String,
    pub reason: Option<String>,
}

#[derive(Template)]
#[template(path = "public/receipt.html")]
pub struct ReceiptPage {
    pub base: Base,
    pub t: &'static Texts,
    pub category: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub token: String,
    pub description: String,
    pub contact: Option<String>,
    pub steps: Vec<StepItem>,
    pub after_photo: Option<String>,
    pub before_photos: Vec<String>,
    /// The erase form's token, bound to this receipt and the browser's form cookie.
    pub form_token: String,
    pub data_link: String,
    pub erase_action: String,
}

#[derive(Template)]
#[template(path = "public/application.html")]
pub struct ApplicationPage {
    pub base: Base,
    pub t: &'static Texts,
    pub name: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub reason: Option<String>,
    pub enrol_code: Option<String>,
    pub server_url: Option<String>,
    pub phone: String,
    pub street: String,
}

/// A rendered page with its status; pages are never cached (they carry form tokens and
/// receipts).
pub fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => {
            let mut r = (status, body).into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "a page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// A page saying one thing, with its status.
pub fn message(
    lang: Lang,
    status: StatusCode,
    title: &str,
    body: &str,
    path: &str,
    back_href: Option<String>,
) -> Response {
    html(
        status,
        &MessagePage {
            base: Base::new(lang, title, path),
            t: lang.texts(),
            status: status.as_u16(),
            body: body.to_owned(),
            back_href,
        },
    )
}
