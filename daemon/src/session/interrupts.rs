//! Requests in flight, by the kernel's `unique`, so that a FUSE_INTERRUPT can reach the
//! request it names: its flag is set (the code serving it checks the flag through
//! `flu_api::interrupt`) and the request is answered EINTR.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use flu_api::interrupt::InterruptFlag;

#[derive(Default)]
pub struct InFlight {
    requests: Mutex<HashMap<u64, InterruptFlag>>,
}

/// What became of an interrupt.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivered {
    /// The request is being served and will see its flag.
    ToRequest,
    /// No such request here (not read yet by another thread, or already answered): the
    /// kernel is told EAGAIN and sends the interrupt again while the request is pending.
    Unknown,
}

impl InFlight {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, InterruptFlag>> {
        self.requests.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A request starts: its flag.
    pub fn start(&self, unique: u64) -> InterruptFlag {
        let flag = InterruptFlag::new();
        self.lock().insert(unique, flag.clone());
        flag
    }

    /// The request was answered.
    pub fn finish(&self, unique: u64) {
        self.lock().remove(&unique);
    }

    pub fn interrupt(&self, unique: u64) -> Delivered {
        match self.lock().get(&unique) {
            Some(flag) => {
                flag.interrupt();
                Delivered::ToRequest
            }
            None => Delivered::Unknown,
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interrupts_reach_requests_in_flight_only() {
        let f = InFlight::default();
        let flag = f.start(10);
        assert_eq!(f.interrupt(11), Delivered::Unknown);
        assert!(!flag.is_set());
        assert_eq!(f.interrupt(10), Delivered::ToRequest);
        assert!(flag.is_set());
        f.finish(10);
        assert_eq!(f.interrupt(10), Delivered::Unknown);
        assert_eq!(f.len(), 0);
    }
}
