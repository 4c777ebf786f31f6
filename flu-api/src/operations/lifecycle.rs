//! `Lifecycle`: mount and unmount, and what the daemon asks a backend once at mount
//! (who serves an operation, whether inode numbers are real).

use std::path::PathBuf;
use std::sync::Arc;

use super::{ConnectionInfo, OpResult};
use crate::notify::Notifier;
use crate::op::{Op, ServedBy};

/// What a successful reload reports: choices fixed at mount that the new filesystem
/// would change, each a sentence (they take effect at the next mount).
pub type ReloadNotes = Vec<String>;

#[allow(unused_variables)]
pub trait Lifecycle: Send + Sync {
    fn init(&self, conn: &ConnectionInfo) -> OpResult<()> {
        Ok(())
    }
    fn destroy(&self) {}

    /// Who serves `op` (shown by `-d`; a Lua `lock` handler also turns on POSIX lock
    /// forwarding at mount).
    fn served_by(&self, op: Op) -> ServedBy {
        ServedBy::Native
    }

    /// Who serves `op` on `path` (the `-d` log's "via"): a composition answers for the
    /// backend mounted there.
    fn served_by_at(&self, op: Op, path: &std::path::Path) -> ServedBy {
        let _ = path;
        self.served_by(op)
    }

    /// Whether `open` with `O_TRUNC` truncates the file (as a real filesystem's open
    /// does, clearing what a truncation clears), and the backend's truncate would do
    /// nothing more: the kernel then sends O_TRUNC with the open instead of a truncate
    /// after it (FUSE_ATOMIC_O_TRUNC), one round trip fewer.
    fn truncates_on_open(&self) -> bool {
        false
    }

    /// Whether `Stat.ino` (with `Stat.dev`) names files uniquely and stably, as a real
    /// filesystem's do: the daemon then shows them as inode numbers and keeps hard links
    /// of one file on one node (as with `-o use_ino`).
    fn stable_inode_numbers(&self) -> bool {
        false
    }

    /// Whether `NameOps::export_key`/`export_path` find files again by key: the daemon
    /// then lets the kernel hand out file handles (FUSE_EXPORT_SUPPORT) that survive
    /// cache eviction; otherwise it refuses them up front.
    fn exports_files(&self) -> bool {
        false
    }

    /// The real directories the filesystem serves from (a passthrough's root): the
    /// daemon refuses to mount inside one, where the filesystem would serve itself.
    fn roots(&self) -> Vec<std::path::PathBuf> {
        Vec::new()
    }

    /// The filesystem is mounted; `dev` is the mount's device number (`st_dev` of
    /// anything in it). A backend over real directories refuses to resolve a path
    /// into it: it would wait on its own requests.
    fn mounted(&self, dev: u64) {}

    /// The largest file the filesystem can hold, if it has a limit: the daemon answers
    /// EFBIG to writes, truncates and allocations beyond it before the backend sees them.
    fn max_file_size(&self) -> Option<u64> {
        None
    }

    /// The bytes the backend's interpreter uses (`flu stats`), if it has one. Must not
    /// wait for a running handler: a last known value is fine.
    fn memory_used(&self) -> Option<u64> {
        None
    }

    /// How many handler calls were interrupted for running past `--handler-timeout`
    /// (`flu stats`), if the backend runs handlers under a watchdog.
    fn handler_timeouts(&self) -> Option<u64> {
        None
    }

    /// How many handler calls (and timer callbacks, and tasks) are waiting for slow work
    /// outside the interpreter now (`flu stats`), if the backend has one.
    fn pending_calls(&self) -> Option<u64> {
        None
    }

    /// The mount serves requests: notifications can reach the kernel through
    /// `notifier`, and a backend with timers starts them. Called once, after `mounted`.
    fn serving(&self, notifier: Arc<dyn Notifier>) {}

    /// Load the filesystem's definition again and switch to it between requests (`flu
    /// reload`). On failure the old definition keeps serving and the error is a message
    /// for the user (with the script's file:line).
    fn reload(&self) -> Result<ReloadNotes, String> {
        Err("this filesystem has no script to reload (it is served natively, with no Lua handler in the way; remount to change it)".into())
    }

    /// The files the filesystem's definition was loaded from (a script and its own
    /// modules): `flu mount --watch` reloads when one changes.
    fn source_files(&self) -> Vec<PathBuf> {
        Vec::new()
    }
}
