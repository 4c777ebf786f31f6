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
        .setxattr(&ctx(), p("/f"), &n("user.a"), b"1", 0)
        .unwrap();
    fx.fs
        .setxattr(&ctx(), p("/f"), &n("user.big"), &big, 0)
        .unwrap();
    fx.fs
        .setxattr(&ctx(), p("/f"), &n("user.empty"), b"", 0)
        .unwrap();
    assert_eq!(fx.fs.getxattr(&ctx(), p("/f"), &n("user.a")).unwrap(), b"1");
    assert_eq!(
        fx.fs.getxattr(&ctx(), p("/f"), &n("user.big")).unwrap(),
        big
    );
    assert_eq!(
        fx.fs.getxattr(&ctx(), p("/f"), &n("user.empty")).unwrap(),
        b""
    );
    assert_eq!(
        fx.fs
            .getxattr(&ctx(), p("/f"), &n("user.none"))
            .unwrap_err(),
        Errno::ENODATA
    );
    assert_eq!(
        fx.fs
            .setxattr(&ctx(), p("/f"), &n("user.a"), b"2", libc::XATTR_CREATE)
            .unwrap_err(),
        Errno::EEXIST
    );
    assert_eq!(
        fx.fs
            .setxattr(&ctx(), p("/f"), &n("user.z"), b"2", libc::XATTR_REPLACE)
            .unwrap_err(),
        Errno::ENODATA
    );
    let mut list = fx.fs.listxattr(&ctx(), p("/f")).unwrap();
    list.sort();
    assert_eq!(list, [n("user.a"), n("user.big"), n("user.empty")]);
    // The same answer the kernel gives directly.
    let direct = xattr_list_direct(&fx.real("f"));
    assert_eq!(list.len(), direct);
    fx.fs.removexattr(&ctx(), p("/f"), &n("user.a")).unwrap();
    assert_eq!(
        fx.fs
            .removexattr(&ctx(), p("/f"), &n("user.a"))
            .unwrap_err(),
        Errno::ENODATA
    );
    assert_eq!(fx.fs.listxattr(&ctx(), p("/f")).unwrap().len(), 2);
    // Directories and the root have xattrs too.
    fx.fs
        .setxattr(&ctx(), p("/"), &n("user.r"), b"root", 0)
        .unwrap();
    assert_eq!(
        fx.fs.getxattr(&ctx(), p("/"), &n("user.r")).unwrap(),
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
        fx.fs.setxattr(&ctx(), p("/l"), n, b"1", 0).unwrap_err(),
        Errno::EPERM
    );
    fx.fs.setxattr(&ctx(), p("/f"), n, b"1", 0).unwrap();
    assert_eq!(
        fx.fs.getxattr(&ctx(), p("/l"), n).unwrap_err(),
        Errno::ENODATA
    );
    assert!(fx.fs.listxattr(&ctx(), p("/l")).unwrap().is_empty());
    if super::is_root() {
        let t = OsStr::new("trusted.t");
        fx.fs.setxattr(&ctx(), p("/l"), t, b"on link", 0).unwrap();
        assert_eq!(fx.fs.getxattr(&ctx(), p("/l"), t).unwrap(), b"on link");
        assert_eq!(
            fx.fs.getxattr(&ctx(), p("/f"), t).unwrap_err(),
            Errno::ENODATA
        );
    }
}
