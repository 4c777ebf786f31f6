//! Exact creation modes: the mode the kernel sends already has the caller's umask
//! applied (FUSE without `FUSE_DONT_MASK`), so the daemon's own umask must not mask it
//! a second time.
//!
//! The umask belongs to the fs context, shared by all threads of a process, so it
//! cannot simply be cleared around one call. Each worker thread that creates something
//! first gets its own fs context (`unshare(CLONE_FS)`, once, no privilege needed);
//! then [`ExactModes`] sets that thread's umask to 0 around the call and puts it back,
//! so the thread's umask outside these calls is never changed. If the unshare is
//! refused (a seccomp filter), the process umask applies.

use std::cell::Cell;

use nix::sys::stat::{umask, Mode};

thread_local! {
    /// Whether this thread has its own fs context: unknown, yes, refused.
    static OWN_FS: Cell<Option<bool>> = const { Cell::new(None) };
}

fn own_fs_context() -> bool {
    OWN_FS.with(|c| {
        if let Some(v) = c.get() {
            return v;
        }
        // SAFETY: affects only this thread's cwd/root/umask bookkeeping.
        let ok = unsafe { libc::unshare(libc::CLONE_FS) } == 0;
        if !ok {
            tracing::warn!(
                "passthrough: unshare(CLONE_FS) refused; the process umask will mask creation modes"
            );
        }
        c.set(Some(ok));
        ok
    })
}

/// umask 0 on this thread while alive; the previous umask comes back on drop.
pub(super) struct ExactModes {
    old: Option<Mode>,
}

impl ExactModes {
    pub fn enter() -> ExactModes {
        if !own_fs_context() {
            return ExactModes { old: None };
        }
        // This thread's fs context is its own: only its umask changes.
        let old = umask(Mode::empty());
        ExactModes { old: Some(old) }
    }
}

impl Drop for ExactModes {
    fn drop(&mut self) {
        if let Some(old) = self.old {
            umask(old);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn umask_is_cleared_and_restored_on_this_thread_only() {
        std::thread::spawn(|| {
            let before = umask(Mode::from_bits_truncate(0o027));
            {
                let _m = ExactModes::enter();
                assert_eq!(umask(Mode::empty()).bits(), 0);
            }
            assert_eq!(umask(before).bits(), 0o027);
        })
        .join()
        .unwrap();
    }
}
