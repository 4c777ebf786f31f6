//! `flu run SCRIPT args…` (and `flu SCRIPT args…`): run a script as `lua` would; each
//! `flu.main(argv, fs)` it calls mounts as libfuse's `fuse_main` would, and returns
//! `true` after unmount or `nil, message`.

use std::ffi::OsString;

use flu_api::lua::{FsTable, Script, ScriptOutcome};

use super::load_script;
use crate::cli::RunArgs;
use crate::fuse_args::parse_fuse_args;
use crate::mount_options::MountOptions;
use crate::mountpoint::check_mountpoint;
use crate::serve::{default_threads, mount_and_serve, ServeRequest};

const USAGE: &str = "usage: SCRIPT mountpoint [-o opt,[opt...]] [-f] [-d] [-s]";

pub fn run_command(args: RunArgs) -> Result<(), String> {
    let mut script = load_script(&args.script, &args.args)?;
    let mut outcome = script.run().map_err(|e| e.to_string())?;
    loop {
        match outcome {
            ScriptOutcome::Finished { .. } => return Ok(()),
            ScriptOutcome::Main { argv, fs } => {
                let result = serve_main(&script, &argv, &fs, &args);
                if let Err(msg) = &result {
                    eprintln!("flu: {msg}");
                }
                outcome = script
                    .resume_after_main(result)
                    .map_err(|e| e.to_string())?;
            }
        }
    }
}

fn serve_main(
    script: &Script,
    argv: &[OsString],
    fs: &FsTable,
    args: &RunArgs,
) -> Result<(), String> {
    let parsed = parse_fuse_args(argv)?;
    if parsed.help || parsed.version {
        println!("{USAGE}\nflu {}", env!("CARGO_PKG_VERSION"));
        return Ok(());
    }
    let mountpoint = parsed
        .mountpoint
        .as_ref()
        .ok_or_else(|| format!("no mountpoint given; {USAGE}"))?;
    let mountpoint = check_mountpoint(mountpoint).map_err(|e| e.to_string())?;
    let mut options = MountOptions::parse(&parsed.options)?;
    options.adapter.debug |= parsed.debug;
    let ops = script.filesystem(fs).map_err(|e| e.to_string())?;
    let request = ServeRequest {
        mountpoint,
        options,
        foreground: parsed.foreground,
        threads: if parsed.single_thread {
            1
        } else {
            default_threads()
        },
        pid_file: None,
        log_file: args.log.log_file.clone(),
    };
    mount_and_serve(ops, &request)
}
