//! Native backends seen from Lua: `flu.passthrough(root)` returns a table of functions
//! implemented in Rust over an `Operations` backend. Overrides call them like any
//! handler (`base.read(path, size, offset, fi)`); errors are raised as errno values.
//!
//! Each function is recorded in the `NativeRegistry`, so that when a filesystem table
//! still holds the backend's own function for an operation, the dispatcher calls the
//! backend directly and Lua is not entered at all.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use mlua::{Function, IntoLuaMulti, Lua, MultiValue, Table, Value};

use super::errno::LuaErrno;
use super::handles::NativeHandle;
use super::sets::{bits_from_lua, mode_from_lua, open_flags_from_lua, type_string};
use super::stat::{stat_to_lua, statfs_to_lua};
use super::time::timespec_from_lua;
use crate::errno::Errno;
use crate::operations::{Fh, FileLock, OpResult, Operations, RequestContext};
use crate::time::TimeSet;

/// A native function's handler name and backend.
type NativeEntry = (&'static str, Arc<dyn Operations>);

/// Native functions by identity: Lua function pointer → (handler name, backend).
#[derive(Clone, Default)]
pub struct NativeRegistry {
    functions: Arc<Mutex<HashMap<usize, NativeEntry>>>,
}

impl NativeRegistry {
    fn record(&self, f: &Function, op: &'static str, backend: Arc<dyn Operations>) {
        let mut map = self.functions.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(f.to_pointer() as usize, (op, backend));
    }

    /// The backend when `f` is its own function for handler `op`.
    pub fn lookup(&self, f: &Function, op: &str) -> Option<Arc<dyn Operations>> {
        let map = self.functions.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&(f.to_pointer() as usize)) {
            Some((name, backend)) if *name == op => Some(backend.clone()),
            _ => None,
        }
    }
}

/// Rename flag names as handlers receive them.
pub const RENAME_FLAGS: &[(&str, u64)] = &[
    ("noreplace", libc::RENAME_NOREPLACE as u64),
    ("exchange", libc::RENAME_EXCHANGE as u64),
    ("whiteout", libc::RENAME_WHITEOUT as u64),
];

/// xattr flag names as handlers receive them.
pub const XATTR_FLAGS: &[(&str, u64)] = &[
    ("create", libc::XATTR_CREATE as u64),
    ("replace", libc::XATTR_REPLACE as u64),
];

fn ctx(lua: &Lua) -> RequestContext {
    lua.app_data_ref::<RequestContext>()
        .map(|c| *c)
        .unwrap_or_default()
}

fn path_arg(v: &Value, what: &str) -> mlua::Result<std::path::PathBuf> {
    match v {
        Value::String(s) => Ok(Path::new(OsStr::from_bytes(&s.as_bytes())).to_path_buf()),
        other => Err(mlua::Error::runtime(format!(
            "bad argument '{what}' (string expected, got {})",
            other.type_name()
        ))),
    }
}

fn int_arg(v: &Value, what: &str) -> mlua::Result<i64> {
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
fn handle_of(fi: &Value) -> Option<NativeHandle> {
    let Value::Table(fi) = fi else { return None };
    match fi.raw_get::<Value>("fh").ok()? {
        Value::UserData(ud) => ud.borrow::<NativeHandle>().ok().map(|h| *h),
        _ => None,
    }
}

fn lock_owner_of(fi: &Value) -> u64 {
    match fi {
        Value::Table(fi) => fi
            .raw_get::<Option<i64>>("lock_owner")
            .ok()
            .flatten()
            .unwrap_or(0) as u64,
        _ => 0,
    }
}

fn flags_of(fi: &Value) -> i32 {
    match fi {
        Value::Table(fi) => fi
            .raw_get::<Value>("flags")
            .ok()
            .and_then(|f| open_flags_from_lua(&f).ok())
            .unwrap_or(libc::O_RDONLY),
        _ => libc::O_RDONLY,
    }
}

/// Run `f` on the file's native handle, or on a temporary one when the file was not
/// opened by this backend.
fn with_handle<R>(
    backend: &Arc<dyn Operations>,
    c: &RequestContext,
    path: &Path,
    fi: &Value,
    dir: bool,
    f: impl FnOnce(Fh) -> OpResult<R>,
) -> OpResult<R> {
    if let Some(h) = handle_of(fi) {
        return f(Fh(h.fh));
    }
    let flags = flags_of(fi) & !(libc::O_CREAT | libc::O_EXCL | libc::O_TRUNC);
    let opened = if dir {
        backend.opendir(c, path, flags)?
    } else {
        backend.open(c, path, flags)?
    };
    let fh = Fh(opened.fh);
    let result = f(fh);
    let _ = if dir {
        backend.releasedir(c, path, fh)
    } else {
        backend.release(c, path, fh, flags, false)
    };
    result
}

/// `(true, results…)` or `(false, errno)`: the shim raises the errno.
fn answer<T: IntoLuaMulti>(lua: &Lua, r: OpResult<T>) -> mlua::Result<MultiValue> {
    match r {
        Ok(v) => {
            let mut mv = v.into_lua_multi(lua)?;
            mv.push_front(Value::Boolean(true));
            Ok(mv)
        }
        Err(e) => (false, LuaErrno(e)).into_lua_multi(lua),
    }
}

fn store_open(lua: &Lua, fi: &Value, opened: crate::operations::Opened) -> mlua::Result<()> {
    if let Value::Table(fi) = fi {
        fi.raw_set(
            "fh",
            lua.create_userdata(NativeHandle {
                fh: opened.fh,
                backing_fd: opened.backing_fd,
            })?,
        )?;
        if opened.direct_io {
            fi.raw_set("direct_io", true)?;
        }
        if opened.keep_cache {
            fi.raw_set("keep_cache", true)?;
        }
        if opened.nonseekable {
            fi.raw_set("nonseekable", true)?;
        }
    }
    Ok(())
}

fn time_arg(v: &Value) -> mlua::Result<TimeSet> {
    match v {
        Value::Nil => Ok(TimeSet::Omit),
        Value::String(s) if s.as_bytes().as_ref() == b"now" => Ok(TimeSet::Now),
        other => timespec_from_lua(other)
            .map(TimeSet::At)
            .map_err(mlua::Error::runtime),
    }
}

/// A lock table (`{type='rdlck'|'wrlck'|'unlck', start=, ['end']=, pid=}`; `'read'`
/// and `'write'` are accepted too); fields left out come from `default`.
pub fn lock_from_lua(v: &Value, default: FileLock) -> FileLock {
    let Value::Table(t) = v else { return default };
    let get = |k: &str| t.get::<Option<i64>>(k).ok().flatten();
    let typ = match t.get::<Option<String>>("type").ok().flatten().as_deref() {
        Some("rdlck") | Some("read") => libc::F_RDLCK,
        Some("wrlck") | Some("write") => libc::F_WRLCK,
        Some(_) => libc::F_UNLCK,
        None => default.typ,
    };
    FileLock {
        start: get("start").map(|n| n as u64).unwrap_or(default.start),
        end: get("end").map(|n| n as u64).unwrap_or(default.end),
        typ,
        pid: get("pid").map(|n| n as u32).unwrap_or(default.pid),
    }
}

pub fn lock_to_lua(lua: &Lua, l: &FileLock) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let typ = match l.typ {
        libc::F_RDLCK => "rdlck",
        libc::F_WRLCK => "wrlck",
        _ => "unlck",
    };
    t.raw_set("type", typ)?;
    t.raw_set("start", l.start as i64)?;
    t.raw_set("end", l.end as i64)?;
    t.raw_set("pid", l.pid)?;
    Ok(t)
}

type Raw = fn(&Lua, &Arc<dyn Operations>, MultiValue) -> mlua::Result<MultiValue>;

fn arg(args: &MultiValue, i: usize) -> Value {
    args.get(i).cloned().unwrap_or(Value::Nil)
}

fn optional_id(v: &Value) -> Option<u32> {
    match v {
        Value::Integer(n) if *n >= 0 && *n <= u32::MAX as i64 => Some(*n as u32),
        _ => None,
    }
}

/// The functions of a native handler table, by handler name.
fn raw_functions() -> Vec<(&'static str, Raw)> {
    vec![
        ("getattr", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let c = ctx(lua);
            let fi = arg(&a, 1);
            let r = match handle_of(&fi) {
                Some(h) => b.getattr(&c, &p, Some(Fh(h.fh))),
                None => b.getattr(&c, &p, None),
            };
            match r {
                Ok(st) => answer(lua, Ok(stat_to_lua(lua, &st)?)),
                Err(e) => answer::<()>(lua, Err(e)),
            }
        }),
        ("fgetattr", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let c = ctx(lua);
            let r = b.getattr(&c, &p, handle_of(&arg(&a, 1)).map(|h| Fh(h.fh)));
            match r {
                Ok(st) => answer(lua, Ok(stat_to_lua(lua, &st)?)),
                Err(e) => answer::<()>(lua, Err(e)),
            }
        }),
        ("readlink", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let r = b.readlink(&ctx(lua), &p).map(|t| lua.create_string(t));
            match r {
                Ok(s) => answer(lua, Ok(s?)),
                Err(e) => answer::<()>(lua, Err(e)),
            }
        }),
        ("mknod", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let mode = mode_from_lua(&arg(&a, 1)).map_err(mlua::Error::runtime)?;
            let rdev = int_arg(&arg(&a, 2), "rdev").unwrap_or(0) as u64;
            answer(lua, b.mknod(&ctx(lua), &p, mode, rdev))
        }),
        ("mkdir", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let mode = mode_from_lua(&arg(&a, 1)).map_err(mlua::Error::runtime)?;
            answer(lua, b.mkdir(&ctx(lua), &p, mode))
        }),
        ("unlink", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            answer(lua, b.unlink(&ctx(lua), &p))
        }),
        ("rmdir", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            answer(lua, b.rmdir(&ctx(lua), &p))
        }),
        ("symlink", |lua, b, a| {
            let target = path_arg(&arg(&a, 0), "target")?;
            let p = path_arg(&arg(&a, 1), "path")?;
            answer(lua, b.symlink(&ctx(lua), &target, &p))
        }),
        ("rename", |lua, b, a| {
            let from = path_arg(&arg(&a, 0), "old")?;
            let to = path_arg(&arg(&a, 1), "new")?;
            let flags = bits_from_lua(&arg(&a, 2), RENAME_FLAGS) as u32;
            answer(lua, b.rename(&ctx(lua), &from, &to, flags))
        }),
        ("link", |lua, b, a| {
            let from = path_arg(&arg(&a, 0), "old")?;
            let to = path_arg(&arg(&a, 1), "new")?;
            answer(lua, b.link(&ctx(lua), &from, &to))
        }),
        ("chmod", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let mode = mode_from_lua(&arg(&a, 1)).map_err(mlua::Error::runtime)?;
            let fh = handle_of(&arg(&a, 2)).map(|h| Fh(h.fh));
            answer(lua, b.chmod(&ctx(lua), &p, mode & 0o7777, fh))
        }),
        ("chown", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let uid = optional_id(&arg(&a, 1));
            let gid = optional_id(&arg(&a, 2));
            let fh = handle_of(&arg(&a, 3)).map(|h| Fh(h.fh));
            answer(lua, b.chown(&ctx(lua), &p, uid, gid, fh))
        }),
        ("truncate", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let size = int_arg(&arg(&a, 1), "size")?.max(0) as u64;
            let fh = handle_of(&arg(&a, 2)).map(|h| Fh(h.fh));
            answer(lua, b.truncate(&ctx(lua), &p, size, fh))
        }),
        ("ftruncate", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let size = int_arg(&arg(&a, 1), "size")?.max(0) as u64;
            let fh = handle_of(&arg(&a, 2)).map(|h| Fh(h.fh));
            answer(lua, b.truncate(&ctx(lua), &p, size, fh))
        }),
        ("utimens", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let atime = time_arg(&arg(&a, 1))?;
            let mtime = time_arg(&arg(&a, 2))?;
            let fh = handle_of(&arg(&a, 3)).map(|h| Fh(h.fh));
            answer(lua, b.utimens(&ctx(lua), &p, atime, mtime, fh))
        }),
        ("open", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let fi = arg(&a, 1);
            match b.open(&ctx(lua), &p, flags_of(&fi)) {
                Ok(opened) => {
                    store_open(lua, &fi, opened)?;
                    answer(lua, Ok(()))
                }
                Err(e) => answer::<()>(lua, Err(e)),
            }
        }),
        ("create", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let mode = mode_from_lua(&arg(&a, 1)).map_err(mlua::Error::runtime)?;
            let fi = arg(&a, 2);
            match b.create(&ctx(lua), &p, mode, flags_of(&fi)) {
                Ok(opened) => {
                    store_open(lua, &fi, opened)?;
                    answer(lua, Ok(()))
                }
                Err(e) => answer::<()>(lua, Err(e)),
            }
        }),
        ("read", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let size = int_arg(&arg(&a, 1), "size")?.clamp(0, u32::MAX as i64) as u32;
            let offset = int_arg(&arg(&a, 2), "offset")?.max(0) as u64;
            let c = ctx(lua);
            match with_handle(b, &c, &p, &arg(&a, 3), false, |fh| {
                b.read(&c, &p, fh, offset, size)
            }) {
                Ok(data) => answer(lua, Ok(lua.create_string(data)?)),
                Err(e) => answer::<()>(lua, Err(e)),
            }
        }),
        ("write", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let Value::String(data) = arg(&a, 1) else {
                return Err(mlua::Error::runtime(
                    "bad argument 'data' (string expected)",
                ));
            };
            let offset = int_arg(&arg(&a, 2), "offset")?.max(0) as u64;
            let c = ctx(lua);
            let bytes = data.as_bytes();
            answer(
                lua,
                with_handle(b, &c, &p, &arg(&a, 3), false, |fh| {
                    b.write(&c, &p, fh, offset, &bytes)
                }),
            )
        }),
        ("flush", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let c = ctx(lua);
            let owner = lock_owner_of(&arg(&a, 1));
            match handle_of(&arg(&a, 1)) {
                Some(h) => answer(lua, b.flush(&c, &p, Fh(h.fh), owner)),
                None => answer(lua, Ok(())),
            }
        }),
        ("release", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let fi = arg(&a, 1);
            let c = ctx(lua);
            match handle_of(&fi) {
                Some(h) => answer(lua, b.release(&c, &p, Fh(h.fh), flags_of(&fi), false)),
                None => answer(lua, Ok(())),
            }
        }),
        ("fsync", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let datasync = matches!(arg(&a, 1), Value::Boolean(true))
                || matches!(arg(&a, 1), Value::Integer(n) if n != 0);
            let c = ctx(lua);
            answer(
                lua,
                with_handle(b, &c, &p, &arg(&a, 2), false, |fh| {
                    b.fsync(&c, &p, fh, datasync)
                }),
            )
        }),
        ("opendir", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let fi = arg(&a, 1);
            match b.opendir(&ctx(lua), &p, flags_of(&fi)) {
                Ok(opened) => {
                    store_open(lua, &fi, opened)?;
                    answer(lua, Ok(()))
                }
                Err(e) => answer::<()>(lua, Err(e)),
            }
        }),
        ("readdir", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let Value::Function(filler) = arg(&a, 1) else {
                return Err(mlua::Error::runtime(
                    "bad argument 'filler' (function expected)",
                ));
            };
            let c = ctx(lua);
            // The filler gets what the backend listed: a stat table only when it gave a
            // stat (the passthrough does not), else the entry's type as a Flu mode string
            // ('file', 'directory', …), else nil. Measured with bench/run on flu-lua
            // (readdir of 2,000 files, time ratio to native): stating every entry here to
            // hand the filler a full stat table ×42 (the tables are built and parsed back
            // for each entry, although the kernel wants attributes only for the first
            // chunk); a type string ×13; nothing (nil) ×72, as the daemon must then ask
            // the Lua getattr for every entry's type. Readdirplus entries without a stat
            // are stated through getattr, so a Lua getattr override also sees them.
            let listed = with_handle(b, &c, &p, &arg(&a, 2), true, |fh| b.readdir(&c, &p, fh));
            match listed {
                Ok(entries) => {
                    for e in entries {
                        let name = lua.create_string(e.name.as_bytes())?;
                        let stat = match (&e.stat, e.kind.and_then(type_string)) {
                            (Some(st), _) => Value::Table(stat_to_lua(lua, st)?),
                            (None, Some(t)) => Value::String(lua.create_string(t)?),
                            (None, None) => Value::Nil,
                        };
                        let more: Value = filler.call((name, stat))?;
                        if matches!(more, Value::Boolean(false)) {
                            break;
                        }
                    }
                    answer(lua, Ok(()))
                }
                Err(e) => answer::<()>(lua, Err(e)),
            }
        }),
        ("releasedir", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            match handle_of(&arg(&a, 1)) {
                Some(h) => answer(lua, b.releasedir(&ctx(lua), &p, Fh(h.fh))),
                None => answer(lua, Ok(())),
            }
        }),
        ("fsyncdir", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let datasync = matches!(arg(&a, 1), Value::Boolean(true))
                || matches!(arg(&a, 1), Value::Integer(n) if n != 0);
            let c = ctx(lua);
            answer(
                lua,
                with_handle(b, &c, &p, &arg(&a, 2), true, |fh| {
                    b.fsyncdir(&c, &p, fh, datasync)
                }),
            )
        }),
        ("statfs", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path").unwrap_or_else(|_| "/".into());
            match b.statfs(&ctx(lua), &p) {
                Ok(s) => answer(lua, Ok(statfs_to_lua(lua, &s)?)),
                Err(e) => answer::<()>(lua, Err(e)),
            }
        }),
        ("setxattr", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let name = path_arg(&arg(&a, 1), "name")?;
            let Value::String(value) = arg(&a, 2) else {
                return Err(mlua::Error::runtime(
                    "bad argument 'value' (string expected)",
                ));
            };
            let flags = bits_from_lua(&arg(&a, 3), XATTR_FLAGS) as i32;
            answer(
                lua,
                b.setxattr(&ctx(lua), &p, name.as_os_str(), &value.as_bytes(), flags),
            )
        }),
        ("getxattr", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let name = path_arg(&arg(&a, 1), "name")?;
            match b.getxattr(&ctx(lua), &p, name.as_os_str()) {
                Ok(v) => answer(lua, Ok(lua.create_string(v)?)),
                Err(e) => answer::<()>(lua, Err(e)),
            }
        }),
        ("listxattr", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            match b.listxattr(&ctx(lua), &p) {
                Ok(names) => {
                    let t = lua.create_table()?;
                    for n in names {
                        t.raw_push(lua.create_string(n.as_bytes())?)?;
                    }
                    answer(lua, Ok(t))
                }
                Err(e) => answer::<()>(lua, Err(e)),
            }
        }),
        ("removexattr", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let name = path_arg(&arg(&a, 1), "name")?;
            answer(lua, b.removexattr(&ctx(lua), &p, name.as_os_str()))
        }),
        ("access", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let mask = int_arg(&arg(&a, 1), "mask").unwrap_or(0) as i32;
            answer(lua, b.access(&ctx(lua), &p, mask))
        }),
        ("lock", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let Some(h) = handle_of(&arg(&a, 1)) else {
                return answer::<()>(lua, Err(Errno::EBADF));
            };
            let cmd = arg(&a, 2).to_string().unwrap_or_default();
            let whole = FileLock {
                start: 0,
                end: i64::MAX as u64,
                typ: libc::F_UNLCK,
                pid: 0,
            };
            let lock = lock_from_lua(&arg(&a, 3), whole);
            let owner = lock_owner_of(&arg(&a, 1));
            let c = ctx(lua);
            match cmd.as_str() {
                "getlk" => match b.getlk(&c, &p, Fh(h.fh), owner, lock) {
                    Ok(l) => answer(lua, Ok(lock_to_lua(lua, &l)?)),
                    Err(e) => answer::<()>(lua, Err(e)),
                },
                "setlkw" => answer(lua, b.setlk(&c, &p, Fh(h.fh), owner, lock, true)),
                _ => answer(lua, b.setlk(&c, &p, Fh(h.fh), owner, lock, false)),
            }
        }),
        ("flock", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let Some(h) = handle_of(&arg(&a, 1)) else {
                return answer::<()>(lua, Err(Errno::EBADF));
            };
            let op = int_arg(&arg(&a, 2), "op").unwrap_or(libc::LOCK_UN as i64) as i32;
            answer(
                lua,
                b.flock(&ctx(lua), &p, Fh(h.fh), lock_owner_of(&arg(&a, 1)), op),
            )
        }),
        ("fallocate", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let mode = int_arg(&arg(&a, 1), "mode").unwrap_or(0) as i32;
            let offset = int_arg(&arg(&a, 2), "offset")?.max(0) as u64;
            let length = int_arg(&arg(&a, 3), "length")?.max(0) as u64;
            let c = ctx(lua);
            answer(
                lua,
                with_handle(b, &c, &p, &arg(&a, 4), false, |fh| {
                    b.fallocate(&c, &p, fh, mode, offset, length)
                }),
            )
        }),
        ("lseek", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let offset = int_arg(&arg(&a, 1), "offset")?;
            let whence = match arg(&a, 2) {
                Value::String(s) if s.as_bytes().as_ref() == b"hole" => libc::SEEK_HOLE,
                Value::String(s) if s.as_bytes().as_ref() == b"data" => libc::SEEK_DATA,
                Value::String(s) if s.as_bytes().as_ref() == b"end" => libc::SEEK_END,
                Value::String(s) if s.as_bytes().as_ref() == b"cur" => libc::SEEK_CUR,
                Value::Integer(n) => n as i32,
                _ => libc::SEEK_SET,
            };
            let c = ctx(lua);
            answer(
                lua,
                with_handle(b, &c, &p, &arg(&a, 3), false, |fh| {
                    b.lseek(&c, &p, fh, offset, whence)
                }),
            )
        }),
        ("copy_file_range", |lua, b, a| {
            let pin = path_arg(&arg(&a, 0), "path_in")?;
            let off_in = int_arg(&arg(&a, 2), "offset_in")?.max(0) as u64;
            let pout = path_arg(&arg(&a, 3), "path_out")?;
            let off_out = int_arg(&arg(&a, 5), "offset_out")?.max(0) as u64;
            let len = int_arg(&arg(&a, 6), "len")?.max(0) as u64;
            let flags = int_arg(&arg(&a, 7), "flags").unwrap_or(0) as u32;
            let (Some(hin), Some(hout)) = (handle_of(&arg(&a, 1)), handle_of(&arg(&a, 4))) else {
                return answer::<()>(lua, Err(Errno::ENOSYS));
            };
            let c = ctx(lua);
            answer(
                lua,
                b.copy_file_range(
                    &c,
                    &pin,
                    Fh(hin.fh),
                    off_in,
                    &pout,
                    Fh(hout.fh),
                    off_out,
                    len,
                    flags,
                ),
            )
        }),
    ]
}

/// The Lua shim that turns `(false, errno)` into a raised errno.
fn raising_wrapper(lua: &Lua) -> mlua::Result<Function> {
    const KEY: &str = "flu.native_wrapper";
    if let Ok(f) = lua.named_registry_value::<Function>(KEY) {
        return Ok(f);
    }
    let f: Function = lua
        .load(
            r#"
            local error = error
            local function check(ok, ...)
              if ok then return ... end
              error((...), 0)
            end
            return function(raw)
              return function(...) return check(raw(...)) end
            end
            "#,
        )
        .set_name("=flu.native")
        .eval()?;
    lua.set_named_registry_value(KEY, &f)?;
    Ok(f)
}

/// A handler table whose every function is `backend`'s own.
pub fn native_table(lua: &Lua, backend: Arc<dyn Operations>) -> mlua::Result<Table> {
    let registry = match lua.app_data_ref::<NativeRegistry>() {
        Some(r) => r.clone(),
        None => {
            let r = NativeRegistry::default();
            lua.set_app_data(r.clone());
            r
        }
    };
    let wrap = raising_wrapper(lua)?;
    let table = lua.create_table()?;
    for (name, raw) in raw_functions() {
        let b = backend.clone();
        let raw_fn = lua.create_function(move |lua, args: MultiValue| raw(lua, &b, args))?;
        let f: Function = wrap.call(raw_fn)?;
        registry.record(&f, name, backend.clone());
        table.raw_set(name, f)?;
    }
    Ok(table)
}
