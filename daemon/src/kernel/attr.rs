//! `Stat` → `fuser::FileAttr`: how an implementation's attributes reach the kernel.
//!
//! fuser uses `FileAttr.ino` both as the FUSE node id and as the `st_ino` users see, so
//! the inode number is always the node id, never the implementation's `Stat.ino` (in
//! `use_ino` mode the node table makes the two equal whenever it can).

use std::time::UNIX_EPOCH;

use flu_api::Stat;
use fuser::{FileAttr, FileType, INodeNo};

/// The fuser file type of a `st_mode`; a mode without a known type is a regular file
/// (the kernel would refuse an entry without one).
pub fn file_type(mode: u32) -> FileType {
    match mode & libc::S_IFMT {
        libc::S_IFDIR => FileType::Directory,
        libc::S_IFLNK => FileType::Symlink,
        libc::S_IFCHR => FileType::CharDevice,
        libc::S_IFBLK => FileType::BlockDevice,
        libc::S_IFIFO => FileType::NamedPipe,
        libc::S_IFSOCK => FileType::Socket,
        _ => FileType::RegularFile,
    }
}

/// The attributes the kernel gets for node `nodeid`.
pub fn to_file_attr(stat: &Stat, nodeid: u64) -> FileAttr {
    FileAttr {
        ino: INodeNo(nodeid),
        size: stat.size,
        blocks: stat.blocks,
        atime: stat.atime.to_system_time(),
        mtime: stat.mtime.to_system_time(),
        ctime: stat.ctime.to_system_time(),
        crtime: UNIX_EPOCH,
        kind: file_type(stat.mode),
        perm: (stat.mode & 0o7777) as u16,
        nlink: u32::try_from(stat.nlink).unwrap_or(u32::MAX),
        uid: stat.uid,
        gid: stat.gid,
        // The wire field is 32 bits in the kernel's "new" encoding, which is what glibc's
        // dev_t holds in its low 32 bits for majors < 4096 and minors < 2^20 (libfuse
        // truncates the same way).
        rdev: stat.rdev as u32,
        blksize: stat.blksize,
        flags: 0,
    }
}

/// Attributes for a negative entry (node id 0: "no such name", cacheable).
pub fn negative_attr() -> FileAttr {
    to_file_attr(&Stat::default(), 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flu_api::Timespec;

    #[test]
    fn converts_every_field() {
        let st = Stat {
            dev: 9,
            ino: 1234,
            mode: libc::S_IFREG | 0o4755,
            nlink: 3,
            uid: 1000,
            gid: 100,
            rdev: 0,
            size: 5000,
            blocks: 16,
            blksize: 4096,
            atime: Timespec::new(1_700_000_000, 5),
            mtime: Timespec::new(1_600_000_000, 999_999_999),
            ctime: Timespec::new(-10, 0),
        };
        let a = to_file_attr(&st, 42);
        assert_eq!(a.ino, INodeNo(42), "node id, not the implementation's ino");
        assert_eq!(a.kind, FileType::RegularFile);
        assert_eq!(a.perm, 0o4755);
        assert_eq!((a.nlink, a.uid, a.gid), (3, 1000, 100));
        assert_eq!((a.size, a.blocks, a.blksize), (5000, 16, 4096));
        assert_eq!(a.atime, Timespec::new(1_700_000_000, 5).to_system_time());
        assert_eq!(a.mtime, st.mtime.to_system_time());
        assert_eq!(a.ctime, st.ctime.to_system_time());
    }

    #[test]
    fn file_types_from_mode() {
        for (mode, kind) in [
            (libc::S_IFDIR, FileType::Directory),
            (libc::S_IFLNK, FileType::Symlink),
            (libc::S_IFCHR, FileType::CharDevice),
            (libc::S_IFBLK, FileType::BlockDevice),
            (libc::S_IFIFO, FileType::NamedPipe),
            (libc::S_IFSOCK, FileType::Socket),
            (libc::S_IFREG, FileType::RegularFile),
            (0, FileType::RegularFile),
        ] {
            assert_eq!(file_type(mode | 0o644), kind);
        }
    }

    #[test]
    fn device_numbers_and_huge_link_counts() {
        let st = Stat {
            mode: libc::S_IFCHR | 0o600,
            rdev: libc::makedev(4, 300),
            nlink: u64::MAX,
            ..Stat::default()
        };
        let a = to_file_attr(&st, 2);
        // The kernel decodes: major = (dev & 0xfff00) >> 8, minor = (dev & 0xff) | ((dev >> 12) & 0xfff00).
        let major = (a.rdev & 0xfff00) >> 8;
        let minor = (a.rdev & 0xff) | ((a.rdev >> 12) & 0xfff00);
        assert_eq!((major, minor), (4, 300));
        assert_eq!(a.nlink, u32::MAX);
    }
}
