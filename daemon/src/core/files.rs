//! Open files: open/create (with the mknod + open fallback), read, write, flush,
//! release, fsync, and the handle-based range and lock operations. Results the kernel
//! must not see out of range (more bytes than asked, more written than given) are
//! clamped here, once, whatever the backend.

use std::ffi::OsStr;
use std::path::Path;
use std::sync::atomic::Ordering;

use flu_api::{Errno, Fh, FileLock, Op, OpResult, Opened, RequestContext};

use super::{At, Entry, FsCore, Made, OpenFile, OpenReply};

impl FsCore {
    fn opened(&self, nodeid: u64, o: Opened) -> OpenReply {
        OpenReply {
            fh: self.files.insert(OpenFile {
                nodeid,
                fh: Fh(o.fh),
            }),
            direct_io: o.direct_io || self.config.direct_io,
            keep_cache: o.keep_cache || self.config.kernel_cache,
            nonseekable: o.nonseekable,
            backing_fd: o.backing_fd,
            // POSIX locks served by the filesystem are released by FLUSH: keep it then.
            no_flush: o.no_flush && !self.config.posix_locks,
            cache_dir: false,
        }
    }

    pub fn open(&self, ctx: &RequestContext, nodeid: u64, flags: i32) -> OpResult<OpenReply> {
        let args = || format!("flags={flags:#o}");
        self.on(Op::Open, At::Node(nodeid), args, |path| {
            Ok(self.opened(nodeid, self.ops.open(ctx, path, flags)?))
        })
    }

    /// Create and open a regular file. When the implementation has no create (ENOSYS),
    /// make it with mknod and open it, and remember not to ask again.
    pub fn create(
        &self,
        ctx: &RequestContext,
        parent: u64,
        name: &OsStr,
        mode: u32,
        flags: i32,
    ) -> OpResult<(Entry, OpenReply)> {
        let args = || format!("mode={mode:o} flags={flags:#o}");
        self.on(Op::Create, At::Child(parent, name), args, |path| {
            let mode = libc::S_IFREG | (mode & !libc::S_IFMT);
            let opened = self.create_or_mknod(ctx, path, mode, flags)?;
            match self.register(ctx, parent, name, path, Some(Fh(opened.fh)), Made::Here) {
                Ok(entry) => Ok((entry, self.opened(entry.nodeid, opened))),
                Err(e) => {
                    // The kernel will never release a handle it did not get.
                    let _ = self.ops.release(ctx, path, Fh(opened.fh), flags, false);
                    Err(e)
                }
            }
        })
    }

    /// A file with no name in directory `parent` (`open(dir, O_TMPFILE)`): opened by
    /// the implementation, registered as a node no path reaches.
    pub fn tmpfile(
        &self,
        ctx: &RequestContext,
        parent: u64,
        mode: u32,
        flags: i32,
    ) -> OpResult<(Entry, OpenReply)> {
        let args = || format!("mode={mode:o} flags={flags:#o}");
        self.on(Op::Tmpfile, At::Node(parent), args, |dir| {
            let mode = libc::S_IFREG | (mode & !libc::S_IFMT);
            let opened = self.ops.tmpfile(ctx, dir, mode, flags)?;
            match self.ops.getattr(ctx, dir, Some(Fh(opened.fh))) {
                Ok(stat) => {
                    let nodeid = self.nodes.unnamed(dir, &stat);
                    let generation = self.nodes.generation(nodeid);
                    let entry = Entry {
                        nodeid,
                        generation,
                        stat,
                    };
                    Ok((entry, self.opened(nodeid, opened)))
                }
                Err(e) => {
                    let _ = self.ops.release(ctx, dir, Fh(opened.fh), flags, false);
                    Err(e)
                }
            }
        })
    }

    fn create_or_mknod(
        &self,
        ctx: &RequestContext,
        path: &Path,
        mode: u32,
        flags: i32,
    ) -> OpResult<Opened> {
        if !self.no_create.load(Ordering::Relaxed) {
            match self.ops.create(ctx, path, mode, flags) {
                Err(Errno::ENOSYS) => self.no_create.store(true, Ordering::Relaxed),
                other => return other,
            }
        }
        self.ops.mknod(ctx, path, mode, 0)?;
        // The file is new: creating and truncating flags mean nothing to open.
        let open_flags = flags & !(libc::O_CREAT | libc::O_EXCL | libc::O_NOCTTY | libc::O_TRUNC);
        self.ops.open(ctx, path, open_flags)
    }

    pub fn read(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        offset: u64,
        size: u32,
    ) -> OpResult<Vec<u8>> {
        let args = || format!("fh={fh} offset={offset} size={size}");
        self.on(Op::Read, At::Node(nodeid), args, |path| {
            let mut data = self.ops.read(ctx, path, self.file_fh(fh)?, offset, size)?;
            // More than asked would corrupt the kernel's page cache bookkeeping.
            data.truncate(size as usize);
            Ok(data)
        })
    }

    pub fn write(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        offset: u64,
        data: &[u8],
    ) -> OpResult<u32> {
        let args = || format!("fh={fh} offset={offset} size={}", data.len());
        self.on(Op::Write, At::Node(nodeid), args, |path| {
            // Past the size limit nothing is written; up to it, what fits.
            let data = match self.max_file_size {
                Some(max) if offset >= max => return Err(Errno::EFBIG),
                Some(max) => &data[..data.len().min((max - offset) as usize)],
                None => data,
            };
            let n = self.ops.write(ctx, path, self.file_fh(fh)?, offset, data)?;
            // Claiming more than was given is a bug the kernel must not see.
            Ok(n.min(u32::try_from(data.len()).unwrap_or(u32::MAX)))
        })
    }

    pub fn flush(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        lock_owner: u64,
    ) -> OpResult<()> {
        let args = || format!("fh={fh}");
        self.on(Op::Flush, At::Node(nodeid), args, |path| {
            self.ops.flush(ctx, path, self.file_fh(fh)?, lock_owner)
        })
    }

    pub fn release(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        flags: i32,
        flush: bool,
    ) -> OpResult<()> {
        // The handle is the daemon's to drop whatever happens to the path.
        let file = self.files.remove(fh);
        let args = || format!("fh={fh}");
        self.on(Op::Release, At::Node(nodeid), args, |path| {
            let file = file.ok_or(Errno::EBADF)?;
            self.ops.release(ctx, path, file.fh, flags, flush)
        })
    }

    pub fn fsync(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        datasync: bool,
    ) -> OpResult<()> {
        let args = || format!("fh={fh} datasync={datasync}");
        self.on(Op::Fsync, At::Node(nodeid), args, |path| {
            self.ops.fsync(ctx, path, self.file_fh(fh)?, datasync)
        })
    }

    pub fn getlk(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        owner: u64,
        lock: FileLock,
    ) -> OpResult<FileLock> {
        let args = || format!("fh={fh} owner={owner:#x} {lock:?}");
        self.on(Op::Getlk, At::Node(nodeid), args, |path| {
            self.ops.getlk(ctx, path, self.file_fh(fh)?, owner, lock)
        })
    }

    pub fn setlk(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        owner: u64,
        lock: FileLock,
        sleep: bool,
    ) -> OpResult<()> {
        let args = || format!("fh={fh} owner={owner:#x} {lock:?} sleep={sleep}");
        self.on(Op::Setlk, At::Node(nodeid), args, |path| {
            self.ops
                .setlk(ctx, path, self.file_fh(fh)?, owner, lock, sleep)
        })
    }

    pub fn fallocate(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        mode: i32,
        offset: u64,
        length: u64,
    ) -> OpResult<()> {
        let args = || format!("fh={fh} mode={mode:#x} offset={offset} length={length}");
        self.on(Op::Fallocate, At::Node(nodeid), args, |path| {
            // Punching or zeroing inside the file never grows it.
            if mode & libc::FALLOC_FL_KEEP_SIZE == 0 {
                self.check_size(offset.saturating_add(length))?;
            }
            let fh = self.file_fh(fh)?;
            self.ops.fallocate(ctx, path, fh, mode, offset, length)
        })
    }

    pub fn lseek(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        offset: i64,
        whence: i32,
    ) -> OpResult<i64> {
        let args = || format!("fh={fh} offset={offset} whence={whence}");
        self.on(Op::Lseek, At::Node(nodeid), args, |path| {
            self.ops.lseek(ctx, path, self.file_fh(fh)?, offset, whence)
        })
    }

    pub fn copy_file_range(
        &self,
        ctx: &RequestContext,
        (node_in, fh_in, offset_in): (u64, u64, u64),
        (node_out, fh_out, offset_out): (u64, u64, u64),
        len: u64,
        flags: u32,
    ) -> OpResult<u64> {
        let places = (At::Node(node_in), At::Node(node_out));
        let args = || {
            format!("fh={fh_in} offset={offset_in} -> fh={fh_out} offset={offset_out} len={len}")
        };
        self.on_two(Op::CopyFileRange, places, args, |path_in, path_out| {
            let len = match self.max_file_size {
                Some(max) if offset_out >= max => return Err(Errno::EFBIG),
                Some(max) => len.min(max - offset_out),
                None => len,
            };
            let (fh_in, fh_out) = (self.file_fh(fh_in)?, self.file_fh(fh_out)?);
            let n = self.ops.copy_file_range(
                ctx, path_in, fh_in, offset_in, path_out, fh_out, offset_out, len, flags,
            )?;
            Ok(n.min(len))
        })
    }
}
