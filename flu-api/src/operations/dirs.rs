//! `DirOps`: open directories (opendir, readdir, stat_entry, releasedir, fsyncdir).

use std::ffi::OsStr;
use std::path::Path;

use super::{DirEntry, Fh, OpResult, Opened, RequestContext};
use crate::errno::Errno;
use crate::stat::Stat;

#[allow(unused_variables)]
pub trait DirOps: Send + Sync {
    fn opendir(&self, ctx: &RequestContext, path: &Path, flags: i32) -> OpResult<Opened> {
        Ok(Opened::default())
    }
    /// The whole listing; the daemon buffers it per open directory and adds `.`/`..`
    /// when the implementation leaves them out.
    fn readdir(&self, ctx: &RequestContext, path: &Path, fh: Fh) -> OpResult<Vec<DirEntry>> {
        Err(Errno::ENOSYS)
    }
    /// The attributes of entry `name` of the directory `dir` opened as `fh`, when the
    /// implementation can get them more cheaply than `getattr` of `dir/name` (the native
    /// passthrough: `fstatat` on the open directory). `None`: not supported, the daemon
    /// asks `getattr`. The daemon calls it for the entries of a readdirplus reply that
    /// came without a stat; like `getattr`, it does not follow a final symlink.
    fn stat_entry(
        &self,
        ctx: &RequestContext,
        dir: &Path,
        fh: Fh,
        name: &OsStr,
    ) -> Option<OpResult<Stat>> {
        None
    }
    fn releasedir(&self, ctx: &RequestContext, path: &Path, fh: Fh) -> OpResult<()> {
        Ok(())
    }
    fn fsyncdir(&self, ctx: &RequestContext, path: &Path, fh: Fh, datasync: bool) -> OpResult<()> {
        Err(Errno::ENOSYS)
    }
}
