//! What the filesystem below a handle is, and what that lets the passthrough promise
//! the kernel: that a close reports nothing (no FLUSH needed), and that a directory's
//! timestamps change with every change to its entries (so a cached listing can be
//! checked against them).

use std::os::fd::RawFd;

const TMPFS: i64 = 0x0102_1994;
const EXT4: i64 = 0xEF53; // ext2/3/4
const XFS: i64 = 0x5846_5342;
const BTRFS: i64 = 0x9123_683E;
const F2FS: i64 = 0xF2F5_2010;
const OVERLAYFS: i64 = 0x794C_7630;
const ZFS: i64 = 0x2FC1_2FC1;
const VFAT: i64 = 0x4D44;
const NTFS: i64 = 0x5346_544E;

/// The `f_type` of the filesystem `fd` is on (None: fstatfs failed).
fn fs_type(fd: RawFd) -> Option<i64> {
    let mut st = std::mem::MaybeUninit::<libc::statfs>::uninit();
    // SAFETY: `st` is a valid out-pointer for one statfs; `fd` is open (the caller
    // holds it).
    if unsafe { libc::fstatfs(fd, st.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: fstatfs succeeded, so it filled `st`.
    let f_type = unsafe { st.assume_init() }.f_type;
    // f_type is an i64 here, an i32 or u32 on other architectures.
    #[allow(clippy::unnecessary_cast)]
    Some(f_type as i64)
}

/// Whether closing `fd` can report nothing: it is on a local filesystem, where
/// `flush`'s close(dup(fd)) neither writes back nor fails (network filesystems — NFS,
/// SMB, FUSE, 9p, Ceph — report write-back errors at close, so they keep their flush).
pub fn closes_quietly(fd: RawFd) -> bool {
    const LOCAL: [i64; 9] = [TMPFS, EXT4, XFS, BTRFS, F2FS, OVERLAYFS, ZFS, VFAT, NTFS];
    fs_type(fd).is_some_and(|t| LOCAL.contains(&t))
}

/// Whether the directory `fd` is on a local filesystem whose directories get a new
/// mtime (nanoseconds) at every change to their entries, however quick the changes
/// follow each other: then an unchanged mtime, ctime and size mean an unchanged
/// listing. Not vfat (2-second times), not network filesystems (changes by other
/// clients show late, if at all), not FUSE.
pub fn listing_follows_times(fd: RawFd) -> bool {
    const FINE: [i64; 7] = [TMPFS, EXT4, XFS, BTRFS, F2FS, OVERLAYFS, ZFS];
    fs_type(fd).is_some_and(|t| FINE.contains(&t))
}
