//! `patrol pickup ...`: log litter pickups (immutable records that earn points) and list them.

use anyhow::Result;
use clap::Subcommand;
use patrol_core::Datum;
use patrol_core::points::NewPickup;

use crate::output::Context;

#[derive(Subcommand)]
pub enum PickupCommand {
    /// Log a pickup where you are: how many bags and/or items.
    Log {
        #[arg(long, default_value_t = 0)]
        bags: u32,
        #[arg(long, default_value_t = 0)]
        items: u32,
        #[arg(long, allow_hyphen_values = true)]
        lat: f64,
        #[arg(long, allow_hyphen_values = true)]
        lon: f64,
        #[arg(long, default_value = "wgs84")]
        datum: Datum,
        #[arg(long)]
        street: Option<String>,
        /// A photo of the pickup (file).
        #[arg(long)]
        photo: Option<std::path::PathBuf>,
        #[arg(long)]
        note: Option<String>,
    },
    /// This user's pickups, newest first.
    List {
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
}

pub fn run(ctx: &Context, cmd: PickupCommand) -> Result<()> {
    let mut store = ctx.open()?;
    match cmd {
        PickupCommand::Log {
            bags,
            items,
            lat,
            lon,
            datum,
            street,
            photo,
            note,
        } => {
            let street = Context::street_id(&store, street)?;
            let photo_sha256 = match photo {
                Some(p) => Some(store.attach_photo(&p)?.sha256),
                None => None,
            };
            let out = store.log_pickup(NewPickup {
                lat,
                lon,
                datum,
                bags,
                items,
                street_id: street,
                photo_sha256,
                note,
            })?;
            if ctx.json {
                ctx.print_json(&out)?;
            } else {
                println!(
                    "pickup {}: {} bags, {} items, +{} points",
                    out.pickup.id, out.pickup.bags, out.pickup.items, out.points.points
                );
                if let Some(n) = &out.points.note {
                    println!("  {n}");
                }
            }
        }
        PickupCommand::List { limit } => {
            let rows = store.pickups(limit)?;
            if ctx.json {
                ctx.print_json(&rows)?;
            } else {
                for p in rows {
                    println!(
                        "{}  {} bags {} items  {}",
                        p.id,
                        p.bags,
                        p.items,
                        p.street_id.as_deref().unwrap_or("-")
                    );
                }
            }
        }
    }
    store.close()?;
    Ok(())
}
