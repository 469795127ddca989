//! `patrol track ...`: import, inspect and export GPS tracks.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::{Subcommand, ValueEnum};
use patrol_core::patrol::{ImportOptions, ImportReport, TrackExportFormat};
use patrol_core::track::export::ExportFixes;
use patrol_core::track::{FilterConfig, TrackStats, load_track_file};
use patrol_core::{Datum, PatrolId, Role, Store};
use serde::Serialize;

use crate::output::{Context, duration, metres};

#[derive(Subcommand)]
pub enum TrackCommand {
    /// Import a GPX (1.0/1.1) or GeoLife PLT file as a patrol.
    Import {
        file: PathBuf,
        /// The datum of the file's coordinates.
        #[arg(long, default_value = "wgs84")]
        datum: Datum,
        /// Filter thresholds: walking (default), cycling or driving.
        #[arg(long, default_value = "walking")]
        profile: String,
        /// Name the patrol (default: the file's track name).
        #[arg(long)]
        name: Option<String>,
    },
    /// Track metrics of a patrol.
    Stats { patrol_id: PatrolId },
    /// Write a patrol's track as GPX or GeoJSON (to stdout, or --out).
    Export {
        patrol_id: PatrolId,
        #[arg(long, value_enum, default_value = "gpx")]
        format: Format,
        /// The datum to write coordinates in.
        #[arg(long, default_value = "wgs84")]
        datum: Datum,
        /// Include rejected fixes (GeoJSON: a point per fix with its verdict).
        #[arg(long)]
        all: bool,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// List the patrols in the store.
    List,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Gpx,
    Geojson,
}

pub fn run(ctx: &Context, cmd: TrackCommand) -> Result<()> {
    match cmd {
        TrackCommand::Import {
            file,
            datum,
            profile,
            name,
        } => import(ctx, file, datum, &profile, name),
        TrackCommand::Stats { patrol_id } => stats(ctx, patrol_id),
        TrackCommand::Export {
            patrol_id,
            format,
            datum,
            all,
            out,
        } => export(ctx, patrol_id, format, datum, all, out),
        TrackCommand::List => list(ctx),
    }
}

fn import(
    ctx: &Context,
    file: PathBuf,
    datum: Datum,
    profile: &str,
    name: Option<String>,
) -> Result<()> {
    let filter = FilterConfig::profile(profile)?;
    let mut store = ctx.open()?;
    let parsed = load_track_file(&file, store.clock().now_ms())
        .with_context(|| format!("{} was not imported", file.display()))?;
    if store.device()?.is_none() {
        // Importing into a fresh store needs an owner for the patrol; a local one will do.
        store.init_device("local", Role::Chief, None)?;
        if !ctx.json {
            eprintln!(
                "note: {} had no user; set it up for \"local\" (chief)",
                ctx.db_path()?.display()
            );
        }
    }
    let bar = ctx.progress(parsed.point_count() as u64, "importing");
    let options = ImportOptions {
        datum,
        filter: Some(filter),
        name,
    };
    let report = store
        .import_track(&parsed, &options, &mut |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .with_context(|| format!("{} was not imported", file.display()))?;
    bar.finish_and_clear();
    let hint = options
        .filter
        .as_ref()
        .and_then(|filter| faster_profile_hint(filter, &report.stats));
    if ctx.json {
        let mut out = serde_json::to_value(&report)?;
        if let (Some(hint), Some(fields)) = (&hint, out.as_object_mut()) {
            fields.insert("hint".into(), hint.clone().into());
        }
        ctx.print_json(&out)?;
    } else {
        print_report(&report);
        if let Some(hint) = hint {
            println!("  hint: {hint}");
        }
    }
    store.close()?;
    Ok(())
}

/// What to say when at least a tenth of a track's fixes (and 10 or more) were refused as
/// impossibly fast or as jumps: sustained speed of that kind is a vehicle, not GPS error, and the
/// slower profile keeps only the fix after each run of refusals. Names the next faster profile.
fn faster_profile_hint(filter: &FilterConfig, stats: &TrackStats) -> Option<String> {
    let too_fast: u64 = ["impossible_speed", "jump"]
        .iter()
        .filter_map(|k| stats.rejected.get(*k))
        .sum();
    if too_fast < 10 || too_fast * 10 < stats.fixes_read {
        return None;
    }
    let (current, faster, how) = if *filter == FilterConfig::walking() {
        ("walking", "cycling", "by bicycle")
    } else if *filter == FilterConfig::cycling() {
        ("cycling", "driving", "in a vehicle")
    } else {
        return None;
    };
    Some(format!(
        "many fixes were too fast for the {current} profile; if this track was recorded {how}, \
         import it again with --profile {faster}"
    ))
}

fn print_report(r: &ImportReport) {
    println!(
        "imported patrol {}{}",
        r.patrol_id,
        r.name
            .as_ref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default()
    );
    print_stats(&r.stats);
    if r.bogus_timestamps > 0 {
        println!(
            "  {} points had impossible timestamps; their times were dropped",
            r.bogus_timestamps
        );
    }
}

fn print_stats(s: &TrackStats) {
    println!(
        "  fixes: {} read, {} kept, in {} segment(s)",
        s.fixes_read, s.fixes_kept, s.segments
    );
    let rejected: Vec<String> = s
        .rejected
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{n} {}", k.replace('_', " ")))
        .collect();
    if !rejected.is_empty() {
        println!("  rejected: {}", rejected.join(", "));
    }
    println!(
        "  distance: {} (raw, unfiltered: {})",
        metres(s.distance_m),
        metres(s.raw_distance_m)
    );
    if s.has_timestamps {
        println!(
            "  duration: {}, moving {}",
            duration(s.duration_s),
            duration(s.moving_s)
        );
    } else {
        println!("  duration: unknown (the track has no usable times)");
    }
    if !s.gaps.is_empty() {
        let longest = s.gaps.iter().map(|g| g.duration_s).fold(0.0, f64::max);
        println!("  gaps: {} (longest {})", s.gaps.len(), duration(longest));
    }
    println!("  simplified track: {} points", s.simplified_points);
}

#[derive(Serialize)]
struct StatsOutput {
    patrol_id: PatrolId,
    #[serde(flatten)]
    stats: TrackStats,
}

fn stats(ctx: &Context, id: PatrolId) -> Result<()> {
    let store = ctx.open()?;
    let stats = store.track_stats(id)?;
    if ctx.json {
        ctx.print_json(&StatsOutput {
            patrol_id: id,
            stats,
        })?;
    } else {
        println!("patrol {id}");
        print_stats(&stats);
    }
    Ok(())
}

fn export(
    ctx: &Context,
    id: PatrolId,
    format: Format,
    datum: Datum,
    all: bool,
    out: Option<PathBuf>,
) -> Result<()> {
    let store = ctx.open()?;
    let which = if all {
        ExportFixes::All
    } else {
        ExportFixes::Kept
    };
    let format = match format {
        Format::Gpx => TrackExportFormat::Gpx,
        Format::Geojson => TrackExportFormat::GeoJson,
    };
    let buf = store.export_track(id, format, datum, which)?;
    match out {
        Some(path) => std::fs::write(&path, &buf)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().write_all(buf.as_bytes())?,
    }
    Ok(())
}

fn list(ctx: &Context) -> Result<()> {
    let store: Store = ctx.open()?;
    let patrols = store.list_patrols()?;
    if ctx.json {
        return ctx.print_json(&patrols);
    }
    if patrols.is_empty() {
        println!("no patrols yet");
    }
    for p in patrols {
        let dist = p
            .summary
            .as_ref()
            .map(|s| metres(s.distance_m))
            .unwrap_or_else(|| "-".into());
        println!(
            "{}  {:9}  {:8}  {:>9}  {}",
            p.id,
            p.state,
            format!("{:?}", p.source).to_lowercase(),
            dist,
            p.name.unwrap_or_default()
        );
    }
    Ok(())
}
