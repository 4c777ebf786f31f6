//! opendir, readdir with types, stat_entry, releasedir, fsyncdir.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::fs::symlink;

use nix::sys::stat::Mode;

use super::{ctx, lstat, p, Fx};
use crate::errno::Errno;
use crate::operations::*;
use crate::stat::Stat;

#[test]
fn readdir_lists_names_and_kinds_and_stat_entry_matches_fstatat() {
    let fx = Fx::new();
    std::fs::create_dir(fx.real("d")).unwrap();
    for i in 0..300 {
        fx.write_real(&format!("d/file-{i:03}-{}", "n".repeat(100)), b"");
    }
    std::fs::create_dir(fx.real("d/sub")).unwrap();
    symlink("nowhere", fx.real("d/link")).unwrap();
    nix::unistd::mkfifo(&fx.real("d/fifo"), Mode::from_bits_truncate(0o600)).unwrap();
    let fh = Fh(fx.fs.opendir(&ctx(), p("/d"), 0).unwrap().fh);
    let list = fx.fs.readdir(&ctx(), p("/d"), fh).unwrap();
    assert!(
        list.iter().all(|e| e.stat.is_none()),
        "no stats in a listing"
    );
    let got: BTreeMap<_, _> = list.into_iter().map(|e| (e.name, e.kind)).collect();
    let want: Vec<_> = std::fs::read_dir(fx.real("d"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(got.len(), 303);
    assert_eq!(want.len(), got.len());
    for name in want {
        let real = lstat(&fx.real("d").join(&name)).unwrap();
        // /tmp's filesystem reports d_type; DT_UNKNOWN would be None.
        assert_eq!(got[&name], Some(real.st_mode & libc::S_IFMT), "{name:?}");
        let st = fx
            .fs
            .stat_entry(&ctx(), p("/d"), fh, &name)
            .expect("supported");
        assert_eq!(st.unwrap(), Stat::from(&real), "{name:?}");
    }
    assert_eq!(got[OsStr::new("sub")], Some(libc::S_IFDIR));
    assert_eq!(got[OsStr::new("link")], Some(libc::S_IFLNK));
    assert_eq!(got[OsStr::new("fifo")], Some(libc::S_IFIFO));
    // stat_entry: one name of this directory, never followed, never outside it.
    let e = |name: &str| fx.fs.stat_entry(&ctx(), p("/d"), fh, OsStr::new(name));
    assert_eq!(e("nope"), Some(Err(Errno::ENOENT)));
    for bad in ["", ".", "..", "sub/x", "../d"] {
        assert_eq!(e(bad), Some(Err(Errno::EINVAL)), "{bad:?}");
    }
    assert_eq!(
        fx.fs
            .stat_entry(&ctx(), p("/d"), Fh(9999), OsStr::new("sub")),
        Some(Err(Errno::EBADF))
    );
    // Again from the start: the same listing, changes included.
    fx.write_real("d/late", b"");
    assert_eq!(fx.fs.readdir(&ctx(), p("/d"), fh).unwrap().len(), 304);
    fx.fs.fsyncdir(&ctx(), p("/d"), fh, false).unwrap();
    fx.fs.fsyncdir(&ctx(), p("/d"), fh, true).unwrap();
    // Still listable, and its entries statable, after the directory moved.
    fx.fs.rename(&ctx(), p("/d"), p("/e"), 0).unwrap();
    assert_eq!(fx.fs.readdir(&ctx(), p("/d"), fh).unwrap().len(), 304);
    assert!(e("late").is_some_and(|r| r.is_ok_and(|st| st.size == 0)));
    fx.fs.releasedir(&ctx(), p("/e"), fh).unwrap();
    assert_eq!(
        fx.fs.readdir(&ctx(), p("/e"), fh).unwrap_err(),
        Errno::EBADF
    );
    assert_eq!(e("late"), Some(Err(Errno::EBADF)));
}

#[test]
fn opendir_errors_and_root() {
    let fx = Fx::new();
    fx.write_real("f", b"");
    std::fs::create_dir(fx.real("d")).unwrap();
    symlink("d", fx.real("l")).unwrap();
    let e = |path| fx.fs.opendir(&ctx(), p(path), 0).map(drop).unwrap_err();
    assert_eq!(e("/f"), Errno::ENOTDIR);
    assert_eq!(e("/nope"), Errno::ENOENT);
    // a symlink to a directory is not opened through
    assert!([Errno::ELOOP, Errno::ENOTDIR].contains(&e("/l")));
    let fh = Fh(fx.fs.opendir(&ctx(), p("/"), 0).unwrap().fh);
    let mut names: Vec<_> = fx
        .fs
        .readdir(&ctx(), p("/"), fh)
        .unwrap()
        .into_iter()
        .map(|e| e.name.into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["d", "f", "l"]);
}
