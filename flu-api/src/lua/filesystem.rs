//! `LuaFilesystem`: the filesystem a script defines, as an implementation of the
//! operation traits (their impls live in `ops/`, one file per trait).
//!
//! Each operation is routed when the script's table is loaded (`Handlers`); a reload
//! replaces the whole routing between requests. `dispatch` is the one place that acts on
//! the routing: a request sees one `Handlers` from its first handler call to its last
//! (it is pinned to the request, see `handlers`). Lua calls are serialized by the
//! interpreter's lock; native routes never take it.

use std::cell::{Cell, RefCell};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use mlua::{Function, Lua, Table, Value};

use super::call::HandlerError;
pub use super::handler_table::{Handlers, Route};
use super::handles::{new_file_info, NativeHandle, NativeRef, Slot};
use super::interpreter::{Interpreter, Wait};
use super::ops::NativeRegistry;
use super::stat::StatDefaults;
use super::timers::Timers;
use crate::errno::Errno;
use crate::handle_table::HandleTable;
use crate::log_escape::{escape_path, escape_str};
use crate::op::Op;
use crate::operations::{Fh, OpResult, Operations, RequestContext, Unimplemented};

/// Where a script came from, to load it again (`reload`).
#[derive(Clone, Debug)]
pub struct ScriptSource {
    pub path: PathBuf,
    pub args: Vec<std::ffi::OsString>,
}

/// A script's filesystem.
pub struct LuaFilesystem {
    pub(super) interpreter: Arc<Interpreter>,
    pub(super) lua: Lua,
    /// The routing of the current load of the script; see `handlers`.
    current: RwLock<Arc<Handlers>>,
    /// Serves the routes the script has no handler for: the traits' libfuse defaults.
    unimplemented: Arc<dyn Operations>,
    /// Every native backend the script made (`flu.passthrough`), routed or not: the
    /// ones its handlers reach through `base.*` count too. Reloads add theirs.
    pub(super) backends: Mutex<Vec<Arc<dyn Operations>>>,
    pub(super) handles: HandleTable<Slot>,
    pub(super) defaults: StatDefaults,
    pub(super) timers: Timers,
    /// The script, when it can be loaded again.
    pub(super) source: Option<ScriptSource>,
    /// The mount's device once mounted (0 before): given to backends a reload makes.
    pub(super) mounted_dev: AtomicU64,
    /// The script and its own modules, as of the last load (`Lifecycle::source_files`).
    pub(super) source_files: Mutex<Vec<PathBuf>>,
    original_exit: Value,
    /// Handler failures kept for `flu check` (None, the default: none are kept).
    recorded: Mutex<Option<Vec<(Op, HandlerError)>>>,
    /// This filesystem, once shared (`bind_branches`): what its compositions' Lua
    /// branches are served by.
    me: std::sync::OnceLock<std::sync::Weak<LuaFilesystem>>,
}

thread_local! {
    /// The `Handlers` the request this thread serves started with: (request serial,
    /// filesystem, routing).
    static PINNED: RefCell<Option<(u64, usize, Arc<Handlers>)>> = const { RefCell::new(None) };
    /// Whether this thread is inside a handler call (`flu.notify` then queues).
    static IN_HANDLER: Cell<bool> = const { Cell::new(false) };
    /// The handler tables of the composition branches this thread is serving, innermost
    /// last: while one is set, it is the routing (see `compose::LuaBranch`).
    static BRANCHES: RefCell<Vec<Arc<Handlers>>> = const { RefCell::new(Vec::new()) };
}

/// Run `f` with `handlers` as the routing of this thread (a composition's Lua branch).
pub(super) fn in_branch<R>(handlers: &Arc<Handlers>, f: impl FnOnce() -> R) -> R {
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            BRANCHES.with(|b| {
                b.borrow_mut().pop();
            });
        }
    }
    BRANCHES.with(|b| b.borrow_mut().push(handlers.clone()));
    let _leave = Leave;
    f()
}

/// Whether this thread serves a composition's Lua branch.
pub(super) fn serving_branch() -> bool {
    BRANCHES.with(|b| !b.borrow().is_empty())
}

/// Whether the calling thread runs a handler (not a timer callback or the main chunk).
pub(super) fn in_handler() -> bool {
    IN_HANDLER.with(Cell::get)
}

/// How long one handler call may run Lua code before it is interrupted, by default.
/// A caller that gives up (a signal) no longer waits for it: FUSE_INTERRUPT stops the
/// handler at once. The timeout is for loops nobody interrupts, and every Lua handler
/// waits behind one: 30 s of Lua CPU time is far beyond any honest request.
pub const DEFAULT_HANDLER_TIMEOUT: Duration = Duration::from_secs(30);

impl LuaFilesystem {
    /// The filesystem of table `fs`.
    /// `handler_timeout`: how long a handler may run Lua code (None: forever);
    /// `source`: where the script is, when it may be reloaded.
    pub fn new(
        lua: Lua,
        fs: &Table,
        defaults: StatDefaults,
        handler_timeout: Option<Duration>,
        source: Option<ScriptSource>,
    ) -> mlua::Result<LuaFilesystem> {
        let handlers = Handlers::of(&lua, fs)?;
        let natives = lua
            .app_data_ref::<NativeRegistry>()
            .map(|r| r.clone())
            .unwrap_or_default();
        let interpreter = Arc::new(Interpreter::new(lua.clone(), handler_timeout)?);
        let original_exit = guard_os_exit(&lua)?;
        let timers = Timers::of(&lua);
        Ok(LuaFilesystem {
            interpreter,
            lua,
            current: RwLock::new(Arc::new(handlers)),
            unimplemented: Arc::new(Unimplemented),
            backends: Mutex::new(natives.backends()),
            handles: HandleTable::default(),
            defaults,
            timers,
            source,
            mounted_dev: AtomicU64::new(0),
            source_files: Mutex::new(Vec::new()),
            original_exit,
            recorded: Mutex::new(None),
            me: std::sync::OnceLock::new(),
        })
    }

    /// The routing a request sees: the one current when the request made its first
    /// handler call (outside requests, the current one).
    pub fn handlers(&self) -> Arc<Handlers> {
        if let Some(branch) = BRANCHES.with(|b| b.borrow().last().cloned()) {
            return branch;
        }
        let serial = crate::interrupt::request_serial();
        if serial == 0 {
            return self.current_handlers();
        }
        let me = self as *const LuaFilesystem as usize;
        PINNED.with(|pinned| {
            if let Some((s, owner, h)) = &*pinned.borrow() {
                if *s == serial && *owner == me {
                    return h.clone();
                }
            }
            let h = self.current_handlers();
            // The previous pin is dropped outside the borrow: dropping the last
            // reference to an old routing drops Lua values.
            let old = pinned.replace(Some((serial, me, h.clone())));
            drop(old);
            h
        })
    }

    fn current_handlers(&self) -> Arc<Handlers> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Switch to `new` (under the Lua lock: no handler runs); the old routing.
    pub(super) fn switch_handlers(&self, new: Handlers) -> Arc<Handlers> {
        let mut current = self.current.write().unwrap_or_else(|p| p.into_inner());
        std::mem::replace(&mut *current, Arc::new(new))
    }

    /// Whether handler `op` is defined (natively or in Lua).
    pub fn has(&self, op: Op) -> bool {
        !self.handlers().route(op).is_missing()
    }

    /// When every handler is one native backend's own, that backend can serve the
    /// mount directly, with no Lua in the way (not a composition with Lua branches:
    /// those are served through this filesystem).
    pub fn sole_native_backend(&self) -> Option<Arc<dyn Operations>> {
        self.handlers().sole_native_backend().filter(|b| {
            Op::HANDLERS
                .iter()
                .all(|op| b.served_by(*op) != crate::op::ServedBy::Lua)
        })
    }

    /// Serve the Lua branches of compositions the script made since the last call
    /// (at mount, after a reload) with this filesystem.
    pub fn bind_branches(self: &Arc<Self>) {
        let me = self.me.get_or_init(|| Arc::downgrade(self)).clone();
        super::compose::bind_branches(&self.lua, &me);
    }

    /// `bind_branches` from `&self`, once the filesystem was bound at mount.
    pub(super) fn bind_new_branches(&self) {
        if let Some(me) = self.me.get() {
            super::compose::bind_branches(&self.lua, me);
        }
    }

    /// The one routing decision: a Lua handler is called through `lua` (under the Lua
    /// lock, see `call_lua`); a native backend, or the libfuse defaults when the script
    /// has no handler, through `rust`.
    pub(super) fn dispatch<R>(
        &self,
        op: Op,
        path: &Path,
        ctx: &RequestContext,
        rust: impl FnOnce(&Arc<dyn Operations>) -> OpResult<R>,
        lua: impl FnOnce(&Lua, &Function) -> Result<R, HandlerError>,
    ) -> OpResult<R> {
        let handlers = self.handlers();
        match handlers.route(op) {
            Route::Lua(f) => self.call_lua(op, path, ctx, f, lua),
            Route::Native(backend) => rust(backend),
            Route::Missing => rust(&self.unimplemented),
        }
    }

    /// The bytes the Lua state used after the last handler call (or at mount): never
    /// waits, even while a handler runs.
    pub fn memory_used(&self) -> u64 {
        self.interpreter.memory_used()
    }

    /// How many handler calls the watchdog interrupted (`--handler-timeout`).
    pub fn handler_timeouts(&self) -> u64 {
        self.interpreter.handler_timeouts()
    }

    /// Whether `backend` is the stand-in for missing handlers.
    pub(super) fn is_unimplemented(&self, backend: &Arc<dyn Operations>) -> bool {
        Arc::ptr_eq(backend, &self.unimplemented)
    }

    /// Run `body` with the Lua lock held, the watchdog armed and the request context
    /// published for `flu.get_context`; map and log failures once.
    pub(super) fn call_lua<R>(
        &self,
        op: Op,
        path: &Path,
        ctx: &RequestContext,
        f: &Function,
        body: impl FnOnce(&Lua, &Function) -> Result<R, HandlerError>,
    ) -> OpResult<R> {
        let result = self.interpreter.run(Wait::UntilFree, |lua| {
            super::caller::set(lua, *ctx);
            IN_HANDLER.with(|h| h.set(true));
            let result = body(lua, f);
            IN_HANDLER.with(|h| h.set(false));
            // Outside a handler, flu.get_context() describes no caller.
            super::caller::set(lua, RequestContext::default());
            result
        });
        let Some(result) = result else {
            tracing::debug!(
                handler = op.name(),
                "interrupted while waiting for the Lua lock"
            );
            return Err(Errno::EINTR);
        };
        if crate::interrupt::interrupted() {
            // The caller gave up: whatever the handler did, it is told EINTR, and an
            // interrupted handler is not a script error.
            tracing::debug!(handler = op.name(), "the request was interrupted");
            return Err(Errno::EINTR);
        }
        result.map_err(|e| self.report(op, path, e))
    }

    /// Log a handler failure once, with context, and give the errno for the caller.
    /// The path, message and traceback are escaped: a file name with a newline must not
    /// forge log lines.
    pub(super) fn report(&self, op: Op, path: &Path, e: HandlerError) -> Errno {
        let handler = op.name();
        let path = escape_path(path);
        match &e {
            HandlerError::Errno(errno) => {
                tracing::debug!(handler, %path, "handler answered {errno:?}");
            }
            HandlerError::Script { message, traceback } => {
                tracing::error!(handler, %path, "error in handler '{handler}' for {path}: {}{}", escape_str(message), indent(traceback));
            }
            HandlerError::BadResult(message) => {
                tracing::error!(handler, %path, "{} for {path}", escape_str(message));
            }
            HandlerError::OutOfMemory => {
                tracing::error!(handler, %path, "handler '{handler}' for {path} ran out of Lua memory (--lua-memory-limit); answered ENOMEM");
                // What the failed call built is garbage now: free it, so that the next
                // call starts with the memory the limit allows.
                let _ = self.lua.gc_collect();
            }
        }
        let errno = e.errno();
        let mut recorded = self.recorded.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(failures) = recorded.as_mut() {
            failures.push((op, e));
        }
        errno
    }

    /// Keep every handler failure from now on, for `take_failures` (`flu check` wants
    /// the messages the log would get).
    pub(super) fn record_failures(&self) {
        let mut recorded = self.recorded.lock().unwrap_or_else(|p| p.into_inner());
        recorded.get_or_insert_with(Vec::new);
    }

    /// The failures kept since the last call.
    pub(super) fn take_failures(&self) -> Vec<(Op, HandlerError)> {
        let mut recorded = self.recorded.lock().unwrap_or_else(|p| p.into_inner());
        recorded.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// The path as a Lua string (bytes).
    pub(super) fn path_value(lua: &Lua, path: &Path) -> mlua::Result<mlua::LuaString> {
        lua.create_string(path.as_os_str().as_bytes())
    }

    pub(super) fn name_value(lua: &Lua, name: &OsStr) -> mlua::Result<mlua::LuaString> {
        lua.create_string(name.as_bytes())
    }

    /// The `fi` table of an open handle, created on first use (a handle opened natively
    /// gets one whose `fh` is the native handle).
    pub(super) fn file_info(&self, lua: &Lua, fh: Fh) -> mlua::Result<Table> {
        let Some(slot) = self.handles.get(fh.0) else {
            // Not open (a stale handle): a blank fi, as Flu would hand out.
            return new_file_info(lua, libc::O_RDONLY);
        };
        if let Some(fi) = slot.fi() {
            return Ok(fi);
        }
        let fi = new_file_info(lua, slot.flags)?;
        if let Some(native) = &slot.native {
            fi.raw_set("fh", native.handle)?;
        }
        slot.set_fi(fi.clone());
        Ok(fi)
    }

    /// The native handle behind `fh` when it was issued by `backend`.
    pub(super) fn native_handle(
        &self,
        fh: Fh,
        backend: &Arc<dyn Operations>,
    ) -> Option<NativeHandle> {
        let slot = self.handles.get(fh.0)?;
        let native: &NativeRef = slot.native.as_ref()?;
        Arc::ptr_eq(&native.backend, backend).then_some(native.handle)
    }
}

/// While the filesystem serves, `os.exit` in a handler would kill the daemon and leave
/// a dead mount: it raises an error instead (unmounting ends the daemon cleanly).
fn guard_os_exit(lua: &Lua) -> mlua::Result<Value> {
    let os: Table = lua.globals().get("os")?;
    let original: Value = os.get("exit")?;
    os.set(
        "exit",
        lua.create_function(|_, _: mlua::MultiValue| -> mlua::Result<()> {
            Err(mlua::Error::runtime(
                "os.exit is not allowed while the filesystem is mounted (unmount it to stop the daemon)",
            ))
        })?,
    )?;
    Ok(original)
}

impl Drop for LuaFilesystem {
    /// Once unmounted, the rest of the script may exit as it likes.
    fn drop(&mut self) {
        if let Ok(os) = self.lua.globals().get::<Table>("os") {
            let _ = os.set("exit", self.original_exit.clone());
        }
    }
}

/// The traceback on the same log line: frames joined by ` <- `, so one failure is one
/// line in the log.
pub(super) fn indent(traceback: &str) -> String {
    let frames: Vec<&str> = traceback
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "stack traceback:")
        .collect();
    if frames.is_empty() {
        String::new()
    } else {
        let frames: Vec<String> = frames.into_iter().map(escape_str).collect();
        format!(" (traceback: {})", frames.join(" <- "))
    }
}
