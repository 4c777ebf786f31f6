//! `FsCore`: the filesystem logic between the kernel's node-based requests and the
//! path-based `Operations`, testable without a kernel (`fuse.rs` only translates types
//! and replies).
//!
//! It owns the node tree (node id ↔ path), the open file and directory handles, the
//! per-open-directory listing snapshots, and libfuse high-level behaviours: setattr split
//! into chmod/chown/truncate/utimens, create falling back to mknod + open, lookups after
//! every operation that makes a name, the xattr size-probe protocol.

use std::ffi::{OsStr, OsString};
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use flu_api::{
    DirEntry, Errno, Fh, FileLock, OpResult, Operations, RequestContext, Stat, StatFs, TimeSet,
};

use crate::adapter_config::AdapterConfig;
use crate::handles::HandleTable;
use crate::nodes::NodeTable;
use crate::oplog::{traced, LogValue};

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

    fn run<T: LogValue>(
        &self,
        op: &'static str,
        args: impl FnOnce() -> String,
        f: impl FnOnce() -> OpResult<T>,
    ) -> OpResult<T> {
        traced(self.config.debug, op, args, f)
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

    // ---- names ----

    pub fn lookup(&self, ctx: &RequestContext, parent: u64, name: &OsStr) -> OpResult<Entry> {
        let path = self.child_path(parent, name);
        self.run(
            "lookup",
            || show(&path, parent),
            || self.register(ctx, parent, name, p(&path)?, None),
        )
    }

    pub fn forget(&self, nodeid: u64, nlookup: u64) {
        self.nodes.forget(nodeid, nlookup);
    }

    pub fn getattr(&self, ctx: &RequestContext, nodeid: u64, fh: Option<u64>) -> OpResult<Stat> {
        let path = self.path(nodeid);
        self.run(
            "getattr",
            || format!("{} fh={fh:?}", show(&path, nodeid)),
            || self.ops.getattr(ctx, p(&path)?, self.attr_fh(nodeid, fh)),
        )
    }

    /// Apply each requested change with its own call (chmod, chown, truncate, utimens,
    /// in libfuse's order), then answer the new attributes.
    pub fn setattr(&self, ctx: &RequestContext, nodeid: u64, req: SetAttr) -> OpResult<Stat> {
        let path = self.path(nodeid);
        self.run(
            "setattr",
            || format!("{} {req:?}", show(&path, nodeid)),
            || {
                let path = p(&path)?;
                let fh = self.attr_fh(nodeid, req.fh);
                if let Some(mode) = req.mode {
                    self.ops.chmod(ctx, path, mode, fh)?;
                }
                if req.uid.is_some() || req.gid.is_some() {
                    self.ops.chown(ctx, path, req.uid, req.gid, fh)?;
                }
                if let Some(size) = req.size {
                    self.ops.truncate(ctx, path, size, fh)?;
                }
                if req.atime.is_some() || req.mtime.is_some() {
                    let atime = req.atime.unwrap_or(TimeSet::Omit);
                    let mtime = req.mtime.unwrap_or(TimeSet::Omit);
                    self.ops.utimens(ctx, path, atime, mtime, fh)?;
                }
                self.ops.getattr(ctx, path, fh)
            },
        )
    }

    pub fn readlink(&self, ctx: &RequestContext, nodeid: u64) -> OpResult<Vec<u8>> {
        let path = self.path(nodeid);
        self.run(
            "readlink",
            || show(&path, nodeid),
            || self.ops.readlink(ctx, p(&path)?),
        )
    }

    pub fn mknod(
        &self,
        ctx: &RequestContext,
        parent: u64,
        name: &OsStr,
        mode: u32,
        rdev: u64,
    ) -> OpResult<Entry> {
        let path = self.child_path(parent, name);
        self.run(
            "mknod",
            || format!("{} mode={mode:o} rdev={rdev}", show(&path, parent)),
            || {
                let path = p(&path)?;
                self.ops.mknod(ctx, path, mode, rdev)?;
                self.register(ctx, parent, name, path, None)
            },
        )
    }

    pub fn mkdir(
        &self,
        ctx: &RequestContext,
        parent: u64,
        name: &OsStr,
        mode: u32,
    ) -> OpResult<Entry> {
        let path = self.child_path(parent, name);
        self.run(
            "mkdir",
            || format!("{} mode={mode:o}", show(&path, parent)),
            || {
                let path = p(&path)?;
                self.ops.mkdir(ctx, path, mode)?;
                self.register(ctx, parent, name, path, None)
            },
        )
    }

    pub fn symlink(
        &self,
        ctx: &RequestContext,
        parent: u64,
        name: &OsStr,
        target: &Path,
    ) -> OpResult<Entry> {
        let path = self.child_path(parent, name);
        self.run(
            "symlink",
            || format!("{target:?} {}", show(&path, parent)),
            || {
                let path = p(&path)?;
                self.ops.symlink(ctx, target, path)?;
                self.register(ctx, parent, name, path, None)
            },
        )
    }

    pub fn link(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        new_parent: u64,
        new_name: &OsStr,
    ) -> OpResult<Entry> {
        let from = self.path(nodeid);
        let to = self.child_path(new_parent, new_name);
        self.run(
            "link",
            || format!("{} {}", show(&from, nodeid), show(&to, new_parent)),
            || {
                let to = p(&to)?;
                self.ops.link(ctx, p(&from)?, to)?;
                self.register(ctx, new_parent, new_name, to, None)
            },
        )
    }

    pub fn unlink(&self, ctx: &RequestContext, parent: u64, name: &OsStr) -> OpResult<()> {
        let path = self.child_path(parent, name);
        self.run(
            "unlink",
            || show(&path, parent),
            || {
                self.ops.unlink(ctx, p(&path)?)?;
                self.nodes.unlink(parent, name);
                Ok(())
            },
        )
    }

    pub fn rmdir(&self, ctx: &RequestContext, parent: u64, name: &OsStr) -> OpResult<()> {
        let path = self.child_path(parent, name);
        self.run(
            "rmdir",
            || show(&path, parent),
            || {
                self.ops.rmdir(ctx, p(&path)?)?;
                self.nodes.unlink(parent, name);
                Ok(())
            },
        )
    }

    /// `flags`: `RENAME_NOREPLACE` / `RENAME_EXCHANGE`, passed to the implementation.
    pub fn rename(
        &self,
        ctx: &RequestContext,
        parent: u64,
        name: &OsStr,
        new_parent: u64,
        new_name: &OsStr,
        flags: u32,
    ) -> OpResult<()> {
        let from = self.child_path(parent, name);
        let to = self.child_path(new_parent, new_name);
        self.run(
            "rename",
            || {
                format!(
                    "{} {} flags={flags:#x}",
                    show(&from, parent),
                    show(&to, new_parent)
                )
            },
            || {
                self.ops.rename(ctx, p(&from)?, p(&to)?, flags)?;
                if flags & libc::RENAME_EXCHANGE != 0 {
                    self.nodes.exchange(parent, name, new_parent, new_name);
                } else {
                    self.nodes.rename(parent, name, new_parent, new_name);
                }
                Ok(())
            },
        )
    }

    // ---- files ----

    fn opened(&self, nodeid: u64, o: flu_api::Opened) -> OpenReply {
        OpenReply {
            fh: self.files.insert(OpenFile {
                nodeid,
                fh: Fh(o.fh),
            }),
            direct_io: o.direct_io || self.config.direct_io,
            keep_cache: o.keep_cache || self.config.kernel_cache,
            nonseekable: o.nonseekable,
            backing_fd: o.backing_fd,
        }
    }

    pub fn open(&self, ctx: &RequestContext, nodeid: u64, flags: i32) -> OpResult<OpenReply> {
        let path = self.path(nodeid);
        self.run(
            "open",
            || format!("{} flags={flags:#o}", show(&path, nodeid)),
            || Ok(self.opened(nodeid, self.ops.open(ctx, p(&path)?, flags)?)),
        )
    }

    /// Create and open a regular file. When the implementation has no create (ENOSYS),
    /// make it with mknod and open it, and remember not to ask again.
    pub fn create(
        &self,
        ctx: &RequestContext,
        parent: u64,
        name: &OsStr,
        mode: u32,
        flags: i32,
    ) -> OpResult<(Entry, OpenReply)> {
        let path = self.child_path(parent, name);
        self.run(
            "create",
            || format!("{} mode={mode:o} flags={flags:#o}", show(&path, parent)),
            || {
                let path = p(&path)?;
                let mode = libc::S_IFREG | (mode & !libc::S_IFMT);
                let opened = self.create_or_mknod(ctx, path, mode, flags)?;
                match self.register(ctx, parent, name, path, Some(Fh(opened.fh))) {
                    Ok(entry) => Ok((entry, self.opened(entry.nodeid, opened))),
                    Err(e) => {
                        // The kernel will never release a handle it did not get.
                        let _ = self.ops.release(ctx, path, Fh(opened.fh), flags, false);
                        Err(e)
                    }
                }
            },
        )
    }

    fn create_or_mknod(
        &self,
        ctx: &RequestContext,
        path: &Path,
        mode: u32,
        flags: i32,
    ) -> OpResult<flu_api::Opened> {
        if !self.no_create.load(Ordering::Relaxed) {
            match self.ops.create(ctx, path, mode, flags) {
                Err(Errno::ENOSYS) => self.no_create.store(true, Ordering::Relaxed),
                other => return other,
            }
        }
        self.ops.mknod(ctx, path, mode, 0)?;
        // The file is new: creating and truncating flags mean nothing to open.
        let open_flags = flags & !(libc::O_CREAT | libc::O_EXCL | libc::O_NOCTTY | libc::O_TRUNC);
        self.ops.open(ctx, path, open_flags)
    }

    pub fn read(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        offset: u64,
        size: u32,
    ) -> OpResult<Vec<u8>> {
        let path = self.path(nodeid);
        self.run(
            "read",
            || {
                format!(
                    "{} fh={fh} offset={offset} size={size}",
                    show(&path, nodeid)
                )
            },
            || {
                let mut data = self
                    .ops
                    .read(ctx, p(&path)?, self.file_fh(fh)?, offset, size)?;
                // More than asked would corrupt the kernel's page cache bookkeeping.
                data.truncate(size as usize);
                Ok(data)
            },
        )
    }

    pub fn write(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        offset: u64,
        data: &[u8],
    ) -> OpResult<u32> {
        let path = self.path(nodeid);
        self.run(
            "write",
            || {
                format!(
                    "{} fh={fh} offset={offset} size={}",
                    show(&path, nodeid),
                    data.len()
                )
            },
            || {
                let n = self
                    .ops
                    .write(ctx, p(&path)?, self.file_fh(fh)?, offset, data)?;
                // Claiming more than was given is a bug the kernel must not see.
                Ok(n.min(u32::try_from(data.len()).unwrap_or(u32::MAX)))
            },
        )
    }

    pub fn flush(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        lock_owner: u64,
    ) -> OpResult<()> {
        let path = self.path(nodeid);
        self.run(
            "flush",
            || format!("{} fh={fh}", show(&path, nodeid)),
            || {
                self.ops
                    .flush(ctx, p(&path)?, self.file_fh(fh)?, lock_owner)
            },
        )
    }

    pub fn release(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        flags: i32,
        flush: bool,
    ) -> OpResult<()> {
        let path = self.path(nodeid);
        self.run(
            "release",
            || format!("{} fh={fh}", show(&path, nodeid)),
            || {
                let file = self.files.remove(fh).ok_or(Errno::EBADF)?;
                self.ops.release(ctx, p(&path)?, file.fh, flags, flush)
            },
        )
    }

    pub fn fsync(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        datasync: bool,
    ) -> OpResult<()> {
        let path = self.path(nodeid);
        self.run(
            "fsync",
            || format!("{} fh={fh} datasync={datasync}", show(&path, nodeid)),
            || self.ops.fsync(ctx, p(&path)?, self.file_fh(fh)?, datasync),
        )
    }

    // ---- directories ----

    /// The implementation's listing with `.` and `..` first when it left them out.
    fn list(&self, ctx: &RequestContext, path: &Path, fh: Fh) -> OpResult<Arc<Vec<DirEntry>>> {
        let listed = self.ops.readdir(ctx, path, fh)?;
        let has = |n: &str| listed.iter().any(|e| e.name == n);
        let mut entries = Vec::with_capacity(listed.len() + 2);
        for dot in [".", ".."] {
            if !has(dot) {
                entries.push(DirEntry {
                    name: OsString::from(dot),
                    stat: None,
                });
            }
        }
        entries.extend(listed);
        Ok(Arc::new(entries))
    }

    /// Open a directory and take a snapshot of its listing, so offsets stay stable.
    pub fn opendir(&self, ctx: &RequestContext, nodeid: u64, flags: i32) -> OpResult<u64> {
        let path = self.path(nodeid);
        self.run(
            "opendir",
            || format!("{} flags={flags:#o}", show(&path, nodeid)),
            || {
                let path = p(&path)?;
                let fh = Fh(self.ops.opendir(ctx, path, flags)?.fh);
                let entries = self.list(ctx, path, fh);
                Ok(self.dirs.insert(OpenDir {
                    nodeid,
                    fh,
                    listing: Mutex::new(Listing {
                        entries,
                        served: false,
                    }),
                }))
            },
        )
    }

    /// The buffered listing from `offset` (0 at the start, else the offset of the last
    /// entry the kernel got).
    pub fn readdir(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        offset: u64,
    ) -> OpResult<DirChunk> {
        let path = self.path(nodeid);
        self.run(
            "readdir",
            || format!("{} fh={fh} offset={offset}", show(&path, nodeid)),
            || {
                let dir = self.dirs.get(fh).ok_or(Errno::EBADF)?;
                // A poisoned lock only means another reader panicked; the listing is whole.
                let served = dir.listing.lock().map(|l| l.served).unwrap_or(true);
                if offset == 0 && served {
                    let fresh = self.list(ctx, p(&path)?, dir.fh);
                    dir.listing
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .entries = fresh;
                }
                let mut listing = dir.listing.lock().unwrap_or_else(|e| e.into_inner());
                listing.served = true;
                let entries = listing.entries.clone()?;
                let start = usize::try_from(offset)
                    .unwrap_or(usize::MAX)
                    .min(entries.len());
                Ok(DirChunk { entries, start })
            },
        )
    }

    /// The inode number a plain readdir reports for `entry` of directory `dir`.
    pub fn dirent_ino(&self, dir: u64, entry: &DirEntry) -> u64 {
        if entry.name == "." {
            return dir;
        }
        if let Some(id) = self.nodes.child(dir, &entry.name) {
            return id;
        }
        match entry.stat {
            Some(st) if self.config.use_ino && st.ino != 0 => st.ino,
            _ => UNKNOWN_INO,
        }
    }

    /// The file type bits (`S_IFDIR`, …) a plain readdir reports for `entry`. Without a
    /// stat from the listing this asks getattr: fuser cannot send `DT_UNKNOWN`, and a
    /// wrong type would mislead tools that trust it (find would not descend).
    pub fn dirent_type(&self, ctx: &RequestContext, dir: u64, entry: &DirEntry) -> u32 {
        if let Some(st) = entry.stat {
            return st.file_type();
        }
        if entry.name == "." || entry.name == ".." {
            return libc::S_IFDIR;
        }
        self.child_path(dir, &entry.name)
            .and_then(|path| {
                self.run(
                    "getattr",
                    || format!("{path:?} (readdir type)"),
                    || self.ops.getattr(ctx, &path, None),
                )
            })
            .map(|st| st.file_type())
            .unwrap_or(libc::S_IFREG)
    }

    /// For readdirplus: the entry the kernel will learn for `entry` (one lookup counted;
    /// call `forget(nodeid, 1)` if it does not reach the kernel), or `None` for `.`, `..`
    /// and names whose attributes cannot be had.
    pub fn readdirplus_entry(
        &self,
        ctx: &RequestContext,
        dir: u64,
        entry: &DirEntry,
    ) -> Option<Entry> {
        if entry.name == "." || entry.name == ".." {
            return None;
        }
        let stat = match entry.stat {
            Some(st) => st,
            None => {
                let path = self.child_path(dir, &entry.name).ok()?;
                self.run(
                    "getattr",
                    || format!("{path:?} (readdirplus)"),
                    || self.ops.getattr(ctx, &path, None),
                )
                .ok()?
            }
        };
        let nodeid = self.nodes.lookup(dir, &entry.name, &stat)?;
        Some(Entry { nodeid, stat })
    }

    pub fn releasedir(&self, ctx: &RequestContext, nodeid: u64, fh: u64) -> OpResult<()> {
        let path = self.path(nodeid);
        self.run(
            "releasedir",
            || format!("{} fh={fh}", show(&path, nodeid)),
            || {
                let dir = self.dirs.remove(fh).ok_or(Errno::EBADF)?;
                let path = self.path(dir.nodeid)?;
                self.ops.releasedir(ctx, &path, dir.fh)
            },
        )
    }

    pub fn fsyncdir(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        datasync: bool,
    ) -> OpResult<()> {
        let path = self.path(nodeid);
        self.run(
            "fsyncdir",
            || format!("{} fh={fh} datasync={datasync}", show(&path, nodeid)),
            || {
                let dir = self.dirs.get(fh).ok_or(Errno::EBADF)?;
                self.ops.fsyncdir(ctx, p(&path)?, dir.fh, datasync)
            },
        )
    }

    // ---- filesystem-wide and metadata ----

    pub fn statfs(&self, ctx: &RequestContext, nodeid: u64) -> OpResult<StatFs> {
        let path = self.path(nodeid);
        self.run(
            "statfs",
            || show(&path, nodeid),
            || {
                let mut st = self.ops.statfs(ctx, p(&path)?)?;
                if st.frsize == 0 {
                    st.frsize = st.bsize;
                }
                Ok(st)
            },
        )
    }

    pub fn access(&self, ctx: &RequestContext, nodeid: u64, mask: i32) -> OpResult<()> {
        let path = self.path(nodeid);
        self.run(
            "access",
            || format!("{} mask={mask:#o}", show(&path, nodeid)),
            || self.ops.access(ctx, p(&path)?, mask),
        )
    }

    pub fn setxattr(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        name: &OsStr,
        value: &[u8],
        flags: i32,
    ) -> OpResult<()> {
        let path = self.path(nodeid);
        self.run(
            "setxattr",
            || {
                format!(
                    "{} {name:?} {} bytes flags={flags:#x}",
                    show(&path, nodeid),
                    value.len()
                )
            },
            || self.ops.setxattr(ctx, p(&path)?, name, value, flags),
        )
    }

    /// `size` 0 asks for the value's length; a value longer than `size` is ERANGE.
    pub fn getxattr(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        name: &OsStr,
        size: u32,
    ) -> OpResult<XattrReply> {
        let path = self.path(nodeid);
        self.run(
            "getxattr",
            || format!("{} {name:?} size={size}", show(&path, nodeid)),
            || xattr_reply(self.ops.getxattr(ctx, p(&path)?, name)?, size),
        )
    }

    /// The names, each followed by a NUL, with getxattr's size protocol.
    pub fn listxattr(&self, ctx: &RequestContext, nodeid: u64, size: u32) -> OpResult<XattrReply> {
        let path = self.path(nodeid);
        self.run(
            "listxattr",
            || format!("{} size={size}", show(&path, nodeid)),
            || {
                let names = self.ops.listxattr(ctx, p(&path)?)?;
                let mut buf = Vec::new();
                for name in names {
                    buf.extend_from_slice(name.as_encoded_bytes());
                    buf.push(0);
                }
                xattr_reply(buf, size)
            },
        )
    }

    pub fn removexattr(&self, ctx: &RequestContext, nodeid: u64, name: &OsStr) -> OpResult<()> {
        let path = self.path(nodeid);
        self.run(
            "removexattr",
            || format!("{} {name:?}", show(&path, nodeid)),
            || self.ops.removexattr(ctx, p(&path)?, name),
        )
    }

    // ---- locks and ranges ----

    pub fn getlk(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        owner: u64,
        lock: FileLock,
    ) -> OpResult<FileLock> {
        let path = self.path(nodeid);
        self.run(
            "getlk",
            || format!("{} fh={fh} owner={owner:#x} {lock:?}", show(&path, nodeid)),
            || {
                self.ops
                    .getlk(ctx, p(&path)?, self.file_fh(fh)?, owner, lock)
            },
        )
    }

    pub fn setlk(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        owner: u64,
        lock: FileLock,
        sleep: bool,
    ) -> OpResult<()> {
        let path = self.path(nodeid);
        self.run(
            "setlk",
            || {
                format!(
                    "{} fh={fh} owner={owner:#x} {lock:?} sleep={sleep}",
                    show(&path, nodeid)
                )
            },
            || {
                self.ops
                    .setlk(ctx, p(&path)?, self.file_fh(fh)?, owner, lock, sleep)
            },
        )
    }

    pub fn fallocate(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        mode: i32,
        offset: u64,
        length: u64,
    ) -> OpResult<()> {
        let path = self.path(nodeid);
        self.run(
            "fallocate",
            || {
                format!(
                    "{} fh={fh} mode={mode:#x} offset={offset} length={length}",
                    show(&path, nodeid)
                )
            },
            || {
                let fh = self.file_fh(fh)?;
                self.ops.fallocate(ctx, p(&path)?, fh, mode, offset, length)
            },
        )
    }

    pub fn lseek(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        offset: i64,
        whence: i32,
    ) -> OpResult<i64> {
        let path = self.path(nodeid);
        self.run(
            "lseek",
            || {
                format!(
                    "{} fh={fh} offset={offset} whence={whence}",
                    show(&path, nodeid)
                )
            },
            || {
                self.ops
                    .lseek(ctx, p(&path)?, self.file_fh(fh)?, offset, whence)
            },
        )
    }

    #[allow(clippy::too_many_arguments)]
    pub fn copy_file_range(
        &self,
        ctx: &RequestContext,
        (node_in, fh_in, offset_in): (u64, u64, u64),
        (node_out, fh_out, offset_out): (u64, u64, u64),
        len: u64,
        flags: u32,
    ) -> OpResult<u64> {
        let path_in = self.path(node_in);
        let path_out = self.path(node_out);
        self.run(
            "copy_file_range",
            || {
                format!(
                    "{} fh={fh_in} offset={offset_in} -> {} fh={fh_out} offset={offset_out} len={len}",
                    show(&path_in, node_in),
                    show(&path_out, node_out)
                )
            },
            || {
                let n = self.ops.copy_file_range(
                    ctx,
                    p(&path_in)?,
                    self.file_fh(fh_in)?,
                    offset_in,
                    p(&path_out)?,
                    self.file_fh(fh_out)?,
                    offset_out,
                    len,
                    flags,
                )?;
                Ok(n.min(len))
            },
        )
    }

    /// How many files and directories are open (tests and debugging).
    pub fn open_handles(&self) -> (usize, usize) {
        (self.files.len(), self.dirs.len())
    }

    pub fn nodes(&self) -> &NodeTable {
        &self.nodes
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
#[path = "fs_core_tests.rs"]
mod tests;
