//! Native functions on open files and directories: open and create (which keep the
//! backend's handle in `fi.fh`), read, write, flush, release, fsync, the directory
//! functions, locks, fallocate, lseek and copy_file_range.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;

use mlua::{Lua, Value};

use super::args::{arg, ctx, datasync_arg, flags_of, handle_of, int_arg, lock_owner_of, path_arg};
use super::{answer, lock_from_lua, lock_to_lua, Raw};
use crate::errno::Errno;
use crate::lua::handles::NativeHandle;
use crate::lua::sets::{mode_from_lua, type_string};
use crate::lua::stat::stat_to_lua;
use crate::operations::{Fh, FileLock, OpResult, Operations, RequestContext};

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

/// The native functions on open files and directories, by handler name.
pub(super) fn raw_functions() -> Vec<(&'static str, Raw)> {
    vec![
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
            let datasync = datasync_arg(&arg(&a, 1));
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
            let datasync = datasync_arg(&arg(&a, 1));
            let c = ctx(lua);
            answer(
                lua,
                with_handle(b, &c, &p, &arg(&a, 2), true, |fh| {
                    b.fsyncdir(&c, &p, fh, datasync)
                }),
            )
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
