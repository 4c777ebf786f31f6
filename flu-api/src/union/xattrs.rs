//! `XattrOps` for the union: reads answer from the top layer (or the handle's), changes
//! copy up first. overlayfs's own `trusted.overlay.*` names are never shown and cannot
//! be set or removed through the union (EOPNOTSUPP, as overlayfs answers).

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::whiteout::OVERLAY_XATTRS;
use super::{Union, UPPER};
use crate::errno::Errno;
use crate::operations::{Fh, OpResult, RequestContext, XattrOps};

fn own_name(name: &OsStr) -> bool {
    name.as_bytes().starts_with(OVERLAY_XATTRS)
}

impl Union {
    /// The layer to read from and the handle there, if any.
    fn reading(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Option<Fh>,
    ) -> OpResult<(usize, Option<Fh>)> {
        match self.handle_of(fh) {
            Some(h) => Ok((h.layer, Some(h.fh))),
            None => Ok((self.resolve(ctx, path)?.top(), None)),
        }
    }

    /// Where a change goes: the upper, through the handle if it is an upper one.
    fn writing(&self, ctx: &RequestContext, path: &Path, fh: Option<Fh>) -> OpResult<Option<Fh>> {
        match self.handle_of(fh) {
            Some(h) if h.layer == UPPER => Ok(Some(h.fh)),
            _ => self.copy_up(ctx, path).map(|_| None),
        }
    }
}

impl XattrOps for Union {
    fn setxattr(
        &self,
        ctx: &RequestContext,
        path: &Path,
        name: &OsStr,
        value: &[u8],
        flags: i32,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        if own_name(name) {
            return Err(Errno::EOPNOTSUPP);
        }
        let fh = self.writing(ctx, path, fh)?;
        self.upper().setxattr(ctx, path, name, value, flags, fh)
    }

    fn getxattr(
        &self,
        ctx: &RequestContext,
        path: &Path,
        name: &OsStr,
        fh: Option<Fh>,
    ) -> OpResult<Vec<u8>> {
        if own_name(name) {
            return Err(Errno::EOPNOTSUPP);
        }
        let (layer, fh) = self.reading(ctx, path, fh)?;
        self.layer(layer).getxattr(ctx, path, name, fh)
    }

    fn listxattr(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Option<Fh>,
    ) -> OpResult<Vec<OsString>> {
        let (layer, fh) = self.reading(ctx, path, fh)?;
        let mut names = self.layer(layer).listxattr(ctx, path, fh)?;
        names.retain(|n| !own_name(n));
        Ok(names)
    }

    fn removexattr(
        &self,
        ctx: &RequestContext,
        path: &Path,
        name: &OsStr,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        if own_name(name) {
            return Err(Errno::EOPNOTSUPP);
        }
        let fh = self.writing(ctx, path, fh)?;
        self.upper().removexattr(ctx, path, name, fh)
    }
}
