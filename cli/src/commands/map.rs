//! `patrol map patrol|issues|coverage|trends --out FILE.svg|.png`: pictures made from the
//! store's data alone (no map tiles), as SVG or PNG by the file's extension.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::Subcommand;
use patrol_core::PatrolId;
use patrol_core::render::Picture;
use patrol_core::report::Period;
use patrol_core::report::export::write_file;
use serde_json::json;

use crate::output::Context;

#[derive(Subcommand)]
pub enum MapCommand {
    /// A patrol's track over its streets, each segment coloured by how much of it was covered.
    Patrol {
        id: PatrolId,
        #[arg(long)]
        out: PathBuf,
    },
    /// Open issues by category (colour) and age (size); overdue ones ringed.
    Issues {
        /// Only issues reported in this period.
        #[arg(long)]
        period: Option<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// The whole street network, each segment coloured by its coverage (all time without --period).
    Coverage {
        #[arg(long)]
        period: Option<String>,
        #[arg(long)]
        out: PathBuf,
        /// Rules file (the share of a segment one patrol must cover to count).
        #[arg(long)]
        rules: Option<PathBuf>,
    },
    /// Issues found and closed per week (the last 12 weeks without --period).
    Trends {
        #[arg(long)]
        period: Option<String>,
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(ctx: &Context, cmd: MapCommand) -> Result<()> {
    let store = ctx.open()?;
    let period = |p: &Option<String>| p.as_deref().map(Period::parse).transpose();
    let (picture, out) = match &cmd {
        MapCommand::Patrol { id, out } => (
            check(out).and_then(|_| Ok(store.render_patrol_map(*id)?))?,
            out,
        ),
        MapCommand::Issues { period: p, out } => {
            check(out)?;
            (store.render_issues_map(period(p)?.as_ref())?, out)
        }
        MapCommand::Coverage {
            period: p,
            out,
            rules,
        } => {
            check(out)?;
            let rules = match rules {
                Some(r) => super::report::read_rules_file(r)?,
                None => store.report_rules()?,
            };
            (
                store.render_coverage_map(
                    period(p)?.as_ref(),
                    rules.assessment.segment_patrolled_min_share,
                )?,
                out,
            )
        }
        MapCommand::Trends { period: p, out } => {
            check(out)?;
            (store.render_trends(period(p)?.as_ref())?, out)
        }
    };
    let bytes = write(&picture, out)?;
    if ctx.json {
        ctx.print_json(&json!({ "out": out, "bytes": bytes, "width": picture.width, "height": picture.height, "features": picture.features }))
    } else {
        let features: Vec<String> = picture
            .features
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect();
        println!(
            "wrote {} ({}x{}, {} bytes): {}",
            out.display(),
            picture.width,
            picture.height,
            bytes,
            features.join(", ")
        );
        Ok(())
    }
}

fn check(out: &Path) -> Result<()> {
    match out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("svg" | "png") => Ok(()),
        _ => bail!(
            "the picture's file must end in .svg or .png, not {}",
            out.display()
        ),
    }
}

fn write(picture: &Picture, out: &Path) -> Result<usize> {
    let bytes = if out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"))
    {
        picture.png()?
    } else {
        picture.svg.clone().into_bytes()
    };
    write_file(out, &bytes)?;
    Ok(bytes.len())
}
