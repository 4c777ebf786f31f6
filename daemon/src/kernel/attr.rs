//! `Stat` → the kernel's `fuse_attr`: how an implementation's attributes reach the
//! kernel, and the entry and attribute replies that carry them with cache lifetimes.
//!
//! The inode number the kernel shows is always the node id, never the implementation's
//! `Stat.ino` (in `use_ino` mode the node table makes the two equal whenever it can).

use std::time::Duration;

use flu_api::{Stat, Timespec};

use crate::adapter_config::AttrOverride;
use crate::session::abi;

/// A `d_type`-style file type (`DT_*`) for directory records, from `st_mode`; a mode
/// without a known type is a regular file (the kernel would refuse an entry without one).
pub fn dirent_type(mode: u32) -> u32 {
    file_type(mode) >> 12
}

/// The `S_IFMT` bits of `mode`, a regular file when they name no known type.
fn file_type(mode: u32) -> u32 {
    match mode & libc::S_IFMT {
        t @ (libc::S_IFDIR
        | libc::S_IFLNK
        | libc::S_IFCHR
        | libc::S_IFBLK
        | libc::S_IFIFO
        | libc::S_IFSOCK
        | libc::S_IFREG) => t,
        _ => libc::S_IFREG,
    }
}

fn time(t: Timespec) -> (u64, u32) {
    // The kernel reads the seconds as a signed 64-bit number: times before the epoch
    // travel as their two's complement.
    (t.sec as u64, t.nsec.min(999_999_999))
}

/// The attributes the kernel gets for node `nodeid`, with the mount's `-o uid=,gid=,umask=`.
pub fn to_attr(stat: &Stat, nodeid: u64, over: &AttrOverride) -> abi::Attr {
    let (atime, atimensec) = time(stat.atime);
    let (mtime, mtimensec) = time(stat.mtime);
    let (ctime, ctimensec) = time(stat.ctime);
    let permissions = match over.umask {
        Some(umask) => 0o777 & !umask,
        None => stat.mode & 0o7777,
    };
    let mode = file_type(stat.mode) | permissions;
    abi::Attr {
        ino: nodeid,
        size: stat.size,
        blocks: stat.blocks,
        atime,
        mtime,
        ctime,
        atimensec,
        mtimensec,
        ctimensec,
        mode,
        nlink: u32::try_from(stat.nlink).unwrap_or(u32::MAX),
        uid: over.uid.unwrap_or(stat.uid),
        gid: over.gid.unwrap_or(stat.gid),
        // The wire field is 32 bits in the kernel's "new" encoding, which is what glibc's
        // dev_t holds in its low 32 bits for majors < 4096 and minors < 2^20 (libfuse
        // truncates the same way).
        rdev: stat.rdev as u32,
        blksize: stat.blksize,
        flags: 0,
    }
}

/// How the mount shapes every attribute reply: the cache lifetimes of entries and
/// attributes, and the `-o uid=,gid=,umask=` override.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReplyAttrs {
    pub entry_ttl: Duration,
    pub attr_ttl: Duration,
    pub over: AttrOverride,
}

/// An entry reply: node `nodeid` with `stat`, cacheable for the mount's lifetimes, or
/// for those the handler set in `stat`.
pub fn entry_out(nodeid: u64, generation: u32, stat: &Stat, r: &ReplyAttrs) -> abi::EntryOut {
    let (entry, attr) = (r.entry_ttl, r.attr_ttl);
    let entry = stat.entry_timeout.unwrap_or(entry);
    let attr = stat.attr_timeout.unwrap_or(attr);
    abi::EntryOut {
        nodeid,
        generation: u64::from(generation),
        entry_valid: entry.as_secs(),
        attr_valid: attr.as_secs(),
        entry_valid_nsec: entry.subsec_nanos(),
        attr_valid_nsec: attr.subsec_nanos(),
        attr: to_attr(stat, nodeid, &r.over),
    }
}

/// An attribute reply, cacheable for the mount's attribute lifetime or the handler's own.
pub fn attr_out(nodeid: u64, stat: &Stat, r: &ReplyAttrs) -> abi::AttrOut {
    let attr = stat.attr_timeout.unwrap_or(r.attr_ttl);
    abi::AttrOut {
        attr_valid: attr.as_secs(),
        attr_valid_nsec: attr.subsec_nanos(),
        dummy: 0,
        attr: to_attr(stat, nodeid, &r.over),
    }
}

#[cfg(test)]
mod lifetime_tests {
    use super::*;

    #[test]
    fn a_handler_lifetime_overrides_the_mount_one() {
        let mount = ReplyAttrs {
            entry_ttl: Duration::from_secs(60),
            attr_ttl: Duration::from_secs(60),
            over: AttrOverride::default(),
        };
        let plain = Stat::default();
        let e = entry_out(2, 0, &plain, &mount);
        assert_eq!((e.entry_valid, e.attr_valid), (60, 60));
        let live = Stat {
            attr_timeout: Some(Duration::from_millis(1500)),
            entry_timeout: Some(Duration::ZERO),
            ..Stat::default()
        };
        let e = entry_out(2, 0, &live, &mount);
        assert_eq!((e.entry_valid, e.entry_valid_nsec), (0, 0));
        assert_eq!((e.attr_valid, e.attr_valid_nsec), (1, 500_000_000));
        let a = attr_out(2, &live, &mount);
        assert_eq!((a.attr_valid, a.attr_valid_nsec), (1, 500_000_000));
        assert_eq!(attr_out(2, &plain, &mount).attr_valid, 60);
    }
}

/// A negative entry (node id 0: "no such name", cacheable for `negative`).
pub fn negative_entry(negative: Duration) -> abi::EntryOut {
    let r = ReplyAttrs {
        entry_ttl: negative,
        ..ReplyAttrs::default()
    };
    entry_out(0, 0, &Stat::default(), &r)
}

#[cfg(test)]
mod tests {
    use super::*;

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
            attr_timeout: None,
            entry_timeout: None,
        };
        let a = to_attr(&st, 42, &AttrOverride::default());
        assert_eq!(a.ino, 42, "node id, not the implementation's ino");
        assert_eq!(a.mode, libc::S_IFREG | 0o4755);
        assert_eq!((a.nlink, a.uid, a.gid), (3, 1000, 100));
        assert_eq!((a.size, a.blocks, a.blksize), (5000, 16, 4096));
        assert_eq!((a.atime, a.atimensec), (1_700_000_000, 5));
        assert_eq!((a.mtime, a.mtimensec), (1_600_000_000, 999_999_999));
        assert_eq!(
            a.ctime as i64, -10,
            "before the epoch, as the kernel reads it"
        );
    }

    #[test]
    fn file_types_from_mode() {
        for (mode, dt) in [
            (libc::S_IFDIR, libc::DT_DIR),
            (libc::S_IFLNK, libc::DT_LNK),
            (libc::S_IFCHR, libc::DT_CHR),
            (libc::S_IFBLK, libc::DT_BLK),
            (libc::S_IFIFO, libc::DT_FIFO),
            (libc::S_IFSOCK, libc::DT_SOCK),
            (libc::S_IFREG, libc::DT_REG),
            (0, libc::DT_REG),
        ] {
            assert_eq!(dirent_type(mode | 0o644), u32::from(dt));
        }
        let untyped = Stat {
            mode: 0o644,
            ..Stat::default()
        };
        assert_eq!(
            to_attr(&untyped, 2, &AttrOverride::default()).mode,
            libc::S_IFREG | 0o644
        );
    }

    #[test]
    fn device_numbers_and_huge_link_counts() {
        let st = Stat {
            mode: libc::S_IFCHR | 0o600,
            rdev: libc::makedev(4, 300),
            nlink: u64::MAX,
            ..Stat::default()
        };
        let a = to_attr(&st, 2, &AttrOverride::default());
        // The kernel decodes: major = (dev & 0xfff00) >> 8, minor = (dev & 0xff) | ((dev >> 12) & 0xfff00).
        let major = (a.rdev & 0xfff00) >> 8;
        let minor = (a.rdev & 0xff) | ((a.rdev >> 12) & 0xfff00);
        assert_eq!((major, minor), (4, 300));
        assert_eq!(a.nlink, u32::MAX);
    }

    #[test]
    fn uid_gid_and_umask_override_every_reply() {
        let st = Stat {
            mode: libc::S_IFDIR | 0o4755,
            uid: 1000,
            gid: 100,
            ..Stat::default()
        };
        let over = AttrOverride {
            uid: Some(0),
            gid: Some(7),
            umask: Some(0o027),
        };
        let a = to_attr(&st, 2, &over);
        assert_eq!((a.uid, a.gid), (0, 7));
        assert_eq!(a.mode, libc::S_IFDIR | 0o750, "type kept, setuid gone");
        let r = ReplyAttrs {
            over,
            ..ReplyAttrs::default()
        };
        assert_eq!(entry_out(2, 0, &st, &r).attr.uid, 0);
        assert_eq!(attr_out(2, &st, &r).attr.mode, libc::S_IFDIR | 0o750);
        let only_uid = AttrOverride {
            uid: Some(5),
            ..AttrOverride::default()
        };
        let a = to_attr(&st, 2, &only_uid);
        assert_eq!((a.uid, a.gid, a.mode), (5, 100, libc::S_IFDIR | 0o4755));
    }
}
