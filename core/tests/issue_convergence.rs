//! Property: 3 to 5 phones act on one issue offline, with clocks up to a day wrong, and swap
//! changes in random orders and groupings (whole documents or just the changes past the
//! receiver's heads, directly or relayed). Once everyone has heard from everyone, every replica
//! has the same document (heads), the same folded state and the same projection row.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use patrol_core::issues::{Assignee, IssueView, NewIssue};
use patrol_core::{Clock, Department, Error, IssueId, Role, Store, StoreConfig};
use proptest::prelude::*;

const T0: i64 = 1_714_550_400_000;
const DAY: i64 = 86_400_000;
const LAT: f64 = 39.9075;
const LON: f64 = 116.1936;

struct SkewedClock {
    now: Arc<AtomicI64>,
    skew_ms: i64,
}

impl Clock for SkewedClock {
    fn now_ms(&self) -> i64 {
        self.now.load(Ordering::SeqCst) + self.skew_ms
    }
}

const ROLES: [Role; 5] = [
    Role::Chief,
    Role::Supervisor,
    Role::Crew,
    Role::Enforcement,
    Role::Steward,
];

#[derive(Debug, Clone)]
enum Step {
    /// Replica tries one of the actions (an index into its menu); refusals are fine.
    Act { replica: usize, choice: usize },
    /// `from` hands `to` its whole document.
    Full { from: usize, to: usize },
    /// `from` sends `to` only the changes past `to`'s heads.
    Delta { from: usize, to: usize },
    /// `from` sends to `to` through `via` (a relay that keeps a copy).
    Relay { from: usize, via: usize, to: usize },
    /// Time passes.
    Wait { minutes: i64 },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..5usize, 0..40usize).prop_map(|(replica, choice)| Step::Act { replica, choice }),
        2 => (0..5usize, 0..5usize).prop_map(|(from, to)| Step::Full { from, to }),
        2 => (0..5usize, 0..5usize).prop_map(|(from, to)| Step::Delta { from, to }),
        1 => (0..5usize, 0..5usize, 0..5usize).prop_map(|(from, via, to)| Step::Relay { from, via, to }),
        1 => (1..240i64).prop_map(|minutes| Step::Wait { minutes }),
    ]
}

struct Replica {
    store: Store,
}

fn open(dir: &Path, i: usize, now: &Arc<AtomicI64>, skew_ms: i64) -> Replica {
    let config = StoreConfig {
        photos_dir: Some(dir.join(format!("photos-{i}"))),
        ..Default::default()
    };
    let clock = SkewedClock {
        now: now.clone(),
        skew_ms,
    };
    let mut store = Store::open_with_clock(":memory:", config, Arc::new(clock)).unwrap();
    store
        .init_device(&format!("device {i}"), ROLES[i], None)
        .unwrap();
    Replica { store }
}

fn has(r: &Replica, id: IssueId) -> bool {
    r.store.issue_heads(id).is_ok()
}

fn send_full(from: &Replica, to: &mut Replica, id: IssueId) {
    if has(from, id) {
        to.store
            .import_issue(&from.store.export_issue(id).unwrap())
            .unwrap();
    }
}

fn send_delta(from: &Replica, to: &mut Replica, id: IssueId) {
    if !has(from, id) {
        return;
    }
    match to.store.issue_heads(id) {
        Ok(heads) => {
            let bytes = from.store.issue_changes_since(id, &heads).unwrap();
            if !bytes.is_empty() {
                to.store.apply_issue_changes(Some(id), &bytes).unwrap();
            }
        }
        Err(_) => send_full(from, to, id),
    }
}

fn act(r: &mut Replica, choice: usize, id: IssueId, users: &[patrol_core::UserId], photo: &Path) {
    if !has(r, id) {
        return;
    }
    let s = &mut r.store;
    let result: Result<IssueView, Error> = match choice {
        0..=2 => s.assign_issue(id, Assignee::Department(Department::CityProperty), None),
        3..=4 => s.assign_issue(id, Assignee::Department(Department::Enforcement), None),
        5 => s.assign_issue(id, Assignee::User(users[2]), None),
        6 => s.assign_issue(id, Assignee::User(users[users.len() - 1]), None),
        7..=12 => s.accept_issue(id),
        13..=14 => s.return_issue(id, "not ours"),
        15..=22 => {
            let sha = s.attach_photo(photo).unwrap().sha256;
            s.resolve_issue(id, &sha, Some((LAT, LON)), None)
        }
        23..=28 => s.verify_issue(id, None),
        29..=32 => s.reopen_issue(id, "back again"),
        33 => s.cancel_issue(id, "withdrawn"),
        34 => s.mark_duplicate(id, IssueId::new()),
        _ => s.comment_issue(id, "seen"),
    };
    match result {
        Ok(_) | Err(Error::Refused { .. }) => {}
        Err(e) => panic!("unexpected error: {e}"),
    }
}

/// Everything that must agree: the view (minus "overdue", which depends on each phone's own
/// clock) and the projection row (minus the local row id).
fn fingerprint(r: &Replica, id: IssueId) -> (serde_json::Value, Vec<String>) {
    let mut view = serde_json::to_value(r.store.issue(id).unwrap()).unwrap();
    view.as_object_mut().unwrap().remove("overdue");
    let conn = r.store.connection();
    let mut stmt = conn.prepare("SELECT * FROM issue WHERE id = ?1").unwrap();
    let names: Vec<String> = stmt.column_names().map(str::to_owned).collect();
    let row = stmt
        .query_row([id.to_string()], |row| {
            Ok(names
                .iter()
                .enumerate()
                .filter(|(_, n)| n.as_str() != "doc_row")
                .map(|(i, n)| format!("{n}={:?}", row.get_ref(i).unwrap()))
                .collect::<Vec<_>>())
        })
        .unwrap();
    let mut assignees: Vec<String> = conn
        .prepare("SELECT a.assignee FROM issue_assignee a JOIN issue i ON i.doc_row = a.doc_row WHERE i.id = ?1 ORDER BY 1")
        .unwrap()
        .query_map([id.to_string()], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assignees.extend(row);
    (view, assignees)
}

fn tiny_png(dir: &Path) -> PathBuf {
    let path = dir.join("after.png");
    image::RgbImage::from_fn(8, 8, |x, y| image::Rgb([x as u8 * 30, y as u8 * 30, 99]))
        .save(&path)
        .unwrap();
    path
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn replicas_converge_whatever_the_order(
        n in 3..=5usize,
        skews in prop::collection::vec(-DAY..=DAY, 5),
        steps in prop::collection::vec(step(), 10..70),
        everyone_first in any::<bool>(),
        finale in Just((0..5usize).flat_map(|a| (0..5usize).map(move |b| (a, b))).collect::<Vec<_>>()).prop_shuffle(),
        finale_delta in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let photo = tiny_png(dir.path());
        let now = Arc::new(AtomicI64::new(T0));
        let mut rs: Vec<Replica> = (0..n).map(|i| open(dir.path(), i, &now, skews[i])).collect();
        let users: Vec<_> = rs.iter().map(|r| r.store.require_device().unwrap().user_id).collect();
        let id = rs[0].store.report_issue(NewIssue::at("litter", LAT, LON)).unwrap().issue.id;

        if everyone_first {
            for i in 1..n {
                let (a, b) = pair(&mut rs, 0, i);
                send_full(a, b, id);
            }
        }
        for s in &steps {
            match *s {
                Step::Act { replica, choice } => act(&mut rs[replica % n], choice, id, &users, &photo),
                Step::Full { from, to } | Step::Delta { from, to } if from % n == to % n => {}
                Step::Full { from, to } => {
                    let (a, b) = pair(&mut rs, from % n, to % n);
                    send_full(a, b, id);
                }
                Step::Delta { from, to } => {
                    let (a, b) = pair(&mut rs, from % n, to % n);
                    send_delta(a, b, id);
                }
                Step::Relay { from, via, to } => {
                    let (f, v, t) = (from % n, via % n, to % n);
                    if f != v && v != t {
                        { let (a, b) = pair(&mut rs, f, v); send_delta(a, b, id); }
                        let (a, b) = pair(&mut rs, v, t);
                        send_delta(a, b, id);
                    }
                }
                Step::Wait { minutes } => { now.fetch_add(minutes * 60_000, Ordering::SeqCst); }
            }
        }
        // Gossip until everyone has heard from everyone: two rounds over every pair, shuffled.
        for _ in 0..2 {
            for &(a, b) in &finale {
                let (a, b) = (a % n, b % n);
                if a != b {
                    let (x, y) = pair(&mut rs, a, b);
                    if finale_delta { send_delta(x, y, id) } else { send_full(x, y, id) }
                }
            }
        }
        let first = fingerprint(&rs[0], id);
        for r in &rs[1..] {
            let other = fingerprint(r, id);
            prop_assert_eq!(&first.0, &other.0);
            prop_assert_eq!(&first.1, &other.1);
        }
    }
}

/// Two distinct replicas, the first shared and the second mutable.
fn pair(rs: &mut [Replica], a: usize, b: usize) -> (&Replica, &mut Replica) {
    assert_ne!(a, b);
    if a < b {
        let (l, r) = rs.split_at_mut(b);
        (&l[a], &mut r[0])
    } else {
        let (l, r) = rs.split_at_mut(a);
        (&r[0], &mut l[b])
    }
}
