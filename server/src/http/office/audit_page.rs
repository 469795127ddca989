//! `GET /office/audit`: the audit log, for office administrators only.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::overview_page::reach_of;
use super::pages::Base;
use super::{AppState, PageSession, run, show, words};
use crate::office::{OfficeError, audit};

const PAGE: usize = 100;

pub struct Entry {
    pub seq: i64,
    pub at: String,
    pub who: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub address: String,
}

#[derive(Template)]
#[template(path = "office/audit.html")]
pub struct AuditPage {
    pub base: Base,
    pub entries: Vec<Entry>,
    pub older: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    before: Option<i64>,
}

pub async fn page(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Query(q): Query<AuditQuery>,
) -> Response {
    let storage = state.storage.clone();
    let built = run(move || {
        if !session.user.is_admin {
            return Err(OfficeError::NotAllowed("审计日志仅供平台管理员查看".into()));
        }
        let reach = reach_of(storage.as_ref(), &session.user)?;
        let mut tx = storage.read()?;
        let names: std::collections::HashMap<String, String> = tx
            .users()?
            .into_iter()
            .map(|u| (u.id.to_string(), u.name))
            .collect();
        let rows = audit::page(tx.as_mut(), q.before, PAGE)?;
        let older = (rows.len() == PAGE)
            .then(|| rows.last().map(|r| r.seq))
            .flatten();
        Ok(AuditPage {
            base: Base::new(&session, reach, "审计日志", "audit"),
            entries: rows
                .into_iter()
                .map(|r| Entry {
                    seq: r.seq,
                    at: words::time(r.at_ms),
                    who: r
                        .user_id
                        .map(|u| {
                            names
                                .get(&u.to_string())
                                .cloned()
                                .unwrap_or_else(|| u.to_string())
                        })
                        .unwrap_or_else(|| "—".into()),
                    action: r.action,
                    target: r.target.unwrap_or_default(),
                    detail: r.detail,
                    address: r.address.unwrap_or_default(),
                })
                .collect(),
            older,
        })
    })
    .await;
    show(built)
}
