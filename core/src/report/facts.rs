//! What reports read from the store, gathered once per report: the people (from the `user`
//! table that sync fills, plus anyone named in an assignment), the assignments resolved to
//! user ids, the patrols of a period with their headline figures, and each issue's outcome as
//! of the end of the period (from the timeline of applied events, so an issue verified after
//! the period ended is not verified in that period's report).

use std::collections::{BTreeMap, HashMap};

use rusqlite::params;
use serde::Serialize;

use crate::domain::{IssueEventKind, IssueStatus, PatrolId, Role, StreetId};
use crate::error::Result;
use crate::issues::Catalog;
use crate::report::period::Period;
use crate::store::Store;

/// A person as reports know them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Person {
    pub user_id: String,
    /// `None` for someone only named in an assignment and not (yet) synced to this device.
    pub name: Option<String>,
    pub role: Option<Role>,
    pub subdistrict: Option<String>,
}

/// Everyone this store knows, and assignments with their user resolved.
#[derive(Debug, Clone, Default)]
pub(crate) struct People {
    pub by_id: BTreeMap<String, Person>,
    /// (street, user id, role), with assignments made to a known user's name resolved to them.
    pub assignments: Vec<(StreetId, String, Role)>,
}

impl People {
    pub fn load(store: &Store) -> Result<Self> {
        let conn = store.connection();
        let mut by_id = BTreeMap::new();
        let mut by_name: HashMap<String, Vec<String>> = HashMap::new();
        let mut stmt = conn.prepare(
            "SELECT u.id, u.name, u.role, s.name FROM user u LEFT JOIN subdistrict s ON s.id = u.subdistrict_id ORDER BY u.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        for row in rows {
            let (id, name, role, subdistrict) = row?;
            by_name.entry(name.clone()).or_default().push(id.clone());
            by_id.insert(
                id.clone(),
                Person {
                    user_id: id,
                    name: Some(name),
                    role: role.parse().ok(),
                    subdistrict,
                },
            );
        }
        let mut assignments = Vec::new();
        for a in store.assignments()? {
            let user = match by_name.get(&a.user_id) {
                _ if by_id.contains_key(&a.user_id) => a.user_id.clone(),
                Some(ids) if ids.len() == 1 => ids[0].clone(),
                _ => a.user_id.clone(),
            };
            by_id.entry(user.clone()).or_insert_with(|| Person {
                user_id: user.clone(),
                name: None,
                role: Some(a.role),
                subdistrict: None,
            });
            assignments.push((a.street_id, user, a.role));
        }
        Ok(Self { by_id, assignments })
    }

    /// The user ids with `role`: from the user table, and anyone assigned a street in it.
    pub fn with_role(&self, role: Role) -> Vec<String> {
        let mut out: Vec<String> = self
            .by_id
            .values()
            .filter(|p| p.role == Some(role))
            .map(|p| p.user_id.clone())
            .collect();
        out.extend(
            self.assignments
                .iter()
                .filter(|a| a.2 == role)
                .map(|a| a.1.clone()),
        );
        out.sort();
        out.dedup();
        out
    }

    /// The streets a user answers for in `role`.
    pub fn streets_of(&self, user: &str, role: Role) -> Vec<StreetId> {
        self.assignments
            .iter()
            .filter(|a| a.1 == user && a.2 == role)
            .map(|a| a.0)
            .collect()
    }

    pub fn person(&self, user: &str) -> Person {
        self.by_id.get(user).cloned().unwrap_or_else(|| Person {
            user_id: user.into(),
            name: None,
            role: None,
            subdistrict: None,
        })
    }
}

/// A patrol of the period with its headline figures.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PatrolFacts {
    pub row: i64,
    pub id: PatrolId,
    pub user_id: String,
    pub stopped: bool,
    pub started_at_ms: i64,
    pub duration_s: f64,
    pub distance_m: f64,
    /// Imported from a GPS file where it began, not recorded in the app.
    pub imported: bool,
}

/// Patrols started in `[from_ms, to_ms)`, every source alike (recorded here, imported, or
/// synced from another device), oldest first; each says whether it was imported from a file.
pub(crate) fn patrols_between(store: &Store, from_ms: i64, to_ms: i64) -> Result<Vec<PatrolFacts>> {
    let mut stmt = store.connection().prepare_cached(
        "SELECT row_id, id, user_id, state, started_at_ms, summary_json, origin IS 'imported' FROM patrol
          WHERE started_at_ms >= ?1 AND started_at_ms < ?2 ORDER BY started_at_ms, row_id",
    )?;
    let rows = stmt.query_map(params![from_ms, to_ms], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, bool>(6)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (row, id, user_id, state, started_at_ms, summary, imported) = row?;
        let figures = summary
            .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
            .map(|v| {
                (
                    v["duration_s"].as_f64().unwrap_or(0.0),
                    v["distance_m"].as_f64().unwrap_or(0.0),
                )
            });
        let (duration_s, distance_m) = match figures {
            Some(f) => f,
            // Still recording (or synced without a summary): measure the fixes so far.
            None => {
                let stats = crate::track::compute_stats(
                    &store.config().track.metrics,
                    &store.fixes_of_row(row)?,
                );
                (stats.duration_s, stats.distance_m)
            }
        };
        out.push(PatrolFacts {
            row,
            id: id.parse()?,
            user_id,
            stopped: state == "stopped",
            started_at_ms,
            duration_s,
            distance_m,
            imported,
        });
    }
    Ok(out)
}

/// An issue reported in the period and where its loop stood at the period's end.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IssueOutcome {
    pub id: String,
    pub category: String,
    pub street_id: Option<String>,
    pub reporter_id: String,
    pub lat: f64,
    pub lon: f64,
    pub reported_at_ms: i64,
    /// When the first round was due (report + the category's due time).
    pub due_at_ms: i64,
    pub status_at_end: IssueStatus,
    pub assigned: bool,
    pub resolved: bool,
    /// Its first resolution came within its round's due time.
    pub resolved_on_time: bool,
    pub verified: bool,
    pub verified_at_ms: Option<i64>,
    /// Reopens by the end of the period.
    pub reopened: u32,
}

impl IssueOutcome {
    /// Duplicates and cancelled reports need no handling: they count nowhere.
    pub fn counts(&self) -> bool {
        !matches!(
            self.status_at_end,
            IssueStatus::Duplicate | IssueStatus::Cancelled
        )
    }

    pub fn hours_to_verify(&self) -> Option<f64> {
        self.verified_at_ms
            .map(|v| (v - self.reported_at_ms) as f64 / 3_600_000.0)
    }
}

/// Issues reported in the period, each as it stood at the period's end.
pub(crate) fn issue_outcomes(
    store: &Store,
    period: &Period,
    catalog: &Catalog,
) -> Result<Vec<IssueOutcome>> {
    crate::issues::projection::ensure_timelines(store.connection())?;
    let conn = store.connection();
    let mut events: HashMap<i64, Vec<(IssueEventKind, i64)>> = HashMap::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT t.doc_row, t.kind, t.at_ms FROM issue_timeline t JOIN issue i ON i.doc_row = t.doc_row
              WHERE i.reported_at_ms >= ?1 AND i.reported_at_ms < ?2 AND t.at_ms < ?2 ORDER BY t.doc_row, t.ord",
        )?;
        let rows = stmt.query_map(params![period.from_ms, period.to_ms], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        for row in rows {
            let (doc_row, kind, at) = row?;
            events.entry(doc_row).or_default().push((kind.parse()?, at));
        }
    }
    let mut stmt = conn.prepare_cached(
        "SELECT doc_row, id, category, street_id, reporter_id, lat, lon, reported_at_ms FROM issue
          WHERE reported_at_ms >= ?1 AND reported_at_ms < ?2 ORDER BY reported_at_ms, id",
    )?;
    let rows = stmt.query_map(params![period.from_ms, period.to_ms], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, f64>(5)?,
            r.get::<_, f64>(6)?,
            r.get::<_, i64>(7)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (doc_row, id, category, street_id, reporter_id, lat, lon, reported_at_ms) = row?;
        let due_ms = catalog.due_ms(&category);
        let mut o = IssueOutcome {
            id,
            category,
            street_id,
            reporter_id,
            lat,
            lon,
            reported_at_ms,
            due_at_ms: reported_at_ms.saturating_add(due_ms),
            status_at_end: IssueStatus::Reported,
            assigned: false,
            resolved: false,
            resolved_on_time: false,
            verified: false,
            verified_at_ms: None,
            reopened: 0,
        };
        let mut round_start = reported_at_ms;
        let mut assignees = 0i32;
        for &(kind, at) in events.get(&doc_row).map(Vec::as_slice).unwrap_or(&[]) {
            o.verified_at_ms = None;
            o.status_at_end = match kind {
                IssueEventKind::Report => {
                    round_start = at;
                    IssueStatus::Reported
                }
                IssueEventKind::Assign => {
                    o.assigned = true;
                    assignees = 1;
                    IssueStatus::Assigned
                }
                IssueEventKind::Return => {
                    assignees -= 1;
                    if assignees <= 0 {
                        IssueStatus::Returned
                    } else {
                        IssueStatus::Assigned
                    }
                }
                IssueEventKind::Accept => IssueStatus::InProgress,
                IssueEventKind::Resolve => {
                    if !o.resolved {
                        o.resolved_on_time = at <= round_start.saturating_add(due_ms);
                    }
                    o.resolved = true;
                    IssueStatus::Resolved
                }
                IssueEventKind::Verify => {
                    o.verified_at_ms = Some(at);
                    IssueStatus::Verified
                }
                IssueEventKind::Reopen => {
                    o.reopened += 1;
                    round_start = at;
                    IssueStatus::Reopened
                }
                IssueEventKind::DuplicateOf => IssueStatus::Duplicate,
                IssueEventKind::Cancel => IssueStatus::Cancelled,
            };
        }
        o.verified = o.status_at_end == IssueStatus::Verified;
        out.push(o);
    }
    Ok(out)
}

/// The median of some values (the mean of the middle two for an even count).
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}
