//! `patrol init`: create the store and this device's user.

use anyhow::Result;
use clap::Args;
use patrol_core::Role;

use crate::output::Context;

#[derive(Args)]
pub struct InitArgs {
    /// The user's name, e.g. 王芳.
    #[arg(long)]
    name: String,
    /// chief, steward, supervisor, crew, enforcement or public.
    #[arg(long)]
    role: Role,
}

pub fn run(ctx: &Context, args: InitArgs) -> Result<()> {
    let mut store = ctx.open()?;
    let me = store.init_device(&args.name, args.role, None)?;
    if ctx.json {
        ctx.print_json(&me)?;
    } else {
        println!(
            "{} ({}) set up on device {}",
            me.name, me.role, me.device_id
        );
        println!("user id: {}", me.user_id);
    }
    store.close()?;
    Ok(())
}
