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
//! - [`control`]: the control channel (one socket per mount: `flu stats`, `flu list`,
//!   `flu reload`).
//! - `cli`, `commands`, `serve`, `detach`, `logging`, `mount_options`, `mountpoint`,
//!   `fuse_args`, `run_dir`, `reload`: the command line and the mount lifecycle.
//! - `mount_helper`: flu as `mount.fuse.flu`, for mount(8), fstab and systemd;
//!   `version`: what `flu --version` says.

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
mod mount_helper;
mod mount_options;
mod mountpoint;
mod reload;
mod run_dir;
mod serve;
pub mod session;
mod signals;
mod version;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use cli::{Cli, Command};

pub use adapter_config::AdapterConfig;

/// The `flu` command: parse the command line and run the subcommand. Started as
/// `mount.fuse.flu` (by mount(8)), it translates mount(8)'s call into `flu mount`'s.
pub fn main() -> ExitCode {
    let mut argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if argv.first().is_some_and(|a| mount_helper::is_helper(a)) {
        argv = match mount_helper::translate(&argv) {
            Ok(mount_helper::HelperRun::Mount(flu_argv)) => flu_argv,
            Ok(mount_helper::HelperRun::Fake(_)) => return ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{}: {e}", mount_helper::HELPER_NAME);
                return ExitCode::FAILURE;
            }
        };
    }
    if cli::wants_mount_option_help(&argv) {
        print!("{}", mount_options::help::options_help());
        return ExitCode::SUCCESS;
    }
    let argv = cli::normalize_args(argv);
    let mut command = Cli::command();
    // Only `flu --version` (or -V) says what the machine offers: that reads /proc.
    if argv.get(1).is_some_and(|a| a == "--version" || a == "-V") {
        command = command.version(version::long_version());
    }
    let matches = command.get_matches_from(argv);
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let log_setup = match &cli.command {
        Command::Mount(m) => logging::init_logging(&m.log),
        Command::Run(r) => logging::init_logging(&r.log),
        Command::Unmount(_)
        | Command::Stats(_)
        | Command::List(_)
        | Command::Reload(_)
        | Command::Test(_)
        | Command::Check(_)
        | Command::Types(_)
        | Command::Completions(_)
        | Command::Man(_) => Ok(()),
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
        Command::List(l) => commands::list::list_command(l),
        Command::Reload(r) => commands::reload::reload_command(r),
        Command::Test(t) => commands::test::test_command(t),
        Command::Check(c) => commands::check::check_command(c),
        Command::Types(t) => commands::types::types_command(t),
        Command::Completions(c) => commands::completions::completions_command(c),
        Command::Man(m) => commands::man::man_command(m),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("flu: {e}");
            ExitCode::FAILURE
        }
    }
}
