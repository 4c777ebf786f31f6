//! `Timespec` and `TimeSet`: times exact to the nanosecond, as stat and utimens carry them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds and nanoseconds since the epoch (seconds may be negative).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: u32,
}

impl Timespec {
    pub const fn new(sec: i64, nsec: u32) -> Timespec {
        Timespec { sec, nsec }
    }

    pub fn now() -> Timespec {
        Timespec::from_system_time(SystemTime::now())
    }

    /// From a number of seconds with a fraction (Lua numbers); rounds to the nanosecond.
    pub fn from_secs_f64(secs: f64) -> Timespec {
        let sec = secs.floor();
        let mut nsec = ((secs - sec) * 1e9).round() as i64;
        let mut sec = sec as i64;
        if nsec >= 1_000_000_000 {
            sec += 1;
            nsec -= 1_000_000_000;
        }
        Timespec::new(sec, nsec as u32)
    }

    pub fn as_secs_f64(self) -> f64 {
        self.sec as f64 + self.nsec as f64 / 1e9
    }

    pub fn from_system_time(t: SystemTime) -> Timespec {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Timespec::new(d.as_secs() as i64, d.subsec_nanos()),
            Err(e) => {
                let d = e.duration();
                let mut sec = -(d.as_secs() as i64);
                let mut nsec = d.subsec_nanos();
                if nsec > 0 {
                    sec -= 1;
                    nsec = 1_000_000_000 - nsec;
                }
                Timespec::new(sec, nsec)
            }
        }
    }

    pub fn to_system_time(self) -> SystemTime {
        if self.sec >= 0 {
            UNIX_EPOCH + Duration::new(self.sec as u64, self.nsec)
        } else {
            UNIX_EPOCH - Duration::from_secs(self.sec.unsigned_abs())
                + Duration::from_nanos(self.nsec as u64)
        }
    }

    pub fn to_libc(self) -> libc::timespec {
        libc::timespec {
            tv_sec: self.sec as libc::time_t,
            tv_nsec: self.nsec as libc::c_long,
        }
    }
}

/// One time argument of utimens: leave it, set it to now, or set it to a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeSet {
    Omit,
    Now,
    At(Timespec),
}

impl TimeSet {
    /// As `utimensat` takes it (`UTIME_OMIT`, `UTIME_NOW` or the value).
    pub fn to_libc(self) -> libc::timespec {
        match self {
            TimeSet::Omit => libc::timespec {
                tv_sec: 0,
                tv_nsec: libc::UTIME_OMIT,
            },
            TimeSet::Now => libc::timespec {
                tv_sec: 0,
                tv_nsec: libc::UTIME_NOW,
            },
            TimeSet::At(t) => t.to_libc(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_round_to_nanoseconds() {
        assert_eq!(Timespec::from_secs_f64(1.5), Timespec::new(1, 500_000_000));
        assert_eq!(
            Timespec::from_secs_f64(-0.25),
            Timespec::new(-1, 750_000_000)
        );
        assert_eq!(Timespec::new(3, 250_000_000).as_secs_f64(), 3.25);
    }

    #[test]
    fn system_time_round_trip() {
        for t in [
            Timespec::new(0, 0),
            Timespec::new(1_700_000_000, 123_456_789),
            Timespec::new(-5, 1),
        ] {
            assert_eq!(Timespec::from_system_time(t.to_system_time()), t);
        }
    }
}
