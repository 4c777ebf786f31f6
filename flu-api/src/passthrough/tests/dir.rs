//! opendir, readdir with stats, releasedir, fsyncdir.

use std::collections::BTreeMap;
use std::os::unix::fs::symlink;

use super::{ctx, lstat, p, Fx};
use crate::errno::Errno;
use crate::operations::{Fh, Operations};
use crate::stat::Stat;

#[test]
fn readdir_lists_everything_with_stats() {
    let fx = Fx::new();
    std::fs::create_dir(fx.real("d")).unwrap();
    for i in 0..300 {
        fx.write_real(&format!("d/file-{i:03}-{}", "n".repeat(100)), b"");
    }
    std::fs::create_dir(fx.real("d/sub")).unwrap();
    symlink("nowhere", fx.real("d/link")).unwrap();
    let fh = Fh(fx.fs.opendir(&ctx(), p("/d"), 0).unwrap().fh);
    let list = fx.fs.readdir(&ctx(), p("/d"), fh).unwrap();
    let got: BTreeMap<_, _> = list.into_iter().map(|e| (e.name, e.stat)).collect();
    let want: Vec<_> = std::fs::read_dir(fx.real("d"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(got.len(), 302);
    assert_eq!(want.len(), got.len());
    for name in want {
        let st = got[&name].expect("stat given");
        let real = fx.real("d").join(&name);
        assert_eq!(st, Stat::from(&lstat(&real).unwrap()), "{name:?}");
    }
    // Again from the start: the same listing, changes included.
    fx.write_real("d/late", b"");
    assert_eq!(fx.fs.readdir(&ctx(), p("/d"), fh).unwrap().len(), 303);
    fx.fs.fsyncdir(&ctx(), p("/d"), fh, false).unwrap();
    fx.fs.fsyncdir(&ctx(), p("/d"), fh, true).unwrap();
    // Still listable after the directory moved.
    fx.fs.rename(&ctx(), p("/d"), p("/e"), 0).unwrap();
    assert_eq!(fx.fs.readdir(&ctx(), p("/d"), fh).unwrap().len(), 303);
    fx.fs.releasedir(&ctx(), p("/e"), fh).unwrap();
    assert_eq!(
        fx.fs.readdir(&ctx(), p("/e"), fh).unwrap_err(),
        Errno::EBADF
    );
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
