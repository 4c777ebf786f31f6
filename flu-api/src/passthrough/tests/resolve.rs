//! Path resolution: no escape through symlinks or `..`, paths longer than PATH_MAX.

use std::ffi::CString;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::sync::atomic::Ordering;

use nix::fcntl::{open, openat, OFlag};
use nix::sys::stat::{mkdirat, Mode};

use super::{ctx, lstat, p, Fx};
use crate::errno::Errno;
use crate::operations::*;
use crate::stat::Stat;

fn escape_attempts(fx: &Fx) {
    symlink("/", fx.real("evil")).unwrap();
    let outside = fx
        .dir
        .path()
        .parent()
        .unwrap()
        .join("flu-pt-should-not-exist");
    for r in [
        fx.fs.getattr(&ctx(), p("/evil/etc"), None).map(drop),
        fx.fs
            .mkdir(&ctx(), p("/evil/tmp/flu-pt-should-not-exist"), 0o755),
        fx.fs.getattr(&ctx(), p("/evil/etc/passwd"), None).map(drop),
    ] {
        let e = r.unwrap_err();
        assert!(
            [Errno::ELOOP, Errno::ENOTDIR, Errno::EXDEV].contains(&e),
            "{e:?}"
        );
    }
    assert!(lstat(&outside).is_err());
    // `..` never climbs out, nor anywhere.
    assert_eq!(
        fx.fs.getattr(&ctx(), p("/../etc"), None).unwrap_err(),
        Errno::EXDEV
    );
    // The symlink itself is reachable as a final component, unfollowed.
    let st = fx.fs.getattr(&ctx(), p("/evil"), None).unwrap();
    assert_eq!(st.file_type(), libc::S_IFLNK);
}

#[test]
fn symlink_components_are_never_followed() {
    escape_attempts(&Fx::new());
}

#[test]
fn symlink_components_are_never_followed_without_openat2() {
    let fx = Fx::new();
    fx.fs.no_openat2.store(true, Ordering::Relaxed);
    escape_attempts(&fx);
}

#[test]
fn root_is_the_directory_itself() {
    let fx = Fx::new();
    let st = fx.fs.getattr(&ctx(), p("/"), None).unwrap();
    assert_eq!(st, Stat::from(&lstat(fx.dir.path()).unwrap()));
    let st2 = fx.fs.getattr(&ctx(), p(""), None).unwrap();
    assert_eq!(st, st2);
}

/// Nested directories whose path is far longer than PATH_MAX, built with mkdirat on
/// relative fds as nothing else can.
fn long_path(fx: &Fx) -> String {
    let name = "d".repeat(200);
    let mut path = String::new();
    let mut cur = open(
        fx.dir.path(),
        OFlag::O_PATH | OFlag::O_DIRECTORY,
        Mode::empty(),
    )
    .unwrap();
    let c = CString::new(name.clone()).unwrap();
    for _ in 0..25 {
        mkdirat(&cur, c.as_c_str(), Mode::from_bits_truncate(0o755)).unwrap();
        cur = openat(&cur, c.as_c_str(), OFlag::O_PATH, Mode::empty()).unwrap();
        path.push('/');
        path.push_str(&name);
    }
    assert!(path.len() > libc::PATH_MAX as usize);
    path
}

fn long_paths_work(fx: &Fx) {
    let dir = long_path(fx);
    let st = fx.fs.getattr(&ctx(), Path::new(&dir), None).unwrap();
    assert!(st.is_dir());
    let file = format!("{dir}/f");
    let fh = fx.create(&file, libc::O_RDWR);
    assert_eq!(fx.fs.write(&ctx(), p(""), fh, 0, b"deep").unwrap(), 4);
    let st = fx.fs.getattr(&ctx(), Path::new(&file), None).unwrap();
    assert_eq!(st.size, 4);
    fx.fs.release(&ctx(), p(""), fh, 0, false).unwrap();
    fx.fs.unlink(&ctx(), Path::new(&file)).unwrap();
    assert_eq!(
        fx.fs.getattr(&ctx(), Path::new(&file), None).unwrap_err(),
        Errno::ENOENT
    );
}

#[test]
fn paths_longer_than_path_max() {
    long_paths_work(&Fx::new());
}

#[test]
fn paths_longer_than_path_max_without_openat2() {
    let fx = Fx::new();
    fx.fs.no_openat2.store(true, Ordering::Relaxed);
    long_paths_work(&fx);
}

#[test]
fn embedded_nul_and_missing_parents() {
    use std::os::unix::ffi::OsStrExt;
    let fx = Fx::new();
    let bad = std::ffi::OsStr::from_bytes(b"/a\0b");
    assert_eq!(
        fx.fs.getattr(&ctx(), Path::new(bad), None).unwrap_err(),
        Errno::EINVAL
    );
    assert_eq!(
        fx.fs.getattr(&ctx(), p("/no/such"), None).unwrap_err(),
        Errno::ENOENT
    );
    fx.write_real("file", b"x");
    assert_eq!(
        fx.fs.getattr(&ctx(), p("/file/x"), None).unwrap_err(),
        Errno::ENOTDIR
    );
}
