//! The overview page's figures for one user's reach and one period: per subdistrict, the
//! problems open and overdue now and those reported, resolved and verified in the period; the
//! patrols, their hours and the pickups of the period; the steward applications waiting; and an
//! eight-week trend of problems reported and resolved.

use std::collections::HashMap;

use patrol_model::report::period::{Period, week_start_ms};
use serde::Serialize;

use super::{OfficeResult, OfficeUser};
use crate::storage::{ApplicationStatus, IssueCounts, Storage, Tx};

const WEEK_MS: i64 = 7 * 24 * 60 * 60 * 1000;
/// Weeks in the trend chart.
pub const TREND_WEEKS: usize = 8;

/// One subdistrict's row.
#[derive(Debug, Clone, Serialize)]
pub struct SubdistrictRow {
    /// `None`: streets of no subdistrict.
    pub id: Option<String>,
    pub name: String,
    pub open: u64,
    pub overdue: u64,
    pub reported: u64,
    pub resolved: u64,
    pub verified: u64,
}

/// One week of the trend.
#[derive(Debug, Clone, Serialize)]
pub struct TrendWeek {
    pub week_start_ms: i64,
    pub reported: u64,
    pub resolved: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub period: String,
    pub from_ms: i64,
    pub to_ms: i64,
    pub now_ms: i64,
    pub subdistricts: Vec<SubdistrictRow>,
    pub total: SubdistrictRow,
    pub patrols: u64,
    pub patrol_hours: f64,
    pub pickups: u64,
    pub pickup_bags: u64,
    /// Steward applications waiting for a decision (district-wide: applications name a street,
    /// counted in the applicant's subdistrict for a subdistrict supervisor).
    pub applications_waiting: u64,
    pub trend: Vec<TrendWeek>,
}

/// The overview `user` sees for `period`, as of `now_ms`.
pub fn overview(
    storage: &dyn Storage,
    user: &OfficeUser,
    period: &Period,
    now_ms: i64,
) -> OfficeResult<Overview> {
    crate::issue_index::catch_up(storage)?;
    let mut tx = storage.read()?;
    let mine = user.subdistrict();
    let names: HashMap<String, String> = tx
        .subdistricts()?
        .into_iter()
        .map(|(id, name, _)| (id, name))
        .collect();
    let counts = tx.issue_counts(mine.as_deref(), period.from_ms, period.to_ms, now_ms)?;
    let subdistricts: Vec<SubdistrictRow> = counts.iter().map(|c| row(c, &names)).collect();
    let mut total = SubdistrictRow {
        id: None,
        name: "合计".into(),
        open: 0,
        overdue: 0,
        reported: 0,
        resolved: 0,
        verified: 0,
    };
    for r in &subdistricts {
        total.open += r.open;
        total.overdue += r.overdue;
        total.reported += r.reported;
        total.resolved += r.resolved;
        total.verified += r.verified;
    }
    let (patrols, patrol_hours) = patrols(tx.as_mut(), mine.as_deref(), period)?;
    let (pickups, pickup_bags) = tx.pickup_counts(mine.as_deref(), period.from_ms, period.to_ms)?;
    let applications_waiting = applications_waiting(tx.as_mut(), mine.as_deref())?;
    let trend = trend(tx.as_mut(), mine.as_deref(), now_ms)?;
    Ok(Overview {
        period: period.label.clone(),
        from_ms: period.from_ms,
        to_ms: period.to_ms,
        now_ms,
        subdistricts,
        total,
        patrols,
        patrol_hours,
        pickups,
        pickup_bags,
        applications_waiting,
        trend,
    })
}

fn row(c: &IssueCounts, names: &HashMap<String, String>) -> SubdistrictRow {
    SubdistrictRow {
        id: c.subdistrict_id.clone(),
        name: match &c.subdistrict_id {
            Some(id) => names.get(id).cloned().unwrap_or_else(|| id.clone()),
            None => "未划分街道".into(),
        },
        open: c.open,
        overdue: c.overdue,
        reported: c.reported,
        resolved: c.resolved,
        verified: c.verified,
    }
}

/// The subdistrict a patroller answers in ([`crate::people::subdistrict_of`]), once per user.
fn home_subdistrict(
    tx: &mut dyn Tx,
    cache: &mut HashMap<patrol_model::UserId, Option<String>>,
    user: &patrol_model::UserId,
) -> OfficeResult<Option<String>> {
    if let Some(s) = cache.get(user) {
        return Ok(s.clone());
    }
    let found = match tx.user(user)? {
        Some(record) => crate::people::subdistrict_of(tx, &record)?,
        None => None,
    };
    cache.insert(*user, found.clone());
    Ok(found)
}

/// Patrols started in the period (by patrollers of `subdistrict` when given) and their hours.
fn patrols(
    tx: &mut dyn Tx,
    subdistrict: Option<&str>,
    period: &Period,
) -> OfficeResult<(u64, f64)> {
    let mut cache = HashMap::new();
    let mut n = 0u64;
    let mut seconds = 0.0;
    for (user, count, secs) in tx.patrol_time_by_user(period.from_ms, period.to_ms)? {
        if let Some(want) = subdistrict
            && home_subdistrict(tx, &mut cache, &user)?.as_deref() != Some(want)
        {
            continue;
        }
        n += count;
        seconds += secs;
    }
    Ok((n, seconds / 3600.0))
}

fn applications_waiting(tx: &mut dyn Tx, subdistrict: Option<&str>) -> OfficeResult<u64> {
    let waiting = tx.steward_applications(Some(ApplicationStatus::Pending))?;
    let Some(want) = subdistrict else {
        return Ok(waiting.len() as u64);
    };
    let mut n = 0;
    for a in waiting {
        if tx.street_subdistrict(&a.street_id)?.flatten().as_deref() == Some(want) {
            n += 1;
        }
    }
    Ok(n)
}

/// The last [`TREND_WEEKS`] weeks (Monday to Monday, Beijing time), the current one last.
fn trend(tx: &mut dyn Tx, subdistrict: Option<&str>, now_ms: i64) -> OfficeResult<Vec<TrendWeek>> {
    let this_week = week_start_ms(now_ms);
    let mut out = Vec::with_capacity(TREND_WEEKS);
    for back in (0..TREND_WEEKS as i64).rev() {
        let from = this_week - back * WEEK_MS;
        let counts = tx.issue_counts(subdistrict, from, from + WEEK_MS, now_ms)?;
        out.push(TrendWeek {
            week_start_ms: from,
            reported: counts.iter().map(|c| c.reported).sum(),
            resolved: counts.iter().map(|c| c.resolved).sum(),
        });
    }
    Ok(out)
}
