//! Names in directories: mknod, mkdir, symlink (created as the caller, see `identity`),
//! unlink, rmdir, rename (with `RENAME_NOREPLACE`/`RENAME_EXCHANGE` via renameat2),
//! link and readlink. All are `*at` calls on the resolved parent fd; none follows a
//! final symlink. Export keys are the backing file handles (`export`).

use std::path::{Path, PathBuf};

use crate::operations::{Fh, NameOps, OpResult, RequestContext};

use super::sys::{cvt, path_cstring};
use super::umask::{creation, ExactModes};
use super::Passthrough;

impl NameOps for Passthrough {
    /// `mode` is used exactly: the caller's umask is already applied, so neither it nor
    /// the daemon's is applied again (on a mount with ACLs, see `umask::creation`).
    fn mknod(&self, ctx: &RequestContext, path: &Path, mode: u32, rdev: u64) -> OpResult<()> {
        let r = self.resolve(path)?;
        let (mode, mask) = creation(ctx, mode);
        let _as = self.identity.act_as(ctx)?;
        let _m = ExactModes::enter(mask);
        // SAFETY: `r` holds the parent fd open and owns the NUL-terminated name past
        // the call.
        cvt(unsafe { libc::mknodat(r.fd(), r.name().as_ptr(), mode, rdev) }).map(drop)
    }

    fn mkdir(&self, ctx: &RequestContext, path: &Path, mode: u32) -> OpResult<()> {
        let r = self.resolve(path)?;
        let (mode, mask) = creation(ctx, mode);
        let _as = self.identity.act_as(ctx)?;
        let _m = ExactModes::enter(mask);
        // SAFETY: `r` holds the parent fd open and owns the NUL-terminated name past
        // the call.
        cvt(unsafe { libc::mkdirat(r.fd(), r.name().as_ptr(), mode) }).map(drop)
    }

    fn symlink(&self, ctx: &RequestContext, target: &Path, path: &Path) -> OpResult<()> {
        // The target is stored as given: bytes the kernel never interprets here.
        let target = path_cstring(target)?;
        let r = self.resolve(path)?;
        let _as = self.identity.act_as(ctx)?;
        // SAFETY: `target` is a NUL-terminated CString alive across the call; `r` holds
        // the parent fd open and owns the NUL-terminated name.
        cvt(unsafe { libc::symlinkat(target.as_ptr(), r.fd(), r.name().as_ptr()) }).map(drop)
    }

    fn unlink(&self, _ctx: &RequestContext, path: &Path) -> OpResult<()> {
        let r = self.resolve(path)?;
        // SAFETY: `r` holds the parent fd open and owns the NUL-terminated name past
        // the call.
        cvt(unsafe { libc::unlinkat(r.fd(), r.name().as_ptr(), 0) }).map(drop)
    }

    fn rmdir(&self, _ctx: &RequestContext, path: &Path) -> OpResult<()> {
        let r = self.resolve(path)?;
        // SAFETY: `r` holds the parent fd open and owns the NUL-terminated name past
        // the call.
        cvt(unsafe { libc::unlinkat(r.fd(), r.name().as_ptr(), libc::AT_REMOVEDIR) }).map(drop)
    }

    fn rename(&self, _ctx: &RequestContext, from: &Path, to: &Path, flags: u32) -> OpResult<()> {
        let a = self.resolve(from)?;
        let b = self.resolve(to)?;
        // The raw syscall: every flag the kernel knows passes through, and the kernel
        // decides which the filesystem below supports.
        // SAFETY: `a` and `b` hold both parent fds open and own their NUL-terminated
        // names past the call; `flags` is the unsigned int renameat2(2) takes.
        cvt(unsafe {
            libc::syscall(
                libc::SYS_renameat2,
                a.fd(),
                a.name().as_ptr(),
                b.fd(),
                b.name().as_ptr(),
                flags,
            )
        })
        .map(drop)
    }

    /// A new name for the same inode: no new object, so no identity switch.
    fn link(&self, _ctx: &RequestContext, from: &Path, to: &Path) -> OpResult<()> {
        let a = self.resolve(from)?;
        let b = self.resolve(to)?;
        // flags 0: a symlink `from` gets a hard link to the symlink itself.
        // SAFETY: `a` and `b` hold both parent fds open and own their NUL-terminated
        // names past the call.
        cvt(unsafe { libc::linkat(a.fd(), a.name().as_ptr(), b.fd(), b.name().as_ptr(), 0) })
            .map(drop)
    }

    /// linkat of `/proc/self/fd/N` with AT_SYMLINK_FOLLOW: the open file itself gets
    /// the name (as AT_EMPTY_PATH would, without needing CAP_DAC_READ_SEARCH). The
    /// filesystem below refuses a file that was unlinked (ENOENT), as it does for its
    /// own callers; an O_TMPFILE file it takes unless it was made with O_EXCL.
    fn link_open(&self, _ctx: &RequestContext, fh: Fh, to: &Path) -> OpResult<()> {
        let h = self.handle(fh)?;
        let b = self.resolve(to)?;
        let proc = super::sys::proc_fd_path(h.fd());
        // SAFETY: `proc` and `b`'s name are NUL-terminated and live across the call; `h`
        // keeps the fd `proc` names open and `b` the parent fd.
        cvt(unsafe {
            libc::linkat(
                libc::AT_FDCWD,
                proc.as_ptr(),
                b.fd(),
                b.name().as_ptr(),
                libc::AT_SYMLINK_FOLLOW,
            )
        })
        .map(drop)
    }

    fn readlink(&self, _ctx: &RequestContext, path: &Path) -> OpResult<Vec<u8>> {
        let r = self.resolve(path)?;
        let mut buf = vec![0u8; libc::PATH_MAX as usize];
        loop {
            // SAFETY: `buf` is a live, writable buffer and readlinkat writes at most
            // `buf.len()` bytes; `r` holds the parent fd and owns the name.
            let n = cvt(unsafe {
                libc::readlinkat(
                    r.fd(),
                    r.name().as_ptr(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                )
            })? as usize;
            // A full buffer may mean a cut target: grow and ask again.
            if n < buf.len() {
                buf.truncate(n);
                return Ok(buf);
            }
            let len = buf.len() * 2;
            buf.resize(len, 0);
        }
    }

    fn export_key(&self, path: &Path) -> OpResult<Vec<u8>> {
        self.handle_key(path)
    }

    fn export_path(&self, key: &[u8]) -> OpResult<PathBuf> {
        self.key_path(key)
    }

    fn export_generation(&self, path: &Path) -> OpResult<u32> {
        self.handle_generation(path)
    }

    fn export_by_number(&self, ino: u64) -> OpResult<(PathBuf, u32)> {
        self.number_path(ino)
    }
}
