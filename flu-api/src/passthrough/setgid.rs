//! The setgid bit a modification drops: a local filesystem clears `S_ISGID` of a
//! regular file when someone outside the file's group (and not root) writes, truncates
//! or allocates in it, also when the group cannot execute the file. The kernel's FUSE
//! layer only drops it together with the group execute bit (and `S_ISUID` always), so
//! the passthrough drops the rest itself, after the change, from the file's fd.
//!
//! Writes that the kernel sends straight to the backing file (FUSE passthrough) never
//! reach the daemon: an open for writing that will need the bit dropped is served
//! without kernel passthrough ([`needs_drop`] at open).

use std::os::fd::RawFd;

use crate::operations::RequestContext;

use super::identity::caller_groups;
use super::sys::{cvt, fstat, proc_fd_path};

/// Whether a change to the file `st` by `ctx` drops its setgid bit, beyond what the
/// kernel drops itself.
fn drops_setgid(ctx: &RequestContext, st: &libc::stat) -> bool {
    let m = st.st_mode;
    m & libc::S_IFMT == libc::S_IFREG
        && m & libc::S_ISGID != 0
        && m & libc::S_IXGRP == 0
        && ctx.uid != 0
        && ctx.gid != st.st_gid
        && !caller_groups(ctx.pid).contains(&st.st_gid)
}

/// Whether the file behind `fd` is one a change by `ctx` must drop the setgid bit of.
pub(super) fn needs_drop(ctx: &RequestContext, fd: RawFd) -> bool {
    ctx.uid != 0 && fstat(fd).is_ok_and(|st| drops_setgid(ctx, &st))
}

/// After `ctx` changed the file behind `fd`: drop its setgid bit if a local filesystem
/// would have. Best effort: the change itself already happened.
pub(super) fn drop_after_change(ctx: &RequestContext, fd: RawFd) {
    if ctx.uid == 0 {
        return;
    }
    let Ok(st) = fstat(fd) else { return };
    if !drops_setgid(ctx, &st) {
        return;
    }
    // Through /proc: `fd` may be an O_PATH fd, which fchmod refuses.
    let p = proc_fd_path(fd);
    // SAFETY: `p` is a NUL-terminated path alive across the call; the caller keeps the
    // fd it names open.
    if let Err(e) = cvt(unsafe { libc::chmod(p.as_ptr(), st.st_mode & 0o7777 & !libc::S_ISGID) }) {
        tracing::debug!("passthrough: dropping the setgid bit: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(mode: u32, gid: u32) -> libc::stat {
        // SAFETY: stat is plain integers, for which all-zero is a valid value.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        st.st_mode = mode;
        st.st_gid = gid;
        st
    }

    fn caller(uid: u32, gid: u32) -> RequestContext {
        RequestContext {
            uid,
            gid,
            ..RequestContext::default()
        }
    }

    #[test]
    fn only_setgid_without_group_exec_by_an_outsider() {
        let outsider = caller(1000, 1000);
        assert!(drops_setgid(&outsider, &file(libc::S_IFREG | 0o2666, 3000)));
        // The kernel drops it itself with the group execute bit.
        assert!(!drops_setgid(
            &outsider,
            &file(libc::S_IFREG | 0o2676, 3000)
        ));
        // A member of the group, root, a directory, no setgid bit: kept.
        assert!(!drops_setgid(
            &caller(1000, 3000),
            &file(libc::S_IFREG | 0o2666, 3000)
        ));
        assert!(!drops_setgid(
            &caller(0, 0),
            &file(libc::S_IFREG | 0o2666, 3000)
        ));
        assert!(!drops_setgid(
            &outsider,
            &file(libc::S_IFDIR | 0o2777, 3000)
        ));
        assert!(!drops_setgid(
            &outsider,
            &file(libc::S_IFREG | 0o0666, 3000)
        ));
    }
}
