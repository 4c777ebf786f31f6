//! Acting as the caller: when the daemon runs as root, objects must be created owned by
//! the uid/gid of the process that asked (DESIGN 6), with the group the kernel picks
//! (setgid directories) and permission checks done with the caller's groups.
//!
//! Linux credentials are per thread underneath glibc, so the raw `setfsuid`,
//! `setfsgid` and `setgroups` syscalls change only the calling worker thread (glibc's
//! wrappers would broadcast to every thread). [`CallerGuard`] switches them around one
//! syscall and restores them on drop. Not root: nothing is switched and objects are
//! created as the mounting user.

use crate::errno::Errno;
use crate::operations::RequestContext;

/// Whether to switch at all: root, and the option asked for it.
pub(super) struct Identity {
    enabled: bool,
}

impl Identity {
    pub fn new(create_as_caller: bool) -> Identity {
        let root = nix::unistd::geteuid().is_root();
        Identity {
            enabled: create_as_caller && root,
        }
    }

    /// Become the caller for the life of the guard; `None` when there is nothing to
    /// switch (not root, or the caller is root). An error means the ids could not be
    /// switched, and the call must not go ahead as root. Groups are best effort: when
    /// unreadable (pid 0, process gone) or refused, the caller has none / the thread
    /// keeps its own.
    pub fn act_as(&self, ctx: &RequestContext) -> Result<Option<CallerGuard>, Errno> {
        if !self.enabled || (ctx.uid == 0 && ctx.gid == 0) {
            return Ok(None);
        }
        CallerGuard::enter(ctx).map(Some)
    }
}

/// The previous fs ids and groups of this thread, put back on drop.
pub(super) struct CallerGuard {
    uid: libc::uid_t,
    gid: libc::gid_t,
    /// The groups to put back, when the caller's were set.
    groups: Option<Vec<libc::gid_t>>,
}

impl CallerGuard {
    fn enter(ctx: &RequestContext) -> Result<CallerGuard, Errno> {
        let mut guard = CallerGuard {
            uid: libc::uid_t::MAX,
            gid: libc::gid_t::MAX,
            groups: None,
        };
        // Groups are best effort (a user namespace may deny setgroups): the ids are
        // what decides ownership.
        if let Ok(saved) = thread_groups() {
            match set_thread_groups(&caller_groups(ctx.pid)) {
                Ok(()) => guard.groups = Some(saved),
                Err(e) => tracing::debug!("passthrough: setgroups for the caller: {e}"),
            }
        }
        // setfsuid/setfsgid answer the previous id and report no error: check by asking
        // again with an invalid id, which changes nothing and answers the current one.
        guard.gid = setfsgid(ctx.gid);
        if setfsgid(libc::gid_t::MAX) != ctx.gid {
            return Err(Errno::EPERM);
        }
        guard.uid = setfsuid(ctx.uid);
        if setfsuid(libc::uid_t::MAX) != ctx.uid {
            return Err(Errno::EPERM);
        }
        Ok(guard)
    }
}

impl Drop for CallerGuard {
    fn drop(&mut self) {
        // Back to fsuid 0 first: that also restores the fs capabilities.
        if self.uid != libc::uid_t::MAX {
            setfsuid(self.uid);
        }
        if self.gid != libc::gid_t::MAX {
            setfsgid(self.gid);
        }
        if let Some(groups) = &self.groups {
            // Nothing to report to; as root this cannot fail.
            let _ = set_thread_groups(groups);
        }
    }
}

fn setfsuid(uid: libc::uid_t) -> libc::uid_t {
    // SAFETY: plain syscall on integers; affects only this thread.
    unsafe { libc::syscall(libc::SYS_setfsuid, uid) as libc::uid_t }
}

fn setfsgid(gid: libc::gid_t) -> libc::gid_t {
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_setfsgid, gid) as libc::gid_t }
}

/// This thread's supplementary groups (getgroups is a plain syscall in glibc).
fn thread_groups() -> Result<Vec<libc::gid_t>, Errno> {
    loop {
        // SAFETY: a zero-sized query writes nothing.
        let n = super::sys::cvt(unsafe { libc::getgroups(0, std::ptr::null_mut()) })?;
        let mut v = vec![0 as libc::gid_t; n as usize];
        // SAFETY: v has room for n entries.
        match super::sys::cvt(unsafe { libc::getgroups(n, v.as_mut_ptr()) }) {
            Ok(m) => {
                v.truncate(m as usize);
                return Ok(v);
            }
            // The set grew between the two calls: ask again.
            Err(e) if e.code() == libc::EINVAL => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Set this thread's supplementary groups with the raw syscall (per thread).
fn set_thread_groups(groups: &[libc::gid_t]) -> Result<(), Errno> {
    // SAFETY: the pointer and length describe `groups`.
    super::sys::cvt(unsafe { libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) })
        .map(drop)
}

/// The caller's supplementary groups from `/proc/<pid>/status`; none when unknown
/// (pid 0, the process already gone, /proc not mounted).
pub(super) fn caller_groups(pid: u32) -> Vec<libc::gid_t> {
    if pid == 0 {
        return Vec::new();
    }
    match std::fs::read_to_string(format!("/proc/{pid}/status")) {
        Ok(s) => parse_groups(&s),
        Err(_) => Vec::new(),
    }
}

fn parse_groups(status: &str) -> Vec<libc::gid_t> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Groups:"))
        .map(|g| {
            g.split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_line_parses() {
        let s = "Name:\tx\nGid:\t1\t1\t1\t1\nGroups:\t4 24 1000 \nNSgid:\t1\n";
        assert_eq!(parse_groups(s), vec![4, 24, 1000]);
        assert_eq!(parse_groups("Groups:\t\n"), Vec::<u32>::new());
        assert_eq!(parse_groups("nothing"), Vec::<u32>::new());
    }
}
