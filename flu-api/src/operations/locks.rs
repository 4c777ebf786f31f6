//! `LockOps`: POSIX record locks (getlk, setlk) and BSD `flock`.

use std::path::Path;

use super::{Fh, FileLock, OpResult, RequestContext};
use crate::errno::Errno;

#[allow(unused_variables)]
pub trait LockOps: Send + Sync {
    fn getlk(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Fh,
        owner: u64,
        lock: FileLock,
    ) -> OpResult<FileLock> {
        Err(Errno::ENOSYS)
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
        Err(Errno::ENOSYS)
    }
    /// BSD `flock`; `op` is `LOCK_SH`, `LOCK_EX` or `LOCK_UN`, maybe with `LOCK_NB`.
    /// The daemon never calls it today: fuser 0.18 does not tell a forwarded flock from
    /// a POSIX lock, so the kernel keeps BSD locks itself. Lua scripts reach a native
    /// backend's through `base.flock`.
    fn flock(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Fh,
        owner: u64,
        op: i32,
    ) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }
}
