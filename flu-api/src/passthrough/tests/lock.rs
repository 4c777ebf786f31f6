//! getlk/setlk (OFD locks: two handles conflict like two processes) and flock.

use super::{ctx, p, Fx};
use crate::errno::Errno;
use crate::operations::*;

#[test]
fn record_locks_conflict_between_handles() {
    let fx = Fx::new();
    fx.write_real("f", b"0123456789");
    let a = fx.open("/f", libc::O_RDWR);
    let b = fx.open("/f", libc::O_RDWR);
    let lk = |start, end, typ| FileLock {
        start,
        end,
        typ,
        pid: 0,
    };
    let w = lk(2, 5, libc::F_WRLCK);
    fx.fs.setlk(&ctx(), p("/f"), a, 1, w, false).unwrap();
    // Its own handle sees no conflict.
    let got = fx
        .fs
        .getlk(&ctx(), p("/f"), a, 1, lk(0, 9, libc::F_WRLCK))
        .unwrap();
    assert_eq!(got.typ, libc::F_UNLCK);
    // The other handle sees the lock, exactly.
    let got = fx
        .fs
        .getlk(&ctx(), p("/f"), b, 2, lk(0, u64::MAX, libc::F_RDLCK))
        .unwrap();
    assert_eq!((got.typ, got.start, got.end), (libc::F_WRLCK, 2, 5));
    assert_eq!(
        fx.fs
            .setlk(&ctx(), p("/f"), b, 2, lk(4, 4, libc::F_RDLCK), false)
            .unwrap_err(),
        Errno(libc::EAGAIN)
    );
    fx.fs
        .setlk(&ctx(), p("/f"), b, 2, lk(6, 9, libc::F_WRLCK), false)
        .unwrap();
    fx.fs
        .setlk(&ctx(), p("/f"), a, 1, lk(0, u64::MAX, libc::F_UNLCK), false)
        .unwrap();
    fx.fs
        .setlk(&ctx(), p("/f"), b, 2, lk(0, 5, libc::F_WRLCK), true)
        .unwrap();
    // Adjacent ranges of one handle merge, as the kernel merges them.
    let got = fx
        .fs
        .getlk(&ctx(), p("/f"), a, 1, lk(0, u64::MAX, libc::F_RDLCK))
        .unwrap();
    assert_eq!((got.typ, got.start, got.end), (libc::F_WRLCK, 0, 9));
    fx.fs
        .setlk(
            &ctx(),
            p("/f"),
            b,
            2,
            lk(12, u64::MAX, libc::F_WRLCK),
            false,
        )
        .unwrap();
    // A lock to end of file comes back as OFFSET_MAX.
    let got = fx
        .fs
        .getlk(&ctx(), p("/f"), a, 1, lk(20, 30, libc::F_RDLCK))
        .unwrap();
    assert_eq!((got.start, got.end), (12, i64::MAX as u64));
    // Releasing a handle drops its locks.
    fx.fs.release(&ctx(), p("/f"), b, 0, false).unwrap();
    fx.fs
        .setlk(&ctx(), p("/f"), a, 1, lk(0, u64::MAX, libc::F_WRLCK), false)
        .unwrap();
}

#[test]
fn flock_between_handles() {
    let fx = Fx::new();
    fx.write_real("f", b"");
    let a = fx.open("/f", libc::O_RDONLY);
    let b = fx.open("/f", libc::O_RDONLY);
    fx.fs.flock(&ctx(), p("/f"), a, 1, libc::LOCK_EX).unwrap();
    assert_eq!(
        fx.fs
            .flock(&ctx(), p("/f"), b, 2, libc::LOCK_SH | libc::LOCK_NB)
            .unwrap_err(),
        Errno(libc::EWOULDBLOCK)
    );
    fx.fs.flock(&ctx(), p("/f"), a, 1, libc::LOCK_UN).unwrap();
    fx.fs
        .flock(&ctx(), p("/f"), b, 2, libc::LOCK_SH | libc::LOCK_NB)
        .unwrap();
    fx.fs
        .flock(&ctx(), p("/f"), a, 1, libc::LOCK_SH | libc::LOCK_NB)
        .unwrap();
}
