//! The example and test scripts driven through flu-api's `Operations`, without a kernel:
//! the scripts' logic is checked even where FUSE is unavailable, and a failure here
//! points at the script or the Lua layer rather than at the mount machinery.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use flu_api::lua::{default_environment, Script, ScriptOutcome};
use flu_api::{Errno, Fh, Operations, RequestContext, TimeSet, Timespec};

fn root_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn load(path: PathBuf, args: &[&str]) -> (Script, Arc<dyn Operations>) {
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    let mut script = Script::load(&path, &args, &default_environment())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let fs = match script.run().expect("script runs") {
        ScriptOutcome::Finished {
            filesystem: Some(t),
            ..
        } => t,
        ScriptOutcome::Main { fs, .. } => fs,
        ScriptOutcome::Finished { returned_type, .. } => panic!("no table: {returned_type}"),
    };
    let ops = script.filesystem(&fs).expect("filesystem");
    (script, ops)
}

fn ctx() -> RequestContext {
    RequestContext {
        uid: 1000,
        gid: 100,
        pid: 42,
        umask: 0o022,
        unmasked_mode: None,
    }
}

fn p(s: &str) -> &Path {
    Path::new(s)
}

#[test]
fn hellofs_through_operations() {
    let (_s, fs) = load(root_dir().join("examples/hellofs.lua"), &[]);
    let c = ctx();
    let st = fs.getattr(&c, p("/hello"), None).unwrap();
    assert_eq!(st.mode, libc::S_IFREG | 0o444);
    assert_eq!(st.size, 13);
    let root = fs.getattr(&c, p("/"), None).unwrap();
    assert_eq!(root.mode, libc::S_IFDIR | 0o755);
    assert_eq!(fs.getattr(&c, p("/x"), None).unwrap_err(), Errno::ENOENT);
    let names: Vec<_> = fs
        .readdir(&c, p("/"), Fh(0))
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert!(names.contains(&OsString::from("hello")));
    assert_eq!(
        fs.open(&c, p("/hello"), libc::O_WRONLY).unwrap_err(),
        Errno::EACCES
    );
    let h = fs.open(&c, p("/hello"), libc::O_RDONLY).unwrap();
    assert_eq!(
        fs.read(&c, p("/hello"), Fh(h.fh), 6, 100).unwrap(),
        b"World!\n"
    );
}

#[test]
fn luafs_through_operations() {
    let (_s, fs) = load(root_dir().join("examples/luafs.lua"), &[]);
    let c = ctx();
    assert_eq!(fs.getattr(&c, p("/"), None).unwrap().nlink, 3);
    fs.mkdir(&c, p("/a"), 0o750).unwrap();
    let st = fs.getattr(&c, p("/a"), None).unwrap();
    assert_eq!(st.mode, libc::S_IFDIR | 0o750);
    assert_eq!((st.uid, st.gid), (1000, 100));
    assert_eq!(fs.getattr(&c, p("/"), None).unwrap().nlink, 4);

    let h = fs
        .create(
            &c,
            p("/a/f"),
            libc::S_IFREG | 0o640,
            libc::O_WRONLY | libc::O_CREAT,
        )
        .unwrap();
    assert_eq!(fs.write(&c, p("/a/f"), Fh(h.fh), 0, b"hello").unwrap(), 5);
    assert_eq!(fs.write(&c, p("/a/f"), Fh(h.fh), 8, b"!").unwrap(), 1);
    fs.release(&c, p("/a/f"), Fh(h.fh), libc::O_WRONLY, false)
        .unwrap();
    let st = fs.getattr(&c, p("/a/f"), None).unwrap();
    assert_eq!(st.mode, libc::S_IFREG | 0o640);
    assert_eq!(st.size, 9);
    let h = fs.open(&c, p("/a/f"), libc::O_RDONLY).unwrap();
    assert_eq!(
        fs.read(&c, p("/a/f"), Fh(h.fh), 0, 100).unwrap(),
        b"hello\0\0\0!"
    );
    fs.release(&c, p("/a/f"), Fh(h.fh), libc::O_RDONLY, false)
        .unwrap();

    fs.rename(&c, p("/a"), p("/b"), 0).unwrap();
    assert_eq!(fs.getattr(&c, p("/a"), None).unwrap_err(), Errno::ENOENT);
    assert_eq!(fs.getattr(&c, p("/b/f"), None).unwrap().size, 9);
    assert_eq!(fs.rmdir(&c, p("/b")).unwrap_err(), Errno::ENOTEMPTY);

    let t = Timespec::new(981173106, 123456789);
    fs.utimens(&c, p("/b/f"), TimeSet::Omit, TimeSet::At(t), None)
        .unwrap();
    let st = fs.getattr(&c, p("/b/f"), None).unwrap();
    assert_eq!(st.mtime, t);
    assert_ne!(st.atime, t);

    fs.chmod(&c, p("/b/f"), 0o4711, None).unwrap();
    assert_eq!(
        fs.getattr(&c, p("/b/f"), None).unwrap().mode,
        libc::S_IFREG | 0o4711
    );
    fs.chown(&c, p("/b/f"), None, Some(7), None).unwrap();
    let st = fs.getattr(&c, p("/b/f"), None).unwrap();
    assert_eq!((st.uid, st.gid), (1000, 7));

    fs.symlink(&c, p("f"), p("/b/l")).unwrap();
    assert_eq!(fs.readlink(&c, p("/b/l")).unwrap(), b"f");
    assert_eq!(
        fs.getattr(&c, p("/b/l"), None).unwrap().mode & libc::S_IFMT,
        libc::S_IFLNK
    );

    fs.setxattr(&c, p("/b/f"), OsStr::new("user.k"), b"v", 0, None)
        .unwrap();
    assert_eq!(
        fs.setxattr(
            &c,
            p("/b/f"),
            OsStr::new("user.k"),
            b"w",
            libc::XATTR_CREATE,
            None
        )
        .unwrap_err(),
        Errno::EEXIST
    );
    assert_eq!(
        fs.getxattr(&c, p("/b/f"), OsStr::new("user.k"), None)
            .unwrap(),
        b"v"
    );
    assert_eq!(
        fs.getxattr(&c, p("/b/f"), OsStr::new("user.nope"), None)
            .unwrap_err(),
        Errno::ENODATA
    );
    assert_eq!(
        fs.listxattr(&c, p("/b/f"), None).unwrap(),
        vec![OsString::from("user.k")]
    );

    fs.truncate(&c, p("/b/f"), 2, None).unwrap();
    assert_eq!(fs.getattr(&c, p("/b/f"), None).unwrap().size, 2);
    let sfs = fs.statfs(&c, p("/")).unwrap();
    assert_eq!((sfs.bsize, sfs.blocks, sfs.namemax), (4096, 1048576, 255));

    // exchange and noreplace
    fs.mkdir(&c, p("/c"), 0o755).unwrap();
    assert_eq!(
        fs.rename(&c, p("/b/f"), p("/b/l"), libc::RENAME_NOREPLACE)
            .unwrap_err(),
        Errno::EEXIST
    );
    fs.rename(&c, p("/b"), p("/c"), libc::RENAME_EXCHANGE)
        .unwrap();
    assert_eq!(fs.getattr(&c, p("/c/f"), None).unwrap().size, 2);
}

#[test]
fn compat_script_reports_sets() {
    let dir = std::env::temp_dir().join(format!("flu-scripts-api-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("report.txt");
    let _ = std::fs::remove_file(&report);
    let (_s, fs) = load(
        root_dir().join("tests/scripts/compat.lua"),
        &[report.to_str().unwrap()],
    );
    let c = ctx();
    let h = fs.open(&c, p("/probe"), libc::O_WRONLY).unwrap();
    fs.release(&c, p("/probe"), Fh(h.fh), libc::O_WRONLY, false)
        .unwrap();
    let h = fs.open(&c, p("/token"), libc::O_RDONLY).unwrap();
    assert_eq!(
        fs.read(&c, p("/token"), Fh(h.fh), 0, 100).unwrap(),
        b"tok-0001"
    );
    fs.release(&c, p("/token"), Fh(h.fh), libc::O_RDONLY, false)
        .unwrap();
    fs.create(&c, p("/c640"), libc::S_IFREG | 0o640, libc::O_WRONLY)
        .unwrap();
    fs.mkdir(&c, p("/d750"), 0o750).unwrap();
    let text = std::fs::read_to_string(&report).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let last = lines.pop().unwrap_or_default().to_string();
    assert_eq!(
        lines,
        [
            "open /probe fh=0 wronly=true O_WRONLY=true rdonly=false O_RDONLY=false rdwr=false O_RDWR=false",
            "open /token fh=0 wronly=false O_WRONLY=false rdonly=true O_RDONLY=true rdwr=false O_RDWR=false",
            "release /token type=table token=tok-0001 reads=1",
            "create /c640 uid=1000 gid=100 pid=42",
            &format!("create-mode /c640 dir=false reg=true rusr=true wusr=true xusr=false rgrp=true wgrp=false xgrp=false roth=false woth=false xoth=false number={} band={} pairs=4", libc::S_IFREG | 0o640, 0o640),
        ]
    );
    // mkdir's mode may or may not carry S_IFDIR; either way it is exact
    let without = format!("mkdir-mode /d750 dir=false reg=false rusr=true wusr=true xusr=true rgrp=true wgrp=false xgrp=true roth=false woth=false xoth=false number={} band={} pairs=5", 0o750, 0o750);
    let with = format!("mkdir-mode /d750 dir=true reg=false rusr=true wusr=true xusr=true rgrp=true wgrp=false xgrp=true roth=false woth=false xoth=false number={} band={} pairs=6", libc::S_IFDIR | 0o750, 0o750);
    assert!(last == without || last == with, "{last}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn errnos_script_maps_reports() {
    let (_s, fs) = load(root_dir().join("tests/scripts/errnos.lua"), &[]);
    let c = ctx();
    for (path, errno) in [
        ("/raise_enoent", libc::ENOENT),
        ("/assert_eacces", libc::EACCES),
        ("/nil_not_found", libc::ENOENT),
        ("/nil_name_eperm", libc::EPERM),
        ("/nil_number_28", libc::ENOSPC),
        ("/nil_errno_erofs", libc::EROFS),
        ("/nil_message_code_13", libc::EACCES),
        ("/raise_after_pcall", libc::ENOTDIR),
        ("/raise_string", libc::EIO),
    ] {
        assert_eq!(
            fs.getattr(&c, p(path), None).unwrap_err(),
            Errno(errno),
            "{path}"
        );
    }
}

#[test]
fn broken_scripts_fail_to_load() {
    let env = default_environment();
    let e = match Script::load(
        &root_dir().join("tests/scripts/syntax_error.lua"),
        &[],
        &env,
    ) {
        Ok(_) => panic!("syntax error not reported"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("syntax_error.lua:4:"), "{e}");
}
