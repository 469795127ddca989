//! Supervisor reports on a small district where every figure was worked out by hand
//! (`patrol_tests::district` builds it: four streets, three chiefs, a steward, a crew, a
//! supervisor, one week of patrols and issues, merchants). The period is 2024-W49.
//!
//! Chief A (王芳) answers for 东街 (2 segments) and 西街 (1); residential streets need
//! ceil(3 x 7 / 7) = 3 patrols a segment in a week. A patrolled 东街+西街 on Monday and Tuesday
//! and the first half of 东街 on Wednesday: segment patrols 3, 2, 2, so 1 of 3 segments is
//! patrolled often enough. Hours: 600 + 600 + 200 s = 0.3889 h. A found I1, I2 and I4.
//! Issues on A's streets in the week: I1 (litter, resolved after 11 h of 24, verified at 24 h),
//! I2 (overflowing bin, resolved after 24 h of 12: late, verified at 36 h), I3 (illegal
//! parking, found by C, resolved after 2 h of 4, verified, then reopened Thursday), I4
//! (reported Sunday evening, resolved and verified on Monday 9 December: after the period).
//! So: assigned 4/4, resolved 3, on time 2/4, verified (at the period's end) 2/4, reopened 1,
//! median hours to verify (24, 36) = 30.
//! Score (default rules, version 2): coverage 35 x (1/3)/0.9 = 12.963, the patrol duty met to
//! (1/3)/0.9 = 0.37037; hours 15 x 0.3889/5 = 1.1667; found 10 x 3/3 = 10; the four
//! issue-handling lines are scaled by that 0.37037 (`scaled_by: coverage_share`): assigned
//! 10 x 0.37037 = 3.7037; on time 15 x 0.5/0.9 = 8.3333 x 0.37037 = 3.0864; verified 10 x
//! 0.5/0.9 = 5.5556 x 0.37037 = 2.0576; median 5 x (30-168)/(24-168) = 4.7917 x 0.37037 =
//! 1.7747; reopened -2. Lines rounded to cents: 12.96 + 1.17 + 10 + 3.70 + 3.09 + 2.06 + 1.77
//! - 2 = 32.75. (Version 1 gave the issue lines in full: 50.81.)
//!
//! Chief B (李雷) answers for 北巷 (footway, 2 patrols a segment a week, 2 segments): two
//! patrols of the whole alley (a third is the week after), 600 s; found I5 on it, never
//! assigned. Coverage 2 of 2: the duty met to 1, so nothing is scaled down. Score: 35 + 15 x
//! 0.1667/5 = 0.5 + 10 x 1/3 = 3.3333 + 0 + 0 + 0 + 5 (no verified issue: full) = 43.83. B
//! ranks first, A second.
//!
//! Chief C (赵敏) has no streets and no patrols, found I3: coverage has nothing to measure (0
//! of 35), so the duty is met to 0 and the issue lines' "nothing to handle: full marks" x 0 =
//! 0: 0 + 0 + 3.3333 + 0 + 0 + 0 + 0 = 3.33. (Version 1 gave 43.33: points for doing nothing.)
//!
//! Every patrol of the district is made from a walk file (`import_track`), so each counts as
//! imported: the default rules count them and say so; rules that leave imported patrols out
//! leave A coverage 0 of 3 segments, so the issue lines x 0: 0 + 0 + 10 + 0 + 0 + 0 + 0 - 2 =
//! 8, and B 0 + 0 + 3.3333 + 0 + 0 + 0 + 0 = 3.33.

use patrol_core::report::rules::Metric;
use patrol_core::report::{Period, ReportRules, ToTables};
use patrol_core::{IssueStatus, Store};
use patrol_tests::district::{self, District};

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

fn w49() -> Period {
    Period::parse("2024-W49").unwrap()
}

#[test]
fn chief_assessment_matches_the_hand_computed_week() {
    let tmp = tempfile::tempdir().unwrap();
    let d = district::build(tmp.path());
    let rules = ReportRules::default();
    let r = d.supervisor.assessment_report(&w49(), &rules).unwrap();
    assert_eq!(
        r.chiefs.len(),
        3,
        "{:#?}",
        r.chiefs.iter().map(|c| &c.person).collect::<Vec<_>>()
    );
    let by_name = |n: &str| {
        r.chiefs
            .iter()
            .find(|c| c.person.name.as_deref() == Some(n))
            .unwrap()
    };

    let a = by_name("王芳");
    assert_eq!(a.person.user_id, District::user_id(&d.chief_a));
    assert_eq!(
        (
            a.rank,
            a.patrols,
            a.streets_assigned,
            a.segments,
            a.segments_patrolled_enough
        ),
        (2, 3, 2, 3, 1)
    );
    assert_eq!(a.patrols_imported, 3);
    assert!(
        a.notes.iter().any(|n| n.contains("3 patrol(s) imported")),
        "{:?}",
        a.notes
    );
    assert!(close(a.hours, 1400.0 / 3600.0, 1e-3), "{}", a.hours);
    assert!(close(a.distance_m, 1400.0, 2.0), "{}", a.distance_m);
    assert_eq!(a.coverage_share, Some(0.3333));
    let east = a
        .streets
        .iter()
        .find(|s| s.name.as_deref() == Some("东街"))
        .unwrap();
    assert_eq!(
        (
            east.segments,
            east.required_patrols,
            east.segments_patrolled_enough,
            east.patrols
        ),
        (2, 3, 1, 3)
    );
    assert_eq!((east.min_segment_patrols, east.max_segment_patrols), (2, 3));
    let west = a
        .streets
        .iter()
        .find(|s| s.name.as_deref() == Some("西街"))
        .unwrap();
    assert_eq!(
        (west.segments, west.segments_patrolled_enough, west.patrols),
        (1, 0, 2)
    );
    assert_eq!(a.issues_found, 3);
    assert_eq!(
        (
            a.issues_on_streets,
            a.issues_assigned,
            a.issues_resolved,
            a.issues_resolved_on_time,
            a.issues_verified,
            a.issues_reopened
        ),
        (4, 4, 3, 2, 2, 1)
    );
    assert_eq!(a.median_hours_to_verify, Some(30.0));
    let points: Vec<f64> = a.explanation.iter().map(|l| l.points).collect();
    assert_eq!(points, vec![12.96, 1.17, 10.0, 3.7, 3.09, 2.06, 1.77, -2.0]);
    assert_eq!((a.score, a.max_score), (32.75, 100.0));
    assert!(
        a.explanation[3].explanation.contains("x 0.37 = 3.7 points")
            && a.explanation[3]
                .explanation
                .contains("assigned segments patrolled often enough"),
        "{}",
        a.explanation[3].explanation
    );
    assert!(
        a.explanation[0].detail.contains("1 of 3"),
        "{}",
        a.explanation[0].detail
    );
    assert!(
        a.explanation[7].explanation.contains("-2"),
        "{}",
        a.explanation[7].explanation
    );

    let b = by_name("李雷");
    assert_eq!(
        (b.rank, b.patrols, b.segments, b.segments_patrolled_enough),
        (1, 2, 2, 2)
    );
    assert!(close(b.hours, 600.0 / 3600.0, 1e-3));
    assert_eq!(
        (
            b.issues_found,
            b.issues_on_streets,
            b.issues_assigned,
            b.issues_verified
        ),
        (1, 1, 0, 0)
    );
    assert_eq!(b.median_hours_to_verify, None);
    assert_eq!(b.score, 43.83);

    let c = by_name("赵敏");
    assert_eq!(
        (c.rank, c.patrols, c.streets_assigned, c.segments),
        (3, 0, 0, 0)
    );
    assert_eq!(c.coverage_share, None);
    assert_eq!(c.issues_found, 1);
    assert_eq!(c.score, 3.33);
    assert!(
        c.notes.iter().any(|n| n.contains("no streets assigned")),
        "{:?}",
        c.notes
    );
    assert!(
        c.notes.iter().any(|n| n.contains("no patrols")),
        "{:?}",
        c.notes
    );
    assert!(
        c.explanation[0].explanation.contains("nothing to measure"),
        "{}",
        c.explanation[0].explanation
    );

    // The same figures again come from the coverage cache, not a second map matching.
    let cached: i64 = d
        .supervisor
        .connection()
        .query_row("SELECT COUNT(*) FROM patrol_coverage_cache", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(cached, 5, "A's three patrols and B's two in the week");
    assert_eq!(d.supervisor.assessment_report(&w49(), &rules).unwrap(), r);
}

#[test]
fn no_streets_and_no_patrols_earn_nothing_on_the_issue_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let d = district::build(tmp.path());
    let r = d
        .supervisor
        .assessment_report(&w49(), &ReportRules::default())
        .unwrap();
    let by_name = |n: &str| {
        r.chiefs
            .iter()
            .find(|c| c.person.name.as_deref() == Some(n))
            .unwrap()
    };
    let handling = [
        Metric::AssignedShare,
        Metric::OnTimeShare,
        Metric::VerifiedShare,
        Metric::MedianHoursToVerify,
    ];
    let issue_points = |c: &patrol_core::report::ChiefAssessment| -> f64 {
        c.explanation
            .iter()
            .filter(|l| handling.contains(&l.metric))
            .map(|l| l.points)
            .sum()
    };
    // C (no streets, no patrols) has nothing to handle: under version 1 that was 40 points.
    let idle = by_name("赵敏");
    assert_eq!(issue_points(idle), 0.0);
    for l in idle
        .explanation
        .iter()
        .filter(|l| handling.contains(&l.metric))
    {
        assert!(
            l.explanation.contains("nothing to measure") && l.explanation.contains("x 0 = 0"),
            "{}",
            l.explanation
        );
    }
    // B patrolled every segment often enough and had one issue on the alley: 5 points.
    let patrolled = by_name("李雷");
    assert!(close(issue_points(patrolled), 5.0, 1e-9));
    assert!(patrolled.score > idle.score);
    // A patrolled a third of the segments enough: 3.7 + 3.09 + 2.06 + 1.77.
    assert!(close(issue_points(by_name("王芳")), 10.62, 1e-9));
}

#[test]
fn an_issue_verified_after_the_period_counts_as_verified_only_in_a_later_one() {
    let tmp = tempfile::tempdir().unwrap();
    let d = district::build(tmp.path());
    let rules = ReportRules::default();
    // Over two weeks I4's verification (Monday 9 December) is inside the period.
    let two = Period::parse("2024-12-02..2024-12-15").unwrap();
    let a2 = d.supervisor.assessment_report(&two, &rules).unwrap();
    let a = a2
        .chiefs
        .iter()
        .find(|c| c.person.name.as_deref() == Some("王芳"))
        .unwrap();
    assert_eq!(
        (a.issues_on_streets, a.issues_resolved, a.issues_verified),
        (4, 4, 3)
    );
    // I4: reported Sunday 20:00, verified Monday 12:00: 16 h. Median of 16, 24, 36 = 24.
    assert_eq!(a.median_hours_to_verify, Some(24.0));
    // Two weeks need ceil(3 x 14 / 7) = 6 patrols per residential segment: none has them.
    assert_eq!(a.segments_patrolled_enough, 0);
    let b = a2
        .chiefs
        .iter()
        .find(|c| c.person.name.as_deref() == Some("李雷"))
        .unwrap();
    assert_eq!(b.patrols, 3, "B's patrol of 10 December is in");
}

#[test]
fn a_period_with_no_patrols_or_issues_scores_from_the_rules_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let d = district::build(tmp.path());
    let r = d
        .supervisor
        .assessment_report(&Period::parse("2025-01").unwrap(), &ReportRules::default())
        .unwrap();
    assert_eq!(r.chiefs.len(), 3);
    for c in &r.chiefs {
        assert_eq!(
            (c.patrols, c.issues_found, c.issues_on_streets),
            (0, 0, 0),
            "{}",
            c.person.user_id
        );
        assert_eq!(c.hours, 0.0);
        assert!(c.notes.iter().any(|n| n.contains("no patrols")));
    }
    // With streets: coverage 0 of 35; hours 0; found 0; the issue lines would be full (nothing
    // to handle) but count only as far as the patrol duty was met: (10 + 15 + 10 + 5) x 0 = 0.
    let a = r
        .chiefs
        .iter()
        .find(|c| c.person.name.as_deref() == Some("王芳"))
        .unwrap();
    assert_eq!(a.coverage_share, Some(0.0));
    assert_eq!(a.score, 0.0);
    assert!(r.chiefs.iter().all(|c| c.score == 0.0));
}

#[test]
fn rules_can_leave_imported_patrols_out() {
    let tmp = tempfile::tempdir().unwrap();
    let d = district::build(tmp.path());
    let mut v: serde_json::Value =
        serde_json::from_str(patrol_core::report::rules::DEFAULT_RULES_JSON).unwrap();
    assert_eq!(v["assessment"]["count_imported_patrols"], true);
    v["assessment"]["count_imported_patrols"] = false.into();
    let rules = ReportRules::from_json(&v.to_string()).unwrap();
    let r = d.supervisor.assessment_report(&w49(), &rules).unwrap();
    let by_name = |n: &str| {
        r.chiefs
            .iter()
            .find(|c| c.person.name.as_deref() == Some(n))
            .unwrap()
    };
    let a = by_name("王芳");
    assert_eq!((a.patrols, a.patrols_imported), (0, 3));
    assert_eq!((a.hours, a.segments_patrolled_enough), (0.0, 0));
    assert_eq!(a.score, 8.0);
    assert!(
        a.notes.iter().any(|n| n.contains("are not counted")),
        "{:?}",
        a.notes
    );
    let b = by_name("李雷");
    assert_eq!((b.patrols, b.patrols_imported, b.score), (0, 2, 3.33));

    // A rules file written before the setting existed counts imported patrols.
    v["assessment"]
        .as_object_mut()
        .unwrap()
        .remove("count_imported_patrols");
    let older = ReportRules::from_json(&v.to_string()).unwrap();
    assert!(older.assessment.count_imported_patrols);
}

#[test]
fn rules_are_data_a_district_can_change() {
    let tmp = tempfile::tempdir().unwrap();
    let d = district::build(tmp.path());
    let mut v: serde_json::Value =
        serde_json::from_str(patrol_core::report::rules::DEFAULT_RULES_JSON).unwrap();
    v["name"] = "只看巡查".into();
    v["version"] = 7.into();
    // Only coverage counts, full marks at half the segments; residential needs 2 a week.
    v["assessment"]["lines"] = serde_json::json!([
        { "metric": "coverage_share", "weight": 100, "full_at": 0.5, "zero_at": 0.0 }
    ]);
    v["assessment"]["required_patrols_per_week"]["residential"] = 2.into();
    let rules = ReportRules::from_json(&v.to_string()).unwrap();
    let r = d.supervisor.assessment_report(&w49(), &rules).unwrap();
    assert_eq!((r.rules_name.as_str(), r.rules_version), ("只看巡查", 7));
    let a = r
        .chiefs
        .iter()
        .find(|c| c.person.name.as_deref() == Some("王芳"))
        .unwrap();
    // Now every segment of A's has its 2 patrols: 3 of 3, capped at 100.
    assert_eq!(a.segments_patrolled_enough, 3);
    assert_eq!(a.score, 100.0);
    assert_eq!(a.explanation.len(), 1);
}

#[test]
fn stewards_points_cap_pickups_and_workload() {
    let tmp = tempfile::tempdir().unwrap();
    let d = district::build(tmp.path());
    let r = d
        .supervisor
        .steward_report(&w49(), &ReportRules::default())
        .unwrap();
    assert_eq!(r.stewards.len(), 1);
    let s = &r.stewards[0];
    assert_eq!(s.person.name.as_deref(), Some("刘大妈"));
    // Six pickups of 2 bags: 2 + 2 x 1 = 4 points each, 20 a day at most: 4, 4, 4, 4, 4, 0.
    assert_eq!(
        (
            s.pickups,
            s.bags,
            s.points_earned,
            s.points_balance,
            s.entries_capped
        ),
        (6, 12, 20, 20, 1)
    );
    assert_eq!(s.history.len(), 6);
    assert_eq!(s.history.last().unwrap().points, 0);
    assert!(
        s.history
            .last()
            .unwrap()
            .note
            .as_deref()
            .unwrap()
            .contains("daily cap")
    );
    assert_eq!((s.streets, s.patrols), (2, 1));
    assert_eq!(s.leaderboard_subdistrict, "八角");
    assert_eq!(r.leaderboards.len(), 1);
    assert_eq!(r.leaderboards[0].ranking[0].points_earned, 20);
    // Pickups were logged without a street: their place matches 南路.
    assert_eq!(r.pickups_by_street.len(), 1);
    assert_eq!(r.pickups_by_street[0].name.as_deref(), Some("南路"));
    assert_eq!(
        (r.pickups_by_street[0].pickups, r.pickups_by_street[0].bags),
        (6, 12)
    );
    // Workload: patrols per street in the week, and streets no steward covered lately.
    let w = |n: &str| {
        r.streets
            .iter()
            .find(|s| s.name.as_deref() == Some(n))
            .unwrap()
    };
    assert_eq!(
        (
            w("东街").patrols,
            w("西街").patrols,
            w("北巷").patrols,
            w("南路").patrols
        ),
        (3, 2, 2, 1)
    );
    assert_eq!(
        (w("南路").steward_patrols, w("北巷").steward_patrols),
        (1, 0)
    );
    assert!(w("东街").patrol_hours > 0.0);
    assert_eq!(w("北巷").stewards.len(), 1);
    let mut flagged: Vec<String> = r
        .streets
        .iter()
        .filter(|s| s.not_covered_lately)
        .map(|s| s.name.clone().unwrap())
        .collect();
    flagged.sort();
    assert_eq!(flagged, vec!["东街", "北巷", "西街"]);
    assert_eq!(r.streets_not_covered_lately.len(), 3);
}

#[test]
fn merchant_credit_decays_and_rates() {
    let tmp = tempfile::tempdir().unwrap();
    let d = district::build(tmp.path());
    let r = d
        .supervisor
        .merchant_report(&w49(), &ReportRules::default())
        .unwrap();
    assert_eq!(r.merchants.len(), 2);
    let shop = r
        .merchants
        .iter()
        .find(|m| m.merchant_id == d.merchant_shop)
        .unwrap();
    // Inspection Tuesday 12:00 (5.5 days before the week ends): poor -8, good +1, fair -3 = -10,
    // x 0.5^(5.5/90) = -9.5853. I1 (litter, 10 m away) Monday 09:00 (6.625 days): -4 x
    // 0.5^(6.625/90) = -3.8010. 100 - 13.3863 = 86.61: rating B.
    assert_eq!(shop.credit_score, 86.61);
    assert_eq!(shop.rating.as_deref(), Some("B"));
    assert_eq!(shop.linked_issue_ids, vec![d.issues[0]]);
    assert_eq!(
        (shop.inspections_in_period, shop.issues_linked_in_period),
        (1, 1)
    );
    assert_eq!(shop.duties_in_period["sanitation"]["poor"], 1);
    assert_eq!(shop.street_name.as_deref(), Some("东街"));
    assert!(
        shop.explanation
            .iter()
            .any(|l| l.contains("sanitation poor (-8)")),
        "{:?}",
        shop.explanation
    );
    let florist = r
        .merchants
        .iter()
        .find(|m| m.merchant_id == d.merchant_florist)
        .unwrap();
    assert_eq!(
        (florist.credit_score, florist.rating.as_deref()),
        (100.0, Some("A"))
    );
    assert_eq!(
        florist.street_name.as_deref(),
        Some("西街"),
        "matched from its location"
    );
    assert!(
        florist.linked_issue_ids.is_empty(),
        "I2 is 51 m away, beyond the 30 m link radius"
    );
    // Before the inspection, the shop's record was clean.
    let earlier = d
        .supervisor
        .merchant_report(&Period::parse("2024-11").unwrap(), &ReportRules::default())
        .unwrap();
    let shop = earlier
        .merchants
        .iter()
        .find(|m| m.merchant_id == d.merchant_shop)
        .unwrap();
    assert_eq!(
        (shop.credit_score, shop.rating.as_deref()),
        (100.0, Some("A"))
    );
}

#[test]
fn tables_csv_and_xlsx_hold_every_chief() {
    let tmp = tempfile::tempdir().unwrap();
    let d = district::build(tmp.path());
    let r = d
        .supervisor
        .assessment_report(&w49(), &ReportRules::default())
        .unwrap();
    let tables = r.tables();
    assert_eq!(
        tables.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        vec!["chiefs", "streets", "explanation"]
    );
    assert_eq!(tables[0].rows.len(), 3);
    assert_eq!(tables[1].rows.len(), 3, "A's two streets and B's one");
    assert_eq!(tables[2].rows.len(), 3 * 8);
    let csv = patrol_core::report::export::csv(&tables[0]);
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(lines[0].starts_with("rank,user_id,name,subdistrict,score"));
    assert!(
        lines[1].contains("李雷") && lines[1].contains("43.83"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains("王芳") && lines[2].contains("32.75"),
        "{}",
        lines[2]
    );
    let xlsx = patrol_core::report::export::xlsx(&tables).unwrap();
    assert_eq!(&xlsx[..2], b"PK", "an XLSX file is a zip archive");
    assert!(
        xlsx.windows(b"xl/worksheets/sheet3.xml".len())
            .any(|w| w == b"xl/worksheets/sheet3.xml")
    );
}

#[test]
fn issue_states_as_of_the_period_end() {
    let tmp = tempfile::tempdir().unwrap();
    let d = district::build(tmp.path());
    // Today I3 is reopened and I4 verified; the store's projection says so.
    assert_eq!(
        d.supervisor.issue(d.issues[2]).unwrap().status,
        IssueStatus::Reopened
    );
    assert_eq!(
        d.supervisor.issue(d.issues[3]).unwrap().status,
        IssueStatus::Verified
    );
    let _: &Store = &d.supervisor;
}
