//! `FuseAdapter`: the session's `Handler`. It turns each kernel request into an
//! `FsCore` call and the result into a reply (cache lifetimes, open flags, kernel
//! passthrough): a few lines per request; all filesystem logic lives in `core`.

use std::io;
use std::os::fd::BorrowedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use flu_api::{ConnectionInfo, Errno, FileLock, RequestContext, TimeSet, Timespec};

use super::attr::{attr_out, entry_out, negative_entry, ReplyAttrs};
use super::io_modes::{IoDecision, IoModes};
use super::replies::{DirListing, DirPlusListing};
use crate::adapter_config::AdapterConfig;
use crate::core::{Entry, FsCore, OpenReply, SetAttr, XattrReply};
use crate::session::abi::{self, fattr, fopen, init_flags, opcode};
use crate::session::{BackingId, DirBuffer, Handler, InitAnswer, KernelOffer, Reply, Request};

/// The filesystem the session serves.
pub struct FuseAdapter {
    core: FsCore,
    /// Whether the kernel accepted FUSE_PASSTHROUGH at init.
    passthrough: AtomicBool,
    /// Whether the kernel accepted FUSE_POSIX_ACL with FUSE_DONT_MASK at init: creating
    /// requests then carry the mode before the umask.
    posix_acl: AtomicBool,
    io_modes: IoModes<BackingId>,
}

fn ctx(h: &abi::InHeader, umask: u32) -> RequestContext {
    RequestContext {
        uid: h.uid,
        gid: h.gid,
        pid: h.pid,
        umask,
        unmasked_mode: None,
    }
}

/// A setattr time: now, or the one given (seconds are signed on the wire).
fn time_set(valid: u32, set: u32, now: u32, sec: u64, nsec: u32) -> Option<TimeSet> {
    if valid & now != 0 {
        Some(TimeSet::Now)
    } else if valid & set != 0 {
        Some(TimeSet::At(Timespec::new(sec as i64, nsec)))
    } else {
        None
    }
}

fn fopen_flags(open: &OpenReply) -> u32 {
    let mut flags = 0;
    if open.direct_io {
        flags |= fopen::DIRECT_IO;
    }
    if open.keep_cache {
        flags |= fopen::KEEP_CACHE;
    }
    if open.nonseekable {
        flags |= fopen::NONSEEKABLE;
    }
    if open.no_flush {
        flags |= fopen::NOFLUSH;
    }
    if open.cache_dir {
        flags |= fopen::CACHE_DIR;
    }
    flags
}

fn empty(reply: Reply, res: Result<(), Errno>) {
    match res {
        Ok(()) => reply.ok(),
        Err(e) => reply.error(e.code()),
    }
}

fn bytes(reply: Reply, res: Result<Vec<u8>, Errno>) {
    match res {
        Ok(data) => reply.data(&data),
        Err(e) => reply.error(e.code()),
    }
}

fn xattr(reply: Reply, res: Result<XattrReply, Errno>) {
    match res {
        Ok(XattrReply::Size(n)) => reply.pod(&abi::GetxattrOut {
            size: n,
            padding: 0,
        }),
        Ok(XattrReply::Data(d)) => reply.data(&d),
        Err(e) => reply.error(e.code()),
    }
}

impl FuseAdapter {
    pub fn new(ops: Arc<dyn flu_api::Operations>, config: AdapterConfig) -> FuseAdapter {
        FuseAdapter {
            core: FsCore::new(ops, config),
            passthrough: AtomicBool::new(false),
            posix_acl: AtomicBool::new(false),
            io_modes: IoModes::default(),
        }
    }

    fn config(&self) -> &AdapterConfig {
        self.core.config()
    }

    /// The context and mode of a creating request (mknod, mkdir, create). The mode
    /// handed on always has the umask applied; with FUSE_DONT_MASK the kernel did not
    /// apply it, and the context also carries the mode as asked (see
    /// `RequestContext::unmasked_mode`).
    fn creating(&self, h: &abi::InHeader, mode: u32, umask: u32) -> (RequestContext, u32) {
        let mut cx = ctx(h, umask);
        if !self.posix_acl.load(Ordering::Relaxed) {
            return (cx, mode);
        }
        cx.unmasked_mode = Some(mode);
        (cx, mode & !(umask & 0o7777))
    }

    /// The mount's cache lifetimes and attribute override, for every attribute reply.
    fn reply_attrs(&self) -> ReplyAttrs {
        let c = self.config();
        ReplyAttrs {
            entry_ttl: c.entry_timeout,
            attr_ttl: c.attr_timeout,
            over: c.attr_override,
        }
    }

    /// [`Self::reply_attrs`] for node `nodeid`: attributes of a file open for writing
    /// through kernel passthrough are not cached, since writes through a shared mapping
    /// of it change its times without the kernel noticing.
    fn reply_attrs_for(&self, nodeid: u64) -> ReplyAttrs {
        let mut r = self.reply_attrs();
        if self.io_modes.has_writer(nodeid) {
            r.attr_ttl = std::time::Duration::ZERO;
        }
        r
    }

    /// The core, for what the control channel reports (nodes, handles, op counts).
    pub fn core(&self) -> &FsCore {
        &self.core
    }

    /// The answer to a request that makes a name (mknod, mkdir, symlink, link).
    fn entry(&self, reply: Reply, res: Result<Entry, Errno>) {
        match res {
            Ok(e) => reply.pod(&entry_out(
                e.nodeid,
                e.generation,
                &e.stat,
                &self.reply_attrs_for(e.nodeid),
            )),
            Err(e) => reply.error(e.code()),
        }
    }

    /// The answer to a lookup: also a cacheable "no such name" (node id 0 with the
    /// negative timeout) when asked for. Only a lookup may answer that: the kernel turns
    /// a node id 0 in a mkdir or symlink answer into EIO.
    fn lookup_entry(&self, reply: Reply, res: Result<Entry, Errno>) {
        let c = self.config();
        match res {
            Err(Errno::ENOENT) if !c.negative_timeout.is_zero() => {
                reply.pod(&negative_entry(c.negative_timeout))
            }
            res => self.entry(reply, res),
        }
    }

    fn attr(&self, reply: Reply, nodeid: u64, res: Result<flu_api::Stat, Errno>) {
        match res {
            Ok(st) => reply.pod(&attr_out(nodeid, &st, &self.reply_attrs_for(nodeid))),
            Err(e) => reply.error(e.code()),
        }
    }

    /// How to answer an open of `nodeid`: the open flags, and the backing id when the
    /// kernel passes I/O straight to the backing file.
    /// `request_flags` are the open flags the kernel sent; `made` says the open made the
    /// file (CREATE, TMPFILE).
    fn decide(
        &self,
        nodeid: u64,
        request_flags: u32,
        made: bool,
        open: &OpenReply,
        reply: &Reply,
    ) -> abi::OpenOut {
        let flags = fopen_flags(open);
        let passthrough = self.passthrough.load(Ordering::Relaxed);
        let backing_fd = open.backing_fd.filter(|fd| passthrough && *fd >= 0);
        let decision = self.io_modes.open(
            nodeid,
            open.fh,
            backing_fd.is_some(),
            open.direct_io,
            || match backing_fd {
                Some(fd) => {
                    // SAFETY: `Opened::backing_fd` is documented to stay open as long as
                    // the handle; it is only borrowed for the registration ioctl.
                    let file = unsafe { BorrowedFd::borrow_raw(fd) };
                    BackingId::register(reply.channel(), file)
                }
                None => Err(io::Error::from_raw_os_error(libc::EBADF)),
            },
        );
        let writes = request_flags as i32 & libc::O_ACCMODE != libc::O_RDONLY;
        let (open_flags, backing_id) = match decision {
            // The page cache is not used by these opens: keeping it means nothing, and
            // the kernel's I/O mode bookkeeping must see a plain passthrough/direct open.
            IoDecision::Passthrough(id) => {
                // Attributes cached before this open need nothing: mapping the file
                // invalidates them (its atime). A file this open made is empty: before a
                // mapping can write to it, a write or truncate through the kernel (which
                // updates or refreshes the attributes) must extend it; not caching its
                // attributes would cost every created file a GETATTR at its next stat
                // (the bench's stat workload: ×33 of native instead of ×1).
                if writes && !made {
                    self.io_modes.may_write(open.fh);
                }
                (
                    (flags & !fopen::KEEP_CACHE) | fopen::PASSTHROUGH,
                    id.id as i32,
                )
            }
            IoDecision::Normal {
                force_direct_io: true,
            } => ((flags & !fopen::KEEP_CACHE) | fopen::DIRECT_IO, 0),
            IoDecision::Normal {
                force_direct_io: false,
            } => (flags, 0),
        };
        abi::OpenOut {
            fh: open.fh,
            open_flags,
            backing_id,
        }
    }
}

impl Handler for FuseAdapter {
    fn init(&self, offer: &KernelOffer) -> io::Result<InitAnswer> {
        let c = self.config().clone();
        let mut want = init_flags::ASYNC_READ | init_flags::BIG_WRITES;
        if c.readdirplus {
            want |= init_flags::DO_READDIRPLUS | init_flags::READDIRPLUS_AUTO;
        }
        if c.writeback_cache {
            want |= init_flags::WRITEBACK_CACHE;
        }
        if c.posix_locks {
            want |= init_flags::POSIX_LOCKS;
        }
        // The node table is locked internally: lookups and readdirs in one directory may
        // run in parallel.
        want |= init_flags::PARALLEL_DIROPS;
        // File handles: where the backend finds files by key, forgotten nodes are
        // remembered and the kernel's lookups of `.`/`..` bring them back (`core/exports`),
        // so handles outlive the inode cache. Elsewhere a node id dies with FORGET and a
        // handle would go stale: refuse handles up front, where the kernel can be told.
        want |= if self.core.exports() {
            init_flags::EXPORT_SUPPORT
        } else {
            init_flags::NO_EXPORT_SUPPORT
        };
        // O_TRUNC with the open instead of a truncate after it, where the backend's open
        // truncates as its truncate would.
        if self.core.ops().truncates_on_open() {
            want |= init_flags::ATOMIC_O_TRUNC;
        }
        let passthrough = c.kernel_passthrough && offer.flags & init_flags::PASSTHROUGH != 0;
        if passthrough {
            want |= init_flags::PASSTHROUGH;
        }
        self.passthrough.store(passthrough, Ordering::Relaxed);
        // POSIX ACLs: the kernel checks them (default_permissions) and applies their
        // effects (setfacl changes the mode bits, chmod the ACL mask) through the
        // xattrs. Without DONT_MASK it would apply the umask to every create, also under
        // a default ACL, which replaces the umask on a local filesystem.
        let acl_flags = init_flags::POSIX_ACL | init_flags::DONT_MASK;
        let posix_acl = c.posix_acl && offer.flags & acl_flags == acl_flags;
        if posix_acl {
            want |= acl_flags;
        }
        self.posix_acl.store(posix_acl, Ordering::Relaxed);
        let conn = ConnectionInfo {
            proto_major: offer.major,
            proto_minor: offer.minor,
            max_write: c.max_write,
            max_readahead: offer.max_readahead,
        };
        tracing::debug!(
            "FUSE init: ABI {}.{}, max_write {}, passthrough {passthrough}, posix_acl {posix_acl}",
            offer.major,
            offer.minor,
            c.max_write
        );
        self.core
            .ops()
            .init(&conn)
            .map_err(|e| io::Error::from_raw_os_error(e.code()))?;
        self.core.learn_limits(&RequestContext::default());
        Ok(InitAnswer {
            flags: want,
            max_write: c.max_write,
            max_readahead: offer.max_readahead,
            // Depth 2 lets backing files live on a stacked filesystem (overlayfs, as in
            // containers).
            max_stack_depth: if passthrough { 2 } else { 0 },
        })
    }

    fn destroy(&self) {
        if self.config().debug {
            tracing::info!("destroy()");
        }
        self.core.ops().destroy();
    }

    fn handle(&self, request: Request<'_>, reply: Reply) {
        self.answer(request, reply);
        // Notifications the handler made go out once its reply is written.
        super::notify::flush_after_reply();
    }
}

impl FuseAdapter {
    /// Serve one request and write its reply.
    fn answer(&self, request: Request<'_>, reply: Reply) {
        let h = request.header;
        let (c, ino) = (&self.core, h.nodeid);
        let cx = ctx(&h, 0);
        let mut a = request.args();
        // The arguments of each request are read here; one too short for them answers
        // EIO (the reply is still unanswered when that happens).
        macro_rules! arg {
            ($read:expr) => {
                match $read {
                    Ok(v) => v,
                    Err(m) => {
                        tracing::error!("request {} (opcode {}): {}", h.unique, h.opcode, m.0);
                        return reply.error(libc::EIO);
                    }
                }
            };
        }
        match h.opcode {
            opcode::LOOKUP => {
                let name = arg!(a.name());
                self.lookup_entry(reply, c.lookup(&cx, ino, name))
            }
            opcode::FORGET => {
                let arg: abi::ForgetIn = arg!(a.fixed());
                c.forget(ino, arg.nlookup);
                reply.none();
            }
            opcode::BATCH_FORGET => {
                let head: abi::BatchForgetIn = arg!(a.fixed());
                for _ in 0..head.count {
                    let one: abi::ForgetOne = match a.fixed() {
                        Ok(one) => one,
                        Err(_) => break,
                    };
                    c.forget(one.nodeid, one.nlookup);
                }
                reply.none();
            }
            opcode::GETATTR => {
                let arg: abi::GetattrIn = arg!(a.fixed());
                let fh = (arg.getattr_flags & abi::GETATTR_FH != 0).then_some(arg.fh);
                self.attr(reply, ino, c.getattr(&cx, ino, fh));
            }
            opcode::SETATTR => {
                let s: abi::SetattrIn = arg!(a.fixed());
                let v = s.valid;
                let set = SetAttr {
                    mode: (v & fattr::MODE != 0).then_some(s.mode),
                    uid: (v & fattr::UID != 0).then_some(s.uid),
                    gid: (v & fattr::GID != 0).then_some(s.gid),
                    size: (v & fattr::SIZE != 0).then_some(s.size),
                    atime: time_set(v, fattr::ATIME, fattr::ATIME_NOW, s.atime, s.atimensec),
                    mtime: time_set(v, fattr::MTIME, fattr::MTIME_NOW, s.mtime, s.mtimensec),
                    fh: (v & fattr::FH != 0).then_some(s.fh),
                };
                self.attr(reply, ino, c.setattr(&cx, ino, set));
            }
            opcode::READLINK => bytes(reply, c.readlink(&cx, ino)),
            opcode::MKNOD => {
                let arg: abi::MknodIn = arg!(a.fixed());
                let name = arg!(a.name());
                let (cx, mode) = self.creating(&h, arg.mode, arg.umask);
                let res = c.mknod(&cx, ino, name, mode, u64::from(arg.rdev));
                self.entry(reply, res);
            }
            opcode::MKDIR => {
                let arg: abi::MkdirIn = arg!(a.fixed());
                let name = arg!(a.name());
                let (cx, mode) = self.creating(&h, arg.mode, arg.umask);
                self.entry(reply, c.mkdir(&cx, ino, name, mode));
            }
            opcode::UNLINK => {
                let name = arg!(a.name());
                empty(reply, c.unlink(&cx, ino, name))
            }
            opcode::RMDIR => {
                let name = arg!(a.name());
                empty(reply, c.rmdir(&cx, ino, name))
            }
            opcode::SYMLINK => {
                let name = arg!(a.name());
                let target = Path::new(arg!(a.name()));
                self.entry(reply, c.symlink(&cx, ino, name, target));
            }
            opcode::RENAME | opcode::RENAME2 => {
                let (newdir, flags) = if h.opcode == opcode::RENAME {
                    let arg: abi::RenameIn = arg!(a.fixed());
                    (arg.newdir, 0)
                } else {
                    let arg: abi::Rename2In = arg!(a.fixed());
                    (arg.newdir, arg.flags)
                };
                let name = arg!(a.name());
                let newname = arg!(a.name());
                empty(reply, c.rename(&cx, ino, name, newdir, newname, flags))
            }
            opcode::LINK => {
                let arg: abi::LinkIn = arg!(a.fixed());
                let name = arg!(a.name());
                self.entry(reply, c.link(&cx, arg.oldnodeid, ino, name))
            }
            opcode::OPEN => {
                let arg: abi::OpenIn = arg!(a.fixed());
                match c.open(&cx, ino, arg.flags as i32) {
                    Ok(open) => {
                        let out = self.decide(ino, arg.flags, false, &open, &reply);
                        reply.pod(&out);
                    }
                    Err(e) => reply.error(e.code()),
                }
            }
            opcode::READ => {
                let arg: abi::ReadIn = arg!(a.fixed());
                bytes(reply, c.read(&cx, ino, arg.fh, arg.offset, arg.size))
            }
            opcode::WRITE => {
                let arg: abi::WriteIn = arg!(a.fixed());
                let data = arg!(a.bytes(arg.size as usize));
                match c.write(&cx, ino, arg.fh, arg.offset, data) {
                    Ok(n) => reply.pod(&abi::WriteOut {
                        size: n,
                        padding: 0,
                    }),
                    Err(e) => reply.error(e.code()),
                }
            }
            opcode::STATFS => match c.statfs(&cx, ino) {
                Ok(s) => reply.pod(&abi::Kstatfs {
                    blocks: s.blocks,
                    bfree: s.bfree,
                    bavail: s.bavail,
                    files: s.files,
                    ffree: s.ffree,
                    bsize: u32::try_from(s.bsize).unwrap_or(u32::MAX),
                    namelen: u32::try_from(s.namemax).unwrap_or(u32::MAX),
                    frsize: u32::try_from(s.frsize).unwrap_or(u32::MAX),
                    padding: 0,
                    spare: [0; 6],
                }),
                Err(e) => reply.error(e.code()),
            },
            opcode::RELEASE => {
                let arg: abi::ReleaseIn = arg!(a.fixed());
                let flush = arg.release_flags & abi::RELEASE_FLUSH != 0;
                let res = c.release(&cx, ino, arg.fh, arg.flags as i32, flush);
                self.io_modes.release(arg.fh);
                empty(reply, res);
            }
            opcode::FSYNC => {
                let arg: abi::FsyncIn = arg!(a.fixed());
                let datasync = arg.fsync_flags & abi::FSYNC_FDATASYNC != 0;
                empty(reply, c.fsync(&cx, ino, arg.fh, datasync));
            }
            opcode::SETXATTR => {
                let arg: abi::SetxattrIn = arg!(a.fixed());
                let name = arg!(a.name());
                let value = arg!(a.bytes(arg.size as usize));
                empty(reply, c.setxattr(&cx, ino, name, value, arg.flags as i32))
            }
            opcode::GETXATTR => {
                let arg: abi::GetxattrIn = arg!(a.fixed());
                let name = arg!(a.name());
                let mut res = c.getxattr(&cx, ino, name, arg.size);
                // The kernel reads ACLs for its permission checks and fails the check
                // on an error: a filesystem without ACLs (EOPNOTSUPP) has none.
                if res == Err(Errno::EOPNOTSUPP)
                    && self.posix_acl.load(Ordering::Relaxed)
                    && name.as_bytes().starts_with(b"system.posix_acl_")
                {
                    res = Err(Errno::ENODATA);
                }
                xattr(reply, res)
            }
            opcode::LISTXATTR => {
                let arg: abi::GetxattrIn = arg!(a.fixed());
                xattr(reply, c.listxattr(&cx, ino, arg.size))
            }
            opcode::REMOVEXATTR => {
                let name = arg!(a.name());
                empty(reply, c.removexattr(&cx, ino, name))
            }
            opcode::FLUSH => {
                let arg: abi::FlushIn = arg!(a.fixed());
                empty(reply, c.flush(&cx, ino, arg.fh, arg.lock_owner))
            }
            opcode::OPENDIR => {
                let arg: abi::OpenIn = arg!(a.fixed());
                match c.opendir(&cx, ino, arg.flags as i32) {
                    Ok(open) => reply.pod(&abi::OpenOut {
                        fh: open.fh,
                        open_flags: fopen_flags(&open),
                        ..Default::default()
                    }),
                    Err(e) => reply.error(e.code()),
                }
            }
            opcode::READDIR => {
                let arg: abi::ReadIn = arg!(a.fixed());
                let mut buf = DirBuffer::new(arg.size as usize);
                let mut listing = DirListing(&mut buf);
                match c.fill_readdir(&cx, ino, arg.fh, arg.offset, &mut listing) {
                    Ok(()) => reply.data(buf.bytes()),
                    Err(e) => reply.error(e.code()),
                }
            }
            opcode::READDIRPLUS => {
                let arg: abi::ReadIn = arg!(a.fixed());
                let mut buf = DirBuffer::new(arg.size as usize);
                let mut listing = DirPlusListing {
                    buf: &mut buf,
                    attrs: self.reply_attrs(),
                };
                match c.fill_readdirplus(&cx, ino, arg.fh, arg.offset, &mut listing) {
                    Ok(()) => reply.data(buf.bytes()),
                    Err(e) => reply.error(e.code()),
                }
            }
            opcode::RELEASEDIR => {
                let arg: abi::ReleaseIn = arg!(a.fixed());
                empty(reply, c.releasedir(&cx, ino, arg.fh))
            }
            opcode::FSYNCDIR => {
                let arg: abi::FsyncIn = arg!(a.fixed());
                let datasync = arg.fsync_flags & abi::FSYNC_FDATASYNC != 0;
                empty(reply, c.fsyncdir(&cx, ino, arg.fh, datasync));
            }
            opcode::GETLK => {
                let arg: abi::LkIn = arg!(a.fixed());
                match c.getlk(&cx, ino, arg.fh, arg.owner, file_lock(&arg.lk)) {
                    Ok(l) => reply.pod(&abi::LkOut {
                        lk: abi::FileLock {
                            start: l.start,
                            end: l.end,
                            typ: l.typ as u32,
                            pid: l.pid,
                        },
                    }),
                    Err(e) => reply.error(e.code()),
                }
            }
            // BSD flock requests (FUSE_LK_FLOCK) come only with FUSE_FLOCK_LOCKS, which
            // flu does not ask for: the kernel keeps flock() locks itself.
            opcode::SETLK | opcode::SETLKW => {
                let arg: abi::LkIn = arg!(a.fixed());
                let sleep = h.opcode == opcode::SETLKW;
                let lock = file_lock(&arg.lk);
                empty(reply, c.setlk(&cx, ino, arg.fh, arg.owner, lock, sleep))
            }
            opcode::ACCESS => {
                let arg: abi::AccessIn = arg!(a.fixed());
                empty(reply, c.access(&cx, ino, arg.mask as i32))
            }
            opcode::CREATE => {
                let arg: abi::CreateIn = arg!(a.fixed());
                let name = arg!(a.name());
                let (cx, mode) = self.creating(&h, arg.mode, arg.umask);
                match c.create(&cx, ino, name, mode, arg.flags as i32) {
                    Ok((entry, open)) => {
                        let out = self.decide(entry.nodeid, arg.flags, true, &open, &reply);
                        let attrs = self.reply_attrs_for(entry.nodeid);
                        let e = entry_out(entry.nodeid, entry.generation, &entry.stat, &attrs);
                        reply.pod2(&e, &out);
                    }
                    Err(e) => reply.error(e.code()),
                }
            }
            opcode::FALLOCATE => {
                let arg: abi::FallocateIn = arg!(a.fixed());
                let res = c.fallocate(&cx, ino, arg.fh, arg.mode as i32, arg.offset, arg.length);
                empty(reply, res);
            }
            opcode::LSEEK => {
                let arg: abi::LseekIn = arg!(a.fixed());
                match c.lseek(&cx, ino, arg.fh, arg.offset as i64, arg.whence as i32) {
                    Ok(off) => reply.pod(&abi::LseekOut { offset: off as u64 }),
                    Err(e) => reply.error(e.code()),
                }
            }
            opcode::COPY_FILE_RANGE => {
                let arg: abi::CopyFileRangeIn = arg!(a.fixed());
                // The reply carries 32 bits: never copy more than it can report (page
                // aligned, as the kernel itself limits it); callers loop for the rest.
                let len = arg.len.min(u64::from(u32::MAX) & !0xfff);
                let res = c.copy_file_range(
                    &cx,
                    (ino, arg.fh_in, arg.off_in),
                    (arg.nodeid_out, arg.fh_out, arg.off_out),
                    len,
                    u32::try_from(arg.flags).unwrap_or(u32::MAX),
                );
                match res {
                    Ok(n) => reply.pod(&abi::WriteOut {
                        size: u32::try_from(n).unwrap_or(u32::MAX),
                        padding: 0,
                    }),
                    Err(e) => reply.error(e.code()),
                }
            }
            // open(dir, O_TMPFILE): as CREATE, with a name the kernel makes up ("/").
            // ENOSYS makes the kernel answer EOPNOTSUPP from then on.
            opcode::TMPFILE => {
                let arg: abi::CreateIn = arg!(a.fixed());
                let (cx, mode) = self.creating(&h, arg.mode, arg.umask);
                match c.tmpfile(&cx, ino, mode, arg.flags as i32) {
                    Ok((entry, open)) => {
                        let out = self.decide(entry.nodeid, arg.flags, true, &open, &reply);
                        let attrs = self.reply_attrs_for(entry.nodeid);
                        let e = entry_out(entry.nodeid, entry.generation, &entry.stat, &attrs);
                        reply.pod2(&e, &out);
                    }
                    Err(e) => reply.error(e.code()),
                }
            }
            opcode::NOTIFY_REPLY => reply.none(),
            // An unsupported ioctl answers ENOTTY; ENOSYS makes the kernel stop asking
            // (bmap, poll, syncfs, statx) or use its own fallback.
            opcode::IOCTL => reply.error(libc::ENOTTY),
            _ => reply.error(libc::ENOSYS),
        }
    }
}

fn file_lock(lk: &abi::FileLock) -> FileLock {
    FileLock {
        start: lk.start,
        end: lk.end,
        typ: lk.typ as i32,
        pid: lk.pid,
    }
}
