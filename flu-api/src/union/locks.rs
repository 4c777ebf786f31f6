//! `LockOps` for the union: locks are the layer's, on the layer's handle.

use std::path::Path;

use super::Union;
use crate::operations::{Fh, FileLock, LockOps, OpResult, RequestContext};

impl LockOps for Union {
    fn getlk(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Fh,
        owner: u64,
        lock: FileLock,
    ) -> OpResult<FileLock> {
        let h = self.handle(fh)?;
        self.layer(h.layer).getlk(ctx, path, h.fh, owner, lock)
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
        let h = self.handle(fh)?;
        self.layer(h.layer)
            .setlk(ctx, path, h.fh, owner, lock, sleep)
    }

    fn flock(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Fh,
        owner: u64,
        op: i32,
    ) -> OpResult<()> {
        let h = self.handle(fh)?;
        self.layer(h.layer).flock(ctx, path, h.fh, owner, op)
    }
}
