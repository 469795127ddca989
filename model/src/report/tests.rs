//! Reports computed from hand-written facts: a small network of two streets, a few people,
//! patrols with what they covered, issues, ledger rows and pickups; the expected figures are
//! worked out by hand from the rules below, not read back from the code.

use std::collections::{BTreeMap, HashMap};

use crate::coverage::{Coverage, CoverageConfig};
use crate::domain::{
    DutyGrade, InspectionId, IssueEventKind, IssueId, IssueStatus, MerchantId, PatrolId,
    PointsEntryId, PointsKind, Role, SegmentId, StreetId, UserId,
};
use crate::hlc::HlcStamp;
use crate::matching::MatchConfig;
use crate::merchants::{Inspection, IssueLink, Merchant, MerchantFields};
use crate::report::assessment::{AssessmentFacts, assess_chiefs, patrols_to_measure};
use crate::report::facts::{
    Assignment, CoverageFacts, IssueOutcome, PatrolFacts, People, Person, PickupFacts, PointsEntry,
    ReportedIssue, median,
};
use crate::report::merchants::{MerchantFacts, MerchantIssue, merchant_report};
use crate::report::network::network_coverage;
use crate::report::period::{DAY_MS, Period};
use crate::report::rules::{ReportRules, ScoreRule};
use crate::report::stewards::{StewardFacts, steward_report};
use crate::spatial::IndexedNetwork;
use crate::streets::{Segment, Street, StreetNetwork};

const HOUR_MS: i64 = 3_600_000;

/// Two streets: 东街 of four segments of 100 m (west to east at 39.9 N) in 八角, and 西街 of
/// two (at 39.91 N) in 古城. Returns the network and the street ids.
fn network() -> (StreetNetwork, StreetId, StreetId) {
    let street = |name: &str, sub: &str| Street {
        id: StreetId::new(),
        name: Some(name.into()),
        subdistrict: Some(sub.into()),
        class: "residential".into(),
        length_m: 0.0,
    };
    let (east, west) = (street("东街", "八角"), street("西街", "古城"));
    let seg = |street: &Street, lat: f64, k: u32| Segment {
        id: SegmentId::new(),
        street_id: street.id,
        ordinal: k,
        points: vec![
            (lat, 116.200 + f64::from(k) * 0.001),
            (lat, 116.201 + f64::from(k) * 0.001),
        ],
        length_m: 100.0,
    };
    let segments = vec![
        seg(&east, 39.9, 0),
        seg(&east, 39.9, 1),
        seg(&east, 39.9, 2),
        seg(&east, 39.9, 3),
        seg(&west, 39.91, 0),
        seg(&west, 39.91, 1),
    ];
    let (e, w) = (east.id, west.id);
    (StreetNetwork::new(vec![east, west], segments), e, w)
}

fn person(id: &str, name: &str, role: Role, sub: Option<&str>) -> Person {
    Person {
        user_id: id.into(),
        name: Some(name.into()),
        role: Some(role),
        subdistrict: sub.map(Into::into),
    }
}

fn week() -> Period {
    Period::parse("2024-W49").unwrap()
}

/// A patrol `hours` into the week by `user`, covering (segment, metres) and spending
/// (street, seconds).
fn patrol(
    user: &str,
    hours: i64,
    covered: &[(usize, f64)],
    times: &[(usize, f64)],
    imported: bool,
) -> PatrolFacts {
    PatrolFacts {
        id: PatrolId::new(),
        user_id: user.into(),
        started_at_ms: week().from_ms + hours * HOUR_MS,
        duration_s: 1800.0,
        distance_m: 1000.0,
        imported,
        coverage: Some(CoverageFacts {
            segments_m: covered.to_vec(),
            street_times_s: times.to_vec(),
        }),
    }
}

/// Rules easy to work out by hand: one patrol a week per segment; 60 points for coverage
/// (linear to all segments), 10 a patrol up to 40.
fn rules() -> ReportRules {
    let mut rules = ReportRules::default();
    rules.assessment.required_patrols_per_week = BTreeMap::from([("default".into(), 1.0)]);
    rules.assessment.lines = vec![
        serde_json::from_str::<ScoreRule>(
            r#"{ "metric": "coverage_share", "weight": 60, "full_at": 1.0, "zero_at": 0.0 }"#,
        )
        .unwrap(),
        serde_json::from_str::<ScoreRule>(r#"{ "metric": "patrols", "per_unit": 10, "cap": 40 }"#)
            .unwrap(),
    ];
    rules.validate().unwrap();
    rules
}

/// Chief 王 (a) answers for 东街 by id, chief 李 (b) for 西街 by name; steward 刘 (c).
fn people(east: StreetId, west: StreetId) -> People {
    People::new(
        vec![
            person("a", "王", Role::Chief, None),
            person("b", "李", Role::Chief, None),
            person("c", "刘", Role::Steward, Some("八角")),
        ],
        vec![
            Assignment {
                street_id: east,
                user_id: "a".into(),
                role: Role::Chief,
            },
            Assignment {
                street_id: west,
                user_id: "李".into(),
                role: Role::Chief,
            },
            Assignment {
                street_id: west,
                user_id: "c".into(),
                role: Role::Steward,
            },
        ],
    )
}

fn reported(id: &str, street: StreetId, reporter: &str, hours: i64) -> ReportedIssue {
    ReportedIssue {
        id: id.into(),
        category: "litter".into(),
        street_id: Some(street.to_string()),
        reporter_id: reporter.into(),
        lat: 39.9,
        lon: 116.2,
        reported_at_ms: week().from_ms + hours * HOUR_MS,
    }
}

fn assessment_facts(net: &StreetNetwork, east: StreetId, west: StreetId) -> AssessmentFacts {
    let seg =
        |street: StreetId, k: usize| net.street_segments[net.street_index(street).unwrap()][k];
    let (e0, e1, e2, e3) = (seg(east, 0), seg(east, 1), seg(east, 2), seg(east, 3));
    let (w0, w1) = (seg(west, 0), seg(west, 1));
    let at = |h: i64| week().from_ms + h * HOUR_MS;
    AssessmentFacts {
        people: people(east, west),
        patrols: vec![
            // 60 m of e1 is enough (half), 40 m of e2 is not.
            patrol("a", 10, &[(e0, 100.0), (e1, 60.0), (e2, 40.0)], &[], false),
            patrol("a", 30, &[(e0, 100.0), (e2, 80.0)], &[], false),
            patrol("a", 50, &[(e3, 100.0)], &[], true),
            patrol("b", 20, &[(w0, 100.0)], &[], false),
            // The steward's patrol is not the chief's.
            patrol("c", 20, &[(w1, 100.0)], &[], false),
        ],
        issues: vec![
            // Verified 6 h after the report.
            IssueOutcome::as_of(
                reported("i1", east, "a", 5),
                DAY_MS,
                &[
                    (IssueEventKind::Assign, at(6)),
                    (IssueEventKind::Resolve, at(8)),
                    (IssueEventKind::Verify, at(11)),
                ],
                week().to_ms,
            ),
            // Resolved after its day was up, not verified.
            IssueOutcome::as_of(
                reported("i2", east, "c", 5),
                DAY_MS,
                &[
                    (IssueEventKind::Assign, at(6)),
                    (IssueEventKind::Resolve, at(40)),
                ],
                week().to_ms,
            ),
            // A duplicate counts nowhere.
            IssueOutcome::as_of(
                reported("i3", west, "b", 5),
                DAY_MS,
                &[(IssueEventKind::DuplicateOf, at(6))],
                week().to_ms,
            ),
        ],
    }
}

#[test]
fn chiefs_are_scored_and_ranked_from_plain_facts() {
    let (net, east, west) = network();
    let facts = assessment_facts(&net, east, west);
    let report = assess_chiefs(&facts, Some(&net), &rules(), &week());
    assert_eq!(report.chiefs.len(), 2);
    let (first, second) = (&report.chiefs[0], &report.chiefs[1]);

    // 王: every segment of 东街 patrolled once or more (e0 twice, e1, e2 by the second patrol,
    // e3 by the imported one): 60 for coverage + 3 patrols x 10 = 90.
    assert_eq!((first.rank, first.person.user_id.as_str()), (1, "a"));
    assert_eq!((first.segments, first.segments_patrolled_enough), (4, 4));
    assert_eq!(first.coverage_share, Some(1.0));
    assert_eq!((first.patrols, first.patrols_imported), (3, 1));
    assert_eq!(first.score, 90.0);
    assert_eq!(first.max_score, 100.0);
    assert_eq!(first.hours, 1.5);
    let street = &first.streets[0];
    assert_eq!(street.name.as_deref(), Some("东街"));
    assert_eq!(
        (street.min_segment_patrols, street.max_segment_patrols),
        (1, 2)
    );
    assert_eq!(street.patrols, 3);
    // Issues: i1 found by 王, i1 and i2 on 东街; i2 late.
    assert_eq!(first.issues_found, 1);
    assert_eq!(
        (
            first.issues_on_streets,
            first.issues_assigned,
            first.issues_resolved,
            first.issues_resolved_on_time,
            first.issues_verified
        ),
        (2, 2, 2, 1, 1)
    );
    assert_eq!(first.median_hours_to_verify, Some(6.0));

    // 李, assigned 西街 by name: one of its two segments patrolled (the steward's patrol of
    // the other does not count): 30 + 10 = 40. The duplicate on 西街 counts nowhere.
    assert_eq!((second.rank, second.person.user_id.as_str()), (2, "b"));
    assert_eq!(second.streets_assigned, 1);
    assert_eq!(second.coverage_share, Some(0.5));
    assert_eq!(second.score, 40.0);
    assert_eq!((second.issues_found, second.issues_on_streets), (0, 0));
}

#[test]
fn imported_patrols_left_out_when_the_rules_say_so() {
    let (net, east, west) = network();
    let facts = assessment_facts(&net, east, west);
    let mut rules = rules();
    rules.assessment.count_imported_patrols = false;
    // Only the chiefs' recorded patrols need measuring.
    assert_eq!(
        patrols_to_measure(&facts.people, &facts.patrols, &rules),
        [0, 1, 3]
    );
    let report = assess_chiefs(&facts, Some(&net), &rules, &week());
    let wang = report
        .chiefs
        .iter()
        .find(|c| c.person.user_id == "a")
        .unwrap();
    // e3 was only patrolled by the imported patrol: 3 of 4, 45 + 20.
    assert_eq!(wang.coverage_share, Some(0.75));
    assert_eq!((wang.patrols, wang.patrols_imported), (2, 1));
    assert_eq!(wang.score, 65.0);
    assert!(wang.notes.iter().any(|n| n.contains("not counted")));
}

#[test]
fn without_a_network_nothing_is_measured_and_nothing_panics() {
    let (net, east, west) = network();
    let mut facts = assessment_facts(&net, east, west);
    // A coverage naming segments no network has is ignored, not indexed.
    facts.patrols[0].coverage = Some(CoverageFacts {
        segments_m: vec![(999, 100.0)],
        street_times_s: vec![(999, 60.0)],
    });
    let report = assess_chiefs(&facts, None, &rules(), &week());
    for c in &report.chiefs {
        assert!(c.streets.is_empty());
        assert_eq!(c.coverage_share, None);
    }
    let with_net = assess_chiefs(&facts, Some(&net), &rules(), &week());
    assert_eq!(with_net.chiefs.len(), 2);
}

#[test]
fn an_issue_outcome_is_as_of_the_end_it_is_asked_for() {
    let issue = || reported("i", StreetId::new(), "a", 0);
    let at = |h: i64| week().from_ms + h * HOUR_MS;
    let events = [
        (IssueEventKind::Assign, at(1)),
        (IssueEventKind::Resolve, at(2)),
        (IssueEventKind::Verify, at(3)),
        (IssueEventKind::Reopen, at(4)),
        (IssueEventKind::Resolve, at(40)),
    ];
    let before_reopen = IssueOutcome::as_of(issue(), DAY_MS, &events, at(4));
    assert_eq!(before_reopen.status_at_end, IssueStatus::Verified);
    assert!(before_reopen.verified && before_reopen.resolved_on_time);
    assert_eq!(before_reopen.hours_to_verify(), Some(3.0));
    let at_end = IssueOutcome::as_of(issue(), DAY_MS, &events, week().to_ms);
    assert_eq!(at_end.status_at_end, IssueStatus::Resolved);
    assert!(!at_end.verified);
    assert_eq!(at_end.verified_at_ms, None);
    assert_eq!(at_end.reopened, 1);
    // The first resolution was on time; the second round's lateness does not undo it.
    assert!(at_end.resolved_on_time);
    assert_eq!(at_end.due_at_ms, at(24));
}

#[test]
fn the_median_is_the_middle_or_the_mean_of_the_middle_two() {
    assert_eq!(median(&mut []), None);
    assert_eq!(median(&mut [5.0, 1.0, 3.0]), Some(3.0));
    assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
}

fn entry(user: &str, hours: i64, points: i64, note: Option<&str>) -> PointsEntry {
    PointsEntry {
        id: PointsEntryId::new(),
        user_id: user.parse::<UserId>().unwrap(),
        at_ms: week().from_ms + hours * HOUR_MS,
        day: "2024-12-02".into(),
        kind: if points < 0 {
            PointsKind::Redemption
        } else {
            PointsKind::Pickup
        },
        source_id: "s".into(),
        rule_id: "r".into(),
        rule_version: 1,
        points,
        note: note.map(Into::into),
    }
}

/// The stewards' week: three stewards (by UUID, as ledger rows name them), 刘 and 张 in 八角 by
/// their own subdistrict, 赵 counted in 古城 where the street assigned to them is. Returns the
/// facts, the network, the street ids (东街, 西街) and the stewards' ids (刘, 张, 赵).
fn steward_facts() -> (
    StewardFacts,
    IndexedNetwork,
    (StreetId, StreetId),
    [String; 3],
) {
    let (net, east, west) = network();
    let seg =
        |street: StreetId, k: usize| net.street_segments[net.street_index(street).unwrap()][k];
    let w1 = seg(west, 1);
    let (ie, iw) = (
        net.street_index(east).unwrap(),
        net.street_index(west).unwrap(),
    );
    let net = IndexedNetwork::build(net);
    let (c, d, e) = (UserId::new(), UserId::new(), UserId::new());
    let (cs, ds, es) = (c.to_string(), d.to_string(), e.to_string());
    let people = People::new(
        vec![
            person(&cs, "刘", Role::Steward, Some("八角")),
            person(&ds, "张", Role::Steward, Some("八角")),
            person(&es, "赵", Role::Steward, None),
        ],
        vec![Assignment {
            street_id: west,
            user_id: es.clone(),
            role: Role::Steward,
        }],
    );
    let streets: Vec<Street> = net.network.streets.clone();
    let facts = StewardFacts {
        people,
        streets,
        patrols: vec![
            // 赵 patrols 西街 in the week, half an hour on it.
            patrol(&es, 20, &[(w1, 100.0)], &[(iw, 1800.0)], false),
            // Someone else's patrol of 东街 counts for its effort, not as a steward's.
            patrol(
                "chief",
                30,
                &[(seg_of(&net, ie, 0), 100.0)],
                &[(ie, 900.0)],
                false,
            ),
        ],
        balances: BTreeMap::from([(cs.clone(), 30), (ds.clone(), 8), (es.clone(), 8)]),
        entries: vec![
            entry(&cs, 1, 4, None),
            entry(&cs, 2, 4, None),
            entry(&cs, 3, 0, Some("daily cap of 20 reached")),
            entry(&cs, 4, -5, None),
            entry(&ds, 1, 8, None),
            entry(&es, 1, 8, None),
        ],
        pickups: vec![
            PickupFacts {
                user_id: cs.clone(),
                lat: 39.9,
                lon: 116.2005,
                bags: 2,
                items: 0,
                street_id: Some(east.to_string()),
            },
            // No street given: its place, on 西街, decides.
            PickupFacts {
                user_id: es.clone(),
                lat: 39.91,
                lon: 116.2015,
                bags: 1,
                items: 3,
                street_id: None,
            },
        ],
    };
    (facts, net, (east, west), [cs, ds, es])
}

#[test]
fn stewards_get_points_leaderboards_pickups_and_workload() {
    let (facts, net, (east, west), [cs, _, es]) = steward_facts();
    let report = steward_report(
        &facts,
        Some(&net),
        &MatchConfig::default(),
        &rules(),
        &week(),
    );

    let liu = report
        .stewards
        .iter()
        .find(|s| s.person.user_id == cs)
        .unwrap();
    assert_eq!(
        (
            liu.points_earned,
            liu.points_redeemed,
            liu.points_balance,
            liu.entries_capped
        ),
        (8, 5, 30, 1)
    );
    assert_eq!((liu.pickups, liu.bags), (1, 2));
    assert_eq!(liu.history.len(), 4);
    let zhao = report
        .stewards
        .iter()
        .find(|s| s.person.user_id == es)
        .unwrap();
    assert_eq!(zhao.leaderboard_subdistrict, "古城");
    assert_eq!((zhao.streets, zhao.patrols, zhao.patrol_hours), (1, 1, 0.5));

    // 八角: 刘 and 张 both earned 8 and share the first rank.
    let bajiao = report
        .leaderboards
        .iter()
        .find(|b| b.subdistrict == "八角")
        .unwrap();
    let ranks: Vec<u32> = bajiao.ranking.iter().map(|r| r.rank).collect();
    assert_eq!(ranks, [1, 1]);

    // Pickups: one on 东街 by id, one placed on 西街 by matching.
    let on = |name: &str| {
        report
            .pickups_by_street
            .iter()
            .find(|p| p.name.as_deref() == Some(name))
            .map(|p| (p.pickups, p.bags, p.items))
    };
    assert_eq!(on("东街"), Some((1, 2, 0)));
    assert_eq!(on("西街"), Some((1, 1, 3)));

    // Workload: 西街 had a steward's patrol this week; 东街 only a chief's.
    let west_row = report
        .streets
        .iter()
        .find(|s| s.street_id == west.to_string())
        .unwrap();
    assert_eq!((west_row.patrols, west_row.steward_patrols), (1, 1));
    assert_eq!(west_row.patrol_hours, 0.5);
    assert_eq!(west_row.stewards, [es.as_str()]);
    assert!(!west_row.not_covered_lately);
    let east_row = report
        .streets
        .iter()
        .find(|s| s.street_id == east.to_string())
        .unwrap();
    assert_eq!((east_row.patrols, east_row.steward_patrols), (1, 0));
    assert_eq!(east_row.patrol_hours, 0.25);
    assert_eq!(report.streets_not_covered_lately, [east.to_string()]);
}

fn seg_of(net: &IndexedNetwork, street: usize, k: usize) -> usize {
    net.network.street_segments[street][k]
}

fn merchant(name: &str, lat: f64, lon: f64, closed: bool) -> Merchant {
    Merchant {
        id: MerchantId::new(),
        fields: MerchantFields {
            name: name.into(),
            lat,
            lon,
            closed,
            ..MerchantFields::default()
        },
        created_by: UserId::new(),
        created_at_ms: 0,
        inspections: Vec::new(),
        links: Vec::new(),
    }
}

fn stamp(wall_ms: i64) -> HlcStamp {
    HlcStamp {
        wall_ms,
        counter: 0,
        actor: "aa".into(),
    }
}

fn inspection(at_ms: i64, grades: [DutyGrade; 3]) -> Inspection {
    Inspection {
        id: InspectionId::new(),
        by: UserId::new(),
        role: Role::Chief,
        at: stamp(at_ms),
        sanitation: grades[0],
        greening: grades[1],
        order: grades[2],
        note: None,
        photos: Vec::new(),
    }
}

fn link(issue: IssueId, linked: bool) -> IssueLink {
    IssueLink {
        issue_id: issue,
        linked,
        by: UserId::new(),
        at: stamp(0),
    }
}

fn merchant_issue(category: &str, lat: f64, lon: f64, reported_at_ms: i64) -> MerchantIssue {
    MerchantIssue {
        id: IssueId::new(),
        category: category.into(),
        lat,
        lon,
        reported_at_ms,
    }
}

#[test]
fn merchant_credit_decays_links_by_place_and_hand_and_rates() {
    use DutyGrade::{Fair, Good, Poor};
    let end = week().to_ms;
    let (half, quarter) = (end - 90 * DAY_MS, end - 180 * DAY_MS);
    // A noodle shop, a grocery about 500 m east, and a closed shop.
    let mut noodles = merchant("面馆", 39.9, 116.2, false);
    let mut grocery = merchant("超市", 39.9, 116.206, false);
    let closed = merchant("旧店", 39.9, 116.2001, true);
    // Litter 11 m north of the noodle shop: linked by place. Litter 4 m from the grocery,
    // which said it is not theirs. Noise far away, linked to the grocery by hand.
    let near_noodles = merchant_issue("litter", 39.9001, 116.2, half);
    let near_grocery = merchant_issue("litter", 39.9, 116.20605, half);
    let far = merchant_issue("noise", 39.95, 116.3, half);
    grocery.links = vec![link(near_grocery.id, false), link(far.id, true)];
    // 90 days old weighs half: (-8 x 3) x 0.5; 180 days a quarter: (1 + 1 - 3) x 0.25.
    noodles.inspections = vec![
        inspection(quarter, [Good, Good, Fair]),
        inspection(half, [Poor, Poor, Poor]),
    ];
    let facts = MerchantFacts {
        merchants: vec![closed, noodles.clone(), grocery.clone()],
        issues: vec![near_noodles.clone(), near_grocery, far.clone()],
        streets: Vec::new(),
    };
    let report = merchant_report(&facts, &ReportRules::default(), &week());
    let names: Vec<&str> = report.merchants.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["超市", "面馆", "旧店"]);
    let (g, n, c) = (
        &report.merchants[0],
        &report.merchants[1],
        &report.merchants[2],
    );
    // 100 - 4 x 0.5 for the noise linked by hand.
    assert_eq!(g.linked_issue_ids, [far.id]);
    assert_eq!((g.credit_score, g.rating.as_deref()), (98.0, Some("A")));
    // 100 - 12 - 0.25 - 2 (the litter, -4 x 0.5).
    assert_eq!(n.linked_issue_ids, [near_noodles.id]);
    assert_eq!((n.credit_score, n.rating.as_deref()), (85.75, Some("B")));
    assert_eq!(n.inspections_in_period, 0);
    assert_eq!(n.explanation.len(), 5);
    // Closed: kept for the record, not rated, and never linked by place.
    assert_eq!((c.closed, c.rating.as_deref()), (true, None));
    assert!(c.linked_issue_ids.is_empty());
}

#[test]
fn network_coverage_unites_patrols_and_counts_those_that_patrolled() {
    let (net, east, _) = network();
    let net = IndexedNetwork::build(net);
    let e = |k: usize| seg_of(&net, net.network.street_index(east).unwrap(), k);
    let len = |s: usize| net.network.segments[s].projected_length_m();
    let (e0, e1) = (e(0), e(1));
    // One patrol walks e0 and the first half of e1, another the second half of e1.
    let first = Coverage::from_parts(
        HashMap::from([(e0, vec![(0.0, len(e0))]), (e1, vec![(0.0, len(e1) / 2.0)])]),
        HashMap::new(),
    );
    let second = Coverage::from_parts(
        HashMap::from([(e1, vec![(len(e1) / 2.0, len(e1))])]),
        HashMap::new(),
    );
    let ids = vec![PatrolId::new(), PatrolId::new()];
    let cov = network_coverage(
        &net,
        Some(&week()),
        ids.clone(),
        &[first, second],
        0.5,
        &CoverageConfig::default(),
    );
    assert_eq!(cov.patrols, ids);
    assert_eq!(cov.segments.len(), 6);
    let state = |s: usize| &cov.segments[s];
    assert_eq!(state(e0).patrols, 1);
    // Each covered half of e1: both patrolled it, and together they covered all of it.
    assert_eq!(state(e1).patrols, 2);
    assert!((state(e1).covered_ratio - 1.0).abs() < 1e-9);
    assert_eq!(state(e(2)).patrols, 0);
    // Two of six equal segments.
    assert!((cov.covered_ratio(&net.network) - 1.0 / 3.0).abs() < 1e-9);
}
