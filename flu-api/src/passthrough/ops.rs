//! `impl Operations for Passthrough`: routes every trait method to the file that owns
//! its concern. Nothing here but the routing.

use std::ffi::{OsStr, OsString};
use std::path::Path;

use crate::operations::{
    ConnectionInfo, DirEntry, Fh, FileLock, OpResult, Opened, Operations, RequestContext,
};
use crate::stat::{Stat, StatFs};
use crate::time::TimeSet;

use super::Passthrough;

impl Operations for Passthrough {
    fn stable_inode_numbers(&self) -> bool {
        true
    }

    fn init(&self, _conn: &ConnectionInfo) -> OpResult<()> {
        Ok(())
    }
    /// Unmounting: close every handle the kernel did not release.
    fn destroy(&self) {
        self.handles.clear();
    }

    fn getattr(&self, _ctx: &RequestContext, path: &Path, fh: Option<Fh>) -> OpResult<Stat> {
        self.do_getattr(path, fh)
    }
    fn readlink(&self, _ctx: &RequestContext, path: &Path) -> OpResult<Vec<u8>> {
        self.do_readlink(path)
    }
    fn mknod(&self, ctx: &RequestContext, path: &Path, mode: u32, rdev: u64) -> OpResult<()> {
        self.do_mknod(ctx, path, mode, rdev)
    }
    fn mkdir(&self, ctx: &RequestContext, path: &Path, mode: u32) -> OpResult<()> {
        self.do_mkdir(ctx, path, mode)
    }
    fn unlink(&self, _ctx: &RequestContext, path: &Path) -> OpResult<()> {
        self.do_unlink(path)
    }
    fn rmdir(&self, _ctx: &RequestContext, path: &Path) -> OpResult<()> {
        self.do_rmdir(path)
    }
    fn symlink(&self, ctx: &RequestContext, target: &Path, path: &Path) -> OpResult<()> {
        self.do_symlink(ctx, target, path)
    }
    fn rename(&self, _ctx: &RequestContext, from: &Path, to: &Path, flags: u32) -> OpResult<()> {
        self.do_rename(from, to, flags)
    }
    fn link(&self, _ctx: &RequestContext, from: &Path, to: &Path) -> OpResult<()> {
        self.do_link(from, to)
    }
    fn chmod(&self, _ctx: &RequestContext, path: &Path, mode: u32, fh: Option<Fh>) -> OpResult<()> {
        self.do_chmod(path, mode, fh)
    }
    fn chown(
        &self,
        _ctx: &RequestContext,
        path: &Path,
        uid: Option<u32>,
        gid: Option<u32>,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        self.do_chown(path, uid, gid, fh)
    }
    fn truncate(
        &self,
        _ctx: &RequestContext,
        path: &Path,
        size: u64,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        self.do_truncate(path, size, fh)
    }
    fn utimens(
        &self,
        _ctx: &RequestContext,
        path: &Path,
        atime: TimeSet,
        mtime: TimeSet,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        self.do_utimens(path, atime, mtime, fh)
    }

    fn open(&self, _ctx: &RequestContext, path: &Path, flags: i32) -> OpResult<Opened> {
        self.do_open(path, flags)
    }
    fn create(&self, ctx: &RequestContext, path: &Path, mode: u32, flags: i32) -> OpResult<Opened> {
        self.do_create(ctx, path, mode, flags)
    }
    fn read(
        &self,
        _ctx: &RequestContext,
        _path: &Path,
        fh: Fh,
        offset: u64,
        size: u32,
    ) -> OpResult<Vec<u8>> {
        self.do_read(fh, offset, size)
    }
    fn write(
        &self,
        _ctx: &RequestContext,
        _path: &Path,
        fh: Fh,
        offset: u64,
        data: &[u8],
    ) -> OpResult<u32> {
        self.do_write(fh, offset, data)
    }
    fn flush(&self, _ctx: &RequestContext, _path: &Path, fh: Fh, _lock_owner: u64) -> OpResult<()> {
        self.do_flush(fh)
    }
    fn release(
        &self,
        _ctx: &RequestContext,
        _path: &Path,
        fh: Fh,
        _flags: i32,
        _flush: bool,
    ) -> OpResult<()> {
        self.do_release(fh)
    }
    fn fsync(&self, _ctx: &RequestContext, _path: &Path, fh: Fh, datasync: bool) -> OpResult<()> {
        self.do_fsync(fh, datasync)
    }

    fn opendir(&self, _ctx: &RequestContext, path: &Path, _flags: i32) -> OpResult<Opened> {
        self.do_opendir(path)
    }
    fn readdir(&self, _ctx: &RequestContext, _path: &Path, fh: Fh) -> OpResult<Vec<DirEntry>> {
        self.do_readdir(fh)
    }
    fn stat_entry(
        &self,
        _ctx: &RequestContext,
        _dir: &Path,
        fh: Fh,
        name: &OsStr,
    ) -> Option<OpResult<Stat>> {
        Some(self.do_stat_entry(fh, name))
    }
    fn releasedir(&self, _ctx: &RequestContext, _path: &Path, fh: Fh) -> OpResult<()> {
        self.do_releasedir(fh)
    }
    fn fsyncdir(
        &self,
        _ctx: &RequestContext,
        _path: &Path,
        fh: Fh,
        datasync: bool,
    ) -> OpResult<()> {
        self.do_fsync(fh, datasync)
    }

    fn statfs(&self, _ctx: &RequestContext, path: &Path) -> OpResult<StatFs> {
        self.do_statfs(path)
    }
    fn setxattr(
        &self,
        _ctx: &RequestContext,
        path: &Path,
        name: &OsStr,
        value: &[u8],
        flags: i32,
    ) -> OpResult<()> {
        self.do_setxattr(path, name, value, flags)
    }
    fn getxattr(&self, _ctx: &RequestContext, path: &Path, name: &OsStr) -> OpResult<Vec<u8>> {
        self.do_getxattr(path, name)
    }
    fn listxattr(&self, _ctx: &RequestContext, path: &Path) -> OpResult<Vec<OsString>> {
        self.do_listxattr(path)
    }
    fn removexattr(&self, _ctx: &RequestContext, path: &Path, name: &OsStr) -> OpResult<()> {
        self.do_removexattr(path, name)
    }
    fn access(&self, ctx: &RequestContext, path: &Path, mask: i32) -> OpResult<()> {
        self.do_access(ctx, path, mask)
    }

    fn getlk(
        &self,
        _ctx: &RequestContext,
        _path: &Path,
        fh: Fh,
        _owner: u64,
        lock: FileLock,
    ) -> OpResult<FileLock> {
        self.do_getlk(fh, lock)
    }
    fn setlk(
        &self,
        _ctx: &RequestContext,
        _path: &Path,
        fh: Fh,
        _owner: u64,
        lock: FileLock,
        sleep: bool,
    ) -> OpResult<()> {
        self.do_setlk(fh, lock, sleep)
    }
    fn flock(
        &self,
        _ctx: &RequestContext,
        _path: &Path,
        fh: Fh,
        _owner: u64,
        op: i32,
    ) -> OpResult<()> {
        self.do_flock(fh, op)
    }
    fn fallocate(
        &self,
        _ctx: &RequestContext,
        _path: &Path,
        fh: Fh,
        mode: i32,
        offset: u64,
        length: u64,
    ) -> OpResult<()> {
        self.do_fallocate(fh, mode, offset, length)
    }
    fn lseek(
        &self,
        _ctx: &RequestContext,
        _path: &Path,
        fh: Fh,
        offset: i64,
        whence: i32,
    ) -> OpResult<i64> {
        self.do_lseek(fh, offset, whence)
    }
    fn copy_file_range(
        &self,
        _ctx: &RequestContext,
        _path_in: &Path,
        fh_in: Fh,
        offset_in: u64,
        _path_out: &Path,
        fh_out: Fh,
        offset_out: u64,
        len: u64,
        flags: u32,
    ) -> OpResult<u64> {
        self.do_copy_file_range(fh_in, offset_in, fh_out, offset_out, len, flags)
    }
}
