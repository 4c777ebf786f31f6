//! `Interpreter`: a script's Lua state and the one way into it. Handler calls, timer
//! callbacks and reloads all run Lua through `run`: under the lock that serializes
//! them, with the watchdog armed and the memory limit checked after the call.
//!
//! A handler that waits for slow work (`flu.sleep`, `flu.exec`, …: `super::pending`)
//! gives the lock up while it waits, through the `Gate` the Lua state carries as app
//! data: `Gate::suspend` disarms the watchdog, lets other calls in, and takes the lock
//! back before the handler resumes. `--max-pending` bounds how many calls are in at once
//! (running, waiting for the lock, or waiting for their work).

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use mlua::Lua;

use super::call::HandlerError;
use super::memory::MemoryLimit;
use super::watchdog::Watchdog;

/// See the module documentation.
pub struct Interpreter {
    lua: Lua,
    gate: Arc<Gate>,
    memory: MemoryLimit,
    /// The Lua state's memory after the last call, read without the Lua lock (a stuck
    /// handler holds it): see `memory_used`.
    memory_in_use: AtomicU64,
}

thread_local! {
    /// Whether this thread runs Lua under the lock now (in `run`).
    static HOLDING: Cell<bool> = const { Cell::new(false) };
}

/// While alive, this thread holds the Lua lock in `run`.
struct Holding;

impl Holding {
    fn enter() -> Holding {
        HOLDING.with(|h| h.set(true));
        Holding
    }
}

impl Drop for Holding {
    fn drop(&mut self) {
        HOLDING.with(|h| h.set(false));
    }
}

/// How long `run` waits for the Lua lock.
#[derive(Clone, Copy, Debug)]
pub enum Wait {
    /// Until it is free, or the request being served is interrupted.
    UntilFree,
    /// At most this long (a reload must not hang on a stuck handler).
    AtMost(Duration),
}

impl Interpreter {
    /// Take over `lua`: install the watchdog (`handler_timeout`: how long one call may
    /// run Lua code; None: forever).
    pub fn new(lua: Lua, handler_timeout: Option<Duration>) -> mlua::Result<Interpreter> {
        let memory = MemoryLimit::of(&lua);
        let watchdog = Watchdog::install(&lua, handler_timeout, memory.clone())?;
        // From here on the limit costs nothing until the state nears it.
        memory.relax(&lua);
        let memory_in_use = AtomicU64::new(lua.used_memory() as u64);
        let gate = Arc::new(Gate {
            lock: LuaLock::default(),
            watchdog,
            calls: Mutex::new(Calls::default()),
            call_ended: Condvar::new(),
            max_pending: AtomicUsize::new(DEFAULT_MAX_PENDING),
            trace: AtomicBool::new(false),
            closing: AtomicBool::new(false),
        });
        lua.set_app_data(gate.clone());
        Ok(Interpreter {
            lua,
            gate,
            memory,
            memory_in_use,
        })
    }

    /// The gate handlers go through (pending counts, limits).
    pub fn gate(&self) -> &Arc<Gate> {
        &self.gate
    }

    /// Run `body` with the Lua lock held and the watchdog armed; a call that went past
    /// the memory limit answers `OutOfMemory`. None: the lock was not had (the request
    /// was interrupted while waiting, or `wait` ran out).
    pub fn run<R>(
        &self,
        wait: Wait,
        body: impl FnOnce(&Lua) -> Result<R, HandlerError>,
    ) -> Option<Result<R, HandlerError>> {
        if HOLDING.with(Cell::get) {
            // Lua calling Rust calling Lua (a composition's Lua branch reached through
            // `base.*`): the lock, the watchdog and the memory check are the outer
            // call's.
            return Some(body(&self.lua));
        }
        let _admitted = match wait {
            Wait::UntilFree => Some(self.gate.admit()?),
            Wait::AtMost(_) => None,
        };
        let _serialized = self.gate.lock.acquire(wait)?;
        let before = self.lua.used_memory();
        self.gate.watchdog.arm();
        let holding = Holding::enter();
        let mut result = body(&self.lua);
        drop(holding);
        self.gate.watchdog.disarm();
        if self.memory.exceeded_by_call(&self.lua, before) {
            result = Err(HandlerError::OutOfMemory);
        }
        // Still under the Lua lock: the state is quiet, so this reads it without waiting.
        self.memory_in_use
            .store(self.lua.used_memory() as u64, Ordering::Relaxed);
        Some(result)
    }

    /// The bytes the Lua state used after the last call (or at mount): never waits,
    /// even while a handler runs.
    pub fn memory_used(&self) -> u64 {
        self.memory_in_use.load(Ordering::Relaxed)
    }

    /// How many calls the watchdog interrupted for running too long.
    pub fn handler_timeouts(&self) -> u64 {
        self.gate.watchdog.fired()
    }
}

/// How many calls may be in the interpreter at once (running, waiting for the lock or
/// for slow work), by default (`--max-pending`).
pub const DEFAULT_MAX_PENDING: usize = 256;

/// Calls in the interpreter: admitted (holding the lock, waiting for it, or waiting for
/// work), and of those, waiting for work outside the lock (`flu stats`).
#[derive(Default)]
struct Calls {
    admitted: usize,
    pending: usize,
    /// Calls waiting to be admitted (none: nobody to wake when one ends).
    waiting: usize,
}

/// An admitted call; dropping it lets the next one in.
struct Admitted<'a>(&'a Gate);

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        let mut calls = self.0.calls.lock().unwrap_or_else(|p| p.into_inner());
        calls.admitted = calls.admitted.saturating_sub(1);
        if calls.waiting > 0 {
            self.0.call_ended.notify_one();
        }
    }
}

/// The Lua lock and what comes with holding it: see the module documentation.
pub struct Gate {
    lock: LuaLock,
    watchdog: Watchdog,
    calls: Mutex<Calls>,
    call_ended: Condvar,
    max_pending: AtomicUsize,
    /// Log every suspension and resumption at info level (`-d`), not debug.
    trace: AtomicBool,
    /// The filesystem is going away: waits give up.
    closing: AtomicBool,
}

impl Gate {
    /// The gate of `lua`'s interpreter, if it has one (not before mounting).
    pub fn of(lua: &Lua) -> Option<Arc<Gate>> {
        lua.app_data_ref::<Arc<Gate>>().map(|g| g.clone())
    }

    /// Run `wait` (work outside Lua) with the Lua lock given up: other calls run
    /// meanwhile. The caller holds the lock (it is inside `Interpreter::run`) and holds
    /// it again when this returns; the watchdog's budget for the call is kept.
    pub fn suspend<R>(&self, what: &str, wait: impl FnOnce() -> R) -> R {
        let left = self.watchdog.remaining();
        self.watchdog.disarm();
        self.set_pending(1);
        self.log(format_args!("{what}: waiting, the Lua lock released"));
        let started = Instant::now();
        self.lock.release();
        let result = wait();
        // Not interruptible: the caller's frames are on this thread's stack and must
        // end under the lock; other holders are bounded by the watchdog.
        self.lock.take();
        self.set_pending(-1);
        self.log(format_args!(
            "{what}: resumed after {:?}",
            started.elapsed()
        ));
        self.watchdog.arm_for(left);
        result
    }

    fn log(&self, what: std::fmt::Arguments) {
        if self.trace.load(Ordering::Relaxed) {
            tracing::info!("{what}");
        } else {
            tracing::debug!("{what}");
        }
    }

    fn set_pending(&self, delta: isize) {
        let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        calls.pending = calls.pending.saturating_add_signed(delta);
    }

    /// Let one more call in: wait (interruptibly) while `--max-pending` calls are in
    /// already, so that no more than that many can be waiting for work at once. None:
    /// the request was interrupted meanwhile.
    fn admit(&self) -> Option<Admitted<'_>> {
        let max = self.max_pending.load(Ordering::Relaxed).max(1);
        let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        while calls.admitted >= max {
            if crate::interrupt::interrupted() {
                return None;
            }
            calls.waiting += 1;
            calls = self
                .call_ended
                .wait_timeout(calls, Duration::from_millis(20))
                .unwrap_or_else(|p| p.into_inner())
                .0;
            calls.waiting -= 1;
        }
        calls.admitted += 1;
        Some(Admitted(self))
    }

    /// How many calls wait for work outside the lock now.
    pub fn pending(&self) -> usize {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).pending
    }

    pub fn set_max_pending(&self, n: usize) {
        self.max_pending.store(n.max(1), Ordering::Relaxed);
    }

    pub fn set_trace(&self, on: bool) {
        self.trace.store(on, Ordering::Relaxed);
    }

    /// From now on, waits give up (the filesystem is unmounting).
    pub fn close(&self) {
        self.closing.store(true, Ordering::SeqCst);
    }

    pub fn closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }
}

/// The lock that serializes Lua calls. Unlike a plain mutex, a request waiting for it
/// gives up when the kernel interrupts that request (its caller was signalled).
#[derive(Default)]
struct LuaLock {
    state: Mutex<LockState>,
    freed: Condvar,
}

/// Whether the lock is held, and how many wait for it (no one to wake: no wake-up, a
/// system call saved on every handler call).
#[derive(Default)]
struct LockState {
    busy: bool,
    waiting: usize,
}

struct LuaGuard<'a>(&'a LuaLock);

impl LuaLock {
    fn acquire(&self, wait: Wait) -> Option<LuaGuard<'_>> {
        let deadline = match wait {
            Wait::UntilFree => None,
            Wait::AtMost(d) => Some(Instant::now() + d),
        };
        let given_up =
            || crate::interrupt::interrupted() || deadline.is_some_and(|d| Instant::now() >= d);
        self.wait_free(given_up).then_some(LuaGuard(self))
    }

    /// Wait until the lock is free and take it; false: `give_up` said so first.
    fn wait_free(&self, give_up: impl Fn() -> bool) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while state.busy {
            if give_up() {
                return false;
            }
            state.waiting += 1;
            state = self
                .freed
                .wait_timeout(state, Duration::from_millis(20))
                .unwrap_or_else(|p| p.into_inner())
                .0;
            state.waiting -= 1;
        }
        state.busy = true;
        true
    }

    /// Give the lock up for a while (`Gate::suspend`); the guard of whoever holds it
    /// stays alive and `take` must follow.
    fn release(&self) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.busy = false;
        if state.waiting > 0 {
            self.freed.notify_one();
        }
    }

    /// Take the lock back after `release`, however long that waits: the caller's
    /// frames are on this thread's stack and must end under the lock.
    fn take(&self) {
        self.wait_free(|| false);
    }
}

impl Drop for LuaGuard<'_> {
    fn drop(&mut self) {
        self.0.release();
    }
}
