//! Open files: open, create, read, write, flush, release, fsync, fallocate, lseek,
//! copy_file_range. Every call after open works on the handle's fd, so it keeps
//! working after the file is unlinked or renamed.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use crate::errno::Errno;
use crate::operations::{Fh, FileOps, OpResult, Opened, RequestContext};

use super::backing_fs::closes_quietly;
use super::handles::Handle;
use super::setgid;
use super::sys::{cvt, cvt_retry, off, openat};
use super::umask::{creation, ExactModes};
use super::Passthrough;

/// Flags the backend adds or removes on every open: `O_NOFOLLOW` because the kernel
/// already resolved the path, so a final symlink here was swapped in meanwhile (and
/// could point out of the root); `O_CREAT` belongs to `create`, and `O_TMPFILE` (which
/// would create an unnamed file in a directory) to no path-based call; `O_NOCTTY` so
/// the daemon never gains a controlling terminal.
fn open_flags(flags: i32) -> i32 {
    let tmpfile_bit = libc::O_TMPFILE & !libc::O_DIRECTORY;
    (flags & !(libc::O_CREAT | tmpfile_bit)) | libc::O_NOFOLLOW | libc::O_NOCTTY
}

impl Passthrough {
    /// `kernel_io`: whether reads and writes may go straight to the backing file.
    fn opened(&self, fd: OwnedFd, kernel_io: bool) -> Opened {
        let raw = fd.as_raw_fd();
        let keep_cache = self.page_cache.unchanged_since_last_open(raw);
        let fh = self.handles.insert(Handle::new(fd));
        Opened {
            fh,
            keep_cache,
            backing_fd: (self.options.kernel_passthrough && kernel_io).then_some(raw),
            no_flush: closes_quietly(raw),
            ..Opened::default()
        }
    }
}

/// Whether an open with `flags` may write.
fn writes(flags: i32) -> bool {
    flags & libc::O_ACCMODE != libc::O_RDONLY
}

impl FileOps for Passthrough {
    /// Writes that must drop the setgid bit (`setgid`) come through the daemon.
    fn open(&self, ctx: &RequestContext, path: &Path, flags: i32) -> OpResult<Opened> {
        let r = self.resolve(path)?;
        let fd = openat(r.fd(), r.name(), open_flags(flags), 0)?;
        if flags & libc::O_TRUNC != 0 {
            setgid::drop_after_truncating_open(ctx, fd.as_raw_fd());
        }
        let kernel_io = !(writes(flags) && setgid::needs_drop(ctx, fd.as_raw_fd()));
        Ok(self.opened(fd, kernel_io))
    }

    /// Created as the caller (`identity`); `mode` used exactly (`umask`).
    fn create(&self, ctx: &RequestContext, path: &Path, mode: u32, flags: i32) -> OpResult<Opened> {
        let r = self.resolve(path)?;
        let (mode, mask) = creation(ctx, mode);
        let fd = {
            let _as = self.identity.act_as(ctx)?;
            let _m = ExactModes::enter(mask);
            openat(
                r.fd(),
                r.name(),
                open_flags(flags) | libc::O_CREAT,
                mode & 0o7777,
            )?
        };
        Ok(self.opened(fd, true))
    }

    /// `openat(dir, ".", O_TMPFILE | flags)` as the caller: a file with no name, gone at
    /// its last close unless `link_open` names it.
    fn tmpfile(&self, ctx: &RequestContext, dir: &Path, mode: u32, flags: i32) -> OpResult<Opened> {
        let d = self.open_final(dir, libc::O_DIRECTORY)?;
        let (mode, mask) = creation(ctx, mode);
        let fd = {
            let _as = self.identity.act_as(ctx)?;
            let _m = ExactModes::enter(mask);
            openat(
                d.as_raw_fd(),
                c".",
                open_flags(flags) & !libc::O_NOFOLLOW | libc::O_TMPFILE,
                mode & 0o7777,
            )?
        };
        Ok(self.opened(fd, true))
    }

    /// One pread per chunk until `size` bytes or end of file: FUSE reads a short
    /// answer as end of file.
    fn read(
        &self,
        _ctx: &RequestContext,
        _path: &Path,
        fh: Fh,
        offset: u64,
        size: u32,
    ) -> OpResult<Vec<u8>> {
        let h = self.handle(fh)?;
        let mut buf = vec![0u8; size as usize];
        let mut done = 0usize;
        while done < buf.len() {
            let pos = off(offset.saturating_add(done as u64))?;
            let rest = &mut buf[done..];
            // SAFETY: `rest` is a live, writable slice of `buf` and pread writes at most
            // `rest.len()` bytes; `h` keeps the fd open.
            let n = cvt_retry(|| unsafe {
                libc::pread(h.fd(), rest.as_mut_ptr().cast(), rest.len(), pos)
            });
            match n {
                Ok(0) => break,
                Ok(n) => done += n as usize,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            }
        }
        buf.truncate(done);
        Ok(buf)
    }

    /// pwrite until all is written; a failure after some bytes reports those bytes.
    /// An `O_APPEND` handle appends wherever the offset says (pwrite on Linux).
    fn write(
        &self,
        ctx: &RequestContext,
        _path: &Path,
        fh: Fh,
        offset: u64,
        data: &[u8],
    ) -> OpResult<u32> {
        let h = self.handle(fh)?;
        let mut done = 0usize;
        while done < data.len() {
            let pos = off(offset.saturating_add(done as u64))?;
            let rest = &data[done..];
            // SAFETY: `rest` is a live slice of `data` and pwrite reads at most
            // `rest.len()` bytes; `h` keeps the fd open.
            let n = cvt_retry(|| unsafe {
                libc::pwrite(h.fd(), rest.as_ptr().cast(), rest.len(), pos)
            });
            match n {
                Ok(0) => break,
                Ok(n) => done += n as usize,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            }
        }
        setgid::drop_after_change(ctx, h.fd());
        u32::try_from(done).map_err(|_| Errno::EINVAL)
    }

    /// close(dup(fd)), as libfuse's passthrough does: what a close would flush (NFS
    /// write-back, errors the filesystem reports at close) happens now.
    fn flush(&self, _ctx: &RequestContext, _path: &Path, fh: Fh, _lock_owner: u64) -> OpResult<()> {
        let h = self.handle(fh)?;
        // SAFETY: F_DUPFD_CLOEXEC takes an int argument; `h` keeps the fd open.
        let dup = cvt(unsafe { libc::fcntl(h.fd(), libc::F_DUPFD_CLOEXEC, 0) })?;
        // SAFETY: `dup` was just created here, nothing else owns it, and it is not used
        // after this close.
        cvt(unsafe { libc::close(dup) }).map(drop)
    }

    fn release(
        &self,
        _ctx: &RequestContext,
        _path: &Path,
        fh: Fh,
        _flags: i32,
        _flush: bool,
    ) -> OpResult<()> {
        // The fd closes when the last in-flight call lets go of the handle.
        self.handles.remove(fh.0).map(drop).ok_or(Errno::EBADF)
    }

    fn fsync(&self, _ctx: &RequestContext, _path: &Path, fh: Fh, datasync: bool) -> OpResult<()> {
        self.sync_handle(fh, datasync)
    }

    /// Any mode the filesystem below supports (keep size, punch hole, zero range,
    /// collapse, insert, unshare).
    fn fallocate(
        &self,
        ctx: &RequestContext,
        _path: &Path,
        fh: Fh,
        mode: i32,
        offset: u64,
        length: u64,
    ) -> OpResult<()> {
        let h = self.handle(fh)?;
        let (o, l) = (off(offset)?, off(length)?);
        // SAFETY: `h` keeps the fd open; fallocate takes only integers.
        cvt_retry(|| unsafe { libc::fallocate(h.fd(), mode, o, l) })?;
        setgid::drop_after_change(ctx, h.fd());
        Ok(())
    }

    /// SEEK_DATA / SEEK_HOLE (the kernel handles the other whences itself). The fd's
    /// own position is never used for I/O (pread/pwrite), so moving it is harmless.
    fn lseek(
        &self,
        _ctx: &RequestContext,
        _path: &Path,
        fh: Fh,
        offset: i64,
        whence: i32,
    ) -> OpResult<i64> {
        let h = self.handle(fh)?;
        // SAFETY: `h` keeps the fd open; lseek takes only integers.
        cvt(unsafe { libc::lseek(h.fd(), offset, whence) })
    }

    fn copy_file_range(
        &self,
        _ctx: &RequestContext,
        _path_in: &Path,
        fh_in: Fh,
        offset_in: u64,
        _path_out: &Path,
        fh_out: Fh,
        offset_out: u64,
        len: u64,
        flags: u32,
    ) -> OpResult<u64> {
        let a = self.handle(fh_in)?;
        let b = self.handle(fh_out)?;
        let mut oi = off(offset_in)?;
        let mut oo = off(offset_out)?;
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        // SAFETY: `oi` and `oo` are live, writable off_t locals the kernel updates; `a`
        // and `b` keep both fds open.
        let n = cvt_retry(|| unsafe {
            libc::copy_file_range(a.fd(), &mut oi, b.fd(), &mut oo, len, flags)
        })?;
        Ok(n as u64)
    }
}
