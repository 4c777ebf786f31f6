//! The overlay examples (`examples/logfs.lua`, `readonlyfs.lua`, `faultfs.lua`), small
//! Lua scripts over `flu.passthrough`, mounted for real on a backing temp directory and
//! driven with real programs and system calls.

mod common;

use std::ffi::CString;
use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::Command;

use common::*;

const EROFS: i32 = libc::EROFS;

/// Mount `examples/NAME` over a fresh backing directory filled by `fill`, with `args`
/// after the backing directory.
fn mount_example(
    name: &str,
    opts: &[&str],
    args: &[&str],
    fill: impl FnOnce(&Path),
) -> Option<(Mounted, TempDir)> {
    let backing = TempDir::new("backing");
    fill(backing.path());
    let mut o = MountOptions::new().arg(backing.path());
    for a in args {
        o = o.arg(a);
    }
    for opt in opts {
        o = o.opt(opt);
    }
    let m = mount_with(&example(name), o)?;
    Some((m, backing))
}

fn fill_basic(b: &Path) {
    fs::write(b.join("x.txt"), "hello\n").unwrap();
    fs::write(b.join("x.db"), "records\n").unwrap();
    fs::create_dir_all(b.join("d/sub")).unwrap();
    fs::write(b.join("d/sub/f"), "nested\n").unwrap();
    fs::create_dir(b.join("slow")).unwrap();
    fs::write(b.join("slow/f"), "eventually\n").unwrap();
}

/// `find` of a directory with types, sizes, modes and mtimes: a fingerprint of a tree.
fn fingerprint(dir: &Path) -> String {
    sh(dir, "find . -printf '%P %y %s %m %T@ %l\\n' | sort")
}

fn c_path(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap()
}

fn last_errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap()
}

// ---- logfs ----------------------------------------------------------------------------------

#[test]
fn logfs_logs_operations_and_errors_and_writes_through() {
    let Some((m, backing)) = mount_example("logfs.lua", &[], &[], fill_basic) else {
        return;
    };
    assert_eq!(fs::read_to_string(m.path("x.txt")).unwrap(), "hello\n");
    fs::write(m.path("new.txt"), "data\n").unwrap();
    assert_errno(
        fs::metadata(m.path("missing")),
        libc::ENOENT,
        "stat missing",
    );
    assert_errno(fs::remove_dir(m.path("d")), libc::ENOTEMPTY, "rmdir d");
    fs::rename(m.path("new.txt"), m.path("d/moved.txt")).unwrap();
    assert_eq!(m.sh("ls d"), "moved.txt\nsub\n");

    // The write went through to the backing directory.
    assert_eq!(
        fs::read_to_string(backing.join("d/moved.txt")).unwrap(),
        "data\n"
    );
    assert!(!backing.join("new.txt").exists());

    // One line per operation with the handler name and the path…
    for needles in [
        &["open(\"/x.txt\"", ") ok"][..],
        &["read(\"/x.txt\", "],
        &["create(\"/new.txt\", 0100644"],
        // a short string argument is shown, escaped on one line
        &["write(\"/new.txt\", \"data\\n\", 0, table) ok"],
        &["rename(\"/new.txt\", \"/d/moved.txt\""],
        &["readdir(\"/d\""],
        // …and errors with the errno name and text.
        &[
            "getattr(\"/missing\"",
            "-> ENOENT (No such file or directory)",
        ],
        &["rmdir(\"/d\")", "-> ENOTEMPTY (Directory not empty)"],
    ] {
        assert!(
            !m.wait_log_lines(needles).is_empty(),
            "no log line with {needles:?} in:\n{}",
            m.log_text()
        );
    }
    assert!(
        m.log_lines_with(&["ENOENT"])
            .iter()
            .all(|l| !l.contains("x.txt")),
        "x.txt exists: {}",
        m.log_text()
    );
    m.unmount();
}

// ---- readonlyfs -----------------------------------------------------------------------------

#[test]
fn readonlyfs_reads_work_and_every_change_fails_with_erofs() {
    let Some((m, backing)) = mount_example("readonlyfs.lua", &[], &[], |b| {
        fill_basic(b);
        symlink("x.txt", b.join("link")).unwrap();
        sh(b, "setfattr -n user.color -v blue x.txt");
    }) else {
        return;
    };
    let before = fingerprint(backing.path());

    // Reads work.
    assert_eq!(fs::read_to_string(m.path("x.txt")).unwrap(), "hello\n");
    assert_eq!(fs::read_to_string(m.path("d/sub/f")).unwrap(), "nested\n");
    assert_eq!(fs::read_link(m.path("link")).unwrap(), Path::new("x.txt"));
    assert_eq!(m.sh("getfattr --only-values -n user.color x.txt"), "blue");
    assert_eq!(fingerprint(&m.dir), before);
    assert_eq!(
        m.sh("cat link; test -r x.txt && echo readable"),
        "hello\nreadable\n"
    );
    assert_eq!(
        m.sh("test -w x.txt && echo writable || echo not-writable"),
        "not-writable\n"
    );

    // Every kind of change fails with EROFS.
    let p = |s: &str| m.path(s);
    assert_errno(
        OpenOptions::new().write(true).open(p("x.txt")),
        EROFS,
        "open for writing",
    );
    assert_errno(
        OpenOptions::new().read(true).write(true).open(p("x.txt")),
        EROFS,
        "open read-write",
    );
    assert_errno(
        OpenOptions::new().append(true).open(p("x.txt")),
        EROFS,
        "open for appending",
    );
    assert_errno(fs::File::create(p("new")), EROFS, "create");
    assert_errno(
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(p("new2")),
        EROFS,
        "create_new",
    );
    assert_errno(fs::create_dir(p("newdir")), EROFS, "mkdir");
    assert_errno(fs::remove_file(p("x.txt")), EROFS, "unlink");
    assert_errno(fs::remove_dir(p("slow")), EROFS, "rmdir");
    assert_errno(fs::rename(p("x.txt"), p("y.txt")), EROFS, "rename");
    assert_errno(fs::rename(p("x.txt"), p("x.db")), EROFS, "rename over");
    assert_errno(
        fs::set_permissions(p("x.txt"), fs::Permissions::from_mode(0o600)),
        EROFS,
        "chmod",
    );
    assert_errno(
        std::os::unix::fs::chown(p("x.txt"), Some(1), None),
        EROFS,
        "chown",
    );
    assert_errno(symlink("x.txt", p("sl")), EROFS, "symlink");
    assert_errno(fs::hard_link(p("x.txt"), p("hl")), EROFS, "link");
    // truncate(2) by path, not through a write open.
    // SAFETY: a valid C string.
    let rc = unsafe { libc::truncate(c_path(&p("x.txt")).as_ptr(), 0) };
    assert_eq!((rc, last_errno()), (-1, EROFS), "truncate(2)");
    // utimensat with "now" (touch) and with explicit times.
    for (cmd, what) in [
        ("touch x.txt", "touch"),
        ("touch -d 2001-01-01 x.txt", "touch -d"),
        ("truncate -s 0 x.txt", "truncate"),
        ("setfattr -n user.other -v 1 x.txt", "setfattr"),
        ("setfattr -x user.color x.txt", "setfattr -x"),
        ("mknod fifo p", "mknod"),
        ("rm -rf d", "rm -rf"),
        ("mv d e", "mv"),
        ("echo more >> x.txt", "append"),
    ] {
        let r = m.sh_run(cmd);
        assert!(!r.ok(), "{what} succeeded");
        assert!(
            r.stderr.contains("Read-only file system"),
            "{what}: expected EROFS, got: {}",
            r.stderr
        );
    }
    // A read-only open still works, and nothing changed below.
    let mut s = String::new();
    fs::File::open(p("x.txt"))
        .unwrap()
        .read_to_string(&mut s)
        .unwrap();
    assert_eq!(s, "hello\n");
    assert_eq!(
        fingerprint(backing.path()),
        before,
        "the backing dir changed"
    );
    assert_eq!(
        sh(backing.path(), "getfattr --only-values -n user.color x.txt"),
        "blue"
    );

    // statfs is answered (df works) with the backing filesystem's geometry.
    let df = m.sh("df -P . | tail -1");
    assert!(df.ends_with(&format!("{}\n", m.dir.display())), "{df}");
    assert_eq!(
        m.sh("stat -f -c '%S %b %c' ."),
        sh(backing.path(), "stat -f -c '%S %b %c' ."),
        "block size, total blocks and total inodes of the backing filesystem"
    );
    m.unmount();
}

/// statvfs's f_flag comes from the mount, not from the filesystem's statfs answer (FUSE
/// has no field for it): readonlyfs's own refusals do not set ST_RDONLY, `-o ro` does.
#[test]
fn readonlyfs_with_o_ro_reports_st_rdonly() {
    let f_flag = |dir: &Path| {
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        // SAFETY: a valid C string and a statvfs to fill.
        let rc = unsafe { libc::statvfs(c_path(dir).as_ptr(), &mut st) };
        assert_eq!(rc, 0, "statvfs: {}", std::io::Error::last_os_error());
        st.f_flag
    };
    let Some((m, _b)) = mount_example("readonlyfs.lua", &["ro"], &[], fill_basic) else {
        return;
    };
    assert_ne!(f_flag(&m.dir) & libc::ST_RDONLY, 0);
    assert_eq!(fs::read_to_string(m.path("x.txt")).unwrap(), "hello\n");
    assert_errno(fs::create_dir(m.path("n")), EROFS, "mkdir under -o ro");
    m.unmount();
}

// ---- faultfs --------------------------------------------------------------------------------

#[test]
fn faultfs_injects_the_errors_its_rules_say() {
    let rules = [
        "read:%.db$=EIO",
        "write:.=ENOSPC",
        "open:^/slow/=delay:200",
        // probability 0: never fires
        "read:%.txt$=EACCES@0",
    ];
    let Some((m, backing)) = mount_example("faultfs.lua", &[], &rules, fill_basic) else {
        return;
    };
    // read of *.db: EIO (as `cat` sees it, and as read(2) sees it).
    let cat = m.sh_run("cat x.db");
    assert!(
        !cat.ok() && cat.stderr.contains("Input/output error"),
        "{cat:?}"
    );
    let mut f = fs::File::open(m.path("x.db")).unwrap();
    let mut buf = [0u8; 16];
    assert_errno(f.read(&mut buf), libc::EIO, "read x.db");
    drop(f);
    // Other reads work; metadata of the .db file too (only `read` was named).
    assert_eq!(m.sh("cat x.txt"), "hello\n");
    assert_eq!(fs::metadata(m.path("x.db")).unwrap().len(), 8);
    // Writes: ENOSPC, and nothing reaches the backing file.
    let mut w = OpenOptions::new()
        .append(true)
        .open(m.path("x.txt"))
        .unwrap();
    assert_errno(w.write_all(b"more\n"), libc::ENOSPC, "write x.txt");
    drop(w);
    assert_errno(fs::write(m.path("new"), "b"), libc::ENOSPC, "write new");
    assert_eq!(
        fs::read(backing.join("new")).unwrap(),
        b"",
        "created, never written"
    );
    let dd = m.sh_run("dd if=/dev/zero of=x.db bs=1k count=1 conv=notrunc");
    assert!(dd.stderr.contains("No space left on device"), "{dd:?}");
    assert_eq!(
        fs::read_to_string(backing.join("x.txt")).unwrap(),
        "hello\n"
    );
    // Operations no rule names are unaffected.
    m.sh("mkdir made && mv made moved && rmdir moved");
    // A delayed open just works.
    assert_eq!(m.sh("cat slow/f"), "eventually\n");
    assert!(!m.wait_log_lines(&["faultfs: read /x.db -> EIO"]).is_empty());
    assert!(!m
        .wait_log_lines(&["faultfs: write /x.txt -> ENOSPC"])
        .is_empty());
    assert!(m.log_lines_with(&["EACCES"]).is_empty(), "{}", m.log_text());
    assert!(m.log_lines_with(&["ERROR"]).is_empty(), "{}", m.log_text());
    m.unmount();
}

#[test]
fn faultfs_bad_rules_stop_the_mount_with_a_clear_message() {
    let backing = TempDir::new("backing");
    fill_basic(backing.path());
    for (rule, why) in [
        ("read:x", "no =ACTION"),
        ("raed:x=EIO", "no handler named raed"),
        ("x=EBOGUS", "unknown action EBOGUS"),
        ("x=delay:soon", "unknown action delay:soon"),
        ("x=EIO@2", "probability 2 is not a number between 0 and 1"),
        ("x=EIO@often", "probability often"),
        ("read:[=EIO", "invalid Lua pattern ["),
    ] {
        let tmp = TempDir::new("badrule");
        let dir = tmp.join("mnt");
        fs::create_dir(&dir).unwrap();
        let r = run_cmd(
            Command::new(flu_bin())
                .arg("mount")
                .arg(example("faultfs.lua"))
                .arg(&dir)
                .arg("--log-file")
                .arg(tmp.join("log"))
                .arg("--")
                .arg(backing.path())
                .arg(rule),
            MOUNT_TIMEOUT,
        );
        let mounted = is_mounted(&dir);
        if mounted {
            force_unmount(&dir);
        }
        assert!(!mounted, "{rule}: mounted anyway");
        assert!(!r.ok(), "{rule}: flu mount exited 0");
        assert!(
            r.stderr.contains(&format!("bad rule {rule}: {why}")),
            "{rule}: unclear message: {}",
            r.stderr
        );
        assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
    }
}
