//! `patrol issue ...`: report issues and run their loop (assign, return, accept, resolve,
//! verify, reopen ...), list and show them, and move them between devices by file.

use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use clap::{Args, Subcommand};
use patrol_core::issues::{
    Assignee, Catalog, IssueQuery, IssueSummary, IssueView, NewIssue, ReportOutcome,
};
use patrol_core::{Datum, IssueId, IssueStatus, PhotoStage, Store};

use crate::output::Context;

#[derive(Subcommand)]
pub enum IssueCommand {
    /// Report an issue where you are (prints its id and open issues nearby that may be the same).
    New {
        /// litter, overflowing_bin, illegal_parking, street_vending, illegal_advertising,
        /// damaged_facility, greening, frontage_duty_violation, construction_waste, other.
        #[arg(long)]
        category: String,
        #[arg(long, allow_hyphen_values = true)]
        lat: f64,
        #[arg(long, allow_hyphen_values = true)]
        lon: f64,
        /// What is wrong.
        #[arg(long)]
        note: Option<String>,
        /// A before-photo (JPEG or PNG; repeatable).
        #[arg(long = "photo")]
        photos: Vec<PathBuf>,
        /// The street it is on (until map matching fills it in).
        #[arg(long)]
        street: Option<String>,
        #[arg(long)]
        segment: Option<String>,
        #[arg(long, default_value = "wgs84")]
        datum: Datum,
    },
    /// Give the issue to city-property, enforcement, owner (the owning department) or a user id.
    Assign {
        id: IssueId,
        #[arg(long)]
        to: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Hand an assigned issue back (as its assignee), with a reason.
    Return {
        id: IssueId,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Take on an issue assigned to you.
    Accept { id: IssueId },
    /// Report the fix, with an after-photo taken near the issue.
    Resolve {
        id: IssueId,
        /// The after-photo: a file, or the SHA-256 of one added with `patrol photo add`.
        #[arg(long)]
        photo: String,
        /// Where the photo was taken, when it carries no GPS itself.
        #[arg(long, allow_hyphen_values = true, requires = "lon")]
        lat: Option<f64>,
        #[arg(long, allow_hyphen_values = true, requires = "lat")]
        lon: Option<f64>,
        #[arg(long)]
        note: Option<String>,
    },
    /// Confirm the fix (the chief or the reporter): the loop closes.
    Verify {
        id: IssueId,
        #[arg(long)]
        note: Option<String>,
    },
    /// Open a closed issue again (a new round), with a reason.
    Reopen {
        id: IssueId,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Mark the issue as the same problem as another.
    Duplicate {
        id: IssueId,
        #[arg(long)]
        of: IssueId,
    },
    /// Withdraw the issue, with a reason.
    Cancel {
        id: IssueId,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Comment on an issue.
    Comment {
        id: IssueId,
        #[arg(long)]
        text: String,
    },
    /// Add a photo to an issue (a further before-photo, say).
    Photo {
        id: IssueId,
        file: String,
        #[arg(long, default_value = "before")]
        stage: PhotoStage,
    },
    /// List issues (newest first), filtered.
    List(ListArgs),
    /// Show one issue with its events, photos and comments.
    Show { id: IssueId },
    /// Write an issue's document to a file (or, without --out, to stdout when it is not a
    /// terminal), for another device to import.
    Export {
        id: IssueId,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Merge an issue document exported on another device.
    Import { file: PathBuf },
    /// The categories and their due times.
    Categories,
}

/// `patrol issue list`'s filters.
#[derive(Args)]
pub struct ListArgs {
    #[arg(long)]
    status: Option<IssueStatus>,
    #[arg(long)]
    street: Option<String>,
    #[arg(long)]
    category: Option<String>,
    /// city-property, enforcement, owner or a user id.
    #[arg(long)]
    assignee: Option<String>,
    /// Only issues someone still has to act on.
    #[arg(long)]
    open: bool,
    /// Only open issues past their due time.
    #[arg(long)]
    overdue: bool,
    /// Near a point: LAT,LON (with --radius, default 200 m).
    #[arg(long, allow_hyphen_values = true)]
    near: Option<String>,
    #[arg(long, default_value_t = 200.0)]
    radius: f64,
    #[arg(long, default_value_t = 200)]
    limit: u32,
}

pub fn run(ctx: &Context, cmd: IssueCommand) -> Result<()> {
    let mut store = ctx.open()?;
    match cmd {
        IssueCommand::New {
            category,
            lat,
            lon,
            note,
            photos,
            street,
            segment,
            datum,
        } => {
            let street = Context::street_id(&store, street)?;
            let mut shas = Vec::new();
            for p in &photos {
                shas.push(store.attach_photo(p)?.sha256);
            }
            let new = NewIssue {
                category,
                description: note.unwrap_or_default(),
                lat,
                lon,
                datum,
                street_id: street,
                segment_id: segment,
                photos: shas,
            };
            print_reported(ctx, &store.report_issue(new)?)?;
        }
        IssueCommand::Assign { id, to, note } => {
            let to: Assignee = to.parse()?;
            let v = store.assign_issue(id, to, note)?;
            print_view(ctx, &v)?;
        }
        IssueCommand::Return { id, reason } => {
            let v = store.return_issue(id, reason.as_deref().unwrap_or(""))?;
            print_view(ctx, &v)?;
        }
        IssueCommand::Accept { id } => print_view(ctx, &store.accept_issue(id)?)?,
        IssueCommand::Resolve {
            id,
            photo,
            lat,
            lon,
            note,
        } => {
            let p = store.photo_by_path_or_hash(&photo)?;
            let v = store.resolve_issue(id, &p.sha256, lat.zip(lon), note)?;
            print_view(ctx, &v)?;
        }
        IssueCommand::Verify { id, note } => print_view(ctx, &store.verify_issue(id, note)?)?,
        IssueCommand::Reopen { id, reason } => print_view(
            ctx,
            &store.reopen_issue(id, reason.as_deref().unwrap_or(""))?,
        )?,
        IssueCommand::Duplicate { id, of } => print_view(ctx, &store.mark_duplicate(id, of)?)?,
        IssueCommand::Cancel { id, reason } => print_view(
            ctx,
            &store.cancel_issue(id, reason.as_deref().unwrap_or(""))?,
        )?,
        IssueCommand::Comment { id, text } => print_view(ctx, &store.comment_issue(id, &text)?)?,
        IssueCommand::Photo { id, file, stage } => {
            let p = store.photo_by_path_or_hash(&file)?;
            print_view(ctx, &store.add_issue_photo(id, &p.sha256, stage)?)?;
        }
        IssueCommand::List(filters) => {
            let rows = store.list_issues(&query(&store, filters)?)?;
            if ctx.json {
                ctx.print_json(&rows)?
            } else {
                print_list(&rows)
            }
        }
        IssueCommand::Show { id } => {
            let v = store.issue(id)?;
            if ctx.json {
                ctx.print_json(&v)?
            } else {
                print_details(&v)
            }
        }
        IssueCommand::Export { id, out: None } => write_to_stdout(&store.export_issue(id)?)?,
        IssueCommand::Export { id, out: Some(out) } => {
            let bytes = store.export_issue_file(id, &out)?;
            if ctx.json {
                ctx.print_json(&serde_json::json!({ "id": id, "out": out, "bytes": bytes }))?;
            } else {
                println!("wrote issue {id} to {} ({bytes} bytes)", out.display());
            }
        }
        IssueCommand::Import { file } => {
            let m = store
                .import_issue_file(&file)
                .map_err(|e| anyhow!("cannot import {}: {e}", file.display()))?;
            if ctx.json {
                ctx.print_json(&m)?;
            } else {
                let what = if m.new {
                    "new"
                } else if m.changed {
                    "merged"
                } else {
                    "already up to date"
                };
                println!("issue {}: {what}, now {}", m.id, m.status);
            }
        }
        IssueCommand::Categories => print_categories(ctx, &store.issue_catalog()?)?,
    }
    store.close()?;
    Ok(())
}

/// The store's query for `issue list`'s filters (street names resolved, `--near` parsed).
fn query(store: &Store, f: ListArgs) -> Result<IssueQuery> {
    let street = Context::street_id(store, f.street)?;
    let near = f
        .near
        .map(|n| parse_point(&n))
        .transpose()?
        .map(|(lat, lon)| (lat, lon, f.radius));
    let category = f
        .category
        .map(|c| store.issue_catalog().and_then(|cat| Ok(cat.parse(&c)?)))
        .transpose()?;
    Ok(IssueQuery {
        status: f.status,
        open_only: f.open,
        street_id: street,
        category,
        assignee: f.assignee.map(|a| a.parse()).transpose()?,
        near,
        overdue_at_ms: f.overdue.then(|| store.clock().now_ms()),
        limit: Some(f.limit),
    })
}

/// A new issue's id, then what was reported and the open issues nearby that may be the same.
fn print_reported(ctx: &Context, out: &ReportOutcome) -> Result<()> {
    if ctx.json {
        return ctx.print_json(out);
    }
    println!("{}", out.issue.id);
    println!(
        "reported: {} at ({:.6}, {:.6})",
        out.issue.category, out.issue.location.lat, out.issue.location.lon
    );
    for d in &out.possible_duplicates {
        println!(
            "  possibly the same as {} ({}, {}, {:.0} m away)",
            d.id,
            d.category,
            d.status,
            d.distance_m.unwrap_or(0.0)
        );
    }
    Ok(())
}

/// An export without `--out`: binary, so never onto a terminal.
fn write_to_stdout(bytes: &[u8]) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    if std::io::IsTerminal::is_terminal(&stdout) {
        bail!("the export is binary; give --out FILE or redirect stdout to a file");
    }
    std::io::Write::write_all(&mut stdout, bytes)?;
    std::io::Write::flush(&mut stdout)?;
    Ok(())
}

fn print_categories(ctx: &Context, cat: &Catalog) -> Result<()> {
    if ctx.json {
        return ctx.print_json(&cat.all());
    }
    for c in cat.all() {
        println!(
            "{:<24} {:>4} h  {} ({})",
            c.code, c.due_hours, c.name_zh, c.name_en
        );
    }
    Ok(())
}

/// Writes through a temporary file and a rename, so a failed export leaves no partial file.
fn parse_point(text: &str) -> Result<(f64, f64)> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    if let [lat, lon] = parts[..]
        && let (Ok(lat), Ok(lon)) = (lat.parse::<f64>(), lon.parse::<f64>())
    {
        return Ok((lat, lon));
    }
    bail!("--near {text:?} is not LAT,LON (e.g. 39.9075,116.1936)")
}

fn print_view(ctx: &Context, v: &IssueView) -> Result<()> {
    if ctx.json {
        return ctx.print_json(v);
    }
    let who = if v.assignees.is_empty() {
        String::new()
    } else {
        format!(
            " ({})",
            v.assignees
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(" and ")
        )
    };
    println!("issue {}: {}{who}", v.id, v.status);
    if v.conflict.is_some() {
        println!("  conflict: assigned to several at once; assign again to choose");
    }
    Ok(())
}

fn print_list(rows: &[IssueSummary]) {
    if rows.is_empty() {
        println!("no issues");
    }
    for r in rows {
        let street = r.street_id.as_deref().unwrap_or("-");
        let flag = if r.overdue { " OVERDUE" } else { "" };
        println!(
            "{}  {:<12} {:<24} {:<12} {}{flag}",
            r.id,
            r.status,
            r.category,
            street,
            r.assignees.join(",")
        );
    }
}

fn print_details(v: &IssueView) {
    println!(
        "issue {}  {} ({}), round {}",
        v.id, v.category, v.status, v.round
    );
    if !v.description.is_empty() {
        println!("  {}", v.description);
    }
    println!(
        "  at ({:.6}, {:.6}) street {}",
        v.location.lat,
        v.location.lon,
        v.location.street_id.as_deref().unwrap_or("-")
    );
    println!("  reported by {} ({})", v.reporter.name, v.reporter.role);
    if !v.assignees.is_empty() {
        let who: Vec<String> = v.assignees.iter().map(|a| a.to_string()).collect();
        println!(
            "  assigned to {}{}",
            who.join(" and "),
            if v.conflict.is_some() {
                " (conflict)"
            } else {
                ""
            }
        );
    }
    println!(
        "  due {} ms{}",
        v.due_at_ms,
        if v.overdue { ", OVERDUE" } else { "" }
    );
    for e in &v.events {
        let mark = match &e.refused {
            Some(why) => format!("  [refused: {why}]"),
            None => String::new(),
        };
        println!(
            "  {}  {:<12} by {} ({}){mark}",
            e.event.at, e.event.kind, e.event.by, e.event.role
        );
    }
    for p in &v.photos {
        println!("  photo {} {} {}x{}", p.stage, p.sha256, p.width, p.height);
    }
    for c in &v.comments {
        println!("  comment by {} ({}): {}", c.by, c.role, c.text);
    }
}
