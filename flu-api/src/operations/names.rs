//! `NameOps`: making, removing, moving and reading names (readlink, mknod, mkdir,
//! unlink, rmdir, symlink, rename, link).

use std::path::Path;

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
}
