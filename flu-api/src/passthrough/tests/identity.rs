//! As root, creating ops make objects owned by the caller, and the thread's ids and
//! groups are restored afterwards.

use std::os::unix::fs::PermissionsExt;

use super::{ctx, lstat, p, Fx};
use crate::errno::Errno;
use crate::operations::*;
use crate::passthrough::PassthroughOptions;

const NOBODY: RequestContext = RequestContext {
    uid: 65534,
    gid: 65534,
    pid: 0,
    umask: 0o022,
    unmasked_mode: None,
};

fn fsuid() -> u32 {
    // SAFETY: integer-only syscall; an invalid id (-1) changes nothing and answers the
    // thread's current fsuid.
    unsafe { libc::syscall(libc::SYS_setfsuid, u32::MAX) as u32 }
}

fn fsgid() -> u32 {
    // SAFETY: integer-only syscall; an invalid id (-1) changes nothing and answers the
    // thread's current fsgid.
    unsafe { libc::syscall(libc::SYS_setfsgid, u32::MAX) as u32 }
}

fn groups() -> Vec<libc::gid_t> {
    let mut v = vec![0; 256];
    // SAFETY: `v` has room for the 256 entries getgroups may write.
    let n = unsafe { libc::getgroups(256, v.as_mut_ptr()) };
    v.truncate(n as usize);
    v
}

fn open_dir(fx: &Fx) {
    std::fs::set_permissions(fx.dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
}

#[test]
fn creates_as_the_caller_and_restores() {
    if !super::is_root() {
        return;
    }
    let fx = Fx::new();
    open_dir(&fx);
    let before = (fsuid(), fsgid(), groups());
    let o = fx
        .fs
        .create(&NOBODY, p("/f"), libc::S_IFREG | 0o644, libc::O_RDWR)
        .unwrap();
    fx.fs
        .release(&ctx(), p("/f"), crate::operations::Fh(o.fh), 0, false)
        .unwrap();
    fx.fs.mkdir(&NOBODY, p("/d"), 0o755).unwrap();
    fx.fs
        .mknod(&NOBODY, p("/n"), libc::S_IFIFO | 0o600, 0)
        .unwrap();
    fx.fs.symlink(&NOBODY, p("f"), p("/l")).unwrap();
    for name in ["f", "d", "n", "l"] {
        let st = lstat(&fx.real(name)).unwrap();
        assert_eq!((st.st_uid, st.st_gid), (65534, 65534), "{name}");
    }
    assert_eq!((fsuid(), fsgid(), groups()), before);
    // Root's own requests still create as root.
    fx.fs.mkdir(&ctx(), p("/r"), 0o755).unwrap();
    let st = lstat(&fx.real("r")).unwrap();
    assert_eq!((st.st_uid, st.st_gid), (0, 0));
}

#[test]
fn caller_permissions_apply() {
    if !super::is_root() {
        return;
    }
    let fx = Fx::new();
    open_dir(&fx);
    fx.write_real("secret", b"");
    std::fs::set_permissions(fx.real("secret"), std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::create_dir(fx.real("closed")).unwrap();
    std::fs::set_permissions(fx.real("closed"), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(
        fx.fs.access(&NOBODY, p("/secret"), libc::R_OK).unwrap_err(),
        Errno::EACCES
    );
    fx.fs.access(&NOBODY, p("/secret"), libc::F_OK).unwrap();
    assert_eq!(
        fx.fs.mkdir(&NOBODY, p("/closed/x"), 0o755).unwrap_err(),
        Errno::EACCES
    );
    assert_eq!(fsuid(), 0);
}

#[test]
fn caller_groups_are_used() {
    if !super::is_root() {
        return;
    }
    // A directory writable only by group 4242: a caller whose supplementary groups
    // (read from /proc/<pid>/status) include 4242 may create in it.
    let fx = Fx::new();
    std::fs::create_dir(fx.real("g")).unwrap();
    std::os::unix::fs::chown(fx.real("g"), Some(0), Some(4242)).unwrap();
    std::fs::set_permissions(fx.real("g"), std::fs::Permissions::from_mode(0o775)).unwrap();
    let me = std::process::id();
    let have = super::super::identity::caller_groups(me);
    let caller = RequestContext {
        uid: 65534,
        gid: 65534,
        pid: me,
        umask: 0,
        unmasked_mode: None,
    };
    let r = fx.fs.mkdir(&caller, p("/g/x"), 0o755);
    if have.contains(&4242) {
        r.unwrap();
    } else {
        assert_eq!(r.unwrap_err(), Errno::EACCES);
    }
    assert_eq!(groups(), have);
}

#[test]
fn switching_can_be_turned_off() {
    if !super::is_root() {
        return;
    }
    let opts = PassthroughOptions {
        create_as_caller: false,
        ..PassthroughOptions::default()
    };
    let fx = Fx::in_base("/tmp", opts);
    fx.fs.mkdir(&NOBODY, p("/d"), 0o755).unwrap();
    assert_eq!(lstat(&fx.real("d")).unwrap().st_uid, 0);
}
