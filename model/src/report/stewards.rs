//! Stewards (小巷管家): points balance and history, a leaderboard per subdistrict, litter
//! pickups per street, and workload: how many streets each steward has, the patrol effort each
//! street got in the period (patrols by anyone that patrolled one of its segments, and the time
//! spent on it), and the streets no steward's patrol has covered lately (the rules'
//! `lately_days` before the period's end).
//!
//! Computed from [`StewardFacts`], whoever gathered them: a phone from its store, the district
//! server from its own.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use crate::domain::Role;
use crate::matching::{MatchConfig, match_point};
use crate::report::facts::{PatrolFacts, People, Person, PickupFacts, PointsEntry};
use crate::report::period::{DAY_MS, Period};
use crate::report::rules::ReportRules;
use crate::report::score::{round2, round4};
use crate::spatial::IndexedNetwork;
use crate::streets::{Street, StreetNetwork};

/// The steward report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StewardReport {
    pub period: Period,
    pub rules_name: String,
    pub rules_version: u32,
    pub lately_days: u32,
    pub stewards: Vec<StewardRow>,
    pub leaderboards: Vec<Leaderboard>,
    pub pickups_by_street: Vec<StreetPickups>,
    pub streets: Vec<StreetWorkload>,
    /// Streets no steward's patrol covered in the last `lately_days` days of the period.
    pub streets_not_covered_lately: Vec<String>,
}

/// One steward.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StewardRow {
    #[serde(flatten)]
    pub person: Person,
    /// The subdistrict they count in: their own, else the one most of their streets are in.
    pub leaderboard_subdistrict: String,
    pub streets: u64,
    pub street_length_m: f64,
    /// Balance at the end of the period.
    pub points_balance: i64,
    pub points_earned: i64,
    pub points_redeemed: i64,
    /// Entries in the period cut by a daily cap.
    pub entries_capped: u64,
    pub pickups: u64,
    pub bags: u64,
    pub items: u64,
    pub patrols: u64,
    pub patrol_hours: f64,
    /// The ledger entries of the period, oldest first.
    pub history: Vec<PointsEntry>,
}

/// The stewards of one subdistrict by points earned in the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Leaderboard {
    pub subdistrict: String,
    pub ranking: Vec<LeaderboardEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeaderboardEntry {
    pub rank: u32,
    pub user_id: String,
    pub name: Option<String>,
    pub points_earned: i64,
}

/// Pickups logged on one street in the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreetPickups {
    /// `None`: pickups whose place matches no street.
    pub street_id: Option<String>,
    pub name: Option<String>,
    pub pickups: u64,
    pub bags: u64,
    pub items: u64,
}

/// One street's workload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreetWorkload {
    pub street_id: String,
    pub name: Option<String>,
    pub subdistrict: Option<String>,
    pub class: String,
    pub length_m: f64,
    pub chief: Option<String>,
    pub stewards: Vec<String>,
    /// Patrols in the period (by anyone) that patrolled at least one of its segments.
    pub patrols: u64,
    pub steward_patrols: u64,
    /// Hours patrols spent on it in the period.
    pub patrol_hours: f64,
    /// When a steward's patrol last covered it, within the lately window (ms).
    pub last_steward_patrol_ms: Option<i64>,
    pub not_covered_lately: bool,
}

/// What a steward report is computed from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StewardFacts {
    pub people: People,
    /// Every street of the network, in the order the report lists them.
    pub streets: Vec<Street>,
    /// Patrols started in [`patrol_window`], every source alike, oldest first, with their
    /// coverage when there is a network.
    pub patrols: Vec<PatrolFacts>,
    /// Each user's points balance at the end of the period.
    pub balances: BTreeMap<String, i64>,
    /// Ledger entries of the period, by user, then time.
    pub entries: Vec<PointsEntry>,
    /// Pickups logged in the period.
    pub pickups: Vec<PickupFacts>,
}

/// The start and end (ms, end excluded) of the patrols a steward report reads: the period, and
/// before it the lately window when that reaches further back.
pub fn patrol_window(period: &Period, rules: &ReportRules) -> (i64, i64) {
    (period.from_ms.min(lately_from(period, rules)), period.to_ms)
}

/// Where the lately window begins: `lately_days` before the period's end.
fn lately_from(period: &Period, rules: &ReportRules) -> i64 {
    period
        .to_ms
        .saturating_sub(i64::from(rules.stewards.lately_days).saturating_mul(DAY_MS))
}

/// The steward report for `period` under `rules` (validated by the caller, see
/// [`ReportRules::validate`]), in stages: the patrol effort each street got, the streets'
/// workload, the points ledger, the pickups, one row per steward, the leaderboards. Without a
/// `network` no patrol effort is measured, and pickups logged without a street stay on none;
/// `matching` places the others on the nearest street.
pub fn steward_report(
    facts: &StewardFacts,
    network: Option<&IndexedNetwork>,
    matching: &MatchConfig,
    rules: &ReportRules,
    period: &Period,
) -> StewardReport {
    let people = &facts.people;
    let stewards = people.with_role(Role::Steward);
    let effort = match network {
        Some(net) => street_effort(&net.network, &facts.patrols, &stewards, period, rules),
        None => StreetEffort::default(),
    };
    let network_only = network.map(|n| &n.network);
    let workload = street_workloads(&facts.streets, people, network_only, &effort);
    let streets_not_covered_lately = workload
        .iter()
        .filter(|w| w.not_covered_lately)
        .map(|w| w.street_id.clone())
        .collect();
    let ledger = PeriodLedger::of(facts);
    let pickups = Pickups::sum(&facts.pickups, network, matching);
    let pickups_by_street = pickups.by_street(&facts.streets);
    let mut rows = steward_rows(
        &stewards,
        people,
        &facts.streets,
        &facts.patrols,
        period,
        ledger,
        &pickups,
    );
    let leaderboards = leaderboards(&rows);
    rows.sort_by(|a, b| {
        (
            &a.leaderboard_subdistrict,
            &a.person.name,
            &a.person.user_id,
        )
            .cmp(&(
                &b.leaderboard_subdistrict,
                &b.person.name,
                &b.person.user_id,
            ))
    });
    StewardReport {
        period: period.clone(),
        rules_name: rules.name.clone(),
        rules_version: rules.version,
        lately_days: rules.stewards.lately_days,
        stewards: rows,
        leaderboards,
        pickups_by_street,
        streets: workload,
        streets_not_covered_lately,
    }
}

/// Per street (by network index): patrols by anyone in the period that patrolled one of its
/// segments, those by stewards, the hours spent on it, and the last steward patrol within
/// the lately window. Patrols without a coverage add nothing.
fn street_effort(
    network: &StreetNetwork,
    patrols: &[PatrolFacts],
    stewards: &[String],
    period: &Period,
    rules: &ReportRules,
) -> StreetEffort {
    let lately_from = lately_from(period, rules);
    let steward_set: HashSet<&str> = stewards.iter().map(String::as_str).collect();
    let mut effort = StreetEffort::default();
    for p in patrols {
        let Some(coverage) = &p.coverage else {
            continue;
        };
        let mut streets: Vec<usize> = coverage
            .patrolled_segments(network, rules.stewards.segment_patrolled_min_share)
            .into_iter()
            .filter_map(|s| network.segments.get(s).map(|seg| seg.street))
            .collect();
        streets.sort_unstable();
        streets.dedup();
        let by_steward = steward_set.contains(p.user_id.as_str());
        let in_period = period.contains(p.started_at_ms);
        for &s in &streets {
            if in_period {
                *effort.patrols.entry(s).or_default() += 1;
                if by_steward {
                    *effort.steward_patrols.entry(s).or_default() += 1;
                }
            }
            if by_steward && p.started_at_ms >= lately_from {
                let e = effort.last_steward.entry(s).or_insert(p.started_at_ms);
                *e = (*e).max(p.started_at_ms);
            }
        }
        if in_period {
            for &(s, t) in &coverage.street_times_s {
                *effort.hours.entry(s).or_default() += t / 3600.0;
            }
        }
    }
    effort
}

/// The patrol effort per street (network index), see [`street_effort`].
#[derive(Debug, Default)]
struct StreetEffort {
    patrols: HashMap<usize, u64>,
    steward_patrols: HashMap<usize, u64>,
    hours: HashMap<usize, f64>,
    last_steward: HashMap<usize, i64>,
}

/// Pickups, bags and items per user and per street (`None`: no street).
#[derive(Debug, Default)]
struct Pickups {
    per_user: HashMap<String, (u64, u64, u64)>,
    per_street: BTreeMap<Option<String>, (u64, u64, u64)>,
}

impl Pickups {
    /// Each pickup on the street it names, or the one its place matches, summed per user and
    /// per street.
    fn sum(
        pickups: &[PickupFacts],
        network: Option<&IndexedNetwork>,
        matching: &MatchConfig,
    ) -> Self {
        let mut out = Pickups::default();
        for p in pickups {
            let street = match &p.street_id {
                Some(s) => Some(s.clone()),
                None => network
                    .and_then(|n| match_point(n, p.lat, p.lon, None, None, matching))
                    .map(|m| m.street_id.to_string()),
            };
            let u = out.per_user.entry(p.user_id.clone()).or_default();
            let s = out.per_street.entry(street).or_default();
            for t in [u, s] {
                t.0 += 1;
                t.1 += p.bags.max(0) as u64;
                t.2 += p.items.max(0) as u64;
            }
        }
        out
    }

    fn by_street(&self, streets: &[Street]) -> Vec<StreetPickups> {
        let names: HashMap<String, Option<String>> = streets
            .iter()
            .map(|s| (s.id.to_string(), s.name.clone()))
            .collect();
        self.per_street
            .iter()
            .map(|(street_id, &(pickups, bags, items))| StreetPickups {
                name: street_id
                    .as_ref()
                    .and_then(|s| names.get(s).cloned().flatten()),
                street_id: street_id.clone(),
                pickups,
                bags,
                items,
            })
            .collect()
    }
}

/// Balances at the period's end and the entries within it, per user.
#[derive(Debug, Default)]
struct PeriodLedger {
    balance: HashMap<String, i64>,
    history: HashMap<String, Vec<PointsEntry>>,
}

impl PeriodLedger {
    fn of(facts: &StewardFacts) -> Self {
        let mut ledger = PeriodLedger {
            balance: facts
                .balances
                .iter()
                .map(|(u, p)| (u.clone(), *p))
                .collect(),
            history: HashMap::new(),
        };
        for e in &facts.entries {
            ledger
                .history
                .entry(e.user_id.to_string())
                .or_default()
                .push(e.clone());
        }
        ledger
    }
}

/// The streets worth listing (named ones and any with an assignment) with their effort.
fn street_workloads(
    streets: &[Street],
    people: &People,
    network: Option<&StreetNetwork>,
    effort: &StreetEffort,
) -> Vec<StreetWorkload> {
    let assigned: HashSet<String> = people
        .assignments
        .iter()
        .map(|a| a.street_id.to_string())
        .collect();
    let mut workload = Vec::new();
    for street in streets {
        let id = street.id.to_string();
        if street.name.is_none() && !assigned.contains(&id) {
            continue;
        }
        let idx = network.and_then(|n| n.street_index(street.id));
        let get = |m: &HashMap<usize, u64>| idx.and_then(|i| m.get(&i).copied()).unwrap_or(0);
        let last = idx.and_then(|i| effort.last_steward.get(&i).copied());
        workload.push(StreetWorkload {
            street_id: id,
            name: street.name.clone(),
            subdistrict: street.subdistrict.clone(),
            class: street.class.clone(),
            length_m: round2(street.length_m),
            chief: people
                .assignments
                .iter()
                .find(|a| a.street_id == street.id && a.role == Role::Chief)
                .map(|a| a.user_id.clone()),
            stewards: people
                .assignments
                .iter()
                .filter(|a| a.street_id == street.id && a.role == Role::Steward)
                .map(|a| a.user_id.clone())
                .collect(),
            patrols: get(&effort.patrols),
            steward_patrols: get(&effort.steward_patrols),
            patrol_hours: round4(
                idx.and_then(|i| effort.hours.get(&i).copied())
                    .unwrap_or(0.0),
            ),
            last_steward_patrol_ms: last,
            not_covered_lately: last.is_none(),
        });
    }
    workload
}

/// One row per steward: streets, points, pickups, patrols.
fn steward_rows(
    stewards: &[String],
    people: &People,
    all_streets: &[Street],
    patrols: &[PatrolFacts],
    period: &Period,
    mut ledger: PeriodLedger,
    pickups: &Pickups,
) -> Vec<StewardRow> {
    let street_info: HashMap<String, (f64, Option<String>)> = all_streets
        .iter()
        .map(|s| (s.id.to_string(), (s.length_m, s.subdistrict.clone())))
        .collect();
    let mut period_patrols_of: HashMap<&str, Vec<&PatrolFacts>> = HashMap::new();
    for p in patrols.iter().filter(|p| period.contains(p.started_at_ms)) {
        period_patrols_of
            .entry(p.user_id.as_str())
            .or_default()
            .push(p);
    }
    let mut rows = Vec::with_capacity(stewards.len());
    for s in stewards {
        let person = people.person(s);
        let streets = people.streets_of(s, Role::Steward);
        let mut subdistricts: BTreeMap<String, usize> = BTreeMap::new();
        let mut length = 0.0;
        for st in &streets {
            if let Some((len, sub)) = street_info.get(&st.to_string()) {
                length += len;
                if let Some(sub) = sub {
                    *subdistricts.entry(sub.clone()).or_default() += 1;
                }
            }
        }
        let board = person
            .subdistrict
            .clone()
            .or_else(|| {
                subdistricts
                    .iter()
                    .max_by_key(|(name, n)| (**n, std::cmp::Reverse((*name).clone())))
                    .map(|(n, _)| n.clone())
            })
            .unwrap_or_else(|| "(no subdistrict)".into());
        let entries = ledger.history.remove(s).unwrap_or_default();
        let mine = period_patrols_of
            .get(s.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        let (pickups, bags, items) = pickups.per_user.get(s).copied().unwrap_or_default();
        rows.push(StewardRow {
            leaderboard_subdistrict: board,
            streets: streets.len() as u64,
            street_length_m: round2(length),
            points_balance: ledger.balance.get(s).copied().unwrap_or(0),
            points_earned: entries
                .iter()
                .filter(|e| e.points > 0)
                .map(|e| e.points)
                .sum(),
            points_redeemed: -entries
                .iter()
                .filter(|e| e.points < 0)
                .map(|e| e.points)
                .sum::<i64>(),
            entries_capped: entries.iter().filter(|e| e.capped()).count() as u64,
            pickups,
            bags,
            items,
            patrols: mine.len() as u64,
            patrol_hours: round4(mine.iter().map(|p| p.duration_s).sum::<f64>() / 3600.0),
            history: entries,
            person,
        });
    }
    rows
}

/// The stewards of each subdistrict by points earned; equal points share a rank.
fn leaderboards(rows: &[StewardRow]) -> Vec<Leaderboard> {
    let mut boards: BTreeMap<String, Vec<&StewardRow>> = BTreeMap::new();
    for r in rows {
        boards
            .entry(r.leaderboard_subdistrict.clone())
            .or_default()
            .push(r);
    }
    boards
        .into_iter()
        .map(|(subdistrict, mut list)| {
            list.sort_by(|a, b| {
                b.points_earned
                    .cmp(&a.points_earned)
                    .then_with(|| a.person.name.cmp(&b.person.name))
            });
            let mut ranking: Vec<LeaderboardEntry> = Vec::with_capacity(list.len());
            for (i, r) in list.iter().enumerate() {
                let rank = match ranking.last() {
                    Some(LeaderboardEntry {
                        rank,
                        points_earned,
                        ..
                    }) if *points_earned == r.points_earned => *rank,
                    _ => i as u32 + 1,
                };
                ranking.push(LeaderboardEntry {
                    rank,
                    user_id: r.person.user_id.clone(),
                    name: r.person.name.clone(),
                    points_earned: r.points_earned,
                });
            }
            Leaderboard {
                subdistrict,
                ranking,
            }
        })
        .collect()
}
