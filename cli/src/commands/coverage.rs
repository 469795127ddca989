//! `patrol coverage ...`: how much of each assigned street a patrol, or a period, covered.

use anyhow::{Result, anyhow};
use clap::Args;
use patrol_core::PatrolId;
use patrol_core::coverage::{CoverageTotals, PeriodQuery, StreetCoverage};

use crate::output::{Context, duration, metres};

#[derive(Args)]
pub struct CoverageArgs {
    /// The patrol to measure.
    #[arg(required_unless_present = "period", conflicts_with = "period")]
    patrol_id: Option<PatrolId>,
    /// Every patrol started in the period, together: a month 2024-12, a day, an ISO week
    /// 2024-W49, or FROM..TO of dates (Beijing days, TO included), RFC 3339 times or
    /// milliseconds since the epoch. E.g. 2024-12-01..2024-12-07.
    #[arg(long)]
    period: Option<String>,
    /// With --period: only this user's patrols, against this user's streets (`me` for this
    /// device's user).
    #[arg(long, requires = "period")]
    user: Option<String>,
}

pub fn run(ctx: &Context, args: CoverageArgs) -> Result<()> {
    let store = ctx.open()?;
    if let Some(id) = args.patrol_id {
        let c = store.patrol_coverage(id)?;
        if ctx.json {
            return ctx.print_json(&c);
        }
        println!("patrol {id}");
        print_streets(&c.streets, &c.totals, &c.visited_unassigned);
        if !c.unknown_planned_streets.is_empty() {
            println!(
                "  planned streets not in the network: {}",
                c.unknown_planned_streets.join(", ")
            );
        }
        println!(
            "  {} of {} kept fixes matched to streets ({} off the network)",
            c.matching.fixes_matched, c.matching.fixes_kept, c.matching.fixes_off_network
        );
        return Ok(());
    }
    let period = args
        .period
        .as_deref()
        .ok_or_else(|| anyhow!("give a PATROL_ID or --period FROM..TO"))?;
    let (from_ms, to_ms) = parse_period(period)?;
    let user_id = match args.user {
        Some(u) if u.trim() == "me" => Some(store.require_device()?.user_id.to_string()),
        other => other,
    };
    let c = store.period_coverage(&PeriodQuery {
        from_ms,
        to_ms,
        user_id,
    })?;
    if ctx.json {
        return ctx.print_json(&c);
    }
    println!("{} patrol(s) started in {period}", c.patrols.len());
    print_streets(&c.streets, &c.totals, &c.visited_unassigned);
    Ok(())
}

fn print_streets(
    streets: &[StreetCoverage],
    totals: &CoverageTotals,
    unassigned: &[StreetCoverage],
) {
    for s in streets {
        println!(
            "  {:<16} {:>9} of {:>9}  {:>5.1} %  {}{}",
            s.name
                .clone()
                .unwrap_or_else(|| format!("unnamed {}", s.class)),
            metres(s.covered_m),
            metres(s.length_m),
            s.covered_ratio * 100.0,
            duration(s.time_s),
            if s.assigned { "" } else { "  (not assigned)" }
        );
    }
    println!(
        "  total            {:>9} of {:>9}  {:>5.1} %  {} on {} street(s), {} visited",
        metres(totals.covered_m),
        metres(totals.length_m),
        totals.covered_ratio * 100.0,
        duration(totals.time_s),
        totals.streets,
        totals.streets_visited
    );
    if !unassigned.is_empty() {
        let names: Vec<String> = unassigned
            .iter()
            .map(|s| {
                s.name
                    .clone()
                    .unwrap_or_else(|| format!("unnamed {}", s.class))
            })
            .collect();
        println!("  also visited (not assigned): {}", names.join(", "));
    }
}

/// A period (`2024-12`, `2024-12-05`, `2024-W49`, `FROM..TO`, Beijing time) as [from, to) ms.
fn parse_period(text: &str) -> Result<(i64, i64)> {
    let p = patrol_core::report::Period::parse(text)?;
    Ok((p.from_ms, p.to_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse() {
        let (a, b) = parse_period("2024-12-01..2024-12-01").unwrap();
        assert_eq!(b - a, 24 * 3600 * 1000);
        assert_eq!(
            a, 1_732_982_400_000,
            "midnight in Beijing is 16:00 UTC the day before"
        );
        assert_eq!(parse_period("5..10").unwrap(), (5, 10));
        assert_eq!(parse_period("2024-W49").unwrap().0, a + 24 * 3600 * 1000);
        assert!(parse_period("2024-12-02..2024-12-01").is_err());
        assert!(parse_period("yesterday").is_err());
    }
}
