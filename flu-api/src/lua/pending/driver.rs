//! The driver: a handler call run as a coroutine whose yields of `Work` are served
//! outside the Lua lock (see the module documentation of `pending`).
//!
//! The coroutine's body is `xpcall` itself, resumed with `(f, message handler, args…)`:
//! errors are handled exactly as in a plain protected call, and Lua 5.4 lets a
//! coroutine yield across `xpcall`. Finished coroutines are kept (a few) and reset for
//! the next call, so a handler that never yields costs one `resume` more than a plain
//! call, not a new coroutine.

use std::sync::{Arc, Mutex};

use mlua::thread::ThreadStatus;
use mlua::{IntoLuaMulti, Lua, MultiValue, Table, Thread};

use super::{yielded_work, Work, KEY_DRIVERS};
use crate::errno::Errno;
use crate::lua::call::{xpcall, xpcall_args, xpcall_results, HandlerError};
use crate::lua::interpreter::Gate;

/// How many finished driver coroutines are kept for reuse.
const POOL: usize = 16;

/// Finished drivers, ready to be reset (app data of the Lua state).
#[derive(Default)]
struct Pool(Mutex<Vec<Thread>>);

/// Run `f(args…)` in a driver coroutine (see the module documentation).
pub fn call_yielding(
    lua: &Lua,
    gate: &Arc<Gate>,
    f: &mlua::Function,
    args: impl IntoLuaMulti,
) -> Result<MultiValue, HandlerError> {
    let thread = driver(lua)?;
    let _expecting = crate::lua::stat_handoff::Expecting::begin(thread.state());
    let mut output: MultiValue = thread.resume(xpcall_args(lua, f, args)?)?;
    loop {
        match thread.status() {
            ThreadStatus::Finished => {
                recycle(lua, thread);
                return xpcall_results(output);
            }
            ThreadStatus::Resumable => {}
            // xpcall catches every error but running out of memory in the message
            // handler itself.
            ThreadStatus::Error | ThreadStatus::Running | ThreadStatus::Normal => {
                return Err(HandlerError::OutOfMemory);
            }
        }
        let Some(work) = yielded_work(lua, &output) else {
            // The script called coroutine.yield outside a coroutine of its own.
            return Err(HandlerError::Script {
                message: "the handler yielded (coroutine.yield outside a coroutine of the script's own); only flu.sleep, flu.exec and flu.http wait for the handler".into(),
                traceback: String::new(),
            });
        };
        let Some(job) = work.borrow::<Work>().ok().and_then(|w| w.take()) else {
            output = thread.resume(())?;
            continue;
        };
        let context = super::super::caller::get(lua);
        let what = job.describe();
        let outcome = gate.suspend(&what, || {
            job.run(&|| crate::interrupt::interrupted() || gate.closing())
        });
        // Other calls ran meanwhile: this one's caller is the current one again.
        if let Some(ctx) = context {
            super::super::caller::set(lua, ctx);
        }
        if crate::interrupt::interrupted() {
            // The caller is gone: the handler is not resumed. Closing its coroutine runs
            // its pending to-be-closed variables (`local x <close>`), so a script can
            // undo what it set up before the wait; the coroutine is then reused.
            if thread.reset(xpcall(lua)?).is_ok() {
                recycle(lua, thread);
            }
            return Err(HandlerError::Errno(Errno::EINTR));
        }
        output = thread.resume(outcome(lua)?)?;
    }
}

/// A driver coroutine: a kept one reset, or a new one, marked as a driver.
fn driver(lua: &Lua) -> mlua::Result<Thread> {
    let body = xpcall(lua)?;
    let kept = lua
        .app_data_ref::<Pool>()
        .and_then(|p| p.0.lock().unwrap_or_else(|e| e.into_inner()).pop());
    if let Some(thread) = kept {
        if thread.reset(body.clone()).is_ok() {
            return Ok(thread);
        }
    }
    let thread = lua.create_thread(body)?;
    let drivers: Table = lua.named_registry_value(KEY_DRIVERS)?;
    drivers.raw_set(&thread, true)?;
    Ok(thread)
}

/// Give `lua` its (empty) pool of finished drivers (with the `flu` module).
pub(super) fn install_pool(lua: &Lua) {
    lua.set_app_data(Pool::default());
}

/// Keep a finished driver for the next call.
fn recycle(lua: &Lua, thread: Thread) {
    if let Some(pool) = lua.app_data_ref::<Pool>() {
        let mut pool = pool.0.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < POOL {
            pool.push(thread);
        }
    }
}
