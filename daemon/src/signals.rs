//! The signals of a mounted daemon. A signal whose default action ends the process would
//! leave a dead mount behind ("Transport endpoint is not connected"), so every such
//! signal that can be caught is either taken by the signal thread, which unmounts
//! cleanly (destroy runs, the daemon exits 0), or ignored where that has a use:
//!
//! - unmount: SIGHUP (in the foreground; a detached daemon reloads on it, see `serve`),
//!   SIGINT, SIGTERM, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM,
//!   SIGPROF, SIGXCPU (the soft CPU limit: leave before the hard limit kills), SIGIO,
//!   SIGPWR, SIGSTKFLT and the real-time signals SIGRTMIN..SIGRTMAX;
//! - ignored: SIGPIPE (a write to a closed pipe or socket fails with EPIPE instead) and
//!   SIGXFSZ (a write past RLIMIT_FSIZE fails with EFBIG for that caller instead).
//!
//! SIGKILL and SIGSTOP cannot be caught; faults (SIGSEGV, SIGBUS, SIGILL, SIGFPE,
//! SIGTRAP, SIGSYS, SIGABRT) are raised by the faulting thread itself and end the
//! process: `-o auto_unmount` cleans up after those.

use std::io;

/// Signals after which the daemon unmounts, by number (the real-time ones are added at
/// run time: glibc reserves the first few for itself).
const UNMOUNT_SIGNALS: &[libc::c_int] = &[
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGALRM,
    libc::SIGVTALRM,
    libc::SIGPROF,
    libc::SIGXCPU,
    libc::SIGIO,
    libc::SIGPWR,
    libc::SIGSTKFLT,
];

/// Signals the daemon ignores.
const IGNORED_SIGNALS: &[libc::c_int] = &[libc::SIGPIPE, libc::SIGXFSZ];

/// The blocked set the signal thread waits on.
pub struct UnmountSignals {
    set: libc::sigset_t,
}

// SAFETY: a sigset_t is plain data; sigwait only reads it.
unsafe impl Send for UnmountSignals {}

impl UnmountSignals {
    /// Ignore the ignored signals and block the others in the calling thread (and so in
    /// every thread it starts later). Call before any other thread exists.
    pub fn block() -> io::Result<UnmountSignals> {
        for &sig in IGNORED_SIGNALS {
            // SAFETY: installing SIG_IGN has no handler code to be unsafe.
            if unsafe { libc::signal(sig, libc::SIG_IGN) } == libc::SIG_ERR {
                return Err(io::Error::last_os_error());
            }
        }
        // SAFETY: sigset_t is plain data; all zeroes is a valid (empty) value.
        let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is a live sigset_t that sigemptyset only writes.
        unsafe { libc::sigemptyset(&mut set) };
        for sig in UNMOUNT_SIGNALS
            .iter()
            .copied()
            .chain(libc::SIGRTMIN()..=libc::SIGRTMAX())
        {
            // SAFETY: `set` is initialized; every number here is a valid signal.
            if unsafe { libc::sigaddset(&mut set, sig) } != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        // SAFETY: `set` is a valid, initialized set; no old mask is wanted.
        let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        Ok(UnmountSignals { set })
    }

    /// Wait for one of the signals; returns its number.
    pub fn wait(&self) -> io::Result<libc::c_int> {
        let mut sig: libc::c_int = 0;
        // SAFETY: `set` is valid and blocked in this thread; `sig` is a valid out pointer.
        let rc = unsafe { libc::sigwait(&self.set, &mut sig) };
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        Ok(sig)
    }
}

/// `SIGUSR1`, `SIGRTMIN+3`, … for the log.
pub fn signal_name(sig: libc::c_int) -> String {
    if let Ok(s) = nix::sys::signal::Signal::try_from(sig) {
        return s.as_str().to_string();
    }
    if (libc::SIGRTMIN()..=libc::SIGRTMAX()).contains(&sig) {
        return format!("SIGRTMIN+{}", sig - libc::SIGRTMIN());
    }
    format!("signal {sig}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(signal_name(libc::SIGUSR1), "SIGUSR1");
        assert_eq!(signal_name(libc::SIGRTMIN() + 2), "SIGRTMIN+2");
    }
}
