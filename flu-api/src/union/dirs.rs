//! `DirOps` for the union: an open directory is open on its top layer; its listing is
//! the merged one (`merge`), made again at each readdir from where the directory lives
//! then (a copy-up since opendir shows the upper's new names).

use std::path::Path;

use super::Union;
use crate::errno::Errno;
use crate::operations::{DirEntry, DirOps, Fh, OpResult, Opened, RequestContext};

impl DirOps for Union {
    fn opendir(&self, ctx: &RequestContext, path: &Path, flags: i32) -> OpResult<Opened> {
        let found = self.resolve(ctx, path)?;
        if !found.stat.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        let layer = found.top();
        let o = self.layer(layer).opendir(ctx, path, flags)?;
        Ok(self.hand_out(layer, o, Some(found)))
    }

    fn readdir(&self, ctx: &RequestContext, path: &Path, fh: Fh) -> OpResult<Vec<DirEntry>> {
        let h = self.handle(fh)?;
        let found = match self.resolve(ctx, path) {
            Ok(f) if f.stat.is_dir() => f,
            _ => h.dir.clone().ok_or(Errno::ENOENT)?,
        };
        let open = (found.top() == h.layer).then_some(h.fh);
        self.merged(ctx, path, &found, open)
    }

    fn releasedir(&self, ctx: &RequestContext, path: &Path, fh: Fh) -> OpResult<()> {
        let h = self.handles.remove(fh.0).ok_or(Errno::EBADF)?;
        self.layer(h.layer).releasedir(ctx, path, h.fh)
    }

    fn fsyncdir(&self, ctx: &RequestContext, path: &Path, fh: Fh, datasync: bool) -> OpResult<()> {
        let h = self.handle(fh)?;
        self.layer(h.layer).fsyncdir(ctx, path, h.fh, datasync)
    }
}
