//! Litter pickups (捡拾垃圾) and the points ledger (积分): logging a pickup (credited in the same
//! transaction), listing them, the balance with its ledger, redeeming, and the rules (versioned
//! data with daily caps).

use patrol_core::points::{Pickup, PickupOutcome, PointsEntry, PointsRule, PointsSummary};
use patrol_core::{Datum, PickupId, PointsEntryId, PointsKind, UserId};

use crate::error::PatrolError;
use crate::store::PatrolStore;

/// Why points were entered in the ledger.
#[uniffi::remote(Enum)]
pub enum PointsKind {
    /// A logged litter pickup.
    Pickup,
    /// An issue the user reported ended verified.
    VerifiedIssue,
    /// An hour of patrol.
    PatrolHour,
    /// Points spent on a reward (negative).
    Redemption,
}

/// A logged pickup.
#[uniffi::remote(Record)]
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

/// One ledger entry.
#[uniffi::remote(Record)]
pub struct PointsEntry {
    pub id: PointsEntryId,
    pub user_id: UserId,
    pub at_ms: i64,
    /// Beijing calendar day, YYYY-MM-DD (daily caps count per day).
    pub day: String,
    pub kind: PointsKind,
    /// The pickup, issue or patrol it was earned for (the entry's own id for a redemption).
    pub source_id: String,
    /// The rule and version it was earned under.
    pub rule_id: String,
    pub rule_version: i64,
    /// Negative for a redemption; 0 past a daily cap (the note says so).
    pub points: i64,
    pub note: Option<String>,
}

/// A version of a points rule.
#[uniffi::remote(Record)]
pub struct PointsRule {
    pub id: String,
    pub version: i64,
    pub kind: PointsKind,
    pub points: i64,
    /// Pickups: points per bag on top of `points`.
    pub per_bag: i64,
    /// Most points of this kind a user earns per Beijing day.
    pub daily_cap: Option<i64>,
    pub valid_from_ms: i64,
    pub description: String,
}

/// A user's points: the balance and the ledger behind it.
#[uniffi::remote(Record)]
pub struct PointsSummary {
    pub user_id: UserId,
    pub balance: i64,
    pub earned: i64,
    pub redeemed: i64,
    /// Newest first.
    pub entries: Vec<PointsEntry>,
}

/// A logged pickup and what it earned.
#[uniffi::remote(Record)]
pub struct PickupOutcome {
    pub pickup: Pickup,
    pub points: PointsEntry,
}

/// What a steward logs: where, and how much (bags, items, or both; at least one).
#[derive(Debug, Clone, uniffi::Record)]
pub struct NewPickup {
    pub lat: f64,
    pub lon: f64,
    /// WGS-84 when absent; GCJ-02 from AMap or Tencent maps.
    #[uniffi(default = None)]
    pub datum: Option<Datum>,
    #[uniffi(default = 0)]
    pub bags: u32,
    #[uniffi(default = 0)]
    pub items: u32,
    #[uniffi(default = None)]
    pub street_id: Option<String>,
    /// A photo attached first (`attach_photo`), by SHA-256.
    #[uniffi(default = None)]
    pub photo_sha256: Option<String>,
    #[uniffi(default = None)]
    pub note: Option<String>,
}

impl From<NewPickup> for patrol_core::points::NewPickup {
    fn from(p: NewPickup) -> Self {
        patrol_core::points::NewPickup {
            lat: p.lat,
            lon: p.lon,
            datum: p.datum.unwrap_or(Datum::Wgs84),
            bags: p.bags,
            items: p.items,
            street_id: p.street_id,
            photo_sha256: p.photo_sha256,
            note: p.note,
        }
    }
}

#[uniffi::export]
impl PatrolStore {
    /// Logs a litter pickup by this device's user and credits its points, in one transaction.
    /// No count, a count over 1,000, or a place that is not on Earth fail with `InvalidInput`.
    pub fn log_pickup(&self, pickup: NewPickup) -> Result<PickupOutcome, PatrolError> {
        self.with_store(|s| s.log_pickup(pickup.into()))
    }

    /// This device user's pickups, newest first.
    #[uniffi::method(default(limit = 100))]
    pub fn pickups(&self, limit: u32) -> Result<Vec<Pickup>, PatrolError> {
        self.with_store(|s| s.pickups(limit))
    }

    /// This device user's balance and ledger, after crediting the hours of finished patrols.
    pub fn points(&self) -> Result<PointsSummary, PatrolError> {
        self.with_store(|s| s.points())
    }

    /// Spends points on a reward; `InvalidInput` when the balance is too small.
    pub fn redeem_points(&self, points: i64, reward: String) -> Result<PointsEntry, PatrolError> {
        self.with_store(|s| s.redeem_points(points, &reward))
    }

    /// Every version of every points rule.
    pub fn points_rules(&self) -> Result<Vec<PointsRule>, PatrolError> {
        self.with_store(|s| s.points_rules())
    }

    /// Adds a new version of the rule for `kind`, valid from `valid_from_ms`; entries earned
    /// before keep the version they were earned under.
    #[uniffi::method(default(daily_cap = None))]
    pub fn add_points_rule(
        &self,
        kind: PointsKind,
        points: i64,
        per_bag: i64,
        valid_from_ms: i64,
        description: String,
        daily_cap: Option<i64>,
    ) -> Result<PointsRule, PatrolError> {
        self.with_store(|s| {
            s.add_points_rule(
                kind,
                points,
                per_bag,
                daily_cap,
                valid_from_ms,
                &description,
            )
        })
    }
}
