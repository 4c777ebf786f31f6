//! flu-api: everything a Lua filesystem script sees, and the typed interface the daemon
//! calls. It knows Lua and POSIX types, not the FUSE wire protocol.
//!
//! - [`op`]: the list of operations, declared once.
//! - [`operations`]: the path-based operation traits the daemon drives, one per concern.
//! - [`errno`], [`stat`], [`time`]: the Rust values that cross that interface.
//! - [`handle_table`]: the open-handle table every layer uses.
//! - [`interrupt`]: interrupted requests (FUSE_INTERRUPT) as seen by the code serving them.
//! - [`notify`]: notifications to the kernel's caches (`flu.notify`), as the daemon sends them.
//! - [`log_escape`]: the one escaping rule for paths, names and messages in log lines.
//! - [`lua`]: the Lua side: the `flu` module, handler calls, `LuaFilesystem`.
//! - [`fs`]: the portable `fs` Lua module.
//! - [`passthrough`]: the native passthrough backend.
//! - [`compose`]: backends mounted at subpaths of one tree, routed natively.
//! - [`union`]: the native union of layers (`flu.union`), overlayfs's semantics.

#![warn(clippy::undocumented_unsafe_blocks)]

pub mod compose;
pub mod errno;
mod errno_table;
pub mod fs;
pub mod handle_table;
pub mod interrupt;
pub mod log_escape;
pub mod lua;
pub mod notify;
pub mod op;
pub mod operations;
pub mod passthrough;
pub mod stat;
#[cfg(test)]
mod test_support;
pub mod time;
pub mod union;

pub use errno::Errno;
pub use handle_table::HandleTable;
pub use op::{Op, ServedBy};
pub use operations::{
    AttrOps, ConnectionInfo, DirEntry, DirOps, Fh, FileLock, FileOps, Lifecycle, LockOps, NameOps,
    OpResult, Opened, Operations, ReloadNotes, RequestContext, Unimplemented, XattrOps,
};
pub use stat::{Stat, StatFs};
pub use time::{TimeSet, Timespec};
