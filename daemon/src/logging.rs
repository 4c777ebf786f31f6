//! The daemon's log: tracing to stderr, or to `--log-file`; `-v`/`--log-level` pick
//! the level; `-d` adds a line per operation. Logs never vanish silently: a detached
//! daemon without a log file logs to syslog when there is one (/dev/log), else to a file
//! in a standard place (see `fallback_log_path`), whose path `flu mount` prints.
//!
//! Every line goes out in one write, with whatever control bytes it still holds escaped
//! (`flu_api::log_escape::sanitize_line`), so no path or message can forge a line; colour
//! codes are written only to a terminal, never to a file or syslog.

use std::ffi::CString;
use std::fs::File;
use std::io::{IsTerminal, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use flu_api::log_escape::sanitize_line;
use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use crate::cli::LogArgs;

/// Where log lines go now.
enum Sink {
    /// The terminal (or whatever stderr is) of a foreground daemon; `ansi`: whether the
    /// lines carry colour codes (stderr was a terminal when logging started).
    Stderr {
        ansi: bool,
    },
    File(File),
    Syslog,
}

static SINK: Mutex<Sink> = Mutex::new(Sink::Stderr { ansi: false });

fn set_sink(sink: Sink) {
    *SINK.lock().unwrap_or_else(|p| p.into_inner()) = sink;
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
    // Operation lines (`-d`) are info lines of flu::core::oplog, shown whatever the
    // level.
    let oplog_level = if level == "debug" || level == "trace" {
        level.as_str()
    } else {
        "info"
    };
    let filter = EnvFilter::try_new(format!("{level},flu::core::oplog={oplog_level}"))
        .map_err(|e| e.to_string())?;
    // Colour only for a terminal; lines that later go to a file or syslog (after
    // detaching) have the codes taken out again by the writer.
    let ansi = args.log_file.is_none() && std::io::stderr().is_terminal();
    match &args.log_file {
        Some(path) => set_sink(Sink::File(open_log(path)?)),
        None => set_sink(Sink::Stderr { ansi }),
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(ansi)
        .with_writer(LogSink)
        .init();
    Ok(())
}

fn open_log(path: &Path) -> Result<File, String> {
    File::options()
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| format!("cannot open log file {}: {e}", path.display()))
}

/// Where a detached daemon without `--log-file` logs.
pub enum DetachedLog {
    Syslog,
    /// A file in a standard place, already open (its path is printed at mount).
    File {
        path: PathBuf,
        file: File,
    },
}

/// Decide, before detaching, where the log of a daemon without `--log-file` goes:
/// syslog if a syslog daemon listens on /dev/log, else the fallback file for
/// `mountpoint` (an error when no such file can be made safely).
pub fn detached_log(mountpoint: &Path) -> Result<DetachedLog, String> {
    if std::os::unix::net::UnixDatagram::unbound()
        .and_then(|s| s.connect("/dev/log"))
        .is_ok()
    {
        return Ok(DetachedLog::Syslog);
    }
    let path = fallback_log_path(mountpoint)?;
    let file = File::options()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| format!("cannot open log file {}: {e}", path.display()))?;
    Ok(DetachedLog::File { path, file })
}

/// From now on (the daemon has detached), lines go to `log`.
pub fn switch_to(log: &DetachedLog) -> Result<(), String> {
    match log {
        DetachedLog::Syslog => {
            // SAFETY: the identifier is a static NUL-terminated string, as openlog keeps it.
            unsafe { libc::openlog(c"flu".as_ptr(), libc::LOG_PID, libc::LOG_DAEMON) };
            set_sink(Sink::Syslog);
        }
        DetachedLog::File { file, path } => {
            let file = file
                .try_clone()
                .map_err(|e| format!("cannot use log file {}: {e}", path.display()))?;
            set_sink(Sink::File(file));
        }
    }
    Ok(())
}

/// The fallback log of the mount on `mountpoint`: `<mountpoint>.log` in the run
/// directory (`crate::run_dir`: the mountpoint with `/` written as `-`, `/mnt/x` →
/// `mnt-x.log`; the directory private to the user, created with mode 0700).
pub fn fallback_log_path(mountpoint: &Path) -> Result<PathBuf, String> {
    crate::run_dir::private_file(mountpoint, ".log").map_err(|e| format!("{e} (use --log-file)"))
}

/// The writer tracing formats into: one buffered line per event, written to the current
/// sink when the event is done.
struct LogSink;

struct LineWriter {
    priority: libc::c_int,
    line: Vec<u8>,
}

impl<'a> MakeWriter<'a> for LogSink {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> LineWriter {
        LineWriter {
            priority: libc::LOG_INFO,
            line: Vec::new(),
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> LineWriter {
        let priority = match *meta.level() {
            Level::ERROR => libc::LOG_ERR,
            Level::WARN => libc::LOG_WARNING,
            Level::INFO => libc::LOG_INFO,
            _ => libc::LOG_DEBUG,
        };
        LineWriter {
            priority,
            line: Vec::new(),
        }
    }
}

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.line.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if self.line.is_empty() {
            return;
        }
        let mut sink = SINK.lock().unwrap_or_else(|p| p.into_inner());
        match &mut *sink {
            Sink::Stderr { ansi } => {
                let line = sanitize_line(&self.line, *ansi);
                let _ = std::io::stderr().write_all(&line);
            }
            Sink::File(file) => {
                let line = sanitize_line(&strip_ansi(&self.line), false);
                let _ = file.write_all(&line);
            }
            Sink::Syslog => {
                let line = sanitize_line(&strip_ansi(&self.line), false);
                let text = String::from_utf8_lossy(&line);
                if let Ok(msg) = CString::new(text.trim_end()) {
                    // SAFETY: "%s" with one NUL-terminated string argument.
                    unsafe { libc::syslog(self.priority, c"%s".as_ptr(), msg.as_ptr()) };
                }
            }
        }
    }
}

/// The line without the colour codes tracing put in (`ESC [ … m`, CSI sequences).
fn strip_ansi(line: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        if line[i] == 0x1b && line.get(i + 1) == Some(&b'[') {
            // Parameters and intermediates, then one final byte in @..~.
            let mut j = i + 2;
            while j < line.len() && !(0x40..=0x7e).contains(&line[j]) {
                j += 1;
            }
            i = j + 1;
        } else {
            out.push(line[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_codes_are_taken_out() {
        assert_eq!(
            strip_ansi(b"\x1b[2m2026\x1b[0m \x1b[32m INFO\x1b[0m mounted\n"),
            b"2026  INFO mounted\n"
        );
    }
}
