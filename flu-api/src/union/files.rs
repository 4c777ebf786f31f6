//! `FileOps` for the union: open copies a file up first when it opens for writing (or
//! truncates), create makes the name in the upper (over a whiteout, its parents copied
//! up); everything after open goes to the layer the handle is on.

use std::path::Path;

use super::{Union, UPPER};
use crate::errno::Errno;
use crate::operations::{Fh, FileOps, OpResult, Opened, RequestContext};

/// Whether an open with `flags` may change the file.
fn writes(flags: i32) -> bool {
    flags & libc::O_ACCMODE != libc::O_RDONLY || flags & libc::O_TRUNC != 0
}

#[allow(clippy::too_many_arguments)]
impl FileOps for Union {
    fn open(&self, ctx: &RequestContext, path: &Path, flags: i32) -> OpResult<Opened> {
        let found = if writes(flags) {
            self.copy_up(ctx, path)?
        } else {
            self.resolve(ctx, path)?
        };
        let layer = found.top();
        let o = self.layer(layer).open(ctx, path, flags)?;
        Ok(self.hand_out(layer, o, None))
    }

    fn create(&self, ctx: &RequestContext, path: &Path, mode: u32, flags: i32) -> OpResult<Opened> {
        if self.resolve_maybe(ctx, path)?.is_some() {
            if flags & libc::O_EXCL != 0 {
                return Err(Errno::EEXIST);
            }
            return self.open(ctx, path, flags);
        }
        self.copy_up_parent(ctx, path)?;
        let (o, _) =
            self.make_over_whiteout(ctx, path, || self.upper().create(ctx, path, mode, flags))?;
        Ok(self.hand_out(UPPER, o, None))
    }

    fn tmpfile(&self, ctx: &RequestContext, dir: &Path, mode: u32, flags: i32) -> OpResult<Opened> {
        let found = self.copy_up(ctx, dir)?;
        if !found.stat.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        let o = self.upper().tmpfile(ctx, dir, mode, flags)?;
        Ok(self.hand_out(UPPER, o, None))
    }

    fn read(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Fh,
        offset: u64,
        size: u32,
    ) -> OpResult<Vec<u8>> {
        let h = self.handle(fh)?;
        self.layer(h.layer).read(ctx, path, h.fh, offset, size)
    }

    fn write(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Fh,
        offset: u64,
        data: &[u8],
    ) -> OpResult<u32> {
        let h = self.handle(fh)?;
        self.layer(h.layer).write(ctx, path, h.fh, offset, data)
    }

    fn flush(&self, ctx: &RequestContext, path: &Path, fh: Fh, lock_owner: u64) -> OpResult<()> {
        let h = self.handle(fh)?;
        self.layer(h.layer).flush(ctx, path, h.fh, lock_owner)
    }

    fn release(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Fh,
        flags: i32,
        flush: bool,
    ) -> OpResult<()> {
        let h = self.handles.remove(fh.0).ok_or(Errno::EBADF)?;
        self.layer(h.layer).release(ctx, path, h.fh, flags, flush)
    }

    fn fsync(&self, ctx: &RequestContext, path: &Path, fh: Fh, datasync: bool) -> OpResult<()> {
        let h = self.handle(fh)?;
        self.layer(h.layer).fsync(ctx, path, h.fh, datasync)
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
        let h = self.handle(fh)?;
        self.layer(h.layer)
            .fallocate(ctx, path, h.fh, mode, offset, length)
    }

    fn lseek(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Fh,
        offset: i64,
        whence: i32,
    ) -> OpResult<i64> {
        let h = self.handle(fh)?;
        self.layer(h.layer).lseek(ctx, path, h.fh, offset, whence)
    }

    /// Within one layer only; across layers EXDEV (the kernel then copies itself).
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
        let (i, o) = (self.handle(fh_in)?, self.handle(fh_out)?);
        if i.layer != o.layer {
            return Err(Errno::EXDEV);
        }
        self.layer(i.layer).copy_file_range(
            ctx, path_in, i.fh, offset_in, path_out, o.fh, offset_out, len, flags,
        )
    }
}
