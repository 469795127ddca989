//! What reports read from a phone's store, gathered once per report as the model's plain facts
//! ([`patrol_model::report::facts`]): the people (from the `user` table that sync fills, plus
//! anyone named in an assignment), the assignments, the patrols of a period with their headline
//! figures, each issue's outcome as of the end of the period (from the timeline of applied
//! events), ledger rows and pickups. Functions over a connection; the reports themselves are
//! computed in the model, so the server computes the same ones from its own storage.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{Connection, params};

use crate::coverage::PatrolKey;
use crate::domain::IssueEventKind;
use crate::error::Result;
use crate::issues::Catalog;
use crate::report::merchants::MerchantIssue;
use crate::report::period::Period;
use crate::track::MetricsConfig;
use patrol_model::report::facts::{
    Assignment, IssueOutcome, PatrolFacts, People, Person, PickupFacts, PointsEntry, ReportedIssue,
};

/// Everyone in the `user` table, by id.
pub(crate) fn load_users(conn: &Connection) -> Result<Vec<Person>> {
    let mut stmt = conn.prepare_cached(
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
    let mut out = Vec::new();
    for row in rows {
        let (user_id, name, role, subdistrict) = row?;
        out.push(Person {
            user_id,
            name: Some(name),
            // A role this build does not know (a newer server's) leaves the person role-less.
            role: role.parse().ok(),
            subdistrict,
        });
    }
    Ok(out)
}

/// Every street assignment, in the order the store lists them (street, role, user).
pub(crate) fn load_assignments(conn: &Connection) -> Result<Vec<Assignment>> {
    let mut stmt = conn.prepare_cached(
        "SELECT street_id, user_id, role FROM street_assignment ORDER BY street_id, role, user_id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (street, user_id, role) = row?;
        out.push(Assignment {
            street_id: street.parse()?,
            user_id,
            role: role.parse()?,
        });
    }
    Ok(out)
}

/// The people and assignments, with assignments to a known user's name resolved to them.
pub(crate) fn load_people(conn: &Connection) -> Result<People> {
    Ok(People::new(load_users(conn)?, load_assignments(conn)?))
}

/// Patrols started in `[from_ms, to_ms)`, every source alike (recorded here, imported, or
/// synced from another device), oldest first, each with the key its coverage is cached under
/// and no coverage yet. One still recording (or synced without a summary) is measured from its
/// fixes so far, by `metrics`.
pub(crate) fn patrols_between(
    conn: &Connection,
    metrics: &MetricsConfig,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<(PatrolKey, PatrolFacts)>> {
    let mut stmt = conn.prepare_cached(
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
            None => {
                let stats =
                    crate::track::compute_stats(metrics, &crate::patrol::load_fixes(conn, row)?);
                (stats.duration_s, stats.distance_m)
            }
        };
        let key = PatrolKey {
            row,
            stopped: state == "stopped",
        };
        out.push((
            key,
            PatrolFacts {
                id: id.parse()?,
                user_id,
                started_at_ms,
                duration_s,
                distance_m,
                imported,
                coverage: None,
            },
        ));
    }
    Ok(out)
}

/// Issues reported in the period, each as it stood at the period's end (the model folds the
/// timeline of applied events; `catalog` gives each category's due time).
pub(crate) fn issue_outcomes(
    conn: &Connection,
    period: &Period,
    catalog: &Catalog,
) -> Result<Vec<IssueOutcome>> {
    crate::issues::projection::ensure_timelines(conn)?;
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
            ReportedIssue {
                id: r.get(1)?,
                category: r.get(2)?,
                street_id: r.get(3)?,
                reporter_id: r.get(4)?,
                lat: r.get(5)?,
                lon: r.get(6)?,
                reported_at_ms: r.get(7)?,
            },
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (doc_row, issue) = row?;
        let due_ms = catalog.due_ms(&issue.category);
        let seen = events.get(&doc_row).map(Vec::as_slice).unwrap_or(&[]);
        out.push(IssueOutcome::as_of(issue, due_ms, seen, period.to_ms));
    }
    Ok(out)
}

/// Each user's points balance at `to_ms` (entries before it).
pub(crate) fn balances_at(conn: &Connection, to_ms: i64) -> Result<BTreeMap<String, i64>> {
    let mut out = BTreeMap::new();
    for row in conn
        .prepare_cached(
            "SELECT user_id, SUM(points) FROM points_entry WHERE at_ms < ?1 GROUP BY user_id",
        )?
        .query_map([to_ms], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?
    {
        let (user, points) = row?;
        out.insert(user, points);
    }
    Ok(out)
}

/// Ledger entries of the period, by user, then time.
pub(crate) fn ledger_between(conn: &Connection, period: &Period) -> Result<Vec<PointsEntry>> {
    crate::points::query_entries(
        conn,
        "WHERE at_ms >= ?1 AND at_ms < ?2 ORDER BY user_id, at_ms, id",
        params![period.from_ms, period.to_ms],
    )
}

/// Pickups logged in the period, with the street each names as written (an id, a name, or
/// none); the caller resolves names to ids where the store can.
pub(crate) fn pickups_between(conn: &Connection, period: &Period) -> Result<Vec<PickupFacts>> {
    let mut stmt = conn.prepare_cached(
        "SELECT user_id, lat, lon, bags, items, street_id FROM litter_pickup WHERE at_ms >= ?1 AND at_ms < ?2",
    )?;
    let rows = stmt.query_map(params![period.from_ms, period.to_ms], |r| {
        Ok(PickupFacts {
            user_id: r.get(0)?,
            lat: r.get(1)?,
            lon: r.get(2)?,
            bags: r.get(3)?,
            items: r.get(4)?,
            street_id: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Issues reported before `to_ms`, duplicates and cancelled reports aside: those a merchant
/// may answer for, oldest first.
pub(crate) fn merchant_issues_before(conn: &Connection, to_ms: i64) -> Result<Vec<MerchantIssue>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, category, lat, lon, reported_at_ms FROM issue
          WHERE reported_at_ms < ?1 AND status NOT IN ('duplicate', 'cancelled') ORDER BY reported_at_ms, id",
    )?;
    let rows = stmt.query_map(params![to_ms], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, f64>(2)?,
            r.get::<_, f64>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, category, lat, lon, reported_at_ms) = row?;
        out.push(MerchantIssue {
            id: id.parse()?,
            category,
            lat,
            lon,
            reported_at_ms,
        });
    }
    Ok(out)
}
