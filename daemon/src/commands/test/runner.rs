//! Running one piece of the battery with a deadline. Each job runs on a thread of its
//! own: a handler that never answers blocks that thread in a system call on the mount,
//! and the battery gives up on it after the timeout instead of hanging (the thread is
//! released when the mount is torn down, or at exit). A Ctrl-C is noticed between and
//! during jobs, so `flu test` can still unmount and clean up before it exits.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Why a job gave no result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// It did not finish within the timeout.
    TimedOut,
    /// The user pressed Ctrl-C (SIGINT) or sent SIGTERM.
    Interrupted,
    /// Its thread could not be started, or it panicked.
    Lost,
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn note_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Catch SIGINT and SIGTERM so the battery can stop and clean up. The daemon, our
/// child in the same process group, gets a Ctrl-C too and unmounts by itself; exec
/// resets a caught signal to its default, so its own handling is unchanged.
pub fn catch_interrupts() {
    let action = nix::sys::signal::SigAction::new(
        nix::sys::signal::SigHandler::Handler(note_interrupt),
        nix::sys::signal::SaFlags::SA_RESTART,
        nix::sys::signal::SigSet::empty(),
    );
    for sig in [
        nix::sys::signal::Signal::SIGINT,
        nix::sys::signal::Signal::SIGTERM,
    ] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        if let Err(e) = unsafe { nix::sys::signal::sigaction(sig, &action) } {
            eprintln!("flu test: cannot catch {sig}: {e}");
        }
    }
}

pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Run `job` on its own thread and wait at most `timeout` for its result.
pub fn run_with_timeout<T: Send + 'static>(
    name: &str,
    timeout: Duration,
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Stopped> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name(format!("flu-test-{name}"))
        .spawn(move || {
            let _ = tx.send(job());
        })
        .map_err(|_| Stopped::Lost)?;
    let deadline = Instant::now() + timeout;
    loop {
        if interrupted() {
            return Err(Stopped::Interrupted);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Stopped::TimedOut);
        }
        match rx.recv_timeout(left.min(Duration::from_millis(100))) {
            Ok(v) => return Ok(v),
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => return Err(Stopped::Lost),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_and_timeouts() {
        assert_eq!(
            run_with_timeout("quick", Duration::from_secs(5), || 7),
            Ok(7)
        );
        let start = Instant::now();
        let slow = run_with_timeout("slow", Duration::from_millis(200), || {
            std::thread::sleep(Duration::from_secs(3));
        });
        assert_eq!(slow, Err(Stopped::TimedOut));
        assert!(start.elapsed() < Duration::from_secs(2));
        let panicked: Result<(), Stopped> =
            run_with_timeout("panics", Duration::from_secs(5), || panic!("on purpose"));
        assert_eq!(panicked, Err(Stopped::Lost));
    }
}
