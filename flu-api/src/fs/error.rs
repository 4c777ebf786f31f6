//! The `nil, message, code` convention and the small syscall helpers every other file
//! uses to get there.
//!
//! OS failures travel as `Result<T, Errno>` and become `nil, msg, code` only at the Lua
//! boundary ([`Ret`]); misuse (a wrong argument type, a closed file) is an `mlua::Error`
//! and raises. Keeping the two apart is what lets one `?` mean "raise" and the other
//! mean "report".

use std::ffi::CString;

use mlua::{IntoLuaMulti, Lua, MultiValue, Value};

use crate::errno::Errno;

/// The result of an OS operation.
pub(crate) type FsResult<T> = Result<T, Errno>;

/// What a module function returns to Lua: the value(s), or `nil, message, code`.
pub(crate) struct Ret<T>(pub FsResult<T>);

impl<T> From<FsResult<T>> for Ret<T> {
    fn from(r: FsResult<T>) -> Ret<T> {
        Ret(r)
    }
}

impl<T: IntoLuaMulti> IntoLuaMulti for Ret<T> {
    fn into_lua_multi(self, lua: &Lua) -> mlua::Result<MultiValue> {
        match self.0 {
            Ok(v) => v.into_lua_multi(lua),
            Err(e) => (Value::Nil, e.fs_message(), e.code()).into_lua_multi(lua),
        }
    }
}

/// A raised Lua error for misuse of the API.
pub(crate) fn misuse(msg: impl Into<String>) -> mlua::Error {
    mlua::Error::RuntimeError(msg.into())
}

/// A path or name as the C library takes it. An interior NUL cannot name any file, so it
/// is reported like the kernel reports other invalid names (EINVAL), not raised.
pub(crate) fn cstr(bytes: &[u8]) -> FsResult<CString> {
    CString::new(bytes).map_err(|_| Errno::EINVAL)
}

/// Turn a libc `-1` return into the thread's errno.
pub(crate) fn cvt(r: libc::c_int) -> FsResult<libc::c_int> {
    if r == -1 {
        Err(Errno::last())
    } else {
        Ok(r)
    }
}

/// Like [`cvt`] for calls returning `ssize_t`/`off_t`.
pub(crate) fn cvt64(r: i64) -> FsResult<i64> {
    if r == -1 {
        Err(Errno::last())
    } else {
        Ok(r)
    }
}

/// Retry a call interrupted by a signal: a script never wants to see EINTR.
pub(crate) fn retry<T>(mut f: impl FnMut() -> FsResult<T>) -> FsResult<T> {
    loop {
        match f() {
            Err(e) if e.code() == libc::EINTR => continue,
            r => return r,
        }
    }
}
