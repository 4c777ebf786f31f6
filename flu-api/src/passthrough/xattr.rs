//! Extended attributes: set, get (whole value), list (all names), remove.
//!
//! By path there is no `*at` form before Linux 6.13, so the object is opened `O_PATH |
//! O_NOFOLLOW` and reached through `/proc/self/fd/N` (libfuse's passthrough_hp does the
//! same): the magic link lands on the object itself, even a symlink, so the answers are
//! the kernel's l*xattr answers (EPERM for `user.*` on a symlink, ENODATA to read one).
//! With an `fh` (a node whose name was removed or replaced while open) the calls act on
//! the handle's fd: `f*xattr`, or `/proc/self/fd/N` when that fd is an `O_PATH` one
//! (which the f* calls refuse).
//! The daemon does the size-probe protocol; here values and lists come back whole.
//! POSIX ACLs are the `system.posix_acl_*` xattrs of the filesystem below, which
//! applies their effects on the mode bits itself.

use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;
use std::sync::Arc;

use crate::errno::Errno;
use crate::operations::{Fh, OpResult, RequestContext, XattrOps};

use super::handles::Handle;
use super::sys::{cstring, cvt, proc_fd_path};
use super::Passthrough;

/// What keeps open the fd a `/proc/self/fd/N` name refers to.
enum Holder {
    Own { _fd: OwnedFd },
    Handle { _h: Arc<Handle> },
}

/// The object an xattr call acts on.
enum Target {
    /// An open file or directory: the f* calls on its fd.
    Fd(Arc<Handle>),
    /// An object reached by the name of an fd `_holder` keeps open.
    Proc { proc: CString, _holder: Holder },
}

impl Passthrough {
    fn xattr_target(&self, path: &Path, fh: Option<Fh>) -> Result<Target, Errno> {
        if let Some(fh) = fh {
            let h = self.handle(fh)?;
            if is_o_path(h.fd())? {
                let proc = proc_fd_path(h.fd());
                return Ok(Target::Proc {
                    proc,
                    _holder: Holder::Handle { _h: h },
                });
            }
            return Ok(Target::Fd(h));
        }
        let fd = self.open_final(path, 0)?;
        let proc = proc_fd_path(fd.as_raw_fd());
        Ok(Target::Proc {
            proc,
            _holder: Holder::Own { _fd: fd },
        })
    }
}

/// Whether `fd` was opened `O_PATH`.
fn is_o_path(fd: RawFd) -> Result<bool, Errno> {
    // SAFETY: F_GETFL takes no argument; a bad fd is only EBADF.
    let flags = cvt(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    Ok(flags & libc::O_PATH != 0)
}

impl Target {
    fn set(&self, name: &CStr, value: &[u8], flags: i32) -> Result<(), Errno> {
        let (v, len) = (value.as_ptr().cast(), value.len());
        let rc = match self {
            // SAFETY: `name` is a NUL-terminated C string alive across the call, `self`
            // holds the handle so its fd stays open, `value` is live for `len` bytes.
            Target::Fd(h) => unsafe { libc::fsetxattr(h.fd(), name.as_ptr(), v, len, flags) },
            // SAFETY: `proc` and `name` are NUL-terminated C strings alive across the
            // call, `self` keeps the fd `proc` names open, `value` is live for `len` bytes.
            Target::Proc { proc, .. } => unsafe {
                libc::setxattr(proc.as_ptr(), name.as_ptr(), v, len, flags)
            },
        };
        cvt(rc).map(drop)
    }

    /// One getxattr call into `buf` (empty: ask for the size).
    fn get(&self, name: &CStr, buf: &mut [u8]) -> isize {
        let (b, len) = (buf.as_mut_ptr().cast(), buf.len());
        match self {
            // SAFETY: `buf` is live and writable for `len` bytes, the most the call
            // writes; `name` is a NUL-terminated C string; `self` keeps the fd open.
            Target::Fd(h) => unsafe { libc::fgetxattr(h.fd(), name.as_ptr(), b, len) },
            // SAFETY: as above, and `proc` is a NUL-terminated C string naming an fd
            // `self` keeps open.
            Target::Proc { proc, .. } => unsafe {
                libc::getxattr(proc.as_ptr(), name.as_ptr(), b, len)
            },
        }
    }

    /// One listxattr call into `buf` (empty: ask for the size).
    fn list(&self, buf: &mut [u8]) -> isize {
        let (b, len) = (buf.as_mut_ptr().cast(), buf.len());
        match self {
            // SAFETY: `buf` is live and writable for `len` bytes, the most the call
            // writes; `self` keeps the fd open.
            Target::Fd(h) => unsafe { libc::flistxattr(h.fd(), b, len) },
            // SAFETY: as above, and `proc` is a NUL-terminated C string naming an fd
            // `self` keeps open.
            Target::Proc { proc, .. } => unsafe { libc::listxattr(proc.as_ptr(), b, len) },
        }
    }

    fn remove(&self, name: &CStr) -> Result<(), Errno> {
        let rc = match self {
            // SAFETY: `name` is a NUL-terminated C string alive across the call; `self`
            // keeps the fd open.
            Target::Fd(h) => unsafe { libc::fremovexattr(h.fd(), name.as_ptr()) },
            // SAFETY: `proc` and `name` are NUL-terminated C strings alive across the
            // call; `self` keeps the fd `proc` names open.
            Target::Proc { proc, .. } => unsafe { libc::removexattr(proc.as_ptr(), name.as_ptr()) },
        };
        cvt(rc).map(drop)
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
        fh: Option<Fh>,
    ) -> OpResult<()> {
        let acl = name.as_bytes() == b"system.posix_acl_access";
        let name = cstring(name.as_bytes())?;
        let t = self.xattr_target(path, fh)?;
        let _as = if acl {
            self.identity.act_as(ctx)?
        } else {
            None
        };
        t.set(&name, value, flags)
    }

    fn getxattr(
        &self,
        _ctx: &RequestContext,
        path: &Path,
        name: &OsStr,
        fh: Option<Fh>,
    ) -> OpResult<Vec<u8>> {
        let name = cstring(name.as_bytes())?;
        let t = self.xattr_target(path, fh)?;
        read_sized(|buf| t.get(&name, buf))
    }

    fn listxattr(
        &self,
        _ctx: &RequestContext,
        path: &Path,
        fh: Option<Fh>,
    ) -> OpResult<Vec<OsString>> {
        let t = self.xattr_target(path, fh)?;
        let list = read_sized(|buf| t.list(buf))?;
        Ok(list
            .split(|&b| b == 0)
            .filter(|n| !n.is_empty())
            .map(|n| OsString::from_vec(n.to_vec()))
            .collect())
    }

    fn removexattr(
        &self,
        _ctx: &RequestContext,
        path: &Path,
        name: &OsStr,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        let name = cstring(name.as_bytes())?;
        self.xattr_target(path, fh)?.remove(&name)
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
