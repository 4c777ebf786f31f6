//! mknod, mkdir, symlink, readlink, unlink, rmdir, rename (flags), link.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;

use super::{ctx, lstat, p, Fx};
use crate::errno::Errno;
use crate::operations::*;

#[test]
fn mkdir_mknod_fifo_and_errors() {
    let fx = Fx::new();
    fx.fs.mkdir(&ctx(), p("/d"), 0o750).unwrap();
    let st = lstat(&fx.real("d")).unwrap();
    assert_eq!(st.st_mode, libc::S_IFDIR | 0o750);
    assert_eq!(
        fx.fs.mkdir(&ctx(), p("/d"), 0o750).unwrap_err(),
        Errno::EEXIST
    );
    fx.fs
        .mknod(&ctx(), p("/d/fifo"), libc::S_IFIFO | 0o640, 0)
        .unwrap();
    assert_eq!(
        lstat(&fx.real("d/fifo")).unwrap().st_mode,
        libc::S_IFIFO | 0o640
    );
    fx.fs
        .mknod(&ctx(), p("/d/reg"), libc::S_IFREG | 0o600, 0)
        .unwrap();
    assert_eq!(
        lstat(&fx.real("d/reg")).unwrap().st_mode,
        libc::S_IFREG | 0o600
    );
    if super::is_root() {
        let rdev = libc::makedev(1, 3);
        fx.fs
            .mknod(&ctx(), p("/d/null"), libc::S_IFCHR | 0o666, rdev)
            .unwrap();
        let st = lstat(&fx.real("d/null")).unwrap();
        assert_eq!((st.st_mode, st.st_rdev), (libc::S_IFCHR | 0o666, rdev));
        assert_eq!(
            fx.fs.getattr(&ctx(), p("/d/null"), None).unwrap().rdev,
            rdev
        );
    }
    assert_eq!(
        fx.fs
            .mknod(&ctx(), p("/no/x"), libc::S_IFIFO | 0o600, 0)
            .unwrap_err(),
        Errno::ENOENT
    );
}

#[test]
fn symlink_and_readlink() {
    let fx = Fx::new();
    let target = std::ffi::OsStr::from_bytes(b"../odd\xffbytes/ target");
    fx.fs
        .symlink(&ctx(), std::path::Path::new(target), p("/l"))
        .unwrap();
    assert_eq!(
        std::fs::read_link(fx.real("l")).unwrap().as_os_str(),
        target
    );
    assert_eq!(fx.fs.readlink(&ctx(), p("/l")).unwrap(), target.as_bytes());
    fx.write_real("f", b"");
    assert_eq!(fx.fs.readlink(&ctx(), p("/f")).unwrap_err(), Errno::EINVAL);
    assert_eq!(
        fx.fs.symlink(&ctx(), p("x"), p("/f")).unwrap_err(),
        Errno::EEXIST
    );
    let long = "t".repeat(4000);
    fx.fs.symlink(&ctx(), p(&long), p("/long")).unwrap();
    assert_eq!(fx.fs.readlink(&ctx(), p("/long")).unwrap(), long.as_bytes());
}

#[test]
fn link_shares_the_inode() {
    let fx = Fx::new();
    fx.write_real("a", b"data");
    fx.fs.link(&ctx(), p("/a"), p("/b")).unwrap();
    let a = fx.fs.getattr(&ctx(), p("/a"), None).unwrap();
    let b = fx.fs.getattr(&ctx(), p("/b"), None).unwrap();
    assert_eq!((a.ino, a.nlink), (b.ino, 2));
    assert_eq!(a.ino, lstat(&fx.real("a")).unwrap().st_ino);
    // A hard link to a symlink links the symlink itself.
    symlink("a", fx.real("s")).unwrap();
    fx.fs.link(&ctx(), p("/s"), p("/s2")).unwrap();
    assert_eq!(
        fx.fs.getattr(&ctx(), p("/s2"), None).unwrap().file_type(),
        libc::S_IFLNK
    );
    assert_eq!(
        fx.fs.link(&ctx(), p("/a"), p("/b")).unwrap_err(),
        Errno::EEXIST
    );
    fx.fs.unlink(&ctx(), p("/a")).unwrap();
    assert_eq!(fx.fs.getattr(&ctx(), p("/b"), None).unwrap().nlink, 1);
}

#[test]
fn unlink_and_rmdir() {
    let fx = Fx::new();
    std::fs::create_dir(fx.real("d")).unwrap();
    fx.write_real("d/f", b"");
    assert_eq!(fx.fs.unlink(&ctx(), p("/d")).unwrap_err(), Errno::EISDIR);
    assert_eq!(fx.fs.rmdir(&ctx(), p("/d")).unwrap_err(), Errno::ENOTEMPTY);
    assert_eq!(fx.fs.rmdir(&ctx(), p("/d/f")).unwrap_err(), Errno::ENOTDIR);
    fx.fs.unlink(&ctx(), p("/d/f")).unwrap();
    assert_eq!(fx.fs.unlink(&ctx(), p("/d/f")).unwrap_err(), Errno::ENOENT);
    fx.fs.rmdir(&ctx(), p("/d")).unwrap();
    assert!(lstat(&fx.real("d")).is_err());
    // A symlink to a directory is unlinked, not followed.
    std::fs::create_dir(fx.real("t")).unwrap();
    symlink("t", fx.real("l")).unwrap();
    assert_eq!(fx.fs.rmdir(&ctx(), p("/l")).unwrap_err(), Errno::ENOTDIR);
    fx.fs.unlink(&ctx(), p("/l")).unwrap();
    assert!(lstat(&fx.real("t")).is_ok());
}

#[test]
fn rename_plain_and_flags() {
    let fx = Fx::new();
    fx.write_real("a", b"A");
    fx.write_real("b", b"B");
    std::fs::create_dir(fx.real("d")).unwrap();
    std::fs::create_dir(fx.real("e")).unwrap();
    std::fs::create_dir(fx.real("full")).unwrap();
    fx.write_real("full/x", b"");

    let ino_a = lstat(&fx.real("a")).unwrap().st_ino;
    fx.fs.rename(&ctx(), p("/a"), p("/d/a2"), 0).unwrap();
    assert_eq!(lstat(&fx.real("d/a2")).unwrap().st_ino, ino_a);
    assert!(lstat(&fx.real("a")).is_err());
    // Over an existing file: replaced.
    fx.fs.rename(&ctx(), p("/d/a2"), p("/b"), 0).unwrap();
    assert_eq!(std::fs::read(fx.real("b")).unwrap(), b"A");
    // A directory over an empty directory, and over a non-empty one.
    fx.fs.rename(&ctx(), p("/d"), p("/e"), 0).unwrap();
    assert!(lstat(&fx.real("d")).is_err());
    assert_eq!(
        fx.fs.rename(&ctx(), p("/e"), p("/full"), 0).unwrap_err(),
        Errno::ENOTEMPTY
    );
    assert_eq!(
        fx.fs.rename(&ctx(), p("/b"), p("/e"), 0).unwrap_err(),
        Errno::EISDIR
    );
    // NOREPLACE refuses an existing target, and works otherwise.
    fx.write_real("c", b"C");
    assert_eq!(
        fx.fs
            .rename(&ctx(), p("/c"), p("/b"), libc::RENAME_NOREPLACE)
            .unwrap_err(),
        Errno::EEXIST
    );
    fx.fs
        .rename(&ctx(), p("/c"), p("/c2"), libc::RENAME_NOREPLACE)
        .unwrap();
    // EXCHANGE swaps, even a file with a directory.
    let (ib, ie) = (
        lstat(&fx.real("b")).unwrap().st_ino,
        lstat(&fx.real("e")).unwrap().st_ino,
    );
    fx.fs
        .rename(&ctx(), p("/b"), p("/e"), libc::RENAME_EXCHANGE)
        .unwrap();
    assert_eq!(lstat(&fx.real("b")).unwrap().st_ino, ie);
    assert_eq!(lstat(&fx.real("e")).unwrap().st_ino, ib);
    assert_eq!(
        fx.fs
            .rename(&ctx(), p("/b"), p("/nope"), libc::RENAME_EXCHANGE)
            .unwrap_err(),
        Errno::ENOENT
    );
}

#[test]
fn export_keys_find_files_after_renames_and_go_stale_when_unlinked() {
    let fx = Fx::new();
    std::fs::create_dir(fx.real("d")).unwrap();
    fx.write_real("d/f", b"x");
    let key = fx.fs.export_key(p("/d/f")).unwrap();
    let dir = fx.fs.export_key(p("/d")).unwrap();
    assert_eq!(fx.fs.export_path(&key).unwrap(), p("/d/f"));
    assert_eq!(fx.fs.export_path(&dir).unwrap(), p("/d"));
    assert_eq!(
        fx.fs
            .export_path(&fx.fs.export_key(p("/")).unwrap())
            .unwrap(),
        p("/")
    );
    std::fs::create_dir(fx.real("e")).unwrap();
    std::fs::rename(fx.real("d/f"), fx.real("e/g")).unwrap();
    assert_eq!(fx.fs.export_path(&key).unwrap(), p("/e/g"));
    std::fs::remove_file(fx.real("e/g")).unwrap();
    assert_eq!(fx.fs.export_path(&key).unwrap_err(), Errno::ESTALE);
    // Garbage is stale, never a crash.
    assert_eq!(fx.fs.export_path(b"xy").unwrap_err(), Errno::ESTALE);
    assert_eq!(fx.fs.export_path(&[0u8; 300]).unwrap_err(), Errno::ESTALE);
    // A handle longer than any the kernel makes, behind a valid mount id.
    let mut long = key[..4].to_vec();
    long.extend_from_slice(&[1, 0, 0, 0, 200]);
    long.extend_from_slice(&[0u8; 200]);
    assert_eq!(fx.fs.export_path(&long).unwrap_err(), Errno::ESTALE);
}

#[test]
fn numbered_handles_find_files_by_inode_number() {
    let fx = Fx::new();
    fx.write_real("f", b"x");
    let Ok(generation) = fx.fs.export_generation(p("/f")) else {
        eprintln!("skipped: /tmp has no ext4-style handles");
        return;
    };
    let ino = lstat(&fx.real("f")).unwrap().st_ino;
    match fx.fs.export_by_number(ino) {
        Ok(found) => assert_eq!(found, (p("/f").to_path_buf(), generation)),
        // Finding by handle needs CAP_DAC_READ_SEARCH.
        Err(e) => assert_eq!(e, Errno::EPERM),
    }
}
