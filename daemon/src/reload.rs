//! Reloading a mount's filesystem definition: the one function behind `flu reload` (the
//! control channel), SIGHUP to a detached daemon, and `flu mount --watch` (`Watch`, a
//! thread that looks at the script's files a few times a second).

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use flu_api::log_escape::Escaped;
use flu_api::{Operations, ReloadNotes};

/// How often `--watch` looks at the files.
const WATCH_PERIOD: Duration = Duration::from_millis(250);

/// Reload `ops` and log the outcome (`why`: what asked for it).
pub fn reload(ops: &dyn Operations, why: &str) -> Result<ReloadNotes, String> {
    let result = ops.reload();
    match &result {
        Ok(notes) => {
            for note in notes {
                tracing::warn!("reloaded ({why}), but {note}");
            }
        }
        Err(e) => tracing::error!(
            "reload ({why}) failed; the old handlers keep serving: {}",
            flu_api::log_escape::escape_str(e)
        ),
    }
    result
}

/// What identifies one version of a file: changed by any write or replacement.
type Signature = Option<(i64, i64, u64, u64, u64)>;

fn signatures(files: &[PathBuf]) -> Vec<Signature> {
    files
        .iter()
        .map(|f| {
            std::fs::metadata(f)
                .ok()
                .map(|m| (m.mtime(), m.mtime_nsec(), m.size(), m.ino(), m.dev()))
        })
        .collect()
}

/// `flu mount --watch`: reload when the script or one of its own modules changes.
pub struct Watch;

impl Watch {
    /// Watch `ops`'s source files until `finished` is set; what they are now is the
    /// baseline (taken before this returns).
    pub fn start(ops: Arc<dyn Operations>, finished: Arc<AtomicBool>) -> std::io::Result<()> {
        let files = ops.source_files();
        if files.is_empty() {
            tracing::warn!("--watch: this filesystem has no script file to watch");
            return Ok(());
        }
        let seen = signatures(&files);
        std::thread::Builder::new()
            .name("flu-watch".into())
            .spawn(move || watch(ops.as_ref(), &finished, files, seen))
            .map(drop)
    }
}

fn watch(
    ops: &dyn Operations,
    finished: &AtomicBool,
    mut files: Vec<PathBuf>,
    mut seen: Vec<Signature>,
) {
    tracing::info!(
        "watching {} for changes",
        files
            .iter()
            .map(|f| Escaped(f).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    while !finished.load(Ordering::SeqCst) {
        std::thread::sleep(WATCH_PERIOD);
        let now = signatures(&files);
        if now == seen {
            continue;
        }
        // An editor may write in several steps: wait until the files hold still.
        std::thread::sleep(WATCH_PERIOD);
        let settled = signatures(&files);
        if settled != now {
            continue;
        }
        let changed: Vec<String> = files
            .iter()
            .zip(seen.iter().zip(settled.iter()))
            .filter(|(_, (a, b))| a != b)
            .map(|(f, _)| Escaped(f).to_string())
            .collect();
        if settled.iter().any(Option::is_none) {
            // Gone for now (an editor's rename dance): look again.
            seen = settled;
            continue;
        }
        let _ = reload(ops, &format!("{} changed", changed.join(", ")));
        files = ops.source_files();
        seen = signatures(&files);
    }
}
