//! The daemon's log: tracing to stderr, or to `--log-file`; `-v`/`--log-level` pick
//! the level; `-d` adds a line per operation. A detached daemon without a log file
//! logs to syslog, so script errors are never silently lost.

use std::ffi::CString;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use crate::cli::LogArgs;

static DETACHED: AtomicBool = AtomicBool::new(false);

/// From now on, log lines without a log file go to syslog (stderr is /dev/null).
pub fn switch_to_syslog() {
    // SAFETY: the identifier is a static NUL-terminated string, as openlog keeps it.
    unsafe { libc::openlog(c"flu".as_ptr(), libc::LOG_PID, libc::LOG_DAEMON) };
    DETACHED.store(true, Ordering::SeqCst);
}

/// Install the global subscriber. Call once, before forking.
pub fn init_logging(args: &LogArgs) -> Result<(), String> {
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
    // `fusermount -u`; operation lines (`-d`) are info lines of flu::oplog, shown
    // whatever the level.
    let fuser_level = if level == "trace" { "debug" } else { "error" };
    let oplog_level = if level == "debug" || level == "trace" {
        level.as_str()
    } else {
        "info"
    };
    let filter = EnvFilter::try_new(format!(
        "{level},fuser={fuser_level},flu::oplog={oplog_level}"
    ))
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
        None => builder.with_writer(StderrOrSyslog).init(),
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

/// Stderr until the daemon detaches, syslog after.
struct StderrOrSyslog;

enum LogWriter {
    Stderr(std::io::Stderr),
    Syslog {
        priority: libc::c_int,
        line: Vec<u8>,
    },
}

impl StderrOrSyslog {
    fn writer(priority: libc::c_int) -> LogWriter {
        if DETACHED.load(Ordering::Relaxed) {
            LogWriter::Syslog {
                priority,
                line: Vec::new(),
            }
        } else {
            LogWriter::Stderr(std::io::stderr())
        }
    }
}

impl<'a> MakeWriter<'a> for StderrOrSyslog {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> LogWriter {
        StderrOrSyslog::writer(libc::LOG_INFO)
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> LogWriter {
        let priority = match *meta.level() {
            Level::ERROR => libc::LOG_ERR,
            Level::WARN => libc::LOG_WARNING,
            Level::INFO => libc::LOG_INFO,
            _ => libc::LOG_DEBUG,
        };
        StderrOrSyslog::writer(priority)
    }
}

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            LogWriter::Stderr(e) => e.write(buf),
            LogWriter::Syslog { line, .. } => {
                line.extend_from_slice(buf);
                Ok(buf.len())
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            LogWriter::Stderr(e) => e.flush(),
            LogWriter::Syslog { .. } => Ok(()),
        }
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        if let LogWriter::Syslog { priority, line } = self {
            let text = String::from_utf8_lossy(line);
            let text = text.trim_end().replace('\0', " ");
            if let Ok(msg) = CString::new(text) {
                // SAFETY: "%s" with one NUL-terminated string argument.
                unsafe { libc::syslog(*priority, c"%s".as_ptr(), msg.as_ptr()) };
            }
        }
    }
}
