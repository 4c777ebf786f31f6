//! examples/passthrough.lua (a passthrough filesystem in pure Lua on the `fs` module)
//! driven with real programs and syscalls. Each outcome is checked through the mount
//! and, where it makes sense, on the backing directory too. The backing directories
//! live on /dev/shm (tmpfs), where user xattrs and sparse files work.

mod common;

use std::collections::BTreeSet;
use std::ffi::CString;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use common::*;

/// A backing directory on /dev/shm, removed on drop.
struct Backing(PathBuf);

impl Backing {
    fn new() -> Backing {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = PathBuf::from(format!("/dev/shm/flu-luapt-{}-{}", std::process::id(), n));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir(&p).unwrap();
        Backing(p)
    }
}

impl Drop for Backing {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A mounted passthrough and its backing directory. Fields drop in order: the mount
/// goes away before its backing directory is removed.
struct Pt {
    m: Mounted,
    back: Backing,
}

impl Pt {
    /// A path in the backing directory.
    fn b(&self, p: impl AsRef<Path>) -> PathBuf {
        self.back.0.join(p)
    }
    fn p(&self, p: impl AsRef<Path>) -> PathBuf {
        self.m.path(p)
    }
    fn sh(&self, script: &str) -> String {
        self.m.sh(script)
    }
}

fn passthrough_with(o: MountOptions) -> Option<Pt> {
    let back = Backing::new();
    let m = mount_with(&example("passthrough.lua"), o.arg(&back.0))?;
    Some(Pt { m, back })
}

fn passthrough() -> Option<Pt> {
    passthrough_with(MountOptions::new())
}

fn cpath(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap()
}

/// The result of a libc call returning -1 on error, as io::Result.
fn check(r: libc::c_int) -> std::io::Result<libc::c_int> {
    if r < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn lstat(p: &Path) -> fs::Metadata {
    fs::symlink_metadata(p).unwrap_or_else(|e| panic!("lstat {}: {e}", p.display()))
}

#[test]
fn everyday_tools_on_both_sides() {
    let Some(t) = passthrough() else { return };
    // a file made on the backing side shows through
    fs::write(t.b("pre"), "existing\n").unwrap();
    assert_eq!(t.sh("cat pre"), "existing\n");

    t.sh("echo hello > f && echo more >> f");
    assert_eq!(t.sh("cat f"), "hello\nmore\n");
    assert_eq!(fs::read_to_string(t.b("f")).unwrap(), "hello\nmore\n");
    t.sh("echo x > f");
    assert_eq!(fs::read_to_string(t.b("f")).unwrap(), "x\n");

    // mkdir -p, cp -r in, compare with the source on both sides
    t.sh("mkdir -p x/y/z");
    assert!(t.b("x/y/z").is_dir());
    let src = t.m.scratch.join("src");
    fs::create_dir_all(src.join("a/b/c")).unwrap();
    fs::write(src.join("a/b/c/deep.txt"), "deep\n").unwrap();
    fs::write(src.join("a/one.txt"), "one\n").unwrap();
    let blob: Vec<u8> = (0..300_000u32).map(|i| (i * 7 + (i >> 9)) as u8).collect();
    fs::write(src.join("blob.bin"), &blob).unwrap();
    t.sh(&format!("cp -r {} copy", src.display()));
    for side in [t.p("copy"), t.b("copy")] {
        let r = sh_run(
            Path::new("/"),
            &format!("diff -r {} {}", src.display(), side.display()),
        );
        assert!(
            r.ok(),
            "diff -r against {}: {}{}",
            side.display(),
            r.stdout,
            r.stderr
        );
    }

    // mv a file and a non-empty directory, then read inside
    t.sh("mv copy/a/one.txt copy/uno.txt && mv copy/a copy/renamed");
    assert_eq!(
        t.sh("cat copy/renamed/b/c/deep.txt copy/uno.txt"),
        "deep\none\n"
    );
    assert_eq!(
        fs::read_to_string(t.b("copy/renamed/b/c/deep.txt")).unwrap(),
        "deep\n"
    );
    assert!(!t.b("copy/a").exists());

    // rm -r
    t.sh("rm -r copy x");
    assert!(!t.b("copy").exists() && !t.b("x").exists());
    assert_errno(fs::metadata(t.p("copy")), libc::ENOENT, "copy after rm -r");

    // truncate -s grows (zeros) and shrinks
    t.sh("printf abcdef > tr && truncate -s 10 tr");
    assert_eq!(fs::read(t.b("tr")).unwrap(), b"abcdef\0\0\0\0");
    t.sh("truncate -s 3 tr");
    assert_eq!(t.sh("cat tr"), "abc");
    assert_eq!(fs::metadata(t.b("tr")).unwrap().len(), 3);

    // errors of the directory below come back unchanged
    assert_errno(fs::read(t.p("nope")), libc::ENOENT, "cat nope");
    t.sh("mkdir d && echo x > d/f");
    assert_errno(fs::remove_dir(t.p("d")), libc::ENOTEMPTY, "rmdir d");
    assert_errno(fs::create_dir(t.p("d")), libc::EEXIST, "mkdir d");
    assert_errno(fs::remove_file(t.p("d")), libc::EISDIR, "unlink d");
    assert_errno(fs::metadata(t.p("d/f/g")), libc::ENOTDIR, "stat d/f/g");
    assert_errno(fs::read_link(t.p("d/f")), libc::EINVAL, "readlink d/f");
    t.m.unmount();
}

#[test]
fn symlinks_are_never_followed() {
    let Some(t) = passthrough() else { return };
    t.sh("echo target > real && ln -s real link && ln -s /nonexistent/abs dangling");
    assert_eq!(t.sh("readlink link"), "real\n");
    assert_eq!(fs::read_link(t.b("link")).unwrap(), Path::new("real"));
    assert_eq!(t.sh("cat link"), "target\n");
    assert_eq!(t.sh("readlink dangling"), "/nonexistent/abs\n");
    // lstat semantics: the link itself, even when it dangles or points outside
    let l = lstat(&t.p("dangling"));
    assert!(l.file_type().is_symlink());
    assert_eq!(l.len(), "/nonexistent/abs".len() as u64);
    assert_errno(
        fs::metadata(t.p("dangling")),
        libc::ENOENT,
        "follow dangling",
    );
    // a link to a directory outside the mount is not entered through getattr
    fs::create_dir(t.m.scratch.join("outside")).unwrap();
    std::os::unix::fs::symlink(t.m.scratch.join("outside"), t.p("out")).unwrap();
    assert!(lstat(&t.p("out")).file_type().is_symlink());
    // times and owner of the link itself, not of its target
    let target_mtime = lstat(&t.b("real")).mtime();
    t.sh("touch -h -d '2000-01-01 00:00:00.5' link && chown -h 4321:4322 link");
    let bl = lstat(&t.b("link"));
    assert_eq!((bl.mtime(), bl.mtime_nsec()), (946684800, 500_000_000));
    assert_eq!((bl.uid(), bl.gid()), (4321, 4322));
    let br = lstat(&t.b("real"));
    assert_eq!(br.mtime(), target_mtime);
    assert_eq!((br.uid(), br.gid()), (0, 0));
    let ml = lstat(&t.p("link"));
    assert_eq!(
        (ml.mtime(), ml.mtime_nsec(), ml.uid()),
        (946684800, 500_000_000, 4321)
    );
    t.m.unmount();
}

#[test]
fn hard_links_report_the_real_inode_and_nlink() {
    let Some(t) = passthrough_with(MountOptions::new().opt("use_ino")) else {
        return;
    };
    t.sh("echo one > f && ln f g");
    let (f, g) = (
        fs::metadata(t.p("f")).unwrap(),
        fs::metadata(t.p("g")).unwrap(),
    );
    let real = fs::metadata(t.b("f")).unwrap();
    assert_eq!(real.nlink(), 2);
    assert_eq!((f.nlink(), g.nlink()), (2, 2));
    assert_eq!(f.ino(), g.ino(), "one file, one inode");
    assert_eq!(f.ino(), real.ino(), "the inode number of the backing file");
    assert_eq!(fs::metadata(t.b("g")).unwrap().ino(), real.ino());
    // written through one name, read through the other
    fs::OpenOptions::new()
        .append(true)
        .open(t.p("f"))
        .unwrap()
        .write_all(b"two\n")
        .unwrap();
    assert_eq!(fs::read_to_string(t.p("g")).unwrap(), "one\ntwo\n");
    t.sh("rm f");
    assert_eq!(fs::metadata(t.p("g")).unwrap().nlink(), 1);
    assert_eq!(t.sh("cat g"), "one\ntwo\n");
    // `find` relies on directory link counts (2 + subdirectories)
    t.sh("mkdir -p tree/a/x tree/b tree/c && touch tree/a/f tree/b/f");
    assert_eq!(fs::metadata(t.p("tree")).unwrap().nlink(), 5);
    assert_eq!(fs::metadata(t.p("tree/a")).unwrap().nlink(), 3);
    assert_eq!(t.sh("find tree -type d | wc -l").trim(), "5");
    assert_eq!(t.sh("find tree -type f | sort"), "tree/a/f\ntree/b/f\n");
    assert_eq!(t.sh("find tree -links 3 -type d"), "tree/a\n");
    t.m.unmount();
}

#[test]
fn chmod_chown_and_mkfifo() {
    let Some(t) = passthrough() else { return };
    t.sh("echo x > f");
    fs::set_permissions(t.p("f"), fs::Permissions::from_mode(0o640)).unwrap();
    assert_eq!(fs::metadata(t.b("f")).unwrap().mode() & 0o7777, 0o640);
    assert_eq!(fs::metadata(t.p("f")).unwrap().mode() & 0o7777, 0o640);
    t.sh("chmod u+s,o+w f");
    assert_eq!(fs::metadata(t.b("f")).unwrap().mode() & 0o7777, 0o4642);

    // chown; -1 leaves one id unchanged
    let f = cpath(&t.p("f"));
    check(unsafe { libc::chown(f.as_ptr(), 1234, 5678) }).unwrap();
    let b = fs::metadata(t.b("f")).unwrap();
    assert_eq!((b.uid(), b.gid()), (1234, 5678));
    check(unsafe { libc::chown(f.as_ptr(), u32::MAX, 99) }).unwrap();
    let b = fs::metadata(t.b("f")).unwrap();
    assert_eq!((b.uid(), b.gid()), (1234, 99));
    check(unsafe { libc::chown(f.as_ptr(), 77, u32::MAX) }).unwrap();
    let (b, m) = (
        fs::metadata(t.b("f")).unwrap(),
        fs::metadata(t.p("f")).unwrap(),
    );
    assert_eq!((b.uid(), b.gid()), (77, 99));
    assert_eq!((m.uid(), m.gid()), (77, 99));

    // creation modes are exact, whatever the daemon's own umask
    t.sh("umask 0 && mkdir -m 0777 open && touch open/file && mkdir -m 0705 five");
    assert_eq!(fs::metadata(t.b("open")).unwrap().mode() & 0o7777, 0o777);
    assert_eq!(
        fs::metadata(t.b("open/file")).unwrap().mode() & 0o7777,
        0o666
    );
    assert_eq!(fs::metadata(t.b("five")).unwrap().mode() & 0o7777, 0o705);

    // mkfifo (mknod): a fifo on both sides, and it carries data
    t.sh("mkfifo -m 0620 pipe");
    assert!(lstat(&t.b("pipe")).file_type().is_fifo());
    let m = lstat(&t.p("pipe"));
    assert!(m.file_type().is_fifo());
    assert_eq!(m.mode() & 0o7777, 0o620);
    assert_eq!(t.sh("(echo through > pipe &) ; cat pipe"), "through\n");
    t.m.unmount();
}

#[test]
fn open_files_unlink_append_excl() {
    let Some(t) = passthrough() else { return };
    // unlink while open: I/O continues through the handle
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(t.p("tmp"))
        .unwrap();
    f.write_all(b"before").unwrap();
    fs::remove_file(t.p("tmp")).unwrap();
    assert!(!t.b("tmp").exists());
    assert_errno(fs::metadata(t.p("tmp")), libc::ENOENT, "stat after unlink");
    let mut s = String::new();
    f.seek(SeekFrom::Start(0)).unwrap();
    f.read_to_string(&mut s).unwrap();
    assert_eq!(s, "before");
    f.write_all_at(b" and after", 6).unwrap();
    let mut buf = vec![0u8; 16];
    assert_eq!(f.read_at(&mut buf, 0).unwrap(), 16);
    assert_eq!(&buf, b"before and after");
    let meta = f.metadata().unwrap(); // fgetattr on the open handle
    assert_eq!((meta.len(), meta.nlink()), (16, 0));
    f.set_len(4).unwrap(); // ftruncate on the open handle
    assert_eq!(f.metadata().unwrap().len(), 4);
    f.sync_all().unwrap();
    drop(f);

    // O_APPEND: every write lands at the end
    fs::write(t.p("log"), "1\n").unwrap();
    let mut a = OpenOptions::new().append(true).open(t.p("log")).unwrap();
    a.write_all(b"2\n").unwrap();
    // grown behind the kernel's back: only O_APPEND on the backing file finds the end
    OpenOptions::new()
        .append(true)
        .open(t.b("log"))
        .unwrap()
        .write_all(b"x\n")
        .unwrap();
    a.write_all(b"3\n").unwrap();
    drop(a);
    assert_eq!(fs::read_to_string(t.b("log")).unwrap(), "1\n2\nx\n3\n");

    // O_EXCL: create gets the real flags
    assert_errno(
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(t.p("log")),
        libc::EEXIST,
        "O_EXCL on an existing file",
    );
    let n = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(t.p("new"));
    n.unwrap().write_all(b"n").unwrap();
    assert_eq!(fs::metadata(t.b("new")).unwrap().mode() & 0o777, 0o600);
    assert_eq!(fs::read(t.b("new")).unwrap(), b"n");
    // O_TRUNC on open
    fs::write(t.p("log"), "short").unwrap();
    assert_eq!(fs::read_to_string(t.b("log")).unwrap(), "short");
    // a read-only open refuses writes (EBADF from the fd below)
    let mut r = File::open(t.p("log")).unwrap();
    assert!(r.write_all(b"x").is_err());
    drop(r);
    t.m.unmount();
}

#[test]
fn sparse_files_beyond_4_gib() {
    let Some(t) = passthrough() else { return };
    const GIB: u64 = 1 << 30;
    // dd seek= far beyond 4 GiB
    t.sh("printf DATA | dd of=big bs=4096 seek=1310720 2>/dev/null");
    let off = 1_310_720 * 4096; // 5 GiB
    assert_eq!(off, 5 * GIB);
    for side in [t.p("big"), t.b("big")] {
        let m = fs::metadata(&side).unwrap();
        assert_eq!(m.len(), off + 4, "{}", side.display());
    }
    assert!(
        fs::metadata(t.b("big")).unwrap().blocks() < 1024,
        "the backing file stays sparse"
    );
    let f = File::open(t.p("big")).unwrap();
    let mut buf = [1u8; 8];
    f.read_exact_at(&mut buf, off - 4).unwrap();
    assert_eq!(&buf, b"\0\0\0\0DATA");
    f.read_exact_at(&mut buf, 3 * GIB).unwrap();
    assert_eq!(buf, [0u8; 8], "the hole reads as zeros");
    // SEEK_DATA / SEEK_HOLE come from the file below (lseek handler)
    let fd = std::os::fd::AsRawFd::as_raw_fd(&f);
    assert_eq!(unsafe { libc::lseek(fd, 0, libc::SEEK_DATA) }, off as i64);
    assert_eq!(unsafe { libc::lseek(fd, 0, libc::SEEK_HOLE) }, 0);
    drop(f);
    // writing at 6 GiB through the mount
    let w = OpenOptions::new().write(true).open(t.p("big")).unwrap();
    w.write_all_at(b"six", 6 * GIB).unwrap();
    drop(w);
    assert_eq!(fs::metadata(t.b("big")).unwrap().len(), 6 * GIB + 3);
    let mut six = [0u8; 3];
    File::open(t.b("big"))
        .unwrap()
        .read_exact_at(&mut six, 6 * GIB)
        .unwrap();
    assert_eq!(&six, b"six");
    // fallocate: allocate and extend; keep-size
    t.sh("fallocate -l 1M fa && fallocate -n -o 1M -l 1M fa");
    let fa = fs::metadata(t.b("fa")).unwrap();
    assert_eq!(fa.len(), 1 << 20);
    assert!(
        fa.blocks() >= 4096,
        "2 MiB allocated: {} blocks",
        fa.blocks()
    );
    assert_eq!(fs::metadata(t.p("fa")).unwrap().len(), 1 << 20);
    t.m.unmount();
}

#[test]
fn nanosecond_times() {
    let Some(t) = passthrough() else { return };
    t.sh("touch f && touch -d '2001-02-03 04:05:06.123456789' f");
    assert_eq!(
        t.sh("stat -c %y f"),
        "2001-02-03 04:05:06.123456789 +0000\n"
    );
    let b = fs::metadata(t.b("f")).unwrap();
    assert_eq!((b.mtime(), b.mtime_nsec()), (981173106, 123456789));
    assert_eq!((b.atime(), b.atime_nsec()), (981173106, 123456789));
    // only mtime (atime omitted), to the nanosecond, before 1970 too
    t.sh("touch -m -d '1969-12-31 23:59:58.000000007' f");
    let (b, m) = (
        fs::metadata(t.b("f")).unwrap(),
        fs::metadata(t.p("f")).unwrap(),
    );
    assert_eq!((b.mtime(), b.mtime_nsec()), (-2, 7));
    assert_eq!((m.mtime(), m.mtime_nsec()), (-2, 7));
    assert_eq!((b.atime(), b.atime_nsec()), (981173106, 123456789));
    assert_eq!((m.atime(), m.atime_nsec()), (981173106, 123456789));
    // times set on the backing side come through exactly too
    let bf = cpath(&t.b("g"));
    fs::write(t.b("g"), "").unwrap();
    let times = [
        libc::timespec {
            tv_sec: 1_700_000_000,
            tv_nsec: 1,
        },
        libc::timespec {
            tv_sec: 1_700_000_001,
            tv_nsec: 999_999_999,
        },
    ];
    check(unsafe { libc::utimensat(libc::AT_FDCWD, bf.as_ptr(), times.as_ptr(), 0) }).unwrap();
    let g = fs::metadata(t.p("g")).unwrap();
    assert_eq!((g.atime(), g.atime_nsec()), (1_700_000_000, 1));
    assert_eq!((g.mtime(), g.mtime_nsec()), (1_700_000_001, 999_999_999));
    assert_eq!(g.ctime_nsec(), fs::metadata(t.b("g")).unwrap().ctime_nsec());
    t.m.unmount();
}

#[test]
fn rename_over_files_directories_and_flags() {
    let Some(t) = passthrough() else { return };
    t.sh("echo one > a && echo two > b && mkdir -p full/sub dir empty && echo in > dir/f");
    // a file over an existing file
    fs::rename(t.p("a"), t.p("b")).unwrap();
    assert_eq!(fs::read_to_string(t.b("b")).unwrap(), "one\n");
    assert!(!t.b("a").exists());
    // a directory over an empty one, then read inside
    fs::rename(t.p("dir"), t.p("empty")).unwrap();
    assert_eq!(t.sh("cat empty/f"), "in\n");
    assert_eq!(fs::read_to_string(t.b("empty/f")).unwrap(), "in\n");
    // … but not over a non-empty one, nor a directory over a file
    assert_errno(
        fs::rename(t.p("empty"), t.p("full")),
        libc::ENOTEMPTY,
        "over full",
    );
    assert_errno(
        fs::rename(t.p("empty"), t.p("b")),
        libc::ENOTDIR,
        "dir over file",
    );
    // renameat2 flags
    let (b, e, n) = (cpath(&t.p("b")), cpath(&t.p("empty")), cpath(&t.p("n")));
    let at = libc::AT_FDCWD;
    assert_errno(
        check(unsafe { libc::renameat2(at, b.as_ptr(), at, e.as_ptr(), libc::RENAME_NOREPLACE) }),
        libc::EEXIST,
        "RENAME_NOREPLACE",
    );
    check(unsafe { libc::renameat2(at, b.as_ptr(), at, n.as_ptr(), libc::RENAME_NOREPLACE) })
        .unwrap();
    check(unsafe { libc::renameat2(at, n.as_ptr(), at, e.as_ptr(), libc::RENAME_EXCHANGE) })
        .unwrap();
    assert!(t.b("n").is_dir() && t.b("empty").is_file());
    assert_eq!(fs::read_to_string(t.p("empty")).unwrap(), "one\n");
    assert_eq!(t.sh("cat n/f"), "in\n");
    t.m.unmount();
}

#[test]
fn xattrs_statfs_and_access() {
    let Some(t) = passthrough() else { return };
    t.sh("echo x > f && setfattr -n user.color -v blue f && setfattr -n user.bin -v 0x00ff f");
    let d = t.sh("getfattr -d f");
    assert!(d.contains("user.color=\"blue\""), "{d}");
    let back = sh(
        Path::new("/"),
        &format!("getfattr -d -e hex {}", t.b("f").display()),
    );
    assert!(back.contains("user.color=0x626c7565"), "{back}");
    assert!(back.contains("user.bin=0x00ff"), "{back}");
    t.sh("setfattr -x user.color f");
    assert_eq!(
        t.sh("getfattr --absolute-names -n user.bin -e hex f | grep bin"),
        "user.bin=0x00ff\n"
    );
    let missing = t.m.sh_run("getfattr -n user.color f");
    assert!(
        !missing.ok() && missing.stderr.contains("No such attribute"),
        "{missing:?}"
    );
    // XATTR_CREATE / XATTR_REPLACE
    let f = cpath(&t.p("f"));
    let set = |name: &str, flags| {
        let n = CString::new(name).unwrap();
        check(unsafe { libc::setxattr(f.as_ptr(), n.as_ptr(), b"v".as_ptr().cast(), 1, flags) })
    };
    assert_errno(
        set("user.bin", libc::XATTR_CREATE),
        libc::EEXIST,
        "XATTR_CREATE",
    );
    assert_errno(
        set("user.none", libc::XATTR_REPLACE),
        libc::ENODATA,
        "XATTR_REPLACE",
    );
    set("user.bin", libc::XATTR_REPLACE).unwrap();
    assert_eq!(
        sh(
            Path::new("/"),
            &format!(
                "getfattr --absolute-names --only-values -n user.bin {}",
                t.b("f").display()
            )
        ),
        "v"
    );

    // statfs is the backing filesystem's
    let stat_vfs = |p: &Path| {
        let c = cpath(p);
        let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
        check(unsafe { libc::statvfs(c.as_ptr(), &mut s) }).unwrap();
        s
    };
    let (sm, sb) = (stat_vfs(&t.m.dir), stat_vfs(&t.back.0));
    assert_eq!(
        (sm.f_bsize, sm.f_blocks, sm.f_files),
        (sb.f_bsize, sb.f_blocks, sb.f_files)
    );

    // access(2) is answered by the directory below (as root: x needs an x bit)
    t.sh("echo '#!/bin/sh' > script && echo 'echo ran' >> script && chmod 0755 script");
    let access = |p: &str, mode| {
        let c = cpath(&t.p(p));
        check(unsafe { libc::access(c.as_ptr(), mode) })
    };
    access("script", libc::X_OK).unwrap();
    assert_errno(access("f", libc::X_OK), libc::EACCES, "access(f, X_OK)");
    assert_errno(access("nope", libc::F_OK), libc::ENOENT, "access(nope)");
    assert_eq!(t.sh("./script"), "ran\n");
    t.m.unmount();
}

#[test]
fn ls_la_on_2000_entries() {
    let Some(t) = passthrough() else { return };
    fs::create_dir(t.p("many")).unwrap();
    for i in 0..2000 {
        File::create(t.p(format!("many/f{i:04}"))).unwrap();
    }
    assert_eq!(fs::read_dir(t.b("many")).unwrap().count(), 2000);
    let out = t.sh("ls -la many");
    let names: Vec<&str> = out
        .lines()
        .skip(1) // "total N"
        .filter_map(|l| l.split_whitespace().last())
        .filter(|n| *n != "." && *n != "..")
        .collect();
    assert_eq!(names.len(), 2000, "every entry once");
    let unique: BTreeSet<&str> = names.iter().copied().collect();
    let expected: BTreeSet<String> = (0..2000).map(|i| format!("f{i:04}")).collect();
    assert_eq!(unique.len(), 2000);
    assert!(unique.iter().all(|n| expected.contains(*n)));
    assert!(out.lines().filter(|l| l.starts_with("-rw-r--r--")).count() == 2000);
    t.m.unmount();
}

#[test]
fn git_tar_and_rsync_inside_the_mount() {
    let Some(t) = passthrough() else { return };
    let src = root_dir().join("flu-api/src");

    // git init / add / commit
    t.sh(
        "mkdir repo && cd repo && git init -q && echo hello > a && mkdir sub && echo x > sub/b \
          && git add . && git -c user.name=t -c user.email=t@example.com commit -qm first \
          && echo more >> a && git -c user.name=t -c user.email=t@example.com commit -qam second",
    );
    assert_eq!(t.sh("cd repo && git log --format=%s"), "second\nfirst\n");
    assert_eq!(t.sh("cd repo && git status --porcelain"), "");
    t.sh("cd repo && git fsck --strict 2>&1");
    // the repository is a real one on the backing side
    let back_log = sh(&t.b("repo"), "git log --format=%s");
    assert_eq!(back_log, "second\nfirst\n");

    // tar x of a real tree, then diff -r against the source (both sides)
    let tarball = t.m.scratch.join("src.tar");
    sh(
        &root_dir(),
        &format!("tar cf {} flu-api/src", tarball.display()),
    );
    t.sh(&format!(
        "mkdir untar && tar xf {} -C untar",
        tarball.display()
    ));
    for side in [t.p("untar/flu-api/src"), t.b("untar/flu-api/src")] {
        let r = sh_run(
            Path::new("/"),
            &format!("diff -r {} {}", src.display(), side.display()),
        );
        assert!(
            r.ok(),
            "diff -r {}: {}{}",
            side.display(),
            r.stdout,
            r.stderr
        );
    }

    // rsync -a, then diff -r, and a second rsync finds nothing to do (times exact)
    t.sh(&format!("rsync -a {}/ synced/", src.display()));
    let r = sh_run(
        Path::new("/"),
        &format!("diff -r {} {}", src.display(), t.p("synced").display()),
    );
    assert!(r.ok(), "diff -r after rsync: {}{}", r.stdout, r.stderr);
    assert_eq!(t.sh(&format!("rsync -ai {}/ synced/", src.display())), "");
    t.m.unmount();
}

#[test]
fn root_daemon_creates_as_the_caller() {
    if !is_root() {
        eprintln!("SKIPPED: needs root (a root daemon with allow_other)");
        return;
    }
    let Some(t) = passthrough_with(MountOptions::new().opt("allow_other")) else {
        return;
    };
    fs::set_permissions(t.p(""), fs::Permissions::from_mode(0o777)).unwrap();
    // the mount point's parents must be searchable by the other user
    let mut dir = t.m.dir.parent();
    while let Some(d) = dir {
        if d.starts_with(std::env::temp_dir()) && d != std::env::temp_dir() {
            fs::set_permissions(d, fs::Permissions::from_mode(0o755)).unwrap();
        }
        dir = d.parent();
    }
    t.sh("setpriv --reuid=65534 --regid=65533 --clear-groups sh -c \
         'umask 002 && echo hi > f && mkdir d && ln -s f l && mkfifo p'");
    for name in ["f", "d", "l", "p"] {
        let b = lstat(&t.b(name));
        assert_eq!(
            (b.uid(), b.gid()),
            (65534, 65533),
            "{name} on the backing side"
        );
        let m = lstat(&t.p(name));
        assert_eq!(
            (m.uid(), m.gid()),
            (65534, 65533),
            "{name} through the mount"
        );
    }
    // the caller's umask (002), not the daemon's (022)
    assert_eq!(lstat(&t.b("f")).mode() & 0o777, 0o664);
    assert_eq!(lstat(&t.b("d")).mode() & 0o777, 0o775);
    t.m.unmount();
}
