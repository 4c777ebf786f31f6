//! Extended attributes through a composition: the owner's (made-up directories have
//! none).

use std::ffi::{OsStr, OsString};
use std::path::Path;

use super::Composite;
use crate::errno::Errno;
use crate::operations::{Fh, OpResult, RequestContext, XattrOps};

impl XattrOps for Composite {
    fn setxattr(
        &self,
        ctx: &RequestContext,
        path: &Path,
        name: &OsStr,
        value: &[u8],
        flags: i32,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        self.on_maybe_handle(path, fh, Errno::EROFS, |ops, rel, fh| {
            ops.setxattr(ctx, rel, name, value, flags, fh)
        })
    }

    fn getxattr(
        &self,
        ctx: &RequestContext,
        path: &Path,
        name: &OsStr,
        fh: Option<Fh>,
    ) -> OpResult<Vec<u8>> {
        self.on_maybe_handle(path, fh, Errno::ENODATA, |ops, rel, fh| {
            ops.getxattr(ctx, rel, name, fh)
        })
    }

    fn listxattr(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Option<Fh>,
    ) -> OpResult<Vec<OsString>> {
        let listed = self.on_maybe_handle(path, fh, Errno::ENOENT, |ops, rel, fh| {
            ops.listxattr(ctx, rel, fh)
        });
        match listed {
            Err(_) if self.is_above_mount(path) => Ok(Vec::new()),
            other => other,
        }
    }

    fn removexattr(
        &self,
        ctx: &RequestContext,
        path: &Path,
        name: &OsStr,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        self.on_maybe_handle(path, fh, Errno::EROFS, |ops, rel, fh| {
            ops.removexattr(ctx, rel, name, fh)
        })
    }
}
