//! Exact creation modes: the mode the daemon hands on already has the caller's umask
//! applied, so the daemon's own umask must not mask it a second time. On a mount with
//! POSIX ACLs the context also has the mode as the caller asked
//! (`RequestContext::unmasked_mode`): that one is created under the caller's umask, so
//! that the filesystem below lets a default ACL of the parent replace the umask, as it
//! does for its own callers ([`creation`]).
//!
//! The umask belongs to the fs context, shared by all threads of a process, so it
//! cannot simply be cleared around one call. Each worker thread that creates something
//! first gets its own fs context (`unshare(CLONE_FS)`, once, no privilege needed);
//! then [`ExactModes`] sets that thread's umask to 0 around the call and puts it back,
//! so the thread's umask outside these calls is never changed. If the unshare is
//! refused (a seccomp filter), the process umask applies.

use std::cell::Cell;

use nix::sys::stat::{umask, Mode};

use crate::operations::RequestContext;

/// The mode to create with and the umask to create under. The caller's own request
/// under the caller's umask when the context has it and `mode` is still that request
/// with the umask applied (a script may pass on another mode: that one is created
/// exactly); otherwise `mode` under umask 0.
pub(super) fn creation(ctx: &RequestContext, mode: u32) -> (u32, u32) {
    let umask = ctx.umask & 0o777;
    match ctx.unmasked_mode {
        Some(asked) if (asked & !umask) & 0o7777 == mode & 0o7777 => {
            ((mode & !0o7777) | (asked & 0o7777), umask)
        }
        _ => (mode, 0),
    }
}

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

/// `mask` as this thread's umask while alive; the previous umask comes back on drop.
pub(super) struct ExactModes {
    old: Option<Mode>,
}

impl ExactModes {
    pub fn enter(mask: u32) -> ExactModes {
        if !own_fs_context() {
            return ExactModes { old: None };
        }
        // This thread's fs context is its own: only its umask changes.
        let old = umask(Mode::from_bits_truncate(mask));
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
                let _m = ExactModes::enter(0);
                assert_eq!(umask(Mode::empty()).bits(), 0);
            }
            {
                let _m = ExactModes::enter(0o077);
                assert_eq!(umask(Mode::empty()).bits(), 0o077);
            }
            assert_eq!(umask(before).bits(), 0o027);
        })
        .join()
        .unwrap();
    }

    fn asked(umask: u32, unmasked_mode: Option<u32>) -> RequestContext {
        RequestContext {
            umask,
            unmasked_mode,
            ..RequestContext::default()
        }
    }

    #[test]
    fn the_request_as_asked_is_created_under_the_callers_umask() {
        // No ACL negotiation: the mode is final.
        assert_eq!(creation(&asked(0o022, None), 0o644), (0o644, 0));
        // The mode handed on is the request with the umask applied.
        assert_eq!(creation(&asked(0o077, Some(0o666)), 0o600), (0o666, 0o077));
        assert_eq!(
            creation(&asked(0o022, Some(0o2777)), libc::S_IFIFO | 0o2755),
            (libc::S_IFIFO | 0o2777, 0o022)
        );
        // A script chose another mode: exactly that one.
        assert_eq!(creation(&asked(0o077, Some(0o666)), 0o640), (0o640, 0));
    }
}
