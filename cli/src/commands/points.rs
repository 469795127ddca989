//! `patrol points`: this user's balance and ledger; `redeem` spends points; `rules` lists the
//! rule versions.

use anyhow::Result;
use clap::{Args, Subcommand};

use crate::output::Context;

#[derive(Args)]
pub struct PointsArgs {
    #[command(subcommand)]
    cmd: Option<PointsCommand>,
}

#[derive(Subcommand)]
pub enum PointsCommand {
    /// Spend points on a reward.
    Redeem {
        #[arg(long)]
        points: i64,
        /// What for.
        #[arg(long = "for")]
        reward: String,
    },
    /// Every version of every points rule.
    Rules,
}

pub fn run(ctx: &Context, args: PointsArgs) -> Result<()> {
    let mut store = ctx.open()?;
    match args.cmd {
        None => {
            let s = store.points()?;
            if ctx.json {
                ctx.print_json(&s)?;
            } else {
                println!(
                    "balance {} points ({} earned, {} redeemed)",
                    s.balance, s.earned, s.redeemed
                );
                for e in s.entries.iter().take(20) {
                    println!(
                        "  {}  {:>4}  {:<15} rule {} v{}{}",
                        e.day,
                        e.points,
                        e.kind,
                        e.rule_id,
                        e.rule_version,
                        e.note
                            .as_ref()
                            .map(|n| format!("  ({n})"))
                            .unwrap_or_default()
                    );
                }
            }
        }
        Some(PointsCommand::Redeem { points, reward }) => {
            let e = store.redeem_points(points, &reward)?;
            if ctx.json {
                ctx.print_json(&e)?
            } else {
                println!("redeemed {} points for {reward}", -e.points)
            }
        }
        Some(PointsCommand::Rules) => {
            let rules = store.points_rules()?;
            if ctx.json {
                ctx.print_json(&rules)?;
            } else {
                for r in rules {
                    println!("{:<15} v{}  {}", r.id, r.version, r.description);
                }
            }
        }
    }
    store.close()?;
    Ok(())
}
