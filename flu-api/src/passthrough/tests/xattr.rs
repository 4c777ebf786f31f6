//! xattrs on tmpfs (/dev/shm), where `user.*` is supported.

use std::ffi::OsStr;
use std::os::unix::fs::symlink;

use super::{ctx, p, Fx};
use crate::errno::Errno;
use crate::operations::*;

#[test]
fn set_get_list_remove() {
    let fx = Fx::shm();
    fx.write_real("f", b"");
    let n = |s: &str| OsStr::new(s).to_owned();
    let big = vec![7u8; 3000];
    fx.fs
        .setxattr(&ctx(), p("/f"), &n("user.a"), b"1", 0, None)
        .unwrap();
    fx.fs
        .setxattr(&ctx(), p("/f"), &n("user.big"), &big, 0, None)
        .unwrap();
    fx.fs
        .setxattr(&ctx(), p("/f"), &n("user.empty"), b"", 0, None)
        .unwrap();
    assert_eq!(
        fx.fs.getxattr(&ctx(), p("/f"), &n("user.a"), None).unwrap(),
        b"1"
    );
    assert_eq!(
        fx.fs
            .getxattr(&ctx(), p("/f"), &n("user.big"), None)
            .unwrap(),
        big
    );
    assert_eq!(
        fx.fs
            .getxattr(&ctx(), p("/f"), &n("user.empty"), None)
            .unwrap(),
        b""
    );
    assert_eq!(
        fx.fs
            .getxattr(&ctx(), p("/f"), &n("user.none"), None)
            .unwrap_err(),
        Errno::ENODATA
    );
    assert_eq!(
        fx.fs
            .setxattr(
                &ctx(),
                p("/f"),
                &n("user.a"),
                b"2",
                libc::XATTR_CREATE,
                None
            )
            .unwrap_err(),
        Errno::EEXIST
    );
    assert_eq!(
        fx.fs
            .setxattr(
                &ctx(),
                p("/f"),
                &n("user.z"),
                b"2",
                libc::XATTR_REPLACE,
                None
            )
            .unwrap_err(),
        Errno::ENODATA
    );
    let mut list = fx.fs.listxattr(&ctx(), p("/f"), None).unwrap();
    list.sort();
    assert_eq!(list, [n("user.a"), n("user.big"), n("user.empty")]);
    // The same answer the kernel gives directly.
    let direct = xattr_list_direct(&fx.real("f"));
    assert_eq!(list.len(), direct);
    fx.fs
        .removexattr(&ctx(), p("/f"), &n("user.a"), None)
        .unwrap();
    assert_eq!(
        fx.fs
            .removexattr(&ctx(), p("/f"), &n("user.a"), None)
            .unwrap_err(),
        Errno::ENODATA
    );
    assert_eq!(fx.fs.listxattr(&ctx(), p("/f"), None).unwrap().len(), 2);
    // Directories and the root have xattrs too.
    fx.fs
        .setxattr(&ctx(), p("/"), &n("user.r"), b"root", 0, None)
        .unwrap();
    assert_eq!(
        fx.fs.getxattr(&ctx(), p("/"), &n("user.r"), None).unwrap(),
        b"root"
    );
}

fn xattr_list_direct(path: &std::path::Path) -> usize {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    let mut buf = vec![0u8; 4096];
    // SAFETY: `c` is a NUL-terminated CString; `buf` is live and writable, and at most
    // `buf.len()` bytes are written.
    let n = unsafe { libc::llistxattr(c.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    assert!(n >= 0);
    buf[..n as usize].iter().filter(|&&b| b == 0).count()
}

#[test]
fn symlinks_are_not_followed() {
    let fx = Fx::shm();
    fx.write_real("f", b"");
    symlink("f", fx.real("l")).unwrap();
    let n = OsStr::new("user.a");
    // As the kernel answers l*xattr on a symlink for user.*.
    assert_eq!(
        fx.fs
            .setxattr(&ctx(), p("/l"), n, b"1", 0, None)
            .unwrap_err(),
        Errno::EPERM
    );
    fx.fs.setxattr(&ctx(), p("/f"), n, b"1", 0, None).unwrap();
    assert_eq!(
        fx.fs.getxattr(&ctx(), p("/l"), n, None).unwrap_err(),
        Errno::ENODATA
    );
    assert!(fx.fs.listxattr(&ctx(), p("/l"), None).unwrap().is_empty());
    if super::is_root() {
        let t = OsStr::new("trusted.t");
        fx.fs
            .setxattr(&ctx(), p("/l"), t, b"on link", 0, None)
            .unwrap();
        assert_eq!(
            fx.fs.getxattr(&ctx(), p("/l"), t, None).unwrap(),
            b"on link"
        );
        assert_eq!(
            fx.fs.getxattr(&ctx(), p("/f"), t, None).unwrap_err(),
            Errno::ENODATA
        );
    }
}

/// With a handle, the calls reach the open object even after its name is gone (and a
/// new file took the name): through the fd, or through /proc for an O_PATH handle.
#[test]
fn by_handle_after_the_name_is_gone() {
    let fx = Fx::shm();
    let n = |s: &str| OsStr::new(s).to_owned();
    for flags in [libc::O_RDONLY, libc::O_PATH] {
        fx.write_real("f", b"");
        let fh = fx.open("/f", flags);
        fx.fs
            .setxattr(&ctx(), p("/f"), &n("user.a"), b"old", 0, None)
            .unwrap();
        std::fs::remove_file(fx.real("f")).unwrap();
        fx.write_real("f", b"new");
        let h = Some(fh);
        fx.fs
            .setxattr(&ctx(), p("/f"), &n("user.b"), b"2", 0, h)
            .unwrap();
        assert_eq!(
            fx.fs.getxattr(&ctx(), p("/f"), &n("user.a"), h).unwrap(),
            b"old"
        );
        let mut list = fx.fs.listxattr(&ctx(), p("/f"), h).unwrap();
        list.sort();
        assert_eq!(list, [n("user.a"), n("user.b")], "flags {flags:#o}");
        fx.fs.removexattr(&ctx(), p("/f"), &n("user.a"), h).unwrap();
        assert_eq!(
            fx.fs
                .getxattr(&ctx(), p("/f"), &n("user.a"), h)
                .unwrap_err(),
            Errno::ENODATA
        );
        // The file now at the name was never touched.
        assert!(fx.fs.listxattr(&ctx(), p("/f"), None).unwrap().is_empty());
        fx.fs.release(&ctx(), p("/f"), fh, flags, false).unwrap();
        std::fs::remove_file(fx.real("f")).unwrap();
    }
}

/// A removed directory, through its opendir handle.
#[test]
fn by_handle_of_a_removed_directory() {
    let fx = Fx::shm();
    let n = OsStr::new("user.d");
    std::fs::create_dir(fx.real("d")).unwrap();
    let fh = Some(Fh(fx.fs.opendir(&ctx(), p("/d"), 0).unwrap().fh));
    std::fs::remove_dir(fx.real("d")).unwrap();
    assert_eq!(
        fx.fs
            .setxattr(&ctx(), p("/d"), n, b"1", 0, None)
            .unwrap_err(),
        Errno::ENOENT
    );
    fx.fs.setxattr(&ctx(), p("/d"), n, b"1", 0, fh).unwrap();
    assert_eq!(fx.fs.getxattr(&ctx(), p("/d"), n, fh).unwrap(), b"1");
    assert_eq!(fx.fs.listxattr(&ctx(), p("/d"), fh).unwrap(), [n]);
    fx.fs.removexattr(&ctx(), p("/d"), n, fh).unwrap();
}
