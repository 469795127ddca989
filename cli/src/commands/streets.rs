//! `patrol streets ...`: import, list, export and assign the street network.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use clap::Subcommand;
use patrol_core::streets::{StreetImportOptions, StreetImportReport, StreetInfo};
use patrol_core::{Datum, Role, Store};
use serde_json::json;

use crate::output::{Context, metres};

#[derive(Subcommand)]
pub enum StreetsCommand {
    /// Import streets from OpenStreetMap XML (.osm) or GeoJSON (.geojson) in one transaction.
    Import {
        file: PathBuf,
        /// Split lines into segments no longer than this (metres).
        #[arg(long, default_value_t = 200.0)]
        max_segment_m: f64,
        /// The subdistrict (街道) running these streets, when the file does not say.
        #[arg(long)]
        subdistrict: Option<String>,
        /// The datum of the file's coordinates.
        #[arg(long, default_value = "wgs84")]
        datum: Datum,
    },
    /// List the streets with their length, segments and who answers for them.
    List,
    /// Write the network as GeoJSON (one feature per segment) to --out or stdout.
    Export {
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Make a user the chief of a street (replacing the previous one) or add a steward.
    /// STREET is a street id or a name only one street has; USER is a user id, or `me`.
    Assign {
        street: String,
        #[arg(long, conflicts_with = "steward", required_unless_present = "steward")]
        chief: Option<String>,
        #[arg(long)]
        steward: Option<String>,
    },
    /// Remove a chief or steward from a street.
    Unassign {
        street: String,
        #[arg(long, conflicts_with = "steward", required_unless_present = "steward")]
        chief: Option<String>,
        #[arg(long)]
        steward: Option<String>,
    },
    /// The street and segment a point lies on (within the matching tolerance).
    Match {
        #[arg(long, allow_hyphen_values = true)]
        lat: f64,
        #[arg(long, allow_hyphen_values = true)]
        lon: f64,
        /// Horizontal accuracy in metres (widens the tolerance for poor fixes).
        #[arg(long)]
        accuracy: Option<f64>,
    },
}

pub fn run(ctx: &Context, cmd: StreetsCommand) -> Result<()> {
    let mut store = ctx.open()?;
    match cmd {
        StreetsCommand::Import {
            file,
            max_segment_m,
            subdistrict,
            datum,
        } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let options = StreetImportOptions {
                max_segment_m,
                subdistrict,
                datum,
            };
            let report = store
                .import_streets_file(&file, &bytes, &options)
                .with_context(|| format!("{} was not imported", file.display()))?;
            print_imported(ctx, &report)?;
        }
        StreetsCommand::List => print_streets(ctx, &store.streets()?)?,
        StreetsCommand::Export { out } => {
            let doc = store.export_streets_geojson()?;
            let mut buf = serde_json::to_vec_pretty(&doc)?;
            buf.push(b'\n');
            match out {
                Some(path) => std::fs::write(&path, &buf)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => std::io::stdout().write_all(&buf)?,
            }
        }
        StreetsCommand::Assign {
            street,
            chief,
            steward,
        } => {
            let (user, role) = who(&store, chief, steward)?;
            let id = store.resolve_street(&street)?;
            let previous = store.assign_street(id, &user, role)?;
            let name = store.street(id)?.label();
            if ctx.json {
                ctx.print_json(&json!({ "street_id": id, "name": name, "user_id": user, "role": role, "previous_chief": previous }))?;
            } else {
                println!("{user} is now {role} of {name} ({id})");
                if let Some(p) = previous {
                    println!("  replacing {p}");
                }
            }
        }
        StreetsCommand::Unassign {
            street,
            chief,
            steward,
        } => {
            let (user, role) = who(&store, chief, steward)?;
            let id = store.resolve_street(&street)?;
            if !store.unassign_street(id, &user, role)? {
                bail!("{user} is not {role} of street {street}");
            }
            if ctx.json {
                ctx.print_json(
                    &json!({ "street_id": id, "user_id": user, "role": role, "removed": true }),
                )?;
            } else {
                println!("{user} is no longer {role} of {street}");
            }
        }
        StreetsCommand::Match { lat, lon, accuracy } => {
            let m = store.match_point(lat, lon, accuracy)?;
            if ctx.json {
                ctx.print_json(&m)?;
            } else {
                match m {
                    Some(m) => println!(
                        "{} ({}), segment {}, {:.0} m along, {:.1} m off",
                        m.street_name.as_deref().unwrap_or("unnamed"),
                        m.street_id,
                        m.segment_id,
                        m.offset_m,
                        m.distance_m
                    ),
                    None => println!("no street within the matching tolerance"),
                }
            }
        }
    }
    store.close()?;
    Ok(())
}

fn print_imported(ctx: &Context, report: &StreetImportReport) -> Result<()> {
    if ctx.json {
        return ctx.print_json(report);
    }
    println!(
        "imported {} streets ({} named, {} unnamed ways) in {} segments, {} in all",
        report.streets,
        report.named_streets,
        report.unnamed_streets,
        report.segments,
        metres(report.total_length_m)
    );
    println!(
        "  {} new, {} updated in place",
        report.streets_new, report.streets_updated
    );
    if report.missing_node_refs > 0 || report.lines_skipped > 0 {
        println!(
            "  {} node references not in the file (lines broken there), {} lines too short to keep",
            report.missing_node_refs, report.lines_skipped
        );
    }
    Ok(())
}

fn print_streets(ctx: &Context, streets: &[StreetInfo]) -> Result<()> {
    if ctx.json {
        return ctx.print_json(&streets);
    }
    if streets.is_empty() {
        println!("no streets yet; import some with `patrol streets import FILE`");
    }
    for s in streets {
        println!(
            "{}  {:<16}  {:>9}  {:>3} seg  {:<13}  chief {}",
            s.street.id,
            s.street.label(),
            metres(s.street.length_m),
            s.segments,
            s.street.class,
            s.chief.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}

/// The user and role of an assignment; `me` is this device's user.
fn who(store: &Store, chief: Option<String>, steward: Option<String>) -> Result<(String, Role)> {
    let (user, role) = match (chief, steward) {
        (Some(u), None) => (u, Role::Chief),
        (None, Some(u)) => (u, Role::Steward),
        _ => bail!("give exactly one of --chief USER or --steward USER"),
    };
    if user.trim() == "me" {
        let me = store.require_device()?;
        return Ok((me.user_id.to_string(), role));
    }
    Ok((user, role))
}
