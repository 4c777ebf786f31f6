//! `FileOps`: open files (open, create, read, write, flush, release, fsync, fallocate,
//! lseek, copy_file_range). Everything after open names the file by its handle.

use std::path::Path;

use super::{Fh, OpResult, Opened, RequestContext};
use crate::errno::Errno;

#[allow(unused_variables, clippy::too_many_arguments)]
pub trait FileOps: Send + Sync {
    fn open(&self, ctx: &RequestContext, path: &Path, flags: i32) -> OpResult<Opened> {
        Ok(Opened::default())
    }
    /// Create and open a regular file; `mode` includes `S_IFREG`. ENOSYS makes the
    /// daemon fall back to mknod + open, as libfuse does.
    fn create(&self, ctx: &RequestContext, path: &Path, mode: u32, flags: i32) -> OpResult<Opened> {
        Err(Errno::ENOSYS)
    }
    /// Create and open a file with no name in directory `dir` (`open(dir, O_TMPFILE)`);
    /// `link_open` may give it one later. ENOSYS: the caller gets EOPNOTSUPP.
    fn tmpfile(&self, ctx: &RequestContext, dir: &Path, mode: u32, flags: i32) -> OpResult<Opened> {
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
