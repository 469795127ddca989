//! `patrol-server`: serve the sync API, or administer the district from the command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Args, Parser, Subcommand};
use patrol_model::{DeviceId, Role, UserId};
use patrol_server::http::ratelimit::RateLimit;
use patrol_server::{ServerConfig, admin, open_storage, quarantine};
use serde_json::json;

/// Every line printed for people goes through [`patrol_model::text::for_terminal_lines`]: a name holding an escape
/// sequence or a bidi override (stored before names were checked at the door, or by another
/// program) cannot move the cursor, retitle the terminal or reverse what the line says. JSON is
/// printed with `std::println!` as it is (serde escapes control characters).
macro_rules! println {
    () => {
        ::std::println!()
    };
    ($($arg:tt)*) => {
        ::std::println!("{}", ::patrol_model::text::for_terminal_lines(&::std::format!($($arg)*)))
    };
}

/// Like [`println!`], on stderr.
macro_rules! eprintln {
    () => {
        ::std::eprintln!()
    };
    ($($arg:tt)*) => {
        ::std::eprintln!("{}", ::patrol_model::text::for_terminal_lines(&::std::format!($($arg)*)))
    };
}

#[derive(Parser)]
#[command(name = "patrol-server", version, about = "StreetPatrol sync server")]
struct Cli {
    /// The data folder (server.db and blobs/); created if missing.
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Logs as JSON lines (for log collectors) instead of text.
    #[arg(long)]
    log_json: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve(ServeArgs),
    /// Administer the district: subdistricts, users, enrolment codes, devices, streets.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Args)]
struct ServeArgs {
    /// Serve Prometheus `/metrics` on this address, a listener of its own (e.g.
    /// 127.0.0.1:9464); not served when not given, and never on the API's address.
    #[arg(long, value_name = "ADDR")]
    metrics_addr: Option<SocketAddr>,
    /// Enrolment attempts one client address may make at once...
    #[arg(long, value_name = "N", default_value_t = RateLimit::ENROL_DEFAULT.burst,
          value_parser = clap::value_parser!(u32).range(1..))]
    enrol_burst: u32,
    /// ...then one more every this many seconds (0: no limit).
    #[arg(long, value_name = "SECONDS", default_value_t = RateLimit::ENROL_DEFAULT.every.as_secs())]
    enrol_every_s: u64,
    /// The district's public address, where residents' phones reach this server
    /// (https://HOST[:PORT][/PATH]): signboard QR codes link to `{URL}/s/{code}`. Stored and
    /// published to every device; kept from an earlier run when not given.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// Signboard-page posts (reports, steward applications) one client address may make at
    /// once...
    #[arg(long, value_name = "N", default_value_t = RateLimit::PUBLIC_DEFAULT.burst,
          value_parser = clap::value_parser!(u32).range(1..))]
    public_burst: u32,
    /// ...then one more every this many seconds (0: no limit).
    #[arg(long, value_name = "SECONDS", default_value_t = RateLimit::PUBLIC_DEFAULT.every.as_secs())]
    public_every_s: u64,
    /// Posts through one signboard, from any address, at once...
    #[arg(long, value_name = "N", default_value_t = RateLimit::SIGNBOARD_DEFAULT.burst,
          value_parser = clap::value_parser!(u32).range(1..))]
    signboard_burst: u32,
    /// ...then one more every this many seconds (0: no limit).
    #[arg(long, value_name = "SECONDS", default_value_t = RateLimit::SIGNBOARD_DEFAULT.every.as_secs())]
    signboard_every_s: u64,
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            metrics_addr: None,
            enrol_burst: RateLimit::ENROL_DEFAULT.burst,
            enrol_every_s: RateLimit::ENROL_DEFAULT.every.as_secs(),
            public_url: None,
            public_burst: RateLimit::PUBLIC_DEFAULT.burst,
            public_every_s: RateLimit::PUBLIC_DEFAULT.every.as_secs(),
            signboard_burst: RateLimit::SIGNBOARD_DEFAULT.burst,
            signboard_every_s: RateLimit::SIGNBOARD_DEFAULT.every.as_secs(),
        }
    }
}

#[derive(Subcommand)]
enum AdminCommand {
    /// The district itself.
    #[command(subcommand)]
    District(DistrictCommand),
    #[command(subcommand)]
    Subdistrict(SubdistrictCommand),
    #[command(subcommand)]
    User(UserCommand),
    #[command(subcommand)]
    Device(DeviceCommand),
    #[command(subcommand)]
    Streets(StreetsCommand),
    /// Items held out of every feed: list, show, hold, release, and scan what is stored.
    #[command(subcommand)]
    Quarantine(QuarantineCommand),
    /// The points ledger: redemptions waiting for a supervisor's approval.
    #[command(subcommand)]
    Points(PointsCommand),
    /// The district's rules, published to every device with their versions.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Reports computed from the server's own data, by the model code the phones run.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Residents' applications to become alley stewards, sent from signboard pages.
    #[command(subcommand)]
    Applications(ApplicationsCommand),
    /// Problems residents reported through signboard pages, with their contact phones.
    #[command(subcommand, name = "public-reports")]
    PublicReports(PublicReportsCommand),
    /// A person's rights (PIPL): everything the server holds about a user.
    #[command(subcommand)]
    Person(PersonCommand),
}

#[derive(Subcommand)]
enum ApplicationsCommand {
    /// Applications, oldest first (pending ones unless `--all`).
    List {
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// Approves one: makes the steward user, assigns them to the street they chose and makes
    /// the enrolment code their status page shows.
    Approve {
        id: String,
        /// The server address phones enrol at (in the QR payload); the district's public
        /// address when not given.
        #[arg(long, value_name = "URL")]
        server_url: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Declines one, with a reason the applicant reads on their status page.
    Decline {
        id: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
enum PersonCommand {
    /// Everything the server holds about a user, as one JSON document (format
    /// `streetpatrol.person-export/1`): their user, devices, streets, office account and audit
    /// entries, patrols with every fix, pickups and points, what they wrote into issues and
    /// merchants. The export is written to the audit log.
    Export {
        /// The user's id, or a name only one user has.
        user: String,
        /// Write it to this file (created new, readable by its owner only) instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Who asked for it, for the audit log (the person, or the office on their behalf).
        #[arg(long, default_value = "the person")]
        asked_by: String,
    },
}

#[derive(Subcommand)]
enum PublicReportsCommand {
    /// Reports of the last `--days` days, newest first. Contact phones are masked unless
    /// `--show-phones` (for the supervisor who calls residents back).
    List {
        #[arg(long, default_value_t = 30)]
        days: u32,
        #[arg(long)]
        show_phones: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// The chief assessment (考核) of a period under the published rules (or a rules file).
    Assessment {
        /// `2026-11`, `2026-W47`, `2026-11-01..2026-11-15` ... (as `patrol report` takes).
        #[arg(long)]
        period: String,
        /// A report rules file (JSON) instead of the published rules.
        #[arg(long)]
        rules: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// What is published: report rules, every points rule version, categories.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Publishes a report rules file (JSON, the format `patrol report --rules` takes) of a
    /// version above the one published.
    Report { file: PathBuf },
    /// Publishes the next version of a points rule.
    Points {
        /// pickup, verified_issue, patrol_hour or redemption.
        #[arg(long)]
        kind: patrol_model::PointsKind,
        #[arg(long)]
        points: i64,
        #[arg(long, default_value_t = 0)]
        per_bag: i64,
        /// Most points a day (for redemptions: most redeemed a day without approval).
        #[arg(long)]
        daily_cap: Option<i64>,
        /// The Beijing day it takes effect, YYYY-MM-DD.
        #[arg(long)]
        valid_from: String,
        #[arg(long)]
        description: String,
    },
    /// Publishes an issue category (code, Chinese and English names, hours until due).
    Category {
        code: String,
        #[arg(long)]
        zh: String,
        #[arg(long)]
        en: String,
        #[arg(long)]
        due_hours: u32,
    },
}

#[derive(Subcommand)]
enum QuarantineCommand {
    /// The items held, with the reasons.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Everything the server holds of one item (KIND: doc:issue, doc:merchant, patrol,
    /// record:pickup, record:points, ref:TABLE), and what is wrong with it.
    Show { kind: String, id: String },
    /// Takes an item out of every feed; uploads to it are refused until it is released.
    Add {
        kind: String,
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Puts a held item back in the feed.
    Release { kind: String, id: String },
    /// Checks every stored item as a receiving device would; `--hold` quarantines what fails.
    Scan {
        #[arg(long)]
        hold: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum PointsCommand {
    /// Redemptions past the automatic limit, waiting for approval.
    Pending {
        #[arg(long)]
        json: bool,
    },
    Approve {
        entry: String,
    },
    Decline {
        entry: String,
    },
}

#[derive(Subcommand)]
enum DistrictCommand {
    Set {
        #[arg(long)]
        name: String,
        #[arg(long)]
        code: Option<String>,
    },
    /// The district's public address (as `serve --public-url`): signboard links point under it.
    PublicUrl { url: String },
    /// What every signboard page tells residents besides the street: the chief's duty line (in
    /// Chinese and English) and a service hotline. Prints what is set; an empty text clears.
    PublicInfo {
        #[arg(long, value_name = "TEXT")]
        chief_duty: Option<String>,
        #[arg(long, value_name = "TEXT")]
        chief_duty_en: Option<String>,
        #[arg(long, value_name = "NUMBER")]
        hotline: Option<String>,
    },
}

#[derive(Subcommand)]
enum SubdistrictCommand {
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        code: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Add the subdistricts of a CSV with `code` and `name` columns (the national list of
    /// township-level divisions); names already present are left alone.
    Import {
        file: std::path::PathBuf,
        /// Keep only rows of this area (county-level) code, e.g. 110107 for 石景山区.
        #[arg(long)]
        area: Option<String>,
        #[arg(long)]
        json: bool,
    },
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user and print a one-time enrolment code for their phone.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        role: Role,
        /// district, subdistrict:ID (or subdistrict:NAME), street:ID or own (default: district for
        /// supervisors, own otherwise).
        #[arg(long)]
        scope: Option<String>,
        /// Put the server's address in the QR payload.
        #[arg(long)]
        server_url: Option<String>,
        /// Days the enrolment code stays valid (1 to 90).
        #[arg(long, value_name = "DAYS", default_value_t = admin::ENROL_CODE_VALID_DAYS)]
        code_valid_days: u32,
        #[arg(long)]
        json: bool,
    },
    List {
        #[arg(long)]
        json: bool,
    },
    /// Set (or replace) a supervisor's password for the office platform (/office). Asked twice
    /// on a terminal; read from standard input (one line) when piped. Signs their browsers out.
    Password {
        /// The user's id, or a name only one user has.
        user: String,
        /// May read the audit log.
        #[arg(long)]
        admin: bool,
    },
    /// A new enrolment code for an existing user.
    Code {
        user: UserId,
        #[arg(long)]
        server_url: Option<String>,
        /// Days the enrolment code stays valid (1 to 90).
        #[arg(long, value_name = "DAYS", default_value_t = admin::ENROL_CODE_VALID_DAYS)]
        code_valid_days: u32,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// Revoke a device's token (or every device of a user).
    Revoke(RevokeArgs),
}

#[derive(Args)]
struct RevokeArgs {
    #[arg(long)]
    device: Option<DeviceId>,
    #[arg(long)]
    user: Option<UserId>,
}

#[derive(Subcommand)]
enum StreetsCommand {
    /// Import the street network (.osm or .geojson) and send it to devices.
    Import {
        file: PathBuf,
        /// The subdistrict running these streets, when the file does not say.
        #[arg(long)]
        subdistrict: Option<String>,
        /// Longest segment in metres.
        #[arg(long, default_value_t = 200.0)]
        max_segment_m: f64,
        #[arg(long)]
        json: bool,
    },
    /// List the network's streets.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Issue a signboard with a signed QR code for a street (by id or name).
    Signboard {
        street: String,
        #[arg(long, allow_hyphen_values = true, requires = "lon")]
        lat: Option<f64>,
        #[arg(long, allow_hyphen_values = true)]
        lon: Option<f64>,
        #[arg(long)]
        json: bool,
    },
    /// Assign a chief or a steward to a street (by id or name).
    Assign {
        street: String,
        #[arg(long, conflicts_with = "steward")]
        chief: Option<UserId>,
        #[arg(long)]
        steward: Option<UserId>,
        /// Remove the assignment instead.
        #[arg(long)]
        remove: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli
        .command
        .unwrap_or_else(|| Command::Serve(ServeArgs::default()))
    {
        Command::Serve(args) => serve(cli.data, cli.listen, args, cli.log_json),
        Command::Admin(cmd) => run_admin(&cli.data, cmd),
    }
}

/// Writes a new file readable by its owner only (a person's data); refuses to replace one.
fn write_private_file(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn serve(data: PathBuf, listen: SocketAddr, args: ServeArgs, log_json: bool) -> Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=info"));
    if log_json {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    if let Some(url) = &args.public_url {
        let storage = patrol_server::open_storage(&data)?;
        let url = patrol_server::network::set_public_url(storage.as_ref(), url)?;
        tracing::info!(public_url = %url, "signboard links point under the public address");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let server = patrol_server::start(ServerConfig {
            metrics_listen: args.metrics_addr,
            enrol_limit: RateLimit {
                burst: args.enrol_burst,
                every: std::time::Duration::from_secs(args.enrol_every_s),
            },
            public_limit: RateLimit {
                burst: args.public_burst,
                every: std::time::Duration::from_secs(args.public_every_s),
            },
            signboard_limit: RateLimit {
                burst: args.signboard_burst,
                every: std::time::Duration::from_secs(args.signboard_every_s),
            },
            ..ServerConfig::new(data.clone(), listen)
        })
        .await?;
        tracing::info!(addr = %server.addr, data = %data.display(), "patrol-server listening");
        if let Some(m) = server.metrics_addr {
            tracing::info!(addr = %m, "metrics at /metrics");
        }
        shutdown_signal().await;
        tracing::info!("shutting down: finishing requests in flight");
        server.stop().await?;
        tracing::info!("stopped");
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

fn print(json_out: bool, value: serde_json::Value, text: String) {
    if json_out {
        // As is: the JSON escapes control characters itself.
        std::println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
    } else {
        println!("{text}");
    }
}

fn run_admin(data: &std::path::Path, cmd: AdminCommand) -> Result<()> {
    let storage = open_storage(data)?;
    let s = storage.as_ref();
    match cmd {
        AdminCommand::District(DistrictCommand::Set { name, code }) => {
            let id = admin::set_district(s, &name, code.as_deref())?;
            println!("district {name} ({id})");
        }
        AdminCommand::District(DistrictCommand::PublicUrl { url }) => {
            let url = patrol_server::network::set_public_url(s, &url)?;
            println!("signboard links now point under {url}/s/ (published to every device)");
        }
        AdminCommand::District(DistrictCommand::PublicInfo {
            chief_duty,
            chief_duty_en,
            hotline,
        }) => {
            let info = patrol_server::public::info::update(
                s,
                chief_duty.as_deref(),
                chief_duty_en.as_deref(),
                hotline.as_deref(),
            )?;
            let show =
                |v: &Option<String>| v.clone().unwrap_or_else(|| "(the standard text)".into());
            println!(
                "chief's duty: {}\nin English:   {}\nhotline:      {}",
                show(&info.chief_duty_zh),
                show(&info.chief_duty_en),
                info.hotline.as_deref().unwrap_or("(none)")
            );
        }
        AdminCommand::Subdistrict(cmd) => run_subdistrict(s, cmd)?,
        AdminCommand::User(cmd) => run_user(s, cmd)?,
        AdminCommand::Quarantine(cmd) => run_quarantine(s, cmd)?,
        AdminCommand::Rules(cmd) => run_rules(s, cmd)?,
        AdminCommand::Report(cmd) => run_report(s, cmd)?,
        AdminCommand::Points(cmd) => run_points(s, cmd)?,
        AdminCommand::Device(DeviceCommand::Revoke(args)) => {
            let n = admin::revoke(s, args.device.as_ref(), args.user.as_ref())?;
            println!("{n} device(s) revoked");
        }
        AdminCommand::Streets(cmd) => run_streets(s, data, cmd)?,
        AdminCommand::Applications(cmd) => run_applications(s, cmd)?,
        AdminCommand::Person(PersonCommand::Export {
            user,
            out,
            asked_by,
        }) => {
            let user = admin::resolve_user(s, &user)?;
            let export = patrol_server::rights::export_person(s, &user.id, admin::now_ms())?;
            let text = serde_json::to_string_pretty(&export)?;
            match out {
                None => {
                    println!("{text}");
                    patrol_server::rights::record_export(s, &user.id, &asked_by, admin::now_ms())?;
                }
                Some(path) => {
                    write_private_file(&path, text.as_bytes())
                        .with_context(|| format!("writing {}", path.display()))?;
                    patrol_server::rights::record_export(s, &user.id, &asked_by, admin::now_ms())?;
                    eprintln!(
                        "{}: everything held about {} ({} patrols, {} issues); the export is in the audit log",
                        path.display(),
                        user.id,
                        export.patrols.len(),
                        export.issues.len()
                    );
                }
            }
        }
        AdminCommand::PublicReports(PublicReportsCommand::List {
            days,
            show_phones,
            json,
        }) => {
            let from = admin::now_ms() - i64::from(days) * 24 * 3600 * 1000;
            let rows = s.read()?.public_reports(from, 10_000)?;
            let phone = |p: &Option<String>| match p {
                Some(p) if show_phones => p.clone(),
                Some(p) => patrol_server::public::contact::mask_phone(p),
                None => String::new(),
            };
            let value = serde_json::Value::Array(
                rows.iter()
                    .map(|r| {
                        serde_json::json!({
                            "issue_id": r.issue_id, "street_id": r.street_id,
                            "signboard_id": r.signboard_id, "created_at_ms": r.created_at_ms,
                            "contact_phone": phone(&r.contact_phone),
                        })
                    })
                    .collect(),
            );
            let text = rows
                .iter()
                .map(|r| {
                    format!(
                        "{}  {}  {}",
                        r.issue_id,
                        r.street_id,
                        phone(&r.contact_phone)
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            print(json, value, text);
        }
    }
    Ok(())
}

fn run_applications(
    s: &dyn patrol_server::storage::Storage,
    cmd: ApplicationsCommand,
) -> Result<()> {
    use patrol_server::public::applications;
    use patrol_server::storage::ApplicationStatus;
    match cmd {
        ApplicationsCommand::List { all, json } => {
            let status = (!all).then_some(ApplicationStatus::Pending);
            let rows = applications::list(s, status)?;
            let value = serde_json::Value::Array(
                rows.iter()
                    .map(|a| {
                        serde_json::json!({
                            "id": a.id, "name": a.name, "phone": a.phone,
                            "street_id": a.street_id, "availability": a.availability,
                            "status": a.status.as_str(), "reason": a.reason,
                            "user_id": a.user_id, "created_at_ms": a.created_at_ms,
                        })
                    })
                    .collect(),
            );
            let text = rows
                .iter()
                .map(|a| {
                    format!(
                        "{}  {:<8}  {}  {}  {}  {}",
                        a.id,
                        a.status.as_str(),
                        a.name,
                        a.phone,
                        a.street_id,
                        a.availability
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            print(json, value, text);
        }
        ApplicationsCommand::Approve {
            id,
            server_url,
            json,
        } => {
            let url = match server_url {
                Some(u) => Some(u),
                None => patrol_server::network::public_url(s.read()?.as_mut())?,
            };
            let done = applications::approve(s, &id, url.as_deref(), admin::now_ms())?;
            let value = serde_json::json!({
                "user_id": done.user_id, "name": done.name, "street_id": done.street_id,
                "enrol_code": done.enrol_code, "enrol_qr": done.enrol_qr,
            });
            let text = format!(
                "application {id} approved: steward {} ({}) on street {}\nenrolment code {} (also on the applicant's status page)",
                done.name, done.user_id, done.street_id, done.enrol_code
            );
            print(json, value, text);
        }
        ApplicationsCommand::Decline { id, reason } => {
            applications::decline(s, &id, &reason, admin::now_ms())?;
            println!("application {id} declined");
        }
    }
    Ok(())
}

fn run_subdistrict(s: &dyn patrol_server::storage::Storage, cmd: SubdistrictCommand) -> Result<()> {
    match cmd {
        SubdistrictCommand::Add { name, code, json } => {
            let id = admin::add_subdistrict(s, &name, code.as_deref())?;
            print(
                json,
                json!({ "subdistrict_id": id, "name": name }),
                format!("subdistrict {name}: {id}"),
            );
        }
        SubdistrictCommand::Import { file, area, json } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let report = admin::import_subdistricts(s, &bytes, area.as_deref())
                .with_context(|| format!("{} was not imported", file.display()))?;
            let mut text: Vec<String> = report
                .added
                .iter()
                .map(|s| format!("subdistrict {} ({}): {}", s.name, s.code, s.id))
                .collect();
            text.push(format!(
                "{} added, {} there already",
                report.added.len(),
                report.existing.len()
            ));
            print(json, json!(report), text.join("\n"));
        }
        SubdistrictCommand::List { json } => {
            let list = s.read()?.subdistricts()?;
            let rows: Vec<_> = list
                .iter()
                .map(|(id, n, c)| json!({ "id": id, "name": n, "code": c }))
                .collect();
            let text = list
                .iter()
                .map(|(id, n, _)| format!("{id}  {n}"))
                .collect::<Vec<_>>()
                .join("\n");
            print(json, json!(rows), text);
        }
    }
    Ok(())
}

fn run_user(s: &dyn patrol_server::storage::Storage, cmd: UserCommand) -> Result<()> {
    match cmd {
        UserCommand::Add {
            name,
            role,
            scope,
            server_url,
            code_valid_days,
            json,
        } => {
            let scope = match scope {
                Some(text) => admin::parse_scope(s, &text)?,
                None => patrol_server::storage::default_scope(role),
            };
            let u = admin::add_user_with_code_days(
                s,
                &name,
                role,
                scope,
                server_url.as_deref(),
                code_valid_days,
            )?;
            let text = format!(
                "user {} ({}, scope {}): {}\nenrolment code: {}  (valid {code_valid_days} days, once)\nQR payload: {}",
                u.name, u.role, u.scope, u.user_id, u.enrol_code, u.enrol_qr
            );
            print(json, serde_json::to_value(&u)?, text);
        }
        UserCommand::List { json } => {
            let users = admin::users(s)?;
            let text = users
                .iter()
                .map(|u| format!("{}  {:11}  {:24}  {}", u.id, u.role, u.scope, u.name))
                .collect::<Vec<_>>()
                .join("\n");
            print(json, serde_json::to_value(&users)?, text);
        }
        UserCommand::Password { user, admin } => {
            let record = admin::resolve_user(s, &user)?;
            let password = read_new_password()?;
            patrol_server::office::accounts::set_password(
                s,
                &record,
                &password,
                admin,
                admin::now_ms(),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "office password set for {} ({}){}; sign in at /office",
                record.name,
                record.id,
                if admin { ", office administrator" } else { "" }
            );
        }
        UserCommand::Code {
            user,
            server_url,
            code_valid_days,
            json,
        } => {
            let (qr, code) =
                admin::new_code_with_days(s, &user, server_url.as_deref(), code_valid_days)?;
            print(
                json,
                json!({ "user_id": user, "enrol_code": code, "enrol_qr": qr, "valid_days": code_valid_days }),
                format!(
                    "enrolment code: {code}  (valid {code_valid_days} days, once)\nQR payload: {qr}"
                ),
            );
        }
    }
    Ok(())
}

/// A new password: asked twice without echo on a terminal, else one line of standard input.
fn read_new_password() -> Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("new office password: ")?;
        let second = rpassword::prompt_password("again: ")?;
        if first != second {
            anyhow::bail!("the two passwords differ; nothing was changed");
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\n', '\r']).to_owned())
    }
}

fn run_points(s: &dyn patrol_server::storage::Storage, cmd: PointsCommand) -> Result<()> {
    match cmd {
        PointsCommand::Pending { json } => {
            let pending = quarantine::pending_points(s)?;
            let text = pending
                .iter()
                .map(|e| {
                    format!(
                        "{}  {}  {:>6}  {}",
                        e["entry_id"], e["day"], e["points"], e["user_id"]
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            print(json, serde_json::Value::Array(pending), text);
        }
        PointsCommand::Approve { entry } => {
            quarantine::decide_points(s, &entry, true)?;
            println!("redemption {entry} approved");
        }
        PointsCommand::Decline { entry } => {
            quarantine::decide_points(s, &entry, false)?;
            println!("redemption {entry} declined");
        }
    }
    Ok(())
}

fn run_streets(
    s: &dyn patrol_server::storage::Storage,
    data: &std::path::Path,
    cmd: StreetsCommand,
) -> Result<()> {
    match cmd {
        StreetsCommand::Import {
            file,
            subdistrict,
            max_segment_m,
            json,
        } => {
            let options = patrol_model::streets::StreetImportOptions {
                max_segment_m,
                subdistrict,
                ..Default::default()
            };
            let r = patrol_server::network::import_streets(s, &file, &options)?;
            let text = format!(
                "{} streets, {} segments, {:.1} km imported",
                r.streets,
                r.segments,
                r.total_length_m / 1000.0
            );
            print(json, serde_json::to_value(&r)?, text);
        }
        StreetsCommand::List { json } => {
            let list = patrol_server::network::list_streets(s)?;
            let text = list
                .iter()
                .map(|v| {
                    format!(
                        "{}  {}",
                        v["id"].as_str().unwrap_or(""),
                        v["label"].as_str().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            print(json, json!(list), text);
        }
        StreetsCommand::Signboard {
            street,
            lat,
            lon,
            json,
        } => {
            let sign = patrol_server::network::issue_signboard(s, data, &street, lat.zip(lon))?;
            print(
                json,
                serde_json::to_value(&sign)?,
                format!("signboard {} on {street}\nQR: {}", sign.id, sign.link),
            );
        }
        StreetsCommand::Assign {
            street,
            chief,
            steward,
            remove,
        } => {
            let (user, role) = match (chief, steward) {
                (Some(u), None) => (u, Role::Chief),
                (None, Some(u)) => (u, Role::Steward),
                _ => anyhow::bail!("say who: --chief USER or --steward USER"),
            };
            admin::assign(s, &street, &user, role, !remove)?;
            println!(
                "{} {role} {user} on {street}",
                if remove { "removed" } else { "assigned" }
            );
        }
    }
    Ok(())
}

fn run_quarantine(s: &dyn patrol_server::storage::Storage, cmd: QuarantineCommand) -> Result<()> {
    use patrol_model::text::for_terminal;
    match cmd {
        QuarantineCommand::List { json } => {
            let held = quarantine::list(s)?;
            let text = held
                .iter()
                .map(|q| format!("{:14}  {}  {}", q.kind, q.item_id, for_terminal(&q.reason)))
                .collect::<Vec<_>>()
                .join("\n");
            let value = held
                .iter()
                .map(|q| json!({ "kind": q.kind, "id": q.item_id, "reason": q.reason, "at_ms": q.at_ms }))
                .collect();
            print(json, serde_json::Value::Array(value), text);
        }
        QuarantineCommand::Show { kind, id } => {
            let item = quarantine::show(s, &kind, &id)?;
            println!("{}", for_terminal(&serde_json::to_string_pretty(&item)?));
        }
        QuarantineCommand::Add { kind, id, reason } => {
            quarantine::hold(s, &kind, &id, &reason, admin::now_ms())?;
            println!("{kind} {id} held: no device receives it from now on");
        }
        QuarantineCommand::Release { kind, id } => {
            quarantine::release(s, &kind, &id)?;
            println!("{kind} {id} released");
        }
        QuarantineCommand::Scan { hold, json } => {
            let found = quarantine::scan(s, hold, admin::now_ms())?;
            let verb = if hold {
                "held"
            } else {
                "found (add --hold to quarantine them)"
            };
            let mut text: Vec<String> = found
                .iter()
                .map(|f| format!("{:14}  {}  {}", f.kind, f.item_id, for_terminal(&f.reason)))
                .collect();
            text.push(format!("{} item(s) {verb}", found.len()));
            print(json, serde_json::to_value(&found)?, text.join("\n"));
        }
    }
    Ok(())
}

fn run_report(s: &dyn patrol_server::storage::Storage, cmd: ReportCommand) -> Result<()> {
    use patrol_model::report::{period::Period, rules::ReportRules};
    match cmd {
        ReportCommand::Assessment {
            period,
            rules,
            json,
        } => {
            let period = Period::parse(&period)?;
            let rules = match rules {
                Some(file) => Some(ReportRules::from_json(
                    &std::fs::read_to_string(&file)
                        .with_context(|| format!("cannot read {}", file.display()))?,
                )?),
                None => None,
            };
            let r = patrol_server::reports::assessment_report(s, &period, rules.as_ref())?;
            let mut text = vec![format!(
                "assessment {} under {} v{}: {} chief(s)",
                r.period.label,
                r.rules_name,
                r.rules_version,
                r.chiefs.len()
            )];
            for c in &r.chiefs {
                text.push(format!(
                    "{:3}. {:12} {:6.1}/{:.0}  {} patrols, {:.1} km, coverage {}, {} issues found",
                    c.rank,
                    c.person.name.as_deref().unwrap_or(&c.person.user_id),
                    c.score,
                    c.max_score,
                    c.patrols,
                    c.distance_m / 1000.0,
                    c.coverage_share
                        .map_or("-".into(), |s| format!("{:.0}%", s * 100.0)),
                    c.issues_found
                ));
            }
            print(json, serde_json::to_value(&r)?, text.join("\n"));
        }
    }
    Ok(())
}

fn run_rules(s: &dyn patrol_server::storage::Storage, cmd: RulesCommand) -> Result<()> {
    use patrol_server::rules;
    match cmd {
        RulesCommand::List { json } => {
            let p = rules::published(s)?;
            let mut text = vec![match &p.report_rules {
                Some((name, v)) => format!("report rules: {name} version {v}"),
                None => "report rules: the shipped ones (none published)".into(),
            }];
            for r in &p.points_rules {
                text.push(format!(
                    "points {:14} v{}  {} (+{}/bag), cap {:?}, from {} ms: {}",
                    r.id,
                    r.version,
                    r.points,
                    r.per_bag,
                    r.daily_cap,
                    r.valid_from_ms,
                    r.description
                ));
            }
            for c in &p.categories {
                text.push(format!(
                    "category {}  {} / {}  due in {} h",
                    c.code, c.name_zh, c.name_en, c.due_hours
                ));
            }
            print(json, serde_json::to_value(&p)?, text.join("\n"));
        }
        RulesCommand::Report { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let (name, version) = rules::publish_report_rules(s, &text)?;
            println!("report rules {name} version {version} published");
        }
        RulesCommand::Points {
            kind,
            points,
            per_bag,
            daily_cap,
            valid_from,
            description,
        } => {
            let from = patrol_model::report::Period::parse(&valid_from)?.from_ms;
            let r = rules::publish_points_rule(
                s,
                kind,
                points,
                per_bag,
                daily_cap,
                from,
                &description,
            )?;
            println!("points rule {} version {} published", r.id, r.version);
        }
        RulesCommand::Category {
            code,
            zh,
            en,
            due_hours,
        } => {
            rules::publish_category(
                s,
                &patrol_model::reference::CategoryRow {
                    code: code.clone(),
                    name_zh: zh,
                    name_en: en,
                    due_hours,
                },
            )?;
            println!("category {code} published");
        }
    }
    Ok(())
}
