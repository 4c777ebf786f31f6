//! POSIX conformance of the native passthrough: every scenario runs in a plain tmpfs
//! directory and through a mounted passthrough (over another tmpfs directory), and the
//! observable results — errno values, stat fields (mode, nlink, size, blocks, uid, gid,
//! rdev, which names share an inode), explicitly set timestamps, contents, xattrs — must
//! be identical. Each scenario runs twice: over the native passthrough (no Lua on any
//! op) and over the passthrough with every handler overridden in Lua (the Lua path for
//! every op). Afterwards the backing directory must hold exactly what the plain
//! directory holds.
//!
//! A scenario is `fn(dir: &Path) -> Vec<String>`: one line per observation, so a
//! divergence prints both sides line by line.

mod common;
mod posix;

use std::ffi::CStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use libc::{
    O_APPEND, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_PATH, O_RDONLY, O_RDWR,
    O_TRUNC, O_WRONLY,
};
use posix::*;

type Scenario = fn(&Path) -> Vec<String>;

/// Run `scenario` in a plain tmpfs dir and through `script` mounted (with `-o use_ino`)
/// over another one.
fn check(name: &str, scenario: Scenario, script: &str) {
    check_mounted(name, scenario, script, mount_passthrough)
}

/// Like [`check`], with `-o allow_other,default_permissions` (so that other users may
/// use the mount and the kernel checks permissions): for scenarios that act as
/// another user.
fn check_as_users(name: &str, scenario: Scenario, script: &str) {
    check_mounted(name, scenario, script, |script, backing| {
        let _g = spawning();
        common::mount_with(
            &common::test_script(script),
            common::MountOptions::new()
                .opt("use_ino")
                .opt("allow_other")
                .opt("default_permissions")
                .arg(backing),
        )
    })
}

fn check_mounted(
    name: &str,
    scenario: Scenario,
    script: &str,
    mount: fn(&str, &Path) -> Option<common::Mounted>,
) {
    check_mounted_in(name, scenario, script, mount, ShmDir::new)
}

/// [`check_mounted`] with the plain and backing directories made by `dir` (tmpfs, or
/// the disk filesystem with `ShmDir::on_disk`).
fn check_mounted_in(
    name: &str,
    scenario: Scenario,
    script: &str,
    mount: fn(&str, &Path) -> Option<common::Mounted>,
    dir: fn(&str) -> ShmDir,
) {
    // Creation modes depend on the umask: use the harness's (it sets 022 once, at the
    // first mount, which comes after the plain run here).
    // SAFETY: umask has no preconditions.
    unsafe { libc::umask(0o022) };
    let plain = dir("plain");
    let expected = scenario(plain.path());

    let backing = dir("backing");
    let Some(m) = mount(script, backing.path()) else {
        return;
    };
    let (got, through_mount) = {
        let _g = using_mounts();
        // What the scenario saw, and what it left behind, seen through the mount.
        (scenario(&m.dir), tree(&m.dir))
    };
    assert!(m.daemon_alive(), "the daemon died during `{name}`");
    if std::env::var_os("FLU_SHOW_OBSERVATIONS").is_some() {
        eprintln!("`{name}` through {script}:\n  {}", got.join("\n  "));
    }
    assert_same(name, &expected, script, &got);
    unmount(m);
    let left_plain = tree(plain.path());
    let left_backing = tree(backing.path());
    assert_eq!(
        left_plain, left_backing,
        "`{name}`: the backing dir differs from the plain dir afterwards"
    );
    assert_eq!(
        through_mount, left_backing,
        "`{name}`: the mount showed something else than the backing dir holds"
    );
}

/// One test per scenario and backend: `native::NAME` and `lua::NAME`.
macro_rules! scenarios {
    ($($(#[$attr:meta])* $name:ident),* $(,)?) => {
        mod native {
            $( $(#[$attr])* #[test] fn $name() { super::check(stringify!($name), super::$name, super::NATIVE) } )*
        }
        mod lua {
            $( $(#[$attr])* #[test] fn $name() { super::check(stringify!($name), super::$name, super::LUA) } )*
        }
    };
}

scenarios!(
    create_excl,
    open_errors,
    name_too_long,
    deep_paths_beyond_path_max,
    symlink_loops,
    symlinks,
    mkdir_rmdir,
    hard_links,
    rename_files,
    rename_dirs,
    rename_noreplace_exchange,
    unlink_while_open,
    xattrs_on_unlinked_open_file,
    fstat_removed_open_dir,
    fstat_open_dir_replaced_by_rename,
    fd_ops_on_unlinked_open_file,
    fd_ops_on_removed_open_dir,
    fd_ops_on_open_dir_replaced_by_rename,
    fd_ops_on_open_file_replaced_by_rename,
    o_append,
    truncate_and_ftruncate,
    chmod_then_stat,
    chown_and_fchown,
    utimens,
    xattrs,
    sparse_past_4g_and_seek,
    fallocate_and_punch_hole,
    copy_file_range_between_files,
    mmap_and_read_write,
    mmap_writes_move_times,
    fifos_and_device_nodes,
    readdir_listing,
    dino_of_names_removed_during_a_listing,
    rewinddir_sees_changes_since_opendir,
    write_read_lseek,
    access_as_root,
    open_flag_variants,
    locks_between_open_files,
    huge_offsets,
);

/// Scenarios that act as other users, over `-o allow_other,default_permissions`.
macro_rules! user_scenarios {
    ($($(#[$attr:meta])* $name:ident),* $(,)?) => {
        mod native_users {
            $( $(#[$attr])* #[test] fn $name() { super::check_as_users(stringify!($name), super::$name, super::NATIVE) } )*
        }
        mod lua_users {
            $( $(#[$attr])* #[test] fn $name() { super::check_as_users(stringify!($name), super::$name, super::LUA) } )*
        }
    };
}

user_scenarios!(
    user_creates_own_objects,
    user_permission_errors,
    user_setgid_and_sticky,
    user_writes_clear_setuid,
    user_posix_acls,
    user_default_acl_and_umask,
    user_modifications_drop_setgid,
);

/// Run `f` on a fresh thread whose (per-thread, raw syscall) credentials are
/// `uid`/`gid` with supplementary `groups`; the FUSE requests it makes carry them.
fn as_user<T: Send + 'static>(
    uid: u32,
    gid: u32,
    groups: &[u32],
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let groups = groups.to_vec();
    std::thread::spawn(move || {
        // SAFETY: raw credential syscalls affect only this thread, which ends after `f`.
        unsafe {
            assert_eq!(
                libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()),
                0
            );
            assert_eq!(libc::syscall(libc::SYS_setresgid, gid, gid, gid), 0);
            assert_eq!(libc::syscall(libc::SYS_setresuid, uid, uid, uid), 0);
        }
        f()
    })
    .join()
    .expect("user thread panicked")
}

const USER: u32 = 1000;
const GROUP: u32 = 1000;
/// A second group the user belongs to.
const GROUP2: u32 = 4000;

fn user_creates_own_objects(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    r.ok("chmod root dir 0777", chmod(d, 0o777));
    let d = d.to_path_buf();
    as_user(USER, GROUP, &[GROUP, GROUP2], move || {
        put(&mut r, &d, "f", b"mine");
        r.stat("file", &j(&d, "f"));
        r.ok("mkdir", mkdir(&j(&d, "dir"), 0o750));
        r.stat("dir", &j(&d, "dir"));
        r.ok("symlink", symlink(b"f", &j(&d, "l")));
        r.lstat("symlink", &j(&d, "l"));
        r.ok("mkfifo", mkfifo(&j(&d, "p"), 0o640));
        r.lstat("fifo", &j(&d, "p"));
        r.ok("mknod reg", mknod(&j(&d, "n"), libc::S_IFREG | 0o600, 0));
        r.lstat("mknod reg", &j(&d, "n"));
        r.ok(
            "mknod chr (needs CAP_MKNOD)",
            mknod(&j(&d, "c"), libc::S_IFCHR | 0o600, 0x103),
        );
        r.ok("link", link(&j(&d, "f"), &j(&d, "dir/f2")));
        r.stat("link", &j(&d, "dir/f2"));
        r.ok("chmod own", chmod(&j(&d, "f"), 0o604));
        r.ok(
            "chgrp own to a member group",
            chown(&j(&d, "f"), u32::MAX, GROUP2),
        );
        r.stat("after chgrp", &j(&d, "f"));
        r.ok(
            "chgrp to a foreign group",
            chown(&j(&d, "f"), u32::MAX, 5000),
        );
        r.ok("chown to root", chown(&j(&d, "f"), 0, u32::MAX));
        r.ok(
            "utimens own exact",
            utimensat(&j(&d, "f"), [ts(5, 6), ts(7, 8)], 0),
        );
        r.times("own times", &j(&d, "f"));
        r.ok("setxattr own", setxattr(&j(&d, "f"), "user.mine", b"1", 0));
        r.data("getxattr own", getxattr(&j(&d, "f"), "user.mine", 10));
        r.ok("rename own", rename(&j(&d, "f"), &j(&d, "dir/g")));
        r.ok("access R_OK", access(&j(&d, "dir/g"), libc::R_OK));
        r.ok("access W_OK", access(&j(&d, "dir/g"), libc::W_OK));
        r.ok("access X_OK", access(&j(&d, "dir/g"), libc::X_OK));
        r.done()
    })
}

fn user_permission_errors(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    r.ok("chmod root dir 0777", chmod(d, 0o777));
    put(&mut r, d, "rootfile", b"root's");
    put(&mut r, d, "secret", b"secret");
    r.ok("chmod secret 0600", chmod(&j(d, "secret"), 0o600));
    put(&mut r, d, "shared", b"shared");
    r.ok("chmod shared 0666", chmod(&j(d, "shared"), 0o666));
    r.ok("mkdir closed 0755", mkdir(&j(d, "closed"), 0o755));
    put(&mut r, d, "closed/inner", b"x");
    r.ok("mkdir locked 0700", mkdir(&j(d, "locked"), 0o700));
    let d = d.to_path_buf();
    as_user(USER, GROUP, &[GROUP], move || {
        r.open("read root's 0644", &j(&d, "rootfile"), O_RDONLY, 0)
            .map(close);
        r.open("write root's 0644", &j(&d, "rootfile"), O_WRONLY, 0);
        r.open("read root's 0600", &j(&d, "secret"), O_RDONLY, 0);
        r.ok("truncate root's 0644", truncate(&j(&d, "rootfile"), 0));
        r.ok("chmod root's file", chmod(&j(&d, "rootfile"), 0o777));
        r.ok("chown root's file", chown(&j(&d, "rootfile"), USER, GROUP));
        r.ok(
            "utimens exact on root's file",
            utimensat(&j(&d, "rootfile"), [ts(1, 1), ts(1, 1)], 0),
        );
        r.ok(
            "utimens now on root's 0644",
            utimensat(
                &j(&d, "rootfile"),
                [ts(0, libc::UTIME_NOW), ts(0, libc::UTIME_NOW)],
                0,
            ),
        );
        r.ok(
            "utimens now on root's 0666",
            utimensat(
                &j(&d, "shared"),
                [ts(0, libc::UTIME_NOW), ts(0, libc::UTIME_NOW)],
                0,
            ),
        );
        r.ok(
            "setxattr on root's 0644",
            setxattr(&j(&d, "rootfile"), "user.x", b"1", 0),
        );
        r.ok(
            "setxattr on root's 0666",
            setxattr(&j(&d, "shared"), "user.x", b"1", 0),
        );
        r.data(
            "getxattr on root's 0600",
            getxattr(&j(&d, "secret"), "user.x", 10),
        );
        r.ok(
            "create in root's 0755 dir",
            open(&j(&d, "closed/new"), O_CREAT | O_WRONLY, 0o644).and_then(close),
        );
        r.ok("unlink in root's 0755 dir", unlink(&j(&d, "closed/inner")));
        r.ok(
            "mkdir in root's 0755 dir",
            mkdir(&j(&d, "closed/sub"), 0o755),
        );
        r.ok(
            "rename out of root's 0755 dir",
            rename(&j(&d, "closed/inner"), &j(&d, "stolen")),
        );
        r.stat("stat in 0700 dir", &j(&d, "locked/x"));
        r.ok(
            "list 0700 dir",
            open(&j(&d, "locked"), O_RDONLY | O_DIRECTORY, 0).and_then(close),
        );
        r.ok(
            "access W_OK root's 0644",
            access(&j(&d, "rootfile"), libc::W_OK),
        );
        r.ok(
            "access R_OK root's 0600",
            access(&j(&d, "secret"), libc::R_OK),
        );
        r.ok("unlink root's file in 0777 dir", unlink(&j(&d, "rootfile")));
        r.ok(
            "write root's 0666",
            open(&j(&d, "shared"), O_WRONLY | O_APPEND, 0).and_then(|fd| {
                write(fd, b" + user")?;
                close(fd)
            }),
        );
        r.stat("shared after user write", &j(&d, "shared"));
        r.done()
    })
}

fn user_setgid_and_sticky(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    r.ok("mkdir sgid 02777", mkdir(&j(d, "sgid"), 0o777));
    r.ok("chown sgid :3000", chown(&j(d, "sgid"), 0, 3000));
    r.ok("chmod sgid 02777", chmod(&j(d, "sgid"), 0o2777));
    r.ok("mkdir sticky", mkdir(&j(d, "sticky"), 0o777));
    r.ok("chmod sticky 01777", chmod(&j(d, "sticky"), 0o1777));
    put(&mut r, d, "sticky/roots", b"root's");
    r.ok(
        "chmod sticky/roots 0666",
        chmod(&j(d, "sticky/roots"), 0o666),
    );
    put(&mut r, d, "foreign", b"group 3000");
    r.ok(
        "chown foreign to user:3000",
        chown(&j(d, "foreign"), USER, 3000),
    );
    let d = d.to_path_buf();
    as_user(USER, GROUP, &[GROUP], move || {
        put(&mut r, &d, "sgid/f", b"inherits");
        r.stat("file in setgid dir", &j(&d, "sgid/f"));
        r.ok("mkdir in setgid dir", mkdir(&j(&d, "sgid/sub"), 0o755));
        r.stat("dir in setgid dir", &j(&d, "sgid/sub"));
        r.ok("symlink in setgid dir", symlink(b"f", &j(&d, "sgid/l")));
        r.lstat("symlink in setgid dir", &j(&d, "sgid/l"));
        r.ok("mkfifo in setgid dir", mkfifo(&j(&d, "sgid/p"), 0o644));
        r.lstat("fifo in setgid dir", &j(&d, "sgid/p"));
        if let Some(fd) = r.open(
            "create 02755 in setgid dir (group not ours)",
            &j(&d, "sgid/x"),
            O_CREAT | O_WRONLY,
            0o2755,
        ) {
            close(fd).unwrap();
        }
        r.stat("sgid bit on a file of a foreign group", &j(&d, "sgid/x"));
        r.ok(
            "chmod 02755 on own file of a foreign group",
            chmod(&j(&d, "foreign"), 0o2755),
        );
        r.stat("setgid dropped by chmod", &j(&d, "foreign"));
        r.ok(
            "unlink root's file in sticky dir",
            unlink(&j(&d, "sticky/roots")),
        );
        r.ok(
            "rename root's file in sticky dir",
            rename(&j(&d, "sticky/roots"), &j(&d, "sticky/moved")),
        );
        put(&mut r, &d, "sticky/mine", b"mine");
        r.ok(
            "rename own file in sticky dir",
            rename(&j(&d, "sticky/mine"), &j(&d, "sticky/mine2")),
        );
        r.ok(
            "rename own over root's in sticky dir",
            rename(&j(&d, "sticky/mine2"), &j(&d, "sticky/roots")),
        );
        r.ok(
            "unlink own file in sticky dir",
            unlink(&j(&d, "sticky/mine2")),
        );
        r.done()
    })
}

fn user_writes_clear_setuid(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    r.ok("chmod root dir 0777", chmod(d, 0o777));
    let d = d.to_path_buf();
    as_user(USER, GROUP, &[GROUP], move || {
        put(&mut r, &d, "suid", b"program");
        r.ok("chmod 06755", chmod(&j(&d, "suid"), 0o6755));
        r.stat("before write", &j(&d, "suid"));
        if let Some(fd) = r.open("open for write", &j(&d, "suid"), O_WRONLY, 0) {
            r.rc("write", pwrite(fd, b"patched", 0));
            r.fstat("fstat after write", fd);
            close(fd).unwrap();
        }
        r.stat("after write", &j(&d, "suid"));
        r.ok("chmod 04755 again", chmod(&j(&d, "suid"), 0o4755));
        r.ok("truncate", truncate(&j(&d, "suid"), 3));
        r.stat("after truncate", &j(&d, "suid"));
        r.ok("chmod 04755 again", chmod(&j(&d, "suid"), 0o4755));
        if let Some(fd) = r.open("open for fallocate", &j(&d, "suid"), O_WRONLY, 0) {
            r.rc("fallocate", fallocate(fd, 0, 0, 8192));
            close(fd).unwrap();
        }
        r.stat("after fallocate", &j(&d, "suid"));
        // open(O_TRUNC): one request with FUSE_ATOMIC_O_TRUNC, the bits dropped all
        // the same (setgid without group execute is kept: the owner is in the group).
        for mode in [0o6755, 0o2745, 0o4700] {
            r.ok("chmod again", chmod(&j(&d, "suid"), mode));
            if let Some(fd) = r.open("open O_TRUNC", &j(&d, "suid"), O_WRONLY | O_TRUNC, 0) {
                r.fstat("fstat after O_TRUNC", fd);
                close(fd).unwrap();
            }
            r.stat("after O_TRUNC", &j(&d, "suid"));
        }
        r.done()
    })
}

/// A setgid file the group cannot execute, written by someone outside its group: a
/// local filesystem drops the bit on every modification (the kernel's FUSE layer only
/// with the group execute bit).
fn user_modifications_drop_setgid(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    r.ok("chmod root dir 0777", chmod(d, 0o777));
    let ways = [
        "write",
        "ftruncate",
        "truncate",
        "fallocate",
        "punch",
        "zero",
        "member writes",
        "member allocates",
        "O_TRUNC",
    ];
    for (i, way) in ways.iter().enumerate() {
        let name = format!("f{i}");
        put(&mut r, d, &name, &pattern(i as u8, 20_000));
        r.ok(&format!("{way}: chown :3000"), chown(&j(d, &name), 0, 3000));
        // The group execute bit too for half of them: the kernel's own case.
        for mode in [0o2666, 0o2676] {
            r.ok(&format!("{way}: chmod {mode:o}"), chmod(&j(d, &name), mode));
            let p = j(d, &name);
            let zero = *way == "zero";
            let way = way.to_string();
            let groups = if way.starts_with("member") {
                vec![GROUP, 3000]
            } else {
                vec![GROUP]
            };
            let (rr, _) = as_user(USER, GROUP, &groups, move || {
                let flags = if way == "O_TRUNC" {
                    O_RDWR | O_TRUNC
                } else {
                    O_RDWR
                };
                if let Some(fd) = r.open(&format!("{way}: open"), &p, flags, 0) {
                    let res = match way.as_str() {
                        "write" | "member writes" => pwrite(fd, b"changed", 100),
                        "ftruncate" => ftruncate(fd, 5000),
                        "truncate" => truncate(&p, 4000),
                        "fallocate" | "member allocates" => fallocate(fd, 0, 0, 40_000),
                        "O_TRUNC" => Ok(0),
                        "punch" => fallocate(
                            fd,
                            libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                            4096,
                            4096,
                        ),
                        _ => fallocate(fd, libc::FALLOC_FL_ZERO_RANGE, 0, 4096),
                    };
                    r.rc(&way, res);
                    r.fstat(&format!("{way}: fstat"), fd);
                    close(fd).unwrap();
                }
                r.stat(&format!("{way}: after"), &p);
                (r, p)
            });
            r = rr;
            // ZERO_RANGE fails on tmpfs; the kernel's FUSE layer drops setuid and
            // setgid with group execute before asking: compare only the other mode.
            if zero {
                break;
            }
        }
    }
    r.done()
}

// ---- POSIX ACLs (the kernel applies them with default_permissions) ----------------

/// ACL entry tags (`acl_tag_t` as in the xattr format).
const ACL_USER_OBJ: u16 = 0x01;
const ACL_USER: u16 = 0x02;
const ACL_GROUP_OBJ: u16 = 0x04;
const ACL_GROUP: u16 = 0x08;
const ACL_MASK: u16 = 0x10;
const ACL_OTHER: u16 = 0x20;
const ACL_ACCESS: &str = "system.posix_acl_access";
const ACL_DEFAULT: &str = "system.posix_acl_default";

/// The xattr value of an ACL (version 2; entries as given, which must be in the
/// kernel's order: by tag, then by id).
fn acl(entries: &[(u16, u16, u32)]) -> Vec<u8> {
    let mut v = 2u32.to_le_bytes().to_vec();
    for (tag, perm, id) in entries {
        v.extend_from_slice(&tag.to_le_bytes());
        v.extend_from_slice(&perm.to_le_bytes());
        v.extend_from_slice(&id.to_le_bytes());
    }
    v
}

/// An ACL value read back, as `tag:id:perm` entries.
fn show_acl(r: Result<Vec<u8>, i32>) -> String {
    match r {
        Err(e) => errno_name(e),
        Ok(v) if v.len() < 4 || (v.len() - 4) % 8 != 0 => format!("{} bad bytes", v.len()),
        Ok(v) => v[4..]
            .chunks(8)
            .map(|e| {
                let tag = u16::from_le_bytes([e[0], e[1]]);
                let perm = u16::from_le_bytes([e[2], e[3]]);
                let id = u32::from_le_bytes([e[4], e[5], e[6], e[7]]);
                match tag {
                    ACL_USER | ACL_GROUP => format!("{tag:x}:{id}:{perm:o}"),
                    _ => format!("{tag:x}::{perm:o}"),
                }
            })
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// This thread's own umask (its own fs context first, so other threads keep theirs).
fn thread_umask(mask: u32) {
    // SAFETY: unshare(CLONE_FS) and umask affect only this thread's fs context.
    unsafe {
        assert_eq!(libc::unshare(libc::CLONE_FS), 0);
        libc::umask(mask);
    }
}

/// Open and close again (recorded).
fn try_open(r: &mut Rec, what: &str, p: &Path, flags: i32) {
    if let Some(fd) = r.open(what, p, flags, 0) {
        close(fd).unwrap();
    }
}

/// A user other than USER, in none of its groups.
const OTHER_USER: u32 = 1001;

fn user_posix_acls(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    r.ok("chmod root dir 0755", chmod(d, 0o755));
    put(&mut r, d, "f", b"shared by ACL");
    r.rc(
        "setfacl u:USER:rw",
        setxattr(
            &j(d, "f"),
            ACL_ACCESS,
            &acl(&[
                (ACL_USER_OBJ, 6, 0),
                (ACL_USER, 6, USER),
                (ACL_GROUP_OBJ, 4, 0),
                (ACL_MASK, 6, 0),
                (ACL_OTHER, 4, 0),
            ]),
            0,
        ),
    );
    r.stat("mask became the group bits", &j(d, "f"));
    r.note("getfacl", show_acl(getxattr(&j(d, "f"), ACL_ACCESS, 4096)));
    r.note("listxattr", names(listxattr(&j(d, "f"), 4096)));
    r.note(
        "ACL size probe",
        show_bytes(&getxattr(&j(d, "f"), ACL_ACCESS, 0).unwrap_or_default()),
    );
    let f = j(d, "f");
    let (mut r, f) = as_user(USER, GROUP, &[GROUP], move || {
        if let Some(fd) = r.open("named user opens for write", &f, O_WRONLY, 0) {
            r.rc("named user writes", pwrite(fd, b"SHARED", 0));
            close(fd).unwrap();
        }
        r.rc("named user access W_OK", access(&f, libc::W_OK));
        (r, f)
    });
    let (mut r, f) = as_user(OTHER_USER, OTHER_USER, &[], move || {
        try_open(&mut r, "another user opens for write", &f, O_WRONLY);
        r.rc("another user access W_OK", access(&f, libc::W_OK));
        r.rc("another user access R_OK", access(&f, libc::R_OK));
        (r, f)
    });
    r.ok("chmod 0640 narrows the mask", chmod(&f, 0o640));
    r.note(
        "getfacl after chmod",
        show_acl(getxattr(&f, ACL_ACCESS, 4096)),
    );
    let (mut r, f) = as_user(USER, GROUP, &[GROUP], move || {
        try_open(&mut r, "named user after chmod 0640", &f, O_WRONLY);
        r.rc("named user read after chmod 0640", access(&f, libc::R_OK));
        (r, f)
    });
    r.ok("remove the access ACL", removexattr(&f, ACL_ACCESS));
    r.stat("after removing the ACL", &f);
    r.note(
        "getfacl after removal",
        show_acl(getxattr(&f, ACL_ACCESS, 4096)),
    );
    // An ACL equivalent to the mode bits is stored as the mode bits alone.
    r.rc(
        "setfacl of a mode-equivalent ACL",
        setxattr(
            &f,
            ACL_ACCESS,
            &acl(&[
                (ACL_USER_OBJ, 7, 0),
                (ACL_GROUP_OBJ, 5, 0),
                (ACL_OTHER, 1, 0),
            ]),
            0,
        ),
    );
    r.stat("mode from the equivalent ACL", &f);
    r.note("no ACL stored", show_acl(getxattr(&f, ACL_ACCESS, 4096)));
    r.rc(
        "setfacl with a bad entry order",
        setxattr(
            &f,
            ACL_ACCESS,
            &acl(&[
                (ACL_OTHER, 4, 0),
                (ACL_USER_OBJ, 6, 0),
                (ACL_GROUP_OBJ, 4, 0),
            ]),
            0,
        ),
    );
    // The owner, not in the file's group, sets an ACL: setgid goes.
    put(&mut r, d, "sgid", b"x");
    r.ok("chown sgid USER:3000", chown(&j(d, "sgid"), USER, 3000));
    r.ok("chmod sgid 02770", chmod(&j(d, "sgid"), 0o2770));
    let sgid = j(d, "sgid");
    let (mut r, sgid) = as_user(USER, GROUP, &[GROUP], move || {
        r.rc(
            "owner outside the group sets an ACL",
            setxattr(
                &sgid,
                ACL_ACCESS,
                &acl(&[
                    (ACL_USER_OBJ, 7, 0),
                    (ACL_GROUP_OBJ, 7, 0),
                    (ACL_GROUP, 5, GROUP),
                    (ACL_MASK, 7, 0),
                    (ACL_OTHER, 0, 0),
                ]),
                0,
            ),
        );
        r.rc(
            "another user's file: setfacl",
            setxattr(
                &j(sgid.parent().unwrap(), "f"),
                ACL_ACCESS,
                &acl(&[
                    (ACL_USER_OBJ, 7, 0),
                    (ACL_GROUP_OBJ, 7, 0),
                    (ACL_OTHER, 7, 0),
                ]),
                0,
            ),
        );
        (r, sgid)
    });
    r.stat("setgid dropped by the ACL", &sgid);
    r.note("its ACL", show_acl(getxattr(&sgid, ACL_ACCESS, 4096)));
    r.done()
}

fn user_default_acl_and_umask(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    r.ok("chmod root dir 0777", chmod(d, 0o777));
    r.ok("mkdir inherit 0777", mkdir(&j(d, "inherit"), 0o777));
    r.ok("chmod inherit 0777", chmod(&j(d, "inherit"), 0o777));
    r.rc(
        "default ACL with a named user",
        setxattr(
            &j(d, "inherit"),
            ACL_DEFAULT,
            &acl(&[
                (ACL_USER_OBJ, 7, 0),
                (ACL_USER, 6, OTHER_USER),
                (ACL_GROUP_OBJ, 7, 0),
                (ACL_MASK, 7, 0),
                (ACL_OTHER, 5, 0),
            ]),
            0,
        ),
    );
    r.note(
        "getfacl -d",
        show_acl(getxattr(&j(d, "inherit"), ACL_DEFAULT, 4096)),
    );
    r.ok("mkdir plain 0777", mkdir(&j(d, "plain"), 0o777));
    r.ok("chmod plain 0777", chmod(&j(d, "plain"), 0o777));
    let d = d.to_path_buf();
    let (mut r, d) = as_user(USER, GROUP, &[GROUP], move || {
        thread_umask(0o077);
        for dir in ["inherit", "plain"] {
            let at = |name: &str| j(&d, &format!("{dir}/{name}"));
            if let Some(fd) = r.open(
                &format!("create {dir}/f 0666 under umask 077"),
                &at("f"),
                O_CREAT | O_WRONLY,
                0o666,
            ) {
                close(fd).unwrap();
            }
            r.stat(&format!("{dir}/f"), &at("f"));
            r.note(
                &format!("{dir}/f ACL"),
                show_acl(getxattr(&at("f"), ACL_ACCESS, 4096)),
            );
            r.ok(&format!("mkdir {dir}/sub 0777"), mkdir(&at("sub"), 0o777));
            r.stat(&format!("{dir}/sub"), &at("sub"));
            r.note(
                &format!("{dir}/sub default ACL"),
                show_acl(getxattr(&at("sub"), ACL_DEFAULT, 4096)),
            );
            r.ok(&format!("mkfifo {dir}/p 0640"), mkfifo(&at("p"), 0o640));
            r.lstat(&format!("{dir}/p"), &at("p"));
            r.ok(&format!("symlink {dir}/l"), symlink(b"f", &at("l")));
            r.lstat(&format!("{dir}/l"), &at("l"));
        }
        (r, d)
    });
    // The default ACL gave the named user write access to what USER created.
    let (r, d) = as_user(OTHER_USER, OTHER_USER, &[], move || {
        try_open(
            &mut r,
            "the named user writes the new file",
            &j(&d, "inherit/f"),
            O_WRONLY,
        );
        try_open(
            &mut r,
            "the named user writes a file without the ACL",
            &j(&d, "plain/f"),
            O_WRONLY,
        );
        (r, d)
    });
    let mut r = r;
    as_user(USER, GROUP, &[GROUP], move || {
        thread_umask(0o022);
        if let Some(fd) = r.open(
            "create inherit/g 0640 under umask 022",
            &j(&d, "inherit/g"),
            O_CREAT | O_WRONLY,
            0o640,
        ) {
            close(fd).unwrap();
        }
        r.stat("inherit/g", &j(&d, "inherit/g"));
        r.done()
    })
}

/// The native passthrough hands files to the kernel (FUSE passthrough): a write
/// through a mapping moves the backing file's times at the fault, seen at once. Through
/// the daemon (Lua read/write handlers, `-o nopassthrough`) the kernel keeps those
/// times only with `-o writeback_cache`: they show at msync or munmap (docs/passthrough.md).
#[test]
fn native_mmap_times_while_mapped() {
    check(
        "mmap_writes_move_times_while_mapped",
        mmap_writes_move_times_while_mapped,
        NATIVE,
    );
}

/// Writes through a mapping, on the disk filesystem (ext4 moves the times at the write
/// fault, also of a page first read through the mapping; tmpfs does not then), through
/// the native passthrough as it mounts (kernel passthrough where it can), and served by
/// the daemon (no kernel passthrough, and attributes cached for a minute, so that no
/// cache lifetime runs out during the scenario): the pages reach the backing file at
/// msync or munmap, and mtime and ctime move by then, as on the filesystem below. Between
/// the write fault and the writeback they do not without kernel passthrough
/// (docs/passthrough.md, known differences), so no scenario stats there.
#[test]
fn native_mmap_times_on_disk() {
    let scenarios = [
        ("mmap_writes_move_times", mmap_writes_move_times as Scenario),
        (
            "mmap_read_then_write_moves_times",
            mmap_read_then_write_moves_times,
        ),
    ];
    for (name, scenario) in scenarios {
        check_mounted_in(name, scenario, NATIVE, mount_passthrough, ShmDir::on_disk);
        let served = mount_daemon_served_long_cache;
        check_mounted_in(name, scenario, NATIVE, served, ShmDir::on_disk);
    }
}

#[test]
fn lua_mmap_times_on_disk() {
    let scenarios = [
        ("mmap_writes_move_times", mmap_writes_move_times as Scenario),
        (
            "mmap_read_then_write_moves_times",
            mmap_read_then_write_moves_times,
        ),
    ];
    for (name, scenario) in scenarios {
        let served = mount_daemon_served_long_cache;
        check_mounted_in(name, scenario, LUA, served, ShmDir::on_disk);
    }
}

/// `-o nopassthrough,attr_timeout=60,entry_timeout=60`: every read and write reaches
/// the daemon, and cached attributes stay valid unless something invalidates them.
fn mount_daemon_served_long_cache(script: &str, backing: &Path) -> Option<common::Mounted> {
    let _g = spawning();
    common::mount_with(
        &common::test_script(script),
        common::MountOptions::new()
            .opt("use_ino")
            .opt("nopassthrough")
            .opt("attr_timeout=60")
            .opt("entry_timeout=60")
            .arg(backing),
    )
}

/// O_TMPFILE through the native passthrough: a nameless file, written and read, nlink
/// 0, absent from listings; linked into the tree through /proc/self/fd (it keeps its
/// inode), or refused with O_EXCL; a tmpfile never linked leaves nothing behind. A
/// mount whose `create` is a Lua handler cannot make nameless files: `open` answers
/// EOPNOTSUPP there (`lua_tmpfile_is_refused`).
#[test]
fn native_o_tmpfile() {
    check("o_tmpfile", o_tmpfile, NATIVE);
}

/// O_TMPFILE as another user: the nameless file, and the name it gets, are the caller's.
#[test]
fn native_user_o_tmpfile() {
    check_as_users("user_o_tmpfile", user_o_tmpfile, NATIVE);
}

#[test]
fn lua_tmpfile_is_refused() {
    let backing = common::TempDir::new("tmpfile-lua");
    let Some(m) = common::mount_with(
        &common::test_script(LUA),
        common::MountOptions::new().arg(backing.path()),
    ) else {
        return;
    };
    assert_eq!(
        open(&m.dir, libc::O_TMPFILE | O_RDWR, 0o600),
        Err(libc::EOPNOTSUPP)
    );
    m.unmount();
}

/// `linkat(AT_FDCWD, "/proc/self/fd/N", AT_FDCWD, to, AT_SYMLINK_FOLLOW)`.
fn link_fd(fd: i64, to: &Path) -> Sys {
    let from = cpath(Path::new(&format!("/proc/self/fd/{fd}")));
    let to = cpath(to);
    // SAFETY: two NUL-terminated paths alive across the call.
    sys(unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        )
    } as i64)
}

fn o_tmpfile(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    if let Some(fd) = r.open("open O_TMPFILE", d, libc::O_TMPFILE | O_RDWR, 0o640) {
        r.rc("write", pwrite(fd, b"nameless data\n", 0));
        r.fstat("fstat nameless", fd);
        listing(&mut r, "listing with a nameless file", d);
        r.ok("link it", link_fd(fd, &j(d, "named")));
        r.fstat("fstat once named", fd);
        r.lstat("named", &j(d, "named"));
        r.rc("write again", pwrite(fd, b"NAMED", 0));
        if let Some(rd) = r.open("open named", &j(d, "named"), O_RDONLY, 0) {
            r.data("read named", read(rd, 100));
            close(rd).unwrap();
        }
        r.ok("link it twice", link_fd(fd, &j(d, "named2")));
        r.lstat("named2", &j(d, "named2"));
        close(fd).unwrap();
    }
    if let Some(fd) = r.open(
        "open O_TMPFILE|O_EXCL",
        d,
        libc::O_TMPFILE | O_RDWR | libc::O_EXCL,
        0o600,
    ) {
        r.ok("link an O_EXCL one", link_fd(fd, &j(d, "never")));
        close(fd).unwrap();
    }
    if let Some(fd) = r.open(
        "open O_TMPFILE, never linked",
        d,
        libc::O_TMPFILE | O_RDWR,
        0o600,
    ) {
        r.rc("write", pwrite(fd, &pattern(3, 70_000), 0));
        r.data(
            "read back",
            pread_full(fd, 70_000, 0).map(|b| b[69_990..].to_vec()),
        );
        close(fd).unwrap();
    }
    r.ok("mkdir sub", mkdir(&j(d, "sub"), 0o755));
    if let Some(fd) = r.open(
        "O_TMPFILE in sub",
        &j(d, "sub"),
        libc::O_TMPFILE | libc::O_WRONLY,
        0o600,
    ) {
        r.ok("link into the parent", link_fd(fd, &j(d, "from-sub")));
        close(fd).unwrap();
    }
    r.open(
        "O_TMPFILE on a file",
        &j(d, "named"),
        libc::O_TMPFILE | O_RDWR,
        0o600,
    );
    r.open("O_TMPFILE read-only", d, libc::O_TMPFILE | O_RDONLY, 0o600);
    listing(&mut r, "listing at the end", d);
    r.done()
}

fn user_o_tmpfile(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    r.ok("chmod 0777", chmod(d, 0o777));
    let dir = d.to_path_buf();
    let (rr, _) = as_user(USER, GROUP, &[GROUP], move || {
        if let Some(fd) = r.open("user O_TMPFILE", &dir, libc::O_TMPFILE | O_RDWR, 0o644) {
            r.fstat("user's nameless file", fd);
            r.ok("user links it", link_fd(fd, &j(&dir, "mine")));
            close(fd).unwrap();
        }
        (r, ())
    });
    r = rr;
    r.lstat("mine", &j(d, "mine"));
    r.done()
}

/// Hard links with the default options: the native passthrough has stable inode
/// numbers, so hard links share one node and one st_ino without `-o use_ino`.
#[test]
fn native_hard_links_default_options() {
    check_mounted("hard_links", hard_links, NATIVE, mount_passthrough_default);
}

/// An overlay that overrides getattr in Lua: `base.getattr` reports the real inode
/// number, so the names of one file share one node (one st_ino, one set of cached
/// attributes) with the default options too.
#[test]
fn lua_hard_links_default_options() {
    check_mounted("hard_links", hard_links, LUA, mount_passthrough_default);
}

/// examples/passthrough.lua (the fs module, no native passthrough): `fs.attr` reports
/// the inode number, and hard links behave as on the directory below.
#[test]
fn example_passthrough_hard_links_default_options() {
    check_mounted(
        "hard_links",
        hard_links,
        "examples/passthrough.lua",
        |_, backing| {
            let _g = posix::spawning();
            common::mount_with(
                &common::example("passthrough.lua"),
                common::MountOptions::new().arg(backing),
            )
        },
    );
}

/// examples/passthrough.lua on a file that was unlinked while open: its handlers act
/// on the open file they get as `fi` (fstat, fchmod, fchown, futimens, ftruncate and
/// the xattr calls), as the native passthrough does, never on the name it had.
#[test]
fn example_passthrough_fd_ops_on_unlinked_open_file() {
    for (name, scenario) in [
        (
            "xattrs_on_unlinked_open_file",
            xattrs_on_unlinked_open_file as Scenario,
        ),
        ("fd_ops_on_unlinked_open_file", fd_ops_on_unlinked_open_file),
        (
            "fd_ops_on_open_file_replaced_by_rename",
            fd_ops_on_open_file_replaced_by_rename,
        ),
    ] {
        check_mounted(name, scenario, "examples/passthrough.lua", mount_example);
    }
}

/// examples/passthrough.lua over `backing`, with `-o use_ino`.
fn mount_example(_: &str, backing: &Path) -> Option<common::Mounted> {
    let _g = posix::spawning();
    common::mount_with(
        &common::example("passthrough.lua"),
        common::MountOptions::new().opt("use_ino").arg(backing),
    )
}

fn j(d: &Path, name: &str) -> PathBuf {
    d.join(name)
}

/// Create `name` with `contents` (recorded).
fn put(r: &mut Rec, d: &Path, name: &str, contents: &[u8]) {
    let p = j(d, name);
    if let Some(fd) = r.open(
        &format!("create {name}"),
        &p,
        O_CREAT | O_WRONLY | O_TRUNC,
        0o644,
    ) {
        r.rc(&format!("write {name}"), pwrite_full(fd, contents, 0));
        close(fd).unwrap();
    }
}

/// Bytes that depend on position and seed.
fn pattern(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u32)
                .wrapping_mul(31)
                .wrapping_add(seed as u32 * 7 + (i as u32 >> 11)) as u8
        })
        .collect()
}

fn create_excl(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    let f = j(d, "f");
    if let Some(fd) = r.open("create excl", &f, O_CREAT | O_EXCL | O_WRONLY, 0o640) {
        r.rc("write", write(fd, b"hello"));
        r.fstat("fstat new", fd);
        close(fd).unwrap();
    }
    r.open("create excl again", &f, O_CREAT | O_EXCL | O_WRONLY, 0o600);
    r.open(
        "create excl rdonly again",
        &f,
        O_CREAT | O_EXCL | O_RDONLY,
        0o600,
    );
    if let Some(fd) = r.open("create existing", &f, O_CREAT | O_RDWR, 0o600) {
        r.data("read", read(fd, 100));
        close(fd).unwrap();
    }
    r.stat("stat f", &f);
    r.ok("symlink dangling", symlink(b"target", &j(d, "dl")));
    r.open(
        "excl on dangling symlink",
        &j(d, "dl"),
        O_CREAT | O_EXCL | O_WRONLY,
        0o644,
    );
    r.lstat("target after excl", &j(d, "target"));
    if let Some(fd) = r.open(
        "create through dangling symlink",
        &j(d, "dl"),
        O_CREAT | O_WRONLY,
        0o604,
    ) {
        close(fd).unwrap();
    }
    r.lstat("target after create", &j(d, "target"));
    r.open(
        "create in missing dir",
        &j(d, "nodir/x"),
        O_CREAT | O_WRONLY,
        0o644,
    );
    if let Some(fd) = r.open("create mode 0", &j(d, "m0"), O_CREAT | O_EXCL | O_RDWR, 0) {
        r.rc("write mode 0", write(fd, b"x"));
        close(fd).unwrap();
    }
    r.stat("stat m0", &j(d, "m0"));
    if let Some(fd) = r.open("reopen mode 0 as root", &j(d, "m0"), O_RDONLY, 0) {
        r.data("read m0", read(fd, 10));
        close(fd).unwrap();
    }
    if let Some(fd) = r.open(
        "create 04755",
        &j(d, "suid"),
        O_CREAT | O_EXCL | O_WRONLY,
        0o4755,
    ) {
        close(fd).unwrap();
    }
    r.stat("stat suid", &j(d, "suid"));
    r.done()
}

fn open_errors(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    put(&mut r, d, "f", b"some data");
    r.ok("mkdir dir", mkdir(&j(d, "dir"), 0o755));
    r.open("missing", &j(d, "missing"), O_RDONLY, 0);
    r.open("missing parent", &j(d, "missing/x"), O_RDONLY, 0);
    r.open("file as dir", &j(d, "f/x"), O_RDONLY, 0);
    r.open("file as dir creat", &j(d, "f/x"), O_CREAT | O_WRONLY, 0o644);
    r.open("trailing slash on file", &j(d, "f/"), O_RDONLY, 0);
    r.stat("stat trailing slash on file", &j(d, "f/"));
    r.open("dir O_WRONLY", &j(d, "dir"), O_WRONLY, 0);
    r.open("dir O_RDWR", &j(d, "dir"), O_RDWR, 0);
    r.open("dir O_CREAT", &j(d, "dir"), O_CREAT | O_WRONLY, 0o644);
    r.open("O_DIRECTORY on file", &j(d, "f"), O_RDONLY | O_DIRECTORY, 0);
    r.open(
        "O_DIRECTORY|O_CREAT",
        &j(d, "newdir"),
        O_RDONLY | O_DIRECTORY | O_CREAT,
        0o755,
    );
    r.lstat("after O_DIRECTORY|O_CREAT", &j(d, "newdir"));
    if let Some(fd) = r.open("dir O_RDONLY", &j(d, "dir"), O_RDONLY, 0) {
        r.data("read a dir", read(fd, 10));
        r.rc("write a dir fd", write(fd, b"x"));
        close(fd).unwrap();
    }
    if let Some(fd) = r.open("f O_WRONLY", &j(d, "f"), O_WRONLY, 0) {
        r.data("read O_WRONLY", read(fd, 10));
        close(fd).unwrap();
    }
    if let Some(fd) = r.open("f O_RDONLY", &j(d, "f"), O_RDONLY, 0) {
        r.rc("write O_RDONLY", write(fd, b"x"));
        r.rc("ftruncate O_RDONLY", ftruncate(fd, 0));
        close(fd).unwrap();
    }
    r.ok("mkdir under file", mkdir(&j(d, "f/sub"), 0o755));
    r.ok("mkdir existing file", mkdir(&j(d, "f"), 0o755));
    r.ok("unlink missing", unlink(&j(d, "missing")));
    r.ok("unlink under file", unlink(&j(d, "f/x")));
    if let Some(fd) = r.open("O_TRUNC", &j(d, "f"), O_WRONLY | O_TRUNC, 0) {
        r.fstat("fstat after O_TRUNC", fd);
        close(fd).unwrap();
    }
    r.stat("stat f", &j(d, "f"));
    r.done()
}

fn name_too_long(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    let n255 = d.join(long_name(255));
    let n256 = d.join(long_name(256));
    let n300 = d.join(long_name(300));
    if let Some(fd) = r.open("create 255", &n255, O_CREAT | O_EXCL | O_WRONLY, 0o644) {
        r.rc("write 255", write(fd, b"long"));
        close(fd).unwrap();
    }
    r.stat("stat 255", &n255);
    r.open("create 256", &n256, O_CREAT | O_EXCL | O_WRONLY, 0o644);
    r.open("open 256", &n256, O_RDONLY, 0);
    r.stat("stat 256", &n256);
    r.stat("stat 300", &n300);
    r.ok("mkdir 256", mkdir(&n256, 0o755));
    r.ok("mknod 256", mknod(&n256, libc::S_IFREG | 0o644, 0));
    r.ok("symlink 256", symlink(b"x", &n256));
    r.ok("link to 256", link(&n255, &n256));
    r.ok("rename to 256", rename(&n255, &n256));
    r.ok("unlink 256", unlink(&n256));
    r.ok("rmdir 256", rmdir(&n256));
    r.data("readlink 256", readlink(&n256));
    r.data("getxattr 256", getxattr(&n256, "user.x", 10));
    r.ok("truncate 256", truncate(&n256, 0));
    r.ok("chmod 256", chmod(&n256, 0o600));
    r.ok("mkdir 255", mkdir(&d.join(long_name(254)), 0o755));
    r.ok(
        "create under 254/255",
        open(
            &d.join(long_name(254)).join(long_name(255)),
            O_CREAT | O_WRONLY,
            0o644,
        )
        .and_then(close),
    );
    let mut names: Vec<usize> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().len())
        .collect();
    names.sort();
    r.note("listed name lengths", format!("{names:?}"));
    // A path longer than PATH_MAX is refused by the kernel itself.
    let long_path = d.join("x/".repeat(2100));
    r.stat("stat path > PATH_MAX", &long_path);
    r.done()
}

/// Paths below a chain of directories whose total length exceeds PATH_MAX, reached
/// with *at calls on directory fds. The passthrough must resolve them relative to fds.
fn deep_paths_beyond_path_max(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    let comp = vec![b'd'; 200];
    let mut fds = vec![];
    let mut dir = open(d, O_RDONLY | O_DIRECTORY, 0).unwrap();
    fds.push(dir);
    let mut ok = true;
    for level in 0..25 {
        let c = std::ffi::CString::new(comp.clone()).unwrap();
        // SAFETY: valid dirfd and name.
        let made = sys(unsafe { libc::mkdirat(dir as i32, c.as_ptr(), 0o755) } as i64);
        let sub = openat(dir as i32, &comp, O_RDONLY | O_DIRECTORY, 0);
        if made.is_err() || sub.is_err() {
            r.note(&format!("level {level}"), format!("{made:?} {sub:?}"));
            ok = false;
            break;
        }
        dir = sub.unwrap();
        fds.push(dir);
    }
    r.note("made 25 levels (5000+ bytes)", ok);
    if let Some(fd) = r.ok(
        "create file at the bottom",
        openat(dir as i32, b"leaf", O_CREAT | O_EXCL | O_RDWR, 0o640),
    ) {
        r.rc("write leaf", pwrite(fd, b"deep data", 0));
        r.data("read leaf", pread(fd, 100, 0));
        close(fd).unwrap();
    }
    if let Some(fd) = r.ok("reopen leaf", openat(dir as i32, b"leaf", O_RDONLY, 0)) {
        r.fstat("fstat leaf", fd);
        close(fd).unwrap();
    }
    // SAFETY: valid dirfd and names.
    unsafe {
        let leaf = c"leaf";
        let leaf2 = c"leaf2";
        r.ok(
            "linkat",
            sys(libc::linkat(dir as i32, leaf.as_ptr(), dir as i32, leaf2.as_ptr(), 0) as i64),
        );
        r.ok(
            "renameat",
            sys(libc::renameat(dir as i32, leaf2.as_ptr(), dir as i32, c"leaf3".as_ptr()) as i64),
        );
        r.ok(
            "symlinkat",
            sys(libc::symlinkat(c"leaf".as_ptr(), dir as i32, c"sl".as_ptr()) as i64),
        );
        let mut st: libc::stat = std::mem::zeroed();
        let rc = libc::fstatat(dir as i32, leaf.as_ptr(), &mut st, 0);
        r.note(
            "fstatat leaf",
            format!("rc {rc} nlink {} size {}", st.st_nlink, st.st_size),
        );
        r.ok(
            "fchmodat",
            sys(libc::fchmodat(dir as i32, leaf.as_ptr(), 0o600, 0) as i64),
        );
        let rc = libc::fstatat(dir as i32, c"sl".as_ptr(), &mut st, 0);
        r.note(
            "fstatat through symlink",
            format!("rc {rc} mode {:o}", st.st_mode),
        );
        for name in [c"sl", c"leaf3", c"leaf"] {
            r.ok(
                &format!("unlinkat {}", name.to_string_lossy()),
                sys(libc::unlinkat(dir as i32, name.as_ptr(), 0) as i64),
            );
        }
    }
    // Remove the chain bottom-up.
    let c = std::ffi::CString::new(comp).unwrap();
    let mut removed = 0;
    while fds.len() > 1 {
        close(fds.pop().unwrap()).unwrap();
        let parent = *fds.last().unwrap();
        // SAFETY: valid dirfd and name.
        if unsafe { libc::unlinkat(parent as i32, c.as_ptr(), libc::AT_REMOVEDIR) } == 0 {
            removed += 1;
        }
    }
    close(fds.pop().unwrap()).unwrap();
    r.note("levels removed", removed);
    r.done()
}

fn symlink_loops(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    put(&mut r, d, "f", b"target data");
    r.ok("symlink l -> f", symlink(b"f", &j(d, "l")));
    r.open(
        "O_NOFOLLOW on symlink",
        &j(d, "l"),
        O_RDONLY | O_NOFOLLOW,
        0,
    );
    r.open(
        "O_NOFOLLOW|O_CREAT on symlink",
        &j(d, "l"),
        O_WRONLY | O_CREAT | O_NOFOLLOW,
        0o644,
    );
    if let Some(fd) = r.open(
        "O_PATH|O_NOFOLLOW on symlink",
        &j(d, "l"),
        O_PATH | O_NOFOLLOW,
        0,
    ) {
        r.fstat("fstat O_PATH symlink", fd);
        close(fd).unwrap();
    }
    if let Some(fd) = r.open("follow l", &j(d, "l"), O_RDONLY, 0) {
        r.data("read via l", read(fd, 100));
        close(fd).unwrap();
    }
    r.ok("symlink a -> b", symlink(b"b", &j(d, "a")));
    r.ok("symlink b -> a", symlink(b"a", &j(d, "b")));
    r.ok("symlink self -> self", symlink(b"self", &j(d, "self")));
    r.open("open loop a", &j(d, "a"), O_RDONLY, 0);
    r.open("create through loop", &j(d, "a"), O_CREAT | O_WRONLY, 0o644);
    r.stat("stat loop a", &j(d, "a"));
    r.lstat("lstat loop a", &j(d, "a"));
    r.stat("stat self loop", &j(d, "self"));
    r.stat("stat loop as dir", &j(d, "a/x"));
    r.ok("chmod loop", chmod(&j(d, "a"), 0o600));
    r.ok("truncate loop", truncate(&j(d, "a"), 0));
    // A chain of 40 links resolves; 41 is one too many (MAXSYMLINKS).
    for i in 0..41 {
        let target = if i == 0 {
            "f".to_string()
        } else {
            format!("c{}", i - 1)
        };
        symlink(target.as_bytes(), &j(d, &format!("c{i}"))).unwrap();
    }
    r.stat("chain of 40", &j(d, "c39"));
    r.stat("chain of 41", &j(d, "c40"));
    r.done()
}

fn symlinks(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    put(&mut r, d, "file", b"contents");
    r.ok("mkdir dir", mkdir(&j(d, "dir"), 0o755));
    r.ok("symlink rel", symlink(b"target/rel", &j(d, "s")));
    r.data("readlink rel", readlink(&j(d, "s")));
    r.lstat("lstat dangling", &j(d, "s"));
    r.stat("stat dangling", &j(d, "s"));
    r.ok("symlink abs", symlink(b"/nonexistent/abs", &j(d, "abs")));
    r.data("readlink abs", readlink(&j(d, "abs")));
    r.ok("symlink over existing", symlink(b"x", &j(d, "file")));
    r.data("readlink a file", readlink(&j(d, "file")));
    r.data("readlink a dir", readlink(&j(d, "dir")));
    r.data("readlink missing", readlink(&j(d, "missing")));
    r.ok("symlink to file", symlink(b"file", &j(d, "sf")));
    r.stat("stat via symlink", &j(d, "sf"));
    r.contents("read via symlink", &j(d, "sf"));
    r.ok("symlink to dir", symlink(b"dir", &j(d, "sd")));
    put(&mut r, d, "sd/inside", b"via link");
    r.contents("dir/inside", &j(d, "dir/inside"));
    r.open(
        "O_DIRECTORY via symlink",
        &j(d, "sd"),
        O_RDONLY | O_DIRECTORY,
        0,
    )
    .map(close);
    r.open(
        "O_DIRECTORY|O_NOFOLLOW on symlink",
        &j(d, "sd"),
        O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
        0,
    )
    .map(close);
    r.ok("rmdir a symlink to dir", rmdir(&j(d, "sd")));
    r.ok("unlink symlink to dir", unlink(&j(d, "sd")));
    r.lstat("dir still there", &j(d, "dir"));
    let t4095 = vec![b't'; 4095];
    r.ok("symlink 4095-byte target", symlink(&t4095, &j(d, "long")));
    r.data("readlink 4095", readlink(&j(d, "long")));
    r.lstat("lstat 4095", &j(d, "long"));
    r.ok(
        "symlink 4096-byte target",
        symlink(&vec![b't'; 4096], &j(d, "toolong")),
    );
    r.ok("symlink empty target", symlink(b"", &j(d, "empty")));
    r.ok("lchown symlink", lchown(&j(d, "sf"), 1234, 5678));
    r.lstat("lstat after lchown", &j(d, "sf"));
    r.stat("target after lchown", &j(d, "file"));
    r.ok("hard link a symlink", link(&j(d, "sf"), &j(d, "sf2")));
    r.lstat("lstat hard-linked symlink", &j(d, "sf2"));
    r.data("readlink hard-linked symlink", readlink(&j(d, "sf2")));
    r.done()
}

fn mkdir_rmdir(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    r.ok("mkdir a 0750", mkdir(&j(d, "a"), 0o750));
    r.stat("stat a", &j(d, "a"));
    r.ok("mkdir a again", mkdir(&j(d, "a"), 0o755));
    r.ok("mkdir a/b", mkdir(&j(d, "a/b"), 0o755));
    r.ok("mkdir a/c", mkdir(&j(d, "a/c"), 0o700));
    r.stat("stat a with 2 subdirs", &j(d, "a"));
    r.stat("stat root", d);
    r.ok("rmdir non-empty", rmdir(&j(d, "a")));
    r.ok("rmdir a/b", rmdir(&j(d, "a/b")));
    r.stat("stat a after rmdir", &j(d, "a"));
    put(&mut r, d, "a/c/f", b"x");
    r.ok("rmdir dir holding a file", rmdir(&j(d, "a/c")));
    r.ok("rmdir a file", rmdir(&j(d, "a/c/f")));
    r.ok("unlink a dir", unlink(&j(d, "a/c")));
    r.ok("rmdir missing", rmdir(&j(d, "a/missing")));
    r.ok("rmdir a/.", rmdir(&j(d, "a/.")));
    r.ok("rmdir a/..", rmdir(&j(d, "a/..")));
    r.ok("mkdir sticky 01777", mkdir(&j(d, "sticky"), 0o1777));
    r.stat("stat sticky", &j(d, "sticky"));
    r.ok("mkdir setgid 02755", mkdir(&j(d, "sgid"), 0o2755));
    r.stat("stat sgid", &j(d, "sgid"));
    r.ok("mkdir in sgid", mkdir(&j(d, "sgid/sub"), 0o755));
    r.stat("stat sgid/sub", &j(d, "sgid/sub"));
    r.ok("mkdir mode 0", mkdir(&j(d, "zero"), 0));
    r.stat("stat zero", &j(d, "zero"));
    put(&mut r, d, "zero/f", b"root ignores modes");
    r.ok("mkdir trailing slash", mkdir(&j(d, "trail/"), 0o755));
    r.stat("stat trail", &j(d, "trail"));
    r.ok("unlink a/c/f", unlink(&j(d, "a/c/f")));
    r.ok("rmdir a/c", rmdir(&j(d, "a/c")));
    r.ok("rmdir a", rmdir(&j(d, "a")));
    r.stat("stat a after", &j(d, "a"));
    r.stat("stat root after", d);
    r.done()
}

fn hard_links(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    put(&mut r, d, "f", b"data");
    r.ok("link f g", link(&j(d, "f"), &j(d, "g")));
    r.stat("stat f", &j(d, "f"));
    r.stat("stat g", &j(d, "g"));
    r.ok("mkdir sub", mkdir(&j(d, "sub"), 0o755));
    r.ok("link f sub/h", link(&j(d, "f"), &j(d, "sub/h")));
    r.stat("stat sub/h", &j(d, "sub/h"));
    r.stat("stat f again", &j(d, "f"));
    if let Some(fd) = r.open("open g", &j(d, "g"), O_WRONLY, 0) {
        r.rc("write via g", pwrite(fd, b"more", 4));
        close(fd).unwrap();
    }
    r.contents("read via f", &j(d, "f"));
    r.contents("read via sub/h", &j(d, "sub/h"));
    r.ok("chmod via h", chmod(&j(d, "sub/h"), 0o600));
    r.stat("stat f after chmod via h", &j(d, "f"));
    r.ok("unlink f", unlink(&j(d, "f")));
    r.stat("stat f after unlink", &j(d, "f"));
    r.stat("stat g after unlink f", &j(d, "g"));
    r.ok("link a dir", link(&j(d, "sub"), &j(d, "sublink")));
    r.ok("link onto existing", link(&j(d, "g"), &j(d, "sub/h")));
    r.ok("link missing", link(&j(d, "missing"), &j(d, "x")));
    r.ok("link into missing dir", link(&j(d, "g"), &j(d, "nodir/x")));
    r.ok("link f again (recreate name)", link(&j(d, "g"), &j(d, "f")));
    r.stat("stat f relinked", &j(d, "f"));
    if let Some(fd) = r.open("open h", &j(d, "sub/h"), O_RDWR, 0) {
        r.ok("unlink g", unlink(&j(d, "g")));
        r.ok("unlink f", unlink(&j(d, "f")));
        r.fstat("fstat h (nlink 1)", fd);
        r.ok("unlink h", unlink(&j(d, "sub/h")));
        r.fstat("fstat h (nlink 0)", fd);
        r.data("read unlinked", pread(fd, 100, 0));
        close(fd).unwrap();
    }
    // Many links to one file.
    put(&mut r, d, "m", b"many");
    for i in 0..20 {
        link(&j(d, "m"), &j(d, &format!("m{i}"))).unwrap();
    }
    r.stat("stat m with 21 names", &j(d, "m"));
    r.stat("stat m19", &j(d, "m19"));
    for i in 0..10 {
        unlink(&j(d, &format!("m{i}"))).unwrap();
    }
    r.stat("stat m with 11 names", &j(d, "m"));
    r.stat("stat m15", &j(d, "m15"));
    r.done()
}

fn rename_files(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    put(&mut r, d, "f", b"first");
    put(&mut r, d, "g", b"second");
    r.stat("stat f", &j(d, "f"));
    r.stat("stat g", &j(d, "g"));
    r.ok("rename f -> new", rename(&j(d, "f"), &j(d, "new")));
    r.stat("stat f gone", &j(d, "f"));
    r.stat("stat new (f's inode)", &j(d, "new"));
    let old_g = open(&j(d, "g"), O_RDONLY, 0).unwrap();
    r.ok("rename new over g", rename(&j(d, "new"), &j(d, "g")));
    r.stat("stat g (f's inode)", &j(d, "g"));
    r.contents("g contents", &j(d, "g"));
    r.fstat("old g fd (replaced)", old_g);
    r.data("read old g fd", pread(old_g, 100, 0));
    close(old_g).unwrap();
    r.ok("rename to itself", rename(&j(d, "g"), &j(d, "g")));
    r.ok("link g h", link(&j(d, "g"), &j(d, "h")));
    r.ok("rename onto another link", rename(&j(d, "g"), &j(d, "h")));
    r.stat("g still there", &j(d, "g"));
    r.stat("h still there", &j(d, "h"));
    r.ok("rename missing", rename(&j(d, "missing"), &j(d, "x")));
    r.ok(
        "rename into missing dir",
        rename(&j(d, "g"), &j(d, "nodir/x")),
    );
    r.ok("rename to file/x", rename(&j(d, "g"), &j(d, "h/x")));
    r.ok("mkdir dir", mkdir(&j(d, "dir"), 0o755));
    r.ok("rename file over dir", rename(&j(d, "g"), &j(d, "dir")));
    r.ok("rename dir over file", rename(&j(d, "dir"), &j(d, "g")));
    r.ok("rename file into dir", rename(&j(d, "h"), &j(d, "dir/h")));
    r.stat("dir/h", &j(d, "dir/h"));
    r.stat("g (other link)", &j(d, "g"));
    r.ok(
        "rename file out of dir",
        rename(&j(d, "dir/h"), &j(d, "out")),
    );
    r.contents("out", &j(d, "out"));
    r.ok(
        "rename with trailing slash",
        rename(&j(d, "out"), &j(d, "out2/")),
    );
    r.ok("rename symlink", symlink(b"g", &j(d, "sl")));
    r.ok("rename symlink", rename(&j(d, "sl"), &j(d, "dir/sl")));
    r.data("readlink moved symlink", readlink(&j(d, "dir/sl")));
    r.stat("stat moved symlink (relative target)", &j(d, "dir/sl"));
    r.done()
}

fn rename_dirs(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    r.ok("mkdir a", mkdir(&j(d, "a"), 0o755));
    r.ok("mkdir a/sub", mkdir(&j(d, "a/sub"), 0o755));
    put(&mut r, d, "a/sub/f", b"deep file");
    r.ok("mkdir empty", mkdir(&j(d, "empty"), 0o700));
    r.ok("mkdir full", mkdir(&j(d, "full"), 0o755));
    put(&mut r, d, "full/x", b"x");
    r.ok(
        "rename dir over non-empty dir",
        rename(&j(d, "a"), &j(d, "full")),
    );
    r.ok(
        "rename dir into itself",
        rename(&j(d, "a"), &j(d, "a/sub/a")),
    );
    r.ok(
        "rename dir onto its child",
        rename(&j(d, "a"), &j(d, "a/sub")),
    );
    r.ok(
        "rename child onto its parent",
        rename(&j(d, "a/sub"), &j(d, "a")),
    );
    r.ok("rename a/. ", rename(&j(d, "a/."), &j(d, "dot")));
    r.ok("rename onto a/..", rename(&j(d, "empty"), &j(d, "a/..")));
    r.stat("stat empty", &j(d, "empty"));
    r.ok(
        "rename dir over empty dir",
        rename(&j(d, "a"), &j(d, "empty")),
    );
    r.stat("stat empty (a's inode)", &j(d, "empty"));
    r.stat("stat a gone", &j(d, "a"));
    r.contents("file in moved tree", &j(d, "empty/sub/f"));
    put(&mut r, d, "empty/sub/new", b"created after move");
    r.stat("root nlink", d);
    r.ok(
        "rename sub across",
        rename(&j(d, "empty/sub"), &j(d, "full/sub")),
    );
    r.stat("empty nlink after", &j(d, "empty"));
    r.stat("full nlink after", &j(d, "full"));
    r.contents("moved again", &j(d, "full/sub/new"));
    r.ok(
        "rename dir with trailing slash",
        rename(&j(d, "empty/"), &j(d, "e2/")),
    );
    r.stat("e2", &j(d, "e2"));
    // Renames of open directories and files inside them keep working.
    let fd = open(&j(d, "full/sub/f"), O_RDONLY, 0).unwrap();
    r.ok(
        "rename parent of open file",
        rename(&j(d, "full"), &j(d, "moved")),
    );
    r.data("read open file after parent moved", pread(fd, 100, 0));
    r.fstat("fstat open file after parent moved", fd);
    close(fd).unwrap();
    r.stat("stat via new path", &j(d, "moved/sub/f"));
    r.stat("stat via old path", &j(d, "full/sub/f"));
    r.done()
}

fn rename_noreplace_exchange(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    let noreplace = libc::RENAME_NOREPLACE;
    let exchange = libc::RENAME_EXCHANGE;
    put(&mut r, d, "f", b"eff");
    put(&mut r, d, "g", b"gee");
    r.ok("mkdir dir", mkdir(&j(d, "dir"), 0o750));
    put(&mut r, d, "dir/inner", b"inner");
    r.ok("mkdir empty", mkdir(&j(d, "empty"), 0o755));
    r.stat("f", &j(d, "f"));
    r.stat("g", &j(d, "g"));
    r.stat("dir", &j(d, "dir"));
    r.ok(
        "noreplace onto file",
        renameat2(&j(d, "f"), &j(d, "g"), noreplace),
    );
    r.ok(
        "noreplace dir onto empty dir",
        renameat2(&j(d, "dir"), &j(d, "empty"), noreplace),
    );
    r.contents("g intact", &j(d, "g"));
    r.ok(
        "noreplace to new name",
        renameat2(&j(d, "f"), &j(d, "h"), noreplace),
    );
    r.stat("h (f's inode)", &j(d, "h"));
    r.stat("f gone", &j(d, "f"));
    r.ok(
        "noreplace missing source",
        renameat2(&j(d, "f"), &j(d, "z"), noreplace),
    );
    r.ok(
        "exchange files",
        renameat2(&j(d, "h"), &j(d, "g"), exchange),
    );
    r.stat("h after exchange", &j(d, "h"));
    r.stat("g after exchange", &j(d, "g"));
    r.contents("h contents", &j(d, "h"));
    r.contents("g contents", &j(d, "g"));
    r.ok(
        "exchange file and dir",
        renameat2(&j(d, "g"), &j(d, "dir"), exchange),
    );
    r.stat("g is the dir", &j(d, "g"));
    r.stat("dir is the file", &j(d, "dir"));
    r.contents("inner via g", &j(d, "g/inner"));
    r.ok(
        "exchange with missing",
        renameat2(&j(d, "h"), &j(d, "missing"), exchange),
    );
    r.ok(
        "exchange missing with existing",
        renameat2(&j(d, "missing"), &j(d, "h"), exchange),
    );
    r.ok("mkdir g/deeper", mkdir(&j(d, "g/deeper"), 0o755));
    r.ok(
        "exchange dir with its child",
        renameat2(&j(d, "g"), &j(d, "g/deeper"), exchange),
    );
    r.ok(
        "exchange|noreplace",
        renameat2(&j(d, "h"), &j(d, "dir"), exchange | noreplace),
    );
    r.ok(
        "exchange across dirs",
        renameat2(&j(d, "h"), &j(d, "g/inner"), exchange),
    );
    r.contents("h now", &j(d, "h"));
    r.contents("g/inner now", &j(d, "g/inner"));
    r.ok(
        "exchange dirs across parents",
        renameat2(&j(d, "empty"), &j(d, "g/deeper"), exchange),
    );
    r.stat("root nlink", d);
    r.stat("g nlink", &j(d, "g"));
    r.ok(
        "exchange with itself",
        renameat2(&j(d, "h"), &j(d, "h"), exchange),
    );
    r.ok(
        "unknown rename flag",
        renameat2(&j(d, "h"), &j(d, "h2"), 1 << 10),
    );
    r.ok(
        "whiteout rename",
        renameat2(&j(d, "h"), &j(d, "wh"), libc::RENAME_WHITEOUT),
    );
    r.lstat("whiteout left behind", &j(d, "h"));
    r.lstat("whiteout target", &j(d, "wh"));
    r.done()
}

fn unlink_while_open(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    put(&mut r, d, "f", b"0123456789");
    let Some(fd) = r.open("open f", &j(d, "f"), O_RDWR, 0) else {
        return r.done();
    };
    let fd2 = open(&j(d, "f"), O_RDONLY, 0).unwrap();
    r.ok("unlink f", unlink(&j(d, "f")));
    r.fstat("fstat after unlink", fd);
    r.data("pread after unlink", pread(fd, 100, 0));
    r.rc("pwrite after unlink", pwrite(fd, b"abc", 10));
    r.fstat("fstat after write", fd);
    r.data("pread all", pread(fd, 100, 0));
    r.data("read via second fd", pread(fd2, 100, 0));
    r.rc("ftruncate after unlink", ftruncate(fd, 5));
    r.fstat("fstat after ftruncate", fd);
    r.data("second fd after ftruncate", pread(fd2, 100, 0));
    r.rc("fchmod after unlink", fchmod(fd, 0o600));
    r.rc("fchown after unlink", fchown(fd, 42, 43));
    r.rc(
        "futimens after unlink",
        futimens(fd, [ts(1000, 1), ts(2000, 2)]),
    );
    r.fstat("fstat after fchmod/fchown", fd);
    r.rc("fallocate after unlink", fallocate(fd, 0, 0, 8192));
    r.fstat("fstat after fallocate", fd);
    r.rc("fsync after unlink", fsync(fd));
    r.stat("stat path", &j(d, "f"));
    put(&mut r, d, "f", b"a new file with the same name");
    r.data("old fd still old", pread(fd, 100, 0));
    r.contents("new file", &j(d, "f"));
    close(fd).unwrap();
    close(fd2).unwrap();
    // A removed directory that is still open.
    r.ok("mkdir dd", mkdir(&j(d, "dd"), 0o755));
    let dfd = open(&j(d, "dd"), O_RDONLY | O_DIRECTORY, 0).unwrap();
    r.ok("rmdir open dir", rmdir(&j(d, "dd")));
    r.ok(
        "create in removed dir",
        openat(dfd as i32, b"x", O_CREAT | O_WRONLY, 0o644),
    );
    r.data("list removed dir", {
        // SAFETY: getdents64 into our buffer.
        let mut buf = [0u8; 1024];
        let n = unsafe { libc::syscall(libc::SYS_getdents64, dfd, buf.as_mut_ptr(), buf.len()) };
        sys(n).map(|n| format!("{} bytes", n).into_bytes())
    });
    close(dfd).unwrap();
    r.done()
}

/// xattrs of an unlinked file that is still open, through its fd.
fn xattrs_on_unlinked_open_file(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    put(&mut r, d, "f", b"data");
    let fd = open(&j(d, "f"), O_RDWR, 0).unwrap();
    r.rc("fsetxattr before unlink", fsetxattr(fd, "user.a", b"1", 0));
    r.ok("unlink f", unlink(&j(d, "f")));
    r.rc("fsetxattr after unlink", fsetxattr(fd, "user.k", b"v", 0));
    r.data("fgetxattr after unlink", fgetxattr(fd, "user.a", 10));
    close(fd).unwrap();
    r.done()
}

/// fstat of a directory that was removed while open.
fn fstat_removed_open_dir(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    r.ok("mkdir dd", mkdir(&j(d, "dd"), 0o755));
    let dfd = open(&j(d, "dd"), O_RDONLY | O_DIRECTORY, 0).unwrap();
    r.ok("rmdir open dir", rmdir(&j(d, "dd")));
    r.fstat("fstat removed dir", dfd);
    close(dfd).unwrap();
    r.done()
}

/// An open directory that `rename()` replaced: fstat describes it (nlink 0), not the
/// directory now at its old name.
fn fstat_open_dir_replaced_by_rename(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    r.ok("mkdir a", mkdir(&j(d, "a"), 0o755));
    r.ok("mkdir b", mkdir(&j(d, "b"), 0o700));
    let bfd = open(&j(d, "b"), O_RDONLY | O_DIRECTORY, 0).unwrap();
    r.ok("rename a over b", rename(&j(d, "a"), &j(d, "b")));
    r.fstat("fstat replaced dir", bfd);
    r.stat("stat new b", &j(d, "b"));
    close(bfd).unwrap();
    r.done()
}

/// What a program can do through the fd of an object whose name is gone (unlinked,
/// removed, or replaced by a rename): every call must reach that object, never the
/// one that now has its name. `user.before` was set on it while it had its name.
fn fd_ops(r: &mut Rec, fd: i64, is_dir: bool) {
    r.fstat("fstat", fd);
    r.rc("fchmod", fchmod(fd, 0o640));
    r.fstat("fstat after fchmod", fd);
    r.rc("fchown", fchown(fd, 42, 43));
    r.fstat("fstat after fchown", fd);
    r.rc("futimens", futimens(fd, [ts(1000, 1), ts(2000, 2)]));
    match fstat(fd) {
        Ok(st) => r.note(
            "times after futimens",
            format!(
                "atime {}.{:09} mtime {}.{:09}",
                st.st_atime, st.st_atime_nsec, st.st_mtime, st.st_mtime_nsec
            ),
        ),
        Err(e) => r.note("times after futimens", errno_name(e)),
    }
    r.data("fgetxattr user.before", fgetxattr(fd, "user.before", 100));
    r.rc("fsetxattr user.k", fsetxattr(fd, "user.k", b"value", 0));
    r.rc(
        "fsetxattr create existing",
        fsetxattr(fd, "user.k", b"x", libc::XATTR_CREATE),
    );
    r.data("fgetxattr user.k", fgetxattr(fd, "user.k", 100));
    r.data("fgetxattr size probe", fgetxattr(fd, "user.k", 0));
    r.data("fgetxattr too small", fgetxattr(fd, "user.k", 2));
    r.data("fgetxattr missing", fgetxattr(fd, "user.missing", 100));
    r.note("flistxattr", names(flistxattr(fd, 1000)));
    r.note("flistxattr size probe", names(flistxattr(fd, 0)));
    r.rc("fremovexattr user.before", fremovexattr(fd, "user.before"));
    r.rc("fremovexattr again", fremovexattr(fd, "user.before"));
    r.note("flistxattr after remove", names(flistxattr(fd, 1000)));
    if !is_dir {
        r.rc("ftruncate", ftruncate(fd, 3));
        r.fstat("fstat after ftruncate", fd);
        r.data("pread after ftruncate", pread(fd, 100, 0));
    }
    r.fstat("fstat at the end", fd);
}

/// The object now at a name: untouched by what was done through the old one's fd.
fn untouched(r: &mut Rec, what: &str, p: &Path) {
    r.lstat(&format!("{what}: lstat"), p);
    r.note(&format!("{what}: xattrs"), names(listxattr(p, 1000)));
}

fn fd_ops_on_unlinked_open_file(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    put(&mut r, d, "f", b"old contents");
    let Some(fd) = r.open("open f", &j(d, "f"), O_RDWR, 0) else {
        return r.done();
    };
    r.ok(
        "set user.before",
        setxattr(&j(d, "f"), "user.before", b"1", 0),
    );
    r.ok("unlink f", unlink(&j(d, "f")));
    put(&mut r, d, "f", b"a new file at the name");
    r.ok(
        "new f gets user.new",
        setxattr(&j(d, "f"), "user.new", b"2", 0),
    );
    fd_ops(&mut r, fd, false);
    close(fd).unwrap();
    untouched(&mut r, "new f", &j(d, "f"));
    r.contents("new f contents", &j(d, "f"));
    r.done()
}

fn fd_ops_on_removed_open_dir(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    r.ok("mkdir dd", mkdir(&j(d, "dd"), 0o755));
    r.ok(
        "set user.before",
        setxattr(&j(d, "dd"), "user.before", b"1", 0),
    );
    let Some(dfd) = r.open("open dd", &j(d, "dd"), O_RDONLY | O_DIRECTORY, 0) else {
        return r.done();
    };
    r.ok("rmdir dd", rmdir(&j(d, "dd")));
    r.ok("mkdir a new dd", mkdir(&j(d, "dd"), 0o700));
    fd_ops(&mut r, dfd, true);
    close(dfd).unwrap();
    untouched(&mut r, "new dd", &j(d, "dd"));
    r.done()
}

fn fd_ops_on_open_dir_replaced_by_rename(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    r.ok("mkdir a", mkdir(&j(d, "a"), 0o755));
    r.ok("a gets user.new", setxattr(&j(d, "a"), "user.new", b"2", 0));
    r.ok("mkdir b", mkdir(&j(d, "b"), 0o700));
    r.ok(
        "set user.before",
        setxattr(&j(d, "b"), "user.before", b"1", 0),
    );
    let Some(bfd) = r.open("open b", &j(d, "b"), O_RDONLY | O_DIRECTORY, 0) else {
        return r.done();
    };
    r.ok("rename a over b", rename(&j(d, "a"), &j(d, "b")));
    fd_ops(&mut r, bfd, true);
    close(bfd).unwrap();
    untouched(&mut r, "new b", &j(d, "b"));
    r.done()
}

fn fd_ops_on_open_file_replaced_by_rename(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    put(&mut r, d, "a", b"the file that takes the name");
    r.ok("a gets user.new", setxattr(&j(d, "a"), "user.new", b"2", 0));
    put(&mut r, d, "b", b"old contents");
    r.ok(
        "set user.before",
        setxattr(&j(d, "b"), "user.before", b"1", 0),
    );
    let Some(bfd) = r.open("open b", &j(d, "b"), O_RDWR, 0) else {
        return r.done();
    };
    r.ok("rename a over b", rename(&j(d, "a"), &j(d, "b")));
    r.data("pread old b", pread(bfd, 100, 0));
    fd_ops(&mut r, bfd, false);
    close(bfd).unwrap();
    untouched(&mut r, "new b", &j(d, "b"));
    r.contents("new b contents", &j(d, "b"));
    r.done()
}

fn o_append(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    put(&mut r, d, "f", b"abc");
    let Some(fd) = r.open("open O_APPEND", &j(d, "f"), O_WRONLY | O_APPEND, 0) else {
        return r.done();
    };
    r.rc("lseek 0", lseek(fd, 0, libc::SEEK_SET));
    r.rc("write def", write(fd, b"def"));
    r.rc("offset after write", lseek(fd, 0, libc::SEEK_CUR));
    r.rc("pwrite at 0 appends", pwrite(fd, b"X", 0));
    let fd2 = open(&j(d, "f"), O_RDWR | O_APPEND, 0).unwrap();
    r.rc("write via second fd", write(fd2, b"22"));
    r.rc("write via first fd", write(fd, b"11"));
    r.fstat("fstat", fd);
    r.contents("contents", &j(d, "f"));
    let plain = open(&j(d, "f"), O_WRONLY, 0).unwrap();
    r.rc("plain fd writes at 0", write(plain, b"Z"));
    r.rc("ftruncate to 2", ftruncate(plain, 2));
    r.rc("append after truncate", write(fd, b"!"));
    r.contents("contents after", &j(d, "f"));
    for f in [fd, fd2, plain] {
        close(f).unwrap();
    }
    if let Some(fd) = r.open(
        "O_APPEND|O_TRUNC|O_CREAT",
        &j(d, "g"),
        O_WRONLY | O_APPEND | O_TRUNC | O_CREAT,
        0o644,
    ) {
        for i in 0..100u32 {
            write(fd, format!("{i},").as_bytes()).unwrap();
        }
        r.fstat("fstat g", fd);
        close(fd).unwrap();
    }
    r.contents("g", &j(d, "g"));
    r.done()
}

fn truncate_and_ftruncate(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    put(&mut r, d, "f", b"hello");
    r.ok("truncate up to 100", truncate(&j(d, "f"), 100));
    r.stat("stat 100", &j(d, "f"));
    r.contents("contents 100", &j(d, "f"));
    r.ok("truncate down to 3", truncate(&j(d, "f"), 3));
    r.contents("contents 3", &j(d, "f"));
    let fd = open(&j(d, "f"), O_RDWR, 0).unwrap();
    r.rc("ftruncate to 8193", ftruncate(fd, 8193));
    r.fstat("fstat 8193", fd);
    r.rc("pwrite at 8000", pwrite(fd, b"tail", 8000));
    r.rc("ftruncate to 8002", ftruncate(fd, 8002));
    r.data("read tail", pread(fd, 100, 7998));
    r.rc("ftruncate to 0", ftruncate(fd, 0));
    r.data("read empty", pread(fd, 100, 0));
    r.rc("ftruncate -1", ftruncate(fd, -1));
    r.rc("ftruncate 5 GiB", ftruncate(fd, 5 << 30));
    r.fstat("fstat 5 GiB", fd);
    r.data("read in hole", pread(fd, 8, (5 << 30) - 4));
    close(fd).unwrap();
    r.ok("truncate to 10", truncate(&j(d, "f"), 10));
    r.ok("mkdir dir", mkdir(&j(d, "dir"), 0o755));
    r.ok("truncate a dir", truncate(&j(d, "dir"), 0));
    r.ok("truncate missing", truncate(&j(d, "missing"), 0));
    r.ok("truncate -1", truncate(&j(d, "f"), -1));
    r.ok("symlink", symlink(b"f", &j(d, "l")));
    r.ok("truncate via symlink", truncate(&j(d, "l"), 1));
    r.stat("f after truncate via symlink", &j(d, "f"));
    r.lstat("symlink unchanged", &j(d, "l"));
    r.ok(
        "truncate a fifo",
        mkfifo(&j(d, "p"), 0o644).and_then(|_| truncate(&j(d, "p"), 0)),
    );
    r.done()
}

fn chmod_then_stat(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    put(&mut r, d, "f", b"x");
    for mode in [0o640, 0o4755, 0o2755, 0o2645, 0o1644, 0o7777, 0o000, 0o644] {
        r.ok(&format!("chmod {mode:o}"), chmod(&j(d, "f"), mode));
        r.stat(&format!("stat after chmod {mode:o}"), &j(d, "f"));
    }
    r.ok(
        "chmod with type bits",
        chmod(&j(d, "f"), libc::S_IFDIR | 0o600),
    );
    r.stat("type bits ignored", &j(d, "f"));
    r.ok("mkdir dir", mkdir(&j(d, "dir"), 0o755));
    r.ok("chmod dir 01777", chmod(&j(d, "dir"), 0o1777));
    r.stat("stat dir", &j(d, "dir"));
    let fd = open(&j(d, "f"), O_RDONLY, 0).unwrap();
    r.rc("fchmod 0604", fchmod(fd, 0o604));
    r.fstat("fstat after fchmod", fd);
    r.stat("stat after fchmod", &j(d, "f"));
    close(fd).unwrap();
    r.ok("symlink", symlink(b"f", &j(d, "l")));
    r.ok("chmod via symlink", chmod(&j(d, "l"), 0o611));
    r.stat("target after chmod via symlink", &j(d, "f"));
    r.lstat("symlink itself", &j(d, "l"));
    r.ok("chmod missing", chmod(&j(d, "missing"), 0o600));
    r.done()
}

fn chown_and_fchown(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    put(&mut r, d, "f", b"x");
    r.ok("chown 1000:2000", chown(&j(d, "f"), 1000, 2000));
    r.stat("stat", &j(d, "f"));
    r.ok("chown -1:3000", chown(&j(d, "f"), u32::MAX, 3000));
    r.stat("stat gid only", &j(d, "f"));
    r.ok("chown 4000:-1", chown(&j(d, "f"), 4000, u32::MAX));
    r.stat("stat uid only", &j(d, "f"));
    r.ok("chown -1:-1", chown(&j(d, "f"), u32::MAX, u32::MAX));
    r.stat("stat unchanged", &j(d, "f"));
    let fd = open(&j(d, "f"), O_RDWR, 0).unwrap();
    r.rc("fchown 5:6", fchown(fd, 5, 6));
    r.fstat("fstat after fchown", fd);
    close(fd).unwrap();
    r.ok("chmod 06755", chmod(&j(d, "f"), 0o6755));
    r.ok("chown clears setuid/setgid", chown(&j(d, "f"), 7, 8));
    r.stat("stat after chown of setuid file", &j(d, "f"));
    r.ok("chmod 02745", chmod(&j(d, "f"), 0o2745));
    r.ok(
        "chown -1:-1 on setgid file",
        chown(&j(d, "f"), u32::MAX, u32::MAX),
    );
    r.stat("stat after no-op chown", &j(d, "f"));
    r.ok("mkdir dir", mkdir(&j(d, "dir"), 0o2755));
    r.ok("chown dir", chown(&j(d, "dir"), 9, 10));
    r.stat("setgid dir keeps its bit", &j(d, "dir"));
    r.ok("symlink", symlink(b"f", &j(d, "l")));
    r.ok("chown via symlink", chown(&j(d, "l"), 11, 12));
    r.stat("target", &j(d, "f"));
    r.lstat("symlink", &j(d, "l"));
    r.ok("lchown", lchown(&j(d, "l"), 13, 14));
    r.lstat("symlink after lchown", &j(d, "l"));
    r.stat("target after lchown", &j(d, "f"));
    r.ok("chown missing", chown(&j(d, "missing"), 1, 1));
    put(&mut r, d, "dir/child", b"");
    r.stat("file created in setgid dir owned by 10", &j(d, "dir/child"));
    r.ok("mkdir in setgid dir", mkdir(&j(d, "dir/sub"), 0o755));
    r.stat("dir created in setgid dir", &j(d, "dir/sub"));
    r.done()
}

fn now() -> (i64, i64) {
    let mut t = ts(0, 0);
    // SAFETY: valid out pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut t) };
    (t.tv_sec, t.tv_nsec)
}

fn now_coarse() -> (i64, i64) {
    let mut t = ts(0, 0);
    // SAFETY: valid out pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut t) };
    (t.tv_sec, t.tv_nsec)
}

/// Whether the file's atime and mtime lie within [before, after].
fn times_between(p: &Path, before: (i64, i64), after: (i64, i64)) -> String {
    let Ok(st) = lstat(p) else {
        return "stat failed".into();
    };
    let a = (st.st_atime, st.st_atime_nsec);
    let m = (st.st_mtime, st.st_mtime_nsec);
    format!(
        "atime now: {}, mtime now: {}",
        before <= a && a <= after,
        before <= m && m <= after
    )
}

fn utimens(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    put(&mut r, d, "f", b"x");
    let f = j(d, "f");
    let omit = libc::UTIME_OMIT;
    let now_ = libc::UTIME_NOW;
    r.ok(
        "exact ns",
        utimensat(
            &f,
            [
                ts(1_000_000_000, 123_456_789),
                ts(1_500_000_000, 987_654_321),
            ],
            0,
        ),
    );
    r.times("after exact", &f);
    r.ok(
        "omit atime",
        utimensat(&f, [ts(0, omit), ts(1_600_000_000, 5)], 0),
    );
    r.times("after omit atime", &f);
    r.ok(
        "omit mtime",
        utimensat(&f, [ts(1_700_000_000, 6), ts(0, omit)], 0),
    );
    r.times("after omit mtime", &f);
    r.ok("omit both", utimensat(&f, [ts(0, omit), ts(0, omit)], 0));
    r.times("after omit both", &f);
    let before = now_coarse();
    r.ok("now both", utimensat(&f, [ts(0, now_), ts(0, now_)], 0));
    let after = now();
    r.note("after now both", times_between(&f, before, after));
    r.ok("exact again", utimensat(&f, [ts(1, 2), ts(3, 4)], 0));
    let before = now_coarse();
    r.ok(
        "now mtime, omit atime",
        utimensat(&f, [ts(0, omit), ts(0, now_)], 0),
    );
    let after = now();
    r.note("mtime now, atime kept", times_between(&f, before, after));
    let st = lstat(&f).unwrap();
    r.note(
        "atime kept",
        format!("{}.{:09}", st.st_atime, st.st_atime_nsec),
    );
    // SAFETY: a null times pointer means "now".
    let before = now_coarse();
    let rc = unsafe { libc::utimensat(libc::AT_FDCWD, cpath(&f).as_ptr(), std::ptr::null(), 0) };
    let after = now();
    r.note("utimensat NULL", rc);
    r.note("after NULL", times_between(&f, before, after));
    r.ok(
        "pre-1970",
        utimensat(&f, [ts(-100, 5), ts(-1, 999_999_999)], 0),
    );
    r.times("after pre-1970", &f);
    r.ok(
        "far future",
        utimensat(&f, [ts(10_000_000_000, 1), ts(1 << 34, 0)], 0),
    );
    r.times("after far future", &f);
    r.ok(
        "bad nsec",
        utimensat(&f, [ts(1, 1_000_000_000), ts(1, 0)], 0),
    );
    let fd = open(&f, O_RDONLY, 0).unwrap();
    r.rc(
        "futimens",
        futimens(fd, [ts(1_234_567_890, 111), ts(1_234_567_891, 222)]),
    );
    r.times("after futimens", &f);
    close(fd).unwrap();
    r.ok("symlink", symlink(b"f", &j(d, "l")));
    r.ok(
        "utimensat NOFOLLOW on symlink",
        utimensat(
            &j(d, "l"),
            [ts(42, 42), ts(43, 43)],
            libc::AT_SYMLINK_NOFOLLOW,
        ),
    );
    r.times("symlink times", &j(d, "l"));
    r.times("target unchanged", &f);
    r.ok(
        "utimensat via symlink",
        utimensat(&j(d, "l"), [ts(44, 0), ts(45, 0)], 0),
    );
    r.times("target after", &f);
    r.ok("mkdir dir", mkdir(&j(d, "dir"), 0o755));
    r.ok(
        "dir times",
        utimensat(&j(d, "dir"), [ts(7, 7), ts(8, 8)], 0),
    );
    r.times("dir times", &j(d, "dir"));
    r.ok(
        "missing",
        utimensat(&j(d, "missing"), [ts(1, 1), ts(1, 1)], 0),
    );
    r.done()
}

/// `listxattr` output as a readable list.
fn names(r: Result<Vec<u8>, i32>) -> String {
    match r {
        Ok(b) if b.starts_with(b"size ") => String::from_utf8_lossy(&b).into_owned(),
        Ok(b) => {
            let mut v: Vec<String> = b
                .split(|c| *c == 0)
                .filter(|s| !s.is_empty())
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect();
            v.sort();
            format!("{v:?}")
        }
        Err(e) => errno_name(e),
    }
}

fn xattrs(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    put(&mut r, d, "f", b"x");
    let f = j(d, "f");
    r.ok("set user.a", setxattr(&f, "user.a", b"1", 0));
    r.data("size of user.a", getxattr(&f, "user.a", 0));
    r.data("get user.a", getxattr(&f, "user.a", 100));
    r.ok(
        "create user.b",
        setxattr(&f, "user.b", b"value-two", libc::XATTR_CREATE),
    );
    r.ok(
        "create existing",
        setxattr(&f, "user.a", b"2", libc::XATTR_CREATE),
    );
    r.ok(
        "replace missing",
        setxattr(&f, "user.c", b"3", libc::XATTR_REPLACE),
    );
    r.ok(
        "replace user.a",
        setxattr(&f, "user.a", b"replaced", libc::XATTR_REPLACE),
    );
    r.data("get replaced", getxattr(&f, "user.a", 100));
    r.data("buffer too small", getxattr(&f, "user.b", 2));
    r.note("list size", names(listxattr(&f, 0)));
    r.note("list", names(listxattr(&f, 1000)));
    r.note("list buffer too small", names(listxattr(&f, 3)));
    r.data("get missing", getxattr(&f, "user.missing", 100));
    r.ok("empty value", setxattr(&f, "user.e", b"", 0));
    r.data("get empty value", getxattr(&f, "user.e", 100));
    r.data("size of empty value", getxattr(&f, "user.e", 0));
    let big = pattern(3, 4000);
    r.ok("4000-byte value", setxattr(&f, "user.big", &big, 0));
    r.data("get 4000-byte value", getxattr(&f, "user.big", 65536));
    let bin = [0u8, 1, 2, 255, 0, 10];
    r.ok("binary value", setxattr(&f, "user.bin", &bin, 0));
    r.data("get binary value", getxattr(&f, "user.bin", 100));
    r.ok("remove user.a", removexattr(&f, "user.a"));
    r.ok("remove again", removexattr(&f, "user.a"));
    r.note("list after remove", names(listxattr(&f, 1000)));
    r.ok("unknown namespace", setxattr(&f, "bogus.x", b"1", 0));
    r.ok(
        "trusted as root",
        setxattr(&f, "trusted.t", b"root only", 0),
    );
    r.data("get trusted", getxattr(&f, "trusted.t", 100));
    let long = format!("user.{}", "n".repeat(251));
    r.ok("name of 256 bytes", setxattr(&f, &long, b"1", 0));
    r.ok("bad flags", setxattr(&f, "user.f", b"1", 4));
    r.ok("mkdir dir", mkdir(&j(d, "dir"), 0o755));
    r.ok(
        "xattr on dir",
        setxattr(&j(d, "dir"), "user.d", b"dirval", 0),
    );
    r.data("get on dir", getxattr(&j(d, "dir"), "user.d", 100));
    r.ok("symlink", symlink(b"f", &j(d, "l")));
    r.data("get via symlink", getxattr(&j(d, "l"), "user.b", 100));
    r.ok(
        "lsetxattr user on symlink",
        lsetxattr(&j(d, "l"), "user.s", b"1", 0),
    );
    r.ok(
        "lsetxattr trusted on symlink",
        lsetxattr(&j(d, "l"), "trusted.s", b"link", 0),
    );
    r.ok(
        "set via symlink",
        setxattr(&j(d, "l"), "user.via", b"link", 0),
    );
    r.note("list target", names(listxattr(&f, 1000)));
    r.data("get missing file", getxattr(&j(d, "missing"), "user.a", 10));
    r.ok(
        "set missing file",
        setxattr(&j(d, "missing"), "user.a", b"1", 0),
    );
    let fd = open(&f, O_RDONLY, 0).unwrap();
    r.rc("fsetxattr", fsetxattr(fd, "user.fd", b"by fd", 0));
    r.data("fgetxattr", fgetxattr(fd, "user.fd", 100));
    close(fd).unwrap();
    r.note("final list", names(listxattr(&f, 1000)));
    r.done()
}

fn sparse_past_4g_and_seek(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    let five = 5i64 << 30;
    let Some(fd) = r.open("create", &j(d, "sparse"), O_CREAT | O_RDWR, 0o644) else {
        return r.done();
    };
    r.rc("pwrite at 5 GiB", pwrite(fd, b"end", five));
    r.rc("pwrite at 0", pwrite(fd, b"start", 0));
    r.rc("pwrite at 4 GiB + 1", pwrite(fd, b"four", (4 << 30) + 1));
    r.fstat("fstat", fd);
    r.rc("SEEK_DATA 0", lseek(fd, 0, libc::SEEK_DATA));
    r.rc("SEEK_HOLE 0", lseek(fd, 0, libc::SEEK_HOLE));
    r.rc("SEEK_DATA 4096", lseek(fd, 4096, libc::SEEK_DATA));
    r.rc("SEEK_HOLE 4 GiB", lseek(fd, 4 << 30, libc::SEEK_HOLE));
    r.rc(
        "SEEK_DATA 4 GiB + 8192",
        lseek(fd, (4 << 30) + 8192, libc::SEEK_DATA),
    );
    r.rc("SEEK_HOLE 5 GiB", lseek(fd, five, libc::SEEK_HOLE));
    r.rc("SEEK_DATA at EOF", lseek(fd, five + 3, libc::SEEK_DATA));
    r.rc("SEEK_HOLE at EOF", lseek(fd, five + 3, libc::SEEK_HOLE));
    r.rc("SEEK_DATA past EOF", lseek(fd, five + 100, libc::SEEK_DATA));
    r.rc("SEEK_END", lseek(fd, 0, libc::SEEK_END));
    r.rc("SEEK_DATA negative", lseek(fd, -1, libc::SEEK_DATA));
    r.data("read around 4 GiB", pread(fd, 8, (4 << 30) - 2));
    r.data("read at 5 GiB", pread(fd, 100, five - 2));
    r.data("read in the hole", pread(fd, 16, 3 << 30));
    r.data("read past EOF", pread(fd, 16, five + 10));
    r.rc("ftruncate 4 GiB + 3", ftruncate(fd, (4 << 30) + 3));
    r.fstat("fstat after ftruncate", fd);
    r.data("read the end", pread(fd, 100, 4 << 30));
    r.rc(
        "SEEK_HOLE 4 GiB after truncate",
        lseek(fd, 4 << 30, libc::SEEK_HOLE),
    );
    close(fd).unwrap();
    r.stat("stat", &j(d, "sparse"));
    // Leave a small file: the final tree comparison reads every file.
    r.ok(
        "truncate to 1 MiB + 1",
        truncate(&j(d, "sparse"), (1 << 20) + 1),
    );
    r.contents("contents", &j(d, "sparse"));
    r.done()
}

fn fallocate_and_punch_hole(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    let keep = libc::FALLOC_FL_KEEP_SIZE;
    let punch = libc::FALLOC_FL_PUNCH_HOLE;
    let Some(fd) = r.open("create", &j(d, "f"), O_CREAT | O_RDWR, 0o644) else {
        return r.done();
    };
    r.rc("allocate 1 MiB", fallocate(fd, 0, 0, 1 << 20));
    r.fstat("fstat after allocate", fd);
    r.data("allocated reads as zeros", pread(fd, 16, 1000));
    r.rc("KEEP_SIZE beyond EOF", fallocate(fd, keep, 2 << 20, 65536));
    r.fstat("fstat after KEEP_SIZE", fd);
    r.rc("write pattern", pwrite_full(fd, &pattern(1, 1 << 20), 0));
    r.rc(
        "PUNCH_HOLE|KEEP_SIZE",
        fallocate(fd, punch | keep, 4096, 8192 + 100),
    );
    r.fstat("fstat after punch", fd);
    r.data("punched range", pread(fd, 8192 + 300, 4000));
    r.rc("SEEK_HOLE 0", lseek(fd, 0, libc::SEEK_HOLE));
    r.rc("SEEK_DATA 4096", lseek(fd, 4096, libc::SEEK_DATA));
    r.rc(
        "PUNCH_HOLE without KEEP_SIZE",
        fallocate(fd, punch, 0, 4096),
    );
    r.rc(
        "ZERO_RANGE",
        fallocate(fd, libc::FALLOC_FL_ZERO_RANGE, 0, 4096),
    );
    r.rc(
        "COLLAPSE_RANGE",
        fallocate(fd, libc::FALLOC_FL_COLLAPSE_RANGE, 0, 4096),
    );
    r.rc(
        "INSERT_RANGE",
        fallocate(fd, libc::FALLOC_FL_INSERT_RANGE, 0, 4096),
    );
    r.rc("length 0", fallocate(fd, 0, 0, 0));
    r.rc("negative offset", fallocate(fd, 0, -1, 10));
    r.rc("punch past EOF", fallocate(fd, punch | keep, 3 << 20, 4096));
    r.rc("allocate extends", fallocate(fd, 0, (1 << 20) - 10, 4096));
    r.fstat("fstat after extending allocate", fd);
    r.data("file end", pread(fd, 8192, (1 << 20) - 100));
    close(fd).unwrap();
    let ro = open(&j(d, "f"), O_RDONLY, 0).unwrap();
    r.rc("fallocate read-only fd", fallocate(ro, 0, 0, 10));
    close(ro).unwrap();
    r.contents("contents", &j(d, "f"));
    r.done()
}

fn copy_file_range_between_files(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    put(&mut r, d, "src", &pattern(7, 100_000));
    let src = open(&j(d, "src"), O_RDONLY, 0).unwrap();
    let dst = open(&j(d, "dst"), O_CREAT | O_RDWR, 0o644).unwrap();
    r.rc("copy 50000", copy_file_range(src, 0, dst, 0, 50_000));
    r.rc(
        "copy past src EOF",
        copy_file_range(src, 200_000, dst, 0, 100),
    );
    r.rc(
        "copy crossing src EOF",
        copy_file_range(src, 99_000, dst, 50_000, 5_000),
    );
    r.rc(
        "copy to a hole past dst EOF",
        copy_file_range(src, 10, dst, 300_000, 1000),
    );
    r.fstat("fstat dst", dst);
    r.data("dst head", pread(dst, 64, 49_990));
    r.data("dst hole", pread(dst, 32, 200_000));
    r.data("dst tail", pread(dst, 2000, 300_000));
    r.rc(
        "same file, disjoint",
        copy_file_range(dst, 0, dst, 400_000, 1000),
    );
    r.rc(
        "same file, overlapping",
        copy_file_range(dst, 0, dst, 500, 1000),
    );
    r.rc("from write-only", {
        let wo = open(&j(d, "dst"), O_WRONLY, 0).unwrap();
        let res = copy_file_range(wo, 0, dst, 0, 10);
        close(wo).unwrap();
        res
    });
    r.rc("to read-only", copy_file_range(dst, 0, src, 0, 10));
    r.rc("to O_APPEND", {
        let ap = open(&j(d, "dst"), O_WRONLY | O_APPEND, 0).unwrap();
        let res = copy_file_range(src, 0, ap, 0, 10);
        close(ap).unwrap();
        res
    });
    r.rc("length 0", copy_file_range(src, 0, dst, 0, 0));
    r.ok("link dst dst2", link(&j(d, "dst"), &j(d, "dst2")));
    r.rc("overlapping, through another name", {
        let other = open(&j(d, "dst2"), O_RDWR, 0).unwrap();
        let res = copy_file_range(dst, 0, other, 500, 1000);
        close(other).unwrap();
        res
    });
    r.rc("a directory", {
        let dfd = open(d, O_RDONLY | O_DIRECTORY, 0).unwrap();
        let res = copy_file_range(dfd, 0, dst, 0, 10);
        close(dfd).unwrap();
        res
    });
    close(src).unwrap();
    close(dst).unwrap();
    r.contents("dst", &j(d, "dst"));
    r.done()
}

fn mmap_and_read_write(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    put(&mut r, d, "f", &pattern(2, 3 * 4096));
    let fd = open(&j(d, "f"), O_RDWR, 0).unwrap();
    match Map::new(fd, 0, 3 * 4096) {
        Err(e) => r.note("mmap", errno_name(e)),
        Ok(mut map) => {
            map.bytes_mut()[100..200].fill(b'M');
            map.bytes_mut()[5000..5100].fill(b'N');
            r.data("read(2) sees mmap writes", pread(fd, 150, 90));
            r.data("second page", pread(fd, 120, 4990));
            r.rc("pwrite", pwrite(fd, b"written by pwrite", 8000));
            r.note("mmap sees pwrite", show_bytes(&map.bytes()[7995..8020]));
            r.rc("msync", map.msync());
            r.fstat("fstat", fd);
        }
    }
    // Mapping past EOF after ftruncate grows the file.
    r.rc("ftruncate to 5 pages", ftruncate(fd, 5 * 4096));
    match Map::new(fd, 4096, 4 * 4096) {
        Err(e) => r.note("mmap at offset", errno_name(e)),
        Ok(mut map) => {
            map.bytes_mut()[4 * 4096 - 10..].copy_from_slice(b"last bytes");
            r.note("mapped at offset", show_bytes(&map.bytes()[0..16]));
            r.rc("msync", map.msync());
            close(fd).unwrap();
            // The mapping outlives the fd.
            map.bytes_mut()[0..5].copy_from_slice(b"after");
            r.rc("msync after close", map.msync());
        }
    }
    r.contents("contents", &j(d, "f"));
    let wo = open(&j(d, "f"), O_WRONLY, 0).unwrap();
    r.note(
        "mmap a write-only fd",
        match Map::new(wo, 0, 4096) {
            Ok(_) => "ok".to_string(),
            Err(e) => errno_name(e),
        },
    );
    close(wo).unwrap();
    r.stat("stat", &j(d, "f"));
    r.done()
}

/// (mtime, ctime) of `p` as nanoseconds.
fn cmtime(p: &Path) -> (i128, i128) {
    let st = stat(p).unwrap();
    let ns = |s: i64, n: i64| s as i128 * 1_000_000_000 + n as i128;
    (
        ns(st.st_mtime, st.st_mtime_nsec),
        ns(st.st_ctime, st.st_ctime_nsec),
    )
}

/// Whether mtime and ctime moved from `before`.
fn moved(before: (i128, i128), now: (i128, i128)) -> String {
    let word = |b: i128, n: i128| match n.cmp(&b) {
        std::cmp::Ordering::Greater => "moved",
        std::cmp::Ordering::Equal => "same",
        std::cmp::Ordering::Less => "went back",
    };
    format!(
        "mtime {} ctime {}",
        word(before.0, now.0),
        word(before.1, now.1)
    )
}

/// Times move with writes through a shared mapping, seen after msync and munmap; with
/// `while_mapped`, also between the write and the msync (a local filesystem updates
/// them at the first write fault).
fn mmap_times(d: &Path, while_mapped: bool) -> Vec<String> {
    let mut r = Rec::new();
    let f = j(d, "f");
    put(&mut r, d, "f", &pattern(3, 3 * 4096));
    // Times from long ago, so that any update shows (ctime moves to now here).
    r.ok(
        "utimensat to 2020",
        utimensat(&f, [ts(1_577_836_800, 0), ts(1_577_836_800, 0)], 0),
    );
    // Past the timestamp granularity of the ctime just set.
    std::thread::sleep(std::time::Duration::from_millis(30));
    // Seen (and cached) before the open.
    let t0 = cmtime(&f);
    let fd = open(&f, O_RDWR, 0).unwrap();
    match Map::new(fd, 0, 3 * 4096) {
        Err(e) => r.note("mmap", errno_name(e)),
        Ok(mut map) => {
            map.bytes_mut()[100..200].fill(b'M');
            if while_mapped {
                r.note("stat after the write fault", moved(t0, cmtime(&f)));
            }
            r.rc("msync", map.msync());
            let t1 = cmtime(&f);
            r.note("stat after msync", moved(t0, t1));
            std::thread::sleep(std::time::Duration::from_millis(30));
            map.bytes_mut()[5000..5100].fill(b'N');
            drop(map);
            close(fd).unwrap();
            r.note("stat after munmap and close", moved(t1, cmtime(&f)));
        }
    }
    r.contents("contents", &f);
    r.done()
}

/// A page read through a shared mapping, then written (the fault makes a clean page
/// writable), then the mapping dropped: the times move by the close at the latest; a
/// second write after an msync moves them again.
fn mmap_read_then_write_moves_times(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    let f = j(d, "g");
    put(&mut r, d, "g", &pattern(5, 4096));
    r.ok(
        "utimensat to 2020",
        utimensat(&f, [ts(1_577_836_800, 0), ts(1_577_836_800, 0)], 0),
    );
    std::thread::sleep(std::time::Duration::from_millis(30));
    let t0 = cmtime(&f);
    let fd = open(&f, O_RDWR, 0).unwrap();
    match Map::new(fd, 0, 4096) {
        Err(e) => r.note("mmap", errno_name(e)),
        Ok(mut map) => {
            let first = map.bytes()[0];
            r.note("read through the mapping", first);
            map.bytes_mut()[..2048].fill(b'W');
            r.rc("msync", map.msync());
            let t1 = cmtime(&f);
            r.note("stat after msync", moved(t0, t1));
            std::thread::sleep(std::time::Duration::from_millis(30));
            map.bytes_mut()[2048..].fill(b'V');
            r.rc("second msync", map.msync());
            r.note("stat after the second msync", moved(t1, cmtime(&f)));
            let t2 = cmtime(&f);
            std::thread::sleep(std::time::Duration::from_millis(30));
            map.bytes_mut()[..10].fill(b'U');
            drop(map);
            r.note("stat after munmap", moved(t2, cmtime(&f)));
        }
    }
    close(fd).unwrap();
    r.contents("contents", &f);
    r.done()
}

fn mmap_writes_move_times(d: &Path) -> Vec<String> {
    mmap_times(d, false)
}

fn mmap_writes_move_times_while_mapped(d: &Path) -> Vec<String> {
    mmap_times(d, true)
}

fn fifos_and_device_nodes(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    r.ok("mkfifo 0640", mkfifo(&j(d, "p"), 0o640));
    r.lstat("fifo", &j(d, "p"));
    r.ok("mkfifo existing", mkfifo(&j(d, "p"), 0o640));
    if let Some(rd) = r.open(
        "open fifo read nonblock",
        &j(d, "p"),
        O_RDONLY | O_NONBLOCK,
        0,
    ) {
        if let Some(wr) = r.open("open fifo write", &j(d, "p"), O_WRONLY | O_NONBLOCK, 0) {
            r.rc("write fifo", write(wr, b"through the pipe"));
            r.data("read fifo", read(rd, 100));
            close(wr).unwrap();
        }
        close(rd).unwrap();
    }
    // A child another test thread forks at the wrong moment holds a copy of `rd` until
    // it execs (O_CLOEXEC closes it only then): a reader for a few moments. Ask again.
    let mut no_reader = open(&j(d, "p"), O_WRONLY | O_NONBLOCK, 0);
    for _ in 0..50 {
        let Ok(fd) = no_reader else { break };
        close(fd).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(10));
        no_reader = open(&j(d, "p"), O_WRONLY | O_NONBLOCK, 0);
    }
    r.ok("open fifo write, no reader", no_reader);
    r.ok(
        "mknod chr",
        mknod(&j(d, "c"), libc::S_IFCHR | 0o600, libc::makedev(1, 3)),
    );
    r.lstat("chr", &j(d, "c"));
    r.ok(
        "mknod blk",
        mknod(&j(d, "b"), libc::S_IFBLK | 0o660, libc::makedev(7, 200)),
    );
    r.lstat("blk", &j(d, "b"));
    r.ok(
        "mknod big dev numbers",
        mknod(
            &j(d, "big"),
            libc::S_IFCHR | 0o600,
            libc::makedev(4095, 1 << 19),
        ),
    );
    r.lstat("big", &j(d, "big"));
    r.ok("mknod reg", mknod(&j(d, "r"), libc::S_IFREG | 0o604, 0));
    r.lstat("reg", &j(d, "r"));
    r.ok("mknod type 0 (regular)", mknod(&j(d, "r0"), 0o600, 0));
    r.lstat("r0", &j(d, "r0"));
    r.ok("mknod fifo", mknod(&j(d, "p2"), libc::S_IFIFO | 0o606, 0));
    r.lstat("p2", &j(d, "p2"));
    r.ok("mknod sock", mknod(&j(d, "s"), libc::S_IFSOCK | 0o755, 0));
    r.lstat("sock", &j(d, "s"));
    r.ok(
        "mknod existing",
        mknod(&j(d, "c"), libc::S_IFCHR | 0o600, 0),
    );
    r.ok(
        "mknod dir type",
        mknod(&j(d, "dd"), libc::S_IFDIR | 0o755, 0),
    );
    r.ok(
        "mknod in missing dir",
        mknod(&j(d, "no/x"), libc::S_IFIFO | 0o600, 0),
    );
    r.ok("chmod fifo", chmod(&j(d, "p"), 0o604));
    r.ok("chown chr", chown(&j(d, "c"), 3, 4));
    r.lstat("fifo after chmod", &j(d, "p"));
    r.lstat("chr after chown", &j(d, "c"));
    r.ok("link fifo", link(&j(d, "p"), &j(d, "p-link")));
    r.lstat("fifo nlink", &j(d, "p"));
    r.ok("rename chr", rename(&j(d, "c"), &j(d, "c2")));
    r.lstat("renamed chr", &j(d, "c2"));
    r.ok("unlink sock", unlink(&j(d, "s")));
    r.done()
}

/// Names and types from opendir/readdir, including `.` and `..`, sorted; and whether
/// each d_ino matches lstat's st_ino.
fn listing(r: &mut Rec, what: &str, dir: &Path) {
    // SAFETY: opendir/readdir/closedir on a path we own; entries copied before the
    // next readdir call.
    unsafe {
        let dp = libc::opendir(cpath(dir).as_ptr());
        if dp.is_null() {
            r.note(what, errno_name(errno()));
            return;
        }
        let mut entries = vec![];
        loop {
            let e = libc::readdir(dp);
            if e.is_null() {
                break;
            }
            let name = CStr::from_ptr((*e).d_name.as_ptr()).to_bytes().to_vec();
            let path = dir.join(std::ffi::OsStr::from_bytes(&name));
            let ino_ok = if name == b".." {
                "-".to_string()
            } else {
                lstat(&path)
                    .map(|st| (st.st_ino == (*e).d_ino).to_string())
                    .unwrap_or_else(errno_name)
            };
            entries.push(format!(
                "{} type {} ino-matches {}",
                String::from_utf8_lossy(&name),
                (*e).d_type,
                ino_ok
            ));
        }
        libc::closedir(dp);
        entries.sort();
        r.note(what, format!("{} entries: {entries:?}", entries.len()));
    }
}

fn readdir_listing(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    put(&mut r, d, "a", b"1");
    put(&mut r, d, "b", b"22");
    r.ok("mkdir dir", mkdir(&j(d, "dir"), 0o755));
    r.ok("symlink", symlink(b"a", &j(d, "l")));
    r.ok("mkfifo", mkfifo(&j(d, "p"), 0o644));
    r.ok("link", link(&j(d, "a"), &j(d, "a2")));
    put(&mut r, d, "with space and \u{e9}", b"odd name");
    put(&mut r, d, "-dash", b"");
    let odd = d.join(std::ffi::OsStr::from_bytes(b"\xff\n\x01odd\\name"));
    r.ok(
        "create a non-UTF-8 name",
        open(&odd, O_CREAT | O_WRONLY, 0o644).and_then(close),
    );
    r.lstat("stat the non-UTF-8 name", &odd);
    listing(&mut r, "root listing", d);
    listing(&mut r, "empty dir listing", &j(d, "dir"));
    listing(&mut r, "listing a file", &j(d, "a"));
    // A big directory, listed with seeks in the middle.
    r.ok("mkdir big", mkdir(&j(d, "big"), 0o755));
    for i in 0..600 {
        let p = j(d, &format!("big/entry-with-a-longish-name-{i:04}"));
        close(open(&p, O_CREAT | O_WRONLY, 0o644).unwrap()).unwrap();
    }
    listing(&mut r, "big listing", &j(d, "big"));
    // SAFETY: opendir/readdir/telldir/seekdir on our own directory stream.
    unsafe {
        let dp = libc::opendir(cpath(&j(d, "big")).as_ptr());
        let mut first = vec![];
        for _ in 0..250 {
            let e = libc::readdir(dp);
            first.push(CStr::from_ptr((*e).d_name.as_ptr()).to_bytes().to_vec());
        }
        let pos = libc::telldir(dp);
        let mut next = vec![];
        for _ in 0..100 {
            let e = libc::readdir(dp);
            next.push(CStr::from_ptr((*e).d_name.as_ptr()).to_bytes().to_vec());
        }
        libc::seekdir(dp, pos);
        let mut again = vec![];
        for _ in 0..100 {
            let e = libc::readdir(dp);
            again.push(CStr::from_ptr((*e).d_name.as_ptr()).to_bytes().to_vec());
        }
        r.note("seekdir re-reads the same entries", next == again);
        libc::rewinddir(dp);
        let e = libc::readdir(dp);
        r.note(
            "rewinddir restarts",
            CStr::from_ptr((*e).d_name.as_ptr()).to_bytes() == first[0].as_slice(),
        );
        libc::closedir(dp);
    }
    for i in 0..300 {
        unlink(&j(d, &format!("big/entry-with-a-longish-name-{i:04}"))).unwrap();
    }
    listing(&mut r, "big listing after deletes", &j(d, "big"));
    r.done()
}

/// A listing read in small pieces while names are removed: a name the listing still
/// shows carries the inode number lstat gave for it before it went (a local filesystem
/// may or may not show it; either way, never another number), and every name that was
/// not removed is listed once.
fn dino_of_names_removed_during_a_listing(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    let dir = j(d, "l");
    r.ok("mkdir l", mkdir(&dir, 0o755));
    let mut before = std::collections::BTreeMap::new();
    for i in 0..40 {
        let name = format!("entry-{i:02}");
        let p = dir.join(&name);
        r.ok(
            &format!("create {name}"),
            open(&p, O_CREAT | O_WRONLY, 0o644).and_then(close),
        );
        if let Ok(st) = lstat(&p) {
            before.insert(name.into_bytes(), st.st_ino);
        }
    }
    if let Ok(st) = lstat(&dir) {
        before.insert(b".".to_vec(), st.st_ino);
    }
    let Some(fd) = r.open("opendir l", &dir, O_RDONLY | O_DIRECTORY, 0) else {
        return r.done();
    };
    // A buffer of a few records: each getdents asks the filesystem again.
    let mut listed = getdents(fd, 256).unwrap_or_default();
    r.note(
        "first part is partial",
        !listed.is_empty() && listed.len() < 20,
    );
    let seen: Vec<Vec<u8>> = listed.iter().map(|(_, n)| n.clone()).collect();
    let unseen: Vec<Vec<u8>> = before
        .keys()
        .filter(|n| n.as_slice() != b"." && !seen.contains(n))
        .cloned()
        .collect();
    // Three names not listed yet, and one already listed.
    let mut removed: Vec<Vec<u8>> = unseen.iter().step_by(7).take(3).cloned().collect();
    if let Some(n) = seen.iter().find(|n| n.starts_with(b"entry-")) {
        removed.push(n.clone());
    }
    r.note("names removed", removed.len());
    for n in &removed {
        r.ok(
            "unlink during the listing",
            unlink(&dir.join(std::ffi::OsStr::from_bytes(n))),
        );
    }
    loop {
        match getdents(fd, 256) {
            Ok(part) if part.is_empty() => break,
            Ok(part) => listed.extend(part),
            Err(e) => {
                r.note("getdents", errno_name(e));
                break;
            }
        }
    }
    close(fd).unwrap();
    let wrong: Vec<String> = listed
        .iter()
        .filter(|(_, n)| n.as_slice() != b"..")
        .filter(|(ino, n)| before.get(n) != Some(ino))
        .map(|(ino, n)| format!("{} d_ino {ino:#x}", String::from_utf8_lossy(n)))
        .collect();
    r.note(
        "entries whose d_ino is not their inode number",
        format!("{wrong:?}"),
    );
    let mut kept: Vec<String> = listed
        .iter()
        .filter(|(_, n)| !removed.contains(n))
        .map(|(_, n)| String::from_utf8_lossy(n).into_owned())
        .collect();
    kept.sort();
    r.note(
        "names not removed, as listed",
        format!("{} {kept:?}", kept.len()),
    );
    r.done()
}

/// rewinddir starts a new pass that sees names created and removed since opendir;
/// telldir/seekdir within one pass stay stable.
fn rewinddir_sees_changes_since_opendir(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    let dir = j(d, "r");
    r.ok("mkdir r", mkdir(&dir, 0o755));
    for name in ["a", "b", "c"] {
        put(&mut r, &dir, name, b"x");
    }
    // SAFETY: opendir/readdir/rewinddir/closedir on our own directory stream; names are
    // copied before the next readdir.
    unsafe {
        let dp = libc::opendir(cpath(&dir).as_ptr());
        if dp.is_null() {
            r.note("opendir", errno_name(errno()));
            return r.done();
        }
        let read_all = |dp: *mut libc::DIR| {
            let mut names = vec![];
            loop {
                let e = libc::readdir(dp);
                if e.is_null() {
                    break;
                }
                names.push(
                    String::from_utf8_lossy(CStr::from_ptr((*e).d_name.as_ptr()).to_bytes())
                        .into_owned(),
                );
            }
            names.sort();
            names
        };
        r.note("first pass", format!("{:?}", read_all(dp)));
        put(&mut r, &dir, "created-after-opendir", b"new");
        r.ok(
            "mkdir after opendir",
            mkdir(&dir.join("dir-after-opendir"), 0o755),
        );
        r.ok("unlink b after opendir", unlink(&dir.join("b")));
        r.note("end of pass stays at the end", libc::readdir(dp).is_null());
        libc::rewinddir(dp);
        r.note("after rewinddir", format!("{:?}", read_all(dp)));
        r.ok("unlink c", unlink(&dir.join("c")));
        libc::rewinddir(dp);
        r.note("after a second rewinddir", format!("{:?}", read_all(dp)));
        libc::closedir(dp);
    }
    r.done()
}

fn write_read_lseek(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    let big = pattern(9, 3 << 20);
    let Some(fd) = r.open("create", &j(d, "f"), O_CREAT | O_RDWR, 0o644) else {
        return r.done();
    };
    r.rc("one 3 MiB write", write(fd, &big));
    r.rc("offset after write", lseek(fd, 0, libc::SEEK_CUR));
    r.data("read at EOF", read(fd, 10));
    r.rc("lseek SEEK_END -10", lseek(fd, -10, libc::SEEK_END));
    r.data("read last 10", read(fd, 100));
    r.rc("lseek negative", lseek(fd, -1, libc::SEEK_SET));
    r.rc("lseek past EOF", lseek(fd, 10 << 20, libc::SEEK_SET));
    r.data("read past EOF", read(fd, 10));
    r.rc("bad whence", lseek(fd, 0, 42));
    r.rc("write 0 bytes", write(fd, b""));
    r.data("whole file", pread_full(fd, 4 << 20, 0));
    r.data("odd offset", pread(fd, 77, 1_048_575));
    r.data("pread negative", pread(fd, 10, -5));
    r.rc(
        "pwrite across 1 MiB boundary",
        pwrite(fd, &pattern(4, 10_000), (1 << 20) - 5000),
    );
    r.data("whole file after", pread_full(fd, 4 << 20, 0));
    r.rc("fsync", fsync(fd));
    // SAFETY: plain fd call.
    r.rc(
        "fdatasync",
        sys(unsafe { libc::fdatasync(fd as i32) } as i64),
    );
    close(fd).unwrap();
    r.stat("stat", &j(d, "f"));
    if let Some(fd) = r.open("O_RDONLY|O_TRUNC", &j(d, "f"), O_RDONLY | O_TRUNC, 0) {
        r.fstat("fstat after O_RDONLY|O_TRUNC", fd);
        close(fd).unwrap();
    }
    r.done()
}

fn access_as_root(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    put(&mut r, d, "f", b"x");
    for mode in [0o644, 0o755, 0o000, 0o100, 0o010, 0o001, 0o200] {
        chmod(&j(d, "f"), mode).unwrap();
        for (name, m) in [
            ("F_OK", libc::F_OK),
            ("R_OK", libc::R_OK),
            ("W_OK", libc::W_OK),
            ("X_OK", libc::X_OK),
        ] {
            r.ok(&format!("mode {mode:03o} {name}"), access(&j(d, "f"), m));
        }
    }
    r.ok("mkdir dir 000", mkdir(&j(d, "dir"), 0));
    r.ok("dir 000 X_OK", access(&j(d, "dir"), libc::X_OK));
    r.ok("dir 000 W_OK", access(&j(d, "dir"), libc::W_OK));
    r.ok("missing", access(&j(d, "missing"), libc::F_OK));
    r.ok("under a file", access(&j(d, "f/x"), libc::F_OK));
    r.done()
}

/// A buffer aligned for O_DIRECT.
struct Aligned {
    ptr: *mut u8,
    len: usize,
}

impl Aligned {
    fn new(len: usize, fill: u8) -> Aligned {
        let layout = std::alloc::Layout::from_size_align(len, 4096).unwrap();
        // SAFETY: non-zero size; freed with the same layout in Drop.
        let ptr = unsafe { std::alloc::alloc(layout) };
        assert!(!ptr.is_null());
        // SAFETY: freshly allocated, `len` bytes.
        unsafe { std::ptr::write_bytes(ptr, fill, len) };
        Aligned { ptr, len }
    }
    fn bytes(&self) -> &[u8] {
        // SAFETY: valid for `len` bytes while self lives.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for Aligned {
    fn drop(&mut self) {
        let layout = std::alloc::Layout::from_size_align(self.len, 4096).unwrap();
        // SAFETY: allocated in `new` with this layout.
        unsafe { std::alloc::dealloc(self.ptr, layout) };
    }
}

fn open_flag_variants(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    put(&mut r, d, "f", &pattern(5, 10_000));
    if let Some(fd) = r.open("O_DIRECT", &j(d, "f"), O_RDWR | libc::O_DIRECT, 0) {
        let buf = Aligned::new(8192, b'D');
        r.rc("aligned O_DIRECT pwrite", pwrite(fd, buf.bytes(), 4096));
        let back = Aligned::new(8192, 0);
        // SAFETY: the aligned buffer is writable for its length.
        let n = unsafe { libc::pread(fd as i32, back.ptr.cast(), back.len, 4096) };
        r.note("aligned O_DIRECT pread", n);
        r.note("O_DIRECT data", show_bytes(back.bytes()));
        r.fstat("fstat O_DIRECT", fd);
        close(fd).unwrap();
    }
    r.contents("after O_DIRECT", &j(d, "f"));
    for (name, flags) in [
        ("O_SYNC", O_WRONLY | libc::O_SYNC),
        ("O_DSYNC", O_WRONLY | libc::O_DSYNC),
        ("O_NOATIME", O_RDONLY | libc::O_NOATIME),
        ("O_NONBLOCK", O_RDWR | O_NONBLOCK),
        ("O_NOCTTY", O_RDWR | libc::O_NOCTTY),
    ] {
        if let Some(fd) = r.open(name, &j(d, "f"), flags, 0) {
            if flags & libc::O_ACCMODE != O_RDONLY {
                r.rc(&format!("{name} write"), pwrite(fd, name.as_bytes(), 100));
            } else {
                r.data(&format!("{name} read"), pread(fd, 10, 100));
            }
            close(fd).unwrap();
        }
    }
    // fcntl F_SETFL O_APPEND after opening.
    if let Some(fd) = r.open("plain O_WRONLY", &j(d, "f"), O_WRONLY, 0) {
        // SAFETY: plain fcntl on our fd.
        r.rc(
            "F_SETFL O_APPEND",
            sys(unsafe { libc::fcntl(fd as i32, libc::F_SETFL, O_APPEND) } as i64),
        );
        r.rc("write appends", write(fd, b"APPENDED"));
        close(fd).unwrap();
    }
    r.stat("stat", &j(d, "f"));
    r.data("tail", {
        let fd = open(&j(d, "f"), O_RDONLY, 0).unwrap();
        let res = pread(fd, 20, 9_990);
        close(fd).unwrap();
        res
    });
    // fsync of a directory (fsyncdir).
    let dfd = open(d, O_RDONLY | O_DIRECTORY, 0).unwrap();
    r.rc("fsync a directory", fsync(dfd));
    close(dfd).unwrap();
    // sendfile between two files.
    let src = open(&j(d, "f"), O_RDONLY, 0).unwrap();
    let dst = open(&j(d, "g"), O_CREAT | O_WRONLY, 0o644).unwrap();
    let mut off: i64 = 1000;
    // SAFETY: valid fds and offset pointer.
    r.rc(
        "sendfile",
        sys(unsafe { libc::sendfile(dst as i32, src as i32, &mut off, 5000) } as i64),
    );
    r.note("sendfile offset after", off);
    close(src).unwrap();
    close(dst).unwrap();
    r.contents("sendfile result", &j(d, "g"));
    r.done()
}

fn locks_between_open_files(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    put(&mut r, d, "f", b"lock me");
    let a = open(&j(d, "f"), O_RDWR, 0).unwrap();
    let b = open(&j(d, "f"), O_RDWR, 0).unwrap();
    // SAFETY: flock/fcntl on our own fds with valid lock structs.
    unsafe {
        r.rc(
            "flock a LOCK_EX",
            sys(libc::flock(a as i32, libc::LOCK_EX) as i64),
        );
        r.rc(
            "flock b LOCK_EX|LOCK_NB",
            sys(libc::flock(b as i32, libc::LOCK_EX | libc::LOCK_NB) as i64),
        );
        r.rc(
            "flock b LOCK_SH|LOCK_NB",
            sys(libc::flock(b as i32, libc::LOCK_SH | libc::LOCK_NB) as i64),
        );
        r.rc(
            "flock a LOCK_UN",
            sys(libc::flock(a as i32, libc::LOCK_UN) as i64),
        );
        r.rc(
            "flock b LOCK_SH|LOCK_NB after unlock",
            sys(libc::flock(b as i32, libc::LOCK_SH | libc::LOCK_NB) as i64),
        );
        r.rc(
            "flock a LOCK_SH|LOCK_NB (shared)",
            sys(libc::flock(a as i32, libc::LOCK_SH | libc::LOCK_NB) as i64),
        );
        let mut fl: libc::flock = std::mem::zeroed();
        fl.l_type = libc::F_WRLCK as i16;
        fl.l_whence = libc::SEEK_SET as i16;
        fl.l_start = 0;
        fl.l_len = 4;
        r.rc(
            "OFD write lock a 0..4",
            sys(libc::fcntl(a as i32, libc::F_OFD_SETLK, &fl) as i64),
        );
        r.rc(
            "OFD write lock b 0..4",
            sys(libc::fcntl(b as i32, libc::F_OFD_SETLK, &fl) as i64),
        );
        let mut probe = fl;
        r.rc(
            "OFD getlk b",
            sys(libc::fcntl(b as i32, libc::F_OFD_GETLK, &mut probe) as i64),
        );
        r.note(
            "conflicting lock",
            format!(
                "type {} start {} len {}",
                probe.l_type, probe.l_start, probe.l_len
            ),
        );
        fl.l_start = 4;
        r.rc(
            "OFD write lock b 4..8",
            sys(libc::fcntl(b as i32, libc::F_OFD_SETLK, &fl) as i64),
        );
        r.rc(
            "POSIX lock a (same process)",
            sys(libc::fcntl(a as i32, libc::F_SETLK, &fl) as i64),
        );
    }
    close(a).unwrap();
    close(b).unwrap();
    r.done()
}

fn huge_offsets(d: &Path) -> Vec<String> {
    let mut r = Rec::new();
    let Some(fd) = r.open("create", &j(d, "f"), O_CREAT | O_RDWR, 0o644) else {
        return r.done();
    };
    r.rc("pwrite at i64::MAX - 2", pwrite(fd, b"xyz", i64::MAX - 2));
    r.rc("pwrite at 2^62", pwrite(fd, b"far", 1 << 62));
    r.fstat("fstat 2^62", fd);
    r.data("pread at 2^62", pread(fd, 10, 1 << 62));
    r.rc("SEEK_DATA 0", lseek(fd, 0, libc::SEEK_DATA));
    r.rc("ftruncate i64::MAX", ftruncate(fd, i64::MAX));
    r.fstat("fstat after ftruncate i64::MAX", fd);
    r.rc("ftruncate 3", ftruncate(fd, 3));
    r.rc("fallocate at 2^62", fallocate(fd, 0, 1 << 62, 4096));
    r.rc(
        "fallocate past the limit",
        fallocate(fd, 0, i64::MAX - 100, 4096),
    );
    r.rc("lseek i64::MAX", lseek(fd, i64::MAX, libc::SEEK_SET));
    r.rc("ftruncate 0", ftruncate(fd, 0));
    close(fd).unwrap();
    r.done()
}
