//! Per-operation numbers for `flu stats`: requests, errors by errno, and latency
//! (`latency::Histogram`), one set per `Op`, indexed by `Op::index()`, recorded by
//! `FsCore::on`/`on_two` after each operation. Relaxed atomics and no lock: counting
//! must cost the hot path a few adds, and a reader only needs each number to be one
//! that was true at some moment.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use flu_api::{Errno, Op};

use super::latency::{Histogram, LatencySummary};

/// Errno values counted one by one (Linux's go up to 133); larger ones share a slot.
const ERRNO_SLOTS: usize = 134;

struct Count {
    requests: AtomicU64,
    /// By errno; the last slot counts the ones beyond the table.
    errnos: Box<[AtomicU64]>,
    latency: Histogram,
}

impl Default for Count {
    fn default() -> Count {
        Count {
            requests: AtomicU64::new(0),
            errnos: (0..=ERRNO_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            latency: Histogram::default(),
        }
    }
}

/// See the module documentation.
pub struct OpCounts {
    counts: Box<[Count]>,
}

/// One operation's numbers, as read by `OpCounts::snapshot`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpCount {
    pub op: Op,
    pub requests: u64,
    pub errors: u64,
    /// The errnos answered, most frequent first; `None`: one beyond the table.
    pub errnos: Vec<(Option<Errno>, u64)>,
    pub latency: LatencySummary,
}

impl Default for OpCounts {
    fn default() -> OpCounts {
        OpCounts {
            counts: Op::ALL.iter().map(|_| Count::default()).collect(),
        }
    }
}

impl OpCounts {
    /// One `op` was answered after `elapsed`, successfully or with `error`.
    pub fn record(&self, op: Op, error: Option<Errno>, elapsed: Duration) {
        let Some(c) = self.counts.get(op.index()) else {
            return;
        };
        c.requests.fetch_add(1, Ordering::Relaxed);
        if let Some(e) = error {
            let slot = usize::try_from(e.code())
                .ok()
                .filter(|&n| n < ERRNO_SLOTS)
                .unwrap_or(ERRNO_SLOTS);
            c.errnos[slot].fetch_add(1, Ordering::Relaxed);
        }
        c.latency.record(elapsed);
    }

    /// Every operation's numbers, in `Op::ALL` order.
    pub fn snapshot(&self) -> Vec<OpCount> {
        Op::ALL
            .iter()
            .zip(self.counts.iter())
            .map(|(&op, c)| {
                let mut errnos: Vec<(Option<Errno>, u64)> = c
                    .errnos
                    .iter()
                    .enumerate()
                    .map(|(slot, n)| (slot, n.load(Ordering::Relaxed)))
                    .filter(|&(_, n)| n > 0)
                    .map(|(slot, n)| {
                        let errno = (slot < ERRNO_SLOTS).then_some(Errno(slot as i32));
                        (errno, n)
                    })
                    .collect();
                errnos.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
                OpCount {
                    op,
                    requests: c.requests.load(Ordering::Relaxed),
                    errors: errnos.iter().map(|(_, n)| n).sum(),
                    errnos,
                    latency: c.latency.summary(),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_operation_and_errno() {
        let counts = OpCounts::default();
        let us = Duration::from_micros;
        counts.record(Op::Read, None, us(5));
        counts.record(Op::Read, Some(Errno::EIO), us(7));
        counts.record(Op::Lookup, Some(Errno::ENOENT), us(1));
        counts.record(Op::Lookup, Some(Errno::ENOENT), us(1));
        counts.record(Op::Lookup, Some(Errno::EACCES), us(1));
        counts.record(Op::Lookup, Some(Errno(100_000)), us(1));
        counts.record(Op::Forget, None, us(0));
        let snap = counts.snapshot();
        assert_eq!(snap.len(), Op::ALL.len());
        let read = &snap[Op::Read.index()];
        assert_eq!((read.op, read.requests, read.errors), (Op::Read, 2, 1));
        assert_eq!(read.errnos, vec![(Some(Errno::EIO), 1)]);
        assert_eq!((read.latency.count, read.latency.max_us), (2, 7));
        let lookup = &snap[Op::Lookup.index()];
        assert_eq!(lookup.errors, 4);
        assert_eq!(lookup.errnos[0], (Some(Errno::ENOENT), 2));
        assert!(lookup.errnos.contains(&(None, 1)), "{:?}", lookup.errnos);
        assert_eq!(snap[Op::Forget.index()].requests, 1);
        assert_eq!(snap[Op::Write.index()].requests, 0);
        assert_eq!(snap[Op::Write.index()].latency, LatencySummary::default());
    }
}
