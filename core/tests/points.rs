//! Litter pickups and the points ledger: daily caps, versioned rules, redemptions, and records
//! the database itself refuses to change.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use patrol_core::points::{NewPickup, beijing_day};
use patrol_core::{Clock, Datum, Error, PointsKind, Role, Store, StoreConfig};

const T0: i64 = 1_714_550_400_000; // 2024-05-01 16:00 in Beijing

struct Manual(Arc<AtomicI64>);
impl Clock for Manual {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn pickup(bags: u32, items: u32) -> NewPickup {
    NewPickup {
        lat: 39.9075,
        lon: 116.1936,
        datum: Datum::Wgs84,
        bags,
        items,
        street_id: Some("八角西街".into()),
        photo_sha256: None,
        note: None,
    }
}

#[test]
fn pickups_earn_points_up_to_the_daily_cap_under_the_rule_in_force() {
    let now = Arc::new(AtomicI64::new(T0));
    let mut s = Store::open_with_clock(
        ":memory:",
        StoreConfig::default(),
        Arc::new(Manual(now.clone())),
    )
    .unwrap();
    s.init_device("李阿姨", Role::Steward, None).unwrap();
    // v1: 2 per pickup + 1 per bag, at most 20 a day.
    let a = s.log_pickup(pickup(3, 0)).unwrap();
    assert_eq!(a.points.points, 5);
    assert_eq!(
        (a.points.rule_id.as_str(), a.points.rule_version),
        ("pickup", 1)
    );
    for _ in 0..3 {
        s.log_pickup(pickup(3, 0)).unwrap(); // 15 more: 20 in all
    }
    let capped = s.log_pickup(pickup(1, 0)).unwrap();
    assert_eq!(capped.points.points, 0);
    assert!(capped.points.note.as_deref().unwrap().contains("daily cap"));
    assert_eq!(s.points().unwrap().balance, 20);

    // A new rule from tomorrow: 3 per pickup, no per-bag points. Old entries keep version 1.
    let tomorrow = T0 + 86_400_000;
    let rule = s
        .add_points_rule(PointsKind::Pickup, 3, 0, Some(30), tomorrow, "3 per pickup")
        .unwrap();
    assert_eq!(rule.version, 2);
    now.store(tomorrow + 1000, Ordering::SeqCst);
    let b = s.log_pickup(pickup(5, 10)).unwrap();
    assert_eq!((b.points.points, b.points.rule_version), (3, 2));
    assert_ne!(b.points.day, a.points.day);
    let summary = s.points().unwrap();
    assert_eq!(summary.balance, 23);
    assert!(
        summary
            .entries
            .iter()
            .filter(|e| e.rule_version == 1)
            .count()
            == 5
    );

    // Redemption: the balance is the sum; overspending is refused.
    let r = s.redeem_points(10, "一袋大米").unwrap();
    assert_eq!(r.points, -10);
    assert_eq!(s.points().unwrap().balance, 13);
    assert!(
        matches!(s.redeem_points(14, "more rice"), Err(Error::InvalidInput(m)) if m.contains("balance is 13"))
    );

    // The ledger and the pickups are append-only in the database itself.
    let c = s.connection();
    assert!(
        c.execute("UPDATE points_entry SET points = 1000", [])
            .is_err()
    );
    assert!(c.execute("DELETE FROM points_entry", []).is_err());
    assert!(c.execute("UPDATE litter_pickup SET bags = 99", []).is_err());
    assert!(c.execute("DELETE FROM litter_pickup", []).is_err());
    assert_eq!(s.pickups(100).unwrap().len(), 6);
}

#[test]
fn bad_pickups_are_refused() {
    let mut s = Store::open_in_memory(StoreConfig::default()).unwrap();
    assert!(matches!(
        s.log_pickup(pickup(1, 0)),
        Err(Error::NotInitialised)
    ));
    s.init_device("李阿姨", Role::Steward, None).unwrap();
    assert!(
        s.log_pickup(pickup(0, 0))
            .unwrap_err()
            .to_string()
            .contains("--bags")
    );
    assert!(s.log_pickup(pickup(5000, 0)).is_err());
    assert!(
        s.log_pickup(NewPickup {
            lat: f64::NAN,
            ..pickup(1, 0)
        })
        .is_err()
    );
    assert!(
        s.log_pickup(NewPickup {
            photo_sha256: Some("ab".repeat(32)),
            ..pickup(1, 0)
        })
        .is_err()
    );
    assert!(s.pickups(10).unwrap().is_empty());
    assert_eq!(s.points().unwrap().balance, 0);
}

#[test]
fn patrol_hours_are_credited_once() {
    let now = Arc::new(AtomicI64::new(T0));
    let mut s = Store::open_with_clock(
        ":memory:",
        StoreConfig::default(),
        Arc::new(Manual(now.clone())),
    )
    .unwrap();
    s.init_device("李阿姨", Role::Steward, None).unwrap();
    let p = s.start_patrol(&[]).unwrap();
    // Two and a half hours of walking, one fix a minute.
    for i in 0..=150 {
        let fix = patrol_core::NewFix::at(39.9 + i as f64 * 0.0008, 116.2, T0 + i * 60_000)
            .with_accuracy(5.0);
        s.add_fix(p, fix).unwrap();
    }
    s.stop_patrol(p).unwrap();
    let first = s.settle_patrol_points().unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].points, 8, "two full hours at 4 points");
    assert!(s.settle_patrol_points().unwrap().is_empty());
    assert_eq!(s.points().unwrap().balance, 8);
    assert_eq!(beijing_day(T0), "2024-05-01");
    assert_eq!(
        beijing_day(T0 + 8 * 3_600_000),
        "2024-05-02",
        "midnight in Beijing"
    );
}

#[test]
fn the_default_rules_are_the_ones_every_store_starts_with() {
    let mut s = Store::open_in_memory(StoreConfig::default()).unwrap();
    s.init_device("李阿姨", Role::Steward, None).unwrap();
    let mut stored = s.points_rules().unwrap();
    let mut shipped = patrol_core::points::default_points_rules();
    stored.sort_by(|a, b| a.id.cmp(&b.id));
    shipped.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(stored, shipped);
}
