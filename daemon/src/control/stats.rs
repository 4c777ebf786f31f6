//! The `stats` reply: who the mount is (pid, mountpoint, script, uptime) and how it is
//! doing now (nodes, open handles, requests in flight, threads, Lua memory, handler
//! timeouts, handlers waiting for slow work, which handlers it serves, and per
//! operation: requests, errors by errno, latency percentiles). Everything is read
//! without waiting on the filesystem: the counts are atomics or short table locks,
//! never the Lua lock.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::json::Object;
use super::protocol::ok_reply;
use crate::kernel::FuseAdapter;
use crate::session::Activity;
use flu_api::{Op, ServedBy};

/// What the stats of one mount are read from.
pub struct StatsSource {
    pub mountpoint: PathBuf,
    pub script: PathBuf,
    pub started: Instant,
    pub adapter: Arc<FuseAdapter>,
    pub activity: Arc<Activity>,
}

impl StatsSource {
    /// The reply to `stats`.
    pub fn reply(&self) -> String {
        let core = self.adapter.core();
        let (open_files, open_dirs) = core.open_handles();
        let mut ops = Object::new();
        for c in core.op_counts() {
            let mut errnos = Object::new();
            for (errno, n) in &c.errnos {
                let name = match errno {
                    Some(e) => e
                        .name()
                        .map_or_else(|| e.code().to_string(), str::to_string),
                    None => "other".to_string(),
                };
                errnos = errnos.number(&name, *n);
            }
            let l = c.latency;
            ops = ops.object(
                c.op.name(),
                Object::new()
                    .number("requests", c.requests)
                    .number("errors", c.errors)
                    .object("errnos", errnos)
                    .object(
                        "latency_us",
                        Object::new()
                            .number("mean", l.mean_us)
                            .number("p50", l.p50_us)
                            .number("p99", l.p99_us)
                            .number("max", l.max_us),
                    ),
            );
        }
        ok_reply()
            .number("pid", u64::from(std::process::id()))
            // Paths that are not UTF-8 are shown with U+FFFD: JSON strings are Unicode.
            .string("mountpoint", &self.mountpoint.to_string_lossy())
            .string("script", &self.script.to_string_lossy())
            .number("uptime_s", self.started.elapsed().as_secs())
            .number("nodes", core.nodes().len() as u64)
            .number("open_files", open_files as u64)
            .number("open_dirs", open_dirs as u64)
            .number("requests_in_flight", self.activity.in_flight() as u64)
            .number("serving_threads", self.activity.threads() as u64)
            .number("ring_threads", self.activity.ring_threads() as u64)
            .number("ring_requests", self.activity.ring_requests())
            .maybe_number("lua_memory_bytes", core.ops().memory_used())
            .maybe_number("handler_timeouts", core.ops().handler_timeouts())
            .maybe_number("pending_handlers", core.ops().pending_calls())
            .object("ops", ops)
            .strings("handlers", &served_handlers(core.ops().as_ref()))
            .finish()
    }
}

/// The handler names the mount serves, by a Lua function or natively, in table order
/// (a handler inherited through `__index` counts: routing read it through the table).
fn served_handlers(ops: &dyn flu_api::Operations) -> Vec<String> {
    Op::HANDLERS
        .iter()
        .filter(|op| matches!(ops.served_by(**op), ServedBy::Lua | ServedBy::Native))
        .map(|op| op.name().to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use flu_api::{AttrOps, DirOps, FileOps, Lifecycle, LockOps, NameOps, XattrOps};

    /// A backend that serves getattr in Lua and read natively, nothing else.
    struct Two;
    impl Lifecycle for Two {
        fn served_by(&self, op: Op) -> ServedBy {
            match op {
                Op::Getattr => ServedBy::Lua,
                Op::Read => ServedBy::Native,
                Op::Setattr => ServedBy::Daemon,
                _ => ServedBy::Default,
            }
        }
    }
    impl AttrOps for Two {}
    impl NameOps for Two {}
    impl FileOps for Two {}
    impl DirOps for Two {}
    impl XattrOps for Two {}
    impl LockOps for Two {}

    #[test]
    fn served_handlers_are_lua_and_native_routes() {
        assert_eq!(served_handlers(&Two), ["getattr", "read"]);
        assert!(served_handlers(&flu_api::Unimplemented).is_empty());
    }
}
