//! Argument parsing and result shaping for the name-based operations, written once
//! against a directory fd: `fs.*` passes `AT_FDCWD`, an open directory handle
//! (`dh:*`) passes its own fd. The syscalls themselves live in `ops`, `attr`, `file`
//! and `dir`.

use std::os::fd::RawFd;

use mlua::{AnyUserData, Function, IntoLuaMulti, Lua, MultiValue, Value};

use super::attr::{self, check_type_name, Target};
use super::dir::{self, Dir, RawDir};
use super::error::{cstr, misuse, FsResult, Ret};
use super::file::{self, gc_retry, File};
use super::flags::{open_spec, parse_perms};
use super::ops;
use crate::errno::Errno;

type LStr = mlua::LuaString;

pub(crate) fn open(lua: &Lua, at: RawFd, path: &LStr, mode: &Value) -> mlua::Result<Ret<File>> {
    let spec = open_spec(mode)?;
    Ok(Ret(file::open_at(lua, at, &path.as_bytes(), spec)?))
}

/// `attr(path[, name|table][, deref])`; also `attr(path, deref)`.
pub(crate) fn attr(
    lua: &Lua,
    at: RawFd,
    path: &LStr,
    a: Value,
    b: Value,
) -> mlua::Result<Ret<Value>> {
    let deref = match (&a, &b) {
        (Value::Boolean(d), _) => *d,
        (_, Value::Nil) => true,
        (_, Value::Boolean(d)) => *d,
        (_, other) => {
            return Err(misuse(format!(
                "attr: deref must be a boolean, got {}",
                other.type_name()
            )))
        }
    };
    let c = match cstr(&path.as_bytes()) {
        Ok(c) => c,
        Err(e) => return Ok(Ret(Err(e))),
    };
    let t = Target::At {
        dirfd: at,
        path: &c,
        deref,
    };
    Ok(Ret(match a {
        Value::Nil | Value::Boolean(_) => attr::get(lua, &t, None)?,
        Value::String(s) => attr::get(lua, &t, Some(&s.to_str()?))?,
        Value::Table(tbl) => attr::set(&t, &tbl)?.map(Value::Boolean),
        other => {
            return Err(misuse(format!(
                "attr: name or table expected, got {}",
                other.type_name()
            )))
        }
    }))
}

/// `is(path[, type][, deref])`: false when the file does not exist; `symlink` is
/// checked without following (as luapower does).
pub(crate) fn is(
    at: RawFd,
    path: &LStr,
    ty: Option<String>,
    deref: Option<bool>,
) -> mlua::Result<Ret<bool>> {
    if let Some(t) = &ty {
        check_type_name(t)?;
    }
    let deref = deref.unwrap_or(ty.as_deref() != Some("symlink"));
    let c = match cstr(&path.as_bytes()) {
        Ok(c) => c,
        Err(e) => return Ok(Ret(Err(e))),
    };
    let t = Target::At {
        dirfd: at,
        path: &c,
        deref,
    };
    Ok(Ret(match t.stat() {
        Ok(st) => Ok(ty.is_none_or(|want| want == attr::type_name(st.st_mode))),
        Err(e) if e == Errno::ENOENT || e == Errno::ENOTDIR => Ok(false),
        Err(e) => Err(e),
    }))
}

/// `mkdir(path[, recursive][, perms])`; perms may also come second.
pub(crate) fn mkdir(
    lua: &Lua,
    at: RawFd,
    path: &LStr,
    a: Value,
    b: Value,
) -> mlua::Result<MultiValue> {
    let (recursive, perms) = match (a, b) {
        (Value::Nil, p) => (false, p),
        (Value::Boolean(r), p) => (r, p),
        (p, Value::Nil) => (false, p),
        (other, _) => {
            return Err(misuse(format!(
                "mkdir: recursive must be a boolean, got {}",
                other.type_name()
            )))
        }
    };
    let perms = match perms {
        Value::Nil => 0o777,
        p => parse_perms(&p, 0)?.0,
    };
    match ops::mkdir(at, &path.as_bytes(), recursive, perms) {
        Ok(None) => true.into_lua_multi(lua),
        // luapower: an existing directory in recursive mode is success, with a note.
        Ok(Some(e)) => (true, e.fs_message(), e.code()).into_lua_multi(lua),
        Err(e) => Ret::<bool>(Err(e)).into_lua_multi(lua),
    }
}

pub(crate) fn remove(at: RawFd, path: &LStr, recursive: Option<bool>) -> mlua::Result<Ret<bool>> {
    Ok(Ret(ops::remove(
        at,
        &path.as_bytes(),
        recursive.unwrap_or(false),
    )
    .map(|_| true)))
}

pub(crate) fn mv(
    at: RawFd,
    old: &LStr,
    at2: RawFd,
    new: &LStr,
    opt: &Value,
) -> mlua::Result<Ret<bool>> {
    let flags = ops::rename_flags(opt)?;
    Ok(Ret(ops::rename(
        at,
        &old.as_bytes(),
        at2,
        &new.as_bytes(),
        flags,
    )
    .map(|_| true)))
}

pub(crate) fn mksymlink(at: RawFd, link: &LStr, target: &LStr) -> mlua::Result<Ret<bool>> {
    Ok(Ret(
        ops::symlink(at, &link.as_bytes(), &target.as_bytes()).map(|_| true)
    ))
}

pub(crate) fn mkhardlink(at: RawFd, link: &LStr, target: &LStr) -> mlua::Result<Ret<bool>> {
    Ok(Ret(
        ops::hardlink(at, &link.as_bytes(), &target.as_bytes()).map(|_| true)
    ))
}

pub(crate) fn readlink(lua: &Lua, at: RawFd, path: &LStr) -> mlua::Result<Ret<LStr>> {
    let r = cstr(&path.as_bytes()).and_then(|c| ops::readlink_at(at, &c));
    Ok(Ret(match r {
        Ok(b) => Ok(lua.create_string(b)?),
        Err(e) => Err(e),
    }))
}

/// `mknod(path, type|mode[, perms][, rdev])`: type is a name (`'chardev'`, …) or a
/// full numeric mode; rdev is a number or `{major=, minor=}`.
pub(crate) fn mknod(
    at: RawFd,
    path: &LStr,
    ty: Value,
    perms: Value,
    rdev: Value,
) -> mlua::Result<Ret<bool>> {
    let perms = match perms {
        Value::Nil => None,
        p => Some(parse_perms(&p, 0)?.0),
    };
    let mode = match ty {
        Value::String(s) => {
            let s = s.to_str()?;
            let bits =
                ops::type_bits(&s).ok_or_else(|| misuse(format!("mknod: unknown type '{s}'")))?;
            bits | perms.unwrap_or(0o666)
        }
        Value::Integer(m) => {
            let m = u32::try_from(m).map_err(|_| misuse("mknod: mode out of range"))?;
            match perms {
                Some(p) => (m & libc::S_IFMT) | p,
                None => m,
            }
        }
        other => {
            return Err(misuse(format!(
                "mknod: type name or mode expected, got {}",
                other.type_name()
            )))
        }
    };
    let rdev = match rdev {
        Value::Nil => 0,
        Value::Integer(n) => n as u64,
        Value::Table(t) => libc::makedev(t.get("major")?, t.get("minor")?),
        other => {
            return Err(misuse(format!(
                "mknod: rdev must be a number or {{major=, minor=}}, got {}",
                other.type_name()
            )))
        }
    };
    Ok(Ret(
        ops::mknod(at, &path.as_bytes(), mode, rdev).map(|_| true)
    ))
}

pub(crate) fn mkfifo(at: RawFd, path: &LStr, perms: Value) -> mlua::Result<Ret<bool>> {
    let perms = match perms {
        Value::Nil => 0o666,
        p => parse_perms(&p, 0)?.0,
    };
    Ok(Ret(ops::mkfifo(at, &path.as_bytes(), perms).map(|_| true)))
}

/// `dir([path][, dot_dirs])` relative to `at`.
pub(crate) fn dir(
    lua: &Lua,
    at: RawFd,
    path: Option<LStr>,
    dot_dirs: Option<bool>,
) -> mlua::Result<(Function, AnyUserData, Value, AnyUserData)> {
    let p = path
        .map(|p| p.as_bytes().to_vec())
        .unwrap_or_else(|| b".".to_vec());
    let opened: FsResult<RawDir> = match cstr(&p) {
        Ok(c) => gc_retry(lua, || RawDir::open_at(at, &c))?,
        Err(e) => Err(e),
    };
    dir::iterate(lua, Dir::new(opened, p, dot_dirs.unwrap_or(false)))
}
