//! Interrupts: the kernel may ask the daemon to abandon a request whose caller was
//! signalled (FUSE_INTERRUPT). The daemon gives each request an `InterruptFlag` and
//! serves it inside `serving`; code running for that request (the Lua watchdog hook,
//! `flu.sleep`) checks `interrupted()` and gives up, and the request is answered EINTR.
//!
//! The flag is per thread because a request is served on one thread from start to end.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Set when the request it belongs to is interrupted.
#[derive(Clone, Debug, Default)]
pub struct InterruptFlag(Arc<AtomicBool>);

impl InterruptFlag {
    pub fn new() -> InterruptFlag {
        InterruptFlag::default()
    }

    /// The kernel interrupted the request.
    pub fn interrupt(&self) {
        self.0.store(true, Ordering::Release);
    }

    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

thread_local! {
    static CURRENT: RefCell<Option<InterruptFlag>> = const { RefCell::new(None) };
    /// Requests this thread started serving (see `request_serial`).
    static SERIAL: Cell<u64> = const { Cell::new(0) };
}

/// Run `f` as the service of the request whose flag is `flag`.
pub fn serving<R>(flag: &InterruptFlag, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<InterruptFlag>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            CURRENT.with(|c| *c.borrow_mut() = previous);
        }
    }
    let previous = CURRENT.with(|c| c.borrow_mut().replace(flag.clone()));
    let _restore = Restore(previous);
    SERIAL.with(|s| s.set(s.get() + 1));
    f()
}

/// Which request this thread serves: a number that changes with every request the
/// thread starts, 0 outside any. Code that must see one consistent state for all of a
/// request (the handler table a reload replaces) keys what it pins by it.
pub fn request_serial() -> u64 {
    if CURRENT.with(|c| c.borrow().is_none()) {
        return 0;
    }
    SERIAL.with(Cell::get)
}

/// Whether the request this thread is serving has been interrupted.
pub fn interrupted() -> bool {
    CURRENT.with(|c| c.borrow().as_ref().is_some_and(InterruptFlag::is_set))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_served_request_sees_its_interrupt() {
        let flag = InterruptFlag::new();
        assert!(!interrupted());
        serving(&flag, || {
            assert!(!interrupted());
            flag.interrupt();
            assert!(interrupted());
            let other = InterruptFlag::new();
            serving(&other, || {
                assert!(!interrupted(), "a nested request has its own flag")
            });
            assert!(interrupted());
        });
        assert!(!interrupted(), "outside the request");
        assert_eq!(request_serial(), 0, "no request, no serial");
        let first = serving(&flag, request_serial);
        let second = serving(&flag, request_serial);
        assert!(first != 0 && second != 0 && first != second);
        let t = std::thread::spawn({
            let flag = flag.clone();
            move || serving(&flag, interrupted)
        });
        assert!(t.join().unwrap(), "the flag travels with the request");
    }
}
