//! `Interpreter`: a script's Lua state and the one way into it. Handler calls, timer
//! callbacks and reloads all run Lua through `run`: under the lock that serializes
//! them, with the watchdog armed and the memory limit checked after the call.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use mlua::Lua;

use super::call::HandlerError;
use super::memory::MemoryLimit;
use super::watchdog::Watchdog;

/// See the module documentation.
pub struct Interpreter {
    lua: Lua,
    lock: LuaLock,
    watchdog: Watchdog,
    memory: MemoryLimit,
    /// The Lua state's memory after the last call, read without the Lua lock (a stuck
    /// handler holds it): see `memory_used`.
    memory_in_use: AtomicU64,
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
        Ok(Interpreter {
            lua,
            lock: LuaLock::default(),
            watchdog,
            memory,
            memory_in_use,
        })
    }

    /// Run `body` with the Lua lock held and the watchdog armed; a call that went past
    /// the memory limit answers `OutOfMemory`. None: the lock was not had (the request
    /// was interrupted while waiting, or `wait` ran out).
    pub fn run<R>(
        &self,
        wait: Wait,
        body: impl FnOnce(&Lua) -> Result<R, HandlerError>,
    ) -> Option<Result<R, HandlerError>> {
        let _serialized = self.lock.acquire(wait)?;
        let before = self.lua.used_memory();
        self.watchdog.arm();
        let mut result = body(&self.lua);
        self.watchdog.disarm();
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
        self.watchdog.fired()
    }
}

/// The lock that serializes Lua calls. Unlike a plain mutex, a request waiting for it
/// gives up when the kernel interrupts that request (its caller was signalled).
#[derive(Default)]
struct LuaLock {
    busy: Mutex<bool>,
    freed: Condvar,
}

struct LuaGuard<'a>(&'a LuaLock);

impl LuaLock {
    fn acquire(&self, wait: Wait) -> Option<LuaGuard<'_>> {
        let deadline = match wait {
            Wait::UntilFree => None,
            Wait::AtMost(d) => Some(Instant::now() + d),
        };
        let mut busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        while *busy {
            if crate::interrupt::interrupted() || deadline.is_some_and(|d| Instant::now() >= d) {
                return None;
            }
            busy = self
                .freed
                .wait_timeout(busy, Duration::from_millis(20))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        *busy = true;
        Some(LuaGuard(self))
    }
}

impl Drop for LuaGuard<'_> {
    fn drop(&mut self) {
        *self.0.busy.lock().unwrap_or_else(|p| p.into_inner()) = false;
        self.0.freed.notify_one();
    }
}
