//! `patrol report assessment|stewards|merchants --period P --format json|csv|xlsx`: the
//! supervisors' reports, as JSON (stdout by default), CSV (the report's main table, or
//! `--table NAME`) or XLSX (every table a sheet; needs `--out`). Periods are Beijing time.

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use clap::{Args, ValueEnum};
use patrol_core::report::export::{csv, write_file, xlsx};
use patrol_core::report::{Period, ReportRules, Table, ToTables};
use serde::Serialize;

use crate::output::Context;

#[derive(Clone, Copy, ValueEnum)]
pub enum ReportKind {
    /// Each chief's record of duty, scored and explained.
    Assessment,
    /// Steward points, leaderboards, pickups per street, workload.
    Stewards,
    /// Merchant credit scores and ratings.
    Merchants,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Json,
    Csv,
    Xlsx,
}

#[derive(Args)]
pub struct ReportArgs {
    kind: ReportKind,
    /// A month 2024-12, a day 2024-12-05, an ISO week 2024-W49, or FROM..TO (Beijing time).
    #[arg(long)]
    period: String,
    #[arg(long, value_enum, default_value = "json")]
    format: ReportFormat,
    /// Write here instead of stdout (required for xlsx).
    #[arg(long)]
    out: Option<PathBuf>,
    /// A rules file (JSON) replacing the shipped rules.
    #[arg(long)]
    rules: Option<PathBuf>,
    /// With --format csv: which table (default: the report's main one).
    #[arg(long)]
    table: Option<String>,
}

/// Reads a rules file (`--rules FILE`), naming the file in every error.
pub fn read_rules_file(path: &std::path::Path) -> Result<ReportRules> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the rules file {}", path.display()))?;
    ReportRules::from_json(&text).with_context(|| format!("the rules file {}", path.display()))
}

pub fn run(ctx: &Context, args: ReportArgs) -> Result<()> {
    let period = Period::parse(&args.period)?;
    if args.format == ReportFormat::Xlsx && args.out.is_none() {
        bail!("an XLSX workbook is a binary file: give --out FILE.xlsx");
    }
    let store = ctx.open()?;
    // A rules file given here; else the district's, as published through sync; else the shipped.
    let rules = match &args.rules {
        Some(p) => read_rules_file(p)?,
        None => store.report_rules()?,
    };
    match args.kind {
        ReportKind::Assessment => emit(&args, &store.assessment_report(&period, &rules)?),
        ReportKind::Stewards => emit(&args, &store.steward_report(&period, &rules)?),
        ReportKind::Merchants => emit(&args, &store.merchant_report(&period, &rules)?),
    }
}

fn emit<R: Serialize + ToTables>(args: &ReportArgs, report: &R) -> Result<()> {
    let bytes = match args.format {
        ReportFormat::Json => {
            let mut b = serde_json::to_vec_pretty(report)?;
            b.push(b'\n');
            b
        }
        ReportFormat::Csv => {
            let tables = report.tables();
            let table: &Table = match &args.table {
                None => &tables[0],
                Some(name) => tables.iter().find(|t| &t.name == name).with_context(|| {
                    format!(
                        "no table {name:?} in this report; it has: {}",
                        tables
                            .iter()
                            .map(|t| t.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?,
            };
            csv(table).into_bytes()
        }
        ReportFormat::Xlsx => xlsx(&report.tables())?,
    };
    match &args.out {
        Some(path) => {
            write_file(path, &bytes)?;
            eprintln!("wrote {} ({} bytes)", path.display(), bytes.len());
        }
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&bytes)?;
        }
    }
    Ok(())
}
