//! `patrol coverage ...`: how much of each assigned street a patrol, or a period, covered.

use anyhow::{Result, anyhow, bail};
use clap::Args;
use patrol_core::PatrolId;
use patrol_core::coverage::{CoverageTotals, PeriodQuery, StreetCoverage};

use crate::output::{Context, duration, metres};

#[derive(Args)]
pub struct CoverageArgs {
    /// The patrol to measure.
    #[arg(required_unless_present = "period", conflicts_with = "period")]
    patrol_id: Option<PatrolId>,
    /// Every patrol started in FROM..TO, together: dates (Beijing days, TO included), RFC 3339
    /// times, or milliseconds since the epoch. E.g. 2024-12-01..2024-12-07.
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
            println!("  planned streets not in the network: {}", c.unknown_planned_streets.join(", "));
        }
        println!(
            "  {} of {} kept fixes matched to streets ({} off the network)",
            c.matching.fixes_matched, c.matching.fixes_kept, c.matching.fixes_off_network
        );
        return Ok(());
    }
    let period = args.period.as_deref().ok_or_else(|| anyhow!("give a PATROL_ID or --period FROM..TO"))?;
    let (from_ms, to_ms) = parse_period(period)?;
    let user_id = match args.user {
        Some(u) if u.trim() == "me" => Some(store.require_device()?.user_id.to_string()),
        other => other,
    };
    let c = store.period_coverage(&PeriodQuery { from_ms, to_ms, user_id })?;
    if ctx.json {
        return ctx.print_json(&c);
    }
    println!("{} patrol(s) started in {period}", c.patrols.len());
    print_streets(&c.streets, &c.totals, &c.visited_unassigned);
    Ok(())
}

fn print_streets(streets: &[StreetCoverage], totals: &CoverageTotals, unassigned: &[StreetCoverage]) {
    for s in streets {
        println!(
            "  {:<16} {:>9} of {:>9}  {:>5.1} %  {}{}",
            s.name.clone().unwrap_or_else(|| format!("unnamed {}", s.class)),
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
        let names: Vec<String> =
            unassigned.iter().map(|s| s.name.clone().unwrap_or_else(|| format!("unnamed {}", s.class))).collect();
        println!("  also visited (not assigned): {}", names.join(", "));
    }
}

/// `FROM..TO` into [from, to) in milliseconds. A plain date is a Beijing day (UTC+8); as TO
/// it includes that whole day.
fn parse_period(text: &str) -> Result<(i64, i64)> {
    let Some((from, to)) = text.split_once("..") else {
        bail!("a period is FROM..TO, e.g. 2024-12-01..2024-12-07; got {text:?}");
    };
    let from_ms = parse_instant(from, false)?;
    let to_ms = parse_instant(to, true)?;
    if to_ms <= from_ms {
        bail!("the period {text:?} ends before it starts");
    }
    Ok((from_ms, to_ms))
}

fn parse_instant(text: &str, end: bool) -> Result<i64> {
    let t = text.trim();
    if let Ok(ms) = t.parse::<i64>() {
        return Ok(ms);
    }
    if let Some(ms) = patrol_core::track::gpx::parse_time_ms(t) {
        return Ok(ms);
    }
    let day = patrol_core::track::gpx::parse_time_ms(&format!("{t}T00:00:00+08:00"))
        .ok_or_else(|| anyhow!("{t:?} is not a date (2024-12-01), an RFC 3339 time or milliseconds"))?;
    Ok(if end { day + 24 * 3600 * 1000 } else { day })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse() {
        let (a, b) = parse_period("2024-12-01..2024-12-01").unwrap();
        assert_eq!(b - a, 24 * 3600 * 1000);
        assert_eq!(a, 1_732_982_400_000, "midnight in Beijing is 16:00 UTC the day before");
        assert_eq!(parse_period("5..10").unwrap(), (5, 10));
        assert!(parse_period("2024-12-02..2024-12-01").is_err());
        assert!(parse_period("yesterday").is_err());
    }
}
