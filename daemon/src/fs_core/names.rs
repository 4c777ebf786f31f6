//! Operations on names: lookup/forget, attributes, and everything that makes, removes
//! or moves a name (the node tree is updated after the implementation succeeded).

use std::ffi::OsStr;
use std::path::Path;

use flu_api::{Op, OpResult, RequestContext, Stat, TimeSet};

use super::{p, show, Entry, FsCore, SetAttr};

impl FsCore {
    // ---- names ----

    pub fn lookup(&self, ctx: &RequestContext, parent: u64, name: &OsStr) -> OpResult<Entry> {
        let path = self.child_path(parent, name);
        self.run(
            Op::Lookup,
            || show(&path, parent),
            || self.register(ctx, parent, name, p(&path)?, None),
        )
    }

    pub fn forget(&self, nodeid: u64, nlookup: u64) {
        if self.config.debug {
            tracing::info!("forget(node {nodeid}, {nlookup})");
        }
        self.nodes.forget(nodeid, nlookup);
    }

    pub fn getattr(&self, ctx: &RequestContext, nodeid: u64, fh: Option<u64>) -> OpResult<Stat> {
        let path = self.path(nodeid);
        self.run(
            Op::Getattr,
            || format!("{} fh={fh:?}", show(&path, nodeid)),
            || self.ops.getattr(ctx, p(&path)?, self.attr_fh(nodeid, fh)),
        )
    }

    /// Apply each requested change with its own call (chmod, chown, truncate, utimens,
    /// in libfuse's order), then answer the new attributes.
    pub fn setattr(&self, ctx: &RequestContext, nodeid: u64, req: SetAttr) -> OpResult<Stat> {
        let path = self.path(nodeid);
        self.run(
            Op::Setattr,
            || format!("{} {req:?}", show(&path, nodeid)),
            || {
                let path = p(&path)?;
                let fh = self.attr_fh(nodeid, req.fh);
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
            },
        )
    }

    pub fn readlink(&self, ctx: &RequestContext, nodeid: u64) -> OpResult<Vec<u8>> {
        let path = self.path(nodeid);
        self.run(
            Op::Readlink,
            || show(&path, nodeid),
            || self.ops.readlink(ctx, p(&path)?),
        )
    }

    pub fn mknod(
        &self,
        ctx: &RequestContext,
        parent: u64,
        name: &OsStr,
        mode: u32,
        rdev: u64,
    ) -> OpResult<Entry> {
        let path = self.child_path(parent, name);
        self.run(
            Op::Mknod,
            || format!("{} mode={mode:o} rdev={rdev}", show(&path, parent)),
            || {
                let path = p(&path)?;
                self.ops.mknod(ctx, path, mode, rdev)?;
                self.register(ctx, parent, name, path, None)
            },
        )
    }

    pub fn mkdir(
        &self,
        ctx: &RequestContext,
        parent: u64,
        name: &OsStr,
        mode: u32,
    ) -> OpResult<Entry> {
        let path = self.child_path(parent, name);
        self.run(
            Op::Mkdir,
            || format!("{} mode={mode:o}", show(&path, parent)),
            || {
                let path = p(&path)?;
                self.ops.mkdir(ctx, path, mode)?;
                self.register(ctx, parent, name, path, None)
            },
        )
    }

    pub fn symlink(
        &self,
        ctx: &RequestContext,
        parent: u64,
        name: &OsStr,
        target: &Path,
    ) -> OpResult<Entry> {
        let path = self.child_path(parent, name);
        self.run(
            Op::Symlink,
            || format!("{target:?} {}", show(&path, parent)),
            || {
                let path = p(&path)?;
                self.ops.symlink(ctx, target, path)?;
                self.register(ctx, parent, name, path, None)
            },
        )
    }

    pub fn link(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        new_parent: u64,
        new_name: &OsStr,
    ) -> OpResult<Entry> {
        let from = self.path(nodeid);
        let to = self.child_path(new_parent, new_name);
        self.run(
            Op::Link,
            || format!("{} {}", show(&from, nodeid), show(&to, new_parent)),
            || {
                let to = p(&to)?;
                self.ops.link(ctx, p(&from)?, to)?;
                self.register(ctx, new_parent, new_name, to, None)
            },
        )
    }

    pub fn unlink(&self, ctx: &RequestContext, parent: u64, name: &OsStr) -> OpResult<()> {
        let path = self.child_path(parent, name);
        self.run(
            Op::Unlink,
            || show(&path, parent),
            || {
                self.ops.unlink(ctx, p(&path)?)?;
                self.nodes.unlink(parent, name);
                Ok(())
            },
        )
    }

    pub fn rmdir(&self, ctx: &RequestContext, parent: u64, name: &OsStr) -> OpResult<()> {
        let path = self.child_path(parent, name);
        self.run(
            Op::Rmdir,
            || show(&path, parent),
            || {
                self.ops.rmdir(ctx, p(&path)?)?;
                self.nodes.unlink(parent, name);
                Ok(())
            },
        )
    }

    /// `flags`: `RENAME_NOREPLACE` / `RENAME_EXCHANGE`, passed to the implementation.
    pub fn rename(
        &self,
        ctx: &RequestContext,
        parent: u64,
        name: &OsStr,
        new_parent: u64,
        new_name: &OsStr,
        flags: u32,
    ) -> OpResult<()> {
        let from = self.child_path(parent, name);
        let to = self.child_path(new_parent, new_name);
        self.run(
            Op::Rename,
            || {
                format!(
                    "{} {} flags={flags:#x}",
                    show(&from, parent),
                    show(&to, new_parent)
                )
            },
            || {
                self.ops.rename(ctx, p(&from)?, p(&to)?, flags)?;
                if flags & libc::RENAME_EXCHANGE != 0 {
                    self.nodes.exchange(parent, name, new_parent, new_name);
                } else {
                    self.nodes.rename(parent, name, new_parent, new_name);
                }
                Ok(())
            },
        )
    }
}
