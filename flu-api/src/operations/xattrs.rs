//! `XattrOps`: extended attributes. Values and lists are whole here; the daemon does the
//! kernel's size-probe protocol.
//!
//! The kernel sends no file handle with xattr requests; `fh` is given when the daemon
//! found one open on the node itself, because its name was removed or replaced while
//! open (fgetxattr of an unlinked file): the path is then only the one it last had, and
//! the implementation should act on the handle.

use std::ffi::{OsStr, OsString};
use std::path::Path;

use super::{Fh, OpResult, RequestContext};
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
        fh: Option<Fh>,
    ) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }
    fn getxattr(
        &self,
        ctx: &RequestContext,
        path: &Path,
        name: &OsStr,
        fh: Option<Fh>,
    ) -> OpResult<Vec<u8>> {
        Err(Errno::ENOSYS)
    }
    fn listxattr(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Option<Fh>,
    ) -> OpResult<Vec<OsString>> {
        Err(Errno::ENOSYS)
    }
    fn removexattr(
        &self,
        ctx: &RequestContext,
        path: &Path,
        name: &OsStr,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }
}
