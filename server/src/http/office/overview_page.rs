//! `GET /office`: the overview for a period (`?period=2026-11`, `2026-W48`, `today`...; this
//! month by default).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use patrol_model::report::period::{Period, beijing_date_text, day_start_ms};
use serde::Deserialize;

use super::pages::Base;
use super::{AppState, PageSession, run, show};
use crate::office::overview::{Overview, overview};
use crate::office::{OfficeError, OfficeUser};

#[derive(Debug, Default, Deserialize)]
pub struct OverviewQuery {
    period: Option<String>,
}

/// A bar of the trend chart, in the SVG's units.
pub struct Bar {
    pub x: u32,
    pub reported_h: u32,
    pub resolved_h: u32,
    pub label: String,
    pub reported: u64,
    pub resolved: u64,
}

#[derive(Template)]
#[template(path = "office/overview.html")]
pub struct OverviewPage {
    pub base: Base,
    pub ov: Overview,
    pub period: String,
    pub bars: Vec<Bar>,
    pub from_text: String,
    pub to_text: String,
}

/// The longest period a page or download covers, in days.
pub const MAX_PERIOD_DAYS: f64 = 366.0;

/// The period a query names: `today`, anything [`Period::parse`] takes, or this month.
pub fn period_of(text: Option<&str>, now_ms: i64) -> Result<Period, OfficeError> {
    let text = text.map(str::trim).filter(|t| !t.is_empty());
    match text {
        None => Period::parse(&beijing_date_text(now_ms)[..7])
            .map_err(|e| OfficeError::Invalid(e.to_string())),
        Some("today") | Some("今天") => {
            let d = patrol_model::report::period::beijing_date(now_ms);
            let from = day_start_ms(d);
            let mut p = Period::between(from, from + 24 * 3600 * 1000)
                .map_err(|e| OfficeError::Invalid(e.to_string()))?;
            p.label = "today".into();
            Ok(p)
        }
        Some(t) if t.len() <= 40 => {
            let p = Period::parse(t)
                .map_err(|e| OfficeError::Invalid(format!("时段 {t:?} 无法识别：{e}")))?;
            // The office reads a period's patrols and problems whole: at most a year at once.
            if p.days() > MAX_PERIOD_DAYS {
                return Err(OfficeError::Invalid(format!(
                    "时段 {t:?} 超过 {MAX_PERIOD_DAYS} 天；请选一年以内的时段"
                )));
            }
            Ok(p)
        }
        Some(_) => Err(OfficeError::Invalid("时段过长".into())),
    }
}

/// 全区, or the subdistrict's name.
pub fn reach_of(
    storage: &dyn crate::storage::Storage,
    user: &OfficeUser,
) -> Result<String, OfficeError> {
    let Some(sub) = user.subdistrict() else {
        return Ok("全区".into());
    };
    let mut tx = storage.read()?;
    Ok(tx
        .subdistricts()?
        .into_iter()
        .find(|(id, _, _)| *id == sub)
        .map(|(_, name, _)| name)
        .unwrap_or(sub))
}

fn bars(ov: &Overview) -> Vec<Bar> {
    let max = ov
        .trend
        .iter()
        .map(|w| w.reported.max(w.resolved))
        .max()
        .unwrap_or(0)
        .max(1);
    let h = |n: u64| ((n as f64 / max as f64) * 120.0).round() as u32;
    ov.trend
        .iter()
        .enumerate()
        .map(|(i, w)| Bar {
            x: 40 + i as u32 * 70,
            reported_h: h(w.reported),
            resolved_h: h(w.resolved),
            label: beijing_date_text(w.week_start_ms)[5..].to_owned(),
            reported: w.reported,
            resolved: w.resolved,
        })
        .collect()
}

pub async fn page(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Query(q): Query<OverviewQuery>,
) -> Response {
    let storage = state.storage.clone();
    let now = state.now_ms();
    let built = run(move || {
        let period = period_of(q.period.as_deref(), now)?;
        let reach = reach_of(storage.as_ref(), &session.user)?;
        let ov = overview(storage.as_ref(), &session.user, &period, now)?;
        let bars = bars(&ov);
        Ok(OverviewPage {
            base: Base::new(&session, reach, "总览", "overview"),
            period: q.period.unwrap_or_default(),
            from_text: beijing_date_text(period.from_ms),
            to_text: beijing_date_text(period.to_ms - 1),
            bars,
            ov,
        })
    })
    .await;
    show(built)
}
