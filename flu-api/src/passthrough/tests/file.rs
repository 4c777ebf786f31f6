//! open/create flags and errors, read/write, unlinked and renamed open files, sparse
//! files past 4 GiB, SEEK_DATA/SEEK_HOLE, fallocate, copy_file_range, fsync, release.

use std::os::unix::fs::symlink;

use super::{ctx, lstat, p, Fx};
use crate::errno::Errno;
use crate::operations::*;
use crate::passthrough::PassthroughOptions;

fn rd(fx: &Fx, fh: Fh, off: u64, n: u32) -> Vec<u8> {
    fx.fs.read(&ctx(), p(""), fh, off, n).unwrap()
}

fn wr(fx: &Fx, fh: Fh, off: u64, data: &[u8]) {
    assert_eq!(
        fx.fs.write(&ctx(), p(""), fh, off, data).unwrap() as usize,
        data.len()
    );
}

fn rel(fx: &Fx, fh: Fh) {
    fx.fs.release(&ctx(), p(""), fh, 0, false).unwrap();
}

#[test]
fn open_and_create_errors() {
    let fx = Fx::new();
    fx.write_real("f", b"x");
    std::fs::create_dir(fx.real("d")).unwrap();
    symlink("f", fx.real("l")).unwrap();
    let c = |path: &str, flags| {
        fx.fs
            .create(&ctx(), p(path), libc::S_IFREG | 0o644, flags)
            .map(|_| ())
            .unwrap_err()
    };
    let o = |path: &str, flags| fx.fs.open(&ctx(), p(path), flags).map(|_| ()).unwrap_err();
    assert_eq!(c("/f", libc::O_RDWR | libc::O_EXCL), Errno::EEXIST);
    assert_eq!(o("/d", libc::O_WRONLY), Errno::EISDIR);
    assert_eq!(o("/f/x", libc::O_RDONLY), Errno::ENOTDIR);
    assert_eq!(c("/f/x", libc::O_RDWR), Errno::ENOTDIR);
    assert_eq!(o("/nope", libc::O_RDONLY), Errno::ENOENT);
    assert_eq!(c("/nope/x", libc::O_RDWR), Errno::ENOENT);
    assert_eq!(o("/l", libc::O_RDONLY | libc::O_NOFOLLOW), Errno::ELOOP);
    // A final symlink is never opened through, asked or not.
    assert_eq!(o("/l", libc::O_RDONLY), Errno::ELOOP);
    assert_eq!(o("/f", libc::O_RDONLY | libc::O_DIRECTORY), Errno::ENOTDIR);
    // create without O_EXCL opens an existing file, as open(O_CREAT) does.
    let fh = fx.create("/f", libc::O_RDWR);
    assert_eq!(rd(&fx, fh, 0, 10), b"x");
    rel(&fx, fh);
    // create's mode is used as given (the kernel applied the umask).
    fx.fs
        .create(
            &ctx(),
            p("/m"),
            libc::S_IFREG | 0o666,
            libc::O_WRONLY | libc::O_EXCL,
        )
        .unwrap();
    assert_eq!(lstat(&fx.real("m")).unwrap().st_mode, libc::S_IFREG | 0o666);
}

#[test]
fn trunc_append_and_read_write() {
    let fx = Fx::new();
    fx.write_real("f", b"0123456789");
    let fh = fx.open("/f", libc::O_RDWR);
    assert_eq!(rd(&fx, fh, 2, 3), b"234");
    assert_eq!(rd(&fx, fh, 8, 100), b"89");
    assert_eq!(rd(&fx, fh, 100, 10), b"");
    wr(&fx, fh, 12, b"ab");
    assert_eq!(std::fs::read(fx.real("f")).unwrap(), b"0123456789\0\0ab");
    rel(&fx, fh);
    let fh = fx.open("/f", libc::O_WRONLY | libc::O_APPEND);
    wr(&fx, fh, 0, b"END");
    assert_eq!(std::fs::read(fx.real("f")).unwrap(), b"0123456789\0\0abEND");
    rel(&fx, fh);
    let fh = fx.open("/f", libc::O_RDWR | libc::O_TRUNC);
    assert_eq!(lstat(&fx.real("f")).unwrap().st_size, 0);
    // A read-only handle refuses writes as the kernel does.
    rel(&fx, fh);
    let fh = fx.open("/f", libc::O_RDONLY);
    assert_eq!(
        fx.fs.write(&ctx(), p(""), fh, 0, b"x").unwrap_err(),
        Errno::EBADF
    );
    rel(&fx, fh);
}

#[test]
fn unlinked_and_renamed_open_files_keep_working() {
    let fx = Fx::new();
    let fh = fx.create("/f", libc::O_RDWR);
    wr(&fx, fh, 0, b"before");
    let ino = fx.fs.getattr(&ctx(), p("/f"), None).unwrap().ino;
    fx.fs.rename(&ctx(), p("/f"), p("/g"), 0).unwrap();
    wr(&fx, fh, 6, b"-moved");
    assert_eq!(std::fs::read(fx.real("g")).unwrap(), b"before-moved");
    fx.fs.unlink(&ctx(), p("/g")).unwrap();
    wr(&fx, fh, 0, b"AFTER!");
    assert_eq!(rd(&fx, fh, 0, 100), b"AFTER!-moved");
    let st = fx.fs.getattr(&ctx(), p("/g"), Some(fh)).unwrap();
    assert_eq!((st.ino, st.nlink, st.size), (ino, 0, 12));
    fx.fs.truncate(&ctx(), p("/g"), 5, Some(fh)).unwrap();
    assert_eq!(rd(&fx, fh, 0, 100), b"AFTER");
    rel(&fx, fh);
}

#[test]
fn backing_fd_follows_the_option() {
    let fx = Fx::new();
    fx.write_real("f", b"x");
    let o = fx.fs.open(&ctx(), p("/f"), libc::O_RDONLY).unwrap();
    let fd = o.backing_fd.expect("kernel passthrough is on by default");
    // SAFETY: stat is plain integers, for which all-zero is a valid value.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a live, writable stat; `fd` belongs to the open handle `o`.
    assert_eq!(unsafe { libc::fstat(fd, &mut st) }, 0);
    assert_eq!(st.st_ino, lstat(&fx.real("f")).unwrap().st_ino);
    assert_ne!(o.fh, 0);
    rel(&fx, Fh(o.fh));

    let opts = PassthroughOptions {
        kernel_passthrough: false,
        ..PassthroughOptions::default()
    };
    let fx = Fx::in_base("/tmp", opts);
    let o = fx
        .fs
        .create(&ctx(), p("/f"), libc::S_IFREG | 0o600, libc::O_RDWR)
        .unwrap();
    assert_eq!(o.backing_fd, None);
}

#[test]
fn release_closes_and_forgets() {
    let fx = Fx::new();
    let fh = fx.create("/f", libc::O_RDWR);
    fx.fs.flush(&ctx(), p("/f"), fh, 0).unwrap();
    fx.fs.fsync(&ctx(), p("/f"), fh, false).unwrap();
    fx.fs.fsync(&ctx(), p("/f"), fh, true).unwrap();
    assert_eq!(fx.fs.handles.len(), 1);
    rel(&fx, fh);
    assert_eq!(fx.fs.handles.len(), 0);
    assert_eq!(
        fx.fs.read(&ctx(), p("/f"), fh, 0, 1).unwrap_err(),
        Errno::EBADF
    );
    assert_eq!(
        fx.fs.release(&ctx(), p("/f"), fh, 0, false).unwrap_err(),
        Errno::EBADF
    );
    // destroy closes whatever is left.
    fx.open("/f", libc::O_RDONLY);
    fx.fs.destroy();
    assert_eq!(fx.fs.handles.len(), 0);
}

#[test]
fn sparse_past_4gib_and_seek_data_hole() {
    let fx = Fx::new();
    let fh = fx.create("/s", libc::O_RDWR);
    let at = 5u64 << 30;
    wr(&fx, fh, at, b"far");
    let st = fx.fs.getattr(&ctx(), p("/s"), None).unwrap();
    assert_eq!(st.size, at + 3);
    assert!(st.blocks < 1024, "sparse: {} blocks", st.blocks);
    assert_eq!(rd(&fx, fh, at, 10), b"far");
    assert_eq!(rd(&fx, fh, at - 2, 4), b"\0\0fa");
    let seek = |off: i64, whence| fx.fs.lseek(&ctx(), p("/s"), fh, off, whence);
    assert_eq!(seek(0, libc::SEEK_HOLE).unwrap(), 0);
    let data = seek(0, libc::SEEK_DATA).unwrap();
    assert!(data <= at as i64 && data > (4i64 << 30), "{data}");
    assert_eq!(seek(at as i64, libc::SEEK_HOLE).unwrap(), (at + 3) as i64);
    assert_eq!(
        seek((at + 10) as i64, libc::SEEK_DATA).unwrap_err(),
        Errno(libc::ENXIO)
    );
    rel(&fx, fh);
}

#[test]
fn fallocate_modes() {
    let fx = Fx::new();
    let fh = fx.create("/f", libc::O_RDWR);
    let fa = |mode, off, len| fx.fs.fallocate(&ctx(), p("/f"), fh, mode, off, len);
    let size = || fx.fs.getattr(&ctx(), p("/f"), Some(fh)).unwrap().size;
    fa(0, 0, 8192).unwrap();
    assert_eq!(size(), 8192);
    fa(libc::FALLOC_FL_KEEP_SIZE, 8192, 8192).unwrap();
    assert_eq!(size(), 8192);
    wr(&fx, fh, 0, &[b'x'; 8192]);
    fa(
        libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
        0,
        4096,
    )
    .unwrap();
    assert_eq!(rd(&fx, fh, 0, 4096), vec![0u8; 4096]);
    assert_eq!(rd(&fx, fh, 4096, 1), b"x");
    fa(libc::FALLOC_FL_ZERO_RANGE, 4096, 8192).unwrap();
    assert_eq!(size(), 12288);
    assert_eq!(rd(&fx, fh, 4096, 8192), vec![0u8; 8192]);
    // PUNCH_HOLE needs KEEP_SIZE, as the kernel says.
    assert_eq!(
        fa(libc::FALLOC_FL_PUNCH_HOLE, 0, 4096).unwrap_err(),
        Errno::EOPNOTSUPP
    );
    assert_eq!(fa(0, u64::MAX, 1).unwrap_err(), Errno::EINVAL);
    rel(&fx, fh);
}

#[test]
fn copy_file_range_between_handles() {
    let fx = Fx::new();
    fx.write_real("a", b"hello world");
    let a = fx.open("/a", libc::O_RDONLY);
    let b = fx.create("/b", libc::O_RDWR);
    let n = fx
        .fs
        .copy_file_range(&ctx(), p("/a"), a, 6, p("/b"), b, 2, 100, 0)
        .unwrap();
    assert_eq!(n, 5);
    assert_eq!(std::fs::read(fx.real("b")).unwrap(), b"\0\0world");
    assert_eq!(
        fx.fs
            .copy_file_range(&ctx(), p("/b"), b, 0, p("/a"), a, 0, 1, 0)
            .unwrap_err(),
        Errno::EBADF
    );
    rel(&fx, a);
    rel(&fx, b);
}

#[test]
fn o_tmpfile_is_not_passed_through() {
    let fx = Fx::new();
    std::fs::create_dir(fx.real("d")).unwrap();
    // Without the tmpfile bit this is a plain read-write open of a directory.
    assert_eq!(
        fx.fs
            .open(&ctx(), p("/d"), libc::O_TMPFILE | libc::O_RDWR)
            .map(drop)
            .unwrap_err(),
        Errno::EISDIR
    );
    assert_eq!(std::fs::read_dir(fx.real("d")).unwrap().count(), 0);
}
