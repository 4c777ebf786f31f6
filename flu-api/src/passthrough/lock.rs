//! Locks on open files: getlk/setlk as open-file-description (OFD) locks, flock as
//! BSD locks, both on the handle's fd.
//!
//! Classic fcntl locks belong to a process, and every lock taken here would belong to
//! the daemon: callers would never conflict with each other. OFD locks belong to the
//! open file description, i.e. to the handle, so two opens conflict as two processes
//! would. The difference from the kernel: a handle shared by several processes (after
//! fork) is one owner here, and a lock is released at release, not at the owner's
//! first close. A blocking setlk blocks its worker thread until granted.

use crate::errno::Errno;
use std::path::Path;

use crate::operations::{Fh, FileLock, LockOps, OpResult, RequestContext};

use super::sys::{cvt, cvt_retry};
use super::Passthrough;

/// FUSE's "to end of file" (`OFFSET_MAX`).
const OFFSET_MAX: u64 = i64::MAX as u64;

fn to_flock(lock: &FileLock) -> Result<libc::flock, Errno> {
    let start = libc::off_t::try_from(lock.start).map_err(|_| Errno::EINVAL)?;
    let len = if lock.end >= OFFSET_MAX {
        0
    } else if lock.end < lock.start {
        return Err(Errno::EINVAL);
    } else {
        (lock.end - lock.start + 1) as libc::off_t
    };
    // SAFETY: flock is plain data; zero is valid for every field.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = lock.typ as libc::c_short;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    fl.l_start = start;
    fl.l_len = len;
    // OFD locks require l_pid 0.
    fl.l_pid = 0;
    Ok(fl)
}

fn from_flock(fl: &libc::flock) -> FileLock {
    let start = fl.l_start.max(0) as u64;
    let end = if fl.l_len == 0 {
        OFFSET_MAX
    } else {
        start.saturating_add(fl.l_len as u64 - 1)
    };
    FileLock {
        start,
        end,
        typ: fl.l_type as i32,
        // OFD locks have no pid (-1); a classic lock reports its process.
        pid: if fl.l_pid > 0 { fl.l_pid as u32 } else { 0 },
    }
}

impl LockOps for Passthrough {
    fn getlk(
        &self,
        _ctx: &RequestContext,
        _path: &Path,
        fh: Fh,
        _owner: u64,
        lock: FileLock,
    ) -> OpResult<FileLock> {
        let h = self.handle(fh)?;
        let mut fl = to_flock(&lock)?;
        // SAFETY: F_OFD_GETLK reads and fills a `struct flock`, and `fl` is a live,
        // writable one; `h` keeps the fd open.
        cvt(unsafe { libc::fcntl(h.fd(), libc::F_OFD_GETLK, &mut fl) })?;
        Ok(from_flock(&fl))
    }

    fn setlk(
        &self,
        _ctx: &RequestContext,
        _path: &Path,
        fh: Fh,
        _owner: u64,
        lock: FileLock,
        sleep: bool,
    ) -> OpResult<()> {
        let h = self.handle(fh)?;
        let fl = to_flock(&lock)?;
        let cmd = if sleep {
            libc::F_OFD_SETLKW
        } else {
            libc::F_OFD_SETLK
        };
        // SAFETY: F_OFD_SETLK(W) only reads a `struct flock`, and `fl` lives across the
        // call; `h` keeps the fd open.
        cvt_retry(|| unsafe { libc::fcntl(h.fd(), cmd, &fl) }).map(drop)
    }

    fn flock(
        &self,
        _ctx: &RequestContext,
        _path: &Path,
        fh: Fh,
        _owner: u64,
        op: i32,
    ) -> OpResult<()> {
        let h = self.handle(fh)?;
        // SAFETY: `h` keeps the fd open; flock takes only integers.
        cvt_retry(|| unsafe { libc::flock(h.fd(), op) }).map(drop)
    }
}
