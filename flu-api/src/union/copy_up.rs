//! Copy-up: before anything changes a name that lives only in a lower, the union makes
//! it in the upper (its parent directories first, each with its mode, owner and
//! times), then the object itself: a file's data, a symlink's target, a device's
//! number; then owner, mode, xattrs (not overlayfs's own) and times. A directory copied
//! up stays merged with the lowers. A file opened read-only stays on its layer.

use std::ffi::OsStr;
use std::path::Path;

use super::lookup::Found;
use super::whiteout::OVERLAY_XATTRS;
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
        self.copy_object(&own, found.top(), path, &found.stat)?;
        if let Err(e) = self.copy_metadata(&own, found.top(), path, &found.stat) {
            let _ = self.remove_copy(&own, path, &found.stat);
            return Err(e);
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
            libc::S_IFREG => self.copy_data(own, from, path, perm),
            libc::S_IFLNK => {
                let target = self.layer(from).readlink(own, path)?;
                let target =
                    Path::new(<OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&target));
                self.upper().symlink(own, target, path)
            }
            _ => self.upper().mknod(own, path, st.mode, st.rdev),
        }
    }

    fn copy_data(&self, own: &RequestContext, from: usize, path: &Path, perm: u32) -> OpResult<()> {
        let src = self.layer(from);
        let dst = self.upper();
        let o = dst.create(
            own,
            path,
            libc::S_IFREG | perm,
            libc::O_WRONLY | libc::O_EXCL,
        );
        let out = match o {
            Ok(o) => Fh(o.fh),
            Err(Errno::ENOSYS) => {
                dst.mknod(own, path, libc::S_IFREG | perm, 0)?;
                Fh(dst.open(own, path, libc::O_WRONLY)?.fh)
            }
            Err(e) => return Err(e),
        };
        let copied = src.open(own, path, libc::O_RDONLY).and_then(|i| {
            let input = Fh(i.fh);
            let r = copy_handle(self, own, from, path, input, out);
            let _ = src.release(own, path, input, libc::O_RDONLY, false);
            r
        });
        let closed = dst.release(own, path, out, libc::O_WRONLY, true);
        if let Err(e) = copied.and(closed) {
            let _ = dst.unlink(own, path);
            return Err(e);
        }
        Ok(())
    }

    fn copy_metadata(
        &self,
        own: &RequestContext,
        from: usize,
        path: &Path,
        st: &Stat,
    ) -> OpResult<()> {
        let up = self.upper();
        match up.chown(own, path, Some(st.uid), Some(st.gid), None) {
            // Not root: the copy stays the mounting user's.
            Err(Errno::EPERM) => {}
            r => r?,
        }
        let is_link = st.file_type() == libc::S_IFLNK;
        if !is_link {
            up.chmod(own, path, st.mode & 0o7777, None)?;
        }
        self.copy_xattrs(own, from, path)?;
        match up.utimens(
            own,
            path,
            TimeSet::At(st.atime),
            TimeSet::At(st.mtime),
            None,
        ) {
            Err(Errno::ENOSYS) if is_link => Ok(()),
            r => r,
        }
    }

    fn copy_xattrs(&self, own: &RequestContext, from: usize, path: &Path) -> OpResult<()> {
        let src = self.layer(from);
        let names = match src.listxattr(own, path, None) {
            Ok(n) => n,
            Err(Errno::ENOSYS | Errno::EOPNOTSUPP) => return Ok(()),
            Err(e) => return Err(e),
        };
        for name in names {
            use std::os::unix::ffi::OsStrExt;
            if name.as_bytes().starts_with(OVERLAY_XATTRS) {
                continue;
            }
            let value = match src.getxattr(own, path, &name, None) {
                Ok(v) => v,
                Err(Errno::ENODATA) => continue,
                Err(e) => return Err(e),
            };
            match self.upper().setxattr(own, path, &name, &value, 0, None) {
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

/// Copy everything `input` (of layer `from`) reads into `out` (of the upper).
fn copy_handle(
    u: &Union,
    own: &RequestContext,
    from: usize,
    path: &Path,
    input: Fh,
    out: Fh,
) -> OpResult<()> {
    let mut offset = 0u64;
    loop {
        let data = u.layer(from).read(own, path, input, offset, CHUNK)?;
        if data.is_empty() {
            return Ok(());
        }
        let mut done = 0usize;
        while done < data.len() {
            let n = u
                .upper()
                .write(own, path, out, offset + done as u64, &data[done..])?
                as usize;
            if n == 0 {
                return Err(Errno::EIO);
            }
            done += n;
        }
        offset += data.len() as u64;
    }
}
