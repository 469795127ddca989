//! `patrol signboard ...`: signboard QR codes, scanning them, and the district key.

use anyhow::Result;
use clap::Subcommand;
use patrol_core::signboard::ScanPosition;
use serde_json::json;

use crate::output::Context;

#[derive(Subcommand)]
pub enum SignboardCommand {
    /// Print the QR payload (a link ending in the signed code) of a street's signboard, issuing
    /// one if the street has none (or with --new). STREET is an id or a name only one street has.
    Qr {
        street: String,
        /// Issue another signboard even if the street has one.
        #[arg(long)]
        new: bool,
        /// Where the new signboard hangs.
        #[arg(long, allow_hyphen_values = true, requires = "lon")]
        lat: Option<f64>,
        #[arg(long, allow_hyphen_values = true, requires = "lat")]
        lon: Option<f64>,
    },
    /// Verify a scanned code (or link); a chief or steward with an open patrol records a
    /// check-in at the given position (or the patrol's latest fix).
    Scan {
        payload: String,
        #[arg(long, allow_hyphen_values = true, requires = "lon")]
        lat: Option<f64>,
        #[arg(long, allow_hyphen_values = true, requires = "lat")]
        lon: Option<f64>,
        #[arg(long)]
        accuracy: Option<f64>,
    },
    /// Print the district public key phones verify codes with, or trust one (--trust KEY).
    Key {
        #[arg(long)]
        trust: Option<String>,
    },
}

pub fn run(ctx: &Context, cmd: SignboardCommand) -> Result<()> {
    let mut store = ctx.open()?;
    match cmd {
        SignboardCommand::Qr {
            street,
            new,
            lat,
            lon,
        } => {
            let id = store.resolve_street(&street)?;
            let position = lat.zip(lon);
            let existing = if new {
                None
            } else {
                store.signboards_of(id)?.into_iter().next()
            };
            let board = match existing {
                Some(b) => b,
                None => store.issue_signboard(id, position)?,
            };
            if ctx.json {
                let name = store.street(id)?.name;
                ctx.print_json(&json!({
                    "signboard_id": board.id,
                    "street_id": board.street_id,
                    "street_name": name,
                    "payload": board.link,
                    "code": board.payload,
                    "lat": board.lat,
                    "lon": board.lon,
                    "public_key": store.district_public_key()?,
                }))?;
            } else {
                println!("{}", board.link);
            }
        }
        SignboardCommand::Scan {
            payload,
            lat,
            lon,
            accuracy,
        } => {
            let position = lat.zip(lon).map(|(lat, lon)| ScanPosition {
                lat,
                lon,
                accuracy_m: accuracy,
            });
            let out = store.scan_signboard(&payload, position)?;
            if ctx.json {
                ctx.print_json(&out)?;
            } else {
                let name = out.street_name.as_deref().unwrap_or("an unnamed street");
                println!(
                    "signboard {} on {name} ({}): genuine",
                    out.signboard_id, out.street_id
                );
                match (&out.check_in, &out.note) {
                    (Some(c), _) => {
                        println!("check-in {} recorded on patrol {}", c.id, c.patrol_id)
                    }
                    (None, Some(note)) => println!("{note}"),
                    (None, None) => {}
                }
            }
        }
        SignboardCommand::Key { trust } => {
            if let Some(key) = trust {
                store.trust_district_key(&key)?;
            }
            let key = store.district_public_key()?;
            if ctx.json {
                ctx.print_json(&json!({ "public_key": key }))?
            } else {
                println!("{key}")
            }
        }
    }
    store.close()?;
    Ok(())
}
