//! Copy-up: before anything changes a name that lives only in a lower, the union makes
//! it in the upper (its parent directories first, each with its mode, owner and
//! times), then the object itself: a file's data, a symlink's target, a device's
//! number; then owner, mode, xattrs (not overlayfs's own marks) and times. A directory copied
//! up stays merged with the lowers. A file opened read-only stays on its layer.
//!
//! A file is copied under a private name beside its place (`.wh..wh.copy.N`, never
//! shown) and renamed there once complete, so nobody reads a half-made copy; an upper
//! that cannot rename gets the copy in place.

use std::path::Path;

use super::lookup::Found;
use super::whiteout::OVERLAY_XATTRS;
use super::xattrs::ESCAPED_XATTRS;
use super::{own_context, Union, UPPER};
use crate::errno::Errno;
use crate::operations::{Fh, OpResult, RequestContext};
use crate::stat::Stat;
use crate::time::TimeSet;

/// How much data one read of a copy moves.
const CHUNK: u32 = 128 * 1024;

impl Union {
    /// Make sure `path` is in the upper; answers where it lives then.
    pub(super) fn copy_up(&self, ctx: &RequestContext, path: &Path) -> OpResult<Found> {
        let found = self.resolve(ctx, path)?;
        if found.in_upper() {
            return Ok(found);
        }
        // One copy at a time: two writers of one lower file make one copy.
        let _one = self.copying.lock().unwrap_or_else(|p| p.into_inner());
        self.copy_up_locked(ctx, path)
    }

    fn copy_up_locked(&self, ctx: &RequestContext, path: &Path) -> OpResult<Found> {
        let found = self.resolve(ctx, path)?;
        if found.in_upper() {
            return Ok(found);
        }
        if let Some(parent) = path.parent() {
            self.copy_up_locked(ctx, parent)?;
        }
        let own = own_context(ctx);
        if found.stat.file_type() == libc::S_IFREG {
            self.copy_file(&own, found.top(), path, &found.stat)?;
        } else {
            self.copy_object(&own, found.top(), path, &found.stat)?;
            if let Err(e) = self.copy_metadata(&own, found.top(), path, path, &found.stat) {
                let _ = self.remove_copy(&own, path, &found.stat);
                return Err(e);
            }
        }
        let mut layers = vec![UPPER];
        if found.stat.is_dir() {
            layers.extend(found.layers.iter().copied());
        }
        let mut stat = self.upper().getattr(&own, path, None)?;
        if layers.len() > 1 {
            stat.nlink = 1;
        }
        Ok(Found { layers, stat })
    }

    /// Make sure the parent directory of `path` is in the upper.
    pub(super) fn copy_up_parent(&self, ctx: &RequestContext, path: &Path) -> OpResult<()> {
        match path.parent() {
            Some(parent) => self.copy_up(ctx, parent).map(drop),
            None => Ok(()),
        }
    }

    /// A regular file: under a private name, then renamed into place.
    fn copy_file(&self, own: &RequestContext, from: usize, path: &Path, st: &Stat) -> OpResult<()> {
        let temp = self.private_beside(path, "copy")?;
        let up = self.upper();
        let made = self
            .copy_data(own, from, path, &temp, st.mode & 0o7777)
            .and_then(|()| self.copy_metadata(own, from, path, &temp, st));
        if let Err(e) = made {
            let _ = up.unlink(own, &temp);
            return Err(e);
        }
        match up.rename(own, &temp, path, libc::RENAME_NOREPLACE) {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = up.unlink(own, &temp);
                if e != Errno::ENOSYS {
                    return Err(e);
                }
                // An upper without rename: in place.
                self.copy_data(own, from, path, path, st.mode & 0o7777)?;
                self.copy_metadata(own, from, path, path, st)
                    .inspect_err(|_| {
                        let _ = up.unlink(own, path);
                    })
            }
        }
    }

    /// Anything but a regular file, at its place.
    fn copy_object(
        &self,
        own: &RequestContext,
        from: usize,
        path: &Path,
        st: &Stat,
    ) -> OpResult<()> {
        let perm = st.mode & 0o7777;
        match st.file_type() {
            libc::S_IFDIR => self.upper().mkdir(own, path, perm),
            libc::S_IFLNK => {
                use std::os::unix::ffi::OsStrExt;
                let target = self.layer(from).readlink(own, path)?;
                let target = Path::new(std::ffi::OsStr::from_bytes(&target));
                self.upper().symlink(own, target, path)
            }
            _ => self.upper().mknod(own, path, st.mode, st.rdev),
        }
    }

    /// The data of `src` (of layer `from`) into the new upper file `dst`.
    fn copy_data(
        &self,
        own: &RequestContext,
        from: usize,
        src: &Path,
        dst: &Path,
        perm: u32,
    ) -> OpResult<()> {
        let (input, output) = (self.layer(from), self.upper());
        let mode = libc::S_IFREG | perm;
        let out = match output.create(own, dst, mode, libc::O_WRONLY | libc::O_EXCL) {
            Ok(o) => Fh(o.fh),
            Err(Errno::ENOSYS) => {
                output.mknod(own, dst, mode, 0)?;
                Fh(output.open(own, dst, libc::O_WRONLY)?.fh)
            }
            Err(e) => return Err(e),
        };
        let copied = input.open(own, src, libc::O_RDONLY).and_then(|i| {
            let fh = Fh(i.fh);
            let r = copy_handle(self, own, from, (src, fh), (dst, out));
            let _ = input.release(own, src, fh, libc::O_RDONLY, false);
            r
        });
        let closed = output.release(own, dst, out, libc::O_WRONLY, true);
        if let Err(e) = copied.and(closed) {
            let _ = output.unlink(own, dst);
            return Err(e);
        }
        Ok(())
    }

    /// Owner, mode, xattrs and times of `src` (of layer `from`) onto upper `dst`.
    fn copy_metadata(
        &self,
        own: &RequestContext,
        from: usize,
        src: &Path,
        dst: &Path,
        st: &Stat,
    ) -> OpResult<()> {
        let up = self.upper();
        match up.chown(own, dst, Some(st.uid), Some(st.gid), None) {
            // Not root: the copy stays the mounting user's.
            Err(Errno::EPERM) => {}
            r => r?,
        }
        let is_link = st.file_type() == libc::S_IFLNK;
        if !is_link {
            up.chmod(own, dst, st.mode & 0o7777, None)?;
        }
        self.copy_xattrs(own, from, src, dst)?;
        let (atime, mtime) = (TimeSet::At(st.atime), TimeSet::At(st.mtime));
        match up.utimens(own, dst, atime, mtime, None) {
            Err(Errno::ENOSYS) if is_link => Ok(()),
            r => r,
        }
    }

    fn copy_xattrs(
        &self,
        own: &RequestContext,
        from: usize,
        src: &Path,
        dst: &Path,
    ) -> OpResult<()> {
        use std::os::unix::ffi::OsStrExt;
        let input = self.layer(from);
        let names = match input.listxattr(own, src, None) {
            Ok(n) => n,
            Err(Errno::ENOSYS | Errno::EOPNOTSUPP) => return Ok(()),
            Err(e) => return Err(e),
        };
        for name in names {
            // overlayfs's own marks stay behind; a user's escaped names go along.
            let b = name.as_bytes();
            if b.starts_with(OVERLAY_XATTRS) && !b.starts_with(ESCAPED_XATTRS) {
                continue;
            }
            let value = match input.getxattr(own, src, &name, None) {
                Ok(v) => v,
                Err(Errno::ENODATA) => continue,
                Err(e) => return Err(e),
            };
            match self.upper().setxattr(own, dst, &name, &value, 0, None) {
                // What the upper cannot hold (as overlayfs, for what it may skip).
                Err(Errno::EOPNOTSUPP | Errno::ENOSYS | Errno::EPERM) => {}
                r => r?,
            }
        }
        Ok(())
    }

    fn remove_copy(&self, own: &RequestContext, path: &Path, st: &Stat) -> OpResult<()> {
        if st.is_dir() {
            self.upper().rmdir(own, path)
        } else {
            self.upper().unlink(own, path)
        }
    }
}

/// Copy everything `input` (open on layer `from`) reads into `out` (open on the upper).
fn copy_handle(
    u: &Union,
    own: &RequestContext,
    from: usize,
    (src, input): (&Path, Fh),
    (dst, out): (&Path, Fh),
) -> OpResult<()> {
    let mut offset = 0u64;
    loop {
        let data = u.layer(from).read(own, src, input, offset, CHUNK)?;
        if data.is_empty() {
            return Ok(());
        }
        let mut done = 0usize;
        while done < data.len() {
            let at = offset + done as u64;
            let n = u.upper().write(own, dst, out, at, &data[done..])? as usize;
            if n == 0 {
                return Err(Errno::EIO);
            }
            done += n;
        }
        offset += data.len() as u64;
    }
}
