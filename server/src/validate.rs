//! What the server checks of every patrol header, record and fix batch a device uploads, before
//! it is stored or fed to anyone: types, ranges, lengths and known keys, and the facts an item
//! names (streets, signboards, pickups, issues, patrols) against what the server holds. Figures
//! the server can compute it computes: a patrol's summary from its fixes, the points a fact
//! earns from the rules. Documents are checked by [`crate::policy`].
//!
//! Everything here is a pure check over a storage transaction: it refuses with a [`Refusal`]
//! naming the item, the field and the rule, and writes nothing.

use patrol_model::domain::StoredFix;
use patrol_model::geodesy::{check_coordinates, haversine_distance_m};
use patrol_model::points::{PointsRule, default_points_rules, points_due};
use patrol_model::reference::SignboardRow;
use patrol_model::report::period::beijing_day;
use patrol_model::signboard::CheckIn;
use patrol_model::text::{MAX_NAME_CHARS, check_name, check_text};
use patrol_model::wire::{LedgerRecord, PatrolRecord, Scope};
use patrol_model::{DeviceId, PatrolState, PointsKind, Role, UserId};
use serde::Deserialize;

use crate::policy::{DeviceCtx, Refusal};
use crate::storage::{PointsLedgerRow, PointsStatus, StorageError, Tx};

/// Earliest time an item may carry: 2000-01-01 (a phone with a reset clock says 1970).
pub const EARLIEST_MS: i64 = 946_684_800_000;
/// How far past the server's clock an item's time may be (phones' clocks run fast).
pub const FUTURE_SLACK_MS: i64 = 24 * 3_600_000;
/// Most planned streets of one patrol.
pub const MAX_PLANNED_STREETS: usize = 100;
/// Most check-ins of one patrol.
pub const MAX_CHECK_INS: usize = 1_000;
/// Highest fix seq: about 115 days of one fix a second; keeps seq arithmetic far from overflow.
pub const MAX_FIX_SEQ: i64 = 10_000_000;
/// Longest note on a pickup or points entry.
pub const MAX_NOTE_BYTES: usize = 1_000;
/// How long after the work its points may be claimed: a month's assessment and a few days of a
/// phone offline. Older claims would let a device fill every past day's cap at once.
pub const MAX_CLAIM_AGE_MS: i64 = 31 * 86_400_000;
/// Most points one redemption spends.
pub const MAX_REDEMPTION_POINTS: i64 = 100_000;
/// Most versions of one points rule looked through.
pub const MAX_RULE_VERSIONS: i64 = 1_000;
/// Longest provider name of a fix (`gps`, `fused`, `network`...).
pub const MAX_PROVIDER_BYTES: usize = 32;

/// A check failed for a reason of storage, not of the item.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

pub type CheckResult<T> = Result<T, CheckError>;

fn invalid(msg: String) -> CheckError {
    CheckError::Refused(Refusal::Invalid(msg))
}

fn not_allowed(msg: String) -> CheckError {
    CheckError::Refused(Refusal::NotAllowed(msg))
}

/// A time an item may carry, given the server's clock.
fn check_time(what: &str, at_ms: i64, now_ms: i64) -> CheckResult<()> {
    if (EARLIEST_MS..=now_ms.saturating_add(FUTURE_SLACK_MS)).contains(&at_ms) {
        Ok(())
    } else {
        Err(invalid(format!(
            "{what}: time {at_ms} ms is before 2000 or more than a day ahead of the server's clock"
        )))
    }
}

fn check_position(what: &str, lat: f64, lon: f64) -> CheckResult<()> {
    check_coordinates(lat, lon).map_err(|why| invalid(format!("{what}: ({lat}, {lon}) {why}")))
}

/// An id of a document, record or street: 1 to 64 ASCII letters, digits, `-` and `_` (ids are
/// also keys and file names, so nothing else may pass).
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn check_id(what: &str, id: &str) -> CheckResult<()> {
    if valid_id(id) {
        Ok(())
    } else {
        Err(invalid(format!("{what}: {id:?} is not a valid id")))
    }
}

/// Whether a street the server knows lies where this device works: a chief's or steward's own
/// streets, a supervisor's or department's scope. Naming another scope's street would carry the
/// item into that scope's feeds.
pub fn street_in_reach(tx: &mut dyn Tx, ctx: &DeviceCtx, street: &str) -> CheckResult<bool> {
    let Some(subdistrict) = tx.street_subdistrict(street)? else {
        return Ok(false);
    };
    if ctx.streets.contains(street) {
        return Ok(true);
    }
    Ok(match (ctx.user.role, &ctx.user.scope) {
        (Role::Chief | Role::Steward | Role::Public, _) => false,
        (_, Scope::District) => true,
        (_, Scope::Subdistrict(sub)) => subdistrict.as_deref() == Some(sub.to_string().as_str()),
        (_, Scope::Street(s)) => s == street,
        // A department works wherever it is sent; a supervisor of nothing in particular, nowhere.
        (Role::Crew | Role::Enforcement, Scope::Own) => true,
        (Role::Supervisor, Scope::Own) => false,
    })
}

/// Refuses a street that is unknown to the server or out of this device's reach.
fn check_street(tx: &mut dyn Tx, ctx: &DeviceCtx, what: &str, street: &str) -> CheckResult<()> {
    check_id(what, street)?;
    if tx.street_subdistrict(street)?.is_none() {
        return Err(invalid(format!(
            "{what}: street {street:?} is not one of the district's streets (use a street id from the network the server sent)"
        )));
    }
    if !street_in_reach(tx, ctx, street)? {
        return Err(not_allowed(format!(
            "{what}: street {street} is outside what this {} answers for",
            ctx.user.role
        )));
    }
    Ok(())
}

// ---- Patrols -------------------------------------------------------------------------------

/// The header as the server keeps it: checked, with the summary replaced by what the server
/// computes from the fixes it holds (none until it holds every fix the device counted).
pub fn check_patrol(
    tx: &mut dyn Tx,
    ctx: &DeviceCtx,
    p: &PatrolRecord,
    existing: Option<&PatrolRecord>,
    now_ms: i64,
) -> CheckResult<PatrolRecord> {
    let what = format!("patrol {}", p.id);
    check_patrol_fields(&what, p)?;
    // A patrol moves forward: its start never changes, and once stopped it stays stopped when it
    // stopped (its hours may have been credited).
    if let Some(old) = existing
        && (old.started_at_ms != p.started_at_ms
            || old.source != p.source
            || (old.state == PatrolState::Stopped
                && (p.state != PatrolState::Stopped || p.stopped_at_ms != old.stopped_at_ms)))
    {
        return Err(not_allowed(format!(
            "{what}: a patrol's start, source and stop are fixed once the server holds them"
        )));
    }
    check_time(&format!("{what}: start"), p.started_at_ms, now_ms)?;
    match (p.state, p.stopped_at_ms) {
        (PatrolState::Stopped, None) => {
            return Err(invalid(format!("{what}: stopped, but without a stop time")));
        }
        (_, Some(stop)) => {
            check_time(&format!("{what}: stop"), stop, now_ms)?;
            if stop < p.started_at_ms {
                return Err(invalid(format!("{what}: stops before it starts")));
            }
        }
        _ => {}
    }
    for street in &p.planned_streets {
        check_street(tx, ctx, &format!("{what}: planned street"), street)?;
    }
    for (i, c) in p.check_ins.iter().enumerate() {
        check_check_in(tx, ctx, p, i, c, now_ms)?;
    }
    let summary = match claimed_fixes(p) {
        Some(claimed) if p.state == PatrolState::Stopped => {
            let id = p.id.to_string();
            if tx.fix_mark(&id)? >= claimed {
                Some(summary_from_fixes(&tx.fixes(&id, 0, usize::MAX)?))
            } else {
                None
            }
        }
        _ => None,
    };
    Ok(PatrolRecord {
        summary,
        ..p.clone()
    })
}

/// What a patrol header must hold whoever sent it: its source, a clean name, bounded lists.
fn check_patrol_fields(what: &str, p: &PatrolRecord) -> CheckResult<()> {
    if !matches!(p.source.as_str(), "recorded" | "imported") {
        return Err(invalid(format!(
            "{what}: source {:?} is neither recorded nor imported",
            p.source
        )));
    }
    if let Some(name) = &p.name {
        check_name(&format!("{what}: the name"), name, MAX_NAME_CHARS)
            .map_err(|e| invalid(e.to_string()))?;
    }
    if p.planned_streets.len() > MAX_PLANNED_STREETS || p.check_ins.len() > MAX_CHECK_INS {
        return Err(invalid(format!(
            "{what}: {} planned streets and {} check-ins; at most {MAX_PLANNED_STREETS} and {MAX_CHECK_INS}",
            p.planned_streets.len(),
            p.check_ins.len()
        )));
    }
    Ok(())
}

/// How many fixes the device says the patrol has (its summary's `fixes_read`).
pub fn claimed_fixes(p: &PatrolRecord) -> Option<i64> {
    p.summary
        .as_ref()?
        .get("fixes_read")?
        .as_i64()
        .filter(|n| (0..=MAX_FIX_SEQ).contains(n))
}

/// A patrol's summary computed from its fixes, as the phones compute it when they stop.
pub fn summary_from_fixes(fixes: &[StoredFix]) -> serde_json::Value {
    let stats =
        patrol_model::track::compute_stats(&patrol_model::track::MetricsConfig::default(), fixes);
    serde_json::to_value(stats).unwrap_or(serde_json::Value::Null)
}

/// A check-in: typed, made by this user during this patrol, at a signboard the server issued
/// on the street it names, at the distance it claims.
fn check_check_in(
    tx: &mut dyn Tx,
    ctx: &DeviceCtx,
    p: &PatrolRecord,
    i: usize,
    value: &serde_json::Value,
    now_ms: i64,
) -> CheckResult<()> {
    let what = format!("patrol {}: check-in {i}", p.id);
    let c: CheckIn = serde_json::from_value(value.clone())
        .map_err(|e| invalid(format!("{what} is not a check-in: {e}")))?;
    let back = serde_json::to_value(&c).map_err(|e| invalid(format!("{what}: {e}")))?;
    if &back != value {
        return Err(invalid(format!(
            "{what} holds fields a check-in does not have"
        )));
    }
    if c.patrol_id != p.id {
        return Err(invalid(format!(
            "{what} names another patrol ({})",
            c.patrol_id
        )));
    }
    if c.user_id != ctx.user.id.to_string() {
        return Err(not_allowed(format!("{what} is signed by another user")));
    }
    check_time(&what, c.at_ms, now_ms)?;
    let end = p.stopped_at_ms.unwrap_or(now_ms).saturating_add(60_000);
    if c.at_ms < p.started_at_ms.saturating_sub(60_000) || c.at_ms > end {
        return Err(invalid(format!(
            "{what} was made outside the patrol's time"
        )));
    }
    let Some((body, false)) = tx.reference("signboard", &c.signboard_id.to_string())? else {
        return Err(invalid(format!(
            "{what}: signboard {} is not one the district issued",
            c.signboard_id
        )));
    };
    let sign: SignboardRow = serde_json::from_value(body)
        .map_err(|e| CheckError::Storage(StorageError::Corrupt(format!("signboard row: {e}"))))?;
    if sign.street_id != c.street_id.to_string() {
        return Err(invalid(format!(
            "{what}: signboard {} stands on another street",
            c.signboard_id
        )));
    }
    if let Some(seq) = c.fix_seq
        && !(0..=MAX_FIX_SEQ).contains(&seq)
    {
        return Err(invalid(format!("{what}: fix seq {seq} is out of range")));
    }
    if let Some(acc) = c.accuracy_m
        && !(acc.is_finite() && acc >= 0.0)
    {
        return Err(invalid(format!("{what}: accuracy {acc} is not a distance")));
    }
    match (c.lat, c.lon) {
        (Some(lat), Some(lon)) => {
            check_position(&what, lat, lon)?;
            let actual = match (sign.lat, sign.lon) {
                (Some(slat), Some(slon)) => Some(haversine_distance_m(lat, lon, slat, slon)),
                _ => None,
            };
            let claimed = c.distance_to_signboard_m;
            let agrees = match (actual, claimed) {
                (Some(a), Some(d)) => d.is_finite() && (a - d).abs() <= 1.0,
                (None, None) => true,
                _ => false,
            };
            if !agrees {
                return Err(invalid(format!(
                    "{what}: the distance to the signboard is not the distance between the two positions"
                )));
            }
        }
        (None, None) if c.distance_to_signboard_m.is_none() => {}
        _ => {
            return Err(invalid(format!(
                "{what}: a position needs both latitude and longitude, and a distance needs a position"
            )));
        }
    }
    Ok(())
}

// ---- Fixes ---------------------------------------------------------------------------------

/// A fix batch: seqs rising, within range and starting no later than the server's mark (no
/// gap), every number finite, coordinates on the globe (the raw fix may lie off the street,
/// not off the planet), times from 2000 to a day past the server's clock, providers short.
pub fn check_fixes(patrol: &str, fixes: &[StoredFix], mark: i64, now_ms: i64) -> CheckResult<()> {
    let what = format!("patrol {patrol}: fix batch");
    let Some(first) = fixes.first() else {
        return Ok(());
    };
    if first.seq > mark {
        return Err(invalid(format!(
            "{what} starts at seq {} but the server holds fixes up to {mark}; send from there",
            first.seq
        )));
    }
    let mut prev: Option<i64> = None;
    for f in fixes {
        let at = format!("{what}: fix {}", f.seq);
        if !(0..=MAX_FIX_SEQ).contains(&f.seq) {
            return Err(invalid(format!(
                "{what}: seq {} is outside 0 to {MAX_FIX_SEQ}",
                f.seq
            )));
        }
        if prev.is_some_and(|p| f.seq <= p) {
            return Err(invalid(format!("{what}: seqs must rise (fix {})", f.seq)));
        }
        prev = Some(f.seq);
        if !(0..=MAX_FIX_SEQ).contains(&f.segment) {
            return Err(invalid(format!(
                "{at}: segment {} is out of range",
                f.segment
            )));
        }
        if !(f.lat.is_finite() && f.lon.is_finite() && f.lat.abs() <= 90.0 && f.lon.abs() <= 180.0)
        {
            return Err(invalid(format!(
                "{at}: ({}, {}) is not a position",
                f.lat, f.lon
            )));
        }
        for (name, v) in [
            ("accuracy", f.accuracy_m),
            ("altitude", f.altitude_m),
            ("speed", f.speed_mps),
            ("bearing", f.bearing_deg),
        ] {
            if v.is_some_and(|v| !v.is_finite()) {
                return Err(invalid(format!("{at}: {name} is not a number")));
            }
        }
        // A fix's time says how long a patrol lasted (and so its points): from 2000 to the
        // server's clock and a day.
        if let Some(t) = f.time_ms {
            check_time(&at, t, now_ms)?;
        }
        if let Some(p) = &f.provider
            && (p.len() > MAX_PROVIDER_BYTES
                || check_name("provider", p, MAX_PROVIDER_BYTES).is_err())
        {
            return Err(invalid(format!(
                "{at}: provider {p:?} is not a provider name"
            )));
        }
    }
    Ok(())
}

// ---- Records -------------------------------------------------------------------------------

/// A litter pickup as it travels (the phone's `litter_pickup` row).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PickupBody {
    pub id: String,
    pub user_id: UserId,
    pub device_id: DeviceId,
    pub at_ms: i64,
    pub lat: f64,
    pub lon: f64,
    pub bags: u32,
    pub items: u32,
    pub street_id: Option<String>,
    pub photo_sha256: Option<String>,
    pub note: Option<String>,
}

/// A points ledger entry as it travels (the phone's `points_entry` row).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointsBody {
    pub id: String,
    pub user_id: UserId,
    pub at_ms: i64,
    pub day: String,
    pub kind: String,
    pub source_id: String,
    pub rule_id: String,
    pub rule_version: i64,
    pub points: i64,
    pub note: Option<String>,
}

fn typed<T: for<'de> Deserialize<'de>>(r: &LedgerRecord) -> CheckResult<T> {
    serde_json::from_value(r.body.clone())
        .map_err(|e| invalid(format!("{} record {}: {e}", r.kind, r.id)))
}

fn check_note(what: &str, note: &Option<String>) -> CheckResult<()> {
    if let Some(n) = note {
        check_text(&format!("{what}: the note"), n, MAX_NOTE_BYTES)
            .map_err(|e| invalid(e.to_string()))?;
    }
    Ok(())
}

/// A pickup: typed, in range, on a street of this device's reach, naming a photo by hash.
pub fn check_pickup(
    tx: &mut dyn Tx,
    ctx: &DeviceCtx,
    r: &LedgerRecord,
    now_ms: i64,
) -> CheckResult<PickupBody> {
    let b: PickupBody = typed(r)?;
    let what = format!("pickup {}", r.id);
    if b.id != r.id || b.user_id != r.user_id {
        return Err(invalid(format!(
            "{what}: its body must repeat its id and user_id"
        )));
    }
    check_time(&what, b.at_ms, now_ms)?;
    check_pickup_fields(&what, &b)?;
    if let Some(street) = &b.street_id {
        check_street(tx, ctx, &what, street)?;
    }
    Ok(b)
}

/// What a pickup must hold whoever sent it: a position, counts in range, a photo hash, a note.
fn check_pickup_fields(what: &str, b: &PickupBody) -> CheckResult<()> {
    check_position(what, b.lat, b.lon)?;
    let max = patrol_model::points::MAX_PICKUP_COUNT;
    if b.bags > max || b.items > max || (b.bags == 0 && b.items == 0) {
        return Err(invalid(format!(
            "{what}: counts {} bags and {} items; a pickup counts 1 to {max} of either",
            b.bags, b.items
        )));
    }
    if let Some(sha) = &b.photo_sha256
        && !patrol_model::photos::is_photo_id(sha)
    {
        return Err(invalid(format!("{what}: photo {sha:?} is not a SHA-256")));
    }
    check_note(what, &b.note)
}

/// Every version of every points rule the server holds: published versions (reference rows of
/// table `points_rule`, id `KIND:VERSION`) over the shipped defaults.
pub fn points_rule(tx: &mut dyn Tx, id: &str, version: i64) -> CheckResult<Option<PointsRule>> {
    if let Some((body, false)) = tx.reference("points_rule", &format!("{id}:{version}"))? {
        return Ok(Some(parse_rule(&body)?));
    }
    Ok(default_points_rules()
        .into_iter()
        .find(|r| r.id == id && r.version == version))
}

/// A published rule row, checked as the phones check it.
pub fn parse_rule(body: &serde_json::Value) -> CheckResult<PointsRule> {
    let corrupt =
        |e: String| CheckError::Storage(StorageError::Corrupt(format!("points rule row: {e}")));
    let rule: PointsRule =
        serde_json::from_value(body.clone()).map_err(|e| corrupt(e.to_string()))?;
    rule.validate().map_err(|e| corrupt(e.to_string()))?;
    Ok(rule)
}

/// A points entry is a claim: accepted only when it follows from a fact the server holds (a
/// pickup, an issue the user reported that ended verified, the fixes of a recorded patrol), by
/// a rule the server knows, within the rule's daily cap, once per fact; a redemption never takes
/// the balance below zero and past the rule's automatic daily limit waits for a supervisor.
/// Returns the ledger row to keep.
pub fn check_points(
    tx: &mut dyn Tx,
    ctx: &DeviceCtx,
    r: &LedgerRecord,
    now_ms: i64,
) -> CheckResult<PointsLedgerRow> {
    let b: PointsBody = typed(r)?;
    let what = format!("points entry {}", r.id);
    if b.id != r.id || b.user_id != r.user_id {
        return Err(invalid(format!(
            "{what}: its body must repeat its id and user_id"
        )));
    }
    check_time(&what, b.at_ms, now_ms)?;
    if b.day != beijing_day(b.at_ms) {
        return Err(invalid(format!(
            "{what}: day {:?} is not the Beijing day of its time",
            b.day
        )));
    }
    check_id(&format!("{what}: source"), &b.source_id)?;
    check_note(&what, &b.note)?;
    let kind: PointsKind = b
        .kind
        .parse()
        .map_err(|_| invalid(format!("{what}: kind {:?} is not a points kind", b.kind)))?;
    if b.at_ms < now_ms.saturating_sub(MAX_CLAIM_AGE_MS) {
        return Err(invalid(format!(
            "{what}: points are claimed within {} days of the work; this entry is older",
            MAX_CLAIM_AGE_MS / 86_400_000
        )));
    }
    match points_rule(tx, &b.rule_id, b.rule_version)? {
        Some(cited) if cited.kind == kind && cited.valid_from_ms <= b.at_ms => {}
        _ => {
            return Err(invalid(format!(
                "{what}: rule {} version {} is not a {kind} rule the district published in force at its time",
                b.rule_id, b.rule_version
            )));
        }
    }
    // Whatever version the entry cites, the figures are those of the version in force at its
    // time: citing an older, more generous rule (or one without a limit) gains nothing.
    let rule = rule_in_force(tx, kind, b.at_ms)?;
    let me = ctx.user.id;
    if tx.points_credited(&me, kind.as_str(), &b.source_id)? {
        return Err(not_allowed(format!(
            "{what}: {} was credited before; a fact earns once",
            b.source_id
        )));
    }
    let row = |points: i64, status: PointsStatus| PointsLedgerRow {
        entry_id: b.id.clone(),
        user_id: me,
        kind: kind.as_str().into(),
        source_id: b.source_id.clone(),
        day: b.day.clone(),
        points,
        status,
        at_ms: b.at_ms,
    };
    if kind == PointsKind::Redemption {
        let status = check_redemption(tx, &me, &b, &rule, &what)?;
        return Ok(row(b.points, status));
    }
    let due = points_due_for_fact(tx, &me, &b, kind, &rule, &what)?;
    let room = match rule.daily_cap {
        Some(cap) => cap
            .saturating_sub(tx.points_sum(&me, Some((kind.as_str(), &b.day)))?)
            .max(0),
        None => i64::MAX,
    };
    let allowed = due.min(room);
    if b.points < 0 || b.points > allowed {
        return Err(not_allowed(format!(
            "{what}: claims {} points; the rules give {due} for {}, and {room} are left under today's cap",
            b.points, b.source_id
        )));
    }
    Ok(row(b.points, PointsStatus::Accepted))
}

/// A redemption's own checks: 1 to [`MAX_REDEMPTION_POINTS`] points spent (a negative entry that
/// is its own source), never below a zero balance; past the rule's daily limit it waits for a
/// supervisor (`Pending`).
fn check_redemption(
    tx: &mut dyn Tx,
    me: &UserId,
    b: &PointsBody,
    rule: &PointsRule,
    what: &str,
) -> CheckResult<PointsStatus> {
    if !(-MAX_REDEMPTION_POINTS..0).contains(&b.points) || b.source_id != b.id {
        return Err(invalid(format!(
            "{what}: a redemption spends 1 to {MAX_REDEMPTION_POINTS} points (negative) and is its own source"
        )));
    }
    let spend = -b.points;
    let balance = tx.points_sum(me, None)?;
    if spend > balance {
        return Err(not_allowed(format!(
            "{what}: redeems {spend} points but the balance the server holds is {balance}"
        )));
    }
    let today = tx
        .points_sum(me, Some((PointsKind::Redemption.as_str(), &b.day)))?
        .saturating_neg();
    Ok(match rule.daily_cap {
        Some(limit) if today.saturating_add(spend) > limit => PointsStatus::Pending,
        _ => PointsStatus::Accepted,
    })
}

/// The points the rule in force gives for the fact an earning entry cites (a pickup, a verified
/// issue, a recorded patrol), after checking the fact is this user's, on the server and not held.
fn points_due_for_fact(
    tx: &mut dyn Tx,
    me: &UserId,
    b: &PointsBody,
    kind: PointsKind,
    rule: &PointsRule,
    what: &str,
) -> CheckResult<i64> {
    let me = *me;
    // The fact must be this user's, on the server and not held; any other answer is the same,
    // so an entry cannot tell whether another user's pickup, issue or patrol exists.
    let unknown = |what_fact: &str| {
        invalid(format!(
            "{what}: {what_fact} {} is not one of this user's on the server (send it first)",
            b.source_id
        ))
    };
    let held = |tx: &mut dyn Tx, kind: &str| -> CheckResult<bool> {
        Ok(tx.quarantined(kind, &b.source_id)?.is_some())
    };
    let due = match kind {
        PointsKind::Pickup => {
            let p = match tx.record("pickup", &b.source_id)? {
                Some(p) if p.user_id == me && !held(tx, "record:pickup")? => p,
                _ => return Err(unknown("pickup")),
            };
            if p.body.get("at_ms").and_then(|v| v.as_i64()) != Some(b.at_ms) {
                return Err(invalid(format!(
                    "{what}: a pickup's points are earned at the pickup's time"
                )));
            }
            let bags = p.body.get("bags").and_then(|v| v.as_u64()).unwrap_or(0);
            points_due(rule, u32::try_from(bags).unwrap_or(u32::MAX), 0.0)
        }
        PointsKind::VerifiedIssue => {
            let verified = match tx.doc(&b.source_id)? {
                Some(d) if d.kind == "issue" && !held(tx, "doc:issue")? => {
                    issue_verified_for(&d.data, &me)
                }
                _ => false,
            };
            if !verified {
                return Err(invalid(format!(
                    "{what}: issue {} is not one this user reported that ended verified on the server",
                    b.source_id
                )));
            }
            points_due(rule, 0, 0.0)
        }
        PointsKind::PatrolHour => {
            let p = match tx.patrol(&b.source_id)? {
                Some(p) if p.user_id == me && !held(tx, "patrol")? => p,
                _ => return Err(unknown("patrol")),
            };
            if p.source != "recorded" || p.state != PatrolState::Stopped {
                return Err(invalid(format!(
                    "{what}: only stopped patrols recorded in the app earn patrol hours"
                )));
            }
            if b.at_ms != p.started_at_ms {
                return Err(invalid(format!(
                    "{what}: a patrol's hours are earned at the patrol's start"
                )));
            }
            // The time the fixes span, and never more than the patrol's own start to stop.
            let from_fixes = p
                .summary
                .as_ref()
                .and_then(|s| s.get("duration_s"))
                .and_then(|d| d.as_f64())
                .unwrap_or(0.0);
            let span_s = p.stopped_at_ms.map_or(0.0, |stop| {
                stop.saturating_sub(p.started_at_ms) as f64 / 1000.0
            });
            points_due(rule, 0, from_fixes.min(span_s))
        }
        PointsKind::Redemption => unreachable!("redemptions are checked by check_redemption"),
    };
    Ok(due)
}

/// The version of a kind's rule in force at a time: the latest to take effect by then.
pub fn rule_in_force(tx: &mut dyn Tx, kind: PointsKind, at_ms: i64) -> CheckResult<PointsRule> {
    let mut best: Option<PointsRule> = None;
    for version in 1..=MAX_RULE_VERSIONS {
        let Some(rule) = points_rule(tx, kind.as_str(), version)? else {
            break;
        };
        if rule.valid_from_ms <= at_ms
            && best
                .as_ref()
                .is_none_or(|b| (rule.valid_from_ms, rule.version) >= (b.valid_from_ms, b.version))
        {
            best = Some(rule);
        }
    }
    best.ok_or_else(|| invalid(format!("no {kind} rule is in force at {at_ms} ms")))
}

/// Whether an issue document is one `user` reported that ends verified.
fn issue_verified_for(data: &[u8], user: &UserId) -> bool {
    let Ok(doc) = automerge::Automerge::load(data) else {
        return false;
    };
    let Ok(issue) = patrol_model::issues::doc::read(&doc) else {
        return false;
    };
    issue.reporter.user_id == *user
        && patrol_model::issues::workflow::fold(&issue).status
            == patrol_model::IssueStatus::Verified
}

// ---- Items already stored ------------------------------------------------------------------

/// Most points any one entry may carry in either direction, for judging entries stored before
/// the server checked claims (no rule gives a thousand points for one fact).
pub const MAX_POINTS_PER_ENTRY: i64 = 1_000;

/// What a receiving device would find wrong with a patrol header the server holds (checks that
/// need no device context: types, ranges, lengths), or `None`.
pub fn stored_patrol_problem(p: &PatrolRecord) -> Option<String> {
    if let Err(e) = check_patrol_fields("the patrol", p) {
        return Some(e.to_string());
    }
    if p.summary.as_ref().is_some_and(|s| !s.is_object()) {
        return Some("its summary is not a summary".into());
    }
    for (i, c) in p.check_ins.iter().enumerate() {
        match serde_json::from_value::<CheckIn>(c.clone()) {
            Err(e) => return Some(format!("check-in {i} is not a check-in: {e}")),
            Ok(c) if c.patrol_id != p.id || c.user_id != p.user_id.to_string() => {
                return Some(format!("check-in {i} names another patrol or user"));
            }
            Ok(_) => {}
        }
    }
    if let Some(d) = p
        .summary
        .as_ref()
        .and_then(|s| s.get("distance_m"))
        .and_then(|d| d.as_f64())
        && !(d.is_finite() && (0.0..=500_000.0).contains(&d))
    {
        return Some(format!("its summary says {d} m, more than a day's walk"));
    }
    None
}

/// What a receiving device would find wrong with a record the server holds, or `None`.
pub fn stored_record_problem(r: &LedgerRecord) -> Option<String> {
    let as_record = |e: CheckError| e.to_string();
    match r.kind.as_str() {
        "pickup" => typed::<PickupBody>(r)
            .and_then(|b| check_pickup_fields(&format!("pickup {}", r.id), &b))
            .err()
            .map(as_record),
        "points" => {
            let b: PointsBody = match typed(r) {
                Ok(b) => b,
                Err(e) => return Some(as_record(e)),
            };
            let Ok(kind) = b.kind.parse::<PointsKind>() else {
                return Some(format!("kind {:?} is not a points kind", b.kind));
            };
            let in_range = match kind {
                PointsKind::Redemption => (-MAX_REDEMPTION_POINTS..=0).contains(&b.points),
                _ => (0..=MAX_POINTS_PER_ENTRY).contains(&b.points),
            };
            if !in_range {
                return Some(format!(
                    "{} points for a {kind} is outside what any rule gives",
                    b.points
                ));
            }
            if let Err(e) = check_note("the entry", &b.note) {
                return Some(as_record(e));
            }
            None
        }
        other => Some(format!("record kind {other:?} is unknown")),
    }
}
