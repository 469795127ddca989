//! `patrol export issues|patrols|coverage`: GeoJSON for GIS tools (QGIS), GPX of patrols.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use patrol_core::report::Period;
use patrol_core::report::export::write_file;

use crate::output::Context;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportWhat {
    /// Issues as points with their state.
    Issues,
    /// Patrol tracks (kept fixes).
    Patrols,
    /// Every segment of the network with its coverage.
    Coverage,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GeoFormat {
    Geojson,
    Gpx,
}

#[derive(Args)]
pub struct ExportArgs {
    what: ExportWhat,
    /// Only this period (Beijing time); everything without it.
    #[arg(long)]
    period: Option<String>,
    #[arg(long, value_enum, default_value = "geojson")]
    format: GeoFormat,
    /// Write here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Issues: only open ones.
    #[arg(long)]
    open: bool,
}

pub fn run(ctx: &Context, args: ExportArgs) -> Result<()> {
    let period = args.period.as_deref().map(Period::parse).transpose()?;
    let store = ctx.open()?;
    let text = match (args.what, args.format) {
        (ExportWhat::Patrols, GeoFormat::Gpx) => store.patrols_gpx(period.as_ref())?,
        (_, GeoFormat::Gpx) => bail!("GPX holds tracks: only `export patrols --format gpx`"),
        (ExportWhat::Issues, _) => pretty(&store.issues_geojson(period.as_ref(), args.open)?)?,
        (ExportWhat::Patrols, _) => pretty(&store.patrols_geojson(period.as_ref())?)?,
        (ExportWhat::Coverage, _) => {
            let share = store.report_rules()?.assessment.segment_patrolled_min_share;
            pretty(&store.coverage_geojson(period.as_ref(), share)?)?
        }
    };
    match &args.out {
        Some(p) => {
            write_file(p, text.as_bytes())?;
            eprintln!("wrote {} ({} bytes)", p.display(), text.len());
        }
        None => print!("{text}"),
    }
    Ok(())
}

fn pretty(v: &serde_json::Value) -> Result<String> {
    Ok(serde_json::to_string_pretty(v)? + "\n")
}
