//! Stewards (小巷管家) and merchants (商户) on the office platform: `GET /office/stewards` (points,
//! the leaderboard of each subdistrict, pickups and patrols, the streets' workload and those no
//! steward covered lately) and `GET /office/merchants` (credit and rating, inspections, linked
//! problems), each with its `.csv` and `.xlsx`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::Extensions;
use axum::response::Response;
use patrol_core::report::ToTables;
use patrol_model::report::merchants::MerchantReport;
use patrol_model::report::stewards::StewardReport;
use serde::Deserialize;

use super::exports::{ExportFormat, ExportQuery, export};
use super::overview_page::{period_of, reach_of};
use super::pages::Base;
use super::{AppState, DataSession, PageSession, run, show};
use crate::office::reports::{merchants, stewards};

#[derive(Debug, Default, Deserialize)]
pub struct PeriodQuery {
    period: Option<String>,
}

#[derive(Template)]
#[template(path = "office/stewards.html")]
pub struct StewardsPage {
    pub base: Base,
    pub period: String,
    pub report: StewardReport,
    /// Street id to name, for the streets no steward covered lately.
    pub not_covered: Vec<String>,
}

impl StewardsPage {
    fn hours(&self, h: &f64) -> String {
        format!("{h:.1}")
    }
}

pub async fn stewards_page(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Query(q): Query<PeriodQuery>,
) -> Response {
    let storage = state.storage.clone();
    let now = state.now_ms();
    show(
        run(move || {
            let period = period_of(q.period.as_deref(), now)?;
            let reach = reach_of(storage.as_ref(), &session.user)?;
            let report = stewards(storage.as_ref(), &session.user, &period)?;
            let not_covered = report
                .streets
                .iter()
                .filter(|s| s.not_covered_lately)
                .map(|s| s.name.clone().unwrap_or_else(|| s.street_id.clone()))
                .collect();
            Ok(StewardsPage {
                base: Base::new(&session, reach, "小巷管家", "stewards"),
                period: q.period.unwrap_or_default(),
                report,
                not_covered,
            })
        })
        .await,
    )
}

#[derive(Template)]
#[template(path = "office/merchants.html")]
pub struct MerchantsPage {
    pub base: Base,
    pub period: String,
    pub report: MerchantReport,
}

impl MerchantsPage {
    fn one(&self, v: &f64) -> String {
        format!("{v:.1}")
    }
}

pub async fn merchants_page(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Query(q): Query<PeriodQuery>,
) -> Response {
    let storage = state.storage.clone();
    let now = state.now_ms();
    show(
        run(move || {
            let period = period_of(q.period.as_deref(), now)?;
            let reach = reach_of(storage.as_ref(), &session.user)?;
            let report = merchants(storage.as_ref(), &session.user, &period)?;
            Ok(MerchantsPage {
                base: Base::new(&session, reach, "商户信用", "merchants"),
                period: q.period.unwrap_or_default(),
                report,
            })
        })
        .await,
    )
}

macro_rules! download {
    ($name:ident, $format:expr, $what:literal, $report:ident, $rows:ident) => {
        pub async fn $name(
            State(state): State<AppState>,
            DataSession(session): DataSession,
            ext: Extensions,
            Query(q): Query<ExportQuery>,
        ) -> Response {
            export(
                state,
                session,
                &ext,
                q,
                $format,
                $what,
                |storage, user, period| {
                    let report = $report(storage, user, period)?;
                    Ok((report.tables(), report.$rows.len()))
                },
            )
            .await
        }
    };
}

download!(
    stewards_csv,
    ExportFormat::Csv,
    "stewards",
    stewards,
    stewards
);
download!(
    stewards_xlsx,
    ExportFormat::Xlsx,
    "stewards",
    stewards,
    stewards
);
download!(
    merchants_csv,
    ExportFormat::Csv,
    "merchants",
    merchants,
    merchants
);
download!(
    merchants_xlsx,
    ExportFormat::Xlsx,
    "merchants",
    merchants,
    merchants
);
