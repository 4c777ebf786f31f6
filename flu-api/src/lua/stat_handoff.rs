//! A native getattr's stat (or errno) handed to the daemon as it is, when the Lua handler that
//! called it returns its result unchanged: a handler ending in `return base.getattr(path,
//! fi)` (a tail call) costs no stat table built in Lua and read back.
//!
//! Only a result that no Lua code can see is handed off: `base.getattr` was tail-called
//! (so the handler's frame is gone and its results are `base.getattr`'s), by the handler
//! that the bottom frame of the driver coroutine (`xpcall`, `pending::driver`) called,
//! in the very coroutine whose result the getattr dispatcher reads as a stat. Then the
//! native function returns a marker instead of a table and keeps the `Stat` in this
//! thread; `stat_result` takes it back. Any other call (`local st = base.getattr(p)`, a
//! wrapper that changes a field, `flu check`, a composition's own calls) gets the table.

use std::cell::Cell;
use std::ffi::{c_void, CStr};

use mlua::{ffi, LightUserData, Lua, Value};

use crate::operations::OpResult;
use crate::stat::Stat;

thread_local! {
    /// The next driver coroutine started on this thread has its result read as a stat.
    static ARMED: Cell<bool> = const { Cell::new(false) };
    /// The Lua state of the driver coroutine whose result is read as a stat (null: none).
    static EXPECTING: Cell<usize> = const { Cell::new(0) };
    /// The stat (or the errno) handed off, until `stat_result` takes it.
    static HANDED: Cell<Option<OpResult<Stat>>> = const { Cell::new(None) };
}

#[cfg(test)]
thread_local! {
    /// How many stats this thread handed off (the tests see which way a call went).
    pub(super) static HANDED_OFF: Cell<u64> = const { Cell::new(0) };
}

/// The chunk name of the native functions' shim (`ops/native.rs` names it so).
pub(super) const SHIM_CHUNK: &str = "=flu.native";

/// What the native getattr returns in place of a handed-off stat table: the address of
/// this static, which nothing else uses as a light userdata.
static MARKER: u8 = 0;

fn marker() -> *mut c_void {
    std::ptr::addr_of!(MARKER).cast_mut().cast()
}

/// Run `call` (the handler call of a getattr whose result is read with `take`) with
/// the hand-off allowed to the driver coroutine it starts.
pub(super) fn armed<R>(call: impl FnOnce() -> R) -> R {
    ARMED.set(true);
    let r = call();
    // A call without a driver coroutine (no interpreter gate) left it set.
    ARMED.set(false);
    r
}

/// While alive, the driver coroutine it was made for is the one expecting a stat (if the
/// call was `armed`); the previous expectation comes back on drop (nested calls).
pub(super) struct Expecting(Option<usize>);

impl Expecting {
    pub(super) fn begin(driver: *mut mlua::ffi::lua_State) -> Expecting {
        if !ARMED.replace(false) {
            return Expecting(None);
        }
        HANDED.set(None);
        Expecting(Some(EXPECTING.replace(driver as usize)))
    }
}

impl Drop for Expecting {
    fn drop(&mut self) {
        if let Some(previous) = self.0 {
            EXPECTING.set(previous);
        }
    }
}

/// The value a native getattr returns for its result `r`: the marker when the result
/// goes straight to the daemon (see the module documentation), else None (build the
/// table, or raise the errno, as always). An errno handed off saves raising it through
/// the shim and the message handler, to the same end: the handler failed with it.
pub(super) fn hand_off(lua: &Lua, r: &OpResult<Stat>) -> Option<Value> {
    let expecting = EXPECTING.get();
    if expecting == 0 {
        return None;
    }
    let thread = lua.current_thread();
    let state = thread.state();
    // SAFETY: `state` is the running coroutine's (this native function is running in
    // it, and `thread` keeps it alive); lua_getstack and lua_getinfo only read its call
    // stack into `ar`, and the "St" options push nothing.
    let straight = state as usize == expecting
        && unsafe {
            let mut ar: ffi::lua_Debug = std::mem::zeroed();
            // Level 0 is this native function; level 1 `base.getattr`'s shim
            // (`native.rs`), which returns the native's results unchanged, tail-called;
            // level 2 the driver's body (`xpcall`), at the bottom of the coroutine.
            ffi::lua_getstack(state, 3, &mut ar) == 0
                && ffi::lua_getstack(state, 2, &mut ar) != 0
                && ffi::lua_getstack(state, 1, &mut ar) != 0
                && ffi::lua_getinfo(state, c"St".as_ptr(), &mut ar) != 0
                && ar.istailcall != 0
                && !ar.source.is_null()
                && CStr::from_ptr(ar.source).to_bytes() == SHIM_CHUNK.as_bytes()
        };
    if !straight {
        return None;
    }
    #[cfg(test)]
    HANDED_OFF.set(HANDED_OFF.get() + 1);
    // What the table would have carried back: no cache lifetimes of its own.
    HANDED.set(Some((*r).map(|st| Stat {
        attr_timeout: None,
        entry_timeout: None,
        ..st
    })));
    Some(Value::LightUserData(LightUserData(marker())))
}

/// The stat (or errno) handed off, when `v` is the marker.
pub(super) fn take(v: &Value) -> Option<OpResult<Stat>> {
    match v {
        Value::LightUserData(LightUserData(p)) if *p == marker() => HANDED.take(),
        _ => None,
    }
}
