//! Thin wrappers over the raw libc calls the backend makes: errno capture, C strings,
//! `EINTR` retries, and the calls several files share (stat, opens, `/proc/self/fd`).

use std::ffi::{CStr, CString};
use std::mem::MaybeUninit;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::errno::Errno;

/// A libc return value: negative means failure, with the reason in errno.
pub(super) fn cvt<T: Copy + Default + PartialOrd>(r: T) -> Result<T, Errno> {
    if r < T::default() {
        Err(Errno::last())
    } else {
        Ok(r)
    }
}

/// Like [`cvt`], retrying while the call was interrupted by a signal.
pub(super) fn cvt_retry<T: Copy + Default + PartialOrd>(
    mut f: impl FnMut() -> T,
) -> Result<T, Errno> {
    loop {
        match cvt(f()) {
            Err(e) if e.code() == libc::EINTR => continue,
            r => return r,
        }
    }
}

/// Bytes as a C string; an embedded NUL cannot name anything.
pub(super) fn cstring(bytes: &[u8]) -> Result<CString, Errno> {
    CString::new(bytes).map_err(|_| Errno::EINVAL)
}

pub(super) fn path_cstring(path: &Path) -> Result<CString, Errno> {
    cstring(path.as_os_str().as_bytes())
}

/// Wrap a freshly returned fd.
pub(super) fn owned(fd: libc::c_int) -> Result<OwnedFd, Errno> {
    let fd = cvt(fd)?;
    // SAFETY: the kernel just gave us this fd and nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `openat` with `O_CLOEXEC` added.
pub(super) fn openat(
    dir: RawFd,
    name: &CStr,
    flags: libc::c_int,
    mode: u32,
) -> Result<OwnedFd, Errno> {
    // SAFETY: `name` is a NUL-terminated CStr borrowed for the call; the variadic mode
    // is passed as the c_uint openat reads.
    let fd = cvt_retry(|| unsafe {
        libc::openat(
            dir,
            name.as_ptr(),
            flags | libc::O_CLOEXEC,
            mode as libc::c_uint,
        )
    })?;
    owned(fd)
}

/// The root directory as an `O_PATH` fd.
pub(super) fn open_root(root: &Path) -> Result<OwnedFd, Errno> {
    let c = path_cstring(root)?;
    openat(libc::AT_FDCWD, &c, libc::O_PATH | libc::O_DIRECTORY, 0)
}

pub(super) fn fstatat(dir: RawFd, name: &CStr, flags: libc::c_int) -> Result<libc::stat, Errno> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `st` is writable and sized for a stat; `name` is a NUL-terminated CStr
    // borrowed for the call.
    cvt(unsafe { libc::fstatat(dir, name.as_ptr(), st.as_mut_ptr(), flags) })?;
    // SAFETY: fstatat succeeded, so it filled the struct.
    Ok(unsafe { st.assume_init() })
}

pub(super) fn fstat(fd: RawFd) -> Result<libc::stat, Errno> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `st` is writable and sized for a stat; a bad `fd` is only EBADF.
    cvt(unsafe { libc::fstat(fd, st.as_mut_ptr()) })?;
    // SAFETY: fstat succeeded, so it filled the struct.
    Ok(unsafe { st.assume_init() })
}

/// `/proc/self/fd/N`: the name through which path-only calls (xattrs, truncate) reach
/// the object an `O_PATH` fd holds. The magic link lands on the object itself, even a
/// symlink, and is not followed further.
pub(super) fn proc_fd_path(fd: RawFd) -> CString {
    // Digits and ASCII only: no interior NUL possible.
    CString::new(format!("/proc/self/fd/{fd}")).unwrap_or_default()
}

/// A byte offset or length as `off_t`; larger values cannot be valid file positions.
pub(super) fn off(v: u64) -> Result<libc::off_t, Errno> {
    libc::off_t::try_from(v).map_err(|_| Errno::EINVAL)
}
