//! The Lua memory limit (`--lua-memory-limit`) at a cost only near it.
//!
//! mlua enforces a limit in its allocator, precisely (an allocation past it fails, Lua
//! raises "not enough memory"), but while any limit is set it also runs every Rust→Lua
//! API call in protected mode: measured, a Lua handler calling a native function took
//! 2.75× as long (8.5 → 23.5 µs per getattr). So the allocator limit is armed only while
//! the state uses more than half the limit, and elsewhere the limit is checked where it
//! costs nothing: every million instructions (the watchdog hook), before `string.rep`
//! (the one way to ask for gigabytes in one call), and after each handler call, when a
//! call that allocated past the limit answers ENOMEM.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use mlua::{Function, Lua, Table, Value};

/// In the message of every error the limit raises: how the handler-error
/// classification tells it from a script's bug.
pub const OVER_LIMIT: &str = "not enough memory (--lua-memory-limit)";

/// The limit of one Lua state, shared by its script and filesystem (Lua app data).
#[derive(Clone, Debug, Default)]
pub struct MemoryLimit(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    /// Bytes; 0: no limit.
    limit: AtomicUsize,
    /// Whether mlua's allocator limit is set.
    armed: AtomicBool,
}

impl MemoryLimit {
    /// The limit of `lua`'s state (made on first use).
    pub fn of(lua: &Lua) -> MemoryLimit {
        if let Some(m) = lua.app_data_ref::<MemoryLimit>() {
            return m.clone();
        }
        let m = MemoryLimit::default();
        lua.set_app_data(m.clone());
        m
    }

    pub fn limit(&self) -> Option<usize> {
        match self.0.limit.load(Ordering::Relaxed) {
            0 => None,
            n => Some(n),
        }
    }

    /// Set the limit, enforced precisely at once (the script's main chunk runs armed;
    /// `relax` then hands over to the cheap checks).
    pub fn set(&self, lua: &Lua, limit: Option<usize>) -> mlua::Result<()> {
        self.0.limit.store(limit.unwrap_or(0), Ordering::Relaxed);
        self.arm(lua, limit.is_some())
    }

    fn arm(&self, lua: &Lua, on: bool) -> mlua::Result<()> {
        if self.0.armed.swap(on, Ordering::Relaxed) != on {
            // mlua takes 0 as "no limit".
            let limit = if on {
                self.0.limit.load(Ordering::Relaxed)
            } else {
                0
            };
            lua.set_memory_limit(limit)?;
        }
        Ok(())
    }

    /// Arm the allocator limit above half the limit, disarm it below a quarter.
    pub fn relax(&self, lua: &Lua) {
        let Some(limit) = self.limit() else { return };
        let used = lua.used_memory();
        let result = if used > limit / 2 {
            self.arm(lua, true)
        } else if used < limit / 4 {
            self.arm(lua, false)
        } else {
            Ok(())
        };
        if let Err(e) = result {
            tracing::debug!("cannot change the Lua memory limit: {e}");
        }
    }

    /// For the watchdog hook: an error once the state is past the limit.
    pub fn check(&self, lua: &Lua) -> mlua::Result<()> {
        match self.limit() {
            Some(limit) if lua.used_memory() > limit => Err(mlua::Error::runtime(OVER_LIMIT)),
            _ => Ok(()),
        }
    }

    /// Check the size `string.rep` is asked for before it allocates it.
    pub fn guard_string_rep(&self, lua: &Lua) -> mlua::Result<()> {
        let string: Table = lua.globals().get("string")?;
        let rep: Function = string.get("rep")?;
        let limit = self.clone();
        let guarded = lua.create_function(move |lua, args: mlua::MultiValue| {
            if let Some(max) = limit.limit() {
                let len = |v: Option<&Value>| match v {
                    Some(Value::String(s)) => s.as_bytes().len() as u128,
                    _ => 0,
                };
                let n = match args.get(1) {
                    Some(Value::Integer(n)) => (*n).max(0) as u128,
                    Some(Value::Number(n)) if *n > 0.0 => *n as u128,
                    _ => 0,
                };
                let size = len(args.front()) * n + len(args.get(2)) * n.saturating_sub(1);
                if size + lua.used_memory() as u128 > max as u128 {
                    return Err(mlua::Error::runtime(OVER_LIMIT));
                }
            }
            rep.call::<mlua::MultiValue>(args)
        })?;
        string.set("rep", guarded)
    }

    /// After a handler call that started with `before` bytes in use: whether the call
    /// went past the limit (its own allocations, not garbage older calls left, which is
    /// collected first). Re-arms for the next call.
    pub fn exceeded_by_call(&self, lua: &Lua, before: usize) -> bool {
        let Some(limit) = self.limit() else {
            return false;
        };
        let after = lua.used_memory();
        let exceeded = if after <= limit {
            false
        } else {
            // Past the limit: live data, or garbage? Collect and look again.
            let _ = lua.gc_collect();
            let live = lua.used_memory();
            live > limit || after.saturating_sub(before) > limit.saturating_sub(before.min(live))
        };
        self.relax(lua);
        exceeded
    }
}
