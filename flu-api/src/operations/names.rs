//! `NameOps`: making, removing, moving and reading names (readlink, mknod, mkdir,
//! unlink, rmdir, symlink, rename, link), and the persistent keys by which a file is
//! found again without its name (file handles that outlive the kernel's cache).

use std::path::{Path, PathBuf};

use super::{OpResult, RequestContext};
use crate::errno::Errno;

#[allow(unused_variables)]
pub trait NameOps: Send + Sync {
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
    /// Give the file open as `fh` the name `to`: `linkat(fd, "", …, AT_EMPTY_PATH)` of
    /// a file with no name (made by `tmpfile`), which no path reaches.
    fn link_open(&self, ctx: &RequestContext, fh: super::Fh, to: &Path) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }

    /// A key that finds the file at `path` again later, whatever its name then (as the
    /// filesystem below keeps it: its own file handle). The daemon takes one when the
    /// kernel forgets a node, so `open_by_handle_at` through the mount keeps working
    /// after the inode left the kernel's cache. EOPNOTSUPP: this backend has none.
    fn export_key(&self, path: &Path) -> OpResult<Vec<u8>> {
        Err(Errno::EOPNOTSUPP)
    }
    /// The path (absolute, from the filesystem's root) of the file `key` was taken
    /// from; ESTALE when it no longer exists or has no name under the root.
    fn export_path(&self, key: &[u8]) -> OpResult<PathBuf> {
        Err(Errno::ESTALE)
    }
    /// The generation of the file at `path`, when the filesystem's own handle of a file
    /// is its inode number and this generation, so that the inode number alone finds
    /// it again (`export_by_number`): the daemon then gives that generation to the
    /// file's node, and handles survive a remount. EOPNOTSUPP otherwise.
    fn export_generation(&self, path: &Path) -> OpResult<u32> {
        Err(Errno::EOPNOTSUPP)
    }
    /// The path and generation of the file with inode number `ino` (see
    /// `export_generation`); ESTALE when there is none, or it has no name under the root.
    fn export_by_number(&self, ino: u64) -> OpResult<(PathBuf, u32)> {
        Err(Errno::ESTALE)
    }
}
