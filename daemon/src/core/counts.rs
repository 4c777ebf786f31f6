//! Per-operation request and error counts, for `flu stats`: one pair of atomics per
//! `Op`, indexed by `Op::index()`, bumped by `FsCore::on`/`on_two` after each operation.
//! Relaxed atomics and no lock: counting must cost the hot path nothing but two adds,
//! and a reader only needs each number to be one that was true at some moment.

use std::sync::atomic::{AtomicU64, Ordering};

use flu_api::Op;

#[derive(Default)]
struct Count {
    requests: AtomicU64,
    errors: AtomicU64,
}

/// See the module documentation.
pub struct OpCounts {
    counts: Box<[Count]>,
}

/// One operation's numbers, as read by `OpCounts::snapshot`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpCount {
    pub op: Op,
    pub requests: u64,
    pub errors: u64,
}

impl Default for OpCounts {
    fn default() -> OpCounts {
        OpCounts {
            counts: Op::ALL.iter().map(|_| Count::default()).collect(),
        }
    }
}

impl OpCounts {
    /// One `op` was answered; `failed`: with an errno.
    pub fn record(&self, op: Op, failed: bool) {
        if let Some(c) = self.counts.get(op.index()) {
            c.requests.fetch_add(1, Ordering::Relaxed);
            if failed {
                c.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Every operation's numbers, in `Op::ALL` order.
    pub fn snapshot(&self) -> Vec<OpCount> {
        Op::ALL
            .iter()
            .zip(self.counts.iter())
            .map(|(&op, c)| OpCount {
                op,
                requests: c.requests.load(Ordering::Relaxed),
                errors: c.errors.load(Ordering::Relaxed),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_operation() {
        let counts = OpCounts::default();
        counts.record(Op::Read, false);
        counts.record(Op::Read, true);
        counts.record(Op::Forget, false);
        let snap = counts.snapshot();
        assert_eq!(snap.len(), Op::ALL.len());
        let read = snap[Op::Read.index()];
        assert_eq!((read.op, read.requests, read.errors), (Op::Read, 2, 1));
        assert_eq!(snap[Op::Forget.index()].requests, 1);
        assert_eq!(snap[Op::Write.index()].requests, 0);
    }
}
