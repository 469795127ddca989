//! `patrol enroll` and `patrol sync`: join a server with a one-time code, then exchange data.

use anyhow::Result;
use clap::{Args, ValueEnum};
use patrol_core::Store;
use patrol_core::sync::{self, NetworkState, SyncPolicy, SyncProgress, SyncStage};
use serde_json::json;

use crate::output::Context;

#[derive(Args)]
pub struct EnrollArgs {
    /// The server, e.g. https://HOST:PORT (plain http only to this machine).
    #[arg(long)]
    server: String,
    /// The one-time enrolment code from a supervisor (XXXX-XXXX-XXXX).
    #[arg(long)]
    code: String,
    /// Allow plain http to another machine (development only).
    #[arg(long)]
    allow_insecure_http: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Network {
    Wifi,
    Cellular,
    Offline,
}

#[derive(Args)]
pub struct SyncArgs {
    /// The network the device is on: metadata goes on any network, bulk downloads wait for wifi.
    #[arg(long, value_enum, default_value = "wifi")]
    network: Network,
    /// Download other patrols' fixes and photos on cellular too.
    #[arg(long)]
    bulk_on_cellular: bool,
    #[arg(long)]
    allow_insecure_http: bool,
}

pub fn enroll(ctx: &Context, args: EnrollArgs) -> Result<()> {
    let mut store: Store = ctx.open()?;
    let policy = SyncPolicy {
        allow_insecure_http: args.allow_insecure_http,
        ..SyncPolicy::on(NetworkState::Wifi)
    };
    let transport = sync::NativeTransport::new()?;
    let me = sync::enrol(
        &mut store,
        &transport,
        &sync::NoProgress,
        &args.server,
        &args.code,
        policy,
    )?;
    if ctx.json {
        ctx.print_json(&json!({
            "user_id": me.user_id, "name": me.name, "role": me.role, "device_id": me.device_id, "actor_id": me.actor_id,
            "server": args.server,
        }))?;
    } else {
        println!(
            "enrolled as {} ({}) on {}; device {}",
            me.name, me.role, args.server, me.device_id
        );
    }
    store.close()?;
    Ok(())
}

struct BarProgress(indicatif::ProgressBar);

impl SyncProgress for BarProgress {
    fn progress(&self, stage: SyncStage, done: u64, total: u64) {
        self.0.set_message(stage.as_str());
        self.0.set_length(total);
        self.0.set_position(done);
    }
}

pub fn run(ctx: &Context, args: SyncArgs) -> Result<()> {
    let mut store: Store = ctx.open()?;
    let network = match args.network {
        Network::Wifi => NetworkState::Wifi,
        Network::Cellular => NetworkState::Cellular,
        Network::Offline => NetworkState::Offline,
    };
    let policy = SyncPolicy {
        bulk_on_cellular: args.bulk_on_cellular,
        photos_on_cellular: args.bulk_on_cellular,
        allow_insecure_http: args.allow_insecure_http,
        ..SyncPolicy::on(network)
    };
    let bar = BarProgress(ctx.progress(0, "sync"));
    let transport = sync::NativeTransport::new()?;
    let report = sync::sync(&mut store, &transport, &policy, &bar)?;
    bar.0.finish_and_clear();
    if ctx.json {
        ctx.print_json(&report)?;
    } else {
        println!(
            "synced: up {} docs, {} patrols, {} records, {} fixes; down {} docs, {} patrols, {} records, {} reference rows, {} fixes",
            report.docs_up,
            report.patrols_up,
            report.records_up,
            report.fixes_up,
            report.docs_down,
            report.patrols_down,
            report.records_down,
            report.reference_down,
            report.fixes_down
        );
        println!(
            "{} bytes up, {} bytes down in {} requests ({} retries)",
            report.bytes_up, report.bytes_down, report.requests, report.retries
        );
        for d in &report.deferred {
            println!("waiting for a better network: {d}");
        }
    }
    store.close()?;
    Ok(())
}
