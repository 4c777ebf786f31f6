//! Open files: open/create (with the mknod + open fallback), read, write, flush,
//! release, fsync, and the handle-based range and lock operations.

use std::ffi::OsStr;
use std::path::Path;
use std::sync::atomic::Ordering;

use flu_api::{Errno, Fh, FileLock, Op, OpResult, Opened, RequestContext};

use super::{p, show, Entry, FsCore, OpenFile, OpenReply};

impl FsCore {
    // ---- files ----

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
        }
    }

    pub fn open(&self, ctx: &RequestContext, nodeid: u64, flags: i32) -> OpResult<OpenReply> {
        let path = self.path(nodeid);
        self.run(
            Op::Open,
            || format!("{} flags={flags:#o}", show(&path, nodeid)),
            || Ok(self.opened(nodeid, self.ops.open(ctx, p(&path)?, flags)?)),
        )
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
        let path = self.child_path(parent, name);
        self.run(
            Op::Create,
            || format!("{} mode={mode:o} flags={flags:#o}", show(&path, parent)),
            || {
                let path = p(&path)?;
                let mode = libc::S_IFREG | (mode & !libc::S_IFMT);
                let opened = self.create_or_mknod(ctx, path, mode, flags)?;
                match self.register(ctx, parent, name, path, Some(Fh(opened.fh))) {
                    Ok(entry) => Ok((entry, self.opened(entry.nodeid, opened))),
                    Err(e) => {
                        // The kernel will never release a handle it did not get.
                        let _ = self.ops.release(ctx, path, Fh(opened.fh), flags, false);
                        Err(e)
                    }
                }
            },
        )
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
        let path = self.path(nodeid);
        self.run(
            Op::Read,
            || {
                format!(
                    "{} fh={fh} offset={offset} size={size}",
                    show(&path, nodeid)
                )
            },
            || {
                let mut data = self
                    .ops
                    .read(ctx, p(&path)?, self.file_fh(fh)?, offset, size)?;
                // More than asked would corrupt the kernel's page cache bookkeeping.
                data.truncate(size as usize);
                Ok(data)
            },
        )
    }

    pub fn write(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        offset: u64,
        data: &[u8],
    ) -> OpResult<u32> {
        let path = self.path(nodeid);
        self.run(
            Op::Write,
            || {
                format!(
                    "{} fh={fh} offset={offset} size={}",
                    show(&path, nodeid),
                    data.len()
                )
            },
            || {
                let n = self
                    .ops
                    .write(ctx, p(&path)?, self.file_fh(fh)?, offset, data)?;
                // Claiming more than was given is a bug the kernel must not see.
                Ok(n.min(u32::try_from(data.len()).unwrap_or(u32::MAX)))
            },
        )
    }

    pub fn flush(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        lock_owner: u64,
    ) -> OpResult<()> {
        let path = self.path(nodeid);
        self.run(
            Op::Flush,
            || format!("{} fh={fh}", show(&path, nodeid)),
            || {
                self.ops
                    .flush(ctx, p(&path)?, self.file_fh(fh)?, lock_owner)
            },
        )
    }

    pub fn release(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        flags: i32,
        flush: bool,
    ) -> OpResult<()> {
        let path = self.path(nodeid);
        self.run(
            Op::Release,
            || format!("{} fh={fh}", show(&path, nodeid)),
            || {
                let file = self.files.remove(fh).ok_or(Errno::EBADF)?;
                self.ops.release(ctx, p(&path)?, file.fh, flags, flush)
            },
        )
    }

    pub fn fsync(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        datasync: bool,
    ) -> OpResult<()> {
        let path = self.path(nodeid);
        self.run(
            Op::Fsync,
            || format!("{} fh={fh} datasync={datasync}", show(&path, nodeid)),
            || self.ops.fsync(ctx, p(&path)?, self.file_fh(fh)?, datasync),
        )
    }

    // ---- locks and ranges ----

    pub fn getlk(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        owner: u64,
        lock: FileLock,
    ) -> OpResult<FileLock> {
        let path = self.path(nodeid);
        self.run(
            Op::Getlk,
            || format!("{} fh={fh} owner={owner:#x} {lock:?}", show(&path, nodeid)),
            || {
                self.ops
                    .getlk(ctx, p(&path)?, self.file_fh(fh)?, owner, lock)
            },
        )
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
        let path = self.path(nodeid);
        self.run(
            Op::Setlk,
            || {
                format!(
                    "{} fh={fh} owner={owner:#x} {lock:?} sleep={sleep}",
                    show(&path, nodeid)
                )
            },
            || {
                self.ops
                    .setlk(ctx, p(&path)?, self.file_fh(fh)?, owner, lock, sleep)
            },
        )
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
        let path = self.path(nodeid);
        self.run(
            Op::Fallocate,
            || {
                format!(
                    "{} fh={fh} mode={mode:#x} offset={offset} length={length}",
                    show(&path, nodeid)
                )
            },
            || {
                let fh = self.file_fh(fh)?;
                self.ops.fallocate(ctx, p(&path)?, fh, mode, offset, length)
            },
        )
    }

    pub fn lseek(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        offset: i64,
        whence: i32,
    ) -> OpResult<i64> {
        let path = self.path(nodeid);
        self.run(
            Op::Lseek,
            || {
                format!(
                    "{} fh={fh} offset={offset} whence={whence}",
                    show(&path, nodeid)
                )
            },
            || {
                self.ops
                    .lseek(ctx, p(&path)?, self.file_fh(fh)?, offset, whence)
            },
        )
    }

    #[allow(clippy::too_many_arguments)]
    pub fn copy_file_range(
        &self,
        ctx: &RequestContext,
        (node_in, fh_in, offset_in): (u64, u64, u64),
        (node_out, fh_out, offset_out): (u64, u64, u64),
        len: u64,
        flags: u32,
    ) -> OpResult<u64> {
        let path_in = self.path(node_in);
        let path_out = self.path(node_out);
        self.run(
            Op::CopyFileRange,
            || {
                format!(
                    "{} fh={fh_in} offset={offset_in} -> {} fh={fh_out} offset={offset_out} len={len}",
                    show(&path_in, node_in),
                    show(&path_out, node_out)
                )
            },
            || {
                let n = self.ops.copy_file_range(
                    ctx,
                    p(&path_in)?,
                    self.file_fh(fh_in)?,
                    offset_in,
                    p(&path_out)?,
                    self.file_fh(fh_out)?,
                    offset_out,
                    len,
                    flags,
                )?;
                Ok(n.min(len))
            },
        )
    }
}
