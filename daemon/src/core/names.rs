//! Names: lookup/forget and everything that makes, removes or moves a name (the node
//! tree is updated after the implementation succeeded).

use std::ffi::OsStr;
use std::path::Path;

use flu_api::{Errno, Op, OpResult, RequestContext};

use super::{At, Entry, FsCore, Made};

impl FsCore {
    pub fn lookup(&self, ctx: &RequestContext, parent: u64, name: &OsStr) -> OpResult<Entry> {
        if self.exports && (name == "." || name == "..") {
            // Only a file handle makes the kernel ask for these; the node may be one
            // the tree no longer has, so it is not resolved to a path first.
            let args = || format!("node {parent} (file handle)");
            return self.on(Op::Lookup, At::Path(Path::new(name)), args, |_| {
                self.lookup_by_handle(ctx, parent, name)
            });
        }
        self.on(Op::Lookup, At::Child(parent, name), String::new, |path| {
            self.register(ctx, parent, name, path, None, Made::Before)
        })
    }

    pub fn forget(&self, nodeid: u64, nlookup: u64) {
        let start = std::time::Instant::now();
        if self.config.debug {
            tracing::info!("forget(node {nodeid}, {nlookup})");
        }
        self.nodes.forget(nodeid, nlookup);
        self.settle();
        // Forgets take no path, so they are not run through `on`; counted here.
        self.counts.record(Op::Forget, None, start.elapsed());
    }

    pub fn readlink(&self, ctx: &RequestContext, nodeid: u64) -> OpResult<Vec<u8>> {
        self.on(Op::Readlink, At::Node(nodeid), String::new, |path| {
            self.ops.readlink(ctx, path)
        })
    }

    pub fn mknod(
        &self,
        ctx: &RequestContext,
        parent: u64,
        name: &OsStr,
        mode: u32,
        rdev: u64,
    ) -> OpResult<Entry> {
        let args = || format!("mode={mode:o} rdev={rdev}");
        self.on(Op::Mknod, At::Child(parent, name), args, |path| {
            self.ops.mknod(ctx, path, mode, rdev)?;
            self.register(ctx, parent, name, path, None, Made::Here)
        })
    }

    pub fn mkdir(
        &self,
        ctx: &RequestContext,
        parent: u64,
        name: &OsStr,
        mode: u32,
    ) -> OpResult<Entry> {
        let args = || format!("mode={mode:o}");
        self.on(Op::Mkdir, At::Child(parent, name), args, |path| {
            self.ops.mkdir(ctx, path, mode)?;
            self.register(ctx, parent, name, path, None, Made::Here)
        })
    }

    pub fn symlink(
        &self,
        ctx: &RequestContext,
        parent: u64,
        name: &OsStr,
        target: &Path,
    ) -> OpResult<Entry> {
        let args = || format!("-> {target:?}");
        self.on(Op::Symlink, At::Child(parent, name), args, |path| {
            self.ops.symlink(ctx, target, path)?;
            self.register(ctx, parent, name, path, None, Made::Here)
        })
    }

    pub fn link(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        new_parent: u64,
        new_name: &OsStr,
    ) -> OpResult<Entry> {
        if let Some(fh) = self.unnamed_open_file(nodeid) {
            // A file with no name (O_TMPFILE, or unlinked while open): linked through
            // its handle, and it keeps its node.
            return self.on(
                Op::Link,
                At::Child(new_parent, new_name),
                String::new,
                |to| {
                    self.ops.link_open(ctx, fh, to)?;
                    let stat = self.ops.getattr(ctx, to, None)?;
                    if !self.nodes.attach(nodeid, new_parent, new_name) {
                        return Err(Errno::ENOENT);
                    }
                    let generation = self.nodes.generation(nodeid);
                    Ok(Entry {
                        nodeid,
                        generation,
                        stat,
                    })
                },
            );
        }
        let places = (At::Node(nodeid), At::Child(new_parent, new_name));
        self.on_two(Op::Link, places, String::new, |from, to| {
            self.ops.link(ctx, from, to)?;
            self.register(ctx, new_parent, new_name, to, None, Made::Before)
        })
    }

    pub fn unlink(&self, ctx: &RequestContext, parent: u64, name: &OsStr) -> OpResult<()> {
        self.on(Op::Unlink, At::Child(parent, name), String::new, |path| {
            self.ops.unlink(ctx, path)?;
            self.remove_name(parent, name);
            Ok(())
        })
    }

    pub fn rmdir(&self, ctx: &RequestContext, parent: u64, name: &OsStr) -> OpResult<()> {
        self.on(Op::Rmdir, At::Child(parent, name), String::new, |path| {
            self.ops.rmdir(ctx, path)?;
            self.remove_name(parent, name);
            Ok(())
        })
    }

    /// After a successful unlink/rmdir: the node loses the name, and open listings of
    /// `parent` keep its number.
    fn remove_name(&self, parent: u64, name: &OsStr) {
        if let Some(id) = self.nodes.child(parent, name) {
            self.note_gone(parent, name, id);
        }
        self.nodes.unlink(parent, name);
        self.settle();
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
        let places = (At::Child(parent, name), At::Child(new_parent, new_name));
        let args = || format!("flags={flags:#x}");
        self.on_two(Op::Rename, places, args, |from, to| {
            self.ops.rename(ctx, from, to, flags)?;
            if flags & libc::RENAME_EXCHANGE != 0 {
                self.nodes.exchange(parent, name, new_parent, new_name);
            } else {
                let moved = self.nodes.child(parent, name);
                if let Some(id) = moved.filter(|_| (parent, name) != (new_parent, new_name)) {
                    self.note_gone(parent, name, id);
                }
                self.nodes.rename(parent, name, new_parent, new_name);
            }
            self.settle();
            Ok(())
        })
    }
}
