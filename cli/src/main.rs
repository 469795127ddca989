//! `patrol`: a StreetPatrol device on the command line. The same core a phone runs, driven from a
//! shell: set up a store, import and inspect tracks, and run the demo.

/// Every line printed for people goes through [`patrol_core::text::for_terminal_lines`]: a name holding an escape
/// sequence or a bidi override (stored before names were checked at the door, or by another
/// program) cannot move the cursor, retitle the terminal or reverse what the line says. JSON is
/// printed with `std::println!` as it is (serde escapes control characters).
macro_rules! println {
    () => {
        ::std::println!()
    };
    ($($arg:tt)*) => {
        ::std::println!("{}", ::patrol_core::text::for_terminal_lines(&::std::format!($($arg)*)))
    };
}

/// Like [`println!`], on stderr.
macro_rules! eprintln {
    () => {
        ::std::eprintln!()
    };
    ($($arg:tt)*) => {
        ::std::eprintln!("{}", ::patrol_core::text::for_terminal_lines(&::std::format!($($arg)*)))
    };
}

mod commands;
mod hints;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "patrol",
    version,
    about = "StreetPatrol on the command line: patrols, streets and coverage, issues, photos, pickups and points, reports and maps"
)]
struct Cli {
    /// The local store (an SQLite file; created if missing).
    #[arg(long, global = true, value_name = "PATH")]
    db: Option<PathBuf>,
    /// Print machine-readable JSON on stdout (and no progress bars).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the store and this device's user.
    Init(commands::init::InitArgs),
    /// Import, inspect and export GPS tracks.
    #[command(subcommand)]
    Track(commands::track::TrackCommand),
    /// Record a patrol from the shell: start, fix, fixes, pause, resume, stop.
    #[command(subcommand)]
    Record(commands::record::RecordCommand),
    /// Enrol this device with a sync server using a one-time code (creates the store if needed).
    Enroll(commands::sync::EnrollArgs),
    /// Sync with the server: documents, patrols and records both ways, fixes, photos.
    Sync(commands::sync::SyncArgs),
    /// Import, list, export and assign streets (the network patrols are measured against).
    #[command(subcommand)]
    Streets(commands::streets::StreetsCommand),
    /// How much of each assigned street a patrol (or every patrol of a period) covered.
    Coverage(commands::coverage::CoverageArgs),
    /// Signboard QR codes: print a street's code, scan one (a check-in during a patrol).
    #[command(subcommand)]
    Signboard(commands::signboard::SignboardCommand),
    /// Report issues and run their loop: new, assign, return, accept, resolve, verify, reopen,
    /// comment, list, show, export, import.
    #[command(subcommand)]
    Issue(commands::issue::IssueCommand),
    /// Add photos to the store (content-addressed, EXIF read, thumbnail made).
    #[command(subcommand)]
    Photo(commands::photo::PhotoCommand),
    /// Log litter pickups.
    #[command(subcommand)]
    Pickup(commands::pickup::PickupCommand),
    /// Points balance and ledger, redemptions, rules.
    Points(commands::points::PointsArgs),
    /// Supervisors' reports: chief assessment, stewards, merchant credit (json, csv or xlsx).
    Report(commands::report::ReportArgs),
    /// Pictures from the data alone: a patrol, open issues, network coverage, weekly trends.
    #[command(subcommand)]
    Map(commands::map::MapCommand),
    /// Merchants and their frontage-duty (门前三包) inspections.
    #[command(subcommand)]
    Merchant(commands::merchant::MerchantCommand),
    /// GeoJSON of issues, patrols or coverage for GIS tools; GPX of patrols.
    Export(commands::export::ExportArgs),
    /// The main job: a synthetic neighbourhood, a chief's patrol with real GPS noise, and what
    /// the chief sees.
    Demo(commands::demo::DemoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ctx = output::Context {
        db: cli.db,
        json: cli.json,
    };
    let result = match cli.command {
        Command::Init(args) => commands::init::run(&ctx, args),
        Command::Track(cmd) => commands::track::run(&ctx, cmd),
        Command::Record(cmd) => commands::record::run(&ctx, cmd),
        Command::Enroll(args) => commands::sync::enroll(&ctx, args),
        Command::Sync(args) => commands::sync::run(&ctx, args),
        Command::Streets(cmd) => commands::streets::run(&ctx, cmd),
        Command::Coverage(args) => commands::coverage::run(&ctx, args),
        Command::Signboard(cmd) => commands::signboard::run(&ctx, cmd),
        Command::Issue(cmd) => commands::issue::run(&ctx, cmd),
        Command::Photo(cmd) => commands::photo::run(&ctx, cmd),
        Command::Pickup(cmd) => commands::pickup::run(&ctx, cmd),
        Command::Points(args) => commands::points::run(&ctx, args),
        Command::Report(args) => commands::report::run(&ctx, args),
        Command::Map(cmd) => commands::map::run(&ctx, cmd),
        Command::Merchant(cmd) => commands::merchant::run(&ctx, cmd),
        Command::Export(args) => commands::export::run(&ctx, args),
        Command::Demo(args) => commands::demo::run(&ctx, args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            if let Some(hint) = hints::hint(&e) {
                eprintln!("hint: {hint}");
            }
            ExitCode::FAILURE
        }
    }
}
