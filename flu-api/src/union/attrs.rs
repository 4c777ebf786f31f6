//! `AttrOps` for the union: getattr and access answer from the top layer; chmod, chown,
//! truncate and utimens copy up first (or act on an upper handle); statfs answers the
//! upper's.

use std::path::Path;

use super::{Union, UPPER};
use crate::errno::Errno;
use crate::operations::{AttrOps, Fh, OpResult, RequestContext};
use crate::stat::{Stat, StatFs};
use crate::time::TimeSet;

impl Union {
    /// Run a change of `path`'s attributes on the upper: through the handle when it is
    /// an upper one, else by path after a copy-up.
    fn change(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Option<Fh>,
        f: impl FnOnce(Option<Fh>) -> OpResult<()>,
    ) -> OpResult<()> {
        match self.handle_of(fh) {
            Some(h) if h.layer == UPPER => f(Some(h.fh)),
            _ => {
                self.copy_up(ctx, path)?;
                f(None)
            }
        }
    }
}

impl AttrOps for Union {
    fn getattr(&self, ctx: &RequestContext, path: &Path, fh: Option<Fh>) -> OpResult<Stat> {
        if let Some(h) = self.handle_of(fh) {
            let mut st = self.layer(h.layer).getattr(ctx, path, Some(h.fh))?;
            if h.dir.as_ref().is_some_and(|d| d.layers.len() > 1) {
                st.nlink = 1;
            }
            return Ok(st);
        }
        Ok(self.resolve(ctx, path)?.stat)
    }

    fn chmod(&self, ctx: &RequestContext, path: &Path, mode: u32, fh: Option<Fh>) -> OpResult<()> {
        self.change(ctx, path, fh, |fh| self.upper().chmod(ctx, path, mode, fh))
    }

    fn chown(
        &self,
        ctx: &RequestContext,
        path: &Path,
        uid: Option<u32>,
        gid: Option<u32>,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        self.change(ctx, path, fh, |fh| {
            self.upper().chown(ctx, path, uid, gid, fh)
        })
    }

    fn truncate(
        &self,
        ctx: &RequestContext,
        path: &Path,
        size: u64,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        self.change(ctx, path, fh, |fh| {
            self.upper().truncate(ctx, path, size, fh)
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
        self.change(ctx, path, fh, |fh| {
            self.upper().utimens(ctx, path, atime, mtime, fh)
        })
    }

    /// The top layer's answer; a lower's read-only filesystem does not make the union
    /// read-only (a write copies up), as with overlayfs.
    fn access(&self, ctx: &RequestContext, path: &Path, mask: i32) -> OpResult<()> {
        let found = self.resolve(ctx, path)?;
        let layer = self.layer(found.top());
        match layer.access(ctx, path, mask) {
            Err(Errno::EROFS) if !found.in_upper() => layer.access(ctx, path, mask & !libc::W_OK),
            r => r,
        }
    }

    fn statfs(&self, ctx: &RequestContext, _path: &Path) -> OpResult<StatFs> {
        self.upper().statfs(ctx, Path::new("/"))
    }
}
