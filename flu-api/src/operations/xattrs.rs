//! `XattrOps`: extended attributes. Values and lists are whole here; the daemon does the
//! kernel's size-probe protocol.

use std::ffi::{OsStr, OsString};
use std::path::Path;

use super::{OpResult, RequestContext};
use crate::errno::Errno;

#[allow(unused_variables)]
pub trait XattrOps: Send + Sync {
    fn setxattr(
        &self,
        ctx: &RequestContext,
        path: &Path,
        name: &OsStr,
        value: &[u8],
        flags: i32,
    ) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }
    fn getxattr(&self, ctx: &RequestContext, path: &Path, name: &OsStr) -> OpResult<Vec<u8>> {
        Err(Errno::ENOSYS)
    }
    fn listxattr(&self, ctx: &RequestContext, path: &Path) -> OpResult<Vec<OsString>> {
        Err(Errno::ENOSYS)
    }
    fn removexattr(&self, ctx: &RequestContext, path: &Path, name: &OsStr) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }
}
