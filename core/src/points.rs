//! Litter pickups and the points ledger.
//!
//! A pickup (捡拾垃圾) is an immutable record with a device-made UUIDv7 id: count of bags or
//! items, where, an optional photo. The ledger is append-only (the database refuses updates and
//! deletes): entries for pickups, for issues the user reported that end verified, for hours of
//! patrol, and redemptions (negative). The balance is the sum.
//!
//! Rules are data (`points_rule`), versioned: a new version applies from its `valid_from_ms`,
//! and every entry names the rule and version it was earned under, so changing a rule never
//! rewrites history. Each earning rule has a daily cap (Beijing calendar day) so nobody farms
//! points by logging a hundred single bottle caps; an entry past the cap is still written, with
//! 0 points and a note saying why, so the record of work stays whole. One entry per source
//! (pickup, issue, patrol) and kind: reopening and re-verifying an issue earns nothing twice.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::domain::{Datum, IssueStatus, PickupId, PointsEntryId, PointsKind, UserId};
pub use patrol_model::report::period::beijing_day;

pub use patrol_model::points::{
    MAX_PICKUP_COUNT, PointsEntry, PointsRule, default_points_rules, points_due,
};

use crate::error::{Error, Result};
use crate::geodesy::{check_coordinates, gcj02_to_wgs84};
use crate::store::DeviceIdentity;
use patrol_model::issues::IssueTransition;

/// What a steward logs.
#[derive(Debug, Clone)]
pub struct NewPickup {
    pub lat: f64,
    pub lon: f64,
    pub datum: Datum,
    pub bags: u32,
    pub items: u32,
    pub street_id: Option<String>,
    /// A photo already in the photo store (SHA-256).
    pub photo_sha256: Option<String>,
    pub note: Option<String>,
}

/// A logged pickup.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pickup {
    pub id: PickupId,
    pub user_id: UserId,
    pub at_ms: i64,
    pub lat: f64,
    pub lon: f64,
    pub bags: u32,
    pub items: u32,
    pub street_id: Option<String>,
    pub photo_sha256: Option<String>,
    pub note: Option<String>,
}

/// A user's points: the balance and the ledger behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PointsSummary {
    pub user_id: UserId,
    pub balance: i64,
    pub earned: i64,
    pub redeemed: i64,
    /// Newest first.
    pub entries: Vec<PointsEntry>,
}

/// A pickup and what it earned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PickupOutcome {
    pub pickup: Pickup,
    pub points: PointsEntry,
}

/// A new pickup's location in WGS-84 and its counts, checked.
pub(crate) fn check_pickup(new: &NewPickup) -> Result<(f64, f64)> {
    let (lat, lon) = match new.datum {
        Datum::Wgs84 => (new.lat, new.lon),
        Datum::Gcj02 => gcj02_to_wgs84(new.lat, new.lon),
    };
    check_coordinates(lat, lon)
        .map_err(|why| Error::InvalidInput(format!("pickup location ({lat}, {lon}) {why}")))?;
    if new.bags == 0 && new.items == 0 {
        return Err(Error::InvalidInput(
            "a pickup needs a count: --bags N or --items N (at least one)".into(),
        ));
    }
    if new.bags > MAX_PICKUP_COUNT || new.items > MAX_PICKUP_COUNT {
        return Err(Error::InvalidInput(format!(
            "a pickup may count at most {MAX_PICKUP_COUNT} bags or items"
        )));
    }
    Ok((lat, lon))
}

/// Stores a pickup logged by `me` and credits its points.
pub(crate) fn insert_pickup(
    tx: &Transaction<'_>,
    me: &DeviceIdentity,
    pickup: Pickup,
) -> Result<PickupOutcome> {
    let now = pickup.at_ms;
    tx.execute(
        "INSERT INTO litter_pickup (id, user_id, device_id, at_ms, lat, lon, bags, items, street_id, photo_sha256, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            pickup.id.to_string(),
            me.user_id.to_string(),
            me.device_id.to_string(),
            now,
            pickup.lat,
            pickup.lon,
            pickup.bags,
            pickup.items,
            pickup.street_id,
            pickup.photo_sha256,
            pickup.note
        ],
    )?;
    let rule = active_rule(tx, PointsKind::Pickup, now)?;
    let earned = points_due(&rule, pickup.bags, 0.0);
    let points = award(tx, &me.user_id, &rule, &pickup.id.to_string(), earned, now)?
        .ok_or_else(|| Error::InvalidInput("this pickup was already credited".into()))?;
    Ok(PickupOutcome { pickup, points })
}

/// `user`'s pickups, newest first.
pub(crate) fn pickups(conn: &Connection, user: &UserId, limit: u32) -> Result<Vec<Pickup>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, user_id, at_ms, lat, lon, bags, items, street_id, photo_sha256, note FROM litter_pickup
          WHERE user_id = ?1 ORDER BY at_ms DESC, id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![user.to_string(), limit], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            Pickup {
                id: PickupId::default(),
                user_id: UserId::default(),
                at_ms: r.get(2)?,
                lat: r.get(3)?,
                lon: r.get(4)?,
                bags: r.get(5)?,
                items: r.get(6)?,
                street_id: r.get(7)?,
                photo_sha256: r.get(8)?,
                note: r.get(9)?,
            },
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, user, mut p) = row?;
        p.id = id.parse()?;
        p.user_id = user.parse()?;
        out.push(p);
    }
    Ok(out)
}

/// Credits hours of `user`'s stopped patrols recorded in the app (not imported from a file:
/// the district rewards the recorded record of duty, and the server accepts no other) not
/// credited yet; returns the new entries.
pub(crate) fn settle_patrol_points(
    tx: &Transaction<'_>,
    user: &UserId,
) -> Result<Vec<PointsEntry>> {
    let patrols: Vec<(String, i64, Option<String>)> = {
        let mut stmt = tx.prepare(
            "SELECT p.id, p.started_at_ms, p.summary_json FROM patrol p
              WHERE p.user_id = ?1 AND p.state = 'stopped' AND p.source = 'recorded'
                AND NOT EXISTS (SELECT 1 FROM points_entry e
                                 WHERE e.user_id = ?1 AND e.kind = 'patrol_hour' AND e.source_id = p.id)
              ORDER BY p.started_at_ms",
        )?;
        stmt.query_map([user.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?
    };
    let mut out = Vec::new();
    for (id, started, summary) in patrols {
        let duration_s = summary
            .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
            .and_then(|v| v.get("duration_s").and_then(|d| d.as_f64()))
            .unwrap_or(0.0);
        let rule = active_rule(tx, PointsKind::PatrolHour, started)?;
        let earned = points_due(&rule, 0, duration_s);
        if let Some(e) = award(tx, user, &rule, &id, earned, started)? {
            out.push(e);
        }
    }
    Ok(out)
}

/// `user`'s balance and the ledger behind it.
pub(crate) fn summary(conn: &Connection, user: &UserId) -> Result<PointsSummary> {
    let entries = ledger(conn, user)?;
    let earned = entries
        .iter()
        .filter(|e| e.points > 0)
        .map(|e| e.points)
        .sum();
    let redeemed = -entries
        .iter()
        .filter(|e| e.points < 0)
        .map(|e| e.points)
        .sum::<i64>();
    Ok(PointsSummary {
        user_id: *user,
        balance: earned - redeemed,
        earned,
        redeemed,
        entries,
    })
}

/// Spends `points` of `user`'s balance on `reward`; refused when the balance is too small.
pub(crate) fn redeem(
    tx: &Transaction<'_>,
    user: &UserId,
    points: i64,
    reward: &str,
    now_ms: i64,
) -> Result<PointsEntry> {
    let balance: i64 = tx.query_row(
        "SELECT COALESCE(SUM(points), 0) FROM points_entry WHERE user_id = ?1",
        [user.to_string()],
        |r| r.get(0),
    )?;
    if balance < points {
        return Err(Error::InvalidInput(format!(
            "cannot redeem {points} points: the balance is {balance}"
        )));
    }
    let rule = active_rule(tx, PointsKind::Redemption, now_ms)?;
    let id = PointsEntryId::new();
    insert_entry(
        tx,
        id,
        user,
        &rule,
        &id.to_string(),
        -points,
        now_ms,
        Some(reward.to_owned()),
    )
}

/// Every version of every points rule.
pub(crate) fn points_rules(conn: &Connection) -> Result<Vec<PointsRule>> {
    let mut stmt = conn.prepare_cached(&format!("{SELECT_RULE} ORDER BY kind, version"))?;
    let rows = stmt
        .query_map([], read_rule)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(|r| r.finish()).collect()
}

/// Adds the next version of `rule` (its `version` is ignored) and returns it as stored.
pub(crate) fn insert_rule_version(tx: &Transaction<'_>, rule: PointsRule) -> Result<PointsRule> {
    let version: i64 = tx.query_row(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM points_rule WHERE id = ?1",
        [rule.kind.as_str()],
        |r| r.get(0),
    )?;
    tx.execute(
        "INSERT INTO points_rule (id, version, kind, points, per_bag, daily_cap, valid_from_ms, description)
         VALUES (?1, ?2, ?1, ?3, ?4, ?5, ?6, ?7)",
        params![rule.kind.as_str(), version, rule.points, rule.per_bag, rule.daily_cap, rule.valid_from_ms, rule.description],
    )?;
    Ok(PointsRule { version, ..rule })
}

/// Credits the reporter of an issue that a transition left verified, when that reporter is this
/// device's user; called in the transaction that wrote the transition. Crediting twice is a
/// no-op (one entry per issue).
pub(crate) fn credit_issue_transition(
    conn: &Connection,
    me: &DeviceIdentity,
    transition: &IssueTransition,
) -> Result<()> {
    if !transition.ends(IssueStatus::Verified) || transition.reporter != me.user_id {
        return Ok(());
    }
    let now_ms = transition.at_ms;
    let rule = active_rule(conn, PointsKind::VerifiedIssue, now_ms)?;
    award(
        conn,
        &me.user_id,
        &rule,
        &transition.issue_id.to_string(),
        rule.points,
        now_ms,
    )?;
    Ok(())
}

/// Writes an earning entry, capped by the rule's daily cap; `None` if this source was credited
/// before.
fn award(
    conn: &Connection,
    user: &UserId,
    rule: &PointsRule,
    source: &str,
    earned: i64,
    at_ms: i64,
) -> Result<Option<PointsEntry>> {
    let exists: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM points_entry WHERE user_id = ?1 AND kind = ?2 AND source_id = ?3)",
        params![user.to_string(), rule.kind.as_str(), source],
        |r| r.get(0),
    )?;
    if exists {
        return Ok(None);
    }
    let day = beijing_day(at_ms);
    let (points, note) = match rule.daily_cap {
        None => (earned, None),
        Some(cap) => {
            let today: i64 = conn.query_row(
                "SELECT COALESCE(SUM(points), 0) FROM points_entry WHERE user_id = ?1 AND day = ?2 AND kind = ?3",
                params![user.to_string(), day, rule.kind.as_str()],
                |r| r.get(0),
            )?;
            let room = (cap - today).max(0);
            if earned > room {
                (
                    room,
                    Some(format!(
                        "daily cap of {cap} points for {} reached; {earned} earned, {room} credited",
                        rule.kind
                    )),
                )
            } else {
                (earned, None)
            }
        }
    };
    insert_entry(
        conn,
        PointsEntryId::new(),
        user,
        rule,
        source,
        points,
        at_ms,
        note,
    )
    .map(Some)
}

#[allow(
    clippy::too_many_arguments,
    reason = "each argument is one input of the computation; a struct would only rename them"
)]
fn insert_entry(
    conn: &Connection,
    id: PointsEntryId,
    user: &UserId,
    rule: &PointsRule,
    source: &str,
    points: i64,
    at_ms: i64,
    note: Option<String>,
) -> Result<PointsEntry> {
    let day = beijing_day(at_ms);
    conn.execute(
        "INSERT INTO points_entry (id, user_id, at_ms, day, kind, source_id, rule_id, rule_version, points, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![id.to_string(), user.to_string(), at_ms, day, rule.kind.as_str(), source, rule.id, rule.version, points, note],
    )?;
    Ok(PointsEntry {
        id,
        user_id: *user,
        at_ms,
        day,
        kind: rule.kind,
        source_id: source.to_owned(),
        rule_id: rule.id.clone(),
        rule_version: rule.version,
        points,
        note,
    })
}

/// A user's ledger as it counts: entries the server refused (a claim that did not follow from
/// the rules, a redemption past the balance it holds) are shown by `rejected_items`, not counted.
fn ledger(conn: &Connection, user: &UserId) -> Result<Vec<PointsEntry>> {
    query_entries(
        conn,
        "WHERE user_id = ?1
           AND NOT EXISTS (SELECT 1 FROM sync_rejected x WHERE x.kind = 'points' AND x.id = points_entry.id)
         ORDER BY at_ms DESC, id DESC",
        [user.to_string()],
    )
}

/// Ledger entries selected by `tail` (a WHERE and ORDER BY over `points_entry`).
pub(crate) fn query_entries<P: rusqlite::Params>(
    conn: &Connection,
    tail: &str,
    p: P,
) -> Result<Vec<PointsEntry>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, user_id, at_ms, day, kind, source_id, rule_id, rule_version, points, note FROM points_entry {tail}"
    ))?;
    // Ids are parsed after the row is read; building the entry inside the closure would need
    // placeholder ids, and a default id is a fresh UUIDv7 (a getrandom call per row).
    let rows = stmt.query_map(p, |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(4)?,
            (
                r.get(2)?,
                r.get(3)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
            ),
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, user, kind, (at_ms, day, source_id, rule_id, rule_version, points, note)) = row?;
        out.push(PointsEntry {
            id: id.parse()?,
            user_id: user.parse()?,
            at_ms,
            day,
            kind: kind.parse()?,
            source_id,
            rule_id,
            rule_version,
            points,
            note,
        });
    }
    Ok(out)
}

const SELECT_RULE: &str = "SELECT id, version, kind, points, per_bag, daily_cap, valid_from_ms, description FROM points_rule";

struct RawRule(PointsRule, String);

impl RawRule {
    fn finish(self) -> Result<PointsRule> {
        Ok(PointsRule {
            kind: self.1.parse()?,
            ..self.0
        })
    }
}

fn read_rule(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRule> {
    Ok(RawRule(
        PointsRule {
            id: r.get(0)?,
            version: r.get(1)?,
            kind: PointsKind::Pickup,
            points: r.get(3)?,
            per_bag: r.get(4)?,
            daily_cap: r.get(5)?,
            valid_from_ms: r.get(6)?,
            description: r.get(7)?,
        },
        r.get(2)?,
    ))
}

/// The rule for `kind` in force at `at_ms`: the latest version valid from then or before.
fn active_rule(conn: &Connection, kind: PointsKind, at_ms: i64) -> Result<PointsRule> {
    conn.prepare_cached(&format!(
        "{SELECT_RULE} WHERE kind = ?1 AND valid_from_ms <= ?2 ORDER BY valid_from_ms DESC, version DESC LIMIT 1"
    ))?
    .query_row(params![kind.as_str(), at_ms], read_rule)
    .optional()?
    .ok_or_else(|| Error::InvalidConfig(format!("no points rule for {kind} in force")))?
    .finish()
}
