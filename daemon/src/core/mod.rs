//! `FsCore`: the filesystem logic between the kernel's node-based requests and the
//! path-based operation traits, testable without a kernel (`kernel/adapter.rs` only
//! translates types and replies).
//!
//! It owns the node tree (node id ↔ path, `nodes`), the open file and directory
//! handles, the per-open-directory listing snapshots, and libfuse high-level behaviours:
//! setattr split into chmod/chown/truncate/utimens, create falling back to mknod + open,
//! lookups after every operation that makes a name, the xattr size-probe protocol.
//!
//! Every operation goes through `on`/`on_two`: the node (or parent and name) becomes a
//! path, the closure runs with it, and the operation is logged once (`oplog`) and
//! counted (`counts`, for `flu stats`). The
//! per-concern files (`names`, `attrs`, `files`, `dirs`, `xattrs`) hold only what is
//! particular to each operation.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use flu_api::{DirEntry, Errno, Fh, HandleTable, Op, OpResult, Operations, RequestContext, Stat};

use crate::adapter_config::AdapterConfig;
use counts::OpCounts;
use nodes::{Made, NewFile, NodeTable};
use oplog::{traced, LogValue};

mod attrs;
mod counts;
mod dirs;
pub mod exports;
mod files;
mod id_slab;
mod latency;
mod name_index;
mod names;
pub mod nodes;
mod oplog;
mod xattrs;

pub use counts::OpCount;
pub use dirs::{DirPlusReply, DirReply, PlusEntry};

/// The longest name when the filesystem does not say (statfs's default).
const DEFAULT_NAMEMAX: u64 = 255;

/// The inode number a directory entry gets when the daemon does not know it yet
/// (libfuse's `FUSE_UNKNOWN_INO`).
pub const UNKNOWN_INO: u64 = 0xffff_ffff;

/// A name the kernel now knows: its node id and attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub nodeid: u64,
    /// The node's generation (nonzero only where file handles are given out).
    pub generation: u32,
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
    /// The kernel need not send FLUSH at close (FOPEN_NOFLUSH).
    pub no_flush: bool,
    /// A directory's listing may be cached by the kernel (FOPEN_CACHE_DIR).
    pub cache_dir: bool,
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
    pub atime: Option<flu_api::TimeSet>,
    pub mtime: Option<flu_api::TimeSet>,
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
    /// Names of the snapshot removed (or renamed away) through the mount since it was
    /// taken, with the inode number (node id) the kernel showed for them: a listing
    /// still shows such a name, with its own inode number.
    pub gone: Arc<HashMap<OsString, u64>>,
    /// The implementation's handle of the open directory and its path (`None` when the
    /// directory has no name any more), for stating entries (`DirOps::stat_entry`).
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
    /// The implementation's answer to readdir, with `.` and `..`, taken by the first
    /// readdir (not by opendir: a listing the kernel answers from its cache asks for
    /// none) and again by each readdir back at offset 0 (rewinddir); an error is
    /// answered to the readdir that got it, as libfuse would.
    entries: Option<Result<Arc<Vec<DirEntry>>, Errno>>,
    /// See [`DirChunk::gone`]; emptied with each fresh snapshot.
    gone: Arc<HashMap<OsString, u64>>,
}

/// What an operation acts on: a node the kernel knows, a name in a directory node, or a
/// path this request has already resolved (readdirplus, per entry of one listing).
#[derive(Clone, Copy, Debug)]
pub enum At<'a> {
    Node(u64),
    Child(u64, &'a OsStr),
    Path(&'a Path),
}

/// A target resolved to its path (or the reason it has none), for one operation.
struct Resolved<'a> {
    at: At<'a>,
    path: OpResult<PathBuf>,
}

impl Resolved<'_> {
    fn path(&self) -> OpResult<&Path> {
        self.path.as_deref().map_err(|e| *e)
    }

    /// The path for a log line (escaped by `{:?}`), or the node that has none.
    fn show(&self) -> String {
        match (&self.path, self.at) {
            (Ok(p), _) => format!("{p:?}"),
            (Err(_), At::Node(id)) => format!("<node {id}>"),
            (Err(_), At::Child(parent, name)) => format!("<node {parent}>/{name:?}"),
            (Err(_), At::Path(p)) => format!("{p:?}"),
        }
    }
}

/// See the module documentation.
pub struct FsCore {
    ops: Arc<dyn Operations>,
    nodes: NodeTable,
    files: HandleTable<OpenFile>,
    dirs: HandleTable<OpenDir>,
    /// The implementation answered ENOSYS to create: use mknod + open from now on.
    no_create: AtomicBool,
    /// The longest name the filesystem takes (statfs's namemax, learned at init):
    /// longer ones are ENAMETOOLONG before the implementation sees them.
    namemax: AtomicU64,
    /// The largest file size, from `-o max_file_size` and the implementation.
    max_file_size: Option<u64>,
    config: AdapterConfig,
    /// Requests and errors per operation (`flu stats`).
    counts: OpCounts,
    /// The implementation finds files by key: the kernel may hand out file handles,
    /// and forgotten nodes are remembered (`exports`).
    exports: bool,
}

impl FsCore {
    pub fn new(ops: Arc<dyn Operations>, config: AdapterConfig) -> FsCore {
        let max_file_size = match (config.max_file_size, ops.max_file_size()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let exports = ops.exports_files();
        FsCore {
            ops,
            nodes: if exports {
                NodeTable::with_exports(config.use_ino)
            } else {
                NodeTable::new(config.use_ino)
            },
            files: HandleTable::default(),
            dirs: HandleTable::default(),
            no_create: AtomicBool::new(false),
            namemax: AtomicU64::new(DEFAULT_NAMEMAX),
            max_file_size,
            config,
            counts: OpCounts::default(),
            exports,
        }
    }

    /// Learn the filesystem's limits once, at mount: the longest name is statfs's
    /// namemax of the root (255 when statfs has nothing better to say).
    pub fn learn_limits(&self, ctx: &RequestContext) {
        let namemax = match self.ops.statfs(ctx, Path::new("/")) {
            Ok(st) if st.namemax > 0 => st.namemax,
            Ok(_) => DEFAULT_NAMEMAX,
            Err(e) => {
                tracing::debug!(
                    "statfs of / at mount failed ({e:?}): names up to {DEFAULT_NAMEMAX} bytes"
                );
                DEFAULT_NAMEMAX
            }
        };
        self.namemax.store(namemax, Ordering::Relaxed);
    }

    /// EFBIG when a file would grow to `end` bytes or more past the size limit.
    fn check_size(&self, end: u64) -> OpResult<()> {
        match self.max_file_size {
            Some(max) if end > max => Err(Errno::EFBIG),
            _ => Ok(()),
        }
    }

    /// Whether file handles through the mount can outlive the kernel's cache.
    pub fn exports(&self) -> bool {
        self.exports
    }

    pub fn config(&self) -> &AdapterConfig {
        &self.config
    }

    pub fn ops(&self) -> &Arc<dyn Operations> {
        &self.ops
    }

    /// The node tree (its size, for tests and counts).
    pub fn nodes(&self) -> &NodeTable {
        &self.nodes
    }

    /// How many files and directories are open.
    pub fn open_handles(&self) -> (usize, usize) {
        (self.files.len(), self.dirs.len())
    }

    /// Requests and errors so far, per operation, in `Op::ALL` order.
    pub fn op_counts(&self) -> Vec<OpCount> {
        self.counts.snapshot()
    }

    fn resolve<'a>(&self, at: At<'a>) -> Resolved<'a> {
        let path = match at {
            At::Node(id) => self.nodes.path_of(id).ok_or(Errno::ENOENT),
            At::Child(_, name) if name.len() as u64 > self.namemax.load(Ordering::Relaxed) => {
                Err(Errno::ENAMETOOLONG)
            }
            At::Child(parent, name) => self.nodes.child_path(parent, name).ok_or(Errno::ENOENT),
            At::Path(p) => Ok(p.to_path_buf()),
        };
        Resolved { at, path }
    }

    /// Run operation `op` on `at`: the closure gets its path; the operation is logged
    /// once with the path and `args` (formatted only when something is logged).
    fn on<T: LogValue>(
        &self,
        op: Op,
        at: At,
        args: impl FnOnce() -> String,
        f: impl FnOnce(&Path) -> OpResult<T>,
    ) -> OpResult<T> {
        let start = Instant::now();
        let target = self.resolve(at);
        let describe = || join(target.show(), args());
        let res = traced(
            self.config.debug,
            op.name(),
            || match target.path() {
                Ok(p) => self.ops.served_by_at(op, p).label(),
                Err(_) => self.ops.served_by(op).label(),
            },
            describe,
            || f(target.path()?),
        );
        self.counts
            .record(op, res.as_ref().err().copied(), start.elapsed());
        res
    }

    /// `on` for the operations that name two places (rename, link, copy_file_range).
    fn on_two<T: LogValue>(
        &self,
        op: Op,
        (a, b): (At, At),
        args: impl FnOnce() -> String,
        f: impl FnOnce(&Path, &Path) -> OpResult<T>,
    ) -> OpResult<T> {
        let start = Instant::now();
        let (a, b) = (self.resolve(a), self.resolve(b));
        let describe = || join(format!("{} {}", a.show(), b.show()), args());
        let res = traced(
            self.config.debug,
            op.name(),
            || match a.path() {
                Ok(p) => self.ops.served_by_at(op, p).label(),
                Err(_) => self.ops.served_by(op).label(),
            },
            describe,
            || f(a.path()?, b.path()?),
        );
        self.counts
            .record(op, res.as_ref().err().copied(), start.elapsed());
        res
    }

    fn file_fh(&self, fh: u64) -> OpResult<Fh> {
        self.files.get(fh).map(|f| f.fh).ok_or(Errno::EBADF)
    }

    /// Run `f` with the implementation handle for node `nodeid`: the kernel's `fh`, or
    /// for a node that has no name any more (unlinked, removed, or replaced by a rename
    /// while open) any file or directory handle open on it. The kernel sends fstat of an
    /// unlinked file, any getattr of a directory and every xattr request without a
    /// handle; the old path alone would answer ENOENT, or describe the file that now has
    /// the name. A handle the daemon picked may be released meanwhile (EBADF): then `f`
    /// runs again by path.
    fn with_open_fh<T>(
        &self,
        nodeid: u64,
        fh: Option<u64>,
        f: impl Fn(Option<Fh>) -> OpResult<T>,
    ) -> OpResult<T> {
        if let Some(fh) = fh.and_then(|fh| self.file_fh(fh).ok()) {
            return f(Some(fh));
        }
        if self.nodes.is_detached(nodeid) {
            let open = self
                .files
                .find(|o| o.nodeid == nodeid)
                .map(|o| o.fh)
                .or_else(|| self.dirs.find(|d| d.nodeid == nodeid).map(|d| d.fh));
            if let Some(fh) = open {
                match f(Some(fh)) {
                    Err(Errno::EBADF) => {}
                    other => return other,
                }
            }
        }
        f(None)
    }

    /// An open file handle on `nodeid` when the node has no name (no path reaches it).
    fn unnamed_open_file(&self, nodeid: u64) -> Option<Fh> {
        if !self.nodes.is_detached(nodeid) {
            return None;
        }
        self.files.find(|o| o.nodeid == nodeid).map(|o| o.fh)
    }

    /// Getattr `path` and register `name` in `parent` with it (one kernel lookup).
    /// `made`: whether this request made the file (see `Made`).
    fn register(
        &self,
        ctx: &RequestContext,
        parent: u64,
        name: &OsStr,
        path: &Path,
        fh: Option<Fh>,
        made: Made,
    ) -> OpResult<Entry> {
        let stat = self.ops.getattr(ctx, path, fh)?;
        let known = self.new_file(&stat, || Some(path.to_path_buf()));
        let new = NewFile {
            made,
            ..known.new_file()
        };
        let (nodeid, generation) = self
            .nodes
            .lookup_entry(parent, name, &stat, new)
            .ok_or(Errno::ENOENT)?;
        Ok(Entry {
            nodeid,
            generation,
            stat,
        })
    }
}

/// A log line's arguments: the target, then the operation's own, if any.
fn join(target: String, args: String) -> String {
    if args.is_empty() {
        target
    } else {
        format!("{target} {args}")
    }
}

/// A name for log lines (escaped by `{:?}`).
fn show_name(name: &OsStr) -> String {
    format!("{:?}", OsString::from(name))
}
