//! `flu mount SCRIPT DIR`: load the script, take its filesystem table (returned by the
//! chunk or handed to `flu.main`), mount it, and serve it in the background.

use std::path::Path;

use flu_api::lua::ScriptOutcome;

use super::load_script;
use crate::cli::MountArgs;
use crate::fuse_args::parse_fuse_args;
use crate::mount_options::MountOptions;
use crate::mountpoint::check_mountpoint;
use crate::serve::{default_threads, mount_and_serve, ServeRequest};

pub fn mount_command(args: MountArgs) -> Result<(), String> {
    let mountpoint = check_mountpoint(&args.mountpoint).map_err(|e| e.to_string())?;
    // Before anything is mounted: a pid file that cannot be written fails the mount
    // now, not after the filesystem is already in place.
    if let Some(pid_file) = &args.pid_file {
        check_pid_file(pid_file)?;
    }
    let mut script = load_script(&args.script, &args.script_args)?;
    let memory_limit = args
        .lua_memory_limit
        .unwrap_or(flu_api::lua::DEFAULT_LUA_MEMORY_LIMIT);
    script
        .set_memory_limit((memory_limit > 0).then_some(memory_limit))
        .map_err(|e| e.to_string())?;
    if let Some(secs) = args.handler_timeout {
        if !secs.is_finite() || secs < 0.0 {
            return Err(format!(
                "--handler-timeout takes a number of seconds, got {secs}"
            ));
        }
        script.set_handler_timeout((secs > 0.0).then(|| std::time::Duration::from_secs_f64(secs)));
    }
    if let Some(n) = args.max_pending {
        if n == 0 {
            return Err("--max-pending takes a number of handlers, at least 1".into());
        }
        script.set_max_pending(n);
    }
    let outcome = script.run().map_err(|e| e.to_string())?;
    let (fs, mut option_lists, called_main) = match outcome {
        ScriptOutcome::Finished { filesystem: Some(t), .. } => (t, Vec::new(), false),
        ScriptOutcome::Finished { filesystem: None, returned_type } => {
            return Err(format!(
                "{} returned no filesystem table (got {returned_type}): end it with `return fs` (a table of handlers) or call flu.main(argv, fs)",
                args.script.display(),
            ))
        }
        // The command line says where to mount; the script's own `-o` options still count.
        ScriptOutcome::Main { argv, fs } => {
            let parsed = parse_fuse_args(&argv).map_err(|e| format!("flu.main: {e}"))?;
            (fs, parsed.options, true)
        }
    };
    option_lists.extend(args.options.iter().cloned());
    let mut options = MountOptions::parse(&option_lists)?;
    if options.help {
        // `-o help` from the script's own flu.main options.
        print!("{}", crate::mount_options::help::options_help());
        return Ok(());
    }
    options.set_default_fsname(&args.script);
    options.adapter.debug |= args.debug;
    script.set_trace_yields(options.adapter.debug);
    let ops = script.filesystem(&fs).map_err(|e| e.to_string())?;
    let threads = if args.single_thread {
        1
    } else {
        args.threads.unwrap_or_else(default_threads)
    };
    // As in libfuse, -d (or -o debug) implies -f: debug output is for the terminal.
    let foreground = args.foreground || options.adapter.debug;
    let request = ServeRequest {
        mountpoint,
        script: std::path::absolute(&args.script).unwrap_or_else(|_| args.script.clone()),
        options,
        foreground,
        threads,
        pid_file: args.pid_file.clone(),
        log_file: args.log.log_file.clone(),
        watch: args.watch,
    };
    let served = mount_and_serve(ops, &request);
    if called_main {
        // Let the script finish after flu.main returns, as it would under Flu.
        if let Err(e) = script.resume_after_main(served.clone()) {
            tracing::error!("after unmount: {e}");
        }
    }
    served
}

/// Whether the pid file can be written: open it for writing (creating it if need be)
/// without changing what it holds yet.
fn check_pid_file(path: &Path) -> Result<(), String> {
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map(drop)
        .map_err(|e| format!("cannot write pid file {}: {e}", path.display()))
}
