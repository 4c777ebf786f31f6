//! Timers: `flu.after(seconds, fn)` and `flu.every(seconds, fn)`, each returning a
//! timer with `:cancel()`.
//!
//! One thread per mounted filesystem runs the callbacks, under the Lua lock, between
//! requests, with the handler watchdog armed. Timers may be made before the mount (in
//! the script's main chunk): they count from when they were made and first run once the
//! mount serves (`start`). An error in a callback is logged with its traceback; an
//! `every` timer keeps running. `stop` (at unmount, before `destroy`) ends them all,
//! interrupting a callback that is still running.
//!
//! Each timer belongs to a load of the script (a generation): a reload cancels the old
//! load's timers when it switches, or the new load's when it fails.
//!
//! No Lua value is dropped while the schedule's mutex is held: dropping one takes the
//! Lua state's own lock, which a running handler holds while it may ask for the mutex.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mlua::{AnyUserData, Function, Lua, Table, UserData, UserDataMethods, Value};

use super::call::{call_protected, HandlerError};
use super::interpreter::{Interpreter, Wait};
use crate::interrupt::InterruptFlag;
use crate::log_escape::escape_str;

/// The shortest period of an `every` timer.
const MIN_PERIOD: Duration = Duration::from_millis(1);

/// The timers of one Lua state (its app data). Cloning shares them.
#[derive(Clone, Default)]
pub struct Timers(Arc<Schedule>);

#[derive(Default)]
struct Schedule {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    entries: Vec<Entry>,
    /// The load of the script new timers belong to.
    generation: u64,
    /// Timers of loads below this were retired by a reload (also one the timer thread
    /// had taken out of `entries` to run when the reload came).
    retired_below: u64,
    thread: Option<JoinHandle<()>>,
    stopping: bool,
    /// Interrupts a callback that runs when the timers stop.
    stop_flag: InterruptFlag,
}

struct Entry {
    due: Instant,
    period: Option<Duration>,
    callback: Function,
    /// The script's timer object (passed to the callback).
    object: AnyUserData,
    timer: Arc<TimerState>,
    generation: u64,
    /// `file:line` where it was made, for the log.
    origin: String,
    /// The composition branch it was made in: its notifications land there.
    prefixes: Vec<Arc<[u8]>>,
}

struct TimerState {
    cancelled: AtomicBool,
}

/// A timer as the script holds it.
struct Timer {
    state: Arc<TimerState>,
    schedule: Weak<Schedule>,
}

impl UserData for Timer {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        // True when this call cancelled it (it had not run, or was an `every`).
        methods.add_method("cancel", |_, this, ()| {
            let was = this.state.cancelled.swap(true, Ordering::SeqCst);
            if let Some(schedule) = this.schedule.upgrade() {
                schedule.changed.notify_all();
            }
            Ok(!was)
        });
        methods.add_method("active", |_, this, ()| {
            Ok(!this.state.cancelled.load(Ordering::SeqCst))
        });
        methods.add_meta_method(mlua::MetaMethod::ToString, |_, this, ()| {
            let state = if this.state.cancelled.load(Ordering::SeqCst) {
                "cancelled"
            } else {
                "active"
            };
            Ok(format!("flu timer ({state})"))
        });
    }
}

impl Timers {
    /// The timers of `lua`'s state (made on first use).
    pub fn of(lua: &Lua) -> Timers {
        if let Some(t) = lua.app_data_ref::<Timers>() {
            return t.clone();
        }
        let t = Timers::default();
        lua.set_app_data(t.clone());
        t
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Add `flu.after` and `flu.every` to the `flu` table.
    pub fn install(lua: &Lua, flu: &Table) -> mlua::Result<()> {
        for (name, repeat) in [("after", false), ("every", true)] {
            let f = lua.create_function(move |lua, (seconds, callback): (Value, Value)| {
                let timers = Timers::of(lua);
                timers.add(lua, name, repeat, seconds, callback)
            })?;
            flu.set(name, f)?;
        }
        Ok(())
    }

    fn add(
        &self,
        lua: &Lua,
        name: &str,
        repeat: bool,
        seconds: Value,
        callback: Value,
    ) -> mlua::Result<AnyUserData> {
        let seconds = match seconds {
            Value::Integer(n) => n as f64,
            Value::Number(n) => n,
            other => {
                return Err(mlua::Error::runtime(format!(
                    "bad argument #1 to '{name}' (number of seconds expected, got {})",
                    other.type_name()
                )))
            }
        };
        if !(seconds.is_finite() && seconds >= 0.0) {
            return Err(mlua::Error::runtime(format!(
                "bad argument #1 to '{name}' (a number of seconds, 0 or more, expected; got {seconds})"
            )));
        }
        let Value::Function(callback) = callback else {
            return Err(mlua::Error::runtime(format!(
                "bad argument #2 to '{name}' (function expected, got {})",
                callback.type_name()
            )));
        };
        let delay = Duration::from_secs_f64(seconds.min(1e9));
        let period = repeat.then(|| delay.max(MIN_PERIOD));
        let timer = Arc::new(TimerState {
            cancelled: AtomicBool::new(false),
        });
        let object = lua.create_userdata(Timer {
            state: timer.clone(),
            schedule: Arc::downgrade(&self.0),
        })?;
        let origin = caller_location(lua);
        let mut state = self.lock();
        let generation = state.generation;
        state.entries.push(Entry {
            due: Instant::now() + period.unwrap_or(delay),
            period,
            callback,
            object: object.clone(),
            timer,
            generation,
            origin,
            prefixes: crate::compose::scope::current_prefixes(),
        });
        drop(state);
        self.0.changed.notify_all();
        Ok(object)
    }

    /// Run the callbacks from now on (the mount serves). Timers stopped once stay
    /// stopped.
    pub fn start(&self, interpreter: Arc<Interpreter>) {
        let mut state = self.lock();
        if state.thread.is_some() || state.stopping {
            return;
        }
        let timers = self.clone();
        let flag = state.stop_flag.clone();
        match std::thread::Builder::new()
            .name("flu-timers".into())
            .spawn(move || timers.run(&interpreter, &flag))
        {
            Ok(t) => state.thread = Some(t),
            Err(e) => tracing::error!("cannot start the timer thread ({e}): timers will not run"),
        }
    }

    /// End every timer (at unmount, before `destroy`): a callback still running is
    /// interrupted and waited for.
    pub fn stop(&self) {
        let (thread, entries) = {
            let mut state = self.lock();
            state.stopping = true;
            state.stop_flag.interrupt();
            (state.thread.take(), std::mem::take(&mut state.entries))
        };
        self.0.changed.notify_all();
        if let Some(t) = thread {
            let _ = t.join();
        }
        drop(entries);
    }

    /// A load of the script begins: timers made from now on belong to it. Returns the
    /// previous load's generation.
    pub fn begin_generation(&self) -> u64 {
        let mut state = self.lock();
        state.generation += 1;
        state.generation - 1
    }

    /// The load that began last failed: cancel its timers and go back to `previous`.
    pub fn abandon_generation(&self, previous: u64) {
        let dropped = {
            let mut state = self.lock();
            let current = state.generation;
            state.generation = previous;
            take_where(&mut state.entries, |e| e.generation == current)
        };
        for e in &dropped {
            e.timer.cancelled.store(true, Ordering::SeqCst);
        }
        drop(dropped);
    }

    /// The load that began last took over: cancel the older loads' timers.
    pub fn retire_older_generations(&self) {
        let dropped = {
            let mut state = self.lock();
            let current = state.generation;
            state.retired_below = current;
            take_where(&mut state.entries, |e| e.generation < current)
        };
        for e in &dropped {
            e.timer.cancelled.store(true, Ordering::SeqCst);
        }
        drop(dropped);
        self.0.changed.notify_all();
    }

    /// The timer thread: wait for the next due timer, run it, repeat until stopped.
    fn run(&self, interpreter: &Interpreter, stop_flag: &InterruptFlag) {
        while let Some(mut entry) = self.next_due() {
            let object = entry.object.clone();
            if entry.period.is_none() {
                // An `after` timer is spent once it runs: inside its callback it is no
                // longer active, and cancelling it does nothing.
                entry.timer.cancelled.store(true, Ordering::SeqCst);
            }
            let outcome = crate::interrupt::serving(stop_flag, || {
                interpreter.run(Wait::UntilFree, |lua| {
                    // Reloads hold the Lua lock: checked here, a reload that retired
                    // this timer while it waited for the lock is seen.
                    if self.retired(&entry) {
                        return Ok(());
                    }
                    crate::compose::scope::with_prefixes(&entry.prefixes, || {
                        call_protected(lua, &entry.callback, object).map(drop)
                    })
                })
            });
            match outcome {
                Some(Err(e)) if !stop_flag.is_set() => report(&entry, e),
                _ => {}
            }
            let Some(period) = entry.period else {
                entry.timer.cancelled.store(true, Ordering::SeqCst);
                continue;
            };
            // Missed ticks are not made up for: the next one is a period after the
            // last due time, or a period from now when that is already past.
            let now = Instant::now();
            let next = entry.due + period;
            entry.due = if next > now { next } else { now + period };
            let mut state = self.lock();
            if state.stopping
                || entry.timer.cancelled.load(Ordering::SeqCst)
                || entry.generation < state.retired_below
            {
                entry.timer.cancelled.store(true, Ordering::SeqCst);
                drop(state);
                continue;
            }
            state.entries.push(entry);
        }
    }

    /// Whether a reload retired `entry`'s load (it is then cancelled).
    fn retired(&self, entry: &Entry) -> bool {
        let retired = entry.generation < self.lock().retired_below;
        if retired {
            entry.timer.cancelled.store(true, Ordering::SeqCst);
        }
        retired
    }

    /// The next timer to run, taken out of the schedule once due; None when stopped.
    fn next_due(&self) -> Option<Entry> {
        let mut state = self.lock();
        loop {
            if state.stopping {
                return None;
            }
            let cancelled = take_where(&mut state.entries, |e| {
                e.timer.cancelled.load(Ordering::SeqCst)
            });
            if !cancelled.is_empty() {
                drop(state);
                drop(cancelled);
                state = self.lock();
                continue;
            }
            let now = Instant::now();
            let next = state
                .entries
                .iter()
                .enumerate()
                .min_by_key(|(_, e)| e.due)
                .map(|(i, e)| (i, e.due));
            state = match next {
                Some((i, due)) if due <= now => return Some(state.entries.swap_remove(i)),
                Some((_, due)) => {
                    self.0
                        .changed
                        .wait_timeout(state, due - now)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
                None => self
                    .0
                    .changed
                    .wait(state)
                    .unwrap_or_else(|p| p.into_inner()),
            };
        }
    }
}

/// Remove and return the entries matching `pred`.
fn take_where(entries: &mut Vec<Entry>, pred: impl Fn(&Entry) -> bool) -> Vec<Entry> {
    let mut taken = Vec::new();
    let mut i = 0;
    while i < entries.len() {
        if pred(&entries[i]) {
            taken.push(entries.swap_remove(i));
        } else {
            i += 1;
        }
    }
    taken
}

/// Log a failed callback once, with its traceback.
/// Where the Lua code that called the running Rust function is: `file:line` (for the
/// log lines of what it set going: a timer, a task).
pub(super) fn caller_location(lua: &Lua) -> String {
    lua.inspect_stack(1, |d| {
        let src = d.source().short_src.map(|s| s.to_string());
        match (src, d.current_line()) {
            (Some(s), Some(l)) => format!("{s}:{l}"),
            (Some(s), None) => s,
            _ => "?".into(),
        }
    })
    .unwrap_or_else(|| "?".into())
}

fn report(entry: &Entry, e: HandlerError) {
    let kind = if entry.period.is_some() {
        "flu.every"
    } else {
        "flu.after"
    };
    let origin = escape_str(&entry.origin);
    let next = if entry.period.is_some() {
        "; the timer keeps running"
    } else {
        ""
    };
    match e {
        HandlerError::Script { message, traceback } => tracing::error!(
            "error in the {kind} callback made at {origin}: {}{}{next}",
            escape_str(&message),
            super::filesystem::indent(&traceback)
        ),
        HandlerError::Errno(errno) => {
            tracing::error!("the {kind} callback made at {origin} raised {errno:?}{next}")
        }
        HandlerError::BadResult(m) => {
            tracing::error!(
                "the {kind} callback made at {origin}: {}{next}",
                escape_str(&m)
            )
        }
        HandlerError::OutOfMemory => tracing::error!(
            "the {kind} callback made at {origin} ran out of Lua memory (--lua-memory-limit){next}"
        ),
    }
}
