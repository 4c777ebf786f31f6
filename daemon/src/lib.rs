//! flu: run FUSE filesystems written in Lua.
//!
//! The daemon owns the command line, the mount lifecycle (detach, signals, unmount), the
//! path/inode layer and the fuser adapter; everything Lua lives in `flu-api`. A request
//! flows one way: kernel → `kernel` (the fuser adapter) → `core` (node → path, logging,
//! libfuse behaviours) → the operation traits of `flu-api` → a backend → reply.
//!
//! - [`session`]: flu's FUSE session layer: mounting, the kernel ABI, the serving threads,
//!   interrupts.
//! - [`kernel`]: the adapter from requests to the core, attribute conversion,
//!   kernel-passthrough I/O modes.
//! - [`core`]: the path layer: nodes, open handles, listings, the op log.
//! - [`control`]: the control channel (one socket per mount: `flu stats`).
//! - `cli`, `commands`, `serve`, `detach`, `logging`, `mount_options`, `mountpoint`,
//!   `fuse_args`, `run_dir`, `reload`: the command line and the mount lifecycle.

#![warn(clippy::undocumented_unsafe_blocks)]

pub mod adapter_config;
mod cli;
mod commands;
pub mod control;
pub mod core;
mod detach;
mod fuse_args;
pub mod kernel;
mod logging;
mod mount_options;
mod mountpoint;
mod reload;
mod run_dir;
mod serve;
pub mod session;
mod signals;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

pub use adapter_config::AdapterConfig;

/// The `flu` command: parse the command line and run the subcommand.
pub fn main() -> ExitCode {
    let argv = cli::normalize_args(std::env::args_os().collect());
    let cli = Cli::parse_from(argv);
    let log_setup = match &cli.command {
        Command::Mount(m) => logging::init_logging(&m.log),
        Command::Run(r) => logging::init_logging(&r.log),
        Command::Unmount(_)
        | Command::Stats(_)
        | Command::Reload(_)
        | Command::Check(_)
        | Command::Types(_) => Ok(()),
    };
    if let Err(e) = log_setup {
        eprintln!("flu: {e}");
        return ExitCode::FAILURE;
    }
    let result = match cli.command {
        Command::Mount(m) => commands::mount::mount_command(m),
        Command::Run(r) => commands::run::run_command(r),
        Command::Unmount(u) => commands::unmount::unmount_command(u),
        Command::Stats(s) => commands::stats::stats_command(s),
        Command::Reload(r) => commands::reload::reload_command(r),
        Command::Check(c) => commands::check::check_command(c),
        Command::Types(t) => commands::types::types_command(t),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("flu: {e}");
            ExitCode::FAILURE
        }
    }
}
