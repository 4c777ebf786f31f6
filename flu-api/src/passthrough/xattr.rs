//! Extended attributes: set, get (whole value), list (all names), remove.
//!
//! There is no `*at` form before Linux 6.13, so the object is opened `O_PATH |
//! O_NOFOLLOW` and reached through `/proc/self/fd/N` (libfuse's passthrough_hp does the
//! same): the magic link lands on the object itself, even a symlink, so the answers are
//! the kernel's l*xattr answers (EPERM for `user.*` on a symlink, ENODATA to read one).
//! The daemon does the size-probe protocol; here values and lists come back whole.
//! POSIX ACLs are the `system.posix_acl_*` xattrs of the filesystem below, which
//! applies their effects on the mode bits itself.

use std::ffi::{CString, OsStr, OsString};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

use crate::errno::Errno;
use crate::operations::{OpResult, RequestContext, XattrOps};

use super::sys::{cstring, cvt, proc_fd_path};
use super::Passthrough;

/// The O_PATH fd (kept open while its /proc name is used) and that name.
struct Target {
    _fd: OwnedFd,
    proc: CString,
}

impl Passthrough {
    fn xattr_target(&self, path: &Path) -> Result<Target, Errno> {
        let fd = self.open_final(path, 0)?;
        let proc = proc_fd_path(fd.as_raw_fd());
        Ok(Target { _fd: fd, proc })
    }
}

impl XattrOps for Passthrough {
    /// An access ACL is set as the caller (`identity`): the filesystem below then
    /// drops the setgid bit when the caller is not in the file's group, as it does for
    /// its own callers (the kernel checked ownership already).
    fn setxattr(
        &self,
        ctx: &RequestContext,
        path: &Path,
        name: &OsStr,
        value: &[u8],
        flags: i32,
    ) -> OpResult<()> {
        let acl = name.as_bytes() == b"system.posix_acl_access";
        let name = cstring(name.as_bytes())?;
        let t = self.xattr_target(path)?;
        let _as = if acl {
            self.identity.act_as(ctx)?
        } else {
            None
        };
        // SAFETY: `t.proc` and `name` are NUL-terminated CStrings alive across the call
        // (and `t` keeps the fd they name open); `value` is a live slice of
        // `value.len()` bytes.
        cvt(unsafe {
            libc::setxattr(
                t.proc.as_ptr(),
                name.as_ptr(),
                value.as_ptr().cast(),
                value.len(),
                flags,
            )
        })
        .map(drop)
    }

    fn getxattr(&self, _ctx: &RequestContext, path: &Path, name: &OsStr) -> OpResult<Vec<u8>> {
        let name = cstring(name.as_bytes())?;
        let t = self.xattr_target(path)?;
        // SAFETY: `buf` is a live, writable slice from `read_sized` and getxattr writes
        // at most `buf.len()` bytes; `t.proc` and `name` are NUL-terminated CStrings
        // that outlive the call.
        read_sized(|buf: &mut [u8]| unsafe {
            libc::getxattr(
                t.proc.as_ptr(),
                name.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        })
    }

    fn listxattr(&self, _ctx: &RequestContext, path: &Path) -> OpResult<Vec<OsString>> {
        let t = self.xattr_target(path)?;
        // SAFETY: `buf` is a live, writable slice from `read_sized` and listxattr writes
        // at most `buf.len()` bytes; `t.proc` is a NUL-terminated CString that outlives
        // the call.
        let list = read_sized(|buf: &mut [u8]| unsafe {
            libc::listxattr(t.proc.as_ptr(), buf.as_mut_ptr().cast(), buf.len())
        })?;
        Ok(list
            .split(|&b| b == 0)
            .filter(|n| !n.is_empty())
            .map(|n| OsString::from_vec(n.to_vec()))
            .collect())
    }

    fn removexattr(&self, _ctx: &RequestContext, path: &Path, name: &OsStr) -> OpResult<()> {
        let name = cstring(name.as_bytes())?;
        let t = self.xattr_target(path)?;
        // SAFETY: `t.proc` and `name` are NUL-terminated CStrings alive across the call.
        cvt(unsafe { libc::removexattr(t.proc.as_ptr(), name.as_ptr()) }).map(drop)
    }
}

/// Ask for the size, then the bytes; ERANGE means the value grew meanwhile: again.
fn read_sized(mut call: impl FnMut(&mut [u8]) -> isize) -> Result<Vec<u8>, Errno> {
    loop {
        let size = cvt(call(&mut []))? as usize;
        let mut buf = vec![0u8; size];
        match cvt(call(&mut buf)) {
            Ok(n) => {
                buf.truncate(n as usize);
                return Ok(buf);
            }
            Err(e) if e.code() == libc::ERANGE => continue,
            Err(e) => return Err(e),
        }
    }
}
