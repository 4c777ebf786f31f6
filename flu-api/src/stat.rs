//! `Stat` and `StatFs`: file and filesystem attributes as handlers report them.

use std::time::Duration;

use crate::time::Timespec;

/// File attributes, the fields of `struct stat`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    /// File type and permission bits (`S_IFREG | 0o644`).
    pub mode: u32,
    pub nlink: u64,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub size: u64,
    /// Number of 512-byte blocks.
    pub blocks: u64,
    pub blksize: u32,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
    /// How long the kernel may cache these attributes, when the handler says (a stat
    /// table's `attr_timeout`); else the mount's `-o attr_timeout`.
    pub attr_timeout: Option<Duration>,
    /// How long the kernel may cache the name that led here, when the handler says
    /// (`entry_timeout`); else the mount's `-o entry_timeout`.
    pub entry_timeout: Option<Duration>,
}

impl Stat {
    pub fn file_type(&self) -> u32 {
        self.mode & libc::S_IFMT
    }

    pub fn is_dir(&self) -> bool {
        self.file_type() == libc::S_IFDIR
    }
}

impl From<&libc::stat> for Stat {
    fn from(st: &libc::stat) -> Stat {
        Stat {
            dev: st.st_dev,
            ino: st.st_ino,
            mode: st.st_mode,
            nlink: st.st_nlink,
            uid: st.st_uid,
            gid: st.st_gid,
            rdev: st.st_rdev,
            size: st.st_size as u64,
            blocks: st.st_blocks as u64,
            blksize: st.st_blksize as u32,
            atime: Timespec::new(st.st_atime, st.st_atime_nsec as u32),
            mtime: Timespec::new(st.st_mtime, st.st_mtime_nsec as u32),
            ctime: Timespec::new(st.st_ctime, st.st_ctime_nsec as u32),
            attr_timeout: None,
            entry_timeout: None,
        }
    }
}

/// Filesystem statistics, the fields of `struct statvfs` (Flu's names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatFs {
    pub bsize: u64,
    pub frsize: u64,
    pub blocks: u64,
    pub bfree: u64,
    pub bavail: u64,
    pub files: u64,
    pub ffree: u64,
    pub favail: u64,
    pub fsid: u64,
    pub flag: u64,
    pub namemax: u64,
}

impl Default for StatFs {
    /// What libfuse answers when a filesystem has no statfs handler.
    fn default() -> StatFs {
        StatFs {
            bsize: 512,
            frsize: 512,
            blocks: 0,
            bfree: 0,
            bavail: 0,
            files: 0,
            ffree: 0,
            favail: 0,
            fsid: 0,
            flag: 0,
            namemax: 255,
        }
    }
}

impl From<&libc::statvfs> for StatFs {
    fn from(s: &libc::statvfs) -> StatFs {
        StatFs {
            bsize: s.f_bsize,
            frsize: s.f_frsize,
            blocks: s.f_blocks,
            bfree: s.f_bfree,
            bavail: s.f_bavail,
            files: s.f_files,
            ffree: s.f_ffree,
            favail: s.f_favail,
            fsid: s.f_fsid,
            flag: s.f_flag,
            namemax: s.f_namemax,
        }
    }
}
