//! The handler watchdog: a handler that runs Lua code past its time limit (an endless
//! loop, say) is interrupted with an error, so the caller gets EIO and the daemon —
//! whose Lua lock the handler holds — keeps serving.
//!
//! A Lua hook runs every million instructions and compares the clock with the deadline
//! of the current call; a handler waiting in a system call runs no instructions and is
//! not interrupted by it. The same hook stops a handler whose request the kernel
//! interrupted (`crate::interrupt`); `flu.sleep` checks for that itself.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mlua::{HookTriggers, Lua, VmState};

/// Deadlines are kept as milliseconds since the watchdog started; 0 means none.
pub struct Watchdog {
    start: Instant,
    deadline_ms: Arc<AtomicU64>,
    limit: Option<Duration>,
    /// How many times a handler was interrupted for running too long (`flu stats`).
    fired: Arc<AtomicU64>,
}

impl Watchdog {
    /// Install the hook on `lua`; `limit` None disables the watchdog.
    pub fn install(
        lua: &Lua,
        limit: Option<Duration>,
        memory: super::memory::MemoryLimit,
    ) -> mlua::Result<Watchdog> {
        let start = Instant::now();
        let deadline_ms = Arc::new(AtomicU64::new(0));
        let deadline = deadline_ms.clone();
        let fired = Arc::new(AtomicU64::new(0));
        let fired_in_hook = fired.clone();
        let triggers = HookTriggers {
            every_nth_instruction: Some(1_000_000),
            ..HookTriggers::default()
        };
        lua.set_global_hook(triggers, move |lua, _| {
            if crate::interrupt::interrupted() {
                return Err(mlua::Error::runtime("the request was interrupted"));
            }
            memory.check(lua)?;
            memory.relax(lua);
            let d = deadline.load(Ordering::Relaxed);
            if let Some(limit) = limit {
                if d != 0 && start.elapsed().as_millis() as u64 > d {
                    fired_in_hook.fetch_add(1, Ordering::Relaxed);
                    return Err(mlua::Error::runtime(format!(
                        "handler interrupted after running for more than {} s (an endless loop?)",
                        limit.as_secs_f64()
                    )));
                }
            }
            Ok(VmState::Continue)
        })?;
        Ok(Watchdog {
            start,
            deadline_ms,
            limit,
            fired,
        })
    }

    /// A handler call starts now.
    pub fn arm(&self) {
        if let Some(limit) = self.limit {
            let d = (self.start.elapsed() + limit).as_millis() as u64;
            self.deadline_ms.store(d.max(1), Ordering::Relaxed);
        }
    }

    /// How many handler calls were interrupted for running past the limit.
    pub fn fired(&self) -> u64 {
        self.fired.load(Ordering::Relaxed)
    }

    /// The time the current call has left (None: no limit, or not armed).
    pub fn remaining(&self) -> Option<Duration> {
        let d = self.deadline_ms.load(Ordering::Relaxed);
        (self.limit.is_some() && d != 0)
            .then(|| Duration::from_millis(d).saturating_sub(self.start.elapsed()))
    }

    /// Arm for a call that has `left` of its budget (`remaining` before it waited);
    /// None: a fresh budget.
    pub fn arm_for(&self, left: Option<Duration>) {
        match left {
            Some(left) => {
                let d = (self.start.elapsed() + left).as_millis() as u64;
                self.deadline_ms.store(d.max(1), Ordering::Relaxed);
            }
            None => self.arm(),
        }
    }

    /// The call is over.
    pub fn disarm(&self) {
        self.deadline_ms.store(0, Ordering::Relaxed);
    }
}
