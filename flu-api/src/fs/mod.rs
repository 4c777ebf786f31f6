//! The portable `fs` Lua module (`require 'fs'`, also `flu.fs`), modeled on luapower's
//! `fs` with Lua strings instead of cdata buffers. Reference: `docs/fs.md`.
//!
//! Files, one concern each:
//! - `mod.rs` (this file): the module table and the functions that need no state.
//! - [`error`]: the `nil, message, code` convention and syscall helpers.
//! - [`flags`]: open modes, flag words and permission strings.
//! - [`file`]: file objects (`fs.open`, `f:read`, …).
//! - [`dir`]: directory iteration (`fs.dir`).
//! - [`attr`]: attributes get/set (`fs.attr`, `f:attr`, `d:attr`).
//! - [`ops`]: name operations (mkdir, remove, move, links, special files, …).
//! - [`bind`]: argument handling shared by `fs.*` and the directory-handle methods.
//! - [`dirhandle`]: open directories and their `*at` methods (`fs.opendir`).
//! - [`xattr`]: extended attributes.
//! - [`map`]: memory mapping (`fs.map`, `f:map`, `fs.mirror_map`, `fs.pagesize`).
//! - [`wrap`]: descriptors from elsewhere (`fs.fileno`, `fs.wrap_fd`, `fs.wrap_file`).
//!
//! Paths and names are byte strings end to end: nothing here assumes UTF-8.

mod attr;
mod bind;
mod dir;
mod dirhandle;
mod error;
mod file;
mod flags;
mod map;
mod ops;
mod wrap;
mod xattr;

#[cfg(test)]
mod tests;

use mlua::{Lua, Table, Value};

use error::{cstr, misuse, Ret};
use file::File;
use xattr::XTarget;

use crate::stat::StatFs;

type LStr = mlua::LuaString;

const AT_FDCWD: i32 = libc::AT_FDCWD;

/// Build the `fs` module table.
pub fn create_module(lua: &Lua) -> mlua::Result<Table> {
    let fs = lua.create_table()?;
    fs.set(
        "open",
        lua.create_function(|lua, (p, mode): (LStr, Value)| bind::open(lua, AT_FDCWD, &p, &mode))?,
    )?;
    fs.set(
        "isfile",
        lua.create_function(|_, v: Value| Ok(matches!(v, Value::UserData(ud) if ud.is::<File>())))?,
    )?;
    fs.set(
        "dir",
        lua.create_function(|lua, (p, dots): (Option<LStr>, Option<bool>)| {
            bind::dir(lua, AT_FDCWD, p, dots)
        })?,
    )?;
    fs.set(
        "opendir",
        lua.create_function(|lua, p: LStr| dirhandle::open_at(lua, AT_FDCWD, &p))?,
    )?;
    fs.set(
        "isdirhandle",
        lua.create_function(|_, v: Value| Ok(dirhandle::is_dirhandle(&v)))?,
    )?;
    fs.set(
        "attr",
        lua.create_function(|lua, (p, a, b): (LStr, Value, Value)| {
            bind::attr(lua, AT_FDCWD, &p, a, b)
        })?,
    )?;
    fs.set(
        "is",
        lua.create_function(|_, (p, t, deref): (LStr, Option<String>, Option<bool>)| {
            bind::is(AT_FDCWD, &p, t, deref)
        })?,
    )?;
    fs.set(
        "mkdir",
        lua.create_function(|lua, (p, a, b): (LStr, Value, Value)| {
            bind::mkdir(lua, AT_FDCWD, &p, a, b)
        })?,
    )?;
    fs.set(
        "remove",
        lua.create_function(|_, (p, rec): (LStr, Option<bool>)| bind::remove(AT_FDCWD, &p, rec))?,
    )?;
    fs.set(
        "move",
        lua.create_function(|_, (old, new, opt): (LStr, LStr, Value)| {
            bind::mv(AT_FDCWD, &old, AT_FDCWD, &new, &opt)
        })?,
    )?;
    fs.set(
        "mksymlink",
        lua.create_function(|_, (l, t): (LStr, LStr)| bind::mksymlink(AT_FDCWD, &l, &t))?,
    )?;
    fs.set(
        "mkhardlink",
        lua.create_function(|_, (l, t): (LStr, LStr)| bind::mkhardlink(AT_FDCWD, &l, &t))?,
    )?;
    fs.set(
        "readlink",
        lua.create_function(|lua, p: LStr| bind::readlink(lua, AT_FDCWD, &p))?,
    )?;
    fs.set(
        "mknod",
        lua.create_function(|_, (p, t, perms, rdev): (LStr, Value, Value, Value)| {
            bind::mknod(AT_FDCWD, &p, t, perms, rdev)
        })?,
    )?;
    fs.set(
        "mkfifo",
        lua.create_function(|_, (p, perms): (LStr, Value)| bind::mkfifo(AT_FDCWD, &p, perms))?,
    )?;
    fs.set(
        "access",
        lua.create_function(|_, (p, mode, deref): (LStr, Value, Option<bool>)| {
            let mode = ops::access_mode(&mode)?;
            Ok(Ret(ops::access(
                AT_FDCWD,
                &p.as_bytes(),
                mode,
                deref.unwrap_or(true),
            )
            .map(|_| true)))
        })?,
    )?;
    fs.set("cd", lua.create_function(cd)?)?;
    fs.set(
        "homedir",
        lua.create_function(|lua, ()| bytes_ret(lua, ops::homedir()))?,
    )?;
    fs.set(
        "tmpdir",
        lua.create_function(|lua, ()| lua.create_string(ops::tmpdir()))?,
    )?;
    fs.set(
        "exepath",
        lua.create_function(|lua, ()| bytes_ret(lua, ops::exepath()))?,
    )?;
    fs.set(
        "exedir",
        lua.create_function(|lua, ()| bytes_ret(lua, ops::exedir()))?,
    )?;
    fs.set("statvfs", lua.create_function(statvfs)?)?;
    fs.set(
        "pagesize",
        lua.create_function(|_, ()| Ok(map::pagesize() as i64))?,
    )?;
    fs.set("aligned_size", lua.create_function(map::aligned_size)?)?;
    fs.set("map", lua.create_function(map::map)?)?;
    fs.set("mirror_map", lua.create_function(map::mirror_map)?)?;
    fs.set("unlink_mapfile", lua.create_function(map::unlink_mapfile)?)?;
    fs.set("fileno", lua.create_function(wrap::fileno)?)?;
    fs.set("wrap_fd", lua.create_function(wrap::wrap_fd)?)?;
    fs.set("wrap_file", lua.create_function(wrap::wrap_file)?)?;
    fs.set("fallocate", lua.create_function(fallocate)?)?;
    fs.set(
        "getxattr",
        lua.create_function(|lua, (p, name, deref): (Value, LStr, Option<bool>)| {
            with_xtarget(&p, deref, |t| xattr::get_lua(lua, t, &name.as_bytes()))
        })?,
    )?;
    fs.set(
        "setxattr",
        lua.create_function(
            |_, (p, name, value, flags, deref): (Value, LStr, LStr, Value, Option<bool>)| {
                with_xtarget(&p, deref, |t| {
                    xattr::set_lua(t, &name.as_bytes(), &value.as_bytes(), &flags)
                })
            },
        )?,
    )?;
    fs.set(
        "listxattr",
        lua.create_function(|lua, (p, deref): (Value, Option<bool>)| {
            with_xtarget(&p, deref, |t| xattr::list_lua(lua, t))
        })?,
    )?;
    fs.set(
        "removexattr",
        lua.create_function(|_, (p, name, deref): (Value, LStr, Option<bool>)| {
            with_xtarget(&p, deref, |t| xattr::remove_lua(t, &name.as_bytes()))
        })?,
    )?;
    Ok(fs)
}

fn bytes_ret(lua: &Lua, r: error::FsResult<Vec<u8>>) -> mlua::Result<Ret<LStr>> {
    Ok(Ret(match r {
        Ok(b) => Ok(lua.create_string(b)?),
        Err(e) => Err(e),
    }))
}

/// `fs.cd()` → cwd; `fs.cd(path)` changes it and returns the new cwd.
fn cd(lua: &Lua, path: Option<LStr>) -> mlua::Result<Ret<LStr>> {
    if let Some(p) = path {
        if let Err(e) = ops::chdir(&p.as_bytes()) {
            return Ok(Ret(Err(e)));
        }
    }
    bytes_ret(lua, ops::getcwd())
}

/// Run an xattr call on a path (following symlinks unless `deref == false`) or a file.
fn with_xtarget<R>(
    p: &Value,
    deref: Option<bool>,
    f: impl FnOnce(&XTarget) -> mlua::Result<Ret<R>>,
) -> mlua::Result<Ret<R>> {
    match p {
        Value::String(s) => {
            let c = match cstr(&s.as_bytes()) {
                Ok(c) => c,
                Err(e) => return Ok(Ret(Err(e))),
            };
            f(&XTarget::Path {
                path: &c,
                deref: deref.unwrap_or(true),
            })
        }
        Value::UserData(ud) if ud.is::<File>() => f(&XTarget::Fd(ud.borrow::<File>()?.fd()?)),
        other => Err(misuse(format!(
            "path or file expected, got {}",
            other.type_name()
        ))),
    }
}

/// The statvfs table: Flu's field names, `flag` as a set (`{rdonly=true}`), as
/// statfs handlers return it.
pub(crate) fn statvfs_table(lua: &Lua, s: &StatFs) -> mlua::Result<Table> {
    crate::lua::stat::statfs_to_lua(lua, s)
}

/// `fs.statvfs(path|f)`.
fn statvfs(lua: &Lua, p: Value) -> mlua::Result<Ret<Table>> {
    let r = match &p {
        Value::String(s) => cstr(&s.as_bytes()).and_then(|c| ops::statvfs(Some(&c), -1)),
        Value::UserData(ud) if ud.is::<File>() => ops::statvfs(None, ud.borrow::<File>()?.fd()?),
        other => {
            return Err(misuse(format!(
                "statvfs: path or file expected, got {}",
                other.type_name()
            )))
        }
    };
    Ok(Ret(match r {
        Ok(s) => Ok(statvfs_table(lua, &s)?),
        Err(e) => Err(e),
    }))
}

/// `fs.fallocate(path|f, offset, len[, mode])`.
fn fallocate(_: &Lua, (p, offset, len, mode): (Value, i64, i64, Value)) -> mlua::Result<Ret<bool>> {
    if offset < 0 || len <= 0 {
        return Err(misuse("fallocate: offset >= 0 and len > 0 expected"));
    }
    let mode = ops::falloc_mode(&mode)?;
    let r = match &p {
        Value::UserData(ud) if ud.is::<File>() => {
            ops::fallocate(ud.borrow::<File>()?.fd()?, mode, offset, len)
        }
        Value::String(s) => cstr(&s.as_bytes()).and_then(|c| {
            let flags = libc::O_WRONLY | libc::O_CLOEXEC;
            // SAFETY: NUL-terminated path; the fd is closed below.
            let fd = error::retry(|| error::cvt(unsafe { libc::open(c.as_ptr(), flags) }))?;
            let r = ops::fallocate(fd, mode, offset, len);
            // SAFETY: opened above, not used afterwards.
            unsafe { libc::close(fd) };
            r
        }),
        other => {
            return Err(misuse(format!(
                "fallocate: path or file expected, got {}",
                other.type_name()
            )))
        }
    };
    Ok(Ret(r.map(|_| true)))
}
