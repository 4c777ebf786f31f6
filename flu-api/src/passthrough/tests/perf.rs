//! A rough cost check, not a benchmark suite: run with
//! `cargo test -p flu-api --release passthrough::tests::perf -- --ignored --nocapture`.
//! Prints ns per call for the backend and for the same syscall done directly.

use std::ffi::CString;
use std::time::Instant;

use super::{ctx, p, Fx};
use crate::operations::*;

fn ns_per(n: u32, mut f: impl FnMut()) -> u128 {
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed().as_nanos() / n as u128
}

#[test]
#[ignore]
fn costs() {
    let fx = Fx::new();
    std::fs::create_dir_all(fx.real("a/b/c")).unwrap();
    fx.write_real("f", &[1u8; 65536]);
    fx.write_real("a/b/c/f", b"x");
    let n = 100_000;
    for (path, real) in [("/f", fx.real("f")), ("/a/b/c/f", fx.real("a/b/c/f"))] {
        let c = CString::new(real.to_str().unwrap()).unwrap();
        let ours = ns_per(n, || {
            fx.fs.getattr(&ctx(), p(path), None).unwrap();
        });
        let direct = ns_per(n, || {
            // SAFETY: stat is plain integers, for which all-zero is a valid value.
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            // SAFETY: `c` is a NUL-terminated CString and `st` a live, writable stat.
            assert_eq!(unsafe { libc::lstat(c.as_ptr(), &mut st) }, 0);
        });
        println!("getattr {path}: {ours} ns (lstat of the absolute path: {direct} ns)");
    }
    let fh = fx.open("/f", libc::O_RDONLY);
    let fd = fx.fs.handles.get(fh.0).unwrap().fd();
    let ours = ns_per(n, || {
        assert_eq!(
            fx.fs.read(&ctx(), p("/f"), fh, 0, 4096).unwrap().len(),
            4096
        );
    });
    let mut buf = vec![0u8; 4096];
    let direct = ns_per(n, || {
        assert_eq!(
            // SAFETY: `buf` is a live, writable 4096-byte buffer; `fd` stays open while
            // `fh` is in the handle table.
            unsafe { libc::pread(fd, buf.as_mut_ptr().cast(), 4096, 0) },
            4096
        );
    });
    println!("read 4 KiB: {ours} ns (pread alone: {direct} ns)");
    let ours = ns_per(n / 10, || {
        let fh = fx.create("/a/b/c/new", libc::O_RDWR);
        fx.fs.release(&ctx(), p(""), fh, 0, false).unwrap();
        fx.fs.unlink(&ctx(), p("/a/b/c/new")).unwrap();
    });
    println!("create+release+unlink /a/b/c/new: {ours} ns");
}
