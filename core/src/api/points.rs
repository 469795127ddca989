//! Litter pickups and the points ledger ([`crate::points`]).

use crate::domain::{PickupId, PointsKind};
use crate::error::{Error, Result};
use crate::points::{
    self, NewPickup, Pickup, PickupOutcome, PointsEntry, PointsRule, PointsSummary,
};
use crate::store::Store;

impl Store {
    /// Logs a litter pickup by this device's user and credits its points, in one transaction.
    pub fn log_pickup(&mut self, new: NewPickup) -> Result<PickupOutcome> {
        let me = self.require_device()?;
        let (lat, lon) = points::check_pickup(&new)?;
        let photo = match &new.photo_sha256 {
            Some(sha) => Some(self.photo(sha)?.sha256),
            None => None,
        };
        let note = new
            .note
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty());
        let street_id = self.street_of_record(new.street_id.as_deref())?;
        let now = self.clock.now_ms();
        let pickup = Pickup {
            id: PickupId::new(),
            user_id: me.user_id,
            at_ms: now,
            lat,
            lon,
            bags: new.bags,
            items: new.items,
            street_id,
            photo_sha256: photo,
            note,
        };
        let tx = self.conn.transaction()?;
        let outcome = points::insert_pickup(&tx, &me, pickup)?;
        tx.commit()?;
        Ok(outcome)
    }

    /// This device user's pickups, newest first.
    pub fn pickups(&self, limit: u32) -> Result<Vec<Pickup>> {
        let me = self.require_device()?;
        points::pickups(&self.conn, &me.user_id, limit)
    }

    /// Credits hours of this user's stopped patrols recorded in the app (not imported from a
    /// file: the district rewards the recorded record of duty, and the server accepts no
    /// other) not credited yet; returns the new entries.
    pub fn settle_patrol_points(&mut self) -> Result<Vec<PointsEntry>> {
        let me = self.require_device()?;
        let tx = self.conn.transaction()?;
        let out = points::settle_patrol_points(&tx, &me.user_id)?;
        tx.commit()?;
        Ok(out)
    }

    /// This device user's balance and ledger (after crediting finished patrols).
    pub fn points(&mut self) -> Result<PointsSummary> {
        self.settle_patrol_points()?;
        let me = self.require_device()?;
        points::summary(&self.conn, &me.user_id)
    }

    /// Spends points on a reward; refused when the balance is too small.
    pub fn redeem_points(&mut self, points: i64, reward: &str) -> Result<PointsEntry> {
        let me = self.require_device()?;
        if points <= 0 {
            return Err(Error::InvalidInput(
                "redeem a positive number of points".into(),
            ));
        }
        let reward = reward.trim();
        if reward.is_empty() {
            return Err(Error::InvalidInput(
                "say what the points are redeemed for".into(),
            ));
        }
        let now = self.clock.now_ms();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let entry = points::redeem(&tx, &me.user_id, points, reward, now)?;
        tx.commit()?;
        Ok(entry)
    }

    /// Every version of every points rule.
    pub fn points_rules(&self) -> Result<Vec<PointsRule>> {
        points::points_rules(&self.conn)
    }

    /// Adds a new version of the rule for `kind`, valid from `valid_from_ms`; earlier entries
    /// keep the version they were earned under.
    pub fn add_points_rule(
        &mut self,
        kind: PointsKind,
        points: i64,
        per_bag: i64,
        daily_cap: Option<i64>,
        valid_from_ms: i64,
        description: &str,
    ) -> Result<PointsRule> {
        if points < 0 || per_bag < 0 || daily_cap.is_some_and(|c| c < 0) {
            return Err(Error::InvalidInput(
                "rule points, per-bag points and caps cannot be negative".into(),
            ));
        }
        let tx = self.conn.transaction()?;
        let rule = points::insert_rule_version(
            &tx,
            PointsRule {
                id: kind.as_str().into(),
                version: 0,
                kind,
                points,
                per_bag,
                daily_cap,
                valid_from_ms,
                description: description.into(),
            },
        )?;
        tx.commit()?;
        Ok(rule)
    }
}
