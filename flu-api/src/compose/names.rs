//! Names through a composition: made in, removed from and moved within one backend.
//! Mount points and their ancestors are pinned (EBUSY); a name never moves or links
//! to another backend (EXDEV, so `mv` and `cp` fall back to copying).

use std::path::Path;

use super::{Composite, Owner};
use crate::errno::Errno;
use crate::operations::{Fh, NameOps, OpResult, RequestContext};

impl Composite {
    /// The branch owning both `from` and `to`, with the paths it sees; EBUSY when
    /// either is pinned, EXDEV when they belong to different backends.
    fn on_pair<R>(
        &self,
        from: &Path,
        to: &Path,
        f: impl FnOnce(&dyn crate::operations::Operations, &Path, &Path) -> OpResult<R>,
    ) -> OpResult<R> {
        if self.is_pinned(from) || self.is_pinned(to) {
            return Err(Errno::EBUSY);
        }
        match (self.owner(from), self.owner(to)) {
            (Owner::Branch(a, rel_from), Owner::Branch(b, rel_to)) if a == b => {
                self.call(a, |ops| f(ops, &rel_from, &rel_to))
            }
            (Owner::Branch(..), Owner::Branch(..)) => Err(Errno::EXDEV),
            _ => Err(Errno::EROFS),
        }
    }

    /// `f` on the owner of `path`, unless `path` is pinned.
    fn on_unpinned<R>(
        &self,
        path: &Path,
        f: impl FnOnce(&dyn crate::operations::Operations, &Path) -> OpResult<R>,
    ) -> OpResult<R> {
        if self.is_pinned(path) {
            return Err(Errno::EBUSY);
        }
        self.on_path(path, Errno::EROFS, f)
    }

    /// `f` on the owner of a name to be made at `path`: a mount point or a made-up
    /// directory exists already.
    fn on_new<R>(
        &self,
        path: &Path,
        f: impl FnOnce(&dyn crate::operations::Operations, &Path) -> OpResult<R>,
    ) -> OpResult<R> {
        if self.is_pinned(path) {
            return Err(Errno::EEXIST);
        }
        self.on_path(path, Errno::EROFS, f)
    }
}

impl NameOps for Composite {
    fn readlink(&self, ctx: &RequestContext, path: &Path) -> OpResult<Vec<u8>> {
        self.on_path(path, Errno::ENOENT, |ops, rel| ops.readlink(ctx, rel))
    }

    fn mknod(&self, ctx: &RequestContext, path: &Path, mode: u32, rdev: u64) -> OpResult<()> {
        self.on_new(path, |ops, rel| ops.mknod(ctx, rel, mode, rdev))
    }

    fn mkdir(&self, ctx: &RequestContext, path: &Path, mode: u32) -> OpResult<()> {
        self.on_new(path, |ops, rel| ops.mkdir(ctx, rel, mode))
    }

    fn unlink(&self, ctx: &RequestContext, path: &Path) -> OpResult<()> {
        self.on_unpinned(path, |ops, rel| ops.unlink(ctx, rel))
    }

    fn rmdir(&self, ctx: &RequestContext, path: &Path) -> OpResult<()> {
        self.on_unpinned(path, |ops, rel| ops.rmdir(ctx, rel))
    }

    fn symlink(&self, ctx: &RequestContext, target: &Path, path: &Path) -> OpResult<()> {
        self.on_new(path, |ops, rel| ops.symlink(ctx, target, rel))
    }

    fn rename(&self, ctx: &RequestContext, from: &Path, to: &Path, flags: u32) -> OpResult<()> {
        self.on_pair(from, to, |ops, a, b| ops.rename(ctx, a, b, flags))
    }

    fn link(&self, ctx: &RequestContext, from: &Path, to: &Path) -> OpResult<()> {
        if self.is_pinned(to) {
            return Err(Errno::EEXIST);
        }
        self.on_pair(from, to, |ops, a, b| ops.link(ctx, a, b))
    }

    fn link_open(&self, ctx: &RequestContext, fh: Fh, to: &Path) -> OpResult<()> {
        if self.is_pinned(to) {
            return Err(Errno::EEXIST);
        }
        let handle = self.handles.get(fh.0).ok_or(Errno::EBADF)?;
        let Some(i) = handle.branch else {
            return Err(Errno::EXDEV);
        };
        match self.owner(to) {
            Owner::Branch(j, rel) if j == i => {
                self.call(i, |ops| ops.link_open(ctx, handle.fh, &rel))
            }
            Owner::Branch(..) => Err(Errno::EXDEV),
            Owner::Nobody => Err(Errno::EROFS),
        }
    }
}
