//! Locks through a composition: held by the backend that gave out the handle.

use std::path::Path;

use super::Composite;
use crate::errno::Errno;
use crate::operations::{Fh, FileLock, LockOps, OpResult, RequestContext};

impl LockOps for Composite {
    fn getlk(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Fh,
        owner: u64,
        lock: FileLock,
    ) -> OpResult<FileLock> {
        self.on_handle(
            path,
            fh,
            || Err(Errno::ENOSYS),
            |ops, rel, fh| ops.getlk(ctx, rel, fh, owner, lock),
        )
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
        self.on_handle(
            path,
            fh,
            || Err(Errno::ENOSYS),
            |ops, rel, fh| ops.setlk(ctx, rel, fh, owner, lock, sleep),
        )
    }

    fn flock(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Fh,
        owner: u64,
        op: i32,
    ) -> OpResult<()> {
        self.on_handle(
            path,
            fh,
            || Err(Errno::ENOSYS),
            |ops, rel, fh| ops.flock(ctx, rel, fh, owner, op),
        )
    }
}
