//! Attributes: getattr, setattr (split into chmod, chown, truncate and utimens, in
//! libfuse's order), statfs and access.

use flu_api::{Op, OpResult, RequestContext, Stat, StatFs, TimeSet};

use super::{At, FsCore, SetAttr};

impl FsCore {
    pub fn getattr(&self, ctx: &RequestContext, nodeid: u64, fh: Option<u64>) -> OpResult<Stat> {
        let args = || format!("fh={fh:?}");
        self.on(Op::Getattr, At::Node(nodeid), args, |path| {
            self.with_open_fh(nodeid, fh, |fh| self.ops.getattr(ctx, path, fh))
        })
    }

    /// Apply each requested change with its own call, then answer the new attributes.
    pub fn setattr(&self, ctx: &RequestContext, nodeid: u64, req: SetAttr) -> OpResult<Stat> {
        let args = || format!("{req:?}");
        self.on(Op::Setattr, At::Node(nodeid), args, |path| {
            // Refused before anything changes.
            if let Some(size) = req.size {
                self.check_size(size)?;
            }
            self.with_open_fh(nodeid, req.fh, |fh| {
                if let Some(mode) = req.mode {
                    self.ops.chmod(ctx, path, mode, fh)?;
                }
                if req.uid.is_some() || req.gid.is_some() {
                    self.ops.chown(ctx, path, req.uid, req.gid, fh)?;
                }
                if let Some(size) = req.size {
                    self.ops.truncate(ctx, path, size, fh)?;
                }
                if req.atime.is_some() || req.mtime.is_some() {
                    let atime = req.atime.unwrap_or(TimeSet::Omit);
                    let mtime = req.mtime.unwrap_or(TimeSet::Omit);
                    self.ops.utimens(ctx, path, atime, mtime, fh)?;
                }
                self.ops.getattr(ctx, path, fh)
            })
        })
    }

    pub fn statfs(&self, ctx: &RequestContext, nodeid: u64) -> OpResult<StatFs> {
        self.on(Op::Statfs, At::Node(nodeid), String::new, |path| {
            let mut st = self.ops.statfs(ctx, path)?;
            if st.frsize == 0 {
                st.frsize = st.bsize;
            }
            Ok(st)
        })
    }

    pub fn access(&self, ctx: &RequestContext, nodeid: u64, mask: i32) -> OpResult<()> {
        let args = || format!("mask={mask:#o}");
        self.on(Op::Access, At::Node(nodeid), args, |path| {
            self.ops.access(ctx, path, mask)
        })
    }
}
