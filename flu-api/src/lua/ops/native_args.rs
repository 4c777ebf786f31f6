//! What every native function shares: its type (`Raw`), reading its arguments (paths,
//! integers, times, and what a file-info table `fi` carries: the native handle, open
//! flags, lock owner), the request context the daemon left for the call, and shaping
//! its answer for the raising wrapper.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use std::sync::Arc;

use mlua::{IntoLuaMulti, Lua, MultiValue, Value};

use crate::lua::errno::LuaErrno;
use crate::lua::handles::{with_native_handle, HandleKind, NativeHandle};
use crate::lua::sets::open_flags_from_lua;
use crate::lua::time::timespec_from_lua;
use crate::operations::{Fh, OpResult, Operations, RequestContext};
use crate::time::TimeSet;

/// `(true, results…)` or `(false, errno)`: the shim raises the errno.
pub(super) fn answer<T: IntoLuaMulti>(lua: &Lua, r: OpResult<T>) -> mlua::Result<MultiValue> {
    match r {
        Ok(v) => {
            let mut mv = v.into_lua_multi(lua)?;
            mv.push_front(Value::Boolean(true));
            Ok(mv)
        }
        Err(e) => (false, LuaErrno(e)).into_lua_multi(lua),
    }
}

/// A native function: its Lua arguments, the backend, and `answer`'s results.
pub(super) type Raw = fn(&Lua, &Arc<dyn Operations>, MultiValue) -> mlua::Result<MultiValue>;

pub(super) fn ctx(lua: &Lua) -> RequestContext {
    crate::lua::caller::get(lua).unwrap_or_default()
}

pub(super) fn path_arg(v: &Value, what: &str) -> mlua::Result<std::path::PathBuf> {
    match v {
        Value::String(s) => Ok(Path::new(OsStr::from_bytes(&s.as_bytes())).to_path_buf()),
        other => Err(mlua::Error::runtime(format!(
            "bad argument '{what}' (string expected, got {})",
            other.type_name()
        ))),
    }
}

pub(super) fn int_arg(v: &Value, what: &str) -> mlua::Result<i64> {
    match v {
        Value::Integer(n) => Ok(*n),
        Value::Number(n) if n.fract() == 0.0 => Ok(*n as i64),
        other => Err(mlua::Error::runtime(format!(
            "bad argument '{what}' (integer expected, got {})",
            other.type_name()
        ))),
    }
}

/// The native handle in `fi.fh`, if any.
pub(super) fn handle_of(fi: &Value) -> Option<NativeHandle> {
    let Value::Table(fi) = fi else { return None };
    match fi.raw_get::<Value>("fh").ok()? {
        Value::UserData(ud) => ud.borrow::<NativeHandle>().ok().map(|h| *h),
        _ => None,
    }
}

pub(super) fn lock_owner_of(fi: &Value) -> u64 {
    match fi {
        Value::Table(fi) => fi
            .raw_get::<Option<i64>>("lock_owner")
            .ok()
            .flatten()
            .unwrap_or(0) as u64,
        _ => 0,
    }
}

pub(super) fn flags_of(fi: &Value) -> i32 {
    match fi {
        Value::Table(fi) => fi
            .raw_get::<Value>("flags")
            .ok()
            .and_then(|f| open_flags_from_lua(&f).ok())
            .unwrap_or(libc::O_RDONLY),
        _ => libc::O_RDONLY,
    }
}

pub(super) fn time_arg(v: &Value) -> mlua::Result<TimeSet> {
    match v {
        Value::Nil => Ok(TimeSet::Omit),
        Value::String(s) if s.as_bytes().as_ref() == b"now" => Ok(TimeSet::Now),
        other => timespec_from_lua(other)
            .map(TimeSet::At)
            .map_err(mlua::Error::runtime),
    }
}

pub(super) fn arg(args: &MultiValue, i: usize) -> Value {
    args.get(i).cloned().unwrap_or(Value::Nil)
}

pub(super) fn optional_id(v: &Value) -> Option<u32> {
    match v {
        Value::Integer(n) if *n >= 0 && *n <= u32::MAX as i64 => Some(*n as u32),
        _ => None,
    }
}

/// fsync's datasync as Flu passes it: a boolean (fsync) or a number (fsyncdir).
pub(super) fn datasync_arg(v: &Value) -> bool {
    matches!(v, Value::Boolean(true)) || matches!(v, Value::Integer(n) if *n != 0)
}

/// Run `f` on the backend handle in `fi.fh`, or on a temporary one (see
/// `with_native_handle`).
pub(super) fn with_fi_handle<R>(
    backend: &Arc<dyn Operations>,
    ctx: &RequestContext,
    path: &Path,
    fi: &Value,
    kind: HandleKind,
    f: impl FnOnce(Fh) -> OpResult<R>,
) -> OpResult<R> {
    let handle = handle_of(fi).map(|h| h.fh);
    with_native_handle(backend, ctx, path, handle, flags_of(fi), kind, f)
}
