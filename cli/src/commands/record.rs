//! `patrol record ...`: drive patrol recording from a shell, the way the phone app does.

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use clap::Subcommand;
use patrol_core::{Datum, NewFix, PatrolId};
use serde_json::json;

use crate::output::{Context, metres};

#[derive(Subcommand)]
pub enum RecordCommand {
    /// Start a patrol of this device's user.
    Start {
        /// A street the patrol means to cover (repeatable).
        #[arg(long = "street")]
        streets: Vec<String>,
    },
    /// Add one fix (committed before the command returns).
    Fix {
        patrol_id: PatrolId,
        #[arg(long, allow_hyphen_values = true)]
        lat: f64,
        #[arg(long, allow_hyphen_values = true)]
        lon: f64,
        /// Horizontal accuracy in metres.
        #[arg(long, allow_hyphen_values = true)]
        accuracy: Option<f64>,
        /// Milliseconds since the epoch, or RFC 3339; now when omitted.
        #[arg(long)]
        time: Option<String>,
        #[arg(long, default_value = "wgs84")]
        datum: Datum,
        /// The platform flagged it as a mock location.
        #[arg(long)]
        mock: bool,
    },
    /// Add a batch of fixes, one JSON object per line (fields of NewFix), from --file or stdin.
    Fixes {
        patrol_id: PatrolId,
        #[arg(long)]
        file: Option<PathBuf>,
    },
    Pause {
        patrol_id: PatrolId,
    },
    Resume {
        patrol_id: PatrolId,
    },
    Stop {
        patrol_id: PatrolId,
    },
}

pub fn run(ctx: &Context, cmd: RecordCommand) -> Result<()> {
    let mut store = ctx.open()?;
    match cmd {
        RecordCommand::Start { streets } => {
            let streets = streets
                .into_iter()
                .map(|s| Context::street_id(&store, Some(s)).map(Option::unwrap_or_default))
                .collect::<Result<Vec<_>>>()?;
            let id = store.start_patrol(&streets)?;
            if ctx.json {
                ctx.print_json(&json!({ "patrol_id": id }))?
            } else {
                println!("{id}")
            }
        }
        RecordCommand::Fix {
            patrol_id,
            lat,
            lon,
            accuracy,
            time,
            datum,
            mock,
        } => {
            let time_ms = match time {
                None => store.clock().now_ms(),
                Some(t) => parse_time(&t)?,
            };
            let mut fix = NewFix::at(lat, lon, time_ms);
            fix.accuracy_m = accuracy;
            fix.datum = datum;
            fix.is_mock = mock;
            let out = store.add_fix(patrol_id, fix)?;
            if ctx.json {
                ctx.print_json(&out)?
            } else {
                println!("fix {} {}", out.seq, out.verdict)
            }
        }
        RecordCommand::Fixes { patrol_id, file } => {
            let reader: Box<dyn BufRead> = match &file {
                Some(p) => Box::new(std::io::BufReader::new(
                    std::fs::File::open(p)
                        .with_context(|| format!("cannot open {}", p.display()))?,
                )),
                None => Box::new(std::io::stdin().lock()),
            };
            let mut fixes = Vec::new();
            for (i, line) in reader.lines().enumerate() {
                let line = line?;
                if line.trim().is_empty() {
                    continue;
                }
                let fix: NewFix = serde_json::from_str(&line)
                    .with_context(|| format!("line {} is not a fix; nothing was stored", i + 1))?;
                fixes.push(fix);
            }
            let out = store.add_fixes(patrol_id, &fixes)?;
            if ctx.json {
                ctx.print_json(&out)?
            } else {
                println!("{} fixes stored, {} kept", out.count, out.kept)
            }
        }
        RecordCommand::Pause { patrol_id } => store.pause_patrol(patrol_id)?,
        RecordCommand::Resume { patrol_id } => store.resume_patrol(patrol_id)?,
        RecordCommand::Stop { patrol_id } => {
            let stats = store.stop_patrol(patrol_id)?;
            if ctx.json {
                ctx.print_json(&stats)?
            } else {
                println!(
                    "stopped: {} in {} fixes",
                    metres(stats.distance_m),
                    stats.fixes_kept
                )
            }
        }
    }
    store.close()?;
    Ok(())
}

fn parse_time(t: &str) -> Result<i64> {
    if let Ok(ms) = t.parse::<i64>() {
        return Ok(ms);
    }
    match patrol_core::track::gpx::parse_time_ms(t) {
        Some(ms) => Ok(ms),
        None => bail!("--time {t:?} is neither milliseconds since 1970 nor an RFC 3339 time"),
    }
}
