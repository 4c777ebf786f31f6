//! Extended attributes (Linux): get, set, list and remove, on a path (following
//! symlinks or not) or an open file.
//!
//! Lua API: `fs.getxattr(p, name[, deref])`, `fs.setxattr(p, name, value[, flags]
//! [, deref])` with flags `'create'`/`'replace'`, `fs.listxattr(p[, deref])` → array,
//! `fs.removexattr(p, name[, deref])`, where `p` is a path or a file object; plus the
//! same as file methods. Values are byte strings.

use std::ffi::CStr;
use std::os::fd::RawFd;

use mlua::{Lua, Table, Value};

use super::error::{cstr, misuse, FsResult, Ret};
use crate::errno::Errno;

/// What an xattr call is about.
pub(crate) enum XTarget<'a> {
    Path { path: &'a CStr, deref: bool },
    Fd(RawFd),
}

/// Run a size-returning xattr call into a buffer, growing it when the value grew
/// between asking its size and reading it (ERANGE).
fn sized(mut call: impl FnMut(*mut libc::c_char, usize) -> isize) -> FsResult<Vec<u8>> {
    loop {
        let n = call(std::ptr::null_mut(), 0);
        if n < 0 {
            return Err(Errno::last());
        }
        let mut buf = vec![0u8; n as usize];
        let m = call(buf.as_mut_ptr().cast(), buf.len());
        if m < 0 {
            let e = Errno::last();
            if e == Errno::ERANGE {
                continue;
            }
            return Err(e);
        }
        buf.truncate(m as usize);
        return Ok(buf);
    }
}

pub(crate) fn get(t: &XTarget, name: &CStr) -> FsResult<Vec<u8>> {
    // SAFETY: buffers come from `sized` with their true length; strings are NUL-terminated.
    sized(|buf, len| unsafe {
        match *t {
            XTarget::Path { path, deref: true } => {
                libc::getxattr(path.as_ptr(), name.as_ptr(), buf.cast(), len)
            }
            XTarget::Path { path, deref: false } => {
                libc::lgetxattr(path.as_ptr(), name.as_ptr(), buf.cast(), len)
            }
            XTarget::Fd(fd) => libc::fgetxattr(fd, name.as_ptr(), buf.cast(), len),
        }
    })
}

pub(crate) fn list(t: &XTarget) -> FsResult<Vec<Vec<u8>>> {
    // SAFETY: as in `get`.
    let raw = sized(|buf, len| unsafe {
        match *t {
            XTarget::Path { path, deref: true } => libc::listxattr(path.as_ptr(), buf, len),
            XTarget::Path { path, deref: false } => libc::llistxattr(path.as_ptr(), buf, len),
            XTarget::Fd(fd) => libc::flistxattr(fd, buf, len),
        }
    })?;
    Ok(raw
        .split(|&c| c == 0)
        .filter(|n| !n.is_empty())
        .map(<[u8]>::to_vec)
        .collect())
}

pub(crate) fn set(t: &XTarget, name: &CStr, value: &[u8], flags: libc::c_int) -> FsResult<()> {
    let v = value.as_ptr().cast();
    // SAFETY: value is a valid slice; strings are NUL-terminated.
    let r = unsafe {
        match *t {
            XTarget::Path { path, deref: true } => {
                libc::setxattr(path.as_ptr(), name.as_ptr(), v, value.len(), flags)
            }
            XTarget::Path { path, deref: false } => {
                libc::lsetxattr(path.as_ptr(), name.as_ptr(), v, value.len(), flags)
            }
            XTarget::Fd(fd) => libc::fsetxattr(fd, name.as_ptr(), v, value.len(), flags),
        }
    };
    super::error::cvt(r).map(drop)
}

pub(crate) fn remove(t: &XTarget, name: &CStr) -> FsResult<()> {
    // SAFETY: NUL-terminated strings.
    let r = unsafe {
        match *t {
            XTarget::Path { path, deref: true } => libc::removexattr(path.as_ptr(), name.as_ptr()),
            XTarget::Path { path, deref: false } => {
                libc::lremovexattr(path.as_ptr(), name.as_ptr())
            }
            XTarget::Fd(fd) => libc::fremovexattr(fd, name.as_ptr()),
        }
    };
    super::error::cvt(r).map(drop)
}

/// `'create'` (fail if it exists), `'replace'` (fail if it does not), nil, or a number.
pub(crate) fn set_flags(v: &Value) -> mlua::Result<libc::c_int> {
    match v {
        Value::Nil => Ok(0),
        Value::Integer(n) => {
            libc::c_int::try_from(*n).map_err(|_| misuse("setxattr: flags out of range"))
        }
        Value::String(s) => match s.as_bytes().as_ref() {
            b"create" => Ok(libc::XATTR_CREATE),
            b"replace" => Ok(libc::XATTR_REPLACE),
            _ => Err(misuse("setxattr: flags must be 'create' or 'replace'")),
        },
        other => Err(misuse(format!(
            "setxattr: flags must be 'create' or 'replace', got {}",
            other.type_name()
        ))),
    }
}

// Lua-facing wrappers shared by fs.* and the file methods.

pub(crate) fn get_lua(lua: &Lua, t: &XTarget, name: &[u8]) -> mlua::Result<Ret<mlua::LuaString>> {
    let r = cstr(name).and_then(|n| get(t, &n));
    Ok(Ret(match r {
        Ok(v) => Ok(lua.create_string(v)?),
        Err(e) => Err(e),
    }))
}

pub(crate) fn set_lua(
    t: &XTarget,
    name: &[u8],
    value: &[u8],
    flags: &Value,
) -> mlua::Result<Ret<bool>> {
    let flags = set_flags(flags)?;
    Ok(Ret(cstr(name)
        .and_then(|n| set(t, &n, value, flags))
        .map(|_| true)))
}

pub(crate) fn list_lua(lua: &Lua, t: &XTarget) -> mlua::Result<Ret<Table>> {
    Ok(Ret(match list(t) {
        Ok(names) => Ok(lua.create_sequence_from(
            names
                .into_iter()
                .map(|n| lua.create_string(n))
                .collect::<mlua::Result<Vec<_>>>()?,
        )?),
        Err(e) => Err(e),
    }))
}

pub(crate) fn remove_lua(t: &XTarget, name: &[u8]) -> mlua::Result<Ret<bool>> {
    Ok(Ret(cstr(name).and_then(|n| remove(t, &n)).map(|_| true)))
}
