//! How each report becomes tables (for CSV and XLSX): the first table is the report's main one.

use crate::report::assessment::AssessmentReport;
use crate::report::merchants::MerchantReport;
use crate::report::period::beijing_time_text;
use crate::report::stewards::StewardReport;
use crate::report::table::{Cell, Table};

/// A report that can be written as tables.
pub trait ToTables {
    fn tables(&self) -> Vec<Table>;
}

impl ToTables for AssessmentReport {
    fn tables(&self) -> Vec<Table> {
        let mut chiefs = Table::new(
            "chiefs",
            &[
                "rank",
                "user_id",
                "name",
                "subdistrict",
                "score",
                "max_score",
                "patrols",
                "patrols_imported",
                "hours",
                "distance_km",
                "streets_assigned",
                "segments",
                "segments_patrolled_enough",
                "coverage_share",
                "issues_found",
                "issues_on_streets",
                "issues_assigned",
                "issues_resolved",
                "issues_resolved_on_time",
                "issues_verified",
                "issues_reopened",
                "median_hours_to_verify",
                "notes",
            ],
        );
        let mut streets = Table::new(
            "streets",
            &[
                "user_id",
                "chief",
                "street_id",
                "street",
                "class",
                "length_m",
                "segments",
                "required_patrols",
                "segments_patrolled_enough",
                "coverage_share",
                "patrols",
                "min_segment_patrols",
                "max_segment_patrols",
            ],
        );
        let mut lines = Table::new(
            "explanation",
            &[
                "user_id",
                "chief",
                "metric",
                "label",
                "value",
                "detail",
                "points",
                "max_points",
                "explanation",
            ],
        );
        for c in &self.chiefs {
            let p = &c.person;
            chiefs.push(vec![
                c.rank.into(),
                p.user_id.as_str().into(),
                p.name.clone().into(),
                p.subdistrict.clone().into(),
                c.score.into(),
                c.max_score.into(),
                c.patrols.into(),
                c.patrols_imported.into(),
                c.hours.into(),
                (c.distance_m / 1000.0).into(),
                c.streets_assigned.into(),
                c.segments.into(),
                c.segments_patrolled_enough.into(),
                c.coverage_share.into(),
                c.issues_found.into(),
                c.issues_on_streets.into(),
                c.issues_assigned.into(),
                c.issues_resolved.into(),
                c.issues_resolved_on_time.into(),
                c.issues_verified.into(),
                c.issues_reopened.into(),
                c.median_hours_to_verify.into(),
                c.notes.join("; ").into(),
            ]);
            for s in &c.streets {
                streets.push(vec![
                    p.user_id.as_str().into(),
                    p.name.clone().into(),
                    s.street_id.as_str().into(),
                    s.name.clone().into(),
                    s.class.as_str().into(),
                    s.length_m.into(),
                    s.segments.into(),
                    s.required_patrols.into(),
                    s.segments_patrolled_enough.into(),
                    s.coverage_share.into(),
                    s.patrols.into(),
                    s.min_segment_patrols.into(),
                    s.max_segment_patrols.into(),
                ]);
            }
            for l in &c.explanation {
                lines.push(vec![
                    p.user_id.as_str().into(),
                    p.name.clone().into(),
                    l.metric.as_str().into(),
                    l.label.as_str().into(),
                    l.value.into(),
                    l.detail.as_str().into(),
                    l.points.into(),
                    l.max_points.into(),
                    l.explanation.as_str().into(),
                ]);
            }
        }
        vec![chiefs, streets, lines]
    }
}

impl ToTables for StewardReport {
    fn tables(&self) -> Vec<Table> {
        let mut stewards = Table::new(
            "stewards",
            &[
                "user_id",
                "name",
                "subdistrict",
                "streets",
                "street_length_m",
                "points_balance",
                "points_earned",
                "points_redeemed",
                "entries_capped",
                "pickups",
                "bags",
                "items",
                "patrols",
                "patrol_hours",
            ],
        );
        let mut history = Table::new(
            "points_history",
            &[
                "user_id",
                "name",
                "time",
                "day",
                "kind",
                "source_id",
                "rule",
                "points",
                "note",
            ],
        );
        for s in &self.stewards {
            let p = &s.person;
            stewards.push(vec![
                p.user_id.as_str().into(),
                p.name.clone().into(),
                s.leaderboard_subdistrict.as_str().into(),
                s.streets.into(),
                s.street_length_m.into(),
                s.points_balance.into(),
                s.points_earned.into(),
                s.points_redeemed.into(),
                s.entries_capped.into(),
                s.pickups.into(),
                s.bags.into(),
                s.items.into(),
                s.patrols.into(),
                s.patrol_hours.into(),
            ]);
            for e in &s.history {
                history.push(vec![
                    p.user_id.as_str().into(),
                    p.name.clone().into(),
                    beijing_time_text(e.at_ms).into(),
                    e.day.as_str().into(),
                    e.kind.as_str().into(),
                    e.source_id.as_str().into(),
                    format!("{} v{}", e.rule_id, e.rule_version).into(),
                    e.points.into(),
                    e.note.clone().into(),
                ]);
            }
        }
        let mut boards = Table::new(
            "leaderboard",
            &["subdistrict", "rank", "user_id", "name", "points_earned"],
        );
        for b in &self.leaderboards {
            for e in &b.ranking {
                boards.push(vec![
                    b.subdistrict.as_str().into(),
                    e.rank.into(),
                    e.user_id.as_str().into(),
                    e.name.clone().into(),
                    e.points_earned.into(),
                ]);
            }
        }
        let mut pickups = Table::new(
            "pickups_by_street",
            &["street_id", "street", "pickups", "bags", "items"],
        );
        for p in &self.pickups_by_street {
            pickups.push(vec![
                p.street_id.clone().into(),
                p.name.clone().into(),
                p.pickups.into(),
                p.bags.into(),
                p.items.into(),
            ]);
        }
        let mut streets = Table::new(
            "workload",
            &[
                "street_id",
                "street",
                "subdistrict",
                "class",
                "length_m",
                "chief",
                "stewards",
                "patrols",
                "steward_patrols",
                "patrol_hours",
                "last_steward_patrol",
                "not_covered_lately",
            ],
        );
        for w in &self.streets {
            streets.push(vec![
                w.street_id.as_str().into(),
                w.name.clone().into(),
                w.subdistrict.clone().into(),
                w.class.as_str().into(),
                w.length_m.into(),
                w.chief.clone().into(),
                (w.stewards.len() as u64).into(),
                w.patrols.into(),
                w.steward_patrols.into(),
                w.patrol_hours.into(),
                w.last_steward_patrol_ms.map(beijing_time_text).into(),
                w.not_covered_lately.into(),
            ]);
        }
        vec![stewards, boards, pickups, streets, history]
    }
}

impl ToTables for MerchantReport {
    fn tables(&self) -> Vec<Table> {
        let mut merchants = Table::new(
            "merchants",
            &[
                "merchant_id",
                "name",
                "kind",
                "street",
                "segment_id",
                "closed",
                "inspections_in_period",
                "poor_items_in_period",
                "issues_linked_in_period",
                "issues_linked_total",
                "credit_score",
                "rating",
            ],
        );
        let mut lines = Table::new("explanation", &["merchant_id", "name", "line"]);
        for m in &self.merchants {
            let poor: u64 = m
                .duties_in_period
                .values()
                .filter_map(|g| g.get("poor"))
                .sum();
            merchants.push(vec![
                m.merchant_id.to_string().into(),
                m.name.as_str().into(),
                m.kind.clone().into(),
                m.street_name.clone().or(m.street_id.clone()).into(),
                m.segment_id.clone().into(),
                m.closed.into(),
                m.inspections_in_period.into(),
                poor.into(),
                m.issues_linked_in_period.into(),
                m.issues_linked_total.into(),
                m.credit_score.into(),
                m.rating.clone().into(),
            ]);
            for l in &m.explanation {
                lines.push(vec![
                    m.merchant_id.to_string().into(),
                    m.name.as_str().into(),
                    Cell::Text(l.clone()),
                ]);
            }
        }
        vec![merchants, lines]
    }
}
