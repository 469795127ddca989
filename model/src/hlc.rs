//! A hybrid logical clock: stamps `(wall ms, counter, actor)` that never go backwards on this
//! device, even across restarts, and that order an event after every event its author had seen,
//! whatever the phone's wall clock says.
//!
//! Phone clocks are wrong, sometimes by a day. Wall time alone would let a phone whose clock is
//! behind write events that sort before the ones it answers. An HLC keeps the wall time where the
//! clock is sane (so stamps still read as times) and uses the counter to break the rest.
//! Remote stamps are `observe`d on merge, within a bound ([`MAX_FORWARD_DRIFT_MS`]), so one phone
//! with a clock set to next year cannot drag every other device's clock with it; causality
//! inside one document is kept anyway by [`HlcClock::stamp_after`].

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

/// How far ahead of this device's wall clock a remote stamp may pull the local clock: a phone a
/// day off still merges and orders correctly, one set a year ahead does not drag us along.
pub const MAX_FORWARD_DRIFT_MS: i64 = 36 * 3_600_000;

/// One HLC timestamp. Ordered by wall time, then counter, then actor (so two devices never tie).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HlcStamp {
    /// Milliseconds since the Unix epoch, as far as the clock could tell.
    pub wall_ms: i64,
    /// Orders stamps within one millisecond (or while the wall clock lags).
    pub counter: u32,
    /// The device's Automerge actor id (hex); breaks ties between devices.
    pub actor: String,
}

impl Ord for HlcStamp {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.wall_ms, self.counter, &self.actor).cmp(&(other.wall_ms, other.counter, &other.actor))
    }
}

impl PartialOrd for HlcStamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for HlcStamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.wall_ms, self.counter, self.actor)
    }
}

/// The clock of one device: the last stamp it issued, persisted in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HlcClock {
    actor: String,
    last_wall_ms: i64,
    last_counter: u32,
}

impl HlcClock {
    /// A clock that has issued nothing yet.
    pub fn new(actor: impl Into<String>) -> Self {
        Self {
            actor: actor.into(),
            last_wall_ms: 0,
            last_counter: 0,
        }
    }

    /// The clock as it was last persisted: its actor and the last stamp's wall time and counter.
    pub fn resume(actor: impl Into<String>, last_wall_ms: i64, last_counter: u32) -> Self {
        Self {
            actor: actor.into(),
            last_wall_ms,
            last_counter,
        }
    }

    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// The last stamp issued.
    pub fn last(&self) -> HlcStamp {
        HlcStamp {
            wall_ms: self.last_wall_ms,
            counter: self.last_counter,
            actor: self.actor.clone(),
        }
    }

    /// A new stamp, later than every stamp this clock issued or observed.
    pub fn tick(&mut self, physical_ms: i64) -> HlcStamp {
        if physical_ms > self.last_wall_ms {
            self.last_wall_ms = physical_ms;
            self.last_counter = 0;
        } else {
            self.bump();
        }
        self.last()
    }

    /// Takes a remote stamp into account so the next local stamp sorts after it. A stamp more than
    /// [`MAX_FORWARD_DRIFT_MS`] ahead of `physical_ms` only advances the clock that far; returns
    /// whether it was clamped.
    pub fn observe(&mut self, remote: &HlcStamp, physical_ms: i64) -> bool {
        let limit = physical_ms
            .saturating_add(MAX_FORWARD_DRIFT_MS)
            .max(self.last_wall_ms);
        let (wall, counter, clamped) = if remote.wall_ms > limit {
            (limit, 0, true)
        } else {
            (remote.wall_ms, remote.counter, false)
        };
        match wall.cmp(&self.last_wall_ms) {
            Ordering::Greater => {
                self.last_wall_ms = wall;
                self.last_counter = counter;
            }
            Ordering::Equal => self.last_counter = self.last_counter.max(counter),
            Ordering::Less => {}
        }
        clamped
    }

    /// A stamp for a new event in a document whose latest event is stamped `latest`: after
    /// everything this clock knows and after `latest`, even when `latest` was too far ahead to be
    /// observed, so the author's event always follows what the author saw.
    pub fn stamp_after(&mut self, latest: Option<&HlcStamp>, physical_ms: i64) -> HlcStamp {
        if let Some(l) = latest {
            self.observe(l, physical_ms);
        }
        let stamp = self.tick(physical_ms);
        match latest {
            Some(l) if (l.wall_ms, l.counter) >= (stamp.wall_ms, stamp.counter) => {
                let wall_ms = l.wall_ms;
                let counter = l.counter.saturating_add(1);
                HlcStamp {
                    wall_ms,
                    counter,
                    actor: self.actor.clone(),
                }
            }
            _ => stamp,
        }
    }

    fn bump(&mut self) {
        if self.last_counter == u32::MAX {
            // 4 billion events in one millisecond: move to the next millisecond instead.
            self.last_wall_ms += 1;
            self.last_counter = 0;
        } else {
            self.last_counter += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    #[test]
    fn ticks_are_strictly_increasing_even_when_the_wall_clock_goes_back() {
        let mut c = HlcClock::new("aa");
        let a = c.tick(1_000);
        let b = c.tick(1_000);
        let d = c.tick(500); // the user set the clock back
        let e = c.tick(2_000);
        assert!(a < b && b < d && d < e, "{a} {b} {d} {e}");
        assert_eq!(d.wall_ms, 1_000);
        assert_eq!(
            e,
            HlcStamp {
                wall_ms: 2_000,
                counter: 0,
                actor: "aa".into()
            }
        );
    }

    #[test]
    fn a_phone_a_day_behind_still_orders_its_answer_after_what_it_saw() {
        let mut ahead = HlcClock::new("aa");
        let mut behind = HlcClock::new("bb");
        let t = 1_714_550_400_000;
        let first = ahead.tick(t);
        behind.observe(&first, t - DAY);
        let answer = behind.tick(t - DAY);
        assert!(answer > first, "{answer} must follow {first}");
    }

    #[test]
    fn a_clock_a_year_ahead_does_not_drag_ours_along_but_causality_holds() {
        let mut c = HlcClock::new("aa");
        let now = 1_714_550_400_000;
        let crazy = HlcStamp {
            wall_ms: now + 365 * DAY,
            counter: 7,
            actor: "bb".into(),
        };
        assert!(c.observe(&crazy, now));
        assert!(c.last().wall_ms <= now + MAX_FORWARD_DRIFT_MS);
        let mine = c.stamp_after(Some(&crazy), now);
        assert!(mine > crazy);
        // A plain tick afterwards is back near real time.
        let mut fresh = HlcClock::new("aa");
        assert!(!fresh.observe(
            &HlcStamp {
                wall_ms: now + DAY,
                counter: 0,
                actor: "bb".into()
            },
            now
        ));
    }

    #[test]
    fn a_resumed_clock_never_issues_a_stamp_before_its_last() {
        let mut c = HlcClock::new("aa");
        c.tick(5_000);
        let last = c.tick(5_000);
        let mut again = HlcClock::resume("aa", last.wall_ms, last.counter);
        let next = again.tick(1_000); // the phone rebooted with a wrong clock
        assert!(next > last);
    }
}
