//! `Operations`: the typed, path-based filesystem interface between the daemon and a
//! filesystem implementation (a Lua script, or the native passthrough backend).
//!
//! It is libfuse's high-level API in Rust types: the daemon turns inodes into paths and
//! kernel requests into these calls; implementations never see the FUSE wire protocol.
//! Every method has a default that answers as libfuse's high-level API does when a
//! handler is missing, so an implementation only writes what it supports.

use std::ffi::{OsStr, OsString};
use std::os::fd::RawFd;
use std::path::Path;

use crate::errno::Errno;
use crate::stat::{Stat, StatFs};
use crate::time::TimeSet;

pub type OpResult<T> = Result<T, Errno>;

/// Who is asking: the caller of the system call behind the request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestContext {
    pub uid: u32,
    pub gid: u32,
    pub pid: u32,
    pub umask: u32,
}

/// An open-file handle as the implementation gave it out from `open`/`create`/`opendir`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fh(pub u64);

/// What `open`, `create` and `opendir` answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Opened {
    pub fh: u64,
    pub direct_io: bool,
    pub keep_cache: bool,
    pub nonseekable: bool,
    /// A file descriptor of the backing file, when reads and writes may go straight to
    /// it (FUSE kernel passthrough). Borrowed: it lives as long as the handle.
    pub backing_fd: Option<RawFd>,
}

/// One directory entry from `readdir`. A stat given here lets the daemon answer
/// readdirplus without a getattr per entry; a `kind` alone is enough for a plain readdir.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    pub name: OsString,
    pub stat: Option<Stat>,
    /// The file type bits (`S_IFDIR`, `S_IFREG`, …) when known without a stat (from
    /// `d_type`); `None` when unknown. With a `stat`, its type wins.
    pub kind: Option<u32>,
}

impl DirEntry {
    /// An entry with nothing known but its name.
    pub fn named(name: impl Into<OsString>) -> DirEntry {
        DirEntry {
            name: name.into(),
            stat: None,
            kind: None,
        }
    }

    /// The file type bits, from the stat if there is one, else from `kind`.
    pub fn file_type(&self) -> Option<u32> {
        match &self.stat {
            Some(st) => Some(st.file_type()),
            None => self.kind,
        }
    }
}

/// A POSIX record lock (`struct flock`), as getlk/setlk carry it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileLock {
    pub start: u64,
    pub end: u64,
    /// `F_RDLCK`, `F_WRLCK` or `F_UNLCK`.
    pub typ: i32,
    pub pid: u32,
}

/// What the daemon learned from the kernel at mount time, handed to `init`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConnectionInfo {
    pub proto_major: u32,
    pub proto_minor: u32,
    pub max_write: u32,
    pub max_readahead: u32,
}

/// The filesystem operations, path based. Paths are absolute within the mount (`/`,
/// `/a/b`) and are bytes: any name the kernel accepts.
#[allow(unused_variables, clippy::too_many_arguments)]
pub trait Operations: Send + Sync {
    fn init(&self, conn: &ConnectionInfo) -> OpResult<()> {
        Ok(())
    }
    fn destroy(&self) {}

    /// Who serves the handler named `handler` ("read", "getattr", …): `"lua"`,
    /// `"native"` or `"default"` (no handler). Only for `-d` logs.
    fn served_by(&self, handler: &str) -> &'static str {
        let _ = handler;
        "native"
    }

    /// Whether `Stat.ino` (with `Stat.dev`) names files uniquely and stably, as a real
    /// filesystem's do: the daemon then shows them as inode numbers and keeps hard links
    /// of one file on one node (as with `-o use_ino`).
    fn stable_inode_numbers(&self) -> bool {
        false
    }

    /// `fh` is given when the kernel asks about an open file (fstat): the
    /// implementation may use its fgetattr handler.
    fn getattr(&self, ctx: &RequestContext, path: &Path, fh: Option<Fh>) -> OpResult<Stat> {
        Err(Errno::ENOSYS)
    }
    fn readlink(&self, ctx: &RequestContext, path: &Path) -> OpResult<Vec<u8>> {
        Err(Errno::ENOSYS)
    }
    fn mknod(&self, ctx: &RequestContext, path: &Path, mode: u32, rdev: u64) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }
    fn mkdir(&self, ctx: &RequestContext, path: &Path, mode: u32) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }
    fn unlink(&self, ctx: &RequestContext, path: &Path) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }
    fn rmdir(&self, ctx: &RequestContext, path: &Path) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }
    fn symlink(&self, ctx: &RequestContext, target: &Path, path: &Path) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }
    /// `flags`: `RENAME_NOREPLACE` / `RENAME_EXCHANGE` bits, 0 for a plain rename.
    fn rename(&self, ctx: &RequestContext, from: &Path, to: &Path, flags: u32) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }
    fn link(&self, ctx: &RequestContext, from: &Path, to: &Path) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }
    fn chmod(&self, ctx: &RequestContext, path: &Path, mode: u32, fh: Option<Fh>) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }
    /// `None` leaves that id unchanged.
    fn chown(
        &self,
        ctx: &RequestContext,
        path: &Path,
        uid: Option<u32>,
        gid: Option<u32>,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }
    fn truncate(
        &self,
        ctx: &RequestContext,
        path: &Path,
        size: u64,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }
    fn utimens(
        &self,
        ctx: &RequestContext,
        path: &Path,
        atime: TimeSet,
        mtime: TimeSet,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }

    fn open(&self, ctx: &RequestContext, path: &Path, flags: i32) -> OpResult<Opened> {
        Ok(Opened::default())
    }
    /// Create and open a regular file; `mode` includes `S_IFREG`.
    fn create(&self, ctx: &RequestContext, path: &Path, mode: u32, flags: i32) -> OpResult<Opened> {
        Err(Errno::ENOSYS)
    }
    fn read(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Fh,
        offset: u64,
        size: u32,
    ) -> OpResult<Vec<u8>> {
        Err(Errno::ENOSYS)
    }
    fn write(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Fh,
        offset: u64,
        data: &[u8],
    ) -> OpResult<u32> {
        Err(Errno::ENOSYS)
    }
    fn flush(&self, ctx: &RequestContext, path: &Path, fh: Fh, lock_owner: u64) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }
    fn release(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Fh,
        flags: i32,
        flush: bool,
    ) -> OpResult<()> {
        Ok(())
    }
    fn fsync(&self, ctx: &RequestContext, path: &Path, fh: Fh, datasync: bool) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }

    fn opendir(&self, ctx: &RequestContext, path: &Path, flags: i32) -> OpResult<Opened> {
        Ok(Opened::default())
    }
    /// The whole listing; the daemon buffers it per open directory and adds `.`/`..`
    /// when the implementation leaves them out.
    fn readdir(&self, ctx: &RequestContext, path: &Path, fh: Fh) -> OpResult<Vec<DirEntry>> {
        Err(Errno::ENOSYS)
    }
    /// The attributes of entry `name` of the directory `dir` opened as `fh`, when the
    /// implementation can get them more cheaply than `getattr` of `dir/name` (the native
    /// passthrough: `fstatat` on the open directory). `None`: not supported, the daemon
    /// asks `getattr`. The daemon calls it for the entries of a readdirplus reply that
    /// came without a stat; like `getattr`, it does not follow a final symlink.
    fn stat_entry(
        &self,
        ctx: &RequestContext,
        dir: &Path,
        fh: Fh,
        name: &OsStr,
    ) -> Option<OpResult<Stat>> {
        None
    }
    fn releasedir(&self, ctx: &RequestContext, path: &Path, fh: Fh) -> OpResult<()> {
        Ok(())
    }
    fn fsyncdir(&self, ctx: &RequestContext, path: &Path, fh: Fh, datasync: bool) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }

    fn statfs(&self, ctx: &RequestContext, path: &Path) -> OpResult<StatFs> {
        Ok(StatFs::default())
    }
    fn setxattr(
        &self,
        ctx: &RequestContext,
        path: &Path,
        name: &OsStr,
        value: &[u8],
        flags: i32,
    ) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }
    fn getxattr(&self, ctx: &RequestContext, path: &Path, name: &OsStr) -> OpResult<Vec<u8>> {
        Err(Errno::ENOSYS)
    }
    fn listxattr(&self, ctx: &RequestContext, path: &Path) -> OpResult<Vec<OsString>> {
        Err(Errno::ENOSYS)
    }
    fn removexattr(&self, ctx: &RequestContext, path: &Path, name: &OsStr) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }
    /// `mask`: `F_OK` or a combination of `R_OK`, `W_OK`, `X_OK`.
    fn access(&self, ctx: &RequestContext, path: &Path, mask: i32) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }

    fn getlk(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Fh,
        owner: u64,
        lock: FileLock,
    ) -> OpResult<FileLock> {
        Err(Errno::ENOSYS)
    }
    fn setlk(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Fh,
        owner: u64,
        lock: FileLock,
        sleep: bool,
    ) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }
    /// BSD `flock`; `op` is `LOCK_SH`, `LOCK_EX` or `LOCK_UN`, maybe with `LOCK_NB`.
    fn flock(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Fh,
        owner: u64,
        op: i32,
    ) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }
    fn fallocate(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Fh,
        mode: i32,
        offset: u64,
        length: u64,
    ) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }
    fn lseek(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Fh,
        offset: i64,
        whence: i32,
    ) -> OpResult<i64> {
        Err(Errno::ENOSYS)
    }
    fn copy_file_range(
        &self,
        ctx: &RequestContext,
        path_in: &Path,
        fh_in: Fh,
        offset_in: u64,
        path_out: &Path,
        fh_out: Fh,
        offset_out: u64,
        len: u64,
        flags: u32,
    ) -> OpResult<u64> {
        Err(Errno::ENOSYS)
    }
}
