//! `impl Operations for LuaFilesystem`: each operation converted to its handler's
//! Lua signature (DESIGN 3.2), and the handler's results converted back. Nothing here
//! but the routing: every trait method goes to the file that owns its concern.

use std::ffi::{OsStr, OsString};

use super::dispatch::LuaFilesystem;
use crate::operations::{
    ConnectionInfo, DirEntry, Fh, FileLock, OpResult, Opened, Operations, RequestContext,
};
use crate::stat::{Stat, StatFs};
use crate::time::TimeSet;

use calling::P;

mod attrs;
mod calling;
mod dirs;
mod files;
mod lifecycle;
mod locks;
mod names;
mod slots;
mod xattrs;

impl Operations for LuaFilesystem {
    fn stable_inode_numbers(&self) -> bool {
        self.do_stable_inode_numbers()
    }

    fn served_by(&self, handler: &str) -> &'static str {
        self.do_served_by(handler)
    }

    fn init(&self, conn: &ConnectionInfo) -> OpResult<()> {
        self.do_init(conn)
    }

    fn destroy(&self) {
        self.do_destroy()
    }

    fn getattr(&self, ctx: &RequestContext, path: P, fh: Option<Fh>) -> OpResult<Stat> {
        self.do_getattr(ctx, path, fh)
    }

    fn readlink(&self, ctx: &RequestContext, path: P) -> OpResult<Vec<u8>> {
        self.do_readlink(ctx, path)
    }

    fn mknod(&self, ctx: &RequestContext, path: P, mode: u32, rdev: u64) -> OpResult<()> {
        self.do_mknod(ctx, path, mode, rdev)
    }

    fn mkdir(&self, ctx: &RequestContext, path: P, mode: u32) -> OpResult<()> {
        self.do_mkdir(ctx, path, mode)
    }

    fn unlink(&self, ctx: &RequestContext, path: P) -> OpResult<()> {
        self.do_unlink(ctx, path)
    }

    fn rmdir(&self, ctx: &RequestContext, path: P) -> OpResult<()> {
        self.do_rmdir(ctx, path)
    }

    fn symlink(&self, ctx: &RequestContext, target: P, path: P) -> OpResult<()> {
        self.do_symlink(ctx, target, path)
    }

    fn rename(&self, ctx: &RequestContext, from: P, to: P, flags: u32) -> OpResult<()> {
        self.do_rename(ctx, from, to, flags)
    }

    fn link(&self, ctx: &RequestContext, from: P, to: P) -> OpResult<()> {
        self.do_link(ctx, from, to)
    }

    fn chmod(&self, ctx: &RequestContext, path: P, mode: u32, fh: Option<Fh>) -> OpResult<()> {
        self.do_chmod(ctx, path, mode, fh)
    }

    fn chown(
        &self,
        ctx: &RequestContext,
        path: P,
        uid: Option<u32>,
        gid: Option<u32>,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        self.do_chown(ctx, path, uid, gid, fh)
    }

    fn truncate(&self, ctx: &RequestContext, path: P, size: u64, fh: Option<Fh>) -> OpResult<()> {
        self.do_truncate(ctx, path, size, fh)
    }

    fn utimens(
        &self,
        ctx: &RequestContext,
        path: P,
        atime: TimeSet,
        mtime: TimeSet,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        self.do_utimens(ctx, path, atime, mtime, fh)
    }

    fn open(&self, ctx: &RequestContext, path: P, flags: i32) -> OpResult<Opened> {
        self.do_open(ctx, path, flags)
    }

    fn create(&self, ctx: &RequestContext, path: P, mode: u32, flags: i32) -> OpResult<Opened> {
        self.do_create(ctx, path, mode, flags)
    }

    fn read(
        &self,
        ctx: &RequestContext,
        path: P,
        fh: Fh,
        offset: u64,
        size: u32,
    ) -> OpResult<Vec<u8>> {
        self.do_read(ctx, path, fh, offset, size)
    }

    fn write(
        &self,
        ctx: &RequestContext,
        path: P,
        fh: Fh,
        offset: u64,
        data: &[u8],
    ) -> OpResult<u32> {
        self.do_write(ctx, path, fh, offset, data)
    }

    fn flush(&self, ctx: &RequestContext, path: P, fh: Fh, lock_owner: u64) -> OpResult<()> {
        self.do_flush(ctx, path, fh, lock_owner)
    }

    fn release(
        &self,
        ctx: &RequestContext,
        path: P,
        fh: Fh,
        flags: i32,
        flush: bool,
    ) -> OpResult<()> {
        self.do_release(ctx, path, fh, flags, flush)
    }

    fn fsync(&self, ctx: &RequestContext, path: P, fh: Fh, datasync: bool) -> OpResult<()> {
        self.do_fsync(ctx, path, fh, datasync)
    }

    fn opendir(&self, ctx: &RequestContext, path: P, flags: i32) -> OpResult<Opened> {
        self.do_opendir(ctx, path, flags)
    }

    fn readdir(&self, ctx: &RequestContext, path: P, fh: Fh) -> OpResult<Vec<DirEntry>> {
        self.do_readdir(ctx, path, fh)
    }

    fn stat_entry(
        &self,
        ctx: &RequestContext,
        dir: P,
        fh: Fh,
        name: &OsStr,
    ) -> Option<OpResult<Stat>> {
        self.do_stat_entry(ctx, dir, fh, name)
    }

    fn releasedir(&self, ctx: &RequestContext, path: P, fh: Fh) -> OpResult<()> {
        self.do_releasedir(ctx, path, fh)
    }

    fn fsyncdir(&self, ctx: &RequestContext, path: P, fh: Fh, datasync: bool) -> OpResult<()> {
        self.do_fsyncdir(ctx, path, fh, datasync)
    }

    fn statfs(&self, ctx: &RequestContext, path: P) -> OpResult<StatFs> {
        self.do_statfs(ctx, path)
    }

    fn setxattr(
        &self,
        ctx: &RequestContext,
        path: P,
        name: &OsStr,
        value: &[u8],
        flags: i32,
    ) -> OpResult<()> {
        self.do_setxattr(ctx, path, name, value, flags)
    }

    fn getxattr(&self, ctx: &RequestContext, path: P, name: &OsStr) -> OpResult<Vec<u8>> {
        self.do_getxattr(ctx, path, name)
    }

    fn listxattr(&self, ctx: &RequestContext, path: P) -> OpResult<Vec<OsString>> {
        self.do_listxattr(ctx, path)
    }

    fn removexattr(&self, ctx: &RequestContext, path: P, name: &OsStr) -> OpResult<()> {
        self.do_removexattr(ctx, path, name)
    }

    fn access(&self, ctx: &RequestContext, path: P, mask: i32) -> OpResult<()> {
        self.do_access(ctx, path, mask)
    }

    fn getlk(
        &self,
        ctx: &RequestContext,
        path: P,
        fh: Fh,
        owner: u64,
        lock: FileLock,
    ) -> OpResult<FileLock> {
        self.do_getlk(ctx, path, fh, owner, lock)
    }

    fn setlk(
        &self,
        ctx: &RequestContext,
        path: P,
        fh: Fh,
        owner: u64,
        lock: FileLock,
        sleep: bool,
    ) -> OpResult<()> {
        self.do_setlk(ctx, path, fh, owner, lock, sleep)
    }

    fn flock(&self, ctx: &RequestContext, path: P, fh: Fh, owner: u64, op: i32) -> OpResult<()> {
        self.do_flock(ctx, path, fh, owner, op)
    }

    fn fallocate(
        &self,
        ctx: &RequestContext,
        path: P,
        fh: Fh,
        mode: i32,
        offset: u64,
        length: u64,
    ) -> OpResult<()> {
        self.do_fallocate(ctx, path, fh, mode, offset, length)
    }

    fn lseek(
        &self,
        ctx: &RequestContext,
        path: P,
        fh: Fh,
        offset: i64,
        whence: i32,
    ) -> OpResult<i64> {
        self.do_lseek(ctx, path, fh, offset, whence)
    }

    fn copy_file_range(
        &self,
        ctx: &RequestContext,
        path_in: P,
        fh_in: Fh,
        offset_in: u64,
        path_out: P,
        fh_out: Fh,
        offset_out: u64,
        len: u64,
        flags: u32,
    ) -> OpResult<u64> {
        self.do_copy_file_range(
            ctx, path_in, fh_in, offset_in, path_out, fh_out, offset_out, len, flags,
        )
    }
}
