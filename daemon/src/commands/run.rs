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

const USAGE: &str =
    "usage: SCRIPT mountpoint [-o opt,[opt...]] [-f] [-d] [-s]  (-o help lists the options)";

pub fn run_command(args: RunArgs) -> Result<(), String> {
    let mut script = load_script(&args.script, &args.args).map_err(|e| with_typo_hint(&args, e))?;
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

/// `flu mout x y` reaches here as `flu run mout x y` (a script is expected where a
/// subcommand may be): when no such file exists and the word is close to a subcommand,
/// say which one was probably meant.
fn with_typo_hint(args: &RunArgs, message: String) -> String {
    let word = args.script.to_string_lossy();
    if args.script.exists() || word.contains('/') {
        return message;
    }
    match crate::cli::suggest_subcommand(&word) {
        Some(sub) => format!("no such script or subcommand '{word}' (did you mean `flu {sub}`?)"),
        None => message,
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
    // `-o help` needs no mountpoint.
    let mut options = MountOptions::parse(&parsed.options)?;
    if options.help {
        print!("{}", crate::mount_options::help::options_help());
        return Ok(());
    }
    let mountpoint = parsed
        .mountpoint
        .as_ref()
        .ok_or_else(|| format!("no mountpoint given; {USAGE}"))?;
    let mountpoint = check_mountpoint(mountpoint).map_err(|e| e.to_string())?;
    options.set_default_fsname(&args.script);
    options.adapter.debug |= parsed.debug;
    let ops = script.filesystem(fs).map_err(|e| e.to_string())?;
    let request = ServeRequest {
        mountpoint,
        script: std::path::absolute(&args.script).unwrap_or_else(|_| args.script.clone()),
        options,
        foreground: parsed.foreground,
        threads: if parsed.single_thread {
            1
        } else {
            default_threads()
        },
        pid_file: None,
        log_file: args.log.log_file.clone(),
        watch: false,
    };
    mount_and_serve(ops, &request)
}
