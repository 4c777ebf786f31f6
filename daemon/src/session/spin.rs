//! The watch for the next request (`-o spin=USEC`): after answering, one serving thread
//! at a time polls the queue (a zero-timeout `poll`) for up to `spin` before it reads. A
//! sequential client's next request comes within microseconds of the answer, and a
//! thread already running takes it without the wakeup of a sleeping one (on a virtual
//! machine, an idle CPU's halt exit: tens of µs per request).
//!
//! A client whose requests come further apart than `spin` (one that computes between
//! them, such as `grep -r` or `tar`) would only have CPU taken from it: after
//! `MISSES_BEFORE_BACKOFF` watches in a row that saw nothing, only one chance in
//! `PROBE_EVERY` watches, until a watch sees a request again.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::channel::Channel;

/// Watches in a row that saw no request before watching pauses.
const MISSES_BEFORE_BACKOFF: u32 = 4;

/// While paused, one chance in this many still watches (to notice a faster client).
const PROBE_EVERY: u32 = 8;

/// The watch and how it has fared.
#[derive(Debug)]
pub(super) struct Watch {
    spin: Duration,
    /// Whether a thread watches now (one at a time: two would take both CPUs here).
    watching: AtomicBool,
    /// Watches in a row that ended with no request (capped).
    misses: AtomicU32,
    /// Chances passed up while paused.
    passed: AtomicU32,
}

impl Watch {
    pub fn new(spin: Duration) -> Watch {
        Watch {
            spin,
            watching: AtomicBool::new(false),
            misses: AtomicU32::new(0),
            passed: AtomicU32::new(0),
        }
    }

    /// Before a read: watch for the next request for up to `spin`, unless another
    /// thread watches or watching has paused; back as soon as one waits (or the time is
    /// up), for the read to take it.
    pub fn before_read(&self, channel: &Channel) {
        if !self.worth_watching() || !self.take() {
            return;
        }
        let start = Instant::now();
        let mut seen = channel.readable_within(Duration::ZERO);
        while !seen && start.elapsed() < self.spin {
            std::hint::spin_loop();
            seen = channel.readable_within(Duration::ZERO);
        }
        self.record(seen);
        self.watching.store(false, Ordering::Release);
    }

    /// Whether to watch this time: always while watches see requests; once paused, one
    /// chance in `PROBE_EVERY`.
    fn worth_watching(&self) -> bool {
        if self.spin.is_zero() {
            return false;
        }
        if self.misses.load(Ordering::Relaxed) < MISSES_BEFORE_BACKOFF {
            return true;
        }
        self.passed.fetch_add(1, Ordering::Relaxed) % PROBE_EVERY == PROBE_EVERY - 1
    }

    /// Become the watching thread, unless another is.
    fn take(&self) -> bool {
        self.watching
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Only the watching thread records, so the load and store need no atomic update.
    fn record(&self, seen: bool) {
        if seen {
            self.misses.store(0, Ordering::Relaxed);
        } else {
            let m = self.misses.load(Ordering::Relaxed);
            self.misses
                .store((m + 1).min(MISSES_BEFORE_BACKOFF), Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How many of `n` chances would watch, as they come.
    fn watched_of(w: &Watch, n: u32) -> u32 {
        (0..n).filter(|_| w.worth_watching()).count() as u32
    }

    #[test]
    fn watches_while_requests_come_and_pauses_after_misses() {
        let w = Watch::new(Duration::from_micros(30));
        assert_eq!(watched_of(&w, 10), 10, "no miss yet: every chance watches");
        for _ in 0..MISSES_BEFORE_BACKOFF - 1 {
            w.record(false);
        }
        assert_eq!(
            watched_of(&w, 10),
            10,
            "not enough misses in a row to pause"
        );
        w.record(false);
        assert_eq!(
            watched_of(&w, 8 * PROBE_EVERY),
            8,
            "paused: one chance in PROBE_EVERY"
        );
        w.record(true);
        assert_eq!(watched_of(&w, 10), 10, "a request seen: watching again");
    }

    #[test]
    fn a_hit_between_misses_restarts_the_count() {
        let w = Watch::new(Duration::from_micros(30));
        for _ in 0..10 {
            for _ in 0..MISSES_BEFORE_BACKOFF - 1 {
                w.record(false);
            }
            w.record(true);
        }
        assert_eq!(watched_of(&w, 10), 10);
    }

    #[test]
    fn zero_never_watches_and_one_thread_watches_at_a_time() {
        assert_eq!(watched_of(&Watch::new(Duration::ZERO), 10), 0);
        let w = Watch::new(Duration::from_micros(30));
        assert!(w.take());
        assert!(!w.take(), "a second thread watched at the same time");
        w.watching.store(false, Ordering::Release);
        assert!(w.take());
    }
}
