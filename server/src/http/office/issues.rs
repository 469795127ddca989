//! The problem queue (`/office/issues`, filtered, sorted, paged; `.csv` for the whole filtered
//! list), a problem's page with its photos, timeline, position and the actions this user's role
//! may take, and those actions.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{Extensions, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use patrol_model::domain::{Department, IssueEventKind, IssueStatus};
use patrol_model::issues::Assignee;
use patrol_model::{Role, UserId};
use serde::Deserialize;

use super::overview_page::reach_of;
use super::pages::Base;
use super::sign_in::ip_of;
use super::{AppState, DataSession, PageSession, check_csrf, run, show, words};
use crate::office::act::{OfficeAction, allowed_actions, check_visible, load};
use crate::office::{OfficeError, OfficeResult, OfficeUser, audit};
use crate::storage::{IssueIndexRow, IssueQuery, IssueSort, Storage};

/// Problems per page.
pub const PAGE_SIZE: u64 = 50;
/// Most rows a CSV export holds.
pub const MAX_EXPORT_ROWS: u64 = 100_000;

#[derive(Debug, Default, Clone, Deserialize)]
pub struct QueueQuery {
    status: Option<String>,
    category: Option<String>,
    subdistrict: Option<String>,
    street: Option<String>,
    overdue: Option<String>,
    role: Option<String>,
    sort: Option<String>,
    /// Reported in this period (`2026-11`, `today`...).
    period: Option<String>,
    page: Option<u64>,
}

fn some(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The storage query a queue's URL asks for, limited to what `user` may see.
fn query_of(q: &QueueQuery, user: &OfficeUser, now_ms: i64) -> OfficeResult<IssueQuery> {
    let bad = |what: &str, v: &str| OfficeError::Invalid(format!("{what} {v:?} 无法识别"));
    let mut out = IssueQuery {
        limit: PAGE_SIZE,
        ..Default::default()
    };
    match some(&q.status) {
        None => {}
        Some("open") => out.open = Some(true),
        Some("closed") => out.open = Some(false),
        Some(s) => out.status = Some(s.parse::<IssueStatus>().map_err(|_| bad("状态", s))?),
    }
    if let Some(c) = some(&q.category) {
        if c.len() > 64 {
            return Err(bad("类别", c));
        }
        out.category = Some(c.to_owned());
    }
    if let Some(st) = some(&q.street) {
        if !crate::validate::valid_id(st) {
            return Err(bad("街巷", st));
        }
        out.street_id = Some(st.to_owned());
    }
    if some(&q.overdue).is_some_and(|v| v == "1" || v == "on" || v == "true") {
        out.overdue_at_ms = Some(now_ms);
    }
    if let Some(r) = some(&q.role) {
        out.reporter_role = Some(r.parse::<Role>().map_err(|_| bad("上报人", r))?);
    }
    if let Some(p) = some(&q.period) {
        let period = super::overview_page::period_of(Some(p), now_ms)?;
        out.reported_from_ms = Some(period.from_ms);
        out.reported_to_ms = Some(period.to_ms);
    }
    out.sort = match some(&q.sort) {
        None | Some("newest") => IssueSort::Newest,
        Some("oldest") => IssueSort::Oldest,
        Some("due") => IssueSort::Due,
        Some("updated") => IssueSort::Updated,
        Some(s) => return Err(bad("排序", s)),
    };
    let page = q.page.unwrap_or(1).clamp(1, 100_000);
    out.offset = (page - 1) * PAGE_SIZE;
    // A subdistrict supervisor's queue is their subdistrict's, whatever the URL says.
    out.subdistrict_id = match (user.subdistrict(), some(&q.subdistrict)) {
        (Some(mine), _) => Some(Some(mine)),
        (None, None) => None,
        (None, Some("none")) => Some(None),
        (None, Some(s)) => {
            if !crate::validate::valid_id(s) {
                return Err(bad("街道", s));
            }
            Some(Some(s.to_owned()))
        }
    };
    Ok(out)
}

/// One row of the queue as shown.
pub struct Row {
    pub id: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub category: String,
    pub description: String,
    pub street: String,
    pub subdistrict: String,
    pub reporter: &'static str,
    pub assignees: String,
    pub reported: String,
    pub due: String,
    pub overdue: bool,
}

/// Names the rows need: streets, subdistricts, users, categories.
struct Names {
    streets: HashMap<String, String>,
    subdistricts: HashMap<String, String>,
    users: HashMap<String, String>,
    catalog: patrol_model::issues::Catalog,
}

impl Names {
    fn load(storage: &dyn Storage) -> OfficeResult<Self> {
        let mut tx = storage.read()?;
        let subdistricts = tx
            .subdistricts()?
            .into_iter()
            .map(|(id, name, _)| (id, name))
            .collect();
        // The street table's names (a label for unnamed ones), subdistrict by subdistrict,
        // rather than every street's published bundle with its geometry.
        let mut streets = HashMap::new();
        let subs: Vec<String> = tx
            .subdistricts()?
            .into_iter()
            .map(|(id, _, _)| id)
            .collect();
        for sub in subs.iter().map(|s| Some(s.as_str())).chain([None]) {
            streets.extend(tx.street_names(sub, usize::MAX)?);
        }
        let users = tx
            .users()?
            .into_iter()
            .map(|u| (u.id.to_string(), u.name))
            .collect();
        let catalog = crate::rules::catalog(tx.as_mut())?;
        Ok(Self {
            streets,
            subdistricts,
            users,
            catalog,
        })
    }

    fn category(&self, code: &str) -> String {
        self.catalog
            .get(code)
            .map(|c| c.name_zh.clone())
            .unwrap_or_else(|| code.to_owned())
    }

    fn row(&self, r: &IssueIndexRow, now_ms: i64) -> Row {
        Row {
            id: r.id.clone(),
            status: words::status(r.status),
            status_code: r.status.as_str(),
            category: self.category(&r.category),
            description: r.description.chars().take(60).collect(),
            street: r
                .street_id
                .as_ref()
                .and_then(|s| self.streets.get(s).cloned())
                .unwrap_or_default(),
            subdistrict: r
                .subdistrict_id
                .as_ref()
                .and_then(|s| self.subdistricts.get(s).cloned())
                .unwrap_or_default(),
            reporter: words::role(r.reporter_role),
            assignees: r
                .assignees
                .iter()
                .map(|a| words::assignee(a, &|u| self.users.get(u).cloned()))
                .collect::<Vec<_>>()
                .join("、"),
            reported: words::time(r.reported_at_ms),
            due: words::time(r.due_at_ms),
            overdue: r.status.is_open() && r.due_at_ms < now_ms,
        }
    }
}

/// A choice in a filter's list.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "office/queue.html")]
pub struct QueuePage {
    pub base: Base,
    pub rows: Vec<Row>,
    pub total: u64,
    pub page: u64,
    pub pages: u64,
    pub statuses: Vec<Choice>,
    pub categories: Vec<Choice>,
    pub subdistricts: Vec<Choice>,
    pub roles: Vec<Choice>,
    pub sorts: Vec<Choice>,
    pub overdue: bool,
    pub street: String,
    pub period: String,
    /// The filters as a query string, without the page.
    pub filter_query: String,
}

fn choices(current: Option<&str>, all: Vec<(String, String)>) -> Vec<Choice> {
    all.into_iter()
        .map(|(value, label)| Choice {
            selected: current == Some(value.as_str()),
            value,
            label,
        })
        .collect()
}

fn filter_query(q: &QueueQuery) -> String {
    let mut parts = Vec::new();
    for (k, v) in [
        ("status", &q.status),
        ("category", &q.category),
        ("subdistrict", &q.subdistrict),
        ("street", &q.street),
        ("overdue", &q.overdue),
        ("role", &q.role),
        ("sort", &q.sort),
        ("period", &q.period),
    ] {
        if let Some(v) = some(v) {
            parts.push(format!("{k}={}", url_escape(v)));
        }
    }
    parts.join("&")
}

/// A query string's value, percent-encoded (the map page's data address uses it too).
pub(super) fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `GET /office/issues`.
pub async fn queue(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Query(q): Query<QueueQuery>,
) -> Response {
    let storage = state.storage.clone();
    let now = state.now_ms();
    let built = run(move || {
        let query = query_of(&q, &session.user, now)?;
        crate::issue_index::catch_up(storage.as_ref())?;
        let names = Names::load(storage.as_ref())?;
        let (found, total) = storage.read()?.issue_index_query(&query)?;
        let reach = reach_of(storage.as_ref(), &session.user)?;
        let mut statuses = vec![
            ("open".to_owned(), "未办结".to_owned()),
            ("closed".to_owned(), "已办结".to_owned()),
        ];
        statuses.extend(
            IssueStatus::ALL
                .iter()
                .map(|s| (s.as_str().to_owned(), words::status(*s).to_owned())),
        );
        let categories = names
            .catalog
            .all()
            .iter()
            .map(|c| (c.code.clone(), c.name_zh.clone()))
            .collect();
        let mut subs: Vec<(String, String)> = match session.user.subdistrict() {
            Some(_) => Vec::new(),
            None => names
                .subdistricts
                .iter()
                .map(|(id, n)| (id.clone(), n.clone()))
                .collect(),
        };
        subs.sort_by(|a, b| a.1.cmp(&b.1));
        let roles = [
            Role::Public,
            Role::Chief,
            Role::Steward,
            Role::Supervisor,
            Role::Crew,
            Role::Enforcement,
        ]
        .iter()
        .map(|r| (r.as_str().to_owned(), words::role(*r).to_owned()))
        .collect();
        let sorts = vec![
            ("newest".to_owned(), "最新上报".to_owned()),
            ("oldest".to_owned(), "最早上报".to_owned()),
            ("due".to_owned(), "最紧急（按时限）".to_owned()),
            ("updated".to_owned(), "最近更新".to_owned()),
        ];
        let page = query.offset / PAGE_SIZE + 1;
        Ok(QueuePage {
            base: Base::new(&session, reach, "问题列表", "issues"),
            rows: found.iter().map(|r| names.row(r, now)).collect(),
            total,
            page,
            pages: total.div_ceil(PAGE_SIZE).max(1),
            statuses: choices(some(&q.status), statuses),
            categories: choices(some(&q.category), categories),
            subdistricts: choices(some(&q.subdistrict), subs),
            roles: choices(some(&q.role), roles),
            sorts: choices(some(&q.sort), sorts),
            overdue: query.overdue_at_ms.is_some(),
            street: some(&q.street).unwrap_or_default().to_owned(),
            period: some(&q.period).unwrap_or_default().to_owned(),
            filter_query: filter_query(&q),
        })
    })
    .await;
    show(built)
}

/// `GET /office/issues.csv`: the filtered queue, every page, as CSV (UTF-8 with a BOM so
/// spreadsheet programs read the Chinese); the export is written to the audit log.
pub async fn queue_csv(
    State(state): State<AppState>,
    ext: Extensions,
    DataSession(session): DataSession,
    Query(q): Query<QueueQuery>,
) -> Response {
    let storage = state.storage.clone();
    let now = state.now_ms();
    let address = ip_of(&ext).to_string();
    let built = run(move || {
        let mut query = query_of(&q, &session.user, now)?;
        query.offset = 0;
        query.limit = MAX_EXPORT_ROWS;
        crate::issue_index::catch_up(storage.as_ref())?;
        let names = Names::load(storage.as_ref())?;
        let (found, _) = storage.read()?.issue_index_query(&query)?;
        // The reports' own table and CSV writer: a BOM for spreadsheet programs, cells
        // neutralised against formulas.
        let mut table = patrol_core::report::Table::new(
            "issues",
            &[
                "编号",
                "状态",
                "类别",
                "描述",
                "街巷",
                "街道",
                "上报人",
                "承办",
                "上报时间",
                "时限",
                "超期",
            ],
        );
        for r in &found {
            let row = names.row(r, now);
            table.push(
                [
                    row.id.as_str(),
                    row.status,
                    &row.category,
                    &r.description,
                    &row.street,
                    &row.subdistrict,
                    row.reporter,
                    &row.assignees,
                    &row.reported,
                    &row.due,
                    if row.overdue { "是" } else { "否" },
                ]
                .into_iter()
                .map(patrol_core::report::Cell::from)
                .collect(),
            );
        }
        let out = patrol_core::report::export::csv(&table);
        let mut tx = storage.write()?;
        audit::record(
            tx.as_mut(),
            now,
            Some(&session.user.user.id),
            "export.issues_csv",
            None,
            &format!("{} rows; {}", found.len(), filter_query(&q)),
            Some(&address),
        )?;
        tx.commit()?;
        Ok(out)
    })
    .await;
    match built {
        Ok(body) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/csv; charset=utf-8"),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_static("attachment; filename=\"issues.csv\""),
                ),
            ],
            body,
        )
            .into_response(),
        Err(r) => r,
    }
}

/// One line of a problem's timeline.
pub struct Step {
    pub at: String,
    pub what: String,
    pub who: String,
    pub text: String,
    pub refused: Option<String>,
}

/// A photo on a problem's page.
pub struct Photo {
    pub sha: String,
    pub stage: &'static str,
    pub taken: String,
}

#[derive(Template)]
#[template(path = "office/issue.html")]
pub struct IssuePage {
    pub base: Base,
    pub id: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub category: String,
    pub description: String,
    pub street: String,
    pub lat: f64,
    pub lon: f64,
    pub reporter: String,
    pub reported: String,
    pub due: String,
    pub overdue: bool,
    pub assignees: String,
    pub steps: Vec<Step>,
    pub photos: Vec<Photo>,
    pub can_assign: bool,
    pub can_return: bool,
    pub can_verify: bool,
    pub can_reopen: bool,
    pub can_cancel: bool,
    pub notice: Option<String>,
    /// A resident's contact phone, for a problem reported through a signboard page (its
    /// showing is written to the audit log).
    pub contact_phone: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    done: Option<String>,
}

fn issue_page(
    storage: &dyn Storage,
    user: &OfficeUser,
    base: Base,
    id: &str,
    now_ms: i64,
) -> OfficeResult<IssuePage> {
    let names = Names::load(storage)?;
    let mut tx = storage.read()?;
    check_visible(tx.as_mut(), user, id)?;
    let (_, issue, state) = load(tx.as_mut(), id)?;
    let name_of = |u: &UserId| {
        names
            .users
            .get(&u.to_string())
            .cloned()
            .unwrap_or_else(|| u.to_string())
    };
    let mut steps: Vec<Step> = state
        .events
        .iter()
        .map(|e| {
            let ev = &e.event;
            let mut text = Vec::new();
            if let Some(to) = &ev.payload.to {
                text.push(format!(
                    "派给 {}",
                    words::assignee(&to.to_string(), &|u| names.users.get(u).cloned())
                ));
            }
            for t in [&ev.payload.reason, &ev.payload.note].into_iter().flatten() {
                text.push(t.clone());
            }
            Step {
                at: words::time(ev.at.wall_ms),
                what: words::step(ev.kind).to_owned(),
                who: format!("{}（{}）", name_of(&ev.by), words::role(ev.role)),
                text: text.join("；"),
                refused: e.refused.clone(),
            }
        })
        .collect();
    for c in &issue.comments {
        steps.push(Step {
            at: words::time(c.at.wall_ms),
            what: "留言".into(),
            who: format!("{}（{}）", name_of(&c.by), words::role(c.role)),
            text: c.text.clone(),
            refused: None,
        });
    }
    steps.sort_by(|a, b| a.at.cmp(&b.at));
    let allowed = allowed_actions(user, &issue, &state);
    let catalog = &names.catalog;
    let due = state
        .round_started_at_ms
        .saturating_add(catalog.due_ms(&issue.category));
    Ok(IssuePage {
        base,
        id: id.to_owned(),
        status: words::status(state.status),
        status_code: state.status.as_str(),
        category: names.category(&issue.category),
        description: issue.description.clone(),
        street: issue
            .location
            .street_id
            .as_ref()
            .and_then(|s| names.streets.get(s).cloned())
            .unwrap_or_default(),
        lat: issue.location.lat,
        lon: issue.location.lon,
        reporter: format!(
            "{}（{}）",
            issue.reporter.name,
            words::role(issue.reporter.role)
        ),
        reported: words::time(state.reported_at_ms),
        due: words::time(due),
        overdue: state.status.is_open() && due < now_ms,
        assignees: state
            .assignees
            .iter()
            .map(|a| words::assignee(&a.to_string(), &|u| names.users.get(u).cloned()))
            .collect::<Vec<_>>()
            .join("、"),
        steps,
        photos: issue
            .photos
            .iter()
            .map(|p| Photo {
                sha: p.sha256.clone(),
                stage: match p.stage {
                    patrol_model::domain::PhotoStage::Before => "处置前",
                    patrol_model::domain::PhotoStage::After => "处置后",
                },
                taken: p.taken_at_ms.map(words::time).unwrap_or_default(),
            })
            .collect(),
        can_assign: allowed.contains(&IssueEventKind::Assign),
        can_return: allowed.contains(&IssueEventKind::Return),
        can_verify: allowed.contains(&IssueEventKind::Verify),
        can_reopen: allowed.contains(&IssueEventKind::Reopen),
        can_cancel: allowed.contains(&IssueEventKind::Cancel),
        notice: None,
        contact_phone: tx.public_report_of_issue(id)?.and_then(|r| r.contact_phone),
    })
}

/// `GET /office/issues/{id}`.
pub async fn page(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    ext: Extensions,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    if !crate::validate::valid_id(&id) {
        return super::error_page(&OfficeError::NotFound);
    }
    let storage = state.storage.clone();
    let now = state.now_ms();
    let address = ip_of(&ext).to_string();
    let built = run(move || {
        let reach = reach_of(storage.as_ref(), &session.user)?;
        let base = Base::new(&session, reach, "问题详情", "issues");
        let mut p = issue_page(storage.as_ref(), &session.user, base, &id, now)?;
        if p.contact_phone.is_some() {
            // Who read a resident's phone number, and when, is on the record.
            let mut tx = storage.write()?;
            audit::record(
                tx.as_mut(),
                now,
                Some(&session.user.user.id),
                "view.contact_phone",
                Some(&id),
                "",
                Some(&address),
            )?;
            tx.commit()?;
        }
        p.notice = q.done.filter(|d| d.len() < 40).map(|d| match d.as_str() {
            "assign" => "已派单。手机在下次同步时收到。".to_owned(),
            "comment" => "留言已添加。".to_owned(),
            _ => "操作已完成。手机在下次同步时收到。".to_owned(),
        });
        Ok(p)
    })
    .await;
    show(built)
}

#[derive(Debug, Default, Deserialize)]
pub struct ActForm {
    csrf: Option<String>,
    action: Option<String>,
    to: Option<String>,
    text: Option<String>,
}

fn action_of(f: &ActForm) -> OfficeResult<OfficeAction> {
    let text = f.text.clone().unwrap_or_default();
    Ok(match f.action.as_deref().unwrap_or("") {
        "assign" => {
            let to = f.to.as_deref().unwrap_or("").trim();
            let to = match to {
                "city_property" => Assignee::Department(Department::CityProperty),
                "enforcement" => Assignee::Department(Department::Enforcement),
                "owner" => Assignee::Department(Department::Owner),
                other => Assignee::User(
                    other
                        .parse::<UserId>()
                        .map_err(|_| OfficeError::Invalid("请选择派往的部门或人员".into()))?,
                ),
            };
            OfficeAction::Assign { to }
        }
        "return" => OfficeAction::Return { reason: text },
        "verify" => OfficeAction::Verify {
            note: Some(text).filter(|t| !t.trim().is_empty()),
        },
        "reopen" => OfficeAction::Reopen { reason: text },
        "cancel" => OfficeAction::Cancel { reason: text },
        "comment" => OfficeAction::Comment { text },
        _ => return Err(OfficeError::Invalid("未知的操作".into())),
    })
}

/// `POST /office/issues/{id}/act`.
pub async fn act(
    State(state): State<AppState>,
    ext: Extensions,
    PageSession(session): PageSession,
    Path(id): Path<String>,
    Form(f): Form<ActForm>,
) -> Response {
    if let Err(r) = check_csrf(&session, f.csrf.as_deref()) {
        return r;
    }
    if !crate::validate::valid_id(&id) {
        return super::error_page(&OfficeError::NotFound);
    }
    let (storage, policy) = (state.storage.clone(), state.policy.clone());
    let now = state.now_ms();
    let address = ip_of(&ext).to_string();
    let id2 = id.clone();
    let done = run(move || {
        let action = action_of(&f)?;
        crate::office::act::act(
            storage.as_ref(),
            policy.as_ref(),
            &session.user,
            &id2,
            &action,
            Some(&address),
            now,
        )?;
        Ok(f.action.unwrap_or_default())
    })
    .await;
    match done {
        Ok(what) => Redirect::to(&format!("/office/issues/{id}?done={what}")).into_response(),
        Err(r) => r,
    }
}

/// `GET /office/issues/{id}/photo/{sha}`: the thumbnail the document carries.
pub async fn photo(
    State(state): State<AppState>,
    DataSession(session): DataSession,
    Path((id, sha)): Path<(String, String)>,
) -> Response {
    if !crate::validate::valid_id(&id) || !patrol_model::photos::is_photo_id(&sha) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let storage = state.storage.clone();
    let found = run(move || {
        let mut tx = storage.read()?;
        check_visible(tx.as_mut(), &session.user, &id)?;
        let (_, issue, _) = load(tx.as_mut(), &id)?;
        issue
            .photo(&sha)
            .map(|p| p.thumbnail.clone())
            .filter(|t| !t.is_empty())
            .ok_or(OfficeError::NotFound)
    })
    .await;
    match found {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg")),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("private, max-age=3600"),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(r) => r,
    }
}
