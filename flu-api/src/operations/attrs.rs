//! `AttrOps`: attributes of a path (getattr and the four halves of setattr), access
//! checks and statfs, with libfuse's answers for a missing handler.

use std::path::Path;

use super::{Fh, OpResult, RequestContext};
use crate::errno::Errno;
use crate::stat::{Stat, StatFs};
use crate::time::TimeSet;

#[allow(unused_variables)]
pub trait AttrOps: Send + Sync {
    /// `fh` is given when the kernel asks about an open file (fstat): the
    /// implementation may use its fgetattr handler.
    fn getattr(&self, ctx: &RequestContext, path: &Path, fh: Option<Fh>) -> OpResult<Stat> {
        Err(Errno::ENOSYS)
    }
    fn chmod(&self, ctx: &RequestContext, path: &Path, mode: u32, fh: Option<Fh>) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }
    /// `None` leaves that id unchanged.
    fn chown(
        &self,
        ctx: &RequestContext,
        path: &Path,
        uid: Option<u32>,
        gid: Option<u32>,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }
    fn truncate(
        &self,
        ctx: &RequestContext,
        path: &Path,
        size: u64,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }
    fn utimens(
        &self,
        ctx: &RequestContext,
        path: &Path,
        atime: TimeSet,
        mtime: TimeSet,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }
    /// `mask`: `F_OK` or a combination of `R_OK`, `W_OK`, `X_OK`.
    fn access(&self, ctx: &RequestContext, path: &Path, mask: i32) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }
    fn statfs(&self, ctx: &RequestContext, path: &Path) -> OpResult<StatFs> {
        Ok(StatFs::default())
    }
}
