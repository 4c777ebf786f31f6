//! Path → (parent directory fd, final name), resolved beneath the root without ever
//! following a symlink.
//!
//! The kernel's own lookup already resolved symlinks in the mount, so every
//! intermediate component FUSE sends is a real directory: following a symlink there
//! could only mean a race (a directory swapped for a symlink) or a crafted path, and
//! would escape the root. The parent is opened `O_PATH | O_DIRECTORY` with
//! `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)`, in chunks
//! shorter than `PATH_MAX` so longer paths (which the kernel accepts through FUSE)
//! work; where `openat2` is missing, component by component with `openat(O_NOFOLLOW)`.
//! The final component is left to the caller's `*at` call, which decides whether to
//! follow it (almost never).

use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::Ordering;

use crate::errno::Errno;

use super::sys::{cstring, cvt_retry, openat, owned};
use super::Passthrough;

/// Longest chunk of components handed to one `openat2`, below `PATH_MAX` with room
/// for the NUL.
const CHUNK_MAX: usize = libc::PATH_MAX as usize - 96;

/// A directory fd: the root (borrowed) or one opened for this call.
pub(super) enum DirFd<'a> {
    Root(BorrowedFd<'a>),
    Owned(OwnedFd),
}

impl AsRawFd for DirFd<'_> {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            DirFd::Root(fd) => fd.as_raw_fd(),
            DirFd::Owned(fd) => fd.as_raw_fd(),
        }
    }
}

/// Where a path's final object lives. For `/` itself: the root fd and `"."`.
pub(super) struct Resolved<'a> {
    pub dir: DirFd<'a>,
    pub name: CString,
}

impl Resolved<'_> {
    pub fn fd(&self) -> RawFd {
        self.dir.as_raw_fd()
    }
    pub fn name(&self) -> &CStr {
        &self.name
    }
}

/// `struct open_how` of openat2(2) (libc's is `non_exhaustive`).
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// The components of a path, without empty ones and `.`; `..` is refused (the kernel
/// never sends it, and it is the one way a crafted path could climb out of the root).
fn components(path: &Path) -> Result<Vec<&[u8]>, Errno> {
    let mut out = Vec::new();
    for c in path.as_os_str().as_bytes().split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => return Err(Errno::EXDEV),
            c => out.push(c),
        }
    }
    Ok(out)
}

impl Passthrough {
    /// The parent directory of `path`'s final component, and that component's name.
    pub(super) fn resolve(&self, path: &Path) -> Result<Resolved<'_>, Errno> {
        let comps = components(path)?;
        let Some((last, parents)) = comps.split_last() else {
            return Ok(Resolved {
                dir: DirFd::Root(self.root_fd()),
                name: c".".to_owned(),
            });
        };
        let name = cstring(last)?;
        let dir = self.open_dir_chain(parents)?;
        self.refuse_own_mount(&dir)?;
        Ok(Resolved { dir, name })
    }

    /// Open the final object of `path` as `O_PATH | O_NOFOLLOW` (a symlink gives an fd
    /// on the symlink itself), plus `extra` flags such as `O_DIRECTORY`.
    pub(super) fn open_final(&self, path: &Path, extra: libc::c_int) -> Result<OwnedFd, Errno> {
        let r = self.resolve(path)?;
        openat(r.fd(), r.name(), libc::O_PATH | libc::O_NOFOLLOW | extra, 0)
    }

    /// ELOOP when a directory reached lies in flu's own mount (a bind mount of it under
    /// the root, say): serving a request through it would wait on the request itself.
    fn refuse_own_mount(&self, dir: &DirFd<'_>) -> Result<(), Errno> {
        let own = self.own_dev.load(Ordering::Relaxed);
        if own == 0 || matches!(dir, DirFd::Root(_)) {
            return Ok(());
        }
        if super::sys::fstat(dir.as_raw_fd())?.st_dev == own {
            tracing::warn!("a path leads back into flu's own mount: refused (ELOOP)");
            return Err(Errno(libc::ELOOP));
        }
        Ok(())
    }

    pub(super) fn root_fd(&self) -> BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.quiet_root.get().unwrap_or(&self.root).as_fd()
    }

    /// Open the directory reached by `comps` from the root, following no symlink.
    fn open_dir_chain(&self, comps: &[&[u8]]) -> Result<DirFd<'_>, Errno> {
        if comps.is_empty() {
            return Ok(DirFd::Root(self.root_fd()));
        }
        if !self.no_openat2.load(Ordering::Relaxed) {
            match self.open_chunks(comps) {
                Err(e) if e.code() == libc::ENOSYS => {
                    self.no_openat2.store(true, Ordering::Relaxed);
                }
                r => return r,
            }
        }
        self.open_components(comps)
    }

    /// openat2 over chunks of components, each chunk relative to the previous one.
    fn open_chunks(&self, comps: &[&[u8]]) -> Result<DirFd<'_>, Errno> {
        let mut cur = DirFd::Root(self.root_fd());
        let mut buf: Vec<u8> = Vec::with_capacity(256);
        let mut i = 0;
        while i < comps.len() {
            buf.clear();
            // At least one component per chunk; an over-long one gets ENAMETOOLONG.
            while i < comps.len() && (buf.is_empty() || buf.len() + 1 + comps[i].len() <= CHUNK_MAX)
            {
                if !buf.is_empty() {
                    buf.push(b'/');
                }
                buf.extend_from_slice(comps[i]);
                i += 1;
            }
            let c = cstring(&buf)?;
            cur = DirFd::Owned(openat2_dir(cur.as_raw_fd(), &c)?);
        }
        Ok(cur)
    }

    /// The fallback: one `openat(O_NOFOLLOW | O_DIRECTORY)` per component; a symlink
    /// there fails with ENOTDIR.
    fn open_components(&self, comps: &[&[u8]]) -> Result<DirFd<'_>, Errno> {
        let mut cur = DirFd::Root(self.root_fd());
        for c in comps {
            let c = cstring(c)?;
            let fd = openat(
                cur.as_raw_fd(),
                &c,
                libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW,
                0,
            )?;
            cur = DirFd::Owned(fd);
        }
        Ok(cur)
    }
}

fn openat2_dir(dir: RawFd, rel: &CStr) -> Result<OwnedFd, Errno> {
    let how = OpenHow {
        flags: (libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC) as u64,
        mode: 0,
        resolve: libc::RESOLVE_BENEATH | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS,
    };
    let call = || {
        // SAFETY: `rel` is a NUL-terminated CStr alive for the call; `how` is a live
        // #[repr(C)] `struct open_how` passed with its true size; `dir` is the caller's
        // open directory fd.
        cvt_retry(|| unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dir,
                rel.as_ptr(),
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        })
    };
    // EAGAIN: the kernel saw a concurrent rename and would rather we retried.
    let mut r = call();
    for _ in 0..8 {
        match r {
            Err(e) if e.code() == libc::EAGAIN => r = call(),
            _ => break,
        }
    }
    owned(r? as libc::c_int)
}
