//! `FuseAdapter`: the thin `fuser::Filesystem` implementation. It turns kernel requests
//! into `FsCore` calls and their results into replies (TTLs, open flags, kernel
//! passthrough); all filesystem logic lives in `core`.

use std::ffi::OsStr;
use std::os::fd::BorrowedFd;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use flu_api::{ConnectionInfo, Errno, FileLock, Operations, RequestContext, TimeSet};
use fuser::{
    AccessFlags, BackingId, CopyFileRangeFlags, FileHandle, Filesystem, FopenFlags, Generation,
    INodeNo, InitFlags, IoctlFlags, KernelConfig, LockOwner, OpenFlags, PollEvents, PollFlags,
    PollNotifier, RenameFlags, ReplyAttr, ReplyBmap, ReplyCreate, ReplyData, ReplyDirectory,
    ReplyDirectoryPlus, ReplyEmpty, ReplyEntry, ReplyIoctl, ReplyLock, ReplyLseek, ReplyOpen,
    ReplyPoll, ReplyStatfs, ReplyWrite, ReplyXattr, Request, TimeOrNow, WriteFlags,
};

use super::attr::{negative_attr, to_file_attr};
use super::io_modes::{IoDecision, IoModes};
use super::replies::{DirListing, DirPlusListing};
use crate::adapter_config::AdapterConfig;
use crate::core::{Entry, FsCore, OpenReply, SetAttr, XattrReply};

/// The FUSE filesystem the mount code hands to `fuser::Session::new`.
pub struct FuseAdapter {
    core: FsCore,
    /// Whether the kernel accepted FUSE_PASSTHROUGH at init.
    passthrough: bool,
    io_modes: IoModes<BackingId>,
}

fn errno(e: Errno) -> fuser::Errno {
    fuser::Errno::from_i32(e.code())
}

fn ctx(req: &Request, umask: u32) -> RequestContext {
    RequestContext {
        uid: req.uid(),
        gid: req.gid(),
        pid: req.pid(),
        umask,
    }
}

fn time_set(t: Option<TimeOrNow>) -> Option<TimeSet> {
    t.map(|t| match t {
        TimeOrNow::Now => TimeSet::Now,
        TimeOrNow::SpecificTime(t) => TimeSet::At(setattr_time(t)),
    })
}

/// A setattr time as the kernel sent it. fuser 0.18 builds a time before the epoch as
/// `UNIX_EPOCH - Duration::new(-sec, nsec)` (its `system_time_from_time`), so
/// (-2 s, 7 ns) arrives as 2.000000007 s before the epoch instead of 1.999999993 s;
/// undo exactly that encoding. Times after the epoch are converted correctly.
fn setattr_time(t: SystemTime) -> flu_api::Timespec {
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(_) => flu_api::Timespec::from_system_time(t),
        Err(e) => {
            let d = e.duration();
            flu_api::Timespec::new(-(d.as_secs() as i64), d.subsec_nanos())
        }
    }
}

fn fopen_flags(open: &OpenReply) -> FopenFlags {
    let mut flags = FopenFlags::empty();
    flags.set(FopenFlags::FOPEN_DIRECT_IO, open.direct_io);
    flags.set(FopenFlags::FOPEN_KEEP_CACHE, open.keep_cache);
    flags.set(FopenFlags::FOPEN_NONSEEKABLE, open.nonseekable);
    flags
}

impl FuseAdapter {
    pub fn new(ops: Arc<dyn Operations>, config: AdapterConfig) -> FuseAdapter {
        FuseAdapter {
            core: FsCore::new(ops, config),
            passthrough: false,
            io_modes: IoModes::default(),
        }
    }

    fn config(&self) -> &AdapterConfig {
        self.core.config()
    }

    fn reply_entry(&self, reply: ReplyEntry, res: Result<Entry, Errno>) {
        let c = self.config();
        match res {
            Ok(e) => reply.entry_with_ttls(
                &c.attr_timeout,
                &c.entry_timeout,
                &to_file_attr(&e.stat, e.nodeid),
                Generation(0),
            ),
            // A cacheable "no such name": node id 0 with the negative timeout.
            Err(Errno::ENOENT) if !c.negative_timeout.is_zero() => reply.entry_with_ttls(
                &Duration::ZERO,
                &c.negative_timeout,
                &negative_attr(),
                Generation(0),
            ),
            Err(e) => reply.error(errno(e)),
        }
    }

    fn reply_attr(&self, reply: ReplyAttr, nodeid: u64, res: Result<flu_api::Stat, Errno>) {
        match res {
            Ok(st) => reply.attr(&self.config().attr_timeout, &to_file_attr(&st, nodeid)),
            Err(e) => reply.error(errno(e)),
        }
    }

    /// How to answer an open of `nodeid`: passthrough to a backing id when possible.
    fn decide(
        &self,
        nodeid: u64,
        open: &OpenReply,
        register: impl FnOnce(BorrowedFd<'_>) -> std::io::Result<BackingId>,
    ) -> (FopenFlags, Option<Arc<BackingId>>) {
        let flags = fopen_flags(open);
        let backing_fd = open.backing_fd.filter(|fd| self.passthrough && *fd >= 0);
        let decision = self.io_modes.open(
            nodeid,
            open.fh,
            backing_fd.is_some(),
            open.direct_io,
            || match backing_fd {
                // SAFETY: `Opened::backing_fd` is documented to stay open as long as the
                // handle; it is only borrowed for the registration ioctl.
                Some(fd) => register(unsafe { BorrowedFd::borrow_raw(fd) }),
                None => Err(std::io::Error::from_raw_os_error(libc::EBADF)),
            },
        );
        match decision {
            // The page cache is not used by these opens: keeping it means nothing, and
            // the kernel's I/O mode bookkeeping must see a plain passthrough/direct open.
            IoDecision::Passthrough(id) => (flags - FopenFlags::FOPEN_KEEP_CACHE, Some(id)),
            IoDecision::Normal {
                force_direct_io: true,
            } => (
                (flags - FopenFlags::FOPEN_KEEP_CACHE) | FopenFlags::FOPEN_DIRECT_IO,
                None,
            ),
            IoDecision::Normal {
                force_direct_io: false,
            } => (flags, None),
        }
    }
}

impl Filesystem for FuseAdapter {
    fn init(&mut self, _req: &Request, kc: &mut KernelConfig) -> std::io::Result<()> {
        let c = self.core.config().clone();
        let caps = kc.capabilities();
        let max_write = match kc.set_max_write(c.max_write) {
            Ok(_) => c.max_write,
            Err(nearest) => {
                let _ = kc.set_max_write(nearest);
                nearest
            }
        };
        // KernelConfig has no getter for the kernel's readahead; asking for more than
        // allowed answers the maximum without changing anything.
        let max_readahead = kc.set_max_readahead(u32::MAX).unwrap_or_else(|max| max);
        let mut want = InitFlags::empty();
        if c.readdirplus {
            want |= InitFlags::FUSE_DO_READDIRPLUS | InitFlags::FUSE_READDIRPLUS_AUTO;
        }
        if c.writeback_cache {
            want |= InitFlags::FUSE_WRITEBACK_CACHE;
        }
        if c.posix_locks {
            want |= InitFlags::FUSE_POSIX_LOCKS;
        }
        // The node table is locked internally: lookups and readdirs in one directory may
        // run in parallel.
        want |= InitFlags::FUSE_PARALLEL_DIROPS;
        if c.kernel_passthrough {
            want |= InitFlags::FUSE_PASSTHROUGH;
        }
        for flag in want.iter() {
            if caps.contains(flag) && kc.add_capabilities(flag).is_err() {
                tracing::debug!("kernel refused capability {flag:?}");
            }
        }
        if c.kernel_passthrough && caps.contains(InitFlags::FUSE_PASSTHROUGH) {
            // Depth 2 lets backing files live on a stacked filesystem (overlayfs, as in
            // containers).
            self.passthrough = kc.set_max_stack_depth(2).is_ok();
        }
        let abi = kc.kernel_abi();
        let conn = ConnectionInfo {
            proto_major: abi.0,
            proto_minor: abi.1,
            max_write,
            max_readahead,
        };
        tracing::debug!(
            "FUSE init: ABI {}.{}, max_write {max_write}, passthrough {}",
            abi.0,
            abi.1,
            self.passthrough
        );
        self.core
            .ops()
            .init(&conn)
            .map_err(|e| std::io::Error::from_raw_os_error(e.code()))
    }

    fn destroy(&mut self) {
        if self.config().debug {
            tracing::info!("destroy()");
        }
        self.core.ops().destroy();
    }

    fn lookup(&self, req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        self.reply_entry(reply, self.core.lookup(&ctx(req, 0), parent.0, name));
    }

    fn forget(&self, _req: &Request, ino: INodeNo, nlookup: u64) {
        self.core.forget(ino.0, nlookup);
    }

    fn getattr(&self, req: &Request, ino: INodeNo, fh: Option<FileHandle>, reply: ReplyAttr) {
        let res = self.core.getattr(&ctx(req, 0), ino.0, fh.map(|f| f.0));
        self.reply_attr(reply, ino.0, res);
    }

    fn setattr(
        &self,
        req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let set = SetAttr {
            mode,
            uid,
            gid,
            size,
            atime: time_set(atime),
            mtime: time_set(mtime),
            fh: fh.map(|f| f.0),
        };
        let res = self.core.setattr(&ctx(req, 0), ino.0, set);
        self.reply_attr(reply, ino.0, res);
    }

    fn readlink(&self, req: &Request, ino: INodeNo, reply: ReplyData) {
        match self.core.readlink(&ctx(req, 0), ino.0) {
            Ok(target) => reply.data(&target),
            Err(e) => reply.error(errno(e)),
        }
    }

    fn mknod(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        rdev: u32,
        reply: ReplyEntry,
    ) {
        let res = self
            .core
            .mknod(&ctx(req, umask), parent.0, name, mode, u64::from(rdev));
        self.reply_entry(reply, res);
    }

    fn mkdir(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        let res = self.core.mkdir(&ctx(req, umask), parent.0, name, mode);
        self.reply_entry(reply, res);
    }

    fn unlink(&self, req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        reply_empty(reply, self.core.unlink(&ctx(req, 0), parent.0, name));
    }

    fn rmdir(&self, req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        reply_empty(reply, self.core.rmdir(&ctx(req, 0), parent.0, name));
    }

    fn symlink(
        &self,
        req: &Request,
        parent: INodeNo,
        link_name: &OsStr,
        target: &Path,
        reply: ReplyEntry,
    ) {
        let res = self.core.symlink(&ctx(req, 0), parent.0, link_name, target);
        self.reply_entry(reply, res);
    }

    fn rename(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let res = self.core.rename(
            &ctx(req, 0),
            parent.0,
            name,
            newparent.0,
            newname,
            flags.bits(),
        );
        reply_empty(reply, res);
    }

    fn link(
        &self,
        req: &Request,
        ino: INodeNo,
        newparent: INodeNo,
        newname: &OsStr,
        reply: ReplyEntry,
    ) {
        let res = self.core.link(&ctx(req, 0), ino.0, newparent.0, newname);
        self.reply_entry(reply, res);
    }

    fn open(&self, req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        let open = match self.core.open(&ctx(req, 0), ino.0, flags.0) {
            Ok(open) => open,
            Err(e) => return reply.error(errno(e)),
        };
        let (fopen, backing) = self.decide(ino.0, &open, |fd| reply.open_backing(fd));
        match backing {
            Some(id) => reply.opened_passthrough(FileHandle(open.fh), fopen, &id),
            None => reply.opened(FileHandle(open.fh), fopen),
        }
    }

    fn read(
        &self,
        req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        match self.core.read(&ctx(req, 0), ino.0, fh.0, offset, size) {
            Ok(data) => reply.data(&data),
            Err(e) => reply.error(errno(e)),
        }
    }

    fn write(
        &self,
        req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        match self.core.write(&ctx(req, 0), ino.0, fh.0, offset, data) {
            Ok(n) => reply.written(n),
            Err(e) => reply.error(errno(e)),
        }
    }

    fn flush(
        &self,
        req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        let res = self.core.flush(&ctx(req, 0), ino.0, fh.0, lock_owner.0);
        reply_empty(reply, res);
    }

    fn release(
        &self,
        req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        flush: bool,
        reply: ReplyEmpty,
    ) {
        let res = self.core.release(&ctx(req, 0), ino.0, fh.0, flags.0, flush);
        self.io_modes.release(fh.0);
        reply_empty(reply, res);
    }

    fn fsync(
        &self,
        req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        datasync: bool,
        reply: ReplyEmpty,
    ) {
        reply_empty(reply, self.core.fsync(&ctx(req, 0), ino.0, fh.0, datasync));
    }

    fn opendir(&self, req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        match self.core.opendir(&ctx(req, 0), ino.0, flags.0) {
            Ok(fh) => reply.opened(FileHandle(fh), FopenFlags::empty()),
            Err(e) => reply.error(errno(e)),
        }
    }

    fn readdir(
        &self,
        req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let mut listing = DirListing(&mut reply);
        match self
            .core
            .fill_readdir(&ctx(req, 0), ino.0, fh.0, offset, &mut listing)
        {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(errno(e)),
        }
    }

    fn readdirplus(
        &self,
        req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectoryPlus,
    ) {
        let c = self.config();
        let mut listing = DirPlusListing {
            reply: &mut reply,
            ttl: c.attr_timeout.min(c.entry_timeout),
        };
        match self
            .core
            .fill_readdirplus(&ctx(req, 0), ino.0, fh.0, offset, &mut listing)
        {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(errno(e)),
        }
    }

    fn releasedir(
        &self,
        req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        reply: ReplyEmpty,
    ) {
        reply_empty(reply, self.core.releasedir(&ctx(req, 0), ino.0, fh.0));
    }

    fn fsyncdir(
        &self,
        req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        datasync: bool,
        reply: ReplyEmpty,
    ) {
        let res = self.core.fsyncdir(&ctx(req, 0), ino.0, fh.0, datasync);
        reply_empty(reply, res);
    }

    fn statfs(&self, req: &Request, ino: INodeNo, reply: ReplyStatfs) {
        match self.core.statfs(&ctx(req, 0), ino.0) {
            Ok(s) => reply.statfs(
                s.blocks,
                s.bfree,
                s.bavail,
                s.files,
                s.ffree,
                u32::try_from(s.bsize).unwrap_or(u32::MAX),
                u32::try_from(s.namemax).unwrap_or(u32::MAX),
                u32::try_from(s.frsize).unwrap_or(u32::MAX),
            ),
            Err(e) => reply.error(errno(e)),
        }
    }

    fn setxattr(
        &self,
        req: &Request,
        ino: INodeNo,
        name: &OsStr,
        value: &[u8],
        flags: i32,
        _position: u32,
        reply: ReplyEmpty,
    ) {
        let res = self.core.setxattr(&ctx(req, 0), ino.0, name, value, flags);
        reply_empty(reply, res);
    }

    fn getxattr(&self, req: &Request, ino: INodeNo, name: &OsStr, size: u32, reply: ReplyXattr) {
        reply_xattr(reply, self.core.getxattr(&ctx(req, 0), ino.0, name, size));
    }

    fn listxattr(&self, req: &Request, ino: INodeNo, size: u32, reply: ReplyXattr) {
        reply_xattr(reply, self.core.listxattr(&ctx(req, 0), ino.0, size));
    }

    fn removexattr(&self, req: &Request, ino: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        reply_empty(reply, self.core.removexattr(&ctx(req, 0), ino.0, name));
    }

    fn access(&self, req: &Request, ino: INodeNo, mask: AccessFlags, reply: ReplyEmpty) {
        reply_empty(reply, self.core.access(&ctx(req, 0), ino.0, mask.bits()));
    }

    fn create(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        let (entry, open) = match self
            .core
            .create(&ctx(req, umask), parent.0, name, mode, flags)
        {
            Ok(created) => created,
            Err(e) => return reply.error(errno(e)),
        };
        let c = self.config();
        let attr = to_file_attr(&entry.stat, entry.nodeid);
        // ReplyCreate carries one TTL for both the entry and its attributes.
        let ttl = c.attr_timeout.min(c.entry_timeout);
        let (fopen, backing) = self.decide(entry.nodeid, &open, |fd| reply.open_backing(fd));
        let fh = FileHandle(open.fh);
        match backing {
            Some(id) => reply.created_passthrough(&ttl, &attr, Generation(0), fh, fopen, &id),
            None => reply.created(&ttl, &attr, Generation(0), fh, fopen),
        }
    }

    fn getlk(
        &self,
        req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        lock_owner: LockOwner,
        start: u64,
        end: u64,
        typ: i32,
        pid: u32,
        reply: ReplyLock,
    ) {
        let lock = FileLock {
            start,
            end,
            typ,
            pid,
        };
        match self
            .core
            .getlk(&ctx(req, 0), ino.0, fh.0, lock_owner.0, lock)
        {
            Ok(l) => reply.locked(l.start, l.end, l.typ, l.pid),
            Err(e) => reply.error(errno(e)),
        }
    }

    // fuser does not pass FUSE_LK_FLOCK on, so flock requests could not be told apart
    // from POSIX locks: FUSE_FLOCK_LOCKS is never requested and the kernel handles
    // flock() locally.
    fn setlk(
        &self,
        req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        lock_owner: LockOwner,
        start: u64,
        end: u64,
        typ: i32,
        pid: u32,
        sleep: bool,
        reply: ReplyEmpty,
    ) {
        let lock = FileLock {
            start,
            end,
            typ,
            pid,
        };
        let res = self
            .core
            .setlk(&ctx(req, 0), ino.0, fh.0, lock_owner.0, lock, sleep);
        reply_empty(reply, res);
    }

    fn bmap(&self, _req: &Request, _ino: INodeNo, _blocksize: u32, _idx: u64, reply: ReplyBmap) {
        reply.error(fuser::Errno::ENOSYS);
    }

    fn ioctl(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _flags: IoctlFlags,
        _cmd: u32,
        _in_data: &[u8],
        _out_size: u32,
        reply: ReplyIoctl,
    ) {
        // Operations has no ioctl; ENOTTY is what an unsupported ioctl answers.
        reply.error(fuser::Errno::ENOTTY);
    }

    fn poll(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _ph: PollNotifier,
        _events: PollEvents,
        _flags: PollFlags,
        reply: ReplyPoll,
    ) {
        // ENOSYS makes the kernel stop asking and treat files as always ready.
        reply.error(fuser::Errno::ENOSYS);
    }

    fn fallocate(
        &self,
        req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        length: u64,
        mode: i32,
        reply: ReplyEmpty,
    ) {
        let res = self
            .core
            .fallocate(&ctx(req, 0), ino.0, fh.0, mode, offset, length);
        reply_empty(reply, res);
    }

    fn lseek(
        &self,
        req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: i64,
        whence: i32,
        reply: ReplyLseek,
    ) {
        match self.core.lseek(&ctx(req, 0), ino.0, fh.0, offset, whence) {
            Ok(off) => reply.offset(off),
            Err(e) => reply.error(errno(e)),
        }
    }

    fn copy_file_range(
        &self,
        req: &Request,
        ino_in: INodeNo,
        fh_in: FileHandle,
        offset_in: u64,
        ino_out: INodeNo,
        fh_out: FileHandle,
        offset_out: u64,
        len: u64,
        flags: CopyFileRangeFlags,
        reply: ReplyWrite,
    ) {
        // The reply carries 32 bits: never copy more than it can report (page aligned,
        // as the kernel itself limits it); callers loop for the rest.
        let len = len.min(u64::from(u32::MAX) & !0xfff);
        let res = self.core.copy_file_range(
            &ctx(req, 0),
            (ino_in.0, fh_in.0, offset_in),
            (ino_out.0, fh_out.0, offset_out),
            len,
            u32::try_from(flags.bits()).unwrap_or(u32::MAX),
        );
        match res {
            Ok(n) => reply.written(u32::try_from(n).unwrap_or(u32::MAX)),
            Err(e) => reply.error(errno(e)),
        }
    }
}

fn reply_empty(reply: ReplyEmpty, res: Result<(), Errno>) {
    match res {
        Ok(()) => reply.ok(),
        Err(e) => reply.error(errno(e)),
    }
}

fn reply_xattr(reply: ReplyXattr, res: Result<XattrReply, Errno>) {
    match res {
        Ok(XattrReply::Size(n)) => reply.size(n),
        Ok(XattrReply::Data(d)) => reply.data(&d),
        Err(e) => reply.error(errno(e)),
    }
}

#[cfg(test)]
mod time_tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn setattr_times_before_the_epoch_undo_fusers_encoding() {
        // what fuser 0.18 hands us for (sec, nsec) = (-2, 7) and (-1, 0)
        let t = setattr_time(UNIX_EPOCH - Duration::new(2, 7));
        assert_eq!((t.sec, t.nsec), (-2, 7));
        let t = setattr_time(UNIX_EPOCH - Duration::new(1, 0));
        assert_eq!((t.sec, t.nsec), (-1, 0));
        let t = setattr_time(UNIX_EPOCH + Duration::new(981_173_106, 123_456_789));
        assert_eq!((t.sec, t.nsec), (981_173_106, 123_456_789));
    }
}
