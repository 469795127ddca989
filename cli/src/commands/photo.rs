//! `patrol photo add FILE`: copy a photo into the store's photo folder (by SHA-256), read its
//! EXIF and make its thumbnail; optionally attach it to an issue.

use anyhow::Result;
use clap::Subcommand;
use patrol_core::{IssueId, PhotoStage};
use serde_json::json;

use crate::output::Context;

#[derive(Subcommand)]
pub enum PhotoCommand {
    /// Add a JPEG or PNG to the photo store (prints its hash, EXIF time, GPS, size).
    Add {
        file: std::path::PathBuf,
        /// Also attach it to this issue.
        #[arg(long)]
        issue: Option<IssueId>,
        #[arg(long, default_value = "before")]
        stage: PhotoStage,
    },
    /// Show a stored photo's details by its SHA-256.
    Show { sha256: String },
}

pub fn run(ctx: &Context, cmd: PhotoCommand) -> Result<()> {
    let mut store = ctx.open()?;
    match cmd {
        PhotoCommand::Add { file, issue, stage } => {
            let p = store.attach_photo(&file)?;
            let attached = match issue {
                Some(id) => Some(store.add_issue_photo(id, &p.sha256, stage)?),
                None => None,
            };
            if ctx.json {
                let mut v = serde_json::to_value(&p)?;
                if let Some(view) = &attached {
                    v["issue"] = json!({ "id": view.id, "status": view.status, "photos": view.photos.len() });
                }
                ctx.print_json(&v)?;
            } else {
                println!("{}", p.sha256);
                println!(
                    "  {} {}x{}, {} bytes{}",
                    p.mime,
                    p.width,
                    p.height,
                    p.size_bytes,
                    if p.already_stored {
                        " (already stored)"
                    } else {
                        ""
                    }
                );
                if let (Some(lat), Some(lon)) = (p.lat, p.lon) {
                    println!("  taken at ({lat:.6}, {lon:.6})");
                }
                if let Some(view) = attached {
                    println!("  attached to issue {} as a {stage} photo", view.id);
                }
            }
        }
        PhotoCommand::Show { sha256 } => {
            let p = store.photo(&sha256)?;
            if ctx.json {
                ctx.print_json(&p)?
            } else {
                println!(
                    "{} {} {}x{} {}",
                    p.sha256,
                    p.mime,
                    p.width,
                    p.height,
                    p.path.display()
                )
            }
        }
    }
    store.close()?;
    Ok(())
}
