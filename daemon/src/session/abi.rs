//! The FUSE kernel ABI flu speaks (protocol 7.31 and later, Linux): opcodes, flags and
//! the fixed-size structures of requests and replies, as `#[repr(C)]` plain data.
//!
//! Written from the kernel's `include/uapi/linux/fuse.h`; only what flu uses is here.
//! Every structure is explicitly padded to its natural alignment (as the header does
//! for 32/64-bit compatibility), so none has implicit padding bytes.

/// Protocol version flu implements; the kernel's minor may be higher.
pub const KERNEL_VERSION: u32 = 7;
pub const KERNEL_MINOR_VERSION: u32 = 40;
/// The oldest minor flu accepts: every structure below has its full size from here on.
pub const MIN_MINOR_VERSION: u32 = 31;

pub const ROOT_ID: u64 = 1;

/// Request opcodes.
pub mod opcode {
    pub const LOOKUP: u32 = 1;
    pub const FORGET: u32 = 2;
    pub const GETATTR: u32 = 3;
    pub const SETATTR: u32 = 4;
    pub const READLINK: u32 = 5;
    pub const SYMLINK: u32 = 6;
    pub const MKNOD: u32 = 8;
    pub const MKDIR: u32 = 9;
    pub const UNLINK: u32 = 10;
    pub const RMDIR: u32 = 11;
    pub const RENAME: u32 = 12;
    pub const LINK: u32 = 13;
    pub const OPEN: u32 = 14;
    pub const READ: u32 = 15;
    pub const WRITE: u32 = 16;
    pub const STATFS: u32 = 17;
    pub const RELEASE: u32 = 18;
    pub const FSYNC: u32 = 20;
    pub const SETXATTR: u32 = 21;
    pub const GETXATTR: u32 = 22;
    pub const LISTXATTR: u32 = 23;
    pub const REMOVEXATTR: u32 = 24;
    pub const FLUSH: u32 = 25;
    pub const INIT: u32 = 26;
    pub const OPENDIR: u32 = 27;
    pub const READDIR: u32 = 28;
    pub const RELEASEDIR: u32 = 29;
    pub const FSYNCDIR: u32 = 30;
    pub const GETLK: u32 = 31;
    pub const SETLK: u32 = 32;
    pub const SETLKW: u32 = 33;
    pub const ACCESS: u32 = 34;
    pub const CREATE: u32 = 35;
    pub const INTERRUPT: u32 = 36;
    pub const BMAP: u32 = 37;
    pub const DESTROY: u32 = 38;
    pub const IOCTL: u32 = 39;
    pub const POLL: u32 = 40;
    pub const NOTIFY_REPLY: u32 = 41;
    pub const BATCH_FORGET: u32 = 42;
    pub const FALLOCATE: u32 = 43;
    pub const READDIRPLUS: u32 = 44;
    pub const RENAME2: u32 = 45;
    pub const LSEEK: u32 = 46;
    pub const COPY_FILE_RANGE: u32 = 47;
    pub const SYNCFS: u32 = 50;
    pub const TMPFILE: u32 = 51;
    pub const STATX: u32 = 52;
}

/// FUSE_INIT flags (`flags`, and `flags2` << 32 with FUSE_INIT_EXT).
pub mod init_flags {
    pub const ASYNC_READ: u64 = 1 << 0;
    pub const POSIX_LOCKS: u64 = 1 << 1;
    pub const ATOMIC_O_TRUNC: u64 = 1 << 3;
    pub const EXPORT_SUPPORT: u64 = 1 << 4;
    pub const BIG_WRITES: u64 = 1 << 5;
    pub const DONT_MASK: u64 = 1 << 6;
    pub const FLOCK_LOCKS: u64 = 1 << 10;
    pub const AUTO_INVAL_DATA: u64 = 1 << 12;
    pub const DO_READDIRPLUS: u64 = 1 << 13;
    pub const READDIRPLUS_AUTO: u64 = 1 << 14;
    pub const ASYNC_DIO: u64 = 1 << 15;
    pub const WRITEBACK_CACHE: u64 = 1 << 16;
    pub const PARALLEL_DIROPS: u64 = 1 << 18;
    pub const HANDLE_KILLPRIV: u64 = 1 << 19;
    pub const POSIX_ACL: u64 = 1 << 20;
    pub const ABORT_ERROR: u64 = 1 << 21;
    pub const MAX_PAGES: u64 = 1 << 22;
    pub const CACHE_SYMLINKS: u64 = 1 << 23;
    pub const INIT_EXT: u64 = 1 << 30;
    pub const HANDLE_KILLPRIV_V2: u64 = 1 << 28;
    pub const PASSTHROUGH: u64 = 1 << 37;
    /// No `open_by_handle_at` through the mount: name_to_handle_at answers EOPNOTSUPP
    /// (Linux 6.9).
    pub const NO_EXPORT_SUPPORT: u64 = 1 << 38;
    /// Requests travel over io_uring once the daemon registered its ring entries
    /// (Linux 6.14, with `enable_uring` set on the fuse module).
    pub const OVER_IO_URING: u64 = 1 << 41;
}

/// FUSE over io_uring (`include/uapi/linux/fuse.h`): the commands a ring entry is
/// submitted with, and the layout of the header buffer each entry registers.
pub mod uring {
    /// Register an entry (its header and payload buffers) and wait for a request.
    pub const CMD_REGISTER: u32 = 1;
    /// Answer the entry's request and wait for the next one.
    pub const CMD_COMMIT_AND_FETCH: u32 = 2;
    /// `struct fuse_uring_req_header`: `in_out` (the request's `fuse_in_header`, or
    /// the answer's `fuse_out_header`), then `op_in` (the opcode's fixed argument),
    /// then `ring_ent_in_out`.
    pub const OP_IN_OFFSET: usize = 128;
    pub const OP_IN_SIZE: usize = 128;
    pub const ENT_IN_OUT_OFFSET: usize = 256;
    pub const HEADER_SIZE: usize = 256 + std::mem::size_of::<super::UringEntInOut>();
}

/// `fuse_open_out.open_flags`.
pub mod fopen {
    pub const DIRECT_IO: u32 = 1 << 0;
    pub const KEEP_CACHE: u32 = 1 << 1;
    pub const NONSEEKABLE: u32 = 1 << 2;
    /// The kernel may cache the directory's listing (Linux 4.20).
    pub const CACHE_DIR: u32 = 1 << 3;
    /// Closing needs no FLUSH request (Linux 5.16; older kernels ignore it).
    pub const NOFLUSH: u32 = 1 << 5;
    pub const PASSTHROUGH: u32 = 1 << 7;
}

/// `fuse_setattr_in.valid` bits.
pub mod fattr {
    pub const MODE: u32 = 1 << 0;
    pub const UID: u32 = 1 << 1;
    pub const GID: u32 = 1 << 2;
    pub const SIZE: u32 = 1 << 3;
    pub const ATIME: u32 = 1 << 4;
    pub const MTIME: u32 = 1 << 5;
    pub const FH: u32 = 1 << 6;
    pub const ATIME_NOW: u32 = 1 << 7;
    pub const MTIME_NOW: u32 = 1 << 8;
}

/// `fuse_getattr_in.getattr_flags`: `fh` is meaningful.
pub const GETATTR_FH: u32 = 1 << 0;
/// `fuse_release_in.release_flags`: flush before release.
pub const RELEASE_FLUSH: u32 = 1 << 0;
/// `fuse_fsync_in.fsync_flags`: data only.
pub const FSYNC_FDATASYNC: u32 = 1 << 0;
/// `fuse_lk_in.lk_flags`: a BSD flock, not a POSIX lock.
pub const LK_FLOCK: u32 = 1 << 0;
/// The bit the kernel sets in the `unique` of an INTERRUPT request.
pub const INT_REQ_BIT: u64 = 1 << 0;

/// Notification codes (`fuse_notify_code`), sent in `OutHeader.error` with unique 0.
pub mod notify_code {
    pub const INVAL_INODE: i32 = 2;
    pub const INVAL_ENTRY: i32 = 3;
    pub const DELETE: i32 = 6;
}

/// Device ioctls on /dev/fuse (magic 229).
pub mod ioctl {
    /// `_IOR(229, 0, uint32_t)`: attach a new fd to an existing connection.
    pub const CLONE: u64 = 0x8004_e500;
    /// `_IOW(229, 1, struct fuse_backing_map)`: register a backing file.
    pub const BACKING_OPEN: u64 = 0x4010_e501;
    /// `_IOW(229, 2, uint32_t)`: drop a backing id.
    pub const BACKING_CLOSE: u64 = 0x4004_e502;
}

/// Plain data that may be read from and written as bytes.
///
/// # Safety
/// Implementors are `#[repr(C)]`, contain only integers, have no implicit padding, and
/// every bit pattern is a valid value.
pub unsafe trait Pod: Copy + Default {
    /// The value at the start of `bytes`, if they are long enough.
    fn read_from(bytes: &[u8]) -> Option<Self> {
        if bytes.len() < std::mem::size_of::<Self>() {
            return None;
        }
        // SAFETY: the length was checked; `Pod` promises any bytes are a valid value;
        // read_unaligned copes with the buffer's alignment.
        Some(unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast::<Self>()) })
    }

    fn as_bytes(&self) -> &[u8] {
        // SAFETY: `Pod` types have no padding, so all `size_of` bytes are initialized.
        unsafe {
            std::slice::from_raw_parts(
                (self as *const Self).cast::<u8>(),
                std::mem::size_of::<Self>(),
            )
        }
    }
}

macro_rules! pod {
    ($($(#[$m:meta])* pub struct $name:ident { $(pub $f:ident: $t:ty,)* })*) => {
        $(
            $(#[$m])*
            #[repr(C)]
            #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
            pub struct $name { $(pub $f: $t,)* }
            // SAFETY: integers only, laid out by the kernel header without implicit
            // padding (checked by the size tests below).
            unsafe impl Pod for $name {}
        )*
    };
}

pod! {
    /// `struct fuse_uring_ent_in_out`: which request an entry holds, and how many
    /// payload bytes it (or its answer) has.
    pub struct UringEntInOut {
        pub flags: u64,
        pub commit_id: u64,
        pub payload_sz: u32,
        pub padding: u32,
        pub reserved: u64,
    }
    /// `struct fuse_uring_cmd_req`, in the command area of a 128-byte SQE.
    pub struct UringCmdReq {
        pub flags: u64,
        pub commit_id: u64,
        pub qid: u16,
        pub padding: [u8; 6],
    }
    pub struct InHeader {
        pub len: u32,
        pub opcode: u32,
        pub unique: u64,
        pub nodeid: u64,
        pub uid: u32,
        pub gid: u32,
        pub pid: u32,
        pub total_extlen: u16,
        pub padding: u16,
    }
    pub struct OutHeader {
        pub len: u32,
        pub error: i32,
        pub unique: u64,
    }
    pub struct Attr {
        pub ino: u64,
        pub size: u64,
        pub blocks: u64,
        pub atime: u64,
        pub mtime: u64,
        pub ctime: u64,
        pub atimensec: u32,
        pub mtimensec: u32,
        pub ctimensec: u32,
        pub mode: u32,
        pub nlink: u32,
        pub uid: u32,
        pub gid: u32,
        pub rdev: u32,
        pub blksize: u32,
        pub flags: u32,
    }
    pub struct EntryOut {
        pub nodeid: u64,
        pub generation: u64,
        pub entry_valid: u64,
        pub attr_valid: u64,
        pub entry_valid_nsec: u32,
        pub attr_valid_nsec: u32,
        pub attr: Attr,
    }
    pub struct AttrOut {
        pub attr_valid: u64,
        pub attr_valid_nsec: u32,
        pub dummy: u32,
        pub attr: Attr,
    }
    pub struct Kstatfs {
        pub blocks: u64,
        pub bfree: u64,
        pub bavail: u64,
        pub files: u64,
        pub ffree: u64,
        pub bsize: u32,
        pub namelen: u32,
        pub frsize: u32,
        pub padding: u32,
        pub spare: [u32; 6],
    }
    pub struct FileLock {
        pub start: u64,
        pub end: u64,
        pub typ: u32,
        pub pid: u32,
    }
    pub struct ForgetIn {
        pub nlookup: u64,
    }
    pub struct ForgetOne {
        pub nodeid: u64,
        pub nlookup: u64,
    }
    pub struct BatchForgetIn {
        pub count: u32,
        pub dummy: u32,
    }
    pub struct GetattrIn {
        pub getattr_flags: u32,
        pub dummy: u32,
        pub fh: u64,
    }
    pub struct MknodIn {
        pub mode: u32,
        pub rdev: u32,
        pub umask: u32,
        pub padding: u32,
    }
    pub struct MkdirIn {
        pub mode: u32,
        pub umask: u32,
    }
    pub struct RenameIn {
        pub newdir: u64,
    }
    pub struct Rename2In {
        pub newdir: u64,
        pub flags: u32,
        pub padding: u32,
    }
    pub struct LinkIn {
        pub oldnodeid: u64,
    }
    pub struct SetattrIn {
        pub valid: u32,
        pub padding: u32,
        pub fh: u64,
        pub size: u64,
        pub lock_owner: u64,
        pub atime: u64,
        pub mtime: u64,
        pub ctime: u64,
        pub atimensec: u32,
        pub mtimensec: u32,
        pub ctimensec: u32,
        pub mode: u32,
        pub unused4: u32,
        pub uid: u32,
        pub gid: u32,
        pub unused5: u32,
    }
    pub struct OpenIn {
        pub flags: u32,
        pub open_flags: u32,
    }
    pub struct CreateIn {
        pub flags: u32,
        pub mode: u32,
        pub umask: u32,
        pub open_flags: u32,
    }
    pub struct OpenOut {
        pub fh: u64,
        pub open_flags: u32,
        pub backing_id: i32,
    }
    pub struct ReleaseIn {
        pub fh: u64,
        pub flags: u32,
        pub release_flags: u32,
        pub lock_owner: u64,
    }
    pub struct FlushIn {
        pub fh: u64,
        pub unused: u32,
        pub padding: u32,
        pub lock_owner: u64,
    }
    pub struct ReadIn {
        pub fh: u64,
        pub offset: u64,
        pub size: u32,
        pub read_flags: u32,
        pub lock_owner: u64,
        pub flags: u32,
        pub padding: u32,
    }
    pub struct WriteIn {
        pub fh: u64,
        pub offset: u64,
        pub size: u32,
        pub write_flags: u32,
        pub lock_owner: u64,
        pub flags: u32,
        pub padding: u32,
    }
    pub struct WriteOut {
        pub size: u32,
        pub padding: u32,
    }
    pub struct FsyncIn {
        pub fh: u64,
        pub fsync_flags: u32,
        pub padding: u32,
    }
    /// Without FUSE_SETXATTR_EXT (which flu does not ask for) the kernel sends these
    /// two fields only.
    pub struct SetxattrIn {
        pub size: u32,
        pub flags: u32,
    }
    pub struct GetxattrIn {
        pub size: u32,
        pub padding: u32,
    }
    pub struct GetxattrOut {
        pub size: u32,
        pub padding: u32,
    }
    pub struct LkIn {
        pub fh: u64,
        pub owner: u64,
        pub lk: FileLock,
        pub lk_flags: u32,
        pub padding: u32,
    }
    pub struct LkOut {
        pub lk: FileLock,
    }
    pub struct AccessIn {
        pub mask: u32,
        pub padding: u32,
    }
    pub struct InitIn {
        pub major: u32,
        pub minor: u32,
        pub max_readahead: u32,
        pub flags: u32,
        pub flags2: u32,
        pub unused: [u32; 11],
    }
    pub struct InitOut {
        pub major: u32,
        pub minor: u32,
        pub max_readahead: u32,
        pub flags: u32,
        pub max_background: u16,
        pub congestion_threshold: u16,
        pub max_write: u32,
        pub time_gran: u32,
        pub max_pages: u16,
        pub map_alignment: u16,
        pub flags2: u32,
        pub max_stack_depth: u32,
        pub unused: [u32; 6],
    }
    pub struct InterruptIn {
        pub unique: u64,
    }
    pub struct FallocateIn {
        pub fh: u64,
        pub offset: u64,
        pub length: u64,
        pub mode: u32,
        pub padding: u32,
    }
    pub struct LseekIn {
        pub fh: u64,
        pub offset: u64,
        pub whence: u32,
        pub padding: u32,
    }
    pub struct LseekOut {
        pub offset: u64,
    }
    pub struct CopyFileRangeIn {
        pub fh_in: u64,
        pub off_in: u64,
        pub nodeid_out: u64,
        pub fh_out: u64,
        pub off_out: u64,
        pub len: u64,
        pub flags: u64,
    }
    pub struct Dirent {
        pub ino: u64,
        pub off: u64,
        pub namelen: u32,
        pub typ: u32,
    }
    pub struct BackingMap {
        pub fd: i32,
        pub flags: u32,
        pub padding: u64,
    }
    pub struct NotifyInvalInodeOut {
        pub ino: u64,
        pub off: i64,
        pub len: i64,
    }
    pub struct NotifyInvalEntryOut {
        pub parent: u64,
        pub namelen: u32,
        pub flags: u32,
    }
    pub struct NotifyDeleteOut {
        pub parent: u64,
        pub child: u64,
        pub namelen: u32,
        pub padding: u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::size_of;

    #[test]
    fn sizes_match_the_kernel_header() {
        assert_eq!(size_of::<InHeader>(), 40);
        assert_eq!(size_of::<OutHeader>(), 16);
        assert_eq!(size_of::<Attr>(), 88);
        assert_eq!(size_of::<EntryOut>(), 128);
        assert_eq!(size_of::<AttrOut>(), 104);
        assert_eq!(size_of::<Kstatfs>(), 80);
        assert_eq!(size_of::<SetattrIn>(), 88);
        assert_eq!(size_of::<OpenOut>(), 16);
        assert_eq!(size_of::<ReadIn>(), 40);
        assert_eq!(size_of::<WriteIn>(), 40);
        assert_eq!(size_of::<LkIn>(), 48);
        assert_eq!(size_of::<InitIn>(), 64);
        assert_eq!(size_of::<InitOut>(), 64);
        assert_eq!(size_of::<CopyFileRangeIn>(), 56);
        assert_eq!(size_of::<Dirent>(), 24);
        assert_eq!(size_of::<BackingMap>(), 16);
        assert_eq!(size_of::<NotifyInvalInodeOut>(), 24);
        assert_eq!(size_of::<UringEntInOut>(), 32);
        assert_eq!(size_of::<UringCmdReq>(), 24);
        assert_eq!(uring::HEADER_SIZE, 288);
    }

    #[test]
    fn ioctl_numbers_match_the_kernel_macros() {
        // _IOC(dir, type, nr, size) = dir << 30 | size << 16 | type << 8 | nr
        let ioc = |dir: u64, nr: u64, size: usize| dir << 30 | (size as u64) << 16 | 229 << 8 | nr;
        assert_eq!(ioctl::CLONE, ioc(2, 0, 4));
        assert_eq!(ioctl::BACKING_OPEN, ioc(1, 1, size_of::<BackingMap>()));
        assert_eq!(ioctl::BACKING_CLOSE, ioc(1, 2, 4));
    }

    #[test]
    fn pod_round_trips_and_refuses_short_input() {
        let h = OutHeader {
            len: 16,
            error: -2,
            unique: 7,
        };
        assert_eq!(OutHeader::read_from(h.as_bytes()), Some(h));
        assert_eq!(OutHeader::read_from(&h.as_bytes()[..15]), None);
    }
}
