//! `flu.spawn(fn, ...)`: run `fn(...)` in the background, as a coroutine of its own —
//! for prefetching, refreshing a cache, anything no request waits for. Its yielding
//! calls (`flu.sleep`, `flu.exec`, …) give the Lua lock up, as a handler's do; an error
//! is logged with where the task was spawned. Tasks spawned before the mount serves
//! (in the main chunk, in `init`) start when it does; at unmount a waiting task is
//! cancelled (its process killed) and ends.
//!
//! Each task waits on a thread of its own, so tasks wait in parallel.

use std::sync::{Arc, Mutex, Weak};

use mlua::{Function, Lua, MultiValue, Value};

use crate::interrupt::InterruptFlag;
use crate::log_escape::escape_str;
use crate::lua::call::{call_protected, HandlerError};
use crate::lua::interpreter::{Interpreter, Wait};

/// A task not yet started.
struct Entry {
    callback: Function,
    args: MultiValue,
    origin: String,
    /// The composition branch it was spawned in: its notifications land there.
    prefixes: Vec<std::sync::Arc<[u8]>>,
}

#[derive(Default)]
struct State {
    /// Set once the mount serves: tasks start at once from then on.
    interpreter: Option<Weak<Interpreter>>,
    queued: Vec<Entry>,
    stopped: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// Set at unmount: every task's waits give up.
    stop: InterruptFlag,
}

/// The background tasks of one Lua state (its app data).
#[derive(Clone, Default)]
pub struct Tasks(Arc<Shared>);

impl Tasks {
    /// The tasks of `lua` (made on first use).
    pub fn of(lua: &Lua) -> Tasks {
        if let Some(t) = lua.app_data_ref::<Tasks>() {
            return t.clone();
        }
        let tasks = Tasks::default();
        lua.set_app_data(tasks.clone());
        tasks
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The mount serves: start the queued tasks, and any spawned from now on.
    pub fn serve(&self, interpreter: &Arc<Interpreter>) {
        let queued = {
            let mut state = self.lock();
            if state.stopped {
                return;
            }
            state.interpreter = Some(Arc::downgrade(interpreter));
            std::mem::take(&mut state.queued)
        };
        for entry in queued {
            self.start(Arc::downgrade(interpreter), entry);
        }
    }

    /// Unmounting: no task starts any more, and waiting ones give up.
    pub fn stop(&self) {
        let mut state = self.lock();
        state.stopped = true;
        state.interpreter = None;
        state.queued.clear();
        self.0.stop.interrupt();
    }

    fn spawn(&self, entry: Entry) {
        let mut state = self.lock();
        if state.stopped {
            return;
        }
        match state.interpreter.clone() {
            Some(weak) => {
                drop(state);
                self.start(weak, entry);
            }
            None => state.queued.push(entry),
        }
    }

    fn start(&self, interpreter: Weak<Interpreter>, entry: Entry) {
        let stop = self.0.stop.clone();
        let origin = entry.origin.clone();
        let spawned = std::thread::Builder::new()
            .name("flu-task".into())
            .spawn(move || {
                let Some(interpreter) = interpreter.upgrade() else {
                    return;
                };
                // The stop flag plays the request's interrupt: waits end at unmount.
                let outcome = crate::interrupt::serving(&stop, || {
                    crate::compose::scope::with_prefixes(&entry.prefixes, || {
                        interpreter.run(Wait::UntilFree, |lua| {
                            call_protected(lua, &entry.callback, entry.args.clone()).map(drop)
                        })
                    })
                });
                match outcome {
                    Some(Err(e)) if !stop.is_set() => report(&entry.origin, e),
                    _ => {}
                }
            });
        if let Err(e) = spawned {
            tracing::error!(
                "cannot start the task spawned at {} ({e}): it does not run",
                escape_str(&origin)
            );
        }
    }
}

fn report(origin: &str, e: HandlerError) {
    let origin = escape_str(origin);
    match e {
        HandlerError::Script { message, traceback } => tracing::error!(
            "error in the task spawned at {origin}: {}{}",
            escape_str(&message),
            crate::lua::filesystem::indent(&traceback)
        ),
        HandlerError::Errno(errno) => {
            tracing::error!("the task spawned at {origin} raised {errno:?}")
        }
        HandlerError::BadResult(m) => {
            tracing::error!("the task spawned at {origin}: {}", escape_str(&m))
        }
        HandlerError::OutOfMemory => tracing::error!(
            "the task spawned at {origin} ran out of Lua memory (--lua-memory-limit)"
        ),
    }
}

/// `flu.spawn(fn, ...)`.
pub fn function(lua: &Lua) -> mlua::Result<Function> {
    lua.create_function(|lua, mut args: MultiValue| {
        let callback = match args.pop_front() {
            Some(Value::Function(f)) => f,
            other => {
                return Err(mlua::Error::runtime(format!(
                    "bad argument #1 to 'spawn' (function expected, got {})",
                    other.as_ref().map_or("no value", Value::type_name)
                )))
            }
        };
        let origin = crate::lua::timers::caller_location(lua);
        Tasks::of(lua).spawn(Entry {
            callback,
            args,
            origin,
            prefixes: crate::compose::scope::current_prefixes(),
        });
        Ok(())
    })
}
