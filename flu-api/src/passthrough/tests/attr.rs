//! getattr, chmod, chown, truncate, utimens, access, statfs.

use std::os::unix::fs::symlink;

use super::{ctx, lstat, p, Fx};
use crate::errno::Errno;
use crate::operations::*;
use crate::stat::Stat;
use crate::time::{TimeSet, Timespec};

#[test]
fn getattr_is_lstat() {
    let fx = Fx::new();
    fx.write_real("f", b"hello");
    symlink("f", fx.real("l")).unwrap();
    std::fs::create_dir(fx.real("d")).unwrap();
    for name in ["f", "l", "d"] {
        let ours = fx.fs.getattr(&ctx(), p(&format!("/{name}")), None).unwrap();
        assert_eq!(ours, Stat::from(&lstat(&fx.real(name)).unwrap()), "{name}");
    }
    let l = fx.fs.getattr(&ctx(), p("/l"), None).unwrap();
    assert_eq!(l.file_type(), libc::S_IFLNK);
    assert_eq!(l.size, 1);
    assert_eq!(
        fx.fs.getattr(&ctx(), p("/nope"), None).unwrap_err(),
        Errno::ENOENT
    );
}

#[test]
fn chmod_by_path_handle_and_on_symlink() {
    let fx = Fx::new();
    fx.write_real("f", b"");
    symlink("f", fx.real("l")).unwrap();
    fx.fs.chmod(&ctx(), p("/f"), 0o4751, None).unwrap();
    assert_eq!(
        lstat(&fx.real("f")).unwrap().st_mode,
        libc::S_IFREG | 0o4751
    );
    // lchmod: the kernel answers EOPNOTSUPP, and the target is untouched.
    assert_eq!(
        fx.fs.chmod(&ctx(), p("/l"), 0o600, None).unwrap_err(),
        Errno::EOPNOTSUPP
    );
    assert_eq!(lstat(&fx.real("f")).unwrap().st_mode & 0o7777, 0o4751);
    let fh = fx.open("/f", libc::O_RDONLY);
    std::fs::remove_file(fx.real("f")).unwrap();
    fx.fs.chmod(&ctx(), p("/f"), 0o600, Some(fh)).unwrap();
    let st = fx.fs.getattr(&ctx(), p("/f"), Some(fh)).unwrap();
    assert_eq!(st.mode, libc::S_IFREG | 0o600);
    assert_eq!(st.nlink, 0);
}

#[test]
fn chown_none_is_unchanged() {
    if !super::is_root() {
        return;
    }
    let fx = Fx::new();
    fx.write_real("f", b"");
    symlink("f", fx.real("l")).unwrap();
    fx.fs
        .chown(&ctx(), p("/f"), Some(1234), None, None)
        .unwrap();
    let st = lstat(&fx.real("f")).unwrap();
    assert_eq!((st.st_uid, st.st_gid), (1234, 0));
    fx.fs
        .chown(&ctx(), p("/f"), None, Some(4321), None)
        .unwrap();
    let st = lstat(&fx.real("f")).unwrap();
    assert_eq!((st.st_uid, st.st_gid), (1234, 4321));
    // The symlink itself changes, not its target.
    fx.fs
        .chown(&ctx(), p("/l"), Some(7), Some(8), None)
        .unwrap();
    let st = lstat(&fx.real("l")).unwrap();
    assert_eq!((st.st_uid, st.st_gid), (7, 8));
    let st = lstat(&fx.real("f")).unwrap();
    assert_eq!((st.st_uid, st.st_gid), (1234, 4321));
    let fh = fx.open("/f", libc::O_RDONLY);
    fx.fs
        .chown(&ctx(), p("/f"), Some(5), None, Some(fh))
        .unwrap();
    assert_eq!(lstat(&fx.real("f")).unwrap().st_uid, 5);
}

#[test]
fn truncate_by_path_and_handle() {
    let fx = Fx::new();
    fx.write_real("f", b"0123456789");
    fx.fs.truncate(&ctx(), p("/f"), 4, None).unwrap();
    assert_eq!(std::fs::read(fx.real("f")).unwrap(), b"0123");
    fx.fs.truncate(&ctx(), p("/f"), 6, None).unwrap();
    assert_eq!(std::fs::read(fx.real("f")).unwrap(), b"0123\0\0");
    let fh = fx.open("/f", libc::O_RDWR);
    std::fs::remove_file(fx.real("f")).unwrap();
    fx.fs.truncate(&ctx(), p("/f"), 2, Some(fh)).unwrap();
    assert_eq!(fx.fs.getattr(&ctx(), p("/f"), Some(fh)).unwrap().size, 2);
    // The kernel's answers for a directory and a symlink.
    std::fs::create_dir(fx.real("d")).unwrap();
    symlink("d", fx.real("l")).unwrap();
    assert_eq!(
        fx.fs.truncate(&ctx(), p("/d"), 0, None).unwrap_err(),
        Errno::EISDIR
    );
    assert_eq!(
        fx.fs.truncate(&ctx(), p("/l"), 0, None).unwrap_err(),
        Errno::EINVAL
    );
}

#[test]
fn utimens_exact_now_and_omit() {
    let fx = Fx::new();
    fx.write_real("f", b"");
    symlink("f", fx.real("l")).unwrap();
    let a = Timespec::new(1_000_000_000, 123_456_789);
    let m = Timespec::new(1_500_000_000, 987_654_321);
    fx.fs
        .utimens(&ctx(), p("/f"), TimeSet::At(a), TimeSet::At(m), None)
        .unwrap();
    let st = Stat::from(&lstat(&fx.real("f")).unwrap());
    assert_eq!((st.atime, st.mtime), (a, m));
    // Omit leaves a time, Now sets the current time.
    let before = Timespec::now();
    fx.fs
        .utimens(&ctx(), p("/f"), TimeSet::Omit, TimeSet::Now, None)
        .unwrap();
    let st = Stat::from(&lstat(&fx.real("f")).unwrap());
    assert_eq!(st.atime, a);
    assert!(st.mtime.sec >= before.sec - 1 && st.mtime != m);
    // On a symlink: the link's own times.
    fx.fs
        .utimens(&ctx(), p("/l"), TimeSet::At(m), TimeSet::At(a), None)
        .unwrap();
    let sl = Stat::from(&lstat(&fx.real("l")).unwrap());
    assert_eq!((sl.atime, sl.mtime), (m, a));
    assert_eq!(Stat::from(&lstat(&fx.real("f")).unwrap()).atime, a);
    // Through a handle of an unlinked file.
    let fh = fx.open("/f", libc::O_RDONLY);
    std::fs::remove_file(fx.real("f")).unwrap();
    fx.fs
        .utimens(&ctx(), p("/f"), TimeSet::At(m), TimeSet::Omit, Some(fh))
        .unwrap();
    assert_eq!(fx.fs.getattr(&ctx(), p("/f"), Some(fh)).unwrap().atime, m);
}

#[test]
fn access_checks() {
    let fx = Fx::new();
    fx.write_real("f", b"");
    fx.fs.access(&ctx(), p("/f"), libc::F_OK).unwrap();
    fx.fs
        .access(&ctx(), p("/f"), libc::R_OK | libc::W_OK)
        .unwrap();
    assert_eq!(
        fx.fs.access(&ctx(), p("/g"), libc::F_OK).unwrap_err(),
        Errno::ENOENT
    );
    // root may not execute a file without any x bit
    assert_eq!(
        fx.fs.access(&ctx(), p("/f"), libc::X_OK).unwrap_err(),
        Errno::EACCES
    );
}

#[test]
fn statfs_matches_statvfs() {
    let fx = Fx::new();
    let ours = fx.fs.statfs(&ctx(), p("/")).unwrap();
    let c = std::ffi::CString::new(fx.dir.path().to_str().unwrap()).unwrap();
    // SAFETY: statvfs is plain integers, for which all-zero is a valid value.
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated CString and `s` a live, writable statvfs.
    assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut s) }, 0);
    let direct = crate::stat::StatFs::from(&s);
    assert_eq!(
        (
            ours.bsize,
            ours.frsize,
            ours.blocks,
            ours.fsid,
            ours.namemax
        ),
        (
            direct.bsize,
            direct.frsize,
            direct.blocks,
            direct.fsid,
            direct.namemax
        )
    );
}
