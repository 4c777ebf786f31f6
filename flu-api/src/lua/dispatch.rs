//! `LuaFilesystem`: the filesystem a script defines, as an `Operations` implementation.
//!
//! Each operation is routed once, when the filesystem is built: to a Lua handler, to a
//! native backend (a handler that is still `flu.passthrough`'s own function), or to the
//! libfuse default when the script has none. Lua calls are serialized by one lock;
//! native routes never take it.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mlua::{Function, Lua, Table, Value};

use super::call::HandlerError;
use super::handles::{new_file_info, HandleTable, NativeHandle, NativeRef};
use super::native::NativeRegistry;
use super::stat::StatDefaults;
use super::watchdog::Watchdog;
use crate::errno::Errno;
use crate::operations::{Fh, OpResult, Operations, RequestContext};

/// Every handler name a filesystem table may define.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Getattr,
    Fgetattr,
    Readlink,
    Mknod,
    Mkdir,
    Unlink,
    Rmdir,
    Symlink,
    Rename,
    Link,
    Chmod,
    Chown,
    Truncate,
    Ftruncate,
    Utimens,
    Open,
    Read,
    Write,
    Flush,
    Release,
    Fsync,
    Opendir,
    Readdir,
    Releasedir,
    Fsyncdir,
    Statfs,
    Setxattr,
    Getxattr,
    Listxattr,
    Removexattr,
    Access,
    Create,
    Init,
    Destroy,
    Lock,
    Flock,
    Fallocate,
    Lseek,
    CopyFileRange,
}

impl Op {
    pub const ALL: [Op; 39] = [
        Op::Getattr,
        Op::Fgetattr,
        Op::Readlink,
        Op::Mknod,
        Op::Mkdir,
        Op::Unlink,
        Op::Rmdir,
        Op::Symlink,
        Op::Rename,
        Op::Link,
        Op::Chmod,
        Op::Chown,
        Op::Truncate,
        Op::Ftruncate,
        Op::Utimens,
        Op::Open,
        Op::Read,
        Op::Write,
        Op::Flush,
        Op::Release,
        Op::Fsync,
        Op::Opendir,
        Op::Readdir,
        Op::Releasedir,
        Op::Fsyncdir,
        Op::Statfs,
        Op::Setxattr,
        Op::Getxattr,
        Op::Listxattr,
        Op::Removexattr,
        Op::Access,
        Op::Create,
        Op::Init,
        Op::Destroy,
        Op::Lock,
        Op::Flock,
        Op::Fallocate,
        Op::Lseek,
        Op::CopyFileRange,
    ];

    /// The handler's name in the filesystem table.
    pub fn name(self) -> &'static str {
        match self {
            Op::Getattr => "getattr",
            Op::Fgetattr => "fgetattr",
            Op::Readlink => "readlink",
            Op::Mknod => "mknod",
            Op::Mkdir => "mkdir",
            Op::Unlink => "unlink",
            Op::Rmdir => "rmdir",
            Op::Symlink => "symlink",
            Op::Rename => "rename",
            Op::Link => "link",
            Op::Chmod => "chmod",
            Op::Chown => "chown",
            Op::Truncate => "truncate",
            Op::Ftruncate => "ftruncate",
            Op::Utimens => "utimens",
            Op::Open => "open",
            Op::Read => "read",
            Op::Write => "write",
            Op::Flush => "flush",
            Op::Release => "release",
            Op::Fsync => "fsync",
            Op::Opendir => "opendir",
            Op::Readdir => "readdir",
            Op::Releasedir => "releasedir",
            Op::Fsyncdir => "fsyncdir",
            Op::Statfs => "statfs",
            Op::Setxattr => "setxattr",
            Op::Getxattr => "getxattr",
            Op::Listxattr => "listxattr",
            Op::Removexattr => "removexattr",
            Op::Access => "access",
            Op::Create => "create",
            Op::Init => "init",
            Op::Destroy => "destroy",
            Op::Lock => "lock",
            Op::Flock => "flock",
            Op::Fallocate => "fallocate",
            Op::Lseek => "lseek",
            Op::CopyFileRange => "copy_file_range",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

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
}

/// A script's filesystem.
pub struct LuaFilesystem {
    pub(super) lua: Lua,
    call_lock: Mutex<()>,
    routes: Vec<Route>,
    pub(super) handles: HandleTable,
    pub(super) defaults: StatDefaults,
    watchdog: Watchdog,
    original_exit: Value,
}

/// How long one handler call may run Lua code before it is interrupted, by default.
pub const DEFAULT_HANDLER_TIMEOUT: Duration = Duration::from_secs(60);

/// Who served an operation, for `-d` tracing.
pub fn route_label(route: &Route) -> &'static str {
    match route {
        Route::Missing => "default",
        Route::Lua(_) => "lua",
        Route::Native(_) => "native",
    }
}

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
        let mut routes = Vec::with_capacity(Op::ALL.len());
        for op in Op::ALL {
            let route = match fs.get::<Value>(op.name())? {
                Value::Function(f) => match natives.lookup(&f, op.name()) {
                    Some(backend) => Route::Native(backend),
                    None => Route::Lua(f),
                },
                _ => Route::Missing,
            };
            routes.push(route);
        }
        let watchdog = Watchdog::install(&lua, handler_timeout)?;
        let original_exit = guard_os_exit(&lua)?;
        Ok(LuaFilesystem {
            lua,
            call_lock: Mutex::new(()),
            routes,
            handles: HandleTable::default(),
            defaults,
            watchdog,
            original_exit,
        })
    }

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
        for op in Op::ALL {
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

    /// Run `body` with the Lua lock held and the request context published for
    /// `flu.get_context`; map and log failures once.
    pub(super) fn with_lua<R>(
        &self,
        op: Op,
        path: &Path,
        ctx: &RequestContext,
        body: impl FnOnce(&Lua, &Function) -> Result<R, HandlerError>,
    ) -> OpResult<R> {
        let Route::Lua(f) = self.route(op) else {
            return Err(Errno::ENOSYS);
        };
        let _serialized = self.call_lock.lock().unwrap_or_else(|p| p.into_inner());
        self.lua.set_app_data(*ctx);
        self.watchdog.arm();
        let result = body(&self.lua, f);
        self.watchdog.disarm();
        // Outside a handler, flu.get_context() describes no caller.
        self.lua.set_app_data(RequestContext::default());
        result.map_err(|e| self.report(op, path, e))
    }

    /// Log a handler failure once, with context, and give the errno for the caller.
    pub(super) fn report(&self, op: Op, path: &Path, e: HandlerError) -> Errno {
        let handler = op.name();
        let path = path.display();
        match &e {
            HandlerError::Errno(errno) => {
                tracing::debug!(handler, %path, "handler answered {errno:?}");
            }
            HandlerError::Script { message, traceback } => {
                tracing::error!(handler, %path, "error in handler '{handler}' for {path}: {message}{}", indent(traceback));
            }
            HandlerError::BadResult(message) => {
                tracing::error!(handler, %path, "{message} for {path}");
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
        let slot = self.handles.get(fh.0).unwrap_or_default();
        if let Some(fi) = slot.fi {
            return Ok(fi);
        }
        let fi = new_file_info(lua, slot.flags)?;
        if let Some(native) = &slot.native {
            fi.raw_set("fh", native.handle)?;
        }
        self.handles.set_fi(fh.0, fi.clone());
        Ok(fi)
    }

    /// The native handle behind `fh` when it was issued by `backend`.
    pub(super) fn native_handle(
        &self,
        fh: Fh,
        backend: &Arc<dyn Operations>,
    ) -> Option<NativeHandle> {
        let native: NativeRef = self.handles.native(fh.0)?;
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
fn indent(traceback: &str) -> String {
    let frames: Vec<&str> = traceback
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "stack traceback:")
        .collect();
    if frames.is_empty() {
        String::new()
    } else {
        format!(" (traceback: {})", frames.join(" <- "))
    }
}
