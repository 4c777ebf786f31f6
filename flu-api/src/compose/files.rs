//! Files through a composition: opened by the owner of the path, then served by the
//! backend that gave out the handle.

use std::path::Path;

use super::{Composite, Owner};
use crate::errno::Errno;
use crate::operations::{Fh, FileOps, OpResult, Opened, RequestContext};

impl Composite {
    /// Keep `opened`, made by branch `i`, under a handle of the composite's own (what
    /// else the backend said — kernel passthrough, caching — stands).
    fn kept(&self, i: usize, opened: Opened) -> Opened {
        Opened {
            fh: self.keep(Some(i), opened.fh),
            ..opened
        }
    }

    fn open_on(
        &self,
        path: &Path,
        f: impl FnOnce(&dyn crate::operations::Operations, &Path) -> OpResult<Opened>,
    ) -> OpResult<Opened> {
        match self.owner(path) {
            Owner::Branch(i, rel) => self.call(i, |ops| f(ops, &rel)).map(|o| self.kept(i, o)),
            Owner::Nobody => Err(Errno::EROFS),
        }
    }
}

#[allow(clippy::too_many_arguments)]
impl FileOps for Composite {
    fn open(&self, ctx: &RequestContext, path: &Path, flags: i32) -> OpResult<Opened> {
        if self.is_above_mount(path) && matches!(self.owner(path), Owner::Nobody) {
            return Err(Errno::EISDIR);
        }
        self.open_on(path, |ops, rel| ops.open(ctx, rel, flags))
    }

    fn create(&self, ctx: &RequestContext, path: &Path, mode: u32, flags: i32) -> OpResult<Opened> {
        if self.is_pinned(path) {
            return Err(Errno::EEXIST);
        }
        self.open_on(path, |ops, rel| ops.create(ctx, rel, mode, flags))
    }

    fn tmpfile(&self, ctx: &RequestContext, dir: &Path, mode: u32, flags: i32) -> OpResult<Opened> {
        self.open_on(dir, |ops, rel| ops.tmpfile(ctx, rel, mode, flags))
    }

    fn read(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Fh,
        offset: u64,
        size: u32,
    ) -> OpResult<Vec<u8>> {
        self.on_handle(
            path,
            fh,
            || Err(Errno::EISDIR),
            |ops, rel, fh| ops.read(ctx, rel, fh, offset, size),
        )
    }

    fn write(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Fh,
        offset: u64,
        data: &[u8],
    ) -> OpResult<u32> {
        self.on_handle(
            path,
            fh,
            || Err(Errno::EISDIR),
            |ops, rel, fh| ops.write(ctx, rel, fh, offset, data),
        )
    }

    fn flush(&self, ctx: &RequestContext, path: &Path, fh: Fh, lock_owner: u64) -> OpResult<()> {
        self.on_handle(
            path,
            fh,
            || Ok(()),
            |ops, rel, fh| ops.flush(ctx, rel, fh, lock_owner),
        )
    }

    fn release(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Fh,
        flags: i32,
        flush: bool,
    ) -> OpResult<()> {
        let result = self.on_handle(
            path,
            fh,
            || Ok(()),
            |ops, rel, fh| ops.release(ctx, rel, fh, flags, flush),
        );
        self.handles.remove(fh.0);
        result
    }

    fn fsync(&self, ctx: &RequestContext, path: &Path, fh: Fh, datasync: bool) -> OpResult<()> {
        self.on_handle(
            path,
            fh,
            || Ok(()),
            |ops, rel, fh| ops.fsync(ctx, rel, fh, datasync),
        )
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
        self.on_handle(
            path,
            fh,
            || Err(Errno::EISDIR),
            |ops, rel, fh| ops.fallocate(ctx, rel, fh, mode, offset, length),
        )
    }

    fn lseek(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Fh,
        offset: i64,
        whence: i32,
    ) -> OpResult<i64> {
        self.on_handle(
            path,
            fh,
            || Err(Errno::ENOSYS),
            |ops, rel, fh| ops.lseek(ctx, rel, fh, offset, whence),
        )
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
        let input = self.handles.get(fh_in.0).ok_or(Errno::EBADF)?;
        let output = self.handles.get(fh_out.0).ok_or(Errno::EBADF)?;
        match (input.branch, output.branch) {
            (Some(a), Some(b)) if a == b => {
                let (rel_in, rel_out) = (self.relative(a, path_in), self.relative(a, path_out));
                self.call(a, |ops| {
                    ops.copy_file_range(
                        ctx, &rel_in, input.fh, offset_in, &rel_out, output.fh, offset_out, len,
                        flags,
                    )
                })
            }
            // Between backends the kernel copies through read and write.
            _ => Err(Errno::EXDEV),
        }
    }
}
