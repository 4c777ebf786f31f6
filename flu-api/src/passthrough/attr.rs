//! Attributes: getattr, chmod, chown, truncate, utimens, access, statfs.
//!
//! By path these never follow a final symlink (lstat semantics, `AT_SYMLINK_NOFOLLOW`,
//! or an `O_PATH | O_NOFOLLOW` fd); with an `fh` they act on the handle's fd, so they
//! work on unlinked-but-open files.

use std::mem::MaybeUninit;
use std::os::fd::AsRawFd;
use std::path::Path;

use crate::errno::Errno;
use crate::operations::{AttrOps, Fh, OpResult, RequestContext};
use crate::stat::{Stat, StatFs};
use crate::time::TimeSet;

use super::sys::{cvt, cvt_retry, fstat, fstatat, off, proc_fd_path};
use super::Passthrough;

impl AttrOps for Passthrough {
    fn getattr(&self, _ctx: &RequestContext, path: &Path, fh: Option<Fh>) -> OpResult<Stat> {
        let st = match fh {
            Some(fh) => fstat(self.handle(fh)?.fd())?,
            None => {
                let r = self.resolve(path)?;
                fstatat(r.fd(), r.name(), libc::AT_SYMLINK_NOFOLLOW)?
            }
        };
        Ok(Stat::from(&st))
    }

    fn chmod(&self, _ctx: &RequestContext, path: &Path, mode: u32, fh: Option<Fh>) -> OpResult<()> {
        let mode = mode & 0o7777;
        if let Some(fh) = fh {
            let h = self.handle(fh)?;
            // SAFETY: `h` holds the handle, so its fd stays open for the call; fchmod
            // takes only integers.
            return cvt(unsafe { libc::fchmod(h.fd(), mode) }).map(drop);
        }
        let r = self.resolve(path)?;
        // fchmodat2 (Linux 6.6) honours AT_SYMLINK_NOFOLLOW: EOPNOTSUPP on a symlink, as
        // the kernel answers for lchmod.
        // SAFETY: `r` holds the parent fd open and `r.name()` is a NUL-terminated
        // CString it owns past the call; the other arguments are integers.
        let res = cvt(unsafe {
            libc::syscall(
                libc::SYS_fchmodat2,
                r.fd(),
                r.name().as_ptr(),
                mode,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        });
        match res {
            Err(e) if e.code() == libc::ENOSYS => {}
            r => return r.map(drop),
        }
        // Older kernels: chmod the object an O_PATH fd holds through /proc.
        let fd = super::sys::openat(r.fd(), r.name(), libc::O_PATH | libc::O_NOFOLLOW, 0)?;
        if fstat(fd.as_raw_fd())?.st_mode & libc::S_IFMT == libc::S_IFLNK {
            return Err(Errno::EOPNOTSUPP);
        }
        let p = proc_fd_path(fd.as_raw_fd());
        // SAFETY: `p` is a NUL-terminated CString alive across the call; `fd`, which
        // it names, is still open.
        cvt(unsafe { libc::chmod(p.as_ptr(), mode) }).map(drop)
    }

    fn chown(
        &self,
        _ctx: &RequestContext,
        path: &Path,
        uid: Option<u32>,
        gid: Option<u32>,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        // -1 leaves an id unchanged, as chown(2) defines it.
        let uid = uid.unwrap_or(libc::uid_t::MAX);
        let gid = gid.unwrap_or(libc::gid_t::MAX);
        if let Some(fh) = fh {
            let h = self.handle(fh)?;
            // SAFETY: `h` holds the handle, so its fd stays open for the call; fchown
            // takes only integers.
            return cvt(unsafe { libc::fchown(h.fd(), uid, gid) }).map(drop);
        }
        let r = self.resolve(path)?;
        // SAFETY: `r` holds the parent fd open and `r.name()` is a NUL-terminated
        // CString it owns past the call.
        cvt(unsafe {
            libc::fchownat(
                r.fd(),
                r.name().as_ptr(),
                uid,
                gid,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        })
        .map(drop)
    }

    /// A truncate by someone outside a setgid file's group drops the bit (`setgid`).
    fn truncate(
        &self,
        ctx: &RequestContext,
        path: &Path,
        size: u64,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        let size = off(size)?;
        if let Some(fh) = fh {
            let h = self.handle(fh)?;
            // Through the handle's /proc name, not ftruncate: the handle may be one the
            // daemon picked for a file that lost its name (any open of it, a read-only
            // one too); the kernel has already checked the caller may truncate.
            let p = proc_fd_path(h.fd());
            // SAFETY: `p` is a NUL-terminated path that outlives the call; `h` keeps the
            // fd it names open.
            cvt_retry(|| unsafe { libc::truncate(p.as_ptr(), size) })?;
            super::setgid::drop_after_change(ctx, h.fd());
            return Ok(());
        }
        // truncate(2) through /proc: no open for writing (no side effects on FIFOs or
        // devices), and the kernel's own answers (EISDIR, EINVAL for a symlink…).
        let fd = self.open_final(path, 0)?;
        let p = proc_fd_path(fd.as_raw_fd());
        // SAFETY: `p` is a NUL-terminated CString alive across the call; `fd`, which
        // it names, is still open.
        cvt_retry(|| unsafe { libc::truncate(p.as_ptr(), size) })?;
        super::setgid::drop_after_change(ctx, fd.as_raw_fd());
        Ok(())
    }

    fn utimens(
        &self,
        _ctx: &RequestContext,
        path: &Path,
        atime: TimeSet,
        mtime: TimeSet,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        let times = [atime.to_libc(), mtime.to_libc()];
        if let Some(fh) = fh {
            let h = self.handle(fh)?;
            // SAFETY: `times` is a local array of the two timespecs futimens reads; `h`
            // keeps the fd open for the call.
            return cvt(unsafe { libc::futimens(h.fd(), times.as_ptr()) }).map(drop);
        }
        let r = self.resolve(path)?;
        // SAFETY: `times` is a local array of the two timespecs utimensat reads; `r`
        // holds the parent fd open and owns the NUL-terminated name past the call.
        cvt(unsafe {
            libc::utimensat(
                r.fd(),
                r.name().as_ptr(),
                times.as_ptr(),
                libc::AT_SYMLINK_NOFOLLOW,
            )
        })
        .map(drop)
    }

    /// Checked as the caller (fsuid, fsgid, groups) when running as root: a root daemon
    /// would otherwise grant everything.
    fn access(&self, ctx: &RequestContext, path: &Path, mask: i32) -> OpResult<()> {
        let r = self.resolve(path)?;
        let _as = self.identity.act_as(ctx)?;
        // faccessat2: AT_EACCESS checks with the fs ids just switched to, not the real
        // uid; AT_SYMLINK_NOFOLLOW, because the kernel only asks about final objects.
        // SAFETY: `r` holds the parent fd open and owns the NUL-terminated name past
        // the call; the other arguments are integers.
        cvt(unsafe {
            libc::syscall(
                libc::SYS_faccessat2,
                r.fd(),
                r.name().as_ptr(),
                mask,
                libc::AT_EACCESS | libc::AT_SYMLINK_NOFOLLOW,
            )
        })
        .map(drop)
    }

    fn statfs(&self, _ctx: &RequestContext, path: &Path) -> OpResult<StatFs> {
        // The object's own filesystem (mount points inside the root may differ).
        let fd = self.open_final(path, 0)?;
        let mut s = MaybeUninit::<libc::statvfs>::uninit();
        // SAFETY: `s` is writable and sized for a statvfs; `fd` is owned here and open.
        cvt(unsafe { libc::fstatvfs(fd.as_raw_fd(), s.as_mut_ptr()) })?;
        // SAFETY: fstatvfs succeeded, so it filled the struct.
        Ok(StatFs::from(&unsafe { s.assume_init() }))
    }
}
