//! `LuaFilesystem`: the filesystem a script defines, as an implementation of the
//! operation traits (their impls live in `ops/`, one file per trait).
//!
//! Each operation is routed once, when the filesystem is built: to a Lua handler, to a
//! native backend (a handler that is still `flu.passthrough`'s own function), or to the
//! libfuse default when the script has none. `dispatch` is the one place that acts on
//! that decision. Lua calls are serialized by one lock; native routes never take it.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use mlua::{Function, Lua, Table, Value};

use super::call::HandlerError;
use super::handles::{new_file_info, NativeHandle, NativeRef, Slot};
use super::ops::NativeRegistry;
use super::stat::StatDefaults;
use super::watchdog::Watchdog;
use crate::errno::Errno;
use crate::handle_table::HandleTable;
use crate::log_escape::{escape_path, escape_str};
use crate::op::{Op, ServedBy};
use crate::operations::{Fh, OpResult, Operations, RequestContext, Unimplemented};

/// Where one operation goes.
#[derive(Clone)]
pub enum Route {
    Missing,
    Lua(Function),
    Native(Arc<dyn Operations>),
}

impl Route {
    pub fn is_missing(&self) -> bool {
        matches!(self, Route::Missing)
    }

    pub fn served_by(&self) -> ServedBy {
        match self {
            Route::Missing => ServedBy::Default,
            Route::Lua(_) => ServedBy::Lua,
            Route::Native(_) => ServedBy::Native,
        }
    }
}

/// A script's filesystem.
pub struct LuaFilesystem {
    pub(super) lua: Lua,
    call_lock: LuaLock,
    routes: Vec<Route>,
    /// Serves the routes the script has no handler for: the traits' libfuse defaults.
    unimplemented: Arc<dyn Operations>,
    /// The table's `max_file_size` field, if it has one.
    pub(super) max_file_size: Option<u64>,
    /// The script's `fgetattr` is Flu 2010–2015's `fgetattr(path, st, fi)`, which fills
    /// the table `st` (declared with three or more parameters, not a vararg function).
    pub(super) fgetattr_fills_st: bool,
    /// Every native backend the script made (`flu.passthrough`), routed or not: the
    /// ones its handlers reach through `base.*` count too.
    pub(super) backends: Vec<Arc<dyn Operations>>,
    pub(super) handles: HandleTable<Slot>,
    pub(super) defaults: StatDefaults,
    watchdog: Watchdog,
    memory: super::memory::MemoryLimit,
    original_exit: Value,
    /// The Lua state's memory after the last call, read without the Lua lock (a stuck
    /// handler holds it): see `memory_used`.
    memory_in_use: AtomicU64,
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
    fn acquire(&self) -> Option<LuaGuard<'_>> {
        let mut busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        while *busy {
            if crate::interrupt::interrupted() {
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

/// How long one handler call may run Lua code before it is interrupted, by default.
/// A caller that gives up (a signal) no longer waits for it: FUSE_INTERRUPT stops the
/// handler at once. The timeout is for loops nobody interrupts, and every Lua handler
/// waits behind one: 30 s of Lua CPU time is far beyond any honest request.
pub const DEFAULT_HANDLER_TIMEOUT: Duration = Duration::from_secs(30);

impl LuaFilesystem {
    /// Route every operation of the filesystem table `fs` (handlers may be inherited
    /// through `__index`).
    /// `handler_timeout`: how long a handler may run Lua code (None: forever).
    pub fn new(
        lua: Lua,
        fs: &Table,
        defaults: StatDefaults,
        handler_timeout: Option<Duration>,
    ) -> mlua::Result<LuaFilesystem> {
        let natives = lua
            .app_data_ref::<NativeRegistry>()
            .map(|r| r.clone())
            .unwrap_or_default();
        // One route per op; requests that are no handler stay Missing.
        let mut routes = Vec::with_capacity(Op::ALL.len());
        for &op in Op::ALL {
            if op.handler() != Some(op) {
                routes.push(Route::Missing);
                continue;
            }
            let route = match fs.get::<Value>(op.name())? {
                Value::Function(f) => match natives.lookup(&f, op) {
                    Some(backend) => Route::Native(backend),
                    None => Route::Lua(f),
                },
                _ => Route::Missing,
            };
            routes.push(route);
        }
        let max_file_size = match fs.get::<Value>("max_file_size")? {
            Value::Integer(n) if n > 0 => Some(n as u64),
            Value::Number(n) if n >= 1.0 => Some(n.min(u64::MAX as f64) as u64),
            Value::Nil => None,
            other => {
                return Err(mlua::Error::runtime(format!(
                "the filesystem table's max_file_size must be a positive number of bytes, got {}",
                other.type_name()
            )))
            }
        };
        warn_about_table(fs);
        let fgetattr_fills_st = match &routes[Op::Fgetattr.index()] {
            Route::Lua(f) => takes_st_table(&lua, f)?,
            _ => false,
        };
        let memory = super::memory::MemoryLimit::of(&lua);
        let watchdog = Watchdog::install(&lua, handler_timeout, memory.clone())?;
        // From here on the limit costs nothing until the state nears it.
        memory.relax(&lua);
        let original_exit = guard_os_exit(&lua)?;
        let memory_in_use = AtomicU64::new(lua.used_memory() as u64);
        Ok(LuaFilesystem {
            lua,
            call_lock: LuaLock::default(),
            routes,
            unimplemented: Arc::new(Unimplemented),
            max_file_size,
            fgetattr_fills_st,
            backends: natives.backends(),
            handles: HandleTable::default(),
            defaults,
            watchdog,
            memory,
            original_exit,
            memory_in_use,
        })
    }

    /// The route of handler `op` (a request that is no handler: Missing).
    pub fn route(&self, op: Op) -> &Route {
        &self.routes[op.index()]
    }

    pub fn has(&self, op: Op) -> bool {
        !self.route(op).is_missing()
    }

    /// When every handler is one native backend's own, that backend can serve the
    /// mount directly, with no Lua in the way.
    pub fn sole_native_backend(&self) -> Option<Arc<dyn Operations>> {
        let mut backend: Option<&Arc<dyn Operations>> = None;
        for &op in Op::HANDLERS {
            match self.route(op) {
                Route::Native(b) => match backend {
                    None => backend = Some(b),
                    Some(prev) if Arc::ptr_eq(prev, b) => {}
                    Some(_) => return None,
                },
                Route::Missing
                    if matches!(op, Op::Init | Op::Destroy | Op::Fgetattr | Op::Ftruncate) => {}
                _ => return None,
            }
        }
        backend.cloned()
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
        match self.route(op) {
            Route::Lua(f) => self.call_lua(op, path, ctx, f, lua),
            Route::Native(backend) => rust(backend),
            Route::Missing => rust(&self.unimplemented),
        }
    }

    /// The bytes the Lua state used after the last handler call (or at mount): never
    /// waits, even while a handler runs.
    pub fn memory_used(&self) -> u64 {
        self.memory_in_use.load(Ordering::Relaxed)
    }

    /// Whether `backend` is the stand-in for missing handlers.
    pub(super) fn is_unimplemented(&self, backend: &Arc<dyn Operations>) -> bool {
        Arc::ptr_eq(backend, &self.unimplemented)
    }

    /// Run `body` with the Lua lock held, the watchdog armed and the request context
    /// published for `flu.get_context`; map and log failures once.
    fn call_lua<R>(
        &self,
        op: Op,
        path: &Path,
        ctx: &RequestContext,
        f: &Function,
        body: impl FnOnce(&Lua, &Function) -> Result<R, HandlerError>,
    ) -> OpResult<R> {
        let Some(_serialized) = self.call_lock.acquire() else {
            tracing::debug!(
                handler = op.name(),
                "interrupted while waiting for the Lua lock"
            );
            return Err(Errno::EINTR);
        };
        self.lua.set_app_data(*ctx);
        let before = self.lua.used_memory();
        self.watchdog.arm();
        let mut result = body(&self.lua, f);
        self.watchdog.disarm();
        if self.memory.exceeded_by_call(&self.lua, before) {
            result = Err(HandlerError::OutOfMemory);
        }
        // Outside a handler, flu.get_context() describes no caller.
        self.lua.set_app_data(RequestContext::default());
        // Still under the Lua lock: the state is quiet, so this reads it without waiting.
        self.memory_in_use
            .store(self.lua.used_memory() as u64, Ordering::Relaxed);
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
        e.errno()
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

/// A table that defines no handler, or functions under names flu never calls, mounts
/// fine but serves nothing (or not what was meant): say so once, at mount.
fn warn_about_table(fs: &Table) {
    let report = super::handler_names::inspect(fs);
    for (name, meant) in &report.unknown {
        match meant {
            Some(h) => tracing::warn!(
                "the filesystem table's '{}' is no handler flu calls (did you mean '{h}'?)",
                crate::log_escape::escape_str(name)
            ),
            None => tracing::warn!(
                "the filesystem table's '{}' is no handler flu calls",
                crate::log_escape::escape_str(name)
            ),
        }
    }
    if report.handlers == 0 {
        tracing::warn!(
            "the filesystem table defines no handlers: every operation answers ENOSYS (handlers are named getattr, readdir, read, …)"
        );
    }
}

/// Whether `f` is declared `function(path, st, fi)`: three or more named parameters and
/// no `...` (a vararg wrapper, whose nparams is 0, keeps the current form).
fn takes_st_table(lua: &Lua, f: &Function) -> mlua::Result<bool> {
    let getinfo: Function = lua.globals().get::<Table>("debug")?.get("getinfo")?;
    let info: Table = getinfo.call((f, "u"))?;
    let nparams: i64 = info.get("nparams").unwrap_or(0);
    let vararg: bool = info.get("isvararg").unwrap_or(false);
    Ok(nparams >= 3 && !vararg)
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
fn indent(traceback: &str) -> String {
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
