//! `patrol merchant add|edit|inspect|link|unlink|list|show|export|import`: merchants along the
//! streets and their frontage-duty (门前三包) inspections. Supervisors and chiefs edit them.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Subcommand;
use patrol_core::merchants::{
    Inspection, Merchant, MerchantEdit, MerchantMergeOutcome, MerchantQuery, MerchantSummary,
    NewInspection, NewMerchant,
};
use patrol_core::{Datum, DutyGrade, IssueId, MerchantId};

use crate::output::Context;

#[derive(Subcommand)]
pub enum MerchantCommand {
    /// Add a merchant; its street and segment come from --street or from its location.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long, allow_hyphen_values = true)]
        lat: f64,
        #[arg(long, allow_hyphen_values = true)]
        lon: f64,
        /// What kind of shop.
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        address: Option<String>,
        #[arg(long)]
        contact: Option<String>,
        /// The street of its frontage (id or name).
        #[arg(long)]
        street: Option<String>,
        #[arg(long, default_value = "wgs84")]
        datum: Datum,
    },
    /// Change a merchant's name, kind, address, contact, location, or close it.
    Edit {
        id: MerchantId,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        address: Option<String>,
        #[arg(long)]
        contact: Option<String>,
        #[arg(long, allow_hyphen_values = true, requires = "lon")]
        lat: Option<f64>,
        #[arg(long, allow_hyphen_values = true, requires = "lat")]
        lon: Option<f64>,
        /// Closed down or moved away (`--closed false` reopens).
        #[arg(long)]
        closed: Option<bool>,
    },
    /// Record a frontage-duty inspection: each duty good, fair or poor.
    Inspect {
        id: MerchantId,
        #[arg(long)]
        sanitation: DutyGrade,
        #[arg(long)]
        greening: DutyGrade,
        #[arg(long)]
        order: DutyGrade,
        #[arg(long)]
        note: Option<String>,
        /// A photo file (or the SHA-256 of one in the store); repeat for more.
        #[arg(long = "photo")]
        photos: Vec<String>,
    },
    /// Link an issue to the merchant (it counts against their credit).
    Link {
        id: MerchantId,
        #[arg(long)]
        issue: IssueId,
    },
    /// Say an issue found near the merchant is not theirs.
    Unlink {
        id: MerchantId,
        #[arg(long)]
        issue: IssueId,
    },
    /// Merchants, along a street or a segment.
    List {
        #[arg(long)]
        street: Option<String>,
        #[arg(long)]
        segment: Option<String>,
        /// Closed ones too.
        #[arg(long)]
        all: bool,
    },
    /// One merchant in full: fields, inspections, links.
    Show { id: MerchantId },
    /// The whole merchant document, for another device.
    Export {
        id: MerchantId,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Merge a merchant document from another device.
    Import { file: PathBuf },
}

pub fn run(ctx: &Context, cmd: MerchantCommand) -> Result<()> {
    let mut store = ctx.open()?;
    match cmd {
        MerchantCommand::Add {
            name,
            lat,
            lon,
            kind,
            address,
            contact,
            street,
            datum,
        } => {
            let street = Context::street_id(&store, street)?;
            let m = store.add_merchant(NewMerchant {
                name,
                kind,
                address,
                contact,
                lat,
                lon,
                datum,
                street,
            })?;
            print_added(ctx, &m)?;
        }
        MerchantCommand::Edit {
            id,
            name,
            kind,
            address,
            contact,
            lat,
            lon,
            closed,
        } => {
            let location = lat.zip(lon);
            let m = store.edit_merchant(
                id,
                MerchantEdit {
                    name,
                    kind,
                    address,
                    contact,
                    location,
                    closed,
                },
            )?;
            print_edited(ctx, &m)?;
        }
        MerchantCommand::Inspect {
            id,
            sanitation,
            greening,
            order,
            note,
            photos,
        } => {
            let mut shas = Vec::new();
            for p in photos {
                shas.push(store.photo_by_path_or_hash(&p)?.sha256);
            }
            let i = store.inspect_merchant(
                id,
                NewInspection {
                    sanitation,
                    greening,
                    order,
                    note,
                    photos: shas,
                },
            )?;
            print_inspection(ctx, &i)?;
        }
        MerchantCommand::Link { id, issue } => link(ctx, &mut store, id, issue, true)?,
        MerchantCommand::Unlink { id, issue } => link(ctx, &mut store, id, issue, false)?,
        MerchantCommand::List {
            street,
            segment,
            all,
        } => {
            let street_id = match street {
                Some(s) => Some(store.resolve_street(&s)?.to_string()),
                None => None,
            };
            let list = store.list_merchants(&MerchantQuery {
                street_id,
                segment_id: segment,
                include_closed: all,
            })?;
            print_list(ctx, &list)?;
        }
        MerchantCommand::Show { id } => print_merchant(ctx, &store.merchant(id)?)?,
        MerchantCommand::Export { id, out } => {
            let bytes = store.export_merchant(id)?;
            match out {
                Some(p) => std::fs::write(&p, &bytes)
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?,
                None => {
                    use std::io::Write;
                    std::io::stdout().write_all(&bytes)?;
                }
            }
        }
        MerchantCommand::Import { file } => {
            let bytes = std::fs::read(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let o = store.import_merchant(&bytes)?;
            print_imported(ctx, &o)?;
        }
    }
    Ok(())
}

fn print_added(ctx: &Context, m: &Merchant) -> Result<()> {
    if ctx.json {
        return ctx.print_json(m);
    }
    println!(
        "{}  {}  street {}",
        m.id,
        m.fields.name,
        m.fields.street_id.as_deref().unwrap_or("-")
    );
    Ok(())
}

fn print_edited(ctx: &Context, m: &Merchant) -> Result<()> {
    if ctx.json {
        return ctx.print_json(m);
    }
    println!(
        "{}  {}{}",
        m.id,
        m.fields.name,
        if m.fields.closed { "  (closed)" } else { "" }
    );
    Ok(())
}

fn print_inspection(ctx: &Context, i: &Inspection) -> Result<()> {
    if ctx.json {
        return ctx.print_json(i);
    }
    println!(
        "inspection {}: sanitation {}, greening {}, order {}",
        i.id, i.sanitation, i.greening, i.order
    );
    Ok(())
}

fn print_list(ctx: &Context, list: &[MerchantSummary]) -> Result<()> {
    if ctx.json {
        return ctx.print_json(&list);
    }
    for m in list {
        println!(
            "{}  {:<16} {:>3} inspection(s)  segment {}",
            m.id,
            m.name,
            m.inspection_count,
            m.segment_id.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}

fn print_merchant(ctx: &Context, m: &Merchant) -> Result<()> {
    if ctx.json {
        return ctx.print_json(m);
    }
    println!(
        "{}  {}  ({})",
        m.id,
        m.fields.name,
        m.fields.kind.as_deref().unwrap_or("shop")
    );
    for i in &m.inspections {
        println!(
            "  inspection {}: sanitation {}, greening {}, order {}",
            i.at.wall_ms, i.sanitation, i.greening, i.order
        );
    }
    Ok(())
}

fn print_imported(ctx: &Context, o: &MerchantMergeOutcome) -> Result<()> {
    if ctx.json {
        return ctx.print_json(o);
    }
    println!(
        "merchant {}: {}",
        o.id,
        if o.new {
            "new"
        } else if o.changed {
            "merged"
        } else {
            "already up to date"
        }
    );
    Ok(())
}

fn link(
    ctx: &Context,
    store: &mut patrol_core::Store,
    id: MerchantId,
    issue: IssueId,
    linked: bool,
) -> Result<()> {
    let m = store.link_merchant_issue(id, issue, linked)?;
    if ctx.json {
        return ctx.print_json(&m);
    }
    if m.links.is_empty() {
        bail!("the link was not recorded");
    }
    println!(
        "issue {issue} {} merchant {}",
        if linked { "linked to" } else { "unlinked from" },
        m.fields.name
    );
    Ok(())
}
