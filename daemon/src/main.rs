//! flu: run FUSE filesystems written in Lua.
//!
//! The binary owns the command line, mount lifecycle (detach, signals, unmount), the
//! path/inode layer and the fuser adapter; everything Lua lives in `flu-api`.

mod adapter_config;
mod attr;
mod cli;
mod commands;
mod detach;
mod fs_core;
mod fuse;
mod fuse_args;
mod handles;
mod logging;
mod mount_options;
mod mountpoint;
mod nodes;
mod oplog;
mod passthrough;
mod serve;
mod signals;
#[cfg(test)]
mod testing;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

fn main() -> ExitCode {
    let argv = cli::normalize_args(std::env::args_os().collect());
    let cli = Cli::parse_from(argv);
    let log_setup = match &cli.command {
        Command::Mount(m) => logging::init_logging(&m.log),
        Command::Run(r) => logging::init_logging(&r.log),
        Command::Unmount(_) => Ok(()),
    };
    if let Err(e) = log_setup {
        eprintln!("flu: {e}");
        return ExitCode::FAILURE;
    }
    let result = match cli.command {
        Command::Mount(m) => commands::mount::mount_command(m),
        Command::Run(r) => commands::run::run_command(r),
        Command::Unmount(u) => commands::unmount::unmount_command(u),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("flu: {e}");
            ExitCode::FAILURE
        }
    }
}
