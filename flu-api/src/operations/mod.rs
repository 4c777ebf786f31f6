//! `Operations`: the typed, path-based filesystem interface between the daemon and a
//! filesystem implementation (a Lua script, or the native passthrough backend).
//!
//! It is libfuse's high-level API in Rust types: the daemon turns inodes into paths and
//! kernel requests into these calls; implementations never see the FUSE wire protocol.
//! The operations are split by concern, one trait each (`attrs`, `names`, `files`,
//! `dirs`, `xattrs`, `locks`, `lifecycle`); every method has a default that answers as
//! libfuse's high-level API does when a handler is missing, so an implementation only
//! writes what it supports. This file holds the values that cross the interface.

use std::ffi::OsString;
use std::os::fd::RawFd;

use crate::errno::Errno;
use crate::stat::Stat;

pub type OpResult<T> = Result<T, Errno>;

/// Who is asking: the caller of the system call behind the request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestContext {
    pub uid: u32,
    pub gid: u32,
    pub pid: u32,
    pub umask: u32,
    /// mknod, mkdir and create on a mount with POSIX ACLs (the kernel then leaves the
    /// umask to the filesystem, `FUSE_DONT_MASK`): the mode as the caller asked, before
    /// the umask. The `mode` argument has the umask applied either way; a backend that
    /// creates on a filesystem with ACLs may create with this mode under `umask`, so
    /// that a default ACL of the parent replaces the umask, as it does there.
    pub unmasked_mode: Option<u32>,
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
    /// Closing needs no `flush`: the implementation's flush of this handle does
    /// nothing a caller could notice (a file on a local filesystem), so the kernel may
    /// skip the round trip (FOPEN_NOFLUSH).
    pub no_flush: bool,
    /// For `opendir`: the kernel may keep the listing readdir gives in its cache and
    /// answer later listings from it (FOPEN_CACHE_DIR) until the directory changes
    /// through the mount or its mtime does; with `keep_cache`, the cache also outlives
    /// this open.
    pub cache_dir: bool,
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

mod attrs;
mod dirs;
mod files;
mod lifecycle;
mod locks;
mod names;
mod xattrs;

pub use attrs::AttrOps;
pub use dirs::DirOps;
pub use files::FileOps;
pub use lifecycle::{Lifecycle, ReloadNotes};
pub use locks::LockOps;
pub use names::NameOps;
pub use xattrs::XattrOps;

/// A whole filesystem: every concern's operations. Implemented for anything that
/// implements them all; each concern's trait carries libfuse's answer for a missing
/// handler, so a backend writes only what it supports.
pub trait Operations:
    Lifecycle + AttrOps + NameOps + FileOps + DirOps + XattrOps + LockOps + Send + Sync
{
}

impl<T> Operations for T where
    T: Lifecycle + AttrOps + NameOps + FileOps + DirOps + XattrOps + LockOps + Send + Sync
{
}

/// A filesystem with no handlers at all: every operation answers libfuse's default.
/// The Lua backend sends a handler the script does not define here, so the defaults
/// are written once, in the traits.
#[derive(Clone, Copy, Debug, Default)]
pub struct Unimplemented;

impl Lifecycle for Unimplemented {
    fn served_by(&self, _op: crate::op::Op) -> crate::op::ServedBy {
        crate::op::ServedBy::Default
    }
}
impl AttrOps for Unimplemented {}
impl NameOps for Unimplemented {}
impl FileOps for Unimplemented {}
impl DirOps for Unimplemented {}
impl XattrOps for Unimplemented {}
impl LockOps for Unimplemented {}
