//! The chief assessment (考核): `GET /office/assessment` (a sortable table of the chiefs with
//! their scores), `GET /office/assessment/{user}` (one chief's score line by line, with the
//! streets behind it, as the phone report explains it), and the report as `.csv` and `.xlsx`
//! (the phones' own tables, `patrol_core::report::tables`).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use patrol_core::report::ToTables;
use patrol_model::report::assessment::{AssessmentReport, ChiefAssessment};
use serde::Deserialize;

use super::exports::{ExportFormat, ExportQuery, export};
use super::overview_page::{period_of, reach_of};
use super::pages::Base;
use super::{AppState, DataSession, PageSession, run, show};
use crate::office::OfficeError;
use crate::office::reports::assessment;

#[derive(Debug, Default, Deserialize)]
pub struct AssessmentQuery {
    period: Option<String>,
    sort: Option<String>,
}

/// One chief's row.
pub struct ChiefRow {
    pub user_id: String,
    pub rank: u32,
    pub name: String,
    pub subdistrict: String,
    pub score: String,
    pub max_score: String,
    pub patrols: u64,
    pub hours: String,
    pub coverage: String,
    pub issues_found: u64,
    pub issues_resolved: u64,
    pub issues_verified: u64,
}

fn one(v: f64) -> String {
    format!("{v:.1}")
}

fn share(v: Option<f64>) -> String {
    v.map(|s| format!("{:.0}%", s * 100.0))
        .unwrap_or_else(|| "—".into())
}

fn row(c: &ChiefAssessment) -> ChiefRow {
    ChiefRow {
        user_id: c.person.user_id.clone(),
        rank: c.rank,
        name: c
            .person
            .name
            .clone()
            .unwrap_or_else(|| c.person.user_id.clone()),
        subdistrict: c.person.subdistrict.clone().unwrap_or_default(),
        score: one(c.score),
        max_score: one(c.max_score),
        patrols: c.patrols,
        hours: one(c.hours),
        coverage: share(c.coverage_share),
        issues_found: c.issues_found,
        issues_resolved: c.issues_resolved,
        issues_verified: c.issues_verified,
    }
}

#[derive(Template)]
#[template(path = "office/assessment.html")]
pub struct AssessmentPage {
    pub base: Base,
    pub period: String,
    pub label: String,
    pub rules: String,
    pub rows: Vec<ChiefRow>,
    pub sort: String,
}

/// Orders the chiefs by a column (rank by default).
fn sort_chiefs(report: &mut AssessmentReport, sort: Option<&str>) -> Result<String, OfficeError> {
    let by = sort.unwrap_or("rank");
    let chiefs = &mut report.chiefs;
    match by {
        "rank" => chiefs.sort_by_key(|c| c.rank),
        "name" => chiefs.sort_by(|a, b| a.person.name.cmp(&b.person.name)),
        "patrols" => chiefs.sort_by_key(|c| std::cmp::Reverse(c.patrols)),
        "hours" => chiefs.sort_by(|a, b| b.hours.total_cmp(&a.hours)),
        "coverage" => chiefs.sort_by(|a, b| {
            b.coverage_share
                .unwrap_or(-1.0)
                .total_cmp(&a.coverage_share.unwrap_or(-1.0))
        }),
        "issues" => chiefs.sort_by_key(|c| std::cmp::Reverse(c.issues_found)),
        "subdistrict" => chiefs.sort_by(|a, b| {
            a.person
                .subdistrict
                .cmp(&b.person.subdistrict)
                .then(a.rank.cmp(&b.rank))
        }),
        other => return Err(OfficeError::Invalid(format!("排序 {other:?} 无法识别"))),
    }
    Ok(by.to_owned())
}

pub async fn page(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Query(q): Query<AssessmentQuery>,
) -> Response {
    let storage = state.storage.clone();
    let now = state.now_ms();
    show(
        run(move || {
            let period = period_of(q.period.as_deref(), now)?;
            let reach = reach_of(storage.as_ref(), &session.user)?;
            let mut report = assessment(storage.as_ref(), &session.user, &period)?;
            let sort = sort_chiefs(&mut report, q.sort.as_deref())?;
            Ok(AssessmentPage {
                base: Base::new(&session, reach, "街巷长考核", "assessment"),
                period: q.period.unwrap_or_default(),
                label: report.period.label.clone(),
                rules: format!("{} v{}", report.rules_name, report.rules_version),
                rows: report.chiefs.iter().map(row).collect(),
                sort,
            })
        })
        .await,
    )
}

/// A line of a chief's score.
pub struct Line {
    pub label: String,
    pub detail: String,
    pub points: String,
    pub max_points: String,
    pub explanation: String,
}

/// One of a chief's streets.
pub struct StreetLine {
    pub name: String,
    pub length_m: String,
    pub segments: u64,
    pub required_patrols: u32,
    pub patrolled_enough: u64,
    pub coverage: String,
    pub patrols: u64,
}

#[derive(Template)]
#[template(path = "office/chief.html")]
pub struct ChiefPage {
    pub base: Base,
    pub period: String,
    pub label: String,
    pub chief: ChiefRow,
    pub lines: Vec<Line>,
    pub streets: Vec<StreetLine>,
    pub notes: Vec<String>,
}

pub async fn chief(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Path(user): Path<String>,
    Query(q): Query<AssessmentQuery>,
) -> Response {
    let storage = state.storage.clone();
    let now = state.now_ms();
    show(
        run(move || {
            let period = period_of(q.period.as_deref(), now)?;
            let reach = reach_of(storage.as_ref(), &session.user)?;
            let report = assessment(storage.as_ref(), &session.user, &period)?;
            let c = report
                .chiefs
                .iter()
                .find(|c| c.person.user_id == user)
                .ok_or(OfficeError::NotFound)?;
            Ok(ChiefPage {
                base: Base::new(&session, reach, "考核明细", "assessment"),
                period: q.period.unwrap_or_default(),
                label: report.period.label.clone(),
                chief: row(c),
                lines: c
                    .explanation
                    .iter()
                    .map(|l| Line {
                        label: l.label.clone(),
                        detail: l.detail.clone(),
                        points: one(l.points),
                        max_points: one(l.max_points),
                        explanation: l.explanation.clone(),
                    })
                    .collect(),
                streets: c
                    .streets
                    .iter()
                    .map(|s| StreetLine {
                        name: s.name.clone().unwrap_or_else(|| s.street_id.clone()),
                        length_m: format!("{:.0}", s.length_m),
                        segments: s.segments,
                        required_patrols: s.required_patrols,
                        patrolled_enough: s.segments_patrolled_enough,
                        coverage: share(Some(s.coverage_share)),
                        patrols: s.patrols,
                    })
                    .collect(),
                notes: c.notes.clone(),
            })
        })
        .await,
    )
}

/// `GET /office/assessment.csv`.
pub async fn csv(
    State(state): State<AppState>,
    DataSession(session): DataSession,
    ext: axum::http::Extensions,
    Query(q): Query<ExportQuery>,
) -> Response {
    tables(state, session, &ext, q, ExportFormat::Csv).await
}

/// `GET /office/assessment.xlsx`.
pub async fn xlsx(
    State(state): State<AppState>,
    DataSession(session): DataSession,
    ext: axum::http::Extensions,
    Query(q): Query<ExportQuery>,
) -> Response {
    tables(state, session, &ext, q, ExportFormat::Xlsx).await
}

async fn tables(
    state: AppState,
    session: crate::office::sessions::Session,
    ext: &axum::http::Extensions,
    q: ExportQuery,
    format: ExportFormat,
) -> Response {
    export(
        state,
        session,
        ext,
        q,
        format,
        "assessment",
        |storage, user, period| {
            let report = assessment(storage, user, period)?;
            Ok((report.tables(), report.chiefs.len()))
        },
    )
    .await
}
