//! Attributes through a composition: the owner's, and made-up directories for mount
//! points' ancestors no backend has; statfs answers per backend.

use std::path::Path;

use super::{Composite, Owner};
use crate::errno::Errno;
use crate::operations::{AttrOps, Fh, OpResult, RequestContext};
use crate::stat::{Stat, StatFs};
use crate::time::TimeSet;

impl AttrOps for Composite {
    fn getattr(&self, ctx: &RequestContext, path: &Path, fh: Option<Fh>) -> OpResult<Stat> {
        if let Some(handle) = fh.and_then(|fh| self.handles.get(fh.0)) {
            if handle.branch.is_none() {
                return Ok(self.synthetic_stat());
            }
        }
        let found = match self.branch_of(path, fh) {
            Some((i, rel, fh)) => self
                .call(i, |ops| ops.getattr(ctx, &rel, fh))
                .map(|st| self.tagged(i, st)),
            None => Err(Errno::ENOENT),
        };
        match found {
            Ok(st) if st.is_dir() || !self.is_above_mount(path) => Ok(st),
            // The way to a mount point is a directory, whatever the owner has there.
            _ if self.is_above_mount(path) || path == Path::new("/") => Ok(self.synthetic_stat()),
            other => other,
        }
    }

    fn chmod(&self, ctx: &RequestContext, path: &Path, mode: u32, fh: Option<Fh>) -> OpResult<()> {
        self.on_maybe_handle(path, fh, Errno::EROFS, |ops, rel, fh| {
            ops.chmod(ctx, rel, mode, fh)
        })
    }

    fn chown(
        &self,
        ctx: &RequestContext,
        path: &Path,
        uid: Option<u32>,
        gid: Option<u32>,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        self.on_maybe_handle(path, fh, Errno::EROFS, |ops, rel, fh| {
            ops.chown(ctx, rel, uid, gid, fh)
        })
    }

    fn truncate(
        &self,
        ctx: &RequestContext,
        path: &Path,
        size: u64,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        self.on_maybe_handle(path, fh, Errno::EROFS, |ops, rel, fh| {
            ops.truncate(ctx, rel, size, fh)
        })
    }

    fn utimens(
        &self,
        ctx: &RequestContext,
        path: &Path,
        atime: TimeSet,
        mtime: TimeSet,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        self.on_maybe_handle(path, fh, Errno::EROFS, |ops, rel, fh| {
            ops.utimens(ctx, rel, atime, mtime, fh)
        })
    }

    fn access(&self, ctx: &RequestContext, path: &Path, mask: i32) -> OpResult<()> {
        let answer = self.on_path(path, Errno::ENOENT, |ops, rel| ops.access(ctx, rel, mask));
        match answer {
            Err(_) if self.is_above_mount(path) || path == Path::new("/") => {
                // A made-up directory: anyone may look, nobody may write.
                if mask & libc::W_OK != 0 {
                    Err(Errno::EROFS)
                } else {
                    Ok(())
                }
            }
            other => other,
        }
    }

    fn statfs(&self, ctx: &RequestContext, path: &Path) -> OpResult<StatFs> {
        match self.owner(path) {
            Owner::Branch(i, rel) => self.call(i, |ops| ops.statfs(ctx, &rel)),
            Owner::Nobody => Ok(StatFs::default()),
        }
    }
}
