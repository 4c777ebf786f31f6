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

/// The mode a truncation by `ctx` leaves the file `st` with: what the kernel's
/// `should_remove_suid` drops (S_ISUID; S_ISGID with group execute) for a caller
/// without CAP_FSETID (taken as not root), and the setgid bit `drops_setgid` adds.
fn mode_after_truncation(ctx: &RequestContext, st: &libc::stat) -> u32 {
    let m = st.st_mode;
    if ctx.uid == 0 || m & libc::S_IFMT != libc::S_IFREG {
        return m;
    }
    let mut kept = m;
    if m & libc::S_ISUID != 0 {
        kept &= !libc::S_ISUID;
    }
    if m & (libc::S_ISGID | libc::S_IXGRP) == libc::S_ISGID | libc::S_IXGRP || drops_setgid(ctx, st)
    {
        kept &= !libc::S_ISGID;
    }
    kept
}

/// After `ctx` opened the file behind `fd` with O_TRUNC (the daemon's own open, as root,
/// keeps the bits the caller's would have dropped; with FUSE_ATOMIC_O_TRUNC the kernel
/// sends no truncate that would drop them). Best effort, as `drop_after_change`.
pub(super) fn drop_after_truncating_open(ctx: &RequestContext, fd: RawFd) {
    if ctx.uid == 0 {
        return;
    }
    let Ok(st) = fstat(fd) else { return };
    let kept = mode_after_truncation(ctx, &st);
    if kept == st.st_mode {
        return;
    }
    // SAFETY: `fd` is the open file the caller holds; fchmod only reads it.
    if let Err(e) = cvt(unsafe { libc::fchmod(fd, kept & 0o7777) }) {
        tracing::debug!("passthrough: dropping set-id bits after O_TRUNC: {e}");
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
    fn a_truncation_drops_what_a_local_filesystem_drops() {
        let outsider = caller(1000, 1000);
        let member = caller(1000, 3000);
        let reg = libc::S_IFREG;
        assert_eq!(
            mode_after_truncation(&outsider, &file(reg | 0o4755, 3000)),
            reg | 0o755
        );
        assert_eq!(
            mode_after_truncation(&member, &file(reg | 0o6775, 3000)),
            reg | 0o775
        );
        // Setgid without group execute: kept for a member of the group, not for others.
        assert_eq!(
            mode_after_truncation(&member, &file(reg | 0o2664, 3000)),
            reg | 0o2664
        );
        assert_eq!(
            mode_after_truncation(&outsider, &file(reg | 0o2666, 3000)),
            reg | 0o666
        );
        // Root keeps everything; directories are not truncated.
        assert_eq!(
            mode_after_truncation(&caller(0, 0), &file(reg | 0o6777, 3000)),
            reg | 0o6777
        );
        let dir = libc::S_IFDIR | 0o2775;
        assert_eq!(mode_after_truncation(&outsider, &file(dir, 3000)), dir);
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
