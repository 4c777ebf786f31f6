//! flu-api: everything a Lua filesystem script sees, and the typed interface the daemon
//! calls. It knows Lua and POSIX types, not the FUSE wire protocol.
//!
//! - [`operations`]: the path-based `Operations` trait the daemon drives.
//! - [`errno`], [`stat`], [`time`]: the Rust values that cross that interface.
//! - [`lua`]: the Lua side: the `flu` module, handler calls, `LuaFilesystem`.
//! - [`fs`]: the portable `fs` Lua module.
//! - [`passthrough`]: the native passthrough backend.

pub mod errno;
mod errno_table;
pub mod fs;
pub mod lua;
pub mod operations;
pub mod passthrough;
pub mod stat;
#[cfg(test)]
mod test_support;
pub mod time;

pub use errno::Errno;
pub use operations::{
    ConnectionInfo, DirEntry, Fh, FileLock, OpResult, Opened, Operations, RequestContext,
};
pub use stat::{Stat, StatFs};
pub use time::{TimeSet, Timespec};
