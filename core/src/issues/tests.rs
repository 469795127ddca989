//! Issue workflow across several stores (one per device and role), changes moved by export and
//! import the way two offline phones hand over by file.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use super::*;
use crate::clock::Clock;
use crate::domain::{Department, IssueEventId, IssueEventKind, IssueStatus, Role};
use crate::store::Store;
use crate::store::StoreConfig;

const T0: i64 = 1_714_550_400_000; // 2024-05-01 08:00 UTC
const LAT: f64 = 39.9075;
const LON: f64 = 116.1936;

/// A clock the test moves by hand, shared by every device, each with its own error.
#[derive(Clone)]
struct TestClock {
    now: Arc<AtomicI64>,
    skew_ms: i64,
}

impl Clock for TestClock {
    fn now_ms(&self) -> i64 {
        self.now.load(Ordering::SeqCst) + self.skew_ms
    }
}

struct World {
    dir: tempfile::TempDir,
    now: Arc<AtomicI64>,
}

impl World {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            now: Arc::new(AtomicI64::new(T0)),
        }
    }

    fn device(&self, name: &str, role: Role, skew_ms: i64) -> Store {
        let clock = TestClock {
            now: self.now.clone(),
            skew_ms,
        };
        let path = self.dir.path().join(format!("{name}.db"));
        let mut s = Store::open_with_clock(&path, StoreConfig::default(), Arc::new(clock)).unwrap();
        s.init_device(name, role, None).unwrap();
        s
    }

    fn advance_min(&self, minutes: i64) {
        self.now.fetch_add(minutes * 60_000, Ordering::SeqCst);
    }

    /// A small PNG (no EXIF) in the test folder.
    fn png(&self, name: &str, shade: u8) -> std::path::PathBuf {
        let path = self.dir.path().join(name);
        let img = image::RgbImage::from_fn(64, 48, |x, y| {
            image::Rgb([shade, (x * 4) as u8, (y * 5) as u8])
        });
        img.save(&path).unwrap();
        path
    }
}

fn hand_over(from: &Store, to: &mut Store, id: IssueId) -> sync::MergeOutcome {
    to.import_issue(&from.export_issue(id).unwrap()).unwrap()
}

fn refused(r: Result<IssueView>) -> String {
    match r {
        Err(Error::Refused { reason, .. }) => reason,
        other => panic!("expected a refusal, got {:?}", other.map(|v| v.status)),
    }
}

#[test]
fn the_closed_loop_across_four_devices() {
    let w = World::new();
    let mut steward = w.device("steward", Role::Steward, 0);
    let mut chief = w.device("chief", Role::Chief, -86_400_000); // a day behind
    let mut crew = w.device("crew", Role::Crew, 3 * 3_600_000);
    let before = steward.attach_photo(w.png("before.png", 10)).unwrap();

    let mut new = NewIssue::at("litter", LAT, LON);
    new.description = "一堆垃圾在路边".into();
    new.street_id = Some("八角西街".into());
    new.photos = vec![before.sha256.clone()];
    let out = steward.report_issue(new).unwrap();
    let id = out.issue.id;
    assert_eq!(out.issue.status, IssueStatus::Reported);
    assert_eq!(out.issue.photos.len(), 1);
    assert!(!out.issue.photos[0].thumbnail.is_empty());
    assert!(out.possible_duplicates.is_empty());

    w.advance_min(10);
    assert!(hand_over(&steward, &mut chief, id).new);
    assert!(refused(chief.accept_issue(id)).contains("only the assignee"));
    let v = chief
        .assign_issue(id, Assignee::Department(Department::CityProperty), None)
        .unwrap();
    assert_eq!(v.status, IssueStatus::Assigned);
    // The chief's clock is a day behind, yet the assignment sorts after the report.
    assert!(v.events[1].event.at > v.events[0].event.at);

    w.advance_min(10);
    hand_over(&chief, &mut crew, id);
    assert_eq!(
        crew.accept_issue(id).unwrap().status,
        IssueStatus::InProgress
    );
    let far = crew.attach_photo(w.png("far.png", 200)).unwrap();
    let r = refused(crew.resolve_issue(id, &far.sha256, Some((LAT + 0.01, LON)), None));
    assert!(r.contains("m from the issue"), "{r}");
    let after = crew.attach_photo(w.png("after.png", 90)).unwrap();
    let v = crew
        .resolve_issue(
            id,
            &after.sha256,
            Some((LAT + 0.0002, LON)),
            Some("cleaned".into()),
        )
        .unwrap();
    assert_eq!(v.status, IssueStatus::Resolved);
    assert!(
        refused(crew.verify_issue(id, None)).contains("reported"),
        "crew did not report it"
    );

    w.advance_min(10);
    hand_over(&crew, &mut steward, id);
    assert!(refused(steward.verify_issue(id, None)).contains("steward may not verify"));
    hand_over(&crew, &mut chief, id);
    let v = chief.verify_issue(id, None).unwrap();
    assert_eq!(v.status, IssueStatus::Verified);

    // Back to the steward: the loop is closed there too, and the steward earns the points.
    let m = hand_over(&chief, &mut steward, id);
    assert_eq!(m.status, IssueStatus::Verified);
    let mine = steward.points().unwrap();
    assert_eq!(mine.balance, 5, "{mine:?}");
    assert_eq!(
        steward.issue(id).unwrap().heads,
        chief.issue(id).unwrap().heads
    );
    let listed = steward
        .list_issues(&IssueQuery {
            status: Some(IssueStatus::Verified),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].street_id.as_deref(), Some("八角西街"));

    // Reopen starts round 2; a second verification earns nothing twice.
    let v = chief.reopen_issue(id, "litter is back").unwrap();
    assert_eq!((v.status, v.round), (IssueStatus::Reopened, 2));
    assert!(v.assignees.is_empty());
}

#[test]
fn concurrent_assignments_stay_visible_until_someone_chooses() {
    let w = World::new();
    let mut chief = w.device("chief", Role::Chief, 0);
    let mut sup = w.device("sup", Role::Supervisor, 0);
    let id = chief
        .report_issue(NewIssue::at("illegal_parking", LAT, LON))
        .unwrap()
        .issue
        .id;
    hand_over(&chief, &mut sup, id);
    // Both assign while offline, to different forces.
    chief
        .assign_issue(id, Assignee::Department(Department::CityProperty), None)
        .unwrap();
    w.advance_min(1);
    sup.assign_issue(id, Assignee::Department(Department::Enforcement), None)
        .unwrap();
    hand_over(&chief, &mut sup, id);
    hand_over(&sup, &mut chief, id);
    let (a, b) = (chief.issue(id).unwrap(), sup.issue(id).unwrap());
    assert_eq!(a.heads, b.heads);
    let conflict = a
        .conflict
        .clone()
        .expect("two assignees in one round is a conflict");
    assert_eq!(conflict.assignees.len(), 2);
    assert_eq!(a.assignee, None);
    assert_eq!(
        serde_json::to_value(&a.assignees).unwrap(),
        serde_json::to_value(&b.assignees).unwrap()
    );
    let row = &sup
        .list_issues(&IssueQuery {
            assignee: Some(Assignee::Department(Department::Enforcement)),
            ..Default::default()
        })
        .unwrap()[0];
    assert!(row.has_conflict);

    // The supervisor settles it: the new assignment replaces both.
    let v = sup
        .assign_issue(
            id,
            Assignee::Department(Department::Enforcement),
            Some("parking is ours".into()),
        )
        .unwrap();
    assert!(v.conflict.is_none());
    assert_eq!(
        v.assignee,
        Some(Assignee::Department(Department::Enforcement))
    );
}

#[test]
fn an_event_that_skipped_the_check_is_kept_but_refused_by_the_fold() {
    let w = World::new();
    let mut chief = w.device("chief", Role::Chief, 0);
    let mut rogue = w.device("rogue", Role::Steward, 0);
    let id = chief
        .report_issue(NewIssue::at("greening", LAT, LON))
        .unwrap()
        .issue
        .id;
    hand_over(&chief, &mut rogue, id);
    // A modified app writes a cancel by a steward who did not report it, straight into the doc.
    let me = rogue.require_device().unwrap();
    let mut stored = persist::load(rogue.connection(), id).unwrap().unwrap();
    stored
        .doc
        .set_actor(doc::actor_from_hex(&me.actor_id).unwrap());
    let forged = IssueEvent {
        id: IssueEventId::new(),
        kind: IssueEventKind::Cancel,
        by: me.user_id,
        role: Role::Steward,
        device: me.device_id,
        at: crate::hlc::HlcStamp {
            wall_ms: T0 + 1000,
            counter: 0,
            actor: me.actor_id.clone(),
        },
        round: 1,
        payload: EventPayload {
            reason: Some("don't like it".into()),
            ..Default::default()
        },
    };
    doc::append_event(&mut stored.doc, &forged, None).unwrap();
    let bytes = stored.doc.save();
    let m = chief.import_issue(&bytes).unwrap();
    assert!(m.changed);
    let v = chief.issue(id).unwrap();
    assert_eq!(
        v.status,
        IssueStatus::Reported,
        "the forged cancel changes nothing"
    );
    let folded = v.events.iter().find(|e| e.event.id == forged.id).unwrap();
    assert!(!folded.applied);
    assert!(
        folded
            .refused
            .as_deref()
            .unwrap()
            .contains("only an issue they reported")
    );
    let state =
        fold(&doc::read(&persist::load(chief.connection(), id).unwrap().unwrap().doc).unwrap());
    assert!(
        state
            .refusal_of(forged.id)
            .unwrap()
            .contains("only an issue they reported")
    );
    assert_eq!(state.refusal_of(state.events[0].event.id), None);
}

#[test]
fn bad_imports_are_refused_and_change_nothing() {
    let w = World::new();
    let mut chief = w.device("chief", Role::Chief, 0);
    let mut other = w.device("other", Role::Chief, 0);
    let id = chief
        .report_issue(NewIssue::at("litter", LAT, LON))
        .unwrap()
        .issue
        .id;
    let before = chief.issue(id).unwrap().heads;
    for junk in [
        &b""[..],
        b"not automerge at all",
        &[0x85, 0x6f, 0x4a, 0x83, 1, 2, 3],
    ] {
        assert!(matches!(
            chief.import_issue(junk),
            Err(Error::BadDocument(_))
        ));
    }
    // An Automerge document that is not an issue.
    let mut plain = automerge::AutoCommit::new();
    automerge::transaction::Transactable::put(&mut plain, automerge::ROOT, "hello", "world")
        .unwrap();
    assert!(matches!(
        chief.import_issue(&plain.save()),
        Err(Error::BadDocument(_))
    ));
    // Changes past the heads of a document the receiver has never seen.
    let base = chief.issue_heads(id).unwrap();
    chief.comment_issue(id, "more").unwrap();
    let delta = chief.issue_changes_since(id, &base).unwrap();
    assert!(other.apply_issue_changes(None, &delta).is_err());
    assert!(matches!(
        other.apply_issue_changes(Some(id), &delta),
        Err(Error::UnknownIssue(_))
    ));
    assert_eq!(other.count_issues(&IssueQuery::default()).unwrap(), 0);
    // The delta applies to a store that has the base.
    let mut third = w.device("third", Role::Supervisor, 0);
    third
        .import_issue(&chief.export_issue(id).unwrap())
        .unwrap();
    assert!(
        !third.apply_issue_changes(Some(id), &delta).unwrap().changed,
        "already there"
    );
    assert_ne!(before, chief.issue(id).unwrap().heads);
}

#[test]
fn documents_travel_as_files() {
    let w = World::new();
    let mut steward = w.device("steward", Role::Steward, 0);
    let mut chief = w.device("chief", Role::Chief, 0);
    let id = steward
        .report_issue(NewIssue::at("litter", LAT, LON))
        .unwrap()
        .issue
        .id;
    let file = w.dir.path().join("handover/issue.automerge");
    let written = steward.export_issue_file(id, &file).unwrap();
    assert_eq!(written, std::fs::metadata(&file).unwrap().len());
    let m = chief.import_issue_file(&file).unwrap();
    assert!(m.new && m.changed, "{m:?}");
    assert_eq!(
        chief.issue(id).unwrap().heads,
        steward.issue(id).unwrap().heads
    );
    // A later export replaces the file; importing it again merges the news only.
    steward.comment_issue(id, "still there").unwrap();
    steward.export_issue_file(id, &file).unwrap();
    let m = chief.import_issue_file(&file).unwrap();
    assert!(!m.new && m.changed, "{m:?}");
    assert_eq!(chief.issue(id).unwrap().comments.len(), 1);

    // A missing file, a file that is not a document, one too large to be one: refused, nothing changed.
    let missing = w.dir.path().join("nope.automerge");
    assert!(
        matches!(chief.import_issue_file(&missing), Err(Error::Io { path, .. }) if path == missing)
    );
    let text = w.dir.path().join("notes.txt");
    std::fs::write(&text, "just some notes").unwrap();
    assert!(matches!(
        chief.import_issue_file(&text),
        Err(Error::BadDocument(_))
    ));
    let huge = w.dir.path().join("video.mp4");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(sync::MAX_DOCUMENT_FILE_BYTES + 1)
        .unwrap();
    let e = chief.import_issue_file(&huge).unwrap_err();
    assert!(
        matches!(&e, Error::BadDocument(m) if m.contains("video.mp4")),
        "{e:?}"
    );
    assert_eq!(chief.count_issues(&IssueQuery::default()).unwrap(), 1);
    // Exporting an issue the store does not have writes no file.
    let other = w.dir.path().join("other.automerge");
    assert!(matches!(
        chief.export_issue_file(IssueId::new(), &other),
        Err(Error::UnknownIssue(_))
    ));
    assert!(!other.exists());
}

#[test]
fn chunks_compact_and_survive_a_restart() {
    let w = World::new();
    let path = w.dir.path().join("chief.db");
    let id;
    let heads;
    {
        let mut chief = w.device("chief", Role::Chief, 0);
        id = chief
            .report_issue(NewIssue::at("other", LAT, LON))
            .unwrap()
            .issue
            .id;
        for i in 0..(persist::COMPACT_AFTER_CHUNKS + 3) {
            chief.comment_issue(id, &format!("note {i}")).unwrap();
        }
        let chunks: i64 = chief
            .connection()
            .query_row("SELECT chunk_count FROM issue_doc", [], |r| r.get(0))
            .unwrap();
        assert!(
            chunks < persist::COMPACT_AFTER_CHUNKS,
            "compacted: {chunks}"
        );
        let changed = chief.issues_changed_since(0, true, 10).unwrap();
        assert_eq!(changed.len(), 1);
        assert!(
            chief
                .issues_changed_since(changed[0].seq, false, 10)
                .unwrap()
                .is_empty()
        );
        heads = chief.issue(id).unwrap().heads;
        chief.close().unwrap();
    }
    // The wall clock went back an hour across the restart; the HLC does not.
    w.now.fetch_sub(3_600_000, Ordering::SeqCst);
    let mut again = Store::open_with_clock(
        &path,
        StoreConfig::default(),
        Arc::new(TestClock {
            now: w.now.clone(),
            skew_ms: 0,
        }),
    )
    .unwrap();
    let v = again.issue(id).unwrap();
    assert_eq!(v.heads, heads);
    assert_eq!(v.comments.len() as i64, persist::COMPACT_AFTER_CHUNKS + 3);
    let last = v.comments.last().unwrap().at.clone();
    let v = again.comment_issue(id, "after restart").unwrap();
    assert!(v.comments.last().unwrap().at > last);
}

#[test]
fn duplicates_and_queries() {
    let w = World::new();
    let mut chief = w.device("chief", Role::Chief, 0);
    let mut a = NewIssue::at("overflowing_bin", LAT, LON);
    a.street_id = Some("s1".into());
    let first = chief.report_issue(a.clone()).unwrap().issue.id;
    // 30 m away, same category: offered as a duplicate. Another category or 200 m away: not.
    let mut near = NewIssue::at("overflowing_bin", LAT + 30.0 / 111_195.0, LON);
    near.street_id = Some("s1".into());
    let out = chief.report_issue(near).unwrap();
    assert_eq!(out.possible_duplicates.len(), 1);
    assert_eq!(out.possible_duplicates[0].id, first);
    assert!((out.possible_duplicates[0].distance_m.unwrap() - 30.0).abs() < 1.0);
    assert!(
        chief
            .report_issue(NewIssue::at("litter", LAT, LON))
            .unwrap()
            .possible_duplicates
            .is_empty()
    );
    assert!(
        chief
            .report_issue(NewIssue::at("overflowing_bin", LAT + 0.002, LON))
            .unwrap()
            .possible_duplicates
            .is_empty()
    );
    // Asked later about an existing issue: the same answer, leaving the issue itself out.
    let later = chief.possible_duplicates(out.issue.id).unwrap();
    assert_eq!(later.iter().map(|s| s.id).collect::<Vec<_>>(), vec![first]);
    assert_eq!(
        chief
            .possible_duplicates(first)
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect::<Vec<_>>(),
        vec![out.issue.id]
    );
    assert!(matches!(
        chief.possible_duplicates(IssueId::new()),
        Err(Error::UnknownIssue(_))
    ));
    chief.mark_duplicate(out.issue.id, first).unwrap();
    assert!(
        chief.possible_duplicates(first).unwrap().is_empty(),
        "a duplicate is closed, so no longer offered"
    );

    let q = |q: IssueQuery| chief.list_issues(&q).unwrap();
    assert_eq!(
        q(IssueQuery {
            street_id: Some("s1".into()),
            open_only: true,
            ..Default::default()
        })
        .len(),
        1
    );
    assert_eq!(
        q(IssueQuery {
            status: Some(IssueStatus::Duplicate),
            ..Default::default()
        })
        .len(),
        1
    );
    assert_eq!(
        q(IssueQuery {
            near: Some((LAT, LON, 100.0)),
            ..Default::default()
        })
        .len(),
        3
    );
    assert_eq!(chief.overdue_issues(None).unwrap().len(), 0);
    // Overflowing bins are due in 12 hours, litter in 24.
    w.advance_min(13 * 60);
    let overdue = chief.overdue_issues(None).unwrap();
    assert_eq!(overdue.len(), 2);
    assert!(
        overdue
            .iter()
            .all(|s| s.category == "overflowing_bin" && s.overdue)
    );
    assert_eq!(
        chief
            .count_issues(&IssueQuery {
                overdue_at_ms: Some(chief.clock().now_ms()),
                ..Default::default()
            })
            .unwrap(),
        2
    );
    assert!(matches!(
        chief.report_issue(NewIssue::at("graffiti", LAT, LON)),
        Err(Error::InvalidInput(_))
    ));
    assert!(matches!(
        chief.report_issue(NewIssue::at("litter", 0.0, 0.0)),
        Err(Error::InvalidInput(_))
    ));
    // A custom category is listed and has its own due time.
    chief
        .add_issue_category("shared_bikes", "共享单车乱停", "shared bikes", 2)
        .unwrap();
    let id = chief
        .report_issue(NewIssue::at("shared-bikes", 39.95, 116.3))
        .unwrap()
        .issue
        .id;
    assert_eq!(
        chief.issue(id).unwrap().due_at_ms - chief.issue(id).unwrap().reported_at_ms,
        2 * 3_600_000
    );
}

#[test]
fn returns_and_reassignment() {
    let w = World::new();
    let mut chief = w.device("chief", Role::Chief, 0);
    let mut officer = w.device("officer", Role::Enforcement, 0);
    let id = chief
        .report_issue(NewIssue::at("street_vending", LAT, LON))
        .unwrap()
        .issue
        .id;
    chief
        .assign_issue(id, Assignee::Department(Department::Enforcement), None)
        .unwrap();
    hand_over(&chief, &mut officer, id);
    assert!(refused(officer.return_issue(id, " ")).contains("reason"));
    let v = officer
        .return_issue(id, "not a vending case: the stall is licensed")
        .unwrap();
    assert_eq!(v.status, IssueStatus::Returned);
    hand_over(&officer, &mut chief, id);
    let me = officer.require_device().unwrap();
    let v = chief
        .assign_issue(id, Assignee::User(me.user_id), None)
        .unwrap();
    assert_eq!(v.status, IssueStatus::Assigned);
    assert_eq!(v.assignee, Some(Assignee::User(me.user_id)));
    assert!(refused(chief.verify_issue(id, None)).contains("only a resolved issue"));
    assert!(refused(chief.reopen_issue(id, "x")).contains("still open"));
    let v = chief.cancel_issue(id, "the stall left").unwrap();
    assert_eq!(v.status, IssueStatus::Cancelled);
    assert!(!v.status.is_open());
}

#[test]
fn a_batch_import_takes_all_or_nothing() {
    let w = World::new();
    let mut chief = w.device("chief", Role::Chief, 0);
    let mut supervisor = w.device("supervisor", Role::Supervisor, 0);
    let ids: Vec<IssueId> = (0..3)
        .map(|i| {
            chief
                .report_issue(NewIssue::at("litter", LAT + i as f64 * 1e-4, LON))
                .unwrap()
                .issue
                .id
        })
        .collect();
    chief.comment_issue(ids[1], "已通知物业").unwrap();
    let docs: Vec<Vec<u8>> = ids
        .iter()
        .map(|id| chief.export_issue(*id).unwrap())
        .collect();

    // One bad document in the batch: nothing is imported, and the error says which.
    let mut with_junk: Vec<&[u8]> = docs.iter().map(Vec::as_slice).collect();
    with_junk.insert(2, b"not a document");
    match supervisor.import_issues(with_junk) {
        Err(Error::BadDocument(why)) => assert!(why.contains("document 3 of the batch"), "{why}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(supervisor.count_issues(&IssueQuery::default()).unwrap(), 0);

    let outcomes = supervisor
        .import_issues(docs.iter().map(Vec::as_slice))
        .unwrap();
    assert_eq!(outcomes.iter().map(|o| o.id).collect::<Vec<_>>(), ids);
    assert!(outcomes.iter().all(|o| o.new && o.changed));
    for id in &ids {
        assert_eq!(
            supervisor.issue(*id).unwrap().heads,
            chief.issue(*id).unwrap().heads
        );
    }
    assert_eq!(supervisor.issue(ids[1]).unwrap().comments.len(), 1);
    // Stored as they came, they load again after a restart and merge further changes.
    drop(supervisor);
    let mut supervisor =
        Store::open(w.dir.path().join("supervisor.db"), StoreConfig::default()).unwrap();
    let base = chief.issue_heads(ids[0]).unwrap();
    chief.comment_issue(ids[0], "复查").unwrap();
    let delta = chief.issue_changes_since(ids[0], &base).unwrap();
    assert!(
        supervisor
            .apply_issue_changes(Some(ids[0]), &delta)
            .unwrap()
            .changed
    );
    assert_eq!(
        supervisor.issue(ids[0]).unwrap().heads,
        chief.issue(ids[0]).unwrap().heads
    );
}

/// An issue document whose events list holds a mark operation (marks belong on text; the
/// public API refuses them elsewhere, a hand-made change does not).
fn marked_events_list(doc: &automerge::Automerge) -> Vec<u8> {
    let first = doc.get_changes(&[]).into_iter().next().unwrap().decode();
    let v = serde_json::to_value(&first).unwrap();
    let actor = v["actor"].as_str().unwrap().to_owned();
    let events_at = v["ops"]
        .as_array()
        .unwrap()
        .iter()
        .position(|op| op["key"] == "events")
        .unwrap();
    let events = format!("{}@{actor}", first.start_op.get() + events_at as u64);
    let last = doc.get_changes(&[]).into_iter().last().unwrap();
    let mark: automerge::ExpandedChange = serde_json::from_value(serde_json::json!({
        "actor": actor, "seq": last.seq() + 1, "startOp": last.max_op() + 1, "time": 0,
        "deps": doc.get_heads().iter().map(|h| h.to_string()).collect::<Vec<_>>(),
        "ops": [{ "action": "markBegin", "obj": events, "elemId": "_head", "insert": true,
                  "name": "bold", "value": true, "expand": false, "pred": [] }],
    }))
    .unwrap();
    let mut tampered = doc.clone();
    tampered
        .apply_changes([automerge::Change::from(mark)])
        .unwrap();
    tampered.save()
}

#[test]
fn a_document_with_marks_outside_text_is_refused_not_panicked_on() {
    let w = World::new();
    let mut chief = w.device("chief", Role::Chief, 0);
    let mut other = w.device("other", Role::Supervisor, 0);
    let id = chief
        .report_issue(NewIssue::at("litter", LAT, LON))
        .unwrap()
        .issue
        .id;
    let doc = automerge::Automerge::load(&chief.export_issue(id).unwrap()).unwrap();
    let tampered = marked_events_list(&doc);
    match other.import_issue(&tampered) {
        Err(Error::BadDocument(why)) => assert!(why.contains("cannot read"), "{why}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(other.count_issues(&IssueQuery::default()).unwrap(), 0);
}
