//! `FsCore`: the filesystem logic between the kernel's node-based requests and the
//! path-based `Operations`, testable without a kernel (`fuse.rs` only translates types
//! and replies).
//!
//! It owns the node tree (node id ↔ path), the open file and directory handles, the
//! per-open-directory listing snapshots, and libfuse high-level behaviours: setattr split
//! into chmod/chown/truncate/utimens, create falling back to mknod + open, lookups after
//! every operation that makes a name, the xattr size-probe protocol.

use std::ffi::OsStr;
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use flu_api::{DirEntry, Errno, Fh, Op, OpResult, Operations, RequestContext, Stat, TimeSet};

use crate::adapter_config::AdapterConfig;
use crate::handles::HandleTable;
use crate::nodes::NodeTable;
use crate::oplog::{traced, LogValue};

mod dirs;
mod files;
mod meta;
mod names;

/// The inode number a directory entry gets when the daemon does not know it yet
/// (libfuse's `FUSE_UNKNOWN_INO`).
pub const UNKNOWN_INO: u64 = 0xffff_ffff;

/// A name the kernel now knows: its node id and attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub nodeid: u64,
    pub stat: Stat,
}

impl LogValue for Entry {
    fn log_value(&self) -> String {
        format!("node {} {}", self.nodeid, self.stat.log_value())
    }
}

/// An open file as the kernel gets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenReply {
    /// The daemon's handle for the kernel.
    pub fh: u64,
    pub direct_io: bool,
    pub keep_cache: bool,
    pub nonseekable: bool,
    /// A backing file for kernel passthrough (borrowed from the implementation).
    pub backing_fd: Option<RawFd>,
}

impl LogValue for OpenReply {
    fn log_value(&self) -> String {
        format!("{self:?}")
    }
}

/// What setattr asked to change; `None` leaves a field alone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetAttr {
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub size: Option<u64>,
    pub atime: Option<TimeSet>,
    pub mtime: Option<TimeSet>,
    /// The kernel's handle when the change comes through an open file.
    pub fh: Option<u64>,
}

/// The answer to getxattr/listxattr: the size (when probed with size 0) or the bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum XattrReply {
    Size(u32),
    Data(Vec<u8>),
}

impl LogValue for XattrReply {
    fn log_value(&self) -> String {
        match self {
            XattrReply::Size(n) => format!("size {n}"),
            XattrReply::Data(d) => format!("{} bytes", d.len()),
        }
    }
}

/// A snapshot of a directory listing from `start` on; entry `i` has offset `i + 1`.
#[derive(Clone, Debug)]
pub struct DirChunk {
    pub entries: Arc<Vec<DirEntry>>,
    pub start: usize,
    /// The implementation's handle of the open directory and its path (`None` when the
    /// directory has no name any more), for stating entries (`Operations::stat_entry`).
    pub fh: Fh,
    pub path: Option<PathBuf>,
}

impl LogValue for DirChunk {
    fn log_value(&self) -> String {
        format!(
            "{} entries from {}",
            self.entries.len().saturating_sub(self.start),
            self.start
        )
    }
}

#[derive(Debug)]
struct OpenFile {
    nodeid: u64,
    fh: Fh,
}

#[derive(Debug)]
struct OpenDir {
    nodeid: u64,
    fh: Fh,
    listing: Mutex<Listing>,
}

#[derive(Debug)]
struct Listing {
    /// The implementation's answer to readdir, with `.` and `..`; an error is answered
    /// to the first readdir, as libfuse would.
    entries: Result<Arc<Vec<DirEntry>>, Errno>,
    /// Whether readdir answered from it: a later readdir at offset 0 (rewinddir) takes
    /// a fresh snapshot.
    served: bool,
}

/// See the module documentation.
pub struct FsCore {
    ops: Arc<dyn Operations>,
    nodes: NodeTable,
    files: HandleTable<OpenFile>,
    dirs: HandleTable<OpenDir>,
    /// The implementation answered ENOSYS to create: use mknod + open from now on.
    no_create: AtomicBool,
    config: AdapterConfig,
}

/// The path of a resolved node, for use inside an operation.
fn p(path: &OpResult<PathBuf>) -> OpResult<&Path> {
    path.as_deref().map_err(|e| *e)
}

fn show(path: &OpResult<PathBuf>, nodeid: u64) -> String {
    match path {
        Ok(p) => format!("{p:?}"),
        Err(_) => format!("<node {nodeid}>"),
    }
}

impl FsCore {
    pub fn new(ops: Arc<dyn Operations>, config: AdapterConfig) -> FsCore {
        FsCore {
            ops,
            nodes: NodeTable::new(config.use_ino),
            files: HandleTable::default(),
            dirs: HandleTable::default(),
            no_create: AtomicBool::new(false),
            config,
        }
    }

    pub fn config(&self) -> &AdapterConfig {
        &self.config
    }

    pub fn ops(&self) -> &Arc<dyn Operations> {
        &self.ops
    }

    fn path(&self, nodeid: u64) -> OpResult<PathBuf> {
        self.nodes.path_of(nodeid).ok_or(Errno::ENOENT)
    }

    fn child_path(&self, parent: u64, name: &OsStr) -> OpResult<PathBuf> {
        self.nodes.child_path(parent, name).ok_or(Errno::ENOENT)
    }

    fn file_fh(&self, fh: u64) -> OpResult<Fh> {
        self.files.get(fh).map(|f| f.fh).ok_or(Errno::EBADF)
    }

    /// The implementation handle for a getattr/setattr: the kernel's, or for a node
    /// that has no name any more, any handle open on it (the kernel sends fstat of an
    /// unlinked file without one; its path alone would answer ENOENT).
    fn attr_fh(&self, nodeid: u64, fh: Option<u64>) -> Option<Fh> {
        match fh.and_then(|fh| self.file_fh(fh).ok()) {
            Some(fh) => Some(fh),
            None if self.nodes.is_detached(nodeid) => {
                self.files.find(|f| f.nodeid == nodeid).map(|f| f.fh)
            }
            None => None,
        }
    }

    /// How many files and directories are open.
    #[cfg(test)]
    pub fn open_handles(&self) -> (usize, usize) {
        (self.files.len(), self.dirs.len())
    }

    #[cfg(test)]
    pub fn nodes(&self) -> &NodeTable {
        &self.nodes
    }

    fn run<T: LogValue>(
        &self,
        op: Op,
        args: impl FnOnce() -> String,
        f: impl FnOnce() -> OpResult<T>,
    ) -> OpResult<T> {
        traced(
            self.config.debug,
            op.name(),
            || self.ops.served_by(op).label(),
            args,
            f,
        )
    }

    /// Getattr `path` and register `name` in `parent` with it (one kernel lookup).
    fn register(
        &self,
        ctx: &RequestContext,
        parent: u64,
        name: &OsStr,
        path: &Path,
        fh: Option<Fh>,
    ) -> OpResult<Entry> {
        let stat = self.ops.getattr(ctx, path, fh)?;
        let nodeid = self
            .nodes
            .lookup(parent, name, &stat)
            .ok_or(Errno::ENOENT)?;
        Ok(Entry { nodeid, stat })
    }
}

fn xattr_reply(value: Vec<u8>, size: u32) -> OpResult<XattrReply> {
    let len = u32::try_from(value.len()).map_err(|_| Errno(libc::E2BIG))?;
    if size == 0 {
        Ok(XattrReply::Size(len))
    } else if len > size {
        Err(Errno::ERANGE)
    } else {
        Ok(XattrReply::Data(value))
    }
}

#[cfg(test)]
mod tests;
