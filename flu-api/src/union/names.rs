//! `NameOps` for the union: names are made in the upper (parents copied up, over a
//! whiteout: a directory made there is opaque); removing a name a lower shows leaves a
//! whiteout; rename copies a file up and renames it in the upper, and answers EXDEV
//! for a directory a lower holds (overlayfs without `redirect_dir`).

use std::path::Path;

use super::{Union, UPPER};
use crate::errno::Errno;
use crate::operations::{Fh, NameOps, OpResult, RequestContext};

const NOREPLACE: u32 = libc::RENAME_NOREPLACE;
const EXCHANGE: u32 = libc::RENAME_EXCHANGE;

impl Union {
    /// Make the new name `path` in the upper with `make`; answers whether it replaced a
    /// whiteout.
    fn make_name(
        &self,
        ctx: &RequestContext,
        path: &Path,
        make: impl FnOnce() -> OpResult<()>,
    ) -> OpResult<bool> {
        if self.resolve_maybe(ctx, path)?.is_some() {
            return Err(Errno::EEXIST);
        }
        self.copy_up_parent(ctx, path)?;
        self.make_over_whiteout(ctx, path, make).map(|(_, was)| was)
    }

    /// Remove the name `path` (a directory if `dir`).
    fn remove(&self, ctx: &RequestContext, path: &Path, dir: bool) -> OpResult<()> {
        let (parent, pdir, name) = self.resolve_parent(ctx, path)?;
        let found = self
            .lookup_in(ctx, &parent.layers, path)?
            .filter(|_| !self.reserved(&name))
            .ok_or(Errno::ENOENT)?;
        match (dir, found.stat.is_dir()) {
            (false, true) => return Err(Errno::EISDIR),
            (true, false) => return Err(Errno::ENOTDIR),
            (true, true) => self.check_empty(ctx, path, &found)?,
            (false, false) => {}
        }
        let below = self.lower_shows(ctx, &parent, &pdir, &name)?;
        self.copy_up(ctx, &pdir)?;
        if found.in_upper() && dir {
            self.clear_upper_dir(ctx, path)?;
        }
        match (found.in_upper(), below) {
            (true, true) => self.replace_with_whiteout(ctx, path, dir),
            (true, false) if dir => self.upper().rmdir(ctx, path),
            (true, false) => self.upper().unlink(ctx, path),
            (false, _) => self.make_whiteout(ctx, path),
        }
    }

    /// A directory moved to upper `path` is made opaque when its new parent is merged
    /// (as overlayfs does): nothing a lower holds there may merge into it.
    fn keep_apart(&self, ctx: &RequestContext, path: &Path) -> OpResult<()> {
        let (parent, _, _) = self.resolve_parent(ctx, path)?;
        if parent.has_lower() {
            self.make_opaque(ctx, path)?;
        }
        Ok(())
    }

    fn exchange(&self, ctx: &RequestContext, from: &Path, to: &Path) -> OpResult<()> {
        let a = self.resolve(ctx, from)?;
        let b = self.resolve(ctx, to)?;
        for f in [&a, &b] {
            if f.stat.is_dir() && f.has_lower() {
                return Err(Errno::EXDEV);
            }
        }
        self.copy_up(ctx, from)?;
        self.copy_up(ctx, to)?;
        self.upper().rename(ctx, from, to, EXCHANGE)?;
        if a.stat.is_dir() {
            self.keep_apart(ctx, to)?;
        }
        if b.stat.is_dir() {
            self.keep_apart(ctx, from)?;
        }
        Ok(())
    }
}

impl NameOps for Union {
    fn readlink(&self, ctx: &RequestContext, path: &Path) -> OpResult<Vec<u8>> {
        let found = self.resolve(ctx, path)?;
        self.layer(found.top()).readlink(ctx, path)
    }

    fn mknod(&self, ctx: &RequestContext, path: &Path, mode: u32, rdev: u64) -> OpResult<()> {
        // Not a whiteout made by hand (overlayfs refuses it the same way).
        if mode & libc::S_IFMT == libc::S_IFCHR && rdev == 0 {
            return Err(Errno::EPERM);
        }
        self.make_name(ctx, path, || self.upper().mknod(ctx, path, mode, rdev))
            .map(drop)
    }

    fn mkdir(&self, ctx: &RequestContext, path: &Path, mode: u32) -> OpResult<()> {
        let over_whiteout = self.make_name(ctx, path, || self.upper().mkdir(ctx, path, mode))?;
        if over_whiteout {
            // Not opaque, it would show the old lower contents: undo.
            if let Err(e) = self.make_opaque(ctx, path) {
                let _ = self.upper().rmdir(ctx, path);
                let _ = self.make_whiteout(ctx, path);
                return Err(e);
            }
        }
        Ok(())
    }

    fn unlink(&self, ctx: &RequestContext, path: &Path) -> OpResult<()> {
        self.remove(ctx, path, false)
    }

    fn rmdir(&self, ctx: &RequestContext, path: &Path) -> OpResult<()> {
        self.remove(ctx, path, true)
    }

    fn symlink(&self, ctx: &RequestContext, target: &Path, path: &Path) -> OpResult<()> {
        self.make_name(ctx, path, || self.upper().symlink(ctx, target, path))
            .map(drop)
    }

    fn rename(&self, ctx: &RequestContext, from: &Path, to: &Path, flags: u32) -> OpResult<()> {
        if flags & EXCHANGE != 0 {
            return self.exchange(ctx, from, to);
        }
        let (fparent, fdir, fname) = self.resolve_parent(ctx, from)?;
        let src = self
            .lookup_in(ctx, &fparent.layers, from)?
            .filter(|_| !self.reserved(&fname))
            .ok_or(Errno::ENOENT)?;
        let dst = self.resolve_maybe(ctx, to)?;
        if src.stat.is_dir() && src.has_lower() {
            return Err(Errno::EXDEV);
        }
        if from == to {
            return Ok(());
        }
        if let Some(d) = &dst {
            if flags & NOREPLACE != 0 {
                return Err(Errno::EEXIST);
            }
            match (src.stat.is_dir(), d.stat.is_dir()) {
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                (true, true) => self.check_empty(ctx, to, d)?,
                (false, false) => {}
            }
        }
        let from_below = self.lower_shows(ctx, &fparent, &fdir, &fname)?;
        self.copy_up(ctx, from)?;
        self.copy_up_parent(ctx, to)?;
        if dst
            .as_ref()
            .is_some_and(|d| d.stat.is_dir() && d.in_upper())
        {
            self.clear_upper_dir(ctx, to)?;
        }
        self.make_over_whiteout(ctx, to, || self.upper().rename(ctx, from, to, flags))?;
        if from_below {
            self.make_whiteout(ctx, from)?;
        }
        if src.stat.is_dir() {
            self.keep_apart(ctx, to)?;
        }
        Ok(())
    }

    fn link(&self, ctx: &RequestContext, from: &Path, to: &Path) -> OpResult<()> {
        if self.resolve(ctx, from)?.stat.is_dir() {
            return Err(Errno::EPERM);
        }
        if self.resolve_maybe(ctx, to)?.is_some() {
            return Err(Errno::EEXIST);
        }
        self.copy_up(ctx, from)?;
        self.make_name(ctx, to, || self.upper().link(ctx, from, to))
            .map(drop)
    }

    fn link_open(&self, ctx: &RequestContext, fh: Fh, to: &Path) -> OpResult<()> {
        let h = self.handle(fh)?;
        if h.layer != UPPER {
            return Err(Errno::EXDEV);
        }
        self.make_name(ctx, to, || self.upper().link_open(ctx, h.fh, to))
            .map(drop)
    }
}
