//! Latency histograms for `flu stats`: how long operations took, kept as counts in
//! log-linear buckets of microseconds (HDR-histogram style: exact below 8 µs, then
//! eight buckets per power of two, so a percentile read from it is at most 12.5 % too
//! high). Recording is a few relaxed atomic adds; there is no lock and no allocation.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Buckets per power of two (and the values below `SUB` that are kept exactly).
const SUB: u64 = 8;
const SUB_BITS: u32 = SUB.trailing_zeros();
/// Longer times share the last bucket (percentiles above 71 minutes read as that).
const CLAMP_US: u64 = (1 << 32) - 1;
const BUCKETS: usize = (SUB + (32 - SUB_BITS as u64) * SUB) as usize;

/// See the module documentation.
pub struct Histogram {
    buckets: Box<[AtomicU64]>,
    total_us: AtomicU64,
    max_us: AtomicU64,
}

/// What a histogram says, in microseconds. Percentiles are the upper bound of the
/// bucket the percentile falls in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LatencySummary {
    pub count: u64,
    pub mean_us: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            total_us: AtomicU64::new(0),
            max_us: AtomicU64::new(0),
        }
    }
}

/// The bucket of `us` microseconds.
fn bucket_of(us: u64) -> usize {
    let us = us.min(CLAMP_US);
    if us < SUB {
        return us as usize;
    }
    let exponent = 63 - us.leading_zeros(); // >= SUB_BITS
    let shift = exponent - SUB_BITS;
    let sub = (us >> shift) - SUB; // 0..SUB
    (SUB + u64::from(shift) * SUB + sub) as usize
}

/// The largest value that falls in bucket `index`.
fn upper_bound(index: usize) -> u64 {
    let index = index as u64;
    if index < SUB {
        return index;
    }
    let shift = (index - SUB) / SUB;
    let sub = (index - SUB) % SUB;
    // The bucket holds [(SUB + sub) << shift, (SUB + sub + 1) << shift).
    ((SUB + sub + 1) << shift).saturating_sub(1)
}

impl Histogram {
    /// One operation took `elapsed`.
    pub fn record(&self, elapsed: Duration) {
        let us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        if let Some(b) = self.buckets.get(bucket_of(us)) {
            b.fetch_add(1, Ordering::Relaxed);
        }
        self.total_us.fetch_add(us, Ordering::Relaxed);
        self.max_us.fetch_max(us, Ordering::Relaxed);
    }

    /// The numbers so far.
    pub fn summary(&self) -> LatencySummary {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let count: u64 = counts.iter().sum();
        if count == 0 {
            return LatencySummary::default();
        }
        let max_us = self.max_us.load(Ordering::Relaxed);
        // The bucket where the running count first reaches `rank` (1-based).
        let percentile = |p: u64| {
            let rank = (count * p).div_ceil(100).max(1);
            let mut seen = 0;
            for (i, c) in counts.iter().enumerate() {
                seen += c;
                if seen >= rank {
                    return upper_bound(i).min(max_us);
                }
            }
            max_us
        };
        LatencySummary {
            count,
            mean_us: self.total_us.load(Ordering::Relaxed) / count,
            p50_us: percentile(50),
            p99_us: percentile(99),
            max_us,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_values_in_order() {
        let mut last = 0;
        assert_eq!(bucket_of(CLAMP_US), BUCKETS - 1);
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
        for us in (0..5000).chain([CLAMP_US / 3, CLAMP_US - 1, CLAMP_US]) {
            let b = bucket_of(us);
            assert!(b < BUCKETS, "{us} -> {b}");
            assert!(b >= last, "buckets go down at {us}");
            last = b;
            assert!(upper_bound(b) >= us, "{us} above its bucket's bound");
            // At most 12.5 % too high.
            assert!(
                upper_bound(b) - us <= us / SUB,
                "{us}: bound {}",
                upper_bound(b)
            );
        }
    }

    #[test]
    fn percentiles_of_a_known_spread() {
        let h = Histogram::default();
        assert_eq!(h.summary(), LatencySummary::default());
        for _ in 0..98 {
            h.record(Duration::from_micros(10));
        }
        h.record(Duration::from_micros(1000));
        h.record(Duration::from_micros(5000));
        let s = h.summary();
        assert_eq!(s.count, 100);
        assert_eq!(s.p50_us, 10);
        // The 99th value is the 1000 µs one: its bucket's bound, within 12.5 %.
        assert!((1000..=1125).contains(&s.p99_us), "{s:?}");
        assert_eq!(s.max_us, 5000);
        assert_eq!(s.mean_us, (98 * 10 + 1000 + 5000) / 100);
    }

    #[test]
    fn percentile_never_exceeds_the_maximum() {
        let h = Histogram::default();
        h.record(Duration::from_micros(9));
        let s = h.summary();
        assert_eq!((s.p50_us, s.p99_us, s.max_us), (9, 9, 9));
    }
}
