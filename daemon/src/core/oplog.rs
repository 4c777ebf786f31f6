//! How operations are logged: a failed operation once at debug level (op, arguments,
//! errno); with `-d` every operation at info level with its arguments, result and latency.
//! Results are summarized (a read logs its length, not its bytes).

use std::ffi::OsString;
use std::fmt::Write as _;
use std::time::Instant;

use flu_api::{Errno, FileLock, OpResult, Stat, StatFs};

/// A short, log-friendly description of an operation's result.
pub trait LogValue {
    fn log_value(&self) -> String;
}

impl LogValue for () {
    fn log_value(&self) -> String {
        "ok".into()
    }
}

impl LogValue for u32 {
    fn log_value(&self) -> String {
        self.to_string()
    }
}

impl LogValue for u64 {
    fn log_value(&self) -> String {
        self.to_string()
    }
}

impl LogValue for i64 {
    fn log_value(&self) -> String {
        self.to_string()
    }
}

impl LogValue for Vec<u8> {
    fn log_value(&self) -> String {
        format!("{} bytes", self.len())
    }
}

impl LogValue for Vec<OsString> {
    fn log_value(&self) -> String {
        format!("{:?}", self)
    }
}

impl LogValue for Stat {
    fn log_value(&self) -> String {
        let mut s = String::new();
        let _ = write!(
            s,
            "{{mode={:o} size={} nlink={} uid={} gid={} ino={}}}",
            self.mode, self.size, self.nlink, self.uid, self.gid, self.ino
        );
        s
    }
}

impl LogValue for StatFs {
    fn log_value(&self) -> String {
        format!("{self:?}")
    }
}

impl LogValue for FileLock {
    fn log_value(&self) -> String {
        format!("{self:?}")
    }
}

/// `None`: the implementation does not offer the operation (the caller falls back).
impl<T: LogValue> LogValue for Option<T> {
    fn log_value(&self) -> String {
        match self {
            Some(v) => v.log_value(),
            None => "unsupported".into(),
        }
    }
}

impl<A: LogValue, B: LogValue> LogValue for (A, B) {
    fn log_value(&self) -> String {
        format!("{} {}", self.0.log_value(), self.1.log_value())
    }
}

/// Run one operation `f` and log it as the module documentation says. `args` is only
/// formatted when something is logged.
/// A panic inside `f` is logged and answered EIO.
/// With `-d`, each line also names who served the operation (`via lua`, `via native`,
/// `via default` for a missing handler).
pub fn traced<T: LogValue>(
    debug: bool,
    op: &'static str,
    served_by: impl FnOnce() -> &'static str,
    args: impl FnOnce() -> String,
    f: impl FnOnce() -> OpResult<T>,
) -> OpResult<T> {
    let start = debug.then(Instant::now);
    // A panic in an implementation must cost one request, not a serving thread.
    let res = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(res) => res,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!("internal error in {op}({}): {msg}; answered EIO", args());
            return Err(Errno::EIO);
        }
    };
    match (start, &res) {
        (Some(start), Ok(v)) => tracing::info!(
            "{op}({}) -> {} in {:?} via {}",
            args(),
            v.log_value(),
            start.elapsed(),
            served_by()
        ),
        (Some(start), Err(e)) => tracing::info!(
            "{op}({}) -> error {} in {:?} via {}",
            args(),
            errno_text(*e),
            start.elapsed(),
            served_by()
        ),
        (None, Err(e)) => tracing::debug!("{op}({}) failed: {}", args(), errno_text(*e)),
        (None, Ok(_)) => {}
    }
    res
}

fn errno_text(e: Errno) -> String {
    format!("{e:?} ({e})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_operation_answers_eio() {
        let res: OpResult<()> = traced(
            false,
            "read",
            || "native",
            || "\"/x\"".into(),
            || panic!("boom"),
        );
        assert_eq!(res, Err(Errno::EIO));
        let ok: OpResult<u32> = traced(true, "write", || "lua", String::new, || Ok(3));
        assert_eq!(ok, Ok(3));
    }
}
