//! The daemon's log: tracing to stderr, or to `--log-file`; `-v`/`--log-level` pick
//! the level; `-d` adds a line per operation.

use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

use crate::cli::LogArgs;

/// Install the global subscriber. Call once, before forking.
pub fn init_logging(args: &LogArgs, debug_ops: bool) -> Result<(), String> {
    let level = match (&args.log_level, args.verbose) {
        (Some(l), _) => l.clone(),
        (None, 0) => "info".into(),
        (None, 1) => "debug".into(),
        (None, _) => "trace".into(),
    };
    if !["error", "warn", "info", "debug", "trace", "off"].contains(&level.as_str()) {
        return Err(format!(
            "unknown log level '{level}' (error, warn, info, debug, trace)"
        ));
    }
    // fuser is chatty, and warns about unmounting a mount already gone after
    // `fusermount -u`; operation lines come from flu itself.
    let fuser_level = if level == "trace" { "debug" } else { "error" };
    let ops = if debug_ops { ",flu::ops=info" } else { "" };
    let filter = EnvFilter::try_new(format!("{level},fuser={fuser_level}{ops}"))
        .map_err(|e| e.to_string())?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    match &args.log_file {
        Some(path) => {
            let file = open_log(path)?;
            builder
                .with_ansi(false)
                .with_writer(Mutex::new(file))
                .init();
        }
        None => builder.with_writer(std::io::stderr).init(),
    }
    Ok(())
}

fn open_log(path: &Path) -> Result<std::fs::File, String> {
    std::fs::File::options()
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| format!("cannot open log file {}: {e}", path.display()))
}
